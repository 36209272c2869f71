/* wit.c: WIT text to function signatures and types: lexer, parser, name resolution, layout. */
#include <stdarg.h>
#include <string.h>

#include "../base/compiler.h"
#include "internal.h"

/* ---- Arena ------------------------------------------------------------------------------- */

struct wit_chunk {
    wit_chunk *next;
    size_t size; /* bytes of data */
    size_t used;
    max_align_t data[];
};

void *wit__alloc(wp_wit *w, size_t size) {
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    wit_chunk *c = w->chunks;
    if (!c || c->size - c->used < size) {
        size_t data = size > 8192 ? size : 8192;
        c = wp_heap_alloc(wp_heap_default(), sizeof *c + data);
        if (!c)
            return NULL;
        c->next = w->chunks;
        c->size = data;
        c->used = 0;
        w->chunks = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

void wp_wit_free(wp_wit *w) {
    if (!w)
        return;
    for (wit_chunk *c = w->chunks, *next; c; c = next) {
        next = c->next;
        wp_heap_free(wp_heap_default(), c, sizeof *c + c->size);
    }
    wp_heap_free(wp_heap_default(), w->funcs, w->funcs_cap * sizeof *w->funcs);
    wp_heap_free(wp_heap_default(), w->named, w->named_cap * sizeof *w->named);
    wp_heap_free(wp_heap_default(), w, sizeof *w);
}

/* ---- Lexer ------------------------------------------------------------------------------- */

typedef enum tok_kind { T_END, T_ID, T_PUNCT, T_ARROW, T_OTHER } tok_kind;

typedef struct tok {
    tok_kind kind;
    const char *p;
    size_t len;
    bool escaped; /* %name: never a keyword */
    uint32_t line;
    uint32_t col;
} tok;

typedef struct parser {
    wp_wit *w;
    const char *src;
    size_t len;
    size_t pos;
    uint32_t line;
    size_t line_start;
    tok t; /* the current token */
    wp_err *err;
    wp_status st; /* the first failure */
    uint32_t depth;
    const char *iface; /* the interface being parsed, or NULL */
    uint32_t nres;     /* resources declared so far */
} parser;

static wp_status fail_at(parser *ps, uint32_t line, uint32_t col, wp_status kind, const char *fmt,
                         ...) WP_PRINTF(5, 6);

static wp_status fail_at(parser *ps, uint32_t line, uint32_t col, wp_status kind, const char *fmt,
                         ...) {
    if (ps->st != WP_OK)
        return ps->st;
    char msg[WP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps->st = wp_err_set(ps->err, kind, "line %u, column %u: %s", line, col, msg);
    return ps->st;
}

#define FAIL(ps, ...) fail_at((ps), (ps)->t.line, (ps)->t.col, WP_ERR_INVALID, __VA_ARGS__)

static bool is_id_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

static void newline(parser *ps) {
    ps->line++;
    ps->line_start = ps->pos;
}

/* Skips blanks and comments; false (with an error) on an unterminated block comment. */
static bool skip_space(parser *ps) {
    while (ps->pos < ps->len) {
        char c = ps->src[ps->pos];
        if (c == '\n') {
            ps->pos++;
            newline(ps);
        } else if (c == ' ' || c == '\t' || c == '\r') {
            ps->pos++;
        } else if (c == '/' && ps->pos + 1 < ps->len && ps->src[ps->pos + 1] == '/') {
            while (ps->pos < ps->len && ps->src[ps->pos] != '\n')
                ps->pos++;
        } else if (c == '/' && ps->pos + 1 < ps->len && ps->src[ps->pos + 1] == '*') {
            uint32_t line = ps->line;
            uint32_t col = (uint32_t)(ps->pos - ps->line_start) + 1;
            ps->pos += 2;
            while (ps->pos + 1 < ps->len &&
                   !(ps->src[ps->pos] == '*' && ps->src[ps->pos + 1] == '/')) {
                if (ps->src[ps->pos++] == '\n')
                    newline(ps);
            }
            if (ps->pos + 1 >= ps->len) {
                fail_at(ps, line, col, WP_ERR_INVALID, "unterminated comment");
                return false;
            }
            ps->pos += 2;
        } else {
            return true;
        }
    }
    return true;
}

/* A word is kebab-case: parts of letters and digits joined by single '-', each part starting
 * with a letter. */
static bool valid_word(const char *p, size_t len) {
    if (len == 0 || p[0] == '-' || p[len - 1] == '-')
        return false;
    bool part_start = true;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '-') {
            if (part_start)
                return false;
            part_start = true;
            continue;
        }
        if (part_start && !((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
            return false;
        part_start = false;
    }
    return true;
}

static void next(parser *ps) {
    if (ps->st != WP_OK || !skip_space(ps)) {
        ps->t = (tok){.kind = T_END, .line = ps->line};
        return;
    }
    tok t = {
        .p = ps->src + ps->pos, .line = ps->line, .col = (uint32_t)(ps->pos - ps->line_start) + 1};
    if (ps->pos >= ps->len) {
        t.kind = T_END;
    } else if (ps->src[ps->pos] == '-' && ps->pos + 1 < ps->len && ps->src[ps->pos + 1] == '>') {
        t.kind = T_ARROW;
        t.len = 2;
    } else if (ps->src[ps->pos] == '%' || is_id_char(ps->src[ps->pos])) {
        t.escaped = ps->src[ps->pos] == '%';
        ps->pos += t.escaped;
        t.p = ps->src + ps->pos;
        while (ps->pos < ps->len && is_id_char(ps->src[ps->pos]))
            ps->pos++;
        t.len = (size_t)(ps->src + ps->pos - t.p);
        t.kind = T_ID;
        ps->t = t;
        if (!valid_word(t.p, t.len))
            FAIL(ps, "'%.*s' is not a valid identifier", (int)t.len, t.p);
        return;
    } else if (strchr(":;,()<>{}=*./@#_", ps->src[ps->pos])) {
        t.kind = T_PUNCT;
        t.len = 1;
    } else {
        t.kind = T_OTHER;
        t.len = 1;
    }
    ps->pos += t.len;
    ps->t = t;
    if (t.kind == T_OTHER)
        FAIL(ps, "unexpected character '%c'", t.p[0]);
}

static bool is_punct(const parser *ps, char c) { return ps->t.kind == T_PUNCT && ps->t.p[0] == c; }

/* A keyword: an identifier token equal to word, not written with %. */
static bool is_kw(const parser *ps, const char *word) {
    return ps->t.kind == T_ID && !ps->t.escaped && ps->t.len == strlen(word) &&
           memcmp(ps->t.p, word, ps->t.len) == 0;
}

static const char *tok_desc(const tok *t) { return t->kind == T_END ? "end of text" : ""; }

static bool expect(parser *ps, char c) {
    if (is_punct(ps, c)) {
        next(ps);
        return true;
    }
    if (ps->t.kind == T_END)
        FAIL(ps, "expected '%c', found end of text", c);
    else
        FAIL(ps, "expected '%c', found '%.*s'%s", c, (int)ps->t.len, ps->t.p, tok_desc(&ps->t));
    return false;
}

static const char *copy_name(parser *ps, const char *p, size_t len, const char *prefix) {
    size_t plen = prefix ? strlen(prefix) + 1 : 0;
    char *s = wit__alloc(ps->w, plen + len + 1);
    if (!s) {
        fail_at(ps, ps->t.line, ps->t.col, WP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (prefix) {
        memcpy(s, prefix, plen - 1);
        s[plen - 1] = '#';
    }
    memcpy(s + plen, p, len);
    return s;
}

/* An identifier (keywords allowed only as %escaped); NULL with an error otherwise. */
static const char *ident(parser *ps, const char *what) {
    if (ps->t.kind != T_ID) {
        if (ps->t.kind == T_END)
            FAIL(ps, "expected %s, found end of text", what);
        else
            FAIL(ps, "expected %s, found '%.*s'", what, (int)ps->t.len, ps->t.p);
        return NULL;
    }
    const char *s = copy_name(ps, ps->t.p, ps->t.len, NULL);
    next(ps);
    return s;
}

/* ---- Types ------------------------------------------------------------------------------- */

static wit_node *node_new(parser *ps, wp_wit_kind kind) {
    wit_node *n = wit__alloc(ps->w, sizeof *n);
    if (!n)
        fail_at(ps, ps->t.line, ps->t.col, WP_ERR_NOMEM, "out of memory");
    else
        *n = (wit_node){.t.kind = kind, .line = ps->t.line, .col = ps->t.col};
    return n;
}

static const struct {
    const char *word;
    wp_wit_kind kind;
} PRIMS[] = {{"bool", WP_WIT_BOOL},   {"s8", WP_WIT_S8},     {"u8", WP_WIT_U8},
             {"s16", WP_WIT_S16},     {"u16", WP_WIT_U16},   {"s32", WP_WIT_S32},
             {"u32", WP_WIT_U32},     {"s64", WP_WIT_S64},   {"u64", WP_WIT_U64},
             {"f32", WP_WIT_F32},     {"f64", WP_WIT_F64},   {"float32", WP_WIT_F32},
             {"float64", WP_WIT_F64}, {"char", WP_WIT_CHAR}, {"string", WP_WIT_STRING}};

static wit_node *parse_type(parser *ps);

/* Comma-separated items up to 'close' (a trailing comma allowed), via item(ps, i). */
typedef bool (*item_fn)(parser *ps, void *ud, uint32_t i);

static bool parse_list(parser *ps, char close, item_fn item, void *ud, uint32_t *count) {
    uint32_t n = 0;
    while (!is_punct(ps, close)) {
        if (ps->t.kind == T_END)
            return expect(ps, close);
        if (n >= WIT_MAX_ITEMS) {
            FAIL(ps, "more than %u items", WIT_MAX_ITEMS);
            return false;
        }
        if (!item(ps, ud, n++))
            return false;
        if (!is_punct(ps, close) && !expect(ps, ','))
            return false;
    }
    next(ps);
    *count = n;
    return true;
}

static bool grow_array(void **items, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap)
        return true;
    uint32_t ncap = *cap ? *cap * 2 : 8;
    void *n = wp_heap_realloc(wp_heap_default(), *items, *cap * elem, ncap * elem);
    if (!n)
        return false;
    *items = n;
    *cap = ncap;
    return true;
}

/* Fields accumulate in a growable array copied into the arena at the end. */
typedef struct field_buf {
    wp_wit_field *items;
    uint32_t cap;
    bool typed;   /* name: type */
    bool payload; /* name or name(type) */
    bool named;   /* false: tuple elements (types only) */
} field_buf;

static bool field_item(parser *ps, void *ud, uint32_t i) {
    field_buf *fb = ud;
    if (!grow_array((void **)&fb->items, &fb->cap, i + 1, sizeof *fb->items))
        return fail_at(ps, ps->t.line, ps->t.col, WP_ERR_NOMEM, "out of memory") == WP_OK;
    wp_wit_field f = {0};
    if (fb->named && !(f.name = ident(ps, "a name")))
        return false;
    if (fb->typed && fb->named && !expect(ps, ':'))
        return false;
    if (fb->payload && is_punct(ps, '(')) {
        next(ps);
        if (!(f.type = (const wp_wit_type *)parse_type(ps)) || !expect(ps, ')'))
            return false;
    } else if (fb->typed && !(f.type = (const wp_wit_type *)parse_type(ps))) {
        return false;
    }
    for (uint32_t j = 0; f.name && j < i; j++) {
        if (strcmp(fb->items[j].name, f.name) == 0) {
            FAIL(ps, "duplicate name '%s'", f.name);
            return false;
        }
    }
    fb->items[i] = f;
    return true;
}

/* Parses "{ ... }", "( ... )" or "< ... >" fields into the arena: *out, *count. */
static bool parse_fields_raw(parser *ps, char open, char close, field_buf fb,
                             const wp_wit_field **out, uint32_t *count) {
    if (!expect(ps, open))
        return false;
    *count = 0;
    bool ok = parse_list(ps, close, field_item, &fb, count);
    wp_wit_field *fields = NULL;
    if (ok && *count && !(fields = wit__alloc(ps->w, *count * sizeof *fields))) {
        fail_at(ps, ps->t.line, ps->t.col, WP_ERR_NOMEM, "out of memory");
        ok = false;
    }
    if (ok && *count)
        memcpy(fields, fb.items, *count * sizeof *fields);
    wp_heap_free(wp_heap_default(), fb.items, fb.cap * sizeof *fb.items);
    *out = fields;
    return ok;
}

/* The same into node n, which must not end up empty (the spec has no empty types). */
static bool parse_fields(parser *ps, wit_node *n, char open, char close, field_buf fb) {
    if (!parse_fields_raw(ps, open, close, fb, &n->t.fields, &n->t.nfields))
        return false;
    if (n->t.nfields == 0)
        return FAIL(ps, "%s must not be empty", wp_wit_kind_name(n->t.kind)) == WP_OK;
    return true;
}

/* The single argument of list<T> / option<T>. */
static wit_node *parse_elem(parser *ps, wit_node *n) {
    if (!n || !expect(ps, '<') || !(n->t.elem = (const wp_wit_type *)parse_type(ps)) ||
        !expect(ps, '>'))
        return NULL;
    return n;
}

static wit_node *parse_result(parser *ps, wit_node *n) {
    if (!n || !is_punct(ps, '<'))
        return n;
    next(ps);
    if (is_punct(ps, '_'))
        next(ps);
    else if (!(n->t.ok = (const wp_wit_type *)parse_type(ps)))
        return NULL;
    if (is_punct(ps, ',')) {
        next(ps);
        if (!(n->t.err = (const wp_wit_type *)parse_type(ps)))
            return NULL;
    } else if (!n->t.ok) {
        FAIL(ps, "result<_> needs an error type: result<_, E>");
        return NULL;
    }
    return expect(ps, '>') ? n : NULL;
}

static wit_node *parse_named_use(parser *ps) {
    static const char *const unsupported[] = {"future", "stream", "error-context"};
    for (size_t i = 0; i < WP_ARRAY_LEN(unsupported); i++) {
        if (is_kw(ps, unsupported[i])) {
            fail_at(ps, ps->t.line, ps->t.col, WP_ERR_UNSUPPORTED, "'%s' types are not supported",
                    unsupported[i]);
            return NULL;
        }
    }
    wit_node *n = node_new(ps, WP_WIT_BOOL);
    if (!n)
        return NULL;
    n->is_ref = true;
    if (!(n->t.name = ident(ps, "a type")))
        return NULL;
    return n;
}

static wit_node *parse_type_inner(parser *ps) {
    for (size_t i = 0; i < WP_ARRAY_LEN(PRIMS); i++) {
        if (is_kw(ps, PRIMS[i].word)) {
            next(ps);
            return node_new(ps, PRIMS[i].kind);
        }
    }
    if (is_kw(ps, "list")) {
        next(ps);
        wit_node *n = node_new(ps, WP_WIT_LIST);
        if (!n || !expect(ps, '<') || !(n->t.elem = (const wp_wit_type *)parse_type(ps)))
            return NULL;
        if (is_punct(ps, ','))
            fail_at(ps, ps->t.line, ps->t.col, WP_ERR_UNSUPPORTED,
                    "fixed-length lists are not supported");
        return ps->st == WP_OK && expect(ps, '>') ? n : NULL;
    }
    if (is_kw(ps, "option")) {
        next(ps);
        return parse_elem(ps, node_new(ps, WP_WIT_OPTION));
    }
    if (is_kw(ps, "result")) {
        next(ps);
        return parse_result(ps, node_new(ps, WP_WIT_RESULT));
    }
    if (is_kw(ps, "own") || is_kw(ps, "borrow")) { /* the resource is resolved later */
        wp_wit_kind k = is_kw(ps, "own") ? WP_WIT_OWN : WP_WIT_BORROW;
        next(ps);
        return parse_elem(ps, node_new(ps, k));
    }
    if (is_kw(ps, "tuple")) {
        next(ps);
        wit_node *n = node_new(ps, WP_WIT_TUPLE);
        field_buf fb = {.typed = true};
        return n && parse_fields(ps, n, '<', '>', fb) ? n : NULL;
    }
    return parse_named_use(ps);
}

static wit_node *parse_type(parser *ps) {
    if (ps->depth >= WIT_MAX_DEPTH) {
        FAIL(ps, "type nested more than %u deep", WIT_MAX_DEPTH);
        return NULL;
    }
    ps->depth++;
    wit_node *n = parse_type_inner(ps);
    ps->depth--;
    return ps->st == WP_OK ? n : NULL;
}

/* ---- Items ------------------------------------------------------------------------------- */

static bool add_named(parser *ps, const char *name, wit_node *def, uint32_t line, uint32_t col) {
    wp_wit *w = ps->w;
    for (uint32_t i = 0; i < w->nnamed; i++) {
        if (strcmp(w->named[i].name, name) == 0) {
            fail_at(ps, line, col, WP_ERR_INVALID, "type '%s' is defined twice", name);
            return false;
        }
    }
    if (w->nnamed >= WIT_MAX_ITEMS ||
        !grow_array((void **)&w->named, &w->named_cap, w->nnamed + 1, sizeof *w->named)) {
        fail_at(ps, line, col, WP_ERR_NOMEM, "too many types");
        return false;
    }
    w->named[w->nnamed++] = (wit_named){name, def, line, col};
    return true;
}

/* record / variant / enum / flags NAME { ... } */
static bool parse_typedef(parser *ps, wp_wit_kind kind) {
    uint32_t line = ps->t.line;
    uint32_t col = ps->t.col;
    next(ps);
    wit_node *n = node_new(ps, kind);
    const char *name = n ? ident(ps, "a type name") : NULL;
    if (!name)
        return false;
    n->t.name = name;
    field_buf fb = {
        .named = true, .typed = kind == WP_WIT_RECORD, .payload = kind == WP_WIT_VARIANT};
    if (!parse_fields(ps, n, '{', '}', fb))
        return false;
    if (kind == WP_WIT_FLAGS && n->t.nfields > 32) {
        fail_at(ps, line, col, WP_ERR_UNSUPPORTED, "flags with more than 32 labels");
        return false;
    }
    return add_named(ps, name, n, line, col);
}

/* type NAME = T; */
static bool parse_alias(parser *ps) {
    uint32_t line = ps->t.line;
    uint32_t col = ps->t.col;
    next(ps);
    const char *name = ident(ps, "a type name");
    if (!name || !expect(ps, '='))
        return false;
    wit_node *def = parse_type(ps);
    return def && expect(ps, ';') && add_named(ps, name, def, line, col);
}

static bool add_func(parser *ps, const wp_wit_func *f, uint32_t line, uint32_t col) {
    wp_wit *w = ps->w;
    for (uint32_t i = 0; i < w->nfuncs; i++)
        if (strcmp(w->funcs[i].name, f->name) == 0)
            return fail_at(ps, line, col, WP_ERR_INVALID, "function '%s' is defined twice",
                           f->name) == WP_OK;
    if (w->nfuncs >= WIT_MAX_ITEMS ||
        !grow_array((void **)&w->funcs, &w->funcs_cap, w->nfuncs + 1, sizeof *w->funcs))
        return fail_at(ps, line, col, WP_ERR_NOMEM, "too many functions") == WP_OK;
    w->funcs[w->nfuncs++] = *f;
    return true;
}

/* NAME: func(P: T, ...) [-> T]; */
static bool parse_func(parser *ps) {
    uint32_t line = ps->t.line;
    uint32_t col = ps->t.col;
    if (ps->t.kind != T_ID)
        return FAIL(ps, "expected a function or type definition, found '%.*s'%s", (int)ps->t.len,
                    ps->t.p, tok_desc(&ps->t)) == WP_OK;
    wp_wit_func f = {.name = copy_name(ps, ps->t.p, ps->t.len, ps->iface)};
    next(ps);
    if (!f.name || !expect(ps, ':'))
        return false;
    if (is_kw(ps, "async") || is_kw(ps, "static") || is_kw(ps, "constructor"))
        return fail_at(ps, ps->t.line, ps->t.col, WP_ERR_UNSUPPORTED,
                       "'%.*s' functions are not supported", (int)ps->t.len, ps->t.p) == WP_OK;
    if (!is_kw(ps, "func"))
        return FAIL(ps, "expected 'func' after '%s:'", f.name) == WP_OK;
    next(ps);
    field_buf fb = {.named = true, .typed = true};
    if (!parse_fields_raw(ps, '(', ')', fb, &f.params, &f.nparams))
        return false;
    if (ps->t.kind == T_ARROW) {
        next(ps);
        if (is_punct(ps, '('))
            return fail_at(ps, ps->t.line, ps->t.col, WP_ERR_UNSUPPORTED,
                           "named results are not supported: return a record") == WP_OK;
        if (!(f.result = (const wp_wit_type *)parse_type(ps)))
            return false;
    }
    return expect(ps, ';') && add_func(ps, &f, line, col);
}

static bool parse_item(parser *ps);

/* Skips raw text (versions and paths are no tokens) from the current token up to and past
 * 'stop' outside braces, then reads the next token. */
static bool skip_raw(parser *ps, char stop) {
    ps->pos = (size_t)(ps->t.p - ps->src);
    int depth = 0;
    while (ps->pos < ps->len && (ps->src[ps->pos] != stop || depth > 0)) {
        char c = ps->src[ps->pos++];
        depth += c == '{' ? 1 : c == '}' ? -1 : 0;
        if (c == '\n')
            newline(ps);
    }
    if (ps->pos >= ps->len)
        return FAIL(ps, "expected '%c', found end of text", stop) == WP_OK;
    ps->pos++;
    next(ps);
    return true;
}

/* A function named "[kind]res.name" (kind NULL: "[constructor]res"), in the interface. */
static const char *resource_func_name(parser *ps, const char *kind, const char *res,
                                      const char *name) {
    char buf[256];
    int n = kind ? snprintf(buf, sizeof buf, "[%s]%s.%s", kind, res, name)
                 : snprintf(buf, sizeof buf, "[constructor]%s", res);
    if (n < 0 || (size_t)n >= sizeof buf) {
        FAIL(ps, "name '%s' is too long", res);
        return NULL;
    }
    return copy_name(ps, buf, (size_t)n, ps->iface);
}

/* Inside resource R { }: constructor(...); name: func(...); name: static func(...); */
static bool parse_resource_item(parser *ps, wit_node *res) {
    uint32_t line = ps->t.line;
    uint32_t col = ps->t.col;
    wp_wit_func f = {0};
    field_buf fb = {.named = true, .typed = true};
    bool ctor = is_kw(ps, "constructor");
    bool is_static = false;
    if (ctor) {
        next(ps);
        f.name = resource_func_name(ps, NULL, res->t.name, NULL);
        f.result = &res->t;
    } else {
        const char *name = ident(ps, "a method name");
        if (!name || !expect(ps, ':'))
            return false;
        if ((is_static = is_kw(ps, "static")))
            next(ps);
        if (!is_kw(ps, "func"))
            return FAIL(ps, "expected 'func' after '%s:'", name) == WP_OK;
        next(ps);
        f.name = resource_func_name(ps, is_static ? "static" : "method", res->t.name, name);
    }
    if (!f.name || !parse_fields_raw(ps, '(', ')', fb, &f.params, &f.nparams))
        return false;
    if (!ctor && !is_static) { /* self: borrow<R> comes first */
        wit_node *self = node_new(ps, WP_WIT_BORROW);
        wp_wit_field *params = self ? wit__alloc(ps->w, (f.nparams + 1) * sizeof *params) : NULL;
        if (!params)
            return fail_at(ps, line, col, WP_ERR_NOMEM, "out of memory") == WP_OK;
        self->t.elem = &res->t;
        params[0] = (wp_wit_field){"self", &self->t};
        if (f.nparams)
            memcpy(params + 1, f.params, f.nparams * sizeof *params);
        f.params = params;
        f.nparams++;
    }
    if (!ctor && ps->t.kind == T_ARROW) {
        next(ps);
        if (!(f.result = (const wp_wit_type *)parse_type(ps)))
            return false;
    }
    return expect(ps, ';') && add_func(ps, &f, line, col);
}

/* resource NAME; or resource NAME { constructor, methods, static functions } */
static bool parse_resource(parser *ps) {
    uint32_t line = ps->t.line;
    uint32_t col = ps->t.col;
    next(ps);
    wit_node *n = node_new(ps, WP_WIT_OWN);
    const char *name = n ? ident(ps, "a resource name") : NULL;
    if (!name)
        return false;
    n->t.name = name;
    n->resource = true;
    n->res = ps->nres++;
    if (!add_named(ps, name, n, line, col))
        return false;
    if (is_punct(ps, ';')) {
        next(ps);
        return true;
    }
    if (!expect(ps, '{'))
        return false;
    while (ps->st == WP_OK && !is_punct(ps, '}') && ps->t.kind != T_END)
        parse_resource_item(ps, n);
    return ps->st == WP_OK && expect(ps, '}');
}

/* use path.{a, b as c}; names are global here, so only renames matter (an alias). */
static bool parse_use(parser *ps) {
    if (!skip_raw(ps, '{'))
        return false;
    while (ps->st == WP_OK && !is_punct(ps, '}')) {
        uint32_t line = ps->t.line;
        uint32_t col = ps->t.col;
        wit_node *ref = node_new(ps, WP_WIT_BOOL);
        const char *name = ref ? ident(ps, "a type name") : NULL;
        if (!name)
            return false;
        ref->is_ref = true;
        ref->t.name = name;
        if (is_kw(ps, "as")) {
            next(ps);
            const char *alias = ident(ps, "a type name");
            if (!alias || !add_named(ps, alias, ref, line, col))
                return false;
        }
        if (!is_punct(ps, ','))
            break;
        next(ps);
    }
    return expect(ps, '}') && expect(ps, ';');
}

/* True if the current token starts "NAME: func" or "NAME: static func" (a function item). */
static bool at_func(const parser *ps) {
    parser peek = *ps;
    wp_err scratch;
    peek.err = &scratch;
    if (peek.t.kind != T_ID)
        return false;
    next(&peek);
    if (!is_punct(&peek, ':'))
        return false;
    next(&peek);
    return peek.st == WP_OK && is_kw(&peek, "func");
}

/* world NAME { ... }: its exported functions and its types count; imports, includes and
 * exported interfaces (named or inline) are skipped. */
static bool parse_world(parser *ps) {
    next(ps);
    if (!ident(ps, "a world name") || !expect(ps, '{'))
        return false;
    while (ps->st == WP_OK && !is_punct(ps, '}') && ps->t.kind != T_END) {
        if (is_kw(ps, "import") || is_kw(ps, "include")) {
            skip_raw(ps, ';');
        } else if (is_kw(ps, "export")) {
            next(ps);
            if (at_func(ps))
                parse_func(ps);
            else
                skip_raw(ps, ';');
        } else {
            parse_item(ps);
        }
    }
    return ps->st == WP_OK && expect(ps, '}');
}

/* interface NAME { items } */
static bool parse_interface(parser *ps) {
    next(ps);
    const char *name = ident(ps, "an interface name");
    if (!name || !expect(ps, '{'))
        return false;
    if (ps->iface)
        return FAIL(ps, "interfaces do not nest") == WP_OK;
    ps->iface = name;
    while (ps->st == WP_OK && !is_punct(ps, '}') && ps->t.kind != T_END)
        parse_item(ps);
    ps->iface = NULL;
    return ps->st == WP_OK && expect(ps, '}');
}

/* package ns:name[@version]; is accepted and ignored (a version is no identifier, so the
 * text is skipped up to the ';' without the lexer). */
static bool skip_package(parser *ps) {
    while (ps->pos < ps->len && ps->src[ps->pos] != ';' && ps->src[ps->pos] != '\n')
        ps->pos++;
    next(ps);
    return expect(ps, ';');
}

static bool parse_item(parser *ps) {
    static const struct {
        const char *kw;
        wp_wit_kind kind;
    } defs[] = {{"record", WP_WIT_RECORD},
                {"variant", WP_WIT_VARIANT},
                {"enum", WP_WIT_ENUM},
                {"flags", WP_WIT_FLAGS}};
    for (size_t i = 0; i < WP_ARRAY_LEN(defs); i++)
        if (is_kw(ps, defs[i].kw))
            return parse_typedef(ps, defs[i].kind);
    if (is_kw(ps, "type"))
        return parse_alias(ps);
    if (is_kw(ps, "interface"))
        return parse_interface(ps);
    if (is_kw(ps, "package") && !ps->iface)
        return skip_package(ps);
    if (is_kw(ps, "resource"))
        return parse_resource(ps);
    if (is_kw(ps, "use"))
        return parse_use(ps);
    if (is_kw(ps, "world") && !ps->iface)
        return parse_world(ps);
    static const char *const unsupported[] = {"world", "import", "include"};
    for (size_t i = 0; i < WP_ARRAY_LEN(unsupported); i++)
        if (is_kw(ps, unsupported[i]))
            return fail_at(ps, ps->t.line, ps->t.col, WP_ERR_UNSUPPORTED,
                           "'%s' is not supported in a wit signature", unsupported[i]) == WP_OK;
    if (is_kw(ps, "export"))
        next(ps);
    return parse_func(ps);
}

/* ---- Resolution and layout --------------------------------------------------------------- */

static const wit_named *lookup(const wp_wit *w, const char *name) {
    for (uint32_t i = 0; i < w->nnamed; i++)
        if (strcmp(w->named[i].name, name) == 0)
            return &w->named[i];
    return NULL;
}

/* Replaces a use of a name (following aliases) in *slot with the definition. */
static bool resolve_slot(parser *ps, const wp_wit_type **slot) {
    const wit_node *n = wit__node(*slot);
    for (uint32_t hops = 0; n && n->is_ref; hops++) {
        const wit_named *d = lookup(ps->w, n->t.name);
        if (!d)
            return fail_at(ps, n->line, n->col, WP_ERR_INVALID, "unknown type '%s'", n->t.name) ==
                   WP_OK;
        if (hops > ps->w->nnamed)
            return fail_at(ps, d->line, d->col, WP_ERR_INVALID, "type '%s' is recursive",
                           d->name) == WP_OK;
        n = d->def;
    }
    *slot = &n->t;
    return true;
}

static uint64_t align_to(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

uint32_t wit__disc_size(uint32_t ncases) {
    if (ncases <= 256)
        return 1;
    return ncases <= 65536 ? 2 : 4;
}

static void prim_layout(wit_node *n) {
    static const uint8_t sizes[] = {
        [WP_WIT_BOOL] = 1, [WP_WIT_S8] = 1,  [WP_WIT_U8] = 1,  [WP_WIT_S16] = 2,
        [WP_WIT_U16] = 2,  [WP_WIT_S32] = 4, [WP_WIT_U32] = 4, [WP_WIT_S64] = 8,
        [WP_WIT_U64] = 8,  [WP_WIT_F32] = 4, [WP_WIT_F64] = 8, [WP_WIT_CHAR] = 4,
        [WP_WIT_OWN] = 4,  [WP_WIT_BORROW] = 4};
    n->size = n->align = sizes[n->t.kind];
    n->nflat = 1;
}

static uint32_t sat_add(uint32_t a, uint32_t b) {
    return a + b > WIT_FLAT_CAP ? WIT_FLAT_CAP : a + b;
}

const wp_wit_type *wit__case_type(const wp_wit_type *t, uint32_t i) {
    switch (t->kind) {
    case WP_WIT_OPTION:
        return i == 1 ? t->elem : NULL;
    case WP_WIT_RESULT:
        return i == 0 ? t->ok : t->err;
    case WP_WIT_VARIANT:
        return t->fields[i].type;
    default:
        return NULL; /* enum */
    }
}

uint32_t wit__case_count(const wp_wit_type *t) {
    return t->kind == WP_WIT_OPTION || t->kind == WP_WIT_RESULT ? 2 : t->nfields;
}

static void variant_layout(wit_node *n) {
    uint32_t disc = wit__disc_size(wit__case_count(&n->t));
    uint64_t max_align = 1;
    uint64_t max_size = 0;
    uint32_t max_flat = 0;
    for (uint32_t i = 0; i < wit__case_count(&n->t); i++) {
        const wit_node *c = wit__node(wit__case_type(&n->t, i));
        if (!c)
            continue;
        max_align = c->align > max_align ? c->align : max_align;
        max_size = c->size > max_size ? c->size : max_size;
        max_flat = c->nflat > max_flat ? c->nflat : max_flat;
    }
    uint64_t align = disc > max_align ? disc : max_align;
    uint64_t size = align_to(align_to(disc, max_align) + max_size, align);
    n->size = size > WIT_MAX_ELEM_SIZE ? WIT_MAX_ELEM_SIZE + 1 : (uint32_t)size;
    n->align = (uint32_t)align;
    n->nflat = sat_add(1, max_flat);
}

static void record_layout(wit_node *n) {
    uint64_t size = 0;
    uint64_t align = 1;
    uint32_t flat = 0;
    for (uint32_t i = 0; i < n->t.nfields; i++) {
        const wit_node *f = wit__node(n->t.fields[i].type);
        size = align_to(size, f->align) + f->size;
        align = f->align > align ? f->align : align;
        flat = sat_add(flat, f->nflat);
    }
    size = align_to(size, align);
    n->size = size > WIT_MAX_ELEM_SIZE ? WIT_MAX_ELEM_SIZE + 1 : (uint32_t)size;
    n->align = (uint32_t)align;
    n->nflat = flat;
}

void wit__layout(wit_node *n) {
    switch (n->t.kind) {
    case WP_WIT_STRING:
    case WP_WIT_LIST:
        n->size = 8;
        n->align = 4;
        n->nflat = 2;
        return;
    case WP_WIT_TUPLE:
    case WP_WIT_RECORD:
        record_layout(n);
        return;
    case WP_WIT_OPTION:
    case WP_WIT_RESULT:
    case WP_WIT_VARIANT:
    case WP_WIT_ENUM:
        variant_layout(n);
        return;
    case WP_WIT_FLAGS:
        n->size = n->align = n->t.nfields <= 8 ? 1 : n->t.nfields <= 16 ? 2 : 4;
        n->nflat = 1;
        return;
    default:
        prim_layout(n);
        return;
    }
}

static bool visit(parser *ps, wit_node *n, uint32_t depth);

/* own<R> / borrow<R>: R must name a resource; the node takes its name and number. */
static bool visit_handle(parser *ps, wit_node *n) {
    if (!n->resource && n->t.elem) {
        if (!resolve_slot(ps, &n->t.elem))
            return false;
        const wit_node *r = wit__node(n->t.elem);
        if (!r->resource)
            return fail_at(ps, n->line, n->col, WP_ERR_INVALID, "%s<%s>: not a resource",
                           wp_wit_kind_name(n->t.kind), r->t.name ? r->t.name : "?") == WP_OK;
        n->t.name = r->t.name;
        n->res = r->res;
        n->t.elem = NULL;
    }
    wit__layout(n);
    n->mark = 2;
    return true;
}

static bool visit_slot(parser *ps, const wp_wit_type **slot, uint32_t depth) {
    if (!*slot)
        return true;
    return resolve_slot(ps, slot) && visit(ps, (wit_node *)wit__node(*slot), depth + 1);
}

/* Resolves every name below n, rejects recursive and oversized types, and computes layouts
 * bottom-up. Each node is done once (named types are shared). */
static bool visit(parser *ps, wit_node *n, uint32_t depth) {
    if (n->mark == 2)
        return true;
    if (n->mark == 1)
        return fail_at(ps, n->line, n->col, WP_ERR_INVALID, "type '%s' is recursive",
                       n->t.name ? n->t.name : "?") == WP_OK;
    if (depth > WIT_MAX_DEPTH)
        return fail_at(ps, n->line, n->col, WP_ERR_INVALID, "types nested more than %u deep",
                       WIT_MAX_DEPTH) == WP_OK;
    if (n->t.kind == WP_WIT_OWN || n->t.kind == WP_WIT_BORROW)
        return visit_handle(ps, n);
    n->mark = 1;
    bool ok = visit_slot(ps, &n->t.elem, depth) && visit_slot(ps, &n->t.ok, depth) &&
              visit_slot(ps, &n->t.err, depth);
    wp_wit_field *fields = (wp_wit_field *)n->t.fields; /* in our arena: ours to fix up */
    for (uint32_t i = 0; ok && i < n->t.nfields; i++)
        ok = visit_slot(ps, &fields[i].type, depth);
    if (!ok)
        return false;
    wit__layout(n);
    n->mark = 2;
    if (n->size > WIT_MAX_ELEM_SIZE)
        return fail_at(ps, n->line, n->col, WP_ERR_INVALID, "type '%s' is too large",
                       n->t.name ? n->t.name : wp_wit_kind_name(n->t.kind)) == WP_OK;
    return true;
}

static bool resolve_all(parser *ps) {
    wp_wit *w = ps->w;
    for (uint32_t i = 0; i < w->nnamed; i++) {
        const wp_wit_type *t = &w->named[i].def->t;
        if (!visit_slot(ps, &t, 0))
            return false;
    }
    for (uint32_t i = 0; i < w->nfuncs; i++) {
        wp_wit_field *params = (wp_wit_field *)w->funcs[i].params;
        for (uint32_t j = 0; j < w->funcs[i].nparams; j++)
            if (!visit_slot(ps, &params[j].type, 0))
                return false;
        if (!visit_slot(ps, &w->funcs[i].result, 0))
            return false;
    }
    return true;
}

/* ---- Public ------------------------------------------------------------------------------ */

wp_status wp_wit_parse(const char *text, size_t len, wp_wit **out, wp_err *err) {
    *out = NULL;
    wp_wit *w = wp_heap_zalloc(wp_heap_default(), sizeof *w);
    if (!w)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    parser ps = {.w = w, .src = text, .len = len, .line = 1, .err = err};
    next(&ps);
    while (ps.st == WP_OK && ps.t.kind != T_END)
        parse_item(&ps);
    if (ps.st == WP_OK)
        resolve_all(&ps);
    if (ps.st != WP_OK) {
        wp_wit_free(w);
        return ps.st;
    }
    *out = w;
    return WP_OK;
}

uint32_t wp_wit_func_count(const wp_wit *w) { return w->nfuncs; }

const wp_wit_func *wp_wit_func_at(const wp_wit *w, uint32_t i) {
    return i < w->nfuncs ? &w->funcs[i] : NULL;
}

const wp_wit_func *wp_wit_find_func(const wp_wit *w, const char *name) {
    for (uint32_t i = 0; i < w->nfuncs; i++)
        if (strcmp(w->funcs[i].name, name) == 0)
            return &w->funcs[i];
    return NULL;
}

const char *wp_wit_kind_name(wp_wit_kind k) {
    switch (k) {
#define X(kind, text)                                                                              \
    case WP_WIT_##kind:                                                                            \
        return text;
        WP_WIT_KINDS(X)
#undef X
    }
    return "?";
}

static void print_fields(FILE *out, const wp_wit_type *t) {
    for (uint32_t i = 0; i < t->nfields; i++) {
        fputs(i ? ", " : "", out);
        wp_wit_type_print(out, t->fields[i].type);
    }
}

void wp_wit_type_print(FILE *out, const wp_wit_type *t) {
    if (t->name && t->kind != WP_WIT_OWN && t->kind != WP_WIT_BORROW) {
        fputs(t->name, out);
        return;
    }
    fputs(wp_wit_kind_name(t->kind), out);
    switch (t->kind) {
    case WP_WIT_OWN:
    case WP_WIT_BORROW:
        fprintf(out, "<%s>", t->name ? t->name : "?");
        return;
    case WP_WIT_LIST:
    case WP_WIT_OPTION:
        fputc('<', out);
        wp_wit_type_print(out, t->elem);
        fputc('>', out);
        return;
    case WP_WIT_RESULT:
        if (!t->ok && !t->err)
            return;
        fputc('<', out);
        if (t->ok)
            wp_wit_type_print(out, t->ok);
        else
            fputc('_', out);
        if (t->err) {
            fputs(", ", out);
            wp_wit_type_print(out, t->err);
        }
        fputc('>', out);
        return;
    case WP_WIT_TUPLE:
        fputc('<', out);
        print_fields(out, t);
        fputc('>', out);
        return;
    default:
        return;
    }
}

void wp_wit_func_print(FILE *out, const wp_wit_func *f) {
    fputs("func(", out);
    for (uint32_t i = 0; i < f->nparams; i++) {
        fprintf(out, "%s%s: ", i ? ", " : "", f->params[i].name);
        wp_wit_type_print(out, f->params[i].type);
    }
    fputc(')', out);
    if (f->result) {
        fputs(" -> ", out);
        wp_wit_type_print(out, f->result);
    }
}

void wit__type_name(const wp_wit_type *t, char *buf, size_t size) {
    if (size == 0)
        return;
    memset(buf, 0, size); /* the stream ends with a NUL only while there is room for one */
    FILE *f = fmemopen(buf, size - 1, "w");
    if (f) {
        wp_wit_type_print(f, t);
        fclose(f);
    }
}

void wit__int_range(wp_wit_kind k, int64_t *lo, uint64_t *hi) {
    static const struct {
        wp_wit_kind k;
        int64_t lo;
        uint64_t hi;
    } ranges[] = {{WP_WIT_S8, INT8_MIN, INT8_MAX},    {WP_WIT_U8, 0, UINT8_MAX},
                  {WP_WIT_S16, INT16_MIN, INT16_MAX}, {WP_WIT_U16, 0, UINT16_MAX},
                  {WP_WIT_S32, INT32_MIN, INT32_MAX}, {WP_WIT_U32, 0, UINT32_MAX},
                  {WP_WIT_S64, INT64_MIN, INT64_MAX}, {WP_WIT_U64, 0, UINT64_MAX}};
    *lo = INT64_MIN;
    *hi = UINT64_MAX;
    for (size_t i = 0; i < WP_ARRAY_LEN(ranges); i++) {
        if (ranges[i].k == k) {
            *lo = ranges[i].lo;
            *hi = ranges[i].hi;
            return;
        }
    }
}

bool wit__int_fits(wp_wit_kind k, int64_t i) {
    int64_t lo = 0;
    uint64_t hi = 0;
    wit__int_range(k, &lo, &hi);
    return k == WP_WIT_U64 || (i >= lo && (i < 0 || (uint64_t)i <= hi));
}
