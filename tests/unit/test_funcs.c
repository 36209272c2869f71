/* test_funcs.c: function calls without the registry: wp_funcs, target syntax, a static pool's
 * turns and its full queue, the transport and host errors (runtime/pool.c). */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "test.h"
#include "wippy/component.h"
#include "wippy/lua.h"
#include "wippy/runtime.h"

static wp_module *guest;
static wp_wasm_config nap_cfg;

/* The resolver: "t:nap_static" (size 1, buffer 1), "t:nap_lazy", "t:http"; others unknown. */
static wp_status resolve(void *ud, const char *id, wp_func_target *out, wp_err *err) {
    (void)ud;
    *out = (wp_func_target){.target = {.behavior = wp_wasm_behavior(), .config = &nap_cfg}};
    if (strcmp(id, "t:nap_static") == 0)
        out->pool = (wp_pool_config){.type = WP_POOL_STATIC, .size = 1, .buffer = 1};
    else if (strcmp(id, "t:nap_lazy") == 0)
        out->pool = (wp_pool_config){.type = WP_POOL_LAZY, .max_size = 2};
    else if (strcmp(id, "t:http") == 0)
        out->transport = WP_TRANSPORT_WASI_HTTP;
    else
        return wp_err_set(err, WP_ERR_NOT_FOUND, "function %s not found", id);
    return WP_OK;
}

static wp_runtime *runtime_with(bool process_host, wp_funcs **f) {
    wp_runtime *rt = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_runtime_new(NULL, &rt, &err), WP_OK);
    wp_host_config hc = {.workers = 1, .terminal = !process_host};
    CHECK_EQ(wp_runtime_add_host(rt, "t:host", &hc, NULL, &err), WP_OK);
    CHECK_EQ(wp_funcs_new(rt, resolve, NULL, f, &err), WP_OK);
    return rt;
}

/* Waits (up to 10 s) until no process is alive. */
static void wait_idle(wp_runtime *rt) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 1000 && wp_runtime_count(rt) > 0; i++)
        nanosleep(&ts, NULL);
    CHECK_EQ(wp_runtime_count(rt), 0);
}

static void test_new_and_targets(void) {
    wp_funcs *f = NULL;
    wp_funcs *again = NULL;
    wp_pool *p = NULL;
    wp_err err = {0};
    wp_runtime *rt = runtime_with(true, &f);
    CHECK(wp_runtime_funcs(rt) == f);
    CHECK_EQ(wp_funcs_new(rt, resolve, NULL, &again, &err), WP_ERR_ALREADY_EXISTS);
    CHECK(again == NULL);
    CHECK_EQ(wp_funcs_lookup(f, "", &p, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "empty");
    CHECK_EQ(wp_funcs_lookup(f, "nap", &p, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "no namespace");
    CHECK_EQ(wp_funcs_lookup(f, ":nap", &p, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "no namespace");
    CHECK_EQ(wp_funcs_lookup(f, "t:", &p, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "no name");
    CHECK_EQ(wp_funcs_lookup(f, "t:none", &p, &err), WP_ERR_NOT_FOUND);
    CHECK(p == NULL);
    /* resolved once: the same pool again */
    wp_pool *q = NULL;
    CHECK_EQ(wp_funcs_lookup(f, "t:nap_lazy", &p, &err), WP_OK);
    CHECK_EQ(wp_funcs_lookup(f, "t:nap_lazy", &q, &err), WP_OK);
    CHECK(p == q);
    CHECK(strcmp(wp_pool_id(p), "t:nap_lazy") == 0);
    CHECK_EQ(wp_pool_target(p)->pool.max_size, 2);
    wp_runtime_free(rt);
    wp_funcs_free(f);
}

static wp_status call(wp_pool *p, uint64_t ms, wp_err *err) {
    wp_value args[2] = {wp_value_int((int64_t)ms * 1000000), wp_value_int(1)};
    wp_pid pid = WP_PID_NONE;
    return wp_pool_call(p, WP_PID_NONE, args, 2, 0, &pid, err);
}

static void test_static_pool(void) {
    wp_funcs *f = NULL;
    wp_pool *p = NULL;
    wp_err err = {0};
    uint32_t running = 0;
    uint32_t waiting = 0;
    wp_runtime *rt = runtime_with(true, &f);
    CHECK_EQ(wp_funcs_lookup(f, "t:nap_static", &p, &err), WP_OK);
    CHECK_EQ(call(p, 300, &err), WP_OK); /* its turn */
    CHECK_EQ(call(p, 300, &err), WP_OK); /* waits in the buffer */
    CHECK_EQ(call(p, 300, &err), WP_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(err.msg, "pool is full");
    wp_pool_counts(p, &running, &waiting);
    CHECK_EQ(running, 1);
    CHECK_EQ(waiting, 1);
    wait_idle(rt);
    wp_pool_counts(p, &running, &waiting);
    CHECK_EQ(running + waiting, 0);
    CHECK_EQ(call(p, 1, &err), WP_OK); /* free again */
    wait_idle(rt);
    wp_runtime_free(rt);
    wp_funcs_free(f);
}

static void test_call_errors(void) {
    wp_funcs *f = NULL;
    wp_pool *p = NULL;
    wp_err err = {0};
    wp_runtime *rt = runtime_with(true, &f);
    CHECK_EQ(wp_funcs_lookup(f, "t:http", &p, &err), WP_OK);
    CHECK_EQ(call(p, 1, &err), WP_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(err.msg, "wasi-http is not supported yet");
    wp_runtime_free(rt);
    wp_funcs_free(f);
    rt = runtime_with(false, &f); /* a terminal host only */
    CHECK_EQ(wp_funcs_lookup(f, "t:nap_lazy", &p, &err), WP_OK);
    CHECK_EQ(call(p, 1, &err), WP_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(err.msg, "no process.host");
    wp_runtime_free(rt);
    wp_funcs_free(f);
}

/* A Lua process calling funcs.call where no function can run: its error text as the result. */
static const char LUA_SRC[] = "local v, e = require('funcs').call('t:nap_lazy', 1, 2)\n"
                              "return tostring(e)";

static void check_lua_result(const wp_value *v, const char *want) {
    CHECK_EQ(v->kind, WP_VSTRING);
    CHECK_STR_CONTAINS(wp_value_str(v, NULL), want);
}

static void test_lua_without_funcs(void) {
    wp_lua_config cfg = {.id = "t:lua", .source = LUA_SRC, .source_len = sizeof LUA_SRC - 1,
                         .modules = WP_LUA_MOD_FUNCS};
    wp_err err = {0};
    wp_proc *p = NULL;
    /* standalone: no runtime at all */
    CHECK_EQ(wp_proc_new(wp_lua_behavior(), &cfg, NULL, 0, &p, &err), WP_OK);
    CHECK_EQ(wp_terminal_run(p, 0, &err), WP_OK);
    check_lua_result(wp_proc_result(p), "outside a runtime");
    wp_proc_free(p);
    /* a runtime nobody gave function calls */
    wp_runtime *rt = NULL;
    wp_host *h = NULL;
    wp_host_config hc = {.workers = 1};
    CHECK_EQ(wp_runtime_new(NULL, &rt, &err), WP_OK);
    CHECK_EQ(wp_runtime_add_host(rt, "t:host", &hc, &h, &err), WP_OK);
    wp_spawn_target t = {.behavior = wp_lua_behavior(), .config = &cfg};
    wp_value result = wp_value_nil();
    CHECK_EQ(wp_runtime_run(rt, h, &t, NULL, 0, &result, &err), WP_OK);
    check_lua_result(&result, "calls no functions");
    wp_value_free(&result);
    wp_runtime_free(rt);
}

/* The import in a process.wasm run without a runtime: the err case, not a hang or a trap. */
static void test_guest_without_runtime(void) {
    size_t len = 0;
    unsigned char *bytes = test_fixture("funcs_probe", &len);
    wp_module *m = NULL;
    wp_wit *wit = NULL;
    wp_err err = {0};
    static const char WIT[] = "probe: func() -> result<string, string>;";
    CHECK(bytes != NULL);
    if (!bytes || wp_module_decode(bytes, len, &m, &err) != WP_OK) {
        free(bytes);
        return;
    }
    free(bytes);
    CHECK_EQ(wp_wit_parse(WIT, sizeof WIT - 1, &wit, &err), WP_OK);
    wp_wasm_config cfg = {.module = m, .method = "probe", .wit = wp_wit_find_func(wit, "probe")};
    wp_proc *p = NULL;
    CHECK_EQ(wp_proc_new(wp_wasm_behavior(), &cfg, NULL, 0, &p, &err), WP_OK);
    CHECK_EQ(wp_terminal_run(p, 0, &err), WP_OK);
    const wp_value *r = wp_proc_result(p);
    const wp_value *e = r->kind == WP_VMAP ? wp_value_map_get(r, "err") : NULL;
    CHECK(e != NULL);
    CHECK_STR_CONTAINS(e ? wp_value_str(e, NULL) : NULL, "no runtime");
    wp_proc_free(p);
    wp_wit_free(wit);
    wp_module_free(m);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    size_t len = 0;
    unsigned char *bytes = test_fixture("rt_guest", &len);
    wp_err err = {0};
    if (!bytes || wp_module_decode(bytes, len, &guest, &err) != WP_OK) {
        fprintf(stderr, "cannot load rt_guest: %s\n", err.msg);
        return 1;
    }
    free(bytes);
    nap_cfg = (wp_wasm_config){.module = guest, .method = "nap", .wasi = true};
    wp_wasi_config_init(&nap_cfg.wasi_cfg);
    RUN_TEST(test_new_and_targets);
    RUN_TEST(test_static_pool);
    RUN_TEST(test_call_errors);
    RUN_TEST(test_lua_without_funcs);
    RUN_TEST(test_guest_without_runtime);
    wp_module_free(guest);
    return TEST_EXIT();
}
