/* exitcode.c: ends as argv[1] says: "return N", "exit N", "trap", "abort", "divzero",
 * "deep" (exhausts the call stack), or prints "done" after writing to both stdout and stderr
 * in turns ("interleave"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int zero;

/* Recursion the compiler cannot turn into a loop: each frame's local escapes. */
static int deep(volatile int *depth) {
    volatile int next = *depth + 1;
    if (next == zero - 1)
        return 0;
    return deep(&next) + next;
}

int main(int argc, char **argv) {
    const char *how = argc > 1 ? argv[1] : "return";
    int n = argc > 2 ? atoi(argv[2]) : 0;
    if (strcmp(how, "exit") == 0) {
        printf("exiting with %d\n", n);
        exit(n);
    }
    if (strcmp(how, "trap") == 0)
        __builtin_trap();
    if (strcmp(how, "abort") == 0)
        abort();
    if (strcmp(how, "divzero") == 0)
        return 10 / zero;
    if (strcmp(how, "deep") == 0)
        return deep(&(volatile int){0});
    if (strcmp(how, "interleave") == 0) {
        for (int i = 0; i < 3; i++) {
            printf("out %d\n", i);
            fflush(stdout);
            fprintf(stderr, "err %d\n", i);
        }
        return 0;
    }
    return n;
}
