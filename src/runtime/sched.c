/* sched.c: a host's workers: the run queue, stepping a process for one slice, parking it on
 * its wait, and waking it again. */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static wp_heap *heap(void) { return wp_heap_default(); }

/* ---- The run queue -------------------------------------------------------------------------- */

static void enqueue(wp_host *h, wp_proc *p) {
    pthread_mutex_lock(&h->lock);
    p->run_next = NULL;
    if (h->q_tail)
        h->q_tail->run_next = p;
    else
        h->q_head = p;
    h->q_tail = p;
    atomic_fetch_add_explicit(&h->q_len, 1, memory_order_release);
    if (h->nidle)
        pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

/* Under h->lock. */
static wp_proc *dequeue(wp_host *h) {
    wp_proc *p = h->q_head;
    if (!p)
        return NULL;
    h->q_head = p->run_next;
    if (!h->q_head)
        h->q_tail = NULL;
    p->run_next = NULL;
    atomic_fetch_sub_explicit(&h->q_len, 1, memory_order_relaxed);
    return p;
}

void wp__make_runnable(wp_proc *p) {
    p->st = PS_RUNNABLE;
    enqueue(p->host, p);
}

/* Spins a little before sleeping: a message or wake-up often follows within microseconds, and
 * a sleeping worker costs a futex wake to get back. True if work appeared. */
static bool spin_for_work(wp_host *h) {
    for (uint32_t i = 0; i < WP_WORKER_SPIN; i++) {
        if (atomic_load_explicit(&h->q_len, memory_order_acquire))
            return true;
        if (i >= 16)
            sched_yield();
    }
    return false;
}

/* The next process to run, or NULL when the host stops and its queue is empty. */
static wp_proc *take(wp_host *h) {
    for (;;) {
        pthread_mutex_lock(&h->lock);
        wp_proc *p = dequeue(h);
        bool stop = h->stopping;
        pthread_mutex_unlock(&h->lock);
        if (p || stop)
            return p;
        if (spin_for_work(h))
            continue;
        pthread_mutex_lock(&h->lock);
        while (!h->q_head && !h->stopping) {
            h->nidle++;
            pthread_cond_wait(&h->cond, &h->lock);
            h->nidle--;
        }
        pthread_mutex_unlock(&h->lock);
    }
}

/* ---- Ending a process ----------------------------------------------------------------------- */

void wp__request_kill(wp_proc *p, wp_status kind, const char *msg) {
    if (p->st == PS_EXITING || p->kill != WP_OK)
        return;
    p->kill = kind;
    p->kill_msg = wp_heap_strdup(heap(), msg); /* NULL when out of memory: the kind alone still says why */
    if (p->st == PS_WAITING)
        wp__wake_locked(p, p->gen);
}

bool wp__wake_locked(wp_proc *p, uint32_t gen) {
    if (p->st != PS_WAITING || p->gen != gen)
        return false;
    if (p->poll)
        wp__loop_poll_cancel(p->rt, p);
    wp__make_runnable(p);
    return true;
}

/* Ends p now with its kill request as the result, and delivers the exit. */
static void finish_killed(wp_proc *p) {
    pthread_mutex_lock(&p->lock);
    wp_status kind = p->kill;
    char *msg = p->kill_msg;
    p->kill_msg = NULL;
    pthread_mutex_unlock(&p->lock);
    wp_proc_cancel(p, kind, msg ? msg : wp_status_text(kind));
    if (msg)
        wp_heap_free(heap(), msg, strlen(msg) + 1);
    wp__proc_exit(p);
}

static void finish_with(wp_proc *p, wp_status kind, const char *msg) {
    wp_proc_cancel(p, kind, msg);
    wp__proc_exit(p);
}

static bool over_limit(const wp_proc *p) {
    return p->limit != WP_WASI_NO_DEADLINE && wp_wasi_now() >= p->limit;
}

static void finish_timeout(wp_proc *p) {
    char msg[96];
    snprintf(msg, sizeof msg, "execution exceeded max_execution_ms (%llu ms)",
             (unsigned long long)p->limit_ms);
    finish_with(p, WP_ERR_TIMEOUT, msg);
}

/* ---- Parking -------------------------------------------------------------------------------- */

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Under p->lock: registers the wait with the I/O loop, or requeues p if it need not wait. */
static void park_locked(wp_proc *p, const wp_wait *w) {
    uint64_t deadline = min_u64(w->deadline, p->limit);
    p->parked = true;
    p->gen++;
    p->waits_mailbox = w->mailbox && p->b->mailbox;
    if ((p->waits_mailbox && p->mb_len) || deadline <= wp_wasi_now()) {
        wp__make_runnable(p); /* already over: back of the queue, others go first */
        return;
    }
    p->st = PS_WAITING;
    if (deadline != WP_WASI_NO_DEADLINE)
        wp__loop_timer(p->rt, p, deadline);
    /* (Out of memory for the timer has woken it already.) */
    if (p->st == PS_WAITING && w->nfds && !wp__loop_poll(p->rt, p, w->fds, w->nfds))
        wp__make_runnable(p); /* no memory to watch them: try again, as a spurious wake */
}

static void park(wp_proc *p) {
    wp_wait w;
    if (!wp_proc_wait(p, &w)) {
        finish_with(p, WP_ERR_UNAVAILABLE,
                    "the process waits on something the host cannot wait for");
        return;
    }
    pthread_mutex_lock(&p->lock);
    bool killed = p->kill != WP_OK;
    if (!killed)
        park_locked(p, &w);
    pthread_mutex_unlock(&p->lock);
    if (killed)
        finish_killed(p);
}

/* ---- One slice ------------------------------------------------------------------------------ */

/* After a wait ended: completes what p waited for. False if p went back to waiting or ended. */
static bool wake_up(wp_proc *p) {
    bool ready = false;
    wp_err err = {0};
    wp_status st = wp_proc_wake(p, &ready, &err);
    if (st != WP_OK) {
        finish_with(p, st, err.msg);
        return false;
    }
    if (!ready)
        park(p);
    return ready;
}

static void requeue(wp_proc *p) {
    pthread_mutex_lock(&p->lock);
    bool killed = p->kill != WP_OK;
    if (!killed)
        wp__make_runnable(p);
    pthread_mutex_unlock(&p->lock);
    if (killed)
        finish_killed(p);
}

/* Steps p once, unless its wait is not over or it was killed; false if it ended. */
static bool step_once(wp_proc *p, bool parked, wp_step *s) {
    if (p->limit_ms && p->limit == WP_WASI_NO_DEADLINE)
        p->limit = wp_wasi_now() + p->limit_ms * 1000000u;
    if (over_limit(p)) {
        finish_timeout(p);
        return false;
    }
    if (parked && !wake_up(p))
        return false;
    *s = wp_proc_step(p, WP_REDUCTIONS);
    return true;
}

static void run_slice(wp_proc *p) {
    pthread_mutex_lock(&p->lock);
    bool killed = p->kill != WP_OK;
    bool parked = p->parked;
    p->st = PS_RUNNING;
    p->parked = false;
    pthread_mutex_unlock(&p->lock);
    wp_step s;
    if (killed)
        finish_killed(p);
    else if (!step_once(p, parked, &s))
        return;
    else if (s == WP_STEP_DONE)
        wp__proc_exit(p);
    else if (over_limit(p))
        finish_timeout(p);
    else if (s == WP_STEP_BUDGET)
        requeue(p);
    else
        park(p);
}

/* ---- Workers -------------------------------------------------------------------------------- */

static void *worker_main(void *arg) {
    wp_host *h = arg;
    wp_proc *p;
    while ((p = take(h)) != NULL)
        run_slice(p);
    return NULL;
}

wp_status wp__host_start(wp_host *h, wp_err *err) {
    uint32_t n = h->cfg.workers;
    h->threads = wp_heap_calloc(heap(), n, sizeof *h->threads);
    if (!h->threads)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        int rc = pthread_create(&h->threads[i], NULL, worker_main, h);
        if (rc != 0) {
            wp__host_stop(h);
            return wp_err_set(err, WP_ERR_UNAVAILABLE, "%s: cannot start a worker: %s", h->id,
                              strerror(rc));
        }
        h->nworkers++;
    }
    return WP_OK;
}

void wp__host_stop(wp_host *h) {
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    for (uint32_t i = 0; i < h->nworkers; i++)
        pthread_join(h->threads[i], NULL);
    wp_heap_free(heap(), h->threads, h->cfg.workers * sizeof *h->threads);
    h->threads = NULL;
    h->nworkers = 0;
}
