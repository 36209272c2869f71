/* instance.c: instantiating a component: evaluating its definitions in order, linking imports
 * to host interfaces (or stubs), instantiating core modules, nested components. */
#include <string.h>

#include "internal.h"

#define MAX_DEPTH 16u /* nested instantiations */
/* Definitions one instantiation evaluates, nested ones included: a component instantiating a
 * nested one many times, at every level, would otherwise grow without bound. */
#define MAX_EVALS (1u << 18)

typedef struct frame {
    wp_comp_inst *ci;
    rcomp *rc; /* the component instance being made: its handle table */
    const cscope *sc;
    const wp_comp_linker *linker;
    ritem *items[CS_COUNT];
    struct frame *parent; /* the frame where sc was defined, for outer aliases */
    const carg *args;     /* instantiation arguments (nested components) */
    const struct frame *args_frame;
    uint32_t depth;
    wp_err *err;
} frame;

void *comp__alloc(wp_comp_inst *ci, size_t size) { return wit__alloc(ci->mem, size); }

static wp_status nomem(wp_err *err) { return wp_err_set(err, WP_ERR_NOMEM, "out of memory"); }

static char *join(wp_comp_inst *ci, const char *a, const char *sep, const char *b) {
    size_t la = strlen(a);
    size_t ls = strlen(sep);
    char *s = comp__alloc(ci, la + ls + strlen(b) + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, sep, ls);
        strcpy(s + la + ls, b);
    }
    return s;
}

/* A function type carrying a name, for messages. */
static const wp_wit_func *named_type(wp_comp_inst *ci, const wp_wit_func *t, const char *name) {
    wp_wit_func *f = comp__alloc(ci, sizeof *f);
    if (f) {
        *f = *t;
        f->name = name;
    }
    return f;
}

/* ---- Resource types ---------------------------------------------------------------------- */

/* Binds resource res to a host interface's resource of that name (or none: stub handles). The
 * root's imports only: the root is instantiated once, so its types need no instance. */
static void bind_host_resource(wp_comp_inst *ci, uint32_t res, const link_entry *host,
                               const char *name) {
    rtype *r = ci->rtypes[res];
    if (r->bound)
        return;
    *r = (rtype){.name = name, .host = host, .bound = true};
    for (uint32_t i = 0; host && i < host->iface->nresources; i++)
        if (strcmp(host->iface->resources[i].name, name) == 0)
            r->hres = &host->iface->resources[i];
    for (uint32_t i = 0; r->hres && i < ci->comp->nres; i++) {
        if (i != res && ci->rtypes[i]->bound && ci->rtypes[i]->hres == r->hres) {
            ci->rtypes[res] = ci->rtypes[i]; /* one host resource: one type */
            break;
        }
    }
}

static void bind_instance_resources(wp_comp_inst *ci, const ctype *it, const link_entry *host) {
    for (uint32_t i = 0; it && i < it->nexports; i++) {
        const cnamed *e = &it->exports[i];
        if (e->sort == CS_TYPE && e->type && e->type->kind == CT_RESOURCE && !e->type->local)
            bind_host_resource(ci, e->type->res, host, e->name);
    }
}

/* ---- Imports ----------------------------------------------------------------------------- */

/* A value owned by the instance, nil; NULL when out of memory. */
static wp_value *new_value(wp_comp_inst *ci) {
    rvalue *rv = comp__alloc(ci, sizeof *rv);
    if (!rv)
        return NULL;
    rv->v = wp_value_nil();
    rv->next = ci->values;
    ci->values = rv;
    return &rv->v;
}

/* A value import: the linker's value of that name, checked against the import's type and
 * copied into the instance. */
static wp_status import_value(frame *f, const cdef *def, ritem *out) {
    const wp_value *v = link__value(f->linker, def->name);
    wp_err why = {0};
    if (!v)
        return wp_err_set(f->err, WP_ERR_LINK, "value import %s is not provided", def->name);
    if (comp__check_value(def->type->val, v, &why) != WP_OK)
        return wp_err_set(f->err, WP_ERR_LINK, "value import %s: %s", def->name, why.msg);
    wp_value *copy = new_value(f->ci);
    if (!copy || wp_value_copy(copy, v) != WP_OK)
        return nomem(f->err);
    out->of.value = copy;
    return WP_OK;
}

static wp_status import_root(frame *f, const cdef *def, ritem *out) {
    wp_comp_inst *ci = f->ci;
    switch (out->sort) {
    case CS_INSTANCE: {
        rinst *ri = comp__alloc(ci, sizeof *ri);
        if (!ri)
            return nomem(f->err);
        ri->name = def->name;
        ri->host = link__find(f->linker, def->name);
        ri->missing = !ri->host;
        bind_instance_resources(ci, def->type, ri->host);
        out->of.inst = ri;
        return WP_OK;
    }
    case CS_FUNC: {
        rfunc *rf = comp__alloc(ci, sizeof *rf);
        if (!rf)
            return nomem(f->err);
        rf->kind = RF_STUB;
        rf->owner = f->rc;
        rf->name = def->name;
        rf->type = named_type(ci, def->type->func, def->name);
        out->of.func = rf;
        return rf->type ? WP_OK : nomem(f->err);
    }
    case CS_TYPE:
        if (def->type->kind == CT_RESOURCE)
            bind_host_resource(ci, def->type->res, NULL, def->name);
        out->of.type = def->type;
        return WP_OK;
    case CS_VALUE:
        return import_value(f, def, out);
    default:
        return wp_err_set(f->err, WP_ERR_UNSUPPORTED, "import %s: unsupported sort", def->name);
    }
}

/* An import of a nested component: the instantiation argument of that name. */
static wp_status import_arg(frame *f, const cdef *def, ritem *out) {
    const carg *a = NULL;
    for (const carg *p = f->args; p->name && !a; p++)
        if (strcmp(p->name, def->name) == 0)
            a = p;
    if (!a)
        return wp_err_set(f->err, WP_ERR_LINK, "nested component import '%s' is not given",
                          def->name);
    if (a->sort != out->sort)
        return wp_err_set(f->err, WP_ERR_LINK, "nested component import '%s' has the wrong sort",
                          def->name);
    *out = f->args_frame->items[a->sort][a->index];
    if (out->sort == CS_TYPE && def->type->kind == CT_RESOURCE && out->of.type &&
        out->of.type->kind == CT_RESOURCE) { /* the type given, as the parent names it */
        rtype *rt = comp__rtype(f->ci, f->args_frame->rc, out->of.type->res);
        if (!comp__bind(f->ci, f->rc, def->type->res, rt))
            return nomem(f->err);
        out->of.type = def->type;
    }
    return WP_OK;
}

/* ---- Aliases ----------------------------------------------------------------------------- */

static const wp_comp_host_func *host_func(const link_entry *e, const char *name) {
    for (uint32_t i = 0; e && i < e->iface->nfuncs; i++)
        if (strcmp(e->iface->funcs[i].name, name) == 0)
            return &e->iface->funcs[i];
    return NULL;
}

static wp_status alias_host(frame *f, const rinst *ri, const cdef *def, ritem *out) {
    wp_comp_inst *ci = f->ci;
    if (out->sort == CS_TYPE) {
        out->of.type = def->type;
        return WP_OK;
    }
    if (out->sort == CS_VALUE)
        return wp_err_set(f->err, WP_ERR_LINK, "value import %s#%s is not provided", ri->name,
                          def->name);
    if (out->sort != CS_FUNC)
        return wp_err_set(f->err, WP_ERR_UNSUPPORTED, "%s: only functions and types can be "
                          "taken from an imported instance", def->name);
    rfunc *rf = comp__alloc(ci, sizeof *rf);
    const char *full = join(ci, ri->name, "#", def->name);
    if (!rf || !full)
        return nomem(f->err);
    rf->name = full;
    rf->owner = f->rc;
    rf->type = named_type(ci, def->type->func, full);
    rf->host = ri->host;
    rf->hfn = host_func(ri->host, def->name);
    rf->kind = rf->hfn ? RF_HOST : RF_STUB;
    out->of.func = rf;
    return rf->type ? WP_OK : nomem(f->err);
}

/* A resource type aliased from an instance of a nested component: this instance names the
 * type that one made (the binary gives all instances of a component the same numbers), by the
 * number of the alias's type (the instance's export, or this component's import declaring
 * it). */
static wp_status alias_type(frame *f, const cdef *def, const rinst *ri, ritem *it) {
    if (it->sort != CS_TYPE || !ri->rc || !it->of.type || it->of.type->kind != CT_RESOURCE ||
        !def->type || def->type->kind != CT_RESOURCE)
        return WP_OK;
    rtype *rt = comp__rtype(f->ci, ri->rc, it->of.type->res);
    if (!comp__bind(f->ci, f->rc, def->type->res, rt))
        return nomem(f->err);
    it->of.type = def->type;
    return WP_OK;
}

static wp_status alias_export(frame *f, const cdef *def, ritem *out) {
    const rinst *ri = f->items[CS_INSTANCE][def->a].of.inst;
    if (ri->host || ri->missing)
        return alias_host(f, ri, def, out);
    for (uint32_t i = 0; i < ri->n; i++) {
        if (strcmp(ri->names[i], def->name) == 0 && ri->items[i].sort == out->sort) {
            *out = ri->items[i];
            return alias_type(f, def, ri, out);
        }
    }
    return wp_err_set(f->err, WP_ERR_LINK, "instance has no export '%s'", def->name);
}

static const wp_externkind CORE_KINDS[] = {
    [CS_CORE_FUNC] = WP_EXTERN_FUNC, [CS_CORE_TABLE] = WP_EXTERN_TABLE,
    [CS_CORE_MEMORY] = WP_EXTERN_MEMORY, [CS_CORE_GLOBAL] = WP_EXTERN_GLOBAL};

static bool core_export(const rcore *rc, const char *name, wp_extern *out) {
    if (rc->inst)
        return wp_instance_export(rc->inst, name, strlen(name), out);
    for (uint32_t i = 0; i < rc->n; i++) {
        if (strcmp(rc->names[i], name) == 0) {
            *out = rc->items[i];
            return true;
        }
    }
    return false;
}

static wp_status alias_core(frame *f, const cdef *def, ritem *out) {
    const rcore *rc = f->items[CS_CORE_INSTANCE][def->a].of.core_inst;
    if (!core_export(rc, def->name, &out->of.core) || out->of.core.kind != CORE_KINDS[out->sort])
        return wp_err_set(f->err, WP_ERR_LINK, "core instance has no %s export '%s'",
                          out->sort == CS_CORE_FUNC     ? "function"
                          : out->sort == CS_CORE_MEMORY ? "memory"
                          : out->sort == CS_CORE_TABLE  ? "table"
                                                        : "global",
                          def->name);
    return WP_OK;
}

static wp_status alias_outer(frame *f, const cdef *def, ritem *out) {
    if (out->sort == CS_TYPE || out->sort == CS_CORE_TYPE) {
        out->of.type = def->type;
        return WP_OK;
    }
    const frame *o = f;
    for (uint32_t i = 0; i < def->a && o; i++)
        o = o->parent;
    if (!o)
        return wp_err_set(f->err, WP_ERR_LINK, "outer alias past the outermost component");
    *out = o->items[out->sort][def->b];
    return WP_OK;
}

/* ---- Core instances ---------------------------------------------------------------------- */

static wp_status run_start(frame *f, wp_instance *inst) {
    wp_func *start = wp_instance_start_func(inst);
    wp_trap trap;
    if (!start)
        return WP_OK;
    if (wp_call(f->ci->exec, start, NULL, 0, NULL, 0, &trap, f->err) != WP_OK)
        return wp_err_wrap(f->err, "start function");
    return WP_OK;
}

static wp_status core_instantiate(frame *f, const cdef *def, ritem *out) {
    wp_module *m = f->items[CS_CORE_MODULE][def->a].of.module;
    uint32_t n = wp_module_import_count(m);
    wp_extern *imports = comp__alloc(f->ci, (n + 1) * sizeof *imports);
    rcore *rc = comp__alloc(f->ci, sizeof *rc);
    if (!imports || !rc)
        return nomem(f->err);
    for (uint32_t i = 0; i < n; i++) {
        wp_import_desc d;
        wp_module_import(m, i, &d);
        const rcore *from = NULL;
        for (uint32_t j = 0; j < def->nargs && !from; j++)
            if (strlen(def->args[j].name) == d.module.len &&
                memcmp(def->args[j].name, d.module.ptr, d.module.len) == 0)
                from = f->items[CS_CORE_INSTANCE][def->args[j].index].of.core_inst;
        char field[256];
        snprintf(field, sizeof field, "%.*s", (int)d.name.len, d.name.ptr);
        if (!from || !core_export(from, field, &imports[i]))
            return wp_err_set(f->err, WP_ERR_LINK, "core module %u: import %.*s.%s is not given",
                              def->a, (int)d.module.len, d.module.ptr, field);
    }
    wp_status st = wp_instance_new(f->ci->store, m, imports, n, &rc->inst, f->err);
    if (st == WP_OK)
        st = run_start(f, rc->inst);
    out->of.core_inst = rc;
    return st;
}

static wp_status core_inline(frame *f, const cdef *def, ritem *out) {
    rcore *rc = comp__alloc(f->ci, sizeof *rc);
    if (!rc || !(rc->names = comp__alloc(f->ci, (def->nargs + 1) * sizeof *rc->names)) ||
        !(rc->items = comp__alloc(f->ci, (def->nargs + 1) * sizeof *rc->items)))
        return nomem(f->err);
    rc->n = def->nargs;
    for (uint32_t i = 0; i < def->nargs; i++) {
        rc->names[i] = def->args[i].name;
        rc->items[i] = f->items[def->args[i].sort][def->args[i].index].of.core;
    }
    out->of.core_inst = rc;
    return WP_OK;
}

/* ---- Component instances ----------------------------------------------------------------- */

static wp_status inline_instance(frame *f, const cdef *def, ritem *out) {
    rinst *ri = comp__alloc(f->ci, sizeof *ri);
    if (!ri || !(ri->names = comp__alloc(f->ci, (def->nargs + 1) * sizeof *ri->names)) ||
        !(ri->items = comp__alloc(f->ci, (def->nargs + 1) * sizeof *ri->items)))
        return nomem(f->err);
    ri->n = def->nargs;
    for (uint32_t i = 0; i < def->nargs; i++) {
        ri->names[i] = def->args[i].name;
        ri->items[i] = f->items[def->args[i].sort][def->args[i].index];
    }
    out->of.inst = ri;
    return WP_OK;
}

static wp_status eval_scope(frame *f, rinst **exports);

static wp_status instantiate(frame *f, const cdef *def, ritem *out) {
    if (f->depth >= MAX_DEPTH)
        return wp_err_set(f->err, WP_ERR_LINK, "components instantiated too deeply");
    const cscope *child = f->items[CS_COMPONENT][def->a].of.component;
    carg *args = comp__alloc(f->ci, (def->nargs + 1) * sizeof *args);
    if (!args)
        return nomem(f->err);
    if (def->nargs) /* args[nargs].name NULL ends them */
        memcpy(args, def->args, def->nargs * sizeof *args);
    frame cf = {.ci = f->ci, .rc = comp__rcomp_new(f->ci, f->rc), .sc = child, .linker = f->linker,
                .parent = f, .args = args, .args_frame = f, .depth = f->depth + 1, .err = f->err};
    if (!cf.rc)
        return nomem(f->err);
    return eval_scope(&cf, &out->of.inst);
}

/* ---- Canonical definitions --------------------------------------------------------------- */

static wp_status lift(frame *f, const cdef *def, ritem *out) {
    rfunc *rf = comp__alloc(f->ci, sizeof *rf);
    if (!rf)
        return nomem(f->err);
    rf->kind = RF_LIFTED;
    rf->name = "(lifted function)";
    rf->type = named_type(f->ci, def->type->func, rf->name);
    rf->core = f->items[CS_CORE_FUNC][def->a].of.core.of.func;
    rf->owner = f->rc;
    rf->encoding = def->opts.encoding;
    if (def->opts.has_memory)
        rf->memory = f->items[CS_CORE_MEMORY][def->opts.memory].of.core.of.memory;
    if (def->opts.has_realloc)
        rf->realloc = f->items[CS_CORE_FUNC][def->opts.realloc].of.core.of.func;
    if (def->opts.has_post)
        rf->post_return = f->items[CS_CORE_FUNC][def->opts.post_return].of.core.of.func;
    wp_valtype p[WP_CABI_MAX_FLAT_PARAMS];
    wp_valtype r[WP_CABI_MAX_FLAT_RESULTS];
    uint32_t np = 0;
    uint32_t nr = 0;
    wp_cabi_core_type(rf->type, p, &np, r, &nr);
    wp_functype ft = wp_func_type(rf->core);
    bool same = ft.nparams == np && ft.nresults == nr;
    for (uint32_t i = 0; same && i < np + nr; i++)
        same = ft.types[i] == (i < np ? p[i] : r[i - np]);
    out->of.func = rf;
    if (!same)
        return wp_err_set(f->err, WP_ERR_LINK, "canon lift: the core function's type does not "
                          "match the lifted function type");
    return rf->type ? WP_OK : nomem(f->err);
}

static wp_status lower(frame *f, const cdef *def, ritem *out) {
    rfunc opts = {0};
    if (def->opts.has_memory)
        opts.memory = f->items[CS_CORE_MEMORY][def->opts.memory].of.core.of.memory;
    if (def->opts.has_realloc)
        opts.realloc = f->items[CS_CORE_FUNC][def->opts.realloc].of.core.of.func;
    opts.encoding = def->opts.encoding;
    out->of.core.kind = WP_EXTERN_FUNC;
    return comp__lower_func(f->ci, f->rc, f->items[CS_FUNC][def->a].of.func, &opts,
                            &out->of.core.of.func, f->err);
}

static wp_status resource_func(frame *f, const cdef *def, ritem *out) {
    out->of.core.kind = WP_EXTERN_FUNC;
    return comp__resource_func(f->ci, f->rc, def->kind, comp__rtype(f->ci, f->rc, def->type->res),
                               &out->of.core.of.func, f->err);
}

static wp_status deftype(frame *f, const cdef *def, ritem *out) {
    const ctype *t = def->type;
    out->of.type = t;
    if (!t || t->kind != CT_RESOURCE || !t->local)
        return WP_OK;
    rtype *r = comp__alloc(f->ci, sizeof *r); /* a new type, each time the definition is made */
    if (!r)
        return nomem(f->err);
    *r = (rtype){.local = true, .bound = true, .name = "resource", .definer = f->rc};
    if (!comp__bind(f->ci, f->rc, t->res, r))
        return nomem(f->err);
    if (t->has_dtor && t->dtor < f->sc->count[CS_CORE_FUNC])
        r->dtor = f->items[CS_CORE_FUNC][t->dtor].of.core.of.func;
    return WP_OK;
}

static wp_status export_item(frame *f, const cdef *def, ritem *out, csort s) {
    *out = f->items[s][def->a];
    if (s == CS_FUNC && out->of.func->kind == RF_LIFTED &&
        strcmp(out->of.func->name, "(lifted function)") == 0) {
        rfunc *rf = (rfunc *)out->of.func;
        rf->name = def->name;
        rf->type = named_type(f->ci, rf->type, def->name);
        if (!rf->type)
            return nomem(f->err);
    }
    if (s != CS_TYPE || !def->type || def->type->kind != CT_RESOURCE || !out->of.type ||
        out->of.type->kind != CT_RESOURCE)
        return WP_OK;
    rtype *rt = comp__rtype(f->ci, f->rc, out->of.type->res);
    if (rt->local && rt->definer == f->rc && strcmp(rt->name, "resource") == 0)
        rt->name = def->name; /* its first export names it, for messages */
    if (def->type != out->of.type && !comp__bind(f->ci, f->rc, def->type->res, rt))
        return nomem(f->err);
    return WP_OK;
}

/* ---- Evaluation -------------------------------------------------------------------------- */

static wp_status eval_def(frame *f, csort s, const cdef *def, ritem *out) {
    out->sort = s;
    switch (def->kind) {
    case CD_IMPORT: return f->args ? import_arg(f, def, out) : import_root(f, def, out);
    case CD_ALIAS_EXPORT: return alias_export(f, def, out);
    case CD_ALIAS_CORE: return alias_core(f, def, out);
    case CD_ALIAS_OUTER: return alias_outer(f, def, out);
    case CD_CORE_MODULE: out->of.module = f->ci->comp->modules[def->a]; return WP_OK;
    case CD_CORE_INSTANTIATE: return core_instantiate(f, def, out);
    case CD_CORE_INLINE: return core_inline(f, def, out);
    case CD_INSTANTIATE: return instantiate(f, def, out);
    case CD_INLINE: return inline_instance(f, def, out);
    case CD_COMPONENT: out->of.component = f->sc->components[def->a]; return WP_OK;
    case CD_LIFT: return lift(f, def, out);
    case CD_LOWER: return lower(f, def, out);
    case CD_RES_NEW:
    case CD_RES_DROP:
    case CD_RES_REP: return resource_func(f, def, out);
    case CD_TYPE: return deftype(f, def, out);
    case CD_EXPORT: return export_item(f, def, out, s);
    case CD_VALUE: out->of.value = &f->ci->comp->values[def->a]; return WP_OK;
    case CD_START_RESULT: return WP_OK; /* set by the start function, which ran just before */
    }
    return WP_OK;
}

/* Calls a start function the component lifted, as a call of an export would: its argument
 * values lowered, its result lifted into *out (nil for none), then its post-return. */
static wp_status call_start(frame *f, const rfunc *rf, const cstart *start, wp_value *out) {
    wp_comp_inst *ci = f->ci;
    wp_value *args = NULL;
    size_t size = (start->nargs + 1) * sizeof *args;
    if (start->nargs && !(args = wp_heap_zalloc(wp_heap_default(), size)))
        return nomem(f->err);
    for (uint32_t i = 0; i < start->nargs; i++) /* borrowed: shallow copies, not freed */
        args[i] = *f->items[CS_VALUE][start->args[i]].of.value;
    handle_cx hcx = {.ci = ci, .types = rf->owner, .host_reps = false};
    wp_cabi cx = {.exec = ci->exec, .memory = rf->memory, .realloc = rf->realloc,
                  .encoding = rf->encoding, .handles = &hcx};
    wp_val flat[WP_CABI_MAX_FLAT_PARAMS];
    wp_val res[WP_CABI_MAX_FLAT_RESULTS];
    uint32_t nflat = 0;
    uint32_t nres = wp_func_type(rf->core).nresults;
    wp_trap trap;
    wp_status st = wp_cabi_lower_params(&cx, rf->type, args, start->nargs, flat, &nflat, f->err);
    wp_heap_free(wp_heap_default(), args, start->nargs ? size : 0);
    if (st == WP_OK)
        st = wp_call(ci->exec, rf->core, flat, nflat, res, nres, &trap, f->err);
    if (st == WP_OK)
        st = wp_cabi_lift_results(&cx, rf->type, res, nres, out, f->err);
    if (st == WP_OK && rf->post_return)
        st = wp_call(ci->exec, rf->post_return, res, nres, NULL, 0, &trap, f->err);
    return st;
}

/* Runs the scope's start functions placed after its first 'at' definitions; *next is the first
 * not run yet. A start's result becomes its value (the definition at 'at'). */
static wp_status run_starts(frame *f, uint32_t at, uint32_t *next) {
    const cscope *sc = f->sc;
    for (; *next < sc->nstarts && sc->starts[*next].at <= at; (*next)++) {
        const cstart *start = &sc->starts[*next];
        const rfunc *rf = f->items[CS_FUNC][start->func].of.func;
        if (!rf || rf->kind != RF_LIFTED)
            return wp_err_set(f->err, WP_ERR_UNSUPPORTED, "a component start function must be "
                              "one the component defines (canon lift)");
        wp_value *result = new_value(f->ci);
        if (!result)
            return nomem(f->err);
        if (call_start(f, rf, start, result) != WP_OK)
            return wp_err_wrap(f->err, "component start function");
        if (start->has_result)
            f->items[CS_VALUE][start->result] = (ritem){.sort = CS_VALUE, .of.value = result};
    }
    return WP_OK;
}

static wp_status eval_scope(frame *f, rinst **exports) {
    const cscope *sc = f->sc;
    for (int s = 0; s < CS_COUNT; s++)
        if (sc->count[s] && !(f->items[s] = comp__alloc(f->ci, sc->count[s] * sizeof(ritem))))
            return nomem(f->err);
    uint32_t next_start = 0;
    for (uint32_t i = 0; i < sc->norder; i++) {
        wp_status sst = run_starts(f, i, &next_start);
        if (sst != WP_OK)
            return sst;
        const carg *o = &sc->order[i];
        const cdef *def = &sc->defs[o->sort][o->index];
        if (++f->ci->evals > MAX_EVALS)
            return wp_err_set(f->err, WP_ERR_LINK, "the component has more than %u definitions "
                              "to instantiate (nested instances included)", MAX_EVALS);
        wp_status st = eval_def(f, o->sort, def, &f->items[o->sort][o->index]);
        if (st != WP_OK)
            return st;
    }
    wp_status sst = run_starts(f, sc->norder, &next_start);
    if (sst != WP_OK)
        return sst;
    rinst *ri = comp__alloc(f->ci, sizeof *ri);
    if (!ri || !(ri->names = comp__alloc(f->ci, (sc->nexports + 1) * sizeof *ri->names)) ||
        !(ri->items = comp__alloc(f->ci, (sc->nexports + 1) * sizeof *ri->items)))
        return nomem(f->err);
    ri->n = sc->nexports;
    for (uint32_t i = 0; i < sc->nexports; i++) {
        ri->names[i] = sc->exports[i].name;
        ri->items[i] = f->items[sc->exports[i].sort][sc->exports[i].index];
    }
    ri->rc = f->rc;
    *exports = ri;
    return WP_OK;
}

wp_status wp_comp_instantiate(const wp_component *c, wp_store *s, wp_exec *exec,
                              const wp_comp_linker *l, wp_comp_inst **out, wp_err *err) {
    *out = NULL;
    wp_comp_inst *ci = wp_heap_zalloc(wp_heap_default(), sizeof *ci);
    if (!ci || !(ci->mem = wp_heap_zalloc(wp_heap_default(), sizeof *ci->mem))) {
        wp_heap_free(wp_heap_default(), ci, sizeof *ci);
        return nomem(err);
    }
    ci->comp = wp_component_ref((wp_component *)c);
    ci->store = s;
    ci->exec = exec;
    wp_status st = WP_OK;
    ci->epoch = 1; /* no instance is entered (entered 0) */
    if (c->nres && (!(ci->rstatic = comp__alloc(ci, c->nres * sizeof *ci->rstatic)) ||
                    !(ci->rtypes = comp__alloc(ci, c->nres * sizeof *ci->rtypes))))
        st = nomem(err);
    for (uint32_t i = 0; st == WP_OK && i < c->nres; i++)
        ci->rtypes[i] = &ci->rstatic[i];
    if (st == WP_OK && !(ci->root = comp__rcomp_new(ci, NULL)))
        st = nomem(err);
    frame f = {.ci = ci, .rc = ci->root, .sc = c->root, .linker = l, .err = err};
    if (st == WP_OK)
        st = eval_scope(&f, &ci->exports);
    if (st != WP_OK) {
        wp_comp_inst_free(ci);
        return st;
    }
    *out = ci;
    return WP_OK;
}

void wp_comp_inst_free(wp_comp_inst *ci) {
    if (!ci)
        return;
    for (rvalue *rv = ci->values; rv; rv = rv->next)
        wp_value_free(&rv->v);
    comp__park_free(ci);
    comp__handles_free(ci);
    wp_exec_free(ci->aux);
    wp_component_free((wp_component *)ci->comp);
    wp_wit_free(ci->mem);
    wp_heap_free(wp_heap_default(), ci, sizeof *ci);
}

/* ---- Exported functions ------------------------------------------------------------------ */

/* The export of sort s called name (len bytes) of ri, or NULL. */
static const ritem *find_in(const rinst *ri, csort s, const char *name, size_t len) {
    for (uint32_t i = 0; ri && i < ri->n; i++)
        if (ri->items[i].sort == s && strlen(ri->names[i]) == len &&
            memcmp(ri->names[i], name, len) == 0)
            return &ri->items[i];
    return NULL;
}

/* An export of sort s by the embedder's name: "name", or "iface#name" inside an exported
 * instance (an unversioned iface names a versioned export). */
static const ritem *find_export(const wp_comp_inst *ci, csort s, const char *name) {
    const char *hash = strrchr(name, '#');
    if (!hash)
        return find_in(ci->exports, s, name, strlen(name));
    size_t ilen = (size_t)(hash - name);
    for (uint32_t i = 0; i < ci->exports->n; i++) {
        const char *en = ci->exports->names[i];
        bool match = strlen(en) == ilen && memcmp(en, name, ilen) == 0;
        /* "wasi:cli/run#run" also names "wasi:cli/run@0.2.3#run" */
        match = match || (strchr(en, '@') && (size_t)(strchr(en, '@') - en) == ilen &&
                          memcmp(en, name, ilen) == 0 && !memchr(name, '@', ilen));
        if (match && ci->exports->items[i].sort == CS_INSTANCE)
            return find_in(ci->exports->items[i].of.inst, s, hash + 1, strlen(hash + 1));
    }
    return NULL;
}

const wp_comp_func *wp_comp_inst_func(const wp_comp_inst *ci, const char *name) {
    const ritem *it = find_export(ci, CS_FUNC, name);
    return it ? (const wp_comp_func *)it->of.func : NULL;
}

const wp_value *wp_comp_inst_value(const wp_comp_inst *ci, const char *name) {
    const ritem *it = find_export(ci, CS_VALUE, name);
    return it ? it->of.value : NULL;
}

uint32_t wp_comp_func_nparams(const wp_comp_func *f) {
    return ((const rfunc *)f)->type->nparams;
}

void wp_comp_func_print(FILE *out, const wp_comp_func *f) {
    wp_wit_func_print(out, ((const rfunc *)f)->type);
}
