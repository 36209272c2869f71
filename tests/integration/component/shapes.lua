-- Component values as Lua tables: records keyed by kebab-case field names, variants as
-- {case = value}, options as nil or the value, flags as sets, lists as arrays; a wrong shape
-- is an error naming the parameter and the type expected.
local time = require("time")

local function call(entry, ...)
    local pid, err = process.spawn_monitored(entry, "app:workers", ...)
    assert(pid, tostring(err))
    local event = process.receive(time.seconds(10))
    assert(event and event.kind == "EXIT", "no EXIT from " .. entry)
    return event.result.value, event.result.error
end

local function main()
    local p = call("app:make_point", 5, "hi")
    assert(p.x == 5 and p["tag-name"] == "hi", "make-point")
    assert(call("app:point_x", { x = 9, ["tag-name"] = "z" }) == 9, "point-x")
    local neg = call("app:classify", -3)
    assert(neg.neg == true and call("app:classify", 0).zero == true, "classify neg, zero")
    assert(call("app:classify", 4).pos == 4, "classify pos")
    assert(call("app:half", 10) == 5, "half some")
    assert(call("app:half", nil) == nil, "half none")
    local f = call("app:flip", { read = true })
    assert(f.write == true and f.exec == true and f.read == nil, "flip")
    assert(call("app:count", { "a", "b", "c" }) == 3, "count")
    local _, err = call("app:point_x", { x = "nine", ["tag-name"] = "z" })
    assert(err, "a wrong shape fails")
    local text = tostring(err)
    assert(text:find("argument 1 (p)", 1, true) and text:find("field 'x'", 1, true),
           "error names the parameter and field: " .. text)
    _, err = call("app:point_x", 7)
    assert(err and tostring(err):find("expected point, got integer", 1, true), tostring(err))
    return "ok"
end

return { main = main }
