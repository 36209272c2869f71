/* printenv.c: the env command, a WASI command (_start): prints NAME=VALUE for each variable
 * the entry's wasi.env gave it, or only those named on the command line. */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 2) {
        for (char **e = environ; *e; e++)
            printf("%s\n", *e);
        return 0;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = getenv(argv[i]);
        if (v)
            printf("%s=%s\n", argv[i], v);
        else
            status = 1;
    }
    return status;
}
