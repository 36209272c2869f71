/* internal.h: shared inside src/component only: the parsed WIT text and its type nodes. */
#ifndef WP_COMPONENT_INTERNAL_H
#define WP_COMPONENT_INTERNAL_H

#include "wippy/component.h"

#define WIT_MAX_DEPTH 64u            /* nesting of one type expression, and of named types */
#define WIT_MAX_ITEMS 4096u          /* functions, type definitions, fields of one item */
#define WIT_MAX_ELEM_SIZE (1u << 28) /* bytes of one value in memory (the spec's bound) */
#define WIT_FLAT_CAP 4096u           /* flat counts saturate here: only "more than 16" matters */

/* A type as the parser builds it. The public wp_wit_type comes first, so a node and its
 * type convert both ways. Before resolution a use of a name is a node with is_ref set; after
 * it, every pointer to such a node has been replaced by the named definition. */
typedef struct wit_node {
    wp_wit_type t;
    bool is_ref;   /* an unresolved name use (t.name is the name) */
    uint8_t mark;  /* cycle check: 0 new, 1 on the path, 2 done */
    uint32_t line; /* where a ref was written, for "unknown type" */
    uint32_t col;
    uint32_t size;  /* bytes in memory (the spec's elem_size) */
    uint32_t align; /* alignment in memory */
    uint32_t nflat; /* flattened core values, saturated at WIT_FLAT_CAP */
} wit_node;

static inline const wit_node *wit__node(const wp_wit_type *t) { return (const wit_node *)t; }

/* Bump allocation for everything a wp_wit holds; freed at once. */
typedef struct wit_chunk wit_chunk;

typedef struct wit_named {
    const char *name;
    wit_node *def; /* the definition (for an alias: the aliased type, maybe a ref) */
    uint32_t line;
    uint32_t col;
} wit_named;

struct wp_wit {
    wit_chunk *chunks;
    wp_wit_func *funcs;
    uint32_t nfuncs;
    uint32_t funcs_cap;
    wit_named *named;
    uint32_t nnamed;
    uint32_t named_cap;
};

/* Arena allocation from w: zeroed, aligned for any type. NULL when out of memory. */
void *wit__alloc(wp_wit *w, size_t size);

/* The flat core types of t appended at out[*n] (while *n < cap; *n counts all of them). */
void wit__flatten(const wp_wit_type *t, wp_valtype *out, uint32_t cap, uint32_t *n);

/* The spec's discriminant size in bytes for a variant of n cases (1, 2 or 4). */
uint32_t wit__disc_size(uint32_t ncases);

/* The flat types of a variant's payloads, joined position by position (the spec's
 * flatten_variant without the leading discriminant). */
void wit__variant_flat(const wp_wit_type *t, wp_valtype *out, uint32_t cap, uint32_t *n);

#endif
