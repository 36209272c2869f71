/* errno.c: host errno values to WASI errno values. */
#include <errno.h>

#include "internal.h"

/* Host errno names that match a WASI errno of the same name. Those a host may lack are
 * checked one by one below. */
#define HOST_ERRNOS(X)                                                                             \
    X(2BIG) X(ACCES) X(ADDRINUSE) X(ADDRNOTAVAIL) X(AFNOSUPPORT) X(AGAIN) X(ALREADY) X(BADF)       \
    X(BADMSG) X(BUSY) X(CANCELED) X(CHILD) X(CONNABORTED) X(CONNREFUSED) X(CONNRESET) X(DEADLK)    \
    X(DESTADDRREQ) X(DOM) X(EXIST) X(FAULT) X(FBIG) X(HOSTUNREACH) X(IDRM) X(ILSEQ)                \
    X(INPROGRESS) X(INTR) X(INVAL) X(IO) X(ISCONN) X(ISDIR) X(LOOP) X(MFILE) X(MLINK) X(MSGSIZE)   \
    X(NAMETOOLONG) X(NETDOWN) X(NETRESET) X(NETUNREACH) X(NFILE) X(NOBUFS) X(NODEV) X(NOENT)       \
    X(NOEXEC) X(NOLCK) X(NOMEM) X(NOMSG) X(NOPROTOOPT) X(NOSPC) X(NOSYS) X(NOTCONN) X(NOTDIR)      \
    X(NOTEMPTY) X(NOTSOCK) X(NOTSUP) X(NOTTY) X(NXIO) X(OVERFLOW) X(PERM) X(PIPE) X(PROTO)         \
    X(PROTONOSUPPORT) X(PROTOTYPE) X(RANGE) X(ROFS) X(SPIPE) X(SRCH) X(TIMEDOUT) X(TXTBSY) X(XDEV)

static uint16_t rare(int host) {
#ifdef EDQUOT
    if (host == EDQUOT)
        return WP_WASI_EDQUOT;
#endif
#ifdef EMULTIHOP
    if (host == EMULTIHOP)
        return WP_WASI_EMULTIHOP;
#endif
#ifdef ENOLINK
    if (host == ENOLINK)
        return WP_WASI_ENOLINK;
#endif
#ifdef ENOTRECOVERABLE
    if (host == ENOTRECOVERABLE)
        return WP_WASI_ENOTRECOVERABLE;
#endif
#ifdef EOWNERDEAD
    if (host == EOWNERDEAD)
        return WP_WASI_EOWNERDEAD;
#endif
#ifdef ESTALE
    if (host == ESTALE)
        return WP_WASI_ESTALE;
#endif
    /* Aliases on some hosts, distinct values on others. */
    if (host == EWOULDBLOCK)
        return WP_WASI_EAGAIN;
    if (host == EOPNOTSUPP)
        return WP_WASI_ENOTSUP;
    return WP_WASI_EIO; /* a host error WASI has no name for */
}

uint16_t wp__wasi_errno(int host) {
    if (host == 0)
        return WP_WASI_ESUCCESS;
    if (host == WP_SYS_ENOTCAPABLE)
        return WP_WASI_ENOTCAPABLE;
    switch (host) {
#define X(name)                                                                                    \
    case E##name:                                                                                  \
        return WP_WASI_E##name;
        HOST_ERRNOS(X)
#undef X
    default:
        return rare(host);
    }
}
