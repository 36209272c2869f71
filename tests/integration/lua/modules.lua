-- The modules inside one process: channel, time, errors, coroutines, env, io.
local time = require("time")
local env = require("env")
local io = require("io")

local function check_channels()
    local ch = channel.new(2)
    assert(ch:send(1) and ch:send(2))
    local r = channel.select { ch:case_send(3), default = true }
    assert(r.default and r.ok, "a full buffered channel takes no more")
    assert(ch:receive() == 1 and ch:receive() == 2)
    r = channel.select { ch:case_receive(), default = true }
    assert(r.default, "an empty channel gives nothing")

    -- unbuffered: a spawned coroutine meets the receiver
    local un = channel.new()
    coroutine.spawn(function(a, b) un:send(a + b) end, 40, 2)
    assert(un:receive() == 42)
    -- a select send case waits for a receiver
    coroutine.spawn(function() time.sleep("5ms"); assert(un:receive() == "sent") end)
    r = channel.select { un:case_send("sent") }
    assert(r.channel == un and r.value == "sent" and r.ok)

    -- close: buffered values drain first, then nil, false; sending raises
    ch:send("last")
    ch:close()
    ch:close()
    local v, ok = ch:receive()
    assert(v == "last" and ok == true)
    v, ok = ch:receive()
    assert(v == nil and ok == false)
    assert(not pcall(ch.send, ch, 1), "send on a closed channel raises")
    r = channel.select { ch:case_receive() }
    assert(r.channel == ch and r.ok == false, "select on a closed channel")

    -- a receiver blocked when the channel closes wakes with nil, false
    local c2 = channel.new()
    coroutine.spawn(function() time.sleep("5ms"); c2:close() end)
    v, ok = c2:receive()
    assert(v == nil and ok == false)
    -- select with our timeout extension
    assert(channel.select({ channel.new():case_receive() }, "5ms") == nil)
    assert(not pcall(channel.select, { 42 }), "a bad case raises")
end

local function check_time()
    assert(time.SECOND == 1000000000 and time.MINUTE == 60 * time.SECOND)
    local d = assert(time.parse_duration("1h30m45s500ms"))
    assert(d:milliseconds() == 5445500 and d:seconds() == 5445.5)
    assert(tostring(d) == "1h30m45.5s", tostring(d))
    assert(tostring(time.parse_duration("1.5ms")) == "1.5ms")
    assert(tostring(time.parse_duration(0)) == "0s")
    assert(tostring(time.seconds(90)) == "1m30s")
    assert(time.seconds(1) == time.milliseconds(1000))
    assert(time.seconds(1) + "500ms" == time.milliseconds(1500))
    local bad, err = time.parse_duration("5 parsecs")
    assert(bad == nil and err:kind() == errors.INVALID)
    assert(select(2, time.timer(0)):kind() == errors.INVALID)

    local t = time.unix(1703862245, 0):utc()
    assert(t:format_rfc3339() == "2023-12-29T15:04:05Z", t:format_rfc3339())
    assert(t:format("Mon Jan 2, 2006 3:04PM") == "Fri Dec 29, 2023 3:04PM")
    assert(t:year() == 2023 and t:month() == 12 and t:day() == 29 and t:weekday() == 5)
    local t2 = t:add("24h")
    assert(t2:sub(t):hours() == 24 and t:before(t2) and t2:after(t))
    assert(t:add_date(0, 1, 3):format(time.DATE_ONLY) == "2024-02-01")
    local u = time.date(2024, time.DECEMBER, 25, 10, 30, 0, 0, time.utc)
    assert(u:format_rfc3339() == "2024-12-25T10:30:00Z")
    local ist = time.fixed_zone("IST", 5 * 3600 + 30 * 60)
    assert(u:in_location(ist):format(time.RFC3339) == "2024-12-25T16:00:00+05:30")

    local start = time.now()
    time.sleep(20 * time.MILLISECOND)
    assert(time.now():sub(start):milliseconds() >= 20)

    local timer = time.timer("10s")
    assert(timer:stop() == true and timer:stop() == false)
    timer:reset("5ms")
    assert(timer:response():receive(), "reset timer fired")
    local ticker = time.ticker("2ms")
    for _ = 1, 3 do
        assert(ticker:channel():receive())
    end
    ticker:stop()
end

local function check_errors()
    local e = errors.new("plain")
    assert(e:kind() == errors.UNKNOWN and e:message() == "plain" and e:retryable() == nil)
    e = errors.new({ message = "gone", kind = errors.NOT_FOUND, retryable = false,
                     details = { id = 7 } })
    local w = errors.wrap(e, "loading user")
    assert(w:kind() == errors.NOT_FOUND and errors.is(w, errors.NOT_FOUND))
    assert(w:message() == "loading user: gone" and tostring(w) == "loading user: gone")
    assert(w:retryable() == false and w:details().id == 7)
    assert("error: " .. w == "error: loading user: gone")
    assert(w:stack():find("modules.lua", 1, true), w:stack())
    assert(errors.wrap(nil, "x") == nil)
    assert(not pcall(errors.new, { kind = errors.INVALID }), "a table needs a message")
    local ok, caught = pcall(error, e)
    assert(not ok and caught == e, "an error object survives pcall")
end

local function check_coroutines()
    -- our yields pass through the script's own coroutines
    local gen = coroutine.wrap(function()
        for i = 1, 3 do
            time.sleep("1ms")
            coroutine.yield(i)
        end
    end)
    assert(gen() == 1 and gen() == 2 and gen() == 3)
    local co = coroutine.create(function(a)
        local b = coroutine.yield(a + 1)
        channel.new(1):send(b)
        return b * 2
    end)
    local ok, v = coroutine.resume(co, 1)
    assert(ok and v == 2)
    ok, v = coroutine.resume(co, 21)
    assert(ok and v == 42 and coroutine.status(co) == "dead")
    -- a long loop is preempted, yet nothing changes for the script
    local n = 0
    for i = 1, 2000000 do n = n + i % 3 end
    assert(n > 0)
end

local function main()
    check_channels()
    check_time()
    check_errors()
    check_coroutines()
    assert(env.get("GREETING") == "hi from static")
    local none, err = env.get("NOPE")
    assert(none == nil and err:kind() == errors.NOT_FOUND)
    assert(env.set("MUTABLE", "changed"))
    assert(env.get("MUTABLE") == "changed")
    assert(env.get_all().GREETING == "hi from static")
    assert(io.write("written ") == true)
    io.print("by io.print")
    assert(#io.args() == 0)
    return "ok"
end

return { main = main }
