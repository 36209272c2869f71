/* sched.c: a Lua process's own scheduling: its tasks (coroutines), the run queue, blocking
 * and waking, timers, and the count hook that ends a slice. */
#include <string.h>

#include "internal.h"

wp_lua_proc *wp__lua_proc(lua_State *L) { return *(wp_lua_proc **)lua_getextraspace(L); }

wp_lua_task *wp__lua_task(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    if (!p || !p->current)
        luaL_error(L, "not inside a running process");
    return p->current;
}

void wp__lua_check_yieldable(lua_State *L, const char *what) {
    wp_lua_proc *p = wp__lua_proc(L);
    if (!p || !p->current)
        luaL_error(L, "%s: not inside a running process", what);
    if (!lua_isyieldable(L) || p->no_block > 0)
        luaL_error(L, "%s cannot wait here (inside a metamethod or a C function's callback)",
                   what);
}

/* ---- Run queue ------------------------------------------------------------------------------ */

void wp__lua_enqueue(wp_lua_proc *p, wp_lua_task *t) {
    if (t->queued || t->done)
        return;
    t->queued = true;
    t->next = NULL;
    if (p->ready_tail)
        p->ready_tail->next = t;
    else
        p->ready_head = t;
    p->ready_tail = t;
}

wp_lua_task *wp__lua_dequeue(wp_lua_proc *p) {
    wp_lua_task *t = p->ready_head;
    if (!t)
        return NULL;
    p->ready_head = t->next;
    if (!p->ready_head)
        p->ready_tail = NULL;
    t->queued = false;
    t->next = NULL;
    return t;
}

/* The slice is spent: yield if this coroutine can (a count hook may yield, with no values). */
static void hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    wp_lua_proc *p = wp__lua_proc(L);
    p->slice -= WP_LUA_HOOK_INSTRUCTIONS;
    if ((p->slice <= 0 || p->done) && p->current && p->no_block == 0 && lua_isyieldable(L)) {
        p->sys_yield = true;
        lua_yield(L, 0);
    }
}

wp_lua_task *wp__lua_task_spawn(lua_State *L, int nargs, bool main) {
    wp_lua_proc *p = wp__lua_proc(L);
    luaL_checkstack(L, 4, "spawning a coroutine");
    wp_lua_task *t = lua_newuserdatauv(L, sizeof *t, 1); /* fn args... task */
    memset(t, 0, sizeof *t);
    t->proc = p;
    t->ref = LUA_NOREF;
    t->timer.slot = UINT32_MAX;
    t->timer.action = WP_LUA_TIMER_WAKE;
    t->timer.task = t;
    t->main = main;
    lua_State *co = lua_newthread(L); /* fn args... task co */
    lua_setiuservalue(L, -2, 1);      /* the task keeps its thread */
    t->co = co;
    lua_insert(L, -(nargs + 2)); /* task fn args... */
    lua_xmove(L, co, nargs + 1);
    t->nresume = nargs;
    t->ref = luaL_ref(L, LUA_REGISTRYINDEX); /* anchored until it ends */
    lua_sethook(co, hook, LUA_MASKCOUNT, WP_LUA_HOOK_INSTRUCTIONS);
    if (main)
        p->main = t;
    wp__lua_enqueue(p, t);
    return t;
}

/* ---- Blocking and waking -------------------------------------------------------------------- */

int wp__lua_block(lua_State *L, wp_lua_task *t, lua_KContext ctx, lua_KFunction k) {
    t->blocked = true;
    t->proc->sys_yield = true;
    return lua_yieldk(L, 0, ctx, k);
}

void wp__lua_task_wake(lua_State *L, wp_lua_task *t, int index, bool ok) {
    wp_lua_proc *p = t->proc;
    for (uint32_t i = 0; i < t->nwaiters; i++)
        wp__lua_waiter_unlink(L, &t->waiters[i]);
    t->waiters = NULL;
    t->nwaiters = 0;
    wp__lua_timer_disarm(L, &t->timer);
    if (p->fd_task == t) {
        p->fd_task = NULL;
        p->wait_fd = -1;
    }
    t->blocked = false;
    if (!lua_checkstack(t->co, 3)) {
        lua_pop(L, 1);
        luaL_error(L, "out of memory waking a coroutine");
    }
    lua_pushinteger(t->co, index);
    lua_xmove(L, t->co, 1);
    lua_pushboolean(t->co, ok);
    t->nresume = 3;
    wp__lua_enqueue(p, t);
}

/* ---- Timers: a binary min-heap on 'when' ---------------------------------------------------- */

static void heap_set(wp_lua_proc *p, uint32_t i, wp_lua_timer *tm) {
    p->timers[i] = tm;
    tm->slot = i;
}

static void sift_up(wp_lua_proc *p, uint32_t i) {
    wp_lua_timer *tm = p->timers[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (p->timers[parent]->when <= tm->when)
            break;
        heap_set(p, i, p->timers[parent]);
        i = parent;
    }
    heap_set(p, i, tm);
}

static void sift_down(wp_lua_proc *p, uint32_t i) {
    wp_lua_timer *tm = p->timers[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= p->ntimers)
            break;
        if (c + 1 < p->ntimers && p->timers[c + 1]->when < p->timers[c]->when)
            c++;
        if (tm->when <= p->timers[c]->when)
            break;
        heap_set(p, i, p->timers[c]);
        i = c;
    }
    heap_set(p, i, tm);
}

static void anchor_set(lua_State *L, wp_lua_timer *tm, int anchor) {
    wp_lua_proc *p = wp__lua_proc(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->armed_ref);
    if (anchor)
        lua_pushvalue(L, anchor);
    else
        lua_pushnil(L);
    lua_rawsetp(L, -2, tm);
    lua_pop(L, 1);
}

void wp__lua_timer_arm(lua_State *L, wp_lua_timer *tm, uint64_t when, int anchor) {
    wp_lua_proc *p = wp__lua_proc(L);
    if (anchor)
        anchor = lua_absindex(L, anchor);
    wp__lua_timer_disarm(L, tm);
    if (p->ntimers == p->timers_cap) {
        uint32_t cap = p->timers_cap ? p->timers_cap * 2 : 8;
        wp_lua_timer **grown = wp_heap_realloc(&p->heap, p->timers,
                                               p->timers_cap * sizeof *grown, cap * sizeof *grown);
        if (!grown)
            luaL_error(L, "out of memory arming a timer");
        p->timers = grown;
        p->timers_cap = cap;
    }
    if (anchor)
        anchor_set(L, tm, anchor); /* may raise: before the heap points to it */
    tm->when = when;
    p->timers[p->ntimers] = tm;
    tm->slot = p->ntimers++;
    sift_up(p, tm->slot);
}

void wp__lua_timer_disarm(lua_State *L, wp_lua_timer *tm) {
    wp_lua_proc *p = wp__lua_proc(L);
    if (tm->slot == UINT32_MAX)
        return;
    uint32_t i = tm->slot;
    tm->slot = UINT32_MAX;
    wp_lua_timer *last = p->timers[--p->ntimers];
    if (last != tm) {
        heap_set(p, i, last);
        sift_up(p, i);
        sift_down(p, last->slot);
    }
    if (tm->action != WP_LUA_TIMER_WAKE)
        anchor_set(L, tm, 0); /* rawset of nil into an existing key: never allocates */
}

uint64_t wp__lua_next_deadline(const wp_lua_proc *p) {
    return p->ntimers ? p->timers[0]->when : WP_LUA_NO_DEADLINE;
}

/* Pushes the object holding a channel timer (it must stay alive while the time is sent). */
static void fire_send(lua_State *L, wp_lua_timer *tm, uint64_t now) {
    wp_lua_proc *p = wp__lua_proc(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->armed_ref);
    lua_rawgetp(L, -1, tm); /* keep the holder on the stack while it may be disarmed */
    lua_remove(L, -2);
    if (tm->action == WP_LUA_TIMER_TICK) {
        uint64_t next = tm->when + tm->period;
        wp__lua_timer_arm(L, tm, next > now ? next : now + tm->period, lua_gettop(L));
    } else {
        wp__lua_timer_disarm(L, tm);
    }
    wp__lua_push_now(L);
    wp__lua_chan_offer(L, tm->chan); /* a full channel drops the tick, as Go's tickers do */
    lua_pop(L, 1);
}

void wp__lua_fire_timers(lua_State *L, uint64_t now) {
    wp_lua_proc *p = wp__lua_proc(L);
    while (p->ntimers && p->timers[0]->when <= now) {
        wp_lua_timer *tm = p->timers[0];
        if (tm->action == WP_LUA_TIMER_WAKE) {
            lua_pushnil(L);
            wp__lua_task_wake(L, tm->task, 0, false); /* disarms it */
        } else {
            fire_send(L, tm, now);
        }
    }
}
