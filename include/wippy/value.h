/* wippy/value.h: the one dynamic value type that carries data between Lua, components, CLI
 * arguments and messages (DESIGN decision 6).
 *
 * A wp_value is a small tagged struct, usually on the caller's stack or inside an array or map.
 * Scalars (nil, bool, integer, float) live in it; strings, bytes, arrays, maps and errors point
 * to a heap block the value owns alone: nothing is shared, so a value can be handed to another
 * thread after wp_value_copy() and never needs locking. Blocks come from wp_heap_default().
 *
 * Ownership: a value owns its block until wp_value_free() (which leaves it nil) or until it is
 * moved into a container by wp_value_array_push() / wp_value_map_set(), which take it and
 * leave the caller's copy nil. Accessors return borrowed pointers that live as long as the
 * value does and is not changed.
 *
 * Constructors and mutators that allocate return WP_ERR_NOMEM on failure and leave their
 * arguments as they were (an argument to be moved is then still the caller's to free).
 *
 * Component values (docs/component.md) use these kinds only: records are maps by field name,
 * variants and results one-pair maps, enums strings, flags maps of set labels to true, tuples
 * arrays, list<u8> bytes, and resource handles (own<T>, borrow<T>) integers: a host's
 * representation on a host function's side, a handle of the instance's table for an embedder.
 */
#ifndef WIPPY_VALUE_H
#define WIPPY_VALUE_H

#include <stdio.h>

#include "wippy/base.h"

typedef enum wp_vkind {
    WP_VNIL = 0,
    WP_VBOOL,
    WP_VINT,    /* int64_t */
    WP_VFLOAT,  /* double */
    WP_VSTRING, /* UTF-8 text (not checked), may hold NUL bytes; always NUL-terminated too */
    WP_VBYTES,  /* raw bytes */
    WP_VARRAY,  /* values indexed from 0 */
    WP_VMAP,    /* key/value pairs in insertion order; keys are scalars or strings, unique */
    WP_VERROR,  /* a kind from WP_ERR_KINDS, a message and the error it wraps (a chain) */
} wp_vkind;

typedef struct wp_vblock wp_vblock; /* string, bytes, array, map or error storage */

typedef struct wp_value {
    wp_vkind kind;
    union {
        bool b;
        int64_t i;
        double f;
        wp_vblock *block;
    } of;
} wp_value;

/* ---- Scalars (never fail, own nothing) ---------------------------------------------------- */

static inline wp_value wp_value_nil(void) { return (wp_value){.kind = WP_VNIL}; }
static inline wp_value wp_value_bool(bool b) { return (wp_value){.kind = WP_VBOOL, .of.b = b}; }
static inline wp_value wp_value_int(int64_t i) { return (wp_value){.kind = WP_VINT, .of.i = i}; }
static inline wp_value wp_value_float(double f) { return (wp_value){.kind = WP_VFLOAT, .of.f = f}; }

/* ---- Blocks ------------------------------------------------------------------------------- */

/* A string or bytes value holding a copy of len bytes of s (s may be NULL when len is 0). */
WP_API wp_status wp_value_string(wp_value *out, const char *s, size_t len);
WP_API wp_status wp_value_cstring(wp_value *out, const char *s); /* strlen(s) bytes */
WP_API wp_status wp_value_bytes(wp_value *out, const void *data, size_t len);

/* An empty array or map with room for cap items (a hint; 0 is fine). */
WP_API wp_status wp_value_array(wp_value *out, size_t cap);
WP_API wp_status wp_value_map(wp_value *out, size_t cap);

/* An error of kind (not WP_OK) with a message; cause, when not NULL, is moved into it and
 * becomes the next link of the chain. */
WP_API wp_status wp_value_error(wp_value *out, wp_status kind, const char *msg, wp_value *cause);

/* An error from a wp_err: its kind and its (already joined) message chain. */
WP_API wp_status wp_value_from_err(wp_value *out, const wp_err *err);

/* Frees what v owns and leaves it nil. Accepts NULL and nil. */
WP_API void wp_value_free(wp_value *v);

/* A deep copy of src in *dst (which is overwritten, not freed). */
WP_API wp_status wp_value_copy(wp_value *dst, const wp_value *src);

/* Deep equality: same kind and same contents. Integer 1 and float 1.0 differ; floats compare
 * by ==, so NaN is not equal to itself. Map order does not matter. */
WP_API bool wp_value_equal(const wp_value *a, const wp_value *b);

/* ---- Reading ------------------------------------------------------------------------------ */

/* String or bytes contents (NUL-terminated) and length; NULL and 0 for other kinds. */
WP_API const char *wp_value_str(const wp_value *v, size_t *len);

/* Array or map item count; 0 for other kinds. */
WP_API size_t wp_value_len(const wp_value *v);

/* Array item i (i < len), borrowed; NULL if v is no array or i is out of range. */
WP_API wp_value *wp_value_at(const wp_value *v, size_t i);

/* Map pair i in insertion order, borrowed; false if out of range. */
WP_API bool wp_value_map_pair(const wp_value *v, size_t i, const wp_value **key,
                              const wp_value **val);

/* The value under a string key, borrowed; NULL if absent or v is no map. Linear in the size
 * of the map: maps here are small records, not big tables. */
WP_API wp_value *wp_value_map_get(const wp_value *v, const char *key);

/* Error kind (WP_OK for a non-error), message and cause (NULL at the end of the chain). */
WP_API wp_status wp_value_error_kind(const wp_value *v);
WP_API const char *wp_value_error_msg(const wp_value *v);
WP_API const wp_value *wp_value_error_cause(const wp_value *v);

/* ---- Building ----------------------------------------------------------------------------- */

/* Appends item (moved) to array arr. */
WP_API wp_status wp_value_array_push(wp_value *arr, wp_value *item);

/* Sets key (moved) to val (moved) in map; an existing equal key keeps its place and gets the
 * new value (the old one and the new key are freed). Fails with WP_ERR_INVALID for a key that
 * is nil, a float NaN, an array, a map or an error. */
WP_API wp_status wp_value_map_set(wp_value *map, wp_value *key, wp_value *val);

/* Convenience: map[key] = val (moved), key copied from a C string. */
WP_API wp_status wp_value_map_set_str(wp_value *map, const char *key, wp_value *val);

/* ---- Printing ----------------------------------------------------------------------------- */

/* The lowercase name of a kind: "nil", "bool", "integer", "float", "string", "bytes", "array",
 * "map", "error". Static. */
WP_API const char *wp_vkind_name(wp_vkind k);

/* Writes v in a readable, JSON-like form: strings quoted and escaped, bytes as b"..." with
 * \xNN escapes, floats in the shortest form that reads back exactly, arrays [a, b], maps
 * {k: v}, errors as error(KIND: message: cause...). */
WP_API void wp_value_print(FILE *out, const wp_value *v);

/* Writes an error's chain, "message: cause message: ...", without the kind. */
WP_API void wp_value_print_chain(FILE *out, const wp_value *err);

#endif
