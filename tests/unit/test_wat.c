/* test_wat.c: the text reader: numbers and rounding, strings, errors, folded forms, output. */
#include "test.h"

#include "../../src/wasm/wat_internal.h"
#include "wippy/wasm.h"

/* ---- Helpers ----------------------------------------------------------------------------- */

static uint64_t f64_bits(const char *s) {
    uint64_t v = 0xdeadbeef;
    wp_wat_num r = wp__wat_float(s, strlen(s), true, &v);
    if (r != WP_WAT_NUM_OK)
        fprintf(stderr, "f64 %s: status %d\n", s, (int)r);
    return v;
}

static uint64_t f32_bits(const char *s) {
    uint64_t v = 0xdeadbeef;
    wp_wat_num r = wp__wat_float(s, strlen(s), false, &v);
    if (r != WP_WAT_NUM_OK)
        fprintf(stderr, "f32 %s: status %d\n", s, (int)r);
    return v;
}

static wp_wat_num f_status(const char *s, bool is_f64) {
    uint64_t v;
    return wp__wat_float(s, strlen(s), is_f64, &v);
}

static wp_wat_num int_status(const char *s, unsigned bits, uint64_t *v) {
    return wp__wat_int(s, strlen(s), bits, v);
}

/* Translates text; on success returns the binary (free with wp_wat_free). */
static uint8_t *wat(const char *text, size_t *len) {
    uint8_t *out = NULL;
    wp_err err;
    wp_status st = wp_wat_to_wasm(text, strlen(text), &out, len, &err);
    if (st != WP_OK)
        fprintf(stderr, "wat failed: %s\n  text: %s\n", err.msg, text);
    return out;
}

/* Translation must fail with kind and a message containing 'why'. */
static void check_error(const char *text, wp_status kind, const char *why) {
    uint8_t *out = (uint8_t *)"untouched";
    size_t len = 123;
    wp_err err;
    wp_status st = wp_wat_to_wasm(text, strlen(text), &out, &len, &err);
    CHECK_EQ(st, kind);
    if (st == WP_OK) {
        fprintf(stderr, "  accepted: %s\n", text);
        wp_wat_free(out);
        return;
    }
    CHECK(out == NULL);
    CHECK_EQ(len, 0);
    CHECK_STR_CONTAINS(err.msg, why);
    if (!strstr(err.msg, why))
        fprintf(stderr, "  text: %s\n", text);
}

/* Both texts must translate to the same bytes. */
static void check_same(const char *a, const char *b) {
    size_t la = 0;
    size_t lb = 0;
    uint8_t *ba = wat(a, &la);
    uint8_t *bb = wat(b, &lb);
    CHECK(ba && bb);
    CHECK_EQ(la, lb);
    if (ba && bb && la == lb) {
        CHECK(memcmp(ba, bb, la) == 0);
        if (memcmp(ba, bb, la) != 0)
            fprintf(stderr, "  differ:\n  %s\n  %s\n", a, b);
    }
    wp_wat_free(ba);
    wp_wat_free(bb);
}

/* The text must translate to exactly these bytes. */
static void check_bytes(const char *text, const uint8_t *want, size_t want_len) {
    size_t len = 0;
    uint8_t *got = wat(text, &len);
    CHECK(got != NULL);
    CHECK_EQ(len, want_len);
    if (got && len == want_len)
        CHECK(memcmp(got, want, len) == 0);
    wp_wat_free(got);
}

#define PREAMBLE 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00

/* ---- Integers ------------------------------------------------------------------------------ */

static void test_uint(void) {
    uint64_t v = 0;
    CHECK_EQ(wp__wat_uint("0", 1, 32, &v), WP_WAT_NUM_OK);
    CHECK_EQ(v, 0);
    CHECK_EQ(wp__wat_uint("4294967295", 10, 32, &v), WP_WAT_NUM_OK);
    CHECK_EQ(v, 4294967295u);
    CHECK_EQ(wp__wat_uint("4294967296", 10, 32, &v), WP_WAT_NUM_RANGE);
    CHECK_EQ(wp__wat_uint("0xFFFF_ffff", 11, 32, &v), WP_WAT_NUM_OK);
    CHECK_EQ(v, 0xffffffffu);
    CHECK_EQ(wp__wat_uint("1_000", 5, 32, &v), WP_WAT_NUM_OK);
    CHECK_EQ(v, 1000);
    CHECK_EQ(wp__wat_uint("99999999999999999999", 20, 64, &v), WP_WAT_NUM_RANGE);
    const char *bad[] = {"", "1__0", "_1", "1_", "+1", "-1", "0x", "0x_1", "1a", "0xg", "1.0"};
    for (size_t i = 0; i < WP_ARRAY_LEN(bad); i++)
        CHECK_EQ(wp__wat_uint(bad[i], strlen(bad[i]), 32, &v), WP_WAT_NUM_SYNTAX);
}

static void test_int(void) {
    uint64_t v = 0;
    CHECK_EQ(int_status("-2147483648", 32, &v), WP_WAT_NUM_OK);
    CHECK_EQ(v, 0x80000000u);
    CHECK_EQ(int_status("-2147483649", 32, &v), WP_WAT_NUM_RANGE);
    CHECK_EQ(int_status("4294967295", 32, &v), WP_WAT_NUM_OK);
    CHECK_EQ(v, 0xffffffffu);
    CHECK_EQ(int_status("4294967296", 32, &v), WP_WAT_NUM_RANGE);
    CHECK_EQ(int_status("-1", 32, &v), WP_WAT_NUM_OK);
    CHECK_EQ(v, 0xffffffffu);
    CHECK_EQ(int_status("+0x7fff_ffff", 32, &v), WP_WAT_NUM_OK);
    CHECK_EQ(v, 0x7fffffffu);
    CHECK_EQ(int_status("-0x8000_0000", 32, &v), WP_WAT_NUM_OK);
    CHECK_EQ(v, 0x80000000u);
    CHECK_EQ(int_status("-0x80000001", 32, &v), WP_WAT_NUM_RANGE);
    CHECK_EQ(int_status("18446744073709551615", 64, &v), WP_WAT_NUM_OK);
    CHECK(v == UINT64_MAX);
    CHECK_EQ(int_status("-9223372036854775808", 64, &v), WP_WAT_NUM_OK);
    CHECK(v == UINT64_C(0x8000000000000000));
    CHECK_EQ(int_status("-9223372036854775809", 64, &v), WP_WAT_NUM_RANGE);
    CHECK_EQ(int_status("18446744073709551616", 64, &v), WP_WAT_NUM_RANGE);
    CHECK_EQ(int_status("0x1_0000_0000_0000_0000", 64, &v), WP_WAT_NUM_RANGE);
    CHECK_EQ(int_status("-", 32, &v), WP_WAT_NUM_SYNTAX);
    CHECK_EQ(int_status("--1", 32, &v), WP_WAT_NUM_SYNTAX);
    CHECK_EQ(int_status("-_1", 32, &v), WP_WAT_NUM_SYNTAX);
}

/* ---- Floats: expected bits derived from IEEE 754 by hand ------------------------------------- */

static void test_float_exact(void) {
    CHECK_EQ(f32_bits("1"), 0x3f800000);
    CHECK_EQ(f32_bits("-0"), 0x80000000);
    CHECK_EQ(f32_bits("0.5"), 0x3f000000);
    CHECK_EQ(f32_bits("0x1.8"), 0x3fc00000);     /* 1.5 */
    CHECK_EQ(f32_bits("1.e1"), 0x41200000);      /* 10: "1." then an exponent */
    CHECK_EQ(f32_bits("1_000.000_1e-3"), 0x3f800001); /* 1 + 1e-7 is 0.84 ulp above 1 */
    CHECK_EQ(f32_bits("0x1p-149"), 0x00000001);  /* smallest subnormal */
    CHECK_EQ(f32_bits("0x1p-126"), 0x00800000);  /* smallest normal */
    CHECK_EQ(f32_bits("0x1.fffffep127"), 0x7f7fffff);
    CHECK(f64_bits("0x1p-1074") == 1);
    CHECK(f64_bits("0.1") == UINT64_C(0x3fb999999999999a));
    CHECK(f64_bits("-0x1p+0") == UINT64_C(0xbff0000000000000));
    CHECK(f64_bits("1e0") == UINT64_C(0x3ff0000000000000));
}

/* Ties go to the even neighbour; anything past a tie goes up. */
static void test_float_ties(void) {
    /* 1 + 2^-24 is halfway between 1 and 1 + 2^-23: even is 1. */
    CHECK_EQ(f32_bits("0x1.000001p0"), 0x3f800000);
    /* 1 + 3 * 2^-24 is halfway between 1 + 2^-23 (odd) and 1 + 2^-22: even is the latter. */
    CHECK_EQ(f32_bits("0x1.000003p0"), 0x3f800002);
    /* Just above the first tie: up. */
    CHECK_EQ(f32_bits("0x1.0000010000000000001p0"), 0x3f800001);
    /* 2^-150 is halfway between 0 and the smallest subnormal: even is 0. */
    CHECK_EQ(f32_bits("0x1p-150"), 0x00000000);
    /* 1.5 * 2^-149 is halfway between subnormals 1 and 2: even is 2. */
    CHECK_EQ(f32_bits("0x1.8p-149"), 0x00000002);
    /* 2^53 + 1 is halfway between 2^53 and 2^53 + 2: even is 2^53. */
    CHECK(f64_bits("9007199254740993") == UINT64_C(0x4340000000000000));
    /* 2^53 + 3 is halfway between 2^53 + 2 (odd mantissa) and 2^53 + 4. */
    CHECK(f64_bits("9007199254740995") == UINT64_C(0x4340000000000002));
    /* 2^-1075 = 2.4703282292062327208...e-324 is half the smallest subnormal. */
    CHECK(f64_bits("2.4703282292062327e-324") == 0);
    CHECK(f64_bits("2.4703282292062328e-324") == 1);
    CHECK(f64_bits("-2.4703282292062328e-324") == UINT64_C(0x8000000000000001));
    /* The largest subnormal rounds up into the smallest normal: 2^-1022 - 2^-1075 is a tie. */
    CHECK(f64_bits("0x1.fffffffffffff8p-1023") == UINT64_C(0x0010000000000000));
}

/* Digits past the ones kept (800) still decide a tie. */
static void test_float_long(void) {
    char buf[1200];
    strcpy(buf, "9007199254740993.");
    size_t n = strlen(buf);
    memset(buf + n, '0', 1000);
    strcpy(buf + n + 1000, "1");
    CHECK(f64_bits(buf) == UINT64_C(0x4340000000000001)); /* above the tie: up to 2^53 + 2 */
    buf[n + 1000] = '0';
    CHECK(f64_bits(buf) == UINT64_C(0x4340000000000000)); /* exactly the tie: even */
    /* 0.000...0001 with 900 zeros underflows to zero rather than failing. */
    memset(buf, '0', 1000);
    buf[1] = '.';
    strcpy(buf + 900, "1");
    CHECK(f64_bits(buf) == 0);
}

static void test_float_range(void) {
    /* f32 max is (2 - 2^-23) * 2^127; the tie with 2^128 is 2^128 - 2^103. */
    CHECK_EQ(f32_bits("340282356779733661637539395458142568447"), 0x7f7fffff);
    CHECK_EQ(f_status("340282356779733661637539395458142568448", false), WP_WAT_NUM_RANGE);
    CHECK_EQ(f_status("0x1.ffffffp127", false), WP_WAT_NUM_RANGE);
    CHECK_EQ(f32_bits("0x1.fffffefffffffp127"), 0x7f7fffff);
    CHECK_EQ(f_status("1e39", false), WP_WAT_NUM_RANGE);
    CHECK_EQ(f_status("0x1.fffffffffffff8p1023", true), WP_WAT_NUM_RANGE);
    CHECK(f64_bits("0x1.fffffffffffff7ffffp1023") == UINT64_C(0x7fefffffffffffff));
    CHECK_EQ(f_status("1e309", true), WP_WAT_NUM_RANGE);
    CHECK_EQ(f_status("1e1000000000000", true), WP_WAT_NUM_RANGE);
    CHECK(f64_bits("1e-1000000000000") == 0);
    CHECK(f64_bits("-0x1p-99999999999") == UINT64_C(0x8000000000000000));
    CHECK_EQ(f_status("0x1p99999999999", false), WP_WAT_NUM_RANGE);
}

static void test_float_special(void) {
    CHECK_EQ(f32_bits("inf"), 0x7f800000);
    CHECK(f64_bits("-inf") == UINT64_C(0xfff0000000000000));
    CHECK_EQ(f32_bits("nan"), 0x7fc00000);
    CHECK_EQ(f32_bits("-nan"), 0xffc00000);
    CHECK_EQ(f32_bits("+nan:0x200000"), 0x7fa00000);
    CHECK_EQ(f32_bits("nan:0x7f_ffff"), 0x7fffffff);
    CHECK(f64_bits("nan:0x1") == UINT64_C(0x7ff0000000000001));
    CHECK_EQ(f_status("nan:0x0", false), WP_WAT_NUM_RANGE);
    CHECK_EQ(f_status("nan:0x800000", false), WP_WAT_NUM_RANGE);
    CHECK_EQ(f_status("nan:0x10_0000_0000_0000", true), WP_WAT_NUM_RANGE);
}

static void test_float_syntax(void) {
    const char *bad[] = {".5",  "1e",     "1e+",   "0x",     "0x.1",  "0x1p",     "1_.0",
                         "1._0", "1.0_e1", "1e_1",  "0x1p_1", "_1.0",  "nan:1",    "nan:0x",
                         "infinity", "in",  "1.0.0", "1ee1",  "--1",   "nan:0xg", "0x1.0p+_1"};
    for (size_t i = 0; i < WP_ARRAY_LEN(bad); i++) {
        CHECK_EQ(f_status(bad[i], true), WP_WAT_NUM_SYNTAX);
        if (f_status(bad[i], true) != WP_WAT_NUM_SYNTAX)
            fprintf(stderr, "  accepted float %s\n", bad[i]);
    }
}

/* ---- Lexer --------------------------------------------------------------------------------- */

static void test_strings(void) {
    const char *src = "\"a\\t\\n\\r\\\"\\'\\\\\\41\\u{41}\\u{1F600}\\u{e9}\xc3\xa9\"";
    wp_wat_lexer lx;
    wp_wat_token tok;
    wp__wat_lex_init(&lx, src, strlen(src));
    CHECK_EQ(wp__wat_lex(&lx, &tok, NULL), WP_OK);
    CHECK_EQ(tok.kind, WP_WAT_STRING);
    uint8_t buf[64];
    size_t n = wp__wat_string_decode(&tok, buf);
    static const uint8_t want[] = {'a', '\t', '\n', '\r', '"', '\'', '\\', 'A', 'A',
                                   0xf0, 0x9f, 0x98, 0x80, 0xc3, 0xa9, 0xc3, 0xa9};
    CHECK_EQ(n, sizeof want);
    CHECK(n == sizeof want && memcmp(buf, want, n) == 0);
}

static void test_tokens(void) {
    const char *src = "(;a(;nested;)b;) ( $x-1 ;; line\n i32.add 0x1_0 -nan \"s\" )";
    wp_wat_lexer lx;
    wp_wat_token t;
    wp__wat_lex_init(&lx, src, strlen(src));
    wp_wat_tokkind want[] = {WP_WAT_LPAR,   WP_WAT_ID,     WP_WAT_KEYWORD, WP_WAT_NUMBER,
                             WP_WAT_NUMBER, WP_WAT_STRING, WP_WAT_RPAR,    WP_WAT_EOF};
    for (size_t i = 0; i < WP_ARRAY_LEN(want); i++) {
        CHECK_EQ(wp__wat_lex(&lx, &t, NULL), WP_OK);
        CHECK_EQ(t.kind, want[i]);
        if (i == 2) { /* i32.add sits on line 2, column 2 */
            CHECK_EQ(t.line, 2);
            CHECK_EQ(t.col, 2);
            CHECK_EQ(t.len, 7);
        }
    }
}

static void test_lex_errors(void) {
    check_error("(data \"abc)", WP_ERR_INVALID, "unterminated string");
    check_error("(data \"a\nb\")", WP_ERR_INVALID, "unterminated string");
    check_error("(data \"\\q\")", WP_ERR_INVALID, "unknown escape");
    check_error("(data \"\\4\")", WP_ERR_INVALID, "unknown escape");
    check_error("(data \"\\u{D800}\")", WP_ERR_INVALID, "unknown escape");
    check_error("(data \"\\u{110000}\")", WP_ERR_INVALID, "unknown escape");
    check_error("(data \"\\u{}\")", WP_ERR_INVALID, "unknown escape");
    check_error("(data \"\\u41\")", WP_ERR_INVALID, "unknown escape");
    check_error("(data \"\xff\")", WP_ERR_INVALID, "malformed UTF-8 encoding");
    check_error("(data \"\xc0\x80\")", WP_ERR_INVALID, "malformed UTF-8 encoding"); /* overlong */
    check_error("(data \"\xed\xa0\x80\")", WP_ERR_INVALID, "malformed UTF-8"); /* surrogate */
    check_error("(data \"\x01\")", WP_ERR_INVALID, "illegal character");
    check_error("(module) (; never closed", WP_ERR_INVALID, "line 1, column 10: unterminated");
    check_error("(module) ;; \xff", WP_ERR_INVALID, "malformed UTF-8 encoding");
    check_error("(module) {", WP_ERR_INVALID, "unexpected character");
    check_error("(module) \xc3\xa9", WP_ERR_INVALID, "unexpected character");
    check_error("(module) \xc3", WP_ERR_INVALID, "malformed UTF-8 encoding");
    check_error("(data \"a\"\"b\")", WP_ERR_INVALID, "unknown operator");
    check_error("(func $x\"a\")", WP_ERR_INVALID, "unknown operator");
    check_error("(func $)", WP_ERR_INVALID, "empty identifier");
}

/* ---- Output -------------------------------------------------------------------------------- */

static void test_bytes(void) {
    static const uint8_t empty[] = {PREAMBLE};
    check_bytes("(module)", empty, sizeof empty);
    check_bytes("", empty, sizeof empty);
    check_bytes("(module $m)", empty, sizeof empty);
    static const uint8_t answer[] = {PREAMBLE,
                                     0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, /* () -> i32 */
                                     0x03, 0x02, 0x01, 0x00,                   /* func type 0 */
                                     0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00,  /* export "f" */
                                     0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b};
    check_bytes("(module (func (export \"f\") (result i32) i32.const 42))", answer,
                sizeof answer);
    /* -1 as i32.const is one byte 0x7f; 64 needs two (0xc0 0x00) as a signed LEB128. */
    static const uint8_t consts[] = {PREAMBLE, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02,
                                     0x01, 0x00, 0x0a, 0x0b, 0x01, 0x09, 0x00, 0x41, 0x7f, 0x1a,
                                     0x42, 0xc0, 0x00, 0x1a, 0x0b};
    check_bytes("(func i32.const -1 drop i64.const 64 drop)", consts, sizeof consts);
    static const uint8_t mem[] = {PREAMBLE,
                                  0x05, 0x04, 0x01, 0x01, 0x01, 0x01, /* memory 1 1 */
                                  0x0b, 0x08, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x02, 'h', 'i'};
    check_bytes("(memory (data \"h\" \"i\"))", mem, sizeof mem);
    static const uint8_t bin[] = {PREAMBLE};
    check_bytes("(module binary \"\\00asm\" \"\\01\\00\\00\\00\")", bin, sizeof bin);
}

static void test_locals_runs(void) {
    /* Locals i32 i32 f64 i32: three runs; local $y is index 2 after one param. */
    static const uint8_t want[] = {PREAMBLE, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00,
                                   0x03, 0x02, 0x01, 0x00, 0x0a, 0x0e, 0x01, 0x0c,
                                   0x03, 0x02, 0x7f, 0x01, 0x7c, 0x01, 0x7f,
                                   0x20, 0x04, 0x21, 0x02, 0x0b};
    check_bytes("(func (param $p i32) (local i32) (local $y i32) (local f64 i32)"
                " local.get 4 local.set $y)",
                want, sizeof want);
}

static void test_folded_plain(void) {
    check_same("(func (result i32) (i32.add (i32.const 1) (i32.const 2)))",
               "(func (result i32) i32.const 1 i32.const 2 i32.add)");
    check_same("(func (param i32) (if (local.get 0) (then nop) (else unreachable)))",
               "(func (param i32) local.get 0 if nop else unreachable end)");
    check_same("(func (block $a (loop $b (br_if $b (i32.const 0)) (br $a))))",
               "(func block $a loop $b i32.const 0 br_if $b br $a end $b end $a)");
    check_same("(func (block $a (block $b (br_table $a $b 0 (i32.const 0)))))",
               "(func block block i32.const 0 br_table 1 0 0 end end)");
    check_same("(memory 1) (func (i32.store offset=8 align=2 (i32.const 0) (i32.const 1)))",
               "(memory 1) (func i32.const 0 i32.const 1 i32.store offset=8 align=2)");
    check_same("(table 1 funcref) (type $t (func)) (func (call_indirect (type $t) (i32.const 0)))",
               "(table 1 funcref) (type $t (func)) (func i32.const 0 call_indirect 0 (type 0))");
    check_same("(func (select (result i32) (i32.const 1) (i32.const 2) (i32.const 0)) drop)",
               "(func i32.const 1 i32.const 2 i32.const 0 select (result i32) drop)");
}

static void test_names(void) {
    /* Forward references, and identifiers standing for the right index in each space. */
    check_same("(func $a (call $b)) (func $b (call $a))", "(func (call 1)) (func (call 0))");
    check_same("(global $g (mut i32) (i32.const 0)) (func (global.set $g (global.get $g)))",
               "(global (mut i32) (i32.const 0)) (func (global.set 0 (global.get 0)))");
    check_same("(import \"m\" \"f\" (func $i)) (func $d) (func (call $d) (call $i))",
               "(import \"m\" \"f\" (func)) (func) (func (call 1) (call 0))");
    check_same("(func (block $x (block $y (br $x))))", "(func (block (block (br 1))))");
    check_same("(func $f) (elem declare func $f) (table $t 1 funcref) (func (table.size $t))"
               " (elem $e func $f) (func (elem.drop $e))",
               "(func) (elem declare func 0) (table 1 funcref) (func (table.size 0))"
               " (elem func 0) (func (elem.drop 1))");
}

/* Implicit types: the first equal type is reused; new ones come after every explicit type. */
static void test_implicit_types(void) {
    check_same("(func (param i32)) (type (func)) (func)",
               "(type (func)) (type (func (param i32))) (func (type 1)) (func (type 0))");
    check_same("(func (result i32 i32) (i32.const 0) (i32.const 0))"
               " (func (block (result i64 i64) (i64.const 0) (i64.const 0)) drop drop)",
               "(type (func (result i32 i32))) (type (func)) (type (func (result i64 i64)))"
               " (func (type 0) (i32.const 0) (i32.const 0))"
               " (func (type 1) (block (type 2) (i64.const 0) (i64.const 0)) drop drop)");
    /* In code order: an if's conditions and a call's operands come before the instruction. */
    check_same("(import \"m\" \"x\" (func (param i64 i64))) (table 1 funcref)"
               " (func (param i32)"
               "  (if (result i32 i64) (call_indirect (param f32 f64) (result i32)"
               "      (f32.const 0) (f64.const 0) (i32.const 0))"
               "    (then (i32.const 1) (i64.const 1)) (else (i32.const 2) (i64.const 2)))"
               "  drop drop"
               "  (call_indirect (param i64) (i64.const 0)"
               "    (block (result i32 f64) (i32.const 0) (f64.const 1)) (drop)))",
               "(type (func (param i64 i64))) (type (func (param i32)))"
               " (type (func (param f32 f64) (result i32))) (type (func (result i32 i64)))"
               " (type (func (result i32 f64))) (type (func (param i64)))"
               " (import \"m\" \"x\" (func (type 0))) (table 1 funcref)"
               " (func (type 1) f32.const 0 f64.const 0 i32.const 0 call_indirect (type 2)"
               "  if (type 3) i32.const 1 i64.const 1 else i32.const 2 i64.const 2 end"
               "  drop drop i64.const 0 block (type 4) i32.const 0 f64.const 1 end drop"
               "  call_indirect (type 5))");
    /* A block with a type whose signature is short still takes the short form. */
    check_same("(type $t (func (result i32))) (func (block (type $t) (i32.const 1)) drop)",
               "(type $t (func (result i32))) (func (block (result i32) (i32.const 1)) drop)");
}

/* (type x) alone naming no type is well-formed text: the validator rejects it. */
static void test_unknown_type_index(void) {
    static const uint8_t want[] = {PREAMBLE, 0x03, 0x02, 0x01, 0x2a, 0x0a, 0x07, 0x01, 0x05,
                                   0x00, 0x02, 0x07, 0x0b, 0x0b};
    check_bytes("(func (type 42) (block (type 7)))", want, sizeof want);
}

static void test_segments(void) {
    check_same("(table funcref (elem $f $f)) (func $f)",
               "(table 2 2 funcref) (elem (i32.const 0) $f $f) (func $f)");
    check_same("(table 1 funcref) (elem (table 0) (offset (i32.const 0)) funcref (ref.func 0))"
               " (func)",
               "(table 1 funcref) (elem (i32.const 0) func 0) (func)");
    check_same("(memory 1) (data (offset (i32.const 1)) \"a\")",
               "(memory 1) (data (memory 0) (i32.const 1) \"a\")");
    check_same("(module quote \"(memory 1)\" \"(func)\")", "(memory 1) (func)");
}

/* ---- Errors -------------------------------------------------------------------------------- */

typedef struct bad_text {
    const char *text;
    const char *why;
} bad_text;

static void test_parse_errors(void) {
    static const bad_text cases[] = {
        {"(func (result i32) (param i32) (i32.const 0))", "unexpected token"},
        {"(func (nop) (local i32))", "unexpected token"},
        {"(func (local i32) (param i32))", "unexpected token"},
        {"(type (func (result $x i32)))", "unexpected token"},
        {"(type $t (func)) (func (type $t) (param i32))", "inline function type"},
        {"(type $t (func (param i32))) (func (block (type $t) (result i32)))",
         "inline function type"},
        {"(func (type 3) (param i32))", "unknown type"},
        {"(func (block (param $x i32)))", "unexpected token"},
        {"(func block end $l)", "mismatching label"},
        {"(func block $a end $b)", "mismatching label"},
        {"(func i32.const 0 if $a else $b end)", "mismatching label"},
        {"(func (br $nope))", "unknown label"},
        {"(func (local.get $nope))", "unknown local"},
        {"(func (call $nope))", "unknown func"},
        {"(func (global.get $nope))", "unknown global"},
        {"(func (i32.fancy))", "unknown operator"},
        {"(func i32.const 0x100000000 drop)", "constant out of range"},
        {"(func i64.const -9223372036854775809 drop)", "constant out of range"},
        {"(func f32.const 1e39 drop)", "constant out of range"},
        {"(func f64.const nan:0x0 drop)", "constant out of range"},
        {"(func i32.const 1x drop)", "unknown operator"},
        {"(func f32.const nan:canonical drop)", "unexpected token"},
        {"(func i32.const)", "unexpected token"},
        {"(memory 1) (func (i32.load align=3 (i32.const 0)) drop)",
         "alignment must be a power of two"},
        {"(memory 1) (func (i32.load offset=4294967296 (i32.const 0)) drop)", "i32 constant"},
        {"(memory 0x1_0000_0000)", "i32 constant out of range"},
        {"(table 0 0x1_0000_0000 funcref)", "i32 constant out of range"},
        {"(func $f) (func $f)", "duplicate func"},
        {"(import \"\" \"\" (global $g i32)) (global $g i32 (i32.const 0))", "duplicate global"},
        {"(func (param $x i32) (local $x i32))", "duplicate local"},
        {"(memory $m 1) (memory $m 1)", "duplicate memory"},
        {"(table $t 1 funcref) (table $t 1 funcref)", "duplicate table"},
        {"(type $t (func)) (type $t (func))", "duplicate type"},
        {"(func) (import \"\" \"\" (func))", "import after function"},
        {"(global i64 (i64.const 0)) (import \"\" \"\" (memory 0))", "import after global"},
        {"(memory 0) (func (import \"\" \"\"))", "import after memory"},
        {"(func $a) (start $a) (start $a)", "multiple start sections"},
        {"(export \"\\ff\" (func 0)) (func)", "malformed UTF-8 encoding"},
        {"(import \"\\c0\\80\" \"\" (func))", "malformed UTF-8 encoding"},
        {"(module) (module)", "unexpected token"},
        {"(module", "unexpected end"},
        {"(func", "unexpected end"},
        {"(func (block)", "unexpected end"},
        {"(func block", "unexpected"},
        {"(func end)", "unexpected token"},
        {"(func (if (i32.const 0) (nop)))", "unexpected token"},
        {"(func (i32.add (i32.const 1) i32.const 2))", "unexpected token"},
        {"(frob)", "unexpected token"},
        {"func", "unexpected token"},
        {"(global)", "unexpected token"},
        {"(global (mut i32 (i32.const 0)))", "unexpected token"},
        {"(table 1 i32)", "unexpected token"},
        {"(elem (i32.const 0) (ref.func))", "unexpected token"},
        {"(export \"x\" (thing 0))", "unexpected token"},
        {"(import \"x\" \"y\" (thing))", "unexpected token"},
        {"(func (ref.null any))", "unexpected token"},
        {"(func (table.init 0 0 0))", "unexpected"},
        {"(module binary \"\\00asm\" 1)", "unexpected token"},
        {"(module quote \"(func\")", "unexpected end"},
        {"(data (memory $nope) (i32.const 0))", "unknown memory"},
        {"(func (data.drop $nope))", "unknown data"},
        {"(func (br_table))", "unexpected token"},
    };
    for (size_t i = 0; i < WP_ARRAY_LEN(cases); i++)
        check_error(cases[i].text, WP_ERR_INVALID, cases[i].why);
}

/* (module quote "...") nested levels deep, escaping each level's text into the next. */
static char *nest_quotes(int levels) {
    char *text = strdup("(module)");
    for (int i = 0; text && i < levels; i++) {
        size_t n = strlen(text);
        char *next = malloc(2 * n + 32);
        if (!next)
            break;
        char *t = next + sprintf(next, "(module quote \"");
        for (size_t j = 0; j < n; j++) {
            if (text[j] == '"' || text[j] == '\\')
                *t++ = '\\';
            *t++ = text[j];
        }
        strcpy(t, "\")");
        free(text);
        text = next;
    }
    return text;
}

static void test_quote_depth(void) {
    char *ok = nest_quotes(WP_WAT_MAX_QUOTE_DEPTH);
    char *deep = nest_quotes(WP_WAT_MAX_QUOTE_DEPTH + 1);
    CHECK(ok && deep);
    if (ok && deep) {
        size_t len;
        uint8_t *out = wat(ok, &len);
        CHECK(out != NULL);
        CHECK_EQ(len, 8);
        wp_wat_free(out);
        check_error(deep, WP_ERR_INVALID, "nested too deep");
    }
    free(ok);
    free(deep);
}

static void test_error_position(void) {
    check_error("(module\n  (func\n    i32.const 1\n    i32.frob))", WP_ERR_INVALID,
                "line 4, column 5: unknown operator i32.frob");
}

static void test_simd(void) {
    check_error("(func (param v128))", WP_ERR_UNSUPPORTED, "SIMD");
    check_error("(func i32x4.add)", WP_ERR_UNSUPPORTED, "SIMD");
    check_error("(func (v128.const i32x4 0 0 0 0) drop)", WP_ERR_UNSUPPORTED, "SIMD");
}

/* Deep nesting fails cleanly instead of exhausting the C stack. */
static void test_depth(void) {
    size_t n = 5000;
    size_t len = strlen("(func ") + n * strlen("(block ") + n + 1;
    char *text = malloc(len + 1);
    CHECK(text != NULL);
    if (!text)
        return;
    char *t = text;
    t += sprintf(t, "(func ");
    for (size_t i = 0; i < n; i++)
        t += sprintf(t, "(block ");
    memset(t, ')', n + 1);
    t[n + 1] = '\0';
    check_error(text, WP_ERR_INVALID, "nesting too deep");
    /* Within the limit it works. */
    t = text + sprintf(text, "(func ");
    for (size_t i = 0; i < 500; i++)
        t += sprintf(t, "(block ");
    memset(t, ')', 501);
    t[501] = '\0';
    size_t out_len;
    uint8_t *out = wat(text, &out_len);
    CHECK(out != NULL);
    wp_wat_free(out);
    free(text);
}

/* ---- Out of memory and the decoder --------------------------------------------------------- */

static const char *const rich =
    "(module $m\n"
    "  (type $t (func (param i32) (result i32)))\n"
    "  (import \"env\" \"f\" (func $imp (type $t)))\n"
    "  (import \"env\" \"g\" (global $ig i32))\n"
    "  (memory $mem (export \"mem\") 1 2)\n"
    "  (table $tab 2 funcref)\n"
    "  (global $g (mut i64) (i64.const -1))\n"
    "  (func $f (export \"f\") (param $x i32) (result i32) (local $y f64)\n"
    "    (block $b (result i32)\n"
    "      (if (result i32) (local.get $x) (then (call $imp (i32.const 1)))\n"
    "        (else (call_indirect (type $t) (i32.const 2) (i32.const 0))))))\n"
    "  (func (result i32 i64) (i32.const 1) (i64.const 2))\n"
    "  (elem (table $tab) (i32.const 0) func $f $imp)\n"
    "  (elem $e funcref (ref.null func) (item ref.func $f))\n"
    "  (data $d \"passive\")\n"
    "  (data (memory 0) (offset (i32.const 8)) \"active\" \"\\00\\ff\")\n"
    "  (func (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1)) (data.drop $d)\n"
    "    (table.init $tab $e (i32.const 0) (i32.const 0) (i32.const 1)) (elem.drop $e))\n"
    "  (start 3))\n";

static void test_decodes(void) {
    size_t len;
    uint8_t *bin = wat(rich, &len);
    CHECK(bin != NULL);
    wp_module *m = NULL;
    wp_err err;
    wp_status st = bin ? wp_module_decode(bin, len, &m, &err) : WP_ERR_INTERNAL;
    CHECK_EQ(st, WP_OK);
    if (st != WP_OK && bin)
        fprintf(stderr, "  decode: %s\n", err.msg);
    if (m)
        wp_module_free(m);
    wp_wat_free(bin);
}

static void test_out_of_memory(void) {
    test_heap th;
    test_heap_init(&th);
    size_t reference_len = 0;
    uint8_t *reference = wat(rich, &reference_len);
    for (long k = 0;; k++) {
        test_heap_fail_at(&th, k);
        uint8_t *out = NULL;
        size_t len = 0;
        wp_err err;
        wp_status st = wp__wat_to_wasm_in(&th.heap, rich, strlen(rich), &out, &len, &err);
        if (st == WP_OK) {
            CHECK(k > 10); /* the text needs many allocations: each one was failed once */
            CHECK_EQ(len, reference_len);
            CHECK(reference && len == reference_len && memcmp(out, reference, len) == 0);
            wp__wat_free_in(&th.heap, out);
            CHECK_EQ(th.heap.used, 0);
            break;
        }
        CHECK_EQ(st, WP_ERR_NOMEM);
        CHECK(out == NULL);
        CHECK_EQ(th.heap.used, 0); /* nothing leaked */
        if (st != WP_ERR_NOMEM || th.heap.used != 0) {
            fprintf(stderr, "  at allocation %ld: %s\n", k, err.msg);
            break;
        }
    }
    wp_wat_free(reference);
}

int main(void) {
    RUN_TEST(test_uint);
    RUN_TEST(test_int);
    RUN_TEST(test_float_exact);
    RUN_TEST(test_float_ties);
    RUN_TEST(test_float_long);
    RUN_TEST(test_float_range);
    RUN_TEST(test_float_special);
    RUN_TEST(test_float_syntax);
    RUN_TEST(test_strings);
    RUN_TEST(test_tokens);
    RUN_TEST(test_lex_errors);
    RUN_TEST(test_bytes);
    RUN_TEST(test_locals_runs);
    RUN_TEST(test_folded_plain);
    RUN_TEST(test_names);
    RUN_TEST(test_implicit_types);
    RUN_TEST(test_unknown_type_index);
    RUN_TEST(test_segments);
    RUN_TEST(test_parse_errors);
    RUN_TEST(test_quote_depth);
    RUN_TEST(test_error_position);
    RUN_TEST(test_simd);
    RUN_TEST(test_depth);
    RUN_TEST(test_decodes);
    RUN_TEST(test_out_of_memory);
    return TEST_EXIT();
}
