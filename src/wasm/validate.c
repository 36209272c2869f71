/* validate.c: WebAssembly 2.0 validation of a decoded module outside function bodies. */
#include <inttypes.h>
#include <string.h>

#include "binary.h"

#define MAX_MEMORY_PAGES 65536u /* 4 GiB of 64 KiB pages: the 32-bit address space */

/* Module-level entries keep no byte offset: errors name the entry instead. */
static wp_status fail_item(wp_err *err, const char *what, uint32_t index, const char *why) {
    return wp_err_set(err, WP_ERR_INVALID, "%s %" PRIu32 ": %s", what, index, why);
}

static wp_status check_limits(wp_err *err, const char *what, uint32_t i, const wp_limits *lim,
                              bool memory) {
    if (memory && (lim->min > MAX_MEMORY_PAGES || (lim->has_max && lim->max > MAX_MEMORY_PAGES)))
        return fail_item(err, what, i, "memory size must be at most 65536 pages (4GiB)");
    if (lim->has_max && lim->min > lim->max)
        return fail_item(err, what, i, "size minimum must not be greater than maximum");
    return WP_OK;
}

/* ---- Constant expressions -------------------------------------------------------------------- */

/* WebAssembly 2.0: global.get sees only imported globals, and only immutable ones. */
static wp_status const_type(const wp_module *m, const wp_constexpr *ce, wp_valtype *out,
                            wp_err *err) {
    switch (ce->op) {
    case WP_CONST_REF_FUNC:
        if (ce->index >= m->nfuncs)
            return wp__bin_invalid(err, ce->offset, "unknown function");
        break;
    case WP_CONST_GLOBAL_GET:
        if (ce->index >= m->nimported_globals)
            return wp__bin_invalid(err, ce->offset, "unknown global");
        if (m->globals[ce->index].type.mutable_)
            return wp__bin_invalid(err, ce->offset,
                                   "constant expression required (global.get of a mutable global)");
        *out = m->globals[ce->index].type.type;
        return WP_OK;
    default:
        break;
    }
    *out = ce->type;
    return WP_OK;
}

static wp_status check_const(const wp_module *m, const wp_constexpr *ce, wp_valtype want,
                             wp_err *err) {
    wp_valtype t = WP_I32;
    wp_status st = const_type(m, ce, &t, err);
    if (st != WP_OK)
        return st;
    if (t != want)
        return wp__bin_invalid(err, ce->offset, "type mismatch in constant expression");
    return WP_OK;
}

/* ---- Index spaces ---------------------------------------------------------------------------- */

static wp_status check_funcs(const wp_module *m, wp_err *err) {
    for (uint32_t i = 0; i < m->nfuncs; i++)
        if (m->funcs[i].type >= m->ntypes)
            return fail_item(err, "function", i, "unknown type");
    return WP_OK;
}

static wp_status check_tables(const wp_module *m, wp_err *err) {
    wp_status st = WP_OK;
    for (uint32_t i = 0; i < m->ntables && st == WP_OK; i++)
        st = check_limits(err, "table", i, &m->tables[i].limits, false);
    return st;
}

static wp_status check_mems(const wp_module *m, wp_err *err) {
    if (m->nmems > 1)
        return fail_item(err, "memory", 1, "multiple memories");
    wp_status st = WP_OK;
    for (uint32_t i = 0; i < m->nmems && st == WP_OK; i++)
        st = check_limits(err, "memory", i, &m->mems[i], true);
    return st;
}

static wp_status check_globals(const wp_module *m, wp_err *err) {
    wp_status st = WP_OK;
    for (uint32_t i = m->nimported_globals; i < m->nglobals && st == WP_OK; i++)
        st = check_const(m, &m->globals[i].init, m->globals[i].type.type, err);
    return st;
}

/* ---- Exports and start ----------------------------------------------------------------------- */

static uint32_t export_count_of(const wp_module *m, wp_externkind kind) {
    switch (kind) {
    case WP_EXTERN_FUNC:
        return m->nfuncs;
    case WP_EXTERN_TABLE:
        return m->ntables;
    case WP_EXTERN_MEMORY:
        return m->nmems;
    case WP_EXTERN_GLOBAL:
        return m->nglobals;
    }
    return 0;
}

static uint32_t name_hash(const wp_name *n) {
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n->len; i++)
        h = (h ^ (uint8_t)n->ptr[i]) * 16777619u;
    return h;
}

static bool name_equal(const wp_name *a, const wp_name *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

/* Export names must be unique: a hash set of export indices, so many exports stay linear. */
static wp_status check_export_names(const wp_module *m, wp_err *err) {
    size_t cap = 16;
    while (cap < 2 * (size_t)m->nexports)
        cap *= 2;
    uint32_t *slots = wp_heap_calloc(m->heap, cap, sizeof *slots); /* index + 1; 0 = empty */
    if (!slots)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    wp_status st = WP_OK;
    for (uint32_t i = 0; i < m->nexports && st == WP_OK; i++) {
        const wp_name *name = &m->exports[i].name;
        size_t h = name_hash(name) & (cap - 1);
        for (; slots[h] && st == WP_OK; h = (h + 1) & (cap - 1))
            if (name_equal(&m->exports[slots[h] - 1].name, name))
                st = fail_item(err, "export", i, "duplicate export name");
        slots[h] = i + 1;
    }
    wp_heap_free(m->heap, slots, cap * sizeof *slots);
    return st;
}

static wp_status check_exports(const wp_module *m, wp_err *err) {
    static const char *const unknown[] = {"unknown function", "unknown table", "unknown memory",
                                          "unknown global"};
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wp_export *e = &m->exports[i];
        if (e->index >= export_count_of(m, e->kind))
            return fail_item(err, "export", i, unknown[e->kind]);
    }
    return check_export_names(m, err);
}

static wp_status check_start(const wp_module *m, wp_err *err) {
    if (!m->has_start)
        return WP_OK;
    if (m->start >= m->nfuncs)
        return fail_item(err, "start function", m->start, "unknown function");
    const wp_functype *ft = wp__func_type(m, m->start);
    if (ft->nparams != 0 || ft->nresults != 0)
        return fail_item(err, "start function", m->start, "start function must be [] -> []");
    return WP_OK;
}

/* ---- Segments -------------------------------------------------------------------------------- */

static wp_status check_elem(const wp_module *m, uint32_t i, wp_err *err) {
    const wp_elemseg *seg = &m->elems[i];
    wp_status st;
    if (seg->mode == WP_SEG_ACTIVE) {
        if (seg->table >= m->ntables)
            return fail_item(err, "element segment", i, "unknown table");
        if (m->tables[seg->table].elem != seg->type)
            return fail_item(err, "element segment", i, "type mismatch (table of another type)");
        if ((st = check_const(m, &seg->offset, WP_I32, err)) != WP_OK)
            return st;
    }
    for (uint32_t k = 0; k < seg->count; k++)
        if ((st = check_const(m, &seg->items[k], seg->type, err)) != WP_OK)
            return st;
    return WP_OK;
}

static wp_status check_data(const wp_module *m, uint32_t i, wp_err *err) {
    const wp_dataseg *seg = &m->datas[i];
    if (seg->mode != WP_SEG_ACTIVE)
        return WP_OK;
    if (seg->memory >= m->nmems)
        return fail_item(err, "data segment", i, "unknown memory");
    return check_const(m, &seg->offset, WP_I32, err);
}

static wp_status check_segments(const wp_module *m, wp_err *err) {
    wp_status st = WP_OK;
    for (uint32_t i = 0; i < m->nelems && st == WP_OK; i++)
        st = check_elem(m, i, err);
    for (uint32_t i = 0; i < m->ndatas && st == WP_OK; i++)
        st = check_data(m, i, err);
    return st;
}

wp_status wp__validate(const wp_module *m, wp_err *err) {
    wp_status st = check_funcs(m, err);
    if (st == WP_OK)
        st = check_tables(m, err);
    if (st == WP_OK)
        st = check_mems(m, err);
    if (st == WP_OK)
        st = check_globals(m, err);
    if (st == WP_OK)
        st = check_exports(m, err);
    if (st == WP_OK)
        st = check_start(m, err);
    if (st == WP_OK)
        st = check_segments(m, err);
    if (st == WP_OK)
        st = wp__validate_code(m, err);
    return st;
}
