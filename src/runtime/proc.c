/* proc.c: a process: a behaviour, its state and its result (Init / Step / Close), and the
 * record a runtime keeps of a spawned one. */
#include <string.h>

#include "internal.h"

static wp_heap *heap(void) { return wp_heap_default(); }

static _Thread_local wp_proc *current; /* the process being stepped on this thread */

static wp_status proc_alloc(const wp_behavior *b, const void *config, const wp_value *args,
                            uint32_t nargs, wp_proc **out, wp_err *err) {
    *out = NULL;
    wp_proc *p = wp_heap_zalloc(heap(), sizeof *p);
    if (!p)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    p->b = b;
    p->limit = WP_WASI_NO_DEADLINE;
    atomic_init(&p->refs, 1);
    pthread_mutex_init(&p->lock, NULL);
    wp_status st = b->init(config, args, nargs, &p->state, err);
    if (st != WP_OK) {
        pthread_mutex_destroy(&p->lock);
        wp_heap_free(heap(), p, sizeof *p);
        return st;
    }
    *out = p;
    return WP_OK;
}

wp_status wp_proc_new(const wp_behavior *b, const void *config, const wp_value *args,
                      uint32_t nargs, wp_proc **out, wp_err *err) {
    return proc_alloc(b, config, args, nargs, out, err);
}

wp_status wp__proc_create(wp_runtime *rt, wp_host *h, const wp_spawn_target *t,
                          const wp_value *args, uint32_t nargs, wp_proc **out, wp_err *err) {
    wp_status st = proc_alloc(t->behavior, t->config, args, nargs, out, err);
    if (st != WP_OK)
        return st;
    wp_proc *p = *out;
    p->rt = rt;
    p->host = h;
    p->limit_ms = t->max_execution_ms;
    return WP_OK;
}

wp_step wp_proc_step(wp_proc *p, uint64_t budget) {
    if (p->done)
        return WP_STEP_DONE;
    wp_proc *outer = current;
    current = p;
    wp_step s = p->b->step(p->state, budget, &p->result);
    current = outer;
    p->done = s == WP_STEP_DONE;
    return s;
}

bool wp_proc_wait(const wp_proc *p, wp_wait *out) {
    return !p->done && p->b->wait && p->b->wait(p->state, out);
}

wp_status wp_proc_wake(wp_proc *p, bool *ready, wp_err *err) {
    *ready = false;
    if (p->done || !p->b->wake)
        return wp_err_set(err, WP_ERR_INVALID, "%s: the process is not waiting", p->b->name);
    wp_proc *outer = current;
    current = p;
    wp_status st = p->b->wake(p->state, ready, err);
    current = outer;
    return st;
}

void wp_proc_cancel(wp_proc *p, wp_status kind, const char *msg) {
    if (p->done)
        return;
    if (p->b->cancel)
        p->b->cancel(p->state);
    p->done = true;
    wp_value_free(&p->result);
    if (wp_value_error(&p->result, kind, msg, NULL) != WP_OK)
        p->result = wp_value_nil(); /* out of memory: a nil result still ends the process */
}

bool wp_proc_done(const wp_proc *p) { return p->done; }

const wp_value *wp_proc_result(const wp_proc *p) { return &p->result; }

void wp_proc_take_result(wp_proc *p, wp_value *out) {
    *out = p->result;
    p->result = wp_value_nil();
}

static void proc_destroy(wp_proc *p) {
    p->b->close(p->state);
    wp_value_free(&p->result);
    for (wp_msg *m = p->mb_head, *next; m; m = next) {
        next = m->next;
        wp_msg_free(m);
    }
    wp__pid_set_free(&p->links);
    wp__pid_set_free(&p->monitors);
    if (p->kill_msg)
        wp_heap_free(heap(), p->kill_msg, strlen(p->kill_msg) + 1);
    pthread_mutex_destroy(&p->lock);
    wp_heap_free(heap(), p, sizeof *p);
}

void wp_proc_free(wp_proc *p) {
    if (p)
        proc_destroy(p);
}

void wp__proc_ref(wp_proc *p) { atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed); }

void wp__proc_unref(wp_proc *p) {
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        proc_destroy(p);
}

/* ---- Accessors ------------------------------------------------------------------------------ */

wp_proc *wp_proc_current(void) { return current; }
wp_pid wp_proc_pid(const wp_proc *p) { return p->pid; }
wp_runtime *wp_proc_runtime(const wp_proc *p) { return p->rt; }
wp_host *wp_proc_host(const wp_proc *p) { return p->host; }
bool wp_proc_on_terminal(const wp_proc *p) { return p->host && p->host->terminal; }

void wp_proc_set_trap_links(wp_proc *self, bool trap) {
    pthread_mutex_lock(&self->lock);
    self->trap_links = trap;
    pthread_mutex_unlock(&self->lock);
}

bool wp_proc_trap_links(const wp_proc *self) {
    wp_proc *p = (wp_proc *)self; /* the lock is not part of its value */
    pthread_mutex_lock(&p->lock);
    bool trap = p->trap_links;
    pthread_mutex_unlock(&p->lock);
    return trap;
}

/* ---- PID sets ------------------------------------------------------------------------------- */

bool wp__pid_set_add(pid_set *s, wp_pid pid) {
    if (s->n == s->cap) {
        uint32_t ncap = s->cap ? s->cap * 2 : 2;
        wp_pid *items =
            wp_heap_realloc(heap(), s->items, s->cap * sizeof *items, ncap * sizeof *items);
        if (!items)
            return false;
        s->items = items;
        s->cap = ncap;
    }
    s->items[s->n++] = pid;
    return true;
}

bool wp__pid_set_remove(pid_set *s, wp_pid pid) {
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->items[i] == pid) {
            s->items[i] = s->items[--s->n];
            return true;
        }
    }
    return false;
}

void wp__pid_set_free(pid_set *s) {
    wp_heap_free(heap(), s->items, s->cap * sizeof *s->items);
    *s = (pid_set){0};
}
