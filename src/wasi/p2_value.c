/* p2_value.c: reading WASI 0.2 arguments and building results in the shapes of wasi2.h. */
#include <string.h>

#include "p2_internal.h"

bool wp__p2_arg_u64(wp_wasi2 *w, const wp_value *v, uint64_t *out) {
    if (v->kind != WP_VINT) {
        wp__p2_trap(w, "expected an integer, got %s", wp_vkind_name(v->kind));
        return false;
    }
    *out = (uint64_t)v->of.i;
    return true;
}

bool wp__p2_arg_bool(wp_wasi2 *w, const wp_value *v, bool *out) {
    if (v->kind != WP_VBOOL) {
        wp__p2_trap(w, "expected a bool, got %s", wp_vkind_name(v->kind));
        return false;
    }
    *out = v->of.b;
    return true;
}

bool wp__p2_arg_str(wp_wasi2 *w, const wp_value *v, const char **s, size_t *len) {
    *s = wp_value_str(v, len);
    if (!*s) {
        wp__p2_trap(w, "expected a string or bytes, got %s", wp_vkind_name(v->kind));
        return false;
    }
    return true;
}

bool wp__p2_arg_res(wp_wasi2 *w, const wp_value *v, wp_p2_kind kind, wp_p2_res **out,
                    uint32_t *rep) {
    uint32_t count;
    const wp_wasi2_resource *types = wp_wasi2_resources(&count);
    const char *name = types[kind - 1].name;
    if (v->kind != WP_VINT || v->of.i <= 0 || v->of.i > UINT32_MAX) {
        wp__p2_trap(w, "expected a %s handle", name);
        return false;
    }
    *rep = (uint32_t)v->of.i;
    *out = wp__p2_get(w, *rep, kind);
    if (!*out) {
        wp__p2_trap(w, "%u is not a live %s", *rep, name);
        return false;
    }
    return true;
}

static int label_index(const char *const *labels, uint32_t n, const char *s) {
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(labels[i], s) == 0)
            return (int)i;
    return -1;
}

bool wp__p2_arg_flags(wp_wasi2 *w, const wp_value *v, const char *const *labels,
                      uint32_t nlabels, uint32_t *bits) {
    *bits = 0;
    if (v->kind != WP_VMAP) {
        wp__p2_trap(w, "expected flags (a map of labels), got %s", wp_vkind_name(v->kind));
        return false;
    }
    for (size_t i = 0; i < wp_value_len(v); i++) {
        const wp_value *k;
        const wp_value *val;
        wp_value_map_pair(v, i, &k, &val);
        const char *s = wp_value_str(k, NULL);
        int at = s && k->kind == WP_VSTRING ? label_index(labels, nlabels, s) : -1;
        if (at < 0) {
            wp__p2_trap(w, "unknown flag '%s'", s ? s : "?");
            return false;
        }
        if (val->kind == WP_VBOOL && val->of.b)
            *bits |= 1u << at;
    }
    return true;
}

bool wp__p2_arg_enum(wp_wasi2 *w, const wp_value *v, const char *const *labels,
                     uint32_t nlabels, uint32_t *index) {
    const char *s = v->kind == WP_VSTRING ? wp_value_str(v, NULL) : NULL;
    int at = s ? label_index(labels, nlabels, s) : -1;
    if (at < 0) {
        wp__p2_trap(w, "expected one of %s, ...: got %s", labels[0], s ? s : "no string");
        return false;
    }
    *index = (uint32_t)at;
    return true;
}

/* ---- Results ----------------------------------------------------------------------------- */

wp_status wp__p2_case(wp_value *out, const char *name, wp_value *payload) {
    wp_value m;
    wp_status st = wp_value_map(&m, 1);
    if (st == WP_OK)
        st = wp_value_map_set_str(&m, name, payload);
    if (st != WP_OK) {
        wp_value_free(&m);
        wp_value_free(payload);
        return st;
    }
    *out = m;
    return WP_OK;
}

wp_status wp__p2_ok(wp_value *out, wp_value *payload) { return wp__p2_case(out, "ok", payload); }

wp_status wp__p2_record(wp_value *out, uint32_t n, const char *const *names, wp_value *vals) {
    wp_value m;
    wp_status st = wp_value_map(&m, n);
    for (uint32_t i = 0; i < n && st == WP_OK; i++)
        st = wp_value_map_set_str(&m, names[i], &vals[i]);
    for (uint32_t i = 0; i < n; i++)
        wp_value_free(&vals[i]); /* those not moved on failure */
    if (st != WP_OK) {
        wp_value_free(&m);
        return st;
    }
    *out = m;
    return WP_OK;
}

wp_status wp__p2_pair(wp_value *out, wp_value *a, wp_value *b) {
    wp_value arr;
    wp_status st = wp_value_array(&arr, 2);
    if (st == WP_OK)
        st = wp_value_array_push(&arr, a);
    if (st == WP_OK)
        st = wp_value_array_push(&arr, b);
    wp_value_free(a);
    wp_value_free(b);
    if (st != WP_OK) {
        wp_value_free(&arr);
        return st;
    }
    *out = arr;
    return WP_OK;
}

wp_status wp__p2_flags(wp_value *out, const char *const *labels, uint32_t nlabels,
                       uint32_t bits) {
    wp_value m;
    wp_status st = wp_value_map(&m, nlabels);
    for (uint32_t i = 0; i < nlabels && st == WP_OK; i++) {
        wp_value t = wp_value_bool(true);
        if (bits & (1u << i))
            st = wp_value_map_set_str(&m, labels[i], &t);
    }
    if (st != WP_OK) {
        wp_value_free(&m);
        return st;
    }
    *out = m;
    return WP_OK;
}

wp_wasi2_outcome wp__p2_done(wp_wasi2 *w, wp_status st) {
    if (st == WP_OK)
        return WP_WASI2_DONE;
    if (w->full) {
        w->full = false;
        return wp__p2_trap(w, "too many live WASI 0.2 resources (%u)", WP_WASI2_MAX_RESOURCES);
    }
    return wp__p2_trap(w, "out of memory for a WASI 0.2 result");
}
