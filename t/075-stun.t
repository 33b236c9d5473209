# The STUN server (TR-069 Annex G, a stream module on UDP): Binding
# Requests answered with the address seen (MAPPED-ADDRESS, and
# XOR-MAPPED-ADDRESS for RFC 5389 clients); a CPE's binding
# (CONNECTION-REQUEST-BINDING, USERNAME = its device ID) recorded in Redis,
# with a valid MESSAGE-INTEGRITY when a STUN password is set.  A STUN
# client here; the server's own nginx (a stream{} block): plain Perl.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Digest::SHA ();
use Time::HiRes qw(sleep time);
use Cwmp::Test;
use Cwmp::Hosts;

$ENV{TEST_NGINX_BINARY}
    or plan skip_all => 'TEST_NGINX_BINARY is not set';

my $port = Cwmp::Hosts::free_port(19951);
my $stun = Cwmp::Hosts::free_port(19961);
my $stun2 = Cwmp::Hosts::free_port($stun + 1);

my $root = Cwmp::Hosts::start('stun', $port,
    "cwmp_connreq on; cwmp_connreq_udp 127.0.0.1:$stun;", main => "stream {
    server { listen 127.0.0.1:$stun udp; cwmp_stun; }
    server { listen 127.0.0.1:$stun2 udp; cwmp_stun;
             cwmp_stun_password stun-secret; }
}");

Cwmp::Test::redis_flush();

my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Proto => 'udp') or die $!;
my $me = $sock->sockport;

# a Binding Request: (message, transaction ID)
sub request {
    my (%o) = @_;
    my $tid = join '', map { chr int rand 256 } 1 .. 12;
    my $attrs = '';
    if (defined $o{username}) {
        my $u = $o{username};
        $attrs .= pack('nn', 0x0006, length $u) . $u
                  . ("\0" x ((4 - length($u) % 4) % 4));
    }
    if ($o{binding}) {
        my $v = 'dslforum.org/TR-111 ';
        $attrs .= pack('nn', 0xC001, length $v) . $v;
    }
    $attrs .= pack('nn', 0xC002, 0) if $o{change};
    my $cookie = $o{rfc3489} ? pack('N', 0x12345678) : pack('N', 0x2112A442);
    if (defined $o{password}) {
        my $head = pack('nn', 0x0001, length($attrs) + 24) . $cookie . $tid;
        my $mac = Digest::SHA::hmac_sha1($head . $attrs, $o{password});
        return ($head . $attrs . pack('nn', 0x0008, 20) . $mac, $tid);
    }
    return (pack('nn', 0x0001, length $attrs) . $cookie . $tid . $attrs, $tid);
}

# send, and the answer's attributes: {type => [value, ...]}, or undef
sub exchange {
    my ($to, $msg) = @_;
    $sock->send($msg, 0, Socket::pack_sockaddr_in($to,
                         Socket::inet_aton('127.0.0.1'))) or die $!;
    return undef unless IO::Select->new($sock)->can_read(0.5);
    $sock->recv(my $d, 2048);
    my ($type, $len) = unpack 'nn', $d;
    my %a = (type => $type, tid => substr($d, 8, 12));
    my $p = 20;
    while ($p + 4 <= 20 + $len) {
        my ($t, $l) = unpack 'nn', substr($d, $p, 4);
        push @{ $a{$t} }, substr($d, $p + 4, $l);
        $p += 4 + (($l + 3) & ~3);
    }
    return \%a;
}

sub address {
    my ($v, $xor) = @_;
    my (undef, $family, $p, $a) = unpack 'CCnN', $v;
    if ($xor) {
        $p ^= 0x2112;
        $a ^= 0x2112A442;
    }
    return join('.', unpack 'C4', pack 'N', $a) . ":$p";
}

sub binding { Cwmp::Test::redis('HGET', "cwmp:device:{$_[0]}:stun", 'address') }

# RFC 5389, with the TR-111 binding: answered and recorded
my ($msg, $tid) = request(username => '00AB12-HG%2D100-S1', binding => 1);
my $a = exchange($stun, $msg);
is($a->{type}, 0x0101, 'a Binding Response');
is($a->{tid}, $tid, 'for the request\'s transaction');
is(address($a->{0x0020}[0], 1), "127.0.0.1:$me", 'XOR-MAPPED-ADDRESS: the client');
is(address($a->{0x0001}[0]), "127.0.0.1:$me", 'MAPPED-ADDRESS too');
sleep 0.2;
is(binding('00AB12-HG%2D100-S1'), "127.0.0.1:$me", 'the binding in Redis');

# RFC 3489: MAPPED-ADDRESS only
($msg) = request(rfc3489 => 1);
$a = exchange($stun, $msg);
is(address($a->{0x0001}[0]), "127.0.0.1:$me", 'RFC 3489: MAPPED-ADDRESS');
ok(!$a->{0x0020}, 'and no XOR-MAPPED-ADDRESS');

# not STUN: no answer
is(exchange($stun, "GET / HTTP/1.1\r\n\r\n" . ('x' x 20)), undef,
   'anything else: no answer');

# plain STUN use (no CONNECTION-REQUEST-BINDING), a bad username: answered,
# not recorded
($msg) = request(username => 'S2-PLAIN');
ok(exchange($stun, $msg), 'a plain Binding Request answered');
($msg) = request(username => 'X}:params', binding => 1);
ok(exchange($stun, $msg), 'a hostile username answered');
sleep 0.2;
is(binding('S2-PLAIN'), undef, 'a plain request is not a binding');
is(Cwmp::Test::redis('EXISTS', 'cwmp:device:{X}:params}:stun'), 0,
   'a hostile username names no key');

# with a STUN password: MESSAGE-INTEGRITY decides
($msg) = request(username => 'S3-BAD', binding => 1, password => 'wrong');
ok(exchange($stun2, $msg), 'a wrong MESSAGE-INTEGRITY answered');
($msg) = request(username => 'S3-NONE', binding => 1);
ok(exchange($stun2, $msg), 'no MESSAGE-INTEGRITY answered');
($msg) = request(username => 'S3-GOOD', binding => 1, change => 1,
                 password => 'stun-secret');
ok(exchange($stun2, $msg), 'the right MESSAGE-INTEGRITY answered');
sleep 0.2;
is(binding('S3-BAD'), undef, 'a wrong MESSAGE-INTEGRITY is not recorded');
is(binding('S3-NONE'), undef, 'nor a missing one');
is(binding('S3-GOOD'), "127.0.0.1:$me", 'the right one is');
ok(Cwmp::Test::redis('HGET', 'cwmp:device:{S3-GOOD}:stun', 'binding_change'),
   'BINDING-CHANGE dated');

# a device's own STUN password (Redis) decides for it, on either server
Cwmp::Test::redis('HSET', "cwmp:device:{S4-OWN}:connreq", 'stun_password',
                  'dev-secret');
Cwmp::Test::redis('HSET', "cwmp:device:{S5-OWN}:connreq", 'stun_password',
                  'dev-secret');
($msg) = request(username => 'S4-OWN', binding => 1);
ok(exchange($stun, $msg), 'own password, no MESSAGE-INTEGRITY: answered');
sleep 0.2;
is(binding('S4-OWN'), undef, 'but not recorded');
($msg) = request(username => 'S4-OWN', binding => 1, password => 'stun-secret');
exchange($stun, $msg);
sleep 0.2;
is(binding('S4-OWN'), undef, 'nor with another password');
($msg) = request(username => 'S4-OWN', binding => 1, password => 'dev-secret');
exchange($stun, $msg);
sleep 0.2;
is(binding('S4-OWN'), "127.0.0.1:$me", 'recorded with its own password');
($msg) = request(username => 'S5-OWN', binding => 1, password => 'dev-secret');
exchange($stun2, $msg);
sleep 0.2;
is(binding('S5-OWN'), "127.0.0.1:$me",
   'its own password, not the shared one, where both exist');

# a connection request to a device known by its STUN binding only: over
# UDP, from the STUN server's port, to the binding
my $dev = '00AB12-HG%2D100-S1';
Cwmp::Test::redis('HSET', "cwmp:device:{$dev}", 'data_model',
                  'InternetGatewayDevice', 'remote_addr', '127.0.0.1');
Cwmp::Test::redis('HSET', "cwmp:device:{$dev}:connreq", 'username', 'u',
                  'password', 'p');
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $dev);
my @got;
while (@got < 3 && IO::Select->new($sock)->can_read(3)) {
    my $from = $sock->recv(my $d, 2048);
    my ($fport) = Socket::sockaddr_in($from);
    push @got, [$d, $fport];
}
is(scalar @got, 3, 'a UDP connection request to the STUN binding');
is($got[0][1], $stun, 'from the STUN server\'s port');
like($got[0][0], qr{^GET http://127\.0\.0\.1:$me\?ts=\d+&id=\w+&un=u&cn=\w+&sig=[0-9a-f]{40} HTTP/1\.1\r\n},
     'the TR-111 message');

# a device whose HTTP URL does not answer, with a binding: UDP after HTTP
my $dev2 = '00AB12-HG%2D100-S9';
my $closed = Cwmp::Hosts::free_port($port + 20);
Cwmp::Test::redis('HSET', "cwmp:device:{$dev2}", 'data_model',
                  'InternetGatewayDevice', 'remote_addr', '127.0.0.1');
Cwmp::Test::redis('HSET', "cwmp:device:{$dev2}:params",
    'InternetGatewayDevice.ManagementServer.ConnectionRequestURL',
    "http://127.0.0.1:$closed/", 'InternetGatewayDevice.ManagementServer.NATDetected', 'false');
Cwmp::Test::redis('HSET', "cwmp:device:{$dev2}:connreq", 'password', 'p');
($msg) = request(username => $dev2, binding => 1);
ok(exchange($stun, $msg), 'the device\'s binding');
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $dev2);
@got = ();
while (@got < 3 && IO::Select->new($sock)->can_read(3)) {
    $sock->recv(my $d, 2048);
    push @got, $d;
}
is(scalar @got, 3, 'HTTP unreachable: the request goes over UDP');

my @bad = Cwmp::Hosts::errors($root);
is(scalar @bad, 0, 'nothing at error or above') or diag(@bad);

done_testing();
