# One CWMP session spread over two nginx instances sharing one Redis: every
# step of a session may reach any worker of any host (the session lives in
# Redis).  Two instances cannot be described in Test::Nginx's data format,
# so this file starts them itself.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use File::Path qw(make_path remove_tree);
use Time::HiRes qw(sleep);
use POSIX qw(WNOHANG);
use Cwmp::Test;

my $nginx = $ENV{TEST_NGINX_BINARY}
    or plan skip_all => 'TEST_NGINX_BINARY is not set';

my $redis = $ENV{TEST_NGINX_REDIS_PORT};
my @ports = map { free_port($_) } 19801, 19901;
my @pids;

sub free_port {
    my ($p) = @_;
    while (IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $p)) {
        $p++;
    }
    return $p;
}

sub start_nginx {
    my ($i, $port) = @_;
    my $root = "$Cwmp::Test::Top/t/servroot-host$i";
    remove_tree($root);
    make_path("$root/conf", "$root/logs");

    my $load = $ENV{TEST_NGINX_LOAD_MODULES}
               ? join('', map { "load_module $_;\n" }
                              split ' ', $ENV{TEST_NGINX_LOAD_MODULES})
               : '';

    open my $out, '>', "$root/conf/nginx.conf" or die $!;
    print $out <<_EOC_;
$load
daemon on;
master_process off;
worker_processes 1;
error_log $root/logs/error.log info;
pid $root/logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $root/client_body_temp;
    cwmp_redis 127.0.0.1:$redis;
    server {
        listen 127.0.0.1:$port;
        location / { cwmp; }
    }
}
_EOC_
    close $out;

    system($nginx, '-p', "$root/", '-c', 'conf/nginx.conf') == 0
        or die "nginx $i did not start\n";

    for (1 .. 100) {
        last if IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port);
        sleep 0.02;
    }

    open my $in, '<', "$root/logs/nginx.pid" or die $!;
    chomp(my $pid = <$in>);
    return $pid;
}

# one HTTP/1.1 exchange on a new connection: (status, headers, body)
sub post {
    my ($port, $body, $cookie) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die "connect: $!";
    my $req = "POST / HTTP/1.1\r\nHost: acs\r\nConnection: close\r\n"
              . ($cookie ? "Cookie: $cookie\r\n" : '')
              . "Content-Length: " . length($body) . "\r\n\r\n$body";
    print $s $req;
    local $/;
    my $raw = <$s>;
    close $s;
    my ($head, $content) = split /\r\n\r\n/, $raw, 2;
    my ($status) = $head =~ m{^HTTP/1\.1 (\d+)};
    return ($status, $head, $content);
}

END {
    local $?;
    for my $pid (@pids) {
        kill 'QUIT', $pid;
        for (1 .. 100) {
            waitpid(-1, WNOHANG);
            last unless kill 0, $pid;
            sleep 0.02;
        }
    }
}

Cwmp::Test::redis_flush();
@pids = map { start_nginx($_, $ports[$_]) } 0, 1;

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
    open my $in, '<', "$Cwmp::Test::Top/t/servroot-host$i/logs/error.log";
    my @bad = grep { /\[(alert|crit|emerg|error)\]/ } <$in>;
    is(scalar @bad, 0, "host $i: nothing at error or above") or diag(@bad);
}

done_testing();
