-- index: the device's entries in the value indexes.  Included after
-- results.lua and fleet.lua.
--
-- Each indexed value has a sorted set, cwmp:index:{<name>:<value>} (score
-- 0, members the device IDs, in byte order: paged with ZRANGE ... BYLEX),
-- on the slot of its own hash tag, and so written by nginx from the
-- outbox ("idx" entries: op add or rem, key "<name>:<value>"), not by the
-- device's script.  What the built-in indexes hold is the summary's
-- (index_fields.lua); the device's :indexed hash remembers the rest
-- (cwmp_index name -> value; "tag:<tag>" -> 1, "supported_data_model:
-- <URN>" -> 1), so that only a change writes: the old entry removed, the
-- new one added.  A boot writes all its entries again (ZADD is
-- idempotent): an index entry lost is repaired by the device's next boot,
-- and one a changed configuration never made by its next Inform.
--
-- include: index_fields.lua

-- want: name -> value (names absent are left as they are); sets: name ->
-- the device's values of a many-valued index ("tag": its tags,
-- "supported_data_model": its URNs), each entry "<name>:<value>" -> 1; a
-- name absent leaves its entries alone; all: write every entry again;
-- held: what the built-in indexes hold (index_held of the summary before
-- this write), when want has built-in names
local function index_sync(indexed_key, outbox, device, want, sets, all, held)
    if not INDEXING then
        return
    end

    local have, noted = {}, {}
    for name, v in pairs(held or {}) do
        have[name] = v or nil
    end
    local flat = redis.call('HGETALL', indexed_key)
    for k = 1, #flat, 2 do
        have[flat[k]] = flat[k + 1]
        noted[flat[k]] = true
    end

    local set, gone = {}, {}
    for name, v in pairs(want) do
        local builtin = held and held[name] ~= nil
        local old, ok = have[name], indexable(v)
        if old and (old ~= v or not ok) then
            redis.call('XADD', outbox, '*', 'k', 'idx', 'op', 'rem',
                       'key', name .. ':' .. old, 'device', device)
        end
        if ok and (all or old ~= v) then
            redis.call('XADD', outbox, '*', 'k', 'idx', 'op', 'add',
                       'key', name .. ':' .. v, 'device', device)
        end
        -- a built-in name is noted only while it differs from the summary
        if noted[name] and (builtin or not ok) then
            gone[#gone + 1] = name
        elseif ok and not builtin and old ~= v then
            set[#set + 1] = name
            set[#set + 1] = v
        end
    end

    for prefix, values in pairs(sets) do
        local now = {}
        for _, value in ipairs(values) do
            local name = prefix .. ':' .. value
            now[name] = true
            if #value <= INDEX_VALUE_MAX and (all or not have[name]) then
                redis.call('XADD', outbox, '*', 'k', 'idx', 'op', 'add',
                           'key', name, 'device', device)
                set[#set + 1] = name
                set[#set + 1] = '1'
            end
        end
        for name in pairs(have) do
            if string.sub(name, 1, #prefix + 1) == prefix .. ':'
               and not now[name]
            then
                redis.call('XADD', outbox, '*', 'k', 'idx', 'op', 'rem',
                           'key', name, 'device', device)
                redis.call('HDEL', indexed_key, name)
            end
        end
    end

    if #set > 0 then
        redis.call('HSET', indexed_key, unpack(set))
    end
    if #gone > 0 then
        redis.call('HDEL', indexed_key, unpack(gone))
    end
end
