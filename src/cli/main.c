/* main.c: the wippy command: dispatch to subcommands. */
#include <string.h>

#include "cli.h"

static void usage(FILE *out) {
    fprintf(out, "usage: wippy <command> [args]\n\n"
                 "commands:\n"
                 "  run      run a project's command or entry, list its commands\n"
                 "           (wippy run --help)\n"
                 "  exec     run a WebAssembly module (wippy exec --help)\n"
                 "  help     show this help\n\n"
                 "exit status: 0 success, 1 error, 2 bad command line; for exec, 3 the guest\n"
                 "trapped and a guest's own exit status (proc_exit) is passed through; for run,\n"
                 "the process's result decides (wippy run --help).\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return WP_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return WP_EXIT_OK;
    }
    if (strcmp(cmd, "exec") == 0)
        return wp_cli_exec(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return wp_cli_run(argc - 1, argv + 1);
    fprintf(stderr, "wippy: unknown command '%s'\n", cmd);
    usage(stderr);
    return WP_EXIT_USAGE;
}
