# "nginx -s reload" applies changed policies without dropping a session:
# a session begun under the old policies goes on under the new ones (its
# state is in Redis, any worker may serve it).  It takes a master process
# and a reload between requests, so this file starts its own nginx.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use Cwmp::Test;
use Cwmp::Hosts;

$ENV{TEST_NGINX_BINARY}
    or plan skip_all => 'TEST_NGINX_BINARY is not set';

my $port = Cwmp::Hosts::free_port(19871);
my $old = 'cwmp_policy first { value InternetGatewayDevice.X.A 1; }';
my $new = 'cwmp_policy second { value InternetGatewayDevice.X.B 2; }';
my $root = Cwmp::Hosts::start('reload', $port, $old, master => 1);

Cwmp::Test::redis_flush();
my $k = "cwmp:device:{$Cwmp::Test::Device}";
Cwmp::Test::redis('HSET', "$k:params", 'InternetGatewayDevice.X.A', '0',
                  'InternetGatewayDevice.X.B', '0');

# the Inform under the old policies: their plan waits in the session
my ($status, $head) = Cwmp::Hosts::post($port, Cwmp::Test::inform(id => 'a'));
is($status, 200, 'Inform under the old policies');
my ($cookie) = $head =~ /^Set-Cookie: (cwmp_session=[^;]+)/mi;

# a reload in the middle of the session
Cwmp::Hosts::reload($root, $old, $new);
sleep 0.5;

my $body;
($status, $head, $body) = Cwmp::Hosts::post($port, '', $cookie);
is($status, 200, 'the session goes on after the reload');
like($body, qr{<Name>InternetGatewayDevice.X.A</Name>}, 'the old plan, found at its Inform');

($status, $head, $body) = Cwmp::Hosts::post($port,
    Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>'),
    $cookie);
is($status, 200, 'then the new policies');
like($body, qr{<Name>InternetGatewayDevice.X.B</Name>\r\n<Value xsi:type="xsd:string">2</Value>},
     'evaluated by the new workers');

($status) = Cwmp::Hosts::post($port,
    Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>'),
    $cookie);
is($status, 204, 'and the session ends');

my $r = Cwmp::Test::results();
is_deeply([map { "$_->{task} $_->{status}" } @$r],
          ['policy:first done', 'policy:second done'], 'both recorded');

my @bad = Cwmp::Hosts::errors($root);
is(scalar @bad, 0, 'nothing at error or above') or diag(@bad);

done_testing();
