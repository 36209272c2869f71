/* test_wasi2.h: helpers of the WASI 0.2 tests: calling a host function by interface and name
 * with values built inline, and reading results back. */
#ifndef WP_TEST_WASI2_H
#define WP_TEST_WASI2_H

#include <stdarg.h>

#include "test.h"
#include "wippy/wasi2.h"

static inline wp_value v_int(int64_t i) { return wp_value_int(i); }

static inline wp_value v_str(const char *s) {
    wp_value v = wp_value_nil();
    if (wp_value_cstring(&v, s) != WP_OK)
        abort();
    return v;
}

/* A map of n key/value pairs: v_map(2, "a", va, "b", vb) (values moved). */
static inline wp_value v_map(int n, ...) {
    wp_value m;
    if (wp_value_map(&m, (size_t)n) != WP_OK)
        abort();
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *k = va_arg(ap, const char *);
        wp_value v = va_arg(ap, wp_value);
        if (wp_value_map_set_str(&m, k, &v) != WP_OK)
            abort();
    }
    va_end(ap);
    return m;
}

/* A case without payload ({name = nil}) and flags with one label set. */
static inline wp_value v_case(const char *name) { return v_map(1, name, wp_value_nil()); }
static inline wp_value v_flag(const char *name) { return v_map(1, name, wp_value_bool(true)); }
static inline wp_value v_noflags(void) { return v_map(0); }

/* An array of n values (moved). */
static inline wp_value v_list(int n, ...) {
    wp_value a;
    if (wp_value_array(&a, (size_t)n) != WP_OK)
        abort();
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        wp_value v = va_arg(ap, wp_value);
        if (wp_value_array_push(&a, &v) != WP_OK)
            abort();
    }
    va_end(ap);
    return a;
}

/* Calls iface's function 'name' with n arguments (moved in, freed after). *out gets the result
 * (nil unless DONE); returns the outcome. A missing function fails the test. */
static inline wp_wasi2_outcome call2(wp_wasi2 *w, const char *iface, const char *name,
                                     wp_value *out, int n, ...) {
    wp_value args[8];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        args[i] = va_arg(ap, wp_value);
    va_end(ap);
    *out = wp_value_nil();
    const wp_wasi2_func *f = wp_wasi2_find(iface, name);
    wp_wasi2_outcome o = WP_WASI2_TRAP;
    if (!f)
        fprintf(stderr, "no function %s %s\n", iface, name);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ(f->nparams, n);
        o = f->fn(w, args, out);
    }
    for (int i = 0; i < n; i++)
        wp_value_free(&args[i]);
    return o;
}

/* The payload of {ok = v}, or NULL (a failed check) if result is not ok. */
static inline const wp_value *ok_of(const wp_value *r) {
    const wp_value *v = r->kind == WP_VMAP ? wp_value_map_get(r, "ok") : NULL;
    if (!v) {
        fprintf(stderr, "expected {ok = ...}, got: ");
        wp_value_print(stderr, r);
        fprintf(stderr, "\n");
    }
    CHECK(v != NULL);
    return v;
}

/* The integer (or handle) inside {ok = n}; -1 if absent. */
static inline int64_t ok_int(const wp_value *r) {
    const wp_value *v = ok_of(r);
    return v && v->kind == WP_VINT ? v->of.i : -1;
}

/* The error-code label of {err = "label"}, or "" if result is not that. */
static inline const char *err_code(const wp_value *r) {
    const wp_value *e = r->kind == WP_VMAP ? wp_value_map_get(r, "err") : NULL;
    const char *s = e && e->kind == WP_VSTRING ? wp_value_str(e, NULL) : NULL;
    return s ? s : "";
}

/* True if v is bytes (or a string) equal to s. */
static inline bool bytes_eq(const wp_value *v, const char *s) {
    size_t n;
    const char *p = v ? wp_value_str(v, &n) : NULL;
    return p && n == strlen(s) && memcmp(p, s, n) == 0;
}

/* Drops handle rep of the resource type named 'name'; returns the outcome. */
static inline wp_wasi2_outcome drop2(wp_wasi2 *w, const char *name, int64_t rep) {
    uint32_t n;
    const wp_wasi2_resource *r = wp_wasi2_resources(&n);
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(r[i].name, name) == 0)
            return wp_wasi2_drop(w, &r[i], (uint32_t)rep);
    return WP_WASI2_TRAP;
}

#endif
