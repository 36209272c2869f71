/* test_decode.c: the binary decoder (malformed input, each section encoding) and the module API. */
#include <stdint.h>
#include <stdlib.h>

#include "../../src/wasm/internal.h"
#include "test.h"
#include "wasm_bytes.h"

#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00

/* Decodes through a test heap and checks the failure: kind, message, nothing allocated. */
static void expect_fail_at(int line, const uint8_t *bytes, size_t len, wp_status kind,
                           const char *text) {
    int before = test_failures;
    test_heap th;
    test_heap_init(&th);
    wp_module *m = NULL;
    wp_err err = {0};
    wp_status st = wp_module_decode_in(&th.heap, bytes, len, &m, &err);
    CHECK_EQ(st, kind);
    CHECK(m == NULL);
    CHECK_STR_CONTAINS(err.msg, text);
    CHECK_EQ(th.heap.used, 0);
    if (st == WP_OK)
        wp_module_free(m);
    if (test_failures != before)
        fprintf(stderr, "  (expected failure from line %d: %s)\n", line, err.msg);
}

#define EXPECT_FAIL(arr, kind, text) expect_fail_at(__LINE__, arr, sizeof arr, kind, text)
#define EXPECT_FAIL_WB(b, kind, text) expect_fail_at(__LINE__, (b)->buf, (b)->len, kind, text)

/* Decodes and returns the module, or NULL after reporting the error. */
static wp_module *decode_ok_at(int line, const uint8_t *bytes, size_t len) {
    wp_module *m = NULL;
    wp_err err = {0};
    wp_status st = wp_module_decode(bytes, len, &m, &err);
    CHECK_EQ(st, WP_OK);
    if (st != WP_OK) {
        fprintf(stderr, "  (line %d: %s)\n", line, err.msg);
        return NULL;
    }
    return m;
}

#define DECODE_OK(arr) decode_ok_at(__LINE__, arr, sizeof arr)
#define DECODE_OK_WB(b) decode_ok_at(__LINE__, (b)->buf, (b)->len)

/* ---- Header and sections --------------------------------------------------------------------- */

static void test_empty_module(void) {
    static const uint8_t bytes[] = {HDR};
    wp_module *m = DECODE_OK(bytes);
    if (!m)
        return;
    CHECK_EQ(m->ntypes, 0);
    CHECK_EQ(m->nfuncs, 0);
    CHECK_EQ(m->nimports, 0);
    CHECK_EQ(m->nexports, 0);
    CHECK(!m->has_start);
    CHECK_EQ(wp_module_import_count(m), 0);
    CHECK_EQ(wp_module_export_count(m), 0);
    wp_module_free(m);
}

static void test_header(void) {
    static const uint8_t bad_magic[] = {0x00, 0x61, 0x73, 0x6e, 1, 0, 0, 0};
    static const uint8_t short_magic[] = {0x00, 0x61, 0x73};
    static const uint8_t bad_version[] = {0x00, 0x61, 0x73, 0x6d, 2, 0, 0, 0};
    static const uint8_t short_version[] = {0x00, 0x61, 0x73, 0x6d, 1, 0};
    EXPECT_FAIL(bad_magic, WP_ERR_INVALID, "at 0x0: magic header not detected");
    EXPECT_FAIL(short_magic, WP_ERR_INVALID, "unexpected end");
    EXPECT_FAIL(bad_version, WP_ERR_INVALID, "at 0x4: unknown binary version");
    EXPECT_FAIL(short_version, WP_ERR_INVALID, "unexpected end");
    expect_fail_at(__LINE__, bad_magic, 0, WP_ERR_INVALID, "unexpected end");
}

static void test_section_sizes(void) {
    static const uint8_t past_end[] = {HDR, 1, 5, 1, 0x60, 0};
    static const uint8_t too_big[] = {HDR, 1, 5, 1, 0x60, 0, 0, 0};
    static const uint8_t too_small[] = {HDR, 1, 3, 1, 0x60, 0, 0};
    EXPECT_FAIL(past_end, WP_ERR_INVALID, "at 0x8: length out of bounds");
    EXPECT_FAIL(too_big, WP_ERR_INVALID, "at 0xe: section size mismatch");
    EXPECT_FAIL(too_small, WP_ERR_INVALID, "unexpected end");
}

static void test_section_order(void) {
    static const uint8_t out_of_order[] = {HDR, 3, 1, 0, 1, 1, 0};
    static const uint8_t duplicate[] = {HDR, 1, 1, 0, 1, 1, 0};
    static const uint8_t datacount_after_code[] = {HDR, 10, 1, 0, 12, 1, 0};
    static const uint8_t datacount_before_code[] = {HDR, 12, 1, 0, 10, 1, 0};
    static const uint8_t bad_id[] = {HDR, 13, 0};
    static const uint8_t customs[] = {HDR, 0, 2, 1, 'a', 1, 1, 0, 0, 2, 1, 'b', 3, 1, 0, 0, 1, 0};
    static const uint8_t custom_name_past_end[] = {HDR, 0, 1, 5};
    EXPECT_FAIL(out_of_order, WP_ERR_INVALID, "at 0xb: unexpected content after last section");
    EXPECT_FAIL(duplicate, WP_ERR_INVALID, "unexpected content after last section");
    EXPECT_FAIL(datacount_after_code, WP_ERR_INVALID, "unexpected content after last section");
    EXPECT_FAIL(bad_id, WP_ERR_INVALID, "at 0x8: malformed section id");
    EXPECT_FAIL(custom_name_past_end, WP_ERR_INVALID, "length out of bounds");
    wp_module *m = DECODE_OK(datacount_before_code);
    if (m)
        CHECK(m->has_datacount && m->datacount == 0);
    wp_module_free(m);
    wp_module_free(DECODE_OK(customs));
}

static void test_leb128(void) {
    static const uint8_t too_long[] = {HDR, 1, 6, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    static const uint8_t too_large[] = {HDR, 1, 5, 0xff, 0xff, 0xff, 0xff, 0x7f};
    static const uint8_t padded_zero[] = {HDR, 1, 2, 0x80, 0x00};
    /* global i32 = i32.const with unused bits of the fifth byte not a sign extension */
    static const uint8_t s32_too_large[] = {HDR,  6,    10,   1,    0x7f, 0,   0x41,
                                            0xff, 0xff, 0xff, 0xff, 0x4f, 0x0b};
    EXPECT_FAIL(too_long, WP_ERR_INVALID, "integer representation too long");
    EXPECT_FAIL(too_large, WP_ERR_INVALID, "integer too large");
    EXPECT_FAIL(s32_too_large, WP_ERR_INVALID, "integer too large");
    wp_module_free(DECODE_OK(padded_zero));
}

/* A count larger than the section could hold fails before anything is allocated for it. */
static void test_count_exceeds_bytes(void) {
    static const uint8_t types[] = {HDR, 1, 2, 100, 0x60};
    static const uint8_t funcs[] = {HDR, 3, 5, 0xff, 0xff, 0xff, 0xff, 0x0f};
    static const uint8_t exports[] = {HDR, 7, 3, 0xff, 0xff, 0x03};
    EXPECT_FAIL(types, WP_ERR_INVALID, "at 0xa: unexpected end");
    EXPECT_FAIL(funcs, WP_ERR_INVALID, "unexpected end");
    EXPECT_FAIL(exports, WP_ERR_INVALID, "unexpected end");
}

/* ---- Functions and code ---------------------------------------------------------------------- */

/* Type 0 is (params) -> (); one function of it whose body is 'body' (locals included). */
static void one_func_module(wb *b, uint32_t nparams, const uint8_t *body, size_t n) {
    wb content = {0};
    wb_header(b);
    wb_byte(&content, 1);
    wb_byte(&content, 0x60);
    wb_u32(&content, nparams);
    for (uint32_t i = 0; i < nparams; i++)
        wb_byte(&content, 0x7f);
    wb_byte(&content, 0);
    wb_section(b, 1, &content);
    static const uint8_t funcsec[] = {1, 0};
    wb_section_raw(b, 3, funcsec, sizeof funcsec);
    content.len = 0;
    wb_byte(&content, 1);
    wb_u32(&content, (uint32_t)n);
    wb_bytes(&content, body, n);
    wb_section(b, 10, &content);
}

static void test_locals(void) {
    static const uint8_t huge[] = {1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x0b};
    static const uint8_t groups[] = {3, 2, 0x7f, 1, 0x7c, 1, 0x6f, 0x0b};
    wb b = {0};
    one_func_module(&b, 0, huge, sizeof huge);
    EXPECT_FAIL_WB(&b, WP_ERR_INVALID, "too many locals");

    /* Exactly the limit passes; one more, counting params, fails. */
    wb body = {0};
    wb_byte(&body, 1);
    wb_u32(&body, WP_MAX_FUNC_LOCALS);
    wb_byte(&body, 0x7f);
    wb_byte(&body, 0x0b);
    b.len = 0;
    one_func_module(&b, 0, body.buf, body.len);
    wp_module *m = DECODE_OK_WB(&b);
    if (m)
        CHECK_EQ(m->funcs[0].nlocals, WP_MAX_FUNC_LOCALS);
    wp_module_free(m);
    b.len = 0;
    one_func_module(&b, 1, body.buf, body.len);
    EXPECT_FAIL_WB(&b, WP_ERR_INVALID, "too many locals");

    /* Groups are expanded in order. */
    b.len = 0;
    one_func_module(&b, 1, groups, sizeof groups);
    m = DECODE_OK_WB(&b);
    if (!m)
        return;
    const wp_funcdecl *f = &m->funcs[0];
    CHECK_EQ(f->nlocals, 4);
    CHECK_EQ(f->locals[0], WP_I32);
    CHECK_EQ(f->locals[1], WP_I32);
    CHECK_EQ(f->locals[2], WP_F64);
    CHECK_EQ(f->locals[3], WP_EXTERNREF);
    /* The body starts after the locals and ends just past its final 'end'. */
    CHECK_EQ(m->bytes[f->body_offset], 0x0b);
    CHECK_EQ(f->body_end, f->body_offset + 1);
    CHECK_EQ(f->body_end, m->len);
    wp_module_free(m);
}

static void test_function_code_counts(void) {
    static const uint8_t no_code[] = {HDR, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0};
    static const uint8_t no_funcs[] = {HDR, 1, 4, 1, 0x60, 0, 0, 10, 4, 1, 2, 0, 0x0b};
    static const uint8_t fewer_bodies[] = {HDR, 1, 4, 1,  0x60, 0, 0, 3, 3,
                                           2,   0, 0, 10, 4,    1, 2, 0, 0x0b};
    EXPECT_FAIL(no_code, WP_ERR_INVALID, "function and code section have inconsistent lengths");
    EXPECT_FAIL(no_funcs, WP_ERR_INVALID, "function and code section have inconsistent lengths");
    EXPECT_FAIL(fewer_bodies, WP_ERR_INVALID,
                "function and code section have inconsistent lengths");
}

static void test_body_bounds(void) {
    static const uint8_t body_past_section[] = {HDR, 1, 4,  1, 0x60, 0, 0, 3,   2,
                                                1,   0, 10, 4, 1,    9, 0, 0x0b};
    static const uint8_t no_end[] = {0, 0x41, 1, 0x1a};
    static const uint8_t after_end[] = {0, 0x0b, 0x01};
    /* 0xfd here is the first byte of the immediate 253, not a SIMD prefix. */
    static const uint8_t imm_fd[] = {0, 0x41, 0xfd, 0x01, 0x1a, 0x0b};
    EXPECT_FAIL(body_past_section, WP_ERR_INVALID, "unexpected end");
    wb b = {0};
    one_func_module(&b, 0, no_end, sizeof no_end);
    EXPECT_FAIL_WB(&b, WP_ERR_INVALID, "END opcode expected");
    b.len = 0;
    one_func_module(&b, 0, after_end, sizeof after_end);
    EXPECT_FAIL_WB(&b, WP_ERR_INVALID, "section size mismatch");
    b.len = 0;
    one_func_module(&b, 0, imm_fd, sizeof imm_fd);
    wp_module_free(DECODE_OK_WB(&b));
}

/* ---- Names, kinds, limits -------------------------------------------------------------------- */

static void custom_named(wb *b, const uint8_t *name, size_t n) {
    wb content = {0};
    wb_u32(&content, (uint32_t)n);
    wb_bytes(&content, name, n);
    b->len = 0;
    wb_header(b);
    wb_section(b, 0, &content);
}

static void test_utf8(void) {
    static const struct {
        uint8_t bytes[4];
        uint8_t len;
        int ok;
    } cases[] = {
        {{0xff}, 1, 0},                   /* never valid */
        {{0x80}, 1, 0},                   /* lone continuation */
        {{0xc0, 0x80}, 2, 0},             /* overlong NUL */
        {{0xe0, 0x80, 0x80}, 3, 0},       /* overlong */
        {{0xed, 0xa0, 0x80}, 3, 0},       /* surrogate U+D800 */
        {{0xf4, 0x90, 0x80, 0x80}, 4, 0}, /* above U+10FFFF */
        {{0xe2, 0x82}, 2, 0},             /* truncated */
        {{0xe2, 0x28, 0xa1}, 3, 0},       /* bad continuation */
        {{0x00}, 1, 1},                   /* NUL is a character */
        {{0xc2, 0xa9}, 2, 1},             /* U+00A9 */
        {{0xe2, 0x82, 0xac}, 3, 1},       /* U+20AC */
        {{0xf0, 0x9f, 0x98, 0x80}, 4, 1}, /* U+1F600 */
        {{0xf4, 0x8f, 0xbf, 0xbf}, 4, 1}, /* U+10FFFF */
    };
    wb b = {0};
    for (size_t i = 0; i < WP_ARRAY_LEN(cases); i++) {
        custom_named(&b, cases[i].bytes, cases[i].len);
        if (cases[i].ok)
            wp_module_free(DECODE_OK_WB(&b));
        else
            EXPECT_FAIL_WB(&b, WP_ERR_INVALID, "malformed UTF-8 encoding");
    }
    /* Import and export names are checked too. */
    static const uint8_t import_name[] = {HDR, 2, 8, 1, 1, 'm', 1, 0xff, 3, 0x7f, 0};
    static const uint8_t export_name[] = {HDR, 7, 5, 1, 1, 0xc0, 0, 0};
    EXPECT_FAIL(import_name, WP_ERR_INVALID, "malformed UTF-8 encoding");
    EXPECT_FAIL(export_name, WP_ERR_INVALID, "malformed UTF-8 encoding");
}

static void test_malformed_kinds(void) {
    static const uint8_t import_kind[] = {HDR, 2, 5, 1, 0, 0, 4, 0};
    static const uint8_t export_kind[] = {HDR, 7, 4, 1, 0, 4, 0};
    static const uint8_t limits_flags[] = {HDR, 5, 3, 1, 2, 0};
    static const uint8_t mutability[] = {HDR, 6, 6, 1, 0x7f, 2, 0x41, 0, 0x0b};
    static const uint8_t valtype[] = {HDR, 6, 6, 1, 0x7a, 0, 0x41, 0, 0x0b};
    static const uint8_t reftype[] = {HDR, 4, 4, 1, 0x7f, 0, 0};
    static const uint8_t elem_flags[] = {HDR, 9, 3, 1, 8, 0};
    static const uint8_t elem_kind[] = {HDR, 9, 4, 1, 1, 1, 0};
    static const uint8_t data_flags[] = {HDR, 11, 3, 1, 3, 0};
    static const uint8_t functype_form[] = {HDR, 1, 4, 1, 0x61, 0, 0};
    EXPECT_FAIL(import_kind, WP_ERR_INVALID, "at 0xd: malformed import kind");
    EXPECT_FAIL(export_kind, WP_ERR_INVALID, "malformed export kind");
    EXPECT_FAIL(limits_flags, WP_ERR_INVALID, "limits flags");
    EXPECT_FAIL(mutability, WP_ERR_INVALID, "malformed mutability");
    EXPECT_FAIL(valtype, WP_ERR_INVALID, "malformed value type");
    EXPECT_FAIL(reftype, WP_ERR_INVALID, "malformed reference type");
    EXPECT_FAIL(elem_flags, WP_ERR_INVALID, "malformed elements segment kind");
    EXPECT_FAIL(elem_kind, WP_ERR_INVALID, "malformed element kind");
    EXPECT_FAIL(data_flags, WP_ERR_INVALID, "malformed data segment kind");
    EXPECT_FAIL(functype_form, WP_ERR_INVALID, "function type form");
}

static void test_const_exprs(void) {
    static const uint8_t empty[] = {HDR, 6, 4, 1, 0x7f, 0, 0x0b};
    static const uint8_t two[] = {HDR, 6, 8, 1, 0x7f, 0, 0x41, 0, 0x41, 0, 0x0b};
    static const uint8_t add[] = {HDR, 6, 7, 1, 0x7f, 0, 0x41, 0, 0x6a, 0x0b};
    static const uint8_t nop[] = {HDR, 6, 7, 1, 0x7f, 0, 0x01, 0x41, 0, 0x0b};
    static const uint8_t no_end[] = {HDR, 6, 5, 1, 0x7f, 0, 0x41, 0};
    EXPECT_FAIL(empty, WP_ERR_INVALID, "type mismatch");
    EXPECT_FAIL(two, WP_ERR_INVALID, "type mismatch");
    EXPECT_FAIL(add, WP_ERR_INVALID, "constant expression required");
    EXPECT_FAIL(nop, WP_ERR_INVALID, "constant expression required");
    EXPECT_FAIL(no_end, WP_ERR_INVALID, "unexpected end");
}

static void test_simd_unsupported(void) {
    static const uint8_t param[] = {HDR, 1, 5, 1, 0x60, 1, 0x7b, 0};
    static const uint8_t global[] = {HDR, 6, 4, 1, 0x7b, 0, 0x0b};
    static const uint8_t local[] = {1, 1, 0x7b, 0x0b};
    static const uint8_t v128_const[] = {0, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0,    0,   0,
                                         0, 0,    0,    0, 0, 0, 0, 0, 0x1a, 0x0b};
    static const uint8_t block[] = {0, 0x02, 0x7b, 0x0b, 0x0b};
    EXPECT_FAIL(param, WP_ERR_UNSUPPORTED, "SIMD is not supported");
    EXPECT_FAIL(global, WP_ERR_UNSUPPORTED, "SIMD is not supported");
    wb b = {0};
    one_func_module(&b, 0, local, sizeof local);
    EXPECT_FAIL_WB(&b, WP_ERR_UNSUPPORTED, "SIMD is not supported");
    b.len = 0;
    one_func_module(&b, 0, v128_const, sizeof v128_const);
    EXPECT_FAIL_WB(&b, WP_ERR_UNSUPPORTED, "SIMD is not supported");
    b.len = 0;
    one_func_module(&b, 0, block, sizeof block);
    EXPECT_FAIL_WB(&b, WP_ERR_UNSUPPORTED, "SIMD is not supported");
}

/* ---- Data count ------------------------------------------------------------------------------ */

static void test_data_count(void) {
    /* memory 1; data count 2; one passive data segment */
    static const uint8_t more[] = {HDR, 5, 3, 1, 0, 1, 12, 1, 2, 11, 4, 1, 1, 1, 'x'};
    static const uint8_t no_data[] = {HDR, 5, 3, 1, 0, 1, 12, 1, 1};
    static const uint8_t matching[] = {HDR, 5, 3, 1, 0, 1, 12, 1, 1, 11, 4, 1, 1, 1, 'x'};
    EXPECT_FAIL(more, WP_ERR_INVALID, "data count and data section have inconsistent lengths");
    EXPECT_FAIL(no_data, WP_ERR_INVALID, "data count and data section have inconsistent lengths");
    wp_module *m = DECODE_OK(matching);
    if (m) {
        CHECK(m->has_datacount);
        CHECK_EQ(m->datacount, 1);
        CHECK_EQ(m->ndatas, 1);
    }
    wp_module_free(m);
}

/* ---- Segments -------------------------------------------------------------------------------- */

/* Tables: 0 funcref (10), 1 externref (10); four functions () -> (); element segments in
 * all eight encodings. */
static void elem_module(wb *b) {
    static const uint8_t types[] = {1, 0x60, 0, 0};
    static const uint8_t funcs[] = {4, 0, 0, 0, 0};
    static const uint8_t tables[] = {2, 0x70, 0, 10, 0x6f, 0, 10};
    /* clang-format off */
    static const uint8_t elems[] = {
        8,
        0, 0x41, 1, 0x0b, 2, 0, 1,                      /* active table 0, func indices */
        1, 0, 1, 2,                                     /* passive, func indices */
        2, 0, 0x41, 3, 0x0b, 0, 1, 3,                   /* active explicit table 0 */
        3, 0, 1, 1,                                     /* declarative, func indices */
        4, 0x41, 5, 0x0b, 2, 0xd2, 0, 0x0b, 0xd0, 0x70, 0x0b, /* active, expressions */
        5, 0x70, 1, 0xd2, 2, 0x0b,                      /* passive, expressions */
        6, 1, 0x41, 0, 0x0b, 0x6f, 1, 0xd0, 0x6f, 0x0b, /* active table 1, externref */
        7, 0x70, 1, 0xd2, 3, 0x0b,                      /* declarative, expressions */
    };
    /* clang-format on */
    static const uint8_t code[] = {4, 2, 0, 0x0b, 2, 0, 0x0b, 2, 0, 0x0b, 2, 0, 0x0b};
    wb_header(b);
    wb_section_raw(b, 1, types, sizeof types);
    wb_section_raw(b, 3, funcs, sizeof funcs);
    wb_section_raw(b, 4, tables, sizeof tables);
    wb_section_raw(b, 9, elems, sizeof elems);
    wb_section_raw(b, 10, code, sizeof code);
}

static void check_elem(const wp_elemseg *s, wp_segmode mode, uint32_t table, wp_valtype type,
                       uint32_t count) {
    CHECK_EQ(s->mode, mode);
    CHECK_EQ(s->type, type);
    CHECK_EQ(s->count, count);
    if (mode == WP_SEG_ACTIVE)
        CHECK_EQ(s->table, table);
}

static void test_elem_encodings(void) {
    wb b = {0};
    elem_module(&b);
    wp_module *m = DECODE_OK_WB(&b);
    if (!m)
        return;
    CHECK_EQ(m->nelems, 8);
    const wp_elemseg *e = m->elems;
    check_elem(&e[0], WP_SEG_ACTIVE, 0, WP_FUNCREF, 2);
    check_elem(&e[1], WP_SEG_PASSIVE, 0, WP_FUNCREF, 1);
    check_elem(&e[2], WP_SEG_ACTIVE, 0, WP_FUNCREF, 1);
    check_elem(&e[3], WP_SEG_DECLARATIVE, 0, WP_FUNCREF, 1);
    check_elem(&e[4], WP_SEG_ACTIVE, 0, WP_FUNCREF, 2);
    check_elem(&e[5], WP_SEG_PASSIVE, 0, WP_FUNCREF, 1);
    check_elem(&e[6], WP_SEG_ACTIVE, 1, WP_EXTERNREF, 1);
    check_elem(&e[7], WP_SEG_DECLARATIVE, 0, WP_FUNCREF, 1);
    CHECK_EQ(e[0].offset.op, WP_CONST_I32);
    CHECK_EQ(e[0].offset.bits, 1);
    CHECK_EQ(e[0].items[1].op, WP_CONST_REF_FUNC);
    CHECK_EQ(e[0].items[1].index, 1);
    CHECK_EQ(e[2].offset.bits, 3);
    CHECK_EQ(e[4].offset.bits, 5);
    CHECK_EQ(e[4].items[0].op, WP_CONST_REF_FUNC);
    CHECK_EQ(e[4].items[1].op, WP_CONST_REF_NULL);
    CHECK_EQ(e[4].items[1].type, WP_FUNCREF);
    CHECK_EQ(e[6].items[0].type, WP_EXTERNREF);
    CHECK_EQ(e[7].items[0].index, 3);
    /* Every function is named by some segment, so ref.func may use all of them. */
    for (uint32_t i = 0; i < 4; i++)
        CHECK_EQ(m->func_declared[i], 1);
    wp_module_free(m);
}

static void test_data_encodings(void) {
    /* memory 1; data: active at 8 "ab", passive "xyz", active memory 0 at 16 "q" */
    /* clang-format off */
    static const uint8_t bytes[] = {HDR, 5, 3, 1, 0, 1, 11, 20, 3,
                                    0, 0x41, 8, 0x0b, 2, 'a', 'b',
                                    1, 3, 'x', 'y', 'z',
                                    2, 0, 0x41, 16, 0x0b, 1, 'q'};
    /* clang-format on */
    wp_module *m = DECODE_OK(bytes);
    if (!m)
        return;
    CHECK_EQ(m->ndatas, 3);
    const wp_dataseg *d = m->datas;
    CHECK_EQ(d[0].mode, WP_SEG_ACTIVE);
    CHECK_EQ(d[0].memory, 0);
    CHECK_EQ(d[0].offset.bits, 8);
    CHECK_EQ(d[0].len, 2);
    CHECK(memcmp(m->bytes + d[0].data_offset, "ab", 2) == 0);
    CHECK_EQ(d[1].mode, WP_SEG_PASSIVE);
    CHECK_EQ(d[1].len, 3);
    CHECK(memcmp(m->bytes + d[1].data_offset, "xyz", 3) == 0);
    CHECK_EQ(d[2].mode, WP_SEG_ACTIVE);
    CHECK_EQ(d[2].offset.bits, 16);
    CHECK(memcmp(m->bytes + d[2].data_offset, "q", 1) == 0);
    wp_module_free(m);
}

/* ---- Name section ---------------------------------------------------------------------------- */

/* Two functions () -> () and a name section with the given subsections. */
static void named_module(wb *b, const uint8_t *names, size_t n) {
    static const uint8_t types[] = {1, 0x60, 0, 0};
    static const uint8_t funcs[] = {2, 0, 0};
    static const uint8_t code[] = {2, 2, 0, 0x0b, 2, 0, 0x0b};
    wb content = {0};
    wb_name(&content, "name");
    wb_bytes(&content, names, n);
    b->len = 0;
    wb_header(b);
    wb_section_raw(b, 1, types, sizeof types);
    wb_section_raw(b, 3, funcs, sizeof funcs);
    wb_section_raw(b, 10, code, sizeof code);
    wb_section(b, 0, &content);
}

static void test_name_section(void) {
    /* module "mod"; function 1 "f1", function 7 (none such: ignored); local names skipped */
    static const uint8_t good[] = {0,   4,   3, 'm', 'o', 'd', 1, 9, 2, 1, 2,
                                   'f', '1', 7, 2,   'z', 'z', 2, 3, 1, 0, 0};
    static const uint8_t bad_utf8[] = {0, 2, 1, 0xff};
    static const uint8_t truncated[] = {0, 4, 3, 'm', 'o', 'd', 1, 9, 2, 1, 2};
    wb b = {0};
    named_module(&b, good, sizeof good);
    wp_module *m = DECODE_OK_WB(&b);
    if (m) {
        CHECK(m->module_name.len == 3 && memcmp(m->module_name.ptr, "mod", 3) == 0);
        CHECK_EQ(m->funcs[0].name.len, 0);
        CHECK(m->funcs[1].name.len == 2 && memcmp(m->funcs[1].name.ptr, "f1", 2) == 0);
    }
    wp_module_free(m);
    /* A malformed name section is dropped whole, never an error. */
    named_module(&b, bad_utf8, sizeof bad_utf8);
    m = DECODE_OK_WB(&b);
    if (m)
        CHECK_EQ(m->module_name.len, 0);
    wp_module_free(m);
    named_module(&b, truncated, sizeof truncated);
    m = DECODE_OK_WB(&b);
    if (m) {
        CHECK_EQ(m->module_name.len, 0);
        CHECK_EQ(m->funcs[1].name.len, 0);
    }
    wp_module_free(m);
}

/* ---- A whole module through the public API --------------------------------------------------- */

static void check_full_internals(const wp_module *m) {
    CHECK_EQ(m->ntypes, 3);
    CHECK_EQ(m->canon[0], 0);
    CHECK_EQ(m->canon[1], 0); /* structurally equal to type 0 */
    CHECK_EQ(m->canon[2], 2);
    CHECK_EQ(m->nfuncs, 6);
    CHECK_EQ(m->nimported_funcs, 1);
    CHECK_EQ(m->funcs[0].type, 0); /* imported with type 1, stored canonical */
    CHECK_EQ(m->funcs[1].type, 0);
    CHECK_EQ(m->funcs[1].nlocals, 3);
    CHECK_EQ(m->funcs[1].locals[2], WP_F64);
    CHECK_EQ(m->bytes[m->funcs[1].body_offset], 0x20); /* local.get */
    CHECK_EQ(m->bytes[m->funcs[1].body_end - 1], 0x0b);
    CHECK(m->has_start);
    CHECK_EQ(m->start, 2);
    CHECK_EQ(m->nglobals, 4);
    CHECK_EQ(m->nimported_globals, 1);
    CHECK(m->globals[1].type.mutable_);
    CHECK_EQ(m->globals[1].init.op, WP_CONST_I64);
    CHECK_EQ(m->globals[1].init.bits, (uint64_t)-5);
    CHECK_EQ(m->globals[3].init.op, WP_CONST_GLOBAL_GET);
    CHECK_EQ(m->globals[3].init.type, WP_I32);
    CHECK_EQ(m->ntables, 2);
    CHECK_EQ(m->tables[1].elem, WP_EXTERNREF);
    CHECK_EQ(m->nmems, 1);
    CHECK_EQ(m->ndatas, 2);
    CHECK_EQ(m->datas[1].mode, WP_SEG_PASSIVE);
    /* Declared: f1 (export), f3 (active segment), f4 (declarative segment). */
    static const uint8_t declared[6] = {0, 1, 0, 1, 1, 0};
    for (uint32_t i = 0; i < 6; i++)
        CHECK_EQ(m->func_declared[i], declared[i]);
}

static bool name_is(wp_name n, const char *s) {
    return n.len == strlen(s) && memcmp(n.ptr, s, n.len) == 0;
}

static void check_full_imports(const wp_module *m) {
    wp_import_desc d;
    CHECK_EQ(wp_module_import_count(m), 4);
    wp_module_import(m, 0, &d);
    CHECK(name_is(d.module, "env") && name_is(d.name, "f"));
    CHECK_EQ(d.kind, WP_EXTERN_FUNC);
    CHECK(d.func.nparams == 1 && d.func.nresults == 1);
    CHECK(d.func.types[0] == WP_I32 && d.func.types[1] == WP_I32);
    wp_module_import(m, 1, &d);
    CHECK_EQ(d.kind, WP_EXTERN_MEMORY);
    CHECK(d.memory.min == 1 && d.memory.has_max && d.memory.max == 2);
    wp_module_import(m, 2, &d);
    CHECK_EQ(d.kind, WP_EXTERN_TABLE);
    CHECK(d.table.elem == WP_FUNCREF && d.table.limits.min == 2 && !d.table.limits.has_max);
    wp_module_import(m, 3, &d);
    CHECK(name_is(d.name, "g"));
    CHECK_EQ(d.kind, WP_EXTERN_GLOBAL);
    CHECK(d.global.type == WP_I32 && !d.global.mutable_);
}

static void check_full_exports(const wp_module *m) {
    static const struct {
        const char *name;
        wp_externkind kind;
        uint32_t index;
    } want[] = {{"f1", WP_EXTERN_FUNC, 1},
                {"mem", WP_EXTERN_MEMORY, 0},
                {"g", WP_EXTERN_GLOBAL, 0},
                {"tab", WP_EXTERN_TABLE, 0}};
    CHECK_EQ(wp_module_export_count(m), 4);
    for (uint32_t i = 0; i < 4; i++) {
        wp_export_desc d;
        wp_module_export(m, i, &d);
        CHECK(name_is(d.name, want[i].name));
        CHECK_EQ(d.kind, want[i].kind);
        CHECK_EQ(d.index, want[i].index);
    }
    wp_functype ft;
    CHECK(wp_module_export_functype(m, "f1", &ft));
    CHECK(ft.nparams == 1 && ft.nresults == 1 && ft.types[1] == WP_I32);
    CHECK(!wp_module_export_functype(m, "mem", &ft)); /* not a function */
    CHECK(!wp_module_export_functype(m, "f", &ft));
    CHECK(!wp_module_export_functype(m, "f1x", &ft));
}

static void test_full_module(void) {
    size_t len = 0;
    unsigned char *bytes = test_fixture("decode_full", &len);
    CHECK(bytes != NULL);
    if (!bytes)
        return;
    wp_module *m = decode_ok_at(__LINE__, bytes, len);
    memset(bytes, 0, len); /* the module keeps its own copy */
    free(bytes);
    if (!m)
        return;
    check_full_internals(m);
    check_full_imports(m);
    check_full_exports(m);
    /* References: the module lives until the last one is dropped. */
    CHECK(wp_module_ref(m) == m);
    wp_module_free(m);
    CHECK_EQ(m->nfuncs, 6);
    wp_module_free(m);
    wp_module_free(NULL);
}

/* Fail the k-th allocation for every k: always out of memory, never a leak. */
static void test_out_of_memory(void) {
    size_t len = 0;
    unsigned char *bytes = test_fixture("decode_full", &len);
    CHECK(bytes != NULL);
    if (!bytes)
        return;
    test_heap th;
    test_heap_init(&th);
    long k = 0;
    for (;; k++) {
        wp_module *m = NULL;
        wp_err err = {0};
        test_heap_fail_at(&th, k);
        wp_status st = wp_module_decode_in(&th.heap, bytes, len, &m, &err);
        if (st == WP_OK) {
            CHECK(th.heap.used > 0);
            wp_module_free(m);
            CHECK_EQ(th.heap.used, 0);
            break;
        }
        CHECK_EQ(st, WP_ERR_NOMEM);
        CHECK_EQ(th.heap.used, 0);
        if (st != WP_ERR_NOMEM || k > 10000)
            break;
    }
    CHECK(k > 10); /* the module needs many allocations: the loop really ran */
    free(bytes);
}

static void test_functype_equal(void) {
    static const wp_valtype a[] = {WP_I32, WP_I64};
    static const wp_valtype b[] = {WP_I32, WP_I64};
    static const wp_valtype c[] = {WP_I32, WP_F64};
    wp_functype fa = {1, 1, a};
    wp_functype fb = {1, 1, b};
    wp_functype fc = {1, 1, c};
    wp_functype fd = {2, 0, a};
    wp_functype e1 = {0, 0, NULL};
    wp_functype e2 = {0, 0, a};
    CHECK(wp__functype_equal(&fa, &fb));
    CHECK(!wp__functype_equal(&fa, &fc));
    CHECK(!wp__functype_equal(&fa, &fd)); /* same types, split differently */
    CHECK(wp__functype_equal(&e1, &e2));
}

int main(void) {
    RUN_TEST(test_empty_module);
    RUN_TEST(test_header);
    RUN_TEST(test_section_sizes);
    RUN_TEST(test_section_order);
    RUN_TEST(test_leb128);
    RUN_TEST(test_count_exceeds_bytes);
    RUN_TEST(test_locals);
    RUN_TEST(test_function_code_counts);
    RUN_TEST(test_body_bounds);
    RUN_TEST(test_utf8);
    RUN_TEST(test_malformed_kinds);
    RUN_TEST(test_const_exprs);
    RUN_TEST(test_simd_unsupported);
    RUN_TEST(test_data_count);
    RUN_TEST(test_elem_encodings);
    RUN_TEST(test_data_encodings);
    RUN_TEST(test_name_section);
    RUN_TEST(test_full_module);
    RUN_TEST(test_out_of_memory);
    RUN_TEST(test_functype_equal);
    return TEST_EXIT();
}
