-- cancel: a Lua process gets a CANCEL event with the reason and decides; a WASM process is
-- ended with a CANCELED error; terminate ends a Lua process that ignores everything.
local time = require("time")

local function main()
    local pid = assert(process.spawn_monitored("app:until_cancel", "app:workers"))
    time.sleep("20ms")
    assert(process.cancel(pid, "shutting down"))
    local e = process.receive(time.seconds(5))
    assert(e and e.from == pid, "no EXIT after cancel")
    assert(e.value == "cancelled: shutting down", tostring(e.value))

    pid = assert(process.spawn_monitored("app:sleeper", "app:workers", 10000, 1))
    assert(process.cancel(pid, "stop"))
    e = process.receive(time.seconds(5))
    assert(e and e.from == pid and e.error, "cancelled WASM process")
    assert(e.error:kind() == errors.CANCELED, e.error:kind())

    pid = assert(process.spawn_monitored("app:forever", "app:workers"))
    assert(process.terminate(pid))
    e = process.receive(time.seconds(5))
    assert(e and e.from == pid and e.error and e.error:kind() == errors.CANCELED, "terminate")

    local ok, err = process.terminate(pid) -- gone now
    assert(not ok and err:kind() == errors.NOT_FOUND, "terminate of a dead process")
    return "ok"
end

return { main = main }
