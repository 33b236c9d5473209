-- index_fields: the value indexes the ACS builds from the device's summary
-- (the built-in ones).  Included by index.lua and by the function library.
--
-- What these indexes hold of a device is what its summary says (each
-- script writes the summary and the outbox's index entries together), so
-- the device's :indexed hash does not repeat it: a built-in name is there
-- only while the indexes hold another value than the summary's (noted when
-- the summary changed with the indexes off: cwmp_index off).
--
-- CONST INDEX_VALUE_MAX 128  C: NGX_HTTP_CWMP_INDEX_VALUE_MAX
-- CONST INDEX_FIELDS {'serial_number', 'oui', 'product_class',
--     'manufacturer', 'software_version', 'hardware_version', 'data_model',
--     'device_summary', 'root_data_model_version'}

-- a value the indexes take: not empty, not too long
local function indexable(v)
    return v and v ~= '' and #v <= INDEX_VALUE_MAX
end

-- values: the summary's INDEX_FIELDS from the k-th on (an HMGET's reply);
-- name -> the value the built-in index holds, false where it holds none
local function index_held(values, k)
    local held = {}
    for j, name in ipairs(INDEX_FIELDS) do
        local v = values[k + j - 1]
        held[name] = indexable(v) and v or false
    end
    return held
end
