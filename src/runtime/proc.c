/* proc.c: a process: a behaviour, its state and its result (Init / Step / Close). */
#include "wippy/runtime.h"

struct wp_proc {
    const wp_behavior *b;
    void *state;
    bool done;
    wp_value result; /* once done */
};

wp_status wp_proc_new(const wp_behavior *b, const void *config, const wp_value *args,
                      uint32_t nargs, wp_proc **out, wp_err *err) {
    *out = NULL;
    wp_proc *p = wp_heap_zalloc(wp_heap_default(), sizeof *p);
    if (!p)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    p->b = b;
    wp_status st = b->init(config, args, nargs, &p->state, err);
    if (st != WP_OK) {
        wp_heap_free(wp_heap_default(), p, sizeof *p);
        return st;
    }
    *out = p;
    return WP_OK;
}

wp_step wp_proc_step(wp_proc *p, uint64_t budget) {
    if (p->done)
        return WP_STEP_DONE;
    wp_step s = p->b->step(p->state, budget, &p->result);
    p->done = s == WP_STEP_DONE;
    return s;
}

bool wp_proc_wait(const wp_proc *p, wp_wasi_wait *out) {
    return !p->done && p->b->wait && p->b->wait(p->state, out);
}

wp_status wp_proc_wake(wp_proc *p, bool *ready, wp_err *err) {
    *ready = false;
    if (p->done || !p->b->wake)
        return wp_err_set(err, WP_ERR_INVALID, "%s: the process is not waiting", p->b->name);
    return p->b->wake(p->state, ready, err);
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

void wp_proc_free(wp_proc *p) {
    if (!p)
        return;
    p->b->close(p->state);
    wp_value_free(&p->result);
    wp_heap_free(wp_heap_default(), p, sizeof *p);
}
