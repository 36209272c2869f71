/* test_wasi2.c: WASI 0.2 wasi:cli, wasi:io, wasi:clocks and wasi:random called directly from
 * C: tables and groups, streams over pipes (buffering, waiting, closed and failed states),
 * pollables and poll against the clock and descriptors, random, exit, handles and drops. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test_wasi2.h"

#define IO "wasi:io/streams"
#define POLL "wasi:io/poll"
#define MONO "wasi:clocks/monotonic-clock"

typedef struct fx {
    int in[2];  /* guest stdin reads in[0]; the test writes in[1] */
    int out[2]; /* guest stdout writes out[1]; the test reads out[0] */
    char dir[256];
    wp_wasi2 *w;
} fx;

static bool setup_with(fx *f, int stderr_fd) {
    memset(f, 0, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/wippy-p2.XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir) || pipe(f->in) != 0 || pipe(f->out) != 0)
        return false;
    wp_wasi_mount mounts[] = {{f->dir, "/rw", false}};
    const char *args[] = {"prog", "one", "two"};
    const char *env[] = {"A=1", "LONGER=va=lue"};
    wp_wasi_config cfg;
    wp_wasi_config_init(&cfg);
    cfg.args = args;
    cfg.nargs = 3;
    cfg.env = env;
    cfg.nenv = 2;
    cfg.mounts = mounts;
    cfg.nmounts = 1;
    cfg.cwd = "/rw";
    cfg.stdin_fd = f->in[0];
    cfg.stdout_fd = f->out[1];
    cfg.stderr_fd = stderr_fd;
    wp_err err;
    if (wp_wasi2_new(&cfg, &f->w, &err) != WP_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return false;
    }
    return true;
}

static bool setup(fx *f) { return setup_with(f, -1); }

static void teardown(fx *f) {
    CHECK_EQ(wp_wasi2_live(f->w), 0); /* every test drops what it made */
    wp_wasi2_free(f->w);
    for (int i = 0; i < 2; i++) {
        close(f->in[i]);
        close(f->out[i]);
    }
    rmdir(f->dir);
}

/* Reads what the guest wrote to stdout so far (up to cap - 1 bytes) as a string. */
static void read_out(fx *f, char *buf, size_t cap) {
    int fl = fcntl(f->out[0], F_GETFL);
    fcntl(f->out[0], F_SETFL, fl | O_NONBLOCK);
    ssize_t n = read(f->out[0], buf, cap - 1);
    fcntl(f->out[0], F_SETFL, fl);
    buf[n > 0 ? n : 0] = '\0';
}

static int64_t get_stream(fx *f, const char *iface, const char *name) {
    wp_value r;
    CHECK_EQ(call2(f->w, iface, name, &r, 0), WP_WASI2_DONE);
    CHECK_EQ(r.kind, WP_VINT);
    return r.of.i;
}

/* ---- Tables ------------------------------------------------------------------------------ */

static void test_tables(void) {
    uint32_t n;
    const wp_wasi2_func *fs = wp_wasi2_funcs(&n);
    CHECK(n >= 70);
    for (uint32_t i = 0; i < n; i++)
        CHECK(wp_wasi2_find(fs[i].iface, fs[i].name) == &fs[i]);
    CHECK(wp_wasi2_find("wasi:io/streams@0.2.0", "[method]output-stream.write") != NULL);
    CHECK(wp_wasi2_find("wasi:io/streams@0.3.0", "[method]output-stream.write") == NULL);
    CHECK(wp_wasi2_find("wasi:io/streams", "[method]output-stream.nope") == NULL);
    CHECK(wp_wasi2_has_iface("wasi:cli/terminal-input@0.2.1"));
    CHECK(wp_wasi2_has_iface("wasi:filesystem/preopens"));
    CHECK(!wp_wasi2_has_iface("wasi:sockets/tcp@0.2.0"));
    const wp_wasi2_resource *rs = wp_wasi2_resources(&n);
    CHECK_EQ(n, 8);
    CHECK(strcmp(rs[1].name, "input-stream") == 0);

    const wp_comp_host_iface *const *list;
    uint32_t total = wp_wasi2_ifaces(&list);
    CHECK_EQ(total, 20);
    uint32_t funcs = 0;
    for (uint32_t i = 0; i < total; i++) {
        CHECK_STR_CONTAINS(list[i]->name, "@0.2.3");
        funcs += list[i]->nfuncs;
        for (uint32_t j = 0; j < list[i]->nfuncs; j++)
            CHECK(list[i]->funcs[j].fn != NULL);
    }
    wp_wasi2_funcs(&n);
    CHECK_EQ(funcs, n); /* every function is in exactly one interface */
    CHECK_EQ(wp_wasi2_group("wasi:io", &list), 2);
    CHECK(strcmp(list[0]->name, "wasi:io/error@0.2.3") == 0);
    CHECK(strcmp(list[1]->name, "wasi:io/streams@0.2.3") == 0);
    CHECK_EQ(wp_wasi2_group("wasi:poll", &list), 1);
    CHECK(strcmp(list[0]->name, "wasi:io/poll@0.2.3") == 0);
    CHECK_EQ(wp_wasi2_group("wasi:cli", &list), 10);
    CHECK_STR_CONTAINS(list[9]->name, "wasi:cli/terminal-stderr");
    CHECK_EQ(wp_wasi2_group("wasi:filesystem", &list), 2);
    CHECK_EQ(wp_wasi2_group("wasi:clocks", &list), 2);
    CHECK_EQ(wp_wasi2_group("wasi:random", &list), 3);
    CHECK_EQ(wp_wasi2_group("wasi:sockets", &list), 0);
    CHECK(list == NULL);
}

static void test_link_group_errors(void) {
    fx f;
    CHECK(setup(&f));
    wp_comp_linker *l = NULL;
    wp_err err;
    CHECK_EQ(wp_comp_linker_new(&l, &err), WP_OK);
    CHECK_EQ(wp_wasi2_link(f.w, l, "wasi:nope", &err), WP_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(err.msg, "wasi:nope");
    CHECK_EQ(wp_wasi2_link(f.w, l, "wasi:io", &err), WP_OK);
    CHECK_EQ(wp_wasi2_link(f.w, l, NULL, &err), WP_OK);
    wp_comp_linker_free(l);
    teardown(&f);
}

/* ---- wasi:cli ---------------------------------------------------------------------------- */

static void test_cli_environment(void) {
    fx f;
    CHECK(setup(&f));
    wp_value r;
    CHECK_EQ(call2(f.w, "wasi:cli/environment", "get-arguments", &r, 0), WP_WASI2_DONE);
    CHECK_EQ(wp_value_len(&r), 3);
    CHECK(bytes_eq(wp_value_at(&r, 2), "two"));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, "wasi:cli/environment", "get-environment", &r, 0), WP_WASI2_DONE);
    CHECK_EQ(wp_value_len(&r), 2);
    wp_value *second = wp_value_at(&r, 1);
    CHECK(bytes_eq(wp_value_at(second, 0), "LONGER"));
    CHECK(bytes_eq(wp_value_at(second, 1), "va=lue")); /* split at the first '=' only */
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, "wasi:cli/environment", "initial-cwd", &r, 0), WP_WASI2_DONE);
    CHECK(bytes_eq(&r, "/rw"));
    wp_value_free(&r);
    teardown(&f);
}

static void test_cli_exit(void) {
    fx f;
    CHECK(setup(&f));
    wp_value r;
    CHECK_EQ(call2(f.w, "wasi:cli/exit", "exit", &r, 1, v_case("ok")), WP_WASI2_EXIT);
    CHECK_EQ(wp_wasi2_exit_code(f.w), 0);
    CHECK_EQ(call2(f.w, "wasi:cli/exit", "exit", &r, 1, v_case("err")), WP_WASI2_EXIT);
    CHECK_EQ(wp_wasi2_exit_code(f.w), 1);
    CHECK_EQ(call2(f.w, "wasi:cli/exit", "exit-with-code", &r, 1, v_int(7)), WP_WASI2_EXIT);
    CHECK_EQ(wp_wasi2_exit_code(f.w), 7);
    CHECK_EQ(call2(f.w, "wasi:cli/exit", "exit-with-code", &r, 1, v_int(256)), WP_WASI2_TRAP);
    CHECK_STR_CONTAINS(wp_wasi2_trap_msg(f.w), "not a u8");
    CHECK_EQ(call2(f.w, "wasi:cli/exit", "exit", &r, 1, v_int(0)), WP_WASI2_TRAP);
    CHECK_STR_CONTAINS(wp_wasi2_trap_msg(f.w), "{ok} or {err}");
    teardown(&f);
}

static void test_cli_terminals(void) {
    fx f;
    CHECK(setup(&f));
    wp_value r;
    /* stdio here are pipes: none is a terminal. */
    CHECK_EQ(call2(f.w, "wasi:cli/terminal-stdin", "get-terminal-stdin", &r, 0), WP_WASI2_DONE);
    CHECK_EQ(r.kind, WP_VNIL);
    CHECK_EQ(call2(f.w, "wasi:cli/terminal-stdout", "get-terminal-stdout", &r, 0), WP_WASI2_DONE);
    CHECK_EQ(r.kind, WP_VNIL);
    CHECK_EQ(call2(f.w, "wasi:cli/terminal-stderr", "get-terminal-stderr", &r, 0), WP_WASI2_DONE);
    CHECK_EQ(r.kind, WP_VNIL);
    teardown(&f);
    /* A pseudo-terminal as stderr is a terminal. */
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
    const char *name = master >= 0 ? ptsname(master) : NULL;
    int tty = name ? open(name, O_RDWR | O_NOCTTY) : -1;
    CHECK(tty >= 0 && isatty(tty));
    CHECK(setup_with(&f, tty));
    CHECK_EQ(call2(f.w, "wasi:cli/terminal-stderr", "get-terminal-stderr", &r, 0), WP_WASI2_DONE);
    CHECK_EQ(r.kind, WP_VINT);
    CHECK_EQ(drop2(f.w, "terminal-output", r.of.i), WP_WASI2_DONE);
    CHECK_EQ(call2(f.w, "wasi:cli/terminal-stdout", "get-terminal-stdout", &r, 0), WP_WASI2_DONE);
    CHECK_EQ(r.kind, WP_VNIL); /* stdout is still a pipe */
    /* Writing to the terminal goes through the readiness-checked path. */
    int64_t err = get_stream(&f, "wasi:cli/stderr", "get-stderr");
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.blocking-write-and-flush", &r, 2, v_int(err),
                   v_str("tty")),
             WP_WASI2_DONE);
    CHECK(ok_of(&r) != NULL);
    wp_value_free(&r);
    CHECK_EQ(drop2(f.w, "output-stream", err), WP_WASI2_DONE);
    char buf[16] = {0};
    CHECK(read(master, buf, sizeof buf - 1) >= 3 && memcmp(buf, "tty", 3) == 0);
    teardown(&f);
    close(tty);
    close(master);
}

static void test_new_errors(void) {
    wp_wasi_mount missing = {"/nonexistent/wippy-h15", "/m", false};
    wp_wasi_config cfg;
    wp_wasi_config_init(&cfg);
    cfg.mounts = &missing;
    cfg.nmounts = 1;
    wp_wasi2 *w = NULL;
    wp_err err;
    CHECK_EQ(wp_wasi2_new(&cfg, &w, &err), WP_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/wippy-h15");
    CHECK(w == NULL);
}

/* ---- wasi:io streams --------------------------------------------------------------------- */

static void test_stdout_write(void) {
    fx f;
    CHECK(setup(&f));
    int64_t out = get_stream(&f, "wasi:cli/stdout", "get-stdout");
    wp_value r;
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.check-write", &r, 1, v_int(out)),
             WP_WASI2_DONE);
    CHECK_EQ(ok_int(&r), 65536);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.write", &r, 2, v_int(out), v_str("hello ")),
             WP_WASI2_DONE);
    CHECK(ok_of(&r) != NULL);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.blocking-write-and-flush", &r, 2, v_int(out),
                   v_str("world")),
             WP_WASI2_DONE);
    CHECK(ok_of(&r) != NULL);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.write-zeroes", &r, 2, v_int(out), v_int(2)),
             WP_WASI2_DONE);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.flush", &r, 1, v_int(out)), WP_WASI2_DONE);
    CHECK(ok_of(&r) != NULL);
    wp_value_free(&r);
    char buf[64];
    read_out(&f, buf, sizeof buf);
    CHECK(memcmp(buf, "hello world\0\0", 13) == 0);
    /* More than check-write allows is the guest's mistake. */
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.write-zeroes", &r, 2, v_int(out),
                   v_int(70000)),
             WP_WASI2_TRAP);
    CHECK_STR_CONTAINS(wp_wasi2_trap_msg(f.w), "check-write");
    CHECK_EQ(drop2(f.w, "output-stream", out), WP_WASI2_DONE);
    teardown(&f);
}

/* Fills the stdout pipe until the host would block; returns the bytes written. */
static size_t fill_pipe(int fd) {
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    static const char junk[4096];
    size_t total = 0;
    for (ssize_t n; (n = write(fd, junk, sizeof junk)) > 0;)
        total += (size_t)n;
    fcntl(fd, F_SETFL, fl);
    return total;
}

static void drain_pipe(int fd) {
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    char buf[4096];
    while (read(fd, buf, sizeof buf) > 0)
        ;
    fcntl(fd, F_SETFL, fl);
}

static void test_stdout_full_pipe_waits(void) {
    fx f;
    CHECK(setup(&f));
    int64_t out = get_stream(&f, "wasi:cli/stdout", "get-stdout");
    CHECK(fill_pipe(f.out[1]) > 0);
    wp_value r;
    /* Accepted into the buffer, but the flush must wait for the reader. */
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.blocking-write-and-flush", &r, 2, v_int(out),
                   v_str("tail")),
             WP_WASI2_PENDING);
    wp_wasi_wait wt;
    CHECK(wp_wasi2_pending(f.w, &wt));
    CHECK_EQ(wt.nfds, 1);
    CHECK_EQ(wt.fds[0].fd, f.out[1]);
    CHECK_EQ(wt.fds[0].events, WP_WASI_WRITABLE);
    CHECK_EQ(wt.deadline, WP_WASI_NO_DEADLINE);
    CHECK_EQ(wp_wasi2_complete(f.w, &r), WP_WASI2_PENDING); /* still full: a spurious wake */
    CHECK_EQ(r.kind, WP_VNIL);
    drain_pipe(f.out[0]);
    CHECK_EQ(wp_wasi2_complete(f.w, &r), WP_WASI2_DONE);
    CHECK(ok_of(&r) != NULL);
    wp_value_free(&r);
    CHECK(!wp_wasi2_pending(f.w, &wt));
    char buf[64];
    read_out(&f, buf, sizeof buf);
    CHECK(strcmp(buf, "tail") == 0);
    /* The output pollable: ready while the buffer has room. */
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.subscribe", &r, 1, v_int(out)),
             WP_WASI2_DONE);
    int64_t p = r.of.i;
    CHECK_EQ(call2(f.w, POLL, "[method]pollable.ready", &r, 1, v_int(p)), WP_WASI2_DONE);
    CHECK(r.kind == WP_VBOOL && r.of.b);
    CHECK_EQ(drop2(f.w, "pollable", p), WP_WASI2_DONE);
    CHECK_EQ(drop2(f.w, "output-stream", out), WP_WASI2_DONE);
    CHECK_EQ(wp_wasi2_complete(f.w, &r), WP_WASI2_TRAP); /* nothing waits any more */
    teardown(&f);
}

/* check-write shrinks while output waits in the buffer; blocking-flush and the output pollable
 * wait for the reader. */
static void test_output_budget(void) {
    fx f;
    CHECK(setup(&f));
    int64_t out = get_stream(&f, "wasi:cli/stdout", "get-stdout");
    CHECK(fill_pipe(f.out[1]) > 0);
    wp_value r;
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.write", &r, 2, v_int(out), v_str("abc")),
             WP_WASI2_DONE);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.check-write", &r, 1, v_int(out)),
             WP_WASI2_DONE);
    CHECK_EQ(ok_int(&r), 65536 - 3);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.flush", &r, 1, v_int(out)), WP_WASI2_DONE);
    CHECK(ok_of(&r) != NULL); /* starts a flush; never waits */
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.write-zeroes", &r, 2, v_int(out),
                   v_int(65536 - 3)),
             WP_WASI2_DONE);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.check-write", &r, 1, v_int(out)),
             WP_WASI2_DONE);
    CHECK_EQ(ok_int(&r), 0); /* the buffer is full */
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.write", &r, 2, v_int(out), v_str("x")),
             WP_WASI2_TRAP);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.subscribe", &r, 1, v_int(out)),
             WP_WASI2_DONE);
    int64_t p = r.of.i;
    CHECK_EQ(call2(f.w, POLL, "[method]pollable.ready", &r, 1, v_int(p)), WP_WASI2_DONE);
    CHECK(r.kind == WP_VBOOL && !r.of.b);
    CHECK_EQ(call2(f.w, POLL, "poll", &r, 1, v_list(1, v_int(p))), WP_WASI2_PENDING);
    wp_wasi_wait wt;
    CHECK(wp_wasi2_pending(f.w, &wt) && wt.nfds == 1 && wt.fds[0].events == WP_WASI_WRITABLE);
    drain_pipe(f.out[0]);
    CHECK_EQ(wp_wasi2_complete(f.w, &r), WP_WASI2_DONE);
    CHECK_EQ(wp_value_len(&r), 1);
    wp_value_free(&r);
    /* blocking-flush waits while the pipe is full again. */
    drain_pipe(f.out[0]);
    CHECK(fill_pipe(f.out[1]) > 0);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.write", &r, 2, v_int(out), v_str("tail")),
             WP_WASI2_DONE);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.blocking-flush", &r, 1, v_int(out)),
             WP_WASI2_PENDING);
    drain_pipe(f.out[0]);
    CHECK_EQ(wp_wasi2_complete(f.w, &r), WP_WASI2_DONE);
    CHECK(ok_of(&r) != NULL);
    wp_value_free(&r);
    char tail[8] = {0};
    CHECK_EQ(read(f.out[0], tail, sizeof tail), 4);
    CHECK(memcmp(tail, "tail", 4) == 0);
    drain_pipe(f.out[0]);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.blocking-write-zeroes-and-flush", &r, 2,
                   v_int(out), v_int(5)),
             WP_WASI2_DONE);
    CHECK(ok_of(&r) != NULL);
    wp_value_free(&r);
    char buf[16];
    CHECK_EQ(read(f.out[0], buf, sizeof buf), 5);
    CHECK_EQ(buf[0] | buf[4], 0);
    CHECK_EQ(drop2(f.w, "pollable", p), WP_WASI2_DONE);
    CHECK_EQ(drop2(f.w, "output-stream", out), WP_WASI2_DONE);
    teardown(&f);
}

static void test_stdout_reader_gone(void) {
    fx f;
    CHECK(setup(&f));
    int64_t out = get_stream(&f, "wasi:cli/stdout", "get-stdout");
    close(f.out[0]);
    f.out[0] = -1;
    wp_value r;
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.blocking-write-and-flush", &r, 2, v_int(out),
                   v_str("lost")),
             WP_WASI2_DONE);
    const wp_value *e = wp_value_map_get(&r, "err");
    CHECK(e && e->kind == WP_VMAP && wp_value_map_get(e, "closed"));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.check-write", &r, 1, v_int(out)),
             WP_WASI2_DONE);
    e = wp_value_map_get(&r, "err");
    CHECK(e && wp_value_map_get(e, "closed"));
    wp_value_free(&r);
    CHECK_EQ(drop2(f.w, "output-stream", out), WP_WASI2_DONE);
    teardown(&f);
}

static void test_closed_stderr(void) {
    fx f;
    CHECK(setup(&f)); /* stderr is closed for this guest */
    int64_t err = get_stream(&f, "wasi:cli/stderr", "get-stderr");
    wp_value r;
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.write", &r, 2, v_int(err), v_str("x")),
             WP_WASI2_DONE);
    const wp_value *e = wp_value_map_get(&r, "err");
    CHECK(e && wp_value_map_get(e, "closed"));
    wp_value_free(&r);
    CHECK_EQ(drop2(f.w, "output-stream", err), WP_WASI2_DONE);
    teardown(&f);
}

static void test_stdin_read(void) {
    fx f;
    CHECK(setup(&f));
    int64_t in = get_stream(&f, "wasi:cli/stdin", "get-stdin");
    wp_value r;
    /* Nothing there: read returns at once with nothing, blocking-read waits. */
    CHECK_EQ(call2(f.w, IO, "[method]input-stream.read", &r, 2, v_int(in), v_int(10)),
             WP_WASI2_DONE);
    CHECK(bytes_eq(ok_of(&r), ""));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]input-stream.blocking-read", &r, 2, v_int(in), v_int(10)),
             WP_WASI2_PENDING);
    wp_wasi_wait wt;
    CHECK(wp_wasi2_pending(f.w, &wt));
    CHECK_EQ(wt.nfds, 1);
    CHECK_EQ(wt.fds[0].fd, f.in[0]);
    CHECK_EQ(wt.fds[0].events, WP_WASI_READABLE);
    CHECK_EQ(wp_wasi2_complete(f.w, &r), WP_WASI2_PENDING);
    CHECK_EQ(write(f.in[1], "abcdef", 6), 6);
    CHECK_EQ(wp_wasi2_complete(f.w, &r), WP_WASI2_DONE);
    CHECK(bytes_eq(ok_of(&r), "abcdef"));
    wp_value_free(&r);
    /* skip, then the end of the stream is 'closed'. */
    CHECK_EQ(write(f.in[1], "xyz", 3), 3);
    CHECK_EQ(call2(f.w, IO, "[method]input-stream.skip", &r, 2, v_int(in), v_int(2)),
             WP_WASI2_DONE);
    CHECK_EQ(ok_int(&r), 2);
    wp_value_free(&r);
    close(f.in[1]);
    f.in[1] = -1;
    CHECK_EQ(call2(f.w, IO, "[method]input-stream.blocking-read", &r, 2, v_int(in), v_int(10)),
             WP_WASI2_DONE);
    CHECK(bytes_eq(ok_of(&r), "z"));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]input-stream.blocking-skip", &r, 2, v_int(in), v_int(10)),
             WP_WASI2_DONE);
    const wp_value *e = wp_value_map_get(&r, "err");
    CHECK(e && wp_value_map_get(e, "closed"));
    wp_value_free(&r);
    CHECK_EQ(drop2(f.w, "input-stream", in), WP_WASI2_DONE);
    teardown(&f);
}

static void test_stream_failure_is_an_error(void) {
    /* A directory as stdin: read fails, reported once as last-operation-failed(error). */
    fx f;
    CHECK(setup(&f));
    int dir = open(f.dir, O_RDONLY | O_DIRECTORY);
    wp_wasi2_free(f.w);
    wp_wasi_config cfg;
    wp_wasi_config_init(&cfg);
    cfg.stdin_fd = dir;
    wp_err err;
    CHECK_EQ(wp_wasi2_new(&cfg, &f.w, &err), WP_OK);
    int64_t in = get_stream(&f, "wasi:cli/stdin", "get-stdin");
    wp_value r;
    CHECK_EQ(call2(f.w, IO, "[method]input-stream.read", &r, 2, v_int(in), v_int(4)),
             WP_WASI2_DONE);
    const wp_value *e = wp_value_map_get(&r, "err");
    const wp_value *h = e ? wp_value_map_get(e, "last-operation-failed") : NULL;
    CHECK(h && h->kind == WP_VINT);
    int64_t er = h ? h->of.i : 0;
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, "wasi:io/error", "[method]error.to-debug-string", &r, 1, v_int(er)),
             WP_WASI2_DONE);
    CHECK_STR_CONTAINS(wp_value_str(&r, NULL), "read");
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, "wasi:filesystem/types", "filesystem-error-code", &r, 1, v_int(er)),
             WP_WASI2_DONE);
    CHECK(bytes_eq(&r, "is-directory"));
    wp_value_free(&r);
    /* After the failure the stream is closed. */
    CHECK_EQ(call2(f.w, IO, "[method]input-stream.read", &r, 2, v_int(in), v_int(4)),
             WP_WASI2_DONE);
    e = wp_value_map_get(&r, "err");
    CHECK(e && wp_value_map_get(e, "closed"));
    wp_value_free(&r);
    CHECK_EQ(drop2(f.w, "error", er), WP_WASI2_DONE);
    CHECK_EQ(drop2(f.w, "input-stream", in), WP_WASI2_DONE);
    teardown(&f);
    close(dir);
}

static void test_splice(void) {
    fx f;
    CHECK(setup(&f));
    int64_t in = get_stream(&f, "wasi:cli/stdin", "get-stdin");
    int64_t out = get_stream(&f, "wasi:cli/stdout", "get-stdout");
    wp_value r;
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.blocking-splice", &r, 3, v_int(out), v_int(in),
                   v_int(100)),
             WP_WASI2_PENDING);
    CHECK_EQ(write(f.in[1], "spliced", 7), 7);
    CHECK_EQ(wp_wasi2_complete(f.w, &r), WP_WASI2_DONE);
    CHECK_EQ(ok_int(&r), 7);
    wp_value_free(&r);
    CHECK_EQ(write(f.in[1], "abc", 3), 3);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.splice", &r, 3, v_int(out), v_int(in),
                   v_int(2)),
             WP_WASI2_DONE);
    CHECK_EQ(ok_int(&r), 2);
    wp_value_free(&r);
    char buf[64];
    read_out(&f, buf, sizeof buf);
    CHECK(strcmp(buf, "splicedab") == 0);
    /* The input's end is the splice's: closed (after the byte still there). */
    close(f.in[1]);
    f.in[1] = -1;
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.blocking-splice", &r, 3, v_int(out),
                   v_int(in), v_int(100)),
             WP_WASI2_DONE);
    CHECK_EQ(ok_int(&r), 1);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.splice", &r, 3, v_int(out), v_int(in),
                   v_int(100)),
             WP_WASI2_DONE);
    const wp_value *e = wp_value_map_get(&r, "err");
    CHECK(e && wp_value_map_get(e, "closed"));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.splice", &r, 3, v_int(in), v_int(out),
                   v_int(1)),
             WP_WASI2_TRAP); /* the streams the wrong way round */
    CHECK_EQ(drop2(f.w, "input-stream", in), WP_WASI2_DONE);
    CHECK_EQ(drop2(f.w, "output-stream", out), WP_WASI2_DONE);
    teardown(&f);
}

static void test_bad_handles(void) {
    fx f;
    CHECK(setup(&f));
    wp_value r;
    CHECK_EQ(call2(f.w, IO, "[method]input-stream.read", &r, 2, v_int(999), v_int(1)),
             WP_WASI2_TRAP);
    CHECK_STR_CONTAINS(wp_wasi2_trap_msg(f.w), "not a live input-stream");
    int64_t out = get_stream(&f, "wasi:cli/stdout", "get-stdout");
    CHECK_EQ(call2(f.w, IO, "[method]input-stream.read", &r, 2, v_int(out), v_int(1)),
             WP_WASI2_TRAP); /* an output stream is not an input stream */
    CHECK_EQ(call2(f.w, IO, "[method]output-stream.write", &r, 2, v_int(out), v_int(1)),
             WP_WASI2_TRAP); /* a list<u8> must be bytes */
    CHECK_STR_CONTAINS(wp_wasi2_trap_msg(f.w), "expected a string or bytes");
    CHECK_EQ(call2(f.w, IO, "[method]input-stream.read", &r, 2, v_str("1"), v_int(1)),
             WP_WASI2_TRAP);
    CHECK_EQ(drop2(f.w, "input-stream", out), WP_WASI2_TRAP); /* wrong type: stays */
    CHECK_EQ(drop2(f.w, "output-stream", out), WP_WASI2_DONE);
    CHECK_EQ(drop2(f.w, "output-stream", out), WP_WASI2_TRAP); /* twice */
    CHECK_EQ(drop2(f.w, "output-stream", 0), WP_WASI2_TRAP);
    wp_wasi2_resource other = {"wasi:io/streams", "output-stream"}; /* equal, not ours */
    CHECK_EQ(wp_wasi2_drop(f.w, &other, 1), WP_WASI2_TRAP);
    CHECK_STR_CONTAINS(wp_wasi2_trap_msg(f.w), "not a WASI 0.2 resource type");
    teardown(&f);
}

/* A guest cannot hold more than WP_WASI2_MAX_RESOURCES resources at once. */
static void test_resource_limit(void) {
    fx f;
    CHECK(setup(&f));
    int64_t *reps = malloc(WP_WASI2_MAX_RESOURCES * sizeof *reps);
    wp_value r;
    const wp_wasi2_func *sub = wp_wasi2_find(MONO, "subscribe-instant");
    wp_value zero = v_int(0);
    uint32_t made = 0;
    while (made < WP_WASI2_MAX_RESOURCES && sub->fn(f.w, &zero, &r) == WP_WASI2_DONE)
        reps[made++] = r.of.i;
    CHECK_EQ(made, WP_WASI2_MAX_RESOURCES);
    CHECK_EQ(call2(f.w, MONO, "subscribe-instant", &r, 1, v_int(0)), WP_WASI2_TRAP);
    CHECK_STR_CONTAINS(wp_wasi2_trap_msg(f.w), "too many live WASI 0.2 resources");
    CHECK_EQ(call2(f.w, "wasi:cli/stdout", "get-stdout", &r, 0), WP_WASI2_TRAP);
    CHECK_EQ(drop2(f.w, "pollable", reps[made / 2]), WP_WASI2_DONE);
    CHECK_EQ(call2(f.w, "wasi:cli/stdout", "get-stdout", &r, 0), WP_WASI2_DONE);
    CHECK_EQ(r.of.i, reps[made / 2]); /* the freed slot is used again */
    uint32_t dropped = 0;
    for (uint32_t i = 0; i < made; i++)
        if (i != made / 2)
            dropped += drop2(f.w, "pollable", reps[i]) == WP_WASI2_DONE;
    CHECK_EQ(dropped, made - 1);
    CHECK_EQ(drop2(f.w, "output-stream", r.of.i), WP_WASI2_DONE);
    free(reps);
    teardown(&f);
}

/* ---- Pollables --------------------------------------------------------------------------- */

static void test_input_pollable(void) {
    fx f;
    CHECK(setup(&f));
    int64_t in = get_stream(&f, "wasi:cli/stdin", "get-stdin");
    wp_value r;
    CHECK_EQ(call2(f.w, IO, "[method]input-stream.subscribe", &r, 1, v_int(in)), WP_WASI2_DONE);
    int64_t p = r.of.i;
    CHECK_EQ(call2(f.w, POLL, "[method]pollable.ready", &r, 1, v_int(p)), WP_WASI2_DONE);
    CHECK(r.kind == WP_VBOOL && !r.of.b);
    CHECK_EQ(call2(f.w, POLL, "[method]pollable.block", &r, 1, v_int(p)), WP_WASI2_PENDING);
    CHECK_EQ(write(f.in[1], "!", 1), 1);
    CHECK_EQ(wp_wasi2_complete(f.w, &r), WP_WASI2_DONE);
    CHECK_EQ(r.kind, WP_VNIL);
    CHECK_EQ(call2(f.w, POLL, "[method]pollable.ready", &r, 1, v_int(p)), WP_WASI2_DONE);
    CHECK(r.of.b);
    /* The stream goes first: its pollable is then always ready, never dangling. */
    CHECK_EQ(drop2(f.w, "input-stream", in), WP_WASI2_DONE);
    CHECK_EQ(call2(f.w, POLL, "[method]pollable.block", &r, 1, v_int(p)), WP_WASI2_DONE);
    CHECK_EQ(drop2(f.w, "pollable", p), WP_WASI2_DONE);
    teardown(&f);
}

static void test_clock_pollables(void) {
    fx f;
    CHECK(setup(&f));
    wp_value r;
    CHECK_EQ(call2(f.w, MONO, "now", &r, 0), WP_WASI2_DONE);
    uint64_t t0 = (uint64_t)r.of.i;
    CHECK_EQ(call2(f.w, MONO, "subscribe-duration", &r, 1, v_int(30000000)), WP_WASI2_DONE);
    int64_t later = r.of.i;
    CHECK_EQ(call2(f.w, MONO, "subscribe-instant", &r, 1, v_int(0)), WP_WASI2_DONE);
    int64_t past = r.of.i;
    CHECK_EQ(call2(f.w, POLL, "[method]pollable.ready", &r, 1, v_int(later)), WP_WASI2_DONE);
    CHECK(r.kind == WP_VBOOL && !r.of.b);
    CHECK_EQ(call2(f.w, POLL, "[method]pollable.ready", &r, 1, v_int(past)), WP_WASI2_DONE);
    CHECK(r.of.b);
    /* poll returns the ready ones' indexes at once. */
    CHECK_EQ(call2(f.w, POLL, "poll", &r, 1, v_list(2, v_int(later), v_int(past))),
             WP_WASI2_DONE);
    CHECK_EQ(wp_value_len(&r), 1);
    CHECK_EQ(wp_value_at(&r, 0)->of.i, 1);
    wp_value_free(&r);
    /* block waits for the deadline: no descriptors, the deadline ~30 ms after t0. */
    CHECK_EQ(call2(f.w, POLL, "[method]pollable.block", &r, 1, v_int(later)), WP_WASI2_PENDING);
    wp_wasi_wait wt;
    CHECK(wp_wasi2_pending(f.w, &wt));
    CHECK_EQ(wt.nfds, 0);
    CHECK(wt.deadline >= t0 + 30000000u);
    CHECK(wt.deadline < t0 + 30000000u + 5000000000u);
    CHECK(wt.deadline > wp_wasi_now()); /* 30 ms cannot have passed on any machine... */
    while (wp_wasi_now() < wt.deadline) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    CHECK_EQ(wp_wasi2_complete(f.w, &r), WP_WASI2_DONE);
    CHECK(wp_wasi_now() >= t0 + 30000000u);
    /* poll with nothing ready waits for the earliest deadline. */
    CHECK_EQ(call2(f.w, MONO, "subscribe-duration", &r, 1, v_int(3600000000000)),
             WP_WASI2_DONE);
    int64_t hour = r.of.i;
    CHECK_EQ(call2(f.w, MONO, "subscribe-duration", &r, 1, v_int(20000000)), WP_WASI2_DONE);
    int64_t soon = r.of.i;
    CHECK_EQ(call2(f.w, POLL, "poll", &r, 1, v_list(2, v_int(hour), v_int(soon))),
             WP_WASI2_PENDING);
    CHECK(wp_wasi2_pending(f.w, &wt));
    CHECK(wt.deadline < wp_wasi_now() + 3600000000000u / 2);
    while (wp_wasi_now() < wt.deadline) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    CHECK_EQ(wp_wasi2_complete(f.w, &r), WP_WASI2_DONE);
    CHECK_EQ(wp_value_len(&r), 1);
    CHECK_EQ(wp_value_at(&r, 0)->of.i, 1);
    wp_value_free(&r);
    /* Cancelled: nothing waits. */
    CHECK_EQ(call2(f.w, POLL, "poll", &r, 1, v_list(1, v_int(hour))), WP_WASI2_PENDING);
    wp_wasi2_cancel(f.w);
    CHECK(!wp_wasi2_pending(f.w, &wt));
    /* An empty list, or something that is not a pollable, is the guest's mistake. */
    CHECK_EQ(call2(f.w, POLL, "poll", &r, 1, v_list(0)), WP_WASI2_TRAP);
    CHECK_STR_CONTAINS(wp_wasi2_trap_msg(f.w), "empty");
    CHECK_EQ(call2(f.w, POLL, "poll", &r, 1, v_list(1, v_int(12345))), WP_WASI2_TRAP);
    CHECK_EQ(call2(f.w, POLL, "poll", &r, 1, v_int(later)), WP_WASI2_TRAP);
    int64_t ps[] = {later, past, hour, soon};
    for (int i = 0; i < 4; i++)
        CHECK_EQ(drop2(f.w, "pollable", ps[i]), WP_WASI2_DONE);
    teardown(&f);
}

static void test_poll_mixed(void) {
    fx f;
    CHECK(setup(&f));
    int64_t in = get_stream(&f, "wasi:cli/stdin", "get-stdin");
    wp_value r;
    CHECK_EQ(call2(f.w, IO, "[method]input-stream.subscribe", &r, 1, v_int(in)), WP_WASI2_DONE);
    int64_t pin = r.of.i;
    CHECK_EQ(call2(f.w, MONO, "subscribe-duration", &r, 1, v_int(3600000000000)),
             WP_WASI2_DONE);
    int64_t hour = r.of.i;
    CHECK_EQ(call2(f.w, POLL, "poll", &r, 1, v_list(2, v_int(hour), v_int(pin))),
             WP_WASI2_PENDING);
    wp_wasi_wait wt;
    CHECK(wp_wasi2_pending(f.w, &wt));
    CHECK_EQ(wt.nfds, 1);
    CHECK_EQ(wt.fds[0].fd, f.in[0]);
    CHECK(wt.deadline != WP_WASI_NO_DEADLINE);
    CHECK_EQ(write(f.in[1], "go", 2), 2);
    CHECK_EQ(wp_wasi2_complete(f.w, &r), WP_WASI2_DONE);
    CHECK_EQ(wp_value_len(&r), 1);
    CHECK_EQ(wp_value_at(&r, 0)->of.i, 1);
    wp_value_free(&r);
    CHECK_EQ(drop2(f.w, "pollable", pin), WP_WASI2_DONE);
    CHECK_EQ(drop2(f.w, "pollable", hour), WP_WASI2_DONE);
    CHECK_EQ(drop2(f.w, "input-stream", in), WP_WASI2_DONE);
    teardown(&f);
}

/* ---- wasi:clocks, wasi:random ------------------------------------------------------------ */

static void test_wall_clock(void) {
    fx f;
    CHECK(setup(&f));
    wp_value r;
    time_t before = time(NULL);
    CHECK_EQ(call2(f.w, "wasi:clocks/wall-clock", "now", &r, 0), WP_WASI2_DONE);
    const wp_value *s = wp_value_map_get(&r, "seconds");
    const wp_value *ns = wp_value_map_get(&r, "nanoseconds");
    CHECK(s && ns);
    CHECK(s && s->of.i >= (int64_t)before && s->of.i <= (int64_t)time(NULL));
    CHECK(ns && ns->of.i >= 0 && ns->of.i < 1000000000);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, "wasi:clocks/wall-clock", "resolution", &r, 0), WP_WASI2_DONE);
    ns = wp_value_map_get(&r, "nanoseconds");
    s = wp_value_map_get(&r, "seconds");
    CHECK(s && ns && (s->of.i > 0 || ns->of.i > 0));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, MONO, "resolution", &r, 0), WP_WASI2_DONE);
    CHECK(r.kind == WP_VINT && r.of.i > 0);
    CHECK_EQ(call2(f.w, MONO, "now", &r, 0), WP_WASI2_DONE);
    int64_t a = r.of.i;
    CHECK_EQ(call2(f.w, MONO, "now", &r, 0), WP_WASI2_DONE);
    CHECK(r.of.i >= a);
    teardown(&f);
}

static void test_random(void) {
    fx f;
    CHECK(setup(&f));
    wp_value a;
    wp_value b;
    CHECK_EQ(call2(f.w, "wasi:random/random", "get-random-bytes", &a, 1, v_int(32)),
             WP_WASI2_DONE);
    CHECK_EQ(call2(f.w, "wasi:random/insecure", "get-insecure-random-bytes", &b, 1, v_int(32)),
             WP_WASI2_DONE);
    size_t na;
    size_t nb;
    const char *pa = wp_value_str(&a, &na);
    const char *pb = wp_value_str(&b, &nb);
    CHECK_EQ(a.kind, WP_VBYTES);
    CHECK(na == 32 && nb == 32 && memcmp(pa, pb, 32) != 0); /* 2^-256 to fail by chance */
    wp_value_free(&a);
    wp_value_free(&b);
    CHECK_EQ(call2(f.w, "wasi:random/random", "get-random-bytes", &a, 1, v_int(0)),
             WP_WASI2_DONE);
    CHECK_EQ(wp_value_str(&a, &na) != NULL && na == 0, 1);
    wp_value_free(&a);
    CHECK_EQ(call2(f.w, "wasi:random/random", "get-random-bytes", &a, 1, v_int(1 << 21)),
             WP_WASI2_TRAP);
    CHECK_EQ(call2(f.w, "wasi:random/random", "get-random-u64", &a, 0), WP_WASI2_DONE);
    CHECK_EQ(call2(f.w, "wasi:random/insecure", "get-insecure-random-u64", &b, 0),
             WP_WASI2_DONE);
    CHECK(a.kind == WP_VINT && b.kind == WP_VINT && a.of.i != b.of.i);
    CHECK_EQ(call2(f.w, "wasi:random/insecure-seed", "insecure-seed", &a, 0), WP_WASI2_DONE);
    CHECK_EQ(call2(f.w, "wasi:random/insecure-seed", "insecure-seed", &b, 0), WP_WASI2_DONE);
    CHECK_EQ(wp_value_len(&a), 2);
    CHECK(wp_value_equal(&a, &b)); /* the seed stays the same for the context's life */
    wp_value_free(&a);
    wp_value_free(&b);
    teardown(&f);
}

/* ---- Out of memory ----------------------------------------------------------------------- */

static void test_new_out_of_memory(void) {
    for (long k = 0;; k++) {
        test_heap th;
        test_heap_init(&th);
        test_heap_fail_at(&th, k);
        wp_wasi_config cfg;
        wp_wasi_config_init(&cfg);
        const char *args[] = {"prog"};
        cfg.args = args;
        cfg.nargs = 1;
        cfg.cwd = NULL;
        cfg.heap = &th.heap;
        wp_wasi2 *w = NULL;
        wp_err err;
        wp_status st = wp_wasi2_new(&cfg, &w, &err);
        if (st == WP_OK) {
            wp_value r;
            wp_wasi2_outcome o = call2(w, "wasi:cli/stdout", "get-stdout", &r, 0);
            if (o == WP_WASI2_DONE)
                CHECK_EQ(drop2(w, "output-stream", r.of.i), WP_WASI2_DONE);
            else
                CHECK_STR_CONTAINS(wp_wasi2_trap_msg(w), "out of memory");
            wp_wasi2_free(w);
            CHECK_EQ(th.heap.used, 0);
            if (o == WP_WASI2_DONE)
                break;
            continue;
        }
        CHECK_EQ(st, WP_ERR_NOMEM);
        CHECK_EQ(th.heap.used, 0);
    }
}

/* One step of the scenario below: DONE (or PENDING, for poll) goes on; a trap must be for
 * memory and ends the scenario. */
static bool step(wp_wasi2 *w, wp_wasi2_outcome o, bool *oom) {
    if (o == WP_WASI2_TRAP) {
        CHECK_STR_CONTAINS(wp_wasi2_trap_msg(w), "out of memory");
        *oom = true;
        return false;
    }
    return true;
}

/* Uses every kind of allocation the context makes: table growth, output buffers, read
 * buffers, poll lists, wait descriptors, preopen descriptors. False if memory ran out. */
static bool scenario(wp_wasi2 *w, int in_write) {
    bool oom = false;
    wp_value r;
    int64_t reps[40];
    int n = 0;
    for (int i = 0; i < 20; i++) {
        if (!step(w, call2(w, "wasi:cli/stdout", "get-stdout", &r, 0), &oom))
            return false;
        reps[n++] = r.of.i;
    }
    bool ok = step(w, call2(w, IO, "[method]output-stream.write", &r, 2, v_int(reps[0]),
                            v_str("x")), &oom);
    wp_value_free(&r);
    if (ok && (ok = step(w, call2(w, "wasi:cli/stdin", "get-stdin", &r, 0), &oom)))
        reps[n++] = r.of.i;
    int64_t in = reps[n - 1];
    CHECK_EQ(write(in_write, "ab", 2), 2);
    if (ok)
        ok = step(w, call2(w, IO, "[method]input-stream.read", &r, 2, v_int(in), v_int(1)), &oom);
    wp_value_free(&r);
    if (ok && (ok = step(w, call2(w, IO, "[method]input-stream.subscribe", &r, 1, v_int(in)),
                         &oom)))
        reps[n++] = r.of.i;
    if (ok && (ok = step(w, call2(w, MONO, "subscribe-duration", &r, 1, v_int(1000000000)),
                         &oom)))
        reps[n++] = r.of.i;
    if (ok)
        ok = step(w, call2(w, POLL, "poll", &r, 1, v_list(1, v_int(reps[n - 1]))), &oom);
    wp_value_free(&r);
    wp_wasi2_cancel(w);
    if (ok)
        ok = step(w, call2(w, "wasi:filesystem/preopens", "get-directories", &r, 0), &oom);
    wp_value_free(&r); /* its descriptors stay with the context: freed with it */
    return ok && !oom;
}

static void test_calls_out_of_memory(void) {
    fx f;
    CHECK(setup(&f)); /* for its pipes and directory */
    wp_wasi_mount mounts[] = {{f.dir, "/rw", false}};
    for (long k = 0;; k++) {
        test_heap th;
        test_heap_init(&th);
        wp_wasi_config cfg;
        wp_wasi_config_init(&cfg);
        cfg.stdin_fd = f.in[0];
        cfg.stdout_fd = f.out[1];
        cfg.mounts = mounts;
        cfg.nmounts = 1;
        cfg.heap = &th.heap;
        wp_wasi2 *w = NULL;
        wp_err err;
        CHECK_EQ(wp_wasi2_new(&cfg, &w, &err), WP_OK);
        test_heap_fail_at(&th, k);
        bool done = scenario(w, f.in[1]);
        wp_wasi2_free(w);
        CHECK_EQ(th.heap.used, 0); /* nothing leaked on any failure */
        drain_pipe(f.in[0]);
        drain_pipe(f.out[0]);
        if (done)
            break;
        CHECK(k < 1000);
        if (k >= 1000)
            break;
    }
    teardown(&f);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN); /* a write to a pipe without reader must fail, not kill us */
    RUN_TEST(test_tables);
    RUN_TEST(test_link_group_errors);
    RUN_TEST(test_cli_environment);
    RUN_TEST(test_cli_exit);
    RUN_TEST(test_cli_terminals);
    RUN_TEST(test_new_errors);
    RUN_TEST(test_stdout_write);
    RUN_TEST(test_stdout_full_pipe_waits);
    RUN_TEST(test_output_budget);
    RUN_TEST(test_stdout_reader_gone);
    RUN_TEST(test_closed_stderr);
    RUN_TEST(test_stdin_read);
    RUN_TEST(test_stream_failure_is_an_error);
    RUN_TEST(test_splice);
    RUN_TEST(test_bad_handles);
    RUN_TEST(test_resource_limit);
    RUN_TEST(test_input_pollable);
    RUN_TEST(test_clock_pollables);
    RUN_TEST(test_poll_mixed);
    RUN_TEST(test_wall_clock);
    RUN_TEST(test_random);
    RUN_TEST(test_new_out_of_memory);
    RUN_TEST(test_calls_out_of_memory);
    return TEST_EXIT();
}
