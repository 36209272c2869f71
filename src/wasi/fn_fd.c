/* fn_fd.c: fd_* functions except reading, writing and fd_readdir: stat, flags, rights, seek,
 * sync, advise, allocate, close, renumber, prestat. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static uint64_t ns_of(struct timespec ts) {
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void wp__wasi_filestat(uint8_t *p, const struct stat *st) {
    memset(p, 0, WP_WASI_FILESTAT_SIZE);
    wp__wasi_le64(p, (uint64_t)st->st_dev);
    wp__wasi_le64(p + 8, (uint64_t)st->st_ino);
    p[16] = wp__wasi_filetype(st->st_mode);
    wp__wasi_le64(p + 24, (uint64_t)st->st_nlink);
    wp__wasi_le64(p + 32, (uint64_t)st->st_size);
    wp__wasi_le64(p + 40, ns_of(st->st_atim));
    wp__wasi_le64(p + 48, ns_of(st->st_mtim));
    wp__wasi_le64(p + 56, ns_of(st->st_ctim));
}

static struct timespec ts_of(uint64_t ns) {
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000u),
                             .tv_nsec = (long)(ns % 1000000000u)};
}

uint16_t wp__wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]) {
    if ((fst & ~15u) || ((fst & WP_WASI_FSTFLAG_ATIM) && (fst & WP_WASI_FSTFLAG_ATIM_NOW)) ||
        ((fst & WP_WASI_FSTFLAG_MTIM) && (fst & WP_WASI_FSTFLAG_MTIM_NOW)))
        return WP_WASI_EINVAL;
    ts[0] = (fst & WP_WASI_FSTFLAG_ATIM_NOW) ? (struct timespec){.tv_nsec = UTIME_NOW}
            : (fst & WP_WASI_FSTFLAG_ATIM)   ? ts_of(atim)
                                             : (struct timespec){.tv_nsec = UTIME_OMIT};
    ts[1] = (fst & WP_WASI_FSTFLAG_MTIM_NOW) ? (struct timespec){.tv_nsec = UTIME_NOW}
            : (fst & WP_WASI_FSTFLAG_MTIM)   ? ts_of(mtim)
                                             : (struct timespec){.tv_nsec = UTIME_OMIT};
    return WP_WASI_ESUCCESS;
}

static uint16_t host_result(int rc) { return rc == 0 ? WP_WASI_ESUCCESS : wp__wasi_errno(errno); }

wp_host_result wp__wasi_fd_close(wp_host_call *call, void *env, const wp_val *args,
                                 wp_val *results) {
    (void)call;
    wp_wasi *w = env;
    wp_wasi_fd *e = wp__wasi_fd_get(w, wp__wasi_u32(args, 0));
    if (!e)
        return wp__wasi_ret(results, WP_WASI_EBADF);
    wp__wasi_fd_release(w, e);
    return wp__wasi_ret(results, WP_WASI_ESUCCESS);
}

wp_host_result wp__wasi_fd_renumber(wp_host_call *call, void *env, const wp_val *args,
                                    wp_val *results) {
    (void)call;
    wp_wasi *w = env;
    wp_wasi_fd *from = wp__wasi_fd_get(w, wp__wasi_u32(args, 0));
    wp_wasi_fd *to = wp__wasi_fd_get(w, wp__wasi_u32(args, 1));
    if (!from || !to)
        return wp__wasi_ret(results, WP_WASI_EBADF);
    if (from != to) {
        wp__wasi_fd_release(w, to);
        *to = *from;
        *from = (wp_wasi_fd){.host = -1}; /* its resources moved to 'to' */
    }
    return wp__wasi_ret(results, WP_WASI_ESUCCESS);
}

wp_host_result wp__wasi_fd_fdstat_get(wp_host_call *call, void *env, const wp_val *args,
                                      wp_val *results) {
    wp_wasi_fd *e = wp__wasi_fd_get(env, wp__wasi_u32(args, 0));
    if (!e)
        return wp__wasi_ret(results, WP_WASI_EBADF);
    uint8_t *p = wp__wasi_mem(wp_host_call_memory(call), wp__wasi_u32(args, 1),
                              WP_WASI_FDSTAT_SIZE);
    if (!p)
        return wp__wasi_ret(results, WP_WASI_EFAULT);
    memset(p, 0, WP_WASI_FDSTAT_SIZE);
    p[0] = e->type;
    wp__wasi_le16(p + 2, e->flags);
    wp__wasi_le64(p + 8, e->base);
    wp__wasi_le64(p + 16, e->inheriting);
    return wp__wasi_ret(results, WP_WASI_ESUCCESS);
}

/* Append reaches the host descriptor; non-blocking is ours (host descriptors stay as they
 * are, we never block anyway); the sync flags cannot change after opening. */
wp_host_result wp__wasi_fd_fdstat_set_flags(wp_host_call *call, void *env, const wp_val *args,
                                            wp_val *results) {
    (void)call;
    wp_wasi_fd *e;
    uint16_t rc = wp__wasi_fd_check(env, wp__wasi_u32(args, 0),
                                    WP_WASI_RIGHT_FD_FDSTAT_SET_FLAGS, &e);
    uint32_t flags = wp__wasi_u32(args, 1);
    const uint32_t sync = WP_WASI_FDFLAG_DSYNC | WP_WASI_FDFLAG_RSYNC | WP_WASI_FDFLAG_SYNC;
    if (rc != 0)
        return wp__wasi_ret(results, rc);
    if (flags & ~WP_WASI_FDFLAGS_ALL)
        return wp__wasi_ret(results, WP_WASI_EINVAL);
    if ((flags & sync) != (e->flags & sync))
        return wp__wasi_ret(results, WP_WASI_ENOTSUP);
    if ((flags ^ e->flags) & WP_WASI_FDFLAG_APPEND) {
        int fl = fcntl(e->host, F_GETFL);
        if (fl < 0)
            return wp__wasi_ret(results, wp__wasi_errno(errno));
        fl = (flags & WP_WASI_FDFLAG_APPEND) ? fl | O_APPEND : fl & ~O_APPEND;
        if (fcntl(e->host, F_SETFL, fl) != 0)
            return wp__wasi_ret(results, wp__wasi_errno(errno));
    }
    e->flags = (uint16_t)flags;
    return wp__wasi_ret(results, WP_WASI_ESUCCESS);
}

wp_host_result wp__wasi_fd_fdstat_set_rights(wp_host_call *call, void *env, const wp_val *args,
                                             wp_val *results) {
    (void)call;
    wp_wasi_fd *e = wp__wasi_fd_get(env, wp__wasi_u32(args, 0));
    uint64_t base = wp__wasi_u64(args, 1);
    uint64_t inheriting = wp__wasi_u64(args, 2);
    if (!e)
        return wp__wasi_ret(results, WP_WASI_EBADF);
    if ((base & ~e->base) || (inheriting & ~e->inheriting))
        return wp__wasi_ret(results, WP_WASI_ENOTCAPABLE); /* rights can only be dropped */
    e->base = base;
    e->inheriting = inheriting;
    return wp__wasi_ret(results, WP_WASI_ESUCCESS);
}

wp_host_result wp__wasi_fd_filestat_get(wp_host_call *call, void *env, const wp_val *args,
                                        wp_val *results) {
    wp_wasi_fd *e;
    uint16_t rc = wp__wasi_fd_check(env, wp__wasi_u32(args, 0), WP_WASI_RIGHT_FD_FILESTAT_GET,
                                    &e);
    if (rc != 0)
        return wp__wasi_ret(results, rc);
    uint8_t *p = wp__wasi_mem(wp_host_call_memory(call), wp__wasi_u32(args, 1),
                              WP_WASI_FILESTAT_SIZE);
    struct stat st;
    if (!p)
        return wp__wasi_ret(results, WP_WASI_EFAULT);
    if (fstat(e->host, &st) != 0)
        return wp__wasi_ret(results, wp__wasi_errno(errno));
    wp__wasi_filestat(p, &st);
    if (e->type == WP_WASI_FILETYPE_SOCKET_DGRAM)
        p[16] = WP_WASI_FILETYPE_SOCKET_DGRAM; /* st_mode cannot tell */
    return wp__wasi_ret(results, WP_WASI_ESUCCESS);
}

/* Looks fd up for an operation that changes the file: rights, then the read-only mount. */
static uint16_t check_write(void *env, uint32_t fd, uint64_t rights, wp_wasi_fd **e) {
    uint16_t rc = wp__wasi_fd_check(env, fd, rights, e);
    if (rc == 0 && (*e)->read_only)
        rc = WP_WASI_EROFS;
    return rc;
}

wp_host_result wp__wasi_fd_filestat_set_size(wp_host_call *call, void *env, const wp_val *args,
                                             wp_val *results) {
    (void)call;
    wp_wasi_fd *e;
    uint16_t rc = check_write(env, wp__wasi_u32(args, 0), WP_WASI_RIGHT_FD_FILESTAT_SET_SIZE, &e);
    uint64_t size = wp__wasi_u64(args, 1);
    if (rc != 0)
        return wp__wasi_ret(results, rc);
    if (size > INT64_MAX)
        return wp__wasi_ret(results, WP_WASI_EINVAL);
    return wp__wasi_ret(results, host_result(ftruncate(e->host, (off_t)size)));
}

wp_host_result wp__wasi_fd_filestat_set_times(wp_host_call *call, void *env, const wp_val *args,
                                              wp_val *results) {
    (void)call;
    wp_wasi_fd *e;
    uint16_t rc = check_write(env, wp__wasi_u32(args, 0), WP_WASI_RIGHT_FD_FILESTAT_SET_TIMES,
                              &e);
    struct timespec ts[2];
    if (rc == 0)
        rc = wp__wasi_times(wp__wasi_u64(args, 1), wp__wasi_u64(args, 2), wp__wasi_u32(args, 3),
                            ts);
    if (rc != 0)
        return wp__wasi_ret(results, rc);
    return wp__wasi_ret(results, host_result(futimens(e->host, ts)));
}

wp_host_result wp__wasi_fd_allocate(wp_host_call *call, void *env, const wp_val *args,
                                    wp_val *results) {
    (void)call;
    wp_wasi_fd *e;
    uint16_t rc = check_write(env, wp__wasi_u32(args, 0), WP_WASI_RIGHT_FD_ALLOCATE, &e);
    uint64_t off = wp__wasi_u64(args, 1);
    uint64_t len = wp__wasi_u64(args, 2);
    if (rc != 0)
        return wp__wasi_ret(results, rc);
    if (off > INT64_MAX || len > INT64_MAX - off)
        return wp__wasi_ret(results, WP_WASI_EFBIG);
    return wp__wasi_ret(results, wp__wasi_errno(wp__sys_allocate(e->host, (int64_t)off,
                                                                  (int64_t)len)));
}

wp_host_result wp__wasi_fd_advise(wp_host_call *call, void *env, const wp_val *args,
                                  wp_val *results) {
    (void)call;
    wp_wasi_fd *e;
    uint16_t rc = wp__wasi_fd_check(env, wp__wasi_u32(args, 0), WP_WASI_RIGHT_FD_ADVISE, &e);
    uint64_t off = wp__wasi_u64(args, 1);
    uint64_t len = wp__wasi_u64(args, 2);
    uint32_t advice = wp__wasi_u32(args, 3);
    if (rc != 0)
        return wp__wasi_ret(results, rc);
    if (advice > WP_WASI_ADVICE_MAX || off > INT64_MAX || len > INT64_MAX)
        return wp__wasi_ret(results, WP_WASI_EINVAL);
    return wp__wasi_ret(results, wp__wasi_errno(wp__sys_advise(e->host, (int64_t)off,
                                                                (int64_t)len, (uint8_t)advice)));
}

wp_host_result wp__wasi_fd_sync(wp_host_call *call, void *env, const wp_val *args,
                                wp_val *results) {
    (void)call;
    wp_wasi_fd *e;
    uint16_t rc = wp__wasi_fd_check(env, wp__wasi_u32(args, 0), WP_WASI_RIGHT_FD_SYNC, &e);
    if (rc != 0)
        return wp__wasi_ret(results, rc);
    return wp__wasi_ret(results, host_result(fsync(e->host)));
}

wp_host_result wp__wasi_fd_datasync(wp_host_call *call, void *env, const wp_val *args,
                                    wp_val *results) {
    (void)call;
    wp_wasi_fd *e;
    uint16_t rc = wp__wasi_fd_check(env, wp__wasi_u32(args, 0), WP_WASI_RIGHT_FD_DATASYNC, &e);
    if (rc != 0)
        return wp__wasi_ret(results, rc);
    return wp__wasi_ret(results, wp__wasi_errno(wp__sys_datasync(e->host)));
}

/* Seeking needs fd_seek, except a plain "where am I" (cur + 0), for which fd_tell will do. */
static uint16_t seek(wp_wasi *w, wp_memory *m, uint32_t fd, int64_t off, uint32_t whence,
                     uint32_t out) {
    wp_wasi_fd *e = wp__wasi_fd_get(w, fd);
    if (!e)
        return WP_WASI_EBADF;
    bool tell = whence == WP_WASI_WHENCE_CUR && off == 0;
    if (!(e->base & WP_WASI_RIGHT_FD_SEEK) && !(tell && (e->base & WP_WASI_RIGHT_FD_TELL)))
        return WP_WASI_ENOTCAPABLE;
    if (whence > WP_WASI_WHENCE_END)
        return WP_WASI_EINVAL;
    uint8_t *p = wp__wasi_mem(m, out, 8);
    if (!p)
        return WP_WASI_EFAULT;
    static const int host_whence[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    off_t pos = lseek(e->host, (off_t)off, host_whence[whence]);
    if (pos < 0)
        return wp__wasi_errno(errno);
    wp__wasi_le64(p, (uint64_t)pos);
    return WP_WASI_ESUCCESS;
}

wp_host_result wp__wasi_fd_seek(wp_host_call *call, void *env, const wp_val *args,
                                wp_val *results) {
    return wp__wasi_ret(results, seek(env, wp_host_call_memory(call), wp__wasi_u32(args, 0),
                                      (int64_t)wp__wasi_u64(args, 1), wp__wasi_u32(args, 2),
                                      wp__wasi_u32(args, 3)));
}

wp_host_result wp__wasi_fd_tell(wp_host_call *call, void *env, const wp_val *args,
                                wp_val *results) {
    return wp__wasi_ret(results, seek(env, wp_host_call_memory(call), wp__wasi_u32(args, 0), 0,
                                      WP_WASI_WHENCE_CUR, wp__wasi_u32(args, 1)));
}

wp_host_result wp__wasi_fd_prestat_get(wp_host_call *call, void *env, const wp_val *args,
                                       wp_val *results) {
    wp_wasi_fd *e = wp__wasi_fd_get(env, wp__wasi_u32(args, 0));
    if (!e || !e->preopen)
        return wp__wasi_ret(results, WP_WASI_EBADF);
    uint8_t *p = wp__wasi_mem(wp_host_call_memory(call), wp__wasi_u32(args, 1),
                              WP_WASI_PRESTAT_SIZE);
    if (!p)
        return wp__wasi_ret(results, WP_WASI_EFAULT);
    memset(p, 0, WP_WASI_PRESTAT_SIZE); /* tag 0: a directory */
    wp__wasi_le32(p + 4, e->preopen_len);
    return wp__wasi_ret(results, WP_WASI_ESUCCESS);
}

wp_host_result wp__wasi_fd_prestat_dir_name(wp_host_call *call, void *env, const wp_val *args,
                                            wp_val *results) {
    wp_wasi_fd *e = wp__wasi_fd_get(env, wp__wasi_u32(args, 0));
    uint32_t len = wp__wasi_u32(args, 2);
    if (!e || !e->preopen)
        return wp__wasi_ret(results, WP_WASI_EBADF);
    uint8_t *p = wp__wasi_mem(wp_host_call_memory(call), wp__wasi_u32(args, 1), len);
    if (!p)
        return wp__wasi_ret(results, WP_WASI_EFAULT);
    if (len < e->preopen_len)
        return wp__wasi_ret(results, WP_WASI_ENAMETOOLONG);
    memcpy(p, e->preopen, e->preopen_len); /* no NUL: the guest knows the length */
    return wp__wasi_ret(results, WP_WASI_ESUCCESS);
}
