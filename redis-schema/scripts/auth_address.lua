-- auth_address: the failures of one client address, across devices (an
-- attacker trying many device IDs from one place).  Sent with auth.lua,
-- which holds the device's own limit, on the address's slot.
--
-- KEYS[1]  cwmp:authfail:{<address>}    failed attempts from the address
--          in the window
-- ARGV[1]  "check" or "fail"
-- ARGV[2]  failures allowed per address in the window
-- ARGV[3]  the window, ms
--
-- Returns {status, ms}:
-- ANSWER[1]  OK  under the limit
-- ANSWER[2]  LIMITED  too many failures (ms: until the window ends)
-- ANSWER[4]  FAILED  a failure, counted

if ARGV[1] == 'fail' then
    if redis.call('INCR', KEYS[1]) == 1 then
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
    end

    return {FAILED, 0}
end

local n = tonumber(redis.call('GET', KEYS[1]) or '0') or 0

if n >= tonumber(ARGV[2]) then
    local ttl = redis.call('PTTL', KEYS[1])

    if ttl < 0 then
        -- a counter without its expiry would lock the address out
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        ttl = tonumber(ARGV[3])
    end

    return {LIMITED, ttl}
end

return {OK, 0}
