/* main.c: the wippy command. */
#include <stdio.h>
#include <string.h>

#include "wippy/wasm.h"

static void usage(FILE *out) {
    fprintf(out, "usage: wippy <command> [args]\n\n"
                 "commands:\n"
                 "  help    show this help\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    fprintf(stderr, "wippy: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
