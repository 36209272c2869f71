/* runner.c: spec-runner's main: runs one wast2json script and prints its pass/fail counts. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

typedef struct options {
    const char *json;     /* the script */
    bool verbose;         /* print each failure, and the messages of rejected modules */
    bool count_only;      /* print the number of counted commands and stop */
    double time_limit_s;  /* per call */
    uint64_t fuel;        /* the store's fuel (0: none): runs the metered code */
} options;

/* What a crash report needs, kept where a signal handler can read it. One script per process
 * and the handler only reads, so one static record is enough. */
static struct {
    const char *source;
    uint64_t line;
    uint64_t passed;
    uint64_t failed;
    uint64_t remaining; /* counted commands not yet finished, the crashing one included */
} progress;

static struct sigaction previous[NSIG];

static void put_to(int fd, const char *s) {
    ssize_t ignored = write(fd, s, strlen(s));
    (void)ignored;
}

static void put(const char *s) { put_to(STDOUT_FILENO, s); }

/* n in decimal, in buf (24 bytes); returns where the digits start. */
static const char *u64_text(uint64_t n, char *buf) {
    size_t i = 23;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    return buf + i;
}

/* On a crash or a kill, says where on stderr and prints the summary line with every
 * unfinished command failed, then hands the signal to whoever had it before (the default
 * action, or a sanitizer's report). Only async-signal-safe calls. */
static void on_fatal_signal(int sig) {
    char num[24];
    put_to(STDERR_FILENO, "spec-runner: ");
    put_to(STDERR_FILENO, progress.source ? progress.source : "?");
    put_to(STDERR_FILENO, ":");
    put_to(STDERR_FILENO, u64_text(progress.line, num));
    put_to(STDERR_FILENO, sig == SIGTERM || sig == SIGINT ? ": interrupted (signal "
                                                          : ": crashed (signal ");
    put_to(STDERR_FILENO, u64_text((uint64_t)sig, num));
    put_to(STDERR_FILENO, ")\n");
    put("\n");
    put(progress.source ? progress.source : "?");
    put(": ");
    put(u64_text(progress.passed, num));
    put(" passed, ");
    put(u64_text(progress.failed + progress.remaining, num));
    put(" failed\n");
    sigaction(sig, &previous[sig], NULL);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGABRT)
        raise(sig); /* delivered when this handler returns */
    /* A fault (SEGV, BUS, FPE, ILL) happens again on return, now with the old handler. */
}

static void catch_fatal_signals(void) {
    static char alt_stack[1 << 16]; /* a C stack overflow must still be reported */
    static const int signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM, SIGINT};
    stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        sigaction(signals[i], &sa, &previous[signals[i]]);
}

static int usage(void) {
    fprintf(stderr, "usage: spec-runner [-v] [-t SECONDS] [-f FUEL] FILE.json\n"
                    "       spec-runner --count FILE.json\n"
                    "Runs a wast2json script; its module files are read next to it.\n"
                    "  -v          print each failure (and the messages of rejected modules)\n"
                    "  -t SECONDS  wall-clock limit of one call (default %.0f)\n"
                    "  -f FUEL     give the store FUEL instructions (runs the metered code)\n"
                    "  --count     print how many commands count (all but register)\n",
                    SPEC_TIME_LIMIT_S);
    return 2;
}

static bool parse_options(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->time_limit_s = SPEC_TIME_LIMIT_S;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;
        if (strcmp(a, "-v") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "--count") == 0) {
            o->count_only = true;
        } else if (strcmp(a, "-t") == 0 && i + 1 < argc) {
            o->time_limit_s = strtod(argv[++i], &end);
            if (*end || o->time_limit_s <= 0)
                return false;
        } else if (strcmp(a, "-f") == 0 && i + 1 < argc) {
            o->fuel = strtoull(argv[++i], &end, 10);
            if (*end || o->fuel == 0)
                return false;
        } else if (a[0] != '-' && !o->json) {
            o->json = a;
        } else {
            return false;
        }
    }
    return o->json != NULL;
}

/* "i32.wast" from the script's source_filename, else the JSON file's own name. */
static const char *source_name(const spec_json *root, const char *json_path) {
    const char *src = spec_json_get_str(root, "source_filename");
    const char *path = src ? src : json_path;
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static uint64_t count_commands(const spec_json *commands) {
    uint64_t n = 0;
    for (size_t i = 0; i < commands->count; i++)
        n += spec_command_counted(&commands->items[i]);
    return n;
}

/* Prints a text that may hold control characters or NULs, escaped, on one line. */
static void print_escaped(const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
}

static void report(const options *o, const spec_json *cmd, const spec_verdict *v) {
    bool note = v->passed && v->why[0];
    if (!o->verbose || (v->passed && !note))
        return;
    uint64_t line = 0;
    spec_json_u64(spec_json_get(cmd, "line"), &line);
    const char *type = spec_json_get_str(cmd, "type");
    const char *field = spec_json_get_str(spec_json_get(cmd, "action"), "field");
    printf("%s:%llu: %s", progress.source, (unsigned long long)line, type ? type : "?");
    if (field) {
        printf(" \"");
        print_escaped(field);
        printf("\"");
    }
    printf(": %s", v->passed ? "ok: " : (v->counted ? "FAIL: " : "not counted: "));
    print_escaped(v->why);
    printf("\n");
}

static void run_commands(spec_session *ss, const options *o, const spec_json *commands) {
    for (size_t i = 0; i < commands->count; i++) {
        const spec_json *cmd = &commands->items[i];
        spec_verdict v;
        progress.line = 0;
        spec_json_u64(spec_json_get(cmd, "line"), &progress.line);
        spec_command_run(ss, cmd, &v);
        if (v.counted) {
            progress.remaining--;
            if (v.passed)
                progress.passed++;
            else
                progress.failed++;
        }
        report(o, cmd, &v);
        fflush(stdout); /* what was printed survives a crash in the next command */
    }
}

/* Runs the script in its own store. A store that cannot be set up fails every command. */
static void run_script(const options *o, const spec_json *commands) {
    const char *slash = strrchr(o->json, '/');
    char *dir = slash ? strndup(o->json, (size_t)(slash - o->json)) : strdup(".");
    spec_session ss;
    wp_err err;
    if (!dir) {
        fprintf(stderr, "spec-runner: out of memory\n");
    } else if (spec_session_init(&ss, dir, o->fuel, &err) != WP_OK) {
        fprintf(stderr, "spec-runner: %s: cannot set up a store: %s\n", progress.source,
                err.msg);
    } else {
        ss.time_limit_s = o->time_limit_s;
        run_commands(&ss, o, commands);
        spec_session_free(&ss);
    }
    progress.failed += progress.remaining;
    progress.remaining = 0;
    free(dir);
}

static int run_file(const options *o) {
    char *text = NULL;
    size_t len = 0;
    spec_json *root = NULL;
    wp_err err;
    if (spec_read_path(o->json, &text, &len, &err) != WP_OK ||
        spec_json_parse(wp_heap_default(), text, len, &root, &err) != WP_OK) {
        fprintf(stderr, "spec-runner: %s: %s\n", o->json, err.msg);
        free(text);
        return 2;
    }
    free(text);
    const spec_json *commands = spec_json_get(root, "commands");
    if (!commands || commands->kind != SPEC_JSON_ARRAY) {
        fprintf(stderr, "spec-runner: %s: no \"commands\" array\n", o->json);
        spec_json_free(wp_heap_default(), root);
        return 2;
    }
    progress.source = source_name(root, o->json);
    progress.remaining = count_commands(commands);
    if (o->count_only) {
        printf("%llu\n", (unsigned long long)progress.remaining);
    } else {
        run_script(o, commands);
        printf("%s: %llu passed, %llu failed\n", progress.source,
               (unsigned long long)progress.passed, (unsigned long long)progress.failed);
    }
    int rc = progress.failed ? 1 : 0;
    progress.source = NULL; /* it pointed into the tree freed next */
    spec_json_free(wp_heap_default(), root);
    return rc;
}

int main(int argc, char **argv) {
    options o;
    if (!parse_options(argc, argv, &o))
        return usage();
    catch_fatal_signals();
    return run_file(&o);
}
