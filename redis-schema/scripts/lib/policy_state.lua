-- policy_state(policy_key, absent_key): the policy state the policies are
-- evaluated against, flat (field, value, ...): the device's :policy hash,
-- and each parameter its :absent hash names as "absent:<name>".
local function policy_state(policy_key, absent_key)
    local st = redis.call('HGETALL', policy_key)
    local absent = redis.call('HGETALL', absent_key)
    for j = 1, #absent, 2 do
        st[#st + 1] = 'absent:' .. absent[j]
        st[#st + 1] = absent[j + 1]
    end
    return st
end
