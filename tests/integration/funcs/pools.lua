-- Pools under more concurrent callers than the host has workers (2): how many calls run at
-- once shows in the wall time of six 200 ms sleeps. A full static queue is an error.
local funcs = require("funcs")
local time = require("time")

local CALLS = 6
local NAP = 200 -- ms

-- Runs CALLS calls of target from as many coroutines; returns the elapsed ms.
local function burst(target)
    local done = channel.new(CALLS)
    local start = time.now()
    for i = 1, CALLS do
        coroutine.spawn(function()
            local v, err = funcs.call(target, NAP, i)
            done:send({ v = v, err = err })
        end)
    end
    local sum = 0
    for _ = 1, CALLS do
        local r = done:receive()
        assert(r.v, target .. ": " .. tostring(r.err))
        sum = sum + r.v
    end
    assert(sum == CALLS * (CALLS + 1) / 2, target .. ": results " .. sum)
    return time.now():sub(start):milliseconds()
end

local function main()
    -- max 2 at once: three waves of sleeps
    local lazy = burst("app:nap_lazy")
    assert(lazy >= 3 * NAP - 10, "lazy max_size 2 ran more than 2 at once: " .. lazy .. " ms")
    local adaptive = burst("app:nap_adaptive")
    assert(adaptive >= 3 * NAP - 10, "adaptive max_size 2: " .. adaptive .. " ms")
    -- static size 3, buffer 3: two waves
    local static = burst("app:nap_static3")
    assert(static >= 2 * NAP - 10, "static size 3: " .. static .. " ms")
    -- inline: no limit; each call parks in its sleep and the next one starts
    local inline = burst("app:nap_inline")
    assert(inline < 3 * NAP - 10, "inline calls did not overlap: " .. inline .. " ms")
    assert(inline >= NAP - 10, "inline sleeps too short: " .. inline .. " ms")

    -- static size 1, buffer 2: one runs, two wait, the fourth is refused at once
    local f = {}
    for i = 1, 3 do
        f[i] = assert(funcs.async("app:nap_static1", NAP, i))
    end
    local v, err = funcs.call("app:nap_static1", NAP, 4)
    assert(v == nil and err and err:kind() == errors.UNAVAILABLE, "full queue: " .. tostring(err))
    assert(tostring(err):find("pool is full", 1, true), tostring(err))
    for i = 1, 3 do
        local p, ok = f[i]:response():receive()
        assert(ok and p:data() == i, "queued call " .. i)
    end
    -- once drained, it takes calls again
    assert(funcs.call("app:nap_static1", 1, 9) == 9, "static pool after the queue drained")
    -- cancelling a waiting call gives its place back
    f[1] = assert(funcs.async("app:nap_static1", NAP, 1))
    f[2] = assert(funcs.async("app:nap_static1", NAP, 2))
    f[3] = assert(funcs.async("app:nap_static1", NAP, 3))
    assert(select(2, funcs.async("app:nap_static1", NAP, 4)):kind() == errors.UNAVAILABLE)
    assert(f[3]:cancel() == true, "cancel a waiting call")
    -- the place comes back when the cancelled call has ended, a moment later
    for _ = 1, 100 do
        f[4] = funcs.async("app:nap_static1", NAP, 4)
        if f[4] then
            break
        end
        time.sleep("10ms")
    end
    assert(f[4], "the cancelled call's place did not come back")
    for _, i in ipairs({ 1, 2, 4 }) do
        assert(f[i]:response():receive():data() == i, "after the cancel: " .. i)
    end
    assert(f[3]:is_canceled() and f[3]:error():kind() == errors.CANCELED)

    -- callers in other processes share the pool: 4 processes x 2 calls, max 2 at once
    local start = time.now()
    local pids = {}
    for i = 1, 4 do
        pids[i] = assert(process.spawn_monitored("app:caller", "app:workers", "app:nap_lazy", NAP))
    end
    local got = 0
    while got < 4 do
        local e = process.receive(time.seconds(20))
        assert(e and e.kind == "EXIT", "a caller did not exit")
        assert(e.value == 2 * NAP, "caller result: " .. tostring(e.value or e.error))
        got = got + 1
    end
    local shared = time.now():sub(start):milliseconds()
    assert(shared >= 4 * NAP - 10, "8 calls through max_size 2: " .. shared .. " ms")
    local r, err = process.exec("app:single_caller", "app:single")
    assert(r == "ok", "single worker: " .. tostring(err))
    return "ok"
end

-- app:caller: two calls of target in parallel; returns the sum of their results.
local function caller(target, nap)
    local a = assert(funcs.async(target, nap, nap))
    local b = assert(funcs.async(target, nap, nap))
    local x = a:response():receive()
    local y = b:response():receive()
    return x:data() + y:data()
end

-- app:ticker: 20 sleeps of 10 ms; returns the ms they took.
local function ticker()
    local start = time.now()
    for _ = 1, 20 do
        time.sleep("10ms")
    end
    return time.now():sub(start):milliseconds()
end

-- app:single_caller, on a 1-worker host: a 600 ms call does not hold the worker, so a ticker
-- on the same host keeps its pace.
local function single_caller()
    local pid = assert(process.spawn_monitored("app:ticker", "app:single"))
    assert(funcs.call("app:nap_lazy", 600, 5) == 5, "the call")
    local e = process.receive(time.seconds(10))
    assert(e and e.from == pid and e.value, "ticker: " .. tostring(e and e.error))
    assert(e.value < 500, "the ticker waited for the caller's call: " .. e.value .. " ms")
    return "ok"
end

return { main = main, caller = caller, ticker = ticker, single_caller = single_caller }
