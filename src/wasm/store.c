/* store.c: stores, the list of objects they own, and host functions. */
#include <string.h>

#include "internal.h"

/* The store itself and everything created in it come from store->heap, so heap.used is all
 * the store holds (linear memory aside: see memory.c) and max_heap_bytes limits all of it. */

static void fill_defaults(wp_store_config *cfg) {
    if (cfg->max_memory_pages == 0 || cfg->max_memory_pages > WP_MAX_PAGES)
        cfg->max_memory_pages = WP_MAX_PAGES;
    if (cfg->max_table_elems == 0)
        cfg->max_table_elems = WP_DEFAULT_MAX_TABLE_ELEMS;
    if (cfg->max_call_depth == 0)
        cfg->max_call_depth = WP_DEFAULT_CALL_DEPTH;
    if (cfg->max_stack_bytes == 0)
        cfg->max_stack_bytes = WP_DEFAULT_STACK_BYTES;
    if (cfg->max_heap_bytes == 0)
        cfg->max_heap_bytes = SIZE_MAX;
}

wp_status wp_store_new(const wp_store_config *cfg, wp_store **out, wp_err *err) {
    wp_store_config c = {0};
    if (cfg)
        c = *cfg;
    fill_defaults(&c);
    wp_heap heap;
    wp_heap_init(&heap, c.max_heap_bytes);
    wp_store *s = wp_heap_zalloc(&heap, sizeof *s);
    if (!s)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory creating a store");
    s->heap = heap; /* now counting the store itself */
    s->cfg = c;
    s->fuel = c.fuel;
    *out = s;
    return WP_OK;
}

void wp_store_free(wp_store *s) {
    if (!s)
        return;
    wp__store_rollback(s, NULL);
    wp_heap heap = s->heap;
    wp_heap_free(&heap, s, sizeof *s);
}

uint64_t wp_store_fuel(const wp_store *s) { return s->fuel; }

void wp__store_adopt(wp_store *s, wp_object *obj, void (*destroy)(wp_object *)) {
    obj->destroy = destroy;
    obj->next = s->objects;
    s->objects = obj;
}

void wp__store_rollback(wp_store *s, wp_object *mark) {
    while (s->objects && s->objects != mark) {
        wp_object *obj = s->objects;
        s->objects = obj->next;
        obj->destroy(obj);
    }
}

/* ---- Host functions ----------------------------------------------------------------------- */

/* A host function is one block: the wp_func, then its params and results. */
static size_t host_func_size(uint32_t ntypes) {
    return sizeof(wp_func) + (size_t)ntypes * sizeof(wp_valtype);
}

static void host_func_destroy(wp_object *obj) {
    wp_func *f = (wp_func *)obj;
    wp_store *s = f->store;
    wp_heap_free(&s->heap, f, host_func_size(f->host_type.nparams + f->host_type.nresults));
}

static bool valtype_known(wp_valtype t) {
    switch (t) {
    case WP_I32:
    case WP_I64:
    case WP_F32:
    case WP_F64:
    case WP_V128:
    case WP_FUNCREF:
    case WP_EXTERNREF:
        return true;
    }
    return false;
}

static wp_status check_host_type(const wp_functype *type, wp_err *err) {
    if (type->nparams > WP_MAX_FUNC_LOCALS || type->nresults > WP_MAX_FUNC_LOCALS)
        return wp_err_set(err, WP_ERR_INVALID, "host function: too many params or results");
    uint32_t n = type->nparams + type->nresults;
    if (n > 0 && !type->types)
        return wp_err_set(err, WP_ERR_INVALID, "host function: no value types given");
    for (uint32_t i = 0; i < n; i++) {
        if (!valtype_known(type->types[i]))
            return wp_err_set(err, WP_ERR_INVALID, "host function: unknown value type 0x%x",
                              (unsigned)type->types[i]);
    }
    return WP_OK;
}

wp_status wp_func_new_host(wp_store *s, const wp_functype *type, wp_host_fn fn, void *env,
                           wp_func **out, wp_err *err) {
    if (!type || !fn)
        return wp_err_set(err, WP_ERR_INVALID, "host function: no type or no callback");
    wp_status st = check_host_type(type, err);
    if (st != WP_OK)
        return st;
    uint32_t ntypes = type->nparams + type->nresults;
    wp_func *f = wp_heap_zalloc(&s->heap, host_func_size(ntypes));
    if (!f)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory creating a host function");
    wp_valtype *types = (wp_valtype *)(f + 1);
    if (ntypes > 0)
        memcpy(types, type->types, ntypes * sizeof *types);
    f->host = fn;
    f->env = env;
    f->host_type = (wp_functype){type->nparams, type->nresults, types};
    f->type = &f->host_type;
    f->store = s;
    wp__store_adopt(s, &f->obj, host_func_destroy);
    *out = f;
    return WP_OK;
}

wp_functype wp_func_type(const wp_func *f) { return *f->type; }
