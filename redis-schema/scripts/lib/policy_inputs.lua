-- policy_inputs(hash, at, prefix, device): what the policies read, as
-- nginx names it from ARGV[at] on: m, then m cached parameter names; c,
-- then c campaigns; o, then o objects.  Returns the m values (read from
-- the parameter cache <hash>, 500 at a time), the campaigns' {paused,
-- in_progress, this device's state} triples (keys <prefix><campaign>),
-- and each object's instances.  Needs instances.lua included before it.
local function policy_inputs(hash, at, prefix, device)
    local m = tonumber(ARGV[at]) or 0
    local values = {}
    for k = 0, m - 1, 500 do
        local names = {}
        for j = k, math.min(k + 499, m - 1) do
            names[#names + 1] = ARGV[at + 1 + j]
        end
        local got = redis.call('HMGET', hash, unpack(names))
        for j = 1, #names do
            values[#values + 1] = got[j]
        end
    end

    local c = tonumber(ARGV[at + 1 + m]) or 0
    local campaigns = {}
    for k = 1, c do
        local key = prefix .. ARGV[at + 1 + m + k]
        local h = redis.call('HMGET', key, 'paused', 'in_progress')
        campaigns[#campaigns + 1] = h[1]
        campaigns[#campaigns + 1] = h[2] or '0'
        campaigns[#campaigns + 1] = redis.call('HGET', key .. ':devices',
                                               device)
    end

    local objects = {}
    for k = 1, tonumber(ARGV[at + 2 + m + c]) or 0 do
        objects[k] = instances(hash, ARGV[at + 2 + m + c + k])
    end

    return values, campaigns, objects
end
