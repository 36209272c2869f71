-- The entry limits of components (limits_guest.wat, whose core module has a memory of 17
-- pages, max 40): fuel counted in instructions, the stack limit, the memory limit at
-- instantiation, and host.max_memory_mb counting what component processes reserve.
local time = require("time")

local function result_of(id, ...)
    local pid = assert(process.spawn_monitored(id, "app:workers", ...))
    local e = process.receive(time.seconds(20))
    assert(e and e.kind == "EXIT" and e.from == pid, "missing EXIT of " .. id)
    if e.error then
        return id .. ": " .. tostring(e.error:kind()) .. ": " .. tostring(e.error:message())
    end
    return id .. ": value " .. tostring(e.value)
end

local function main()
    local out = {}
    out[#out + 1] = result_of("app:c_fuel_exact", 10)
    out[#out + 1] = result_of("app:c_fuel_short", 10)
    out[#out + 1] = result_of("app:c_deep")
    out[#out + 1] = result_of("app:c_big", 1)
    -- app:tight reserves 8 MiB; c_nap reserves 2 MiB (32 pages: max_memory_mb 2, under its
    -- declared max of 40)
    local naps = {}
    for i = 1, 4 do
        naps[assert(process.spawn_monitored("app:c_nap", "app:tight", 300000000))] = i
    end
    local pid, err = process.spawn_monitored("app:c_nap", "app:tight", 1)
    assert(pid == nil, "a fifth 2 MiB component was admitted")
    out[#out + 1] = "tight: " .. tostring(err:kind()) .. ": " .. err:message()
    for _ = 1, 4 do
        local e = process.receive(time.seconds(20))
        assert(e and naps[e.from] and e.value == 300000000, "a component nap did not end well")
    end
    assert(process.spawn_monitored("app:c_nap", "app:tight", 1), "no room after the exits")
    out[#out + 1] = "room: " .. tostring(process.receive(time.seconds(20)).value)
    return table.concat(out, "\n")
end

return { main = main }
