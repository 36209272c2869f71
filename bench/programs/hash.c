/* hash.c: benchmark of 64-bit bit mixing: a four-lane multiply-rotate hash over a buffer,
 * with a byte-at-a-time FNV-1a pass over part of it. */
#include <stdint.h>
#include <string.h>

uint64_t bench_run(int32_t n);

#define BUF_LEN (1u << 20)
#define FNV_LEN (1u << 15)

static uint8_t buf[BUF_LEN];

static const uint64_t MUL_A = 0xd6e8feb86659fd93u;
static const uint64_t MUL_B = 0xa0761d6478bd642fu;
static const uint64_t MUL_C = 0xe7037ed1a0b428dbu;

static uint64_t rotl(uint64_t x, unsigned r) { return x << r | x >> (64 - r); }

static uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v); /* both targets are little-endian */
    return v;
}

static void fill(void) {
    uint64_t s = 0x853c49e6748fea9bu;
    for (uint32_t i = 0; i < BUF_LEN; i += 8) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        memcpy(buf + i, &s, sizeof s);
    }
}

static uint64_t lane_step(uint64_t lane, uint64_t word) {
    lane ^= word;
    lane *= MUL_A;
    lane = rotl(lane, 29);
    return lane + (word >> 17);
}

static uint64_t avalanche(uint64_t x) {
    x ^= x >> 31;
    x *= MUL_B;
    x ^= x >> 27;
    x *= MUL_C;
    return x ^ x >> 33;
}

/* len must be a multiple of 32: the buffer is, and the benchmark only hashes all of it. */
static uint64_t hash_lanes(const uint8_t *p, uint32_t len, uint64_t seed) {
    uint64_t a = seed;
    uint64_t b = seed ^ MUL_A;
    uint64_t c = seed + MUL_B;
    uint64_t d = ~seed;
    for (uint32_t i = 0; i < len; i += 32) {
        a = lane_step(a, load64(p + i));
        b = lane_step(b, load64(p + i + 8));
        c = lane_step(c, load64(p + i + 16));
        d = lane_step(d, load64(p + i + 24));
    }
    return avalanche(rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18) + len);
}

static uint32_t fnv1a(const uint8_t *p, uint32_t len, uint32_t basis) {
    uint32_t h = basis;
    for (uint32_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

/* n rounds with different seeds and FNV windows, so no round repeats another. */
uint64_t bench_run(int32_t n) {
    fill();
    uint64_t sum = 0;
    for (int32_t r = 0; r < n; r++) {
        uint64_t h = hash_lanes(buf, BUF_LEN, (uint64_t)r * MUL_C);
        uint32_t start = ((uint32_t)r * 4099u) % (BUF_LEN - FNV_LEN);
        h ^= fnv1a(buf + start, FNV_LEN, 2166136261u ^ (uint32_t)r);
        sum = rotl(sum, 5) ^ h;
    }
    return sum;
}
