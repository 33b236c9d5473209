# What an Inform leaves in Redis: the public keys of redis-schema/README.md.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();

Cwmp::Test::defaults(config => "location /cwmp { cwmp; cwmp_session_timeout 20s; }",
                     no_error_log => "[error]\n[alert]\n");

# a periodic Inform whose only parameter has another value than before
our $NewUrl = "POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC'],
    params => [['InternetGatewayDevice.ManagementServer.ConnectionRequestURL',
                'http://192.0.2.9:7547/cr', 'xsd:string']]);

# the device's cached ConnectionRequestURL
sub main::cached_url {
    return Cwmp::Test::redis('HGET',
        'cwmp:device:{00AB12-HG%2D100-S1}:params',
        'InternetGatewayDevice.ManagementServer.ConnectionRequestURL');
}

run_tests();

__DATA__

=== TEST 1: the device summary, its parameters and types, the index
--- init
Cwmp::Test::redis_flush();
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(events => ['1 BOOT', '2 PERIODIC'])
--- error_code: 200
--- redis_check
my $key = 'cwmp:device:{00AB12-HG%2D100-S1}';
my $d = redis_hash($key);
is($d->{oui}, '00AB12', 'oui');
is($d->{product_class}, 'HG-100', 'product_class');
is($d->{serial_number}, 'S1', 'serial_number');
is($d->{manufacturer}, 'Acme', 'manufacturer');
is($d->{cwmp_version}, '1.0', 'cwmp_version');
is($d->{remote_addr}, '127.0.0.1', 'remote_addr');
is($d->{last_events}, '1 BOOT,2 PERIODIC', 'last_events');
is($d->{software_version}, 'V1.0', 'software_version');
is($d->{hardware_version}, 'HW1', 'hardware_version');
is($d->{data_model}, 'InternetGatewayDevice', 'data_model');
ok(abs($d->{last_inform} - time) < 5, 'last_inform is now');
is($d->{last_boot}, $d->{last_inform}, 'last_boot on 1 BOOT');
ok(!exists $d->{last_bootstrap}, 'no last_bootstrap without 0 BOOTSTRAP');
is($d->{first_inform}, $d->{last_inform}, 'first_inform');

my $p = redis_hash("$key:params");
is(scalar keys %$p, 4, 'every Inform parameter');
is($p->{'InternetGatewayDevice.ManagementServer.PeriodicInformInterval'},
   '300', 'a value');
is($p->{'InternetGatewayDevice.ManagementServer.ConnectionRequestURL'},
   'http://192.0.2.1:7547/cr', 'another value');

my $t = redis_hash("$key:types");
is_deeply($t, {
    'InternetGatewayDevice.ManagementServer.PeriodicInformInterval'
        => 'xsd:unsignedInt' }, 'types beside the values, strings left out');

# the device index entry is written before the Inform is answered
my $s = Cwmp::Test::shard('00AB12-HG%2D100-S1');
is(redis('ZSCORE', "cwmp:devices:{$s}", '00AB12-HG%2D100-S1'),
   $d->{last_inform}, 'the device index entry, scored by last Inform');
is(redis('ZSCORE', "cwmp:online:{$s}", '00AB12-HG%2D100-S1'),
   $d->{last_inform} + 300 + 600, '... online for its interval and the margin');
is(redis('EXISTS', "$key:outbox"), 0, '... through no outbox');

my $h = redis_hash("$key:session");
like($h->{token}, qr/^[0-9a-f]{32}$/, 'session token');
like($body, qr/InformResponse/, 'answered');
is($h->{cwmp_version}, '1.0', 'session version');
is($h->{remote_addr}, '127.0.0.1', 'session address');
is($h->{created}, $d->{last_inform}, 'session created');
my $ttl = redis('PTTL', "$key:session");
ok($ttl > 18000 && $ttl <= 20000, "session expires with cwmp_session_timeout ($ttl ms)");



=== TEST 2: a later Inform updates, first_inform stays, BOOT is dated
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('HSET', 'cwmp:device:{00AB12-HG%2D100-S1}',
                  'first_inform', '1000', 'custom', 'kept');
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(events => ['1 BOOT'],
    params => [['InternetGatewayDevice.DeviceInfo.SoftwareVersion', 'V2.0',
                'xsd:string']])
--- error_code: 200
--- redis_check
my $d = redis_hash('cwmp:device:{00AB12-HG%2D100-S1}');
is($d->{first_inform}, '1000', 'first_inform not overwritten');
is($d->{custom}, 'kept', 'fields of other writers kept');
is($d->{software_version}, 'V2.0', 'software_version updated');
is($d->{last_events}, '1 BOOT', 'last_events replaced');
ok($d->{last_boot}, 'last_boot');
is(redis('HGET', 'cwmp:device:{00AB12-HG%2D100-S1}:params',
         'InternetGatewayDevice.DeviceInfo.SoftwareVersion'), 'V2.0',
   'parameter updated');
is(redis('HGET', 'cwmp:device:{00AB12-HG%2D100-S1}:params',
         'InternetGatewayDevice.DeviceInfo.HardwareVersion'), 'HW1',
   'parameters not in this Inform kept');



=== TEST 3: device IDs as GenieACS builds them
--- request eval
["POST /cwmp\n" . Cwmp::Test::inform(oui => '00D09E', class => '',
                                     serial => 'ABC123'),
 "POST /cwmp\n" . Cwmp::Test::inform(oui => '00D09E', class => 'IGD v2.1',
                                     serial => 'a_b-c.d/e+f%')]
--- error_code eval
[200, 200]
--- redis_check
if ($req == 0) {
    is(redis('EXISTS', 'cwmp:device:{00D09E-ABC123}'), 1,
       'no ProductClass part when it is empty');
} else {
    is(redis('EXISTS', 'cwmp:device:{00D09E-IGD%20v2%2E1-a_b%2Dc%2Ed%2Fe%2Bf%25}'),
       1, 'every byte outside [A-Za-z0-9_] as %XX');
}



=== TEST 4: a device with no parameters in its Inform
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(serial => 'NOPARAMS', params => [])
--- error_code: 200
--- redis_check
is(redis('EXISTS', 'cwmp:device:{00AB12-HG%2D100-NOPARAMS}'), 1, 'summary');
is(redis('EXISTS', 'cwmp:device:{00AB12-HG%2D100-NOPARAMS}:params'), 0,
   'no parameters key');



=== TEST 5: a Redis that refuses the write (wrong key type): 503, logged
--- init
Cwmp::Test::redis('SET', 'cwmp:device:{00AB12-HG%2D100-WRONGTYPE}:params', 'x');
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(serial => 'WRONGTYPE')
--- error_code: 503
--- response_headers
Retry-After: 10
--- error_log
redis refused command
WRONGTYPE
--- no_error_log
[alert]



=== TEST 6: 0 BOOTSTRAP: a reset or swapped device starts afresh
--- init
Cwmp::Test::end_sessions();
my $k = 'cwmp:device:{00AB12-HG%2D100-S1}';
Cwmp::Test::redis('HSET', "$k:params", 'InternetGatewayDevice.X.Old', 'gone');
Cwmp::Test::redis('HSET', "$k:types", 'InternetGatewayDevice.X.Old', 'xsd:int');
Cwmp::Test::redis('HSET', "$k:policy", 'reboot:p', '1000');
Cwmp::Test::redis('SADD', "$k:tags", 'vip');
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(events => ['0 BOOTSTRAP'])
--- error_code: 200
--- redis_check
my $k = 'cwmp:device:{00AB12-HG%2D100-S1}';
ok(redis_hash($k)->{last_bootstrap}, 'last_bootstrap');
is(redis('HGET', "$k:params", 'InternetGatewayDevice.X.Old'), undef,
   'cached parameters dropped');
is(redis('HGET', "$k:types", 'InternetGatewayDevice.X.Old'), undef,
   'cached types dropped');
is(redis('EXISTS', "$k:policy"), 0, 'policy state dropped');
is(redis('HGET', "$k:params",
         'InternetGatewayDevice.DeviceInfo.HardwareVersion'), 'HW1',
   'the Inform\'s own parameters stored');
is(redis('SISMEMBER', "$k:tags", 'vip'), 1, 'tags (other systems\') kept');
--- no_error_log
[error]



=== TEST 7: a steady Inform of a device Redis has no digest of: stored whole
--- init
Cwmp::Test::redis_flush();
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC'])
--- error_code: 200
--- redis_check
my $k = 'cwmp:device:{00AB12-HG%2D100-S1}';
my $d = redis_hash($k);
is($d->{serial_number}, 'S1', 'the summary');
like($d->{inform_digest}, qr/^[0-9a-f]{16}$/, '... with the Inform\'s digest');
is(scalar keys %{ redis_hash("$k:params") }, 4, 'every Inform parameter');
is(redis('HGET', "$k:types",
         'InternetGatewayDevice.ManagementServer.PeriodicInformInterval'),
   'xsd:unsignedInt', '... and type');



=== TEST 8: the same Inform again: what its digest vouches for is left as Redis has it
--- init
Cwmp::Test::end_sessions();
my $k = 'cwmp:device:{00AB12-HG%2D100-S1}';
Cwmp::Test::redis('HSET', $k, 'manufacturer', 'as-stored', 'last_inform', '1000');
Cwmp::Test::redis('HSET', "$k:params",
    'InternetGatewayDevice.ManagementServer.ConnectionRequestURL', 'as-stored');
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC'])
--- error_code: 200
--- redis_check
my $k = 'cwmp:device:{00AB12-HG%2D100-S1}';
my $d = redis_hash($k);
ok(abs($d->{last_inform} - time) < 5, 'last_inform is now');
is($d->{last_events}, '2 PERIODIC', 'last_events');
is($d->{manufacturer}, 'as-stored', 'the steady fields not written');
is(main::cached_url(), 'as-stored', 'nor the parameters');
like($body, qr/InformResponse/, 'answered');



=== TEST 9: a parameter of another value (no VALUE CHANGE): the Inform sent again whole
--- init
Cwmp::Test::end_sessions();
--- request eval
$main::NewUrl
--- error_code: 200
--- redis_check
my $k = 'cwmp:device:{00AB12-HG%2D100-S1}';
is(main::cached_url(), 'http://192.0.2.9:7547/cr', 'the new value stored');
is(redis('HGET', $k, 'manufacturer'), 'Acme', 'the fields too');



=== TEST 10: a task's values written to the cache drop the digest
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::push_tasks('00AB12-HG%2D100-S1', {id => 'g', name => 'getParameterValues',
    parameterNames => ['InternetGatewayDevice.ManagementServer.ConnectionRequestURL']});
--- pipelined_requests eval
[$main::NewUrl,
 "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     ['InternetGatewayDevice.ManagementServer.ConnectionRequestURL',
      'http://192.0.2.10:7547/cr', 'xsd:string'])]
--- error_code eval
[200, 200, 204]
--- redis_check
my $k = 'cwmp:device:{00AB12-HG%2D100-S1}';
if ($req == 2) {
    is(main::cached_url(), 'http://192.0.2.10:7547/cr',
       'the answer\'s value cached');
    is(redis('HEXISTS', $k, 'inform_digest'), 0, '... the digest dropped');
}



=== TEST 11: ... the next Inform, the same as before the task: stored whole
--- init
Cwmp::Test::end_sessions();
--- request eval
$main::NewUrl
--- error_code: 200
--- redis_check
my $k = 'cwmp:device:{00AB12-HG%2D100-S1}';
is(main::cached_url(), 'http://192.0.2.9:7547/cr', 'the Inform\'s value again');
like(redis('HGET', $k, 'inform_digest'), qr/^[0-9a-f]{16}$/,
     '... its digest stored');



=== TEST 12: the device index refused (a key of another type): the entry parked in the outbox
--- init
Cwmp::Test::end_sessions();
my $s = Cwmp::Test::shard('00AB12-HG%2D100-S1');
Cwmp::Test::redis('DEL', "cwmp:devices:{$s}");
Cwmp::Test::redis('SET', "cwmp:devices:{$s}", 'not a sorted set');
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC'])
--- error_code: 200
--- redis_check
my $k = 'cwmp:device:{00AB12-HG%2D100-S1}';
my ($e) = @{ redis('XRANGE', "$k:outbox", '-', '+') };
my %f = @{ $e->[1] };
is($f{k}, 'index', 'the index entry parked in the outbox');
is($f{time}, redis('HGET', $k, 'last_inform'), '... with its time');
like($body, qr/InformResponse/, 'the Inform answered');
--- error_log
redis refused the relay
--- no_error_log
[alert]



=== TEST 13: ... the index whole again: the parked entry relayed with the device's next session
--- init
Cwmp::Test::end_sessions();
my $s = Cwmp::Test::shard('00AB12-HG%2D100-S1');
Cwmp::Test::redis('DEL', "cwmp:devices:{$s}");
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC']), "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
my $k = 'cwmp:device:{00AB12-HG%2D100-S1}';
my $s = Cwmp::Test::shard('00AB12-HG%2D100-S1');
if ($req == 1) {
    is(redis('ZSCORE', "cwmp:devices:{$s}", '00AB12-HG%2D100-S1'),
       redis('HGET', $k, 'last_inform'), 'the device in the index');
    is(redis('EXISTS', "$k:outbox"), 0, '... the parked entry relayed');
}
