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

-- a task's result: device, task (its id), name, status, result, time
local function record(outbox, device, id, name, status, result, now)
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
