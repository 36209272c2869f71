/* module.c: the public module API: the decode pipeline, references, imports and exports. */
#include <string.h>

#include "internal.h"

wp_status wp_module_decode(const uint8_t *bytes, size_t len, wp_module **out, wp_err *err) {
    return wp_module_decode_in(wp_heap_default(), bytes, len, out, err);
}

/* decode -> validate -> compile; any failure frees everything made so far. */
wp_status wp_module_decode_in(wp_heap *heap, const uint8_t *bytes, size_t len, wp_module **out,
                              wp_err *err) {
    wp_module *m = NULL;
    wp_status st = wp__decode(heap, bytes, len, &m, err);
    if (st != WP_OK)
        return st; /* the decoder freed its half-built module */
    if ((st = wp__validate(m, err)) == WP_OK)
        st = wp__compile(m, err);
    if (st != WP_OK) {
        wp__module_destroy(m);
        return st;
    }
    *out = m;
    return WP_OK;
}

wp_module *wp_module_ref(wp_module *m) {
    atomic_fetch_add_explicit(&m->refcount, 1, memory_order_relaxed);
    return m;
}

void wp_module_free(wp_module *m) {
    if (!m)
        return;
    /* acq_rel: the thread that frees sees every other thread's last use of the module. */
    if (atomic_fetch_sub_explicit(&m->refcount, 1, memory_order_acq_rel) == 1)
        wp__module_destroy(m);
}

static void free_funcs(wp_module *m) {
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        wp__code_free(m->heap, m->funcs[i].code);
        wp_heap_free(m->heap, m->funcs[i].locals, m->funcs[i].nlocals * sizeof(wp_valtype));
    }
    wp_heap_free(m->heap, m->funcs, m->nfuncs * sizeof *m->funcs);
}

static void free_types(wp_module *m) {
    size_t nstorage = 0;
    for (uint32_t i = 0; i < m->ntypes; i++)
        nstorage += (size_t)m->types[i].nparams + m->types[i].nresults;
    wp_heap_free(m->heap, m->type_storage, nstorage * sizeof *m->type_storage);
    wp_heap_free(m->heap, m->types, m->ntypes * sizeof *m->types);
    wp_heap_free(m->heap, m->canon, m->ntypes * sizeof *m->canon);
}

void wp__module_destroy(wp_module *m) {
    if (!m)
        return;
    wp_heap *h = m->heap;
    wp__codes_free(m, atomic_load(&m->metered));
    free_funcs(m);
    free_types(m);
    for (uint32_t i = 0; i < m->nelems; i++)
        wp_heap_free(h, m->elems[i].items, m->elems[i].count * sizeof *m->elems[i].items);
    wp_heap_free(h, m->elems, m->nelems * sizeof *m->elems);
    wp_heap_free(h, m->imports, m->nimports * sizeof *m->imports);
    wp_heap_free(h, m->tables, m->ntables * sizeof *m->tables);
    wp_heap_free(h, m->mems, m->nmems * sizeof *m->mems);
    wp_heap_free(h, m->globals, m->nglobals * sizeof *m->globals);
    wp_heap_free(h, m->exports, m->nexports * sizeof *m->exports);
    wp_heap_free(h, m->datas, m->ndatas * sizeof *m->datas);
    wp_heap_free(h, m->func_declared, m->nfuncs);
    wp_heap_free(h, m->bytes, m->len);
    wp_heap_free(h, m, sizeof *m);
}

bool wp__functype_equal(const wp_functype *a, const wp_functype *b) {
    if (a->nparams != b->nparams || a->nresults != b->nresults)
        return false;
    size_t n = (size_t)a->nparams + a->nresults;
    return n == 0 || memcmp(a->types, b->types, n * sizeof *a->types) == 0;
}

uint32_t wp_module_import_count(const wp_module *m) { return m->nimports; }

void wp_module_import(const wp_module *m, uint32_t i, wp_import_desc *out) {
    const wp_import *imp = &m->imports[i];
    memset(out, 0, sizeof *out);
    out->module = imp->module;
    out->name = imp->name;
    out->kind = imp->kind;
    switch (imp->kind) {
    case WP_EXTERN_FUNC:
        out->func = *wp__func_type(m, imp->index);
        break;
    case WP_EXTERN_TABLE:
        out->table = m->tables[imp->index];
        break;
    case WP_EXTERN_MEMORY:
        out->memory = m->mems[imp->index];
        break;
    case WP_EXTERN_GLOBAL:
        out->global = m->globals[imp->index].type;
        break;
    }
}

uint32_t wp_module_memory_count(const wp_module *m) { return m->nmems; }

wp_limits wp_module_memory_limits(const wp_module *m, uint32_t i) { return m->mems[i]; }

uint32_t wp_module_export_count(const wp_module *m) { return m->nexports; }

void wp_module_export(const wp_module *m, uint32_t i, wp_export_desc *out) {
    const wp_export *e = &m->exports[i];
    out->name = e->name;
    out->kind = e->kind;
    out->index = e->index;
}

bool wp_module_export_functype(const wp_module *m, const char *name, wp_functype *out) {
    size_t len = strlen(name);
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wp_export *e = &m->exports[i];
        if (e->kind == WP_EXTERN_FUNC && e->name.len == len &&
            memcmp(e->name.ptr, name, len) == 0) {
            *out = *wp__func_type(m, e->index);
            return true;
        }
    }
    return false;
}
