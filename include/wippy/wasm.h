/* wippy/wasm.h: the WebAssembly engine's public contract.
 *
 * Objects and who owns them:
 *   wp_module    decoded, validated and compiled code. Immutable once made, reference counted,
 *                shared by any number of instances and threads.
 *   wp_store     owns everything instantiated from modules: instances, functions, memories,
 *                tables, globals. Freed all at once by wp_store_free(). A store and everything in
 *                it is used by one thread at a time.
 *   wp_exec      the state of one call in progress (value stack, call frames, program counter),
 *                all on the heap, so a run can stop (pending, out of budget) and resume later.
 *                Belongs to one store; used by one thread at a time.
 *
 * Errors: fallible calls return wp_status (WP_OK is 0) and fill the caller's wp_err on failure.
 * Traps are not errors of the API: a run that traps returns WP_RUN_TRAP and the trap is read
 * with wp_exec_trap().
 */
#ifndef WIPPY_WASM_H
#define WIPPY_WASM_H

#include "wippy/base.h"
#include "wippy/config.h"

/* ---- Types ------------------------------------------------------------------------------- */

typedef enum wp_valtype {
    WP_I32 = 0x7f,
    WP_I64 = 0x7e,
    WP_F32 = 0x7d,
    WP_F64 = 0x7c,
    WP_V128 = 0x7b,
    WP_FUNCREF = 0x70,
    WP_EXTERNREF = 0x6f,
} wp_valtype;

typedef enum wp_externkind {
    WP_EXTERN_FUNC = 0,
    WP_EXTERN_TABLE = 1,
    WP_EXTERN_MEMORY = 2,
    WP_EXTERN_GLOBAL = 3,
} wp_externkind;

typedef struct wp_module wp_module;
typedef struct wp_store wp_store;
typedef struct wp_instance wp_instance;
typedef struct wp_func wp_func;
typedef struct wp_table wp_table;
typedef struct wp_memory wp_memory;
typedef struct wp_global wp_global;
typedef struct wp_exec wp_exec;

/* A function type. 'types' holds the params then the results. In values handed out by the
 * engine it is borrowed from the module or store it came from. */
typedef struct wp_functype {
    uint32_t nparams;
    uint32_t nresults;
    const wp_valtype *types;
} wp_functype;

/* Size limits of a memory (in 64 KiB pages) or a table (in elements). */
typedef struct wp_limits {
    uint32_t min;
    uint32_t max;
    bool has_max;
} wp_limits;

typedef struct wp_tabletype {
    wp_valtype elem; /* WP_FUNCREF or WP_EXTERNREF */
    wp_limits limits;
} wp_tabletype;

typedef struct wp_globaltype {
    wp_valtype type;
    bool mutable_;
} wp_globaltype;

/* A name from a binary: UTF-8, not NUL-terminated, may contain NUL. Borrowed from the module. */
typedef struct wp_name {
    const char *ptr;
    uint32_t len;
} wp_name;

/* A value. Floats are kept as their bit patterns so NaN payloads survive. A funcref is a
 * wp_func * or NULL (null reference); an externref is an opaque host pointer, NULL is null. */
typedef struct wp_val {
    wp_valtype type;
    union {
        uint32_t i32;
        uint64_t i64;
        uint32_t f32;
        uint64_t f64;
        wp_func *func;
        void *ext;
        uint8_t v128[16];
    } of;
} wp_val;

static inline wp_val wp_val_i32(uint32_t v) { return (wp_val){.type = WP_I32, .of.i32 = v}; }
static inline wp_val wp_val_i64(uint64_t v) { return (wp_val){.type = WP_I64, .of.i64 = v}; }
static inline wp_val wp_val_f32(uint32_t bits) { return (wp_val){.type = WP_F32, .of.f32 = bits}; }
static inline wp_val wp_val_f64(uint64_t bits) { return (wp_val){.type = WP_F64, .of.f64 = bits}; }

/* "i32", "i64", "f32", "f64", "v128", "funcref", "externref"; "?" otherwise. Static. */
WP_API const char *wp_valtype_name(wp_valtype t);

/* ---- Modules ----------------------------------------------------------------------------- */

/* Decode, validate and compile a core module binary.
 * bytes: borrowed; the module copies what it keeps.
 * *out:  set on WP_OK, owned by the caller; release with wp_module_free().
 * Fails: WP_ERR_INVALID for malformed or invalid input (err gives the byte offset and the
 *        reason, e.g. "at 0x1f: type mismatch in i32.add"), WP_ERR_UNSUPPORTED for features
 *        not implemented (SIMD), WP_ERR_NOMEM. Never leaks on failure. */
WP_API wp_status wp_module_decode(const uint8_t *bytes, size_t len, wp_module **out, wp_err *err);

/* As wp_module_decode, allocating through heap, which must outlive the module. */
WP_API wp_status wp_module_decode_in(wp_heap *heap, const uint8_t *bytes, size_t len,
                                     wp_module **out, wp_err *err);

/* Adds a reference (thread-safe) and returns m. */
WP_API wp_module *wp_module_ref(wp_module *m);

/* Drops a reference (thread-safe); the last one frees the module. Accepts NULL. */
WP_API void wp_module_free(wp_module *m);

typedef struct wp_import_desc {
    wp_name module;
    wp_name name;
    wp_externkind kind;
    wp_functype func;     /* WP_EXTERN_FUNC */
    wp_tabletype table;   /* WP_EXTERN_TABLE */
    wp_limits memory;     /* WP_EXTERN_MEMORY */
    wp_globaltype global; /* WP_EXTERN_GLOBAL */
} wp_import_desc;

typedef struct wp_export_desc {
    wp_name name;
    wp_externkind kind;
    uint32_t index; /* in the module's index space of that kind */
} wp_export_desc;

/* Imports and exports of a module, in binary order. Descriptions borrow from the module.
 * i must be below the count. */
WP_API uint32_t wp_module_import_count(const wp_module *m);
WP_API void wp_module_import(const wp_module *m, uint32_t i, wp_import_desc *out);
WP_API uint32_t wp_module_export_count(const wp_module *m);
WP_API void wp_module_export(const wp_module *m, uint32_t i, wp_export_desc *out);

/* The module's memories in its index space (imported ones first): how many, and memory i's
 * declared limits in pages. i must be below the count. */
WP_API uint32_t wp_module_memory_count(const wp_module *m);
WP_API wp_limits wp_module_memory_limits(const wp_module *m, uint32_t i);

/* Finds an exported function's type by export name. Returns false if there is no such
 * function export. *out borrows from the module. */
WP_API bool wp_module_export_functype(const wp_module *m, const char *name, wp_functype *out);

/* ---- Stores ------------------------------------------------------------------------------ */

/* Limits a store enforces on everything instantiated in it. Zero means the default. */
typedef struct wp_store_config {
    uint32_t max_memory_pages; /* per memory, on top of the module's own max; default 65536 */
    uint32_t max_table_elems;  /* per table; default WP_DEFAULT_MAX_TABLE_ELEMS */
    uint32_t max_call_depth;   /* wasm frames per exec; default WP_DEFAULT_CALL_DEPTH */
    size_t max_stack_bytes;    /* value stack per exec; default WP_DEFAULT_STACK_BYTES */
    uint64_t fuel;             /* wasm instructions for the store's lifetime; 0 = unlimited */
    size_t max_heap_bytes;     /* engine allocations of the store; 0 = unlimited */
} wp_store_config;
/* Fuel counts every wasm instruction executed ('end' and 'else' are not instructions). It is
 * charged a straight-line run at a time, before the run starts: a call traps with
 * WP_TRAP_FUEL, before running them, on the first run whose instructions exceed what is left,
 * so a call that needs exactly the fuel left completes. Host functions cost their call
 * instruction only. A store with fuel runs a metered translation of each module (made once per
 * module, on first use). */

/* cfg may be NULL for defaults. *out is owned by the caller; release with wp_store_free().
 * Fails: WP_ERR_NOMEM. */
WP_API wp_status wp_store_new(const wp_store_config *cfg, wp_store **out, wp_err *err);

/* Frees the store and everything in it: instances, functions, memories, tables, globals,
 * and any exec still attached. Drops the store's references to modules. Accepts NULL. */
WP_API void wp_store_free(wp_store *s);

/* Fuel left in the store (only meaningful when cfg.fuel was set). */
WP_API uint64_t wp_store_fuel(const wp_store *s);

/* ---- Host functions ---------------------------------------------------------------------- */

typedef enum wp_host_result {
    WP_HOST_OK = 0,  /* results are written */
    WP_HOST_TRAP,    /* the call traps; the message was set with wp_host_trap() */
    WP_HOST_PENDING, /* the host will finish later: the run returns WP_RUN_PENDING and the
                        embedder resumes it with wp_exec_resume() */
} wp_host_result;

/* The context of one host call in progress. Valid only during that call. */
typedef struct wp_host_call wp_host_call;

/* A host function. args has type->nparams values, results room for type->nresults; write
 * them all before returning WP_HOST_OK. env is the pointer given at creation, borrowed. */
typedef wp_host_result (*wp_host_fn)(wp_host_call *call, void *env, const wp_val *args,
                                     wp_val *results);

/* Creates a host function in s. type is copied. env is borrowed and must outlive s.
 * The function is owned by s. Fails: WP_ERR_NOMEM. */
WP_API wp_status wp_func_new_host(wp_store *s, const wp_functype *type, wp_host_fn fn, void *env,
                                  wp_func **out, wp_err *err);

/* The function's type, borrowed from its store or module. */
WP_API wp_functype wp_func_type(const wp_func *f);

/* Records a trap message (printf format) for the call and returns WP_HOST_TRAP. */
WP_API wp_host_result wp_host_trap(wp_host_call *call, const char *fmt, ...) WP_PRINTF(2, 3);

/* Ends the whole run with an exit status (WASI proc_exit): the run returns WP_RUN_TRAP with
 * trap kind WP_TRAP_EXIT and the status in wp_trap.exit_code. Returns WP_HOST_TRAP. */
WP_API wp_host_result wp_host_exit(wp_host_call *call, int32_t status);

/* The instance whose code made the call (NULL if the host function was called directly by
 * the embedder), and its memory 0 (NULL if none). */
WP_API wp_instance *wp_host_call_instance(wp_host_call *call);
WP_API wp_memory *wp_host_call_memory(wp_host_call *call);

/* Calls f from inside a host function and runs it to completion on the same exec (for a
 * canonical-ABI realloc). It may not yield: a pending host call or exhausted budget inside it
 * traps. Returns WP_OK with results written, or WP_ERR_TRAP with err describing the trap (the
 * host function should then return wp_host_trap()). */
WP_API wp_status wp_host_call_nested(wp_host_call *call, wp_func *f, const wp_val *args,
                                     uint32_t nargs, wp_val *results, uint32_t nresults,
                                     wp_err *err);

/* ---- Instances --------------------------------------------------------------------------- */

/* What an import is satisfied with, or what an export is. */
typedef struct wp_extern {
    wp_externkind kind;
    union {
        wp_func *func;
        wp_table *table;
        wp_memory *memory;
        wp_global *global;
    } of;
} wp_extern;

/* Instantiates m in s: checks the imports (one per module import, in order) against their
 * declared types, creates memories, tables and globals, and applies element and data segments.
 * It does not run the start function: call wp_instance_start_func() and run it (the spec's
 * instantiation is complete when it returns). The instance is owned by s and holds a
 * reference to m.
 * Fails: WP_ERR_LINK (unknown import, incompatible import type; err says which),
 *        WP_ERR_TRAP (a segment does not fit: the spec's uninstantiable module; effects of
 *        earlier segments remain, as the spec says), WP_ERR_NOMEM, WP_ERR_INVALID (limits of
 *        the store exceeded). */
WP_API wp_status wp_instance_new(wp_store *s, wp_module *m, const wp_extern *imports,
                                 uint32_t nimports, wp_instance **out, wp_err *err);

/* The start function, or NULL if the module has none. */
WP_API wp_func *wp_instance_start_func(const wp_instance *inst);

/* Looks up an export by name (name_len bytes). Returns false if there is none. */
WP_API bool wp_instance_export(const wp_instance *inst, const char *name, size_t name_len,
                               wp_extern *out);

/* The instance's module (borrowed) and memory 0 (NULL if none). */
WP_API const wp_module *wp_instance_module(const wp_instance *inst);
WP_API wp_memory *wp_instance_memory(const wp_instance *inst);

/* ---- Memories, tables, globals ----------------------------------------------------------- */

#define WP_PAGE_SIZE 65536u
#define WP_PAGES_PER_MIB ((1u << 20) / WP_PAGE_SIZE) /* 16 */

/* Creates a standalone memory, table or global in s (the spectest module, host-provided
 * memories). Owned by s. Fail: WP_ERR_NOMEM, WP_ERR_INVALID (limits over the store's). */
WP_API wp_status wp_memory_new(wp_store *s, wp_limits limits, wp_memory **out, wp_err *err);
WP_API wp_status wp_table_new(wp_store *s, wp_tabletype type, wp_table **out, wp_err *err);
WP_API wp_status wp_global_new(wp_store *s, wp_globaltype type, wp_val init, wp_global **out,
                               wp_err *err);

/* A memory's bytes and size. The pointer changes when the memory grows: take it again after
 * any call that may run wasm code or grow memory. */
WP_API uint8_t *wp_memory_data(const wp_memory *mem);
WP_API uint64_t wp_memory_size(const wp_memory *mem); /* bytes */
WP_API wp_limits wp_memory_limits(const wp_memory *mem); /* min = current pages */

/* Grows by delta pages. Returns the old size in pages, or -1 if it cannot (limits, store
 * limits, or the system refused), as memory.grow does. */
WP_API int64_t wp_memory_grow(wp_memory *mem, uint32_t delta);

/* Bounds-checked access for host code: true and copies if [offset, offset+len) is inside. */
WP_API bool wp_memory_read(const wp_memory *mem, uint64_t offset, void *dst, size_t len);
WP_API bool wp_memory_write(wp_memory *mem, uint64_t offset, const void *src, size_t len);

WP_API wp_tabletype wp_table_type(const wp_table *t); /* limits.min = current size */
WP_API bool wp_table_get(const wp_table *t, uint32_t i, wp_val *out);
WP_API bool wp_table_set(wp_table *t, uint32_t i, wp_val v);

WP_API wp_globaltype wp_global_type(const wp_global *g);
WP_API wp_val wp_global_get(const wp_global *g);
WP_API void wp_global_set(wp_global *g, wp_val v); /* v.type must match */

/* ---- Execution --------------------------------------------------------------------------- */

#define WP_TRAP_KINDS(X)                                                                           \
    X(UNREACHABLE, "unreachable")                                                                  \
    X(MEMORY_OOB, "out of bounds memory access")                                                   \
    X(TABLE_OOB, "out of bounds table access")                                                     \
    X(UNDEFINED_ELEMENT, "undefined element")                                                      \
    X(UNINITIALIZED_ELEMENT, "uninitialized element")                                              \
    X(INDIRECT_TYPE, "indirect call type mismatch")                                                \
    X(DIV_ZERO, "integer divide by zero")                                                          \
    X(INT_OVERFLOW, "integer overflow")                                                            \
    X(INVALID_CONVERSION, "invalid conversion to integer")                                         \
    X(STACK_EXHAUSTED, "call stack exhausted")                                                     \
    X(FUEL, "fuel exhausted")                                                                      \
    X(HOST, "host error")                                                                          \
    X(EXIT, "exit")

typedef enum wp_trap_kind {
    WP_TRAP_NONE = 0,
#define X(kind, text) WP_TRAP_##kind,
    WP_TRAP_KINDS(X)
#undef X
} wp_trap_kind;

/* The spec's text for a trap kind ("out of bounds memory access", ...). Static. */
WP_API const char *wp_trap_text(wp_trap_kind kind);

typedef struct wp_trap {
    wp_trap_kind kind;
    int32_t exit_code; /* WP_TRAP_EXIT only */
    /* Starts with wp_trap_text(kind) (for HOST: the host's message), then names where:
     * "integer divide by zero in function 'div_s' (func 3)". */
    char msg[WP_ERR_MSG_MAX];
} wp_trap;

typedef enum wp_run_state {
    WP_RUN_DONE = 0, /* results are ready: wp_exec_results() */
    WP_RUN_TRAP,     /* wp_exec_trap() says why; the exec is idle again */
    WP_RUN_PENDING,  /* a host function returned WP_HOST_PENDING: wp_exec_resume() later */
    WP_RUN_BUDGET,   /* the slice's budget is spent: call wp_exec_run() again */
} wp_run_state;

/* Creates an exec for calls into s. Owned by the caller (or freed with s).
 * Fails: WP_ERR_NOMEM. */
WP_API wp_status wp_exec_new(wp_store *s, wp_exec **out, wp_err *err);

/* Frees x. Accepts NULL. Called from inside a host function that x is running (directly or
 * through a nested call), it does nothing: x is in use below the caller. Free it once the run
 * has returned, or leave it to wp_store_free(). */
WP_API void wp_exec_free(wp_exec *x);

/* Misuse from inside a host function of the same exec has a defined outcome: wp_exec_begin()
 * and wp_exec_resume() fail with WP_ERR_INVALID, wp_exec_run() returns WP_RUN_TRAP (the trap
 * message says why; the call in progress is not affected), wp_exec_reset() and
 * wp_exec_resume_trap() do nothing, wp_exec_free() does nothing (above). Only
 * wp_host_call_nested() runs code on the exec. */

/* Begins a call of f with nargs arguments (copied), checked against f's type. The exec must be
 * idle (no call begun or the last one finished). Nothing runs until wp_exec_run(); a function
 * whose frame alone is over the store's max_stack_bytes begins, and its run traps with
 * WP_TRAP_STACK_EXHAUSTED, as a call from wasm would.
 * Fails: WP_ERR_INVALID (wrong count or types; exec busy), WP_ERR_NOMEM. */
WP_API wp_status wp_exec_begin(wp_exec *x, wp_func *f, const wp_val *args, uint32_t nargs,
                               wp_err *err);

/* Runs the call begun until it finishes, traps, waits on a host, or has spent 'budget'
 * reductions (calls plus loop back-edges; WP_BUDGET_UNLIMITED for no slice limit). */
#define WP_BUDGET_UNLIMITED UINT64_MAX
WP_API wp_run_state wp_exec_run(wp_exec *x, uint64_t budget);

/* After WP_RUN_PENDING: hands the pending host call its results (count and types of the host
 * function's results) so the next wp_exec_run() goes on after that call. */
WP_API wp_status wp_exec_resume(wp_exec *x, const wp_val *results, uint32_t nresults,
                                wp_err *err);

/* After WP_RUN_PENDING: makes the pending host call trap with msg instead. The next
 * wp_exec_run() returns WP_RUN_TRAP. */
WP_API void wp_exec_resume_trap(wp_exec *x, const char *msg);

/* Whether x has a call in progress: begun and not yet done or trapped (ready to run, out of
 * budget, waiting on a host function), or running a host function or a nested call. */
WP_API bool wp_exec_busy(const wp_exec *x);

/* Abandons any call in progress (after pending or out of budget) and makes the exec idle. */
WP_API void wp_exec_reset(wp_exec *x);

/* After WP_RUN_DONE: the results (up to cap are copied; returns how many there are). */
WP_API uint32_t wp_exec_results(const wp_exec *x, wp_val *out, uint32_t cap);

/* After WP_RUN_TRAP: the trap. Borrowed from x, valid until the next begin. */
WP_API const wp_trap *wp_exec_trap(const wp_exec *x);

/* One activation in a backtrace. For a host function: instance is NULL, func is the index
 * under which the calling module imports it (UINT32_MAX if it was not reached through an
 * import of its caller: called by the embedder, or through a table), and name is that
 * function's name from the caller's name section, else the import's field name. */
typedef struct wp_frame_info {
    const wp_instance *instance; /* NULL for a host function */
    uint32_t func;               /* function index in its module */
    wp_name name;                /* from the name section; len 0 if none; borrowed */
} wp_frame_info;

/* After WP_RUN_TRAP: the frames that were active at the trap, innermost first (a host
 * function that trapped or exited is the innermost); copies up to cap into out (which may be
 * NULL if cap is 0) and returns how many there were. Valid until the next wp_exec_begin or
 * wp_exec_reset; 0 when the exec's last run did not end in a trap. Frames of a nested call
 * (wp_host_call_nested) that trapped are not included: the host function that made it is. */
WP_API uint32_t wp_exec_backtrace(const wp_exec *x, wp_frame_info *out, uint32_t cap);

/* Convenience: begin and run f to completion with an unlimited slice budget.
 * Returns WP_OK with results written (nresults must match f's type), WP_ERR_TRAP with err
 * holding the trap message (and *trap filled if not NULL), WP_ERR_INVALID for bad arguments
 * or a host that went pending (not allowed here). */
WP_API wp_status wp_call(wp_exec *x, wp_func *f, const wp_val *args, uint32_t nargs,
                         wp_val *results, uint32_t nresults, wp_trap *trap, wp_err *err);


#endif
