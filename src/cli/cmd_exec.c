/* cmd_exec.c: `wippy exec`: run a module's _start, or one export with --invoke. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wippy/wat.h"

typedef struct exec_opts {
    const char *invoke; /* export to call; NULL: _start */
    const char *file;
    int nargs;
    char **args;
} exec_opts;

static void exec_usage(FILE *out) {
    fprintf(out,
            "usage: wippy exec [--invoke FUNC] FILE.wasm|FILE.wat [ARGS...]\n\n"
            "Runs the module's _start export, or with --invoke the export FUNC with ARGS parsed\n"
            "as its parameters (integers, floats, nan, inf), printing its results one per line.\n\n"
            "exit status: 0 success, 1 the file, module or a link failed (the message says\n"
            "which), 2 bad command line, 3 the guest trapped (the trap is on stderr).\n");
}

static int parse_opts(int argc, char **argv, exec_opts *o) {
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            exec_usage(stdout);
            return -1;
        }
        if (strcmp(argv[i], "--invoke") == 0 && i + 1 < argc) {
            o->invoke = argv[++i];
            continue;
        }
        fprintf(stderr, "wippy exec: unknown or incomplete option '%s'\n", argv[i]);
        exec_usage(stderr);
        return WP_EXIT_USAGE;
    }
    if (i >= argc) {
        fprintf(stderr, "wippy exec: missing FILE\n");
        exec_usage(stderr);
        return WP_EXIT_USAGE;
    }
    o->file = argv[i];
    o->args = argv + i + 1;
    o->nargs = argc - i - 1;
    return WP_EXIT_OK;
}

static int fail(const char *file, const wp_err *err) {
    fprintf(stderr, "wippy: %s: %s\n", file, err->msg);
    return WP_EXIT_ERROR;
}

/* Runs f to completion. Returns true when it finished; otherwise prints why and sets *status
 * (WP_EXIT_TRAP, WP_EXIT_ERROR, or the guest's own exit status). */
static bool run_call(wp_exec *x, wp_func *f, const wp_val *args, uint32_t nargs, int *status) {
    wp_err err;
    if (wp_exec_begin(x, f, args, nargs, &err) != WP_OK) {
        fprintf(stderr, "wippy: %s\n", err.msg);
        *status = WP_EXIT_ERROR;
        return false;
    }
    wp_run_state st = wp_exec_run(x, WP_BUDGET_UNLIMITED);
    if (st == WP_RUN_DONE)
        return true;
    if (st == WP_RUN_TRAP) {
        const wp_trap *t = wp_exec_trap(x);
        if (t->kind == WP_TRAP_EXIT) {
            *status = t->exit_code;
            return false;
        }
        fprintf(stderr, "wippy: trap: %s\n", t->msg);
        *status = WP_EXIT_TRAP;
        return false;
    }
    fprintf(stderr, "wippy: the guest waited on a host call with nothing to resume it\n");
    *status = WP_EXIT_ERROR;
    return false;
}

static int parse_args(const exec_opts *o, wp_functype type, wp_val *args) {
    if ((uint32_t)o->nargs != type.nparams) {
        fprintf(stderr, "wippy exec: %s takes %u argument(s), %d given\n", o->invoke,
                type.nparams, o->nargs);
        return WP_EXIT_USAGE;
    }
    for (uint32_t i = 0; i < type.nparams; i++) {
        wp_err err;
        if (wp_cli_parse_value(o->args[i], type.types[i], &args[i], &err) != WP_OK) {
            fprintf(stderr, "wippy exec: argument %u: %s\n", i + 1, err.msg);
            return WP_EXIT_USAGE;
        }
    }
    return WP_EXIT_OK;
}

static int invoke(const exec_opts *o, wp_exec *x, wp_instance *inst) {
    const char *name = o->invoke ? o->invoke : "_start";
    wp_extern ext;
    if (!wp_instance_export(inst, name, strlen(name), &ext) || ext.kind != WP_EXTERN_FUNC) {
        fprintf(stderr, "wippy: %s: no exported function '%s'%s\n", o->file, name,
                o->invoke ? "" : " (use --invoke FUNC)");
        return WP_EXIT_ERROR;
    }
    wp_functype type = wp_func_type(ext.of.func);
    wp_val *vals = calloc(type.nparams + type.nresults + 1, sizeof *vals);
    if (!vals)
        return WP_EXIT_ERROR;
    int status = o->invoke ? parse_args(o, type, vals) : WP_EXIT_OK;
    if (!o->invoke && o->nargs > 0) {
        fprintf(stderr, "wippy exec: arguments for _start need WASI (not available yet)\n");
        status = WP_EXIT_USAGE;
    }
    if (status == WP_EXIT_OK && run_call(x, ext.of.func, vals, type.nparams, &status)) {
        uint32_t n = wp_exec_results(x, vals, type.nparams + type.nresults + 1);
        for (uint32_t i = 0; i < n; i++) {
            wp_cli_print_value(stdout, vals[i]);
            putchar('\n');
        }
    }
    free(vals);
    return status;
}

static int check_imports(const exec_opts *o, const wp_module *m) {
    if (wp_module_import_count(m) == 0)
        return WP_EXIT_OK;
    wp_import_desc d;
    wp_module_import(m, 0, &d);
    fprintf(stderr, "wippy: %s: unknown import '%.*s'.'%.*s'\n", o->file, (int)d.module.len,
            d.module.ptr, (int)d.name.len, d.name.ptr);
    return WP_EXIT_ERROR;
}

static int run_module(const exec_opts *o, wp_module *m) {
    int status = check_imports(o, m);
    if (status != WP_EXIT_OK)
        return status;
    wp_err err;
    wp_store *s = NULL;
    wp_exec *x = NULL;
    wp_instance *inst = NULL;
    if (wp_store_new(NULL, &s, &err) != WP_OK || wp_exec_new(s, &x, &err) != WP_OK ||
        wp_instance_new(s, m, NULL, 0, &inst, &err) != WP_OK) {
        status = fail(o->file, &err);
    } else {
        wp_func *start = wp_instance_start_func(inst);
        if (!start || run_call(x, start, NULL, 0, &status))
            status = invoke(o, x, inst);
    }
    wp_store_free(s);
    return status;
}

int wp_cli_exec(int argc, char **argv) {
    exec_opts o = {0};
    int status = parse_opts(argc, argv, &o);
    if (status != WP_EXIT_OK)
        return status < 0 ? WP_EXIT_OK : status;
    wp_err err;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (wp_cli_load_module_bytes(o.file, &bytes, &len, &err) != WP_OK)
        return fail(o.file, &err);
    wp_module *m = NULL;
    wp_status st = wp_module_decode(bytes, len, &m, &err);
    free(bytes);
    if (st != WP_OK)
        return fail(o.file, &err);
    status = run_module(&o, m);
    wp_module_free(m);
    return status;
}
