-- 200 components each sleeping 100 ms through WASI 0.2 (subscribe-duration + pollable.block)
-- on a 2-worker host: they park, so all finish in far less than 200 x 100 ms.
local time = require("time")

local function main()
    local n = 200
    local started = time.now()
    for i = 1, n do
        local pid, err = process.spawn_monitored("app:sleep", "app:workers", 100000000)
        assert(pid, tostring(err))
    end
    local done = 0
    while done < n do
        local event = process.receive(time.seconds(60))
        assert(event, "no event within 60 s after " .. done)
        assert(event.kind == "EXIT", "kind " .. tostring(event.kind))
        local slept = event.result.value
        assert(type(slept) == "number" and slept >= 100000000, "slept " .. tostring(slept))
        done = done + 1
    end
    local took = time.now():sub(started):milliseconds()
    assert(took < 10000, "took " .. took .. " ms")
    return "ok " .. done
end

return { main = main }
