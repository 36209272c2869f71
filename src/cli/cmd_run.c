/* cmd_run.c: `wippy run`: load and validate the project, list its commands, run one by name
 * or an entry by ID (-x) on the terminal host, with the project's process hosts running, or
 * with no command run its services until a signal. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wippy/registry.h"

typedef struct run_opts {
    const char *project; /* -p DIR */
    bool verbose;        /* -v */
    const char *host;    /* --host ID */
    const char *exec_id; /* -x NS:ENTRY */
    bool list;           /* run list */
    const char *name;    /* the command's name */
    char **args;         /* after the name or the -x entry */
    int nargs;
} run_opts;

static void run_usage(FILE *out) {
    fprintf(out,
            "usage: wippy run [-p DIR] [-v] list\n"
            "       wippy run [-p DIR] [-v]\n"
            "       wippy run [-p DIR] [-v] [--host ID] COMMAND [ARGS...]\n"
            "       wippy run [-p DIR] [-v] -x NS:ENTRY [--host ID] [ARGS...]\n\n"
            "Loads the project (the directories wippy.lock names, else ./src), checks every\n"
            "entry, and runs a process on the terminal host: by its command name\n"
            "(meta.command.name), or by entry ID with -x. ARGS reach it as strings. Nothing\n"
            "runs if the project has a problem: all of them are listed.\n"
            "With no command, it starts every host and process.service whose\n"
            "lifecycle.auto_start is set and keeps them running (restarting failed services)\n"
            "until SIGINT/SIGTERM, then stops the services in reverse order and exits 0; a\n"
            "second signal exits 1 at once. -v logs every service state change.\n\n"
            "  list                   list the commands\n"
            "  -x, --exec NS:ENTRY    run this entry\n"
            "  --host ID              the terminal.host to use (when there is not exactly one)\n"
            "  -p, --project DIR      the project directory (default: the current directory)\n"
            "  -v, --verbose          say what is loaded, checked and run, on stderr\n"
            "  -h, --help             show this help\n\n"
            "The result: a string is printed, a number is the exit status, true/false exit\n"
            "0/1, a result {ok = V} is V, an error or {err = E} is printed on stderr with\n"
            "exit status 1.\n"
            "exit status: as the result says; 1 the project has problems or the process could\n"
            "not start; 2 bad command line.\n");
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "wippy run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n");
    run_usage(stderr);
    return WP_EXIT_USAGE;
}

enum { HELP = -1, BAD = -2 }; /* parse_opt: --help was printed; a usage error was */

static bool is_opt(const char *a, const char *shrt, const char *lng) {
    return (shrt && strcmp(a, shrt) == 0) || strcmp(a, lng) == 0;
}

/* An option taking a value: "-p DIR", "--project DIR" or "--project=DIR". 1: it was that
 * option; 0: another; BAD: its value is missing. */
static int opt_value(int argc, char **argv, int *i, const char *shrt, const char *lng,
                     const char **out) {
    const char *a = argv[*i];
    size_t n = strlen(lng);
    if (strncmp(a, lng, n) == 0 && a[n] == '=') {
        *out = a + n + 1;
        return 1;
    }
    if (!is_opt(a, shrt, lng))
        return 0;
    if (*i + 1 >= argc) {
        usage_error("%s needs a value", a);
        return BAD;
    }
    *out = argv[++*i];
    return 1;
}

/* Handles option argv[*i]. 1: handled; 0: not an option of ours; HELP or BAD. */
static int parse_opt(int argc, char **argv, int *i, run_opts *o) {
    const char *a = argv[*i];
    int r;
    if (is_opt(a, "-h", "--help")) {
        run_usage(stdout);
        return HELP;
    }
    if (is_opt(a, "-v", "--verbose")) {
        o->verbose = true;
        return 1;
    }
    if ((r = opt_value(argc, argv, i, "-p", "--project", &o->project)) != 0)
        return r;
    if ((r = opt_value(argc, argv, i, NULL, "--host", &o->host)) != 0)
        return r;
    return opt_value(argc, argv, i, "-x", "--exec", &o->exec_id);
}

static int parse_opts(int argc, char **argv, run_opts *o) {
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (o->exec_id || strcmp(a, "list") != 0 || o->list)
                break;
            o->list = true;
            continue;
        }
        int r = parse_opt(argc, argv, &i, o);
        if (r == HELP)
            return HELP;
        if (r == BAD)
            return WP_EXIT_USAGE;
        if (r == 0)
            return usage_error("unknown option '%s'", a);
        if (o->exec_id && i + 1 < argc && strcmp(argv[i + 1], "--host") != 0) {
            i++; /* after -x NS:ENTRY [--host ID], everything is the process's */
            break;
        }
    }
    if (o->list && (o->exec_id || i < argc))
        return usage_error("%s", "list takes no arguments");
    if (!o->list && !o->exec_id && i < argc)
        o->name = argv[i++];
    o->args = argv + i;
    o->nargs = argc - i;
    return WP_EXIT_OK;
}

/* ---- Loading ----------------------------------------------------------------------------- */

static void log_line(void *ud, const char *msg) {
    (void)ud;
    fprintf(stderr, "wippy: %s\n", msg);
}

static void print_problem(const wp_problem *p) {
    fprintf(stderr, "%s", p->file);
    if (p->line)
        fprintf(stderr, ":%u", p->line);
    if (p->entry)
        fprintf(stderr, ": %s", p->entry);
    if (p->field)
        fprintf(stderr, ": %s", p->field);
    fprintf(stderr, ": %s\n", p->reason);
}

/* Loads and validates; on any problem prints them all and returns NULL with *status 1. */
static wp_registry *load(const run_opts *o, int *status) {
    wp_registry_options ro = {.project_dir = o->project, .log = o->verbose ? log_line : NULL};
    wp_registry *reg = NULL;
    wp_err err = {0};
    *status = WP_EXIT_ERROR;
    if (wp_registry_load(&ro, &reg, &err) != WP_OK) {
        fprintf(stderr, "wippy: %s\n", err.msg);
        return NULL;
    }
    uint32_t n = wp_registry_problem_count(reg);
    for (uint32_t i = 0; i < n; i++)
        print_problem(wp_registry_problem(reg, i));
    if (n) {
        fprintf(stderr, "wippy: %u problem%s found; nothing was started\n", n, n == 1 ? "" : "s");
        wp_registry_free(reg);
        return NULL;
    }
    *status = WP_EXIT_OK;
    return reg;
}

/* ---- list -------------------------------------------------------------------------------- */

static int list_commands(const wp_registry *reg) {
    uint32_t n = wp_registry_command_count(reg);
    if (n == 0) {
        printf("No commands found.\n"
               "Give a process entry meta.command.name (and .short) to make it a command.\n");
        return WP_EXIT_OK;
    }
    int wname = 0;
    int wshort = 0;
    for (uint32_t i = 0; i < n; i++) {
        const wp_command *c = wp_registry_command_at(reg, i);
        wname = (int)strlen(c->name) > wname ? (int)strlen(c->name) : wname;
        wshort = (int)strlen(c->short_text) > wshort ? (int)strlen(c->short_text) : wshort;
    }
    printf("Available commands:\n");
    for (uint32_t i = 0; i < n; i++) {
        const wp_command *c = wp_registry_command_at(reg, i);
        printf("  %-*s  %-*s  %s\n", wname, c->name, wshort, c->short_text, wp_entry_id(c->entry));
    }
    printf("\nRun one with: wippy run <command> [args...]\n");
    return WP_EXIT_OK;
}

/* ---- Running ----------------------------------------------------------------------------- */

static int error_exit(const char *id, const wp_value *err) {
    fprintf(stderr, "wippy: %s: %s: ", id, wp_status_text(wp_value_error_kind(err)));
    wp_value_print_chain(stderr, err);
    fputc('\n', stderr);
    return WP_EXIT_ERROR;
}

/* The exit status and output of a result (DESIGN: the CLI's result rules). */
static int report(const char *id, const wp_value *v) {
    const wp_value *k;
    const wp_value *inner;
    size_t len = 0;
    const char *s;
    fflush(stdout);
    switch (v->kind) {
    case WP_VNIL:
        return WP_EXIT_OK;
    case WP_VBOOL:
        return v->of.b ? WP_EXIT_OK : WP_EXIT_ERROR;
    case WP_VINT:
        return (int)(v->of.i & 0xff); /* what the OS keeps of an exit status */
    case WP_VFLOAT: /* truncated like an integer; NaN and huge values are no status */
        if (!(v->of.f > -9e18 && v->of.f < 9e18))
            return WP_EXIT_ERROR;
        return (int)((int64_t)v->of.f & 0xff);
    case WP_VSTRING:
    case WP_VBYTES:
        s = wp_value_str(v, &len);
        fwrite(s, 1, len, stdout);
        if (v->kind == WP_VSTRING && (len == 0 || s[len - 1] != '\n'))
            putchar('\n');
        return WP_EXIT_OK;
    case WP_VERROR:
        return error_exit(id, v);
    case WP_VMAP:
        if (wp_value_len(v) == 1 && wp_value_map_pair(v, 0, &k, &inner) && k->kind == WP_VSTRING &&
            strcmp(wp_value_str(k, NULL), "ok") == 0)
            return report(id, inner);
        if (wp_value_len(v) == 1 && wp_value_map_pair(v, 0, &k, &inner) && k->kind == WP_VSTRING &&
            strcmp(wp_value_str(k, NULL), "err") == 0) {
            fprintf(stderr, "wippy: %s: error: ", id);
            wp_value_print(stderr, inner);
            fputc('\n', stderr);
            return WP_EXIT_ERROR;
        }
        break;
    default:
        break;
    }
    wp_value_print(stdout, v);
    putchar('\n');
    return WP_EXIT_OK;
}

static wp_value *string_args(const run_opts *o) {
    wp_value *vals = calloc((size_t)o->nargs + 1, sizeof *vals);
    for (int i = 0; vals && i < o->nargs; i++) {
        if (wp_value_cstring(&vals[i], o->args[i]) != WP_OK) {
            for (int j = 0; j < i; j++)
                wp_value_free(&vals[j]);
            free(vals);
            return NULL;
        }
    }
    return vals;
}

static void free_args(wp_value *vals, int n) {
    for (int i = 0; vals && i < n; i++)
        wp_value_free(&vals[i]);
    free(vals);
}

/* Stops what boot started (processes still running are terminated) and frees it. */
static void shut_down(wp_boot *boot, bool verbose) {
    if (boot) {
        uint32_t killed = wp_runtime_shutdown(wp_boot_runtime(boot), 0);
        if (killed && verbose)
            fprintf(stderr, "wippy: %u process%s terminated at shutdown\n", killed,
                    killed == 1 ? "" : "es");
    }
    wp_boot_free(boot);
}

/* Boots the project's hosts, runs e on the terminal host, shuts the hosts down. Returns
 * false (message printed) if e did not run; else *result is its result. */
static bool run_on_hosts(wp_registry *reg, const run_opts *o, const wp_entry *e,
                         const wp_entry *host, const wp_value *args, wp_value *result) {
    wp_err err = {0};
    wp_boot *boot = NULL;
    wp_spawn_target t;
    bool ran = false;
    if (wp_registry_boot(reg, host, true, &boot, &err) != WP_OK ||
        wp_boot_target(boot, e, &t, &err) != WP_OK) {
        fprintf(stderr, "wippy: %s\n", err.msg);
    } else if (wp_runtime_run(wp_boot_runtime(boot), wp_boot_terminal(boot), &t, args,
                              (uint32_t)o->nargs, result, &err) != WP_OK) {
        fprintf(stderr, "wippy: %s: %s\n", wp_entry_id(e), err.msg);
    } else {
        ran = true;
    }
    shut_down(boot, o->verbose);
    return ran;
}

static int run_entry(wp_registry *reg, const run_opts *o, const wp_entry *e) {
    wp_err err = {0};
    const wp_entry *host = NULL;
    if (wp_registry_terminal_host(reg, o->host, &host, &err) != WP_OK) {
        fprintf(stderr, "wippy: %s\n", err.msg);
        return WP_EXIT_ERROR;
    }
    wp_value *args = string_args(o);
    if (!args) {
        fprintf(stderr, "wippy: out of memory\n");
        return WP_EXIT_ERROR;
    }
    if (o->verbose)
        fprintf(stderr, "wippy: running %s on %s with %d argument%s\n", wp_entry_id(e),
                wp_entry_id(host), o->nargs, o->nargs == 1 ? "" : "s");
    int status = WP_EXIT_ERROR;
    wp_value result = wp_value_nil();
    if (run_on_hosts(reg, o, e, host, args, &result)) {
        if (o->verbose) {
            fprintf(stderr, "wippy: %s returned ", wp_entry_id(e));
            wp_value_print(stderr, &result);
            fputc('\n', stderr);
        }
        status = report(wp_entry_id(e), &result);
    }
    wp_value_free(&result);
    free_args(args, o->nargs);
    return status;
}

/* ---- Services: wippy run with no command -------------------------------------------------- */

static void service_log(void *ud, const char *id, wp_svc_state from, wp_svc_state to,
                        const char *reason) {
    (void)ud;
    if (strcmp(id, "*") == 0)
        fprintf(stderr, "wippy: supervisor: %s\n", reason);
    else if (from == to)
        fprintf(stderr, "wippy: service %s: %s: %s\n", id, wp_svc_state_name(to), reason);
    else
        fprintf(stderr, "wippy: service %s: %s -> %s: %s\n", id, wp_svc_state_name(from),
                wp_svc_state_name(to), reason);
}

/* Starts the hosts and services until SIGINT/SIGTERM, stops the services in reverse order,
 * then whatever else still runs (the hosts' grace period). */
static int serve(wp_registry *reg, const run_opts *o) {
    wp_err err = {0};
    wp_boot *boot = NULL;
    int status = WP_EXIT_OK;
    if (wp_registry_boot(reg, NULL, true, &boot, &err) != WP_OK ||
        wp_boot_serve(boot, o->verbose ? service_log : NULL, NULL, &err) != WP_OK) {
        fprintf(stderr, "wippy: %s\n", err.msg);
        status = WP_EXIT_ERROR;
    }
    shut_down(boot, o->verbose);
    if (status == WP_EXIT_OK && o->verbose)
        fprintf(stderr, "wippy: stopped\n");
    return status;
}

static int run_command(wp_registry *reg, const run_opts *o) {
    if (o->list)
        return list_commands(reg);
    const wp_entry *e = NULL;
    if (o->exec_id && !(e = wp_registry_find(reg, o->exec_id))) {
        fprintf(stderr, "wippy: entry %s not found\n", o->exec_id);
        return WP_EXIT_ERROR;
    }
    if (o->name) {
        const wp_command *c = wp_registry_find_command(reg, o->name);
        if (!c) {
            fprintf(stderr,
                    "wippy: command \"%s\" not found. Use 'wippy run list' to see available "
                    "commands\n",
                    o->name);
            return WP_EXIT_ERROR;
        }
        e = c->entry;
    }
    if (!e)
        return serve(reg, o);
    return run_entry(reg, o, e);
}

int wp_cli_run(int argc, char **argv) {
    run_opts o = {0};
    int status = parse_opts(argc, argv, &o);
    if (status == HELP)
        return WP_EXIT_OK;
    if (status != WP_EXIT_OK)
        return status;
    /* A guest writing to a closed pipe gets EPIPE, as WASI says, instead of killing us. */
    signal(SIGPIPE, SIG_IGN);
    wp_registry *reg = load(&o, &status);
    if (!reg)
        return status;
    status = run_command(reg, &o);
    wp_registry_free(reg);
    return status;
}
