/* supervisor.c: the supervisor behaviour: services started in dependency order, restarted
 * with backoff, stopped in reverse order at shutdown (the lifecycle of docs/supervision.md). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define NS_PER_MS 1000000u
#define REASON_MAX 384u
#define MAX_DELAY_MS 1e12 /* about 31 years */

static wp_heap *heap(void) { return wp_heap_default(); }

/* One service as the supervisor tracks it. */
typedef struct svc {
    const wp_service *cfg;
    wp_svc_state st;
    wp_pid pid;        /* its process while Running or Stopping */
    bool wanted;       /* auto_start, or required by a wanted one */
    bool stable;       /* ran stable_threshold this run: the failure count was reset */
    bool terminated;   /* Stopping: wp_terminate was sent after stop_timeout */
    uint32_t failures; /* consecutive failures since it was last stable */
    uint64_t since;    /* ns: when it entered Starting or Running */
    uint64_t due;      /* ns: Failed: the restart; Stopping: the terminate; else NO_DEADLINE */
} svc;

typedef struct sup {
    const wp_supervisor_config *cfg;
    svc *s;
    uint32_t n;
    wp_runtime *rt;
    wp_pid self;
    bool stopping;
    uint64_t rng; /* xorshift64 state, for jitter */
} sup;

static const char *const STATE_NAMES[] = {"Unknown",  "Starting", "Running", "Stopping",
                                          "Stopped",  "Failed",   "Exited"};

const char *wp_svc_state_name(wp_svc_state s) {
    return (unsigned)s < sizeof STATE_NAMES / sizeof STATE_NAMES[0] ? STATE_NAMES[s] : "?";
}

uint64_t wp_restart_delay_ms(const wp_restart_policy *p, uint32_t attempt, double u) {
    double factor = p->backoff_factor >= 1.0 ? p->backoff_factor : 1.0;
    double d = (double)p->initial_delay_ms;
    for (uint32_t i = 1; i < attempt && (p->max_delay_ms == 0 || d < (double)p->max_delay_ms);
         i++) {
        d *= factor;
        if (d > MAX_DELAY_MS)
            break;
    }
    if (p->max_delay_ms && d > (double)p->max_delay_ms)
        d = (double)p->max_delay_ms;
    if (d > MAX_DELAY_MS)
        d = MAX_DELAY_MS; /* deadlines in ns must not overflow */
    double j = p->jitter > 0 ? (p->jitter < 1 ? p->jitter : 1) : 0;
    d *= 1.0 + j * (2.0 * u - 1.0);
    return d > 0 ? (uint64_t)llround(d) : 0;
}

/* ---- Logging and transitions ---------------------------------------------------------------- */

/* Cuts text at its first line break: Lua errors carry a traceback, the first line says it. */
static void first_line(char *text) {
    text[strcspn(text, "\r\n")] = '\0';
}

static void note(const sup *S, const svc *v, wp_svc_state to, const char *fmt, ...)
    WP_PRINTF(4, 5);

/* Tells the log about v going to 'to' (to == v->st: a note) with a one-line reason. */
static void note(const sup *S, const svc *v, wp_svc_state to, const char *fmt, ...) {
    if (!S->cfg->log)
        return;
    char reason[REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    first_line(reason);
    S->cfg->log(S->cfg->log_ud, v->cfg->id, v->st, to, reason);
}

static double random_unit(sup *S) {
    S->rng ^= S->rng << 13;
    S->rng ^= S->rng >> 7;
    S->rng ^= S->rng << 17;
    return (double)(S->rng >> 11) / 9007199254740992.0; /* 2^53 */
}

/* v failed (why: one line): Failed, with a restart scheduled unless it has used up its
 * attempts or the supervisor is stopping. */
static void fail(sup *S, svc *v, uint64_t now, const char *why) {
    const wp_restart_policy *p = &v->cfg->restart;
    if (v->st == WP_SVC_RUNNING && now - v->since >= v->cfg->stable_threshold_ms * NS_PER_MS)
        v->failures = 0; /* it was stable, even if the reset was not noted yet */
    v->failures++;
    v->due = WP_WASI_NO_DEADLINE;
    v->pid = WP_PID_NONE;
    if (S->stopping) {
        note(S, v, WP_SVC_FAILED, "%s; no restart: shutting down", why);
    } else if (p->max_attempts && v->failures > p->max_attempts) {
        note(S, v, WP_SVC_FAILED, "%s; giving up after %u restart attempt%s", why,
             p->max_attempts, p->max_attempts == 1 ? "" : "s");
    } else {
        uint64_t ms = wp_restart_delay_ms(p, v->failures, random_unit(S));
        v->due = now + ms * NS_PER_MS;
        if (p->max_attempts)
            note(S, v, WP_SVC_FAILED, "%s; restart %u of %u in %llums", why, v->failures,
                 p->max_attempts, (unsigned long long)ms);
        else
            note(S, v, WP_SVC_FAILED, "%s; restart %u in %llums", why, v->failures,
                 (unsigned long long)ms);
    }
    v->st = WP_SVC_FAILED;
}

/* Configuration problems do not go away by retrying. */
static bool retryable_spawn_error(wp_status st) {
    return st != WP_ERR_NOT_FOUND && st != WP_ERR_INVALID && st != WP_ERR_UNSUPPORTED &&
           st != WP_ERR_PERMISSION_DENIED && st != WP_ERR_LINK;
}

/* ---- Starting ------------------------------------------------------------------------------- */

static bool requires_running(const sup *S, const svc *v, const char **missing) {
    for (uint32_t i = 0; i < v->cfg->nrequires; i++) {
        const svc *d = &S->s[v->cfg->requires[i]];
        if (d->st != WP_SVC_RUNNING) {
            *missing = d->cfg->id;
            return false;
        }
    }
    return true;
}

static void spawn_service(sup *S, svc *v, uint64_t now) {
    wp_err err = {0};
    wp_pid pid = WP_PID_NONE;
    wp_status st = wp_spawn(S->rt, S->self, v->cfg->process, v->cfg->host, v->cfg->args,
                            v->cfg->nargs, WP_SPAWN_MONITOR, &pid, &err);
    if (st == WP_OK) {
        char text[WP_PID_TEXT_MAX];
        wp_pid_format(S->rt, pid, text, sizeof text);
        note(S, v, WP_SVC_RUNNING, "%.100s started as %.200s", v->cfg->process, text);
        v->st = WP_SVC_RUNNING;
        v->pid = pid;
        v->since = now;
        v->stable = false;
    } else if (!retryable_spawn_error(st)) {
        note(S, v, WP_SVC_EXITED, "cannot start %.100s: %s: %.200s", v->cfg->process,
             wp_status_text(st), err.msg);
        v->st = WP_SVC_EXITED;
    } else {
        char why[REASON_MAX];
        snprintf(why, sizeof why, "cannot start %.100s: %s: %.200s", v->cfg->process,
                 wp_status_text(st), err.msg);
        first_line(why);
        fail(S, v, now, why);
    }
}

/* Starting: spawns v once what it requires runs; fails it after start_timeout. */
static void advance_starting(sup *S, svc *v, uint64_t now) {
    const char *missing = NULL;
    if (requires_running(S, v, &missing)) {
        spawn_service(S, v, now);
        return;
    }
    if (now - v->since >= v->cfg->start_timeout_ms * NS_PER_MS) {
        char why[REASON_MAX];
        snprintf(why, sizeof why, "start_timeout (%llums) passed waiting for %.200s",
                 (unsigned long long)v->cfg->start_timeout_ms, missing);
        fail(S, v, now, why);
    }
}

static void advance_running(sup *S, svc *v, uint64_t now) {
    if (v->stable || now - v->since < v->cfg->stable_threshold_ms * NS_PER_MS)
        return;
    v->stable = true;
    if (v->failures) {
        note(S, v, v->st, "stable after %llums: restart counter reset (was %u)",
             (unsigned long long)v->cfg->stable_threshold_ms, v->failures);
        v->failures = 0;
    }
}

static void advance_start(sup *S, uint64_t now) {
    for (uint32_t i = 0; i < S->n; i++) {
        svc *v = &S->s[i];
        if (v->st == WP_SVC_UNKNOWN && v->wanted) {
            note(S, v, WP_SVC_STARTING, "%s", v->cfg->auto_start ? "auto_start" : "required");
            v->st = WP_SVC_STARTING;
            v->since = now;
        } else if (v->st == WP_SVC_FAILED && v->due <= now) {
            note(S, v, WP_SVC_STARTING, "restart %u", v->failures);
            v->st = WP_SVC_STARTING;
            v->since = now;
            v->due = WP_WASI_NO_DEADLINE;
        }
        if (v->st == WP_SVC_STARTING)
            advance_starting(S, v, now);
        else if (v->st == WP_SVC_RUNNING)
            advance_running(S, v, now);
    }
}

/* ---- Stopping ------------------------------------------------------------------------------- */

/* True while a service that requires v has a process or may get one. */
static bool dependents_active(const sup *S, uint32_t idx) {
    for (uint32_t i = 0; i < S->n; i++) {
        const svc *d = &S->s[i];
        if (d->st != WP_SVC_RUNNING && d->st != WP_SVC_STOPPING)
            continue;
        for (uint32_t k = 0; k < d->cfg->nrequires; k++)
            if (d->cfg->requires[k] == idx)
                return true;
    }
    return false;
}

static void begin_stop(sup *S, svc *v, uint64_t now) {
    note(S, v, WP_SVC_STOPPING, "shutdown: CANCEL sent, stop_timeout %llums",
         (unsigned long long)v->cfg->stop_timeout_ms);
    v->st = WP_SVC_STOPPING;
    v->due = now + v->cfg->stop_timeout_ms * NS_PER_MS;
    wp_cancel(S->rt, S->self, v->pid, "shutdown", NULL); /* gone already: its EXIT is coming */
}

static void advance_stop(sup *S, uint64_t now) {
    for (uint32_t i = 0; i < S->n; i++) {
        svc *v = &S->s[i];
        if (v->st == WP_SVC_STARTING) {
            note(S, v, WP_SVC_STOPPED, "shutdown before it started");
            v->st = WP_SVC_STOPPED;
        } else if (v->st == WP_SVC_FAILED && v->due != WP_WASI_NO_DEADLINE) {
            note(S, v, v->st, "restart canceled: shutting down");
            v->due = WP_WASI_NO_DEADLINE;
        } else if (v->st == WP_SVC_RUNNING && !dependents_active(S, i)) {
            begin_stop(S, v, now);
        } else if (v->st == WP_SVC_STOPPING && !v->terminated && v->due <= now) {
            note(S, v, v->st, "stop_timeout (%llums) passed: terminating",
                 (unsigned long long)v->cfg->stop_timeout_ms);
            v->terminated = true;
            v->due = WP_WASI_NO_DEADLINE;
            wp_terminate(S->rt, S->self, v->pid, NULL);
        }
    }
}

static bool any_alive(const sup *S) {
    for (uint32_t i = 0; i < S->n; i++)
        if (S->s[i].st == WP_SVC_RUNNING || S->s[i].st == WP_SVC_STOPPING)
            return true;
    return false;
}

/* ---- Events --------------------------------------------------------------------------------- */

/* The result as one line: "returned 3", "trap: unreachable ...". */
static void describe(const wp_value *r, char *buf, size_t cap) {
    if (r->kind == WP_VINT) {
        snprintf(buf, cap, "returned %lld", (long long)r->of.i);
        return;
    }
    if (r->kind == WP_VSTRING) {
        snprintf(buf, cap, "returned \"%.100s\"", wp_value_str(r, NULL));
        return;
    }
    if (r->kind != WP_VERROR) {
        snprintf(buf, cap, "returned %s", wp_vkind_name(r->kind));
        return;
    }
    snprintf(buf, cap, "%s: %.250s", wp_status_text(wp_value_error_kind(r)),
             wp_value_error_msg(r));
    first_line(buf);
}

static void on_exit_event(sup *S, const wp_msg *m, uint64_t now) {
    svc *v = NULL;
    for (uint32_t i = 0; i < S->n && !v; i++)
        if (S->s[i].pid == m->from && (S->s[i].st == WP_SVC_RUNNING ||
                                       S->s[i].st == WP_SVC_STOPPING))
            v = &S->s[i];
    if (!v)
        return;
    char what[REASON_MAX - 64];
    describe(&m->value, what, sizeof what);
    wp_status kind = wp_value_error_kind(&m->value);
    if (v->st == WP_SVC_STOPPING) {
        note(S, v, WP_SVC_STOPPED, "%s%s", v->terminated ? "terminated after stop_timeout: " : "",
             what);
        v->st = WP_SVC_STOPPED;
        v->pid = WP_PID_NONE;
        v->due = WP_WASI_NO_DEADLINE;
    } else if (m->value.kind != WP_VERROR || kind == WP_ERR_CANCELED) {
        /* A return ends the service; a termination or cancellation is a terminal error. */
        note(S, v, WP_SVC_EXITED, "%s", what);
        v->st = WP_SVC_EXITED;
        v->pid = WP_PID_NONE;
    } else {
        fail(S, v, now, what);
    }
}

static void drain_mailbox(sup *S, wp_proc *self, uint64_t now) {
    wp_msg *m = NULL;
    while (wp_proc_recv(self, &m)) {
        if (m->kind == WP_MSG_EXIT) {
            on_exit_event(S, m, now);
        } else if (m->kind == WP_MSG_CANCEL && !S->stopping) {
            S->stopping = true;
            if (S->cfg->log)
                S->cfg->log(S->cfg->log_ud, "*", WP_SVC_RUNNING, WP_SVC_STOPPING,
                            "stopping services in reverse order");
        }
        wp_msg_free(m);
    }
}

/* ---- The behaviour -------------------------------------------------------------------------- */

/* A wanted service's requires are wanted too (to a fixed point: n passes at most). */
static void mark_wanted(sup *S) {
    for (uint32_t i = 0; i < S->n; i++)
        S->s[i].wanted = S->s[i].cfg->auto_start;
    for (bool more = true; more;) {
        more = false;
        for (uint32_t i = 0; i < S->n; i++) {
            for (uint32_t k = 0; S->s[i].wanted && k < S->s[i].cfg->nrequires; k++) {
                svc *d = &S->s[S->s[i].cfg->requires[k]];
                more |= !d->wanted;
                d->wanted = true;
            }
        }
    }
}

static wp_status sup_init(const void *config, const wp_value *args, uint32_t nargs, void **state,
                          wp_err *err) {
    (void)args;
    (void)nargs;
    const wp_supervisor_config *cfg = config;
    for (uint32_t i = 0; i < cfg->nservices; i++)
        for (uint32_t k = 0; k < cfg->services[i].nrequires; k++)
            if (cfg->services[i].requires[k] >= cfg->nservices ||
                cfg->services[i].requires[k] == i)
                return wp_err_set(err, WP_ERR_INVALID, "service %s: bad requires index",
                                  cfg->services[i].id);
    sup *S = wp_heap_zalloc(heap(), sizeof *S);
    if (!S || (cfg->nservices && !(S->s = wp_heap_calloc(heap(), cfg->nservices, sizeof *S->s)))) {
        wp_heap_free(heap(), S, sizeof *S);
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    S->cfg = cfg;
    S->n = cfg->nservices;
    S->rng = wp_wasi_now() | 1u;
    for (uint32_t i = 0; i < S->n; i++)
        S->s[i] = (svc){.cfg = &cfg->services[i], .due = WP_WASI_NO_DEADLINE};
    mark_wanted(S);
    *state = S;
    return WP_OK;
}

static wp_step sup_step(void *state, uint64_t budget, wp_value *result) {
    (void)budget;
    sup *S = state;
    wp_proc *self = wp_proc_current();
    if (!S->self) {
        S->self = wp_proc_pid(self);
        S->rt = wp_proc_runtime(self);
        wp_name_register(S->rt, WP_SUPERVISOR_NAME, S->self, NULL);
    }
    uint64_t now = wp_wasi_now();
    drain_mailbox(S, self, now);
    if (S->stopping)
        advance_stop(S, now);
    else
        advance_start(S, now);
    if (S->stopping && !any_alive(S)) {
        *result = wp_value_nil();
        return WP_STEP_DONE;
    }
    return WP_STEP_PENDING;
}

static uint64_t earliest(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* The next moment something is due: a restart, a terminate, a start_timeout, stability. */
static bool sup_wait(void *state, wp_wait *out) {
    const sup *S = state;
    uint64_t at = WP_WASI_NO_DEADLINE;
    for (uint32_t i = 0; i < S->n; i++) {
        const svc *v = &S->s[i];
        if (v->st == WP_SVC_FAILED || v->st == WP_SVC_STOPPING)
            at = earliest(at, v->due);
        else if (v->st == WP_SVC_STARTING)
            at = earliest(at, v->since + v->cfg->start_timeout_ms * NS_PER_MS);
        else if (v->st == WP_SVC_RUNNING && !v->stable && !S->stopping)
            at = earliest(at, v->since + v->cfg->stable_threshold_ms * NS_PER_MS);
    }
    *out = (wp_wait){.deadline = at, .mailbox = true};
    return true;
}

static wp_status sup_wake(void *state, bool *ready, wp_err *err) {
    (void)state;
    (void)err;
    *ready = true; /* step looks at the clock and the mailbox again */
    return WP_OK;
}

static void sup_cancel(void *state) { (void)state; }

static void sup_close(void *state) {
    sup *S = state;
    if (!S)
        return;
    wp_heap_free(heap(), S->s, S->n * sizeof *S->s);
    wp_heap_free(heap(), S, sizeof *S);
}

static const wp_behavior SUPERVISOR = {
    .name = "supervisor",
    .init = sup_init,
    .step = sup_step,
    .wait = sup_wait,
    .wake = sup_wake,
    .cancel = sup_cancel,
    .close = sup_close,
    .mailbox = true,
};

const wp_behavior *wp_supervisor_behavior(void) { return &SUPERVISOR; }
