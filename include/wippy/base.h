/* wippy/base.h: status codes, errors with kinds, and the allocation hook shared by all layers. */
#ifndef WIPPY_BASE_H
#define WIPPY_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define WP_API __attribute__((visibility("default")))
#define WP_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define WP_API
#define WP_PRINTF(fmt, args)
#endif

/* Error kinds, listed once. Lua's err:kind() and the CLI read this same list. */
#define WP_ERR_KINDS(X)                                                                            \
    X(NOT_FOUND, "not found")                                                                      \
    X(INVALID, "invalid")                                                                          \
    X(PERMISSION_DENIED, "permission denied")                                                      \
    X(ALREADY_EXISTS, "already exists")                                                            \
    X(UNAVAILABLE, "unavailable")                                                                  \
    X(UNSUPPORTED, "unsupported")                                                                  \
    X(INTERNAL, "internal")                                                                        \
    X(CANCELED, "canceled")                                                                        \
    X(TIMEOUT, "timeout")                                                                          \
    X(NOMEM, "out of memory")                                                                      \
    X(LINK, "link error")                                                                          \
    X(TRAP, "trap")

typedef enum wp_status {
    WP_OK = 0,
#define X(kind, text) WP_ERR_##kind,
    WP_ERR_KINDS(X)
#undef X
} wp_status;

#define WP_ERR_MSG_MAX 512

/* An error: a kind and a chain of messages, outermost first, joined by ": ".
 * Callers own it (usually on their stack); nothing in it is allocated, so reporting
 * an out-of-memory error never needs memory. Truncates silently past WP_ERR_MSG_MAX. */
typedef struct wp_err {
    wp_status kind;
    char msg[WP_ERR_MSG_MAX];
} wp_err;

/* Sets kind and message (printf format) and returns kind, so callers write
 * `return wp_err_set(err, WP_ERR_INVALID, "...")`. err may be NULL. */
WP_API wp_status wp_err_set(wp_err *err, wp_status kind, const char *fmt, ...) WP_PRINTF(3, 4);

/* Prepends a context message to err's chain ("context: previous") and returns err->kind.
 * err may be NULL (returns WP_ERR_INTERNAL). */
WP_API wp_status wp_err_wrap(wp_err *err, const char *fmt, ...) WP_PRINTF(2, 3);

/* Clears err to WP_OK with an empty message. err may be NULL. */
WP_API void wp_err_clear(wp_err *err);

/* The short lowercase name of a status ("not found", "invalid", ...); "ok" for WP_OK. Static. */
WP_API const char *wp_status_text(wp_status st);

/* The identifier of a status ("NOT_FOUND", "INVALID", ...); "OK" for WP_OK. Static. */
WP_API const char *wp_status_name(wp_status st);

/* Allocation hook: one per owner (a module, a store, a process). It knows the old size of
 * every block, so it can enforce a byte limit. realloc_fn(ud, ptr, old, 0) frees and returns
 * NULL; realloc_fn(ud, NULL, 0, n) allocates. Not thread-safe: one owner, one thread at a time. */
typedef void *(*wp_realloc_fn)(void *ud, void *ptr, size_t old_size, size_t new_size);

typedef struct wp_heap {
    wp_realloc_fn realloc_fn;
    void *ud;
    size_t used;    /* bytes currently allocated through this heap (unless 'shared') */
    size_t limit;   /* allocations that would take 'used' past this fail; SIZE_MAX = none */
    bool shared;    /* usable from many threads at once: no accounting, no limit */
} wp_heap;

/* A heap over the C allocator with the given byte limit (SIZE_MAX for none). */
WP_API void wp_heap_init(wp_heap *h, size_t limit);

/* The process-wide default heap: C allocator, no limit, 'shared' (safe from any thread). */
WP_API wp_heap *wp_heap_default(void);

/* Allocate, resize or free through h. Return NULL on failure (over the limit or out of
 * memory) and leave the old block intact. old_size must be the size the block was allocated
 * with. wp_heap_free accepts NULL. */
WP_API void *wp_heap_alloc(wp_heap *h, size_t size);
WP_API void *wp_heap_zalloc(wp_heap *h, size_t size);
WP_API void *wp_heap_realloc(wp_heap *h, void *ptr, size_t old_size, size_t new_size);
WP_API void wp_heap_free(wp_heap *h, void *ptr, size_t size);

/* Array allocation with an overflow check on count * elem_size; zeroed. */
WP_API void *wp_heap_calloc(wp_heap *h, size_t count, size_t elem_size);

/* A copy of the string s on h, or NULL when out of memory. Free it with
 * wp_heap_free(h, copy, strlen(copy) + 1). */
WP_API char *wp_heap_strdup(wp_heap *h, const char *s);

/* ---- UTF-8 ------------------------------------------------------------------------------ */

/* Decodes the scalar value at s (len bytes available) into *cp; returns its length in bytes,
 * or 0 if s does not start with a well-formed one (overlong forms and surrogates included). */
WP_API size_t wp_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);

/* True if the len bytes at s are well-formed UTF-8. */
WP_API bool wp_utf8_valid(const uint8_t *s, size_t len);

#endif
