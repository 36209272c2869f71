/* instance.c: instantiation: checking imports, creating an instance's objects, segments. */
#include <inttypes.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* An instance is one allocation from the store's heap: the wp_instance, its defined functions
 * and globals, its index-space arrays, the resolved items of passive element segments, and the
 * per-segment counts and flags. Memories and tables are objects of their own in the store.
 *
 * Active and declarative element segments are dropped by instantiation, so only passive ones
 * keep resolved items. If an active segment traps, it and the active segments after it are
 * left dropped as well (the spec leaves them undropped); only a function of the failed instance
 * that some earlier segment stored in an imported table could tell, by running table.init on
 * one of them. */

/* Byte offsets of the parts of an instance's allocation. */
typedef struct layout {
    size_t func_block;   /* wp_func[defined functions] */
    size_t global_block; /* wp_global[defined globals] */
    size_t funcs;        /* wp_func *[nfuncs] */
    size_t tables;       /* wp_table *[ntables] */
    size_t mems;         /* wp_memory *[nmems] */
    size_t globals;      /* wp_global *[nglobals] */
    size_t elem_items;   /* void **[nelems] */
    size_t elem_storage; /* void *[items of passive segments] */
    size_t elem_counts;  /* uint32_t[nelems] */
    size_t data_dropped; /* uint8_t[ndatas] */
    size_t total;
} layout;

/* Places an array of count elements of elem_size bytes, aligned to align, at *size; false if
 * the total would overflow. */
static bool place(size_t *size, size_t count, size_t elem_size, size_t align, size_t *at) {
    size_t off = (*size + align - 1) / align * align;
    if (off < *size || (elem_size != 0 && count > (SIZE_MAX - off) / elem_size))
        return false;
    *at = off;
    *size = off + count * elem_size;
    return true;
}

static uint64_t passive_items(const wp_module *m) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < m->nelems; i++) {
        if (m->elems[i].mode == WP_SEG_PASSIVE)
            n += m->elems[i].count;
    }
    return n;
}

static bool plan_layout(const wp_module *m, layout *lay) {
    uint64_t items = passive_items(m);
    size_t sz = sizeof(wp_instance);
    bool ok = items <= SIZE_MAX;
    ok = ok && place(&sz, m->nfuncs - m->nimported_funcs, sizeof(wp_func), alignof(wp_func),
                     &lay->func_block);
    ok = ok && place(&sz, m->nglobals - m->nimported_globals, sizeof(wp_global),
                     alignof(wp_global), &lay->global_block);
    ok = ok && place(&sz, m->nfuncs, sizeof(wp_func *), alignof(wp_func *), &lay->funcs);
    ok = ok && place(&sz, m->ntables, sizeof(wp_table *), alignof(wp_table *), &lay->tables);
    ok = ok && place(&sz, m->nmems, sizeof(wp_memory *), alignof(wp_memory *), &lay->mems);
    ok = ok && place(&sz, m->nglobals, sizeof(wp_global *), alignof(wp_global *), &lay->globals);
    ok = ok && place(&sz, m->nelems, sizeof(void **), alignof(void **), &lay->elem_items);
    ok = ok && place(&sz, (size_t)items, sizeof(void *), alignof(void *), &lay->elem_storage);
    ok = ok && place(&sz, m->nelems, sizeof(uint32_t), alignof(uint32_t), &lay->elem_counts);
    ok = ok && place(&sz, m->ndatas, sizeof(uint8_t), 1, &lay->data_dropped);
    lay->total = sz;
    return ok;
}

/* ---- Checking imports ---------------------------------------------------------------------- */

/* A short message under construction. */
typedef struct text {
    char buf[200];
    size_t len;
} text;

static void put(text *t, const char *fmt, ...) WP_PRINTF(2, 3);

static void put(text *t, const char *fmt, ...) {
    if (t->len >= sizeof t->buf - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n < sizeof t->buf - t->len ? (size_t)n : sizeof t->buf - 1 - t->len;
}

static const char *kind_name(wp_externkind k) {
    switch (k) {
    case WP_EXTERN_FUNC:
        return "function";
    case WP_EXTERN_TABLE:
        return "table";
    case WP_EXTERN_MEMORY:
        return "memory";
    case WP_EXTERN_GLOBAL:
        return "global";
    }
    return "?";
}

/* "(i32 i64)": n types of ft starting at 'from'. */
static void put_types(text *t, const wp_functype *ft, uint32_t from, uint32_t n) {
    put(t, "(");
    for (uint32_t i = 0; i < n; i++)
        put(t, "%s%s", i > 0 ? " " : "", wp_valtype_name(ft->types[from + i]));
    put(t, ")");
}

static void put_functype(text *t, const wp_functype *ft) {
    put_types(t, ft, 0, ft->nparams);
    put(t, " -> ");
    put_types(t, ft, ft->nparams, ft->nresults);
}

static void put_limits(text *t, wp_limits l) {
    if (l.has_max)
        put(t, "(min %" PRIu32 ", max %" PRIu32 ")", l.min, l.max);
    else
        put(t, "(min %" PRIu32 ", no max)", l.min);
}

static void put_globaltype(text *t, wp_globaltype g) {
    put(t, "%s%s", g.mutable_ ? "mut " : "", wp_valtype_name(g.type));
}

/* Whether the actual limits (min = current size) satisfy the declared ones. */
static bool limits_match(wp_limits actual, wp_limits declared) {
    if (actual.min < declared.min)
        return false;
    return !declared.has_max || (actual.has_max && actual.max <= declared.max);
}

static bool func_fits(const wp_module *m, const wp_import *imp, const wp_func *f, text *why) {
    const wp_functype *want = wp__func_type(m, imp->index);
    if (wp__functype_equal(f->type, want))
        return true;
    put(why, "expected ");
    put_functype(why, want);
    put(why, ", got ");
    put_functype(why, f->type);
    return false;
}

static bool table_fits(const wp_module *m, const wp_import *imp, const wp_table *t, text *why) {
    wp_tabletype want = m->tables[imp->index];
    wp_tabletype have = wp_table_type(t);
    if (have.elem == want.elem && limits_match(have.limits, want.limits))
        return true;
    put(why, "expected %s table ", wp_valtype_name(want.elem));
    put_limits(why, want.limits);
    put(why, ", got %s table ", wp_valtype_name(have.elem));
    put_limits(why, have.limits);
    return false;
}

static bool memory_fits(const wp_module *m, const wp_import *imp, const wp_memory *mem,
                        text *why) {
    wp_limits want = m->mems[imp->index];
    wp_limits have = wp_memory_limits(mem);
    if (limits_match(have, want))
        return true;
    put(why, "expected memory ");
    put_limits(why, want);
    put(why, ", got memory ");
    put_limits(why, have);
    return false;
}

static bool global_fits(const wp_module *m, const wp_import *imp, const wp_global *g, text *why) {
    wp_globaltype want = m->globals[imp->index].type;
    if (g->type.type == want.type && g->type.mutable_ == want.mutable_)
        return true;
    put(why, "expected global ");
    put_globaltype(why, want);
    put(why, ", got global ");
    put_globaltype(why, g->type);
    return false;
}

/* Whether ext satisfies import imp of m; if not, says why. */
static bool import_fits(const wp_module *m, const wp_import *imp, const wp_extern *ext, text *why) {
    if (ext->kind != imp->kind) {
        put(why, "expected a %s, got a %s", kind_name(imp->kind), kind_name(ext->kind));
        return false;
    }
    if (!ext->of.func) { /* the union's pointers share their storage */
        put(why, "no %s given", kind_name(imp->kind));
        return false;
    }
    switch (imp->kind) {
    case WP_EXTERN_FUNC:
        return func_fits(m, imp, ext->of.func, why);
    case WP_EXTERN_TABLE:
        return table_fits(m, imp, ext->of.table, why);
    case WP_EXTERN_MEMORY:
        return memory_fits(m, imp, ext->of.memory, why);
    case WP_EXTERN_GLOBAL:
        return global_fits(m, imp, ext->of.global, why);
    }
    return false;
}

static wp_status check_imports(const wp_module *m, const wp_extern *imports, uint32_t n,
                               wp_err *err) {
    if (n != m->nimports || (n > 0 && !imports))
        return wp_err_set(err, WP_ERR_LINK, "module has %" PRIu32 " imports, %" PRIu32 " given",
                          m->nimports, imports ? n : 0);
    for (uint32_t i = 0; i < n; i++) {
        const wp_import *imp = &m->imports[i];
        text why = {.len = 0};
        if (!import_fits(m, imp, &imports[i], &why))
            return wp_err_set(err, WP_ERR_LINK,
                              "incompatible import type for \"%.*s\" \"%.*s\": %s",
                              (int)imp->module.len, imp->module.ptr, (int)imp->name.len,
                              imp->name.ptr, why.buf);
    }
    return WP_OK;
}

/* ---- Creating the instance ------------------------------------------------------------------ */

static void instance_destroy(wp_object *obj) {
    wp_instance *in = (wp_instance *)obj;
    wp_module *m = in->module;
    wp_heap_free(&in->store->heap, in, in->block_size);
    wp_module_free(m);
}

/* Allocates the instance's block, points its arrays into it and adopts it into s. */
static wp_status instance_alloc(wp_store *s, wp_module *m, wp_instance **out, wp_err *err) {
    layout lay;
    if (!plan_layout(m, &lay))
        return wp_err_set(err, WP_ERR_NOMEM, "instance too large");
    uint8_t *block = wp_heap_zalloc(&s->heap, lay.total);
    if (!block)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory creating an instance");
    wp_instance *in = (wp_instance *)block;
    in->store = s;
    in->module = wp_module_ref(m);
    in->block_size = lay.total;
    in->funcs = (wp_func **)(block + lay.funcs);
    in->tables = (wp_table **)(block + lay.tables);
    in->mems = (wp_memory **)(block + lay.mems);
    in->globals = (wp_global **)(block + lay.globals);
    in->elem_items = (void ***)(block + lay.elem_items);
    in->elem_counts = (uint32_t *)(block + lay.elem_counts);
    in->data_dropped = block + lay.data_dropped;
    wp_func *fblock = (wp_func *)(block + lay.func_block);
    for (uint32_t i = m->nimported_funcs; i < m->nfuncs; i++)
        in->funcs[i] = &fblock[i - m->nimported_funcs];
    wp_global *gblock = (wp_global *)(block + lay.global_block);
    for (uint32_t i = m->nimported_globals; i < m->nglobals; i++)
        in->globals[i] = &gblock[i - m->nimported_globals];
    void **storage = (void **)(block + lay.elem_storage);
    for (uint32_t i = 0; i < m->nelems; i++) {
        if (m->elems[i].mode == WP_SEG_PASSIVE) {
            in->elem_items[i] = storage;
            storage += m->elems[i].count;
        }
    }
    wp__store_adopt(s, &in->obj, instance_destroy);
    *out = in;
    return WP_OK;
}

/* Imports fill the first entries of each index space, in import order. */
static void link_imports(wp_instance *in, const wp_extern *imports) {
    const wp_module *m = in->module;
    for (uint32_t i = 0; i < m->nimports; i++) {
        uint32_t idx = m->imports[i].index;
        switch (m->imports[i].kind) {
        case WP_EXTERN_FUNC:
            in->funcs[idx] = imports[i].of.func;
            break;
        case WP_EXTERN_TABLE:
            in->tables[idx] = imports[i].of.table;
            break;
        case WP_EXTERN_MEMORY:
            in->mems[idx] = imports[i].of.memory;
            break;
        case WP_EXTERN_GLOBAL:
            in->globals[idx] = imports[i].of.global;
            break;
        }
    }
}

/* A store with fuel runs the module's metered code (instructions counted), any other the
 * plain code. */
static wp_status init_funcs(wp_instance *in, wp_err *err) {
    wp_module *m = in->module;
    struct wp_code *const *metered = NULL;
    if (in->store->cfg.fuel) {
        wp_status st = wp__compile_metered(m, &metered, err);
        if (st != WP_OK)
            return st;
    }
    for (uint32_t i = m->nimported_funcs; i < m->nfuncs; i++) {
        wp_func *f = in->funcs[i];
        f->type = wp__func_type(m, i);
        f->inst = in;
        f->index = i;
        f->code = metered ? metered[i - m->nimported_funcs] : m->funcs[i].code;
        f->store = in->store;
    }
    return WP_OK;
}

static wp_status create_tables(wp_instance *in, wp_err *err) {
    const wp_module *m = in->module;
    for (uint32_t i = m->nimported_tables; i < m->ntables; i++) {
        wp_status st = wp_table_new(in->store, m->tables[i], &in->tables[i], err);
        if (st != WP_OK)
            return wp_err_wrap(err, "table %" PRIu32, i);
    }
    return WP_OK;
}

static wp_status create_memories(wp_instance *in, wp_err *err) {
    const wp_module *m = in->module;
    for (uint32_t i = m->nimported_mems; i < m->nmems; i++) {
        wp_status st = wp_memory_new(in->store, m->mems[i], &in->mems[i], err);
        if (st != WP_OK)
            return wp_err_wrap(err, "memory %" PRIu32, i);
    }
    in->mem0 = m->nmems > 0 ? in->mems[0] : NULL;
    return WP_OK;
}

/* The value of a constant expression: the validator allows global.get of imported globals
 * and ref.func of any function, both already in place. */
static wp_slot eval_const(const wp_instance *in, const wp_constexpr *e) {
    switch (e->op) {
    case WP_CONST_I32:
    case WP_CONST_I64:
    case WP_CONST_F32:
    case WP_CONST_F64:
        return e->bits;
    case WP_CONST_REF_NULL:
        return 0;
    case WP_CONST_REF_FUNC:
        return (wp_slot)(uintptr_t)in->funcs[e->index];
    case WP_CONST_GLOBAL_GET:
        return in->globals[e->index]->value;
    }
    return 0;
}

static void init_globals(wp_instance *in) {
    const wp_module *m = in->module;
    for (uint32_t i = m->nimported_globals; i < m->nglobals; i++) {
        wp_global *g = in->globals[i];
        g->type = m->globals[i].type;
        g->value = eval_const(in, &m->globals[i].init);
        g->store = in->store;
    }
}

/* Element instances: passive segments resolve their references now; active and declarative
 * ones stay at count 0, as dropped, and active ones are applied from the module directly. */
static void resolve_passive_elems(wp_instance *in) {
    const wp_module *m = in->module;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wp_elemseg *seg = &m->elems[i];
        if (seg->mode != WP_SEG_PASSIVE)
            continue;
        for (uint32_t j = 0; j < seg->count; j++)
            in->elem_items[i][j] = (void *)(uintptr_t)eval_const(in, &seg->items[j]);
        in->elem_counts[i] = seg->count;
    }
}

/* ---- Applying segments ---------------------------------------------------------------------- */

/* table.init of a whole active segment, then elem.drop (its count is already 0). */
static bool apply_elem(wp_instance *in, const wp_elemseg *seg) {
    wp_table *t = in->tables[seg->table];
    uint64_t dst = (uint32_t)eval_const(in, &seg->offset);
    if (!wp__range_ok(t->size, dst, seg->count))
        return false;
    for (uint32_t j = 0; j < seg->count; j++)
        t->elems[dst + j] = (void *)(uintptr_t)eval_const(in, &seg->items[j]);
    return true;
}

static wp_status apply_elems(wp_instance *in, wp_err *err) {
    const wp_module *m = in->module;
    for (uint32_t i = 0; i < m->nelems; i++) {
        if (m->elems[i].mode == WP_SEG_ACTIVE && !apply_elem(in, &m->elems[i]))
            return wp_err_set(err, WP_ERR_TRAP,
                              "out of bounds table access (element segment %" PRIu32 ")", i);
    }
    return WP_OK;
}

/* memory.init of a whole active segment, then data.drop. */
static wp_status apply_datas(wp_instance *in, wp_err *err) {
    const wp_module *m = in->module;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wp_dataseg *seg = &m->datas[i];
        if (seg->mode != WP_SEG_ACTIVE)
            continue;
        uint64_t dst = (uint32_t)eval_const(in, &seg->offset);
        const uint8_t *bytes = m->bytes + seg->data_offset;
        if (!wp__memory_init(in->mems[seg->memory], dst, bytes, seg->len, 0, seg->len))
            return wp_err_set(err, WP_ERR_TRAP,
                              "out of bounds memory access (data segment %" PRIu32 ")", i);
        in->data_dropped[i] = 1;
    }
    return WP_OK;
}

/* ---- Public --------------------------------------------------------------------------------- */

/* Everything that can fail for lack of memory or store limits, before any effect outside the
 * new instance; on failure everything it made is destroyed again. */
static wp_status instance_create(wp_store *s, wp_module *m, const wp_extern *imports,
                                 wp_instance **out, wp_err *err) {
    wp_object *mark = s->objects;
    wp_instance *in = NULL;
    wp_status st = instance_alloc(s, m, &in, err);
    if (st != WP_OK)
        return st;
    link_imports(in, imports);
    st = init_funcs(in, err);
    if (st == WP_OK)
        st = create_tables(in, err);
    if (st == WP_OK)
        st = create_memories(in, err);
    if (st != WP_OK) {
        wp__store_rollback(s, mark);
        return st;
    }
    init_globals(in);
    resolve_passive_elems(in);
    *out = in;
    return WP_OK;
}

wp_status wp_instance_new(wp_store *s, wp_module *m, const wp_extern *imports, uint32_t nimports,
                          wp_instance **out, wp_err *err) {
    wp_status st = check_imports(m, imports, nimports, err);
    if (st != WP_OK)
        return st;
    wp_instance *in = NULL;
    st = instance_create(s, m, imports, &in, err);
    if (st != WP_OK)
        return st;
    /* From here on a failure is a trap: the instance stays in the store, because earlier
     * segments may have put its functions into imported tables. */
    st = apply_elems(in, err);
    if (st == WP_OK)
        st = apply_datas(in, err);
    if (st != WP_OK)
        return st;
    *out = in;
    return WP_OK;
}

wp_func *wp_instance_start_func(const wp_instance *inst) {
    const wp_module *m = inst->module;
    return m->has_start ? inst->funcs[m->start] : NULL;
}

static wp_extern export_extern(const wp_instance *inst, const wp_export *e) {
    wp_extern x = {.kind = e->kind};
    switch (e->kind) {
    case WP_EXTERN_FUNC:
        x.of.func = inst->funcs[e->index];
        break;
    case WP_EXTERN_TABLE:
        x.of.table = inst->tables[e->index];
        break;
    case WP_EXTERN_MEMORY:
        x.of.memory = inst->mems[e->index];
        break;
    case WP_EXTERN_GLOBAL:
        x.of.global = inst->globals[e->index];
        break;
    }
    return x;
}

bool wp_instance_export(const wp_instance *inst, const char *name, size_t name_len,
                        wp_extern *out) {
    const wp_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wp_export *e = &m->exports[i];
        bool same = e->name.len == name_len &&
                    (name_len == 0 || memcmp(e->name.ptr, name, name_len) == 0);
        if (same) {
            *out = export_extern(inst, e);
            return true;
        }
    }
    return false;
}

const wp_module *wp_instance_module(const wp_instance *inst) { return inst->module; }

wp_memory *wp_instance_memory(const wp_instance *inst) { return inst->mem0; }
