/* table.c: tables of references: creation, growth, element access and bulk operations. */
#include <inttypes.h>
#include <string.h>

#include "internal.h"

/* Elements live in one array of 'cap' pointers allocated through the store's heap; the first
 * 'size' are the table. Growth is geometric up to the table's effective maximum, so a loop of
 * table.grow by 1 stays linear. */

static void table_destroy(wp_object *obj) {
    wp_table *t = (wp_table *)obj;
    wp_heap *h = &t->store->heap;
    if (t->elems)
        wp_heap_free(h, t->elems, (size_t)t->cap * sizeof *t->elems);
    wp_heap_free(h, t, sizeof *t);
}

/* The declared max capped by the store's limit. */
static uint32_t table_max(const wp_table *t) {
    uint32_t max = t->store->cfg.max_table_elems;
    if (t->type.limits.has_max && t->type.limits.max < max)
        max = t->type.limits.max;
    return max;
}

static bool set_cap(wp_table *t, uint32_t cap) {
    size_t esz = sizeof *t->elems;
    void **e = wp_heap_realloc(&t->store->heap, t->elems, (size_t)t->cap * esz, (size_t)cap * esz);
    if (!e)
        return false;
    t->elems = e;
    t->cap = cap;
    return true;
}

/* Makes room for 'want' elements: double if allowed, else exactly 'want'. */
static bool reserve(wp_table *t, uint32_t want) {
    uint64_t doubled = (uint64_t)t->cap * 2;
    uint32_t max = table_max(t);
    if (doubled > want && doubled <= max && set_cap(t, (uint32_t)doubled))
        return true;
    return set_cap(t, want);
}

static wp_status check_type(const wp_store *s, wp_tabletype type, wp_err *err) {
    if (type.elem != WP_FUNCREF && type.elem != WP_EXTERNREF)
        return wp_err_set(err, WP_ERR_INVALID, "table element type must be a reference type");
    if (type.limits.has_max && type.limits.max < type.limits.min)
        return wp_err_set(err, WP_ERR_INVALID, "size minimum must not be greater than maximum");
    if (type.limits.min > s->cfg.max_table_elems)
        return wp_err_set(err, WP_ERR_INVALID,
                          "table of %" PRIu32 " elements exceeds the store's limit of %" PRIu32,
                          type.limits.min, s->cfg.max_table_elems);
    return WP_OK;
}

wp_status wp_table_new(wp_store *s, wp_tabletype type, wp_table **out, wp_err *err) {
    wp_status st = check_type(s, type, err);
    if (st != WP_OK)
        return st;
    wp_table *t = wp_heap_zalloc(&s->heap, sizeof *t);
    if (!t)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory creating a table");
    t->store = s;
    t->type = type;
    if (type.limits.min > 0) {
        t->elems = wp_heap_calloc(&s->heap, type.limits.min, sizeof *t->elems);
        if (!t->elems) {
            wp_heap_free(&s->heap, t, sizeof *t);
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory creating a table of %" PRIu32
                              " elements", type.limits.min);
        }
        t->cap = type.limits.min;
        t->size = type.limits.min;
    }
    wp__store_adopt(s, &t->obj, table_destroy);
    *out = t;
    return WP_OK;
}

wp_tabletype wp_table_type(const wp_table *t) {
    wp_tabletype type = t->type;
    type.limits.min = t->size;
    return type;
}

bool wp_table_get(const wp_table *t, uint32_t i, wp_val *out) {
    if (i >= t->size)
        return false;
    out->type = t->type.elem;
    if (t->type.elem == WP_FUNCREF)
        out->of.func = t->elems[i];
    else
        out->of.ext = t->elems[i];
    return true;
}

bool wp_table_set(wp_table *t, uint32_t i, wp_val v) {
    if (i >= t->size || v.type != t->type.elem)
        return false;
    t->elems[i] = v.type == WP_FUNCREF ? (void *)v.of.func : v.of.ext;
    return true;
}

int64_t wp__table_grow(wp_table *t, uint32_t delta, void *init) {
    uint32_t old = t->size;
    if (delta > table_max(t) - old)
        return -1;
    uint32_t want = old + delta;
    if (want > t->cap && !reserve(t, want))
        return -1;
    for (uint32_t i = old; i < want; i++)
        t->elems[i] = init;
    t->size = want;
    return old;
}

/* ---- Bulk operations ----------------------------------------------------------------------- */

bool wp__table_fill(wp_table *t, uint32_t dst, void *val, uint32_t n) {
    if (!wp__range_ok(t->size, dst, n))
        return false;
    for (uint32_t i = 0; i < n; i++)
        t->elems[dst + i] = val;
    return true;
}

bool wp__table_copy(wp_table *dst_table, uint32_t dst, const wp_table *src_table, uint32_t src,
                    uint32_t n) {
    if (!wp__range_ok(dst_table->size, dst, n) || !wp__range_ok(src_table->size, src, n))
        return false;
    if (n > 0)
        memmove(dst_table->elems + dst, src_table->elems + src, (size_t)n * sizeof(void *));
    return true;
}

bool wp__table_init(wp_table *t, uint32_t dst, void *const *items, uint32_t nitems, uint32_t src,
                    uint32_t n) {
    if (!wp__range_ok(nitems, src, n) || !wp__range_ok(t->size, dst, n))
        return false;
    if (n > 0)
        memcpy(t->elems + dst, items + src, (size_t)n * sizeof(void *));
    return true;
}
