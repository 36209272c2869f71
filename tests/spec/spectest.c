/* spectest.c: the "spectest" host module: print functions that print nothing, fixed globals,
 * a table and a memory, as the spec interpreter provides them. */
#include "spectest.h"

#include <string.h>

static wp_host_result print_nothing(wp_host_call *call, void *env, const wp_val *args,
                                    wp_val *results) {
    (void)call;
    (void)env;
    (void)args;
    (void)results;
    return WP_HOST_OK;
}

static void add(spec_host *h, const char *name, wp_extern ext) {
    h->exports[h->count].name = name;
    h->exports[h->count].ext = ext;
    h->count++;
}

static wp_status add_funcs(spec_host *h, wp_store *s, wp_err *err) {
    static const wp_valtype i32_f32[] = {WP_I32, WP_F32};
    static const wp_valtype i64[] = {WP_I64};
    static const wp_valtype f32[] = {WP_F32};
    static const wp_valtype f64_f64[] = {WP_F64, WP_F64};
    static const struct {
        const char *name;
        wp_functype type;
    } funcs[] = {
        {"print", {0, 0, NULL}},          {"print_i32", {1, 0, i32_f32}},
        {"print_i64", {1, 0, i64}},       {"print_f32", {1, 0, f32}},
        {"print_f64", {1, 0, f64_f64}},   {"print_i32_f32", {2, 0, i32_f32}},
        {"print_f64_f64", {2, 0, f64_f64}},
    };
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++) {
        wp_extern ext = {.kind = WP_EXTERN_FUNC};
        if (wp_func_new_host(s, &funcs[i].type, print_nothing, NULL, &ext.of.func, err) != WP_OK)
            return wp_err_wrap(err, "spectest: %s", funcs[i].name);
        add(h, funcs[i].name, ext);
    }
    return WP_OK;
}

static wp_status add_global(spec_host *h, wp_store *s, const char *name, wp_val init,
                            wp_err *err) {
    wp_globaltype type = {.type = init.type, .mutable_ = false};
    wp_extern ext = {.kind = WP_EXTERN_GLOBAL};
    if (wp_global_new(s, type, init, &ext.of.global, err) != WP_OK)
        return wp_err_wrap(err, "spectest: %s", name);
    add(h, name, ext);
    return WP_OK;
}

static wp_status add_globals(spec_host *h, wp_store *s, wp_err *err) {
    float f = 666.6f;
    double d = 666.6;
    uint32_t f_bits;
    uint64_t d_bits;
    memcpy(&f_bits, &f, sizeof f_bits);
    memcpy(&d_bits, &d, sizeof d_bits);
    wp_status st = add_global(h, s, "global_i32", wp_val_i32(666), err);
    if (st == WP_OK)
        st = add_global(h, s, "global_i64", wp_val_i64(666), err);
    if (st == WP_OK)
        st = add_global(h, s, "global_f32", wp_val_f32(f_bits), err);
    if (st == WP_OK)
        st = add_global(h, s, "global_f64", wp_val_f64(d_bits), err);
    return st;
}

static wp_status add_table_memory(spec_host *h, wp_store *s, wp_err *err) {
    wp_tabletype tt = {.elem = WP_FUNCREF, .limits = {.min = 10, .max = 20, .has_max = true}};
    wp_limits ml = {.min = 1, .max = 2, .has_max = true};
    wp_extern table = {.kind = WP_EXTERN_TABLE};
    wp_extern memory = {.kind = WP_EXTERN_MEMORY};
    if (wp_table_new(s, tt, &table.of.table, err) != WP_OK)
        return wp_err_wrap(err, "spectest: table");
    if (wp_memory_new(s, ml, &memory.of.memory, err) != WP_OK)
        return wp_err_wrap(err, "spectest: memory");
    add(h, "table", table);
    add(h, "memory", memory);
    return WP_OK;
}

wp_status spec_host_init(spec_host *h, wp_store *s, wp_err *err) {
    memset(h, 0, sizeof *h);
    wp_status st = add_funcs(h, s, err);
    if (st == WP_OK)
        st = add_globals(h, s, err);
    if (st == WP_OK)
        st = add_table_memory(h, s, err);
    return st;
}

bool spec_host_lookup(const spec_host *h, const char *name, size_t len, wp_extern *out) {
    for (uint32_t i = 0; i < h->count; i++) {
        const char *n = h->exports[i].name;
        if (strlen(n) == len && memcmp(n, name, len) == 0) {
            *out = h->exports[i].ext;
            return true;
        }
    }
    return false;
}
