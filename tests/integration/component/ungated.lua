-- An entry that lists wasi:poll but not wasi:clocks: the component still instantiates (its
-- clock import links to a stub) and its first clock call fails naming the function.
local time = require("time")

local function main()
    local pid, err = process.spawn_monitored("app:sleep_ungated", "app:workers", 1000)
    assert(pid, tostring(err))
    local event = process.receive(time.seconds(10))
    assert(event and event.kind == "EXIT", "no EXIT")
    local e = tostring(event.result.error)
    assert(e:find("wasi:clocks/monotonic-clock@0.2.0#now is not provided", 1, true), e)
    return "ok"
end

return { main = main }
