/* test_spec_json.c: the spec runner's own logic: JSON reader, values, matching, commands. */
#include <unistd.h>

#include "commands.h"
#include "json.h"
#include "test.h"
#include "value.h"
#include "wippy/wat.h"

static spec_json *parse_ok(const char *text) {
    spec_json *root = NULL;
    wp_err err;
    wp_status st = spec_json_parse(wp_heap_default(), text, strlen(text), &root, &err);
    CHECK_EQ(st, WP_OK);
    if (st != WP_OK)
        fprintf(stderr, "  parsing %s: %s\n", text, err.msg);
    return root;
}

/* The text must be rejected with a message containing reason. */
static void parse_bad(const char *text, size_t len, const char *reason) {
    spec_json *root = NULL;
    wp_err err;
    wp_status st = spec_json_parse(wp_heap_default(), text, len, &root, &err);
    CHECK_EQ(st, WP_ERR_INVALID);
    CHECK(root == NULL);
    if (st == WP_ERR_INVALID)
        CHECK_STR_CONTAINS(err.msg, reason);
    else
        spec_json_free(wp_heap_default(), root);
}

static void test_json_document(void) {
    spec_json *root =
        parse_ok(" {\"a\": 12, \"b\": [true, false, null], \"c\": \"x\\\"y\","
                 " \"d\": {\"e\": -1.5e+3}} ");
    if (!root)
        return;
    CHECK_EQ(root->kind, SPEC_JSON_OBJECT);
    CHECK_EQ(root->count, 4);
    uint64_t n = 0;
    CHECK(spec_json_u64(spec_json_get(root, "a"), &n));
    CHECK_EQ(n, 12);
    const spec_json *b = spec_json_get(root, "b");
    CHECK(b && b->kind == SPEC_JSON_ARRAY && b->count == 3);
    if (b && b->count == 3) {
        CHECK(b->items[0].kind == SPEC_JSON_BOOL && b->items[0].boolean);
        CHECK(b->items[1].kind == SPEC_JSON_BOOL && !b->items[1].boolean);
        CHECK_EQ(b->items[2].kind, SPEC_JSON_NULL);
    }
    const char *c = spec_json_get_str(root, "c");
    CHECK(c && strcmp(c, "x\"y") == 0);
    const spec_json *e = spec_json_get(spec_json_get(root, "d"), "e");
    CHECK(e && e->kind == SPEC_JSON_NUMBER && strcmp(e->str, "-1.5e+3") == 0);
    CHECK(!spec_json_u64(e, &n));                  /* negative, fractional */
    CHECK(spec_json_get(root, "zz") == NULL);      /* absent */
    CHECK(spec_json_get_str(root, "a") == NULL);   /* not a string */
    CHECK(spec_json_get(b, "a") == NULL);          /* not an object */
    spec_json_free(wp_heap_default(), root);
}

static void test_json_empty_containers_and_duplicates(void) {
    spec_json *root = parse_ok("{\"k\": [], \"o\": {}, \"k\": 2}");
    if (!root)
        return;
    const spec_json *k = spec_json_get(root, "k");
    CHECK(k && k->kind == SPEC_JSON_ARRAY && k->count == 0); /* the first of repeated keys */
    const spec_json *o = spec_json_get(root, "o");
    CHECK(o && o->kind == SPEC_JSON_OBJECT && o->count == 0);
    spec_json_free(wp_heap_default(), root);
}

static void test_json_escapes(void) {
    spec_json *root = parse_ok("\"\\n\\t\\\\\\/\\b\\f\\r\\u00e9\\u0000z\\ud83d\\ude00\\u20ac\"");
    if (!root)
        return;
    /* \n \t \ / \b \f \r, e-acute (C3 A9), NUL, z, U+1F600 (F0 9F 98 80), euro (E2 82 AC) */
    static const char want[] = "\n\t\\/\b\f\r\xc3\xa9\0z\xf0\x9f\x98\x80\xe2\x82\xac";
    CHECK_EQ(root->kind, SPEC_JSON_STRING);
    CHECK_EQ(root->len, sizeof want - 1);
    CHECK(root->len == sizeof want - 1 && memcmp(root->str, want, root->len) == 0);
    CHECK_EQ(root->str[root->len], '\0');
    spec_json_free(wp_heap_default(), root);
}

static void test_json_key_with_nul(void) {
    spec_json *root = parse_ok("{\"a\\u0000b\": 1}");
    if (!root)
        return;
    CHECK_EQ(root->keys[0].len, 3);
    CHECK(spec_json_get(root, "a") == NULL); /* keys compare with their full length */
    spec_json_free(wp_heap_default(), root);
}

static void test_json_numbers(void) {
    static const char *ok[] = {"0", "-0", "12.5e-3", "1E9", "-7"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        spec_json *root = parse_ok(ok[i]);
        CHECK(root && root->kind == SPEC_JSON_NUMBER && strcmp(root->str, ok[i]) == 0);
        spec_json_free(wp_heap_default(), root);
    }
    spec_json *max = parse_ok("18446744073709551615");
    spec_json *over = parse_ok("18446744073709551616");
    uint64_t n = 0;
    CHECK(spec_json_u64(max, &n));
    CHECK(n == UINT64_MAX);
    CHECK(!spec_json_u64(over, &n));
    CHECK(!spec_json_u64(NULL, &n));
    spec_json_free(wp_heap_default(), max);
    spec_json_free(wp_heap_default(), over);
}

static void test_json_errors(void) {
    parse_bad("", 0, "unexpected end of input");
    parse_bad("[1,", 3, "unexpected end of input");
    parse_bad("[1", 2, "unexpected end of input");
    parse_bad("[1,]", 4, "unexpected character");
    parse_bad("[1 2]", 5, "expected ',' or ']'");
    parse_bad("{\"a\":1 \"b\":2}", 13, "expected ',' or '}'");
    parse_bad("{\"a\" 1}", 7, "expected ':'");
    parse_bad("{1:2}", 5, "expected a string key");
    parse_bad("{", 1, "expected a string key");
    parse_bad("\"abc", 4, "unterminated string");
    parse_bad("\"ab\\\"", 5, "unterminated string");
    parse_bad("\"a\\qb\"", 6, "invalid escape");
    parse_bad("\"\\u12g4\"", 8, "invalid \\u escape");
    parse_bad("\"\\u12\"", 6, "invalid \\u escape");
    parse_bad("\"\\udc00\"", 8, "unpaired surrogate");
    parse_bad("\"\\ud800x\"", 9, "unpaired surrogate");
    parse_bad("\"\\ud800\\u0041\"", 14, "unpaired surrogate");
    parse_bad("\"a\x01z\"", 5, "control character in string");
    parse_bad("\"a\0z\"", 5, "control character in string");
    parse_bad("-", 1, "invalid number");
    parse_bad("-x", 2, "invalid number");
    parse_bad("1.", 2, "invalid number");
    parse_bad("1.e5", 4, "invalid number");
    parse_bad("1e", 2, "invalid number");
    parse_bad("1e+", 3, "invalid number");
    parse_bad("tru", 3, "unexpected character");
    parse_bad("nul", 3, "unexpected character");
    parse_bad("@", 1, "unexpected character");
    parse_bad("1 2", 3, "unexpected text after the document");
    parse_bad("01", 2, "unexpected text after the document");
    parse_bad("{\n  \"a\": x}", 11, "line 2, column 8: unexpected character");
}

static void test_json_depth_limit(void) {
    char deep[2 * SPEC_JSON_MAX_DEPTH + 3];
    size_t n = SPEC_JSON_MAX_DEPTH;
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    spec_json *root = NULL;
    wp_err err;
    CHECK_EQ(spec_json_parse(wp_heap_default(), deep, 2 * n, &root, &err), WP_OK);
    spec_json_free(wp_heap_default(), root);
    memset(deep, '[', n + 1);
    memset(deep + n + 1, ']', n + 1);
    parse_bad(deep, 2 * (n + 1), "nesting too deep");
}

/* Every allocation failure is WP_ERR_NOMEM and leaves nothing allocated (STYLE 16). */
static void test_json_out_of_memory(void) {
    static const char doc[] =
        "{\"commands\": [{\"type\": \"module\", \"line\": 3}, [1, 2, 3, 4, 5],"
        " {\"a\": \"\\u00e9x\", \"b\": {}, \"c\": null, \"d\": 1, \"e\": 2}]}";
    int failures = 0;
    for (size_t limit = 0;; limit += 8) {
        wp_heap heap;
        wp_heap_init(&heap, limit);
        spec_json *root = NULL;
        wp_err err;
        wp_status st = spec_json_parse(&heap, doc, sizeof doc - 1, &root, &err);
        if (st == WP_OK) {
            CHECK(root != NULL);
            spec_json_free(&heap, root);
            CHECK_EQ(heap.used, 0);
            break;
        }
        failures++;
        CHECK_EQ(st, WP_ERR_NOMEM);
        CHECK(root == NULL);
        CHECK_EQ(heap.used, 0);
        if (st != WP_ERR_NOMEM || heap.used != 0 || limit > (1u << 20))
            break;
    }
    CHECK(failures > 5); /* the loop went through many partial trees */
}

static void test_parse_bits(void) {
    uint64_t v = 0;
    CHECK(spec_parse_bits("4294967295", 32, &v));
    CHECK_EQ(v, 0xffffffffu);
    CHECK(!spec_parse_bits("4294967296", 32, &v));
    CHECK(spec_parse_bits("-1", 32, &v));
    CHECK_EQ(v, 0xffffffffu);
    CHECK(spec_parse_bits("-2147483648", 32, &v));
    CHECK_EQ(v, 0x80000000u);
    CHECK(!spec_parse_bits("-2147483649", 32, &v));
    CHECK(spec_parse_bits("18446744073709551615", 64, &v));
    CHECK(v == UINT64_MAX);
    CHECK(!spec_parse_bits("18446744073709551616", 64, &v));
    CHECK(spec_parse_bits("-9223372036854775808", 64, &v));
    CHECK(v == UINT64_C(0x8000000000000000));
    CHECK(!spec_parse_bits("-9223372036854775809", 64, &v));
    CHECK(spec_parse_bits("255", 8, &v));
    CHECK_EQ(v, 255);
    CHECK(!spec_parse_bits("256", 8, &v));
    CHECK(spec_parse_bits("-32768", 16, &v));
    CHECK_EQ(v, 0x8000);
    CHECK(spec_parse_bits("-0", 32, &v));
    CHECK_EQ(v, 0);
    CHECK(!spec_parse_bits("", 32, &v));
    CHECK(!spec_parse_bits("-", 32, &v));
    CHECK(!spec_parse_bits("+1", 32, &v));
    CHECK(!spec_parse_bits("12a", 32, &v));
    CHECK(!spec_parse_bits("0x10", 32, &v));
}

/* Parses one value of a JSON text as an argument. */
static wp_status arg(const char *json, wp_val *out, wp_err *err) {
    spec_json *root = parse_ok(json);
    if (!root)
        return WP_ERR_INTERNAL;
    wp_status st = spec_value_parse_arg(root, out, err);
    spec_json_free(wp_heap_default(), root);
    return st;
}

static wp_status expected(const char *json, spec_value *out, wp_err *err) {
    spec_json *root = parse_ok(json);
    if (!root)
        return WP_ERR_INTERNAL;
    wp_status st = spec_value_parse_expected(root, out, err);
    spec_json_free(wp_heap_default(), root);
    return st;
}

static void test_args(void) {
    wp_val v;
    wp_err err;
    uint64_t n = 99;
    CHECK_EQ(arg("{\"type\": \"i32\", \"value\": \"4294967295\"}", &v, &err), WP_OK);
    CHECK(v.type == WP_I32 && v.of.i32 == 0xffffffffu);
    CHECK_EQ(arg("{\"type\": \"i64\", \"value\": \"9223372036854775808\"}", &v, &err), WP_OK);
    CHECK(v.type == WP_I64 && v.of.i64 == UINT64_C(0x8000000000000000));
    /* 1.0f is 0x3f800000 = 1065353216; 1.0 is 0x3ff0000000000000 = 4607182418800017408 */
    CHECK_EQ(arg("{\"type\": \"f32\", \"value\": \"1065353216\"}", &v, &err), WP_OK);
    CHECK(v.type == WP_F32 && v.of.f32 == 0x3f800000u);
    CHECK_EQ(arg("{\"type\": \"f64\", \"value\": \"4607182418800017408\"}", &v, &err), WP_OK);
    CHECK(v.type == WP_F64 && v.of.f64 == UINT64_C(0x3ff0000000000000));
    CHECK_EQ(arg("{\"type\": \"externref\", \"value\": \"null\"}", &v, &err), WP_OK);
    CHECK(v.type == WP_EXTERNREF && v.of.ext == NULL);
    CHECK_EQ(arg("{\"type\": \"externref\", \"value\": \"0\"}", &v, &err), WP_OK);
    CHECK(v.type == WP_EXTERNREF && v.of.ext != NULL);
    CHECK(spec_extern_index(v.of.ext, &n) && n == 0);
    CHECK(spec_extern_ref(1) != spec_extern_ref(2));
    CHECK(!spec_extern_index(NULL, &n));
    CHECK_EQ(arg("{\"type\": \"funcref\", \"value\": \"null\"}", &v, &err), WP_OK);
    CHECK(v.type == WP_FUNCREF && v.of.func == NULL);
    /* v128 as i16x8: lane 0 is the low 16 bits, stored little-endian */
    CHECK_EQ(arg("{\"type\": \"v128\", \"lane_type\": \"i16\", \"value\": [\"65535\", \"1\", "
                 "\"0\", \"0\", \"0\", \"0\", \"0\", \"258\"]}",
                 &v, &err),
             WP_OK);
    CHECK(v.type == WP_V128 && v.of.v128[0] == 0xff && v.of.v128[1] == 0xff &&
          v.of.v128[2] == 1 && v.of.v128[3] == 0 && v.of.v128[14] == 2 && v.of.v128[15] == 1);
}

static void arg_bad(const char *json, const char *reason) {
    wp_val v;
    wp_err err;
    CHECK_EQ(arg(json, &v, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, reason);
}

static void test_arg_errors(void) {
    arg_bad("{\"type\": \"i31\", \"value\": \"1\"}", "unknown value type");
    arg_bad("{\"value\": \"1\"}", "unknown value type");
    arg_bad("{\"type\": \"i32\", \"value\": \"4294967296\"}", "bad integer");
    arg_bad("{\"type\": \"i32\"}", "bad integer");
    arg_bad("{\"type\": \"f32\", \"value\": \"nan:canonical\"}", "bad float bits");
    arg_bad("{\"type\": \"funcref\", \"value\": \"1\"}", "only a null funcref");
    arg_bad("{\"type\": \"externref\"}", "reference argument needs a value");
    arg_bad("{\"type\": \"externref\", \"value\": \"-1\"}", "bad externref");
    arg_bad("{\"type\": \"externref\", \"value\": \"x\"}", "bad externref");
    arg_bad("{\"type\": \"v128\", \"lane_type\": \"i7\", \"value\": []}", "bad v128 lane type");
    arg_bad("{\"type\": \"v128\", \"lane_type\": \"i32\", \"value\": [\"1\"]}",
            "v128 needs 4 lanes of i32");
    arg_bad("{\"type\": \"v128\", \"lane_type\": \"i64\"}", "v128 needs 2 lanes of i64");
    arg_bad("{\"type\": \"v128\", \"lane_type\": \"i8\", \"value\": [\"256\", \"0\", \"0\", \"0\","
            " \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\"]}",
            "bad v128 lane");
    arg_bad("{\"type\": \"v128\", \"lane_type\": \"f64\", \"value\": [\"nan:canonical\", \"0\"]}",
            "bad v128 lane");
    arg_bad("{\"type\": \"v128\", \"lane_type\": \"f64\", \"value\": [0, \"0\"]}",
            "bad v128 lane");
}

static bool matches(const char *json, wp_val got) {
    spec_value e;
    wp_err err;
    wp_status st = expected(json, &e, &err);
    CHECK_EQ(st, WP_OK);
    return st == WP_OK && spec_value_matches(&e, &got);
}

static void test_nan_patterns(void) {
    const char *f32c = "{\"type\": \"f32\", \"value\": \"nan:canonical\"}";
    const char *f32a = "{\"type\": \"f32\", \"value\": \"nan:arithmetic\"}";
    CHECK(matches(f32c, wp_val_f32(0x7fc00000u)));
    CHECK(matches(f32c, wp_val_f32(0xffc00000u)));   /* either sign */
    CHECK(!matches(f32c, wp_val_f32(0x7fc00001u)));  /* payload beyond the quiet bit */
    CHECK(!matches(f32c, wp_val_f32(0x7f800000u)));  /* infinity */
    CHECK(!matches(f32c, wp_val_f64(UINT64_C(0x7ff8000000000000)))); /* wrong type */
    CHECK(matches(f32a, wp_val_f32(0x7fc00001u)));
    CHECK(matches(f32a, wp_val_f32(0xffffffffu)));
    CHECK(!matches(f32a, wp_val_f32(0x7fa00000u)));  /* signalling: quiet bit clear */
    CHECK(!matches(f32a, wp_val_f32(0x3fc00000u)));  /* not all exponent bits */
    const char *f64c = "{\"type\": \"f64\", \"value\": \"nan:canonical\"}";
    const char *f64a = "{\"type\": \"f64\", \"value\": \"nan:arithmetic\"}";
    CHECK(matches(f64c, wp_val_f64(UINT64_C(0x7ff8000000000000))));
    CHECK(matches(f64c, wp_val_f64(UINT64_C(0xfff8000000000000))));
    CHECK(!matches(f64c, wp_val_f64(UINT64_C(0x7ff8000000000001))));
    CHECK(matches(f64a, wp_val_f64(UINT64_C(0x7ff8000000000001))));
    CHECK(matches(f64a, wp_val_f64(UINT64_C(0xfffc000000000000))));
    CHECK(!matches(f64a, wp_val_f64(UINT64_C(0x7ff4000000000000))));
    CHECK(!matches(f64a, wp_val_f64(UINT64_C(0x7ff0000000000000))));
}

static void test_exact_matching(void) {
    /* -0.0f is 0x80000000 = 2147483648: floats compare by bits, so +0 does not match */
    const char *neg_zero = "{\"type\": \"f32\", \"value\": \"2147483648\"}";
    CHECK(matches(neg_zero, wp_val_f32(0x80000000u)));
    CHECK(!matches(neg_zero, wp_val_f32(0)));
    /* a specific NaN given as bits (0x7fc00001 = 2143289345) must match exactly */
    CHECK(matches("{\"type\": \"f32\", \"value\": \"2143289345\"}", wp_val_f32(0x7fc00001u)));
    CHECK(!matches("{\"type\": \"f32\", \"value\": \"2143289345\"}", wp_val_f32(0x7fc00000u)));
    CHECK(matches("{\"type\": \"i32\", \"value\": \"7\"}", wp_val_i32(7)));
    CHECK(!matches("{\"type\": \"i32\", \"value\": \"7\"}", wp_val_i64(7)));
    CHECK(!matches("{\"type\": \"i32\", \"value\": \"7\"}", wp_val_f32(7)));
    CHECK(!matches("{\"type\": \"i64\", \"value\": \"7\"}", wp_val_i64(UINT64_C(7) << 32 | 7)));
}

static void test_ref_matching(void) {
    wp_val null_ext = {.type = WP_EXTERNREF, .of.ext = NULL};
    wp_val ext1 = {.type = WP_EXTERNREF, .of.ext = spec_extern_ref(1)};
    wp_val ext2 = {.type = WP_EXTERNREF, .of.ext = spec_extern_ref(2)};
    wp_val null_func = {.type = WP_FUNCREF, .of.func = NULL};
    wp_val some_func = {.type = WP_FUNCREF, .of.func = (wp_func *)&ext1};
    CHECK(matches("{\"type\": \"externref\", \"value\": \"null\"}", null_ext));
    CHECK(!matches("{\"type\": \"externref\", \"value\": \"null\"}", ext1));
    CHECK(matches("{\"type\": \"externref\", \"value\": \"1\"}", ext1));
    CHECK(!matches("{\"type\": \"externref\", \"value\": \"1\"}", ext2));
    CHECK(!matches("{\"type\": \"externref\", \"value\": \"null\"}", null_func));
    CHECK(matches("{\"type\": \"funcref\", \"value\": \"null\"}", null_func));
    CHECK(!matches("{\"type\": \"funcref\", \"value\": \"null\"}", some_func));
    CHECK(matches("{\"type\": \"funcref\"}", some_func)); /* no value: any non-null */
    CHECK(!matches("{\"type\": \"funcref\"}", null_func));
    CHECK(matches("{\"type\": \"externref\"}", ext2));
    CHECK(!matches("{\"type\": \"externref\"}", null_ext));
}

static void test_v128_matching(void) {
    /* f32x4: lane 0 canonical NaN, lane 1 arithmetic NaN, lanes 2-3 exact (1.0f and 0) */
    const char *e = "{\"type\": \"v128\", \"lane_type\": \"f32\", \"value\": [\"nan:canonical\","
                    " \"nan:arithmetic\", \"1065353216\", \"0\"]}";
    wp_val got = {.type = WP_V128};
    const uint32_t lanes[4] = {0xffc00000u, 0x7fc12345u, 0x3f800000u, 0};
    for (int i = 0; i < 4; i++) {
        for (int b = 0; b < 4; b++)
            got.of.v128[4 * i + b] = (uint8_t)(lanes[i] >> (8 * b));
    }
    CHECK(matches(e, got));
    got.of.v128[8] ^= 1; /* lane 2 is no longer 1.0f */
    CHECK(!matches(e, got));
    got.of.v128[8] ^= 1;
    got.of.v128[6] = 0x80; /* lane 1 becomes 0x7f812345: signalling, not arithmetic */
    CHECK(!matches(e, got));
    const char *i8 = "{\"type\": \"v128\", \"lane_type\": \"i8\", \"value\": [\"1\", \"2\", \"3\","
                     " \"4\", \"5\", \"6\", \"7\", \"8\", \"9\", \"10\", \"11\", \"12\", \"13\","
                     " \"14\", \"15\", \"-1\"]}";
    wp_val bytes = {.type = WP_V128};
    for (int i = 0; i < 15; i++)
        bytes.of.v128[i] = (uint8_t)(i + 1);
    bytes.of.v128[15] = 0xff;
    CHECK(matches(i8, bytes));
    bytes.of.v128[15] = 0xfe;
    CHECK(!matches(i8, bytes));
}

static void test_expected_errors(void) {
    spec_value e;
    wp_err err;
    CHECK_EQ(expected("{\"type\": \"f32\", \"value\": \"nan:signalling\"}", &e, &err),
             WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "bad float bits");
    CHECK_EQ(expected("{\"type\": \"i32\", \"value\": \"nan:canonical\"}", &e, &err),
             WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "bad integer");
    CHECK_EQ(expected("{\"type\": \"funcref\", \"value\": \"3\"}", &e, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "only a null funcref");
}

static void test_format(void) {
    char buf[128];
    wp_val v = wp_val_i32(42);
    spec_value_format(&v, buf, sizeof buf);
    CHECK(strcmp(buf, "i32:42") == 0);
    v = wp_val_i64(UINT64_MAX);
    spec_value_format(&v, buf, sizeof buf);
    CHECK(strcmp(buf, "i64:18446744073709551615") == 0);
    v = wp_val_f32(0x7fc00000u);
    spec_value_format(&v, buf, sizeof buf);
    CHECK(strcmp(buf, "f32:0x7fc00000") == 0);
    v = wp_val_f64(1);
    spec_value_format(&v, buf, sizeof buf);
    CHECK(strcmp(buf, "f64:0x0000000000000001") == 0);
    v = (wp_val){.type = WP_EXTERNREF, .of.ext = spec_extern_ref(3)};
    spec_value_format(&v, buf, sizeof buf);
    CHECK(strcmp(buf, "externref:3") == 0);
    v = (wp_val){.type = WP_FUNCREF, .of.func = NULL};
    spec_value_format(&v, buf, sizeof buf);
    CHECK(strcmp(buf, "funcref:null") == 0);
    v = (wp_val){.type = WP_V128};
    v.of.v128[0] = 1;
    v.of.v128[15] = 0x80;
    spec_value_format(&v, buf, sizeof buf);
    CHECK(strcmp(buf, "v128:i32x4:0x00000001,0x00000000,0x00000000,0x80000000") == 0);
    spec_value_format(&v, buf, 6); /* truncated, still terminated */
    CHECK(strcmp(buf, "v128:") == 0);

    spec_value e;
    wp_err err;
    CHECK_EQ(expected("{\"type\": \"f64\", \"value\": \"nan:arithmetic\"}", &e, &err), WP_OK);
    spec_expected_format(&e, buf, sizeof buf);
    CHECK(strcmp(buf, "f64:nan:arithmetic") == 0);
    CHECK_EQ(expected("{\"type\": \"funcref\"}", &e, &err), WP_OK);
    spec_expected_format(&e, buf, sizeof buf);
    CHECK(strcmp(buf, "funcref:non-null") == 0);
    CHECK_EQ(expected("{\"type\": \"i32\", \"value\": \"5\"}", &e, &err), WP_OK);
    spec_expected_format(&e, buf, sizeof buf);
    CHECK(strcmp(buf, "i32:5") == 0);
    CHECK_EQ(expected("{\"type\": \"v128\", \"lane_type\": \"f64\", \"value\": "
                      "[\"nan:canonical\", \"16\"]}",
                      &e, &err),
             WP_OK);
    spec_expected_format(&e, buf, sizeof buf);
    CHECK(strcmp(buf, "v128:f64x2:nan:canonical,0x10") == 0);
}

static void test_counted_commands(void) {
    spec_json *reg = parse_ok("{\"type\": \"register\", \"as\": \"m\"}");
    spec_json *mod = parse_ok("{\"type\": \"module\"}");
    spec_json *none = parse_ok("{}");
    CHECK(reg && !spec_command_counted(reg));
    CHECK(mod && spec_command_counted(mod));
    CHECK(none && spec_command_counted(none)); /* counted, and it will fail */
    spec_json_free(wp_heap_default(), reg);
    spec_json_free(wp_heap_default(), mod);
    spec_json_free(wp_heap_default(), none);
}

static void test_message_checks(void) {
    CHECK(spec_text_prefix("integer divide by zero in func 3", "integer divide by zero"));
    CHECK(!spec_text_prefix("integer overflow", "integer divide by zero"));
    CHECK(!spec_text_prefix("trap: unreachable", "unreachable"));
    CHECK(spec_text_prefix("anything", ""));
    CHECK(spec_text_in_chain("out of bounds memory access", "out of bounds memory access"));
    CHECK(spec_text_in_chain("data segment 1: out of bounds memory access at 65536",
                             "out of bounds memory access"));
    CHECK(!spec_text_in_chain("data segment 1: memory out of bounds",
                              "out of bounds memory access"));
    CHECK(!spec_text_in_chain("not out of bounds memory access", "out of bounds memory access"));
}

/* ---- Commands, run against the real engine on modules written by the text reader --------- */

typedef struct fixture {
    char dir[64];
    char files[16][32];
    int nfiles;
    spec_session ss;
    bool ready;
} fixture;

static const char main_wat[] =
    "(module\n"
    "  (import \"spectest\" \"print_i32\" (func $p (param i32)))\n"
    "  (import \"spectest\" \"global_i32\" (global $g i32))\n"
    "  (func (export \"add\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)\n"
    "  (func (export \"div\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)\n"
    "  (func (export \"print\") (param i32) local.get 0 call $p)\n"
    "  (func (export \"spin\") (loop (br 0)))\n"
    "  (func $deep (export \"deep\") (call $deep))\n"
    "  (func (export \"id\") (param externref) (result externref) local.get 0)\n"
    "  (func (export \"nan\") (result f32) f32.const nan)\n"
    "  (func (export \"two\") (result i32 i64) i32.const 1 i64.const -1)\n"
    "  (global (export \"g\") i32 (global.get $g)))\n";

static bool write_file(fixture *fx, const char *name, const void *bytes, size_t len) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", fx->dir, name);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(bytes, 1, len, f) == len;
    if (f)
        ok = fclose(f) == 0 && ok;
    if (ok && fx->nfiles < 16)
        snprintf(fx->files[fx->nfiles++], sizeof fx->files[0], "%s", name);
    return ok;
}

/* Writes name (a .wasm) from WebAssembly text. */
static void write_wat(fixture *fx, const char *name, const char *wat) {
    uint8_t *bin = NULL;
    size_t len = 0;
    wp_err err;
    wp_status st = wp_wat_to_wasm(wat, strlen(wat), &bin, &len, &err);
    CHECK_EQ(st, WP_OK);
    if (st == WP_OK)
        CHECK(write_file(fx, name, bin, len));
    else
        fprintf(stderr, "  %s: %s\n", name, err.msg);
    wp_wat_free(bin);
}

static void write_text(fixture *fx, const char *name, const char *text) {
    CHECK(write_file(fx, name, text, strlen(text)));
}

static bool fixture_open(fixture *fx) {
    memset(fx, 0, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/test_spec_json.XXXXXX");
    CHECK(mkdtemp(fx->dir) != NULL);
    wp_err err;
    fx->ready = spec_session_init(&fx->ss, fx->dir, 0, &err) == WP_OK;
    CHECK(fx->ready);
    if (!fx->ready)
        fprintf(stderr, "  session: %s\n", err.msg);
    write_wat(fx, "main.wasm", main_wat);
    return fx->ready;
}

static void fixture_close(fixture *fx) {
    char path[128];
    for (int i = 0; i < fx->nfiles; i++) {
        snprintf(path, sizeof path, "%s/%s", fx->dir, fx->files[i]);
        unlink(path);
    }
    rmdir(fx->dir);
    if (fx->ready)
        spec_session_free(&fx->ss);
}

/* Runs one command written with ' for " (readable JSON in C) and returns its verdict. */
static spec_verdict run(fixture *fx, const char *json) {
    spec_verdict v = {.counted = true, .passed = false, .why = "not run"};
    char text[4096];
    snprintf(text, sizeof text, "%s", json);
    for (char *c = text; *c; c++) {
        if (*c == '\'')
            *c = '"';
    }
    spec_json *cmd = parse_ok(text);
    if (cmd)
        spec_command_run(&fx->ss, cmd, &v);
    spec_json_free(wp_heap_default(), cmd);
    return v;
}

static void expect_pass(fixture *fx, const char *json) {
    spec_verdict v = run(fx, json);
    CHECK(v.passed);
    if (!v.passed)
        fprintf(stderr, "  %s\n  failed: %s\n", json, v.why);
}

static void expect_fail(fixture *fx, const char *json, const char *why) {
    spec_verdict v = run(fx, json);
    CHECK(!v.passed);
    CHECK_STR_CONTAINS(v.why, why);
}

#define MODULE_MAIN "{'type': 'module', 'line': 1, 'filename': 'main.wasm'}"
#define INVOKE(field, args) "{'type': 'invoke', 'field': '" field "', 'args': [" args "]}"
#define I32(v) "{'type': 'i32', 'value': '" v "'}"
#define INVOKE2(field, a, b) INVOKE(field, I32(a) ", " I32(b))
#define EXT(v) "{'type': 'externref', 'value': '" v "'}"

static void test_cmd_module_and_return(void) {
    fixture fx;
    if (fixture_open(&fx)) {
        expect_pass(&fx, MODULE_MAIN);
        expect_pass(&fx, "{'type': 'assert_return', 'action': " INVOKE2("add", "1", "2") ", "
                         "'expected': [" I32("3") "]}");
        /* 4294967295 is -1: the sum wraps to 1 */
        expect_pass(&fx, "{'type': 'assert_return', 'action': "
                         INVOKE2("add", "4294967295", "2") ", "
                         "'expected': [" I32("1") "]}");
        expect_fail(&fx,
                    "{'type': 'assert_return', 'action': " INVOKE2("add", "1", "2") ", "
                    "'expected': [" I32("4") "]}",
                    "expected (i32:4), got (i32:3)");
        expect_fail(&fx, "{'type': 'assert_return', 'action': " INVOKE2("add", "1", "2") ", "
                         "'expected': []}",
                    "expected (), got (i32:3)");
        expect_pass(&fx, "{'type': 'assert_return', 'action': " INVOKE("two", "") ", 'expected': "
                         "[" I32("1") ", {'type': 'i64', 'value': '18446744073709551615'}]}");
        expect_pass(&fx, "{'type': 'assert_return', 'action': " INVOKE("nan", "") ", 'expected': "
                         "[{'type': 'f32', 'value': 'nan:canonical'}]}");
        expect_pass(&fx, "{'type': 'assert_return', 'action': " INVOKE("id", EXT("5")) ", "
                         "'expected': [" EXT("5") "]}");
        expect_fail(&fx, "{'type': 'assert_return', 'action': " INVOKE("id", EXT("5")) ", "
                         "'expected': [" EXT("6") "]}",
                    "expected (externref:6), got (externref:5)");
        expect_pass(&fx, "{'type': 'action', 'action': " INVOKE("print", I32("7")) "}");
        expect_pass(&fx, "{'type': 'assert_return', 'action': {'type': 'get', 'field': 'g'}, "
                         "'expected': [" I32("666") "]}");
    }
    fixture_close(&fx);
}

static void test_cmd_traps_and_timeout(void) {
    fixture fx;
    if (fixture_open(&fx)) {
        expect_pass(&fx, MODULE_MAIN);
        const char *div0 = INVOKE2("div", "1", "0");
        char cmd[512];
        snprintf(cmd, sizeof cmd, "{'type': 'assert_trap', 'action': %s, 'text': '%s'}", div0,
                 "integer divide by zero");
        expect_pass(&fx, cmd);
        snprintf(cmd, sizeof cmd, "{'type': 'assert_trap', 'action': %s, 'text': '%s'}", div0,
                 "integer overflow");
        expect_fail(&fx, cmd, "expected trap \"integer overflow\", got trap \"integer divide");
        snprintf(cmd, sizeof cmd, "{'type': 'assert_return', 'action': %s, 'expected': []}", div0);
        expect_fail(&fx, cmd, "trapped: integer divide by zero");
        expect_fail(&fx, "{'type': 'assert_trap', 'action': " INVOKE2("div", "6", "3") ", "
                         "'text': 'integer divide by zero'}",
                    "returned (i32:2)");
        expect_pass(&fx, "{'type': 'assert_exhaustion', 'action': " INVOKE("deep", "") ", "
                         "'text': 'call stack exhausted'}");
        fx.ss.time_limit_s = 0.2;
        expect_fail(&fx, "{'type': 'assert_return', 'action': " INVOKE("spin", "") ", "
                         "'expected': []}",
                    "timeout");
        /* the exec was reset: the next call works */
        expect_pass(&fx, "{'type': 'assert_return', 'action': " INVOKE2("add", "1", "1") ", "
                         "'expected': [" I32("2") "]}");
    }
    fixture_close(&fx);
}

static void test_cmd_names_and_register(void) {
    fixture fx;
    if (fixture_open(&fx)) {
        write_wat(&fx, "user.wasm",
                  "(module (import \"reg\" \"add\" (func $a (param i32 i32) (result i32)))"
                  " (func (export \"add2\") (param i32) (result i32)"
                  "   local.get 0 local.get 0 call $a))");
        expect_pass(&fx, "{'type': 'module', 'name': '$M', 'filename': 'main.wasm'}");
        expect_fail(&fx, "{'type': 'module', 'filename': 'user.wasm'}", /* not registered yet */
                    "unknown import \"reg\" \"add\"");
        spec_verdict v = run(&fx, "{'type': 'register', 'name': '$M', 'as': 'reg'}");
        CHECK(v.passed);
        CHECK(!v.counted);
        expect_pass(&fx, "{'type': 'module', 'filename': 'user.wasm'}");
        expect_pass(&fx, "{'type': 'assert_return', 'action': " INVOKE("add2", I32("21")) ", "
                         "'expected': [" I32("42") "]}");
        /* actions by name reach $M although user.wasm is the current module */
        expect_pass(&fx, "{'type': 'assert_return', 'action': {'type': 'invoke', 'module': '$M', "
                         "'field': 'add', 'args': [" I32("2") ", " I32("3") "]}, "
                         "'expected': [" I32("5") "]}");
        expect_fail(&fx, "{'type': 'action', 'action': {'type': 'invoke', 'module': '$X', "
                         "'field': 'add', 'args': []}}",
                    "no module named $X");
        v = run(&fx, "{'type': 'register', 'name': '$X', 'as': 'x'}");
        CHECK(!v.passed);
        CHECK(!v.counted);
        CHECK_STR_CONTAINS(v.why, "no module named $X");
        expect_fail(&fx, "{'type': 'register', 'name': '$M'}", "register needs \"as\"");
    }
    fixture_close(&fx);
}

static void test_cmd_instantiation_errors(void) {
    fixture fx;
    if (fixture_open(&fx)) {
        write_wat(&fx, "unknown.wasm", "(module (import \"nowhere\" \"f\" (func)))");
        write_wat(&fx, "badtype.wasm",
                  "(module (import \"spectest\" \"print_i32\" (func (param i64))))");
        write_wat(&fx, "start.wasm", "(module (func $s unreachable) (start $s))");
        write_wat(&fx, "data.wasm", "(module (memory 1) (data (i32.const 65536) \"x\"))");
        expect_pass(&fx, "{'type': 'assert_unlinkable', 'filename': 'unknown.wasm', "
                         "'text': 'unknown import'}");
        expect_pass(&fx, "{'type': 'assert_unlinkable', 'filename': 'badtype.wasm', "
                         "'text': 'incompatible import type'}");
        expect_fail(&fx, "{'type': 'assert_unlinkable', 'filename': 'unknown.wasm', "
                         "'text': 'incompatible import type'}",
                    "expected link error \"incompatible import type\", got \"unknown import");
        expect_fail(&fx, "{'type': 'assert_unlinkable', 'filename': 'main.wasm', "
                         "'text': 'unknown import'}",
                    "the module was instantiated");
        expect_fail(&fx, "{'type': 'assert_uninstantiable', 'filename': 'unknown.wasm', "
                         "'text': 'unreachable'}",
                    "expected trap \"unreachable\", got LINK");
        expect_pass(&fx, "{'type': 'assert_uninstantiable', 'filename': 'start.wasm', "
                         "'text': 'unreachable'}");
        expect_pass(&fx, "{'type': 'assert_trap', 'filename': 'start.wasm', "
                         "'text': 'unreachable'}");
        expect_pass(&fx, "{'type': 'assert_uninstantiable', 'filename': 'data.wasm', "
                         "'text': 'out of bounds memory access'}");
        expect_fail(&fx, "{'type': 'assert_uninstantiable', 'filename': 'data.wasm', "
                         "'text': 'out of bounds table access'}",
                    "expected trap \"out of bounds table access\"");
        /* a module that fails leaves no current module */
        expect_pass(&fx, MODULE_MAIN);
        expect_fail(&fx, "{'type': 'module', 'filename': 'start.wasm'}",
                    "instantiate start.wasm: unreachable");
        expect_fail(&fx, "{'type': 'action', 'action': " INVOKE("add", "") "}",
                    "no current module");
        expect_fail(&fx, "{'type': 'register', 'as': 'r'}",
                    "no module to register");
        expect_fail(&fx, "{'type': 'module', 'name': '$S', 'filename': 'start.wasm'}",
                    "unreachable");
        expect_fail(&fx, "{'type': 'action', 'action': {'type': 'invoke', 'module': '$S', "
                         "'field': 'f', 'args': []}}",
                    "module $S failed to load");
    }
    fixture_close(&fx);
}

/* More values than the runner holds (SPEC_MAX_VALUES) fail the command, not the runner. */
static void test_cmd_value_limits(void) {
    fixture fx;
    if (fixture_open(&fx)) {
        char wat[2048] = "(module (func (export \"many\") (result";
        for (int i = 0; i <= SPEC_MAX_VALUES; i++)
            strcat(wat, " i32");
        strcat(wat, ")");
        for (int i = 0; i <= SPEC_MAX_VALUES; i++)
            strcat(wat, " i32.const 1");
        strcat(wat, "))");
        write_wat(&fx, "many.wasm", wat);
        expect_pass(&fx, "{'type': 'module', 'filename': 'many.wasm'}");
        expect_fail(&fx, "{'type': 'action', 'action': " INVOKE("many", "") "}",
                    "more results than the runner can hold");
        char cmd[4096] = "{'type': 'action', 'action': {'type': 'invoke', 'field': 'many', "
                         "'args': [";
        for (int i = 0; i <= SPEC_MAX_VALUES; i++)
            strcat(cmd, i ? ", " I32("0") : I32("0"));
        strcat(cmd, "]}}");
        expect_fail(&fx, cmd, "invoke needs an array of at most 64 args");
    }
    fixture_close(&fx);
}

static void test_cmd_rejected_modules(void) {
    fixture fx;
    if (fixture_open(&fx)) {
        write_wat(&fx, "invalid.wasm", "(module (func (result i32) i64.const 0))");
        write_text(&fx, "bad.wat", "(module (func i32.const))");
        write_text(&fx, "good.wat", "(module)");
        spec_verdict v = run(&fx, "{'type': 'assert_invalid', 'filename': 'invalid.wasm', "
                                  "'text': 'type mismatch', 'module_type': 'binary'}");
        CHECK(v.passed);
        CHECK_STR_CONTAINS(v.why, "expected \"type mismatch\", the decoder said"); /* the note */
        expect_fail(&fx, "{'type': 'assert_invalid', 'filename': 'main.wasm', 'text': 'x'}",
                    "the decoder accepted the module");
        expect_pass(&fx, "{'type': 'assert_malformed', 'filename': 'bad.wat', 'text': 'x', "
                         "'module_type': 'text'}");
        expect_fail(&fx, "{'type': 'assert_malformed', 'filename': 'good.wat', 'text': 'x', "
                         "'module_type': 'text'}",
                    "the decoder (after the text reader) accepted the module");
        expect_fail(&fx, "{'type': 'assert_malformed', 'filename': 'gone.wat', 'text': 'x', "
                         "'module_type': 'text'}",
                    "cannot open");
        expect_fail(&fx, "{'type': 'assert_invalid', 'text': 'x'}", "names no module file");
        expect_fail(&fx, "{'type': 'module', 'filename': 'gone.wasm'}",
                    "decode gone.wasm: cannot open");
        expect_fail(&fx, "{'type': 'assert_unlinkable', 'filename': 'gone.wasm', 'text': 'x'}",
                    "decode: cannot open");
    }
    fixture_close(&fx);
}

static void test_cmd_script_errors(void) {
    fixture fx;
    if (fixture_open(&fx)) {
        expect_fail(&fx, "{'type': 'action', 'action': " INVOKE("add", "") "}",
                    "no current module"); /* no module yet */
        expect_pass(&fx, MODULE_MAIN);
        expect_fail(&fx, "{'type': 'assert_wat'}", "unknown command type \"assert_wat\"");
        expect_fail(&fx, "{'line': 3}", "unknown command type \"(none)\"");
        expect_fail(&fx, "{'type': 'action', 'action': {'type': 'invoke'}}", "malformed action");
        expect_fail(&fx, "{'type': 'action', 'action': " INVOKE("nope", "") "}",
                    "no export \"nope\"");
        expect_fail(&fx, "{'type': 'action', 'action': {'type': 'get', 'field': 'add'}}",
                    "the export is not a global");
        expect_fail(&fx, "{'type': 'action', 'action': " INVOKE("g", "") "}",
                    "the export is not a function");
        expect_fail(&fx, "{'type': 'action', 'action': {'type': 'call', 'field': 'add'}}",
                    "unknown action type \"call\"");
        expect_fail(&fx, "{'type': 'action', 'action': {'type': 'invoke', 'field': 'add'}}",
                    "invoke needs an array");
        expect_fail(&fx, "{'type': 'action', 'action': " INVOKE("add", I32("x")) "}",
                    "argument 0: bad integer");
        expect_fail(&fx, "{'type': 'action', 'action': " INVOKE("add", I32("1")) "}",
                    "cannot begin the call");
        expect_fail(&fx, "{'type': 'assert_return', 'action': " INVOKE("nan", "") ", "
                         "'expected': [{'type': 'f16', 'value': '0'}]}",
                    "expected value 0: unknown value type");
        expect_fail(&fx, "{'type': 'assert_return', 'action': " INVOKE("nan", "") "}",
                    "malformed expected results");
    }
    fixture_close(&fx);
}

static void test_cmd_spectest_module(void) {
    fixture fx;
    if (fixture_open(&fx)) {
        write_wat(&fx, "host.wasm",
                  "(module (import \"spectest\" \"memory\" (memory 1 2))"
                  " (import \"spectest\" \"table\" (table 10 20 funcref))"
                  " (import \"spectest\" \"global_f32\" (global $f f32))"
                  " (import \"spectest\" \"global_f64\" (global $d f64))"
                  " (import \"spectest\" \"global_i64\" (global $l i64))"
                  " (import \"spectest\" \"print\" (func))"
                  " (import \"spectest\" \"print_i64\" (func (param i64)))"
                  " (import \"spectest\" \"print_f32\" (func (param f32)))"
                  " (import \"spectest\" \"print_f64\" (func (param f64)))"
                  " (import \"spectest\" \"print_i32_f32\" (func (param i32 f32)))"
                  " (import \"spectest\" \"print_f64_f64\" (func (param f64 f64)))"
                  " (func (export \"pages\") (result i32) memory.size)"
                  " (func (export \"grow\") (result i32) (memory.grow (i32.const 1)))"
                  " (func (export \"elems\") (result i32) table.size 0)"
                  " (global (export \"f\") f32 (global.get $f))"
                  " (global (export \"d\") f64 (global.get $d))"
                  " (global (export \"l\") i64 (global.get $l)))");
        expect_pass(&fx, "{'type': 'module', 'filename': 'host.wasm'}");
        expect_pass(&fx, "{'type': 'assert_return', 'action': " INVOKE("pages", "") ", "
                         "'expected': [" I32("1") "]}");
        expect_pass(&fx, "{'type': 'assert_return', 'action': " INVOKE("grow", "") ", "
                         "'expected': [" I32("1") "]}");
        /* the maximum is 2 pages: a second grow fails with -1 */
        expect_pass(&fx, "{'type': 'assert_return', 'action': " INVOKE("grow", "") ", "
                         "'expected': [" I32("4294967295") "]}");
        expect_pass(&fx, "{'type': 'assert_return', 'action': " INVOKE("elems", "") ", "
                         "'expected': [" I32("10") "]}");
        /* 666.6f is 0x4426a666 = 1143383654; 666.6 is 0x4084d4cccccccccd */
        expect_pass(&fx, "{'type': 'assert_return', 'action': {'type': 'get', 'field': 'f'}, "
                         "'expected': [{'type': 'f32', 'value': '1143383654'}]}");
        expect_pass(&fx, "{'type': 'assert_return', 'action': {'type': 'get', 'field': 'd'}, "
                         "'expected': [{'type': 'f64', 'value': '4649074691427585229'}]}");
        expect_pass(&fx, "{'type': 'assert_return', 'action': {'type': 'get', 'field': 'l'}, "
                         "'expected': [{'type': 'i64', 'value': '666'}]}");
        write_wat(&fx, "mutable.wasm",
                  "(module (import \"spectest\" \"global_i32\" (global (mut i32))))");
        expect_pass(&fx, "{'type': 'assert_unlinkable', 'filename': 'mutable.wasm', "
                         "'text': 'incompatible import type'}");
        write_wat(&fx, "nothere.wasm", "(module (import \"spectest\" \"print_i128\" (func)))");
        expect_pass(&fx, "{'type': 'assert_unlinkable', 'filename': 'nothere.wasm', "
                         "'text': 'unknown import'}");
    }
    fixture_close(&fx);
}

int main(void) {
    RUN_TEST(test_json_document);
    RUN_TEST(test_json_empty_containers_and_duplicates);
    RUN_TEST(test_json_escapes);
    RUN_TEST(test_json_key_with_nul);
    RUN_TEST(test_json_numbers);
    RUN_TEST(test_json_errors);
    RUN_TEST(test_json_depth_limit);
    RUN_TEST(test_json_out_of_memory);
    RUN_TEST(test_parse_bits);
    RUN_TEST(test_args);
    RUN_TEST(test_arg_errors);
    RUN_TEST(test_nan_patterns);
    RUN_TEST(test_exact_matching);
    RUN_TEST(test_ref_matching);
    RUN_TEST(test_v128_matching);
    RUN_TEST(test_expected_errors);
    RUN_TEST(test_format);
    RUN_TEST(test_message_checks);
    RUN_TEST(test_counted_commands);
    RUN_TEST(test_cmd_module_and_return);
    RUN_TEST(test_cmd_traps_and_timeout);
    RUN_TEST(test_cmd_names_and_register);
    RUN_TEST(test_cmd_instantiation_errors);
    RUN_TEST(test_cmd_value_limits);
    RUN_TEST(test_cmd_rejected_modules);
    RUN_TEST(test_cmd_script_errors);
    RUN_TEST(test_cmd_spectest_module);
    return TEST_EXIT();
}
