/* test_supervisor.c: the supervisor behaviour from C: the backoff formula, restarts and giving
 * up, terminal errors, requires order at start and stop, start_timeout and stop_timeout. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "wippy/runtime.h"

/* ---- A test process: what it does is its job's mode ---------------------------------------- */

typedef enum mode { FAIL, RETURN, CANCELED, WAIT, STUBBORN } mode;

typedef struct job {
    const char *id;
    mode m;
    atomic_int runs;
} job;

/* What happened, in order: "start:a stop:a ..." and the supervisor's log lines. */
static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static char trace[8192];
static char logbuf[16384];

static void append(char *buf, size_t cap, const char *text) {
    pthread_mutex_lock(&trace_lock);
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s\n", text);
    pthread_mutex_unlock(&trace_lock);
}

static bool contains(const char *buf, const char *text) {
    pthread_mutex_lock(&trace_lock);
    bool yes = strstr(buf, text) != NULL;
    pthread_mutex_unlock(&trace_lock);
    return yes;
}

static void reset(void) {
    trace[0] = '\0';
    logbuf[0] = '\0';
}

static wp_status job_init(const void *config, const wp_value *args, uint32_t nargs, void **state,
                          wp_err *err) {
    (void)args;
    (void)nargs;
    (void)err;
    job *j = (job *)config;
    atomic_fetch_add(&j->runs, 1);
    char text[64];
    snprintf(text, sizeof text, "start:%s", j->id);
    append(trace, sizeof trace, text);
    *state = j;
    return WP_OK;
}

static wp_step job_step(void *state, uint64_t budget, wp_value *result) {
    (void)budget;
    job *j = state;
    wp_msg *m = NULL;
    switch (j->m) {
    case FAIL:
        /* as a Lua error: a traceback after the message, which logs must leave out */
        wp_value_error(result, WP_ERR_INTERNAL, "boom\nstack traceback:\n\t[C]: in ?", NULL);
        return WP_STEP_DONE;
    case RETURN:
        *result = wp_value_int(7);
        return WP_STEP_DONE;
    case CANCELED:
        wp_value_error(result, WP_ERR_CANCELED, "terminated", NULL);
        return WP_STEP_DONE;
    default:
        break;
    }
    while (wp_proc_recv(wp_proc_current(), &m)) {
        bool stop = m->kind == WP_MSG_CANCEL && j->m == WAIT;
        wp_msg_free(m);
        if (stop) {
            char text[64];
            snprintf(text, sizeof text, "stop:%s", j->id);
            append(trace, sizeof trace, text);
            *result = wp_value_nil();
            return WP_STEP_DONE;
        }
    }
    return WP_STEP_PENDING;
}

static bool job_wait(void *state, wp_wait *out) {
    (void)state;
    *out = (wp_wait){.deadline = WP_WASI_NO_DEADLINE, .mailbox = true};
    return true;
}

static wp_status job_wake(void *state, bool *ready, wp_err *err) {
    (void)state;
    (void)err;
    *ready = true;
    return WP_OK;
}

static void job_close(void *state) { (void)state; }

static const wp_behavior JOB = {.name = "job", .init = job_init, .step = job_step,
                                .wait = job_wait, .wake = job_wake, .close = job_close,
                                .mailbox = true};

/* ---- A world: a runtime whose resolver knows the jobs, a supervisor running in a thread ---- */

typedef struct world {
    job *jobs;
    uint32_t njobs;
    wp_runtime *rt;
    wp_supervisor_config cfg;
    pthread_t thread;
    wp_status run_status;
} world;

static wp_status resolve(void *ud, const char *id, wp_spawn_target *out, wp_err *err) {
    world *w = ud;
    for (uint32_t i = 0; i < w->njobs; i++)
        if (strcmp(w->jobs[i].id, id) == 0) {
            *out = (wp_spawn_target){.behavior = &JOB, .config = &w->jobs[i]};
            return WP_OK;
        }
    return wp_err_set(err, WP_ERR_NOT_FOUND, "entry %s not found", id);
}

static void log_line(void *ud, const char *id, wp_svc_state from, wp_svc_state to,
                     const char *reason) {
    (void)ud;
    char text[600];
    snprintf(text, sizeof text, "%s: %s -> %s: %s", id, wp_svc_state_name(from),
             wp_svc_state_name(to), reason);
    append(logbuf, sizeof logbuf, text);
}

static void *run_supervisor(void *arg) {
    world *w = arg;
    wp_spawn_target t = {wp_supervisor_behavior(), &w->cfg, 0};
    wp_value result = wp_value_nil();
    wp_err err = {0};
    w->run_status = wp_runtime_run(w->rt, wp_runtime_host(w->rt, "sys:sup"), &t, NULL, 0,
                                   &result, &err);
    wp_value_free(&result);
    return NULL;
}

static void world_start(world *w, const wp_service *svcs, uint32_t n) {
    reset();
    wp_runtime_config rc = {.resolve = resolve, .resolve_ud = w};
    wp_host_config one = {.workers = 1};
    wp_host_config two = {.workers = 2};
    CHECK_EQ(wp_runtime_new(&rc, &w->rt, NULL), WP_OK);
    CHECK_EQ(wp_runtime_add_host(w->rt, "sys:sup", &one, NULL, NULL), WP_OK);
    CHECK_EQ(wp_runtime_add_host(w->rt, "app:workers", &two, NULL, NULL), WP_OK);
    w->cfg = (wp_supervisor_config){svcs, n, log_line, NULL};
    pthread_create(&w->thread, NULL, run_supervisor, w);
}

/* Waits up to ms for text in buf. */
static bool eventually(const char *buf, const char *text, int ms) {
    for (int i = 0; i < ms / 5; i++) {
        if (contains(buf, text))
            return true;
        usleep(5000);
    }
    return contains(buf, text);
}

/* Cancels the supervisor (as the signal hook does) and waits for it to return. */
static void world_stop(world *w) {
    wp_pid sup = WP_PID_NONE;
    for (int i = 0; i < 400 && wp_name_lookup(w->rt, WP_SUPERVISOR_NAME, &sup, NULL) != WP_OK;
         i++)
        usleep(5000);
    CHECK_EQ(wp_cancel(w->rt, WP_PID_NONE, sup, "shutdown", NULL), WP_OK);
    pthread_join(w->thread, NULL);
    CHECK_EQ(w->run_status, WP_OK);
    wp_runtime_free(w->rt);
}

static wp_service service(const char *id, const char *process) {
    return (wp_service){.id = id,
                        .process = process,
                        .host = "app:workers",
                        .auto_start = true,
                        .start_timeout_ms = 5000,
                        .stop_timeout_ms = 5000,
                        .stable_threshold_ms = 5000,
                        .restart = {.initial_delay_ms = 10, .max_delay_ms = 1000,
                                    .backoff_factor = 2, .max_attempts = 2}};
}

/* ---- Tests -------------------------------------------------------------------------------- */

static void test_delay_formula(void) {
    wp_restart_policy p = {.initial_delay_ms = 100, .max_delay_ms = 1000, .backoff_factor = 2};
    const uint64_t want[] = {100, 200, 400, 800, 1000, 1000};
    for (uint32_t i = 0; i < 6; i++)
        CHECK_EQ(wp_restart_delay_ms(&p, i + 1, 0.5), want[i]);
    CHECK_EQ(wp_restart_delay_ms(&p, 4000000000u, 0.5), 1000); /* no overflow, no hang */
    p.jitter = 0.1;
    CHECK_EQ(wp_restart_delay_ms(&p, 1, 0.0), 90);
    CHECK_EQ(wp_restart_delay_ms(&p, 1, 0.5), 100);
    CHECK_EQ(wp_restart_delay_ms(&p, 3, 0.999999), 440);
    p = (wp_restart_policy){.initial_delay_ms = 50, .backoff_factor = 0.5};
    CHECK_EQ(wp_restart_delay_ms(&p, 5, 0.5), 50); /* a factor below 1 is 1 */
    p.backoff_factor = 3;
    CHECK_EQ(wp_restart_delay_ms(&p, 3, 0.5), 450); /* no max_delay: no cap */
    CHECK(strcmp(wp_svc_state_name(WP_SVC_EXITED), "Exited") == 0);
    CHECK(strcmp(wp_svc_state_name((wp_svc_state)99), "?") == 0);
}

static void test_restart_and_give_up(void) {
    job jobs[] = {{.id = "app:crash", .m = FAIL}};
    world w = {.jobs = jobs, .njobs = 1};
    wp_service s = service("app:svc", "app:crash");
    world_start(&w, &s, 1);
    CHECK(eventually(logbuf, "giving up after 2 restart attempts", 5000));
    CHECK_EQ(atomic_load(&jobs[0].runs), 3);
    CHECK(contains(logbuf, "app:svc: Running -> Failed: internal: boom; restart 1 of 2 in 10ms"));
    CHECK(contains(logbuf, "internal: boom; restart 2 of 2 in 20ms"));
    CHECK(contains(logbuf, "internal: boom; giving up after 2 restart attempts"));
    CHECK(!contains(logbuf, "traceback"));
    CHECK(contains(logbuf, "app:svc: Failed -> Starting: restart 2"));
    usleep(100000);
    CHECK_EQ(atomic_load(&jobs[0].runs), 3);
    world_stop(&w);
}

static void test_terminal_outcomes(void) {
    job jobs[] = {{.id = "app:ret", .m = RETURN}, {.id = "app:canceled", .m = CANCELED}};
    world w = {.jobs = jobs, .njobs = 2};
    wp_service s[] = {service("app:a", "app:ret"), service("app:b", "app:canceled"),
                      service("app:c", "app:missing")};
    world_start(&w, s, 3);
    CHECK(eventually(logbuf, "app:a: Running -> Exited: returned 7", 5000));
    CHECK(eventually(logbuf, "app:b: Running -> Exited: canceled: terminated", 5000));
    CHECK(eventually(logbuf, "app:c: Starting -> Exited: cannot start app:missing: not found", 5000));
    usleep(100000);
    CHECK_EQ(atomic_load(&jobs[0].runs), 1);
    CHECK_EQ(atomic_load(&jobs[1].runs), 1);
    world_stop(&w);
}

static void test_order(void) {
    job jobs[] = {{.id = "app:a", .m = WAIT}, {.id = "app:b", .m = WAIT}, {.id = "app:c", .m = WAIT}};
    world w = {.jobs = jobs, .njobs = 3};
    /* listed backwards, so only requires can put them in order */
    wp_service s[] = {service("svc:c", "app:c"), service("svc:b", "app:b"),
                      service("svc:a", "app:a")};
    static const uint32_t needs_svc_b[] = {1};
    static const uint32_t needs_svc_a[] = {2};
    s[0].requires = needs_svc_b;
    s[0].nrequires = 1;
    s[1].requires = needs_svc_a;
    s[1].nrequires = 1;
    s[2].auto_start = false; /* pulled in by b */
    world_start(&w, s, 3);
    CHECK(eventually(trace, "start:app:c", 5000));
    world_stop(&w);
    CHECK(strstr(trace, "start:app:a\nstart:app:b\nstart:app:c\nstop:app:c\nstop:app:b\n"
                        "stop:app:a\n") != NULL);
    CHECK(contains(logbuf, "svc:a: Unknown -> Starting: required"));
    CHECK(contains(logbuf, "svc:c: Stopping -> Stopped: returned nil"));
}

static void test_timeouts(void) {
    job jobs[] = {{.id = "app:crash", .m = FAIL}, {.id = "app:stubborn", .m = STUBBORN}};
    world w = {.jobs = jobs, .njobs = 2};
    static const uint32_t needs_0[] = {0};
    /* svc:down cannot start (no such entry), so svc:late waits for it in vain */
    wp_service s[] = {service("svc:down", "app:missing"), service("svc:late", "app:stubborn"),
                      service("svc:stubborn", "app:stubborn"), service("svc:crash", "app:crash")};
    s[3].restart.initial_delay_ms = 10000; /* a restart pending at shutdown */
    s[3].restart.max_delay_ms = 0;
    s[1].requires = needs_0;
    s[1].nrequires = 1;
    s[1].start_timeout_ms = 50;
    s[2].stop_timeout_ms = 50;
    world_start(&w, s, 4);
    CHECK(eventually(logbuf, "svc:late: Starting -> Failed: start_timeout (50ms) passed waiting "
                             "for svc:down; restart 1 of 2 in 10ms", 5000));
    CHECK(eventually(trace, "start:app:stubborn", 5000));
    struct timespec t0;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    world_stop(&w);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(ms >= 50 && ms < 5000);
    CHECK(contains(logbuf, "svc:stubborn: Stopping -> Stopping: stop_timeout (50ms) passed: "
                           "terminating"));
    CHECK(contains(logbuf, "svc:stubborn: Stopping -> Stopped: terminated after stop_timeout: "
                           "canceled: terminated"));
    CHECK(contains(logbuf, "svc:crash: Failed -> Failed: restart canceled: shutting down"));
    CHECK(contains(logbuf, "svc:late: Starting -> Stopped: shutdown before it started") ||
          contains(logbuf, "svc:late: Failed -> Failed: restart canceled: shutting down"));
}

int main(void) {
    RUN_TEST(test_delay_formula);
    RUN_TEST(test_restart_and_give_up);
    RUN_TEST(test_terminal_outcomes);
    RUN_TEST(test_order);
    RUN_TEST(test_timeouts);
    return TEST_EXIT();
}
