-- fleet: what the device's scripts learn about the fleet's API from the
-- tail of their ARGV (ngx_http_cwmp_store_arg_fleet writes it after the
-- script's own arguments, so that it needs no place of its own):
--
--   ..., n (parameter path, index name) pairs: the indexed parameters
--   (cwmp_index); n; the status records' lifetime (s); the event kinds
--   emitted (",session_opened,boot,...,"; "," for none); the interval a
--   device without a cached PeriodicInformInterval is taken to have (s);
--   the margin of "online" (s); two flags: "1" when the devices'
--   SupportedDataModel is read (cwmp_supported_data_model), "1" when the
--   value indexes are kept ("0": cwmp_index off)
--
-- Included before results.lua, whose records live STATUS_TTL seconds.
--
-- CONST EVENT_PARAMS_MAX 32
-- CONST EVENT_VALUE_MAX 256

local F = #ARGV
local STATUS_TTL = tonumber(ARGV[F - 4]) or 86400
local EMITTED = ARGV[F - 3] or ','
local ONLINE_INTERVAL = tonumber(ARGV[F - 2]) or 86400
local ONLINE_MARGIN = tonumber(ARGV[F - 1]) or 0
local READ_SUPPORTED = string.sub(ARGV[F] or '', 1, 1) == '1'
-- the session's marks on the device (its end's event) are kept
local ENDS = string.find(EMITTED, ',session_ended,', 1, true) ~= nil
local INDEXING = string.sub(ARGV[F] or '', 2, 2) ~= '0'
local INDEXED = {}
do
    local n = tonumber(ARGV[F - 5]) or 0
    local at = F - 6 - 2 * n
    for k = 1, n do
        INDEXED[ARGV[at + 2 * k - 1]] = ARGV[at + 2 * k]
    end
end

-- an event for the event stream (cwmp:events:{<shard>}), when its kind is
-- emitted: type, device, time, then its fields.  The script's events go
-- to the outbox together, one entry (flush_events): "e" <JSON array of
-- the event's fields and values>, for each
local EVENTS = {}

local function emit(outbox, kind, device, now, ...)
    if string.find(EMITTED, ',' .. kind .. ',', 1, true) then
        EVENTS[#EVENTS + 1] = 'e'
        EVENTS[#EVENTS + 1] = cjson.encode({'type', kind, 'device', device,
                                            'time', tostring(now), ...})
    end
end

local function flush_events(outbox)
    if #EVENTS > 0 then
        redis.call('XADD', outbox, '*', 'k', 'events', unpack(EVENTS))
        EVENTS = {}
    end
end

-- a parameter whose value an event must not carry (a password, a key)
local function secret_name(name)
    local l = string.lower(name)
    return string.find(l, 'password', 1, true)
           or string.find(l, 'passphrase', 1, true)
           or string.find(l, 'secret', 1, true)
           or string.find(l, 'key', 1, true)
end
