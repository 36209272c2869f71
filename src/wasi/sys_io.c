/* sys_io.c: readiness checks, the driver's wait, and clocks (POSIX). */
#include "sys.h"

#include <errno.h>
#include <poll.h>
#include <sys/ioctl.h>

#include "abi.h"

static short poll_events(uint32_t events) {
    return (short)(((events & WP_WASI_READABLE) ? POLLIN : 0) |
                   ((events & WP_WASI_WRITABLE) ? POLLOUT : 0));
}

int wp__sys_ready(int fd, uint32_t events, uint32_t *ready, bool *hangup) {
    struct pollfd p = {.fd = fd, .events = poll_events(events)};
    int n;
    do {
        n = poll(&p, 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno;
    /* Hang-up and errors make the operation proceed, so it can report them. */
    bool gone = (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
    *ready = 0;
    if ((p.revents & POLLIN) || (gone && (events & WP_WASI_READABLE)))
        *ready |= WP_WASI_READABLE;
    if ((p.revents & POLLOUT) || (gone && (events & WP_WASI_WRITABLE)))
        *ready |= WP_WASI_WRITABLE;
    if (hangup)
        *hangup = (p.revents & POLLHUP) != 0;
    return 0;
}

static int sleep_until(uint64_t deadline) {
    struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u),
                          .tv_nsec = (long)(deadline % 1000000000u)};
    int e;
    do {
        e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    } while (e == EINTR);
    return e;
}

/* Milliseconds until deadline for poll(), rounded up so we never wake early; -1: none. */
static int timeout_ms(uint64_t deadline) {
    if (deadline == WP_WASI_NO_DEADLINE)
        return -1;
    uint64_t now = wp_wasi_now();
    if (deadline <= now)
        return 0;
    uint64_t ms = (deadline - now + 999999u) / 1000000u;
    return ms > 86400000u ? 86400000 : (int)ms; /* a day at most: the caller loops */
}

int wp__sys_wait(const wp_wasi_waitfd *fds, uint32_t nfds, uint64_t deadline) {
    if (nfds == 0)
        return deadline == WP_WASI_NO_DEADLINE ? EDEADLK : sleep_until(deadline);
    struct pollfd few[16];
    struct pollfd *p = few;
    if (nfds > 16 && !(p = wp_heap_calloc(wp_heap_default(), nfds, sizeof *p)))
        return ENOMEM;
    for (uint32_t i = 0; i < nfds; i++)
        p[i] = (struct pollfd){.fd = fds[i].fd, .events = poll_events(fds[i].events)};
    int n;
    do {
        n = poll(p, nfds, timeout_ms(deadline));
    } while (n < 0 && errno == EINTR);
    int e = n < 0 ? errno : 0;
    if (p != few)
        wp_heap_free(wp_heap_default(), p, nfds * sizeof *p);
    return e;
}

uint64_t wp__sys_readable_bytes(int fd) {
    int n = 0;
    if (ioctl(fd, FIONREAD, &n) != 0 || n < 0)
        return 0;
    return (uint64_t)n;
}

static bool host_clock(uint32_t id, clockid_t *out) {
    static const clockid_t host[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                     CLOCK_THREAD_CPUTIME_ID};
    if (id >= sizeof host / sizeof host[0])
        return false;
    *out = host[id];
    return true;
}

static uint64_t to_ns(struct timespec ts) {
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int wp__sys_clock_time(uint32_t id, uint64_t *ns) {
    clockid_t c;
    struct timespec ts;
    if (!host_clock(id, &c))
        return EINVAL;
    if (clock_gettime(c, &ts) != 0)
        return errno;
    *ns = to_ns(ts);
    return 0;
}

int wp__sys_clock_res(uint32_t id, uint64_t *ns) {
    clockid_t c;
    struct timespec ts;
    if (!host_clock(id, &c))
        return EINVAL;
    if (clock_getres(c, &ts) != 0)
        return errno;
    *ns = to_ns(ts) ? to_ns(ts) : 1; /* WASI requires a non-zero resolution */
    return 0;
}

uint64_t wp_wasi_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return to_ns(ts);
}
