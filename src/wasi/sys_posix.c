/* sys_posix.c: the portable system layer: the component-by-component path walk (built
 * everywhere, so Linux tests it too) and portable randomness and file syncing. */
#include "sys.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* A resolution in progress. Invariant: fds[0..depth) are directories opened one component
 * at a time below root with O_NOFOLLOW, each inside the one before, so the innermost is
 * beneath root however the tree changes meanwhile; '..' pops back to where we came from
 * instead of asking the file system for a parent. */
typedef struct walk {
    int root;
    int fds[WP_SYS_MAX_DEPTH];
    int depth;
    int links;                      /* symbolic links expanded so far */
    char rest[WP_SYS_PATH_MAX + 1]; /* what is left to resolve */
} walk;

enum { EXPAND = -1 }; /* the component is a symbolic link to expand: not an errno */

static int top(const walk *w) { return w->depth ? w->fds[w->depth - 1] : w->root; }

static void walk_close(walk *w) {
    while (w->depth > 0)
        close(w->fds[--w->depth]);
}

static bool is_symlink(int dir, const char *name) {
    struct stat st;
    return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

/* Copies the component at *p into name and moves *p past it and the slashes after it;
 * *slash says a slash followed it. */
static void take(const char **p, char *name, bool *slash) {
    const char *s = *p;
    size_t n = strcspn(s, "/");
    memcpy(name, s, n);
    name[n] = '\0';
    s += n;
    *slash = *s == '/';
    while (*s == '/')
        s++;
    *p = s;
}

/* Descends into directory 'name' of the innermost directory. */
static int open_dir(walk *w, const char *name) {
    if (w->depth == WP_SYS_MAX_DEPTH)
        return ENAMETOOLONG;
    int fd = openat(top(w), name, WP_SYS_O_SEARCH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        w->fds[w->depth++] = fd;
        return 0;
    }
    int e = errno;
    return is_symlink(top(w), name) ? EXPAND : e;
}

static int open_final(walk *w, const char *name, int oflags, bool follow, int *out) {
    int fd = openat(top(w), name, oflags | O_NOFOLLOW | O_CLOEXEC, 0666);
#ifdef O_PATH
    struct stat st;
    if (fd >= 0 && (oflags & O_PATH) && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
        close(fd); /* O_PATH with O_NOFOLLOW opens a final symlink itself instead of failing */
        fd = -1;
        errno = ELOOP;
    }
#endif
    if (fd >= 0) {
        *out = fd;
        return 0;
    }
    int e = errno;
    if (!follow || !is_symlink(top(w), name))
        return e;
    if ((oflags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
        return EEXIST; /* never create through a symbolic link when asked for a new file */
    return EXPAND;
}

/* Replaces what is left to resolve with the link's target followed by 'tail'. */
static int expand(walk *w, const char *name, const char *tail) {
    if (++w->links > WP_SYS_MAX_SYMLINKS)
        return ELOOP;
    char target[WP_SYS_PATH_MAX + 1];
    ssize_t n = readlinkat(top(w), name, target, sizeof target);
    if (n < 0)
        return errno;
    if (n == 0)
        return ENOENT;
    if ((size_t)n >= sizeof target)
        return ENAMETOOLONG;
    if (target[0] == '/')
        return WP_SYS_ENOTCAPABLE;
    size_t tl = strlen(tail);
    bool sep = tl > 0 && tail[0] != '/';
    if ((size_t)n + sep + tl > WP_SYS_PATH_MAX)
        return ENAMETOOLONG;
    /* tail may point into w->rest: move it into place before the target goes in front. */
    memmove(w->rest + n + sep, tail, tl + 1);
    memcpy(w->rest, target, (size_t)n);
    if (sep)
        w->rest[n] = '/';
    return 0;
}

/* The component is "." (or "" / "..", already applied) at the end of the path. */
static bool is_dot(const char *name) {
    return name[0] == '\0' || strcmp(name, ".") == 0;
}

static int walk_run(walk *w, int oflags, bool follow, int *out) {
    char name[WP_SYS_PATH_MAX + 1];
    const char *p = w->rest;
    for (;;) {
        bool slash;
        take(&p, name, &slash);
        bool last = *p == '\0';
        if (strcmp(name, "..") == 0) {
            if (w->depth == 0)
                return WP_SYS_ENOTCAPABLE;
            close(w->fds[--w->depth]);
            strcpy(name, ".");
        }
        if (is_dot(name) && !last)
            continue;
        int e;
        if (last)
            e = open_final(w, is_dot(name) ? "." : name, oflags | (slash ? O_DIRECTORY : 0),
                           follow || slash, out);
        else
            e = open_dir(w, name);
        if (e != EXPAND) {
            if (e != 0 || last)
                return e;
            continue;
        }
        if ((e = expand(w, name, last ? (slash ? "/" : "") : p)) != 0)
            return e;
        p = w->rest;
    }
}

int wp__sys_open_walk(int dir, const char *path, int oflags, bool follow, int *out) {
    size_t len = strlen(path);
    if (len == 0)
        return ENOENT;
    if (path[0] == '/')
        return WP_SYS_ENOTCAPABLE;
    if (len > WP_SYS_PATH_MAX)
        return ENAMETOOLONG;
    walk *w = &(walk){.root = dir};
    memcpy(w->rest, path, len + 1);
    int e = walk_run(w, oflags, follow, out);
    walk_close(w);
    return e;
}

#if !WP_SYS_LINUX

#include "abi.h"

int wp__sys_random(void *buf, size_t len) {
    uint8_t *p = buf;
    while (len > 0) {
        size_t n = len < 256 ? len : 256; /* getentropy's limit per call */
        if (getentropy(p, n) != 0)
            return errno;
        p += n;
        len -= n;
    }
    return 0;
}

int wp__sys_datasync(int fd) {
#if defined(_POSIX_SYNCHRONIZED_IO) && _POSIX_SYNCHRONIZED_IO > 0
    return fdatasync(fd) == 0 ? 0 : errno;
#else
    return fsync(fd) == 0 ? 0 : errno;
#endif
}

int wp__sys_advise(int fd, int64_t offset, int64_t len, uint8_t advice) {
    if (advice > WP_WASI_ADVICE_MAX)
        return EINVAL;
#ifdef POSIX_FADV_NORMAL
    static const int host[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                               POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
    return posix_fadvise(fd, (off_t)offset, (off_t)len, host[advice]);
#else
    (void)fd, (void)offset, (void)len;
    return 0; /* advice may be ignored */
#endif
}

int wp__sys_allocate(int fd, int64_t offset, int64_t len) {
#ifdef POSIX_FADV_NORMAL /* systems with posix_fadvise have posix_fallocate too */
    return posix_fallocate(fd, (off_t)offset, (off_t)len);
#else
    (void)fd, (void)offset, (void)len;
    return ENOTSUP;
#endif
}

#endif
