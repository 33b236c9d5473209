-- auth: a CPE authenticating (the Inform of a session).  Checks the
-- device's failure limit and the digest nonce count, and hands the
-- device's credentials to nginx, which verifies them (Redis's Lua has no
-- MD5); or counts a failed attempt.  The address's limit is another slot's
-- (auth_address.lua, sent with this).
--
-- KEYS[1]  cwmp:device:{<ID>}:auth       the device's credentials,
--          written by provisioning systems and by the acs_credentials
--          policy action: password, ha1_md5, ha1_sha256, next_password,
--          previous_password, previous_expires
-- KEYS[2]  cwmp:device:{<ID>}:authfail   failed attempts in the window
-- KEYS[3]  cwmp:device:{<ID>}:nonce      "<nonce> <nc>": the last nonce
--          the device used and its highest nonce count
-- ARGV[1]  "check" or "fail"
-- ARGV[2]  failures allowed per device in the window
-- ARGV[3]  the window, ms
-- ARGV[4]  the digest's nonce ("" for Basic)
-- ARGV[5]  its nc, 8 hex digits
-- ARGV[6]  the nonce lifetime, ms
-- ARGV[7]  now, seconds since the epoch
--
-- Returns {status, ms, password, ha1_md5, ha1_sha256, next_password,
-- previous_password}, the status one of:
-- ANSWER[1]  OK  the credentials follow
-- ANSWER[2]  LIMITED  too many failures (ms: until the window ends)
-- ANSWER[3]  REPLAY  a nonce count already used, or a nonce older than
--          the last the device used
-- ANSWER[4]  FAILED  a failure, counted

if ARGV[1] == 'fail' then
    if redis.call('INCR', KEYS[2]) == 1 then
        redis.call('PEXPIRE', KEYS[2], ARGV[3])
    end

    return {FAILED, 0, '', '', '', '', ''}
end

local n = tonumber(redis.call('GET', KEYS[2]) or '0') or 0

if n >= tonumber(ARGV[2]) then
    local ttl = redis.call('PTTL', KEYS[2])

    if ttl < 0 then
        -- a counter without its expiry would lock the device out
        redis.call('PEXPIRE', KEYS[2], ARGV[3])
        ttl = tonumber(ARGV[3])
    end

    return {LIMITED, ttl, '', '', '', '', ''}
end

if ARGV[4] ~= '' then
    local nc = tonumber(ARGV[5], 16)
    local last = redis.call('GET', KEYS[3])

    if last then
        local nonce, count = string.match(last, '^(%S+) (%d+)$')

        if nonce == ARGV[4] and nc <= tonumber(count) then
            return {REPLAY, 0, '', '', '', '', ''}
        end

        -- nonces begin with the time they were issued, fixed width
        if nonce and nonce ~= ARGV[4]
           and string.sub(ARGV[4], 1, 12) < string.sub(nonce, 1, 12)
        then
            return {REPLAY, 0, '', '', '', '', ''}
        end
    end

    redis.call('SET', KEYS[3], ARGV[4] .. ' ' .. nc, 'PX', ARGV[6])
end

local c = redis.call('HMGET', KEYS[1], 'password', 'ha1_md5', 'ha1_sha256',
                     'next_password', 'previous_password',
                     'previous_expires')

if c[5] and (tonumber(c[6] or '0') or 0) < tonumber(ARGV[7]) then
    c[5] = false
end

return {OK, 0, c[1] or '', c[2] or '', c[3] or '', c[4] or '', c[5] or ''}
