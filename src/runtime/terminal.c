/* terminal.c: a standalone process (no runtime) driven to completion on the calling thread,
 * waiting with poll() whenever it is pending. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "wippy/runtime.h"

#define MAX_WAIT_FDS 64u /* descriptors one wait is polled on; more are polled in turns */

static uint64_t ms_to_ns(uint64_t ms) {
    return ms > UINT64_MAX / 1000000u ? UINT64_MAX : ms * 1000000u;
}

/* Waits until one of w's descriptors is ready or the earlier of its deadline and 'limit'
 * (monotonic ns) passes. Returns false if poll() failed. */
static bool wait_once(const wp_wait *w, uint64_t limit, wp_err *err) {
    struct pollfd fds[MAX_WAIT_FDS];
    nfds_t n = w->nfds < MAX_WAIT_FDS ? w->nfds : MAX_WAIT_FDS;
    for (nfds_t i = 0; i < n; i++) {
        short ev = 0;
        if (w->fds[i].events & WP_WASI_READABLE)
            ev |= POLLIN;
        if (w->fds[i].events & WP_WASI_WRITABLE)
            ev |= POLLOUT;
        fds[i] = (struct pollfd){.fd = w->fds[i].fd, .events = ev};
    }
    uint64_t deadline = w->deadline < limit ? w->deadline : limit;
    uint64_t now = wp_wasi_now();
    int timeout = -1;
    if (deadline != WP_WASI_NO_DEADLINE) {
        uint64_t ms = deadline > now ? (deadline - now + 999999u) / 1000000u : 0;
        timeout = ms > 60000 ? 60000 : (int)ms; /* long waits wake up to look again */
    }
    if (poll(fds, n, timeout) < 0 && errno != EINTR) {
        wp_err_set(err, WP_ERR_UNAVAILABLE, "poll: %s", strerror(errno));
        return false;
    }
    return true;
}

static void cancel_timeout(wp_proc *p, uint64_t max_ms) {
    char msg[96];
    snprintf(msg, sizeof msg, "execution exceeded max_execution_ms (%llu ms)",
             (unsigned long long)max_ms);
    wp_proc_cancel(p, WP_ERR_TIMEOUT, msg);
}

wp_status wp_terminal_run(wp_proc *p, uint64_t max_execution_ms, wp_err *err) {
    uint64_t limit =
        max_execution_ms ? wp_wasi_now() + ms_to_ns(max_execution_ms) : WP_WASI_NO_DEADLINE;
    for (;;) {
        wp_step s = wp_proc_step(p, WP_REDUCTIONS);
        if (s == WP_STEP_DONE)
            return WP_OK;
        if (wp_wasi_now() >= limit) {
            cancel_timeout(p, max_execution_ms);
            return WP_OK;
        }
        if (s == WP_STEP_BUDGET)
            continue;
        wp_wait w;
        if (!wp_proc_wait(p, &w) ||
            (w.mailbox && !w.nfds && w.deadline == WP_WASI_NO_DEADLINE)) {
            wp_proc_cancel(p, WP_ERR_UNAVAILABLE,
                           "the process waits on something the terminal "
                           "host cannot wait for");
            return WP_OK;
        }
        bool ready = false;
        while (!ready) {
            if (!wait_once(&w, limit, err)) {
                wp_proc_cancel(p, err->kind, err->msg);
                return err->kind;
            }
            if (wp_wasi_now() >= limit) {
                cancel_timeout(p, max_execution_ms);
                return WP_OK;
            }
            wp_status st = wp_proc_wake(p, &ready, err);
            if (st != WP_OK) {
                wp_proc_cancel(p, st, err->msg);
                return WP_OK;
            }
            if (!ready && !wp_proc_wait(p, &w))
                break;
        }
    }
}
