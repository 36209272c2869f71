/* types.c: the types of component binaries: value types, function, instance, component and
 * resource types, and core types (read to check their form). Part of the decoder (decode.h). */
#include <string.h>

#include "decode.h"

/* ---- Value types ------------------------------------------------------------------------- */

static const wp_wit_kind PRIM_KINDS[] = {
    [0x7f] = WP_WIT_BOOL, [0x7e] = WP_WIT_S8,  [0x7d] = WP_WIT_U8,  [0x7c] = WP_WIT_S16,
    [0x7b] = WP_WIT_U16,  [0x7a] = WP_WIT_S32, [0x79] = WP_WIT_U32, [0x78] = WP_WIT_S64,
    [0x77] = WP_WIT_U64,  [0x76] = WP_WIT_F32, [0x75] = WP_WIT_F64, [0x74] = WP_WIT_CHAR,
    [0x73] = WP_WIT_STRING};

static wp_status prim(dec *d, uint8_t code, const wp_wit_type **out) {
    if (code < 0x73 || code > 0x7f)
        return code == 0x64
                   ? dec__fail(d, WP_ERR_UNSUPPORTED, "error-context is not supported", NULL)
                   : dec__bad(d, "malformed value type");
    if (!d->prims[code]) {
        wit_node *n = dec__alloc(d, sizeof *n);
        if (!n)
            return dec__nomem(d);
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
        return dec__bad(d, d->rd.why);
    if (v < 0)
        return v >= -64 ? prim(d, (uint8_t)(0x80 + v), out) : dec__bad(d, "malformed value type");
    const ctype *t = NULL;
    wp_status st = dec__type_at(d, ts, (uint32_t)v, &t);
    if (st == WP_OK && t->kind != CT_VAL)
        return dec__bad(d, "type index is not a value type");
    if (st == WP_OK)
        *out = t->val;
    return st;
}

static wp_status opt_valtype(dec *d, const tscope *ts, const wp_wit_type **out) {
    uint8_t has = 0;
    wp_status st = dec__byte(d, &has);
    *out = NULL;
    if (st == WP_OK && has > 1)
        return dec__bad(d, "malformed optional type");
    return st == WP_OK && has ? valtype(d, ts, out) : st;
}

/* Fields: labelled (record, variant cases: typed or not), bare labels, or bare types. */
typedef enum fields_kind { F_RECORD, F_PARAMS, F_CASES, F_LABELS, F_TYPES } fields_kind;

static wp_status field(dec *d, const tscope *ts, fields_kind k, wp_wit_field *f) {
    wp_status st = k == F_TYPES ? WP_OK : dec__name(d, &f->name);
    if (st != WP_OK)
        return st;
    if (k == F_RECORD || k == F_PARAMS || k == F_TYPES)
        return valtype(d, ts, &f->type);
    if (k == F_CASES) {
        uint8_t refines = 0;
        if ((st = opt_valtype(d, ts, &f->type)) == WP_OK &&
            (st = dec__byte(d, &refines)) == WP_OK && refines != 0)
            return dec__fail(d, WP_ERR_UNSUPPORTED, "variant case refinements are not supported",
                             NULL);
    }
    return st;
}

static wp_status fields(dec *d, const tscope *ts, fields_kind k, wit_node *n) {
    uint32_t cnt = 0;
    wp_status st = dec__count(d, &cnt);
    if (st == WP_OK && cnt > WIT_MAX_ITEMS)
        return dec__bad(d, "too many members");
    if (st == WP_OK && cnt == 0 && k != F_PARAMS)
        return dec__bad(d, "a record, variant, tuple, flags or enum needs at least one member");
    if (st == WP_OK && k == F_LABELS && n->t.kind == WP_WIT_FLAGS && cnt > 32)
        return dec__bad(d, "flags have at most 32 labels");
    if (st != WP_OK)
        return st;
    wp_wit_field *fs = dec__alloc(d, cnt * sizeof *fs);
    if (!fs && cnt)
        return dec__nomem(d);
    for (uint32_t i = 0; i < cnt && st == WP_OK; i++)
        st = field(d, ts, k, &fs[i]);
    for (uint32_t i = 0; st == WP_OK && k != F_TYPES && i < cnt; i++)
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(fs[i].name, fs[j].name) == 0)
                return dec__fail(d, WP_ERR_INVALID, "duplicate label ", fs[i].name);
    n->t.nfields = cnt;
    n->t.fields = fs;
    return st;
}

static wp_status handle_type(dec *d, const tscope *ts, wit_node *n) {
    uint32_t i = 0;
    const ctype *r = NULL;
    wp_status st = dec__u32(d, &i);
    if (st == WP_OK)
        st = dec__type_at(d, ts, i, &r);
    if (st == WP_OK && r->kind != CT_RESOURCE)
        return dec__bad(d, "own and borrow need a resource type");
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
    wit_node *n = dec__alloc(d, sizeof *n);
    if (!n)
        return dec__nomem(d);
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
        return dec__fail(d, WP_ERR_UNSUPPORTED,
                         "fixed-length lists, streams, futures and maps are not supported", NULL);
    default:
        return dec__bad(d, "malformed type");
    }
    if (st != WP_OK)
        return st;
    wit__layout(n);
    n->borrows = any_borrow(n);
    n->handles = any_handle(n);
    if (n->size > WIT_MAX_ELEM_SIZE)
        return dec__bad(d, "type too large");
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
        st = dec__byte(d, &kind);
    if (st == WP_OK && kind == 0x00)
        st = valtype(d, ts, &result);
    else if (st == WP_OK && kind == 0x01) {
        uint8_t zero = 0;
        if ((st = dec__byte(d, &zero)) == WP_OK && zero != 0)
            return dec__fail(d, WP_ERR_UNSUPPORTED, "named results are not supported", NULL);
    } else if (st == WP_OK)
        return dec__bad(d, "malformed result list");
    if (st == WP_OK && borrows(result))
        return dec__bad(d, "a function result may not contain a borrow");
    if (st != WP_OK)
        return st;
    wp_wit_func *f = dec__alloc(d, sizeof *f);
    if (!f)
        return dec__nomem(d);
    f->name = "";
    f->nparams = params.t.nfields;
    f->params = params.t.fields;
    f->result = result;
    t->kind = CT_FUNC;
    t->func = f;
    return WP_OK;
}

static wp_status new_resource(dec *d, ctype **out, const char *rname) {
    ctype *r = dec__alloc(d, sizeof *r);
    if (!r)
        return dec__nomem(d);
    r->kind = CT_RESOURCE;
    r->res = d->c->nres++;
    r->name = rname;
    *out = r;
    return WP_OK;
}

wp_status dec__add_named(dec *d, cnamed **arr, uint32_t *n, uint32_t *cap, const char *nm,
                         csort s, const ctype *t) {
    if (*n >= WIT_MAX_ITEMS) /* names are checked for duplicates: keep that quadratic cheap */
        return dec__bad(d, "too many imports or exports");
    for (uint32_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i].name, nm) == 0)
            return dec__fail(d, WP_ERR_INVALID, "duplicate name ", nm);
    if (!GROW(d, *arr, *cap, *n + 1))
        return dec__nomem(d);
    (*arr)[(*n)++] = (cnamed){.name = nm, .sort = s, .type = t};
    return WP_OK;
}

/* vt as the type of a value: it may hold no own or borrow handle. */
wp_status dec__value_type_of(dec *d, const wp_wit_type *vt, const ctype **out) {
    if (handles(vt))
        return dec__bad(d, "own and borrow handles cannot be values");
    ctype *t = dec__alloc(d, sizeof *t);
    if (!t)
        return dec__nomem(d);
    t->kind = CT_VAL;
    t->val = vt;
    *out = t;
    return WP_OK;
}

/* valtype, as the type of a value. */
wp_status dec__value_type(dec *d, const tscope *ts, const ctype **out) {
    const wp_wit_type *vt = NULL;
    wp_status st = valtype(d, ts, &vt);
    return st == WP_OK ? dec__value_type_of(d, vt, out) : st;
}

/* The type of value i of a component scope, or of values declared so far in a type. */
static wp_status value_at(dec *d, const tscope *ts, uint32_t i, const ctype **out) {
    if (ts->sc ? i >= ts->sc->count[CS_VALUE] : i >= ts->nvals)
        return dec__fail(d, WP_ERR_INVALID, "unknown ", SORT_NAMES[CS_VALUE]);
    *out = ts->sc ? ts->sc->defs[CS_VALUE][i].type : ts->vals[i];
    return WP_OK;
}

/* valuebound: (eq i), the type of an earlier value (which it does not use up), or a type. */
static wp_status valuebound(dec *d, const tscope *ts, const ctype **t) {
    uint8_t b = 0;
    uint32_t i = 0;
    wp_status st = dec__byte(d, &b);
    if (st != WP_OK)
        return st;
    if (b == 0x00)
        return (st = dec__u32(d, &i)) == WP_OK ? value_at(d, ts, i, t) : st;
    if (b != 0x01)
        return dec__bad(d, "malformed value bound");
    return dec__value_type(d, ts, t);
}

/* externtype: what an import or export declares. A type bound adds to ts. */
wp_status dec__externtype(dec *d, tscope *ts, const char *nm, csort *s, const ctype **t) {
    uint8_t kind = 0;
    uint32_t i = 0;
    wp_status st = dec__byte(d, &kind);
    if (st != WP_OK)
        return st;
    *t = NULL;
    switch (kind) {
    case 0x00:
        *s = CS_CORE_MODULE;
        if ((st = dec__byte(d, &kind)) == WP_OK && kind != 0x11)
            return dec__bad(d, "malformed core module type");
        return st == WP_OK ? dec__u32(d, &i) : st;
    case 0x01: case 0x04: case 0x05: {
        *s = kind == 0x01 ? CS_FUNC : kind == 0x04 ? CS_COMPONENT : CS_INSTANCE;
        ctype_kind want = kind == 0x01 ? CT_FUNC : kind == 0x04 ? CT_COMPONENT : CT_INSTANCE;
        if ((st = dec__u32(d, &i)) == WP_OK && (st = dec__type_at(d, ts, i, t)) == WP_OK &&
            (*t)->kind != want)
            return dec__fail(d, WP_ERR_INVALID, "type does not match the sort ", SORT_NAMES[*s]);
        return st;
    }
    case 0x03: {
        *s = CS_TYPE;
        uint8_t bound = 0;
        if ((st = dec__byte(d, &bound)) != WP_OK)
            return st;
        if (bound == 0x00) {
            if ((st = dec__u32(d, &i)) == WP_OK)
                st = dec__type_at(d, ts, i, t);
        } else if (bound == 0x01) {
            ctype *r = NULL;
            st = new_resource(d, &r, nm);
            *t = r;
        } else {
            return dec__bad(d, "malformed type bound");
        }
        return st == WP_OK ? dec__push_type(d, ts, *t) : st;
    }
    case 0x02:
        *s = CS_VALUE;
        return valuebound(d, ts, t);
    default:
        return dec__bad(d, "malformed extern type");
    }
}

/* A record, variant, enum or flags type takes the name it is first exported as, for
 * messages ("expected point, got integer"). */
void dec__name_type(const ctype *t, const char *nm) {
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
    wp_status st = dec__count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        uint8_t k = 0;
        const char *nm = NULL;
        csort s = CS_FUNC;
        const ctype *et = NULL;
        if ((st = dec__byte(d, &k)) != WP_OK)
            break;
        switch (k) {
        case 0x00:
            st = dec__core_type(d, false);
            break;
        case 0x01:
            if ((st = dec__deftype(d, &ts, &et)) == WP_OK && et->kind == CT_RESOURCE && et->local)
                return dec__bad(d, "resource definitions are not allowed in types");
            if (st == WP_OK)
                st = dec__push_type(d, &ts, et);
            break;
        case 0x02:
            st = dec__alias_into(d, NULL, &ts, &s);
            break;
        case 0x03:
        case 0x04:
            if (k == 0x03 && !component)
                return dec__bad(d, "an instance type has no imports");
            if ((st = dec__extern_name(d, &nm)) == WP_OK &&
                (st = dec__externtype(d, &ts, nm, &s, &et)) == WP_OK && s == CS_TYPE)
                dec__name_type(et, nm);
            if (st == WP_OK && s == CS_VALUE) {
                if (!GROW(d, ts.vals, ts.vals_cap, ts.nvals + 1))
                    return dec__nomem(d);
                ts.vals[ts.nvals++] = et;
            }
            if (st == WP_OK)
                st = k == 0x03 ? dec__add_named(d, &t->imports, &t->nimports, &imp_cap, nm, s, et)
                               : dec__add_named(d, &t->exports, &t->nexports, &exp_cap, nm, s, et);
            break;
        default:
            return dec__bad(d, "malformed declaration");
        }
    }
    return st;
}

static wp_status resourcetype(dec *d, ctype **out) {
    uint8_t rep = 0;
    uint8_t has = 0;
    wp_status st = dec__byte(d, &rep);
    if (st == WP_OK && rep != 0x7f)
        return dec__bad(d, "a resource's representation must be i32");
    if (st == WP_OK)
        st = dec__byte(d, &has);
    if (st == WP_OK && has > 1)
        return dec__bad(d, "malformed destructor");
    if (st == WP_OK)
        st = new_resource(d, out, NULL);
    if (st == WP_OK) {
        (*out)->local = true;
        (*out)->has_dtor = has;
        if (has)
            st = dec__u32(d, &(*out)->dtor);
    }
    return st;
}

wp_status dec__deftype(dec *d, tscope *ts, const ctype **out) {
    uint8_t code = 0;
    wp_status st = dec__byte(d, &code);
    if (st != WP_OK)
        return st;
    if (++d->depth > MAX_NESTING)
        return dec__bad(d, "types nested too deeply");
    ctype *t = dec__alloc(d, sizeof *t);
    if (!t)
        return dec__nomem(d);
    switch (code) {
    case 0x40:
        st = functype(d, ts, t);
        break;
    case 0x43:
        return dec__fail(d, WP_ERR_UNSUPPORTED, "async functions are not supported", NULL);
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
    wp_status st = dec__count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        uint8_t t = 0;
        if ((st = dec__byte(d, &t)) == WP_OK && (t < 0x7b || t > 0x7f) && t != 0x70 && t != 0x6f)
            return dec__bad(d, "malformed core value type");
    }
    return st;
}

static wp_status core_limits(dec *d) {
    uint8_t flags = 0;
    uint32_t v = 0;
    wp_status st = dec__byte(d, &flags);
    if (st == WP_OK && flags > 1)
        return dec__fail(d, WP_ERR_UNSUPPORTED, "shared or 64-bit limits are not supported", NULL);
    if (st == WP_OK)
        st = dec__u32(d, &v);
    if (st == WP_OK && flags)
        st = dec__u32(d, &v);
    return st;
}

static wp_status core_externtype(dec *d) {
    uint8_t k = 0;
    uint8_t b = 0;
    uint32_t v = 0;
    wp_status st = dec__byte(d, &k);
    if (st != WP_OK)
        return st;
    switch (k) {
    case 0x00: return dec__u32(d, &v);
    case 0x01: return (st = dec__byte(d, &b)) == WP_OK ? core_limits(d) : st;
    case 0x02: return core_limits(d);
    case 0x03: return (st = dec__byte(d, &b)) == WP_OK ? dec__byte(d, &b) : st;
    default: return dec__bad(d, "malformed core extern type");
    }
}

wp_status dec__core_type(dec *d, bool in_module) {
    uint8_t k = 0;
    wp_status st = dec__byte(d, &k);
    if (st != WP_OK)
        return st;
    if (k == 0x60) {
        if ((st = core_valtypes(d)) == WP_OK)
            st = core_valtypes(d);
        return st;
    }
    if (k != 0x50 || in_module)
        return dec__fail(d, WP_ERR_UNSUPPORTED, "core types other than functions are not supported",
                         NULL);
    uint32_t n = 0;
    st = dec__count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        const char *ignored = NULL;
        uint32_t v = 0;
        if ((st = dec__byte(d, &k)) != WP_OK)
            break;
        if (k == 0x00) { /* import: module, name, type */
            if ((st = dec__name(d, &ignored)) == WP_OK && (st = dec__name(d, &ignored)) == WP_OK)
                st = core_externtype(d);
        } else if (k == 0x01) {
            st = dec__core_type(d, true);
        } else if (k == 0x02) { /* outer alias of a type: 0x10 0x01 ct idx */
            uint8_t a = 0;
            uint8_t b = 0;
            if ((st = dec__byte(d, &a)) == WP_OK && (st = dec__byte(d, &b)) == WP_OK &&
                (a != 0x10 || b != 0x01))
                return dec__bad(d, "malformed core alias");
            if (st == WP_OK && (st = dec__u32(d, &v)) == WP_OK)
                st = dec__u32(d, &v);
        } else if (k == 0x03) {
            if ((st = dec__name(d, &ignored)) == WP_OK)
                st = core_externtype(d);
        } else {
            return dec__bad(d, "malformed module type declaration");
        }
    }
    return st;
}
