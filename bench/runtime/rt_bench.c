/* rt_bench.c: the runtime's benchmarks: spawn-to-EXIT throughput of trivial process.wasm
 * processes, and resident memory per idle sleeping WASM process with many alive.
 *
 * usage: rt-bench [-n SPAWNS] [-s SLEEPERS] [-w WORKERS] [-f GUEST.wasm]
 * -f: measure the sleepers with a WASI command instead (run as "_start" with argv
 *     [guest, 3600000], e.g. tests/wasi's sleep guest: a C program sleeping that many ms).
 * Prints one line per figure; exits 1 if a run went wrong (lost EXITs). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wippy/runtime.h"
#include "wippy/wat.h"

/* ---- A counting observer: a mailbox behaviour that counts EXIT events ---------------------- */

typedef struct counter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t exits;
    uint64_t good; /* EXITs whose value is 42 */
} counter;

static wp_status cnt_init(const void *config, const wp_value *args, uint32_t nargs,
                          void **state, wp_err *err) {
    (void)args;
    (void)nargs;
    (void)err;
    *state = (void *)config;
    return WP_OK;
}

static wp_step cnt_step(void *state, uint64_t budget, wp_value *result) {
    counter *c = state;
    (void)budget;
    (void)result;
    wp_proc *self = wp_proc_current();
    wp_msg *m;
    uint64_t n = 0;
    uint64_t good = 0;
    while (wp_proc_recv(self, &m)) {
        n += m->kind == WP_MSG_EXIT || m->kind == WP_MSG_MESSAGE;
        good += m->kind == WP_MSG_EXIT && m->value.kind == WP_VINT && m->value.of.i == 42;
        wp_msg_free(m);
    }
    if (n) {
        pthread_mutex_lock(&c->lock);
        c->exits += n;
        c->good += good;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
    }
    return WP_STEP_PENDING;
}

static bool cnt_wait(void *state, wp_wait *out) {
    (void)state;
    *out = (wp_wait){.deadline = WP_WASI_NO_DEADLINE, .mailbox = true};
    return true;
}

static wp_status cnt_wake(void *state, bool *ready, wp_err *err) {
    (void)state;
    (void)err;
    *ready = true;
    return WP_OK;
}

static void cnt_close(void *state) { (void)state; }

static const wp_behavior counter_behavior = {.name = "bench.counter",
                                             .init = cnt_init,
                                             .step = cnt_step,
                                             .wait = cnt_wait,
                                             .wake = cnt_wake,
                                             .close = cnt_close,
                                             .mailbox = true};

static void wait_exits(counter *c, uint64_t n) {
    pthread_mutex_lock(&c->lock);
    while (c->exits < n)
        pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
}

/* ---- Modules -------------------------------------------------------------------------------- */

static const char TRIVIAL[] = "(module (func (export \"answer\") (result i32) (i32.const 42)))";

static const char SLEEPER[] =
    "(module"
    "  (import \"wasi_snapshot_preview1\" \"poll_oneoff\""
    "    (func $poll (param i32 i32 i32 i32) (result i32)))"
    "  (memory 1)"
    "  (func (export \"nap\") (param $ns i64) (result i32)"
    "    (i32.store8 (i32.const 8) (i32.const 0))"
    "    (i32.store (i32.const 16) (i32.const 1))"
    "    (i64.store (i32.const 24) (local.get $ns))"
    "    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))"
    "    (i32.const 42)))";

static wp_module *compile(const char *text) {
    uint8_t *bin = NULL;
    size_t len = 0;
    wp_module *m = NULL;
    wp_err err = {0};
    if (wp_wat_to_wasm(text, strlen(text), &bin, &len, &err) != WP_OK ||
        wp_module_decode(bin, len, &m, &err) != WP_OK) {
        fprintf(stderr, "rt-bench: %s\n", err.msg);
        exit(1);
    }
    wp_wat_free(bin);
    return m;
}

static wp_module *load(const char *path) {
    FILE *f = fopen(path, "rb");
    static uint8_t buf[16 << 20];
    size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
    wp_module *m = NULL;
    wp_err err = {0};
    if (f)
        fclose(f);
    if (!len || wp_module_decode(buf, len, &m, &err) != WP_OK) {
        fprintf(stderr, "rt-bench: %s: cannot load %s\n", path, err.msg);
        exit(1);
    }
    return m;
}

static size_t rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0;
    unsigned long resident = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static double seconds(uint64_t from) { return (double)(wp_wasi_now() - from) / 1e9; }

static void die(const char *what, const wp_err *err) {
    fprintf(stderr, "rt-bench: %s: %s\n", what, err->msg);
    exit(1);
}

typedef struct world {
    wp_runtime *rt;
    wp_host *host;
    counter c;
    wp_pid observer;
} world;

static void world_open(world *w, uint32_t workers) {
    wp_err err = {0};
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->c.lock, NULL);
    pthread_cond_init(&w->c.cond, NULL);
    wp_host_config hc = {.workers = workers};
    if (wp_runtime_new(NULL, &w->rt, &err) != WP_OK ||
        wp_runtime_add_host(w->rt, "bench:processes", &hc, &w->host, &err) != WP_OK)
        die("runtime", &err);
    wp_spawn_target t = {.behavior = &counter_behavior, .config = &w->c};
    if (wp_spawn_target_on(w->rt, WP_PID_NONE, w->host, &t, NULL, 0, 0, &w->observer, &err))
        die("observer", &err);
}

static void world_close(world *w) {
    wp_runtime_free(w->rt);
    pthread_mutex_destroy(&w->c.lock);
    pthread_cond_destroy(&w->c.cond);
}

/* ---- Spawn to EXIT -------------------------------------------------------------------------- */

static int bench_spawn(wp_module *m, bool wasi, uint64_t n, uint32_t workers) {
    world w;
    world_open(&w, workers);
    wp_wasm_config cfg = {.module = m, .method = "answer", .wasi = wasi};
    wp_wasi_config_init(&cfg.wasi_cfg);
    wp_spawn_target t = {.behavior = wp_wasm_behavior(), .config = &cfg};
    wp_err err = {0};
    uint64_t t0 = wp_wasi_now();
    for (uint64_t i = 0; i < n; i++)
        if (wp_spawn_target_on(w.rt, w.observer, w.host, &t, NULL, 0, WP_SPAWN_MONITOR, NULL,
                               &err) != WP_OK)
            die("spawn", &err);
    wait_exits(&w.c, n);
    double s = seconds(t0);
    int bad = w.c.good != n;
    printf("spawn-to-EXIT, trivial process.wasm%s: %llu processes in %.3f s = %.0f per second"
           "%s\n",
           wasi ? " with WASI" : "", (unsigned long long)n, s, (double)n / s,
           bad ? " (WRONG: lost or bad EXITs)" : "");
    world_close(&w);
    return bad;
}

/* ---- Messages between two mailbox processes ------------------------------------------------ */

typedef struct sender {
    wp_pid to;
    uint64_t left;
} sender;

static wp_status snd_init(const void *config, const wp_value *args, uint32_t nargs, void **state,
                          wp_err *err) {
    return cnt_init(config, args, nargs, state, err);
}

/* Sends up to 1,000 messages a slice, like a loop preempted by its budget. */
static wp_step snd_step(void *state, uint64_t budget, wp_value *result) {
    sender *s = state;
    (void)budget;
    wp_proc *self = wp_proc_current();
    for (int i = 0; i < 1000 && s->left; i++, s->left--) {
        wp_value v = wp_value_int((int64_t)s->left);
        wp_send(wp_proc_runtime(self), wp_proc_pid(self), s->to, "n", &v, NULL);
    }
    *result = wp_value_nil();
    return s->left ? WP_STEP_BUDGET : WP_STEP_DONE;
}

static const wp_behavior sender_behavior = {.name = "bench.sender",
                                            .init = snd_init,
                                            .step = snd_step,
                                            .close = cnt_close};

static int bench_messages(uint64_t n, uint32_t workers) {
    world w;
    world_open(&w, workers);
    sender s = {.to = w.observer, .left = n};
    wp_spawn_target t = {.behavior = &sender_behavior, .config = &s};
    wp_err err = {0};
    uint64_t t0 = wp_wasi_now();
    if (wp_spawn_target_on(w.rt, WP_PID_NONE, w.host, &t, NULL, 0, 0, NULL, &err) != WP_OK)
        die("spawn", &err);
    wait_exits(&w.c, n);
    double secs = seconds(t0);
    printf("messages between two C mailbox processes (the runtime's share of the Lua figure): "
           "%llu in %.3f s = %.0f per second\n",
           (unsigned long long)n, secs, (double)n / secs);
    world_close(&w);
    return 0;
}

/* ---- Idle sleepers -------------------------------------------------------------------------- */

static int bench_sleepers(wp_module *m, bool command, uint64_t n, uint32_t workers) {
    world w;
    world_open(&w, workers);
    wp_wasm_config cfg = {.module = m, .method = command ? "_start" : "nap", .wasi = true};
    wp_wasi_config_init(&cfg.wasi_cfg);
    static const char *const argv[] = {"guest", "3600000"};
    if (command) {
        cfg.wasi_cfg.args = argv;
        cfg.wasi_cfg.nargs = 2;
    }
    wp_spawn_target t = {.behavior = wp_wasm_behavior(), .config = &cfg};
    wp_value arg = wp_value_int(3600 * 1000000000LL);
    wp_err err = {0};
    usleep(100000);
    size_t before = rss_bytes();
    uint64_t t0 = wp_wasi_now();
    for (uint64_t i = 0; i < n; i++)
        if (wp_spawn_target_on(w.rt, w.observer, w.host, &t, &arg, command ? 0 : 1,
                               WP_SPAWN_MONITOR, NULL, &err) != WP_OK)
            die("spawn", &err);
    double spawned = seconds(t0);
    usleep(500000); /* let every one of them run into its sleep */
    size_t after = rss_bytes();
    double per = (double)(after - before) / (double)n;
    printf("idle sleeping process.wasm (%s): %llu alive, resident "
           "%.1f MiB more = %.1f KiB each (spawned in %.2f s)\n",
           command ? "the WASI command given" : "1 page of memory, WASI", (unsigned long long)n,
           (double)(after - before) / 1048576.0, per / 1024.0, spawned);
    uint64_t t1 = wp_wasi_now();
    uint32_t killed = wp_runtime_shutdown(w.rt, 1);
    printf("  shutdown terminated %u of them in %.2f s\n", killed, seconds(t1));
    int bad = per > 32 * 1024.0 || wp_runtime_count(w.rt) != 0;
    world_close(&w);
    return bad;
}

int main(int argc, char **argv) {
    uint64_t spawns = 200000;
    uint64_t sleepers = 100000;
    uint32_t workers = 0;
    const char *file = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "n:s:w:f:")) != -1) {
        if (opt == 'n')
            spawns = strtoull(optarg, NULL, 10);
        else if (opt == 's')
            sleepers = strtoull(optarg, NULL, 10);
        else if (opt == 'w')
            workers = (uint32_t)strtoul(optarg, NULL, 10);
        else if (opt == 'f')
            file = optarg;
        else
            return fprintf(stderr, "usage: rt-bench [-n SPAWNS] [-s SLEEPERS] [-w WORKERS] "
                                   "[-f GUEST.wasm]\n"),
                   2;
    }
    wp_module *trivial = compile(TRIVIAL);
    wp_module *sleeper = file ? load(file) : compile(SLEEPER);
    int bad = 0;
    if (spawns) {
        bad |= bench_spawn(trivial, false, spawns, workers);
        bad |= bench_spawn(trivial, true, spawns, workers);
    }
    if (spawns)
        bad |= bench_messages(spawns * 10, workers);
    if (sleepers)
        bad |= bench_sleepers(sleeper, file != NULL, sleepers, workers);
    wp_module_free(trivial);
    wp_module_free(sleeper);
    return bad;
}
