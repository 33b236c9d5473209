# Redis trouble: down, back, stuck, talking nonsense, and a client that
# leaves before Redis answered.  nginx is kept running between blocks with
# the same config, so an outage and its recovery happen in one worker.

BEGIN { $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST} = 0 }

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();

# peers that misbehave, up before nginx connects to them: one accepts and
# never answers, one answers garbage

our @Fakes = (
    Cwmp::Test::fake_server($ENV{TEST_NGINX_FAKE_PORT}, undef, 20),
    Cwmp::Test::fake_server($ENV{TEST_NGINX_FAKE2_PORT}, "%garbage\r\n", 0),
);

END { local $?; Cwmp::Test::stop_server($_) for @Fakes }

# a Redis of this file's own, to take down and bring back

our $Aux = $ENV{TEST_NGINX_REDIS_AUX_PORT};
Cwmp::Test::redis_start($Aux);

END { local $?; eval { Cwmp::Test::redis_stop($Aux) } }

Cwmp::Test::defaults(
    http_config => "cwmp_redis 127.0.0.1:$Aux timeout=300ms connect_timeout=300ms; cwmp_auth off;",
    config => "location /cwmp { cwmp; }",
    init => "Cwmp::Test::end_sessions(\$main::Aux);",
    request => "POST /cwmp\n" . Cwmp::Test::inform());

run_tests();

__DATA__

=== TEST 1: Redis up: the Inform is answered
--- error_code: 200
--- no_error_log
[error]



=== TEST 2: Redis goes away: 503 with Retry-After, at once, logged
--- init
Cwmp::Test::redis_stop($main::Aux);
--- error_code: 503
--- response_headers
Retry-After: 10
Content-Type: text/plain
--- response_body
ACS storage unavailable, retry later
--- error_log eval
qr/\[error\] .*redis "127\.0\.0\.1:\d+" unavailable/
--- no_error_log
[alert]



=== TEST 3: still down after several reconnect attempts: logged once
--- init
Time::HiRes::sleep(1);
--- error_code: 503
--- grep_error_log eval
qr/\[error\] .*unavailable/
--- grep_error_log_out eval
qr/\A[^\n]*\n\z/
--- no_error_log
[alert]



=== TEST 4: Redis is back: the worker recovers by itself
--- init
Cwmp::Test::redis_start($main::Aux);
Time::HiRes::sleep(2.5);
Cwmp::Test::end_sessions($main::Aux);
--- error_code: 200
--- error_log eval
qr/\[notice\] .*redis "127\.0\.0\.1:\d+" is available again/
--- no_error_log
[alert]



=== TEST 5: a Redis that accepts and never answers: 503 after the timeout
--- http_config eval
"cwmp_redis 127.0.0.1:$ENV{TEST_NGINX_FAKE_PORT} timeout=300ms connect_timeout=300ms; cwmp_auth off;"
--- config
    location /cwmp { cwmp; }
    location /other { cwmp; }
--- error_code: 503
--- error_log eval
qr/\[error\] .*redis "127\.0\.0\.1:\d+" unavailable: connect timed out/
--- no_error_log
[alert]



=== TEST 6: a Redis that answers garbage: 503, logged, no crash
--- http_config eval
"cwmp_redis 127.0.0.1:$ENV{TEST_NGINX_FAKE2_PORT} timeout=300ms connect_timeout=300ms; cwmp_auth off;"
--- config
    location /cwmp { cwmp; }
    location /garbage { cwmp; }
--- error_code: 503
--- error_log eval
qr/\[error\] .*redis "127\.0\.0\.1:\d+" unavailable: Protocol error/
--- no_error_log
[alert]



=== TEST 7: the client leaves before Redis answered
--- init
Cwmp::Test::redis_start($main::Aux);
Cwmp::Test::redis_at($main::Aux, 'CLIENT', 'PAUSE', '700', 'ALL');
--- config
    location /cwmp { cwmp; }
    location /gone { cwmp; }
--- timeout: 0.15
--- abort
--- error_code:
--- wait: 1
--- error_log
did not answer within 300 ms
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 8: the same worker then serves the next CPE
--- init
Time::HiRes::sleep(2.5);
Cwmp::Test::end_sessions($main::Aux);
--- config
    location /cwmp { cwmp; }
    location /gone { cwmp; }
--- error_code: 200
--- no_error_log
[alert]



=== TEST 9: the scripts were flushed (SCRIPT FLUSH): 503, reconnect
--- init
Cwmp::Test::redis_at($main::Aux, 'SCRIPT', 'FLUSH');
Cwmp::Test::redis_at($main::Aux, 'HSET', 'cwmp:device:{FLUSHED}:session',
                     'token', '0000000000000000000000000000f1f1');
--- config
    location /cwmp { cwmp; }
    location /gone { cwmp; }
--- request
POST /cwmp
--- more_headers
Cookie: cwmp_session=0000000000000000000000000000f1f1.FLUSHED
--- error_code: 503
--- error_log
NOSCRIPT
scripts were flushed
--- no_error_log
[alert]



=== TEST 10: the new connection loaded them again
--- init
Time::HiRes::sleep(1);
--- config
    location /cwmp { cwmp; }
    location /gone { cwmp; }
--- request
POST /cwmp
--- more_headers
Cookie: cwmp_session=0000000000000000000000000000f1f1.FLUSHED
--- error_code: 204
--- redis_check
is(redis_at($main::Aux, 'EXISTS', 'cwmp:device:{FLUSHED}:session'), 0,
   'the session ended');
--- no_error_log
[alert]



=== TEST 11: Redis full (maxmemory, noeviction): 503 with Retry-After, one line
--- init
Cwmp::Test::redis_at($main::Aux, 'FLUSHALL');
Cwmp::Test::redis_at($main::Aux, 'CONFIG', 'SET', 'maxmemory', '1');
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(events => ['0 BOOTSTRAP', '1 BOOT'])
--- error_code: 503
--- response_headers
Retry-After: 10
--- grep_error_log eval
qr/\[error\] .*OOM command not allowed/
--- grep_error_log_out eval
qr/\A[^\n]*\n\z/
--- no_error_log
[alert]



=== TEST 12: memory freed: the CPE's retry is stored, indexed, its events once
--- init
Cwmp::Test::redis_at($main::Aux, 'CONFIG', 'SET', 'maxmemory', '0');
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(events => ['0 BOOTSTRAP', '1 BOOT'])
--- error_code: 200
--- redis_check
my $D = $Cwmp::Test::Device;
is(redis_at($main::Aux, 'HGET', "cwmp:device:{$D}", 'serial_number'), 'S1',
   'stored');
ok(Cwmp::Test::within(5, sub {
       @{ redis_at($main::Aux, 'ZRANGE', 'cwmp:index:{serial_number:S1}',
                   0, -1) || [] } == 1 }), 'indexed');
my $s = Cwmp::Test::shard($D);
my @types = map { { @{ $_->[1] } }->{type} }
            @{ redis_at($main::Aux, 'XRANGE', "cwmp:events:{$s}", '-', '+') };
is(scalar(grep { $_ eq 'registered' } @types), 1, 'registered once');
--- no_error_log
[alert]



=== TEST 13: a Redis that evicts when full: said at connect, with the fix
--- init
Cwmp::Test::redis_at($main::Aux, 'CONFIG', 'SET', 'maxmemory-policy',
                     'allkeys-lru');
Cwmp::Test::redis_at($main::Aux, 'CLIENT', 'KILL', 'TYPE', 'normal');
Time::HiRes::sleep(1.5);
Cwmp::Test::end_sessions($main::Aux);
--- error_code: 200
--- error_log eval
qr/\[warn\] .*redis "127\.0\.0\.1:\d+" has maxmemory-policy "allkeys-lru": when full it evicts keys.*set it to noeviction/
--- redis_check
Cwmp::Test::redis_at($main::Aux, 'CONFIG', 'SET', 'maxmemory-policy',
                     'noeviction');
--- no_error_log
[alert]



=== TEST 14: noeviction (Redis's default) says nothing
--- init
Cwmp::Test::redis_at($main::Aux, 'CONFIG', 'SET', 'maxmemory-policy',
                     'noeviction');
Cwmp::Test::redis_at($main::Aux, 'CLIENT', 'KILL', 'TYPE', 'normal');
Time::HiRes::sleep(1.5);
Cwmp::Test::end_sessions($main::Aux);
--- error_code: 200
--- no_error_log
maxmemory-policy "noeviction"
[alert]
