-- The count hook: a Lua busy loop does not keep a sleeping Lua process on the same single
-- worker from waking on time.
local time = require("time")

local function spin()
    local x = 0
    while true do x = x + 1 end
end

local function main()
    local spinner = assert(process.spawn_monitored("app:lua_spin", "app:single"))
    time.sleep("20ms")
    local start = time.now()
    local sleeper = assert(process.spawn_monitored("app:sleepy", "app:single"))
    local e = process.receive(time.seconds(5))
    assert(e and e.from == sleeper, "the sleeper did not finish beside a Lua busy loop")
    local took = time.now():sub(start):milliseconds()
    assert(took < 500, "took " .. took .. " ms")
    assert(process.terminate(spinner))
    return "ok"
end

local function sleepy()
    time.sleep("50ms")
    return true
end

return { main = main, spin = spin, sleepy = sleepy }
