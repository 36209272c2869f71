/* test_spec_json.c: the spec runner's JSON reader, value parsing and result matching. */
#include "json.h"
#include "test.h"
#include "value.h"

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
        parse_ok(" {\"a\": 12, \"b\": [true, false, null], \"c\": \"x\\\"y\", \"d\": {\"e\": -1.5e+3}} ");
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
    static const char doc[] = "{\"commands\": [{\"type\": \"module\", \"line\": 3}, [1, 2, 3, 4, 5],"
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
    return TEST_EXIT();
}
