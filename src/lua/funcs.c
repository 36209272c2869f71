/* funcs.c: the funcs module: funcs.call, funcs.async (futures) and funcs.new (executors with
 * options and context). A call is a process of the runtime's pools (runtime/pool.c) that this
 * process monitors: its EXIT brings the result; an inline WASM call runs in this step. */
#include <string.h>

#include "internal.h"

static char calls_key; /* registry: PID -> waiting task (light), future, or false (cancelled) */
static char pools_key;   /* registry: table target -> wp_pool (light userdata) */
static char future_meta;
static char exec_meta;
static char payload_meta;

#define STACK_ARGS 8 /* arguments converted without an allocation */
/* What an inline call costs the caller's slice, in Lua instructions: the guest's own work is
 * not counted by the count hook, so a loop of inline calls yields after about 40 of them. */
#define INLINE_CHARGE 1000

/* An executor: its options (context is its user value 1, a table or nil). */
typedef struct executor {
    uint64_t timeout_ms; /* 0: none */
} executor;

/* A future: its call's PID until the result came; user values: 1 the response channel, 2 the
 * result, 3 the error. */
typedef struct future {
    wp_pid pid;
    bool done;
    bool canceled;
} future;

/* ---- Arguments ------------------------------------------------------------------------------ */

typedef struct call_args {
    wp_value *v;
    uint32_t n;
    uint32_t cap;
    wp_value local[STACK_ARGS];
} call_args;

static void args_free(call_args *a) {
    for (uint32_t i = 0; i < a->n; i++)
        wp_value_free(&a->v[i]);
    if (a->v != a->local)
        wp_heap_free(wp_heap_default(), a->v, a->cap * sizeof *a->v);
    a->v = a->local;
    a->n = 0;
}

/* Converts the values first..top (never raises). On failure err says which. */
static wp_status args_take(lua_State *L, int first, call_args *a, wp_err *err) {
    int top = lua_gettop(L);
    a->cap = top >= first ? (uint32_t)(top - first + 1) : 0;
    a->v = a->local;
    a->n = 0;
    if (a->cap > STACK_ARGS && !(a->v = wp_heap_calloc(wp_heap_default(), a->cap, sizeof *a->v)))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < a->cap; i++) {
        if (wp_lua_to_value(L, first + (int)i, &a->v[i], err) != WP_OK) {
            args_free(a);
            return wp_err_wrap(err, "argument %u", i + 1);
        }
        a->n = i + 1;
    }
    return WP_OK;
}

/* ---- Targets -------------------------------------------------------------------------------- */

/* The pool of target, resolved once per process; NULL with (nil, err) pushed. */
static wp_pool *pool_of(lua_State *L, wp_lua_proc *p, int idx) {
    size_t len;
    const char *target = luaL_checklstring(L, idx, &len);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &pools_key);
    lua_pushvalue(L, idx);
    if (lua_rawget(L, -2) == LUA_TLIGHTUSERDATA) {
        wp_pool *pool = lua_touserdata(L, -1);
        lua_pop(L, 2);
        return pool;
    }
    lua_pop(L, 1);
    wp_err err = {0};
    wp_funcs *f = wp_runtime_funcs(p->rt);
    wp_pool *pool = NULL;
    if (!f)
        wp_err_set(&err, WP_ERR_UNAVAILABLE, "this runtime calls no functions");
    else if (wp_funcs_lookup(f, target, &pool, &err) == WP_OK) {
        lua_pushvalue(L, idx);
        lua_pushlightuserdata(L, pool);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    if (!pool)
        wp__lua_fail(L, &err);
    return pool;
}

/* The calls table's __gc, when the process's state closes: a function runs for its caller,
 * so the calls still in flight end with it. */
static int calls_gc(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    lua_pushnil(L);
    while (p && p->rt && lua_next(L, 1)) {
        wp_err err = {0};
        if (lua_toboolean(L, -1)) /* false: cancelled already */
            wp_terminate(p->rt, p->pid, (wp_pid)lua_tointeger(L, -2), &err);
        lua_pop(L, 1);
    }
    return 0;
}

/* The calls table (made on first use) pushed. */
static void push_calls(lua_State *L) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &calls_key) != LUA_TNIL)
        return;
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, calls_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &calls_key);
}

/* calls[pid] = the value on top (popped). */
static void calls_set(lua_State *L, wp_pid pid) {
    push_calls(L);
    lua_insert(L, -2);
    lua_rawseti(L, -2, (lua_Integer)pid);
    lua_pop(L, 1);
}

/* ---- Results -------------------------------------------------------------------------------- */

/* Pushes a function's result as Lua returns it: the value, or nil and the error. */
static int push_result(lua_State *L, const wp_value *v) {
    if (v->kind != WP_VERROR) {
        wp_lua_push_value(L, v);
        return 1;
    }
    lua_pushnil(L);
    wp_lua_push_value(L, v);
    return 2;
}

static int call_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    (void)ctx;
    if (lua_toboolean(L, -1)) { /* (index, value, ok) */
        lua_pop(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_copy(L, -3, -2); /* nil, err */
    lua_replace(L, -3);
    return 2;
}

/* ---- Calling -------------------------------------------------------------------------------- */

/* An inline WASM call in this step: true when it finished (its result pushed, *nres set);
 * false with *pid set when it goes on as a process (or with (nil, err) pushed). */
static bool run_inline(lua_State *L, wp_lua_proc *p, wp_pool *pool, call_args *a,
                       uint64_t timeout_ms, wp_pid *pid, int *nres) {
    const wp_spawn_target *t = &wp_pool_target(pool)->target;
    void *state = NULL;
    wp_err err = {0};
    wp_status st = t->behavior->init(t->config, a->v, a->n, &state, &err);
    args_free(a);
    if (st != WP_OK) {
        *nres = wp__lua_fail(L, &err);
        return true;
    }
    wp_value result = wp_value_nil();
    p->slice -= INLINE_CHARGE;
    wp_step s = t->behavior->step(state, WP_REDUCTIONS, &result);
    if (s == WP_STEP_DONE) {
        t->behavior->close(state);
        *nres = push_result(L, &result);
        wp_value_free(&result);
        return true;
    }
    st = wp_pool_adopt(pool, p->pid, state, s == WP_STEP_PENDING, timeout_ms, pid, &err);
    if (st != WP_OK) {
        *nres = wp__lua_fail(L, &err);
        return true;
    }
    return false;
}

/* Inline: a WASM function (core or component) of an inline pool. A behaviour with a mailbox
 * (a Lua function) needs a process of its own, so it is never run in the caller's step. */
static bool runs_inline(wp_pool *pool) {
    const wp_func_target *ft = wp_pool_target(pool);
    return ft->pool.type == WP_POOL_INLINE && ft->transport == WP_TRANSPORT_PAYLOAD &&
           !ft->target.behavior->mailbox;
}

/* Starts a call of the target at idx with the arguments after it: 0 with *pid set, or the
 * number of values pushed (a finished inline call, or nil and an error). */
static int start_call(lua_State *L, int idx, uint64_t timeout_ms, bool may_inline, wp_pid *pid) {
    wp_lua_proc *p = wp__lua_proc(L);
    if (!p || !p->rt)
        return wp__lua_failf(L, WP_ERR_UNAVAILABLE,
                             "funcs: this process runs outside a runtime");
    wp_pool *pool = pool_of(L, p, idx);
    if (!pool)
        return 2;
    call_args a;
    wp_err err = {0};
    if (args_take(L, idx + 1, &a, &err) != WP_OK)
        return wp__lua_fail(L, &err);
    int nres = 0;
    if (may_inline && runs_inline(pool)) {
        if (run_inline(L, p, pool, &a, timeout_ms, pid, &nres))
            return nres;
        return 0;
    }
    wp_status st = wp_pool_call(pool, p->pid, a.v, a.n, timeout_ms, pid, &err);
    args_free(&a);
    return st == WP_OK ? 0 : wp__lua_fail(L, &err);
}

static int do_call(lua_State *L, int idx, uint64_t timeout_ms) {
    wp__lua_check_yieldable(L, "funcs.call");
    wp_lua_task *t = wp__lua_task(L); /* raises: before anything starts */
    wp_pid pid = WP_PID_NONE;
    push_calls(L);
    lua_pop(L, 1);
    int n = start_call(L, idx, timeout_ms, true, &pid);
    if (n)
        return n;
    lua_pushlightuserdata(L, t);
    calls_set(L, pid);
    return wp__lua_block(L, t, 0, call_k);
}

static int do_async(lua_State *L, int idx, uint64_t timeout_ms) {
    wp_pid pid = WP_PID_NONE;
    luaL_checkstring(L, idx);
    /* the future first: nothing may raise once the call runs */
    future *f = lua_newuserdatauv(L, sizeof *f, 3);
    *f = (future){0};
    lua_rawgetp(L, LUA_REGISTRYINDEX, &future_meta);
    lua_setmetatable(L, -2);
    wp__lua_chan_new(L, 1);
    lua_setiuservalue(L, -2, 1);
    push_calls(L);
    lua_pop(L, 1);
    lua_insert(L, idx); /* the future below the target */
    int n = start_call(L, idx + 1, timeout_ms, false, &pid);
    if (n)
        return n;
    f->pid = pid;
    lua_pushvalue(L, idx);
    calls_set(L, pid);
    lua_pushvalue(L, idx);
    return 1;
}

static int l_call(lua_State *L) { return do_call(L, 1, 0); }
static int l_async(lua_State *L) { return do_async(L, 1, 0); }

/* ---- Results arriving ----------------------------------------------------------------------- */

static void push_payload(lua_State *L, int value) {
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, value);
    lua_setfield(L, -2, "_data");
    lua_rawgetp(L, LUA_REGISTRYINDEX, &payload_meta);
    lua_setmetatable(L, -2);
}

/* The future at idx got its result v: kept, and sent on its channel as a Payload (an error
 * closes the channel without a value). */
static void complete_future(lua_State *L, int idx, const wp_value *v) {
    future *f = lua_touserdata(L, idx);
    f->done = true;
    f->pid = WP_PID_NONE;
    lua_getiuservalue(L, idx, 1);
    wp_lua_chan *ch = lua_touserdata(L, -1);
    wp_lua_push_value(L, v);
    if (v->kind == WP_VERROR) {
        lua_setiuservalue(L, idx, 3);
    } else {
        push_payload(L, lua_gettop(L));
        wp__lua_chan_offer(L, ch);
        lua_setiuservalue(L, idx, 2);
    }
    lua_getfield(L, -1, "close");
    lua_insert(L, -2);
    lua_call(L, 1, 0);
}

bool wp__lua_funcs_exit(lua_State *L, const wp_msg *m) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &calls_key) == LUA_TNIL) {
        lua_pop(L, 1);
        return false;
    }
    int calls = lua_gettop(L);
    int type = lua_rawgeti(L, calls, (lua_Integer)m->from);
    if (type == LUA_TNIL) {
        lua_pop(L, 2);
        return false;
    }
    lua_pushnil(L);
    lua_rawseti(L, calls, (lua_Integer)m->from);
    if (type == LUA_TBOOLEAN) { /* a cancelled call's */
        lua_pop(L, 2);
        return true;
    }
    if (type == LUA_TLIGHTUSERDATA) {
        wp_lua_task *t = lua_touserdata(L, -1);
        lua_pop(L, 1);
        wp_lua_push_value(L, &m->value);
        wp__lua_task_wake(L, t, 1, m->value.kind != WP_VERROR);
    } else {
        complete_future(L, lua_gettop(L), &m->value);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return true;
}

/* ---- Futures -------------------------------------------------------------------------------- */

static future *check_future(lua_State *L) { return luaL_checkudata(L, 1, "funcs.future"); }

static int f_channel(lua_State *L) {
    check_future(L);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

static int f_is_complete(lua_State *L) {
    lua_pushboolean(L, check_future(L)->done);
    return 1;
}

static int f_is_canceled(lua_State *L) {
    lua_pushboolean(L, check_future(L)->canceled);
    return 1;
}

/* future:result(): the Payload and nil, nil and the error, or nil, nil while pending. */
static int f_result(lua_State *L) {
    check_future(L);
    if (lua_getiuservalue(L, 1, 3) != LUA_TNIL) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (lua_getiuservalue(L, 1, 2) == LUA_TNIL && !check_future(L)->done)
        return 1;
    push_payload(L, lua_gettop(L));
    lua_pushnil(L);
    return 2;
}

/* future:error(): err, true; or nil, false. */
static int f_error(lua_State *L) {
    check_future(L);
    bool has = lua_getiuservalue(L, 1, 3) != LUA_TNIL;
    lua_pushboolean(L, has);
    return 2;
}

/* future:cancel(): ends the call (waiting or running): true; false and an error when it was
 * complete already. */
static int f_cancel(lua_State *L) {
    future *f = check_future(L);
    wp_lua_proc *p = wp__lua_proc(L);
    if (f->done) {
        lua_pushboolean(L, 0);
        wp__lua_error_push(L, WP_ERR_INVALID, "the call is complete", 20, 0);
        return 2;
    }
    wp_err err = {0};
    wp_terminate(p->rt, p->pid, f->pid, &err); /* NOT_FOUND: it just ended */
    /* its EXIT still comes: false marks it as one to drop, not an event for the script */
    push_calls(L);
    lua_pushboolean(L, 0);
    lua_rawseti(L, -2, (lua_Integer)f->pid);
    lua_pop(L, 1);
    f->done = f->canceled = true;
    f->pid = WP_PID_NONE;
    wp__lua_error_push(L, WP_ERR_CANCELED, "canceled", 8, 0);
    lua_setiuservalue(L, 1, 3);
    lua_getiuservalue(L, 1, 1);
    lua_getfield(L, -1, "close");
    lua_insert(L, -2);
    lua_call(L, 1, 0);
    lua_pushboolean(L, 1);
    return 1;
}

static int payload_data(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "_data");
    return 1;
}

/* ---- Executors ------------------------------------------------------------------------------ */

static executor *check_exec(lua_State *L) { return luaL_checkudata(L, 1, "funcs.executor"); }

/* A new executor with e's options and the context table at ctx (0: none). */
static executor *push_exec(lua_State *L, const executor *e, int ctx) {
    executor *n = lua_newuserdatauv(L, sizeof *n, 1);
    *n = e ? *e : (executor){0};
    lua_rawgetp(L, LUA_REGISTRYINDEX, &exec_meta);
    lua_setmetatable(L, -2);
    if (ctx) {
        lua_pushvalue(L, ctx);
        lua_setiuservalue(L, -2, 1);
    }
    return n;
}

static int l_new(lua_State *L) {
    push_exec(L, NULL, 0);
    return 1;
}

/* exec:with_options{timeout = ms or a duration}: a new executor. */
static int e_with_options(lua_State *L) {
    executor *e = check_exec(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getiuservalue(L, 1, 1);
    int ctx = lua_isnil(L, -1) ? 0 : lua_gettop(L);
    executor *n = push_exec(L, e, ctx);
    if (lua_getfield(L, 2, "timeout") == LUA_TNUMBER) {
        lua_Number ms = lua_tonumber(L, -1);
        luaL_argcheck(L, ms >= 0, 2, "timeout cannot be negative");
        n->timeout_ms = (uint64_t)ms;
    } else if (!lua_isnil(L, -1)) {
        int64_t ns = wp__lua_check_duration(L, lua_gettop(L));
        luaL_argcheck(L, ns >= 0, 2, "timeout cannot be negative");
        n->timeout_ms = (uint64_t)(ns + 999999) / 1000000;
    }
    lua_pop(L, 1);
    return 1;
}

/* exec:with_context{k = v}: a new executor whose context has these values too. */
static int e_with_context(lua_State *L) {
    executor *e = check_exec(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_newtable(L);
    int ctx = lua_gettop(L);
    for (int src = 0; src < 2; src++) {
        if (src == 0 && lua_getiuservalue(L, 1, 1) == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        if (src == 1)
            lua_pushvalue(L, 2);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, ctx);
        }
        lua_pop(L, 1);
    }
    push_exec(L, e, ctx);
    return 1;
}

static int e_context(lua_State *L) {
    check_exec(L);
    if (lua_getiuservalue(L, 1, 1) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    return 1;
}

static int e_unsupported(lua_State *L) {
    check_exec(L);
    return wp__lua_failf(L, WP_ERR_UNSUPPORTED, "funcs: %s is not supported yet",
                         lua_tostring(L, lua_upvalueindex(1)));
}

static int e_call(lua_State *L) {
    executor *e = check_exec(L);
    return do_call(L, 2, e->timeout_ms);
}

static int e_async(lua_State *L) {
    executor *e = check_exec(L);
    return do_async(L, 2, e->timeout_ms);
}

/* ---- The module ----------------------------------------------------------------------------- */

static void make_meta(lua_State *L, void *key, const char *name, const luaL_Reg *methods) {
    luaL_newmetatable(L, name);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

static void make_unsupported(lua_State *L, const char *name) {
    lua_pushstring(L, name);
    lua_pushcclosure(L, e_unsupported, 1);
    lua_setfield(L, -2, name);
}

int wp__lua_open_funcs(lua_State *L) {
    static const luaL_Reg fmethods[] = {
        {"response", f_channel},         {"channel", f_channel}, {"is_complete", f_is_complete},
        {"is_canceled", f_is_canceled},  {"result", f_result},   {"error", f_error},
        {"cancel", f_cancel},            {NULL, NULL}};
    static const luaL_Reg emethods[] = {{"with_options", e_with_options},
                                        {"with_context", e_with_context},
                                        {"context", e_context},
                                        {"call", e_call},
                                        {"async", e_async},
                                        {NULL, NULL}};
    static const luaL_Reg pmethods[] = {{"data", payload_data}, {NULL, NULL}};
    static const luaL_Reg funcs[] = {
        {"call", l_call}, {"async", l_async}, {"new", l_new}, {NULL, NULL}};
    make_meta(L, &future_meta, "funcs.future", fmethods);
    make_meta(L, &exec_meta, "funcs.executor", emethods);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &exec_meta);
    lua_getfield(L, -1, "__index");
    make_unsupported(L, "with_actor");
    make_unsupported(L, "with_scope");
    lua_pop(L, 2);
    make_meta(L, &payload_meta, "funcs.payload", pmethods);
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &pools_key);
    luaL_newlib(L, funcs);
    return 1;
}
