/* native_main.c: the native side of a benchmark. It is compiled together with the program
 * (-DBENCH_SOURCE="path/to/program.c"), times bench_run(n) a few times and prints
 * "<checksum> <best seconds>". Exit 1 on bad arguments or if two runs disagree. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"

#include BENCH_SOURCE

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s N RUNS\n", argv[0]);
        return 1;
    }
    int32_t n = (int32_t)strtol(argv[1], NULL, 10);
    int runs = atoi(argv[2]);
    if (runs < 1) {
        fprintf(stderr, "%s: RUNS must be at least 1\n", argv[0]);
        return 1;
    }
    double best = 0.0;
    uint64_t first = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now();
        uint64_t sum = bench_run(n); /* u32 or u64: both widen to the wasm result's bits */
        double t = bench_now() - t0;
        if (r == 0 || t < best)
            best = t;
        if (r > 0 && sum != first) {
            fprintf(stderr, "%s: run %d gave %llu, run 0 gave %llu\n", argv[0], r,
                    (unsigned long long)sum, (unsigned long long)first);
            return 1;
        }
        first = sum;
    }
    printf("%llu %.6f\n", (unsigned long long)first, best);
    return 0;
}
