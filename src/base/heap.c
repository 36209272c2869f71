/* heap.c: the allocation hook with per-owner accounting and limits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wippy/base.h"

static void *libc_realloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
    (void)ud;
    (void)old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, new_size);
}

static wp_heap default_heap = {libc_realloc, NULL, 0, SIZE_MAX, true};

void wp_heap_init(wp_heap *h, size_t limit) {
    h->realloc_fn = libc_realloc;
    h->ud = NULL;
    h->used = 0;
    h->limit = limit;
    h->shared = false;
}

wp_heap *wp_heap_default(void) { return &default_heap; }

void *wp_heap_realloc(wp_heap *h, void *ptr, size_t old_size, size_t new_size) {
    if (ptr && old_size == 0)
        old_size = 1; /* wp_heap_alloc rounds zero-byte requests up to one byte */
    if (!h->shared && new_size > old_size && new_size - old_size > h->limit - h->used)
        return NULL; /* over this owner's budget */
    void *p = h->realloc_fn(h->ud, ptr, old_size, new_size);
    if (!h->shared && (p || new_size == 0))
        h->used = h->used - old_size + new_size;
    return p;
}

void *wp_heap_alloc(wp_heap *h, size_t size) {
    if (size == 0)
        size = 1; /* a zero-byte request still returns a unique, freeable block */
    return wp_heap_realloc(h, NULL, 0, size);
}

void *wp_heap_zalloc(wp_heap *h, size_t size) {
    void *p = wp_heap_alloc(h, size);
    if (p)
        memset(p, 0, size);
    return p;
}

void *wp_heap_calloc(wp_heap *h, size_t count, size_t elem_size) {
    if (elem_size != 0 && count > SIZE_MAX / elem_size)
        return NULL;
    return wp_heap_zalloc(h, count * elem_size);
}

void wp_heap_free(wp_heap *h, void *ptr, size_t size) {
    if (ptr)
        wp_heap_realloc(h, ptr, size, 0);
}

char *wp_heap_strdup(wp_heap *h, const char *s) {
    size_t n = strlen(s) + 1;
    char *d = wp_heap_alloc(h, n);
    if (d)
        memcpy(d, s, n);
    return d;
}
