-- stun_binding: a CPE's NAT binding the STUN server saw (TR-111
-- CONNECTION-REQUEST-BINDING), recorded when the request is authentic.
--
-- KEYS[1]  cwmp:device:{<ID>}:connreq    "stun_password": the device's own
--          STUNPassword, when provisioning systems keep one
-- KEYS[2]  cwmp:device:{<ID>}:stun
-- ARGV[1]  the address seen, ip:port
-- ARGV[2]  the unix time
-- ARGV[3]  "1" when the request had BINDING-CHANGE
-- ARGV[4]  without a per-device password: "1" when the request is
--          trusted (the shared cwmp_stun_password checked, or none set)
-- ARGV[5]  the bytes MESSAGE-INTEGRITY covers (RFC 5389: the header with
--          the length counting it, and the attributes before it), or ""
-- ARGV[6]  MESSAGE-INTEGRITY, hex, or ""
--
-- ANSWER[1]  RECORDED  recorded
-- ANSWER[0]  REFUSED  not authentic

local function bin(hex)
    return (string.gsub(hex, '..', function(c)
        return string.char(tonumber(c, 16))
    end))
end

-- HMAC-SHA1 (RFC 2104), hex
local function hmac(key, msg)
    if #key > 64 then
        key = bin(redis.sha1hex(key))
    end
    key = key .. string.rep('\0', 64 - #key)
    local ipad, opad = {}, {}
    for i = 1, 64 do
        local b = string.byte(key, i)
        ipad[i] = string.char(bit.bxor(b, 0x36))
        opad[i] = string.char(bit.bxor(b, 0x5c))
    end
    return redis.sha1hex(table.concat(opad)
                         .. bin(redis.sha1hex(table.concat(ipad) .. msg)))
end

local pw = redis.call('HGET', KEYS[1], 'stun_password')
local ok

if pw then
    ok = ARGV[6] ~= '' and hmac(pw, ARGV[5]) == ARGV[6]
else
    ok = ARGV[4] == '1'
end

if not ok then
    return REFUSED
end

redis.call('HSET', KEYS[2], 'address', ARGV[1], 'time', ARGV[2])
if ARGV[3] == '1' then
    redis.call('HSET', KEYS[2], 'binding_change', ARGV[2])
end

return RECORDED
