-- outbox_done: what a relay took to the shared keys leaves the device's
-- outbox, and an outbox left empty is deleted (an empty stream still
-- costs about 400 bytes: a device that sleeps keeps none).  nginx calls
-- it after shard_append.lua and campaign.lua, on the device's slot
-- (ngx_http_cwmp_store_relay.c).
--
-- KEYS[1]  cwmp:device:{<ID>}:outbox    what the device's scripts wrote
--          for the shared keys (results.lua)
-- ARGV[1]  n, then the n ids of the entries relayed
--
-- Returns how many entries left.

local n = redis.call('XDEL', KEYS[1], unpack(ARGV, 2, 1 + tonumber(ARGV[1])))
if redis.call('XLEN', KEYS[1]) == 0 then
    redis.call('DEL', KEYS[1])
end
return n
