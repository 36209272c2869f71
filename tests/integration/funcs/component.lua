-- Component functions (tests/component/funcs_greet.wat: greet(name: string) -> string):
-- called from Lua (pooled and inline), concurrently, and from a core WASM guest through the
-- wippy:runtime/funcs import.
local funcs = require("funcs")

local function main()
    assert(funcs.call("app:greet", "World") == "Hello, World!", "pooled component")
    assert(funcs.call("app:greet_inline", "Inline") == "Hello, Inline!", "inline component")
    local v, err = funcs.call("app:greet", 42)
    assert(v == nil and err:kind() == errors.INVALID and tostring(err):find("string", 1, true),
        "a component's argument types are checked: " .. tostring(err))
    local fs = {}
    for i = 1, 8 do
        fs[i] = assert(funcs.async("app:greet", "n" .. i))
    end
    for i = 1, 8 do
        assert(fs[i]:response():receive():data() == "Hello, n" .. i .. "!", "async " .. i)
    end
    -- a core guest calls the component function through call-string
    local r = funcs.call("app:relay", "app:greet", "guest")
    assert(type(r) == "table" and r.ok == "Hello, guest!", "guest -> component: " ..
        tostring(r and (r.ok or r.err)))
    return "ok"
end

return { main = main }
