/* global.c: globals, and converting values between wp_val and the 8-byte slot form. */
#include "internal.h"

wp_slot wp__val_to_slot(wp_val v) {
    switch (v.type) {
    case WP_I32:
    case WP_F32:
        return v.of.i32; /* zero-extended; f32 shares the 32-bit member */
    case WP_I64:
    case WP_F64:
        return v.of.i64;
    case WP_FUNCREF:
        return (wp_slot)(uintptr_t)v.of.func;
    case WP_EXTERNREF:
        return (wp_slot)(uintptr_t)v.of.ext;
    case WP_V128:
        break; /* does not fit one slot; rejected before it gets here */
    }
    return 0;
}

wp_val wp__slot_to_val(wp_slot s, wp_valtype t) {
    wp_val v = {.type = t};
    switch (t) {
    case WP_I32:
    case WP_F32:
        v.of.i32 = (uint32_t)s;
        break;
    case WP_I64:
    case WP_F64:
        v.of.i64 = s;
        break;
    case WP_FUNCREF:
        v.of.func = (wp_func *)(uintptr_t)s;
        break;
    case WP_EXTERNREF:
        v.of.ext = (void *)(uintptr_t)s;
        break;
    case WP_V128:
        break;
    }
    return v;
}

static void global_destroy(wp_object *obj) {
    wp_global *g = (wp_global *)obj;
    wp_heap_free(&g->store->heap, g, sizeof *g);
}

static bool slot_type(wp_valtype t) {
    switch (t) {
    case WP_I32:
    case WP_I64:
    case WP_F32:
    case WP_F64:
    case WP_FUNCREF:
    case WP_EXTERNREF:
        return true;
    case WP_V128:
        break;
    }
    return false;
}

wp_status wp_global_new(wp_store *s, wp_globaltype type, wp_val init, wp_global **out,
                        wp_err *err) {
    if (type.type == WP_V128)
        return wp_err_set(err, WP_ERR_UNSUPPORTED, "v128 globals are not supported");
    if (!slot_type(type.type))
        return wp_err_set(err, WP_ERR_INVALID, "unknown global type 0x%x", (unsigned)type.type);
    if (init.type != type.type)
        return wp_err_set(err, WP_ERR_INVALID, "global of type %s initialised with %s",
                          wp_valtype_name(type.type), wp_valtype_name(init.type));
    wp_global *g = wp_heap_zalloc(&s->heap, sizeof *g);
    if (!g)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory creating a global");
    g->store = s;
    g->type = type;
    g->value = wp__val_to_slot(init);
    wp__store_adopt(s, &g->obj, global_destroy);
    *out = g;
    return WP_OK;
}

wp_globaltype wp_global_type(const wp_global *g) { return g->type; }

wp_val wp_global_get(const wp_global *g) { return wp__slot_to_val(g->value, g->type.type); }

void wp_global_set(wp_global *g, wp_val v) {
    if (v.type != g->type.type)
        return; /* the contract requires a matching type; a wrong one changes nothing */
    g->value = wp__val_to_slot(v);
}
