/* test_store.c: stores, host functions, globals, tables and value slots. */
#include <stdint.h>
#include <stdlib.h>

#include "../../src/wasm/internal.h"
#include "test.h"

/* A realloc hook that refuses the allocation (or growth) number 'fail_at', counting from 0;
 * -1 never refuses. */
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

static void install_failing(wp_store *s, fail_heap *fh, long fail_at) {
    fh->fail_at = fail_at;
    fh->count = 0;
    s->heap.realloc_fn = failing_realloc;
    s->heap.ud = fh;
}

static size_t count_objects(const wp_store *s) {
    size_t n = 0;
    for (const wp_object *o = s->objects; o; o = o->next)
        n++;
    return n;
}

static wp_host_result host_nop(wp_host_call *call, void *env, const wp_val *args,
                               wp_val *results) {
    (void)call;
    (void)env;
    (void)args;
    (void)results;
    return WP_HOST_OK;
}

static void test_store_defaults(void) {
    wp_store *s = NULL;
    wp_err err;
    CHECK_EQ(wp_store_new(NULL, &s, &err), WP_OK);
    CHECK_EQ(s->cfg.max_memory_pages, 65536);
    CHECK_EQ(s->cfg.max_table_elems, WP_DEFAULT_MAX_TABLE_ELEMS);
    CHECK_EQ(s->cfg.max_call_depth, WP_DEFAULT_CALL_DEPTH);
    CHECK_EQ(s->cfg.max_stack_bytes, WP_DEFAULT_STACK_BYTES);
    CHECK(s->heap.limit == SIZE_MAX);
    CHECK_EQ(s->heap.used, sizeof(wp_store)); /* the store counts itself */
    CHECK_EQ(wp_store_fuel(s), 0);
    CHECK(s->objects == NULL);
    wp_store_free(s);

    wp_store_config cfg = {.max_memory_pages = 100000, .max_table_elems = 7, .max_call_depth = 9,
                           .max_stack_bytes = 4096, .fuel = 123, .max_heap_bytes = 1000};
    CHECK_EQ(wp_store_new(&cfg, &s, &err), WP_OK);
    CHECK_EQ(s->cfg.max_memory_pages, 65536); /* capped at what 32 bits can address */
    CHECK_EQ(s->cfg.max_table_elems, 7);
    CHECK_EQ(s->cfg.max_call_depth, 9);
    CHECK_EQ(s->cfg.max_stack_bytes, 4096);
    CHECK_EQ(s->heap.limit, 1000);
    CHECK_EQ(wp_store_fuel(s), 123);
    wp_store_free(s);
    wp_store_free(NULL);

    /* A budget too small for the store itself. */
    cfg = (wp_store_config){.max_heap_bytes = sizeof(wp_store) - 1};
    s = NULL;
    CHECK_EQ(wp_store_new(&cfg, &s, &err), WP_ERR_NOMEM);
    CHECK_STR_CONTAINS(err.msg, "out of memory creating a store");
    CHECK(s == NULL);
    cfg.max_heap_bytes = sizeof(wp_store);
    CHECK_EQ(wp_store_new(&cfg, &s, &err), WP_OK);
    wp_store_free(s);
}

static void test_store_frees_objects(void) {
    wp_store *s = NULL;
    wp_err err;
    CHECK_EQ(wp_store_new(NULL, &s, &err), WP_OK);
    wp_valtype types[] = {WP_I32, WP_I64};
    wp_functype ft = {1, 1, types};
    wp_func *f = NULL;
    wp_memory *mem = NULL;
    wp_table *t = NULL;
    wp_global *g = NULL;
    CHECK_EQ(wp_func_new_host(s, &ft, host_nop, NULL, &f, &err), WP_OK);
    CHECK_EQ(wp_memory_new(s, (wp_limits){1, 2, true}, &mem, &err), WP_OK);
    CHECK_EQ(wp_table_new(s, (wp_tabletype){WP_FUNCREF, {4, 0, false}}, &t, &err), WP_OK);
    CHECK_EQ(wp_global_new(s, (wp_globaltype){WP_I32, true}, wp_val_i32(5), &g, &err), WP_OK);
    CHECK_EQ(count_objects(s), 4);
    CHECK(s->heap.used > sizeof(wp_store));

    /* Rolling back to a mark destroys exactly what came after it. */
    wp_object *mark = s->objects;
    size_t used = s->heap.used;
    CHECK_EQ(wp_memory_new(s, (wp_limits){3, 0, false}, &mem, &err), WP_OK);
    CHECK_EQ(wp_table_new(s, (wp_tabletype){WP_EXTERNREF, {9, 0, false}}, &t, &err), WP_OK);
    CHECK(s->heap.used > used);
    wp__store_rollback(s, mark);
    CHECK_EQ(count_objects(s), 4);
    CHECK_EQ(s->heap.used, used);
    wp_store_free(s); /* the sanitizer build reports anything left */
}

static void test_store_heap_limit(void) {
    wp_store_config cfg = {.max_heap_bytes = 600};
    wp_store *s = NULL;
    wp_err err;
    CHECK_EQ(wp_store_new(&cfg, &s, &err), WP_OK);
    wp_status st = WP_OK;
    int made = 0;
    while (st == WP_OK && made < 1000) {
        wp_global *g = NULL;
        st = wp_global_new(s, (wp_globaltype){WP_I64, false}, wp_val_i64(1), &g, &err);
        made += st == WP_OK;
    }
    CHECK_EQ(st, WP_ERR_NOMEM);
    CHECK_STR_CONTAINS(err.msg, "out of memory");
    CHECK(made > 0);
    CHECK(s->heap.used <= 600);
    /* A table over the remaining budget fails the same way, leaving nothing behind. */
    size_t used = s->heap.used;
    wp_table *t = NULL;
    CHECK_EQ(wp_table_new(s, (wp_tabletype){WP_FUNCREF, {1000, 0, false}}, &t, &err),
             WP_ERR_NOMEM);
    CHECK_EQ(s->heap.used, used);
    wp_store_free(s);
}

static void test_host_func(void) {
    wp_store *s = NULL;
    wp_err err;
    CHECK_EQ(wp_store_new(NULL, &s, &err), WP_OK);
    wp_valtype types[] = {WP_I32, WP_F64, WP_EXTERNREF};
    wp_functype ft = {2, 1, types};
    int env = 0;
    wp_func *f = NULL;
    CHECK_EQ(wp_func_new_host(s, &ft, host_nop, &env, &f, &err), WP_OK);
    types[0] = WP_I64; /* the function keeps its own copy */
    wp_functype got = wp_func_type(f);
    CHECK_EQ(got.nparams, 2);
    CHECK_EQ(got.nresults, 1);
    CHECK_EQ(got.types[0], WP_I32);
    CHECK_EQ(got.types[1], WP_F64);
    CHECK_EQ(got.types[2], WP_EXTERNREF);
    CHECK(f->host == host_nop);
    CHECK(f->env == &env);
    CHECK(f->inst == NULL);
    CHECK(f->store == s);

    wp_func *empty = NULL;
    wp_functype none = {0, 0, NULL};
    CHECK_EQ(wp_func_new_host(s, &none, host_nop, NULL, &empty, &err), WP_OK);
    CHECK_EQ(wp_func_type(empty).nparams, 0);

    size_t used = s->heap.used;
    CHECK_EQ(wp_func_new_host(s, &ft, NULL, NULL, &f, &err), WP_ERR_INVALID);
    CHECK_EQ(wp_func_new_host(s, NULL, host_nop, NULL, &f, &err), WP_ERR_INVALID);
    wp_valtype bad[] = {(wp_valtype)0x55};
    wp_functype badt = {1, 0, bad};
    CHECK_EQ(wp_func_new_host(s, &badt, host_nop, NULL, &f, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "unknown value type 0x55");
    wp_functype nul = {1, 0, NULL};
    CHECK_EQ(wp_func_new_host(s, &nul, host_nop, NULL, &f, &err), WP_ERR_INVALID);
    wp_functype huge = {UINT32_MAX, UINT32_MAX, types};
    CHECK_EQ(wp_func_new_host(s, &huge, host_nop, NULL, &f, &err), WP_ERR_INVALID);
    CHECK_EQ(s->heap.used, used);

    fail_heap fh;
    install_failing(s, &fh, 0);
    CHECK_EQ(wp_func_new_host(s, &ft, host_nop, NULL, &f, &err), WP_ERR_NOMEM);
    CHECK_EQ(s->heap.used, used);
    wp_store_free(s);
}

static void test_globals(void) {
    wp_store *s = NULL;
    wp_err err;
    CHECK_EQ(wp_store_new(NULL, &s, &err), WP_OK);
    wp_global *g = NULL;
    CHECK_EQ(wp_global_new(s, (wp_globaltype){WP_I32, true}, wp_val_i32(0xfffffffe), &g, &err),
             WP_OK);
    CHECK_EQ(g->value, 0xfffffffeu); /* zero-extended in its slot */
    CHECK_EQ(wp_global_type(g).type, WP_I32);
    CHECK(wp_global_type(g).mutable_);
    CHECK_EQ(wp_global_get(g).of.i32, 0xfffffffeu);
    wp_global_set(g, wp_val_i32(7));
    CHECK_EQ(wp_global_get(g).of.i32, 7);
    wp_global_set(g, wp_val_i64(9)); /* wrong type: nothing changes */
    CHECK_EQ(wp_global_get(g).of.i32, 7);
    CHECK_EQ(wp_global_get(g).type, WP_I32);

    wp_global *gf = NULL;
    uint64_t nan_bits = 0x7ff4000000000123ull; /* a signalling NaN with a payload */
    CHECK_EQ(wp_global_new(s, (wp_globaltype){WP_F64, false}, wp_val_f64(nan_bits), &gf, &err),
             WP_OK);
    CHECK(wp_global_get(gf).of.f64 == nan_bits);

    int host_obj;
    wp_val ext = {.type = WP_EXTERNREF, .of.ext = &host_obj};
    wp_global *ge = NULL;
    CHECK_EQ(wp_global_new(s, (wp_globaltype){WP_EXTERNREF, true}, ext, &ge, &err), WP_OK);
    CHECK(wp_global_get(ge).of.ext == &host_obj);

    CHECK_EQ(wp_global_new(s, (wp_globaltype){WP_I32, false}, wp_val_i64(1), &g, &err),
             WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "global of type i32 initialised with i64");
    wp_val v128 = {.type = WP_V128};
    CHECK_EQ(wp_global_new(s, (wp_globaltype){WP_V128, false}, v128, &g, &err),
             WP_ERR_UNSUPPORTED);
    wp_val odd = {.type = (wp_valtype)0x42};
    CHECK_EQ(wp_global_new(s, (wp_globaltype){(wp_valtype)0x42, false}, odd, &g, &err),
             WP_ERR_INVALID);
    fail_heap fh;
    install_failing(s, &fh, 0);
    size_t used = s->heap.used;
    CHECK_EQ(wp_global_new(s, (wp_globaltype){WP_I32, false}, wp_val_i32(1), &g, &err),
             WP_ERR_NOMEM);
    CHECK_EQ(s->heap.used, used);
    wp_store_free(s);
}

static void test_slots(void) {
    CHECK(wp__val_to_slot(wp_val_i32(0x80000000u)) == 0x80000000ull);
    CHECK(wp__val_to_slot(wp_val_i64(0x8000000000000001ull)) == 0x8000000000000001ull);
    CHECK(wp__val_to_slot(wp_val_f32(0x7fc00001u)) == 0x7fc00001ull);
    CHECK(wp__val_to_slot(wp_val_f64(0xfff8000000000002ull)) == 0xfff8000000000002ull);
    wp_func *fake = (wp_func *)(uintptr_t)0x1000;
    wp_val fr = {.type = WP_FUNCREF, .of.func = fake};
    CHECK(wp__val_to_slot(fr) == 0x1000);
    wp_val er = {.type = WP_EXTERNREF, .of.ext = NULL};
    CHECK(wp__val_to_slot(er) == 0);

    wp_val v = wp__slot_to_val(0xffffffff00000005ull, WP_I32);
    CHECK_EQ(v.type, WP_I32);
    CHECK_EQ(v.of.i32, 5); /* only the low 32 bits belong to an i32 */
    v = wp__slot_to_val(0x7f800001ull, WP_F32);
    CHECK_EQ(v.type, WP_F32);
    CHECK_EQ(v.of.f32, 0x7f800001u);
    v = wp__slot_to_val(0xfff0000000000001ull, WP_F64);
    CHECK(v.of.f64 == 0xfff0000000000001ull);
    v = wp__slot_to_val(0x1000, WP_FUNCREF);
    CHECK(v.of.func == fake);
    v = wp__slot_to_val(0x2000, WP_EXTERNREF);
    CHECK(v.of.ext == (void *)(uintptr_t)0x2000);
    v = wp__slot_to_val(42, WP_I64);
    CHECK_EQ(v.of.i64, 42);
}

static void test_table_basics(void) {
    wp_store *s = NULL;
    wp_err err;
    CHECK_EQ(wp_store_new(NULL, &s, &err), WP_OK);
    wp_table *t = NULL;
    CHECK_EQ(wp_table_new(s, (wp_tabletype){WP_FUNCREF, {3, 5, true}}, &t, &err), WP_OK);
    wp_tabletype tt = wp_table_type(t);
    CHECK_EQ(tt.elem, WP_FUNCREF);
    CHECK_EQ(tt.limits.min, 3);
    CHECK_EQ(tt.limits.max, 5);
    CHECK(tt.limits.has_max);
    wp_val v;
    CHECK(wp_table_get(t, 2, &v));
    CHECK_EQ(v.type, WP_FUNCREF);
    CHECK(v.of.func == NULL); /* new elements are null */
    CHECK(!wp_table_get(t, 3, &v));

    wp_func *fake = (wp_func *)(uintptr_t)0x40;
    CHECK(wp_table_set(t, 1, (wp_val){.type = WP_FUNCREF, .of.func = fake}));
    CHECK(wp_table_get(t, 1, &v));
    CHECK(v.of.func == fake);
    CHECK(!wp_table_set(t, 3, (wp_val){.type = WP_FUNCREF, .of.func = fake}));
    CHECK(!wp_table_set(t, 0, (wp_val){.type = WP_EXTERNREF, .of.ext = fake}));
    CHECK(wp_table_get(t, 0, &v) && v.of.func == NULL);

    CHECK_EQ(wp__table_grow(t, 0, NULL), 3);
    CHECK_EQ(wp__table_grow(t, 2, fake), 3);
    CHECK_EQ(wp_table_type(t).limits.min, 5);
    CHECK(wp_table_get(t, 4, &v) && v.of.func == fake);
    CHECK(wp_table_get(t, 1, &v) && v.of.func == fake); /* kept across growth */
    CHECK_EQ(wp__table_grow(t, 1, NULL), -1);           /* past the declared max */
    CHECK_EQ(wp__table_grow(t, UINT32_MAX, NULL), -1);
    CHECK_EQ(wp__table_grow(t, 0, NULL), 5);
    CHECK_EQ(wp_table_type(t).limits.min, 5);

    wp_table *e = NULL;
    CHECK_EQ(wp_table_new(s, (wp_tabletype){WP_EXTERNREF, {0, 0, false}}, &e, &err), WP_OK);
    CHECK(!wp_table_get(e, 0, &v));
    int x;
    CHECK_EQ(wp__table_grow(e, 1, &x), 0);
    CHECK(wp_table_get(e, 0, &v) && v.type == WP_EXTERNREF && v.of.ext == &x);
    wp_store_free(s);
}

static void test_table_errors(void) {
    wp_store_config cfg = {.max_table_elems = 100};
    wp_store *s = NULL;
    wp_err err;
    CHECK_EQ(wp_store_new(&cfg, &s, &err), WP_OK);
    wp_table *t = NULL;
    CHECK_EQ(wp_table_new(s, (wp_tabletype){WP_I32, {1, 0, false}}, &t, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "reference type");
    CHECK_EQ(wp_table_new(s, (wp_tabletype){WP_FUNCREF, {4, 3, true}}, &t, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "minimum must not be greater than maximum");
    CHECK_EQ(wp_table_new(s, (wp_tabletype){WP_FUNCREF, {101, 0, false}}, &t, &err),
             WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "exceeds the store's limit of 100");
    CHECK_EQ(s->heap.used, sizeof(wp_store));

    /* Growth by one at a time reaches the store's limit, then stops. */
    CHECK_EQ(wp_table_new(s, (wp_tabletype){WP_FUNCREF, {0, 0, false}}, &t, &err), WP_OK);
    for (uint32_t i = 0; i < 100; i++)
        CHECK_EQ(wp__table_grow(t, 1, NULL), i);
    CHECK_EQ(wp__table_grow(t, 1, NULL), -1);
    CHECK_EQ(t->size, 100);
    CHECK(t->cap <= 100);

    /* Out of memory: creating fails cleanly (struct, then elements), growing returns -1. */
    fail_heap fh;
    size_t used = s->heap.used;
    for (long k = 0; k < 2; k++) {
        install_failing(s, &fh, k);
        CHECK_EQ(wp_table_new(s, (wp_tabletype){WP_FUNCREF, {8, 0, false}}, &t, &err),
                 WP_ERR_NOMEM);
        CHECK_EQ(s->heap.used, used);
    }
    install_failing(s, &fh, -1);
    CHECK_EQ(wp_table_new(s, (wp_tabletype){WP_FUNCREF, {2, 0, false}}, &t, &err), WP_OK);
    t->elems[1] = t;
    install_failing(s, &fh, 0);
    CHECK_EQ(wp__table_grow(t, 10, NULL), -1);
    CHECK_EQ(t->size, 2);
    CHECK(t->elems[1] == t);
    wp_store_free(s);
}

static wp_table *filled_table(wp_store *s, uint32_t n) {
    wp_table *t = NULL;
    wp_err err;
    CHECK_EQ(wp_table_new(s, (wp_tabletype){WP_EXTERNREF, {n, 0, false}}, &t, &err), WP_OK);
    for (uint32_t i = 0; i < n; i++)
        t->elems[i] = (void *)(uintptr_t)(i + 1);
    return t;
}

static uintptr_t at(const wp_table *t, uint32_t i) { return (uintptr_t)t->elems[i]; }

static void test_table_bulk(void) {
    wp_store *s = NULL;
    wp_err err;
    CHECK_EQ(wp_store_new(NULL, &s, &err), WP_OK);
    wp_table *t = filled_table(s, 8);
    void *z = (void *)(uintptr_t)99;

    CHECK(wp__table_fill(t, 6, z, 2));
    CHECK_EQ(at(t, 5), 6);
    CHECK_EQ(at(t, 6), 99);
    CHECK_EQ(at(t, 7), 99);
    CHECK(wp__table_fill(t, 8, z, 0));  /* n = 0 at the very end */
    CHECK(!wp__table_fill(t, 9, z, 0)); /* past the end, even for n = 0 */
    CHECK(!wp__table_fill(t, 5, z, 4)); /* partly out: nothing written */
    CHECK_EQ(at(t, 5), 6);
    CHECK(!wp__table_fill(t, UINT32_MAX, z, 2)); /* would wrap in 32 bits */

    /* Overlapping copies, forwards and backwards. */
    wp_table *u = filled_table(s, 8);
    CHECK(wp__table_copy(u, 2, u, 0, 4));
    CHECK_EQ(at(u, 2), 1);
    CHECK_EQ(at(u, 5), 4);
    CHECK_EQ(at(u, 6), 7);
    wp_table *w = filled_table(s, 8);
    CHECK(wp__table_copy(w, 0, w, 3, 5));
    CHECK_EQ(at(w, 0), 4);
    CHECK_EQ(at(w, 4), 8);
    CHECK_EQ(at(w, 5), 6);
    CHECK(wp__table_copy(w, 8, t, 8, 0));
    CHECK(!wp__table_copy(w, 9, t, 0, 0));
    CHECK(!wp__table_copy(w, 0, t, 9, 0));
    CHECK(!wp__table_copy(w, 0, t, 7, 2));
    CHECK(!wp__table_copy(w, 7, t, 0, 2));
    CHECK(!wp__table_copy(w, 1, t, 0, UINT32_MAX));
    CHECK_EQ(at(w, 1), 5); /* untouched by the failures */

    /* Copy between tables of different sizes. */
    wp_table *small = filled_table(s, 2);
    CHECK(wp__table_copy(t, 0, small, 0, 2));
    CHECK_EQ(at(t, 1), 2);
    CHECK(!wp__table_copy(small, 0, t, 0, 3));

    void *items[3] = {(void *)(uintptr_t)10, (void *)(uintptr_t)11, (void *)(uintptr_t)12};
    wp_table *v = filled_table(s, 4);
    CHECK(wp__table_init(v, 2, items, 3, 1, 2));
    CHECK_EQ(at(v, 1), 2);
    CHECK_EQ(at(v, 2), 11);
    CHECK_EQ(at(v, 3), 12);
    CHECK(wp__table_init(v, 4, items, 3, 3, 0)); /* both at their ends */
    CHECK(!wp__table_init(v, 0, items, 3, 4, 0)); /* source past its end */
    CHECK(!wp__table_init(v, 5, items, 3, 0, 0)); /* table past its end */
    CHECK(!wp__table_init(v, 0, items, 3, 2, 2));
    CHECK(!wp__table_init(v, 3, items, 3, 0, 2));
    CHECK(!wp__table_init(v, 0, items, 3, UINT32_MAX, 2));
    CHECK(wp__table_init(v, 0, NULL, 0, 0, 0));
    CHECK_EQ(at(v, 0), 1);
    wp_store_free(s);
}

int main(void) {
    RUN_TEST(test_store_defaults);
    RUN_TEST(test_store_frees_objects);
    RUN_TEST(test_store_heap_limit);
    RUN_TEST(test_host_func);
    RUN_TEST(test_globals);
    RUN_TEST(test_slots);
    RUN_TEST(test_table_basics);
    RUN_TEST(test_table_errors);
    RUN_TEST(test_table_bulk);
    return TEST_EXIT();
}
