/* wippy/runtime.h: processes. For now: the process behaviour interface (Init / Step / Close,
 * reference wasm_processes.md), the process.wasm behaviour, and the terminal host runner that
 * drives one process to completion on the calling thread. The scheduler, worker threads,
 * mailboxes and the libuv I/O loop come next, on top of this same interface.
 *
 * Objects and who owns them:
 *   wp_behavior  a static table of functions: what a kind of process does. Never freed.
 *   wp_proc      one process: a behaviour and its state, and its result once done. Owned by
 *                whoever created it (a host); used by one thread at a time; wp_proc_free() is
 *                Close.
 *
 * Step never waits. A step ends when the process is done, when it waits on something (pending:
 * wp_proc_wait() says what, a host waits by any means and calls wp_proc_wake()), or when its
 * budget of reductions is spent (call wp_proc_step() again, on any thread).
 */
#ifndef WIPPY_RUNTIME_H
#define WIPPY_RUNTIME_H

#include "wippy/component.h"
#include "wippy/value.h"
#include "wippy/wasi.h"

typedef enum wp_step {
    WP_STEP_DONE = 0, /* the result is ready: wp_proc_result() */
    WP_STEP_PENDING,  /* waiting: wp_proc_wait(), then wp_proc_wake() */
    WP_STEP_BUDGET,   /* the slice is spent: step again */
} wp_step;

/* A behaviour. Hosts call these only through wp_proc_*; a behaviour may leave wait, wake and
 * cancel NULL if it never goes pending. */
typedef struct wp_behavior {
    const char *name; /* the entry kind it runs, e.g. "process.wasm" */
    /* Init: config is the behaviour's own configuration type, borrowed during the call; args
     * are nargs values, borrowed (copied if kept). *state is the behaviour's until close. */
    wp_status (*init)(const void *config, const wp_value *args, uint32_t nargs, void **state,
                      wp_err *err);
    /* Runs for about budget reductions. On WP_STEP_DONE, *result is set (owned by the caller):
     * the process's return value, or an error value if it failed. */
    wp_step (*step)(void *state, uint64_t budget, wp_value *result);
    /* After WP_STEP_PENDING: what the process waits for; false if nothing a host can wait on. */
    bool (*wait)(void *state, wp_wasi_wait *out);
    /* The wait may be over: completes the operation if it can (*ready = true) so the next step
     * goes on, else leaves it waiting (*ready = false). */
    wp_status (*wake)(void *state, bool *ready, wp_err *err);
    /* Abandons whatever runs or waits; the process will not be stepped again. */
    void (*cancel)(void *state);
    void (*close)(void *state); /* frees state; accepts a state after a failed step */
} wp_behavior;

typedef struct wp_proc wp_proc;

/* Init: creates a process running behaviour b with config and args (both borrowed).
 * *out owned by the caller: wp_proc_free(). Fails as b's init does (err says why), or
 * WP_ERR_NOMEM. */
WP_API wp_status wp_proc_new(const wp_behavior *b, const void *config, const wp_value *args,
                             uint32_t nargs, wp_proc **out, wp_err *err);

/* Step. Calling it on a process that is done returns WP_STEP_DONE again. */
WP_API wp_step wp_proc_step(wp_proc *p, uint64_t budget);

/* After WP_STEP_PENDING: fills *out and returns true if the process waits on descriptors or a
 * deadline; false if it waits on something a host cannot see (then only cancel helps). */
WP_API bool wp_proc_wait(const wp_proc *p, wp_wasi_wait *out);

/* After a wait: see wp_behavior.wake. Fails: as the behaviour's wake (WP_ERR_INVALID when the
 * process was not pending). */
WP_API wp_status wp_proc_wake(wp_proc *p, bool *ready, wp_err *err);

/* Stops the process: abandons its work and makes it done with an error value of kind and msg
 * as its result (a deadline passed, the host shuts down). No effect on a process that is done. */
WP_API void wp_proc_cancel(wp_proc *p, wp_status kind, const char *msg);

/* True once a step returned WP_STEP_DONE (or after wp_proc_cancel). */
WP_API bool wp_proc_done(const wp_proc *p);

/* After done: the result, borrowed from p until it is freed or the result taken. */
WP_API const wp_value *wp_proc_result(const wp_proc *p);

/* After done: moves the result to *out (p's becomes nil). */
WP_API void wp_proc_take_result(wp_proc *p, wp_value *out);

/* Close: frees the process and everything its behaviour holds. Accepts NULL. */
WP_API void wp_proc_free(wp_proc *p);

/* ---- process.wasm ------------------------------------------------------------------------ */

/* Limits of one WASM process. Zero means "none" or the engine's default. */
typedef struct wp_wasm_limits {
    uint64_t max_execution_ms; /* wall clock from the first step; enforced by the host */
    uint64_t fuel;             /* reductions (calls and loop back-edges) for the whole run */
    uint32_t max_memory_pages; /* per memory, 64 KiB pages */
    uint32_t max_call_depth;   /* wasm frames */
} wp_wasm_limits;

/* What Init needs to run a core module's export as a process. */
typedef struct wp_wasm_config {
    wp_module *module; /* borrowed; Init takes its own reference */
    /* The export to call. "_start" runs the module as a WASI command: the process's arguments
     * (strings) follow wasi.args in argv, its result is the exit status (proc_exit, or 0). */
    const char *method;
    /* The export's WIT signature (borrowed; must outlive the process), or NULL: arguments are
     * converted to the export's core parameter types (strings parsed as numbers) and core
     * results become integers and floats (several: an array). */
    const wp_wit_func *wit;
    bool wasi; /* link WASI preview 1 with wasi_cfg; without it the module may import nothing */
    wp_wasi_config wasi_cfg; /* argv (argv[0] first), env, mounts, cwd, stdio; copied by Init */
    wp_wasm_limits limits;
} wp_wasm_config;

/* The process.wasm behaviour: config is a wp_wasm_config. Init opens the WASI context (mounts)
 * and copies the arguments; the first step instantiates the module, runs its start function,
 * a reactor's _initialize (when method is not _start), lowers the arguments and calls method.
 * The result: the lifted value (a trap: an error of kind WP_ERR_TRAP; proc_exit(n): integer
 * n). Init fails: WP_ERR_INVALID (_start given non-string arguments), the errors of
 * wp_wasi_new, WP_ERR_NOMEM. */
WP_API const wp_behavior *wp_wasm_behavior(void);

/* ---- Terminal host ----------------------------------------------------------------------- */

/* Drives p to completion on the calling thread: steps it in slices of WP_REDUCTIONS, and when
 * it is pending waits for its descriptors or deadline with poll(), then wakes it. With
 * max_execution_ms (not 0) a process still running after that long is cancelled with a
 * WP_ERR_TIMEOUT error result. The terminal's stdin/stdout/stderr are the process's when its
 * configuration says so (wp_wasi_config's defaults). Returns when p is done; read its result
 * with wp_proc_result(). err must not be NULL. Fails: WP_ERR_UNAVAILABLE (poll failed), and
 * then p is cancelled with that error as its result. */
WP_API wp_status wp_terminal_run(wp_proc *p, uint64_t max_execution_ms, wp_err *err);

#endif
