# Connection requests: "XADD cwmp:connreq * device <ID>" makes the ACS ask
# the device to connect (HTTP digest), once per entry across all workers,
# and the outcome lands in cwmp:results.  A fake CPE checks the digest.
# Asynchronous, with peers of its own: a plain Perl test.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use IO::Select;
use Socket ();
use Digest::SHA ();
use Time::HiRes qw(sleep time);
use Cwmp::Test;
use Cwmp::Hosts;

$ENV{TEST_NGINX_BINARY}
    or plan skip_all => 'TEST_NGINX_BINARY is not set';

my $port = Cwmp::Hosts::free_port(19891);
my $cpe = Cwmp::Hosts::free_port(19931);
my $cpe2 = Cwmp::Hosts::free_port($cpe + 1);
my $closed = Cwmp::Hosts::free_port($cpe2 + 1);
my $dir = tempdir(CLEANUP => 1);

my $root = Cwmp::Hosts::start('connreq', $port,
    'cwmp_connreq on; cwmp_connreq_timeout 1s; cwmp_connreq_window 3s; '
    . 'cwmp_connreq_allow 192.0.2.0/24; cwmp_connreq_claim_after 1s;');

Cwmp::Test::redis_flush();

my $basic = Cwmp::Hosts::free_port($cpe + 50);
my @servers = (
    Cwmp::Test::cpe_server($cpe, password => 'cr-secret',
                           log => "$dir/cpe.log"),
    Cwmp::Test::cpe_server($cpe2, password => 'cr-secret', sha256 => 1,
                           log => "$dir/cpe2.log"),
    Cwmp::Test::cpe_server($basic, password => 'cr-secret', basic => 1,
                           log => "$dir/basic.log"));
END { local $?; Cwmp::Test::stop_server($_) for @servers }

# a device the ACS knows: its summary, its URL, the ACS's credentials
sub device {
    my ($serial, $url, %o) = @_;
    my $id = "00AB12-HG%2D100-$serial";
    my $k = "cwmp:device:{$id}";
    Cwmp::Test::redis('HSET', $k, 'data_model', 'InternetGatewayDevice',
                      'remote_addr', $o{remote} // '127.0.0.1');
    Cwmp::Test::redis('HSET', "$k:params",
        'InternetGatewayDevice.ManagementServer.ConnectionRequestURL', $url,
        'InternetGatewayDevice.ManagementServer.ConnectionRequestUsername',
        'cpe-user');
    Cwmp::Test::redis('HSET', "$k:connreq", 'password',
                      $o{password} // 'cr-secret');
    return $id;
}

# the connectionRequest results of a device, waited for
sub outcome {
    my ($id, $n) = @_;
    $n //= 1;
    my $deadline = time + 3;
    my @r;
    while (time < $deadline) {
        @r = grep { $_->{device} eq $id && $_->{name} eq 'connectionRequest' }
                  @{ Cwmp::Test::results() };
        last if @r >= $n;
        sleep 0.05;
    }
    return \@r;
}

sub lines {
    my ($f) = @_;
    open my $in, '<', $f or return [];
    chomp(my @l = <$in>);
    return \@l;
}

# the digest exchange, within a second
my $a = device('A', "http://127.0.0.1:$cpe/cr");
my $t0 = time;
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $a);
my $r = outcome($a);
is($r->[0]{status}, 'ok', 'the device was asked, digest accepted');
note(sprintf('asked %.2f s after the XADD (no timed assertion: bench/ '
             . 'measures, tests check behaviour)', time - $t0));
is_deeply(lines("$dir/cpe.log"), ['challenge', 'ok cpe-user'],
          'one challenge, one authorized request (MD5)');
is($r->[0]{result}{url}, "http://127.0.0.1:$cpe/cr", 'the URL in the result');

# the whole loop: a task and a trigger from "redis-cli"; the device, asked,
# opens its session (6 CONNECTION REQUEST) and the task runs in it
my $e2e = device('E2E', "http://127.0.0.1:$cpe/cr");
Cwmp::Test::push_tasks($e2e, {id => 'now', name => 'getParameterValues',
    parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime']});
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $e2e);
is(outcome($e2e)->[0]{status}, 'ok', 'loop: the device was asked');
my ($st, $hd) = Cwmp::Hosts::post($port, Cwmp::Test::inform(serial => 'E2E',
    events => ['6 CONNECTION REQUEST']));
my ($ck) = $hd =~ /^Set-Cookie: (cwmp_session=[^;]+)/mi;
my (undef, undef, $body) = Cwmp::Hosts::post($port, '', $ck);
like($body, qr/<cwmp:GetParameterValues>/, 'loop: its session gets the task');
my ($rid) = $body =~ m{<cwmp:ID [^>]*>([0-9a-f]+)</cwmp:ID>};
($st) = Cwmp::Hosts::post($port, Cwmp::Test::answer('GetParameterValuesResponse',
    '<ParameterList><ParameterValueStruct><Name>InternetGatewayDevice.DeviceInfo.UpTime</Name>'
    . '<Value xsi:type="xsd:unsignedInt">7</Value></ParameterValueStruct></ParameterList>',
    id => $rid), $ck);
is($st, 204, 'loop: the session ends');
is_deeply([map { "$_->{name} $_->{status}" }
           grep { $_->{device} eq $e2e } @{ Cwmp::Test::results() }],
          ['connectionRequest ok', 'connectionRequest session',
           'getParameterValues done'],
          'loop: request, session, task, in that order');

# triggers within the window: one request
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $a);
$r = outcome($a, 2);
is($r->[1]{status}, 'rate_limited', 'a second trigger within the window');
is(scalar @{ lines("$dir/cpe.log") }, 4,
   'and no request for it (2 for the first, 2 for the loop)');

# SHA-256 when the device asks for it
my $b = device('B', "http://127.0.0.1:$cpe2/");
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $b);
is(outcome($b)->[0]{status}, 'ok', 'SHA-256 digest');
is_deeply(lines("$dir/cpe2.log"), ['challenge', 'ok cpe-user'], 'SHA-256 exchange');

# each refusal
my %cases = (
    C => ["http://127.0.0.1:$cpe/cr", 'auth_failed', password => 'wrong'],
    D => ["http://127.0.0.1:$closed/", 'offline'],
    E => ["http://10.9.8.7:7547/", 'refused'],
    F => ["ftp://127.0.0.1/", 'invalid_url'],
    G => ["http://cpe.example.net:7547/", 'invalid_url'],
    H => ['', 'invalid_url'],
    I => ["http://192.0.2.1:1/", 'offline', remote => '198.51.100.1'],
    K => ["http://127.0.0.1:$basic/", 'auth_failed'],   # Basic: not configured
);
for my $s (sort keys %cases) {
    my ($url, $want, %o) = @{ $cases{$s} };
    my $id = device($s, $url, %o);
    Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $id);
    is(outcome($id)->[0]{status}, $want, "$s: $want ($url)");
}

Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', '00AB12-NOBODY');
is(outcome('00AB12-NOBODY')->[0]{status}, 'unknown', 'a device never seen');

# an entry a consumer took and never acknowledged (a worker that died
# holding it) is taken over and served
my $j = device('J', "http://127.0.0.1:$cpe2/");
Cwmp::Test::redis('EVAL', "local id = redis.call('XADD', KEYS[1], '*', "
    . "'device', ARGV[1]) redis.call('XREADGROUP', 'GROUP', 'cwmp', 'dead', "
    . "'COUNT', 1, 'STREAMS', KEYS[1], '>') return id", 1, 'cwmp:connreq', $j);
$t0 = time;
is(outcome($j)->[0]{status}, 'ok', "a dead consumer's entry served");
ok(time - $t0 >= 0.9, sprintf('after cwmp_connreq_claim_after (%.2f s)',
                              time - $t0));

# the session the request brings is recorded too
my ($status) = Cwmp::Hosts::post($port,
    Cwmp::Test::inform(serial => 'A', events => ['6 CONNECTION REQUEST']));
is($status, 200, 'the device connects');
my $s = outcome($a, 3)->[2];
is($s->{status}, 'session', '6 CONNECTION REQUEST recorded');

# two hosts on one Redis, 100 triggers: exactly 100 requests
my $port2 = Cwmp::Hosts::free_port($port + 1);
my $root2 = Cwmp::Hosts::start('connreq2', $port2,
    'cwmp_connreq on; cwmp_connreq_timeout 1s; cwmp_connreq_window 3s; '
    . 'cwmp_connreq_max 16; cwmp_connreq_basic on;');
my $cpe3 = Cwmp::Hosts::free_port($closed + 1);
push @servers, Cwmp::Test::cpe_server($cpe3, password => 'cr-secret',
                                      log => "$dir/cpe3.log");
my @many = map { device(sprintf('M%03d', $_), "http://127.0.0.1:$cpe3/") }
           1 .. 100;
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $_) for @many;
my $deadline = time + 5;
my %ok;
while (time < $deadline) {
    %ok = map { $_->{device} => $_->{status} }
          grep { $_->{device} =~ /-M\d{3}$/ } @{ Cwmp::Test::results() };
    last if keys %ok == 100;
    sleep 0.1;
}
is(scalar(grep { $_ eq 'ok' } values %ok), 100, '100 devices asked');
is(scalar(grep { /^ok / } @{ lines("$dir/cpe3.log") }), 100,
   'exactly 100 authorized requests across both hosts');
is_deeply(lines("$dir/basic.log"), ['challenge'],
          'no credentials in clear to a Basic-only device');

# Basic when configured (the second host, alone now)
my @bad = Cwmp::Hosts::errors($root);
Cwmp::Hosts::stop($root);
my $l = device('L', "http://127.0.0.1:$basic/");
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $l);
is(outcome($l)->[0]{status}, 'ok', 'Basic with cwmp_connreq_basic on');
is_deeply(lines("$dir/basic.log"), ['challenge', 'challenge', 'ok cpe-user'],
          'the Basic exchange');

# UDP, behind a NAT (TR-069 Annex G): from the STUN server's socket, with
# the HMAC-SHA1 signature, a few times; the second host alone serves now
Cwmp::Hosts::stop($root2);
my $udp_src = Cwmp::Hosts::free_port($port + 10);
my $port3 = Cwmp::Hosts::free_port($port + 11);
my $root3 = Cwmp::Hosts::start('connreq3', $port3,
    "cwmp_connreq on; cwmp_connreq_udp 127.0.0.1:$udp_src;",
    main => "stream { server { listen 127.0.0.1:$udp_src udp; return x; } }");
my $rx = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                               Proto => 'udp') or die $!;
my $u = device('U', '', password => 'udp-secret');
Cwmp::Test::redis('HSET', "cwmp:device:{$u}:params",
    'InternetGatewayDevice.ManagementServer.UDPConnectionRequestAddress',
    '127.0.0.1:' . $rx->sockport,
    'InternetGatewayDevice.ManagementServer.NATDetected', '1');
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $u);
my @got;
my $sel = IO::Select->new($rx);
while (@got < 3 && $sel->can_read(3)) {
    my $from = $rx->recv(my $d, 2048);
    my ($fport) = Socket::sockaddr_in($from);
    push @got, [$d, $fport];
}
is(scalar @got, 3, 'three datagrams');
is($got[0][1], $udp_src, 'from the STUN server\'s port');
my ($q) = $got[0][0] =~ m{^GET http://127\.0\.0\.1:\d+\?(\S+) HTTP/1\.1\r\n};
my %q = map { split /=/, $_, 2 } split /&/, $q // '';
is($q{un}, 'cpe-user', 'the username');
is($q{sig}, Digest::SHA::hmac_sha1_hex("$q{ts}$q{id}$q{un}$q{cn}", 'udp-secret'),
   'signed: HMAC-SHA1 of ts id un cn, keyed by the password');
is(outcome($u)->[0]{status}, 'ok', 'recorded as sent');

# every entry acknowledged
sleep 0.3;
my $pending = Cwmp::Test::redis('XPENDING', 'cwmp:connreq', 'cwmp');
is($pending->[0], 0, 'nothing left pending in the group');

my $log = join '', map { local $/; open my $in, '<', "$_/logs/error.log";
                          <$in> } $root, $root2, $root3;
unlike($log, qr/cr-secret/, 'no password in the logs');
push @bad, Cwmp::Hosts::errors($root2), Cwmp::Hosts::errors($root3);
is(scalar @bad, 0, 'nothing at error or above') or diag(@bad);

done_testing();
