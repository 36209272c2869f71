-- The seed's example as written: spawn the compute worker monitored, receive(timeout) gives
-- the EXIT event; event.type and event.value (the older API).
local time = require("time")

local function main()
    local pid, err = process.spawn_monitored("app:compute", "app:workers", 6, 7)
    assert(pid, tostring(err))
    local event = process.receive(time.seconds(10))
    assert(event, "no event within 10 s")
    assert(event.type == "EXIT", "type " .. tostring(event.type))
    assert(event.from == pid, "from " .. tostring(event.from) .. ", spawned " .. pid)
    assert(event.kind == "EXIT" and event.result.value == 42, "kind/result")
    -- nothing else is coming: receive times out with nil
    assert(process.receive(time.milliseconds(20)) == nil, "a second event")
    print(event.value)
end

return { main = main }
