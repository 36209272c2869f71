/* sys_path.c: path operations confined beneath a directory, on top of the chosen resolver. */
#include "sys.h"

#include <errno.h>
#include <stdio.h> /* renameat */
#include <string.h>
#include <unistd.h>

int wp__sys_open(int dir, const char *path, int oflags, unsigned how, int *out) {
    bool follow = (how & WP_SYS_FOLLOW) != 0;
#if WP_SYS_LINUX
    if (!(how & WP_SYS_PORTABLE)) {
        int e = wp__sys_open_openat2(dir, path, oflags, follow, out);
        if (e != ENOSYS)
            return e;
        /* A kernel before 5.6, or a seccomp filter that hides openat2: walk instead. */
    }
#endif
    return wp__sys_open_walk(dir, path, oflags, follow, out);
}

/* The final component of a path and the directory holding it. Invariant: 'name' is one
 * component, never "..", and "." only for a path naming a directory as a whole; so an *at(2)
 * call on (dir, name) with no-follow semantics cannot leave dir. */
typedef struct leaf {
    int dir;      /* the caller's directory, or fd */
    int fd;       /* the directory we opened for it, or -1 */
    bool slash;   /* the path ended in '/': it must name a directory */
    size_t start; /* where name starts in the path */
    char name[WP_SYS_PATH_MAX + 1];
} leaf;

static void leaf_close(leaf *lf) {
    if (lf->fd >= 0)
        close(lf->fd);
    lf->fd = -1;
    lf->dir = -1;
}

static int open_into(int dir, const char *path, unsigned how, leaf *lf) {
    unsigned search = (how & WP_SYS_PORTABLE) | WP_SYS_FOLLOW;
    int e = wp__sys_open(dir, path, WP_SYS_O_SEARCH | O_DIRECTORY, search, &lf->fd);
    if (e != 0) {
        lf->fd = -1;
        return e;
    }
    lf->dir = lf->fd;
    return 0;
}

/* Resolves all but the final component of path beneath dir (symbolic links in between are
 * followed, confined). Call leaf_close afterwards, whatever it returns. */
static int leaf_open(int dir, const char *path, unsigned how, leaf *lf) {
    *lf = (leaf){.dir = dir, .fd = -1};
    size_t len = strlen(path);
    if (len == 0)
        return ENOENT;
    if (path[0] == '/')
        return WP_SYS_ENOTCAPABLE;
    if (len > WP_SYS_PATH_MAX)
        return ENAMETOOLONG;
    for (; path[len - 1] == '/'; len--)
        lf->slash = true; /* stops at a non-slash: path[0] is not one */
    size_t start = len;
    while (start > 0 && path[start - 1] != '/')
        start--;
    memcpy(lf->name, path + start, len - start);
    lf->name[len - start] = '\0';
    lf->start = start;
    if (strcmp(lf->name, ".") == 0 || strcmp(lf->name, "..") == 0) {
        strcpy(lf->name, ".");
        return open_into(dir, path, how, lf);
    }
    if (start == 0)
        return 0;
    char parent[WP_SYS_PATH_MAX + 1];
    memcpy(parent, path, start);
    parent[start] = '\0';
    return open_into(dir, parent, how, lf);
}

/* As leaf_open, then while the final component is a symbolic link and WP_SYS_FOLLOW is in
 * how (or the path ends in '/'), resolves its target from the same directory, confined. */
static int leaf_follow(int dir, const char *path, unsigned how, leaf *lf) {
    char cur[WP_SYS_PATH_MAX + 1];
    size_t len = strlen(path);
    if (len > WP_SYS_PATH_MAX)
        return ENAMETOOLONG;
    memcpy(cur, path, len + 1);
    for (int links = 0;; links++) {
        int e = leaf_open(dir, cur, how, lf);
        if (e != 0 || !((how & WP_SYS_FOLLOW) || lf->slash))
            return e;
        char target[WP_SYS_PATH_MAX + 1];
        ssize_t n = readlinkat(lf->dir, lf->name, target, sizeof target);
        if (n < 0)
            return 0; /* not a link (or gone): the operation reports on the leaf itself */
        if (links == WP_SYS_MAX_SYMLINKS)
            return ELOOP;
        if (n == 0)
            return ENOENT;
        if ((size_t)n >= sizeof target)
            return ENAMETOOLONG;
        if (target[0] == '/')
            return WP_SYS_ENOTCAPABLE;
        bool slash = lf->slash;
        size_t start = lf->start;
        leaf_close(lf);
        if (start + (size_t)n + slash > WP_SYS_PATH_MAX)
            return ENAMETOOLONG;
        memcpy(cur + start, target, (size_t)n); /* cur[0..start) is the link's directory */
        if (slash)
            cur[start + n++] = '/';
        cur[start + (size_t)n] = '\0';
    }
}

static int must_be_dir(const leaf *lf) {
    struct stat st;
    if (fstatat(lf->dir, lf->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

int wp__sys_stat(int dir, const char *path, unsigned how, struct stat *st) {
    leaf lf;
    int e = leaf_follow(dir, path, how, &lf);
    if (e == 0 && fstatat(lf.dir, lf.name, st, AT_SYMLINK_NOFOLLOW) != 0)
        e = errno;
    if (e == 0 && lf.slash && !S_ISDIR(st->st_mode))
        e = ENOTDIR;
    leaf_close(&lf);
    return e;
}

int wp__sys_utimens(int dir, const char *path, unsigned how, const struct timespec ts[2]) {
    leaf lf;
    int e = leaf_follow(dir, path, how, &lf);
    if (e == 0 && lf.slash)
        e = must_be_dir(&lf);
    if (e == 0 && utimensat(lf.dir, lf.name, ts, AT_SYMLINK_NOFOLLOW) != 0)
        e = errno;
    leaf_close(&lf);
    return e;
}

int wp__sys_mkdir(int dir, const char *path, unsigned how) {
    leaf lf;
    int e = leaf_open(dir, path, how, &lf);
    if (e == 0 && mkdirat(lf.dir, lf.name, 0777) != 0)
        e = errno;
    leaf_close(&lf);
    return e;
}

int wp__sys_rmdir(int dir, const char *path, unsigned how) {
    leaf lf;
    int e = leaf_open(dir, path, how, &lf);
    if (e == 0 && unlinkat(lf.dir, lf.name, AT_REMOVEDIR) != 0)
        e = errno;
    leaf_close(&lf);
    return e;
}

int wp__sys_unlink(int dir, const char *path, unsigned how) {
    leaf lf;
    int e = leaf_open(dir, path, how, &lf);
    if (e == 0 && lf.slash) {
        int d = must_be_dir(&lf);
        e = d == 0 ? EISDIR : d;
    }
    if (e == 0 && unlinkat(lf.dir, lf.name, 0) != 0) {
        e = errno;
        if (e == EPERM && must_be_dir(&lf) == 0)
            e = EISDIR; /* POSIX allows EPERM for a directory; WASI asks for isdir */
    }
    leaf_close(&lf);
    return e;
}

int wp__sys_rename(int dir, const char *path, int new_dir, const char *new_path, unsigned how) {
    leaf from;
    leaf to;
    int e = leaf_open(dir, path, how, &from);
    int e2 = leaf_open(new_dir, new_path, how, &to);
    if (e == 0)
        e = e2;
    if (e == 0 && (from.slash || to.slash))
        e = must_be_dir(&from);
    if (e == 0 && renameat(from.dir, from.name, to.dir, to.name) != 0)
        e = errno;
    leaf_close(&from);
    leaf_close(&to);
    return e;
}

int wp__sys_link(int dir, const char *path, int new_dir, const char *new_path, unsigned how) {
    leaf from;
    leaf to;
    int e = leaf_follow(dir, path, how, &from);
    int e2 = leaf_open(new_dir, new_path, how, &to);
    if (e == 0)
        e = e2;
    if (e == 0 && (from.slash || to.slash))
        e = must_be_dir(&from);
    /* No AT_SYMLINK_FOLLOW: leaf_follow already resolved the source, confined. */
    if (e == 0 && linkat(from.dir, from.name, to.dir, to.name, 0) != 0)
        e = errno;
    leaf_close(&from);
    leaf_close(&to);
    return e;
}

int wp__sys_symlink(const char *target, int dir, const char *path, unsigned how) {
    leaf lf;
    int e = leaf_open(dir, path, how, &lf);
    struct stat st;
    if (e == 0 && lf.slash)
        e = fstatat(lf.dir, lf.name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? EEXIST : ENOENT;
    if (e == 0 && symlinkat(target, lf.dir, lf.name) != 0)
        e = errno;
    leaf_close(&lf);
    return e;
}

int wp__sys_readlink(int dir, const char *path, char *buf, size_t cap, size_t *n, unsigned how) {
    leaf lf;
    int e = leaf_follow(dir, path, how & ~WP_SYS_FOLLOW, &lf);
    ssize_t got = 0;
    char none;
    if (cap == 0) { /* readlinkat refuses an empty buffer; the link must still exist */
        buf = &none;
        cap = 1;
    }
    if (e == 0 && (got = readlinkat(lf.dir, lf.name, buf, cap)) < 0)
        e = errno;
    if (e == 0)
        *n = buf == &none ? 0 : (size_t)got;
    leaf_close(&lf);
    return e;
}
