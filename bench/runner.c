/* runner.c: the `make bench` runner: times each program under the engine and natively, checks
 * that both give the same checksum, and prints the ratios and their geometric mean.
 *
 * usage: bench-runner [-r RUNS] [-t SECONDS] [-w] DIR NAME=N...
 * For each NAME it reads DIR/NAME.wasm (run through include/wippy/wasm.h only), runs the
 * native build DIR/NAME.native (prints "<checksum> <seconds>") and, with -w, times wabt's
 * wasm-interp on DIR/NAME.wabt.wasm. Exit 1 if any program failed or gave a wrong result. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "wippy/wasm.h"

typedef struct options {
    int runs;           /* best of this many timed calls per side */
    double max_seconds; /* stop repeating the engine side once it has run this long */
    bool wabt;          /* also time wasm-interp */
    bool fuel;          /* run the engine with store fuel (the metered code) */
    const char *dir;
} options;

/* One side's measurement of one program. */
typedef struct timing {
    bool ok;
    uint64_t checksum; /* an i32 result zero-extended */
    double seconds;    /* best run */
    int runs;
    double load_ms;    /* engine: decode + validate + compile */
    char error[WP_ERR_MSG_MAX];
} timing;

typedef struct tally {
    double log_sum; /* sum of log(engine / native) over good rows */
    int good;
    double wabt_log_sum; /* the same for wasm-interp */
    int wabt_good;
    int wrong;
    int failed;
} tally;

/* ---- Files -------------------------------------------------------------------------------- */

static wp_status read_file(const char *path, uint8_t **out, size_t *len, wp_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "%s: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t n = 0;
    size_t cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return wp_err_set(err, WP_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *out = buf;
    *len = n;
    return WP_OK;
}

/* ---- Engine side -------------------------------------------------------------------------- */

static wp_status decode_file(const char *path, wp_module **out, double *load_ms, wp_err *err) {
    uint8_t *bytes = NULL;
    size_t len = 0;
    wp_status st = read_file(path, &bytes, &len, err);
    if (st != WP_OK)
        return st;
    double t0 = bench_now();
    st = wp_module_decode(bytes, len, out, err);
    *load_ms = (bench_now() - t0) * 1e3;
    free(bytes);
    if (st != WP_OK)
        wp_err_wrap(err, "%s", path);
    return st;
}

/* The export bench_run: (i32) -> i32 or i64. */
static wp_status find_bench_run(wp_instance *inst, wp_func **out, wp_err *err) {
    wp_extern ext;
    if (!wp_instance_export(inst, "bench_run", 9, &ext) || ext.kind != WP_EXTERN_FUNC)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "no function export 'bench_run'");
    wp_functype ft = wp_func_type(ext.of.func);
    if (ft.nparams != 1 || ft.types[0] != WP_I32 || ft.nresults != 1 ||
        (ft.types[1] != WP_I32 && ft.types[1] != WP_I64))
        return wp_err_set(err, WP_ERR_INVALID, "bench_run is not (i32) -> i32 or i64");
    *out = ext.of.func;
    return WP_OK;
}

static uint64_t val_bits(wp_val v) {
    return v.type == WP_I64 ? v.of.i64 : v.of.i32;
}

/* Best of opts->runs calls of f(n), stopping early past opts->max_seconds. Every call must
 * return the same checksum. */
static wp_status time_calls(wp_exec *x, wp_func *f, int32_t n, const options *opts, timing *t,
                            wp_err *err) {
    wp_val arg = wp_val_i32((uint32_t)n);
    double total = 0.0;
    for (t->runs = 0; t->runs < opts->runs && (t->runs == 0 || total < opts->max_seconds);) {
        wp_val res;
        double t0 = bench_now();
        wp_status st = wp_call(x, f, &arg, 1, &res, 1, NULL, err);
        double s = bench_now() - t0;
        if (st != WP_OK)
            return st;
        if (t->runs > 0 && val_bits(res) != t->checksum)
            return wp_err_set(err, WP_ERR_INTERNAL, "run %d gave 0x%" PRIx64 ", run 0 0x%" PRIx64,
                              t->runs, val_bits(res), t->checksum);
        t->checksum = val_bits(res);
        if (t->runs == 0 || s < t->seconds)
            t->seconds = s;
        total += s;
        t->runs++;
    }
    return WP_OK;
}

static wp_status engine_run(const char *path, int32_t n, const options *opts, timing *t,
                            wp_err *err) {
    wp_module *m = NULL;
    wp_store *s = NULL;
    wp_instance *inst = NULL;
    wp_exec *x = NULL;
    wp_func *f = NULL;
    wp_status st = decode_file(path, &m, &t->load_ms, err);
    wp_store_config cfg = {.fuel = opts->fuel ? UINT64_MAX : 0};
    if (st == WP_OK)
        st = wp_store_new(&cfg, &s, err);
    if (st == WP_OK)
        st = wp_instance_new(s, m, NULL, 0, &inst, err);
    if (st == WP_OK)
        st = find_bench_run(inst, &f, err);
    if (st == WP_OK)
        st = wp_exec_new(s, &x, err);
    if (st == WP_OK)
        st = time_calls(x, f, n, opts, t, err);
    wp_exec_free(x);
    wp_store_free(s);
    wp_module_free(m);
    return st;
}

static void time_engine(const options *opts, const char *name, int32_t n, timing *t) {
    char path[4096];
    wp_err err;
    wp_err_clear(&err);
    snprintf(path, sizeof path, "%s/%s.wasm", opts->dir, name);
    t->ok = engine_run(path, n, opts, t, &err) == WP_OK;
    if (!t->ok)
        snprintf(t->error, sizeof t->error, "%s", err.msg);
}

/* ---- Other sides: child processes --------------------------------------------------------- */

/* Runs cmd and returns its first output line in line; false if it could not run or failed. */
static bool run_command(const char *cmd, char *line, size_t cap) {
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    bool got = fgets(line, (int)cap, p) != NULL;
    while (fgetc(p) != EOF) {
        /* read the rest: a child writing into a closed pipe would die of SIGPIPE */
    }
    return pclose(p) == 0 && got;
}

static void time_native(const options *opts, const char *name, int32_t n, timing *t) {
    char cmd[4200];
    char line[256];
    snprintf(cmd, sizeof cmd, "'%s/%s.native' %" PRId32 " %d", opts->dir, name, n, opts->runs);
    unsigned long long sum = 0;
    t->ok = run_command(cmd, line, sizeof line) &&
            sscanf(line, "%llu %lf", &sum, &t->seconds) == 2;
    t->checksum = sum;
    t->runs = opts->runs;
    if (!t->ok)
        snprintf(t->error, sizeof t->error, "native run failed: %.400s", cmd);
}

/* wasm-interp prints "bench_main() => i64:<decimal>"; one run, timed from outside. */
static void time_wabt(const options *opts, const char *name, timing *t) {
    char cmd[4200];
    char line[512];
    snprintf(cmd, sizeof cmd, "wasm-interp '%s/%s.wabt.wasm' --run-all-exports 2>&1", opts->dir,
             name);
    double t0 = bench_now();
    bool ran = run_command(cmd, line, sizeof line);
    t->seconds = bench_now() - t0;
    const char *val = ran ? strstr(line, "=> i64:") : NULL;
    t->ok = val != NULL;
    if (t->ok)
        t->checksum = strtoull(val + 7, NULL, 10);
    else
        snprintf(t->error, sizeof t->error, "wasm-interp failed: %.400s", ran ? line : cmd);
}

/* ---- Report ------------------------------------------------------------------------------- */

static void print_header(const options *opts) {
    printf("%-14s %10s %10s %10s %10s %9s", "benchmark", "n", "engine s", "native s", "ratio",
           "load ms");
    if (opts->wabt)
        printf(" %14s %10s", "wasm-interp s", "ratio");
    printf("\n");
}

/* Checks one side against the native checksum. What is wrong goes on the program's row, in
 * capitals, and into the tally. */
static bool check_side(const char *side, const timing *t, const timing *native, tally *tl) {
    if (!t->ok) {
        printf("  FAILED (%s): %s\n", side, t->error);
        tl->failed++;
        return false;
    }
    if (t->checksum != native->checksum) {
        printf("  WRONG RESULT from %s: 0x%" PRIx64 ", native code gave 0x%" PRIx64 "\n", side,
               t->checksum, native->checksum);
        tl->wrong++;
        return false;
    }
    return true;
}

/* How many times slower than native code a side ran; a floor on the native time keeps
 * smoke runs (BENCH_SMOKE, microseconds) finite. */
static double slowdown(double side_seconds, double native_seconds) {
    return side_seconds / (native_seconds > 1e-6 ? native_seconds : 1e-6);
}

/* Printed as "1/x": the native/engine ratio. */
static void print_ratio(double x) {
    char text[32];
    snprintf(text, sizeof text, "1/%.2f", x);
    printf(" %10s", text);
}

static void bench_one(const options *opts, const char *name, int32_t n, tally *tl) {
    timing native = {0};
    timing engine = {0};
    printf("%-14s %10" PRId32, name, n);
    fflush(stdout); /* the name shows while the program runs */
    time_native(opts, name, n, &native);
    if (!check_side("native build", &native, &native, tl))
        return;
    time_engine(opts, name, n, &engine);
    if (!check_side("engine", &engine, &native, tl))
        return;
    printf(" %10.3f %10.3f", engine.seconds, native.seconds);
    print_ratio(slowdown(engine.seconds, native.seconds));
    printf(" %9.2f", engine.load_ms);
    tl->log_sum += log(slowdown(engine.seconds, native.seconds));
    tl->good++;
    if (opts->wabt) {
        timing wabt = {0};
        fflush(stdout);
        time_wabt(opts, name, &wabt);
        if (!check_side("wasm-interp", &wabt, &native, tl))
            return;
        printf(" %14.3f", wabt.seconds);
        print_ratio(slowdown(wabt.seconds, native.seconds));
        tl->wabt_log_sum += log(slowdown(wabt.seconds, native.seconds));
        tl->wabt_good++;
    }
    printf("\n");
    fflush(stdout);
}

static void print_summary(const tally *tl) {
    if (tl->good > 0) {
        printf("%-14s %10s %10s %10s", "geometric mean", "", "", "");
        print_ratio(exp(tl->log_sum / tl->good));
        if (tl->wabt_good > 0) {
            printf(" %9s %14s", "", "");
            print_ratio(exp(tl->wabt_log_sum / tl->wabt_good));
        }
        printf("\n");
    }
    fflush(stdout);
    if (tl->wrong || tl->failed)
        fprintf(stderr, "bench: %d wrong result(s), %d failure(s)\n", tl->wrong, tl->failed);
}

/* ---- Arguments ---------------------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr, "usage: bench-runner [-r RUNS] [-t SECONDS] [-w] [-f] DIR NAME=N...\n"
                    "  -r RUNS     best of RUNS timed runs on each side (default 3)\n"
                    "  -t SECONDS  stop repeating the engine side after this long (default 10)\n"
                    "  -w          also time wabt's wasm-interp on DIR/NAME.wabt.wasm\n"
                    "  -f          give the engine's store fuel: times the metered code\n");
}

/* Parses the options; returns the index of DIR in argv, or 0 on a usage error. */
static int parse_options(int argc, char **argv, options *opts) {
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-w") == 0)
            opts->wabt = true;
        else if (strcmp(argv[i], "-f") == 0)
            opts->fuel = true;
        else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
            opts->runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
            opts->max_seconds = atof(argv[++i]);
        else
            return 0;
    }
    if (opts->runs < 1 || opts->max_seconds <= 0.0 || i + 1 >= argc)
        return 0;
    opts->dir = argv[i];
    return strchr(opts->dir, '\'') ? 0 : i; /* the dir is quoted in shell commands */
}

/* "NAME=N" -> name (up to cap - 1 bytes) and n. */
static bool parse_program(const char *arg, char *name, size_t cap, int32_t *n) {
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (size_t)(eq - arg) >= cap || strchr(arg, '\''))
        return false;
    char *end = NULL;
    long v = strtol(eq + 1, &end, 10);
    if (*end != 0 || end == eq + 1 || v < 0 || v > INT32_MAX)
        return false;
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = 0;
    *n = (int32_t)v;
    return true;
}

int main(int argc, char **argv) {
    options opts = {.runs = 3, .max_seconds = 10.0};
    int first = parse_options(argc, argv, &opts);
    if (first == 0) {
        usage();
        return 2;
    }
    tally tl = {0};
    print_header(&opts);
    for (int i = first + 1; i < argc; i++) {
        char name[128];
        int32_t n = 0;
        if (!parse_program(argv[i], name, sizeof name, &n)) {
            fprintf(stderr, "bench: bad program argument '%s' (want NAME=N)\n", argv[i]);
            return 2;
        }
        bench_one(&opts, name, n, &tl);
    }
    print_summary(&tl);
    return tl.wrong || tl.failed ? 1 : 0;
}
