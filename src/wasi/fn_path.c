/* fn_path.c: path_* functions. Each resolves its paths beneath the directory fd it is given
 * (sys.h), checks that fd's rights, and refuses changes under a read-only mount ('rofs'). */
#include <errno.h>
#include <unistd.h>

#include "internal.h"

/* Looks up directory fd with 'rights' and copies the guest path into w->path[slot]. */
static uint16_t dir_arg(wp_wasi *w, wp_memory *m, uint32_t fd, uint64_t rights, uint32_t ptr,
                        uint32_t len, int slot, wp_wasi_fd **out) {
    wp_wasi_fd *f = wp__wasi_fd_get(w, fd);
    if (!f)
        return WP_WASI_EBADF;
    if (f->type != WP_WASI_FILETYPE_DIRECTORY)
        return WP_WASI_ENOTDIR;
    if ((f->base & rights) != rights)
        return WP_WASI_ENOTCAPABLE;
    *out = f;
    return wp__wasi_path(m, ptr, len, w->path[slot]);
}

/* As dir_arg, for a call that changes the directory's contents. */
static uint16_t dir_arg_rw(wp_wasi *w, wp_memory *m, uint32_t fd, uint64_t rights,
                           uint32_t ptr, uint32_t len, int slot, wp_wasi_fd **out) {
    uint16_t e = dir_arg(w, m, fd, rights, ptr, len, slot, out);
    return e == 0 && (*out)->read_only ? WP_WASI_EROFS : e;
}

static unsigned how(const wp_wasi *w, uint32_t lookup) {
    return ((lookup & WP_WASI_LOOKUP_SYMLINK_FOLLOW) ? WP_SYS_FOLLOW : 0) |
           ((w->flags & WP_WASI_PORTABLE_RESOLVE) ? WP_SYS_PORTABLE : 0);
}

/* ---- path_open --------------------------------------------------------------------------- */

static int host_oflags(uint32_t oflags, uint64_t base, uint32_t fdflags) {
    bool dir = oflags & WP_WASI_OFLAG_DIRECTORY;
    bool rd = base & (WP_WASI_RIGHT_FD_READ | WP_WASI_RIGHT_FD_READDIR);
    bool wr = !dir && (base & WP_WASI_RIGHTS_WRITING);
    int fl = wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;
    /* Non-blocking on the host always: opening a FIFO must not wait for its other end, and
     * reads and writes check readiness themselves. */
    fl |= O_NONBLOCK | O_NOCTTY;
    fl |= (oflags & WP_WASI_OFLAG_CREAT) ? O_CREAT : 0;
    fl |= dir ? O_DIRECTORY : 0;
    fl |= (oflags & WP_WASI_OFLAG_EXCL) ? O_EXCL : 0;
    fl |= (oflags & WP_WASI_OFLAG_TRUNC) ? O_TRUNC : 0;
    fl |= (fdflags & WP_WASI_FDFLAG_APPEND) ? O_APPEND : 0;
    fl |= (fdflags & WP_WASI_FDFLAG_DSYNC) ? O_DSYNC : 0;
    fl |= (fdflags & WP_WASI_FDFLAG_SYNC) ? O_SYNC : 0;
#ifdef O_RSYNC
    fl |= (fdflags & WP_WASI_FDFLAG_RSYNC) ? O_RSYNC : 0;
#endif
    return fl;
}

/* Does opening with these flags and rights change anything? (Refused on read-only mounts.) */
static bool open_writes(uint32_t oflags, uint64_t base, uint32_t fdflags) {
    if (oflags & (WP_WASI_OFLAG_CREAT | WP_WASI_OFLAG_TRUNC))
        return true;
    if (oflags & WP_WASI_OFLAG_DIRECTORY)
        return false;
    return (base & WP_WASI_RIGHTS_WRITING) || (fdflags & WP_WASI_FDFLAG_APPEND);
}

/* Makes host descriptor h (taken over) a new guest fd opened from dir, written to out. */
static uint16_t add_opened(wp_wasi *w, const wp_wasi_fd *dir, int h, uint64_t base,
                           uint64_t inheriting, uint32_t fdflags, uint32_t *fd) {
    wp_wasi_fd e = {.host = h, .owned = true, .read_only = dir->read_only};
    int rc = wp__wasi_fd_describe(h, &e);
    uint16_t err = rc ? wp__wasi_errno(rc) : 0;
    /* Fewer rights than asked only where they do not apply to this kind of file. */
    e.base &= base;
    e.inheriting &= inheriting;
    e.flags = (uint16_t)fdflags;
    if (err == 0)
        err = wp__wasi_fd_add(w, &e, fd);
    if (err != 0)
        close(h);
    return err;
}

static uint16_t path_open(wp_wasi *w, wp_memory *m, const wp_val *args) {
    uint32_t lookup = wp__wasi_u32(args, 1);
    uint32_t oflags = wp__wasi_u32(args, 4);
    uint64_t base = wp__wasi_u64(args, 5);
    uint64_t inheriting = wp__wasi_u64(args, 6);
    uint32_t fdflags = wp__wasi_u32(args, 7);
    uint64_t rights = WP_WASI_RIGHT_PATH_OPEN |
                      ((oflags & WP_WASI_OFLAG_CREAT) ? WP_WASI_RIGHT_PATH_CREATE_FILE : 0) |
                      ((oflags & WP_WASI_OFLAG_TRUNC) ? WP_WASI_RIGHT_PATH_FILESTAT_SET_SIZE : 0);
    wp_wasi_fd *dir;
    uint16_t e = dir_arg(w, m, wp__wasi_u32(args, 0), rights, wp__wasi_u32(args, 2),
                         wp__wasi_u32(args, 3), 0, &dir);
    if (e != 0)
        return e;
    if ((oflags & ~WP_WASI_OFLAGS_ALL) || (fdflags & ~WP_WASI_FDFLAGS_ALL))
        return WP_WASI_EINVAL;
    if ((base & ~dir->inheriting) || (inheriting & ~dir->inheriting))
        return WP_WASI_ENOTCAPABLE; /* a descriptor never gets more than its directory passes on */
    if (!wp__wasi_mem(m, wp__wasi_u32(args, 8), 4))
        return WP_WASI_EFAULT;
    if (dir->read_only && open_writes(oflags, base, fdflags))
        return WP_WASI_EROFS;
    int h;
    int rc = wp__sys_open(dir->host, w->path[0], host_oflags(oflags, base, fdflags),
                          how(w, lookup), &h);
    if (rc != 0)
        return wp__wasi_errno(rc);
    uint32_t fd;
    if ((e = add_opened(w, dir, h, base, inheriting, fdflags, &fd)) != 0)
        return e;
    wp__wasi_put32(m, wp__wasi_u32(args, 8), fd);
    return WP_WASI_ESUCCESS;
}

wp_host_result wp__wasi_path_open(wp_host_call *call, void *env, const wp_val *args,
                                  wp_val *results) {
    return wp__wasi_ret(results, path_open(env, wp_host_call_memory(call), args));
}

/* ---- The rest ---------------------------------------------------------------------------- */

wp_host_result wp__wasi_path_create_directory(wp_host_call *call, void *env, const wp_val *args,
                                              wp_val *results) {
    wp_wasi *w = env;
    wp_wasi_fd *dir;
    uint16_t e = dir_arg_rw(w, wp_host_call_memory(call), wp__wasi_u32(args, 0),
                            WP_WASI_RIGHT_PATH_CREATE_DIRECTORY, wp__wasi_u32(args, 1),
                            wp__wasi_u32(args, 2), 0, &dir);
    if (e == 0)
        e = wp__wasi_errno(wp__sys_mkdir(dir->host, w->path[0], how(w, 0)));
    return wp__wasi_ret(results, e);
}

wp_host_result wp__wasi_path_remove_directory(wp_host_call *call, void *env, const wp_val *args,
                                              wp_val *results) {
    wp_wasi *w = env;
    wp_wasi_fd *dir;
    uint16_t e = dir_arg_rw(w, wp_host_call_memory(call), wp__wasi_u32(args, 0),
                            WP_WASI_RIGHT_PATH_REMOVE_DIRECTORY, wp__wasi_u32(args, 1),
                            wp__wasi_u32(args, 2), 0, &dir);
    if (e == 0)
        e = wp__wasi_errno(wp__sys_rmdir(dir->host, w->path[0], how(w, 0)));
    return wp__wasi_ret(results, e);
}

wp_host_result wp__wasi_path_unlink_file(wp_host_call *call, void *env, const wp_val *args,
                                         wp_val *results) {
    wp_wasi *w = env;
    wp_wasi_fd *dir;
    uint16_t e = dir_arg_rw(w, wp_host_call_memory(call), wp__wasi_u32(args, 0),
                            WP_WASI_RIGHT_PATH_UNLINK_FILE, wp__wasi_u32(args, 1),
                            wp__wasi_u32(args, 2), 0, &dir);
    if (e == 0)
        e = wp__wasi_errno(wp__sys_unlink(dir->host, w->path[0], how(w, 0)));
    return wp__wasi_ret(results, e);
}

wp_host_result wp__wasi_path_filestat_get(wp_host_call *call, void *env, const wp_val *args,
                                          wp_val *results) {
    wp_wasi *w = env;
    wp_memory *m = wp_host_call_memory(call);
    wp_wasi_fd *dir;
    uint16_t e = dir_arg(w, m, wp__wasi_u32(args, 0), WP_WASI_RIGHT_PATH_FILESTAT_GET,
                         wp__wasi_u32(args, 2), wp__wasi_u32(args, 3), 0, &dir);
    uint8_t *p = wp__wasi_mem(m, wp__wasi_u32(args, 4), WP_WASI_FILESTAT_SIZE);
    struct stat st;
    if (e == 0 && !p)
        e = WP_WASI_EFAULT;
    if (e == 0)
        e = wp__wasi_errno(wp__sys_stat(dir->host, w->path[0], how(w, wp__wasi_u32(args, 1)),
                                        &st));
    if (e == 0)
        wp__wasi_filestat(p, &st);
    return wp__wasi_ret(results, e);
}

wp_host_result wp__wasi_path_filestat_set_times(wp_host_call *call, void *env,
                                                const wp_val *args, wp_val *results) {
    wp_wasi *w = env;
    wp_wasi_fd *dir;
    uint16_t e = dir_arg_rw(w, wp_host_call_memory(call), wp__wasi_u32(args, 0),
                            WP_WASI_RIGHT_PATH_FILESTAT_SET_TIMES, wp__wasi_u32(args, 2),
                            wp__wasi_u32(args, 3), 0, &dir);
    struct timespec ts[2];
    if (e == 0)
        e = wp__wasi_times(wp__wasi_u64(args, 4), wp__wasi_u64(args, 5), wp__wasi_u32(args, 6),
                           ts);
    if (e == 0)
        e = wp__wasi_errno(wp__sys_utimens(dir->host, w->path[0],
                                           how(w, wp__wasi_u32(args, 1)), ts));
    return wp__wasi_ret(results, e);
}

wp_host_result wp__wasi_path_readlink(wp_host_call *call, void *env, const wp_val *args,
                                      wp_val *results) {
    wp_wasi *w = env;
    wp_memory *m = wp_host_call_memory(call);
    wp_wasi_fd *dir;
    uint16_t e = dir_arg(w, m, wp__wasi_u32(args, 0), WP_WASI_RIGHT_PATH_READLINK,
                         wp__wasi_u32(args, 1), wp__wasi_u32(args, 2), 0, &dir);
    uint32_t cap = wp__wasi_u32(args, 4);
    uint8_t *buf = wp__wasi_mem(m, wp__wasi_u32(args, 3), cap);
    size_t n = 0;
    if (e == 0 && (!buf || !wp__wasi_mem(m, wp__wasi_u32(args, 5), 4)))
        e = WP_WASI_EFAULT;
    if (e == 0)
        e = wp__wasi_errno(wp__sys_readlink(dir->host, w->path[0], (char *)buf, cap, &n,
                                            how(w, 0)));
    if (e == 0)
        wp__wasi_put32(m, wp__wasi_u32(args, 5), (uint32_t)n);
    return wp__wasi_ret(results, e);
}

wp_host_result wp__wasi_path_rename(wp_host_call *call, void *env, const wp_val *args,
                                    wp_val *results) {
    wp_wasi *w = env;
    wp_memory *m = wp_host_call_memory(call);
    wp_wasi_fd *from;
    wp_wasi_fd *to;
    uint16_t e = dir_arg_rw(w, m, wp__wasi_u32(args, 0), WP_WASI_RIGHT_PATH_RENAME_SOURCE,
                            wp__wasi_u32(args, 1), wp__wasi_u32(args, 2), 0, &from);
    if (e == 0)
        e = dir_arg_rw(w, m, wp__wasi_u32(args, 3), WP_WASI_RIGHT_PATH_RENAME_TARGET,
                       wp__wasi_u32(args, 4), wp__wasi_u32(args, 5), 1, &to);
    if (e == 0)
        e = wp__wasi_errno(wp__sys_rename(from->host, w->path[0], to->host, w->path[1],
                                          how(w, 0)));
    return wp__wasi_ret(results, e);
}

/* A hard link from a read-only mount into a writable one would make the file writable. */
wp_host_result wp__wasi_path_link(wp_host_call *call, void *env, const wp_val *args,
                                  wp_val *results) {
    wp_wasi *w = env;
    wp_memory *m = wp_host_call_memory(call);
    wp_wasi_fd *from;
    wp_wasi_fd *to;
    uint16_t e = dir_arg_rw(w, m, wp__wasi_u32(args, 0), WP_WASI_RIGHT_PATH_LINK_SOURCE,
                            wp__wasi_u32(args, 2), wp__wasi_u32(args, 3), 0, &from);
    if (e == 0)
        e = dir_arg_rw(w, m, wp__wasi_u32(args, 4), WP_WASI_RIGHT_PATH_LINK_TARGET,
                       wp__wasi_u32(args, 5), wp__wasi_u32(args, 6), 1, &to);
    if (e == 0)
        e = wp__wasi_errno(wp__sys_link(from->host, w->path[0], to->host, w->path[1],
                                        how(w, wp__wasi_u32(args, 1))));
    return wp__wasi_ret(results, e);
}

wp_host_result wp__wasi_path_symlink(wp_host_call *call, void *env, const wp_val *args,
                                     wp_val *results) {
    wp_wasi *w = env;
    wp_memory *m = wp_host_call_memory(call);
    wp_wasi_fd *dir;
    uint16_t e = dir_arg_rw(w, m, wp__wasi_u32(args, 2), WP_WASI_RIGHT_PATH_SYMLINK,
                            wp__wasi_u32(args, 3), wp__wasi_u32(args, 4), 1, &dir);
    if (e == 0) /* the link's contents: stored as given, confined only when followed */
        e = wp__wasi_path(m, wp__wasi_u32(args, 0), wp__wasi_u32(args, 1), w->path[0]);
    if (e == 0)
        e = wp__wasi_errno(wp__sys_symlink(w->path[0], dir->host, w->path[1], how(w, 0)));
    return wp__wasi_ret(results, e);
}
