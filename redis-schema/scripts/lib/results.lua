-- results: how a finished task is recorded, for every script that does.
-- Included by .ci/gen-scripts where a script says "-- include:
-- results.lua"; a CONST is written in where its name is (the module has
-- it too, under its C name).  No function here refers to another: a
-- closure's upvalues cost each call of the script.
--
-- A task's id is its "id", else the first TASK_ID_LEN hex digits of the
-- SHA1 of its text (nginx derives the same one for a CommandKey).
--
-- What a device's script says to the shared keys (a result, a CPE request,
-- the index entry, a campaign's step) goes into the device's outbox, a
-- stream on the device's own slot, as an entry whose "k" names the kind:
-- nginx relays it to cwmp:results:{<shard>}, cwmp:requests:{<shard>},
-- cwmp:devices:{<shard>} (shard_append.lua) or cwmp:campaign:{<policy>}
-- (campaign.lua), once, and deletes it (ngx_http_cwmp_store_relay.c).  A
-- script never writes a key of another slot.  The shared streams are
-- capped at about STREAM_MAXLEN entries altogether (XADD MAXLEN ~, a
-- SHARDS-th in each).
--
-- CONST STREAM_MAXLEN '1000000'  C: NGX_HTTP_CWMP_STREAM_MAXLEN
-- CONST TASK_ID_LEN 16  C: NGX_HTTP_CWMP_TASK_ID_LEN
-- CONST STATUS_MAX 256
-- CONST REPLY_NAME_MAX 128  C: NGX_HTTP_CWMP_REPLY_NAME_MAX
-- CONST REPLY_TTL 300

-- a task document, decoded; {} when it is not a JSON object; name a string
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

local function task_id(task, t)
    local id = t.id
    if type(id) ~= 'string' or id == '' then
        id = string.sub(redis.sha1hex(task), 1, TASK_ID_LEN)
    end
    return id
end

-- an entry of the outbox: XADD <outbox> * k <kind> <field value ...>
local function xadd(outbox, kind, ...)
    return redis.call('XADD', outbox, '*', 'k', kind, ...)
end

-- a task's result: device, task (its id), name, status, result, time, in
-- the outbox; and, on the device's own slot, its status record in the
-- device's :status hash (task id -> {"status", "name", "time", "result"},
-- kept STATUS_TTL seconds: the script including this defines STATUS_TTL),
-- and, for a task t naming a reply key of the device's own ("replyTo":
-- "<device key>:reply:<name>"), the same record pushed there for a client
-- blocked on BLPOP.  The device's key is the outbox's, less ":outbox".
local function record(outbox, device, id, name, status, result, now, t)
    local base = string.sub(outbox, 1, -8)
    local status_key = base .. ':status'
    local entry = '{"task":' .. cjson.encode(id) .. ',"name":'
                  .. cjson.encode(name) .. ',"status":"' .. status
                  .. '","time":' .. now .. ',"result":'
                  .. (result ~= '' and result or '{}') .. '}'

    redis.call('HSET', status_key, id, entry)
    if redis.call('HLEN', status_key) > STATUS_MAX then
        -- the oldest records go, a quarter at a time: bounded, and rare
        local all = redis.call('HGETALL', status_key)
        local byage = {}
        for k = 1, #all, 2 do
            local ok, r = pcall(cjson.decode, all[k + 1])
            byage[#byage + 1] = {ok and type(r) == 'table'
                                 and tonumber(r.time) or 0, all[k]}
        end
        table.sort(byage, function(a, b) return a[1] < b[1] end)
        for k = 1, math.floor(#byage / 4) do
            redis.call('HDEL', status_key, byage[k][2])
        end
    end
    redis.call('EXPIRE', status_key, STATUS_TTL)

    if t and type(t.replyTo) == 'string'
       and string.sub(t.replyTo, 1, #base + 7) == base .. ':reply:'
       and #t.replyTo > #base + 7 and #t.replyTo <= #base + 7 + REPLY_NAME_MAX
    then
        redis.call('RPUSH', t.replyTo, '{"device":' .. cjson.encode(device)
                   .. ',' .. string.sub(entry, 2))
        redis.call('EXPIRE', t.replyTo, math.max(1, math.min(
            tonumber(t.replyTtl) or REPLY_TTL, 86400)))
    end

    -- a bulk job's task: its job counts it (bulk_step.lua, relayed)
    if t and type(t.bulk) == 'string' and t.bulk ~= '' then
        redis.call('XADD', outbox, '*', 'k', 'bulk', 'job', t.bulk,
                   'status', status)
    end

    return redis.call('XADD', outbox, '*', 'k', 'results',
                      'device', device, 'task', id, 'name', name,
                      'status', status, 'result', result, 'time', now)
end

-- the task of an entry of the pending hash ({"task": ..., "since": ...,
-- "answer": ...}), or nil
local function pending_task(entry)
    local ok, p = pcall(cjson.decode, entry or '')
    if ok and type(p) == 'table' and type(p.task) == 'string' then
        return p.task
    end
end
