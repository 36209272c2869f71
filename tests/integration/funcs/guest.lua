-- A WASM guest calling registry functions through the wippy:runtime/funcs host import
-- (call-string): a Lua function, a core WASM function, errors, and a slow Lua function that
-- parks the guest (its worker is free meanwhile).
local funcs = require("funcs")
local time = require("time")

local function ok_of(r, what)
    assert(type(r) == "table", what .. ": " .. tostring(r))
    assert(r.ok ~= nil, what .. ": err " .. tostring(r.err))
    return r.ok
end

local function main()
    assert(ok_of(funcs.call("app:relay", "app:shout", "hi"), "lua") == "HI!", "guest -> Lua")
    assert(ok_of(funcs.call("app:relay_lazy", "app:shout", "yo"), "lazy") == "YO!")
    assert(ok_of(funcs.call("app:relay", "app:twice", "21"), "wasm") == "42", "guest -> WASM")
    -- call-bytes: list<u8> in and out
    assert(ok_of(funcs.call("app:relay_bytes", "app:shout", "b\0y"), "bytes") == "B\0Y!",
        "call-bytes")
    -- errors come back as the err case, with their kind
    local r = funcs.call("app:relay", "app:nothing", "x")
    assert(r.err and r.err:find("not found", 1, true), "NOT_FOUND: " .. tostring(r.err))
    r = funcs.call("app:relay", "", "x")
    assert(r.err and r.err:find("invalid", 1, true), "INVALID: " .. tostring(r.err))
    r = funcs.call("app:relay", "app:lua_fail", "boom")
    assert(r.err and r.err:find("boom", 1, true), "a failing function: " .. tostring(r.err))
    -- results that are no text, and calls that end badly, are the err case too
    r = funcs.call("app:relay", "app:as_table", "x")
    assert(r.err and r.err:find("not text", 1, true), "a table result: " .. tostring(r.err))
    r = funcs.call("app:relay", "app:spin1_fn", "1")
    assert(r.err and r.err:find("timeout", 1, true), "a timed-out call: " .. tostring(r.err))
    -- a target the import cannot read traps the guest
    local v, err = funcs.call("app:relay", string.rep("a", 600), "x")
    assert(v == nil and err:kind() == errors.TRAP and tostring(err):find("too long", 1, true),
        "a long target: " .. tostring(err))
    -- no cabi_realloc: the result cannot be placed, the guest traps (at once for an error,
    -- after the call for a result)
    v, err = funcs.call("app:norealloc_missing")
    assert(err and err:kind() == errors.TRAP and tostring(err):find("cabi_realloc", 1, true),
        "no realloc (error): " .. tostring(err))
    v, err = funcs.call("app:norealloc_shout")
    assert(err and err:kind() == errors.TRAP and tostring(err):find("cabi_realloc", 1, true),
        "no realloc (result): " .. tostring(err))
    -- the import with another name or signature does not link
    v, err = funcs.call("app:badname")
    assert(err and err:kind() == errors.LINK and tostring(err):find("call-other", 1, true),
        "an unknown function: " .. tostring(err))
    v, err = funcs.call("app:badsig")
    assert(err and err:kind() == errors.LINK and tostring(err):find("canonical ABI", 1, true),
        "a wrong signature: " .. tostring(err))
    -- cancelling a guest whose call is in flight ends that call too
    local f = assert(funcs.async("app:relay_lazy", "app:slow", "never"))
    time.sleep("50ms")
    assert(f:cancel() == true)
    -- a guest spawned as a process uses it too
    r = process.exec("app:relay_proc", "app:workers", "app:shout", "proc")
    assert(ok_of(r, "process.wasm") == "PROC!", "process.wasm guest")
    -- four guests each waiting 200 ms on a Lua function at once: they overlap
    local start = time.now()
    local fs = {}
    for i = 1, 4 do
        fs[i] = assert(funcs.async("app:relay_lazy", "app:slow", "s" .. i))
    end
    for i = 1, 4 do
        local p = fs[i]:response():receive()
        assert(p and p:data().ok == "s" .. i, "slow " .. i)
    end
    local took = time.now():sub(start):milliseconds()
    assert(took >= 190 and took < 700, "four 200 ms calls took " .. took .. " ms")
    return "ok"
end

return { main = main }
