-- shard_append: the relay of a device's outbox (results.lua) to its shard:
-- results, CPE requests, events, each once.  (Its index entries nginx
-- relays itself, as plain ZADD GT / ZREM: idempotent, they need no script.)
-- nginx reads the outbox with the device's own script (same slot), calls
-- this on the shard's slot, then deletes what it relayed
-- (ngx_http_cwmp_store_relay.c); an entry relayed again (a worker died
-- between the two) is skipped: its id is remembered for an hour.  Entries
-- of one device come in order, and a device's entries always go to the
-- same shard.
--
-- KEYS[1]  cwmp:results:{<shard>}        finished tasks
-- KEYS[2]  cwmp:requests:{<shard>}       what CPEs asked of the ACS
-- KEYS[3]  cwmp:relayed:{<shard>}        ids of the entries relayed, with
--          the time (the last hour's)
-- KEYS[4]  cwmp:events:{<shard>}         the event stream
-- ARGV[1]  the unix time
-- ARGV[2]  the streams' retention, seconds (MINID); 0: by length (MAXLEN)
-- ARGV[3]  n, then n entries: its id ("<device>/<entry id>/<crc32>"), its
--          kind ("results", "requests", "events"), f, then its f fields
--          and values
--
-- Returns how many entries were new (relayed now).
--
-- CONST SHARDS 16  C: NGX_HTTP_CWMP_SHARDS
-- CONST SHARD_MAXLEN '62500'  C: NGX_HTTP_CWMP_SHARD_MAXLEN

local now = tonumber(ARGV[1])
local age = tonumber(ARGV[2]) or 0
local trim = age > 0 and {'MINID', '~', tostring((now - age) * 1000)}
                     or {'MAXLEN', '~', SHARD_MAXLEN}
local stream = {results = KEYS[1], requests = KEYS[2], events = KEYS[4]}
local i = 4
local new = 0

-- the entries, and which were relayed before (one ZMSCORE, one ZADD for
-- the batch)
local entries, ids = {}, {}
for _ = 1, tonumber(ARGV[3]) do
    local id, kind, f = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
    local fields = {}
    for k = 1, 2 * f do
        fields[k] = ARGV[i + 2 + k]
    end
    i = i + 3 + 2 * f
    entries[#entries + 1] = {id, kind, fields}
    ids[#ids + 1] = id
end

local seen = {}
if #ids > 0 then
    local scores = redis.call('ZMSCORE', KEYS[3], unpack(ids))
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
        redis.call('ZADD', KEYS[3], unpack(add))
    end
end

for _, e in ipairs(entries) do
    local kind, fields = e[2], e[3]

    if seen[e[1]] or not stream[kind] then
        -- relayed before, or of no kind of ours

    elseif kind == 'events' and fields[1] == 'e' then
        -- several events, each "e" <JSON array of its fields and values>
        for k = 2, #fields, 2 do
            local ok, ev = pcall(cjson.decode, fields[k])
            if ok and type(ev) == 'table' and #ev > 0 then
                redis.call('XADD', KEYS[4], trim[1], trim[2], trim[3], '*',
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

redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 3600)

return new
