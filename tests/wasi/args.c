/* args.c: prints its arguments (argv[0] on a line of its own, since it names the binary) and
 * its whole environment, in order; exits with argc. */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argv[0] %s\n", argv[0]);
    printf("argc %d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d] [%s]\n", i, argv[i]);
    for (char **e = environ; *e; e++)
        printf("env [%s]\n", *e);
    return argc;
}
