/* wippy/component.h: the Component Model layer. For now: WIT function signatures (the `wit:`
 * line of a core module's registry entry) and the Canonical ABI that lifts and lowers
 * wp_values to and from a core function's parameters and results.
 *
 * Names follow the specification (reference/component-model/WIT.md, CanonicalABI.md): a later
 * issue grows this layer into component binaries, linking and resources.
 *
 * Objects and who owns them:
 *   wp_wit     a parsed WIT text: its named types and functions. Immutable once parsed; every
 *              wp_wit_type and wp_wit_func handed out borrows from it and lives as long as it.
 *              Owned by the caller; release with wp_wit_free(). Safe to share between threads.
 *   wp_cabi    the context of calls into one instance: its memory and realloc. Lives on the
 *              caller's stack; borrows the exec and instance.
 */
#ifndef WIPPY_COMPONENT_H
#define WIPPY_COMPONENT_H

#include "wippy/value.h"
#include "wippy/wasm.h"

/* ---- WIT types ---------------------------------------------------------------------------- */

#define WP_WIT_KINDS(X)                                                                            \
    X(BOOL, "bool")                                                                                \
    X(S8, "s8")                                                                                    \
    X(U8, "u8")                                                                                    \
    X(S16, "s16")                                                                                  \
    X(U16, "u16")                                                                                  \
    X(S32, "s32")                                                                                  \
    X(U32, "u32")                                                                                  \
    X(S64, "s64")                                                                                  \
    X(U64, "u64")                                                                                  \
    X(F32, "f32")                                                                                  \
    X(F64, "f64")                                                                                  \
    X(CHAR, "char")                                                                                \
    X(STRING, "string")                                                                            \
    X(LIST, "list")                                                                                \
    X(OPTION, "option")                                                                            \
    X(RESULT, "result")                                                                            \
    X(TUPLE, "tuple")                                                                              \
    X(RECORD, "record")                                                                            \
    X(VARIANT, "variant")                                                                          \
    X(ENUM, "enum")                                                                                \
    X(FLAGS, "flags")

typedef enum wp_wit_kind {
#define X(kind, text) WP_WIT_##kind,
    WP_WIT_KINDS(X)
#undef X
} wp_wit_kind;

/* The WIT name of a kind ("s32", "list", ...). Static. */
WP_API const char *wp_wit_kind_name(wp_wit_kind k);

typedef struct wp_wit_type wp_wit_type;

/* A named member: a record field, a variant case (type NULL: no payload), an enum or flags
 * label (type NULL), a tuple element (name NULL) or a function parameter. */
typedef struct wp_wit_field {
    const char *name;
    const wp_wit_type *type;
} wp_wit_field;

/* A type. Aliases (`type x = y;`) are resolved away: a use of x is y itself. */
struct wp_wit_type {
    wp_wit_kind kind;
    const char *name;        /* the declared name (record, variant, enum, flags), else NULL */
    const wp_wit_type *elem; /* list<T>, option<T> */
    const wp_wit_type *ok;   /* result<T, E>: T or NULL (`_` or absent) */
    const wp_wit_type *err;  /* result<T, E>: E or NULL */
    uint32_t nfields;        /* tuple, record, variant, enum, flags */
    const wp_wit_field *fields;
};

typedef struct wp_wit_func {
    const char *name; /* "add"; inside `interface math { ... }` it is "math#add" */
    uint32_t nparams;
    const wp_wit_field *params;
    const wp_wit_type *result; /* NULL: the function returns nothing */
} wp_wit_func;

typedef struct wp_wit wp_wit;

/* Parses WIT text holding function items and type definitions:
 *     [export] NAME: func(P: T, ...) [-> T];
 *     record NAME { F: T, ... }   variant NAME { C, C(T), ... }   enum NAME { L, ... }
 *     flags NAME { L, ... }       type NAME = T;
 *     interface NAME { ...the items above... }     package ns:name[@version];  (ignored)
 * Types: bool s8 u8 s16 u16 s32 u32 s64 u64 f32 f64 (float32 float64) char string list<T>
 * option<T> result result<T> result<_, E> result<T, E> tuple<T, ...> and named types, used
 * before or after their definition. Comments: // and / * * /. Not supported (an error says
 * so): worlds, use, resources, handles, futures, streams, fixed-length lists, named results.
 * text: borrowed (need not be NUL-terminated). *out owned by the caller: wp_wit_free().
 * Fails: WP_ERR_INVALID, err says "line L, column C: reason"; WP_ERR_UNSUPPORTED for the
 *        constructs above (same form); WP_ERR_NOMEM. */
WP_API wp_status wp_wit_parse(const char *text, size_t len, wp_wit **out, wp_err *err);

/* Accepts NULL. */
WP_API void wp_wit_free(wp_wit *w);

/* The functions in text order, and lookup by name (NULL if absent). Borrowed from w. */
WP_API uint32_t wp_wit_func_count(const wp_wit *w);
WP_API const wp_wit_func *wp_wit_func_at(const wp_wit *w, uint32_t i);
WP_API const wp_wit_func *wp_wit_find_func(const wp_wit *w, const char *name);

/* Writes a type or a function signature as WIT text ("list<s32>", "func(a: s32) -> s32"). */
WP_API void wp_wit_type_print(FILE *out, const wp_wit_type *t);
WP_API void wp_wit_func_print(FILE *out, const wp_wit_func *f);

/* ---- Canonical ABI ------------------------------------------------------------------------ */

#define WP_CABI_MAX_FLAT_PARAMS 16u        /* more flat parameters go through memory */
#define WP_CABI_MAX_FLAT_RESULTS 1u        /* more flat results come back through memory */
#define WP_CABI_MAX_LIST_LEN (1u << 24)    /* elements of one list lifted or lowered */
#define WP_CABI_MAX_STRING_LEN 0x7fffffffu /* bytes of one string */

/* The core function type a lifted export of f must have: its flattened parameters (or one
 * i32 pointer when there are more than WP_CABI_MAX_FLAT_PARAMS) and results (or one i32
 * pointer when there are more than WP_CABI_MAX_FLAT_RESULTS). params has room for
 * WP_CABI_MAX_FLAT_PARAMS, results for WP_CABI_MAX_FLAT_RESULTS. */
WP_API void wp_cabi_core_type(const wp_wit_func *f, wp_valtype *params, uint32_t *nparams,
                              wp_valtype *results, uint32_t *nresults);

/* Checks that core (an export's type) is what f lifts to, and whether the instance will need
 * memory and cabi_realloc (*needs_memory, *needs_realloc may be NULL).
 * Fails: WP_ERR_INVALID, err shows both signatures. */
WP_API wp_status wp_cabi_check(const wp_wit_func *f, wp_functype core, bool *needs_memory,
                               bool *needs_realloc, wp_err *err);

typedef struct wp_cabi {
    wp_exec *exec;     /* an idle exec of the instance's store: runs realloc and post-return */
    wp_instance *inst; /* the instance whose export is called */
    wp_memory *memory; /* its export "memory" (else memory 0), NULL if none */
    wp_func *realloc;  /* its export "cabi_realloc", NULL if none */
} wp_cabi;

/* Fills cx for calls into inst. Never fails: a missing memory or realloc is an error only
 * when a value needs it. */
WP_API void wp_cabi_init(wp_cabi *cx, wp_exec *exec, wp_instance *inst);

/* Lowers args (nargs values, borrowed) into f's flat core parameters: flat has room for
 * WP_CABI_MAX_FLAT_PARAMS, *nflat is set. Strings and lists are copied into the guest's
 * memory through cabi_realloc (run to completion with wp_call on cx->exec, which must be
 * idle). A string argument is accepted for a numeric, bool or char parameter and parsed, so
 * command-line arguments reach typed parameters.
 * Fails: WP_ERR_INVALID (wrong count, a value that does not fit its type; err names the
 *        parameter), WP_ERR_TRAP (realloc trapped or returned a pointer outside memory),
 *        WP_ERR_LINK (no memory or no cabi_realloc when a value needs them), WP_ERR_NOMEM. */
WP_API wp_status wp_cabi_lower_params(wp_cabi *cx, const wp_wit_func *f, const wp_value *args,
                                      uint32_t nargs, wp_val *flat, uint32_t *nflat, wp_err *err);

/* Lifts f's result from the flat core results the export returned (reading the guest's memory
 * for strings, lists and results passed by pointer). *out is set to the value (nil when f has
 * no result), owned by the caller. Representation: integers (u64 keeps its bit pattern in
 * int64), floats, bool, char and string as string, list and tuple as array, record as map by
 * field name, option as nil or the value, result as {ok = T} or {err = E} (T or E nil when
 * absent), variant as {case = payload}, enum as its label, flags as an array of labels.
 * Fails: WP_ERR_TRAP (a pointer or length out of bounds or misaligned, invalid UTF-8, a bad
 *        discriminant or char), WP_ERR_INVALID (a list longer than WP_CABI_MAX_LIST_LEN),
 *        WP_ERR_LINK (no memory), WP_ERR_NOMEM. */
WP_API wp_status wp_cabi_lift_results(wp_cabi *cx, const wp_wit_func *f, const wp_val *flat,
                                      uint32_t nflat, wp_value *out, wp_err *err);

/* Calls the export "cabi_post_<export_name>", if the instance has one, with the flat results
 * of the call, so the guest can free what it returned. Call it after wp_cabi_lift_results.
 * Fails: WP_ERR_TRAP (it trapped), WP_ERR_INVALID (its type does not take the results). */
WP_API wp_status wp_cabi_post_return(wp_cabi *cx, const char *export_name, const wp_val *flat,
                                     uint32_t nflat, wp_err *err);

#endif
