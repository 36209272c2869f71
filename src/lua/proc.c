/* proc.c: the Lua behaviour (Init / Step / Wait / Wake / Cancel / Close): one lua_State per
 * process, its libraries and modules, and the slices in which its tasks run. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#include "internal.h"

/* ---- The state ------------------------------------------------------------------------------ */

static void *lua_alloc_fn(void *ud, void *ptr, size_t osize, size_t nsize) {
    wp_heap *h = ud;
    if (!ptr)
        osize = 0; /* Lua passes the object type there for new blocks */
    if (nsize == 0) {
        wp_heap_free(h, ptr, osize);
        return NULL;
    }
    return wp_heap_realloc(h, ptr, osize, nsize);
}

/* load(), limited to text chunks: a crafted binary chunk can crash the Lua VM. */
static int l_load(lua_State *L) {
    lua_settop(L, 4);
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 4, LUA_MULTRET);
    return lua_gettop(L);
}

static void unset(lua_State *L, const char *table, const char *const *names) {
    if (table)
        lua_getglobal(L, table);
    else
        lua_pushglobaltable(L);
    for (; *names; names++) {
        lua_pushnil(L);
        lua_setfield(L, -2, *names);
    }
    lua_pop(L, 1);
}

/* The standard libraries a sandboxed script gets: no io, package or debug; os only for time. */
static void open_std(lua_State *L) {
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},     {LUA_COLIBNAME, luaopen_coroutine},
                                    {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8},
                                    {LUA_OSLIBNAME, luaopen_os},     {NULL, NULL}};
    static const char *const base_out[] = {"dofile", "loadfile", NULL};
    static const char *const os_out[] = {"execute", "exit",    "getenv",    "remove",
                                         "rename",  "tmpname", "setlocale", NULL};
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    unset(L, NULL, base_out);
    unset(L, LUA_OSLIBNAME, os_out);
    lua_getglobal(L, "load");
    lua_pushcclosure(L, l_load, 1);
    lua_setglobal(L, "load");
    wp__lua_open_coroutine(L);
    wp__lua_open_print(L);
}

static const struct {
    const char *name;
    lua_CFunction open;
    uint32_t bit; /* 0: always there */
} MODULES[] = {{"process", wp__lua_open_process, 0},
               {"channel", wp__lua_open_channel, 0},
               {"errors", wp__lua_open_errors, 0},
               {"time", wp__lua_open_time, WP_LUA_MOD_TIME},
               {"io", wp__lua_open_io, WP_LUA_MOD_IO},
               {"env", wp__lua_open_env, WP_LUA_MOD_ENV},
               {"funcs", wp__lua_open_funcs, WP_LUA_MOD_FUNCS}};

static const char *const STD_NAMES[] = {LUA_COLIBNAME,  LUA_TABLIBNAME, LUA_STRLIBNAME,
                                        LUA_MATHLIBNAME, LUA_UTF8LIBNAME, LUA_OSLIBNAME};

uint32_t wp_lua_module_bit(const char *name) {
#define X(id, text)                                                                                \
    if (strcmp(name, text) == 0)                                                                   \
        return WP_LUA_MOD_##id;
    WP_LUA_MODULES(X)
#undef X
    return 0;
}

/* require(name): the modules the entry lists, the ones always there, the standard libraries.
 * Upvalue 1: the table of modules already opened. */
static int l_require(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    wp_lua_proc *p = wp__lua_proc(L);
    if (lua_getfield(L, lua_upvalueindex(1), name) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    for (size_t i = 0; i < sizeof STD_NAMES / sizeof STD_NAMES[0]; i++)
        if (strcmp(name, STD_NAMES[i]) == 0)
            return lua_getglobal(L, name), 1;
    for (size_t i = 0; i < sizeof MODULES / sizeof MODULES[0]; i++) {
        if (strcmp(name, MODULES[i].name) != 0)
            continue;
        if (MODULES[i].bit && !(p->modules & MODULES[i].bit))
            return luaL_error(L, "module '%s' is not enabled for %s: list it under modules:",
                              name, p->id);
        MODULES[i].open(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, lua_upvalueindex(1), name);
        return 1;
    }
    return luaL_error(L, "module '%s' not found", name);
}

/* process, channel and errors are globals too, the same tables require() returns. */
static void open_modules(lua_State *L) {
    lua_newtable(L); /* loaded */
    for (size_t i = 0; i < sizeof MODULES / sizeof MODULES[0]; i++) {
        if (MODULES[i].bit)
            continue;
        MODULES[i].open(L);
        lua_pushvalue(L, -1);
        lua_setglobal(L, MODULES[i].name);
        lua_setfield(L, -2, MODULES[i].name);
    }
    lua_pushcclosure(L, l_require, 1);
    lua_setglobal(L, "require");
}

static int new_ref_table(lua_State *L) {
    lua_newtable(L);
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* ---- Init ------------------------------------------------------------------------------------- */

typedef struct init_args {
    const wp_lua_config *cfg;
    const wp_value *args;
    uint32_t nargs;
} init_args;

/* Finds the method: in the table the chunk returned, else a global. Pushes it. */
static void push_method(lua_State *L, const char *method, const char *id) {
    if (lua_type(L, -1) == LUA_TTABLE && lua_getfield(L, -1, method) == LUA_TFUNCTION) {
        lua_remove(L, -2);
        return;
    }
    lua_settop(L, 0);
    if (lua_getglobal(L, method) != LUA_TFUNCTION)
        luaL_error(L, "%s: no function %s (return {%s = fn} from the file, or define it)", id,
                   method, method);
}

/* Under lua_pcall: libraries, modules, the chunk, the method and its first task. */
static int setup(lua_State *L) {
    const init_args *a = lua_touserdata(L, 1);
    const wp_lua_config *cfg = a->cfg;
    wp_lua_proc *p = wp__lua_proc(L);
    lua_settop(L, 0);
    p->held_ref = new_ref_table(L);
    p->armed_ref = new_ref_table(L);
    p->topics_ref = new_ref_table(L);
    open_std(L);
    open_modules(L);
    lua_createtable(L, (int)a->nargs, 0);
    for (uint32_t i = 0; i < a->nargs; i++) {
        wp_lua_push_value(L, &a->args[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    p->args_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    char chunkname[256];
    snprintf(chunkname, sizeof chunkname, "%s", cfg->chunkname ? cfg->chunkname : "");
    if (!cfg->chunkname)
        snprintf(chunkname, sizeof chunkname, "=%s", cfg->id ? cfg->id : "lua");
    if (luaL_loadbufferx(L, cfg->source, cfg->source_len, chunkname, "t") != LUA_OK)
        return lua_error(L);
    if (cfg->method && cfg->method[0]) {
        lua_call(L, 0, 1);
        push_method(L, cfg->method, p->id);
    }
    for (uint32_t i = 0; i < a->nargs; i++)
        wp_lua_push_value(L, &a->args[i]);
    wp__lua_task_spawn(L, (int)a->nargs, true);
    return 0;
}

/* Message handler: the error with the traceback where it was raised. */
static int with_traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : luaL_typename(L, 1), 1);
    return 1;
}

static void proc_free(wp_lua_proc *p) {
    if (!p)
        return;
    if (p->L)
        lua_close(p->L);
    if (p->cur_msg)
        wp_msg_free(p->cur_msg);
    if (p->terminal)
        wp__lua_io_reset();
    wp_value_free(&p->result);
    wp_heap_free(&p->heap, p->timers, p->timers_cap * sizeof *p->timers);
    free(p->id);
    wp_heap_free(wp_heap_default(), p, sizeof *p);
}

static wp_status lua_init(const void *config, const wp_value *args, uint32_t nargs, void **state,
                          wp_err *err) {
    const wp_lua_config *cfg = config;
    *state = NULL;
    wp_lua_proc *p = wp_heap_zalloc(wp_heap_default(), sizeof *p);
    if (!p)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    wp_heap_init(&p->heap, cfg->memory_limit ? cfg->memory_limit : SIZE_MAX);
    p->modules = cfg->modules;
    p->hooks = cfg->hooks;
    p->terminal = cfg->terminal;
    p->wait_fd = -1;
    p->inbox_ref = p->events_ref = p->args_ref = LUA_NOREF;
    p->id = strdup(cfg->id ? cfg->id : "lua");
    p->L = lua_newstate(lua_alloc_fn, &p->heap);
    if (!p->id || !p->L) {
        proc_free(p);
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    *(wp_lua_proc **)lua_getextraspace(p->L) = p;
    init_args a = {cfg, args, nargs};
    lua_pushcfunction(p->L, with_traceback);
    lua_pushcfunction(p->L, setup);
    lua_pushlightuserdata(p->L, &a);
    int st = lua_pcall(p->L, 1, 0, 1);
    if (st != LUA_OK) {
        const char *msg = lua_tostring(p->L, -1);
        wp_err_set(err, st == LUA_ERRMEM ? WP_ERR_NOMEM : WP_ERR_INVALID, "%s",
                   msg ? msg : "error while loading");
        proc_free(p);
        return err ? err->kind : WP_ERR_INVALID;
    }
    *state = p;
    return WP_OK;
}

/* ---- Ending --------------------------------------------------------------------------------- */

/* Sets the result to an error of kind with msg (and, failing that, nil). Never raises. */
void wp__lua_proc_fail(wp_lua_proc *p, wp_status kind, const char *msg) {
    wp_value_free(&p->result);
    if (wp_value_error(&p->result, kind, msg, NULL) != WP_OK)
        p->result = wp_value_nil();
    p->done = true;
}

/* Under lua_pcall: arg 1 the failed thread, arg 2 its error value. Pushes the message with
 * the traceback and the kind. */
static int describe_error(lua_State *L) {
    lua_State *co = lua_tothread(L, 1);
    wp_lua_error *e = wp__lua_error_test(L, 2);
    const char *msg = NULL;
    if (e) {
        lua_getfield(L, 2, "message");
        lua_pushvalue(L, 2);
        lua_call(L, 1, 1);
        msg = lua_tostring(L, -1);
    } else {
        msg = lua_tostring(L, 2);
    }
    luaL_traceback(L, co, msg ? msg : luaL_typename(L, 2), 0);
    lua_pushinteger(L, e && wp__lua_error_kind(e) != WP_OK ? wp__lua_error_kind(e)
                                                           : WP_ERR_INTERNAL);
    return 2;
}

static void task_failed(wp_lua_proc *p, wp_lua_task *t, int status) {
    lua_State *L = p->L;
    if (p->done)
        return; /* ended already (a cancel): that result stands */
    if (status == LUA_ERRMEM) {
        wp__lua_proc_fail(p, WP_ERR_NOMEM, "out of memory (the process's memory limit?)");
        return;
    }
    lua_pushcfunction(L, describe_error);
    lua_pushthread(t->co);
    lua_xmove(t->co, L, 1);
    lua_pushvalue(t->co, -1); /* the error value, still on the dead thread */
    lua_xmove(t->co, L, 1);
    if (lua_pcall(L, 2, 2, 0) != LUA_OK) {
        wp__lua_proc_fail(p, WP_ERR_NOMEM, "out of memory describing an error");
        lua_pop(L, 1);
        return;
    }
    wp__lua_proc_fail(p, (wp_status)lua_tointeger(L, -1), lua_tostring(L, -2));
    lua_pop(L, 2);
}

/* The method returned nres values on t's stack: the first is the result; (nil or false, err)
 * is an error result. */
static void main_returned(wp_lua_proc *p, wp_lua_task *t, int nres) {
    lua_State *co = t->co;
    int first = lua_gettop(co) - nres + 1;
    wp_err err = {0};
    if (p->done)
        return; /* ended already (a cancel): that result stands */
    wp_value_free(&p->result);
    p->done = true;
    if (nres >= 2 && !lua_toboolean(co, first) && !lua_isnil(co, first + 1)) {
        wp_lua_error *e = wp__lua_error_test(co, first + 1);
        if (e && wp_lua_to_value(co, first + 1, &p->result, &err) == WP_OK)
            return;
        wp__lua_proc_fail(p, WP_ERR_INTERNAL, lua_tostring(co, first + 1) ? lua_tostring(co, first + 1)
                                                              : "the method returned an error");
        return;
    }
    if (nres >= 1 && wp_lua_to_value(co, first, &p->result, &err) != WP_OK)
        wp__lua_proc_fail(p, err.kind, err.msg);
}

static void task_ended(wp_lua_proc *p, wp_lua_task *t, int nres) {
    if (t->main)
        main_returned(p, t, nres);
    lua_settop(t->co, 0);
    t->done = true;
    luaL_unref(p->L, LUA_REGISTRYINDEX, t->ref); /* clears an existing slot: never raises */
    t->ref = LUA_NOREF;
}

/* ---- Step ------------------------------------------------------------------------------------- */

/* Under lua_pcall: what happened while the tasks waited (messages, timers, stdin). */
static int service(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    /* Before the method first ran, messages wait in the mailbox: the topics it listens to
     * at its start must get the messages sent right after the spawn. */
    if (p->main_ran)
        wp__lua_mailbox_drain(L);
    wp__lua_fire_timers(L, wp_wasi_now());
    if (p->fd_task) { /* stdin may be readable: let the reader try again */
        lua_pushnil(L);
        wp__lua_task_wake(L, p->fd_task, 1, true);
    }
    return 0;
}

static void run_task(wp_lua_proc *p, wp_lua_task *t) {
    int nres = 0;
    p->current = t;
    int st = lua_resume(t->co, p->L, t->nresume, &nres);
    p->current = NULL;
    t->nresume = 0;
    p->main_ran = true;
    if (st == LUA_YIELD) {
        lua_pop(t->co, nres);
        p->sys_yield = false;
        if (!t->blocked) { /* preempted, or a plain coroutine.yield(): others go first */
            t->queued = false;
            wp__lua_enqueue(p, t);
        }
        return;
    }
    if (st == LUA_OK)
        task_ended(p, t, nres);
    else
        task_failed(p, t, st);
}

static void start(wp_lua_proc *p) {
    p->started = true;
    p->self = wp_proc_current();
    p->rt = p->self ? wp_proc_runtime(p->self) : NULL;
    p->pid = p->self ? wp_proc_pid(p->self) : WP_PID_NONE;
    /* a standalone process is driven by whoever made it, usually the terminal runner */
    p->terminal = p->terminal || !p->rt || wp_proc_on_terminal(p->self);
}

static wp_step lua_step(void *state, uint64_t budget, wp_value *result) {
    wp_lua_proc *p = state;
    if (!p->started)
        start(p);
    uint64_t slice = budget * WP_LUA_INSTRUCTIONS_PER_REDUCTION;
    p->slice = slice > (uint64_t)LONG_MAX ? LONG_MAX : (long)slice;
    lua_pushcfunction(p->L, service);
    if (lua_pcall(p->L, 0, 0, 0) != LUA_OK) {
        wp__lua_proc_fail(p, WP_ERR_NOMEM, lua_tostring(p->L, -1) ? lua_tostring(p->L, -1) : "out of memory");
        lua_pop(p->L, 1);
    }
    wp_lua_task *t;
    while (!p->done && p->slice > 0 && (t = wp__lua_dequeue(p)) != NULL)
        run_task(p, t);
    if (p->done) {
        *result = p->result;
        p->result = wp_value_nil();
        return WP_STEP_DONE;
    }
    return p->ready_head ? WP_STEP_BUDGET : WP_STEP_PENDING;
}

static bool lua_wait(void *state, wp_wait *out) {
    wp_lua_proc *p = state;
    *out = (wp_wait){.deadline = wp__lua_next_deadline(p), .mailbox = p->rt != NULL};
    if (p->fd_task) {
        p->waitfd = (wp_wasi_waitfd){p->wait_fd, p->wait_events};
        out->fds = &p->waitfd;
        out->nfds = 1;
    }
    return out->mailbox || out->nfds || out->deadline != WP_LUA_NO_DEADLINE;
}

static wp_status lua_wake(void *state, bool *ready, wp_err *err) {
    (void)state;
    (void)err;
    *ready = true; /* step sees for itself what the wait brought */
    return WP_OK;
}

static void lua_cancel(void *state) {
    wp_lua_proc *p = state;
    p->done = true;
}

static void lua_close_state(void *state) { proc_free(state); }

static const wp_behavior LUA_BEHAVIOR = {
    .name = "process.lua",
    .init = lua_init,
    .step = lua_step,
    .wait = lua_wait,
    .wake = lua_wake,
    .cancel = lua_cancel,
    .close = lua_close_state,
    .mailbox = true,
};

const wp_behavior *wp_lua_behavior(void) { return &LUA_BEHAVIOR; }
