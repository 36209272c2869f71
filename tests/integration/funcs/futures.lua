-- funcs.async futures: response/channel, is_complete, result, error, cancel, select.
local funcs = require("funcs")
local time = require("time")

local function main()
    local f = assert(funcs.async("app:mul_lazy", 6, 7))
    assert(f:response() == f:channel(), "response and channel are one channel")
    assert(not f:is_canceled())
    local p, ok = f:response():receive()
    assert(ok and p:data() == 42, "payload")
    assert(f:is_complete(), "complete after the result")
    local r, err = f:result()
    assert(r and r:data() == 42 and err == nil, "result()")
    local e, has = f:error()
    assert(e == nil and has == false, "error() of a success")
    assert(select(1, f:cancel()) == false, "cancel after completion")

    -- an inline target still runs as its own process when async
    f = assert(funcs.async("app:mul_inline", 2, 3))
    assert(f:response():receive():data() == 6)

    -- a failing call: the channel closes without a value, error() has it
    f = assert(funcs.async("app:boom_lazy"))
    local v, ok2 = f:channel():receive()
    assert(v == nil and ok2 == false, "error: channel closed")
    e, has = f:error()
    assert(has and e:kind() == errors.TRAP, "error(): " .. tostring(e))
    r, err = f:result()
    assert(r == nil and err:kind() == errors.TRAP, "result() of a failure")

    -- pending: result() is nil, cancel() ends it
    f = assert(funcs.async("app:nap_lazy", 5000, 1))
    assert(not f:is_complete() and f:result() == nil, "pending")
    local start = time.now()
    assert(f:cancel() == true, "cancel")
    assert(f:is_canceled() and f:is_complete(), "canceled state")
    assert(select(2, f:channel():receive()) == false, "channel of a canceled call")
    assert(select(2, f:error()) == true and f:error():kind() == errors.CANCELED)
    -- the cancelled call's EXIT is not an event of the script's
    assert(process.receive("100ms") == nil, "a stray EXIT after cancel")
    -- a cancel frees its turn: the pool (max 2) runs two more 50 ms calls at once
    local a = assert(funcs.async("app:nap_lazy", 50, 1))
    local b = assert(funcs.async("app:nap_lazy", 50, 2))
    assert(a:channel():receive():data() + b:channel():receive():data() == 3)
    assert(time.now():sub(start):milliseconds() < 3000, "canceled call still held its turn")

    -- select over several futures
    local fs = {}
    for i = 1, 3 do
        fs[i] = assert(funcs.async("app:nap_lazy", 10 * i, i))
    end
    local seen = 0
    for _ = 1, 3 do
        local res = channel.select({ fs[1]:channel():case_receive(), fs[2]:channel():case_receive(),
            fs[3]:channel():case_receive() })
        if res.ok then
            seen = seen + res.value:data()
        end
    end
    assert(seen >= 1, "select got results")

    -- a caller that ends takes its calls in flight with it: app:abandon leaves a 5 s call of
    -- the size-1 static pool behind, yet the next call of that pool runs at once
    local pid = assert(process.spawn_monitored("app:abandon", "app:workers"))
    local ev = process.receive(time.seconds(10))
    assert(ev and ev.from == pid and ev.value == "left", "abandon: " .. tostring(ev and ev.error))
    start = time.now()
    assert(funcs.call("app:nap_static1", 1, 8) == 8, "after the abandoned call")
    assert(time.now():sub(start):milliseconds() < 3000, "the abandoned call still ran")

    -- the async call's errors come back at once
    local nf, nerr = funcs.async("app:nothing")
    assert(nf == nil and nerr:kind() == errors.NOT_FOUND, "async NOT_FOUND")
    nf, nerr = funcs.async("")
    assert(nf == nil and nerr:kind() == errors.INVALID, "async INVALID")
    return "ok"
end

-- app:abandon: starts a long call and returns without waiting for it.
local function abandon()
    assert(funcs.async("app:nap_static1", 5000, 1))
    return "left"
end

return { main = main, abandon = abandon }
