/* wasi2_cmd: a WASI command exercising WASI 0.2 through the preview-1 adapter: arguments,
 * environment, stdout/stderr, stdin, files in a writable and a read-only mount, directories,
 * clocks, sleeping and random. Prints one line per check; the exit status counts the failures.
 * `wasi2_cmd exit N` exits with status N at once. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "FAIL", what);
    if (!ok)
        failures++;
}

static void files(void) {
    FILE *f = fopen("/rw/out.txt", "w");
    check(f != NULL, "create /rw/out.txt");
    if (f) {
        fputs("written by the guest\n", f);
        fclose(f);
    }
    char buf[64] = {0};
    f = fopen("/ro/in.txt", "r");
    check(f && fgets(buf, sizeof buf, f) && strcmp(buf, "from the host\n") == 0, "read /ro/in.txt");
    if (f)
        fclose(f);
    errno = 0;
    check(fopen("/ro/new.txt", "w") == NULL && (errno == EROFS || errno == EACCES ||
                                                 errno == EPERM), "no write in /ro");
    errno = 0;
    check(open("/rw/../secret", O_RDONLY) < 0, "no escape from /rw");
    check(mkdir("/rw/dir", 0755) == 0, "mkdir /rw/dir");
    check(rename("/rw/out.txt", "/rw/dir/moved.txt") == 0, "rename into /rw/dir");
    struct stat st;
    check(stat("/rw/dir/moved.txt", &st) == 0 && st.st_size == 21, "stat moved file");
    DIR *d = opendir("/rw/dir");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, "moved.txt") == 0;
    if (d)
        closedir(d);
    check(n == 1, "readdir /rw/dir");
    check(unlink("/rw/dir/moved.txt") == 0 && rmdir("/rw/dir") == 0, "unlink and rmdir");
}

/* With EXPECT_CWD set, relative paths resolve in that (mounted) directory. */
static void cwd(void) {
    const char *dir = getenv("EXPECT_CWD");
    if (!dir)
        return;
    FILE *f = fopen("rel.txt", "w");
    check(f != NULL, "create a relative path");
    if (f)
        fclose(f);
    char path[256];
    snprintf(path, sizeof path, "%s/rel.txt", dir);
    check(unlink(path) == 0, "the relative path is in the cwd");
}

static void clocks(void) {
    struct timespec a;
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec nap = {0, 20000000};
    nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    check(ns >= 20000000, "nanosleep 20 ms");
    check(time(NULL) > 1600000000, "wall clock");
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "exit") == 0) /* wasi2_cmd exit N: just exit with N */
        exit(atoi(argv[2]));
    check(argc == 3 && strcmp(argv[1], "one") == 0 && strcmp(argv[2], "two") == 0, "arguments");
    const char *v = getenv("GREETING");
    check(v && strcmp(v, "hello=world") == 0, "environment");
    char line[64] = {0};
    check(fgets(line, sizeof line, stdin) && strcmp(line, "input line\n") == 0, "stdin");
    files();
    cwd();
    clocks();
    unsigned char r[16] = {0};
    check(getentropy(r, sizeof r) == 0, "random");
    fprintf(stderr, "to stderr\n");
    return failures;
}
