/* sys.h: the sandboxed system layer under WASI: path operations confined beneath a directory
 * descriptor, readiness checks, waiting, clocks and randomness.
 *
 * Every function returns 0 or a host errno value (positive), so the exact reason reaches the
 * guest's errno; WP_SYS_ENOTCAPABLE says a path tried to leave its directory.
 *
 * Paths are guest paths: relative, resolved beneath 'dir' and never allowed out of it, not
 * by '..', not by an absolute path, not through a symbolic link (absolute or relative, at
 * any depth, swapped in at any time). Only the final component's symbolic link is followed,
 * and only with WP_SYS_FOLLOW. Host paths are never built by joining strings.
 *
 * The resolver is chosen here, in one place: openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
 * where the platform has it (sys_linux.c), else the portable walk (sys_posix.c), which opens
 * one component at a time with O_NOFOLLOW and expands symbolic links itself. Linux builds both
 * so the tests run every escape attempt through each (WP_SYS_PORTABLE).
 */
#ifndef WP_WASI_SYS_H
#define WP_WASI_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "wippy/wasi.h"

#ifndef WP_SYS_LINUX /* -DWP_SYS_LINUX=0 builds the portable twins on Linux too, to test them */
#if defined(__linux__)
#define WP_SYS_LINUX 1 /* sys_linux.c: openat2, getrandom, fallocate and friends */
#else
#define WP_SYS_LINUX 0 /* sys_posix.c has the portable versions of all of them */
#endif
#endif

/* Opens a directory only to resolve paths beneath it: O_PATH where it exists. */
#include <fcntl.h>
#if defined(O_PATH)
#define WP_SYS_O_SEARCH O_PATH
#elif defined(O_SEARCH)
#define WP_SYS_O_SEARCH O_SEARCH
#else
#define WP_SYS_O_SEARCH O_RDONLY
#endif

#include <sys/socket.h>
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* a host without it: the embedder's SIGPIPE disposition decides */
#endif

#define WP_SYS_ENOTCAPABLE 0x10000 /* not a host errno: outside every errno's range */
#define WP_SYS_PATH_MAX 4096       /* bytes of a guest path, as Linux's PATH_MAX */
#define WP_SYS_MAX_DEPTH 256       /* directories the portable walk holds open at once */
#define WP_SYS_MAX_SYMLINKS 40     /* symbolic links expanded in one resolution, as Linux */

/* 'how' bits of the path functions. */
#define WP_SYS_FOLLOW 1u   /* follow a symbolic link in the final component */
#define WP_SYS_PORTABLE 2u /* use the portable walk even where openat2 exists */

/* Opens path beneath dir with open(2) flags (O_CLOEXEC is added; O_CREAT uses mode 0666
 * under the umask). *out is a new descriptor owned by the caller. */
int wp__sys_open(int dir, const char *path, int oflags, unsigned how, int *out);

/* The two resolvers behind wp__sys_open. follow: the final component's symbolic link. */
int wp__sys_open_openat2(int dir, const char *path, int oflags, bool follow, int *out);
int wp__sys_open_walk(int dir, const char *path, int oflags, bool follow, int *out);

/* Path operations, as their *at(2) namesakes, confined beneath their directories. */
int wp__sys_stat(int dir, const char *path, unsigned how, struct stat *st);
int wp__sys_utimens(int dir, const char *path, unsigned how, const struct timespec ts[2]);
int wp__sys_mkdir(int dir, const char *path, unsigned how);
int wp__sys_rmdir(int dir, const char *path, unsigned how);
int wp__sys_unlink(int dir, const char *path, unsigned how);
int wp__sys_rename(int dir, const char *path, int new_dir, const char *new_path, unsigned how);
/* WP_SYS_FOLLOW in how applies to the source path. */
int wp__sys_link(int dir, const char *path, int new_dir, const char *new_path, unsigned how);
/* target is stored as given; it is confined when something follows the link. */
int wp__sys_symlink(const char *target, int dir, const char *path, unsigned how);
/* Copies at most cap bytes of the link's contents (no NUL) and sets *n to the count. */
int wp__sys_readlink(int dir, const char *path, char *buf, size_t cap, size_t *n, unsigned how);

/* Descriptor operations the platforms differ on. */
int wp__sys_datasync(int fd);
int wp__sys_advise(int fd, int64_t offset, int64_t len, uint8_t advice);
int wp__sys_allocate(int fd, int64_t offset, int64_t len);

/* Zero-timeout readiness: sets *ready to the WP_WASI_READABLE/WRITABLE bits of 'events' that
 * would not block now (hang-up and errors count as ready), *hangup if the peer is gone. */
int wp__sys_ready(int fd, uint32_t events, uint32_t *ready, bool *hangup);

/* Blocks until one of fds is ready or the monotonic deadline passes (the driver's wait). */
int wp__sys_wait(const wp_wasi_waitfd *fds, uint32_t nfds, uint64_t deadline);

/* Bytes readable without blocking (FIONREAD), 0 if unknown. */
uint64_t wp__sys_readable_bytes(int fd);

/* Clocks in nanoseconds, WASI clock ids (realtime, monotonic, process, thread). */
int wp__sys_clock_time(uint32_t id, uint64_t *ns);
int wp__sys_clock_res(uint32_t id, uint64_t *ns);

/* Fills buf from the operating system's random source. */
int wp__sys_random(void *buf, size_t len);

#endif
