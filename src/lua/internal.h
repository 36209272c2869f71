/* internal.h: shared inside src/lua only: a Lua process, its tasks, channels and timers. */
#ifndef WP_LUA_INTERNAL_H
#define WP_LUA_INTERNAL_H

#include <lauxlib.h>
#include <lua.h>

#include "wippy/config.h"
#include "wippy/lua.h"

#define WP_LUA_NO_DEADLINE UINT64_MAX
#define WP_LUA_UNBOUNDED UINT32_MAX /* a channel capacity: sends never wait */

typedef struct wp_lua_proc wp_lua_proc;
typedef struct wp_lua_task wp_lua_task;
typedef struct wp_lua_chan wp_lua_chan;
typedef struct wp_lua_waiter wp_lua_waiter;
typedef struct wp_lua_timer wp_lua_timer;

/* ---- Timers --------------------------------------------------------------------------------- */

typedef enum wp_lua_timer_action {
    WP_LUA_TIMER_WAKE, /* wakes 'task' from its wait with case 0: the timeout */
    WP_LUA_TIMER_SEND, /* sends the time to 'chan' once (time.after, time.timer) */
    WP_LUA_TIMER_TICK, /* sends the time to 'chan' every 'period' (time.ticker) */
} wp_lua_timer_action;

/* A timer is embedded in the object it serves (a task, a Timer userdata) and sits on its
 * process's heap while armed; the object is anchored in the registry while it does, so the
 * heap never points to freed memory. */
struct wp_lua_timer {
    uint64_t when;   /* monotonic ns (wp_wasi_now()) */
    uint64_t period; /* TICK: ns between sends */
    uint32_t slot;   /* index in the heap; UINT32_MAX when not armed */
    uint8_t action;  /* wp_lua_timer_action */
    wp_lua_task *task;
    wp_lua_chan *chan;
};

/* ---- Channels ------------------------------------------------------------------------------- */

/* One case of a blocked channel operation: a plain send or receive has one, a select one per
 * case. Waiters live in a userdata on the blocked function's frame and are linked on their
 * channel's queue until the task wakes. A waiting send's value is held in the process's
 * 'held' table under the waiter's address. */
struct wp_lua_waiter {
    wp_lua_waiter *prev;
    wp_lua_waiter *next;
    wp_lua_task *task;
    wp_lua_chan *chan;
    int index; /* 1-based case index, what the woken task is told */
    bool send;
    bool linked;
};

typedef struct wp_lua_waitq {
    wp_lua_waiter *head;
    wp_lua_waiter *tail;
} wp_lua_waitq;

typedef enum wp_lua_source {
    WP_LUA_SRC_NONE,   /* a plain channel */
    WP_LUA_SRC_MAILBOX /* inbox, events or a topic: filled from the process's mailbox */
} wp_lua_source;

/* A channel: values in a ring over slots 1..size of its buffer table (in the registry under
 * buf_ref, so C code reaches it without the userdata), waiting receivers and senders. */
struct wp_lua_chan {
    uint32_t cap; /* 0: unbuffered; WP_LUA_UNBOUNDED: never full */
    uint32_t head;
    uint32_t count;
    uint32_t size;
    bool closed;
    uint8_t source; /* wp_lua_source */
    int buf_ref;
    wp_lua_waitq recvq;
    wp_lua_waitq sendq;
};

/* ---- Tasks ---------------------------------------------------------------------------------- */

/* A coroutine the process schedules: the method's (main) or one from coroutine.spawn. A
 * userdata whose user value is its thread, anchored in the registry (ref) until it ends. It
 * is in exactly one place: running, on the run queue (queued), blocked (waiters or timer
 * armed or waiting on an fd), or done. */
struct wp_lua_task {
    wp_lua_proc *proc;
    lua_State *co;
    wp_lua_task *next; /* run queue */
    int ref;
    int nresume; /* values on co's stack for its next resume */
    bool queued;
    bool main;
    bool blocked;
    bool done;
    wp_lua_waiter *waiters; /* the blocked operation's cases, nwaiters of them */
    uint32_t nwaiters;
    wp_lua_timer timer; /* sleep and timeouts */
};

/* ---- The process ---------------------------------------------------------------------------- */

#define WP_LUA_MAX_EXECS 64u /* process.exec calls waiting at once in one process */

/* A process.exec waiting for its child's EXIT. */
typedef struct wp_lua_exec {
    wp_pid pid;
    wp_lua_task *task;
} wp_lua_exec;

struct wp_lua_proc {
    lua_State *L;
    wp_heap heap; /* the state's allocations, with the entry's memory limit */
    char *id;
    uint32_t modules;
    const wp_lua_hooks *hooks;
    bool terminal;
    bool function; /* nothing to do with mailboxes */
    wp_lua_task *main;
    wp_lua_task *current; /* the task being resumed now, or NULL */
    wp_lua_task *ready_head;
    wp_lua_task *ready_tail;
    wp_lua_timer **timers; /* min-heap on 'when' */
    uint32_t ntimers;
    uint32_t timers_cap;
    int held_ref;      /* table: waiter address -> value it sends */
    int armed_ref;     /* table: timer address -> the userdata holding it, while armed */
    bool sys_yield;    /* the coming yield is ours (blocked or preempted), not the script's */
    int no_block;      /* > 0: inside a coroutine resumed where our yields could not pass */
    long slice;        /* instructions left in this step */
    int args_ref;      /* table: Init's arguments (io.args) */
    int wait_fd;       /* io: the descriptor a task waits on, or -1 */
    uint32_t wait_events;
    wp_lua_task *fd_task;
    bool done;
    wp_value result; /* set when done */
    /* The runtime side, known from the first step on (wp_proc_current()); rt is NULL for a
     * standalone process (wp_proc_new + wp_terminal_run): no PID, no mailbox. */
    wp_proc *self;
    wp_runtime *rt;
    wp_pid pid;
    bool started;
    bool main_ran; /* the method has had its first slice */
    wp_msg *cur_msg; /* the message being sorted; freed by close if sorting raised */
    int inbox_ref;   /* channels: the inbox and the events (LUA_NOREF until used) */
    int events_ref;
    int topics_ref;  /* table: topic -> {channel, message mode} */
    char last_dest[WP_PID_TEXT_MAX]; /* the last PID text sent to, and its PID */
    size_t last_dest_len;
    wp_pid last_pid;
    wp_lua_exec execs[WP_LUA_MAX_EXECS];
    uint32_t nexecs;
    wp_wasi_waitfd waitfd; /* what wait() lends the host */
};

/* Ends the process with an error result of kind and msg. Never raises. */
void wp__lua_proc_fail(wp_lua_proc *p, wp_status kind, const char *msg);

/* The process a state (or any of its threads) belongs to. */
wp_lua_proc *wp__lua_proc(lua_State *L);

/* ---- Scheduling (sched.c) ------------------------------------------------------------------- */

/* The running task; raises if there is none (the call is not from a process's coroutine). */
wp_lua_task *wp__lua_task(lua_State *L);

/* Creates a task running the function at the top of L's stack with nargs arguments below it
 * (all popped) and queues it. Raises on memory errors. */
wp_lua_task *wp__lua_task_spawn(lua_State *L, int nargs, bool main);

/* Wakes a blocked task: unlinks its waiters and timer, passes it (index, value, ok) where
 * value is the top of L's stack (popped) and queues it. index 0 means the timeout fired. */
void wp__lua_task_wake(lua_State *L, wp_lua_task *t, int index, bool ok);

/* Blocks the running task in the operation now set up (waiters linked, timer armed): marks
 * the yield as ours and yields; k receives (index, value, ok) on the stack when woken. Raises
 * when L cannot yield (inside a metamethod or a C callback). */
int wp__lua_block(lua_State *L, wp_lua_task *t, lua_KContext ctx, lua_KFunction k);

/* Raises unless L can yield: call before setting up anything a block would need. */
void wp__lua_check_yieldable(lua_State *L, const char *what);

/* Puts t at the end of p's run queue, unless it is there already or done. */
void wp__lua_enqueue(wp_lua_proc *p, wp_lua_task *t);

/* Takes the next task of the run queue, or NULL. */
wp_lua_task *wp__lua_dequeue(wp_lua_proc *p);

/* The earliest armed timer's time, or WP_LUA_NO_DEADLINE. */
uint64_t wp__lua_next_deadline(const wp_lua_proc *p);

/* Fires every timer due at 'now' (wakes sleepers, sends to timer channels). Raises on memory
 * errors: run it protected. */
void wp__lua_fire_timers(lua_State *L, uint64_t now);

/* Timers: arm (when in monotonic ns) and disarm; 'anchor' is the stack index of the object
 * holding the timer (kept alive while armed), 0 for a task's own timer. */
void wp__lua_timer_arm(lua_State *L, wp_lua_timer *tm, uint64_t when, int anchor);
void wp__lua_timer_disarm(lua_State *L, wp_lua_timer *tm);

/* coroutine.resume/wrap/spawn that let our yields through user coroutines (coroutine.c). */
void wp__lua_open_coroutine(lua_State *L);

/* ---- Channels (channel.c) ------------------------------------------------------------------- */

int wp__lua_open_channel(lua_State *L);
/* Pushes a new channel of capacity cap and returns it. Raises on memory errors. */
wp_lua_chan *wp__lua_chan_new(lua_State *L, uint32_t cap);
wp_lua_chan *wp__lua_chan_check(lua_State *L, int idx);
/* Sends the value at the top of L (popped) without blocking: to a waiting receiver, else into
 * the buffer. False (value still popped) when it would block or the channel is closed. */
bool wp__lua_chan_offer(lua_State *L, wp_lua_chan *ch);
/* channel.select over the case table at 'cases': returns 1 with the result pushed, or blocks;
 * 'dflt' returns {default = true} at once when no case is ready; a deadline (not
 * WP_LUA_NO_DEADLINE) ends the wait with a nil result. */
int wp__lua_select(lua_State *L, int cases, bool dflt, uint64_t deadline);
/* The same as a Lua C function: (cases, deadline as an integer, -1 for none). */
int wp__lua_select_fn(lua_State *L);
/* Moves what waits in the process's mailbox into its inbox, events and topic channels; true
 * if anything arrived (mailbox.c). Raises on memory errors. */
bool wp__lua_mailbox_drain(lua_State *L);
/* Unlinks a waiter from its channel's queue (and drops a held send value). */
void wp__lua_waiter_unlink(lua_State *L, wp_lua_waiter *w);

/* ---- Modules -------------------------------------------------------------------------------- */

int wp__lua_open_errors(lua_State *L);
int wp__lua_open_time(lua_State *L);
int wp__lua_open_io(lua_State *L);
int wp__lua_open_env(lua_State *L);
int wp__lua_open_process(lua_State *L);
int wp__lua_open_funcs(lua_State *L);
/* The EXIT of a call some funcs.call or future waits for: handled (true), else false. Raises
 * on memory errors (funcs.c). */
bool wp__lua_funcs_exit(lua_State *L, const wp_msg *m);
void wp__lua_open_print(lua_State *L);
/* Leaves the terminal's raw mode if a process left it on. */
void wp__lua_io_reset(void);

/* Error objects (errors.c). Push a new error of kind (WP_OK: UNKNOWN) with message msg and
 * the error at stack index cause (0: none). Raise on memory errors. */
void wp__lua_error_push(lua_State *L, wp_status kind, const char *msg, size_t len, int cause);
/* Pushes nil and an error from err: the (nil, err) pair Lua functions return. Returns 2. */
int wp__lua_fail(lua_State *L, const wp_err *err);
int wp__lua_failf(lua_State *L, wp_status kind, const char *fmt, ...);
/* The error object at idx, or NULL. Never raises. */
typedef struct wp_lua_error wp_lua_error;
wp_lua_error *wp__lua_error_test(lua_State *L, int idx);
wp_status wp__lua_error_kind(const wp_lua_error *e);
/* Pushes the error object's own message and its cause (or nil): two values. Never raises. */
void wp__lua_error_parts(lua_State *L, int idx);

/* Durations (time.c): a number (nanoseconds), a string ("1h30m", "500ms") or a Duration.
 * Raises an argument error for anything else or a bad string. */
int64_t wp__lua_check_duration(lua_State *L, int idx);
/* Parses a Go-style duration; false when s is not one. */
bool wp__lua_parse_duration(const char *s, int64_t *out);
/* Pushes a Time for the current wall clock. */
void wp__lua_push_now(lua_State *L);

#endif
