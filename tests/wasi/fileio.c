/* fileio.c: file I/O in the directory argv[1]: create, read, write, seek, pread/pwrite,
 * append, truncate, stat, rename, link, symlink, readdir, unlink, rmdir, times, sync, and
 * the errors of each. Prints the same built for wasm32-wasi and natively. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errname.h"

static const char *dir;

static const char *at(const char *name) {
    static char buf[4][1024];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

static void show(const char *what, int rc) {
    printf("%-28s %s\n", what, rc < 0 ? errname(errno) : "OK");
}

static void write_file(const char *name, const char *text) {
    int fd = open(at(name), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) != 0)
        printf("write_file %s: %s\n", name, errname(errno));
}

static void print_file(const char *name) {
    char buf[256];
    int fd = open(at(name), O_RDONLY);
    if (fd < 0) {
        printf("%s: %s\n", name, errname(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = '.';
    buf[n < 0 ? 0 : n] = '\0';
    printf("%s: [%s]\n", name, buf);
}

static void seeking(void) {
    write_file("a.txt", "0123456789");
    int fd = open(at("a.txt"), O_RDWR);
    char buf[8] = {0};
    printf("lseek end %lld\n", (long long)lseek(fd, 0, SEEK_END));
    printf("lseek set %lld\n", (long long)lseek(fd, 3, SEEK_SET));
    printf("read %zd [%.*s]\n", read(fd, buf, 4), 4, buf);
    printf("lseek cur %lld\n", (long long)lseek(fd, -2, SEEK_CUR));
    printf("pread %zd [%.*s]\n", pread(fd, buf, 3, 7), 3, buf);
    printf("pwrite %zd\n", pwrite(fd, "AB", 2, 1));
    printf("after pread/pwrite at %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    show("lseek before start", (int)lseek(fd, -100, SEEK_SET));
    close(fd);
    print_file("a.txt");
}

static void appending_and_truncating(void) {
    int fd = open(at("a.txt"), O_WRONLY | O_APPEND);
    printf("append flag %s\n", (fcntl(fd, F_GETFL) & O_APPEND) ? "set" : "clear");
    printf("append write %zd\n", write(fd, "xyz", 3));
    show("ftruncate 5", ftruncate(fd, 5));
    close(fd);
    print_file("a.txt");
    fd = open(at("a.txt"), O_RDWR);
    show("ftruncate 8", ftruncate(fd, 8));
    show("fsync", fsync(fd));
    show("fdatasync", fdatasync(fd));
    show("posix_fadvise", -posix_fadvise(fd, 0, 8, POSIX_FADV_SEQUENTIAL));
    int rc = posix_fallocate(fd, 0, 16);
    printf("%-28s %s\n", "posix_fallocate", errname(rc));
    struct stat st;
    fstat(fd, &st);
    printf("size after fallocate %lld\n", (long long)st.st_size);
    close(fd);
    show("truncate path", truncate(at("a.txt"), 8));
    print_file("a.txt");
}

static void stats(void) {
    struct stat st;
    show("stat file", stat(at("a.txt"), &st));
    printf("regular %d size %lld nlink %d\n", S_ISREG(st.st_mode), (long long)st.st_size,
           (int)st.st_nlink);
    show("stat dir", stat(dir, &st));
    printf("directory %d\n", S_ISDIR(st.st_mode));
    show("stat missing", stat(at("missing"), &st));
    show("stat through file", stat(at("a.txt/x"), &st));
    show("stat file/", stat(at("a.txt/"), &st));
    struct timespec ts[2] = {{1000000000, 500}, {1234567890, 250}};
    show("utimensat", utimensat(AT_FDCWD, at("a.txt"), ts, 0));
    stat(at("a.txt"), &st);
    printf("mtime %lld.%09ld atime %lld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
           (long long)st.st_atim.tv_sec);
    int fd = open(at("a.txt"), O_RDONLY);
    struct timespec ts2[2] = {{0, UTIME_OMIT}, {2000000000, 0}};
    show("futimens", futimens(fd, ts2));
    fstat(fd, &st);
    printf("mtime %lld atime %lld\n", (long long)st.st_mtim.tv_sec, (long long)st.st_atim.tv_sec);
    close(fd);
}

static void names(void) {
    show("mkdir sub", mkdir(at("sub"), 0755));
    show("mkdir sub again", mkdir(at("sub"), 0755));
    write_file("sub/b.txt", "bee");
    show("rename b -> c", rename(at("sub/b.txt"), at("sub/c.txt")));
    show("open old name", open(at("sub/b.txt"), O_RDONLY));
    print_file("sub/c.txt");
    show("rename onto dir", rename(at("sub/c.txt"), at("sub")));
    show("link", link(at("a.txt"), at("hard.txt")));
    struct stat st;
    stat(at("a.txt"), &st);
    printf("nlink %d\n", (int)st.st_nlink);
    show("symlink", symlink("a.txt", at("sym")));
    char buf[64];
    ssize_t n = readlink(at("sym"), buf, sizeof buf);
    printf("readlink %zd [%.*s]\n", n, (int)(n > 0 ? n : 0), buf);
    show("readlink regular file", (int)readlink(at("a.txt"), buf, sizeof buf));
    lstat(at("sym"), &st);
    printf("lstat symlink %d\n", S_ISLNK(st.st_mode));
    stat(at("sym"), &st);
    printf("stat follows: regular %d size %lld\n", S_ISREG(st.st_mode), (long long)st.st_size);
    print_file("sym");
    show("symlink dangling", symlink("nowhere", at("dangling")));
    show("open dangling", open(at("dangling"), O_RDONLY));
    show("open nofollow", open(at("sym"), O_RDONLY | O_NOFOLLOW));
}

static int compare(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void listing(void) {
    DIR *d = opendir(dir);
    char *names[64];
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) && n < 64) {
        char line[300];
        snprintf(line, sizeof line, "%s type %s", de->d_name,
                 de->d_type == DT_DIR ? "dir" : de->d_type == DT_REG ? "file"
                                            : de->d_type == DT_LNK ? "link" : "other");
        names[n++] = strdup(line);
    }
    if (d)
        closedir(d);
    qsort(names, (size_t)n, sizeof names[0], compare);
    for (int i = 0; i < n; i++) {
        printf("entry %s\n", names[i]);
        free(names[i]);
    }
}

static void errors_and_removal(void) {
    show("open missing", open(at("missing"), O_RDONLY));
    show("create exclusive existing", open(at("a.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644));
    show("open dir for writing", open(at("sub"), O_WRONLY));
    show("open file as dir", open(at("a.txt"), O_RDONLY | O_DIRECTORY));
    show("open through file", open(at("a.txt/x"), O_RDONLY));
    show("rmdir non-empty", rmdir(at("sub")));
    show("rmdir file", rmdir(at("a.txt")));
    show("unlink dir", unlink(at("sub")));
    show("unlink missing", unlink(at("missing")));
    show("unlink c", unlink(at("sub/c.txt")));
    show("rmdir sub", rmdir(at("sub")));
    show("unlink symlink", unlink(at("sym")));
    show("unlink dangling", unlink(at("dangling")));
    show("unlink hard", unlink(at("hard.txt")));
    show("unlink a", unlink(at("a.txt")));
    int fd = open(at("x"), O_CREAT | O_RDWR, 0644);
    show("read past end", (int)read(fd, (char[4]){0}, 4));
    close(fd);
    show("close twice", close(fd));
    unlink(at("x"));
    show("write bad fd", (int)write(99, "x", 1));
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: fileio DIR\n");
        return 2;
    }
    dir = argv[1];
    seeking();
    appending_and_truncating();
    stats();
    names();
    listing();
    errors_and_removal();
    listing();
    return 0;
}
