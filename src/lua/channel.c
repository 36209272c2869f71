/* channel.c: the channel module: Go-style channels between the coroutines of one process
 * (buffered, unbuffered, closed), select with cases, default and timeouts. */
#include <string.h>

#include "internal.h"
#include "wippy/wasi.h"

static char chan_meta;
static char case_meta;

/* ---- Queues of waiters ---------------------------------------------------------------------- */

static void waitq_push(wp_lua_waitq *q, wp_lua_waiter *w) {
    w->prev = q->tail;
    w->next = NULL;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    w->linked = true;
}

static void waitq_remove(wp_lua_waitq *q, wp_lua_waiter *w) {
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->prev = w->next = NULL;
    w->linked = false;
}

/* Sets (value on top, popped) or clears (nil) the value a waiting send holds. */
static void held_set(lua_State *L, wp_lua_waiter *w) {
    wp_lua_proc *p = wp__lua_proc(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->held_ref);
    lua_insert(L, -2);
    lua_rawsetp(L, -2, w);
    lua_pop(L, 1);
}

static void held_push(lua_State *L, wp_lua_waiter *w) {
    wp_lua_proc *p = wp__lua_proc(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->held_ref);
    lua_rawgetp(L, -1, w);
    lua_remove(L, -2);
}

void wp__lua_waiter_unlink(lua_State *L, wp_lua_waiter *w) {
    if (!w->linked)
        return;
    waitq_remove(w->send ? &w->chan->sendq : &w->chan->recvq, w);
    if (w->send) {
        lua_pushnil(L);
        held_set(L, w); /* clearing an existing key never allocates */
    }
}

/* ---- The buffer: a ring over slots 1..size of the buffer table ------------------------------- */

static void push_buffer(lua_State *L, const wp_lua_chan *ch) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ch->buf_ref);
}

static void ring_grow(lua_State *L, wp_lua_chan *ch) {
    uint32_t size = ch->size ? ch->size * 2 : 4;
    if (size < ch->size || size > ch->cap)
        size = ch->cap;
    push_buffer(L, ch);
    lua_createtable(L, (int)(size < 1024 ? size : 1024), 0);
    for (uint32_t i = 0; i < ch->count; i++) {
        lua_rawgeti(L, -2, (lua_Integer)((ch->head + i) % ch->size) + 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_rawseti(L, LUA_REGISTRYINDEX, ch->buf_ref);
    lua_pop(L, 1);
    ch->head = 0;
    ch->size = size;
}

/* Appends the value on top (popped); the caller checked count < cap. */
static void ring_push(lua_State *L, wp_lua_chan *ch) {
    if (ch->count == ch->size)
        ring_grow(L, ch);
    push_buffer(L, ch);
    lua_insert(L, -2);
    lua_rawseti(L, -2, (lua_Integer)((ch->head + ch->count) % ch->size) + 1);
    lua_pop(L, 1);
    ch->count++;
}

/* Pushes the oldest value and frees its slot; the caller checked count > 0. */
static void ring_pop(lua_State *L, wp_lua_chan *ch) {
    push_buffer(L, ch);
    lua_rawgeti(L, -1, (lua_Integer)ch->head + 1);
    lua_pushnil(L);
    lua_rawseti(L, -3, (lua_Integer)ch->head + 1);
    lua_remove(L, -2);
    ch->head = (ch->head + 1) % ch->size;
    ch->count--;
}

/* ---- Non-blocking operations ---------------------------------------------------------------- */

enum { WOULD_BLOCK = 0, GOT = 1, CLOSED = -1 };

/* Receives without waiting: GOT (the value pushed), CLOSED or WOULD_BLOCK (nothing pushed). */
static int try_recv(lua_State *L, wp_lua_chan *ch) {
    for (int round = 0; round < 2; round++) {
        wp_lua_waiter *w = ch->sendq.head;
        if (ch->count > 0) {
            ring_pop(L, ch);
            if (w) { /* a full buffer with a sender waiting: its value takes the free slot */
                held_push(L, w);
                ring_push(L, ch);
                lua_pushnil(L);
                wp__lua_task_wake(L, w->task, w->index, true);
            }
            return GOT;
        }
        if (w) { /* unbuffered: take the value straight from the waiting sender */
            held_push(L, w);
            lua_pushnil(L);
            wp__lua_task_wake(L, w->task, w->index, true);
            return GOT;
        }
        if (ch->closed)
            return CLOSED;
        if (ch->source != WP_LUA_SRC_MAILBOX || round > 0 || !wp__lua_mailbox_drain(L))
            break;
    }
    return WOULD_BLOCK;
}

/* Sends the value on top without waiting: true (popped) or false (left). Raises on a closed
 * channel. */
static bool try_send(lua_State *L, wp_lua_chan *ch) {
    if (ch->closed)
        luaL_error(L, "send on closed channel");
    wp_lua_waiter *w = ch->recvq.head;
    if (w) {
        wp__lua_task_wake(L, w->task, w->index, true);
        return true;
    }
    if (ch->count < ch->cap) {
        ring_push(L, ch);
        return true;
    }
    return false;
}

bool wp__lua_chan_offer(lua_State *L, wp_lua_chan *ch) {
    if (!ch->closed && try_send(L, ch))
        return true;
    lua_pop(L, 1);
    return false;
}

/* ---- Channels ------------------------------------------------------------------------------- */

static int chan_gc(lua_State *L) {
    wp_lua_chan *ch = lua_touserdata(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, ch->buf_ref);
    ch->buf_ref = LUA_NOREF;
    return 0;
}

wp_lua_chan *wp__lua_chan_new(lua_State *L, uint32_t cap) {
    luaL_checkstack(L, 3, "making a channel");
    wp_lua_chan *ch = lua_newuserdatauv(L, sizeof *ch, 0);
    memset(ch, 0, sizeof *ch);
    ch->cap = cap;
    ch->buf_ref = LUA_NOREF;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &chan_meta);
    lua_setmetatable(L, -2);
    lua_newtable(L);
    ch->buf_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return ch;
}

static wp_lua_chan *test_chan(lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
        return NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &chan_meta);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same ? lua_touserdata(L, idx) : NULL;
}

wp_lua_chan *wp__lua_chan_check(lua_State *L, int idx) {
    wp_lua_chan *ch = test_chan(L, idx);
    if (!ch)
        luaL_typeerror(L, idx, "channel");
    return ch;
}

/* channel.new([size]) */
static int l_new(lua_State *L) {
    lua_Integer size = luaL_optinteger(L, 1, 0);
    luaL_argcheck(L, size >= 0 && size < (lua_Integer)WP_LUA_UNBOUNDED, 1, "size out of range");
    wp__lua_chan_new(L, (uint32_t)size);
    return 1;
}

/* Blocks the running task on one waiter for ch (a send holds the value on top, popped). */
static int block_one(lua_State *L, wp_lua_chan *ch, bool send, lua_KFunction k) {
    wp_lua_task *t = wp__lua_task(L);
    wp_lua_waiter *w = lua_newuserdatauv(L, sizeof *w, 0); /* on this frame while it waits */
    memset(w, 0, sizeof *w);
    *w = (wp_lua_waiter){.task = t, .chan = ch, .index = 1, .send = send};
    if (send) {
        lua_pushvalue(L, -2);
        held_set(L, w);
    }
    waitq_push(send ? &ch->sendq : &ch->recvq, w);
    t->waiters = w;
    t->nwaiters = 1;
    return wp__lua_block(L, t, 0, k);
}

static int send_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    (void)ctx;
    if (!lua_toboolean(L, -1))
        return luaL_error(L, "send on closed channel");
    lua_pushboolean(L, 1);
    return 1;
}

/* ch:send(value): true once taken; raises on a closed channel. */
static int m_send(lua_State *L) {
    wp_lua_chan *ch = wp__lua_chan_check(L, 1);
    lua_settop(L, 2);
    lua_pushvalue(L, 2);
    if (try_send(L, ch)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    wp__lua_check_yieldable(L, "channel send");
    return block_one(L, ch, true, send_k);
}

static int recv_k(lua_State *L, int status, lua_KContext ctx) {
    (void)L;
    (void)status;
    (void)ctx;
    return 2; /* value, ok: the top two of (index, value, ok) */
}

/* ch:receive(): value, true; or nil, false once closed and empty. */
static int m_receive(lua_State *L) {
    wp_lua_chan *ch = wp__lua_chan_check(L, 1);
    int r = try_recv(L, ch);
    if (r != WOULD_BLOCK) {
        if (r == CLOSED)
            lua_pushnil(L);
        lua_pushboolean(L, r == GOT);
        return 2;
    }
    wp__lua_check_yieldable(L, "channel receive");
    return block_one(L, ch, false, recv_k);
}

/* ch:close(): waiting receivers get nil, false; waiting senders raise. Closing twice is fine. */
static int m_close(lua_State *L) {
    wp_lua_chan *ch = wp__lua_chan_check(L, 1);
    ch->closed = true;
    while (ch->recvq.head) {
        lua_pushnil(L);
        wp__lua_task_wake(L, ch->recvq.head->task, ch->recvq.head->index, false);
    }
    while (ch->sendq.head) {
        lua_pushnil(L);
        wp__lua_task_wake(L, ch->sendq.head->task, ch->sendq.head->index, false);
    }
    return 0;
}

static int m_len(lua_State *L) {
    lua_pushinteger(L, wp__lua_chan_check(L, 1)->count);
    return 1;
}

static int m_tostring(lua_State *L) {
    lua_pushfstring(L, "channel: %p", lua_touserdata(L, 1));
    return 1;
}

/* ---- Select --------------------------------------------------------------------------------- */

/* A case: a userdata with two user values, 1 the channel and 2 the value a send sends. */
typedef struct select_case {
    bool send;
} select_case;

static int make_case(lua_State *L, bool send) {
    wp__lua_chan_check(L, 1);
    select_case *c = lua_newuserdatauv(L, sizeof *c, 2);
    c->send = send;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &case_meta);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, 2);
    return 1;
}

static int m_case_send(lua_State *L) {
    lua_settop(L, 2);
    return make_case(L, true);
}

static int m_case_receive(lua_State *L) {
    lua_settop(L, 1);
    return make_case(L, false);
}

/* Case i of the cases table at idx: its record, and its channel pushed. */
static select_case *get_case(lua_State *L, int idx, lua_Integer i, wp_lua_chan **ch) {
    lua_rawgeti(L, idx, i);
    select_case *c = NULL;
    if (lua_getmetatable(L, -1)) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &case_meta);
        c = lua_rawequal(L, -1, -2) ? lua_touserdata(L, -3) : NULL;
        lua_pop(L, 2);
    }
    if (!c)
        luaL_error(L, "select: case %d is not a channel case (use ch:case_receive() or "
                      "ch:case_send(v))",
                   (int)i);
    lua_getiuservalue(L, -1, 1);
    *ch = lua_touserdata(L, -1);
    lua_pop(L, 2);
    return c;
}

/* The result of case i: {channel = ch, value = v, ok = ok}. value is on top (popped). */
static void push_result(lua_State *L, int cases, lua_Integer i, bool ok) {
    lua_createtable(L, 0, 3);
    lua_insert(L, -2);
    lua_setfield(L, -2, "value");
    lua_rawgeti(L, cases, i);
    lua_getiuservalue(L, -1, 1);
    lua_setfield(L, -3, "channel");
    lua_pop(L, 1);
    lua_pushboolean(L, ok);
    lua_setfield(L, -2, "ok");
}

/* Tries every case in order; true with the result pushed when one could go now. */
static bool select_now(lua_State *L, int cases, lua_Integer n) {
    for (lua_Integer i = 1; i <= n; i++) {
        wp_lua_chan *ch;
        select_case *c = get_case(L, cases, i, &ch);
        if (c->send) {
            lua_rawgeti(L, cases, i);
            lua_getiuservalue(L, -1, 2);
            lua_remove(L, -2);
            lua_pushvalue(L, -1);
            if (try_send(L, ch)) {
                push_result(L, cases, i, true);
                return true;
            }
            lua_pop(L, 2);
            continue;
        }
        int r = try_recv(L, ch);
        if (r == WOULD_BLOCK)
            continue;
        if (r == CLOSED)
            lua_pushnil(L);
        push_result(L, cases, i, r == GOT);
        return true;
    }
    return false;
}

static int select_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    int cases = (int)ctx;
    lua_Integer index = lua_tointeger(L, -3);
    bool ok = lua_toboolean(L, -1);
    if (index == 0) { /* the timeout */
        lua_pushnil(L);
        return 1;
    }
    lua_rawgeti(L, cases, index);
    bool send = ((select_case *)lua_touserdata(L, -1))->send;
    if (send && !ok)
        return luaL_error(L, "send on closed channel");
    if (send)
        lua_getiuservalue(L, -1, 2); /* a send's result value is what it sent */
    else
        lua_pushvalue(L, -3);
    push_result(L, cases, index, ok);
    return 1;
}

/* Blocks on every case of the table at 'cases' (n of them), until deadline if not
 * WP_LUA_NO_DEADLINE (then the result is nil). */
static int select_block(lua_State *L, int cases, lua_Integer n, uint64_t deadline) {
    wp_lua_task *t = wp__lua_task(L);
    luaL_argcheck(L, n > 0 || deadline != WP_LUA_NO_DEADLINE, 1, "select with no cases");
    wp_lua_waiter *ws = lua_newuserdatauv(L, sizeof *ws * (size_t)(n ? n : 1), 0);
    memset(ws, 0, sizeof *ws * (size_t)(n ? n : 1));
    for (lua_Integer i = 1; i <= n; i++) {
        wp_lua_chan *ch;
        select_case *c = get_case(L, cases, i, &ch);
        wp_lua_waiter *w = &ws[i - 1];
        *w = (wp_lua_waiter){.task = t, .chan = ch, .index = (int)i, .send = c->send};
        if (c->send) {
            lua_rawgeti(L, cases, i);
            lua_getiuservalue(L, -1, 2);
            lua_remove(L, -2);
            held_set(L, w);
        }
    }
    for (lua_Integer i = 0; i < n; i++) /* linked only once nothing above can raise */
        waitq_push(ws[i].send ? &ws[i].chan->sendq : &ws[i].chan->recvq, &ws[i]);
    t->waiters = ws;
    t->nwaiters = (uint32_t)n;
    if (deadline != WP_LUA_NO_DEADLINE)
        wp__lua_timer_arm(L, &t->timer, deadline, 0);
    return wp__lua_block(L, t, cases, select_k);
}

int wp__lua_select(lua_State *L, int cases, bool dflt, uint64_t deadline) {
    cases = lua_absindex(L, cases);
    lua_Integer n = (lua_Integer)lua_rawlen(L, cases);
    if (select_now(L, cases, n))
        return 1;
    if (dflt) {
        lua_createtable(L, 0, 2);
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "default");
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "ok");
        return 1;
    }
    wp__lua_check_yieldable(L, "channel.select");
    return select_block(L, cases, n, deadline);
}

int wp__lua_select_fn(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer deadline = luaL_checkinteger(L, 2);
    lua_settop(L, 1);
    return wp__lua_select(L, 1, false, deadline < 0 ? WP_LUA_NO_DEADLINE : (uint64_t)deadline);
}

/* channel.select{case, ..., default = true} or channel.select(cases, timeout): our extension,
 * nil when the timeout passes first. */
static int l_select(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    uint64_t deadline = WP_LUA_NO_DEADLINE;
    if (!lua_isnoneornil(L, 2)) {
        int64_t d = wp__lua_check_duration(L, 2);
        uint64_t now = wp_wasi_now();
        deadline = d > 0 ? now + (uint64_t)d : now;
    }
    lua_settop(L, 1);
    lua_getfield(L, 1, "default");
    bool dflt = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return wp__lua_select(L, 1, dflt, deadline);
}

int wp__lua_open_channel(lua_State *L) {
    static const luaL_Reg methods[] = {{"send", m_send},
                                       {"receive", m_receive},
                                       {"close", m_close},
                                       {"len", m_len},
                                       {"case_send", m_case_send},
                                       {"case_receive", m_case_receive},
                                       {NULL, NULL}};
    static const luaL_Reg funcs[] = {{"new", l_new}, {"select", l_select}, {NULL, NULL}};
    lua_rawgetp(L, LUA_REGISTRYINDEX, &chan_meta);
    if (lua_isnil(L, -1)) {
        lua_createtable(L, 0, 4);
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, chan_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, m_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "channel");
        lua_setfield(L, -2, "__name");
        lua_rawsetp(L, LUA_REGISTRYINDEX, &chan_meta);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "channel case");
        lua_setfield(L, -2, "__name");
        lua_rawsetp(L, LUA_REGISTRYINDEX, &case_meta);
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
