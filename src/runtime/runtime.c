/* runtime.c: the runtime object: hosts, spawning, running a terminal process, shutdown. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define HOST_ID_MAX 200u /* bytes of a host ID, so any PID renders in WP_PID_TEXT_MAX */
#define DEFAULT_SHUTDOWN_MS 10000u

static wp_heap *heap(void) { return wp_heap_default(); }

wp_status wp_runtime_new(const wp_runtime_config *cfg, wp_runtime **out, wp_err *err) {
    *out = NULL;
    wp_runtime *rt = wp_heap_zalloc(heap(), sizeof *rt);
    if (!rt)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    if (cfg)
        rt->cfg = *cfg;
    if (!rt->cfg.shutdown_timeout_ms)
        rt->cfg.shutdown_timeout_ms = DEFAULT_SHUTDOWN_MS;
    for (size_t i = 0; i < WP_TABLE_SHARDS; i++)
        pthread_mutex_init(&rt->shards[i].lock, NULL);
    pthread_mutex_init(&rt->names_lock, NULL);
    pthread_mutex_init(&rt->hosts_lock, NULL);
    pthread_mutex_init(&rt->alive_lock, NULL);
    pthread_cond_init(&rt->alive_cond, NULL);
    wp_status st = wp__loop_start(rt, err);
    if (st != WP_OK) {
        wp_runtime_free(rt);
        return st;
    }
    *out = rt;
    return WP_OK;
}

static void host_free(wp_host *h) {
    wp__host_stop(h);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    wp_heap_free(heap(), h->id, strlen(h->id) + 1);
    wp_heap_free(heap(), h, sizeof *h);
}

/* Waits until no process is alive, or until deadline (wp_wasi_now ns). True if none is. */
static bool wait_none_alive(wp_runtime *rt, uint64_t deadline) {
    pthread_mutex_lock(&rt->alive_lock);
    while (rt->alive && wp_wasi_now() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000; /* looks at the clock again every 20 ms */
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&rt->alive_cond, &rt->alive_lock, &ts);
    }
    bool none = rt->alive == 0;
    pthread_mutex_unlock(&rt->alive_lock);
    return none;
}

static void terminate_one(wp_proc *p, void *ud) {
    uint32_t *count = ud;
    if (wp_terminate(p->rt, WP_PID_NONE, p->pid, NULL) == WP_OK)
        ++*count;
}

static void cancel_one(wp_proc *p, void *ud) {
    (void)ud;
    wp_cancel(p->rt, WP_PID_NONE, p->pid, "shutdown", NULL);
}

uint32_t wp_runtime_shutdown(wp_runtime *rt, uint64_t timeout_ms) {
    atomic_store(&rt->closing, true);
    if (!timeout_ms)
        timeout_ms = rt->cfg.shutdown_timeout_ms;
    wp__table_each(rt, cancel_one, NULL);
    if (wait_none_alive(rt, wp_wasi_now() + timeout_ms * 1000000u))
        return 0;
    uint32_t terminated = 0;
    wp__table_each(rt, terminate_one, &terminated);
    wait_none_alive(rt, WP_WASI_NO_DEADLINE);
    return terminated;
}

void wp_runtime_free(wp_runtime *rt) {
    if (!rt)
        return;
    atomic_store(&rt->closing, true);
    if (rt->loop) {
        uint32_t none = 0;
        wp__table_each(rt, terminate_one, &none);
        wait_none_alive(rt, WP_WASI_NO_DEADLINE);
    }
    for (uint32_t i = 0; i < atomic_load(&rt->nhosts); i++)
        host_free(rt->hosts[i]);
    wp_heap_free(heap(), rt->hosts, rt->hosts_cap * sizeof *rt->hosts);
    wp__loop_stop(rt);
    wp__table_free(rt);
    pthread_mutex_destroy(&rt->names_lock);
    pthread_mutex_destroy(&rt->hosts_lock);
    pthread_mutex_destroy(&rt->alive_lock);
    pthread_cond_destroy(&rt->alive_cond);
    wp_heap_free(heap(), rt, sizeof *rt);
}

/* ---- Hosts ---------------------------------------------------------------------------------- */

static uint32_t online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 1024 ? (uint32_t)n : 1;
}

static wp_status check_host_id(const wp_runtime *rt, const char *id, wp_err *err) {
    size_t len = strlen(id);
    if (len == 0 || len > HOST_ID_MAX || strchr(id, '|'))
        return wp_err_set(err, WP_ERR_INVALID, "host ID '%.100s': 1 to %u bytes, no '|'", id,
                          HOST_ID_MAX);
    if (wp_runtime_host(rt, id))
        return wp_err_set(err, WP_ERR_ALREADY_EXISTS, "host %s exists", id);
    if (atomic_load(&((wp_runtime *)rt)->nhosts) >= 0xffffu)
        return wp_err_set(err, WP_ERR_INVALID, "too many hosts");
    return WP_OK;
}

static wp_host *host_new(wp_runtime *rt, const char *id, const wp_host_config *cfg) {
    wp_host *h = wp_heap_zalloc(heap(), sizeof *h);
    if (!h || !(h->id = wp_heap_strdup(heap(), id))) {
        wp_heap_free(heap(), h, sizeof *h);
        return NULL;
    }
    h->rt = rt;
    if (cfg)
        h->cfg = *cfg;
    h->terminal = h->cfg.terminal;
    if (h->terminal)
        h->cfg.workers = 1;
    if (!h->cfg.workers)
        h->cfg.workers = online_cpus();
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    return h;
}

static bool hosts_room(wp_runtime *rt) {
    uint32_t n = atomic_load(&rt->nhosts);
    if (n < rt->hosts_cap)
        return true;
    /* Readers index the array without the lock, so it never moves: it is sized once. */
    if (rt->hosts_cap)
        return false;
    rt->hosts = wp_heap_calloc(heap(), 0x10000u, sizeof *rt->hosts);
    rt->hosts_cap = rt->hosts ? 0x10000u : 0;
    return rt->hosts != NULL;
}

wp_status wp_runtime_add_host(wp_runtime *rt, const char *id, const wp_host_config *cfg,
                              wp_host **out, wp_err *err) {
    if (out)
        *out = NULL;
    pthread_mutex_lock(&rt->hosts_lock);
    wp_status st = check_host_id(rt, id, err);
    wp_host *h = NULL;
    if (st == WP_OK && (!hosts_room(rt) || !(h = host_new(rt, id, cfg))))
        st = wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    if (st == WP_OK && (st = wp__host_start(h, err)) != WP_OK) {
        host_free(h);
        h = NULL;
    }
    if (h) {
        h->index = (uint16_t)atomic_load(&rt->nhosts);
        rt->hosts[h->index] = h;
        atomic_store(&rt->nhosts, h->index + 1u);
    }
    pthread_mutex_unlock(&rt->hosts_lock);
    if (out)
        *out = h;
    return st;
}

wp_host *wp_runtime_host(const wp_runtime *rt, const char *id) {
    uint32_t n = atomic_load(&((wp_runtime *)rt)->nhosts);
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(rt->hosts[i]->id, id) == 0)
            return rt->hosts[i];
    return NULL;
}

const char *wp_host_id(const wp_host *h) { return h->id; }

/* ---- Spawning ------------------------------------------------------------------------------- */

/* Sets up the parent's link and monitor of p (not yet running). The parent's side comes last,
 * so a failure leaves nothing in the parent. */
static wp_status attach_parent(wp_runtime *rt, wp_proc *p, wp_pid parent, uint32_t flags,
                               wp_err *err) {
    if ((flags & WP_SPAWN_MONITOR) && !wp__pid_set_add(&p->monitors, parent))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    if (!(flags & WP_SPAWN_LINK))
        return WP_OK;
    if (!wp__pid_set_add(&p->links, parent))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    wp_proc *up = wp__table_get(rt, parent);
    if (!up)
        return wp_err_set(err, WP_ERR_INVALID, "the parent process is not alive");
    wp_status st = WP_OK;
    pthread_mutex_lock(&up->lock);
    if (up->st == PS_EXITING)
        st = wp_err_set(err, WP_ERR_INVALID, "the parent process is not alive");
    else if (!wp__pid_set_add(&up->links, p->pid))
        st = wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    pthread_mutex_unlock(&up->lock);
    wp__proc_unref(up);
    return st;
}

static wp_status check_spawn(wp_runtime *rt, wp_pid parent, uint32_t flags, wp_err *err) {
    if (atomic_load(&rt->closing))
        return wp_err_set(err, WP_ERR_UNAVAILABLE, "the runtime is shutting down");
    if (flags & ~(WP_SPAWN_LINK | WP_SPAWN_MONITOR))
        return wp_err_set(err, WP_ERR_INVALID, "unknown spawn flags");
    if (flags && !wp_pid_alive(rt, parent))
        return wp_err_set(err, WP_ERR_INVALID, "link or monitor without a live parent process");
    return WP_OK;
}

static void count_spawn(wp_runtime *rt) {
    pthread_mutex_lock(&rt->alive_lock);
    rt->alive++;
    pthread_mutex_unlock(&rt->alive_lock);
}

/* Gives p its PID, its parent's link and monitor, and a place in the table; then queues it. */
static wp_status start(wp_runtime *rt, wp_host *h, wp_proc *p, wp_pid parent, uint32_t flags,
                       wp_pid *out, wp_err *err) {
    uint64_t serial = atomic_fetch_add(&h->serial, 1) + 1;
    p->pid = ((wp_pid)(h->index + 1u) << 48) | (serial & ((UINT64_C(1) << 48) - 1));
    /* In the table before the parent links it: a parent that fails at once finds it. */
    if (!wp__table_insert(rt, p))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    wp_status st = flags ? attach_parent(rt, p, parent, flags, err) : WP_OK;
    if (st != WP_OK) {
        wp__table_remove(rt, p);
        return st;
    }
    count_spawn(rt);
    if (out)
        *out = p->pid; /* now: once queued, p may run, exit and be freed at any moment */
    pthread_mutex_lock(&p->lock);
    wp__make_runnable(p);
    pthread_mutex_unlock(&p->lock);
    return WP_OK;
}

static wp_status spawn_on(wp_runtime *rt, wp_pid parent, wp_host *h, const wp_spawn_target *t,
                          const wp_value *args, uint32_t nargs, uint32_t flags,
                          exit_waiter *waiter, wp_pid *out, wp_err *err) {
    wp_proc *p = NULL;
    uint64_t reserved = 0;
    wp_status st = wp__host_admit(h, t, &reserved, err);
    if (st != WP_OK)
        return st;
    if ((st = wp__proc_create(rt, h, t, args, nargs, &p, err)) != WP_OK) {
        wp__host_release(h, reserved);
        return st;
    }
    p->waiter = waiter;
    p->reserved = reserved; /* given back by its exit */
    if ((st = start(rt, h, p, parent, flags, out, err)) != WP_OK) {
        wp__host_release(h, reserved);
        wp__proc_unref(p);
    }
    return st;
}

wp_status wp_spawn_target_on(wp_runtime *rt, wp_pid parent, wp_host *host,
                             const wp_spawn_target *t, const wp_value *args, uint32_t nargs,
                             uint32_t flags, wp_pid *out, wp_err *err) {
    if (out)
        *out = WP_PID_NONE;
    wp_status st = check_spawn(rt, parent, flags, err);
    if (st == WP_OK && host->terminal)
        st = wp_err_set(err, WP_ERR_INVALID, "host %s is a terminal host: it runs only the "
                                             "command's process", host->id);
    if (st != WP_OK)
        return st;
    return spawn_on(rt, parent, host, t, args, nargs, flags, NULL, out, err);
}

wp_status wp_spawn(wp_runtime *rt, wp_pid parent, const char *entry_id, const char *host_id,
                   const wp_value *args, uint32_t nargs, uint32_t flags, wp_pid *out,
                   wp_err *err) {
    if (out)
        *out = WP_PID_NONE;
    wp_host *h = wp_runtime_host(rt, host_id);
    if (!h)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "host %.200s not found", host_id);
    if (!rt->cfg.resolve)
        return wp_err_set(err, WP_ERR_UNSUPPORTED, "this runtime spawns no entries by ID");
    wp_spawn_target t = {0};
    wp_status st = rt->cfg.resolve(rt->cfg.resolve_ud, entry_id, &t, err);
    if (st != WP_OK)
        return st;
    return wp_spawn_target_on(rt, parent, h, &t, args, nargs, flags, out, err);
}

/* ---- The terminal's process ----------------------------------------------------------------- */

static bool claim(wp_host *h) {
    pthread_mutex_lock(&h->lock);
    bool free_now = !h->busy;
    h->busy = true;
    pthread_mutex_unlock(&h->lock);
    return free_now;
}

static void release(wp_host *h) {
    pthread_mutex_lock(&h->lock);
    h->busy = false;
    pthread_mutex_unlock(&h->lock);
}

wp_status wp_runtime_run(wp_runtime *rt, wp_host *h, const wp_spawn_target *t,
                         const wp_value *args, uint32_t nargs, wp_value *result, wp_err *err) {
    *result = wp_value_nil();
    wp_status st = check_spawn(rt, WP_PID_NONE, 0, err);
    if (st != WP_OK)
        return st;
    if (h->terminal && !claim(h))
        return wp_err_set(err, WP_ERR_INVALID, "terminal host %s already runs a process", h->id);
    exit_waiter w = {.done = false};
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    st = spawn_on(rt, WP_PID_NONE, h, t, args, nargs, 0, &w, NULL, err);
    if (st == WP_OK) {
        pthread_mutex_lock(&w.lock);
        while (!w.done)
            pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        *result = w.result;
    } else if (h->terminal) {
        release(h);
    }
    pthread_mutex_destroy(&w.lock);
    pthread_cond_destroy(&w.cond);
    return st;
}
