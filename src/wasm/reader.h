/* reader.h: bounds-checked reading of a wasm binary: bytes, LEB128 integers, floats, names.
 * Every read returns false on failure and sets rd->why to a static reason; the position is
 * then unspecified. Shared by the files of src/wasm only. */
#ifndef WP_WASM_READER_H
#define WP_WASM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct wp_reader {
    const uint8_t *base; /* start of the whole binary: offsets in errors are from here */
    const uint8_t *p;
    const uint8_t *end;
    const char *why; /* reason of the last failure, static */
} wp_reader;

static inline wp_reader rd_init(const uint8_t *base, const uint8_t *p, const uint8_t *end) {
    return (wp_reader){base, p, end, NULL};
}

static inline size_t rd_offset(const wp_reader *rd) { return (size_t)(rd->p - rd->base); }
static inline size_t rd_remaining(const wp_reader *rd) { return (size_t)(rd->end - rd->p); }
static inline bool rd_done(const wp_reader *rd) { return rd->p >= rd->end; }

static inline bool rd_fail(wp_reader *rd, const char *why) {
    rd->why = why;
    return false;
}

static inline bool rd_u8(wp_reader *rd, uint8_t *out) {
    if (rd->p >= rd->end)
        return rd_fail(rd, "unexpected end");
    *out = *rd->p++;
    return true;
}

static inline bool rd_bytes(wp_reader *rd, size_t n, const uint8_t **out) {
    if (n > rd_remaining(rd))
        return rd_fail(rd, "unexpected end");
    *out = rd->p;
    rd->p += n;
    return true;
}

/* Unsigned LEB128 of at most 'bits' bits: at most ceil(bits/7) bytes, and the unused high bits
 * of the last byte must be zero. */
static inline bool rd_uleb(wp_reader *rd, unsigned bits, uint64_t *out) {
    uint64_t result = 0;
    unsigned shift = 0;
    for (;;) {
        uint8_t b;
        if (!rd_u8(rd, &b))
            return false;
        if (shift + 7 >= bits && (b & 0x80))
            return rd_fail(rd, "integer representation too long");
        if (shift + 7 > bits && (b >> (bits - shift)) != 0)
            return rd_fail(rd, "integer too large");
        result |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    *out = result;
    return true;
}

/* Signed LEB128 of at most 'bits' bits; the unused high bits of the last byte must be a sign
 * extension of the value. */
static inline bool rd_sleb(wp_reader *rd, unsigned bits, int64_t *out) {
    uint64_t result = 0;
    unsigned shift = 0;
    uint8_t b;
    for (;;) {
        if (!rd_u8(rd, &b))
            return false;
        if (shift + 7 >= bits && (b & 0x80))
            return rd_fail(rd, "integer representation too long");
        if (shift + 7 > bits) {
            /* The last byte: its bits above the value's sign bit must all equal that bit. */
            unsigned used = bits - shift;
            uint8_t high = (uint8_t)((b & 0x7f) >> (used - 1));
            if (high != 0 && high != (0x7f >> (used - 1)))
                return rd_fail(rd, "integer too large");
        }
        result |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (shift < 64 && (b & 0x40))
        result |= ~(uint64_t)0 << shift;
    *out = (int64_t)result;
    return true;
}

static inline bool rd_u32(wp_reader *rd, uint32_t *out) {
    uint64_t v;
    if (!rd_uleb(rd, 32, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static inline bool rd_s32(wp_reader *rd, int32_t *out) {
    int64_t v;
    if (!rd_sleb(rd, 32, &v))
        return false;
    *out = (int32_t)v;
    return true;
}

static inline bool rd_s64(wp_reader *rd, int64_t *out) { return rd_sleb(rd, 64, out); }

/* Signed 33-bit LEB128, as used by block types. */
static inline bool rd_s33(wp_reader *rd, int64_t *out) { return rd_sleb(rd, 33, out); }

static inline bool rd_f32(wp_reader *rd, uint32_t *bits) {
    const uint8_t *b;
    if (!rd_bytes(rd, 4, &b))
        return false;
    *bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

static inline bool rd_f64(wp_reader *rd, uint64_t *bits) {
    uint32_t lo;
    uint32_t hi;
    if (!rd_f32(rd, &lo) || !rd_f32(rd, &hi))
        return false;
    *bits = (uint64_t)hi << 32 | lo;
    return true;
}

#endif
