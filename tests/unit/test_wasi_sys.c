/* test_wasi_sys.c: the sandboxed system layer, white-box: both path resolvers against every
 * kind of escape, the path operations' errors, a race that swaps a directory for a link out
 * while paths are resolved, and host errno -> WASI errno. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/wasi/internal.h"
#include "test.h"

static char root[256]; /* <tmp>/ holds secret.txt, outside/, and box/ (the mount) */
static int box = -1;

static void path_at(char *buf, size_t cap, const char *rel) {
    snprintf(buf, cap, "%s/%s", root, rel);
}

static void put_file(const char *rel, const char *text) {
    char p[512];
    path_at(p, sizeof p, rel);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void put_link(const char *target, const char *rel) {
    char p[512];
    path_at(p, sizeof p, rel);
    if (symlink(target, p) != 0)
        fprintf(stderr, "symlink %s: %s\n", p, strerror(errno));
}

static void put_dir(const char *rel) {
    char p[512];
    path_at(p, sizeof p, rel);
    mkdir(p, 0755);
}

static bool make_tree(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/wippy-sys.XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(root))
        return false;
    char abs[600];
    put_dir("outside");
    put_dir("box");
    put_dir("box/a");
    put_dir("box/a/b");
    put_file("secret.txt", "SECRET");
    put_file("outside/secret.txt", "SECRET");
    put_file("box/inside.txt", "inside");
    put_file("box/a/b/deep.txt", "deep");
    path_at(abs, sizeof abs, "secret.txt");
    put_link(abs, "box/link_abs");
    put_link("../secret.txt", "box/link_rel");
    put_link("../../../secret.txt", "box/a/b/link_deep");
    put_link("../outside", "box/out_dir");
    put_link("../../inside.txt", "box/a/b/up");
    put_link("a/b", "box/ab");
    put_link("loop2", "box/loop1");
    put_link("loop1", "box/loop2");
    put_link("nowhere", "box/dangling");
    char p[512];
    path_at(p, sizeof p, "box");
    box = open(p, O_RDONLY | O_DIRECTORY);
    return box >= 0;
}

static void remove_tree(void) {
    char cmd[600];
    close(box);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK_EQ(system(cmd), 0);
}

/* Opens path for reading; returns the errno (0: opened, and *text has the first bytes). */
static int try_open(const char *path, unsigned how, char *text, size_t cap) {
    int fd;
    int e = wp__sys_open(box, path, O_RDONLY, how, &fd);
    text[0] = '\0';
    if (e == 0) {
        ssize_t n = read(fd, text, cap - 1);
        text[n > 0 ? n : 0] = '\0';
        close(fd);
    }
    return e;
}

static void test_open(unsigned portable) {
    static const struct {
        const char *path;
        unsigned follow;
        int want;
        const char *text;
    } cases[] = {
        {"inside.txt", WP_SYS_FOLLOW, 0, "inside"},
        {"./a/../inside.txt", WP_SYS_FOLLOW, 0, "inside"},
        {"a//b///deep.txt", WP_SYS_FOLLOW, 0, "deep"},
        {"a/b/up", WP_SYS_FOLLOW, 0, "inside"},
        {"ab/deep.txt", WP_SYS_FOLLOW, 0, "deep"},
        {"ab/../b/deep.txt", WP_SYS_FOLLOW, 0, "deep"}, /* '..' after a link: its target's */
        {"ab/../inside.txt", WP_SYS_FOLLOW, ENOENT, ""},
        {"../secret.txt", WP_SYS_FOLLOW, WP_SYS_ENOTCAPABLE, ""},
        {"a/../../secret.txt", WP_SYS_FOLLOW, WP_SYS_ENOTCAPABLE, ""},
        {"..", WP_SYS_FOLLOW, WP_SYS_ENOTCAPABLE, ""},
        {"/etc/passwd", WP_SYS_FOLLOW, WP_SYS_ENOTCAPABLE, ""},
        {"link_abs", WP_SYS_FOLLOW, WP_SYS_ENOTCAPABLE, ""},
        {"link_rel", WP_SYS_FOLLOW, WP_SYS_ENOTCAPABLE, ""},
        {"a/b/link_deep", WP_SYS_FOLLOW, WP_SYS_ENOTCAPABLE, ""},
        {"out_dir/secret.txt", WP_SYS_FOLLOW, WP_SYS_ENOTCAPABLE, ""},
        {"out_dir/../box/inside.txt", WP_SYS_FOLLOW, WP_SYS_ENOTCAPABLE, ""},
        {"inside.txt/../inside.txt", WP_SYS_FOLLOW, ENOTDIR, ""},
        {"", WP_SYS_FOLLOW, ENOENT, ""},
        {"missing", WP_SYS_FOLLOW, ENOENT, ""},
        {"dangling", WP_SYS_FOLLOW, ENOENT, ""},
        {"loop1", WP_SYS_FOLLOW, ELOOP, ""},
        {"link_rel", 0, ELOOP, ""}, /* not followed: the link itself cannot be opened */
        {"a/b/up", 0, ELOOP, ""},
    };
    for (size_t i = 0; i < WP_ARRAY_LEN(cases); i++) {
        char text[64];
        int e = try_open(cases[i].path, cases[i].follow | portable, text, sizeof text);
        if (e != cases[i].want || strcmp(text, cases[i].text) != 0)
            fprintf(stderr, "  open '%s' (%s): got %d [%s]\n", cases[i].path,
                    portable ? "portable" : "openat2", e, text);
        CHECK_EQ(e, cases[i].want);
        CHECK(strcmp(text, cases[i].text) == 0);
    }
}

static void test_open_both(void) {
    test_open(0);
    test_open(WP_SYS_PORTABLE);
}

static void test_open_create(unsigned portable) {
    int fd;
    unsigned f = WP_SYS_FOLLOW | portable;
    CHECK_EQ(wp__sys_open(box, "new.txt", O_CREAT | O_WRONLY, f, &fd), 0);
    close(fd);
    CHECK_EQ(wp__sys_open(box, "new.txt", O_CREAT | O_EXCL | O_WRONLY, f, &fd), EEXIST);
    /* A dangling link: exclusive creation refuses it; plain creation makes its target. */
    CHECK_EQ(wp__sys_open(box, "dangling", O_CREAT | O_EXCL | O_WRONLY, f, &fd), EEXIST);
    CHECK_EQ(wp__sys_open(box, "dangling", O_CREAT | O_WRONLY, f, &fd), 0);
    close(fd);
    CHECK_EQ(unlinkat(box, "nowhere", 0), 0);
    CHECK_EQ(wp__sys_open(box, "a/", O_RDONLY, portable, &fd), 0); /* a slash follows */
    close(fd);
    CHECK_EQ(wp__sys_open(box, "inside.txt/", O_RDONLY, f, &fd), ENOTDIR);
    CHECK_EQ(unlinkat(box, "new.txt", 0), 0);
}

static void test_open_create_both(void) {
    test_open_create(0);
    test_open_create(WP_SYS_PORTABLE);
}

static void test_long_paths(void) {
    char *p = malloc(WP_SYS_PATH_MAX + 2);
    memset(p, 'a', WP_SYS_PATH_MAX + 1);
    p[WP_SYS_PATH_MAX + 1] = '\0';
    int fd;
    CHECK_EQ(wp__sys_open(box, p, O_RDONLY, WP_SYS_PORTABLE, &fd), ENAMETOOLONG);
    CHECK_EQ(wp__sys_open(box, p, O_RDONLY, 0, &fd), ENAMETOOLONG);
    /* More nested directories than the portable walk holds open. */
    size_t n = 0;
    int dir = dup(box);
    for (int i = 0; i < WP_SYS_MAX_DEPTH + 2; i++) { /* the final component needs no slot */
        mkdirat(dir, "d", 0755);
        int next = openat(dir, "d", O_RDONLY | O_DIRECTORY);
        close(dir);
        dir = next;
        n += (size_t)sprintf(p + n, "d/");
    }
    close(dir);
    p[n - 1] = '\0';
    CHECK_EQ(wp__sys_open(box, p, O_RDONLY, WP_SYS_PORTABLE, &fd), ENAMETOOLONG);
    if (WP_SYS_LINUX) { /* openat2 has no such limit */
        CHECK_EQ(wp__sys_open(box, p, O_RDONLY, 0, &fd), 0);
        close(fd);
    }
    p[n - 3] = '\0'; /* one level less fits */
    CHECK_EQ(wp__sys_open(box, p, O_RDONLY, WP_SYS_PORTABLE, &fd), 0);
    close(fd);
    free(p);
}

static void test_path_ops(unsigned pt) {
    struct stat st;
    char buf[16];
    size_t n = 0;
    CHECK_EQ(wp__sys_stat(box, "link_abs", pt, &st), 0); /* the link itself */
    CHECK(S_ISLNK(st.st_mode));
    CHECK_EQ(wp__sys_stat(box, "link_abs", WP_SYS_FOLLOW | pt, &st), WP_SYS_ENOTCAPABLE);
    CHECK_EQ(wp__sys_stat(box, "a/b/up", WP_SYS_FOLLOW | pt, &st), 0);
    CHECK(S_ISREG(st.st_mode) && st.st_size == 6);
    CHECK_EQ(wp__sys_stat(box, "inside.txt/", pt, &st), ENOTDIR);
    CHECK_EQ(wp__sys_stat(box, "a/b/..", pt, &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_EQ(wp__sys_stat(box, "loop1", WP_SYS_FOLLOW | pt, &st), ELOOP);
    CHECK_EQ(wp__sys_mkdir(box, "../made", pt), WP_SYS_ENOTCAPABLE);
    CHECK_EQ(wp__sys_mkdir(box, "out_dir/made", pt), WP_SYS_ENOTCAPABLE);
    CHECK_EQ(wp__sys_mkdir(box, "a/..", pt), EEXIST);
    CHECK_EQ(wp__sys_mkdir(box, "newdir/", pt), 0);
    CHECK_EQ(wp__sys_rmdir(box, "newdir/", pt), 0);
    CHECK_EQ(wp__sys_rmdir(box, ".", pt), EINVAL);
    CHECK_EQ(wp__sys_unlink(box, "inside.txt/", pt), ENOTDIR);
    CHECK_EQ(wp__sys_unlink(box, "a/", pt), EISDIR);
    CHECK_EQ(wp__sys_unlink(box, "a", pt), EISDIR);
    CHECK_EQ(wp__sys_unlink(box, "../secret.txt", pt), WP_SYS_ENOTCAPABLE);
    CHECK_EQ(wp__sys_rename(box, "inside.txt", box, "../moved", pt), WP_SYS_ENOTCAPABLE);
    CHECK_EQ(wp__sys_rename(box, "inside.txt/", box, "x", pt), ENOTDIR);
    CHECK_EQ(wp__sys_link(box, "inside.txt", box, "out_dir/hard", pt), WP_SYS_ENOTCAPABLE);
    CHECK_EQ(wp__sys_link(box, "link_rel", box, "hard", WP_SYS_FOLLOW | pt), WP_SYS_ENOTCAPABLE);
    CHECK_EQ(wp__sys_link(box, "a/b/up", box, "hard", WP_SYS_FOLLOW | pt), 0);
    CHECK_EQ(wp__sys_stat(box, "hard", pt, &st), 0);
    CHECK(S_ISREG(st.st_mode) && st.st_nlink == 2); /* the file, not the link */
    CHECK_EQ(wp__sys_unlink(box, "hard", pt), 0);
    CHECK_EQ(wp__sys_symlink("x", box, "new/", pt), ENOENT);
    CHECK_EQ(wp__sys_symlink("x", box, "a/", pt), EEXIST);
    CHECK_EQ(wp__sys_readlink(box, "link_rel", buf, 5, &n, pt), 0);
    CHECK(n == 5 && memcmp(buf, "../se", 5) == 0); /* cut to the buffer */
    CHECK_EQ(wp__sys_readlink(box, "link_rel", buf, 0, &n, pt), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(wp__sys_readlink(box, "inside.txt", buf, sizeof buf, &n, pt), EINVAL);
    CHECK_EQ(wp__sys_readlink(box, "missing", buf, 0, &n, pt), ENOENT);
    struct timespec ts[2] = {{1, 0}, {1, 0}};
    CHECK_EQ(wp__sys_utimens(box, "link_abs", WP_SYS_FOLLOW | pt, ts), WP_SYS_ENOTCAPABLE);
    CHECK_EQ(wp__sys_utimens(box, "inside.txt/", pt, ts), ENOTDIR);
}

static void test_path_ops_both(void) {
    test_path_ops(0);
    test_path_ops(WP_SYS_PORTABLE);
}

/* While one thread keeps swapping box/sw between a directory and a link to ../outside,
 * resolutions of sw/secret.txt must never reach the outside's secret. */
static atomic_bool stop;

static void *swapper(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        renameat(box, "sw", box, "sw_dir");
        symlinkat("../outside", box, "sw");
        sched_yield(); /* leave each state in place a moment, so both are seen */
        unlinkat(box, "sw", 0);
        renameat(box, "sw_dir", box, "sw");
        sched_yield();
    }
    return NULL;
}

/* One round: open and stat through the racing path; counts what happened. */
static void race_round(int i, int *opened, int *refused, int *escaped) {
    char text[16];
    unsigned how = WP_SYS_FOLLOW | ((i & 1) ? WP_SYS_PORTABLE : 0);
    int e = try_open("sw/secret.txt", how, text, sizeof text);
    *opened += e == 0;
    *refused += e == WP_SYS_ENOTCAPABLE;
    *escaped += strcmp(text, "SECRET") == 0;
    struct stat st;
    if (wp__sys_stat(box, "sw/secret.txt", how, &st) == 0 &&
        try_open("sw/secret.txt", how, text, sizeof text) == 0 && strcmp(text, "SECRET") == 0)
        (*escaped)++;
}

static void test_race(void) {
    CHECK_EQ(mkdirat(box, "sw", 0755), 0);
    int fd = openat(box, "sw/secret.txt", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0 && write(fd, "inside", 6) == 6);
    close(fd);
    atomic_store(&stop, false);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, swapper, NULL), 0);
    int opened = 0;
    int refused = 0;
    int escaped = 0;
    int i = 0;
    /* At least 20,000 rounds, and on until both outcomes were seen (10 s at most). */
    uint64_t give_up = wp_wasi_now() + 10000000000u;
    for (; i < 20000 || ((!opened || !refused) && wp_wasi_now() < give_up); i++)
        race_round(i, &opened, &refused, &escaped);
    atomic_store(&stop, true);
    pthread_join(t, NULL);
    CHECK_EQ(escaped, 0);
    CHECK(opened > 0 && refused > 0); /* the race really ran both ways */
    fprintf(stderr, "  race: %d rounds, %d opened the directory, %d refused, %d escaped\n", i,
            opened, refused, escaped);
}

static void test_errno_map(void) {
    CHECK_EQ(wp__wasi_errno(0), WP_WASI_ESUCCESS);
    CHECK_EQ(wp__wasi_errno(ENOENT), WP_WASI_ENOENT);
    CHECK_EQ(wp__wasi_errno(EROFS), WP_WASI_EROFS);
    CHECK_EQ(wp__wasi_errno(EXDEV), WP_WASI_EXDEV);
    CHECK_EQ(wp__wasi_errno(EWOULDBLOCK), WP_WASI_EAGAIN);
    CHECK_EQ(wp__wasi_errno(EOPNOTSUPP), WP_WASI_ENOTSUP);
    CHECK_EQ(wp__wasi_errno(ESTALE), WP_WASI_ESTALE);
    CHECK_EQ(wp__wasi_errno(WP_SYS_ENOTCAPABLE), WP_WASI_ENOTCAPABLE);
    CHECK_EQ(wp__wasi_errno(ECHRNG), WP_WASI_EIO); /* no WASI name */
    /* The witx order fixes the numbers. */
    CHECK_EQ(WP_WASI_E2BIG, 1);
    CHECK_EQ(WP_WASI_EFAULT, 21);
    CHECK_EQ(WP_WASI_EROFS, 69);
    CHECK_EQ(WP_WASI_ENOTCAPABLE, 76);
}

static void test_clocks_and_random(void) {
    uint64_t a;
    uint64_t b;
    CHECK_EQ(wp__sys_clock_time(WP_WASI_CLOCK_MONOTONIC, &a), 0);
    CHECK_EQ(wp__sys_clock_time(WP_WASI_CLOCK_MONOTONIC, &b), 0);
    CHECK(b >= a);
    CHECK_EQ(wp__sys_clock_time(4, &a), EINVAL);
    CHECK_EQ(wp__sys_clock_res(WP_WASI_CLOCK_THREAD, &a), 0);
    CHECK(a > 0);
    CHECK_EQ(wp__sys_clock_res(99, &a), EINVAL);
    unsigned char r1[64] = {0};
    unsigned char r2[64] = {0};
    CHECK_EQ(wp__sys_random(r1, sizeof r1), 0);
    CHECK_EQ(wp__sys_random(r2, sizeof r2), 0);
    CHECK(memcmp(r1, r2, sizeof r1) != 0);
}

int main(void) {
    if (!make_tree()) {
        fprintf(stderr, "cannot make a temporary tree\n");
        return 1;
    }
    RUN_TEST(test_open_both);
    RUN_TEST(test_open_create_both);
    RUN_TEST(test_long_paths);
    RUN_TEST(test_path_ops_both);
    RUN_TEST(test_race);
    RUN_TEST(test_errno_map);
    RUN_TEST(test_clocks_and_random);
    remove_tree();
    return TEST_EXIT();
}
