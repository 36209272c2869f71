/* binary.c: component binaries to wp_component: sections, index spaces, definitions and their
 * validation (types are read by types.c). */
#include <inttypes.h>
#include <stdatomic.h>
#include <string.h>

#include "../base/compiler.h"
#include "../wasm/reader.h"
#include "decode.h"

wp_status dec__fail(dec *d, wp_status kind, const char *fmt, const char *what) {
    return wp_err_set(d->err, kind, "at 0x%zx: %s%s", rd_offset(&d->rd), fmt, what ? what : "");
}

wp_status dec__bad(dec *d, const char *why) {
    return dec__fail(d, WP_ERR_INVALID, why, NULL);
}

wp_status dec__nomem(dec *d) {
    return wp_err_set(d->err, WP_ERR_NOMEM, "out of memory");
}

void *dec__alloc(dec *d, size_t size) { return wit__alloc(d->c->arena, size); }

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


/* ---- Primitive reads --------------------------------------------------------------------- */

wp_status dec__u32(dec *d, uint32_t *out) {
    uint64_t v;
    if (!rd_uleb(&d->rd, 32, &v))
        return dec__bad(d, d->rd.why);
    *out = (uint32_t)v;
    return WP_OK;
}

wp_status dec__byte(dec *d, uint8_t *out) {
    return rd_u8(&d->rd, out) ? WP_OK : dec__bad(d, d->rd.why);
}

wp_status dec__count(dec *d, uint32_t *out) {
    wp_status st = dec__u32(d, out);
    if (st == WP_OK && (*out > MAX_ITEMS || *out > rd_remaining(&d->rd)))
        return dec__bad(d, "vector length too large");
    return st;
}

wp_status dec__name(dec *d, const char **out) {
    uint32_t len = 0;
    const uint8_t *p;
    wp_status st = dec__u32(d, &len);
    if (st != WP_OK)
        return st;
    if (!rd_bytes(&d->rd, len, &p))
        return dec__bad(d, "name runs past the end");
    char *s = dec__alloc(d, (size_t)len + 1);
    if (!s)
        return dec__nomem(d);
    memcpy(s, p, len);
    if (memchr(s, 0, len))
        return dec__bad(d, "name contains a NUL byte");
    if (!wp_utf8_valid(p, len))
        return dec__bad(d, "malformed UTF-8 encoding");
    *out = s;
    return WP_OK;
}

/* nameattributes: 0x00/0x01 name, or 0x02 name and attributes (ignored). */
wp_status dec__extern_name(dec *d, const char **out) {
    uint8_t kind = 0;
    wp_status st = dec__byte(d, &kind);
    if (st == WP_OK && kind > 0x02)
        return dec__bad(d, "malformed name kind");
    if (st == WP_OK)
        st = dec__name(d, out);
    /* No import or export name of the grammar has a '#': it separates an interface from its
     * function where the embedder names one ("wasi:cli/run#run"). */
    if (st == WP_OK && strchr(*out, '#'))
        return dec__fail(d, WP_ERR_INVALID, "'#' in an import or export name: ", *out);
    if (st != WP_OK || kind != 0x02)
        return st;
    uint32_t n = 0;
    if ((st = dec__count(d, &n)) != WP_OK)
        return st;
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        uint8_t k = 0;
        const char *ignored = NULL;
        if ((st = dec__byte(d, &k)) == WP_OK && k > 0x02)
            return dec__bad(d, "malformed name attribute");
        if (st == WP_OK)
            st = dec__name(d, &ignored);
    }
    return st;
}

/* ---- Index spaces ------------------------------------------------------------------------ */

const char *const SORT_NAMES[CS_COUNT] = {
    "core func", "core table", "core memory", "core global", "core type",  "core module",
    "core instance", "func",   "value",       "type",        "component", "instance"};

static wp_status core_sort(dec *d, csort *out) {
    uint8_t b = 0;
    wp_status st = dec__byte(d, &b);
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
    case 0x04: return dec__fail(d, WP_ERR_UNSUPPORTED, "exception tags are not supported", NULL);
    default: return dec__bad(d, "malformed core sort");
    }
}

static wp_status sort(dec *d, csort *out) {
    uint8_t b = 0;
    wp_status st = dec__byte(d, &b);
    if (st != WP_OK)
        return st;
    switch (b) {
    case 0x00: return core_sort(d, out);
    case 0x01: *out = CS_FUNC; return WP_OK;
    case 0x02: *out = CS_VALUE; return WP_OK;
    case 0x03: *out = CS_TYPE; return WP_OK;
    case 0x04: *out = CS_COMPONENT; return WP_OK;
    case 0x05: *out = CS_INSTANCE; return WP_OK;
    default: return dec__bad(d, "malformed sort");
    }
}

static wp_status check_index(dec *d, const cscope *sc, csort s, uint32_t i) {
    if (i >= sc->count[s])
        return dec__fail(d, WP_ERR_INVALID, "unknown ", SORT_NAMES[s]);
    return WP_OK;
}

/* An index of a definition made before the one being read, which is already counted in its
 * own sort 'self' (an instance cannot be its own argument or export). */
static wp_status check_before(dec *d, const cscope *sc, csort s, uint32_t i, csort self) {
    if ((uint64_t)i + (s == self) >= sc->count[s])
        return dec__fail(d, WP_ERR_INVALID, "unknown ", SORT_NAMES[s]);
    return WP_OK;
}

static wp_status sortidx(dec *d, const cscope *sc, bool core, csort self, carg *out) {
    wp_status st = core ? core_sort(d, &out->sort) : sort(d, &out->sort);
    if (st == WP_OK)
        st = dec__u32(d, &out->index);
    if (st == WP_OK)
        st = check_before(d, sc, out->sort, out->index, self);
    return st;
}

/* Appends a definition to an index space; *out points at it until the next add. */
static wp_status add_def(dec *d, cscope *sc, csort s, cdef_kind kind, cdef **out) {
    /* values are few; the checks that each is used once are linear scans */
    if (s == CS_VALUE && sc->count[s] >= WIT_MAX_ITEMS)
        return dec__bad(d, "too many values");
    if (!GROW(d, sc->defs[s], sc->cap[s], sc->count[s] + 1) ||
        !GROW(d, sc->order, sc->order_cap, sc->norder + 1))
        return dec__nomem(d);
    cdef *def = &sc->defs[s][sc->count[s]];
    memset(def, 0, sizeof *def);
    def->kind = kind;
    def->offset = (uint32_t)rd_offset(&d->rd);
    sc->order[sc->norder++] = (carg){.sort = s, .index = sc->count[s]++};
    *out = def;
    return WP_OK;
}

wp_status dec__push_type(dec *d, tscope *ts, const ctype *t) {
    if (!GROW(d, ts->types, ts->cap, ts->n + 1))
        return dec__nomem(d);
    ts->types[ts->n++] = t;
    return WP_OK;
}

wp_status dec__type_at(dec *d, const tscope *ts, uint32_t i, const ctype **out) {
    if (i >= ts->n)
        return dec__bad(d, "unknown type");
    *out = ts->types[i];
    return WP_OK;
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
    wp_status st = dec__u32(d, &ct);
    if (st == WP_OK)
        st = dec__u32(d, &idx);
    if (st != WP_OK)
        return st;
    def->a = ct;
    def->b = idx;
    if (s == CS_TYPE) {
        const tscope *t = ts;
        for (uint32_t i = 0; i < ct && t; i++)
            t = t->parent;
        if (!t)
            return dec__bad(d, "outer alias reaches past the outermost scope");
        if ((st = dec__type_at(d, t, idx, &def->type)) == WP_OK)
            st = dec__push_type(d, ts, def->type);
        return st;
    }
    if (s == CS_CORE_TYPE)
        return WP_OK; /* core types are only checked for form */
    if (s != CS_CORE_MODULE && s != CS_COMPONENT)
        return dec__bad(d, "outer aliases name types, modules and components only");
    const cscope *o = sc;
    for (uint32_t i = 0; i < ct && o; i++)
        o = o->parent;
    if (!o)
        return dec__bad(d, "outer alias reaches past the outermost scope");
    if (idx + (o == sc) >= o->count[s]) /* this alias is already counted: not itself */
        return dec__fail(d, WP_ERR_INVALID, "unknown ", SORT_NAMES[s]);
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
    wp_status st = dec__u32(d, &def->a);
    /* the alias itself was just added: an instance alias may not name itself */
    if (st == WP_OK && sc && def->a + (s == CS_INSTANCE) >= sc->count[CS_INSTANCE])
        return dec__fail(d, WP_ERR_INVALID, "unknown ", SORT_NAMES[CS_INSTANCE]);
    if (st == WP_OK)
        st = dec__name(d, &def->name);
    if (st != WP_OK)
        return st;
    if (!sc)
        return dec__bad(d, "export aliases are not allowed in types");
    const ctype *it = sc->defs[CS_INSTANCE][def->a].type;
    const cnamed *e = it ? find_named(it->exports, it->nexports, def->name) : NULL;
    if (!e)
        return dec__fail(d, WP_ERR_INVALID, "the instance has no export ", def->name);
    if (e->sort != s)
        return dec__fail(d, WP_ERR_INVALID, "wrong sort for the export ", def->name);
    /* an instance's value, like any value, can be taken out once */
    for (uint32_t i = 0; s == CS_VALUE && i + 1 < sc->count[CS_VALUE]; i++) {
        const cdef *o = &sc->defs[CS_VALUE][i];
        if (o->kind == CD_ALIAS_EXPORT && o->a == def->a && strcmp(o->name, def->name) == 0)
            return dec__fail(d, WP_ERR_INVALID,
                             "the instance's value is aliased twice: ", def->name);
    }
    def->type = e->type;
    return s == CS_TYPE ? dec__push_type(d, ts, def->type) : WP_OK;
}

/* One alias, into the scope sc (NULL inside a type, where only ts grows). */
wp_status dec__alias_into(dec *d, cscope *sc, tscope *ts, csort *sort_out) {
    csort s = CS_FUNC;
    uint8_t k = 0;
    cdef local = {0};
    cdef *def = &local;
    wp_status st = sort(d, &s);
    if (st == WP_OK)
        st = dec__byte(d, &k);
    if (st == WP_OK && k > 0x02)
        return dec__bad(d, "malformed alias");
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
        return dec__bad(d, "core export aliases are not allowed in types");
    if (s > CS_CORE_GLOBAL)
        return dec__bad(d, "core export aliases name functions, tables, memories and globals");
    if ((st = dec__u32(d, &def->a)) == WP_OK &&
        (st = check_index(d, sc, CS_CORE_INSTANCE, def->a)) == WP_OK)
        st = dec__name(d, &def->name);
    return st;
}

/* A section that is a vector of items, each read by one. */
static wp_status each(dec *d, cscope *sc, wp_status (*one)(dec *d, cscope *sc)) {
    uint32_t n = 0;
    wp_status st = dec__count(d, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++)
        st = one(d, sc);
    return st;
}

static wp_status alias(dec *d, cscope *sc) {
    csort s = CS_FUNC;
    return dec__alias_into(d, sc, &sc->ts, &s);
}

static wp_status type(dec *d, cscope *sc) {
    cdef *def = NULL;
    wp_status st = add_def(d, sc, CS_TYPE, CD_TYPE, &def);
    if (st == WP_OK && (st = dec__deftype(d, &sc->ts, &def->type)) == WP_OK)
        st = dec__push_type(d, &sc->ts, def->type);
    return st;
}

static wp_status core_type(dec *d, cscope *sc) {
    cdef *def = NULL;
    wp_status st = add_def(d, sc, CS_CORE_TYPE, CD_TYPE, &def);
    return st == WP_OK ? dec__core_type(d, false) : st;
}

/* The start of a (core) instance definition of sort s: kind k (0: instantiate what, 1: inline
 * exports), the definition, its instantiated item (of sort what) when k is 0, and room for its
 * *n arguments. */
static wp_status instance_head(dec *d, cscope *sc, csort s, csort what, uint8_t *k, cdef **def,
                               uint32_t *n) {
    static const cdef_kind kinds[2][2] = {{CD_INSTANTIATE, CD_INLINE},
                                          {CD_CORE_INSTANTIATE, CD_CORE_INLINE}};
    bool core = s == CS_CORE_INSTANCE;
    wp_status st = dec__byte(d, k);
    if (st == WP_OK && *k > 1)
        return dec__bad(d, core ? "malformed core instance" : "malformed instance");
    if (st == WP_OK)
        st = add_def(d, sc, s, kinds[core][*k], def);
    if (st == WP_OK && *k == 0 && (st = dec__u32(d, &(*def)->a)) == WP_OK)
        st = check_index(d, sc, what, (*def)->a);
    if (st == WP_OK)
        st = dec__count(d, n);
    if (st != WP_OK)
        return st;
    (*def)->nargs = *n;
    if (*n && !((*def)->args = dec__alloc(d, *n * sizeof *(*def)->args)))
        return dec__nomem(d);
    return WP_OK;
}

static wp_status core_instance(dec *d, cscope *sc) {
    uint8_t k = 0;
    cdef *def = NULL;
    uint32_t n = 0;
    wp_status st = instance_head(d, sc, CS_CORE_INSTANCE, CS_CORE_MODULE, &k, &def, &n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        if ((st = dec__name(d, &def->args[i].name)) != WP_OK)
            break;
        if (k == 0) {
            uint8_t s = 0;
            if ((st = dec__byte(d, &s)) == WP_OK && s != 0x12)
                return dec__bad(d, "core instantiation arguments must be instances");
            def->args[i].sort = CS_CORE_INSTANCE;
            if (st == WP_OK && (st = dec__u32(d, &def->args[i].index)) == WP_OK)
                st = check_before(d, sc, CS_CORE_INSTANCE, def->args[i].index, CS_CORE_INSTANCE);
        } else {
            carg a;
            if ((st = sortidx(d, sc, true, CS_CORE_INSTANCE, &a)) == WP_OK &&
                a.sort > CS_CORE_GLOBAL)
                return dec__bad(d,
                                "core instance exports are functions, tables, memories, globals");
            def->args[i].sort = a.sort;
            def->args[i].index = a.index;
        }
    }
    return st;
}

/* The type of a component instance made from named items. */
static wp_status inline_type(dec *d, const cscope *sc, const carg *args, uint32_t n,
                             const ctype **out) {
    ctype *t = dec__alloc(d, sizeof *t);
    uint32_t cap = 0;
    if (!t)
        return dec__nomem(d);
    t->kind = CT_INSTANCE;
    wp_status st = WP_OK;
    for (uint32_t i = 0; i < n && st == WP_OK; i++)
        st = dec__add_named(d, &t->exports, &t->nexports, &cap, args[i].name, args[i].sort,
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
            return dec__fail(d, WP_ERR_INVALID, "instantiate: no argument for the import ",
                             im->name);
        if (a->sort != im->sort)
            return dec__fail(d, WP_ERR_INVALID, "instantiate: wrong sort of argument ", im->name);
        const ctype *at = item_type(sc, a->sort, a->index);
        if (im->sort == CS_FUNC && at && im->type && !func_match(at->func, im->type->func))
            return dec__fail(d, WP_ERR_INVALID, "instantiate: wrong function type of argument ",
                             im->name);
        if (im->sort == CS_VALUE && at && im->type && !val_match(at->val, im->type->val, 0))
            return dec__fail(d, WP_ERR_INVALID, "instantiate: wrong value type of argument ",
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
        st = k == 0 ? dec__name(d, &def->args[i].name) : dec__extern_name(d, &def->args[i].name);
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
    ctype *it = dec__alloc(d, sizeof *it);
    if (!it)
        return dec__nomem(d);
    it->kind = CT_INSTANCE;
    it->nexports = ct ? ct->nexports : 0;
    it->exports = ct ? ct->exports : NULL;
    def->type = it;
    return WP_OK;
}

/* ---- Canonical definitions --------------------------------------------------------------- */

static wp_status canon_opts(dec *d, const cscope *sc, copts *o) {
    uint32_t n = 0;
    wp_status st = dec__count(d, &n);
    bool enc = false;
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        uint8_t k = 0;
        if ((st = dec__byte(d, &k)) != WP_OK)
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
            if ((st = dec__u32(d, &o->memory)) == WP_OK)
                st = check_index(d, sc, CS_CORE_MEMORY, o->memory);
            break;
        case 0x04:
            dup = o->has_realloc;
            o->has_realloc = true;
            if ((st = dec__u32(d, &o->realloc)) == WP_OK)
                st = check_index(d, sc, CS_CORE_FUNC, o->realloc);
            break;
        case 0x05:
            dup = o->has_post;
            o->has_post = true;
            if ((st = dec__u32(d, &o->post_return)) == WP_OK)
                st = check_index(d, sc, CS_CORE_FUNC, o->post_return);
            break;
        case 0x06: case 0x07:
            return dec__fail(d, WP_ERR_UNSUPPORTED, "async canonical options are not supported",
                             NULL);
        default:
            return dec__bad(d, "malformed canonical option");
        }
        if (dup)
            return dec__bad(d, "duplicate canonical option");
    }
    return st;
}

static wp_status canon_resource(dec *d, cscope *sc, cdef_kind kind) {
    cdef *def = NULL;
    const ctype *t = NULL;
    wp_status st = add_def(d, sc, CS_CORE_FUNC, kind, &def);
    if (st == WP_OK)
        st = dec__u32(d, &def->a);
    if (st == WP_OK)
        st = dec__type_at(d, &sc->ts, def->a, &t);
    if (st == WP_OK && t->kind != CT_RESOURCE)
        return dec__bad(d, "not a resource type");
    if (st == WP_OK && kind != CD_RES_DROP && !t->local)
        return dec__bad(d, "resource.new and resource.rep need a resource defined here");
    if (st == WP_OK)
        def->type = t;
    return st;
}

static wp_status canon(dec *d, cscope *sc) {
    uint8_t k = 0;
    uint8_t zero = 0;
    cdef *def = NULL;
    wp_status st = dec__byte(d, &k);
    if (st != WP_OK)
        return st;
    switch (k) {
    case 0x00: /* lift */
        if ((st = dec__byte(d, &zero)) == WP_OK && zero != 0)
            return dec__bad(d, "malformed canon lift");
        if (st == WP_OK)
            st = add_def(d, sc, CS_FUNC, CD_LIFT, &def);
        if (st == WP_OK && (st = dec__u32(d, &def->a)) == WP_OK)
            st = check_index(d, sc, CS_CORE_FUNC, def->a);
        if (st == WP_OK)
            st = canon_opts(d, sc, &def->opts);
        if (st == WP_OK && (st = dec__u32(d, &def->b)) == WP_OK &&
            (st = dec__type_at(d, &sc->ts, def->b, &def->type)) == WP_OK &&
            def->type->kind != CT_FUNC)
            return dec__bad(d, "canon lift needs a function type");
        return st;
    case 0x01: /* lower */
        if ((st = dec__byte(d, &zero)) == WP_OK && zero != 0)
            return dec__bad(d, "malformed canon lower");
        if (st == WP_OK)
            st = add_def(d, sc, CS_CORE_FUNC, CD_LOWER, &def);
        if (st == WP_OK && (st = dec__u32(d, &def->a)) == WP_OK)
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
        return dec__fail(d, WP_ERR_UNSUPPORTED,
                         "async, thread and error-context canonical built-ins are not supported",
                         NULL);
    }
}

/* ---- Imports and exports ----------------------------------------------------------------- */

static wp_status import(dec *d, cscope *sc) {
    const char *nm = NULL;
    csort s = CS_FUNC;
    const ctype *t = NULL;
    cdef *def = NULL;
    wp_status st;
    if ((st = dec__extern_name(d, &nm)) != WP_OK ||
        (st = dec__externtype(d, &sc->ts, nm, &s, &t)) != WP_OK)
        return st;
    if (sc->nimports >= WIT_MAX_ITEMS)
        return dec__bad(d, "too many imports");
    for (uint32_t j = 0; j < sc->nimports; j++)
        if (strcmp(sc->imports[j].name, nm) == 0)
            return dec__fail(d, WP_ERR_INVALID, "duplicate import ", nm);
    if (s == CS_CORE_MODULE || s == CS_COMPONENT)
        return dec__fail(d, WP_ERR_UNSUPPORTED, "module and component imports are not supported",
                         NULL);
    if (!GROW(d, sc->imports, sc->imports_cap, sc->nimports + 1))
        return dec__nomem(d);
    sc->imports[sc->nimports] = (cimport){.name = nm, .sort = s, .type = t};
    if ((st = add_def(d, sc, s, CD_IMPORT, &def)) == WP_OK) {
        def->a = sc->nimports;
        def->type = t;
        def->name = nm;
    }
    sc->nimports++;
    return st;
}

static wp_status export_one(dec *d, cscope *sc) {
    const char *nm = NULL;
    carg a;
    uint8_t has = 0;
    cdef *def = NULL;
    wp_status st = dec__extern_name(d, &nm);
    if (st == WP_OK)
        st = sortidx(d, sc, false, CS_COUNT, &a);
    if (st == WP_OK && a.sort <= CS_CORE_INSTANCE && a.sort != CS_CORE_MODULE)
        return dec__bad(d, "only core modules of the core sorts can be exported");
    if (st == WP_OK && a.sort == CS_VALUE)
        st = use_value(d, sc, a.index);
    if (st == WP_OK)
        st = dec__byte(d, &has);
    if (st != WP_OK)
        return st;
    const ctype *t = item_type(sc, a.sort, a.index);
    const ctype *have = t;
    csort s = CS_FUNC;
    if (a.sort == CS_TYPE)
        dec__name_type(t, nm);
    if (has == 1 && (st = dec__externtype(d, &sc->ts, nm, &s, &t)) == WP_OK && s != a.sort)
        return dec__bad(d, "the export's declared sort differs from the item's");
    if (st == WP_OK && has == 1 && s == CS_VALUE && !val_match(have->val, t->val, 0))
        return dec__bad(d, "the export's declared value type differs from the value's");
    if (st == WP_OK && has > 1)
        return dec__bad(d, "malformed export type");
    if (st == WP_OK && sc->nexports >= WIT_MAX_ITEMS)
        return dec__bad(d, "too many exports");
    for (uint32_t j = 0; st == WP_OK && j < sc->nexports; j++)
        if (strcmp(sc->exports[j].name, nm) == 0)
            return dec__fail(d, WP_ERR_INVALID, "duplicate export ", nm);
    if (st == WP_OK && !GROW(d, sc->exports, sc->exports_cap, sc->nexports + 1))
        return dec__nomem(d);
    if (st == WP_OK)
        sc->exports[sc->nexports++] = (cexport){.name = nm, .sort = a.sort, .index = a.index};
    if (st == WP_OK && (st = add_def(d, sc, a.sort, CD_EXPORT, &def)) == WP_OK) {
        def->a = a.index;
        def->type = t;
        def->name = nm;
        def->used = a.sort == CS_VALUE; /* the new index names the value that went out */
        if (a.sort == CS_TYPE && has != 1)
            st = dec__push_type(d, &sc->ts, t);
    }
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
        return dec__nomem(d);
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
    ctype *t = dec__alloc(d, sizeof *t);
    uint32_t icap = 0;
    uint32_t ecap = 0;
    if (!t)
        return dec__nomem(d);
    t->kind = CT_COMPONENT;
    wp_status st = WP_OK;
    for (uint32_t i = 0; i < sc->nimports && st == WP_OK; i++)
        st = dec__add_named(d, &t->imports, &t->nimports, &icap, sc->imports[i].name,
                            sc->imports[i].sort, sc->imports[i].type);
    for (uint32_t i = 0; i < sc->nexports && st == WP_OK; i++)
        st = dec__add_named(d, &t->exports, &t->nexports, &ecap, sc->exports[i].name,
                            sc->exports[i].sort,
                            item_type(sc, sc->exports[i].sort, sc->exports[i].index));
    *out = t;
    return st;
}

static wp_status section_component(dec *d, cscope *sc, const uint8_t *end) {
    if (++d->depth > MAX_NESTING)
        return dec__bad(d, "components nested too deeply");
    cscope *child = dec__alloc(d, sizeof *child);
    if (!child)
        return dec__nomem(d);
    child->parent = sc;
    child->ts.parent = &sc->ts;
    child->ts.sc = child;
    wp_reader saved = d->rd;
    const uint8_t *p;
    static const uint8_t pre[8] = {0, 'a', 's', 'm', 0x0d, 0, 1, 0};
    if (!rd_bytes(&d->rd, 8, &p) || memcmp(p, pre, 8) != 0)
        return dec__bad(d, "a nested component has a bad preamble");
    d->rd.end = end;
    wp_status st = scope_body(d, child);
    d->rd.end = saved.end;
    cdef *def = NULL;
    if (st == WP_OK && (st = add_def(d, sc, CS_COMPONENT, CD_COMPONENT, &def)) == WP_OK) {
        if (!GROW(d, sc->components, sc->components_cap, sc->ncomponents + 1))
            return dec__nomem(d);
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
    wp_status st = dec__u32(d, out);
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
    wp_status st = dec__u32(d, &start.func);
    if (st == WP_OK)
        st = check_index(d, sc, CS_FUNC, start.func);
    if (st == WP_OK)
        st = dec__count(d, &start.nargs);
    if (st != WP_OK)
        return st;
    const ctype *t = item_type(sc, CS_FUNC, start.func);
    if (!t || !t->func)
        return dec__bad(d, "the start function has no function type");
    const wp_wit_func *ft = t->func;
    if (start.nargs != ft->nparams)
        return wp_err_set(d->err, WP_ERR_INVALID, "at 0x%zx: the start function takes %" PRIu32
                          " arguments, %" PRIu32 " given", rd_offset(&d->rd), ft->nparams,
                          start.nargs);
    if (start.nargs && !(start.args = dec__alloc(d, start.nargs * sizeof *start.args)))
        return dec__nomem(d);
    for (uint32_t i = 0; i < start.nargs && st == WP_OK; i++)
        st = start_arg(d, sc, ft, i, &start.args[i]);
    if (st == WP_OK)
        st = dec__u32(d, &nresults);
    if (st == WP_OK && nresults != (ft->result ? 1u : 0u))
        return wp_err_set(d->err, WP_ERR_INVALID, "at 0x%zx: the start function returns %u "
                          "results, %" PRIu32 " declared", rd_offset(&d->rd),
                          ft->result ? 1u : 0u, nresults);
    if (st != WP_OK)
        return st;
    if (!GROW(d, sc->starts, sc->starts_cap, sc->nstarts + 1))
        return dec__nomem(d);
    start.at = sc->norder;
    cdef *def = NULL;
    if (ft->result && (st = add_def(d, sc, CS_VALUE, CD_START_RESULT, &def)) == WP_OK) {
        def->a = sc->nstarts;
        start.has_result = true;
        start.result = sc->count[CS_VALUE] - 1;
        if ((st = dec__value_type_of(d, ft->result, &def->type)) != WP_OK)
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
        st = dec__value_type(d, &sc->ts, &def->type);
    if (st == WP_OK)
        st = dec__u32(d, &len);
    if (st == WP_OK && len > rd_remaining(&d->rd))
        return dec__bad(d, "value runs past the end");
    if (st != WP_OK)
        return st;
    if (!GROW(d, c->values, c->values_cap, c->nvalues + 1))
        return dec__nomem(d);
    const uint8_t *end = d->rd.end;
    const uint8_t *vend = d->rd.p + len;
    const char *why = NULL;
    d->rd.end = vend;
    c->values[c->nvalues] = wp_value_nil();
    st = comp__read_value(&d->rd, def->type->val, &d->value_nodes, &c->values[c->nvalues], &why);
    d->rd.end = end;
    if (st != WP_OK)
        return st == WP_ERR_NOMEM ? dec__nomem(d) : dec__bad(d, why);
    def->a = c->nvalues++; /* owned by the component from here, freed with it on failure too */
    return d->rd.p == vend ? WP_OK : dec__bad(d, "value length mismatch");
}

static wp_status section(dec *d, cscope *sc, uint8_t id, const uint8_t *end) {
    switch (id) {
    case 0: d->rd.p = end; return WP_OK;
    case 1: {
        const uint8_t *p = d->rd.p;
        d->rd.p = end;
        return section_module(d, sc, p, (size_t)(end - p));
    }
    case 2: return each(d, sc, core_instance);
    case 3: return each(d, sc, core_type);
    case 4: return section_component(d, sc, end);
    case 5: return each(d, sc, instance);
    case 6: return each(d, sc, alias);
    case 7: return each(d, sc, type);
    case 8: return each(d, sc, canon);
    case 9: return section_start(d, sc);
    case 10: return each(d, sc, import);
    case 11: return each(d, sc, export_one);
    case 12: return each(d, sc, value_def);
    default: return dec__bad(d, "unknown section");
    }
}

static wp_status scope_body(dec *d, cscope *sc) {
    wp_status st = WP_OK;
    while (st == WP_OK && !rd_done(&d->rd)) {
        uint8_t id = 0;
        uint32_t size = 0;
        if ((st = dec__byte(d, &id)) != WP_OK || (st = dec__u32(d, &size)) != WP_OK)
            break;
        if (size > rd_remaining(&d->rd))
            return dec__bad(d, "section runs past the end");
        const uint8_t *end = d->rd.p + size;
        const uint8_t *outer_end = d->rd.end;
        d->rd.end = end;
        st = section(d, sc, id, end);
        if (st == WP_OK && d->rd.p != end)
            st = dec__bad(d, "section size mismatch");
        d->rd.end = outer_end;
    }
    return st == WP_OK ? values_all_used(d, sc) : st;
}

/* ---- Exported function names ------------------------------------------------------------- */

static wp_status add_export_func(dec *d, const char *prefix, const char *nm, uint32_t *cap) {
    wp_component *c = d->c;
    size_t pl = prefix ? strlen(prefix) + 1 : 0;
    char *s = dec__alloc(d, pl + strlen(nm) + 1);
    if (!s || !GROW(d, c->export_funcs, *cap, c->nexport_funcs + 1))
        return dec__nomem(d);
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

/* ---- How often each core module is instantiated -------------------------------------------- */

#define CENSUS_STEPS 100000u /* instantiations followed, at most (nesting multiplies them) */
#define CENSUS_DEPTH 64u     /* components instantiated inside each other, at most */

/* A scope being instantiated, and the one instantiating it (what outer aliases reach, as in
 * instance.c). */
typedef struct census_frame {
    const cscope *sc;
    const struct census_frame *parent;
} census_frame;

typedef struct census {
    uint32_t *counts; /* by module number */
    uint32_t steps;
    bool unknown; /* an instantiation whose module or component only instantiation can tell */
} census;

/* The definition item i of sort s comes from, through outer aliases and re-exports; *f moves
 * to the frame of its scope. NULL for an import or an instance's export. */
static const cdef *origin(const census_frame **f, csort s, uint32_t i) {
    for (uint32_t hops = 0; hops < CENSUS_STEPS && *f; hops++) {
        const cscope *sc = (*f)->sc;
        if (i >= sc->count[s])
            return NULL;
        const cdef *def = &sc->defs[s][i];
        if (def->kind == CD_ALIAS_OUTER) {
            for (uint32_t k = 0; k < def->a && *f; k++)
                *f = (*f)->parent;
            i = def->b;
        } else if (def->kind == CD_EXPORT) {
            i = def->a;
        } else {
            return def;
        }
    }
    return NULL;
}

/* Counts the core instances that instantiating f's scope makes, nested ones included. */
static void census_scope(census *cs, const census_frame *f, uint32_t depth) {
    const cscope *sc = f->sc;
    if (depth > CENSUS_DEPTH) { /* outer aliases can chain siblings: keep the C stack short */
        cs->unknown = true;
        return;
    }
    for (uint32_t i = 0; i < sc->count[CS_CORE_INSTANCE] && cs->steps <= CENSUS_STEPS; i++) {
        const cdef *inst = &sc->defs[CS_CORE_INSTANCE][i];
        if (inst->kind != CD_CORE_INSTANTIATE)
            continue;
        const census_frame *o = f;
        const cdef *m = origin(&o, CS_CORE_MODULE, inst->a);
        cs->steps++;
        if (!m || m->kind != CD_CORE_MODULE)
            cs->unknown = true;
        else if (cs->counts[m->a] < UINT32_MAX)
            cs->counts[m->a]++;
    }
    for (uint32_t i = 0; i < sc->count[CS_INSTANCE] && cs->steps <= CENSUS_STEPS; i++) {
        const cdef *inst = &sc->defs[CS_INSTANCE][i];
        if (inst->kind != CD_INSTANTIATE)
            continue;
        const census_frame *o = f;
        const cdef *c = origin(&o, CS_COMPONENT, inst->a);
        cs->steps++;
        if (!c || c->kind != CD_COMPONENT) {
            cs->unknown = true;
            continue;
        }
        census_frame child = {o->sc->components[c->a], f};
        census_scope(cs, &child, depth + 1);
    }
    if (cs->steps > CENSUS_STEPS)
        cs->unknown = true;
}

/* wp_component.instances: how many core instances of each module instantiating the root
 * makes. When the binary alone cannot tell (an instance's export, too many), every module
 * counts once more than found, which is at least as many as one instantiation of each. */
static wp_status count_instances(dec *d) {
    wp_component *c = d->c;
    census cs = {.counts = dec__alloc(d, ((size_t)c->nmodules + 1) * sizeof(uint32_t))};
    if (!cs.counts)
        return dec__nomem(d);
    memset(cs.counts, 0, ((size_t)c->nmodules + 1) * sizeof(uint32_t));
    census_frame root = {c->root, NULL};
    census_scope(&cs, &root, 0);
    for (uint32_t i = 0; cs.unknown && i < c->nmodules; i++)
        cs.counts[i] += cs.counts[i] < UINT32_MAX;
    c->instances = cs.counts;
    return WP_OK;
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
    wp_status st = (c->root = dec__alloc(&d, sizeof *c->root)) ? WP_OK : dec__nomem(&d);
    if (st == WP_OK) {
        c->root->ts.sc = c->root;
        st = scope_body(&d, c->root);
    }
    if (st == WP_OK)
        st = list_exports(&d);
    if (st == WP_OK)
        st = count_instances(&d);
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

uint32_t wp_component_module_instances(const wp_component *c, uint32_t i) {
    return i < c->nmodules ? c->instances[i] : 0;
}

const wp_module *wp_component_module(const wp_component *c, uint32_t i) {
    return i < c->nmodules ? c->modules[i] : NULL;
}
