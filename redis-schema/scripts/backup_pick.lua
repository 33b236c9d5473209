-- backup_pick: the backup a restoreConfig task restores: the one it
-- names, or the device's newest (upload_stored.lua keeps them).  The
-- device may be another than the task's (a replacement device gets the
-- configuration of the one it replaces).
--
-- KEYS[1]  cwmp:device:{<ID>}:backups  name by time
-- KEYS[2]  cwmp:device:{<ID>}:files    name -> the file, JSON
-- ARGV[1]  the backup's name, or "" for the newest
--
-- ANSWER[1]  FOUND  then its name, size (bytes) and file type
-- ANSWER[0]  NONE   no such backup of the device

local name = ARGV[1]
if name == '' then
    name = redis.call('ZREVRANGE', KEYS[1], 0, 0)[1]
end
local raw = name and redis.call('HGET', KEYS[2], name)
local ok, file = pcall(cjson.decode, raw or '')
if not (ok and type(file) == 'table') then
    return {NONE}
end
return {FOUND, name, tostring(tonumber(file.size) or 0),
        type(file.fileType) == 'string' and file.fileType or ''}
