/* wippy/component.h: the Component Model layer: WIT text, the Canonical ABI, component
 * binaries, their instantiation and linking to host interfaces, and resources.
 *
 * Names follow the specification (reference/component-model/WIT.md, CanonicalABI.md,
 * Binary.md, Explainer.md): the synchronous subset (no async, futures, streams, threads).
 *
 * Objects and who owns them:
 *   wp_wit         a parsed WIT text: its named types and functions. Immutable once parsed;
 *                  every wp_wit_type and wp_wit_func handed out borrows from it and lives as
 *                  long as it. Owned by the caller; release with wp_wit_free(). Thread-safe.
 *   wp_cabi        the context of calls into one core instance (a core module with a `wit:`
 *                  line): its memory and realloc. Lives on the caller's stack.
 *   wp_component   a decoded and validated component binary: its core modules (compiled),
 *                  types, imports and exports. Immutable, reference counted, thread-safe.
 *   wp_comp_host_iface  a host interface description (static data, usually `static const`);
 *                  borrowed by a linker and everything instantiated through it.
 *   wp_comp_linker the host interfaces one instantiation may use, each with its context
 *                  pointer. Owned by the caller; must outlive instances made with it.
 *   wp_comp_inst   one instance of a component in a wp_store: its core instances, the handle
 *                  tables of its component instances (the root's and each nested one's), the
 *                  host functions that lower into it. Owned by the caller
 *                  (wp_comp_inst_free(), before the store); used by the store's thread only.
 */
#ifndef WIPPY_COMPONENT_H
#define WIPPY_COMPONENT_H

#include "wippy/value.h"
#include "wippy/wasi.h"
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
    X(FLAGS, "flags")                                                                              \
    X(OWN, "own")                                                                                  \
    X(BORROW, "borrow")

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
    const wp_wit_type *elem; /* list<T>, option<T>; own<T>, borrow<T>: NULL (name: T) */
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
 *     resource NAME;   resource NAME { constructor(P: T, ...); M: func(...) [-> T];
 *                                      S: static func(...) [-> T]; }
 *         (functions "[constructor]NAME", "[method]NAME.M" with self: borrow<NAME> first,
 *         "[static]NAME.S"; a bare NAME in a type is own<NAME>)
 *     interface NAME { ...the items above... }     package ns:name[@version];  (ignored)
 *     use path.{a, b as c};  (names are global in one text: only renames make aliases)
 *     world NAME { export NAME: func...; types; imports, includes, exported interfaces
 *                  are skipped }
 * Types: bool s8 u8 s16 u16 s32 u32 s64 u64 f32 f64 (float32 float64) char string list<T>
 * option<T> result result<T> result<_, E> result<T, E> tuple<T, ...> own<R> borrow<R> and
 * named types, used before or after their definition. Comments: // and / * * /. Not
 * supported (an error says so): futures, streams, error-context, fixed-length lists, async
 * functions, named results, imports and includes outside a world.
 * For a core module (no handle table) an own/borrow handle is passed as its number.
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
    /* Set by the component layer only (wp_cabi_init leaves them zero): */
    wp_host_call *host_call; /* when set, realloc runs nested inside this host call */
    uint32_t encoding;       /* strings: WP_CABI_UTF8, WP_CABI_UTF16 or WP_CABI_LATIN1_UTF16 */
    void *handles;           /* the component instance whose table own/borrow use, or NULL */
} wp_cabi;

#define WP_CABI_UTF8 0u
#define WP_CABI_UTF16 1u
#define WP_CABI_LATIN1_UTF16 2u

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
 * absent), variant as {case = payload}, enum as its label, flags as a map of the set labels
 * to true, list<u8> as bytes, own/borrow handles as integers (see "Host interfaces").
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

/* ---- Component binaries ------------------------------------------------------------------- */

typedef struct wp_component wp_component;

/* True if bytes start with the component preamble (\0asm, version 0x0d, layer 1). */
WP_API bool wp_component_is(const uint8_t *bytes, size_t len);

/* Decodes and validates a component binary and compiles its core modules.
 * bytes: borrowed. *out owned by the caller: wp_component_free().
 * Fails: WP_ERR_INVALID (malformed or invalid; err starts with "at 0x<offset>: "),
 *        WP_ERR_UNSUPPORTED (async, streams, futures, shared-everything features),
 *        WP_ERR_NOMEM. */
WP_API wp_status wp_component_decode(const uint8_t *bytes, size_t len, wp_component **out,
                                     wp_err *err);

/* Reference counting (thread-safe); the last wp_component_free() frees. Accepts NULL. */
WP_API wp_component *wp_component_ref(wp_component *c);
WP_API void wp_component_free(wp_component *c);

/* The component's imports and exported functions. Names borrow from c. An instance import
 * is its full name ("wasi:io/streams@0.2.0"); an exported function is "name" at the top
 * level or "iface#name" inside an exported instance ("wasi:cli/run@0.2.0#run"). */
WP_API uint32_t wp_component_import_count(const wp_component *c);
WP_API const char *wp_component_import_name(const wp_component *c, uint32_t i);
WP_API uint32_t wp_component_export_func_count(const wp_component *c);
WP_API const char *wp_component_export_func_name(const wp_component *c, uint32_t i);

/* The core modules the component holds, nested components' included, each once (a module
 * may be instantiated any number of times, or never). Borrowed from c. */
WP_API uint32_t wp_component_module_count(const wp_component *c);
WP_API const wp_module *wp_component_module(const wp_component *c, uint32_t i);

/* How many core instances of module i one instantiation of c makes, counted from the binary
 * (nested components instantiated twice count twice; modules never instantiated, 0). Where
 * the binary alone cannot tell (a module or component taken from an instance's export), every
 * module counts one more than found. */
WP_API uint32_t wp_component_module_instances(const wp_component *c, uint32_t i);

/* ---- Host interfaces (what wasi:* and other hosts implement) ------------------------------- */

/* Values a host function sees are lifted by the runtime from the component's own declared
 * types (the canon lower's function type), in the shape of value.h: see wp_cabi_lift_results.
 * Resource handles (own<T> and borrow<T>) of a resource type T the host defines reach the host
 * as WP_VINT holding the representation the host gave when it created the resource (any
 * 64-bit value: an index into its own table, or a pointer). A host creates a resource by
 * returning such an integer where its result type has own<T>: the runtime puts a new handle
 * in the caller's table. An own<T> parameter moves ownership to the host (it frees the
 * representation itself); a borrow<T> parameter is valid during the call only. When the
 * guest drops its last own handle ([resource-drop]T, or the instance is freed) the runtime
 * calls the resource type's drop. Handles seen by embedders (an export returning own<T>) are
 * WP_VINT handle indices of the root component instance's table (each component instance,
 * root or nested, has its own table); the embedder gives them back as arguments or drops them
 * with wp_comp_resource_drop. */

typedef struct wp_comp_call wp_comp_call; /* one host call in progress; valid during it only */

/* A host function. ctx is the context given to wp_comp_linker_add; args are the lifted
 * parameters (nargs of them, borrowed); *result is nil on entry: set it to the result (moved
 * out by the runtime; leave it nil for a function without result).
 * Returns WP_HOST_OK, WP_HOST_TRAP (err holds why; the guest traps with "NAME: message"),
 * or WP_HOST_PENDING after wp_comp_call_pend() (args stay valid until the call completes). */
typedef wp_host_result (*wp_comp_host_fn)(wp_comp_call *call, void *ctx, const wp_value *args,
                                          uint32_t nargs, wp_value *result, wp_err *err);

/* Completes a pending host call once its wait is over (or might be: wake-ups may be
 * spurious). Same contract as wp_comp_host_fn: it may call wp_comp_call_pend() again and
 * return WP_HOST_PENDING to keep waiting. state is the pointer given to wp_comp_call_pend. */
typedef wp_host_result (*wp_comp_resume_fn)(wp_comp_call *call, void *ctx, void *state,
                                            const wp_value *args, uint32_t nargs,
                                            wp_value *result, wp_err *err);

/* Parks the call until wait is over (any descriptor ready, or the deadline; both as in
 * wasi.h, wait->fds copied), then the runtime calls resume(call, ctx, state, ...). state is
 * the host's (freed by the host in resume, or in cancel if the guest is abandoned).
 * Returns WP_HOST_PENDING, for `return wp_comp_call_pend(...)`. */
WP_API wp_host_result wp_comp_call_pend(wp_comp_call *call, const wp_wasi_wait *wait,
                                        wp_comp_resume_fn resume, void (*cancel)(void *state),
                                        void *state);

/* Ends the whole run with an exit status (wasi:cli/exit): the run traps with WP_TRAP_EXIT and
 * the status, as wp_host_exit. Returns WP_HOST_TRAP. From a resume function the run traps with
 * a host trap whose message names the status instead (the engine exits only from a call). */
WP_API wp_host_result wp_comp_call_exit(wp_comp_call *call, int32_t status);

/* The name of the function being called ("[method]output-stream.write"), for messages. */
WP_API const char *wp_comp_call_name(const wp_comp_call *call);

/* One function of a host interface. name is the component-level name: "now",
 * "[constructor]T", "[method]T.name", "[static]T.name" ([resource-drop]T is not listed: the
 * runtime calls the resource's drop). wit, optional, is its signature in WIT text, for
 * documentation: it is not checked against the component's declared type (the runtime lifts
 * with the component's types, so a host must check the shapes it reads). */
typedef struct wp_comp_host_func {
    const char *name;
    const char *wit;
    wp_comp_host_fn fn;
} wp_comp_host_func;

/* A resource type a host interface defines; drop frees a representation (may be NULL). */
typedef struct wp_comp_host_resource {
    const char *name; /* "output-stream" */
    void (*drop)(void *ctx, int64_t rep);
} wp_comp_host_resource;

/* A host interface: "ns:pkg/iface@version" ("wasi:io/streams@0.2.3"; the version is
 * optional). A component importing the same ns:pkg/iface with a semver-compatible version
 * links to it: the same major version, for 0.x the same minor (any patch: a 0.2.3 host serves
 * imports of 0.2.0 and of 0.2.12, as wasmtime and jco link), for 0.0.x the same patch. */
typedef struct wp_comp_host_iface {
    const char *name;
    const wp_comp_host_func *funcs;
    uint32_t nfuncs;
    const wp_comp_host_resource *resources;
    uint32_t nresources;
} wp_comp_host_iface;

typedef struct wp_comp_linker wp_comp_linker;

/* An empty linker. *out owned by the caller: wp_comp_linker_free(). Fails: WP_ERR_NOMEM. */
WP_API wp_status wp_comp_linker_new(wp_comp_linker **out, wp_err *err);
WP_API void wp_comp_linker_free(wp_comp_linker *l); /* accepts NULL */

/* Adds an interface (borrowed; must outlive l and its instances) with the context its
 * functions and drops receive. A later interface of the same ns:pkg/iface replaces an earlier
 * one. Fails: WP_ERR_INVALID (a malformed name), WP_ERR_NOMEM. */
WP_API wp_status wp_comp_linker_add(wp_comp_linker *l, const wp_comp_host_iface *iface,
                                    void *ctx, wp_err *err);

/* Gives a component's top-level value import called name (exactly: "port") the value v
 * (copied; a later value of the same name replaces it). Instantiation checks it against the
 * import's type, strictly in the shapes of wp_cabi_lift_results (no strings parsed for
 * numbers; a case without payload is true or nil), and fails with WP_ERR_LINK naming the
 * import and what differs ("value import port: expected u16, got string").
 * name, v: borrowed. Fails: WP_ERR_NOMEM. */
WP_API wp_status wp_comp_linker_value(wp_comp_linker *l, const char *name, const wp_value *v,
                                      wp_err *err);

/* ---- Instances and calls ------------------------------------------------------------------ */

typedef struct wp_comp_inst wp_comp_inst;

/* Instantiates c in s, linking its imports through l: an instance import links to the
 * linker's interface of that name and a compatible version; one nothing provides (or a
 * function the interface lacks) links to a stub that traps with "NAME is not provided" when
 * called, so unused imports cost nothing. Core start functions and the component's own start
 * functions (with their argument values lowered and their results lifted into new values)
 * run here, to completion (they may not go pending). exec: an idle exec of s, used for them.
 * Fails: WP_ERR_LINK (a type mismatch between core modules; a value import the linker has
 *        no value for, "value import NAME is not provided", or one of the wrong shape),
 *        WP_ERR_TRAP (a start function trapped; err has the message), WP_ERR_INVALID
 *        (store limits), WP_ERR_UNSUPPORTED (a start function that is an import),
 *        WP_ERR_NOMEM. */
WP_API wp_status wp_comp_instantiate(const wp_component *c, wp_store *s, wp_exec *exec,
                                     const wp_comp_linker *l, wp_comp_inst **out, wp_err *err);

/* Frees the instance's resource tables and its state; the store keeps its core objects until
 * wp_store_free(). Runs no guest code (a deliberate decision: the instance's memory goes with
 * it): the drops of host resources still held run, the destructors of guest-defined resources
 * still held do not (drop those first with wp_comp_resource_drop if they must run).
 * Accepts NULL. */
WP_API void wp_comp_inst_free(wp_comp_inst *ci);

/* Drops handle, an own<T> the embedder holds (an export returned it), as resource.drop would:
 * it leaves the table and the resource's end runs: a host resource's drop, or the destructor
 * of a guest-defined one, run to completion on x (an idle exec of ci's store; the destructor
 * may not go pending; x may be NULL for a resource without one). The handle is gone even when
 * the destructor traps.
 * Fails: WP_ERR_INVALID (an unknown or dropped handle, one the component holds rather than the
 *        embedder, one lent to a call in progress, x NULL or busy where a destructor must run,
 *        a destructor while a call of ci is in progress (it would enter the component): then
 *        the handle stays), WP_ERR_TRAP (the destructor trapped or went pending: err has
 *        "resource destructor: " and why). */
WP_API wp_status wp_comp_resource_drop(wp_comp_inst *ci, wp_exec *x, uint32_t handle,
                                       wp_err *err);

/* An exported function by name ("compute", "iface#name"), or NULL. Borrowed from ci. */
typedef struct wp_comp_func wp_comp_func;
WP_API const wp_comp_func *wp_comp_inst_func(const wp_comp_inst *ci, const char *name);

/* A value the component exports, by name ("name", or "iface#name" inside an exported
 * instance), or NULL if it exports no value of that name: a value definition of its binary
 * or a start function's result. Its shape is that of wp_cabi_lift_results (a case without
 * payload carries true, as for an embedder). Borrowed from ci; lives as long as ci. */
WP_API const wp_value *wp_comp_inst_value(const wp_comp_inst *ci, const char *name);

/* The number of parameters and the WIT text of a function's type, for messages. */
WP_API uint32_t wp_comp_func_nparams(const wp_comp_func *f);
WP_API void wp_comp_func_print(FILE *out, const wp_comp_func *f);

/* Lowers args (borrowed) and begins the call of f on exec x (idle, of ci's store): then run
 * it with wp_exec_run(). Argument shapes as in wp_cabi_lower_params; strings are parsed for
 * numeric parameters. The component cannot be entered again while the call is in progress
 * (x busy: not yet run to its end or trap, out of budget, parked, or in a host function): ci
 * remembers x until wp_comp_call_finish or the next call begins, so x must live until then.
 * Fails: WP_ERR_INVALID (err names the parameter and the expected type; a call of ci in
 * progress, "a call of the component is in progress", nothing changed), WP_ERR_TRAP (realloc
 * trapped), WP_ERR_NOMEM. */
WP_API wp_status wp_comp_call_begin(wp_comp_inst *ci, wp_exec *x, const wp_comp_func *f,
                                    const wp_value *args, uint32_t nargs, wp_err *err);

/* After WP_RUN_DONE of a call begun above: lifts the result into *out (nil for none; owned by
 * the caller) and runs the post-return function. Fails: WP_ERR_TRAP (a bad value from the
 * guest, post-return trapped), WP_ERR_NOMEM. */
WP_API wp_status wp_comp_call_finish(wp_comp_inst *ci, wp_exec *x, wp_value *out, wp_err *err);

/* After WP_RUN_PENDING: true and *out filled if a host call of ci is parked; false if none. */
WP_API bool wp_comp_pending(const wp_comp_inst *ci, wp_wasi_wait *out);

/* Runs the parked call's resume function; when it is done (OK or TRAP) the exec x is resumed
 * (or made to trap) and *done is true; else it waits again (*done false: ask wp_comp_pending).
 * Fails: WP_ERR_INVALID (nothing is parked). */
WP_API wp_status wp_comp_complete(wp_comp_inst *ci, wp_exec *x, bool *done, wp_err *err);

/* Forgets a parked call (its cancel runs), for an embedder abandoning the exec. */
WP_API void wp_comp_cancel(wp_comp_inst *ci);

/* Drives a call begun with wp_comp_call_begin to its end on this thread, waiting with poll()
 * for parked host calls. Returns WP_RUN_DONE or WP_RUN_TRAP. */
WP_API wp_run_state wp_comp_run(wp_comp_inst *ci, wp_exec *x);

#endif
