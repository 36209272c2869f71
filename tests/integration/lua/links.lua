-- Links: without trap_links a linked failure kills the process; with it a LINK_DOWN event
-- arrives instead and the process goes on.
local time = require("time")

local function main()
    local pid = assert(process.spawn_monitored("app:linker", "app:workers", true))
    local e = process.receive(time.seconds(10))
    assert(e and e.from == pid, "no EXIT from the trapping linker")
    assert(e.error == nil, "trapping linker failed: " .. tostring(e.error))
    assert(e.value:find("link down", 1, true) and e.value:find("unreachable", 1, true), e.value)

    pid = assert(process.spawn_monitored("app:linker", "app:workers", false))
    e = process.receive(time.seconds(10))
    assert(e and e.from == pid, "no EXIT from the linker")
    assert(e.error, "the link did not kill it: " .. tostring(e.value))

    -- process.link/unlink by hand: unlinking first means a failure does not spread
    local victim = assert(process.spawn_monitored("app:forever", "app:workers"))
    local other = assert(process.spawn("app:boom", "app:workers"))
    -- (boom traps at once; linking to it may find it gone)
    process.link(other)
    process.unlink(other)
    assert(process.terminate(victim))
    e = process.receive(time.seconds(5))
    assert(e and e.from == victim and e.error, "terminate")
    return "ok"
end

return { main = main }
