/* wat_buf.c: the text reader's growable byte buffers (LEB128 output) and identifier tables. */
#include <string.h>

#include "wat_internal.h"

/* ---- Buffers ------------------------------------------------------------------------------- */

void wp__wat_buf_init(wp_wat_buf *b, wp_heap *h) {
    b->heap = h;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = false;
}

void wp__wat_buf_free(wp_wat_buf *b) {
    wp_heap_free(b->heap, b->data, b->cap);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

static bool reserve(wp_wat_buf *b, size_t n) {
    if (b->oom)
        return false;
    if (n <= b->cap - b->len)
        return true;
    if (n > SIZE_MAX / 2 - b->len) {
        b->oom = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *d = wp_heap_realloc(b->heap, b->data, b->cap, cap);
    if (!d) {
        b->oom = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void wp__wat_buf_bytes(wp_wat_buf *b, const void *bytes, size_t n) {
    if (n == 0 || !reserve(b, n))
        return;
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

void wp__wat_buf_u8(wp_wat_buf *b, uint8_t v) { wp__wat_buf_bytes(b, &v, 1); }

void wp__wat_buf_uleb(wp_wat_buf *b, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        tmp[n++] = (uint8_t)(byte | (v ? 0x80 : 0));
    } while (v);
    wp__wat_buf_bytes(b, tmp, n);
}

void wp__wat_buf_sleb(wp_wat_buf *b, int64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    for (;;) {
        uint8_t byte = (uint8_t)(v & 0x7f);
        v = v < 0 ? ~(~v >> 7) : v >> 7; /* floor division by 128 without shifting a negative */
        bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
        tmp[n++] = (uint8_t)(byte | (done ? 0 : 0x80));
        if (done)
            break;
    }
    wp__wat_buf_bytes(b, tmp, n);
}

void wp__wat_buf_string(wp_wat_buf *b, const wp_wat_token *tok) {
    if (!reserve(b, tok->len))
        return;
    b->len += wp__wat_string_decode(tok, b->data + b->len);
}

void wp__wat_buf_vec(wp_wat_buf *b, const void *bytes, size_t n) {
    wp__wat_buf_uleb(b, n);
    wp__wat_buf_bytes(b, bytes, n);
}

/* ---- Identifier tables --------------------------------------------------------------------- */

static uint32_t hash(const char *s, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static wp_wat_name *slot_for(wp_wat_name *slots, uint32_t cap, const char *text, size_t len) {
    uint32_t i = hash(text, len) & (cap - 1);
    while (slots[i].text && !(slots[i].len == len && memcmp(slots[i].text, text, len) == 0))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static wp_status grow(wp_wat_names *n, wp_heap *h) {
    if (n->cap > UINT32_MAX / 4)
        return WP_ERR_NOMEM;
    uint32_t cap = n->cap ? n->cap * 2 : 16;
    wp_wat_name *slots = wp_heap_calloc(h, cap, sizeof *slots);
    if (!slots)
        return WP_ERR_NOMEM;
    for (uint32_t i = 0; i < n->cap; i++)
        if (n->slots[i].text)
            *slot_for(slots, cap, n->slots[i].text, n->slots[i].len) = n->slots[i];
    wp_heap_free(h, n->slots, (size_t)n->cap * sizeof *n->slots);
    n->slots = slots;
    n->cap = cap;
    return WP_OK;
}

wp_status wp__wat_names_add(wp_wat_names *n, wp_heap *h, const char *text, size_t len,
                            uint32_t index) {
    if (n->cap && wp__wat_names_find(n, text, len, &(uint32_t){0}))
        return WP_ERR_ALREADY_EXISTS;
    if ((n->count + 1) * 2 > n->cap) { /* keep the load at most one half */
        wp_status st = grow(n, h);
        if (st != WP_OK)
            return st;
    }
    *slot_for(n->slots, n->cap, text, len) = (wp_wat_name){text, len, index};
    n->count++;
    return WP_OK;
}

bool wp__wat_names_find(const wp_wat_names *n, const char *text, size_t len, uint32_t *index) {
    if (n->cap == 0)
        return false;
    const wp_wat_name *s = slot_for(n->slots, n->cap, text, len);
    if (!s->text)
        return false;
    *index = s->index;
    return true;
}

void wp__wat_names_clear(wp_wat_names *n) {
    if (n->cap)
        memset(n->slots, 0, (size_t)n->cap * sizeof *n->slots);
    n->count = 0;
}

void wp__wat_names_free(wp_wat_names *n, wp_heap *h) {
    wp_heap_free(h, n->slots, (size_t)n->cap * sizeof *n->slots);
    n->slots = NULL;
    n->cap = 0;
    n->count = 0;
}
