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
-- KEYS[9]  cwmp:device:{<ID>}:plan       the policies' tasks, this session
-- KEYS[10] cwmp:device:{<ID>}:tags
-- KEYS[11] cwmp:device:{<ID>}:policy     the policies' state per device
-- KEYS[12] cwmp:device:{<ID>}:connreq    connection request credentials
-- KEYS[13] cwmp:device:{<ID>}:auth       the device's own credentials
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
-- then, from P = 12 + 3n, the policies:
-- ARGV[P]   the evaluations a session may have (0: no policies)
-- ARGV[P+1] an evaluation's tasks, a JSON array ("" when this call does
--           not carry one): queued in :plan, after the operators' tasks
-- ARGV[P+2] its operations, a JSON array of arrays: {"tag_add", name},
--           {"tag_remove", name}, {"enter", campaign}, {"done", campaign},
--           {"fail", policy, detail JSON, rules}
-- ARGV[P+3] the fault back-off cap, seconds
-- ARGV[P+4] the campaign key prefix ("cwmp:campaign:")
-- ARGV[P+5] m, then the m cached parameters the policies read ("-": not
--           sent, as when the turn begins; returns {3, ""} when they are
--           needed (WANT_NAMES), and nginx calls again with them)
-- then      c, then the c campaigns (policies with rollout limits)
-- then      o, then the o objects whose instances the policies count
--
-- The policies are evaluated at the Inform (session_open.lua); a plan found
-- then waits in the session's "plan" and "ops" fields for the turn to
-- begin.  When no task is left and an evaluation is due again (a task ran
-- in this call, the session's evaluations are below ARGV[P], and this call
-- carries none), returns EVALUATE: nginx evaluates the policies and calls
-- again with the outcome, or, when they want nothing, ends the session at
-- once (turn "policies": it expires within 10 s and session_open may
-- replace it).
--
-- A policy task ({"policy": name, ...}) that faults sets the device's
-- "fault:<name>" record (retry after 300 s x 2^(n-1), capped) and counts
-- against the campaign's stop rules; one that succeeds applies its
-- "marks" to the policy state and clears the record.
--
-- ANSWER[1]  TASK  {TASK, next task or "", ns, types}: "" when the session
--          is over (and deleted), ns the CPE's CWMP namespace, types a JSON
--          object of the cached types of a setParameterValues' untyped
--          parameters ("{}" for other tasks)
-- ANSWER[2]  EVALUATE  the policies' turn: {EVALUATE, "", ns, "{}", device
--          fields (device_fields.lua), wanted values, tags, policy state,
--          campaigns, objects}
-- ANSWER[3]  WANT_NAMES  {WANT_NAMES, ""}: call again with the names of
--          the values the policies read (nothing was done)
-- ANSWER[0]  NOT_OURS  {NOT_OURS, ""}: the session is not the caller's
-- ANSWER[-1]  NOT_IN_FLIGHT  {NOT_IN_FLIGHT, ""}: the answer is not to the
--          request in flight (another cwmp:ID, another method, none in
--          flight): nothing is stored
--
-- UNDECLARED  cwmp:campaign:<policy>  a campaign's counters (the prefix
--          is ARGV[P+4])
-- UNDECLARED  cwmp:campaign:<policy>:devices  each device's state in it
-- UNDECLARED  cwmp:campaign:<policy>:recent  its last outcomes
--
-- A task handed out in 3 sessions without an outcome (a CPE that drops
-- the session, or reboots, on it) is dropped with a fault result.
-- A reboot, a changeDUState, and a download or upload the CPE will finish
-- later (status 1), is done only when the CPE says so: it waits in the
-- pending hash under its CommandKey (session_open: "M Reboot";
-- session_cpe: TransferComplete, DUStateChangeComplete).
-- Results are capped at about a million entries (results.lua).

local MAX_TRIES = 3

local s = redis.call('HMGET', KEYS[1], 'token', 'rpc_id', 'task', 'ns',
                     'plan', 'ops', 'recheck')

if s[1] ~= ARGV[1] then
    return {NOT_OURS, ''}
end

-- include: results.lua
-- include: device_fields.lua

local function dequeue(task, queue)
    -- only now: a session that dies before this runs the task again
    if redis.call('LINDEX', queue, 0) == task then
        redis.call('LPOP', queue)
    end
    if queue == KEYS[2] then
        redis.call('DEL', KEYS[5])
    end
end

local P = 12 + 3 * (tonumber(ARGV[11]) or 0)
local now = tonumber(ARGV[9])

-- an evaluation's outcome: this call's, or the one made at the Inform
local plan, ops = ARGV[P + 1], ARGV[P + 2]
if plan == '' and s[5] then
    plan, ops = s[5], s[6] or '[]'
    redis.call('HDEL', KEYS[1], 'plan', 'ops')
end

-- a task's outcome stored by this call (or a transfer the CPE reported
-- failed, session_cpe.lua): the policies look again after
local worked = s[7] == '1'

-- a campaign's failure, and its stop rules: {stop_after, ratio, of}
local function campaign_failed(name, rules)
    local key = ARGV[P + 4] .. name
    local st = redis.call('HGET', key .. ':devices', ARGV[5])
    if st == 'in_progress' then
        redis.call('HINCRBY', key, 'in_progress', -1)
    end
    redis.call('HSET', key .. ':devices', ARGV[5], 'failed')
    local failed = redis.call('HINCRBY', key, 'failed', 1)
    local why
    if type(rules) == 'table' then
        local of = tonumber(rules[3]) or 0
        if of > 0 then
            redis.call('LPUSH', key .. ':recent', 0)
            redis.call('LTRIM', key .. ':recent', 0, of - 1)
        end
        local after = tonumber(rules[1]) or 0
        if after > 0 and failed >= after then
            why = failed .. ' failures (stop_after_failures ' .. after .. ')'
        elseif of > 0 and redis.call('LLEN', key .. ':recent') >= of then
            local bad = 0
            for _, v in ipairs(redis.call('LRANGE', key .. ':recent', 0, -1)) do
                if v == '0' then
                    bad = bad + 1
                end
            end
            if bad / of >= (tonumber(rules[2]) or 2) then
                why = bad .. ' of the last ' .. of .. ' devices failed'
                      .. ' (stop_failure_ratio ' .. rules[2] .. ')'
            end
        end
    end
    if why and not redis.call('HGET', key, 'paused') then
        redis.call('HSET', key, 'paused', why, 'paused_at', ARGV[9],
                   'paused_by', ARGV[5])
    end
end

-- include: instances.lua
-- include: policy_inputs.lua

-- a policy that failed on this device: retried after a back-off
local function policy_fault(name, detail, rules)
    local field = 'fault:' .. name
    local count = 1
    local ok, f = pcall(cjson.decode, redis.call('HGET', KEYS[11], field)
                                      or '')
    if ok and type(f) == 'table' and type(f.count) == 'number' then
        count = f.count + 1
    end
    local delay = math.min(300 * 2 ^ (count - 1), tonumber(ARGV[P + 3]))
    redis.call('HSET', KEYS[11], field, cjson.encode({
        count = count, time = now, retry_at = now + delay,
        fault = detail}))
    if rules then
        campaign_failed(name, rules)
    end
end

if ARGV[6] ~= '' then
    local task = s[3]

    if ARGV[2] ~= '' and s[2] ~= ARGV[2] then
        return {NOT_IN_FLIGHT, ''}
    end

    if not task then
        if ARGV[10] ~= '' then
            return {NOT_IN_FLIGHT, ''}
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
            return {NOT_IN_FLIGHT, ''}
        end

        local queue = KEYS[2]
        if t.policy then
            queue = KEYS[9]
        end
        dequeue(task, queue)
        worked = true

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
            -- the CommandKey the CPE will report (at most 32 characters)
            redis.call('HSET', KEYS[7], string.sub(task_id(task, t), 1, 32),
                       cjson.encode({task = task, since = tonumber(ARGV[9]),
                                     answer = ARGV[7]}))
        else
            record(KEYS[6], ARGV[5], task_id(task, t), t.name, ARGV[6],
                   ARGV[7], ARGV[9])
        end

        -- a policy's task: its state follows the outcome
        if type(t.policy) == 'string' then
            if ARGV[6] == 'done' then
                if type(t.marks) == 'table' then
                    for k, v in pairs(t.marks) do
                        redis.call('HSET', KEYS[11], k, tostring(v))
                    end
                end
                redis.call('HDEL', KEYS[11], 'fault:' .. t.policy)
            else
                local ok, detail = pcall(cjson.decode, ARGV[7])
                policy_fault(t.policy, ok and detail or ARGV[7], t.rules)
            end
        end

        -- the ParameterKey a CPE applied (SPV, AddObject, DeleteObject)
        if ARGV[6] == 'done' and type(t.parameterKey) == 'string'
           and (t.name == 'setParameterValues' or t.name == 'addObject'
                or t.name == 'deleteObject')
        then
            redis.call('HSET', KEYS[8], 'parameter_key', t.parameterKey)
        end

        -- credentials the device applied: the ACS's for its connection
        -- requests (the values stay out of the cache: "secret")
        if ARGV[6] == 'done' and ARGV[8] == '1'
           and type(t.connreq) == 'table'
           and type(t.connreq.password) == 'string'
        then
            redis.call('HSET', KEYS[12], 'username',
                       tostring(t.connreq.username or ''),
                       'password', t.connreq.password)
        end

        -- the device's own credentials for the ACS, set by a policy: once
        -- it applied them (at once or at its next boot), the password it
        -- had stays good for 7 days; refused, they are forgotten
        if type(t.acs_auth) == 'table'
           and type(t.acs_auth.password) == 'string'
        then
            if ARGV[6] == 'done' then
                local old = redis.call('HGET', KEYS[13], 'password')
                if old and old ~= t.acs_auth.password then
                    redis.call('HSET', KEYS[13], 'previous_password', old,
                               'previous_expires', tostring(now + 604800))
                end
                redis.call('HSET', KEYS[13], 'password', t.acs_auth.password)
                redis.call('HDEL', KEYS[13], 'next_password')
            elseif ARGV[6] == 'fault' then
                redis.call('HDEL', KEYS[13], 'next_password')
            end
        end

        if ARGV[8] == '1' and not t.secret then
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
                local id = task_id(task, t)
                if t.policy then
                    -- a policy's: next in the session's plan, the policy's
                    redis.call('LPUSH', KEYS[9], cjson.encode({
                        id = id, policy = t.policy, rules = t.rules,
                        name = 'setParameterValues',
                        parameterValues = values}))
                else
                    redis.call('LPUSH', KEYS[2], cjson.encode({
                        id = id .. '.values', name = 'setParameterValues',
                        parameterValues = values,
                        parameterKey = t.parameterKey}))
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
end

-- an evaluation's outcome: its operations, then its tasks
if plan ~= '' then
    local ok, list = pcall(cjson.decode, ops)
    for _, op in ipairs(ok and type(list) == 'table' and list or {}) do
        local key = ARGV[P + 4] .. tostring(op[2])
        if op[1] == 'tag_add' then
            redis.call('SADD', KEYS[10], op[2])
        elseif op[1] == 'tag_remove' then
            redis.call('SREM', KEYS[10], op[2])
        elseif op[1] == 'enter' then
            if redis.call('HGET', key .. ':devices', ARGV[5])
               ~= 'in_progress'
            then
                redis.call('HSET', key .. ':devices', ARGV[5], 'in_progress')
                redis.call('HINCRBY', key, 'in_progress', 1)
            end
        elseif op[1] == 'done' then
            if redis.call('HGET', key .. ':devices', ARGV[5])
               == 'in_progress'
            then
                redis.call('HSET', key .. ':devices', ARGV[5], 'done')
                redis.call('HINCRBY', key, 'in_progress', -1)
                redis.call('HINCRBY', key, 'done', 1)
                if type(op[3]) == 'table'
                   and (tonumber(op[3][3]) or 0) > 0
                then
                    redis.call('LPUSH', key .. ':recent', 1)
                    redis.call('LTRIM', key .. ':recent', 0, op[3][3] - 1)
                end
            end
        elseif op[1] == 'fail' then
            -- after the back-off, a firmware policy starts its attempts anew
            redis.call('HDEL', KEYS[11], 'failed:' .. op[2],
                       'firmware:' .. op[2])
            xadd(KEYS[6], 'device', ARGV[5], 'task', 'policy:' .. op[2],
                 'name', 'policy', 'status', 'fault',
                 'result', cjson.encode(op[3]), 'time', ARGV[9])
            policy_fault(op[2], op[3], op[4])
        end
    end

    local ok2, tasks = pcall(cjson.decode, plan)
    for _, t in ipairs(ok2 and type(tasks) == 'table' and tasks or {}) do
        redis.call('RPUSH', KEYS[9], cjson.encode(t))
    end
end

while true do
    local nxt = redis.call('LINDEX', KEYS[2], 0)
    local queue = KEYS[2]

    if not nxt then
        nxt = redis.call('LINDEX', KEYS[9], 0)
        queue = KEYS[9]
    end

    if not nxt then
        -- the policies' turn, when tasks ran since they last looked (they
        -- did at the Inform), unless this call carries their outcome
        local rounds = tonumber(redis.call('HGET', KEYS[1], 'rounds')) or 0
        if worked and plan == '' and rounds < (tonumber(ARGV[P]) or 0) then
            if ARGV[P + 5] == '-' then
                -- the wanted names were left out: asked for, nothing done
                return {WANT_NAMES, ''}
            end

            -- when the policies want nothing, nginx ends the session without
            -- another call: it expires soon, and an Inform may replace it
            redis.call('HSET', KEYS[1], 'turn', 'policies', 'rpc_id', ARGV[3],
                       'rounds', rounds + 1)
            redis.call('HDEL', KEYS[1], 'task', 'recheck')
            redis.call('PEXPIRE', KEYS[1],
                       math.min(tonumber(ARGV[4]) or 10000, 10000))

            local values, campaigns, objects =
                policy_inputs(KEYS[3], P + 5, ARGV[P + 4], ARGV[5])

            return {EVALUATE, '', s[4] or '', '{}',
                    redis.call('HMGET', KEYS[8], DEVICE_FIELDS),
                    values, redis.call('SMEMBERS', KEYS[10]),
                    redis.call('HGETALL', KEYS[11]), campaigns, objects}
        end

        redis.call('DEL', KEYS[1], KEYS[9])
        return {TASK, '', ''}
    end

    -- how many sessions this task was handed out in (a policy's task:
    -- not counted, the plan is this session's own)
    local tries = 1

    if queue == KEYS[2] then
        local h = redis.sha1hex(nxt)
        local prev = redis.call('GET', KEYS[5])

        if prev and string.sub(prev, 1, 40) == h then
            tries = (tonumber(string.sub(prev, 42)) or 0) + 1
        end

        if tries <= MAX_TRIES then
            redis.call('SET', KEYS[5], h .. ':' .. tries, 'EX', 604800)
        end
    end

    if tries <= MAX_TRIES then
        redis.call('HSET', KEYS[1], 'turn', 'acs', 'rpc_id', ARGV[3],
                   'task', nxt)
        redis.call('PEXPIRE', KEYS[1], ARGV[4])

        -- the cached types of a setParameterValues' untyped values
        local types = '{}'
        local t = decode(nxt)

        -- credentials about to be set on the device are good from now:
        -- an answer lost on the way must not lock it out
        if type(t.acs_auth) == 'table'
           and type(t.acs_auth.password) == 'string'
        then
            redis.call('HSET', KEYS[13], 'next_password', t.acs_auth.password)
        end

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

        return {TASK, nxt, s[4], types}
    end

    dequeue(nxt, KEYS[2])
    local t = decode(nxt)
    record(KEYS[6], ARGV[5], task_id(nxt, t), t.name, 'fault',
           cjson.encode({error = 'abandoned',
                         detail = 'no answer from the CPE in '
                                  .. MAX_TRIES .. ' sessions'}), ARGV[9])
end
