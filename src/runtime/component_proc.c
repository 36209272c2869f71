/* component_proc.c: process.wasm and function.wasm entries whose binary is a component:
 * instantiate it once with the WASI 0.2 interfaces its imports enable, call the method in
 * budgeted slices (parked host calls wait through the host), lift the result. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "proc_limits.h"
#include "wippy/runtime.h"
#include "wippy/wasi2.h"

typedef struct comp_proc {
    const wp_component_config *cfg;
    wp_component *component; /* our reference */
    bool command;            /* wasi:cli/run: arguments went into argv, result is a status */
    wp_wasi2 *wasi;
    wp_comp_linker *linker;
    wp_store_config store_cfg; /* from the entry's limits */
    wp_store *store;
    wp_exec *exec;
    wp_comp_inst *inst;
    const wp_comp_func *fn;
    wp_value *args;
    uint32_t nargs;
    bool started;
    bool finished;
} comp_proc;

static wp_heap *heap(void) { return wp_heap_default(); }

static void free_args(comp_proc *cp) {
    for (uint32_t i = 0; i < cp->nargs; i++)
        wp_value_free(&cp->args[i]);
    wp_heap_free(heap(), cp->args, cp->nargs * sizeof *cp->args);
    cp->args = NULL;
    cp->nargs = 0;
}

static void comp_close(void *state) {
    comp_proc *cp = state;
    if (!cp)
        return;
    wp_comp_inst_free(cp->inst); /* drops host resources the guest still holds */
    wp_store_free(cp->store);
    wp_comp_linker_free(cp->linker);
    wp_wasi2_free(cp->wasi);
    wp_component_free(cp->component);
    free_args(cp);
    wp_heap_free(heap(), cp, sizeof *cp);
}

/* ---- Init -------------------------------------------------------------------------------- */

bool wp_component_is_command(const char *method) {
    return strncmp(method, "wasi:cli/run", 12) == 0 && strchr(method, '#') &&
           strcmp(strchr(method, '#'), "#run") == 0;
}

/* A command's argv: the configured one, then the arguments as text. */
static wp_status command_wasi(comp_proc *cp, const wp_value *args, uint32_t nargs, wp_err *err) {
    const wp_wasi_config *base = &cp->cfg->wasi_cfg;
    uint32_t n = base->nargs + nargs;
    const char **argv = wp_heap_calloc(heap(), n + 1, sizeof *argv);
    char(*bufs)[32] = wp_heap_calloc(heap(), nargs + 1, sizeof *bufs);
    wp_status st = argv && bufs ? WP_OK : wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; st == WP_OK && i < base->nargs; i++)
        argv[i] = base->args[i];
    for (uint32_t i = 0; st == WP_OK && i < nargs; i++) {
        const wp_value *v = &args[i];
        argv[base->nargs + i] = bufs[i];
        if (v->kind == WP_VSTRING)
            argv[base->nargs + i] = wp_value_str(v, NULL);
        else if (v->kind == WP_VINT)
            snprintf(bufs[i], sizeof bufs[i], "%" PRId64, v->of.i);
        else if (v->kind == WP_VFLOAT)
            snprintf(bufs[i], sizeof bufs[i], "%.17g", v->of.f);
        else if (v->kind == WP_VBOOL)
            snprintf(bufs[i], sizeof bufs[i], "%s", v->of.b ? "true" : "false");
        else
            st = wp_err_set(err, WP_ERR_INVALID, "argument %u: a command takes text, not %s",
                            i + 1, wp_vkind_name(v->kind));
    }
    if (st == WP_OK) {
        wp_wasi_config cfg = *base;
        cfg.args = argv;
        cfg.nargs = n;
        st = wp_wasi2_new(&cfg, &cp->wasi, err);
    }
    wp_heap_free(heap(), argv, (n + 1) * sizeof *argv);
    wp_heap_free(heap(), bufs, (nargs + 1) * sizeof *bufs);
    return st;
}

static wp_status copy_args(comp_proc *cp, const wp_value *args, uint32_t nargs, wp_err *err) {
    if (nargs == 0)
        return WP_OK;
    if (!(cp->args = wp_heap_calloc(heap(), nargs, sizeof *cp->args)))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    cp->nargs = nargs;
    for (uint32_t i = 0; i < nargs; i++)
        if (wp_value_copy(&cp->args[i], &args[i]) != WP_OK)
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    return WP_OK;
}

/* Only the interfaces of the entry's import groups are linked; the rest become stubs. */
static wp_status link_imports(comp_proc *cp, wp_err *err) {
    wp_status st = wp_comp_linker_new(&cp->linker, err);
    for (uint32_t i = 0; st == WP_OK && i < cp->cfg->nimports; i++)
        st = wp_wasi2_link(cp->wasi, cp->linker, cp->cfg->imports[i], err);
    if (st == WP_OK) /* wippy:runtime/funcs@0.1.0, for components that import it (h16) */
        st = wp_comp_linker_add(cp->linker, wp_funcs_host_iface(), NULL, err);
    return st;
}

static wp_status comp_init(const void *config, const wp_value *args, uint32_t nargs,
                           void **state, wp_err *err) {
    const wp_component_config *cfg = config;
    *state = NULL;
    comp_proc *cp = wp_heap_zalloc(heap(), sizeof *cp);
    if (!cp)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    cp->cfg = cfg;
    cp->component = wp_component_ref(cfg->component);
    cp->command = wp_component_is_command(cfg->method);
    wp_status st = cp->command ? command_wasi(cp, args, nargs, err)
                               : wp_wasi2_new(&cfg->wasi_cfg, &cp->wasi, err);
    if (st == WP_OK && !cp->command)
        st = copy_args(cp, args, nargs, err);
    if (st == WP_OK)
        st = link_imports(cp, err);
    if (st != WP_OK) {
        comp_close(cp);
        return st;
    }
    *state = cp;
    return WP_OK;
}

/* ---- Steps ------------------------------------------------------------------------------- */

static wp_status start(comp_proc *cp, wp_err *err) {
    const wp_wasm_limits *lim = &cp->cfg->limits;
    cp->store_cfg = wp__limits_store_config(lim);
    wp_status st = WP_OK;
    for (uint32_t i = 0; st == WP_OK && i < wp_component_module_count(cp->component); i++)
        st = wp__check_memory_limit(wp_component_module(cp->component, i),
                                    lim->max_memory_pages, err);
    if (st == WP_OK)
        st = wp_store_new(&cp->store_cfg, &cp->store, err);
    if (st == WP_OK)
        st = wp_exec_new(cp->store, &cp->exec, err);
    if (st == WP_OK)
        st = wp_comp_instantiate(cp->component, cp->store, cp->exec, cp->linker, &cp->inst, err);
    if (st != WP_OK)
        return st;
    if (!(cp->fn = wp_comp_inst_func(cp->inst, cp->cfg->method)))
        return wp_err_set(err, WP_ERR_NOT_FOUND, "the component exports no function %s",
                          cp->cfg->method);
    cp->started = true;
    st = wp_comp_call_begin(cp->inst, cp->exec, cp->fn, cp->args, cp->nargs, err);
    free_args(cp);
    return st;
}

static wp_step fail(comp_proc *cp, const wp_err *err, wp_value *result) {
    cp->finished = true;
    if (wp_value_from_err(result, err) != WP_OK)
        *result = wp_value_nil();
    return WP_STEP_DONE;
}

/* A command's status: wasi:cli/exit's, else 0 for ok and 1 for err. */
static void command_status(const wp_value *v, wp_value *result) {
    *result = wp_value_int(wp_value_map_get(v, "ok") ? 0 : 1);
}

static void trap_result(comp_proc *cp, wp_value *result) {
    const wp_trap *t = wp_exec_trap(cp->exec);
    if (t->kind == WP_TRAP_EXIT && cp->command) {
        *result = wp_value_int(t->exit_code);
        return;
    }
    char msg[WP_ERR_MSG_MAX + 64];
    if (t->kind == WP_TRAP_EXIT)
        snprintf(msg, sizeof msg, "exit(%" PRId32 ") during %s: the call ended without its "
                 "result", t->exit_code, cp->cfg->method);
    else
        wp__trap_text(t, &cp->store_cfg, msg, sizeof msg);
    if (wp_value_error(result, WP_ERR_TRAP, msg, NULL) != WP_OK)
        *result = wp_value_nil();
}

static wp_step comp_step(void *state, uint64_t budget, wp_value *result) {
    comp_proc *cp = state;
    wp_err err = {0};
    *result = wp_value_nil();
    if (cp->finished)
        return WP_STEP_DONE;
    if (!cp->started && start(cp, &err) != WP_OK)
        return fail(cp, &err, result);
    switch (wp_exec_run(cp->exec, budget)) {
    case WP_RUN_DONE: {
        cp->finished = true;
        wp_value v;
        if (wp_comp_call_finish(cp->inst, cp->exec, &v, &err) != WP_OK)
            return fail(cp, &err, result);
        if (cp->command) {
            command_status(&v, result);
            wp_value_free(&v);
        } else {
            *result = v;
        }
        return WP_STEP_DONE;
    }
    case WP_RUN_TRAP:
        cp->finished = true;
        trap_result(cp, result);
        return WP_STEP_DONE;
    case WP_RUN_PENDING:
        return WP_STEP_PENDING;
    default:
        return WP_STEP_BUDGET;
    }
}

static bool comp_wait(void *state, wp_wait *out) {
    const comp_proc *cp = state;
    wp_wasi_wait w;
    if (!cp->inst || !wp_comp_pending(cp->inst, &w))
        return false;
    *out = (wp_wait){.deadline = w.deadline, .nfds = w.nfds, .fds = w.fds};
    return true;
}

static wp_status comp_wake(void *state, bool *ready, wp_err *err) {
    comp_proc *cp = state;
    *ready = false;
    if (!cp->inst)
        return wp_err_set(err, WP_ERR_INVALID, "component process: nothing is waiting");
    return wp_comp_complete(cp->inst, cp->exec, ready, err);
}

static void comp_cancel(void *state) {
    comp_proc *cp = state;
    if (cp->inst)
        wp_comp_cancel(cp->inst);
    if (cp->exec)
        wp_exec_reset(cp->exec);
    cp->finished = true;
}

/* What a component process reserves on its host: the memory ceilings of each core instance
 * it makes. */
static uint64_t comp_reserve(const void *config) {
    const wp_component_config *cfg = config;
    const wp_component *c = cfg->component;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < wp_component_module_count(c); i++)
        bytes += wp__module_reserve(wp_component_module(c, i), cfg->limits.max_memory_pages) *
                 wp_component_module_instances(c, i);
    return bytes;
}

static const wp_behavior COMPONENT_BEHAVIOR = {
    .name = "process.wasm",
    .init = comp_init,
    .step = comp_step,
    .wait = comp_wait,
    .wake = comp_wake,
    .cancel = comp_cancel,
    .close = comp_close,
    .reserve = comp_reserve,
};

const wp_behavior *wp_component_behavior(void) { return &COMPONENT_BEHAVIOR; }
