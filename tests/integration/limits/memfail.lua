-- Run under an address-space limit (limits.sh): an instance whose memory the system refuses to
-- map ends alone with an out-of-memory error; the processes beside it return their values.
local time = require("time")

local function main()
    local big = assert(process.spawn_monitored("app:big", "app:workers"))
    local want = {}
    for i = 1, 20 do
        want[assert(process.spawn_monitored("app:nap", "app:workers", 10, i))] = i
    end
    local line, ok = "big: no EXIT", 0
    for _ = 1, 21 do
        local e = process.receive(time.seconds(20))
        assert(e and e.kind == "EXIT", "missing EXIT")
        if e.from == big then
            line = "big: " .. (e.error and (e.error:kind() .. ": " .. e.error:message())
                or ("value " .. tostring(e.value)))
        else
            assert(e.value == want[e.from], "healthy " .. e.from .. ": " .. tostring(e.error))
            ok = ok + 1
        end
    end
    return line .. "\nhealthy " .. ok .. "/20"
end

return { main = main }
