-- results: how a finished task is recorded, written once for every
-- script.  Included by .ci/gen-scripts where a script says
-- "-- include: results.lua"; the "C:" constants are the module's too.
--
-- A task's id is its "id", else the first TASK_ID_LEN hex digits of the
-- SHA1 of its text (nginx derives the same one for a CommandKey).  Streams
-- are capped at about STREAM_MAXLEN entries (XADD MAXLEN ~).
local STREAM_MAXLEN = '1000000'  -- C: NGX_HTTP_CWMP_STREAM_MAXLEN
local TASK_ID_LEN = 16  -- C: NGX_HTTP_CWMP_TASK_ID_LEN

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

-- XADD <stream> MAXLEN ~ STREAM_MAXLEN * <field value ...>
local function xadd(stream, ...)
    return redis.call('XADD', stream, 'MAXLEN', '~', STREAM_MAXLEN, '*', ...)
end

-- a task's result: device, task (its id), name, status, result, time
local function record(stream, device, task, t, status, result, now)
    xadd(stream, 'device', device, 'task', task_id(task, t),
         'name', t.name, 'status', status, 'result', result, 'time', now)
end

-- the result of a task waiting in the pending hash ({"task": ..., "since":
-- ..., "answer": ...}); false when the entry holds no task
local function record_pending(stream, device, entry, status, result, now)
    local ok, p = pcall(cjson.decode, entry or '')
    if not ok or type(p) ~= 'table' or type(p.task) ~= 'string' then
        return false
    end
    local t = decode(p.task)
    record(stream, device, p.task, t, status, result, now)
    return t
end
