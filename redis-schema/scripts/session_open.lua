-- session_open: an Inform.  Stores what the device reported and opens its
-- session, unless another session of the device is in progress.
--
-- KEYS[1]  cwmp:device:{<ID>}            the summary
-- KEYS[2]  cwmp:device:{<ID>}:params
-- KEYS[3]  cwmp:device:{<ID>}:types
-- KEYS[4]  cwmp:device:{<ID>}:session
-- KEYS[5]  cwmp:device:{<ID>}:events
-- KEYS[6]  cwmp:device:{<ID>}:outbox      results and events, for nginx
--          to relay (results.lua)
-- KEYS[7]  cwmp:device:{<ID>}:pending     tasks the CPE has yet to finish
-- KEYS[8]  cwmp:device:{<ID>}:policy      the policies' state
-- KEYS[9]  cwmp:device:{<ID>}:tags
-- KEYS[10] cwmp:device:{<ID>}:plan        the last session's plan
-- KEYS[11] cwmp:device:{<ID>}:tasks       the queue (a task back in it)
-- KEYS[12] cwmp:device:{<ID>}:absent      parameters the device lacks
-- KEYS[13] cwmp:device:{<ID>}:late        pending tasks out of time
-- KEYS[14] cwmp:device:{<ID>}:indexed     what the value indexes hold of
--          the device (index.lua)
-- UNDECLARED  cwmp:device:{<ID>}:status  task status records (results.lua),
--          derived from the outbox's name: the device's slot
-- UNDECLARED  cwmp:device:{<ID>}:reply:<name>  a task's replyTo, checked
--          to be the device's own (results.lua)
-- UNDECLARED  cwmp:device:{<ID>}:uploads  the file an upload to the ACS
--          stored, taken into its result (pending.lua), derived likewise
-- ARGV[1]  the new session's token
-- ARGV[2]  the token the CPE still holds (its cookie, or its connection's),
--          "" when none: that session is its own and may be replaced
-- ARGV[3]  the session timeout, ms
-- ARGV[4]  the unix time
-- ARGV[5]  the CWMP version ("1.0" ... "1.4")
-- ARGV[6]  the address the Inform came from
-- ARGV[7]  the device ID
-- ARGV[8]  the CPE's CWMP namespace (ACS requests use it)
-- ARGV[9]  seconds without an exchange after which the device's session
--          is abandoned (a new Inform takes it over)
-- ARGV[10] the default time limit of a pending task, seconds
-- ARGV[11] the Inform's digest: of the summary's fields that stay from one
--          Inform to the next (all but last_inform, remote_addr,
--          last_events, last_boot, last_bootstrap) and of its parameters
--          with their types; kept as the summary's inform_digest
-- ARGV[12] "1" when those fields, the parameters and their types are left
--          out, the Inform being a steady one (no BOOT, BOOTSTRAP or
--          VALUE CHANGE): the summary's inform_digest says whether the
--          device's stored ones are the same.  "0": all of them follow
-- ARGV[13] n, then n (field, value) pairs for the summary
-- then     n, then n (parameter, value) pairs
-- then     n, then n (parameter, type) pairs (types other than xsd:string)
-- then     n, then n (event code, CommandKey) pairs
-- then     "1" when policies are in force, "2" when they also read tags
--          ("0" otherwise), m, then the m cached parameters the policies
--          read, c, then the c campaigns (each its name, why it is paused
--          or "", its devices in progress: as nginx last read them), o,
--          then the o objects whose instances they count
-- then     the fleet's tail (fleet.lua)
--
-- ANSWER[1]  OPEN  the session is open: {OPEN, time, until}, the device
--          index entry for nginx to write before it answers the Inform
--          (cwmp:devices:{<shard>} scored by time, cwmp:online:{<shard>}
--          by until); with policies, {OPEN, time, until, wanted values,
--          tags, policy state (flat), campaigns (paused, in_progress, this
--          device's state), objects (per object, its cached
--          <object><n>.<leaf> names and values)}: nginx evaluates them at
--          once
-- ANSWER[0]  BUSY  another session is in progress (nothing is stored: the
--          CPE will send its Inform again)
-- ANSWER[2]  AGAIN  the fields and parameters were left out (ARGV[12]) and
--          the summary's inform_digest is not ARGV[11]: another Inform's
--          are stored, or a task wrote the cache since.  Nothing is
--          stored: nginx sends the Inform again, whole
--
-- A device is in one session at a time: an Inform is refused while
-- another session of the device is in progress, unless the CPE holds it
-- (its cookie, its connection), the Inform says the device booted ("1
-- BOOT", "0 BOOTSTRAP": whatever session it had is gone), or the session
-- has seen no exchange for ARGV[9] seconds: then it is taken over (the
-- task it had in flight has had its try).
--
-- "0 BOOTSTRAP" drops the parameter cache, the policies' state and the
-- absent parameters first; a new SoftwareVersion drops the absent
-- parameters.  The last session's plan is dropped: the policies plan
-- again.  "6 CONNECTION REQUEST" is recorded in cwmp:results
-- (connectionRequest, status "session").
--
-- Pending tasks (pending.lua): "M Reboot" with its CommandKey finishes
-- one, and so does "1 BOOT" one the CPE answered (it booted since: a CPE
-- given two Reboots in a session reports only one), "0 BOOTSTRAP" a
-- factory reset, and "M ScheduleInform" a
-- scheduleInform whose answer was lost (at the head of the queue).  A
-- reboot or a factory reset handed out with no answer that the next
-- Inform does not report never took effect (a CPE that acted on it says
-- so: "M Reboot", "0 BOOTSTRAP"): a queued one goes back to the head of
-- the queue (its tries counted), a policy's is planned again.  One no report finished within its limit gets a fault
-- result ("unfinished") and moves to the late hash for 7 days, where a
-- late report still finds it.

local cur = redis.call('HMGET', KEYS[4], 'token', 'turn', 'active', 'ran')

local now = ARGV[4]
local same = ARGV[12] == '1'
local i = 13
local PARAMS_AT = i + 2 * tonumber(ARGV[i]) + 1

-- the events, as a set, and what the "M" events report ("M Reboot\n<key>")
local e = i
e = e + 2 * tonumber(ARGV[e]) + 1
e = e + 2 * tonumber(ARGV[e]) + 1
e = e + 2 * tonumber(ARGV[e]) + 1
local events, reported = {}, {}
for k = 1, tonumber(ARGV[e]) do
    events[ARGV[e + 2 * k - 1]] = true
    reported[ARGV[e + 2 * k - 1] .. '\n' .. ARGV[e + 2 * k]] = true
end
local booted = events['1 BOOT'] or events['0 BOOTSTRAP']

-- a session whose policies wanted nothing is over, whatever its key says;
-- one idle for ARGV[9] seconds, or of a device that booted, is abandoned
if cur[1] and cur[1] ~= ARGV[2] and cur[2] ~= 'policies' and not booted
   and (tonumber(cur[3]) or tonumber(now)) + tonumber(ARGV[9])
       > tonumber(now)
then
    return BUSY
end

-- include: fleet.lua
-- include: results.lua
-- include: pending.lua
-- include: index.lua

-- HSET the n pairs at ARGV[i], and the extra ones: a few hundred at a
-- time (unpack's limit)
local function pairs_at(key, extra)
    local n = tonumber(ARGV[i])
    local args = {}
    for k = 1, 2 * n do
        args[#args + 1] = ARGV[i + k]
        if #args == 512 then
            redis.call('HSET', key, unpack(args))
            args = {}
        end
    end
    for _, v in ipairs(extra or {}) do
        args[#args + 1] = v
    end
    if #args > 0 then
        redis.call('HSET', key, unpack(args))
    end
    i = i + 2 * n + 1
end

-- 0 BOOTSTRAP: a device reset or swapped; what was cached of it is gone,
-- and the policies re-establish its service from scratch (its place in
-- the campaigns stays: their counters count it once)
if events['0 BOOTSTRAP'] then
    local kept = {}
    local state = redis.call('HGETALL', KEYS[8])
    for k = 1, #state, 2 do
        if string.sub(state[k], 1, 9) == 'campaign:' then
            kept[#kept + 1] = state[k]
            kept[#kept + 1] = state[k + 1]
        end
    end
    redis.call('DEL', KEYS[2], KEYS[3], KEYS[8], KEYS[12])
    if #kept > 0 then
        redis.call('HSET', KEYS[8], unpack(kept))
    end
end

-- where the policies' arguments start
local P = e + 2 * tonumber(ARGV[e]) + 1

-- the summary before this Inform: its software (a new one may have the
-- parameters the old one lacked), the last session's start (set at its
-- Inform, gone at its end), when the indexes were last told, the indexed
-- fields.  A steady Inform left out what the summary already has, which
-- its digest vouches for (and the data model's root is read)
local prev, software
if same then
    prev = redis.call('HMGET', KEYS[1], 'inform_digest', 'session_since',
                      'indexed_at', 'data_model')
    if prev[1] ~= ARGV[11] then
        return AGAIN
    end
else
    prev = redis.call('HMGET', KEYS[1], 'software_version', 'session_since',
                      'indexed_at', unpack(INDEX_FIELDS))
    software = prev[1]
end

-- the summary's fields, for the indexes; the data model's root
local summary = {}
for k = 1, tonumber(ARGV[i]) do
    summary[ARGV[i + 2 * k - 1]] = ARGV[i + 2 * k]
end
local root = summary.data_model or (same and prev[4]) or nil

-- the last session, when it did not end (the ACS ends a session with its
-- last exchange): replaced now, or gone without its end
if ENDS and prev[2] then
    local active = cur[1] and tonumber(cur[3]) or nil
    emit(KEYS[6], 'session_ended', ARGV[7], now,
         'outcome', cur[1] and (cur[2] == 'policies' and 'ok' or 'abandoned')
                    or 'timed_out',
         'tasks', cur[1] and (cur[4] or '0') or '',
         'duration', tostring((active or tonumber(now)) - tonumber(prev[2])))
end

-- (a device whose digest is stored has its first Inform's time)
local registered = not same
    and redis.call('HSETNX', KEYS[1], 'first_inform', now) == 1

-- a value change: what the Inform reports that the cache had otherwise
local changed
if events['4 VALUE CHANGE'] and string.find(EMITTED, ',value_change,', 1, true)
then
    local n = tonumber(ARGV[i + 2 * tonumber(ARGV[i]) + 1])
    local at = i + 2 * tonumber(ARGV[i]) + 1
    local names = {}
    for k = 1, n do
        names[k] = ARGV[at + 2 * k - 1]
    end
    local old = n > 0 and redis.call('HMGET', KEYS[2], unpack(names)) or {}
    changed = {}
    local count = 0
    for k = 1, n do
        local name, v = names[k], ARGV[at + 2 * k]
        if old[k] ~= v and count < EVENT_PARAMS_MAX
           and not secret_name(name)
        then
            changed[name] = string.sub(v, 1, EVENT_VALUE_MAX)
            count = count + 1
        end
    end
end

pairs_at(KEYS[1], ENDS and {'session_since', now} or nil)
pairs_at(KEYS[2])
pairs_at(KEYS[3])

if software and summary.software_version
   and software ~= summary.software_version
then
    redis.call('DEL', KEYS[12])
end

for code in pairs(events) do
    redis.call('HSET', KEYS[5], code, now)
end

if events['6 CONNECTION REQUEST'] then
    -- the session a connection request asked for
    xadd(KEYS[6], 'results', 'device', ARGV[7], 'task', 'connreq:session',
         'name', 'connectionRequest', 'status', 'session',
         'result', '{}', 'time', now)
end

-- the pending tasks: reported, never received, or out of time
for _, key in ipairs(redis.call('HKEYS', KEYS[7])) do
    local p = pending_entry(redis.call('HGET', KEYS[7], key))
    local t = p and decode(p.task)
    local late = p and (tonumber(p.since) or 0)
                       + (tonumber(p.limit) or tonumber(ARGV[10]))
                       < tonumber(now)

    if not p then
        redis.call('HDEL', KEYS[7], key)

    elseif (t.name == 'reboot'
            and (reported['M Reboot\n' .. key]
                 or (p.state ~= 'sent' and events['1 BOOT'] and not late)))
           or (t.name == 'factoryReset' and events['0 BOOTSTRAP'])
    then
        finish(KEYS[7], KEYS[6], KEYS[8], ARGV[7], key, p, 'done', '{}', now)

    elseif p.state == 'sent'
           and (t.name == 'reboot' or t.name == 'factoryReset')
    then
        -- handed out, not answered, and this Inform does not report it:
        -- the CPE never acted on it (one that did would say so)
        redis.call('HDEL', KEYS[7], key)
        if type(t.policy) == 'string' then
            redis.call('HDEL', KEYS[8], 'waiting:' .. t.policy)
        else
            redis.call('LPUSH', KEYS[11], p.task)
        end

    elseif diagnostics(t.name) and events['8 DIAGNOSTICS COMPLETE'] then
        -- the CPE ran it: its object is read first in this session, and
        -- the values finish it (session_step.lua)
        local object = diagnostics_object(t.name, root
            or redis.call('HGET', KEYS[1], 'data_model'))
        local read = cjson.encode({id = string.sub(key, 1, 24) .. ':result',
                                   name = 'getParameterValues',
                                   parameterNames = {object},
                                   internal = 'diagnostics', ['for'] = key})
        redis.call('LREM', KEYS[11], 0, read)
        redis.call('LPUSH', KEYS[11], read)

    elseif late then
        record(KEYS[6], ARGV[7], task_id(p.task, t), t.name, 'fault',
               cjson.encode({error = 'unfinished',
                   detail = 'the CPE did not report it done within '
                            .. (tonumber(p.limit) or tonumber(ARGV[10]))
                            .. ' s'}), now, t)
        p.state = 'expired'
        redis.call('HDEL', KEYS[7], key)
        redis.call('HSET', KEYS[13], key, cjson.encode(p))
        redis.call('PEXPIRE', KEYS[13], 604800000)
        if type(t.policy) == 'string' then
            redis.call('HDEL', KEYS[8], 'waiting:' .. t.policy)
        end
    end
end

-- a late M Reboot
for _, key in ipairs(redis.call('HKEYS', KEYS[13])) do
    if reported['M Reboot\n' .. key] then
        local p = pending_entry(redis.call('HGET', KEYS[13], key))
        if p then
            finish(KEYS[13], KEYS[6], KEYS[8], ARGV[7], key, p, 'done', '{}',
                   now)
        end
    end
end

-- M ScheduleInform: the scheduleInform it names is done, its answer lost
-- (it is still at the head of the queue)
local head = redis.call('LINDEX', KEYS[11], 0)
if head and string.find(head, 'scheduleInform', 1, true) then
    local t = decode(head)
    if t.name == 'scheduleInform'
       and reported['M ScheduleInform\n' .. command_key(head, t)]
    then
        redis.call('LPOP', KEYS[11])
        record(KEYS[6], ARGV[7], task_id(head, t), t.name, 'done', '{}', now,
               t)
    end
end

redis.call('DEL', KEYS[4], KEYS[10])
redis.call('HSET', KEYS[4], 'token', ARGV[1], 'cwmp_version', ARGV[5],
           'ns', ARGV[8], 'remote_addr', ARGV[6], 'created', now,
           'active', now, 'turn', 'cpe')
redis.call('PEXPIRE', KEYS[4], ARGV[3])

-- what happened, for the event stream
if registered then
    emit(KEYS[6], 'registered', ARGV[7], now,
         'oui', summary.oui or '',
         'product_class', summary.product_class or '',
         'serial_number', summary.serial_number or '')
end
emit(KEYS[6], 'session_opened', ARGV[7], now,
     'events', summary.last_events or '', 'remote_addr', ARGV[6])
if events['0 BOOTSTRAP'] then
    emit(KEYS[6], 'bootstrap', ARGV[7], now)
end
if events['1 BOOT'] then
    emit(KEYS[6], 'boot', ARGV[7], now)
end
if changed and next(changed) then
    emit(KEYS[6], 'value_change', ARGV[7], now,
         'params', cjson.encode(changed))
end
if events['8 DIAGNOSTICS COMPLETE'] then
    emit(KEYS[6], 'diagnostics_complete', ARGV[7], now)
end

-- the value indexes: the summary's, the indexed parameters the Inform
-- carries, the tags.  Told when a value differs from the summary's, when
-- the Inform carries an operator's indexed parameter, at a boot (every
-- entry again, the tags read: a lost entry is repaired) and when they
-- never were (a device from before the indexes)
local want = {}
local sync = booted or not prev[3]
for k, name in ipairs(INDEX_FIELDS) do
    if summary[name] then
        want[name] = summary[name]
        sync = sync or summary[name] ~= prev[3 + k]
    end
end
local pn = tonumber(ARGV[PARAMS_AT])
for k = 1, pn do
    local path, v = ARGV[PARAMS_AT + 2 * k - 1], ARGV[PARAMS_AT + 2 * k]
    local name = INDEXED[path]
    if name then
        want[name] = v
        sync = true
    end
    -- what the device says it supports (forced Inform parameters)
    if path == 'InternetGatewayDevice.DeviceSummary' then
        name = 'device_summary'
    elseif path == 'Device.RootDataModelVersion' then
        name = 'root_data_model_version'
    else
        name = nil
    end
    -- (their places in INDEX_FIELDS, after the 3 other fields of prev)
    if name and v ~= prev[name == 'device_summary' and 11 or 12] then
        redis.call('HSET', KEYS[1], name, v)
        want[name] = v
        sync = true
    end
end
local held = not same and index_held(prev, 4) or nil
if INDEXING and sync then
    local all = booted or not prev[3]
    index_sync(KEYS[14], KEYS[6], ARGV[7], want,
               all and {tag = redis.call('SMEMBERS', KEYS[9])} or {},
               all, held)
    redis.call('HSET', KEYS[1], 'indexed_at', now)
elseif not INDEXING and held then
    -- the indexes off: what they hold stays noted where the summary moves
    -- on, and the first Inform indexed again writes every entry
    local moved = false
    for name, v in pairs(want) do
        if held[name] and held[name] ~= v then
            redis.call('HSETNX', KEYS[14], name, held[name])
            moved = true
        end
    end
    if moved and prev[3] then
        redis.call('HDEL', KEYS[1], 'indexed_at')
    end
end

-- cwmp_supported_data_model: <root>.DeviceInfo.SupportedDataModel. read
-- once after the first Inform, a 0 BOOTSTRAP or a new SoftwareVersion
-- (a task at the end of the queue; session_step.lua records what it finds)
if READ_SUPPORTED then
    local now_sw = redis.call('HGET', KEYS[1], 'software_version') or ''
    local read = redis.call('HGET', KEYS[1], 'supported_data_model_read')
    root = root or redis.call('HGET', KEYS[1], 'data_model')
    if root and (read ~= now_sw or events['0 BOOTSTRAP']) then
        redis.call('HSET', KEYS[1], 'supported_data_model_read', now_sw)
        redis.call('RPUSH', KEYS[11], cjson.encode({
            id = 'cwmp:supported_data_model', name = 'getParameterValues',
            parameterNames = {root .. '.DeviceInfo.SupportedDataModel.'},
            internal = 'supported_data_model'}))
    end
end

flush_events(KEYS[6])

-- the device index and "online" (cwmp:devices:{<shard>},
-- cwmp:online:{<shard>}), in the answer: online until its periodic
-- interval and the margin have passed.  Not through the outbox (a stream
-- made and deleted every session: a third of the session's Redis work);
-- nginx writes it before the CPE hears the Inform answered, or parks it in
-- the outbox (ngx_http_cwmp_store_relay.c)
local interval = tonumber(redis.call('HGET', KEYS[2],
    (root or redis.call('HGET', KEYS[1], 'data_model')
     or 'InternetGatewayDevice')
    .. '.ManagementServer.PeriodicInformInterval'))
if not interval or interval <= 0 then
    interval = ONLINE_INTERVAL
end
local online = tostring(tonumber(now) + interval + ONLINE_MARGIN)

if ARGV[P] ~= '1' and ARGV[P] ~= '2' then
    return {OPEN, now, online}
end

-- what the policies read: the wanted cached values, campaigns, objects;
-- tags and state
-- include: instances.lua
-- include: policy_inputs.lua
-- include: policy_state.lua
local values, campaigns, objects = policy_inputs(KEYS[2], P + 1, KEYS[8])

return {OPEN, now, online, values,
        ARGV[P] == '2' and redis.call('SMEMBERS', KEYS[9]) or {},
        policy_state(KEYS[8], KEYS[12]), campaigns, objects}
