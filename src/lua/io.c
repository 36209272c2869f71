/* io.c: the io module (terminal only: stdout, stderr, stdin without blocking a worker, raw
 * mode, the command's arguments) and the global print. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"

#define IO_READ_DEFAULT 1024
#define IO_READ_MAX (16u << 20) /* bytes one io.read may ask for */

/* Writes all of buf to fd; false (errno set) on failure. */
static bool write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) { /* a non-blocking terminal: wait for room */
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            poll(&pfd, 1, 100);
            continue;
        }
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* The arguments from 'first' on, converted with tostring, separated by sep, ended by end. */
static void push_joined(lua_State *L, int first, const char *sep, const char *end) {
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = first; i <= n; i++) {
        if (i > first)
            luaL_addstring(&b, sep);
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_addstring(&b, end);
    luaL_pushresult(&b);
}

static int write_out(lua_State *L, int fd, const char *sep, const char *end) {
    size_t len;
    push_joined(L, 1, sep, end);
    const char *s = lua_tolstring(L, -1, &len);
    if (!write_all(fd, s, len))
        return wp__lua_failf(L, WP_ERR_INTERNAL, "write failed: %s", strerror(errno));
    lua_pushboolean(L, 1);
    return 1;
}

/* The global print: to stdout, tabs between, a newline after. */
static int l_print(lua_State *L) {
    size_t len;
    push_joined(L, 1, "\t", "\n");
    const char *s = lua_tolstring(L, -1, &len);
    write_all(STDOUT_FILENO, s, len);
    return 0;
}

/* Every io call but print checks it runs on the terminal. */
static bool on_terminal(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    return p && p->terminal;
}

static int no_terminal(lua_State *L) {
    return wp__lua_failf(L, WP_ERR_UNAVAILABLE,
                         "io works only in a process on the terminal host");
}

static int l_write(lua_State *L) {
    return on_terminal(L) ? write_out(L, STDOUT_FILENO, "", "") : no_terminal(L);
}

static int l_io_print(lua_State *L) {
    return on_terminal(L) ? write_out(L, STDOUT_FILENO, "\t", "\n") : no_terminal(L);
}

static int l_eprint(lua_State *L) {
    return on_terminal(L) ? write_out(L, STDERR_FILENO, "\t", "\n") : no_terminal(L);
}

static int l_flush(lua_State *L) {
    if (!on_terminal(L))
        return no_terminal(L);
    lua_pushboolean(L, 1); /* writes go straight to the descriptor: nothing is buffered */
    return 1;
}

/* ---- Reading stdin ------------------------------------------------------------------------ */

/* Bytes read from stdin and not yet returned live in the registry under this key (a string). */
static char pending_key;

static void push_pending(lua_State *L) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &pending_key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushliteral(L, "");
    }
}

static void set_pending(lua_State *L, const char *s, size_t len) {
    lua_pushlstring(L, s, len);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &pending_key);
}

/* One read(2) of stdin appended to the pending bytes, without waiting: 1 read something, 0
 * end of input, -1 nothing yet (EAGAIN or not readable), -2 error (errno). */
static int fill(lua_State *L) {
    struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
    if (poll(&pfd, 1, 0) == 0)
        return -1;
    char buf[4096];
    ssize_t n;
    do
        n = read(STDIN_FILENO, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN ? -1 : -2;
    if (n == 0)
        return 0;
    push_pending(L);
    lua_pushlstring(L, buf, (size_t)n);
    lua_concat(L, 2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &pending_key);
    return 1;
}

static int read_k(lua_State *L, int status, lua_KContext ctx);

/* Waits (the coroutine, not the worker) until stdin is readable, then runs read_k again. */
static int wait_stdin(lua_State *L, lua_KContext ctx) {
    wp__lua_check_yieldable(L, "io read");
    wp_lua_task *t = wp__lua_task(L);
    wp_lua_proc *p = t->proc;
    p->wait_fd = STDIN_FILENO;
    p->wait_events = WP_WASI_READABLE;
    p->fd_task = t;
    return wp__lua_block(L, t, ctx, read_k);
}

/* ctx: 0 for readline, else the byte count for read. The arguments are gone from the stack
 * when read_k runs again after a wait, so all it needs is in ctx. */
static int read_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    lua_settop(L, 0);
    for (;;) {
        size_t len;
        push_pending(L);
        const char *s = lua_tolstring(L, -1, &len);
        const char *nl = ctx == 0 ? memchr(s, '\n', len) : NULL;
        size_t take = nl ? (size_t)(nl - s) : ctx ? (len < (size_t)ctx ? len : (size_t)ctx) : 0;
        if (nl || (ctx && len > 0)) {
            lua_pushlstring(L, s, take);
            set_pending(L, s + take + (nl != NULL), len - take - (nl != NULL));
            return 1;
        }
        int r = fill(L);
        if (r == 0) { /* end of input: what is left, or nil */
            if (len == 0)
                return 0;
            set_pending(L, "", 0);
            return 1; /* the pending string still on the stack */
        }
        if (r == -2)
            return wp__lua_failf(L, WP_ERR_INTERNAL, "read failed: %s", strerror(errno));
        lua_pop(L, 1);
        if (r == -1)
            return wait_stdin(L, ctx);
    }
}

/* io.read([n]): up to n bytes (default 1024), nil at the end of input. */
static int l_read(lua_State *L) {
    if (!on_terminal(L))
        return no_terminal(L);
    lua_Integer n = luaL_optinteger(L, 1, IO_READ_DEFAULT);
    if (n <= 0)
        n = IO_READ_DEFAULT;
    if (n > (lua_Integer)IO_READ_MAX)
        n = IO_READ_MAX;
    return read_k(L, LUA_OK, (lua_KContext)n);
}

/* io.readline(): the next line without its newline, nil at the end of input. */
static int l_readline(lua_State *L) {
    return on_terminal(L) ? read_k(L, LUA_OK, 0) : no_terminal(L);
}

/* ---- Raw mode and arguments --------------------------------------------------------------- */

static int raw_depth;
static struct termios saved_termios;

/* io.raw([enable]): reference-counted raw mode of the terminal. */
static int l_raw(lua_State *L) {
    if (!on_terminal(L))
        return no_terminal(L);
    bool enable = lua_isnone(L, 1) || lua_toboolean(L, 1);
    if (!isatty(STDIN_FILENO))
        return wp__lua_failf(L, WP_ERR_UNSUPPORTED, "stdin is not a terminal");
    if (enable && raw_depth++ == 0) {
        struct termios t;
        if (tcgetattr(STDIN_FILENO, &saved_termios) != 0)
            return wp__lua_failf(L, WP_ERR_INTERNAL, "tcgetattr: %s", strerror(errno));
        t = saved_termios;
        cfmakeraw(&t);
        tcsetattr(STDIN_FILENO, TCSANOW, &t);
    } else if (!enable && raw_depth > 0 && --raw_depth == 0) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
    }
    lua_pushboolean(L, 1);
    return 1;
}

void wp__lua_io_reset(void) {
    if (raw_depth > 0) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
        raw_depth = 0;
    }
}

/* Init's string arguments, kept in the registry under this key by the behaviour. */
static int l_args(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    if (!on_terminal(L))
        return no_terminal(L);
    lua_newtable(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->args_ref);
    for (lua_Integer i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
        if (lua_type(L, -1) == LUA_TSTRING)
            lua_rawseti(L, -3, (lua_Integer)lua_rawlen(L, -3) + 1);
        else
            lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return 1;
}

int wp__lua_open_io(lua_State *L) {
    static const luaL_Reg funcs[] = {{"write", l_write},   {"print", l_io_print},
                                     {"eprint", l_eprint}, {"read", l_read},
                                     {"readline", l_readline}, {"raw", l_raw},
                                     {"flush", l_flush},   {"args", l_args},
                                     {NULL, NULL}};
    luaL_newlib(L, funcs);
    return 1;
}

/* Sets the global print. */
void wp__lua_open_print(lua_State *L) {
    lua_pushcfunction(L, l_print);
    lua_setglobal(L, "print");
}
