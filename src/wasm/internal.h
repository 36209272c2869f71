/* internal.h: the module, store and runtime objects shared by the files of src/wasm only.
 *
 * Who writes what:
 *   decode.c    bytes -> wp_module (sections, index spaces, names)        wp__decode
 *   validate.c  checks a decoded module fully                             wp__validate
 *   compile.c   function bodies -> internal code (wp_code)                wp__compile
 *   exec.c      the resumable interpreter, wp_exec, host calls            wp_exec_*
 *   instance.c  instantiation, linking, segments                          wp_instance_*
 *   store.c     stores and the objects in them                            wp_store_*
 *   memory.c    linear memories: reserve, commit lazily, grow             wp_memory_*
 *   module.c    the public module API: decode pipeline, refs, imports     wp_module_*
 */
#ifndef WP_WASM_INTERNAL_H
#define WP_WASM_INTERNAL_H

#include <stdatomic.h>

#include "../base/compiler.h"
#include "wippy/wasm.h"

/* ---- Opcodes ----------------------------------------------------------------------------- */

typedef enum wp_opcode {
#define WP_OP(byte, ident, name, imm, sig, size) WP_OP_##ident = byte,
#include "opcodes.def"
    WP_OP_PREFIX_FC = 0xfc,
    WP_OP_PREFIX_FD = 0xfd, /* SIMD: rejected as unsupported until it lands */
} wp_opcode;

typedef enum wp_opcode_fc {
#define WP_OPFC(sub, ident, name, imm, sig) WP_OPFC_##ident = sub,
#include "opcodes.def"
    WP_OPFC_COUNT
} wp_opcode_fc;

typedef enum wp_imm {
    WP_IMM_NONE,
    WP_IMM_BLOCKTYPE,
    WP_IMM_LABEL,
    WP_IMM_BR_TABLE,
    WP_IMM_FUNC,
    WP_IMM_CALL_INDIRECT,
    WP_IMM_LOCAL,
    WP_IMM_GLOBAL,
    WP_IMM_TABLE,
    WP_IMM_MEMARG,
    WP_IMM_MEMIDX,
    WP_IMM_I32,
    WP_IMM_I64,
    WP_IMM_F32,
    WP_IMM_F64,
    WP_IMM_SELECT_T,
    WP_IMM_REFTYPE,
    WP_IMM_DATA,
    WP_IMM_ELEM,
    WP_IMM_DATA_MEM,
    WP_IMM_ELEM_TABLE,
    WP_IMM_MEM_MEM,
    WP_IMM_TABLE_TABLE,
} wp_imm;

/* One row of opcodes.def, as a table indexed by opcode byte (or 0xFC sub-opcode). A row with
 * name == NULL is not an opcode. */
typedef struct wp_opinfo {
    const char *name;
    wp_imm imm;
    const char *sig;      /* see opcodes.def */
    uint8_t access_bytes; /* loads and stores */
} wp_opinfo;

extern const wp_opinfo wp__ops[256];
extern const wp_opinfo wp__ops_fc[WP_OPFC_COUNT];

/* ---- Modules ----------------------------------------------------------------------------- */

#define WP_BLOCKTYPE_EMPTY 0x40

/* A constant expression. WebAssembly 2.0 allows exactly one instruction before 'end'. */
typedef enum wp_const_op {
    WP_CONST_I32,
    WP_CONST_I64,
    WP_CONST_F32,
    WP_CONST_F64,
    WP_CONST_REF_NULL,
    WP_CONST_REF_FUNC,
    WP_CONST_GLOBAL_GET,
} wp_const_op;

typedef struct wp_constexpr {
    wp_const_op op;
    wp_valtype type; /* the value's type (for REF_NULL: the reference type) */
    uint32_t index;  /* REF_FUNC: function index; GLOBAL_GET: global index */
    uint64_t bits;   /* I32 (zero-extended), I64, F32, F64 bit patterns */
    uint32_t offset; /* byte offset of the expression in the binary, for errors */
} wp_constexpr;

typedef struct wp_import {
    wp_name module;
    wp_name name;
    wp_externkind kind;
    uint32_t index; /* index in the index space of its kind (imports come first) */
} wp_import;

typedef struct wp_export {
    wp_name name;
    wp_externkind kind;
    uint32_t index;
    uint32_t bin_offset; /* byte offset of the entry (its name) in the binary, for errors */
} wp_export;

/* One per function in the index space, imported ones first. */
typedef struct wp_funcdecl {
    uint32_t type; /* index into module->types; canonical: see wp_module.types */
    wp_name name;  /* from the name section; len 0 if absent */
    /* Defined functions only: */
    uint32_t body_offset; /* offset in module->bytes of the first instruction (after locals) */
    uint32_t body_end;    /* offset just past the final 'end' */
    uint32_t nlocals;     /* declared locals, not counting params */
    wp_valtype *locals;   /* nlocals entries, expanded */
    struct wp_code *code; /* set by wp__compile, owned by the module */
} wp_funcdecl;

typedef struct wp_globaldecl {
    wp_globaltype type;
    wp_constexpr init; /* defined globals only */
} wp_globaldecl;

typedef enum wp_segmode {
    WP_SEG_ACTIVE,
    WP_SEG_PASSIVE,
    WP_SEG_DECLARATIVE,
} wp_segmode;

typedef struct wp_elemseg {
    wp_segmode mode;
    wp_valtype type;       /* WP_FUNCREF or WP_EXTERNREF */
    uint32_t table;        /* active only */
    wp_constexpr offset;   /* active only: an i32 expression */
    uint32_t count;
    wp_constexpr *items;   /* count entries: REF_FUNC, REF_NULL or GLOBAL_GET */
    uint32_t bin_offset;   /* byte offset of the segment (its flags) in the binary, for errors */
} wp_elemseg;

typedef struct wp_dataseg {
    wp_segmode mode;     /* ACTIVE or PASSIVE */
    uint32_t memory;     /* active only */
    wp_constexpr offset; /* active only */
    uint32_t data_offset; /* offset of the bytes in module->bytes */
    uint32_t len;
    uint32_t bin_offset;  /* byte offset of the segment (its flags) in the binary, for errors */
} wp_dataseg;

struct wp_module {
    wp_heap *heap;        /* everything below is allocated through it */
    atomic_uint refcount;

    uint8_t *bytes; /* a copy of the binary; names, bodies and data point into it */
    size_t len;

    /* Types, deduplicated: 'canon[i]' is the lowest index structurally equal to i, and
     * funcdecl.type always holds a canonical index, so within one module two functions have the
     * same type exactly when their type indices are equal. Each types[i].types points into
     * type_storage. */
    uint32_t ntypes;
    wp_functype *types;
    uint32_t *canon;
    wp_valtype *type_storage;

    uint32_t nimports;
    wp_import *imports;

    uint32_t nfuncs; /* imported + defined */
    uint32_t nimported_funcs;
    wp_funcdecl *funcs;

    uint32_t ntables;
    uint32_t nimported_tables;
    wp_tabletype *tables;

    uint32_t nmems;
    uint32_t nimported_mems;
    wp_limits *mems;

    uint32_t nglobals;
    uint32_t nimported_globals;
    wp_globaldecl *globals;

    uint32_t nexports;
    wp_export *exports;

    bool has_start;
    uint32_t start;
    uint32_t start_bin_offset; /* byte offset of the start function's index, for errors */

    uint32_t nelems;
    wp_elemseg *elems;

    bool has_datacount;
    uint32_t datacount;
    uint32_t ndatas;
    wp_dataseg *datas;

    wp_name module_name; /* from the name section; len 0 if absent */

    /* Functions referenced outside function bodies (exports, element segments, global
     * initialisers): the only ones ref.func may name in a body. One flag per function. */
    uint8_t *func_declared;

    /* The metered translation (instruction fuel), made on first use by a store with fuel and
     * then shared: one code per defined function. See wp__compile_metered. */
    _Atomic(struct wp_code **) metered;
};

/* Decodes the binary into a new module (refcount 1): sections, index spaces, constant
 * expressions, names. Function bodies are located, not checked. Fails with WP_ERR_INVALID and
 * "at 0x<offset>: <reason>" for malformed input, WP_ERR_UNSUPPORTED for SIMD. Also checks, where
 * their offsets are at hand, the rules one entry shows alone (limits, type indices, a single
 * memory) and the caps of wippy/config.h. */
wp_status wp__decode(wp_heap *heap, const uint8_t *bytes, size_t len, wp_module **out,
                     wp_err *err);

/* Validates a decoded module fully (types, bodies, constant expressions, indices).
 * Fails with WP_ERR_INVALID and "at 0x<offset>: <reason>". */
wp_status wp__validate(const wp_module *m, wp_err *err);

/* Translates every defined function of a validated module into internal code, setting
 * funcs[i].code. Fails only with WP_ERR_NOMEM (or WP_ERR_UNSUPPORTED). */
wp_status wp__compile(wp_module *m, wp_err *err);

/* The metered translation of a validated module (*out: one code per defined function, owned by
 * the module): the same code with a FUEL instruction at the head of every straight-line run,
 * charging the run's wasm instructions. Made on the first call, from any thread, and kept.
 * Fails only with WP_ERR_NOMEM. */
wp_status wp__compile_metered(wp_module *m, struct wp_code *const **out, wp_err *err);

/* Frees an array of codes made by wp__compile_metered (every defined function's, then the
 * array). Accepts NULL. */
void wp__codes_free(const wp_module *m, struct wp_code **codes);

/* Frees one function's internal code (called by wp__module_destroy). Accepts NULL. */
void wp__code_free(wp_heap *heap, struct wp_code *code);

/* Frees a module regardless of its refcount; accepts half-built modules. */
void wp__module_destroy(wp_module *m);

/* Structural equality of function types. */
bool wp__functype_equal(const wp_functype *a, const wp_functype *b);

/* The type of function index i of m. */
static inline const wp_functype *wp__func_type(const wp_module *m, uint32_t i) {
    return &m->types[m->funcs[i].type];
}

/* ---- Store and runtime objects ------------------------------------------------------------ */

/* Every object of a store is on its 'objects' list and freed with it. */
typedef struct wp_object {
    struct wp_object *next;
    void (*destroy)(struct wp_object *obj);
} wp_object;

struct wp_store {
    wp_heap heap;
    wp_store_config cfg; /* with defaults filled in */
    uint64_t fuel;       /* left, when cfg.fuel != 0 */
    wp_object *objects;  /* newest first */
};

/* A value in a slot, a global or a table: 8 bytes; references are pointers. (v128 will take
 * two slots.) */
typedef uint64_t wp_slot;

struct wp_func {
    wp_object obj;
    const wp_functype *type; /* borrowed from the module or owned copy for host funcs */
    /* Wasm functions: */
    wp_instance *inst;
    uint32_t index;              /* in inst's module */
    const struct wp_code *code;  /* the module's compiled code for it */
    /* Host functions: */
    wp_host_fn host;
    void *env;
    wp_functype host_type; /* owned copy; 'type' points here */
    wp_store *store;       /* the owning store (host and wasm functions) */
};

struct wp_memory {
    wp_object obj;
    wp_store *store;
    uint8_t *base;     /* never NULL (even at size 0); may move when the memory grows */
    uint64_t size;     /* bytes accessible = pages * WP_PAGE_SIZE */
    uint32_t pages;
    uint32_t max_pages; /* effective: declared max capped by the store's limit */
    wp_limits limits;   /* as declared */
    size_t reserved;    /* bytes of address space mapped at base */
};

struct wp_table {
    wp_object obj;
    wp_store *store;
    wp_tabletype type; /* limits.min is the initial size */
    uint32_t size;
    uint32_t cap;
    void **elems; /* wp_func * for funcref, host pointer for externref; NULL = null */
};

struct wp_global {
    wp_object obj;
    wp_globaltype type;
    wp_slot value; /* i32 zero-extended, i64, float bits, or a reference */
    wp_store *store;
};

struct wp_instance {
    wp_object obj;
    wp_store *store;
    wp_module *module; /* holds a reference */
    wp_func **funcs;   /* nfuncs: imported ones belong to other instances or the host */
    wp_table **tables;
    wp_memory **mems;
    wp_global **globals;
    wp_memory *mem0;   /* mems[0] or NULL: the interpreter's fast path */
    /* Per element segment: resolved references (count entries), or count 0 once dropped. */
    uint32_t *elem_counts;
    void ***elem_items;
    uint8_t *data_dropped; /* per data segment */
    /* The instance and all the arrays above (and its defined functions and globals) are one
     * allocation of this many bytes from the store's heap. */
    size_t block_size;
};

/* Adds obj to s's list; s frees it with obj->destroy. */
void wp__store_adopt(wp_store *s, wp_object *obj, void (*destroy)(wp_object *));

/* Destroys the objects added to s after 'mark' (a former head of s->objects; NULL: all), for
 * undoing a failed instantiation. */
void wp__store_rollback(wp_store *s, wp_object *mark);

/* The most pages a 32-bit linear memory can have. */
#define WP_MAX_PAGES 65536u

/* Whether [off, off + n) lies inside [0, size), computed without overflow (n = 0 at the very
 * end is inside). The bounds rule of every bulk operation and segment. */
static inline bool wp__range_ok(uint64_t size, uint64_t off, uint64_t n) {
    return off <= size && n <= size - off;
}

/* Grows t by delta elements set to init. Returns the old size, or -1 if it cannot. */
int64_t wp__table_grow(wp_table *t, uint32_t delta, void *init);

/* Bulk operations shared by instantiation and the interpreter (table.init, memory.fill, ...).
 * Each checks the whole range first (in 64-bit arithmetic) and returns false, changing
 * nothing, if any part is out of bounds; n = 0 at the very end is in bounds. Copies handle
 * overlap. 'items' / 'bytes' is the source segment of nitems / nbytes. */
bool wp__table_fill(wp_table *t, uint32_t dst, void *val, uint32_t n);
bool wp__table_copy(wp_table *dst_table, uint32_t dst, const wp_table *src_table, uint32_t src,
                    uint32_t n);
bool wp__table_init(wp_table *t, uint32_t dst, void *const *items, uint32_t nitems, uint32_t src,
                    uint32_t n);
bool wp__memory_fill(wp_memory *m, uint64_t dst, uint8_t val, uint64_t n);
bool wp__memory_copy(wp_memory *m, uint64_t dst, uint64_t src, uint64_t n);
bool wp__memory_init(wp_memory *m, uint64_t dst, const uint8_t *bytes, uint64_t nbytes,
                     uint64_t src, uint64_t n);

/* Converts between wp_val and slot representation. */
wp_slot wp__val_to_slot(wp_val v);
wp_val wp__slot_to_val(wp_slot s, wp_valtype t);

#endif
