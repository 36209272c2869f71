-- funcs.call: core functions inline and pooled, a WAT function, a Lua function, fresh instances
-- per call, and every error kind a caller can get.
local funcs = require("funcs")

local function expect_err(kind, text, r, err)
    assert(r == nil, "expected an error, got a result: " .. tostring(r))
    assert(err, "expected an error object")
    assert(err:kind() == kind, "kind " .. tostring(err:kind()) .. ", want " .. kind ..
        ": " .. tostring(err))
    if text then
        assert(tostring(err):find(text, 1, true), tostring(err) .. " lacks " .. text)
    end
end

local function main()
    assert(funcs.call("app:mul_inline", 6, 7) == 42, "inline")
    assert(funcs.call("app:mul_lazy", 6, 7) == 42, "lazy")
    assert(funcs.call("app:mul_static", 3, 5) == 15, "static")
    assert(funcs.call("app:mul_adaptive", -2, 8) == -16, "adaptive")
    assert(funcs.call("app:mul_default", 9, 9) == 81, "no pool given")
    assert(funcs.call("app:answer") == 42, "function.wat")
    local t = funcs.call("app:double", { n = 21, tag = "x" })
    assert(type(t) == "table" and t.n == 42 and t.tag == "x", "function.lua with a table")
    assert(funcs.call("app:nested", 3, 4) == 24, "a Lua function calling functions")
    -- string arguments to core numbers, as the CLI does
    assert(funcs.call("app:mul_inline", "4", 5) == 20, "numeric text")

    -- every call gets a fresh instance: a global counter starts at 0 each time
    for _ = 1, 3 do
        assert(funcs.call("app:counter_inline") == 1, "inline: state survived a call")
        assert(funcs.call("app:counter_lazy") == 1, "lazy: state survived a call")
    end

    -- targets
    expect_err(errors.INVALID, "empty", funcs.call(""))
    expect_err(errors.INVALID, "no namespace", funcs.call("mul_inline", 1, 2))
    expect_err(errors.INVALID, "no namespace", funcs.call(":mul_inline", 1, 2))
    expect_err(errors.INVALID, "no name", funcs.call("app:", 1, 2))
    expect_err(errors.NOT_FOUND, "app:nothing", funcs.call("app:nothing"))
    expect_err(errors.INVALID, "not a function", funcs.call("app:proc_entry", 1, 2))
    -- the same unknown target twice (the lookup is not cached as a success)
    expect_err(errors.NOT_FOUND, nil, funcs.call("app:nothing"))

    -- the function fails
    expect_err(errors.TRAP, "unreachable", funcs.call("app:boom"))
    expect_err(errors.TRAP, "unreachable", funcs.call("app:boom_lazy"))
    expect_err(errors.INVALID, "argument", funcs.call("app:mul_inline", 1))
    expect_err(errors.INVALID, "argument", funcs.call("app:mul_lazy", "x", 2))
    local r, err = funcs.call("app:lua_fail", "bad input")
    expect_err(errors.NOT_FOUND, "bad input", r, err)
    -- an argument that is no value
    expect_err(errors.INVALID, "argument 1", funcs.call("app:double", function() end))
    -- transport wasi-http: accepted at load, not callable yet
    expect_err(errors.UNSUPPORTED, "wasi-http", funcs.call("app:http_fn", 1))
    return "ok"
end

return { main = main }
