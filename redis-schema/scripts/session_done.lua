-- session_done: the outcome of the task in flight is known (the CPE's
-- answer, or a task the ACS could not send): store it, dequeue the task,
-- update the parameter cache, and hand out the next task.
--
-- KEYS[1]  cwmp:device:{<ID>}:session
-- KEYS[2]  cwmp:device:{<ID>}:tasks
-- KEYS[3]  cwmp:device:{<ID>}:params
-- KEYS[4]  cwmp:device:{<ID>}:types
-- KEYS[5]  cwmp:results (the results stream)
-- ARGV[1]  the session token (the cookie's)
-- ARGV[2]  the cwmp:ID the CPE answered ("" when it sent none)
-- ARGV[3]  the cwmp:ID of the next ACS request
-- ARGV[4]  the session timeout, ms
-- ARGV[5]  the device ID
-- ARGV[6]  status: done, fault or expired
-- ARGV[7]  the result, JSON
-- ARGV[8]  1 when the task's own writes took effect (SPV status 0,
--          DeleteObject): the cache follows them
-- ARGV[9]  the unix time
-- ARGV[10] the CPE's answer ("GetParameterValuesResponse", "Fault"; "" for
--          a task the ACS did not send): it must answer the task's method
-- ARGV[11] n, then n (parameter, value, type) triples the answer
--          reported (type "" when unknown)
--
-- Returns {1, next task or "", ns} ("": the session is over and
-- deleted), {0, ""} when the session is not the caller's, {-1, ""} when
-- the answer is not to the request in flight (another cwmp:ID, another
-- method): nothing is stored.  Results are capped at about a million
-- entries (XADD MAXLEN ~).

local s = redis.call('HMGET', KEYS[1], 'token', 'rpc_id', 'task', 'ns')

if s[1] ~= ARGV[1] then
    return {0, ''}
end

if ARGV[2] ~= '' and s[2] ~= ARGV[2] then
    return {-1, ''}
end

local task = s[3]

if not task and ARGV[10] ~= '' then
    -- an answer, and no request in flight
    return {-1, ''}
end

if task then
    local ok, t = pcall(cjson.decode, task)
    if not ok or type(t) ~= 'table' then
        t = {}
    end

    local name = t.name
    if type(name) ~= 'string' then
        name = ''
    end

    -- "getParameterValues" is answered by "GetParameterValuesResponse"
    if ARGV[10] ~= '' and ARGV[10] ~= 'Fault'
       and ARGV[10] ~= string.upper(string.sub(name, 1, 1))
                       .. string.sub(name, 2) .. 'Response'
    then
        return {-1, ''}
    end

    -- dequeued only now: a session that dies before this runs it again
    if redis.call('LINDEX', KEYS[2], 0) == task then
        redis.call('LPOP', KEYS[2])
    end

    local id = t.id
    if type(id) ~= 'string' or id == '' then
        id = string.sub(redis.sha1hex(task), 1, 16)
    end

    redis.call('XADD', KEYS[5], 'MAXLEN', '~', '1000000', '*',
               'device', ARGV[5], 'task', id,
               'name', name, 'status', ARGV[6], 'result', ARGV[7],
               'time', ARGV[9])

    if ARGV[8] == '1' then
        if name == 'setParameterValues'
           and type(t.parameterValues) == 'table'
        then
            for _, pv in ipairs(t.parameterValues) do
                if type(pv) == 'table' and type(pv[1]) == 'string'
                   and pv[2] ~= nil and type(pv[2]) ~= 'table'
                then
                    redis.call('HSET', KEYS[3], pv[1], tostring(pv[2]))
                end
            end

        elseif name == 'deleteObject' and type(t.objectName) == 'string'
               and t.objectName ~= ''
        then
            local prefix = t.objectName
            for _, k in ipairs(redis.call('HKEYS', KEYS[3])) do
                if string.sub(k, 1, #prefix) == prefix then
                    redis.call('HDEL', KEYS[3], k)
                    redis.call('HDEL', KEYS[4], k)
                end
            end
        end
    end
end

local n = tonumber(ARGV[11]) or 0
local i = 12

for _ = 1, n do
    redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
    if ARGV[i + 2] ~= '' and ARGV[i + 2] ~= 'xsd:string' then
        redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 2])
    else
        redis.call('HDEL', KEYS[4], ARGV[i])
    end
    i = i + 3
end

local nxt = redis.call('LINDEX', KEYS[2], 0)

if not nxt then
    redis.call('DEL', KEYS[1])
    return {1, '', ''}
end

redis.call('HSET', KEYS[1], 'rpc_id', ARGV[3], 'task', nxt)
redis.call('PEXPIRE', KEYS[1], ARGV[4])

return {1, nxt, s[4]}
