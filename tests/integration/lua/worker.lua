-- Lua workers the tests spawn, one method per entry.
local time = require("time")

-- The payload of the first inbox message.
local function wait_msg()
    local msg = process.inbox():receive()
    return msg:payload():data()
end

-- Answers "ping" (message mode: it knows the sender) with "pong" and the data, then returns.
local function echo()
    local ch = process.listen("ping", { message = true })
    local msg = ch:receive()
    process.send(msg:from(), "pong", msg:payload():data())
    return "echoed"
end

-- Waits for CANCEL and returns its reason (it could clean up first).
local function until_cancel()
    local events = process.events()
    while true do
        local e = events:receive()
        if e.kind == process.event.CANCEL then
            return "cancelled: " .. tostring(e.reason)
        end
    end
end

-- Waits on a channel nobody sends to.
local function forever()
    channel.new():receive()
    return "unreachable"
end

-- Spawns a trapping WASM process linked to itself. With trap_links it gets LINK_DOWN and
-- returns; without, the link kills it while it sleeps.
local function linker(trap)
    if trap then
        assert(process.set_options({ trap_links = true }))
        assert(process.get_options().trap_links == true)
    end
    local pid = assert(process.spawn_linked("app:boom", "app:workers"))
    if not trap then
        time.sleep("10s")
        return "still alive"
    end
    local e = process.receive(time.seconds(10))
    assert(e, "no LINK_DOWN")
    assert(e.kind == process.event.LINK_DOWN, e.kind)
    assert(e.from == pid)
    return "link down: " .. tostring(e.result.error)
end

-- Registers a name and answers one "who" message by name.
local function named(name)
    assert(process.registry.register(name))
    local ch = process.listen("who", { message = true })
    local msg = ch:receive()
    process.send(msg:from(), "me", process.pid())
    return name
end

local function fail()
    local t = nil
    return t.field -- a Lua runtime error
end

local function raise_kind()
    error(errors.new({ message = "no such thing", kind = errors.NOT_FOUND }))
end

local function add(a, b)
    return a + b
end

return {
    wait_msg = wait_msg, echo = echo, until_cancel = until_cancel, forever = forever,
    linker = linker, named = named, fail = fail, raise_kind = raise_kind, add = add,
}
