/* p2_internal.h: what the WASI 0.2 files share: the resource table, the pending call, the
 * argument and result helpers.
 *
 * Who writes what:
 *   p2_ctx.c         the context, the resource table, pending/complete, the function table
 *   p2_value.c       reading arguments and building results in the shapes of wasi2.h
 *   p2_io.c          wasi:io error, streams, poll
 *   p2_clocks.c      wasi:clocks wall-clock, monotonic-clock
 *   p2_random.c      wasi:random random, insecure, insecure-seed
 *   p2_cli.c         wasi:cli environment, exit, stdio, terminal-*
 *   p2_filesystem.c  wasi:filesystem types (descriptor, directory-entry-stream), preopens
 *   p2_fspath.c      wasi:filesystem's *-at functions (paths beneath a descriptor)
 */
#ifndef WP_WASI_P2_INTERNAL_H
#define WP_WASI_P2_INTERNAL_H

#include "internal.h"
#include "wippy/wasi2.h"

/* Bytes an output stream accepts per check-write, and the most one read returns. */
#define WP_P2_WRITE_BUDGET 65536u
#define WP_P2_READ_MAX (1u << 20)
#define WP_P2_RANDOM_MAX (1u << 20)    /* bytes of one get-random-bytes */

typedef enum wp_p2_kind {
    WP_P2_FREE = 0,
    WP_P2_ERROR,
    WP_P2_INPUT,
    WP_P2_OUTPUT,
    WP_P2_POLLABLE,
    WP_P2_DESCRIPTOR,
    WP_P2_DIRSTREAM,
    WP_P2_TERM_IN,
    WP_P2_TERM_OUT,
} wp_p2_kind;

/* A stream over a host descriptor: a file read or written at 'offset' (never blocks), or a
 * pipe, terminal or socket that is checked for readiness first. */
typedef enum wp_p2_mode {
    WP_P2_FILE,   /* pread/pwrite at 'offset' (a descriptor's stream) */
    WP_P2_DIRECT, /* read/write at the host fd's own position; never waits (a file as stdio) */
    WP_P2_WAITS,  /* a pipe, terminal or socket: checked for readiness, output buffered */
} wp_p2_mode;

typedef struct wp_p2_stream {
    int host;
    bool owned;      /* a dup of a descriptor's host fd: closed with the stream */
    wp_p2_mode mode;
    bool append;     /* file output that always writes at the end */
    bool closed;    /* end of input, or the reader of an output went away */
    uint16_t error; /* a host errno from a failed write, reported by the next call */
    uint64_t offset;
    uint32_t children; /* pollables subscribed to it */
    uint8_t *buf;      /* output accepted but not yet written (pipes, terminals) */
    size_t len;
    size_t cap;
} wp_p2_stream;

typedef enum wp_p2_when {
    WP_P2_WHEN_NOW,      /* always ready */
    WP_P2_WHEN_DEADLINE, /* monotonic ns */
    WP_P2_WHEN_INPUT,    /* stream 'rep' has data, or has ended */
    WP_P2_WHEN_OUTPUT,   /* stream 'rep' accepts a write */
} wp_p2_when;

typedef struct wp_p2_pollable {
    wp_p2_when when;
    uint64_t deadline;
    uint32_t rep; /* the stream, whose 'children' counts this pollable */
} wp_p2_pollable;

/* A filesystem descriptor: a host directory or file beneath a mount. */
typedef struct wp_p2_desc {
    int host;
    bool read_only; /* beneath a read-only mount */
    uint8_t flags;  /* WP_P2_DFLAG_*: what the guest opened it for */
    uint8_t type;   /* WP_P2_TYPE_* */
} wp_p2_desc;

typedef struct wp_p2_error {
    char *msg; /* NUL-terminated, owned */
    int host;  /* host errno it came from (0: none) */
} wp_p2_error;

typedef struct wp_p2_res {
    wp_p2_kind kind;
    uint32_t next_free; /* free slots: index + 1 of the next, 0 ends the list */
    union {
        wp_p2_stream stream;
        wp_p2_pollable poll;
        wp_p2_desc desc;
        DIR *dir;
        wp_p2_error error;
    } of;
} wp_p2_res;

/* descriptor-flags bits, in the WIT's order. */
#define WP_P2_DFLAG_READ 1u
#define WP_P2_DFLAG_WRITE 2u
#define WP_P2_DFLAG_FILE_SYNC 4u
#define WP_P2_DFLAG_DATA_SYNC 8u
#define WP_P2_DFLAG_REQ_SYNC 16u
#define WP_P2_DFLAG_MUTATE 32u
#define WP_P2_DFLAG_COUNT 6

/* Their labels, bit i for label i (p2_filesystem.c). */
extern const char *const wp__p2_dflag_labels[WP_P2_DFLAG_COUNT];

/* descriptor-type labels, in the WIT's order. */
#define WP_P2_TYPES(X)                                                                             \
    X(UNKNOWN, "unknown")                                                                          \
    X(BLOCK, "block-device")                                                                       \
    X(CHAR, "character-device")                                                                    \
    X(DIRECTORY, "directory")                                                                      \
    X(FIFO, "fifo")                                                                                \
    X(SYMLINK, "symbolic-link")                                                                    \
    X(REGULAR, "regular-file")                                                                     \
    X(SOCKET, "socket")

enum {
#define X(id, label) WP_P2_TYPE_##id,
    WP_P2_TYPES(X)
#undef X
};

/* The pending call: which blocking function, on what. */
typedef enum wp_p2_opkind {
    WP_P2_OP_READ,   /* blocking-read: a = input, len */
    WP_P2_OP_SKIP,   /* blocking-skip */
    WP_P2_OP_FLUSH,  /* blocking-flush and the *-and-flush calls: a = output */
    WP_P2_OP_SPLICE, /* blocking-splice: a = output, b = input, len */
    WP_P2_OP_BLOCK,  /* pollable.block: a = pollable */
    WP_P2_OP_POLL,   /* poll: list of pollables */
} wp_p2_opkind;

typedef struct wp_p2_op {
    wp_p2_opkind kind;
    uint32_t a;
    uint32_t b;
    uint64_t len;
    uint32_t *list; /* poll's pollables (owned while pending) */
    uint32_t nlist;
} wp_p2_op;

struct wp_wasi2 {
    wp_heap *heap;
    wp_wasi *base; /* args, env, stdio at fds 0-2, preopens from fd 3 (owned) */
    char *cwd;     /* initial-cwd, owned, or NULL */
    uint64_t seed[2];
    wp_p2_res *res; /* rep r is res[r - 1] */
    uint32_t nres;
    uint32_t free_head;
    uint32_t live;
    bool full; /* the last wp__p2_new failed at WP_WASI2_MAX_RESOURCES, not for memory */
    bool waiting;
    wp_p2_op op;
    uint64_t deadline;
    wp__wasi_fdset wait; /* the descriptors it waits on */
    int32_t exit_code;
    char trap[WP_ERR_MSG_MAX];
};

/* ---- p2_ctx.c ---------------------------------------------------------------------------- */

/* A new resource of 'kind' (zeroed payload); *rep set. NULL: no memory, or the table holds
 * WP_WASI2_MAX_RESOURCES already (then w->full is set, for wp__p2_done's message). The
 * pointer lives until the next wp__p2_new. */
wp_p2_res *wp__p2_new(wp_wasi2 *w, wp_p2_kind kind, uint32_t *rep);

/* The live resource 'rep' of 'kind', or NULL. */
wp_p2_res *wp__p2_get(wp_wasi2 *w, uint32_t rep, wp_p2_kind kind);

/* Frees a resource's payload and slot (no child checks). */
void wp__p2_release(wp_wasi2 *w, uint32_t rep);

/* Sets the trap message and returns WP_WASI2_TRAP. */
wp_wasi2_outcome wp__p2_trap(wp_wasi2 *w, const char *fmt, ...) WP_PRINTF(2, 3);

/* Adds a descriptor to what the pending call waits for; false: no memory. */
bool wp__p2_wait_fd(wp_wasi2 *w, int host, uint32_t events);

/* Tries op: true when it finished (*out and *result set); false when it waits, after adding
 * what it waits for (wp__p2_wait_fd, w->deadline). */
bool wp__p2_try(wp_wasi2 *w, wp_p2_op *op, wp_value *result, wp_wasi2_outcome *out);

/* Runs op once now; parks it if it must wait. */
wp_wasi2_outcome wp__p2_start(wp_wasi2 *w, const wp_p2_op *op, wp_value *result);

/* ---- p2_value.c -------------------------------------------------------------------------- */

/* Argument readers: false after setting a trap message naming what was wrong. */
bool wp__p2_arg_u64(wp_wasi2 *w, const wp_value *v, uint64_t *out);
bool wp__p2_arg_bool(wp_wasi2 *w, const wp_value *v, bool *out);
bool wp__p2_arg_str(wp_wasi2 *w, const wp_value *v, const char **s, size_t *len);
/* A resource of 'kind': *out the slot, *rep its number. */
bool wp__p2_arg_res(wp_wasi2 *w, const wp_value *v, wp_p2_kind kind, wp_p2_res **out,
                    uint32_t *rep);
/* flags: a map of labels -> true, against nlabels labels; bit i for labels[i]. */
bool wp__p2_arg_flags(wp_wasi2 *w, const wp_value *v, const char *const *labels,
                      uint32_t nlabels, uint32_t *bits);
/* enum: the label's index. */
bool wp__p2_arg_enum(wp_wasi2 *w, const wp_value *v, const char *const *labels,
                     uint32_t nlabels, uint32_t *index);

/* Result builders: WP_OK or WP_ERR_NOMEM; they take (move) the payloads they are given. */
wp_status wp__p2_case(wp_value *out, const char *name, wp_value *payload); /* {name = payload} */
wp_status wp__p2_ok(wp_value *out, wp_value *payload);                     /* {ok = payload} */
wp_status wp__p2_record(wp_value *out, uint32_t n, const char *const *names, wp_value *vals);
wp_status wp__p2_pair(wp_value *out, wp_value *a, wp_value *b); /* [a, b] */
wp_status wp__p2_flags(wp_value *out, const char *const *labels, uint32_t nlabels,
                       uint32_t bits);

/* A finished call: DONE if st is WP_OK, else a trap for the memory it lacked (or for a full
 * resource table). */
wp_wasi2_outcome wp__p2_done(wp_wasi2 *w, wp_status st);

/* ---- p2_io.c ----------------------------------------------------------------------------- */

/* New streams over host fd 'host' (owned: closed with the stream), read or written at
 * 'offset' in WP_P2_FILE mode. NULL on a full table or no memory (an owned fd is then closed
 * here). The pointer lives until the next resource is made. */
wp_p2_res *wp__p2_input(wp_wasi2 *w, int host, bool owned, wp_p2_mode mode, uint64_t offset,
                        uint32_t *rep);
wp_p2_res *wp__p2_output(wp_wasi2 *w, int host, bool owned, wp_p2_mode mode, uint64_t offset,
                         uint32_t *rep);

/* A new error resource for host errno e (its message: what failed, and strerror). */
wp_status wp__p2_error(wp_wasi2 *w, int e, const char *what, uint32_t *rep);

/* Frees the payload of a stream, error or pollable (p2_ctx.c's release calls it). */
void wp__p2_stream_free(wp_wasi2 *w, wp_p2_stream *s);

/* The tries of the blocking calls. */
bool wp__p2_try_read(wp_wasi2 *w, wp_p2_op *op, wp_value *result, wp_wasi2_outcome *out);
bool wp__p2_try_flush(wp_wasi2 *w, wp_p2_op *op, wp_value *result, wp_wasi2_outcome *out);
bool wp__p2_try_splice(wp_wasi2 *w, wp_p2_op *op, wp_value *result, wp_wasi2_outcome *out);
bool wp__p2_try_poll(wp_wasi2 *w, wp_p2_op *op, wp_value *result, wp_wasi2_outcome *out);

/* ---- p2_filesystem.c --------------------------------------------------------------------- */

/* The WIT error-code label for a host errno (or WP_SYS_ENOTCAPABLE). Static. */
const char *wp__p2_error_code(int host);

/* An {err = code} result for host errno e. */
wp_wasi2_outcome wp__p2_fs_err(wp_wasi2 *w, int e, wp_value *result);

/* {ok = *v} (v moved) if st is WP_OK, else a trap for the memory (v freed). */
wp_wasi2_outcome wp__p2_fs_ok(wp_wasi2 *w, wp_status st, wp_value *v, wp_value *result);

/* {ok = descriptor-stat} and {ok = metadata-hash-value} for st. */
wp_wasi2_outcome wp__p2_fs_stat_result(wp_wasi2 *w, const struct stat *st, wp_value *result);
wp_wasi2_outcome wp__p2_fs_hash_result(wp_wasi2 *w, const struct stat *st, wp_value *result);

/* A new descriptor over host fd 'host' (taken: closed here on failure). NULL: no memory. */
wp_p2_res *wp__p2_desc_new(wp_wasi2 *w, int host, bool read_only, uint8_t flags, uint32_t *rep);

/* A descriptor argument (traps as wp__p2_arg_res). */
bool wp__p2_arg_desc(wp_wasi2 *w, const wp_value *v, wp_p2_desc **d, uint32_t *rep);

/* Whether d may be written: 0, EROFS (read-only mount), EBADF (not opened for writing). */
int wp__p2_may_write(const wp_p2_desc *d);

/* ---- p2_fspath.c ------------------------------------------------------------------------- */

/* Two new-timestamp arguments at v[0], v[1] as utimensat's times (UTIME_OMIT, UTIME_NOW). */
bool wp__p2_arg_times(wp_wasi2 *w, const wp_value *v, struct timespec ts[2]);

/* ---- The functions ----------------------------------------------------------------------- */

/* Every WASI 0.2 host function, one list per interface: interface, name as imported,
 * parameters ("self" counts), C function. */
#define WP_P2_IO_ERROR(X)                                                                          \
    X("wasi:io/error", "[method]error.to-debug-string", 1, wp__p2_error_debug)

#define WP_P2_IO_POLL(X)                                                                           \
    X("wasi:io/poll", "[method]pollable.ready", 1, wp__p2_pollable_ready)                          \
    X("wasi:io/poll", "[method]pollable.block", 1, wp__p2_pollable_block)                          \
    X("wasi:io/poll", "poll", 1, wp__p2_poll)

#define WP_P2_IO_STREAMS(X)                                                                        \
    X("wasi:io/streams", "[method]input-stream.read", 2, wp__p2_in_read)                           \
    X("wasi:io/streams", "[method]input-stream.blocking-read", 2, wp__p2_in_blocking_read)         \
    X("wasi:io/streams", "[method]input-stream.skip", 2, wp__p2_in_skip)                           \
    X("wasi:io/streams", "[method]input-stream.blocking-skip", 2, wp__p2_in_blocking_skip)         \
    X("wasi:io/streams", "[method]input-stream.subscribe", 1, wp__p2_in_subscribe)                 \
    X("wasi:io/streams", "[method]output-stream.check-write", 1, wp__p2_out_check_write)           \
    X("wasi:io/streams", "[method]output-stream.write", 2, wp__p2_out_write)                       \
    X("wasi:io/streams", "[method]output-stream.blocking-write-and-flush", 2,                      \
      wp__p2_out_blocking_write)                                                                   \
    X("wasi:io/streams", "[method]output-stream.flush", 1, wp__p2_out_flush)                       \
    X("wasi:io/streams", "[method]output-stream.blocking-flush", 1, wp__p2_out_blocking_flush)     \
    X("wasi:io/streams", "[method]output-stream.subscribe", 1, wp__p2_out_subscribe)               \
    X("wasi:io/streams", "[method]output-stream.write-zeroes", 2, wp__p2_out_write_zeroes)         \
    X("wasi:io/streams", "[method]output-stream.blocking-write-zeroes-and-flush", 2,               \
      wp__p2_out_blocking_write_zeroes)                                                            \
    X("wasi:io/streams", "[method]output-stream.splice", 3, wp__p2_out_splice)                     \
    X("wasi:io/streams", "[method]output-stream.blocking-splice", 3, wp__p2_out_blocking_splice)

#define WP_P2_CLOCKS_WALL_CLOCK(X)                                                                 \
    X("wasi:clocks/wall-clock", "now", 0, wp__p2_wall_now)                                         \
    X("wasi:clocks/wall-clock", "resolution", 0, wp__p2_wall_resolution)

#define WP_P2_CLOCKS_MONOTONIC_CLOCK(X)                                                            \
    X("wasi:clocks/monotonic-clock", "now", 0, wp__p2_mono_now)                                    \
    X("wasi:clocks/monotonic-clock", "resolution", 0, wp__p2_mono_resolution)                      \
    X("wasi:clocks/monotonic-clock", "subscribe-instant", 1, wp__p2_mono_subscribe_instant)        \
    X("wasi:clocks/monotonic-clock", "subscribe-duration", 1, wp__p2_mono_subscribe_duration)

#define WP_P2_RANDOM_RANDOM(X)                                                                     \
    X("wasi:random/random", "get-random-bytes", 1, wp__p2_random_bytes)                            \
    X("wasi:random/random", "get-random-u64", 0, wp__p2_random_u64)

#define WP_P2_RANDOM_INSECURE(X)                                                                   \
    X("wasi:random/insecure", "get-insecure-random-bytes", 1, wp__p2_insecure_bytes)               \
    X("wasi:random/insecure", "get-insecure-random-u64", 0, wp__p2_insecure_u64)

#define WP_P2_RANDOM_INSECURE_SEED(X)                                                              \
    X("wasi:random/insecure-seed", "insecure-seed", 0, wp__p2_random_seed)

#define WP_P2_CLI_ENVIRONMENT(X)                                                                   \
    X("wasi:cli/environment", "get-environment", 0, wp__p2_cli_environment)                        \
    X("wasi:cli/environment", "get-arguments", 0, wp__p2_cli_arguments)                            \
    X("wasi:cli/environment", "initial-cwd", 0, wp__p2_cli_initial_cwd)

#define WP_P2_CLI_EXIT(X)                                                                          \
    X("wasi:cli/exit", "exit", 1, wp__p2_cli_exit)                                                 \
    X("wasi:cli/exit", "exit-with-code", 1, wp__p2_cli_exit_with_code)

#define WP_P2_CLI_STDIN(X)                                                                         \
    X("wasi:cli/stdin", "get-stdin", 0, wp__p2_cli_stdin)

#define WP_P2_CLI_STDOUT(X)                                                                        \
    X("wasi:cli/stdout", "get-stdout", 0, wp__p2_cli_stdout)

#define WP_P2_CLI_STDERR(X)                                                                        \
    X("wasi:cli/stderr", "get-stderr", 0, wp__p2_cli_stderr)

#define WP_P2_CLI_TERMINAL_STDIN(X)                                                                \
    X("wasi:cli/terminal-stdin", "get-terminal-stdin", 0, wp__p2_cli_terminal_stdin)

#define WP_P2_CLI_TERMINAL_STDOUT(X)                                                               \
    X("wasi:cli/terminal-stdout", "get-terminal-stdout", 0, wp__p2_cli_terminal_stdout)

#define WP_P2_CLI_TERMINAL_STDERR(X)                                                               \
    X("wasi:cli/terminal-stderr", "get-terminal-stderr", 0, wp__p2_cli_terminal_stderr)

#define WP_P2_FILESYSTEM_PREOPENS(X)                                                               \
    X("wasi:filesystem/preopens", "get-directories", 0, wp__p2_fs_get_directories)

#define WP_P2_FILESYSTEM_TYPES(X)                                                                  \
    X("wasi:filesystem/types", "filesystem-error-code", 1, wp__p2_fs_error_code)                   \
    X("wasi:filesystem/types", "[method]directory-entry-stream.read-directory-entry", 1,           \
      wp__p2_fs_read_dir_entry)                                                                    \
    X("wasi:filesystem/types", "[method]descriptor.read-via-stream", 2, wp__p2_fs_read_stream)     \
    X("wasi:filesystem/types", "[method]descriptor.write-via-stream", 2, wp__p2_fs_write_stream)   \
    X("wasi:filesystem/types", "[method]descriptor.append-via-stream", 1, wp__p2_fs_append_stream) \
    X("wasi:filesystem/types", "[method]descriptor.advise", 4, wp__p2_fs_advise)                   \
    X("wasi:filesystem/types", "[method]descriptor.sync-data", 1, wp__p2_fs_sync_data)             \
    X("wasi:filesystem/types", "[method]descriptor.get-flags", 1, wp__p2_fs_get_flags)             \
    X("wasi:filesystem/types", "[method]descriptor.get-type", 1, wp__p2_fs_get_type)               \
    X("wasi:filesystem/types", "[method]descriptor.set-size", 2, wp__p2_fs_set_size)               \
    X("wasi:filesystem/types", "[method]descriptor.set-times", 3, wp__p2_fs_set_times)             \
    X("wasi:filesystem/types", "[method]descriptor.read", 3, wp__p2_fs_read)                       \
    X("wasi:filesystem/types", "[method]descriptor.write", 3, wp__p2_fs_write)                     \
    X("wasi:filesystem/types", "[method]descriptor.read-directory", 1, wp__p2_fs_read_directory)   \
    X("wasi:filesystem/types", "[method]descriptor.sync", 1, wp__p2_fs_sync)                       \
    X("wasi:filesystem/types", "[method]descriptor.create-directory-at", 2, wp__p2_fs_mkdir_at)    \
    X("wasi:filesystem/types", "[method]descriptor.stat", 1, wp__p2_fs_stat)                       \
    X("wasi:filesystem/types", "[method]descriptor.stat-at", 3, wp__p2_fs_stat_at)                 \
    X("wasi:filesystem/types", "[method]descriptor.set-times-at", 5, wp__p2_fs_set_times_at)       \
    X("wasi:filesystem/types", "[method]descriptor.link-at", 5, wp__p2_fs_link_at)                 \
    X("wasi:filesystem/types", "[method]descriptor.open-at", 5, wp__p2_fs_open_at)                 \
    X("wasi:filesystem/types", "[method]descriptor.readlink-at", 2, wp__p2_fs_readlink_at)         \
    X("wasi:filesystem/types", "[method]descriptor.remove-directory-at", 2, wp__p2_fs_rmdir_at)    \
    X("wasi:filesystem/types", "[method]descriptor.rename-at", 4, wp__p2_fs_rename_at)             \
    X("wasi:filesystem/types", "[method]descriptor.symlink-at", 3, wp__p2_fs_symlink_at)           \
    X("wasi:filesystem/types", "[method]descriptor.unlink-file-at", 2, wp__p2_fs_unlink_at)        \
    X("wasi:filesystem/types", "[method]descriptor.is-same-object", 2, wp__p2_fs_same_object)      \
    X("wasi:filesystem/types", "[method]descriptor.metadata-hash", 1, wp__p2_fs_hash)              \
    X("wasi:filesystem/types", "[method]descriptor.metadata-hash-at", 3, wp__p2_fs_hash_at)

#define WP_P2_FUNCS(X)                                                                             \
    WP_P2_IO_ERROR(X)                                                                              \
    WP_P2_IO_POLL(X)                                                                               \
    WP_P2_IO_STREAMS(X)                                                                            \
    WP_P2_CLOCKS_WALL_CLOCK(X)                                                                     \
    WP_P2_CLOCKS_MONOTONIC_CLOCK(X)                                                                \
    WP_P2_RANDOM_RANDOM(X)                                                                         \
    WP_P2_RANDOM_INSECURE(X)                                                                       \
    WP_P2_RANDOM_INSECURE_SEED(X)                                                                  \
    WP_P2_CLI_ENVIRONMENT(X)                                                                       \
    WP_P2_CLI_EXIT(X)                                                                              \
    WP_P2_CLI_STDIN(X)                                                                             \
    WP_P2_CLI_STDOUT(X)                                                                            \
    WP_P2_CLI_STDERR(X)                                                                            \
    WP_P2_CLI_TERMINAL_STDIN(X)                                                                    \
    WP_P2_CLI_TERMINAL_STDOUT(X)                                                                   \
    WP_P2_CLI_TERMINAL_STDERR(X)                                                                   \
    WP_P2_FILESYSTEM_PREOPENS(X)                                                                   \
    WP_P2_FILESYSTEM_TYPES(X)

#define WP_P2_FN(name) wp_wasi2_outcome name(wp_wasi2 *w, const wp_value *args, wp_value *result)

#define WP_P2_DECLARE(iface, name, nparams, fn) WP_P2_FN(fn);
WP_P2_FUNCS(WP_P2_DECLARE)
#undef WP_P2_DECLARE

#endif
