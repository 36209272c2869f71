-- Each limit and each way a guest can fail, hit by a guest written to hit it, beside healthy
-- processes on the same 2-worker host: every failure ends alone with an EXIT error saying
-- what happened, every healthy result arrives. Returns one line per guest for limits.sh.
local time = require("time")

local FAILING = { "spin", "nap_long", "fuel", "fuel_exact", "fuel_short", "deep", "deep_default",
                  "grow", "grow_unlimited", "hog", "bigmem", "garbage", "exiter", "boom" }

local ARGS = { nap_long = { 10000, 1 }, -- sleeps 10 s unless stopped
               fuel_exact = { 10 }, fuel_short = { 10 } }

local function describe(r)
    if r.error then
        return tostring(r.error:kind()) .. ": " .. tostring(r.error:message())
    end
    return "value " .. tostring(r.value)
end

local function main()
    local who, healthy = {}, {}
    for _, name in ipairs(FAILING) do
        local pid, err = process.spawn_monitored("app:" .. name, "app:workers",
            table.unpack(ARGS[name] or {}))
        assert(pid, name .. ": " .. tostring(err))
        who[pid] = name
    end
    for i = 1, 50 do
        healthy[assert(process.spawn_monitored("app:nap", "app:workers", 30, i))] = i
        healthy[assert(process.spawn_monitored("app:compute", "app:workers", i, 1000))] = i * 1000
    end
    local started = time.now()
    local events = process.events()
    local deadline = time.after("60s")
    local lines, ok, left = {}, 0, #FAILING + 100
    while left > 0 do
        local r = channel.select { events:case_receive(), deadline:case_receive() }
        assert(r.channel == events, "timed out with " .. left .. " EXITs missing")
        local e = r.value
        left = left - 1
        if who[e.from] then
            lines[#lines + 1] = who[e.from] .. ": " .. describe(e.result)
            -- the time limits (100 ms) cut a 10 s sleep and an endless loop short
            local took = time.now():sub(started):milliseconds()
            assert(took < 5000 or (who[e.from] ~= "spin" and who[e.from] ~= "nap_long"),
                who[e.from] .. " ended after " .. took .. " ms")
        else
            assert(e.result.value == healthy[e.from], "healthy " .. e.from .. ": " ..
                describe(e.result))
            ok = ok + 1
        end
    end
    table.sort(lines)
    lines[#lines + 1] = "healthy " .. ok .. "/100"
    -- after the garbage guest's bytes on the same stdout: limits.sh reads from the marker on
    return "== report ==\n" .. table.concat(lines, "\n")
end

return { main = main }
