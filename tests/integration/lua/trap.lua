-- A guest that traps: its EXIT error names the trap, and the processes beside it run on.
local time = require("time")

local function main()
    local boom = assert(process.spawn_monitored("app:boom", "app:workers"))
    local others = {}
    for i = 1, 10 do
        others[assert(process.spawn_monitored("app:sleeper", "app:workers", 20, i))] = i
    end
    local got = 0
    for _ = 1, 11 do
        local e = process.receive(time.seconds(10))
        assert(e, "missing EXIT")
        if e.from == boom then
            assert(e.error, "boom returned")
            assert(e.error:kind() == errors.TRAP, e.error:kind())
            assert(tostring(e.error):find("unreachable", 1, true), tostring(e.error))
        else
            assert(e.value == others[e.from], "a sleeper's value")
            got = got + 1
        end
    end
    assert(got == 10)
    return "ok"
end

return { main = main }
