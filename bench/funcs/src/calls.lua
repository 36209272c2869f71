-- funcs.call overhead: one Lua process on a 1-worker host calls a trivial core function (two
-- i32 in, one out) N times: inline (a fresh instance in the caller's step) and through a lazy
-- pool (a fresh instance in a process of its own, the caller parked meanwhile); with the
-- argument "component", also a component function taking a string (scripts/bench-runtime.sh
-- adds its entries, bench:greet_inline and bench:greet_lazy, to a copy of this project).
local time = require("time")
local funcs = require("funcs")

local function loop(target, n)
    local start = time.now()
    local sum = 0
    for i = 1, n do
        sum = sum + funcs.call(target, i, 1)
    end
    local took = time.now():sub(start):seconds()
    assert(sum == n * (n + 1) // 2 + n, target .. ": wrong results")
    return took
end

-- The same with a component function taking and returning a string (greet).
local function loop_greet(target, n)
    local start = time.now()
    local r
    for _ = 1, n do
        r = funcs.call(target, "World")
    end
    local took = time.now():sub(start):seconds()
    assert(r == "Hello, World!", target .. ": wrong result " .. tostring(r))
    return took
end

local function line(what, n, took)
    return string.format("funcs.call, %s: %d in %.3f s: %.0f per second (%.2f us per call)",
                         what, n, took, n / took, took * 1e6 / n)
end

-- bench:runner, on the 1-worker host; with_component: the greet entries exist.
local function runner(n, with_component)
    local out = {}
    local m = n // 10
    out[#out + 1] = line("trivial core function, inline", n, loop("bench:add_inline", n))
    out[#out + 1] = line("trivial core function, lazy pool", m, loop("bench:add_lazy", m))
    if with_component then
        out[#out + 1] = line("component function, string argument, inline", m,
                             loop_greet("bench:greet_inline", m))
        out[#out + 1] = line("component function, string argument, lazy pool", m,
                             loop_greet("bench:greet_lazy", m))
    end
    return table.concat(out, "\n")
end

local function main(n, component)
    n = tonumber(n) or 1000000
    local r, err = process.exec("bench:runner", "bench:one", n, component == "component")
    assert(r, tostring(err))
    print(r)
end

return { main = main, runner = runner }
