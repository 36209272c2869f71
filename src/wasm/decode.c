/* decode.c: a module binary -> wp_module: sections, index spaces, constant expressions, names. */
#include <inttypes.h>
#include <string.h>

#include "binary.h"

/* Decoder state for one binary. Counts of the module grow together with their arrays, so a
 * module abandoned half-way can always be freed by wp__module_destroy. */
typedef struct dec {
    wp_module *m;
    wp_err *err;
    unsigned last_rank; /* order rank of the last non-custom section */
    uint32_t ndefined;  /* entries of the function section */
    uint64_t nlocals;   /* declared locals of the bodies read so far */
    bool has_code;
    bool has_data;
} dec;

/* ---- Shared helpers (binary.h) --------------------------------------------------------------- */

wp_status wp__bin_invalid(wp_err *err, size_t off, const char *why) {
    return wp_err_set(err, WP_ERR_INVALID, "at 0x%zx: %s", off, why);
}

wp_status wp__bin_simd(wp_err *err, size_t off) {
    return wp_err_set(err, WP_ERR_UNSUPPORTED, "at 0x%zx: SIMD is not supported", off);
}

wp_status wp__bin_read_failed(wp_err *err, const wp_reader *rd) {
    return wp__bin_invalid(err, rd_offset(rd), rd->why ? rd->why : "unexpected end");
}

wp_status wp__bin_valtype(wp_reader *rd, wp_valtype *out, wp_err *err) {
    size_t off = rd_offset(rd);
    uint8_t b = 0;
    if (!rd_u8(rd, &b))
        return wp__bin_read_failed(err, rd);
    switch (b) {
    case WP_I32:
    case WP_I64:
    case WP_F32:
    case WP_F64:
    case WP_FUNCREF:
    case WP_EXTERNREF:
        *out = (wp_valtype)b;
        return WP_OK;
    case WP_V128:
        return wp__bin_simd(err, off);
    default:
        return wp__bin_invalid(err, off, "malformed value type");
    }
}

wp_status wp__bin_reftype(wp_reader *rd, wp_valtype *out, wp_err *err) {
    size_t off = rd_offset(rd);
    uint8_t b = 0;
    if (!rd_u8(rd, &b))
        return wp__bin_read_failed(err, rd);
    if (b != WP_FUNCREF && b != WP_EXTERNREF)
        return wp__bin_invalid(err, off, "malformed reference type");
    *out = (wp_valtype)b;
    return WP_OK;
}

/* Moves idx[root] down the max-heap idx[0, n) to its place. */
static void sift_down(uint32_t *idx, size_t root, size_t n, wp_index_cmp_fn cmp, const void *ctx) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && cmp(ctx, idx[child], idx[child + 1]) < 0)
            child++;
        if (cmp(ctx, idx[root], idx[child]) >= 0)
            return;
        uint32_t t = idx[root];
        idx[root] = idx[child];
        idx[child] = t;
        root = child;
    }
}

/* Heapsort: O(n log n) comparisons whatever the input, no allocation. */
void wp__sort_indices(uint32_t *idx, uint32_t n, wp_index_cmp_fn cmp, const void *ctx) {
    for (size_t i = n / 2; i-- > 0;)
        sift_down(idx, i, n, cmp, ctx);
    for (size_t end = n; end-- > 1;) {
        uint32_t t = idx[0];
        idx[0] = idx[end];
        idx[end] = t;
        sift_down(idx, 0, end, cmp, ctx);
    }
}

/* ---- Small readers --------------------------------------------------------------------------- */

static wp_status fail_at(dec *d, size_t off, const char *why) {
    return wp__bin_invalid(d->err, off, why);
}

static wp_status fail_read(dec *d, const wp_reader *rd) { return wp__bin_read_failed(d->err, rd); }

static wp_status nomem(dec *d) { return wp_err_set(d->err, WP_ERR_NOMEM, "out of memory"); }

/* The input passes one of the implementation limits of config.h. */
static wp_status fail_limit(dec *d, size_t off, const char *what, uint64_t n, const char *limit,
                            uint64_t max) {
    return wp_err_set(d->err, WP_ERR_INVALID,
                      "at 0x%zx: too many %s (%" PRIu64 ", over %s = %" PRIu64 ")", off, what, n,
                      limit, max);
}

static wp_status read_u32(dec *d, wp_reader *rd, uint32_t *out) {
    return rd_u32(rd, out) ? WP_OK : fail_read(d, rd);
}

static wp_status read_byte(dec *d, wp_reader *rd, uint8_t *out) {
    return rd_u8(rd, out) ? WP_OK : fail_read(d, rd);
}

/* A vector length. Every element takes at least min_size bytes, so a count the rest of the
 * section cannot hold is rejected before anything is allocated for it (STYLE 7). */
static wp_status read_count(dec *d, wp_reader *rd, size_t min_size, uint32_t *out) {
    size_t off = rd_offset(rd);
    if (!rd_u32(rd, out))
        return fail_read(d, rd);
    if (*out > rd_remaining(rd) / min_size)
        return fail_at(d, off, "unexpected end (count larger than the bytes left)");
    return WP_OK;
}

/* A name: length, then UTF-8 bytes. Points into the reader's bytes (the module's copy). */
static bool take_name(wp_reader *rd, wp_name *out) {
    uint32_t len = 0;
    const uint8_t *p;
    if (!rd_u32(rd, &len))
        return false;
    if (!rd_bytes(rd, len, &p))
        return rd_fail(rd, "length out of bounds");
    if (!wp_utf8_valid(p, len))
        return rd_fail(rd, "malformed UTF-8 encoding");
    out->ptr = (const char *)p;
    out->len = len;
    return true;
}

static wp_status read_name(dec *d, wp_reader *rd, wp_name *out) {
    return take_name(rd, out) ? WP_OK : fail_read(d, rd);
}

/* Limits of a table or (with 'pages') a memory. Their validity is checked here, where the
 * offsets are at hand: wp_limits is public and keeps none. */
static wp_status read_limits(dec *d, wp_reader *rd, wp_limits *out, bool pages) {
    size_t off = rd_offset(rd);
    uint8_t flags = 0;
    wp_status st = read_byte(d, rd, &flags);
    if (st != WP_OK)
        return st;
    if (flags > 1)
        return fail_at(d, off, "integer too large (limits flags)");
    out->has_max = flags == 1;
    out->max = 0;
    size_t min_off = rd_offset(rd);
    if ((st = read_u32(d, rd, &out->min)) != WP_OK)
        return st;
    if (pages && out->min > WP_MAX_PAGES)
        return fail_at(d, min_off, "memory size must be at most 65536 pages (4GiB)");
    if (!out->has_max)
        return WP_OK;
    size_t max_off = rd_offset(rd);
    if ((st = read_u32(d, rd, &out->max)) != WP_OK)
        return st;
    if (pages && out->max > WP_MAX_PAGES)
        return fail_at(d, max_off, "memory size must be at most 65536 pages (4GiB)");
    if (out->min > out->max)
        return fail_at(d, max_off, "size minimum must not be greater than maximum");
    return WP_OK;
}

static wp_status read_tabletype(dec *d, wp_reader *rd, wp_tabletype *out) {
    wp_status st = wp__bin_reftype(rd, &out->elem, d->err);
    return st != WP_OK ? st : read_limits(d, rd, &out->limits, false);
}

static wp_status read_globaltype(dec *d, wp_reader *rd, wp_globaltype *out) {
    wp_status st = wp__bin_valtype(rd, &out->type, d->err);
    if (st != WP_OK)
        return st;
    size_t off = rd_offset(rd);
    uint8_t mut = 0;
    if ((st = read_byte(d, rd, &mut)) != WP_OK)
        return st;
    if (mut > 1)
        return fail_at(d, off, "malformed mutability");
    out->mutable_ = mut == 1;
    return WP_OK;
}

/* ---- Constant expressions -------------------------------------------------------------------- */

static bool is_const_op(uint8_t op) {
    return op == WP_OP_I32_CONST || op == WP_OP_I64_CONST || op == WP_OP_F32_CONST ||
           op == WP_OP_F64_CONST || op == WP_OP_REF_NULL || op == WP_OP_REF_FUNC ||
           op == WP_OP_GLOBAL_GET;
}

/* The immediate of a constant instruction. Types of global.get are filled when the global is
 * already known; the validator checks them all. */
static wp_status read_const_imm(dec *d, wp_reader *rd, uint8_t op, wp_constexpr *ce) {
    int32_t s32 = 0;
    int64_t s64 = 0;
    uint32_t f32 = 0;
    bool ok = true;
    switch (op) {
    case WP_OP_I32_CONST:
        ok = rd_s32(rd, &s32);
        ce->op = WP_CONST_I32, ce->type = WP_I32, ce->bits = (uint32_t)s32;
        break;
    case WP_OP_I64_CONST:
        ok = rd_s64(rd, &s64);
        ce->op = WP_CONST_I64, ce->type = WP_I64, ce->bits = (uint64_t)s64;
        break;
    case WP_OP_F32_CONST:
        ok = rd_f32(rd, &f32);
        ce->op = WP_CONST_F32, ce->type = WP_F32, ce->bits = f32;
        break;
    case WP_OP_F64_CONST:
        ok = rd_f64(rd, &ce->bits);
        ce->op = WP_CONST_F64, ce->type = WP_F64;
        break;
    case WP_OP_REF_NULL:
        ce->op = WP_CONST_REF_NULL;
        return wp__bin_reftype(rd, &ce->type, d->err);
    case WP_OP_REF_FUNC:
        ok = rd_u32(rd, &ce->index);
        ce->op = WP_CONST_REF_FUNC, ce->type = WP_FUNCREF;
        break;
    default: /* global.get */
        ok = rd_u32(rd, &ce->index);
        ce->op = WP_CONST_GLOBAL_GET;
        if (ok && ce->index < d->m->nglobals)
            ce->type = d->m->globals[ce->index].type.type;
        break;
    }
    return ok ? WP_OK : fail_read(d, rd);
}

/* WebAssembly 2.0: exactly one constant instruction, then 'end'. */
static wp_status read_constexpr(dec *d, wp_reader *rd, wp_constexpr *ce) {
    memset(ce, 0, sizeof *ce);
    ce->offset = (uint32_t)rd_offset(rd);
    uint8_t op = 0;
    wp_status st = read_byte(d, rd, &op);
    if (st != WP_OK)
        return st;
    if (op == WP_OP_PREFIX_FD)
        return wp__bin_simd(d->err, ce->offset);
    if (op == WP_OP_END)
        return fail_at(d, ce->offset, "type mismatch (empty constant expression)");
    if (!is_const_op(op))
        return fail_at(d, ce->offset, "constant expression required");
    if ((st = read_const_imm(d, rd, op, ce)) != WP_OK)
        return st;
    size_t off = rd_offset(rd);
    if ((st = read_byte(d, rd, &op)) != WP_OK)
        return st;
    if (op == WP_OP_END)
        return WP_OK;
    if (is_const_op(op))
        return fail_at(d, off, "type mismatch (constant expression leaves two values)");
    return fail_at(d, off, "constant expression required");
}

/* ---- Type section ---------------------------------------------------------------------------- */

/* One function type; with 'store' NULL it only checks and counts. */
static wp_status read_functype(dec *d, wp_reader *rd, wp_functype *ft, wp_valtype *store) {
    size_t off = rd_offset(rd);
    uint8_t form = 0;
    wp_status st = read_byte(d, rd, &form);
    if (st != WP_OK)
        return st;
    if (form != 0x60)
        return fail_at(d, off, "malformed function type form");
    /* Caps keep each call, block and branch an O(cap) step for the validator and compiler. */
    static const uint32_t max[2] = {WP_MAX_FUNC_PARAMS, WP_MAX_FUNC_RESULTS};
    static const char *const what[2] = {"params", "results"};
    static const char *const limit[2] = {"WP_MAX_FUNC_PARAMS", "WP_MAX_FUNC_RESULTS"};
    uint32_t n[2] = {0, 0};
    for (int part = 0; part < 2; part++) {
        size_t count_off = rd_offset(rd);
        if ((st = read_count(d, rd, 1, &n[part])) != WP_OK)
            return st;
        if (n[part] > max[part])
            return fail_limit(d, count_off, what[part], n[part], limit[part], max[part]);
        for (uint32_t i = 0; i < n[part]; i++) {
            wp_valtype t;
            if ((st = wp__bin_valtype(rd, &t, d->err)) != WP_OK)
                return st;
            if (store)
                *store++ = t;
        }
    }
    ft->nparams = n[0];
    ft->nresults = n[1];
    return WP_OK;
}

/* A total order on function types: equal exactly when structurally equal. */
static int functype_cmp(const wp_functype *a, const wp_functype *b) {
    if (a->nparams != b->nparams)
        return a->nparams < b->nparams ? -1 : 1;
    if (a->nresults != b->nresults)
        return a->nresults < b->nresults ? -1 : 1;
    size_t n = (size_t)a->nparams + a->nresults;
    return n == 0 ? 0 : memcmp(a->types, b->types, n * sizeof *a->types);
}

/* Type indices by type, then by index. */
static int type_order(const void *ctx, uint32_t a, uint32_t b) {
    const wp_module *m = ctx;
    int c = functype_cmp(&m->types[a], &m->types[b]);
    return c != 0 ? c : (a > b) - (a < b);
}

/* canon[i] = the lowest index whose type equals type i. Sorting, not hashing: a hash table
 * can be flooded with colliding types, a sort stays O(n log n) comparisons on any input. */
static wp_status canonicalize_types(dec *d) {
    wp_module *m = d->m;
    uint32_t *order = wp_heap_calloc(m->heap, m->ntypes, sizeof *order);
    if (!order)
        return nomem(d);
    for (uint32_t i = 0; i < m->ntypes; i++)
        order[i] = i;
    wp__sort_indices(order, m->ntypes, type_order, m);
    for (uint32_t k = 0; k < m->ntypes; k++) {
        uint32_t i = order[k];
        bool same = k > 0 && functype_cmp(&m->types[order[k - 1]], &m->types[i]) == 0;
        m->canon[i] = same ? m->canon[order[k - 1]] : i; /* runs are in index order */
    }
    wp_heap_free(m->heap, order, (size_t)m->ntypes * sizeof *order);
    return WP_OK;
}

/* Two passes: the first checks and counts value types, the second fills exact arrays. */
static wp_status read_type_section(dec *d, wp_reader *rd) {
    wp_module *m = d->m;
    uint32_t n = 0;
    wp_status st = read_count(d, rd, 3, &n);
    if (st != WP_OK)
        return st;
    wp_reader scan = *rd;
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        wp_functype ft;
        if ((st = read_functype(d, &scan, &ft, NULL)) != WP_OK)
            return st;
        total += (size_t)ft.nparams + ft.nresults;
    }
    wp_functype *types = wp_heap_calloc(m->heap, n, sizeof *types);
    uint32_t *canon = wp_heap_calloc(m->heap, n, sizeof *canon);
    wp_valtype *storage = wp_heap_calloc(m->heap, total, sizeof *storage);
    if (!types || !canon || !storage) {
        wp_heap_free(m->heap, types, n * sizeof *types);
        wp_heap_free(m->heap, canon, n * sizeof *canon);
        wp_heap_free(m->heap, storage, total * sizeof *storage);
        return nomem(d);
    }
    m->types = types, m->canon = canon, m->type_storage = storage, m->ntypes = n;
    wp_valtype *next = storage;
    for (uint32_t i = 0; i < n; i++) {
        read_functype(d, rd, &types[i], next); /* cannot fail: checked above */
        types[i].types = next;
        next += types[i].nparams + types[i].nresults;
    }
    return canonicalize_types(d);
}

/* A type index: the type section comes before every use, so it is checked here, and the
 * canonical index is stored. */
static wp_status read_typeidx(dec *d, wp_reader *rd, uint32_t *out) {
    size_t off = rd_offset(rd);
    wp_status st = read_u32(d, rd, out);
    if (st != WP_OK)
        return st;
    if (*out >= d->m->ntypes)
        return fail_at(d, off, "unknown type");
    *out = d->m->canon[*out];
    return WP_OK;
}

/* ---- Index spaces: growing arrays ------------------------------------------------------------ */

/* Grows *arr from 'have' to have + more zeroed elements of 'size' bytes. */
static wp_status grow_array(dec *d, void **arr, uint32_t have, uint32_t more, size_t size) {
    uint64_t want = (uint64_t)have + more;
    WP_ASSERT(want <= UINT32_MAX); /* every entry takes a byte of a binary under 4 GiB */
    if (want > SIZE_MAX / size)
        return nomem(d); /* only where size_t is 32 bits */
    uint8_t *p = wp_heap_realloc(d->m->heap, *arr, have * size, (size_t)want * size);
    if (!p && want > 0)
        return nomem(d);
    if (want > 0)
        memset(p + have * size, 0, more * size);
    *arr = p;
    return WP_OK;
}

/* ---- Import section -------------------------------------------------------------------------- */

typedef struct import_counts {
    uint32_t n[4]; /* by wp_externkind */
} import_counts;

/* Reads one import. With 'fill' false it only checks and counts; with 'fill' true it also
 * stores the description at the next index of its kind (arrays sized by a counting pass). */
static wp_status read_import(dec *d, wp_reader *rd, wp_import *imp, import_counts *c, bool fill) {
    wp_module *m = d->m;
    size_t entry_off = rd_offset(rd);
    wp_status st;
    if ((st = read_name(d, rd, &imp->module)) != WP_OK)
        return st;
    if ((st = read_name(d, rd, &imp->name)) != WP_OK)
        return st;
    size_t off = rd_offset(rd);
    uint8_t kind = 0;
    if ((st = read_byte(d, rd, &kind)) != WP_OK)
        return st;
    if (kind > WP_EXTERN_GLOBAL)
        return fail_at(d, off, "malformed import kind");
    imp->kind = (wp_externkind)kind;
    imp->index = c->n[kind]++;
    wp_funcdecl fd = {0};
    wp_tabletype tt;
    wp_limits lim;
    wp_globaltype gt;
    switch (imp->kind) {
    case WP_EXTERN_FUNC:
        if ((st = read_typeidx(d, rd, &fd.type)) == WP_OK && fill)
            m->funcs[imp->index] = fd;
        return st;
    case WP_EXTERN_TABLE:
        if ((st = read_tabletype(d, rd, &tt)) == WP_OK && fill)
            m->tables[imp->index] = tt;
        return st;
    case WP_EXTERN_MEMORY:
        if (imp->index > 0) /* WebAssembly 2.0 */
            return fail_at(d, entry_off, "multiple memories");
        if ((st = read_limits(d, rd, &lim, true)) == WP_OK && fill)
            m->mems[imp->index] = lim;
        return st;
    case WP_EXTERN_GLOBAL:
        if ((st = read_globaltype(d, rd, &gt)) == WP_OK && fill)
            m->globals[imp->index].type = gt;
        return st;
    }
    return st;
}

static wp_status alloc_imported(dec *d, const import_counts *c) {
    wp_module *m = d->m;
    if (!(m->funcs = wp_heap_calloc(m->heap, c->n[0], sizeof *m->funcs)))
        return nomem(d);
    m->nfuncs = m->nimported_funcs = c->n[0];
    if (!(m->tables = wp_heap_calloc(m->heap, c->n[1], sizeof *m->tables)))
        return nomem(d);
    m->ntables = m->nimported_tables = c->n[1];
    if (!(m->mems = wp_heap_calloc(m->heap, c->n[2], sizeof *m->mems)))
        return nomem(d);
    m->nmems = m->nimported_mems = c->n[2];
    if (!(m->globals = wp_heap_calloc(m->heap, c->n[3], sizeof *m->globals)))
        return nomem(d);
    m->nglobals = m->nimported_globals = c->n[3];
    return WP_OK;
}

static wp_status read_import_section(dec *d, wp_reader *rd) {
    wp_module *m = d->m;
    uint32_t n = 0;
    wp_status st = read_count(d, rd, 4, &n);
    if (st != WP_OK)
        return st;
    wp_reader scan = *rd;
    import_counts c = {{0}};
    for (uint32_t i = 0; i < n; i++) {
        wp_import imp;
        if ((st = read_import(d, &scan, &imp, &c, false)) != WP_OK)
            return st;
    }
    if (!(m->imports = wp_heap_calloc(m->heap, n, sizeof *m->imports)))
        return nomem(d);
    m->nimports = n;
    if ((st = alloc_imported(d, &c)) != WP_OK)
        return st;
    import_counts again = {{0}};
    for (uint32_t i = 0; i < n; i++)
        read_import(d, rd, &m->imports[i], &again, true); /* cannot fail: checked above */
    return WP_OK;
}

/* ---- Function, table, memory, global sections ------------------------------------------------ */

static wp_status read_function_section(dec *d, wp_reader *rd) {
    wp_module *m = d->m;
    uint32_t n = 0;
    wp_status st = read_count(d, rd, 1, &n);
    if (st == WP_OK)
        st = grow_array(d, (void **)&m->funcs, m->nfuncs, n, sizeof *m->funcs);
    if (st != WP_OK)
        return st;
    uint32_t first = m->nfuncs;
    m->nfuncs += n;
    d->ndefined = n;
    for (uint32_t i = 0; i < n && st == WP_OK; i++)
        st = read_typeidx(d, rd, &m->funcs[first + i].type);
    return st;
}

static wp_status read_table_section(dec *d, wp_reader *rd) {
    wp_module *m = d->m;
    uint32_t n = 0;
    wp_status st = read_count(d, rd, 3, &n);
    if (st == WP_OK)
        st = grow_array(d, (void **)&m->tables, m->ntables, n, sizeof *m->tables);
    if (st != WP_OK)
        return st;
    uint32_t first = m->ntables;
    m->ntables += n;
    for (uint32_t i = 0; i < n && st == WP_OK; i++)
        st = read_tabletype(d, rd, &m->tables[first + i]);
    return st;
}

static wp_status read_memory_section(dec *d, wp_reader *rd) {
    wp_module *m = d->m;
    uint32_t n = 0;
    wp_status st = read_count(d, rd, 2, &n);
    if (st == WP_OK)
        st = grow_array(d, (void **)&m->mems, m->nmems, n, sizeof *m->mems);
    if (st != WP_OK)
        return st;
    uint32_t first = m->nmems;
    m->nmems += n;
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        if (first + i > 0) /* WebAssembly 2.0 */
            return fail_at(d, rd_offset(rd), "multiple memories");
        st = read_limits(d, rd, &m->mems[first + i], true);
    }
    return st;
}

static wp_status read_global_section(dec *d, wp_reader *rd) {
    wp_module *m = d->m;
    uint32_t n = 0;
    wp_status st = read_count(d, rd, 3, &n);
    if (st == WP_OK)
        st = grow_array(d, (void **)&m->globals, m->nglobals, n, sizeof *m->globals);
    if (st != WP_OK)
        return st;
    uint32_t first = m->nglobals;
    m->nglobals += n;
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        wp_globaldecl *g = &m->globals[first + i];
        st = read_globaltype(d, rd, &g->type);
        if (st == WP_OK)
            st = read_constexpr(d, rd, &g->init);
    }
    return st;
}

/* ---- Export and start sections --------------------------------------------------------------- */

static wp_status read_export_section(dec *d, wp_reader *rd) {
    wp_module *m = d->m;
    uint32_t n = 0;
    wp_status st = read_count(d, rd, 3, &n);
    if (st != WP_OK)
        return st;
    if (!(m->exports = wp_heap_calloc(m->heap, n, sizeof *m->exports)))
        return nomem(d);
    m->nexports = n;
    for (uint32_t i = 0; i < n; i++) {
        wp_export *e = &m->exports[i];
        e->bin_offset = (uint32_t)rd_offset(rd);
        if ((st = read_name(d, rd, &e->name)) != WP_OK)
            return st;
        size_t off = rd_offset(rd);
        uint8_t kind = 0;
        if ((st = read_byte(d, rd, &kind)) != WP_OK)
            return st;
        if (kind > WP_EXTERN_GLOBAL)
            return fail_at(d, off, "malformed export kind");
        e->kind = (wp_externkind)kind;
        if ((st = read_u32(d, rd, &e->index)) != WP_OK)
            return st;
    }
    return WP_OK;
}

static wp_status read_start_section(dec *d, wp_reader *rd) {
    d->m->has_start = true;
    d->m->start_bin_offset = (uint32_t)rd_offset(rd);
    return read_u32(d, rd, &d->m->start);
}

/* ---- Element section ------------------------------------------------------------------------- */

/* The items of a segment: function indices (flags bit 2 clear) or expressions (set). */
static wp_status read_elem_items(dec *d, wp_reader *rd, wp_elemseg *seg, bool exprs) {
    uint32_t n = 0;
    wp_status st = read_count(d, rd, exprs ? 2 : 1, &n);
    if (st != WP_OK)
        return st;
    if (!(seg->items = wp_heap_calloc(d->m->heap, n, sizeof *seg->items)))
        return nomem(d);
    seg->count = n;
    for (uint32_t i = 0; i < n; i++) {
        wp_constexpr *ce = &seg->items[i];
        if (exprs) {
            if ((st = read_constexpr(d, rd, ce)) != WP_OK)
                return st;
            continue;
        }
        ce->offset = (uint32_t)rd_offset(rd);
        ce->op = WP_CONST_REF_FUNC;
        ce->type = WP_FUNCREF;
        if ((st = read_u32(d, rd, &ce->index)) != WP_OK)
            return st;
    }
    return WP_OK;
}

/* Flags: bit 0 passive or declarative, bit 1 explicit table (active) or declarative,
 * bit 2 items are expressions. */
static wp_status read_elem(dec *d, wp_reader *rd, wp_elemseg *seg) {
    size_t off = rd_offset(rd);
    seg->bin_offset = (uint32_t)off;
    uint32_t flags = 0;
    wp_status st = read_u32(d, rd, &flags);
    if (st != WP_OK)
        return st;
    if (flags > 7)
        return fail_at(d, off, "malformed elements segment kind");
    seg->type = WP_FUNCREF;
    if (flags & 1) {
        seg->mode = (flags & 2) ? WP_SEG_DECLARATIVE : WP_SEG_PASSIVE;
    } else {
        seg->mode = WP_SEG_ACTIVE;
        if ((flags & 2) && (st = read_u32(d, rd, &seg->table)) != WP_OK)
            return st;
        if ((st = read_constexpr(d, rd, &seg->offset)) != WP_OK)
            return st;
    }
    if (flags & 3) { /* an element kind byte, or a reference type for expressions */
        if (flags & 4) {
            st = wp__bin_reftype(rd, &seg->type, d->err);
        } else {
            uint8_t kind = 0;
            off = rd_offset(rd);
            st = read_byte(d, rd, &kind);
            if (st == WP_OK && kind != 0)
                st = fail_at(d, off, "malformed element kind");
        }
        if (st != WP_OK)
            return st;
    }
    return read_elem_items(d, rd, seg, flags & 4);
}

static wp_status read_elem_section(dec *d, wp_reader *rd) {
    wp_module *m = d->m;
    uint32_t n = 0;
    wp_status st = read_count(d, rd, 2, &n);
    if (st != WP_OK)
        return st;
    if (!(m->elems = wp_heap_calloc(m->heap, n, sizeof *m->elems)))
        return nomem(d);
    m->nelems = n;
    for (uint32_t i = 0; i < n && st == WP_OK; i++)
        st = read_elem(d, rd, &m->elems[i]);
    return st;
}

/* ---- Code section ---------------------------------------------------------------------------- */

/* Local declarations: groups of (count, type), expanded into f->locals. Params and locals
 * together may not exceed WP_MAX_FUNC_LOCALS, nor declared locals of the whole module
 * WP_MAX_MODULE_LOCALS: a body of six bytes may declare 50,000 locals, and without the second
 * cap a module of many such bodies would expand them into gigabytes. */
static wp_status read_locals(dec *d, wp_reader *rd, wp_funcdecl *f) {
    wp_module *m = d->m;
    uint32_t ngroups = 0;
    wp_status st = read_count(d, rd, 2, &ngroups);
    if (st != WP_OK)
        return st;
    uint64_t total = f->type < m->ntypes ? m->types[f->type].nparams : 0;
    uint64_t nparams = total;
    wp_reader scan = *rd;
    for (uint32_t g = 0; g < ngroups; g++) {
        size_t off = rd_offset(&scan);
        uint32_t count = 0;
        wp_valtype t;
        if ((st = read_u32(d, &scan, &count)) != WP_OK)
            return st;
        total += count;
        if (total > WP_MAX_FUNC_LOCALS)
            return fail_limit(d, off, "locals", total, "WP_MAX_FUNC_LOCALS", WP_MAX_FUNC_LOCALS);
        d->nlocals += count;
        if (d->nlocals > WP_MAX_MODULE_LOCALS)
            return fail_limit(d, off, "locals in the module", d->nlocals, "WP_MAX_MODULE_LOCALS",
                              WP_MAX_MODULE_LOCALS);
        if ((st = wp__bin_valtype(&scan, &t, d->err)) != WP_OK)
            return st;
    }
    uint32_t n = (uint32_t)(total - nparams);
    if (!(f->locals = wp_heap_calloc(m->heap, n, sizeof *f->locals)))
        return nomem(d);
    f->nlocals = n;
    wp_valtype *next = f->locals;
    for (uint32_t g = 0; g < ngroups; g++) {
        uint32_t count = 0;
        wp_valtype t;
        rd_u32(rd, &count); /* cannot fail: checked above */
        wp__bin_valtype(rd, &t, d->err);
        for (uint32_t k = 0; k < count; k++)
            *next++ = t;
    }
    return WP_OK;
}

static wp_status read_code_section(dec *d, wp_reader *rd) {
    wp_module *m = d->m;
    size_t off = rd_offset(rd);
    uint32_t n = 0;
    wp_status st = read_count(d, rd, 1, &n);
    if (st != WP_OK)
        return st;
    if (n != d->ndefined)
        return fail_at(d, off, "function and code section have inconsistent lengths");
    d->has_code = true;
    for (uint32_t i = 0; i < n; i++) {
        wp_funcdecl *f = &m->funcs[m->nimported_funcs + i];
        uint32_t size = 0;
        const uint8_t *body;
        if ((st = read_u32(d, rd, &size)) != WP_OK)
            return st;
        if (!rd_bytes(rd, size, &body))
            return fail_at(d, rd_offset(rd), "unexpected end (function body past the section)");
        wp_reader brd = rd_init(rd->base, body, body + size);
        if ((st = read_locals(d, &brd, f)) != WP_OK)
            return st;
        f->body_offset = (uint32_t)rd_offset(&brd);
        f->body_end = (uint32_t)(body + size - rd->base);
    }
    return WP_OK;
}

/* ---- Data and data count sections ------------------------------------------------------------ */

static wp_status read_data(dec *d, wp_reader *rd, wp_dataseg *seg) {
    size_t off = rd_offset(rd);
    seg->bin_offset = (uint32_t)off;
    uint32_t flags = 0;
    wp_status st = read_u32(d, rd, &flags);
    if (st != WP_OK)
        return st;
    if (flags > 2)
        return fail_at(d, off, "malformed data segment kind");
    seg->mode = flags == 1 ? WP_SEG_PASSIVE : WP_SEG_ACTIVE;
    if (flags == 2 && (st = read_u32(d, rd, &seg->memory)) != WP_OK)
        return st;
    if (flags != 1 && (st = read_constexpr(d, rd, &seg->offset)) != WP_OK)
        return st;
    const uint8_t *bytes;
    if ((st = read_u32(d, rd, &seg->len)) != WP_OK)
        return st;
    if (!rd_bytes(rd, seg->len, &bytes))
        return fail_at(d, rd_offset(rd), "unexpected end of section or function");
    seg->data_offset = (uint32_t)(bytes - rd->base);
    return WP_OK;
}

static wp_status read_data_section(dec *d, wp_reader *rd) {
    wp_module *m = d->m;
    size_t off = rd_offset(rd);
    uint32_t n = 0;
    wp_status st = read_count(d, rd, 2, &n);
    if (st != WP_OK)
        return st;
    if (m->has_datacount && n != m->datacount)
        return fail_at(d, off, "data count and data section have inconsistent lengths");
    if (!(m->datas = wp_heap_calloc(m->heap, n, sizeof *m->datas)))
        return nomem(d);
    m->ndatas = n;
    d->has_data = true;
    for (uint32_t i = 0; i < n && st == WP_OK; i++)
        st = read_data(d, rd, &m->datas[i]);
    return st;
}

static wp_status read_datacount_section(dec *d, wp_reader *rd) {
    d->m->has_datacount = true;
    return read_u32(d, rd, &d->m->datacount);
}

/* ---- Custom sections and names --------------------------------------------------------------- */

/* The function names subsection; stores them only with 'apply'. Each entry takes at least two
 * bytes, so the loop is bounded by the bytes whatever the count says. */
static bool read_func_names(wp_module *m, wp_reader *rd, bool apply) {
    uint32_t n = 0;
    if (!rd_u32(rd, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t index = 0;
        wp_name name;
        if (!rd_u32(rd, &index) || !take_name(rd, &name))
            return false;
        if (apply && index < m->nfuncs)
            m->funcs[index].name = name;
    }
    return rd_done(rd);
}

/* Module (0) and function (1) names; other subsections are skipped. Stores only with 'apply'. */
static bool read_names(wp_module *m, wp_reader rd, bool apply) {
    while (!rd_done(&rd)) {
        uint8_t id = 0;
        uint32_t size = 0;
        const uint8_t *p;
        wp_name name;
        if (!rd_u8(&rd, &id) || !rd_u32(&rd, &size) || !rd_bytes(&rd, size, &p))
            return false;
        wp_reader sub = rd_init(rd.base, p, p + size);
        if (id == 0 && (!take_name(&sub, &name) || !rd_done(&sub)))
            return false;
        if (id == 0 && apply)
            m->module_name = name;
        if (id == 1 && !read_func_names(m, &sub, apply))
            return false;
    }
    return true;
}

/* The "name" section. It is advisory, so a malformed one is dropped whole, never an error:
 * checked first, then applied. The cost is the section's size, however many there are. */
static void read_name_section(wp_module *m, wp_reader rd) {
    if (read_names(m, rd, false))
        read_names(m, rd, true);
}

static wp_status read_custom_section(dec *d, wp_reader *rd) {
    wp_name name;
    wp_status st = read_name(d, rd, &name);
    if (st != WP_OK)
        return st;
    if (name.len == 4 && memcmp(name.ptr, "name", 4) == 0)
        read_name_section(d->m, *rd);
    rd->p = rd->end;
    return WP_OK;
}

/* ---- Sections -------------------------------------------------------------------------------- */

typedef wp_status (*section_fn)(dec *d, wp_reader *rd);

/* Section ids in binary order; the data count section (12) sits before code (10). */
static const struct {
    uint8_t id;
    section_fn read;
} sections[] = {
    {0, read_custom_section},   {1, read_type_section},       {2, read_import_section},
    {3, read_function_section}, {4, read_table_section},      {5, read_memory_section},
    {6, read_global_section},   {7, read_export_section},     {8, read_start_section},
    {9, read_elem_section},     {12, read_datacount_section}, {10, read_code_section},
    {11, read_data_section},
};

static wp_status read_section(dec *d, wp_reader *rd) {
    size_t off = rd_offset(rd);
    uint8_t id;
    uint32_t size = 0;
    const uint8_t *body;
    wp_status st = read_byte(d, rd, &id);
    if (st == WP_OK)
        st = read_u32(d, rd, &size);
    if (st != WP_OK)
        return st;
    if (!rd_bytes(rd, size, &body))
        return fail_at(d, off, "length out of bounds (section size)");
    unsigned rank = 0;
    while (rank < WP_ARRAY_LEN(sections) && sections[rank].id != id)
        rank++;
    if (rank == WP_ARRAY_LEN(sections))
        return fail_at(d, off, "malformed section id");
    if (rank != 0 && rank <= d->last_rank)
        return fail_at(d, off, "unexpected content after last section (out of order or repeated)");
    if (rank != 0)
        d->last_rank = rank;
    wp_reader sub = rd_init(rd->base, body, body + size);
    if ((st = sections[rank].read(d, &sub)) != WP_OK)
        return st;
    if (!rd_done(&sub))
        return fail_at(d, rd_offset(&sub), "section size mismatch");
    return WP_OK;
}

static wp_status read_header(dec *d, wp_reader *rd) {
    static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6d};
    static const uint8_t version[4] = {0x01, 0x00, 0x00, 0x00};
    size_t n = rd_remaining(rd);
    if (memcmp(rd->p, magic, n < 4 ? n : 4) != 0)
        return fail_at(d, 0, "magic header not detected");
    if (n < 8)
        return fail_at(d, n, "unexpected end");
    if (memcmp(rd->p + 4, version, 4) != 0)
        return fail_at(d, 4, "unknown binary version");
    rd->p += 8;
    return WP_OK;
}

/* Marks the functions named outside function bodies: the ones ref.func may use in a body. */
static void mark_ref(wp_module *m, const wp_constexpr *ce) {
    if (ce->op == WP_CONST_REF_FUNC && ce->index < m->nfuncs)
        m->func_declared[ce->index] = 1;
}

static wp_status mark_declared(dec *d) {
    wp_module *m = d->m;
    if (!(m->func_declared = wp_heap_calloc(m->heap, m->nfuncs, 1)))
        return nomem(d);
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wp_export *e = &m->exports[i];
        if (e->kind == WP_EXTERN_FUNC && e->index < m->nfuncs)
            m->func_declared[e->index] = 1;
    }
    for (uint32_t i = m->nimported_globals; i < m->nglobals; i++)
        mark_ref(m, &m->globals[i].init);
    for (uint32_t i = 0; i < m->nelems; i++) {
        mark_ref(m, &m->elems[i].offset);
        for (uint32_t k = 0; k < m->elems[i].count; k++)
            mark_ref(m, &m->elems[i].items[k]);
    }
    for (uint32_t i = 0; i < m->ndatas; i++)
        mark_ref(m, &m->datas[i].offset);
    return WP_OK;
}

/* Checks that need the whole module: counts that sections must agree on. */
static wp_status finish(dec *d) {
    wp_module *m = d->m;
    if (d->ndefined != 0 && !d->has_code)
        return fail_at(d, m->len, "function and code section have inconsistent lengths");
    if (m->has_datacount && !d->has_data && m->datacount != 0)
        return fail_at(d, m->len, "data count and data section have inconsistent lengths");
    return mark_declared(d);
}

static wp_status decode_module(dec *d) {
    wp_module *m = d->m;
    wp_reader rd = rd_init(m->bytes, m->bytes, m->bytes + m->len);
    wp_status st = read_header(d, &rd);
    while (st == WP_OK && !rd_done(&rd))
        st = read_section(d, &rd);
    return st == WP_OK ? finish(d) : st;
}

wp_status wp__decode(wp_heap *heap, const uint8_t *bytes, size_t len, wp_module **out,
                     wp_err *err) {
    wp_module *m = wp_heap_zalloc(heap, sizeof *m);
    if (!m)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    m->heap = heap;
    atomic_init(&m->refcount, 1);
    if (len > UINT32_MAX) { /* offsets are 32-bit: the first byte past them is the culprit */
        wp__module_destroy(m);
        return wp_err_set(err, WP_ERR_INVALID, "at 0x%" PRIx64 ": module too large (%zu bytes)",
                          (uint64_t)UINT32_MAX + 1, len);
    }
    if (!(m->bytes = wp_heap_alloc(heap, len))) {
        wp__module_destroy(m);
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    m->len = len;
    if (len)
        memcpy(m->bytes, bytes, len);
    dec d = {.m = m, .err = err};
    wp_status st = decode_module(&d);
    if (st != WP_OK) {
        wp__module_destroy(m);
        return st;
    }
    *out = m;
    return WP_OK;
}
