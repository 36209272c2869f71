/* p2_io.c: wasi:io: errors, input and output streams over host descriptors, pollables, poll.
 * Streams on pipes, terminals and sockets check readiness before each transfer and buffer
 * output, so no call ever blocks the thread: the blocking ones wait through the pending call. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "p2_internal.h"

/* ---- Resources --------------------------------------------------------------------------- */

static wp_p2_res *new_stream(wp_wasi2 *w, wp_p2_kind kind, int host, bool owned,
                             wp_p2_mode mode, uint64_t offset, uint32_t *rep) {
    wp_p2_res *e = wp__p2_new(w, kind, rep);
    if (!e) {
        if (owned)
            close(host);
        return NULL;
    }
    e->of.stream = (wp_p2_stream){.host = host, .owned = owned, .mode = mode, .offset = offset};
    return e;
}

wp_p2_res *wp__p2_input(wp_wasi2 *w, int host, bool owned, wp_p2_mode mode, uint64_t offset,
                        uint32_t *rep) {
    return new_stream(w, WP_P2_INPUT, host, owned, mode, offset, rep);
}

wp_p2_res *wp__p2_output(wp_wasi2 *w, int host, bool owned, wp_p2_mode mode, uint64_t offset,
                         uint32_t *rep) {
    return new_stream(w, WP_P2_OUTPUT, host, owned, mode, offset, rep);
}

static int drain(wp_p2_stream *s);

void wp__p2_stream_free(wp_wasi2 *w, wp_p2_stream *s) {
    if (s->len && !s->closed)
        drain(s); /* best effort: what a full pipe cannot take now is lost with the stream */
    wp_heap_free(w->heap, s->buf, s->cap);
    if (s->owned)
        close(s->host);
}

wp_status wp__p2_error(wp_wasi2 *w, int e, const char *what, uint32_t *rep) {
    char msg[256];
    int n = snprintf(msg, sizeof msg, "%s: %s", what,
                     e == WP_SYS_ENOTCAPABLE ? "outside the mount" : strerror(e));
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof msg ? sizeof msg - 1 : (size_t)n;
    char *copy = wp_heap_alloc(w->heap, len + 1);
    if (!copy)
        return WP_ERR_NOMEM;
    memcpy(copy, msg, len);
    copy[len] = '\0';
    wp_p2_res *r = wp__p2_new(w, WP_P2_ERROR, rep);
    if (!r) {
        wp_heap_free(w->heap, copy, len + 1);
        return WP_ERR_NOMEM;
    }
    r->of.error = (wp_p2_error){.msg = copy, .host = e};
    return WP_OK;
}

WP_P2_FN(wp__p2_error_debug) {
    wp_p2_res *e;
    uint32_t rep;
    if (!wp__p2_arg_res(w, &args[0], WP_P2_ERROR, &e, &rep))
        return WP_WASI2_TRAP;
    return wp__p2_done(w, wp_value_cstring(result, e->of.error.msg));
}

/* ---- Results ----------------------------------------------------------------------------- */

/* {err = closed} or {err = last-operation-failed(error)} for stream 'rep' (kind), which has
 * ended or has a failure to report (reported once; the stream is closed after it). */
static wp_wasi2_outcome stream_err(wp_wasi2 *w, uint32_t rep, wp_p2_kind kind,
                                   wp_value *result) {
    wp_p2_stream *s = &wp__p2_get(w, rep, kind)->of.stream;
    wp_value payload = wp_value_nil();
    const char *name = "closed";
    if (s->error) {
        int e = s->error;
        s->error = 0;
        s->closed = true;
        uint32_t erep;
        if (wp__p2_error(w, e, kind == WP_P2_INPUT ? "read" : "write", &erep) != WP_OK)
            return wp__p2_done(w, WP_ERR_NOMEM);
        payload = wp_value_int(erep);
        name = "last-operation-failed";
    }
    wp_value v;
    wp_status st = wp__p2_case(&v, name, &payload);
    if (st == WP_OK)
        st = wp__p2_case(result, "err", &v);
    return wp__p2_done(w, st);
}

static wp_wasi2_outcome ok_int(wp_wasi2 *w, uint64_t n, wp_value *result) {
    wp_value v = wp_value_int((int64_t)n);
    return wp__p2_done(w, wp__p2_ok(result, &v));
}

static wp_wasi2_outcome ok_unit(wp_wasi2 *w, wp_value *result) {
    wp_value v = wp_value_nil();
    return wp__p2_done(w, wp__p2_ok(result, &v));
}

/* ---- Input ------------------------------------------------------------------------------- */

/* Reads up to len bytes without waiting: 0 with *got (0 and s->closed at the end), EAGAIN
 * when nothing is there yet, or a host errno. */
static int read_some(wp_p2_stream *s, uint8_t *buf, size_t len, size_t *got) {
    *got = 0;
    if (s->mode == WP_P2_WAITS) {
        uint32_t ready;
        bool hangup;
        int e = wp__sys_ready(s->host, WP_WASI_READABLE, &ready, &hangup);
        if (e != 0)
            return e;
        if (!ready)
            return EAGAIN;
    }
    ssize_t n = s->mode == WP_P2_FILE ? pread(s->host, buf, len, (off_t)s->offset)
                                      : read(s->host, buf, len);
    if (n < 0)
        return errno == EWOULDBLOCK ? EAGAIN : errno;
    if (n == 0)
        s->closed = true;
    s->offset += (uint64_t)n;
    *got = (size_t)n;
    return 0;
}

/* One attempt of read/skip on input 'rep'; false (after adding the wait) if it must wait. */
static bool read_once(wp_wasi2 *w, uint32_t rep, uint64_t len, bool skip, bool blocking,
                      wp_value *result, wp_wasi2_outcome *out) {
    wp_p2_stream *s = &wp__p2_get(w, rep, WP_P2_INPUT)->of.stream;
    if (s->closed || s->error) {
        *out = stream_err(w, rep, WP_P2_INPUT, result);
        return true;
    }
    size_t want = len > WP_P2_READ_MAX ? WP_P2_READ_MAX : (size_t)len;
    uint8_t *buf = want ? wp_heap_alloc(w->heap, want) : NULL;
    if (want && !buf) {
        *out = wp__p2_done(w, WP_ERR_NOMEM);
        return true;
    }
    size_t got = 0;
    int e = want ? read_some(s, buf, want, &got) : 0;
    if (e == EAGAIN && blocking) {
        wp_heap_free(w->heap, buf, want);
        if (!wp__p2_wait_fd(w, s->host, WP_WASI_READABLE)) {
            *out = wp__p2_done(w, WP_ERR_NOMEM);
            return true;
        }
        return false;
    }
    if (e != 0 && e != EAGAIN)
        s->error = (uint16_t)e;
    if (s->error || (want && got == 0 && s->closed)) {
        wp_heap_free(w->heap, buf, want);
        *out = stream_err(w, rep, WP_P2_INPUT, result);
        return true;
    }
    wp_value v = wp_value_int((int64_t)got);
    wp_status st = skip ? WP_OK : wp_value_bytes(&v, buf, got);
    wp_heap_free(w->heap, buf, want);
    if (st == WP_OK)
        st = wp__p2_ok(result, &v);
    *out = wp__p2_done(w, st);
    return true;
}

bool wp__p2_try_read(wp_wasi2 *w, wp_p2_op *op, wp_value *result, wp_wasi2_outcome *out) {
    return read_once(w, op->a, op->len, op->kind == WP_P2_OP_SKIP, true, result, out);
}

static wp_wasi2_outcome input_call(wp_wasi2 *w, const wp_value *args, bool skip, bool blocking,
                                   wp_value *result) {
    wp_p2_res *e;
    uint32_t rep;
    uint64_t len;
    if (!wp__p2_arg_res(w, &args[0], WP_P2_INPUT, &e, &rep) || !wp__p2_arg_u64(w, &args[1], &len))
        return WP_WASI2_TRAP;
    if (blocking) {
        wp_p2_op op = {.kind = skip ? WP_P2_OP_SKIP : WP_P2_OP_READ, .a = rep, .len = len};
        return wp__p2_start(w, &op, result);
    }
    wp_wasi2_outcome out = WP_WASI2_DONE;
    read_once(w, rep, len, skip, false, result, &out);
    return out;
}

WP_P2_FN(wp__p2_in_read) { return input_call(w, args, false, false, result); }
WP_P2_FN(wp__p2_in_blocking_read) { return input_call(w, args, false, true, result); }
WP_P2_FN(wp__p2_in_skip) { return input_call(w, args, true, false, result); }
WP_P2_FN(wp__p2_in_blocking_skip) { return input_call(w, args, true, true, result); }

/* ---- Output ------------------------------------------------------------------------------ */

/* Writes what the buffer holds until the host would block: 0 (some may remain) or a host
 * errno. A pipe is written at most PIPE_BUF bytes per readiness check: no more is sure to fit. */
static int drain(wp_p2_stream *s) {
    while (s->len) {
        uint32_t ready;
        bool hangup;
        int e = wp__sys_ready(s->host, WP_WASI_WRITABLE, &ready, &hangup);
        if (e != 0)
            return e;
        if (!ready)
            return 0;
        size_t n = s->len < PIPE_BUF ? s->len : PIPE_BUF;
        ssize_t put = write(s->host, s->buf, n);
        if (put < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno;
        memmove(s->buf, s->buf + put, s->len - (size_t)put);
        s->len -= (size_t)put;
    }
    return 0;
}

/* Records a failed transfer: EPIPE closes the stream, others are reported once. */
static void failed(wp_p2_stream *s, int e) {
    if (e == EPIPE)
        s->closed = true;
    else
        s->error = (uint16_t)e;
}

/* Writes all of data at once (files and direct stdio never wait); 0 or a host errno. */
static int write_all(wp_p2_stream *s, const uint8_t *data, size_t len) {
    if (s->mode == WP_P2_FILE && s->append) {
        struct stat st;
        if (fstat(s->host, &st) != 0)
            return errno;
        s->offset = (uint64_t)st.st_size;
    }
    while (len) {
        ssize_t n = s->mode == WP_P2_FILE ? pwrite(s->host, data, len, (off_t)s->offset)
                                          : write(s->host, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        s->offset += (uint64_t)n;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Bytes a write may pass now (check-write's answer), after moving the buffer on. */
static uint64_t budget(wp_p2_stream *s) {
    if (s->mode != WP_P2_WAITS)
        return WP_P2_WRITE_BUDGET;
    int e = drain(s);
    if (e != 0)
        failed(s, e);
    return WP_P2_WRITE_BUDGET - s->len;
}

/* Appends len bytes (data, or zeroes when data is NULL) to the buffer. */
static int buffer(wp_wasi2 *w, wp_p2_stream *s, const uint8_t *data, size_t len) {
    if (s->len + len > s->cap) {
        size_t cap = WP_P2_WRITE_BUDGET;
        uint8_t *p = wp_heap_realloc(w->heap, s->buf, s->cap, cap);
        if (!p)
            return ENOMEM;
        s->buf = p;
        s->cap = cap;
    }
    if (data)
        memcpy(s->buf + s->len, data, len);
    else
        memset(s->buf + s->len, 0, len);
    s->len += len;
    return drain(s);
}

/* write / write-zeroes: data NULL writes len zeroes. */
static wp_wasi2_outcome put(wp_wasi2 *w, uint32_t rep, const uint8_t *data, size_t len,
                            wp_value *result) {
    wp_p2_stream *s = &wp__p2_get(w, rep, WP_P2_OUTPUT)->of.stream;
    if (s->closed || s->error)
        return stream_err(w, rep, WP_P2_OUTPUT, result);
    uint64_t room = s->mode == WP_P2_WAITS ? WP_P2_WRITE_BUDGET - s->len : WP_P2_WRITE_BUDGET;
    if (len > room)
        return wp__p2_trap(w, "output-stream.write: %zu bytes, more than check-write allows "
                              "(%llu)", len, (unsigned long long)room);
    int e = 0;
    if (s->mode == WP_P2_WAITS)
        e = buffer(w, s, data, len);
    else if (data)
        e = write_all(s, data, len);
    else {
        static const uint8_t zeroes[4096];
        for (size_t n; e == 0 && len; len -= n) {
            n = len < sizeof zeroes ? len : sizeof zeroes;
            e = write_all(s, zeroes, n);
        }
    }
    if (e == ENOMEM)
        return wp__p2_done(w, WP_ERR_NOMEM);
    if (e != 0) {
        failed(s, e);
        return stream_err(w, rep, WP_P2_OUTPUT, result);
    }
    return ok_unit(w, result);
}

bool wp__p2_try_flush(wp_wasi2 *w, wp_p2_op *op, wp_value *result, wp_wasi2_outcome *out) {
    wp_p2_stream *s = &wp__p2_get(w, op->a, WP_P2_OUTPUT)->of.stream;
    int e = s->closed || s->error ? 0 : drain(s);
    if (e != 0)
        failed(s, e);
    if (s->closed || s->error) {
        *out = stream_err(w, op->a, WP_P2_OUTPUT, result);
        return true;
    }
    if (s->len == 0) {
        *out = ok_unit(w, result);
        return true;
    }
    if (!wp__p2_wait_fd(w, s->host, WP_WASI_WRITABLE)) {
        *out = wp__p2_done(w, WP_ERR_NOMEM);
        return true;
    }
    return false;
}

static bool out_arg(wp_wasi2 *w, const wp_value *args, uint32_t *rep) {
    wp_p2_res *e;
    return wp__p2_arg_res(w, &args[0], WP_P2_OUTPUT, &e, rep);
}

WP_P2_FN(wp__p2_out_check_write) {
    uint32_t rep;
    if (!out_arg(w, args, &rep))
        return WP_WASI2_TRAP;
    wp_p2_stream *s = &wp__p2_get(w, rep, WP_P2_OUTPUT)->of.stream;
    uint64_t n = s->closed || s->error ? 0 : budget(s);
    if (s->closed || s->error)
        return stream_err(w, rep, WP_P2_OUTPUT, result);
    return ok_int(w, n, result);
}

/* write and blocking-write-and-flush (flush set). */
static wp_wasi2_outcome write_call(wp_wasi2 *w, const wp_value *args, bool flush,
                                   wp_value *result) {
    uint32_t rep;
    const char *data;
    size_t len;
    if (!out_arg(w, args, &rep) || !wp__p2_arg_str(w, &args[1], &data, &len))
        return WP_WASI2_TRAP;
    wp_wasi2_outcome out = put(w, rep, (const uint8_t *)data, len, result);
    if (!flush || out != WP_WASI2_DONE || !wp_value_map_get(result, "ok"))
        return out;
    wp_value_free(result);
    wp_p2_op op = {.kind = WP_P2_OP_FLUSH, .a = rep};
    return wp__p2_start(w, &op, result);
}

/* write-zeroes and blocking-write-zeroes-and-flush. */
static wp_wasi2_outcome zeroes_call(wp_wasi2 *w, const wp_value *args, bool flush,
                                    wp_value *result) {
    uint32_t rep;
    uint64_t len;
    if (!out_arg(w, args, &rep) || !wp__p2_arg_u64(w, &args[1], &len))
        return WP_WASI2_TRAP;
    if (len > WP_P2_WRITE_BUDGET)
        return wp__p2_trap(w, "output-stream.write-zeroes: %llu bytes, more than check-write "
                              "allows", (unsigned long long)len);
    wp_wasi2_outcome out = put(w, rep, NULL, (size_t)len, result);
    if (!flush || out != WP_WASI2_DONE || !wp_value_map_get(result, "ok"))
        return out;
    wp_value_free(result);
    wp_p2_op op = {.kind = WP_P2_OP_FLUSH, .a = rep};
    return wp__p2_start(w, &op, result);
}

WP_P2_FN(wp__p2_out_write) { return write_call(w, args, false, result); }
WP_P2_FN(wp__p2_out_blocking_write) { return write_call(w, args, true, result); }
WP_P2_FN(wp__p2_out_write_zeroes) { return zeroes_call(w, args, false, result); }
WP_P2_FN(wp__p2_out_blocking_write_zeroes) { return zeroes_call(w, args, true, result); }

WP_P2_FN(wp__p2_out_flush) {
    uint32_t rep;
    if (!out_arg(w, args, &rep))
        return WP_WASI2_TRAP;
    wp_p2_stream *s = &wp__p2_get(w, rep, WP_P2_OUTPUT)->of.stream;
    if (!s->closed && !s->error && s->mode == WP_P2_WAITS) {
        int e = drain(s);
        if (e != 0)
            failed(s, e);
    }
    if (s->closed || s->error)
        return stream_err(w, rep, WP_P2_OUTPUT, result);
    return ok_unit(w, result);
}

WP_P2_FN(wp__p2_out_blocking_flush) {
    uint32_t rep;
    if (!out_arg(w, args, &rep))
        return WP_WASI2_TRAP;
    wp_p2_op op = {.kind = WP_P2_OP_FLUSH, .a = rep};
    return wp__p2_start(w, &op, result);
}

/* ---- Splice ------------------------------------------------------------------------------ */

/* Moves up to len bytes from input b to output a without waiting; false (waiting on what is
 * missing) when blocking and nothing could move. */
static bool splice_once(wp_wasi2 *w, uint32_t a, uint32_t b, uint64_t len, bool blocking,
                        wp_value *result, wp_wasi2_outcome *out) {
    wp_p2_stream *o = &wp__p2_get(w, a, WP_P2_OUTPUT)->of.stream;
    if (o->closed || o->error) {
        *out = stream_err(w, a, WP_P2_OUTPUT, result);
        return true;
    }
    uint64_t room = budget(o);
    if (room == 0 && blocking) {
        if (!wp__p2_wait_fd(w, o->host, WP_WASI_WRITABLE)) {
            *out = wp__p2_done(w, WP_ERR_NOMEM);
            return true;
        }
        return false;
    }
    uint64_t want = len < room ? len : room;
    if (!read_once(w, b, want, false, blocking, result, out))
        return false;
    wp_value *data = wp_value_map_get(result, "ok");
    if (*out != WP_WASI2_DONE || !data)
        return true; /* the input's error is the splice's */
    wp_value got = *data;
    *data = wp_value_nil();
    wp_value_free(result);
    size_t n;
    const char *bytes = wp_value_str(&got, &n);
    *out = put(w, a, (const uint8_t *)bytes, n, result);
    wp_value_free(&got);
    if (*out == WP_WASI2_DONE && wp_value_map_get(result, "ok")) {
        wp_value_free(result);
        *out = ok_int(w, n, result);
    }
    return true;
}

bool wp__p2_try_splice(wp_wasi2 *w, wp_p2_op *op, wp_value *result, wp_wasi2_outcome *out) {
    return splice_once(w, op->a, op->b, op->len, true, result, out);
}

static wp_wasi2_outcome splice_call(wp_wasi2 *w, const wp_value *args, bool blocking,
                                    wp_value *result) {
    uint32_t a;
    uint32_t b;
    wp_p2_res *in;
    uint64_t len;
    if (!out_arg(w, args, &a) || !wp__p2_arg_res(w, &args[1], WP_P2_INPUT, &in, &b) ||
        !wp__p2_arg_u64(w, &args[2], &len))
        return WP_WASI2_TRAP;
    if (blocking) {
        wp_p2_op op = {.kind = WP_P2_OP_SPLICE, .a = a, .b = b, .len = len};
        return wp__p2_start(w, &op, result);
    }
    wp_wasi2_outcome out = WP_WASI2_DONE;
    splice_once(w, a, b, len, false, result, &out);
    return out;
}

WP_P2_FN(wp__p2_out_splice) { return splice_call(w, args, false, result); }
WP_P2_FN(wp__p2_out_blocking_splice) { return splice_call(w, args, true, result); }

/* ---- Pollables --------------------------------------------------------------------------- */

static wp_wasi2_outcome subscribe(wp_wasi2 *w, const wp_value *args, wp_p2_kind kind,
                                  wp_value *result) {
    wp_p2_res *e;
    uint32_t rep;
    if (!wp__p2_arg_res(w, &args[0], kind, &e, &rep))
        return WP_WASI2_TRAP;
    uint32_t prep;
    wp_p2_res *p = wp__p2_new(w, WP_P2_POLLABLE, &prep);
    if (!p)
        return wp__p2_done(w, WP_ERR_NOMEM);
    p->of.poll = (wp_p2_pollable){
        .when = kind == WP_P2_INPUT ? WP_P2_WHEN_INPUT : WP_P2_WHEN_OUTPUT, .rep = rep};
    wp__p2_get(w, rep, kind)->of.stream.children++;
    *result = wp_value_int(prep);
    return WP_WASI2_DONE;
}

WP_P2_FN(wp__p2_in_subscribe) { return subscribe(w, args, WP_P2_INPUT, result); }
WP_P2_FN(wp__p2_out_subscribe) { return subscribe(w, args, WP_P2_OUTPUT, result); }

/* Whether pollable p is ready; if not, adds what it waits for. False in *ok: no memory. */
static bool ready(wp_wasi2 *w, const wp_p2_pollable *p, bool *ok) {
    uint64_t now = wp_wasi_now();
    wp_p2_stream *s = NULL;
    uint32_t bits = 0;
    bool hangup;
    switch (p->when) {
    case WP_P2_WHEN_NOW:
        return true;
    case WP_P2_WHEN_DEADLINE:
        if (now >= p->deadline)
            return true;
        if (p->deadline < w->deadline)
            w->deadline = p->deadline;
        return false;
    case WP_P2_WHEN_INPUT:
        s = &w->res[p->rep - 1].of.stream;
        if (s->closed || s->error || s->mode != WP_P2_WAITS ||
            wp__sys_ready(s->host, WP_WASI_READABLE, &bits, &hangup) != 0 || bits)
            return true;
        *ok = wp__p2_wait_fd(w, s->host, WP_WASI_READABLE);
        return false;
    default:
        s = &w->res[p->rep - 1].of.stream;
        if (s->closed || s->error || budget(s) > 0)
            return true;
        *ok = wp__p2_wait_fd(w, s->host, WP_WASI_WRITABLE);
        return false;
    }
}

WP_P2_FN(wp__p2_pollable_ready) {
    wp_p2_res *e;
    uint32_t rep;
    if (!wp__p2_arg_res(w, &args[0], WP_P2_POLLABLE, &e, &rep))
        return WP_WASI2_TRAP;
    bool ok = true;
    bool r = ready(w, &e->of.poll, &ok);
    w->wait.n = 0;
    w->deadline = WP_WASI_NO_DEADLINE;
    *result = wp_value_bool(r);
    return WP_WASI2_DONE;
}

WP_P2_FN(wp__p2_pollable_block) {
    wp_p2_res *e;
    uint32_t rep;
    if (!wp__p2_arg_res(w, &args[0], WP_P2_POLLABLE, &e, &rep))
        return WP_WASI2_TRAP;
    wp_p2_op op = {.kind = WP_P2_OP_BLOCK, .a = rep};
    return wp__p2_start(w, &op, result);
}

/* The indexes of the ready pollables of op (one for block: then the result is nil). */
bool wp__p2_try_poll(wp_wasi2 *w, wp_p2_op *op, wp_value *result, wp_wasi2_outcome *out) {
    bool block = op->kind == WP_P2_OP_BLOCK;
    uint32_t n = block ? 1 : op->nlist;
    wp_value list;
    if (wp_value_array(&list, 1) != WP_OK) {
        *out = wp__p2_done(w, WP_ERR_NOMEM);
        return true;
    }
    bool ok = true;
    wp_status st = WP_OK;
    for (uint32_t i = 0; i < n && ok && st == WP_OK; i++) {
        const wp_p2_pollable *p = &w->res[(block ? op->a : op->list[i]) - 1].of.poll;
        wp_value idx = wp_value_int(i);
        if (ready(w, p, &ok))
            st = wp_value_array_push(&list, &idx);
    }
    if (!ok || st != WP_OK || wp_value_len(&list) > 0) {
        *out = wp__p2_done(w, ok ? st : WP_ERR_NOMEM);
        if (*out == WP_WASI2_DONE && !block)
            *result = list;
        else
            wp_value_free(&list);
        return true;
    }
    wp_value_free(&list);
    return false;
}

WP_P2_FN(wp__p2_poll) {
    const wp_value *in = &args[0];
    size_t n = wp_value_len(in);
    if (in->kind != WP_VARRAY)
        return wp__p2_trap(w, "poll: expected a list of pollables");
    if (n == 0)
        return wp__p2_trap(w, "poll: the list of pollables is empty");
    if (n > UINT32_MAX / sizeof(uint32_t))
        return wp__p2_trap(w, "poll: too many pollables");
    uint32_t *reps = wp_heap_alloc(w->heap, n * sizeof *reps);
    if (!reps)
        return wp__p2_done(w, WP_ERR_NOMEM);
    for (size_t i = 0; i < n; i++) {
        wp_p2_res *e;
        if (!wp__p2_arg_res(w, wp_value_at(in, i), WP_P2_POLLABLE, &e, &reps[i])) {
            wp_heap_free(w->heap, reps, n * sizeof *reps);
            return WP_WASI2_TRAP;
        }
    }
    wp_p2_op op = {.kind = WP_P2_OP_POLL, .list = reps, .nlist = (uint32_t)n};
    return wp__p2_start(w, &op, result);
}
