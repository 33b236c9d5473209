package Cwmp::Hosts;

# nginx instances a plain Perl test starts itself (what Test::Nginx's data
# format cannot describe: two hosts, concurrent connections), and one
# HTTP/1.1 exchange at a time against them.  Core Perl only.

use strict;
use warnings;

use IO::Socket::INET;
use File::Path qw(make_path remove_tree);
use Time::HiRes qw(sleep);
use POSIX qw(WNOHANG);
use Cwmp::Test;

my @pids;

sub free_port {
    my ($p) = @_;
    while (IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $p)) {
        $p++;
    }
    return $p;
}

# start(name, port, extra http{} directives, master => 1, main => text,
# auth => 1, workers => n, server => text): one worker (or n), the test
# Redis, "location / { cwmp; }" (and the server{} text), and text in the
# main context (a stream{} block); CPEs authenticate only with auth;
# returns the instance's root directory.
# With master, "nginx -s reload" works (reload() below).

sub start {
    my ($name, $port, $extra, %o) = @_;
    my $nginx = $ENV{TEST_NGINX_BINARY} or die "TEST_NGINX_BINARY is not set\n";
    my $redis = $ENV{TEST_NGINX_REDIS}
                // "127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT}";
    my $root = "$Cwmp::Test::Top/t/servroot-$name";
    remove_tree($root);
    make_path("$root/conf", "$root/logs");

    my $load = $ENV{TEST_NGINX_LOAD_MODULES}
               ? join('', map { "load_module $_;\n" }
                              split ' ', $ENV{TEST_NGINX_LOAD_MODULES})
               : '';
    $extra //= '';

    my $main = $o{main} // '';

    open my $out, '>', "$root/conf/nginx.conf" or die $!;
    print $out <<_EOC_;
$load
$main
daemon on;
master_process @{[ $o{master} ? 'on' : 'off' ]};
worker_processes @{[ $o{workers} // 1 ]};
error_log $root/logs/error.log info;
pid $root/logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $root/client_body_temp;
    cwmp_redis $redis;
    @{[ $o{auth} ? '' : 'cwmp_auth off;' ]}
    $extra
    server {
        listen 127.0.0.1:$port;
        location / { cwmp; }
        @{[ $o{server} // '' ]}
    }
}
_EOC_
    close $out;

    system($nginx, '-p', "$root/", '-c', 'conf/nginx.conf') == 0
        or die "nginx $name did not start\n";

    for (1 .. 100) {
        last if IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port);
        sleep 0.02;
    }

    open my $in, '<', "$root/logs/nginx.pid" or die $!;
    chomp(my $pid = <$in>);
    push @pids, $pid;

    return $root;
}

# rewrite an instance's extra http{} directives and reload it: the old
# worker exits once its connections are done, the new one serves the rest

sub reload {
    my ($root, $old, $new) = @_;
    my $conf = "$root/conf/nginx.conf";
    open my $in, '<', $conf or die $!;
    my $text = do { local $/; <$in> };
    close $in;
    $text =~ s/\Q$old\E/$new/ or die "reload: \"$old\" not in $conf\n";
    open my $out, '>', $conf or die $!;
    print $out $text;
    close $out;
    system($ENV{TEST_NGINX_BINARY}, '-p', "$root/", '-c', 'conf/nginx.conf',
           '-s', 'reload') == 0 or die "nginx -s reload failed\n";
}

# stop one instance (the others go on)
sub stop {
    my ($root) = @_;
    open my $in, '<', "$root/logs/nginx.pid" or return;
    chomp(my $pid = <$in>);
    kill 'QUIT', $pid;
    for (1 .. 200) {
        waitpid(-1, WNOHANG);
        last unless kill 0, $pid;
        sleep 0.02;
    }
    @pids = grep { $_ != $pid } @pids;
}

# a request on a new connection, sent, not yet read (a header line of
# its own, such as Authorization, after the cookie)
sub send_post {
    my ($port, $body, $cookie, $header) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die "connect: $!";
    print $s "POST / HTTP/1.1\r\nHost: acs\r\nConnection: close\r\n"
             . ($cookie ? "Cookie: $cookie\r\n" : '')
             . ($header ? "$header\r\n" : '')
             . "Content-Length: " . length($body) . "\r\n\r\n$body";
    return $s;
}

# its response: (status, headers, body)
sub response {
    my ($s) = @_;
    local $/;
    my $raw = <$s>;
    close $s;
    my ($head, $content) = split /\r\n\r\n/, $raw // '', 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.1 (\d+)};
    return ($status, $head, $content);
}

# one HTTP/1.1 exchange on a new connection: (status, headers, body)
sub post { response(send_post(@_)) }

# the lines of an instance's error log at error or above
sub errors {
    my ($root) = @_;
    open my $in, '<', "$root/logs/error.log" or return ();
    return grep { /\[(alert|crit|emerg|error)\]/ } <$in>;
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

1;
