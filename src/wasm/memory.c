/* memory.c: linear memories, mapped for their current size only and grown by remapping. */
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

/* A memory's bytes are an anonymous private mapping of exactly its current size; the system
 * commits a page when it is first touched, so an instance that uses a few KiB of a 1 MiB memory
 * costs a few KiB. Growing remaps (Linux: mremap, which may move the block; elsewhere: map new,
 * copy, unmap old). A memory of 0 pages has no mapping: its base is a static sentinel that is
 * never accessed, because every access is bounds-checked against size 0 first.
 *
 * Memories created one after another share one kernel mapping (the kernel merges adjacent
 * ones), but one that grew and had to move is a mapping of its own, and Linux caps mappings
 * per process (vm.max_map_count, 65530 by default): past that, growth returns -1.
 *
 * Linear memory is limited by pages only (the declared max, the store's max_memory_pages and
 * the 4 GiB of a 32-bit memory); it is not counted against the store's max_heap_bytes, which
 * limits the engine's own allocations. */

/* The one place the growth strategy is chosen. Build with -DWP_NO_MREMAP to test the
 * portable twin on Linux. */
#if defined(__linux__) && !defined(WP_NO_MREMAP)
#define WP_USE_MREMAP 1
#else
#define WP_USE_MREMAP 0
#endif

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0 /* not every system has it; committing lazily is still the default */
#endif
#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif

/* The base of every 0-page memory: valid, aligned, and never read or written. */
static const uint64_t empty_base[2];

static uint8_t *sentinel(void) { return (uint8_t *)(uintptr_t)empty_base; }

static uint8_t *map_zeroed(size_t len) {
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Returns a mapping of new_len bytes starting with the old_len bytes at old (which it
 * releases), or NULL (old untouched) if the system refuses. */
static uint8_t *remap(uint8_t *old, size_t old_len, size_t new_len) {
    if (old_len == 0)
        return map_zeroed(new_len);
#if WP_USE_MREMAP
    void *p = mremap(old, old_len, new_len, MREMAP_MAYMOVE);
    return p == MAP_FAILED ? NULL : p;
#else
    uint8_t *p = map_zeroed(new_len);
    if (!p)
        return NULL;
    memcpy(p, old, old_len);
    munmap(old, old_len);
    return p;
#endif
}

static void memory_destroy(wp_object *obj) {
    wp_memory *mem = (wp_memory *)obj;
    if (mem->reserved > 0)
        munmap(mem->base, mem->reserved);
    wp_heap_free(&mem->store->heap, mem, sizeof *mem);
}

static wp_status check_limits(const wp_store *s, wp_limits limits, wp_err *err) {
    if (limits.has_max && limits.max < limits.min)
        return wp_err_set(err, WP_ERR_INVALID, "size minimum must not be greater than maximum");
    if (limits.min > WP_MAX_PAGES || (limits.has_max && limits.max > WP_MAX_PAGES))
        return wp_err_set(err, WP_ERR_INVALID, "memory size must be at most 65536 pages (4GiB)");
    if (limits.min > s->cfg.max_memory_pages)
        return wp_err_set(err, WP_ERR_INVALID,
                          "memory of %" PRIu32 " pages exceeds the store's limit of %" PRIu32,
                          limits.min, s->cfg.max_memory_pages);
    return WP_OK;
}

static uint32_t effective_max(const wp_store *s, wp_limits limits) {
    uint32_t max = s->cfg.max_memory_pages;
    if (limits.has_max && limits.max < max)
        max = limits.max;
    return max;
}

wp_status wp_memory_new(wp_store *s, wp_limits limits, wp_memory **out, wp_err *err) {
    wp_status st = check_limits(s, limits, err);
    if (st != WP_OK)
        return st;
    wp_memory *mem = wp_heap_zalloc(&s->heap, sizeof *mem);
    if (!mem)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory creating a memory");
    mem->store = s;
    mem->base = sentinel();
    mem->limits = limits;
    mem->max_pages = effective_max(s, limits);
    if (limits.min > 0) {
        size_t len = (size_t)limits.min * WP_PAGE_SIZE;
        mem->base = map_zeroed(len);
        if (!mem->base) {
            wp_heap_free(&s->heap, mem, sizeof *mem);
            return wp_err_set(err, WP_ERR_NOMEM, "cannot map a memory of %" PRIu32 " pages",
                              limits.min);
        }
        mem->reserved = len;
        mem->pages = limits.min;
        mem->size = len;
    }
    wp__store_adopt(s, &mem->obj, memory_destroy);
    *out = mem;
    return WP_OK;
}

uint8_t *wp_memory_data(const wp_memory *mem) { return mem->base; }

uint64_t wp_memory_size(const wp_memory *mem) { return mem->size; }

wp_limits wp_memory_limits(const wp_memory *mem) {
    return (wp_limits){mem->pages, mem->limits.max, mem->limits.has_max};
}

int64_t wp_memory_grow(wp_memory *mem, uint32_t delta) {
    uint32_t old = mem->pages;
    if (delta == 0)
        return old;
    if (delta > mem->max_pages - old)
        return -1;
    uint64_t new_size = (uint64_t)(old + delta) * WP_PAGE_SIZE;
    if (new_size > SIZE_MAX)
        return -1; /* a 4 GiB memory does not fit a 32-bit address space */
    uint8_t *p = remap(mem->base, mem->reserved, (size_t)new_size);
    if (!p)
        return -1;
    mem->base = p;
    mem->reserved = (size_t)new_size;
    mem->size = new_size;
    mem->pages = old + delta;
    return old;
}

bool wp_memory_read(const wp_memory *mem, uint64_t offset, void *dst, size_t len) {
    if (!wp__range_ok(mem->size, offset, len))
        return false;
    if (len > 0)
        memcpy(dst, mem->base + offset, len);
    return true;
}

bool wp_memory_write(wp_memory *mem, uint64_t offset, const void *src, size_t len) {
    if (!wp__range_ok(mem->size, offset, len))
        return false;
    if (len > 0)
        memcpy(mem->base + offset, src, len);
    return true;
}

/* ---- Bulk operations ----------------------------------------------------------------------- */

bool wp__memory_fill(wp_memory *m, uint64_t dst, uint8_t val, uint64_t n) {
    if (!wp__range_ok(m->size, dst, n))
        return false;
    if (n > 0)
        memset(m->base + dst, val, (size_t)n);
    return true;
}

bool wp__memory_copy(wp_memory *m, uint64_t dst, uint64_t src, uint64_t n) {
    if (!wp__range_ok(m->size, dst, n) || !wp__range_ok(m->size, src, n))
        return false;
    if (n > 0)
        memmove(m->base + dst, m->base + src, (size_t)n);
    return true;
}

bool wp__memory_init(wp_memory *m, uint64_t dst, const uint8_t *bytes, uint64_t nbytes,
                     uint64_t src, uint64_t n) {
    if (!wp__range_ok(nbytes, src, n) || !wp__range_ok(m->size, dst, n))
        return false;
    if (n > 0)
        memcpy(m->base + dst, bytes + src, (size_t)n);
    return true;
}
