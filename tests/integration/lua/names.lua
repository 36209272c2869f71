-- Names: register, lookup, send by name, unregister, released when the owner exits.
local time = require("time")

local function main()
    assert(process.registry.register("boss"))
    assert(process.registry.lookup("boss") == process.pid())
    assert(process.registry.register("boss"), "registering again is idempotent")

    local pid = assert(process.spawn_monitored("app:named", "app:workers", "helper"))
    local where
    for _ = 1, 100 do -- the child registers as soon as it runs
        where = process.registry.lookup("helper")
        if where then break end
        time.sleep("10ms")
    end
    assert(where == pid, "lookup helper: " .. tostring(where))
    local replies = process.listen("me")
    assert(process.send("helper", "who", "?"), "send by name")
    assert(replies:receive() == pid, "reply")

    local e = process.receive(time.seconds(5))
    assert(e and e.from == pid and e.value == "helper")
    local none, err = process.registry.lookup("helper")
    assert(none == nil and err:kind() == errors.NOT_FOUND, "name not released on exit")

    local ok, err2 = process.send("nobody", "t", 1)
    assert(not ok and err2:kind() == errors.NOT_FOUND, "send to an unknown name")

    assert(process.registry.unregister("boss"))
    assert(process.registry.lookup("boss") == nil)
    assert(process.registry.unregister("boss") == false)
    return "ok"
end

return { main = main }
