# Load shedding (cwmp_shed_pending): a worker with that many Redis
# operations pending answers new sessions 503 + Retry-After before reading
# them, and closes their connections; the sessions already running go on.
# It takes concurrent connections, so this file starts its own nginx.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use Cwmp::Test;
use Cwmp::Hosts;

$ENV{TEST_NGINX_BINARY}
    or plan skip_all => 'TEST_NGINX_BINARY is not set';

my $port = Cwmp::Hosts::free_port(19851);
my $root = Cwmp::Hosts::start('shed', $port,
                              'cwmp_shed_pending 1; cwmp_retry_after 10s;');

Cwmp::Test::redis_flush();

sub device { "00AB12-HG%2D100-$_[0]" }

# a session that runs through the storm: its Inform before it
my ($status, $head) = Cwmp::Hosts::post($port, Cwmp::Test::inform(id => 'a'));
is($status, 200, 'a running session');
my ($cookie) = $head =~ /^Set-Cookie: (cwmp_session=[^;]+)/mi;

# Redis stalls for a while: a second device's Inform waits on it
Cwmp::Test::redis('CLIENT', 'PAUSE', '700', 'ALL');
my $held = Cwmp::Hosts::send_post($port,
    Cwmp::Test::inform(id => 'b', serial => 'S2'));
sleep 0.2;

# a third device, while an operation is pending: shed at once
($status, $head, my $body) = Cwmp::Hosts::post($port,
    Cwmp::Test::inform(id => 'c', serial => 'S3'));
is($status, 503, 'a new session is shed');
my ($after) = $head =~ /^Retry-After: (\d+)/mi;
ok(defined $after && $after >= 10 && $after < 20,
   'Retry-After spread over [10, 20) s') or diag($head);
like($head, qr/^Connection: close/mi, 'its connection closed');
like($body, qr/overloaded/, 'says why');

# the running session is not shed: its empty POST waits for Redis too
my $cont = Cwmp::Hosts::send_post($port, '', $cookie);

($status) = Cwmp::Hosts::response($held);
is($status, 200, 'the Inform that was waiting is answered');
($status) = Cwmp::Hosts::response($cont);
is($status, 204, 'the running session goes on to its end');

is(Cwmp::Test::redis('EXISTS', 'cwmp:device:{' . device('S3') . '}'), 0,
   'nothing stored for the shed Inform');

# the load gone, the shed device comes back and is served
($status) = Cwmp::Hosts::post($port,
    Cwmp::Test::inform(id => 'd', serial => 'S3'));
is($status, 200, 'the shed device, retrying, is served');

open my $in, '<', "$root/logs/error.log" or die $!;
my $log = join '', <$in>;
like($log, qr/\[warn\].*cwmp: overloaded, 1 Redis operations pending, answering new sessions 503/,
     'shedding is logged when it starts');
like($log, qr/\[notice\].*cwmp: load is back under cwmp_shed_pending, 1 new sessions were shed/,
     'and when it ends, with the count');

my @bad = Cwmp::Hosts::errors($root);
is(scalar @bad, 0, 'nothing at error or above') or diag(@bad);

done_testing();
