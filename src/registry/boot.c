/* boot.c: a runtime for a registry: its hosts from process.host and terminal.host entries,
 * and the resolver that spawns process entries by ID. */
#include <pthread.h>
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

/* ---- Hosts ---------------------------------------------------------------------------------- */

static wp_status add_host(wp_boot *b, const wp_entry *e, bool terminal, wp_err *err) {
    wp_host_config hc = {.workers = uint_field(e, "host", "workers"),
                         .queue_size = uint_field(e, "host", "queue_size"),
                         .local_queue_size = uint_field(e, "host", "local_queue_size"),
                         .terminal = terminal};
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
                            .handle_signals = handle_signals};
    wp_status st = wp_runtime_new(&rc, &b->rt, err);
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
    for (uint32_t i = 0; i < b->nspecs; i++) {
        reg__strfree(b->specs[i].id);
        wp_process_spec_free(b->specs[i].spec);
    }
    wp_heap_free(wp_heap_default(), b->specs, b->specs_cap * sizeof *b->specs);
    pthread_mutex_destroy(&b->lock);
    wp_heap_free(wp_heap_default(), b, sizeof *b);
}
