-- One Lua process sends N integers to another on one topic; the receiver takes them all.
-- The command times it from the sender's spawn to the receiver's exit.
local function sender(to, n)
    for i = 1, n do
        process.send(to, "m", i)
    end
    return n
end

local function receiver(n)
    local ch = process.listen("m")
    local sum = 0
    for _ = 1, n do
        sum = sum + ch:receive()
    end
    return sum
end

local function main(n)
    local time = require("time")
    n = tonumber(n) or 1000000
    local recv = assert(process.spawn_monitored("bench:receiver", "bench:workers", n))
    local start = time.now()
    local send = assert(process.spawn_monitored("bench:sender", "bench:workers", recv, n))
    local done = {}
    for _ = 1, 2 do
        local e = process.receive(time.seconds(120))
        assert(e and e.error == nil, "a bench process failed: " .. tostring(e and e.error))
        done[e.from] = e.value
    end
    local took = time.now():sub(start):seconds()
    assert(done[send] == n and done[recv] == n * (n + 1) // 2, "messages lost")
    print(string.format("Lua messages, one process to another: %d in %.3f s: %.0f per second",
                        n, took, n / took))
end

return { main = main, sender = sender, receiver = receiver }
