-- host.max_processes and host.max_memory_mb: a spawn past either is refused with an error,
-- the processes already there go on, and the room comes back when they exit.
local time = require("time")

local function exits(n)
    for _ = 1, n do
        local e = process.receive(time.seconds(20))
        assert(e and e.kind == "EXIT", "missing EXIT")
        assert(e.error == nil, tostring(e.error))
    end
end

local function main()
    local out = {}
    -- app:small holds 3 processes
    for i = 1, 3 do
        assert(process.spawn_monitored("app:nap", "app:small", 300, i))
    end
    local pid, err = process.spawn_monitored("app:nap", "app:small", 1, 4)
    assert(pid == nil, "a fourth process was admitted")
    out[#out + 1] = "small: " .. tostring(err:kind()) .. ": " .. err:message()
    exits(3)
    assert(process.spawn_monitored("app:nap", "app:small", 1, 5), "no room after the exits")
    exits(1)

    -- app:tight reserves 8 MiB; mem2 reserves 2 MiB (limits.max_memory_mb: 2)
    for i = 1, 4 do
        assert(process.spawn_monitored("app:mem2", "app:tight", 300, i))
    end
    pid, err = process.spawn_monitored("app:mem2", "app:tight", 1, 5)
    assert(pid == nil, "a fifth 2 MiB process was admitted")
    out[#out + 1] = "tight: " .. tostring(err:kind()) .. ": " .. err:message()
    -- a process that reserves nothing (no memory) still fits
    local c = assert(process.spawn_monitored("app:compute", "app:tight", 6, 7))
    local e = process.receive(time.seconds(20))
    assert(e and e.from == c and e.value == 42, "compute beside the full host")
    exits(4)
    assert(process.spawn_monitored("app:mem2", "app:tight", 1, 6), "no room after the exits")
    exits(1)
    out[#out + 1] = "ok"
    return table.concat(out, "\n")
end

return { main = main }
