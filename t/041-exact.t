# Exactly once, whatever the CPE or the network does: no request sent twice
# in a session, no effect (a reboot, a factory reset, a download) asked
# twice for one task, no leftover plan, no queue shifted under the task in
# flight, a late report still matched, an abandoned session taken over, a
# stale cookie not starving its device.  Each block reproduces a finding
# of the fault runs (t/chaos) that the ACS got wrong before.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;
use Digest::SHA ();

no_shuffle();
Cwmp::Test::setup();
Cwmp::Test::defaults(config => "location /cwmp { cwmp; }",
                     no_error_log => "[error]\n[alert]\n");

our $D = $Cwmp::Test::Device;
our $K = "cwmp:device:{$D}";
our $Inform = "POST /cwmp\n" . Cwmp::Test::inform();
our $Periodic = "POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC']);
our $Token = '0123456789abcdef0123456789abcdef';
our $Cookie = "Cookie: cwmp_session=$Token.$D";
our $Seen;

# a session of the device in Redis, as an Inform leaves it
sub session {
    my (%f) = @_;
    Cwmp::Test::redis('DEL', "$K:session");
    Cwmp::Test::redis('HSET', "$K:session", token => $Token, turn => 'cpe',
                      active => time, %f);
    Cwmp::Test::redis('PEXPIRE', "$K:session", 30000);
}

run_tests();

__DATA__

=== TEST 1: an empty POST to a request in flight: not sent again, the session ends, one try used
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'spa-1', name => 'setParameterAttributes',
    parameterAttributes => [{name => 'InternetGatewayDevice.X.A', notification => 2}]});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n", "POST /cwmp\n"]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:SetParameterAttributes>/, qr/\A\z/]
--- redis_check
if ($req == 2) {
    is(redis('LLEN', "$main::K:tasks"), 1, 'still queued');
    like(redis('GET', "$main::K:tries"), qr/^[0-9a-f]{40}:1$/, 'one try used');
    is(scalar @{ results() }, 0, 'no result yet');
    is(redis('EXISTS', "$main::K:session"), 0, 'the session is over');
}



=== TEST 2: the same CPE, its third session: refused again, a third try
--- init
Cwmp::Test::end_sessions();
my $t = Cwmp::Test::redis('LINDEX', "$main::K:tasks", 0);
Cwmp::Test::redis('SET', "$main::K:tries", Digest::SHA::sha1_hex($t) . ':2');
--- pipelined_requests eval
[$main::Periodic, "POST /cwmp\n", "POST /cwmp\n"]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:SetParameterAttributes>/, qr/\A\z/]
--- redis_check
if ($req == 2) {
    like(redis('GET', "$main::K:tries"), qr/:3$/, 'the third try');
}



=== TEST 2b: ... and its fourth session: abandoned, not sent
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
[$main::Periodic, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    my $r = last_result();
    is($r->{task}, 'spa-1', 'the task');
    is($r->{status}, 'fault', 'a fault');
    is($r->{result}{error}, 'abandoned', 'abandoned after 3 sessions');
    is(redis('LLEN', "$main::K:tasks"), 0, 'dequeued');
}



=== TEST 3: an empty POST again on another connection (its answer lost): the request again, as it was, once
--- init
Cwmp::Test::redis_flush();
main::session();
Cwmp::Test::push_tasks($main::D, {id => 'g1', name => 'getParameterValues',
    parameterNames => ['InternetGatewayDevice.X.A']});
--- request eval
["POST /cwmp\n", "POST /cwmp\n", "POST /cwmp\n"]
--- more_headers eval
[$main::Cookie, $main::Cookie, $main::Cookie]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/<cwmp:GetParameterValues>/, qr/<cwmp:GetParameterValues>/, qr/\A\z/]
--- redis_check
my ($id) = $body =~ m{<cwmp:ID [^>]*>([0-9a-f]+)</cwmp:ID>};
if ($req == 0) {
    $main::Seen = $id;
}
if ($req == 1) {
    is($id, $main::Seen, 'the same request, its cwmp:ID too');
}
if ($req == 2) {
    is(redis('LLEN', "$main::K:tasks"), 1, 'still queued: a try used');
}



=== TEST 4: an answer sent again after its first copy was stored: the next request again, nothing stored twice
--- init
Cwmp::Test::redis_flush();
my $g1 = Cwmp::Test::json({id => 'g1', name => 'getParameterValues',
                           parameterNames => ['InternetGatewayDevice.X.A']});
main::session(turn => 'acs', rpc_id => 'R1', task => $g1, conn => 'another');
Cwmp::Test::push_tasks($main::D, $g1,
    {id => 'g2', name => 'getParameterValues', parameterNames => ['InternetGatewayDevice.X.B']});
--- request eval
["POST /cwmp\n" . Cwmp::Test::answer('GetParameterValuesResponse',
     '<ParameterList><ParameterValueStruct><Name>InternetGatewayDevice.X.A</Name><Value>1</Value></ParameterValueStruct></ParameterList>',
     id => 'R1'),
 "POST /cwmp\n" . Cwmp::Test::answer('GetParameterValuesResponse',
     '<ParameterList><ParameterValueStruct><Name>InternetGatewayDevice.X.A</Name><Value>1</Value></ParameterValueStruct></ParameterList>',
     id => 'R1')]
--- more_headers eval
[$main::Cookie, $main::Cookie]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/<string>InternetGatewayDevice.X.B<\/string>/, qr/<string>InternetGatewayDevice.X.B<\/string>/]
--- redis_check
my ($id) = $body =~ m{<cwmp:ID [^>]*>([0-9a-f]+)</cwmp:ID>};
$main::Seen = $id if $req == 0;
if ($req == 1) {
    is($id, $main::Seen, 'the same request, its cwmp:ID too');
    is(scalar @{ results() }, 1, 'one result, once');
    is(last_result()->{task}, 'g1', 'the first task');
}



=== TEST 5: a reboot whose answer was lost: M Reboot finishes it, it is not sent again
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'boot-1', name => 'reboot'});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/InformResponse/, qr{<cwmp:Reboot>\r\n<CommandKey>boot-1</CommandKey>}]
--- redis_check
if ($req == 1) {
    is(redis('LLEN', "$main::K:tasks"), 0, 'out of the queue as it goes out');
    like(redis('HGET', "$main::K:pending", 'boot-1'), qr/"state":"sent"/,
         'pending, its answer not known');
}



=== TEST 6: ... the CPE rebooted and comes back without a cookie: done, no second Reboot
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['1 BOOT', ['M Reboot', 'boot-1']]),
 "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    my $r = last_result();
    is($r->{task}, 'boot-1', 'the reboot');
    is($r->{status}, 'done', 'done');
    is(redis('HLEN', "$main::K:pending"), 0, 'no longer pending');
}



=== TEST 7: a reboot that never reached the CPE (it booted without reporting it): sent again
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "$main::K:pending", 'boot-2',
    '{"task":"{\"id\":\"boot-2\",\"name\":\"reboot\"}","since":' . time . ',"state":"sent"}');
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/InformResponse/, qr{<cwmp:Reboot>\r\n<CommandKey>boot-2</CommandKey>}]



=== TEST 8: a reboot answered, then a periodic Inform before the CPE rebooted: it waits, not sent again
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "$main::K:pending", 'boot-3',
    '{"task":"{\"id\":\"boot-3\",\"name\":\"reboot\"}","since":' . time . ',"state":"answered"}');
--- pipelined_requests eval
[$main::Periodic, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    ok(redis('HEXISTS', "$main::K:pending", 'boot-3'), 'still waiting for M Reboot');
}



=== TEST 8b: a reboot sent but not answered, then a periodic Inform: it never took effect, sent again
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "$main::K:pending", 'boot-4',
    '{"task":"{\\"id\\":\\"boot-4\\",\\"name\\":\\"reboot\\"}","since":' . time . ',"state":"sent"}');
--- pipelined_requests eval
[$main::Periodic, "POST /cwmp\n"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/InformResponse/, qr{<cwmp:Reboot>\r\n<CommandKey>boot-4</CommandKey>}]



=== TEST 9: a factory reset whose answer was lost: 0 BOOTSTRAP finishes it
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'fr-1', name => 'factoryReset'});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::inform(events => ['0 BOOTSTRAP', '1 BOOT']),
 "POST /cwmp\n"]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:FactoryReset/, qr/InformResponse/, qr/\A\z/]
--- redis_check
if ($req == 3) {
    my $r = last_result();
    is($r->{task}, 'fr-1', 'the factory reset');
    is($r->{status}, 'done', 'done');
    is(redis('HLEN', "$main::K:pending"), 0, 'no longer pending');
}



=== TEST 10: a download whose answer was lost: its TransferComplete finishes it, no second Download
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'dl-1', name => 'download',
    fileType => '1 Firmware Upgrade Image', url => 'http://files.example/fw.bin'});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::inform(events => ['1 BOOT', '7 TRANSFER COMPLETE', ['M Download', 'dl-1']]),
 "POST /cwmp\n" . Cwmp::Test::answer('TransferComplete',
     '<CommandKey>dl-1</CommandKey><FaultStruct><FaultCode>0</FaultCode><FaultString></FaultString></FaultStruct>'
     . '<StartTime>2026-11-27T00:00:00Z</StartTime><CompleteTime>2026-11-27T00:00:05Z</CompleteTime>'),
 "POST /cwmp\n"]
--- error_code eval
[200, 200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:Download>/, qr/InformResponse/,
 qr/<cwmp:TransferCompleteResponse/, qr/\A\z/]
--- redis_check
if ($req == 4) {
    my $r = last_result();
    is($r->{task}, 'dl-1', 'the download');
    is($r->{status}, 'done', 'done');
    is(redis('HLEN', "$main::K:pending"), 0, 'no longer pending');
}



=== TEST 11: a scheduleInform whose answer was lost: M ScheduleInform finishes it
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'si-1', name => 'scheduleInform', delaySeconds => 5});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::inform(events => ['3 SCHEDULED', ['M ScheduleInform', 'si-1']]),
 "POST /cwmp\n"]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:ScheduleInform>/, qr/InformResponse/, qr/\A\z/]
--- redis_check
if ($req == 3) {
    is(last_result()->{task}, 'si-1', 'the scheduleInform');
    is(last_result()->{status}, 'done', 'done');
    is(redis('LLEN', "$main::K:tasks"), 0, 'dequeued');
}



=== TEST 12: an OSS LPUSHes while a task is in flight: nothing runs twice
--- init
Cwmp::Test::redis_flush();
main::session();
Cwmp::Test::push_tasks($main::D, {id => 'a', name => 'getParameterValues',
    parameterNames => ['InternetGatewayDevice.X.A']});
--- request eval
["POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(['InternetGatewayDevice.X.A', '1', 'xsd:int']),
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(['InternetGatewayDevice.X.B', '2', 'xsd:int'])]
--- more_headers eval
[$main::Cookie, $main::Cookie, $main::Cookie]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/<string>InternetGatewayDevice.X.A</, qr/<string>InternetGatewayDevice.X.B</, qr/\A\z/]
--- redis_check
if ($req == 0) {
    redis('LPUSH', "$main::K:tasks", Cwmp::Test::json({id => 'b', name => 'getParameterValues',
        parameterNames => ['InternetGatewayDevice.X.B']}));
}
if ($req == 2) {
    is_deeply([map { $_->{task} } @{ results() }], ['a', 'b'], 'each once, in order');
}



=== TEST 13: an abandoned session's plan is not run by the next session
--- http_config eval
"cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts; cwmp_auth off;
cwmp_policy attrs {
    notification InternetGatewayDevice.X.A 2;
    notification InternetGatewayDevice.X.B 2;
}
cwmp_policy values {
    value InternetGatewayDevice.X.C 3;
}"
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "$main::K:params", 'InternetGatewayDevice.X.C', '0');
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::inform(events => ['1 BOOT'])]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:SetParameterValues>/, qr/InformResponse/]
--- redis_check
if ($req == 2) {
    is(redis('LLEN', "$main::K:plan"), 0, 'dropped by the next Inform');
}



=== TEST 14: a session idle longer than cwmp_session_takeover is taken over
--- init
Cwmp::Test::redis_flush();
main::session(active => time - 60);
--- request eval
$main::Periodic
--- error_code: 200
--- response_body_like: InformResponse
--- redis_check
ok(redis('HGET', "$main::K:session", 'token') ne $main::Token, 'a new session');



=== TEST 15: a rebooted CPE takes over its cut session at once
--- init
Cwmp::Test::redis_flush();
main::session(active => time);
--- request eval
$main::Inform
--- error_code: 200
--- response_body_like: InformResponse



=== TEST 16: a stale cookie on the session's connection: the connection's session, the tasks go out
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::mark_log();
Cwmp::Test::push_tasks($main::D, {id => 'g1', name => 'getParameterValues',
    parameterNames => ['InternetGatewayDevice.X.A']});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- more_headers eval
"Cookie: cwmp_session=ffffffffffffffffffffffffffffffff.$main::D"
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:GetParameterValues>/]
--- redis_check
if ($req == 1) {
    error_log_like(qr/a cookie of another session/,
                   'the stale cookie logged (by the second request)');
}



=== TEST 17: "old; new" cookies on a new connection: the new one
--- init
Cwmp::Test::redis_flush();
main::session();
Cwmp::Test::push_tasks($main::D, {id => 'g1', name => 'getParameterValues',
    parameterNames => ['InternetGatewayDevice.X.A']});
--- request
POST /cwmp
--- more_headers eval
"Cookie: cwmp_session=ffffffffffffffffffffffffffffffff.$main::D; cwmp_session=$main::Token.$main::D"
--- error_code: 200
--- response_body_like: <cwmp:GetParameterValues>



=== TEST 18: cwmp_transfer_timeout: a download pending for 90 minutes of 2 hours is not given up
--- config
    location /cwmp { cwmp; cwmp_transfer_timeout 2h; }
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "$main::K:pending", 'dl-2',
    '{"task":"{\"id\":\"dl-2\",\"name\":\"download\"}","since":' . (time - 5400) . ',"state":"answered"}');
--- request eval
$main::Periodic
--- error_code: 200
--- redis_check
ok(redis('HEXISTS', "$main::K:pending", 'dl-2'), 'still pending');
is(scalar @{ results() }, 0, 'no result');



=== TEST 19: a task's own "timeout": given up after it, and its late TransferComplete still matched
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "$main::K:pending", 'dl-3',
    '{"task":"{\"id\":\"dl-3\",\"name\":\"download\",\"timeout\":60}","since":' . (time - 120) . ',"state":"answered","limit":60}');
--- pipelined_requests eval
[$main::Periodic,
 "POST /cwmp\n" . Cwmp::Test::answer('TransferComplete',
     '<CommandKey>dl-3</CommandKey><FaultStruct><FaultCode>0</FaultCode><FaultString></FaultString></FaultStruct>'
     . '<StartTime>2026-11-27T00:00:00Z</StartTime><CompleteTime>2026-11-27T02:00:05Z</CompleteTime>'),
 "POST /cwmp\n"]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    is(results()->[0]{status}, 'fault', 'unfinished within its own timeout');
    like(results()->[0]{result}{detail}, qr/within 60 s/, 'its limit');
}
if ($req == 2) {
    my $r = last_result();
    is($r->{task}, 'dl-3', 'the late TransferComplete matched');
    is($r->{status}, 'done', 'done');
    is($r->{result}{late}, JSON::PP::true, 'and said late');
    is(redis('HLEN', "$main::K:late"), 0, 'no longer waited for');
}



=== TEST 20: a parameter the device lacks, in a policy's batch read: read name by name, recorded absent, the rest applied
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy two {
        value InternetGatewayDevice.X.A 1;
        value InternetGatewayDevice.X.Missing 2;
    }
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[$main::Periodic, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::fault_answer(9005, 'Invalid parameter name'),
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(['InternetGatewayDevice.X.A', '0', 'xsd:string']),
 "POST /cwmp\n" . Cwmp::Test::fault_answer(9005, 'Invalid parameter name'),
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<string>InternetGatewayDevice.X.A</string>\r\n<string>InternetGatewayDevice.X.Missing</string>},
 qr{<cwmp:GetParameterValues>\r\n<ParameterNames soap-enc:arrayType="xsd:string\[1\]">\r\n<string>InternetGatewayDevice.X.A</string>},
 qr{<ParameterNames soap-enc:arrayType="xsd:string\[1\]">\r\n<string>InternetGatewayDevice.X.Missing</string>},
 qr{<cwmp:SetParameterValues>.*<Name>InternetGatewayDevice.X.A</Name>(?!.*Missing)}s,
 qr/\A\z/]
--- redis_check
if ($req == 5) {
    ok(redis('HEXISTS', "$main::K:absent", 'InternetGatewayDevice.X.Missing'), 'recorded absent');
    is(redis('HEXISTS', "$main::K:policy", 'fault:two'), 0, 'no fault of the policy');
}



=== TEST 21: ... its next session: the absent parameter is not asked for again
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy two {
        value InternetGatewayDevice.X.A 1;
        value InternetGatewayDevice.X.Missing 2;
    }
--- pipelined_requests eval
[$main::Periodic, "POST /cwmp\n"]
--- error_code eval
[200, 204]



=== TEST 22: ... a software version change: asked for again
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy two {
        value InternetGatewayDevice.X.A 1;
        value InternetGatewayDevice.X.Missing 2;
    }
--- init
# as an Inform of V0 left it (its digest another)
Cwmp::Test::redis('HSET', "$main::K", 'software_version', 'V0',
                  'inform_digest', 'of-V0');
--- pipelined_requests eval
[$main::Periodic, "POST /cwmp\n"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/InformResponse/, qr{<string>InternetGatewayDevice.X.Missing</string>}]
--- redis_check
if ($req == 0) {
    is(redis('EXISTS', "$main::K:absent"), 0, 'the absent names forgotten');
}



=== TEST 23: a parameter the device lacks, in a policy's SetParameterValues: set again without it
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy two {
        value InternetGatewayDevice.X.A 1;
        value InternetGatewayDevice.X.Missing 2;
    }
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "$main::K:params", 'InternetGatewayDevice.X.A', '0',
                  'InternetGatewayDevice.X.Missing', '0');
--- pipelined_requests eval
[$main::Periodic, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::fault_answer(9003, 'Invalid arguments',
     ['InternetGatewayDevice.X.Missing', 9005, 'Invalid parameter name']),
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<Name>InternetGatewayDevice.X.Missing</Name>},
 qr{<cwmp:SetParameterValues>.*<Name>InternetGatewayDevice.X.A</Name>(?!.*Missing)}s,
 qr/\A\z/]
--- redis_check
if ($req == 3) {
    ok(redis('HEXISTS', "$main::K:absent", 'InternetGatewayDevice.X.Missing'), 'recorded absent');
    is(redis('HEXISTS', "$main::K:policy", 'fault:two'), 0, 'no fault of the policy');
    is(redis('HGET', "$main::K:params", 'InternetGatewayDevice.X.A'), '1', 'the rest applied');
}



=== TEST 24: two reboots in one session, the CPE reports one M Reboot: both done
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'rb-a', name => 'reboot'}, {id => 'rb-b', name => 'reboot'});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('RebootResponse'),
 "POST /cwmp\n" . Cwmp::Test::answer('RebootResponse')]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr{<CommandKey>rb-a</CommandKey>}, qr{<CommandKey>rb-b</CommandKey>}, qr/\A\z/]



=== TEST 24b: ... its boot reports the last one
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['1 BOOT', ['M Reboot', 'rb-b']]), "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    my %r = map { $_->{task} => $_->{status} } @{ results() };
    is_deeply(\%r, {'rb-a' => 'done', 'rb-b' => 'done'}, 'both done, once each');
    is(redis('HLEN', "$main::K:pending"), 0, 'nothing pending');
}
