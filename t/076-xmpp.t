# XMPP connection requests (TR-069 Annex K) against a real server: the
# tests' prosody (t/lib/Cwmp/Xmpp.pm, Debian's prosody on loopback with a
# configuration of its own), a fake XMPP CPE that answers connectionRequest
# IQs, and the ACS's side of the exchange as the Annex defines it, spoken
# here by a test client: what the ACS's XMPP client must do, and what the
# server does with it (a result, an error from the CPE, the server's
# service-unavailable for a CPE that is not online).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use Cwmp::Test;
use Cwmp::Hosts;
use Cwmp::Xmpp;
use MIME::Base64 ();
use IO::Socket::INET;
use POSIX ();

plan skip_all => 'prosody is not installed' unless -x '/usr/bin/prosody';

my $dir = tempdir(CLEANUP => 1);
my $port = Cwmp::Hosts::free_port(15222);
my $domain = 'xmpp.test';

my $srv = Cwmp::Xmpp::start("$Cwmp::Test::Top/build/test-xmpp", $port, $domain,
    {acs => 'acs-secret', cpe1 => 'cpe1-xmpp', cpe2 => 'cpe2-xmpp'});
ok($srv->{pid}, 'prosody started on loopback');

my $cpe = Cwmp::Xmpp::cpe(port => $port, jid => "cpe1\@$domain",
    xmpp_password => 'cpe1-xmpp', username => 'cr-user',
    password => 'cr-secret', log => "$dir/cpe1.log");
like($cpe->{jid}, qr{^cpe1\@xmpp\.test/cwmp$}, 'the CPE is online: its full JID');

my $acs = Cwmp::Xmpp::login($port, "acs\@$domain", 'acs-secret', 'acs-w1');
like($acs->{jid}, qr{^acs\@xmpp\.test/acs-w1$}, 'the ACS logged in, a resource of its own');

my $iq = Cwmp::Xmpp::connection_request($acs, $cpe->{jid}, 'cr-user', 'cr-secret', 'cr1');
ok($iq && Cwmp::Xmpp::attr($iq, 'type') eq 'result', 'the right credentials: a result')
    or diag($iq // 'no answer');

$iq = Cwmp::Xmpp::connection_request($acs, $cpe->{jid}, 'cr-user', 'wrong', 'cr2');
ok($iq && Cwmp::Xmpp::attr($iq, 'type') eq 'error' && $iq =~ /not-authorized/,
   'wrong credentials: the CPE answers an error, not-authorized') or diag($iq // 'no answer');

$iq = Cwmp::Xmpp::connection_request($acs, "cpe2\@$domain/cwmp", 'cr-user', 'cr-secret', 'cr3');
ok($iq && Cwmp::Xmpp::attr($iq, 'type') eq 'error' && $iq =~ /service-unavailable/,
   'a CPE that is not online: the server answers service-unavailable')
    or diag($iq // 'no answer');

my @log = do { open my $in, '<', "$dir/cpe1.log" or die $!; <$in> };
is(scalar @log, 2, 'the CPE saw two requests');
like($log[0], qr{^ok acs\@xmpp\.test/acs-w1 cr1$}, '... the first accepted, from the ACS');
like($log[1], qr{^refused .* cr2$}, '... the second refused');

# --- the ACS's own XMPP client --------------------------------------------

SKIP: {
skip 'TEST_NGINX_BINARY is not set', 1 unless $ENV{TEST_NGINX_BINARY};

open my $pw, '>', "$dir/acs-password" or die $!;
print $pw "acs-secret\n";
close $pw;

my $http = Cwmp::Hosts::free_port(19960);
my $root = Cwmp::Hosts::start('xmpp', $http,
    "cwmp_connreq on; cwmp_connreq_timeout 2s; cwmp_connreq_window 1s; "
    . "cwmp_xmpp 127.0.0.1:$port jid=acs\@$domain password_file=$dir/acs-password "
    . "resource=acs tls=off; cwmp_xmpp_allow $domain;");

Cwmp::Test::redis_flush();

# a device only XMPP reaches: its ConnReqJabberID, no URL that answers
# (url: its ConnectionRequestURL instead, '' for none)
sub device {
    my ($serial, $jid, $password, $url) = @_;
    my $id = "00AB12-HG%2D100-$serial";
    my $k = "cwmp:device:{$id}";
    $url //= 'http://192.0.2.7:7547/';
    my ($addr) = $url =~ m{^http://([^:/]+)};
    Cwmp::Test::redis('HSET', $k, 'data_model', 'InternetGatewayDevice',
                      'remote_addr', $addr // '192.0.2.7');
    Cwmp::Test::redis('HSET', "$k:params",
        ($url ne '' ? ('InternetGatewayDevice.ManagementServer.ConnectionRequestURL', $url) : ()),
        'InternetGatewayDevice.ManagementServer.ConnectionRequestUsername', 'cr-user',
        'InternetGatewayDevice.ManagementServer.ConnReqJabberID', $jid);
    Cwmp::Test::redis('HSET', "$k:connreq", 'password', $password);
    return $id;
}

sub outcome {
    my ($id) = @_;
    my $deadline = time + 4;
    while (time < $deadline) {
        # the request's own (the "session" one of the device's session
        # may land first: the CPE opens it as it answers)
        my @r = grep { $_->{device} eq $id && $_->{name} eq 'connectionRequest'
                       && $_->{status} ne 'session' }
                @{ Cwmp::Test::results() };
        return $r[0] if @r;
        select(undef, undef, undef, 0.05);
    }
    return undef;
}

# the ACS logs in once the worker starts: wait for its resource
my $online = log_of($root, qr/xmpp: logged in as "acs\@xmpp\.test\/acs-[^"]+-\d+" \(SCRAM-SHA-1\)/)
             =~ /logged in as/;
ok($online, 'the ACS logged in to prosody (SCRAM-SHA-1, resource acs-<host>-<pid>)');

# the CPE, which opens its session when asked: the queued task runs
my $cpe1 = Cwmp::Xmpp::cpe(port => $port, jid => "cpe1\@$domain",
    xmpp_password => 'cpe1-xmpp', username => 'cr-user',
    password => 'cr-secret', log => "$dir/cpe1-acs.log",
    on_request => cwmp_session($http, 'X1', '42'));

my $d1 = device('X1', $cpe1->{jid}, 'cr-secret');
Cwmp::Test::push_tasks($d1, {id => 'up1', name => 'getParameterValues',
    parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime']});
my $t0 = time;
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $d1);
my $r = outcome($d1);
is($r && $r->{status}, 'ok', 'XADD cwmp:connreq: the connection request went out over XMPP');
is($r && $r->{result}{transport}, 'xmpp', '... its transport: xmpp');
my $done = task_result('up1');
is($done && $done->{status}, 'done', 'the CPE opened its session: the task ran');
ok($done && time - $t0 < 1.5, sprintf('... within a second or so (%.2f s)', time - $t0));

# wrong credentials: the CPE's not-authorized
my $d2 = device('X2', $cpe1->{jid}, 'wrong');
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $d2);
$r = outcome($d2);
is($r && $r->{status}, 'auth_failed', 'wrong credentials: auth_failed (the CPE\'s error IQ)');

# a CPE not online: the server's service-unavailable
my $d3 = device('X3', "cpe2\@$domain/cwmp", 'cr-secret', '');
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $d3);
$r = outcome($d3);
is($r && $r->{status}, 'offline', 'a CPE not online: offline');

# not online over XMPP, but its URL answers: HTTP next (the default order
# "xmpp udp:nat http udp"), the detail says what XMPP found
my $cr = Cwmp::Hosts::free_port(19950);
my $crpid = Cwmp::Test::fake_server($cr, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
my $d6 = device('X6', "cpe2\@$domain/cwmp", 'cr-secret', "http://127.0.0.1:$cr/cr");
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $d6);
$r = outcome($d6);
is($r && $r->{status}, 'ok', 'XMPP offline, HTTP answers: ok');
is($r && $r->{result}{transport}, 'http', '... over the next transport, http');
like($r && $r->{result}{detail}, qr/^xmpp offline: .*service-unavailable|^xmpp offline/,
     '... the detail says what XMPP found') or diag(explain($r));


# a JID elsewhere: never messaged
my $d4 = device('X4', 'someone@elsewhere.example/cwmp', 'cr-secret', '');
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $d4);
$r = outcome($d4);
is($r && $r->{status}, 'refused', 'a JID outside cwmp_xmpp_allow: refused');
like($r && $r->{result}{detail}, qr/cwmp_xmpp_allow/, '... saying why');

my @acs_log = do { open my $in, '<', "$dir/cpe1-acs.log" or die $!; <$in> };
is(scalar @acs_log, 2, 'the CPE got two requests, no more');

# cwmp_connreq_transports: XMPP only for a device behind a NAT, else HTTP
my $ho = Cwmp::Hosts::free_port(19955);
my $ro = Cwmp::Hosts::start('xmpp-order', $ho,
    "cwmp_connreq on; cwmp_connreq_timeout 2s; cwmp_connreq_window 100ms; "
    . "cwmp_connreq_transports xmpp:nat http; "
    . "cwmp_xmpp 127.0.0.1:$port jid=acs\@$domain password_file=$dir/acs-password "
    . "resource=order tls=off; cwmp_xmpp_allow $domain;");
log_of($ro, qr/xmpp: logged in/);
Cwmp::Hosts::stop($root);      # the order host alone serves cwmp:connreq
my $d7 = device('X7', $cpe1->{jid}, 'cr-secret', "http://127.0.0.1:$cr/cr");
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $d7);
$r = outcome($d7);
is($r && $r->{status} . ' ' . $r->{result}{transport}, 'ok http',
   'cwmp_connreq_transports xmpp:nat http: a device not behind a NAT over HTTP');
Cwmp::Test::redis('HSET', "cwmp:device:{$d7}:params",
                  'InternetGatewayDevice.ManagementServer.NATDetected', 'true');
select(undef, undef, undef, 0.2);
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $d7);
my @over;
for (1 .. 100) {
    @over = grep { $_->{device} eq $d7 && $_->{name} eq 'connectionRequest'
                   && $_->{status} ne 'session' } @{ Cwmp::Test::results() };
    last if @over >= 2;
    select(undef, undef, undef, 0.05);
}
is(@over >= 2 && $over[-1]{status} . ' ' . $over[-1]{result}{transport}, 'ok xmpp',
   '... behind a NAT (NATDetected): over XMPP first') or diag(explain(\@over));
Cwmp::Hosts::stop($ro);
$root = Cwmp::Hosts::start('xmpp', $http,
    "cwmp_connreq on; cwmp_connreq_timeout 2s; cwmp_connreq_window 1s; "
    . "cwmp_xmpp 127.0.0.1:$port jid=acs\@$domain password_file=$dir/acs-password "
    . "resource=acs tls=off; cwmp_xmpp_allow $domain;");
log_of($root, qr/xmpp: logged in/);
kill 'TERM', $crpid;
waitpid($crpid, 0);

# the "xmpp" policy action: XMPP set up on the device with the account the
# operator keeps in cwmp:device:{<ID>}:xmpp, its connection requests over
# it, allowed from the ACS's JID
my $hp = Cwmp::Hosts::free_port(19958);
my $rp = Cwmp::Hosts::start('xmpp-policy', $hp,
    "cwmp_xmpp 127.0.0.1:$port jid=acs\@$domain password_file=$dir/acs-password "
    . "resource=pol tls=off; cwmp_xmpp_allow $domain; "
    . "cwmp_policy xmpp-on { match data_model = InternetGatewayDevice; xmpp; }");
my $p1 = Cwmp::Test::device_of('P1');
Cwmp::Test::redis('HSET', "cwmp:device:{$p1}:xmpp", 'jid', "cpe9\@$domain",
                  'password', 'cpe9-xmpp', 'server', "xmpp.example.net:5222");
my $pc = Cwmp::Test::cpe_connection($hp, '/');
$pc->(Cwmp::Test::inform(serial => 'P1', events => ['0 BOOTSTRAP']));
my (undef, $spv) = $pc->('');
my %set = $spv =~ m{<Name>([^<]+)</Name>\s*<Value[^>]*>([^<]*)</Value>}g;
my $c1 = 'InternetGatewayDevice.XMPP.Connection.1.';
is_deeply([@set{map { "$c1$_" } qw(Enable Username Password Domain Resource)}],
          ['true', 'cpe9', 'cpe9-xmpp', $domain, 'cwmp'],
          'policy xmpp: XMPP.Connection.1 set up with the account from Redis')
    or diag($spv);
is($set{'InternetGatewayDevice.ManagementServer.ConnReqXMPPConnection'},
   'InternetGatewayDevice.XMPP.Connection.1', '... connection requests over it');
is($set{'InternetGatewayDevice.ManagementServer.ConnReqAllowedJabberIDs'},
   "acs\@$domain", '... allowed from the ACS\'s JID (cwmp_xmpp\'s)');
is(join(' ', @set{map { "$c1$_" } qw(ServerConnectAlgorithm Server.1.ServerAddress Server.1.Port)}),
   'ServerTable xmpp.example.net 5222', '... and the server the account names');
my (undef, $end) = $pc->(Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>'));
is(Cwmp::Test::redis('HEXISTS', "cwmp:device:{$p1}:policy", 'xmpp:xmpp-on'), 1,
   '... done: the policy\'s state says so (not again)');
unlike(Cwmp::Test::redis('HGET', "cwmp:device:{$p1}:params", "${c1}Password") // '', qr/cpe9/,
       '... the password never in the parameter cache');

# no account in Redis: a fault of the policy, saying what to write
my $p2 = Cwmp::Test::device_of('P2');
$pc = Cwmp::Test::cpe_connection($hp, '/');
my (undef, $ir) = $pc->(Cwmp::Test::inform(serial => 'P2', events => ['0 BOOTSTRAP']));
my ($st2, $body2) = $pc->('');
is($st2, 204, 'no XMPP account for the device: nothing sent') or diag($body2);
like(Cwmp::Test::redis('HGET', "cwmp:device:{$p2}:policy", 'fault:xmpp-on') // '',
     qr/no XMPP account for the device: HSET cwmp:device:\{\Q$p2\E\}:xmpp jid/,
     '... a fault of the policy that says what to write');

# an operator's own task does the same (a new account pushed again)
Cwmp::Test::redis('HSET', "cwmp:device:{$p2}:xmpp", 'jid', "cpe8\@$domain",
                  'password', 'cpe8-xmpp', 'allowed', "ops\@$domain");
Cwmp::Test::push_tasks($p2, {id => 'x2', name => 'xmppConnection', connection => 2});
$pc = Cwmp::Test::cpe_connection($hp, '/');
$pc->(Cwmp::Test::inform(serial => 'P2'));
(undef, $spv) = $pc->('');
%set = $spv =~ m{<Name>([^<]+)</Name>\s*<Value[^>]*>([^<]*)</Value>}g;
is(join(' ', map { $set{$_} // '-' } 'InternetGatewayDevice.XMPP.Connection.2.Username',
        'InternetGatewayDevice.ManagementServer.ConnReqAllowedJabberIDs'),
   "cpe8 ops\@$domain", 'a queued xmppConnection task: connection 2, the allowed JID from Redis')
    or diag($spv);
$pc->(Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>'));
my ($x2) = grep { $_->{task} eq 'x2' } @{ Cwmp::Test::results() };
is($x2 && $x2->{status}, 'done', '... its result: done');
Cwmp::Hosts::stop($rp);

# the server down and back: the ACS logs in again
Cwmp::Xmpp::cpe_stop($cpe1);
Cwmp::Xmpp::stop($srv);
$srv = Cwmp::Xmpp::restart($srv);
my $again = 0;
for (1 .. 200) {
    open my $in, '<', "$root/logs/error.log" or last;
    local $/;
    my $log = <$in>;
    if ($log =~ /xmpp: logged in again/) {
        $again = 1;
        last;
    }
    select(undef, undef, undef, 0.05);
}
ok($again, 'the XMPP server down and back: the ACS logged in again');
my @errors = Cwmp::Hosts::errors($root);
is(scalar(grep { /xmpp/ } @errors), 1, 'one error line for the outage')
    or diag(@errors);

# two nginx instances on one Redis, one XMPP account: 50 triggers, 50 IQs
my $http2 = Cwmp::Hosts::free_port($http + 1);
my $root2 = Cwmp::Hosts::start('xmpp2', $http2,
    "cwmp_connreq on; cwmp_connreq_timeout 2s; cwmp_connreq_window 1s; "
    . "cwmp_xmpp 127.0.0.1:$port jid=acs\@$domain password_file=$dir/acs-password "
    . "resource=acs tls=off; cwmp_xmpp_allow $domain;");
my $logged = 0;
for (1 .. 200) {
    my $n = 0;
    for my $r ($root, $root2) {
        open my $in, '<', "$r/logs/error.log" or next;
        local $/;
        my $log = <$in>;
        $n++ if $log =~ /xmpp: logged in/;
    }
    $logged = $n;
    last if $n == 2;
    select(undef, undef, undef, 0.05);
}
is($logged, 2, 'a second instance logged in beside the first (resources of their own)');
my $cpe3 = Cwmp::Xmpp::cpe(port => $port, jid => "cpe1\@$domain",
    xmpp_password => 'cpe1-xmpp', username => 'cr-user',
    password => 'cr-secret', log => "$dir/cpe-50.log");
my @ids = map { device("M$_", $cpe3->{jid}, 'cr-secret') } 1 .. 50;
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $_) for @ids;
my $n = 0;
for (1 .. 200) {
    $n = grep { $_->{name} eq 'connectionRequest' && $_->{device} =~ /-M\d+$/
                && $_->{status} eq 'ok' } @{ Cwmp::Test::results() };
    last if $n >= 50;
    select(undef, undef, undef, 0.05);
}
select(undef, undef, undef, 0.5);
is($n, 50, '50 connection requests ok');
my @lines = do { open my $in, '<', "$dir/cpe-50.log" or die $!; <$in> };
is(scalar @lines, 50, '... exactly 50 IQs reached the CPE');
my %from = map { (split ' ', $_)[1] => 1 } @lines;
ok(keys %from >= 1, sprintf('... from %d of the ACS\'s resources', scalar keys %from));
Cwmp::Xmpp::cpe_stop($cpe3);

Cwmp::Hosts::stop($root2);
Cwmp::Hosts::stop($root);
}

# --- a hostile or broken server: one line each, no crash, connecting again

SKIP: {
skip 'TEST_NGINX_BINARY is not set', 1 unless $ENV{TEST_NGINX_BINARY};

my $head = "<stream:stream xmlns='jabber:client' "
           . "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' "
           . "from='$domain' id='s1'>";
my $scram = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
            . "<mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>";
my @cases = (
    ['an oversize stanza', $head . '<stream:features><x>' . ('a' x 70000) . '</x>', 0,
     qr/oversize, too deep or forbidden/],
    ['malformed XML', $head . '<stream:features><a></b>', 0, qr/malformed XML/],
    ['a DOCTYPE', "<!DOCTYPE x [<!ENTITY e 'x'>]>" . $head, 0,
     qr/oversize, too deep or forbidden|malformed/],
    ['only PLAIN offered in the clear', $head . "<stream:features><mechanisms "
     . "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
     . "</mechanisms></stream:features>", 2, qr/offers no SCRAM \(PLAIN is not sent in the clear\)/],
    ['a log-in that never finishes', $head . $scram, 3,
     qr/the log-in did not finish in time/],
);

my $n = 0;
for my $case (@cases) {
    my ($what, $reply, $hold, $re) = @$case;
    $n++;
    my $bad = Cwmp::Hosts::free_port(19990 + $n * 3);
    my $srvpid = Cwmp::Test::fake_server($bad, $reply, $hold);
    my $http = Cwmp::Hosts::free_port($bad + 1);
    my $root = Cwmp::Hosts::start("xmpp-bad$n", $http,
        "cwmp_connreq on; cwmp_xmpp 127.0.0.1:$bad jid=acs\@$domain "
        . "password_file=$dir/acs-password timeout=1s tls=off; cwmp_xmpp_allow $domain;");
    my $log = '';
    for (1 .. 60) {
        open my $in, '<', "$root/logs/error.log" or last;
        local $/;
        $log = <$in>;
        last if $log =~ $re;
        select(undef, undef, undef, 0.05);
    }
    like($log, $re, "$what: the stream dropped, saying why");
    my @errors = grep { /xmpp/ } Cwmp::Hosts::errors($root);
    is(scalar(grep { /\[(alert|crit|emerg)\]/ } Cwmp::Hosts::errors($root)), 0,
       "$what: no alert");
    ok(@errors <= 1, "$what: one error line for the outage") or diag(@errors);
    my ($status) = Cwmp::Hosts::post($http, Cwmp::Test::inform(serial => "BAD$n"));
    is($status, 200, "$what: CWMP goes on");
    Cwmp::Hosts::stop($root);
    Cwmp::Test::stop_server($srvpid);
}
}

# --- TLS: STARTTLS or direct, the server's certificate verified ----------

SKIP: {
skip 'TEST_NGINX_BINARY is not set', 1 unless $ENV{TEST_NGINX_BINARY};

my $tport = Cwmp::Hosts::free_port(15300);
my $dport = Cwmp::Hosts::free_port($tport + 1);
my $tls = Cwmp::Xmpp::start("$Cwmp::Test::Top/build/test-xmpp-tls", $tport,
                            $domain, {acs => 'acs-secret', cpe5 => 'cpe5-xmpp'},
                            tls => 1, direct_tls => $dport);
my $crt = "$tls->{dir}/$domain.crt";
system("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout $dir/other.key "
       . "-out $dir/other.crt -subj /CN=$domain >/dev/null 2>&1") == 0 or die;

my $h1 = Cwmp::Hosts::free_port(19970);
my $r1 = Cwmp::Hosts::start('xmpp-tls', $h1,
    "cwmp_connreq on; cwmp_connreq_timeout 2s; cwmp_xmpp 127.0.0.1:$tport "
    . "jid=acs\@$domain password_file=$dir/acs-password tls=starttls trusted=$crt; "
    . "cwmp_xmpp_allow $domain;");
like(log_of($r1, qr/xmpp: logged in/),
     qr/xmpp: logged in as "acs\@xmpp\.test\/[^"]+" \(SCRAM-SHA-1, TLS\)/,
     'STARTTLS, the certificate verified, then SCRAM: logged in over TLS');

# a CPE that speaks TLS to the server too: a connection request end to end
my $cpe5 = Cwmp::Xmpp::cpe(port => $tport, jid => "cpe5\@$domain",
    xmpp_password => 'cpe5-xmpp', username => 'cr-user', tls => $crt,
    password => 'cr-secret', log => "$dir/cpe5.log",
    on_request => cwmp_session($h1, 'X5', '7'));
like($cpe5->{jid}, qr{^cpe5\@xmpp\.test/}, 'a CPE logged in over STARTTLS');
my $d5 = device('X5', $cpe5->{jid}, 'cr-secret');
Cwmp::Test::push_tasks($d5, {id => 'up5', name => 'getParameterValues',
    parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime']});
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', $d5);
my $r5 = outcome($d5);
is($r5 && $r5->{status}, 'ok', 'a connection request over TLS both ways: ok');
my $done5 = task_result('up5');
is($done5 && $done5->{status}, 'done', '... the CPE opened its session, the task ran');
is(scalar(grep { /xmpp/ } Cwmp::Hosts::errors($r1)), 0, '... with no error');
Cwmp::Xmpp::cpe_stop($cpe5);
Cwmp::Hosts::stop($r1);

my $r2 = xmpp_host('xmpp-tls2', $h1 + 1, $tport, "tls=starttls trusted=$dir/other.crt");
like(log_of($r2, qr/does not verify/), qr/certificate does not verify/,
     'a certificate the trusted CAs did not sign: refused, saying so');
unlike(log_of($r2, qr/does not verify/), qr/logged in/, '... never logged in');
Cwmp::Hosts::stop($r2);

# direct TLS (XEP-0368): TLS from the first byte, then the stream
my $r3 = xmpp_host('xmpp-direct', $h1 + 2, $dport, "tls=direct trusted=$crt");
like(log_of($r3, qr/xmpp: logged in/),
     qr/xmpp: logged in as "acs\@xmpp\.test\/[^"]+" \(SCRAM-SHA-1, TLS\)/,
     'tls=direct: TLS first, then the stream: logged in');
is(scalar(grep { /xmpp/ } Cwmp::Hosts::errors($r3)), 0, '... with no error');
Cwmp::Hosts::stop($r3);

my $r4 = xmpp_host('xmpp-direct2', $h1 + 3, $dport, "tls=direct trusted=$dir/other.crt");
like(log_of($r4, qr/does not verify/), qr/certificate does not verify/,
     'tls=direct: a certificate not signed by the trusted CAs refused');
Cwmp::Hosts::stop($r4);

Cwmp::Xmpp::stop($tls);
}

# --- SCRAM-SHA-256 where offered; a half-open connection found by pings --

SKIP: {
skip 'TEST_NGINX_BINARY is not set', 1 unless $ENV{TEST_NGINX_BINARY};

my $sport = Cwmp::Hosts::free_port(15310);
my $s256 = Cwmp::Xmpp::start("$Cwmp::Test::Top/build/test-xmpp-256", $sport,
                             $domain, {acs => 'acs-secret'}, hash => 'SHA-256');
my $h = Cwmp::Hosts::free_port(19980);
my $r = Cwmp::Hosts::start('xmpp-256', $h,
    "cwmp_connreq on; cwmp_xmpp 127.0.0.1:$sport jid=acs\@$domain "
    . "password_file=$dir/acs-password tls=off keepalive=1s timeout=1s; "
    . "cwmp_xmpp_allow $domain;");
like(log_of($r, qr/xmpp: logged in/),
     qr/xmpp: logged in as "acs\@xmpp\.test\/[^"]+" \(SCRAM-SHA-256\)/,
     'a server offering SCRAM-SHA-256 only: logged in with it');

# the server stops answering, the TCP connection stays: XEP-0199 pings
kill 'STOP', $s256->{pid};
like(log_of($r, qr/did not answer a ping/),
     qr/\[error\].*xmpp.*did not answer a ping in time \(a half-open connection\)/,
     'a server that stops answering: the ping unanswered, the stream dropped');
kill 'CONT', $s256->{pid};
like(log_of($r, qr/logged in again/, 200),
     qr/xmpp: logged in again as .*\(SCRAM-SHA-256\)/,
     '... the server back: logged in again');
my @errors = grep { /xmpp/ } Cwmp::Hosts::errors($r);
is(scalar @errors, 1, '... one error line for the outage') or diag(@errors);
Cwmp::Hosts::stop($r);
Cwmp::Xmpp::stop($s256);

# a server that does not know the password cannot pretend the log-in
# worked: its SCRAM server signature is checked
my $fport = Cwmp::Hosts::free_port(15320);
my $fake = scram_liar($fport);
my $hf = Cwmp::Hosts::free_port($h + 1);
my $rf = Cwmp::Hosts::start('xmpp-liar', $hf,
    "cwmp_connreq on; cwmp_xmpp 127.0.0.1:$fport jid=acs\@$domain "
    . "password_file=$dir/acs-password tls=off timeout=2s; cwmp_xmpp_allow $domain;");
like(log_of($rf, qr/SCRAM signature/), qr/the server's SCRAM signature is wrong/,
     'a SCRAM success with a wrong server signature: refused, saying so');
unlike(log_of($rf, qr/SCRAM signature/), qr/logged in/, '... never logged in');
Cwmp::Hosts::stop($rf);
kill 'TERM', $fake;
waitpid($fake, 0);
}

# what a CPE does when asked: its session on the ACS at port, the Inform
# (6 CONNECTION REQUEST), the empty POST, the queued GPV of UpTime answered
sub cwmp_session {
    my ($port, $serial, $uptime) = @_;
    return sub {
        my $c = Cwmp::Test::cpe_connection($port, '/');
        $c->(Cwmp::Test::inform(serial => $serial, events => ['6 CONNECTION REQUEST']));
        $c->('');
        $c->(Cwmp::Test::gpv_answer(['InternetGatewayDevice.DeviceInfo.UpTime', $uptime,
                                     'xsd:unsignedInt']));
    };
}

# the result of a task, once it is in cwmp:results (or undef after 2 s)
sub task_result {
    my ($task) = @_;
    for (1 .. 100) {
        my ($r) = grep { $_->{task} eq $task } @{ Cwmp::Test::results() };
        return $r if $r;
        select(undef, undef, undef, 0.02);
    }
    return undef;
}

# a host whose ACS logs in to the XMPP server on xport with these options
sub xmpp_host {
    my ($name, $port, $xport, $options) = @_;
    return Cwmp::Hosts::start($name, Cwmp::Hosts::free_port($port),
        "cwmp_connreq on; cwmp_xmpp 127.0.0.1:$xport jid=acs\@$domain "
        . "password_file=$dir/acs-password $options; cwmp_xmpp_allow $domain;");
}

# the error log of a host once it matches re (or all of it after tries x 50 ms)
sub log_of {
    my ($root, $re, $tries) = @_;
    my $log = '';
    for (1 .. ($tries // 100)) {
        open my $in, '<', "$root/logs/error.log" or return '';
        local $/;
        $log = <$in>;
        return $log if $log =~ $re;
        select(undef, undef, undef, 0.05);
    }
    return $log;
}

# an XMPP server that plays SCRAM-SHA-1 with the client's nonce but does
# not know the password: its success carries a made-up signature
sub scram_liar {
    my ($port) = @_;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                                  Listen => 4, ReuseAddr => 1) or die $!;
    my $pid = fork // die;
    return $pid if $pid;
    local $SIG{ALRM} = sub { POSIX::_exit(0) };
    alarm 30;
    while (my $c = $l->accept) {
        my $buf = '';
        my $read = sub {
            my ($re) = @_;
            while ($buf !~ $re) {
                sysread($c, my $chunk, 4096) or return undef;
                $buf .= $chunk;
            }
            $buf =~ s/^(.*?$re)//s;
            return $1;
        };
        $read->(qr/<stream:stream[^>]*>/) // next;
        syswrite($c, "<stream:stream xmlns='jabber:client' "
                 . "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' "
                 . "from='$domain' id='l1'><stream:features><mechanisms "
                 . "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1"
                 . "</mechanism></mechanisms></stream:features>");
        my $auth = $read->(qr{</auth>}) // next;
        my ($b64) = $auth =~ />([^<]+)</;
        my ($nonce) = MIME::Base64::decode_base64($b64) =~ /r=([^,]+)/;
        syswrite($c, "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                 . MIME::Base64::encode_base64("r=${nonce}liar,s="
                     . MIME::Base64::encode_base64('salt', '') . ",i=4096", '')
                 . "</challenge>");
        $read->(qr{</response>}) // next;
        syswrite($c, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                 . MIME::Base64::encode_base64('v=' . MIME::Base64::encode_base64('x' x 20, ''), '')
                 . "</success>");
        sleep 1;
        close $c;
    }
    POSIX::_exit(0);
}

Cwmp::Xmpp::cpe_stop($cpe);
Cwmp::Xmpp::stop($srv);

done_testing();
