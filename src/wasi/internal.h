/* internal.h: the WASI context and what the files of src/wasi share.
 *
 * Who writes what:
 *   ctx.c       wp_wasi_new/free: args, env, stdio, mounts, cwd, sockets     wp_wasi_*
 *   fdtable.c   the guest's descriptor table                                  wp__wasi_fd_*
 *   guest.c     checked access to guest memory: scalars, strings, iovecs      wp__wasi_mem_*
 *   errno.c     host errno -> WASI errno                                      wp__wasi_errno
 *   link.c      the import table, wp_wasi_link                                wp_wasi_link
 *   fn_env.c    args, environ, clocks, random, proc_exit, proc_raise
 *   fn_fd.c     fd_* except the reads, writes and readdir
 *   fn_io.c     fd_read/write/pread/pwrite, sock_*: the calls that may wait
 *   fn_dir.c    fd_readdir
 *   fn_path.c   path_*
 *   fn_poll.c   poll_oneoff, sched_yield
 *   pending.c   calls that wait: start, what they wait for, completion, the driver
 *   sys*.c      the sandboxed system layer (sys.h)
 */
#ifndef WP_WASI_INTERNAL_H
#define WP_WASI_INTERNAL_H

#include <dirent.h>
#include <sys/uio.h>

#include "../base/compiler.h"
#include "abi.h"
#include "sys.h"
#include "wippy/wasi.h"

/* ---- The import table -------------------------------------------------------------------- */

/* Every wasi_snapshot_preview1 function: name, parameter types (i: i32, I: i64), results
 * ("i": the errno; "": none). One row per function, read by link.c and declared below. */
#define WP_WASI_FUNCS(X)                                                                           \
    X(args_get, "ii", "i")                                                                         \
    X(args_sizes_get, "ii", "i")                                                                   \
    X(environ_get, "ii", "i")                                                                      \
    X(environ_sizes_get, "ii", "i")                                                                \
    X(clock_res_get, "ii", "i")                                                                    \
    X(clock_time_get, "iIi", "i")                                                                  \
    X(fd_advise, "iIIi", "i")                                                                      \
    X(fd_allocate, "iII", "i")                                                                     \
    X(fd_close, "i", "i")                                                                          \
    X(fd_datasync, "i", "i")                                                                       \
    X(fd_fdstat_get, "ii", "i")                                                                    \
    X(fd_fdstat_set_flags, "ii", "i")                                                              \
    X(fd_fdstat_set_rights, "iII", "i")                                                            \
    X(fd_filestat_get, "ii", "i")                                                                  \
    X(fd_filestat_set_size, "iI", "i")                                                             \
    X(fd_filestat_set_times, "iIIi", "i")                                                          \
    X(fd_pread, "iiiIi", "i")                                                                      \
    X(fd_prestat_get, "ii", "i")                                                                   \
    X(fd_prestat_dir_name, "iii", "i")                                                             \
    X(fd_pwrite, "iiiIi", "i")                                                                     \
    X(fd_read, "iiii", "i")                                                                        \
    X(fd_readdir, "iiiIi", "i")                                                                    \
    X(fd_renumber, "ii", "i")                                                                      \
    X(fd_seek, "iIii", "i")                                                                        \
    X(fd_sync, "i", "i")                                                                           \
    X(fd_tell, "ii", "i")                                                                          \
    X(fd_write, "iiii", "i")                                                                       \
    X(path_create_directory, "iii", "i")                                                           \
    X(path_filestat_get, "iiiii", "i")                                                             \
    X(path_filestat_set_times, "iiiiIIi", "i")                                                     \
    X(path_link, "iiiiiii", "i")                                                                   \
    X(path_open, "iiiiiIIii", "i")                                                                 \
    X(path_readlink, "iiiiii", "i")                                                                \
    X(path_remove_directory, "iii", "i")                                                           \
    X(path_rename, "iiiiii", "i")                                                                  \
    X(path_symlink, "iiiii", "i")                                                                  \
    X(path_unlink_file, "iii", "i")                                                                \
    X(poll_oneoff, "iiii", "i")                                                                    \
    X(proc_exit, "i", "")                                                                          \
    X(proc_raise, "i", "i")                                                                        \
    X(sched_yield, "", "i")                                                                        \
    X(random_get, "ii", "i")                                                                       \
    X(sock_accept, "iii", "i")                                                                     \
    X(sock_recv, "iiiiii", "i")                                                                    \
    X(sock_send, "iiiii", "i")                                                                     \
    X(sock_shutdown, "ii", "i")

#define X(name, param_types, result_types)                                                         \
    wp_host_result wp__wasi_##name(wp_host_call *call, void *env, const wp_val *args,             \
                                   wp_val *results);
WP_WASI_FUNCS(X)
#undef X

/* A host function's errno result. */
static inline wp_host_result wp__wasi_ret(wp_val *results, uint16_t e) {
    results[0] = wp_val_i32(e);
    return WP_HOST_OK;
}

/* Argument i as the guest's unsigned 32- or 64-bit value. */
static inline uint32_t wp__wasi_u32(const wp_val *args, int i) { return args[i].of.i32; }
static inline uint64_t wp__wasi_u64(const wp_val *args, int i) { return args[i].of.i64; }

/* ---- The context ------------------------------------------------------------------------- */

/* A guest descriptor. host == -1 marks a free slot. */
typedef struct wp_wasi_fd {
    int host;         /* host descriptor */
    bool owned;       /* opened by us: closed with the guest fd (lent stdio and sockets are not) */
    bool read_only;   /* beneath a read-only mount: nothing written through it reaches the host */
    bool blocking_io; /* a pipe, terminal or socket: reads and writes check readiness first */
    uint8_t type;     /* WP_WASI_FILETYPE_* */
    uint16_t flags;   /* fdflags as the guest sees them; nonblock only changes what we do */
    uint64_t base;    /* rights */
    uint64_t inheriting;
    char *preopen;    /* a preopened directory's name (owned, NUL-terminated), or NULL */
    uint32_t preopen_len;
    DIR *dir;         /* fd_readdir's stream over a descriptor of its own, opened lazily */
} wp_wasi_fd;

typedef enum wp_wasi_opkind {
    WP_WASI_OP_READ,
    WP_WASI_OP_WRITE,
    WP_WASI_OP_RECV,
    WP_WASI_OP_SEND,
    WP_WASI_OP_ACCEPT,
    WP_WASI_OP_POLL,
    WP_WASI_OP_YIELD,
} wp_wasi_opkind;

/* A call that may have to wait, with its guest arguments, kept while it waits. */
typedef struct wp_wasi_op {
    wp_wasi_opkind kind;
    wp_memory *mem;   /* the calling instance's memory 0 (NULL: none, every pointer faults) */
    uint32_t fd;      /* guest fd */
    uint32_t ptr;     /* iovecs or subscriptions */
    uint32_t len;     /* iovec or subscription count */
    uint32_t flags;   /* riflags, siflags, accept's fdflags */
    uint32_t out;     /* where the count, or accept's new fd, goes */
    uint32_t out2;    /* sock_recv's roflags; poll_oneoff's events */
    bool started;     /* tried once already */
    uint32_t done;    /* sock_recv with waitall: bytes received by earlier attempts */
} wp_wasi_op;

/* One poll_oneoff subscription, read from the guest when the call starts. */
typedef struct wp_wasi_sub {
    uint64_t userdata;
    uint64_t deadline; /* clock: host monotonic ns */
    uint32_t fd;       /* fd_read / fd_write: the guest fd */
    uint16_t error;    /* a bad subscription: reported at once as an event with this error */
    uint8_t type;      /* WP_WASI_EVENT_* */
} wp_wasi_sub;

/* Descriptors a waiting call waits on (preview 1 and WASI 0.2 alike), grown on a heap. */
typedef struct wp__wasi_fdset {
    wp_wasi_waitfd *fds;
    uint32_t n;
    uint32_t cap;
} wp__wasi_fdset;

struct wp_wasi {
    wp_heap *heap;
    uint32_t flags;        /* WP_WASI_PORTABLE_RESOLVE */
    char *args;            /* NUL-terminated strings back to back, args_size bytes */
    size_t args_size;
    uint32_t nargs;
    char *env;             /* likewise */
    size_t env_size;
    uint32_t nenv;
    wp_wasi_fd *fds;       /* the descriptor table; nfds slots */
    uint32_t nfds;
    /* The waiting call, if 'waiting': what it is and what it waits for. */
    bool waiting;
    wp_wasi_op op;
    uint64_t deadline;
    wp__wasi_fdset wait;   /* the descriptors it waits on */
    wp_wasi_sub *subs;     /* poll_oneoff's subscriptions */
    uint32_t nsubs;
    uint32_t subs_cap;
    struct iovec *iov;     /* one call's iovecs, translated */
    uint32_t iov_cap;
    char path[2][WP_SYS_PATH_MAX + 1]; /* one call's guest paths, NUL-terminated */
};

/* ---- fdtable.c --------------------------------------------------------------------------- */

/* The guest fd's entry, or NULL (the caller answers 'badf'). */
wp_wasi_fd *wp__wasi_fd_get(wp_wasi *w, uint32_t fd);

/* Looks fd up and checks it has every right in 'rights': 0, 'badf' or 'notcapable'. */
uint16_t wp__wasi_fd_check(wp_wasi *w, uint32_t fd, uint64_t rights, wp_wasi_fd **out);

/* Adds an entry at the lowest free guest fd (fd numbers stay below 2^31).
 * Fails: 'mfile' (table full), 'nomem'. On failure the entry's resources are not taken. */
uint16_t wp__wasi_fd_add(wp_wasi *w, const wp_wasi_fd *e, uint32_t *fd);

/* Puts e at guest fd 'fd' exactly (stdio), growing the table. Returns false on no memory. */
bool wp__wasi_fd_put(wp_wasi *w, uint32_t fd, const wp_wasi_fd *e);

/* Closes the entry's host resources (if owned) and frees its slot. */
void wp__wasi_fd_release(wp_wasi *w, wp_wasi_fd *e);

/* Describes host descriptor 'host' (type, blocking_io, rights for its kind and access mode). */
int wp__wasi_fd_describe(int host, wp_wasi_fd *e);

/* WASI file type of a host st_mode (sockets: stream). */
uint8_t wp__wasi_filetype(unsigned mode);

/* ---- guest.c ----------------------------------------------------------------------------- */

/* A pointer to len bytes of guest memory at ptr, or NULL if they are not all inside. */
uint8_t *wp__wasi_mem(wp_memory *m, uint64_t ptr, uint64_t len);

/* Little-endian stores into a host pointer already checked with wp__wasi_mem. */
static inline void wp__wasi_le16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void wp__wasi_le32(uint8_t *p, uint32_t v) {
    wp__wasi_le16(p, (uint16_t)v);
    wp__wasi_le16(p + 2, (uint16_t)(v >> 16));
}
static inline void wp__wasi_le64(uint8_t *p, uint64_t v) {
    wp__wasi_le32(p, (uint32_t)v);
    wp__wasi_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t wp__wasi_get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t wp__wasi_get64(const uint8_t *p) {
    return wp__wasi_get32(p) | (uint64_t)wp__wasi_get32(p + 4) << 32;
}

/* Stores a u32 / u64 at guest ptr: false if out of bounds. */
bool wp__wasi_put32(wp_memory *m, uint32_t ptr, uint32_t v);
bool wp__wasi_put64(wp_memory *m, uint32_t ptr, uint64_t v);

/* Copies a guest path (ptr, len) into buf (WP_SYS_PATH_MAX + 1 bytes) with a NUL.
 * Returns 0, 'fault', 'nametoolong', 'inval' (a NUL inside) or 'ilseq' (not UTF-8). */
uint16_t wp__wasi_path(wp_memory *m, uint32_t ptr, uint32_t len, char *buf);

/* Translates n guest iovecs at ptr into w->iov, keeping the total under 2^31 bytes (a longer
 * request just transfers less, as POSIX allows). *count gets the number used.
 * Returns 0, 'fault' (the array or a buffer outside memory), 'inval' (n over IOV_MAX). */
uint16_t wp__wasi_iovecs(wp_wasi *w, wp_memory *m, uint32_t ptr, uint32_t n, int *count);

/* ---- errno.c ----------------------------------------------------------------------------- */

/* The WASI errno for a host errno value (or WP_SYS_ENOTCAPABLE). */
uint16_t wp__wasi_errno(int host);

/* ---- fn_fd.c ----------------------------------------------------------------------------- */

/* Writes a filestat record (WP_WASI_FILESTAT_SIZE bytes, checked by the caller). */
void wp__wasi_filestat(uint8_t *p, const struct stat *st);

/* Timestamps for utimensat from fd_/path_filestat_set_times arguments: 0 or 'inval'. */
uint16_t wp__wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]);

/* ---- pending.c --------------------------------------------------------------------------- */

/* Runs op now if it can, else (unless its fd is non-blocking) parks it in w as the waiting
 * call and returns WP_HOST_PENDING. Writes the errno result when it finishes now. */
wp_host_result wp__wasi_start(wp_wasi *w, const wp_wasi_op *op, wp_val *results);

/* Tries op once. Returns true with *e set when it finished (successfully or not); false when
 * it would block, after adding what it waits for with wp__wasi_wait_fd / w->deadline. */
bool wp__wasi_try(wp_wasi *w, wp_wasi_op *op, uint16_t *e);

/* Adds descriptor host (events) to set, growing it on h. False: no memory. */
bool wp__fdset_add(wp_heap *h, wp__wasi_fdset *set, int host, uint32_t events);

/* Adds a descriptor to what the waiting call waits for. False: no memory. */
bool wp__wasi_wait_fd(wp_wasi *w, int host, uint32_t events);

/* An operation on f cannot proceed now: a guest non-blocking fd gets 'again' (returns true,
 * done); otherwise waits for 'events' on f (returns false; 'nomem' and true if it cannot). */
bool wp__wasi_would_block(wp_wasi *w, const wp_wasi_fd *f, uint32_t events, uint16_t *e);

/* The per-kind tries (fn_io.c, fn_poll.c). */
bool wp__wasi_try_io(wp_wasi *w, wp_wasi_op *op, uint16_t *e);
bool wp__wasi_try_accept(wp_wasi *w, wp_wasi_op *op, uint16_t *e);
bool wp__wasi_try_poll(wp_wasi *w, wp_wasi_op *op, uint16_t *e);

/* Frees what poll_oneoff kept for a call that no longer waits. */
void wp__wasi_poll_done(wp_wasi *w);

#endif
