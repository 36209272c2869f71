/* fn_io.c: reading and writing: fd_read/write/pread/pwrite and sock_*. Reads and writes on
 * pipes, terminals and sockets check readiness first and wait through pending.c instead of
 * blocking; regular files are read and written at once. */
#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

static bool is_socket(const wp_wasi_fd *f) {
    return f->type == WP_WASI_FILETYPE_SOCKET_STREAM || f->type == WP_WASI_FILETYPE_SOCKET_DGRAM;
}

/* A pipe accepts PIPE_BUF bytes without blocking once poll() says it is writable: no more. */
static int cap_iovecs(struct iovec *iov, int n, size_t cap) {
    for (int i = 0; i < n; i++) {
        if (iov[i].iov_len >= cap) {
            iov[i].iov_len = cap;
            return i + 1;
        }
        cap -= iov[i].iov_len;
    }
    return n;
}

static ssize_t sock_transfer(const wp_wasi_op *op, const wp_wasi_fd *f, struct iovec *iov, int n,
                             uint16_t *roflags) {
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    bool reading = op->kind == WP_WASI_OP_READ || op->kind == WP_WASI_OP_RECV;
    if (!reading)
        return sendmsg(f->host, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    int flags = MSG_DONTWAIT;
    if (op->kind == WP_WASI_OP_RECV && (op->flags & WP_WASI_RIFLAG_PEEK))
        flags |= MSG_PEEK;
    ssize_t got = recvmsg(f->host, &msg, flags);
    if (got >= 0 && (msg.msg_flags & MSG_TRUNC))
        *roflags = WP_WASI_ROFLAG_TRUNCATED;
    return got;
}

static ssize_t transfer(const wp_wasi_op *op, const wp_wasi_fd *f, struct iovec *iov, int n,
                        uint16_t *roflags) {
    if (is_socket(f))
        return sock_transfer(op, f, iov, n, roflags);
    if (op->kind == WP_WASI_OP_READ)
        return readv(f->host, iov, n);
    return writev(f->host, iov, n);
}

/* Arguments, rights and pointers of a read or write, checked before anything happens. */
static uint16_t io_check(wp_wasi *w, const wp_wasi_op *op, wp_wasi_fd **f, int *n) {
    bool reading = op->kind == WP_WASI_OP_READ || op->kind == WP_WASI_OP_RECV;
    uint16_t e = wp__wasi_fd_check(w, op->fd, reading ? WP_WASI_RIGHT_FD_READ
                                                      : WP_WASI_RIGHT_FD_WRITE, f);
    if (e != 0)
        return e;
    if (!reading && (*f)->read_only)
        return WP_WASI_EROFS;
    bool sock_call = op->kind == WP_WASI_OP_RECV || op->kind == WP_WASI_OP_SEND;
    if (sock_call && !is_socket(*f))
        return WP_WASI_ENOTSOCK;
    uint32_t allowed = op->kind == WP_WASI_OP_RECV ? WP_WASI_RIFLAG_PEEK | WP_WASI_RIFLAG_WAITALL
                                                   : 0;
    if (op->flags & ~allowed)
        return WP_WASI_EINVAL;
    if (!wp__wasi_mem(op->mem, op->out, 4) ||
        (op->kind == WP_WASI_OP_RECV && !wp__wasi_mem(op->mem, op->out2, 2)))
        return WP_WASI_EFAULT;
    return wp__wasi_iovecs(w, op->mem, op->ptr, op->len, n);
}

/* Skips the first 'skip' bytes of the n iovecs; returns how many iovecs remain. */
static int skip_iovecs(struct iovec *iov, int n, size_t skip) {
    int i = 0;
    while (i < n && skip >= iov[i].iov_len)
        skip -= iov[i++].iov_len;
    if (i < n) {
        iov[i].iov_base = (char *)iov[i].iov_base + skip;
        iov[i].iov_len -= skip;
    }
    for (int k = i; k < n; k++)
        iov[k - i] = iov[k];
    return n - i;
}

static bool wants_all(const wp_wasi_op *op, const wp_wasi_fd *f) {
    return op->kind == WP_WASI_OP_RECV && (op->flags & WP_WASI_RIFLAG_WAITALL) &&
           !(op->flags & WP_WASI_RIFLAG_PEEK) && f->type == WP_WASI_FILETYPE_SOCKET_STREAM;
}

/* sock_recv with waitall on a stream socket gathers until the buffers are full or the peer
 * ends the stream, waiting between pieces like any other read; op->done counts across waits.
 * A non-blocking descriptor returns what has come once something has. */
static bool try_recv_all(wp_wasi *w, wp_wasi_op *op, const wp_wasi_fd *f, int n, uint16_t *e) {
    n = skip_iovecs(w->iov, n, op->done);
    while (n > 0) {
        uint16_t roflags = 0;
        ssize_t got = transfer(op, f, w->iov, n, &roflags);
        if (got == 0)
            break; /* end of stream */
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (op->done == 0 || !(f->flags & WP_WASI_FDFLAG_NONBLOCK))
                return wp__wasi_would_block(w, f, WP_WASI_READABLE, e);
            break;
        }
        if (got < 0) {
            *e = wp__wasi_errno(errno);
            return true;
        }
        op->done += (uint32_t)got;
        n = skip_iovecs(w->iov, n, (size_t)got);
    }
    wp__wasi_put32(op->mem, op->out, op->done); /* io_check saw both fit */
    wp__wasi_le16(wp__wasi_mem(op->mem, op->out2, 2), 0);
    *e = WP_WASI_ESUCCESS;
    return true;
}

bool wp__wasi_try_io(wp_wasi *w, wp_wasi_op *op, uint16_t *e) {
    wp_wasi_fd *f;
    int n;
    if ((*e = io_check(w, op, &f, &n)) != 0)
        return true;
    bool reading = op->kind == WP_WASI_OP_READ || op->kind == WP_WASI_OP_RECV;
    uint32_t events = reading ? WP_WASI_READABLE : WP_WASI_WRITABLE;
    if (f->blocking_io && !is_socket(f)) { /* sockets use MSG_DONTWAIT instead */
        uint32_t ready;
        int rc = wp__sys_ready(f->host, events, &ready, NULL);
        if (rc != 0) {
            *e = wp__wasi_errno(rc);
            return true;
        }
        if (!ready)
            return wp__wasi_would_block(w, f, events, e);
        if (!reading && f->type == WP_WASI_FILETYPE_UNKNOWN)
            n = cap_iovecs(w->iov, n, PIPE_BUF);
    }
    if (wants_all(op, f))
        return try_recv_all(w, op, f, n, e);
    uint16_t roflags = 0;
    ssize_t got = transfer(op, f, w->iov, n, &roflags);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return wp__wasi_would_block(w, f, events, e);
    if (got < 0) {
        *e = wp__wasi_errno(errno);
        return true;
    }
    wp__wasi_put32(op->mem, op->out, (uint32_t)got); /* io_check saw both fit */
    if (op->kind == WP_WASI_OP_RECV)
        wp__wasi_le16(wp__wasi_mem(op->mem, op->out2, 2), roflags);
    *e = WP_WASI_ESUCCESS;
    return true;
}

static wp_host_result start_io(wp_host_call *call, void *env, wp_wasi_opkind kind,
                               const wp_val *args, uint32_t flags, uint32_t out, uint32_t out2,
                               wp_val *results) {
    wp_wasi_op op = {.kind = kind,
                     .mem = wp_host_call_memory(call),
                     .fd = wp__wasi_u32(args, 0),
                     .ptr = wp__wasi_u32(args, 1),
                     .len = wp__wasi_u32(args, 2),
                     .flags = flags,
                     .out = out,
                     .out2 = out2};
    return wp__wasi_start(env, &op, results);
}

wp_host_result wp__wasi_fd_read(wp_host_call *call, void *env, const wp_val *args,
                                wp_val *results) {
    return start_io(call, env, WP_WASI_OP_READ, args, 0, wp__wasi_u32(args, 3), 0, results);
}

wp_host_result wp__wasi_fd_write(wp_host_call *call, void *env, const wp_val *args,
                                 wp_val *results) {
    return start_io(call, env, WP_WASI_OP_WRITE, args, 0, wp__wasi_u32(args, 3), 0, results);
}

wp_host_result wp__wasi_sock_recv(wp_host_call *call, void *env, const wp_val *args,
                                  wp_val *results) {
    return start_io(call, env, WP_WASI_OP_RECV, args, wp__wasi_u32(args, 3),
                    wp__wasi_u32(args, 4), wp__wasi_u32(args, 5), results);
}

wp_host_result wp__wasi_sock_send(wp_host_call *call, void *env, const wp_val *args,
                                  wp_val *results) {
    return start_io(call, env, WP_WASI_OP_SEND, args, wp__wasi_u32(args, 3),
                    wp__wasi_u32(args, 4), 0, results);
}

/* fd_pread / fd_pwrite: at an offset, never waiting (files and devices that seek). */
static uint16_t positioned(wp_wasi *w, wp_memory *m, const wp_val *args, bool reading) {
    wp_wasi_fd *f;
    uint64_t rights = WP_WASI_RIGHT_FD_SEEK | (reading ? WP_WASI_RIGHT_FD_READ
                                                       : WP_WASI_RIGHT_FD_WRITE);
    uint16_t e = wp__wasi_fd_check(w, wp__wasi_u32(args, 0), rights, &f);
    uint64_t off = wp__wasi_u64(args, 3);
    uint32_t out = wp__wasi_u32(args, 4);
    int n;
    if (e == 0 && !reading && f->read_only)
        e = WP_WASI_EROFS;
    if (e == 0 && off > INT64_MAX)
        e = WP_WASI_EINVAL;
    if (e == 0 && !wp__wasi_mem(m, out, 4))
        e = WP_WASI_EFAULT;
    if (e == 0)
        e = wp__wasi_iovecs(w, m, wp__wasi_u32(args, 1), wp__wasi_u32(args, 2), &n);
    if (e != 0)
        return e;
    ssize_t got = reading ? preadv(f->host, w->iov, n, (off_t)off)
                          : pwritev(f->host, w->iov, n, (off_t)off);
    if (got < 0)
        return wp__wasi_errno(errno);
    wp__wasi_put32(m, out, (uint32_t)got);
    return WP_WASI_ESUCCESS;
}

wp_host_result wp__wasi_fd_pread(wp_host_call *call, void *env, const wp_val *args,
                                 wp_val *results) {
    return wp__wasi_ret(results, positioned(env, wp_host_call_memory(call), args, true));
}

wp_host_result wp__wasi_fd_pwrite(wp_host_call *call, void *env, const wp_val *args,
                                  wp_val *results) {
    return wp__wasi_ret(results, positioned(env, wp_host_call_memory(call), args, false));
}

/* Takes over accepted socket c as a new guest fd written to op->out. */
static uint16_t add_accepted(wp_wasi *w, const wp_wasi_op *op, int c) {
    wp_wasi_fd e = {.host = c, .owned = true};
    int rc = wp__wasi_fd_describe(c, &e);
    uint32_t fd = 0;
    uint16_t err = rc ? wp__wasi_errno(rc) : 0;
    e.base &= ~WP_WASI_RIGHT_SOCK_ACCEPT;
    e.flags = (uint16_t)(op->flags & WP_WASI_FDFLAG_NONBLOCK);
    if (err == 0)
        err = wp__wasi_fd_add(w, &e, &fd);
    if (err != 0) {
        close(c);
        return err;
    }
    wp__wasi_put32(op->mem, op->out, fd); /* checked before accepting */
    return WP_WASI_ESUCCESS;
}

bool wp__wasi_try_accept(wp_wasi *w, wp_wasi_op *op, uint16_t *e) {
    wp_wasi_fd *f;
    if ((*e = wp__wasi_fd_check(w, op->fd, WP_WASI_RIGHT_SOCK_ACCEPT, &f)) != 0)
        return true;
    if (op->flags & ~WP_WASI_FDFLAG_NONBLOCK)
        *e = WP_WASI_EINVAL;
    else if (!wp__wasi_mem(op->mem, op->out, 4))
        *e = WP_WASI_EFAULT;
    int listening = 0;
    socklen_t len = sizeof listening;
    if (*e == 0 && (getsockopt(f->host, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
                    !listening))
        *e = WP_WASI_EINVAL; /* it would never become ready: say so now, as accept() does */
    if (*e != 0)
        return true;
    uint32_t ready;
    int rc = wp__sys_ready(f->host, WP_WASI_READABLE, &ready, NULL);
    if (rc == 0 && !ready)
        return wp__wasi_would_block(w, f, WP_WASI_READABLE, e);
    int c = rc ? -1 : accept(f->host, NULL, NULL);
    if (c < 0 && rc == 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return wp__wasi_would_block(w, f, WP_WASI_READABLE, e);
    if (c < 0) {
        *e = wp__wasi_errno(rc ? rc : errno);
        return true;
    }
    fcntl(c, F_SETFD, FD_CLOEXEC);
    *e = add_accepted(w, op, c);
    return true;
}

wp_host_result wp__wasi_sock_accept(wp_host_call *call, void *env, const wp_val *args,
                                    wp_val *results) {
    wp_wasi_op op = {.kind = WP_WASI_OP_ACCEPT,
                     .mem = wp_host_call_memory(call),
                     .fd = wp__wasi_u32(args, 0),
                     .flags = wp__wasi_u32(args, 1),
                     .out = wp__wasi_u32(args, 2)};
    return wp__wasi_start(env, &op, results);
}

wp_host_result wp__wasi_sock_shutdown(wp_host_call *call, void *env, const wp_val *args,
                                      wp_val *results) {
    (void)call;
    wp_wasi_fd *f;
    uint16_t e = wp__wasi_fd_check(env, wp__wasi_u32(args, 0), WP_WASI_RIGHT_SOCK_SHUTDOWN, &f);
    uint32_t how = wp__wasi_u32(args, 1);
    static const int host_how[] = {0, SHUT_RD, SHUT_WR, SHUT_RDWR};
    if (e != 0)
        return wp__wasi_ret(results, e);
    if (how == 0 || how > (WP_WASI_SDFLAG_RD | WP_WASI_SDFLAG_WR))
        return wp__wasi_ret(results, WP_WASI_EINVAL);
    if (shutdown(f->host, host_how[how]) != 0)
        return wp__wasi_ret(results, wp__wasi_errno(errno));
    return wp__wasi_ret(results, WP_WASI_ESUCCESS);
}
