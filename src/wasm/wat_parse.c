/* wat_parse.c: tokens in context, index spaces, typeuses, and pass 1 over module fields. */
#include <inttypes.h>
#include <string.h>

#include "wat_internal.h"

/* ---- Tokens in context ---------------------------------------------------------------------- */

wp_status wp__wat_advance(wp_wat_parser *p) { return wp__wat_lex(&p->lx, &p->tok, p->err); }

wp_status wp__wat_unexpected(wp_wat_parser *p) {
    if (p->tok.kind == WP_WAT_EOF)
        return wp__wat_fail(p->err, &p->tok, "unexpected end of text");
    return wp__wat_fail(p->err, &p->tok, "unexpected token");
}

wp_status wp__wat_not_number(wp_wat_parser *p) {
    if (p->tok.kind == WP_WAT_NUMBER) /* digits run into other characters, as in "0drop" */
        return wp__wat_fail(p->err, &p->tok, "unknown operator");
    return wp__wat_unexpected(p);
}

bool wp__wat_is_kw(const wp_wat_token *t, const char *kw) {
    size_t n = strlen(kw);
    return t->kind == WP_WAT_KEYWORD && t->len == n && memcmp(t->text, kw, n) == 0;
}

bool wp__wat_peek_lpar_kw(wp_wat_parser *p, const char *kw) {
    if (p->tok.kind != WP_WAT_LPAR)
        return false;
    wp_wat_lexer lx = p->lx;
    wp_wat_token next;
    if (wp__wat_lex(&lx, &next, NULL) != WP_OK) /* the error shows when it is really read */
        return false;
    return wp__wat_is_kw(&next, kw);
}

wp_status wp__wat_expect_rpar(wp_wat_parser *p) {
    if (p->tok.kind != WP_WAT_RPAR)
        return wp__wat_unexpected(p);
    return wp__wat_advance(p);
}

/* Consumes '(' and the keyword after it (the caller has peeked both). */
static wp_status enter(wp_wat_parser *p) {
    wp_status st = wp__wat_advance(p);
    return st != WP_OK ? st : wp__wat_advance(p);
}

static const char *const space_names[WP_WAT_SPACES] = {"type",   "func", "table", "memory",
                                                       "global", "elem", "data"};

wp_status wp__wat_index(wp_wat_parser *p, wp_wat_space space, uint32_t *index) {
    const wp_wat_token *t = &p->tok;
    if (t->kind == WP_WAT_ID) {
        if (!wp__wat_names_find(&p->names[space], t->text, t->len, index))
            return wp__wat_fail(p->err, t, "unknown %s %.*s", space_names[space], (int)t->len,
                                t->text);
        return wp__wat_advance(p);
    }
    uint64_t v;
    wp_wat_num r = t->kind == WP_WAT_NUMBER ? wp__wat_uint(t->text, t->len, 32, &v)
                                            : WP_WAT_NUM_SYNTAX;
    if (r == WP_WAT_NUM_RANGE)
        return wp__wat_fail(p->err, t, "i32 constant out of range");
    if (r != WP_WAT_NUM_OK)
        return wp__wat_not_number(p);
    *index = (uint32_t)v;
    return wp__wat_advance(p);
}

static bool is_simd_type(const wp_wat_token *t) { return wp__wat_is_kw(t, "v128"); }

wp_status wp__wat_valtype(wp_wat_parser *p, uint8_t *out) {
    static const struct {
        const char *name;
        uint8_t byte;
    } types[] = {{"i32", 0x7f},     {"i64", 0x7e},      {"f32", 0x7d},
                 {"f64", 0x7c},     {"funcref", 0x70},  {"externref", 0x6f}};
    for (size_t i = 0; i < WP_ARRAY_LEN(types); i++) {
        if (wp__wat_is_kw(&p->tok, types[i].name)) {
            *out = types[i].byte;
            return wp__wat_advance(p);
        }
    }
    if (is_simd_type(&p->tok))
        return wp_err_set(p->err, WP_ERR_UNSUPPORTED, "line %" PRIu32 ", column %" PRIu32
                          ": SIMD (v128) is not supported", p->tok.line, p->tok.col);
    return wp__wat_unexpected(p);
}

/* ---- Function types ------------------------------------------------------------------------- */

const wp_wat_functype *wp__wat_type_at(const wp_wat_parser *p, uint32_t index) {
    return index < p->ntypes ? &p->types[index] : NULL;
}

/* Appends a function type whose value types are already at pool[off...]. */
static wp_status add_type(wp_wat_parser *p, uint32_t off, uint32_t np, uint32_t nr) {
    if (p->ntypes == p->types_cap) {
        if (p->types_cap > UINT32_MAX / 2)
            return WP_ERR_NOMEM;
        uint32_t cap = p->types_cap ? p->types_cap * 2 : 16;
        wp_wat_functype *t = wp_heap_realloc(p->heap, p->types, p->types_cap * sizeof *t,
                                             cap * sizeof *t);
        if (!t)
            return wp_err_set(p->err, WP_ERR_NOMEM, "out of memory");
        p->types = t;
        p->types_cap = cap;
    }
    p->types[p->ntypes++] = (wp_wat_functype){off, np, nr};
    return WP_OK;
}

static bool same_type(const wp_wat_parser *p, const wp_wat_functype *t, uint32_t off, uint32_t np,
                      uint32_t nr) {
    const uint8_t *pool = p->type_pool.data;
    return t->nparams == np && t->nresults == nr &&
           (np + nr == 0 || memcmp(pool + t->off, pool + off, np + nr) == 0);
}

/* Reads value types up to ')' into the pool, counting them. */
static wp_status valtypes(wp_wat_parser *p, uint32_t *count) {
    while (p->tok.kind != WP_WAT_RPAR) {
        uint8_t t;
        wp_status st = wp__wat_valtype(p, &t);
        if (st != WP_OK)
            return st;
        wp__wat_buf_u8(&p->type_pool, t);
        (*count)++;
    }
    return wp__wat_advance(p);
}

/* (param $id t) or (param t*), after '(' 'param'. */
static wp_status param(wp_wat_parser *p, wp_wat_names *names, uint32_t *np) {
    if (p->tok.kind != WP_WAT_ID)
        return valtypes(p, np);
    if (!names)
        return wp__wat_unexpected(p);
    wp_status st = wp__wat_names_add(names, p->heap, p->tok.text, p->tok.len, *np);
    if (st == WP_ERR_ALREADY_EXISTS)
        return wp__wat_fail(p->err, &p->tok, "duplicate local %.*s", (int)p->tok.len,
                            p->tok.text);
    if (st != WP_OK)
        return wp_err_set(p->err, st, "out of memory");
    if ((st = wp__wat_advance(p)) != WP_OK)
        return st;
    uint8_t t;
    if ((st = wp__wat_valtype(p, &t)) != WP_OK)
        return st;
    wp__wat_buf_u8(&p->type_pool, t);
    (*np)++;
    return wp__wat_expect_rpar(p);
}

static wp_status inline_sig(wp_wat_parser *p, wp_wat_names *names, wp_wat_sig *sig) {
    wp_status st = WP_OK;
    while (st == WP_OK && wp__wat_peek_lpar_kw(p, "param"))
        if ((st = enter(p)) == WP_OK)
            st = param(p, names, &sig->nparams);
    while (st == WP_OK && wp__wat_peek_lpar_kw(p, "result"))
        if ((st = enter(p)) == WP_OK)
            st = valtypes(p, &sig->nresults);
    if (st == WP_OK && (wp__wat_peek_lpar_kw(p, "param") || wp__wat_peek_lpar_kw(p, "type")))
        return wp__wat_unexpected(p); /* out of order */
    if (st == WP_OK && p->type_pool.oom)
        return wp_err_set(p->err, WP_ERR_NOMEM, "out of memory");
    return st;
}

wp_status wp__wat_sig(wp_wat_parser *p, wp_wat_names *names, wp_wat_sig *sig) {
    wp_status st = WP_OK;
    sig->has_type = false;
    sig->start = p->tok;
    sig->pool_start = (uint32_t)p->type_pool.len;
    sig->nparams = 0;
    sig->nresults = 0;
    if (wp__wat_peek_lpar_kw(p, "type")) {
        if ((st = enter(p)) != WP_OK)
            return st;
        sig->has_type = true;
        sig->type_tok = p->tok;
        if ((st = wp__wat_index(p, WP_WAT_TYPE, &sig->type_index)) != WP_OK)
            return st;
        if ((st = wp__wat_expect_rpar(p)) != WP_OK)
            return st;
    }
    return inline_sig(p, names, sig);
}

/* With (type x): x must agree with any inline params and results. Alone, x may name no type
 * (*ft NULL): that is for the validator to reject, the text is well-formed. */
static wp_status check_type(wp_wat_parser *p, const wp_wat_sig *sig, const wp_wat_functype **ft) {
    *ft = wp__wat_type_at(p, sig->type_index);
    if (!*ft && sig->nparams + sig->nresults == 0)
        return WP_OK;
    if (!*ft)
        return wp__wat_fail(p->err, &sig->type_tok, "unknown type");
    if (sig->nparams + sig->nresults > 0 &&
        !same_type(p, *ft, sig->pool_start, sig->nparams, sig->nresults))
        return wp__wat_fail(p->err, &sig->start, "inline function type");
    return WP_OK;
}

/* The first type equal to the inline one, or a new implicit type appended for it. */
static wp_status find_or_add(wp_wat_parser *p, const wp_wat_sig *sig, uint32_t *index) {
    for (uint32_t i = 0; i < p->ntypes; i++) {
        if (same_type(p, &p->types[i], sig->pool_start, sig->nparams, sig->nresults)) {
            *index = i;
            p->type_pool.len = sig->pool_start;
            return WP_OK;
        }
    }
    if (p->dry) { /* a dry run must not add types; the real run comes next */
        *index = 0;
        p->type_pool.len = sig->pool_start;
        return WP_OK;
    }
    *index = p->ntypes;
    return add_type(p, sig->pool_start, sig->nparams, sig->nresults);
}

wp_status wp__wat_sig_index(wp_wat_parser *p, wp_wat_sig *sig, uint32_t *index,
                            uint32_t *nparams) {
    *nparams = sig->nparams;
    if (!sig->has_type)
        return find_or_add(p, sig, index);
    const wp_wat_functype *ft;
    wp_status st = check_type(p, sig, &ft);
    if (st != WP_OK)
        return st;
    p->type_pool.len = sig->pool_start;
    *index = sig->type_index;
    *nparams = ft ? ft->nparams : 0;
    return WP_OK;
}

wp_status wp__wat_sig_block(wp_wat_parser *p, wp_wat_sig *sig, wp_wat_blocktype *bt) {
    uint32_t np = sig->nparams;
    uint32_t nr = sig->nresults;
    uint32_t off = sig->pool_start;
    if (sig->has_type) {
        const wp_wat_functype *ft;
        wp_status st = check_type(p, sig, &ft);
        if (st != WP_OK)
            return st;
        np = ft ? ft->nparams : 1; /* no such type: keep the index for the validator */
        nr = ft ? ft->nresults : 0;
        off = ft ? ft->off : 0;
        bt->index = sig->type_index;
    }
    bt->short_form = np == 0 && nr <= 1;
    bt->byte = nr == 1 ? p->type_pool.data[off] : 0x40;
    if (sig->has_type || bt->short_form) {
        p->type_pool.len = sig->pool_start;
        return WP_OK;
    }
    uint32_t unused;
    return wp__wat_sig_index(p, sig, &bt->index, &unused);
}

/* ---- Pass 1: identifiers and explicit types ------------------------------------------------- */

/* Skips to the ')' that closes the current field and past it. */
wp_status wp__wat_skip_field(wp_wat_parser *p) {
    size_t depth = 1;
    for (;;) {
        if (p->tok.kind == WP_WAT_EOF)
            return wp__wat_unexpected(p);
        if (p->tok.kind == WP_WAT_LPAR)
            depth++;
        if (p->tok.kind == WP_WAT_RPAR && --depth == 0)
            return wp__wat_advance(p);
        wp_status st = wp__wat_advance(p);
        if (st != WP_OK)
            return st;
    }
}

/* Registers an optional identifier for the next entity of a space. */
static wp_status declare(wp_wat_parser *p, wp_wat_space space) {
    uint32_t index = p->counts[space]++;
    if (p->tok.kind != WP_WAT_ID)
        return WP_OK;
    wp_status st = wp__wat_names_add(&p->names[space], p->heap, p->tok.text, p->tok.len, index);
    if (st == WP_ERR_ALREADY_EXISTS)
        return wp__wat_fail(p->err, &p->tok, "duplicate %s %.*s", space_names[space],
                            (int)p->tok.len, p->tok.text);
    if (st != WP_OK)
        return wp_err_set(p->err, st, "out of memory");
    return wp__wat_advance(p);
}

/* (type $id? (func (param ...)* (result ...)*)), after '(' 'type'. */
static wp_status type_field(wp_wat_parser *p) {
    wp_status st;
    uint32_t index = p->counts[WP_WAT_TYPE];
    if ((st = declare(p, WP_WAT_TYPE)) != WP_OK)
        return st;
    if (!wp__wat_peek_lpar_kw(p, "func"))
        return wp__wat_unexpected(p);
    if ((st = enter(p)) != WP_OK)
        return st;
    wp_wat_names names = {NULL, 0, 0}; /* parameter names are allowed here, and unused */
    wp_wat_sig sig = {.pool_start = (uint32_t)p->type_pool.len};
    st = inline_sig(p, &names, &sig);
    wp__wat_names_free(&names, p->heap);
    if (st != WP_OK)
        return st;
    if ((st = wp__wat_expect_rpar(p)) != WP_OK)
        return st;
    WP_ASSERT(index == p->ntypes);
    (void)index;
    if ((st = add_type(p, sig.pool_start, sig.nparams, sig.nresults)) != WP_OK)
        return st;
    return wp__wat_expect_rpar(p);
}

/* Imports must come before every func, table, memory and global definition. */
static wp_status note_import(wp_wat_parser *p, const wp_wat_token *at) {
    if (p->first_def)
        return wp__wat_fail(p->err, at, "import after %s", p->first_def);
    return WP_OK;
}

/* (import "m" "n" (kind $id? ...)), after '(' 'import'. */
static wp_status import_field(wp_wat_parser *p, const wp_wat_token *at) {
    static const struct {
        const char *kw;
        wp_wat_space space;
    } kinds[] = {{"func", WP_WAT_FUNC},
                 {"table", WP_WAT_TABLE},
                 {"memory", WP_WAT_MEM},
                 {"global", WP_WAT_GLOBAL}};
    wp_status st = note_import(p, at);
    for (int i = 0; st == WP_OK && i < 2; i++)
        st = p->tok.kind == WP_WAT_STRING ? wp__wat_advance(p) : wp__wat_unexpected(p);
    if (st != WP_OK)
        return st;
    if (p->tok.kind != WP_WAT_LPAR)
        return wp__wat_unexpected(p);
    if ((st = wp__wat_advance(p)) != WP_OK)
        return st;
    for (size_t i = 0; i < WP_ARRAY_LEN(kinds); i++) {
        if (wp__wat_is_kw(&p->tok, kinds[i].kw)) {
            if ((st = wp__wat_advance(p)) != WP_OK || (st = declare(p, kinds[i].space)) != WP_OK)
                return st;
            if ((st = wp__wat_skip_field(p)) != WP_OK)
                return st;
            return wp__wat_skip_field(p);
        }
    }
    return wp__wat_unexpected(p);
}

/* (func|table|memory|global $id? ...), after the keyword: the identifier, whether it is an
 * inline import, and the segments an inline (elem ...) or (data ...) adds. */
static wp_status entity_field(wp_wat_parser *p, wp_wat_space space, const char *what,
                              const wp_wat_token *at) {
    wp_status st = declare(p, space);
    bool imported = false;
    size_t depth = 1;
    while (st == WP_OK) {
        if (p->tok.kind == WP_WAT_EOF)
            return wp__wat_unexpected(p);
        if (p->tok.kind == WP_WAT_LPAR) {
            imported |= depth == 1 && wp__wat_peek_lpar_kw(p, "import");
            if (depth == 1 && space == WP_WAT_TABLE && wp__wat_peek_lpar_kw(p, "elem"))
                p->counts[WP_WAT_ELEM]++;
            if (depth == 1 && space == WP_WAT_MEM && wp__wat_peek_lpar_kw(p, "data"))
                p->counts[WP_WAT_DATA]++;
            depth++;
        }
        if (p->tok.kind == WP_WAT_RPAR && --depth == 0)
            break;
        st = wp__wat_advance(p);
    }
    if (st != WP_OK || (st = wp__wat_advance(p)) != WP_OK)
        return st;
    if (imported)
        return note_import(p, at);
    if (!p->first_def)
        p->first_def = what;
    return WP_OK;
}

wp_status wp__wat_collect(wp_wat_parser *p) {
    static const struct {
        const char *kw;
        wp_wat_space space;
        const char *what;
    } entities[] = {{"func", WP_WAT_FUNC, "function"},
                    {"table", WP_WAT_TABLE, "table"},
                    {"memory", WP_WAT_MEM, "memory"},
                    {"global", WP_WAT_GLOBAL, "global"},
                    {"elem", WP_WAT_ELEM, NULL},
                    {"data", WP_WAT_DATA, NULL}};
    wp_status st = WP_OK;
    while (st == WP_OK && p->tok.kind != WP_WAT_RPAR && p->tok.kind != WP_WAT_EOF) {
        wp_wat_token at = p->tok;
        if (at.kind != WP_WAT_LPAR)
            return wp__wat_unexpected(p);
        if ((st = wp__wat_advance(p)) != WP_OK)
            return st;
        wp_wat_token kw = p->tok;
        size_t i = 0;
        while (i < WP_ARRAY_LEN(entities) && !wp__wat_is_kw(&kw, entities[i].kw))
            i++;
        if (i == WP_ARRAY_LEN(entities) && !wp__wat_is_kw(&kw, "type") &&
            !wp__wat_is_kw(&kw, "import") && !wp__wat_is_kw(&kw, "export") &&
            !wp__wat_is_kw(&kw, "start"))
            return wp__wat_unexpected(p);
        if ((st = wp__wat_advance(p)) != WP_OK)
            return st;
        if (wp__wat_is_kw(&kw, "type"))
            st = type_field(p);
        else if (wp__wat_is_kw(&kw, "import"))
            st = import_field(p, &at);
        else if (i < WP_ARRAY_LEN(entities) && entities[i].what)
            st = entity_field(p, entities[i].space, entities[i].what, &at);
        else if (i < WP_ARRAY_LEN(entities))
            st = (st = declare(p, entities[i].space)) != WP_OK ? st : wp__wat_skip_field(p);
        else
            st = wp__wat_skip_field(p);
    }
    if (st == WP_OK && p->type_pool.oom)
        return wp_err_set(p->err, WP_ERR_NOMEM, "out of memory");
    return st;
}
