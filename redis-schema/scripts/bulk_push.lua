-- bulk_push: a bulk job's task queued for one device, once: a device
-- that has it (queued, in flight, pending, or finished within the status
-- records' lifetime) does not get it again, so that a batch claimed again
-- after a worker died (bulk_step.lua's lease) queues nothing twice.
--
-- KEYS[1]  cwmp:device:{<ID>}:tasks
-- KEYS[2]  cwmp:device:{<ID>}:status     finished tasks (results.lua)
-- KEYS[3]  cwmp:device:{<ID>}:pending
-- KEYS[4]  cwmp:device:{<ID>}:session    the task in flight
-- ARGV[1]  the task (JSON, with its "id" and "bulk")
-- ARGV[2]  its id
--
-- ANSWER[1]  QUEUED  queued now
-- ANSWER[0]  HAD  the device has it already

local id = ARGV[2]

if redis.call('HEXISTS', KEYS[2], id) == 1
   or redis.call('HEXISTS', KEYS[3], string.sub(id, 1, 32)) == 1
then
    return HAD
end

local flight = redis.call('HGET', KEYS[4], 'task')
if flight and string.find(flight, id, 1, true) then
    local ok, t = pcall(cjson.decode, flight)
    if ok and type(t) == 'table' and t.id == id then
        return HAD
    end
end

for _, task in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
    if string.find(task, id, 1, true) then
        local ok, t = pcall(cjson.decode, task)
        if ok and type(t) == 'table' and t.id == id then
            return HAD
        end
    end
end

redis.call('RPUSH', KEYS[1], ARGV[1])
return QUEUED
