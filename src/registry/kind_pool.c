/* kind_pool.c: the pool and transport of function entries (function.wasm, function.wat,
 * function.lua): their validation at load and the target a runtime calls a function by. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define IMPLICIT_MAX_SIZE 100u /* no type given: the reference's implicit pool */
#define EXPLICIT_MAX_SIZE 16u  /* lazy or adaptive without max_size */
#define BUFFER_PER_WORKER 64u  /* a static pool's buffer default: workers * 64 */

static bool is_function(const wp_entry *e) { return strncmp(e->kind, "function.", 9) == 0; }

/* A pool number: absent 0, else a non-negative integer. NULL, or the problem. */
static const char *pool_uint(const wp_value *pool, const char *key, uint32_t *out) {
    const wp_value *v = wp_value_map_get(pool, key);
    *out = 0;
    if (!v || v->kind == WP_VNIL)
        return NULL;
    if (v->kind != WP_VINT)
        return "pool values must be integers";
    if (v->of.i < 0)
        return "pool values cannot be negative";
    *out = v->of.i > UINT32_MAX ? UINT32_MAX : (uint32_t)v->of.i;
    return NULL;
}

static const char *pool_type(const wp_value *pool, bool *given, wp_pool_type *out) {
    static const char *const NAMES[] = {"inline", "lazy", "static", "adaptive"};
    const wp_value *v = wp_value_map_get(pool, "type");
    *given = v && v->kind != WP_VNIL;
    if (!*given)
        return NULL;
    const char *s = v->kind == WP_VSTRING ? wp_value_str(v, NULL) : "";
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, NAMES[i]) == 0) {
            *out = (wp_pool_type)i;
            return NULL;
        }
    }
    return "invalid pool type";
}

/* The type when none is given: workers or size make a static pool, max_size a lazy one. */
static void implicit_type(wp_pool_config *c, uint32_t workers) {
    if (workers || c->size)
        c->type = WP_POOL_STATIC;
    else if (c->max_size)
        c->type = WP_POOL_LAZY;
    else
        c->max_size = IMPLICIT_MAX_SIZE;
}

/* Reads the pool field (the entry's data): NULL, or the problem. */
static const char *parse_pool(const wp_value *pool, wp_pool_config *c) {
    *c = (wp_pool_config){.type = WP_POOL_LAZY, .max_size = IMPLICIT_MAX_SIZE};
    if (!pool || pool->kind == WP_VNIL)
        return NULL;
    if (pool->kind != WP_VMAP)
        return "pool must be a mapping";
    bool given = false;
    uint32_t workers = 0;
    const char *why = pool_type(pool, &given, &c->type);
    if (!why)
        why = pool_uint(pool, "size", &c->size);
    if (!why)
        why = pool_uint(pool, "workers", &workers);
    if (!why)
        why = pool_uint(pool, "buffer", &c->buffer);
    if (!why)
        why = pool_uint(pool, "max_size", &c->max_size);
    if (why)
        return why;
    if (!given)
        implicit_type(c, workers);
    if (c->type == WP_POOL_STATIC) {
        if (!c->size)
            c->size = workers;
        if (!c->size)
            return "pool.size must be greater than 0 for non-flex pools";
        if (!c->buffer)
            c->buffer = (workers ? workers : c->size) * BUFFER_PER_WORKER;
    } else if (given && !c->max_size) {
        c->max_size = EXPLICIT_MAX_SIZE;
    }
    return NULL;
}

static const char *parse_transport(const wp_value *v, wp_transport *out) {
    *out = WP_TRANSPORT_PAYLOAD;
    if (!v || v->kind == WP_VNIL)
        return NULL;
    const char *s = v->kind == WP_VSTRING ? wp_value_str(v, NULL) : "";
    if (strcmp(s, "payload") == 0)
        return NULL;
    if (strcmp(s, "wasi-http") == 0) {
        *out = WP_TRANSPORT_WASI_HTTP; /* accepted; calls say it is not supported yet */
        return NULL;
    }
    return "unknown transport (payload or wasi-http)";
}

void reg__func_validate(wp_registry *reg, wp_entry *e) {
    if (!is_function(e))
        return;
    wp_pool_config pc;
    wp_transport tr;
    const char *why = parse_pool(wp_value_map_get(&e->data, "pool"), &pc);
    const wp_value *pool = wp_value_map_get(&e->data, "pool");
    const wp_value *type = pool && pool->kind == WP_VMAP ? wp_value_map_get(pool, "type") : NULL;
    if (why && strcmp(why, "invalid pool type") == 0 && type && type->kind == WP_VSTRING)
        reg__field_problem(reg, e, reg__field(e, NULL, "pool"), "pool.type", "%s: %s", why,
                           wp_value_str(type, NULL));
    else if (why)
        reg__field_problem(reg, e, reg__field(e, NULL, "pool"), "pool", "%s", why);
    why = parse_transport(wp_value_map_get(&e->data, "transport"), &tr);
    if (why)
        reg__field_problem(reg, e, reg__field(e, NULL, "transport"), "transport", "%s", why);
    if (tr == WP_TRANSPORT_WASI_HTTP)
        reg__log(reg, "%s: transport wasi-http: calls fail until the HTTP server exists", e->id);
}

wp_status reg__func_target(wp_boot *b, const wp_registry *reg, const char *id,
                           wp_func_target *out, wp_err *err) {
    const wp_entry *e = wp_registry_find(reg, id);
    if (!e)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "function %.200s not found", id);
    if (!is_function(e))
        return wp_err_set(err, WP_ERR_INVALID, "%.200s is a %s entry, not a function", id,
                          e->kind);
    wp_status st = wp_boot_target(b, e, &out->target, err);
    if (st != WP_OK)
        return st;
    /* validated at load: a bad entry did not get this far */
    parse_pool(wp_value_map_get(&e->data, "pool"), &out->pool);
    parse_transport(wp_value_map_get(&e->data, "transport"), &out->transport);
    return WP_OK;
}
