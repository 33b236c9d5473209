# Prometheus metrics (README, "Monitoring"): a zone every worker counts
# in, a location that serves the text format; promtool (Debian's
# prometheus package) checks it; the counters move with what happens.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;
use Cwmp::Hosts;

no_shuffle();
Cwmp::Test::setup();

our $D = $Cwmp::Test::Device;
our $Http = "cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts;
    cwmp_auth off;
    cwmp_metrics_zone 64k;
    cwmp_policy tagger {
        match product_class = HG-100;
        refresh InternetGatewayDevice.DeviceInfo.UpTime 1h;
    }";
our $Config = "location /cwmp { cwmp; }
    location /metrics { cwmp_metrics; }";

Cwmp::Test::defaults(http_config => $Http, config => $Config,
                     no_error_log => "[error]\n[alert]\n");

# the metrics, as {"name{labels}" => value}
sub metrics {
    my ($port) = @_;
    my ($status, undef, $body) = Cwmp::Test::transfer('GET',
        "http://127.0.0.1:" . ($port // $ENV{TEST_NGINX_SERVER_PORT}) . "/metrics");
    my %m = map { /^(.+) (\S+)$/ ? ($1 => $2) : () }
            grep { !/^#/ } split /\n/, $body // '';
    return \%m;
}

# what moved between two readings
sub moved {
    my ($a, $b, $name) = @_;
    return ($b->{$name} // 0) - ($a->{$name} // 0);
}

run_tests();

__DATA__

=== TEST 1: the text format, as promtool checks it
--- request
GET /metrics
--- error_code: 200
--- response_headers
Content-Type: text/plain; version=0.0.4; charset=utf-8
--- response_body_like
# TYPE cwmp_sessions_total counter
--- redis_check
my $f = "$ENV{TEST_NGINX_TOP}/build/metrics.txt";
open my $out, '>', $f or die $!;
print $out $body;
close $out;
my $lint = `promtool check metrics < $f 2>&1`;
Test::More::is($?, 0, 'promtool check metrics passes') or Test::More::diag($lint);
Test::More::unlike($body, qr/00AB12|HG%2D100/, 'no device in any label');
Test::More::like($body, qr/^cwmp_redis_latency_seconds_bucket\{le="\+Inf"\} \d+$/m,
                 'the Redis latency histogram');



=== TEST 2: a session with tasks: sessions, Informs, RPCs, faults, tasks, Redis round trips, the policy's task
--- init
Cwmp::Test::redis_flush();
--- request
GET /metrics
--- error_code: 200
--- redis_check
my $a = main::metrics();
push_tasks($main::D, {id => 'g1', name => 'getParameterValues',
                      parameterNames => ['InternetGatewayDevice.DeviceInfo.']},
           {id => 's1', name => 'setParameterValues',
            parameterValues => [['InternetGatewayDevice.X.Y', 'v', 'xsd:string']]});
my $cpe = cpe_connection();
$cpe->(inform(events => ['1 BOOT', '4 VALUE CHANGE']));
$cpe->('');
$cpe->(gpv_answer(['InternetGatewayDevice.DeviceInfo.UpTime', '5', 'xsd:unsignedInt']));
$cpe->(fault_answer(9005, 'Invalid parameter name'));
my $b = main::metrics();
my ($st) = $cpe->(gpv_answer(['InternetGatewayDevice.DeviceInfo.UpTime', '6', 'xsd:unsignedInt']));
Test::More::is($st, 204, 'the policy\'s read answered, the session ends');
my $c = main::metrics();
Test::More::is(main::moved($a, $c, 'cwmp_sessions_opened_total'), 1, 'a session opened');
Test::More::is(main::moved($a, $c, 'cwmp_sessions_total{outcome="completed"}'), 1, '... completed');
Test::More::is(main::moved($a, $b, 'cwmp_sessions_in_progress'), 1, 'in progress during it');
Test::More::is(main::moved($a, $c, 'cwmp_sessions_in_progress'), 0, '... not after');
Test::More::is(main::moved($a, $c, 'cwmp_informs_total{event="1 BOOT"}'), 1, 'the 1 BOOT');
Test::More::is(main::moved($a, $c, 'cwmp_informs_total{event="4 VALUE CHANGE"}'), 1, 'the 4 VALUE CHANGE');
Test::More::is(main::moved($a, $c, 'cwmp_acs_rpcs_total{method="GetParameterValues"}'), 2, 'two GetParameterValues');
Test::More::is(main::moved($a, $c, 'cwmp_acs_rpcs_total{method="SetParameterValues"}'), 1, 'one SetParameterValues');
Test::More::is(main::moved($a, $c, 'cwmp_cpe_faults_total{code="9005"}'), 1, 'the CPE fault 9005');
Test::More::is(main::moved($a, $c, 'cwmp_tasks_total{status="done"}'), 2, 'two done');
Test::More::is(main::moved($a, $c, 'cwmp_tasks_total{status="fault"}'), 1, 'one fault');
Test::More::is(main::moved($a, $c, 'cwmp_policy_tasks_total{policy="tagger"}'), 1, 'the policy planned one');
Test::More::ok(main::moved($a, $c, 'cwmp_redis_latency_seconds_count') >= 4, 'Redis round trips timed');
# the session wrote the cache (the values read): the next steady Inform,
# sent without its parameters, is asked for whole, once
for my $n (1, 2) {
    $cpe = cpe_connection();
    $cpe->(inform(events => ['2 PERIODIC']));
    $cpe->('');
}
my $d = main::metrics();
Test::More::is(main::moved($c, $d, 'cwmp_informs_again_total'), 1,
               'a steady Inform after a task\'s write: asked for whole, once');



=== TEST 3: authentication refused: by reason
--- http_config eval
"cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts;
    cwmp_metrics_zone 64k;
    cwmp_auth basic;
    cwmp_auth_bootstrap secret-password;"
--- init
Cwmp::Test::redis_flush();
--- request
GET /metrics
--- error_code: 200
--- redis_check
my $a = main::metrics();
my ($st) = cwmp_post(inform());
Test::More::is($st, 401, 'no credentials: 401');
($st) = Cwmp::Test::transfer('POST', "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/cwmp", inform(),
    headers => ['Authorization: Basic ' . MIME::Base64::encode_base64("$main::D:wrong", '')]);
Test::More::is($st, 401, 'wrong credentials: 401');
my $b = main::metrics();
Test::More::is(main::moved($a, $b, 'cwmp_auth_failures_total{reason="challenge"}'), 1, 'a challenge');
Test::More::is(main::moved($a, $b, 'cwmp_auth_failures_total{reason="credentials"}'), 1, 'wrong credentials');



=== TEST 4: Redis down: 503s by cause
--- http_config
    cwmp_redis 127.0.0.1:1 timeout=200ms;
    cwmp_auth off;
    cwmp_metrics_zone 64k;
--- request
GET /metrics
--- error_code: 200
--- redis_check
my ($st) = cwmp_post(inform());
Test::More::is($st, 503, 'Redis down: 503');
my $b = main::metrics();
Test::More::ok(($b->{'cwmp_unavailable_total{cause="redis"}'} // 0) >= 1, 'counted as Redis');
--- no_error_log
[alert]



=== TEST 5: two workers count in one zone: 40 sessions on 40 connections, 40 counted
--- request
GET /metrics
--- error_code: 200
--- redis_check
my $port = Cwmp::Hosts::free_port($ENV{TEST_NGINX_SERVER_PORT} + 40);
Cwmp::Hosts::start('metrics', $port, 'cwmp_metrics_zone 64k;', master => 1,
                   workers => 2, server => 'location /metrics { cwmp_metrics; }');
for my $n (1 .. 40) {
    Cwmp::Test::end_sessions();
    Cwmp::Hosts::post($port, inform(serial => "W$n"));
}
my $m = main::metrics($port);
Test::More::is($m->{cwmp_sessions_opened_total}, 40, 'every worker\'s sessions');
Test::More::is($m->{'cwmp_informs_total{event="1 BOOT"}'}, 40, '... and Informs');
Cwmp::Hosts::stop("$Cwmp::Test::Top/t/servroot-metrics");



=== TEST 6: the Grafana dashboard asks only for metrics that exist
--- http_config eval
"$main::Http
    cwmp_policy rollout {
        match product_class = HG-100;
        firmware 4.3 http://fw.example.net/4.3.bin;
        max_in_progress 10;
    }"
--- request
GET /metrics
--- error_code: 200
--- redis_check
open my $in, '<', "$ENV{TEST_NGINX_TOP}/docker/grafana-dashboard.json" or die $!;
local $/;
my $d = Cwmp::Test::json_decode(<$in>);
Test::More::ok($d && @{ $d->{panels} } >= 10, 'a dashboard of panels');
my %names = map { /^(\w+)/ ? ($1 => 1) : () } grep { !/^#/ } split /\n/, $body;
my %asked;
for my $p (@{ $d->{panels} }) {
    $asked{$_} = 1 for map { $_->{expr} =~ /\b(cwmp_\w+)/g } @{ $p->{targets} };
}
for my $m (sort keys %asked) {
    Test::More::ok($names{$m}, "the dashboard's $m is served");
}



=== TEST 7: connection requests by outcome and transport
--- request
GET /metrics
--- error_code: 200
--- redis_check
my $port = Cwmp::Hosts::free_port($ENV{TEST_NGINX_SERVER_PORT} + 60);
my $cpe = Cwmp::Hosts::free_port($port + 1);
my $closed = Cwmp::Hosts::free_port($cpe + 1);
Cwmp::Test::redis_flush();
my $root = Cwmp::Hosts::start('metrics-cr', $port,
    'cwmp_metrics_zone 64k; cwmp_connreq on; cwmp_connreq_timeout 1s; '
    . 'cwmp_connreq_allow 127.0.0.0/8;',
    server => 'location /metrics { cwmp_metrics; }');
my $srv = Cwmp::Test::cpe_server($cpe, password => 'cr-secret');
for my $d (['CR1', "http://127.0.0.1:$cpe/"], ['CR2', "http://127.0.0.1:$closed/"]) {
    my $k = "cwmp:device:{00AB12-HG%2D100-$d->[0]}";
    redis('HSET', $k, 'data_model', 'InternetGatewayDevice', 'remote_addr', '127.0.0.1');
    redis('HSET', "$k:params",
          'InternetGatewayDevice.ManagementServer.ConnectionRequestURL', $d->[1],
          'InternetGatewayDevice.ManagementServer.ConnectionRequestUsername', 'cpe-user');
    redis('HSET', "$k:connreq", 'password', 'cr-secret');
    redis('XADD', 'cwmp:connreq', '*', 'device', "00AB12-HG%2D100-$d->[0]");
}
my $m;
for (1 .. 60) {
    $m = main::metrics($port);
    last if ($m->{'cwmp_connection_requests_total{outcome="ok",transport="http"}'} // 0)
            + ($m->{'cwmp_connection_requests_total{outcome="offline",transport="http"}'} // 0) >= 2;
    sleep 0.1;
}
Test::More::is($m->{'cwmp_connection_requests_total{outcome="ok",transport="http"}'}, 1, 'one made over HTTP');
Test::More::is($m->{'cwmp_connection_requests_total{outcome="offline",transport="http"}'}, 1, 'one to a device offline');
Cwmp::Test::stop_server($srv);
Cwmp::Hosts::stop($root);



=== TEST 8: a reload keeps the counters (same policies), and the zone is the new cycle's own
--- request
GET /metrics
--- error_code: 200
--- redis_check
my $port = Cwmp::Hosts::free_port($ENV{TEST_NGINX_SERVER_PORT} + 80);
my $root = Cwmp::Hosts::start('metrics-reload', $port,
    'cwmp_metrics_zone 64k; cwmp_retry_after 10;', master => 1,
    server => 'location /metrics { cwmp_metrics; }');
Cwmp::Test::end_sessions();
Cwmp::Hosts::post($port, inform(serial => 'RL1'));
my $a = main::metrics($port);
Test::More::is($a->{cwmp_sessions_opened_total}, 1, 'a session counted');
Cwmp::Hosts::reload($root, 'cwmp_retry_after 10;', 'cwmp_retry_after 11;');
my $b;
for (1 .. 50) {
    $b = main::metrics($port);
    last if defined $b->{cwmp_sessions_opened_total};
    select(undef, undef, undef, 0.1);
}
Test::More::is($b->{cwmp_sessions_opened_total}, 1, 'after the reload: still counted, the same zone');
Cwmp::Test::end_sessions();
Cwmp::Hosts::post($port, inform(serial => 'RL2'));
my $c = main::metrics($port);
Test::More::is($c->{cwmp_sessions_opened_total}, 2, '... and counting on');
my @e = grep { /emerg|alert/ } Cwmp::Hosts::errors($root);
Test::More::is(scalar @e, 0, 'the reload took (no "is duplicate")') or Test::More::diag(@e);
Cwmp::Hosts::stop($root);
