/* coroutine.c: coroutine.resume and coroutine.wrap that let the process's own yields (a
 * blocking receive, sleep or select; a spent slice) pass through the script's coroutines up
 * to the scheduler, and come back down when the task is resumed; and coroutine.spawn. */
#include "internal.h"

/* Threads suspended in one of our yields: the script must not resume or close them (their
 * channel waiters are linked). Keyed by thread address in a registry table. */
static char blocked_key;

static void mark_blocked(lua_State *L, lua_State *co, bool on) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &blocked_key);
    if (on)
        lua_pushboolean(L, 1);
    else
        lua_pushnil(L);
    lua_rawsetp(L, -2, co);
    lua_pop(L, 1);
}

static bool is_blocked(lua_State *L, lua_State *co) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &blocked_key);
    lua_rawgetp(L, -1, co);
    bool b = lua_toboolean(L, -1);
    lua_pop(L, 2);
    return b;
}

/* What a resume gives back to the script. */
static int finish(lua_State *L, lua_State *co, int status, int nres, bool wrap) {
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            lua_pushboolean(L, 0);
            lua_pushliteral(L, "too many results to resume");
            return wrap ? lua_error(L) : 2;
        }
        if (!wrap)
            lua_pushboolean(L, 1);
        lua_xmove(co, L, nres);
        return wrap ? nres : nres + 1;
    }
    lua_xmove(co, L, 1); /* the error */
    if (!wrap) {
        lua_pushboolean(L, 0);
        lua_insert(L, -2);
        return 2;
    }
    if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) { /* where, as Lua's wrap */
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

static int resume_k(lua_State *L, int status, lua_KContext ctx);

/* Resumes co with the nargs values on top of L. 'base' slots below them are the caller's
 * frame (1 for resume: the coroutine; 0 for a wrap function). */
static int do_resume(lua_State *L, lua_State *co, int nargs, lua_KContext ctx) {
    bool wrap = ctx & 1;
    if (lua_status(co) == LUA_OK && lua_gettop(co) == 0) {
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "cannot resume dead coroutine");
        return wrap ? lua_error(L) : 2;
    }
    if (!lua_checkstack(co, nargs)) {
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "too many arguments to resume");
        return wrap ? lua_error(L) : 2;
    }
    lua_xmove(L, co, nargs);
    wp_lua_proc *p = wp__lua_proc(L);
    /* where L cannot yield, ours could not pass: co must not block or be preempted */
    bool sealed = p && !lua_isyieldable(L);
    if (sealed)
        p->no_block++;
    int nres = 0;
    int status = lua_resume(co, L, nargs, &nres);
    if (sealed)
        p->no_block--;
    if (status == LUA_YIELD && p && p->sys_yield) { /* ours: pass it up, come back later */
        lua_pop(co, nres);
        mark_blocked(L, co, true);
        return lua_yieldk(L, 0, ctx, resume_k);
    }
    return finish(L, co, status, nres, wrap);
}

static lua_State *wrapped_thread(lua_State *L, lua_KContext ctx) {
    return (ctx & 1) ? lua_tothread(L, lua_upvalueindex(1)) : lua_tothread(L, 1);
}

/* Back from the scheduler: the values the task was resumed with go down to co. */
static int resume_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    lua_State *co = wrapped_thread(L, ctx);
    mark_blocked(L, co, false);
    int base = (ctx & 1) ? 0 : 1;
    return do_resume(L, co, lua_gettop(L) - base, ctx);
}

static lua_State *check_resumable(lua_State *L, lua_State *co) {
    if (co && is_blocked(L, co))
        luaL_error(L, "cannot resume a coroutine waiting in a channel, sleep or receive");
    return co;
}

/* coroutine.resume(co, ...) */
static int l_resume(lua_State *L) {
    lua_State *co = lua_tothread(L, 1);
    luaL_argexpected(L, co, 1, "coroutine");
    check_resumable(L, co);
    return do_resume(L, co, lua_gettop(L) - 1, 0);
}

static int wrap_call(lua_State *L) {
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    check_resumable(L, co);
    return do_resume(L, co, lua_gettop(L), 1);
}

/* coroutine.wrap(f) */
static int l_wrap(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, wrap_call, 1);
    return 1;
}

/* coroutine.close(co): refused while co waits in one of our yields. */
static int l_close(lua_State *L) {
    lua_State *co = lua_tothread(L, 1);
    luaL_argexpected(L, co, 1, "coroutine");
    check_resumable(L, co);
    lua_pushvalue(L, lua_upvalueindex(1)); /* the library's own close */
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* coroutine.spawn(f, ...): runs f(...) as another task of this process. */
static int l_spawn(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    wp__lua_task(L);
    wp__lua_task_spawn(L, lua_gettop(L) - 1, false);
    return 0;
}

void wp__lua_open_coroutine(lua_State *L) {
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &blocked_key);
    lua_getglobal(L, "coroutine");
    lua_pushcfunction(L, l_resume);
    lua_setfield(L, -2, "resume");
    lua_pushcfunction(L, l_wrap);
    lua_setfield(L, -2, "wrap");
    lua_pushcfunction(L, l_spawn);
    lua_setfield(L, -2, "spawn");
    lua_getfield(L, -1, "close");
    lua_pushcclosure(L, l_close, 1);
    lua_setfield(L, -2, "close");
    lua_pop(L, 1);
}
