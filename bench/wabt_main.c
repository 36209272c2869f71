/* wabt_main.c: a wasm build of a program for wabt's wasm-interp, whose --run-all-exports
 * passes no arguments: bench_main() calls bench_run with n fixed at build time (-DBENCH_N). */
#include <stdint.h>

#include BENCH_SOURCE

uint64_t bench_main(void);

uint64_t bench_main(void) {
    return bench_run(BENCH_N);
}
