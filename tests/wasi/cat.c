/* cat.c: copies stdin to stdout with read() and write(), reporting each read's size on
 * stderr when argv[1] is "-v"; exits 0 at end of input. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errname.h"

int main(int argc, char **argv) {
    int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    static char buf[65536]; /* not on the stack: wasi-libc gives it 64 KiB in all */
    long long total = 0;
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0) {
            fprintf(stderr, "read: %s\n", errname(errno));
            return 1;
        }
        if (n == 0)
            break;
        if (verbose)
            fprintf(stderr, "read %zd\n", n);
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(1, buf + off, (size_t)(n - off));
            if (w < 0) {
                fprintf(stderr, "write: %s\n", errname(errno));
                return 1;
            }
            off += w;
        }
        total += n;
    }
    if (verbose)
        fprintf(stderr, "total %lld\n", total);
    return 0;
}
