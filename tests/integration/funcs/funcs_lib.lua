-- Lua functions the tests call through funcs.
local function double(t)
    return { n = t.n * 2, tag = t.tag }
end

local function fail(msg)
    return nil, errors.new({ message = msg, kind = errors.NOT_FOUND })
end

local function shout(s)
    return string.upper(s) .. "!"
end

local function slow(s)
    require("time").sleep("200ms")
    return s
end

local function as_table(s)
    return { s }
end

-- calls another function: a function is a process, so it may call and wait in turn
local function nested(a, b)
    local funcs = require("funcs")
    local v, err = funcs.call("app:mul_lazy", a, b)
    if err then
        return nil, err
    end
    local f = assert(funcs.async("app:mul_inline", v, 2))
    return f:response():receive():data()
end

return {
    nested = nested, double = double, fail = fail, shout = shout, slow = slow,
    as_table = as_table,
}
