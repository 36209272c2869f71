/* comp_bytes.h: building component binaries byte by byte, for tests of malformed and
 * hand-assembled components (Binary.md productions). A growable buffer: a failed allocation
 * leaves p NULL, which the tests check before decoding. */
#ifndef WP_TEST_COMP_BYTES_H
#define WP_TEST_COMP_BYTES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct bytes {
    uint8_t *p;
    size_t n;
    size_t cap;
} bytes;

static inline void put(bytes *b, uint8_t v) {
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->p = realloc(b->p, b->cap);
    }
    if (b->p)
        b->p[b->n++] = v;
}

static inline void put_all(bytes *b, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        put(b, p[i]);
}

/* Unsigned LEB128, shortest form. */
static inline void put_leb(bytes *b, uint32_t v) {
    do {
        put(b, (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
        v >>= 7;
    } while (v);
}

/* A name: its length, then its bytes. */
static inline void put_name(bytes *b, const char *s) {
    put_leb(b, (uint32_t)strlen(s));
    put_all(b, (const uint8_t *)s, strlen(s));
}

/* The preamble: magic, version 0x0d, layer 1. */
static inline void preamble(bytes *c) {
    static const uint8_t pre[8] = {0, 'a', 's', 'm', 0x0d, 0, 1, 0};
    put_all(c, pre, 8);
}

/* section_N(body): the id, the body's size, the body (freed). */
static inline void section(bytes *c, uint8_t id, bytes *body) {
    put(c, id);
    put_leb(c, (uint32_t)body->n);
    put_all(c, body->p, body->n);
    free(body->p);
    *body = (bytes){0};
}

#endif
