/* sieve.c: benchmark of byte-array loops: the sieve of Eratosthenes, repeated. */
#include <stdint.h>
#include <string.h>

uint32_t bench_run(int32_t n);

#define SIEVE_LIMIT (1u << 22) /* numbers below this are sieved each round */

static uint8_t composite[SIEVE_LIMIT];

/* Sieves the numbers below limit; returns the prime count folded with the largest prime. */
static uint32_t sieve(uint32_t limit) {
    memset(composite, 0, limit);
    uint32_t count = 0;
    uint32_t last = 0;
    for (uint32_t i = 2; i < limit; i++) {
        if (composite[i])
            continue;
        count++;
        last = i;
        for (uint64_t j = (uint64_t)i * i; j < limit; j += i)
            composite[j] = 1;
    }
    return count * 2654435761u ^ last;
}

/* n rounds over slightly different limits, so no round can be skipped as a repeat. */
uint32_t bench_run(int32_t n) {
    uint32_t sum = 0;
    for (int32_t r = 0; r < n; r++)
        sum = (sum << 3 | sum >> 29) ^ sieve(SIEVE_LIMIT - (uint32_t)r * 7u);
    return sum;
}
