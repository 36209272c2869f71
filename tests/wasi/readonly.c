/* readonly.c: every way to change a read-only mount argv[1] (with a writable mount argv[2]
 * beside it), one line each: the errno it fails with, or "CHANGED". Reading must still work.
 * wasm32-wasi only (native has no read-only mounts to test against). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errname.h"

static const char *ro;
static const char *rw;

static const char *in(const char *dir, const char *name) {
    static char buf[8][1024];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

static void show(const char *what, int rc) {
    printf("%-28s %s\n", what, rc < 0 ? errname(errno) : "CHANGED");
}

static void opens(void) {
    show("open write", open(in(ro, "file.txt"), O_WRONLY));
    show("open read-write", open(in(ro, "file.txt"), O_RDWR));
    show("open append", open(in(ro, "file.txt"), O_WRONLY | O_APPEND));
    show("open truncate", open(in(ro, "file.txt"), O_RDONLY | O_TRUNC));
    show("create", open(in(ro, "new.txt"), O_CREAT | O_WRONLY, 0644));
    show("create exclusive", open(in(ro, "new.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644));
    show("create in subdir", open(in(ro, "sub/new.txt"), O_CREAT | O_WRONLY, 0644));
}

static void on_descriptor(void) {
    int fd = open(in(ro, "file.txt"), O_RDONLY);
    show("write", (int)write(fd, "x", 1));
    show("pwrite", (int)pwrite(fd, "x", 1, 0));
    show("ftruncate", ftruncate(fd, 0));
    int rc = posix_fallocate(fd, 0, 100);
    printf("%-28s %s\n", "posix_fallocate", rc ? errname(rc) : "CHANGED");
    struct timespec ts[2] = {{1, 0}, {1, 0}};
    show("futimens", futimens(fd, ts));
    close(fd);
    int dfd = open(in(ro, "sub"), O_RDONLY | O_DIRECTORY);
    show("create via subdir fd", openat(dfd, "x.txt", O_CREAT | O_WRONLY, 0644));
    show("mkdir via subdir fd", mkdirat(dfd, "x", 0755));
    close(dfd);
}

static void names(void) {
    show("mkdir", mkdir(in(ro, "newdir"), 0755));
    show("rmdir", rmdir(in(ro, "emptydir")));
    show("unlink", unlink(in(ro, "file.txt")));
    show("rename inside", rename(in(ro, "file.txt"), in(ro, "renamed.txt")));
    show("rename to writable", rename(in(ro, "file.txt"), in(rw, "taken.txt")));
    show("rename from writable", rename(in(rw, "mine.txt"), in(ro, "given.txt")));
    show("link inside", link(in(ro, "file.txt"), in(ro, "hard.txt")));
    show("link to writable", link(in(ro, "file.txt"), in(rw, "hard.txt")));
    show("symlink", symlink("file.txt", in(ro, "sym")));
    show("truncate path", truncate(in(ro, "file.txt"), 0));
    struct timespec ts[2] = {{1, 0}, {1, 0}};
    show("utimensat", utimensat(AT_FDCWD, in(ro, "file.txt"), ts, 0));
}

static void reading(void) {
    char buf[64] = {0};
    int fd = open(in(ro, "file.txt"), O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    printf("%-28s %s", "read", n > 0 ? buf : "FAILED\n");
    close(fd);
    struct stat st;
    printf("%-28s %s\n", "stat", stat(in(ro, "file.txt"), &st) == 0 ? "ok" : "FAILED");
    DIR *d = opendir(ro);
    int entries = 0;
    while (d && readdir(d))
        entries++;
    if (d)
        closedir(d);
    printf("%-28s %d entries\n", "readdir", entries);
    fd = open(in(rw, "mine.txt"), O_WRONLY | O_APPEND);
    printf("%-28s %s\n", "writable mount still writes",
           fd >= 0 && write(fd, "more\n", 5) == 5 ? "ok" : "FAILED");
    close(fd);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: readonly RO_DIR RW_DIR\n");
        return 2;
    }
    ro = argv[1];
    rw = argv[2];
    opens();
    on_descriptor();
    names();
    reading();
    return 0;
}
