/* test_instance.c: instantiation: linking, definitions, segments, traps, exports, failures. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../../src/wasm/internal.h"
#include "test.h"

/* ---- Helpers ---------------------------------------------------------------------------- */

/* A realloc hook that refuses allocation (or growth) number 'fail_at', counting from 0. */
typedef struct fail_heap {
    long fail_at;
    long count;
} fail_heap;

static void *failing_realloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
    fail_heap *fh = ud;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    if (new_size > old_size && fh->count++ == fh->fail_at)
        return NULL;
    return realloc(ptr, new_size);
}

static wp_module *decode_bytes(const uint8_t *bytes, size_t len, const char *what) {
    wp_module *m = NULL;
    wp_err err;
    wp_status st = wp_module_decode(bytes, len, &m, &err);
    if (st != WP_OK)
        fprintf(stderr, "%s: %s\n", what, err.msg);
    CHECK_EQ(st, WP_OK);
    return m;
}

static wp_module *load(const char *name) {
    size_t len = 0;
    unsigned char *bytes = test_fixture(name, &len);
    CHECK(bytes != NULL);
    if (!bytes)
        return NULL;
    wp_module *m = decode_bytes(bytes, len, name);
    free(bytes);
    return m;
}

static wp_store *new_store(const wp_store_config *cfg) {
    wp_store *s = NULL;
    wp_err err;
    CHECK_EQ(wp_store_new(cfg, &s, &err), WP_OK);
    return s;
}

static size_t count_objects(const wp_store *s) {
    size_t n = 0;
    for (const wp_object *o = s->objects; o; o = o->next)
        n++;
    return n;
}

static unsigned refs(wp_module *m) { return atomic_load(&m->refcount); }

static wp_host_result host_nop(wp_host_call *call, void *env, const wp_val *args,
                               wp_val *results) {
    (void)call;
    (void)env;
    (void)args;
    (void)results;
    return WP_HOST_OK;
}

static wp_func *host_func(wp_store *s, uint32_t np, uint32_t nr, const wp_valtype *types) {
    wp_functype ft = {np, nr, types};
    wp_func *f = NULL;
    wp_err err;
    CHECK_EQ(wp_func_new_host(s, &ft, host_nop, NULL, &f, &err), WP_OK);
    return f;
}

static wp_extern ext_global(wp_store *s, wp_valtype t, bool mut, wp_val v) {
    wp_global *g = NULL;
    wp_err err;
    CHECK_EQ(wp_global_new(s, (wp_globaltype){t, mut}, v, &g, &err), WP_OK);
    return (wp_extern){.kind = WP_EXTERN_GLOBAL, .of.global = g};
}

static wp_extern ext_table(wp_store *s, wp_valtype elem, uint32_t min, uint32_t max, bool hm) {
    wp_table *t = NULL;
    wp_err err;
    CHECK_EQ(wp_table_new(s, (wp_tabletype){elem, {min, max, hm}}, &t, &err), WP_OK);
    return (wp_extern){.kind = WP_EXTERN_TABLE, .of.table = t};
}

static wp_extern ext_memory(wp_store *s, uint32_t min, uint32_t max, bool hm) {
    wp_memory *mem = NULL;
    wp_err err;
    CHECK_EQ(wp_memory_new(s, (wp_limits){min, max, hm}, &mem, &err), WP_OK);
    return (wp_extern){.kind = WP_EXTERN_MEMORY, .of.memory = mem};
}

static wp_extern find(const wp_instance *in, const char *name, wp_externkind kind) {
    wp_extern x = {0};
    CHECK(wp_instance_export(in, name, strlen(name), &x));
    CHECK_EQ(x.kind, kind);
    return x;
}

/* ---- inst_basic ------------------------------------------------------------------------- */

static int host_obj;

static void check_basic_exports(wp_instance *in, wp_module *m) {
    wp_extern x = find(in, "add1", WP_EXTERN_FUNC);
    CHECK(x.of.func == in->funcs[0]);
    CHECK(x.of.func->inst == in);
    CHECK_EQ(x.of.func->index, 0);
    CHECK(x.of.func->code == m->funcs[0].code);
    CHECK(x.of.func->host == NULL);
    CHECK_EQ(wp_func_type(x.of.func).nparams, 1);
    CHECK_EQ(wp_func_type(x.of.func).types[1], WP_I32);
    CHECK(find(in, "f2", WP_EXTERN_FUNC).of.func == in->funcs[1]);
    CHECK(find(in, "", WP_EXTERN_FUNC).of.func == in->funcs[3]);
    CHECK(wp_instance_export(in, "a\0b", 3, &x) && x.of.func == in->funcs[2]);
    CHECK(!wp_instance_export(in, "a\0", 2, &x));  /* a prefix of "a\0b" */
    CHECK(!wp_instance_export(in, "add", 3, &x));  /* a prefix of "add1" */
    CHECK(!wp_instance_export(in, "add1x", 5, &x)); /* longer than "add1" */
    CHECK(!wp_instance_export(in, "nope", 4, &x));
    CHECK(find(in, "mem", WP_EXTERN_MEMORY).of.memory == in->mems[0]);
    CHECK(find(in, "table", WP_EXTERN_TABLE).of.table == in->tables[0]);
    CHECK(find(in, "ext", WP_EXTERN_TABLE).of.table == in->tables[1]);
    CHECK(find(in, "b", WP_EXTERN_GLOBAL).of.global == in->globals[3]);
    CHECK(wp_instance_start_func(in) == in->funcs[2]);
    CHECK(wp_instance_module(in) == m);
    CHECK(wp_instance_memory(in) == in->mems[0]);
}

static void check_basic_globals(wp_instance *in) {
    CHECK_EQ(wp_global_get(find(in, "a", WP_EXTERN_GLOBAL).of.global).of.i32, 0xfffffff9u);
    wp_global *b = find(in, "b", WP_EXTERN_GLOBAL).of.global;
    CHECK(wp_global_get(b).of.i64 == 0x123456789ull);
    CHECK(wp_global_type(b).mutable_);
    CHECK_EQ(wp_global_get(find(in, "c", WP_EXTERN_GLOBAL).of.global).of.f32, 0x80000000u);
    CHECK(wp_global_get(find(in, "d", WP_EXTERN_GLOBAL).of.global).of.f64 ==
          0x3ff8000000000000ull);
    CHECK_EQ(wp_global_get(find(in, "e", WP_EXTERN_GLOBAL).of.global).of.i32, 1);
    CHECK(wp_global_get(find(in, "n", WP_EXTERN_GLOBAL).of.global).of.ext == NULL);
    wp_val r = wp_global_get(find(in, "r", WP_EXTERN_GLOBAL).of.global);
    CHECK_EQ(r.type, WP_EXTERNREF);
    CHECK(r.of.ext == &host_obj);
}

static void check_basic_segments(wp_instance *in) {
    wp_table *t = in->tables[0];
    CHECK_EQ(t->size, 4);
    CHECK(t->elems[0] == NULL);
    CHECK(t->elems[1] == in->funcs[0]);
    CHECK(t->elems[2] == in->funcs[1]);
    CHECK(t->elems[3] == NULL);
    CHECK_EQ(in->tables[1]->size, 2);
    /* Only the passive segments keep items; the others are dropped. */
    CHECK_EQ(in->elem_counts[0], 0);
    CHECK_EQ(in->elem_counts[1], 3);
    CHECK(in->elem_items[1][0] == in->funcs[3]);
    CHECK(in->elem_items[1][1] == NULL);
    CHECK(in->elem_items[1][2] == in->funcs[0]);
    CHECK_EQ(in->elem_counts[2], 0);
    CHECK_EQ(in->elem_counts[3], 0);
    CHECK_EQ(in->elem_counts[4], 0);
    CHECK_EQ(in->data_dropped[0], 1);
    CHECK_EQ(in->data_dropped[1], 0);
    CHECK_EQ(in->data_dropped[2], 1);
    wp_memory *mem = wp_instance_memory(in);
    CHECK_EQ(wp_memory_size(mem), WP_PAGE_SIZE);
    CHECK_EQ(wp_memory_limits(mem).max, 2);
    CHECK(memcmp(wp_memory_data(mem) + 16, "wippy", 5) == 0);
    CHECK_EQ(wp_memory_data(mem)[15], 0);
    CHECK_EQ(wp_memory_data(mem)[21], 0);
    const uint8_t tail[6] = {1, 2, 3, 4, 5, 6};
    CHECK(memcmp(wp_memory_data(mem) + 65530, tail, 6) == 0);
}

static void basic_imports(wp_store *s, wp_extern imports[2]) {
    imports[0] = ext_global(s, WP_I32, false, wp_val_i32(1));
    imports[1] = ext_global(s, WP_EXTERNREF, false,
                            (wp_val){.type = WP_EXTERNREF, .of.ext = &host_obj});
}

static void test_basic(void) {
    wp_module *m = load("inst_basic");
    if (!m)
        return;
    wp_store *s = new_store(NULL);
    wp_extern imports[2];
    basic_imports(s, imports);
    wp_instance *in = NULL;
    wp_err err;
    CHECK_EQ(wp_instance_new(s, m, imports, 2, &in, &err), WP_OK);
    if (in) {
        CHECK_EQ(refs(m), 2); /* the instance holds one */
        CHECK(in->globals[0] == imports[0].of.global);
        check_basic_exports(in, m);
        check_basic_globals(in);
        check_basic_segments(in);
    }
    /* A second instance of the same module gets its own everything. */
    wp_instance *in2 = NULL;
    CHECK_EQ(wp_instance_new(s, m, imports, 2, &in2, &err), WP_OK);
    if (in && in2) {
        CHECK(in2->funcs[0] != in->funcs[0]);
        CHECK(in2->mem0 != in->mem0);
        CHECK(in2->tables[0]->elems[1] == in2->funcs[0]);
        CHECK_EQ(refs(m), 3);
    }
    wp_store_free(s);
    CHECK_EQ(refs(m), 1); /* the store dropped its instances' references */
    wp_module_free(m);
}

/* ref.func in a global and global.get in an element segment, written by hand:
 *   (import "env" "r" (global externref))  (table 2 externref)
 *   (global (export "f") funcref (ref.func 0))  (func)
 *   (elem (table 0) (i32.const 1) externref (global.get 0))
 *   (elem funcref (ref.func 0) (ref.null func)) */
static const uint8_t hand_module[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,                   /* magic, version */
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                               /* type: () -> () */
    0x02, 0x0a, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'r', 0x03, 0x6f, 0x00, /* import global */
    0x03, 0x02, 0x01, 0x00,                                           /* func: type 0 */
    0x04, 0x04, 0x01, 0x6f, 0x00, 0x02,                               /* table externref 2 */
    0x06, 0x06, 0x01, 0x70, 0x00, 0xd2, 0x00, 0x0b,                   /* global ref.func 0 */
    0x07, 0x05, 0x01, 0x01, 'f', 0x03, 0x01,                          /* export "f" global 1 */
    0x09, 0x14, 0x02,                                                 /* elem: 2 segments */
    0x06, 0x00, 0x41, 0x01, 0x0b, 0x6f, 0x01, 0x23, 0x00, 0x0b,       /*   active, table 0 */
    0x05, 0x70, 0x02, 0xd2, 0x00, 0x0b, 0xd0, 0x70, 0x0b,             /*   passive */
    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,                               /* code: empty body */
};

static void test_const_refs(void) {
    wp_module *m = decode_bytes(hand_module, sizeof hand_module, "hand module");
    if (!m)
        return;
    wp_store *s = new_store(NULL);
    wp_extern imp = ext_global(s, WP_EXTERNREF, false,
                               (wp_val){.type = WP_EXTERNREF, .of.ext = &host_obj});
    wp_instance *in = NULL;
    wp_err err;
    CHECK_EQ(wp_instance_new(s, m, &imp, 1, &in, &err), WP_OK);
    if (in) {
        wp_val f = wp_global_get(find(in, "f", WP_EXTERN_GLOBAL).of.global);
        CHECK_EQ(f.type, WP_FUNCREF);
        CHECK(f.of.func == in->funcs[0]);
        CHECK(in->tables[0]->elems[0] == NULL);
        CHECK(in->tables[0]->elems[1] == &host_obj);
        CHECK_EQ(in->elem_counts[0], 0);
        CHECK_EQ(in->elem_counts[1], 2);
        CHECK(in->elem_items[1][0] == in->funcs[0]);
        CHECK(in->elem_items[1][1] == NULL);
        CHECK(wp_instance_start_func(in) == NULL);
        CHECK(wp_instance_memory(in) == NULL);
    }
    wp_store_free(s);
    wp_module_free(m);
}

/* ---- Linking ---------------------------------------------------------------------------- */

enum { NIMP = 6 };

/* Imports that satisfy inst_imports exactly. */
static void good_imports(wp_store *s, wp_extern imp[NIMP]) {
    static const wp_valtype ii[] = {WP_I32, WP_I32};
    imp[0] = (wp_extern){.kind = WP_EXTERN_FUNC, .of.func = host_func(s, 1, 1, ii)};
    imp[1] = ext_table(s, WP_FUNCREF, 2, 10, true);
    imp[2] = ext_memory(s, 1, 4, true);
    imp[3] = ext_global(s, WP_I32, false, wp_val_i32(3));
    imp[4] = ext_global(s, WP_I64, true, wp_val_i64(4));
    imp[5] = ext_table(s, WP_EXTERNREF, 0, 0, false);
}

static void test_link_ok(void) {
    wp_module *m = load("inst_imports");
    if (!m)
        return;
    wp_store *s = new_store(NULL);
    wp_extern imp[NIMP];
    good_imports(s, imp);
    wp_instance *in = NULL;
    wp_err err;
    CHECK_EQ(wp_instance_new(s, m, imp, NIMP, &in, &err), WP_OK);
    if (in) {
        CHECK(find(in, "f", WP_EXTERN_FUNC).of.func == imp[0].of.func);
        CHECK(find(in, "t", WP_EXTERN_TABLE).of.table == imp[1].of.table);
        CHECK(find(in, "m", WP_EXTERN_MEMORY).of.memory == imp[2].of.memory);
        CHECK(find(in, "g", WP_EXTERN_GLOBAL).of.global == imp[3].of.global);
        CHECK(find(in, "mg", WP_EXTERN_GLOBAL).of.global == imp[4].of.global);
        CHECK(imp[1].of.table->elems[1] == imp[0].of.func); /* elem wrote the imported func */
        CHECK(wp_instance_memory(in) == imp[2].of.memory);
    }
    /* Bigger than the minimum, with a smaller max than declared: still fits. */
    imp[1] = ext_table(s, WP_FUNCREF, 5, 8, true);
    imp[2] = ext_memory(s, 2, 3, true);
    CHECK_EQ(wp_instance_new(s, m, imp, NIMP, &in, &err), WP_OK);
    /* A memory that grew past the declared minimum counts with its current size. */
    imp[2] = ext_memory(s, 0, 4, true);
    CHECK_EQ(wp_memory_grow(imp[2].of.memory, 1), 0);
    CHECK_EQ(wp_instance_new(s, m, imp, NIMP, &in, &err), WP_OK);
    wp_store_free(s);
    wp_module_free(m);
}

/* Instantiating with imp must fail as a link error naming the import, changing nothing. */
static void expect_link_error(wp_store *s, wp_module *m, const wp_extern *imp, uint32_t n,
                              const char *what) {
    size_t used = s->heap.used;
    size_t objects = count_objects(s);
    unsigned r = refs(m);
    wp_instance *in = NULL;
    wp_err err;
    wp_err_clear(&err);
    CHECK_EQ(wp_instance_new(s, m, imp, n, &in, &err), WP_ERR_LINK);
    CHECK_STR_CONTAINS(err.msg, what);
    CHECK(in == NULL);
    CHECK_EQ(s->heap.used, used);
    CHECK_EQ(count_objects(s), objects);
    CHECK_EQ(refs(m), r);
}

/* Replaces import i of a good set with x and expects the link error text. */
static void expect_bad_import(wp_store *s, wp_module *m, uint32_t i, wp_extern x,
                              const char *why) {
    wp_extern imp[NIMP];
    good_imports(s, imp);
    imp[i] = x;
    static const char *names[NIMP] = {"\"env\" \"f\"", "\"env\" \"t\"",  "\"env\" \"m\"",
                                      "\"env\" \"g\"", "\"env\" \"mg\"", "\"env\" \"ft\""};
    expect_link_error(s, m, imp, NIMP, "incompatible import type");
    expect_link_error(s, m, imp, NIMP, names[i]);
    expect_link_error(s, m, imp, NIMP, why);
}

static void test_link_errors(void) {
    wp_module *m = load("inst_imports");
    if (!m)
        return;
    wp_store *s = new_store(NULL);
    wp_extern imp[NIMP];
    good_imports(s, imp);
    expect_link_error(s, m, imp, NIMP - 1, "module has 6 imports, 5 given");
    expect_link_error(s, m, NULL, NIMP, "module has 6 imports, 0 given");

    /* Kinds. */
    expect_bad_import(s, m, 0, imp[2], "expected a function, got a memory");
    expect_bad_import(s, m, 3, imp[1], "expected a global, got a table");
    expect_bad_import(s, m, 0, (wp_extern){.kind = WP_EXTERN_FUNC}, "no function given");
    expect_bad_import(s, m, 1, (wp_extern){.kind = WP_EXTERN_TABLE}, "no table given");
    expect_bad_import(s, m, 2, (wp_extern){.kind = WP_EXTERN_MEMORY}, "no memory given");
    expect_bad_import(s, m, 3, (wp_extern){.kind = WP_EXTERN_GLOBAL}, "no global given");

    /* Function types. */
    static const wp_valtype li[] = {WP_I64, WP_I32};
    static const wp_valtype iii[] = {WP_I32, WP_I32, WP_I32};
    wp_extern f = {.kind = WP_EXTERN_FUNC};
    f.of.func = host_func(s, 1, 1, li);
    expect_bad_import(s, m, 0, f, "expected (i32) -> (i32), got (i64) -> (i32)");
    f.of.func = host_func(s, 1, 0, iii);
    expect_bad_import(s, m, 0, f, "got (i32) -> ()");
    f.of.func = host_func(s, 1, 2, iii);
    expect_bad_import(s, m, 0, f, "got (i32) -> (i32 i32)");
    f.of.func = host_func(s, 2, 1, iii);
    expect_bad_import(s, m, 0, f, "got (i32 i32) -> (i32)");
    f.of.func = host_func(s, 0, 0, NULL);
    expect_bad_import(s, m, 0, f, "got () -> ()");

    /* Tables: declared (table 2 10 funcref) and (table 0 externref). */
    expect_bad_import(s, m, 1, ext_table(s, WP_EXTERNREF, 2, 10, true),
                      "expected funcref table (min 2, max 10), "
                      "got externref table (min 2, max 10)");
    expect_bad_import(s, m, 5, ext_table(s, WP_FUNCREF, 0, 0, false),
                      "expected externref table (min 0, no max), got funcref table");
    expect_bad_import(s, m, 1, ext_table(s, WP_FUNCREF, 1, 10, true),
                      "got funcref table (min 1, max 10)");
    expect_bad_import(s, m, 1, ext_table(s, WP_FUNCREF, 2, 0, false),
                      "got funcref table (min 2, no max)");
    expect_bad_import(s, m, 1, ext_table(s, WP_FUNCREF, 2, 11, true),
                      "got funcref table (min 2, max 11)");

    /* Memories: declared (memory 1 4). */
    expect_bad_import(s, m, 2, ext_memory(s, 0, 4, true),
                      "expected memory (min 1, max 4), got memory (min 0, max 4)");
    expect_bad_import(s, m, 2, ext_memory(s, 1, 0, false), "got memory (min 1, no max)");
    expect_bad_import(s, m, 2, ext_memory(s, 1, 5, true), "got memory (min 1, max 5)");

    /* Globals: declared (global i32) and (global (mut i64)). */
    expect_bad_import(s, m, 3, ext_global(s, WP_I64, false, wp_val_i64(0)),
                      "expected global i32, got global i64");
    expect_bad_import(s, m, 3, ext_global(s, WP_I32, true, wp_val_i32(0)),
                      "expected global i32, got global mut i32");
    expect_bad_import(s, m, 4, ext_global(s, WP_I64, false, wp_val_i64(0)),
                      "expected global mut i64, got global i64");
    expect_bad_import(s, m, 4, ext_global(s, WP_I32, true, wp_val_i32(0)),
                      "expected global mut i64, got global mut i32");
    wp_store_free(s);
    wp_module_free(m);
}

/* ---- Segment traps ---------------------------------------------------------------------- */

static wp_status instantiate_tm(wp_store *s, wp_module *m, wp_extern imp[2], wp_err *err) {
    imp[0] = ext_table(s, WP_FUNCREF, 4, 0, false);
    imp[1] = ext_memory(s, 1, 0, false);
    wp_instance *in = NULL;
    return wp_instance_new(s, m, imp, 2, &in, err);
}

static void test_elem_trap(void) {
    wp_module *m = load("inst_trap_elem");
    if (!m)
        return;
    wp_store *s = new_store(NULL);
    wp_extern imp[2];
    wp_err err;
    CHECK_EQ(instantiate_tm(s, m, imp, &err), WP_ERR_TRAP);
    CHECK_STR_CONTAINS(err.msg, "out of bounds table access");
    wp_table *t = imp[0].of.table;
    wp_func *f = t->elems[0];
    CHECK(f != NULL); /* the first segment's write stays ... */
    if (f) {
        CHECK(f->inst->module == m); /* ... and its function lives on in the store */
        CHECK_EQ(f->index, 0);
    }
    CHECK(t->elems[2] == NULL); /* the failing segment wrote nothing */
    CHECK(t->elems[3] == NULL);
    const uint8_t zero[5] = {0};
    CHECK(memcmp(imp[1].of.memory->base, zero, 5) == 0); /* data segments never ran */
    CHECK_EQ(refs(m), 2);
    wp_store_free(s);
    CHECK_EQ(refs(m), 1);
    wp_module_free(m);
}

static void test_data_trap(void) {
    wp_module *m = load("inst_trap_data");
    if (!m)
        return;
    wp_store *s = new_store(NULL);
    wp_extern imp[2];
    wp_err err;
    CHECK_EQ(instantiate_tm(s, m, imp, &err), WP_ERR_TRAP);
    CHECK_STR_CONTAINS(err.msg, "out of bounds memory access");
    CHECK(imp[0].of.table->elems[3] != NULL);
    const uint8_t *mem = imp[1].of.memory->base;
    CHECK(memcmp(mem, "abc", 3) == 0);
    CHECK(mem[65534] == 0 && mem[65535] == 0); /* the failing segment wrote nothing */
    CHECK(mem[100] == 0);                      /* nor did any after it */
    wp_store_free(s);
    wp_module_free(m);
}

static void test_empty_segment_traps(void) {
    wp_module *me = load("inst_trap_empty_elem");
    wp_module *md = load("inst_trap_empty_data");
    if (!me || !md)
        return;
    wp_store *s = new_store(NULL);
    wp_instance *in = NULL;
    wp_err err;
    CHECK_EQ(wp_instance_new(s, me, NULL, 0, &in, &err), WP_ERR_TRAP);
    CHECK_STR_CONTAINS(err.msg, "out of bounds table access");
    CHECK_STR_CONTAINS(err.msg, "segment 1");
    CHECK_EQ(wp_instance_new(s, md, NULL, 0, &in, &err), WP_ERR_TRAP);
    CHECK_STR_CONTAINS(err.msg, "out of bounds memory access");
    CHECK_STR_CONTAINS(err.msg, "segment 1");
    wp_store_free(s);
    wp_module_free(me);
    wp_module_free(md);
}

/* ---- Limits and failures ---------------------------------------------------------------- */

static void expect_store_limit(wp_module *m, wp_store_config cfg, const char *what) {
    wp_store *s = new_store(&cfg);
    wp_instance *in = NULL;
    wp_err err;
    CHECK_EQ(wp_instance_new(s, m, NULL, 0, &in, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, what);
    CHECK_EQ(s->heap.used, sizeof(wp_store)); /* all made before the failure is gone again */
    CHECK(s->objects == NULL);
    CHECK_EQ(refs(m), 1);
    wp_store_free(s);
}

static void test_store_limits(void) {
    wp_module *m = load("inst_bigmem");
    if (!m)
        return;
    expect_store_limit(m, (wp_store_config){.max_table_elems = 4},
                       "table 0: table of 5 elements exceeds the store's limit of 4");
    expect_store_limit(m, (wp_store_config){.max_memory_pages = 2},
                       "memory 0: memory of 3 pages exceeds the store's limit of 2");
    wp_module_free(m);
}

/* Fails the k-th allocation through the store's heap, for every k, over a whole
 * instantiation: each is WP_ERR_NOMEM and leaves the store as it was. */
static void test_failing_allocator(void) {
    wp_module *m = load("inst_basic");
    if (!m)
        return;
    wp_store *s = new_store(NULL);
    wp_extern imports[2];
    basic_imports(s, imports);
    fail_heap fh = {-1, 0};
    s->heap.realloc_fn = failing_realloc;
    s->heap.ud = &fh;
    size_t used = s->heap.used;
    size_t objects = count_objects(s);
    long k = 0;
    for (;; k++) {
        fh.fail_at = k;
        fh.count = 0;
        wp_instance *in = NULL;
        wp_err err;
        wp_status st = wp_instance_new(s, m, imports, 2, &in, &err);
        if (st == WP_OK)
            break;
        CHECK_EQ(st, WP_ERR_NOMEM);
        CHECK_EQ(s->heap.used, used);
        CHECK_EQ(count_objects(s), objects);
        CHECK_EQ(refs(m), 1);
        if (k > 100)
            break;
    }
    CHECK(k >= 5); /* instance, two tables with their elements, the memory */
    CHECK(k <= 100);
    wp_store_free(s);
    CHECK_EQ(refs(m), 1);
    wp_module_free(m);
}

static size_t rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long total = 0;
    unsigned long resident = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &total, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Decision 4: 100,000 instances of a small module (one page with a data segment, two
 * functions in a table, a global) in one process. */
static void test_many_instances(void) {
    enum { N = 100000 };
    wp_module *m = load("inst_small");
    if (!m)
        return;
    wp_store *s = new_store(NULL);
    size_t rss0 = rss_bytes();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int made = 0;
    wp_err err;
    for (int i = 0; i < N; i++) {
        wp_instance *in = NULL;
        if (wp_instance_new(s, m, NULL, 0, &in, &err) != WP_OK)
            break;
        made++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_EQ(made, N);
    if (made < N)
        fprintf(stderr, "stopped at %d: %s\n", made, err.msg);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    size_t rss = rss_bytes() - rss0;
    fprintf(stderr, "  %d instances: %.2f us each; store heap %zu B each; RSS %zu B each\n", made,
            secs * 1e6 / N, s->heap.used / N, rss / N);
    CHECK(s->heap.used / N < 1024);
    CHECK(rss / N < WP_PAGE_SIZE / 2); /* far below the 64 KiB each memory maps */
    wp_store_free(s);
    wp_module_free(m);
}

int main(void) {
    RUN_TEST(test_basic);
    RUN_TEST(test_const_refs);
    RUN_TEST(test_link_ok);
    RUN_TEST(test_link_errors);
    RUN_TEST(test_elem_trap);
    RUN_TEST(test_data_trap);
    RUN_TEST(test_empty_segment_traps);
    RUN_TEST(test_store_limits);
    RUN_TEST(test_failing_allocator);
    RUN_TEST(test_many_instances);
    return TEST_EXIT();
}
