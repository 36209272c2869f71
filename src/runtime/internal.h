/* internal.h: shared inside src/runtime only: the process record, hosts, the runtime, the
 * I/O loop's interface. */
#ifndef WP_RUNTIME_INTERNAL_H
#define WP_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "wippy/runtime.h"

/* Where a spawned process is. It changes only under the process's lock. */
typedef enum pstate {
    PS_NEW = 0,  /* being spawned: not yet queued */
    PS_RUNNABLE, /* on its host's run queue */
    PS_RUNNING,  /* a worker is stepping it */
    PS_WAITING,  /* parked until its wait ends (timer, descriptor, mailbox) or it is killed */
    PS_EXITING,  /* done: its exit is being delivered; nothing reaches it any more */
} pstate;

/* A small growable set of PIDs (links, monitors). Duplicates allowed for monitors. */
typedef struct pid_set {
    wp_pid *items;
    uint32_t n;
    uint32_t cap;
} pid_set;

/* Filled by the exit of a process run by wp_runtime_run. */
typedef struct exit_waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    wp_value result;
} exit_waiter;

struct poll_req;

struct wp_proc {
    const wp_behavior *b;
    void *state;
    bool done;
    wp_value result; /* once done */

    /* ---- Spawned processes only (all zero for wp_proc_new's) ---- */
    wp_runtime *rt;
    wp_host *host;
    wp_pid pid;
    atomic_uint refs;     /* the table's, the queue's or worker's, lookups in progress */
    wp_proc *hash_next;   /* the PID table's chain (under its shard's lock) */
    wp_proc *run_next;    /* the run queue (under the host's lock) */
    uint64_t limit;       /* max_execution_ms deadline (wp_wasi_now ns), or NO_DEADLINE */
    uint64_t limit_ms;    /* as configured, for the message */
    uint64_t reserved;    /* bytes charged to its host's max_memory_bytes (limits.c) */
    exit_waiter *waiter;  /* wp_runtime_run's, or NULL */

    /* Everything below changes under 'lock'. */
    pthread_mutex_t lock;
    pstate st;
    bool parked;          /* it went pending: call wake before the next step */
    bool waits_mailbox;   /* the current wait ends with a message */
    uint32_t gen;         /* counts parks: a timer or poll of an older park is stale */
    wp_status kill;       /* not WP_OK: end it with this error kind and kill_msg */
    char *kill_msg;
    wp_msg *mb_head;      /* the mailbox, oldest first */
    wp_msg *mb_tail;
    size_t mb_len;
    pid_set links;
    pid_set monitors;     /* processes to send EXIT to */
    uint32_t nnames;      /* names registered to it */
    bool trap_links;
    struct poll_req *poll; /* its descriptor wait on the I/O loop, or NULL */

    /* The timer heap's (under the loop's timer lock). */
    uint64_t timer_at;    /* deadline, ns */
    uint32_t timer_gen;   /* gen of the park that set it */
    size_t timer_idx;     /* position in the heap + 1; 0: not in it */
};

/* ---- Hosts ---------------------------------------------------------------------------------- */

struct wp_host {
    wp_runtime *rt;
    char *id;
    uint16_t index; /* in rt->hosts; PIDs carry index + 1 */
    bool terminal;
    atomic_uint_fast64_t serial;
    pthread_mutex_t lock; /* the run queue and the fields below */
    pthread_cond_t cond;
    wp_proc *q_head;
    wp_proc *q_tail;
    atomic_size_t q_len; /* read without the lock by spinning workers */
    uint32_t nidle;      /* workers waiting on cond */
    bool stopping;
    bool busy; /* terminal: a process runs */
    uint32_t nworkers;
    pthread_t *threads;
    wp_host_config cfg;
    /* Admission (limits.c): processes alive on the host and the bytes they reserve. */
    _Atomic uint32_t nprocs;
    atomic_uint_fast64_t reserved;
};

/* ---- The PID table and names (table.c) ------------------------------------------------------ */

#define WP_TABLE_SHARDS 64u

typedef struct table_shard {
    pthread_mutex_t lock;
    wp_proc **buckets;
    size_t nbuckets; /* a power of two, or 0 */
    size_t count;
} table_shard;

typedef struct name_entry {
    struct name_entry *next;
    wp_pid pid;
    char name[]; /* NUL-terminated */
} name_entry;

typedef struct ioloop ioloop;

struct wp_runtime {
    wp_runtime_config cfg;
    table_shard shards[WP_TABLE_SHARDS];
    pthread_mutex_t names_lock;
    name_entry **names; /* hash buckets */
    size_t nnames_buckets;
    size_t nnames;
    pthread_mutex_t hosts_lock; /* adding hosts; lookups read the array after adds finish */
    wp_host **hosts;
    _Atomic uint32_t nhosts;
    uint32_t hosts_cap;
    atomic_bool closing;
    /* Live processes, and a condition for those waiting until none are left. */
    pthread_mutex_t alive_lock;
    pthread_cond_t alive_cond;
    uint32_t alive;
    ioloop *loop;
    struct wp_funcs *funcs; /* function calls (pool.c), or NULL */
};

/* Inserts p (its pid set); the table takes a reference. False: out of memory. */
bool wp__table_insert(wp_runtime *rt, wp_proc *p);
/* Removes p's entry and drops the table's reference. */
void wp__table_remove(wp_runtime *rt, wp_proc *p);
/* The live process pid with a reference for the caller (wp__proc_unref), or NULL. */
wp_proc *wp__table_get(const wp_runtime *rt, wp_pid pid);
/* Calls fn on every process in the table (each referenced during the call). */
void wp__table_each(wp_runtime *rt, void (*fn)(wp_proc *p, void *ud), void *ud);
void wp__table_free(wp_runtime *rt);
/* Releases every name held by pid. */
void wp__names_release(wp_runtime *rt, wp_pid pid);

/* ---- Processes (proc.c, sched.c, control.c) ------------------------------------------------- */

/* A process record for the runtime: behaviour init done, no PID yet, one reference. */
wp_status wp__proc_create(wp_runtime *rt, wp_host *h, const wp_spawn_target *t,
                          const wp_value *args, uint32_t nargs, wp_proc **out, wp_err *err);
void wp__proc_ref(wp_proc *p);
/* Drops a reference; the last one closes the behaviour and frees the record. */
void wp__proc_unref(wp_proc *p);

/* Under p->lock: marks p runnable and queues it on its host. */
void wp__make_runnable(wp_proc *p);
/* Under p->lock: asks for p's end with an error of kind and msg (copied); the first request
 * wins. Wakes it if it waits. */
void wp__request_kill(wp_proc *p, wp_status kind, const char *msg);
/* Under p->lock: ends p's wait (parked with gen) if it is still that wait. True if it woke. */
bool wp__wake_locked(wp_proc *p, uint32_t gen);

/* Worker threads of h (sched.c). */
wp_status wp__host_start(wp_host *h, wp_err *err);
void wp__host_stop(wp_host *h);

/* Admission to h (limits.c): counts one more process and charges what target t reserves
 * (*reserved: the bytes, to give back). Fails: WP_ERR_UNAVAILABLE (max_processes alive),
 * WP_ERR_NOMEM (max_memory_bytes would be passed). */
wp_status wp__host_admit(wp_host *h, const wp_spawn_target *t, uint64_t *reserved, wp_err *err);
/* Gives back one process and its reservation. */
void wp__host_release(wp_host *h, uint64_t reserved);

/* A process finished (result set, or kill pending): deliver its exit (control.c). */
void wp__proc_exit(wp_proc *p);

/* pid sets */
bool wp__pid_set_add(pid_set *s, wp_pid pid);
bool wp__pid_set_remove(pid_set *s, wp_pid pid); /* one occurrence */
void wp__pid_set_free(pid_set *s);

/* Messages */
wp_msg *wp__msg_new(wp_msg_kind kind, wp_pid from, const char *topic, wp_value *value);
/* Under p->lock: appends m (or frees it if p has no mailbox or is exiting) and wakes p if it
 * waits on its mailbox. */
void wp__mailbox_push(wp_proc *p, wp_msg *m);

/* ---- The I/O loop (ioloop.c) ---------------------------------------------------------------- */

wp_status wp__loop_start(wp_runtime *rt, wp_err *err);
void wp__loop_stop(wp_runtime *rt);
/* Under p->lock, at a park with gen: wake p at deadline (ns). */
void wp__loop_timer(wp_runtime *rt, wp_proc *p, uint64_t deadline);
/* Removes p's timer if it has one (at exit). */
void wp__loop_timer_cancel(wp_runtime *rt, wp_proc *p);
/* Under p->lock, at a park: wake p when one of the descriptors is ready. Copies fds.
 * False if out of memory (the caller then wakes it with an error). */
bool wp__loop_poll(wp_runtime *rt, wp_proc *p, const wp_wasi_waitfd *fds, uint32_t nfds);
/* Under p->lock: p woke by other means; forget its descriptor wait. */
void wp__loop_poll_cancel(wp_runtime *rt, wp_proc *p);

#endif
