/* test_memory.c: linear memories: sizes, growth, limits, bounds, bulk operations, density. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../../src/wasm/internal.h"
#include "test.h"

static wp_store *new_store(uint32_t max_pages) {
    wp_store_config cfg = {.max_memory_pages = max_pages};
    wp_store *s = NULL;
    wp_err err;
    CHECK_EQ(wp_store_new(&cfg, &s, &err), WP_OK);
    return s;
}

static wp_memory *new_memory(wp_store *s, uint32_t min, uint32_t max, bool has_max) {
    wp_memory *mem = NULL;
    wp_err err;
    CHECK_EQ(wp_memory_new(s, (wp_limits){min, max, has_max}, &mem, &err), WP_OK);
    return mem;
}

static bool all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0)
            return false;
    }
    return true;
}

static void test_zero_pages(void) {
    wp_store *s = new_store(0);
    wp_memory *mem = new_memory(s, 0, 0, false);
    CHECK(wp_memory_data(mem) != NULL);
    CHECK_EQ(wp_memory_size(mem), 0);
    CHECK_EQ(wp_memory_limits(mem).min, 0);
    uint8_t b = 7;
    CHECK(wp_memory_read(mem, 0, &b, 0));
    CHECK(wp_memory_write(mem, 0, &b, 0));
    CHECK(!wp_memory_read(mem, 0, &b, 1));
    CHECK(!wp_memory_write(mem, 0, &b, 1));
    CHECK(!wp_memory_read(mem, 1, &b, 0));
    CHECK(wp__memory_fill(mem, 0, 1, 0));
    CHECK(!wp__memory_fill(mem, 1, 1, 0));
    CHECK(wp__memory_copy(mem, 0, 0, 0));
    CHECK(!wp__memory_copy(mem, 0, 1, 0));
    CHECK(wp__memory_init(mem, 0, NULL, 0, 0, 0));
    CHECK_EQ(wp_memory_grow(mem, 0), 0);

    /* Two 0-page memories share the sentinel: nobody ever touches it. */
    wp_memory *other = new_memory(s, 0, 0, true);
    CHECK(wp_memory_data(other) == wp_memory_data(mem));
    CHECK_EQ(wp_memory_grow(other, 1), -1); /* declared max 0 */

    uint8_t *sentinel = wp_memory_data(mem);
    CHECK_EQ(wp_memory_grow(mem, 1), 0);
    CHECK(wp_memory_data(mem) != sentinel);
    CHECK_EQ(wp_memory_size(mem), WP_PAGE_SIZE);
    CHECK(all_zero(wp_memory_data(mem), WP_PAGE_SIZE));
    CHECK(wp_memory_write(mem, WP_PAGE_SIZE - 1, &b, 1));
    CHECK_EQ(wp_memory_data(mem)[WP_PAGE_SIZE - 1], 7);
    wp_store_free(s);
}

static void test_grow_limits(void) {
    wp_store *s = new_store(0);
    wp_memory *mem = new_memory(s, 1, 3, true);
    CHECK_EQ(mem->max_pages, 3);
    CHECK_EQ(wp_memory_grow(mem, 2), 1);
    CHECK_EQ(wp_memory_size(mem), 3ull * WP_PAGE_SIZE);
    CHECK_EQ(wp_memory_grow(mem, 1), -1);
    CHECK_EQ(wp_memory_grow(mem, UINT32_MAX), -1);
    CHECK_EQ(wp_memory_grow(mem, 0), 3);
    wp_limits l = wp_memory_limits(mem);
    CHECK_EQ(l.min, 3);
    CHECK_EQ(l.max, 3);
    CHECK(l.has_max);
    wp_store_free(s);

    /* The store's limit caps a memory without a max, and one with a larger max. */
    s = new_store(4);
    wp_memory *a = new_memory(s, 1, 0, false);
    wp_memory *b = new_memory(s, 2, 100, true);
    CHECK_EQ(a->max_pages, 4);
    CHECK_EQ(b->max_pages, 4);
    CHECK_EQ(wp_memory_grow(a, 3), 1);
    CHECK_EQ(wp_memory_grow(a, 1), -1);
    CHECK_EQ(wp_memory_grow(b, 3), -1);
    CHECK_EQ(wp_memory_grow(b, 2), 2);
    CHECK_EQ(wp_memory_limits(b).max, 100); /* the declared max is what imports see */
    wp_memory *c = NULL;
    wp_err err;
    CHECK_EQ(wp_memory_new(s, (wp_limits){5, 0, false}, &c, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "memory of 5 pages exceeds the store's limit of 4");
    wp_store_free(s);

    /* Without a store limit, a memory without a max may grow to 65536 pages, no further. */
    s = new_store(0);
    wp_memory *big = new_memory(s, 0, 0, false);
    CHECK_EQ(big->max_pages, 65536);
    CHECK_EQ(wp_memory_grow(big, 65537), -1);
    wp_store_free(s);
}

static void test_limit_errors(void) {
    wp_store *s = new_store(0);
    wp_memory *mem = NULL;
    wp_err err;
    CHECK_EQ(wp_memory_new(s, (wp_limits){2, 1, true}, &mem, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "minimum must not be greater than maximum");
    CHECK_EQ(wp_memory_new(s, (wp_limits){65537, 0, false}, &mem, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "at most 65536 pages");
    CHECK_EQ(wp_memory_new(s, (wp_limits){0, 65537, true}, &mem, &err), WP_ERR_INVALID);
    CHECK_EQ(s->heap.used, sizeof(wp_store));

    /* The memory object comes from the store's heap: over its limit is out of memory. */
    wp_store_config cfg = {.max_heap_bytes = sizeof(wp_store) + 16};
    wp_store *tiny = NULL;
    CHECK_EQ(wp_store_new(&cfg, &tiny, &err), WP_OK);
    CHECK_EQ(wp_memory_new(tiny, (wp_limits){1, 0, false}, &mem, &err), WP_ERR_NOMEM);
    CHECK_EQ(tiny->heap.used, sizeof(wp_store));
    wp_store_free(tiny);
    wp_store_free(s);
}

static size_t vm_pages(int field) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long v[2] = {0, 0};
    if (f) {
        if (fscanf(f, "%lu %lu", &v[0], &v[1]) != 2)
            v[0] = v[1] = 0;
        fclose(f);
    }
    return v[field];
}

/* The system refusing address space: creating fails with WP_ERR_NOMEM and growing with -1,
 * both leaving things as they were. */
static void test_system_refuses(void) {
    struct rlimit old;
    CHECK_EQ(getrlimit(RLIMIT_AS, &old), 0);
    wp_store *s = new_store(0);
    wp_memory *mem = new_memory(s, 1, 0, false);
    mem->base[5] = 42;
    size_t used = s->heap.used;
    size_t total = vm_pages(0) * (size_t)sysconf(_SC_PAGESIZE);
    struct rlimit lim = {total + (64u << 20), old.rlim_max};
    if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < lim.rlim_cur)
        lim.rlim_cur = old.rlim_cur;
    CHECK_EQ(setrlimit(RLIMIT_AS, &lim), 0);
    wp_memory *huge = NULL;
    wp_err err;
    wp_status st = wp_memory_new(s, (wp_limits){65536, 0, false}, &huge, &err);
    int64_t grown = wp_memory_grow(mem, 65535);
    CHECK_EQ(setrlimit(RLIMIT_AS, &old), 0);
    CHECK_EQ(st, WP_ERR_NOMEM);
    CHECK_STR_CONTAINS(err.msg, "cannot map a memory of 65536 pages");
    CHECK_EQ(s->heap.used, used);
    CHECK_EQ(grown, -1);
    CHECK_EQ(wp_memory_size(mem), WP_PAGE_SIZE);
    CHECK_EQ(mem->base[5], 42);
    wp_store_free(s);
}

static void test_grow_keeps_data(void) {
    wp_store *s = new_store(0);
    wp_memory *mem = new_memory(s, 1, 0, false);
    for (uint32_t i = 0; i < WP_PAGE_SIZE; i += 4093)
        mem->base[i] = (uint8_t)(i * 7 + 1);
    for (uint32_t k = 0; k < 6; k++)
        CHECK_EQ(wp_memory_grow(mem, 1u << k), (int64_t)1 << k);
    CHECK_EQ(wp_memory_size(mem), 64ull * WP_PAGE_SIZE);
    bool same = true;
    for (uint32_t i = 0; i < WP_PAGE_SIZE; i += 4093)
        same = same && mem->base[i] == (uint8_t)(i * 7 + 1);
    CHECK(same);
    CHECK(all_zero(mem->base + WP_PAGE_SIZE, 63ull * WP_PAGE_SIZE));
    wp_store_free(s);
}

/* A mapping right after the memory forces the growth to move it. */
static void test_grow_moves(void) {
    wp_store *s = new_store(0);
    wp_memory *mem = new_memory(s, 1, 0, false);
    mem->base[0] = 0xab;
    mem->base[WP_PAGE_SIZE - 1] = 0xcd;
    uint8_t *old = mem->base;
    void *want = old + WP_PAGE_SIZE;
    void *block = mmap(want, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                       -1, 0);
    bool ours = block != MAP_FAILED && block == want;
    if (block != MAP_FAILED && block != want)
        munmap(block, 4096); /* an old kernel took the flag as a hint: something else is there */
    CHECK_EQ(wp_memory_grow(mem, 2), 1);
    CHECK(mem->base != old);
    CHECK_EQ(mem->base[0], 0xab);
    CHECK_EQ(mem->base[WP_PAGE_SIZE - 1], 0xcd);
    CHECK(all_zero(mem->base + WP_PAGE_SIZE, 2ull * WP_PAGE_SIZE));
    mem->base[3 * WP_PAGE_SIZE - 1] = 1;
    if (ours)
        munmap(block, 4096);
    wp_store_free(s);
}

static void test_read_write(void) {
    wp_store *s = new_store(0);
    wp_memory *mem = new_memory(s, 1, 0, false);
    const char msg[] = "hello";
    CHECK(wp_memory_write(mem, 100, msg, sizeof msg));
    char back[sizeof msg] = {0};
    CHECK(wp_memory_read(mem, 100, back, sizeof back));
    CHECK(memcmp(back, msg, sizeof msg) == 0);
    CHECK(wp_memory_write(mem, WP_PAGE_SIZE - 6, msg, 6));
    CHECK(!wp_memory_write(mem, WP_PAGE_SIZE - 5, msg, 6));
    CHECK(!wp_memory_read(mem, WP_PAGE_SIZE - 5, back, 6));
    CHECK(!wp_memory_read(mem, UINT64_MAX, back, 2)); /* would wrap */
    CHECK(!wp_memory_write(mem, UINT64_MAX - 1, msg, 6));
    CHECK(wp_memory_read(mem, WP_PAGE_SIZE, back, 0));
    CHECK_EQ(mem->base[WP_PAGE_SIZE - 6], 'h');
    CHECK_EQ(mem->base[WP_PAGE_SIZE - 1], 0);
    wp_store_free(s);
}

static void test_bulk(void) {
    wp_store *s = new_store(0);
    wp_memory *mem = new_memory(s, 1, 0, false);
    uint8_t *p = mem->base;
    const uint64_t end = WP_PAGE_SIZE;

    CHECK(wp__memory_fill(mem, 10, 0x5a, 4));
    CHECK(p[9] == 0 && p[10] == 0x5a && p[13] == 0x5a && p[14] == 0);
    CHECK(wp__memory_fill(mem, end - 1, 1, 1));
    CHECK(wp__memory_fill(mem, end, 1, 0));
    CHECK(!wp__memory_fill(mem, end + 1, 1, 0));
    CHECK(!wp__memory_fill(mem, end - 1, 2, 2));
    CHECK(!wp__memory_fill(mem, UINT64_MAX, 2, 2));
    CHECK_EQ(p[end - 1], 1); /* the failures wrote nothing */

    for (int i = 0; i < 8; i++)
        p[100 + i] = (uint8_t)(i + 1);
    CHECK(wp__memory_copy(mem, 102, 100, 6)); /* overlapping, forwards */
    CHECK(p[101] == 2 && p[102] == 1 && p[107] == 6);
    for (int i = 0; i < 8; i++)
        p[200 + i] = (uint8_t)(i + 1);
    CHECK(wp__memory_copy(mem, 200, 203, 5)); /* overlapping, backwards */
    CHECK(p[200] == 4 && p[204] == 8 && p[205] == 6);
    CHECK(wp__memory_copy(mem, end, end, 0));
    CHECK(!wp__memory_copy(mem, end + 1, 0, 0));
    CHECK(!wp__memory_copy(mem, 0, end + 1, 0));
    CHECK(!wp__memory_copy(mem, 0, end - 1, 2));
    CHECK(!wp__memory_copy(mem, end - 1, 0, 2));
    CHECK(!wp__memory_copy(mem, 0, 1, UINT64_MAX));
    CHECK_EQ(p[0], 0);

    const uint8_t seg[4] = {9, 8, 7, 6};
    CHECK(wp__memory_init(mem, 300, seg, 4, 1, 3));
    CHECK(p[299] == 0 && p[300] == 8 && p[302] == 6 && p[303] == 0);
    CHECK(wp__memory_init(mem, end, seg, 4, 4, 0));
    CHECK(!wp__memory_init(mem, 0, seg, 4, 5, 0));
    CHECK(!wp__memory_init(mem, end + 1, seg, 4, 0, 0));
    CHECK(!wp__memory_init(mem, 0, seg, 4, 2, 3));
    CHECK(!wp__memory_init(mem, end - 2, seg, 4, 0, 3));
    CHECK(!wp__memory_init(mem, 0, seg, 4, UINT64_MAX, 2));
    CHECK_EQ(p[end - 2], 0);
    wp_store_free(s);
}

static size_t count_mappings(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    size_t n = 0;
    int c;
    if (!f)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Decision 4: a host holds 100,000 instances and more. Each memory here has one page and is
 * touched once, as a small instance with a data segment would be. */
static void test_many_memories(void) {
    enum { N = 100000 };
    long page = sysconf(_SC_PAGESIZE);
    wp_store *s = new_store(0);
    wp_memory **mems = malloc(N * sizeof *mems);
    CHECK(mems != NULL);
    if (!mems)
        return;
    size_t rss0 = vm_pages(1);
    size_t maps0 = count_mappings();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int made = 0;
    wp_err err;
    for (int i = 0; i < N; i++) {
        if (wp_memory_new(s, (wp_limits){1, 0, false}, &mems[i], &err) != WP_OK)
            break;
        made++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_EQ(made, N);
    if (made < N)
        fprintf(stderr, "stopped at %d: %s\n", made, err.msg);
    size_t rss_untouched = (vm_pages(1) - rss0) * (size_t)page;
    for (int i = 0; i < made; i++)
        mems[i]->base[(unsigned)i % WP_PAGE_SIZE] = 1;
    size_t rss_touched = (vm_pages(1) - rss0) * (size_t)page;
    size_t maps = count_mappings() - maps0;
    int ok = 0;
    for (int i = 0; i < made; i++)
        ok += mems[i]->base[(unsigned)i % WP_PAGE_SIZE] == 1 && mems[i]->base[0] + 1 > 0;
    CHECK_EQ(ok, made);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr,
            "  %d memories of 1 page: %.2f us each to create; store heap %zu B each; "
            "RSS %zu B each untouched, %zu B each with one page touched; %zu new mappings\n",
            made, secs * 1e6 / N, s->heap.used / N, rss_untouched / N, rss_touched / N, maps);
    CHECK(s->heap.used / N <= 2 * sizeof(wp_memory));
    CHECK(rss_touched / N < WP_PAGE_SIZE / 2); /* one touched page, not the 64 KiB mapped */
    wp_store_free(s);
    free(mems);
}

int main(void) {
    RUN_TEST(test_zero_pages);
    RUN_TEST(test_grow_limits);
    RUN_TEST(test_limit_errors);
    RUN_TEST(test_system_refuses);
    RUN_TEST(test_grow_keeps_data);
    RUN_TEST(test_grow_moves);
    RUN_TEST(test_read_write);
    RUN_TEST(test_bulk);
    RUN_TEST(test_many_memories);
    return TEST_EXIT();
}
