/* test_lua.c: the lua layer on its own: Lua <-> wp_value conversion, durations, and the Lua
 * behaviour driven standalone (no runtime): results, errors, Init failures, sleeping through
 * the terminal runner, preemption by the count hook, memory limits. */
#include <lauxlib.h>
#include <lualib.h>

#include "../../src/base/compiler.h"
#include "../../src/lua/internal.h"
#include "test.h"
#include "wippy/lua.h"

/* ---- Conversion ---------------------------------------------------------------------------- */

/* Evaluates Lua expression text in a fresh state and converts its value. */
static wp_status eval_value(const char *expr, wp_value *out, wp_err *err) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    char code[512];
    snprintf(code, sizeof code, "return %s", expr);
    wp_status st = WP_ERR_INTERNAL;
    if (luaL_dostring(L, code) == LUA_OK)
        st = wp_lua_to_value(L, -1, out, err);
    else
        fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return st;
}

static void test_scalars(void) {
    wp_value v;
    wp_err err = {0};
    CHECK_EQ(eval_value("nil", &v, &err), WP_OK);
    CHECK_EQ(v.kind, WP_VNIL);
    CHECK_EQ(eval_value("true", &v, &err), WP_OK);
    CHECK(v.kind == WP_VBOOL && v.of.b);
    CHECK_EQ(eval_value("-7", &v, &err), WP_OK);
    CHECK(v.kind == WP_VINT && v.of.i == -7);
    CHECK_EQ(eval_value("math.maxinteger", &v, &err), WP_OK);
    CHECK(v.kind == WP_VINT && v.of.i == INT64_MAX);
    CHECK_EQ(eval_value("2.5", &v, &err), WP_OK);
    CHECK(v.kind == WP_VFLOAT && v.of.f == 2.5);
    CHECK_EQ(eval_value("'a\\0b'", &v, &err), WP_OK);
    size_t len = 0;
    const char *s = wp_value_str(&v, &len);
    CHECK(v.kind == WP_VSTRING && len == 3 && memcmp(s, "a\0b", 3) == 0);
    wp_value_free(&v);
}

static void test_tables(void) {
    wp_value v;
    wp_err err = {0};
    CHECK_EQ(eval_value("{10, 20, 30}", &v, &err), WP_OK);
    CHECK_EQ(v.kind, WP_VARRAY);
    CHECK_EQ(wp_value_len(&v), 3);
    CHECK_EQ(wp_value_at(&v, 2)->of.i, 30);
    wp_value_free(&v);
    /* holes, keys from 0, and an empty table are maps */
    CHECK_EQ(eval_value("{1, nil, 3}", &v, &err), WP_OK);
    CHECK_EQ(v.kind, WP_VMAP);
    CHECK_EQ(wp_value_len(&v), 2);
    wp_value_free(&v);
    CHECK_EQ(eval_value("{[0] = 'a', [1] = 'b'}", &v, &err), WP_OK);
    CHECK_EQ(v.kind, WP_VMAP);
    wp_value_free(&v);
    CHECK_EQ(eval_value("{[1] = 'a', [3] = 'c', [4] = 'd'}", &v, &err), WP_OK);
    CHECK_EQ(v.kind, WP_VMAP);
    wp_value_free(&v);
    CHECK_EQ(eval_value("{}", &v, &err), WP_OK);
    CHECK(v.kind == WP_VMAP && wp_value_len(&v) == 0);
    wp_value_free(&v);
    CHECK_EQ(eval_value("{name = 'x', n = 1, [2.5] = true, [true] = {1}}", &v, &err), WP_OK);
    CHECK_EQ(v.kind, WP_VMAP);
    CHECK_EQ(wp_value_len(&v), 4);
    CHECK_EQ(wp_value_map_get(&v, "n")->of.i, 1);
    wp_value_free(&v);
}

static void test_refused(void) {
    wp_value v = wp_value_nil();
    wp_err err = {0};
    CHECK_EQ(eval_value("print", &v, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "function");
    CHECK_EQ(eval_value("{f = print}", &v, &err), WP_ERR_INVALID);
    CHECK_EQ(v.kind, WP_VNIL); /* nothing half-built is left */
    CHECK_EQ(eval_value("{[{}] = 1}", &v, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "table key");
    CHECK_EQ(eval_value("coroutine.create(print)", &v, &err), WP_ERR_INVALID);
    CHECK_EQ(eval_value("io.stdout", &v, &err), WP_ERR_INVALID);
    /* a cycle is nesting without end */
    CHECK_EQ(eval_value("(function() local t = {} t[1] = t return t end)()", &v, &err),
             WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "nested deeper");
}

/* Pushes v into a state, reads it back: the same value. */
static void round_trip(const wp_value *v) {
    lua_State *L = luaL_newstate();
    wp_value back = wp_value_nil();
    wp_err err = {0};
    wp_lua_push_value(L, v);
    CHECK_EQ(wp_lua_to_value(L, -1, &back, &err), WP_OK);
    CHECK(wp_value_equal(v, &back));
    wp_value_free(&back);
    lua_close(L);
}

static void test_round_trips(void) {
    wp_value arr;
    wp_value map;
    wp_value item;
    wp_value key;
    CHECK_EQ(wp_value_array(&arr, 0), WP_OK);
    for (int i = 0; i < 5; i++) {
        item = wp_value_int(i * i);
        wp_value_array_push(&arr, &item);
    }
    wp_value_cstring(&item, "text");
    wp_value_array_push(&arr, &item);
    wp_value_map(&map, 0);
    wp_value_map_set_str(&map, "list", &arr);
    item = wp_value_float(0.25);
    key = wp_value_int(7);
    wp_value_map_set(&map, &key, &item);
    wp_value_string(&item, "\x00\xff", 2);
    wp_value_map_set_str(&map, "binary", &item);
    round_trip(&map);

    wp_value cause;
    wp_value err;
    wp_value_error(&cause, WP_ERR_NOT_FOUND, "inner", NULL);
    wp_value_error(&err, WP_ERR_TIMEOUT, "outer", &cause);
    round_trip(&err);
    wp_value_map_set_str(&map, "error", &err);
    round_trip(&map);
    wp_value_free(&map);
}

static void test_bytes_become_strings(void) {
    lua_State *L = luaL_newstate();
    wp_value b;
    wp_value_bytes(&b, "ab", 2);
    wp_lua_push_value(L, &b);
    CHECK_EQ(lua_type(L, -1), LUA_TSTRING);
    CHECK_EQ(lua_rawlen(L, -1), 2);
    wp_value_free(&b);
    lua_close(L);
}

/* ---- Durations ----------------------------------------------------------------------------- */

static void test_durations(void) {
    static const struct {
        const char *text;
        int64_t ns;
    } good[] = {{"0", 0},
                {"1ns", 1},
                {"1us", 1000},
                {"1\xc2\xb5s", 1000},
                {"1.5ms", 1500000},
                {"-2s", -2000000000},
                {"+3m", 180000000000},
                {"1h30m45s500ms", 5445500000000},
                {".5s", 500000000},
                {"2h0m0s", 7200000000000}};
    static const char *const bad[] = {"", "1", "s", "1x", "1.s.", "--1s", "1h x", "99999999999h"};
    for (size_t i = 0; i < WP_ARRAY_LEN(good); i++) {
        int64_t ns = -42;
        CHECK(wp__lua_parse_duration(good[i].text, &ns));
        CHECK_EQ(ns, good[i].ns);
    }
    for (size_t i = 0; i < WP_ARRAY_LEN(bad); i++) {
        int64_t ns;
        if (wp__lua_parse_duration(bad[i], &ns))
            fprintf(stderr, "accepted bad duration \"%s\"\n", bad[i]);
        CHECK(!wp__lua_parse_duration(bad[i], &ns));
    }
}

/* ---- The behaviour, standalone ------------------------------------------------------------- */

static wp_lua_config config(const char *source, const char *method) {
    wp_lua_config cfg = {0};
    cfg.id = "test:lua";
    cfg.source = source;
    cfg.source_len = strlen(source);
    cfg.method = method;
    cfg.modules = WP_LUA_MOD_TIME;
    return cfg;
}

/* Runs source's method to the end with the terminal runner; the result in *out. */
static wp_status run_lua(const wp_lua_config *cfg, const wp_value *args, uint32_t nargs,
                         wp_value *out, wp_err *err) {
    wp_proc *p = NULL;
    wp_status st = wp_proc_new(wp_lua_behavior(), cfg, args, nargs, &p, err);
    if (st != WP_OK)
        return st;
    st = wp_terminal_run(p, 10000, err);
    wp_proc_take_result(p, out);
    wp_proc_free(p);
    return st;
}

static void test_results(void) {
    wp_lua_config cfg =
        config("local function main(a, b) return {sum = a + b, list = {a, b}} end "
               "return {main = main}",
               "main");
    wp_value args[2] = {wp_value_int(40), wp_value_int(2)};
    wp_value out = wp_value_nil();
    wp_err err = {0};
    CHECK_EQ(run_lua(&cfg, args, 2, &out, &err), WP_OK);
    CHECK_EQ(out.kind, WP_VMAP);
    CHECK_EQ(wp_value_map_get(&out, "sum")->of.i, 42);
    CHECK_EQ(wp_value_len(wp_value_map_get(&out, "list")), 2);
    wp_value_free(&out);

    /* a global function works as the method too; (nil, message) is an error result */
    cfg = config("function go() return nil, 'it went wrong' end", "go");
    CHECK_EQ(run_lua(&cfg, NULL, 0, &out, &err), WP_OK);
    CHECK_EQ(wp_value_error_kind(&out), WP_ERR_INTERNAL);
    CHECK_STR_CONTAINS(wp_value_error_msg(&out), "it went wrong");
    wp_value_free(&out);

    cfg = config("return nil, errors.new({message = 'gone', kind = errors.NOT_FOUND})", NULL);
    CHECK_EQ(run_lua(&cfg, NULL, 0, &out, &err), WP_OK);
    CHECK_EQ(wp_value_error_kind(&out), WP_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(wp_value_error_msg(&out), "gone");
    wp_value_free(&out);

    cfg = config("return function() end", NULL);
    CHECK_EQ(run_lua(&cfg, NULL, 0, &out, &err), WP_OK);
    CHECK_EQ(wp_value_error_kind(&out), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(wp_value_error_msg(&out), "cannot convert");
    wp_value_free(&out);
}

static void test_errors(void) {
    wp_lua_config cfg = config("local function inner() error('deep trouble') end\n"
                               "function main() inner() end",
                               "main");
    wp_value out = wp_value_nil();
    wp_err err = {0};
    CHECK_EQ(run_lua(&cfg, NULL, 0, &out, &err), WP_OK);
    CHECK_EQ(wp_value_error_kind(&out), WP_ERR_INTERNAL);
    CHECK_STR_CONTAINS(wp_value_error_msg(&out), "test:lua:1: deep trouble");
    CHECK_STR_CONTAINS(wp_value_error_msg(&out), "stack traceback:");
    CHECK_STR_CONTAINS(wp_value_error_msg(&out), "in upvalue 'inner'");
    wp_value_free(&out);

    /* an error in a spawned coroutine ends the process too */
    cfg = config("coroutine.spawn(function() error('in a task') end) "
                 "local time = require('time') time.sleep('50ms') return 1",
                 NULL);
    CHECK_EQ(run_lua(&cfg, NULL, 0, &out, &err), WP_OK);
    CHECK_STR_CONTAINS(wp_value_error_msg(&out), "in a task");
    wp_value_free(&out);
}

static void test_init_failures(void) {
    wp_proc *p = NULL;
    wp_err err = {0};
    wp_lua_config cfg = config("return {", "main");
    CHECK_EQ(wp_proc_new(wp_lua_behavior(), &cfg, NULL, 0, &p, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "unexpected symbol");
    cfg = config("return {}", "main");
    CHECK_EQ(wp_proc_new(wp_lua_behavior(), &cfg, NULL, 0, &p, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "test:lua: no function main");
    cfg = config("error('at load')", "main");
    CHECK_EQ(wp_proc_new(wp_lua_behavior(), &cfg, NULL, 0, &p, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "at load");
    cfg = config("local x = require('io')", "main");
    CHECK_EQ(wp_proc_new(wp_lua_behavior(), &cfg, NULL, 0, &p, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "module 'io' is not enabled for test:lua");
    cfg = config("local x = require('socket')", "main");
    CHECK_EQ(wp_proc_new(wp_lua_behavior(), &cfg, NULL, 0, &p, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "module 'socket' not found");
    cfg = config("\x1bLua", NULL); /* binary chunks are refused */
    CHECK_EQ(wp_proc_new(wp_lua_behavior(), &cfg, NULL, 0, &p, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "binary");
    CHECK(p == NULL);
}

static void test_sandbox(void) {
    wp_lua_config cfg = config("return {io == nil, os.execute == nil, dofile == nil, "
                               "package == nil, debug == nil, os.time() > 0, "
                               "load('\\27Lua') == nil, load('return 1')() == 1}",
                               NULL);
    wp_value out = wp_value_nil();
    wp_err err = {0};
    CHECK_EQ(run_lua(&cfg, NULL, 0, &out, &err), WP_OK);
    CHECK_EQ(out.kind, WP_VARRAY);
    for (size_t i = 0; i < wp_value_len(&out); i++)
        CHECK(wp_value_at(&out, i)->kind == WP_VBOOL && wp_value_at(&out, i)->of.b);
    wp_value_free(&out);
}

static void test_sleep_standalone(void) {
    /* time.sleep makes the step pending with a deadline; the terminal runner waits for it */
    wp_lua_config cfg = config("local time = require('time') local t = time.now() "
                               "time.sleep('30ms') return time.now():sub(t):milliseconds()",
                               NULL);
    wp_value out = wp_value_nil();
    wp_err err = {0};
    CHECK_EQ(run_lua(&cfg, NULL, 0, &out, &err), WP_OK);
    CHECK(out.kind == WP_VINT && out.of.i >= 30 && out.of.i < 1000);

    /* outside a runtime the process module says so */
    cfg = config("return process.pid()", NULL);
    CHECK_EQ(run_lua(&cfg, NULL, 0, &out, &err), WP_OK);
    CHECK_STR_CONTAINS(wp_value_error_msg(&out), "outside a runtime");
    wp_value_free(&out);

    /* waiting on a channel nobody can send to: nothing a host can wait for */
    cfg = config("channel.new():receive()", NULL);
    CHECK_EQ(run_lua(&cfg, NULL, 0, &out, &err), WP_OK);
    CHECK_EQ(wp_value_error_kind(&out), WP_ERR_UNAVAILABLE);
    wp_value_free(&out);
}

static void test_preemption(void) {
    wp_lua_config cfg = config("local n = 0 for i = 1, 5000000 do n = n + 1 end return n", NULL);
    wp_proc *p = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_proc_new(wp_lua_behavior(), &cfg, NULL, 0, &p, &err), WP_OK);
    int slices = 0;
    wp_step s;
    while ((s = wp_proc_step(p, 1000)) == WP_STEP_BUDGET)
        slices++;
    CHECK_EQ(s, WP_STEP_DONE);
    /* 5M iterations of about 4 instructions, 10,000 instructions a slice */
    CHECK(slices > 100);
    CHECK_EQ(wp_proc_result(p)->of.i, 5000000);
    wp_proc_free(p);
}

static void test_memory_limit(void) {
    wp_lua_config cfg = config("local t = {} for i = 1, 1e7 do t[i] = ('x'):rep(100) .. i end",
                               NULL);
    cfg.memory_limit = 4u << 20;
    wp_value out = wp_value_nil();
    wp_err err = {0};
    CHECK_EQ(run_lua(&cfg, NULL, 0, &out, &err), WP_OK);
    CHECK_EQ(wp_value_error_kind(&out), WP_ERR_NOMEM);
    wp_value_free(&out);
    /* too small to even start */
    cfg.memory_limit = 1024;
    wp_proc *p = NULL;
    CHECK_EQ(wp_proc_new(wp_lua_behavior(), &cfg, NULL, 0, &p, &err), WP_ERR_NOMEM);
}

static void test_module_names(void) {
    CHECK_EQ(wp_lua_module_bit("time"), WP_LUA_MOD_TIME);
    CHECK_EQ(wp_lua_module_bit("io"), WP_LUA_MOD_IO);
    CHECK_EQ(wp_lua_module_bit("env"), WP_LUA_MOD_ENV);
    CHECK_EQ(wp_lua_module_bit("json"), 0);
}

int main(void) {
    RUN_TEST(test_scalars);
    RUN_TEST(test_tables);
    RUN_TEST(test_refused);
    RUN_TEST(test_round_trips);
    RUN_TEST(test_bytes_become_strings);
    RUN_TEST(test_durations);
    RUN_TEST(test_results);
    RUN_TEST(test_errors);
    RUN_TEST(test_init_failures);
    RUN_TEST(test_sandbox);
    RUN_TEST(test_sleep_standalone);
    RUN_TEST(test_preemption);
    RUN_TEST(test_memory_limit);
    RUN_TEST(test_module_names);
    return TEST_EXIT();
}
