-- A component that imports wippy:runtime/funcs@0.1.0 (tests/component/funcs_relay.wat) calls
-- a Lua function, a component function and a missing one through call-string.
local funcs = require("funcs")

local function main()
    local r = funcs.call("app:comp_relay", "app:shout", "hi")
    assert(type(r) == "table" and r.ok == "HI!", "component -> Lua: " .. tostring(r and r.err))
    r = funcs.call("app:comp_relay", "app:greet", "c")
    assert(r.ok == "Hello, c!", "component -> component: " .. tostring(r.err))
    r = funcs.call("app:comp_relay", "app:nothing", "x")
    assert(r.err and r.err:find("not found", 1, true), "component -> missing: " .. tostring(r.err))
    return "ok"
end

return { main = main }
