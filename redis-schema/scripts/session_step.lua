-- session_step: one step of the ACS turn.  Stores the outcome of the task
-- in flight, if any (the CPE's answer, or a task the ACS could not send):
-- its result, its removal from the queue, the parameter cache.  Then
-- hands out the next task, or ends the session when none is left.
--
-- KEYS[1]  cwmp:device:{<ID>}:session
-- KEYS[2]  cwmp:device:{<ID>}:tasks
-- KEYS[3]  cwmp:device:{<ID>}:params
-- KEYS[4]  cwmp:device:{<ID>}:types
-- KEYS[5]  cwmp:device:{<ID>}:tries
-- KEYS[6]  cwmp:results
-- KEYS[7]  cwmp:device:{<ID>}:pending
-- KEYS[8]  cwmp:device:{<ID>}            the summary (parameter_key)
-- ARGV[1]  the session token (the cookie's)
-- ARGV[2]  the cwmp:ID the CPE answered ("" when it sent none)
-- ARGV[3]  the cwmp:ID of the next ACS request
-- ARGV[4]  the session timeout, ms
-- ARGV[5]  the device ID
-- ARGV[6]  the outcome: done, fault or expired; "" when the turn begins
--          (the CPE's empty POST): nothing to store
-- ARGV[7]  the result, JSON
-- ARGV[8]  1 when the task's own writes took effect (SPV status 0,
--          DeleteObject): the cache follows them
-- ARGV[9]  the unix time
-- ARGV[10] the CPE's answer ("GetParameterValuesResponse", "Fault"; ""
--          for a task the ACS did not send): it must answer the task
-- ARGV[11] n, then n (parameter, value, type) triples the answer
--          reported (type "" when unknown)
--
-- Returns {1, next task or "", ns, types}: "" when the session is over
-- (and deleted), ns the CPE's CWMP namespace, types a JSON object of the
-- cached types of a setParameterValues' untyped parameters ("{}" for
-- other tasks); {0, ""} when the session is not
-- the caller's; {-1, ""} when the answer is not to the request in flight
-- (another cwmp:ID, another method, none in flight): nothing is stored.
--
-- A task handed out in 3 sessions without an outcome (a CPE that drops
-- the session, or reboots, on it) is dropped with a fault result.
-- A reboot, a changeDUState, and a download or upload the CPE will finish
-- later (status 1), is done only when the CPE says so: it waits in the
-- pending hash under its CommandKey (session_open: "M Reboot";
-- session_cpe: TransferComplete, DUStateChangeComplete).
-- Results are capped at about a million entries (XADD MAXLEN ~).

local MAX_TRIES = 3

local s = redis.call('HMGET', KEYS[1], 'token', 'rpc_id', 'task', 'ns')

if s[1] ~= ARGV[1] then
    return {0, ''}
end

local function decode(task)
    local ok, t = pcall(cjson.decode, task)
    if not ok or type(t) ~= 'table' then
        t = {}
    end
    if type(t.name) ~= 'string' then
        t.name = ''
    end
    return t
end

local function record(task, t, status, result)
    local id = t.id
    if type(id) ~= 'string' or id == '' then
        id = string.sub(redis.sha1hex(task), 1, 16)
    end

    redis.call('XADD', KEYS[6], 'MAXLEN', '~', '1000000', '*',
               'device', ARGV[5], 'task', id, 'name', t.name,
               'status', status, 'result', result, 'time', ARGV[9])
end

local function dequeue(task)
    -- only now: a session that dies before this runs the task again
    if redis.call('LINDEX', KEYS[2], 0) == task then
        redis.call('LPOP', KEYS[2])
    end
    redis.call('DEL', KEYS[5])
end

if ARGV[6] ~= '' then
    local task = s[3]

    if ARGV[2] ~= '' and s[2] ~= ARGV[2] then
        return {-1, ''}
    end

    if not task then
        if ARGV[10] ~= '' then
            return {-1, ''}
        end

    else
        local t = decode(task)

        -- "getParameterValues" is answered by "GetParameterValuesResponse"
        local expected = string.upper(string.sub(t.name, 1, 1))
                         .. string.sub(t.name, 2) .. 'Response'
        if t.name == 'refreshObject' then
            expected = 'GetParameterValuesResponse'
        end

        if ARGV[10] ~= '' and ARGV[10] ~= 'Fault' and ARGV[10] ~= expected
        then
            return {-1, ''}
        end

        dequeue(task)

        local later = false

        if ARGV[6] == 'done' then
            if t.name == 'reboot' or t.name == 'changeDUState' then
                later = true
            elseif t.name == 'download' or t.name == 'upload' then
                local ok, res = pcall(cjson.decode, ARGV[7])
                later = ok and type(res) == 'table' and res.status == 1
            end
        end

        if later then
            local id = t.id
            if type(id) ~= 'string' or id == '' then
                id = string.sub(redis.sha1hex(task), 1, 16)
            end

            -- the CommandKey the CPE will report (at most 32 characters)
            redis.call('HSET', KEYS[7], string.sub(id, 1, 32),
                       cjson.encode({task = task, since = tonumber(ARGV[9]),
                                     answer = ARGV[7]}))
        else
            record(task, t, ARGV[6], ARGV[7])
        end

        -- the ParameterKey a CPE applied (SPV, AddObject, DeleteObject)
        if ARGV[6] == 'done' and type(t.parameterKey) == 'string'
           and (t.name == 'setParameterValues' or t.name == 'addObject'
                or t.name == 'deleteObject')
        then
            redis.call('HSET', KEYS[8], 'parameter_key', t.parameterKey)
        end

        if ARGV[8] == '1' then
            if t.name == 'setParameterValues'
               and type(t.parameterValues) == 'table'
            then
                for _, pv in ipairs(t.parameterValues) do
                    if type(pv) == 'table' and type(pv[1]) == 'string'
                       and pv[2] ~= nil and type(pv[2]) ~= 'table'
                    then
                        redis.call('HSET', KEYS[3], pv[1], tostring(pv[2]))
                    end
                end

            elseif t.name == 'deleteObject'
                   and type(t.objectName) == 'string'
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

        -- refreshObject: what the subtree no longer has leaves the cache
        if ARGV[6] == 'done' and t.name == 'refreshObject'
           and type(t.objectName) == 'string' and t.objectName ~= ''
        then
            local seen = {}
            local n = tonumber(ARGV[11]) or 0
            for k = 0, n - 1 do
                seen[ARGV[12 + 3 * k]] = true
            end
            local prefix = t.objectName
            for _, k in ipairs(redis.call('HKEYS', KEYS[3])) do
                if string.sub(k, 1, #prefix) == prefix and not seen[k] then
                    redis.call('HDEL', KEYS[3], k)
                    redis.call('HDEL', KEYS[4], k)
                end
            end
        end

        -- addObject with parameterValues: set them on the new instance,
        -- next (a setParameterValues at the head of the queue)
        if ARGV[6] == 'done' and t.name == 'addObject'
           and type(t.parameterValues) == 'table'
           and #t.parameterValues > 0
           and type(t.objectName) == 'string'
        then
            local ok, res = pcall(cjson.decode, ARGV[7])
            if ok and type(res) == 'table'
               and type(res.instanceNumber) == 'number'
            then
                local base = t.objectName
                             .. string.format('%d', res.instanceNumber) .. '.'
                local values = {}
                for _, pv in ipairs(t.parameterValues) do
                    if type(pv) == 'table' and type(pv[1]) == 'string' then
                        local v = {base .. pv[1], pv[2]}
                        if pv[3] ~= nil then
                            v[3] = pv[3]
                        end
                        values[#values + 1] = v
                    end
                end
                local id = t.id
                if type(id) ~= 'string' or id == '' then
                    id = string.sub(redis.sha1hex(task), 1, 16)
                end
                redis.call('LPUSH', KEYS[2], cjson.encode({
                    id = id .. '.values', name = 'setParameterValues',
                    parameterValues = values,
                    parameterKey = t.parameterKey}))
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
end

while true do
    local nxt = redis.call('LINDEX', KEYS[2], 0)

    if not nxt then
        redis.call('DEL', KEYS[1])
        return {1, '', ''}
    end

    -- how many sessions this task was handed out in
    local h = redis.sha1hex(nxt)
    local tries = 1
    local prev = redis.call('GET', KEYS[5])

    if prev and string.sub(prev, 1, 40) == h then
        tries = (tonumber(string.sub(prev, 42)) or 0) + 1
    end

    if tries <= MAX_TRIES then
        redis.call('SET', KEYS[5], h .. ':' .. tries, 'EX', 604800)
        redis.call('HSET', KEYS[1], 'turn', 'acs', 'rpc_id', ARGV[3],
                   'task', nxt)
        redis.call('PEXPIRE', KEYS[1], ARGV[4])

        -- the cached types of a setParameterValues' untyped values
        local types = '{}'
        local t = decode(nxt)
        if t.name == 'setParameterValues'
           and type(t.parameterValues) == 'table'
        then
            local found = {}
            local any = false
            for _, pv in ipairs(t.parameterValues) do
                if type(pv) == 'table' and type(pv[1]) == 'string'
                   and pv[3] == nil
                then
                    local ty = redis.call('HGET', KEYS[4], pv[1])
                    if ty then
                        found[pv[1]] = ty
                        any = true
                    end
                end
            end
            if any then
                types = cjson.encode(found)
            end
        end

        return {1, nxt, s[4], types}
    end

    dequeue(nxt)
    record(nxt, decode(nxt), 'fault',
           cjson.encode({error = 'abandoned',
                         detail = 'no answer from the CPE in '
                                  .. MAX_TRIES .. ' sessions'}))
end
