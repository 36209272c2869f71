/* wasm_proc.c: the process.wasm behaviour: instantiate once, run start, _initialize and the
 * method in budgeted slices, lift the result. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funcs_host.h"
#include "proc_limits.h"
#include "wippy/runtime.h"

typedef enum phase {
    PH_NEW,      /* nothing instantiated yet */
    PH_START,    /* running the module's start function */
    PH_INIT,     /* running a reactor's _initialize */
    PH_CALL,     /* running the method */
    PH_FINISHED, /* the result was handed out */
} phase;

typedef struct wasm_proc {
    wp_module *module; /* our reference */
    char *method;
    const wp_wit_func *wit;
    bool command;  /* method is _start: arguments went into argv */
    wp_wasi *wasi; /* NULL without WASI */
    wp__gfuncs *funcs; /* the wippy:runtime/funcs import's calls (funcs_host.c), or NULL */
    wp_store_config store_cfg;
    wp_store *store;
    wp_exec *exec;
    wp_instance *inst;
    wp_func *fn;
    wp_value *args; /* copies, for the call (not for _start) */
    uint32_t nargs;
    wp_val *flat_results; /* the method's core results, for lifting and post-return */
    uint32_t nresults;
    phase ph;
} wasm_proc;

static wp_heap *heap(void) { return wp_heap_default(); }

static void free_args(wasm_proc *wp) {
    for (uint32_t i = 0; i < wp->nargs; i++)
        wp_value_free(&wp->args[i]);
    wp_heap_free(heap(), wp->args, wp->nargs * sizeof *wp->args);
    wp->args = NULL;
    wp->nargs = 0;
}

static void wasm_close(void *state) {
    wasm_proc *wp = state;
    if (!wp)
        return;
    wp_store_free(wp->store); /* before the WASI context its host functions refer to */
    wp_wasi_free(wp->wasi);
    wp__gfuncs_free(wp->funcs);
    wp_module_free(wp->module);
    free_args(wp);
    wp_heap_free(heap(), wp->flat_results, wp->nresults * sizeof *wp->flat_results);
    if (wp->method)
        wp_heap_free(heap(), wp->method, strlen(wp->method) + 1);
    wp_heap_free(heap(), wp, sizeof *wp);
}

/* ---- Init -------------------------------------------------------------------------------- */

/* The text of a command's argument: strings as they are, numbers and booleans printed. */
static wp_status arg_text(const wp_value *v, uint32_t i, char *buf, size_t cap, const char **out,
                          wp_err *err) {
    switch (v->kind) {
    case WP_VSTRING:
        *out = wp_value_str(v, NULL);
        return WP_OK;
    case WP_VINT:
        snprintf(buf, cap, "%" PRId64, v->of.i);
        break;
    case WP_VFLOAT:
        snprintf(buf, cap, "%.17g", v->of.f);
        break;
    case WP_VBOOL:
        snprintf(buf, cap, "%s", v->of.b ? "true" : "false");
        break;
    default:
        return wp_err_set(err, WP_ERR_INVALID, "argument %u: a command takes text, not %s", i + 1,
                          wp_vkind_name(v->kind));
    }
    *out = buf;
    return WP_OK;
}

/* WASI context for a command: argv is the configured argv then the arguments. */
static wp_status open_command_wasi(wasm_proc *wp, const wp_wasi_config *base, const wp_value *args,
                                   uint32_t nargs, wp_err *err) {
    uint32_t n = base->nargs + nargs;
    const char **argv = wp_heap_calloc(heap(), n + 1, sizeof *argv);
    char(*bufs)[32] = wp_heap_calloc(heap(), nargs + 1, sizeof *bufs);
    wp_status st = argv && bufs ? WP_OK : wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; st == WP_OK && i < base->nargs; i++)
        argv[i] = base->args[i];
    for (uint32_t i = 0; st == WP_OK && i < nargs; i++)
        st = arg_text(&args[i], i, bufs[i], sizeof bufs[i], &argv[base->nargs + i], err);
    if (st == WP_OK) {
        wp_wasi_config cfg = *base;
        cfg.args = argv;
        cfg.nargs = n;
        st = wp_wasi_new(&cfg, &wp->wasi, err);
    }
    wp_heap_free(heap(), argv, (n + 1) * sizeof *argv);
    wp_heap_free(heap(), bufs, (nargs + 1) * sizeof *bufs);
    return st;
}

static wp_status copy_args(wasm_proc *wp, const wp_value *args, uint32_t nargs, wp_err *err) {
    if (nargs == 0)
        return WP_OK;
    wp->args = wp_heap_calloc(heap(), nargs, sizeof *wp->args);
    if (!wp->args)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    wp->nargs = nargs;
    for (uint32_t i = 0; i < nargs; i++)
        if (wp_value_copy(&wp->args[i], &args[i]) != WP_OK)
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    return WP_OK;
}

static wp_status wasm_init(const void *config, const wp_value *args, uint32_t nargs, void **state,
                           wp_err *err) {
    const wp_wasm_config *cfg = config;
    *state = NULL;
    wasm_proc *wp = wp_heap_zalloc(heap(), sizeof *wp);
    if (!wp || !(wp->method = wp_heap_strdup(heap(), cfg->method))) {
        wasm_close(wp);
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    wp->module = wp_module_ref(cfg->module);
    wp->wit = cfg->wit;
    wp->command = strcmp(cfg->method, "_start") == 0;
    wp->store_cfg = wp__limits_store_config(&cfg->limits);
    wp_status st = WP_OK;
    if (wp->command && !cfg->wasi && nargs > 0)
        st = wp_err_set(err, WP_ERR_INVALID,
                        "_start takes its arguments through WASI, which this module does not get");
    else if (wp->command && cfg->wasi)
        st = open_command_wasi(wp, &cfg->wasi_cfg, args, nargs, err);
    else if (cfg->wasi)
        st = wp_wasi_new(&cfg->wasi_cfg, &wp->wasi, err);
    if (st == WP_OK && !wp->command)
        st = copy_args(wp, args, nargs, err);
    if (st != WP_OK) {
        wasm_close(wp);
        return st;
    }
    *state = wp;
    return WP_OK;
}

/* ---- Memory: the host's reservation, the process's limit --------------------------------- */

/* What a process of config reserves on its host: the ceilings of its module's own memories. */
static uint64_t wasm_reserve(const void *config) {
    const wp_wasm_config *cfg = config;
    return wp__module_reserve(cfg->module, cfg->limits.max_memory_pages);
}

/* ---- Instantiation and phases ------------------------------------------------------------ */

static wp_status link_and_instantiate(wasm_proc *wp, wp_err *err) {
    uint32_t n = wp_module_import_count(wp->module);
    wp_extern *imports = wp_heap_calloc(heap(), n + 1, sizeof *imports);
    if (!imports)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    wp_status st = wp->wasi ? wp_wasi_link(wp->wasi, wp->store, wp->module, imports, err) : WP_OK;
    for (uint32_t i = 0; st == WP_OK && i < n; i++) {
        wp_import_desc d;
        wp_module_import(wp->module, i, &d);
        if (wp__gfuncs_is_import(&d))
            st = wp__gfuncs_link(&wp->funcs, wp->store, &d, &imports[i], err);
        else if (!wp->wasi || !wp_wasi_is_import(&d))
            st = wp_err_set(err, WP_ERR_LINK, "import %.*s.%.*s is not provided", (int)d.module.len,
                            d.module.ptr, (int)d.name.len, d.name.ptr);
    }
    if (st == WP_OK)
        st = wp_instance_new(wp->store, wp->module, imports, n, &wp->inst, err);
    wp_heap_free(heap(), imports, (n + 1) * sizeof *imports);
    return st;
}

static bool find_func(const wasm_proc *wp, const char *name, wp_func **out) {
    wp_extern ext;
    if (!wp_instance_export(wp->inst, name, strlen(name), &ext) || ext.kind != WP_EXTERN_FUNC)
        return false;
    *out = ext.of.func;
    return true;
}

/* A core parameter from a value: integers, floats, booleans, or text parsed as a number. */
static wp_status core_arg(const wp_value *v, wp_valtype t, wp_val *out, wp_err *err) {
    bool is_int = t == WP_I32 || t == WP_I64;
    const char *s = wp_value_str(v, NULL);
    char *end = NULL;
    int64_t i = 0;
    double d = 0;
    if (v->kind == WP_VINT || v->kind == WP_VBOOL) {
        i = v->kind == WP_VINT ? v->of.i : v->of.b;
        d = (double)i;
    } else if (v->kind == WP_VFLOAT && !is_int) {
        d = v->of.f;
    } else if (v->kind == WP_VSTRING && is_int) {
        errno = 0;
        i = strtoll(s, &end, 0);
        if (errno || end == s || *end)
            return wp_err_set(err, WP_ERR_INVALID, "'%.100s' is not a valid %s", s,
                              wp_valtype_name(t));
    } else if (v->kind == WP_VSTRING) {
        d = strtod(s, &end);
        if (end == s || *end)
            return wp_err_set(err, WP_ERR_INVALID, "'%.100s' is not a valid %s", s,
                              wp_valtype_name(t));
    } else {
        return wp_err_set(err, WP_ERR_INVALID, "a %s cannot be passed as %s",
                          wp_vkind_name(v->kind), wp_valtype_name(t));
    }
    if (t == WP_I32 && (i < INT32_MIN || i > (int64_t)UINT32_MAX))
        return wp_err_set(err, WP_ERR_INVALID, "%" PRId64 " is out of range for i32", i);
    float f = (float)d;
    switch (t) {
    case WP_I32:
        *out = wp_val_i32((uint32_t)i);
        return WP_OK;
    case WP_I64:
        *out = wp_val_i64((uint64_t)i);
        return WP_OK;
    case WP_F32:
        *out = wp_val_f32(0);
        memcpy(&out->of.f32, &f, 4);
        return WP_OK;
    case WP_F64:
        *out = wp_val_f64(0);
        memcpy(&out->of.f64, &d, 8);
        return WP_OK;
    default:
        return wp_err_set(err, WP_ERR_UNSUPPORTED, "cannot pass a %s", wp_valtype_name(t));
    }
}

static wp_status lower_core(wasm_proc *wp, wp_functype ft, wp_val *flat, wp_err *err) {
    if (wp->nargs != ft.nparams)
        return wp_err_set(err, WP_ERR_INVALID, "%s takes %u argument%s, %u given", wp->method,
                          ft.nparams, ft.nparams == 1 ? "" : "s", wp->nargs);
    for (uint32_t i = 0; i < ft.nparams; i++)
        if (core_arg(&wp->args[i], ft.types[i], &flat[i], err) != WP_OK)
            return wp_err_wrap(err, "argument %u", i + 1);
    return WP_OK;
}

static wp_status begin_call(wasm_proc *wp, wp_err *err) {
    if (!find_func(wp, wp->method, &wp->fn))
        return wp_err_set(err, WP_ERR_NOT_FOUND, "no exported function '%s'", wp->method);
    wp_functype ft = wp_func_type(wp->fn);
    uint32_t cap = ft.nparams > WP_CABI_MAX_FLAT_PARAMS ? ft.nparams : WP_CABI_MAX_FLAT_PARAMS;
    wp_val *flat = wp_heap_calloc(heap(), cap, sizeof *flat);
    if (!flat)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    uint32_t nflat = 0;
    wp_status st = WP_OK;
    if (wp->wit) {
        wp_cabi cx;
        wp_cabi_init(&cx, wp->exec, wp->inst);
        st = wp_cabi_lower_params(&cx, wp->wit, wp->args, wp->nargs, flat, &nflat, err);
    } else if (!wp->command) {
        st = lower_core(wp, ft, flat, err);
        nflat = ft.nparams;
    }
    if (st == WP_OK)
        st = wp_exec_begin(wp->exec, wp->fn, flat, nflat, err);
    wp_heap_free(heap(), flat, cap * sizeof *flat);
    free_args(wp);
    wp->ph = PH_CALL;
    return st;
}

/* Begins what comes after phase 'done': _initialize, then the method. */
static wp_status begin_next(wasm_proc *wp, phase done, wp_err *err) {
    wp_func *init;
    if (done < PH_INIT && !wp->command && find_func(wp, "_initialize", &init)) {
        wp->ph = PH_INIT;
        return wp_exec_begin(wp->exec, init, NULL, 0, err);
    }
    return begin_call(wp, err);
}

static wp_status instantiate(wasm_proc *wp, wp_err *err) {
    wp_status st = wp__check_memory_limit(wp->module, wp->store_cfg.max_memory_pages, err);
    if (st == WP_OK)
        st = wp_store_new(&wp->store_cfg, &wp->store, err);
    if (st == WP_OK)
        st = wp_exec_new(wp->store, &wp->exec, err);
    if (st == WP_OK)
        st = link_and_instantiate(wp, err);
    if (st != WP_OK)
        return st;
    wp_func *start = wp_instance_start_func(wp->inst);
    if (!start)
        return begin_next(wp, PH_START, err);
    wp->ph = PH_START;
    return wp_exec_begin(wp->exec, start, NULL, 0, err);
}

/* ---- Results ----------------------------------------------------------------------------- */

static wp_status core_result(wp_val v, wp_value *out) {
    switch (v.type) {
    case WP_I32:
        *out = wp_value_int((int32_t)v.of.i32);
        return WP_OK;
    case WP_I64:
        *out = wp_value_int((int64_t)v.of.i64);
        return WP_OK;
    case WP_F32: {
        float f;
        memcpy(&f, &v.of.f32, 4);
        *out = wp_value_float(f);
        return WP_OK;
    }
    case WP_F64: {
        double d;
        memcpy(&d, &v.of.f64, 8);
        *out = wp_value_float(d);
        return WP_OK;
    }
    default:
        *out = wp_value_nil(); /* references have no value form */
        return WP_OK;
    }
}

static wp_status core_results(const wasm_proc *wp, wp_value *out, wp_err *err) {
    if (wp->nresults == 0 || wp->command) {
        *out = wp->command ? wp_value_int(0) : wp_value_nil();
        return WP_OK;
    }
    if (wp->nresults == 1)
        return core_result(wp->flat_results[0], out);
    if (wp_value_array(out, wp->nresults) != WP_OK)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < wp->nresults; i++) {
        wp_value v;
        core_result(wp->flat_results[i], &v);
        if (wp_value_array_push(out, &v) != WP_OK)
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    return WP_OK;
}

static wp_status finish_call(wasm_proc *wp, wp_value *out, wp_err *err) {
    uint32_t n = wp_func_type(wp->fn).nresults;
    if (n && !(wp->flat_results = wp_heap_calloc(heap(), n, sizeof *wp->flat_results)))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    wp->nresults = n;
    wp_exec_results(wp->exec, wp->flat_results, n);
    if (!wp->wit)
        return core_results(wp, out, err);
    wp_cabi cx;
    wp_cabi_init(&cx, wp->exec, wp->inst);
    wp_status st = wp_cabi_lift_results(&cx, wp->wit, wp->flat_results, n, out, err);
    if (st == WP_OK && (st = wp_cabi_post_return(&cx, wp->method, wp->flat_results, n, err)))
        wp_value_free(out);
    return st;
}

/* The result of a trap: proc_exit's status, or an error carrying the trap's message, which
 * names the limit when one was hit (fuel, call depth). */
static void trap_result(const wasm_proc *wp, wp_value *result) {
    const wp_trap *t = wp_exec_trap(wp->exec);
    char msg[WP_ERR_MSG_MAX + 64];
    if (t->kind == WP_TRAP_EXIT && wp->command) {
        *result = wp_value_int(t->exit_code);
        return;
    }
    if (t->kind == WP_TRAP_EXIT) /* a method has a result to return: leaving is a failure */
        snprintf(msg, sizeof msg, "proc_exit(%" PRId32 ") during %s: the call ended without "
                 "its result", t->exit_code, wp->ph == PH_CALL ? wp->method : "initialisation");
    else
        wp__trap_text(t, &wp->store_cfg, msg, sizeof msg);
    if (wp_value_error(result, WP_ERR_TRAP, msg, NULL) != WP_OK)
        *result = wp_value_nil();
}

static wp_step fail(wasm_proc *wp, const wp_err *err, wp_value *result) {
    wp->ph = PH_FINISHED;
    if (wp_value_from_err(result, err) != WP_OK)
        *result = wp_value_nil();
    return WP_STEP_DONE;
}

/* A phase finished: begin the next one, or produce the result. */
static bool advance(wasm_proc *wp, wp_value *result, wp_err *err) {
    if (wp->ph != PH_CALL)
        return begin_next(wp, wp->ph, err) == WP_OK;
    wp->ph = PH_FINISHED;
    return finish_call(wp, result, err) == WP_OK;
}

static wp_step wasm_step(void *state, uint64_t budget, wp_value *result) {
    wasm_proc *wp = state;
    wp_err err = {0};
    *result = wp_value_nil();
    if (wp->ph == PH_FINISHED)
        return WP_STEP_DONE;
    if (wp->ph == PH_NEW && instantiate(wp, &err) != WP_OK)
        return fail(wp, &err, result);
    for (;;) {
        switch (wp_exec_run(wp->exec, budget)) {
        case WP_RUN_DONE:
            if (!advance(wp, result, &err))
                return fail(wp, &err, result);
            if (wp->ph == PH_FINISHED)
                return WP_STEP_DONE;
            continue;
        case WP_RUN_TRAP:
            trap_result(wp, result); /* before the phase changes: its message names it */
            wp->ph = PH_FINISHED;
            return WP_STEP_DONE;
        case WP_RUN_PENDING:
            return WP_STEP_PENDING;
        case WP_RUN_BUDGET:
            return WP_STEP_BUDGET;
        }
    }
}

static bool wasm_wait(void *state, wp_wait *out) {
    const wasm_proc *wp = state;
    wp_wasi_wait w;
    if (wp__gfuncs_wait(wp->funcs, out))
        return true;
    if (!wp->wasi || !wp_wasi_pending(wp->wasi, &w))
        return false;
    *out = (wp_wait){.deadline = w.deadline, .nfds = w.nfds, .fds = w.fds};
    return true;
}

static wp_status wasm_wake(void *state, bool *ready, wp_err *err) {
    wasm_proc *wp = state;
    *ready = false;
    wp_wait fw;
    if (wp__gfuncs_wait(wp->funcs, &fw))
        return wp__gfuncs_complete(wp->funcs, wp->store, wp->inst, wp->exec, ready, err);
    if (!wp->wasi)
        return wp_err_set(err, WP_ERR_INVALID, "process.wasm: nothing is waiting");
    return wp_wasi_complete(wp->wasi, wp->exec, ready, err);
}

static void wasm_cancel(void *state) {
    wasm_proc *wp = state;
    if (wp->wasi)
        wp_wasi_cancel(wp->wasi);
    wp__gfuncs_cancel(wp->funcs);
    if (wp->exec)
        wp_exec_reset(wp->exec);
    wp->ph = PH_FINISHED;
}

static const wp_behavior wasm_behavior = {
    .name = "process.wasm",
    .init = wasm_init,
    .step = wasm_step,
    .wait = wasm_wait,
    .wake = wasm_wake,
    .cancel = wasm_cancel,
    .close = wasm_close,
    .reserve = wasm_reserve,
};

const wp_behavior *wp_wasm_behavior(void) { return &wasm_behavior; }
