-- shard_append: the relay of a device's outbox (results.lua) to its shard:
-- results, CPE requests, events (and index entries, which nginx itself
-- relays as plain ZADD GT / ZREM: a periodic session needs no script for
-- its relay), each once.  nginx reads the
-- outbox with the device's own script (same slot), calls this on the
-- shard's slot, then deletes what it relayed (ngx_http_cwmp_store_relay.c);
-- an entry relayed again (a worker died between the two) is skipped: its
-- id is remembered for an hour (an index entry is written again: the
-- same).  Entries of one device come in order, and
-- a device's entries always go to the same shard.
--
-- KEYS[1]  cwmp:results:{<shard>}        finished tasks
-- KEYS[2]  cwmp:requests:{<shard>}       what CPEs asked of the ACS
-- KEYS[3]  cwmp:devices:{<shard>}        the index: device -> last Inform
-- KEYS[4]  cwmp:relayed:{<shard>}        ids of the entries relayed, with
--          the time (the last hour's)
-- KEYS[5]  cwmp:events:{<shard>}         the event stream
-- KEYS[6]  cwmp:online:{<shard>}         device -> the time it is online
--          until
-- ARGV[1]  the unix time
-- ARGV[2]  the streams' retention, seconds (MINID); 0: by length (MAXLEN)
-- ARGV[3]  n, then n entries: its id ("<device>/<entry id>/<crc32>"), its
--          kind ("results", "requests", "events", "index"), f, then its f
--          fields and values; an index entry with "op" "rem" takes the
--          device out of the indexes (a device deleted)
--
-- Returns how many entries were new (relayed now; index entries, which a
-- repeat writes the same, count each time).
--
-- CONST SHARDS 16  C: NGX_HTTP_CWMP_SHARDS
-- CONST SHARD_MAXLEN '62500'  C: NGX_HTTP_CWMP_SHARD_MAXLEN

local now = tonumber(ARGV[1])
local age = tonumber(ARGV[2]) or 0
local trim = age > 0 and {'MINID', '~', tostring((now - age) * 1000)}
                     or {'MAXLEN', '~', SHARD_MAXLEN}
local stream = {results = KEYS[1], requests = KEYS[2], events = KEYS[5]}
local i = 4
local new = 0

-- the entries, and the ids of those a repeat must not write twice (index
-- entries are idempotent: ZADD GT, ZREM)
local entries, ids = {}, {}
for _ = 1, tonumber(ARGV[3]) do
    local id, kind, f = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
    local fields = {}
    for k = 1, 2 * f do
        fields[k] = ARGV[i + 2 + k]
    end
    i = i + 3 + 2 * f
    entries[#entries + 1] = {id, kind, fields}
    if kind ~= 'index' then
        ids[#ids + 1] = id
    end
end

-- which were relayed before (one ZMSCORE, one ZADD for the batch)
local seen = {}
if #ids > 0 then
    local scores = redis.call('ZMSCORE', KEYS[4], unpack(ids))
    local add = {}
    for k, id in ipairs(ids) do
        if scores[k] then
            seen[id] = true
        else
            add[#add + 1] = now
            add[#add + 1] = id
        end
    end
    if #add > 0 then
        redis.call('ZADD', KEYS[4], unpack(add))
    end
end

for _, e in ipairs(entries) do
    local kind, fields = e[2], e[3]

    if kind == 'index' then
        -- device, <ID>, time, <t>, until, <t> (or op, rem)
        local by = {}
        for k = 1, #fields, 2 do
            by[fields[k]] = fields[k + 1]
        end
        if by.device and by.op == 'rem' then
            redis.call('ZREM', KEYS[3], by.device)
            redis.call('ZREM', KEYS[6], by.device)
        elseif by.device then
            redis.call('ZADD', KEYS[3], 'GT', by.time or now, by.device)
            if by['until'] then
                redis.call('ZADD', KEYS[6], 'GT', by['until'], by.device)
            end
        end
        new = new + 1

    elseif seen[e[1]] or not stream[kind] then
        -- relayed before, or of no kind of ours

    elseif kind == 'events' and fields[1] == 'e' then
        -- several events, each "e" <JSON array of its fields and values>
        for k = 2, #fields, 2 do
            local ok, ev = pcall(cjson.decode, fields[k])
            if ok and type(ev) == 'table' and #ev > 0 then
                redis.call('XADD', KEYS[5], trim[1], trim[2], trim[3], '*',
                           unpack(ev))
            end
        end
        new = new + 1

    else
        redis.call('XADD', stream[kind], trim[1], trim[2], trim[3], '*',
                   unpack(fields))
        new = new + 1
    end
end

redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - 3600)

return new
