/* ioloop.c: the runtime's one I/O loop thread (libuv): the timer heap of parked processes,
 * descriptor readiness (uv_poll), and SIGINT/SIGTERM. It makes processes runnable; workers
 * run them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "internal.h"

static wp_heap *heap(void) { return wp_heap_default(); }

/* ---- Structures ----------------------------------------------------------------------------- */

struct poll_req;

/* An item of the loop's inbox: a descriptor wait to start, or one to drop. */
typedef struct inbox_node {
    struct inbox_node *next;
    struct poll_req *req;
    bool cancel;
} inbox_node;

struct fd_watch;

/* One descriptor of one request, on its watch's list. */
typedef struct waiter {
    struct waiter *next;
    struct waiter *prev;
    struct fd_watch *watch; /* NULL: not attached */
    struct poll_req *req;
    int fd;
    uint32_t events; /* WP_WASI_READABLE | WP_WASI_WRITABLE */
} waiter;

/* A process's descriptor wait. Owned by the loop from the time it is posted. Whoever clears
 * p->poll (under p's lock) decides its end: the loop, on readiness, frees it; anyone else
 * posts its 'cancel' node and the loop frees it then. */
typedef struct poll_req {
    inbox_node add;
    inbox_node cancel;
    struct poll_req *fire_next; /* the loop's list of requests to fire */
    wp_proc *p;                 /* referenced */
    uint32_t gen;
    bool firing;
    uint32_t nfds;
    waiter w[];
} poll_req;

/* A uv_poll on one descriptor, shared by every request waiting on it. */
typedef struct fd_watch {
    uv_poll_t handle;
    struct fd_watch *next;
    int fd;
    int uv_events; /* what the handle polls for now */
    waiter *waiters;
} fd_watch;

struct ioloop {
    wp_runtime *rt;
    uv_loop_t loop;
    uv_async_t async;
    uv_timer_t timer;
    uv_timer_t grace; /* the shutdown's grace period after a signal */
    uv_signal_t sigint;
    uv_signal_t sigterm;
    pthread_t thread;
    bool started;
    /* The inbox and the stop flag, under 'lock'. */
    pthread_mutex_t lock;
    inbox_node *in_head;
    inbox_node *in_tail;
    bool stop;
    /* The timer heap (min by timer_at), under 'tlock'. */
    pthread_mutex_t tlock;
    wp_proc **heap;
    size_t n;
    size_t cap;
    uint64_t armed; /* the deadline the uv timer is set for (ns), or NO_DEADLINE */
    /* Loop thread only. */
    fd_watch *watches;
    uint32_t signals;
};

/* ---- The timer heap (under tlock) ----------------------------------------------------------- */

static void heap_set(ioloop *L, size_t i, wp_proc *p) {
    L->heap[i] = p;
    p->timer_idx = i + 1;
}

static void sift_up(ioloop *L, size_t i) {
    wp_proc *p = L->heap[i];
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (L->heap[up]->timer_at <= p->timer_at)
            break;
        heap_set(L, i, L->heap[up]);
        i = up;
    }
    heap_set(L, i, p);
}

static void sift_down(ioloop *L, size_t i) {
    wp_proc *p = L->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= L->n)
            break;
        if (c + 1 < L->n && L->heap[c + 1]->timer_at < L->heap[c]->timer_at)
            c++;
        if (p->timer_at <= L->heap[c]->timer_at)
            break;
        heap_set(L, i, L->heap[c]);
        i = c;
    }
    heap_set(L, i, p);
}

static void heap_remove(ioloop *L, wp_proc *p) {
    size_t i = p->timer_idx - 1;
    p->timer_idx = 0;
    wp_proc *last = L->heap[--L->n];
    if (i == L->n)
        return;
    heap_set(L, i, last);
    sift_up(L, i);
    sift_down(L, last->timer_idx - 1);
}

static bool heap_push(ioloop *L, wp_proc *p) {
    if (L->n == L->cap) {
        size_t ncap = L->cap ? L->cap * 2 : 256;
        wp_proc **h = wp_heap_realloc(heap(), L->heap, L->cap * sizeof *h, ncap * sizeof *h);
        if (!h)
            return false;
        L->heap = h;
        L->cap = ncap;
    }
    heap_set(L, L->n++, p);
    sift_up(L, L->n - 1);
    return true;
}

void wp__loop_timer(wp_runtime *rt, wp_proc *p, uint64_t deadline) {
    ioloop *L = rt->loop;
    pthread_mutex_lock(&L->tlock);
    p->timer_gen = p->gen;
    bool ok = true;
    if (p->timer_idx) {
        bool earlier = deadline < p->timer_at;
        p->timer_at = deadline;
        if (earlier)
            sift_up(L, p->timer_idx - 1);
        else
            sift_down(L, p->timer_idx - 1);
    } else {
        p->timer_at = deadline;
        ok = heap_push(L, p);
    }
    bool kick = ok && deadline < L->armed;
    if (kick)
        L->armed = deadline; /* the loop re-arms for the heap's minimum */
    pthread_mutex_unlock(&L->tlock);
    if (kick)
        uv_async_send(&L->async);
    if (!ok)
        wp__wake_locked(p, p->gen); /* no memory to wait: a spurious wake, tried again */
}

void wp__loop_timer_cancel(wp_runtime *rt, wp_proc *p) {
    ioloop *L = rt->loop;
    pthread_mutex_lock(&L->tlock);
    if (p->timer_idx)
        heap_remove(L, p);
    pthread_mutex_unlock(&L->tlock);
}

static uint64_t ns_to_ms_up(uint64_t ns) { return (ns + 999999u) / 1000000u; }

static void on_timer(uv_timer_t *t);

/* Wakes every process whose deadline has come, then arms the uv timer for the next. */
static void fire_timers(ioloop *L) {
    uint64_t now = wp_wasi_now();
    pthread_mutex_lock(&L->tlock);
    while (L->n && L->heap[0]->timer_at <= now) {
        wp_proc *p = L->heap[0];
        uint32_t gen = p->timer_gen;
        heap_remove(L, p);
        wp__proc_ref(p); /* exit removes p from the heap first, under tlock: it is alive */
        pthread_mutex_unlock(&L->tlock);
        pthread_mutex_lock(&p->lock);
        wp__wake_locked(p, gen);
        pthread_mutex_unlock(&p->lock);
        wp__proc_unref(p);
        pthread_mutex_lock(&L->tlock);
    }
    uint64_t next = L->n ? L->heap[0]->timer_at : WP_WASI_NO_DEADLINE;
    L->armed = next;
    pthread_mutex_unlock(&L->tlock);
    if (next == WP_WASI_NO_DEADLINE) {
        uv_timer_stop(&L->timer);
        return;
    }
    uv_update_time(&L->loop);
    now = wp_wasi_now();
    uv_timer_start(&L->timer, on_timer, next > now ? ns_to_ms_up(next - now) : 0, 0);
}

static void on_timer(uv_timer_t *t) { fire_timers(t->data); }

/* ---- The inbox ------------------------------------------------------------------------------ */

static void post(ioloop *L, inbox_node *n) {
    n->next = NULL;
    pthread_mutex_lock(&L->lock);
    if (L->in_tail)
        L->in_tail->next = n;
    else
        L->in_head = n;
    L->in_tail = n;
    pthread_mutex_unlock(&L->lock);
    uv_async_send(&L->async);
}

bool wp__loop_poll(wp_runtime *rt, wp_proc *p, const wp_wasi_waitfd *fds, uint32_t nfds) {
    poll_req *r = wp_heap_zalloc(heap(), sizeof *r + nfds * sizeof r->w[0]);
    if (!r)
        return false;
    wp__proc_ref(p);
    r->p = p;
    r->gen = p->gen;
    r->nfds = nfds;
    r->add.req = r->cancel.req = r;
    r->cancel.cancel = true;
    for (uint32_t i = 0; i < nfds; i++)
        r->w[i] = (waiter){.req = r, .fd = fds[i].fd, .events = fds[i].events};
    p->poll = r;
    post(rt->loop, &r->add);
    return true;
}

void wp__loop_poll_cancel(wp_runtime *rt, wp_proc *p) {
    poll_req *r = p->poll;
    p->poll = NULL;
    if (r)
        post(rt->loop, &r->cancel);
}

/* ---- Descriptor watches (loop thread) ------------------------------------------------------- */

static int uv_events_of(const fd_watch *fw) {
    int ev = 0;
    for (const waiter *w = fw->waiters; w; w = w->next) {
        if (w->events & WP_WASI_READABLE)
            ev |= UV_READABLE;
        if (w->events & WP_WASI_WRITABLE)
            ev |= UV_WRITABLE;
    }
    return ev;
}

static void free_watch(uv_handle_t *h) { wp_heap_free(heap(), h->data, sizeof(fd_watch)); }

static void on_ready(uv_poll_t *h, int status, int events);

/* Polls the watch for what its waiters want now; closes it when none is left. */
static void update_watch(ioloop *L, fd_watch *fw) {
    int ev = uv_events_of(fw);
    if (ev == fw->uv_events)
        return;
    fw->uv_events = ev;
    if (ev) {
        uv_poll_start(&fw->handle, ev, on_ready);
        return;
    }
    for (fd_watch **at = &L->watches; *at; at = &(*at)->next) {
        if (*at == fw) {
            *at = fw->next;
            break;
        }
    }
    uv_close((uv_handle_t *)&fw->handle, free_watch);
}

static void detach(ioloop *L, poll_req *r) {
    for (uint32_t i = 0; i < r->nfds; i++) {
        waiter *w = &r->w[i];
        fd_watch *fw = w->watch;
        if (!fw)
            continue;
        if (w->prev)
            w->prev->next = w->next;
        else
            fw->waiters = w->next;
        if (w->next)
            w->next->prev = w->prev;
        w->watch = NULL;
        update_watch(L, fw);
    }
}

static void free_req(poll_req *r) {
    wp__proc_unref(r->p);
    wp_heap_free(heap(), r, sizeof *r + r->nfds * sizeof r->w[0]);
}

/* r's descriptor is ready (or cannot be polled): wake its process if r is still its wait. */
static void fire_req(ioloop *L, poll_req *r) {
    wp_proc *p = r->p;
    pthread_mutex_lock(&p->lock);
    bool mine = p->poll == r;
    if (mine) {
        p->poll = NULL;
        wp__wake_locked(p, r->gen);
    }
    pthread_mutex_unlock(&p->lock);
    detach(L, r);
    if (mine)
        free_req(r); /* else a cancel is on its way and frees it */
}

static void on_ready(uv_poll_t *h, int status, int events) {
    fd_watch *fw = h->data;
    ioloop *L = h->loop->data;
    poll_req *fire = NULL;
    for (waiter *w = fw->waiters; w; w = w->next) {
        bool hit = status < 0 || ((w->events & WP_WASI_READABLE) && (events & UV_READABLE)) ||
                   ((w->events & WP_WASI_WRITABLE) && (events & UV_WRITABLE)) ||
                   (events & UV_DISCONNECT);
        if (hit && !w->req->firing) {
            w->req->firing = true;
            w->req->fire_next = fire;
            fire = w->req;
        }
    }
    while (fire) {
        poll_req *r = fire;
        fire = r->fire_next;
        fire_req(L, r);
    }
}

static fd_watch *watch_for(ioloop *L, int fd) {
    for (fd_watch *fw = L->watches; fw; fw = fw->next)
        if (fw->fd == fd)
            return fw;
    fd_watch *fw = wp_heap_zalloc(heap(), sizeof *fw);
    if (!fw)
        return NULL;
    if (uv_poll_init(&L->loop, &fw->handle, fd) != 0) {
        wp_heap_free(heap(), fw, sizeof *fw); /* a regular file, /dev/null: always ready */
        return NULL;
    }
    fw->fd = fd;
    fw->handle.data = fw;
    fw->next = L->watches;
    L->watches = fw;
    return fw;
}

static void start_req(ioloop *L, poll_req *r) {
    for (uint32_t i = 0; i < r->nfds; i++) {
        waiter *w = &r->w[i];
        fd_watch *fw = watch_for(L, w->fd);
        if (!fw) {
            r->firing = true;
            fire_req(L, r); /* nothing to wait for: the process tries its call again */
            return;
        }
        w->watch = fw;
        w->prev = NULL;
        w->next = fw->waiters;
        if (fw->waiters)
            fw->waiters->prev = w;
        fw->waiters = w;
        update_watch(L, fw);
    }
}

static void drain_inbox(ioloop *L) {
    pthread_mutex_lock(&L->lock);
    inbox_node *n = L->in_head;
    L->in_head = L->in_tail = NULL;
    pthread_mutex_unlock(&L->lock);
    while (n) {
        inbox_node *next = n->next;
        poll_req *r = n->req;
        if (n->cancel) {
            detach(L, r);
            free_req(r);
        } else if (!r->firing) {
            start_req(L, r);
        }
        n = next;
    }
}

/* ---- Signals -------------------------------------------------------------------------------- */

static void cancel_one(wp_proc *p, void *ud) {
    (void)ud;
    wp_cancel(p->rt, WP_PID_NONE, p->pid, "shutdown", NULL);
}

static void terminate_one(wp_proc *p, void *ud) {
    (void)ud;
    wp_terminate(p->rt, WP_PID_NONE, p->pid, NULL);
}

static void on_grace_over(uv_timer_t *t) {
    ioloop *L = t->data;
    wp__table_each(L->rt, terminate_one, NULL);
}

/* The first SIGINT/SIGTERM cancels every process and gives them the shutdown timeout before
 * they are terminated; the second ends the program at once. */
static void on_signal(uv_signal_t *s, int signum) {
    ioloop *L = s->data;
    if (++L->signals > 1) {
        fflush(NULL);
        _exit(1);
    }
    const wp_runtime_config *cfg = &L->rt->cfg;
    if (cfg->signal_hook && cfg->signal_hook(cfg->signal_ud, signum))
        return; /* e.g. a supervisor stopping its services in order */
    atomic_store(&L->rt->closing, true);
    wp__table_each(L->rt, cancel_one, NULL);
    uint64_t ms = L->rt->cfg.shutdown_timeout_ms;
    uv_timer_start(&L->grace, on_grace_over, ms, 0);
}

/* ---- The loop thread ------------------------------------------------------------------------ */

static void close_handle(uv_handle_t *h, void *ud) {
    (void)ud;
    if (!uv_is_closing(h))
        uv_close(h, h->type == UV_POLL ? free_watch : NULL);
}

static void on_async(uv_async_t *a) {
    ioloop *L = a->data;
    drain_inbox(L);
    fire_timers(L);
    pthread_mutex_lock(&L->lock);
    bool stop = L->stop;
    pthread_mutex_unlock(&L->lock);
    if (stop) {
        L->watches = NULL;
        uv_walk(&L->loop, close_handle, NULL);
    }
}

static void *loop_main(void *arg) {
    ioloop *L = arg;
    uv_run(&L->loop, UV_RUN_DEFAULT);
    return NULL;
}

static wp_status init_handles(ioloop *L, wp_err *err) {
    int rc = uv_loop_init(&L->loop);
    if (rc != 0)
        return wp_err_set(err, WP_ERR_UNAVAILABLE, "I/O loop: %s", uv_strerror(rc));
    L->loop.data = L;
    if ((rc = uv_async_init(&L->loop, &L->async, on_async)) != 0) {
        uv_loop_close(&L->loop);
        return wp_err_set(err, WP_ERR_UNAVAILABLE, "I/O loop: %s", uv_strerror(rc));
    }
    L->async.data = L;
    uv_timer_init(&L->loop, &L->timer);
    uv_timer_init(&L->loop, &L->grace);
    L->timer.data = L->grace.data = L;
    uv_unref((uv_handle_t *)&L->grace);
    if (L->rt->cfg.handle_signals) {
        uv_signal_init(&L->loop, &L->sigint);
        uv_signal_init(&L->loop, &L->sigterm);
        L->sigint.data = L->sigterm.data = L;
        uv_signal_start(&L->sigint, on_signal, SIGINT);
        uv_signal_start(&L->sigterm, on_signal, SIGTERM);
    }
    return WP_OK;
}

static void loop_free(ioloop *L) {
    pthread_mutex_destroy(&L->lock);
    pthread_mutex_destroy(&L->tlock);
    wp_heap_free(heap(), L->heap, L->cap * sizeof *L->heap);
    wp_heap_free(heap(), L, sizeof *L);
}

wp_status wp__loop_start(wp_runtime *rt, wp_err *err) {
    ioloop *L = wp_heap_zalloc(heap(), sizeof *L);
    if (!L)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    L->rt = rt;
    L->armed = WP_WASI_NO_DEADLINE;
    pthread_mutex_init(&L->lock, NULL);
    pthread_mutex_init(&L->tlock, NULL);
    wp_status st = init_handles(L, err);
    if (st != WP_OK) {
        loop_free(L);
        return st;
    }
    int rc = pthread_create(&L->thread, NULL, loop_main, L);
    if (rc != 0) {
        uv_walk(&L->loop, close_handle, NULL);
        uv_run(&L->loop, UV_RUN_DEFAULT);
        uv_loop_close(&L->loop);
        loop_free(L);
        return wp_err_set(err, WP_ERR_UNAVAILABLE, "I/O loop thread: %s", strerror(rc));
    }
    rt->loop = L;
    return WP_OK;
}

/* Requests not yet started when the loop stopped (no process is left by then, so none). */
static void drop_inbox(ioloop *L) {
    for (inbox_node *n = L->in_head, *next; n; n = next) {
        next = n->next;
        if (n->cancel)
            free_req(n->req);
    }
    L->in_head = L->in_tail = NULL;
}

void wp__loop_stop(wp_runtime *rt) {
    ioloop *L = rt->loop;
    if (!L)
        return;
    pthread_mutex_lock(&L->lock);
    L->stop = true;
    pthread_mutex_unlock(&L->lock);
    uv_async_send(&L->async);
    pthread_join(L->thread, NULL);
    drop_inbox(L);
    uv_loop_close(&L->loop);
    loop_free(L);
    rt->loop = NULL;
}
