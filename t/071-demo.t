# The configuration "make run" serves (docker/nginx.conf), as shipped: its
# ports, Redis and paths moved to the test's.  A CPE that knows only the
# demo's bootstrap password has its first session (the baseline policies,
# per-device connection request credentials among them); then the
# README's connection request example reaches it: "ok", not
# "auth_failed: no credentials for the device".  A plain Perl test: the
# configuration is a whole file, not a block's.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use File::Path qw(make_path remove_tree);
use Time::HiRes qw(sleep time);
use Cwmp::Test;
use Cwmp::Hosts;

my $nginx = $ENV{TEST_NGINX_BINARY}
    or plan skip_all => 'TEST_NGINX_BINARY is not set';

my $top = $Cwmp::Test::Top;
my $http = Cwmp::Hosts::free_port(19951);
my $https = Cwmp::Hosts::free_port($http + 1);
my $stun = Cwmp::Hosts::free_port($https + 1);
my $cpe = Cwmp::Hosts::free_port($stun + 1);
my $root = "$top/t/servroot-demo";

remove_tree($root);
make_path("$root/conf", "$root/logs");

# docker/nginx.conf, moved: nothing else of it changed
open my $in, '<', "$top/docker/nginx.conf" or die "docker/nginx.conf: $!";
my $conf = do { local $/; <$in> };
close $in;

my $load = $ENV{TEST_NGINX_LOAD_MODULES}
           ? join('', map { "load_module $_;\n" }
                          split ' ', $ENV{TEST_NGINX_LOAD_MODULES})
           : '';
my %moved = (
    'worker_processes  auto;' => "${load}worker_processes 1;",
    '127.0.0.1:7547' => "127.0.0.1:$http",
    '127.0.0.1:7548' => "127.0.0.1:$https",
    '127.0.0.1:3478' => "127.0.0.1:$stun",
    '127.0.0.1:6379' => "127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT}",
    '../build/run/tls/acs.pem' => "$top/t/data/tls/server.pem",
    '../build/run/tls/acs.key' => "$top/t/data/tls/server.key",
    '../lua-free-policies/' => "$top/lua-free-policies/",
);
for my $from (sort keys %moved) {
    $conf =~ s/\Q$from\E/$moved{$from}/g
        or BAIL_OUT("docker/nginx.conf no longer has \"$from\"");
}

open my $out, '>', "$root/conf/nginx.conf" or die $!;
print $out $conf;
close $out;

Cwmp::Test::redis_flush();

system($nginx, '-p', "$root/", '-c', 'conf/nginx.conf', '-t', '-q') == 0
    or BAIL_OUT('nginx -t refuses the shipped configuration');
system($nginx, '-p', "$root/", '-c', 'conf/nginx.conf') == 0
    or BAIL_OUT('nginx did not start with the shipped configuration');
END {
    local $?;
    system($nginx, '-p', "$root/", '-c', 'conf/nginx.conf', '-s', 'stop')
        if $root && -f "$root/logs/nginx.pid";
}
for (1 .. 100) {
    last if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $http);
    sleep 0.05;
}

my $id = '00AB12-HG%2D100-S1';
my $k = "cwmp:device:{$id}";

# the fake CPE's connection request server checks the credentials the
# ACS keeps for it (the policy made them up: read back from Redis)
my $server = Cwmp::Test::cpe_server($cpe, log => "$root/cpe.log",
    password => sub { Cwmp::Test::redis('HGET', "$k:connreq", 'password') });
END { local $?; Cwmp::Test::stop_server($server) if $server }

# the first Inform: challenged, then Digest with the demo's password
my $inform = Cwmp::Test::inform(events => ['0 BOOTSTRAP', '1 BOOT'],
    params => [
        ['InternetGatewayDevice.DeviceInfo.SoftwareVersion', 'V1.0', 'xsd:string'],
        ['InternetGatewayDevice.ManagementServer.ConnectionRequestURL',
         "http://127.0.0.1:$cpe/cr", 'xsd:string'],
        ['InternetGatewayDevice.ManagementServer.PeriodicInformInterval', '300',
         'xsd:unsignedInt']]);

my ($st, $hd) = Cwmp::Hosts::post($http, $inform);
is($st, 401, 'the Inform is challenged');
my ($nonce) = ($hd // '') =~ /WWW-Authenticate: Digest [^\r\n]*nonce="([^"]+)"/;
ok($nonce, '... with a nonce');

($st, $hd) = Cwmp::Hosts::post($http, $inform, undef,
    Cwmp::Test::digest(nonce => $nonce // '', password => 'cwmp-demo',
                       uri => '/'));
is($st, 200, "the demo's bootstrap password lets it in");
my ($cookie) = ($hd // '') =~ /^Set-Cookie: (cwmp_session=[^;]+)/mi;
ok($cookie, '... a session');

# the ACS turn: every request answered as a CPE that has what it is asked
my (@asked, $body);
(undef, undef, $body) = Cwmp::Hosts::post($http, '', $cookie);
for (1 .. 20) {
    last unless defined $body && length $body;
    my ($method) = $body =~ m{Body>\s*<cwmp:(\w+)};
    my ($rid) = $body =~ m{<cwmp:ID [^>]*>([^<]+)</cwmp:ID>};
    push @asked, $method;
    my $answer;
    if ($method eq 'GetParameterValues') {
        my @names = $body =~ m{<string>([^<]+)</string>}g;
        $answer = Cwmp::Test::gpv_answer(map { [$_, '0', 'xsd:string'] } @names);
        $answer =~ s/(<soap:Envelope[^>]*>)/$1<soap:Header><cwmp:ID soap:mustUnderstand="1">$rid<\/cwmp:ID><\/soap:Header>/;
    } elsif ($method eq 'SetParameterValues') {
        $answer = Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>', id => $rid);
    } elsif ($method eq 'SetParameterAttributes') {
        $answer = Cwmp::Test::answer('SetParameterAttributesResponse', '', id => $rid);
    } else {
        $answer = Cwmp::Test::fault_answer(9000, 'Method not supported');
    }
    ($st, undef, $body) = Cwmp::Hosts::post($http, $answer, $cookie);
}
is($st, 204, 'the first session ends') or diag("asked: @asked");
note("asked: @asked");
ok((grep { $_ eq 'SetParameterValues' } @asked), 'the baseline set values');

my %cr = @{ Cwmp::Test::redis('HGETALL', "$k:connreq") || [] };
is($cr{username}, $id, 'connection request credentials kept: the device ID ...');
like($cr{password} // '', qr/^\S{16,}$/, '... and a password of its own');

# README: "redis-cli XADD cwmp:connreq '*' device <ID>"
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $id);
my $r;
my $deadline = time + 5;
while (time < $deadline) {
    ($r) = grep { $_->{name} eq 'connectionRequest' } @{ Cwmp::Test::results() };
    last if $r;
    sleep 0.05;
}
is($r && $r->{status}, 'ok', "the README's connection request reaches the device")
    or diag(explain($r));

is_deeply([Cwmp::Hosts::errors($root)], [], 'no error in the log');

done_testing();
