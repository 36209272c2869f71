/* exec.c: the resumable interpreter: execs, runs, host calls, traps (design: docs/interpreter.md).
 *
 * All execution state lives in the wp_exec: the value stack (slots), the frame records and,
 * between runs, the pc. The interpreter loop keeps the hot part of it (pc, frame base, memory
 * base and size, budget) in C locals and writes it back when a run stops. wasm-to-wasm calls
 * never recurse in C; only a host function's nested call (wp_host_call_nested) re-enters the
 * loop, above the frames already there. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "code.h"

/* One wasm activation. The record of the running function is frames[depth - 1]. */
typedef struct wp_frame {
    const wp_cell *ret_pc; /* where the caller goes on; NULL: the entry frame of a run */
    wp_slot *fp;           /* frame base (rebased when the stack moves) */
    const wp_code *code;
    wp_instance *inst;
} wp_frame;

enum { X_IDLE, X_READY, X_PENDING, X_DONE };

struct wp_exec {
    wp_object obj;
    wp_store *store;
    wp_slot *stack;
    wp_slot *stack_end; /* stack + slots allocated */
    size_t stack_cap;   /* slots allocated */
    size_t stack_max;   /* slots allowed (store's max_stack_bytes) */
    wp_frame *frames;
    wp_frame *frames_end; /* frames + frames_cap */
    uint32_t frames_cap;
    uint32_t max_depth;
    uint32_t depth;       /* frames in use (while a run is in progress: as of its last stop) */
    int state;
    uint32_t nesting;   /* nested runs in progress (host -> wasm) */
    uint32_t hosting;   /* host functions in progress: the exec is theirs to call into only
                           through wp_host_call_nested */
    wp_func *func;      /* the call begun */
    const wp_cell *pc;  /* where a stopped run goes on */
    size_t host_top;    /* first slot above the frame that called the running host function */
    size_t pending_at;  /* slot of a pending host call's first result */
    const wp_functype *pending_type;
    wp_func *pending_func; /* the host function waited on (for a backtrace) */
    bool resume_trap;   /* the next run traps: wp_exec_resume_trap, or a frame too big */
    bool host_called;   /* a direct host call (no wasm frame) has been made */
    wp_trap trap;
    /* The backtrace of the last trap: frames[0..bt_depth) as they were (a trap only lowers
     * 'depth', so the records stay intact until the next call pushes over them), and the host
     * function that trapped above them, or NULL. Set on the trap paths only. */
    uint32_t bt_depth;
    wp_func *bt_host;
};

struct wp_host_call {
    wp_exec *x;
    wp_instance *inst; /* the calling instance, NULL if called by the embedder */
    wp_func *func;
};

static const char *const trap_texts[] = {
    "no trap",
#define X(kind, text) text,
    WP_TRAP_KINDS(X)
#undef X
};

const char *wp_trap_text(wp_trap_kind kind) {
    if ((unsigned)kind >= WP_ARRAY_LEN(trap_texts))
        return "unknown trap";
    return trap_texts[kind];
}

/* ---- Numeric helpers (spec semantics) ---------------------------------------------------- */

static inline float f32_of(wp_slot s) {
    uint32_t b = (uint32_t)s;
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static inline wp_slot of_f32(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static inline double f64_of(wp_slot s) {
    double d;
    memcpy(&d, &s, 8);
    return d;
}

static inline wp_slot of_f64(double d) {
    wp_slot b;
    memcpy(&b, &d, 8);
    return b;
}

/* Arithmetic shift right without relying on implementation-defined signed shifts. */
static inline uint32_t sar32(uint32_t a, uint32_t k) {
    k &= 31;
    return (a & 0x80000000u) ? ~(~a >> k) : a >> k;
}

static inline uint64_t sar64(uint64_t a, uint64_t k) {
    k &= 63;
    return (a >> 63) ? ~(~a >> k) : a >> k;
}

static inline uint32_t rotl32(uint32_t a, uint32_t k) {
    k &= 31;
    return (a << k) | (a >> ((32 - k) & 31));
}

static inline uint32_t rotr32(uint32_t a, uint32_t k) {
    k &= 31;
    return (a >> k) | (a << ((32 - k) & 31));
}

static inline uint64_t rotl64(uint64_t a, uint64_t k) {
    k &= 63;
    return (a << k) | (a >> ((64 - k) & 63));
}

static inline uint64_t rotr64(uint64_t a, uint64_t k) {
    k &= 63;
    return (a >> k) | (a << ((64 - k) & 63));
}

static inline uint32_t clz64(uint64_t a) {
    if (a == 0)
        return 64;
    uint32_t n = 0;
    for (uint32_t step = 32; step; step /= 2) {
        if (!(a >> (64 - step))) {
            n += step;
            a <<= step;
        }
    }
    return n;
}

static inline uint32_t ctz64(uint64_t a) {
    if (a == 0)
        return 64;
    uint32_t n = 0;
    for (uint32_t step = 32; step; step /= 2) {
        if (!(a << (64 - step))) {
            n += step;
            a >>= step;
        }
    }
    return n;
}

static inline uint32_t popcnt64(uint64_t a) {
    a = a - ((a >> 1) & 0x5555555555555555ull);
    a = (a & 0x3333333333333333ull) + ((a >> 2) & 0x3333333333333333ull);
    a = (a + (a >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (uint32_t)((a * 0x0101010101010101ull) >> 56);
}

static inline uint32_t clz32(uint32_t a) { return clz64((uint64_t)a << 32 | 0xffffffffu) ; }
static inline uint32_t ctz32(uint32_t a) { return a ? ctz64(a) : 32; }

/* min/max: NaN if either is NaN; -0 is below +0. */
static inline float fmin32(float a, float b) {
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}

static inline float fmax32(float a, float b) {
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

static inline double fmin64(double a, double b) {
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}

static inline double fmax64(double a, double b) {
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

/* Sign operations act on the bits only, so NaN payloads pass unchanged. */
static inline wp_slot copysign32(wp_slot a, wp_slot b) {
    return (a & 0x7fffffffu) | (b & 0x80000000u);
}

static inline wp_slot copysign64(wp_slot a, wp_slot b) {
    return (a & 0x7fffffffffffffffull) | (b & 0x8000000000000000ull);
}

/* Saturating truncations. */
static inline uint32_t sat_i32(double a) {
    if (a != a)
        return 0;
    if (a <= -2147483648.0)
        return 0x80000000u;
    if (a >= 2147483647.0)
        return 0x7fffffffu;
    return (uint32_t)(int32_t)a;
}

static inline uint32_t sat_u32(double a) {
    if (!(a > -1.0))
        return 0;
    if (a >= 4294967295.0)
        return 0xffffffffu;
    return (uint32_t)a;
}

static inline uint64_t sat_i64(double a) {
    if (a != a)
        return 0;
    if (a < -9223372036854775808.0)
        return 0x8000000000000000ull;
    if (a >= 9223372036854775808.0)
        return 0x7fffffffffffffffull;
    return (uint64_t)(int64_t)a;
}

static inline uint64_t sat_u64(double a) {
    if (!(a > -1.0))
        return 0;
    if (a >= 18446744073709551616.0)
        return UINT64_MAX;
    return (uint64_t)a;
}

/* ---- Stack and frames -------------------------------------------------------------------- */

/* Makes room for 'need' slots. False if over the limit or out of memory. The stack moves:
 * the frame records of frames[0..depth) are rebased (callers recompute their own pointers). */
static bool grow_stack(wp_exec *x, size_t need) {
    if (need <= x->stack_cap)
        return true;
    if (need > x->stack_max)
        return false;
    size_t ncap = x->stack_cap ? x->stack_cap : 1024;
    while (ncap < need)
        ncap *= 2;
    if (ncap > x->stack_max)
        ncap = x->stack_max;
    wp_slot *p = wp_heap_alloc(&x->store->heap, ncap * sizeof(wp_slot));
    if (!p)
        return false;
    if (x->stack_cap)
        memcpy(p, x->stack, x->stack_cap * sizeof(wp_slot));
    for (uint32_t i = 0; i < x->depth; i++)
        x->frames[i].fp = p + (x->frames[i].fp - x->stack);
    wp_heap_free(&x->store->heap, x->stack, x->stack_cap * sizeof(wp_slot));
    x->stack = p;
    x->stack_cap = ncap;
    x->stack_end = p + ncap;
    return true;
}

static bool grow_frames(wp_exec *x, uint32_t need) {
    if (need <= x->frames_cap)
        return true;
    if (need > x->max_depth)
        return false;
    uint32_t ncap = x->frames_cap ? x->frames_cap : 64;
    while (ncap < need)
        ncap *= 2;
    if (ncap > x->max_depth)
        ncap = x->max_depth;
    wp_frame *p = wp_heap_realloc(&x->store->heap, x->frames, x->frames_cap * sizeof(wp_frame),
                                  ncap * sizeof(wp_frame));
    if (!p)
        return false;
    x->frames = p;
    x->frames_cap = ncap;
    x->frames_end = p + ncap;
    return true;
}

/* ---- Traps ------------------------------------------------------------------------------- */

/* Appends where a trap happened to its message: " in function 'NAME' (func N)" with a name
 * from the name section, else " in func N". */
static void append_where(wp_trap *t, const wp_code *code, const wp_instance *inst) {
    size_t n = strlen(t->msg);
    if (!code || !inst || n + 1 >= sizeof t->msg)
        return;
    const wp_funcdecl *fd = &inst->module->funcs[code->func_index];
    if (fd->name.len)
        snprintf(t->msg + n, sizeof t->msg - n, " in function '%.*s' (func %" PRIu32 ")",
                 (int)fd->name.len, fd->name.ptr, code->func_index);
    else
        snprintf(t->msg + n, sizeof t->msg - n, " in func %" PRIu32, code->func_index);
}

/* Fills x->trap: the kind's text (with the element index for element traps, as the spec's
 * interpreter words it), then the function it happened in. */
static void set_trap(wp_exec *x, wp_trap_kind kind, uint32_t index, const wp_code *code,
                     const wp_instance *inst) {
    x->trap.kind = kind;
    x->trap.exit_code = 0;
    if (kind == WP_TRAP_UNINITIALIZED_ELEMENT || kind == WP_TRAP_UNDEFINED_ELEMENT)
        snprintf(x->trap.msg, sizeof x->trap.msg, "%s %" PRIu32, wp_trap_text(kind), index);
    else
        snprintf(x->trap.msg, sizeof x->trap.msg, "%s", wp_trap_text(kind));
    append_where(&x->trap, code, inst);
}

/* Records the backtrace of a trap: the wasm frames [0, depth) and the host function 'host'
 * (NULL if the trap was not a host's). Traps that end a host function's call name its
 * caller, the innermost wasm frame, like the interpreter's own traps. */
static void set_backtrace(wp_exec *x, uint32_t depth, wp_func *host) {
    x->bt_depth = depth;
    x->bt_host = host;
    if (host && depth > 0 && x->trap.kind == WP_TRAP_HOST)
        append_where(&x->trap, x->frames[depth - 1].code, x->frames[depth - 1].inst);
}

static void set_host_trap(wp_exec *x, const char *fmt, va_list ap) {
    x->trap.kind = WP_TRAP_HOST;
    x->trap.exit_code = 0;
    vsnprintf(x->trap.msg, sizeof x->trap.msg, fmt, ap);
}

wp_host_result wp_host_trap(wp_host_call *call, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_host_trap(call->x, fmt, ap);
    va_end(ap);
    return WP_HOST_TRAP;
}

wp_host_result wp_host_exit(wp_host_call *call, int32_t status) {
    wp_exec *x = call->x;
    x->trap.kind = WP_TRAP_EXIT;
    x->trap.exit_code = status;
    snprintf(x->trap.msg, sizeof x->trap.msg, "exit with status %" PRId32, status);
    return WP_HOST_TRAP;
}

wp_instance *wp_host_call_instance(wp_host_call *call) { return call->inst; }

wp_memory *wp_host_call_memory(wp_host_call *call) {
    return call->inst ? call->inst->mem0 : NULL;
}

/* ---- Host calls -------------------------------------------------------------------------- */

#define WP_HOST_INLINE_VALS 8

/* Calls host function f with its arguments at stack slot 'at'; on WP_HOST_OK its results are
 * written back there. The stack may have moved when this returns. */
static wp_host_result call_host(wp_exec *x, wp_func *f, size_t at, wp_instance *caller) {
    const wp_functype *t = f->type;
    wp_val argbuf[WP_HOST_INLINE_VALS];
    wp_val resbuf[WP_HOST_INLINE_VALS];
    wp_val *args = argbuf;
    wp_val *res = resbuf;
    wp_heap *h = &x->store->heap;
    if (t->nparams > WP_HOST_INLINE_VALS)
        args = wp_heap_calloc(h, t->nparams, sizeof(wp_val));
    if (t->nresults > WP_HOST_INLINE_VALS)
        res = wp_heap_calloc(h, t->nresults, sizeof(wp_val));
    wp_host_result r = WP_HOST_TRAP;
    x->trap.kind = WP_TRAP_NONE;
    if (!args || !res) {
        snprintf(x->trap.msg, sizeof x->trap.msg, "out of memory calling a host function");
        x->trap.kind = WP_TRAP_HOST;
        goto out;
    }
    for (uint32_t i = 0; i < t->nparams; i++)
        args[i] = wp__slot_to_val(x->stack[at + i], t->types[i]);
    for (uint32_t i = 0; i < t->nresults; i++)
        res[i] = (wp_val){.type = t->types[t->nparams + i]};
    wp_host_call hc = {x, caller, f};
    x->hosting++;
    r = f->host(&hc, f->env, args, res);
    x->hosting--;
    if (r == WP_HOST_OK) {
        for (uint32_t i = 0; i < t->nresults; i++)
            x->stack[at + i] = wp__val_to_slot(res[i]);
    } else if (r == WP_HOST_TRAP && x->trap.kind == WP_TRAP_NONE) {
        x->trap.kind = WP_TRAP_HOST;
        snprintf(x->trap.msg, sizeof x->trap.msg, "host error");
    }
out:
    if (args != argbuf)
        wp_heap_free(h, args, (size_t)t->nparams * sizeof(wp_val));
    if (res != resbuf)
        wp_heap_free(h, res, (size_t)t->nresults * sizeof(wp_val));
    return r;
}

/* ---- The interpreter loop ---------------------------------------------------------------- */

/* Stands in for an instance without memory: every access is out of bounds. */
static wp_memory no_memory;

static wp_memory *mem_of(const wp_instance *inst) {
    return inst->mem0 ? inst->mem0 : &no_memory;
}

#include "exec_ops.h"

const void *const *wp__exec_handlers(void) {
    const void *const *table = NULL;
    interp(NULL, 0, 0, &table);
    return table;
}

/* ---- Execs ------------------------------------------------------------------------------- */

static void exec_destroy(wp_object *obj) {
    wp_exec *x = (wp_exec *)obj;
    wp_heap *h = &x->store->heap;
    wp_heap_free(h, x->stack, x->stack_cap * sizeof(wp_slot));
    wp_heap_free(h, x->frames, x->frames_cap * sizeof(wp_frame));
    wp_heap_free(h, x, sizeof *x);
}

wp_status wp_exec_new(wp_store *s, wp_exec **out, wp_err *err) {
    wp_exec *x = wp_heap_zalloc(&s->heap, sizeof *x);
    if (!x)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory creating an exec");
    x->store = s;
    x->stack_max = s->cfg.max_stack_bytes / sizeof(wp_slot);
    x->max_depth = s->cfg.max_call_depth;
    x->state = X_IDLE;
    wp__store_adopt(s, &x->obj, exec_destroy);
    *out = x;
    return WP_OK;
}

void wp_exec_free(wp_exec *x) {
    if (!x || x->hosting > 0 || x->nesting > 0)
        return; /* in use by the run that called the host function: see wasm.h */
    /* Unlink from the store's list, which would otherwise free it again. */
    wp_object **pp = &x->store->objects;
    while (*pp && *pp != &x->obj)
        pp = &(*pp)->next;
    if (*pp)
        *pp = x->obj.next;
    exec_destroy(&x->obj);
}

static bool busy(const wp_exec *x) {
    return x->state == X_READY || x->state == X_PENDING || x->nesting > 0 || x->hosting > 0;
}

bool wp_exec_busy(const wp_exec *x) { return busy(x); }

static wp_status check_args(const wp_functype *t, const wp_val *args, uint32_t nargs,
                            wp_err *err) {
    if (nargs != t->nparams)
        return wp_err_set(err, WP_ERR_INVALID, "expected %" PRIu32 " arguments, got %" PRIu32,
                          t->nparams, nargs);
    for (uint32_t i = 0; i < nargs; i++) {
        if (args[i].type != t->types[i])
            return wp_err_set(err, WP_ERR_INVALID, "argument %" PRIu32 ": expected %s, got %s",
                              i, wp_valtype_name(t->types[i]), wp_valtype_name(args[i].type));
    }
    return WP_OK;
}

/* Sets up a frame for wasm function f at stack slot 'at', as frame number x->depth, with its
 * arguments already in place. */
static bool push_entry_frame(wp_exec *x, wp_func *f, size_t at) {
    const wp_code *code = f->code;
    if (!grow_frames(x, x->depth + 1) || !grow_stack(x, at + code->nslots))
        return false;
    x->frames[x->depth++] = (wp_frame){NULL, x->stack + at, code, f->inst};
    memset(x->stack + at + code->nparams, 0, (size_t)code->nlocals * sizeof(wp_slot));
    x->pc = code->cells;
    return true;
}

static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

wp_status wp_exec_begin(wp_exec *x, wp_func *f, const wp_val *args, uint32_t nargs,
                        wp_err *err) {
    if (busy(x))
        return wp_err_set(err, WP_ERR_INVALID, "exec is busy with another call");
    const wp_functype *t = f->type;
    wp_status st = check_args(t, args, nargs, err);
    if (st != WP_OK)
        return st;
    if (!grow_stack(x, max_u32(max_u32(t->nparams, t->nresults), 1)))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory for the value stack");
    for (uint32_t i = 0; i < nargs; i++)
        x->stack[i] = wp__val_to_slot(args[i]);
    x->depth = 0;
    x->func = f;
    x->resume_trap = false;
    x->trap.kind = WP_TRAP_NONE;
    x->trap.msg[0] = '\0';
    set_backtrace(x, 0, NULL);
    x->host_called = false;
    x->pending_func = NULL;
    if (!f->host && f->code->nslots > x->stack_max) {
        /* Its frame alone is over the store's value-stack limit: like a call from wasm whose
         * frame does not fit, the call traps, when it runs. */
        set_trap(x, WP_TRAP_STACK_EXHAUSTED, 0, f->code, f->inst);
        x->resume_trap = true;
        x->state = X_READY;
        return WP_OK;
    }
    if (!f->host && !push_entry_frame(x, f, 0)) {
        x->depth = 0;
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory for the call stack");
    }
    x->state = X_READY;
    return WP_OK;
}

/* Runs a call of a host function made directly by the embedder (no wasm frame). */
static wp_run_state run_host_direct(wp_exec *x) {
    const wp_functype *t = x->func->type;
    x->host_called = true;
    x->host_top = max_u32(t->nparams, t->nresults); /* where its nested calls go */
    wp_host_result r = call_host(x, x->func, 0, NULL);
    if (r == WP_HOST_OK) {
        x->state = X_DONE;
        return WP_RUN_DONE;
    }
    if (r == WP_HOST_PENDING) {
        x->pending_at = 0;
        x->pending_type = x->func->type;
        x->pending_func = x->func;
        x->state = X_PENDING;
        return WP_RUN_PENDING;
    }
    set_backtrace(x, 0, x->func);
    x->state = X_IDLE;
    return WP_RUN_TRAP;
}

/* An API error reported as a trap. Inside a host function it leaves the run in progress as it
 * was (its backtrace, if any, is recorded when it traps). */
static wp_run_state fail_run(wp_exec *x, const char *msg) {
    x->trap.kind = WP_TRAP_HOST;
    x->trap.exit_code = 0;
    snprintf(x->trap.msg, sizeof x->trap.msg, "%s", msg);
    if (x->hosting == 0 && x->nesting == 0)
        set_backtrace(x, 0, NULL);
    return WP_RUN_TRAP;
}

wp_run_state wp_exec_run(wp_exec *x, uint64_t budget) {
    if (x->nesting > 0 || x->hosting > 0)
        return fail_run(x, "wp_exec_run called inside a host function");
    if (x->state == X_PENDING)
        return WP_RUN_PENDING;
    if (x->state != X_READY)
        return fail_run(x, "no call to run: use wp_exec_begin first");
    if (x->resume_trap) {
        x->resume_trap = false;
        x->bt_depth = x->depth; /* the message was completed by wp_exec_resume_trap */
        x->bt_host = x->pending_func;
        x->depth = 0;
        x->state = X_IDLE;
        return WP_RUN_TRAP;
    }
    if (x->depth == 0) {
        if (!x->host_called)
            return run_host_direct(x);
        x->state = X_DONE; /* a direct host call, resumed: its results are in place */
        return WP_RUN_DONE;
    }
    return interp(x, 0, budget, NULL);
}

wp_status wp_exec_resume(wp_exec *x, const wp_val *results, uint32_t nresults, wp_err *err) {
    if (x->state != X_PENDING)
        return wp_err_set(err, WP_ERR_INVALID, "exec is not waiting on a host function");
    const wp_functype *t = x->pending_type;
    if (nresults != t->nresults)
        return wp_err_set(err, WP_ERR_INVALID, "expected %" PRIu32 " results, got %" PRIu32,
                          t->nresults, nresults);
    for (uint32_t i = 0; i < nresults; i++) {
        if (results[i].type != t->types[t->nparams + i])
            return wp_err_set(err, WP_ERR_INVALID, "result %" PRIu32 ": expected %s, got %s", i,
                              wp_valtype_name(t->types[t->nparams + i]),
                              wp_valtype_name(results[i].type));
    }
    for (uint32_t i = 0; i < nresults; i++)
        x->stack[x->pending_at + i] = wp__val_to_slot(results[i]);
    x->pending_type = NULL;
    x->state = X_READY;
    return WP_OK;
}

void wp_exec_resume_trap(wp_exec *x, const char *msg) {
    if (x->state != X_PENDING)
        return;
    x->trap.kind = WP_TRAP_HOST;
    x->trap.exit_code = 0;
    snprintf(x->trap.msg, sizeof x->trap.msg, "%s", msg ? msg : "host error");
    if (x->depth > 0)
        append_where(&x->trap, x->frames[x->depth - 1].code, x->frames[x->depth - 1].inst);
    x->resume_trap = true;
    x->pending_type = NULL;
    x->state = X_READY;
}

void wp_exec_reset(wp_exec *x) {
    if (x->nesting > 0 || x->hosting > 0)
        return;
    x->depth = 0;
    x->pending_type = NULL;
    x->resume_trap = false;
    set_backtrace(x, 0, NULL);
    x->state = X_IDLE;
}

uint32_t wp_exec_results(const wp_exec *x, wp_val *out, uint32_t cap) {
    if (x->state != X_DONE)
        return 0;
    const wp_functype *t = x->func->type;
    for (uint32_t i = 0; i < t->nresults && i < cap; i++)
        out[i] = wp__slot_to_val(x->stack[i], t->types[t->nparams + i]);
    return t->nresults;
}

const wp_trap *wp_exec_trap(const wp_exec *x) { return &x->trap; }

/* The import through which 'caller' reached host function f: its function index and name
 * (name section first, else the import's field name). */
static wp_frame_info host_frame_info(const wp_func *f, const wp_instance *caller) {
    wp_frame_info fi = {NULL, UINT32_MAX, {NULL, 0}};
    if (!caller)
        return fi;
    const wp_module *m = caller->module;
    for (uint32_t i = 0; i < m->nimported_funcs; i++) {
        if (caller->funcs[i] == f) {
            fi.func = i;
            fi.name = m->funcs[i].name;
            break;
        }
    }
    for (uint32_t k = 0; k < m->nimports && fi.func != UINT32_MAX && fi.name.len == 0; k++) {
        if (m->imports[k].kind == WP_EXTERN_FUNC && m->imports[k].index == fi.func)
            fi.name = m->imports[k].name;
    }
    return fi;
}

static wp_frame_info wasm_frame_info(const wp_frame *fr) {
    uint32_t i = fr->code->func_index;
    return (wp_frame_info){fr->inst, i, fr->inst->module->funcs[i].name};
}

uint32_t wp_exec_backtrace(const wp_exec *x, wp_frame_info *out, uint32_t cap) {
    if (x->state != X_IDLE)
        return 0; /* a run in progress, or one that did not trap */
    uint32_t n = 0;
    if (x->bt_host) {
        const wp_instance *caller = x->bt_depth ? x->frames[x->bt_depth - 1].inst : NULL;
        if (n < cap)
            out[n] = host_frame_info(x->bt_host, caller);
        n++;
    }
    for (uint32_t i = x->bt_depth; i-- > 0; n++) {
        if (n < cap)
            out[n] = wasm_frame_info(&x->frames[i]);
    }
    return n;
}

wp_status wp_call(wp_exec *x, wp_func *f, const wp_val *args, uint32_t nargs, wp_val *results,
                  uint32_t nresults, wp_trap *trap, wp_err *err) {
    if (nresults != f->type->nresults)
        return wp_err_set(err, WP_ERR_INVALID, "expected room for %" PRIu32 " results, got %"
                          PRIu32, f->type->nresults, nresults);
    wp_status st = wp_exec_begin(x, f, args, nargs, err);
    if (st != WP_OK)
        return st;
    wp_run_state rs;
    do
        rs = wp_exec_run(x, WP_BUDGET_UNLIMITED);
    while (rs == WP_RUN_BUDGET);
    if (rs == WP_RUN_DONE) {
        wp_exec_results(x, results, nresults);
        return WP_OK;
    }
    if (rs == WP_RUN_PENDING) {
        wp_exec_reset(x);
        return wp_err_set(err, WP_ERR_INVALID, "a host function went pending inside wp_call");
    }
    if (trap)
        *trap = x->trap;
    return wp_err_set(err, WP_ERR_TRAP, "%s", x->trap.msg);
}

/* ---- Nested calls ------------------------------------------------------------------------ */

static wp_status nested_wasm(wp_exec *x, wp_func *f, size_t at, wp_err *err) {
    uint32_t base = x->depth;
    const wp_cell *saved_pc = x->pc;
    if (!push_entry_frame(x, f, at)) {
        x->depth = base;
        x->trap.kind = WP_TRAP_STACK_EXHAUSTED;
        snprintf(x->trap.msg, sizeof x->trap.msg, "%s", wp_trap_text(WP_TRAP_STACK_EXHAUSTED));
        return wp_err_set(err, WP_ERR_TRAP, "%s", x->trap.msg);
    }
    x->nesting++;
    wp_run_state rs = interp(x, base, WP_BUDGET_UNLIMITED, NULL);
    x->nesting--;
    x->pc = saved_pc;
    x->depth = base;
    if (rs != WP_RUN_DONE)
        return wp_err_set(err, WP_ERR_TRAP, "%s", x->trap.msg);
    return WP_OK;
}

wp_status wp_host_call_nested(wp_host_call *call, wp_func *f, const wp_val *args, uint32_t nargs,
                              wp_val *results, uint32_t nresults, wp_err *err) {
    wp_exec *x = call->x;
    const wp_functype *t = f->type;
    wp_status st = check_args(t, args, nargs, err);
    if (st != WP_OK)
        return st;
    if (nresults != t->nresults)
        return wp_err_set(err, WP_ERR_INVALID, "expected room for %" PRIu32 " results, got %"
                          PRIu32, t->nresults, nresults);
    size_t at = x->host_top;
    size_t saved_top = x->host_top;
    if (!grow_stack(x, at + max_u32(max_u32(t->nparams, t->nresults), 1)))
        return wp_err_set(err, WP_ERR_TRAP, "%s", wp_trap_text(WP_TRAP_STACK_EXHAUSTED));
    for (uint32_t i = 0; i < nargs; i++)
        x->stack[at + i] = wp__val_to_slot(args[i]);
    if (f->host) {
        x->host_top = at + max_u32(t->nparams, t->nresults);
        x->nesting++;
        wp_host_result r = call_host(x, f, at, call->inst);
        x->nesting--;
        x->host_top = saved_top;
        if (r == WP_HOST_PENDING)
            return wp_err_set(err, WP_ERR_TRAP, "a host function cannot wait inside a nested call");
        if (r != WP_HOST_OK)
            return wp_err_set(err, WP_ERR_TRAP, "%s", x->trap.msg);
    } else {
        st = nested_wasm(x, f, at, err);
        x->host_top = saved_top;
        if (st != WP_OK)
            return st;
    }
    for (uint32_t i = 0; i < nresults; i++)
        results[i] = wp__slot_to_val(x->stack[at + i], t->types[t->nparams + i]);
    return WP_OK;
}
