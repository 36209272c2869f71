/* p2_fspath.c: wasi:filesystem's descriptor.*-at functions: paths resolved beneath the
 * descriptor by the sandboxed system layer, read-only mounts refusing every change. */
#include <errno.h>
#include <string.h>

#include "p2_internal.h"

static const char *const pflag_labels[] = {"symlink-follow"};
static const char *const oflag_labels[] = {"create", "directory", "exclusive", "truncate"};

#define OFLAG_CREATE 1u
#define OFLAG_DIRECTORY 2u
#define OFLAG_EXCLUSIVE 4u
#define OFLAG_TRUNCATE 8u

/* One new-timestamp: no-change, now, or timestamp(datetime). */
static bool arg_time(wp_wasi2 *w, const wp_value *v, struct timespec *ts) {
    const wp_value *dt = v->kind == WP_VMAP ? wp_value_map_get(v, "timestamp") : NULL;
    if (v->kind == WP_VMAP && wp_value_map_get(v, "no-change")) {
        *ts = (struct timespec){.tv_nsec = UTIME_OMIT};
        return true;
    }
    if (v->kind == WP_VMAP && wp_value_map_get(v, "now")) {
        *ts = (struct timespec){.tv_nsec = UTIME_NOW};
        return true;
    }
    uint64_t s;
    uint64_t ns;
    if (!dt || dt->kind != WP_VMAP || !wp_value_map_get(dt, "seconds") ||
        !wp_value_map_get(dt, "nanoseconds")) {
        wp__p2_trap(w, "expected a new-timestamp ({no-change}, {now} or {timestamp = datetime})");
        return false;
    }
    if (!wp__p2_arg_u64(w, wp_value_map_get(dt, "seconds"), &s) ||
        !wp__p2_arg_u64(w, wp_value_map_get(dt, "nanoseconds"), &ns))
        return false;
    if (ns >= 1000000000u || s > INT64_MAX) {
        wp__p2_trap(w, "timestamp out of range");
        return false;
    }
    *ts = (struct timespec){.tv_sec = (time_t)s, .tv_nsec = (long)ns};
    return true;
}

bool wp__p2_arg_times(wp_wasi2 *w, const wp_value *v, struct timespec ts[2]) {
    return arg_time(w, &v[0], &ts[0]) && arg_time(w, &v[1], &ts[1]);
}

/* Copies a path into buf with a NUL: 0, ENAMETOOLONG, or EINVAL (a NUL inside). */
static int path_copy(const char *s, size_t len, char *buf) {
    if (len > WP_SYS_PATH_MAX)
        return ENAMETOOLONG;
    if (memchr(s, '\0', len))
        return EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return 0;
}

/* The descriptor (args[0]) and a path (args[at]) into path buffer 'slot'. *e: a path error. */
static bool desc_path(wp_wasi2 *w, const wp_value *args, uint32_t at, int slot, wp_p2_desc **d,
                      int *e) {
    uint32_t rep;
    const char *s;
    size_t len;
    if (!wp__p2_arg_desc(w, &args[0], d, &rep) || !wp__p2_arg_str(w, &args[at], &s, &len))
        return false;
    *e = path_copy(s, len, w->base->path[slot]);
    return true;
}

static unsigned how(const wp_wasi2 *w, uint32_t pflags) {
    unsigned h = (pflags & 1u) ? WP_SYS_FOLLOW : 0;
    return h | ((w->base->flags & WP_WASI_PORTABLE_RESOLVE) ? WP_SYS_PORTABLE : 0);
}

/* Whether d's directory may be changed: 0, EROFS (read-only mount), EPERM (not opened for
 * mutate-directory). */
static int may_mutate(const wp_p2_desc *d) {
    if (d->read_only)
        return EROFS;
    return d->flags & WP_P2_DFLAG_MUTATE ? 0 : EPERM;
}

static wp_wasi2_outcome unit_or_err(wp_wasi2 *w, int e, wp_value *result) {
    wp_value v = wp_value_nil();
    return e == 0 ? wp__p2_fs_ok(w, WP_OK, &v, result) : wp__p2_fs_err(w, e, result);
}

/* create-directory-at, remove-directory-at, unlink-file-at: (self, path). */
static wp_wasi2_outcome path_change(wp_wasi2 *w, const wp_value *args,
                                    int (*op)(int, const char *, unsigned), wp_value *result) {
    wp_p2_desc *d;
    int e;
    if (!desc_path(w, args, 1, 0, &d, &e))
        return WP_WASI2_TRAP;
    if (e == 0)
        e = may_mutate(d);
    if (e == 0)
        e = op(d->host, w->base->path[0], how(w, 0));
    return unit_or_err(w, e, result);
}

WP_P2_FN(wp__p2_fs_mkdir_at) { return path_change(w, args, wp__sys_mkdir, result); }
WP_P2_FN(wp__p2_fs_rmdir_at) { return path_change(w, args, wp__sys_rmdir, result); }
WP_P2_FN(wp__p2_fs_unlink_at) { return path_change(w, args, wp__sys_unlink, result); }

/* stat-at and metadata-hash-at: (self, path-flags, path). */
static wp_wasi2_outcome stat_at(wp_wasi2 *w, const wp_value *args, bool hash, wp_value *result) {
    wp_p2_desc *d;
    uint32_t pf;
    int e;
    if (!wp__p2_arg_flags(w, &args[1], pflag_labels, 1, &pf) || !desc_path(w, args, 2, 0, &d, &e))
        return WP_WASI2_TRAP;
    struct stat st;
    if (e == 0)
        e = wp__sys_stat(d->host, w->base->path[0], how(w, pf), &st);
    if (e != 0)
        return wp__p2_fs_err(w, e, result);
    return hash ? wp__p2_fs_hash_result(w, &st, result) : wp__p2_fs_stat_result(w, &st, result);
}

WP_P2_FN(wp__p2_fs_stat_at) { return stat_at(w, args, false, result); }
WP_P2_FN(wp__p2_fs_hash_at) { return stat_at(w, args, true, result); }

WP_P2_FN(wp__p2_fs_set_times_at) {
    wp_p2_desc *d;
    uint32_t pf;
    int e;
    struct timespec ts[2];
    if (!wp__p2_arg_flags(w, &args[1], pflag_labels, 1, &pf) ||
        !desc_path(w, args, 2, 0, &d, &e) || !wp__p2_arg_times(w, &args[3], ts))
        return WP_WASI2_TRAP;
    if (e == 0 && d->read_only)
        e = EROFS;
    if (e == 0)
        e = wp__sys_utimens(d->host, w->base->path[0], how(w, pf), ts);
    return unit_or_err(w, e, result);
}

WP_P2_FN(wp__p2_fs_readlink_at) {
    wp_p2_desc *d;
    int e;
    if (!desc_path(w, args, 1, 0, &d, &e))
        return WP_WASI2_TRAP;
    char *buf = w->base->path[1];
    size_t n = 0;
    if (e == 0)
        e = wp__sys_readlink(d->host, w->base->path[0], buf, WP_SYS_PATH_MAX, &n, how(w, 0));
    if (e != 0)
        return wp__p2_fs_err(w, e, result);
    wp_value v = wp_value_nil();
    return wp__p2_fs_ok(w, wp_value_string(&v, buf, n), &v, result);
}

/* The second descriptor and path of link-at / rename-at (args[nd], args[nd + 1]). */
static bool second(wp_wasi2 *w, const wp_value *args, uint32_t nd, wp_p2_desc **d2, int *e) {
    uint32_t rep;
    const char *s;
    size_t len;
    if (!wp__p2_arg_desc(w, &args[nd], d2, &rep) || !wp__p2_arg_str(w, &args[nd + 1], &s, &len))
        return false;
    int pe = path_copy(s, len, w->base->path[1]);
    if (*e == 0)
        *e = pe;
    return true;
}

WP_P2_FN(wp__p2_fs_link_at) {
    wp_p2_desc *d;
    wp_p2_desc *d2;
    uint32_t pf;
    int e;
    if (!wp__p2_arg_flags(w, &args[1], pflag_labels, 1, &pf) ||
        !desc_path(w, args, 2, 0, &d, &e) || !second(w, args, 3, &d2, &e))
        return WP_WASI2_TRAP;
    if (e == 0 && d->read_only)
        e = EROFS;
    if (e == 0)
        e = may_mutate(d2);
    if (e == 0)
        e = wp__sys_link(d->host, w->base->path[0], d2->host, w->base->path[1], how(w, pf));
    return unit_or_err(w, e, result);
}

WP_P2_FN(wp__p2_fs_rename_at) {
    wp_p2_desc *d;
    wp_p2_desc *d2;
    int e;
    if (!desc_path(w, args, 1, 0, &d, &e) || !second(w, args, 2, &d2, &e))
        return WP_WASI2_TRAP;
    if (e == 0)
        e = may_mutate(d);
    if (e == 0)
        e = may_mutate(d2);
    if (e == 0)
        e = wp__sys_rename(d->host, w->base->path[0], d2->host, w->base->path[1], how(w, 0));
    return unit_or_err(w, e, result);
}

WP_P2_FN(wp__p2_fs_symlink_at) {
    wp_p2_desc *d;
    int e;
    const char *s;
    size_t len;
    if (!desc_path(w, args, 2, 0, &d, &e) || !wp__p2_arg_str(w, &args[1], &s, &len))
        return WP_WASI2_TRAP;
    int te = path_copy(s, len, w->base->path[1]);
    if (e == 0)
        e = te;
    if (e == 0)
        e = may_mutate(d);
    if (e == 0)
        e = wp__sys_symlink(w->base->path[1], d->host, w->base->path[0], how(w, 0));
    return unit_or_err(w, e, result);
}

/* open(2) flags for open-at's open-flags and descriptor-flags; 0 or an errno for a request
 * d may not make. */
static int open_mode(const wp_p2_desc *d, uint32_t of, uint32_t df, int *oflags) {
    bool writes = (df & WP_P2_DFLAG_WRITE) || (of & (OFLAG_CREATE | OFLAG_TRUNCATE));
    if (writes || (df & WP_P2_DFLAG_MUTATE)) {
        int e = may_mutate(d);
        if (e != 0)
            return e;
    }
    bool rd = df & WP_P2_DFLAG_READ;
    bool wr = df & WP_P2_DFLAG_WRITE;
    int o = rd && wr ? O_RDWR : wr ? O_WRONLY : O_RDONLY;
    o |= of & OFLAG_CREATE ? O_CREAT : 0;
    o |= of & OFLAG_EXCLUSIVE ? O_EXCL : 0;
    o |= of & OFLAG_TRUNCATE ? O_TRUNC : 0;
    o |= of & OFLAG_DIRECTORY ? O_DIRECTORY : 0;
    o |= df & (WP_P2_DFLAG_FILE_SYNC | WP_P2_DFLAG_REQ_SYNC) ? O_SYNC : 0;
    o |= df & WP_P2_DFLAG_DATA_SYNC ? O_DSYNC : 0;
    *oflags = o;
    return 0;
}

WP_P2_FN(wp__p2_fs_open_at) {
    wp_p2_desc *d;
    uint32_t pf;
    uint32_t of;
    uint32_t df;
    int e;
    if (!wp__p2_arg_flags(w, &args[1], pflag_labels, 1, &pf) ||
        !desc_path(w, args, 2, 0, &d, &e) ||
        !wp__p2_arg_flags(w, &args[3], oflag_labels, 4, &of) ||
        !wp__p2_arg_flags(w, &args[4], wp__p2_dflag_labels, WP_P2_DFLAG_COUNT, &df))
        return WP_WASI2_TRAP;
    int oflags = 0;
    if (e == 0)
        e = open_mode(d, of, df, &oflags);
    int fd = -1;
    if (e == 0)
        e = wp__sys_open(d->host, w->base->path[0], oflags, how(w, pf), &fd);
    if (e != 0)
        return wp__p2_fs_err(w, e, result);
    bool ro = d->read_only;
    uint8_t keep = (uint8_t)(df | (d->flags & WP_P2_DFLAG_MUTATE));
    uint32_t rep;
    wp_p2_res *n = wp__p2_desc_new(w, fd, ro, keep, &rep);
    if (!n)
        return wp__p2_done(w, WP_ERR_NOMEM);
    if (n->of.desc.type != WP_P2_TYPE_DIRECTORY) /* mutate-directory means nothing on a file */
        n->of.desc.flags &= (uint8_t)~WP_P2_DFLAG_MUTATE;
    wp_value v = wp_value_int(rep);
    return wp__p2_fs_ok(w, WP_OK, &v, result);
}
