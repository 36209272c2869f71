/* clock.h: the monotonic clock both sides of a benchmark are timed with. */
#ifndef WP_BENCH_CLOCK_H
#define WP_BENCH_CLOCK_H

#include <time.h>

/* Seconds on the monotonic clock since an arbitrary start. */
static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
