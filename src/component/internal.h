/* internal.h: shared inside src/component only: WIT type nodes, decoded components, instances. */
#ifndef WP_COMPONENT_INTERNAL_H
#define WP_COMPONENT_INTERNAL_H

#include <stdatomic.h>

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
    uint32_t res;   /* own/borrow: the resource's number in its component (see ctype.res) */
    bool resource;  /* WIT text: a `resource NAME` declaration (its bare use is own<NAME>) */
    bool borrows;   /* binaries: a borrow somewhere inside (computed once, types are DAGs) */
    bool handles;   /* binaries: an own or borrow somewhere inside (such types are no values) */
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

/* The cases of a variant-like type (variant, option, result; enum: no payloads): how many,
 * and case i's payload type or NULL. */
uint32_t wit__case_count(const wp_wit_type *t);
const wp_wit_type *wit__case_type(const wp_wit_type *t, uint32_t i);

/* The bounds of integer kind k (lo, hi), and whether i is in them; a u64 keeps its bit
 * pattern in an int64, so every i fits a u64. */
void wit__int_range(wp_wit_kind k, int64_t *lo, uint64_t *hi);
bool wit__int_fits(wp_wit_kind k, int64_t i);

/* t in WIT text (as wp_wit_type_print writes it) into buf, cut to fit, for messages. */
void wit__type_name(const wp_wit_type *t, char *buf, size_t size);

/* The spec's discriminant size in bytes for a variant of n cases (1, 2 or 4). */
uint32_t wit__disc_size(uint32_t ncases);

/* The flat types of a variant's payloads, joined position by position (the spec's
 * flatten_variant without the leading discriminant). */
void wit__variant_flat(const wp_wit_type *t, wp_valtype *out, uint32_t cap, uint32_t *n);

/* Computes a node's size, alignment and flat count from its members' (already computed). */
void wit__layout(wit_node *n);

/* ---- Decoded components (binary.c) ------------------------------------------------------ */

/* Index spaces ("sorts") of a component. */
typedef enum csort {
    CS_CORE_FUNC,
    CS_CORE_TABLE,
    CS_CORE_MEMORY,
    CS_CORE_GLOBAL,
    CS_CORE_TYPE,
    CS_CORE_MODULE,
    CS_CORE_INSTANCE,
    CS_FUNC,
    CS_VALUE,
    CS_TYPE,
    CS_COMPONENT,
    CS_INSTANCE,
    CS_COUNT
} csort;

typedef enum ctype_kind {
    CT_VAL,       /* a value type: val */
    CT_FUNC,      /* a function type: func */
    CT_INSTANCE,  /* an instance type: its exports */
    CT_COMPONENT, /* a component type: its imports and exports */
    CT_RESOURCE,  /* a resource type (defined here, imported, or abstract in a type) */
    CT_CORE,      /* a core type (function or module type): unused by the runtime */
} ctype_kind;

typedef struct ctype ctype;

/* A named item of an instance or component type. */
typedef struct cnamed {
    const char *name;
    csort sort;
    const ctype *type; /* NULL for core modules; a value's is its value type (CT_VAL) */
} cnamed;

struct ctype {
    ctype_kind kind;
    const wp_wit_type *val;
    wp_wit_func *func;
    uint32_t nexports;
    cnamed *exports;
    uint32_t nimports;
    cnamed *imports;
    uint32_t res;       /* CT_RESOURCE: number in the root component, unique (0..nres-1) */
    bool local;         /* CT_RESOURCE defined by (resource (rep i32) (dtor f)?) */
    bool has_dtor;
    uint32_t dtor;      /* core func index of the destructor */
    const char *name;   /* CT_RESOURCE: the name it was imported or exported as, or NULL */
};

/* How one item of an index space comes to be; the instance evaluates these in order. */
typedef enum cdef_kind {
    CD_IMPORT,          /* a: import number */
    CD_ALIAS_EXPORT,    /* a: component instance, name */
    CD_ALIAS_CORE,      /* a: core instance, name */
    CD_ALIAS_OUTER,     /* a: outer count, b: index (types, modules, components only) */
    CD_CORE_MODULE,     /* a: module number */
    CD_CORE_INSTANTIATE,/* a: module, args */
    CD_CORE_INLINE,     /* args: exports */
    CD_INSTANTIATE,     /* a: component, args */
    CD_INLINE,          /* args: exports */
    CD_COMPONENT,       /* a: nested component number */
    CD_LIFT,            /* a: core func, b: type, opts */
    CD_LOWER,           /* a: func, opts */
    CD_RES_NEW,         /* a: type */
    CD_RES_DROP,        /* a: type */
    CD_RES_REP,         /* a: type */
    CD_TYPE,            /* type */
    CD_EXPORT,          /* a: sort index re-exported (the export's new index) */
    CD_VALUE,           /* a: value number (into wp_component.values) */
    CD_START_RESULT,    /* a: start number; its result, set when the start runs */
} cdef_kind;

typedef struct carg {
    const char *name;
    csort sort;
    uint32_t index;
} carg;

typedef struct copts {
    uint32_t encoding;
    bool has_memory;
    bool has_realloc;
    bool has_post;
    uint32_t memory;      /* core memory index */
    uint32_t realloc;     /* core func index */
    uint32_t post_return; /* core func index */
} copts;

typedef struct cdef {
    cdef_kind kind;
    uint32_t a;
    uint32_t b;
    const char *name;
    uint32_t nargs;
    carg *args;
    copts opts;
    const ctype *type; /* CD_TYPE, and the type of imported items; a value's (CT_VAL) */
    uint32_t offset;   /* in the binary, for errors */
    bool used;         /* values: used already (each value is used exactly once) */
} cdef;

typedef struct cimport {
    const char *name;
    csort sort;
    const ctype *type;
} cimport;

typedef struct cexport {
    const char *name;
    csort sort;
    uint32_t index;
} cexport;

typedef struct cscope cscope;

/* A type index space: a component's, or an instance or component type's (whose outer
 * aliases reach the enclosing spaces). A component's knows its scope (its values are
 * definitions there); a type's lists the types of the values it declares. */
typedef struct tscope tscope;
struct tscope {
    const ctype **types;
    uint32_t n;
    uint32_t cap;
    tscope *parent;
    const cscope *sc;    /* a component's, else NULL */
    const ctype **vals;  /* a type's declared values (CT_VAL), for (eq i) bounds */
    uint32_t nvals;
    uint32_t vals_cap;
};

/* A start definition: function func of the scope runs once the first 'at' definitions of its
 * order are made, with the values args (each used up by it); its result, if it has one, is
 * value 'result' (a CD_START_RESULT definition, the one at 'at'). */
typedef struct cstart {
    uint32_t func;
    uint32_t at;
    uint32_t nargs;
    uint32_t *args;
    bool has_result;
    uint32_t result;
} cstart;

/* One component scope: the root or a nested component definition. */
struct cscope {
    cscope *parent;
    uint32_t count[CS_COUNT]; /* items in each index space */
    cdef *defs[CS_COUNT];     /* definitions per index space, in index order */
    uint32_t cap[CS_COUNT];
    tscope ts;                /* the type index space, resolved (types are static) */
    cimport *imports;
    uint32_t nimports;
    uint32_t imports_cap;
    cexport *exports;
    uint32_t nexports;
    uint32_t exports_cap;
    uint32_t *modules;        /* module numbers (into wp_component.modules) by core module */
    cscope **components;      /* nested scopes */
    uint32_t ncomponents;
    uint32_t components_cap;
    /* The order definitions were made across index spaces: (sort, index) pairs. */
    carg *order;
    uint32_t norder;
    uint32_t order_cap;
    cstart *starts; /* start functions, in the order they appear */
    uint32_t nstarts;
    uint32_t starts_cap;
};

struct wp_component {
    atomic_int refs;
    wp_wit *arena; /* types, names and scopes live here */
    cscope *root;
    wp_module **modules;
    uint32_t nmodules;
    uint32_t modules_cap;
    uint32_t *instances; /* by module: core instances one instantiation makes (binary.c) */
    uint32_t nres; /* resource types, numbered across all scopes */
    const char **export_funcs; /* "name" and "iface#name" */
    uint32_t nexport_funcs;
    wp_value *values; /* value definitions (section 12), owned: freed with the component */
    uint32_t nvalues;
    uint32_t values_cap;
};

/* Growable arrays in the component's arena (old contents copied; never freed one by one). */
bool comp__grow(wp_wit *arena, void **items, uint32_t *cap, uint32_t need, size_t elem);

/* ---- Values (value.c) ---------------------------------------------------------------------- */

#define COMP_MAX_VALUE_NODES (1u << 18) /* wp_values made for one component's definitions */

struct wp_reader;

/* Reads val(t), the binary form of a value of type t (Binary.md "Value Definitions"), into
 * *out (owned by the caller; nil on failure), in the shape lifting gives an embedder (see
 * wp_cabi_lift_results). *nodes counts the values made, up to COMP_MAX_VALUE_NODES.
 * Fails: WP_ERR_INVALID (*why says why; the reader stops where it went wrong), WP_ERR_NOMEM. */
wp_status comp__read_value(struct wp_reader *rd, const wp_wit_type *t, uint32_t *nodes,
                           wp_value *out, const char **why);

/* Checks that v has exactly the shape comp__read_value gives a value of type t (an embedder's
 * value for a value import): no strings parsed for numbers, a case without payload type true
 * or nil. Fails: WP_ERR_INVALID, err says where ("field 'port': expected u16, got string"). */
wp_status comp__check_value(const wp_wit_type *t, const wp_value *v, wp_err *err);

/* ---- Linking (link.c) ----------------------------------------------------------------------- */

typedef struct link_entry {
    const wp_comp_host_iface *iface;
    void *ctx;
} link_entry;

/* A value the embedder gives for a value import. */
typedef struct link_value {
    char *name;
    wp_value v;
} link_value;

struct wp_comp_linker {
    link_entry *entries;
    uint32_t n;
    uint32_t cap;
    link_value *values;
    uint32_t nvalues;
    uint32_t values_cap;
};

/* The linker's interface for an import name, or NULL. */
const link_entry *link__find(const wp_comp_linker *l, const char *import_name);

/* The linker's value for a value import name (exactly that name), or NULL. l may be NULL. */
const wp_value *link__value(const wp_comp_linker *l, const char *import_name);

/* True if a host interface's version satisfies an import's (semver-compatible). */
bool link__version_ok(const char *have, const char *want);

/* ---- Instances (instance.c, call.c, resource.c) -------------------------------------------- */

typedef struct rcomp rcomp;

/* A resource type at run time. Resource types are generative: each evaluation of a
 * (resource (rep i32) ...) definition, in each instance of its component, makes a new one, and
 * handles carry a pointer to theirs (two types are the same only if they are the same object).
 * Imports and aliases of a type share the object. */
typedef struct rtype {
    const char *name;
    const link_entry *host;           /* a host interface's resource, else NULL */
    const wp_comp_host_resource *hres;
    wp_func *dtor;                    /* a guest resource's destructor, or NULL */
    rcomp *definer;                   /* local: the instance whose definition made it */
    bool local;                       /* defined by a component (here or in a nested one) */
    bool bound;
} rtype;

/* What a static resource number (ctype.res, wit_node.res) names in one instance: the binary
 * numbers each definition once, but every instance of a nested component makes its own. */
typedef struct rbind {
    uint32_t res;
    rtype *rt;
} rbind;

/* A component-level function at run time. */
typedef enum rfunc_kind { RF_HOST, RF_LIFTED, RF_STUB } rfunc_kind;

typedef struct rfunc {
    rfunc_kind kind;
    const char *name;             /* for messages: "wasi:cli/stdout@0.2.3#get-stdout" */
    const wp_wit_func *type;      /* named as the function */
    const link_entry *host;       /* RF_HOST */
    const wp_comp_host_func *hfn; /* RF_HOST */
    wp_func *core;                /* RF_LIFTED */
    rcomp *owner;                 /* RF_LIFTED: the instance whose core function it lifts; every
                                   * kind: the instance its type's resources are resolved in */
    wp_memory *memory;
    wp_func *realloc;
    wp_func *post_return;
    uint32_t encoding;
} rfunc;

/* A core instance: a real one, or a bag of exports. */
typedef struct rcore {
    wp_instance *inst;
    uint32_t n;
    const char **names;
    wp_extern *items;
} rcore;

/* A value of any sort at run time. */
typedef struct ritem {
    csort sort;
    union {
        wp_extern core;            /* core func, table, memory, global */
        wp_module *module;
        rcore *core_inst;
        rfunc *func;
        struct rinst *inst;
        const ctype *type;
        cscope *component;
        const wp_value *value; /* the component's, or one of the instance's (rvalue) */
    } of;
} ritem;

/* A value made while instantiating (a start function's result), owned by the instance. */
typedef struct rvalue {
    wp_value v;
    struct rvalue *next;
} rvalue;

typedef struct rinst {
    const link_entry *host;  /* an imported instance linked to a host interface */
    const char *name;        /* its import name */
    bool missing;            /* nothing provides it: every function is a stub */
    uint32_t n;              /* exports (inline and instantiated instances) */
    const char **names;
    ritem *items;
    rcomp *rc;               /* an instantiated component's instance (its types), else NULL */
} rinst;

#define LEND_MAX 16u /* borrows of one call that are tracked */

/* A handle in an instance's table. */
typedef struct rhandle {
    bool used;
    bool own;
    bool host_held; /* the root's table only: lifted out to the embedder (export results) */
    const rtype *rt; /* its resource type */
    int64_t rep;
    uint32_t lends; /* borrows of it outstanding (calls it was lent to) */
    uint32_t scope; /* a borrow handle made for a call: that call's scope id (0: none) */
} rhandle;

/* A component instance at run time, the root or a nested one: its handle table. Each has its
 * own (the Component Model's rule); handles cross between tables only by lifting and lowering,
 * and handle numbers of two tables are unrelated. */
struct rcomp {
    rhandle *handles;
    uint32_t nhandles;
    uint32_t handles_cap;
    rbind *binds; /* the resource types it defined, imported or aliased (none: NULL) */
    uint32_t nbinds;
    uint32_t binds_cap;
    rcomp *parent;   /* the instance whose definition made it; NULL for the root */
    uint32_t id;     /* 0 for the root, then in the order instances are made (for messages) */
    uint32_t entered; /* the call epoch in which it was entered and not left yet (0: none) */
    rcomp *next;     /* every instance of the wp_comp_inst, for freeing */
};

/* The borrows of one call: own handles of the caller's table lent to it (their lends are given
 * back when it ends) and the borrow handles made for it in the callee's table (the callee must
 * drop each before it returns). */
typedef struct bscope {
    rcomp *lender;
    uint32_t lent[LEND_MAX]; /* the first LEND_MAX are tracked */
    uint32_t nlent;
    rcomp *borrower;
    uint32_t made[LEND_MAX];
    uint32_t nmade;
    uint32_t id; /* the borrow handles made for the call carry it */
} bscope;

typedef struct parked parked;

struct wp_comp_inst {
    const wp_component *comp;
    wp_store *store;
    wp_exec *exec;  /* for start functions */
    wp_exec *aux;   /* for realloc after a parked call completes */
    rtype *rstatic; /* comp->nres: the types of the root's imports (host resources) */
    rtype **rtypes; /* comp->nres: what each resource number names last (the root's types) */
    uint32_t nrcomps; /* instances made (ids) */
    uint32_t epoch;   /* the embedder's current entry into the component (entered flags) */
    wp_exec *call_x;  /* the exec of the embedder's call (in progress while it is busy) */
    rcomp *root;    /* the root instance; its table holds the embedder's handles */
    rcomp *rcomps;  /* every instance (root and nested), linked by next */
    uint32_t scopes; /* the last borrow scope id given */
    rinst *exports;           /* the root's exports */
    wp_wit *mem;              /* arena: everything made at run time */
    parked *park;             /* the parked host call, or NULL */
    /* The call in progress from the embedder. */
    const rfunc *calling;
    bscope call; /* the embedder's call's borrows */
    uint64_t evals; /* definitions evaluated while instantiating (bounded) */
    rvalue *values; /* made while instantiating, freed with the instance */
};

/* Run-time allocation owned by an instance, freed with it. */
void *comp__alloc(wp_comp_inst *ci, size_t size);

/* Handle conversions for the Canonical ABI (resource.c). cx->handles is a handle_cx. */
typedef struct handle_cx {
    wp_comp_inst *ci;
    rcomp *tab;     /* the table of the core code's side */
    const rcomp *types; /* the instance the function's type belongs to (its resources) */
    bool host_reps; /* the other side deals in representations (a host function, or the other
                     * component of an internal call); else it is the embedder, whose handles
                     * are indices of the root's table */
    bscope *scope;  /* the call's borrows; NULL: no borrow can be lowered (a host's result) */
} handle_cx;

/* A new borrow scope for a call from table lender into table borrower (either may be NULL). */
void comp__scope_begin(wp_comp_inst *ci, bscope *sc, rcomp *lender, rcomp *borrower);

/* The first borrow handle made for the call that its callee still holds (it must drop each
 * before it returns), or 0 if none. */
uint32_t comp__scope_held(const bscope *sc);

/* The call is over: its borrow handles still held go (the call trapped), its lends are given
 * back. Ending an ended or zeroed scope does nothing. */
void comp__scope_end(bscope *sc);

wp_status comp__lower_handle(wp_cabi *cx, const wp_wit_type *t, const wp_value *v, uint32_t *out,
                             wp_err *err);
wp_status comp__lift_handle(wp_cabi *cx, const wp_wit_type *t, uint32_t h, wp_value *out,
                            wp_err *err);

/* resource.new / resource.drop / resource.rep as core functions for resource type rt, acting
 * on table tab (the instance that made the canon definition). */
wp_status comp__resource_func(wp_comp_inst *ci, rcomp *tab, cdef_kind kind, rtype *rt,
                              wp_func **out, wp_err *err);

/* A new instance's empty table, made by parent (NULL: the root), linked into ci's list (NULL
 * when out of memory). */
rcomp *comp__rcomp_new(wp_comp_inst *ci, rcomp *parent);

/* Records that resource number res names rt in instance rc (it defined, imported or aliased
 * it); false when out of memory. */
bool comp__bind(wp_comp_inst *ci, rcomp *rc, uint32_t res, rtype *rt);

/* The type resource number res names in instance rc: its own binding, else its parents', else
 * the last one made. */
rtype *comp__rtype(const wp_comp_inst *ci, const rcomp *rc, uint32_t res);

/* Reentrance (CanonicalABI.md, may_enter_from): entering instance callee from caller (NULL:
 * the embedder) enters callee and its ancestors that are not caller's or its ancestors; one of
 * those already entered (on the call stack) is a trap. comp__leave undoes a comp__enter. */
wp_status comp__enter(wp_comp_inst *ci, rcomp *callee, const rcomp *caller, wp_err *err);
void comp__leave(rcomp *callee, const rcomp *caller);

/* A new entry of the embedder: instances a trapped call left entered count as entered no
 * more. */
void comp__new_epoch(wp_comp_inst *ci);

/* Whether a call of the embedder is in progress (its exec busy: running, out of budget or
 * waiting on a parked host call); the embedder may not enter the component then. */
bool comp__busy(const wp_comp_inst *ci);

/* Drops every handle left in every table (host resources' drops run; guest code does not). */
void comp__handles_free(wp_comp_inst *ci);

/* A core function of the instance with table tab that calls f (canon lower) with the given
 * options. */
wp_status comp__lower_func(wp_comp_inst *ci, rcomp *tab, const rfunc *f, const rfunc *opts,
                           wp_func **out, wp_err *err);

/* Parked calls: free one (running its cancel). */
void comp__park_free(wp_comp_inst *ci);

/* Lifts a host import's parameters from the core arguments (a host function's side). */
wp_status cabi__lift_params(wp_cabi *cx, const wp_wit_func *f, const wp_val *flat, uint32_t nflat,
                            wp_value *out, wp_err *err);

/* Lowers a host import's result into its core results, or to memory at the return pointer
 * (the last core argument) when it flattens to more than one value. */
wp_status cabi__lower_result(wp_cabi *cx, const wp_wit_func *f, const wp_value *v,
                             const wp_val *args, uint32_t nargs, wp_val *results, wp_err *err);

/* The core type of a lowered function: params (room for 17) and results (room for 1). */
void cabi__lower_core_type(const wp_wit_func *f, wp_valtype *params, uint32_t *nparams,
                           wp_valtype *results, uint32_t *nresults);

/* Calls a lifted function with values, from inside a host call (component-internal calls):
 * own handles among the values are representations, moved into f's table and out of it with
 * its results; sc is the call's borrow scope (its lends already made by the caller). */
wp_status cabi__call_lifted(wp_host_call *call, wp_comp_inst *ci, const rfunc *f,
                            const wp_value *args, uint32_t nargs, bscope *sc, wp_value *out,
                            wp_err *err);

#endif
