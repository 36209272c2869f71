/* pending.c: WASI calls that wait: starting them, what they wait for, completing them, and
 * the simple poll()-based driver used by `wippy exec`. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

bool wp__fdset_add(wp_heap *h, wp__wasi_fdset *set, int host, uint32_t events) {
    if (set->n == set->cap) {
        uint32_t cap = set->cap ? set->cap * 2 : 4;
        wp_wasi_waitfd *p = wp_heap_realloc(h, set->fds, set->cap * sizeof *p, cap * sizeof *p);
        if (!p)
            return false;
        set->fds = p;
        set->cap = cap;
    }
    set->fds[set->n++] = (wp_wasi_waitfd){.fd = host, .events = events};
    return true;
}

bool wp__wasi_wait_fd(wp_wasi *w, int host, uint32_t events) {
    return wp__fdset_add(w->heap, &w->wait, host, events);
}

bool wp__wasi_would_block(wp_wasi *w, const wp_wasi_fd *f, uint32_t events, uint16_t *e) {
    if (f->flags & WP_WASI_FDFLAG_NONBLOCK) {
        *e = WP_WASI_EAGAIN;
        return true;
    }
    if (!wp__wasi_wait_fd(w, f->host, events)) {
        *e = WP_WASI_ENOMEM;
        return true;
    }
    return false;
}

bool wp__wasi_try(wp_wasi *w, wp_wasi_op *op, uint16_t *e) {
    w->wait.n = 0;
    w->deadline = WP_WASI_NO_DEADLINE;
    bool done;
    switch (op->kind) {
    case WP_WASI_OP_ACCEPT:
        done = wp__wasi_try_accept(w, op, e);
        break;
    case WP_WASI_OP_POLL:
        done = wp__wasi_try_poll(w, op, e);
        break;
    case WP_WASI_OP_YIELD:
        /* Waits once, for nothing: the embedder may run others before it completes. */
        done = op->started;
        if (!done)
            w->deadline = wp_wasi_now();
        *e = WP_WASI_ESUCCESS;
        break;
    default:
        done = wp__wasi_try_io(w, op, e);
        break;
    }
    op->started = true;
    return done;
}

wp_host_result wp__wasi_start(wp_wasi *w, const wp_wasi_op *op, wp_val *results) {
    wp_wasi_cancel(w); /* an earlier call abandoned by the embedder */
    w->op = *op;
    uint16_t e;
    if (wp__wasi_try(w, &w->op, &e)) {
        wp__wasi_poll_done(w);
        return wp__wasi_ret(results, e);
    }
    w->waiting = true;
    return WP_HOST_PENDING;
}

bool wp_wasi_pending(const wp_wasi *w, wp_wasi_wait *out) {
    if (!w->waiting)
        return false;
    *out = (wp_wasi_wait){.deadline = w->deadline, .nfds = w->wait.n, .fds = w->wait.fds};
    return true;
}

wp_status wp_wasi_complete(wp_wasi *w, wp_exec *x, bool *done, wp_err *err) {
    *done = false;
    if (!w->waiting)
        return wp_err_set(err, WP_ERR_INVALID, "no WASI call is waiting");
    uint16_t e;
    if (!wp__wasi_try(w, &w->op, &e))
        return WP_OK; /* not ready after all: wait again */
    wp_wasi_cancel(w);
    wp_val r = wp_val_i32(e);
    wp_status st = wp_exec_resume(x, &r, 1, err);
    *done = st == WP_OK;
    return st;
}

void wp_wasi_cancel(wp_wasi *w) {
    w->waiting = false;
    w->wait.n = 0;
    w->deadline = WP_WASI_NO_DEADLINE;
    wp__wasi_poll_done(w);
}

/* Waits for and completes the pending call; on failure fills msg and returns false. */
static bool wait_and_complete(wp_wasi *w, wp_exec *x, char *msg, size_t cap) {
    for (bool done = false; !done;) {
        wp_wasi_wait wt;
        if (!wp_wasi_pending(w, &wt)) {
            snprintf(msg, cap, "the guest waits on a host function that is not WASI's");
            return false;
        }
        int e = wp__sys_wait(wt.fds, wt.nfds, wt.deadline);
        if (e != 0) {
            snprintf(msg, cap, "waiting for a WASI call: %s", strerror(e));
            wp_wasi_cancel(w);
            return false;
        }
        wp_err err;
        if (wp_wasi_complete(w, x, &done, &err) != WP_OK) {
            snprintf(msg, cap, "completing a WASI call: %.400s", err.msg);
            wp_wasi_cancel(w);
            return false;
        }
    }
    return true;
}

wp_run_state wp_wasi_run(wp_wasi *w, wp_exec *x) {
    for (;;) {
        wp_run_state rs = wp_exec_run(x, WP_BUDGET_UNLIMITED);
        if (rs == WP_RUN_BUDGET)
            continue;
        if (rs != WP_RUN_PENDING)
            return rs;
        char msg[WP_ERR_MSG_MAX];
        if (!wait_and_complete(w, x, msg, sizeof msg))
            wp_exec_resume_trap(x, msg);
    }
}
