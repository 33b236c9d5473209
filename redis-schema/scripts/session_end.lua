-- session_end: ends a CWMP session, if it is still the caller's.
--
-- KEYS[1]  cwmp:device:{<ID>}:session
-- ARGV[1]  the session token (the cookie's)
--
-- Returns 1 when the session was deleted, 0 when it is gone or belongs to
-- another (newer) session of the device.

if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end

return 0
