/* env.c: the env module: the project's env variables, through the hooks the registry gives. */
#include <string.h>

#include "internal.h"

static const wp_lua_hooks *hooks(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    return p ? p->hooks : NULL;
}

static const char *check_key(lua_State *L) {
    size_t len;
    const char *key = luaL_checklstring(L, 1, &len);
    return len ? key : NULL;
}

/* A value a hook fills, anchored in a userdata so a Lua memory error frees it (STYLE 15). */
static int holder_gc(lua_State *L) {
    wp_value_free(lua_touserdata(L, 1));
    return 0;
}

static wp_value *new_holder(lua_State *L) {
    wp_value *v = lua_newuserdatauv(L, sizeof *v, 0);
    *v = wp_value_nil();
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, holder_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    return v;
}

/* env.get(key): the value, or nil and an error (NOT_FOUND, INVALID for an empty key). */
static int l_get(lua_State *L) {
    const char *key = check_key(L);
    const wp_lua_hooks *h = hooks(L);
    if (!key)
        return wp__lua_failf(L, WP_ERR_INVALID, "empty env variable name");
    if (!h || !h->env_get)
        return wp__lua_failf(L, WP_ERR_NOT_FOUND, "env variable %s not found", key);
    wp_value *v = new_holder(L);
    wp_err err = {0};
    if (h->env_get(h->ud, key, v, &err) != WP_OK)
        return wp__lua_fail(L, &err);
    size_t len;
    const char *s = wp_value_str(v, &len);
    lua_pushlstring(L, s ? s : "", s ? len : 0);
    return 1;
}

/* env.set(key, value): true, or nil and an error (PERMISSION_DENIED for read-only ones). */
static int l_set(lua_State *L) {
    const char *key = check_key(L);
    const char *value = luaL_checkstring(L, 2);
    const wp_lua_hooks *h = hooks(L);
    if (!key)
        return wp__lua_failf(L, WP_ERR_INVALID, "empty env variable name");
    if (!h || !h->env_set)
        return wp__lua_failf(L, WP_ERR_NOT_FOUND, "env variable %s not found", key);
    wp_err err = {0};
    if (h->env_set(h->ud, key, value, &err) != WP_OK)
        return wp__lua_fail(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}


/* env.get_all(): {name = value, ...} */
static int l_get_all(lua_State *L) {
    const wp_lua_hooks *h = hooks(L);
    if (!h || !h->env_all) {
        lua_newtable(L);
        return 1;
    }
    wp_value *all = new_holder(L);
    wp_err err = {0};
    if (h->env_all(h->ud, all, &err) != WP_OK)
        return wp__lua_fail(L, &err);
    wp_lua_push_value(L, all);
    return 1;
}

int wp__lua_open_env(lua_State *L) {
    static const luaL_Reg funcs[] = {
        {"get", l_get}, {"set", l_set}, {"get_all", l_get_all}, {NULL, NULL}};
    luaL_newlib(L, funcs);
    return 1;
}
