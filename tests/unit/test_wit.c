/* test_wit.c: the WIT signature parser: functions, every primitive type, list, option, result,
 * tuple, records, variants, enums, flags, aliases, interfaces, comments; and each error with
 * its line and column. */
#include "test.h"
#include "wippy/component.h"

/* Prints a function's signature into buf (as WIT text). */
static const char *sig(const wp_wit_func *f, char *buf, size_t cap) {
    FILE *out = fmemopen(buf, cap, "w");
    if (!out)
        return "";
    wp_wit_func_print(out, f);
    fclose(out);
    return buf;
}

static wp_status parse(const char *text, wp_wit **w, wp_err *err) {
    return wp_wit_parse(text, strlen(text), w, err);
}

static void test_functions(void) {
    wp_wit *w = NULL;
    wp_err err = {0};
    const char *text = "// a comment\n"
                       "add: func(a: s32, b: s32) -> s32;\n"
                       "export greet: func(name: string) -> string;\n"
                       "/* block\n comment */ nothing: func();\n"
                       "all: func(a: bool, b: s8, c: u8, d: s16, e: u16, f: s32, g: u32,\n"
                       "          h: s64, i: u64, j: f32, k: f64, l: float32, m: float64,\n"
                       "          n: char, o: string,) -> u64;\n";
    CHECK_EQ(parse(text, &w, &err), WP_OK);
    if (!w)
        return;
    CHECK_EQ(wp_wit_func_count(w), 4);
    char buf[512];
    CHECK(strcmp(sig(wp_wit_find_func(w, "add"), buf, sizeof buf), "func(a: s32, b: s32) -> s32") ==
          0);
    CHECK(strcmp(sig(wp_wit_find_func(w, "greet"), buf, sizeof buf),
                 "func(name: string) -> string") == 0);
    CHECK(strcmp(sig(wp_wit_find_func(w, "nothing"), buf, sizeof buf), "func()") == 0);
    const wp_wit_func *all = wp_wit_find_func(w, "all");
    CHECK_EQ(all->nparams, 15);
    static const wp_wit_kind kinds[] = {WP_WIT_BOOL, WP_WIT_S8,   WP_WIT_U8,    WP_WIT_S16,
                                        WP_WIT_U16,  WP_WIT_S32,  WP_WIT_U32,   WP_WIT_S64,
                                        WP_WIT_U64,  WP_WIT_F32,  WP_WIT_F64,   WP_WIT_F32,
                                        WP_WIT_F64,  WP_WIT_CHAR, WP_WIT_STRING};
    for (uint32_t i = 0; i < all->nparams; i++)
        CHECK_EQ(all->params[i].type->kind, kinds[i]);
    CHECK_EQ(all->result->kind, WP_WIT_U64);
    CHECK(wp_wit_find_func(w, "missing") == NULL);
    CHECK(strcmp(wp_wit_func_at(w, 0)->name, "add") == 0); /* text order */
    CHECK(wp_wit_func_at(w, 4) == NULL);
    wp_wit_free(w);
}

static void test_compound_types(void) {
    wp_wit *w = NULL;
    wp_err err = {0};
    const char *text =
        "f: func(a: list<list<u8>>, b: option<string>, c: result, d: result<u32>,\n"
        "        e: result<_, string>, g: result<tuple<s8, bool>, list<char>>) -> point;\n"
        "record point { x: s32, y: s32, }\n"
        "variant shape { none, circle(f32), poly(list<point>) }\n"
        "enum color { red, green }\n"
        "flags perms { read, write }\n"
        "type points = list<point>;\n"
        "type alias-of-alias = points;\n"
        "h: func(p: alias-of-alias, s: shape, c: color, q: perms, %type: u8);\n";
    CHECK_EQ(parse(text, &w, &err), WP_OK);
    if (!w) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    char buf[512];
    CHECK(strcmp(sig(wp_wit_find_func(w, "f"), buf, sizeof buf),
                 "func(a: list<list<u8>>, b: option<string>, c: result, d: result<u32>, "
                 "e: result<_, string>, g: result<tuple<s8, bool>, list<char>>) -> point") == 0);
    const wp_wit_type *pt = wp_wit_find_func(w, "f")->result;
    CHECK_EQ(pt->kind, WP_WIT_RECORD);
    CHECK_EQ(pt->nfields, 2);
    CHECK(strcmp(pt->fields[1].name, "y") == 0);
    const wp_wit_func *h = wp_wit_find_func(w, "h");
    CHECK_EQ(h->params[0].type->kind, WP_WIT_LIST); /* aliases resolve to what they name */
    CHECK(h->params[0].type->elem == pt);           /* named types are shared */
    CHECK_EQ(h->params[1].type->kind, WP_WIT_VARIANT);
    CHECK(h->params[1].type->fields[0].type == NULL);
    CHECK_EQ(h->params[1].type->fields[2].type->kind, WP_WIT_LIST);
    CHECK_EQ(h->params[2].type->kind, WP_WIT_ENUM);
    CHECK_EQ(h->params[3].type->kind, WP_WIT_FLAGS);
    CHECK(strcmp(h->params[4].name, "type") == 0); /* %keyword is a name */
    CHECK(strcmp(sig(h, buf, sizeof buf),
                 "func(p: list<point>, s: shape, c: color, q: perms, type: u8)") == 0);
    wp_wit_free(w);
}

static void test_interfaces(void) {
    wp_wit *w = NULL;
    wp_err err = {0};
    CHECK_EQ(parse("package my:pkg@1.0.0;\n"
                   "interface test-sleep { sleep-ms: func(ms: u32); }\n"
                   "top: func();\n",
                   &w, &err),
             WP_OK);
    if (!w)
        return;
    CHECK(wp_wit_find_func(w, "test-sleep#sleep-ms") != NULL); /* method: iface#func */
    CHECK(wp_wit_find_func(w, "top") != NULL);
    wp_wit_free(w);
}

/* Resources, handles, use renames and worlds (the grammar beyond plain types). */
static void test_resources_use_world(void) {
    wp_wit *w = NULL;
    wp_err err = {0};
    CHECK_EQ(parse("resource blob {\n"
                   "  constructor(init: list<u8>);\n"
                   "  write: func(data: list<u8>);\n"
                   "  size: func() -> u32;\n"
                   "  merge: static func(a: blob, b: borrow<blob>) -> own<blob>;\n"
                   "}\n"
                   "use other:pkg/types@1.0.0.{blob as data-blob, blob};\n"
                   "world w {\n"
                   "  import x: func();\n"
                   "  import wasi:io/streams@0.2.3;\n"
                   "  export run: func(b: data-blob) -> result;\n"
                   "  export wasi:cli/run@0.2.0;\n"
                   "  include foo;\n"
                   "}\n",
                   &w, &err),
             WP_OK);
    if (!w) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    const wp_wit_func *ctor = wp_wit_find_func(w, "[constructor]blob");
    const wp_wit_func *write = wp_wit_find_func(w, "[method]blob.write");
    const wp_wit_func *size = wp_wit_find_func(w, "[method]blob.size");
    const wp_wit_func *merge = wp_wit_find_func(w, "[static]blob.merge");
    const wp_wit_func *run = wp_wit_find_func(w, "run");
    CHECK(ctor && ctor->result && ctor->result->kind == WP_WIT_OWN);
    CHECK(ctor && strcmp(ctor->result->name, "blob") == 0);
    CHECK(write && write->nparams == 2 && write->params[0].type->kind == WP_WIT_BORROW);
    CHECK(write && strcmp(write->params[0].name, "self") == 0);
    CHECK(merge && merge->nparams == 2 && merge->params[0].type->kind == WP_WIT_OWN &&
          merge->params[1].type->kind == WP_WIT_BORROW);
    CHECK(run && run->nparams == 1 && run->params[0].type->kind == WP_WIT_OWN);
    CHECK(wp_wit_find_func(w, "x") == NULL); /* a world's imports are not ours to call */
    CHECK_EQ(wp_wit_func_count(w), 5);
    wp_valtype p[WP_CABI_MAX_FLAT_PARAMS];
    wp_valtype r[WP_CABI_MAX_FLAT_RESULTS];
    uint32_t np = 0;
    uint32_t nr = 0;
    if (size)
        wp_cabi_core_type(size, p, &np, r, &nr);
    CHECK(np == 1 && p[0] == WP_I32 && nr == 1 && r[0] == WP_I32); /* the handle, the size */
    wp_wit_free(w);
    char longname[400] = "resource ";
    for (int i = 0; i < 250; i++)
        strcat(longname, "a");
    strcat(longname, " { m: func(); }");
    w = NULL;
    CHECK_EQ(parse(longname, &w, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "is too long");
    CHECK(w == NULL);
}

/* Each malformed text fails at the right place with the right words. */
static void test_errors(void) {
    static const struct {
        const char *text;
        wp_status st;
        const char *msg;
    } cases[] = {
        {"add: func(a: s32 -> s32;", WP_ERR_INVALID, "line 1, column 18: expected ',', found '->'"},
        {"add: func(a: s32)", WP_ERR_INVALID, "expected ';', found end of text"},
        {"add: fun();", WP_ERR_INVALID, "line 1, column 6: expected 'func' after 'add:'"},
        {"f: func(a: nope);", WP_ERR_INVALID, "line 1, column 12: unknown type 'nope'"},
        {"f: func(a: u8, a: u8);", WP_ERR_INVALID, "duplicate name 'a'"},
        {"f: func();\nf: func();", WP_ERR_INVALID,
         "line 2, column 1: function 'f' is defined twice"},
        {"record r { a: r }", WP_ERR_INVALID, "type 'r' is recursive"},
        {"type a = b;\ntype b = a;\nf: func(x: a);", WP_ERR_INVALID, "is recursive"},
        {"record r { }", WP_ERR_INVALID, "record must not be empty"},
        {"enum e { a, a }", WP_ERR_INVALID, "duplicate name 'a'"},
        {"record p { x: u8 }\nrecord p { y: u8 }", WP_ERR_INVALID,
         "line 2, column 1: type 'p' is defined twice"},
        {"f: func(a: u8); /* open", WP_ERR_INVALID, "line 1, column 17: unterminated comment"},
        {"f: func(a: u8) $", WP_ERR_INVALID, "unexpected character '$'"},
        {"f: func(a-: u8);", WP_ERR_INVALID, "'a-' is not a valid identifier"},
        {"f: func(a: result<_>);", WP_ERR_INVALID, "result<_> needs an error type"},
        {"interface i { world w { } }", WP_ERR_UNSUPPORTED, "'world' is not supported"},
        {"use a:b/c;", WP_ERR_INVALID, "expected '{', found end of text"},
        {"record r { a: u8 }\nf: func(a: own<r>);", WP_ERR_INVALID, "own<r>: not a resource"},
        {"f: func(a: future<u8>);", WP_ERR_UNSUPPORTED, "'future' types are not supported"},
        {"resource r { f: fun(); }", WP_ERR_INVALID, "expected 'func' after 'f:'"},
        {"resource r;\nresource r;", WP_ERR_INVALID, "type 'r' is defined twice"},
        {"f: func() -> (a: u8);", WP_ERR_UNSUPPORTED, "named results are not supported"},
        {"f: async func();", WP_ERR_UNSUPPORTED, "'async' functions are not supported"},
        {"f: func(a: list<u8, 4>);", WP_ERR_UNSUPPORTED, "fixed-length lists"},
        {"interface a { interface b { } }", WP_ERR_INVALID, "interfaces do not nest"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wp_wit *w = NULL;
        wp_err err = {0};
        wp_status st = parse(cases[i].text, &w, &err);
        if (st != cases[i].st || !strstr(err.msg, cases[i].msg))
            fprintf(stderr, "case %zu: %s -> %s (%s)\n", i, cases[i].text, err.msg,
                    wp_status_name(st));
        CHECK_EQ(st, cases[i].st);
        CHECK_STR_CONTAINS(err.msg, cases[i].msg);
        CHECK(w == NULL);
    }
    /* Nesting is bounded, so hostile text cannot exhaust the stack. */
    char deep[2048] = "f: func(a: ";
    for (int i = 0; i < 100; i++)
        strcat(deep, "list<");
    strcat(deep, "u8");
    for (int i = 0; i < 100; i++)
        strcat(deep, ">");
    strcat(deep, ");");
    wp_wit *w = NULL;
    wp_err err = {0};
    CHECK_EQ(parse(deep, &w, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "nested more than");
    /* Text need not be NUL-terminated: only len bytes are read. */
    CHECK_EQ(wp_wit_parse("f: func();garbage", 10, &w, &err), WP_OK);
    wp_wit_free(w);
}

int main(void) {
    RUN_TEST(test_functions);
    RUN_TEST(test_compound_types);
    RUN_TEST(test_interfaces);
    RUN_TEST(test_errors);
    RUN_TEST(test_resources_use_world);
    return TEST_EXIT();
}
