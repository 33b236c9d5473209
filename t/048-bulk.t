# Bulk jobs (redis-schema/README.md, "cwmp:bulk:{<job>}"): a task for the
# devices a selector names, fanned out by the workers in batches, each
# device once, counted as the devices' sessions finish it, its end on the
# event stream.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();
Cwmp::Test::defaults(config => "location /cwmp { cwmp; }",
                     no_error_log => "[error]\n[alert]\n");

our $D = $Cwmp::Test::Device;
our $Inform = "POST /cwmp\n" . Cwmp::Test::inform();

# a job: its hash, then its name in the registry
sub job {
    my ($name, %def) = @_;
    Cwmp::Test::redis('HSET', "cwmp:bulk:{$name}",
                      map { ($_ => ref $def{$_} ? Cwmp::Test::json($def{$_})
                                                : $def{$_}) } sort keys %def);
    Cwmp::Test::redis('SADD', 'cwmp:bulks', $name);
}

sub job_state { Cwmp::Test::redis_hash("cwmp:bulk:{$_[0]}") }

run_tests();

__DATA__

=== TEST 1: a job for a list of devices: queued once, run in the session, complete
--- init
Cwmp::Test::redis_flush();
main::job('j1', task => {name => 'getRPCMethods'},
          selector => {devices => [$main::D]});
Test::More::ok(Cwmp::Test::within(5, sub {
    Cwmp::Test::redis('LLEN', "cwmp:device:{$main::D}:tasks") == 1 }),
    'the job queued its task');
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('GetRPCMethodsResponse',
     '<MethodList><string>Inform</string></MethodList>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/GetRPCMethods/, qr/\A\z/]
--- redis_check
if ($req == 2) {
    my $r = last_result();
    is($r->{task}, 'j1', 'the result: the job\'s name is the task id');
    ok(within(5, sub { main::job_state('j1')->{state} eq 'done' }),
       'the job done');
    my $j = main::job_state('j1');
    is("$j->{targeted}/$j->{queued}/$j->{done}/$j->{fault}", '1/1/1/0',
       'targeted, queued, done, fault');
    ok(within(5, sub { @{ events_of('bulk_complete') } == 1 }),
       'its end on the event stream');
    my ($e) = @{ events_of('bulk_complete') };
    is($e->{job}, 'j1', '... the job');
    is($e->{done}, 1, '... its counters');
    ok(within(5, sub { !redis('SISMEMBER', 'cwmp:bulks', 'j1') }),
       'off the registry');
    ok(redis('TTL', 'cwmp:bulk:{j1}') > 0, 'the job expires');
}



=== TEST 2: by tag, at a rate, with connection requests; no device gets it twice
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('ZADD', 'cwmp:index:{tag:t2}', 0, 'A-1', 0, 'A-2', 0, 'A-3');
main::job('j2', task => {id => 'reboot-j2', name => 'reboot'},
          selector => {tag => 't2'}, rate => 2, connreq => 1);
--- request
GET /cwmp
--- error_code: 405
--- redis_check
ok(within(6, sub { (main::job_state('j2')->{queued} // 0) == 3 }), 'all three');
for my $d (qw(A-1 A-2 A-3)) {
    my $q = redis('LRANGE', "cwmp:device:{$d}:tasks", 0, -1);
    is(scalar @$q, 1, "$d: one task");
    my $t = json_decode($q->[0]);
    is("$t->{id}/$t->{bulk}/$t->{name}", 'reboot-j2/j2/reboot',
       "$d: the job's, with its id");
}
my $j = main::job_state('j2');
ok($j->{created} < time, 'at 2 a second: more than a second');
is(redis('XLEN', 'cwmp:connreq'), 3, 'a connection request each');
# claimed again from the start (a worker died with the batch): no double
redis('HDEL', 'cwmp:bulk:{j2}', 'cursor', 'fanned_out');
ok(within(4, sub { main::job_state('j2')->{fanned_out} }), 'fanned out again');
is(redis('LLEN', 'cwmp:device:{A-1}:tasks'), 1, '... nothing queued twice');



=== TEST 3: broken jobs: a clear error each, and off the registry
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', 'cwmp:bulk:{b1}', 'task', '{not json',
                  'selector', '{"tag":"x"}');
Cwmp::Test::redis('HSET', 'cwmp:bulk:{b2}', 'task', '{"name":"reboot"}',
                  'selector', '{"where":"x"}');
Cwmp::Test::redis('HSET', 'cwmp:bulk:{b3}', 'task', '{"name":"reboot"}',
                  'selector', '{"index":"wan_ip","value":"x"}');
Cwmp::Test::redis('HSET', 'cwmp:bulk:{b4}', 'task', '{"name":"reboot"}',
                  'selector', '{"tag":"x"}', 'rate', '-1');
Cwmp::Test::redis('SADD', 'cwmp:bulks', 'b1', 'b2', 'b3', 'b4');
--- request
GET /cwmp
--- error_code: 405
--- redis_check
ok(within(5, sub { redis('SCARD', 'cwmp:bulks') == 0 }), 'all stopped');
like(main::job_state('b1')->{error}, qr/task: a JSON object/, 'bad task');
like(main::job_state('b2')->{error}, qr/selector: one of/, 'no selector');
like(main::job_state('b3')->{error}, qr/not indexed/,
     'an index the ACS does not keep');
like(main::job_state('b4')->{error}, qr/rate: devices per second/,
     'a bad rate');
is(main::job_state($_)->{state}, 'error', "$_: state error") for qw(b1 b2 b3 b4);



=== TEST 4: paused, resumed, cancelled
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('ZADD', 'cwmp:index:{tag:t4}', 0, 'P-1', 0, 'P-2');
main::job('j4', task => {name => 'getRPCMethods'}, selector => {tag => 't4'},
          state => 'paused');
main::job('j5', task => {name => 'getRPCMethods'}, selector => {tag => 't4'},
          state => 'cancelled');
--- request
GET /cwmp
--- error_code: 405
--- redis_check
sleep 2;
is(redis('LLEN', 'cwmp:device:{P-1}:tasks'), 0, 'paused: nothing queued');
ok(within(3, sub { !redis('SISMEMBER', 'cwmp:bulks', 'j5') }),
   'cancelled: off the registry');
redis('HSET', 'cwmp:bulk:{j4}', 'state', 'running');
ok(within(5, sub { redis('LLEN', 'cwmp:device:{P-2}:tasks') == 1 }),
   'resumed: queued');



=== TEST 5: a cancelled job's queued tasks are cancelled, each with its result
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('ZADD', 'cwmp:index:{tag:t5}', 0, 'K-1', 0, 'K-2', 0, 'K-3');
main::job('j6', task => {id => 'j6-task', name => 'reboot'},
          selector => {tag => 't5'});
--- request
GET /cwmp
--- error_code: 405
--- redis_check
ok(within(5, sub { (main::job_state('j6')->{queued} // 0) == 3 }),
   'fanned out to three');
redis('HSET', 'cwmp:bulk:{j6}', 'state', 'cancelled');
ok(within(6, sub { !redis('SISMEMBER', 'cwmp:bulks', 'j6') }),
   'the cancel swept, the job off the registry');
is(redis('LLEN', "cwmp:device:{K-$_}:tasks"), 0, "K-$_: the task gone")
    for 1 .. 3;
ok(within(5, sub { @{ results() } == 3 }), 'a result each, relayed');
is_deeply([sort map { "$_->{device}:$_->{status}" } @{ results() }],
          ['K-1:cancelled', 'K-2:cancelled', 'K-3:cancelled'],
          '... cancelled');
is(main::job_state('j6')->{cancel_sent}, 3, 'counted');
