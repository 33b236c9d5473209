-- connreq_prepare: a connection request about to be made to a device (a
-- cwmp:connreq entry a worker took).  Coalesces the triggers of one device
-- within a window into one request, and says where and how to reach it.
--
-- KEYS[1]  cwmp:device:{<ID>}            the summary
-- KEYS[2]  cwmp:device:{<ID>}:params
-- KEYS[3]  cwmp:device:{<ID>}:connreq    the ACS's credentials for the
--          device's connection requests (username, password), written by
--          provisioning systems
-- KEYS[4]  cwmp:device:{<ID>}:crlock     a request made within the window
-- KEYS[5]  cwmp:device:{<ID>}:stun       the binding the STUN server saw
-- ARGV[1]  the window, ms
--
-- Returns {status, url, remote address, username, password, UDP
-- address (reported, else the STUN binding), NATDetected,
-- ConnReqJabberID}: status "go",
-- "unknown" (the ACS never heard from the device) or "rate_limited"
-- (another request to it within the window); "unknown" and
-- "rate_limited" are outcomes in cwmp:results as they are.

local s = redis.call('HMGET', KEYS[1], 'data_model', 'remote_addr')

if not s[1] then
    return {'unknown', '', '', '', '', '', '', ''}
end

if not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[1]) then
    return {'rate_limited', '', '', '', '', '', '', ''}
end

local ms = s[1] .. '.ManagementServer.'
local p = redis.call('HMGET', KEYS[2], ms .. 'ConnectionRequestURL',
                     ms .. 'ConnectionRequestUsername',
                     ms .. 'UDPConnectionRequestAddress',
                     ms .. 'NATDetected', ms .. 'ConnReqJabberID')
local c = redis.call('HMGET', KEYS[3], 'username', 'password')

-- the UDP address the CPE reports, else the binding the STUN server saw
-- (a device that sends CONNECTION-REQUEST-BINDING is behind a NAT)
local stun = redis.call('HGET', KEYS[5], 'address')

return {'go', p[1] or '', s[2] or '', c[1] or p[2] or '', c[2] or '',
        p[3] or stun or '', p[4] or (stun and '1') or '', p[5] or ''}
