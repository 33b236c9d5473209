-- pending: the tasks whose effect a CPE reports later.  Included after
-- results.lua.
--
-- A task with an effect (a reboot, a factory reset, a transfer, a DU
-- change) leaves the queue as it is handed out, into the pending hash
-- under its CommandKey (its id, at most 32 characters), so that it is
-- never handed out twice: {"task": ..., "since": ..., "state": "sent",
-- "limit": seconds}.  Its answer makes it "answered" (the CPE will report
-- it: M Reboot, TransferComplete, DUStateChangeComplete) or finishes it;
-- the CPE's report finishes it whatever became of the answer; past its
-- limit it is "expired" (a fault result), and a late report still
-- finishes it (its result says "late").

-- CONST DIAGNOSTIC_NAMES ' ipPing traceRoute downloadDiagnostics
--     uploadDiagnostics nsLookup udpEcho '

-- a diagnostics task's name (below)
local function diagnostics(name)
    return not string.find(name, ' ', 1, true)
           and string.find(DIAGNOSTIC_NAMES, ' ' .. name .. ' ', 1, true)
               ~= nil
end

-- a transfer the CPE reports with TransferComplete; an upload's file
-- may go to the ACS's own receiver (backupConfig, uploadLog, an upload
-- with no "url")
local function uploads(name)
    return name == 'upload' or name == 'backupConfig' or name == 'uploadLog'
end

local function transfer(name)
    return name == 'download' or name == 'restoreConfig' or uploads(name)
end

local function effectful(name)
    return name == 'reboot' or name == 'factoryReset' or transfer(name)
           or name == 'scheduleDownload' or name == 'changeDUState'
           or diagnostics(name)
end

-- A diagnostics task (TR-143 and the others): its object in each data
-- model (TR-098's, TR-181's; false where the model has none).  It goes out
-- as a SetParameterValues of its "parameters" (names relative to the
-- object) and DiagnosticsState Requested; the CPE's "8 DIAGNOSTICS
-- COMPLETE" has the object read (an internal getParameterValues) and the
-- values are its result.
--
-- CONST DIAGNOSTICS ({
--     ipPing = {'InternetGatewayDevice.IPPingDiagnostics.',
--     'Device.IP.Diagnostics.IPPing.'},
--     traceRoute = {'InternetGatewayDevice.TraceRouteDiagnostics.',
--     'Device.IP.Diagnostics.TraceRoute.'},
--     downloadDiagnostics = {'InternetGatewayDevice.DownloadDiagnostics.',
--     'Device.IP.Diagnostics.DownloadDiagnostics.'},
--     uploadDiagnostics = {'InternetGatewayDevice.UploadDiagnostics.',
--     'Device.IP.Diagnostics.UploadDiagnostics.'},
--     nsLookup = {'InternetGatewayDevice.NSLookupDiagnostics.',
--     'Device.DNS.Diagnostics.NSLookupDiagnostics.'},
--     udpEcho = {false, 'Device.IP.Diagnostics.UDPEchoDiagnostics.'}})

-- the diagnostics object of a task on a data model root, or nil (the
-- table is built here only: diagnostics() is what every hand-out asks)
local function diagnostics_object(name, root)
    local objects = DIAGNOSTICS[name]
    if objects then
        return objects[root == 'Device' and 2 or 1] or nil
    end
end

-- the CommandKey of a task, as the CPE reports it
local function command_key(task, t)
    return string.sub(task_id(task, t), 1, 32)
end

-- a pending entry, decoded; nil when it holds no task
local function pending_entry(raw)
    local ok, p = pcall(cjson.decode, raw or '')
    if ok and type(p) == 'table' and type(p.task) == 'string' then
        return p
    end
end

-- a policy's task succeeded: its marks become the policy state
local function policy_done(policy_key, t)
    if type(t.marks) == 'table' then
        for k, v in pairs(t.marks) do
            redis.call('HSET', policy_key, k, tostring(v))
        end
    end
    redis.call('HDEL', policy_key, 'fault:' .. t.policy)
end

-- an upload to the ACS's own receiver: the file it stored
-- (upload_stored.lua, in the device's :uploads) goes into the result; one
-- the CPE reports done with no file stored is a fault
local function uploaded(results_key, key, status, result)
    local uploads_key = string.sub(results_key, 1, -8) .. ':uploads'
    local raw = redis.call('HGET', uploads_key, key)
    local ok, r = pcall(cjson.decode, result)
    if not (ok and type(r) == 'table') then
        r = {}
    end
    if raw then
        redis.call('HDEL', uploads_key, key)
        local fok, f = pcall(cjson.decode, raw)
        r.file = fok and f or raw
    elseif status == 'done' then
        status = 'fault'
        r.error = 'no file'
        r.detail = 'the CPE reports the upload done; the ACS received no '
                   .. 'file for it'
    end
    return status, cjson.encode(r)
end

-- a pending task finished: its result (once: an expired one's says it is
-- late), the entry gone, its policy no longer waiting on it; the task
-- decoded
local function finish(pending_key, results_key, policy_key, device, key, p,
                      status, result, now)
    local t = decode(p.task)
    if uploads(t.name) and t.url == nil then
        status, result = uploaded(results_key, key, status, result)
    end
    if p.state == 'expired' then
        local ok, r = pcall(cjson.decode, result)
        if ok and type(r) == 'table' then
            r.late = true
            result = cjson.encode(r)
        end
    end
    record(results_key, device, task_id(p.task, t), t.name, status, result,
           now, t)
    redis.call('HDEL', pending_key, key)
    if type(t.policy) == 'string' then
        redis.call('HDEL', policy_key, 'waiting:' .. t.policy,
                   'attempts:' .. t.policy)
        if status == 'done' then
            policy_done(policy_key, t)
        end
    end
    return t
end
