/* p2_cli.c: wasi:cli: environment, arguments, initial cwd, exit, the standard streams and the
 * terminal-* interfaces, all from the preview-1 context the WASI 0.2 one is built on. */
#include <string.h>
#include <unistd.h>

#include "p2_internal.h"

/* The packed "a\0b\0" strings of args or env as an array; split at '=' into pairs if 'pairs'. */
static wp_status strings(const char *packed, uint32_t n, bool pairs, wp_value *out) {
    wp_value arr;
    wp_status st = wp_value_array(&arr, n);
    const char *p = packed;
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        size_t len = strlen(p);
        const char *eq = pairs ? memchr(p, '=', len) : NULL;
        size_t klen = eq ? (size_t)(eq - p) : len;
        wp_value k = wp_value_nil();
        wp_value v = wp_value_nil();
        st = wp_value_string(&k, p, klen);
        if (st == WP_OK && pairs)
            st = wp_value_string(&v, eq ? eq + 1 : "", eq ? len - klen - 1 : 0);
        if (st == WP_OK && pairs)
            st = wp__p2_pair(&k, &k, &v);
        if (st == WP_OK)
            st = wp_value_array_push(&arr, &k);
        wp_value_free(&k);
        wp_value_free(&v);
        p += len + 1;
    }
    if (st != WP_OK) {
        wp_value_free(&arr);
        return st;
    }
    *out = arr;
    return WP_OK;
}

WP_P2_FN(wp__p2_cli_environment) {
    (void)args;
    return wp__p2_done(w, strings(w->base->env, w->base->nenv, true, result));
}

WP_P2_FN(wp__p2_cli_arguments) {
    (void)args;
    return wp__p2_done(w, strings(w->base->args, w->base->nargs, false, result));
}

WP_P2_FN(wp__p2_cli_initial_cwd) {
    (void)args;
    return wp__p2_done(w, w->cwd ? wp_value_cstring(result, w->cwd) : WP_OK);
}

WP_P2_FN(wp__p2_cli_exit) {
    (void)result;
    const wp_value *st = &args[0];
    bool ok = st->kind == WP_VMAP && wp_value_map_get(st, "ok");
    bool err = st->kind == WP_VMAP && wp_value_map_get(st, "err");
    if (ok == err)
        return wp__p2_trap(w, "exit: expected {ok} or {err}");
    w->exit_code = ok ? 0 : 1;
    return WP_WASI2_EXIT;
}

WP_P2_FN(wp__p2_cli_exit_with_code) {
    (void)result;
    uint64_t code;
    if (!wp__p2_arg_u64(w, &args[0], &code))
        return WP_WASI2_TRAP;
    if (code > 255)
        return wp__p2_trap(w, "exit-with-code: %llu is not a u8", (unsigned long long)code);
    w->exit_code = (int32_t)code;
    return WP_WASI2_EXIT;
}

/* The host descriptor behind guest stdio fd 'fd', or -1 if it is closed. */
static int stdio_host(const wp_wasi2 *w, uint32_t fd, bool *waits) {
    const wp_wasi *b = w->base;
    if (fd >= b->nfds || b->fds[fd].host < 0)
        return -1;
    *waits = b->fds[fd].blocking_io;
    return b->fds[fd].host;
}

/* A new stream over stdio fd 'fd' (lent, never closed by us); a closed fd gives a stream that
 * has already ended. */
static wp_wasi2_outcome stdio_stream(wp_wasi2 *w, uint32_t fd, wp_p2_kind kind,
                                     wp_value *result) {
    bool waits = false;
    int host = stdio_host(w, fd, &waits);
    wp_p2_mode mode = waits ? WP_P2_WAITS : WP_P2_DIRECT;
    uint32_t rep;
    wp_p2_res *e = kind == WP_P2_INPUT ? wp__p2_input(w, host, false, mode, 0, &rep)
                                       : wp__p2_output(w, host, false, mode, 0, &rep);
    if (!e)
        return wp__p2_done(w, WP_ERR_NOMEM);
    e->of.stream.closed = host < 0;
    *result = wp_value_int(rep);
    return WP_WASI2_DONE;
}

WP_P2_FN(wp__p2_cli_stdin) {
    (void)args;
    return stdio_stream(w, 0, WP_P2_INPUT, result);
}

WP_P2_FN(wp__p2_cli_stdout) {
    (void)args;
    return stdio_stream(w, 1, WP_P2_OUTPUT, result);
}

WP_P2_FN(wp__p2_cli_stderr) {
    (void)args;
    return stdio_stream(w, 2, WP_P2_OUTPUT, result);
}

/* some(terminal) when stdio fd 'fd' is a terminal, else none (nil). */
static wp_wasi2_outcome terminal(wp_wasi2 *w, uint32_t fd, wp_p2_kind kind, wp_value *result) {
    bool waits = false;
    int host = stdio_host(w, fd, &waits);
    if (host < 0 || !isatty(host))
        return WP_WASI2_DONE;
    uint32_t rep;
    if (!wp__p2_new(w, kind, &rep))
        return wp__p2_done(w, WP_ERR_NOMEM);
    *result = wp_value_int(rep);
    return WP_WASI2_DONE;
}

WP_P2_FN(wp__p2_cli_terminal_stdin) {
    (void)args;
    return terminal(w, 0, WP_P2_TERM_IN, result);
}

WP_P2_FN(wp__p2_cli_terminal_stdout) {
    (void)args;
    return terminal(w, 1, WP_P2_TERM_OUT, result);
}

WP_P2_FN(wp__p2_cli_terminal_stderr) {
    (void)args;
    return terminal(w, 2, WP_P2_TERM_OUT, result);
}
