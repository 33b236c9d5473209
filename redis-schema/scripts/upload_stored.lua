-- upload_stored: a file the ACS's upload receiver has stored for a
-- device's task (ngx_http_cwmp_upload.c): recorded until the CPE's
-- TransferComplete takes it into the task's result (pending.lua), and,
-- for a backup or a log, kept in the device's list of them, of which the
-- newest ARGV[4] stay.
--
-- KEYS[1]  cwmp:device:{<ID>}:uploads  the task's CommandKey -> the file,
--          JSON, until its TransferComplete
-- KEYS[2]  cwmp:device:{<ID>}:backups  backupConfig's files: name by time
--          (unix ms)
-- KEYS[3]  cwmp:device:{<ID>}:logs     uploadLog's files: name by time
-- KEYS[4]  cwmp:device:{<ID>}:files    the kept files: name -> the file
-- ARGV[1]  the task's CommandKey
-- ARGV[2]  the file, JSON: {"name", "kind", "fileType", "size", "sha256",
--          "time", "task", "host", "path"}
-- ARGV[3]  its name
-- ARGV[4]  how many backups (or logs) of the device to keep
-- ARGV[5]  the kind: "backup", "log", or "" (a plain upload)
-- ARGV[6]  the time, unix ms (the order of the lists)
--
-- ANSWER[1]  STORED  recorded; then the names of the files of the kind no
--            longer kept, for nginx to delete
-- ANSWER[0]  REUSED  the task has another file already (its URL is one
--            upload's): nothing recorded

local had = redis.call('HGET', KEYS[1], ARGV[1])
if had then
    local ok, f = pcall(cjson.decode, had)
    if not (ok and type(f) == 'table' and f.name == ARGV[3]) then
        return {REUSED}
    end
end

redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])

local reply = {STORED}
local list = (ARGV[5] == 'backup' and KEYS[2])
             or (ARGV[5] == 'log' and KEYS[3]) or nil
if list then
    redis.call('ZADD', list, ARGV[6], ARGV[3])
    redis.call('HSET', KEYS[4], ARGV[3], ARGV[2])
    local over = redis.call('ZCARD', list) - tonumber(ARGV[4])
    if over > 0 then
        for _, name in ipairs(redis.call('ZRANGE', list, 0, over - 1)) do
            reply[#reply + 1] = name
            redis.call('HDEL', KEYS[4], name)
        end
        redis.call('ZREMRANGEBYRANK', list, 0, over - 1)
    end
end

return reply
