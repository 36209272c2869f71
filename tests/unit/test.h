/* test.h: a minimal test harness. A failed CHECK prints where and why, the test goes on, and
 * TEST_MAIN's process exits 1 if anything failed. */
#ifndef WP_TEST_H
#define WP_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wippy/base.h"

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        test_checks++;                                                                             \
        if (!(cond)) {                                                                             \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);              \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        test_checks++;                                                                             \
        long long va_ = (long long)(a);                                                            \
        long long vb_ = (long long)(b);                                                            \
        if (va_ != vb_) {                                                                          \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, expected %s == %lld\n",           \
                    __FILE__, __LINE__, #a, va_, #b, vb_);                                         \
        }                                                                                          \
    } while (0)

#define CHECK_STR_CONTAINS(haystack, needle)                                                       \
    do {                                                                                           \
        test_checks++;                                                                             \
        const char *h_ = (haystack);                                                               \
        if (!h_ || !strstr(h_, (needle))) {                                                        \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: expected \"%s\" to contain \"%s\"\n", __FILE__, __LINE__,      \
                    h_ ? h_ : "(null)", (needle));                                                 \
        }                                                                                          \
    } while (0)

#define RUN_TEST(fn)                                                                               \
    do {                                                                                           \
        int before_ = test_failures;                                                               \
        fn();                                                                                      \
        fprintf(stderr, "%s %s\n", test_failures == before_ ? "ok  " : "FAIL", #fn);               \
    } while (0)

#define TEST_EXIT()                                                                                \
    (fprintf(stderr, "%d checks, %d failed\n", test_checks, test_failures), test_failures ? 1 : 0)

/* Reads a whole file into a malloc'd buffer (free() it); NULL if it cannot. */
static inline unsigned char *test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0;
    size_t n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Reads fixture <build>/wat/<name>.wasm, built from tests/wat/<name>.wat. */
static inline unsigned char *test_fixture(const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", WP_TEST_WASM_DIR, name);
    unsigned char *buf = test_read_file(path, len);
    if (!buf)
        fprintf(stderr, "missing fixture %s\n", path);
    return buf;
}

/* A heap over the C allocator that refuses allocation or growth number 'fail_at' (counting
 * from 0 after test_heap_fail_at; -1 never), to force out-of-memory paths (STYLE 16). */
typedef struct test_heap {
    wp_heap heap;
    long fail_at;
    long count; /* allocations and growths seen since test_heap_fail_at */
} test_heap;

static inline void *test_heap_realloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
    test_heap *th = ud;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    if (new_size > old_size && th->count++ == th->fail_at)
        return NULL;
    return realloc(ptr, new_size);
}

static inline void test_heap_fail_at(test_heap *th, long k) {
    th->fail_at = k;
    th->count = 0;
}

/* No limit, nothing failing until test_heap_fail_at. */
static inline void test_heap_init(test_heap *th) {
    wp_heap_init(&th->heap, SIZE_MAX);
    th->heap.realloc_fn = test_heap_realloc;
    th->heap.ud = th;
    test_heap_fail_at(th, -1);
}

#endif
