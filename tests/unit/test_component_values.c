/* test_component_values.c: component values (Binary.md "Value Definitions", the start
 * section, sort 0x02 and valuebound): every value type's binary form read into a value the
 * embedder reads back (wp_comp_inst_value), malformed values with their offsets, the rule
 * that each value is used exactly once, start functions with arguments and results
 * (tests/component/values_start.wat), values passed into nested components, value imports
 * given by the linker and checked against their types.
 * jco cannot write value definitions (and writes value imports in an older form than
 * Binary.md's valuebound), so most binaries are assembled here, each part named after its
 * Binary.md production. */
#include <stdarg.h>

#include "comp_bytes.h"
#include "test.h"
#include "test_values.h"
#include "wippy/component.h"

#ifndef WP_TEST_COMPONENT_DIR
#define WP_TEST_COMPONENT_DIR "build/component"
#endif

/* ---- Byte building (comp_bytes.h) and its component forms ----------------------------- */

/* A non-negative type index as a valtype: SLEB128 (indices from 64 take two bytes). */
static void put_typeidx(bytes *b, uint32_t v) {
    while (v >= 64) {
        put(b, (uint8_t)(0x80 | (v & 0x7f)));
        v >>= 7;
    }
    put(b, (uint8_t)v);
}

/* A section of raw bytes (count included). */
static void raw_section(bytes *c, uint8_t id, const uint8_t *p, size_t n) {
    bytes body = {0};
    put_all(&body, p, n);
    section(c, id, &body);
}

/* export ::= na:<nameattributes> si:<sortidx> et?:<externtype>? for (value i), no type. */
static void export_value(bytes *b, const char *name, uint32_t i) {
    put(b, 0x00); /* nameattributes: a plain name */
    put_name(b, name);
    put(b, 0x02); /* sort: value */
    put_leb(b, i);
    put(b, 0x00); /* no externtype */
}

/* An export section of (export "vI" (value I)) for values 0..n-1. */
static void export_values(bytes *c, uint32_t n) {
    bytes body = {0};
    put_leb(&body, n);
    for (uint32_t i = 0; i < n; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "v%u", i);
        export_value(&body, nm, i);
    }
    section(c, 11, &body);
}

static wp_status decode(const bytes *c, wp_component **out, wp_err *err) {
    *out = NULL;
    return c->p ? wp_component_decode(c->p, c->n, out, err) : WP_ERR_NOMEM;
}

/* ---- Instances ----------------------------------------------------------------------------- */

typedef struct inst {
    wp_component *c;
    wp_store *s;
    wp_exec *x;
    wp_comp_linker *l;
    wp_comp_inst *ci;
} inst;

/* Instantiates c (taken over by t): the status, err on failure. */
static wp_status inst_open(inst *t, wp_component *c, wp_err *err) {
    memset(t, 0, sizeof *t);
    t->c = c;
    CHECK_EQ(wp_store_new(NULL, &t->s, err), WP_OK);
    CHECK_EQ(wp_exec_new(t->s, &t->x, err), WP_OK);
    CHECK_EQ(wp_comp_linker_new(&t->l, err), WP_OK);
    return wp_comp_instantiate(c, t->s, t->x, t->l, &t->ci, err);
}

static void inst_close(inst *t) {
    wp_comp_inst_free(t->ci);
    wp_store_free(t->s);
    wp_comp_linker_free(t->l);
    wp_component_free(t->c);
}

/* Decodes and instantiates c: true if both worked (else they are checked to have). */
static bool open_bytes(inst *t, const bytes *c) {
    wp_component *comp = NULL;
    wp_err err = {0};
    wp_status st = decode(c, &comp, &err);
    CHECK_EQ(st, WP_OK);
    if (st != WP_OK) {
        fprintf(stderr, "decode: %s\n", err.msg);
        return false;
    }
    st = inst_open(t, comp, &err);
    CHECK_EQ(st, WP_OK);
    if (st != WP_OK)
        fprintf(stderr, "instantiate: %s\n", err.msg);
    return st == WP_OK;
}

/* ---- Expected values ------------------------------------------------------------------------ */

/* A map of n (key, value) pairs. */
static wp_value map(int n, ...) {
    wp_value m;
    va_list ap;
    wp_value_map(&m, (size_t)n);
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *k = va_arg(ap, const char *);
        wp_value v = va_arg(ap, wp_value);
        wp_value_map_set_str(&m, k, &v);
    }
    va_end(ap);
    return m;
}

static wp_value yes(void) { return wp_value_bool(true); }

/* Checks that export name of t holds want (freed). */
static void check_value(const inst *t, const char *name, wp_value want) {
    const wp_value *v = wp_comp_inst_value(t->ci, name);
    CHECK(v != NULL);
    if (v && !wp_value_equal(v, &want)) {
        fprintf(stderr, "%s: got ", name);
        wp_value_print(stderr, v);
        fprintf(stderr, ", want ");
        wp_value_print(stderr, &want);
        fprintf(stderr, "\n");
        CHECK(false);
    }
    wp_value_free(&want);
}

/* ---- Every value type ----------------------------------------------------------------------- */

/* The type section of the defined types the values below use:
 * 0 record {a: bool, b: u8}   1 variant {a(bool), b(u8), c}   2 list<string>
 * 3 tuple<u8, u16, u32>       4 flags {a..i} (9 labels: two bytes)   5 enum {x, y, z}
 * 6 option<u8>                7 result<string, u8>   8 result   9 list<u8>
 * 10 result<option<u8>>       11 list<10>            12 char (a primitive type definition) */
static const uint8_t TYPES[] = {
    13,
    0x72, 2, 1, 'a', 0x7f, 1, 'b', 0x7d,                         /* record: (label valtype)+ */
    0x71, 3, 1, 'a', 1, 0x7f, 0, 1, 'b', 1, 0x7d, 0, 1, 'c', 0, 0, /* variant: label t? 0x00 */
    0x70, 0x73,                                                  /* list string */
    0x6f, 3, 0x7d, 0x7b, 0x79,                                   /* tuple */
    0x6e, 9, 1, 'a', 1, 'b', 1, 'c', 1, 'd', 1, 'e', 1, 'f', 1, 'g', 1, 'h', 1, 'i', /* flags */
    0x6d, 3, 1, 'x', 1, 'y', 1, 'z',                             /* enum */
    0x6b, 0x7d,                                                  /* option u8 */
    0x6a, 1, 0x73, 1, 0x7d,                                      /* result string (error u8) */
    0x6a, 0, 0,                                                  /* result */
    0x70, 0x7d,                                                  /* list u8 */
    0x6a, 1, 6, 0,                                               /* result (option u8) */
    0x70, 11 - 1,                                                /* list of type 10 */
    0x74,                                                        /* char */
};

/* value ::= t:<valtype> len:<core:u32> v:<val(t)>: the valtype (a primitive code or a type
 * index) and val(t); the length is written by the test. */
static const struct {
    uint8_t type;
    uint8_t len;
    uint8_t val[16];
} VALUES[] = {
    {0x7f, 1, {0x01}},                                     /* v0 bool true */
    {0x7e, 1, {0xfb}},                                     /* v1 s8: the byte 251 is -5 */
    {0x7d, 1, {0xc8}},                                     /* v2 u8 200 */
    {0x7c, 2, {0xd4, 0x7d}},                               /* v3 s16 -300 (SLEB128) */
    {0x7b, 3, {0xff, 0xff, 0x03}},                         /* v4 u16 65535 (LEB128) */
    {0x7a, 5, {0x80, 0x80, 0x80, 0x80, 0x78}},             /* v5 s32 -2^31 */
    {0x79, 5, {0xff, 0xff, 0xff, 0xff, 0x0f}},             /* v6 u32 2^32-1 */
    {0x78, 10, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}}, /* v7 s64 -2^63 */
    {0x77, 10, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}}, /* v8 u64 max */
    {0x76, 4, {0x00, 0x00, 0xc0, 0x3f}},                   /* v9 f32 1.5 */
    {0x75, 8, {0, 0, 0, 0, 0, 0, 0xd0, 0xbf}},             /* v10 f64 -0.25 */
    {0x76, 4, {0x00, 0x00, 0xc0, 0x7f}},                   /* v11 f32 the canonical NaN */
    {0x74, 2, {0xc3, 0xa9}},                               /* v12 char U+00E9 */
    {12, 4, {0xf0, 0x9f, 0x98, 0x80}},                     /* v13 char U+1F600 (type 12) */
    {0x73, 6, {5, 'h', 'e', 'l', 'l', 'o'}},               /* v14 string: a core:name */
    {0, 2, {0x01, 0x01}},                                  /* v15 (record true 1) */
    {1, 2, {0x01, 0x07}},                                  /* v16 (variant "b" 7): u32 case */
    {1, 1, {0x02}},                                        /* v17 (variant "c") */
    {2, 6, {2, 1, 'a', 2, 'b', 'c'}},                      /* v18 (list "a" "bc"): vec */
    {3, 3, {1, 2, 3}},                                     /* v19 (tuple 1 2 3) */
    {4, 2, {0x05, 0x01}},                                  /* v20 (flags "a" "c" "i") */
    {5, 1, {1}},                                           /* v21 (enum "y") */
    {6, 1, {0x00}},                                        /* v22 none */
    {6, 2, {0x01, 9}},                                     /* v23 (some 9) */
    {7, 3, {0x00, 1, 'x'}},                                /* v24 (ok "x") */
    {7, 2, {0x01, 4}},                                     /* v25 (error 4) */
    {8, 1, {0x01}},                                        /* v26 error, no payload type */
    {9, 4, {3, 1, 2, 3}},                                  /* v27 list<u8> [1 2 3] */
    /* v28 (list error (ok (some 1)) (ok none) error (ok (some 2))), Explainer.md's example */
    {11, 11, {5, 0x01, 0x00, 0x01, 1, 0x00, 0x00, 0x01, 0x00, 0x01, 2}},
};

#define NVALUES (sizeof VALUES / sizeof VALUES[0])

static void test_every_value_type(void) {
    bytes c = {0};
    bytes body = {0};
    preamble(&c);
    raw_section(&c, 7, TYPES, sizeof TYPES);
    put_leb(&body, NVALUES); /* section_12(vec(<value>)) */
    for (size_t i = 0; i < NVALUES; i++) {
        put(&body, VALUES[i].type);
        put_leb(&body, VALUES[i].len);
        put_all(&body, VALUES[i].val, VALUES[i].len);
    }
    section(&c, 12, &body);
    export_values(&c, NVALUES);
    inst t;
    if (!open_bytes(&t, &c)) {
        free(c.p);
        return;
    }
    check_value(&t, "v0", wp_value_bool(true));
    check_value(&t, "v1", wp_value_int(-5));
    check_value(&t, "v2", wp_value_int(200));
    check_value(&t, "v3", wp_value_int(-300));
    check_value(&t, "v4", wp_value_int(65535));
    check_value(&t, "v5", wp_value_int(INT32_MIN));
    check_value(&t, "v6", wp_value_int(UINT32_MAX));
    check_value(&t, "v7", wp_value_int(INT64_MIN));
    check_value(&t, "v8", wp_value_int(-1)); /* u64 max keeps its bit pattern */
    check_value(&t, "v9", wp_value_float(1.5));
    check_value(&t, "v10", wp_value_float(-0.25));
    const wp_value *nan = wp_comp_inst_value(t.ci, "v11");
    CHECK(nan && nan->kind == WP_VFLOAT && nan->of.f != nan->of.f);
    check_value(&t, "v12", str("\xc3\xa9"));
    check_value(&t, "v13", str("\xf0\x9f\x98\x80"));
    check_value(&t, "v14", str("hello"));
    check_value(&t, "v15", map(2, "a", yes(), "b", wp_value_int(1)));
    check_value(&t, "v16", map(1, "b", wp_value_int(7)));
    check_value(&t, "v17", map(1, "c", yes()));
    check_value(&t, "v18", arr(2, str("a"), str("bc")));
    check_value(&t, "v19", arr(3, wp_value_int(1), wp_value_int(2), wp_value_int(3)));
    check_value(&t, "v20", map(3, "a", yes(), "c", yes(), "i", yes()));
    check_value(&t, "v21", str("y"));
    check_value(&t, "v22", wp_value_nil());
    check_value(&t, "v23", wp_value_int(9));
    check_value(&t, "v24", map(1, "ok", str("x")));
    check_value(&t, "v25", map(1, "err", wp_value_int(4)));
    check_value(&t, "v26", map(1, "err", yes()));
    wp_value three;
    wp_value_bytes(&three, "\1\2\3", 3);
    check_value(&t, "v27", three);
    check_value(&t, "v28", arr(5, map(1, "err", yes()), map(1, "ok", wp_value_int(1)),
                               map(1, "ok", wp_value_nil()), map(1, "err", yes()),
                               map(1, "ok", wp_value_int(2))));
    CHECK(wp_comp_inst_value(t.ci, "v29") == NULL);
    CHECK(wp_comp_inst_value(t.ci, "nope#v0") == NULL);
    inst_close(&t);
    free(c.p);
}

/* ---- Malformed values ------------------------------------------------------------------------ */

/* A component of TYPES, then a value section of one value (type, len, bytes as given), then its
 * export: the decode's status and message. */
static wp_status one_value(uint8_t type, uint32_t len, const uint8_t *val, size_t n, wp_err *err) {
    bytes c = {0};
    bytes body = {0};
    preamble(&c);
    raw_section(&c, 7, TYPES, sizeof TYPES);
    put(&body, 1);
    put(&body, type);
    put_leb(&body, len);
    put_all(&body, val, n);
    section(&c, 12, &body);
    export_values(&c, 1);
    wp_component *comp = NULL;
    wp_status st = decode(&c, &comp, err);
    wp_component_free(comp);
    free(c.p);
    return st;
}

static void test_malformed_values(void) {
    static const struct {
        uint8_t type;
        uint8_t len;
        uint8_t n;
        uint8_t val[12];
        const char *msg;
    } cases[] = {
        {0x7f, 1, 1, {0x02}, "malformed bool value"},
        {0x76, 4, 4, {0x01, 0x00, 0xc0, 0x7f}, "NaN must be the canonical one"},
        {0x75, 8, 8, {1, 0, 0, 0, 0, 0, 0xf8, 0x7f}, "NaN must be the canonical one"},
        {0x74, 3, 3, {0xed, 0xa0, 0x80}, "malformed char value"},   /* a surrogate */
        {0x74, 2, 2, {0xc0, 0x80}, "malformed char value"},         /* overlong */
        {0x73, 3, 3, {2, 0xc0, 0x80}, "malformed UTF-8 in a string value"},
        {0x79, 5, 5, {0xff, 0xff, 0xff, 0xff, 0x1f}, "integer too large"},
        {0x7c, 3, 3, {0x80, 0x80, 0x04}, "integer too large"},      /* s16 2^15 */
        {0x79, 1, 1, {0xff}, "unexpected end"},                     /* ends inside len */
        {1, 1, 1, {0x03}, "unknown case index"},                    /* variant of 3 cases */
        {5, 1, 1, {0x03}, "unknown case index"},                    /* enum of 3 labels */
        {6, 1, 1, {0x02}, "malformed option or result value"},
        {8, 1, 1, {0x02}, "malformed option or result value"},
        {4, 2, 2, {0x00, 0x02}, "a flags value sets a bit past its labels"},
        {2, 1, 1, {5}, "list value longer than its bytes"},
        {0x7f, 2, 2, {0x01, 0x00}, "value length mismatch"},
        {0x7f, 9, 1, {0x01}, "value runs past the end"},
        {0x40, 1, 1, {0x00}, "malformed value type"},
        {40, 1, 1, {0x00}, "unknown type"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wp_err err = {0};
        wp_status st = one_value(cases[i].type, cases[i].len, cases[i].val, cases[i].n, &err);
        if (st != WP_ERR_INVALID || !strstr(err.msg, cases[i].msg))
            fprintf(stderr, "case %zu: %s (%s)\n", i, err.msg, wp_status_name(st));
        CHECK_EQ(st, WP_ERR_INVALID);
        CHECK_STR_CONTAINS(err.msg, cases[i].msg);
        CHECK(strncmp(err.msg, "at 0x", 5) == 0);
    }
    /* the offset is where the bad byte is: TYPES takes 8 + 2 + sizeof TYPES bytes, then the
     * value section's id, size, count, valtype and len: the bool's byte is 5 further on */
    wp_err err = {0};
    static const uint8_t two = 2;
    CHECK_EQ(one_value(0x7f, 1, &two, 1, &err), WP_ERR_INVALID);
    char want[32];
    snprintf(want, sizeof want, "at 0x%zx: ", 8 + 2 + sizeof TYPES + 5 + 1);
    CHECK_STR_CONTAINS(err.msg, want);
}

/* Handles have no values: a value of type own<R>, or of a record holding one; a start whose
 * result is own<R>. Types nested past the depth bound cannot be read either. */
static void test_value_type_errors(void) {
    /* (type resource (rep i32)) (type own 0) (type (record (field "r" 1))) */
    static const uint8_t res_types[] = {3, 0x3f, 0x7f, 0x00, 0x69, 0, 0x72, 1, 1, 'r', 1};
    static const uint8_t own_value[] = {1, 1, 1, 0x00};
    static const uint8_t rec_value[] = {1, 2, 1, 0x00};
    const uint8_t *vals[] = {own_value, rec_value};
    for (int i = 0; i < 2; i++) {
        bytes c = {0};
        preamble(&c);
        raw_section(&c, 7, res_types, sizeof res_types);
        raw_section(&c, 12, vals[i], 4);
        wp_component *comp = NULL;
        wp_err err = {0};
        CHECK_EQ(decode(&c, &comp, &err), WP_ERR_INVALID);
        CHECK_STR_CONTAINS(err.msg, "own and borrow handles cannot be values");
        free(c.p);
    }
    /* (type resource) (type own 0) (type (func (result 1))) (import "f" (func (type 2)))
     * (start 0 (result (value))) */
    static const uint8_t own_fn[] = {3, 0x3f, 0x7f, 0x00, 0x69, 0, 0x40, 0, 0x00, 1};
    static const uint8_t import_f[] = {1, 0, 1, 'f', 0x01, 2};
    static const uint8_t start_r[] = {0, 0, 1};
    bytes c = {0};
    preamble(&c);
    raw_section(&c, 7, own_fn, sizeof own_fn);
    raw_section(&c, 10, import_f, sizeof import_f);
    raw_section(&c, 9, start_r, sizeof start_r);
    wp_component *comp = NULL;
    wp_err err = {0};
    CHECK_EQ(decode(&c, &comp, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "own and borrow handles cannot be values");
    free(c.p);
    /* 70 types, each option of the one before (option u8 first), and a value (some (some ...)) */
    c = (bytes){0};
    bytes body = {0};
    preamble(&c);
    put(&body, 70);
    put(&body, 0x6b);
    put(&body, 0x7d);
    for (uint32_t i = 1; i < 70; i++) {
        put(&body, 0x6b);
        put_typeidx(&body, i - 1);
    }
    section(&c, 7, &body);
    put(&body, 1);
    put_typeidx(&body, 69);
    put(&body, 71);
    for (int i = 0; i < 71; i++)
        put(&body, 0x01);
    section(&c, 12, &body);
    CHECK_EQ(decode(&c, &comp, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "value nested too deeply");
    free(c.p);
}

/* ---- Each value used exactly once ------------------------------------------------------------ */

/* A component of the given sections (id, bytes with the count): the decode's status. */
static wp_status sections(wp_err *err, int n, ...) {
    bytes c = {0};
    va_list ap;
    preamble(&c);
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        int id = va_arg(ap, int);
        const uint8_t *p = va_arg(ap, const uint8_t *);
        size_t len = va_arg(ap, size_t);
        raw_section(&c, (uint8_t)id, p, len);
    }
    va_end(ap);
    wp_component *comp = NULL;
    wp_status st = decode(&c, &comp, err);
    wp_component_free(comp);
    free(c.p);
    return st;
}

#define SEC(id, arr) (id), (arr), sizeof(arr)

static const uint8_t TRUE_VALUE[] = {1, 0x7f, 1, 0x01};                /* (value bool true) */
static const uint8_t EXPORT_A0[] = {1, 0, 1, 'a', 0x02, 0, 0x00};      /* (export "a" (value 0)) */
static const uint8_t EXPORT_A0_B0[] = {2, 0, 1, 'a', 0x02, 0, 0x00, 0, 1, 'b', 0x02, 0, 0x00};
/* (type (func (param "x" u32))) (type (func (param "x" u32) (result u32))) */
static const uint8_t FN_TYPES[] = {2, 0x40, 1, 1, 'x', 0x79, 0x01, 0x00,
                                   0x40, 1, 1, 'x', 0x79, 0x00, 0x79};
static const uint8_t IMPORT_F0_G1[] = {2, 0, 1, 'f', 0x01, 0, 0, 1, 'g', 0x01, 1};

static void expect(wp_status st, const wp_err *err, wp_status want, const char *msg) {
    if (st != want || !strstr(err->msg, msg))
        fprintf(stderr, "got %s: %s; want %s\n", wp_status_name(st), err->msg, msg);
    CHECK_EQ(st, want);
    CHECK_STR_CONTAINS(err->msg, msg);
}

static void test_used_once(void) {
    wp_err err = {0};
    /* a value nobody uses; a value exported twice */
    expect(sections(&err, 1, SEC(12, TRUE_VALUE)), &err, WP_ERR_INVALID,
           "value 0 is never used (each value must be used exactly once)");
    CHECK(strncmp(err.msg, "at 0x", 5) == 0);
    expect(sections(&err, 2, SEC(12, TRUE_VALUE), SEC(11, EXPORT_A0_B0)), &err, WP_ERR_INVALID,
           "value 0 is used twice (each value is used exactly once)");
    CHECK_EQ(sections(&err, 2, SEC(12, TRUE_VALUE), SEC(11, EXPORT_A0)), WP_OK);
    /* an exported value's new index is used: exporting it again is a second use */
    static const uint8_t export_a0_b1[] = {2, 0, 1, 'a', 0x02, 0, 0x00, 0, 1, 'b', 0x02, 1, 0x00};
    expect(sections(&err, 2, SEC(12, TRUE_VALUE), SEC(11, export_a0_b1)), &err, WP_ERR_INVALID,
           "value 1 is used twice");
    /* start ::= f:<funcidx> arg*:vec(<valueidx>) r:<u32> against f = (func (param "x" u32)):
     * a bool argument; no argument; a u32 argument and a result f does not have */
    static const uint8_t u32_value[] = {1, 0x79, 1, 7}; /* (value u32 7) */
    static const uint8_t start_f_v0[] = {0, 1, 0, 0};
    static const uint8_t start_f[] = {0, 0, 0};
    static const uint8_t start_f_v0_r1[] = {0, 1, 0, 1};
    static const uint8_t start_f_v5[] = {0, 1, 5, 0};
    static const uint8_t start_g_v0_r0[] = {1, 1, 0, 0};
    expect(sections(&err, 4, SEC(7, FN_TYPES), SEC(10, IMPORT_F0_G1), SEC(12, TRUE_VALUE),
                    SEC(9, start_f_v0)),
           &err, WP_ERR_INVALID, "start argument 0 (x): value 0 has the wrong type");
    expect(sections(&err, 3, SEC(7, FN_TYPES), SEC(10, IMPORT_F0_G1), SEC(9, start_f)), &err,
           WP_ERR_INVALID, "the start function takes 1 arguments, 0 given");
    expect(sections(&err, 4, SEC(7, FN_TYPES), SEC(10, IMPORT_F0_G1), SEC(12, u32_value),
                    SEC(9, start_f_v0_r1)),
           &err, WP_ERR_INVALID, "the start function returns 0 results, 1 declared");
    expect(sections(&err, 4, SEC(7, FN_TYPES), SEC(10, IMPORT_F0_G1), SEC(12, u32_value),
                    SEC(9, start_g_v0_r0)),
           &err, WP_ERR_INVALID, "the start function returns 1 results, 0 declared");
    expect(sections(&err, 3, SEC(7, FN_TYPES), SEC(10, IMPORT_F0_G1), SEC(9, start_f_v5)), &err,
           WP_ERR_INVALID, "unknown value");
    /* two starts passing the same value; a start's argument exported too */
    expect(sections(&err, 5, SEC(7, FN_TYPES), SEC(10, IMPORT_F0_G1), SEC(12, u32_value),
                    SEC(9, start_f_v0), SEC(9, start_f_v0)),
           &err, WP_ERR_INVALID, "value 0 is used twice");
    expect(sections(&err, 5, SEC(7, FN_TYPES), SEC(10, IMPORT_F0_G1), SEC(12, u32_value),
                    SEC(9, start_f_v0), SEC(11, EXPORT_A0)),
           &err, WP_ERR_INVALID, "value 0 is used twice");
    /* a start's result (value 1 here) must be used too */
    static const uint8_t start_g_v0_r1[] = {1, 1, 0, 1};
    expect(sections(&err, 4, SEC(7, FN_TYPES), SEC(10, IMPORT_F0_G1), SEC(12, u32_value),
                    SEC(9, start_g_v0_r1)),
           &err, WP_ERR_INVALID, "value 1 is never used");
    static const uint8_t export_a1[] = {1, 0, 1, 'a', 0x02, 1, 0x00};
    CHECK_EQ(sections(&err, 5, SEC(7, FN_TYPES), SEC(10, IMPORT_F0_G1), SEC(12, u32_value),
                      SEC(9, start_g_v0_r1), SEC(11, export_a1)),
             WP_OK);
}

/* Value imports and exports with their bounds; an export's ascribed type. */
static void test_value_externs(void) {
    wp_err err = {0};
    /* importdecl "n" with externtype 0x02 valuebound 0x01 u32, then "m" (eq 0) */
    static const uint8_t imports[] = {2, 0, 1, 'n', 0x02, 0x01, 0x79, 0, 1, 'm', 0x02, 0x00, 0};
    static const uint8_t export_n_m[] = {2, 0, 1, 'a', 0x02, 0, 0x00, 0, 1, 'b', 0x02, 1, 0x00};
    CHECK_EQ(sections(&err, 2, SEC(10, imports), SEC(11, export_n_m)), WP_OK);
    static const uint8_t bad_eq[] = {1, 0, 1, 'm', 0x02, 0x00, 3};
    expect(sections(&err, 1, SEC(10, bad_eq)), &err, WP_ERR_INVALID, "unknown value");
    static const uint8_t bad_bound[] = {1, 0, 1, 'm', 0x02, 0x02, 0x79};
    expect(sections(&err, 1, SEC(10, bad_bound)), &err, WP_ERR_INVALID, "malformed value bound");
    /* (export "a" (value 0) (value u32)) of a bool value; and of the right type */
    static const uint8_t export_typed[] = {1, 0, 1, 'a', 0x02, 0, 0x01, 0x02, 0x01, 0x79};
    expect(sections(&err, 2, SEC(12, TRUE_VALUE), SEC(11, export_typed)), &err, WP_ERR_INVALID,
           "the export's declared value type differs from the value's");
    static const uint8_t export_bool[] = {1, 0, 1, 'a', 0x02, 0, 0x01, 0x02, 0x01, 0x7f};
    CHECK_EQ(sections(&err, 2, SEC(12, TRUE_VALUE), SEC(11, export_bool)), WP_OK);
    /* an instance type exporting a value (eq its first one): (type (instance (export "a"
     * (value u32)) (export "b" (value (eq 0))))); an eq naming a value it does not have */
    static const uint8_t itype[] = {1, 0x42, 2, 0x04, 0, 1, 'a', 0x02, 0x01, 0x79,
                                    0x04, 0, 1, 'b', 0x02, 0x00, 0};
    CHECK_EQ(sections(&err, 1, SEC(7, itype)), WP_OK);
    static const uint8_t itype_bad[] = {1, 0x42, 1, 0x04, 0, 1, 'b', 0x02, 0x00, 0};
    expect(sections(&err, 1, SEC(7, itype_bad)), &err, WP_ERR_INVALID, "unknown value");
    /* (type (instance (export "a" (value u32)))) (import "i" (instance (type 0)))
     * (alias export 0 "a" (value)) (export "v" (value 0)): a value of an imported instance;
     * no host interface can give one */
    static const uint8_t itype_a[] = {1, 0x42, 1, 0x04, 0, 1, 'a', 0x02, 0x01, 0x79};
    static const uint8_t import_i[] = {1, 0, 1, 'i', 0x05, 0};
    static const uint8_t alias_a[] = {1, 0x02, 0x00, 0, 1, 'a'};
    static const uint8_t export_v0[] = {1, 0, 1, 'v', 0x02, 0, 0x00};
    bytes ic = {0};
    preamble(&ic);
    raw_section(&ic, 7, itype_a, sizeof itype_a);
    raw_section(&ic, 10, import_i, sizeof import_i);
    raw_section(&ic, 6, alias_a, sizeof alias_a);
    raw_section(&ic, 11, export_v0, sizeof export_v0);
    wp_component *icomp = NULL;
    CHECK_EQ(decode(&ic, &icomp, &err), WP_OK);
    if (icomp) {
        inst t;
        CHECK_EQ(inst_open(&t, icomp, &err), WP_ERR_LINK);
        CHECK_STR_CONTAINS(err.msg, "value import i#a is not provided");
        inst_close(&t);
    }
    free(ic.p);
    /* a value import the linker has no value for fails to link, naming it */
    bytes c = {0};
    preamble(&c);
    raw_section(&c, 10, imports, sizeof imports);
    raw_section(&c, 11, export_n_m, sizeof export_n_m);
    wp_component *comp = NULL;
    CHECK_EQ(decode(&c, &comp, &err), WP_OK);
    if (comp) {
        inst t;
        CHECK_EQ(inst_open(&t, comp, &err), WP_ERR_LINK);
        CHECK_STR_CONTAINS(err.msg, "value import n is not provided");
        CHECK(t.ci == NULL);
        inst_close(&t);
    }
    free(c.p);
}

/* ---- Values the embedder gives ----------------------------------------------------------------- */

/* A component of TYPES importing "x" as a value of type 'type' and exporting it as "v0",
 * instantiated with the linker's value v for "x" (none when v is NULL): the status; *got a
 * copy of the exported value on success. */
static wp_status import_one(uint8_t type, const wp_value *v, wp_value *got, wp_err *err) {
    bytes c = {0};
    preamble(&c);
    raw_section(&c, 7, TYPES, sizeof TYPES);
    const uint8_t import_x[] = {1, 0, 1, 'x', 0x02, 0x01, type}; /* valuebound 0x01 t */
    raw_section(&c, 10, import_x, sizeof import_x);
    export_values(&c, 1);
    wp_component *comp = NULL;
    wp_status st = decode(&c, &comp, err);
    free(c.p);
    *got = wp_value_nil();
    if (st != WP_OK)
        return st;
    inst t;
    memset(&t, 0, sizeof t);
    t.c = comp;
    CHECK_EQ(wp_store_new(NULL, &t.s, err), WP_OK);
    CHECK_EQ(wp_exec_new(t.s, &t.x, err), WP_OK);
    CHECK_EQ(wp_comp_linker_new(&t.l, err), WP_OK);
    if (v)
        CHECK_EQ(wp_comp_linker_value(t.l, "x", v, err), WP_OK);
    st = wp_comp_instantiate(comp, t.s, t.x, t.l, &t.ci, err);
    if (st == WP_OK) {
        const wp_value *out = wp_comp_inst_value(t.ci, "v0");
        CHECK(out != NULL);
        if (out)
            wp_value_copy(got, out);
    }
    inst_close(&t);
    return st;
}

static void test_value_imports(void) {
    wp_value bytes3;
    wp_value_bytes(&bytes3, "\1\2\3", 3);
    struct {
        uint8_t type;
        wp_value v;
        const char *msg; /* NULL: accepted, and exported as given */
    } cases[] = {
        {0x79, wp_value_int(7), NULL},
        {0x79, str("7"), "value import x: expected u32, got string"},
        {0x79, wp_value_int(-1), "value import x: expected u32, got integer"},
        {0x7d, wp_value_int(300), "expected u8, got integer"},
        {0x7e, wp_value_int(-128), NULL},
        {0x77, wp_value_int(-1), NULL}, /* u64 max, as its bit pattern */
        {0x76, wp_value_float(1.5), NULL},
        {0x76, wp_value_int(1), "expected f32, got integer"},
        {0x74, str("\xc3\xa9"), NULL},
        {0x74, str("ab"), "expected char, got string"},
        {0x73, str("\xc0\x80"), "expected string, got string"}, /* malformed UTF-8 */
        {0, map(2, "a", yes(), "b", wp_value_int(1)), NULL},
        {0, map(1, "a", yes()), "got map"},
        {0, map(2, "a", yes(), "c", wp_value_int(1)), "field 'b' is missing"},
        {0, map(2, "a", wp_value_int(1), "b", wp_value_int(1)),
         "field 'a': expected bool, got integer"},
        {1, map(1, "c", yes()), NULL},
        {1, map(1, "b", wp_value_int(2)), NULL},
        {1, map(1, "b", str("x")), "case 'b': expected u8, got string"},
        {1, map(1, "q", wp_value_int(1)), "got map"},
        {1, map(1, "c", wp_value_int(5)), "case 'c' has no payload"},
        {2, arr(2, str("a"), wp_value_int(1)), "element 1: expected string, got integer"},
        {3, arr(2, wp_value_int(1), wp_value_int(2)), "got array"},
        {3, arr(3, wp_value_int(1), wp_value_int(2), wp_value_int(3)), NULL},
        {4, map(2, "a", yes(), "i", yes()), NULL},
        {4, map(1, "z", yes()), "got map"},
        {5, str("y"), NULL},
        {5, str("w"), "got string"},
        {6, wp_value_nil(), NULL},
        {6, wp_value_int(9), NULL},
        {7, map(1, "err", wp_value_int(4)), NULL},
        {8, map(1, "ok", yes()), NULL},
        {9, bytes3, NULL},
        {9, arr(1, wp_value_int(1)), "got array"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wp_err err = {0};
        wp_value got;
        wp_status st = import_one(cases[i].type, &cases[i].v, &got, &err);
        if (!cases[i].msg) {
            if (st != WP_OK)
                fprintf(stderr, "case %zu: %s\n", i, err.msg);
            CHECK_EQ(st, WP_OK);
            if (st == WP_OK && cases[i].type != 0x76)
                CHECK(wp_value_equal(&got, &cases[i].v));
        } else {
            if (st != WP_ERR_LINK || !strstr(err.msg, cases[i].msg))
                fprintf(stderr, "case %zu: %s (%s)\n", i, err.msg, wp_status_name(st));
            CHECK_EQ(st, WP_ERR_LINK);
            CHECK_STR_CONTAINS(err.msg, cases[i].msg);
        }
        wp_value_free(&got);
        wp_value_free(&cases[i].v);
    }
    /* an f32 import keeps the float; no value at all is a link error naming the import */
    wp_err err = {0};
    wp_value got;
    wp_value f = wp_value_float(1.5);
    CHECK_EQ(import_one(0x76, &f, &got, &err), WP_OK);
    CHECK(got.kind == WP_VFLOAT && got.of.f == 1.5);
    CHECK_EQ(import_one(0x79, NULL, &got, &err), WP_ERR_LINK);
    CHECK_STR_CONTAINS(err.msg, "value import x is not provided");
    /* a later value of a name replaces the earlier one */
    wp_comp_linker *l = NULL;
    CHECK_EQ(wp_comp_linker_new(&l, &err), WP_OK);
    wp_value one = wp_value_int(1);
    wp_value two = str("two");
    CHECK_EQ(wp_comp_linker_value(l, "x", &one, &err), WP_OK);
    CHECK_EQ(wp_comp_linker_value(l, "y", &one, &err), WP_OK);
    CHECK_EQ(wp_comp_linker_value(l, "x", &two, &err), WP_OK);
    wp_comp_linker_free(l);
    wp_value_free(&two);
}

/* ---- Nested components ----------------------------------------------------------------------- */

/* A component importing value "v" of type vt and exporting it as "out". */
static void nested_echo(bytes *outer, uint8_t vt) {
    bytes inner = {0};
    preamble(&inner);
    const uint8_t import_v[] = {1, 0, 1, 'v', 0x02, 0x01, vt};
    static const uint8_t export_out[] = {1, 0, 3, 'o', 'u', 't', 0x02, 0, 0x00};
    raw_section(&inner, 10, import_v, sizeof import_v);
    raw_section(&inner, 11, export_out, sizeof export_out);
    section(outer, 4, &inner);
}

/* (value bool true); the nested component instantiated with "v" = value 0 (used up); its
 * "out" aliased as value 1 (aliased once more when twice is set) and exported as "got". */
static wp_status nested(uint8_t vt, bool twice, inst *t, wp_err *err) {
    bytes c = {0};
    memset(t, 0, sizeof *t);
    preamble(&c);
    raw_section(&c, 12, TRUE_VALUE, sizeof TRUE_VALUE);
    nested_echo(&c, vt);
    static const uint8_t instantiate[] = {1, 0x00, 0, 1, 1, 'v', 0x02, 0}; /* instanceexpr 0x00 */
    static const uint8_t alias_out[] = {1, 0x02, 0x00, 0, 3, 'o', 'u', 't'}; /* sort, export */
    static const uint8_t alias_out2[] = {2, 0x02, 0x00, 0, 3, 'o', 'u', 't',
                                         0x02, 0x00, 0, 3, 'o', 'u', 't'};
    static const uint8_t export_got[] = {1, 0, 3, 'g', 'o', 't', 0x02, 1, 0x00};
    raw_section(&c, 5, instantiate, sizeof instantiate);
    if (twice)
        raw_section(&c, 6, alias_out2, sizeof alias_out2);
    else
        raw_section(&c, 6, alias_out, sizeof alias_out);
    raw_section(&c, 11, export_got, sizeof export_got);
    wp_component *comp = NULL;
    wp_status st = decode(&c, &comp, err);
    free(c.p);
    return st == WP_OK ? inst_open(t, comp, err) : st;
}

static void test_nested_values(void) {
    inst t;
    wp_err err = {0};
    CHECK_EQ(nested(0x7f, false, &t, &err), WP_OK);
    if (t.ci)
        check_value(&t, "got", wp_value_bool(true));
    inst_close(&t);
    expect(nested(0x79, false, &t, &err), &err, WP_ERR_INVALID,
           "instantiate: wrong value type of argument v");
    expect(nested(0x7f, true, &t, &err), &err, WP_ERR_INVALID,
           "the instance's value is aliased twice: out");
    /* (value bool true) (instance (export "x" (value 0))) (alias export 0 "x" (value))
     * (export "a" (value 1)): an inline instance's value, taken out again */
    static const uint8_t inline_x[] = {1, 0x01, 1, 0, 1, 'x', 0x02, 0}; /* instanceexpr 0x01 */
    static const uint8_t alias_x[] = {1, 0x02, 0x00, 0, 1, 'x'};
    static const uint8_t export_a1[] = {1, 0, 1, 'a', 0x02, 1, 0x00};
    bytes c = {0};
    preamble(&c);
    raw_section(&c, 12, TRUE_VALUE, sizeof TRUE_VALUE);
    raw_section(&c, 5, inline_x, sizeof inline_x);
    raw_section(&c, 6, alias_x, sizeof alias_x);
    raw_section(&c, 11, export_a1, sizeof export_a1);
    if (open_bytes(&t, &c))
        check_value(&t, "a", wp_value_bool(true));
    inst_close(&t);
    free(c.p);
}

/* ---- Start functions with arguments and results --------------------------------------------- */

/* The fixture <name>.wasm decoded, or NULL (a failed check). */
static wp_component *fixture(const char *name) {
    char path[1024];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s.wasm", WP_TEST_COMPONENT_DIR, name);
    unsigned char *b = test_read_file(path, &len);
    CHECK(b != NULL);
    if (!b)
        return NULL;
    wp_component *comp = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_component_decode(b, len, &comp, &err), WP_OK);
    free(b);
    return comp;
}

static void test_start_values(void) {
    wp_component *comp = fixture("values_start");
    if (!comp)
        return;
    wp_err err = {0};
    inst t;
    CHECK_EQ(inst_open(&t, comp, &err), WP_OK);
    if (!t.ci) {
        fprintf(stderr, "values_start: %s\n", err.msg);
        inst_close(&t);
        return;
    }
    check_value(&t, "sum", wp_value_int(10));           /* count(s1) + count(s3) */
    check_value(&t, "p", arr(2, wp_value_int(5), str("hello")));
    CHECK(wp_comp_inst_value(t.ci, "calls") == NULL); /* a function, not a value */
    const wp_comp_func *calls = wp_comp_inst_func(t.ci, "calls");
    wp_value out = wp_value_nil();
    CHECK(calls != NULL);
    if (calls) {
        CHECK_EQ(wp_comp_call_begin(t.ci, t.x, calls, NULL, 0, &err), WP_OK);
        CHECK_EQ(wp_comp_run(t.ci, t.x), WP_RUN_DONE);
        CHECK_EQ(wp_comp_call_finish(t.ci, t.x, &out, &err), WP_OK);
        CHECK_EQ(out.kind, WP_VINT);
        CHECK_EQ(out.of.i, 3); /* make ran three times, once per start */
    }
    inst_close(&t);
}

/* A start function given a value traps: the instantiation fails with the trap. */
static void test_start_trap(void) {
    wp_component *comp = fixture("values_start_trap");
    if (!comp)
        return;
    wp_err err = {0};
    inst t;
    CHECK_EQ(inst_open(&t, comp, &err), WP_ERR_TRAP);
    CHECK_STR_CONTAINS(err.msg, "component start function: unreachable");
    CHECK(t.ci == NULL);
    inst_close(&t);
}

int main(void) {
#ifdef WP_TEST_COMPONENT_SKIP
    fprintf(stderr, "SKIPPED: the component fixtures were not built (npm was unreachable)\n");
    return 77;
#endif
    RUN_TEST(test_every_value_type);
    RUN_TEST(test_malformed_values);
    RUN_TEST(test_value_type_errors);
    RUN_TEST(test_used_once);
    RUN_TEST(test_value_externs);
    RUN_TEST(test_value_imports);
    RUN_TEST(test_nested_values);
    RUN_TEST(test_start_values);
    RUN_TEST(test_start_trap);
    return TEST_EXIT();
}
