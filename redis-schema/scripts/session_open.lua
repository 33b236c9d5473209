-- session_open: an Inform.  Stores what the device reported and opens its
-- session, unless another session of the device is in progress.
--
-- KEYS[1]  cwmp:device:{<ID>}            the summary
-- KEYS[2]  cwmp:device:{<ID>}:params
-- KEYS[3]  cwmp:device:{<ID>}:types
-- KEYS[4]  cwmp:device:{<ID>}:session
-- KEYS[5]  cwmp:device:{<ID>}:events
-- KEYS[6]  cwmp:devices                   the index
-- KEYS[7]  cwmp:device:{<ID>}:pending     tasks the CPE has yet to finish
-- KEYS[8]  cwmp:results
-- KEYS[9]  cwmp:device:{<ID>}:policy      the policies' state
-- KEYS[10] cwmp:device:{<ID>}:tags
-- ARGV[1]  the new session's token
-- ARGV[2]  the token the CPE still holds (its cookie, or its connection's),
--          "" when none: that session is its own and may be replaced
-- ARGV[3]  the session timeout, ms
-- ARGV[4]  the unix time
-- ARGV[5]  the CWMP version ("1.0" ... "1.4")
-- ARGV[6]  the address the Inform came from
-- ARGV[7]  the device ID
-- ARGV[8]  the CPE's CWMP namespace (ACS requests use it)
-- ARGV[9]  n, then n (field, value) pairs for the summary
-- then     n, then n (parameter, value) pairs
-- then     n, then n (parameter, type) pairs (types other than xsd:string)
-- then     n, then n (event code, CommandKey) pairs
-- then     "1" when policies are in force, "2" when they also read tags
--          ("0" otherwise), the campaign key
--          prefix ("cwmp:campaign:"), m, then the m cached parameters the
--          policies read, c, then the c campaigns, o, then the o objects
--          whose instances they count
--
-- ANSWER[1]  OPEN  the session is open; with policies, {OPEN, wanted
--          values, tags, policy state (flat), campaigns (paused,
--          in_progress, this device's state), objects (per object, its
--          cached <object><n>.<leaf> names and values)}: nginx evaluates
--          them at once
-- ANSWER[0]  BUSY  another session is in progress (nothing is stored: the
--          CPE will send its Inform again)
--
-- UNDECLARED  cwmp:campaign:<policy>  the campaigns' counters the
--          policies read (policy_inputs.lua)
-- UNDECLARED  cwmp:campaign:<policy>:devices
--
-- "0 BOOTSTRAP" drops the parameter cache and the policies' state first.
-- "6 CONNECTION REQUEST" is recorded in cwmp:results (connectionRequest,
-- status "session").
-- "M Reboot" with a pending reboot's CommandKey: that task is done.  A
-- pending task no CPE report finished within an hour gets a fault result.

local cur = redis.call('HMGET', KEYS[4], 'token', 'turn')

-- a session whose policies wanted nothing is over, whatever its key says
if cur[1] and cur[1] ~= ARGV[2] and cur[2] ~= 'policies' then
    return BUSY
end

local now = ARGV[4]
local i = 9

-- HSET the n pairs at ARGV[i]: a few hundred at a time (unpack's limit)
local function pairs_at(key)
    local n = tonumber(ARGV[i])
    local args = {}
    for k = 1, 2 * n do
        args[#args + 1] = ARGV[i + k]
        if #args == 512 or k == 2 * n then
            redis.call('HSET', key, unpack(args))
            args = {}
        end
    end
    i = i + 2 * n + 1
end

-- 0 BOOTSTRAP: a device reset or swapped; what was cached of it is gone,
-- and the policies re-establish its service from scratch
local e = i
e = e + 2 * tonumber(ARGV[e]) + 1
e = e + 2 * tonumber(ARGV[e]) + 1
e = e + 2 * tonumber(ARGV[e]) + 1
for k = 1, tonumber(ARGV[e]) do
    if ARGV[e + 2 * k - 1] == '0 BOOTSTRAP' then
        redis.call('DEL', KEYS[2], KEYS[3], KEYS[9])
    end
end

-- where the policies' arguments start
local P = e + 2 * tonumber(ARGV[e]) + 1

redis.call('HSETNX', KEYS[1], 'first_inform', now)
pairs_at(KEYS[1])
pairs_at(KEYS[2])
pairs_at(KEYS[3])

-- include: results.lua

local n = tonumber(ARGV[i])
for k = 1, n do
    local code = ARGV[i + 2 * k - 1]
    local key = ARGV[i + 2 * k]

    redis.call('HSET', KEYS[5], code, now)

    if code == '6 CONNECTION REQUEST' then
        -- the session a connection request asked for
        xadd(KEYS[8], 'device', ARGV[7], 'task', 'connreq:session',
             'name', 'connectionRequest', 'status', 'session',
             'result', '{}', 'time', now)
    end

    if code == 'M Reboot' and key ~= '' then
        local entry = redis.call('HGET', KEYS[7], key)
        if entry then
            local task = pending_task(entry)
            if task then
                local t = decode(task)
                record(KEYS[8], ARGV[7], task_id(task, t), t.name, 'done',
                       '{}', now)
            end
            redis.call('HDEL', KEYS[7], key)
        end
    end
end

for _, key in ipairs(redis.call('HKEYS', KEYS[7])) do
    local entry = redis.call('HGET', KEYS[7], key)
    local ok, p = pcall(cjson.decode, entry)
    if not ok or type(p) ~= 'table' or type(p.since) ~= 'number'
       or p.since + 3600 < tonumber(now)
    then
        local task = pending_task(entry)
        if task then
            local t = decode(task)
            record(KEYS[8], ARGV[7], task_id(task, t), t.name, 'fault',
                   cjson.encode({error = 'unfinished',
                       detail = 'the CPE did not report it done within '
                                .. 'an hour'}), now)
        end
        redis.call('HDEL', KEYS[7], key)
    end
end

redis.call('DEL', KEYS[4])
redis.call('HSET', KEYS[4], 'token', ARGV[1], 'cwmp_version', ARGV[5],
           'ns', ARGV[8], 'remote_addr', ARGV[6], 'created', now,
           'turn', 'cpe')
redis.call('PEXPIRE', KEYS[4], ARGV[3])

redis.call('ZADD', KEYS[6], now, ARGV[7])

if ARGV[P] ~= '1' and ARGV[P] ~= '2' then
    return OPEN
end

-- what the policies read: the wanted cached values, campaigns, objects;
-- tags and state
-- include: instances.lua
-- include: policy_inputs.lua
local values, campaigns, objects = policy_inputs(KEYS[2], P + 2,
                                                 ARGV[P + 1], ARGV[7])

return {OPEN, values,
        ARGV[P] == '2' and redis.call('SMEMBERS', KEYS[10]) or {},
        redis.call('HGETALL', KEYS[9]), campaigns, objects}
