/* test_wasi2_fs.c: WASI 0.2 wasi:filesystem called directly from C: preopens, descriptors and
 * their streams, every *-at function, directory-entry streams, read-only mounts refusing every
 * change with 'read-only', paths that try to leave their mount refused with 'not-permitted'
 * (through openat2 and through the portable walk), and error codes. */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_wasi2.h"

#define FS "wasi:filesystem/types"
#define D(m) "[method]descriptor." m

typedef struct fx {
    char dir[256];
    wp_wasi2 *w;
    int64_t rw;  /* the preopens: /rw, /ro and "." (the cwd, /rw/sub) */
    int64_t ro;
    int64_t cwd;
} fx;

static void path_of(const fx *f, char *buf, size_t cap, const char *rel) {
    snprintf(buf, cap, "%s/%s", f->dir, rel);
}

static void put_file(const fx *f, const char *rel, const char *text) {
    char p[512];
    path_of(f, p, sizeof p, rel);
    FILE *fp = fopen(p, "w");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

/* Looks up the preopens and keeps their handles. */
static void preopens(fx *f) {
    wp_value r;
    CHECK_EQ(call2(f->w, "wasi:filesystem/preopens", "get-directories", &r, 0), WP_WASI2_DONE);
    CHECK_EQ(wp_value_len(&r), 3);
    int64_t *slots[] = {&f->rw, &f->ro, &f->cwd};
    const char *names[] = {"/rw", "/ro", "."};
    for (size_t i = 0; i < 3 && i < wp_value_len(&r); i++) {
        wp_value *pair = wp_value_at(&r, i);
        CHECK(bytes_eq(wp_value_at(pair, 1), names[i]));
        *slots[i] = wp_value_at(pair, 0)->of.i;
    }
    wp_value_free(&r);
}

static bool setup_flags(fx *f, uint32_t flags) {
    memset(f, 0, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/wippy-p2fs.XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return false;
    char rw[512];
    char ro[512];
    char sub[512];
    path_of(f, rw, sizeof rw, "rw");
    path_of(f, ro, sizeof ro, "ro");
    path_of(f, sub, sizeof sub, "rw/sub");
    mkdir(rw, 0755);
    mkdir(ro, 0755);
    mkdir(sub, 0755);
    put_file(f, "ro/file.txt", "read only");
    put_file(f, "secret.txt", "outside");
    wp_wasi_mount mounts[] = {{rw, "/rw", false}, {ro, "/ro", true}};
    wp_wasi_config cfg;
    wp_wasi_config_init(&cfg);
    cfg.mounts = mounts;
    cfg.nmounts = 2;
    cfg.cwd = "/rw/sub";
    cfg.flags = flags;
    wp_err err;
    if (wp_wasi2_new(&cfg, &f->w, &err) != WP_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return false;
    }
    preopens(f);
    return true;
}

static bool setup(fx *f) { return setup_flags(f, 0); }

static void teardown(fx *f) {
    CHECK_EQ(drop2(f->w, "descriptor", f->rw), WP_WASI2_DONE);
    CHECK_EQ(drop2(f->w, "descriptor", f->ro), WP_WASI2_DONE);
    CHECK_EQ(drop2(f->w, "descriptor", f->cwd), WP_WASI2_DONE);
    CHECK_EQ(wp_wasi2_live(f->w), 0);
    wp_wasi2_free(f->w);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    CHECK_EQ(system(cmd), 0);
}

/* open-at on dir with a path and flags; returns the new descriptor or -1 (then *code is the
 * error-code label, copied into code[32]). */
static int64_t open_at(fx *f, int64_t dir, const char *path, wp_value oflags, wp_value dflags,
                       char *code) {
    wp_value r;
    code[0] = '\0';
    CHECK_EQ(call2(f->w, FS, D("open-at"), &r, 5, v_int(dir), v_noflags(), v_str(path), oflags,
                   dflags),
             WP_WASI2_DONE);
    const wp_value *ok = wp_value_map_get(&r, "ok");
    int64_t d = ok ? ok->of.i : -1;
    snprintf(code, 32, "%s", err_code(&r));
    wp_value_free(&r);
    return d;
}

/* The error code of a call returning result<_, error-code> ("" when ok). */
static const char *code_of(wp_value *r, char *buf) {
    snprintf(buf, 32, "%s", err_code(r));
    wp_value_free(r);
    return buf;
}

/* ---- Descriptors ------------------------------------------------------------------------- */

static void test_preopens(void) {
    fx f;
    CHECK(setup(&f));
    wp_value r;
    CHECK_EQ(call2(f.w, FS, D("get-type"), &r, 1, v_int(f.rw)), WP_WASI2_DONE);
    CHECK(bytes_eq(ok_of(&r), "directory"));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("get-flags"), &r, 1, v_int(f.rw)), WP_WASI2_DONE);
    const wp_value *fl = ok_of(&r);
    CHECK(fl && wp_value_map_get(fl, "read") && wp_value_map_get(fl, "mutate-directory"));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("get-flags"), &r, 1, v_int(f.ro)), WP_WASI2_DONE);
    fl = ok_of(&r);
    CHECK(fl && wp_value_map_get(fl, "read") && !wp_value_map_get(fl, "mutate-directory"));
    wp_value_free(&r);
    /* The cwd preopen is /rw/sub itself. */
    CHECK_EQ(call2(f.w, FS, D("stat-at"), &r, 3, v_int(f.rw), v_noflags(), v_str("sub")),
             WP_WASI2_DONE);
    wp_value sub = r;
    CHECK_EQ(call2(f.w, FS, D("stat"), &r, 1, v_int(f.cwd)), WP_WASI2_DONE);
    CHECK(wp_value_equal(ok_of(&sub), ok_of(&r)));
    wp_value_free(&sub);
    wp_value_free(&r);
    teardown(&f);
}

static void test_file_read_write(void) {
    fx f;
    CHECK(setup(&f));
    char code[32];
    wp_value r;
    int64_t d = open_at(&f, f.rw, "new.txt", v_flag("create"),
                        v_map(2, "read", wp_value_bool(true), "write", wp_value_bool(true)), code);
    CHECK(d > 0);
    CHECK_EQ(call2(f.w, FS, D("write"), &r, 3, v_int(d), v_str("hello world"), v_int(0)),
             WP_WASI2_DONE);
    CHECK_EQ(ok_int(&r), 11);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("read"), &r, 3, v_int(d), v_int(5), v_int(6)), WP_WASI2_DONE);
    const wp_value *t = ok_of(&r);
    CHECK(t && bytes_eq(wp_value_at(t, 0), "world"));
    CHECK(t && wp_value_at(t, 1)->of.b == false); /* exactly to the end: not yet seen the end */
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("read"), &r, 3, v_int(d), v_int(100), v_int(6)), WP_WASI2_DONE);
    t = ok_of(&r);
    CHECK(t && bytes_eq(wp_value_at(t, 0), "world") && wp_value_at(t, 1)->of.b);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("stat"), &r, 1, v_int(d)), WP_WASI2_DONE);
    const wp_value *st = ok_of(&r);
    CHECK(st && wp_value_map_get(st, "size")->of.i == 11);
    CHECK(st && bytes_eq(wp_value_map_get(st, "type"), "regular-file"));
    CHECK(st && wp_value_map_get(st, "link-count")->of.i == 1);
    CHECK(st && wp_value_map_get(wp_value_map_get(st, "data-modification-timestamp"), "seconds"));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("set-size"), &r, 2, v_int(d), v_int(5)), WP_WASI2_DONE);
    CHECK(ok_of(&r) != NULL);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("set-times"), &r, 3, v_int(d),
                   v_map(1, "timestamp",
                         v_map(2, "seconds", v_int(1000), "nanoseconds", v_int(5))),
                   v_case("no-change")),
             WP_WASI2_DONE);
    CHECK(ok_of(&r) != NULL);
    wp_value_free(&r);
    char p[512];
    path_of(&f, p, sizeof p, "rw/new.txt");
    struct stat hs;
    CHECK_EQ(stat(p, &hs), 0);
    CHECK_EQ(hs.st_size, 5);
    CHECK_EQ(hs.st_atim.tv_sec, 1000);
    CHECK_EQ(hs.st_atim.tv_nsec, 5);
    CHECK_EQ(call2(f.w, FS, D("set-times"), &r, 3, v_int(d), v_case("now"), v_int(1)),
             WP_WASI2_TRAP); /* not a new-timestamp */
    CHECK_EQ(call2(f.w, FS, D("sync"), &r, 1, v_int(d)), WP_WASI2_DONE);
    CHECK(ok_of(&r) != NULL);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("sync-data"), &r, 1, v_int(d)), WP_WASI2_DONE);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("advise"), &r, 4, v_int(d), v_int(0), v_int(5), v_str("sequential")),
             WP_WASI2_DONE);
    CHECK(ok_of(&r) != NULL);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("advise"), &r, 4, v_int(d), v_int(0), v_int(5), v_str("loud")),
             WP_WASI2_TRAP);
    CHECK_EQ(drop2(f.w, "descriptor", d), WP_WASI2_DONE);
    teardown(&f);
}

static void test_descriptor_modes(void) {
    fx f;
    CHECK(setup(&f));
    char code[32];
    wp_value r;
    put_file(&f, "rw/in.txt", "data");
    int64_t d = open_at(&f, f.rw, "in.txt", v_noflags(), v_flag("read"), code);
    CHECK(d > 0);
    /* Opened for reading only: writes are refused. */
    CHECK_EQ(call2(f.w, FS, D("write"), &r, 3, v_int(d), v_str("x"), v_int(0)), WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "bad-descriptor") == 0);
    CHECK_EQ(call2(f.w, FS, D("write-via-stream"), &r, 2, v_int(d), v_int(0)), WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "bad-descriptor") == 0);
    CHECK_EQ(call2(f.w, FS, D("set-size"), &r, 2, v_int(d), v_int(0)), WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "bad-descriptor") == 0);
    int64_t wo = open_at(&f, f.rw, "in.txt", v_noflags(), v_flag("write"), code);
    CHECK(wo > 0);
    CHECK_EQ(call2(f.w, FS, D("read"), &r, 3, v_int(wo), v_int(1), v_int(0)), WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "bad-descriptor") == 0);
    CHECK_EQ(call2(f.w, FS, D("read-via-stream"), &r, 2, v_int(wo), v_int(0)), WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "bad-descriptor") == 0);
    /* Same object, different descriptors; the hash follows the file. */
    CHECK_EQ(call2(f.w, FS, D("is-same-object"), &r, 2, v_int(d), v_int(wo)), WP_WASI2_DONE);
    CHECK(r.kind == WP_VBOOL && r.of.b);
    CHECK_EQ(call2(f.w, FS, D("is-same-object"), &r, 2, v_int(d), v_int(f.rw)), WP_WASI2_DONE);
    CHECK(!r.of.b);
    wp_value h1;
    wp_value h2;
    CHECK_EQ(call2(f.w, FS, D("metadata-hash"), &h1, 1, v_int(d)), WP_WASI2_DONE);
    CHECK_EQ(call2(f.w, FS, D("metadata-hash-at"), &h2, 3, v_int(f.rw), v_noflags(),
                   v_str("in.txt")),
             WP_WASI2_DONE);
    CHECK(ok_of(&h1) && wp_value_map_get(ok_of(&h1), "upper"));
    CHECK(wp_value_equal(&h1, &h2));
    wp_value_free(&h2);
    CHECK_EQ(call2(f.w, FS, D("metadata-hash"), &h2, 1, v_int(f.rw)), WP_WASI2_DONE);
    CHECK(!wp_value_equal(&h1, &h2));
    wp_value_free(&h1);
    wp_value_free(&h2);
    /* Directories are not streams. */
    CHECK_EQ(call2(f.w, FS, D("read-via-stream"), &r, 2, v_int(f.rw), v_int(0)), WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "is-directory") == 0);
    CHECK_EQ(drop2(f.w, "descriptor", d), WP_WASI2_DONE);
    CHECK_EQ(drop2(f.w, "descriptor", wo), WP_WASI2_DONE);
    teardown(&f);
}

static void test_streams(void) {
    fx f;
    CHECK(setup(&f));
    char code[32];
    wp_value r;
    int64_t d = open_at(&f, f.rw, "s.txt", v_flag("create"),
                        v_map(2, "read", wp_value_bool(true), "write", wp_value_bool(true)), code);
    CHECK_EQ(call2(f.w, FS, D("write-via-stream"), &r, 2, v_int(d), v_int(2)), WP_WASI2_DONE);
    int64_t out = ok_int(&r);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, "wasi:io/streams", "[method]output-stream.blocking-write-and-flush", &r,
                   2, v_int(out), v_str("cd")),
             WP_WASI2_DONE); /* a file never waits */
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("append-via-stream"), &r, 1, v_int(d)), WP_WASI2_DONE);
    int64_t app = ok_int(&r);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, "wasi:io/streams", "[method]output-stream.write", &r, 2, v_int(app),
                   v_str("ef")),
             WP_WASI2_DONE);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("write"), &r, 3, v_int(d), v_str("ab"), v_int(0)), WP_WASI2_DONE);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("read-via-stream"), &r, 2, v_int(d), v_int(1)), WP_WASI2_DONE);
    int64_t in = ok_int(&r);
    wp_value_free(&r);
    CHECK_EQ(drop2(f.w, "descriptor", d), WP_WASI2_DONE); /* streams outlive it */
    CHECK_EQ(call2(f.w, "wasi:io/streams", "[method]input-stream.blocking-read", &r, 2,
                   v_int(in), v_int(100)),
             WP_WASI2_DONE);
    CHECK(bytes_eq(ok_of(&r), "bcdef"));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, "wasi:io/streams", "[method]input-stream.read", &r, 2, v_int(in),
                   v_int(100)),
             WP_WASI2_DONE);
    const wp_value *e = wp_value_map_get(&r, "err");
    CHECK(e && wp_value_map_get(e, "closed"));
    wp_value_free(&r);
    CHECK_EQ(drop2(f.w, "input-stream", in), WP_WASI2_DONE);
    CHECK_EQ(drop2(f.w, "output-stream", out), WP_WASI2_DONE);
    CHECK_EQ(drop2(f.w, "output-stream", app), WP_WASI2_DONE);
    teardown(&f);
}

/* ---- Paths ------------------------------------------------------------------------------- */

static void test_path_functions(void) {
    fx f;
    CHECK(setup(&f));
    char code[32];
    wp_value r;
    CHECK_EQ(call2(f.w, FS, D("create-directory-at"), &r, 2, v_int(f.rw), v_str("made")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "") == 0);
    CHECK_EQ(call2(f.w, FS, D("create-directory-at"), &r, 2, v_int(f.rw), v_str("made")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "exist") == 0);
    put_file(&f, "rw/made/a.txt", "A");
    CHECK_EQ(call2(f.w, FS, D("rename-at"), &r, 4, v_int(f.rw), v_str("made/a.txt"), v_int(f.cwd),
                   v_str("b.txt")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "") == 0);
    char p[512];
    path_of(&f, p, sizeof p, "rw/sub/b.txt");
    CHECK_EQ(access(p, F_OK), 0);
    CHECK_EQ(call2(f.w, FS, D("link-at"), &r, 5, v_int(f.cwd), v_noflags(), v_str("b.txt"),
                   v_int(f.rw), v_str("hard.txt")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "") == 0);
    CHECK_EQ(call2(f.w, FS, D("stat-at"), &r, 3, v_int(f.rw), v_noflags(), v_str("hard.txt")),
             WP_WASI2_DONE);
    CHECK(ok_of(&r) && wp_value_map_get(ok_of(&r), "link-count")->of.i == 2);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("symlink-at"), &r, 3, v_int(f.rw), v_str("hard.txt"), v_str("ln")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "") == 0);
    CHECK_EQ(call2(f.w, FS, D("readlink-at"), &r, 2, v_int(f.rw), v_str("ln")), WP_WASI2_DONE);
    CHECK(bytes_eq(ok_of(&r), "hard.txt"));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("readlink-at"), &r, 2, v_int(f.rw), v_str("hard.txt")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "invalid") == 0);
    /* stat-at: the link itself, or what it points to with symlink-follow. */
    CHECK_EQ(call2(f.w, FS, D("stat-at"), &r, 3, v_int(f.rw), v_noflags(), v_str("ln")),
             WP_WASI2_DONE);
    CHECK(ok_of(&r) && bytes_eq(wp_value_map_get(ok_of(&r), "type"), "symbolic-link"));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("stat-at"), &r, 3, v_int(f.rw), v_flag("symlink-follow"),
                   v_str("ln")),
             WP_WASI2_DONE);
    CHECK(ok_of(&r) && bytes_eq(wp_value_map_get(ok_of(&r), "type"), "regular-file"));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("set-times-at"), &r, 5, v_int(f.rw), v_noflags(), v_str("hard.txt"),
                   v_case("now"),
                   v_map(1, "timestamp", v_map(2, "seconds", v_int(77), "nanoseconds", v_int(0)))),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "") == 0);
    struct stat hs;
    path_of(&f, p, sizeof p, "rw/hard.txt");
    CHECK_EQ(stat(p, &hs), 0);
    CHECK_EQ(hs.st_mtim.tv_sec, 77);
    CHECK_EQ(call2(f.w, FS, D("unlink-file-at"), &r, 2, v_int(f.rw), v_str("ln")), WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "") == 0);
    CHECK_EQ(call2(f.w, FS, D("remove-directory-at"), &r, 2, v_int(f.rw), v_str("sub")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "not-empty") == 0);
    CHECK_EQ(call2(f.w, FS, D("remove-directory-at"), &r, 2, v_int(f.rw), v_str("made")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "") == 0);
    CHECK_EQ(call2(f.w, FS, D("stat-at"), &r, 3, v_int(f.rw), v_noflags(), v_str("made")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "no-entry") == 0);
    CHECK_EQ(call2(f.w, FS, D("unlink-file-at"), &r, 2, v_int(f.rw), v_str("sub")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "is-directory") == 0);
    /* Path errors of our own: a NUL inside, too long. */
    CHECK_EQ(call2(f.w, FS, D("stat-at"), &r, 3, v_int(f.rw), v_noflags(), v_str("")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "no-entry") == 0);
    wp_value nul = wp_value_nil();
    CHECK_EQ(wp_value_string(&nul, "a\0b", 3), WP_OK);
    CHECK_EQ(call2(f.w, FS, D("stat-at"), &r, 3, v_int(f.rw), v_noflags(), nul), WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "invalid") == 0);
    char *longp = malloc(5000);
    memset(longp, 'a', 4999);
    longp[4999] = '\0';
    CHECK_EQ(call2(f.w, FS, D("stat-at"), &r, 3, v_int(f.rw), v_noflags(), v_str(longp)),
             WP_WASI2_DONE);
    free(longp);
    CHECK(strcmp(code_of(&r, code), "name-too-long") == 0);
    CHECK_EQ(call2(f.w, FS, D("stat-at"), &r, 3, v_int(f.rw), v_flag("nofollow"), v_str("x")),
             WP_WASI2_TRAP);
    CHECK_STR_CONTAINS(wp_wasi2_trap_msg(f.w), "unknown flag");
    teardown(&f);
}

static void test_open_flags(void) {
    fx f;
    CHECK(setup(&f));
    char code[32];
    put_file(&f, "rw/e.txt", "exists");
    CHECK_EQ(open_at(&f, f.rw, "e.txt", v_map(2, "create", wp_value_bool(true), "exclusive",
                                               wp_value_bool(true)),
                     v_flag("write"), code),
             -1);
    CHECK(strcmp(code, "exist") == 0);
    CHECK_EQ(open_at(&f, f.rw, "e.txt", v_flag("directory"), v_flag("read"), code), -1);
    CHECK(strcmp(code, "not-directory") == 0);
    CHECK_EQ(open_at(&f, f.rw, "nope.txt", v_noflags(), v_flag("read"), code), -1);
    CHECK(strcmp(code, "no-entry") == 0);
    int64_t t = open_at(&f, f.rw, "e.txt", v_flag("truncate"), v_flag("write"), code);
    CHECK(t > 0);
    char p[512];
    path_of(&f, p, sizeof p, "rw/e.txt");
    struct stat hs;
    CHECK_EQ(stat(p, &hs), 0);
    CHECK_EQ(hs.st_size, 0);
    /* A directory opened from a directory keeps the right to change it. */
    int64_t sub = open_at(&f, f.rw, "sub", v_flag("directory"), v_flag("read"), code);
    CHECK(sub > 0);
    int64_t in = open_at(&f, sub, "inner.txt", v_flag("create"), v_flag("write"), code);
    CHECK(in > 0);
    wp_value r;
    CHECK_EQ(call2(f.w, FS, D("get-flags"), &r, 1, v_int(in)), WP_WASI2_DONE);
    CHECK(ok_of(&r) && !wp_value_map_get(ok_of(&r), "mutate-directory"));
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, D("read"), &r, 3, v_int(sub), v_int(1), v_int(0)), WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "is-directory") == 0);
    CHECK_EQ(call2(f.w, FS, D("open-at"), &r, 5, v_int(f.rw), v_noflags(), v_str("x"),
                   v_str("create"), v_noflags()),
             WP_WASI2_TRAP); /* flags are a map, not a string */
    int64_t ds[] = {t, sub, in};
    for (int i = 0; i < 3; i++)
        CHECK_EQ(drop2(f.w, "descriptor", ds[i]), WP_WASI2_DONE);
    teardown(&f);
}

static void test_read_directory(void) {
    fx f;
    CHECK(setup(&f));
    put_file(&f, "rw/f.txt", "x");
    wp_value r;
    CHECK_EQ(call2(f.w, FS, D("read-directory"), &r, 1, v_int(f.rw)), WP_WASI2_DONE);
    int64_t s = ok_int(&r);
    wp_value_free(&r);
    int seen_dir = 0;
    int seen_file = 0;
    int total = 0;
    for (;;) {
        CHECK_EQ(call2(f.w, FS, "[method]directory-entry-stream.read-directory-entry", &r, 1,
                       v_int(s)),
                 WP_WASI2_DONE);
        const wp_value *e = ok_of(&r);
        if (!e || e->kind == WP_VNIL) {
            wp_value_free(&r);
            break;
        }
        total++;
        const wp_value *name = wp_value_map_get(e, "name");
        const wp_value *type = wp_value_map_get(e, "type");
        if (bytes_eq(name, "sub") && bytes_eq(type, "directory"))
            seen_dir++;
        if (bytes_eq(name, "f.txt") && bytes_eq(type, "regular-file"))
            seen_file++;
        wp_value_free(&r);
    }
    CHECK_EQ(total, 2); /* no "." or ".." */
    CHECK_EQ(seen_dir, 1);
    CHECK_EQ(seen_file, 1);
    CHECK_EQ(drop2(f.w, "directory-entry-stream", s), WP_WASI2_DONE);
    teardown(&f);
}

/* ---- The sandbox ------------------------------------------------------------------------- */

static void check_read_only(fx *f) {
    char code[32];
    wp_value r;
    CHECK_EQ(open_at(f, f->ro, "new.txt", v_flag("create"), v_flag("write"), code), -1);
    CHECK(strcmp(code, "read-only") == 0);
    CHECK_EQ(open_at(f, f->ro, "file.txt", v_noflags(), v_flag("write"), code), -1);
    CHECK(strcmp(code, "read-only") == 0);
    CHECK_EQ(open_at(f, f->ro, "file.txt", v_flag("truncate"), v_flag("read"), code), -1);
    CHECK(strcmp(code, "read-only") == 0);
    int64_t d = open_at(f, f->ro, "file.txt", v_noflags(), v_flag("read"), code);
    CHECK(d > 0);
    CHECK_EQ(call2(f->w, FS, D("read"), &r, 3, v_int(d), v_int(100), v_int(0)), WP_WASI2_DONE);
    CHECK(ok_of(&r) && bytes_eq(wp_value_at(ok_of(&r), 0), "read only"));
    wp_value_free(&r);
    CHECK_EQ(call2(f->w, FS, D("write"), &r, 3, v_int(d), v_str("x"), v_int(0)), WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "read-only") == 0);
    CHECK_EQ(call2(f->w, FS, D("set-size"), &r, 2, v_int(d), v_int(0)), WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "read-only") == 0);
    CHECK_EQ(call2(f->w, FS, D("set-times"), &r, 3, v_int(d), v_case("now"), v_case("now")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "read-only") == 0);
    CHECK_EQ(call2(f->w, FS, D("append-via-stream"), &r, 1, v_int(d)), WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "read-only") == 0);
    CHECK_EQ(call2(f->w, FS, D("create-directory-at"), &r, 2, v_int(f->ro), v_str("d")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "read-only") == 0);
    CHECK_EQ(call2(f->w, FS, D("unlink-file-at"), &r, 2, v_int(f->ro), v_str("file.txt")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "read-only") == 0);
    CHECK_EQ(call2(f->w, FS, D("symlink-at"), &r, 3, v_int(f->ro), v_str("file.txt"), v_str("l")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "read-only") == 0);
    CHECK_EQ(call2(f->w, FS, D("set-times-at"), &r, 5, v_int(f->ro), v_noflags(),
                   v_str("file.txt"), v_case("now"), v_case("now")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "read-only") == 0);
    CHECK_EQ(call2(f->w, FS, D("rename-at"), &r, 4, v_int(f->ro), v_str("file.txt"), v_int(f->rw),
                   v_str("stolen.txt")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "read-only") == 0);
    CHECK_EQ(call2(f->w, FS, D("link-at"), &r, 5, v_int(f->ro), v_noflags(), v_str("file.txt"),
                   v_int(f->rw), v_str("hl")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "read-only") == 0);
    CHECK_EQ(call2(f->w, FS, D("remove-directory-at"), &r, 2, v_int(f->ro), v_str(".")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "read-only") == 0);
    CHECK_EQ(drop2(f->w, "descriptor", d), WP_WASI2_DONE);
    /* Nothing changed on the host. */
    char p[512];
    path_of(f, p, sizeof p, "ro/file.txt");
    struct stat hs;
    CHECK_EQ(stat(p, &hs), 0);
    CHECK_EQ(hs.st_size, 9);
    path_of(f, p, sizeof p, "rw/stolen.txt");
    CHECK(access(p, F_OK) != 0);
}

static void check_escapes(fx *f) {
    char code[32];
    wp_value r;
    const char *outside[] = {"../secret.txt", "/etc/passwd", "sub/../../secret.txt",
                             "../ro/file.txt"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        CHECK_EQ(open_at(f, f->rw, outside[i], v_noflags(), v_flag("read"), code), -1);
        CHECK(strcmp(code, "not-permitted") == 0);
    }
    CHECK_EQ(call2(f->w, FS, D("stat-at"), &r, 3, v_int(f->cwd), v_noflags(), v_str("../..")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "not-permitted") == 0);
    /* A symbolic link made inside that points out is refused when followed. */
    CHECK_EQ(call2(f->w, FS, D("symlink-at"), &r, 3, v_int(f->rw), v_str("../secret.txt"),
                   v_str("out")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "") == 0);
    CHECK_EQ(open_at(f, f->rw, "out", v_noflags(), v_flag("read"), code), -1);
    CHECK(strcmp(code, "loop") == 0 || strcmp(code, "not-permitted") == 0);
    wp_value flags = v_flag("symlink-follow");
    CHECK_EQ(call2(f->w, FS, D("open-at"), &r, 5, v_int(f->rw), flags, v_str("out"), v_noflags(),
                   v_flag("read")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "not-permitted") == 0);
    CHECK_EQ(call2(f->w, FS, D("rename-at"), &r, 4, v_int(f->rw), v_str("sub"), v_int(f->rw),
                   v_str("../moved")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "not-permitted") == 0);
    CHECK_EQ(call2(f->w, FS, D("unlink-file-at"), &r, 2, v_int(f->rw), v_str("out")),
             WP_WASI2_DONE);
    CHECK(strcmp(code_of(&r, code), "") == 0);
}

static void test_sandbox(void) {
    fx f;
    CHECK(setup(&f));
    check_read_only(&f);
    check_escapes(&f);
    teardown(&f);
    CHECK(setup_flags(&f, WP_WASI_PORTABLE_RESOLVE)); /* the same through the portable walk */
    check_read_only(&f);
    check_escapes(&f);
    teardown(&f);
}

static void test_error_codes(void) {
    fx f;
    CHECK(setup(&f));
    char code[32];
    wp_value r;
    /* A write whose end would lie past 2^63 fails; the stream reports it as an error resource
     * whose filesystem-error-code names it. */
    int64_t d = open_at(&f, f.rw, "big.txt", v_flag("create"), v_flag("write"), code);
    CHECK_EQ(call2(f.w, FS, D("write-via-stream"), &r, 2, v_int(d), v_int(INT64_MAX - 1)),
             WP_WASI2_DONE);
    int64_t out = ok_int(&r);
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, "wasi:io/streams", "[method]output-stream.write", &r, 2, v_int(out),
                   v_str("xyz")),
             WP_WASI2_DONE);
    const wp_value *e = wp_value_map_get(&r, "err");
    const wp_value *h = e ? wp_value_map_get(e, "last-operation-failed") : NULL;
    CHECK(h && h->kind == WP_VINT);
    int64_t er = h ? h->of.i : 0;
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, FS, "filesystem-error-code", &r, 1, v_int(er)), WP_WASI2_DONE);
    CHECK(bytes_eq(&r, "invalid")); /* offset + length past 2^63: the host's EINVAL */
    wp_value_free(&r);
    CHECK_EQ(call2(f.w, "wasi:io/error", "[method]error.to-debug-string", &r, 1, v_int(er)),
             WP_WASI2_DONE);
    CHECK_STR_CONTAINS(wp_value_str(&r, NULL), "write: ");
    wp_value_free(&r);
    /* An error handle is not a descriptor, and the reverse. */
    CHECK_EQ(call2(f.w, FS, "filesystem-error-code", &r, 1, v_int(f.rw)), WP_WASI2_TRAP);
    CHECK_STR_CONTAINS(wp_wasi2_trap_msg(f.w), "not a live error");
    CHECK_EQ(call2(f.w, FS, D("stat"), &r, 1, v_int(er)), WP_WASI2_TRAP);
    CHECK_EQ(drop2(f.w, "error", er), WP_WASI2_DONE);
    CHECK_EQ(drop2(f.w, "output-stream", out), WP_WASI2_DONE);
    CHECK_EQ(drop2(f.w, "descriptor", d), WP_WASI2_DONE);
    teardown(&f);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    RUN_TEST(test_preopens);
    RUN_TEST(test_file_read_write);
    RUN_TEST(test_descriptor_modes);
    RUN_TEST(test_streams);
    RUN_TEST(test_path_functions);
    RUN_TEST(test_open_flags);
    RUN_TEST(test_read_directory);
    RUN_TEST(test_sandbox);
    RUN_TEST(test_error_codes);
    return TEST_EXIT();
}
