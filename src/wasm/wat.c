/* wat.c: wp_wat_to_wasm: the module forms (fields, binary, quote) and the binary's layout. */
#include <string.h>

#include "wat_internal.h"

#define HEADER sizeof(size_t) /* an output block starts with its capacity, for wp_wat_free */

static void parser_init(wp_wat_parser *p, wp_heap *h, wp_err *err) {
    memset(p, 0, sizeof *p);
    p->heap = h;
    p->err = err;
    wp_wat_buf *bufs[] = {&p->type_pool, &p->imports, &p->funcs,   &p->tables,
                          &p->mems,      &p->globals, &p->exports, &p->elems,
                          &p->code,      &p->datas,   &p->body,    &p->scratch};
    for (size_t i = 0; i < WP_ARRAY_LEN(bufs); i++)
        wp__wat_buf_init(bufs[i], h);
}

void wp__wat_parser_free(wp_wat_parser *p) {
    for (int i = 0; i < WP_WAT_SPACES; i++)
        wp__wat_names_free(&p->names[i], p->heap);
    wp__wat_names_free(&p->locals, p->heap);
    wp_heap_free(p->heap, p->types, p->types_cap * sizeof *p->types);
    wp_heap_free(p->heap, p->labels, p->labels_cap * sizeof *p->labels);
    wp_wat_buf *bufs[] = {&p->type_pool, &p->imports, &p->funcs,   &p->tables,
                          &p->mems,      &p->globals, &p->exports, &p->elems,
                          &p->code,      &p->datas,   &p->body,    &p->scratch};
    for (size_t i = 0; i < WP_ARRAY_LEN(bufs); i++)
        wp__wat_buf_free(bufs[i]);
}

/* ---- The binary ------------------------------------------------------------------------------ */

static size_t uleb_size(uint64_t v) {
    size_t n = 1;
    while (v >>= 7)
        n++;
    return n;
}

/* A section of count entries whose bytes are in b; left out when empty. */
static void section(wp_wat_buf *out, uint8_t id, uint32_t count, const wp_wat_buf *b) {
    if (count == 0)
        return;
    wp__wat_buf_u8(out, id);
    wp__wat_buf_uleb(out, uleb_size(count) + b->len);
    wp__wat_buf_uleb(out, count);
    wp__wat_buf_bytes(out, b->data, b->len);
}

static void type_entries(wp_wat_parser *p, wp_wat_buf *b) {
    for (uint32_t i = 0; i < p->ntypes; i++) {
        const wp_wat_functype *t = &p->types[i];
        const uint8_t *v = t->nparams + t->nresults ? p->type_pool.data + t->off : NULL;
        wp__wat_buf_u8(b, 0x60);
        wp__wat_buf_vec(b, v, t->nparams);
        wp__wat_buf_vec(b, v ? v + t->nparams : NULL, t->nresults);
    }
}

static void assemble(wp_wat_parser *p, wp_wat_buf *out) {
    static const uint8_t preamble[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    wp__wat_buf_bytes(out, preamble, sizeof preamble);
    p->body.len = 0;
    type_entries(p, &p->body);
    section(out, 1, p->ntypes, &p->body);
    section(out, 2, p->nimports, &p->imports);
    section(out, 3, p->ndefs[WP_WAT_FUNC], &p->funcs);
    section(out, 4, p->ndefs[WP_WAT_TABLE], &p->tables);
    section(out, 5, p->ndefs[WP_WAT_MEM], &p->mems);
    section(out, 6, p->ndefs[WP_WAT_GLOBAL], &p->globals);
    section(out, 7, p->nexports, &p->exports);
    if (p->has_start) {
        wp__wat_buf_u8(out, 8);
        wp__wat_buf_uleb(out, uleb_size(p->start));
        wp__wat_buf_uleb(out, p->start);
    }
    section(out, 9, p->index[WP_WAT_ELEM], &p->elems);
    if (p->uses_data_count) { /* required by memory.init and data.drop */
        wp__wat_buf_u8(out, 12);
        wp__wat_buf_uleb(out, uleb_size(p->index[WP_WAT_DATA]));
        wp__wat_buf_uleb(out, p->index[WP_WAT_DATA]);
    }
    section(out, 10, p->ndefs[WP_WAT_FUNC], &p->code);
    section(out, 11, p->index[WP_WAT_DATA], &p->datas);
    if (p->body.oom)
        out->oom = true;
}

/* ---- Module forms ------------------------------------------------------------------------------ */

static wp_status translate(wp_heap *h, const char *text, size_t len, unsigned quotes,
                           wp_wat_buf *out, wp_err *err);

/* Module fields, both passes, then the binary. The fields end at ')' if wrapped. */
static wp_status fields(wp_wat_parser *p, bool wrapped, wp_wat_buf *out) {
    wp_wat_lexer start = p->lx;
    wp_wat_token start_tok = p->tok;
    wp_status st = wp__wat_collect(p);
    if (st == WP_OK && wrapped)
        st = wp__wat_expect_rpar(p);
    if (st == WP_OK && p->tok.kind != WP_WAT_EOF)
        st = wp__wat_unexpected(p);
    if (st != WP_OK)
        return st;
    p->lx = start;
    p->tok = start_tok;
    if ((st = wp__wat_emit(p)) != WP_OK)
        return st;
    assemble(p, out);
    return out->oom ? wp_err_set(p->err, WP_ERR_NOMEM, "out of memory") : WP_OK;
}

/* The strings of (module binary ...) or (module quote ...), up to ')' and the end of text. */
static wp_status strings(wp_wat_parser *p, wp_wat_buf *dst) {
    wp_status st = WP_OK;
    while (st == WP_OK && p->tok.kind == WP_WAT_STRING) {
        wp__wat_buf_string(dst, &p->tok);
        st = wp__wat_advance(p);
    }
    if (st == WP_OK)
        st = wp__wat_expect_rpar(p);
    if (st == WP_OK && p->tok.kind != WP_WAT_EOF)
        st = wp__wat_unexpected(p);
    if (st == WP_OK && dst->oom)
        st = wp_err_set(p->err, WP_ERR_NOMEM, "out of memory");
    return st;
}

static wp_status quoted(wp_wat_parser *p, unsigned quotes, wp_wat_buf *out) {
    if (quotes >= WP_WAT_MAX_QUOTE_DEPTH)
        return wp__wat_fail(p->err, &p->tok, "module quote nested too deep");
    wp_wat_buf text;
    wp__wat_buf_init(&text, p->heap);
    wp_status st = strings(p, &text);
    if (st == WP_OK)
        st = translate(p->heap, (const char *)text.data, text.len, quotes + 1, out, p->err);
    wp__wat_buf_free(&text);
    return st;
}

/* (module $id? ...) around the fields, or the fields alone. */
static wp_status module(wp_wat_parser *p, unsigned quotes, wp_wat_buf *out) {
    wp_status st = wp__wat_advance(p);
    if (st != WP_OK)
        return st;
    if (!wp__wat_peek_lpar_kw(p, "module"))
        return fields(p, false, out);
    if ((st = wp__wat_advance(p)) != WP_OK || (st = wp__wat_advance(p)) != WP_OK)
        return st;
    if (p->tok.kind == WP_WAT_ID && (st = wp__wat_advance(p)) != WP_OK)
        return st;
    if (wp__wat_is_kw(&p->tok, "binary")) {
        st = wp__wat_advance(p);
        return st != WP_OK ? st : strings(p, out);
    }
    if (wp__wat_is_kw(&p->tok, "quote")) {
        st = wp__wat_advance(p);
        return st != WP_OK ? st : quoted(p, quotes, out);
    }
    return fields(p, true, out);
}

static wp_status translate(wp_heap *h, const char *text, size_t len, unsigned quotes,
                           wp_wat_buf *out, wp_err *err) {
    wp_wat_parser p;
    parser_init(&p, h, err);
    wp__wat_lex_init(&p.lx, text, len);
    wp_status st = module(&p, quotes, out);
    wp__wat_parser_free(&p);
    return st;
}

/* ---- Entry points ------------------------------------------------------------------------------ */

wp_status wp__wat_to_wasm_in(wp_heap *h, const char *text, size_t len, uint8_t **out,
                             size_t *out_len, wp_err *err) {
    *out = NULL;
    *out_len = 0;
    wp_wat_buf res;
    wp__wat_buf_init(&res, h);
    static const uint8_t header[HEADER];
    wp__wat_buf_bytes(&res, header, HEADER);
    wp_status st = translate(h, text ? text : "", text ? len : 0, 0, &res, err);
    if (st == WP_OK && res.oom)
        st = wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    if (st != WP_OK) {
        wp__wat_buf_free(&res);
        return st;
    }
    memcpy(res.data, &res.cap, HEADER);
    *out = res.data + HEADER;
    *out_len = res.len - HEADER;
    return WP_OK;
}

void wp__wat_free_in(wp_heap *h, uint8_t *bytes) {
    if (!bytes)
        return;
    size_t cap;
    memcpy(&cap, bytes - HEADER, HEADER);
    wp_heap_free(h, bytes - HEADER, cap);
}

wp_status wp_wat_to_wasm(const char *text, size_t len, uint8_t **out, size_t *out_len,
                         wp_err *err) {
    return wp__wat_to_wasm_in(wp_heap_default(), text, len, out, out_len, err);
}

void wp_wat_free(uint8_t *bytes) { wp__wat_free_in(wp_heap_default(), bytes); }
