-- The same through the current API: process.events(), channel.select with time.after,
-- event.kind == process.event.EXIT and event.result.value.
local time = require("time")

local function main()
    local events = process.events()
    local pid, err = process.spawn_monitored("app:compute", "app:workers", 20, 2)
    if err then
        return nil, err
    end
    local timeout = time.after("10s")
    local r = channel.select {
        events:case_receive(),
        timeout:case_receive(),
    }
    assert(r.channel ~= timeout, "timeout waiting for EXIT")
    local event = r.value
    assert(event.kind == process.event.EXIT, "kind " .. tostring(event.kind))
    assert(event.from == pid)
    assert(event.result.error == nil, tostring(event.result.error))
    print(event.result.value)
end

return { main = main }
