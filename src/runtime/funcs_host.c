/* funcs_host.c: the wippy:runtime/funcs@0.1.0 host import of core guests: call-string and
 * call-bytes, lowered by the canonical ABI, call a registry function through its pool and park
 * the guest (a pending host call, like a blocking WASI call) until the result comes. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "funcs_host.h"
#include "internal.h"

#define IMPORT_MODULE "wippy:runtime/funcs"
#define TARGET_MAX 512u

static wp_heap *heap(void) { return wp_heap_default(); }

/* One call in flight, shared by the guest and the call's process: the result, and a pipe
 * written once it is there (what the guest's process waits on). */
typedef struct gcall {
    atomic_uint refs;
    pthread_mutex_t lock;
    int fds[2];
    bool done;
    wp_value result;
} gcall;

struct wp__gfuncs {
    gcall *call; /* in flight, or NULL */
    wp_runtime *rt;
    wp_pid pid;
    uint32_t retptr; /* where the guest wants result<_, string> */
    bool bytes;      /* call-bytes: the result is a list<u8> */
    wp_wasi_waitfd wfd;
};

/* ---- Pipes, kept for reuse ----------------------------------------------------------------
 * A parked guest's process waits on the read end through the runtime's I/O loop, which stops
 * watching it only after the process was woken: closing it then could pull a descriptor (or
 * its reused number) out from under the loop. So pipes are never closed: a spent one is
 * drained and kept for the next call (as many as calls were ever in flight at once). */

static pthread_mutex_t pipes_lock = PTHREAD_MUTEX_INITIALIZER;
static int *free_pipes; /* pairs */
static uint32_t nfree_pipes;
static uint32_t free_pipes_cap;

static void drain_pipe(int fd) {
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

static bool pipe_get(int fds[2]) {
    pthread_mutex_lock(&pipes_lock);
    bool reused = nfree_pipes > 0;
    if (reused) {
        nfree_pipes--;
        fds[0] = free_pipes[2 * nfree_pipes];
        fds[1] = free_pipes[2 * nfree_pipes + 1];
    }
    pthread_mutex_unlock(&pipes_lock);
    if (reused)
        return true;
    if (pipe(fds) != 0)
        return false;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
    }
    return true;
}

static void pipe_put(const int fds[2]) {
    drain_pipe(fds[0]);
    pthread_mutex_lock(&pipes_lock);
    if (nfree_pipes == free_pipes_cap) {
        uint32_t cap = free_pipes_cap ? free_pipes_cap * 2 : 8;
        int *grown = wp_heap_realloc(heap(), free_pipes, 2 * free_pipes_cap * sizeof *grown,
                                     2 * cap * sizeof *grown);
        if (grown) {
            free_pipes = grown;
            free_pipes_cap = cap;
        }
    }
    if (nfree_pipes < free_pipes_cap) { /* else (out of memory) the pair is lost, not closed */
        free_pipes[2 * nfree_pipes] = fds[0];
        free_pipes[2 * nfree_pipes + 1] = fds[1];
        nfree_pipes++;
    }
    pthread_mutex_unlock(&pipes_lock);
}

static void gcall_unref(gcall *c) {
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    pipe_put(c->fds);
    wp_value_free(&c->result);
    pthread_mutex_destroy(&c->lock);
    wp_heap_free(heap(), c, sizeof *c);
}

static gcall *gcall_new(void) {
    gcall *c = wp_heap_zalloc(heap(), sizeof *c);
    if (!c)
        return NULL;
    if (!pipe_get(c->fds)) {
        wp_heap_free(heap(), c, sizeof *c);
        return NULL;
    }
    atomic_init(&c->refs, 2); /* the guest's and the call's */
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

/* The call's side: keeps a copy of the result and wakes the guest. */
static void on_done(void *ud, const wp_value *result) {
    gcall *c = ud;
    pthread_mutex_lock(&c->lock);
    if (wp_value_copy(&c->result, result) != WP_OK &&
        wp_value_error(&c->result, WP_ERR_NOMEM, "out of memory", NULL) != WP_OK)
        c->result = wp_value_nil();
    c->done = true;
    pthread_mutex_unlock(&c->lock);
    ssize_t n = write(c->fds[1], "x", 1); /* the pipe is empty: this never blocks */
    (void)n;
    gcall_unref(c);
}

/* ---- Results in the guest's memory ---------------------------------------------------------- */

/* The bytes a result hands back: its text or bytes (numbers and booleans printed, nil empty),
 * or the error's message. false: a value that is no text (the message says so in buf). */
static bool result_bytes(const wp_value *v, char *buf, size_t cap, const char **data,
                         size_t *len) {
    *data = buf;
    switch (v->kind) {
    case WP_VSTRING:
    case WP_VBYTES:
        *data = wp_value_str(v, len);
        return true;
    case WP_VNIL:
        buf[0] = '\0';
        break;
    case WP_VINT:
        snprintf(buf, cap, "%lld", (long long)v->of.i);
        break;
    case WP_VFLOAT:
        snprintf(buf, cap, "%.17g", v->of.f);
        break;
    case WP_VBOOL:
        snprintf(buf, cap, "%s", v->of.b ? "true" : "false");
        break;
    case WP_VERROR:
        snprintf(buf, cap, "%s: %s", wp_status_text(wp_value_error_kind(v)),
                 wp_value_error_msg(v));
        *len = strlen(buf);
        return false;
    default:
        snprintf(buf, cap, "the function returned %s, not text", wp_vkind_name(v->kind));
        *len = strlen(buf);
        return false;
    }
    *len = strlen(buf);
    return true;
}

/* How memory for the result is had: inside the host call (nested) or after it (second exec). */
typedef struct alloc_ctx {
    wp_host_call *call; /* or: */
    wp_store *store;
    wp_instance *inst;
} alloc_ctx;

static wp_status guest_alloc(const alloc_ctx *a, uint32_t len, uint32_t *ptr, wp_err *err) {
    wp_instance *inst = a->call ? wp_host_call_instance(a->call) : a->inst;
    wp_extern ext;
    if (!inst || !wp_instance_export(inst, "cabi_realloc", 12, &ext) ||
        ext.kind != WP_EXTERN_FUNC)
        return wp_err_set(err, WP_ERR_LINK, "%s: the module exports no cabi_realloc",
                          IMPORT_MODULE);
    wp_val args[4] = {wp_val_i32(0), wp_val_i32(0), wp_val_i32(1), wp_val_i32(len)};
    wp_val res = wp_val_i32(0);
    wp_status st;
    if (a->call) {
        st = wp_host_call_nested(a->call, ext.of.func, args, 4, &res, 1, err);
    } else {
        wp_exec *x = NULL;
        st = wp_exec_new(a->store, &x, err);
        if (st == WP_OK)
            st = wp_call(x, ext.of.func, args, 4, &res, 1, NULL, err);
        wp_exec_free(x);
    }
    *ptr = res.of.i32;
    return st;
}

/* Writes result<T, string> at retptr: the discriminant, then the (pointer, length). */
static wp_status write_result(const alloc_ctx *a, wp_memory *mem, uint32_t retptr, bool ok,
                              const char *data, size_t len, wp_err *err) {
    uint32_t ptr = 0;
    if (len > UINT32_MAX / 2)
        return wp_err_set(err, WP_ERR_INVALID, "%s: the result is too large", IMPORT_MODULE);
    wp_status st = len ? guest_alloc(a, (uint32_t)len, &ptr, err) : WP_OK;
    if (st != WP_OK)
        return st;
    mem = a->call ? wp_host_call_memory(a->call) : mem; /* realloc may have grown it */
    uint8_t disc = ok ? 0 : 1;
    uint32_t pl[2] = {ptr, (uint32_t)len};
    uint8_t pad[3] = {0};
    if (!mem || (len && !wp_memory_write(mem, ptr, data, len)) ||
        !wp_memory_write(mem, retptr, &disc, 1) || !wp_memory_write(mem, retptr + 1, pad, 3) ||
        !wp_memory_write(mem, retptr + 4, pl, sizeof pl))
        return wp_err_set(err, WP_ERR_INVALID, "%s: the result does not fit the guest's memory",
                          IMPORT_MODULE);
    return WP_OK;
}

/* ---- The host functions --------------------------------------------------------------------- */

static wp_host_result fail_now(wp_host_call *call, uint32_t retptr, const char *msg) {
    alloc_ctx a = {.call = call};
    wp_err err = {0};
    if (write_result(&a, NULL, retptr, false, msg, strlen(msg), &err) != WP_OK)
        return wp_host_trap(call, "%s", err.msg);
    return WP_HOST_OK;
}

/* Reads (ptr, len) of guest memory as a value: a string or bytes. */
static bool read_input(wp_memory *mem, uint32_t ptr, uint32_t len, bool bytes, wp_value *out) {
    if (!mem || (uint64_t)ptr + len > wp_memory_size(mem))
        return false;
    const char *p = (const char *)wp_memory_data(mem) + ptr;
    wp_status st = bytes ? wp_value_bytes(out, p, len) : wp_value_string(out, p, len);
    return st == WP_OK;
}

/* Starts the call of target with input; false (msg says why) when it could not start. */
static bool start(wp__gfuncs *g, const char *target, const wp_value *input, char *msg,
                  size_t cap) {
    wp_proc *self = wp_proc_current();
    wp_runtime *rt = self ? wp_proc_runtime(self) : NULL;
    wp_funcs *f = rt ? wp_runtime_funcs(rt) : NULL;
    wp_pool *pool = NULL;
    wp_err err = {0};
    if (!f) {
        snprintf(msg, cap, "unavailable: no runtime with functions to call %.200s", target);
        return false;
    }
    if (wp_funcs_lookup(f, target, &pool, &err) != WP_OK) {
        snprintf(msg, cap, "%s: %.400s", wp_status_text(err.kind), err.msg);
        return false;
    }
    gcall *c = gcall_new();
    if (!c) {
        snprintf(msg, cap, "out of memory: cannot call %.200s", target);
        return false;
    }
    if (wp__pool_call_notify(pool, input, 1, on_done, c, &g->pid, &err) != WP_OK) {
        gcall_unref(c);
        gcall_unref(c);
        snprintf(msg, cap, "%s: %.400s", wp_status_text(err.kind), err.msg);
        return false;
    }
    g->rt = rt;
    g->call = c;
    return true;
}

/* (target ptr, len, input ptr, len, retptr) -> () */
static wp_host_result call_fn(wp_host_call *call, wp__gfuncs *g, const wp_val *args,
                              bool bytes) {
    wp_memory *mem = wp_host_call_memory(call);
    uint32_t retptr = args[4].of.i32;
    char target[TARGET_MAX];
    char msg[WP_ERR_MSG_MAX];
    uint32_t tlen = args[1].of.i32;
    if (g->call)
        return wp_host_trap(call, "%s: a call is in flight already", IMPORT_MODULE);
    if (tlen >= sizeof target || !mem || !wp_memory_read(mem, args[0].of.i32, target, tlen))
        return wp_host_trap(call, "%s: the target is outside memory or too long",
                            IMPORT_MODULE);
    target[tlen] = '\0';
    wp_value input = wp_value_nil();
    if (!read_input(mem, args[2].of.i32, args[3].of.i32, bytes, &input))
        return wp_host_trap(call, "%s: the input is outside memory", IMPORT_MODULE);
    bool started = start(g, target, &input, msg, sizeof msg);
    wp_value_free(&input);
    if (!started)
        return fail_now(call, retptr, msg);
    g->retptr = retptr;
    g->bytes = bytes;
    return WP_HOST_PENDING;
}

static wp_host_result call_string(wp_host_call *call, void *env, const wp_val *args,
                                  wp_val *results) {
    (void)results;
    return call_fn(call, env, args, false);
}

static wp_host_result call_bytes(wp_host_call *call, void *env, const wp_val *args,
                                 wp_val *results) {
    (void)results;
    return call_fn(call, env, args, true);
}

/* ---- Linking and the process's side --------------------------------------------------------- */

bool wp__gfuncs_is_import(const wp_import_desc *d) {
    size_t n = strlen(IMPORT_MODULE);
    return d->module.len >= n && memcmp(d->module.ptr, IMPORT_MODULE, n) == 0 &&
           (d->module.len == n || d->module.ptr[n] == '@');
}

bool wp_funcs_is_import(const wp_import_desc *d) { return wp__gfuncs_is_import(d); }

static bool lowered_type(wp_functype ft) {
    if (ft.nparams != 5 || ft.nresults != 0)
        return false;
    for (uint32_t i = 0; i < 5; i++)
        if (ft.types[i] != WP_I32)
            return false;
    return true;
}

wp_status wp__gfuncs_link(wp__gfuncs **g, wp_store *s, const wp_import_desc *d, wp_extern *out,
                          wp_err *err) {
    bool bytes = d->name.len == 10 && memcmp(d->name.ptr, "call-bytes", 10) == 0;
    bool string = d->name.len == 11 && memcmp(d->name.ptr, "call-string", 11) == 0;
    if (d->kind != WP_EXTERN_FUNC || !(bytes || string))
        return wp_err_set(err, WP_ERR_LINK, "%s has no %.*s (call-string, call-bytes)",
                          IMPORT_MODULE, (int)d->name.len, d->name.ptr);
    if (!lowered_type(d->func))
        return wp_err_set(err, WP_ERR_LINK,
                          "%s.%.*s must be imported as (i32 i32 i32 i32 i32) -> () (the "
                          "canonical ABI's lowering)",
                          IMPORT_MODULE, (int)d->name.len, d->name.ptr);
    if (!*g && !(*g = wp_heap_zalloc(heap(), sizeof **g)))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    out->kind = WP_EXTERN_FUNC;
    return wp_func_new_host(s, &d->func, bytes ? call_bytes : call_string, *g, &out->of.func,
                            err);
}

bool wp__gfuncs_wait(wp__gfuncs *g, wp_wait *out) {
    if (!g || !g->call)
        return false;
    g->wfd = (wp_wasi_waitfd){g->call->fds[0], WP_WASI_READABLE};
    *out = (wp_wait){.deadline = WP_WASI_NO_DEADLINE, .nfds = 1, .fds = &g->wfd};
    return true;
}

wp_status wp__gfuncs_complete(wp__gfuncs *g, wp_store *s, wp_instance *inst, wp_exec *x,
                              bool *ready, wp_err *err) {
    gcall *c = g->call;
    *ready = false;
    pthread_mutex_lock(&c->lock);
    bool done = c->done;
    pthread_mutex_unlock(&c->lock);
    if (!done)
        return WP_OK;
    g->call = NULL;
    char buf[WP_ERR_MSG_MAX];
    const char *data;
    size_t len;
    bool ok = result_bytes(&c->result, buf, sizeof buf, &data, &len);
    alloc_ctx a = {.store = s, .inst = inst};
    wp_err werr = {0};
    wp_status st = write_result(&a, wp_instance_memory(inst), g->retptr, ok, data, len, &werr);
    gcall_unref(c);
    if (st != WP_OK)
        wp_exec_resume_trap(x, werr.msg);
    else if ((st = wp_exec_resume(x, NULL, 0, err)) != WP_OK)
        return st;
    *ready = true;
    return WP_OK;
}

void wp__gfuncs_cancel(wp__gfuncs *g) {
    if (!g || !g->call)
        return;
    wp_err err = {0};
    wp_terminate(g->rt, WP_PID_NONE, g->pid, &err); /* NOT_FOUND: it ended just now */
    gcall_unref(g->call);
    g->call = NULL;
}

void wp__gfuncs_free(wp__gfuncs *g) {
    if (!g)
        return;
    wp__gfuncs_cancel(g);
    wp_heap_free(heap(), g, sizeof *g);
}

/* ---- The same import for components (the component layer lifts and lowers) ------------------ */

/* A component's call in flight: the state wp_comp_call_pend keeps. */
typedef struct comp_call {
    gcall *call;
    wp_runtime *rt;
    wp_pid pid;
    bool bytes;
} comp_call;

static void comp_cancel(void *state) {
    comp_call *cc = state;
    wp_err err = {0};
    wp_terminate(cc->rt, WP_PID_NONE, cc->pid, &err); /* NOT_FOUND: it ended just now */
    gcall_unref(cc->call);
    wp_heap_free(heap(), cc, sizeof *cc);
}

/* *result = {ok = v} or {err = text}, the shape of a lifted result<T, string>. */
static wp_status comp_result(const wp_value *v, bool bytes, wp_value *result) {
    char buf[WP_ERR_MSG_MAX];
    const char *data;
    size_t len;
    bool ok = result_bytes(v, buf, sizeof buf, &data, &len);
    wp_value payload = wp_value_nil();
    wp_status st = ok && bytes ? wp_value_bytes(&payload, data, len)
                               : wp_value_string(&payload, data, len);
    if (st == WP_OK && (st = wp_value_map(result, 1)) == WP_OK)
        st = wp_value_map_set_str(result, ok ? "ok" : "err", &payload);
    wp_value_free(&payload);
    return st;
}

static wp_host_result comp_resume(wp_comp_call *call, void *ctx, void *state,
                                  const wp_value *args, uint32_t nargs, wp_value *result,
                                  wp_err *err);

static wp_host_result comp_pend(wp_comp_call *call, comp_call *cc) {
    wp_wasi_waitfd fd = {cc->call->fds[0], WP_WASI_READABLE};
    wp_wasi_wait w = {.deadline = WP_WASI_NO_DEADLINE, .nfds = 1, .fds = &fd};
    return wp_comp_call_pend(call, &w, comp_resume, comp_cancel, cc);
}

static wp_host_result comp_resume(wp_comp_call *call, void *ctx, void *state,
                                  const wp_value *args, uint32_t nargs, wp_value *result,
                                  wp_err *err) {
    (void)ctx;
    (void)args;
    (void)nargs;
    comp_call *cc = state;
    pthread_mutex_lock(&cc->call->lock);
    bool done = cc->call->done;
    pthread_mutex_unlock(&cc->call->lock);
    if (!done)
        return comp_pend(call, cc); /* a spurious wake-up */
    wp_status st = comp_result(&cc->call->result, cc->bytes, result);
    gcall_unref(cc->call);
    wp_heap_free(heap(), cc, sizeof *cc);
    if (st != WP_OK) {
        wp_err_set(err, st, "out of memory");
        return WP_HOST_TRAP;
    }
    return WP_HOST_OK;
}

static wp_host_result comp_call_fn(wp_comp_call *call, const wp_value *args, uint32_t nargs,
                                   wp_value *result, wp_err *err, bool bytes) {
    const char *target = nargs == 2 ? wp_value_str(&args[0], NULL) : NULL;
    if (!target) {
        wp_err_set(err, WP_ERR_INVALID, "takes (target: string, input)");
        return WP_HOST_TRAP;
    }
    wp__gfuncs g = {0};
    char msg[WP_ERR_MSG_MAX];
    comp_call *cc = wp_heap_zalloc(heap(), sizeof *cc);
    if (!cc || !start(&g, target, &args[1], msg, sizeof msg)) {
        wp_heap_free(heap(), cc, sizeof *cc);
        if (!cc)
            snprintf(msg, sizeof msg, "out of memory: cannot call %.200s", target);
        wp_value text = wp_value_nil();
        wp_status st = wp_value_cstring(&text, msg);
        if (st == WP_OK && (st = wp_value_map(result, 1)) == WP_OK)
            st = wp_value_map_set_str(result, "err", &text);
        wp_value_free(&text);
        if (st != WP_OK) {
            wp_err_set(err, st, "out of memory");
            return WP_HOST_TRAP;
        }
        return WP_HOST_OK;
    }
    *cc = (comp_call){g.call, g.rt, g.pid, bytes};
    return comp_pend(call, cc);
}

static wp_host_result comp_call_string(wp_comp_call *call, void *ctx, const wp_value *args,
                                       uint32_t nargs, wp_value *result, wp_err *err) {
    (void)ctx;
    return comp_call_fn(call, args, nargs, result, err, false);
}

static wp_host_result comp_call_bytes(wp_comp_call *call, void *ctx, const wp_value *args,
                                      uint32_t nargs, wp_value *result, wp_err *err) {
    (void)ctx;
    return comp_call_fn(call, args, nargs, result, err, true);
}

static const wp_comp_host_func COMP_FUNCS[] = {
    {"call-string", "func(target: string, input: string) -> result<string, string>",
     comp_call_string},
    {"call-bytes", "func(target: string, input: list<u8>) -> result<list<u8>, string>",
     comp_call_bytes},
};

static const wp_comp_host_iface COMP_IFACE = {"wippy:runtime/funcs@0.1.0", COMP_FUNCS, 2, NULL,
                                              0};

const wp_comp_host_iface *wp_funcs_host_iface(void) { return &COMP_IFACE; }
