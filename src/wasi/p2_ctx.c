/* p2_ctx.c: the WASI 0.2 context, its resource table, the pending call and the function table. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "p2_internal.h"

static const wp_wasi2_func funcs[] = {
#define ROW(iface, name, nparams, fn) {iface, name, nparams, fn},
    WP_P2_FUNCS(ROW)
#undef ROW
};

/* Resource types, in wp_p2_kind order after WP_P2_FREE. */
static const wp_wasi2_resource resources[] = {
    {"wasi:io/error", "error"},
    {"wasi:io/streams", "input-stream"},
    {"wasi:io/streams", "output-stream"},
    {"wasi:io/poll", "pollable"},
    {"wasi:filesystem/types", "descriptor"},
    {"wasi:filesystem/types", "directory-entry-stream"},
    {"wasi:cli/terminal-input", "terminal-input"},
    {"wasi:cli/terminal-output", "terminal-output"},
};

/* Interfaces with only resources (no functions of their own). */
static const char *const resource_only[] = {"wasi:cli/terminal-input",
                                            "wasi:cli/terminal-output"};

const wp_wasi2_func *wp_wasi2_funcs(uint32_t *count) {
    *count = (uint32_t)(sizeof funcs / sizeof funcs[0]);
    return funcs;
}

const wp_wasi2_resource *wp_wasi2_resources(uint32_t *count) {
    *count = (uint32_t)(sizeof resources / sizeof resources[0]);
    return resources;
}

/* Length of iface without its "@version" suffix. */
static size_t bare_len(const char *iface) {
    const char *at = strchr(iface, '@');
    return at ? (size_t)(at - iface) : strlen(iface);
}

static bool same_iface(const char *ours, const char *theirs) {
    size_t n = bare_len(theirs);
    if (strlen(ours) != n || memcmp(ours, theirs, n) != 0)
        return false;
    /* Any 0.2.x is served by 0.2.3 (the interfaces only grew within 0.2). */
    const char *at = strchr(theirs, '@');
    return !at || strncmp(at + 1, "0.2.", 4) == 0 || strcmp(at + 1, "0.2") == 0;
}

const wp_wasi2_func *wp_wasi2_find(const char *iface, const char *name) {
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
        if (same_iface(funcs[i].iface, iface) && strcmp(funcs[i].name, name) == 0)
            return &funcs[i];
    return NULL;
}

bool wp_wasi2_has_iface(const char *iface) {
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
        if (same_iface(funcs[i].iface, iface))
            return true;
    for (size_t i = 0; i < sizeof resource_only / sizeof resource_only[0]; i++)
        if (same_iface(resource_only[i], iface))
            return true;
    return false;
}

/* ---- The context ------------------------------------------------------------------------- */

wp_status wp_wasi2_new(const wp_wasi_config *cfg, wp_wasi2 **out, wp_err *err) {
    wp_heap *heap = cfg->heap ? cfg->heap : wp_heap_default();
    wp_wasi2 *w = wp_heap_zalloc(heap, sizeof *w);
    if (!w)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory for the WASI 0.2 context");
    w->heap = heap;
    w->deadline = WP_WASI_NO_DEADLINE;
    wp_status st = wp_wasi_new(cfg, &w->base, err);
    if (st == WP_OK && cfg->cwd) {
        size_t n = strlen(cfg->cwd);
        w->cwd = wp_heap_alloc(heap, n + 1);
        if (w->cwd)
            memcpy(w->cwd, cfg->cwd, n + 1);
        else
            st = wp_err_set(err, WP_ERR_NOMEM, "out of memory for the cwd");
    }
    /* insecure-seed: fixed for the context's life, as the interface asks. */
    if (st == WP_OK && wp__sys_random(w->seed, sizeof w->seed) != 0)
        st = wp_err_set(err, WP_ERR_UNAVAILABLE, "no random source for the insecure seed");
    if (st != WP_OK) {
        wp_wasi2_free(w);
        return st;
    }
    *out = w;
    return WP_OK;
}

void wp_wasi2_free(wp_wasi2 *w) {
    if (!w)
        return;
    wp_wasi2_cancel(w);
    /* Pollables first: releasing one updates the stream it watches. */
    for (uint32_t r = 1; r <= w->nres; r++)
        if (w->res[r - 1].kind == WP_P2_POLLABLE)
            wp__p2_release(w, r);
    for (uint32_t r = 1; r <= w->nres; r++)
        if (w->res[r - 1].kind != WP_P2_FREE)
            wp__p2_release(w, r);
    wp_heap *h = w->heap;
    wp_heap_free(h, w->res, w->nres * sizeof *w->res);
    wp_heap_free(h, w->wait.fds, w->wait.cap * sizeof *w->wait.fds);
    if (w->cwd)
        wp_heap_free(h, w->cwd, strlen(w->cwd) + 1);
    wp_wasi_free(w->base);
    wp_heap_free(h, w, sizeof *w);
}

wp_wasi2_outcome wp__p2_trap(wp_wasi2 *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->trap, sizeof w->trap, fmt, ap);
    va_end(ap);
    return WP_WASI2_TRAP;
}

const char *wp_wasi2_trap_msg(const wp_wasi2 *w) { return w->trap; }
int32_t wp_wasi2_exit_code(const wp_wasi2 *w) { return w->exit_code; }
uint32_t wp_wasi2_live(const wp_wasi2 *w) { return w->live; }

/* ---- The resource table ------------------------------------------------------------------ */

/* Makes room for one more slot at the end; false when full or out of memory. */
static bool grow(wp_wasi2 *w) {
    if (w->nres >= WP_WASI2_MAX_RESOURCES) {
        w->full = true;
        return false;
    }
    uint32_t n = w->nres ? w->nres * 2 : 16;
    if (n > WP_WASI2_MAX_RESOURCES)
        n = WP_WASI2_MAX_RESOURCES;
    wp_p2_res *p = wp_heap_realloc(w->heap, w->res, w->nres * sizeof *p, n * sizeof *p);
    if (!p)
        return false;
    memset(p + w->nres, 0, (n - w->nres) * sizeof *p);
    for (uint32_t i = n; i > w->nres; i--) { /* chain the new slots, lowest first */
        p[i - 1].next_free = w->free_head;
        w->free_head = i;
    }
    w->res = p;
    w->nres = n;
    return true;
}

wp_p2_res *wp__p2_new(wp_wasi2 *w, wp_p2_kind kind, uint32_t *rep) {
    w->full = false;
    if (!w->free_head && !grow(w))
        return NULL;
    uint32_t r = w->free_head;
    wp_p2_res *e = &w->res[r - 1];
    w->free_head = e->next_free;
    memset(e, 0, sizeof *e);
    e->kind = kind;
    w->live++;
    *rep = r;
    return e;
}

wp_p2_res *wp__p2_get(wp_wasi2 *w, uint32_t rep, wp_p2_kind kind) {
    if (rep == 0 || rep > w->nres || w->res[rep - 1].kind != kind)
        return NULL;
    return &w->res[rep - 1];
}

void wp__p2_release(wp_wasi2 *w, uint32_t rep) {
    wp_p2_res *e = &w->res[rep - 1];
    switch (e->kind) {
    case WP_P2_INPUT:
    case WP_P2_OUTPUT:
        wp__p2_stream_free(w, &e->of.stream);
        break;
    case WP_P2_POLLABLE:
        if (e->of.poll.when == WP_P2_WHEN_INPUT || e->of.poll.when == WP_P2_WHEN_OUTPUT)
            w->res[e->of.poll.rep - 1].of.stream.children--;
        break;
    case WP_P2_DESCRIPTOR:
        close(e->of.desc.host);
        break;
    case WP_P2_DIRSTREAM:
        closedir(e->of.dir);
        break;
    case WP_P2_ERROR:
        wp_heap_free(w->heap, e->of.error.msg, strlen(e->of.error.msg) + 1);
        break;
    default:
        break;
    }
    e->kind = WP_P2_FREE;
    e->next_free = w->free_head;
    w->free_head = rep;
    w->live--;
}

/* Stream 'rep' goes while pollables of it live: they become always ready, as a stream that
 * has gone can never block anyone. (Dropping a parent first is the guest's mistake; the
 * component model leaves its outcome to the host, and nothing here may dangle.) */
static void orphan(wp_wasi2 *w, uint32_t rep) {
    for (uint32_t i = 0; i < w->nres; i++) {
        if (w->res[i].kind != WP_P2_POLLABLE)
            continue;
        wp_p2_pollable *p = &w->res[i].of.poll;
        bool child = p->when == WP_P2_WHEN_INPUT || p->when == WP_P2_WHEN_OUTPUT;
        if (child && p->rep == rep)
            *p = (wp_p2_pollable){.when = WP_P2_WHEN_NOW};
    }
    w->res[rep - 1].of.stream.children = 0;
}

wp_wasi2_outcome wp_wasi2_drop(wp_wasi2 *w, const wp_wasi2_resource *res, uint32_t rep) {
    size_t n = sizeof resources / sizeof resources[0];
    size_t i = 0;
    while (i < n && &resources[i] != res) /* by identity: res comes from wp_wasi2_resources */
        i++;
    if (i == n)
        return wp__p2_trap(w, "drop: not a WASI 0.2 resource type");
    wp_p2_res *e = wp__p2_get(w, rep, (wp_p2_kind)(i + 1));
    if (!e)
        return wp__p2_trap(w, "drop: %s %u is not live", res->name, rep);
    bool stream = e->kind == WP_P2_INPUT || e->kind == WP_P2_OUTPUT;
    if (stream && e->of.stream.children)
        orphan(w, rep);
    wp__p2_release(w, rep);
    return WP_WASI2_DONE;
}

/* ---- The pending call -------------------------------------------------------------------- */

bool wp__p2_wait_fd(wp_wasi2 *w, int host, uint32_t events) {
    return wp__fdset_add(w->heap, &w->wait, host, events);
}

bool wp__p2_try(wp_wasi2 *w, wp_p2_op *op, wp_value *result, wp_wasi2_outcome *out) {
    w->wait.n = 0;
    w->deadline = WP_WASI_NO_DEADLINE;
    switch (op->kind) {
    case WP_P2_OP_READ:
    case WP_P2_OP_SKIP:
        return wp__p2_try_read(w, op, result, out);
    case WP_P2_OP_FLUSH:
        return wp__p2_try_flush(w, op, result, out);
    case WP_P2_OP_SPLICE:
        return wp__p2_try_splice(w, op, result, out);
    default:
        return wp__p2_try_poll(w, op, result, out);
    }
}

static void op_free(wp_wasi2 *w, wp_p2_op *op) {
    wp_heap_free(w->heap, op->list, op->nlist * sizeof *op->list);
    op->list = NULL;
    op->nlist = 0;
}

wp_wasi2_outcome wp__p2_start(wp_wasi2 *w, const wp_p2_op *op, wp_value *result) {
    wp_wasi2_cancel(w);
    w->op = *op;
    wp_wasi2_outcome out;
    if (wp__p2_try(w, &w->op, result, &out)) {
        op_free(w, &w->op);
        return out;
    }
    w->waiting = true;
    return WP_WASI2_PENDING;
}

bool wp_wasi2_pending(const wp_wasi2 *w, wp_wasi_wait *out) {
    if (!w->waiting)
        return false;
    *out = (wp_wasi_wait){.deadline = w->deadline, .nfds = w->wait.n, .fds = w->wait.fds};
    return true;
}

wp_wasi2_outcome wp_wasi2_complete(wp_wasi2 *w, wp_value *result) {
    if (!w->waiting)
        return wp__p2_trap(w, "no WASI 0.2 call is waiting");
    wp_wasi2_outcome out;
    if (!wp__p2_try(w, &w->op, result, &out))
        return WP_WASI2_PENDING;
    wp_wasi2_cancel(w);
    return out;
}

void wp_wasi2_cancel(wp_wasi2 *w) {
    w->waiting = false;
    w->wait.n = 0;
    w->deadline = WP_WASI_NO_DEADLINE;
    op_free(w, &w->op);
    memset(&w->op, 0, sizeof w->op);
}
