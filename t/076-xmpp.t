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

Cwmp::Xmpp::cpe_stop($cpe);
Cwmp::Xmpp::stop($srv);

done_testing();
