-- 10,000 processes on a 2-worker host, one in ten failing (a third trap, a third run out of
-- max_execution_ms asleep, a third busy): every healthy result (half computed at once, half
-- after a 5 ms sleep) arrives with its value, every failure is reported with its kind.
-- Returns "ok <healthy> <traps> <timeouts> <ms>".
local time = require("time")

local function main(count)
    count = tonumber(count) or 10000
    local started = time.now()
    local want, bad = {}, {}
    for i = 1, count do
        local pid, err
        local r = i % 30
        if r == 0 then
            pid, err = process.spawn_monitored("app:boom", "app:workers")
            bad[tostring(pid)] = "TRAP"
        elseif r == 10 then -- asleep for a minute, limited to 20 ms
            pid, err = process.spawn_monitored("app:nap_short_limit", "app:workers", 60000, i)
            bad[tostring(pid)] = "TIMEOUT"
        elseif r == 20 then -- a busy loop limited to 20 ms
            pid, err = process.spawn_monitored("app:spin_short_limit", "app:workers")
            bad[tostring(pid)] = "TIMEOUT"
        elseif i % 2 == 0 then
            pid, err = process.spawn_monitored("app:compute", "app:workers", i, 3)
            want[tostring(pid)] = i * 3
        else
            pid, err = process.spawn_monitored("app:nap", "app:workers", 5, i)
            want[tostring(pid)] = i
        end
        assert(pid, "spawn " .. i .. ": " .. tostring(err))
    end
    local events = process.events()
    local deadline = time.after("120s")
    local healthy, traps, timeouts = 0, 0, 0
    for n = 1, count do
        local r = channel.select { events:case_receive(), deadline:case_receive() }
        assert(r.channel == events, "timed out after " .. (n - 1) .. " EXITs")
        local e = r.value
        local from = tostring(e.from)
        if bad[from] then
            assert(e.result.error, from .. " did not fail")
            local kind = tostring(e.result.error:kind())
            assert(kind == bad[from], from .. ": " .. kind .. " " .. tostring(e.result.error))
            if kind == "TRAP" then traps = traps + 1 else timeouts = timeouts + 1 end
            bad[from] = nil
        else
            assert(e.result.value == want[from], from .. ": " .. tostring(e.result.value) ..
                " " .. tostring(e.result.error))
            want[from] = nil
            healthy = healthy + 1
        end
    end
    assert(next(want) == nil and next(bad) == nil, "an EXIT is missing")
    local took = time.now():sub(started):milliseconds()
    return string.format("ok %d %d %d %d", healthy, traps, timeouts, took)
end

return { main = main }
