-- The seed's example: spawn the WASM compute worker, wait for its EXIT event, print the value.
local time = require("time")

local function main(a, b)
    local pid, err = process.spawn_monitored("app.commands:compute_worker", "app:processes",
                                             tonumber(a) or 6, tonumber(b) or 7)
    if err then
        error("spawn failed: " .. tostring(err))
    end
    local event = process.receive(time.seconds(10))
    if event == nil then
        return nil, errors.new({message = "no EXIT from " .. pid .. " within 10s",
                                kind = errors.TIMEOUT})
    end
    if event.type == "EXIT" and event.error == nil then
        print(event.value)
        return 0
    end
    return nil, event.error
end

return { main = main }
