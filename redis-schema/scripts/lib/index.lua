-- index: the device's entries in the value indexes.  Included after
-- results.lua and fleet.lua.
--
-- Each indexed value has a sorted set, cwmp:index:{<name>:<value>} (score
-- 0, members the device IDs, in byte order: paged with ZRANGE ... BYLEX),
-- on the slot of its own hash tag, and so written by nginx from the
-- outbox ("idx" entries: op add or rem, key "<name>:<value>"), not by the
-- device's script.  The device's :indexed hash remembers what the indexes
-- hold of it (name -> value; "tag:<tag>" -> 1, "supported_data_model:
-- <URN>" -> 1), so that only a change
-- writes: the old entry removed, the new one added.  A boot writes all
-- its entries again (ZADD is idempotent): an index entry lost is repaired
-- by the device's next boot, and one a changed configuration never made
-- by its next Inform.
--
-- CONST INDEX_VALUE_MAX 128  C: NGX_HTTP_CWMP_INDEX_VALUE_MAX
-- CONST INDEX_FIELDS {'serial_number', 'oui', 'product_class',
--     'manufacturer', 'software_version', 'hardware_version', 'data_model',
--     'device_summary', 'root_data_model_version'}

-- want: name -> value (names absent are left as they are); sets: name ->
-- the device's values of a many-valued index ("tag": its tags,
-- "supported_data_model": its URNs), each entry "<name>:<value>" -> 1; a
-- name absent leaves its entries alone; all: write every entry again
local function index_sync(indexed_key, outbox, device, want, sets, all)
    if not INDEXING then
        return
    end

    local have = {}
    local flat = redis.call('HGETALL', indexed_key)
    for k = 1, #flat, 2 do
        have[flat[k]] = flat[k + 1]
    end

    local set = {}
    for name, v in pairs(want) do
        if v ~= '' and #v <= INDEX_VALUE_MAX and (all or have[name] ~= v) then
            if have[name] and have[name] ~= v then
                redis.call('XADD', outbox, '*', 'k', 'idx', 'op', 'rem',
                           'key', name .. ':' .. have[name],
                           'device', device)
            end
            redis.call('XADD', outbox, '*', 'k', 'idx', 'op', 'add',
                       'key', name .. ':' .. v, 'device', device)
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
end
