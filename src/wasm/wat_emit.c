/* wat_emit.c: pass 2 over module fields, each into its section buffer. */
#include <string.h>

#include "wat_internal.h"

#define KIND_FUNC 0x00
#define KIND_TABLE 0x01
#define KIND_MEM 0x02
#define KIND_GLOBAL 0x03
#define FUNCREF 0x70
#define EXTERNREF 0x6f
#define PAGE_SIZE 65536u

static wp_status nomem(wp_wat_parser *p) { return wp_err_set(p->err, WP_ERR_NOMEM, "out of memory"); }

/* Consumes '(' and the keyword after it (the caller has peeked both). */
static wp_status enter(wp_wat_parser *p) {
    wp_status st = wp__wat_advance(p);
    return st != WP_OK ? st : wp__wat_advance(p);
}

/* Skips an identifier already registered in pass 1. */
static wp_status skip_id(wp_wat_parser *p) {
    return p->tok.kind == WP_WAT_ID ? wp__wat_advance(p) : WP_OK;
}

/* A name string: its UTF-8 bytes as a vector. */
static wp_status name(wp_wat_parser *p, wp_wat_buf *out) {
    if (p->tok.kind != WP_WAT_STRING)
        return wp__wat_unexpected(p);
    p->scratch.len = 0;
    wp__wat_buf_string(&p->scratch, &p->tok);
    if (!wp_utf8_valid(p->scratch.data, p->scratch.len))
        return wp__wat_fail(p->err, &p->tok, "malformed UTF-8 encoding");
    wp__wat_buf_vec(out, p->scratch.data, p->scratch.len);
    return wp__wat_advance(p);
}

/* Byte strings up to ')', concatenated into p->scratch. */
static wp_status data_strings(wp_wat_parser *p) {
    p->scratch.len = 0;
    wp_status st = WP_OK;
    while (st == WP_OK && p->tok.kind == WP_WAT_STRING) {
        wp__wat_buf_string(&p->scratch, &p->tok);
        st = wp__wat_advance(p);
    }
    return st;
}

/* (export "name")* after an entity's identifier. */
static wp_status inline_exports(wp_wat_parser *p, uint8_t kind, uint32_t index) {
    wp_status st = WP_OK;
    while (st == WP_OK && wp__wat_peek_lpar_kw(p, "export")) {
        if ((st = enter(p)) != WP_OK || (st = name(p, &p->exports)) != WP_OK)
            return st;
        wp__wat_buf_u8(&p->exports, kind);
        wp__wat_buf_uleb(&p->exports, index);
        p->nexports++;
        st = wp__wat_expect_rpar(p);
    }
    return st;
}

/* (import "m" "n") inside an entity: writes the two names; *found tells if it was there. */
static wp_status inline_import(wp_wat_parser *p, bool *found) {
    *found = wp__wat_peek_lpar_kw(p, "import");
    if (!*found)
        return WP_OK;
    wp_status st = enter(p);
    if (st != WP_OK || (st = name(p, &p->imports)) != WP_OK ||
        (st = name(p, &p->imports)) != WP_OK)
        return st;
    p->nimports++;
    return wp__wat_expect_rpar(p);
}

/* ---- Types of entities ----------------------------------------------------------------------- */

static wp_status u32_limit(wp_wat_parser *p, uint64_t *v) {
    const wp_wat_token *t = &p->tok;
    wp_wat_num r = t->kind == WP_WAT_NUMBER ? wp__wat_uint(t->text, t->len, 32, v)
                                            : WP_WAT_NUM_SYNTAX;
    if (r == WP_WAT_NUM_RANGE)
        return wp__wat_fail(p->err, t, "i32 constant out of range");
    if (r != WP_WAT_NUM_OK)
        return wp__wat_unexpected(p);
    return wp__wat_advance(p);
}

static wp_status limits(wp_wat_parser *p, wp_wat_buf *out) {
    uint64_t min;
    uint64_t max;
    wp_status st = u32_limit(p, &min);
    if (st != WP_OK)
        return st;
    bool has_max = p->tok.kind == WP_WAT_NUMBER;
    if (has_max && (st = u32_limit(p, &max)) != WP_OK)
        return st;
    wp__wat_buf_u8(out, has_max ? 1 : 0);
    wp__wat_buf_uleb(out, min);
    if (has_max)
        wp__wat_buf_uleb(out, max);
    return WP_OK;
}

static bool is_reftype(const wp_wat_token *t) {
    return wp__wat_is_kw(t, "funcref") || wp__wat_is_kw(t, "externref");
}

static wp_status reftype(wp_wat_parser *p, uint8_t *out) {
    if (!is_reftype(&p->tok))
        return wp__wat_unexpected(p);
    return wp__wat_valtype(p, out);
}

static wp_status tabletype(wp_wat_parser *p, wp_wat_buf *out) {
    wp_wat_buf lim;
    wp__wat_buf_init(&lim, p->heap);
    uint8_t t;
    wp_status st = limits(p, &lim);
    if (st == WP_OK && (st = reftype(p, &t)) == WP_OK) {
        wp__wat_buf_u8(out, t);
        wp__wat_buf_bytes(out, lim.data, lim.len);
        out->oom |= lim.oom;
    }
    wp__wat_buf_free(&lim);
    return st;
}

static wp_status globaltype(wp_wat_parser *p, wp_wat_buf *out) {
    bool mut = wp__wat_peek_lpar_kw(p, "mut");
    uint8_t t;
    wp_status st = mut ? enter(p) : WP_OK;
    if (st != WP_OK || (st = wp__wat_valtype(p, &t)) != WP_OK)
        return st;
    if (mut && (st = wp__wat_expect_rpar(p)) != WP_OK)
        return st;
    wp__wat_buf_u8(out, t);
    wp__wat_buf_u8(out, mut ? 1 : 0);
    return WP_OK;
}

/* A typeuse of a function or function import; parameter names go to p->locals. */
static wp_status func_typeuse(wp_wat_parser *p, uint32_t *type, uint32_t *nparams) {
    wp__wat_names_clear(&p->locals);
    wp_wat_sig sig;
    wp_status st = wp__wat_sig(p, &p->locals, &sig);
    return st != WP_OK ? st : wp__wat_sig_index(p, &sig, type, nparams);
}

/* A constant expression up to ')', then 'end'. */
static wp_status const_expr(wp_wat_parser *p, wp_wat_buf *out) {
    wp__wat_names_clear(&p->locals);
    p->nlabels = 0;
    wp_status st = wp__wat_instrs(p, out);
    wp__wat_buf_u8(out, 0x0b);
    return st;
}

/* ---- Imports and functions ------------------------------------------------------------------- */

/* (import "m" "n" (kind $id? desc)), after the keyword. */
static wp_status import_field(wp_wat_parser *p) {
    wp_status st;
    if ((st = name(p, &p->imports)) != WP_OK || (st = name(p, &p->imports)) != WP_OK)
        return st;
    p->nimports++;
    if (p->tok.kind != WP_WAT_LPAR)
        return wp__wat_unexpected(p);
    if ((st = wp__wat_advance(p)) != WP_OK)
        return st;
    wp_wat_token kind = p->tok;
    if ((st = wp__wat_advance(p)) != WP_OK || (st = skip_id(p)) != WP_OK)
        return st;
    if (wp__wat_is_kw(&kind, "func")) {
        uint32_t type;
        uint32_t np;
        p->index[WP_WAT_FUNC]++;
        if ((st = func_typeuse(p, &type, &np)) != WP_OK)
            return st;
        wp__wat_buf_u8(&p->imports, KIND_FUNC);
        wp__wat_buf_uleb(&p->imports, type);
    } else if (wp__wat_is_kw(&kind, "table")) {
        p->index[WP_WAT_TABLE]++;
        wp__wat_buf_u8(&p->imports, KIND_TABLE);
        st = tabletype(p, &p->imports);
    } else if (wp__wat_is_kw(&kind, "memory")) {
        p->index[WP_WAT_MEM]++;
        wp__wat_buf_u8(&p->imports, KIND_MEM);
        st = limits(p, &p->imports);
    } else if (wp__wat_is_kw(&kind, "global")) {
        p->index[WP_WAT_GLOBAL]++;
        wp__wat_buf_u8(&p->imports, KIND_GLOBAL);
        st = globaltype(p, &p->imports);
    } else {
        return wp__wat_fail(p->err, &kind, "unexpected token");
    }
    if (st != WP_OK || (st = wp__wat_expect_rpar(p)) != WP_OK)
        return st;
    return wp__wat_expect_rpar(p);
}

/* (local $id t) or (local t*), after the keyword: types appended to types. */
static wp_status local_decl(wp_wat_parser *p, wp_wat_buf *types, uint32_t nparams) {
    wp_status st = WP_OK;
    if (p->tok.kind == WP_WAT_ID) {
        st = wp__wat_names_add(&p->locals, p->heap, p->tok.text, p->tok.len,
                               nparams + (uint32_t)types->len);
        if (st == WP_ERR_ALREADY_EXISTS)
            return wp__wat_fail(p->err, &p->tok, "duplicate local %.*s", (int)p->tok.len,
                                p->tok.text);
        if (st != WP_OK)
            return nomem(p);
        uint8_t t;
        if ((st = wp__wat_advance(p)) != WP_OK || (st = wp__wat_valtype(p, &t)) != WP_OK)
            return st;
        wp__wat_buf_u8(types, t);
        return wp__wat_expect_rpar(p);
    }
    while (st == WP_OK && p->tok.kind != WP_WAT_RPAR) {
        uint8_t t;
        if ((st = wp__wat_valtype(p, &t)) == WP_OK)
            wp__wat_buf_u8(types, t);
    }
    return st != WP_OK ? st : wp__wat_advance(p);
}

/* Locals as runs of one type: count of runs, then (count, type) for each. */
static void local_runs(wp_wat_buf *out, const uint8_t *types, size_t n) {
    size_t runs = 0;
    for (size_t i = 0; i < n; i++)
        runs += i == 0 || types[i] != types[i - 1];
    wp__wat_buf_uleb(out, runs);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && types[j] == types[i])
            j++;
        wp__wat_buf_uleb(out, j - i);
        wp__wat_buf_u8(out, types[i]);
        i = j;
    }
}

/* A function's typeuse, locals and body, after its exports. */
static wp_status func_body(wp_wat_parser *p) {
    uint32_t type;
    uint32_t np;
    wp_status st = func_typeuse(p, &type, &np);
    if (st != WP_OK)
        return st;
    wp__wat_buf_uleb(&p->funcs, type);
    p->scratch.len = 0;
    while (st == WP_OK && wp__wat_peek_lpar_kw(p, "local"))
        if ((st = enter(p)) == WP_OK)
            st = local_decl(p, &p->scratch, np);
    if (st != WP_OK)
        return st;
    p->body.len = 0;
    local_runs(&p->body, p->scratch.data, p->scratch.len);
    p->nlabels = 0;
    if ((st = wp__wat_instrs(p, &p->body)) != WP_OK)
        return st;
    wp__wat_buf_u8(&p->body, 0x0b);
    wp__wat_buf_vec(&p->code, p->body.data, p->body.len);
    return WP_OK;
}

/* (func $id? (export ...)* (import ...)? typeuse local* instr*), after the keyword. */
static wp_status func_field(wp_wat_parser *p) {
    uint32_t index = p->index[WP_WAT_FUNC]++;
    bool imported;
    wp_status st = skip_id(p);
    if (st != WP_OK || (st = inline_exports(p, KIND_FUNC, index)) != WP_OK ||
        (st = inline_import(p, &imported)) != WP_OK)
        return st;
    if (imported) {
        uint32_t type;
        uint32_t np;
        if ((st = func_typeuse(p, &type, &np)) != WP_OK)
            return st;
        wp__wat_buf_u8(&p->imports, KIND_FUNC);
        wp__wat_buf_uleb(&p->imports, type);
    } else if ((st = func_body(p)) != WP_OK) {
        return st;
    } else {
        p->ndefs[WP_WAT_FUNC]++;
    }
    return wp__wat_expect_rpar(p);
}

/* The offset of inline segments: i32.const 0, end. */
static void zero_offset(wp_wat_parser *p, wp_wat_buf *b) {
    static const uint8_t code[] = {0x41, 0x00, 0x0b};
    wp__wat_buf_init(b, p->heap);
    wp__wat_buf_bytes(b, code, sizeof code);
}

/* ---- Element segments ------------------------------------------------------------------------ */

typedef enum seg_mode { SEG_ACTIVE, SEG_PASSIVE, SEG_DECLARED } seg_mode;

/* Element items: as expressions (each with its 'end'), and as function indices while every
 * item is a plain ref.func, which allows the compact encodings. */
typedef struct elem_list {
    uint8_t type;
    uint32_t n;
    bool all_funcs;
    wp_wat_buf funcs;
    wp_wat_buf exprs;
} elem_list;

static void list_init(elem_list *l, wp_heap *h, uint8_t type) {
    l->type = type;
    l->n = 0;
    l->all_funcs = true;
    wp__wat_buf_init(&l->funcs, h);
    wp__wat_buf_init(&l->exprs, h);
}

static void list_free(elem_list *l) {
    wp__wat_buf_free(&l->funcs);
    wp__wat_buf_free(&l->exprs);
}

/* If bytes are exactly "ref.func x", appends x to the function list. */
static void note_ref_func(elem_list *l, const uint8_t *b, size_t n) {
    size_t i = 1;
    while (i < n && (b[i] & 0x80))
        i++;
    if (n < 2 || b[0] != 0xd2 || i + 1 != n) {
        l->all_funcs = false;
        return;
    }
    wp__wat_buf_bytes(&l->funcs, b + 1, n - 1);
}

/* Function indices up to ')'. */
static wp_status elem_funcs(wp_wat_parser *p, elem_list *l) {
    wp_status st = WP_OK;
    while (st == WP_OK && (p->tok.kind == WP_WAT_ID || p->tok.kind == WP_WAT_NUMBER)) {
        uint32_t f;
        if ((st = wp__wat_index(p, WP_WAT_FUNC, &f)) != WP_OK)
            return st;
        wp__wat_buf_uleb(&l->funcs, f);
        wp__wat_buf_u8(&l->exprs, 0xd2);
        wp__wat_buf_uleb(&l->exprs, f);
        wp__wat_buf_u8(&l->exprs, 0x0b);
        l->n++;
    }
    return st;
}

/* Item expressions up to ')': (item instr*) or one folded instruction each. */
static wp_status elem_exprs(wp_wat_parser *p, elem_list *l) {
    wp_status st = WP_OK;
    wp__wat_names_clear(&p->locals);
    p->nlabels = 0;
    while (st == WP_OK && p->tok.kind == WP_WAT_LPAR) {
        size_t start = l->exprs.len;
        if (wp__wat_peek_lpar_kw(p, "item")) {
            if ((st = enter(p)) == WP_OK && (st = wp__wat_instrs(p, &l->exprs)) == WP_OK)
                st = wp__wat_advance(p);
        } else {
            st = wp__wat_folded(p, &l->exprs);
        }
        if (st == WP_OK && !l->exprs.oom)
            note_ref_func(l, l->exprs.data + start, l->exprs.len - start);
        wp__wat_buf_u8(&l->exprs, 0x0b);
        l->n++;
    }
    return st;
}

/* An elemlist: 'func' x*, reftype item*, or x* alone (the old form). */
static wp_status elem_list_parse(wp_wat_parser *p, elem_list *l) {
    if (wp__wat_is_kw(&p->tok, "func")) {
        wp_status st = wp__wat_advance(p);
        return st != WP_OK ? st : elem_funcs(p, l);
    }
    if (is_reftype(&p->tok)) {
        wp_status st = wp__wat_valtype(p, &l->type);
        return st != WP_OK ? st : elem_exprs(p, l);
    }
    return elem_funcs(p, l);
}

/* The segment in the most compact of the eight encodings that holds it. */
static void elem_write(wp_wat_parser *p, seg_mode mode, uint32_t table, const wp_wat_buf *offset,
                       const elem_list *l) {
    bool funcs = l->all_funcs && l->type == FUNCREF;
    uint32_t flags = mode == SEG_ACTIVE ? 0 : mode == SEG_PASSIVE ? 1 : 3;
    if (mode == SEG_ACTIVE && (table != 0 || l->type != FUNCREF))
        flags = 2;
    if (!funcs)
        flags |= 4;
    wp_wat_buf *out = &p->elems;
    wp__wat_buf_uleb(out, flags);
    if (flags == 2 || flags == 6)
        wp__wat_buf_uleb(out, table);
    if (mode == SEG_ACTIVE)
        wp__wat_buf_bytes(out, offset->data, offset->len);
    if (flags == 1 || flags == 2 || flags == 3)
        wp__wat_buf_u8(out, 0x00); /* elemkind: funcref */
    if (flags == 5 || flags == 6 || flags == 7)
        wp__wat_buf_u8(out, l->type);
    wp__wat_buf_uleb(out, l->n);
    const wp_wat_buf *items = funcs ? &l->funcs : &l->exprs;
    wp__wat_buf_bytes(out, items->data, items->len);
    out->oom |= offset->oom || l->funcs.oom || l->exprs.oom;
}

/* An offset: (offset instr*) or one folded instruction; written with its 'end'. */
static wp_status offset_expr(wp_wat_parser *p, wp_wat_buf *out) {
    wp__wat_names_clear(&p->locals);
    p->nlabels = 0;
    wp_status st;
    if (wp__wat_peek_lpar_kw(p, "offset")) {
        if ((st = enter(p)) != WP_OK || (st = wp__wat_instrs(p, out)) != WP_OK ||
            (st = wp__wat_advance(p)) != WP_OK)
            return st;
    } else if (p->tok.kind == WP_WAT_LPAR) {
        if ((st = wp__wat_folded(p, out)) != WP_OK)
            return st;
    } else {
        return wp__wat_unexpected(p);
    }
    wp__wat_buf_u8(out, 0x0b);
    return WP_OK;
}

/* (elem $id? (declare | (table x)? offset)? elemlist), after the keyword. */
static wp_status elem_body(wp_wat_parser *p, wp_wat_buf *offset, elem_list *l) {
    seg_mode mode = SEG_PASSIVE;
    uint32_t table = 0;
    wp_status st = skip_id(p);
    if (st == WP_OK && wp__wat_is_kw(&p->tok, "declare")) {
        mode = SEG_DECLARED;
        st = wp__wat_advance(p);
    } else if (st == WP_OK && wp__wat_peek_lpar_kw(p, "table")) {
        mode = SEG_ACTIVE;
        if ((st = enter(p)) == WP_OK && (st = wp__wat_index(p, WP_WAT_TABLE, &table)) == WP_OK)
            st = wp__wat_expect_rpar(p);
        if (st == WP_OK)
            st = offset_expr(p, offset);
    } else if (st == WP_OK && p->tok.kind == WP_WAT_LPAR) {
        mode = SEG_ACTIVE;
        st = offset_expr(p, offset);
    }
    if (st != WP_OK || (st = elem_list_parse(p, l)) != WP_OK)
        return st;
    elem_write(p, mode, table, offset, l);
    return wp__wat_expect_rpar(p);
}

static wp_status elem_field(wp_wat_parser *p) {
    p->index[WP_WAT_ELEM]++;
    wp_wat_buf offset;
    elem_list l;
    wp__wat_buf_init(&offset, p->heap);
    list_init(&l, p->heap, FUNCREF);
    wp_status st = elem_body(p, &offset, &l);
    wp__wat_buf_free(&offset);
    list_free(&l);
    return st;
}

/* ---- Tables, memories, globals ---------------------------------------------------------------- */

/* reftype (elem ...) after a table's exports: a table sized to fit, and its active segment. */
static wp_status table_with_elems(wp_wat_parser *p, uint32_t table) {
    elem_list l;
    list_init(&l, p->heap, FUNCREF);
    wp_wat_buf offset;
    zero_offset(p, &offset);
    wp_status st = wp__wat_valtype(p, &l.type);
    if (st == WP_OK && (st = enter(p)) == WP_OK) {
        st = p->tok.kind == WP_WAT_LPAR ? elem_exprs(p, &l) : elem_funcs(p, &l);
        if (st == WP_OK)
            st = wp__wat_expect_rpar(p);
    }
    if (st == WP_OK) {
        wp__wat_buf_u8(&p->tables, l.type);
        wp__wat_buf_u8(&p->tables, 1);
        wp__wat_buf_uleb(&p->tables, l.n);
        wp__wat_buf_uleb(&p->tables, l.n);
        p->index[WP_WAT_ELEM]++;
        elem_write(p, SEG_ACTIVE, table, &offset, &l);
    }
    list_free(&l);
    wp__wat_buf_free(&offset);
    return st;
}

/* (table $id? (export ...)* ((import ...) tabletype | tabletype | reftype (elem ...))). */
static wp_status table_field(wp_wat_parser *p) {
    uint32_t index = p->index[WP_WAT_TABLE]++;
    bool imported;
    wp_status st = skip_id(p);
    if (st != WP_OK || (st = inline_exports(p, KIND_TABLE, index)) != WP_OK ||
        (st = inline_import(p, &imported)) != WP_OK)
        return st;
    if (imported) {
        wp__wat_buf_u8(&p->imports, KIND_TABLE);
        st = tabletype(p, &p->imports);
    } else {
        p->ndefs[WP_WAT_TABLE]++;
        st = is_reftype(&p->tok) ? table_with_elems(p, index) : tabletype(p, &p->tables);
    }
    return st != WP_OK ? st : wp__wat_expect_rpar(p);
}

/* A data segment's header and bytes (from p->scratch). */
static void data_write(wp_wat_parser *p, seg_mode mode, uint32_t mem, const wp_wat_buf *offset) {
    wp_wat_buf *out = &p->datas;
    if (mode == SEG_PASSIVE) {
        wp__wat_buf_u8(out, 1);
    } else if (mem == 0) {
        wp__wat_buf_u8(out, 0);
    } else {
        wp__wat_buf_u8(out, 2);
        wp__wat_buf_uleb(out, mem);
    }
    if (mode == SEG_ACTIVE)
        wp__wat_buf_bytes(out, offset->data, offset->len);
    wp__wat_buf_vec(out, p->scratch.data, p->scratch.len);
    out->oom |= offset->oom || p->scratch.oom;
}

/* (data "..."*) in a memory: the memory is just big enough, and gets the segment at 0. */
static wp_status memory_with_data(wp_wat_parser *p, uint32_t mem) {
    wp_status st = enter(p);
    if (st != WP_OK || (st = data_strings(p)) != WP_OK || (st = wp__wat_expect_rpar(p)) != WP_OK)
        return st;
    wp_wat_buf offset;
    zero_offset(p, &offset);
    uint64_t pages = ((uint64_t)p->scratch.len + PAGE_SIZE - 1) / PAGE_SIZE;
    wp__wat_buf_u8(&p->mems, 1);
    wp__wat_buf_uleb(&p->mems, pages);
    wp__wat_buf_uleb(&p->mems, pages);
    p->index[WP_WAT_DATA]++;
    data_write(p, SEG_ACTIVE, mem, &offset);
    wp__wat_buf_free(&offset);
    return WP_OK;
}

/* (memory $id? (export ...)* ((import ...) limits | limits | (data ...))). */
static wp_status memory_field(wp_wat_parser *p) {
    uint32_t index = p->index[WP_WAT_MEM]++;
    bool imported;
    wp_status st = skip_id(p);
    if (st != WP_OK || (st = inline_exports(p, KIND_MEM, index)) != WP_OK ||
        (st = inline_import(p, &imported)) != WP_OK)
        return st;
    if (imported) {
        wp__wat_buf_u8(&p->imports, KIND_MEM);
        st = limits(p, &p->imports);
    } else {
        p->ndefs[WP_WAT_MEM]++;
        st = wp__wat_peek_lpar_kw(p, "data") ? memory_with_data(p, index) : limits(p, &p->mems);
    }
    return st != WP_OK ? st : wp__wat_expect_rpar(p);
}

/* (global $id? (export ...)* ((import ...) globaltype | globaltype expr)). */
static wp_status global_field(wp_wat_parser *p) {
    uint32_t index = p->index[WP_WAT_GLOBAL]++;
    bool imported;
    wp_status st = skip_id(p);
    if (st != WP_OK || (st = inline_exports(p, KIND_GLOBAL, index)) != WP_OK ||
        (st = inline_import(p, &imported)) != WP_OK)
        return st;
    if (imported) {
        wp__wat_buf_u8(&p->imports, KIND_GLOBAL);
        st = globaltype(p, &p->imports);
    } else if ((st = globaltype(p, &p->globals)) == WP_OK) {
        p->ndefs[WP_WAT_GLOBAL]++;
        st = const_expr(p, &p->globals);
    }
    return st != WP_OK ? st : wp__wat_expect_rpar(p);
}

/* ---- Exports, start, data --------------------------------------------------------------------- */

static wp_status export_field(wp_wat_parser *p) {
    static const struct {
        const char *kw;
        wp_wat_space space;
        uint8_t kind;
    } kinds[] = {{"func", WP_WAT_FUNC, KIND_FUNC},
                 {"table", WP_WAT_TABLE, KIND_TABLE},
                 {"memory", WP_WAT_MEM, KIND_MEM},
                 {"global", WP_WAT_GLOBAL, KIND_GLOBAL}};
    wp_status st = name(p, &p->exports);
    if (st != WP_OK)
        return st;
    if (p->tok.kind != WP_WAT_LPAR)
        return wp__wat_unexpected(p);
    if ((st = wp__wat_advance(p)) != WP_OK)
        return st;
    for (size_t i = 0; i < WP_ARRAY_LEN(kinds); i++) {
        if (!wp__wat_is_kw(&p->tok, kinds[i].kw))
            continue;
        uint32_t index;
        if ((st = wp__wat_advance(p)) != WP_OK ||
            (st = wp__wat_index(p, kinds[i].space, &index)) != WP_OK)
            return st;
        wp__wat_buf_u8(&p->exports, kinds[i].kind);
        wp__wat_buf_uleb(&p->exports, index);
        p->nexports++;
        if ((st = wp__wat_expect_rpar(p)) != WP_OK)
            return st;
        return wp__wat_expect_rpar(p);
    }
    return wp__wat_unexpected(p);
}

static wp_status start_field(wp_wat_parser *p, const wp_wat_token *at) {
    if (p->has_start)
        return wp__wat_fail(p->err, at, "multiple start sections");
    p->has_start = true;
    wp_status st = wp__wat_index(p, WP_WAT_FUNC, &p->start);
    return st != WP_OK ? st : wp__wat_expect_rpar(p);
}

/* (data $id? ((memory x)? offset)? "..."*), after the keyword. */
static wp_status data_body(wp_wat_parser *p, wp_wat_buf *offset) {
    seg_mode mode = SEG_PASSIVE;
    uint32_t mem = 0;
    wp_status st = skip_id(p);
    if (st == WP_OK && wp__wat_peek_lpar_kw(p, "memory")) {
        mode = SEG_ACTIVE;
        if ((st = enter(p)) == WP_OK && (st = wp__wat_index(p, WP_WAT_MEM, &mem)) == WP_OK)
            st = wp__wat_expect_rpar(p);
        if (st == WP_OK)
            st = offset_expr(p, offset);
    } else if (st == WP_OK && p->tok.kind == WP_WAT_LPAR) {
        mode = SEG_ACTIVE;
        st = offset_expr(p, offset);
    }
    if (st != WP_OK || (st = data_strings(p)) != WP_OK)
        return st;
    data_write(p, mode, mem, offset);
    return wp__wat_expect_rpar(p);
}

static wp_status data_field(wp_wat_parser *p) {
    p->index[WP_WAT_DATA]++;
    wp_wat_buf offset;
    wp__wat_buf_init(&offset, p->heap);
    wp_status st = data_body(p, &offset);
    wp__wat_buf_free(&offset);
    return st;
}

/* ---- The field loop ---------------------------------------------------------------------------- */

static bool any_oom(const wp_wat_parser *p) {
    const wp_wat_buf *bufs[] = {&p->imports, &p->funcs, &p->tables,   &p->mems,
                                &p->globals, &p->exports, &p->elems,  &p->code,
                                &p->datas,   &p->body,  &p->scratch, &p->type_pool};
    for (size_t i = 0; i < WP_ARRAY_LEN(bufs); i++)
        if (bufs[i]->oom)
            return true;
    return false;
}

static wp_status field(wp_wat_parser *p, const wp_wat_token *at) {
    wp_wat_token kw = p->tok;
    wp_status st = wp__wat_advance(p);
    if (st != WP_OK)
        return st;
    if (wp__wat_is_kw(&kw, "type"))
        return wp__wat_skip_field(p);
    if (wp__wat_is_kw(&kw, "import"))
        return import_field(p);
    if (wp__wat_is_kw(&kw, "func"))
        return func_field(p);
    if (wp__wat_is_kw(&kw, "table"))
        return table_field(p);
    if (wp__wat_is_kw(&kw, "memory"))
        return memory_field(p);
    if (wp__wat_is_kw(&kw, "global"))
        return global_field(p);
    if (wp__wat_is_kw(&kw, "export"))
        return export_field(p);
    if (wp__wat_is_kw(&kw, "start"))
        return start_field(p, at);
    if (wp__wat_is_kw(&kw, "elem"))
        return elem_field(p);
    if (wp__wat_is_kw(&kw, "data"))
        return data_field(p);
    return wp__wat_fail(p->err, &kw, "unexpected token"); /* pass 1 saw it first */
}

wp_status wp__wat_emit(wp_wat_parser *p) {
    wp_status st = WP_OK;
    while (st == WP_OK && p->tok.kind == WP_WAT_LPAR) {
        wp_wat_token at = p->tok;
        if ((st = wp__wat_advance(p)) == WP_OK)
            st = field(p, &at);
        if (st == WP_OK && any_oom(p))
            st = nomem(p);
    }
    return st;
}
