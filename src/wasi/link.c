/* link.c: the wasi_snapshot_preview1 import table and wp_wasi_link. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct func_row {
    const char *name;
    const char *params;  /* i: i32, I: i64 */
    const char *results; /* "i" or "" */
    wp_host_fn fn;
} func_row;

static const func_row funcs[] = {
#define X(name, params, results) {#name, params, results, wp__wasi_##name},
    WP_WASI_FUNCS(X)
#undef X
};

#define MAX_TYPES 10 /* params + results of the longest row (path_open: 9 + 1) */

static const func_row *find(wp_name name) {
    for (size_t i = 0; i < WP_ARRAY_LEN(funcs); i++)
        if (strlen(funcs[i].name) == name.len && memcmp(funcs[i].name, name.ptr, name.len) == 0)
            return &funcs[i];
    return NULL;
}

static wp_functype row_type(const func_row *r, wp_valtype *types) {
    uint32_t np = (uint32_t)strlen(r->params);
    uint32_t nr = (uint32_t)strlen(r->results);
    WP_ASSERT(np + nr <= MAX_TYPES);
    for (uint32_t i = 0; i < np + nr; i++) {
        char c = i < np ? r->params[i] : r->results[i - np];
        types[i] = c == 'I' ? WP_I64 : WP_I32;
    }
    return (wp_functype){.nparams = np, .nresults = nr, .types = types};
}

static bool same_type(wp_functype a, wp_functype b) {
    if (a.nparams != b.nparams || a.nresults != b.nresults)
        return false;
    for (uint32_t i = 0; i < a.nparams + a.nresults; i++)
        if (a.types[i] != b.types[i])
            return false;
    return true;
}

/* "(i32, i64) -> (i32)" */
static const char *type_text(wp_functype t, char *buf, size_t cap) {
    size_t n = (size_t)snprintf(buf, cap, "(");
    for (uint32_t i = 0; i < t.nparams + t.nresults && n < cap; i++) {
        const char *sep = i == t.nparams ? ") -> (" : i > 0 ? ", " : "";
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", sep, wp_valtype_name(t.types[i]));
    }
    if (t.nresults == 0 && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, ") -> (");
    if (n < cap)
        snprintf(buf + n, cap - n, ")");
    return buf;
}

bool wp_wasi_is_import(const wp_import_desc *d) {
    size_t n = strlen(WP_WASI_MODULE);
    return d->module.len == n && memcmp(d->module.ptr, WP_WASI_MODULE, n) == 0;
}

static wp_status link_one(wp_wasi *w, wp_store *s, const wp_import_desc *d, wp_extern *out,
                          wp_err *err) {
    int len = (int)d->name.len;
    if (d->kind != WP_EXTERN_FUNC)
        return wp_err_set(err, WP_ERR_LINK, "import '" WP_WASI_MODULE "'.'%.*s' is not a function",
                          len, d->name.ptr);
    const func_row *r = find(d->name);
    if (!r)
        return wp_err_set(err, WP_ERR_LINK, "unknown WASI function '" WP_WASI_MODULE "'.'%.*s'",
                          len, d->name.ptr);
    wp_valtype types[MAX_TYPES];
    wp_functype t = row_type(r, types);
    if (!same_type(t, d->func)) {
        char want[128];
        char got[128];
        return wp_err_set(err, WP_ERR_LINK, "WASI function '%s' imported as %s; it is %s",
                          r->name, type_text(d->func, got, sizeof got),
                          type_text(t, want, sizeof want));
    }
    wp_func *f;
    wp_status st = wp_func_new_host(s, &t, r->fn, w, &f, err);
    if (st != WP_OK)
        return st;
    *out = (wp_extern){.kind = WP_EXTERN_FUNC, .of.func = f};
    return WP_OK;
}

wp_status wp_wasi_link(wp_wasi *w, wp_store *s, const wp_module *m, wp_extern *imports,
                       wp_err *err) {
    uint32_t n = wp_module_import_count(m);
    for (uint32_t i = 0; i < n; i++) {
        wp_import_desc d;
        wp_module_import(m, i, &d);
        if (!wp_wasi_is_import(&d))
            continue;
        wp_status st = link_one(w, s, &d, &imports[i], err);
        if (st != WP_OK)
            return st;
    }
    return WP_OK;
}
