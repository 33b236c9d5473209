-- auth: a CPE authenticating (the Inform of a session).  Checks the
-- failure limits and the digest nonce count, and hands the device's
-- credentials to nginx, which verifies them (Redis's Lua has no MD5); or
-- counts a failed attempt.
--
-- KEYS[1]  cwmp:device:{<ID>}:auth       the device's credentials,
--          written by provisioning systems and by the acs_credentials
--          policy action: password, ha1_md5, ha1_sha256, next_password,
--          previous_password, previous_expires
-- KEYS[2]  cwmp:device:{<ID>}:authfail   failed attempts in the window
-- KEYS[3]  cwmp:authfail:<address>       failed attempts from the address
-- KEYS[4]  cwmp:device:{<ID>}:nonce      "<nonce> <nc>": the last nonce
--          the device used and its highest nonce count
-- ARGV[1]  "check" or "fail"
-- ARGV[2]  failures allowed per device in the window
-- ARGV[3]  failures allowed per address in the window
-- ARGV[4]  the window, ms
-- ARGV[5]  the digest's nonce ("" for Basic)
-- ARGV[6]  its nc, 8 hex digits
-- ARGV[7]  the nonce lifetime, ms
-- ARGV[8]  now, seconds since the epoch
--
-- Returns {status, ms, password, ha1_md5, ha1_sha256, next_password,
-- previous_password}, the status one of:
-- ANSWER[1]  OK  the credentials follow
-- ANSWER[2]  LIMITED  too many failures (ms: until the window ends)
-- ANSWER[3]  REPLAY  a nonce count already used, or a nonce older than
--          the last the device used
-- ANSWER[4]  FAILED  a failure, counted

if ARGV[1] == 'fail' then
    for i = 2, 3 do
        if redis.call('INCR', KEYS[i]) == 1 then
            redis.call('PEXPIRE', KEYS[i], ARGV[4])
        end
    end

    return {FAILED, 0, '', '', '', '', ''}
end

for i = 2, 3 do
    local n = tonumber(redis.call('GET', KEYS[i]) or '0') or 0

    if n >= tonumber(ARGV[i]) then
        local ttl = redis.call('PTTL', KEYS[i])

        if ttl < 0 then
            -- a counter without its expiry would lock the device out
            redis.call('PEXPIRE', KEYS[i], ARGV[4])
            ttl = tonumber(ARGV[4])
        end

        return {LIMITED, ttl, '', '', '', '', ''}
    end
end

if ARGV[5] ~= '' then
    local nc = tonumber(ARGV[6], 16)
    local last = redis.call('GET', KEYS[4])

    if last then
        local nonce, count = string.match(last, '^(%S+) (%d+)$')

        if nonce == ARGV[5] and nc <= tonumber(count) then
            return {REPLAY, 0, '', '', '', '', ''}
        end

        -- nonces begin with the time they were issued, fixed width
        if nonce and nonce ~= ARGV[5]
           and string.sub(ARGV[5], 1, 12) < string.sub(nonce, 1, 12)
        then
            return {REPLAY, 0, '', '', '', '', ''}
        end
    end

    redis.call('SET', KEYS[4], ARGV[5] .. ' ' .. nc, 'PX', ARGV[7])
end

local c = redis.call('HMGET', KEYS[1], 'password', 'ha1_md5', 'ha1_sha256',
                     'next_password', 'previous_password',
                     'previous_expires')

if c[5] and (tonumber(c[6] or '0') or 0) < tonumber(ARGV[8]) then
    c[5] = false
end

return {OK, 0, c[1] or '', c[2] or '', c[3] or '', c[4] or '', c[5] or ''}
