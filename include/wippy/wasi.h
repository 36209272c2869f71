/* wippy/wasi.h: WASI preview 1 (wasi_snapshot_preview1) for core modules, sandboxed.
 *
 * Objects and who owns them:
 *   wp_wasi   one guest's WASI context: its arguments, environment, file descriptor table
 *             (stdio, preopened mounts, lent sockets) and at most one blocking call in
 *             progress. Owned by the caller. Used by one thread at a time: the one running the
 *             store it was linked into. It must outlive that store's use of it: free the store
 *             (or stop running it) before wp_wasi_free().
 *
 * How calls fail:
 *   The API calls below return wp_status and fill the caller's wp_err. Guest calls of WASI
 *   functions never fail the host: each returns the errno the WASI specification gives (an
 *   out-of-bounds guest pointer is errno 'fault', a path leaving its mount is 'notcapable',
 *   a write on a read-only mount is 'rofs'). proc_exit ends the run with WP_TRAP_EXIT and the
 *   status in wp_trap.exit_code; it never exits the host process.
 *
 * Sandbox:
 *   The guest sees only its mounts. Every path is resolved beneath the directory descriptor it
 *   names (openat2 with RESOLVE_BENEATH on Linux, a strict component-by-component walk
 *   elsewhere); '..', absolute paths and symbolic links can never lead out of it.
 *
 * Blocking calls never block a host function. A call that would wait (poll_oneoff on clocks or
 * descriptors, fd_read from a pipe, terminal or socket with nothing to read, fd_write to a
 * full pipe, sock_accept/sock_recv with nothing ready, sched_yield) returns WP_HOST_PENDING:
 * wp_exec_run() then returns WP_RUN_PENDING. The embedder asks wp_wasi_pending() what the
 * call waits for, waits by any means (poll, an event loop), and calls wp_wasi_complete(),
 * which performs the operation now that it can, writes the guest's memory and resumes the
 * exec. wp_wasi_run() is the simplest such embedder: it waits with poll()/clock_nanosleep().
 *
 * Host signals: writing to a closed pipe or socket raises SIGPIPE in the host process unless
 * the embedder ignores it (the wippy command does); the guest then sees errno 'pipe'.
 */
#ifndef WIPPY_WASI_H
#define WIPPY_WASI_H

#include "wippy/wasm.h"

typedef struct wp_wasi wp_wasi;

/* A host directory shown to the guest as a preopened directory named 'guest'. */
typedef struct wp_wasi_mount {
    const char *host;  /* host directory; opened (following host symlinks) by wp_wasi_new */
    const char *guest; /* the preopen's name the guest sees ("/data", "."); NULL: same as host */
    bool read_only;    /* every write, create, rename, unlink, truncate, set-times: 'rofs' */
} wp_wasi_mount;

/* Resolve guest paths with the portable walk even where openat2 exists (tests use it). */
#define WP_WASI_PORTABLE_RESOLVE 1u

/* Configuration read by wp_wasi_new(); everything in it is borrowed during that call only
 * (strings are copied). Start from wp_wasi_config_init(). */
typedef struct wp_wasi_config {
    const char *const *args; /* the guest's argv; args[0] is the program name */
    uint32_t nargs;
    const char *const *env; /* "NAME=VALUE" strings, in this order; nothing is inherited */
    uint32_t nenv;
    const wp_wasi_mount *mounts; /* preopened as guest fds 3, 4, ... in this order */
    uint32_t nmounts;
    /* A guest path inside one of the mounts, or NULL. When set, that directory is also
     * preopened as "." (after the mounts), so wasi-libc resolves relative paths there. */
    const char *cwd;
    /* Host descriptors lent as guest fds 0, 1 and 2 (-1: that guest fd is closed). Never
     * closed by wp_wasi. Defaults: 0, 1, 2. */
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
    /* Host sockets lent to the guest (after the mounts and the cwd), for sock_accept,
     * sock_recv, sock_send and sock_shutdown. Never closed by wp_wasi (the connections
     * sock_accept makes are the context's own, closed with it). */
    const int *sockets;
    uint32_t nsockets;
    wp_heap *heap;  /* the context's allocations; NULL: wp_heap_default(). Must outlive it. */
    uint32_t flags; /* WP_WASI_PORTABLE_RESOLVE */
} wp_wasi_config;

/* Zero fields, stdio 0/1/2. */
WP_API void wp_wasi_config_init(wp_wasi_config *cfg);

/* Creates a context: copies args and env, opens the mounts' host directories.
 * *out is owned by the caller; release with wp_wasi_free().
 * Fails: WP_ERR_NOT_FOUND (a mount's host directory or the cwd does not exist; err names it),
 *        WP_ERR_INVALID (a mount that is not a directory, a cwd outside every mount, an
 *        argument or variable too large for the guest's 32-bit sizes, a negative socket),
 *        WP_ERR_PERMISSION_DENIED (a mount the host may not open), WP_ERR_NOMEM. */
WP_API wp_status wp_wasi_new(const wp_wasi_config *cfg, wp_wasi **out, wp_err *err);

/* Closes every descriptor the context opened (not the lent ones) and frees it. Accepts NULL. */
WP_API void wp_wasi_free(wp_wasi *w);

/* The module name of WASI preview 1 imports. */
#define WP_WASI_MODULE "wasi_snapshot_preview1"

/* True if d is an import WASI provides (its module is WP_WASI_MODULE). */
WP_API bool wp_wasi_is_import(const wp_import_desc *d);

/* Creates host functions in s for the WASI imports of m and stores them in imports[i] for
 * each such import i; other entries are left untouched for the caller. imports has one entry
 * per import of m (wp_module_import_count). The functions refer to w: it must outlive s's use.
 * Fails: WP_ERR_LINK (a WASI import that is not a function, an unknown WASI function, or one
 *        whose type differs from the specification's; err names it), WP_ERR_NOMEM. */
WP_API wp_status wp_wasi_link(wp_wasi *w, wp_store *s, const wp_module *m, wp_extern *imports,
                              wp_err *err);

/* ---- Blocking calls ---------------------------------------------------------------------- */

#define WP_WASI_READABLE 1u
#define WP_WASI_WRITABLE 2u
#define WP_WASI_NO_DEADLINE UINT64_MAX

/* A host descriptor the pending call waits on, and for what (WP_WASI_READABLE/WRITABLE). */
typedef struct wp_wasi_waitfd {
    int fd;
    uint32_t events;
} wp_wasi_waitfd;

/* What a pending call waits for: any of the descriptors becoming ready, or the deadline
 * (host CLOCK_MONOTONIC nanoseconds, as wp_wasi_now()), whichever comes first. A deadline
 * already past means "complete as soon as you can" (sched_yield). */
typedef struct wp_wasi_wait {
    uint64_t deadline;
    uint32_t nfds;
    const wp_wasi_waitfd *fds; /* borrowed from the context until the call completes */
} wp_wasi_wait;

/* After WP_RUN_PENDING: true and *out filled if a WASI call of w is waiting; false if none
 * is (the exec waits on some other host function). */
WP_API bool wp_wasi_pending(const wp_wasi *w, wp_wasi_wait *out);

/* Tries to finish the pending call: performs its operation if it can proceed without
 * blocking, writes the guest's memory and wp_exec_resume()s x with the call's errno, then
 * *done is true and x can run again. If the call still cannot proceed (a spurious wake-up),
 * *done is false: ask wp_wasi_pending() again and wait. x must be the exec that went pending.
 * Fails: WP_ERR_INVALID (no WASI call is waiting, or x is not the exec waiting). */
WP_API wp_status wp_wasi_complete(wp_wasi *w, wp_exec *x, bool *done, wp_err *err);

/* Forgets the pending call (the embedder abandons the exec, e.g. with wp_exec_reset). */
WP_API void wp_wasi_cancel(wp_wasi *w);

/* The simple driver: runs x (begun by the caller) until it finishes or traps, waiting on
 * the host for each pending WASI call with poll()/clock_nanosleep(). Returns WP_RUN_DONE or
 * WP_RUN_TRAP (a failed wait, or a wait on a non-WASI host call, traps the guest with a
 * message saying so). */
WP_API wp_run_state wp_wasi_run(wp_wasi *w, wp_exec *x);

/* Host CLOCK_MONOTONIC in nanoseconds: the clock of wp_wasi_wait.deadline. */
WP_API uint64_t wp_wasi_now(void);

#endif
