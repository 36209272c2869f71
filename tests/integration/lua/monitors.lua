-- Monitors: spawn then monitor; unmonitor stops EXIT events; EXIT of a failing Lua process
-- carries its message and traceback.
local time = require("time")

local function main()
    -- monitor an already running process
    local pid = assert(process.spawn("app:wait_msg", "app:workers"))
    assert(process.monitor(pid))
    assert(process.send(pid, "anything", { n = 5 }))
    local e = process.receive(time.seconds(5))
    assert(e and e.kind == "EXIT" and e.from == pid, "no EXIT after monitor")
    assert(type(e.value) == "table" and e.value.n == 5, "EXIT value")

    -- unmonitor: the exit is not reported
    pid = assert(process.spawn_monitored("app:wait_msg", "app:workers"))
    assert(process.unmonitor(pid))
    assert(process.send(pid, "t", "x"))
    assert(process.receive(time.milliseconds(200)) == nil, "EXIT after unmonitor")

    -- a Lua error: EXIT error with the message and a traceback
    pid = assert(process.spawn_monitored("app:fail", "app:workers"))
    e = process.receive(time.seconds(5))
    assert(e and e.from == pid and e.error, "no error EXIT")
    local msg = e.error:message()
    assert(msg:find("attempt to index a nil value", 1, true), msg)
    assert(msg:find("stack traceback", 1, true), msg)
    assert(msg:find("worker.lua", 1, true), msg)

    -- an error object keeps its kind
    pid = assert(process.spawn_monitored("app:raise_kind", "app:workers"))
    e = process.receive(time.seconds(5))
    assert(e and e.error and e.error:kind() == errors.NOT_FOUND, "kind lost")

    -- monitoring nothing alive fails
    local ok, err = process.monitor("{app:workers|0xfffff}")
    assert(not ok and err, "monitor of a dead pid")
    return "ok"
end

return { main = main }
