/* boot.c: a runtime for a registry: its hosts from process.host and terminal.host entries,
 * and the resolver that spawns process entries by ID. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* One prepared entry: its spec lives as long as the boot, so processes may borrow it. */
typedef struct prepared {
    char *id;
    wp_process_spec *spec;
} prepared;

struct wp_boot {
    wp_registry *reg;
    wp_runtime *rt;
    pthread_mutex_t lock; /* 'specs': resolvers run on any worker (then reg__lock) */
    prepared *specs;
    uint32_t nspecs;
    uint32_t specs_cap;
    wp_host *terminal;
    _Atomic(wp_runtime *) serving; /* set while wp_boot_serve runs: the signal hook's cue */
    wp_funcs *funcs; /* the runtime's function calls (kind_pool.c resolves them) */
};

/* ---- Entry fields --------------------------------------------------------------------------- */

static const wp_value *field(const wp_entry *e, const char *a, const char *b) {
    const wp_value *v = wp_value_map_get(wp_entry_data(e), a);
    return v && b ? wp_value_map_get(v, b) : v;
}

static uint32_t uint_field(const wp_entry *e, const char *a, const char *b) {
    const wp_value *v = field(e, a, b);
    return v && v->kind == WP_VINT && v->of.i > 0 && v->of.i <= 1 << 20 ? (uint32_t)v->of.i : 0;
}

/* lifecycle.auto_start: hosts start unless it says false. */
static bool auto_start(const wp_entry *e) {
    const wp_value *v = field(e, "lifecycle", "auto_start");
    return !v || v->kind != WP_VBOOL || v->of.b;
}

/* A duration as written in lifecycle fields: "500ms", "10s", "2m", or a number of seconds.
 * 0 if absent or unreadable. */
static uint64_t duration_ms(const wp_value *v) {
    if (v && v->kind == WP_VINT && v->of.i > 0)
        return (uint64_t)v->of.i * 1000u;
    if (!v || v->kind != WP_VSTRING)
        return 0;
    char *end = NULL;
    const char *s = wp_value_str(v, NULL);
    double n = strtod(s, &end);
    if (end == s || !(n > 0 && n < 1e9))
        return 0;
    if (strcmp(end, "ms") == 0)
        return (uint64_t)n;
    if (strcmp(end, "s") == 0 || *end == '\0')
        return (uint64_t)(n * 1000);
    if (strcmp(end, "m") == 0)
        return (uint64_t)(n * 60000);
    return 0;
}

/* ---- The resolver --------------------------------------------------------------------------- */

static wp_status remember(wp_boot *b, const wp_entry *e, wp_process_spec **out, wp_err *err) {
    for (uint32_t i = 0; i < b->nspecs; i++) {
        if (strcmp(b->specs[i].id, wp_entry_id(e)) == 0) {
            *out = b->specs[i].spec;
            return WP_OK;
        }
    }
    if (!reg__grow((void **)&b->specs, &b->specs_cap, b->nspecs + 1, sizeof *b->specs))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    char *id = reg__strdup(wp_entry_id(e));
    if (!id)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    reg__lock(b->reg); /* the registry's own lock, shared with Lua's env hooks; inside ours */
    wp_status st = wp_registry_prepare(b->reg, e, out, err);
    reg__unlock(b->reg);
    if (st != WP_OK) {
        reg__strfree(id);
        return st;
    }
    b->specs[b->nspecs++] = (prepared){id, *out};
    return WP_OK;
}

wp_status wp_boot_target(wp_boot *b, const wp_entry *e, wp_spawn_target *out, wp_err *err) {
    wp_process_spec *spec = NULL;
    pthread_mutex_lock(&b->lock);
    wp_status st = remember(b, e, &spec, err);
    pthread_mutex_unlock(&b->lock);
    if (st != WP_OK)
        return st;
    *out = (wp_spawn_target){wp_process_spec_behavior(spec), wp_process_spec_config(spec),
                             wp_process_spec_max_execution_ms(spec)};
    return WP_OK;
}

static wp_status resolve(void *ud, const char *id, wp_spawn_target *out, wp_err *err) {
    wp_boot *b = ud;
    const wp_entry *e = wp_registry_find(b->reg, id);
    if (!e)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "entry %.200s not found", id);
    return wp_boot_target(b, e, out, err);
}

static wp_status resolve_func(void *ud, const char *id, wp_func_target *out, wp_err *err) {
    wp_boot *b = ud;
    return reg__func_target(b, b->reg, id, out, err);
}

/* ---- Hosts ---------------------------------------------------------------------------------- */

static wp_status add_host(wp_boot *b, const wp_entry *e, bool terminal, wp_err *err) {
    wp_host_config hc = {.workers = uint_field(e, "host", "workers"),
                         .queue_size = uint_field(e, "host", "queue_size"),
                         .local_queue_size = uint_field(e, "host", "local_queue_size"),
                         .terminal = terminal,
                         .max_processes = uint_field(e, "host", "max_processes"),
                         .max_memory_bytes = (uint64_t)uint_field(e, "host", "max_memory_mb")
                                             << 20};
    wp_host *h = NULL;
    wp_status st = wp_runtime_add_host(b->rt, wp_entry_id(e), &hc, &h, err);
    if (st != WP_OK)
        return wp_err_wrap(err, "host %s", wp_entry_id(e));
    if (terminal)
        b->terminal = h;
    reg__log(b->reg, "host %s: started%s", wp_entry_id(e), terminal ? " (terminal)" : "");
    return WP_OK;
}

/* Every process.host that starts by itself, in boot order, and the terminal host. */
static wp_status add_hosts(wp_boot *b, const wp_entry *terminal, wp_err *err) {
    uint32_t n = wp_registry_entry_count(b->reg);
    for (uint32_t i = 0; i < n; i++) {
        const wp_entry *e = wp_registry_entry_at(b->reg, i);
        if (strcmp(wp_entry_kind(e), "process.host") != 0)
            continue;
        if (!auto_start(e)) {
            reg__log(b->reg, "host %s: not started (lifecycle.auto_start is false)",
                     wp_entry_id(e));
            continue;
        }
        wp_status st = add_host(b, e, false, err);
        if (st != WP_OK)
            return st;
    }
    return terminal ? add_host(b, terminal, true, err) : WP_OK;
}

/* The grace period of a shutdown: the longest lifecycle.stop_timeout of the hosts. */
static uint64_t stop_timeout(const wp_registry *reg) {
    uint64_t ms = 0;
    for (uint32_t i = 0; i < wp_registry_entry_count(reg); i++) {
        const wp_entry *e = wp_registry_entry_at(reg, i);
        const char *k = wp_entry_kind(e);
        if (strcmp(k, "process.host") == 0 || strcmp(k, "terminal.host") == 0) {
            uint64_t t = duration_ms(field(e, "lifecycle", "stop_timeout"));
            ms = t > ms ? t : ms;
        }
    }
    return ms;
}

static bool stop_services(void *ud, int signum);

wp_status wp_registry_boot(wp_registry *reg, const wp_entry *terminal, bool handle_signals,
                           wp_boot **out, wp_err *err) {
    *out = NULL;
    wp_boot *b = wp_heap_zalloc(wp_heap_default(), sizeof *b);
    if (!b)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    b->reg = reg;
    pthread_mutex_init(&b->lock, NULL);
    wp_runtime_config rc = {.resolve = resolve,
                            .resolve_ud = b,
                            .shutdown_timeout_ms = stop_timeout(reg),
                            .handle_signals = handle_signals,
                            .signal_hook = stop_services,
                            .signal_ud = b};
    wp_status st = wp_runtime_new(&rc, &b->rt, err);
    if (st == WP_OK)
        st = wp_funcs_new(b->rt, resolve_func, b, &b->funcs, err);
    if (st == WP_OK)
        st = add_hosts(b, terminal, err);
    if (st != WP_OK) {
        wp_boot_free(b);
        return st;
    }
    *out = b;
    return WP_OK;
}

wp_runtime *wp_boot_runtime(const wp_boot *b) { return b->rt; }

wp_host *wp_boot_terminal(const wp_boot *b) { return b->terminal; }

void wp_boot_free(wp_boot *b) {
    if (!b)
        return;
    wp_runtime_free(b->rt); /* first: its processes borrow the specs */
    wp_funcs_free(b->funcs); /* after: calls still running used it */
    for (uint32_t i = 0; i < b->nspecs; i++) {
        reg__strfree(b->specs[i].id);
        wp_process_spec_free(b->specs[i].spec);
    }
    wp_heap_free(wp_heap_default(), b->specs, b->specs_cap * sizeof *b->specs);
    pthread_mutex_destroy(&b->lock);
    wp_heap_free(wp_heap_default(), b, sizeof *b);
}

/* ---- Services ------------------------------------------------------------------------------- */

#define SUPERVISOR_HOST "wippy:supervisor"

/* The first SIGINT/SIGTERM while services run: the supervisor stops them in order. Before it
 * has registered its name, the runtime's own shutdown (false) does. */
static bool stop_services(void *ud, int signum) {
    wp_boot *b = ud;
    wp_runtime *rt = atomic_load(&b->serving);
    wp_pid pid = WP_PID_NONE;
    (void)signum;
    if (!rt || wp_name_lookup(rt, WP_SUPERVISOR_NAME, &pid, NULL) != WP_OK)
        return false;
    return wp_cancel(rt, WP_PID_NONE, pid, "shutdown", NULL) == WP_OK;
}

/* What wp_boot_serve builds for the supervisor; freed after it returns. */
typedef struct serve_plan {
    wp_registry *reg;
    wp_supervisor_config cfg;
    wp_service *svcs;
    const wp_entry **entries; /* the process.service entries, in boot order */
    uint32_t n;
    uint32_t *reqs; /* n * n: service i's requires from reqs + i * n */
    wp_value *args; /* every service's input, copied, one after the other */
    uint32_t nargs;
} serve_plan;

static int32_t service_index(const serve_plan *p, const wp_entry *e) {
    for (uint32_t i = 0; i < p->n; i++)
        if (p->entries[i] == e)
            return (int32_t)i;
    return -1;
}

/* The services e depends on, directly or through entries that are no services (a service's
 * own requires are its business). Uses the entries' marks (free once loaded). */
static void collect_requires(serve_plan *p, wp_entry *e, const wp_entry *root, uint32_t i) {
    if (e->mark == 3)
        return;
    e->mark = 3;
    int32_t idx = e != root ? service_index(p, e) : -1;
    if (idx >= 0) {
        p->reqs[i * p->n + p->svcs[i].nrequires++] = (uint32_t)idx;
        return;
    }
    for (uint32_t k = 0; k < e->ndeps; k++)
        collect_requires(p, e->deps[k], root, i);
}

/* The input: a list is the arguments, anything else one argument. */
static uint32_t input_count(const wp_value *in) {
    if (!in || in->kind == WP_VNIL)
        return 0;
    return in->kind == WP_VARRAY ? (uint32_t)wp_value_len(in) : 1;
}

static wp_status fill_service(serve_plan *p, uint32_t i, wp_err *err) {
    const wp_entry *e = p->entries[i];
    const reg_service *rs = reg__service(e);
    const reg_lifecycle *lc = &rs->lc;
    wp_service *s = &p->svcs[i];
    *s = (wp_service){.id = e->id,
                      .process = rs->process->id,
                      .host = rs->host->id,
                      .args = p->args + p->nargs,
                      .nargs = input_count(rs->input),
                      .auto_start = lc->auto_start,
                      .start_timeout_ms = lc->start_timeout_ms,
                      .stop_timeout_ms = lc->stop_timeout_ms,
                      .stable_threshold_ms = lc->stable_threshold_ms,
                      .restart = lc->restart,
                      .requires = p->reqs + (size_t)i * p->n};
    for (uint32_t k = 0; k < s->nargs; k++) {
        const wp_value *src = rs->input->kind == WP_VARRAY ? wp_value_at(rs->input, k) : rs->input;
        if (wp_value_copy(&p->args[p->nargs++], src) != WP_OK)
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    for (uint32_t k = 0; k < p->reg->nentries; k++)
        p->reg->entries[k]->mark = 0;
    collect_requires(p, (wp_entry *)e, e, i);
    for (uint32_t k = 0; k < p->reg->nentries; k++)
        p->reg->entries[k]->mark = 2;
    return WP_OK;
}

static void plan_free(serve_plan *p) {
    wp_heap *h = wp_heap_default();
    for (uint32_t i = 0; i < p->nargs; i++)
        wp_value_free(&p->args[i]);
    uint32_t total = 0;
    for (uint32_t i = 0; i < p->n; i++)
        total += input_count(reg__service(p->entries[i])->input);
    wp_heap_free(h, p->args, (total + 1) * sizeof *p->args);
    wp_heap_free(h, p->reqs, ((size_t)p->n * p->n + 1) * sizeof *p->reqs);
    wp_heap_free(h, p->svcs, (p->n + 1) * sizeof *p->svcs);
    wp_heap_free(h, p->entries, (p->reg->nentries + 1) * sizeof *p->entries);
}

static wp_status plan_make(serve_plan *p, wp_err *err) {
    wp_heap *h = wp_heap_default();
    wp_registry *reg = p->reg;
    if (!(p->entries = wp_heap_calloc(h, reg->nentries + 1, sizeof *p->entries)))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    uint32_t total = 0;
    for (uint32_t i = 0; i < reg->nentries; i++) {
        const reg_service *rs = reg__service(reg->entries[i]);
        if (!rs || reg->entries[i]->bad || !rs->process || !rs->host)
            continue;
        p->entries[p->n++] = reg->entries[i];
        total += input_count(rs->input);
    }
    p->svcs = wp_heap_calloc(h, p->n + 1, sizeof *p->svcs);
    p->reqs = wp_heap_calloc(h, (size_t)p->n * p->n + 1, sizeof *p->reqs);
    p->args = wp_heap_calloc(h, total + 1, sizeof *p->args);
    if (!p->svcs || !p->reqs || !p->args)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < p->n; i++) {
        wp_status st = fill_service(p, i, err);
        if (st != WP_OK)
            return st;
    }
    p->cfg.services = p->svcs;
    p->cfg.nservices = p->n;
    return WP_OK;
}

/* The hosts the services run on, started now if auto_start kept them down. */
static wp_status service_hosts(wp_boot *b, const serve_plan *p, wp_err *err) {
    for (uint32_t i = 0; i < p->n; i++) {
        const wp_entry *host = reg__service(p->entries[i])->host;
        if (wp_runtime_host(b->rt, host->id))
            continue;
        reg__log(b->reg, "host %s: starting it for service %s", host->id, p->entries[i]->id);
        wp_status st = add_host(b, host, false, err);
        if (st != WP_OK)
            return st;
    }
    wp_host_config hc = {.workers = 1};
    return wp_runtime_add_host(b->rt, SUPERVISOR_HOST, &hc, NULL, err);
}

wp_status wp_boot_serve(wp_boot *b, wp_svc_log_fn log, void *log_ud, wp_err *err) {
    serve_plan p = {.reg = b->reg, .cfg = {.log = log, .log_ud = log_ud}};
    wp_status st = plan_make(&p, err);
    if (st == WP_OK)
        st = service_hosts(b, &p, err);
    if (st == WP_OK) {
        reg__log(b->reg, "supervisor: %u service%s", p.n, p.n == 1 ? "" : "s");
        wp_spawn_target t = {wp_supervisor_behavior(), &p.cfg, 0};
        wp_value result = wp_value_nil();
        atomic_store(&b->serving, b->rt);
        st = wp_runtime_run(b->rt, wp_runtime_host(b->rt, SUPERVISOR_HOST), &t, NULL, 0,
                            &result, err);
        atomic_store(&b->serving, NULL);
        wp_value_free(&result);
    }
    plan_free(&p);
    return st;
}
