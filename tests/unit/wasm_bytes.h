/* wasm_bytes.h: building small module binaries byte by byte, for tests of malformed input. */
#ifndef WP_TEST_WASM_BYTES_H
#define WP_TEST_WASM_BYTES_H

#include <stdint.h>
#include <string.h>

#define WB_MAX 8192

/* A byte buffer of fixed capacity; tests build only small modules. Overflowing it is a bug
 * of the test: 'overflow' is set and checked by the tests. */
typedef struct wb {
    uint8_t buf[WB_MAX];
    size_t len;
    int overflow;
} wb;

static inline void wb_byte(wb *b, uint8_t x) {
    if (b->len < WB_MAX)
        b->buf[b->len++] = x;
    else
        b->overflow = 1;
}

static inline void wb_bytes(wb *b, const void *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        wb_byte(b, ((const uint8_t *)p)[i]);
}

/* Unsigned LEB128, shortest form. */
static inline void wb_u32(wb *b, uint32_t v) {
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        wb_byte(b, v ? byte | 0x80 : byte);
    } while (v);
}

/* A name: length then bytes. */
static inline void wb_name(wb *b, const char *s) {
    wb_u32(b, (uint32_t)strlen(s));
    wb_bytes(b, s, strlen(s));
}

static inline void wb_header(wb *b) {
    static const uint8_t h[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    wb_bytes(b, h, sizeof h);
}

/* Appends section 'id' with 'content' as its body. */
static inline void wb_section(wb *b, uint8_t id, const wb *content) {
    wb_byte(b, id);
    wb_u32(b, (uint32_t)content->len);
    wb_bytes(b, content->buf, content->len);
    b->overflow |= content->overflow;
}

/* Appends section 'id' whose body is the given raw bytes. */
static inline void wb_section_raw(wb *b, uint8_t id, const void *p, size_t n) {
    wb_byte(b, id);
    wb_u32(b, (uint32_t)n);
    wb_bytes(b, p, n);
}

#endif
