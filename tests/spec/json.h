/* json.h: a small JSON reader for wast2json's output, building a tree (spec runner only). */
#ifndef SPEC_JSON_H
#define SPEC_JSON_H

#include "wippy/base.h"

/* Nesting deeper than this is rejected: wast2json nests 6 levels at most, and the limit
 * keeps the recursive parser's C stack use small and bounded. */
#define SPEC_JSON_MAX_DEPTH 64

typedef enum spec_json_kind {
    SPEC_JSON_NULL,
    SPEC_JSON_BOOL,
    SPEC_JSON_NUMBER,
    SPEC_JSON_STRING,
    SPEC_JSON_ARRAY,
    SPEC_JSON_OBJECT,
} spec_json_kind;

/* A JSON value. The whole tree is owned by the root and freed with spec_json_free(). */
typedef struct spec_json spec_json;
struct spec_json {
    spec_json_kind kind;
    bool boolean; /* BOOL */
    /* STRING: the decoded bytes (UTF-8, escapes resolved), NUL-terminated for convenience but
     * possibly holding NULs ("\u0000"), so 'len' is the length. NUMBER: the literal as written
     * (checked against JSON's grammar). Otherwise NULL. */
    char *str;
    size_t len;
    spec_json *items; /* ARRAY: the elements; OBJECT: the values */
    spec_json *keys;  /* OBJECT: STRING nodes, keys[i] names items[i]; otherwise NULL */
    size_t count;     /* elements or members */
    size_t cap;       /* allocated room in items (and keys) */
};

/* Parses one JSON document (RFC 8259) of len bytes; text need not be NUL-terminated.
 * *out: set on WP_OK, owned by the caller; release with spec_json_free(heap, *out).
 * Fails: WP_ERR_INVALID ("json: line L, column C: reason"), WP_ERR_NOMEM. Leaks nothing. */
wp_status spec_json_parse(wp_heap *heap, const char *text, size_t len, spec_json **out,
                          wp_err *err);

/* Frees a tree returned by spec_json_parse. Accepts NULL. */
void spec_json_free(wp_heap *heap, spec_json *root);

/* The member 'key' of an object (the first if repeated); NULL if v is not an object or has
 * no such member. The result is borrowed from the tree. */
const spec_json *spec_json_get(const spec_json *v, const char *key);

/* The string member 'key' of an object, NUL-terminated; NULL if absent or not a string. */
const char *spec_json_get_str(const spec_json *v, const char *key);

/* A NUMBER holding a non-negative integer without fraction or exponent that fits in 64 bits:
 * true and *out set; false otherwise. v may be NULL. */
bool spec_json_u64(const spec_json *v, uint64_t *out);

#endif
