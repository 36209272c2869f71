/* funcs_host.h: shared inside src/runtime only: the wippy:runtime/funcs host import of core
 * guests (funcs_host.c) and the pool call it makes (pool.c). */
#ifndef WP_RUNTIME_FUNCS_HOST_H
#define WP_RUNTIME_FUNCS_HOST_H

#include "wippy/runtime.h"

/* Told a call's result exactly once, from the call's worker thread; result is borrowed. */
typedef void (*wp__call_done_fn)(void *ud, const wp_value *result);

/* wp_pool_call without a caller process: done(ud, result) instead of an EXIT event (also
 * with a TIMEOUT or CANCELED error when the call is killed). On failure done is never called. */
wp_status wp__pool_call_notify(wp_pool *p, const wp_value *args, uint32_t nargs,
                               wp__call_done_fn done, void *ud, wp_pid *out, wp_err *err);

/* One process.wasm instance's use of the import: its call in flight. */
typedef struct wp__gfuncs wp__gfuncs;

/* True for an import of module wippy:runtime/funcs@0.1.0 (any version). */
bool wp__gfuncs_is_import(const wp_import_desc *d);

/* Satisfies import d in store s with a host function; *g is made on first use (the
 * process's; wp__gfuncs_free after the store). Fails: WP_ERR_LINK (an unknown function or a
 * signature other than the canonical ABI's lowering), WP_ERR_NOMEM. */
wp_status wp__gfuncs_link(wp__gfuncs **g, wp_store *s, const wp_import_desc *d, wp_extern *out,
                          wp_err *err);

/* After WP_RUN_PENDING: true with *out set when a call of g is in flight. */
bool wp__gfuncs_wait(wp__gfuncs *g, wp_wait *out);

/* The wait may be over: when the result came, writes it into the guest's memory (through
 * its cabi_realloc on a second exec) and resumes x (*ready = true); else *ready = false.
 * Fails: WP_ERR_INTERNAL (the guest's memory or realloc failed: x is resumed with a trap). */
wp_status wp__gfuncs_complete(wp__gfuncs *g, wp_store *s, wp_instance *inst, wp_exec *x,
                              bool *ready, wp_err *err);

/* Abandons the call in flight (terminates it). */
void wp__gfuncs_cancel(wp__gfuncs *g);

/* Accepts NULL. */
void wp__gfuncs_free(wp__gfuncs *g);

#endif
