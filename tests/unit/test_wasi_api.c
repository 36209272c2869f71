/* test_wasi_api.c: every wasi_snapshot_preview1 function through a module that imports them
 * all and exports a wrapper for each, so a test can call any of them with any arguments and
 * look at guest memory: results, and the errno of each failure (fault, badf, inval,
 * notcapable, rofs, ...). Also the pending/complete protocol, configuration and link errors,
 * and out-of-memory paths. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../src/wasi/internal.h"
#include "test.h"
#include "wippy/wat.h"

static const struct row {
    const char *name;
    const char *params;
    const char *results;
} rows[] = {
#define X(name, params, results) {#name, params, results},
    WP_WASI_FUNCS(X)
#undef X
};

/* Guest memory layout used by the tests. */
enum { OUT = 0x100, OUT2 = 0x108, IOV = 0x200, BUF = 0x1000, PATH = 0x4000, PATH2 = 0x5000,
       BAD = 0xfffffff0u, MEM_SIZE = 0x10000 };

static void append(char **p, size_t *left, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*p, *left, fmt, ap);
    va_end(ap);
    *p += n;
    *left -= (size_t)n;
}

static void append_types(char **p, size_t *left, const char *kind, const char *types) {
    if (!*types)
        return;
    append(p, left, " (%s", kind);
    for (const char *t = types; *t; t++)
        append(p, left, " %s", *t == 'I' ? "i64" : "i32");
    append(p, left, ")");
}

/* A module importing every WASI function and exporting "NAME" calling it with its params. */
static char *trampoline_wat(void) {
    size_t cap = 64 * 1024;
    char *text = malloc(cap);
    char *p = text;
    size_t left = cap;
    append(&p, &left, "(module\n");
    for (size_t i = 0; i < WP_ARRAY_LEN(rows); i++) {
        append(&p, &left, "(import \"wasi_snapshot_preview1\" \"%s\" (func $%s", rows[i].name,
               rows[i].name);
        append_types(&p, &left, "param", rows[i].params);
        append_types(&p, &left, "result", rows[i].results);
        append(&p, &left, "))\n");
    }
    append(&p, &left, "(memory (export \"memory\") 1)\n");
    for (size_t i = 0; i < WP_ARRAY_LEN(rows); i++) {
        append(&p, &left, "(func (export \"%s\")", rows[i].name);
        append_types(&p, &left, "param", rows[i].params);
        append_types(&p, &left, "result", rows[i].results);
        for (size_t k = 0; k < strlen(rows[i].params); k++)
            append(&p, &left, " local.get %zu", k);
        append(&p, &left, " call $%s)\n", rows[i].name);
    }
    append(&p, &left, ")\n");
    return text;
}

typedef struct fx {
    char dir[256]; /* <tmp>/rw (guest fd 3, "/rw") and <tmp>/ro (fd 4, "/ro", read-only) */
    int in[2];     /* the guest's stdin is in[0]; the test writes in[1] */
    int out[2];    /* the guest's stdout is out[1]; the test reads out[0] */
    int sock[2];
    int stream[2]; /* a stream socket pair: guest fd 6 */
    int lent[2];   /* the sockets lent to the guest */   /* a datagram socket pair: sock[0] is lent as guest fd 5 */
    wp_wasi *w;
    wp_store *s;
    wp_module *m;
    wp_instance *inst;
    wp_exec *x;
    uint8_t *mem;
} fx;

static wp_module *trampoline;

static bool load_trampoline(void) {
    char *text = trampoline_wat();
    uint8_t *bin = NULL;
    size_t len = 0;
    wp_err err;
    bool ok = wp_wat_to_wasm(text, strlen(text), &bin, &len, &err) == WP_OK &&
              wp_module_decode(bin, len, &trampoline, &err) == WP_OK;
    if (!ok)
        fprintf(stderr, "trampoline: %s\n", err.msg);
    free(text);
    wp_wat_free(bin);
    return ok;
}

static void sub(const fx *f, char *buf, size_t cap, const char *rel) {
    snprintf(buf, cap, "%s/%s", f->dir, rel);
}

static bool make_dirs(fx *f) {
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/wippy-api.XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return false;
    char p[512];
    sub(f, p, sizeof p, "rw");
    mkdir(p, 0755);
    sub(f, p, sizeof p, "ro");
    mkdir(p, 0755);
    sub(f, p, sizeof p, "ro/file.txt");
    FILE *fp = fopen(p, "w");
    if (!fp)
        return false;
    fputs("read only", fp);
    fclose(fp);
    return pipe(f->in) == 0 && pipe(f->out) == 0 &&
           socketpair(AF_UNIX, SOCK_DGRAM, 0, f->sock) == 0 &&
           socketpair(AF_UNIX, SOCK_STREAM, 0, f->stream) == 0;
}

static bool setup_flags(fx *f, uint32_t flags) {
    memset(f, 0, sizeof *f);
    if (!make_dirs(f))
        return false;
    char rw[512];
    char ro[512];
    sub(f, rw, sizeof rw, "rw");
    sub(f, ro, sizeof ro, "ro");
    wp_wasi_mount mounts[] = {{rw, "/rw", false}, {ro, "/ro", true}};
    const char *args[] = {"prog", "one", "two"};
    const char *env[] = {"A=1", "LONGER=value"};
    wp_wasi_config cfg;
    wp_wasi_config_init(&cfg);
    cfg.args = args;
    cfg.nargs = 3;
    cfg.env = env;
    cfg.nenv = 2;
    cfg.mounts = mounts;
    cfg.nmounts = 2;
    cfg.stdin_fd = f->in[0];
    cfg.stdout_fd = f->out[1];
    cfg.stderr_fd = -1; /* closed for the guest */
    f->lent[0] = f->sock[0];
    f->lent[1] = f->stream[0];
    cfg.sockets = f->lent;
    cfg.nsockets = 2;
    cfg.flags = flags;
    wp_err err;
    wp_extern imports[WP_ARRAY_LEN(rows)];
    bool ok = wp_wasi_new(&cfg, &f->w, &err) == WP_OK && wp_store_new(NULL, &f->s, &err) == WP_OK &&
              wp_wasi_link(f->w, f->s, trampoline, imports, &err) == WP_OK &&
              wp_instance_new(f->s, trampoline, imports, WP_ARRAY_LEN(rows), &f->inst, &err) ==
                  WP_OK &&
              wp_exec_new(f->s, &f->x, &err) == WP_OK;
    if (!ok) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return false;
    }
    f->mem = wp_memory_data(wp_instance_memory(f->inst));
    return true;
}

static bool setup(fx *f) { return setup_flags(f, 0); }

static void teardown(fx *f) {
    wp_store_free(f->s);
    wp_wasi_free(f->w);
    for (int i = 0; i < 2; i++) {
        close(f->in[i]);
        close(f->out[i]);
        close(f->sock[i]);
        close(f->stream[i]);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    CHECK_EQ(system(cmd), 0);
}

enum { PENDING = -2, TRAPPED = -3 };

/* Calls export 'name' with args (i32 or i64 as its type says); returns the errno it returned,
 * PENDING or TRAPPED. */
static long long call_n(fx *f, const char *name, const uint64_t *a, size_t n) {
    wp_extern e;
    if (!wp_instance_export(f->inst, name, strlen(name), &e)) {
        fprintf(stderr, "no export %s\n", name);
        return TRAPPED;
    }
    wp_functype t = wp_func_type(e.of.func);
    wp_val args[10];
    for (size_t i = 0; i < n && i < t.nparams; i++)
        args[i] = t.types[i] == WP_I64 ? wp_val_i64(a[i]) : wp_val_i32((uint32_t)a[i]);
    wp_err err;
    if (n != t.nparams || wp_exec_begin(f->x, e.of.func, args, t.nparams, &err) != WP_OK) {
        fprintf(stderr, "%s: bad call\n", name);
        return TRAPPED;
    }
    wp_run_state rs = wp_exec_run(f->x, WP_BUDGET_UNLIMITED);
    if (rs == WP_RUN_PENDING)
        return PENDING;
    if (rs != WP_RUN_DONE)
        return TRAPPED;
    wp_val r = {0};
    return wp_exec_results(f->x, &r, 1) ? (long long)r.of.i32 : 0;
}

#define CALL(f, name, ...)                                                                         \
    call_n(f, name, (const uint64_t[]){__VA_ARGS__},                                             \
           sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t))
#define CALL0(f, name) call_n(f, name, NULL, 0)

static uint32_t get32(const fx *f, uint32_t at) { return wp__wasi_get32(f->mem + at); }
static uint64_t get64(const fx *f, uint32_t at) { return wp__wasi_get64(f->mem + at); }

/* Puts a string at guest 'at' and returns its length. */
static uint32_t put(fx *f, uint32_t at, const char *s) {
    memcpy(f->mem + at, s, strlen(s));
    return (uint32_t)strlen(s);
}

/* One iovec at IOV over (buf, len). */
static void iov1(fx *f, uint32_t buf, uint32_t len) {
    wp__wasi_le32(f->mem + IOV, buf);
    wp__wasi_le32(f->mem + IOV + 4, len);
}

/* Opens /rw/<path> (fd 3) with oflags and everything a file may have; returns the fd or -1. */
static long long open_rw(fx *f, const char *path, uint32_t oflags) {
    uint32_t n = put(f, PATH, path);
    long long e = CALL(f, "path_open", 3, 0, PATH, n, oflags, WP_WASI_RIGHTS_FILE, 0, 0, OUT);
    return e == 0 ? (long long)get32(f, OUT) : -1;
}

/* ---- args, environ, clocks, random ------------------------------------------------------- */

static void test_args_env(void) {
    fx f;
    if (!setup(&f))
        return;
    CHECK_EQ(CALL(&f, "args_sizes_get", OUT, OUT2), 0);
    CHECK_EQ(get32(&f, OUT), 3);
    CHECK_EQ(get32(&f, OUT2), strlen("prog") + strlen("one") + strlen("two") + 3);
    CHECK_EQ(CALL(&f, "args_get", IOV, BUF), 0);
    CHECK_EQ(get32(&f, IOV), BUF);
    CHECK(strcmp((char *)f.mem + get32(&f, IOV + 8), "two") == 0);
    CHECK_EQ(CALL(&f, "environ_sizes_get", OUT, OUT2), 0);
    CHECK_EQ(get32(&f, OUT), 2);
    CHECK_EQ(get32(&f, OUT2), strlen("A=1") + strlen("LONGER=value") + 2);
    CHECK_EQ(CALL(&f, "environ_get", IOV, BUF), 0);
    CHECK(strcmp((char *)f.mem + get32(&f, IOV + 4), "LONGER=value") == 0);
    CHECK_EQ(CALL(&f, "args_sizes_get", BAD, OUT2), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "args_get", IOV, MEM_SIZE - 4), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "environ_get", MEM_SIZE - 4, BUF), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "environ_sizes_get", OUT, MEM_SIZE), WP_WASI_EFAULT);
    teardown(&f);
}

static void test_clocks_random(void) {
    fx f;
    if (!setup(&f))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    CHECK_EQ(CALL(&f, "clock_time_get", WP_WASI_CLOCK_REALTIME, 1, OUT), 0);
    uint64_t t = get64(&f, OUT) / 1000000000u;
    CHECK(t >= (uint64_t)ts.tv_sec && t <= (uint64_t)ts.tv_sec + 2);
    for (uint32_t id = 0; id < 4; id++) {
        CHECK_EQ(CALL(&f, "clock_res_get", id, OUT), 0);
        CHECK(get64(&f, OUT) > 0);
        CHECK_EQ(CALL(&f, "clock_time_get", id, 0, OUT), 0);
    }
    CHECK_EQ(CALL(&f, "clock_time_get", 4, 0, OUT), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "clock_res_get", 99, OUT), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "clock_time_get", 0, 0, MEM_SIZE - 7), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "clock_res_get", 0, BAD), WP_WASI_EFAULT);
    memset(f.mem + BUF, 0, 64);
    CHECK_EQ(CALL(&f, "random_get", BUF, 64), 0);
    int zeros = 0;
    for (int i = 0; i < 64; i++)
        zeros += f.mem[BUF + i] == 0;
    CHECK(zeros < 16);
    CHECK_EQ(CALL(&f, "random_get", BUF, 0), 0);
    CHECK_EQ(CALL(&f, "random_get", MEM_SIZE - 8, 9), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "random_get", 0xffffffffu, 2), WP_WASI_EFAULT); /* wraps past 2^32 */
    teardown(&f);
}

static void test_proc(void) {
    fx f;
    if (!setup(&f))
        return;
    CHECK_EQ(CALL(&f, "proc_exit", 7), TRAPPED);
    CHECK_EQ(wp_exec_trap(f.x)->kind, WP_TRAP_EXIT);
    CHECK_EQ(wp_exec_trap(f.x)->exit_code, 7);
    CHECK_EQ(CALL(&f, "proc_raise", 0), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "proc_raise", 31), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "proc_raise", 16), 0);                /* SIGCHLD: ignored */
    CHECK_EQ(CALL(&f, "proc_raise", 18), WP_WASI_ENOTSUP); /* SIGSTOP */
    CHECK_EQ(CALL(&f, "proc_raise", 15), TRAPPED);         /* SIGTERM: terminates */
    CHECK_EQ(wp_exec_trap(f.x)->kind, WP_TRAP_HOST);
    CHECK_STR_CONTAINS(wp_exec_trap(f.x)->msg, "SIGTERM");
    teardown(&f);
}

/* ---- Descriptors ------------------------------------------------------------------------- */

static void test_stdio_rw(void) {
    fx f;
    if (!setup(&f))
        return;
    iov1(&f, BUF, put(&f, BUF, "hello"));
    CHECK_EQ(CALL(&f, "fd_write", 1, IOV, 1, OUT), 0);
    CHECK_EQ(get32(&f, OUT), 5);
    char got[16] = {0};
    CHECK_EQ(read(f.out[0], got, sizeof got), 5);
    CHECK(memcmp(got, "hello", 5) == 0);
    CHECK_EQ(write(f.in[1], "abc", 3), 3);
    iov1(&f, BUF, 16);
    CHECK_EQ(CALL(&f, "fd_read", 0, IOV, 1, OUT), 0);
    CHECK_EQ(get32(&f, OUT), 3);
    CHECK(memcmp(f.mem + BUF, "abc", 3) == 0);
    /* Faults: the iovec array, a buffer, the count; nothing is consumed or written. */
    CHECK_EQ(CALL(&f, "fd_write", 1, MEM_SIZE - 4, 1, OUT), WP_WASI_EFAULT);
    iov1(&f, MEM_SIZE - 2, 3);
    CHECK_EQ(CALL(&f, "fd_write", 1, IOV, 1, OUT), WP_WASI_EFAULT);
    iov1(&f, BUF, 1);
    CHECK_EQ(CALL(&f, "fd_write", 1, IOV, 1, BAD), WP_WASI_EFAULT);
    CHECK_EQ(write(f.in[1], "z", 1), 1);
    CHECK_EQ(CALL(&f, "fd_read", 0, IOV, 1, MEM_SIZE), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "fd_read", 0, IOV, 1, OUT), 0); /* the byte is still there */
    CHECK_EQ(f.mem[BUF], 'z');
    CHECK_EQ(CALL(&f, "fd_write", 1, IOV, 2000, OUT), WP_WASI_EINVAL); /* over IOV_MAX */
    CHECK_EQ(CALL(&f, "fd_write", 99, IOV, 1, OUT), WP_WASI_EBADF);
    CHECK_EQ(CALL(&f, "fd_read", 1, IOV, 1, OUT), WP_WASI_ENOTCAPABLE); /* write end only */
    CHECK_EQ(CALL(&f, "fd_write", 0, IOV, 1, OUT), WP_WASI_ENOTCAPABLE);
    CHECK_EQ(CALL(&f, "fd_write", 2, IOV, 1, OUT), WP_WASI_EBADF); /* stderr was not lent */
    /* Zero iovecs: nothing to do. */
    CHECK_EQ(CALL(&f, "fd_write", 1, IOV, 0, OUT), 0);
    CHECK_EQ(get32(&f, OUT), 0);
    teardown(&f);
}

static void test_fdstat(void) {
    fx f;
    if (!setup(&f))
        return;
    CHECK_EQ(CALL(&f, "fd_fdstat_get", 0, BUF), 0);
    CHECK_EQ(f.mem[BUF], WP_WASI_FILETYPE_UNKNOWN); /* a pipe */
    CHECK(get64(&f, BUF + 8) & WP_WASI_RIGHT_FD_READ);
    CHECK(!(get64(&f, BUF + 8) & WP_WASI_RIGHT_FD_SEEK));
    CHECK_EQ(CALL(&f, "fd_fdstat_get", 3, BUF), 0);
    CHECK_EQ(f.mem[BUF], WP_WASI_FILETYPE_DIRECTORY);
    CHECK_EQ(get64(&f, BUF + 8), WP_WASI_RIGHTS_DIR);
    CHECK_EQ(get64(&f, BUF + 16), WP_WASI_RIGHTS_DIR_INHERITING);
    CHECK_EQ(CALL(&f, "fd_fdstat_get", 3, MEM_SIZE - 23), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "fd_fdstat_get", 42, BUF), WP_WASI_EBADF);
    /* Rights can be dropped, never added back. */
    uint64_t fewer = WP_WASI_RIGHTS_DIR & ~WP_WASI_RIGHT_PATH_OPEN;
    CHECK_EQ(CALL(&f, "fd_fdstat_set_rights", 3, fewer, WP_WASI_RIGHTS_FILE), 0);
    CHECK_EQ(CALL(&f, "fd_fdstat_set_rights", 3, WP_WASI_RIGHTS_DIR, 0), WP_WASI_ENOTCAPABLE);
    CHECK_EQ(CALL(&f, "fd_fdstat_set_rights", 3, fewer, WP_WASI_RIGHTS_DIR_INHERITING),
             WP_WASI_ENOTCAPABLE);
    CHECK_EQ(open_rw(&f, "x", WP_WASI_OFLAG_CREAT), -1);
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH, 1, 0, 0, 0, 0, OUT), WP_WASI_ENOTCAPABLE);
    CHECK_EQ(CALL(&f, "fd_fdstat_set_rights", 9, 0, 0), WP_WASI_EBADF);
    /* Flags: append and nonblock change; the sync flags are fixed at open. */
    CHECK_EQ(CALL(&f, "fd_fdstat_set_flags", 0, WP_WASI_FDFLAG_NONBLOCK), 0);
    CHECK_EQ(CALL(&f, "fd_fdstat_get", 0, BUF), 0);
    CHECK_EQ(f.mem[BUF + 2], WP_WASI_FDFLAG_NONBLOCK);
    CHECK_EQ(CALL(&f, "fd_fdstat_set_flags", 0, WP_WASI_FDFLAG_SYNC), WP_WASI_ENOTSUP);
    CHECK_EQ(CALL(&f, "fd_fdstat_set_flags", 0, 64), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "fd_fdstat_set_flags", 77, 0), WP_WASI_EBADF);
    teardown(&f);
}

static void test_prestat(void) {
    fx f;
    if (!setup(&f))
        return;
    CHECK_EQ(CALL(&f, "fd_prestat_get", 3, BUF), 0);
    CHECK_EQ(f.mem[BUF], 0);
    CHECK_EQ(get32(&f, BUF + 4), 3);
    CHECK_EQ(CALL(&f, "fd_prestat_dir_name", 4, BUF, 3), 0);
    CHECK(memcmp(f.mem + BUF, "/ro", 3) == 0);
    CHECK_EQ(CALL(&f, "fd_prestat_dir_name", 4, BUF, 2), WP_WASI_ENAMETOOLONG);
    CHECK_EQ(CALL(&f, "fd_prestat_dir_name", 4, MEM_SIZE - 1, 3), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "fd_prestat_get", 0, BUF), WP_WASI_EBADF); /* not a preopen */
    CHECK_EQ(CALL(&f, "fd_prestat_get", 5, BUF), WP_WASI_EBADF);  /* no such fd */
    CHECK_EQ(CALL(&f, "fd_prestat_get", 3, MEM_SIZE - 4), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "fd_prestat_dir_name", 0, BUF, 8), WP_WASI_EBADF);
    teardown(&f);
}

static void test_files(void) {
    fx f;
    if (!setup(&f))
        return;
    long long fd = open_rw(&f, "file", WP_WASI_OFLAG_CREAT);
    CHECK_EQ(fd, 2); /* the lowest free number: the guest has no stderr */
    iov1(&f, BUF, put(&f, BUF, "0123456789"));
    CHECK_EQ(CALL(&f, "fd_write", fd, IOV, 1, OUT), 0);
    CHECK_EQ(CALL(&f, "fd_seek", fd, (uint64_t)-4, WP_WASI_WHENCE_CUR, OUT), 0);
    CHECK_EQ(get64(&f, OUT), 6);
    CHECK_EQ(CALL(&f, "fd_tell", fd, OUT), 0);
    CHECK_EQ(get64(&f, OUT), 6);
    CHECK_EQ(CALL(&f, "fd_seek", fd, 0, 3, OUT), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "fd_seek", fd, (uint64_t)-100, WP_WASI_WHENCE_SET, OUT), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "fd_seek", fd, 0, WP_WASI_WHENCE_END, MEM_SIZE - 7), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "fd_seek", 0, 0, WP_WASI_WHENCE_SET, OUT), WP_WASI_ENOTCAPABLE); /* pipe */
    iov1(&f, BUF + 100, 3);
    CHECK_EQ(CALL(&f, "fd_pread", fd, IOV, 1, 2, OUT), 0);
    CHECK(get32(&f, OUT) == 3 && memcmp(f.mem + BUF + 100, "234", 3) == 0);
    CHECK_EQ(CALL(&f, "fd_pread", fd, IOV, 1, (uint64_t)1 << 63, OUT), WP_WASI_EINVAL);
    iov1(&f, BUF, put(&f, BUF, "AB"));
    CHECK_EQ(CALL(&f, "fd_pwrite", fd, IOV, 1, 8, OUT), 0);
    CHECK_EQ(CALL(&f, "fd_pwrite", 0, IOV, 1, 0, OUT), WP_WASI_ENOTCAPABLE);
    CHECK_EQ(CALL(&f, "fd_filestat_get", fd, BUF), 0);
    CHECK_EQ(f.mem[BUF + 16], WP_WASI_FILETYPE_REGULAR_FILE);
    CHECK_EQ(get64(&f, BUF + 32), 10);
    CHECK_EQ(CALL(&f, "fd_filestat_get", fd, MEM_SIZE - 63), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "fd_filestat_set_size", fd, 4), 0);
    CHECK_EQ(CALL(&f, "fd_filestat_set_size", fd, (uint64_t)1 << 63), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "fd_filestat_set_times", fd, 5000000000u, 0, WP_WASI_FSTFLAG_MTIM), 0);
    CHECK_EQ(CALL(&f, "fd_filestat_get", fd, BUF), 0);
    CHECK_EQ(get64(&f, BUF + 32), 4);
    CHECK_EQ(get64(&f, BUF + 48), 0); /* mtim set to 0: the atim argument was not used */
    CHECK_EQ(CALL(&f, "fd_filestat_set_times", fd, 0, 0,
                  WP_WASI_FSTFLAG_ATIM | WP_WASI_FSTFLAG_ATIM_NOW), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "fd_filestat_set_times", fd, 0, 0, 16), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "fd_advise", fd, 0, 4, WP_WASI_ADVICE_MAX), 0);
    CHECK_EQ(CALL(&f, "fd_advise", fd, 0, 4, WP_WASI_ADVICE_MAX + 1), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "fd_allocate", fd, 0, 100), 0);
    CHECK_EQ(CALL(&f, "fd_allocate", fd, (uint64_t)1 << 62, (uint64_t)1 << 62), WP_WASI_EFBIG);
    CHECK_EQ(CALL(&f, "fd_sync", fd), 0);
    CHECK_EQ(CALL(&f, "fd_datasync", fd), 0);
    CHECK_EQ(CALL(&f, "fd_sync", 0), WP_WASI_ENOTCAPABLE);
    CHECK_EQ(CALL(&f, "fd_datasync", 50), WP_WASI_EBADF);
    CHECK_EQ(CALL(&f, "fd_close", fd), 0);
    CHECK_EQ(CALL(&f, "fd_close", fd), WP_WASI_EBADF);
    teardown(&f);
}

static void test_renumber(void) {
    fx f;
    if (!setup(&f))
        return;
    long long a = open_rw(&f, "a", WP_WASI_OFLAG_CREAT);
    long long b = open_rw(&f, "b", WP_WASI_OFLAG_CREAT);
    CHECK(a >= 0 && b > a);
    CHECK_EQ(CALL(&f, "fd_renumber", a, 99), WP_WASI_EBADF);
    CHECK_EQ(CALL(&f, "fd_renumber", 99, a), WP_WASI_EBADF);
    CHECK_EQ(CALL(&f, "fd_renumber", a, a), 0);
    iov1(&f, BUF, put(&f, BUF, "via b"));
    CHECK_EQ(CALL(&f, "fd_renumber", a, b), 0);
    CHECK_EQ(CALL(&f, "fd_write", b, IOV, 1, OUT), 0); /* b is now file "a" */
    CHECK_EQ(CALL(&f, "fd_write", a, IOV, 1, OUT), WP_WASI_EBADF);
    char p[512];
    sub(&f, p, sizeof p, "rw/a");
    struct stat st;
    CHECK(stat(p, &st) == 0 && st.st_size == 5);
    CHECK_EQ(open_rw(&f, "c", WP_WASI_OFLAG_CREAT), a); /* the lowest free number again */
    teardown(&f);
}

/* Records the offset of each dirent in a fd_readdir result at BUF; returns the count. */
static int dirents(const fx *f, uint32_t used, uint32_t *at, int cap) {
    int n = 0;
    for (uint32_t off = 0; off + WP_WASI_DIRENT_SIZE <= used; n++) {
        if (n < cap)
            at[n] = off;
        off += WP_WASI_DIRENT_SIZE + get32(f, BUF + off + 16);
    }
    return n;
}

static bool name_is(const fx *f, uint32_t at, const char *name) {
    return get32(f, BUF + at + 16) == strlen(name) &&
           memcmp(f->mem + BUF + at + WP_WASI_DIRENT_SIZE, name, strlen(name)) == 0;
}

static void test_readdir(void) {
    fx f;
    if (!setup(&f))
        return;
    const char *names[] = {".", "..", "f0", "f1", "f2", "f3", "f4"};
    for (int i = 2; i < 7; i++)
        CHECK(open_rw(&f, names[i], WP_WASI_OFLAG_CREAT) >= 0);
    CHECK_EQ(CALL(&f, "fd_readdir", 3, BUF, 4096, 0, OUT), 0);
    uint32_t used = get32(&f, OUT);
    uint32_t at[8];
    CHECK_EQ(dirents(&f, used, at, 8), 7);
    CHECK(used < 4096); /* the end was reached */
    int found = 0;
    for (int e = 0; e < 7; e++)
        for (int k = 0; k < 7; k++)
            found += name_is(&f, at[e], names[k]);
    CHECK_EQ(found, 7);
    /* Going on from the third entry's cookie gives the rest, starting with the fourth. */
    uint64_t cookie = get64(&f, BUF + at[2]);
    uint32_t rest = used - at[3];
    char fourth[8];
    snprintf(fourth, sizeof fourth, "%.*s", (int)get32(&f, BUF + at[3] + 16),
             (const char *)f.mem + BUF + at[3] + WP_WASI_DIRENT_SIZE);
    CHECK_EQ(CALL(&f, "fd_readdir", 3, BUF, 4096, cookie, OUT), 0);
    CHECK_EQ(get32(&f, OUT), rest);
    CHECK(name_is(&f, 0, fourth));
    /* A buffer too small is filled to its last byte, the last entry cut short. */
    CHECK_EQ(CALL(&f, "fd_readdir", 3, BUF, 30, 0, OUT), 0);
    CHECK_EQ(get32(&f, OUT), 30);
    long long fd = open_rw(&f, "f0", 0);
    CHECK_EQ(CALL(&f, "fd_readdir", fd, BUF, 100, 0, OUT), WP_WASI_ENOTCAPABLE);
    CHECK_EQ(CALL(&f, "fd_readdir", 40, BUF, 100, 0, OUT), WP_WASI_EBADF);
    CHECK_EQ(CALL(&f, "fd_readdir", 3, MEM_SIZE - 10, 100, 0, OUT), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "fd_readdir", 3, BUF, 100, 0, BAD), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "fd_readdir", 3, BUF, 100, (uint64_t)1 << 63, OUT), WP_WASI_EINVAL);
    teardown(&f);
}

/* ---- Paths ------------------------------------------------------------------------------- */

static void test_path_open(void) {
    fx f;
    if (!setup(&f))
        return;
    uint32_t n = put(&f, PATH, "new.txt");
    const uint64_t file = WP_WASI_RIGHTS_FILE;
    /* The out pointer is checked before anything happens: no file is created. */
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH, n, WP_WASI_OFLAG_CREAT, file, 0, 0, BAD),
             WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH, n, 0, file, 0, 0, OUT), WP_WASI_ENOENT);
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH, n, WP_WASI_OFLAG_CREAT | WP_WASI_OFLAG_EXCL, file,
                  0, 0, OUT), 0);
    long long fd = get32(&f, OUT);
    CHECK_EQ(CALL(&f, "fd_fdstat_get", fd, BUF), 0);
    CHECK_EQ(f.mem[BUF], WP_WASI_FILETYPE_REGULAR_FILE);
    CHECK_EQ(get64(&f, BUF + 8), file);
    CHECK_EQ(get64(&f, BUF + 16), 0); /* a file passes nothing on */
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH, n, WP_WASI_OFLAG_CREAT | WP_WASI_OFLAG_EXCL, file,
                  0, 0, OUT), WP_WASI_EEXIST);
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH, n, WP_WASI_OFLAG_DIRECTORY, 0, 0, 0, OUT),
             WP_WASI_ENOTDIR);
    CHECK_EQ(CALL(&f, "path_open", fd, 0, PATH, n, 0, 0, 0, 0, OUT), WP_WASI_ENOTDIR);
    CHECK_EQ(CALL(&f, "path_open", 33, 0, PATH, n, 0, 0, 0, 0, OUT), WP_WASI_EBADF);
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH, n, 16, 0, 0, 0, OUT), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH, n, 0, 0, 0, 32, OUT), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH, n, 0, (uint64_t)1 << 40, 0, 0, OUT),
             WP_WASI_ENOTCAPABLE); /* a right no directory passes on */
    /* Paths: out of memory, too long, a NUL inside, not UTF-8. */
    CHECK_EQ(CALL(&f, "path_open", 3, 0, MEM_SIZE - 3, 4, 0, 0, 0, 0, OUT), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "path_open", 3, 0, BUF, WP_SYS_PATH_MAX + 1, 0, 0, 0, 0, OUT),
             WP_WASI_ENAMETOOLONG);
    memcpy(f.mem + PATH2, "a\0b", 3);
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH2, 3, 0, 0, 0, 0, OUT), WP_WASI_EINVAL);
    static const char *bad_utf8[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                     "a\xe2\x82"};
    for (size_t i = 0; i < WP_ARRAY_LEN(bad_utf8); i++) {
        uint32_t len = put(&f, PATH2, bad_utf8[i]);
        CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH2, len, 0, 0, 0, 0, OUT), WP_WASI_EILSEQ);
    }
    uint32_t ok8 = put(&f, PATH2, "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80");
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH2, ok8, WP_WASI_OFLAG_CREAT, file, 0, 0, OUT), 0);
    /* Symbolic links: followed only with the lookup flag. */
    uint32_t ln = put(&f, PATH2, "link");
    CHECK_EQ(CALL(&f, "path_symlink", PATH, n, 3, PATH2, ln), 0);
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH2, ln, 0, file, 0, 0, OUT), WP_WASI_ELOOP);
    CHECK_EQ(CALL(&f, "path_open", 3, WP_WASI_LOOKUP_SYMLINK_FOLLOW, PATH2, ln, 0, file, 0, 0,
                  OUT), 0);
    /* A directory: its rights are a directory's, whatever was asked. */
    uint32_t dn = put(&f, PATH2, "sub");
    CHECK_EQ(CALL(&f, "path_create_directory", 3, PATH2, dn), 0);
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH2, dn, WP_WASI_OFLAG_DIRECTORY, WP_WASI_RIGHTS_ALL,
                  WP_WASI_RIGHTS_ALL, 0, OUT), WP_WASI_ENOTCAPABLE);
    CHECK_EQ(CALL(&f, "path_open", 3, 0, PATH2, dn, WP_WASI_OFLAG_DIRECTORY,
                  WP_WASI_RIGHTS_DIR_INHERITING, WP_WASI_RIGHTS_DIR_INHERITING, 0, OUT), 0);
    CHECK_EQ(CALL(&f, "fd_fdstat_get", get32(&f, OUT), BUF), 0);
    CHECK_EQ(get64(&f, BUF + 8), WP_WASI_RIGHTS_DIR);
    teardown(&f);
}

static void test_path_ops(void) {
    fx f;
    if (!setup(&f))
        return;
    uint32_t a = put(&f, PATH, "a.txt");
    CHECK(open_rw(&f, "a.txt", WP_WASI_OFLAG_CREAT) >= 0);
    uint32_t d = put(&f, PATH2, "dir");
    CHECK_EQ(CALL(&f, "path_create_directory", 3, PATH2, d), 0);
    CHECK_EQ(CALL(&f, "path_create_directory", 3, PATH2, d), WP_WASI_EEXIST);
    CHECK_EQ(CALL(&f, "path_filestat_get", 3, 0, PATH2, d, BUF), 0);
    CHECK_EQ(f.mem[BUF + 16], WP_WASI_FILETYPE_DIRECTORY);
    CHECK_EQ(CALL(&f, "path_filestat_get", 3, 0, PATH2, d, MEM_SIZE - 8), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "path_filestat_set_times", 3, 0, PATH, a, 0, 7000000000u,
                  WP_WASI_FSTFLAG_MTIM), 0);
    CHECK_EQ(CALL(&f, "path_filestat_get", 3, 0, PATH, a, BUF), 0);
    CHECK_EQ(get64(&f, BUF + 48), 7000000000u);
    CHECK_EQ(CALL(&f, "path_filestat_set_times", 3, 0, PATH, a, 0, 0,
                  WP_WASI_FSTFLAG_MTIM | WP_WASI_FSTFLAG_MTIM_NOW), WP_WASI_EINVAL);
    /* rename, link, symlink, readlink, unlink, remove. */
    uint32_t b = put(&f, PATH2 + 0x100, "dir/b.txt");
    CHECK_EQ(CALL(&f, "path_rename", 3, PATH, a, 3, PATH2 + 0x100, b), 0);
    CHECK_EQ(CALL(&f, "path_rename", 3, PATH, a, 3, PATH2 + 0x100, b), WP_WASI_ENOENT);
    CHECK_EQ(CALL(&f, "path_link", 3, 0, PATH2 + 0x100, b, 3, PATH, a), 0);
    CHECK_EQ(CALL(&f, "path_filestat_get", 3, 0, PATH, a, BUF), 0);
    CHECK_EQ(get64(&f, BUF + 24), 2); /* nlink */
    CHECK_EQ(CALL(&f, "path_remove_directory", 3, PATH2, d), WP_WASI_ENOTEMPTY);
    CHECK_EQ(CALL(&f, "path_unlink_file", 3, PATH2, d), WP_WASI_EISDIR);
    CHECK_EQ(CALL(&f, "path_remove_directory", 3, PATH, a), WP_WASI_ENOTDIR);
    uint32_t l = put(&f, PATH2 + 0x200, "lnk");
    CHECK_EQ(CALL(&f, "path_symlink", PATH, a, 3, PATH2 + 0x200, l), 0);
    CHECK_EQ(CALL(&f, "path_symlink", PATH, a, 3, PATH2 + 0x200, l), WP_WASI_EEXIST);
    CHECK_EQ(CALL(&f, "path_filestat_get", 3, 0, PATH2 + 0x200, l, BUF), 0);
    CHECK_EQ(f.mem[BUF + 16], WP_WASI_FILETYPE_SYMBOLIC_LINK);
    CHECK_EQ(CALL(&f, "path_filestat_get", 3, WP_WASI_LOOKUP_SYMLINK_FOLLOW, PATH2 + 0x200, l,
                  BUF), 0);
    CHECK_EQ(f.mem[BUF + 16], WP_WASI_FILETYPE_REGULAR_FILE);
    CHECK_EQ(CALL(&f, "path_readlink", 3, PATH2 + 0x200, l, BUF, 64, OUT), 0);
    CHECK(get32(&f, OUT) == 5 && memcmp(f.mem + BUF, "a.txt", 5) == 0);
    CHECK_EQ(CALL(&f, "path_readlink", 3, PATH2 + 0x200, l, BUF + 100, 2, OUT), 0);
    CHECK(get32(&f, OUT) == 2 && memcmp(f.mem + BUF + 100, "a.", 2) == 0);
    CHECK_EQ(CALL(&f, "path_readlink", 3, PATH2 + 0x200, l, MEM_SIZE - 1, 2, OUT),
             WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "path_readlink", 3, PATH, a, BUF, 64, OUT), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "path_symlink", MEM_SIZE - 1, 5, 3, PATH, a), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "path_unlink_file", 3, PATH2 + 0x200, l), 0);
    CHECK_EQ(CALL(&f, "path_unlink_file", 3, PATH2 + 0x100, b), 0);
    CHECK_EQ(CALL(&f, "path_unlink_file", 3, PATH, a), 0);
    CHECK_EQ(CALL(&f, "path_remove_directory", 3, PATH2, d), 0);
    CHECK_EQ(CALL(&f, "path_unlink_file", 3, PATH, a), WP_WASI_ENOENT);
    /* Out of the mount, and between mounts. */
    uint32_t up = put(&f, PATH, "../x");
    CHECK_EQ(CALL(&f, "path_create_directory", 3, PATH, up), WP_WASI_ENOTCAPABLE);
    uint32_t abs = put(&f, PATH, "/tmp");
    CHECK_EQ(CALL(&f, "path_filestat_get", 3, 0, PATH, abs, BUF), WP_WASI_ENOTCAPABLE);
    uint32_t empty = 0;
    CHECK_EQ(CALL(&f, "path_unlink_file", 3, PATH, empty), WP_WASI_ENOENT);
    CHECK_EQ(CALL(&f, "path_unlink_file", 0, PATH, 1), WP_WASI_ENOTDIR); /* a pipe */
    teardown(&f);
}

/* Every change under the read-only mount (fd 4) is 'rofs'; reading works. */
static void test_read_only(void) {
    fx f;
    if (!setup(&f))
        return;
    uint32_t n = put(&f, PATH, "file.txt");
    uint32_t m = put(&f, PATH2, "other");
    const uint64_t rd = WP_WASI_RIGHT_FD_READ | WP_WASI_RIGHT_FD_FILESTAT_SET_TIMES;
    CHECK_EQ(CALL(&f, "path_open", 4, 0, PATH, n, 0, WP_WASI_RIGHT_FD_WRITE, 0, 0, OUT),
             WP_WASI_EROFS);
    CHECK_EQ(CALL(&f, "path_open", 4, 0, PATH, n, 0, rd, 0, WP_WASI_FDFLAG_APPEND, OUT),
             WP_WASI_EROFS);
    CHECK_EQ(CALL(&f, "path_open", 4, 0, PATH, n, WP_WASI_OFLAG_TRUNC, rd, 0, 0, OUT),
             WP_WASI_EROFS);
    CHECK_EQ(CALL(&f, "path_open", 4, 0, PATH2, m, WP_WASI_OFLAG_CREAT, rd, 0, 0, OUT),
             WP_WASI_EROFS);
    CHECK_EQ(CALL(&f, "path_create_directory", 4, PATH2, m), WP_WASI_EROFS);
    CHECK_EQ(CALL(&f, "path_unlink_file", 4, PATH, n), WP_WASI_EROFS);
    CHECK_EQ(CALL(&f, "path_remove_directory", 4, PATH, n), WP_WASI_EROFS);
    CHECK_EQ(CALL(&f, "path_rename", 4, PATH, n, 4, PATH2, m), WP_WASI_EROFS);
    CHECK_EQ(CALL(&f, "path_rename", 4, PATH, n, 3, PATH2, m), WP_WASI_EROFS);
    CHECK_EQ(CALL(&f, "path_link", 4, 0, PATH, n, 3, PATH2, m), WP_WASI_EROFS);
    CHECK_EQ(CALL(&f, "path_symlink", PATH, n, 4, PATH2, m), WP_WASI_EROFS);
    CHECK_EQ(CALL(&f, "path_filestat_set_times", 4, 0, PATH, n, 0, 0, WP_WASI_FSTFLAG_MTIM_NOW),
             WP_WASI_EROFS);
    /* A descriptor opened for reading under it still refuses every change. */
    CHECK_EQ(CALL(&f, "path_open", 4, 0, PATH, n, 0, rd, 0, 0, OUT), 0);
    long long fd = get32(&f, OUT);
    CHECK_EQ(CALL(&f, "fd_filestat_set_times", fd, 0, 0, WP_WASI_FSTFLAG_MTIM_NOW),
             WP_WASI_EROFS);
    iov1(&f, BUF, 64);
    CHECK_EQ(CALL(&f, "fd_read", fd, IOV, 1, OUT), 0);
    CHECK(get32(&f, OUT) == 9 && memcmp(f.mem + BUF, "read only", 9) == 0);
    CHECK_EQ(CALL(&f, "fd_write", fd, IOV, 1, OUT), WP_WASI_ENOTCAPABLE); /* never given */
    teardown(&f);
}
/* ---- Calls that wait -------------------------------------------------------------------- */

/* Completes the waiting call; true if it finished and the call returned errno 'want'. */
static bool complete(fx *f, long long want) {
    bool done = false;
    wp_err err;
    if (wp_wasi_complete(f->w, f->x, &done, &err) != WP_OK || !done)
        return false;
    wp_val r;
    return wp_exec_run(f->x, WP_BUDGET_UNLIMITED) == WP_RUN_DONE &&
           wp_exec_results(f->x, &r, 1) == 1 && r.of.i32 == want;
}

static void test_pending_read(void) {
    fx f;
    if (!setup(&f))
        return;
    iov1(&f, BUF, 64);
    CHECK_EQ(CALL(&f, "fd_read", 0, IOV, 1, OUT), PENDING);
    wp_wasi_wait wt;
    CHECK(wp_wasi_pending(f.w, &wt));
    CHECK_EQ(wt.nfds, 1);
    CHECK_EQ(wt.fds[0].fd, f.in[0]);
    CHECK_EQ(wt.fds[0].events, WP_WASI_READABLE);
    CHECK(wt.deadline == WP_WASI_NO_DEADLINE);
    bool done = true;
    wp_err err;
    CHECK_EQ(wp_wasi_complete(f.w, f.x, &done, &err), WP_OK); /* nothing yet: still waiting */
    CHECK(!done);
    CHECK(wp_wasi_pending(f.w, &wt) && wt.nfds == 1);
    CHECK_EQ(write(f.in[1], "late", 4), 4);
    CHECK(complete(&f, 0));
    CHECK(get32(&f, OUT) == 4 && memcmp(f.mem + BUF, "late", 4) == 0);
    CHECK(!wp_wasi_pending(f.w, &wt));
    CHECK_EQ(wp_wasi_complete(f.w, f.x, &done, &err), WP_ERR_INVALID);
    /* A guest that asked not to block gets 'again' instead. */
    CHECK_EQ(CALL(&f, "fd_fdstat_set_flags", 0, WP_WASI_FDFLAG_NONBLOCK), 0);
    CHECK_EQ(CALL(&f, "fd_read", 0, IOV, 1, OUT), WP_WASI_EAGAIN);
    /* End of input is ready at once. */
    close(f.in[1]);
    f.in[1] = -1;
    CHECK_EQ(CALL(&f, "fd_fdstat_set_flags", 0, 0), 0);
    CHECK_EQ(CALL(&f, "fd_read", 0, IOV, 1, OUT), 0);
    CHECK_EQ(get32(&f, OUT), 0);
    teardown(&f);
}

static void test_pending_write(void) {
    fx f;
    if (!setup(&f))
        return;
    fcntl(f.out[1], F_SETFL, O_NONBLOCK); /* fill the pipe from here without blocking */
    char junk[4096] = {0};
    long filled = 0;
    ssize_t n;
    while ((n = write(f.out[1], junk, sizeof junk)) > 0)
        filled += n;
    fcntl(f.out[1], F_SETFL, 0);
    iov1(&f, BUF, put(&f, BUF, "after the wait"));
    CHECK_EQ(CALL(&f, "fd_write", 1, IOV, 1, OUT), PENDING);
    wp_wasi_wait wt;
    CHECK(wp_wasi_pending(f.w, &wt) && wt.nfds == 1);
    CHECK(wt.fds[0].fd == f.out[1] && wt.fds[0].events == WP_WASI_WRITABLE);
    while (filled > 0 && (n = read(f.out[0], junk, sizeof junk)) > 0)
        filled -= n;
    CHECK(complete(&f, 0));
    CHECK_EQ(get32(&f, OUT), 14);
    char got[16] = {0};
    CHECK_EQ(read(f.out[0], got, sizeof got), 14);
    CHECK(memcmp(got, "after the wait", 14) == 0);
    teardown(&f);
}

/* One subscription at 'at': a clock (relative, or absolute with abstime) or an fd event. */
static void sub_clock(fx *f, uint32_t at, uint64_t userdata, uint32_t id, uint64_t timeout,
                      bool abstime) {
    memset(f->mem + at, 0, WP_WASI_SUBSCRIPTION_SIZE);
    wp__wasi_le64(f->mem + at, userdata);
    f->mem[at + 8] = WP_WASI_EVENT_CLOCK;
    wp__wasi_le32(f->mem + at + 16, id);
    wp__wasi_le64(f->mem + at + 24, timeout);
    f->mem[at + 40] = abstime ? WP_WASI_SUBCLOCK_ABSTIME : 0;
}

static void sub_fd(fx *f, uint32_t at, uint64_t userdata, uint8_t type, uint32_t fd) {
    memset(f->mem + at, 0, WP_WASI_SUBSCRIPTION_SIZE);
    wp__wasi_le64(f->mem + at, userdata);
    f->mem[at + 8] = type;
    wp__wasi_le32(f->mem + at + 16, fd);
}

enum { SUBS = 0x2000, EVENTS = 0x3000, SUB = WP_WASI_SUBSCRIPTION_SIZE, EV = WP_WASI_EVENT_SIZE };

static void test_poll_clock(void) {
    fx f;
    if (!setup(&f))
        return;
    CHECK_EQ(CALL(&f, "poll_oneoff", SUBS, EVENTS, 0, OUT), WP_WASI_EINVAL);
    sub_clock(&f, SUBS, 11, WP_WASI_CLOCK_MONOTONIC, 0, false);
    CHECK_EQ(CALL(&f, "poll_oneoff", SUBS, EVENTS, 1, OUT), 0); /* already due */
    CHECK_EQ(get32(&f, OUT), 1);
    CHECK_EQ(get64(&f, EVENTS), 11);
    uint64_t before = wp_wasi_now();
    sub_clock(&f, SUBS, 22, WP_WASI_CLOCK_MONOTONIC, 30000000, false);
    CHECK_EQ(CALL(&f, "poll_oneoff", SUBS, EVENTS, 1, OUT), PENDING);
    wp_wasi_wait wt;
    CHECK(wp_wasi_pending(f.w, &wt));
    CHECK_EQ(wt.nfds, 0);
    CHECK(wt.deadline >= before + 30000000 && wt.deadline < before + 40000000);
    bool done = true;
    wp_err err;
    CHECK_EQ(wp_wasi_complete(f.w, f.x, &done, &err), WP_OK);
    CHECK(!done); /* too early */
    nanosleep(&(struct timespec){0, 35000000}, NULL);
    CHECK(complete(&f, 0));
    CHECK(wp_wasi_now() >= before + 30000000);
    CHECK_EQ(get32(&f, OUT), 1);
    CHECK_EQ(get64(&f, EVENTS), 22);
    CHECK_EQ(f.mem[EVENTS + 8], 0);
    CHECK_EQ(f.mem[EVENTS + 10], WP_WASI_EVENT_CLOCK);
    /* Absolute realtime in the past: at once. An unknown clock: an event with its error. */
    sub_clock(&f, SUBS, 33, WP_WASI_CLOCK_REALTIME, 1000000000, true);
    sub_clock(&f, SUBS + SUB, 44, 9, 1, false);
    CHECK_EQ(CALL(&f, "poll_oneoff", SUBS, EVENTS, 2, OUT), 0);
    CHECK_EQ(get32(&f, OUT), 2);
    CHECK_EQ(get64(&f, EVENTS + EV), 44);
    CHECK_EQ(f.mem[EVENTS + EV + 8], WP_WASI_EINVAL);
    /* Bad arguments. */
    f.mem[SUBS + 8] = 7;
    CHECK_EQ(CALL(&f, "poll_oneoff", SUBS, EVENTS, 1, OUT), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "poll_oneoff", MEM_SIZE - SUB, EVENTS, 2, OUT), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "poll_oneoff", SUBS, MEM_SIZE - EV, 2, OUT), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "poll_oneoff", SUBS, EVENTS, 1, BAD), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "poll_oneoff", SUBS, EVENTS, 0x10000000, OUT), WP_WASI_EFAULT);
    teardown(&f);
}

static void test_poll_fds(void) {
    fx f;
    if (!setup(&f))
        return;
    /* Nothing to read yet: waits on stdin, up to the clock's deadline 10 s away. */
    sub_clock(&f, SUBS, 1, WP_WASI_CLOCK_MONOTONIC, 10000000000u, false);
    sub_fd(&f, SUBS + SUB, 2, WP_WASI_EVENT_FD_READ, 0);
    CHECK_EQ(CALL(&f, "poll_oneoff", SUBS, EVENTS, 2, OUT), PENDING);
    wp_wasi_wait wt;
    CHECK(wp_wasi_pending(f.w, &wt));
    CHECK(wt.nfds == 1 && wt.fds[0].fd == f.in[0] && wt.fds[0].events == WP_WASI_READABLE);
    CHECK(wt.deadline > wp_wasi_now() + 9000000000u);
    CHECK_EQ(write(f.in[1], "abc", 3), 3);
    CHECK(complete(&f, 0));
    CHECK_EQ(get32(&f, OUT), 1); /* only the descriptor's event */
    CHECK_EQ(get64(&f, EVENTS), 2);
    CHECK_EQ(f.mem[EVENTS + 10], WP_WASI_EVENT_FD_READ);
    CHECK_EQ(get64(&f, EVENTS + 16), 3); /* bytes available */
    /* Regular files are always ready; a closed fd, or one without the right, is an error. */
    long long fd = open_rw(&f, "file", WP_WASI_OFLAG_CREAT);
    sub_fd(&f, SUBS, 3, WP_WASI_EVENT_FD_WRITE, (uint32_t)fd);
    sub_fd(&f, SUBS + SUB, 4, WP_WASI_EVENT_FD_READ, 77);
    sub_fd(&f, SUBS + 2 * SUB, 5, WP_WASI_EVENT_FD_WRITE, 0);
    sub_fd(&f, SUBS + 3 * SUB, 6, WP_WASI_EVENT_FD_WRITE, 1);
    CHECK_EQ(CALL(&f, "poll_oneoff", SUBS, EVENTS, 4, OUT), 0);
    CHECK_EQ(get32(&f, OUT), 4);
    CHECK_EQ(f.mem[EVENTS + 8], 0);
    CHECK_EQ(f.mem[EVENTS + EV + 8], WP_WASI_EBADF);
    CHECK_EQ(f.mem[EVENTS + 2 * EV + 8], WP_WASI_ENOTCAPABLE);
    CHECK_EQ(get64(&f, EVENTS + 3 * EV), 6); /* the empty stdout pipe: writable */
    /* A hang-up counts as readable, flagged. */
    close(f.in[1]);
    f.in[1] = -1;
    sub_fd(&f, SUBS, 7, WP_WASI_EVENT_FD_READ, 0);
    CHECK_EQ(CALL(&f, "poll_oneoff", SUBS, EVENTS, 1, OUT), 0);
    CHECK_EQ(get32(&f, OUT), 1);
    CHECK_EQ(f.mem[EVENTS + 24], WP_WASI_EVENTRW_HANGUP);
    teardown(&f);
}

static void test_yield_and_cancel(void) {
    fx f;
    if (!setup(&f))
        return;
    CHECK_EQ(CALL0(&f, "sched_yield"), PENDING);
    wp_wasi_wait wt;
    CHECK(wp_wasi_pending(f.w, &wt));
    CHECK(wt.nfds == 0 && wt.deadline <= wp_wasi_now());
    CHECK(complete(&f, 0));
    /* The embedder may abandon a waiting call. */
    iov1(&f, BUF, 8);
    CHECK_EQ(CALL(&f, "fd_read", 0, IOV, 1, OUT), PENDING);
    wp_wasi_cancel(f.w);
    wp_exec_reset(f.x);
    CHECK(!wp_wasi_pending(f.w, &wt));
    CHECK_EQ(CALL(&f, "args_sizes_get", OUT, OUT2), 0);
    /* The simple driver waits for the clock by itself. */
    sub_clock(&f, SUBS, 1, WP_WASI_CLOCK_MONOTONIC, 20000000, false);
    wp_extern e;
    CHECK(wp_instance_export(f.inst, "poll_oneoff", 11, &e));
    wp_val args[4] = {wp_val_i32(SUBS), wp_val_i32(EVENTS), wp_val_i32(1), wp_val_i32(OUT)};
    wp_err err;
    uint64_t t0 = wp_wasi_now();
    CHECK_EQ(wp_exec_begin(f.x, e.of.func, args, 4, &err), WP_OK);
    CHECK_EQ(wp_wasi_run(f.w, f.x), WP_RUN_DONE);
    CHECK(wp_wasi_now() - t0 >= 20000000);
    teardown(&f);
}

static void test_sockets(void) {
    fx f;
    if (!setup(&f))
        return;
    /* fd 5 is one end of a datagram pair; pipes are not sockets. */
    iov1(&f, BUF, 64);
    CHECK_EQ(CALL(&f, "sock_recv", 0, IOV, 1, 0, OUT, OUT2), WP_WASI_ENOTSOCK);
    CHECK_EQ(CALL(&f, "sock_send", 1, IOV, 1, 0, OUT), WP_WASI_ENOTSOCK);
    CHECK_EQ(CALL(&f, "sock_accept", 0, 0, OUT), WP_WASI_ENOTCAPABLE);
    CHECK_EQ(CALL(&f, "sock_shutdown", 0, WP_WASI_SDFLAG_WR), WP_WASI_ENOTCAPABLE);
    CHECK_EQ(CALL(&f, "fd_fdstat_get", 5, BUF), 0);
    CHECK_EQ(f.mem[BUF], WP_WASI_FILETYPE_SOCKET_DGRAM);
    CHECK_EQ(CALL(&f, "sock_recv", 5, IOV, 1, 4, OUT, OUT2), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "sock_send", 5, IOV, 1, 1, OUT), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "sock_recv", 5, IOV, 1, 0, OUT, MEM_SIZE - 1), WP_WASI_EFAULT);
    CHECK_EQ(CALL(&f, "sock_recv", 5, IOV, 1, 0, OUT, OUT2), PENDING);
    wp_wasi_wait wt;
    CHECK(wp_wasi_pending(f.w, &wt) && wt.nfds == 1 && wt.fds[0].fd == f.sock[0]);
    CHECK_EQ(send(f.sock[1], "0123456789", 10, 0), 10);
    CHECK(complete(&f, 0));
    CHECK(get32(&f, OUT) == 10 && memcmp(f.mem + BUF, "0123456789", 10) == 0);
    CHECK_EQ(get32(&f, OUT2) & 0xffff, 0);
    /* Peek leaves the datagram; a short buffer reports truncation. */
    CHECK_EQ(send(f.sock[1], "abcdef", 6, 0), 6);
    iov1(&f, BUF, 3);
    CHECK_EQ(CALL(&f, "sock_recv", 5, IOV, 1, WP_WASI_RIFLAG_PEEK, OUT, OUT2), 0);
    CHECK_EQ(get32(&f, OUT), 3);
    CHECK_EQ(CALL(&f, "sock_recv", 5, IOV, 1, 0, OUT, OUT2), 0);
    CHECK_EQ(get32(&f, OUT2) & 0xffff, WP_WASI_ROFLAG_TRUNCATED);
    iov1(&f, BUF, put(&f, BUF, "pong"));
    CHECK_EQ(CALL(&f, "sock_send", 5, IOV, 1, 0, OUT), 0);
    char got[8] = {0};
    CHECK_EQ(recv(f.sock[1], got, sizeof got, 0), 4);
    CHECK_EQ(CALL(&f, "sock_shutdown", 5, 0), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "sock_shutdown", 5, 4), WP_WASI_EINVAL);
    CHECK_EQ(CALL(&f, "sock_accept", 5, 0, OUT), WP_WASI_EINVAL); /* not listening */
    CHECK_EQ(CALL(&f, "sock_accept", 5, WP_WASI_FDFLAG_APPEND, OUT), WP_WASI_EINVAL);
    teardown(&f);
}

/* waitall on a stream socket gathers until the buffer is full, waiting between pieces; at
 * the peer's end of stream it returns what came. */
static void test_sock_waitall(void) {
    fx f;
    if (!setup(&f))
        return;
    CHECK_EQ(CALL(&f, "fd_fdstat_get", 6, BUF), 0);
    CHECK_EQ(f.mem[BUF], WP_WASI_FILETYPE_SOCKET_STREAM);
    iov1(&f, BUF, 10);
    CHECK_EQ(send(f.stream[1], "0123", 4, 0), 4);
    CHECK_EQ(CALL(&f, "sock_recv", 6, IOV, 1, WP_WASI_RIFLAG_WAITALL, OUT, OUT2), PENDING);
    wp_wasi_wait wt;
    CHECK(wp_wasi_pending(f.w, &wt) && wt.nfds == 1 && wt.fds[0].fd == f.stream[0]);
    CHECK_EQ(send(f.stream[1], "456", 3, 0), 3);
    bool done = true;
    wp_err err;
    CHECK(wp_wasi_complete(f.w, f.x, &done, &err) == WP_OK && !done); /* 7 of 10: waits on */
    CHECK_EQ(send(f.stream[1], "789xyz", 6, 0), 6);
    CHECK(complete(&f, 0));
    CHECK(get32(&f, OUT) == 10 && memcmp(f.mem + BUF, "0123456789", 10) == 0);
    /* Without waitall the rest comes at once; then end of stream ends a waitall short. */
    CHECK_EQ(CALL(&f, "sock_recv", 6, IOV, 1, 0, OUT, OUT2), 0);
    CHECK(get32(&f, OUT) == 3 && memcmp(f.mem + BUF, "xyz", 3) == 0);
    CHECK_EQ(send(f.stream[1], "ab", 2, 0), 2);
    CHECK_EQ(shutdown(f.stream[1], SHUT_WR), 0);
    CHECK_EQ(CALL(&f, "sock_recv", 6, IOV, 1, WP_WASI_RIFLAG_WAITALL, OUT, OUT2), 0);
    CHECK(get32(&f, OUT) == 2 && memcmp(f.mem + BUF, "ab", 2) == 0);
    teardown(&f);
}

/* ---- Configuration, linking, out of memory ----------------------------------------------- */

static wp_status try_new(const wp_wasi_config *cfg, wp_err *err) {
    wp_wasi *w = NULL;
    wp_status st = wp_wasi_new(cfg, &w, err);
    wp_wasi_free(w);
    return st;
}

static void test_config_errors(void) {
    wp_wasi_config cfg;
    wp_err err;
    wp_wasi_mount m = {"/nonexistent/wippy-dir", "/x", false};
    wp_wasi_config_init(&cfg);
    cfg.mounts = &m;
    cfg.nmounts = 1;
    CHECK_EQ(try_new(&cfg, &err), WP_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/wippy-dir");
    m.host = "/etc/hostname";
    CHECK_EQ(try_new(&cfg, &err), WP_ERR_INVALID);
    m.host = "/tmp";
    cfg.cwd = "/elsewhere";
    CHECK_EQ(try_new(&cfg, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "not inside any mount");
    cfg.cwd = "/x/wippy-no-such-subdir";
    CHECK_EQ(try_new(&cfg, &err), WP_ERR_NOT_FOUND);
    cfg.cwd = "/x/../..";
    CHECK_EQ(try_new(&cfg, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "outside the mount");
    cfg.cwd = "x"; /* "x" and "/x" name the same preopen, as wasi-libc sees them */
    CHECK_EQ(try_new(&cfg, &err), WP_OK);
    int p[2];
    CHECK_EQ(pipe(p), 0);
    cfg.sockets = p;
    cfg.nsockets = 1;
    CHECK_EQ(try_new(&cfg, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "not a socket");
    close(p[0]);
    close(p[1]);
    wp_wasi_config_init(&cfg);
    cfg.stdin_fd = 999; /* not open: the guest's fd 0 is closed, no error */
    CHECK_EQ(try_new(&cfg, &err), WP_OK);
}

static void test_out_of_memory(void) {
    const char *args[] = {"prog", "arg"};
    const char *env[] = {"A=B"};
    wp_wasi_mount m[] = {{"/tmp", "/tmp", false}, {"/", "/", true}};
    test_heap th;
    test_heap_init(&th);
    wp_wasi_config cfg;
    wp_wasi_config_init(&cfg);
    cfg.args = args;
    cfg.nargs = 2;
    cfg.env = env;
    cfg.nenv = 1;
    cfg.mounts = m;
    cfg.nmounts = 2;
    cfg.cwd = "/tmp";
    cfg.heap = &th.heap;
    long k = 0;
    for (;; k++) {
        test_heap_fail_at(&th, k);
        wp_wasi *w = NULL;
        wp_err err;
        wp_status st = wp_wasi_new(&cfg, &w, &err);
        wp_wasi_free(w);
        CHECK_EQ(th.heap.used, 0); /* nothing leaked, whichever allocation failed */
        if (st == WP_OK)
            break;
        CHECK_EQ(st, WP_ERR_NOMEM);
    }
    CHECK(k >= 5);
}

static wp_status link_text(const char *text, wp_err *err) {
    uint8_t *bin = NULL;
    size_t len = 0;
    wp_module *m = NULL;
    wp_store *s = NULL;
    wp_wasi *w = NULL;
    wp_wasi_config cfg;
    wp_wasi_config_init(&cfg);
    wp_extern imports[4];
    memset(imports, 0, sizeof imports);
    wp_status st = wp_wat_to_wasm(text, strlen(text), &bin, &len, err);
    if (st == WP_OK)
        st = wp_module_decode(bin, len, &m, err);
    if (st == WP_OK && (st = wp_store_new(NULL, &s, err)) == WP_OK &&
        (st = wp_wasi_new(&cfg, &w, err)) == WP_OK)
        st = wp_wasi_link(w, s, m, imports, err);
    if (st == WP_OK)
        CHECK(imports[0].of.func == NULL && imports[1].of.func != NULL); /* env's left alone */
    wp_store_free(s);
    wp_wasi_free(w);
    wp_module_free(m);
    wp_wat_free(bin);
    return st;
}

static void test_link_errors(void) {
    wp_err err;
    CHECK_EQ(link_text("(import \"env\" \"f\" (func))"
                       "(import \"wasi_snapshot_preview1\" \"sched_yield\" (func (result i32)))",
                       &err), WP_OK);
    CHECK_EQ(link_text("(import \"wasi_snapshot_preview1\" \"memory\" (memory 1))", &err),
             WP_ERR_LINK);
    CHECK_STR_CONTAINS(err.msg, "'wasi_snapshot_preview1'.'memory' is not a function");
    CHECK_EQ(link_text("(import \"wasi_snapshot_preview1\" \"fd_nope\" (func))", &err),
             WP_ERR_LINK);
    CHECK_STR_CONTAINS(err.msg, "unknown WASI function 'wasi_snapshot_preview1'.'fd_nope'");
    CHECK_EQ(link_text("(import \"wasi_snapshot_preview1\" \"proc_exit\" "
                       "(func (param i32) (result i32)))", &err), WP_ERR_LINK);
    CHECK_STR_CONTAINS(err.msg, "'proc_exit' imported as (i32) -> (i32); it is (i32) -> ()");
    CHECK_EQ(link_text("(import \"wasi_snapshot_preview1\" \"sched_yield\" (func))", &err),
             WP_ERR_LINK);
    CHECK_STR_CONTAINS(err.msg, "imported as () -> (); it is () -> (i32)");
}

/* The same guest calls through the portable resolver. */
static void test_portable(void) {
    fx f;
    if (!setup_flags(&f, WP_WASI_PORTABLE_RESOLVE))
        return;
    CHECK(open_rw(&f, "p.txt", WP_WASI_OFLAG_CREAT) >= 0);
    uint32_t n = put(&f, PATH, "../p.txt");
    CHECK_EQ(CALL(&f, "path_filestat_get", 3, 0, PATH, n, BUF), WP_WASI_ENOTCAPABLE);
    n = put(&f, PATH, "./p.txt");
    CHECK_EQ(CALL(&f, "path_filestat_get", 3, 0, PATH, n, BUF), 0);
    teardown(&f);
}

/* ---- Any arguments at all --------------------------------------------------------------- */

static uint64_t rnd_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void) { /* xorshift64: reproducible */
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* An argument a fuzzer would try: descriptors, pointers at and past the end of memory,
 * lengths, flags, or anything. */
static uint64_t any_arg(bool wide) {
    static const uint64_t pool[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 31, 99, OUT, IOV, BUF, PATH,
                                    MEM_SIZE - 1, MEM_SIZE, MEM_SIZE - 8, BAD, 0xffffffffu,
                                    0x7fffffffu, 4096};
    uint64_t r = rnd();
    if (r % 4 == 0)
        return wide ? rnd() : (uint32_t)rnd();
    return pool[(r >> 8) % WP_ARRAY_LEN(pool)];
}

/* Every function with thousands of argument lists: each returns an errno (or waits, or
 * traps for proc_exit/proc_raise), and nothing crashes. fd_allocate is left out: a random
 * size could really take the disk. */
static void test_any_arguments(void) {
    fx f;
    if (!setup(&f))
        return;
    int bad = 0;
    for (int round = 0; round < 20000; round++) {
        const struct row *r = &rows[rnd() % WP_ARRAY_LEN(rows)];
        if (strcmp(r->name, "fd_allocate") == 0)
            continue;
        for (uint32_t i = BUF; i < BUF + 64; i += 8)
            wp__wasi_le64(f.mem + i, rnd() & 0x0000ffff0000ffffu); /* small iovecs, names */
        uint64_t a[10];
        size_t n = strlen(r->params);
        for (size_t i = 0; i < n; i++)
            a[i] = any_arg(r->params[i] == 'I');
        long long e = call_n(&f, r->name, a, n);
        if (e == PENDING) {
            wp_wasi_cancel(f.w);
            wp_exec_reset(f.x);
        } else if (e == TRAPPED && strcmp(r->name, "proc_exit") != 0 &&
                   strcmp(r->name, "proc_raise") != 0) {
            bad++;
        } else if (e > WP_WASI_ENOTCAPABLE) {
            bad++;
        }
    }
    CHECK_EQ(bad, 0);
    teardown(&f);
}

int main(void) {
    if (!load_trampoline())
        return 1;
    RUN_TEST(test_args_env);
    RUN_TEST(test_clocks_random);
    RUN_TEST(test_proc);
    RUN_TEST(test_stdio_rw);
    RUN_TEST(test_fdstat);
    RUN_TEST(test_prestat);
    RUN_TEST(test_files);
    RUN_TEST(test_renumber);
    RUN_TEST(test_readdir);
    RUN_TEST(test_path_open);
    RUN_TEST(test_path_ops);
    RUN_TEST(test_read_only);
    RUN_TEST(test_pending_read);
    RUN_TEST(test_pending_write);
    RUN_TEST(test_poll_clock);
    RUN_TEST(test_poll_fds);
    RUN_TEST(test_yield_and_cancel);
    RUN_TEST(test_sockets);
    RUN_TEST(test_sock_waitall);
    RUN_TEST(test_config_errors);
    RUN_TEST(test_out_of_memory);
    RUN_TEST(test_link_errors);
    RUN_TEST(test_portable);
    RUN_TEST(test_any_arguments);
    wp_module_free(trampoline);
    return TEST_EXIT();
}
