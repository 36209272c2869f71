/* limits.c: what a host admits: at most max_processes alive at once, and processes whose
 * memory reservations fit in max_memory_bytes together. A spawn past either is refused. */
#include <inttypes.h>

#include "internal.h"

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
