/* wippy/wasi2.h: WASI 0.2 host interfaces for components (wasi:cli, wasi:io, wasi:clocks,
 * wasi:filesystem, wasi:random), over the same sandbox as preview 1.
 *
 * Objects and who owns them:
 *   wp_wasi2  one component instance's WASI 0.2 state: the preview-1 context it is built on
 *             (args, env, stdio, mounts, cwd: see wippy/wasi.h) and a table of the host
 *             resources the guest holds (streams, pollables, descriptors, directory-entry
 *             streams, errors, terminals). Owned by the caller; release with wp_wasi2_free().
 *             Used by one thread at a time.
 *
 * Host functions and values:
 *   Every function of the interfaces is one row of a static table (wp_wasi2_funcs): the
 *   interface ("wasi:io/streams"), the function's name as a component imports it
 *   ("[method]input-stream.read", "[static]x.y", "get-stdout") and a callback over lifted
 *   wp_values. A component layer links a row to an import of the same name; the version
 *   implemented is WP_WASI2_VERSION and serves imports of any 0.2.x.
 *   Value shapes (the component layer lifts to and lowers from exactly these):
 *     own<T>, borrow<T>   integer: the host representation ("rep", 1 .. 2^31-1) of a resource
 *                         of this context; a result of type own<T> is a new rep whose
 *                         ownership passes to the guest (drop it with wp_wasi2_drop)
 *     record              map keyed by the kebab-case field name
 *     variant, result     map with one key, the case ("ok", "err", "closed"); value the payload
 *                         or nil when the case has none
 *     enum                the label as a string          flags   map of set labels -> true
 *     option              nil or the value               tuple   array
 *     list<u8>            bytes (arguments may also be strings); other lists: arrays
 *     integers            integer (u64 keeps its bit pattern); bool as bool; string as string
 *
 * Blocking calls never block the thread. A call that must wait (pollable.block, poll,
 * blocking-read, blocking-skip, blocking-write-and-flush, blocking-flush,
 * blocking-write-zeroes-and-flush, blocking-splice) returns WP_WASI2_PENDING; the embedder
 * reads what it waits for with wp_wasi2_pending() (the preview-1 wp_wasi_wait: descriptors and
 * a monotonic deadline), waits by any means and calls wp_wasi2_complete(), which finishes the
 * call and hands back its result. While a call is pending no other function of the context
 * may be called.
 *
 * Sandbox: descriptors from wasi:filesystem/preopens are the mounts (and the cwd as "."),
 * every path resolved beneath its descriptor; a path that would leave it fails with
 * 'not-permitted'; anything that would change a read-only mount fails with 'read-only'.
 */
#ifndef WIPPY_WASI2_H
#define WIPPY_WASI2_H

#include "wippy/component.h"
#include "wippy/value.h"
#include "wippy/wasi.h"

#define WP_WASI2_VERSION "0.2.3"

typedef struct wp_wasi2 wp_wasi2;

/* Creates a context from the same configuration as preview 1 (copied; see wp_wasi_new).
 * *out owned by the caller: wp_wasi2_free(). Fails as wp_wasi_new. */
WP_API wp_status wp_wasi2_new(const wp_wasi_config *cfg, wp_wasi2 **out, wp_err *err);

/* Drops every resource still held, closes what the context opened, frees it. Accepts NULL. */
WP_API void wp_wasi2_free(wp_wasi2 *w);

/* How a host function call ended. */
typedef enum wp_wasi2_outcome {
    WP_WASI2_DONE,    /* *result holds the return value (nil for none), owned by the caller */
    WP_WASI2_PENDING, /* it waits: wp_wasi2_pending(), then wp_wasi2_complete() */
    WP_WASI2_TRAP,    /* the guest broke a rule (wp_wasi2_trap_msg says which); trap it */
    WP_WASI2_EXIT,    /* wasi:cli/exit: end the guest with wp_wasi2_exit_code() */
} wp_wasi2_outcome;

/* A host function. args: borrowed, as many as the WIT function has parameters, in the shapes
 * above (checked: a wrong shape traps). *result is nil on entry and is set only on DONE. */
typedef wp_wasi2_outcome (*wp_wasi2_fn)(wp_wasi2 *w, const wp_value *args, wp_value *result);

typedef struct wp_wasi2_func {
    const char *iface; /* "wasi:io/streams" (no version) */
    const char *name;  /* "[method]output-stream.blocking-write-and-flush" */
    uint32_t nparams;  /* args the callback reads ("self" counts for methods) */
    wp_wasi2_fn fn;
} wp_wasi2_func;

/* A resource type the interfaces define: wasi:io/streams's "input-stream", ... */
typedef struct wp_wasi2_resource {
    const char *iface;
    const char *name;
} wp_wasi2_resource;

/* The static tables (never freed), and lookup (NULL if absent). */
WP_API const wp_wasi2_func *wp_wasi2_funcs(uint32_t *count);
WP_API const wp_wasi2_resource *wp_wasi2_resources(uint32_t *count);
WP_API const wp_wasi2_func *wp_wasi2_find(const char *iface, const char *name);

/* True if iface ("wasi:io/streams", with or without "@0.2.x") is one this file provides. */
WP_API bool wp_wasi2_has_iface(const char *iface);

/* The guest drops its handle to 'rep' of resource type 'res' (an entry of wp_wasi2_resources).
 * TRAP if rep is not a live resource of that type. A stream dropped before its pollables
 * leaves them always ready (nothing dangles). */
WP_API wp_wasi2_outcome wp_wasi2_drop(wp_wasi2 *w, const wp_wasi2_resource *res, uint32_t rep);

/* After PENDING: true and *out filled (borrowed until the next call into w). */
WP_API bool wp_wasi2_pending(const wp_wasi2 *w, wp_wasi_wait *out);

/* Tries to finish the pending call. DONE: *result is its return value. PENDING: not ready
 * yet (a spurious wake-up); ask wp_wasi2_pending() again. TRAP / EXIT as for a call. */
WP_API wp_wasi2_outcome wp_wasi2_complete(wp_wasi2 *w, wp_value *result);

/* Forgets the pending call (the embedder abandons the guest). */
WP_API void wp_wasi2_cancel(wp_wasi2 *w);

/* After TRAP: why (borrowed until the next call into w). After EXIT: the status. */
WP_API const char *wp_wasi2_trap_msg(const wp_wasi2 *w);
WP_API int32_t wp_wasi2_exit_code(const wp_wasi2 *w);

/* Live resources the guest holds (tests check that nothing leaks). */
WP_API uint32_t wp_wasi2_live(const wp_wasi2 *w);

/* ---- As component host interfaces (wippy/component.h) -------------------------------------- */

/* Every interface ("wasi:io/streams@0.2.3", ...), static. Add them to a linker with the
 * wp_wasi2 * as ctx; pending calls park through wp_comp_call_pend, wasi:cli/exit ends the
 * run through wp_comp_call_exit, drops of the guest's handles reach wp_wasi2_drop. */
WP_API uint32_t wp_wasi2_ifaces(const wp_comp_host_iface *const **out);

/* The interfaces one `imports:` group of an entry enables: "wasi:io" (error, streams),
 * "wasi:poll" (io/poll), "wasi:clocks", "wasi:random", "wasi:cli" (environment, exit, stdio,
 * terminal-*), "wasi:filesystem" (types, preopens). 0 and *out NULL for another name. */
WP_API uint32_t wp_wasi2_group(const char *group, const wp_comp_host_iface *const **out);

/* Adds group's interfaces (every interface when group is NULL) to l with ctx w, which must
 * outlive l's instances. Fails: WP_ERR_NOT_FOUND (an unknown group), as wp_comp_linker_add. */
WP_API wp_status wp_wasi2_link(wp_wasi2 *w, wp_comp_linker *l, const char *group, wp_err *err);

#endif
