-- session_cpe: a CPE request inside its session (TransferComplete,
-- RequestDownload, Kicked, ...): recorded for other systems to act on.
--
-- KEYS[1]  cwmp:device:{<ID>}:session
-- KEYS[2]  cwmp:requests (the stream of CPE requests)
-- ARGV[1]  the session token (the cookie's)
-- ARGV[2]  the session timeout, ms
-- ARGV[3]  the device ID
-- ARGV[4]  the method ("TransferComplete")
-- ARGV[5]  its arguments, JSON
-- ARGV[6]  the unix time
--
-- Returns 1 when recorded, 0 when the session is not the caller's.
-- The stream is capped at about a million entries (XADD MAXLEN ~).

if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then
    return 0
end

redis.call('XADD', KEYS[2], 'MAXLEN', '~', '1000000', '*',
           'device', ARGV[3], 'method', ARGV[4], 'args', ARGV[5],
           'time', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[2])

return 1
