# Tasks pushed through Redis run in the device's session; their results
# come back in cwmp:results.  Sessions here are cookie-less CPEs on one
# keep-alive connection (pipelined requests), answering without a cwmp:ID
# header, as some do.  (Under the real Test::Nginx, --- error_log with
# pipelined requests is checked against each response's share of the
# log: log lines are checked in single-request blocks.)

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();
Cwmp::Test::defaults(config => "location /cwmp { cwmp; }",
                     no_error_log => "[error]\n[alert]\n");

our $D = $Cwmp::Test::Device;
our $Inform = "POST /cwmp\n" . Cwmp::Test::inform();

run_tests();

__DATA__

=== TEST 1: getParameterValues: request, values in the result and the cache
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'gpv-1', name => 'getParameterValues',
    parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime',
                       'InternetGatewayDevice.LANDevice.1.']});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     ['InternetGatewayDevice.DeviceInfo.UpTime', '3600', 'xsd:unsignedInt'],
     ['InternetGatewayDevice.LANDevice.1.LANHostConfigManagement.DHCPServerEnable',
      'true', 'xsd:boolean'])]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<soap-env:Header>\r\n<cwmp:ID soap-env:mustUnderstand="1">[0-9a-f]{16}</cwmp:ID>.*<cwmp:GetParameterValues>\r\n<ParameterNames soap-enc:arrayType="xsd:string\[2\]">\r\n<string>InternetGatewayDevice.DeviceInfo.UpTime</string>\r\n<string>InternetGatewayDevice.LANDevice.1.</string>\r\n</ParameterNames>\r\n</cwmp:GetParameterValues>}s,
 qr/\A\z/]
--- redis_check
if ($req == 2) {
    my $r = last_result();
    is($r->{device}, $main::D, 'result device');
    is($r->{task}, 'gpv-1', 'result task id');
    is($r->{name}, 'getParameterValues', 'result name');
    is($r->{status}, 'done', 'status');
    is_deeply($r->{result}{parameterValues},
              [['InternetGatewayDevice.DeviceInfo.UpTime', '3600', 'xsd:unsignedInt'],
               ['InternetGatewayDevice.LANDevice.1.LANHostConfigManagement.DHCPServerEnable',
                'true', 'xsd:boolean']], 'values');
    is(redis('HGET', "cwmp:device:{$main::D}:params",
             'InternetGatewayDevice.DeviceInfo.UpTime'), '3600', 'cached');
    is(redis('HGET', "cwmp:device:{$main::D}:types",
             'InternetGatewayDevice.LANDevice.1.LANHostConfigManagement.DHCPServerEnable'),
       'xsd:boolean', 'type cached');
    is(redis('LLEN', "cwmp:device:{$main::D}:tasks"), 0, 'dequeued');
    is(redis('EXISTS', "cwmp:device:{$main::D}:session"), 0, 'session over');
}



=== TEST 2: setParameterValues: typed values, status 0 updates the cache
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {name => 'setParameterValues',
    parameterKey => 'pk1',
    parameterValues => [
        ['InternetGatewayDevice.ManagementServer.PeriodicInformInterval', 600],
        ['InternetGatewayDevice.ManagementServer.PeriodicInformEnable', JSON::PP::true],
        ['InternetGatewayDevice.X_Example.Offset', -5],
        ['InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID', 'a<b&c'],
        ['InternetGatewayDevice.X_Example.When', '2026-01-01T00:00:00Z', 'xsd:dateTime']]});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:SetParameterValues>\r\n<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct\[5\]">\r\n<ParameterValueStruct>\r\n<Name>InternetGatewayDevice.ManagementServer.PeriodicInformInterval</Name>\r\n<Value xsi:type="xsd:unsignedInt">600</Value>\r\n</ParameterValueStruct>\r\n<ParameterValueStruct>\r\n<Name>InternetGatewayDevice.ManagementServer.PeriodicInformEnable</Name>\r\n<Value xsi:type="xsd:boolean">true</Value>.*<Value xsi:type="xsd:int">-5</Value>.*<Value xsi:type="xsd:string">a&lt;b&amp;c</Value>.*<Value xsi:type="xsd:dateTime">2026-01-01T00:00:00Z</Value>.*</ParameterList>\r\n<ParameterKey>pk1</ParameterKey>\r\n</cwmp:SetParameterValues>}s,
 qr/\A\z/]
--- redis_check
if ($req == 2) {
    my $r = last_result();
    is($r->{status}, 'done', 'status');
    is($r->{name}, 'setParameterValues', 'name');
    like($r->{task}, qr/^[0-9a-f]{16}$/, 'an id derived for a task without one');
    is_deeply($r->{result}, {status => 0}, 'result');
    is(redis('HGET', "cwmp:device:{$main::D}", 'parameter_key'), 'pk1',
       'the ParameterKey applied');
    my $p = redis_hash("cwmp:device:{$main::D}:params");
    is($p->{'InternetGatewayDevice.ManagementServer.PeriodicInformInterval'},
       '600', 'applied value cached');
    is($p->{'InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID'},
       'a<b&c', 'string cached');
}



=== TEST 3: a fault does not stop the queue; SetParameterValuesFault kept whole
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'spv-bad', name => 'setParameterValues',
     parameterValues => [['InternetGatewayDevice.X.A', 'x'],
                         ['InternetGatewayDevice.X.B', 'y']]},
    {id => 'gpv-after', name => 'getParameterValues',
     parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime']});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::fault_answer(9003, 'Invalid arguments',
     ['InternetGatewayDevice.X.A', 9008, 'not writable'],
     ['InternetGatewayDevice.X.B', 9007, 'bad value']),
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     ['InternetGatewayDevice.DeviceInfo.UpTime', '7', 'xsd:unsignedInt'])]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:SetParameterValues>/, qr/<cwmp:GetParameterValues>/, qr/\A\z/]
--- redis_check
if ($req == 3) {
    my $r = results();
    is(scalar @$r, 2, 'two results');
    is($r->[0]{task}, 'spv-bad', 'the faulted task');
    is($r->[0]{status}, 'fault', 'fault');
    is_deeply($r->[0]{result}, {faultCode => 9003,
        faultString => 'Invalid arguments',
        setParameterValuesFault => [
            {parameterName => 'InternetGatewayDevice.X.A', faultCode => 9008,
             faultString => 'not writable'},
            {parameterName => 'InternetGatewayDevice.X.B', faultCode => 9007,
             faultString => 'bad value'}]}, 'the whole fault');
    is(redis('HEXISTS', "cwmp:device:{$main::D}:params",
             'InternetGatewayDevice.X.A'), 0, 'a faulted SPV is not cached');
    is($r->[1]{task}, 'gpv-after', 'the next task ran');
    is($r->[1]{status}, 'done', 'and succeeded');
}



=== TEST 4: broken tasks get fault results; the good one after them runs
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, '{"name": "getParameterValues", "parameterNames": [',
    '["not", "an", "object"]',
    {id => 'unknown', name => 'makeCoffee'},
    {id => 'no-names', name => 'getParameterValues'},
    {id => 'ctl', name => 'getParameterValues', parameterNames => ["a\x01b"]},
    {id => 'old', name => 'reboot', expiry => 1000},
    {id => 'good', name => 'getRPCMethods'});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('GetRPCMethodsResponse',
     '<MethodList soap-enc:arrayType="xsd:string[2]"><string>GetRPCMethods</string><string>Reboot</string></MethodList>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:GetRPCMethods\/>\r\n/, qr/\A\z/]
--- redis_check
if ($req == 2) {
    my $r = results();
    is(scalar @$r, 7, 'a result for each task');
    is($r->[0]{status}, 'fault', 'broken JSON');
    is($r->[0]{result}{error}, 'invalid JSON', 'says so');
    is($r->[1]{result}{error}, 'a task is a JSON object', 'not an object');
    is($r->[2]{result}{error}, 'unknown task name', 'unknown name');
    is($r->[2]{result}{detail}, 'makeCoffee', 'which name');
    is($r->[3]{result}{error}, 'invalid arguments', 'missing arguments');
    like($r->[3]{result}{detail}, qr/parameterNames/, 'which argument');
    like($r->[4]{result}{detail}, qr/control character/, 'control character');
    is($r->[5]{status}, 'expired', 'expired');
    is($r->[6]{task}, 'good', 'the good task');
    is_deeply($r->[6]{result}, {methods => ['GetRPCMethods', 'Reboot']},
              'its result');
    is(redis('LLEN', "cwmp:device:{$main::D}:tasks"), 0, 'queue empty');
}



=== TEST 5: a session abandoned mid-task: the task stays queued
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'retry-me', name => 'getParameterValues',
    parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime']});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:GetParameterValues>/]
--- redis_check
if ($req == 1) {
    is(redis('LLEN', "cwmp:device:{$main::D}:tasks"), 1, 'still queued');
    is(scalar @{ results() }, 0, 'no result');
}



=== TEST 6: the next session runs it again (a new Inform replaces the old session)
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     ['InternetGatewayDevice.DeviceInfo.UpTime', '99', 'xsd:unsignedInt'])]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    is(last_result()->{task}, 'retry-me', 'ran again');
    is(redis('LLEN', "cwmp:device:{$main::D}:tasks"), 0, 'dequeued');
}



=== TEST 7: an answer with another request's cwmp:ID: a protocol error, nothing stored
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'idcheck', name => 'getParameterValues',
    parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime']});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('GetParameterValuesResponse',
                                     '<ParameterList/>', id => 'not-the-one')]
--- error_code eval
[200, 200, 400]
--- redis_check
if ($req == 2) {
    is(scalar @{ results() }, 0, 'no result');
    is(redis('LLEN', "cwmp:device:{$main::D}:tasks"), 1, 'still queued');
}



=== TEST 8: an answer of another method: a protocol error
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'm', name => 'getParameterValues',
    parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime']});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 400]
--- redis_check
if ($req == 2) {
    is(scalar @{ results() }, 0, 'no result');
}



=== TEST 9: the other RPCs: names, objects, attributes, reboot, transfers
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:params",
    'InternetGatewayDevice.X.Obj.2.Name', 'gone', 'InternetGatewayDevice.X.Keep', 'k');
Cwmp::Test::push_tasks($main::D,
    {id => 'gpn', name => 'getParameterNames',
     parameterPath => 'InternetGatewayDevice.X.', nextLevel => JSON::PP::true},
    {id => 'add', name => 'addObject', objectName => 'InternetGatewayDevice.X.Obj.'},
    {id => 'del', name => 'deleteObject', objectName => 'InternetGatewayDevice.X.Obj.2.'},
    {id => 'gpa', name => 'getParameterAttributes', parameterNames => ['InternetGatewayDevice.X.Keep']},
    {id => 'spa', name => 'setParameterAttributes', parameterAttributes => [
        {name => 'InternetGatewayDevice.X.Keep', notification => 2}]},
    {id => 'boot1', name => 'reboot'},
    {id => 'dl1', name => 'download', fileType => '1 Firmware Upgrade Image',
     url => 'http://files.example/fw.bin', fileSize => 1024});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('GetParameterNamesResponse',
     '<ParameterList><ParameterInfoStruct><Name>InternetGatewayDevice.X.Keep</Name><Writable>1</Writable></ParameterInfoStruct>'
     . '<ParameterInfoStruct><Name>InternetGatewayDevice.X.Obj.</Name><Writable>false</Writable></ParameterInfoStruct></ParameterList>'),
 "POST /cwmp\n" . Cwmp::Test::answer('AddObjectResponse', '<InstanceNumber>3</InstanceNumber><Status>0</Status>'),
 "POST /cwmp\n" . Cwmp::Test::answer('DeleteObjectResponse', '<Status>0</Status>'),
 "POST /cwmp\n" . Cwmp::Test::answer('GetParameterAttributesResponse',
     '<ParameterList><ParameterAttributeStruct><Name>InternetGatewayDevice.X.Keep</Name><Notification>1</Notification>'
     . '<AccessList><string>Subscriber</string></AccessList></ParameterAttributeStruct></ParameterList>'),
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterAttributesResponse'),
 "POST /cwmp\n" . Cwmp::Test::answer('RebootResponse'),
 "POST /cwmp\n" . Cwmp::Test::answer('DownloadResponse',
     '<Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime><CompleteTime>0001-01-01T00:00:00Z</CompleteTime>')]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:GetParameterNames>\r\n<ParameterPath>InternetGatewayDevice.X.</ParameterPath>\r\n<NextLevel>true</NextLevel>},
 qr{<cwmp:AddObject>\r\n<ObjectName>InternetGatewayDevice.X.Obj.</ObjectName>\r\n<ParameterKey></ParameterKey>},
 qr{<cwmp:DeleteObject>\r\n<ObjectName>InternetGatewayDevice.X.Obj.2.</ObjectName>},
 qr{<cwmp:GetParameterAttributes>\r\n<ParameterNames soap-enc:arrayType="xsd:string\[1\]">},
 qr{<cwmp:SetParameterAttributes>.*<NotificationChange>true</NotificationChange>\r\n<Notification>2</Notification>\r\n<AccessListChange>false</AccessListChange>}s,
 qr{<cwmp:Reboot>\r\n<CommandKey>boot1</CommandKey>},
 qr{<cwmp:Download>\r\n<CommandKey>dl1</CommandKey>\r\n<FileType>1 Firmware Upgrade Image</FileType>\r\n<URL>http://files.example/fw.bin</URL>\r\n<Username></Username>\r\n<Password></Password>\r\n<FileSize>1024</FileSize>},
 qr/\A\z/]
--- redis_check
if ($req == 8) {
    my %r = map { $_->{task} => $_ } @{ results() };
    is_deeply($r{gpn}{result}{parameters},
              [['InternetGatewayDevice.X.Keep', JSON::PP::true],
               ['InternetGatewayDevice.X.Obj.', JSON::PP::false]], 'names');
    is_deeply($r{add}{result}, {instanceNumber => 3, status => 0}, 'instance');
    is_deeply($r{del}{result}, {status => 0}, 'deleted');
    is(redis('HEXISTS', "cwmp:device:{$main::D}:params",
             'InternetGatewayDevice.X.Obj.2.Name'), 0, 'removed from the cache');
    is(redis('HGET', "cwmp:device:{$main::D}:params",
             'InternetGatewayDevice.X.Keep'), 'k', 'others kept');
    is_deeply($r{gpa}{result}{parameterAttributes},
              [{name => 'InternetGatewayDevice.X.Keep', notification => 1,
                accessList => ['Subscriber']}], 'attributes');
    is_deeply($r{spa}{result}, {}, 'attributes set');
    ok(!$r{boot1} && !$r{dl1}, 'no result yet for the reboot and the download');
    my $p = redis_hash("cwmp:device:{$main::D}:pending");
    ok($p->{boot1}, 'the reboot waits for "M Reboot"');
    ok($p->{dl1}, 'the download (status 1) waits for its TransferComplete');
}



=== TEST 9b: the next session: "M Reboot" finishes the reboot, TransferComplete the download
--- config
    location /cwmp { cwmp; }
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['1 BOOT', ['M Reboot', 'boot1'],
                                                 '7 TRANSFER COMPLETE', ['M Download', 'dl1']]),
 "POST /cwmp\n" . Cwmp::Test::answer('TransferComplete',
     '<CommandKey>dl1</CommandKey><FaultStruct><FaultCode>9010</FaultCode><FaultString>download failed</FaultString></FaultStruct>'
     . '<StartTime>2026-11-27T00:00:00Z</StartTime><CompleteTime>2026-11-27T00:00:05Z</CompleteTime>'),
 "POST /cwmp\n"]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr{<cwmp:TransferCompleteResponse/>}, qr/\A\z/]
--- redis_check
if ($req == 2) {
    my %r = map { $_->{task} => $_ } @{ results() };
    is($r{boot1}{status}, 'done', 'rebooted');
    is($r{boot1}{name}, 'reboot', 'the reboot task');
    is($r{dl1}{status}, 'fault', 'the download failed');
    is_deeply($r{dl1}{result}, {faultCode => 9010, faultString => 'download failed',
        startTime => '2026-11-27T00:00:00Z', completeTime => '2026-11-27T00:00:05Z'},
        'its fault struct and times');
    is(redis('HLEN', "cwmp:device:{$main::D}:pending"), 0, 'nothing pending');
}



=== TEST 10: the session cookie: a broken task logged, skipped, the session over
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:session",
                  'token', '0123456789abcdef0123456789abcdef',
                  'cwmp_version', '1.2');
Cwmp::Test::push_tasks($main::D, '{"name": "getParameterValues"');
--- request
POST /cwmp
--- more_headers eval
"Cookie: cwmp_session=0123456789abcdef0123456789abcdef.$main::D"
--- error_code: 204
--- redis_check
is(last_result()->{status}, 'fault', 'a fault result');
is(redis('EXISTS', "cwmp:device:{$main::D}:session"), 0, 'session over');
--- error_log eval
qr/\[info\] .*cwmp: task not sent: invalid JSON: .*, client: 127\.0\.0\.1, server: localhost, request: "POST \/cwmp HTTP\/1\.1", host: "localhost", device: "00AB12-HG%2D100-S1"/



=== TEST 11: the session cookie: the task goes out in the session's namespace
--- config
    location /cwmp {
        cwmp;
        add_header X-Cwmp "$cwmp_device_id $cwmp_session_id $cwmp_rpc" always;
    }
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:session",
                  'token', '0123456789abcdef0123456789abcdef',
                  'cwmp_version', '1.4', 'ns', 'urn:dslforum-org:cwmp-1-2');
Cwmp::Test::push_tasks($main::D, {name => 'factoryReset'});
--- request
POST /cwmp
--- more_headers eval
"Cookie: cwmp_session=0123456789abcdef0123456789abcdef.$main::D"
--- error_code: 200
--- response_body_like chomp
xmlns:cwmp="urn:dslforum-org:cwmp-1-2">.*<cwmp:FactoryReset/>\r\n
--- response_headers
X-Cwmp: 00AB12-HG%2D100-S1 01234567 ->FactoryReset
--- redis_check
like(redis('HGET', "cwmp:device:{$main::D}:session", 'rpc_id'),
     qr/^[0-9a-f]{16}$/, 'the request in flight');



=== TEST 12: one session per device: a concurrent second Inform is refused, nothing stored
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:session",
                  'token', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'active', time);
Cwmp::Test::redis('PEXPIRE', "cwmp:device:{$main::D}:session", 30000);
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC'])
--- error_code: 503
--- response_headers
Retry-After: 10
--- response_body
another session of this device is in progress, retry later
--- redis_check
is(redis('EXISTS', "cwmp:device:{$main::D}"), 0, 'nothing stored');
is(redis('HGET', "cwmp:device:{$main::D}:session", 'token'),
   'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'the session in progress kept');
--- error_log
cwmp: Inform refused, another session of the device is in progress



=== TEST 13: the CPE's own session (its cookie) is replaced by its new Inform
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:session",
                  'token', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');
--- request eval
$main::Inform
--- more_headers eval
"Cookie: cwmp_session=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.$main::D"
--- error_code: 200
--- redis_check
like(redis('HGET', "cwmp:device:{$main::D}:session", 'token'),
     qr/^(?!b{32})[0-9a-f]{32}$/, 'a new session');
is(redis('HGET', "cwmp:device:{$main::D}:events", '1 BOOT') =~ /^\d+$/ ? 1 : 0,
   1, 'the event recorded with its time');



=== TEST 14: TransferComplete in a session: answered, recorded for other systems
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:pending", 'dl1',
    '{"task":"{\\"id\\":\\"dl1\\",\\"name\\":\\"download\\"}","since":' . time . '}');
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:session",
                  'token', 'cccccccccccccccccccccccccccccccc');
--- request eval
"POST /cwmp\n" . Cwmp::Test::answer('TransferComplete',
    '<CommandKey>dl1</CommandKey><FaultStruct><FaultCode>0</FaultCode><FaultString></FaultString></FaultStruct>'
    . '<StartTime>2026-11-27T00:00:00Z</StartTime><CompleteTime>2026-11-27T00:01:00Z</CompleteTime>',
    id => 'tc-1')
--- more_headers eval
"Cookie: cwmp_session=cccccccccccccccccccccccccccccccc.$main::D"
--- error_code: 200
--- response_body_like chomp
<cwmp:ID soap-env:mustUnderstand="1">tc-1</cwmp:ID>.*<soap-env:Body>\r\n<cwmp:TransferCompleteResponse/>\r\n</soap-env:Body>
--- redis_check
my $e = requests();
is(scalar @$e, 1, 'recorded');
my %f = %{ $e->[0] };
is($f{device}, $main::D, 'device');
is($f{method}, 'TransferComplete', 'method');
is_deeply(JSON::PP->new->decode($f{args}), {CommandKey => 'dl1',
    FaultStruct => {FaultCode => '0', FaultString => ''},
    StartTime => '2026-11-27T00:00:00Z', CompleteTime => '2026-11-27T00:01:00Z'},
    'arguments');
my $r = last_result();
is($r->{task}, 'dl1', 'the pending download it names');
is($r->{name}, 'download', 'a download');
is($r->{status}, 'done', 'done (FaultCode 0)');



=== TEST 15: GetRPCMethods from the CPE: the ACS's methods
--- init
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:session",
                  'token', 'cccccccccccccccccccccccccccccccc');
--- request eval
"POST /cwmp\n" . Cwmp::Test::answer('GetRPCMethods', '', id => 'g')
--- more_headers eval
"Cookie: cwmp_session=cccccccccccccccccccccccccccccccc.$main::D"
--- error_code: 200
--- response_body_like chomp
<cwmp:GetRPCMethodsResponse>\r\n<MethodList soap-enc:arrayType="xsd:string\[8\]">\r\n<string>Inform</string>.*<string>AutonomousDUStateChangeComplete</string>\r\n</MethodList>



=== TEST 16: Kicked: the NextURL it asked for
--- init
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:session",
                  'token', 'cccccccccccccccccccccccccccccccc');
--- request eval
"POST /cwmp\n" . Cwmp::Test::answer('Kicked',
    '<Command>login</Command><Referer>http://portal/</Referer><Arg>a</Arg><Next>http://portal/next?a=1&amp;b=2</Next>')
--- more_headers eval
"Cookie: cwmp_session=cccccccccccccccccccccccccccccccc.$main::D"
--- error_code: 200
--- response_body_like chomp
<cwmp:KickedResponse>\r\n<NextURL>http://portal/next\?a=1&amp;b=2</NextURL>\r\n</cwmp:KickedResponse>



=== TEST 17: a CPE request with a session that is not its own: fault 8003
--- init
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:session",
                  'token', 'cccccccccccccccccccccccccccccccc');
--- request eval
"POST /cwmp\n" . Cwmp::Test::answer('RequestDownload', '<FileType>1 Firmware Upgrade Image</FileType>')
--- more_headers eval
"Cookie: cwmp_session=dddddddddddddddddddddddddddddddd.$main::D"
--- error_code: 500
--- response_body_like chomp
<FaultCode>8003</FaultCode>
--- error_log
"RequestDownload" in a session unknown, expired or another's



=== TEST 18: a task handed out in 3 sessions without an answer is dropped
--- init
Cwmp::Test::redis_flush();
my $poison = '{"id":"poison","name":"reboot"}';
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:session",
                  'token', '0123456789abcdef0123456789abcdef');
Cwmp::Test::push_tasks($main::D, $poison, {id => 'next', name => 'getRPCMethods'});
require Digest::SHA;
Cwmp::Test::redis('SET', "cwmp:device:{$main::D}:tries",
                  Digest::SHA::sha1_hex($poison) . ':3');
--- request
POST /cwmp
--- more_headers eval
"Cookie: cwmp_session=0123456789abcdef0123456789abcdef.$main::D"
--- error_code: 200
--- response_body_like chomp
<cwmp:GetRPCMethods/>
--- redis_check
my $r = last_result();
is($r->{task}, 'poison', 'the task that never finished');
is($r->{status}, 'fault', 'a fault');
is($r->{result}{error}, 'abandoned', 'abandoned');
like(redis('GET', "cwmp:device:{$main::D}:tries"), qr/^[0-9a-f]{40}:1$/,
     'the next task is on its first try');



=== TEST 19: the tries of a task handed out again count up
--- init
Cwmp::Test::redis_flush();
my $t = '{"id":"again","name":"factoryReset"}';
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:session",
                  'token', '0123456789abcdef0123456789abcdef');
Cwmp::Test::push_tasks($main::D, $t);
require Digest::SHA;
Cwmp::Test::redis('SET', "cwmp:device:{$main::D}:tries",
                  Digest::SHA::sha1_hex($t) . ':1');
--- request
POST /cwmp
--- more_headers eval
"Cookie: cwmp_session=0123456789abcdef0123456789abcdef.$main::D"
--- error_code: 200
--- response_body_like chomp
<cwmp:FactoryReset/>
--- redis_check
like(redis('GET', "cwmp:device:{$main::D}:tries"), qr/^[0-9a-f]{40}:2$/,
     'second try');



=== TEST 20: a pending task no CPE report finishes within an hour: a fault
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:pending", 'old',
    '{"task":"{\\"id\\":\\"old\\",\\"name\\":\\"reboot\\"}","since":' . (time - 7200) . '}');
--- request eval
$main::Inform
--- error_code: 200
--- redis_check
my $r = last_result();
is($r->{task}, 'old', 'the stale reboot');
is($r->{status}, 'fault', 'a fault');
is($r->{result}{error}, 'unfinished', 'unfinished');
is(redis('HLEN', "cwmp:device:{$main::D}:pending"), 0, 'no longer pending');



=== TEST 21: refreshObject: the subtree's values, and what it no longer has leaves the cache
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:params",
    'InternetGatewayDevice.Hosts.Host.1.IP', '10.0.0.5',
    'InternetGatewayDevice.Hosts.Host.2.IP', '10.0.0.6',
    'InternetGatewayDevice.Other', 'kept');
Cwmp::Test::push_tasks($main::D, {id => 'r1', name => 'refreshObject',
                                  objectName => 'InternetGatewayDevice.Hosts.'});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     ['InternetGatewayDevice.Hosts.Host.1.IP', '10.0.0.9', 'xsd:string'],
     ['InternetGatewayDevice.Hosts.HostNumberOfEntries', '1', 'xsd:unsignedInt'])]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:GetParameterValues>\r\n<ParameterNames soap-enc:arrayType="xsd:string\[1\]">\r\n<string>InternetGatewayDevice.Hosts.</string>},
 qr/\A\z/]
--- redis_check
if ($req == 2) {
    is(last_result()->{name}, 'refreshObject', 'result');
    my $p = redis_hash("cwmp:device:{$main::D}:params");
    is($p->{'InternetGatewayDevice.Hosts.Host.1.IP'}, '10.0.0.9', 'refreshed');
    ok(!exists $p->{'InternetGatewayDevice.Hosts.Host.2.IP'}, 'gone from the subtree, gone from the cache');
    is($p->{'InternetGatewayDevice.Other'}, 'kept', 'outside the subtree kept');
}



=== TEST 22: addObject with parameterValues: set on the new instance right after
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'wlan', name => 'addObject',
    objectName => 'InternetGatewayDevice.X.Obj.',
    parameterValues => [['Name', 'guest'], ['Enable', JSON::PP::true]]});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('AddObjectResponse', '<InstanceNumber>4</InstanceNumber><Status>0</Status>'),
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:AddObject>/,
 qr{<Name>InternetGatewayDevice.X.Obj.4.Name</Name>\r\n<Value xsi:type="xsd:string">guest</Value>.*<Name>InternetGatewayDevice.X.Obj.4.Enable</Name>\r\n<Value xsi:type="xsd:boolean">true</Value>}s,
 qr/\A\z/]
--- redis_check
if ($req == 3) {
    my $r = results();
    is_deeply([map { "$_->{task}:$_->{name}:$_->{status}" } @$r],
              ['wlan:addObject:done', 'wlan.values:setParameterValues:done'],
              'the object, then its values');
    is(redis('HGET', "cwmp:device:{$main::D}:params", 'InternetGatewayDevice.X.Obj.4.Name'),
       'guest', 'cached');
}



=== TEST 23: setParameterValues without a type: the cached type, else the data model's
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:types",
                  'InternetGatewayDevice.X.Flag', 'xsd:boolean');
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:session",
                  'token', '0123456789abcdef0123456789abcdef');
Cwmp::Test::push_tasks($main::D, {name => 'setParameterValues',
    parameterValues => [['InternetGatewayDevice.X.Flag', '1'],
                        ['InternetGatewayDevice.X.Count', '7', 'xsd:int'],
                        ['InternetGatewayDevice.ManagementServer.PeriodicInformInterval', '600'],
                        ['Device.IP.Interface.3.IPv4Address.12.Enable', 'true'],
                        ['Device.IP.Interface.3.IPv4Address.12.IPAddress', '192.0.2.1']]});
--- request
POST /cwmp
--- more_headers eval
"Cookie: cwmp_session=0123456789abcdef0123456789abcdef.$main::D"
--- error_code: 200
--- response_body_like chomp
<Name>InternetGatewayDevice.X.Flag</Name>\r\n<Value xsi:type="xsd:boolean">1</Value>.*<Name>InternetGatewayDevice.X.Count</Name>\r\n<Value xsi:type="xsd:int">7</Value>.*<Value xsi:type="xsd:unsignedInt">600</Value>.*<Value xsi:type="xsd:boolean">true</Value>.*<Value xsi:type="xsd:string">192.0.2.1</Value>



=== TEST 24: scheduleDownload and changeDUState on the wire; the DU change waits for its report
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'sd1', name => 'scheduleDownload', fileType => '1 Firmware Upgrade Image',
     url => 'http://files.example/fw.bin',
     timeWindows => [{windowStart => 0, windowEnd => 3600, windowMode => '1 At Any Time'}]},
    {id => 'du1', name => 'changeDUState', operations => [
        {type => 'install', url => 'http://files.example/app.ipk'},
        {type => 'uninstall', uuid => '4d1ad4a7-6d45-5c45-9cbc-8f6d8c64d8aa'}]});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('ScheduleDownloadResponse'),
 "POST /cwmp\n" . Cwmp::Test::answer('ChangeDUStateResponse')]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:ScheduleDownload>\r\n<CommandKey>sd1</CommandKey>\r\n<FileType>1 Firmware Upgrade Image</FileType>\r\n<URL>http://files.example/fw.bin</URL>\r\n<Username></Username>\r\n<Password></Password>\r\n<FileSize>0</FileSize>\r\n<TargetFileName></TargetFileName>\r\n<TimeWindowList soap-enc:arrayType="cwmp:TimeWindowStruct\[1\]">\r\n<TimeWindowStruct>\r\n<WindowStart>0</WindowStart>\r\n<WindowEnd>3600</WindowEnd>\r\n<WindowMode>1 At Any Time</WindowMode>\r\n<UserMessage></UserMessage>\r\n<MaxRetries>-1</MaxRetries>},
 qr{<cwmp:ChangeDUState>\r\n<Operations xsi:type="cwmp:InstallOpStruct">\r\n<URL>http://files.example/app.ipk</URL>.*<Operations xsi:type="cwmp:UninstallOpStruct">\r\n<UUID>4d1ad4a7-6d45-5c45-9cbc-8f6d8c64d8aa</UUID>.*</Operations>\r\n<CommandKey>du1</CommandKey>}s,
 qr/\A\z/]
--- redis_check
if ($req == 3) {
    is(last_result()->{task}, 'sd1', 'the scheduled download answered');
    ok(redis('HEXISTS', "cwmp:device:{$main::D}:pending", 'du1'),
       'the DU change waits for DUStateChangeComplete');
}



=== TEST 25: DUStateChangeComplete finishes the changeDUState it names
--- init
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:session",
                  'token', 'cccccccccccccccccccccccccccccccc');
--- request eval
"POST /cwmp\n" . Cwmp::Test::answer('DUStateChangeComplete',
    '<Results><OpResultStruct><UUID>u</UUID><CurrentState>Installed</CurrentState>'
    . '<Fault><FaultCode>0</FaultCode><FaultString></FaultString></Fault></OpResultStruct></Results>'
    . '<CommandKey>du1</CommandKey>')
--- more_headers eval
"Cookie: cwmp_session=cccccccccccccccccccccccccccccccc.$main::D"
--- error_code: 200
--- response_body_like chomp
<cwmp:DUStateChangeCompleteResponse/>
--- redis_check
my $r = last_result();
is($r->{task}, 'du1', 'the DU change');
is($r->{status}, 'done', 'done');
is($r->{result}{Results}{OpResultStruct}{CurrentState}, 'Installed', 'its results');
is(redis('HLEN', "cwmp:device:{$main::D}:pending"), 0, 'nothing pending');



=== TEST 26: AutonomousTransferComplete, AutonomousDUStateChangeComplete, RequestDownload: answered, recorded
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:session",
                  'token', 'cccccccccccccccccccccccccccccccc');
--- request eval
["POST /cwmp\n" . Cwmp::Test::answer('AutonomousTransferComplete',
     '<AnnounceURL></AnnounceURL><TransferURL>http://x/fw</TransferURL><IsDownload>1</IsDownload>'
     . '<FileType>1 Firmware Upgrade Image</FileType><FileSize>10</FileSize><TargetFileName></TargetFileName>'
     . '<FaultStruct><FaultCode>0</FaultCode><FaultString></FaultString></FaultStruct>'
     . '<StartTime>2026-11-27T00:00:00Z</StartTime><CompleteTime>2026-11-27T00:00:09Z</CompleteTime>'),
 "POST /cwmp\n" . Cwmp::Test::answer('AutonomousDUStateChangeComplete',
     '<Results><AutonOpResultStruct><UUID>u</UUID><OperationPerformed>Install</OperationPerformed></AutonOpResultStruct></Results>'),
 "POST /cwmp\n" . Cwmp::Test::answer('RequestDownload',
     '<FileType>3 Vendor Configuration File</FileType><FileTypeArg></FileTypeArg>')]
--- more_headers eval
"Cookie: cwmp_session=cccccccccccccccccccccccccccccccc.$main::D"
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr{<cwmp:AutonomousTransferCompleteResponse/>\r\n},
 qr{<cwmp:AutonomousDUStateChangeCompleteResponse/>},
 qr{<cwmp:RequestDownloadResponse/>}]
--- redis_check
my $e = requests();
is(scalar @$e, $req + 1, 'recorded');
if ($req == 2) {
    my %f = %{ $e->[2] };
    is($f{method}, 'RequestDownload', 'method');
    is(JSON::PP->new->decode($f{args})->{FileType}, '3 Vendor Configuration File', 'what it asked for');
}



=== TEST 27: a CPE that sends HoldRequests (an ACS -> CPE header) is served all the same
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(id => 'h')
    =~ s{</cwmp:ID>}{</cwmp:ID><cwmp:HoldRequests soap-env:mustUnderstand="1">true</cwmp:HoldRequests>}r
--- error_code: 200
--- response_body_like chomp
<cwmp:ID soap-env:mustUnderstand="1">h</cwmp:ID>\r\n</soap-env:Header>



=== TEST 28: upload on the wire; status 1 waits for its TransferComplete, status 0 is done at once
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'ul1', name => 'upload', fileType => '2 Vendor Log File',
     url => 'http://files.example/upload/', username => 'u', password => 'p', delaySeconds => 5},
    {id => 'ul2', name => 'upload', fileType => '1 Vendor Configuration File',
     url => 'http://files.example/upload/'});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('UploadResponse',
     '<Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime><CompleteTime>0001-01-01T00:00:00Z</CompleteTime>'),
 "POST /cwmp\n" . Cwmp::Test::answer('UploadResponse',
     '<Status>0</Status><StartTime>2026-11-27T00:00:00Z</StartTime><CompleteTime>2026-11-27T00:00:01Z</CompleteTime>')]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:Upload>\r\n<CommandKey>ul1</CommandKey>\r\n<FileType>2 Vendor Log File</FileType>\r\n<URL>http://files.example/upload/</URL>\r\n<Username>u</Username>\r\n<Password>p</Password>\r\n<DelaySeconds>5</DelaySeconds>\r\n</cwmp:Upload>},
 qr{<cwmp:Upload>\r\n<CommandKey>ul2</CommandKey>\r\n<FileType>1 Vendor Configuration File</FileType>},
 qr/\A\z/]
--- redis_check
if ($req == 3) {
    my %r = map { $_->{task} => $_ } @{ results() };
    is($r{ul2}{status}, 'done', 'status 0: done at once');
    is($r{ul2}{result}{completeTime}, '2026-11-27T00:00:01Z', '... with its times');
    ok(!$r{ul1}, 'status 1: no result yet');
    like(redis('HGET', "cwmp:device:{$main::D}:pending", 'ul1'), qr/"state":"answered"/,
         '... pending, answered');
}



=== TEST 28b: ... its TransferComplete in the next session finishes it
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['7 TRANSFER COMPLETE', ['M Upload', 'ul1']]),
 "POST /cwmp\n" . Cwmp::Test::answer('TransferComplete',
     '<CommandKey>ul1</CommandKey><FaultStruct><FaultCode>0</FaultCode><FaultString></FaultString></FaultStruct>'
     . '<StartTime>2026-11-27T00:00:05Z</StartTime><CompleteTime>2026-11-27T00:00:07Z</CompleteTime>'),
 "POST /cwmp\n"]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr{<cwmp:TransferCompleteResponse/>}, qr/\A\z/]
--- redis_check
if ($req == 2) {
    my $r = last_result();
    is($r->{task}, 'ul1', 'the TransferComplete finishes the upload');
    is($r->{status}, 'done', 'done');
    is(redis('HLEN', "cwmp:device:{$main::D}:pending"), 0, 'nothing pending');
}



=== TEST 29: cancelTransfer: done, or the CPE's fault 9021
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'ct1', name => 'cancelTransfer', commandKey => 'dl9'},
    {id => 'ct2', name => 'cancelTransfer', commandKey => 'dl10'},
    {id => 'ct3', name => 'cancelTransfer'});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('CancelTransferResponse'),
 "POST /cwmp\n" . Cwmp::Test::fault_answer(9021, 'Cancelation of file transfer not permitted')]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:CancelTransfer>\r\n<CommandKey>dl9</CommandKey>\r\n</cwmp:CancelTransfer>},
 qr{<cwmp:CancelTransfer>\r\n<CommandKey>dl10</CommandKey>},
 qr/\A\z/]
--- redis_check
if ($req == 3) {
    my %r = map { $_->{task} => $_ } @{ results() };
    is($r{ct1}{status}, 'done', 'cancelled');
    is_deeply($r{ct1}{result}, {}, '... {}');
    is($r{ct2}{status}, 'fault', 'not permitted');
    is($r{ct2}{result}{faultCode}, 9021, '... fault 9021');
    is($r{ct3}{status}, 'fault', 'no commandKey: not sent');
    is($r{ct3}{result}{error}, 'invalid arguments', '... invalid arguments');
}



=== TEST 30: getAllQueuedTransfers: the CPE's transfer list in the result
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'q1', name => 'getAllQueuedTransfers'});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('GetAllQueuedTransfersResponse',
     '<TransferList soap-enc:arrayType="cwmp:AllQueuedTransferStruct[2]">'
     . '<AllQueuedTransferStruct><CommandKey>fw42</CommandKey><State>2</State><IsDownload>true</IsDownload>'
     . '<FileType>1 Firmware Upgrade Image</FileType><FileSize>7340032</FileSize><TargetFileName>fw.bin</TargetFileName></AllQueuedTransferStruct>'
     . '<AllQueuedTransferStruct><CommandKey></CommandKey><State>1</State><IsDownload>0</IsDownload>'
     . '<FileType>2 Vendor Log File</FileType><FileSize>0</FileSize><TargetFileName></TargetFileName></AllQueuedTransferStruct>'
     . '</TransferList>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr{<cwmp:GetAllQueuedTransfers/>}, qr/\A\z/]
--- redis_check
if ($req == 2) {
    my $r = last_result();
    is($r->{task}, 'q1', 'the task');
    is($r->{status}, 'done', 'done');
    is_deeply($r->{result}{transferList}, [
        {commandKey => 'fw42', state => 2, isDownload => JSON::PP::true, fileType => '1 Firmware Upgrade Image',
         fileSize => 7340032, targetFileName => 'fw.bin'},
        {commandKey => '', state => 1, isDownload => JSON::PP::false, fileType => '2 Vendor Log File',
         fileSize => 0, targetFileName => ''}], 'its transfer list');
}
