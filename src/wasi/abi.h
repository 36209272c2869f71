/* abi.h: the wasi_snapshot_preview1 ABI: errno values, rights, flags and record layouts
 * (typenames.witx), as the guest sees them in its little-endian 32-bit memory. */
#ifndef WP_WASI_ABI_H
#define WP_WASI_ABI_H

#include <stdint.h>

/* errno, in witx order: the value is the position. */
#define WP_WASI_ERRNOS(X)                                                                          \
    X(SUCCESS) X(2BIG) X(ACCES) X(ADDRINUSE) X(ADDRNOTAVAIL) X(AFNOSUPPORT) X(AGAIN) X(ALREADY)    \
    X(BADF) X(BADMSG) X(BUSY) X(CANCELED) X(CHILD) X(CONNABORTED) X(CONNREFUSED) X(CONNRESET)      \
    X(DEADLK) X(DESTADDRREQ) X(DOM) X(DQUOT) X(EXIST) X(FAULT) X(FBIG) X(HOSTUNREACH) X(IDRM)      \
    X(ILSEQ) X(INPROGRESS) X(INTR) X(INVAL) X(IO) X(ISCONN) X(ISDIR) X(LOOP) X(MFILE) X(MLINK)     \
    X(MSGSIZE) X(MULTIHOP) X(NAMETOOLONG) X(NETDOWN) X(NETRESET) X(NETUNREACH) X(NFILE)            \
    X(NOBUFS) X(NODEV) X(NOENT) X(NOEXEC) X(NOLCK) X(NOLINK) X(NOMEM) X(NOMSG) X(NOPROTOOPT)       \
    X(NOSPC) X(NOSYS) X(NOTCONN) X(NOTDIR) X(NOTEMPTY) X(NOTRECOVERABLE) X(NOTSOCK) X(NOTSUP)      \
    X(NOTTY) X(NXIO) X(OVERFLOW) X(OWNERDEAD) X(PERM) X(PIPE) X(PROTO) X(PROTONOSUPPORT)           \
    X(PROTOTYPE) X(RANGE) X(ROFS) X(SPIPE) X(SRCH) X(STALE) X(TIMEDOUT) X(TXTBSY) X(XDEV)          \
    X(NOTCAPABLE)

typedef enum wp_wasi_errno {
#define X(name) WP_WASI_E##name,
    WP_WASI_ERRNOS(X)
#undef X
} wp_wasi_errno;

/* rights: bit n is the n-th flag of the witx. */
#define WP_WASI_RIGHT_FD_DATASYNC (1ull << 0)
#define WP_WASI_RIGHT_FD_READ (1ull << 1)
#define WP_WASI_RIGHT_FD_SEEK (1ull << 2)
#define WP_WASI_RIGHT_FD_FDSTAT_SET_FLAGS (1ull << 3)
#define WP_WASI_RIGHT_FD_SYNC (1ull << 4)
#define WP_WASI_RIGHT_FD_TELL (1ull << 5)
#define WP_WASI_RIGHT_FD_WRITE (1ull << 6)
#define WP_WASI_RIGHT_FD_ADVISE (1ull << 7)
#define WP_WASI_RIGHT_FD_ALLOCATE (1ull << 8)
#define WP_WASI_RIGHT_PATH_CREATE_DIRECTORY (1ull << 9)
#define WP_WASI_RIGHT_PATH_CREATE_FILE (1ull << 10)
#define WP_WASI_RIGHT_PATH_LINK_SOURCE (1ull << 11)
#define WP_WASI_RIGHT_PATH_LINK_TARGET (1ull << 12)
#define WP_WASI_RIGHT_PATH_OPEN (1ull << 13)
#define WP_WASI_RIGHT_FD_READDIR (1ull << 14)
#define WP_WASI_RIGHT_PATH_READLINK (1ull << 15)
#define WP_WASI_RIGHT_PATH_RENAME_SOURCE (1ull << 16)
#define WP_WASI_RIGHT_PATH_RENAME_TARGET (1ull << 17)
#define WP_WASI_RIGHT_PATH_FILESTAT_GET (1ull << 18)
#define WP_WASI_RIGHT_PATH_FILESTAT_SET_SIZE (1ull << 19)
#define WP_WASI_RIGHT_PATH_FILESTAT_SET_TIMES (1ull << 20)
#define WP_WASI_RIGHT_FD_FILESTAT_GET (1ull << 21)
#define WP_WASI_RIGHT_FD_FILESTAT_SET_SIZE (1ull << 22)
#define WP_WASI_RIGHT_FD_FILESTAT_SET_TIMES (1ull << 23)
#define WP_WASI_RIGHT_PATH_SYMLINK (1ull << 24)
#define WP_WASI_RIGHT_PATH_REMOVE_DIRECTORY (1ull << 25)
#define WP_WASI_RIGHT_PATH_UNLINK_FILE (1ull << 26)
#define WP_WASI_RIGHT_POLL_FD_READWRITE (1ull << 27)
#define WP_WASI_RIGHT_SOCK_SHUTDOWN (1ull << 28)
#define WP_WASI_RIGHT_SOCK_ACCEPT (1ull << 29)
#define WP_WASI_RIGHTS_ALL ((1ull << 30) - 1)

/* What each kind of descriptor can do at most (base), and pass on (inheriting). */
#define WP_WASI_RIGHTS_FILE                                                                        \
    (WP_WASI_RIGHT_FD_DATASYNC | WP_WASI_RIGHT_FD_READ | WP_WASI_RIGHT_FD_SEEK |                   \
     WP_WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WP_WASI_RIGHT_FD_SYNC | WP_WASI_RIGHT_FD_TELL |           \
     WP_WASI_RIGHT_FD_WRITE | WP_WASI_RIGHT_FD_ADVISE | WP_WASI_RIGHT_FD_ALLOCATE |                \
     WP_WASI_RIGHT_FD_FILESTAT_GET | WP_WASI_RIGHT_FD_FILESTAT_SET_SIZE |                          \
     WP_WASI_RIGHT_FD_FILESTAT_SET_TIMES | WP_WASI_RIGHT_POLL_FD_READWRITE)
#define WP_WASI_RIGHTS_DIR                                                                         \
    (WP_WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WP_WASI_RIGHT_FD_SYNC | WP_WASI_RIGHT_FD_DATASYNC |       \
     WP_WASI_RIGHT_PATH_CREATE_DIRECTORY | WP_WASI_RIGHT_PATH_CREATE_FILE |                        \
     WP_WASI_RIGHT_PATH_LINK_SOURCE | WP_WASI_RIGHT_PATH_LINK_TARGET | WP_WASI_RIGHT_PATH_OPEN |   \
     WP_WASI_RIGHT_FD_READDIR | WP_WASI_RIGHT_PATH_READLINK | WP_WASI_RIGHT_PATH_RENAME_SOURCE |   \
     WP_WASI_RIGHT_PATH_RENAME_TARGET | WP_WASI_RIGHT_PATH_FILESTAT_GET |                          \
     WP_WASI_RIGHT_PATH_FILESTAT_SET_SIZE | WP_WASI_RIGHT_PATH_FILESTAT_SET_TIMES |                \
     WP_WASI_RIGHT_FD_FILESTAT_GET | WP_WASI_RIGHT_FD_FILESTAT_SET_TIMES |                         \
     WP_WASI_RIGHT_PATH_SYMLINK | WP_WASI_RIGHT_PATH_REMOVE_DIRECTORY |                            \
     WP_WASI_RIGHT_PATH_UNLINK_FILE | WP_WASI_RIGHT_POLL_FD_READWRITE)
#define WP_WASI_RIGHTS_DIR_INHERITING (WP_WASI_RIGHTS_DIR | WP_WASI_RIGHTS_FILE)
/* Terminals, pipes and other streams: no seek or tell, so wasi-libc's isatty() can tell a
 * terminal (a character device without them) from a file. */
#define WP_WASI_RIGHTS_STREAM                                                                      \
    (WP_WASI_RIGHT_FD_READ | WP_WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WP_WASI_RIGHT_FD_WRITE |          \
     WP_WASI_RIGHT_FD_FILESTAT_GET | WP_WASI_RIGHT_POLL_FD_READWRITE)
#define WP_WASI_RIGHTS_SOCKET                                                                      \
    (WP_WASI_RIGHTS_STREAM | WP_WASI_RIGHT_SOCK_SHUTDOWN | WP_WASI_RIGHT_SOCK_ACCEPT)
/* Rights that change a file's data or size: refused under a read-only mount. */
#define WP_WASI_RIGHTS_WRITING                                                                     \
    (WP_WASI_RIGHT_FD_WRITE | WP_WASI_RIGHT_FD_ALLOCATE | WP_WASI_RIGHT_FD_FILESTAT_SET_SIZE)

enum {
    WP_WASI_FILETYPE_UNKNOWN,
    WP_WASI_FILETYPE_BLOCK_DEVICE,
    WP_WASI_FILETYPE_CHARACTER_DEVICE,
    WP_WASI_FILETYPE_DIRECTORY,
    WP_WASI_FILETYPE_REGULAR_FILE,
    WP_WASI_FILETYPE_SOCKET_DGRAM,
    WP_WASI_FILETYPE_SOCKET_STREAM,
    WP_WASI_FILETYPE_SYMBOLIC_LINK,
};

enum { WP_WASI_CLOCK_REALTIME, WP_WASI_CLOCK_MONOTONIC, WP_WASI_CLOCK_PROCESS,
       WP_WASI_CLOCK_THREAD };
enum { WP_WASI_WHENCE_SET, WP_WASI_WHENCE_CUR, WP_WASI_WHENCE_END };
#define WP_WASI_ADVICE_MAX 5 /* normal .. noreuse */

#define WP_WASI_FDFLAG_APPEND 1u
#define WP_WASI_FDFLAG_DSYNC 2u
#define WP_WASI_FDFLAG_NONBLOCK 4u
#define WP_WASI_FDFLAG_RSYNC 8u
#define WP_WASI_FDFLAG_SYNC 16u
#define WP_WASI_FDFLAGS_ALL 31u

#define WP_WASI_FSTFLAG_ATIM 1u
#define WP_WASI_FSTFLAG_ATIM_NOW 2u
#define WP_WASI_FSTFLAG_MTIM 4u
#define WP_WASI_FSTFLAG_MTIM_NOW 8u

#define WP_WASI_LOOKUP_SYMLINK_FOLLOW 1u

#define WP_WASI_OFLAG_CREAT 1u
#define WP_WASI_OFLAG_DIRECTORY 2u
#define WP_WASI_OFLAG_EXCL 4u
#define WP_WASI_OFLAG_TRUNC 8u
#define WP_WASI_OFLAGS_ALL 15u

enum { WP_WASI_EVENT_CLOCK, WP_WASI_EVENT_FD_READ, WP_WASI_EVENT_FD_WRITE };
#define WP_WASI_SUBCLOCK_ABSTIME 1u
#define WP_WASI_EVENTRW_HANGUP 1u

#define WP_WASI_RIFLAG_PEEK 1u
#define WP_WASI_RIFLAG_WAITALL 2u
#define WP_WASI_ROFLAG_TRUNCATED 1u
#define WP_WASI_SDFLAG_RD 1u
#define WP_WASI_SDFLAG_WR 2u

#define WP_WASI_SIGNAL_MAX 30 /* hup .. sys */

/* Record sizes and field offsets in guest memory. */
#define WP_WASI_IOVEC_SIZE 8
#define WP_WASI_FDSTAT_SIZE 24 /* filetype u8 @0, flags u16 @2, base u64 @8, inheriting @16 */
#define WP_WASI_FILESTAT_SIZE 64 /* dev @0 ino @8 filetype u8 @16 nlink @24 size @32 atim @40
                                    mtim @48 ctim @56 */
#define WP_WASI_DIRENT_SIZE 24 /* d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20 */
#define WP_WASI_PRESTAT_SIZE 8 /* tag u8 @0 (0: dir), pr_name_len u32 @4 */
#define WP_WASI_SUBSCRIPTION_SIZE 48 /* userdata u64 @0, tag u8 @8, clock id u32 @16,
                                        timeout u64 @24, precision u64 @32, flags u16 @40;
                                        fd_readwrite fd u32 @16 */
#define WP_WASI_EVENT_SIZE 32 /* userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16,
                                 flags u16 @24 */

#endif
