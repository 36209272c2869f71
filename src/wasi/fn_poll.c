/* fn_poll.c: poll_oneoff and sched_yield. Subscriptions are read once when the call starts
 * (relative timeouts become monotonic deadlines then) and checked again at each completion. */
#include <errno.h>
#include <unistd.h>

#include "internal.h"

void wp__wasi_poll_done(wp_wasi *w) { w->nsubs = 0; }

static bool subs_reserve(wp_wasi *w, uint32_t n) {
    if (n <= w->subs_cap)
        return true;
    wp_wasi_sub *s = wp_heap_realloc(w->heap, w->subs, w->subs_cap * sizeof *s, n * sizeof *s);
    if (!s)
        return false;
    w->subs = s;
    w->subs_cap = n;
    return true;
}

/* A clock subscription's deadline on the host monotonic clock. CPU-time clocks do not
 * advance while the guest waits, so their timeouts are measured in wall time. */
static uint16_t clock_deadline(const uint8_t *s, uint64_t *deadline) {
    uint32_t id = wp__wasi_get32(s + 16);
    uint64_t timeout = wp__wasi_get64(s + 24);
    uint16_t flags = (uint16_t)(s[40] | s[41] << 8);
    uint64_t now;
    int e = wp__sys_clock_time(id, &now);
    if (e != 0)
        return wp__wasi_errno(e);
    uint64_t rel = timeout;
    if (flags & WP_WASI_SUBCLOCK_ABSTIME)
        rel = timeout > now ? timeout - now : 0;
    uint64_t mono = wp_wasi_now();
    *deadline = rel > UINT64_MAX - 1 - mono ? UINT64_MAX - 1 : mono + rel;
    return WP_WASI_ESUCCESS;
}

static uint16_t parse_sub(wp_wasi *w, const uint8_t *s, wp_wasi_sub *sub) {
    *sub = (wp_wasi_sub){.userdata = wp__wasi_get64(s), .type = s[8]};
    if (sub->type == WP_WASI_EVENT_CLOCK) {
        sub->error = clock_deadline(s, &sub->deadline);
        return WP_WASI_ESUCCESS;
    }
    if (sub->type != WP_WASI_EVENT_FD_READ && sub->type != WP_WASI_EVENT_FD_WRITE)
        return WP_WASI_EINVAL;
    sub->fd = wp__wasi_get32(s + 16);
    uint64_t rights = WP_WASI_RIGHT_POLL_FD_READWRITE | (sub->type == WP_WASI_EVENT_FD_READ
                                                             ? WP_WASI_RIGHT_FD_READ
                                                             : WP_WASI_RIGHT_FD_WRITE);
    wp_wasi_fd *f;
    sub->error = wp__wasi_fd_check(w, sub->fd, rights, &f);
    return WP_WASI_ESUCCESS;
}

static uint16_t parse(wp_wasi *w, const wp_wasi_op *op) {
    uint32_t n = op->len;
    if (n == 0)
        return WP_WASI_EINVAL;
    const uint8_t *in = wp__wasi_mem(op->mem, op->ptr, (uint64_t)n * WP_WASI_SUBSCRIPTION_SIZE);
    if (!in || !wp__wasi_mem(op->mem, op->out, (uint64_t)n * WP_WASI_EVENT_SIZE) ||
        !wp__wasi_mem(op->mem, op->out2, 4))
        return WP_WASI_EFAULT;
    if (!subs_reserve(w, n))
        return WP_WASI_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t e = parse_sub(w, in + (size_t)i * WP_WASI_SUBSCRIPTION_SIZE, &w->subs[i]);
        if (e != 0)
            return e;
    }
    w->nsubs = n;
    return WP_WASI_ESUCCESS;
}

static void put_event(uint8_t *p, const wp_wasi_sub *sub, uint16_t error, uint64_t nbytes,
                      bool hangup) {
    for (int i = 0; i < WP_WASI_EVENT_SIZE; i++)
        p[i] = 0;
    wp__wasi_le64(p, sub->userdata);
    wp__wasi_le16(p + 8, error);
    p[10] = sub->type;
    wp__wasi_le64(p + 16, nbytes);
    wp__wasi_le16(p + 24, hangup ? WP_WASI_EVENTRW_HANGUP : 0);
}

/* Bytes a regular file has left to read from its offset: always ready. */
static uint64_t file_left(int host) {
    struct stat st;
    off_t pos = lseek(host, 0, SEEK_CUR);
    if (fstat(host, &st) != 0 || pos < 0 || st.st_size <= pos)
        return 0;
    return (uint64_t)(st.st_size - pos);
}

/* Checks a descriptor subscription now: true and *event filled if it is ready. */
static bool fd_event(wp_wasi *w, const wp_wasi_sub *sub, uint8_t *event, bool *nomem) {
    bool reading = sub->type == WP_WASI_EVENT_FD_READ;
    wp_wasi_fd *f = wp__wasi_fd_get(w, sub->fd);
    if (!f) {
        put_event(event, sub, WP_WASI_EBADF, 0, false);
        return true;
    }
    if (!f->blocking_io) {
        put_event(event, sub, 0, reading && f->type == WP_WASI_FILETYPE_REGULAR_FILE
                                      ? file_left(f->host) : 0, false);
        return true;
    }
    uint32_t want = reading ? WP_WASI_READABLE : WP_WASI_WRITABLE;
    uint32_t ready;
    bool hangup;
    int e = wp__sys_ready(f->host, want, &ready, &hangup);
    if (e != 0 || ready) {
        uint64_t n = e == 0 && reading ? wp__sys_readable_bytes(f->host) : 0;
        put_event(event, sub, wp__wasi_errno(e), n, hangup);
        return true;
    }
    if (!wp__wasi_wait_fd(w, f->host, want))
        *nomem = true;
    return false;
}

/* Checks one subscription now: true and *event filled if it fired. */
static bool sub_event(wp_wasi *w, const wp_wasi_sub *sub, uint64_t now, uint8_t *event,
                      bool *nomem) {
    if (sub->error) {
        put_event(event, sub, sub->error, 0, false);
        return true;
    }
    if (sub->type != WP_WASI_EVENT_CLOCK)
        return fd_event(w, sub, event, nomem);
    if (now >= sub->deadline) {
        put_event(event, sub, 0, 0, false);
        return true;
    }
    if (sub->deadline < w->deadline)
        w->deadline = sub->deadline;
    return false;
}

bool wp__wasi_try_poll(wp_wasi *w, wp_wasi_op *op, uint16_t *e) {
    if (!op->started && (*e = parse(w, op)) != 0)
        return true;
    uint8_t *out = wp__wasi_mem(op->mem, op->out, (uint64_t)w->nsubs * WP_WASI_EVENT_SIZE);
    uint64_t now = wp_wasi_now();
    uint32_t count = 0;
    bool nomem = false;
    for (uint32_t i = 0; i < w->nsubs; i++)
        count += sub_event(w, &w->subs[i], now, out + (size_t)count * WP_WASI_EVENT_SIZE,
                           &nomem);
    if (count == 0 && !nomem)
        return false;
    *e = count ? WP_WASI_ESUCCESS : WP_WASI_ENOMEM;
    wp__wasi_put32(op->mem, op->out2, count); /* parse checked it fits */
    return true;
}

wp_host_result wp__wasi_poll_oneoff(wp_host_call *call, void *env, const wp_val *args,
                                    wp_val *results) {
    wp_wasi_op op = {.kind = WP_WASI_OP_POLL,
                     .mem = wp_host_call_memory(call),
                     .ptr = wp__wasi_u32(args, 0),
                     .out = wp__wasi_u32(args, 1),
                     .len = wp__wasi_u32(args, 2),
                     .out2 = wp__wasi_u32(args, 3)};
    return wp__wasi_start(env, &op, results);
}

wp_host_result wp__wasi_sched_yield(wp_host_call *call, void *env, const wp_val *args,
                                    wp_val *results) {
    (void)args;
    wp_wasi_op op = {.kind = WP_WASI_OP_YIELD, .mem = wp_host_call_memory(call)};
    return wp__wasi_start(env, &op, results);
}
