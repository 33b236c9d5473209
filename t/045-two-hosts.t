# One CWMP session spread over two nginx instances sharing one Redis: every
# step of a session may reach any worker of any host (the session lives in
# Redis).  Two instances cannot be described in Test::Nginx's data format,
# so this file starts them itself.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use Cwmp::Test;
use Cwmp::Hosts;

$ENV{TEST_NGINX_BINARY}
    or plan skip_all => 'TEST_NGINX_BINARY is not set';

my @ports = map { Cwmp::Hosts::free_port($_) } 19801, 19901;
my @roots;

sub post { Cwmp::Hosts::post(@_) }

Cwmp::Test::redis_flush();
@roots = map { Cwmp::Hosts::start("host$_", $ports[$_]) } 0, 1;

my $dev = $Cwmp::Test::Device;
Cwmp::Test::push_tasks($dev,
    {id => 'h1', name => 'getParameterValues',
     parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime']},
    {id => 'h2', name => 'scheduleInform', delaySeconds => 60});

# the Inform to host 0
my ($status, $head, $body) = post($ports[0], Cwmp::Test::inform(id => 'i'));
is($status, 200, 'host 0: InformResponse');
my ($cookie) = $head =~ /^Set-Cookie: (cwmp_session=[^;]+)/mi;
ok($cookie, 'a session cookie');

# the empty POST to host 1: the first task
($status, $head, $body) = post($ports[1], '', $cookie);
is($status, 200, 'host 1 continues the session');
like($body, qr/<cwmp:GetParameterValues>/, 'the first task');
my ($id) = $body =~ m{<cwmp:ID [^>]*>([0-9a-f]+)</cwmp:ID>};

# the answer, with the request's cwmp:ID, to host 0: the second task
($status, $head, $body) = post($ports[0],
    Cwmp::Test::answer('GetParameterValuesResponse',
        '<ParameterList><ParameterValueStruct><Name>InternetGatewayDevice.DeviceInfo.UpTime</Name>'
        . '<Value xsi:type="xsd:unsignedInt">5</Value></ParameterValueStruct></ParameterList>',
        id => $id),
    $cookie);
is($status, 200, 'host 0 takes the answer');
like($body, qr/<cwmp:ScheduleInform>\r\n<DelaySeconds>60<\/DelaySeconds>\r\n<CommandKey>h2<\/CommandKey>/,
     'the second task');
($id) = $body =~ m{<cwmp:ID [^>]*>([0-9a-f]+)</cwmp:ID>};

# its answer to host 1: nothing left
($status) = post($ports[1],
                 Cwmp::Test::answer('ScheduleInformResponse', '', id => $id),
                 $cookie);
is($status, 204, 'host 1 ends the session');

my $r = Cwmp::Test::results();
is_deeply([map { "$_->{task}:$_->{status}" } @$r], ['h1:done', 'h2:done'],
          'both tasks done, in order');
is(Cwmp::Test::redis('EXISTS', "cwmp:device:{$dev}:session"), 0,
   'the session is over');

# a stale answer (the first request's ID again) is refused by either host
Cwmp::Test::push_tasks($dev, {id => 'h3', name => 'getRPCMethods'});
($status, $head) = post($ports[0], Cwmp::Test::inform(id => 'j'));
($cookie) = $head =~ /^Set-Cookie: (cwmp_session=[^;]+)/mi;
($status, $head, $body) = post($ports[1], '', $cookie);
($status) = post($ports[0],
    Cwmp::Test::answer('GetRPCMethodsResponse', '', id => 'ffffffffffffffff'),
    $cookie);
is($status, 400, 'an answer with another cwmp:ID is refused');

# a CPE that waits for "100 Continue" before its body (easycwmp does)
{
    Cwmp::Test::end_sessions();
    my $inform = Cwmp::Test::inform(id => 'e');
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ports[1]) or die $!;
    print $s "POST / HTTP/1.1\r\nHost: acs\r\nConnection: close\r\n"
             . "Expect: 100-continue\r\nContent-Length: "
             . length($inform) . "\r\n\r\n";
    my $interim = '';
    while ($interim !~ /\r\n\r\n/) {
        sysread($s, my $buf, 1) or last;
        $interim .= $buf;
    }
    like($interim, qr{^HTTP/1\.1 100 Continue\r\n}, 'Expect: 100-continue answered');
    print $s $inform;
    local $/;
    my $rest = <$s>;
    like($rest, qr{^HTTP/1\.1 200 OK.*<cwmp:InformResponse>}s, 'then the InformResponse');
}

for my $i (0, 1) {
    my @bad = Cwmp::Hosts::errors($roots[$i]);
    is(scalar @bad, 0, "host $i: nothing at error or above") or diag(@bad);
}

done_testing();
