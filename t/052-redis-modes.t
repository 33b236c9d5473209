# Redis Cluster and Sentinel peers that misbehave on purpose: a cluster
# that is down, a redirect loop, a node that answers a script with
# garbage, a Sentinel that names a master nobody can reach.  Each is
# bounded (the CPE gets 503 with Retry-After within the timeout), logged,
# and leaves no worker dead.  The real cluster and Sentinels are in
# make test's other runs (TEST_REDIS=cluster, t/chaos/run --redis).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Digest::SHA ();
use Cwmp::Test;
use Cwmp::Hosts ();
use Cwmp::Redis ();

no_shuffle();

# what every fake answers as a Redis would: the handshake, the slot map
# (all slots its own), ROLE; data commands get $data->(port, command)
sub fake {
    my ($data) = @_;
    my $port = Cwmp::Hosts::free_port(($main::Next //= 19600) + 1);
    $main::Next = $port;
    push @main::Fakes, Cwmp::Redis::fake_redis($port, sub {
        my ($cmd, @a) = @_;
        $cmd = uc $cmd;
        return Cwmp::Redis::bulk(Digest::SHA::sha1_hex($a[1]))
            if $cmd eq 'SCRIPT';
        return Cwmp::Redis::array([':0', ':16383', ['127.0.0.1', ":$port",
                                                    'f' x 40]])
            if $cmd eq 'CLUSTER';
        return Cwmp::Redis::array('master', ':0', []) if $cmd eq 'ROLE';
        return "+PONG\r\n" if $cmd eq 'PING';
        return $data->($port, $cmd, @a);
    });
    return $port;
}

our $Down = fake(sub { "-CLUSTERDOWN The cluster is down\r\n" });
our $Loop = fake(sub {
    my ($port, $cmd, @a) = @_;
    my $key = $cmd =~ /^EVAL/ ? $a[2] : $a[0];
    "-MOVED " . Cwmp::Test::slot($key // '') . " 127.0.0.1:$port\r\n";
});
our $Garbage = fake(sub { $_[1] eq 'EVALSHA' ? "%garbage\r\n" : undef });
our $Sentinel = fake(sub {
    $_[1] eq 'SENTINEL' ? Cwmp::Redis::array('127.0.0.1', '1') : undef
});

END { local $?; Cwmp::Test::stop_server($_) for @main::Fakes }

Cwmp::Test::defaults(
    config => "location /cwmp { cwmp; }",
    init => '',
    request => "POST /cwmp\n" . Cwmp::Test::inform());

run_tests();

__DATA__

=== TEST 1: a cluster that is down (CLUSTERDOWN): 503 within the timeout, logged
--- http_config eval
"cwmp_redis cluster=127.0.0.1:$main::Down timeout=500ms connect_timeout=300ms; cwmp_auth off;"
--- error_code: 503
--- response_headers
Retry-After: 10
--- error_log eval
qr/\[error\] .*redis cluster "cluster=127\.0\.0\.1:\d+": "127\.0\.0\.1:\d+" says CLUSTERDOWN: retrying, 503 meanwhile/
--- no_error_log
[alert]
--- timeout: 3



=== TEST 2: a redirect loop (MOVED to itself): bounded, 503, logged
--- http_config eval
"cwmp_redis cluster=127.0.0.1:$main::Loop timeout=500ms connect_timeout=300ms; cwmp_auth off;"
--- error_code: 503
--- response_headers
Retry-After: 10
--- error_log eval
qr/\[error\] .*redis cluster "cluster=127\.0\.0\.1:\d+": slot \d+ still elsewhere after 8 redirects and retries/
--- no_error_log
[alert]
--- timeout: 3



=== TEST 3: a cluster node that answers a script with garbage: 503, logged
--- http_config eval
"cwmp_redis cluster=127.0.0.1:$main::Garbage timeout=500ms connect_timeout=300ms; cwmp_auth off;"
--- error_code: 503
--- error_log eval
qr/\[error\] .*redis "127\.0\.0\.1:\d+" unavailable: Protocol error/
--- no_error_log
[alert]
--- timeout: 3



=== TEST 4: a Sentinel that names an unreachable master: 503, logged
--- http_config eval
"cwmp_redis sentinel=127.0.0.1:$main::Sentinel master=acs timeout=500ms connect_timeout=300ms; cwmp_auth off;"
--- error_code: 503
--- response_headers
Retry-After: 10
--- error_log eval
qr/\[error\] .*redis "127\.0\.0\.1:1" unavailable/
--- no_error_log
[alert]
--- timeout: 3
