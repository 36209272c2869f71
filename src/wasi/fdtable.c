/* fdtable.c: the guest's descriptor table: lookup, rights checks, adding, closing. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

wp_wasi_fd *wp__wasi_fd_get(wp_wasi *w, uint32_t fd) {
    if (fd >= w->nfds || w->fds[fd].host < 0)
        return NULL;
    return &w->fds[fd];
}

uint16_t wp__wasi_fd_check(wp_wasi *w, uint32_t fd, uint64_t rights, wp_wasi_fd **out) {
    wp_wasi_fd *e = wp__wasi_fd_get(w, fd);
    if (!e)
        return WP_WASI_EBADF;
    if ((e->base & rights) != rights)
        return WP_WASI_ENOTCAPABLE;
    *out = e;
    return WP_WASI_ESUCCESS;
}

static bool grow(wp_wasi *w, uint32_t want) {
    if (want <= w->nfds)
        return true;
    uint32_t n = w->nfds ? w->nfds : 8;
    while (n < want)
        n *= 2;
    wp_wasi_fd *fds = wp_heap_realloc(w->heap, w->fds, w->nfds * sizeof *fds, n * sizeof *fds);
    if (!fds)
        return false;
    for (uint32_t i = w->nfds; i < n; i++)
        fds[i] = (wp_wasi_fd){.host = -1};
    w->fds = fds;
    w->nfds = n;
    return true;
}

uint16_t wp__wasi_fd_add(wp_wasi *w, const wp_wasi_fd *e, uint32_t *fd) {
    uint32_t i = 0;
    while (i < w->nfds && w->fds[i].host >= 0)
        i++;
    if (i >= WP_WASI_MAX_FDS)
        return WP_WASI_EMFILE;
    if (!grow(w, i + 1))
        return WP_WASI_ENOMEM;
    w->fds[i] = *e;
    *fd = i;
    return WP_WASI_ESUCCESS;
}

bool wp__wasi_fd_put(wp_wasi *w, uint32_t fd, const wp_wasi_fd *e) {
    if (!grow(w, fd + 1))
        return false;
    w->fds[fd] = *e;
    return true;
}

void wp__wasi_fd_release(wp_wasi *w, wp_wasi_fd *e) {
    if (e->dir)
        closedir(e->dir);
    if (e->owned)
        close(e->host);
    if (e->preopen)
        wp_heap_free(w->heap, e->preopen, e->preopen_len + 1);
    *e = (wp_wasi_fd){.host = -1};
}

uint8_t wp__wasi_filetype(unsigned mode) {
    switch (mode & S_IFMT) {
    case S_IFREG:
        return WP_WASI_FILETYPE_REGULAR_FILE;
    case S_IFDIR:
        return WP_WASI_FILETYPE_DIRECTORY;
    case S_IFCHR:
        return WP_WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFBLK:
        return WP_WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFLNK:
        return WP_WASI_FILETYPE_SYMBOLIC_LINK;
    case S_IFSOCK:
        return WP_WASI_FILETYPE_SOCKET_STREAM;
    default:
        return WP_WASI_FILETYPE_UNKNOWN; /* FIFOs: WASI has no name for them */
    }
}

/* Rights a descriptor of this kind can have at all. */
static void kind_rights(int host, wp_wasi_fd *e) {
    switch (e->type) {
    case WP_WASI_FILETYPE_DIRECTORY:
        e->base = WP_WASI_RIGHTS_DIR;
        e->inheriting = WP_WASI_RIGHTS_DIR_INHERITING;
        return;
    case WP_WASI_FILETYPE_REGULAR_FILE:
    case WP_WASI_FILETYPE_BLOCK_DEVICE:
        e->base = WP_WASI_RIGHTS_FILE;
        return;
    case WP_WASI_FILETYPE_SOCKET_STREAM:
    case WP_WASI_FILETYPE_SOCKET_DGRAM:
        e->base = WP_WASI_RIGHTS_SOCKET;
        e->blocking_io = true;
        return;
    case WP_WASI_FILETYPE_CHARACTER_DEVICE:
        e->base = WP_WASI_RIGHTS_STREAM;
        if (!isatty(host)) /* /dev/null and friends seek; wasi-libc's isatty says no */
            e->base |= WP_WASI_RIGHT_FD_SEEK | WP_WASI_RIGHT_FD_TELL;
        e->blocking_io = true;
        return;
    default:
        e->base = WP_WASI_RIGHTS_STREAM;
        e->blocking_io = true;
        return;
    }
}

int wp__wasi_fd_describe(int host, wp_wasi_fd *e) {
    struct stat st;
    if (fstat(host, &st) != 0)
        return errno;
    e->type = wp__wasi_filetype(st.st_mode);
    int so_type = 0;
    socklen_t so_len = sizeof so_type;
    if (e->type == WP_WASI_FILETYPE_SOCKET_STREAM &&
        getsockopt(host, SOL_SOCKET, SO_TYPE, &so_type, &so_len) == 0 && so_type == SOCK_DGRAM)
        e->type = WP_WASI_FILETYPE_SOCKET_DGRAM;
    e->base = e->inheriting = 0;
    e->blocking_io = false;
    kind_rights(host, e);
    int fl = fcntl(host, F_GETFL);
    if (fl < 0)
        return errno;
    if (e->type != WP_WASI_FILETYPE_DIRECTORY && (fl & O_ACCMODE) == O_RDONLY)
        e->base &= ~WP_WASI_RIGHTS_WRITING;
    if ((fl & O_ACCMODE) == O_WRONLY)
        e->base &= ~(WP_WASI_RIGHT_FD_READ | WP_WASI_RIGHT_FD_READDIR);
    e->flags = (fl & O_APPEND) ? WP_WASI_FDFLAG_APPEND : 0;
    return 0;
}
