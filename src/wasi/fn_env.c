/* fn_env.c: args, environ, clocks, random_get, proc_exit, proc_raise. */
#include <string.h>

#include "internal.h"

static uint16_t sizes_get(wp_memory *m, uint32_t count_ptr, uint32_t size_ptr, uint32_t count,
                          size_t size) {
    uint8_t *c = wp__wasi_mem(m, count_ptr, 4);
    uint8_t *s = wp__wasi_mem(m, size_ptr, 4);
    if (!c || !s)
        return WP_WASI_EFAULT;
    wp__wasi_le32(c, count);
    wp__wasi_le32(s, (uint32_t)size); /* wp_wasi_new keeps it below 2^31 */
    return WP_WASI_ESUCCESS;
}

/* Copies the packed strings to buf and a pointer to each into the array at ptrs. */
static uint16_t strings_get(wp_memory *m, uint32_t ptrs, uint32_t buf, const char *strs,
                            uint32_t n, size_t size) {
    uint8_t *p = wp__wasi_mem(m, ptrs, (uint64_t)n * 4);
    uint8_t *b = wp__wasi_mem(m, buf, size);
    if (!p || !b)
        return WP_WASI_EFAULT;
    memcpy(b, strs, size);
    size_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        wp__wasi_le32(p + (size_t)i * 4, buf + (uint32_t)off);
        off += strlen(strs + off) + 1;
    }
    return WP_WASI_ESUCCESS;
}

wp_host_result wp__wasi_args_sizes_get(wp_host_call *call, void *env, const wp_val *args,
                                       wp_val *results) {
    wp_wasi *w = env;
    return wp__wasi_ret(results, sizes_get(wp_host_call_memory(call), wp__wasi_u32(args, 0),
                                           wp__wasi_u32(args, 1), w->nargs, w->args_size));
}

wp_host_result wp__wasi_args_get(wp_host_call *call, void *env, const wp_val *args,
                                 wp_val *results) {
    wp_wasi *w = env;
    return wp__wasi_ret(results, strings_get(wp_host_call_memory(call), wp__wasi_u32(args, 0),
                                             wp__wasi_u32(args, 1), w->args, w->nargs,
                                             w->args_size));
}

wp_host_result wp__wasi_environ_sizes_get(wp_host_call *call, void *env, const wp_val *args,
                                          wp_val *results) {
    wp_wasi *w = env;
    return wp__wasi_ret(results, sizes_get(wp_host_call_memory(call), wp__wasi_u32(args, 0),
                                           wp__wasi_u32(args, 1), w->nenv, w->env_size));
}

wp_host_result wp__wasi_environ_get(wp_host_call *call, void *env, const wp_val *args,
                                    wp_val *results) {
    wp_wasi *w = env;
    return wp__wasi_ret(results, strings_get(wp_host_call_memory(call), wp__wasi_u32(args, 0),
                                             wp__wasi_u32(args, 1), w->env, w->nenv,
                                             w->env_size));
}

static wp_host_result clock_result(wp_host_call *call, uint32_t out, int e, uint64_t ns,
                                   wp_val *results) {
    uint8_t *p = wp__wasi_mem(wp_host_call_memory(call), out, 8);
    if (!p)
        return wp__wasi_ret(results, WP_WASI_EFAULT);
    if (e != 0)
        return wp__wasi_ret(results, wp__wasi_errno(e));
    wp__wasi_le64(p, ns);
    return wp__wasi_ret(results, WP_WASI_ESUCCESS);
}

wp_host_result wp__wasi_clock_res_get(wp_host_call *call, void *env, const wp_val *args,
                                      wp_val *results) {
    (void)env;
    uint64_t ns = 0;
    int e = wp__sys_clock_res(wp__wasi_u32(args, 0), &ns);
    return clock_result(call, wp__wasi_u32(args, 1), e, ns, results);
}

wp_host_result wp__wasi_clock_time_get(wp_host_call *call, void *env, const wp_val *args,
                                       wp_val *results) {
    (void)env; /* precision (args[1]) is a hint: every clock is read at full resolution */
    uint64_t ns = 0;
    int e = wp__sys_clock_time(wp__wasi_u32(args, 0), &ns);
    return clock_result(call, wp__wasi_u32(args, 2), e, ns, results);
}

wp_host_result wp__wasi_random_get(wp_host_call *call, void *env, const wp_val *args,
                                   wp_val *results) {
    (void)env;
    uint32_t len = wp__wasi_u32(args, 1);
    uint8_t *p = wp__wasi_mem(wp_host_call_memory(call), wp__wasi_u32(args, 0), len);
    if (!p)
        return wp__wasi_ret(results, WP_WASI_EFAULT);
    return wp__wasi_ret(results, wp__wasi_errno(wp__sys_random(p, len)));
}

wp_host_result wp__wasi_proc_exit(wp_host_call *call, void *env, const wp_val *args,
                                  wp_val *results) {
    (void)env, (void)results;
    return wp_host_exit(call, (int32_t)wp__wasi_u32(args, 0));
}

/* Signals in WASI order, with what POSIX does by default when one arrives. */
enum { TERMINATE, IGNORE, STOP };
static const struct {
    const char *name;
    uint8_t action;
} signals[WP_WASI_SIGNAL_MAX + 1] = {
    {"", IGNORE},          {"SIGHUP", TERMINATE},  {"SIGINT", TERMINATE}, {"SIGQUIT", TERMINATE},
    {"SIGILL", TERMINATE}, {"SIGTRAP", TERMINATE}, {"SIGABRT", TERMINATE}, {"SIGBUS", TERMINATE},
    {"SIGFPE", TERMINATE}, {"SIGKILL", TERMINATE}, {"SIGUSR1", TERMINATE}, {"SIGSEGV", TERMINATE},
    {"SIGUSR2", TERMINATE}, {"SIGPIPE", TERMINATE}, {"SIGALRM", TERMINATE}, {"SIGTERM", TERMINATE},
    {"SIGCHLD", IGNORE},   {"SIGCONT", IGNORE},    {"SIGSTOP", STOP},     {"SIGTSTP", STOP},
    {"SIGTTIN", STOP},     {"SIGTTOU", STOP},      {"SIGURG", IGNORE},    {"SIGXCPU", TERMINATE},
    {"SIGXFSZ", TERMINATE}, {"SIGVTALRM", TERMINATE}, {"SIGPROF", TERMINATE},
    {"SIGWINCH", IGNORE},  {"SIGPOLL", TERMINATE}, {"SIGPWR", TERMINATE}, {"SIGSYS", TERMINATE},
};

/* A guest has no signal handlers: a signal does what POSIX does by default. Terminating
 * signals trap (naming the signal), ignored ones return success, and stopping is not
 * supported. */
wp_host_result wp__wasi_proc_raise(wp_host_call *call, void *env, const wp_val *args,
                                   wp_val *results) {
    (void)env;
    uint32_t sig = wp__wasi_u32(args, 0);
    if (sig == 0 || sig > WP_WASI_SIGNAL_MAX)
        return wp__wasi_ret(results, WP_WASI_EINVAL);
    if (signals[sig].action == IGNORE)
        return wp__wasi_ret(results, WP_WASI_ESUCCESS);
    if (signals[sig].action == STOP)
        return wp__wasi_ret(results, WP_WASI_ENOTSUP);
    return wp_host_trap(call, "proc_raise: terminated by %s", signals[sig].name);
}
