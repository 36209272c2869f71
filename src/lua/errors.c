/* errors.c: the errors module: error objects with a kind, a message chain, retryable, details
 * and the Lua stack where they were made. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* An error object: a userdata with four user values: 1 message (string), 2 cause (error or
 * nil), 3 details (table or nil), 4 stack (string or nil). */
struct wp_lua_error {
    wp_status kind;   /* WP_OK: UNKNOWN */
    int8_t retryable; /* -1: not said */
};

enum { UV_MESSAGE = 1, UV_CAUSE, UV_DETAILS, UV_STACK, UV_COUNT = UV_STACK };

static const char UNKNOWN[] = "UNKNOWN";
static char meta_key; /* its address keys the metatable in the registry */

static const char *kind_name(wp_status k) { return k == WP_OK ? UNKNOWN : wp_status_name(k); }

/* A kind by name ("NOT_FOUND"); false for an unknown name. "UNKNOWN" and "" are WP_OK. */
static bool kind_parse(const char *s, wp_status *out) {
    if (s[0] == '\0' || strcmp(s, UNKNOWN) == 0) {
        *out = WP_OK;
        return true;
    }
#define X(kind, text)                                                                              \
    if (strcmp(s, #kind) == 0) {                                                                   \
        *out = WP_ERR_##kind;                                                                      \
        return true;                                                                               \
    }
    WP_ERR_KINDS(X)
#undef X
    return false;
}

wp_lua_error *wp__lua_error_test(lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
        return NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &meta_key);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same ? lua_touserdata(L, idx) : NULL;
}

wp_status wp__lua_error_kind(const wp_lua_error *e) { return e->kind; }

void wp__lua_error_parts(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    lua_getiuservalue(L, idx, UV_MESSAGE);
    lua_getiuservalue(L, idx, UV_CAUSE);
}

static wp_lua_error *check_error(lua_State *L, int idx) {
    wp_lua_error *e = wp__lua_error_test(L, idx);
    if (!e)
        luaL_typeerror(L, idx, "error");
    return e;
}

/* Pushes the whole chain, "message: cause message: ...". */
static void push_chain(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    int base = lua_gettop(L);
    lua_getiuservalue(L, idx, UV_MESSAGE); /* base + 1: the text so far */
    lua_getiuservalue(L, idx, UV_CAUSE);   /* base + 2: the next link */
    for (unsigned depth = 1; depth < WP_LUA_MAX_DEPTH && wp__lua_error_test(L, base + 2);
         depth++) {
        lua_pushvalue(L, base + 1);
        lua_pushliteral(L, ": ");
        lua_getiuservalue(L, base + 2, UV_MESSAGE);
        lua_concat(L, 3);
        lua_replace(L, base + 1);
        lua_getiuservalue(L, base + 2, UV_CAUSE);
        lua_replace(L, base + 2);
    }
    lua_settop(L, base + 1);
}

void wp__lua_error_push(lua_State *L, wp_status kind, const char *msg, size_t len, int cause) {
    if (cause)
        cause = lua_absindex(L, cause);
    wp_lua_error *e = lua_newuserdatauv(L, sizeof *e, UV_COUNT);
    e->kind = kind;
    e->retryable = -1;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &meta_key);
    if (lua_isnil(L, -1)) { /* a state without the module (a test's): make the metatable */
        lua_pop(L, 1);
        wp__lua_open_errors(L);
        lua_pop(L, 1);
        lua_rawgetp(L, LUA_REGISTRYINDEX, &meta_key);
    }
    lua_setmetatable(L, -2);
    lua_pushlstring(L, msg, len);
    lua_setiuservalue(L, -2, UV_MESSAGE);
    if (cause && wp__lua_error_test(L, cause)) {
        lua_pushvalue(L, cause);
        lua_setiuservalue(L, -2, UV_CAUSE);
    }
}

int wp__lua_fail(lua_State *L, const wp_err *err) {
    lua_pushnil(L);
    wp__lua_error_push(L, err->kind, err->msg, strlen(err->msg), 0);
    return 2;
}

int wp__lua_failf(lua_State *L, wp_status kind, const char *fmt, ...) {
    wp_err err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof err.msg, fmt, ap);
    va_end(ap);
    err.kind = kind;
    return wp__lua_fail(L, &err);
}

/* ---- errors.new / wrap / is ---------------------------------------------------------------- */

static void record_stack(lua_State *L, int err_idx) {
    luaL_traceback(L, L, NULL, 1);
    lua_setiuservalue(L, err_idx, UV_STACK);
}

/* errors.new(message) or errors.new{message=, kind=, retryable=, details=} */
static int l_new(lua_State *L) {
    if (lua_type(L, 1) == LUA_TSTRING) {
        size_t len;
        const char *msg = lua_tolstring(L, 1, &len);
        wp__lua_error_push(L, WP_OK, msg, len, 0);
        record_stack(L, lua_gettop(L));
        return 1;
    }
    luaL_argexpected(L, lua_type(L, 1) == LUA_TTABLE, 1, "string or table");
    lua_getfield(L, 1, "message");
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    luaL_argcheck(L, msg != NULL, 1, "the table needs a message");
    wp_status kind = WP_OK;
    lua_getfield(L, 1, "kind");
    if (!lua_isnil(L, -1) && !kind_parse(luaL_checkstring(L, -1), &kind))
        return luaL_error(L, "unknown error kind %s", lua_tostring(L, -1));
    lua_getfield(L, 1, "retryable");
    int retryable = lua_isnil(L, -1) ? -1 : lua_toboolean(L, -1);
    lua_getfield(L, 1, "details");
    bool details = lua_type(L, -1) == LUA_TTABLE;
    wp__lua_error_push(L, kind, msg, len, 0);
    int e = lua_gettop(L);
    ((wp_lua_error *)lua_touserdata(L, e))->retryable = (int8_t)retryable;
    if (details) {
        lua_pushvalue(L, e - 1);
        lua_setiuservalue(L, e, UV_DETAILS);
    }
    record_stack(L, e);
    return 1;
}

/* errors.wrap(err, message): a new error whose cause is err, with err's kind, retryable and
 * details. A string err is made an error first; nil stays nil. */
static int l_wrap(lua_State *L) {
    size_t len;
    const char *msg = luaL_checklstring(L, 2, &len);
    if (lua_isnil(L, 1)) {
        lua_pushnil(L);
        return 1;
    }
    if (!wp__lua_error_test(L, 1)) {
        size_t ilen;
        const char *inner = luaL_tolstring(L, 1, &ilen);
        wp__lua_error_push(L, WP_OK, inner, ilen, 0);
        lua_replace(L, 1);
        lua_settop(L, 2);
    }
    const wp_lua_error *inner = lua_touserdata(L, 1);
    wp__lua_error_push(L, inner->kind, msg, len, 1);
    ((wp_lua_error *)lua_touserdata(L, -1))->retryable = inner->retryable;
    lua_getiuservalue(L, 1, UV_DETAILS);
    lua_setiuservalue(L, -2, UV_DETAILS);
    record_stack(L, lua_gettop(L));
    return 1;
}

/* errors.is(err, kind): err's kind is kind. */
static int l_is(lua_State *L) {
    const wp_lua_error *e = wp__lua_error_test(L, 1);
    const char *want = luaL_checkstring(L, 2);
    lua_pushboolean(L, e && strcmp(kind_name(e->kind), want) == 0);
    return 1;
}

/* errors.call_stack(err): {thread = "main", frames = {{source=, line=, name=}, ...}} from the
 * recorded traceback, or nil when it has none. */
static int l_call_stack(lua_State *L) {
    check_error(L, 1);
    if (lua_getiuservalue(L, 1, UV_STACK) != LUA_TSTRING)
        return 0;
    const char *s = lua_tostring(L, -1);
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "main");
    lua_setfield(L, -2, "thread");
    lua_newtable(L);
    int n = 0;
    for (const char *line = strchr(s, '\n'); line; line = strchr(line + 1, '\n')) {
        const char *p = line + 1;
        while (*p == '\t' || *p == ' ')
            p++;
        const char *colon = strchr(p, ':');
        const char *end = strchr(p, '\n');
        if (!colon || (end && colon > end))
            continue;
        lua_createtable(L, 0, 3);
        lua_pushlstring(L, p, (size_t)(colon - p));
        lua_setfield(L, -2, "source");
        lua_pushinteger(L, strtoll(colon + 1, NULL, 10));
        lua_setfield(L, -2, "line");
        const char *in = strstr(colon, " in ");
        if (in && (!end || in < end))
            lua_pushlstring(L, in + 4, end ? (size_t)(end - in - 4) : strlen(in + 4));
        else
            lua_pushliteral(L, "?");
        lua_setfield(L, -2, "name");
        lua_rawseti(L, -2, ++n);
    }
    lua_setfield(L, -2, "frames");
    return 1;
}

/* ---- Methods ------------------------------------------------------------------------------- */

static int m_kind(lua_State *L) {
    lua_pushstring(L, kind_name(check_error(L, 1)->kind));
    return 1;
}

static int m_message(lua_State *L) {
    check_error(L, 1);
    push_chain(L, 1);
    return 1;
}

static int m_retryable(lua_State *L) {
    const wp_lua_error *e = check_error(L, 1);
    if (e->retryable < 0)
        lua_pushnil(L);
    else
        lua_pushboolean(L, e->retryable);
    return 1;
}

static int m_details(lua_State *L) {
    check_error(L, 1);
    lua_getiuservalue(L, 1, UV_DETAILS);
    return 1;
}

static int m_stack(lua_State *L) {
    check_error(L, 1);
    if (lua_getiuservalue(L, 1, UV_STACK) != LUA_TSTRING)
        lua_pushliteral(L, "");
    return 1;
}

/* "prefix " .. err and err .. " suffix" read as text. */
static int m_concat(lua_State *L) {
    for (int i = 1; i <= 2; i++) {
        if (wp__lua_error_test(L, i))
            push_chain(L, i);
        else
            luaL_tolstring(L, i, NULL);
    }
    lua_concat(L, 2);
    return 1;
}

static int m_eq(lua_State *L) {
    lua_pushboolean(L, lua_rawequal(L, 1, 2));
    return 1;
}

int wp__lua_open_errors(lua_State *L) {
    static const luaL_Reg methods[] = {{"kind", m_kind},       {"message", m_message},
                                       {"retryable", m_retryable}, {"details", m_details},
                                       {"stack", m_stack},     {NULL, NULL}};
    static const luaL_Reg funcs[] = {{"new", l_new},
                                     {"wrap", l_wrap},
                                     {"is", l_is},
                                     {"call_stack", l_call_stack},
                                     {NULL, NULL}};
    lua_rawgetp(L, LUA_REGISTRYINDEX, &meta_key);
    if (lua_isnil(L, -1)) {
        lua_createtable(L, 0, 6);
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, m_message);
        lua_setfield(L, -2, "__tostring");
        lua_pushcfunction(L, m_concat);
        lua_setfield(L, -2, "__concat");
        lua_pushcfunction(L, m_eq);
        lua_setfield(L, -2, "__eq");
        lua_pushliteral(L, "error");
        lua_setfield(L, -2, "__name");
        lua_rawsetp(L, LUA_REGISTRYINDEX, &meta_key);
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    lua_pushstring(L, UNKNOWN);
    lua_setfield(L, -2, UNKNOWN);
#define X(kind, text)                                                                              \
    lua_pushliteral(L, #kind);                                                                     \
    lua_setfield(L, -2, #kind);
    WP_ERR_KINDS(X)
#undef X
    return 1;
}
