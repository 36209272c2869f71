/* test_wasi2_runtime.c: a component sleeping through WASI 0.2 (subscribe-duration, then
 * pollable.block) as a runtime process parks on the I/O loop: a busy process on the same
 * one-worker host keeps running the whole time. */
#include <stdatomic.h>

#include "test_wasi2.h"
#include "wippy/runtime.h"

#ifdef WP_TEST_COMPONENT_DIR
#define HAVE_FIXTURES 1
#else
#define HAVE_FIXTURES 0
#define WP_TEST_COMPONENT_DIR ""
#endif

#define SLEEP_NS 500000000u /* the component's sleep */
#define GAP_NS 400000000u   /* a pause of the busy process this long means the worker blocked */

/* The busy process: steps until told to stop, counting steps and its longest pause. */
static atomic_uint_fast64_t ticks;
static atomic_bool stop;
static uint64_t last_tick; /* only the worker touches these two while it runs */
static uint64_t max_gap;

static wp_status tick_init(const void *config, const wp_value *args, uint32_t nargs,
                           void **state, wp_err *err) {
    (void)config;
    (void)args;
    (void)nargs;
    (void)err;
    *state = NULL;
    return WP_OK;
}

static wp_step tick_step(void *state, uint64_t budget, wp_value *result) {
    (void)state;
    (void)budget;
    uint64_t now = wp_wasi_now();
    if (last_tick && now - last_tick > max_gap)
        max_gap = now - last_tick;
    last_tick = now;
    atomic_fetch_add(&ticks, 1);
    if (atomic_load(&stop)) {
        *result = wp_value_nil();
        return WP_STEP_DONE;
    }
    return WP_STEP_BUDGET;
}

static void tick_close(void *state) { (void)state; }

static const wp_behavior TICKER = {
    .name = "test.ticker", .init = tick_init, .step = tick_step, .close = tick_close};

static wp_component *load(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", WP_TEST_COMPONENT_DIR, name);
    size_t len = 0;
    unsigned char *bytes = test_read_file(path, &len);
    wp_component *c = NULL;
    wp_err err;
    if (!bytes || wp_component_decode(bytes, len, &c, &err) != WP_OK)
        fprintf(stderr, "cannot load %s\n", path);
    free(bytes);
    return c;
}

static void test_sleeper_yields_its_worker(void) {
    wp_component *c = load("wasi2_sleep");
    CHECK(c != NULL);
    if (!c)
        return;
    wp_runtime *rt = NULL;
    wp_host *h = NULL;
    wp_err err;
    wp_host_config hc = {.workers = 1};
    CHECK_EQ(wp_runtime_new(NULL, &rt, &err), WP_OK);
    CHECK_EQ(wp_runtime_add_host(rt, "test:one", &hc, &h, &err), WP_OK);
    wp_spawn_target ticker = {.behavior = &TICKER};
    wp_pid pid;
    CHECK_EQ(wp_spawn_target_on(rt, WP_PID_NONE, h, &ticker, NULL, 0, 0, &pid, &err), WP_OK);
    while (atomic_load(&ticks) == 0) /* the ticker owns the worker now */
        ;
    const char *const imports[] = {"wasi:clocks", "wasi:poll"};
    wp_component_config cc = {.component = c, .method = "sleep", .imports = imports,
                              .nimports = 2};
    wp_wasi_config_init(&cc.wasi_cfg);
    wp_spawn_target sleeper = {.behavior = wp_component_behavior(), .config = &cc};
    wp_value arg = wp_value_int(SLEEP_NS);
    wp_value slept = wp_value_nil();
    uint64_t before = atomic_load(&ticks);
    uint64_t t0 = wp_wasi_now();
    CHECK_EQ(wp_runtime_run(rt, h, &sleeper, &arg, 1, &slept, &err), WP_OK);
    uint64_t elapsed = wp_wasi_now() - t0;
    uint64_t during = atomic_load(&ticks) - before;
    atomic_store(&stop, true);
    if (slept.kind != WP_VINT) {
        fprintf(stderr, "sleeper's result: ");
        wp_value_print(stderr, &slept);
        fprintf(stderr, "\n");
    }
    CHECK(slept.kind == WP_VINT && slept.of.i >= (int64_t)SLEEP_NS);
    CHECK(elapsed >= SLEEP_NS);
    if (getenv("WP_TEST_VERBOSE"))
        fprintf(stderr, "%llu ticks during the sleep, %llu ms slept\n",
                (unsigned long long)during, (unsigned long long)(elapsed / 1000000u));
    CHECK(during >= 10); /* the busy process ran while the component slept... */
    wp_value_free(&slept);
    wp_runtime_shutdown(rt, 5000);
    wp_runtime_free(rt);
    if (max_gap >= GAP_NS || getenv("WP_TEST_VERBOSE"))
        fprintf(stderr, "longest pause of the busy process: %llu ms\n",
                (unsigned long long)(max_gap / 1000000u));
    CHECK(max_gap < GAP_NS); /* ...and was never held up for the length of the sleep */
    wp_component_free(c);
}

int main(void) {
    if (!HAVE_FIXTURES) {
        fprintf(stderr, "SKIPPED: component fixtures are not built here\n");
        return 77;
    }
    RUN_TEST(test_sleeper_yields_its_worker);
    return TEST_EXIT();
}
