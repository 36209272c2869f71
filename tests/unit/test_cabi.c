/* test_cabi.c: Canonical ABI lowering and lifting against tests/wat/cabi_guest.wat: strings
 * through cabi_realloc, lists, records, options, variants, enums, flags, tuples, results,
 * more than 16 parameters, return pointers, post-return, and the traps of bad guest data. */
#include "test.h"
#include "test_values.h"
#include "wippy/component.h"

static const char WIT[] =
    "record point { x: s32, y: f64, tag: u8 }\n"
    "variant shape { none, circle(f32), square(u32) }\n"
    "enum color { red, green, blue }\n"
    "flags perms { read, write, exec }\n"
    "echo: func(s: string) -> string;\n"
    "sum: func(xs: list<s32>) -> s64;\n"
    "many: func(a1: u8, a2: u8, a3: u8, a4: u8, a5: u8, a6: u8, a7: u8, a8: u8, a9: u8,\n"
    "           a10: u8, a11: u8, a12: u8, a13: u8, a14: u8, a15: u8, a16: u8, a17: u8) -> u32;\n"
    "point: func(x: s32, y: f64) -> point;\n"
    "maybe: func(n: s32) -> option<u32>;\n"
    "pick: func(c: shape) -> f32;\n"
    "color: func(c: color) -> color;\n"
    "perms: func(p: perms) -> perms;\n"
    "bad-utf8: func() -> string;\n"
    "out-of-bounds: func() -> string;\n"
    "bad-case: func() -> option<u32>;\n"
    "chars: func(c: char) -> char;\n"
    "pair: func(t: tuple<u8, string>) -> tuple<s16, bool>;\n"
    "wide: func(a: u64, b: f32) -> result<u64, f32>;\n";

typedef struct guest {
    wp_module *m;
    wp_store *s;
    wp_exec *x;
    wp_instance *inst;
    wp_wit *wit;
    wp_cabi cx;
} guest;

static bool guest_open(guest *g) {
    size_t len = 0;
    unsigned char *bytes = test_fixture("cabi_guest", &len);
    wp_err err = {0};
    *g = (guest){0};
    bool ok = bytes && wp_module_decode(bytes, len, &g->m, &err) == WP_OK &&
              wp_store_new(NULL, &g->s, &err) == WP_OK && wp_exec_new(g->s, &g->x, &err) == WP_OK &&
              wp_instance_new(g->s, g->m, NULL, 0, &g->inst, &err) == WP_OK &&
              wp_wit_parse(WIT, sizeof WIT - 1, &g->wit, &err) == WP_OK;
    free(bytes);
    if (!ok)
        fprintf(stderr, "guest_open: %s\n", err.msg);
    else
        wp_cabi_init(&g->cx, g->x, g->inst);
    return ok;
}

static void guest_close(guest *g) {
    wp_wit_free(g->wit);
    wp_store_free(g->s);
    wp_module_free(g->m);
}

/* The export's name: the WIT name with '-' as '_' (the fixture's exports are plain words). */
static wp_func *export_func(guest *g, const char *name) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", name);
    for (char *p = buf; *p; p++)
        *p = *p == '-' ? '_' : *p;
    wp_extern ext;
    if (!wp_instance_export(g->inst, buf, strlen(buf), &ext))
        return NULL;
    return ext.of.func;
}

/* lower, call, lift, post-return. */
static wp_status call(guest *g, const char *name, const wp_value *args, uint32_t nargs,
                      wp_value *out, wp_err *err) {
    const wp_wit_func *f = wp_wit_find_func(g->wit, name);
    wp_func *fn = export_func(g, name);
    *out = wp_value_nil();
    if (!f || !fn)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "no %s", name);
    wp_val flat[WP_CABI_MAX_FLAT_PARAMS];
    wp_val res[1];
    uint32_t nflat = 0;
    wp_status st = wp_cabi_lower_params(&g->cx, f, args, nargs, flat, &nflat, err);
    if (st != WP_OK)
        return st;
    uint32_t nres = wp_func_type(fn).nresults;
    if ((st = wp_call(g->x, fn, flat, nflat, res, nres, NULL, err)) != WP_OK)
        return st;
    if ((st = wp_cabi_lift_results(&g->cx, f, res, nres, out, err)) != WP_OK)
        return st;
    return wp_cabi_post_return(&g->cx, name, res, nres, err);
}

static int32_t guest_counter(guest *g, const char *name) {
    wp_val v;
    wp_err err;
    if (wp_call(g->x, export_func(g, name), NULL, 0, &v, 1, NULL, &err) != WP_OK)
        return -1;
    return (int32_t)v.of.i32;
}

static bool is_str(const wp_value *v, const char *s) {
    size_t len = 0;
    const char *got = wp_value_str(v, &len);
    return v->kind == WP_VSTRING && got && len == strlen(s) && memcmp(got, s, len) == 0;
}

static void test_strings(void) {
    guest g;
    if (!guest_open(&g))
        return;
    wp_value arg = str("héllo, wörld");
    wp_value out;
    wp_err err = {0};
    int32_t before = guest_counter(&g, "reallocs");
    CHECK_EQ(call(&g, "echo", &arg, 1, &out, &err), WP_OK);
    CHECK(is_str(&out, "héllo, wörld"));
    CHECK_EQ(guest_counter(&g, "reallocs"), before + 1); /* the argument went in by realloc */
    CHECK_EQ(guest_counter(&g, "posts"), 1);             /* cabi_post_echo ran */
    wp_value_free(&out);
    wp_value_free(&arg);
    /* An empty string still goes through realloc and comes back empty. */
    arg = str("");
    CHECK_EQ(call(&g, "echo", &arg, 1, &out, &err), WP_OK);
    CHECK(is_str(&out, ""));
    wp_value_free(&out);
    wp_value_free(&arg);
    /* Wrong kinds are errors naming the parameter. */
    arg = wp_value_int(3);
    CHECK_EQ(call(&g, "echo", &arg, 1, &out, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "argument 1 (s): expected string, got integer");
    CHECK_EQ(call(&g, "echo", NULL, 0, &out, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "echo takes 1 argument, 0 given");
    guest_close(&g);
}

static void test_lists_and_many(void) {
    guest g;
    if (!guest_open(&g))
        return;
    wp_value list;
    wp_value_array(&list, 0);
    int64_t want = 0;
    for (int i = -3; i < 50; i++) {
        wp_value v = wp_value_int(i * 1000);
        wp_value_array_push(&list, &v);
        want += i * 1000;
    }
    wp_value out;
    wp_err err = {0};
    CHECK_EQ(call(&g, "sum", &list, 1, &out, &err), WP_OK);
    CHECK_EQ(out.kind, WP_VINT);
    CHECK_EQ(out.of.i, want);
    /* An element of the wrong type names where it is. */
    wp_value bad = str("x");
    wp_value_array_push(&list, &bad);
    CHECK_EQ(call(&g, "sum", &list, 1, &out, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "argument 1 (xs): element 54: 'x' is not a valid s32");
    wp_value_free(&list);

    /* 17 parameters: lowered into memory, passed as one pointer. Strings parse as numbers. */
    wp_value args[17];
    for (int i = 0; i < 17; i++)
        args[i] = i == 3 ? str("200") : wp_value_int(i);
    CHECK_EQ(call(&g, "many", args, 17, &out, &err), WP_OK);
    CHECK_EQ(out.of.i, 200 + (0 + 16) * 17 / 2 - 3);
    wp_value_free(&args[3]);
    args[3] = wp_value_int(256);
    CHECK_EQ(call(&g, "many", args, 17, &out, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "argument 4 (a4): 256 is out of range for u8");
    guest_close(&g);
}

static void test_records_and_variants(void) {
    guest g;
    if (!guest_open(&g))
        return;
    wp_value out;
    wp_err err = {0};
    wp_value args[2] = {wp_value_int(-5), wp_value_float(2.5)};
    CHECK_EQ(call(&g, "point", args, 2, &out, &err), WP_OK);
    CHECK_EQ(out.kind, WP_VMAP);
    CHECK_EQ(wp_value_map_get(&out, "x")->of.i, -5);
    CHECK(wp_value_map_get(&out, "y")->of.f == 2.5);
    CHECK_EQ(wp_value_map_get(&out, "tag")->of.i, 7);
    wp_value_free(&out);

    wp_value n = wp_value_int(9);
    CHECK_EQ(call(&g, "maybe", &n, 1, &out, &err), WP_OK);
    CHECK_EQ(out.kind, WP_VINT); /* some(9) is 9 */
    CHECK_EQ(out.of.i, 9);
    n = wp_value_int(-1);
    CHECK_EQ(call(&g, "maybe", &n, 1, &out, &err), WP_OK);
    CHECK_EQ(out.kind, WP_VNIL); /* none is nil */

    /* Variant payloads share joined slots: f32 travels as its i32 bits. */
    wp_value shape;
    wp_value_map(&shape, 1);
    wp_value r = wp_value_float(1.5);
    wp_value_map_set_str(&shape, "circle", &r);
    CHECK_EQ(call(&g, "pick", &shape, 1, &out, &err), WP_OK);
    CHECK(out.kind == WP_VFLOAT && out.of.f == 1.5);
    wp_value_free(&shape);
    wp_value_map(&shape, 1);
    r = wp_value_int(3);
    wp_value_map_set_str(&shape, "square", &r);
    CHECK_EQ(call(&g, "pick", &shape, 1, &out, &err), WP_OK);
    CHECK(out.kind == WP_VFLOAT && out.of.f == 3.0);
    wp_value_free(&shape);
    shape = str("none"); /* a case without payload can be named alone */
    CHECK_EQ(call(&g, "pick", &shape, 1, &out, &err), WP_OK);
    CHECK(out.kind == WP_VFLOAT && out.of.f == -1.0);
    wp_value_free(&shape);
    shape = str("triangle");
    CHECK_EQ(call(&g, "pick", &shape, 1, &out, &err), WP_ERR_INVALID);
    wp_value_free(&shape);

    wp_value c = str("blue");
    CHECK_EQ(call(&g, "color", &c, 1, &out, &err), WP_OK);
    CHECK(is_str(&out, "red"));
    wp_value_free(&out);
    wp_value_free(&c);

    wp_value flags;
    wp_value_array(&flags, 0);
    wp_value f1 = str("read");
    wp_value f2 = str("exec");
    wp_value_array_push(&flags, &f1);
    wp_value_array_push(&flags, &f2);
    CHECK_EQ(call(&g, "perms", &flags, 1, &out, &err), WP_OK);
    CHECK_EQ(wp_value_len(&out), 3); /* a set: read, write, exec -> true */
    CHECK(wp_value_map_get(&out, "write") && wp_value_map_get(&out, "write")->kind == WP_VBOOL);
    wp_value_free(&out);
    wp_value_free(&flags);
    guest_close(&g);
}

static void test_chars_tuples_results(void) {
    guest g;
    if (!guest_open(&g))
        return;
    wp_value out;
    wp_err err = {0};
    wp_value c = str("é");
    CHECK_EQ(call(&g, "chars", &c, 1, &out, &err), WP_OK);
    CHECK(is_str(&out, "ê"));
    wp_value_free(&out);
    wp_value_free(&c);
    c = str("ab");
    CHECK_EQ(call(&g, "chars", &c, 1, &out, &err), WP_ERR_INVALID);
    wp_value_free(&c);

    wp_value t;
    wp_value_array(&t, 2);
    wp_value a = wp_value_int(5);
    wp_value b = str("x");
    wp_value_array_push(&t, &a);
    wp_value_array_push(&t, &b);
    CHECK_EQ(call(&g, "pair", &t, 1, &out, &err), WP_OK);
    CHECK_EQ(wp_value_at(&out, 0)->of.i, -5);
    CHECK(wp_value_at(&out, 1)->kind == WP_VBOOL && wp_value_at(&out, 1)->of.b);
    wp_value_free(&out);
    wp_value_free(&t);

    wp_value args[2] = {wp_value_int(-1), wp_value_float(0)}; /* u64 keeps the bit pattern */
    CHECK_EQ(call(&g, "wide", args, 2, &out, &err), WP_OK);
    CHECK_EQ(wp_value_map_get(&out, "ok")->of.i, 0); /* 0xffff...ff + 1 wraps to 0 */
    wp_value_free(&out);
    args[1] = wp_value_float(0.25);
    CHECK_EQ(call(&g, "wide", args, 2, &out, &err), WP_OK);
    CHECK(wp_value_map_get(&out, "err")->of.f == 0.25);
    wp_value_free(&out);
    guest_close(&g);
}

static void test_traps(void) {
    guest g;
    if (!guest_open(&g))
        return;
    wp_value out;
    wp_err err = {0};
    CHECK_EQ(call(&g, "bad-utf8", NULL, 0, &out, &err), WP_ERR_TRAP);
    CHECK_STR_CONTAINS(err.msg, "not valid UTF-8");
    CHECK_EQ(call(&g, "out-of-bounds", NULL, 0, &out, &err), WP_ERR_TRAP);
    CHECK_STR_CONTAINS(err.msg, "outside memory");
    CHECK_EQ(call(&g, "bad-case", NULL, 0, &out, &err), WP_ERR_TRAP);
    CHECK_STR_CONTAINS(err.msg, "invalid variant discriminant");
    CHECK_EQ(out.kind, WP_VNIL);
    guest_close(&g);
}

/* The core types lifted exports must have, from the signatures alone. */
static void test_core_types(void) {
    guest g;
    if (!guest_open(&g))
        return;
    static const struct {
        const char *name;
        const char *want; /* params then "->" results */
    } cases[] = {{"echo", "i32 i32 -> i32"},    {"sum", "i32 i32 -> i64"},
                 {"many", "i32 -> i32"},        {"point", "i32 f64 -> i32"},
                 {"pick", "i32 i32 -> f32"},    {"wide", "i64 f32 -> i32"},
                 {"pair", "i32 i32 i32 -> i32"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wp_valtype p[WP_CABI_MAX_FLAT_PARAMS];
        wp_valtype r[WP_CABI_MAX_FLAT_RESULTS];
        uint32_t np = 0;
        uint32_t nr = 0;
        wp_cabi_core_type(wp_wit_find_func(g.wit, cases[i].name), p, &np, r, &nr);
        char got[128] = "";
        for (uint32_t k = 0; k < np; k++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s ", wp_valtype_name(p[k]));
        snprintf(got + strlen(got), sizeof got - strlen(got), "->");
        for (uint32_t k = 0; k < nr; k++)
            snprintf(got + strlen(got), sizeof got - strlen(got), " %s", wp_valtype_name(r[k]));
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "%s: core type %s, want %s\n", cases[i].name, got, cases[i].want);
        CHECK(strcmp(got, cases[i].want) == 0);
        /* And each agrees with the fixture's actual export. */
        wp_functype ft;
        char exp[32];
        snprintf(exp, sizeof exp, "%s", cases[i].name);
        CHECK(wp_module_export_functype(g.m, exp, &ft));
        CHECK_EQ(wp_cabi_check(wp_wit_find_func(g.wit, cases[i].name), ft, NULL, NULL, NULL),
                 WP_OK);
    }
    /* A mismatch says both. */
    wp_functype ft;
    wp_err err = {0};
    CHECK(wp_module_export_functype(g.m, "sum", &ft));
    CHECK_EQ(wp_cabi_check(wp_wit_find_func(g.wit, "echo"), ft, NULL, NULL, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "lowers to core type (i32, i32) -> (i32), the export has "
                                "(i32, i32) -> (i64)");
    bool mem = false;
    bool re = false;
    CHECK_EQ(wp_cabi_check(wp_wit_find_func(g.wit, "sum"), ft, &mem, &re, NULL), WP_OK);
    CHECK(mem && re);
    CHECK(wp_module_export_functype(g.m, "color", &ft));
    CHECK_EQ(wp_cabi_check(wp_wit_find_func(g.wit, "color"), ft, &mem, &re, NULL), WP_OK);
    CHECK(!mem && !re);
    guest_close(&g);
}

/* Without memory or realloc, values that need them fail with a link error. */
static void test_missing_exports(void) {
    guest g;
    if (!guest_open(&g))
        return;
    wp_cabi bare = g.cx;
    bare.realloc = NULL;
    const wp_wit_func *f = wp_wit_find_func(g.wit, "echo");
    wp_value arg = str("x");
    wp_val flat[WP_CABI_MAX_FLAT_PARAMS];
    uint32_t n = 0;
    wp_err err = {0};
    CHECK_EQ(wp_cabi_lower_params(&bare, f, &arg, 1, flat, &n, &err), WP_ERR_LINK);
    CHECK_STR_CONTAINS(err.msg, "no cabi_realloc");
    bare.memory = NULL;
    CHECK_EQ(wp_cabi_lower_params(&bare, f, &arg, 1, flat, &n, &err), WP_ERR_LINK);
    CHECK_STR_CONTAINS(err.msg, "no memory");
    wp_val ptr = wp_val_i32(16);
    wp_value out;
    CHECK_EQ(wp_cabi_lift_results(&bare, f, &ptr, 1, &out, &err), WP_ERR_LINK);
    wp_value_free(&arg);
    guest_close(&g);
}

/* Handles on a core module (no table): passed as numbers, checked to be integers in range. */
static void test_core_handles(void) {
    guest g;
    if (!guest_open(&g))
        return;
    wp_wit *handles = NULL;
    wp_err err = {0};
    static const char text[] = "resource r;\ncolor: func(c: borrow<r>) -> own<r>;";
    CHECK_EQ(wp_wit_parse(text, sizeof text - 1, &handles, &err), WP_OK);
    wp_wit *saved = g.wit;
    g.wit = handles;
    wp_value out;
    wp_value h = wp_value_int(4);
    CHECK_EQ(call(&g, "color", &h, 1, &out, &err), WP_OK);
    CHECK(out.kind == WP_VINT && out.of.i == 2); /* the guest's (4 + 1) % 3 */
    h = wp_value_int(-1);
    CHECK_EQ(call(&g, "color", &h, 1, &out, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "-1 is no handle");
    h = str("x");
    CHECK_EQ(call(&g, "color", &h, 1, &out, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "expected a borrow<r> handle (an integer), got string");
    wp_value_free(&h);
    g.wit = saved;
    wp_wit_free(handles);
    guest_close(&g);
}

int main(void) {
    RUN_TEST(test_strings);
    RUN_TEST(test_lists_and_many);
    RUN_TEST(test_records_and_variants);
    RUN_TEST(test_chars_tuples_results);
    RUN_TEST(test_traps);
    RUN_TEST(test_core_types);
    RUN_TEST(test_missing_exports);
    RUN_TEST(test_core_handles);
    return TEST_EXIT();
}
