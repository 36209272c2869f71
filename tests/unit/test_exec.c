/* test_exec.c: the compiler and interpreter through the public API: numerics, control flow,
 * traps and their messages, host calls (pending, trap, exit, nested), budgets, fuel, limits,
 * cross-instance calls and the exec's life cycle. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/wasm/internal.h"
#include "test.h"

/* ---- Helpers ---------------------------------------------------------------------------- */

typedef struct env {
    wp_module *m;
    wp_store *s;
    wp_instance *inst;
    wp_exec *x;
} env;

static uint32_t f32b(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static uint64_t f64b(double d) {
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

/* Appends a name section naming functions 0..n-1 (NULL: no name) to a module binary. */
static unsigned char *with_names(unsigned char *bytes, size_t *len, const char *const *names,
                                 uint32_t n) {
    unsigned char sub[1024];
    size_t k = 0;
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++)
        count += names[i] != NULL;
    sub[k++] = (unsigned char)count;
    for (uint32_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        sub[k++] = (unsigned char)i;
        sub[k++] = (unsigned char)strlen(names[i]);
        memcpy(sub + k, names[i], strlen(names[i]));
        k += strlen(names[i]);
    }
    /* custom section: id 0, size, "name", subsection 1 (function names), size, payload; the
     * sizes as two-byte LEB128 */
    size_t total = 1 + 4 + 1 + 2 + k;
    unsigned char head[] = {0,
                            (unsigned char)((total & 0x7f) | 0x80),
                            (unsigned char)(total >> 7),
                            4,
                            'n',
                            'a',
                            'm',
                            'e',
                            1,
                            (unsigned char)((k & 0x7f) | 0x80),
                            (unsigned char)(k >> 7)};
    unsigned char *out = realloc(bytes, *len + sizeof head + k);
    if (!out)
        return NULL;
    memcpy(out + *len, head, sizeof head);
    memcpy(out + *len + sizeof head, sub, k);
    *len += sizeof head + k;
    return out;
}

static bool setup_named(env *e, const char *fixture, const wp_store_config *cfg,
                        const wp_extern *imports, uint32_t nimports, const char *const *names,
                        uint32_t nnames) {
    memset(e, 0, sizeof *e);
    wp_err err;
    size_t len = 0;
    unsigned char *bytes = test_fixture(fixture, &len);
    CHECK(bytes != NULL);
    if (bytes && names)
        bytes = with_names(bytes, &len, names, nnames);
    if (!bytes)
        return false;
    wp_status st = wp_module_decode(bytes, len, &e->m, &err);
    free(bytes);
    if (st != WP_OK) {
        fprintf(stderr, "%s: %s\n", fixture, err.msg);
        CHECK_EQ(st, WP_OK);
        return false;
    }
    CHECK_EQ(wp_store_new(cfg, &e->s, &err), WP_OK);
    st = wp_instance_new(e->s, e->m, imports, nimports, &e->inst, &err);
    if (st != WP_OK) {
        fprintf(stderr, "%s: %s\n", fixture, err.msg);
        CHECK_EQ(st, WP_OK);
        return false;
    }
    CHECK_EQ(wp_exec_new(e->s, &e->x, &err), WP_OK);
    return true;
}

static bool setup(env *e, const char *fixture, const wp_store_config *cfg) {
    return setup_named(e, fixture, cfg, NULL, 0, NULL, 0);
}

static void teardown(env *e) {
    wp_store_free(e->s);
    wp_module_free(e->m);
}

static wp_func *fn(const env *e, const char *name) {
    wp_extern ex;
    bool found = wp_instance_export(e->inst, name, strlen(name), &ex);
    CHECK(found && ex.kind == WP_EXTERN_FUNC);
    return found ? ex.of.func : NULL;
}

/* Calls an export; on a trap fills *trap (if given) and returns WP_ERR_TRAP. */
static wp_status call(const env *e, const char *name, const wp_val *args, uint32_t nargs,
                      wp_val *res, uint32_t nres, wp_trap *trap) {
    wp_err err;
    wp_func *f = fn(e, name);
    if (!f)
        return WP_ERR_NOT_FOUND;
    return wp_call(e->x, f, args, nargs, res, nres, trap, &err);
}

static uint64_t call1(const env *e, const char *name, wp_val a) {
    wp_val r = {0};
    wp_status st = call(e, name, &a, 1, &r, 1, NULL);
    CHECK_EQ(st, WP_OK);
    return r.of.i64 & (r.type == WP_I32 || r.type == WP_F32 ? 0xffffffffu : UINT64_MAX);
}

static uint64_t call2(const env *e, const char *name, wp_val a, wp_val b) {
    wp_val args[2] = {a, b};
    wp_val r = {0};
    wp_status st = call(e, name, args, 2, &r, 1, NULL);
    CHECK_EQ(st, WP_OK);
    return r.of.i64 & (r.type == WP_I32 || r.type == WP_F32 ? 0xffffffffu : UINT64_MAX);
}

static wp_val i32(int64_t v) { return wp_val_i32((uint32_t)v); }
static wp_val i64(int64_t v) { return wp_val_i64((uint64_t)v); }
static wp_val f32(float v) { return wp_val_f32(f32b(v)); }
static wp_val f64(double v) { return wp_val_f64(f64b(v)); }

/* Expects a trap whose message starts with 'text' and names the function 'where'. */
static void expect_trap(const env *e, const char *name, const wp_val *args, uint32_t nargs,
                        uint32_t nres, wp_trap_kind kind, const char *text) {
    wp_val res[2];
    wp_trap trap;
    memset(&trap, 0, sizeof trap);
    CHECK_EQ(call(e, name, args, nargs, res, nres, &trap), WP_ERR_TRAP);
    CHECK_EQ(trap.kind, kind);
    CHECK(strncmp(trap.msg, text, strlen(text)) == 0);
    if (strncmp(trap.msg, text, strlen(text)) != 0)
        fprintf(stderr, "  %s: got \"%s\", expected \"%s...\"\n", name, trap.msg, text);
}

/* ---- Numerics --------------------------------------------------------------------------- */

static void test_integer_edges(void) {
    env e;
    if (!setup(&e, "exec_arith", NULL))
        return;
    CHECK_EQ(call2(&e, "div_s", i32(-7), i32(2)), (uint32_t)-3);
    CHECK_EQ(call2(&e, "rem_s", i32(-7), i32(2)), (uint32_t)-1);
    CHECK_EQ(call2(&e, "rem_s", i32(INT32_MIN), i32(-1)), 0);
    CHECK_EQ(call2(&e, "div_u64", i64(-1), i64(2)), UINT64_MAX / 2);
    CHECK_EQ(call2(&e, "rem_s64", i64(INT64_MIN), i64(-1)), 0);
    CHECK_EQ(call2(&e, "shr_s", i32(-16), i32(34)), (uint32_t)-4); /* shift count mod 32 */
    CHECK_EQ(call1(&e, "shl_const", i32(3)), 6);
    CHECK_EQ(call2(&e, "rotl", i32(0x80000001), i32(1)), 3);
    CHECK_EQ(call2(&e, "rotr64", i64(1), i64(65)), 0x8000000000000000ull);
    CHECK_EQ(call1(&e, "clz", i32(1)), 31);
    CHECK_EQ(call1(&e, "clz", i32(0)), 32);
    CHECK_EQ(call1(&e, "ctz", i32(0x80)), 7);
    CHECK_EQ(call1(&e, "ctz", i32(0)), 32);
    CHECK_EQ(call1(&e, "popcnt", i32(0xff00ff)), 16);
    CHECK_EQ(call1(&e, "clz64", i64(0x100000000ll)), 31);
    CHECK_EQ(call1(&e, "ctz64", i64(0)), 64);
    CHECK_EQ(call1(&e, "popcnt64", i64(-1)), 64);
    CHECK_EQ(call1(&e, "lt_s_const", i32(-4)), 1);
    CHECK_EQ(call1(&e, "lt_s_const", i32(-6)), 0);
    CHECK_EQ(call1(&e, "sub_from_const", i32(3)), 7);
    CHECK_EQ(call1(&e, "extend8", i32(0x80)), 0xffffff80u);
    CHECK_EQ(call1(&e, "extend_u", i32(-1)), 0xffffffffull);
    CHECK_EQ(call1(&e, "extend_s", i32(-1)), UINT64_MAX);
    CHECK_EQ(call1(&e, "wrap", i64(0x1234567890ll)), 0x34567890u);
    CHECK_EQ(call1(&e, "wrap_eqz", i64(0x100000000ll)), 1);
    teardown(&e);
}

static void test_float_edges(void) {
    env e;
    if (!setup(&e, "exec_arith", NULL))
        return;
    CHECK_EQ(call2(&e, "fmin", f32(0.0f), f32(-0.0f)), 0x80000000u);
    CHECK_EQ(call2(&e, "fmin", f32(-0.0f), f32(0.0f)), 0x80000000u);
    CHECK_EQ(call2(&e, "fmax64", f64(-0.0), f64(0.0)), 0);
    uint64_t nan = call2(&e, "fmax64", f64(1.0), wp_val_f64(0x7ff0000000000001ull));
    CHECK((nan & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (nan << 12) != 0);
    CHECK((nan & 0x0008000000000000ull) != 0); /* quieted */
    CHECK_EQ(call1(&e, "nearest", f64(2.5)), f64b(2.0));
    CHECK_EQ(call1(&e, "nearest", f64(3.5)), f64b(4.0));
    CHECK_EQ(call1(&e, "nearest", f64(-0.5)), f64b(-0.0));
    CHECK_EQ(call1(&e, "nearest32", f32(-1.5f)), f32b(-2.0f));
    /* A signalling NaN comes back quiet, with its payload. */
    CHECK_EQ(call1(&e, "floor32", wp_val_f32(0x7fa00000u)), 0x7fe00000u);
    /* Sign operations touch only the sign bit, even of a NaN. */
    CHECK_EQ(call1(&e, "neg64", wp_val_f64(0x7ff4000000000001ull)), 0xfff4000000000001ull);
    CHECK_EQ(call1(&e, "abs32", wp_val_f32(0xffa00001u)), 0x7fa00001u);
    CHECK_EQ(call2(&e, "copysign64", f64(3.0), f64(-0.0)), f64b(-3.0));
    CHECK_EQ(call1(&e, "sat_s64", f64(1e30)), (uint64_t)INT64_MAX);
    CHECK_EQ(call1(&e, "sat_s64", f64(-1e30)), (uint64_t)INT64_MIN);
    CHECK_EQ(call1(&e, "sat_s64", wp_val_f64(0x7ff8000000000000ull)), 0);
    CHECK_EQ(call1(&e, "sat_u32", f32(-3.5f)), 0);
    CHECK_EQ(call1(&e, "sat_u32", f32(5e9f)), 0xffffffffu);
    CHECK_EQ(call1(&e, "sat_u32", f32(7.9f)), 7);
    CHECK_EQ(call1(&e, "trunc_u32", f64(-0.9)), 0);
    CHECK_EQ(call1(&e, "trunc_u32", f64(4294967295.5)), 0xffffffffu);
    CHECK_EQ(call1(&e, "u64_to_f32", i64(-1)), 0x5f800000u); /* 2^64, rounded once */
    CHECK_EQ(call1(&e, "u32_to_f64", i32(-1)), f64b(4294967295.0));
    CHECK_EQ(call1(&e, "demote", f64(1e300)), f32b((float)INFINITY));
    teardown(&e);
}

/* ---- Control flow and the compiler's register allocation -------------------------------- */

static void test_multi_value(void) {
    env e;
    if (!setup(&e, "exec_flow", NULL))
        return;
    wp_val args[3] = {i32(1), i32(2), i32(3)};
    wp_val r[3];
    CHECK_EQ(call(&e, "swap", args, 2, r, 2, NULL), WP_OK);
    CHECK_EQ(r[0].of.i32, 2);
    CHECK_EQ(r[1].of.i32, 1);
    CHECK_EQ(call(&e, "rot3", args, 3, r, 3, NULL), WP_OK);
    CHECK_EQ(r[0].of.i32, 3);
    CHECK_EQ(r[1].of.i32, 1);
    CHECK_EQ(r[2].of.i32, 2);
    wp_val bp[2] = {i32(0), i32(9)};
    CHECK_EQ(call(&e, "block_params", bp, 2, r, 2, NULL), WP_OK);
    CHECK_EQ(r[0].of.i32, 0); /* br_if carried the params out unchanged */
    CHECK_EQ(r[1].of.i32, 9);
    bp[0] = i32(4);
    CHECK_EQ(call(&e, "block_params", bp, 2, r, 2, NULL), WP_OK);
    CHECK_EQ(r[0].of.i32, 13);
    CHECK_EQ(r[1].of.i32, 7);
    CHECK_EQ(call(&e, "call_multi", NULL, 0, r, 1, NULL), WP_OK);
    CHECK_EQ(r[0].of.i32, (uint32_t)(1 + (2 - 3) * 10));
    teardown(&e);
}

static void test_locals_and_stack(void) {
    env e;
    if (!setup(&e, "exec_flow", NULL))
        return;
    CHECK_EQ(call1(&e, "old_value", i32(5)), (uint32_t)(5 - 105));
    CHECK_EQ(call1(&e, "tee_twice", i32(4)), 24);
    CHECK_EQ(call1(&e, "loop_param_sum", i32(10)), 55);
    CHECK_EQ(call2(&e, "if_param", i32(1), i32(21)), 42);
    CHECK_EQ(call2(&e, "if_param", i32(0), i32(21)), 20);
    CHECK_EQ(call2(&e, "select_const", i32(30), i32(12)), 42);
    wp_val sel[3] = {i32(7), i32(8), i32(0)};
    wp_val r;
    CHECK_EQ(call(&e, "select", sel, 3, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.i32, 8);
    sel[2] = i32(0x100); /* any non-zero i32 picks the first */
    CHECK_EQ(call(&e, "select", sel, 3, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.i32, 7);
    CHECK_EQ(call1(&e, "zero_in_loop", i32(4)), 15);
    teardown(&e);
}

static void test_branches(void) {
    env e;
    if (!setup(&e, "exec_flow", NULL))
        return;
    CHECK_EQ(call1(&e, "table_vals", i32(0)), 1000);
    CHECK_EQ(call1(&e, "table_vals", i32(1)), 1103);
    CHECK_EQ(call1(&e, "table_vals", i32(5)), 15);
    CHECK_EQ(call1(&e, "table_vals", i32(-1)), (uint32_t)-3); /* index beyond: default */
    CHECK_EQ(call1(&e, "table_loop", i32(5)), 5);
    CHECK_EQ(call1(&e, "count_down", i32(10)), 5);
    CHECK_EQ(call1(&e, "count_down", i32(-3)), 0);
    CHECK_EQ(call1(&e, "count64", i64(0)), 1);
    CHECK_EQ(call1(&e, "count64", i64(255)), 8);
    CHECK_EQ(call1(&e, "count64", i64(-1)), 64);
    CHECK_EQ(call1(&e, "fib", i32(20)), 6765);
    CHECK_EQ(call2(&e, "indirect", i32(0), i32(10)), 55);
    teardown(&e);
}

static void test_fused_forms(void) {
    env e;
    if (!setup(&e, "exec_flow", NULL))
        return;
    CHECK_EQ(call1(&e, "count_up", i32(10)), 45);
    CHECK_EQ(call1(&e, "count_up", i32(0)), 0); /* the body runs once: 0 + 0 */
    CHECK_EQ(call1(&e, "count_down_nz", i32(7)), 14);
    CHECK_EQ(call2(&e, "count_up64", i64(100), i64(7)), 15);
    /* The same loops with a tiny budget: a stopped fused add-and-branch must not add twice. */
    static const char *const loops[] = {"count_up", "count_down_nz"};
    static const uint32_t expect[] = {45, 14};
    for (int k = 0; k < 2; k++) {
        wp_err err;
        wp_val a = i32(k == 0 ? 10 : 7);
        CHECK_EQ(wp_exec_begin(e.x, fn(&e, loops[k]), &a, 1, &err), WP_OK);
        int slices = 0;
        while (wp_exec_run(e.x, 1) == WP_RUN_BUDGET)
            slices++;
        CHECK(slices >= 5);
        wp_val r;
        CHECK_EQ(wp_exec_results(e.x, &r, 1), 1);
        CHECK_EQ(r.of.i32, expect[k]);
    }
    wp_val args64[2] = {i64(100), i64(7)};
    wp_err err;
    CHECK_EQ(wp_exec_begin(e.x, fn(&e, "count_up64"), args64, 2, &err), WP_OK);
    while (wp_exec_run(e.x, 2) == WP_RUN_BUDGET)
        ;
    wp_val r;
    CHECK_EQ(wp_exec_results(e.x, &r, 1), 1);
    CHECK_EQ(r.of.i64, 15);

    /* 0.1 * 3 rounds before adding -0.3: a fused multiply-add would give 2^-56 * ... */
    wp_val m[3] = {f64(0.1), f64(3.0), f64(-0.3)};
    CHECK_EQ(call(&e, "madd", m, 3, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.f64, f64b(0.1 * 3.0 + -0.3));
    m[2] = f64(0.3);
    CHECK_EQ(call(&e, "msub", m, 3, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.f64, f64b(0.1 * 3.0 - 0.3));
    CHECK_EQ(call(&e, "nmsub", m, 3, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.f64, f64b(0.3 - 0.1 * 3.0));
    wp_val m32[3] = {f32(0.1f), f32(3.0f), f32(-0.3f)};
    CHECK_EQ(call(&e, "madd32", m32, 3, &r, 1, NULL), WP_OK);
    volatile float p32 = 0.1f * 3.0f; /* rounded to float before the add, as wasm does */
    CHECK_EQ(r.of.f32, f32b(p32 + -0.3f));

    CHECK_EQ(call2(&e, "rmw", i32(5), i32(1000)), (uint32_t)((1000 - 105) * 1000 + (7 - 1000)));
    CHECK_EQ(call1(&e, "rmw_f64", f64(4.0)), f64b(6.0));
    CHECK_EQ(call2(&e, "copy8", i32(300), i32(8)), 0x0807060504030201ull);
    /* bytes 16, 17 to 500, 501; bytes 17, 18 to 400, 401 */
    CHECK_EQ(call2(&e, "copy_bytes", i32(500), i32(16)), 0x03020201u);
    /* overlapping: each byte copy sees the one before */
    CHECK_EQ(call2(&e, "copy_bytes", i32(17), i32(16)), 0x01010101u);
    wp_val oob[2] = {i32(65536 - 4), i32(16)};
    expect_trap(&e, "copy_oob", oob, 2, 0, WP_TRAP_MEMORY_OOB, "out of bounds memory access");
    oob[0] = i32(0);
    oob[1] = i32(-1);
    expect_trap(&e, "copy_oob", oob, 2, 0, WP_TRAP_MEMORY_OOB, "out of bounds memory access");
    CHECK_EQ(call2(&e, "store_after_add", i32(600), i32(-3)), 9);
    CHECK_EQ(call2(&e, "mul16", i32(5), i32(0)), (uint32_t)(5 * -2 + -2));
    /* address = 8 + mem[0] (4) = 12 gets mem[4]'s low byte; a wrong fusion would add the
     * value's byte to the address instead */
    CHECK_EQ(call2(&e, "store_clobber", i32(8), i32(0)), 0x44);
    teardown(&e);
}

/* Writes a double or float at 'at' in e's memory 0. */
static void poke64(const env *e, uint32_t at, double v) {
    CHECK(wp_memory_write(wp_instance_memory(e->inst), at, &v, 8));
}

static void poke32(const env *e, uint32_t at, float v) {
    CHECK(wp_memory_write(wp_instance_memory(e->inst), at, &v, 4));
}

static uint64_t call3(const env *e, const char *name, wp_val a, wp_val b, wp_val c) {
    wp_val args[3] = {a, b, c};
    wp_val r = {0};
    CHECK_EQ(call(e, name, args, 3, &r, 1, NULL), WP_OK);
    return r.of.i64 & (r.type == WP_I32 || r.type == WP_F32 ? 0xffffffffu : UINT64_MAX);
}

static void test_madd_rmw(void) {
    env e;
    if (!setup(&e, "exec_fuse", NULL))
        return;
    /* 0.1 * 3 is rounded before -0.3 is added (a fused multiply-add would not round it). */
    volatile double p = 0.1 * 3.0;
    poke64(&e, 64, -0.3);
    CHECK_EQ(call3(&e, "madd_rmw", i32(64), f64(0.1), f64(3.0)), f64b(p + -0.3));
    poke64(&e, 64, -0.3);
    poke64(&e, 128, 3.0);
    CHECK_EQ(call3(&e, "madd_rmw_m", i32(64), f64(0.1), i32(128)), f64b(p + -0.3));
    poke64(&e, 64, -0.3);
    poke64(&e, 136, 3.0);
    CHECK_EQ(call3(&e, "madd_rmw_mi", i32(64), f64(0.1), i32(128)), f64b(p + -0.3));
    /* The address plus 8 wraps around 2^32 before the offset, as the unfused load does. */
    poke64(&e, 64, 1.0);
    poke64(&e, 0, 2.0);
    CHECK_EQ(call3(&e, "madd_rmw_mi", i32(64), f64(5.0), i32(-8)), f64b(11.0));
    volatile float p32 = 0.1f * 3.0f;
    poke32(&e, 64, -0.3f);
    CHECK_EQ(call3(&e, "madd_rmw32", i32(64), f32(0.1f), f32(3.0f)), f32b(p32 + -0.3f));
    poke32(&e, 64, -0.3f);
    poke32(&e, 132, 3.0f);
    CHECK_EQ(call3(&e, "madd_rmw32_mi", i32(64), f32(0.1f), i32(128)), f32b(p32 + -0.3f));
    /* A product also kept in a local is not folded away: (2 * 3) + (6 + 1). */
    poke64(&e, 64, 1.0);
    CHECK_EQ(call3(&e, "madd_rmw_tee", i32(64), f64(2.0), f64(3.0)), f64b(13.0));
    /* Either access out of bounds traps, and then nothing was stored. */
    wp_val args[3] = {i32(65536 - 4), f64(1.0), f64(1.0)};
    expect_trap(&e, "madd_rmw", args, 3, 1, WP_TRAP_MEMORY_OOB,
                "out of bounds memory access in func 0");
    poke64(&e, 64, 7.0);
    wp_val args_m[3] = {i32(64), f64(1.0), i32(65536 - 4)};
    expect_trap(&e, "madd_rmw_m", args_m, 3, 1, WP_TRAP_MEMORY_OOB,
                "out of bounds memory access in func 1");
    args_m[2] = i32(65536 - 12);
    expect_trap(&e, "madd_rmw_mi", args_m, 3, 1, WP_TRAP_MEMORY_OOB,
                "out of bounds memory access in func 2");
    double left = 0;
    CHECK(wp_memory_read(wp_instance_memory(e.inst), 64, &left, 8));
    CHECK(left == 7.0);
    args_m[0] = i32(-1);
    args_m[2] = i32(128);
    expect_trap(&e, "madd_rmw_m", args_m, 3, 1, WP_TRAP_MEMORY_OOB,
                "out of bounds memory access in func 1");
    teardown(&e);
}

static void test_const_first_and_rmw_const(void) {
    env e;
    if (!setup(&e, "exec_fuse", NULL))
        return;
    CHECK_EQ(call1(&e, "rsub32", i32(3)), 7);
    CHECK_EQ(call1(&e, "rsub32", i32(11)), (uint32_t)-1);
    CHECK_EQ(call1(&e, "rsub64", i64(5)), (uint64_t)-6);
    CHECK_EQ(call1(&e, "rsubf32", f32(0.0f)), f32b(0.0f)); /* 0 - 0 is +0, not a negation */
    CHECK_EQ(call1(&e, "rsubf32", f32(2.5f)), f32b(-2.5f));
    CHECK_EQ(call1(&e, "rsubf64", f64(0.25)), f64b(1.25));
    CHECK_EQ(call1(&e, "rdivf32", f32(4.0f)), f32b(0.25f));
    CHECK_EQ(call1(&e, "rdivf32", f32(-0.0f)), f32b(-INFINITY));
    CHECK_EQ(call1(&e, "rdivf64", f64(2.0)), f64b(-1.5));
    /* mem[32] = 5 + 4; mem[36] = 9 + 4 */
    uint32_t five = 5;
    CHECK(wp_memory_write(wp_instance_memory(e.inst), 32, &five, 4));
    CHECK_EQ(call1(&e, "rmw_const", i32(4)), 9 + 13 * 1000);
    teardown(&e);
}

static void test_pairs(void) {
    env e;
    if (!setup(&e, "exec_fuse", NULL))
        return;
    /* 3 + 4 before the loop, then the loop's own two adds until the first reaches 100. */
    uint32_t sum = 4;
    uint32_t rounds = 0;
    do {
        sum += 3;
        rounds++;
    } while (sum < 100);
    CHECK_EQ(call2(&e, "pair_entry", i32(3), i32(4)), sum + rounds * 1000 + 7 * 1000000);
    CHECK_EQ(call1(&e, "pair_budget", i32(1)), 151);
    /* A budget of one reduction stops at the branch after the pair's first add each time. */
    wp_err err;
    wp_val a = i32(2);
    CHECK_EQ(wp_exec_begin(e.x, fn(&e, "pair_budget"), &a, 1, &err), WP_OK);
    int slices = 0;
    while (wp_exec_run(e.x, 1) == WP_RUN_BUDGET)
        slices++;
    CHECK(slices >= 20);
    wp_val r;
    CHECK_EQ(wp_exec_results(e.x, &r, 1), 1);
    CHECK_EQ(r.of.i32, 152);
    teardown(&e);
}

static void test_memory_access(void) {
    env e;
    if (!setup(&e, "exec_flow", NULL))
        return;
    wp_val r;
    CHECK_EQ(call(&e, "const_addr", NULL, 0, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.i32, 13);
    /* 0xfffffff0 + 0x20 wraps to 0x10 before the offset: byte 0x11 holds 2. */
    CHECK_EQ(call1(&e, "wrap_addr", i32(0xfffffff0)), 2);
    CHECK_EQ(call2(&e, "add_addr_store", i32(200), i32(0x1234)), 0x1234);
    CHECK_EQ(call2(&e, "add_addr_store", i32(-0x100), i32(0x2345)), 0x2345);
    CHECK_EQ(call2(&e, "mem_operand", i32(16), i64(1)), 0x0807060504030202ull);
    CHECK_EQ(call2(&e, "mem_operand2", i32(16), f64(2.0)), f64b(2.0 * 5.447603722011605e-270));
    wp_val oob[2] = {i32(65536 - 4), i64(0)};
    expect_trap(&e, "mem_operand", oob, 2, 1, WP_TRAP_MEMORY_OOB, "out of bounds memory access");
    CHECK_EQ(call1(&e, "grow_and_touch", i32(3)), 77);
    wp_extern mem;
    CHECK(wp_instance_export(e.inst, "grow_and_touch", 14, &mem));
    CHECK_EQ(wp_memory_size(wp_instance_memory(e.inst)), 4 * WP_PAGE_SIZE);
    teardown(&e);
}

/* ---- Traps ------------------------------------------------------------------------------ */

static const char *const trap_names[] = {
    "unreachable", "div_zero", NULL, "rem_zero", "oob_load", "oob_store", "oob_fill",
    "table_oob", "undefined", "mismatch", "bad_conv", "conv_overflow", "deep", "forever", "wide",
    "spin"};

static bool setup_traps(env *e, const wp_store_config *cfg) {
    return setup_named(e, "exec_traps", cfg, NULL, 0, trap_names, WP_ARRAY_LEN(trap_names));
}

static void test_trap_kinds(void) {
    env e;
    if (!setup_traps(&e, NULL))
        return;
    wp_val a;
    expect_trap(&e, "unreachable", NULL, 0, 0, WP_TRAP_UNREACHABLE,
                "unreachable in function 'unreachable' (func 0)");
    a = i32(0);
    expect_trap(&e, "div_zero", &a, 1, 1, WP_TRAP_DIV_ZERO,
                "integer divide by zero in function 'div_zero' (func 1)");
    a = i32(INT32_MIN);
    expect_trap(&e, "overflow", &a, 1, 1, WP_TRAP_INT_OVERFLOW, "integer overflow in func 2");
    a = i64(0);
    expect_trap(&e, "rem_zero", &a, 1, 1, WP_TRAP_DIV_ZERO,
                "integer divide by zero in function 'rem_zero'");
    a = i32(65536 - 11);
    expect_trap(&e, "oob_load", &a, 1, 1, WP_TRAP_MEMORY_OOB,
                "out of bounds memory access in function 'oob_load' (func 4)");
    CHECK_EQ(call1(&e, "oob_load", i32(65536 - 12)), 0); /* the last 4 bytes are in bounds */
    a = i32(-1);
    expect_trap(&e, "oob_store", &a, 1, 0, WP_TRAP_MEMORY_OOB,
                "out of bounds memory access in function 'oob_store'");
    a = i32(65536 - 15);
    expect_trap(&e, "oob_fill", &a, 1, 0, WP_TRAP_MEMORY_OOB,
                "out of bounds memory access in function 'oob_fill'");
    a = i32(4);
    expect_trap(&e, "table_oob", &a, 1, 1, WP_TRAP_TABLE_OOB,
                "out of bounds table access in function 'table_oob'");
    a = i32(9);
    expect_trap(&e, "undefined", &a, 1, 0, WP_TRAP_UNDEFINED_ELEMENT,
                "undefined element 9 in function 'undefined'");
    a = i32(2);
    expect_trap(&e, "undefined", &a, 1, 0, WP_TRAP_UNINITIALIZED_ELEMENT,
                "uninitialized element 2 in function 'undefined'");
    a = i32(0); /* the callee traps: the message names it, not the caller */
    expect_trap(&e, "undefined", &a, 1, 0, WP_TRAP_UNREACHABLE,
                "unreachable in function 'unreachable'");
    expect_trap(&e, "mismatch", &a, 1, 1, WP_TRAP_INDIRECT_TYPE,
                "indirect call type mismatch in function 'mismatch'");
    CHECK_EQ(call1(&e, "mismatch", i32(1)), 0); /* div_zero(3) = 1 / 3 */
    a = wp_val_f32(0x7fc00000u);
    expect_trap(&e, "bad_conv", &a, 1, 1, WP_TRAP_INVALID_CONVERSION,
                "invalid conversion to integer in function 'bad_conv'");
    a = f32(2147483648.0f);
    expect_trap(&e, "bad_conv", &a, 1, 1, WP_TRAP_INT_OVERFLOW, "integer overflow");
    CHECK_EQ(call1(&e, "bad_conv", f32(-2147483648.0f)), 0x80000000u);
    a = f64(-1.0);
    expect_trap(&e, "conv_overflow", &a, 1, 1, WP_TRAP_INT_OVERFLOW, "integer overflow");
    expect_trap(&e, "forever", NULL, 0, 0, WP_TRAP_STACK_EXHAUSTED,
                "call stack exhausted in function 'forever'");
    CHECK_EQ(wp_exec_trap(e.x)->kind, WP_TRAP_STACK_EXHAUSTED);
    /* After every trap the exec is idle and works again. */
    CHECK_EQ(call1(&e, "deep", i32(1000)), 1000);
    teardown(&e);
}

static void test_stack_limits(void) {
    env e;
    wp_store_config cfg = {.max_call_depth = 100};
    if (!setup_traps(&e, &cfg))
        return;
    CHECK_EQ(call1(&e, "deep", i32(98)), 98); /* 99 frames */
    wp_val a = i32(100);
    expect_trap(&e, "deep", &a, 1, 1, WP_TRAP_STACK_EXHAUSTED, "call stack exhausted");
    teardown(&e);

    wp_store_config small = {.max_stack_bytes = 16384}; /* 2048 slots: ~60 frames of 'wide' */
    if (!setup_traps(&e, &small))
        return;
    CHECK_EQ(call1(&e, "wide", i32(20)), 0);
    a = i32(200);
    expect_trap(&e, "wide", &a, 1, 1, WP_TRAP_STACK_EXHAUSTED, "call stack exhausted");
    CHECK_EQ(call1(&e, "wide", i32(20)), 0);
    teardown(&e);

    /* A frame over the limit by itself: the call begins, and traps when it runs. */
    wp_store_config tiny = {.max_stack_bytes = 64}; /* 8 slots: 'wide' alone needs more */
    if (!setup_traps(&e, &tiny))
        return;
    a = i32(0);
    expect_trap(&e, "wide", &a, 1, 1, WP_TRAP_STACK_EXHAUSTED,
                "call stack exhausted in function 'wide'");
    CHECK_EQ(call1(&e, "spin", i32(1)), 3); /* a smaller frame still runs on the same exec */
    teardown(&e);
}

/* ---- Budget and fuel -------------------------------------------------------------------- */

static void test_budget(void) {
    env e;
    if (!setup_traps(&e, NULL))
        return;
    wp_err err;
    wp_val a = i32(1000);
    CHECK(!wp_exec_busy(e.x));
    CHECK_EQ(wp_exec_begin(e.x, fn(&e, "spin"), &a, 1, &err), WP_OK);
    CHECK(wp_exec_busy(e.x)); /* begun: busy until done or trapped */
    int slices = 0;
    wp_run_state rs;
    while ((rs = wp_exec_run(e.x, 10)) == WP_RUN_BUDGET)
        slices++;
    CHECK_EQ(rs, WP_RUN_DONE);
    CHECK(slices >= 90 && slices <= 110); /* 999 back-edges, 10 a slice */
    wp_val r;
    CHECK_EQ(wp_exec_results(e.x, &r, 1), 1);
    CHECK_EQ(r.of.i32, 3000);
    /* A slice of 0 stops at the first reduction, and the run then still finishes. */
    CHECK_EQ(wp_exec_begin(e.x, fn(&e, "spin"), &a, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_run(e.x, 0), WP_RUN_BUDGET);
    CHECK(wp_exec_busy(e.x));
    CHECK_EQ(wp_exec_run(e.x, 0), WP_RUN_BUDGET);
    CHECK_EQ(wp_exec_run(e.x, WP_BUDGET_UNLIMITED), WP_RUN_DONE);
    CHECK(!wp_exec_busy(e.x));
    CHECK_EQ(wp_exec_results(e.x, &r, 1), 1);
    CHECK_EQ(r.of.i32, 3000);
    /* Calls spend reductions too. */
    a = i32(50);
    CHECK_EQ(wp_exec_begin(e.x, fn(&e, "deep"), &a, 1, &err), WP_OK);
    slices = 0;
    while ((rs = wp_exec_run(e.x, 7)) == WP_RUN_BUDGET)
        slices++;
    CHECK_EQ(rs, WP_RUN_DONE);
    CHECK_EQ(slices, 50 / 7);
    CHECK_EQ(wp_exec_results(e.x, &r, 1), 1);
    CHECK_EQ(r.of.i32, 50);
    CHECK_EQ(wp_exec_begin(e.x, fn(&e, "unreachable"), NULL, 0, &err), WP_OK);
    CHECK_EQ(wp_exec_run(e.x, WP_BUDGET_UNLIMITED), WP_RUN_TRAP);
    CHECK(!wp_exec_busy(e.x)); /* a trap ends the call */
    CHECK_EQ(wp_exec_begin(e.x, fn(&e, "spin"), &a, 1, &err), WP_OK);
    wp_exec_reset(e.x);
    CHECK(!wp_exec_busy(e.x));
    teardown(&e);
}

/* spin(n) executes 1 + 9n + 1 instructions: 'loop'; per iteration local.get, i32.const,
 * i32.add, local.set, local.get, i32.const, i32.sub, local.tee, br_if; then local.get. */
static uint64_t spin_cost(uint64_t n) { return 1 + 9 * n + 1; }

static void test_fuel(void) {
    env e;
    wp_store_config cfg = {.fuel = 1000};
    if (!setup_traps(&e, &cfg))
        return;
    CHECK_EQ(call1(&e, "spin", i32(100)), 300);
    CHECK_EQ(wp_store_fuel(e.s), 1000 - spin_cost(100));
    CHECK_EQ(call1(&e, "spin", i32(5)), 15);
    CHECK_EQ(wp_store_fuel(e.s), 1000 - spin_cost(100) - spin_cost(5));
    /* The run that does not fit traps before it starts: what it would spend stays. */
    uint64_t left = wp_store_fuel(e.s);
    wp_val a = i32(1000000);
    expect_trap(&e, "spin", &a, 1, 1, WP_TRAP_FUEL, "fuel exhausted in function 'spin'");
    CHECK(wp_store_fuel(e.s) < 9);
    CHECK_EQ((left - 1 - wp_store_fuel(e.s)) % 9, 0);
    /* Out of fuel, a slice budget does not hide the trap. */
    a = i32(2);
    wp_err err;
    CHECK_EQ(wp_exec_begin(e.x, fn(&e, "spin"), &a, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_run(e.x, 5), WP_RUN_TRAP);
    CHECK_EQ(wp_exec_trap(e.x)->kind, WP_TRAP_FUEL);
    teardown(&e);
}

/* Exactly the instructions a call executes suffice; one fewer traps. */
static void test_fuel_exact(void) {
    for (uint64_t n = 1; n <= 64; n *= 4) {
        env e;
        wp_store_config cfg = {.fuel = spin_cost(n)};
        if (!setup_traps(&e, &cfg))
            return;
        CHECK_EQ(call1(&e, "spin", i32((uint32_t)n)), 3 * n);
        CHECK_EQ(wp_store_fuel(e.s), 0);
        teardown(&e);
        cfg.fuel = spin_cost(n) - 1;
        if (!setup_traps(&e, &cfg))
            return;
        wp_val a = i32((uint32_t)n);
        expect_trap(&e, "spin", &a, 1, 1, WP_TRAP_FUEL, "fuel exhausted");
        teardown(&e);
    }
}

/* ---- Host functions --------------------------------------------------------------------- */

typedef struct host_env {
    env e;
    wp_func *funcs[4]; /* wait, fail, nest, many */
    int32_t last_wait;
    int nested_status;
    char nested_msg[WP_ERR_MSG_MAX];
    bool saw_memory;
} host_env;

static wp_host_result host_wait(wp_host_call *call, void *ud, const wp_val *args, wp_val *res) {
    host_env *h = ud;
    (void)call;
    (void)res;
    h->last_wait = (int32_t)args[0].of.i32;
    return WP_HOST_PENDING;
}

static wp_host_result host_fail(wp_host_call *call, void *ud, const wp_val *args, wp_val *res) {
    (void)ud;
    (void)res;
    switch (args[0].of.i32) {
    case 1:
        return wp_host_trap(call, "disk on fire (%d)", 1);
    case 2:
        return wp_host_exit(call, 42);
    case 3:
        return WP_HOST_TRAP; /* without a message */
    default:
        return WP_HOST_OK;
    }
}

/* Calls back into the guest: "square" normally, "trap" for a negative argument, the waiting
 * "around_wait" for 1000. */
/* What the host may not do with the exec while one of its calls runs, and nested calls that
 * fail before running: each must fail cleanly. */
static void host_misuse(host_env *h, wp_host_call *call) {
    wp_exec *x = h->e.x;
    wp_err err;
    wp_val a = i32(1);
    wp_val r;
    CHECK(wp_exec_busy(x)); /* running this host function */
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_TRAP);
    CHECK_STR_CONTAINS(wp_exec_trap(x)->msg, "inside a host function");
    CHECK_EQ(wp_exec_begin(x, fn(&h->e, "square"), &a, 1, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "busy");
    wp_exec_reset(x); /* ignored: the call goes on */
    CHECK_EQ(wp_exec_resume(x, &a, 1, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "not waiting");
    wp_exec_resume_trap(x, "ignored"); /* nothing is pending: no effect */
    wp_frame_info fi;
    CHECK_EQ(wp_exec_backtrace(x, &fi, 1), 0); /* a run in progress has none */
    wp_exec_free(x); /* refused: the exec is running this very call */
    CHECK_EQ(wp_host_call_nested(call, fn(&h->e, "square"), NULL, 0, &r, 1, &err),
             WP_ERR_INVALID);
    CHECK_EQ(wp_host_call_nested(call, fn(&h->e, "square"), &a, 1, &r, 0, &err), WP_ERR_INVALID);
    /* A host function called nested: runs directly; its trap comes back as an error. */
    wp_val zero = i32(0);
    CHECK_EQ(wp_host_call_nested(call, h->funcs[1], &zero, 1, NULL, 0, &err), WP_OK);
    CHECK_EQ(wp_host_call_nested(call, h->funcs[1], &a, 1, NULL, 0, &err), WP_ERR_TRAP);
    CHECK_STR_CONTAINS(err.msg, "disk on fire");
    CHECK_EQ(wp_host_call_nested(call, h->funcs[0], &a, 1, &r, 1, &err), WP_ERR_TRAP);
    CHECK_STR_CONTAINS(err.msg, "cannot wait");
}

static wp_host_result host_nest(wp_host_call *call, void *ud, const wp_val *args, wp_val *res) {
    host_env *h = ud;
    int32_t n = (int32_t)args[0].of.i32;
    const char *target = n < 0 ? "trap" : n == 1000 ? "around_wait" : "square";
    wp_err err;
    wp_val r = {0};
    if (n == 77)
        host_misuse(h, call);
    h->saw_memory = wp_host_call_memory(call) == wp_instance_memory(h->e.inst) &&
                    wp_host_call_instance(call) == h->e.inst;
    wp_status st = wp_host_call_nested(call, fn(&h->e, target), args, 1, &r, 1, &err);
    h->nested_status = st;
    snprintf(h->nested_msg, sizeof h->nested_msg, "%s", st == WP_OK ? "" : err.msg);
    if (st != WP_OK)
        return wp_host_trap(call, "nested: %s", err.msg);
    /* The nested call wrote its argument to memory; the host sees it. */
    uint32_t stored = 0;
    CHECK(wp_memory_read(wp_host_call_memory(call), 0, &stored, 4));
    CHECK_EQ(stored, (uint32_t)n);
    res[0] = wp_val_i32(r.of.i32 + 1);
    return WP_HOST_OK;
}

static wp_host_result host_many(wp_host_call *call, void *ud, const wp_val *args, wp_val *res) {
    (void)call;
    (void)ud;
    uint64_t sum = args[0].of.i32 + args[1].of.i64 + args[4].of.i32 + args[5].of.i64 +
                   args[8].of.i32 + args[9].of.i64;
    bool floats = args[2].of.f32 == f32b(3.0f) && args[3].of.f64 == f64b(4.0) &&
                  args[6].of.f32 == f32b(7.0f) && args[7].of.f64 == f64b(8.0);
    res[0] = wp_val_i64(floats ? sum : 0);
    for (int i = 1; i < 10; i++)
        res[i] = wp_val_i32((uint32_t)i);
    return WP_HOST_OK;
}

static bool setup_host_cfg(host_env *h, const wp_store_config *cfg) {
    memset(h, 0, sizeof *h);
    wp_err err;
    wp_store *s = NULL;
    CHECK_EQ(wp_store_new(cfg, &s, &err), WP_OK);
    static const wp_valtype t_wait[] = {WP_I32, WP_I32};
    static const wp_valtype t_fail[] = {WP_I32};
    static const wp_valtype t_many[] = {WP_I32, WP_I64, WP_F32, WP_F64, WP_I32, WP_I64, WP_F32,
                                        WP_F64, WP_I32, WP_I64, WP_I64, WP_I32, WP_I32, WP_I32,
                                        WP_I32, WP_I32, WP_I32, WP_I32, WP_I32, WP_I32};
    wp_functype types[4] = {{1, 1, t_wait}, {1, 0, t_fail}, {1, 1, t_wait}, {10, 10, t_many}};
    wp_host_fn fns[4] = {host_wait, host_fail, host_nest, host_many};
    wp_extern imports[4];
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(wp_func_new_host(s, &types[i], fns[i], h, &h->funcs[i], &err), WP_OK);
        imports[i] = (wp_extern){.kind = WP_EXTERN_FUNC, .of.func = h->funcs[i]};
    }
    size_t len = 0;
    unsigned char *bytes = test_fixture("exec_host", &len);
    if (!bytes || wp_module_decode(bytes, len, &h->e.m, &err) != WP_OK) {
        CHECK(false);
        free(bytes);
        wp_store_free(s);
        return false;
    }
    free(bytes);
    h->e.s = s;
    CHECK_EQ(wp_instance_new(s, h->e.m, imports, 4, &h->e.inst, &err), WP_OK);
    CHECK_EQ(wp_exec_new(s, &h->e.x, &err), WP_OK);
    return h->e.inst != NULL;
}

static bool setup_host(host_env *h) { return setup_host_cfg(h, NULL); }

static void test_host_pending(void) {
    host_env h;
    if (!setup_host(&h))
        return;
    wp_exec *x = h.e.x;
    wp_err err;
    wp_val a = i32(3);
    CHECK_EQ(wp_exec_begin(x, fn(&h.e, "around_wait"), &a, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_PENDING);
    CHECK_EQ(h.last_wait, 3);
    CHECK(wp_exec_busy(x)); /* waiting on the host */
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_PENDING); /* still waiting */
    wp_val five = i32(5);
    CHECK_EQ(wp_exec_resume(x, &five, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_DONE);
    wp_val r;
    CHECK_EQ(wp_exec_results(x, &r, 1), 1);
    CHECK_EQ(r.of.i32, 3 * 10 + (3 + 1) * 5); /* locals kept across the wait */

    /* A budget slice ends before the call; the wait comes in a later run. */
    a = i32(100);
    CHECK_EQ(wp_exec_begin(x, fn(&h.e, "spin_then_wait"), &a, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_run(x, 20), WP_RUN_BUDGET);
    wp_run_state rs;
    while ((rs = wp_exec_run(x, 20)) == WP_RUN_BUDGET)
        ;
    CHECK_EQ(rs, WP_RUN_PENDING);
    CHECK_EQ(h.last_wait, 100);
    wp_val seven = i32(7);
    CHECK_EQ(wp_exec_resume(x, &seven, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_run(x, 20), WP_RUN_DONE);
    CHECK_EQ(wp_exec_results(x, &r, 1), 1);
    CHECK_EQ(r.of.i32, 7);

    /* The host can make the waiting call trap instead. */
    CHECK_EQ(wp_exec_begin(x, fn(&h.e, "around_wait"), &a, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_PENDING);
    wp_exec_resume_trap(x, "timed out");
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_TRAP);
    CHECK_EQ(wp_exec_trap(x)->kind, WP_TRAP_HOST);
    CHECK_STR_CONTAINS(wp_exec_trap(x)->msg, "timed out");

    /* Reset abandons a pending call; the exec then runs another. */
    CHECK_EQ(wp_exec_begin(x, fn(&h.e, "around_wait"), &a, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_PENDING);
    wp_exec_reset(x);
    CHECK_EQ(wp_exec_resume(x, &five, 1, &err), WP_ERR_INVALID);
    a = i32(9);
    CHECK_EQ(call(&h.e, "square", &a, 1, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.i32, 81);
    teardown(&h.e);
}

/* Called by the embedder directly: squares its argument through a nested call. */
static wp_host_result host_square(wp_host_call *call, void *ud, const wp_val *args,
                                  wp_val *res) {
    host_env *h = ud;
    wp_err err;
    if (wp_host_call_instance(call) != NULL || wp_host_call_memory(call) != NULL)
        return wp_host_trap(call, "expected no calling instance");
    if (wp_host_call_nested(call, fn(&h->e, "square"), args, 1, res, 1, &err) != WP_OK)
        return wp_host_trap(call, "%s", err.msg);
    return WP_HOST_OK;
}

static void test_host_direct(void) {
    host_env h;
    if (!setup_host(&h))
        return;
    wp_exec *x = h.e.x;
    wp_err err;
    wp_val a = i32(11);
    /* The embedder calls a host function itself: no wasm frame at all. */
    CHECK_EQ(wp_exec_begin(x, h.funcs[0], &a, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_PENDING);
    CHECK_EQ(h.last_wait, 11);
    wp_val v = i32(12);
    CHECK_EQ(wp_exec_resume(x, &v, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_DONE);
    wp_val r;
    CHECK_EQ(wp_exec_results(x, &r, 1), 1);
    CHECK_EQ(r.of.i32, 12);
    a = i32(1);
    wp_trap trap;
    CHECK_EQ(wp_call(x, h.funcs[1], &a, 1, NULL, 0, &trap, &err), WP_ERR_TRAP);
    CHECK_STR_CONTAINS(trap.msg, "disk on fire (1)");
    CHECK_EQ(wp_call(x, h.funcs[0], &a, 1, &r, 1, NULL, &err), WP_ERR_INVALID); /* pending */
    /* A direct host call may call back into wasm. */
    static const wp_valtype t_sq[] = {WP_I32, WP_I32};
    wp_functype ft = {1, 1, t_sq};
    wp_func *sq = NULL;
    CHECK_EQ(wp_func_new_host(h.e.s, &ft, host_square, &h, &sq, &err), WP_OK);
    a = i32(12);
    CHECK_EQ(wp_call(x, sq, &a, 1, &r, 1, NULL, &err), WP_OK);
    CHECK_EQ(r.of.i32, 144);
    teardown(&h.e);
}

static void test_host_trap_and_exit(void) {
    host_env h;
    if (!setup_host(&h))
        return;
    wp_val a = i32(1);
    wp_val r;
    wp_trap trap;
    CHECK_EQ(call(&h.e, "call_fail", &a, 1, &r, 1, &trap), WP_ERR_TRAP);
    CHECK_EQ(trap.kind, WP_TRAP_HOST);
    CHECK(strcmp(trap.msg, "disk on fire (1) in func 5") == 0); /* names the caller */
    a = i32(2);
    CHECK_EQ(call(&h.e, "call_fail", &a, 1, &r, 1, &trap), WP_ERR_TRAP);
    CHECK_EQ(trap.kind, WP_TRAP_EXIT);
    CHECK_EQ(trap.exit_code, 42);
    a = i32(3);
    CHECK_EQ(call(&h.e, "call_fail", &a, 1, &r, 1, &trap), WP_ERR_TRAP);
    CHECK_EQ(trap.kind, WP_TRAP_HOST);
    CHECK_STR_CONTAINS(trap.msg, "host error");
    a = i32(0);
    CHECK_EQ(call(&h.e, "call_fail", &a, 1, &r, 1, &trap), WP_OK);
    CHECK_EQ(r.of.i32, 5);
    CHECK_EQ(call(&h.e, "call_many", NULL, 0, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.i64, 1 + 2 + 5 + 6 + 9 + 10);
    /* Ten arguments are converted through the heap: out of memory there is a trap. */
    size_t limit = h.e.s->heap.limit;
    h.e.s->heap.limit = h.e.s->heap.used;
    CHECK_EQ(call(&h.e, "call_many", NULL, 0, &r, 1, &trap), WP_ERR_TRAP);
    CHECK_STR_CONTAINS(trap.msg, "out of memory");
    h.e.s->heap.limit = limit;
    CHECK_EQ(call(&h.e, "call_many", NULL, 0, &r, 1, NULL), WP_OK);
    teardown(&h.e);
}

static void test_host_nested_limits(void) {
    host_env h;
    wp_store_config cfg = {.max_call_depth = 1};
    if (!setup_host_cfg(&h, &cfg))
        return;
    /* The one frame allowed is call_nest's: the nested call has none left. */
    wp_val a = i32(3);
    wp_val r;
    wp_trap trap;
    CHECK_EQ(call(&h.e, "call_nest", &a, 1, &r, 1, &trap), WP_ERR_TRAP);
    CHECK_EQ(h.nested_status, WP_ERR_TRAP);
    CHECK_STR_CONTAINS(h.nested_msg, "call stack exhausted");
    CHECK_EQ(call(&h.e, "square", &a, 1, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.i32, 9);
    teardown(&h.e);
}

static void test_host_nested(void) {
    host_env h;
    if (!setup_host(&h))
        return;
    wp_val a = i32(6);
    wp_val r;
    CHECK_EQ(call(&h.e, "call_nest", &a, 1, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.i32, 1000 + 36 + 1);
    CHECK(h.saw_memory);
    /* A trap in the nested call comes back to the host as an error, not a crash. */
    a = i32(-4);
    wp_trap trap;
    CHECK_EQ(call(&h.e, "call_nest", &a, 1, &r, 1, &trap), WP_ERR_TRAP);
    CHECK_EQ(h.nested_status, WP_ERR_TRAP);
    CHECK_STR_CONTAINS(h.nested_msg, "unreachable");
    CHECK_STR_CONTAINS(trap.msg, "nested: unreachable");
    /* The host function that gave up is the innermost frame; the nested frames are gone. */
    wp_frame_info fr[3];
    CHECK_EQ(wp_exec_backtrace(h.e.x, fr, 3), 2);
    CHECK(fr[0].instance == NULL && fr[0].func == 2 && fr[0].name.len == 4 &&
          memcmp(fr[0].name.ptr, "nest", 4) == 0);
    CHECK(fr[1].instance == h.e.inst && fr[1].func == 6 && fr[1].name.len == 0);
    CHECK(strcmp(trap.msg, "nested: unreachable in func 8 in func 6") == 0);
    /* A nested call may not wait. */
    a = i32(1000);
    CHECK_EQ(call(&h.e, "call_nest", &a, 1, &r, 1, &trap), WP_ERR_TRAP);
    CHECK_EQ(h.nested_status, WP_ERR_TRAP);
    CHECK_STR_CONTAINS(h.nested_msg, "cannot wait");
    /* Misuse of the exec from inside a host function fails cleanly; the run goes on. */
    a = i32(77);
    CHECK_EQ(call(&h.e, "call_nest", &a, 1, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.i32, 1000 + 77 * 77 + 1);
    /* And the exec is fine afterwards, at any budget. */
    a = i32(7);
    wp_err err;
    CHECK_EQ(wp_exec_begin(h.e.x, fn(&h.e, "call_nest"), &a, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_run(h.e.x, 1), WP_RUN_DONE);
    CHECK_EQ(wp_exec_results(h.e.x, &r, 1), 1);
    CHECK_EQ(r.of.i32, 1000 + 49 + 1);
    teardown(&h.e);
}

/* ---- Cross-instance calls --------------------------------------------------------------- */

static void test_cross_instance(void) {
    env lib;
    if (!setup(&lib, "exec_lib", NULL))
        return;
    wp_err err;
    wp_extern imports[2];
    CHECK(wp_instance_export(lib.inst, "peek", 4, &imports[0]));
    CHECK(wp_instance_export(lib.inst, "grow", 4, &imports[1]));
    size_t len = 0;
    unsigned char *bytes = test_fixture("exec_user", &len);
    wp_module *um = NULL;
    CHECK(bytes && wp_module_decode(bytes, len, &um, &err) == WP_OK);
    free(bytes);
    wp_instance *user = NULL;
    CHECK_EQ(wp_instance_new(lib.s, um, imports, 2, &user, &err), WP_OK);
    env ue = {um, lib.s, user, lib.x};
    /* lib's 'L', our 'u', lib's 'L' again, then our global */
    CHECK_EQ(call1(&ue, "mix", i32(0)), 'L' * 65536u + 'u' * 256u + 'L' + 40u);
    wp_val r;
    CHECK_EQ(call(&lib, "calls", NULL, 0, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.i32, 2);
    /* lib grows (and may move) its memory; ours is reloaded correctly after the call. */
    CHECK_EQ(call(&ue, "grow_lib", NULL, 0, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.i32, 's');
    CHECK_EQ(wp_memory_size(wp_instance_memory(lib.inst)), 2 * WP_PAGE_SIZE);
    teardown(&lib);
    wp_module_free(um);
}

/* ---- Backtraces -------------------------------------------------------------------------- */

typedef struct bt_env {
    env lib; /* exec_bt_lib: owns the store */
    env e;   /* exec_bt, in the same store */
    wp_func *host;
} bt_env;

/* exec_bt's host function: 1 traps, 2 exits with status 3, 3 waits, else returns. */
static wp_host_result host_bt(wp_host_call *call, void *ud, const wp_val *args, wp_val *res) {
    (void)ud;
    (void)res;
    switch (args[0].of.i32) {
    case 1:
        return wp_host_trap(call, "host says no");
    case 2:
        return wp_host_exit(call, 3);
    case 3:
        return WP_HOST_PENDING;
    default:
        return WP_HOST_OK;
    }
}

static bool setup_bt(bt_env *b, const wp_store_config *cfg, const char *host_name) {
    static const char *const lib_names[] = {"boom", "deeper"};
    const char *names[] = {host_name, NULL, "outer", "middle", "inner", "to_host",
                           "middle_host", "cross", "rec", NULL};
    memset(b, 0, sizeof *b);
    if (!setup_named(&b->lib, "exec_bt_lib", cfg, NULL, 0, lib_names, 2))
        return false;
    wp_err err;
    static const wp_valtype t_i32[] = {WP_I32};
    wp_functype ft = {1, 0, t_i32};
    CHECK_EQ(wp_func_new_host(b->lib.s, &ft, host_bt, NULL, &b->host, &err), WP_OK);
    wp_extern imports[2] = {{.kind = WP_EXTERN_FUNC, .of.func = b->host}};
    CHECK(wp_instance_export(b->lib.inst, "boom", 4, &imports[1]));
    size_t len = 0;
    unsigned char *bytes = test_fixture("exec_bt", &len);
    if (bytes)
        bytes = with_names(bytes, &len, names, 10);
    b->e.s = b->lib.s;
    b->e.x = b->lib.x;
    bool ok = bytes && wp_module_decode(bytes, len, &b->e.m, &err) == WP_OK &&
              wp_instance_new(b->e.s, b->e.m, imports, 2, &b->e.inst, &err) == WP_OK;
    free(bytes);
    CHECK(ok);
    return ok;
}

static void teardown_bt(bt_env *b) {
    teardown(&b->lib);
    wp_module_free(b->e.m);
}

static bool frame_is(const wp_frame_info *f, const wp_instance *inst, uint32_t func,
                     const char *name) {
    bool ok = f->instance == inst && f->func == func && f->name.len == strlen(name) &&
              memcmp(f->name.ptr ? f->name.ptr : "", name, f->name.len) == 0;
    if (!ok)
        fprintf(stderr, "  frame: func %u '%.*s', expected func %u '%s'\n", (unsigned)f->func,
                (int)f->name.len, f->name.ptr ? f->name.ptr : "", (unsigned)func, name);
    return ok;
}

static void test_backtrace_wasm(void) {
    bt_env b;
    if (!setup_bt(&b, NULL, NULL))
        return;
    wp_exec *x = b.e.x;
    wp_frame_info fr[4];
    CHECK_EQ(wp_exec_backtrace(x, fr, 4), 0); /* nothing ran yet */
    wp_val a = i32(0);
    expect_trap(&b.e, "outer", &a, 1, 1, WP_TRAP_DIV_ZERO,
                "integer divide by zero in function 'inner' (func 4)");
    CHECK_EQ(wp_exec_backtrace(x, fr, 4), 3);
    CHECK(frame_is(&fr[0], b.e.inst, 4, "inner"));
    CHECK(frame_is(&fr[1], b.e.inst, 3, "middle"));
    CHECK(frame_is(&fr[2], b.e.inst, 2, "outer"));
    /* A smaller buffer gets the innermost frames and the full count. */
    memset(fr, 0, sizeof fr);
    CHECK_EQ(wp_exec_backtrace(x, fr, 1), 3);
    CHECK(frame_is(&fr[0], b.e.inst, 4, "inner"));
    CHECK(fr[1].name.len == 0 && fr[1].instance == NULL);
    CHECK_EQ(wp_exec_backtrace(x, NULL, 0), 3);
    /* Frames of two instances: the callee's frames name their own module's functions. */
    expect_trap(&b.e, "cross", &a, 1, 1, WP_TRAP_UNREACHABLE,
                "unreachable in function 'deeper' (func 1)");
    CHECK_EQ(wp_exec_backtrace(x, fr, 4), 3);
    CHECK(frame_is(&fr[0], b.lib.inst, 1, "deeper"));
    CHECK(frame_is(&fr[1], b.lib.inst, 0, "boom"));
    CHECK(frame_is(&fr[2], b.e.inst, 7, "cross"));
    /* A run that does not trap has no backtrace; neither has a call begun, nor a reset. */
    a = i32(5);
    CHECK_EQ(call1(&b.e, "outer", a), 3);
    CHECK_EQ(wp_exec_backtrace(x, fr, 4), 0);
    a = i32(0);
    expect_trap(&b.e, "outer", &a, 1, 1, WP_TRAP_DIV_ZERO, "integer divide by zero");
    wp_err err;
    CHECK_EQ(wp_exec_begin(x, fn(&b.e, "outer"), &a, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_backtrace(x, fr, 4), 0);
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_TRAP);
    CHECK_EQ(wp_exec_backtrace(x, fr, 4), 3);
    wp_exec_reset(x);
    CHECK_EQ(wp_exec_backtrace(x, fr, 4), 0);
    teardown_bt(&b);
}

static void test_backtrace_deep(void) {
    bt_env b;
    wp_store_config cfg = {.max_call_depth = 500};
    if (!setup_bt(&b, &cfg, NULL))
        return;
    wp_val a = i32(0);
    expect_trap(&b.e, "rec", &a, 1, 1, WP_TRAP_STACK_EXHAUSTED,
                "call stack exhausted in function 'rec' (func 8)");
    wp_frame_info fr[8];
    CHECK_EQ(wp_exec_backtrace(b.e.x, fr, 8), 500); /* every frame, though 8 are copied */
    for (int i = 0; i < 8; i++)
        CHECK(frame_is(&fr[i], b.e.inst, 8, "rec"));
    /* With a budget slice the run stops and resumes many times; the frames are the same. */
    wp_err err;
    CHECK_EQ(wp_exec_begin(b.e.x, fn(&b.e, "rec"), &a, 1, &err), WP_OK);
    wp_run_state rs;
    int slices = 0;
    while ((rs = wp_exec_run(b.e.x, 7)) == WP_RUN_BUDGET)
        slices++;
    CHECK_EQ(rs, WP_RUN_TRAP);
    CHECK(slices > 50);
    CHECK_EQ(wp_exec_backtrace(b.e.x, fr, 8), 500);
    teardown_bt(&b);
}

static void test_backtrace_host(void) {
    bt_env b;
    if (!setup_bt(&b, NULL, NULL))
        return;
    wp_exec *x = b.e.x;
    wp_frame_info fr[4];
    /* A host trap: the host function is the innermost frame, named by its import; the
     * message names the wasm function that called it. */
    wp_val a = i32(1);
    wp_trap trap;
    CHECK_EQ(call(&b.e, "to_host", &a, 1, NULL, 0, &trap), WP_ERR_TRAP);
    CHECK_EQ(trap.kind, WP_TRAP_HOST);
    CHECK(strcmp(trap.msg, "host says no in function 'middle_host' (func 6)") == 0);
    CHECK_EQ(wp_exec_backtrace(x, fr, 4), 3);
    CHECK(frame_is(&fr[0], NULL, 0, "host"));
    CHECK(frame_is(&fr[1], b.e.inst, 6, "middle_host"));
    CHECK(frame_is(&fr[2], b.e.inst, 5, "to_host"));
    /* An exit: the same frames; the message stays the exit's own. */
    a = i32(2);
    CHECK_EQ(call(&b.e, "to_host", &a, 1, NULL, 0, &trap), WP_ERR_TRAP);
    CHECK_EQ(trap.kind, WP_TRAP_EXIT);
    CHECK(strcmp(trap.msg, "exit with status 3") == 0);
    CHECK_EQ(wp_exec_backtrace(x, fr, 4), 3);
    CHECK(frame_is(&fr[0], NULL, 0, "host"));
    /* A waiting call that the embedder makes trap. */
    wp_err err;
    a = i32(3);
    CHECK_EQ(wp_exec_begin(x, fn(&b.e, "to_host"), &a, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_PENDING);
    CHECK_EQ(wp_exec_backtrace(x, fr, 4), 0); /* not a trap (yet) */
    wp_exec_resume_trap(x, "timed out");
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_TRAP);
    CHECK(strcmp(wp_exec_trap(x)->msg, "timed out in function 'middle_host' (func 6)") == 0);
    CHECK_EQ(wp_exec_backtrace(x, fr, 4), 3);
    CHECK(frame_is(&fr[0], NULL, 0, "host"));
    CHECK(frame_is(&fr[2], b.e.inst, 5, "to_host"));
    /* Through a table: the host function is still the caller's import 0. */
    a = i32(1);
    CHECK_EQ(call(&b.e, "indirect", &a, 1, NULL, 0, &trap), WP_ERR_TRAP);
    CHECK_EQ(wp_exec_backtrace(x, fr, 4), 2);
    CHECK(frame_is(&fr[0], NULL, 0, "host"));
    CHECK(frame_is(&fr[1], b.e.inst, 9, ""));
    /* Called by the embedder: one frame, reached through no import. */
    CHECK_EQ(wp_call(x, b.host, &a, 1, NULL, 0, &trap, &err), WP_ERR_TRAP);
    CHECK(strcmp(trap.msg, "host says no") == 0);
    CHECK_EQ(wp_exec_backtrace(x, fr, 4), 1);
    CHECK(frame_is(&fr[0], NULL, UINT32_MAX, ""));
    teardown_bt(&b);

    /* The caller's name section names the import: that name wins over the field name. */
    if (!setup_bt(&b, NULL, "my_host"))
        return;
    CHECK_EQ(call(&b.e, "to_host", &a, 1, NULL, 0, &trap), WP_ERR_TRAP);
    CHECK_EQ(wp_exec_backtrace(b.e.x, fr, 4), 3);
    CHECK(frame_is(&fr[0], NULL, 0, "my_host"));
    teardown_bt(&b);
}

/* ---- The exec's life cycle and API errors ----------------------------------------------- */

static void test_api_errors(void) {
    host_env h;
    if (!setup_host(&h))
        return;
    wp_exec *x = h.e.x;
    wp_err err;
    wp_func *sq = fn(&h.e, "square");
    wp_val a = i32(2);
    wp_val wrong = i64(2);
    wp_val r;
    CHECK_EQ(wp_exec_begin(x, sq, NULL, 0, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "expected 1 arguments");
    CHECK_EQ(wp_exec_begin(x, sq, &wrong, 1, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "expected i32, got i64");
    CHECK_EQ(wp_call(x, sq, &a, 1, &r, 2, NULL, &err), WP_ERR_INVALID);
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_TRAP); /* nothing begun */
    CHECK_EQ(wp_exec_results(x, &r, 1), 0);
    CHECK_EQ(wp_exec_resume(x, &a, 1, &err), WP_ERR_INVALID); /* nothing pending */
    wp_exec_resume_trap(x, "ignored"); /* nothing pending: no effect */
    CHECK_EQ(call(&h.e, "square", &a, 1, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.i32, 4);

    CHECK_EQ(wp_exec_begin(x, fn(&h.e, "around_wait"), &a, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_begin(x, sq, &a, 1, &err), WP_ERR_INVALID); /* busy */
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_PENDING);
    CHECK_EQ(wp_exec_begin(x, sq, &a, 1, &err), WP_ERR_INVALID);
    CHECK_EQ(wp_exec_resume(x, NULL, 0, &err), WP_ERR_INVALID);
    CHECK_EQ(wp_exec_resume(x, &wrong, 1, &err), WP_ERR_INVALID);
    CHECK_EQ(wp_exec_resume(x, &a, 1, &err), WP_OK);
    CHECK_EQ(wp_exec_run(x, WP_BUDGET_UNLIMITED), WP_RUN_DONE);
    CHECK_EQ(wp_exec_results(x, &r, 1), 1);
    CHECK_EQ(r.of.i32, 2 * 10 + 3 * 2);
    CHECK_EQ(wp_exec_results(x, NULL, 0), 1); /* the count, even with no room */

    /* A trap leaves the exec idle and reusable. */
    CHECK_EQ(call(&h.e, "trap", &a, 1, &r, 1, NULL), WP_ERR_TRAP);
    CHECK_EQ(call(&h.e, "square", &a, 1, &r, 1, NULL), WP_OK);
    CHECK_EQ(r.of.i32, 4);
    teardown(&h.e);
}

static void test_exec_objects(void) {
    env e;
    if (!setup(&e, "exec_flow", NULL))
        return;
    wp_err err;
    /* Several execs on one store; one freed early, the others freed with the store. */
    wp_exec *x2 = NULL;
    wp_exec *x3 = NULL;
    CHECK_EQ(wp_exec_new(e.s, &x2, &err), WP_OK);
    CHECK_EQ(wp_exec_new(e.s, &x3, &err), WP_OK);
    wp_val a = i32(10);
    wp_val r;
    CHECK_EQ(wp_call(x2, fn(&e, "fib"), &a, 1, &r, 1, NULL, &err), WP_OK);
    CHECK_EQ(r.of.i32, 55);
    wp_exec_free(x2);
    wp_exec_free(NULL);
    CHECK_EQ(wp_call(x3, fn(&e, "fib"), &a, 1, &r, 1, NULL, &err), WP_OK);
    /* Out of memory for a new exec or for its first stack. */
    size_t limit = e.s->heap.limit;
    e.s->heap.limit = e.s->heap.used;
    wp_exec *x4 = NULL;
    CHECK_EQ(wp_exec_new(e.s, &x4, &err), WP_ERR_NOMEM);
    e.s->heap.limit = e.s->heap.used + 4096; /* room for the exec, not for its stack */
    CHECK_EQ(wp_exec_new(e.s, &x4, &err), WP_OK);
    if (!x4) {
        teardown(&e);
        return;
    }
    CHECK_EQ(wp_exec_begin(x4, fn(&e, "fib"), &a, 1, &err), WP_ERR_NOMEM);
    e.s->heap.limit = limit;
    CHECK_EQ(wp_call(x4, fn(&e, "fib"), &a, 1, &r, 1, NULL, &err), WP_OK);
    CHECK_EQ(r.of.i32, 55);
    CHECK_EQ(wp_exec_trap(x4)->kind, WP_TRAP_NONE);
    CHECK(strcmp(wp_trap_text(WP_TRAP_MEMORY_OOB), "out of bounds memory access") == 0);
    CHECK(strcmp(wp_trap_text((wp_trap_kind)999), "unknown trap") == 0);
    teardown(&e);
}

/* ---- Out of memory while compiling ------------------------------------------------------ */

typedef struct fail_heap {
    long fail_at;
    long count;
} fail_heap;

static void *failing_realloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
    fail_heap *fh = ud;
    (void)old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    if (new_size > old_size && fh->count++ == fh->fail_at)
        return NULL;
    return realloc(ptr, new_size);
}

static void test_compile_nomem(void) {
    size_t len = 0;
    unsigned char *bytes = test_fixture("exec_flow", &len);
    if (!bytes)
        return;
    long k = 0;
    for (;; k++) {
        fail_heap fh = {k, 0};
        wp_heap h = {failing_realloc, &fh, 0, SIZE_MAX, false};
        wp_module *m = NULL;
        wp_err err;
        wp_status st = wp_module_decode_in(&h, bytes, len, &m, &err);
        if (st == WP_OK) {
            wp_module_free(m);
            CHECK_EQ(h.used, 0);
            break;
        }
        CHECK_EQ(st, WP_ERR_NOMEM);
        CHECK_EQ(h.used, 0); /* nothing leaked */
    }
    CHECK(k > 10);
    free(bytes);
}

int main(void) {
    RUN_TEST(test_integer_edges);
    RUN_TEST(test_float_edges);
    RUN_TEST(test_multi_value);
    RUN_TEST(test_locals_and_stack);
    RUN_TEST(test_branches);
    RUN_TEST(test_fused_forms);
    RUN_TEST(test_memory_access);
    RUN_TEST(test_madd_rmw);
    RUN_TEST(test_const_first_and_rmw_const);
    RUN_TEST(test_pairs);
    RUN_TEST(test_trap_kinds);
    RUN_TEST(test_stack_limits);
    RUN_TEST(test_budget);
    RUN_TEST(test_fuel);
    RUN_TEST(test_fuel_exact);
    RUN_TEST(test_host_pending);
    RUN_TEST(test_host_direct);
    RUN_TEST(test_host_trap_and_exit);
    RUN_TEST(test_host_nested);
    RUN_TEST(test_host_nested_limits);
    RUN_TEST(test_cross_instance);
    RUN_TEST(test_backtrace_wasm);
    RUN_TEST(test_backtrace_deep);
    RUN_TEST(test_backtrace_host);
    RUN_TEST(test_api_errors);
    RUN_TEST(test_exec_objects);
    RUN_TEST(test_compile_nomem);
    return TEST_EXIT();
}
