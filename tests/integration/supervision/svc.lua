-- svc.lua: a service that stops cleanly. It prints "start NAME"; on CANCEL it takes 200 ms
-- (its pretend clean-up), the one named "c" has app:flush write out/data.txt, then it prints
-- "stop NAME" and returns. A service named "stubborn" ignores CANCEL.
local time = require("time")

local function main(name)
    local events = process.events()
    print("start " .. name)
    while true do
        local ev = events:receive()
        if ev.kind == process.event.CANCEL and name ~= "stubborn" then
            time.sleep("200ms")
            if name == "c" then
                local _, err = process.exec("app:flush", "app:workers")
                if err then
                    print("flush failed: " .. tostring(err))
                end
            end
            print("stop " .. name)
            return "stopped"
        end
    end
end

return { main = main }
