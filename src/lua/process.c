/* process.c: the process module (pid, send, spawn*, exec, terminate, cancel, monitor, link,
 * options, inbox, events, listen, receive, registry) and the mailbox: what the runtime
 * delivers is sorted here into the inbox, events and topic channels. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "wippy/wasi.h"

/* ---- The runtime behind a process ----------------------------------------------------------- */

static wp_runtime *runtime(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    if (!p || !p->rt)
        luaL_error(L, "process: this process runs outside a runtime (no PID, no mailbox)");
    return p->rt;
}

static void push_pid(lua_State *L, wp_runtime *rt, wp_pid pid) {
    char buf[WP_PID_TEXT_MAX];
    wp_pid_format(rt, pid, buf, sizeof buf);
    lua_pushstring(L, buf);
}

/* A destination argument (PID text or registered name); false with (nil, err) pushed. The
 * last PID text is kept parsed: a sender in a loop parses it once. */
static bool dest_arg(lua_State *L, int idx, wp_pid *out) {
    wp_lua_proc *p = wp__lua_proc(L);
    size_t len;
    const char *dest = luaL_checklstring(L, idx, &len);
    runtime(L);
    if (len == p->last_dest_len && len > 0 && memcmp(dest, p->last_dest, len) == 0) {
        *out = p->last_pid;
        return true;
    }
    wp_err err = {0};
    if (wp_resolve_dest(p->rt, dest, out, &err) != WP_OK) {
        wp__lua_fail(L, &err);
        return false;
    }
    if (dest[0] == '{' && len < sizeof p->last_dest) { /* a PID, not a name: names move */
        memcpy(p->last_dest, dest, len);
        p->last_dest_len = len;
        p->last_pid = *out;
    }
    return true;
}

/* Returns true, or (nil, err) for a failed status. */
static int status_result(lua_State *L, wp_status st, const wp_err *err) {
    if (st != WP_OK)
        return wp__lua_fail(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- Values held across calls that may raise (STYLE 15) ------------------------------------ */

typedef struct held_values {
    uint32_t n;
    wp_value v[];
} held_values;

static int held_gc(lua_State *L) {
    held_values *h = lua_touserdata(L, 1);
    for (uint32_t i = 0; i < h->n; i++)
        wp_value_free(&h->v[i]);
    h->n = 0;
    return 0;
}

/* Converts the values at first..top into a userdata that frees them when collected (pushed).
 * Raises (nothing leaked) when one cannot be converted. */
static held_values *hold_args(lua_State *L, int first) {
    int top = lua_gettop(L);
    uint32_t n = top >= first ? (uint32_t)(top - first + 1) : 0;
    held_values *h = lua_newuserdatauv(L, sizeof *h + n * sizeof(wp_value), 0);
    h->n = 0;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, held_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    for (uint32_t i = 0; i < n; i++) {
        wp_err err = {0};
        if (wp_lua_to_value(L, first + (int)i, &h->v[i], &err) != WP_OK)
            luaL_error(L, "argument %d: %s", first + (int)i, err.msg);
        h->n = i + 1;
    }
    return h;
}

/* ---- send ------------------------------------------------------------------------------------ */

/* process.send(dest, topic, ...): one value is the payload; none is nil; several an array. */
static int l_send(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    wp_pid to;
    const char *topic = luaL_checkstring(L, 2);
    if (!dest_arg(L, 1, &to))
        return 2;
    int n = lua_gettop(L) - 2;
    wp_value payload = wp_value_nil();
    wp_err err = {0};
    wp_status st = WP_OK;
    if (n == 1) {
        st = wp_lua_to_value(L, 3, &payload, &err);
    } else if (n > 1) {
        lua_createtable(L, n, 0);
        for (int i = 1; i <= n; i++) {
            lua_pushvalue(L, 2 + i);
            lua_rawseti(L, -2, i);
        }
        st = wp_lua_to_value(L, -1, &payload, &err);
    }
    if (st != WP_OK)
        return wp__lua_fail(L, &err);
    /* from here nothing raises until payload is handed over */
    st = wp_send(p->rt, p->pid, to, topic, &payload, &err);
    return status_result(L, st, &err);
}

/* ---- spawn ----------------------------------------------------------------------------------- */

static int spawn_with(lua_State *L, uint32_t flags, wp_pid *out) {
    wp_lua_proc *p = wp__lua_proc(L);
    const char *id = luaL_checkstring(L, 1);
    const char *host = luaL_checkstring(L, 2);
    runtime(L);
    held_values *args = hold_args(L, 3);
    wp_pid child = WP_PID_NONE;
    wp_err err = {0};
    if (wp_spawn(p->rt, p->pid, id, host, args->v, args->n, flags, &child, &err) != WP_OK)
        return wp__lua_fail(L, &err);
    push_pid(L, p->rt, child);
    if (out)
        *out = child;
    return 1;
}

static int l_spawn(lua_State *L) { return spawn_with(L, 0, NULL); }
static int l_spawn_monitored(lua_State *L) { return spawn_with(L, WP_SPAWN_MONITOR, NULL); }
static int l_spawn_linked(lua_State *L) { return spawn_with(L, WP_SPAWN_LINK, NULL); }
static int l_spawn_linked_monitored(lua_State *L) {
    return spawn_with(L, WP_SPAWN_LINK | WP_SPAWN_MONITOR, NULL);
}

/* process.exec(id, host, ...): spawns, waits for the child's exit: its value, or nil and its
 * error. The EXIT event goes to this call, not to the events channel. */
static int exec_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    (void)ctx;
    lua_getfield(L, -2, "error"); /* (index, result, ok) */
    if (!lua_isnil(L, -1)) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_getfield(L, -3, "value");
    return 1;
}

static int l_exec(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    wp__lua_check_yieldable(L, "process.exec");
    if (p->nexecs == WP_LUA_MAX_EXECS)
        return luaL_error(L, "process.exec: too many at once");
    wp_pid child = WP_PID_NONE;
    int r = spawn_with(L, WP_SPAWN_MONITOR, &child);
    if (r != 1)
        return r;
    wp_lua_task *t = wp__lua_task(L);
    p->execs[p->nexecs++] = (wp_lua_exec){child, t};
    return wp__lua_block(L, t, 0, exec_k);
}

/* ---- Control --------------------------------------------------------------------------------- */

typedef wp_status (*pair_fn)(wp_runtime *rt, wp_pid self, wp_pid target, wp_err *err);

static int with_target(lua_State *L, pair_fn fn) {
    wp_lua_proc *p = wp__lua_proc(L);
    wp_pid target;
    if (!dest_arg(L, 1, &target))
        return 2;
    wp_err err = {0};
    return status_result(L, fn(p->rt, p->pid, target, &err), &err);
}

static int l_terminate(lua_State *L) { return with_target(L, wp_terminate); }
static int l_monitor(lua_State *L) { return with_target(L, wp_monitor); }
static int l_unmonitor(lua_State *L) { return with_target(L, wp_unmonitor); }
static int l_link(lua_State *L) { return with_target(L, wp_link); }
static int l_unlink(lua_State *L) { return with_target(L, wp_unlink); }

static int l_cancel(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    wp_pid target;
    const char *reason = luaL_optstring(L, 2, NULL);
    if (!dest_arg(L, 1, &target))
        return 2;
    wp_err err = {0};
    return status_result(L, wp_cancel(p->rt, p->pid, target, reason, &err), &err);
}

static int l_pid(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    push_pid(L, runtime(L), p->pid);
    return 1;
}

static int l_get_options(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    runtime(L);
    lua_createtable(L, 0, 2);
    lua_pushboolean(L, wp_proc_trap_links(p->self));
    lua_setfield(L, -2, "trap_links");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "upgradable");
    return 1;
}

static int l_set_options(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    runtime(L);
    lua_getfield(L, 1, "trap_links");
    if (!lua_isnil(L, -1))
        wp_proc_set_trap_links(p->self, lua_toboolean(L, -1));
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- Channels: inbox, events, listen ---------------------------------------------------------- */

/* The process's channel kept in the registry under ref (made on first use). */
static void push_sys_channel(lua_State *L, int *ref) {
    if (*ref == LUA_NOREF) {
        wp_lua_chan *ch = wp__lua_chan_new(L, WP_LUA_UNBOUNDED);
        ch->source = WP_LUA_SRC_MAILBOX;
        lua_pushvalue(L, -1);
        *ref = luaL_ref(L, LUA_REGISTRYINDEX);
        return;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, *ref);
}

static int l_inbox(lua_State *L) {
    runtime(L);
    push_sys_channel(L, &wp__lua_proc(L)->inbox_ref);
    return 1;
}

static int l_events(lua_State *L) {
    runtime(L);
    push_sys_channel(L, &wp__lua_proc(L)->events_ref);
    return 1;
}

static bool reserved_topic(const char *topic) { return topic[0] == '@'; }

/* process.listen(topic[, {message = true}]): a channel of that topic's payloads (or Message
 * objects). The topics table maps topic -> {channel, message mode}. */
static int l_listen(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    const char *topic = luaL_checkstring(L, 1);
    runtime(L);
    if (reserved_topic(topic))
        return wp__lua_failf(L, WP_ERR_INVALID, "topic %s is reserved (it starts with @)",
                             topic);
    bool message = false;
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_getfield(L, 2, "message");
        message = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->topics_ref);
    int topics = lua_gettop(L);
    if (lua_getfield(L, topics, topic) != LUA_TNIL)
        return wp__lua_failf(L, WP_ERR_ALREADY_EXISTS, "topic %s is already listened to", topic);
    int dummy = LUA_NOREF;
    push_sys_channel(L, &dummy); /* a fresh channel: the entry below keeps it */
    luaL_unref(L, LUA_REGISTRYINDEX, dummy);
    lua_createtable(L, 2, 0);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, 1);
    lua_pushboolean(L, message);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, topics, topic);
    return 1;
}

/* process.unlisten(ch): its topic's messages go to the inbox again. */
static int l_unlisten(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    wp__lua_chan_check(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->topics_ref);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_rawgeti(L, -1, 1);
        bool same = lua_rawequal(L, -1, 1);
        lua_pop(L, 2);
        if (same) {
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, -4);
            lua_pop(L, 1);
            break;
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* process.receive([timeout]): the next event or inbox message, or nil when the timeout
 * passes first (the seed's API). */
static int receive_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    (void)ctx;
    if (lua_isnil(L, -1))
        return 1;
    lua_getfield(L, -1, "value");
    return 1;
}

static int l_receive(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    runtime(L);
    uint64_t deadline = WP_LUA_NO_DEADLINE;
    if (!lua_isnoneornil(L, 1)) {
        int64_t d = wp__lua_check_duration(L, 1);
        uint64_t now = wp_wasi_now();
        deadline = d > 0 ? now + (uint64_t)d : now;
    }
    lua_settop(L, 0);
    lua_pushcfunction(L, wp__lua_select_fn);
    lua_createtable(L, 2, 0);
    push_sys_channel(L, &p->events_ref);
    lua_getfield(L, -1, "case_receive");
    lua_insert(L, -2);
    lua_call(L, 1, 1);
    lua_rawseti(L, -2, 1);
    push_sys_channel(L, &p->inbox_ref);
    lua_getfield(L, -1, "case_receive");
    lua_insert(L, -2);
    lua_call(L, 1, 1);
    lua_rawseti(L, -2, 2);
    lua_pushinteger(L, (lua_Integer)(deadline == WP_LUA_NO_DEADLINE ? -1 : (int64_t)deadline));
    lua_callk(L, 2, 1, 0, receive_k);
    return receive_k(L, LUA_OK, 0);
}

/* ---- Names ------------------------------------------------------------------------------------ */

static int l_register(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    const char *name = luaL_checkstring(L, 1);
    wp_pid pid = p->pid;
    runtime(L);
    if (!lua_isnoneornil(L, 2) && !dest_arg(L, 2, &pid))
        return 2;
    wp_err err = {0};
    return status_result(L, wp_name_register(p->rt, name, pid, &err), &err);
}

static int l_lookup(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    const char *name = luaL_checkstring(L, 1);
    wp_pid pid;
    wp_err err = {0};
    if (wp_name_lookup(runtime(L), name, &pid, &err) != WP_OK)
        return wp__lua_fail(L, &err);
    push_pid(L, p->rt, pid);
    return 1;
}

static int l_unregister(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    wp_err err = {0};
    if (wp_name_unregister(runtime(L), name, &err) != WP_OK) {
        lua_pushboolean(L, 0);
        wp__lua_error_push(L, err.kind, err.msg, strlen(err.msg), 0);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_unsupported(lua_State *L) {
    return luaL_error(L, "process: %s is not supported yet",
                      lua_tostring(L, lua_upvalueindex(1)));
}

/* ---- The mailbox ------------------------------------------------------------------------------ */

/* Pushes {value = v} or {error = e} for a process's result. */
static void push_result(lua_State *L, const wp_value *v) {
    lua_createtable(L, 0, 1);
    wp_lua_push_value(L, v);
    lua_setfield(L, -2, v->kind == WP_VERROR ? "error" : "value");
}

static const char *const EVENT_NAMES[] = {"MESSAGE", "EXIT", "LINK_DOWN", "CANCEL"};

/* An event table: kind and type (both APIs), from, and result/value/error or reason. */
static void push_event(lua_State *L, wp_lua_proc *p, const wp_msg *m) {
    lua_createtable(L, 0, 6);
    lua_pushstring(L, EVENT_NAMES[m->kind]);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "kind");
    lua_setfield(L, -2, "type");
    push_pid(L, p->rt, m->from);
    lua_setfield(L, -2, "from");
    if (m->kind == WP_MSG_CANCEL) {
        wp_lua_push_value(L, &m->value);
        lua_setfield(L, -2, "reason");
        return;
    }
    push_result(L, &m->value);
    lua_getfield(L, -1, "value");
    lua_setfield(L, -3, "value");
    lua_getfield(L, -1, "error");
    lua_setfield(L, -3, "error");
    lua_setfield(L, -2, "result");
}

static int msg_field(lua_State *L, const char *name) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, name);
    return 1;
}
static int msg_topic(lua_State *L) { return msg_field(L, "_topic"); }
static int msg_from(lua_State *L) { return msg_field(L, "_from"); }
static int payload_data(lua_State *L) { return msg_field(L, "_data"); }

static char message_meta;
static char payload_meta;

static int msg_payload(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_createtable(L, 0, 1);
    lua_getfield(L, 1, "_data");
    lua_setfield(L, -2, "_data");
    lua_rawgetp(L, LUA_REGISTRYINDEX, &payload_meta);
    lua_setmetatable(L, -2);
    return 1;
}

/* A Message object: msg:topic(), msg:from(), msg:payload():data(). */
static void push_message(lua_State *L, wp_lua_proc *p, const wp_msg *m) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, m->topic);
    lua_setfield(L, -2, "_topic");
    if (m->from != WP_PID_NONE) {
        push_pid(L, p->rt, m->from);
        lua_setfield(L, -2, "_from");
    }
    wp_lua_push_value(L, &m->value);
    lua_setfield(L, -2, "_data");
    lua_rawgetp(L, LUA_REGISTRYINDEX, &message_meta);
    lua_setmetatable(L, -2);
}

/* A message to its topic's listener, else the inbox. */
static void deliver_message(lua_State *L, wp_lua_proc *p, const wp_msg *m) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->topics_ref);
    if (lua_getfield(L, -1, m->topic) == LUA_TTABLE) {
        lua_rawgeti(L, -1, 1);
        wp_lua_chan *ch = lua_touserdata(L, -1);
        bool message = lua_rawgeti(L, -2, 2) == LUA_TBOOLEAN && lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (message)
            push_message(L, p, m);
        else
            wp_lua_push_value(L, &m->value);
        wp__lua_chan_offer(L, ch);
        lua_pop(L, 3);
        return;
    }
    lua_pop(L, 2);
    push_sys_channel(L, &p->inbox_ref);
    wp_lua_chan *ch = lua_touserdata(L, -1);
    push_message(L, p, m);
    wp__lua_chan_offer(L, ch);
    lua_pop(L, 1);
}

/* An EXIT some process.exec waits for: to that call. */
static bool deliver_exec(lua_State *L, wp_lua_proc *p, const wp_msg *m) {
    for (uint32_t i = 0; i < p->nexecs; i++) {
        if (p->execs[i].pid != m->from)
            continue;
        wp_lua_task *t = p->execs[i].task;
        p->execs[i] = p->execs[--p->nexecs];
        push_result(L, &m->value);
        wp__lua_task_wake(L, t, 1, true);
        return true;
    }
    return false;
}

static void dispatch(lua_State *L, wp_lua_proc *p, const wp_msg *m) {
    if (m->kind == WP_MSG_MESSAGE) {
        deliver_message(L, p, m);
        return;
    }
    if (m->kind == WP_MSG_EXIT && (deliver_exec(L, p, m) || wp__lua_funcs_exit(L, m)))
        return;
    if (m->kind == WP_MSG_CANCEL && p->events_ref == LUA_NOREF) {
        /* nobody listens for events: a cancel cannot be handled, so it ends the process */
        const char *reason = wp_value_str(&m->value, NULL);
        char msg[WP_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "cancelled%s%s", reason ? ": " : "", reason ? reason : "");
        wp__lua_proc_fail(p, WP_ERR_CANCELED, msg);
        return;
    }
    push_sys_channel(L, &p->events_ref);
    wp_lua_chan *ch = lua_touserdata(L, -1);
    push_event(L, p, m);
    wp__lua_chan_offer(L, ch);
    lua_pop(L, 1);
}

bool wp__lua_mailbox_drain(lua_State *L) {
    wp_lua_proc *p = wp__lua_proc(L);
    if (!p || !p->self || !p->rt)
        return false;
    bool got = false;
    wp_msg *m;
    if (p->cur_msg) { /* sorting it raised before (and the script caught that): drop it */
        wp_msg_free(p->cur_msg);
        p->cur_msg = NULL;
    }
    while (wp_proc_recv(p->self, &m)) {
        p->cur_msg = m; /* freed by close if dispatching raises */
        dispatch(L, p, m);
        p->cur_msg = NULL;
        wp_msg_free(m);
        got = true;
    }
    return got;
}

/* ---- The module ------------------------------------------------------------------------------- */

static void make_message_metas(lua_State *L) {
    static const luaL_Reg mmethods[] = {
        {"topic", msg_topic}, {"from", msg_from}, {"payload", msg_payload}, {NULL, NULL}};
    static const luaL_Reg pmethods[] = {{"data", payload_data}, {NULL, NULL}};
    lua_createtable(L, 0, 2);
    luaL_newlib(L, mmethods);
    lua_setfield(L, -2, "__index");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &message_meta);
    lua_createtable(L, 0, 2);
    luaL_newlib(L, pmethods);
    lua_setfield(L, -2, "__index");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &payload_meta);
}

static void set_string(lua_State *L, const char *key, const char *value) {
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

int wp__lua_open_process(lua_State *L) {
    static const luaL_Reg funcs[] = {{"pid", l_pid},
                                     {"id", l_pid},
                                     {"send", l_send},
                                     {"spawn", l_spawn},
                                     {"spawn_monitored", l_spawn_monitored},
                                     {"spawn_linked", l_spawn_linked},
                                     {"spawn_linked_monitored", l_spawn_linked_monitored},
                                     {"exec", l_exec},
                                     {"terminate", l_terminate},
                                     {"cancel", l_cancel},
                                     {"monitor", l_monitor},
                                     {"unmonitor", l_unmonitor},
                                     {"link", l_link},
                                     {"unlink", l_unlink},
                                     {"get_options", l_get_options},
                                     {"set_options", l_set_options},
                                     {"inbox", l_inbox},
                                     {"events", l_events},
                                     {"listen", l_listen},
                                     {"unlisten", l_unlisten},
                                     {"receive", l_receive},
                                     {NULL, NULL}};
    static const luaL_Reg names[] = {
        {"register", l_register}, {"lookup", l_lookup}, {"unregister", l_unregister}, {NULL, NULL}};
    static const char *const unsupported[] = {"upgrade", "with_context", "with_options"};
    make_message_metas(L);
    luaL_newlib(L, funcs);
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        lua_pushstring(L, unsupported[i]);
        lua_pushcclosure(L, l_unsupported, 1);
        lua_setfield(L, -2, unsupported[i]);
    }
    lua_createtable(L, 0, 4);
    set_string(L, "CANCEL", "CANCEL");
    set_string(L, "EXIT", "EXIT");
    set_string(L, "LINK_DOWN", "LINK_DOWN");
    set_string(L, "OUTDATED", "OUTDATED");
    lua_setfield(L, -2, "event");
    luaL_newlib(L, names);
    set_string(L, "LOCAL", "LOCAL");
    set_string(L, "EVENTUAL", "EVENTUAL");
    set_string(L, "CONSISTENT", "CONSISTENT");
    set_string(L, "STRONG", "STRONG");
    lua_setfield(L, -2, "registry");
    return 1;
}
