-- campaign: a device's steps in a staged rollout (a policy with
-- max_in_progress or stop rules), relayed from its outbox (session_step.lua
-- writes them there: a device's script cannot reach another slot), each
-- once: the campaign's counters, its devices, its recent outcomes, and the
-- pause its stop rules call for.
--
-- KEYS[1]  cwmp:campaign:{<policy>}      the counters: in_progress, done,
--          failed; paused, paused_at, paused_by once its rules stop it
-- KEYS[2]  cwmp:campaign:{<policy>}:devices   device -> in_progress, done,
--          failed
-- KEYS[3]  cwmp:campaign:{<policy>}:recent    the last devices' outcomes,
--          1 or 0, newest first (as many as the failure ratio looks at)
-- KEYS[4]  cwmp:campaign:{<policy>}:relayed   ids of the steps applied,
--          with the time (the last hour's)
-- ARGV[1]  the unix time
-- ARGV[2]  n, then n steps: its id ("<device>/<entry id>/<crc32>"),
--          the step ("enter", "done", "fail"), the device, its rules
--          (JSON [stop_after, ratio, of], or {})
--
-- Returns how many steps were new (applied now).

local now = tonumber(ARGV[1])
local new = 0

for k = 0, tonumber(ARGV[2]) - 1 do
    local id, step, device = ARGV[3 + 4 * k], ARGV[4 + 4 * k], ARGV[5 + 4 * k]
    local ok, rules = pcall(cjson.decode, ARGV[6 + 4 * k])
    if not ok or type(rules) ~= 'table' then
        rules = {}
    end
    local of = tonumber(rules[3]) or 0

    if not redis.call('ZSCORE', KEYS[4], id) then
        redis.call('ZADD', KEYS[4], now, id)
        new = new + 1

        local was = redis.call('HGET', KEYS[2], device)

        if step == 'enter' then
            if was ~= 'in_progress' then
                redis.call('HSET', KEYS[2], device, 'in_progress')
                redis.call('HINCRBY', KEYS[1], 'in_progress', 1)
            end

        elseif step == 'done' then
            if was == 'in_progress' then
                redis.call('HSET', KEYS[2], device, 'done')
                redis.call('HINCRBY', KEYS[1], 'in_progress', -1)
                redis.call('HINCRBY', KEYS[1], 'done', 1)
                if of > 0 then
                    redis.call('LPUSH', KEYS[3], 1)
                    redis.call('LTRIM', KEYS[3], 0, of - 1)
                end
            end

        elseif step == 'fail' then
            if was == 'in_progress' then
                redis.call('HINCRBY', KEYS[1], 'in_progress', -1)
            end
            redis.call('HSET', KEYS[2], device, 'failed')
            local failed = redis.call('HINCRBY', KEYS[1], 'failed', 1)
            if of > 0 then
                redis.call('LPUSH', KEYS[3], 0)
                redis.call('LTRIM', KEYS[3], 0, of - 1)
            end

            -- its stop rules
            local why
            local after = tonumber(rules[1]) or 0
            if after > 0 and failed >= after then
                why = failed .. ' failures (stop_after_failures ' .. after
                      .. ')'
            elseif of > 0 and redis.call('LLEN', KEYS[3]) >= of then
                local bad = 0
                for _, v in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
                    if v == '0' then
                        bad = bad + 1
                    end
                end
                if bad / of >= (tonumber(rules[2]) or 2) then
                    why = bad .. ' of the last ' .. of .. ' devices failed'
                          .. ' (stop_failure_ratio ' .. tostring(rules[2])
                          .. ')'
                end
            end
            if why and not redis.call('HGET', KEYS[1], 'paused') then
                redis.call('HSET', KEYS[1], 'paused', why, 'paused_at', now,
                           'paused_by', device)
            end
        end
    end
end

redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - 3600)

return new
