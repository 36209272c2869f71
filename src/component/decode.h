/* decode.h: the component decoder's state and the calls its two files share (binary.c:
 * primitive reads, index spaces, definitions, sections; types.c: the types). Included by those
 * files only. */
#ifndef WP_COMPONENT_DECODE_H
#define WP_COMPONENT_DECODE_H

#include "../wasm/reader.h"
#include "internal.h"

#define MAX_NESTING 16u   /* nested components and types inside each other */
#define MAX_ITEMS 100000u /* items of one vector */

typedef struct dec {
    wp_component *c;
    wp_reader rd;
    wp_err *err;
    const wit_node *prims[0x80]; /* primitive value types by their code */
    uint32_t depth;
    uint32_t value_nodes; /* wp_values made for value definitions (bounded) */
} dec;

/* Grows arr (capacity capv) in the component's arena to hold need elements. */
#define GROW(d, arr, capv, need)                                                                   \
    comp__grow((d)->c->arena, (void **)&(arr), &(capv), (need), sizeof *(arr))

/* ---- binary.c ------------------------------------------------------------------------------ */

extern const char *const SORT_NAMES[CS_COUNT]; /* "core func", ..., "instance" */

/* Errors: "at 0x<offset>: <fmt><what>" of the kind given, WP_ERR_INVALID, out of memory. */
wp_status dec__fail(dec *d, wp_status kind, const char *fmt, const char *what);
wp_status dec__bad(dec *d, const char *why);
wp_status dec__nomem(dec *d);
void *dec__alloc(dec *d, size_t size); /* in the component's arena */

/* Primitive reads: a u32 in LEB128, a byte, a vector length (bounded by MAX_ITEMS and what is
 * left), a UTF-8 name without NUL, an import or export name (nameattributes). */
wp_status dec__u32(dec *d, uint32_t *out);
wp_status dec__byte(dec *d, uint8_t *out);
wp_status dec__count(dec *d, uint32_t *out);
wp_status dec__name(dec *d, const char **out);
wp_status dec__extern_name(dec *d, const char **out);

/* The type index space: append one, or type i (an error if there is none). */
wp_status dec__push_type(dec *d, tscope *ts, const ctype *t);
wp_status dec__type_at(dec *d, const tscope *ts, uint32_t i, const ctype **out);

/* One alias, into the scope sc (NULL inside a type, where only ts grows); *sort_out gets the
 * sort of what it names. */
wp_status dec__alias_into(dec *d, cscope *sc, tscope *ts, csort *sort_out);

/* ---- types.c ------------------------------------------------------------------------------- */

/* A deftype: a defined value type, function, instance, component or resource type. */
wp_status dec__deftype(dec *d, tscope *ts, const ctype **out);

/* A core type (function or module type), read to check its form only. */
wp_status dec__core_type(dec *d, bool in_module);

/* An externdesc named nm: its sort and type. */
wp_status dec__externtype(dec *d, tscope *ts, const char *nm, csort *s, const ctype **t);

/* Appends a named item (of an instance or component type) to arr, refusing a name there
 * already. */
wp_status dec__add_named(dec *d, cnamed **arr, uint32_t *n, uint32_t *cap, const char *nm,
                         csort s, const ctype *t);

/* A record, variant, enum or flags type takes the name it is first exported as. */
void dec__name_type(const ctype *t, const char *nm);

/* The CT_VAL type of a value of type vt; a value type read from the binary as such. */
wp_status dec__value_type_of(dec *d, const wp_wit_type *vt, const ctype **out);
wp_status dec__value_type(dec *d, const tscope *ts, const ctype **out);

#endif
