/* p2_filesystem.c: wasi:filesystem: error codes, preopens, descriptors (everything but the
 * *-at functions, in p2_fspath.c) and directory-entry streams. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "p2_internal.h"

/* Host errno -> error-code label. Those a host may lack are matched by rare_code(). */
#define P2_ERRNOS(X)                                                                               \
    X(EACCES, "access") X(EAGAIN, "would-block") X(EALREADY, "already")                            \
    X(EBADF, "bad-descriptor") X(EBUSY, "busy") X(EDEADLK, "deadlock") X(EEXIST, "exist")          \
    X(EFBIG, "file-too-large") X(EILSEQ, "illegal-byte-sequence") X(EINPROGRESS, "in-progress")    \
    X(EINTR, "interrupted") X(EINVAL, "invalid") X(EIO, "io") X(EISDIR, "is-directory")            \
    X(ELOOP, "loop") X(EMLINK, "too-many-links") X(EMSGSIZE, "message-size")                       \
    X(ENAMETOOLONG, "name-too-long") X(ENODEV, "no-device") X(ENOENT, "no-entry")                  \
    X(ENOLCK, "no-lock") X(ENOMEM, "insufficient-memory") X(ENOSPC, "insufficient-space")          \
    X(ENOTDIR, "not-directory") X(ENOTEMPTY, "not-empty") X(ENOTSUP, "unsupported")                \
    X(ENOTTY, "no-tty") X(ENXIO, "no-such-device") X(EOVERFLOW, "overflow")                        \
    X(EPERM, "not-permitted") X(EPIPE, "pipe") X(EROFS, "read-only") X(ESPIPE, "invalid-seek")     \
    X(ETXTBSY, "text-file-busy") X(EXDEV, "cross-device")

static const char *rare_code(int host) {
#ifdef EDQUOT
    if (host == EDQUOT)
        return "quota";
#endif
#ifdef ENOTRECOVERABLE
    if (host == ENOTRECOVERABLE)
        return "not-recoverable";
#endif
    if (host == EOPNOTSUPP)
        return "unsupported";
    if (host == EWOULDBLOCK)
        return "would-block";
    if (host == WP_SYS_ENOTCAPABLE) /* a path that tried to leave its descriptor */
        return "not-permitted";
    return "io";
}

const char *wp__p2_error_code(int host) {
    switch (host) {
#define X(e, label)                                                                                \
    case e:                                                                                        \
        return label;
        P2_ERRNOS(X)
#undef X
    default:
        return rare_code(host);
    }
}

wp_wasi2_outcome wp__p2_fs_err(wp_wasi2 *w, int e, wp_value *result) {
    wp_value code;
    wp_status st = wp_value_cstring(&code, wp__p2_error_code(e));
    if (st == WP_OK)
        st = wp__p2_case(result, "err", &code);
    return wp__p2_done(w, st);
}

WP_P2_FN(wp__p2_fs_error_code) {
    wp_p2_res *e;
    uint32_t rep;
    if (!wp__p2_arg_res(w, &args[0], WP_P2_ERROR, &e, &rep))
        return WP_WASI2_TRAP;
    if (e->of.error.host == 0)
        return WP_WASI2_DONE; /* none: not a filesystem error */
    return wp__p2_done(w, wp_value_cstring(result, wp__p2_error_code(e->of.error.host)));
}

/* ---- Types and records ------------------------------------------------------------------- */

static const char *const type_labels[] = {
#define X(id, label) label,
    WP_P2_TYPES(X)
#undef X
};

const char *const wp__p2_dflag_labels[WP_P2_DFLAG_COUNT] = {"read",
                                                           "write",
                                                           "file-integrity-sync",
                                                           "data-integrity-sync",
                                                           "requested-write-sync",
                                                           "mutate-directory"};

static uint8_t type_of(mode_t mode) {
    switch (mode & S_IFMT) {
    case S_IFBLK:
        return WP_P2_TYPE_BLOCK;
    case S_IFCHR:
        return WP_P2_TYPE_CHAR;
    case S_IFDIR:
        return WP_P2_TYPE_DIRECTORY;
    case S_IFIFO:
        return WP_P2_TYPE_FIFO;
    case S_IFLNK:
        return WP_P2_TYPE_SYMLINK;
    case S_IFREG:
        return WP_P2_TYPE_REGULAR;
    case S_IFSOCK:
        return WP_P2_TYPE_SOCKET;
    default:
        return WP_P2_TYPE_UNKNOWN;
    }
}

static wp_status label(wp_value *out, uint8_t type) {
    return wp_value_cstring(out, type_labels[type]);
}

static wp_status some_datetime(wp_value *out, struct timespec ts) {
    static const char *const names[] = {"seconds", "nanoseconds"};
    wp_value vals[2] = {wp_value_int((int64_t)ts.tv_sec), wp_value_int((int64_t)ts.tv_nsec)};
    return wp__p2_record(out, 2, names, vals);
}

/* A descriptor-stat record for st. */
static wp_status stat_record(wp_value *out, const struct stat *st) {
    static const char *const names[] = {"type",
                                        "link-count",
                                        "size",
                                        "data-access-timestamp",
                                        "data-modification-timestamp",
                                        "status-change-timestamp"};
    wp_value vals[6] = {wp_value_nil(), wp_value_int((int64_t)st->st_nlink),
                        wp_value_int((int64_t)st->st_size)};
    wp_status s = label(&vals[0], type_of(st->st_mode));
    if (s == WP_OK)
        s = some_datetime(&vals[3], st->st_atim);
    if (s == WP_OK)
        s = some_datetime(&vals[4], st->st_mtim);
    if (s == WP_OK)
        s = some_datetime(&vals[5], st->st_ctim);
    if (s != WP_OK) {
        for (int i = 0; i < 6; i++)
            wp_value_free(&vals[i]);
        return s;
    }
    return wp__p2_record(out, 6, names, vals);
}

wp_wasi2_outcome wp__p2_fs_ok(wp_wasi2 *w, wp_status st, wp_value *v, wp_value *result) {
    if (st == WP_OK)
        st = wp__p2_ok(result, v);
    else
        wp_value_free(v);
    return wp__p2_done(w, st);
}

wp_wasi2_outcome wp__p2_fs_stat_result(wp_wasi2 *w, const struct stat *st, wp_value *result) {
    wp_value v = wp_value_nil();
    return wp__p2_fs_ok(w, stat_record(&v, st), &v, result);
}

/* A hash of what identifies a file and its last change: two mixed 64-bit halves. */
static uint64_t mix(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

wp_wasi2_outcome wp__p2_fs_hash_result(wp_wasi2 *w, const struct stat *st, wp_value *result) {
    static const char *const names[] = {"lower", "upper"};
    uint64_t lo = mix((uint64_t)st->st_dev ^ mix((uint64_t)st->st_ino));
    uint64_t hi = mix((uint64_t)st->st_size ^ mix((uint64_t)st->st_mtim.tv_sec * 1000000000u +
                                                  (uint64_t)st->st_mtim.tv_nsec));
    wp_value vals[2] = {wp_value_int((int64_t)lo), wp_value_int((int64_t)hi)};
    wp_value v = wp_value_nil();
    return wp__p2_fs_ok(w, wp__p2_record(&v, 2, names, vals), &v, result);
}

/* ---- Descriptors ------------------------------------------------------------------------- */

wp_p2_res *wp__p2_desc_new(wp_wasi2 *w, int host, bool read_only, uint8_t flags, uint32_t *rep) {
    struct stat st;
    uint8_t type = fstat(host, &st) == 0 ? type_of(st.st_mode) : WP_P2_TYPE_UNKNOWN;
    wp_p2_res *e = wp__p2_new(w, WP_P2_DESCRIPTOR, rep);
    if (!e) {
        close(host);
        return NULL;
    }
    e->of.desc = (wp_p2_desc){.host = host, .read_only = read_only, .flags = flags, .type = type};
    return e;
}

bool wp__p2_arg_desc(wp_wasi2 *w, const wp_value *v, wp_p2_desc **d, uint32_t *rep) {
    wp_p2_res *e;
    if (!wp__p2_arg_res(w, v, WP_P2_DESCRIPTOR, &e, rep))
        return false;
    *d = &e->of.desc;
    return true;
}

int wp__p2_may_write(const wp_p2_desc *d) {
    if (d->read_only)
        return EROFS;
    return d->flags & WP_P2_DFLAG_WRITE ? 0 : EBADF;
}

/* One preopen as [descriptor, name]; its own duplicate of the mount's directory. */
static wp_status preopen_pair(wp_wasi2 *w, const wp_wasi_fd *f, wp_value *out) {
    int fd = fcntl(f->host, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return errno == ENOMEM ? WP_ERR_NOMEM : WP_ERR_UNAVAILABLE;
    uint8_t flags = WP_P2_DFLAG_READ | (f->read_only ? 0 : WP_P2_DFLAG_MUTATE);
    uint32_t rep;
    if (!wp__p2_desc_new(w, fd, f->read_only, flags, &rep))
        return WP_ERR_NOMEM;
    wp_value d = wp_value_int(rep);
    wp_value name;
    wp_status st = wp_value_string(&name, f->preopen, f->preopen_len);
    if (st != WP_OK) {
        wp__p2_release(w, rep);
        return st;
    }
    return wp__p2_pair(out, &d, &name);
}

WP_P2_FN(wp__p2_fs_get_directories) {
    (void)args;
    wp_value list;
    wp_status st = wp_value_array(&list, 2);
    for (uint32_t i = 0; i < w->base->nfds && st == WP_OK; i++) {
        const wp_wasi_fd *f = &w->base->fds[i];
        if (f->host < 0 || !f->preopen)
            continue;
        wp_value pair = wp_value_nil();
        st = preopen_pair(w, f, &pair);
        if (st == WP_OK)
            st = wp_value_array_push(&list, &pair);
        wp_value_free(&pair);
    }
    if (st != WP_OK) {
        wp_value_free(&list); /* the descriptors made so far stay until the context goes */
        if (st == WP_ERR_NOMEM)
            return wp__p2_done(w, st);
        return wp__p2_trap(w, "get-directories: %s", wp_status_text(st));
    }
    *result = list;
    return WP_WASI2_DONE;
}

/* read-via-stream, write-via-stream, append-via-stream. */
static wp_wasi2_outcome via_stream(wp_wasi2 *w, const wp_value *args, wp_p2_kind kind,
                                   bool append, wp_value *result) {
    wp_p2_desc *d;
    uint32_t rep;
    uint64_t offset = 0;
    if (!wp__p2_arg_desc(w, &args[0], &d, &rep) ||
        (!append && !wp__p2_arg_u64(w, &args[1], &offset)))
        return WP_WASI2_TRAP;
    int e = kind == WP_P2_INPUT ? (d->flags & WP_P2_DFLAG_READ ? 0 : EBADF) : wp__p2_may_write(d);
    if (e == 0 && d->type == WP_P2_TYPE_DIRECTORY)
        e = EISDIR;
    if (e != 0)
        return wp__p2_fs_err(w, e, result);
    int fd = fcntl(d->host, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return wp__p2_fs_err(w, errno, result);
    uint32_t srep;
    wp_p2_res *s = kind == WP_P2_INPUT ? wp__p2_input(w, fd, true, WP_P2_FILE, offset, &srep)
                                       : wp__p2_output(w, fd, true, WP_P2_FILE, offset, &srep);
    if (!s)
        return wp__p2_done(w, WP_ERR_NOMEM);
    s->of.stream.append = append;
    wp_value v = wp_value_int(srep);
    return wp__p2_fs_ok(w, WP_OK, &v, result);
}

WP_P2_FN(wp__p2_fs_read_stream) { return via_stream(w, args, WP_P2_INPUT, false, result); }
WP_P2_FN(wp__p2_fs_write_stream) { return via_stream(w, args, WP_P2_OUTPUT, false, result); }
WP_P2_FN(wp__p2_fs_append_stream) { return via_stream(w, args, WP_P2_OUTPUT, true, result); }

static wp_wasi2_outcome ok_unit(wp_wasi2 *w, wp_value *result) {
    wp_value v = wp_value_nil();
    return wp__p2_fs_ok(w, WP_OK, &v, result);
}

/* An {ok} or {err = code} result from a host call's 0-or-errno. */
static wp_wasi2_outcome unit_or_err(wp_wasi2 *w, int e, wp_value *result) {
    return e == 0 ? ok_unit(w, result) : wp__p2_fs_err(w, e, result);
}

WP_P2_FN(wp__p2_fs_advise) {
    static const char *const advice[] = {"normal",    "sequential", "random",
                                         "will-need", "dont-need",  "no-reuse"};
    wp_p2_desc *d;
    uint32_t rep;
    uint64_t off;
    uint64_t len;
    uint32_t a;
    if (!wp__p2_arg_desc(w, &args[0], &d, &rep) || !wp__p2_arg_u64(w, &args[1], &off) ||
        !wp__p2_arg_u64(w, &args[2], &len) || !wp__p2_arg_enum(w, &args[3], advice, 6, &a))
        return WP_WASI2_TRAP;
    if (off > INT64_MAX || len > INT64_MAX)
        return wp__p2_fs_err(w, EINVAL, result);
    return unit_or_err(w, wp__sys_advise(d->host, (int64_t)off, (int64_t)len, (uint8_t)a), result);
}

WP_P2_FN(wp__p2_fs_sync_data) {
    wp_p2_desc *d;
    uint32_t rep;
    if (!wp__p2_arg_desc(w, &args[0], &d, &rep))
        return WP_WASI2_TRAP;
    return unit_or_err(w, wp__sys_datasync(d->host), result);
}

WP_P2_FN(wp__p2_fs_sync) {
    wp_p2_desc *d;
    uint32_t rep;
    if (!wp__p2_arg_desc(w, &args[0], &d, &rep))
        return WP_WASI2_TRAP;
    return unit_or_err(w, fsync(d->host) == 0 ? 0 : errno, result);
}

WP_P2_FN(wp__p2_fs_get_flags) {
    wp_p2_desc *d;
    uint32_t rep;
    if (!wp__p2_arg_desc(w, &args[0], &d, &rep))
        return WP_WASI2_TRAP;
    wp_value v = wp_value_nil();
    wp_status st = wp__p2_flags(&v, wp__p2_dflag_labels, WP_P2_DFLAG_COUNT, d->flags);
    return wp__p2_fs_ok(w, st, &v, result);
}

WP_P2_FN(wp__p2_fs_get_type) {
    wp_p2_desc *d;
    uint32_t rep;
    if (!wp__p2_arg_desc(w, &args[0], &d, &rep))
        return WP_WASI2_TRAP;
    wp_value v = wp_value_nil();
    return wp__p2_fs_ok(w, label(&v, d->type), &v, result);
}

WP_P2_FN(wp__p2_fs_set_size) {
    wp_p2_desc *d;
    uint32_t rep;
    uint64_t size;
    if (!wp__p2_arg_desc(w, &args[0], &d, &rep) || !wp__p2_arg_u64(w, &args[1], &size))
        return WP_WASI2_TRAP;
    int e = wp__p2_may_write(d);
    if (e == 0 && size > INT64_MAX)
        e = EFBIG;
    if (e == 0 && ftruncate(d->host, (off_t)size) != 0)
        e = errno;
    return unit_or_err(w, e, result);
}

WP_P2_FN(wp__p2_fs_set_times) {
    wp_p2_desc *d;
    uint32_t rep;
    struct timespec ts[2];
    if (!wp__p2_arg_desc(w, &args[0], &d, &rep) || !wp__p2_arg_times(w, &args[1], ts))
        return WP_WASI2_TRAP;
    int e = d->read_only ? EROFS : 0;
    if (e == 0 && futimens(d->host, ts) != 0)
        e = errno;
    return unit_or_err(w, e, result);
}

WP_P2_FN(wp__p2_fs_read) {
    wp_p2_desc *d;
    uint32_t rep;
    uint64_t len;
    uint64_t off;
    if (!wp__p2_arg_desc(w, &args[0], &d, &rep) || !wp__p2_arg_u64(w, &args[1], &len) ||
        !wp__p2_arg_u64(w, &args[2], &off))
        return WP_WASI2_TRAP;
    if (!(d->flags & WP_P2_DFLAG_READ))
        return wp__p2_fs_err(w, EBADF, result);
    if (off > INT64_MAX)
        return wp__p2_fs_err(w, EINVAL, result);
    size_t want = len > WP_P2_READ_MAX ? WP_P2_READ_MAX : (size_t)len;
    uint8_t *buf = want ? wp_heap_alloc(w->heap, want) : NULL;
    if (want && !buf)
        return wp__p2_done(w, WP_ERR_NOMEM);
    ssize_t n = want ? pread(d->host, buf, want, (off_t)off) : 0;
    int e = n < 0 ? errno : 0;
    wp_value data = wp_value_nil();
    wp_status st = e == 0 ? wp_value_bytes(&data, buf, (size_t)n) : WP_OK;
    wp_heap_free(w->heap, buf, want);
    if (e != 0)
        return wp__p2_fs_err(w, e, result);
    wp_value eof = wp_value_bool(want > 0 && (size_t)n < want);
    wp_value pair = wp_value_nil();
    if (st == WP_OK)
        st = wp__p2_pair(&pair, &data, &eof);
    wp_value_free(&data);
    return wp__p2_fs_ok(w, st, &pair, result);
}

WP_P2_FN(wp__p2_fs_write) {
    wp_p2_desc *d;
    uint32_t rep;
    const char *data;
    size_t len;
    uint64_t off;
    if (!wp__p2_arg_desc(w, &args[0], &d, &rep) || !wp__p2_arg_str(w, &args[1], &data, &len) ||
        !wp__p2_arg_u64(w, &args[2], &off))
        return WP_WASI2_TRAP;
    int e = wp__p2_may_write(d);
    if (e == 0 && off > INT64_MAX)
        e = EINVAL;
    ssize_t n = 0;
    if (e == 0 && (n = pwrite(d->host, data, len, (off_t)off)) < 0)
        e = errno;
    if (e != 0)
        return wp__p2_fs_err(w, e, result);
    wp_value v = wp_value_int(n);
    return wp__p2_fs_ok(w, WP_OK, &v, result);
}

WP_P2_FN(wp__p2_fs_stat) {
    wp_p2_desc *d;
    uint32_t rep;
    if (!wp__p2_arg_desc(w, &args[0], &d, &rep))
        return WP_WASI2_TRAP;
    struct stat st;
    if (fstat(d->host, &st) != 0)
        return wp__p2_fs_err(w, errno, result);
    return wp__p2_fs_stat_result(w, &st, result);
}

WP_P2_FN(wp__p2_fs_same_object) {
    wp_p2_desc *a;
    wp_p2_desc *b;
    uint32_t ra;
    uint32_t rb;
    if (!wp__p2_arg_desc(w, &args[0], &a, &ra) || !wp__p2_arg_desc(w, &args[1], &b, &rb))
        return WP_WASI2_TRAP;
    struct stat sa;
    struct stat sb;
    bool same = fstat(a->host, &sa) == 0 && fstat(b->host, &sb) == 0 && sa.st_dev == sb.st_dev &&
                sa.st_ino == sb.st_ino;
    *result = wp_value_bool(same);
    return WP_WASI2_DONE;
}

WP_P2_FN(wp__p2_fs_hash) {
    wp_p2_desc *d;
    uint32_t rep;
    if (!wp__p2_arg_desc(w, &args[0], &d, &rep))
        return WP_WASI2_TRAP;
    struct stat st;
    if (fstat(d->host, &st) != 0)
        return wp__p2_fs_err(w, errno, result);
    return wp__p2_fs_hash_result(w, &st, result);
}

/* ---- Directory-entry streams ------------------------------------------------------------- */

WP_P2_FN(wp__p2_fs_read_directory) {
    wp_p2_desc *d;
    uint32_t rep;
    if (!wp__p2_arg_desc(w, &args[0], &d, &rep))
        return WP_WASI2_TRAP;
    if (!(d->flags & WP_P2_DFLAG_READ))
        return wp__p2_fs_err(w, EBADF, result);
    int fd = openat(d->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return wp__p2_fs_err(w, errno, result);
    DIR *dir = fdopendir(fd);
    if (!dir) {
        int e = errno;
        close(fd);
        return wp__p2_fs_err(w, e, result);
    }
    uint32_t srep;
    wp_p2_res *s = wp__p2_new(w, WP_P2_DIRSTREAM, &srep);
    if (!s) {
        closedir(dir);
        return wp__p2_done(w, WP_ERR_NOMEM);
    }
    s->of.dir = dir;
    wp_value v = wp_value_int(srep);
    return wp__p2_fs_ok(w, WP_OK, &v, result);
}

static uint8_t entry_type(DIR *dir, const struct dirent *de) {
    struct stat st;
    switch (de->d_type) {
    case DT_REG:
        return WP_P2_TYPE_REGULAR;
    case DT_DIR:
        return WP_P2_TYPE_DIRECTORY;
    case DT_LNK:
        return WP_P2_TYPE_SYMLINK;
    case DT_CHR:
        return WP_P2_TYPE_CHAR;
    case DT_BLK:
        return WP_P2_TYPE_BLOCK;
    case DT_FIFO:
        return WP_P2_TYPE_FIFO;
    case DT_SOCK:
        return WP_P2_TYPE_SOCKET;
    default: /* some file systems do not say: ask */
        if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return type_of(st.st_mode);
        return WP_P2_TYPE_UNKNOWN;
    }
}

WP_P2_FN(wp__p2_fs_read_dir_entry) {
    wp_p2_res *s;
    uint32_t rep;
    if (!wp__p2_arg_res(w, &args[0], WP_P2_DIRSTREAM, &s, &rep))
        return WP_WASI2_TRAP;
    struct dirent *de;
    do {
        errno = 0;
        de = readdir(s->of.dir);
    } while (de && (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0));
    if (!de && errno != 0)
        return wp__p2_fs_err(w, errno, result);
    wp_value entry = wp_value_nil(); /* none: the end */
    wp_status st = WP_OK;
    if (de) {
        static const char *const names[] = {"type", "name"};
        wp_value vals[2] = {wp_value_nil(), wp_value_nil()};
        st = label(&vals[0], entry_type(s->of.dir, de));
        if (st == WP_OK)
            st = wp_value_cstring(&vals[1], de->d_name);
        if (st == WP_OK)
            st = wp__p2_record(&entry, 2, names, vals);
        wp_value_free(&vals[0]);
        wp_value_free(&vals[1]);
    }
    return wp__p2_fs_ok(w, st, &entry, result);
}
