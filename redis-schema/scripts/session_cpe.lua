-- session_cpe: a CPE request inside its session (TransferComplete,
-- RequestDownload, Kicked, ...): recorded for other systems to act on.
--
-- KEYS[1]  cwmp:device:{<ID>}:session
-- KEYS[2]  cwmp:device:{<ID>}:outbox   the request and results, for nginx
--          to relay to cwmp:requests:{<shard>}, cwmp:results:{<shard>}
-- KEYS[3]  cwmp:device:{<ID>}:pending
-- KEYS[4]  cwmp:device:{<ID>}:policy   a policy's transfer that failed is
--          marked "failed:<policy>" there, for the next evaluation
-- KEYS[5]  cwmp:device:{<ID>}:late     pending tasks out of time
-- UNDECLARED  cwmp:device:{<ID>}:status  task status records (results.lua),
--          derived from the outbox's name: the device's slot
-- UNDECLARED  cwmp:device:{<ID>}:reply:<name>  a task's replyTo, checked
--          to be the device's own (results.lua)
-- UNDECLARED  cwmp:device:{<ID>}:uploads  the file an upload to the ACS
--          stored, taken into its result (pending.lua), derived likewise
-- ARGV[1]  the session token (the cookie's)
-- ARGV[2]  the session timeout, ms
-- ARGV[3]  the device ID
-- ARGV[4]  the method ("TransferComplete")
-- ARGV[5]  its arguments, JSON
-- ARGV[6]  the unix time
-- ARGV[7]  a TransferComplete's or DUStateChangeComplete's CommandKey
--          ("" otherwise): the pending task it names is finished, whatever
--          became of its own answer, or, out of its time, a late result
--          recorded (pending.lua) ...
-- ARGV[8]  ... with this status (done or fault)
-- ARGV[9]  ... and this result, JSON
-- then     the fleet's tail (fleet.lua)
--
-- ANSWER[1]  RECORDED  recorded
-- ANSWER[0]  NOT_OURS  the session is not the caller's
--
-- The streams are capped at about a million entries (results.lua).

if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then
    return NOT_OURS
end

-- include: fleet.lua
-- include: results.lua
-- include: pending.lua

xadd(KEYS[2], 'requests', 'device', ARGV[3], 'method', ARGV[4],
     'args', ARGV[5], 'time', ARGV[6])

if ARGV[4] == 'TransferComplete' or ARGV[4] == 'AutonomousTransferComplete'
then
    local ok, a = pcall(cjson.decode, ARGV[5])
    local fault = ok and type(a) == 'table' and type(a.FaultStruct) == 'table'
                  and a.FaultStruct.FaultCode
    emit(KEYS[2], 'transfer_complete', ARGV[3], ARGV[6],
         'command_key', ok and type(a) == 'table'
                        and type(a.CommandKey) == 'string' and a.CommandKey
                        or '',
         'fault_code', type(fault) == 'string' and fault or '0',
         'autonomous', ARGV[4] == 'TransferComplete' and '0' or '1')
    flush_events(KEYS[2])
end
redis.call('HSET', KEYS[1], 'active', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[2])

if ARGV[7] ~= '' then
    local where = KEYS[3]
    local p = pending_entry(redis.call('HGET', KEYS[3], ARGV[7]))
    if not p then
        where = KEYS[5]
        p = pending_entry(redis.call('HGET', KEYS[5], ARGV[7]))
    end
    if p then
        local t = finish(where, KEYS[2], KEYS[4], ARGV[3], ARGV[7], p,
                         ARGV[8], ARGV[9], ARGV[6])
        if ARGV[8] ~= 'done' and type(t.policy) == 'string' then
            -- the policies look at it when this session's turn comes
            redis.call('HSET', KEYS[4], 'failed:' .. t.policy, ARGV[9])
            redis.call('HSET', KEYS[1], 'recheck', 1)
        end
    end
end

return RECORDED
