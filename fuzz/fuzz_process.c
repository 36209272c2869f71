/* fuzz_process.c: libFuzzer target over module binaries run as a process.wasm under every limit:
 * whatever the guest does, the process ends, within its time limit, with a value or an error of
 * a kind the runtime lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "wippy/runtime.h"

#define PROC_TIME_MS 50u      /* max_execution_ms: a guest asleep or spinning ends by then */
#define PROC_DEADLINE_MS 5000 /* far past it even on a loaded machine under ASan: a hang */
#define MAX_ARGS 16u
#define NAME_MAX_LEN 64u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The method: _start if the module exports it, else its first exported function. */
static bool pick_method(const wp_module *m, char *name, wp_functype *ft) {
    if (wp_module_export_functype(m, "_start", ft)) {
        strcpy(name, "_start");
        return true;
    }
    for (uint32_t i = 0; i < wp_module_export_count(m); i++) {
        wp_export_desc d;
        wp_module_export(m, i, &d);
        if (d.kind != WP_EXTERN_FUNC || d.name.len >= NAME_MAX_LEN ||
            memchr(d.name.ptr, '\0', d.name.len))
            continue;
        memcpy(name, d.name.ptr, d.name.len);
        name[d.name.len] = '\0';
        return wp_module_export_functype(m, name, ft);
    }
    return false;
}

/* The error kinds a process.wasm may end with (wippy/runtime.h, docs/limits.md). */
static void check_result(const wp_value *v) {
    static const unsigned allowed =
        FUZZ_STATUS_BIT(WP_ERR_TRAP) | FUZZ_STATUS_BIT(WP_ERR_TIMEOUT) |
        FUZZ_STATUS_BIT(WP_ERR_NOMEM) | FUZZ_STATUS_BIT(WP_ERR_INVALID) |
        FUZZ_STATUS_BIT(WP_ERR_NOT_FOUND) | FUZZ_STATUS_BIT(WP_ERR_LINK) |
        FUZZ_STATUS_BIT(WP_ERR_UNSUPPORTED) | FUZZ_STATUS_BIT(WP_ERR_UNAVAILABLE);
    if (v->kind != WP_VERROR)
        return;
    wp_err err = {0};
    snprintf(err.msg, sizeof err.msg, "%s", wp_value_error_msg(v));
    fuzz_expect_status(wp_value_error_kind(v), allowed, "the process's error", &err);
}

static void run_process(wp_wasm_config *cfg, const wp_value *args, uint32_t nargs) {
    wp_proc *p = NULL;
    wp_err err = {0};
    wp_status st = wp_proc_new(wp_wasm_behavior(), cfg, args, nargs, &p, &err);
    fuzz_expect_status(st,
                       FUZZ_STATUS_BIT(WP_OK) | FUZZ_STATUS_BIT(WP_ERR_INVALID) |
                           FUZZ_STATUS_BIT(WP_ERR_NOMEM),
                       "wp_proc_new", &err);
    if (st != WP_OK)
        return;
    uint64_t start = wp_wasi_now();
    st = wp_terminal_run(p, PROC_TIME_MS, &err);
    fuzz_expect_status(st, FUZZ_STATUS_BIT(WP_OK) | FUZZ_STATUS_BIT(WP_ERR_UNAVAILABLE),
                       "wp_terminal_run", &err);
    if (wp_wasi_now() - start > (uint64_t)PROC_DEADLINE_MS * 1000000u) {
        fprintf(stderr, "fuzz: the process outlived max_execution_ms by seconds\n");
        abort();
    }
    check_result(wp_proc_result(p));
    wp_proc_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wp_module *m = NULL;
    char name[NAME_MAX_LEN];
    wp_functype ft;
    if (wp_module_decode(data, size, &m, NULL) != WP_OK)
        return 0;
    if (pick_method(m, name, &ft) && ft.nparams <= MAX_ARGS) {
        wp_wasm_config cfg = {.module = m, .method = name, .wasi = true};
        cfg.limits = (wp_wasm_limits){.max_execution_ms = PROC_TIME_MS,
                                      .fuel = FUZZ_FUEL,
                                      .max_memory_pages = FUZZ_MAX_PAGES,
                                      .max_call_depth = FUZZ_CALL_DEPTH};
        wp_wasi_config_init(&cfg.wasi_cfg);
        cfg.wasi_cfg.stdin_fd = cfg.wasi_cfg.stdout_fd = cfg.wasi_cfg.stderr_fd = -1;
        (void)wp_wasm_behavior()->reserve(&cfg); /* what a host would charge: must not fault */
        wp_value args[MAX_ARGS];
        uint32_t nargs = strcmp(name, "_start") == 0 ? 0 : ft.nparams;
        for (uint32_t i = 0; i < nargs; i++)
            args[i] = wp_value_int(0);
        run_process(&cfg, args, nargs);
    }
    wp_module_free(m);
    return 0;
}
