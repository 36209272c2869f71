/* memops.c: benchmark of bulk memory: memset, memcpy and overlapping memmove of blocks from a
 * byte to 1.5 KiB (mostly small, as in real programs) at varying alignments. */
#include <stdint.h>
#include <string.h>

uint32_t bench_run(int32_t n);

#define ARENA_LEN (1u << 20)
#define MAX_SHIFT 10 /* blocks are 2^0 .. 2^MAX_SHIFT bytes, plus up to half again */

static uint8_t arena[ARENA_LEN];

static uint32_t next_rand(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Block sizes spread evenly over orders of magnitude. */
static uint32_t block_len(uint32_t *s) {
    uint32_t shift = next_rand(s) % (MAX_SHIFT + 1);
    return (1u << shift) + next_rand(s) % ((1u << shift) + 1) / 2;
}

static uint32_t offset_for(uint32_t *s, uint32_t len) {
    return next_rand(s) % (ARENA_LEN - len);
}

/* One round of 256 operations; returns a digest of bytes sampled from the arena. */
static uint32_t round_ops(uint32_t *s) {
    for (int op = 0; op < 256; op++) {
        uint32_t len = block_len(s);
        uint32_t dst = offset_for(s, len);
        uint32_t src = offset_for(s, len);
        switch (op % 4) {
        case 0:
            memset(arena + dst, (int)(next_rand(s) & 0xff), len);
            break;
        case 1:
            if (dst < src + len && src < dst + len) /* memcpy needs disjoint blocks */
                memmove(arena + dst, arena + src, len);
            else
                memcpy(arena + dst, arena + src, len);
            break;
        case 2:
            src = dst + len / 3 < ARENA_LEN - len ? dst + len / 3 : dst; /* overlapping */
            memmove(arena + dst, arena + src, len);
            break;
        default:
            src = dst > len / 5 ? dst - len / 5 : 0; /* overlapping, other direction */
            memmove(arena + dst, arena + src, len);
            break;
        }
    }
    uint32_t h = 0;
    for (uint32_t i = next_rand(s) % 509; i < ARENA_LEN; i += 509)
        h = (h << 1 | h >> 31) ^ arena[i];
    return h;
}

uint32_t bench_run(int32_t n) {
    for (uint32_t i = 0; i < ARENA_LEN; i++)
        arena[i] = (uint8_t)(i * 131u >> 3);
    uint32_t s = 0x9e3779b9u;
    uint32_t sum = 0;
    for (int32_t r = 0; r < n; r++)
        sum = sum * 33u ^ round_ops(&s);
    return sum;
}
