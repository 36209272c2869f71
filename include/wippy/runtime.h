/* wippy/runtime.h: processes and the hosts that run them (DESIGN decision 5).
 *
 * Objects and who owns them:
 *   wp_behavior  a static table of functions: what a kind of process does (process.wasm, Lua).
 *                Never freed.
 *   wp_proc      one process: a behaviour and its state, a PID, a mailbox, links, monitors,
 *                and its result once done. Made by wp_proc_new() (standalone, driven by its
 *                creator) or by a spawn (owned by the runtime, freed after its exit has been
 *                delivered). Stepped by one thread at a time.
 *   wp_runtime   the process world: hosts, the PID table, the name registry, the I/O loop
 *                thread (libuv: timers, descriptor readiness, signals). Owned by the caller.
 *   wp_host      a process.host (N worker threads and a run queue) or a terminal.host (one
 *                process at a time, the terminal's stdio). Owned by its runtime.
 *
 * Step never waits. A step ends when the process is done, when it waits on something (pending:
 * wp_proc_wait() says what: descriptors, a deadline, the mailbox), or when its budget of
 * reductions is spent. A host parks a pending process (its worker takes another), waits for the
 * wait to end on the I/O loop, then calls wake and steps it again, on any worker.
 *
 * Thread safety: the wp_runtime, wp_send/wp_spawn/... calls taking a runtime are safe from any
 * thread, including from inside a step. wp_proc_recv and the options of a process are for the
 * process itself (its own step) only.
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

/* What a pending process waits for: any descriptor becoming ready, the deadline (wp_wasi_now()
 * nanoseconds, WP_WASI_NO_DEADLINE for none; one already past: "run again soon"), or, when
 * 'mailbox' is set, a message or event arriving in its mailbox. Whichever comes first ends
 * the wait; a host may also end it early (spurious wake-ups are allowed: wake says so). */
typedef struct wp_wait {
    uint64_t deadline;
    uint32_t nfds;
    const wp_wasi_waitfd *fds; /* borrowed from the behaviour until its next step or wake */
    bool mailbox;
} wp_wait;

/* A behaviour. Hosts call these only through wp_proc_*; a behaviour may leave wait, wake and
 * cancel NULL if it never goes pending. */
typedef struct wp_behavior {
    const char *name; /* the entry kind it runs, e.g. "process.wasm" */
    /* Init: config is the behaviour's own configuration type, borrowed: it must stay valid
     * for the life of the process (a runtime's resolver keeps it); args are nargs values,
     * borrowed (copied if kept). *state is the behaviour's until close. Runs on the thread
     * that spawns, not on a worker: wp_proc_current() is not this process yet. */
    wp_status (*init)(const void *config, const wp_value *args, uint32_t nargs, void **state,
                      wp_err *err);
    /* Runs for about budget reductions. On WP_STEP_DONE, *result is set (owned by the caller):
     * the process's return value, or an error value (WP_VERROR) if it failed. During a step
     * wp_proc_current() is this process. */
    wp_step (*step)(void *state, uint64_t budget, wp_value *result);
    /* After WP_STEP_PENDING: what the process waits for; false if nothing a host can wait on. */
    bool (*wait)(void *state, wp_wait *out);
    /* The wait may be over: completes the operation if it can (*ready = true) so the next step
     * goes on, else leaves it waiting (*ready = false: the host asks wait() again). A behaviour
     * that re-checks its conditions in step may always say ready. */
    wp_status (*wake)(void *state, bool *ready, wp_err *err);
    /* Abandons whatever runs or waits; the process will not be stepped again. */
    void (*cancel)(void *state);
    void (*close)(void *state); /* frees state; accepts a state after a failed step */
    /* True if the behaviour reads its mailbox (wp_proc_recv): messages reach it and a cancel
     * arrives as a WP_MSG_CANCEL event. False (process.wasm): messages to it are dropped and a
     * cancel ends it at once with a WP_ERR_CANCELED error result. */
    bool mailbox;
    /* Bytes of memory one process of config reserves (process.wasm: its instance's linear
     * memory, see wp_wasm_behavior), charged against its host's max_memory_bytes from spawn
     * to exit. NULL: nothing. Called on the spawning thread. */
    uint64_t (*reserve)(const void *config);
} wp_behavior;

typedef struct wp_proc wp_proc;

/* Init: creates a standalone process (no PID, no mailbox: driven by its creator, e.g.
 * wp_terminal_run) running behaviour b with config and args (both borrowed). *out owned by the
 * caller: wp_proc_free(). Fails as b's init does (err says why), or WP_ERR_NOMEM. */
WP_API wp_status wp_proc_new(const wp_behavior *b, const void *config, const wp_value *args,
                             uint32_t nargs, wp_proc **out, wp_err *err);

/* Step. Calling it on a process that is done returns WP_STEP_DONE again. */
WP_API wp_step wp_proc_step(wp_proc *p, uint64_t budget);

/* After WP_STEP_PENDING: fills *out and returns true if the process waits on descriptors, a
 * deadline or its mailbox; false if it waits on something a host cannot see (then only cancel
 * helps). */
WP_API bool wp_proc_wait(const wp_proc *p, wp_wait *out);

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
    uint64_t fuel;             /* wasm instructions for the whole run */
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
 * n for _start, and a WP_ERR_TRAP error naming it for a method, which then has no result).
 * Init fails: WP_ERR_INVALID (_start given non-string arguments), the errors of wp_wasi_new,
 * WP_ERR_NOMEM. Limits: a module whose memory starts above max_memory_pages fails
 * its first step (a WP_ERR_NOMEM error naming limits.max_memory_mb); a fuel or call-depth trap
 * names its limit. Reserve: the ceiling of each memory the module defines (its declared max
 * or max_memory_pages, the lower), or its initial size when max_memory_pages is 0. */
WP_API const wp_behavior *wp_wasm_behavior(void);

/* ---- process.wasm / function.wasm of a component (src/runtime/component_proc.c) ---------- */

/* What Init needs to run a component's exported function as a process. */
typedef struct wp_component_config {
    wp_component *component; /* borrowed; Init takes its own reference */
    /* The exported function: "name" or "iface#name" ("wasi:cli/run#run" also names
     * wasi:cli/run@0.2.x#run). wasi:cli/run's run makes a command: the process's arguments
     * follow wasi_cfg.args in argv and its result is the exit status (wasi:cli/exit's, else
     * 0 for ok and 1 for err). */
    const char *method;
    /* The import groups the entry enables ("wasi:cli", "wasi:io", "wasi:poll", "wasi:clocks",
     * "wasi:filesystem", "wasi:random"; see wp_wasi2_group). Any other import links to a stub
     * that traps naming it when called. Borrowed. */
    const char *const *imports;
    uint32_t nimports;
    wp_wasi_config wasi_cfg; /* argv (argv[0] first), env, mounts, cwd, stdio; copied by Init */
    wp_wasm_limits limits;
} wp_component_config;

/* The component behaviour: config is a wp_component_config. Init opens the WASI 0.2 context;
 * the first step instantiates the component, lowers the arguments and begins the call; host
 * calls that block (wasi:io/poll, blocking stream calls) park the process (its wait is theirs).
 * The result: the lifted value, an error of kind WP_ERR_TRAP on a trap, or a command's status.
 * Limits as for wp_wasm_behavior: a core module whose memory starts above max_memory_pages fails
 * the first step (WP_ERR_NOMEM naming limits.max_memory_mb), fuel and call-depth traps name
 * their limit. Reserve: the memory ceilings of each core instance the component makes
 * (wp_component_module_instances). */
WP_API const wp_behavior *wp_component_behavior(void);

/* True if method names wasi:cli/run's run ("wasi:cli/run@0.2.3#run", "wasi:cli/run#run"). */
WP_API bool wp_component_is_command(const char *method);

/* ---- A standalone process, driven on the calling thread ------------------------------------ */

/* (wippy run's terminal host is a runtime host now, see wp_runtime_run; this driver is for a
 * process without a runtime.) Drives p to completion on the calling thread: steps it in slices
 * of WP_REDUCTIONS, and when it is pending waits for its descriptors or deadline with poll(),
 * then wakes it. A standalone process has no mailbox: one that waits only on its mailbox is
 * cancelled with a WP_ERR_UNAVAILABLE error result. With
 * max_execution_ms (not 0) a process still running after that long is cancelled with a
 * WP_ERR_TIMEOUT error result. The terminal's stdin/stdout/stderr are the process's when its
 * configuration says so (wp_wasi_config's defaults). Returns when p is done; read its result
 * with wp_proc_result(). err must not be NULL. Fails: WP_ERR_UNAVAILABLE (poll failed), and
 * then p is cancelled with that error as its result. */
WP_API wp_status wp_terminal_run(wp_proc *p, uint64_t max_execution_ms, wp_err *err);

/* ---- The runtime: hosts, PIDs, spawning ---------------------------------------------------- */

typedef struct wp_runtime wp_runtime;
typedef struct wp_host wp_host;

/* A process identifier: its host (top 16 bits, the host's index + 1) and the host's serial
 * number (low 48 bits). 0 is no process. Rendered "{ns:host|0x00004}" by wp_pid_format. */
typedef uint64_t wp_pid;
#define WP_PID_NONE 0u
#define WP_PID_TEXT_MAX 256u /* room for any rendered PID, NUL included */

/* What a spawn by entry ID runs: filled by the runtime's resolver. */
typedef struct wp_spawn_target {
    const wp_behavior *behavior;
    const void *config;        /* the behaviour's config; must stay valid until the runtime is
                                  freed (the resolver keeps it) */
    uint64_t max_execution_ms; /* 0: none; else the process is cancelled with WP_ERR_TIMEOUT */
} wp_spawn_target;

/* Resolves an entry ID ("ns:name") to what it runs. Installed by the layer that knows entries
 * (the registry); the runtime knows none. Called from any thread, possibly from several at
 * once: it must synchronise itself. Fails: WP_ERR_NOT_FOUND (no such entry), WP_ERR_INVALID
 * (not a process kind), as preparing the entry does (err says why). */
typedef wp_status (*wp_resolve_fn)(void *ud, const char *entry_id, wp_spawn_target *out,
                                   wp_err *err);

typedef struct wp_runtime_config {
    wp_resolve_fn resolve; /* NULL: spawning by entry ID fails with WP_ERR_UNSUPPORTED */
    void *resolve_ud;
    uint64_t shutdown_timeout_ms; /* wp_runtime_shutdown's grace period; 0: 10,000 */
    /* SIGINT and SIGTERM start wp_runtime_shutdown on the I/O loop; a second one exits the
     * host program at once with status 1 (after flushing stdio). */
    bool handle_signals;
    /* With handle_signals: called on the I/O loop thread at the first SIGINT/SIGTERM. True:
     * the hook handled it (e.g. a supervisor stops its services in order), so nothing is
     * cancelled; false (or NULL): the shutdown above. A second signal still exits at once. */
    bool (*signal_hook)(void *ud, int signum);
    void *signal_ud;
} wp_runtime_config;

/* Creates a runtime and starts its I/O loop thread. cfg may be NULL (defaults). *out owned by
 * the caller: wp_runtime_free(). Fails: WP_ERR_UNAVAILABLE (the loop or its thread could not
 * start; err says why), WP_ERR_NOMEM. */
WP_API wp_status wp_runtime_new(const wp_runtime_config *cfg, wp_runtime **out, wp_err *err);

/* Stops everything: terminates the processes still alive (no grace period: call
 * wp_runtime_shutdown() first for one), stops the workers and the loop, frees it all.
 * Accepts NULL. Not from inside a step. */
WP_API void wp_runtime_free(wp_runtime *rt);

typedef struct wp_host_config {
    uint32_t workers;          /* worker threads; 0: the number of online CPUs */
    uint32_t queue_size;       /* global run queue capacity hint (process.host queue_size) */
    uint32_t local_queue_size; /* per-worker run queue capacity (local_queue_size) */
    /* A terminal.host: one worker, one process at a time (wp_runtime_run). */
    bool terminal;
    /* Processes alive on the host at once (host.max_processes); a spawn past it fails with
     * WP_ERR_UNAVAILABLE. 0: no limit. */
    uint32_t max_processes;
    /* Memory the host's processes may reserve together (host.max_memory_mb; see
     * wp_behavior.reserve); a spawn that would pass it fails with WP_ERR_NOMEM. 0: no limit. */
    uint64_t max_memory_bytes;
} wp_host_config;

/* Adds a host named id ("ns:name", copied; at most 200 bytes) and starts its workers.
 * *out (may be NULL) is borrowed from rt. Fails: WP_ERR_ALREADY_EXISTS (a host of that name),
 * WP_ERR_INVALID (id too long or empty; more than 65,535 hosts), WP_ERR_UNAVAILABLE (a thread
 * could not start), WP_ERR_NOMEM. */
WP_API wp_status wp_runtime_add_host(wp_runtime *rt, const char *id, const wp_host_config *cfg,
                                     wp_host **out, wp_err *err);

/* The host named id, or NULL. Borrowed from rt. */
WP_API wp_host *wp_runtime_host(const wp_runtime *rt, const char *id);

#define WP_SPAWN_LINK 1u    /* link the parent and the child */
#define WP_SPAWN_MONITOR 2u /* the parent gets the child's EXIT event */

/* Spawns a process of entry entry_id (through the resolver) on host host_id with args
 * (borrowed: Init copies what it keeps). parent is the spawning process (WP_PID_NONE for none:
 * then flags must be 0); the link or monitor exists before the child first runs, so its exit
 * is never missed. *out: the child's PID. Fails: WP_ERR_NOT_FOUND (no such host or entry),
 * WP_ERR_INVALID (flags without a live parent; a terminal host, which runs only
 * wp_runtime_run's process), the resolver's and Init's errors, WP_ERR_UNAVAILABLE (the runtime
 * is shutting down; the host has max_processes alive), WP_ERR_NOMEM (also: the host's
 * max_memory_bytes cannot hold the process's reservation; err names the host and the sizes). */
WP_API wp_status wp_spawn(wp_runtime *rt, wp_pid parent, const char *entry_id,
                          const char *host_id, const wp_value *args, uint32_t nargs,
                          uint32_t flags, wp_pid *out, wp_err *err);

/* The same with the target given directly (no resolver). */
WP_API wp_status wp_spawn_target_on(wp_runtime *rt, wp_pid parent, wp_host *host,
                                    const wp_spawn_target *t, const wp_value *args,
                                    uint32_t nargs, uint32_t flags, wp_pid *out, wp_err *err);

/* Runs one process of target t on terminal host h (or any host) and waits, on the calling
 * thread, until it exits; *result gets its result (owned by the caller): the return value, or
 * an error value. Fails (no process ran): as wp_spawn_target_on, WP_ERR_INVALID (the terminal
 * host already runs a process). */
WP_API wp_status wp_runtime_run(wp_runtime *rt, wp_host *h, const wp_spawn_target *t,
                                const wp_value *args, uint32_t nargs, wp_value *result,
                                wp_err *err);

/* Graceful stop: no new spawns; every process is cancelled (wp_cancel with reason
 * "shutdown"); waits up to timeout_ms (0: the configured shutdown timeout) for them to exit,
 * then terminates the rest and waits for their exits. Blocks the calling thread (not a worker).
 * Returns how many processes had to be terminated. */
WP_API uint32_t wp_runtime_shutdown(wp_runtime *rt, uint64_t timeout_ms);

/* Processes alive now (spawned, not yet exited). */
WP_API uint32_t wp_runtime_count(const wp_runtime *rt);

/* ---- Processes of a runtime ---------------------------------------------------------------- */

/* The process whose step runs on this thread, or NULL outside any step. */
WP_API wp_proc *wp_proc_current(void);

/* Its PID (WP_PID_NONE for a standalone process), runtime (NULL standalone) and host. */
WP_API wp_pid wp_proc_pid(const wp_proc *p);
WP_API wp_runtime *wp_proc_runtime(const wp_proc *p);
WP_API wp_host *wp_proc_host(const wp_proc *p);

/* True for the process of a terminal host (wp_runtime_run): it owns the terminal's stdio. */
WP_API bool wp_proc_on_terminal(const wp_proc *p);

/* Processes alive on h now, and the bytes they reserve (wp_host_config's limits). */
WP_API uint32_t wp_host_count(const wp_host *h);
WP_API uint64_t wp_host_reserved(const wp_host *h);

/* The host's ID ("ns:name"), borrowed from the runtime. */
WP_API const char *wp_host_id(const wp_host *h);

/* Writes pid as "{ns:host|0x00004}" (NUL-terminated, truncated to cap). Returns the length it
 * needs, as snprintf does. An unknown host renders as "{?|0x...}". */
WP_API size_t wp_pid_format(const wp_runtime *rt, wp_pid pid, char *buf, size_t cap);

/* Parses a rendered PID. Fails: WP_ERR_INVALID (not a PID, or no such host). */
WP_API wp_status wp_pid_parse(const wp_runtime *rt, const char *text, wp_pid *out, wp_err *err);

/* A destination as the process module takes it: a rendered PID, else a registered name.
 * Fails: WP_ERR_NOT_FOUND (no such name), WP_ERR_INVALID (a malformed PID). */
WP_API wp_status wp_resolve_dest(const wp_runtime *rt, const char *dest, wp_pid *out,
                                 wp_err *err);

/* True while the process is alive (spawned and its exit not yet delivered). */
WP_API bool wp_pid_alive(const wp_runtime *rt, wp_pid pid);

/* ---- Messages and events ----------------------------------------------------------------- */

typedef enum wp_msg_kind {
    WP_MSG_MESSAGE = 0, /* wp_send: topic and payload */
    WP_MSG_EXIT,        /* a monitored process exited: value is its result */
    WP_MSG_LINK_DOWN,   /* a linked process failed (trap_links): value is its error result */
    WP_MSG_CANCEL,      /* wp_cancel: value is the reason (string) or nil */
} wp_msg_kind;

/* One message or event in a mailbox. Owned by the receiver once taken (wp_msg_free). */
typedef struct wp_msg {
    struct wp_msg *next; /* the mailbox's link; NULL once taken */
    wp_msg_kind kind;
    wp_pid from;       /* the sender (WP_PID_NONE from outside any process) or the exited one */
    const char *topic; /* WP_MSG_MESSAGE: its topic, NUL-terminated, owned by the msg; else "" */
    /* MESSAGE: the payload. EXIT and LINK_DOWN: the exited process's result: an error value
     * (WP_VERROR) when it failed (trap, error, terminated, cancelled), else its return value.
     * CANCEL: the reason. Owned by the msg; a receiver may move it out (leave nil behind). */
    wp_value value;
} wp_msg;

/* Frees a message and what it owns. Accepts NULL. */
WP_API void wp_msg_free(wp_msg *m);

/* Sends payload (moved into the message: the caller's becomes nil, also on failure) under
 * topic (copied) from 'from' to 'to'. Delivery is FIFO per sender. Sending to a process that
 * has exited, or whose behaviour has no mailbox, drops the message and succeeds (fire and
 * forget). Never waits. Fails: WP_ERR_INVALID (to is no PID of this runtime's hosts; a topic
 * starting with '@'), WP_ERR_NOMEM. */
WP_API wp_status wp_send(wp_runtime *rt, wp_pid from, wp_pid to, const char *topic,
                         wp_value *payload, wp_err *err);

/* Takes the oldest message or event of the current process's mailbox: true and *out (owned
 * by the caller), or false if the mailbox is empty. Only the process itself, in its step. */
WP_API bool wp_proc_recv(wp_proc *self, wp_msg **out);

/* Messages waiting in p's mailbox now. */
WP_API size_t wp_proc_pending(wp_proc *p);

/* ---- Control, links, monitors, names ------------------------------------------------------ */

/* Ends process 'to' at once: it is not stepped again, its result is a WP_ERR_CANCELED error
 * "terminated" (an abnormal exit: links fire). Asynchronous: the exit follows soon on a
 * worker. Fails: WP_ERR_NOT_FOUND (not alive). */
WP_API wp_status wp_terminate(wp_runtime *rt, wp_pid from, wp_pid to, wp_err *err);

/* Asks process 'to' to stop: a mailbox behaviour gets a WP_MSG_CANCEL event with reason
 * (copied; NULL: nil) and decides; any other ends as by wp_terminate but with the reason as its
 * error's message. Fails: WP_ERR_NOT_FOUND (not alive). */
WP_API wp_status wp_cancel(wp_runtime *rt, wp_pid from, wp_pid to, const char *reason,
                           wp_err *err);

/* self monitors target: when target exits, self gets a WP_MSG_EXIT event (once per monitor
 * call; unmonitor removes one). Fails: WP_ERR_NOT_FOUND (target or self not alive),
 * WP_ERR_INVALID (self == target), WP_ERR_NOMEM. Unmonitor of nothing succeeds. */
WP_API wp_status wp_monitor(wp_runtime *rt, wp_pid self, wp_pid target, wp_err *err);
WP_API wp_status wp_unmonitor(wp_runtime *rt, wp_pid self, wp_pid target, wp_err *err);

/* Links self and target both ways (idempotent). When one exits abnormally (an error result),
 * the other gets a WP_MSG_LINK_DOWN event if it traps links, else it is terminated with an
 * error naming the linked process. A normal exit just removes the link. Fails: as monitor. */
WP_API wp_status wp_link(wp_runtime *rt, wp_pid self, wp_pid target, wp_err *err);
WP_API wp_status wp_unlink(wp_runtime *rt, wp_pid self, wp_pid target, wp_err *err);

/* Process options (process.get_options/set_options), for the process itself. */
WP_API void wp_proc_set_trap_links(wp_proc *self, bool trap);
WP_API bool wp_proc_trap_links(const wp_proc *self);

/* Names (process.registry, LOCAL scope). register: name (copied, 1..255 bytes) now means pid;
 * the same name for the same pid again succeeds. Released when the process exits.
 * Fails: WP_ERR_ALREADY_EXISTS (held by another process), WP_ERR_NOT_FOUND (pid not alive),
 * WP_ERR_INVALID (empty or too long), WP_ERR_NOMEM. */
WP_API wp_status wp_name_register(wp_runtime *rt, const char *name, wp_pid pid, wp_err *err);
/* Fails: WP_ERR_NOT_FOUND ("name not registered"). */
WP_API wp_status wp_name_lookup(const wp_runtime *rt, const char *name, wp_pid *out,
                                wp_err *err);
/* Fails: WP_ERR_NOT_FOUND. */
WP_API wp_status wp_name_unregister(wp_runtime *rt, const char *name, wp_err *err);

/* ---- Supervision: services kept alive under a restart policy (supervisor.c) --------------- */

/* A service's lifecycle state (docs/supervision.md has the transitions). */
typedef enum wp_svc_state {
    WP_SVC_UNKNOWN = 0, /* registered, not started */
    WP_SVC_STARTING,    /* waiting for the services it requires, then spawned */
    WP_SVC_RUNNING,     /* its process is alive */
    WP_SVC_STOPPING,    /* cancelled at shutdown; terminated after stop_timeout */
    WP_SVC_STOPPED,     /* ended by the shutdown */
    WP_SVC_FAILED,      /* ended with an error; a restart may be due */
    WP_SVC_EXITED,      /* returned, was terminated or cancelled, or cannot start: no restart */
} wp_svc_state;

/* "Unknown", "Starting", ... Static. */
WP_API const char *wp_svc_state_name(wp_svc_state s);

typedef struct wp_restart_policy {
    uint64_t initial_delay_ms; /* the first retry's delay */
    uint64_t max_delay_ms;     /* the cap (0: none) */
    double backoff_factor;     /* the delay's multiplier per retry (< 1 is taken as 1) */
    double jitter;             /* 0.1: the delay is scaled by a random factor in [0.9, 1.1) */
    uint32_t max_attempts;     /* retries after consecutive failures; 0: no limit */
} wp_restart_policy;

/* The delay before retry 'attempt' (1 for the first): min(initial * factor^(attempt-1), max),
 * scaled by 1 + jitter * (2u - 1) for u in [0, 1) (the caller's random number). */
WP_API uint64_t wp_restart_delay_ms(const wp_restart_policy *p, uint32_t attempt, double u);

/* One service. Everything is borrowed and must outlive the supervisor process. */
typedef struct wp_service {
    const char *id;      /* the service's name in logs ("ns:name") */
    const char *process; /* the entry it spawns (through the runtime's resolver) */
    const char *host;    /* the host it spawns on */
    const wp_value *args;
    uint32_t nargs;
    bool auto_start;              /* started at once; else only when a started one requires it */
    uint64_t start_timeout_ms;    /* longest wait in Starting for what it requires */
    uint64_t stop_timeout_ms;     /* from CANCEL to terminate at shutdown */
    uint64_t stable_threshold_ms; /* running this long resets the failure count */
    wp_restart_policy restart;
    const uint32_t *requires; /* indices of the services that must be Running first */
    uint32_t nrequires;
} wp_service;

/* Called on a state change (from != to) or a note about a service (from == to: a restart
 * counter reset, a terminate after stop_timeout), reason one line. From the supervisor's
 * worker thread. */
typedef void (*wp_svc_log_fn)(void *ud, const char *id, wp_svc_state from, wp_svc_state to,
                              const char *reason);

typedef struct wp_supervisor_config {
    const wp_service *services; /* borrowed, as the whole config */
    uint32_t nservices;
    wp_svc_log_fn log; /* NULL: silent */
    void *log_ud;
} wp_supervisor_config;

/* The name the supervisor process registers (wp_name_register) at its first step, so a signal
 * hook can find it and cancel it. */
#define WP_SUPERVISOR_NAME "wippy.supervisor"

/* The supervisor behaviour; config is a wp_supervisor_config. It starts the services in
 * dependency order (a service once all it requires is Running), spawning each process
 * monitored, restarts failed ones after the policy's delay, gives up after max_attempts. A
 * CANCEL event stops them in reverse order (a service once nothing that requires it runs):
 * CANCEL to each process, wp_terminate after its stop_timeout. It returns nil when none is left
 * running. It must run on a host that is not a service's only worker. */
WP_API const wp_behavior *wp_supervisor_behavior(void);

/* ---- Function calls and their pools (pool.c; docs/funcs.md) --------------------------------- */

/* A function entry's pool (pool: in its YAML). How many calls of it run at once, and how many
 * may wait for a turn. */
typedef enum wp_pool_type {
    WP_POOL_INLINE = 0, /* no limit; a process.wasm target runs in the caller's own step */
    WP_POOL_LAZY,       /* at most max_size at once; the others wait, unbounded */
    WP_POOL_STATIC,     /* at most size at once; at most buffer wait; past that: an error */
    WP_POOL_ADAPTIVE,   /* as lazy (the scaling is the hosts' workers) */
} wp_pool_type;

typedef struct wp_pool_config {
    wp_pool_type type;
    uint32_t size;     /* static: calls at once */
    uint32_t buffer;   /* static: calls waiting at most */
    uint32_t max_size; /* lazy, adaptive: calls at once */
} wp_pool_config;

typedef enum wp_transport {
    WP_TRANSPORT_PAYLOAD = 0, /* arguments and result as values */
    WP_TRANSPORT_WASI_HTTP,   /* accepted at load; a call fails with WP_ERR_UNSUPPORTED */
} wp_transport;

/* What a function entry runs, and its pool: filled by the function resolver. */
typedef struct wp_func_target {
    wp_spawn_target target; /* as for spawns; its config outlives the runtime */
    wp_pool_config pool;
    wp_transport transport;
} wp_func_target;

/* Resolves a function entry ID. Called from any thread, possibly at once: it synchronises
 * itself. Fails: WP_ERR_NOT_FOUND (no such entry), WP_ERR_INVALID (not a function kind), as
 * preparing the entry does. */
typedef wp_status (*wp_func_resolve_fn)(void *ud, const char *id, wp_func_target *out,
                                        wp_err *err);

typedef struct wp_funcs wp_funcs; /* the function calls of one runtime: its pools */
typedef struct wp_pool wp_pool;   /* one function entry's pool */

/* Makes rt able to call functions (wp_runtime_funcs(rt) returns it from now on). *out owned
 * by the caller: wp_funcs_free() after wp_runtime_free() (calls still running use it).
 * Fails: WP_ERR_ALREADY_EXISTS (rt has one), WP_ERR_NOMEM. */
WP_API wp_status wp_funcs_new(wp_runtime *rt, wp_func_resolve_fn resolve, void *ud,
                              wp_funcs **out, wp_err *err);
/* Accepts NULL. */
WP_API void wp_funcs_free(wp_funcs *f);
/* rt's, or NULL. */
WP_API wp_funcs *wp_runtime_funcs(const wp_runtime *rt);

/* The pool of function 'target' ("ns:name"), resolved once and kept: *out lives as long as f.
 * Thread-safe. Fails: WP_ERR_INVALID (an empty target, no namespace, no name; not a
 * function), WP_ERR_NOT_FOUND (no such entry), the resolver's errors. */
WP_API wp_status wp_funcs_lookup(wp_funcs *f, const char *target, wp_pool **out, wp_err *err);

/* The entry ID and target of a pool, borrowed from it. */
WP_API const char *wp_pool_id(const wp_pool *p);
WP_API const wp_func_target *wp_pool_target(const wp_pool *p);

/* Calls in the pool now: running and waiting for a turn. */
WP_API void wp_pool_counts(wp_pool *p, uint32_t *running, uint32_t *waiting);

/* Starts one call: a process that runs the function with args (borrowed: copied) once the pool
 * gives it a turn, every call with a fresh instance. Its result (or an error value) is its
 * exit value: with caller (a live process, else WP_PID_NONE) the caller monitors it and gets
 * its EXIT event. It runs on the caller's host, or on the first process host when the caller
 * has none or runs on a terminal. timeout_ms (0: none) ends it with WP_ERR_TIMEOUT, time in the
 * queue included; the entry's max_execution_ms applies as well. *out: its PID (wp_terminate
 * cancels it, waiting or running). Fails: WP_ERR_UNSUPPORTED (transport wasi-http),
 * WP_ERR_UNAVAILABLE (a static pool with its buffer full; no process host), the spawn's
 * errors. */
WP_API wp_status wp_pool_call(wp_pool *p, wp_pid caller, const wp_value *args, uint32_t nargs,
                              uint64_t timeout_ms, wp_pid *out, wp_err *err);

/* The same for a call that began in the caller's step: state is the target behaviour's state
 * after Init and at least one step that did not finish, pending true if that step returned
 * WP_STEP_PENDING (taken over in every case: closed on failure). It takes no turn of the
 * pool (an inline call). */
WP_API wp_status wp_pool_adopt(wp_pool *p, wp_pid caller, void *state, bool pending,
                               uint64_t timeout_ms, wp_pid *out, wp_err *err);

/* The host import of core guests, wippy:runtime/funcs@0.1.0 (funcs_host.c):
 *   call-string(target: string, input: string) -> result<string, string>
 *   call-bytes(target: string, input: list<u8>) -> result<list<u8>, string>
 * imported with the canonical ABI's lowering, (i32 i32 i32 i32 i32) -> () with the result at
 * the last pointer; results are placed through the guest's cabi_realloc. process.wasm links it
 * for any module that imports it. True for an import of that module (any version). */
WP_API bool wp_funcs_is_import(const wp_import_desc *d);

/* The same interface for components, "wippy:runtime/funcs@0.1.0" with call-string and
 * call-bytes (values lifted by the component layer); ctx unused (NULL). A component process
 * adds it to its linker (wp_comp_linker_add) when the component imports it. Static. */
WP_API const wp_comp_host_iface *wp_funcs_host_iface(void);

#endif
