/* escape.c: tries every way out of the mount argv[1] that the test (escape.sh) prepared: '..',
 * absolute and relative symbolic links at several depths, links to directories, chains,
 * a magic link, links the guest makes itself, a directory swapped for a link after it was
 * opened, renaming and linking out, paths through a file, '//', empty and absolute paths.
 * Prints one line per attempt: "blocked ERRNO", "allowed" (for reads that stay inside), or
 * "ESCAPED" if it read the secret. wasm32-wasi only. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#include "errname.h"

static const char *box;

static const char *at(const char *name) {
    static char buf[8][1024];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", box, name);
    return p;
}

/* fd: an open descriptor to read and close, or -1 with errno set. */
static void report(const char *what, int fd) {
    if (fd < 0) {
        printf("%-26s blocked %s\n", what, errname(errno));
        return;
    }
    char buf[128] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0 && strstr(buf, "SECRET"))
        printf("%-26s ESCAPED: %s", what, buf);
    else
        printf("%-26s allowed: %s", what, n > 0 ? buf : "(nothing)\n");
}

static void try_read(const char *what, const char *path) {
    report(what, open(path, O_RDONLY));
}

static void try_rc(const char *what, int rc) {
    if (rc < 0)
        printf("%-26s blocked %s\n", what, errname(errno));
    else
        printf("%-26s ESCAPED\n", what);
}

static void reads(void) {
    try_read("dotdot", at("../secret.txt"));
    try_read("dotdot deep", at("a/b/../../../secret.txt"));
    try_read("dotdot outside dir", at("../outside/secret.txt"));
    try_read("absolute link", at("link_abs"));
    try_read("relative link", at("link_rel"));
    try_read("deep relative link", at("a/b/c/link_deep"));
    try_read("link to outside dir", at("outdir_link/secret.txt"));
    try_read("abs link to outside dir", at("outdir_abs/secret.txt"));
    try_read("link chain", at("chain2"));
    try_read("magic link", at("magic"));
    try_read("sneaky link", at("sneaky/secret.txt"));
    try_read("self links", at("self/self/../secret.txt"));
    try_read("link with slash", at("outdir_link/"));
    try_read("through a file", at("inside.txt/../../secret.txt"));
    try_read("double slash", at("/../secret.txt"));
    try_read("double slash inside", at("a//b/../../inside.txt"));
    try_read("up link inside", at("a/b/up"));
    try_read("dot inside", at("./inside.txt"));
}

static void metadata(void) {
    struct stat st;
    try_rc("stat dotdot", stat(at("../secret.txt"), &st));
    try_rc("stat absolute link", stat(at("link_abs"), &st));
    try_rc("stat outside dir link", stat(at("outdir_link/secret.txt"), &st));
    printf("%-26s %s\n", "lstat absolute link",
           lstat(at("link_abs"), &st) == 0 && S_ISLNK(st.st_mode) ? "allowed (the link)" : "WRONG");
    DIR *d = opendir(at("outdir_link"));
    try_rc("opendir outside", d ? 0 : -1);
    if (d)
        closedir(d);
    d = opendir(at(".."));
    try_rc("opendir dotdot", d ? 0 : -1);
    if (d)
        closedir(d);
    struct timespec ts[2] = {{1, 0}, {1, 0}};
    try_rc("utimes through link", utimensat(AT_FDCWD, at("link_abs"), ts, 0));
    try_rc("truncate through link", truncate(at("link_rel"), 0));
}

static void changes(void) {
    try_rc("mkdir outside", mkdir(at("../newdir"), 0755));
    try_rc("unlink outside", unlink(at("../secret.txt")));
    try_rc("unlink via dir link", unlink(at("outdir_link/secret.txt")));
    try_rc("rename out", rename(at("inside.txt"), at("../moved.txt")));
    try_rc("rename out via link", rename(at("inside.txt"), at("outdir_link/moved.txt")));
    try_rc("rename in", rename(at("../secret.txt"), at("stolen.txt")));
    try_rc("link out", link(at("inside.txt"), at("../linked.txt")));
    try_rc("link in", link(at("../secret.txt"), at("stolen.txt")));
    try_rc("link in via link", linkat(AT_FDCWD, at("link_abs"), AT_FDCWD, at("stolen.txt"),
                                      AT_SYMLINK_FOLLOW));
    try_rc("create via dir link", open(at("outdir_link/created.txt"), O_CREAT | O_WRONLY, 0644));
    try_rc("create via dangling link", open(at("dangling_out"), O_CREAT | O_WRONLY, 0644));
    symlink("../secret.txt", at("mine_rel"));
    try_read("own relative link", at("mine_rel"));
    symlink("/etc/passwd", at("mine_abs"));
    try_read("own absolute link", at("mine_abs"));
}

/* A directory opened, then swapped for a link out: the descriptor still means the real
 * directory; the path now leads out and is refused. */
static void swapped(void) {
    mkdir(at("swap"), 0755);
    int fd = open(at("swap/f.txt"), O_CREAT | O_WRONLY, 0644);
    write(fd, "inside-swap\n", 12);
    close(fd);
    int dfd = open(at("swap"), O_RDONLY | O_DIRECTORY);
    rename(at("swap"), at("swap2"));
    symlink("../outside", at("swap"));
    report("swapped: held fd", openat(dfd, "f.txt", O_RDONLY));
    try_read("swapped: path", at("swap/secret.txt"));
    report("swapped: fd dotdot", openat(dfd, "../secret.txt", O_RDONLY));
    close(dfd);
}

/* Raw WASI calls with paths wasi-libc would never pass. */
static void raw(void) {
    __wasi_fd_t fd;
    const char *cases[][2] = {{"raw absolute", "/etc/passwd"},
                              {"raw empty", ""},
                              {"raw dotdot", ".."},
                              {"raw dot slash dotdot", "./.."}};
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        __wasi_errno_t e = __wasi_path_open(3, 0, cases[i][1], 0, __WASI_RIGHTS_FD_READ, 0, 0,
                                            &fd);
        errno = e;
        try_rc(cases[i][0], e ? -1 : 0);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: escape DIR\n");
        return 2;
    }
    box = argv[1];
    reads();
    metadata();
    changes();
    swapped();
    raw();
    return 0;
}
