-- funcs.call from Lua: fib(n) from the fib function, then fib(1..n) all at once through
-- funcs.async futures (the pool runs 4 at a time; the rest wait their turn).
local funcs = require("funcs")

local function main(n)
    n = tonumber(n) or 10
    local v, err = funcs.call("app.functions:fib", n)
    if err then
        return nil, err
    end
    print(string.format("fib(%d) = %d", n, v))
    local futures = {}
    for i = 1, n do
        futures[i] = assert(funcs.async("app.functions:fib", i))
    end
    local all = {}
    for i = 1, n do
        local payload, ok = futures[i]:response():receive()
        if not ok then
            return nil, futures[i]:error()
        end
        all[i] = payload:data()
    end
    print(table.concat(all, " "))
    return 0
end

return { main = main }
