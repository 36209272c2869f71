/* binary.c: component binaries to wp_component: sections, index spaces, types, validation. */
#include <inttypes.h>
#include <stdatomic.h>
#include <string.h>

#include "../base/compiler.h"
#include "../wasm/reader.h"
#include "internal.h"

#define MAX_NESTING 16u    /* nested components and types inside each other */
#define MAX_ITEMS 100000u  /* items of one vector */

typedef struct dec {
    wp_component *c;
    wp_reader rd;
    wp_err *err;
    const wit_node *prims[0x80]; /* primitive value types by their code */
    uint32_t depth;
    uint32_t value_nodes; /* wp_values made for value definitions (bounded) */
} dec;

static wp_status fail(dec *d, wp_status kind, const char *fmt, const char *what) {
    return wp_err_set(d->err, kind, "at 0x%zx: %s%s", rd_offset(&d->rd), fmt, what ? what : "");
}

static wp_status bad(dec *d, const char *why) { return fail(d, WP_ERR_INVALID, why, NULL); }

static wp_status nomem(dec *d) { return wp_err_set(d->err, WP_ERR_NOMEM, "out of memory"); }

static void *alloc(dec *d, size_t size) { return wit__alloc(d->c->arena, size); }

bool comp__grow(wp_wit *arena, void **items, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap)
        return true;
    uint32_t ncap = *cap ? *cap * 2 : 8;
    while (ncap < need)
        ncap *= 2;
    void *n = wit__alloc(arena, (size_t)ncap * elem);
    if (!n)
        return false;
    if (*items)
        memcpy(n, *items, (size_t)*cap * elem);
    *items = n;
    *cap = ncap;
    return true;
}

#define GROW(d, arr, capv, need) comp__grow((d)->c->arena, (void **)&(arr), &(capv), (need), sizeof *(arr))

/* ---- Primitive reads --------------------------------------------------------------------- */

static wp_status u32(dec *d, uint32_t *out) {
    uint64_t v;
    if (!rd_uleb(&d->rd, 32, &v))
        return bad(d, d->rd.why);
    *out = (uint32_t)v;
    return WP_OK;
}

static wp_status byte(dec *d, uint8_t *out) {
    return rd_u8(&d->rd, out) ? WP_OK : bad(d, d->rd.why);
}

static wp_status count(dec *d, uint32_t *out) {
    wp_status st = u32(d, out);
    if (st == WP_OK && (*out > MAX_ITEMS || *out > rd_remaining(&d->rd)))
        return bad(d, "vector length too large");
    return st;
}

static wp_status name(dec *d, const char **out) {
    uint32_t len = 0;
    const uint8_t *p;
    wp_status st = u32(d, &len);
    if (st != WP_OK)
        return st;
    if (!rd_bytes(&d->rd, len, &p))
        return bad(d, "name runs past the end");
    char *s = alloc(d, (size_t)len + 1);
    if (!s)
        return nomem(d);
    memcpy(s, p, len);
    if (memchr(s, 0, len))
        return bad(d, "name contains a NUL byte");
    if (!wp_utf8_valid(p, len))
        return bad(d, "malformed UTF-8 encoding");
    *out = s;
    return WP_OK;
}

/* nameattributes: 0x00/0x01 name, or 0x02 name and attributes (ignored). */
static wp_status extern_name(dec *d, const char **out) {
    uint8_t kind = 0;
    wp_status st = byte(d, &kind);
    if (st == WP_OK && kind > 0x02)
        return bad(d, "malformed name kind");
    if (st == WP_OK)
        st = name(d, out);
    /* No import or export name of the grammar has a '#': it separates an interface from its
     * function where the embedder names one ("wasi:cli/run#run"). */
    if (st == WP_OK && strchr(*out, '#'))
        return fail(d, WP_ERR_INVALID, "'#' in an import or export name: ", *out);
    if (st != WP_OK || kind != 0x02)
        return st;
    uint32_t n = 0;
    if ((st = count(d, &n)) != WP_OK)
        return st;
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        uint8_t k = 0;
        const char *ignored = NULL;
        if ((st = byte(d, &k)) == WP_OK && k > 0x02)
            return bad(d, "malformed name attribute");
        if (st == WP_OK)
            st = name(d, &ignored);
    }
    return st;
}

/* ---- Index spaces ------------------------------------------------------------------------ */

static const char *const SORT_NAMES[CS_COUNT] = {
    "core func", "core table", "core memory", "core global", "core type",  "core module",
    "core instance", "func",   "value",       "type",        "component", "instance"};

static wp_status core_sort(dec *d, csort *out) {
    uint8_t b = 0;
    wp_status st = byte(d, &b);
    if (st != WP_OK)
        return st;
    switch (b) {
    case 0x00: *out = CS_CORE_FUNC; return WP_OK;
    case 0x01: *out = CS_CORE_TABLE; return WP_OK;
    case 0x02: *out = CS_CORE_MEMORY; return WP_OK;
    case 0x03: *out = CS_CORE_GLOBAL; return WP_OK;
    case 0x10: *out = CS_CORE_TYPE; return WP_OK;
    case 0x11: *out = CS_CORE_MODULE; return WP_OK;
    case 0x12: *out = CS_CORE_INSTANCE; return WP_OK;
    case 0x04: return fail(d, WP_ERR_UNSUPPORTED, "exception tags are not supported", NULL);
    default: return bad(d, "malformed core sort");
    }
}

static wp_status sort(dec *d, csort *out) {
    uint8_t b = 0;
    wp_status st = byte(d, &b);
    if (st != WP_OK)
        return st;
    switch (b) {
    case 0x00: return core_sort(d, out);
    case 0x01: *out = CS_FUNC; return WP_OK;
    case 0x02: *out = CS_VALUE; return WP_OK;
    case 0x03: *out = CS_TYPE; return WP_OK;
    case 0x04: *out = CS_COMPONENT; return WP_OK;
    case 0x05: *out = CS_INSTANCE; return WP_OK;
    default: return bad(d, "malformed sort");
    }
}

static wp_status check_index(dec *d, const cscope *sc, csort s, uint32_t i) {
    if (i >= sc->count[s])
        return fail(d, WP_ERR_INVALID, "unknown ", SORT_NAMES[s]);
    return WP_OK;
}

/* An index of a definition made before the one being read, which is already counted in its
 * own sort 'self' (an instance cannot be its own argument or export). */
static wp_status check_before(dec *d, const cscope *sc, csort s, uint32_t i, csort self) {
    if ((uint64_t)i + (s == self) >= sc->count[s])
        return fail(d, WP_ERR_INVALID, "unknown ", SORT_NAMES[s]);
    return WP_OK;
}

static wp_status sortidx(dec *d, const cscope *sc, bool core, csort self, carg *out) {
    wp_status st = core ? core_sort(d, &out->sort) : sort(d, &out->sort);
    if (st == WP_OK)
        st = u32(d, &out->index);
    if (st == WP_OK)
        st = check_before(d, sc, out->sort, out->index, self);
    return st;
}

/* Appends a definition to an index space; *out points at it until the next add. */
static wp_status add_def(dec *d, cscope *sc, csort s, cdef_kind kind, cdef **out) {
    /* values are few; the checks that each is used once are linear scans */
    if (s == CS_VALUE && sc->count[s] >= WIT_MAX_ITEMS)
        return bad(d, "too many values");
    if (!GROW(d, sc->defs[s], sc->cap[s], sc->count[s] + 1) ||
        !GROW(d, sc->order, sc->order_cap, sc->norder + 1))
        return nomem(d);
    cdef *def = &sc->defs[s][sc->count[s]];
    memset(def, 0, sizeof *def);
    def->kind = kind;
    def->offset = (uint32_t)rd_offset(&d->rd);
    sc->order[sc->norder++] = (carg){.sort = s, .index = sc->count[s]++};
    *out = def;
    return WP_OK;
}

static wp_status push_type(dec *d, tscope *ts, const ctype *t) {
    if (!GROW(d, ts->types, ts->cap, ts->n + 1))
        return nomem(d);
    ts->types[ts->n++] = t;
    return WP_OK;
}

static wp_status type_at(dec *d, const tscope *ts, uint32_t i, const ctype **out) {
    if (i >= ts->n)
        return bad(d, "unknown type");
    *out = ts->types[i];
    return WP_OK;
}

/* ---- Value types ------------------------------------------------------------------------- */

static const wp_wit_kind PRIM_KINDS[] = {
    [0x7f] = WP_WIT_BOOL, [0x7e] = WP_WIT_S8,  [0x7d] = WP_WIT_U8,  [0x7c] = WP_WIT_S16,
    [0x7b] = WP_WIT_U16,  [0x7a] = WP_WIT_S32, [0x79] = WP_WIT_U32, [0x78] = WP_WIT_S64,
    [0x77] = WP_WIT_U64,  [0x76] = WP_WIT_F32, [0x75] = WP_WIT_F64, [0x74] = WP_WIT_CHAR,
    [0x73] = WP_WIT_STRING};

static wp_status prim(dec *d, uint8_t code, const wp_wit_type **out) {
    if (code < 0x73 || code > 0x7f)
        return code == 0x64 ? fail(d, WP_ERR_UNSUPPORTED, "error-context is not supported", NULL)
                            : bad(d, "malformed value type");
    if (!d->prims[code]) {
        wit_node *n = alloc(d, sizeof *n);
        if (!n)
            return nomem(d);
        n->t.kind = PRIM_KINDS[code];
        wit__layout(n);
        d->prims[code] = n;
    }
    *out = &d->prims[code]->t;
    return WP_OK;
}

/* valtype: a type index (to a value type) or a primitive. */
static wp_status valtype(dec *d, const tscope *ts, const wp_wit_type **out) {
    int64_t v = 0;
    if (!rd_sleb(&d->rd, 33, &v))
        return bad(d, d->rd.why);
    if (v < 0)
        return v >= -64 ? prim(d, (uint8_t)(0x80 + v), out) : bad(d, "malformed value type");
    const ctype *t = NULL;
    wp_status st = type_at(d, ts, (uint32_t)v, &t);
    if (st == WP_OK && t->kind != CT_VAL)
        return bad(d, "type index is not a value type");
    if (st == WP_OK)
        *out = t->val;
    return st;
}

static wp_status opt_valtype(dec *d, const tscope *ts, const wp_wit_type **out) {
    uint8_t has = 0;
    wp_status st = byte(d, &has);
    *out = NULL;
    if (st == WP_OK && has > 1)
        return bad(d, "malformed optional type");
    return st == WP_OK && has ? valtype(d, ts, out) : st;
}

/* Fields: labelled (record, variant cases: typed or not), bare labels, or bare types. */
typedef enum fields_kind { F_RECORD, F_PARAMS, F_CASES, F_LABELS, F_TYPES } fields_kind;

static wp_status field(dec *d, const tscope *ts, fields_kind k, wp_wit_field *f) {
    wp_status st = k == F_TYPES ? WP_OK : name(d, &f->name);
    if (st != WP_OK)
        return st;
    if (k == F_RECORD || k == F_PARAMS || k == F_TYPES)
        return valtype(d, ts, &f->type);
    if (k == F_CASES) {
        uint8_t refines = 0;
        if ((st = opt_valtype(d, ts, &f->type)) == WP_OK && (st = byte(d, &refines)) == WP_OK &&
            refines != 0)
            return fail(d, WP_ERR_UNSUPPORTED, "variant case refinements are not supported", NULL);
    }
    return st;
}

static wp_status fields(dec *d, const tscope *ts, fields_kind k, wit_node *n) {
    uint32_t cnt = 0;
    wp_status st = count(d, &cnt);
    if (st == WP_OK && cnt > WIT_MAX_ITEMS)
        return bad(d, "too many members");
    if (st == WP_OK && cnt == 0 && k != F_PARAMS)
        return bad(d, "a record, variant, tuple, flags or enum needs at least one member");
    if (st == WP_OK && k == F_LABELS && n->t.kind == WP_WIT_FLAGS && cnt > 32)
        return bad(d, "flags have at most 32 labels");
    if (st != WP_OK)
        return st;
    wp_wit_field *fs = alloc(d, cnt * sizeof *fs);
    if (!fs && cnt)
        return nomem(d);
    for (uint32_t i = 0; i < cnt && st == WP_OK; i++)
        st = field(d, ts, k, &fs[i]);
    for (uint32_t i = 0; st == WP_OK && k != F_TYPES && i < cnt; i++)
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(fs[i].name, fs[j].name) == 0)
                return fail(d, WP_ERR_INVALID, "duplicate label ", fs[i].name);
    n->t.nfields = cnt;
    n->t.fields = fs;
    return st;
}

static wp_status handle_type(dec *d, const tscope *ts, wit_node *n) {
    uint32_t i = 0;
    const ctype *r = NULL;
    wp_status st = u32(d, &i);
    if (st == WP_OK)
        st = type_at(d, ts, i, &r);
    if (st == WP_OK && r->kind != CT_RESOURCE)
        return bad(d, "own and borrow need a resource type");
    if (st == WP_OK) {
        n->res = r->res;
        n->t.name = r->name;
    }
    return st;
}

static bool borrows(const wp_wit_type *t) { return t && wit__node(t)->borrows; }

/* Whether a new node holds a borrow: its members' flags are already known. */
static bool any_borrow(const wit_node *n) {
    if (n->t.kind == WP_WIT_BORROW || borrows(n->t.elem) || borrows(n->t.ok) ||
        borrows(n->t.err))
        return true;
    for (uint32_t i = 0; n->t.kind != WP_WIT_ENUM && n->t.kind != WP_WIT_FLAGS &&
                         i < n->t.nfields; i++)
        if (borrows(n->t.fields[i].type))
            return true;
    return false;
}

static bool handles(const wp_wit_type *t) { return t && wit__node(t)->handles; }

/* Whether a new node holds an own or borrow handle (such a type has no values). */
static bool any_handle(const wit_node *n) {
    if (n->t.kind == WP_WIT_OWN || n->t.kind == WP_WIT_BORROW || handles(n->t.elem) ||
        handles(n->t.ok) || handles(n->t.err))
        return true;
    for (uint32_t i = 0; n->t.kind != WP_WIT_ENUM && n->t.kind != WP_WIT_FLAGS &&
                         i < n->t.nfields; i++)
        if (handles(n->t.fields[i].type))
            return true;
    return false;
}

static wp_status defvaltype(dec *d, const tscope *ts, uint8_t code, const wp_wit_type **out) {
    if (code >= 0x73 || code == 0x64)
        return prim(d, code, out);
    wit_node *n = alloc(d, sizeof *n);
    if (!n)
        return nomem(d);
    wp_status st;
    switch (code) {
    case 0x72: n->t.kind = WP_WIT_RECORD; st = fields(d, ts, F_RECORD, n); break;
    case 0x71: n->t.kind = WP_WIT_VARIANT; st = fields(d, ts, F_CASES, n); break;
    case 0x70: n->t.kind = WP_WIT_LIST; st = valtype(d, ts, &n->t.elem); break;
    case 0x6f: n->t.kind = WP_WIT_TUPLE; st = fields(d, ts, F_TYPES, n); break;
    case 0x6e: n->t.kind = WP_WIT_FLAGS; st = fields(d, ts, F_LABELS, n); break;
    case 0x6d: n->t.kind = WP_WIT_ENUM; st = fields(d, ts, F_LABELS, n); break;
    case 0x6b: n->t.kind = WP_WIT_OPTION; st = valtype(d, ts, &n->t.elem); break;
    case 0x6a:
        n->t.kind = WP_WIT_RESULT;
        st = opt_valtype(d, ts, &n->t.ok);
        if (st == WP_OK)
            st = opt_valtype(d, ts, &n->t.err);
        break;
    case 0x69: n->t.kind = WP_WIT_OWN; st = handle_type(d, ts, n); break;
    case 0x68: n->t.kind = WP_WIT_BORROW; st = handle_type(d, ts, n); break;
    case 0x67: case 0x66: case 0x65: case 0x63:
        return fail(d, WP_ERR_UNSUPPORTED,
                    "fixed-length lists, streams, futures and maps are not supported", NULL);
    default:
        return bad(d, "malformed type");
    }
    if (st != WP_OK)
        return st;
    wit__layout(n);
    n->borrows = any_borrow(n);
    n->handles = any_handle(n);
    if (n->size > WIT_MAX_ELEM_SIZE)
        return bad(d, "type too large");
    *out = &n->t;
    return WP_OK;
}

/* ---- Function, instance, component and resource types ------------------------------------ */


static wp_status functype(dec *d, const tscope *ts, ctype *t) {
    wit_node params = {0};
    wp_status st = fields(d, ts, F_PARAMS, &params);
    uint8_t kind = 0;
    const wp_wit_type *result = NULL;
    if (st == WP_OK)
        st = byte(d, &kind);
    if (st == WP_OK && kind == 0x00)
        st = valtype(d, ts, &result);
    else if (st == WP_OK && kind == 0x01) {
        uint8_t zero = 0;
        if ((st = byte(d, &zero)) == WP_OK && zero != 0)
            return fail(d, WP_ERR_UNSUPPORTED, "named results are not supported", NULL);
    } else if (st == WP_OK)
        return bad(d, "malformed result list");
    if (st == WP_OK && borrows(result))
        return bad(d, "a function result may not contain a borrow");
    if (st != WP_OK)
        return st;
    wp_wit_func *f = alloc(d, sizeof *f);
    if (!f)
        return nomem(d);
    f->name = "";
    f->nparams = params.t.nfields;
    f->params = params.t.fields;
    f->result = result;
    t->kind = CT_FUNC;
    t->func = f;
    return WP_OK;
}

static wp_status new_resource(dec *d, ctype **out, const char *rname) {
    ctype *r = alloc(d, sizeof *r);
    if (!r)
        return nomem(d);
    r->kind = CT_RESOURCE;
    r->res = d->c->nres++;
    r->name = rname;
    *out = r;
    return WP_OK;
}

static wp_status deftype(dec *d, tscope *ts, const ctype **out);
static wp_status core_type(dec *d, bool in_module);
static wp_status alias_into(dec *d, cscope *sc, tscope *ts, csort *sort_out);

static wp_status add_named(dec *d, cnamed **arr, uint32_t *n, uint32_t *cap, const char *nm,
                           csort s, const ctype *t) {
    if (*n >= WIT_MAX_ITEMS) /* names are checked for duplicates: keep that quadratic cheap */
        return bad(d, "too many imports or exports");
    for (uint32_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i].name, nm) == 0)
            return fail(d, WP_ERR_INVALID, "duplicate name ", nm);
    if (!GROW(d, *arr, *cap, *n + 1))
        return nomem(d);
    (*arr)[(*n)++] = (cnamed){.name = nm, .sort = s, .type = t};
    return WP_OK;
}

/* vt as the type of a value: it may hold no own or borrow handle. */
static wp_status value_type_of(dec *d, const wp_wit_type *vt, const ctype **out) {
    if (handles(vt))
        return bad(d, "own and borrow handles cannot be values");
    ctype *t = alloc(d, sizeof *t);
    if (!t)
        return nomem(d);
    t->kind = CT_VAL;
    t->val = vt;
    *out = t;
    return WP_OK;
}

/* valtype, as the type of a value. */
static wp_status value_type(dec *d, const tscope *ts, const ctype **out) {
    const wp_wit_type *vt = NULL;
    wp_status st = valtype(d, ts, &vt);
    return st == WP_OK ? value_type_of(d, vt, out) : st;
}

/* The type of value i of a component scope, or of values declared so far in a type. */
static wp_status value_at(dec *d, const tscope *ts, uint32_t i, const ctype **out) {
    if (ts->sc ? i >= ts->sc->count[CS_VALUE] : i >= ts->nvals)
        return fail(d, WP_ERR_INVALID, "unknown ", SORT_NAMES[CS_VALUE]);
    *out = ts->sc ? ts->sc->defs[CS_VALUE][i].type : ts->vals[i];
    return WP_OK;
}

/* valuebound: (eq i), the type of an earlier value (which it does not use up), or a type. */
static wp_status valuebound(dec *d, const tscope *ts, const ctype **t) {
    uint8_t b = 0;
    uint32_t i = 0;
    wp_status st = byte(d, &b);
    if (st != WP_OK)
        return st;
    if (b == 0x00)
        return (st = u32(d, &i)) == WP_OK ? value_at(d, ts, i, t) : st;
    if (b != 0x01)
        return bad(d, "malformed value bound");
    return value_type(d, ts, t);
}

/* externtype: what an import or export declares. A type bound adds to ts. */
static wp_status externtype(dec *d, tscope *ts, const char *nm, csort *s, const ctype **t) {
    uint8_t kind = 0;
    uint32_t i = 0;
    wp_status st = byte(d, &kind);
    if (st != WP_OK)
        return st;
    *t = NULL;
    switch (kind) {
    case 0x00:
        *s = CS_CORE_MODULE;
        if ((st = byte(d, &kind)) == WP_OK && kind != 0x11)
            return bad(d, "malformed core module type");
        return st == WP_OK ? u32(d, &i) : st;
    case 0x01: case 0x04: case 0x05: {
        *s = kind == 0x01 ? CS_FUNC : kind == 0x04 ? CS_COMPONENT : CS_INSTANCE;
        ctype_kind want = kind == 0x01 ? CT_FUNC : kind == 0x04 ? CT_COMPONENT : CT_INSTANCE;
        if ((st = u32(d, &i)) == WP_OK && (st = type_at(d, ts, i, t)) == WP_OK &&
            (*t)->kind != want)
            return fail(d, WP_ERR_INVALID, "type does not match the sort ", SORT_NAMES[*s]);
        return st;
    }
    case 0x03: {
        *s = CS_TYPE;
        uint8_t bound = 0;
        if ((st = byte(d, &bound)) != WP_OK)
            return st;
        if (bound == 0x00) {
            if ((st = u32(d, &i)) == WP_OK)
                st = type_at(d, ts, i, t);
        } else if (bound == 0x01) {
            ctype *r = NULL;
            st = new_resource(d, &r, nm);
            *t = r;
        } else {
            return bad(d, "malformed type bound");
        }
        return st == WP_OK ? push_type(d, ts, *t) : st;
    }
    case 0x02:
        *s = CS_VALUE;
        return valuebound(d, ts, t);
    default:
        return bad(d, "malformed extern type");
    }
}

/* A record, variant, enum or flags type takes the name it is first exported as, for
 * messages ("expected point, got integer"). */
static void name_type(const ctype *t, const char *nm) {
    if (!t || t->kind != CT_VAL)
        return;
    wit_node *n = (wit_node *)wit__node(t->val); /* the component's own arena */
    wp_wit_kind k = n->t.kind;
    if (!n->t.name && (k == WP_WIT_RECORD || k == WP_WIT_VARIANT || k == WP_WIT_ENUM ||
                       k == WP_WIT_FLAGS))
        n->t.name = nm;
}

/* Declarations of an instance type (exports) or a component type (imports and exports). */
static wp_status type_decls(dec *d, tscope *outer, ctype *t, bool component) {
    tscope ts = {.parent = outer};
    uint32_t n = 0;
    uint32_t exp_cap = 0;
    uint32_t imp_cap = 0;
    wp_status st = count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        uint8_t k = 0;
        const char *nm = NULL;
        csort s = CS_FUNC;
        const ctype *et = NULL;
        if ((st = byte(d, &k)) != WP_OK)
            break;
        switch (k) {
        case 0x00:
            st = core_type(d, false);
            break;
        case 0x01:
            if ((st = deftype(d, &ts, &et)) == WP_OK && et->kind == CT_RESOURCE && et->local)
                return bad(d, "resource definitions are not allowed in types");
            if (st == WP_OK)
                st = push_type(d, &ts, et);
            break;
        case 0x02:
            st = alias_into(d, NULL, &ts, &s);
            break;
        case 0x03:
        case 0x04:
            if (k == 0x03 && !component)
                return bad(d, "an instance type has no imports");
            if ((st = extern_name(d, &nm)) == WP_OK &&
                (st = externtype(d, &ts, nm, &s, &et)) == WP_OK && s == CS_TYPE)
                name_type(et, nm);
            if (st == WP_OK && s == CS_VALUE) {
                if (!GROW(d, ts.vals, ts.vals_cap, ts.nvals + 1))
                    return nomem(d);
                ts.vals[ts.nvals++] = et;
            }
            if (st == WP_OK)
                st = k == 0x03 ? add_named(d, &t->imports, &t->nimports, &imp_cap, nm, s, et)
                               : add_named(d, &t->exports, &t->nexports, &exp_cap, nm, s, et);
            break;
        default:
            return bad(d, "malformed declaration");
        }
    }
    return st;
}

static wp_status resourcetype(dec *d, ctype **out) {
    uint8_t rep = 0;
    uint8_t has = 0;
    wp_status st = byte(d, &rep);
    if (st == WP_OK && rep != 0x7f)
        return bad(d, "a resource's representation must be i32");
    if (st == WP_OK)
        st = byte(d, &has);
    if (st == WP_OK && has > 1)
        return bad(d, "malformed destructor");
    if (st == WP_OK)
        st = new_resource(d, out, NULL);
    if (st == WP_OK) {
        (*out)->local = true;
        (*out)->has_dtor = has;
        if (has)
            st = u32(d, &(*out)->dtor);
    }
    return st;
}

static wp_status deftype(dec *d, tscope *ts, const ctype **out) {
    uint8_t code = 0;
    wp_status st = byte(d, &code);
    if (st != WP_OK)
        return st;
    if (++d->depth > MAX_NESTING)
        return bad(d, "types nested too deeply");
    ctype *t = alloc(d, sizeof *t);
    if (!t)
        return nomem(d);
    switch (code) {
    case 0x40:
        st = functype(d, ts, t);
        break;
    case 0x43:
        return fail(d, WP_ERR_UNSUPPORTED, "async functions are not supported", NULL);
    case 0x41:
    case 0x42:
        t->kind = code == 0x41 ? CT_COMPONENT : CT_INSTANCE;
        st = type_decls(d, ts, t, code == 0x41);
        break;
    case 0x3f:
        st = resourcetype(d, &t);
        break;
    default:
        t->kind = CT_VAL;
        st = defvaltype(d, ts, code, &t->val);
        break;
    }
    d->depth--;
    *out = t;
    return st;
}

/* ---- Core types (read to check their form; the runtime never needs them) ----------------- */

static wp_status core_valtypes(dec *d) {
    uint32_t n = 0;
    wp_status st = count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        uint8_t t = 0;
        if ((st = byte(d, &t)) == WP_OK && (t < 0x7b || t > 0x7f) && t != 0x70 && t != 0x6f)
            return bad(d, "malformed core value type");
    }
    return st;
}

static wp_status core_limits(dec *d) {
    uint8_t flags = 0;
    uint32_t v = 0;
    wp_status st = byte(d, &flags);
    if (st == WP_OK && flags > 1)
        return fail(d, WP_ERR_UNSUPPORTED, "shared or 64-bit limits are not supported", NULL);
    if (st == WP_OK)
        st = u32(d, &v);
    if (st == WP_OK && flags)
        st = u32(d, &v);
    return st;
}

static wp_status core_externtype(dec *d) {
    uint8_t k = 0;
    uint8_t b = 0;
    uint32_t v = 0;
    wp_status st = byte(d, &k);
    if (st != WP_OK)
        return st;
    switch (k) {
    case 0x00: return u32(d, &v);
    case 0x01: return (st = byte(d, &b)) == WP_OK ? core_limits(d) : st;
    case 0x02: return core_limits(d);
    case 0x03: return (st = byte(d, &b)) == WP_OK ? byte(d, &b) : st;
    default: return bad(d, "malformed core extern type");
    }
}

static wp_status core_type(dec *d, bool in_module) {
    uint8_t k = 0;
    wp_status st = byte(d, &k);
    if (st != WP_OK)
        return st;
    if (k == 0x60) {
        if ((st = core_valtypes(d)) == WP_OK)
            st = core_valtypes(d);
        return st;
    }
    if (k != 0x50 || in_module)
        return fail(d, WP_ERR_UNSUPPORTED, "core types other than functions are not supported",
                    NULL);
    uint32_t n = 0;
    st = count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        const char *ignored = NULL;
        uint32_t v = 0;
        if ((st = byte(d, &k)) != WP_OK)
            break;
        if (k == 0x00) { /* import: module, name, type */
            if ((st = name(d, &ignored)) == WP_OK && (st = name(d, &ignored)) == WP_OK)
                st = core_externtype(d);
        } else if (k == 0x01) {
            st = core_type(d, true);
        } else if (k == 0x02) { /* outer alias of a type: 0x10 0x01 ct idx */
            uint8_t a = 0;
            uint8_t b = 0;
            if ((st = byte(d, &a)) == WP_OK && (st = byte(d, &b)) == WP_OK &&
                (a != 0x10 || b != 0x01))
                return bad(d, "malformed core alias");
            if (st == WP_OK && (st = u32(d, &v)) == WP_OK)
                st = u32(d, &v);
        } else if (k == 0x03) {
            if ((st = name(d, &ignored)) == WP_OK)
                st = core_externtype(d);
        } else {
            return bad(d, "malformed module type declaration");
        }
    }
    return st;
}

/* ---- Definitions ------------------------------------------------------------------------- */

/* The type of item i of sort s in scope sc (funcs, values, types, instances, components), or
 * NULL. */
static const ctype *item_type(const cscope *sc, csort s, uint32_t i) {
    return s == CS_FUNC || s == CS_VALUE || s == CS_INSTANCE || s == CS_COMPONENT ||
                   s == CS_TYPE
               ? sc->defs[s][i].type
               : NULL;
}

/* Uses up value i of sc: the model lets each value be used exactly once (by an export, an
 * instantiation or a start function). */
static wp_status use_value(dec *d, cscope *sc, uint32_t i) {
    cdef *v = &sc->defs[CS_VALUE][i];
    if (v->used)
        return wp_err_set(d->err, WP_ERR_INVALID, "at 0x%zx: value %" PRIu32 " is used twice "
                          "(each value is used exactly once)", rd_offset(&d->rd), i);
    v->used = true;
    return WP_OK;
}

/* At the end of a component: every value was used (else it would be dropped unseen). */
static wp_status values_all_used(dec *d, const cscope *sc) {
    for (uint32_t i = 0; i < sc->count[CS_VALUE]; i++)
        if (!sc->defs[CS_VALUE][i].used)
            return wp_err_set(d->err, WP_ERR_INVALID, "at 0x%zx: value %" PRIu32 " is never "
                              "used (each value must be used exactly once)", rd_offset(&d->rd), i);
    return WP_OK;
}

/* An outer alias: ct scopes out (0: this one), item idx of sort s (types, modules,
 * components). */
static wp_status alias_outer(dec *d, cscope *sc, tscope *ts, csort s, cdef *def) {
    uint32_t ct = 0;
    uint32_t idx = 0;
    wp_status st = u32(d, &ct);
    if (st == WP_OK)
        st = u32(d, &idx);
    if (st != WP_OK)
        return st;
    def->a = ct;
    def->b = idx;
    if (s == CS_TYPE) {
        const tscope *t = ts;
        for (uint32_t i = 0; i < ct && t; i++)
            t = t->parent;
        if (!t)
            return bad(d, "outer alias reaches past the outermost scope");
        if ((st = type_at(d, t, idx, &def->type)) == WP_OK)
            st = push_type(d, ts, def->type);
        return st;
    }
    if (s == CS_CORE_TYPE)
        return WP_OK; /* core types are only checked for form */
    if (s != CS_CORE_MODULE && s != CS_COMPONENT)
        return bad(d, "outer aliases name types, modules and components only");
    const cscope *o = sc;
    for (uint32_t i = 0; i < ct && o; i++)
        o = o->parent;
    if (!o)
        return bad(d, "outer alias reaches past the outermost scope");
    if (idx + (o == sc) >= o->count[s]) /* this alias is already counted: not itself */
        return fail(d, WP_ERR_INVALID, "unknown ", SORT_NAMES[s]);
    if (s == CS_COMPONENT)
        def->type = o->defs[s][idx].type;
    return st;
}

static const cnamed *find_named(const cnamed *items, uint32_t n, const char *nm) {
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(items[i].name, nm) == 0)
            return &items[i];
    return NULL;
}

/* An export alias of a component instance: the item's type comes from the instance's. */
static wp_status alias_export(dec *d, cscope *sc, tscope *ts, csort s, cdef *def) {
    wp_status st = u32(d, &def->a);
    /* the alias itself was just added: an instance alias may not name itself */
    if (st == WP_OK && sc && def->a + (s == CS_INSTANCE) >= sc->count[CS_INSTANCE])
        return fail(d, WP_ERR_INVALID, "unknown ", SORT_NAMES[CS_INSTANCE]);
    if (st == WP_OK)
        st = name(d, &def->name);
    if (st != WP_OK)
        return st;
    if (!sc)
        return bad(d, "export aliases are not allowed in types");
    const ctype *it = sc->defs[CS_INSTANCE][def->a].type;
    const cnamed *e = it ? find_named(it->exports, it->nexports, def->name) : NULL;
    if (!e)
        return fail(d, WP_ERR_INVALID, "the instance has no export ", def->name);
    if (e->sort != s)
        return fail(d, WP_ERR_INVALID, "wrong sort for the export ", def->name);
    /* an instance's value, like any value, can be taken out once */
    for (uint32_t i = 0; s == CS_VALUE && i + 1 < sc->count[CS_VALUE]; i++) {
        const cdef *o = &sc->defs[CS_VALUE][i];
        if (o->kind == CD_ALIAS_EXPORT && o->a == def->a && strcmp(o->name, def->name) == 0)
            return fail(d, WP_ERR_INVALID, "the instance's value is aliased twice: ", def->name);
    }
    def->type = e->type;
    return s == CS_TYPE ? push_type(d, ts, def->type) : WP_OK;
}

/* One alias, into the scope sc (NULL inside a type, where only ts grows). */
static wp_status alias_into(dec *d, cscope *sc, tscope *ts, csort *sort_out) {
    csort s = CS_FUNC;
    uint8_t k = 0;
    cdef local = {0};
    cdef *def = &local;
    wp_status st = sort(d, &s);
    if (st == WP_OK)
        st = byte(d, &k);
    if (st == WP_OK && k > 0x02)
        return bad(d, "malformed alias");
    if (st == WP_OK && sc)
        st = add_def(d, sc, s, k == 0 ? CD_ALIAS_EXPORT : k == 1 ? CD_ALIAS_CORE : CD_ALIAS_OUTER,
                     &def);
    if (st != WP_OK)
        return st;
    *sort_out = s;
    if (k == 0x00)
        return alias_export(d, sc, ts, s, def);
    if (k == 0x02)
        return alias_outer(d, sc, ts, s, def);
    if (!sc)
        return bad(d, "core export aliases are not allowed in types");
    if (s > CS_CORE_GLOBAL)
        return bad(d, "core export aliases name functions, tables, memories and globals");
    if ((st = u32(d, &def->a)) == WP_OK && (st = check_index(d, sc, CS_CORE_INSTANCE, def->a)) ==
                                               WP_OK)
        st = name(d, &def->name);
    return st;
}

static wp_status section_alias(dec *d, cscope *sc) {
    uint32_t n = 0;
    wp_status st = count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        csort s = CS_FUNC;
        st = alias_into(d, sc, &sc->ts, &s);
    }
    return st;
}

static wp_status section_type(dec *d, cscope *sc) {
    uint32_t n = 0;
    wp_status st = count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        cdef *def = NULL;
        if ((st = add_def(d, sc, CS_TYPE, CD_TYPE, &def)) == WP_OK &&
            (st = deftype(d, &sc->ts, &def->type)) == WP_OK)
            st = push_type(d, &sc->ts, def->type);
    }
    return st;
}

static wp_status section_core_type(dec *d, cscope *sc) {
    uint32_t n = 0;
    wp_status st = count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        cdef *def = NULL;
        if ((st = add_def(d, sc, CS_CORE_TYPE, CD_TYPE, &def)) == WP_OK)
            st = core_type(d, false);
    }
    return st;
}

/* The start of a (core) instance definition of sort s: kind k (0: instantiate what, 1: inline
 * exports), the definition, its instantiated item (of sort what) when k is 0, and room for its
 * *n arguments. */
static wp_status instance_head(dec *d, cscope *sc, csort s, csort what, uint8_t *k, cdef **def,
                               uint32_t *n) {
    static const cdef_kind kinds[2][2] = {{CD_INSTANTIATE, CD_INLINE},
                                          {CD_CORE_INSTANTIATE, CD_CORE_INLINE}};
    bool core = s == CS_CORE_INSTANCE;
    wp_status st = byte(d, k);
    if (st == WP_OK && *k > 1)
        return bad(d, core ? "malformed core instance" : "malformed instance");
    if (st == WP_OK)
        st = add_def(d, sc, s, kinds[core][*k], def);
    if (st == WP_OK && *k == 0 && (st = u32(d, &(*def)->a)) == WP_OK)
        st = check_index(d, sc, what, (*def)->a);
    if (st == WP_OK)
        st = count(d, n);
    if (st != WP_OK)
        return st;
    (*def)->nargs = *n;
    if (*n && !((*def)->args = alloc(d, *n * sizeof *(*def)->args)))
        return nomem(d);
    return WP_OK;
}

static wp_status core_instance(dec *d, cscope *sc) {
    uint8_t k = 0;
    cdef *def = NULL;
    uint32_t n = 0;
    wp_status st = instance_head(d, sc, CS_CORE_INSTANCE, CS_CORE_MODULE, &k, &def, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        if ((st = name(d, &def->args[i].name)) != WP_OK)
            break;
        if (k == 0) {
            uint8_t s = 0;
            if ((st = byte(d, &s)) == WP_OK && s != 0x12)
                return bad(d, "core instantiation arguments must be instances");
            def->args[i].sort = CS_CORE_INSTANCE;
            if (st == WP_OK && (st = u32(d, &def->args[i].index)) == WP_OK)
                st = check_before(d, sc, CS_CORE_INSTANCE, def->args[i].index, CS_CORE_INSTANCE);
        } else {
            carg a;
            if ((st = sortidx(d, sc, true, CS_CORE_INSTANCE, &a)) == WP_OK &&
                a.sort > CS_CORE_GLOBAL)
                return bad(d, "core instance exports are functions, tables, memories, globals");
            def->args[i].sort = a.sort;
            def->args[i].index = a.index;
        }
    }
    return st;
}

static wp_status section_core_instance(dec *d, cscope *sc) {
    uint32_t n = 0;
    wp_status st = count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++)
        st = core_instance(d, sc);
    return st;
}

/* The type of a component instance made from named items. */
static wp_status inline_type(dec *d, const cscope *sc, const carg *args, uint32_t n,
                             const ctype **out) {
    ctype *t = alloc(d, sizeof *t);
    uint32_t cap = 0;
    if (!t)
        return nomem(d);
    t->kind = CT_INSTANCE;
    wp_status st = WP_OK;
    for (uint32_t i = 0; i < n && st == WP_OK; i++)
        st = add_named(d, &t->exports, &t->nexports, &cap, args[i].name, args[i].sort,
                       item_type(sc, args[i].sort, args[i].index));
    *out = t;
    return st;
}

/* Structural equality of value types (resources are equal by kind: instantiation binds them). */
static bool val_match(const wp_wit_type *a, const wp_wit_type *b, uint32_t depth) {
    if (a == b)
        return true;
    if (!a || !b || a->kind != b->kind || depth > WIT_MAX_DEPTH)
        return false;
    if (!val_match(a->elem, b->elem, depth + 1) || !val_match(a->ok, b->ok, depth + 1) ||
        !val_match(a->err, b->err, depth + 1) || a->nfields != b->nfields)
        return false;
    for (uint32_t i = 0; i < a->nfields; i++) {
        const wp_wit_field *fa = &a->fields[i];
        const wp_wit_field *fb = &b->fields[i];
        if ((fa->name || fb->name) && (!fa->name || !fb->name || strcmp(fa->name, fb->name)))
            return false;
        if (!val_match(fa->type, fb->type, depth + 1))
            return false;
    }
    return true;
}

static bool func_match(const wp_wit_func *a, const wp_wit_func *b) {
    if (a->nparams != b->nparams || !val_match(a->result, b->result, 0))
        return false;
    for (uint32_t i = 0; i < a->nparams; i++)
        if (strcmp(a->params[i].name, b->params[i].name) ||
            !val_match(a->params[i].type, b->params[i].type, 0))
            return false;
    return true;
}

/* The arguments of an instantiation against the component's imports: each given, of the
 * sort imported, functions of the type imported. */
static wp_status check_args(dec *d, const cscope *sc, const cdef *def, const ctype *ct) {
    for (uint32_t i = 0; ct && i < ct->nimports; i++) {
        const cnamed *im = &ct->imports[i];
        const carg *a = NULL;
        for (uint32_t j = 0; j < def->nargs && !a; j++)
            if (strcmp(def->args[j].name, im->name) == 0)
                a = &def->args[j];
        if (!a)
            return fail(d, WP_ERR_INVALID, "instantiate: no argument for the import ", im->name);
        if (a->sort != im->sort)
            return fail(d, WP_ERR_INVALID, "instantiate: wrong sort of argument ", im->name);
        const ctype *at = item_type(sc, a->sort, a->index);
        if (im->sort == CS_FUNC && at && im->type && !func_match(at->func, im->type->func))
            return fail(d, WP_ERR_INVALID, "instantiate: wrong function type of argument ",
                        im->name);
        if (im->sort == CS_VALUE && at && im->type && !val_match(at->val, im->type->val, 0))
            return fail(d, WP_ERR_INVALID, "instantiate: wrong value type of argument ",
                        im->name);
    }
    return WP_OK;
}

static wp_status instance(dec *d, cscope *sc) {
    uint8_t k = 0;
    cdef *def = NULL;
    uint32_t n = 0;
    wp_status st = instance_head(d, sc, CS_INSTANCE, CS_COMPONENT, &k, &def, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        st = k == 0 ? name(d, &def->args[i].name) : extern_name(d, &def->args[i].name);
        if (st == WP_OK)
            st = sortidx(d, sc, false, CS_INSTANCE, &def->args[i]);
        if (st == WP_OK && def->args[i].sort == CS_VALUE)
            st = use_value(d, sc, def->args[i].index);
    }
    if (st != WP_OK)
        return st;
    if (k == 1)
        return inline_type(d, sc, def->args, n, &def->type);
    const ctype *ct = sc->defs[CS_COMPONENT][def->a].type;
    if ((st = check_args(d, sc, def, ct)) != WP_OK)
        return st;
    ctype *it = alloc(d, sizeof *it);
    if (!it)
        return nomem(d);
    it->kind = CT_INSTANCE;
    it->nexports = ct ? ct->nexports : 0;
    it->exports = ct ? ct->exports : NULL;
    def->type = it;
    return WP_OK;
}

static wp_status section_instance(dec *d, cscope *sc) {
    uint32_t n = 0;
    wp_status st = count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++)
        st = instance(d, sc);
    return st;
}

/* ---- Canonical definitions --------------------------------------------------------------- */

static wp_status canon_opts(dec *d, const cscope *sc, copts *o) {
    uint32_t n = 0;
    wp_status st = count(d, &n);
    bool enc = false;
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        uint8_t k = 0;
        if ((st = byte(d, &k)) != WP_OK)
            break;
        bool dup = false;
        switch (k) {
        case 0x00: case 0x01: case 0x02:
            dup = enc;
            enc = true;
            o->encoding = k;
            break;
        case 0x03:
            dup = o->has_memory;
            o->has_memory = true;
            if ((st = u32(d, &o->memory)) == WP_OK)
                st = check_index(d, sc, CS_CORE_MEMORY, o->memory);
            break;
        case 0x04:
            dup = o->has_realloc;
            o->has_realloc = true;
            if ((st = u32(d, &o->realloc)) == WP_OK)
                st = check_index(d, sc, CS_CORE_FUNC, o->realloc);
            break;
        case 0x05:
            dup = o->has_post;
            o->has_post = true;
            if ((st = u32(d, &o->post_return)) == WP_OK)
                st = check_index(d, sc, CS_CORE_FUNC, o->post_return);
            break;
        case 0x06: case 0x07:
            return fail(d, WP_ERR_UNSUPPORTED, "async canonical options are not supported", NULL);
        default:
            return bad(d, "malformed canonical option");
        }
        if (dup)
            return bad(d, "duplicate canonical option");
    }
    return st;
}

static wp_status canon_resource(dec *d, cscope *sc, cdef_kind kind) {
    cdef *def = NULL;
    const ctype *t = NULL;
    wp_status st = add_def(d, sc, CS_CORE_FUNC, kind, &def);
    if (st == WP_OK)
        st = u32(d, &def->a);
    if (st == WP_OK)
        st = type_at(d, &sc->ts, def->a, &t);
    if (st == WP_OK && t->kind != CT_RESOURCE)
        return bad(d, "not a resource type");
    if (st == WP_OK && kind != CD_RES_DROP && !t->local)
        return bad(d, "resource.new and resource.rep need a resource defined here");
    if (st == WP_OK)
        def->type = t;
    return st;
}

static wp_status canon(dec *d, cscope *sc) {
    uint8_t k = 0;
    uint8_t zero = 0;
    cdef *def = NULL;
    wp_status st = byte(d, &k);
    if (st != WP_OK)
        return st;
    switch (k) {
    case 0x00: /* lift */
        if ((st = byte(d, &zero)) == WP_OK && zero != 0)
            return bad(d, "malformed canon lift");
        if (st == WP_OK)
            st = add_def(d, sc, CS_FUNC, CD_LIFT, &def);
        if (st == WP_OK && (st = u32(d, &def->a)) == WP_OK)
            st = check_index(d, sc, CS_CORE_FUNC, def->a);
        if (st == WP_OK)
            st = canon_opts(d, sc, &def->opts);
        if (st == WP_OK && (st = u32(d, &def->b)) == WP_OK &&
            (st = type_at(d, &sc->ts, def->b, &def->type)) == WP_OK && def->type->kind != CT_FUNC)
            return bad(d, "canon lift needs a function type");
        return st;
    case 0x01: /* lower */
        if ((st = byte(d, &zero)) == WP_OK && zero != 0)
            return bad(d, "malformed canon lower");
        if (st == WP_OK)
            st = add_def(d, sc, CS_CORE_FUNC, CD_LOWER, &def);
        if (st == WP_OK && (st = u32(d, &def->a)) == WP_OK)
            st = check_index(d, sc, CS_FUNC, def->a);
        if (st == WP_OK) {
            def->type = sc->defs[CS_FUNC][def->a].type;
            st = canon_opts(d, sc, &def->opts);
        }
        return st;
    case 0x02: return canon_resource(d, sc, CD_RES_NEW);
    case 0x03: return canon_resource(d, sc, CD_RES_DROP);
    case 0x04: return canon_resource(d, sc, CD_RES_REP);
    default:
        return fail(d, WP_ERR_UNSUPPORTED,
                    "async, thread and error-context canonical built-ins are not supported", NULL);
    }
}

static wp_status section_canon(dec *d, cscope *sc) {
    uint32_t n = 0;
    wp_status st = count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++)
        st = canon(d, sc);
    return st;
}

/* ---- Imports and exports ----------------------------------------------------------------- */

static wp_status section_import(dec *d, cscope *sc) {
    uint32_t n = 0;
    wp_status st = count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        const char *nm = NULL;
        csort s = CS_FUNC;
        const ctype *t = NULL;
        cdef *def = NULL;
        if ((st = extern_name(d, &nm)) != WP_OK || (st = externtype(d, &sc->ts, nm, &s, &t)))
            break;
        if (sc->nimports >= WIT_MAX_ITEMS)
            return bad(d, "too many imports");
        for (uint32_t j = 0; j < sc->nimports; j++)
            if (strcmp(sc->imports[j].name, nm) == 0)
                return fail(d, WP_ERR_INVALID, "duplicate import ", nm);
        if (s == CS_CORE_MODULE || s == CS_COMPONENT)
            return fail(d, WP_ERR_UNSUPPORTED, "module and component imports are not supported",
                        NULL);
        if (!GROW(d, sc->imports, sc->imports_cap, sc->nimports + 1))
            return nomem(d);
        sc->imports[sc->nimports] = (cimport){.name = nm, .sort = s, .type = t};
        if ((st = add_def(d, sc, s, CD_IMPORT, &def)) == WP_OK) {
            def->a = sc->nimports;
            def->type = t;
            def->name = nm;
        }
        sc->nimports++;
    }
    return st;
}

static wp_status export_one(dec *d, cscope *sc) {
    const char *nm = NULL;
    carg a;
    uint8_t has = 0;
    cdef *def = NULL;
    wp_status st = extern_name(d, &nm);
    if (st == WP_OK)
        st = sortidx(d, sc, false, CS_COUNT, &a);
    if (st == WP_OK && a.sort <= CS_CORE_INSTANCE && a.sort != CS_CORE_MODULE)
        return bad(d, "only core modules of the core sorts can be exported");
    if (st == WP_OK && a.sort == CS_VALUE)
        st = use_value(d, sc, a.index);
    if (st == WP_OK)
        st = byte(d, &has);
    if (st != WP_OK)
        return st;
    const ctype *t = item_type(sc, a.sort, a.index);
    const ctype *have = t;
    csort s = CS_FUNC;
    if (a.sort == CS_TYPE)
        name_type(t, nm);
    if (has == 1 && (st = externtype(d, &sc->ts, nm, &s, &t)) == WP_OK && s != a.sort)
        return bad(d, "the export's declared sort differs from the item's");
    if (st == WP_OK && has == 1 && s == CS_VALUE && !val_match(have->val, t->val, 0))
        return bad(d, "the export's declared value type differs from the value's");
    if (st == WP_OK && has > 1)
        return bad(d, "malformed export type");
    if (st == WP_OK && sc->nexports >= WIT_MAX_ITEMS)
        return bad(d, "too many exports");
    for (uint32_t j = 0; st == WP_OK && j < sc->nexports; j++)
        if (strcmp(sc->exports[j].name, nm) == 0)
            return fail(d, WP_ERR_INVALID, "duplicate export ", nm);
    if (st == WP_OK && !GROW(d, sc->exports, sc->exports_cap, sc->nexports + 1))
        return nomem(d);
    if (st == WP_OK)
        sc->exports[sc->nexports++] = (cexport){.name = nm, .sort = a.sort, .index = a.index};
    if (st == WP_OK && (st = add_def(d, sc, a.sort, CD_EXPORT, &def)) == WP_OK) {
        def->a = a.index;
        def->type = t;
        def->name = nm;
        def->used = a.sort == CS_VALUE; /* the new index names the value that went out */
        if (a.sort == CS_TYPE && has != 1)
            st = push_type(d, &sc->ts, t);
    }
    return st;
}

static wp_status section_export(dec *d, cscope *sc) {
    uint32_t n = 0;
    wp_status st = count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++)
        st = export_one(d, sc);
    return st;
}

/* ---- Modules, nested components, the section loop ---------------------------------------- */

static wp_status section_module(dec *d, cscope *sc, const uint8_t *p, size_t len) {
    wp_component *c = d->c;
    wp_module *m;
    wp_err merr;
    if (wp_module_decode(p, len, &m, &merr) != WP_OK)
        return wp_err_set(d->err, merr.kind, "at 0x%zx: core module %u: %s", rd_offset(&d->rd),
                          c->nmodules, merr.msg);
    if (!GROW(d, c->modules, c->modules_cap, c->nmodules + 1)) {
        wp_module_free(m);
        return nomem(d);
    }
    c->modules[c->nmodules] = m;
    cdef *def = NULL;
    wp_status st = add_def(d, sc, CS_CORE_MODULE, CD_CORE_MODULE, &def);
    if (st == WP_OK)
        def->a = c->nmodules;
    c->nmodules++;
    return st;
}

static wp_status scope_body(dec *d, cscope *sc);

/* A nested component's type: its imports and exports with their types. */
static wp_status scope_type(dec *d, const cscope *sc, const ctype **out) {
    ctype *t = alloc(d, sizeof *t);
    uint32_t icap = 0;
    uint32_t ecap = 0;
    if (!t)
        return nomem(d);
    t->kind = CT_COMPONENT;
    wp_status st = WP_OK;
    for (uint32_t i = 0; i < sc->nimports && st == WP_OK; i++)
        st = add_named(d, &t->imports, &t->nimports, &icap, sc->imports[i].name,
                       sc->imports[i].sort, sc->imports[i].type);
    for (uint32_t i = 0; i < sc->nexports && st == WP_OK; i++)
        st = add_named(d, &t->exports, &t->nexports, &ecap, sc->exports[i].name,
                       sc->exports[i].sort,
                       item_type(sc, sc->exports[i].sort, sc->exports[i].index));
    *out = t;
    return st;
}

static wp_status section_component(dec *d, cscope *sc, const uint8_t *end) {
    if (++d->depth > MAX_NESTING)
        return bad(d, "components nested too deeply");
    cscope *child = alloc(d, sizeof *child);
    if (!child)
        return nomem(d);
    child->parent = sc;
    child->ts.parent = &sc->ts;
    child->ts.sc = child;
    wp_reader saved = d->rd;
    const uint8_t *p;
    static const uint8_t pre[8] = {0, 'a', 's', 'm', 0x0d, 0, 1, 0};
    if (!rd_bytes(&d->rd, 8, &p) || memcmp(p, pre, 8) != 0)
        return bad(d, "a nested component has a bad preamble");
    d->rd.end = end;
    wp_status st = scope_body(d, child);
    d->rd.end = saved.end;
    cdef *def = NULL;
    if (st == WP_OK && (st = add_def(d, sc, CS_COMPONENT, CD_COMPONENT, &def)) == WP_OK) {
        if (!GROW(d, sc->components, sc->components_cap, sc->ncomponents + 1))
            return nomem(d);
        def->a = sc->ncomponents;
        sc->components[sc->ncomponents++] = child;
        st = scope_type(d, child, &def->type);
    }
    d->depth--;
    return st;
}

/* The start's argument i (< ft->nparams): a value of the parameter's type, used up by the
 * call. */
static wp_status start_arg(dec *d, cscope *sc, const wp_wit_func *ft, uint32_t i, uint32_t *out) {
    wp_status st = u32(d, out);
    if (st == WP_OK)
        st = check_index(d, sc, CS_VALUE, *out);
    if (st == WP_OK && !val_match(sc->defs[CS_VALUE][*out].type->val, ft->params[i].type, 0))
        return wp_err_set(d->err, WP_ERR_INVALID, "at 0x%zx: start argument %" PRIu32 " (%s): "
                          "value %" PRIu32 " has the wrong type", rd_offset(&d->rd), i,
                          ft->params[i].name, *out);
    return st == WP_OK ? use_value(d, sc, *out) : st;
}

/* start: function f called when instantiation reaches this point, with values as arguments
 * (each used up); its result, if any, becomes the next value. */
static wp_status section_start(dec *d, cscope *sc) {
    cstart start = {0};
    uint32_t nresults = 0;
    wp_status st = u32(d, &start.func);
    if (st == WP_OK)
        st = check_index(d, sc, CS_FUNC, start.func);
    if (st == WP_OK)
        st = count(d, &start.nargs);
    if (st != WP_OK)
        return st;
    const ctype *t = item_type(sc, CS_FUNC, start.func);
    if (!t || !t->func)
        return bad(d, "the start function has no function type");
    const wp_wit_func *ft = t->func;
    if (start.nargs != ft->nparams)
        return wp_err_set(d->err, WP_ERR_INVALID, "at 0x%zx: the start function takes %" PRIu32
                          " arguments, %" PRIu32 " given", rd_offset(&d->rd), ft->nparams,
                          start.nargs);
    if (start.nargs && !(start.args = alloc(d, start.nargs * sizeof *start.args)))
        return nomem(d);
    for (uint32_t i = 0; i < start.nargs && st == WP_OK; i++)
        st = start_arg(d, sc, ft, i, &start.args[i]);
    if (st == WP_OK)
        st = u32(d, &nresults);
    if (st == WP_OK && nresults != (ft->result ? 1u : 0u))
        return wp_err_set(d->err, WP_ERR_INVALID, "at 0x%zx: the start function returns %u "
                          "results, %" PRIu32 " declared", rd_offset(&d->rd),
                          ft->result ? 1u : 0u, nresults);
    if (st != WP_OK)
        return st;
    if (!GROW(d, sc->starts, sc->starts_cap, sc->nstarts + 1))
        return nomem(d);
    start.at = sc->norder;
    cdef *def = NULL;
    if (ft->result && (st = add_def(d, sc, CS_VALUE, CD_START_RESULT, &def)) == WP_OK) {
        def->a = sc->nstarts;
        start.has_result = true;
        start.result = sc->count[CS_VALUE] - 1;
        if ((st = value_type_of(d, ft->result, &def->type)) != WP_OK)
            return st;
    }
    sc->starts[sc->nstarts++] = start;
    return st;
}

/* A value definition: its type, its length in bytes, then val(type) of exactly that length. */
static wp_status value_def(dec *d, cscope *sc) {
    cdef *def = NULL;
    uint32_t len = 0;
    wp_component *c = d->c;
    wp_status st = add_def(d, sc, CS_VALUE, CD_VALUE, &def);
    if (st == WP_OK)
        st = value_type(d, &sc->ts, &def->type);
    if (st == WP_OK)
        st = u32(d, &len);
    if (st == WP_OK && len > rd_remaining(&d->rd))
        return bad(d, "value runs past the end");
    if (st != WP_OK)
        return st;
    if (!GROW(d, c->values, c->values_cap, c->nvalues + 1))
        return nomem(d);
    const uint8_t *end = d->rd.end;
    const uint8_t *vend = d->rd.p + len;
    const char *why = NULL;
    d->rd.end = vend;
    c->values[c->nvalues] = wp_value_nil();
    st = comp__read_value(&d->rd, def->type->val, &d->value_nodes, &c->values[c->nvalues], &why);
    d->rd.end = end;
    if (st != WP_OK)
        return st == WP_ERR_NOMEM ? nomem(d) : bad(d, why);
    def->a = c->nvalues++; /* owned by the component from here, freed with it on failure too */
    return d->rd.p == vend ? WP_OK : bad(d, "value length mismatch");
}

static wp_status section_value(dec *d, cscope *sc) {
    uint32_t n = 0;
    wp_status st = count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++)
        st = value_def(d, sc);
    return st;
}

static wp_status section(dec *d, cscope *sc, uint8_t id, const uint8_t *end) {
    switch (id) {
    case 0: d->rd.p = end; return WP_OK;
    case 1: {
        const uint8_t *p = d->rd.p;
        d->rd.p = end;
        return section_module(d, sc, p, (size_t)(end - p));
    }
    case 2: return section_core_instance(d, sc);
    case 3: return section_core_type(d, sc);
    case 4: return section_component(d, sc, end);
    case 5: return section_instance(d, sc);
    case 6: return section_alias(d, sc);
    case 7: return section_type(d, sc);
    case 8: return section_canon(d, sc);
    case 9: return section_start(d, sc);
    case 10: return section_import(d, sc);
    case 11: return section_export(d, sc);
    case 12: return section_value(d, sc);
    default: return bad(d, "unknown section");
    }
}

static wp_status scope_body(dec *d, cscope *sc) {
    wp_status st = WP_OK;
    while (st == WP_OK && !rd_done(&d->rd)) {
        uint8_t id = 0;
        uint32_t size = 0;
        if ((st = byte(d, &id)) != WP_OK || (st = u32(d, &size)) != WP_OK)
            break;
        if (size > rd_remaining(&d->rd))
            return bad(d, "section runs past the end");
        const uint8_t *end = d->rd.p + size;
        const uint8_t *outer_end = d->rd.end;
        d->rd.end = end;
        st = section(d, sc, id, end);
        if (st == WP_OK && d->rd.p != end)
            st = bad(d, "section size mismatch");
        d->rd.end = outer_end;
    }
    return st == WP_OK ? values_all_used(d, sc) : st;
}

/* ---- Exported function names ------------------------------------------------------------- */

static wp_status add_export_func(dec *d, const char *prefix, const char *nm, uint32_t *cap) {
    wp_component *c = d->c;
    size_t pl = prefix ? strlen(prefix) + 1 : 0;
    char *s = alloc(d, pl + strlen(nm) + 1);
    if (!s || !GROW(d, c->export_funcs, *cap, c->nexport_funcs + 1))
        return nomem(d);
    if (prefix) {
        memcpy(s, prefix, pl - 1);
        s[pl - 1] = '#';
    }
    strcpy(s + pl, nm);
    c->export_funcs[c->nexport_funcs++] = s;
    return WP_OK;
}

static wp_status list_exports(dec *d) {
    const cscope *sc = d->c->root;
    uint32_t cap = 0;
    wp_status st = WP_OK;
    for (uint32_t i = 0; i < sc->nexports && st == WP_OK; i++) {
        const cexport *e = &sc->exports[i];
        const ctype *t = item_type(sc, e->sort, e->index);
        if (e->sort == CS_FUNC)
            st = add_export_func(d, NULL, e->name, &cap);
        for (uint32_t j = 0; e->sort == CS_INSTANCE && t && j < t->nexports && st == WP_OK; j++)
            if (t->exports[j].sort == CS_FUNC)
                st = add_export_func(d, e->name, t->exports[j].name, &cap);
    }
    return st;
}

/* ---- Public ------------------------------------------------------------------------------ */

bool wp_component_is(const uint8_t *bytes, size_t len) {
    static const uint8_t pre[8] = {0, 'a', 's', 'm', 0x0d, 0, 1, 0};
    return len >= 8 && memcmp(bytes, pre, 8) == 0;
}

wp_status wp_component_decode(const uint8_t *bytes, size_t len, wp_component **out,
                              wp_err *err) {
    *out = NULL;
    static const uint8_t magic[4] = {0, 'a', 's', 'm'};
    if (len < 8 || memcmp(bytes, magic, 4) != 0)
        return wp_err_set(err, WP_ERR_INVALID, "at 0x0: not a WebAssembly binary");
    if (!wp_component_is(bytes, len))
        return wp_err_set(err, WP_ERR_INVALID,
                          "at 0x4: not a component (version 0x0d, layer 1 expected)");
    wp_component *c = wp_heap_zalloc(wp_heap_default(), sizeof *c);
    wp_wit *arena = wp_heap_zalloc(wp_heap_default(), sizeof *arena);
    if (!c || !arena) {
        wp_heap_free(wp_heap_default(), c, sizeof *c);
        wp_heap_free(wp_heap_default(), arena, sizeof *arena);
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    c->refs = 1;
    c->arena = arena;
    dec d = {.c = c, .rd = rd_init(bytes, bytes + 8, bytes + len), .err = err};
    wp_status st = (c->root = alloc(&d, sizeof *c->root)) ? WP_OK : nomem(&d);
    if (st == WP_OK) {
        c->root->ts.sc = c->root;
        st = scope_body(&d, c->root);
    }
    if (st == WP_OK)
        st = list_exports(&d);
    if (st != WP_OK) {
        wp_component_free(c);
        return st;
    }
    *out = c;
    return WP_OK;
}

wp_component *wp_component_ref(wp_component *c) {
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void wp_component_free(wp_component *c) {
    if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (uint32_t i = 0; i < c->nmodules; i++)
        wp_module_free(c->modules[i]);
    for (uint32_t i = 0; i < c->nvalues; i++)
        wp_value_free(&c->values[i]);
    wp_wit_free(c->arena);
    wp_heap_free(wp_heap_default(), c, sizeof *c);
}

uint32_t wp_component_import_count(const wp_component *c) { return c->root->nimports; }

const char *wp_component_import_name(const wp_component *c, uint32_t i) {
    return i < c->root->nimports ? c->root->imports[i].name : NULL;
}

uint32_t wp_component_export_func_count(const wp_component *c) { return c->nexport_funcs; }

const char *wp_component_export_func_name(const wp_component *c, uint32_t i) {
    return i < c->nexport_funcs ? c->export_funcs[i] : NULL;
}

uint32_t wp_component_module_count(const wp_component *c) { return c->nmodules; }

const wp_module *wp_component_module(const wp_component *c, uint32_t i) {
    return i < c->nmodules ? c->modules[i] : NULL;
}
