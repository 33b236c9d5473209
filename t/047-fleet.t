# The fleet through Redis (redis-schema/README.md): devices found by their
# value indexes, followed on the event stream, tasks looked up, waited on,
# cancelled and scheduled, devices deleted and retired, through real
# sessions.  Sessions here are cookie-less CPEs on one keep-alive
# connection (pipelined requests).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();
Cwmp::Test::defaults(config => "location /cwmp { cwmp; }",
                     no_error_log => "[error]\n[alert]\n");

our $D = $Cwmp::Test::Device;
our $Inform = "POST /cwmp\n" . Cwmp::Test::inform();
our $Periodic = "POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC']);
# a periodic Inform that reports a new software version
our $V2 = "POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC'],
    params => [['InternetGatewayDevice.DeviceInfo.SoftwareVersion', 'V2.0',
                'xsd:string']]);
# the CPE's answer to GetRPCMethods
our $Methods = "POST /cwmp\n" . Cwmp::Test::answer('GetRPCMethodsResponse',
    '<MethodList><string>Inform</string></MethodList>');
our $Wan = 'InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.'
           . 'WANIPConnection.1.ExternalIPAddress';

run_tests();

__DATA__

=== TEST 1: an Inform indexes the summary: one ZRANGE finds the device
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 0) {
    my $D = $main::D;
    is_deeply(indexed('serial_number', 'S1'), [$D], 'by serial number');
    is_deeply(indexed('oui', '00AB12'), [$D], 'by OUI');
    is_deeply(indexed('product_class', 'HG-100'), [$D], 'by product class');
    is_deeply(indexed('manufacturer', 'Acme'), [$D], 'by manufacturer');
    is_deeply(indexed('software_version', 'V1.0'), [$D], 'by software');
    is_deeply(indexed('hardware_version', 'HW1'), [$D], 'by hardware');
    is_deeply(indexed('data_model', 'InternetGatewayDevice'), [$D],
              'by data model');
    is(redis('ZCARD', 'cwmp:index:{product_class:HG-100}'), 1, 'a count');
    is_deeply(redis('ZRANGE', 'cwmp:index:{oui:00AB12}', '-', '+', 'BYLEX',
                    'LIMIT', 0, 10), [$D], 'a page (BYLEX LIMIT)');
    is(redis('EXISTS', "cwmp:device:{$D}:indexed"), 0,
       'what the built-in indexes hold is the summary\'s: not noted again');
}



=== TEST 2: a new software version moves the device between index entries
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
[$main::V2, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 0) {
    is_deeply(indexed('software_version', 'V1.0'), [], 'out of the old');
    is_deeply(indexed('software_version', 'V2.0'), [$main::D], 'in the new');
    is_deeply(indexed('hardware_version', 'HW1'), [$main::D],
              'an entry not reported is kept');
}


=== TEST 2a: a value the indexes do not take (over 128 bytes) leaves the old entry
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC'],
    params => [['InternetGatewayDevice.DeviceInfo.SoftwareVersion', 'V' x 200,
                'xsd:string']]),
 "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is_deeply(indexed('software_version', 'V2.0'), [], 'out of the old');
    is_deeply(redis('KEYS', 'cwmp:index:{software_version:*'), [],
              'in none');
    is(redis('EXISTS', "cwmp:device:{$main::D}:indexed"), 0, 'nothing noted');
}



=== TEST 2b: a device stored before the summary said what is indexed: its next boot forgets the copy
--- init
Cwmp::Test::redis_flush();
my $D = $Cwmp::Test::Device;
# what an ACS before issue 19 left: the indexes and :indexed holding V0.9
Cwmp::Test::redis('HSET', "cwmp:device:{$D}", 'software_version', 'V0.9',
                  'indexed_at', 1);
Cwmp::Test::redis('HSET', "cwmp:device:{$D}:indexed",
                  'software_version', 'V0.9', 'serial_number', 'S1');
Cwmp::Test::redis('ZADD', 'cwmp:index:{software_version:V0.9}', 0, $D);
Cwmp::Test::redis('ZADD', 'cwmp:index:{serial_number:S1}', 0, $D);
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is_deeply(indexed('software_version', 'V0.9'), [], 'out of the old');
    is_deeply(indexed('software_version', 'V1.0'), [$main::D], 'in the new');
    is_deeply(indexed('serial_number', 'S1'), [$main::D], 'an entry kept');
    is(redis('EXISTS', "cwmp:device:{$main::D}:indexed"), 0,
       'the copy gone');
}



=== TEST 3: an operator's indexed parameter: by Inform
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_index wan_ip InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.ExternalIPAddress;
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(params => [[$main::Wan, '203.0.113.5',
                                                  'xsd:string']]),
 "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is_deeply(indexed('wan_ip', '203.0.113.5'), [$main::D], 'by its Inform');
}



=== TEST 3a: an operator's indexed parameter: by a GPV answer
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_index wan_ip InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.ExternalIPAddress;
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::push_tasks($main::D, {id => 'wan', name => 'getParameterValues',
                                  parameterNames => [$main::Wan]});
--- pipelined_requests eval
[$main::Periodic, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer([$main::Wan, '203.0.113.9',
                                          'xsd:string'])]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    is_deeply(indexed('wan_ip', '203.0.113.5'), [], 'the old value left');
    is_deeply(indexed('wan_ip', '203.0.113.9'), [$main::D], 'by the GPV');
}



=== TEST 3b: a parameter stored while no index names it
--- init
Cwmp::Test::redis_flush();
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC'],
    params => [[$main::Wan, '203.0.113.7', 'xsd:string']])
--- error_code: 200
--- redis_check
is_deeply(indexed('wan_ip', '203.0.113.7'), [], 'not indexed');



=== TEST 3c: ... a cwmp_index for it added: the same steady Inform indexes it
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_index wan_ip InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.ExternalIPAddress;
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC'],
    params => [[$main::Wan, '203.0.113.7', 'xsd:string']]),
 "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is_deeply(indexed('wan_ip', '203.0.113.7'), [$main::D],
              'indexed (the indexes configured are part of the digest)');
}



=== TEST 4: cwmp_index refuses a built-in name and an object path
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_index serial_number InternetGatewayDevice.X.Y;
--- request
GET /cwmp
--- must_die
--- error_log
index "serial_number" is built in



=== TEST 5: tags: written by the OSS, indexed at the next boot; cwmp_tag at once
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('SADD', "cwmp:device:{$main::D}:tags", 'gold', 'vip');
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    my $D = $main::D;
    is_deeply(indexed('tag', 'gold'), [$D], 'an OSS tag indexed at a boot');
    redis('SREM', "cwmp:device:{$D}:tags", 'vip');
    is(fcall('cwmp_tag', $D, 'add', 'silver'), 1, 'cwmp_tag add');
    is(fcall('cwmp_tag', $D, 'remove', 'gold'), 1, 'cwmp_tag remove');
    redis('XADD', 'cwmp:relay', '*', 'device', $D);
    ok(within(5, sub { @{ indexed('tag', 'silver') } == 1 }),
       'the function\'s tag indexed once relayed');
    is_deeply(indexed('tag', 'gold'), [], 'the removed tag left its index');
    is_deeply(indexed('tag', 'vip'), [$D],
              'a tag removed behind the ACS\'s back: until the next boot');
    is(redis('EXISTS', "cwmp:device:{$D}:outbox"), 0, 'the outbox relayed');
    ok(eval { fcall('cwmp_tag', $D, 'paint', 'x'); 0 } // 1, 'a bad op');
    like($@, qr/usage: FCALL cwmp_tag/, '... is an error that says so');
}



=== TEST 6: a periodic Inform leaves the tags' index alone
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
[$main::Periodic, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is_deeply(indexed('tag', 'vip'), [$main::D],
              'periodic: the tags not read again');
    is(redis('EXISTS', "cwmp:device:{$main::D}:outbox"), 0,
       '... and nothing left to relay');
}



=== TEST 6a: the next boot repairs what the indexes lack of the tags
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is_deeply(indexed('tag', 'vip'), [], 'the SREM seen');
    is_deeply(indexed('tag', 'silver'), [$main::D], 'the others kept');
}



=== TEST 7: online until the periodic interval and the margin have passed
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_online_margin 60s;
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 0) {
    my $s = shard($main::D);
    my $last = redis('ZSCORE', "cwmp:devices:{$s}", $main::D);
    is(redis('ZSCORE', "cwmp:online:{$s}", $main::D), $last + 300 + 60,
       'online until last Inform + PeriodicInformInterval + margin');
    is(redis('ZCOUNT', "cwmp:online:{$s}", time, '+inf'), 1, 'online now');
}



=== TEST 8: events: registered, session opened, boot, and its end with the tasks run
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_events all;
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'ev-1', name => 'getRPCMethods'});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 $main::Methods]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    my @types = map { $_->{type} } @{ events() };
    is_deeply(\@types, [qw(registered session_opened boot session_ended)],
              'the facts, in order, on the device\'s shard');
    my ($opened) = @{ events_of('session_opened') };
    is($opened->{device}, $main::D, 'the device');
    is($opened->{events}, '1 BOOT', 'the events');
    is($opened->{remote_addr}, '127.0.0.1', 'the address');
    my ($reg) = @{ events_of('registered') };
    is($reg->{serial_number}, 'S1', 'registered: its DeviceId');
    my ($ended) = @{ events_of('session_ended') };
    is($ended->{outcome}, 'ok', 'ended: ok');
    is($ended->{tasks}, 1, '... one task run');
    like($ended->{duration}, qr/^\d+$/, '... a duration');
    is(redis('HGET', "cwmp:device:{$main::D}", 'session_since'), undef,
       'the session\'s marks gone with it');
}



=== TEST 9: a session that faulted, one replaced, a value change, a transfer
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_events all;
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "cwmp:device:{$main::D}:params",
                  'InternetGatewayDevice.DeviceInfo.SoftwareVersion', 'V1.0',
                  'InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID',
                  'old');
Cwmp::Test::push_tasks($main::D, {id => 'ev-f', name => 'getRPCMethods'});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['4 VALUE CHANGE'],
     params => [['InternetGatewayDevice.DeviceInfo.SoftwareVersion', 'V1.0',
                 'xsd:string'],
                ['InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID',
                 'new', 'xsd:string'],
                ['InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.'
                 . 'KeyPassphrase', 'hunter2', 'xsd:string']]),
 "POST /cwmp\n" . Cwmp::Test::answer('TransferComplete',
     '<CommandKey>x1</CommandKey><FaultStruct><FaultCode>0</FaultCode>'
     . '<FaultString></FaultString></FaultStruct>'
     . '<StartTime>2026-11-27T00:00:00Z</StartTime>'
     . '<CompleteTime>2026-11-27T00:01:00Z</CompleteTime>'),
 "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::fault_answer(9001, 'Request denied')]
--- error_code eval
[200, 200, 200, 204]
--- redis_check
if ($req == 0) {
    my ($vc) = @{ events_of('value_change') };
    is_deeply(json_decode($vc->{params}),
              {'InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID'
               => 'new'},
              'value change: what changed, no secret, nothing unchanged');
}
if ($req == 1) {
    my ($tc) = @{ events_of('transfer_complete') };
    is($tc->{command_key}, 'x1', 'transfer complete: its CommandKey');
    is($tc->{fault_code}, '0', '... its fault code');
}
if ($req == 3) {
    my $ends = events_of('session_ended');
    is(scalar @$ends, 1, 'one end');
    is($ends->[0]{outcome}, 'fault', 'a task faulted: outcome fault');
}



=== TEST 10: a session abandoned: the Inform that replaces it says so
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_events all;
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[$main::Inform, $main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    my @ends = map { $_->{outcome} } @{ events_of('session_ended') };
    is_deeply(\@ends, ['abandoned', 'ok'], 'abandoned, then ok');
}



=== TEST 10a: by default, the facts a system acts on, not every session's two
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is_deeply([map { $_->{type} } @{ events() }], ['registered', 'boot'],
              'registered, boot; no session_opened, session_ended');
}



=== TEST 11: cwmp_events picks the kinds; off emits none
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_events boot;
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is_deeply([map { $_->{type} } @{ events() }], ['boot'], 'boot only');
}



=== TEST 12: cwmp_events refuses a kind it does not know
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_events boot reboot;
--- request
GET /cwmp
--- must_die
--- error_log
unknown event kind "reboot"



=== TEST 13: task status: queued, in flight (the CPE holds it)
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'st-1', name => 'getParameterValues',
     parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime'],
     replyTo => "cwmp:device:{$main::D}:reply:w1"});
my $s = Cwmp::Test::json_decode(Cwmp::Test::fcall('cwmp_task', $main::D,
                                                  'st-1'));
Test::More::is($s->{status}, 'queued', 'queued');
Test::More::is($s->{position}, 0, '... at the head');
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 200]
--- redis_check
if ($req == 1) {
    is(json_decode(fcall('cwmp_task', $main::D, 'st-1'))->{status},
       'in_flight', 'in flight');
}



=== TEST 13a: task status: done with its result; run and wait (replyTo)
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
[$main::Periodic, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     ['InternetGatewayDevice.DeviceInfo.UpTime', '42', 'xsd:unsignedInt'])]
--- error_code eval
[200, 200, 204]
--- redis_check
my $D = $main::D;
if ($req == 2) {
    my $s = json_decode(fcall('cwmp_task', $D, 'st-1'));
    is($s->{status}, 'done', 'done');
    is_deeply($s->{result}{parameterValues},
              [['InternetGatewayDevice.DeviceInfo.UpTime', '42',
                'xsd:unsignedInt']], '... with its result');
    my $w = redis('BLPOP', "cwmp:device:{$D}:reply:w1", 1);
    my $r = json_decode($w->[1]);
    is($r->{task}, 'st-1', 'the reply key has it');
    is($r->{device}, $D, '... for the device');
    is($r->{status}, 'done', '... done');
    ok(redis('TTL', "cwmp:device:{$D}:status") > 86000,
       'status records kept a day by default');
    is(json_decode(fcall('cwmp_task', $D, 'nope'))->{status}, 'unknown',
       'an id never seen: unknown');
}



=== TEST 14: a reply key of the wrong form: a fault that says the form
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'rk-bad', name => 'getRPCMethods', replyTo => 'elsewhere'},
    {id => 'nb-bad', name => 'getRPCMethods', notBefore => 'tomorrow'});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    my @r = @{ results() };
    is($r[0]{task}, 'rk-bad', 'the bad reply key');
    is($r[0]{status}, 'fault', '... a fault');
    is($r[0]{result}{error}, 'invalid arguments', '... invalid arguments');
    like($r[0]{result}{detail},
         qr/replyTo must be "cwmp:device:\{\Q$main::D\E\}:reply:<name>"/,
         '... saying the form');
    is($r[1]{task}, 'nb-bad', 'a notBefore not a time');
    like($r[1]{result}{detail}, qr/notBefore must be a unix time/,
         '... says so');
}



=== TEST 15: notBefore: a task waits, the one after it runs; cancel a queued one
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'later', name => 'getRPCMethods', notBefore => time + 3600},
    {id => 'now', name => 'getRPCMethods'},
    {id => 'drop', name => 'reboot'});
Cwmp::Test::fcall('cwmp_cancel', $main::D, 'drop');
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 $main::Methods]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/GetRPCMethods/, qr/\A\z/]
--- redis_check
my $D = $main::D;
if ($req == 2) {
    my @r = @{ results() };
    is_deeply([map { "$_->{task}:$_->{status}" } @r],
              ['drop:cancelled', 'now:done'],
              'the cancelled one reported (its relay came with the session), '
              . 'the due one ran');
    my $s = json_decode(fcall('cwmp_task', $D, 'later'));
    is($s->{status}, 'queued', 'the one not due yet waits');
    ok($s->{notBefore} > time, '... until its time');
    is(json_decode(fcall('cwmp_task', $D, 'drop'))->{status}, 'cancelled',
       'cancelled, by id');
    ok(!eval { fcall('cwmp_cancel', $D, 'now'); 1 }, 'a cancel of a task '
       . 'that ran');
    like($@, qr/task "now" has finished: done/, '... says it finished');
    ok(!eval { fcall('cwmp_cancel', $D, 'ghost'); 1 }, 'of no task');
    like($@, qr/no task "ghost" is queued/, '... says so');
    is(fcall('cwmp_cancel', $D, 'later'), 'cancelled', 'cancel the waiting');
    is(redis('LLEN', "cwmp:device:{$D}:tasks"), 0, '... the queue empty');
}



=== TEST 16: delete a device: every key, its index entries, its queued tasks cancelled
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
my $D = $main::D;
if ($req == 1) {
    push_tasks($D, {id => 'q1', name => 'getRPCMethods'},
               {id => 'q2', name => 'reboot'});
    redis('SADD', "cwmp:device:{$D}:tags", 'gold');
    ok(fcall('cwmp_delete', $D) > 5, 'cwmp_delete: the keys deleted');
    redis('XADD', 'cwmp:relay', '*', 'device', $D);
    my $s = shard($D);
    ok(within(5, sub { !defined redis('ZSCORE', "cwmp:devices:{$s}", $D) }),
       'out of the device index, once relayed');
    is(redis('ZSCORE', "cwmp:online:{$s}", $D), undef, '... and online');
    is_deeply(indexed('serial_number', 'S1'), [], '... and the value indexes');
    is_deeply(indexed('software_version', 'V1.0'), [], '... all of them');
    my @r = grep { $_->{device} eq $D } @{ results() };
    is_deeply([map { "$_->{task}:$_->{status}" } @r],
              ['q1:cancelled', 'q2:cancelled'], 'its queued tasks cancelled');
    is_deeply(redis('KEYS', "cwmp:device:{$D}*"), [], 'no key of it left');
    is(redis('XLEN', 'cwmp:relay'), 0, 'the relay request done');
}



=== TEST 17: retirement: a device not seen for cwmp_retire_after is deleted
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_retire_after 1h;
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
my $D = $main::D;
if ($req == 1) {
    # a device last seen two hours ago
    my $old = 'OLD-X-1';
    my $s = shard($old);
    redis('HSET', "cwmp:device:{$old}", 'last_inform', time - 7200);
    redis('ZADD', "cwmp:devices:{$s}", time - 7200, $old);
    ok(within(5, sub { !defined redis('ZSCORE', "cwmp:devices:{$s}", $old) }),
       'retired');
    is(redis('EXISTS', "cwmp:device:{$old}"), 0, '... its keys gone');
    ok(defined redis('ZSCORE', "cwmp:devices:{" . shard($D) . "}", $D),
       'a device seen now stays');
}
--- no_error_log
[error]
[alert]



=== TEST 18: the OSS's ACL user of README.md: tasks, waits, status, indexes, events, bulk, delete
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::acl_user_from_readme('oss');
{
    local @Cwmp::Test::Auth = ('oss', 'acl-test-pw');
    Cwmp::Test::push_tasks($main::D,
        {id => 'o1', name => 'getParameterValues',
         parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime'],
         replyTo => "cwmp:device:{$main::D}:reply:o1"},
        {id => 'o2', name => 'reboot'});
    Cwmp::Test::redis('XADD', 'cwmp:connreq', 'MAXLEN', '~', 100000, '*',
                      'device', $main::D);
    Test::More::is(Cwmp::Test::fcall('cwmp_cancel', $main::D, 'o2'),
                   'cancelled', 'oss: cancel');
}
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     ['InternetGatewayDevice.DeviceInfo.UpTime', '9', 'xsd:unsignedInt'])]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    local @Cwmp::Test::Auth = ('oss', 'acl-test-pw');
    my $D = $main::D;
    my $s = shard($D);
    my $w = redis('BLPOP', "cwmp:device:{$D}:reply:o1", 2);
    is(json_decode($w->[1])->{status}, 'done', 'oss: BLPOP the reply');
    is(json_decode(fcall('cwmp_task', $D, 'o1'))->{status}, 'done',
       'oss: cwmp_task');
    is_deeply(redis('ZRANGE', 'cwmp:index:{serial_number:S1}', 0, -1), [$D],
              'oss: an index');
    is(redis('ZCOUNT', "cwmp:online:{$s}", time, '+inf'), 1, 'oss: online');
    is(redis('XGROUP', 'CREATE', "cwmp:events:{$s}", 'oss', '0',
             'MKSTREAM'), 'OK', 'oss: a consumer group');
    my $r = redis('XREADGROUP', 'GROUP', 'oss', 'w1', 'COUNT', 100,
                  'STREAMS', "cwmp:events:{$s}", '>');
    ok(@{ $r->[0][1] } >= 2, 'oss: the events read');
    is(redis('XACK', "cwmp:events:{$s}", 'oss', $r->[0][1][0][0]), 1,
       'oss: acknowledged');
    ok(@{ redis('XRANGE', "cwmp:results:{$s}", '-', '+') } >= 2,
       'oss: the results');
    is(fcall('cwmp_tag', $D, 'add', 'oss'), 1, 'oss: cwmp_tag');
    ok(redis('XADD', 'cwmp:relay', '*', 'device', $D), 'oss: a relay asked');
    redis('HSET', 'cwmp:bulk:{oss-j}', 'task', '{"name":"getRPCMethods"}',
          'selector', json({devices => [$D]}));
    is(redis('SADD', 'cwmp:bulks', 'oss-j'), 1, 'oss: a bulk job');
    ok(within(5, sub { redis('HGET', 'cwmp:bulk:{oss-j}', 'queued') }),
       'oss: ... fanned out');
    is(redis('HGET', 'cwmp:bulk:{oss-j}', 'queued'), 1, 'oss: ... counted');
    ok(fcall('cwmp_delete', $D) > 0, 'oss: cwmp_delete');
    ok(!eval { redis('SCRIPT', 'FLUSH'); 1 }, 'oss: no SCRIPT FLUSH');
    ok(!eval { redis('FLUSHDB'); 1 }, 'oss: no FLUSHDB');
}



=== TEST 19: cwmp_supported_data_model: read once after registration, recorded, searchable
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_supported_data_model on;
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(params => [
     ['InternetGatewayDevice.DeviceSummary',
      'InternetGatewayDevice:1.4[](Baseline:2)', 'xsd:string'],
     ['InternetGatewayDevice.DeviceInfo.SoftwareVersion', 'V1.0',
      'xsd:string']]),
 "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     ['InternetGatewayDevice.DeviceInfo.SupportedDataModel.1.URN',
      'urn:broadband-forum-org:tr-098-1-8-0', 'xsd:string'],
     ['InternetGatewayDevice.DeviceInfo.SupportedDataModel.1.URL',
      'http://example.net/tr-098.xml', 'xsd:string'],
     ['InternetGatewayDevice.DeviceInfo.SupportedDataModel.2.URN',
      'urn:example-com:x-1-0', 'xsd:string'])]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<string>InternetGatewayDevice.DeviceInfo.SupportedDataModel.</string>},
 qr/\A\z/]
--- redis_check
my $D = $main::D;
if ($req == 2) {
    my $d = redis_hash("cwmp:device:{$D}");
    is($d->{device_summary}, 'InternetGatewayDevice:1.4[](Baseline:2)',
       'the DeviceSummary recorded');
    is($d->{supported_data_models},
       'urn:broadband-forum-org:tr-098-1-8-0,urn:example-com:x-1-0',
       'the URNs recorded');
    is_deeply(indexed('supported_data_model', 'urn:example-com:x-1-0'), [$D],
              'searchable by URN');
    is_deeply(indexed('device_summary',
                      'InternetGatewayDevice:1.4[](Baseline:2)'), [$D],
              '... and by DeviceSummary');
}



=== TEST 19a: ... and not read again at the next Inform
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_supported_data_model on;
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
[$main::Periodic, "POST /cwmp\n"]
--- error_code eval
[200, 204]



=== TEST 20: cwmp_index off: no value index written
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_index off;
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is_deeply(redis('KEYS', 'cwmp:index:*'), [], 'no index');
    is(redis('EXISTS', "cwmp:device:{$main::D}:indexed"), 0, 'nothing held');
    ok(defined redis('ZSCORE', 'cwmp:devices:{' . shard($main::D) . '}',
                     $main::D), 'the device index stays');
}


=== TEST 20a: cwmp_index off for a while: what the indexes hold stays noted
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is_deeply(indexed('software_version', 'V1.0'), [$main::D], 'indexed');
}



=== TEST 20b: ... the indexes off, a new software version: the old one noted
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_index off;
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
[$main::V2, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    my $D = $main::D;
    is_deeply(indexed('software_version', 'V1.0'), [$D], 'not told');
    is_deeply(redis('HGETALL', "cwmp:device:{$D}:indexed"),
              ['software_version', 'V1.0'], 'what it holds, noted');
    is(redis('HGET', "cwmp:device:{$D}", 'indexed_at'), undef,
       'to be told everything');
}



=== TEST 20c: ... and on again: the next Inform moves the device, the note gone
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
[$main::V2, "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    my $D = $main::D;
    is_deeply(indexed('software_version', 'V1.0'), [], 'out of the old');
    is_deeply(indexed('software_version', 'V2.0'), [$D], 'in the new');
    is_deeply(indexed('serial_number', 'S1'), [$D], 'and the others');
    is(redis('EXISTS', "cwmp:device:{$D}:indexed"), 0, 'the note gone');
}



=== TEST 21: cwmp_stream_retention: the shards trimmed by age (MINID)
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_stream_retention 1m;
--- init
Cwmp::Test::redis_flush();
# 300 results of two hours ago in the device's shard (3 nodes of 100)
my $s = Cwmp::Test::shard($main::D);
my $old = (time - 7200) * 1000;
Cwmp::Test::redis('XADD', "cwmp:results:{$s}", ($old + $_) . '-0',
                  'device', 'old', 'task', "o$_") for 1 .. 300;
Cwmp::Test::push_tasks($main::D, {id => 'ret-1', name => 'getRPCMethods'});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 $main::Methods]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    my $s = shard($main::D);
    ok(redis('XLEN', "cwmp:results:{$s}") < 300,
       'the entries older than a minute trimmed (whole nodes: MINID ~)');
    is(last_result()->{task}, 'ret-1', 'the new result kept');
}



=== TEST 22: with policies that want nothing more, the session still ends with its event
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_events all;
    cwmp_policy seen {
        match product_class = HG-100;
        tag add seen;
    }
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'pol-1', name => 'getRPCMethods'});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 $main::Methods]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    my $ends = events_of('session_ended');
    is(scalar @$ends, 1, 'one end');
    is($ends->[0]{outcome}, 'ok', '... ok');
    is($ends->[0]{tasks}, 1, '... one task');
    is(redis('EXISTS', "cwmp:device:{$main::D}:session"), 0,
       'the session deleted, not left to expire');
    is_deeply(indexed('tag', 'seen'), [$main::D], 'the policy\'s tag indexed');
}
