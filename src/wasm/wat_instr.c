/* wat_instr.c: instructions, plain and folded, with labels, locals and immediates, to code. */
#include <inttypes.h>
#include <string.h>

#include "wat_internal.h"

/* ---- The instruction table (opcodes.def) ----------------------------------------------------- */

typedef enum imm {
    IMM_NONE,
    IMM_BLOCKTYPE,
    IMM_LABEL,
    IMM_BR_TABLE,
    IMM_FUNC,
    IMM_CALL_INDIRECT,
    IMM_LOCAL,
    IMM_GLOBAL,
    IMM_TABLE,
    IMM_MEMARG,
    IMM_MEMIDX,
    IMM_I32,
    IMM_I64,
    IMM_F32,
    IMM_F64,
    IMM_SELECT_T,
    IMM_REFTYPE,
    IMM_DATA,
    IMM_ELEM,
    IMM_DATA_MEM,
    IMM_ELEM_TABLE,
    IMM_MEM_MEM,
    IMM_TABLE_TABLE,
} imm;

typedef struct op {
    const char *name;
    uint8_t len;    /* strlen(name) */
    uint8_t prefix; /* 0, or 0xfc */
    uint8_t code;
    uint8_t imm;
    uint8_t access; /* natural alignment of loads and stores, in bytes */
} op;

static const op ops[] = {
#define WP_OP(byte, ident, name, im, sig, size) {name, sizeof name - 1, 0, byte, IMM_##im, size},
#define WP_OPFC(sub, ident, name, im, sig) {name, sizeof name - 1, 0xfc, sub, IMM_##im, 0},
#include "opcodes.def"
};

static const op *find_op(const wp_wat_token *t) {
    for (size_t i = 0; i < WP_ARRAY_LEN(ops); i++)
        if (ops[i].len == t->len && memcmp(ops[i].name, t->text, t->len) == 0)
            return &ops[i];
    return NULL;
}

static bool is_simd_op(const wp_wat_token *t) {
    static const char *const prefixes[] = {"v128.", "i8x16.", "i16x8.", "i32x4.",
                                           "i64x2.", "f32x4.", "f64x2.", "v8x16."};
    for (size_t i = 0; i < WP_ARRAY_LEN(prefixes); i++) {
        size_t n = strlen(prefixes[i]);
        if (t->len > n && memcmp(t->text, prefixes[i], n) == 0)
            return true;
    }
    return false;
}

/* Words that start a clause, not an instruction: seeing one where an instruction should be is
 * a misplaced token rather than an unknown operator. */
static bool is_clause_kw(const wp_wat_token *t) {
    static const char *const words[] = {"type",  "param", "result", "local", "then",
                                        "else",  "end",   "item",   "offset", "export",
                                        "import", "mut"};
    for (size_t i = 0; i < WP_ARRAY_LEN(words); i++)
        if (wp__wat_is_kw(t, words[i]))
            return true;
    return false;
}

static wp_status unknown_op(wp_wat_parser *p) {
    const wp_wat_token *t = &p->tok;
    if (is_simd_op(t))
        return wp_err_set(p->err, WP_ERR_UNSUPPORTED,
                          "line %" PRIu32 ", column %" PRIu32 ": SIMD is not supported: %.*s",
                          t->line, t->col, (int)t->len, t->text);
    if (t->kind != WP_WAT_KEYWORD || is_clause_kw(t))
        return wp__wat_unexpected(p);
    return wp__wat_fail(p->err, t, "unknown operator %.*s", (int)t->len, t->text);
}

/* ---- Labels and locals ----------------------------------------------------------------------- */

static wp_status push_label(wp_wat_parser *p, const wp_wat_token *id) {
    if (p->nlabels == p->labels_cap) {
        uint32_t cap = p->labels_cap ? p->labels_cap * 2 : 16;
        wp_wat_label *l = wp_heap_realloc(p->heap, p->labels, p->labels_cap * sizeof *l,
                                          cap * sizeof *l);
        if (!l)
            return wp_err_set(p->err, WP_ERR_NOMEM, "out of memory");
        p->labels = l;
        p->labels_cap = cap;
    }
    p->labels[p->nlabels++] = id ? (wp_wat_label){id->text, id->len} : (wp_wat_label){NULL, 0};
    return WP_OK;
}

/* An optional $label after block, loop or if. */
static wp_status open_label(wp_wat_parser *p) {
    if (p->tok.kind != WP_WAT_ID)
        return push_label(p, NULL);
    wp_status st = push_label(p, &p->tok);
    return st != WP_OK ? st : wp__wat_advance(p);
}

/* An optional $label after else or end must repeat the block's label. */
static wp_status close_label(wp_wat_parser *p) {
    if (p->tok.kind != WP_WAT_ID)
        return WP_OK;
    const wp_wat_label *l = &p->labels[p->nlabels - 1];
    if (!l->text || l->len != p->tok.len || memcmp(l->text, p->tok.text, l->len) != 0)
        return wp__wat_fail(p->err, &p->tok, "mismatching label");
    return wp__wat_advance(p);
}

/* A bare u32: label depths and local indices, which have no index space of the module. */
static wp_status u32_token(wp_wat_parser *p, uint32_t *v) {
    uint64_t x;
    wp_wat_num r = p->tok.kind == WP_WAT_NUMBER ? wp__wat_uint(p->tok.text, p->tok.len, 32, &x)
                                                : WP_WAT_NUM_SYNTAX;
    if (r == WP_WAT_NUM_RANGE)
        return wp__wat_fail(p->err, &p->tok, "i32 constant out of range");
    if (r != WP_WAT_NUM_OK)
        return wp__wat_not_number(p);
    *v = (uint32_t)x;
    return wp__wat_advance(p);
}

static wp_status label_index(wp_wat_parser *p, uint32_t *depth) {
    if (p->tok.kind != WP_WAT_ID)
        return u32_token(p, depth);
    for (uint32_t i = p->nlabels; i-- > 0;) {
        const wp_wat_label *l = &p->labels[i];
        if (l->text && l->len == p->tok.len && memcmp(l->text, p->tok.text, l->len) == 0) {
            *depth = p->nlabels - 1 - i;
            return wp__wat_advance(p);
        }
    }
    return wp__wat_fail(p->err, &p->tok, "unknown label %.*s", (int)p->tok.len, p->tok.text);
}

static wp_status local_index(wp_wat_parser *p, uint32_t *index) {
    if (p->tok.kind != WP_WAT_ID)
        return u32_token(p, index);
    if (!wp__wat_names_find(&p->locals, p->tok.text, p->tok.len, index))
        return wp__wat_fail(p->err, &p->tok, "unknown local %.*s", (int)p->tok.len, p->tok.text);
    return wp__wat_advance(p);
}

static bool at_index(const wp_wat_parser *p) {
    return p->tok.kind == WP_WAT_ID || p->tok.kind == WP_WAT_NUMBER;
}

/* ---- Immediates ------------------------------------------------------------------------------ */

static wp_status emit_index(wp_wat_parser *p, wp_wat_space space, wp_wat_buf *out) {
    uint32_t v;
    wp_status st = wp__wat_index(p, space, &v);
    if (st == WP_OK)
        wp__wat_buf_uleb(out, v);
    return st;
}

static wp_status emit_label(wp_wat_parser *p, wp_wat_buf *out) {
    uint32_t v;
    wp_status st = label_index(p, &v);
    if (st == WP_OK)
        wp__wat_buf_uleb(out, v);
    return st;
}

/* An optional table index (default 0). */
static wp_status emit_opt_table(wp_wat_parser *p, wp_wat_buf *out) {
    if (!at_index(p)) {
        wp__wat_buf_u8(out, 0);
        return WP_OK;
    }
    return emit_index(p, WP_WAT_TABLE, out);
}

static wp_status br_table(wp_wat_parser *p, wp_wat_buf *out) {
    wp_wat_buf labels;
    wp__wat_buf_init(&labels, p->heap);
    uint32_t n = 0;
    wp_status st = WP_OK;
    while (st == WP_OK && at_index(p)) {
        st = emit_label(p, &labels);
        n++;
    }
    if (st == WP_OK && n == 0)
        st = wp__wat_unexpected(p);
    if (st == WP_OK) {
        wp__wat_buf_uleb(out, n - 1); /* the last label is the default, after the vector */
        wp__wat_buf_bytes(out, labels.data, labels.len);
        if (labels.oom)
            out->oom = true;
    }
    wp__wat_buf_free(&labels);
    return st;
}

static wp_status call_indirect(wp_wat_parser *p, wp_wat_buf *out) {
    uint32_t table = 0;
    wp_status st = at_index(p) ? wp__wat_index(p, WP_WAT_TABLE, &table) : WP_OK;
    wp_wat_sig sig;
    uint32_t type;
    uint32_t np;
    if (st != WP_OK || (st = wp__wat_sig(p, NULL, &sig)) != WP_OK ||
        (st = wp__wat_sig_index(p, &sig, &type, &np)) != WP_OK)
        return st;
    wp__wat_buf_uleb(out, type);
    wp__wat_buf_uleb(out, table);
    return WP_OK;
}

/* memarg: offset=N? align=N?, N a u32; align a power of two (written as its log2). */
static wp_status memarg(wp_wat_parser *p, const op *o, wp_wat_buf *out) {
    uint64_t offset = 0;
    uint64_t align = o->access;
    wp_status st = WP_OK;
    for (int which = 0; which < 2 && st == WP_OK; which++) {
        const char *key = which == 0 ? "offset=" : "align=";
        size_t klen = strlen(key);
        const wp_wat_token *t = &p->tok;
        if (t->kind != WP_WAT_KEYWORD || t->len <= klen || memcmp(t->text, key, klen) != 0)
            continue;
        uint64_t *v = which == 0 ? &offset : &align;
        wp_wat_num r = wp__wat_uint(t->text + klen, t->len - klen, 32, v);
        if (r == WP_WAT_NUM_RANGE)
            return wp__wat_fail(p->err, t, "i32 constant out of range");
        if (r != WP_WAT_NUM_OK)
            return wp__wat_unexpected(p);
        if (which == 1 && (align == 0 || (align & (align - 1)) != 0))
            return wp__wat_fail(p->err, t, "alignment must be a power of two");
        st = wp__wat_advance(p);
    }
    uint32_t log2 = 0;
    while ((UINT64_C(1) << log2) < align)
        log2++;
    wp__wat_buf_uleb(out, log2);
    wp__wat_buf_uleb(out, offset);
    return st;
}

static wp_status int_const(wp_wat_parser *p, unsigned bits, wp_wat_buf *out) {
    uint64_t v;
    const wp_wat_token *t = &p->tok;
    bool numeric = t->kind == WP_WAT_NUMBER;
    wp_wat_num r = numeric ? wp__wat_int(t->text, t->len, bits, &v) : WP_WAT_NUM_SYNTAX;
    if (r == WP_WAT_NUM_RANGE)
        return wp__wat_fail(p->err, t, "constant out of range");
    if (r != WP_WAT_NUM_OK)
        return wp__wat_not_number(p);
    if (bits == 32)
        wp__wat_buf_sleb(out, (int32_t)(uint32_t)v);
    else
        wp__wat_buf_sleb(out, (int64_t)v);
    return wp__wat_advance(p);
}

static wp_status float_const(wp_wat_parser *p, bool is_f64, wp_wat_buf *out) {
    uint64_t v;
    const wp_wat_token *t = &p->tok;
    bool numeric = t->kind == WP_WAT_NUMBER || t->kind == WP_WAT_KEYWORD;
    wp_wat_num r = numeric ? wp__wat_float(t->text, t->len, is_f64, &v) : WP_WAT_NUM_SYNTAX;
    if (r == WP_WAT_NUM_RANGE)
        return wp__wat_fail(p->err, t, "constant out of range");
    /* "nan:1" starts like a number; "nan:canonical" is a spec-test pattern, not a literal. */
    bool nan_pattern = wp__wat_is_kw(t, "nan:canonical") || wp__wat_is_kw(t, "nan:arithmetic");
    bool number_like = t->kind == WP_WAT_NUMBER ||
                       (t->len > 3 && (memcmp(t->text, "nan", 3) == 0 ||
                                       memcmp(t->text, "inf", 3) == 0) && !nan_pattern);
    if (r != WP_WAT_NUM_OK && number_like)
        return wp__wat_fail(p->err, t, "unknown operator");
    if (r != WP_WAT_NUM_OK)
        return wp__wat_unexpected(p);
    uint8_t bytes[8];
    for (int i = 0; i < 8; i++)
        bytes[i] = (uint8_t)(v >> (8 * i));
    wp__wat_buf_bytes(out, bytes, is_f64 ? 8 : 4);
    return wp__wat_advance(p);
}

static wp_status heaptype(wp_wat_parser *p, wp_wat_buf *out) {
    if (wp__wat_is_kw(&p->tok, "func"))
        wp__wat_buf_u8(out, 0x70);
    else if (wp__wat_is_kw(&p->tok, "extern"))
        wp__wat_buf_u8(out, 0x6f);
    else
        return wp__wat_unexpected(p);
    return wp__wat_advance(p);
}

/* select, or select with (result t*) as the typed form 0x1c. */
static wp_status select_op(wp_wat_parser *p, wp_wat_buf *out) {
    if (!wp__wat_peek_lpar_kw(p, "result")) {
        wp__wat_buf_u8(out, 0x1b);
        return WP_OK;
    }
    wp_wat_buf types;
    wp__wat_buf_init(&types, p->heap);
    uint32_t n = 0;
    wp_status st = WP_OK;
    while (st == WP_OK && wp__wat_peek_lpar_kw(p, "result")) {
        if ((st = wp__wat_advance(p)) == WP_OK)
            st = wp__wat_advance(p);
        while (st == WP_OK && p->tok.kind != WP_WAT_RPAR) {
            uint8_t t;
            if ((st = wp__wat_valtype(p, &t)) == WP_OK)
                wp__wat_buf_u8(&types, t);
            n++;
        }
        if (st == WP_OK)
            st = wp__wat_advance(p);
    }
    if (st == WP_OK) {
        wp__wat_buf_u8(out, 0x1c);
        wp__wat_buf_uleb(out, n);
        wp__wat_buf_bytes(out, types.data, types.len);
        out->oom |= types.oom;
    }
    wp__wat_buf_free(&types);
    return st;
}

/* True if the token after the current one is an index too. */
static bool next_is_index(wp_wat_parser *p) {
    wp_wat_lexer lx = p->lx;
    wp_wat_token next;
    if (wp__wat_lex(&lx, &next, NULL) != WP_OK)
        return false;
    return next.kind == WP_WAT_ID || next.kind == WP_WAT_NUMBER;
}

/* table.init x y (table x, element y) or table.init y (table 0); written element first. */
static wp_status table_init(wp_wat_parser *p, wp_wat_buf *out) {
    uint32_t table = 0;
    uint32_t elem;
    wp_status st = WP_OK;
    if (next_is_index(p))
        st = wp__wat_index(p, WP_WAT_TABLE, &table);
    if (st != WP_OK || (st = wp__wat_index(p, WP_WAT_ELEM, &elem)) != WP_OK)
        return st;
    wp__wat_buf_uleb(out, elem);
    wp__wat_buf_uleb(out, table);
    return WP_OK;
}

/* table.copy x y (destination, source) or table.copy (both 0). */
static wp_status table_copy(wp_wat_parser *p, wp_wat_buf *out) {
    if (!at_index(p)) {
        wp__wat_buf_u8(out, 0);
        wp__wat_buf_u8(out, 0);
        return WP_OK;
    }
    wp_status st = emit_index(p, WP_WAT_TABLE, out);
    return st != WP_OK ? st : emit_index(p, WP_WAT_TABLE, out);
}

/* Reads the immediates of o (the keyword is already consumed) and writes them to out. */
static wp_status immediates(wp_wat_parser *p, const op *o, wp_wat_buf *out) {
    switch ((imm)o->imm) {
    case IMM_NONE:
        return WP_OK;
    case IMM_LABEL:
        return emit_label(p, out);
    case IMM_BR_TABLE:
        return br_table(p, out);
    case IMM_FUNC:
        return emit_index(p, WP_WAT_FUNC, out);
    case IMM_CALL_INDIRECT:
        return call_indirect(p, out);
    case IMM_LOCAL: {
        uint32_t v;
        wp_status st = local_index(p, &v);
        if (st == WP_OK)
            wp__wat_buf_uleb(out, v);
        return st;
    }
    case IMM_GLOBAL:
        return emit_index(p, WP_WAT_GLOBAL, out);
    case IMM_TABLE:
        return emit_opt_table(p, out);
    case IMM_MEMARG:
        return memarg(p, o, out);
    case IMM_MEMIDX:
        wp__wat_buf_u8(out, 0);
        return WP_OK;
    case IMM_I32:
        return int_const(p, 32, out);
    case IMM_I64:
        return int_const(p, 64, out);
    case IMM_F32:
        return float_const(p, false, out);
    case IMM_F64:
        return float_const(p, true, out);
    case IMM_REFTYPE:
        return heaptype(p, out);
    case IMM_DATA:
        p->uses_data_count = true;
        return emit_index(p, WP_WAT_DATA, out);
    case IMM_ELEM:
        return emit_index(p, WP_WAT_ELEM, out);
    case IMM_DATA_MEM: {
        p->uses_data_count = true;
        wp_status st = emit_index(p, WP_WAT_DATA, out);
        wp__wat_buf_u8(out, 0);
        return st;
    }
    case IMM_ELEM_TABLE:
        return table_init(p, out);
    case IMM_MEM_MEM:
        wp__wat_buf_u8(out, 0);
        wp__wat_buf_u8(out, 0);
        return WP_OK;
    case IMM_TABLE_TABLE:
        return table_copy(p, out);
    case IMM_BLOCKTYPE: /* block, loop and if are parsed as blocks, never here */
    case IMM_SELECT_T:  /* select's typed form is chosen by select_op */
        break;
    }
    return wp__wat_unexpected(p);
}

/* A plain, non-block instruction at its keyword: opcode and immediates. */
static wp_status plain_op(wp_wat_parser *p, wp_wat_buf *out) {
    const op *o = p->tok.kind == WP_WAT_KEYWORD ? find_op(&p->tok) : NULL;
    if (!o || o->imm == IMM_BLOCKTYPE || wp__wat_is_kw(&p->tok, "else") ||
        wp__wat_is_kw(&p->tok, "end"))
        return unknown_op(p);
    wp_status st = wp__wat_advance(p);
    if (st != WP_OK)
        return st;
    if (o->code == 0x1b && o->prefix == 0)
        return select_op(p, out);
    if (o->prefix)
        wp__wat_buf_u8(out, o->prefix);
    if (o->prefix)
        wp__wat_buf_uleb(out, o->code);
    else
        wp__wat_buf_u8(out, o->code);
    return immediates(p, o, out);
}

/* ---- Blocks and folded instructions ---------------------------------------------------------- */

static wp_status seq(wp_wat_parser *p, wp_wat_buf *out);
static wp_status folded(wp_wat_parser *p, wp_wat_buf *out);

static wp_status nest(wp_wat_parser *p) {
    if (++p->depth > WP_WAT_MAX_DEPTH)
        return wp__wat_fail(p->err, &p->tok, "nesting too deep");
    return WP_OK;
}

static wp_status blocktype(wp_wat_parser *p, wp_wat_buf *out) {
    wp_wat_sig sig;
    wp_wat_blocktype bt;
    wp_status st = wp__wat_sig(p, NULL, &sig);
    if (st != WP_OK || (st = wp__wat_sig_block(p, &sig, &bt)) != WP_OK)
        return st;
    if (bt.short_form)
        wp__wat_buf_u8(out, bt.byte);
    else
        wp__wat_buf_sleb(out, bt.index); /* a type index is a positive s33 */
    return WP_OK;
}

static uint8_t block_opcode(const wp_wat_token *t) {
    if (wp__wat_is_kw(t, "block"))
        return 0x02;
    if (wp__wat_is_kw(t, "loop"))
        return 0x03;
    return wp__wat_is_kw(t, "if") ? 0x04 : 0;
}

/* block, loop or if in plain form, at the keyword, through 'end $label?'. */
static wp_status plain_block(wp_wat_parser *p, wp_wat_buf *out) {
    uint8_t opcode = block_opcode(&p->tok);
    wp_status st = nest(p);
    if (st != WP_OK || (st = wp__wat_advance(p)) != WP_OK || (st = open_label(p)) != WP_OK)
        return st;
    wp__wat_buf_u8(out, opcode);
    if ((st = blocktype(p, out)) != WP_OK || (st = seq(p, out)) != WP_OK)
        return st;
    if (opcode == 0x04 && wp__wat_is_kw(&p->tok, "else")) {
        if ((st = wp__wat_advance(p)) != WP_OK || (st = close_label(p)) != WP_OK)
            return st;
        wp__wat_buf_u8(out, 0x05);
        if ((st = seq(p, out)) != WP_OK)
            return st;
    }
    if (!wp__wat_is_kw(&p->tok, "end"))
        return wp__wat_unexpected(p);
    if ((st = wp__wat_advance(p)) != WP_OK || (st = close_label(p)) != WP_OK)
        return st;
    wp__wat_buf_u8(out, 0x0b);
    p->nlabels--;
    p->depth--;
    return WP_OK;
}

/* Instructions up to ')', 'end', 'else' or the end of text (the caller checks which). */
static wp_status seq(wp_wat_parser *p, wp_wat_buf *out) {
    wp_status st = WP_OK;
    while (st == WP_OK) {
        const wp_wat_token *t = &p->tok;
        if (t->kind == WP_WAT_LPAR)
            st = folded(p, out);
        else if (t->kind == WP_WAT_KEYWORD && block_opcode(t))
            st = plain_block(p, out);
        else if (wp__wat_is_kw(t, "end") || wp__wat_is_kw(t, "else"))
            return WP_OK;
        else if (t->kind == WP_WAT_RPAR || t->kind == WP_WAT_EOF)
            return WP_OK;
        else
            st = plain_op(p, out);
    }
    return st;
}

/* The body of a folded block or clause: instructions, then ')'. */
static wp_status seq_to_rpar(wp_wat_parser *p, wp_wat_buf *out) {
    wp_status st = seq(p, out);
    return st != WP_OK ? st : wp__wat_expect_rpar(p);
}

/* Runs a parse step once without side effects to find where it ends (p->dry), so that what
 * follows can be parsed first; the step is then parsed again for real by the caller. */
static wp_status dry_run(wp_wat_parser *p, wp_status (*step)(wp_wat_parser *, wp_wat_buf *)) {
    bool was_dry = p->dry;
    p->dry = true;
    p->scratch.len = 0;
    wp_status st = step(p, &p->scratch);
    p->dry = was_dry;
    return st;
}

/* (if $l? bt cond* (then instr*) (else instr*)?), after 'if'. The conditions come first in the
 * code and outside the label's scope; the block type is resolved after them, in code order. */
static wp_status folded_if(wp_wat_parser *p, wp_wat_buf *out) {
    wp_wat_token label = p->tok;
    wp_status st = label.kind == WP_WAT_ID ? wp__wat_advance(p) : WP_OK;
    wp_wat_lexer at_bt = p->lx;
    wp_wat_token bt_tok = p->tok;
    if (st != WP_OK || (st = dry_run(p, blocktype)) != WP_OK)
        return st;
    while (st == WP_OK && p->tok.kind == WP_WAT_LPAR && !wp__wat_peek_lpar_kw(p, "then"))
        st = folded(p, out);
    wp_wat_lexer after = p->lx;
    wp_wat_token after_tok = p->tok;
    p->lx = at_bt;
    p->tok = bt_tok;
    wp__wat_buf_u8(out, 0x04);
    if (st != WP_OK || (st = blocktype(p, out)) != WP_OK)
        return st;
    p->lx = after;
    p->tok = after_tok;
    if ((st = push_label(p, label.kind == WP_WAT_ID ? &label : NULL)) != WP_OK)
        return st;
    if (!wp__wat_peek_lpar_kw(p, "then"))
        return wp__wat_unexpected(p);
    if ((st = wp__wat_advance(p)) != WP_OK || (st = wp__wat_advance(p)) != WP_OK ||
        (st = seq_to_rpar(p, out)) != WP_OK)
        return st;
    if (wp__wat_peek_lpar_kw(p, "else")) {
        wp__wat_buf_u8(out, 0x05);
        if ((st = wp__wat_advance(p)) != WP_OK || (st = wp__wat_advance(p)) != WP_OK ||
            (st = seq_to_rpar(p, out)) != WP_OK)
            return st;
    }
    wp__wat_buf_u8(out, 0x0b);
    p->nlabels--;
    return wp__wat_expect_rpar(p);
}

/* (op imm* folded*): the operands' code first, then the instruction. Immediates are read
 * before the operands but resolved after them, as in the code's order. */
static wp_status folded_plain(wp_wat_parser *p, wp_wat_buf *out) {
    wp_wat_lexer at_op = p->lx;
    wp_wat_token op_tok = p->tok;
    wp_status st = dry_run(p, plain_op);
    while (st == WP_OK && p->tok.kind == WP_WAT_LPAR)
        st = folded(p, out);
    if (st != WP_OK)
        return st;
    if (p->tok.kind != WP_WAT_RPAR)
        return wp__wat_unexpected(p);
    wp_wat_lexer after = p->lx;
    wp_wat_token after_tok = p->tok;
    p->lx = at_op;
    p->tok = op_tok;
    if ((st = plain_op(p, out)) != WP_OK)
        return st;
    p->lx = after;
    p->tok = after_tok;
    return wp__wat_advance(p);
}

/* A folded instruction at '('. */
static wp_status folded(wp_wat_parser *p, wp_wat_buf *out) {
    wp_status st = nest(p);
    if (st != WP_OK || (st = wp__wat_advance(p)) != WP_OK)
        return st;
    uint8_t opcode = p->tok.kind == WP_WAT_KEYWORD ? block_opcode(&p->tok) : 0;
    if (opcode == 0x04) {
        st = wp__wat_advance(p);
        st = st != WP_OK ? st : folded_if(p, out);
    } else if (opcode) {
        if ((st = wp__wat_advance(p)) != WP_OK || (st = open_label(p)) != WP_OK)
            return st;
        wp__wat_buf_u8(out, opcode);
        if ((st = blocktype(p, out)) != WP_OK || (st = seq_to_rpar(p, out)) != WP_OK)
            return st;
        wp__wat_buf_u8(out, 0x0b);
        p->nlabels--;
    } else {
        st = folded_plain(p, out);
    }
    p->depth--;
    return st;
}

wp_status wp__wat_folded(wp_wat_parser *p, wp_wat_buf *out) { return folded(p, out); }

wp_status wp__wat_instrs(wp_wat_parser *p, wp_wat_buf *out) {
    wp_status st = seq(p, out);
    if (st == WP_OK && p->tok.kind != WP_WAT_RPAR)
        return wp__wat_unexpected(p);
    return st;
}
