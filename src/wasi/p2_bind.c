/* p2_bind.c: the WASI 0.2 functions as component host interfaces (wippy/component.h): one
 * trampoline per function, the interfaces grouped as an entry's `imports:` names them. */
#include <string.h>

#include "p2_internal.h"

/* Maps a call's outcome onto the component layer's host results. */
static wp_host_result finish(wp_comp_call *call, wp_wasi2 *w, wp_wasi2_outcome out,
                             wp_value *result, wp_err *err);

static wp_host_result resume(wp_comp_call *call, void *ctx, void *state, const wp_value *args,
                             uint32_t nargs, wp_value *result, wp_err *err) {
    (void)state;
    (void)args;
    (void)nargs;
    wp_wasi2 *w = ctx;
    return finish(call, w, wp_wasi2_complete(w, result), result, err);
}

static void cancel(void *state) { wp_wasi2_cancel(state); }

static wp_host_result finish(wp_comp_call *call, wp_wasi2 *w, wp_wasi2_outcome out,
                             wp_value *result, wp_err *err) {
    wp_wasi_wait wait;
    switch (out) {
    case WP_WASI2_DONE:
        return WP_HOST_OK;
    case WP_WASI2_PENDING:
        wp_wasi2_pending(w, &wait);
        return wp_comp_call_pend(call, &wait, resume, cancel, w);
    case WP_WASI2_EXIT:
        return wp_comp_call_exit(call, wp_wasi2_exit_code(w));
    default:
        wp_value_free(result);
        wp_err_set(err, WP_ERR_TRAP, "%s", wp_wasi2_trap_msg(w));
        return WP_HOST_TRAP;
    }
}

static wp_host_result call(wp_comp_call *c, void *ctx, const wp_value *args, uint32_t nargs,
                           uint32_t nparams, wp_wasi2_fn fn, wp_value *result, wp_err *err) {
    if (nargs != nparams) {
        wp_err_set(err, WP_ERR_TRAP, "%u arguments, the function takes %u", nargs, nparams);
        return WP_HOST_TRAP;
    }
    wp_wasi2 *w = ctx;
    return finish(c, w, fn(w, args, result), result, err);
}

#define TRAMPOLINE(iface, name, nparams, fn)                                                       \
    static wp_host_result bind_##fn(wp_comp_call *c, void *ctx, const wp_value *args,             \
                                    uint32_t nargs, wp_value *result, wp_err *err) {               \
        return call(c, ctx, args, nargs, nparams, fn, result, err);                                \
    }
WP_P2_FUNCS(TRAMPOLINE)
#undef TRAMPOLINE

/* ---- Resources --------------------------------------------------------------------------- */

static void drop_as(void *ctx, int64_t rep, wp_p2_kind kind) {
    uint32_t count;
    const wp_wasi2_resource *types = wp_wasi2_resources(&count);
    if (rep > 0 && rep <= UINT32_MAX) /* the guest cannot hold another: the table made it */
        wp_wasi2_drop(ctx, &types[kind - 1], (uint32_t)rep);
}

#define DROP(name, kind)                                                                           \
    static void drop_##name(void *ctx, int64_t rep) { drop_as(ctx, rep, kind); }
DROP(error, WP_P2_ERROR)
DROP(input, WP_P2_INPUT)
DROP(output, WP_P2_OUTPUT)
DROP(pollable, WP_P2_POLLABLE)
DROP(descriptor, WP_P2_DESCRIPTOR)
DROP(dirstream, WP_P2_DIRSTREAM)
DROP(term_in, WP_P2_TERM_IN)
DROP(term_out, WP_P2_TERM_OUT)
#undef DROP

static const wp_comp_host_resource res_error[] = {{"error", drop_error}};
static const wp_comp_host_resource res_poll[] = {{"pollable", drop_pollable}};
static const wp_comp_host_resource res_streams[] = {{"input-stream", drop_input},
                                                    {"output-stream", drop_output}};
static const wp_comp_host_resource res_fs[] = {{"descriptor", drop_descriptor},
                                               {"directory-entry-stream", drop_dirstream}};
static const wp_comp_host_resource res_term_in[] = {{"terminal-input", drop_term_in}};
static const wp_comp_host_resource res_term_out[] = {{"terminal-output", drop_term_out}};

/* ---- Interfaces -------------------------------------------------------------------------- */

#define ROW(iface, name, nparams, fn) {name, NULL, bind_##fn},
#define FUNCS(list, id) static const wp_comp_host_func id[] = {list(ROW)};
FUNCS(WP_P2_IO_ERROR, f_io_error)
FUNCS(WP_P2_IO_POLL, f_io_poll)
FUNCS(WP_P2_IO_STREAMS, f_io_streams)
FUNCS(WP_P2_CLOCKS_WALL_CLOCK, f_wall)
FUNCS(WP_P2_CLOCKS_MONOTONIC_CLOCK, f_mono)
FUNCS(WP_P2_RANDOM_RANDOM, f_random)
FUNCS(WP_P2_RANDOM_INSECURE, f_insecure)
FUNCS(WP_P2_RANDOM_INSECURE_SEED, f_seed)
FUNCS(WP_P2_CLI_ENVIRONMENT, f_env)
FUNCS(WP_P2_CLI_EXIT, f_exit)
FUNCS(WP_P2_CLI_STDIN, f_stdin)
FUNCS(WP_P2_CLI_STDOUT, f_stdout)
FUNCS(WP_P2_CLI_STDERR, f_stderr)
FUNCS(WP_P2_CLI_TERMINAL_STDIN, f_tstdin)
FUNCS(WP_P2_CLI_TERMINAL_STDOUT, f_tstdout)
FUNCS(WP_P2_CLI_TERMINAL_STDERR, f_tstderr)
FUNCS(WP_P2_FILESYSTEM_PREOPENS, f_preopens)
FUNCS(WP_P2_FILESYSTEM_TYPES, f_fs)
#undef FUNCS
#undef ROW

#define N(a) (uint32_t)(sizeof(a) / sizeof((a)[0]))
#define V "@" WP_WASI2_VERSION
#define IFACE(name, f, r) {name V, f, N(f), r, N(r)}
#define IFACE_NORES(name, f) {name V, f, N(f), NULL, 0}

/* In group order: each group's interfaces are contiguous. */
static const wp_comp_host_iface ifaces[] = {
    IFACE("wasi:io/error", f_io_error, res_error),
    IFACE("wasi:io/streams", f_io_streams, res_streams),
    IFACE("wasi:io/poll", f_io_poll, res_poll),
    IFACE_NORES("wasi:clocks/wall-clock", f_wall),
    IFACE_NORES("wasi:clocks/monotonic-clock", f_mono),
    IFACE_NORES("wasi:random/random", f_random),
    IFACE_NORES("wasi:random/insecure", f_insecure),
    IFACE_NORES("wasi:random/insecure-seed", f_seed),
    IFACE_NORES("wasi:cli/environment", f_env),
    IFACE_NORES("wasi:cli/exit", f_exit),
    IFACE_NORES("wasi:cli/stdin", f_stdin),
    IFACE_NORES("wasi:cli/stdout", f_stdout),
    IFACE_NORES("wasi:cli/stderr", f_stderr),
    {"wasi:cli/terminal-input" V, NULL, 0, res_term_in, 1},
    {"wasi:cli/terminal-output" V, NULL, 0, res_term_out, 1},
    IFACE_NORES("wasi:cli/terminal-stdin", f_tstdin),
    IFACE_NORES("wasi:cli/terminal-stdout", f_tstdout),
    IFACE_NORES("wasi:cli/terminal-stderr", f_tstderr),
    IFACE("wasi:filesystem/types", f_fs, res_fs),
    IFACE_NORES("wasi:filesystem/preopens", f_preopens),
};

/* The `imports:` groups of an entry (reference: wippy-docs wasm_hosts.md): first interface
 * and count in ifaces[]. wasi:io is error and streams; wasi:poll is wasi:io/poll. */
static const struct {
    const char *name;
    uint32_t first;
    uint32_t count;
} groups[] = {
    {"wasi:io", 0, 2},     {"wasi:poll", 2, 1},   {"wasi:clocks", 3, 2},
    {"wasi:random", 5, 3}, {"wasi:cli", 8, 10},   {"wasi:filesystem", 18, 2},
};

static const wp_comp_host_iface *const all[] = {
    &ifaces[0],  &ifaces[1],  &ifaces[2],  &ifaces[3],  &ifaces[4],  &ifaces[5],  &ifaces[6],
    &ifaces[7],  &ifaces[8],  &ifaces[9],  &ifaces[10], &ifaces[11], &ifaces[12], &ifaces[13],
    &ifaces[14], &ifaces[15], &ifaces[16], &ifaces[17], &ifaces[18], &ifaces[19],
};

uint32_t wp_wasi2_ifaces(const wp_comp_host_iface *const **out) {
    *out = all;
    return N(all);
}

uint32_t wp_wasi2_group(const char *group, const wp_comp_host_iface *const **out) {
    for (uint32_t i = 0; i < N(groups); i++) {
        if (strcmp(groups[i].name, group) == 0) {
            *out = &all[groups[i].first];
            return groups[i].count;
        }
    }
    *out = NULL;
    return 0;
}

wp_status wp_wasi2_link(wp_wasi2 *w, wp_comp_linker *l, const char *group, wp_err *err) {
    const wp_comp_host_iface *const *list;
    uint32_t n = group ? wp_wasi2_group(group, &list) : wp_wasi2_ifaces(&list);
    if (n == 0)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "no WASI 0.2 import group '%s'", group);
    for (uint32_t i = 0; i < n; i++) {
        wp_status st = wp_comp_linker_add(l, list[i], w, err);
        if (st != WP_OK)
            return st;
    }
    return WP_OK;
}
