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
-- KEYS[6]  cwmp:device:{<ID>}:outbox     results and campaign steps, for
--          nginx to relay (results.lua)
-- KEYS[7]  cwmp:device:{<ID>}:pending
-- KEYS[8]  cwmp:device:{<ID>}            the summary (parameter_key; its
--          inform_digest dropped when the cache is written)
-- KEYS[9]  cwmp:device:{<ID>}:plan       the policies' tasks, this session
-- KEYS[10] cwmp:device:{<ID>}:tags
-- KEYS[11] cwmp:device:{<ID>}:policy     the policies' state per device
-- KEYS[12] cwmp:device:{<ID>}:connreq    connection request credentials
-- KEYS[13] cwmp:device:{<ID>}:auth       the device's own credentials
-- KEYS[14] cwmp:device:{<ID>}:absent     parameters the device lacks
-- KEYS[15] cwmp:device:{<ID>}:indexed    what the value indexes hold of
--          the device (index.lua)
-- KEYS[16] cwmp:device:{<ID>}:xmpp       the device's XMPP account, the
--          operator's (an "xmppConnection" task sets it on the device)
-- UNDECLARED  cwmp:device:{<ID>}:status  task status records (results.lua),
--          derived from the outbox's name: the device's slot
-- UNDECLARED  cwmp:device:{<ID>}:reply:<name>  a task's replyTo, checked
--          to be the device's own (results.lua)
-- UNDECLARED  cwmp:device:{<ID>}:uploads  the file an upload to the ACS
--          stored, taken into its result (pending.lua), derived likewise
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
-- ARGV[11] the connection the request came on (host, process, number)
-- ARGV[12] the default time limit of a pending task, seconds
-- ARGV[13] n, then n (parameter, value, type) triples the answer
--          reported (type "" when unknown)
-- then, from P = 14 + 3n, the policies:
-- ARGV[P]   the evaluations a session may have (0: no policies)
-- ARGV[P+1] an evaluation's tasks, a JSON array ("" when this call does
--           not carry one): queued in :plan, after the operators' tasks
-- ARGV[P+2] its operations, a JSON array of arrays: {"tag_add", name},
--           {"tag_remove", name}, {"enter", campaign}, {"done", campaign},
--           {"fail", policy, detail JSON, rules}
-- ARGV[P+3] the fault back-off cap, seconds
-- ARGV[P+4] m, then the m cached parameters the policies read ("-": not
--           sent, as when the turn begins; returns WANT_NAMES when they
--           are needed, and nginx calls again with them)
-- then      c, then the c campaigns (policies with rollout limits), each
--           its name, why it is paused ("" when not) and how many devices
--           it has in progress, as nginx last read them (campaign.lua)
-- then      o, then the o objects whose instances the policies count
-- then      the fleet's tail (fleet.lua)
--
-- ANSWER[1]  TASK  {TASK, next task or "", ns, types, cwmp:ID}: "" when
--          the session is over (and deleted), ns the CPE's CWMP namespace,
--          types a JSON object of the cached types of a
--          setParameterValues' untyped parameters ("{}" for other tasks),
--          the request's cwmp:ID (ARGV[3], or the one it had when it goes
--          out again to a CPE that never got it)
-- ANSWER[2]  EVALUATE  the policies' turn: {EVALUATE, "", ns, "{}", device
--          fields (device_fields.lua), wanted values, tags, policy state,
--          campaigns, objects}
-- ANSWER[3]  WANT_NAMES  {WANT_NAMES, ""}: call again with the names of
--          the values the policies read (the outcome is stored: the call
--          again does not store it twice)
-- ANSWER[4]  REFUSED  {REFUSED, method}: the CPE answered the request in
--          flight with an empty POST: the session is over (and deleted)
-- ANSWER[0]  NOT_OURS  {NOT_OURS, ""}: the session is not the caller's
-- ANSWER[-1]  NOT_IN_FLIGHT  {NOT_IN_FLIGHT, ""}: the answer is not to the
--          request in flight (another cwmp:ID, another method, none in
--          flight): nothing is stored
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
-- "marks" to the policy state and clears the record.  A parameter the
-- device does not have (fault 9005) is recorded in :absent and the task
-- goes again without it (a GetParameterValues of several names, name by
-- name): the policy applies the rest.
--
-- No request goes out twice in a session.  An empty POST while one is in
-- flight on the same connection means the CPE will not answer it: a
-- queued task stays queued (one more of its tries used) and the session
-- ends (REFUSED); a policy's is a fault of the policy, and the session
-- goes on.  On another connection (the CPE did not get it, and sends its
-- empty POST again), and for an answer sent again whose first copy was
-- stored, the request in flight goes out again as it was, once.
--
-- A task handed out in 3 sessions without an outcome (a CPE that drops
-- the session, or reboots, on it) is dropped with a fault result; a
-- policy's counts per policy and method ("attempts:<policy>:<method>").
-- A task with an effect (pending.lua) moves to the pending hash as it is
-- handed out, so that it is never sent twice; the CPE's report, or its
-- answer, finishes it.  Tasks leave the queue wherever they stand in it:
-- an OSS that LPUSHes while a task is in flight disturbs nothing.
-- Results are capped at about a million entries (results.lua).
--
-- Consecutive getParameterValues tasks at the head of the queue go out as
-- one GetParameterValues (the union of their names), consecutive
-- setParameterValues of disjoint parameters (and one ParameterKey) as one
-- SetParameterValues: the session's "merged" holds the tasks after the
-- first; each still gets its own result (a GPV's the values of its own
-- names).  A merged request that faults is not any one task's fault: the
-- session is marked "unmerge", and its tasks go out one per request.

local MAX_TRIES = 3
local MERGE_MAX = 16    -- tasks in one merged request
local QUEUE_LOOK = 16   -- tasks looked at for one whose notBefore came

local s = redis.call('HMGET', KEYS[1], 'token', 'rpc_id', 'task', 'ns',
                     'plan', 'ops', 'recheck', 'turn', 'pending', 'conn',
                     'resent', 'prev_rpc', 'prev_answer', 'wanting',
                     'created', 'ran', 'faulted', 'merged', 'unmerge')

if s[1] ~= ARGV[1] then
    return {NOT_OURS, ''}
end

-- include: fleet.lua
-- include: results.lua
-- include: pending.lua
-- include: device_fields.lua
-- include: index.lua

-- whether a task's text may be a diagnostics task's (decoded to know)
local function maybe_diagnostics(task)
    return string.find(task, 'Diagnostics"', 1, true)
           or string.find(task, 'ipPing', 1, true)
           or string.find(task, 'traceRoute', 1, true)
           or string.find(task, 'nsLookup', 1, true)
           or string.find(task, 'udpEcho', 1, true)
end

-- a diagnostics task of the device is running (pending its report)
local function diagnosing()
    for _, raw in ipairs(redis.call('HVALS', KEYS[7])) do
        local p = pending_entry(raw)
        if p and diagnostics(decode(p.task).name or '') then
            return true
        end
    end
    return false
end

-- the first of the queue's first QUEUE_LOOK tasks that may run: its
-- notBefore (unix time) has come, or it has none, and it is no
-- diagnostics task while another runs (a CPE aborts a running test on a
-- new Requested: one at a time); nil when all wait
local function first_due(queue)
    local busy
    for _, task in ipairs(redis.call('LRANGE', queue, 0, QUEUE_LOOK - 1)) do
        if not string.find(task, 'notBefore', 1, true)
           and not maybe_diagnostics(task)
        then
            return task
        end
        local t = decode(task)
        local due = (tonumber(t.notBefore) or 0) <= tonumber(ARGV[9])
        if due and type(t.name) == 'string' and diagnostics(t.name) then
            if busy == nil then
                busy = diagnosing()
            end
            due = not busy
        end
        if due then
            return task
        end
    end
end

-- what is wrong with the arguments the fleet's API adds to a task (the
-- module checks the RPC's own), or nil
local function bad_arguments(t)
    if diagnostics(t.name) then
        if type(t.parameters) ~= 'table' then
            return '"parameters" must be an object: the diagnostics '
                   .. 'object\'s parameters (names relative to it) and '
                   .. 'their values'
        end
        local root = redis.call('HGET', KEYS[8], 'data_model') or ''
        if not diagnostics_object(t.name, root) then
            return t.name .. ' is not in the ' .. root .. ' data model'
        end
    end
    if t.notBefore ~= nil and type(t.notBefore) ~= 'number' then
        return 'notBefore must be a unix time (a number)'
    end
    if t.replyTo ~= nil then
        local base = KEYS[8]
        if type(t.replyTo) ~= 'string'
           or string.sub(t.replyTo, 1, #base + 7) ~= base .. ':reply:'
           or #t.replyTo == #base + 7
           or #t.replyTo > #base + 7 + REPLY_NAME_MAX
        then
            return 'replyTo must be "' .. base .. ':reply:<name>" (a name '
                   .. 'of 1 to ' .. REPLY_NAME_MAX .. ' bytes): a key on the '
                   .. 'device\'s slot'
        end
        if t.replyTtl ~= nil and (type(t.replyTtl) ~= 'number'
                                  or t.replyTtl < 1 or t.replyTtl > 86400)
        then
            return 'replyTtl must be 1 to 86400 seconds'
        end
    end
end

local ran_now, faulted_now = 0, 0   -- outcomes this call stored

-- an internal read of a diagnostics object (session_open.lua queued it at
-- 8 DIAGNOSTICS COMPLETE) answered: the pending diagnostics task finishes
-- with the values (done when DiagnosticsState is Complete, else a fault
-- with the state the CPE reports, Error_...), or with the read's fault
local function diagnosed(t)
    local p = pending_entry(redis.call('HGET', KEYS[7], t['for'] or ''))
    if not p then
        return
    end
    local status, result = 'fault', {error = 'unreadable',
                                     detail = 'the CPE faulted the read of '
                                              .. 'the diagnostics results'}
    if ARGV[6] == 'done' then
        local values, state = {}, nil
        local prefix = type(t.parameterNames) == 'table'
                       and t.parameterNames[1] or ''
        for k = 0, (tonumber(ARGV[13]) or 0) - 1 do
            local name = ARGV[14 + 3 * k]
            if string.sub(name, 1, #prefix) == prefix then
                local rel = string.sub(name, #prefix + 1)
                values[rel] = ARGV[15 + 3 * k]
                if rel == 'DiagnosticsState' then
                    state = ARGV[15 + 3 * k]
                end
            end
        end
        if state == 'Complete' or state == 'Completed' then
            status, result = 'done', {diagnosticsState = state,
                                      values = values}
        else
            result = {error = 'diagnostics', diagnosticsState = state or '',
                      values = values}
        end
    end
    finish(KEYS[7], KEYS[6], KEYS[11], ARGV[5], t['for'], p, status,
           cjson.encode(result), ARGV[9])
end

-- the text nginx builds the request from: the task's own, or for a
-- diagnostics task its SetParameterValues (pending.lua)
-- an "xmppConnection" task goes out as the SetParameterValues of
-- <root>.XMPP.Connection.<n>. (TR-098 and TR-181 alike) with the account
-- the operator keeps in :xmpp (jid, password; resource, server
-- "host:port", tls "true"/"false", allowed: optional), the connection
-- requests over it (ConnReqXMPPConnection) and the JIDs allowed to send
-- them (ConnReqAllowedJabberIDs: the ACS's); nil and why without an account
local function xmpp_wire(task, t)
    local a = redis.call('HMGET', KEYS[16], 'jid', 'password', 'resource',
                         'server', 'tls', 'allowed')
    if not a[1] or not a[2] then
        return nil, 'no XMPP account for the device: HSET ' .. KEYS[16]
                    .. ' jid <user@domain> password <password>'
    end
    local user, domain = string.match(a[1], '^([^@/%s]+)@([^@/%s]+)$')
    if not user then
        return nil, 'the jid in ' .. KEYS[16] .. ' must be <user@domain>'
    end
    local n = math.floor(tonumber(t.connection) or 1)
    if n < 1 or n > 64 then
        return nil, '"connection" must be an instance number, 1 to 64'
    end
    local root = redis.call('HGET', KEYS[8], 'data_model')
                 or 'InternetGatewayDevice'
    local conn = root .. '.XMPP.Connection.' .. n
    local c, ms = conn .. '.', root .. '.ManagementServer.'
    local pv = {{c .. 'Enable', 'true', 'xsd:boolean'},
                {c .. 'Username', user, 'xsd:string'},
                {c .. 'Password', a[2], 'xsd:string'},
                {c .. 'Domain', domain, 'xsd:string'},
                {c .. 'Resource', a[3] or 'cwmp', 'xsd:string'},
                {ms .. 'ConnReqXMPPConnection', conn, 'xsd:string'}}
    local allowed = a[6] or t.allowedJabberIDs
    if type(allowed) == 'string' and allowed ~= '' then
        pv[#pv + 1] = {ms .. 'ConnReqAllowedJabberIDs', allowed, 'xsd:string'}
    end
    if a[5] then
        pv[#pv + 1] = {c .. 'UseTLS', (a[5] == 'true' or a[5] == '1')
                                      and 'true' or 'false', 'xsd:boolean'}
    end
    if a[4] then
        local host, port = string.match(a[4], '^(.+):(%d+)$')
        if not host then
            return nil, 'the server in ' .. KEYS[16] .. ' must be <host:port>'
        end
        pv[#pv + 1] = {c .. 'ServerConnectAlgorithm', 'ServerTable',
                       'xsd:string'}
        pv[#pv + 1] = {c .. 'Server.1.Enable', 'true', 'xsd:boolean'}
        pv[#pv + 1] = {c .. 'Server.1.ServerAddress', host, 'xsd:string'}
        pv[#pv + 1] = {c .. 'Server.1.Port', port, 'xsd:unsignedInt'}
    end
    return cjson.encode({id = task_id(task, t), name = 'setParameterValues',
                         parameterValues = pv})
end

-- the task as it goes out (and nil, why when it cannot)
local function wire(task, t)
    if t.name == 'xmppConnection' then
        return xmpp_wire(task, t)
    end
    if not diagnostics(t.name) then
        return task
    end
    local object = diagnostics_object(t.name,
                                      redis.call('HGET', KEYS[8], 'data_model'))
    local pv = {{object .. 'DiagnosticsState', 'Requested', 'xsd:string'}}
    for k, v in pairs(type(t.parameters) == 'table' and t.parameters or {}) do
        if type(k) == 'string' and k ~= 'DiagnosticsState' then
            pv[#pv + 1] = {object .. k, v}
        end
    end
    return cjson.encode({id = task_id(task, t), name = 'setParameterValues',
                         parameterValues = pv})
end

-- the session ends (the ACS's last exchange, or the CPE's empty POST to
-- a request): its key and plan go, and the event stream hears how it went
local function session_end()
    redis.call('DEL', KEYS[1], KEYS[9])
    if not ENDS then
        return
    end
    redis.call('HDEL', KEYS[8], 'session_since')
    emit(KEYS[6], 'session_ended', ARGV[5], ARGV[9],
         'outcome', (tonumber(s[17]) or 0) + faulted_now > 0 and 'fault'
                    or 'ok',
         'tasks', tostring((tonumber(s[16]) or 0) + ran_now),
         'duration', tostring(tonumber(ARGV[9]) - (tonumber(s[15])
                                                  or tonumber(ARGV[9]))))
    flush_events(KEYS[6])
end

-- a task with an outcome leaves its queue (wherever it stands in it)
local function dequeue(task, queue)
    redis.call('LREM', queue, 1, task)
    if queue == KEYS[2] then
        redis.call('DEL', KEYS[5])
    end
end

local P = 14 + 3 * (tonumber(ARGV[13]) or 0)
local now = tonumber(ARGV[9])
local reindex = {}      -- indexed parameters this call wrote
local rewritten         -- the cache written: the Inform's digest dropped
local supported         -- the URNs a SupportedDataModel read found
local internal          -- the task in flight's "internal" (the ACS's own)

-- the cache is no longer what the last Inform's digest vouches for: the
-- next steady Inform is stored whole (session_open.lua)
local function cache_written()
    if not rewritten then
        redis.call('HDEL', KEYS[8], 'inform_digest')
        rewritten = true
    end
end

-- an evaluation's outcome: this call's, or the one made at the Inform
local plan, ops = ARGV[P + 1], ARGV[P + 2]
if plan == '' and s[5] then
    plan, ops = s[5], s[6] or '[]'
    redis.call('HDEL', KEYS[1], 'plan', 'ops')
end

-- a task's outcome stored by this call (or a transfer the CPE reported
-- failed, session_cpe.lua): the policies look again after
local worked = s[7] == '1'

-- a device's step in a campaign ("enter", "done", "fail"): the device's
-- own state in it (its :policy hash's "campaign:<name>", what the policies
-- read), and the step for campaign.lua, which keeps the campaign's counters
-- and applies its stop rules {stop_after, ratio, of}, through the outbox
local function campaign_step(name, step, rules)
    local field = 'campaign:' .. name
    local was = redis.call('HGET', KEYS[11], field)
    if (step == 'enter' and was == 'in_progress')
       or (step == 'done' and was ~= 'in_progress')
    then
        return
    end
    redis.call('HSET', KEYS[11], field,
               step == 'enter' and 'in_progress'
               or step == 'done' and 'done' or 'failed')
    xadd(KEYS[6], 'campaign', 'policy', name, 'step', step,
         'device', ARGV[5], 'rules', cjson.encode(rules or {}),
         'time', ARGV[9])
end

-- include: instances.lua
-- include: policy_inputs.lua
-- include: policy_state.lua

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
        campaign_step(name, 'fail', rules)
    end
end

-- a policy's GetParameterValues or SetParameterValues that faulted for
-- parameters the device does not have (9005): the names in :absent, the
-- task again without them (a batch of names, name by name); true when so
local function absent_retry(t)
    local ok, res = pcall(cjson.decode, ARGV[7])
    if not ok or type(res) ~= 'table' then
        return false
    end

    if t.name == 'getParameterValues' and res.faultCode == 9005
       and type(t.parameterNames) == 'table' and #t.parameterNames > 0
    then
        local names = t.parameterNames
        if #names == 1 then
            redis.call('HSET', KEYS[14], names[1], ARGV[9])
            return true
        end
        for k = #names, 1, -1 do
            redis.call('LPUSH', KEYS[9], cjson.encode({
                id = t.id, policy = t.policy, rules = t.rules,
                name = 'getParameterValues', parameterNames = {names[k]}}))
        end
        return true
    end

    if t.name == 'setParameterValues' and type(t.parameterValues) == 'table'
       and type(res.setParameterValuesFault) == 'table'
    then
        local missing = {}
        for _, f in ipairs(res.setParameterValuesFault) do
            if type(f) ~= 'table' or f.faultCode ~= 9005
               or type(f.parameterName) ~= 'string'
            then
                -- another fault among them: the policy's
                return false
            end
            missing[f.parameterName] = true
        end
        local rest = {}
        for _, pv in ipairs(t.parameterValues) do
            if type(pv) == 'table' and missing[pv[1]] then
                redis.call('HSET', KEYS[14], pv[1], ARGV[9])
            else
                rest[#rest + 1] = pv
            end
        end
        if #rest == #t.parameterValues then
            return false
        end
        if #rest > 0 then
            t.parameterValues = rest
            redis.call('LPUSH', KEYS[9], cjson.encode(t))
        end
        return true
    end

    return false
end

-- a task that may share its request with the ones next to it: a plain
-- GPV or SPV of an operator's, nothing that makes it special
local function mergeable(t)
    return ((t.name == 'getParameterValues'
             and type(t.parameterNames) == 'table')
            or (t.name == 'setParameterValues'
                and type(t.parameterValues) == 'table'))
           and t.notBefore == nil and t.policy == nil and t.internal == nil
           and not t.secret and t.timeout == nil
end

-- the request of a merged task list: the first task's id and name, the
-- union of the names (GPV) or of the values (SPV); and the combined task
local function merged_wire(first, t, others)
    local c = {id = task_id(first, t), name = t.name,
               parameterKey = t.parameterKey}
    local all = {t}
    for _, raw in ipairs(others) do
        all[#all + 1] = decode(raw)
    end
    if t.name == 'getParameterValues' then
        local names, seen = {}, {}
        for _, m in ipairs(all) do
            for _, n in ipairs(m.parameterNames) do
                if not seen[n] then
                    seen[n] = true
                    names[#names + 1] = n
                end
            end
        end
        c.parameterNames = names
    else
        local values = {}
        for _, m in ipairs(all) do
            for _, pv in ipairs(m.parameterValues) do
                values[#values + 1] = pv
            end
        end
        c.parameterValues = values
    end
    return cjson.encode(c), c
end

-- the tasks after the head that can go out in its request ({} if none)
local function merge_partners(t)
    local others = {}
    if not mergeable(t) or s[19] == '1' then
        return others
    end
    local names = {}
    if t.name == 'setParameterValues' then
        for _, pv in ipairs(t.parameterValues) do
            if type(pv) ~= 'table' or type(pv[1]) ~= 'string' then
                return others
            end
            names[pv[1]] = true
        end
    end
    for _, raw in ipairs(redis.call('LRANGE', KEYS[2], 1, MERGE_MAX - 1)) do
        local m = decode(raw)
        if not mergeable(m) or m.name ~= t.name or bad_arguments(m)
           or m.parameterKey ~= t.parameterKey
        then
            break
        end
        if m.name == 'setParameterValues' then
            -- disjoint parameters only: the order of two writes of one
            -- parameter is not the CPE's to choose
            for _, pv in ipairs(m.parameterValues) do
                if type(pv) ~= 'table' or type(pv[1]) ~= 'string'
                   or names[pv[1]]
                then
                    return others
                end
            end
            for _, pv in ipairs(m.parameterValues) do
                names[pv[1]] = true
            end
        end
        others[#others + 1] = raw
    end
    return others
end

-- a GPV task's own share of the answer: the reported values under its
-- names (a name ending in "." is a subtree, "" the whole tree)
local function own_values(t)
    if t.name ~= 'getParameterValues' then
        return ARGV[7]
    end
    local list = {}
    local n = tonumber(ARGV[13]) or 0
    for k = 0, n - 1 do
        local name = ARGV[14 + 3 * k]
        for _, want in ipairs(t.parameterNames) do
            if name == want or want == ''
               or (string.sub(want, -1) == '.'
                   and string.sub(name, 1, #want) == want)
            then
                local ty = ARGV[16 + 3 * k]
                list[#list + 1] = {name, ARGV[15 + 3 * k],
                                   ty ~= '' and ty or nil}
                break
            end
        end
    end
    if #list == 0 then
        return '{"parameterValues":[]}'
    end
    return cjson.encode({parameterValues = list})
end

-- values a CPE applied: into the cache (and the indexes)
local function cache_values(values)
    for _, pv in ipairs(values) do
        if type(pv) == 'table' and type(pv[1]) == 'string'
           and pv[2] ~= nil and type(pv[2]) ~= 'table'
        then
            cache_written()
            redis.call('HSET', KEYS[3], pv[1], tostring(pv[2]))
            if INDEXED[pv[1]] then
                reindex[INDEXED[pv[1]]] = tostring(pv[2])
            end
        end
    end
end

-- the request in flight goes out again, as it was, to a CPE that did not
-- get it (once a session)
local function resend()
    redis.call('HSET', KEYS[1], 'resent', 1, 'conn', ARGV[11],
               'active', ARGV[9])
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
    local t = decode(s[3])
    if s[18] then
        return {TASK, (merged_wire(s[3], t, cjson.decode(s[18]))), s[4] or '',
                '{}', s[2]}
    end
    return {TASK, wire(s[3], t), s[4] or '', '{}', s[2]}
end

-- the call again after WANT_NAMES: the outcome it carries is stored
local again = s[14] == '1'
if again then
    redis.call('HDEL', KEYS[1], 'wanting')
    worked = true
end

-- the CPE's empty POST while a request is in flight
if ARGV[6] == '' and s[3] and s[8] == 'acs' and not again then
    if s[10] ~= ARGV[11] and s[11] ~= '1' then
        -- on another connection: it sends its empty POST again
        return resend()
    end

    local task = s[3]
    local t = decode(task)

    redis.call('HDEL', KEYS[1], 'task', 'pending', 'resent')

    if type(t.policy) == 'string' then
        redis.call('LREM', KEYS[9], 1, task)
        redis.call('HDEL', KEYS[11], 'attempts:' .. t.policy .. ':' .. t.name,
                   'waiting:' .. t.policy)
        if s[9] then
            redis.call('HDEL', KEYS[7], s[9])
        end
        policy_fault(t.policy, {error = 'no_answer',
                                detail = 'the CPE answered ' .. t.name
                                         .. ' with an empty POST'}, t.rules)
        worked = true

    else
        if s[9] then
            -- out of the pending hash, back at the head of the queue
            redis.call('HDEL', KEYS[7], s[9])
            redis.call('LPUSH', KEYS[2], task)
        end
        session_end()
        return {REFUSED, t.name}
    end
end

if ARGV[6] ~= '' and not again then
    local task = s[3]
    local unmerged = false

    -- an answer sent again: the first copy was stored, the request that
    -- came after it never reached the CPE
    if ARGV[2] ~= '' and ARGV[2] == s[12] and ARGV[10] == s[13] and task
       and s[11] ~= '1'
    then
        return resend()
    end

    if ARGV[2] ~= '' and s[2] ~= ARGV[2] then
        return {NOT_IN_FLIGHT, ''}
    end

    -- a merged request that faulted (or expired): no one task's outcome;
    -- its tasks go out one per request from here, the first again now
    if task and s[18] and ARGV[6] ~= 'done' then
        redis.call('HSET', KEYS[1], 'unmerge', 1)
        redis.call('HDEL', KEYS[1], 'merged', 'task', 'pending', 'resent')
        s[19] = '1'
        unmerged = true
    end

    if not task then
        if ARGV[10] ~= '' then
            return {NOT_IN_FLIGHT, ''}
        end

    elseif not unmerged then
        local t = decode(task)
        local result = ARGV[7]
        internal = t.internal

        -- "getParameterValues" is answered by "GetParameterValuesResponse"
        local expected = string.upper(string.sub(t.name, 1, 1))
                         .. string.sub(t.name, 2) .. 'Response'
        if t.name == 'refreshObject' then
            expected = 'GetParameterValuesResponse'
        elseif diagnostics(t.name) or t.name == 'xmppConnection' then
            expected = 'SetParameterValuesResponse'
        elseif uploads(t.name) then
            expected = 'UploadResponse'
        elseif transfer(t.name) then
            expected = 'DownloadResponse'
        end

        if ARGV[10] ~= '' and ARGV[10] ~= 'Fault' and ARGV[10] ~= expected
        then
            return {NOT_IN_FLIGHT, ''}
        end

        -- a merged request answered: the other tasks' outcomes, each its
        -- own share of the answer
        if s[18] then
            redis.call('HDEL', KEYS[1], 'merged')
            for _, raw in ipairs(cjson.decode(s[18])) do
                local m = decode(raw)
                dequeue(raw, KEYS[2])
                record(KEYS[6], ARGV[5], task_id(raw, m), m.name, 'done',
                       own_values(m), ARGV[9], m)
                if ARGV[8] == '1' and m.name == 'setParameterValues' then
                    cache_values(m.parameterValues)
                end
                if ENDS then
                    redis.call('HINCRBY', KEYS[1], 'ran', 1)
                    ran_now = ran_now + 1
                end
            end
            result = own_values(t)
        end

        local queue = KEYS[2]
        if t.policy then
            queue = KEYS[9]
            redis.call('HDEL', KEYS[11],
                       'attempts:' .. t.policy .. ':' .. t.name)
        end
        dequeue(task, queue)
        redis.call('HDEL', KEYS[1], 'task', 'pending', 'resent')
        if ARGV[2] ~= '' then
            redis.call('HSET', KEYS[1], 'prev_rpc', ARGV[2],
                       'prev_answer', ARGV[10])
        end
        worked = true

        local later = false

        if ARGV[6] == 'done' then
            if t.name == 'reboot' or t.name == 'changeDUState'
               or diagnostics(t.name)
            then
                -- the CPE reports it: M Reboot, DUStateChangeComplete,
                -- 8 DIAGNOSTICS COMPLETE
                later = true
            elseif transfer(t.name) then
                local ok, res = pcall(cjson.decode, ARGV[7])
                later = ok and type(res) == 'table' and res.status == 1
            end
        end

        -- a parameter the device lacks (9005): recorded, the policy's
        -- task again without it; no fault of the policy
        local retried = false

        if type(t.policy) == 'string' and ARGV[6] == 'fault' then
            retried = absent_retry(t)
        end

        if s[9] and later then
            -- the CPE will report it (M Reboot, TransferComplete, ...)
            local p = pending_entry(redis.call('HGET', KEYS[7], s[9]))
            if p then
                p.state = 'answered'
                p.answer = ARGV[7]
                redis.call('HSET', KEYS[7], s[9], cjson.encode(p))
            end
            if type(t.policy) == 'string' then
                -- its marks say what the policy waits for now
                redis.call('HDEL', KEYS[11], 'waiting:' .. t.policy)
            end

        elseif s[9] then
            local p = pending_entry(redis.call('HGET', KEYS[7], s[9]))
            if p then
                finish(KEYS[7], KEYS[6], KEYS[11], ARGV[5], s[9], p, ARGV[6],
                       ARGV[7], ARGV[9])
            end

        elseif later then
            -- the CommandKey the CPE will report (at most 32 characters)
            redis.call('HSET', KEYS[7], command_key(task, t),
                       cjson.encode({task = task, since = now,
                                     state = 'answered', answer = ARGV[7],
                                     limit = tonumber(t.timeout)
                                             or tonumber(ARGV[12])}))

        elseif t.internal == 'diagnostics' then
            -- the diagnostics object read: the pending task's result
            diagnosed(t)

        elseif not retried then
            record(KEYS[6], ARGV[5], task_id(task, t), t.name, ARGV[6],
                   result, ARGV[9], t)
        end

        if ENDS then
            redis.call('HINCRBY', KEYS[1], 'ran', 1)
            ran_now = ran_now + 1
            if ARGV[6] ~= 'done' then
                redis.call('HINCRBY', KEYS[1], 'faulted', 1)
                faulted_now = faulted_now + 1
            end
        end

        -- a policy's task: its state follows the outcome
        if type(t.policy) == 'string' and not retried then
            if ARGV[6] == 'done' then
                policy_done(KEYS[11], t)
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
                cache_values(t.parameterValues)

            elseif t.name == 'deleteObject'
                   and type(t.objectName) == 'string'
                   and t.objectName ~= ''
            then
                local prefix = t.objectName
                for _, k in ipairs(redis.call('HKEYS', KEYS[3])) do
                    if string.sub(k, 1, #prefix) == prefix then
                        cache_written()
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
            local n = tonumber(ARGV[13]) or 0
            for k = 0, n - 1 do
                seen[ARGV[14 + 3 * k]] = true
            end
            local prefix = t.objectName
            for _, k in ipairs(redis.call('HKEYS', KEYS[3])) do
                if string.sub(k, 1, #prefix) == prefix and not seen[k] then
                    cache_written()
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

    local n = tonumber(ARGV[13]) or 0
    local i = 14

    -- cwmp_supported_data_model's read: the URNs, on the device
    if internal == 'supported_data_model' and ARGV[6] == 'done' then
        supported = {}
        for k = 0, n - 1 do
            if string.sub(ARGV[14 + 3 * k], -4) == '.URN' then
                supported[#supported + 1] = ARGV[15 + 3 * k]
            end
        end
        redis.call('HSET', KEYS[8], 'supported_data_models',
                   table.concat(supported, ','))
    end

    for _ = 1, n do
        cache_written()
        redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
        if INDEXED[ARGV[i]] then
            reindex[INDEXED[ARGV[i]]] = ARGV[i + 1]
        end
        if ARGV[i + 2] ~= '' and ARGV[i + 2] ~= 'xsd:string' then
            redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 2])
        else
            redis.call('HDEL', KEYS[4], ARGV[i])
        end
        i = i + 3
    end
end

-- an evaluation's outcome: its operations, then its tasks
local retag
if plan ~= '' then
    local ok, list = pcall(cjson.decode, ops)
    for _, op in ipairs(ok and type(list) == 'table' and list or {}) do
        if op[1] == 'tag_add' then
            redis.call('SADD', KEYS[10], op[2])
            retag = true
        elseif op[1] == 'tag_remove' then
            redis.call('SREM', KEYS[10], op[2])
            retag = true
        elseif op[1] == 'enter' or op[1] == 'done' then
            campaign_step(tostring(op[2]), op[1], op[3])
        elseif op[1] == 'fail' then
            -- after the back-off, a firmware policy starts its attempts anew
            redis.call('HDEL', KEYS[11], 'failed:' .. op[2],
                       'firmware:' .. op[2])
            xadd(KEYS[6], 'results', 'device', ARGV[5],
                 'task', 'policy:' .. op[2],
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

local sets = {}
if retag then
    sets.tag = redis.call('SMEMBERS', KEYS[10])
end
if supported then
    sets.supported_data_model = supported
end
if INDEXING and (retag or supported or next(reindex)) then
    index_sync(KEYS[15], KEYS[6], ARGV[5], reindex, sets)
end

while true do
    local nxt = redis.call('LINDEX', KEYS[2], 0)
    local queue = KEYS[2]
    local at_head = true

    if nxt and (string.find(nxt, 'notBefore', 1, true)
                or maybe_diagnostics(nxt))
    then
        nxt = first_due(KEYS[2])
        at_head = false
    end

    if not nxt then
        nxt = redis.call('LINDEX', KEYS[9], 0)
        queue = KEYS[9]
    end

    if not nxt then
        -- the policies' turn, when tasks ran since they last looked (they
        -- did at the Inform), unless this call carries their outcome
        local rounds = tonumber(redis.call('HGET', KEYS[1], 'rounds')) or 0
        if worked and plan == '' and rounds < (tonumber(ARGV[P]) or 0) then
            if ARGV[P + 4] == '-' then
                -- the wanted names were left out: asked for; the call
                -- again goes on from here
                redis.call('HSET', KEYS[1], 'wanting', 1)
                return {WANT_NAMES, ''}
            end

            -- when the policies want nothing, nginx ends the session without
            -- another call: it expires soon, and an Inform may replace it
            redis.call('HSET', KEYS[1], 'turn', 'policies', 'rpc_id', ARGV[3],
                       'rounds', rounds + 1, 'active', ARGV[9])
            redis.call('HDEL', KEYS[1], 'task', 'recheck', 'pending',
                       'resent')
            redis.call('PEXPIRE', KEYS[1],
                       math.min(tonumber(ARGV[4]) or 10000, 10000))

            local values, campaigns, objects =
                policy_inputs(KEYS[3], P + 4, KEYS[11])

            return {EVALUATE, '', s[4] or '', '{}',
                    redis.call('HMGET', KEYS[8], DEVICE_FIELDS),
                    values, redis.call('SMEMBERS', KEYS[10]),
                    policy_state(KEYS[11], KEYS[14]), campaigns, objects}
        end

        session_end()
        return {TASK, '', ''}
    end

    local t = decode(nxt)
    local bad = queue == KEYS[2] and bad_arguments(t)
    local out

    if not bad then
        out, bad = wire(nxt, t)
    end

    if bad and queue == KEYS[9] then
        -- a policy's: its fault, backed off
        redis.call('LREM', KEYS[9], 1, nxt)
        policy_fault(t.policy, {error = 'invalid arguments', detail = bad},
                     t.rules)

    elseif bad then
        -- a fault at once, and on to the next task
        dequeue(nxt, KEYS[2])
        record(KEYS[6], ARGV[5], task_id(nxt, t), t.name, 'fault',
               cjson.encode({error = 'invalid arguments', detail = bad}),
               ARGV[9])

    else

        -- how many sessions this task was handed out in: a queued one's in
        -- :tries (while it is at the head), a policy's per policy and method
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

        elseif type(t.policy) == 'string' then
            tries = redis.call('HINCRBY', KEYS[11],
                               'attempts:' .. t.policy .. ':' .. t.name, 1)
        end

        if tries <= MAX_TRIES then
            redis.call('HSET', KEYS[1], 'turn', 'acs', 'rpc_id', ARGV[3],
                       'task', nxt, 'conn', ARGV[11], 'active', ARGV[9])
            redis.call('HDEL', KEYS[1], 'pending', 'resent', 'merged')
            redis.call('PEXPIRE', KEYS[1], ARGV[4])

            -- a task with an effect: pending from now, never handed out again
            if effectful(t.name) then
                local key = command_key(nxt, t)
                redis.call('LREM', queue, 1, nxt)
                redis.call('HSET', KEYS[7], key,
                           cjson.encode({task = nxt, since = now,
                                         state = 'sent',
                                         limit = tonumber(t.timeout)
                                                 or tonumber(ARGV[12])}))
                redis.call('HSET', KEYS[1], 'pending', key)
                if type(t.policy) == 'string' then
                    redis.call('HSET', KEYS[11], 'waiting:' .. t.policy, key)
                end
            end

            -- the GPVs (SPVs) behind it in the queue, in the same request
            local others = (queue == KEYS[2] and at_head)
                           and merge_partners(t) or {}
            if #others > 0 then
                out, t = merged_wire(nxt, t, others)
                redis.call('HSET', KEYS[1], 'merged', cjson.encode(others))
            end

            -- the cached types of a setParameterValues' untyped values
            local types = '{}'

            -- credentials about to be set on the device are good from now:
            -- an answer lost on the way must not lock it out
            if type(t.acs_auth) == 'table'
               and type(t.acs_auth.password) == 'string'
            then
                redis.call('HSET', KEYS[13], 'next_password',
                           t.acs_auth.password)
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

            return {TASK, out, s[4], types, ARGV[3]}
        end

        if queue == KEYS[2] then
            dequeue(nxt, KEYS[2])
            record(KEYS[6], ARGV[5], task_id(nxt, t), t.name, 'fault',
                   cjson.encode({error = 'abandoned',
                                 detail = 'no answer from the CPE in '
                                          .. MAX_TRIES .. ' sessions'}),
                   ARGV[9], t)
        else
            redis.call('LREM', KEYS[9], 1, nxt)
            redis.call('HDEL', KEYS[11],
                       'attempts:' .. t.policy .. ':' .. t.name)
            policy_fault(t.policy, {error = 'abandoned',
                                    detail = 'no answer from the CPE in '
                                             .. MAX_TRIES .. ' sessions'},
                         t.rules)
        end
    end
end
