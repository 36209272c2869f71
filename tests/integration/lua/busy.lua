-- Two WASM processes spin forever on the 2-worker host; sleepers spawned beside them still
-- wake on time (the busy ones are preempted by their reduction budget), and terminate ends
-- the spinners with an EXIT error.
local time = require("time")

local function main()
    local events = process.events()
    local spinners = {}
    for i = 1, 2 do
        local pid = assert(process.spawn_monitored("app:spin", "app:workers"))
        spinners[pid] = true
    end
    time.sleep("50ms") -- both workers are busy now
    local started = time.now()
    local sleepers = {}
    for i = 1, 5 do
        local pid = assert(process.spawn_monitored("app:sleeper", "app:workers", 100, i))
        sleepers[pid] = true
    end
    for i = 1, 5 do
        local r = channel.select { events:case_receive(), time.after("5s"):case_receive() }
        assert(r.channel == events, "a sleeper did not wake")
        assert(sleepers[r.value.from], "EXIT from " .. tostring(r.value.from))
        assert(r.value.result.value == r.value.result.value and r.value.result.error == nil)
    end
    local took = time.now():sub(started):milliseconds()
    assert(took >= 100, "woke early: " .. took)
    assert(took < 600, "sleepers woke late beside busy loops: " .. took .. " ms")
    for pid in pairs(spinners) do
        assert(process.terminate(pid))
    end
    for i = 1, 2 do
        local e = process.receive(time.seconds(5))
        assert(e and spinners[e.from], "no EXIT from a terminated spinner")
        assert(e.result.error, "a terminated spinner returned a value")
        assert(e.result.error:kind() == errors.CANCELED, e.result.error:kind())
    end
    return "ok " .. took
end

return { main = main }
