/* test_wasi2_component.c: WASI 0.2 through real component binaries (tests/component/wasi2_*.wat,
 * built with jco parse): a component sleeping on monotonic-clock.subscribe-duration +
 * pollable.block parks its exec (the thread is free: two sleepers interleave on one thread),
 * and import gating by group leaves the rest to stubs that name what is missing. */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test_wasi2.h"

#ifdef WP_TEST_COMPONENT_DIR
#define HAVE_FIXTURES 1
#else
#define HAVE_FIXTURES 0
#define WP_TEST_COMPONENT_DIR ""
#endif

static wp_component *load(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", WP_TEST_COMPONENT_DIR, name);
    size_t len = 0;
    unsigned char *bytes = test_read_file(path, &len);
    if (!bytes) {
        fprintf(stderr, "missing component fixture %s\n", path);
        return NULL;
    }
    wp_component *c = NULL;
    wp_err err;
    if (wp_component_decode(bytes, len, &c, &err) != WP_OK)
        fprintf(stderr, "%s: %s\n", name, err.msg);
    free(bytes);
    return c;
}

/* One instance of a component with its own store, exec and WASI 0.2 context. */
typedef struct guest {
    wp_wasi2 *w;
    wp_store *s;
    wp_exec *x;
    wp_comp_linker *l;
    wp_comp_inst *ci;
} guest;

/* groups: the imports: groups to link (NULL-terminated), or NULL for all. */
static bool guest_new(guest *g, const wp_component *c, const char *const *groups) {
    memset(g, 0, sizeof *g);
    wp_wasi_config cfg;
    wp_wasi_config_init(&cfg);
    wp_err err;
    bool ok = wp_wasi2_new(&cfg, &g->w, &err) == WP_OK &&
              wp_store_new(NULL, &g->s, &err) == WP_OK &&
              wp_exec_new(g->s, &g->x, &err) == WP_OK &&
              wp_comp_linker_new(&g->l, &err) == WP_OK;
    for (size_t i = 0; ok && groups && groups[i]; i++)
        ok = wp_wasi2_link(g->w, g->l, groups[i], &err) == WP_OK;
    if (ok && !groups)
        ok = wp_wasi2_link(g->w, g->l, NULL, &err) == WP_OK;
    ok = ok && wp_comp_instantiate(c, g->s, g->x, g->l, &g->ci, &err) == WP_OK;
    if (!ok)
        fprintf(stderr, "guest: %s\n", err.msg);
    return ok;
}

/* live: resources of the context still held once the instance is gone (its handles of our
 * resource types are dropped with it: normally none). */
static void guest_free_live(guest *g, uint32_t live) {
    wp_comp_inst_free(g->ci);
    wp_comp_linker_free(g->l);
    wp_exec_free(g->x);
    wp_store_free(g->s);
    CHECK_EQ(wp_wasi2_live(g->w), live);
    wp_wasi2_free(g->w); /* frees whatever is left */
}

static void guest_free(guest *g) { guest_free_live(g, 0); }

static bool begin_sleep(guest *g, uint64_t ns) {
    const wp_comp_func *f = wp_comp_inst_func(g->ci, "sleep");
    CHECK(f != NULL);
    wp_value arg = wp_value_int((int64_t)ns);
    wp_err err;
    wp_status st = f ? wp_comp_call_begin(g->ci, g->x, f, &arg, 1, &err) : WP_ERR_NOT_FOUND;
    if (st != WP_OK)
        fprintf(stderr, "begin: %s\n", err.msg);
    return st == WP_OK;
}

static void nap_until(uint64_t deadline) {
    while (wp_wasi_now() < deadline) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

static void test_sleep_parks(void) {
    wp_component *c = load("wasi2_sleep");
    CHECK(c != NULL);
    guest g;
    if (!c || !guest_new(&g, c, NULL)) {
        wp_component_free(c);
        CHECK(0);
        return;
    }
    uint64_t t0 = wp_wasi_now();
    CHECK(begin_sleep(&g, 30000000));
    CHECK_EQ(wp_exec_run(g.x, WP_BUDGET_UNLIMITED), WP_RUN_PENDING);
    wp_wasi_wait wt;
    CHECK(wp_comp_pending(g.ci, &wt));
    CHECK_EQ(wt.nfds, 0);
    CHECK(wt.deadline >= t0 + 30000000u);
    nap_until(wt.deadline);
    bool done = false;
    wp_err err;
    CHECK_EQ(wp_comp_complete(g.ci, g.x, &done, &err), WP_OK);
    CHECK(done);
    CHECK_EQ(wp_exec_run(g.x, WP_BUDGET_UNLIMITED), WP_RUN_DONE);
    wp_value out = wp_value_nil();
    CHECK_EQ(wp_comp_call_finish(g.ci, g.x, &out, &err), WP_OK);
    CHECK(out.kind == WP_VINT && out.of.i >= 30000000);
    guest_free(&g);
    wp_component_free(c);
}

/* Two sleepers on one thread: both are parked at once, the shorter finishes first. */
static void test_sleepers_interleave(void) {
    wp_component *c = load("wasi2_sleep");
    guest a;
    guest b;
    if (!c || !guest_new(&a, c, NULL) || !guest_new(&b, c, NULL)) {
        wp_component_free(c);
        CHECK(0);
        return;
    }
    CHECK(begin_sleep(&a, 400000000)); /* 400 ms */
    CHECK(begin_sleep(&b, 20000000));  /* 20 ms */
    CHECK_EQ(wp_exec_run(a.x, WP_BUDGET_UNLIMITED), WP_RUN_PENDING);
    CHECK_EQ(wp_exec_run(b.x, WP_BUDGET_UNLIMITED), WP_RUN_PENDING);
    wp_wasi_wait wa;
    wp_wasi_wait wb;
    CHECK(wp_comp_pending(a.ci, &wa) && wp_comp_pending(b.ci, &wb));
    CHECK(wb.deadline < wa.deadline);
    nap_until(wb.deadline);
    bool done = false;
    wp_err err;
    CHECK_EQ(wp_comp_complete(a.ci, a.x, &done, &err), WP_OK);
    CHECK(!done); /* a spurious wake for the long sleeper: it waits on */
    CHECK_EQ(wp_comp_complete(b.ci, b.x, &done, &err), WP_OK);
    CHECK(done);
    CHECK_EQ(wp_exec_run(b.x, WP_BUDGET_UNLIMITED), WP_RUN_DONE);
    wp_value out = wp_value_nil();
    CHECK_EQ(wp_comp_call_finish(b.ci, b.x, &out, &err), WP_OK);
    CHECK(out.of.i >= 20000000);
    CHECK(wp_comp_pending(a.ci, &wa)); /* a still sleeps */
    CHECK(wa.deadline > wp_wasi_now() || out.of.i >= 400000000); /* unless this machine crawls */
    /* Abandoning a sleeper frees what its call held. */
    wp_comp_cancel(a.ci);
    wp_exec_reset(a.x);
    CHECK(!wp_wasi2_pending(a.w, &wa));
    guest_free(&b);
    /* a's pollable is still the guest's: freeing the instance drops it. */
    guest_free(&a);
    wp_component_free(c);
}

static void test_gated_imports(void) {
    wp_component *c = load("wasi2_sleep");
    guest g;
    const char *const clocks_only[] = {"wasi:clocks", NULL};
    if (!c || !guest_new(&g, c, clocks_only)) {
        wp_component_free(c);
        CHECK(0);
        return;
    }
    CHECK(begin_sleep(&g, 1000));
    CHECK_EQ(wp_exec_run(g.x, WP_BUDGET_UNLIMITED), WP_RUN_TRAP);
    const wp_trap *t = wp_exec_trap(g.x);
    CHECK(t != NULL);
    if (t)
        CHECK_STR_CONTAINS(t->msg, "pollable.block");
    wp_exec_reset(g.x);
    /* The pollable subscribe-duration made is of wasi:io/poll's type, which this instance was
     * not given: no drop reaches us for it, so the context reclaims it when freed. */
    guest_free_live(&g, 1);
    wp_component_free(c);
}

/* ---- A C program as a wasi:cli/run command (clang, then jco's preview-1 adapter) ---------- */

typedef struct cmdfx {
    char dir[256];
    int in[2];
    int out[2];
    int err[2];
} cmdfx;

static void cmd_path(const cmdfx *f, char *buf, size_t cap, const char *rel) {
    snprintf(buf, cap, "%s/%s", f->dir, rel);
}

static bool cmd_setup(cmdfx *f) {
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/wippy-p2cmd.XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir) || pipe(f->in) != 0 || pipe(f->out) != 0 || pipe(f->err) != 0)
        return false;
    char p[512];
    cmd_path(f, p, sizeof p, "rw");
    mkdir(p, 0755);
    cmd_path(f, p, sizeof p, "ro");
    mkdir(p, 0755);
    cmd_path(f, p, sizeof p, "ro/in.txt");
    FILE *fp = fopen(p, "w");
    if (!fp)
        return false;
    fputs("from the host\n", fp);
    fclose(fp);
    cmd_path(f, p, sizeof p, "secret");
    fp = fopen(p, "w");
    if (fp)
        fclose(fp);
    const char line[] = "input line\n";
    return write(f->in[1], line, sizeof line - 1) == (ssize_t)(sizeof line - 1) &&
           close(f->in[1]) == 0;
}

static void slurp(int fd, char *buf, size_t cap) {
    size_t n = 0;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    for (ssize_t got; n + 1 < cap && (got = read(fd, buf + n, cap - 1 - n)) > 0;)
        n += (size_t)got;
    buf[n] = '\0';
}

/* The export "wasi:cli/run@0.2.x#run" of c, or NULL. */
static const char *run_export(const wp_component *c) {
    for (uint32_t i = 0; i < wp_component_export_func_count(c); i++) {
        const char *name = wp_component_export_func_name(c, i);
        if (strncmp(name, "wasi:cli/run@0.2.", 17) == 0 && strstr(name, "#run"))
            return name;
    }
    return NULL;
}

static void test_command(void) {
    wp_component *c = load("wasi2_cmd");
    cmdfx f;
    CHECK(c != NULL);
    CHECK(cmd_setup(&f));
    if (!c)
        return;
    char rw[512];
    char ro[512];
    cmd_path(&f, rw, sizeof rw, "rw");
    cmd_path(&f, ro, sizeof ro, "ro");
    wp_wasi_mount mounts[] = {{rw, "/rw", false}, {ro, "/ro", true}};
    const char *args[] = {"wasi2_cmd", "one", "two"};
    const char *env[] = {"GREETING=hello=world"};
    wp_wasi_config cfg;
    wp_wasi_config_init(&cfg);
    cfg.args = args;
    cfg.nargs = 3;
    cfg.env = env;
    cfg.nenv = 1;
    cfg.mounts = mounts;
    cfg.nmounts = 2;
    cfg.stdin_fd = f.in[0];
    cfg.stdout_fd = f.out[1];
    cfg.stderr_fd = f.err[1];
    guest g;
    memset(&g, 0, sizeof g);
    wp_err err;
    bool ok = wp_wasi2_new(&cfg, &g.w, &err) == WP_OK && wp_store_new(NULL, &g.s, &err) == WP_OK &&
              wp_exec_new(g.s, &g.x, &err) == WP_OK && wp_comp_linker_new(&g.l, &err) == WP_OK &&
              wp_wasi2_link(g.w, g.l, NULL, &err) == WP_OK &&
              wp_comp_instantiate(c, g.s, g.x, g.l, &g.ci, &err) == WP_OK;
    if (!ok)
        fprintf(stderr, "command: %s\n", err.msg);
    CHECK(ok);
    const char *name = run_export(c);
    CHECK(name != NULL);
    const wp_comp_func *run = ok && name ? wp_comp_inst_func(g.ci, name) : NULL;
    CHECK(run != NULL);
    if (run && wp_comp_call_begin(g.ci, g.x, run, NULL, 0, &err) == WP_OK) {
        wp_run_state rs = wp_comp_run(g.ci, g.x);
        if (rs == WP_RUN_TRAP)
            fprintf(stderr, "command trapped: %s\n", wp_exec_trap(g.x)->msg);
        CHECK_EQ(rs, WP_RUN_DONE);
        wp_value out = wp_value_nil();
        if (rs == WP_RUN_DONE) {
            CHECK_EQ(wp_comp_call_finish(g.ci, g.x, &out, &err), WP_OK);
            CHECK(wp_value_map_get(&out, "ok") != NULL);
        }
        wp_value_free(&out);
    }
    char buf[4096];
    slurp(f.out[0], buf, sizeof buf);
    if (getenv("WP_TEST_VERBOSE"))
        fprintf(stderr, "guest stdout:\n%s", buf);
    CHECK_STR_CONTAINS(buf, "ok arguments\n");
    CHECK_STR_CONTAINS(buf, "ok no write in /ro\n");
    CHECK_STR_CONTAINS(buf, "ok nanosleep 20 ms\n");
    CHECK(strstr(buf, "FAIL") == NULL);
    if (strstr(buf, "FAIL"))
        fprintf(stderr, "guest said:\n%s", buf);
    slurp(f.err[0], buf, sizeof buf);
    CHECK(strcmp(buf, "to stderr\n") == 0);
    char p[512];
    cmd_path(&f, p, sizeof p, "ro/new.txt");
    CHECK(access(p, F_OK) != 0);
    if (ok)
        guest_free(&g);
    wp_component_free(c);
    for (int i = 0; i < 2; i++) {
        close(f.in[i]);
        close(f.out[i]);
        close(f.err[i]);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f.dir);
    CHECK_EQ(system(cmd), 0);
}

/* `wasi2_cmd exit N`: the adapter's proc_exit reaches wasi:cli/exit, which ends the run. */
static int32_t command_exit(wp_component *c, const char *code) {
    const char *args[] = {"wasi2_cmd", "exit", code};
    wp_wasi_config cfg;
    wp_wasi_config_init(&cfg);
    cfg.args = args;
    cfg.nargs = 3;
    guest g;
    memset(&g, 0, sizeof g);
    wp_err err;
    bool ok = wp_wasi2_new(&cfg, &g.w, &err) == WP_OK && wp_store_new(NULL, &g.s, &err) == WP_OK &&
              wp_exec_new(g.s, &g.x, &err) == WP_OK && wp_comp_linker_new(&g.l, &err) == WP_OK &&
              wp_wasi2_link(g.w, g.l, NULL, &err) == WP_OK &&
              wp_comp_instantiate(c, g.s, g.x, g.l, &g.ci, &err) == WP_OK;
    CHECK(ok);
    int32_t status = -1;
    const wp_comp_func *run = ok ? wp_comp_inst_func(g.ci, run_export(c)) : NULL;
    if (run && wp_comp_call_begin(g.ci, g.x, run, NULL, 0, &err) == WP_OK) {
        wp_run_state rs = wp_comp_run(g.ci, g.x);
        const wp_trap *t = wp_exec_trap(g.x);
        CHECK_EQ(rs, WP_RUN_TRAP);
        CHECK(t && t->kind == WP_TRAP_EXIT);
        if (rs == WP_RUN_TRAP && t && t->kind == WP_TRAP_EXIT)
            status = t->exit_code;
        wp_exec_reset(g.x);
    }
    if (ok)
        guest_free(&g);
    return status;
}

static void test_command_exit(void) {
    wp_component *c = load("wasi2_cmd");
    CHECK(c != NULL);
    if (!c)
        return;
    /* jco's adapter maps proc_exit(0) to exit(ok) and any other status to exit(err). */
    CHECK_EQ(command_exit(c, "0"), 0);
    CHECK_EQ(command_exit(c, "7"), 1);
    wp_component_free(c);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    if (!HAVE_FIXTURES) {
        fprintf(stderr, "SKIPPED: component fixtures are not built here\n");
        return 77;
    }
    RUN_TEST(test_sleep_parks);
    RUN_TEST(test_sleepers_interleave);
    RUN_TEST(test_gated_imports);
    RUN_TEST(test_command);
    RUN_TEST(test_command_exit);
    return TEST_EXIT();
}
