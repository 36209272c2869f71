/* proc_limits.h: what the WASM behaviours (wasm_proc.c, component_proc.c) share about an
 * entry's limits: memory reservations, the memory limit at instantiation, trap messages that
 * name the limit hit. Implemented in limits.c. */
#ifndef WP_RUNTIME_PROC_LIMITS_H
#define WP_RUNTIME_PROC_LIMITS_H

#include "wippy/runtime.h"

/* The store limits of an entry's limits (fuel, pages per memory, call depth). */
wp_store_config wp__limits_store_config(const wp_wasm_limits *lim);

/* What module m's own memories can reach in a process limited to max_pages per memory (0: no
 * limit, so only their initial sizes count), in bytes: its reservation on a host. */
uint64_t wp__module_reserve(const wp_module *m, uint32_t max_pages);

/* Refuses a module whose own memories start above max_pages (0: no limit) before anything is
 * mapped, with a WP_ERR_NOMEM error naming limits.max_memory_mb. */
wp_status wp__check_memory_limit(const wp_module *m, uint32_t max_pages, wp_err *err);

/* A trap's message, naming the limit of cfg that it hit (fuel, call depth), into buf. */
void wp__trap_text(const wp_trap *t, const wp_store_config *cfg, char *buf, size_t size);

#endif
