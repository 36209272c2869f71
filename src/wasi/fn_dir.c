/* fn_dir.c: fd_readdir over a directory stream of the descriptor's own, with telldir()
 * positions as the guest's cookies. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static uint8_t entry_type(DIR *d, const struct dirent *de) {
    struct stat st;
    switch (de->d_type) {
    case DT_REG:
        return WP_WASI_FILETYPE_REGULAR_FILE;
    case DT_DIR:
        return WP_WASI_FILETYPE_DIRECTORY;
    case DT_LNK:
        return WP_WASI_FILETYPE_SYMBOLIC_LINK;
    case DT_CHR:
        return WP_WASI_FILETYPE_CHARACTER_DEVICE;
    case DT_BLK:
        return WP_WASI_FILETYPE_BLOCK_DEVICE;
    case DT_SOCK:
        return WP_WASI_FILETYPE_SOCKET_STREAM;
    case DT_UNKNOWN: /* some file systems do not say: ask */
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return wp__wasi_filetype(st.st_mode);
        return WP_WASI_FILETYPE_UNKNOWN;
    default:
        return WP_WASI_FILETYPE_UNKNOWN;
    }
}

/* The stream reads through a descriptor of its own, so it never moves the guest's offset. */
static uint16_t open_stream(wp_wasi_fd *f) {
    if (f->dir)
        return WP_WASI_ESUCCESS;
    int fd = openat(f->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return wp__wasi_errno(errno);
    f->dir = fdopendir(fd);
    if (!f->dir) {
        int e = errno;
        close(fd);
        return wp__wasi_errno(e);
    }
    return WP_WASI_ESUCCESS;
}

/* Copies what fits of n bytes at src to buf[*used..len). */
static void put_part(uint8_t *buf, size_t len, size_t *used, const void *src, size_t n) {
    size_t room = len - *used;
    size_t take = n < room ? n : room;
    memcpy(buf + *used, src, take);
    *used += take;
}

/* Fills buf with entries from 'cookie' on; the last one may be cut short, as the spec says. */
static uint16_t fill(DIR *d, uint64_t cookie, uint8_t *buf, size_t len, size_t *used) {
    if (cookie == 0)
        rewinddir(d);
    else
        seekdir(d, (long)cookie);
    *used = 0;
    while (*used < len) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de)
            return errno ? wp__wasi_errno(errno) : WP_WASI_ESUCCESS;
        size_t namlen = strlen(de->d_name);
        uint8_t hdr[WP_WASI_DIRENT_SIZE] = {0};
        wp__wasi_le64(hdr, (uint64_t)telldir(d)); /* where the next entry starts */
        wp__wasi_le64(hdr + 8, (uint64_t)de->d_ino);
        wp__wasi_le32(hdr + 16, (uint32_t)namlen);
        hdr[20] = entry_type(d, de);
        put_part(buf, len, used, hdr, sizeof hdr);
        put_part(buf, len, used, de->d_name, namlen);
    }
    return WP_WASI_ESUCCESS;
}

wp_host_result wp__wasi_fd_readdir(wp_host_call *call, void *env, const wp_val *args,
                                   wp_val *results) {
    wp_memory *m = wp_host_call_memory(call);
    wp_wasi_fd *f;
    uint16_t e = wp__wasi_fd_check(env, wp__wasi_u32(args, 0), WP_WASI_RIGHT_FD_READDIR, &f);
    uint32_t len = wp__wasi_u32(args, 2);
    uint64_t cookie = wp__wasi_u64(args, 3);
    uint8_t *buf = wp__wasi_mem(m, wp__wasi_u32(args, 1), len);
    if (e == 0 && (!buf || !wp__wasi_mem(m, wp__wasi_u32(args, 4), 4)))
        e = WP_WASI_EFAULT;
    if (e == 0 && cookie > LONG_MAX)
        e = WP_WASI_EINVAL;
    if (e == 0)
        e = open_stream(f);
    size_t used = 0;
    if (e == 0)
        e = fill(f->dir, cookie, buf, len, &used);
    if (e == 0)
        wp__wasi_put32(m, wp__wasi_u32(args, 4), (uint32_t)used);
    return wp__wasi_ret(results, e);
}
