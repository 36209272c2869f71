/* fib.c: benchmark of recursive calls: the naive Fibonacci recursion. */
#include <stdint.h>

uint32_t bench_run(int32_t n);

static uint32_t fib(uint32_t k) {
    return k < 2 ? k : fib(k - 1) + fib(k - 2);
}

/* fib(n), wrapping at 32 bits, plus a few smaller ones so the result depends on every call. */
uint32_t bench_run(int32_t n) {
    uint32_t sum = 0;
    for (int32_t k = n; k > n - 3 && k >= 0; k--)
        sum = sum * 31u + fib((uint32_t)k);
    return sum;
}
