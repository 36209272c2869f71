/* sys_linux.c: the Linux system layer: openat2 path resolution, getrandom, fdatasync,
 * posix_fadvise, posix_fallocate. */
#include "sys.h"

#if WP_SYS_LINUX

#include <errno.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi.h"

int wp__sys_open_openat2(int dir, const char *path, int oflags, bool follow, int *out) {
    struct open_how how = {
        .flags = (uint64_t)(oflags | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW)),
        .mode = (oflags & O_CREAT) ? 0666 : 0,
        /* BENEATH refuses '..' above dir, absolute paths and symlinks leading out, checked
         * atomically by the kernel at each step; NO_MAGICLINKS refuses /proc-style links. */
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long fd;
    do {
        fd = syscall(SYS_openat2, dir, path, &how, sizeof how);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return errno == EXDEV ? WP_SYS_ENOTCAPABLE : errno;
    *out = (int)fd;
    return 0;
}

int wp__sys_random(void *buf, size_t len) {
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int wp__sys_datasync(int fd) { return fdatasync(fd) == 0 ? 0 : errno; }

int wp__sys_advise(int fd, int64_t offset, int64_t len, uint8_t advice) {
    static const int host[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                               POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
    if (advice > WP_WASI_ADVICE_MAX)
        return EINVAL;
    return posix_fadvise(fd, (off_t)offset, (off_t)len, host[advice]);
}

int wp__sys_allocate(int fd, int64_t offset, int64_t len) {
    return posix_fallocate(fd, (off_t)offset, (off_t)len);
}

#endif
