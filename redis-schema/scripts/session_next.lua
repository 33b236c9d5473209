-- session_next: the CPE has nothing more to ask (empty POST): the ACS
-- takes the turn and sends the device's first queued task, if any.
--
-- KEYS[1]  cwmp:device:{<ID>}:session
-- KEYS[2]  cwmp:device:{<ID>}:tasks
-- ARGV[1]  the session token (the cookie's)
-- ARGV[2]  the cwmp:ID the ACS request for the task will carry
-- ARGV[3]  the session timeout, ms
--
-- Returns {1, task, ns}: the task (a JSON document) to send now, or ""
-- when the queue is empty (the session is over and deleted), and the
-- CPE's CWMP namespace; {0, ""} when the session is gone or is not the
-- caller's.  The task stays queued until its outcome is stored
-- (session_done).

local s = redis.call('HMGET', KEYS[1], 'token', 'ns')

if s[1] ~= ARGV[1] then
    return {0, ''}
end

local task = redis.call('LINDEX', KEYS[2], 0)

if not task then
    redis.call('DEL', KEYS[1])
    return {1, '', ''}
end

redis.call('HSET', KEYS[1], 'turn', 'acs', 'rpc_id', ARGV[2], 'task', task)
redis.call('PEXPIRE', KEYS[1], ARGV[3])

return {1, task, s[2]}
