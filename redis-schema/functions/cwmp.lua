#!lua name=cwmp
-- cwmp: the functions other systems call (FCALL), a Redis function
-- library nginx loads (FUNCTION LOAD REPLACE) each time a worker connects
-- to a master, beside the session scripts.  Each takes one key, the
-- device's summary key ("cwmp:device:{<ID>}", with the deployment's
-- prefix), and touches that device's keys only: one slot, so the same call
-- works on a single Redis, a Sentinel master and a Redis Cluster (where
-- the key routes it to its node).
--
--   FCALL cwmp_task   1 <device key> <task id>   its status, JSON
--   FCALL cwmp_cancel 1 <device key> <task id>   a queued task cancelled
--   FCALL cwmp_delete 1 <device key>             the device forgotten
--   FCALL cwmp_tag    1 <device key> add|remove <tag>
--
-- What a call says to the shared keys (a "cancelled" result, the indexes
-- a deleted device leaves) goes through the device's outbox, like the
-- sessions' (results.lua): nginx relays it at the device's next session,
-- at once when asked (XADD cwmp:relay * device <ID>), else when its
-- sweeper passes.  Errors are error replies that say what is wrong.

-- what results.lua records lives a day (or as long as the ACS's next
-- record says)
local STATUS_TTL = 86400

-- include: results.lua
-- include: pending.lua
-- include: index_fields.lua

local function now_of()
    return redis.call('TIME')[1]
end

-- the device ID of a device key, or an error reply
local function device_of(keys)
    local key = keys[1]
    local id = type(key) == 'string' and string.match(key, ':device:{(.+)}$')
    if not id then
        return nil, redis.error_reply('ERR the key must be a device\'s, '
                                      .. '"<prefix>device:{<ID>}" (got "'
                                      .. tostring(key) .. '")')
    end
    return id
end

-- the task with this id in the queue: its text and position, or nil
local function queued(base, id)
    local list = redis.call('LRANGE', base .. ':tasks', 0, -1)
    for k, task in ipairs(list) do
        if string.find(task, id, 1, true) or not string.find(task, '"id"') then
            local t = decode(task)
            if task_id(task, t) == id then
                return task, k - 1, t
            end
        end
    end
end

-- where a task stands: a JSON object with "task" and "status" (queued,
-- in_flight, pending, done, fault, expired, cancelled, unknown)
local function task_status(keys, args)
    local device, err = device_of(keys)
    if not device then
        return err
    end
    local id = args[1]
    if type(id) ~= 'string' or id == '' then
        return redis.error_reply('ERR usage: FCALL cwmp_task 1 '
                                 .. '<prefix>device:{<ID>} <task id>')
    end
    local base = keys[1]

    local rec = redis.call('HGET', base .. ':status', id)
    if rec then
        return rec
    end

    local flight = redis.call('HGET', base .. ':session', 'task')
    if flight then
        local t = decode(flight)
        if task_id(flight, t) == id then
            return cjson.encode({task = id, name = t.name,
                                 status = 'in_flight'})
        end
    end

    for _, where in ipairs({':pending', ':late'}) do
        local p = pending_entry(redis.call('HGET', base .. where,
                                           string.sub(id, 1, 32)))
        if p then
            local t = decode(p.task)
            if task_id(p.task, t) == id then
                return cjson.encode({task = id, name = t.name,
                                     status = 'pending',
                                     state = p.state or 'answered',
                                     since = p.since, limit = p.limit})
            end
        end
    end

    local task, position, t = queued(base, id)
    if task then
        return cjson.encode({task = id, name = t.name, status = 'queued',
                             position = position,
                             notBefore = tonumber(t.notBefore)})
    end

    return cjson.encode({task = id, status = 'unknown'})
end

-- a queued task leaves the queue with a "cancelled" result
local function cancel(keys, args)
    local device, err = device_of(keys)
    if not device then
        return err
    end
    local id = args[1]
    if type(id) ~= 'string' or id == '' then
        return redis.error_reply('ERR usage: FCALL cwmp_cancel 1 '
                                 .. '<prefix>device:{<ID>} <task id>')
    end
    local base = keys[1]

    local rec = redis.call('HGET', base .. ':status', id)
    if rec then
        local ok, r = pcall(cjson.decode, rec)
        return redis.error_reply('ERR task "' .. id .. '" has finished: '
                                 .. (ok and type(r) == 'table'
                                     and tostring(r.status) or 'unknown'))
    end

    local flight = redis.call('HGET', base .. ':session', 'task')
    if flight and task_id(flight, decode(flight)) == id then
        return redis.error_reply('ERR task "' .. id .. '" is in flight: the '
                                 .. 'CPE has it, it runs to its end')
    end

    if redis.call('HEXISTS', base .. ':pending', string.sub(id, 1, 32)) == 1
    then
        return redis.error_reply('ERR task "' .. id .. '" was handed to the '
                                 .. 'CPE, which has yet to report it done '
                                 .. '(a cancelTransfer task may stop a '
                                 .. 'transfer)')
    end

    local task, _, t = queued(base, id)
    if not task then
        return redis.error_reply('ERR no task "' .. id .. '" is queued for "'
                                 .. device .. '"')
    end

    redis.call('LREM', base .. ':tasks', 1, task)
    record(base .. ':outbox', device, id, t.name, 'cancelled',
           '{"error":"cancelled"}', now_of(), t)
    return 'cancelled'
end

-- every key of the device goes; its queued and pending tasks get a
-- "cancelled" result each, and its index entries leave the indexes
-- (through the outbox, which stays until nginx relayed it)
local function delete(keys, args)
    local device, err = device_of(keys)
    if not device then
        return err
    end
    local base = keys[1]
    local outbox = base .. ':outbox'
    local now = now_of()

    for _, task in ipairs(redis.call('LRANGE', base .. ':tasks', 0, -1)) do
        local t = decode(task)
        record(outbox, device, task_id(task, t), t.name, 'cancelled',
               '{"error":"cancelled","detail":"the device was deleted"}',
               now, t)
    end
    for _, where in ipairs({':pending', ':late'}) do
        for _, raw in ipairs(redis.call('HVALS', base .. where)) do
            local p = pending_entry(raw)
            if p then
                local t = decode(p.task)
                record(outbox, device, task_id(p.task, t), t.name,
                       'cancelled', '{"error":"cancelled","detail":"the '
                       .. 'device was deleted"}', now, t)
            end
        end
    end

    -- the built-in entries (the summary's), then what :indexed notes
    local held = index_held(redis.call('HMGET', base, unpack(INDEX_FIELDS)),
                            1)
    for name, v in pairs(held) do
        if v then
            redis.call('XADD', outbox, '*', 'k', 'idx', 'op', 'rem', 'key',
                       name .. ':' .. v, 'device', device)
        end
    end
    local indexed = redis.call('HGETALL', base .. ':indexed')
    for k = 1, #indexed, 2 do
        local name = indexed[k]
        redis.call('XADD', outbox, '*', 'k', 'idx', 'op', 'rem', 'key',
                   string.sub(name, 1, 4) == 'tag:' and name
                   or name .. ':' .. indexed[k + 1], 'device', device)
    end
    redis.call('XADD', outbox, '*', 'k', 'index', 'op', 'rem',
               'device', device)

    local n = 0
    for _, suffix in ipairs(DEVICE_KEYS) do
        n = n + redis.call('DEL', base .. suffix)
    end
    return n
end

-- a tag added or removed, and the tag's index told at once
local function tag(keys, args)
    local device, err = device_of(keys)
    if not device then
        return err
    end
    local op, name = args[1], args[2]
    if (op ~= 'add' and op ~= 'remove') or type(name) ~= 'string'
       or name == '' or #name > 128
    then
        return redis.error_reply('ERR usage: FCALL cwmp_tag 1 '
                                 .. '<prefix>device:{<ID>} add|remove <tag> '
                                 .. '(1 to 128 bytes)')
    end
    local base = keys[1]
    local n
    if op == 'add' then
        n = redis.call('SADD', base .. ':tags', name)
        redis.call('HSET', base .. ':indexed', 'tag:' .. name, 1)
    else
        n = redis.call('SREM', base .. ':tags', name)
        redis.call('HDEL', base .. ':indexed', 'tag:' .. name)
    end
    redis.call('XADD', base .. ':outbox', '*', 'k', 'idx',
               'op', op == 'add' and 'add' or 'rem', 'key', 'tag:' .. name,
               'device', device)
    return n
end

-- CONST DEVICE_KEYS {'', ':params', ':types', ':session', ':events',
--     ':tasks', ':pending', ':late', ':absent', ':tries', ':tags',
--     ':policy', ':plan', ':connreq', ':auth', ':authfail', ':nonce',
--     ':stun', ':crlock', ':indexed', ':status', ':uploads', ':backups',
--     ':logs', ':files', ':xmpp'}

redis.register_function{function_name = 'cwmp_task', callback = task_status,
                        flags = {'no-writes'}}
redis.register_function{function_name = 'cwmp_cancel', callback = cancel}
redis.register_function{function_name = 'cwmp_delete', callback = delete}
redis.register_function{function_name = 'cwmp_tag', callback = tag}
