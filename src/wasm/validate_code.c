/* validate_code.c: validation of function bodies: the operand stack and control frames.
 *
 * Cost: every instruction is O(1) except those moving a type list (calls, blocks, branches,
 * return), which are O(list length), at most WP_MAX_FUNC_PARAMS or WP_MAX_FUNC_RESULTS, and
 * done with memcmp/memcpy on type bytes; br_table compares each label's list once with one
 * memcmp, so a long label list over wide types stays fast. */
#include <string.h>

#include "binary.h"

/* Operand types are value type bytes; UNKNOWN is the bottom type that unreachable code
 * produces (it matches every type). Only select pushes UNKNOWN, and only after popping two
 * UNKNOWNs, which must come from the frame's bottom or below it (empty, in unreachable code):
 * so a frame holds at most one UNKNOWN, as its bottom operand, and known types above it. */
#define UNKNOWN 0

/* A control frame: block, loop, if, else, or the function itself (op END). Type lists are
 * value type bytes, like the operand stack, so they compare with memcmp. */
typedef struct ctrl {
    uint8_t op;
    bool unreachable; /* the rest of the frame follows br, return, unreachable... */
    uint32_t height;  /* operand stack height at the frame's start (params above it) */
    const uint8_t *params;
    const uint8_t *results;
    uint32_t nparams;
    uint32_t nresults;
} ctrl;

/* Validator state. Errors are sticky: the first one is kept in 'st' and 'err', later steps of
 * the same instruction do nothing harmful, and the instruction loop stops after it. */
typedef struct vctx {
    const wp_module *m;
    wp_heap *heap;
    wp_err *err;
    wp_status st;
    wp_reader rd;
    size_t op_off;       /* offset of the instruction being checked */
    const char *op_name; /* its name, for messages */
    const wp_functype *ft;
    const wp_funcdecl *fd;
    uint8_t *type_bytes; /* m->type_storage as bytes, entry for entry */
    size_t ntype_bytes;
    uint8_t *vals;
    uint32_t nvals;
    uint32_t cap_vals;
    ctrl *ctrls;
    uint32_t nctrls;
    uint32_t cap_ctrls;
} vctx;

/* Storage for the result type of a block typed by one value type. */
static const uint8_t single_types[] = {WP_I32, WP_I64, WP_F32, WP_F64, WP_FUNCREF, WP_EXTERNREF};

/* The params of ft as bytes; its results follow them. */
static const uint8_t *bytes_of(const vctx *v, const wp_functype *ft) {
    return v->type_bytes + (ft->types - v->m->type_storage);
}

/* ---- Errors and immediates ------------------------------------------------------------------- */

static bool fail(vctx *v, const char *why) {
    if (v->st == WP_OK)
        v->st =
            wp_err_set(v->err, WP_ERR_INVALID, "at 0x%zx: %s in %s", v->op_off, why, v->op_name);
    return false;
}

static bool ok(const vctx *v) { return v->st == WP_OK; }

static bool keep(vctx *v, wp_status st) {
    if (v->st == WP_OK)
        v->st = st;
    return st == WP_OK;
}

static bool read_failed(vctx *v) { return keep(v, wp__bin_read_failed(v->err, &v->rd)); }

static bool imm_u32(vctx *v, uint32_t *out) { return rd_u32(&v->rd, out) || read_failed(v); }

/* A reserved memory index byte (WebAssembly 2.0 has one memory). */
static bool zero_byte(vctx *v) {
    uint8_t b = 0;
    if (!rd_u8(&v->rd, &b))
        return read_failed(v);
    return b == 0 || fail(v, "zero byte expected");
}

/* ---- Operand stack --------------------------------------------------------------------------- */

_Static_assert(WP_MAX_OPERAND_DEPTH <= (1u << 30), "stack capacities double in 32 bits");

static bool grow(vctx *v, void **arr, uint32_t *cap, size_t size) {
    uint32_t ncap = *cap ? *cap * 2 : 64;
    void *p = wp_heap_realloc(v->heap, *arr, *cap * size, ncap * size);
    if (!p)
        return keep(v, wp_err_set(v->err, WP_ERR_NOMEM, "out of memory"));
    *arr = p;
    *cap = ncap;
    return true;
}

/* Validation stops at WP_MAX_OPERAND_DEPTH values: without a bound a small module (calls of
 * a function with many results) could make it allocate without limit. */
static bool push(vctx *v, uint8_t t) {
    if (v->nvals == WP_MAX_OPERAND_DEPTH)
        return fail(v, "operand stack deeper than WP_MAX_OPERAND_DEPTH");
    if (v->nvals == v->cap_vals && !grow(v, (void **)&v->vals, &v->cap_vals, 1))
        return false;
    v->vals[v->nvals++] = t;
    return ok(v);
}

static ctrl *top(vctx *v) { return &v->ctrls[v->nctrls - 1]; }

static uint8_t pop(vctx *v) {
    const ctrl *c = top(v);
    if (v->nvals == c->height) {
        if (!c->unreachable)
            fail(v, "type mismatch (operand stack empty)");
        return UNKNOWN;
    }
    return v->vals[--v->nvals];
}

static uint8_t pop_expect(vctx *v, uint8_t want) {
    uint8_t got = pop(v);
    if (got != want && got != UNKNOWN && want != UNKNOWN)
        fail(v, "type mismatch");
    return got;
}

/* How many of the top n operands of the frame have known types: all of them, less an UNKNOWN
 * at the frame's bottom when the n reach down to it (see UNKNOWN). */
static uint32_t known_top(vctx *v, uint32_t n) {
    const ctrl *c = top(v);
    uint32_t have = v->nvals - c->height;
    uint32_t k = have > n ? n : have;
    if (have <= n && have > 0 && v->vals[c->height] == UNKNOWN)
        k--;
    WP_ASSERT(k == 0 || !memchr(v->vals + v->nvals - k, UNKNOWN, k));
    return k;
}

/* Whether the top k operands, k > 0, have the types ts. */
static bool top_is(const vctx *v, const uint8_t *ts, uint32_t k) {
    return memcmp(v->vals + v->nvals - k, ts, k) == 0;
}

/* Pops n values of types ts (ts[n - 1] on top): one memcmp of the known ones; the others
 * (an UNKNOWN, or values missing in unreachable code) match anything. */
static bool pop_types(vctx *v, const uint8_t *ts, uint32_t n) {
    uint32_t known = known_top(v, n);
    if (known > 0 && !top_is(v, ts + n - known, known))
        return fail(v, "type mismatch");
    v->nvals -= known;
    if (known < n)
        pop(v); /* the bottom UNKNOWN, or nothing: fails unless the frame is unreachable */
    return ok(v);
}

static bool push_types(vctx *v, const uint8_t *ts, uint32_t n) {
    if (n > WP_MAX_OPERAND_DEPTH - v->nvals)
        return fail(v, "operand stack deeper than WP_MAX_OPERAND_DEPTH");
    while (n > v->cap_vals - v->nvals)
        if (!grow(v, (void **)&v->vals, &v->cap_vals, 1))
            return false;
    if (n > 0)
        memcpy(v->vals + v->nvals, ts, n);
    v->nvals += n;
    return ok(v);
}

static uint8_t sig_type(char c) {
    switch (c) {
    case 'i':
        return WP_I32;
    case 'I':
        return WP_I64;
    case 'f':
        return WP_F32;
    default:
        return WP_F64;
    }
}

/* An opcodes.def signature such as "iI:" or "ff:i": pop the operands right to left, push. */
static bool apply_sig(vctx *v, const char *sig) {
    const char *colon = strchr(sig, ':');
    WP_ASSERT(colon); /* every instruction reaching here has a signature */
    for (size_t i = (size_t)(colon - sig); i-- > 0;)
        pop_expect(v, sig_type(sig[i]));
    for (const char *p = colon + 1; *p; p++)
        push(v, sig_type(*p));
    return ok(v);
}

/* Stack-polymorphic from here to the end of the frame: drop its operands. */
static bool set_unreachable(vctx *v) {
    v->nvals = top(v)->height;
    top(v)->unreachable = true;
    return ok(v);
}

/* ---- Control frames -------------------------------------------------------------------------- */

static bool push_ctrl(vctx *v, uint8_t op, const ctrl *types) {
    if (v->nctrls == WP_MAX_OPERAND_DEPTH)
        return fail(v, "blocks nested deeper than WP_MAX_OPERAND_DEPTH");
    if (v->nctrls == v->cap_ctrls && !grow(v, (void **)&v->ctrls, &v->cap_ctrls, sizeof(ctrl)))
        return false;
    ctrl c = *types;
    c.op = op;
    c.unreachable = false;
    c.height = v->nvals;
    v->ctrls[v->nctrls++] = c;
    push_types(v, c.params, c.nparams);
    return ok(v);
}

static ctrl pop_ctrl(vctx *v) {
    ctrl c = *top(v);
    pop_types(v, c.results, c.nresults);
    if (v->nvals != c.height)
        fail(v, "type mismatch (values left at the end of a block)");
    v->nctrls--;
    return c;
}

/* The types a branch to frame c carries: a loop's params, any other frame's results. */
static uint32_t label_types(const ctrl *c, const uint8_t **ts) {
    *ts = c->op == WP_OP_LOOP ? c->params : c->results;
    return c->op == WP_OP_LOOP ? c->nparams : c->nresults;
}

static const ctrl *label(vctx *v, uint32_t depth) {
    if (depth >= v->nctrls) {
        fail(v, "unknown label");
        return NULL;
    }
    return &v->ctrls[v->nctrls - 1 - depth];
}

/* blocktype: 0x40 (empty), one value type, or a type index as a non-negative s33. */
static bool read_blocktype(vctx *v, ctrl *bt) {
    memset(bt, 0, sizeof *bt);
    if (rd_done(&v->rd))
        return read_failed(v);
    uint8_t b = *v->rd.p; /* peeked: a type index is read as a whole s33 below */
    if (b == WP_BLOCKTYPE_EMPTY) {
        v->rd.p++;
        return true;
    }
    for (size_t i = 0; i < WP_ARRAY_LEN(single_types); i++) {
        if (b == single_types[i]) {
            v->rd.p++;
            bt->results = &single_types[i];
            bt->nresults = 1;
            return true;
        }
    }
    if (b == WP_V128)
        return keep(v, wp__bin_simd(v->err, rd_offset(&v->rd)));
    int64_t index = 0;
    if (!rd_s33(&v->rd, &index))
        return read_failed(v);
    if (index < 0)
        return fail(v, "malformed block type");
    if ((uint64_t)index >= v->m->ntypes)
        return fail(v, "unknown type");
    /* The canonical type: equal label types then share one pointer (see op_br_table). */
    const wp_functype *ft = &v->m->types[v->m->canon[index]];
    bt->params = bytes_of(v, ft);
    bt->nparams = ft->nparams;
    bt->results = bt->params + ft->nparams;
    bt->nresults = ft->nresults;
    return true;
}

static bool op_block(vctx *v, uint8_t op) {
    ctrl bt;
    if (!read_blocktype(v, &bt))
        return false;
    if (op == WP_OP_IF)
        pop_expect(v, WP_I32);
    pop_types(v, bt.params, bt.nparams);
    push_ctrl(v, op, &bt);
    return ok(v);
}

static bool op_else(vctx *v) {
    if (top(v)->op != WP_OP_IF)
        return fail(v, "else without a matching if");
    ctrl c = pop_ctrl(v);
    push_ctrl(v, WP_OP_ELSE, &c);
    return ok(v);
}

static bool same_types(const uint8_t *a, uint32_t na, const uint8_t *b, uint32_t nb) {
    return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

static bool op_end(vctx *v) {
    ctrl c = pop_ctrl(v);
    /* An if without else passes its params through the missing branch. */
    if (c.op == WP_OP_IF && !same_types(c.params, c.nparams, c.results, c.nresults))
        fail(v, "type mismatch (if without else must leave its params as results)");
    push_types(v, c.results, c.nresults);
    return ok(v);
}

static bool op_br(vctx *v, uint8_t op) {
    uint32_t depth = 0;
    if (!imm_u32(v, &depth))
        return false;
    if (op == WP_OP_BR_IF)
        pop_expect(v, WP_I32);
    const ctrl *c = label(v, depth);
    if (!c)
        return false;
    const uint8_t *ts;
    uint32_t n = label_types(c, &ts);
    pop_types(v, ts, n);
    if (op == WP_OP_BR_IF)
        push_types(v, ts, n);
    else
        set_unreachable(v);
    return ok(v);
}

/* Every label must take the same number of values, and the operands must suit each label's
 * types: the spec pops and pushes them back per label; here each distinct type list is one
 * memcmp against the known top of the stack. Missing operands in reachable code are left to
 * the default label's pop, which reports them. */
static bool op_br_table(vctx *v) {
    uint32_t n = 0;
    uint32_t depth = 0;
    if (!imm_u32(v, &n))
        return false;
    if (n > rd_remaining(&v->rd)) /* each label takes at least one byte */
        return fail(v, "unexpected end (br_table larger than the body)");
    wp_reader labels = v->rd;
    for (uint32_t i = 0; i < n; i++) /* the default label comes last: read it first */
        if (!imm_u32(v, &depth))
            return false;
    if (!imm_u32(v, &depth))
        return false;
    pop_expect(v, WP_I32);
    const ctrl *def = label(v, depth);
    if (!def)
        return false;
    const uint8_t *dts;
    uint32_t arity = label_types(def, &dts);
    uint32_t known = known_top(v, arity);
    const uint8_t *checked = NULL; /* the last list compared: labels often repeat one */
    for (uint32_t i = 0; i < n && ok(v); i++) {
        rd_u32(&labels, &depth); /* cannot fail: read above */
        const ctrl *c = label(v, depth);
        const uint8_t *ts;
        if (!c)
            return false;
        if (label_types(c, &ts) != arity)
            return fail(v, "type mismatch (br_table labels of different arity)");
        if (ts != checked && known > 0 && !top_is(v, ts + arity - known, known))
            return fail(v, "type mismatch");
        checked = ts;
    }
    pop_types(v, dts, arity);
    set_unreachable(v);
    return ok(v);
}

static bool op_return(vctx *v) {
    pop_types(v, bytes_of(v, v->ft) + v->ft->nparams, v->ft->nresults);
    set_unreachable(v);
    return ok(v);
}

/* ---- Calls ----------------------------------------------------------------------------------- */

static bool apply_functype(vctx *v, const wp_functype *ft) {
    const uint8_t *ts = bytes_of(v, ft);
    pop_types(v, ts, ft->nparams);
    push_types(v, ts + ft->nparams, ft->nresults);
    return ok(v);
}

static bool op_call(vctx *v) {
    uint32_t f = 0;
    if (!imm_u32(v, &f))
        return false;
    if (f >= v->m->nfuncs)
        return fail(v, "unknown function");
    apply_functype(v, wp__func_type(v->m, f));
    return ok(v);
}

static bool check_table(vctx *v, uint32_t t) {
    return t < v->m->ntables || fail(v, "unknown table");
}

static bool op_call_indirect(vctx *v) {
    uint32_t type = 0;
    uint32_t table = 0;
    if (!imm_u32(v, &type) || !imm_u32(v, &table) || !check_table(v, table))
        return false;
    if (v->m->tables[table].elem != WP_FUNCREF)
        return fail(v, "type mismatch (call_indirect needs a funcref table)");
    if (type >= v->m->ntypes)
        return fail(v, "unknown type");
    pop_expect(v, WP_I32);
    apply_functype(v, &v->m->types[type]);
    return ok(v);
}

/* ---- Parametric, variable and reference instructions ----------------------------------------- */

static bool is_num(uint8_t t) {
    return t == UNKNOWN || t == WP_I32 || t == WP_I64 || t == WP_F32 || t == WP_F64;
}

static bool op_select(vctx *v) {
    pop_expect(v, WP_I32);
    uint8_t t1 = pop(v);
    uint8_t t2 = pop(v);
    if (!is_num(t1) || !is_num(t2))
        return fail(v, "type mismatch (select without a type needs numeric operands)");
    if (t1 != t2 && t1 != UNKNOWN && t2 != UNKNOWN)
        return fail(v, "type mismatch");
    push(v, t1 == UNKNOWN ? t2 : t1);
    return ok(v);
}

static bool op_select_t(vctx *v) {
    uint32_t n = 0;
    wp_valtype t;
    if (!imm_u32(v, &n))
        return false;
    if (n != 1)
        return fail(v, "invalid result arity");
    if (!keep(v, wp__bin_valtype(&v->rd, &t, v->err)))
        return false;
    pop_expect(v, WP_I32);
    pop_expect(v, (uint8_t)t);
    pop_expect(v, (uint8_t)t);
    push(v, (uint8_t)t);
    return ok(v);
}

static bool op_local(vctx *v, uint8_t op) {
    uint32_t x = 0;
    if (!imm_u32(v, &x))
        return false;
    uint32_t nparams = v->ft->nparams;
    if (x >= nparams && x - nparams >= v->fd->nlocals)
        return fail(v, "unknown local");
    uint8_t t = (uint8_t)(x < nparams ? v->ft->types[x] : v->fd->locals[x - nparams]);
    if (op != WP_OP_LOCAL_GET)
        pop_expect(v, t);
    if (op != WP_OP_LOCAL_SET)
        push(v, t);
    return ok(v);
}

static bool op_global(vctx *v, uint8_t op) {
    uint32_t x = 0;
    if (!imm_u32(v, &x))
        return false;
    if (x >= v->m->nglobals)
        return fail(v, "unknown global");
    const wp_globaltype *g = &v->m->globals[x].type;
    if (op == WP_OP_GLOBAL_GET)
        return push(v, (uint8_t)g->type);
    if (!g->mutable_)
        return fail(v, "global is immutable");
    pop_expect(v, (uint8_t)g->type);
    return ok(v);
}

static bool op_table_access(vctx *v, uint8_t op) {
    uint32_t x = 0;
    if (!imm_u32(v, &x) || !check_table(v, x))
        return false;
    uint8_t t = (uint8_t)v->m->tables[x].elem;
    if (op == WP_OP_TABLE_SET)
        pop_expect(v, t);
    pop_expect(v, WP_I32);
    if (op == WP_OP_TABLE_GET)
        push(v, t);
    return ok(v);
}

static bool op_ref_null(vctx *v) {
    wp_valtype t;
    if (keep(v, wp__bin_reftype(&v->rd, &t, v->err)))
        push(v, (uint8_t)t);
    return ok(v);
}

static bool op_ref_is_null(vctx *v) {
    uint8_t t = pop(v);
    if (t != UNKNOWN && !wp__is_reftype((wp_valtype)t))
        return fail(v, "type mismatch (ref.is_null needs a reference)");
    push(v, WP_I32);
    return ok(v);
}

static bool op_ref_func(vctx *v) {
    uint32_t f = 0;
    if (!imm_u32(v, &f))
        return false;
    if (f >= v->m->nfuncs)
        return fail(v, "unknown function");
    if (!v->m->func_declared[f])
        return fail(v, "undeclared function reference");
    push(v, WP_FUNCREF);
    return ok(v);
}

/* ---- Memory and numeric instructions --------------------------------------------------------- */

static bool check_memory(vctx *v) { return v->m->nmems > 0 || fail(v, "unknown memory 0"); }

static bool memarg(vctx *v, uint8_t access_bytes) {
    uint32_t align = 0;
    uint32_t offset = 0;
    if (!imm_u32(v, &align) || !imm_u32(v, &offset) || !check_memory(v))
        return false;
    if (align >= 32 || (1u << align) > access_bytes)
        return fail(v, "alignment must not be larger than natural");
    return true;
}

/* Instructions typed by their row of opcodes.def alone, after their immediate. */
static bool op_plain(vctx *v, const wp_opinfo *info) {
    int32_t s32;
    int64_t s64;
    uint32_t f32;
    uint64_t f64;
    bool read = true;
    switch (info->imm) {
    case WP_IMM_MEMARG:
        read = memarg(v, info->access_bytes);
        break;
    case WP_IMM_MEMIDX:
        read = zero_byte(v) && check_memory(v);
        break;
    case WP_IMM_I32:
        read = rd_s32(&v->rd, &s32) || read_failed(v);
        break;
    case WP_IMM_I64:
        read = rd_s64(&v->rd, &s64) || read_failed(v);
        break;
    case WP_IMM_F32:
        read = rd_f32(&v->rd, &f32) || read_failed(v);
        break;
    case WP_IMM_F64:
        read = rd_f64(&v->rd, &f64) || read_failed(v);
        break;
    default:
        break;
    }
    return read && apply_sig(v, info->sig);
}

/* ---- 0xFC prefix: saturating truncation, bulk memory and tables ------------------------------ */

static bool check_data(vctx *v, uint32_t x) {
    if (!v->m->has_datacount)
        return fail(v, "data count section required");
    return x < v->m->datacount || fail(v, "unknown data segment");
}

static bool check_elem(vctx *v, uint32_t x) {
    return x < v->m->nelems || fail(v, "unknown elem segment");
}

static bool op_table_init(vctx *v) {
    uint32_t e = 0;
    uint32_t t = 0;
    if (!imm_u32(v, &e) || !imm_u32(v, &t) || !check_table(v, t) || !check_elem(v, e))
        return false;
    if (v->m->elems[e].type != v->m->tables[t].elem)
        return fail(v, "type mismatch (element segment and table types differ)");
    apply_sig(v, "iii:");
    return ok(v);
}

static bool op_table_copy(vctx *v) {
    uint32_t dst = 0;
    uint32_t src = 0;
    if (!imm_u32(v, &dst) || !imm_u32(v, &src) || !check_table(v, dst) || !check_table(v, src))
        return false;
    if (v->m->tables[dst].elem != v->m->tables[src].elem)
        return fail(v, "type mismatch (tables of different types)");
    apply_sig(v, "iii:");
    return ok(v);
}

/* table.grow, table.size, table.fill. */
static bool op_table_size(vctx *v, uint32_t sub) {
    uint32_t x = 0;
    if (!imm_u32(v, &x) || !check_table(v, x))
        return false;
    uint8_t t = (uint8_t)v->m->tables[x].elem;
    if (sub == WP_OPFC_TABLE_SIZE)
        return push(v, WP_I32);
    pop_expect(v, WP_I32);
    pop_expect(v, t);
    if (sub == WP_OPFC_TABLE_FILL)
        pop_expect(v, WP_I32);
    else
        push(v, WP_I32);
    return ok(v);
}

static bool op_fc(vctx *v) {
    uint32_t sub = 0;
    uint32_t x = 0;
    if (!imm_u32(v, &sub))
        return false;
    if (sub >= WP_OPFC_COUNT || !wp__ops_fc[sub].name)
        return fail(v, "illegal opcode");
    v->op_name = wp__ops_fc[sub].name;
    switch (sub) {
    case WP_OPFC_MEMORY_INIT:
        if (imm_u32(v, &x) && zero_byte(v) && check_memory(v) && check_data(v, x))
            apply_sig(v, "iii:");
        return ok(v);
    case WP_OPFC_DATA_DROP:
        if (imm_u32(v, &x))
            check_data(v, x);
        return ok(v);
    case WP_OPFC_MEMORY_COPY:
        if (zero_byte(v) && zero_byte(v) && check_memory(v))
            apply_sig(v, "iii:");
        return ok(v);
    case WP_OPFC_MEMORY_FILL:
        if (zero_byte(v) && check_memory(v))
            apply_sig(v, "iii:");
        return ok(v);
    case WP_OPFC_TABLE_INIT:
        return op_table_init(v);
    case WP_OPFC_ELEM_DROP:
        if (imm_u32(v, &x))
            check_elem(v, x);
        return ok(v);
    case WP_OPFC_TABLE_COPY:
        return op_table_copy(v);
    case WP_OPFC_TABLE_GROW:
    case WP_OPFC_TABLE_SIZE:
    case WP_OPFC_TABLE_FILL:
        return op_table_size(v, sub);
    default: /* saturating truncations */
        return apply_sig(v, wp__ops_fc[sub].sig);
    }
}

/* ---- The instruction loop -------------------------------------------------------------------- */

static bool check_op(vctx *v, uint8_t op) {
    const wp_opinfo *info = &wp__ops[op];
    v->op_name = info->name ? info->name : "?";
    switch (op) {
    case WP_OP_UNREACHABLE:
        return set_unreachable(v);
    case WP_OP_NOP:
        return ok(v);
    case WP_OP_BLOCK:
    case WP_OP_LOOP:
    case WP_OP_IF:
        return op_block(v, op);
    case WP_OP_ELSE:
        return op_else(v);
    case WP_OP_END:
        return op_end(v);
    case WP_OP_BR:
    case WP_OP_BR_IF:
        return op_br(v, op);
    case WP_OP_BR_TABLE:
        return op_br_table(v);
    case WP_OP_RETURN:
        return op_return(v);
    case WP_OP_CALL:
        return op_call(v);
    case WP_OP_CALL_INDIRECT:
        return op_call_indirect(v);
    case WP_OP_DROP:
        return pop(v);
    case WP_OP_SELECT:
        return op_select(v);
    case WP_OP_SELECT_T:
        return op_select_t(v);
    case WP_OP_LOCAL_GET:
    case WP_OP_LOCAL_SET:
    case WP_OP_LOCAL_TEE:
        return op_local(v, op);
    case WP_OP_GLOBAL_GET:
    case WP_OP_GLOBAL_SET:
        return op_global(v, op);
    case WP_OP_TABLE_GET:
    case WP_OP_TABLE_SET:
        return op_table_access(v, op);
    case WP_OP_REF_NULL:
        return op_ref_null(v);
    case WP_OP_REF_IS_NULL:
        return op_ref_is_null(v);
    case WP_OP_REF_FUNC:
        return op_ref_func(v);
    case WP_OP_PREFIX_FC:
        return op_fc(v);
    case WP_OP_PREFIX_FD:
        return keep(v, wp__bin_simd(v->err, v->op_off));
    default:
        if (!info->name)
            return fail(v, "illegal opcode");
        return op_plain(v, info);
    }
}

static wp_status check_body(vctx *v, const wp_funcdecl *fd) {
    const wp_module *m = v->m;
    v->fd = fd;
    v->ft = &m->types[fd->type];
    v->rd = rd_init(m->bytes, m->bytes + fd->body_offset, m->bytes + fd->body_end);
    v->nvals = 0;
    v->nctrls = 0;
    v->op_off = fd->body_offset;
    v->op_name = "function";
    ctrl fn = {.results = bytes_of(v, v->ft) + v->ft->nparams, .nresults = v->ft->nresults};
    push_ctrl(v, WP_OP_END, &fn);
    while (v->st == WP_OK && v->nctrls > 0) {
        uint8_t op = 0;
        v->op_off = rd_offset(&v->rd);
        if (!rd_u8(&v->rd, &op))
            return wp__bin_invalid(v->err, v->op_off, "END opcode expected");
        check_op(v, op);
    }
    if (v->st == WP_OK && !rd_done(&v->rd))
        return wp__bin_invalid(v->err, rd_offset(&v->rd),
                               "section size mismatch (bytes after the function's end)");
    return v->st;
}

/* The module's type lists as bytes, for memcmp against the operand stack. */
static wp_status make_type_bytes(vctx *v) {
    const wp_module *m = v->m;
    size_t n = 0;
    for (uint32_t i = 0; i < m->ntypes; i++)
        n += (size_t)m->types[i].nparams + m->types[i].nresults;
    if (!(v->type_bytes = wp_heap_alloc(m->heap, n)))
        return wp_err_set(v->err, WP_ERR_NOMEM, "out of memory");
    v->ntype_bytes = n;
    for (size_t i = 0; i < n; i++)
        v->type_bytes[i] = (uint8_t)m->type_storage[i];
    return WP_OK;
}

wp_status wp__validate_code(const wp_module *m, wp_err *err) {
    vctx v = {.m = m, .heap = m->heap, .err = err, .st = WP_OK};
    wp_status st = make_type_bytes(&v);
    for (uint32_t i = m->nimported_funcs; i < m->nfuncs && st == WP_OK; i++)
        st = check_body(&v, &m->funcs[i]);
    wp_heap_free(m->heap, v.type_bytes, v.ntype_bytes);
    wp_heap_free(m->heap, v.vals, v.cap_vals);
    wp_heap_free(m->heap, v.ctrls, v.cap_ctrls * sizeof *v.ctrls);
    return st;
}
