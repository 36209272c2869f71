-- 1,000 WASM processes on a host with 2 workers, each sleeping (WASI poll_oneoff) then
-- returning its number: every EXIT arrives, with the right value, in far less than the time
-- the sleeps would take one after the other.
local time = require("time")

local function main(count, ms)
    count = tonumber(count) or 1000
    ms = tonumber(ms) or 100
    local started = time.now()
    local pids = {}
    for i = 1, count do
        local pid, err = process.spawn_monitored("app:sleeper", "app:workers", ms, i)
        assert(pid, tostring(err))
        pids[pid] = i
    end
    local events = process.events()
    local seen, sum = 0, 0
    local deadline = time.after("60s")
    while seen < count do
        local r = channel.select { events:case_receive(), deadline:case_receive() }
        assert(r.channel == events, "timed out after " .. seen .. " EXITs")
        local e = r.value
        assert(e.kind == "EXIT", e.kind)
        assert(e.result.error == nil, tostring(e.result.error))
        assert(pids[e.from] == e.result.value, "EXIT value of " .. e.from)
        pids[e.from] = nil
        seen = seen + 1
        sum = sum + e.result.value
    end
    assert(sum == count * (count + 1) // 2, "sum " .. sum)
    local took = time.now():sub(started):milliseconds()
    -- all of them asleep at once: a little over one sleep, not count sleeps
    assert(took < ms * 20, "took " .. took .. " ms")
    return "ok " .. seen
end

return { main = main }
