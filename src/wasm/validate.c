/* validate.c: WebAssembly 2.0 validation of a decoded module outside function bodies.
 *
 * The decoder already checked what one entry shows alone where its offset is at hand (limits,
 * type indices, the single memory); here are the rules between entries. Every error reads
 * "at 0x<offset>: <reason>", with the offset the decoder recorded for the entry. */
#include <string.h>

#include "binary.h"

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

/* ---- Globals --------------------------------------------------------------------------------- */

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

static int name_cmp(const wp_name *a, const wp_name *b) {
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n == 0 ? 0 : memcmp(a->ptr, b->ptr, n);
    return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

/* Export indices by name, then by index. */
static int export_order(const void *ctx, uint32_t a, uint32_t b) {
    const wp_module *m = ctx;
    int c = name_cmp(&m->exports[a].name, &m->exports[b].name);
    return c != 0 ? c : (a > b) - (a < b);
}

/* Export names must be unique. Sorted, not hashed: names are the guest's choice, and names
 * chosen to collide would make a hash set quadratic. The error points at the first export,
 * in binary order, whose name an earlier one already has. */
static wp_status check_export_names(const wp_module *m, wp_err *err) {
    uint32_t *order = wp_heap_calloc(m->heap, m->nexports, sizeof *order);
    if (!order)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < m->nexports; i++)
        order[i] = i;
    wp__sort_indices(order, m->nexports, export_order, m);
    uint32_t dup = UINT32_MAX;
    for (uint32_t k = 1; k < m->nexports; k++) {
        bool same = name_cmp(&m->exports[order[k - 1]].name, &m->exports[order[k]].name) == 0;
        if (same && order[k] < dup)
            dup = order[k]; /* equal names are in index order: order[k] repeats an earlier one */
    }
    wp_heap_free(m->heap, order, (size_t)m->nexports * sizeof *order);
    if (dup != UINT32_MAX)
        return wp__bin_invalid(err, m->exports[dup].bin_offset, "duplicate export name");
    return WP_OK;
}

static wp_status check_exports(const wp_module *m, wp_err *err) {
    static const char *const unknown[] = {"unknown function", "unknown table", "unknown memory",
                                          "unknown global"};
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wp_export *e = &m->exports[i];
        if (e->index >= export_count_of(m, e->kind))
            return wp__bin_invalid(err, e->bin_offset, unknown[e->kind]);
    }
    return check_export_names(m, err);
}

static wp_status check_start(const wp_module *m, wp_err *err) {
    if (!m->has_start)
        return WP_OK;
    if (m->start >= m->nfuncs)
        return wp__bin_invalid(err, m->start_bin_offset, "unknown function");
    const wp_functype *ft = wp__func_type(m, m->start);
    if (ft->nparams != 0 || ft->nresults != 0)
        return wp__bin_invalid(err, m->start_bin_offset, "start function must be [] -> []");
    return WP_OK;
}

/* ---- Segments -------------------------------------------------------------------------------- */

static wp_status check_elem(const wp_module *m, uint32_t i, wp_err *err) {
    const wp_elemseg *seg = &m->elems[i];
    wp_status st;
    if (seg->mode == WP_SEG_ACTIVE) {
        if (seg->table >= m->ntables)
            return wp__bin_invalid(err, seg->bin_offset, "unknown table");
        if (m->tables[seg->table].elem != seg->type)
            return wp__bin_invalid(err, seg->bin_offset, "type mismatch (table of another type)");
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
        return wp__bin_invalid(err, seg->bin_offset, "unknown memory");
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
    wp_status st = check_globals(m, err);
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
