/* value.c: Lua values to and from wp_value (DESIGN decision 6: the one value model). */
#include <math.h>
#include <string.h>

#include "internal.h"

/* ---- Lua -> wp_value (never raises) ----------------------------------------------------------- */

static wp_status to_value(lua_State *L, int idx, wp_value *out, unsigned depth, wp_err *err);

static wp_status invalid(wp_err *err, const char *what) {
    return wp_err_set(err, WP_ERR_INVALID, "cannot convert %s to a value", what);
}

/* The table at idx holds exactly the keys 1..n (n > 0): an array. n distinct integer keys,
 * all at least 1 and the largest n, are exactly 1..n. */
static bool is_sequence(lua_State *L, int idx, lua_Integer *n) {
    lua_Integer count = 0;
    lua_Integer max = 0;
    bool seq = true;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        if (seq && (!lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1))
            seq = false;
        else if (seq && lua_tointeger(L, -2) > max)
            max = lua_tointeger(L, -2);
        lua_pop(L, 1);
    }
    *n = count;
    return seq && count > 0 && max == count;
}

static wp_status nomem(wp_err *err) { return wp_err_set(err, WP_ERR_NOMEM, "out of memory"); }

static wp_status array_to_value(lua_State *L, int idx, lua_Integer n, wp_value *out,
                                unsigned depth, wp_err *err) {
    if (wp_value_array(out, (size_t)n) != WP_OK)
        return nomem(err);
    wp_status st = WP_OK;
    for (lua_Integer i = 1; st == WP_OK && i <= n; i++) {
        wp_value item = wp_value_nil();
        lua_rawgeti(L, idx, i);
        st = to_value(L, lua_gettop(L), &item, depth + 1, err);
        lua_pop(L, 1);
        if (st == WP_OK && wp_value_array_push(out, &item) != WP_OK) {
            wp_value_free(&item);
            st = nomem(err);
        }
    }
    return st;
}

static wp_status key_to_value(lua_State *L, int idx, wp_value *out, wp_err *err) {
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
    case LUA_TNUMBER:
    case LUA_TBOOLEAN:
        return to_value(L, idx, out, 0, err);
    default:
        return wp_err_set(err, WP_ERR_INVALID, "cannot convert a table with a %s key to a value",
                          lua_typename(L, lua_type(L, idx)));
    }
}

static wp_status map_to_value(lua_State *L, int idx, wp_value *out, unsigned depth,
                              wp_err *err) {
    if (wp_value_map(out, 0) != WP_OK)
        return nomem(err);
    wp_status st = WP_OK;
    lua_pushnil(L);
    while (st == WP_OK && lua_next(L, idx)) {
        wp_value k = wp_value_nil();
        wp_value v = wp_value_nil();
        int top = lua_gettop(L);
        st = key_to_value(L, top - 1, &k, err);
        if (st == WP_OK)
            st = to_value(L, top, &v, depth + 1, err);
        if (st == WP_OK && wp_value_map_set(out, &k, &v) != WP_OK)
            st = nomem(err); /* keys here are never invalid ones: strings, numbers, booleans */
        wp_value_free(&k);
        wp_value_free(&v);
        lua_pop(L, 1);
    }
    if (st != WP_OK)
        lua_pop(L, 1); /* the key lua_next left */
    return st;
}

static wp_status error_to_value(lua_State *L, int idx, const wp_lua_error *e, wp_value *out,
                                unsigned depth, wp_err *err) {
    wp_value cause = wp_value_nil();
    wp__lua_error_parts(L, idx); /* message, cause */
    int top = lua_gettop(L);
    wp_status st = WP_OK;
    if (!lua_isnil(L, top))
        st = to_value(L, top, &cause, depth + 1, err);
    wp_status kind = wp__lua_error_kind(e);
    if (st == WP_OK) /* an UNKNOWN kind has no status of its own: it travels as INTERNAL */
        st = wp_value_error(out, kind == WP_OK ? WP_ERR_INTERNAL : kind,
                            lua_tostring(L, top - 1), cause.kind == WP_VNIL ? NULL : &cause);
    if (st == WP_ERR_NOMEM)
        nomem(err);
    wp_value_free(&cause);
    lua_pop(L, 2);
    return st;
}

static wp_status table_to_value(lua_State *L, int idx, wp_value *out, unsigned depth,
                                wp_err *err) {
    lua_Integer n = 0;
    if (is_sequence(L, idx, &n))
        return array_to_value(L, idx, n, out, depth, err);
    return map_to_value(L, idx, out, depth, err);
}

static wp_status to_value(lua_State *L, int idx, wp_value *out, unsigned depth, wp_err *err) {
    size_t len;
    const char *s;
    *out = wp_value_nil();
    if (depth > WP_LUA_MAX_DEPTH)
        return wp_err_set(err, WP_ERR_INVALID, "cannot convert a value nested deeper than %u",
                          WP_LUA_MAX_DEPTH);
    if (!lua_checkstack(L, 4))
        return nomem(err);
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return WP_OK;
    case LUA_TBOOLEAN:
        *out = wp_value_bool(lua_toboolean(L, idx));
        return WP_OK;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            *out = wp_value_int(lua_tointeger(L, idx));
        else
            *out = wp_value_float(lua_tonumber(L, idx));
        return WP_OK;
    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &len);
        return wp_value_string(out, s, len) == WP_OK ? WP_OK : nomem(err);
    case LUA_TTABLE: {
        wp_status st = table_to_value(L, idx, out, depth, err);
        if (st != WP_OK)
            wp_value_free(out);
        return st;
    }
    case LUA_TUSERDATA: {
        const wp_lua_error *e = wp__lua_error_test(L, idx);
        return e ? error_to_value(L, idx, e, out, depth, err) : invalid(err, "a userdata");
    }
    default:
        return invalid(err, lua_typename(L, lua_type(L, idx)));
    }
}

wp_status wp_lua_to_value(lua_State *L, int idx, wp_value *out, wp_err *err) {
    return to_value(L, lua_absindex(L, idx), out, 0, err);
}

/* ---- wp_value -> Lua (raises on memory errors) --------------------------------------------- */

static void push_value(lua_State *L, const wp_value *v, unsigned depth);

static void push_error(lua_State *L, const wp_value *v, unsigned depth) {
    const wp_value *cause = wp_value_error_cause(v);
    int cause_idx = 0;
    if (cause) {
        push_value(L, cause, depth + 1);
        cause_idx = lua_gettop(L);
    }
    const char *msg = wp_value_error_msg(v);
    wp__lua_error_push(L, wp_value_error_kind(v), msg, strlen(msg), cause_idx);
    if (cause)
        lua_remove(L, cause_idx);
}

static void push_value(lua_State *L, const wp_value *v, unsigned depth) {
    size_t len;
    const char *s;
    if (depth > WP_LUA_MAX_DEPTH)
        luaL_error(L, "cannot convert a value nested deeper than %d", (int)WP_LUA_MAX_DEPTH);
    luaL_checkstack(L, 4, "converting a value");
    switch (v->kind) {
    case WP_VNIL:
        lua_pushnil(L);
        return;
    case WP_VBOOL:
        lua_pushboolean(L, v->of.b);
        return;
    case WP_VINT:
        lua_pushinteger(L, v->of.i);
        return;
    case WP_VFLOAT:
        lua_pushnumber(L, v->of.f);
        return;
    case WP_VSTRING:
    case WP_VBYTES:
        s = wp_value_str(v, &len);
        lua_pushlstring(L, s, len);
        return;
    case WP_VARRAY:
        lua_createtable(L, (int)(wp_value_len(v) < INT32_MAX ? wp_value_len(v) : 0), 0);
        for (size_t i = 0; i < wp_value_len(v); i++) {
            push_value(L, wp_value_at(v, i), depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        return;
    case WP_VMAP:
        lua_createtable(L, 0, (int)(wp_value_len(v) < INT32_MAX ? wp_value_len(v) : 0));
        for (size_t i = 0; i < wp_value_len(v); i++) {
            const wp_value *k;
            const wp_value *val;
            wp_value_map_pair(v, i, &k, &val);
            push_value(L, k, depth + 1);
            push_value(L, val, depth + 1);
            lua_rawset(L, -3);
        }
        return;
    case WP_VERROR:
        push_error(L, v, depth);
        return;
    }
    lua_pushnil(L);
}

void wp_lua_push_value(lua_State *L, const wp_value *v) { push_value(L, v, 0); }
