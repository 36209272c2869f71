/* value.c: parsing spec-test values from wast2json's JSON, matching and printing them. */
#include "value.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void *spec_extern_ref(uint64_t n) { return (void *)(uintptr_t)(n + 1); }

bool spec_extern_index(const void *ref, uint64_t *n) {
    if (!ref)
        return false;
    *n = (uint64_t)(uintptr_t)ref - 1;
    return true;
}

bool spec_parse_bits(const char *s, unsigned bits, uint64_t *out) {
    bool negative = *s == '-';
    if (negative)
        s++;
    if (*s == '\0')
        return false;
    uint64_t max = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    if (negative)
        max = UINT64_C(1) << (bits - 1); /* the magnitude of the most negative value */
    uint64_t n = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        uint64_t d = (uint64_t)(*s - '0');
        if (n > (max - d) / 10)
            return false;
        n = n * 10 + d;
    }
    if (negative)
        n = 0 - n;
    *out = bits == 64 ? n : n & ((UINT64_C(1) << bits) - 1);
    return true;
}

static wp_status bad(wp_err *err, const char *what, const char *text) {
    return wp_err_set(err, WP_ERR_INVALID, "%s: \"%s\"", what, text ? text : "(missing)");
}

static const struct {
    const char *name;
    wp_valtype type;
} value_types[] = {
    {"i32", WP_I32},   {"i64", WP_I64},         {"f32", WP_F32},
    {"f64", WP_F64},   {"v128", WP_V128},       {"funcref", WP_FUNCREF},
    {"externref", WP_EXTERNREF},
};

static bool parse_type(const char *name, wp_valtype *out) {
    for (size_t i = 0; name && i < sizeof value_types / sizeof value_types[0]; i++) {
        if (strcmp(name, value_types[i].name) == 0) {
            *out = value_types[i].type;
            return true;
        }
    }
    return false;
}

/* Our own names, so this file needs nothing from the engine (the unit test links it alone). */
static const char *type_name(wp_valtype t) {
    for (size_t i = 0; i < sizeof value_types / sizeof value_types[0]; i++) {
        if (value_types[i].type == t)
            return value_types[i].name;
    }
    return "?";
}

static spec_nan parse_nan(const char *s, bool expected) {
    if (!expected || !s)
        return SPEC_NAN_NONE;
    if (strcmp(s, "nan:canonical") == 0)
        return SPEC_NAN_CANONICAL;
    if (strcmp(s, "nan:arithmetic") == 0)
        return SPEC_NAN_ARITHMETIC;
    return SPEC_NAN_NONE;
}

static wp_status parse_ref(const char *s, bool expected, spec_value *out, wp_err *err) {
    if (!s) {
        if (!expected)
            return bad(err, "reference argument needs a value", s);
        out->any_ref = true;
        return WP_OK;
    }
    if (strcmp(s, "null") == 0)
        return WP_OK; /* the zeroed union is the null reference */
    uint64_t n;
    if (out->val.type != WP_EXTERNREF)
        return bad(err, "only a null funcref can be written", s);
    if (!spec_parse_bits(s, 64, &n) || *s == '-' || n == UINTPTR_MAX)
        return bad(err, "bad externref", s);
    out->val.of.ext = spec_extern_ref(n);
    return WP_OK;
}

static bool parse_lane_shape(const char *s, spec_value *out) {
    static const struct {
        const char *name;
        unsigned bits;
        bool is_float;
    } shapes[] = {
        {"i8", 8, false},   {"i16", 16, false}, {"i32", 32, false},
        {"i64", 64, false}, {"f32", 32, true},  {"f64", 64, true},
    };
    for (size_t i = 0; s && i < sizeof shapes / sizeof shapes[0]; i++) {
        if (strcmp(s, shapes[i].name) == 0) {
            out->lane_bits = shapes[i].bits;
            out->lane_float = shapes[i].is_float;
            return true;
        }
    }
    return false;
}

static void put_lane(uint8_t *bytes, unsigned lane, unsigned bits, uint64_t v) {
    for (unsigned b = 0; b < bits / 8; b++)
        bytes[lane * bits / 8 + b] = (uint8_t)(v >> (8 * b)); /* little-endian, as in memory */
}

static uint64_t get_lane(const uint8_t *bytes, unsigned lane, unsigned bits) {
    uint64_t v = 0;
    for (unsigned b = 0; b < bits / 8; b++)
        v |= (uint64_t)bytes[lane * bits / 8 + b] << (8 * b);
    return v;
}

static wp_status parse_v128(const spec_json *j, bool expected, spec_value *out, wp_err *err) {
    const char *shape = spec_json_get_str(j, "lane_type");
    if (!parse_lane_shape(shape, out))
        return bad(err, "bad v128 lane type", shape);
    const spec_json *lanes = spec_json_get(j, "value");
    unsigned count = 128 / out->lane_bits;
    if (!lanes || lanes->kind != SPEC_JSON_ARRAY || lanes->count != count)
        return wp_err_set(err, WP_ERR_INVALID, "v128 needs %u lanes of %s", count, shape);
    for (unsigned i = 0; i < count; i++) {
        const spec_json *lane = &lanes->items[i];
        const char *s = lane->kind == SPEC_JSON_STRING ? lane->str : NULL;
        spec_nan nan = out->lane_float ? parse_nan(s, expected) : SPEC_NAN_NONE;
        uint64_t bits = 0;
        if (nan == SPEC_NAN_NONE && (!s || !spec_parse_bits(s, out->lane_bits, &bits)))
            return bad(err, "bad v128 lane", s);
        out->lane_nan[i] = nan;
        put_lane(out->val.of.v128, i, out->lane_bits, bits);
    }
    return WP_OK;
}

static wp_status parse_value(const spec_json *j, bool expected, spec_value *out, wp_err *err) {
    memset(out, 0, sizeof *out);
    const char *type = spec_json_get_str(j, "type");
    if (!parse_type(type, &out->val.type))
        return bad(err, "unknown value type", type);
    if (out->val.type == WP_V128)
        return parse_v128(j, expected, out, err);
    const char *s = spec_json_get_str(j, "value");
    if (out->val.type == WP_FUNCREF || out->val.type == WP_EXTERNREF)
        return parse_ref(s, expected, out, err);
    bool is_float = out->val.type == WP_F32 || out->val.type == WP_F64;
    unsigned bits = out->val.type == WP_I32 || out->val.type == WP_F32 ? 32 : 64;
    out->nan = is_float ? parse_nan(s, expected) : SPEC_NAN_NONE;
    if (out->nan != SPEC_NAN_NONE)
        return WP_OK;
    uint64_t v;
    if (!s || !spec_parse_bits(s, bits, &v))
        return bad(err, is_float ? "bad float bits" : "bad integer", s);
    if (bits == 32)
        out->val.of.i32 = (uint32_t)v; /* f32 shares the 32-bit member's storage */
    else
        out->val.of.i64 = v;
    return WP_OK;
}

wp_status spec_value_parse_arg(const spec_json *j, wp_val *out, wp_err *err) {
    spec_value v;
    wp_status st = parse_value(j, false, &v, err);
    if (st == WP_OK)
        *out = v.val;
    return st;
}

wp_status spec_value_parse_expected(const spec_json *j, spec_value *out, wp_err *err) {
    return parse_value(j, true, out, err);
}

static bool nan_matches(spec_nan nan, uint64_t bits, bool is_f64) {
    uint64_t exp_quiet = is_f64 ? UINT64_C(0x7ff8000000000000) : 0x7fc00000u;
    uint64_t magnitude = bits & (is_f64 ? ~(UINT64_C(1) << 63) : 0x7fffffffu);
    if (nan == SPEC_NAN_CANONICAL)
        return magnitude == exp_quiet;
    return (magnitude & exp_quiet) == exp_quiet; /* arithmetic: all exponent bits and quiet */
}

static bool v128_matches(const spec_value *e, const wp_val *got) {
    unsigned count = 128 / e->lane_bits;
    for (unsigned i = 0; i < count; i++) {
        uint64_t want = get_lane(e->val.of.v128, i, e->lane_bits);
        uint64_t have = get_lane(got->of.v128, i, e->lane_bits);
        bool ok = e->lane_nan[i] != SPEC_NAN_NONE
                      ? nan_matches(e->lane_nan[i], have, e->lane_bits == 64)
                      : want == have;
        if (!ok)
            return false;
    }
    return true;
}

bool spec_value_matches(const spec_value *e, const wp_val *got) {
    if (got->type != e->val.type)
        return false;
    switch (e->val.type) {
    case WP_I32:
        return got->of.i32 == e->val.of.i32;
    case WP_I64:
        return got->of.i64 == e->val.of.i64;
    case WP_F32:
        return e->nan ? nan_matches(e->nan, got->of.f32, false) : got->of.f32 == e->val.of.f32;
    case WP_F64:
        return e->nan ? nan_matches(e->nan, got->of.f64, true) : got->of.f64 == e->val.of.f64;
    case WP_FUNCREF:
        return e->any_ref ? got->of.func != NULL : got->of.func == e->val.of.func;
    case WP_EXTERNREF:
        return e->any_ref ? got->of.ext != NULL : got->of.ext == e->val.of.ext;
    case WP_V128:
        return v128_matches(e, got);
    }
    return false;
}

static void format_ref(const char *type, const void *ref, bool is_extern, char *buf,
                       size_t size) {
    uint64_t n;
    if (!ref)
        snprintf(buf, size, "%s:null", type);
    else if (is_extern && spec_extern_index(ref, &n))
        snprintf(buf, size, "%s:%" PRIu64, type, n);
    else
        snprintf(buf, size, "%s:%p", type, ref);
}

void spec_value_format(const wp_val *v, char *buf, size_t size) {
    const uint8_t *b = v->of.v128;
    switch (v->type) {
    case WP_I32:
        snprintf(buf, size, "i32:%" PRIu32, v->of.i32);
        return;
    case WP_I64:
        snprintf(buf, size, "i64:%" PRIu64, v->of.i64);
        return;
    case WP_F32:
        snprintf(buf, size, "f32:0x%08" PRIx32, v->of.f32);
        return;
    case WP_F64:
        snprintf(buf, size, "f64:0x%016" PRIx64, v->of.f64);
        return;
    case WP_FUNCREF:
        format_ref("funcref", v->of.func, false, buf, size);
        return;
    case WP_EXTERNREF:
        format_ref("externref", v->of.ext, true, buf, size);
        return;
    case WP_V128:
        snprintf(buf, size, "v128:i32x4:0x%08" PRIx64 ",0x%08" PRIx64 ",0x%08" PRIx64
                 ",0x%08" PRIx64, get_lane(b, 0, 32), get_lane(b, 1, 32), get_lane(b, 2, 32),
                 get_lane(b, 3, 32));
        return;
    }
    snprintf(buf, size, "?:%d", (int)v->type);
}

static const char *nan_text(spec_nan nan) {
    return nan == SPEC_NAN_CANONICAL ? "nan:canonical" : "nan:arithmetic";
}

static void format_expected_v128(const spec_value *e, char *buf, size_t size) {
    unsigned count = 128 / e->lane_bits;
    int n = snprintf(buf, size, "v128:%c%ux%u:", e->lane_float ? 'f' : 'i', e->lane_bits, count);
    for (unsigned i = 0; i < count && n >= 0 && (size_t)n < size; i++) {
        const char *sep = i ? "," : "";
        if (e->lane_nan[i] != SPEC_NAN_NONE)
            n += snprintf(buf + n, size - (size_t)n, "%s%s", sep, nan_text(e->lane_nan[i]));
        else
            n += snprintf(buf + n, size - (size_t)n, "%s0x%" PRIx64, sep,
                          get_lane(e->val.of.v128, i, e->lane_bits));
    }
}

void spec_expected_format(const spec_value *e, char *buf, size_t size) {
    const char *type = type_name(e->val.type);
    if (e->val.type == WP_V128)
        format_expected_v128(e, buf, size);
    else if (e->nan != SPEC_NAN_NONE)
        snprintf(buf, size, "%s:%s", e->val.type == WP_F32 ? "f32" : "f64", nan_text(e->nan));
    else if (e->any_ref)
        snprintf(buf, size, "%s:non-null", type);
    else
        spec_value_format(&e->val, buf, size);
}

bool spec_text_prefix(const char *msg, const char *expected) {
    return strncmp(msg, expected, strlen(expected)) == 0;
}

bool spec_text_in_chain(const char *msg, const char *expected) {
    if (spec_text_prefix(msg, expected))
        return true;
    for (const char *p = strstr(msg, ": "); p; p = strstr(p + 1, ": ")) {
        if (spec_text_prefix(p + 2, expected))
            return true;
    }
    return false;
}
