-- instances(hash, object): the cached instances of an object in a
-- parameter cache: its <object><n>.<leaf> fields and their values, flat
-- (field, value, field, value ...).  Included by .ci/gen-scripts where a
-- script says "-- include: instances.lua".
local function instances(hash, object)
    local out = {}
    local pat = '^' .. string.gsub(object, '%p', '%%%0') .. '%d+%.[^.]+$'
    local glob = string.gsub(object, '[%*%?%[%]\\]', '\\%0') .. '*'
    local cursor = '0'
    repeat
        local r = redis.call('HSCAN', hash, cursor, 'MATCH', glob,
                             'COUNT', 1000)
        cursor = r[1]
        for j = 1, #r[2], 2 do
            if string.match(r[2][j], pat) then
                out[#out + 1] = r[2][j]
                out[#out + 1] = r[2][j + 1]
            end
        end
    until cursor == '0'
    return out
end
