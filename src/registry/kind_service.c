/* kind_service.c: process.service entries (a process kept alive by the supervisor) and the
 * lifecycle block they share with hosts: timeouts, requires, the restart policy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static wp_heap *heap(void) { return wp_heap_default(); }

/* ---- Durations ------------------------------------------------------------------------------ */

/* One unit's length in ms; 0 if s does not start with a unit. *len: the unit's length. */
static double unit_ms(const char *s, size_t *len) {
    static const struct {
        const char *name;
        double ms;
    } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t n = strlen(units[i].name);
        if (strncmp(s, units[i].name, n) == 0 && !(n == 1 && s[0] == 'm' && s[1] == 's')) {
            *len = n;
            return units[i].ms;
        }
    }
    return 0;
}

bool reg__duration_ms(const char *s, uint64_t *out) {
    char *end = NULL;
    double v = strtod(s, &end);
    if (end != s && *end == '\0' && v >= 0 && v < 1e9) { /* a bare number: seconds */
        *out = (uint64_t)llround(v * 1000);
        return true;
    }
    double total = 0;
    while (*s) {
        if (!(*s >= '0' && *s <= '9') && *s != '.')
            return false;
        v = strtod(s, &end);
        size_t ulen = 0;
        double ms = unit_ms(end, &ulen);
        if (end == s || ms == 0)
            return false;
        total += v * ms;
        s = end + ulen;
    }
    if (!(total >= 0 && total < 1e12)) /* about 31 years: deadlines in ns stay in range */
        return false;
    *out = (uint64_t)ceil(total); /* 100us waits a whole millisecond, not none */
    return true;
}

/* ---- Lifecycle ------------------------------------------------------------------------------ */

static const char *const LIFECYCLE_FIELDS[] = {
    "auto_start", "start_timeout", "stop_timeout", "stable_threshold", "requires",
    "depends_on", "restart",       "security",     NULL};
static const char *const RESTART_FIELDS[] = {"initial_delay", "max_delay",    "backoff_factor",
                                             "jitter",        "max_attempts", NULL};

static bool listed(const char *const *names, const char *key) {
    for (; *names; names++)
        if (strcmp(*names, key) == 0)
            return true;
    return false;
}

/* Unknown keys of a mapping are problems: a misspelt max_attempts must not pass silently. */
static void check_keys(wp_registry *reg, wp_entry *e, const yaml_node_t *map, const char *where,
                       const char *const *known, const char *known_text) {
    yaml_node_t *k;
    yaml_node_t *v;
    for (uint32_t i = 0; reg__yaml_pair(&e->file->doc, map, i, &k, &v); i++) {
        const char *key = reg__yaml_scalar(k);
        if (key && listed(known, key))
            continue;
        char path[96];
        snprintf(path, sizeof path, "%s.%.60s", where, key ? key : "?");
        reg__field_problem(reg, e, k, path, "unknown field %s (known: %s)", path, known_text);
    }
}

static void get_duration(wp_registry *reg, wp_entry *e, const yaml_node_t *map, const char *key,
                         const char *path, uint64_t *out) {
    yaml_node_t *n = reg__field(e, map, key);
    if (!n || reg__yaml_is_null(n))
        return;
    const char *s = reg__yaml_scalar(n);
    if (!s || !reg__duration_ms(s, out))
        reg__field_problem(reg, e, n, path,
                           "%s must be a duration like 500ms, 10s, 1m30s (or seconds)", path);
}

/* A number field within [lo, hi]. */
static void get_number(wp_registry *reg, wp_entry *e, const yaml_node_t *map, const char *key,
                       const char *path, double lo, double hi, double *out) {
    yaml_node_t *n = reg__field(e, map, key);
    if (!n || reg__yaml_is_null(n))
        return;
    const char *s = reg__yaml_scalar(n);
    char *end = NULL;
    double v = s ? strtod(s, &end) : 0;
    if (!s || end == s || *end || !(v >= lo && v <= hi)) {
        reg__field_problem(reg, e, n, path, "%s must be a number from %g to %g", path, lo, hi);
        return;
    }
    *out = v;
}

static void parse_restart(wp_registry *reg, wp_entry *e, const yaml_node_t *lc,
                          wp_restart_policy *r) {
    yaml_node_t *m = reg__field(e, lc, "restart");
    if (!m || reg__yaml_is_null(m))
        return;
    if (!reg__yaml_is_map(m)) {
        reg__field_problem(reg, e, m, "lifecycle.restart", "lifecycle.restart must be a mapping");
        return;
    }
    check_keys(reg, e, m, "lifecycle.restart", RESTART_FIELDS,
               "initial_delay, max_delay, backoff_factor, jitter, max_attempts");
    get_duration(reg, e, m, "initial_delay", "lifecycle.restart.initial_delay",
                 &r->initial_delay_ms);
    get_duration(reg, e, m, "max_delay", "lifecycle.restart.max_delay", &r->max_delay_ms);
    get_number(reg, e, m, "backoff_factor", "lifecycle.restart.backoff_factor", 1, 1000,
               &r->backoff_factor);
    get_number(reg, e, m, "jitter", "lifecycle.restart.jitter", 0, 1, &r->jitter);
    uint64_t n = r->max_attempts;
    if (reg__get_uint(reg, e, m, "max_attempts", "lifecycle.restart.max_attempts", &n) &&
        n > UINT32_MAX)
        reg__field_problem(reg, e, reg__field(e, m, "max_attempts"),
                           "lifecycle.restart.max_attempts", "max_attempts is too large");
    r->max_attempts = n > UINT32_MAX ? 0 : (uint32_t)n;
    if (r->max_delay_ms && r->max_delay_ms < r->initial_delay_ms)
        reg__field_problem(reg, e, m, "lifecycle.restart.max_delay",
                           "lifecycle.restart.max_delay is shorter than initial_delay");
}

/* requires (or its older name depends_on): entries that must be up first; any kind. */
static void parse_requires(wp_registry *reg, wp_entry *e, const yaml_node_t *lc,
                           const char *key) {
    yaml_node_t *list = reg__field(e, lc, key);
    char path[64];
    snprintf(path, sizeof path, "lifecycle.%s", key);
    if (!list || reg__yaml_is_null(list))
        return;
    if (!reg__yaml_is_seq(list)) {
        reg__field_problem(reg, e, list, path, "%s must be a list of entry IDs", path);
        return;
    }
    for (uint32_t i = 0; i < reg__yaml_len(list); i++) {
        yaml_node_t *item = reg__yaml_at(&e->file->doc, list, i);
        const char *text = reg__yaml_scalar(item);
        char *id = !text ? NULL
                   : strchr(text, ':') ? reg__strdup(text)
                                       : reg__printf("%s:%s", e->ns, text);
        wp_entry *target = id ? reg__find(reg, id) : NULL;
        if (!text || !text[0])
            reg__field_problem(reg, e, item, path, "%s items must be entry IDs", path);
        else if (!target)
            reg__field_problem(reg, e, item, path, "entry %s not found", id ? id : text);
        else if (target == e)
            reg__field_problem(reg, e, item, path, "%s cannot require itself", e->id);
        else
            reg__add_dep(e, target);
        reg__strfree(id);
    }
}

const reg_lifecycle REG_LIFECYCLE_DEFAULT = {
    .auto_start = false,
    .start_timeout_ms = 10000,
    .stop_timeout_ms = 10000,
    .stable_threshold_ms = 5000,
    .restart = {.initial_delay_ms = 1000,
                .max_delay_ms = 90000,
                .backoff_factor = 2.0,
                .jitter = 0.1,
                .max_attempts = 0},
};

void reg__lifecycle_parse(wp_registry *reg, wp_entry *e, reg_lifecycle *out) {
    *out = REG_LIFECYCLE_DEFAULT;
    yaml_node_t *lc = reg__field(e, NULL, "lifecycle");
    if (!lc || reg__yaml_is_null(lc))
        return;
    if (!reg__yaml_is_map(lc)) {
        reg__field_problem(reg, e, lc, "lifecycle", "lifecycle must be a mapping");
        return;
    }
    check_keys(reg, e, lc, "lifecycle", LIFECYCLE_FIELDS,
               "auto_start, start_timeout, stop_timeout, stable_threshold, requires, "
               "depends_on, restart, security");
    reg__get_bool(reg, e, lc, "auto_start", "lifecycle.auto_start", false, &out->auto_start);
    get_duration(reg, e, lc, "start_timeout", "lifecycle.start_timeout", &out->start_timeout_ms);
    get_duration(reg, e, lc, "stop_timeout", "lifecycle.stop_timeout", &out->stop_timeout_ms);
    get_duration(reg, e, lc, "stable_threshold", "lifecycle.stable_threshold",
                 &out->stable_threshold_ms);
    parse_requires(reg, e, lc, "requires");
    parse_requires(reg, e, lc, "depends_on");
    parse_restart(reg, e, lc, &out->restart);
    if (reg__field(e, lc, "security"))
        reg__log(reg, "%s: lifecycle.security is accepted and ignored (no security model yet)",
                 e->id);
}

/* ---- process.service ------------------------------------------------------------------------ */

static void priv_free(void *ptr) { wp_heap_free(heap(), ptr, sizeof(reg_service)); }

/* A reference to an entry whose kind is one of kinds (NULL-terminated). */
static wp_entry *ref_kind(wp_registry *reg, wp_entry *e, const char *key,
                          const char *const *kinds, const char *kinds_text) {
    const char *text = NULL;
    if (!reg__get_text(reg, e, NULL, key, key, true, &text))
        return NULL;
    yaml_node_t *at = reg__field(e, NULL, key);
    char *id = strchr(text, ':') ? reg__strdup(text) : reg__printf("%s:%s", e->ns, text);
    wp_entry *target = id ? reg__find(reg, id) : NULL;
    if (!target)
        reg__field_problem(reg, e, at, key, "entry %s not found", id ? id : text);
    else if (!listed(kinds, target->kind))
        reg__field_problem(reg, e, at, key, "%s is a %s, not a %s", target->id, target->kind,
                           kinds_text);
    reg__strfree(id);
    if (!target || !listed(kinds, target->kind))
        return NULL;
    reg__add_dep(e, target);
    return target;
}

static void validate(wp_registry *reg, wp_entry *e) {
    static const char *const PROCESS_KINDS[] = {"process.wasm", "process.lua", NULL};
    static const char *const HOST_KINDS[] = {"process.host", NULL};
    reg_service *p = wp_heap_zalloc(heap(), sizeof *p);
    if (!p) {
        reg__problem(reg, NULL, 0, e, NULL, "out of memory");
        return;
    }
    e->priv = p;
    p->process = ref_kind(reg, e, "process", PROCESS_KINDS, "process.wasm or process.lua");
    p->host = ref_kind(reg, e, "host", HOST_KINDS, "process.host");
    p->input = wp_value_map_get(&e->data, "input");
    reg__lifecycle_parse(reg, e, &p->lc);
}

static const char *const FIELDS[] = {"process", "host", "input", "lifecycle", NULL};

/* Phase 4: after the process entries it wraps (3). */
const kind_info reg__kind_process_service = {"process.service", 4, FIELDS, validate, priv_free};

const reg_service *reg__service(const wp_entry *e) {
    return e->k == &reg__kind_process_service ? e->priv : NULL;
}
