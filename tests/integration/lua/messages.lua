-- Messages: FIFO per sender, topics to listeners, the rest to the inbox as Message objects,
-- several payload values as an array, exec, and request/reply with a Lua echo process.
local time = require("time")

local function main()
    local me = process.pid()
    local nums = process.listen("num")
    for i = 1, 1000 do
        assert(process.send(me, "num", i))
    end
    assert(process.send(me, "other", "a", 2, true))
    for i = 1, 1000 do
        local v = nums:receive()
        assert(v == i, "out of order: " .. tostring(v) .. " for " .. i)
    end
    local msg = process.inbox():receive()
    assert(msg:topic() == "other" and msg:from() == me)
    local data = msg:payload():data()
    assert(data[1] == "a" and data[2] == 2 and data[3] == true, "several values")

    local ok, err = process.send(me, "@inbox", 1)
    assert(not ok and err:kind() == errors.INVALID, "reserved topic")
    assert(process.listen("@x") == nil, "listen to a reserved topic")

    local echo = assert(process.spawn("app:echo", "app:workers"))
    local pongs = process.listen("pong")
    assert(process.send(echo, "ping", { deep = { list = { 1, 2, 3 } } }))
    local r = channel.select { pongs:case_receive(), time.after("5s"):case_receive() }
    assert(r.channel == pongs and r.value.deep.list[3] == 3, "pong")

    assert(process.exec("app:add", "app:workers", 40, 2) == 42, "exec")
    local v, e2 = process.exec("app:fail", "app:workers")
    assert(v == nil and e2 and tostring(e2):find("nil value", 1, true), "exec of a failure")
    local v3, e3 = process.spawn("app:nope", "app:workers")
    assert(v3 == nil and e3:kind() == errors.NOT_FOUND, "spawn of an unknown entry")
    local v4, e4 = process.spawn("app:add", "app:nohost")
    assert(v4 == nil and e4:kind() == errors.NOT_FOUND, "spawn on an unknown host")
    assert(process.unlisten(nums))
    return "ok"
end

return { main = main }
