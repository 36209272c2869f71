/* test_host_limits.c: a host's admission limits (max_processes, max_memory_bytes) from C, what
 * a process.wasm reserves, and its limits' errors: memory at instantiation, fuel and stack
 * traps naming their limit, proc_exit inside a method. */
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "wippy/runtime.h"
#include "wippy/wat.h"

/* ---- A holder: a process that waits on its mailbox and ends at its first message ----------- */

static wp_status hold_init(const void *config, const wp_value *args, uint32_t nargs,
                           void **state, wp_err *err) {
    (void)args;
    (void)nargs;
    (void)err;
    *state = (void *)config;
    return WP_OK;
}

static wp_step hold_step(void *state, uint64_t budget, wp_value *result) {
    (void)state;
    (void)budget;
    wp_msg *m = NULL;
    if (!wp_proc_recv(wp_proc_current(), &m))
        return WP_STEP_PENDING;
    wp_msg_free(m);
    *result = wp_value_int(1);
    return WP_STEP_DONE;
}

static bool hold_wait(void *state, wp_wait *out) {
    (void)state;
    *out = (wp_wait){.deadline = WP_WASI_NO_DEADLINE, .mailbox = true};
    return true;
}

static wp_status hold_wake(void *state, bool *ready, wp_err *err) {
    (void)state;
    (void)err;
    *ready = true;
    return WP_OK;
}

static void hold_close(void *state) { (void)state; }

/* config: a uint64_t, the bytes one holder reserves. */
static uint64_t hold_reserve(const void *config) { return *(const uint64_t *)config; }

static const wp_behavior holder = {.name = "test.holder",
                                   .init = hold_init,
                                   .step = hold_step,
                                   .wait = hold_wait,
                                   .wake = hold_wake,
                                   .close = hold_close,
                                   .mailbox = true,
                                   .reserve = hold_reserve};

static wp_host *host_with(wp_runtime *rt, uint32_t max_procs, uint64_t max_bytes) {
    wp_host *h = NULL;
    wp_err err = {0};
    wp_host_config hc = {.workers = 1, .max_processes = max_procs, .max_memory_bytes = max_bytes};
    CHECK_EQ(wp_runtime_add_host(rt, "t:h", &hc, &h, &err), WP_OK);
    return h;
}

static wp_status spawn_holder(wp_runtime *rt, wp_host *h, const uint64_t *bytes, wp_pid *pid,
                              wp_err *err) {
    wp_spawn_target t = {.behavior = &holder, .config = bytes};
    return wp_spawn_target_on(rt, WP_PID_NONE, h, &t, NULL, 0, 0, pid, err);
}

/* Sends each pid a message and waits (up to 10 s) until h has no process left. */
static void release_all(wp_runtime *rt, wp_host *h, const wp_pid *pids, uint32_t n) {
    wp_err err = {0};
    for (uint32_t i = 0; i < n; i++) {
        wp_value v = wp_value_nil();
        CHECK_EQ(wp_send(rt, WP_PID_NONE, pids[i], "go", &v, &err), WP_OK);
    }
    for (int i = 0; i < 10000 && wp_host_count(h) > 0; i++)
        usleep(1000);
    CHECK_EQ(wp_host_count(h), 0);
}

static void test_max_processes(void) {
    wp_runtime *rt = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_runtime_new(NULL, &rt, &err), WP_OK);
    wp_host *h = host_with(rt, 3, 0);
    uint64_t none = 0;
    wp_pid pids[3];
    for (uint32_t i = 0; i < 3; i++)
        CHECK_EQ(spawn_holder(rt, h, &none, &pids[i], &err), WP_OK);
    CHECK_EQ(wp_host_count(h), 3);
    wp_pid extra = 7;
    CHECK_EQ(spawn_holder(rt, h, &none, &extra, &err), WP_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(err.msg, "host t:h is full: max_processes (3) processes are alive");
    CHECK_EQ(extra, WP_PID_NONE);
    CHECK_EQ(wp_host_count(h), 3); /* the refusal counted nothing */
    release_all(rt, h, pids, 3);
    CHECK_EQ(spawn_holder(rt, h, &none, &pids[0], &err), WP_OK); /* room again */
    release_all(rt, h, pids, 1);
    wp_runtime_free(rt);
}

static void test_max_memory(void) {
    wp_runtime *rt = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_runtime_new(NULL, &rt, &err), WP_OK);
    wp_host *h = host_with(rt, 0, 10u << 20);
    uint64_t four = 4u << 20;
    uint64_t two = 2u << 20;
    uint64_t eleven = 11u << 20;
    wp_pid pids[3];
    CHECK_EQ(spawn_holder(rt, h, &four, &pids[0], &err), WP_OK);
    CHECK_EQ(spawn_holder(rt, h, &four, &pids[1], &err), WP_OK);
    CHECK_EQ(wp_host_reserved(h), 8u << 20);
    wp_pid extra = WP_PID_NONE;
    CHECK_EQ(spawn_holder(rt, h, &four, &extra, &err), WP_ERR_NOMEM);
    CHECK_STR_CONTAINS(err.msg, "host t:h is out of memory for one more process: it reserves "
                                "4096 KiB, 8192 of the host's 10240 KiB are reserved");
    CHECK_EQ(spawn_holder(rt, h, &eleven, &extra, &err), WP_ERR_NOMEM); /* never fits */
    CHECK_EQ(wp_host_count(h), 2);
    CHECK_EQ(spawn_holder(rt, h, &two, &pids[2], &err), WP_OK); /* exactly full */
    CHECK_EQ(wp_host_reserved(h), 10u << 20);
    release_all(rt, h, pids, 3);
    CHECK_EQ(wp_host_reserved(h), 0);
    wp_runtime_free(rt);
}

/* ---- process.wasm ------------------------------------------------------------------------- */

static wp_module *module_of(const char *text) {
    uint8_t *bin = NULL;
    size_t len = 0;
    wp_module *m = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_wat_to_wasm(text, strlen(text), &bin, &len, &err), WP_OK);
    CHECK_EQ(wp_module_decode(bin, len, &m, &err), WP_OK);
    wp_wat_free(bin);
    return m;
}

static uint64_t reserve_of(wp_module *m, uint32_t max_pages) {
    wp_wasm_config cfg = {.module = m, .method = "f"};
    cfg.limits.max_memory_pages = max_pages;
    return wp_wasm_behavior()->reserve(&cfg);
}

static void test_wasm_reserve(void) {
    wp_module *bounded = module_of("(memory 2 10) (func (export \"f\"))");
    CHECK_EQ(reserve_of(bounded, 0), 2 * WP_PAGE_SIZE);  /* no limit: its initial size */
    CHECK_EQ(reserve_of(bounded, 5), 5 * WP_PAGE_SIZE);  /* the limit is its ceiling */
    CHECK_EQ(reserve_of(bounded, 20), 10 * WP_PAGE_SIZE); /* its declared max is lower */
    CHECK_EQ(reserve_of(bounded, 1), 2 * WP_PAGE_SIZE);  /* never below its initial size */
    wp_module *imported = module_of("(import \"a\" \"m\" (memory 3)) (func (export \"f\"))");
    CHECK_EQ(reserve_of(imported, 16), 0); /* not its own */
    wp_module *none = module_of("(func (export \"f\"))");
    CHECK_EQ(reserve_of(none, 16), 0);
    wp_module_free(bounded);
    wp_module_free(imported);
    wp_module_free(none);
}

/* Runs method of text to its end with limits on the calling thread; *out gets the result. */
static void run_standalone(const char *text, const char *method, wp_wasm_limits limits,
                           bool wasi, wp_value *out) {
    wp_module *m = module_of(text);
    wp_wasm_config cfg = {.module = m, .method = method, .wasi = wasi, .limits = limits};
    wp_wasi_config_init(&cfg.wasi_cfg);
    wp_proc *p = NULL;
    wp_err err = {0};
    *out = wp_value_nil();
    CHECK_EQ(wp_proc_new(wp_wasm_behavior(), &cfg, NULL, 0, &p, &err), WP_OK);
    if (p) {
        CHECK_EQ(wp_terminal_run(p, 0, &err), WP_OK);
        wp_proc_take_result(p, out);
    }
    wp_proc_free(p);
    wp_module_free(m);
}

static void check_error(const wp_value *v, wp_status kind, const char *text) {
    CHECK_EQ(v->kind, WP_VERROR);
    if (v->kind != WP_VERROR)
        return;
    CHECK_EQ(wp_value_error_kind(v), kind);
    CHECK_STR_CONTAINS(wp_value_error_msg(v), text);
}

static void test_wasm_limits(void) {
    wp_value v;
    run_standalone("(memory 17) (func (export \"f\"))", "f",
                   (wp_wasm_limits){.max_memory_pages = 16}, false, &v);
    check_error(&v, WP_ERR_NOMEM, "memory 0 needs 17 pages (1088 KiB) at instantiation, over "
                                  "limits.max_memory_mb (1 MiB)");
    wp_value_free(&v);
    run_standalone("(memory 16) (func (export \"f\") (result i32) (i32.const 5))", "f",
                   (wp_wasm_limits){.max_memory_pages = 16}, false, &v);
    CHECK(v.kind == WP_VINT && v.of.i == 5); /* exactly the limit instantiates */
    wp_value_free(&v);
    run_standalone("(func (export \"f\") (loop $l (br $l)))", "f",
                   (wp_wasm_limits){.fuel = 500}, false, &v);
    check_error(&v, WP_ERR_TRAP, "fuel exhausted");
    CHECK_STR_CONTAINS(wp_value_error_msg(&v), "(limits.max_fuel: 500)");
    wp_value_free(&v);
    run_standalone("(func $r (export \"f\") (call $r))", "f",
                   (wp_wasm_limits){.max_call_depth = 40}, false, &v);
    check_error(&v, WP_ERR_TRAP, "call stack exhausted");
    CHECK_STR_CONTAINS(wp_value_error_msg(&v), "(limits.max_stack: 40 frames)");
    wp_value_free(&v);
    run_standalone("(import \"wasi_snapshot_preview1\" \"proc_exit\" (func $x (param i32)))"
                   "(func (export \"f\") (result i32) (call $x (i32.const 3)) (i32.const 1))",
                   "f", (wp_wasm_limits){0}, true, &v);
    check_error(&v, WP_ERR_TRAP, "proc_exit(3) during f: the call ended without its result");
    wp_value_free(&v);
    run_standalone("(import \"wasi_snapshot_preview1\" \"proc_exit\" (func $x (param i32)))"
                   "(memory (export \"memory\") 1)"
                   "(func (export \"_start\") (call $x (i32.const 3)))",
                   "_start", (wp_wasm_limits){0}, true, &v);
    CHECK(v.kind == WP_VINT && v.of.i == 3); /* a command's exit status stays its result */
    wp_value_free(&v);
}

int main(void) {
    RUN_TEST(test_max_processes);
    RUN_TEST(test_max_memory);
    RUN_TEST(test_wasm_reserve);
    RUN_TEST(test_wasm_limits);
    return TEST_EXIT();
}
