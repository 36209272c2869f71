/* limits.c: what a host admits: at most max_processes alive at once, and processes whose
 * memory reservations fit in max_memory_bytes together. A spawn past either is refused. */
#include <inttypes.h>

#include "internal.h"
#include "proc_limits.h"

#define KIB 1024u

static wp_status admit_count(wp_host *h, wp_err *err) {
    uint32_t max = h->cfg.max_processes;
    uint32_t n = atomic_fetch_add(&h->nprocs, 1) + 1;
    if (max == 0 || n <= max)
        return WP_OK;
    atomic_fetch_sub(&h->nprocs, 1);
    return wp_err_set(err, WP_ERR_UNAVAILABLE,
                      "host %s is full: max_processes (%" PRIu32 ") processes are alive",
                      h->id, max);
}

/* Charges bytes if they fit beside what is reserved (a compare-and-swap loop: admissions run
 * on any thread). */
static wp_status admit_memory(wp_host *h, uint64_t bytes, wp_err *err) {
    uint64_t max = h->cfg.max_memory_bytes;
    uint_fast64_t cur = atomic_load(&h->reserved);
    do {
        if (max && (bytes > max || cur > max - bytes))
            return wp_err_set(err, WP_ERR_NOMEM,
                              "host %s is out of memory for one more process: it reserves "
                              "%" PRIu64 " KiB, %" PRIu64 " of the host's %" PRIu64
                              " KiB are reserved",
                              h->id, (bytes + KIB - 1) / KIB, (uint64_t)cur / KIB, max / KIB);
    } while (!atomic_compare_exchange_weak(&h->reserved, &cur, cur + bytes));
    return WP_OK;
}

wp_status wp__host_admit(wp_host *h, const wp_spawn_target *t, uint64_t *reserved, wp_err *err) {
    *reserved = t->behavior->reserve ? t->behavior->reserve(t->config) : 0;
    wp_status st = admit_count(h, err);
    if (st == WP_OK && (st = admit_memory(h, *reserved, err)) != WP_OK)
        atomic_fetch_sub(&h->nprocs, 1);
    return st;
}

void wp__host_release(wp_host *h, uint64_t reserved) {
    atomic_fetch_sub(&h->reserved, reserved);
    atomic_fetch_sub(&h->nprocs, 1);
}

uint32_t wp_host_count(const wp_host *h) { return atomic_load(&((wp_host *)h)->nprocs); }

uint64_t wp_host_reserved(const wp_host *h) { return atomic_load(&((wp_host *)h)->reserved); }

/* ---- A process's memory and its limits ----------------------------------------------------- */

static uint32_t imported_memories(const wp_module *m) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < wp_module_import_count(m); i++) {
        wp_import_desc d;
        wp_module_import(m, i, &d);
        n += d.kind == WP_EXTERN_MEMORY;
    }
    return n;
}

/* The most pages memory 'lim' can reach in a process limited to max pages (0: no limit):
 * with a limit, its ceiling; without one, only its initial size, as growth is unbounded. */
static uint64_t memory_ceiling(wp_limits lim, uint32_t max) {
    if (max == 0)
        return lim.min;
    uint64_t top = lim.has_max && lim.max < max ? lim.max : max;
    return top > lim.min ? top : lim.min;
}

wp_store_config wp__limits_store_config(const wp_wasm_limits *lim) {
    return (wp_store_config){.fuel = lim->fuel,
                             .max_memory_pages = lim->max_memory_pages,
                             .max_call_depth = lim->max_call_depth};
}

uint64_t wp__module_reserve(const wp_module *m, uint32_t max_pages) {
    uint64_t pages = 0;
    for (uint32_t i = imported_memories(m); i < wp_module_memory_count(m); i++)
        pages += memory_ceiling(wp_module_memory_limits(m, i), max_pages);
    return pages * WP_PAGE_SIZE;
}

wp_status wp__check_memory_limit(const wp_module *m, uint32_t max_pages, wp_err *err) {
    uint32_t n = wp_module_memory_count(m);
    for (uint32_t i = imported_memories(m); max_pages && i < n; i++) {
        wp_limits lim = wp_module_memory_limits(m, i);
        if (lim.min > max_pages)
            return wp_err_set(err, WP_ERR_NOMEM,
                              "memory %" PRIu32 " needs %" PRIu32 " pages (%" PRIu32
                              " KiB) at instantiation, over limits.max_memory_mb (%" PRIu32
                              " MiB)",
                              i, lim.min, lim.min * (WP_PAGE_SIZE / KIB), max_pages / WP_PAGES_PER_MIB);
    }
    return WP_OK;
}

void wp__trap_text(const wp_trap *t, const wp_store_config *cfg, char *buf, size_t size) {
    if (t->kind == WP_TRAP_FUEL && cfg->fuel)
        snprintf(buf, size, "%s (limits.max_fuel: %" PRIu64 ")", t->msg, cfg->fuel);
    else if (t->kind == WP_TRAP_STACK_EXHAUSTED && cfg->max_call_depth)
        snprintf(buf, size, "%s (limits.max_stack: %" PRIu32 " frames)", t->msg,
                 cfg->max_call_depth);
    else
        snprintf(buf, size, "%s", t->msg);
}
