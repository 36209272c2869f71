/* test_runtime.c: the runtime from C: hosts and workers, spawning, EXIT events, sleeping WASM
 * processes on the I/O loop, preemption, monitors, links, cancel, terminate, names, limits. A
 * "collector" behaviour (a mailbox process written in C) records what it receives; the test
 * thread spawns processes with the collector as their parent and waits for its records. */
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "wippy/runtime.h"

/* ---- The collector behaviour ---------------------------------------------------------------- */

#define MAX_EVENTS 4096

typedef struct event {
    wp_msg_kind kind;
    wp_pid from;
    char topic[32];
    wp_value value;
    uint64_t at; /* wp_wasi_now() when received */
} event;

typedef struct collector {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    event events[MAX_EVENTS];
    uint32_t n;
    bool trap_links;
    bool stop_on_cancel; /* a CANCEL ends it with result "canceled politely" */
    bool stop;           /* set by the test: the next step ends it */
    wp_pid self;
} collector;

static void collector_init_struct(collector *c) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
}

static void collector_free_struct(collector *c) {
    for (uint32_t i = 0; i < c->n; i++)
        wp_value_free(&c->events[i].value);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
}

static wp_status col_init(const void *config, const wp_value *args, uint32_t nargs, void **state,
                          wp_err *err) {
    (void)args;
    (void)nargs;
    (void)err;
    *state = (void *)config;
    return WP_OK;
}

static bool record(collector *c, wp_msg *m) {
    pthread_mutex_lock(&c->lock);
    bool cancel = m->kind == WP_MSG_CANCEL;
    if (c->n < MAX_EVENTS) {
        event *e = &c->events[c->n++];
        e->kind = m->kind;
        e->from = m->from;
        snprintf(e->topic, sizeof e->topic, "%s", m->topic);
        e->value = m->value;
        m->value = wp_value_nil();
        e->at = wp_wasi_now();
    }
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    wp_msg_free(m);
    return cancel;
}

static wp_step col_step(void *state, uint64_t budget, wp_value *result) {
    collector *c = state;
    (void)budget;
    wp_proc *self = wp_proc_current();
    if (!self)
        return WP_STEP_DONE; /* stepped outside a runtime: nothing to collect */
    wp_proc_set_trap_links(self, c->trap_links);
    pthread_mutex_lock(&c->lock);
    c->self = wp_proc_pid(self);
    bool stop = c->stop;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    wp_msg *m;
    bool canceled = false;
    while (wp_proc_recv(self, &m))
        canceled |= record(c, m);
    if (canceled && c->stop_on_cancel)
        return wp_value_cstring(result, "canceled politely") == WP_OK ? WP_STEP_DONE
                                                                      : WP_STEP_DONE;
    if (stop) {
        *result = wp_value_int((int64_t)c->n);
        return WP_STEP_DONE;
    }
    return WP_STEP_PENDING;
}

static bool col_wait(void *state, wp_wait *out) {
    (void)state;
    *out = (wp_wait){.deadline = WP_WASI_NO_DEADLINE, .mailbox = true};
    return true;
}

static wp_status col_wake(void *state, bool *ready, wp_err *err) {
    (void)state;
    (void)err;
    *ready = true;
    return WP_OK;
}

static void col_close(void *state) { (void)state; }

static const wp_behavior collector_behavior = {
    .name = "test.collector",
    .init = col_init,
    .step = col_step,
    .wait = col_wait,
    .wake = col_wake,
    .close = col_close,
    .mailbox = true,
};

/* Waits until c has n events (or timeout_ms passes); returns how many it has. */
static uint32_t wait_events(collector *c, uint32_t n, uint64_t timeout_ms) {
    uint64_t end = wp_wasi_now() + timeout_ms * 1000000u;
    pthread_mutex_lock(&c->lock);
    while (c->n < n && wp_wasi_now() < end) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&c->cond, &c->lock, &ts);
    }
    uint32_t got = c->n;
    pthread_mutex_unlock(&c->lock);
    return got;
}

/* Spawns a collector on h; waits until it has run once (its pid known). */
static wp_pid spawn_collector(wp_runtime *rt, wp_host *h, collector *c) {
    wp_spawn_target t = {.behavior = &collector_behavior, .config = c};
    wp_pid pid = WP_PID_NONE;
    wp_err err = {0};
    CHECK_EQ(wp_spawn_target_on(rt, WP_PID_NONE, h, &t, NULL, 0, 0, &pid, &err), WP_OK);
    uint64_t end = wp_wasi_now() + 2000000000u;
    pthread_mutex_lock(&c->lock);
    while (c->self == WP_PID_NONE && wp_wasi_now() < end) {
        pthread_mutex_unlock(&c->lock);
        usleep(1000);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    CHECK_EQ(c->self, pid);
    return pid;
}

/* ---- WASM targets --------------------------------------------------------------------------- */

static wp_module *guest;

static wp_wasm_config wasm_cfg(const char *method) {
    wp_wasm_config cfg = {.module = guest, .method = method, .wasi = true};
    wp_wasi_config_init(&cfg.wasi_cfg);
    return cfg;
}

static wp_spawn_target wasm_target(const wp_wasm_config *cfg) {
    return (wp_spawn_target){.behavior = wp_wasm_behavior(), .config = cfg};
}

static wp_runtime *new_runtime(void) {
    wp_runtime *rt = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_runtime_new(NULL, &rt, &err), WP_OK);
    return rt;
}

static wp_host *add_host(wp_runtime *rt, const char *id, uint32_t workers) {
    wp_host *h = NULL;
    wp_err err = {0};
    wp_host_config hc = {.workers = workers};
    CHECK_EQ(wp_runtime_add_host(rt, id, &hc, &h, &err), WP_OK);
    return h;
}

static wp_pid spawn_wasm(wp_runtime *rt, wp_host *h, wp_pid parent, const wp_wasm_config *cfg,
                         const wp_value *args, uint32_t nargs, uint32_t flags) {
    wp_spawn_target t = wasm_target(cfg);
    wp_pid pid = WP_PID_NONE;
    wp_err err = {0};
    wp_status st = wp_spawn_target_on(rt, parent, h, &t, args, nargs, flags, &pid, &err);
    CHECK_EQ(st, WP_OK);
    if (st != WP_OK)
        fprintf(stderr, "spawn: %s\n", err.msg);
    return pid;
}

static const event *find_from(collector *c, wp_pid from, wp_msg_kind kind) {
    for (uint32_t i = 0; i < c->n; i++)
        if (c->events[i].from == from && c->events[i].kind == kind)
            return &c->events[i];
    return NULL;
}

static void stop_collector(wp_runtime *rt, collector *c) {
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_mutex_unlock(&c->lock);
    wp_value v = wp_value_nil();
    wp_send(rt, WP_PID_NONE, c->self, "stop", &v, NULL); /* wakes it */
}

/* ---- Tests ---------------------------------------------------------------------------------- */

static void test_spawn_and_exit(void) {
    wp_runtime *rt = new_runtime();
    wp_host *h = add_host(rt, "app:processes", 2);
    collector c;
    collector_init_struct(&c);
    wp_pid me = spawn_collector(rt, h, &c);
    wp_wasm_config cfg = wasm_cfg("answer");
    wp_pid child = spawn_wasm(rt, h, me, &cfg, NULL, 0, WP_SPAWN_MONITOR);
    CHECK(child != me);
    CHECK_EQ(wait_events(&c, 1, 5000), 1);
    const event *e = find_from(&c, child, WP_MSG_EXIT);
    CHECK(e != NULL);
    CHECK(e && e->value.kind == WP_VINT && e->value.of.i == 42);
    /* The PID's text names the host and parses back. */
    char text[WP_PID_TEXT_MAX];
    wp_pid_format(rt, child, text, sizeof text);
    CHECK(strncmp(text, "{app:processes|0x", 17) == 0);
    wp_pid back = WP_PID_NONE;
    CHECK_EQ(wp_pid_parse(rt, text, &back, NULL), WP_OK);
    CHECK_EQ(back, child);
    wp_pid via = WP_PID_NONE;
    CHECK_EQ(wp_resolve_dest(rt, text, &via, NULL), WP_OK);
    CHECK_EQ(via, child);
    stop_collector(rt, &c);
    wp_runtime_shutdown(rt, 2000);
    CHECK_EQ(wp_runtime_count(rt), 0);
    wp_runtime_free(rt);
    collector_free_struct(&c);
}

static void test_pid_text_errors(void) {
    wp_runtime *rt = new_runtime();
    add_host(rt, "app:h", 1);
    wp_pid pid = 1;
    wp_err err = {0};
    CHECK_EQ(wp_pid_parse(rt, "app:h|0x1", &pid, &err), WP_ERR_INVALID);
    CHECK_EQ(pid, WP_PID_NONE);
    CHECK_EQ(wp_pid_parse(rt, "{app:h|0x}", &pid, &err), WP_ERR_INVALID);
    CHECK_EQ(wp_pid_parse(rt, "{app:h|0xzz}", &pid, &err), WP_ERR_INVALID);
    CHECK_EQ(wp_pid_parse(rt, "{app:other|0x00001}", &pid, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "no host app:other");
    CHECK_EQ(wp_pid_parse(rt, "{app:h|0x00001}", &pid, &err), WP_OK);
    char text[WP_PID_TEXT_MAX];
    wp_pid_format(rt, pid, text, sizeof text);
    CHECK(strcmp(text, "{app:h|0x00001}") == 0);
    wp_pid nobody = 1;
    CHECK_EQ(wp_resolve_dest(rt, "nobody", &nobody, &err), WP_ERR_NOT_FOUND);
    CHECK_EQ(nobody, WP_PID_NONE);
    /* Host IDs: unique, not empty, no '|'. */
    wp_host_config hc = {.workers = 1};
    CHECK_EQ(wp_runtime_add_host(rt, "app:h", &hc, NULL, &err), WP_ERR_ALREADY_EXISTS);
    CHECK_EQ(wp_runtime_add_host(rt, "", &hc, NULL, &err), WP_ERR_INVALID);
    CHECK_EQ(wp_runtime_add_host(rt, "a|b", &hc, NULL, &err), WP_ERR_INVALID);
    CHECK(wp_runtime_host(rt, "app:h") != NULL);
    CHECK(wp_runtime_host(rt, "app:x") == NULL);
    /* Sending to something that is no PID fails; to a dead one succeeds. */
    wp_value v = wp_value_int(1);
    CHECK_EQ(wp_send(rt, WP_PID_NONE, 12345, "t", &v, &err), WP_ERR_INVALID);
    v = wp_value_int(1);
    CHECK_EQ(wp_send(rt, WP_PID_NONE, pid, "t", &v, &err), WP_OK);
    CHECK_EQ(wp_terminate(rt, WP_PID_NONE, pid, &err), WP_ERR_NOT_FOUND);
    CHECK_EQ(wp_cancel(rt, WP_PID_NONE, pid, "x", &err), WP_ERR_NOT_FOUND);
    wp_runtime_free(rt);
}

/* 1,000 WASM processes each sleep 50 ms then return their number, on 2 workers. */
static void test_thousand_sleepers(void) {
    enum { N = 1000 };
    wp_runtime *rt = new_runtime();
    wp_host *h = add_host(rt, "app:processes", 2);
    wp_host *obs = add_host(rt, "app:observer", 1);
    static collector c;
    collector_init_struct(&c);
    wp_pid me = spawn_collector(rt, obs, &c);
    wp_wasm_config cfg = wasm_cfg("nap");
    static wp_pid pids[N];
    uint64_t t0 = wp_wasi_now();
    for (int i = 0; i < N; i++) {
        wp_value args[2] = {wp_value_int(50 * 1000000), wp_value_int(i)};
        pids[i] = spawn_wasm(rt, h, me, &cfg, args, 2, WP_SPAWN_MONITOR);
    }
    CHECK_EQ(wait_events(&c, N, 20000), N);
    uint64_t ms = (wp_wasi_now() - t0) / 1000000u;
    CHECK(ms < 5000); /* they slept side by side: 1,000 in a row would take 50 s */
    int64_t sum = 0;
    uint32_t exits = 0;
    for (int i = 0; i < N; i++) {
        const event *e = find_from(&c, pids[i], WP_MSG_EXIT);
        if (e && e->value.kind == WP_VINT && e->value.of.i == i)
            exits++;
        sum += e && e->value.kind == WP_VINT ? e->value.of.i : 0;
    }
    CHECK_EQ(exits, N);
    CHECK_EQ(sum, (int64_t)N * (N - 1) / 2);
    fprintf(stderr, "  1,000 sleepers of 50 ms on 2 workers: all exited after %llu ms\n",
            (unsigned long long)ms);
    stop_collector(rt, &c);
    wp_runtime_shutdown(rt, 2000);
    wp_runtime_free(rt);
    collector_free_struct(&c);
}

/* A process that never stops computing shares its only worker with sleepers: they still wake
 * on time, because its slices end after WP_REDUCTIONS. */
static void test_busy_beside_sleepers(void) {
    wp_runtime *rt = new_runtime();
    wp_host *h = add_host(rt, "app:one", 1);
    wp_host *obs = add_host(rt, "app:observer", 1);
    collector c;
    collector_init_struct(&c);
    wp_pid me = spawn_collector(rt, obs, &c);
    wp_wasm_config spin = wasm_cfg("spin");
    wp_wasm_config nap = wasm_cfg("nap");
    wp_pid busy = spawn_wasm(rt, h, me, &spin, NULL, 0, WP_SPAWN_MONITOR);
    usleep(20000); /* the busy one has the worker */
    uint64_t t0 = wp_wasi_now();
    wp_pid sleepers[5];
    for (int i = 0; i < 5; i++) {
        wp_value args[2] = {wp_value_int((i + 1) * 20 * 1000000), wp_value_int(i)};
        sleepers[i] = spawn_wasm(rt, h, me, &nap, args, 2, WP_SPAWN_MONITOR);
    }
    CHECK_EQ(wait_events(&c, 5, 5000), 5);
    for (int i = 0; i < 5; i++) {
        const event *e = find_from(&c, sleepers[i], WP_MSG_EXIT);
        CHECK(e != NULL);
        if (!e)
            continue;
        uint64_t late_ms = (e->at - t0) / 1000000u - (uint64_t)(i + 1) * 20;
        CHECK(late_ms < 200); /* within 200 ms of its deadline (CI machines are busy) */
    }
    CHECK(wp_pid_alive(rt, busy));
    CHECK_EQ(wp_terminate(rt, me, busy, NULL), WP_OK);
    CHECK_EQ(wait_events(&c, 6, 5000), 6);
    const event *e = find_from(&c, busy, WP_MSG_EXIT);
    CHECK(e && wp_value_error_kind(&e->value) == WP_ERR_CANCELED);
    CHECK_STR_CONTAINS(e ? wp_value_error_msg(&e->value) : NULL, "terminated");
    stop_collector(rt, &c);
    wp_runtime_shutdown(rt, 2000);
    wp_runtime_free(rt);
    collector_free_struct(&c);
}

/* A guest trap is its EXIT error, naming the trap; others run on. */
static void test_trap_exit(void) {
    wp_runtime *rt = new_runtime();
    wp_host *h = add_host(rt, "app:processes", 2);
    collector c;
    collector_init_struct(&c);
    wp_pid me = spawn_collector(rt, h, &c);
    wp_wasm_config boom = wasm_cfg("boom");
    wp_wasm_config answer = wasm_cfg("answer");
    wp_pid bad = spawn_wasm(rt, h, me, &boom, NULL, 0, WP_SPAWN_MONITOR);
    CHECK_EQ(wait_events(&c, 1, 5000), 1);
    wp_pid good = spawn_wasm(rt, h, me, &answer, NULL, 0, WP_SPAWN_MONITOR);
    CHECK_EQ(wait_events(&c, 2, 5000), 2);
    const event *e = find_from(&c, bad, WP_MSG_EXIT);
    CHECK(e && wp_value_error_kind(&e->value) == WP_ERR_TRAP);
    CHECK_STR_CONTAINS(e ? wp_value_error_msg(&e->value) : NULL, "unreachable");
    e = find_from(&c, good, WP_MSG_EXIT);
    CHECK(e && e->value.kind == WP_VINT && e->value.of.i == 42);
    CHECK(wp_pid_alive(rt, me)); /* a monitor is not a link: the observer lives on */
    stop_collector(rt, &c);
    wp_runtime_shutdown(rt, 2000);
    wp_runtime_free(rt);
    collector_free_struct(&c);
}

/* Links: a failing linked child takes its parent down, unless the parent traps links. */
static void test_links(void) {
    wp_runtime *rt = new_runtime();
    wp_host *h = add_host(rt, "app:processes", 2);
    collector watcher;
    collector parent;
    collector trapper;
    collector_init_struct(&watcher);
    collector_init_struct(&parent);
    collector_init_struct(&trapper);
    trapper.trap_links = true;
    wp_pid w = spawn_collector(rt, h, &watcher);
    wp_pid p = spawn_collector(rt, h, &parent);
    wp_pid t = spawn_collector(rt, h, &trapper);
    CHECK_EQ(wp_monitor(rt, w, p, NULL), WP_OK);
    CHECK_EQ(wp_monitor(rt, w, t, NULL), WP_OK);
    wp_wasm_config boom = wasm_cfg("boom");
    wp_wasm_config answer = wasm_cfg("answer");
    /* A normal exit of a linked child changes nothing. */
    wp_pid ok_child = spawn_wasm(rt, h, p, &answer, NULL, 0, WP_SPAWN_LINK | WP_SPAWN_MONITOR);
    CHECK_EQ(wait_events(&parent, 1, 5000), 1);
    CHECK(find_from(&parent, ok_child, WP_MSG_EXIT) != NULL);
    /* Without trap_links, the parent is terminated with an error naming the child. */
    wp_pid bad = spawn_wasm(rt, h, p, &boom, NULL, 0, WP_SPAWN_LINK);
    CHECK_EQ(wait_events(&watcher, 1, 5000), 1);
    const event *e = find_from(&watcher, p, WP_MSG_EXIT);
    CHECK(e && wp_value_error_kind(&e->value) == WP_ERR_CANCELED);
    char text[WP_PID_TEXT_MAX];
    wp_pid_format(rt, bad, text, sizeof text);
    CHECK_STR_CONTAINS(e ? wp_value_error_msg(&e->value) : NULL, "linked process");
    CHECK_STR_CONTAINS(e ? wp_value_error_msg(&e->value) : NULL, text);
    CHECK(!wp_pid_alive(rt, p));
    /* With trap_links: a LINK_DOWN event carrying the child's error; the parent lives. */
    wp_pid bad2 = spawn_wasm(rt, h, t, &boom, NULL, 0, WP_SPAWN_LINK);
    CHECK_EQ(wait_events(&trapper, 1, 5000), 1);
    e = find_from(&trapper, bad2, WP_MSG_LINK_DOWN);
    CHECK(e && wp_value_error_kind(&e->value) == WP_ERR_TRAP);
    CHECK(wp_pid_alive(rt, t));
    /* link/unlink by hand: after unlink a failure does not arrive. */
    wp_wasm_config nap = wasm_cfg("nap");
    wp_value args[2] = {wp_value_int(30 * 1000000), wp_value_int(1)};
    wp_pid sleeper = spawn_wasm(rt, h, WP_PID_NONE, &nap, args, 2, 0);
    CHECK_EQ(wp_link(rt, t, sleeper, NULL), WP_OK);
    CHECK_EQ(wp_link(rt, t, sleeper, NULL), WP_OK); /* idempotent */
    CHECK_EQ(wp_unlink(rt, t, sleeper, NULL), WP_OK);
    CHECK_EQ(wp_terminate(rt, WP_PID_NONE, sleeper, NULL), WP_OK);
    usleep(100000);
    CHECK_EQ(wait_events(&trapper, 2, 10), 1);
    CHECK_EQ(wp_link(rt, t, t, NULL), WP_ERR_INVALID);
    CHECK_EQ(wp_link(rt, t, sleeper, NULL), WP_ERR_NOT_FOUND);
    stop_collector(rt, &trapper);
    stop_collector(rt, &watcher);
    wp_runtime_shutdown(rt, 2000);
    wp_runtime_free(rt);
    collector_free_struct(&watcher);
    collector_free_struct(&parent);
    collector_free_struct(&trapper);
}

/* monitor/unmonitor by hand. */
static void test_monitors(void) {
    wp_runtime *rt = new_runtime();
    wp_host *h = add_host(rt, "app:processes", 2);
    collector c;
    collector_init_struct(&c);
    wp_pid me = spawn_collector(rt, h, &c);
    wp_wasm_config nap = wasm_cfg("nap");
    wp_value args[2] = {wp_value_int(40 * 1000000), wp_value_int(7)};
    wp_pid a = spawn_wasm(rt, h, WP_PID_NONE, &nap, args, 2, 0);
    wp_pid b = spawn_wasm(rt, h, WP_PID_NONE, &nap, args, 2, 0);
    CHECK_EQ(wp_monitor(rt, me, a, NULL), WP_OK);
    CHECK_EQ(wp_monitor(rt, me, b, NULL), WP_OK);
    CHECK_EQ(wp_unmonitor(rt, me, b, NULL), WP_OK);
    CHECK_EQ(wait_events(&c, 1, 5000), 1);
    const event *e = find_from(&c, a, WP_MSG_EXIT);
    CHECK(e && e->value.kind == WP_VINT && e->value.of.i == 7);
    usleep(100000);
    CHECK_EQ(wait_events(&c, 2, 10), 1); /* b's exit was not delivered */
    CHECK(find_from(&c, b, WP_MSG_EXIT) == NULL);
    wp_err err = {0};
    CHECK_EQ(wp_monitor(rt, me, b, &err), WP_ERR_NOT_FOUND);
    CHECK_EQ(wp_monitor(rt, me, me, &err), WP_ERR_INVALID);
    CHECK_EQ(wp_spawn_target_on(rt, b, h, &(wp_spawn_target){.behavior = wp_wasm_behavior(),
                                                            .config = &nap},
                                args, 2, WP_SPAWN_MONITOR, NULL, &err),
             WP_ERR_INVALID);
    stop_collector(rt, &c);
    wp_runtime_shutdown(rt, 2000);
    wp_runtime_free(rt);
    collector_free_struct(&c);
}

/* Messages arrive in the order sent; cancel reaches a mailbox process as an event, and ends a
 * WASM process. */
static void test_messages_and_cancel(void) {
    enum { N = 2000 };
    wp_runtime *rt = new_runtime();
    wp_host *h = add_host(rt, "app:processes", 2);
    static collector c;
    collector_init_struct(&c);
    c.stop_on_cancel = true;
    collector w;
    collector_init_struct(&w);
    wp_pid me = spawn_collector(rt, h, &c);
    wp_pid watcher = spawn_collector(rt, h, &w);
    CHECK_EQ(wp_monitor(rt, watcher, me, NULL), WP_OK);
    for (int i = 0; i < N; i++) {
        wp_value v = wp_value_int(i);
        CHECK_EQ(wp_send(rt, watcher, me, "count", &v, NULL), WP_OK);
    }
    CHECK_EQ(wait_events(&c, N, 5000), N);
    uint32_t in_order = 0;
    for (int i = 0; i < N; i++)
        in_order += c.events[i].kind == WP_MSG_MESSAGE && c.events[i].value.of.i == i &&
                    c.events[i].from == watcher && strcmp(c.events[i].topic, "count") == 0;
    CHECK_EQ(in_order, N);
    wp_value v = wp_value_int(1);
    wp_err err = {0};
    CHECK_EQ(wp_send(rt, watcher, me, "@inbox", &v, &err), WP_ERR_INVALID);
    /* A WASM process has no mailbox: messages to it are dropped, cancel ends it. */
    wp_wasm_config nap = wasm_cfg("nap");
    wp_value args[2] = {wp_value_int(10000 * 1000000LL), wp_value_int(1)};
    wp_pid sleeper = spawn_wasm(rt, h, watcher, &nap, args, 2, WP_SPAWN_MONITOR);
    v = wp_value_int(1);
    CHECK_EQ(wp_send(rt, watcher, sleeper, "hi", &v, NULL), WP_OK);
    usleep(20000);
    CHECK_EQ(wp_cancel(rt, watcher, sleeper, "enough", NULL), WP_OK);
    CHECK_EQ(wait_events(&w, 1, 5000), 1);
    const event *e = find_from(&w, sleeper, WP_MSG_EXIT);
    CHECK(e && wp_value_error_kind(&e->value) == WP_ERR_CANCELED);
    CHECK_STR_CONTAINS(e ? wp_value_error_msg(&e->value) : NULL, "enough");
    /* The collector handles CANCEL itself: it gets the event with the reason and returns. */
    CHECK_EQ(wp_cancel(rt, watcher, me, "please stop", NULL), WP_OK);
    CHECK_EQ(wait_events(&w, 2, 5000), 2);
    e = find_from(&c, watcher, WP_MSG_CANCEL);
    CHECK(e && strcmp(wp_value_str(&e->value, NULL), "please stop") == 0);
    e = find_from(&w, me, WP_MSG_EXIT);
    CHECK(e && e->value.kind == WP_VSTRING &&
          strcmp(wp_value_str(&e->value, NULL), "canceled politely") == 0);
    stop_collector(rt, &w);
    wp_runtime_shutdown(rt, 2000);
    wp_runtime_free(rt);
    collector_free_struct(&c);
    collector_free_struct(&w);
}

static void test_names(void) {
    wp_runtime *rt = new_runtime();
    wp_host *h = add_host(rt, "app:processes", 2);
    collector c;
    collector_init_struct(&c);
    wp_pid me = spawn_collector(rt, h, &c);
    wp_wasm_config nap = wasm_cfg("nap");
    wp_value args[2] = {wp_value_int(30 * 1000000), wp_value_int(3)};
    wp_pid a = spawn_wasm(rt, h, me, &nap, args, 2, WP_SPAWN_MONITOR);
    wp_err err = {0};
    CHECK_EQ(wp_name_register(rt, "sleepy", a, &err), WP_OK);
    CHECK_EQ(wp_name_register(rt, "sleepy", a, &err), WP_OK); /* same pid again: fine */
    CHECK_EQ(wp_name_register(rt, "sleepy", me, &err), WP_ERR_ALREADY_EXISTS);
    CHECK_EQ(wp_name_register(rt, "", me, &err), WP_ERR_INVALID);
    CHECK_EQ(wp_name_register(rt, "collector", me, &err), WP_OK);
    wp_pid got = WP_PID_NONE;
    CHECK_EQ(wp_name_lookup(rt, "sleepy", &got, &err), WP_OK);
    CHECK_EQ(got, a);
    CHECK_EQ(wp_resolve_dest(rt, "collector", &got, &err), WP_OK);
    CHECK_EQ(got, me);
    CHECK_EQ(wp_name_unregister(rt, "collector", &err), WP_OK);
    CHECK_EQ(wp_name_unregister(rt, "collector", &err), WP_ERR_NOT_FOUND);
    CHECK_EQ(wp_name_lookup(rt, "collector", &got, &err), WP_ERR_NOT_FOUND);
    /* Released when the process exits. */
    CHECK_EQ(wait_events(&c, 1, 5000), 1);
    usleep(10000);
    CHECK_EQ(wp_name_lookup(rt, "sleepy", &got, &err), WP_ERR_NOT_FOUND);
    CHECK_EQ(wp_name_register(rt, "sleepy", a, &err), WP_ERR_NOT_FOUND); /* a is gone */
    CHECK_EQ(wp_name_register(rt, "sleepy", me, &err), WP_OK);
    stop_collector(rt, &c);
    wp_runtime_shutdown(rt, 2000);
    wp_runtime_free(rt);
    collector_free_struct(&c);
}

/* max_execution_ms stops a busy loop and a long sleep alike. */
static void test_execution_limit(void) {
    wp_runtime *rt = new_runtime();
    wp_host *h = add_host(rt, "app:processes", 2);
    collector c;
    collector_init_struct(&c);
    wp_pid me = spawn_collector(rt, h, &c);
    wp_wasm_config spin = wasm_cfg("spin");
    wp_wasm_config nap = wasm_cfg("nap");
    wp_spawn_target t1 = {.behavior = wp_wasm_behavior(), .config = &spin,
                          .max_execution_ms = 50};
    wp_spawn_target t2 = {.behavior = wp_wasm_behavior(), .config = &nap,
                          .max_execution_ms = 50};
    wp_pid a = WP_PID_NONE;
    wp_pid b = WP_PID_NONE;
    wp_value args[2] = {wp_value_int(10000 * 1000000LL), wp_value_int(1)};
    uint64_t t0 = wp_wasi_now();
    CHECK_EQ(wp_spawn_target_on(rt, me, h, &t1, NULL, 0, WP_SPAWN_MONITOR, &a, NULL), WP_OK);
    CHECK_EQ(wp_spawn_target_on(rt, me, h, &t2, args, 2, WP_SPAWN_MONITOR, &b, NULL), WP_OK);
    CHECK_EQ(wait_events(&c, 2, 5000), 2);
    CHECK((wp_wasi_now() - t0) / 1000000u < 1000);
    const event *e = find_from(&c, a, WP_MSG_EXIT);
    CHECK(e && wp_value_error_kind(&e->value) == WP_ERR_TIMEOUT);
    CHECK_STR_CONTAINS(e ? wp_value_error_msg(&e->value) : NULL, "max_execution_ms (50 ms)");
    e = find_from(&c, b, WP_MSG_EXIT);
    CHECK(e && wp_value_error_kind(&e->value) == WP_ERR_TIMEOUT);
    stop_collector(rt, &c);
    wp_runtime_shutdown(rt, 2000);
    wp_runtime_free(rt);
    collector_free_struct(&c);
}

/* A read of an empty pipe parks the process on the I/O loop; data wakes it. */
static void test_descriptor_wait(void) {
    int fds[2];
    CHECK_EQ(pipe(fds), 0);
    wp_runtime *rt = new_runtime();
    wp_host *h = add_host(rt, "app:processes", 1);
    collector c;
    collector_init_struct(&c);
    wp_pid me = spawn_collector(rt, h, &c);
    wp_wasm_config rd = wasm_cfg("read_stdin");
    rd.wasi_cfg.stdin_fd = fds[0];
    wp_wasm_config answer = wasm_cfg("answer");
    wp_pid reader = spawn_wasm(rt, h, me, &rd, NULL, 0, WP_SPAWN_MONITOR);
    usleep(30000);
    /* The reader waits without holding the only worker: another process runs. */
    wp_pid other = spawn_wasm(rt, h, me, &answer, NULL, 0, WP_SPAWN_MONITOR);
    CHECK_EQ(wait_events(&c, 1, 5000), 1);
    CHECK(find_from(&c, other, WP_MSG_EXIT) != NULL);
    CHECK(wp_pid_alive(rt, reader));
    CHECK_EQ(write(fds[1], "hello", 5), 5);
    CHECK_EQ(wait_events(&c, 2, 5000), 2);
    const event *e = find_from(&c, reader, WP_MSG_EXIT);
    CHECK(e && e->value.kind == WP_VINT && e->value.of.i == 5);
    /* Terminating a process that waits on a descriptor. */
    wp_pid r2 = spawn_wasm(rt, h, me, &rd, NULL, 0, WP_SPAWN_MONITOR);
    usleep(20000);
    CHECK_EQ(wp_terminate(rt, me, r2, NULL), WP_OK);
    CHECK_EQ(wait_events(&c, 3, 5000), 3);
    e = find_from(&c, r2, WP_MSG_EXIT);
    CHECK(e && wp_value_error_kind(&e->value) == WP_ERR_CANCELED);
    stop_collector(rt, &c);
    wp_runtime_shutdown(rt, 2000);
    wp_runtime_free(rt);
    collector_free_struct(&c);
    close(fds[0]);
    close(fds[1]);
}

/* wp_runtime_run on a terminal host; shutdown cancels and then terminates what is left. */
static void test_terminal_and_shutdown(void) {
    wp_runtime *rt = new_runtime();
    wp_host *term = NULL;
    wp_host_config tc = {.terminal = true};
    wp_err err = {0};
    CHECK_EQ(wp_runtime_add_host(rt, "app:terminal", &tc, &term, &err), WP_OK);
    wp_host *h = add_host(rt, "app:processes", 2);
    wp_wasm_config nap = wasm_cfg("nap");
    wp_spawn_target t = wasm_target(&nap);
    wp_value args[2] = {wp_value_int(10 * 1000000), wp_value_int(9)};
    wp_value result = wp_value_nil();
    CHECK_EQ(wp_runtime_run(rt, term, &t, args, 2, &result, &err), WP_OK);
    CHECK(result.kind == WP_VINT && result.of.i == 9);
    /* Only wp_runtime_run runs on a terminal host. */
    CHECK_EQ(wp_spawn_target_on(rt, WP_PID_NONE, term, &t, args, 2, 0, NULL, &err),
             WP_ERR_INVALID);
    /* A long sleeper on a process host: shutdown cancels it (a WASM process ends at once). */
    wp_value long_args[2] = {wp_value_int(60000 * 1000000LL), wp_value_int(1)};
    wp_pid p = spawn_wasm(rt, h, WP_PID_NONE, &nap, long_args, 2, 0);
    CHECK(wp_pid_alive(rt, p));
    CHECK_EQ(wp_runtime_count(rt), 1);
    /* A mailbox process that ignores the cancel is terminated after the timeout. */
    collector c;
    collector_init_struct(&c);
    spawn_collector(rt, h, &c);
    uint64_t t0 = wp_wasi_now();
    CHECK_EQ(wp_runtime_shutdown(rt, 100), 1);
    uint64_t ms = (wp_wasi_now() - t0) / 1000000u;
    CHECK(ms >= 100 && ms < 2000);
    CHECK_EQ(wp_runtime_count(rt), 0);
    CHECK(find_from(&c, WP_PID_NONE, WP_MSG_CANCEL) != NULL);
    CHECK_EQ(wp_spawn_target_on(rt, WP_PID_NONE, h, &t, args, 2, 0, NULL, &err),
             WP_ERR_UNAVAILABLE);
    wp_runtime_free(rt);
    collector_free_struct(&c);
}

/* Freeing a runtime with processes still running terminates them. */
static void test_free_with_live_processes(void) {
    wp_runtime *rt = new_runtime();
    wp_host *h = add_host(rt, "app:processes", 2);
    wp_wasm_config spin = wasm_cfg("spin");
    wp_wasm_config nap = wasm_cfg("nap");
    wp_value args[2] = {wp_value_int(60000 * 1000000LL), wp_value_int(1)};
    for (int i = 0; i < 10; i++) {
        spawn_wasm(rt, h, WP_PID_NONE, &spin, NULL, 0, 0);
        spawn_wasm(rt, h, WP_PID_NONE, &nap, args, 2, 0);
    }
    usleep(20000);
    CHECK_EQ(wp_runtime_count(rt), 20);
    wp_runtime_free(rt);
}

/* Init errors reach the spawner; resolving by entry ID needs a resolver. */
static wp_status resolve_test(void *ud, const char *id, wp_spawn_target *out, wp_err *err) {
    const wp_wasm_config *cfg = ud;
    if (strcmp(id, "app:answer") != 0)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "entry %s not found", id);
    *out = (wp_spawn_target){.behavior = wp_wasm_behavior(), .config = cfg};
    return WP_OK;
}

static void test_spawn_by_id(void) {
    wp_wasm_config answer = wasm_cfg("answer");
    wp_runtime_config rc = {.resolve = resolve_test, .resolve_ud = &answer};
    wp_runtime *rt = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_runtime_new(&rc, &rt, &err), WP_OK);
    wp_host *h = add_host(rt, "app:processes", 2);
    collector c;
    collector_init_struct(&c);
    wp_pid me = spawn_collector(rt, h, &c);
    wp_pid child = WP_PID_NONE;
    CHECK_EQ(wp_spawn(rt, me, "app:answer", "app:processes", NULL, 0, WP_SPAWN_MONITOR, &child,
                      &err),
             WP_OK);
    CHECK_EQ(wait_events(&c, 1, 5000), 1);
    const event *e = find_from(&c, child, WP_MSG_EXIT);
    CHECK(e && e->value.kind == WP_VINT && e->value.of.i == 42);
    CHECK_EQ(wp_spawn(rt, me, "app:none", "app:processes", NULL, 0, 0, &child, &err),
             WP_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(err.msg, "app:none");
    CHECK_EQ(wp_spawn(rt, me, "app:answer", "app:nohost", NULL, 0, 0, &child, &err),
             WP_ERR_NOT_FOUND);
    CHECK_EQ(wp_spawn(rt, WP_PID_NONE, "app:answer", "app:processes", NULL, 0, WP_SPAWN_LINK,
                      &child, &err),
             WP_ERR_INVALID);
    /* Init fails: _start with arguments but no WASI. */
    wp_wasm_config bad = {.module = guest, .method = "_start"};
    wp_value arg = wp_value_int(1);
    wp_spawn_target t = wasm_target(&bad);
    CHECK_EQ(wp_spawn_target_on(rt, me, h, &t, &arg, 1, 0, &child, &err), WP_ERR_INVALID);
    CHECK_EQ(child, WP_PID_NONE);
    stop_collector(rt, &c);
    wp_runtime_shutdown(rt, 2000);
    wp_runtime_free(rt);
    collector_free_struct(&c);

    wp_runtime *plain = new_runtime();
    add_host(plain, "app:processes", 1);
    CHECK_EQ(wp_spawn(plain, WP_PID_NONE, "app:answer", "app:processes", NULL, 0, 0, &child,
                      &err),
             WP_ERR_UNSUPPORTED);
    wp_runtime_free(plain);
}

/* ---- Behaviours that misbehave: the host ends them with an error ---------------------------- */

typedef struct odd {
    bool can_wait; /* wait() says what; else it waits on nothing a host sees */
    int steps;
} odd;

static wp_status odd_init(const void *config, const wp_value *args, uint32_t nargs, void **state,
                          wp_err *err) {
    (void)args;
    (void)nargs;
    (void)err;
    *state = (void *)config;
    return WP_OK;
}

static wp_step odd_step(void *state, uint64_t budget, wp_value *result) {
    odd *o = state;
    (void)budget;
    (void)result;
    o->steps++;
    return WP_STEP_PENDING;
}

static bool odd_wait(void *state, wp_wait *out) {
    const odd *o = state;
    *out = (wp_wait){.deadline = wp_wasi_now() + 1000000u};
    return o->can_wait;
}

static wp_status odd_wake(void *state, bool *ready, wp_err *err) {
    (void)state;
    *ready = false;
    return wp_err_set(err, WP_ERR_INTERNAL, "the wake failed");
}

static const wp_behavior odd_behavior = {.name = "test.odd",
                                         .init = odd_init,
                                         .step = odd_step,
                                         .wait = odd_wait,
                                         .wake = odd_wake,
                                         .close = col_close};

typedef struct run_args {
    wp_runtime *rt;
    wp_host *term;
    const wp_spawn_target *t;
    wp_value result;
    wp_status st;
} run_args;

static void *run_thread(void *arg) {
    run_args *a = arg;
    wp_value args[2] = {wp_value_int(200 * 1000000), wp_value_int(5)};
    a->st = wp_runtime_run(a->rt, a->term, a->t, args, 2, &a->result, NULL);
    return NULL;
}

static void test_misbehaving(void) {
    wp_runtime *rt = new_runtime();
    wp_host *h = add_host(rt, "app:processes", 1);
    collector c;
    collector_init_struct(&c);
    wp_pid me = spawn_collector(rt, h, &c);
    odd blind = {.can_wait = false};
    odd failing = {.can_wait = true};
    wp_spawn_target t1 = {.behavior = &odd_behavior, .config = &blind};
    wp_spawn_target t2 = {.behavior = &odd_behavior, .config = &failing};
    wp_pid a = WP_PID_NONE;
    wp_pid b = WP_PID_NONE;
    CHECK_EQ(wp_spawn_target_on(rt, me, h, &t1, NULL, 0, WP_SPAWN_MONITOR, &a, NULL), WP_OK);
    CHECK_EQ(wp_spawn_target_on(rt, me, h, &t2, NULL, 0, WP_SPAWN_MONITOR, &b, NULL), WP_OK);
    CHECK_EQ(wait_events(&c, 2, 5000), 2);
    const event *e = find_from(&c, a, WP_MSG_EXIT);
    CHECK(e && wp_value_error_kind(&e->value) == WP_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(e ? wp_value_error_msg(&e->value) : NULL, "cannot wait for");
    e = find_from(&c, b, WP_MSG_EXIT);
    CHECK(e && wp_value_error_kind(&e->value) == WP_ERR_INTERNAL);
    CHECK_STR_CONTAINS(e ? wp_value_error_msg(&e->value) : NULL, "the wake failed");
    CHECK_EQ(failing.steps, 1);
    /* A terminal host runs one process at a time. */
    wp_host *term = NULL;
    wp_host_config tc = {.terminal = true};
    CHECK_EQ(wp_runtime_add_host(rt, "app:term", &tc, &term, NULL), WP_OK);
    wp_wasm_config nap = wasm_cfg("nap");
    wp_spawn_target t = wasm_target(&nap);
    run_args ra = {.rt = rt, .term = term, .t = &t};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, run_thread, &ra), 0);
    usleep(50000);
    wp_value result = wp_value_nil();
    wp_err err = {0};
    CHECK_EQ(wp_runtime_run(rt, term, &t, NULL, 0, &result, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "already runs a process");
    pthread_join(th, NULL);
    CHECK_EQ(ra.st, WP_OK);
    CHECK(ra.result.kind == WP_VINT && ra.result.of.i == 5);
    stop_collector(rt, &c);
    wp_runtime_shutdown(rt, 2000);
    wp_runtime_free(rt);
    collector_free_struct(&c);
}

/* A standalone process (no runtime) has no mailbox: waiting on it alone ends it. */
static void test_standalone_mailbox_wait(void) {
    collector c;
    collector_init_struct(&c);
    wp_proc *p = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_proc_new(&collector_behavior, &c, NULL, 0, &p, &err), WP_OK);
    CHECK_EQ(wp_terminal_run(p, 0, &err), WP_OK);
    CHECK(wp_proc_done(p));
    CHECK_EQ(wp_value_error_kind(wp_proc_result(p)), WP_ERR_UNAVAILABLE);
    CHECK_EQ(wp_proc_pid(p), WP_PID_NONE);
    CHECK(wp_proc_runtime(p) == NULL);
    CHECK(!wp_proc_on_terminal(p));
    wp_proc_free(p);
    collector_free_struct(&c);
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
    RUN_TEST(test_spawn_and_exit);
    RUN_TEST(test_pid_text_errors);
    RUN_TEST(test_thousand_sleepers);
    RUN_TEST(test_busy_beside_sleepers);
    RUN_TEST(test_trap_exit);
    RUN_TEST(test_links);
    RUN_TEST(test_monitors);
    RUN_TEST(test_messages_and_cancel);
    RUN_TEST(test_names);
    RUN_TEST(test_execution_limit);
    RUN_TEST(test_descriptor_wait);
    RUN_TEST(test_terminal_and_shutdown);
    RUN_TEST(test_free_with_live_processes);
    RUN_TEST(test_spawn_by_id);
    RUN_TEST(test_misbehaving);
    RUN_TEST(test_standalone_mailbox_wait);
    wp_module_free(guest);
    return TEST_EXIT();
}
