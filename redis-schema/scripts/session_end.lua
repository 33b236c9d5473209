-- session_end: the CPE's empty POST when nginx has nothing to store (no
-- answer, no plan, no session_ended event to emit): the session ends here
-- unless something waits for it.  The periodic session's second and last
-- exchange, in 4 arguments where session_step.lua takes some 45 (a script
-- costs about 1,500 Redis instructions per argument before its first
-- line).
--
-- KEYS[1]  cwmp:device:{<ID>}:session
-- KEYS[2]  cwmp:device:{<ID>}:tasks
-- KEYS[3]  cwmp:device:{<ID>}:plan       the policies' tasks, this session
-- KEYS[4]  cwmp:device:{<ID>}:outbox     not touched: nginx reads it after
--          the script, and relays what the session left (the Inform's
--          events and value index entries)
-- ARGV[1]  the session token (the cookie's)
--
-- ANSWER[1]  ENDED  nothing in flight, planned or queued, no policy round
--          due: the session's key and plan are deleted (session_step.lua's
--          {TASK, ""})
-- ANSWER[0]  NOT_OURS  the session is not the caller's (session_step.lua's
--          NOT_OURS): nothing is done
-- ANSWER[2]  CONTINUE  a task is in flight or queued, the policies planned
--          or want a round: nothing is done, nginx calls session_step.lua

local s = redis.call('HMGET', KEYS[1], 'token', 'task', 'plan', 'recheck',
                     'wanting')
if s[1] ~= ARGV[1] then
    return NOT_OURS
end

if s[2] or s[3] or s[4] == '1' or s[5] == '1'
   or redis.call('LINDEX', KEYS[2], 0) or redis.call('LINDEX', KEYS[3], 0)
then
    return CONTINUE
end

redis.call('DEL', KEYS[1], KEYS[3])
return ENDED
