-- Timeouts: an executor's timeout, the entry's limits.max_execution_ms, and a timeout that
-- passes while the call waits in its pool's queue.
local funcs = require("funcs")
local time = require("time")

local function elapsed(start) return time.now():sub(start):milliseconds() end

local function main()
    local exec = funcs.new():with_options({ timeout = 100 })
    local start = time.now()
    local v, err = exec:call("app:nap_lazy", 5000, 1)
    assert(v == nil and err and err:kind() == errors.TIMEOUT, "executor timeout: " .. tostring(err))
    assert(elapsed(start) < 3000, "the timeout came late: " .. elapsed(start))
    -- inline: the call went on as a process when it parked; the timeout still applies
    start = time.now()
    v, err = exec:call("app:nap_inline", 5000, 1)
    assert(err and err:kind() == errors.TIMEOUT, "inline timeout: " .. tostring(err))
    assert(elapsed(start) < 3000, "inline timeout late")
    -- a duration string works too; a quick call is not affected
    assert(funcs.new():with_options({ timeout = "2s" }):call("app:nap_lazy", 1, 7) == 7)
    -- an endless loop ends at the entry's max_execution_ms (100)
    start = time.now()
    v, err = funcs.call("app:spin_fn")
    assert(err and err:kind() == errors.TIMEOUT, "max_execution_ms: " .. tostring(err))
    assert(elapsed(start) < 3000, "max_execution_ms came late")
    -- waiting in the queue counts: static size 1 busy for 1 s, a 100 ms call behind it
    local busy = assert(funcs.async("app:nap_static1", 1000, 1))
    v, err = exec:call("app:nap_static1", 1, 2)
    assert(err and err:kind() == errors.TIMEOUT, "queued timeout: " .. tostring(err))
    local p = busy:response():receive()
    assert(p and p:data() == 1, "the busy call")
    -- executors are immutable: the base has no timeout
    local base = funcs.new()
    local short = base:with_options({ timeout = 50 })
    assert(base:call("app:nap_lazy", 150, 3) == 3, "base executor got the timeout")
    assert(select(2, short:call("app:nap_lazy", 1000, 3)):kind() == errors.TIMEOUT)
    -- context is kept per executor (merged, not shared)
    local c1 = base:with_context({ a = 1 })
    local c2 = c1:with_context({ b = 2 })
    assert(c1:context().b == nil and c2:context().a == 1 and c2:context().b == 2, "context")
    assert(not pcall(base.with_options, base, { timeout = -1 }), "a negative timeout")
    assert(not pcall(base.with_options, base, { timeout = "soon" }), "not a duration")
    local r, e2 = base:with_actor({})
    assert(r == nil and e2:kind() == errors.UNSUPPORTED, "with_actor")
    return "ok"
end

return { main = main }
