/* wippy/lua.h: Lua 5.4 processes and functions (process.lua, function.lua): the Lua behaviour
 * of the runtime's one process type, its modules, and Lua <-> wp_value conversion.
 *
 * Objects and who owns them:
 *   wp_lua_config  what one entry runs: source, method, modules, hooks. Borrowed by Init only
 *                  (it compiles the source into the new process's own lua_State); the hooks
 *                  and their ud must outlive every process started from it.
 *   the process    one lua_State per process (its own allocator and limit), created by Init,
 *                  closed by Close; the method runs in a coroutine that yields inside receive,
 *                  sleep and select, and when its slice of instructions is spent (a count hook),
 *                  so a worker is never blocked (DESIGN decision 5).
 *
 * Entering Lua: only through lua_pcall / lua_resume (STYLE 15). A Lua error, or a method that
 * returns nil or false and an error, ends the process with an error result: the message and
 * the Lua traceback.
 */
#ifndef WIPPY_LUA_H
#define WIPPY_LUA_H

#include <lua.h>

#include "wippy/runtime.h"
#include "wippy/value.h"

/* Modules an entry lists in `modules:`. process, channel and errors are always there (globals
 * as well as require()); the others only when listed. Names as the entry writes them. */
#define WP_LUA_MODULES(X)                                                                          \
    X(TIME, "time")                                                                                \
    X(IO, "io")                                                                                    \
    X(ENV, "env")                                                                                  \
    X(FUNCS, "funcs")

enum {
#define X(id, name) WP_LUA_MOD_BIT_##id,
    WP_LUA_MODULES(X)
#undef X
};
#define X(id, name) WP_LUA_MOD_##id = 1u << WP_LUA_MOD_BIT_##id,
enum { WP_LUA_MODULES(X) };
#undef X

/* The bit of a module name, or 0 if this build has no such module. */
WP_API uint32_t wp_lua_module_bit(const char *name);

/* What a process may ask of the layers above (the registry's env variables). Each hook may
 * be called from any worker thread, concurrently: the provider locks what it must. All may
 * be NULL (the env module then says the variable is not found / not writable). */
typedef struct wp_lua_hooks {
    void *ud;
    /* *out: a string value owned by the caller. Fails: WP_ERR_NOT_FOUND, ... */
    wp_status (*env_get)(void *ud, const char *key, wp_value *out, wp_err *err);
    wp_status (*env_set)(void *ud, const char *key, const char *value, wp_err *err);
    /* *out: a map of public name -> string value, owned by the caller. */
    wp_status (*env_all)(void *ud, wp_value *out, wp_err *err);
} wp_lua_hooks;

typedef struct wp_lua_config {
    const char *id;        /* the entry ID, "ns:name": messages name it */
    const char *chunkname; /* for tracebacks, "@src/worker.lua"; NULL: "=" .. id */
    const char *source;    /* Lua source text (or a binary chunk), source_len bytes */
    size_t source_len;
    const char *method;         /* the function to call; NULL or "": the chunk's own body */
    uint32_t modules;           /* WP_LUA_MOD_* bits */
    const wp_lua_hooks *hooks;  /* may be NULL */
    size_t memory_limit;        /* bytes for the lua_State; 0: none */
    bool terminal;              /* runs bound to the terminal: io works, args are its args */
} wp_lua_config;

/* The Lua behaviour: config is a wp_lua_config. Init creates the state, opens the libraries
 * and the modules, runs the chunk and finds the method (all under lua_pcall); Step runs the
 * method's coroutine and the coroutines it spawned. The result: the method's first return
 * value (converted by wp_lua_to_value), or an error value.
 * Init fails: WP_ERR_INVALID (the chunk does not compile, raises, or has no such method; err
 * says which, with Lua's message), WP_ERR_NOMEM. */
WP_API const wp_behavior *wp_lua_behavior(void);

/* ---- Values ------------------------------------------------------------------------------ */

/* Converts the Lua value at idx to *out (owned by the caller). nil, booleans, integers,
 * floats and strings map to the same kinds; a table whose keys are exactly 1..n (n > 0) is an
 * array, any other table a map (keys: strings, integers, floats, booleans); an error object of
 * the errors module is an error value (kind, message chain). Never raises and never calls a
 * metamethod. Fails: WP_ERR_INVALID (a function, thread, other userdata, NaN key, nesting
 * deeper than WP_LUA_MAX_DEPTH: err names the place), WP_ERR_NOMEM. */
WP_API wp_status wp_lua_to_value(lua_State *L, int idx, wp_value *out, wp_err *err);

/* Pushes v as a Lua value: arrays become sequences from 1, maps tables, errors error objects,
 * bytes strings. Raises a Lua memory error when Lua is out of memory: call it where that is
 * allowed (inside a protected call). v stays the caller's. */
WP_API void wp_lua_push_value(lua_State *L, const wp_value *v);

#endif
