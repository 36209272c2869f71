/* pool.c: function calls: each call a short-lived process (a fresh instance) whose exit value
 * is its result, and the pools that bound how many calls of one function run at once. */
#include <stdio.h>
#include <string.h>

#include "funcs_host.h"
#include "internal.h"

static wp_heap *heap(void) { return wp_heap_default(); }

#define NO_LIMIT UINT32_MAX
#define ADMIT_TOPIC "@funcs.admit" /* reserved (@): no process can send it */

typedef struct call_state call_state;

struct wp_pool {
    wp_pool *next; /* in its wp_funcs */
    wp_funcs *owner;
    char *id;
    wp_func_target ft;
    uint32_t limit;     /* calls running at once, or NO_LIMIT */
    uint32_t queue_cap; /* calls waiting at most, or NO_LIMIT */
    /* Under owner->lock. */
    uint32_t running;
    uint32_t nqueued;
    call_state *q_head;
    call_state *q_tail;
};

struct wp_funcs {
    wp_runtime *rt;
    wp_func_resolve_fn resolve;
    void *ud;
    pthread_mutex_t lock; /* the pool list and every pool's counts and queue */
    wp_pool *pools;
};

/* ---- The call process ------------------------------------------------------------------------
 * A behaviour wrapping the function's own (process.wasm, the Lua one): it waits for a turn of
 * the pool (parked on its mailbox), then runs the target behaviour in its own steps, so the
 * function is an ordinary process of the runtime (its PID, its mailbox for a Lua function). */

struct call_state {
    wp_pool *pool;
    const wp_behavior *b;
    void *inner;    /* the target behaviour's state, once it started */
    wp_value *args; /* kept while waiting for a turn */
    uint32_t nargs;
    call_state *qnext;
    bool pending;   /* inner's last step returned PENDING (adopted mid-wait) */
    bool cancelled; /* a CANCEL event reached a function without a mailbox of its own */
    bool released;  /* its turn (or queue place) was given back */
    wp__call_done_fn done; /* told the result once (a guest's call), or NULL */
    void *done_ud;
    uint64_t limit_ms; /* its max_execution_ms, to tell a timeout from a terminate */
    uint64_t started;  /* wp_wasi_now() at its first step; 0 before */
    /* Under the pool's lock. */
    wp_pid pid;     /* known from its first step: whom to tell when its turn comes */
    bool in_queue;
    bool admitted;  /* it holds a turn (also inline calls: a turn that counts nothing) */
    bool holds_slot;
    bool admit_sent;
};

typedef struct call_init {
    wp_pool *pool;
    void *adopt; /* an inline call's state, or NULL */
    bool pending;
    bool taken; /* Init took adopt */
    wp__call_done_fn done;
    void *done_ud;
    uint64_t limit_ms;
} call_init;

static void free_args(call_state *c) {
    for (uint32_t i = 0; i < c->nargs; i++)
        wp_value_free(&c->args[i]);
    wp_heap_free(heap(), c->args, c->nargs * sizeof *c->args);
    c->args = NULL;
    c->nargs = 0;
}

static wp_status copy_args(call_state *c, const wp_value *args, uint32_t nargs, wp_err *err) {
    if (!nargs)
        return WP_OK;
    if (!(c->args = wp_heap_calloc(heap(), nargs, sizeof *c->args)))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    c->nargs = nargs;
    for (uint32_t i = 0; i < nargs; i++)
        if (wp_value_copy(&c->args[i], &args[i]) != WP_OK)
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    return WP_OK;
}

/* Under the lock: tells a queued call its turn came (a message it waits for, or, before its
 * first step, the flag it reads there). */
static void admit_locked(wp_funcs *f, call_state *c) {
    c->in_queue = false;
    c->admitted = true;
    c->holds_slot = true;
    if (c->pid == WP_PID_NONE)
        return;
    wp_proc *p = wp__table_get(f->rt, c->pid);
    if (!p)
        return;
    wp_value nil = wp_value_nil();
    wp_msg *m = wp__msg_new(WP_MSG_MESSAGE, WP_PID_NONE, ADMIT_TOPIC, &nil);
    if (m) {
        pthread_mutex_lock(&p->lock);
        wp__mailbox_push(p, m);
        pthread_mutex_unlock(&p->lock);
        c->admit_sent = true;
    }
    wp__proc_unref(p);
}

static void unlink_locked(wp_pool *pool, call_state *c) {
    call_state **at = &pool->q_head;
    call_state *prev = NULL;
    while (*at && *at != c) {
        prev = *at;
        at = &(*at)->qnext;
    }
    if (!*at)
        return;
    *at = c->qnext;
    if (pool->q_tail == c)
        pool->q_tail = prev;
    pool->nqueued--;
    c->in_queue = false;
}

/* Gives back c's turn (to the first call waiting) or its place in the queue. Idempotent. */
static void release(call_state *c) {
    wp_pool *pool = c->pool;
    if (c->released)
        return;
    c->released = true;
    pthread_mutex_lock(&pool->owner->lock);
    if (c->in_queue) {
        unlink_locked(pool, c);
    } else if (c->holds_slot) {
        c->holds_slot = false;
        call_state *next = pool->q_head;
        if (next) { /* the turn passes on: running stays */
            unlink_locked(pool, next);
            admit_locked(pool->owner, next);
        } else {
            pool->running--;
        }
    }
    pthread_mutex_unlock(&pool->owner->lock);
}

/* Tells the waiting guest (if any) the result, once. */
static void notify(call_state *c, const wp_value *result) {
    if (!c->done)
        return;
    wp__call_done_fn done = c->done;
    c->done = NULL;
    done(c->done_ud, result);
}

static void notify_error(call_state *c, wp_status kind, const char *msg) {
    if (!c->done)
        return;
    wp_value v = wp_value_nil();
    if (wp_value_error(&v, kind, msg, NULL) != WP_OK)
        v = wp_value_nil(); /* out of memory: nil, still once */
    notify(c, &v);
    wp_value_free(&v);
}

static void call_close(void *state) {
    call_state *c = state;
    if (!c)
        return;
    if (c->started)
        notify_error(c, WP_ERR_CANCELED, "the call ended without a result");
    release(c);
    if (c->inner)
        c->b->close(c->inner);
    free_args(c);
    wp_heap_free(heap(), c, sizeof *c);
}

/* Under the lock: a turn now (true), a place in the queue (false), or the queue is full. */
static wp_status take_turn_locked(wp_pool *pool, call_state *c, wp_err *err) {
    if (pool->running < pool->limit) {
        pool->running++;
        c->admitted = c->holds_slot = true;
        return WP_OK;
    }
    if (pool->nqueued >= pool->queue_cap)
        return wp_err_set(err, WP_ERR_UNAVAILABLE,
                          "function %s: its pool is full (%u running, %u waiting)", pool->id,
                          pool->running, pool->nqueued);
    c->in_queue = true;
    c->qnext = NULL;
    if (pool->q_tail)
        pool->q_tail->qnext = c;
    else
        pool->q_head = c;
    pool->q_tail = c;
    pool->nqueued++;
    return WP_OK;
}

static wp_status start_inner(call_state *c, const wp_value *args, uint32_t nargs, wp_err *err) {
    const wp_spawn_target *t = &c->pool->ft.target;
    return c->b->init(t->config, args, nargs, &c->inner, err);
}

static wp_status call_init_fn(const void *config, const wp_value *args, uint32_t nargs,
                              void **state, wp_err *err) {
    call_init *ci = (call_init *)config; /* ours: Init says whether it took the state */
    *state = NULL;
    call_state *c = wp_heap_zalloc(heap(), sizeof *c);
    if (!c)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    c->pool = ci->pool;
    c->b = ci->pool->ft.target.behavior;
    c->done = ci->done;
    c->done_ud = ci->done_ud;
    c->limit_ms = ci->limit_ms;
    if (ci->adopt) {
        c->inner = ci->adopt;
        c->pending = ci->pending;
        c->admitted = true;
        ci->taken = true;
        *state = c;
        return WP_OK;
    }
    pthread_mutex_lock(&c->pool->owner->lock);
    wp_status st = take_turn_locked(c->pool, c, err);
    bool turn = c->admitted; /* once queued, a release may admit it at any moment */
    pthread_mutex_unlock(&c->pool->owner->lock);
    c->released = st != WP_OK; /* nothing taken: nothing to give back */
    if (st == WP_OK && turn)
        st = start_inner(c, args, nargs, err);
    else if (st == WP_OK)
        st = copy_args(c, args, nargs, err);
    if (st != WP_OK) {
        call_close(c);
        return st;
    }
    *state = c;
    return WP_OK;
}

/* Takes what waits in the mailbox of a call whose function has none: a CANCEL ends it, the
 * rest is dropped. */
static void drain(call_state *c) {
    wp_proc *self = wp_proc_current();
    wp_msg *m;
    while (self && wp_proc_recv(self, &m)) {
        if (m->kind == WP_MSG_CANCEL)
            c->cancelled = true;
        wp_msg_free(m);
    }
}

static wp_step finished(call_state *c, wp_value *result) {
    release(c);
    notify(c, result);
    return WP_STEP_DONE;
}

static wp_step end_with(call_state *c, wp_status kind, const char *msg, wp_value *result) {
    if (c->inner && c->b->cancel)
        c->b->cancel(c->inner);
    if (wp_value_error(result, kind, msg, NULL) != WP_OK)
        *result = wp_value_nil();
    return finished(c, result);
}

/* Waiting for a turn: true once it has one (and started the function). */
static bool await_turn(call_state *c, wp_value *result, wp_step *out) {
    wp_proc *self = wp_proc_current();
    drain(c); /* the admission message, a CANCEL */
    pthread_mutex_lock(&c->pool->owner->lock);
    c->pid = self ? wp_proc_pid(self) : WP_PID_NONE;
    bool admitted = c->admitted;
    bool sent = c->admit_sent;
    pthread_mutex_unlock(&c->pool->owner->lock);
    if (c->cancelled) {
        *out = end_with(c, WP_ERR_CANCELED, "cancelled while waiting in the pool's queue", result);
        return false;
    }
    if (!admitted) {
        *out = WP_STEP_PENDING;
        return false;
    }
    if (sent)
        drain(c); /* pushed before the flag was set: it is in the mailbox now */
    wp_err err = {0};
    wp_status st = start_inner(c, c->args, c->nargs, &err);
    free_args(c);
    if (st != WP_OK) {
        if (wp_value_from_err(result, &err) != WP_OK)
            *result = wp_value_nil();
        *out = finished(c, result);
        return false;
    }
    return true;
}

static wp_step call_step(void *state, uint64_t budget, wp_value *result) {
    call_state *c = state;
    wp_step s;
    *result = wp_value_nil();
    if (!c->started)
        c->started = wp_wasi_now();
    if (!c->inner && !await_turn(c, result, &s))
        return s;
    if (!c->b->mailbox)
        drain(c);
    if (c->cancelled)
        return end_with(c, WP_ERR_CANCELED, "cancelled", result);
    if (c->pending) /* adopted while it waited: the host asks wait() first */
        return WP_STEP_PENDING;
    s = c->b->step(c->inner, budget, result);
    return s == WP_STEP_DONE ? finished(c, result) : s;
}

static bool call_wait(void *state, wp_wait *out) {
    call_state *c = state;
    if (!c->inner) {
        *out = (wp_wait){.deadline = WP_WASI_NO_DEADLINE, .mailbox = true};
        return true;
    }
    if (!c->b->wait || !c->b->wait(c->inner, out))
        return false;
    out->mailbox = true; /* a CANCEL ends it even when its function has no mailbox */
    return true;
}

static wp_status call_wake(void *state, bool *ready, wp_err *err) {
    call_state *c = state;
    *ready = true;
    if (!c->inner)
        return WP_OK;
    if (!c->b->mailbox) {
        drain(c);
        if (c->cancelled)
            return WP_OK; /* the step ends it */
    }
    c->pending = false;
    if (!c->b->wake)
        return wp_err_set(err, WP_ERR_INVALID, "%s: nothing is waiting", c->b->name);
    return c->b->wake(c->inner, ready, err);
}

static void call_cancel(void *state) {
    call_state *c = state;
    if (c->inner && c->b->cancel)
        c->b->cancel(c->inner);
    release(c);
    /* killed by the host: past its limit it was the timeout, else a terminate or shutdown */
    bool late = c->limit_ms && c->started &&
                wp_wasi_now() - c->started >= c->limit_ms * 1000000u;
    notify_error(c, late ? WP_ERR_TIMEOUT : WP_ERR_CANCELED,
                 late ? "the call exceeded its time limit" : "the call was cancelled");
}

static uint64_t call_reserve(const void *config) {
    const call_init *ci = config;
    const wp_spawn_target *t = &ci->pool->ft.target;
    return t->behavior->reserve && !ci->adopt ? t->behavior->reserve(t->config) : 0;
}

static const wp_behavior CALL_BEHAVIOR = {
    .name = "function",
    .init = call_init_fn,
    .step = call_step,
    .wait = call_wait,
    .wake = call_wake,
    .cancel = call_cancel,
    .close = call_close,
    .mailbox = true,
    .reserve = call_reserve,
};

/* ---- Calls ---------------------------------------------------------------------------------- */

/* The caller's host, unless it is a terminal (or there is no caller): the first process host. */
static wp_host *call_host(wp_runtime *rt, wp_pid caller) {
    uint32_t n = atomic_load(&rt->nhosts);
    uint32_t idx = (uint32_t)(caller >> 48);
    if (caller != WP_PID_NONE && idx >= 1 && idx <= n && !rt->hosts[idx - 1]->terminal)
        return rt->hosts[idx - 1];
    for (uint32_t i = 0; i < n; i++)
        if (!rt->hosts[i]->terminal)
            return rt->hosts[i];
    return NULL;
}

static uint64_t min_nonzero(uint64_t a, uint64_t b) {
    return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

static wp_status spawn_call(wp_pool *p, wp_pid caller, call_init *ci, const wp_value *args,
                            uint32_t nargs, uint64_t timeout_ms, wp_pid *out, wp_err *err) {
    wp_runtime *rt = p->owner->rt;
    *out = WP_PID_NONE;
    if (p->ft.transport == WP_TRANSPORT_WASI_HTTP)
        return wp_err_set(err, WP_ERR_UNSUPPORTED,
                          "function %s: transport wasi-http is not supported yet", p->id);
    wp_host *h = call_host(rt, caller);
    if (!h)
        return wp_err_set(err, WP_ERR_UNAVAILABLE,
                          "function %s: no process.host to run it on", p->id);
    ci->limit_ms = min_nonzero(p->ft.target.max_execution_ms, timeout_ms);
    wp_spawn_target t = {&CALL_BEHAVIOR, ci, ci->limit_ms};
    uint32_t flags = caller != WP_PID_NONE ? WP_SPAWN_MONITOR : 0;
    return wp_spawn_target_on(rt, caller, h, &t, args, nargs, flags, out, err);
}

wp_status wp_pool_call(wp_pool *p, wp_pid caller, const wp_value *args, uint32_t nargs,
                       uint64_t timeout_ms, wp_pid *out, wp_err *err) {
    call_init ci = {.pool = p};
    return spawn_call(p, caller, &ci, args, nargs, timeout_ms, out, err);
}

wp_status wp__pool_call_notify(wp_pool *p, const wp_value *args, uint32_t nargs,
                              wp__call_done_fn done, void *ud, wp_pid *out, wp_err *err) {
    call_init ci = {.pool = p, .done = done, .done_ud = ud};
    return spawn_call(p, WP_PID_NONE, &ci, args, nargs, 0, out, err);
}

wp_status wp_pool_adopt(wp_pool *p, wp_pid caller, void *state, bool pending,
                        uint64_t timeout_ms, wp_pid *out, wp_err *err) {
    call_init ci = {.pool = p, .adopt = state, .pending = pending};
    wp_status st = spawn_call(p, caller, &ci, NULL, 0, timeout_ms, out, err);
    if (st != WP_OK && !ci.taken)
        p->ft.target.behavior->close(state);
    return st;
}

/* ---- Pools ---------------------------------------------------------------------------------- */

static void pool_limits(wp_pool *p) {
    const wp_pool_config *c = &p->ft.pool;
    p->limit = NO_LIMIT;
    p->queue_cap = NO_LIMIT;
    if (c->type == WP_POOL_STATIC) {
        p->limit = c->size ? c->size : 1;
        p->queue_cap = c->buffer;
    } else if (c->type == WP_POOL_LAZY || c->type == WP_POOL_ADAPTIVE) {
        p->limit = c->max_size ? c->max_size : 16;
    }
}

/* Target syntax: "ns:name", both parts present. */
static wp_status check_target(const char *target, wp_err *err) {
    const char *colon = strrchr(target, ':');
    if (!target[0])
        return wp_err_set(err, WP_ERR_INVALID, "function target is empty");
    if (!colon || colon == target)
        return wp_err_set(err, WP_ERR_INVALID,
                          "function target %.200s has no namespace (want ns:name)", target);
    if (!colon[1])
        return wp_err_set(err, WP_ERR_INVALID,
                          "function target %.200s has no name (want ns:name)", target);
    return WP_OK;
}

static wp_pool *find_locked(const wp_funcs *f, const char *target) {
    for (wp_pool *p = f->pools; p; p = p->next)
        if (strcmp(p->id, target) == 0)
            return p;
    return NULL;
}

static wp_status pool_new(wp_funcs *f, const char *target, wp_pool **out, wp_err *err) {
    wp_pool *p = wp_heap_zalloc(heap(), sizeof *p);
    if (!p || !(p->id = wp_heap_strdup(heap(), target))) {
        wp_heap_free(heap(), p, sizeof *p);
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    p->owner = f;
    wp_status st = f->resolve(f->ud, target, &p->ft, err);
    if (st != WP_OK) {
        wp_heap_free(heap(), p->id, strlen(p->id) + 1);
        wp_heap_free(heap(), p, sizeof *p);
        return st;
    }
    pool_limits(p);
    *out = p;
    return WP_OK;
}

wp_status wp_funcs_lookup(wp_funcs *f, const char *target, wp_pool **out, wp_err *err) {
    *out = NULL;
    wp_status st = check_target(target, err);
    if (st != WP_OK)
        return st;
    pthread_mutex_lock(&f->lock);
    wp_pool *p = find_locked(f, target);
    pthread_mutex_unlock(&f->lock);
    if (p) {
        *out = p;
        return WP_OK;
    }
    /* Resolved outside the lock (the resolver takes the registry's); a racing twin loses. */
    if ((st = pool_new(f, target, &p, err)) != WP_OK)
        return st;
    pthread_mutex_lock(&f->lock);
    wp_pool *twin = find_locked(f, target);
    if (!twin) {
        p->next = f->pools;
        f->pools = p;
    }
    pthread_mutex_unlock(&f->lock);
    if (twin) {
        wp_heap_free(heap(), p->id, strlen(p->id) + 1);
        wp_heap_free(heap(), p, sizeof *p);
        p = twin;
    }
    *out = p;
    return WP_OK;
}

const char *wp_pool_id(const wp_pool *p) { return p->id; }

const wp_func_target *wp_pool_target(const wp_pool *p) { return &p->ft; }

void wp_pool_counts(wp_pool *p, uint32_t *running, uint32_t *waiting) {
    pthread_mutex_lock(&p->owner->lock);
    *running = p->running;
    *waiting = p->nqueued;
    pthread_mutex_unlock(&p->owner->lock);
}

/* ---- The runtime's function calls ----------------------------------------------------------- */

wp_status wp_funcs_new(wp_runtime *rt, wp_func_resolve_fn resolve, void *ud, wp_funcs **out,
                       wp_err *err) {
    *out = NULL;
    if (rt->funcs)
        return wp_err_set(err, WP_ERR_ALREADY_EXISTS, "the runtime has function calls already");
    wp_funcs *f = wp_heap_zalloc(heap(), sizeof *f);
    if (!f)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    f->rt = rt;
    f->resolve = resolve;
    f->ud = ud;
    pthread_mutex_init(&f->lock, NULL);
    rt->funcs = f;
    *out = f;
    return WP_OK;
}

void wp_funcs_free(wp_funcs *f) {
    if (!f)
        return;
    for (wp_pool *p = f->pools, *next; p; p = next) {
        next = p->next;
        wp_heap_free(heap(), p->id, strlen(p->id) + 1);
        wp_heap_free(heap(), p, sizeof *p);
    }
    pthread_mutex_destroy(&f->lock);
    wp_heap_free(heap(), f, sizeof *f);
}

wp_funcs *wp_runtime_funcs(const wp_runtime *rt) { return rt->funcs; }
