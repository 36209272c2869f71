/* cmd_hello: a small wasi:cli/run command (through jco's preview-1 adapter): prints its
 * arguments and one environment variable, writes a line to stderr and exits with the status
 * its first argument names ("exit=N"); with first argument "cat" it then copies stdin to
 * stdout (blocking reads). Its output under `wippy exec` must equal `jco run`'s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("arg %d: %s\n", i, argv[i]);
    const char *greeting = getenv("GREETING");
    printf("GREETING=%s\n", greeting ? greeting : "(unset)");
    fprintf(stderr, "to stderr\n");
    if (argc > 1 && strcmp(argv[1], "cat") == 0) {
        char buf[256];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
            fwrite(buf, 1, n, stdout);
    }
    int status = argc > 1 && strncmp(argv[1], "exit=", 5) == 0 ? atoi(argv[1] + 5) : 0;
    fflush(stdout);
    return status;
}
