/* link.c: linkers of host interfaces, matched to imports by name and compatible version, and
 * of values for value imports. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static wp_heap *heap(void) { return wp_heap_default(); }

wp_status wp_comp_linker_new(wp_comp_linker **out, wp_err *err) {
    *out = wp_heap_zalloc(heap(), sizeof **out);
    return *out ? WP_OK : wp_err_set(err, WP_ERR_NOMEM, "out of memory");
}

void wp_comp_linker_free(wp_comp_linker *l) {
    if (!l)
        return;
    for (uint32_t i = 0; i < l->nvalues; i++) {
        wp_heap_free(heap(), l->values[i].name, strlen(l->values[i].name) + 1);
        wp_value_free(&l->values[i].v);
    }
    wp_heap_free(heap(), l->values, l->values_cap * sizeof *l->values);
    wp_heap_free(heap(), l->entries, l->cap * sizeof *l->entries);
    wp_heap_free(heap(), l, sizeof *l);
}

/* Makes room for one more element after the n in *arr (capacity *cap, elem bytes each). */
static bool room(void **arr, uint32_t *cap, uint32_t n, size_t elem) {
    if (n < *cap)
        return true;
    uint32_t ncap = *cap ? *cap * 2 : 8;
    void *p = wp_heap_realloc(heap(), *arr, *cap * elem, ncap * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

/* The length of the name without its "@version" (which starts at name[len] if present). */
static size_t base_len(const char *name) {
    const char *at = strchr(name, '@');
    return at ? (size_t)(at - name) : strlen(name);
}

static bool same_base(const char *a, const char *b) {
    size_t n = base_len(a);
    return n == base_len(b) && memcmp(a, b, n) == 0;
}

/* major.minor.patch with an optional -pre or +build suffix; false if malformed. */
static bool parse_version(const char *v, unsigned long part[3], const char **rest) {
    for (int i = 0; i < 3; i++) {
        char *end;
        if (*v < '0' || *v > '9')
            return false;
        part[i] = strtoul(v, &end, 10);
        v = end;
        if (i < 2 && *v++ != '.')
            return false;
    }
    *rest = v;
    return *v == '\0' || *v == '-' || *v == '+';
}

/* Same major version (for 0.x the same minor, for 0.0.x the same patch), as wasmtime and
 * jco link: any patch of 0.2 satisfies any other, so a 0.2.3 host serves a 0.2.0 import and
 * a 0.2.12 one. Pre-releases must match exactly. */
bool link__version_ok(const char *have, const char *want) {
    if (!have || !want)
        return true;
    unsigned long h[3];
    unsigned long w[3];
    const char *hr;
    const char *wr;
    if (!parse_version(have, h, &hr) || !parse_version(want, w, &wr))
        return strcmp(have, want) == 0;
    if ((*hr == '-' || *wr == '-') && strcmp(have, want) != 0)
        return false;
    if (h[0] != w[0])
        return false;
    if (h[0] == 0 && h[1] != w[1])
        return false;
    return !(h[0] == 0 && h[1] == 0 && h[2] != w[2]);
}

static const char *version_of(const char *name) {
    const char *at = strchr(name, '@');
    return at ? at + 1 : NULL;
}

/* ns:pkg/iface: a colon before a slash, no spaces. Bare names ("host") are fine too. */
static bool valid_name(const char *name) {
    if (!name || !*name || strchr(name, ' '))
        return false;
    const char *at = strchr(name, '@');
    return !at || at[1] != '\0';
}

wp_status wp_comp_linker_add(wp_comp_linker *l, const wp_comp_host_iface *iface, void *ctx,
                             wp_err *err) {
    if (!iface || !valid_name(iface->name))
        return wp_err_set(err, WP_ERR_INVALID, "host interface name '%s' is malformed",
                          iface && iface->name ? iface->name : "");
    for (uint32_t i = 0; i < l->n; i++) {
        if (same_base(l->entries[i].iface->name, iface->name)) {
            l->entries[i] = (link_entry){iface, ctx};
            return WP_OK;
        }
    }
    if (!room((void **)&l->entries, &l->cap, l->n, sizeof *l->entries))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    l->entries[l->n++] = (link_entry){iface, ctx};
    return WP_OK;
}

const link_entry *link__find(const wp_comp_linker *l, const char *import_name) {
    for (uint32_t i = 0; l && i < l->n; i++) {
        const char *have = l->entries[i].iface->name;
        if (same_base(have, import_name) &&
            link__version_ok(version_of(have), version_of(import_name)))
            return &l->entries[i];
    }
    return NULL;
}

wp_status wp_comp_linker_value(wp_comp_linker *l, const char *name, const wp_value *v,
                               wp_err *err) {
    wp_value copy;
    if (wp_value_copy(&copy, v) != WP_OK)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < l->nvalues; i++) {
        if (strcmp(l->values[i].name, name) == 0) {
            wp_value_free(&l->values[i].v);
            l->values[i].v = copy;
            return WP_OK;
        }
    }
    char *nm = wp_heap_strdup(heap(), name);
    if (!nm || !room((void **)&l->values, &l->values_cap, l->nvalues, sizeof *l->values)) {
        wp_heap_free(heap(), nm, nm ? strlen(nm) + 1 : 0);
        wp_value_free(&copy);
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    l->values[l->nvalues++] = (link_value){nm, copy};
    return WP_OK;
}

const wp_value *link__value(const wp_comp_linker *l, const char *import_name) {
    for (uint32_t i = 0; l && i < l->nvalues; i++)
        if (strcmp(l->values[i].name, import_name) == 0)
            return &l->values[i].v;
    return NULL;
}
