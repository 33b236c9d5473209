-- policy_inputs(hash, at, policy): what the policies read, as nginx names
-- it from ARGV[at] on: m, then m cached parameter names; c, then c
-- campaigns, each its name, why it is paused ("" when not) and its
-- devices in progress (nginx reads those from cwmp:campaign:{<policy>},
-- another slot); o, then o objects.  Returns the m values (read from the
-- parameter cache <hash>, 500 at a time), the campaigns' {paused,
-- in_progress, this device's state} triples (its state from the <policy>
-- hash's "campaign:<name>"), and each object's instances.  Needs
-- instances.lua included before it.
local function policy_inputs(hash, at, policy)
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
    for k = 0, c - 1 do
        local a = at + 2 + m + 3 * k
        campaigns[#campaigns + 1] = ARGV[a + 1] ~= '' and ARGV[a + 1] or false
        campaigns[#campaigns + 1] = ARGV[a + 2]
        campaigns[#campaigns + 1] = redis.call('HGET', policy,
                                               'campaign:' .. ARGV[a])
    end

    local objects = {}
    local o = at + 2 + m + 3 * c
    for k = 1, tonumber(ARGV[o]) or 0 do
        objects[k] = instances(hash, ARGV[o + k])
    end

    return values, campaigns, objects
end
