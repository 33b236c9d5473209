-- bulk_step: a bulk job's state, on the job's slot: the fan-out's batches
-- claimed and advanced by one worker at a time (a lease), the results of
-- its devices' tasks counted (relayed from their outboxes, each once), its
-- completion.  Written by ngx_http_cwmp_store_bulk.c; other systems write
-- the job's definition (task, selector, rate, connreq) and its state
-- (paused, running, cancelled).
--
-- KEYS[1]  cwmp:bulk:{<job>}             the job: what other systems wrote,
--          and state, error, cursor, targeted, queued, done, fault,
--          cancelled, created, finished, lease
-- KEYS[2]  cwmp:bulk:{<job>}:devices     the devices of a "list" selector
-- KEYS[3]  cwmp:bulk:{<job>}:relayed     ids of the results counted, with
--          the time (the last hour's)
-- ARGV[1]  what: "claim", "advance", "count", "fail", "reported",
--          "cancelled"
-- ARGV[2]  the unix time
-- claim:    ARGV[3] the worker ("<host>:<pid>"), ARGV[4] the batch's size
-- advance:  ARGV[3] the worker, ARGV[4] the cursor reached, ARGV[5] the
--           devices tried, ARGV[6] those that got the task, ARGV[7] "1"
--           when the selector has no more devices
-- count:    ARGV[3] n, then n (id "<device>/<entry id>/<crc32>", status)
-- fail:     ARGV[3] why (the job stops in state "error")
-- cancelled: ARGV[3] the worker, ARGV[4] the cursor the cancel reached,
--           ARGV[5] the tasks it cancelled, ARGV[6] "1" when it reached
--           the fan-out's cursor
--
-- ANSWER[1]  GO  claim: {GO, kind ("index", "list"), index key
--          ("<name>:<value>", for "index"), cursor, n, the task as each
--          device gets it (JSON, with "id" and "bulk"), connreq ("1" or
--          "0"), the task's id, then for "list" the batch's devices}
-- ANSWER[2]  WAIT  not now: paused, another worker's batch, the rate
-- ANSWER[3]  STOPPED  {STOPPED, state}: cancelled, done or in error (the
--          error recorded): off the registry
-- ANSWER[4]  COMPLETE  {COMPLETE, targeted, queued, done, fault,
--          cancelled}: every device's task finished, not reported yet on
--          the event stream
-- ANSWER[5]  CONTINUE  advance: more to claim now
-- ANSWER[6]  CANCEL  claim of a cancelled job: {CANCEL, kind, index key,
--          the cancel's cursor, n, "", "0", the task's id, the fan-out's
--          cursor, then for "list" the batch's devices}: the devices that
--          got the task, to cancel it on (FCALL cwmp_cancel)
-- ANSWER[0]  LOST  advance: the lease is another worker's (this batch's
--          pushes stand: a device gets a job's task once)
--
-- CONST BULK_LEASE 30
-- CONST BULK_FAULT_STOP 20
-- CONST BULK_LIST_MAX 100000

local job = KEYS[1]
local what, now = ARGV[1], tonumber(ARGV[2])

local function stop(state, err)
    redis.call('HSET', job, 'state', state, 'finished', now)
    if err then
        redis.call('HSET', job, 'error', err)
    end
    return {STOPPED, state}
end

-- the job is done when the fan-out is over and every task finished
local function complete()
    local c = redis.call('HMGET', job, 'fanned_out', 'queued', 'done',
                         'fault', 'cancelled', 'state')
    local finished = (tonumber(c[3]) or 0) + (tonumber(c[4]) or 0)
                     + (tonumber(c[5]) or 0)
    if c[1] == '1' and finished >= (tonumber(c[2]) or 0)
       and (c[6] == 'running' or c[6] == 'paused')
    then
        redis.call('HSET', job, 'state', 'done', 'finished', now)
        return true
    end
end

if what == 'count' then
    local new = 0
    for k = 0, tonumber(ARGV[3]) - 1 do
        local id, status = ARGV[4 + 2 * k], ARGV[5 + 2 * k]
        if not redis.call('ZSCORE', KEYS[3], id) then
            redis.call('ZADD', KEYS[3], now, id)
            new = new + 1
            local field = (status == 'done' and 'done')
                          or (status == 'cancelled' and 'cancelled')
                          or 'fault'
            redis.call('HINCRBY', job, field, 1)
        end
    end
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 3600)

    -- a task that faults everywhere: paused before it faults the fleet
    local c = redis.call('HMGET', job, 'done', 'fault', 'state')
    if c[3] == 'running' and (tonumber(c[1]) or 0) == 0
       and (tonumber(c[2]) or 0) >= BULK_FAULT_STOP
    then
        redis.call('HSET', job, 'state', 'paused', 'paused_reason',
                   'the first ' .. BULK_FAULT_STOP .. ' results were all '
                   .. 'faults')
    end
    complete()
    return new
end

if what == 'fail' then
    return stop('error', ARGV[3])
end

if what == 'cancelled' then
    if redis.call('HGET', job, 'lease') ~= ARGV[3] then
        return {LOST}
    end
    redis.call('HSET', job, 'cancel_cursor', ARGV[4])
    redis.call('HINCRBY', job, 'cancel_sent', ARGV[5])
    redis.call('HDEL', job, 'lease')
    if ARGV[6] == '1' then
        redis.call('HSET', job, 'cancel_done', 1, 'finished', now)
        return {WAIT}
    end
    return {CONTINUE}
end

if what == 'reported' then
    redis.call('HSET', job, 'reported', 1)
    for _, k in ipairs(KEYS) do
        redis.call('EXPIRE', k, 604800)
    end
    return {STOPPED, 'done'}
end

local state = redis.call('HGET', job, 'state')

if what == 'advance' then
    if redis.call('HGET', job, 'lease') ~= ARGV[3] then
        return {LOST}
    end
    redis.call('HSET', job, 'cursor', ARGV[4])
    redis.call('HINCRBY', job, 'targeted', ARGV[5])
    redis.call('HINCRBY', job, 'queued', ARGV[6])
    redis.call('HDEL', job, 'lease')
    if ARGV[7] == '1' then
        redis.call('HSET', job, 'fanned_out', 1, 'fanned_out_at', now)
    end
    if complete() then
        return {COMPLETE}
    end
    return {ARGV[7] == '1' and WAIT or CONTINUE}
end

-- claim

if state == 'done' then
    if redis.call('HGET', job, 'reported') ~= '1' then
        local c = redis.call('HMGET', job, 'targeted', 'queued', 'done',
                             'fault', 'cancelled')
        return {COMPLETE, c[1] or '0', c[2] or '0', c[3] or '0',
                c[4] or '0', c[5] or '0'}
    end
    return {STOPPED, state}
end

if state == 'error'
   or (state == 'cancelled'
       and (redis.call('HGET', job, 'cancel_done') == '1'
            or not redis.call('HGET', job, 'kind')))
then
    return {STOPPED, state}
end

if state == 'cancelled' then
    -- the devices the fan-out reached, from the start again: their queued
    -- task cancelled (the lease and the batch size as for the fan-out)
    if redis.call('HGET', job, 'lease')
       and (tonumber(redis.call('HGET', job, 'lease_until')) or 0) > now
    then
        return {WAIT}
    end
    redis.call('HSET', job, 'lease', ARGV[3], 'lease_until',
               now + BULK_LEASE)
    local c = redis.call('HMGET', job, 'kind', 'key', 'cancel_cursor',
                         'cursor', 'task')
    local ok, t = pcall(cjson.decode, c[5] or '')
    local id = ok and type(t) == 'table' and type(t.id) == 'string'
               and t.id ~= '' and t.id
               or string.match(job, ':bulk:{(.*)}$')
    local n = tonumber(ARGV[4])
    local reply = {CANCEL, c[1], c[2] or '', c[3] or '', n, '', '0', id,
                   c[4] or ''}
    if c[1] == 'list' then
        local from = tonumber(c[3]) or 0
        local to = math.min(from + n, tonumber(c[4]) or 0) - 1
        if to >= from then
            for _, d in ipairs(redis.call('LRANGE', KEYS[2], from, to)) do
                reply[#reply + 1] = d
            end
        end
    end
    return reply
end

if state == 'paused' then
    return {WAIT}
end

local def = redis.call('HMGET', job, 'task', 'selector', 'rate', 'connreq',
                       'cursor', 'lease_until', 'window', 'window_count',
                       'fanned_out')

if not redis.call('HGET', job, 'kind') then
    -- the first claim (or the first after a job created paused): the
    -- definition checked once
    local ok, t = pcall(cjson.decode, def[1] or '')
    if not ok or type(t) ~= 'table' or type(t.name) ~= 'string' then
        return stop('error', 'task: a JSON object with a "name" is needed')
    end
    local ok2, s = pcall(cjson.decode, def[2] or '')
    if not ok2 or type(s) ~= 'table' then
        return stop('error', 'selector: a JSON object is needed')
    end
    if type(s.tag) == 'string' and s.tag ~= '' then
        s = {index = 'tag', value = s.tag}
    end
    local kind
    if type(s.index) == 'string' and type(s.value) == 'string' then
        kind = 'index'
    elseif type(s.devices) == 'table' then
        if #s.devices > BULK_LIST_MAX then
            return stop('error', 'selector: at most ' .. BULK_LIST_MAX
                        .. ' devices inline; more in ' .. KEYS[2])
        end
        redis.call('DEL', KEYS[2])
        for k = 1, #s.devices, 1000 do
            redis.call('RPUSH', KEYS[2],
                       unpack(s.devices, k, math.min(k + 999, #s.devices)))
        end
        kind = 'list'
    elseif s.list == true then
        kind = 'list'
    else
        return stop('error', 'selector: one of {"tag": ...}, {"index": '
                    .. '<name>, "value": ...}, {"devices": [...]}, '
                    .. '{"list": true} is needed')
    end
    if def[3] and (tonumber(def[3]) or 0) <= 0 then
        return stop('error', 'rate: devices per second, a positive number')
    end
    redis.call('HSET', job, 'state', 'running', 'created', now, 'kind', kind,
               'key', kind == 'index' and s.index .. ':' .. s.value or '',
               'targeted', 0, 'queued', 0, 'done', 0, 'fault', 0,
               'cancelled', 0)
    def[5] = ''
end

if def[9] == '1' then
    -- every device has it: the results are awaited
    return {WAIT}
end

if redis.call('HGET', job, 'lease') and (tonumber(def[6]) or 0) > now then
    return {WAIT}
end

-- the rate: so many devices in each second
local n = tonumber(ARGV[4])
local rate = tonumber(def[3])
if rate then
    local used = tonumber(def[7]) == now and tonumber(def[8]) or 0
    n = math.min(n, math.floor(rate) - used)
    if n <= 0 then
        return {WAIT}
    end
    redis.call('HSET', job, 'window', now, 'window_count', used + n)
end

redis.call('HSET', job, 'lease', ARGV[3], 'lease_until', now + BULK_LEASE)

local kind, key = unpack(redis.call('HMGET', job, 'kind', 'key'))
local task = cjson.decode(def[1])
local jobname = string.match(job, ':bulk:{(.*)}$')
if type(task.id) ~= 'string' or task.id == '' then
    task.id = jobname
end
task.bulk = jobname

local reply = {GO, kind, key or '', def[5] or '', n, cjson.encode(task),
               def[4] == '1' and '1' or '0', task.id}

if kind == 'list' then
    local from = tonumber(def[5]) or 0
    for _, d in ipairs(redis.call('LRANGE', KEYS[2], from, from + n - 1)) do
        reply[#reply + 1] = d
    end
end

return reply
