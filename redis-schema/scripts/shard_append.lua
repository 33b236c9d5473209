-- shard_append: the relay of a device's outbox (results.lua) to its shard:
-- results, CPE requests and the index entry, each once.  nginx reads the
-- outbox with the device's own script (same slot), calls this on the
-- shard's slot, then deletes what it relayed (ngx_http_cwmp_store_relay.c);
-- an entry relayed again (a worker died between the two) is skipped: its
-- id is remembered for an hour.  Entries of one device come in order, and
-- a device's entries always go to the same shard.
--
-- KEYS[1]  cwmp:results:{<shard>}        finished tasks
-- KEYS[2]  cwmp:requests:{<shard>}       what CPEs asked of the ACS
-- KEYS[3]  cwmp:devices:{<shard>}        the index: device -> last Inform
-- KEYS[4]  cwmp:relayed:{<shard>}        ids of the entries relayed, with
--          the time (the last hour's)
-- ARGV[1]  the unix time
-- ARGV[2]  n, then n entries: its id ("<device>/<entry id>/<crc32>"), its
--          kind ("results", "requests", "index"), f, then its f fields
--          and values
--
-- Returns how many entries were new (relayed now).
--
-- CONST SHARDS 16  C: NGX_HTTP_CWMP_SHARDS
-- CONST SHARD_MAXLEN '62500'  C: NGX_HTTP_CWMP_SHARD_MAXLEN

local now = tonumber(ARGV[1])
local i = 3
local new = 0

for _ = 1, tonumber(ARGV[2]) do
    local id, kind, f = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
    local fields = {}
    for k = 1, 2 * f do
        fields[k] = ARGV[i + 2 + k]
    end
    i = i + 3 + 2 * f

    if not redis.call('ZSCORE', KEYS[4], id) then
        redis.call('ZADD', KEYS[4], now, id)
        new = new + 1

        if kind == 'index' then
            -- device, <ID>, time, <t>
            local by = {}
            for k = 1, #fields, 2 do
                by[fields[k]] = fields[k + 1]
            end
            if by.device then
                redis.call('ZADD', KEYS[3], by.time or now, by.device)
            end
        elseif kind == 'results' or kind == 'requests' then
            redis.call('XADD', kind == 'results' and KEYS[1] or KEYS[2],
                       'MAXLEN', '~', SHARD_MAXLEN, '*', unpack(fields))
        end
    end
end

redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - 3600)

return new
