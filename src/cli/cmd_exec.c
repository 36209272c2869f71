/* cmd_exec.c: `wippy exec`: run a module's _start with WASI preview 1, or one export with
 * --invoke; a component's wasi:cli/run (or one export) with WASI 0.2. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wippy/wasi.h"
#include "wippy/wasi2.h"

typedef struct exec_opts {
    const char *invoke; /* export to call; NULL: _start */
    const char *file;
    const char *cwd;
    int nargs;
    char **args;
    wp_wasi_mount *mounts; /* argc entries at most */
    uint32_t nmounts;
    const char **env;
    uint32_t nenv;
    wp_store_config limits; /* --fuel, --max-memory-mb, --max-stack */
} exec_opts;

static void exec_usage(FILE *out) {
    fprintf(out,
            "usage: wippy exec [--dir HOST[::GUEST]]... [--dir-ro HOST[::GUEST]]...\n"
            "                  [--env NAME=VALUE]... [--cwd DIR] [--invoke FUNC]\n"
            "                  [--fuel N] [--max-memory-mb N] [--max-stack N]\n"
            "                  FILE.wasm|FILE.wat [ARGS...]\n\n"
            "Runs a WebAssembly module with WASI preview 1: its _start export with FILE as\n"
            "argv[0] and ARGS after it, or with --invoke the export FUNC with ARGS parsed as\n"
            "its parameters (integers, floats, nan, inf), printing its results one per line.\n\n"
            "  --dir HOST[::GUEST]     mount host directory HOST at guest path GUEST (default:\n"
            "                          the same path); the guest cannot reach outside its mounts\n"
            "  --dir-ro HOST[::GUEST]  the same, read-only: writes fail with EROFS\n"
            "  --env NAME=VALUE        set a guest environment variable (none is inherited)\n"
            "  --cwd DIR               resolve the guest's relative paths in guest directory DIR,\n"
            "                          which must be inside a mount\n"
            "  --invoke FUNC           call export FUNC instead of _start\n"
            "  --fuel N                trap after N wasm instructions (\"fuel exhausted\")\n"
            "  --max-memory-mb N       cap each linear memory at N MiB: memory.grow past it\n"
            "                          returns -1, a larger initial memory fails to load\n"
            "  --max-stack N           trap a call N + 1 wasm frames deep\n\n"
            "The guest's stdin, stdout and stderr are wippy's own, unbuffered.\n\n"
            "exit status: the guest's own exit status (proc_exit), 0 when _start returns;\n"
            "1 the file, the module, a mount or an import failed (the message says which);\n"
            "2 bad command line; 3 the guest trapped (the trap is on stderr).\n");
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "wippy exec: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exec_usage(stderr);
    return WP_EXIT_USAGE;
}

/* "HOST::GUEST" or "HOST". The text is split in place (argv is ours to change). */
static int add_mount(exec_opts *o, char *spec, bool ro) {
    char *sep = strstr(spec, "::");
    if (sep) {
        *sep = '\0';
        if (sep[2] == '\0')
            return usage_error("empty guest path in --dir '%s::'", spec);
    }
    if (spec[0] == '\0')
        return usage_error("empty host directory in --dir%s", ro ? "-ro" : "");
    o->mounts[o->nmounts++] =
        (wp_wasi_mount){.host = spec, .guest = sep ? sep + 2 : spec, .read_only = ro};
    return WP_EXIT_OK;
}

enum { HELP = -1 }; /* parse_opts: --help was printed */

/* A positive decimal integer up to max, or 0. */
static uint64_t positive(const char *text, uint64_t max) {
    if (text[0] < '0' || text[0] > '9')
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    return *end || errno || v > max ? 0 : (uint64_t)v;
}

/* --fuel, --max-memory-mb, --max-stack (as limits.max_fuel, max_memory_mb, max_stack). */
static int parse_limit(const char *opt, const char *val, wp_store_config *c) {
    if (strcmp(opt, "--fuel") == 0) {
        if (!(c->fuel = positive(val, UINT64_MAX)))
            return usage_error("--fuel takes a positive integer, not '%s'", val);
    } else if (strcmp(opt, "--max-memory-mb") == 0) {
        uint64_t mb = positive(val, 4096);
        if (!mb)
            return usage_error("--max-memory-mb takes an integer from 1 to 4096, not '%s'", val);
        c->max_memory_pages = (uint32_t)(mb * WP_PAGES_PER_MIB);
    } else if (strcmp(opt, "--max-stack") == 0) {
        if (!(c->max_call_depth = (uint32_t)positive(val, 1000000)))
            return usage_error("--max-stack takes an integer from 1 to 1000000, not '%s'", val);
    } else {
        return usage_error("unknown option '%s'", opt);
    }
    return WP_EXIT_OK;
}

/* Handles option argv[*i] (and its value). Returns WP_EXIT_OK, a status, or HELP. */
static int parse_opt(int argc, char **argv, int *i, exec_opts *o) {
    const char *opt = argv[*i];
    if (strcmp(opt, "--help") == 0) {
        exec_usage(stdout);
        return HELP;
    }
    if (*i + 1 >= argc)
        return usage_error("unknown or incomplete option '%s'", opt);
    char *val = argv[++*i];
    if (strcmp(opt, "--invoke") == 0)
        o->invoke = val;
    else if (strcmp(opt, "--cwd") == 0)
        o->cwd = val;
    else if (strcmp(opt, "--dir") == 0 || strcmp(opt, "--dir-ro") == 0)
        return add_mount(o, val, strcmp(opt, "--dir-ro") == 0);
    else if (strcmp(opt, "--env") == 0 && strchr(val, '=') && val[0] != '=')
        o->env[o->nenv++] = val;
    else if (strcmp(opt, "--env") == 0)
        return usage_error("--env takes NAME=VALUE, not '%s'", val);
    else
        return parse_limit(opt, val, &o->limits);
    return WP_EXIT_OK;
}

static int parse_opts(int argc, char **argv, exec_opts *o) {
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        int st = parse_opt(argc, argv, &i, o);
        if (st != WP_EXIT_OK)
            return st;
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

/* Prints the frames active at the trap, innermost first, at most WP_BACKTRACE_MAX of them. */
static void print_backtrace(const wp_exec *x) {
    enum { WP_BACKTRACE_MAX = 64 };
    wp_frame_info frames[WP_BACKTRACE_MAX];
    uint32_t n = wp_exec_backtrace(x, frames, WP_BACKTRACE_MAX);
    if (n == 0)
        return;
    fprintf(stderr, "backtrace:\n");
    uint32_t shown = n < WP_BACKTRACE_MAX ? n : WP_BACKTRACE_MAX;
    for (uint32_t i = 0; i < shown; i++) {
        const wp_frame_info *f = &frames[i];
        fprintf(stderr, "  %u: ", i);
        if (f->name.len)
            fprintf(stderr, "%.*s", (int)f->name.len, f->name.ptr);
        else if (f->func != UINT32_MAX)
            fprintf(stderr, "func %u", f->func);
        else
            fprintf(stderr, "<host function>");
        fprintf(stderr, "%s\n", f->instance ? "" : " (host)");
    }
    if (n > shown)
        fprintf(stderr, "  ... %u more frames\n", n - shown);
}

/* Runs f to completion, waiting on the host for blocking WASI calls. Returns true when it
 * finished; otherwise prints why and sets *status (WP_EXIT_TRAP, WP_EXIT_ERROR, or the
 * guest's own exit status). */
static bool run_call(wp_wasi *w, wp_exec *x, wp_func *f, const wp_val *args, uint32_t nargs,
                     int *status) {
    wp_err err;
    if (wp_exec_begin(x, f, args, nargs, &err) != WP_OK) {
        fprintf(stderr, "wippy: %s\n", err.msg);
        *status = WP_EXIT_ERROR;
        return false;
    }
    if (wp_wasi_run(w, x) == WP_RUN_DONE)
        return true;
    const wp_trap *t = wp_exec_trap(x);
    if (t->kind == WP_TRAP_EXIT) {
        *status = t->exit_code;
        return false;
    }
    fprintf(stderr, "wippy: trap: %s\n", t->msg);
    print_backtrace(x);
    *status = WP_EXIT_TRAP;
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

static bool find_func(wp_instance *inst, const char *name, wp_func **out) {
    wp_extern ext;
    if (!wp_instance_export(inst, name, strlen(name), &ext) || ext.kind != WP_EXTERN_FUNC)
        return false;
    *out = ext.of.func;
    return true;
}

/* A WASI reactor's _initialize runs before any other export is called. */
static bool initialize(wp_wasi *w, wp_exec *x, wp_instance *inst, int *status) {
    wp_func *init;
    if (!find_func(inst, "_initialize", &init))
        return true;
    return run_call(w, x, init, NULL, 0, status);
}

static int invoke(const exec_opts *o, wp_wasi *w, wp_exec *x, wp_instance *inst) {
    const char *name = o->invoke ? o->invoke : "_start";
    wp_func *f;
    if (!find_func(inst, name, &f)) {
        fprintf(stderr, "wippy: %s: no exported function '%s'%s\n", o->file, name,
                o->invoke ? "" : " (use --invoke FUNC)");
        return WP_EXIT_ERROR;
    }
    wp_functype type = wp_func_type(f);
    wp_val *vals = calloc(type.nparams + type.nresults + 1, sizeof *vals);
    if (!vals)
        return WP_EXIT_ERROR;
    int status = o->invoke ? parse_args(o, type, vals) : WP_EXIT_OK;
    if (status == WP_EXIT_OK && o->invoke && !initialize(w, x, inst, &status)) {
        free(vals);
        return status;
    }
    if (status == WP_EXIT_OK && run_call(w, x, f, vals, type.nparams, &status)) {
        uint32_t n = wp_exec_results(x, vals, type.nparams + type.nresults + 1);
        for (uint32_t i = 0; i < n; i++) {
            wp_cli_print_value(stdout, vals[i]);
            putchar('\n');
        }
        fflush(stdout);
    }
    free(vals);
    return status;
}

/* WASI imports come from w; anything else is an unknown import. */
static int link_imports(const exec_opts *o, wp_wasi *w, wp_store *s, const wp_module *m,
                        wp_extern *imports) {
    wp_err err;
    if (wp_wasi_link(w, s, m, imports, &err) != WP_OK)
        return fail(o->file, &err);
    for (uint32_t i = 0; i < wp_module_import_count(m); i++) {
        wp_import_desc d;
        wp_module_import(m, i, &d);
        if (wp_wasi_is_import(&d))
            continue;
        fprintf(stderr, "wippy: %s: unknown import '%.*s'.'%.*s'\n", o->file,
                (int)d.module.len, d.module.ptr, (int)d.name.len, d.name.ptr);
        return WP_EXIT_ERROR;
    }
    return WP_EXIT_OK;
}

static int new_wasi(const exec_opts *o, wp_wasi **w) {
    int nargv = o->nargs + 1;
    const char **argv = calloc((size_t)nargv, sizeof *argv);
    if (!argv)
        return WP_EXIT_ERROR;
    argv[0] = o->file;
    for (int i = 0; i < o->nargs; i++)
        argv[i + 1] = o->args[i];
    wp_wasi_config cfg;
    wp_wasi_config_init(&cfg);
    cfg.args = argv;
    cfg.nargs = (uint32_t)nargv;
    cfg.env = o->env;
    cfg.nenv = o->nenv;
    cfg.mounts = o->mounts;
    cfg.nmounts = o->nmounts;
    cfg.cwd = o->cwd;
    /* A testing knob: the portable path resolver instead of openat2. */
    const char *resolver = getenv("WIPPY_WASI_RESOLVER");
    if (resolver && strcmp(resolver, "portable") == 0)
        cfg.flags |= WP_WASI_PORTABLE_RESOLVE;
    wp_err err;
    wp_status st = wp_wasi_new(&cfg, w, &err);
    free(argv);
    return st == WP_OK ? WP_EXIT_OK : fail(o->file, &err);
}

static int instantiate_and_run(const exec_opts *o, wp_wasi *w, wp_store *s, wp_module *m) {
    wp_err err;
    wp_exec *x = NULL;
    wp_instance *inst = NULL;
    wp_extern *imports = calloc(wp_module_import_count(m) + 1, sizeof *imports);
    if (!imports)
        return WP_EXIT_ERROR;
    int status = link_imports(o, w, s, m, imports);
    if (status == WP_EXIT_OK &&
        (wp_exec_new(s, &x, &err) != WP_OK ||
         wp_instance_new(s, m, imports, wp_module_import_count(m), &inst, &err) != WP_OK))
        status = fail(o->file, &err);
    free(imports);
    if (status != WP_EXIT_OK)
        return status;
    wp_func *start = wp_instance_start_func(inst);
    if (!start || run_call(w, x, start, NULL, 0, &status))
        status = invoke(o, w, x, inst);
    return status;
}

static int run_module(const exec_opts *o, wp_module *m) {
    wp_wasi *w = NULL;
    int status = new_wasi(o, &w);
    if (status != WP_EXIT_OK)
        return status;
    wp_err err;
    wp_store *s = NULL;
    if (wp_store_new(&o->limits, &s, &err) != WP_OK)
        status = fail(o->file, &err);
    else
        status = instantiate_and_run(o, w, s, m);
    wp_store_free(s); /* before the context its host functions refer to */
    wp_wasi_free(w);
    return status;
}

/* ---- Components ---------------------------------------------------------------------------- */

/* The result of a component call: a command's status ({ok} 0, {err} 1), or the value printed. */
static int component_result(const exec_opts *o, const wp_value *v) {
    if (!o->invoke)
        return wp_value_map_get(v, "ok") ? WP_EXIT_OK : WP_EXIT_ERROR;
    if (v->kind != WP_VNIL) {
        wp_value_print(stdout, v);
        putchar('\n');
    }
    fflush(stdout);
    return WP_EXIT_OK;
}

static int component_call(const exec_opts *o, wp_comp_inst *ci, wp_exec *x) {
    const char *name = o->invoke ? o->invoke : "wasi:cli/run#run";
    const wp_comp_func *f = wp_comp_inst_func(ci, name);
    if (!f) {
        fprintf(stderr, "wippy: %s: the component exports no function '%s'%s\n", o->file, name,
                o->invoke ? "" : " (not a wasi:cli/run command: use --invoke FUNC)");
        return WP_EXIT_ERROR;
    }
    uint32_t nargs = o->invoke ? (uint32_t)o->nargs : 0;
    wp_value *args = calloc(nargs + 1, sizeof *args);
    wp_err err;
    int status = args ? WP_EXIT_OK : WP_EXIT_ERROR;
    for (uint32_t i = 0; status == WP_EXIT_OK && i < nargs; i++)
        if (wp_value_cstring(&args[i], o->args[i]) != WP_OK)
            status = WP_EXIT_ERROR;
    if (status == WP_EXIT_OK && wp_comp_call_begin(ci, x, f, args, nargs, &err) != WP_OK) {
        fprintf(stderr, "wippy exec: %s\n", err.msg);
        status = WP_EXIT_USAGE;
    }
    for (uint32_t i = 0; args && i < nargs; i++)
        wp_value_free(&args[i]);
    free(args);
    if (status != WP_EXIT_OK)
        return status;
    if (wp_comp_run(ci, x) == WP_RUN_TRAP) {
        const wp_trap *t = wp_exec_trap(x);
        if (t->kind == WP_TRAP_EXIT)
            return t->exit_code;
        fprintf(stderr, "wippy: trap: %s\n", t->msg);
        print_backtrace(x);
        return WP_EXIT_TRAP;
    }
    wp_value out;
    if (wp_comp_call_finish(ci, x, &out, &err) != WP_OK) {
        fprintf(stderr, "wippy: trap: %s\n", err.msg);
        return WP_EXIT_TRAP;
    }
    status = component_result(o, &out);
    wp_value_free(&out);
    return status;
}

static int new_wasi2(const exec_opts *o, wp_wasi2 **w) {
    const char **argv = calloc((size_t)o->nargs + 1, sizeof *argv);
    if (!argv)
        return WP_EXIT_ERROR;
    argv[0] = o->file;
    uint32_t nargv = 1;
    for (int i = 0; !o->invoke && i < o->nargs; i++)
        argv[nargv++] = o->args[i];
    wp_wasi_config cfg;
    wp_wasi_config_init(&cfg);
    cfg.args = argv;
    cfg.nargs = nargv;
    cfg.env = o->env;
    cfg.nenv = o->nenv;
    cfg.mounts = o->mounts;
    cfg.nmounts = o->nmounts;
    cfg.cwd = o->cwd;
    wp_err err;
    wp_status st = wp_wasi2_new(&cfg, w, &err);
    free(argv);
    return st == WP_OK ? WP_EXIT_OK : fail(o->file, &err);
}

/* Every WASI 0.2 interface is linked: `wippy exec` is the command line, not a sandboxed entry
 * (imports nothing provides still link to stubs). */
static int run_component(const exec_opts *o, const wp_component *c) {
    wp_wasi2 *w = NULL;
    wp_comp_linker *l = NULL;
    wp_store *s = NULL;
    wp_exec *x = NULL;
    wp_comp_inst *ci = NULL;
    wp_err err;
    int status = new_wasi2(o, &w);
    if (status == WP_EXIT_OK &&
        (wp_comp_linker_new(&l, &err) != WP_OK || wp_wasi2_link(w, l, NULL, &err) != WP_OK ||
         wp_store_new(&o->limits, &s, &err) != WP_OK || wp_exec_new(s, &x, &err) != WP_OK ||
         wp_comp_instantiate(c, s, x, l, &ci, &err) != WP_OK))
        status = fail(o->file, &err);
    if (status == WP_EXIT_OK)
        status = component_call(o, ci, x);
    wp_comp_inst_free(ci);
    wp_store_free(s);
    wp_comp_linker_free(l);
    wp_wasi2_free(w);
    return status;
}

static int exec_component(exec_opts *o, const uint8_t *bytes, size_t len) {
    wp_err err;
    wp_component *c = NULL;
    if (wp_component_decode(bytes, len, &c, &err) != WP_OK)
        return fail(o->file, &err);
    signal(SIGPIPE, SIG_IGN);
    int status = run_component(o, c);
    wp_component_free(c);
    return status;
}

static int exec_file(exec_opts *o) {
    wp_err err;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (wp_cli_load_module_bytes(o->file, &bytes, &len, &err) != WP_OK)
        return fail(o->file, &err);
    if (wp_component_is(bytes, len)) {
        int cstatus = exec_component(o, bytes, len);
        free(bytes);
        return cstatus;
    }
    wp_module *m = NULL;
    wp_status st = wp_module_decode(bytes, len, &m, &err);
    free(bytes);
    if (st != WP_OK)
        return fail(o->file, &err);
    /* A guest writing to a closed pipe gets EPIPE, as WASI says, instead of killing us. */
    signal(SIGPIPE, SIG_IGN);
    int status = run_module(o, m);
    wp_module_free(m);
    return status;
}

int wp_cli_exec(int argc, char **argv) {
    exec_opts o = {0};
    o.mounts = calloc((size_t)argc, sizeof *o.mounts);
    o.env = calloc((size_t)argc, sizeof *o.env);
    int status = o.mounts && o.env ? parse_opts(argc, argv, &o) : WP_EXIT_ERROR;
    if (status == WP_EXIT_OK)
        status = exec_file(&o); /* from here on, any int is the guest's to choose */
    else if (status == HELP)
        status = WP_EXIT_OK;
    free(o.mounts);
    free(o.env);
    return status;
}
