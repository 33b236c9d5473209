package Cwmp::Test;

# Helpers shared by the suite, under the real Test::Nginx and the fallback
# runner alike: a small RESP client for checking what landed in Redis,
# Redis servers a test may start and stop, CWMP envelopes, fixtures.
# Core Perl only.

use strict;
use warnings;

use IO::Socket::INET;
use File::Temp ();
use JSON::PP ();
use Time::HiRes qw(sleep time);
use POSIX qw(WNOHANG);
use Cwd qw(cwd);
use Digest::MD5 ();
use Digest::SHA ();
use MIME::Base64 ();

# Make this test process a child subreaper: nginx daemonizes, and in
# containers whose PID 1 reaps orphans slowly, waiting for a stopped nginx
# would otherwise take seconds.  Reaped here, it is gone at once.

BEGIN {
    my %prctl = (x86_64 => 157, aarch64 => 167);
    require Config;
    my ($arch) = $Config::Config{archname} =~ /^(x86_64|aarch64)/;
    if ($^O eq 'linux' && $arch) {
        syscall($prctl{$arch}, 36, 1, 0, 0, 0);    # PR_SET_CHILD_SUBREAPER
    }
}

our $Top = cwd();

# more options for the suite's cwmp_redis lines (" timeout=10s" under
# valgrind, where connecting takes longer than the default second)
our $RedisOpts = defined $ENV{TEST_NGINX_REDIS_OPTS}
                 ? " $ENV{TEST_NGINX_REDIS_OPTS}" : '';


# Called by each .t after "use Test::Nginx::Socket": a clean Redis, and
# the "--- redis_check" section, Perl code run after each response with
# $body and $req (the request's index) and this package's helpers.

sub setup {
    redis_flush();

    # the fallback runner fails a block with a section it does not know
    Test::Nginx::Socket::add_known_section('redis_check')
        if Test::Nginx::Socket->can('add_known_section');

    Test::Nginx::Socket::add_response_body_check(sub {
        my ($block, $body, $req, $repeat, $dry_run) = @_;
        my $code = $block->redis_check;
        return if !defined $code || $dry_run;
        my $name = $block->name;
        eval "package Cwmp::Test; no strict 'vars'; $code; 1"
            or Test::More::fail("$name - redis_check died: $@");
    });
}

# Section values for the blocks that lack them: the test Redis in
# http_config, an init that ends the sessions earlier blocks left open,
# and whatever the file passes (config, no_error_log, ...).

sub defaults {
    my (%d) = @_;

    Test::Nginx::Socket::add_block_preprocessor(sub {
        my $block = shift;
        my %v = (http_config =>
                     "cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts;"
                     . ($d{auth} ? '' : ' cwmp_auth off;'),
                 init => 'Cwmp::Test::end_sessions();',
                 %d);
        delete $v{auth};
        for my $k (keys %v) {
            $block->set_value($k, $v{$k}) unless defined $block->$k;
        }
    });
}

sub is { Test::More::is($_[0], $_[1], "redis: " . ($_[2] // '')) }
sub like { Test::More::like($_[0], $_[1], "redis: " . ($_[2] // '')) }
sub unlike { Test::More::unlike($_[0], $_[1], "redis: " . ($_[2] // '')) }
sub ok { Test::More::ok($_[0], "redis: " . ($_[1] // '')) }
sub is_deeply {
    Test::More::is_deeply($_[0], $_[1], "redis: " . ($_[2] // ''));
}


# --- Redis ------------------------------------------------------------

# TEST_NGINX_REDIS_SENTINEL ("<master name>,<port>,..."): the master is
# the one the Sentinels name
sub redis_port {
    if (my $s = $ENV{TEST_NGINX_REDIS_SENTINEL}) {
        my ($name, @ports) = split /,/, $s;
        for my $p (@ports) {
            my $a = eval { redis_at($p, 'SENTINEL',
                                    'GET-MASTER-ADDR-BY-NAME', $name) };
            return $a->[1] if $a;
        }
    }
    return $ENV{TEST_NGINX_REDIS_PORT} || 6379;
}

# $Wait: each command of redis() is followed by WAIT $Wait (a write
# acknowledged is on that many replicas), as the ACS's wait= does
our $Wait;

# Under .ci/test's cluster mode (TEST_NGINX_REDIS_CLUSTER: the nodes'
# ports) a command goes to the master of its key's slot, follows MOVED and
# ASK as a cluster client does, and one without a key (FLUSHDB, KEYS,
# DBSIZE, ...) goes to every master.
our @Cluster = split /,/, ($ENV{TEST_NGINX_REDIS_CLUSTER} // '');
my %slot_port;
my %keyless = map { $_ => 1 } qw(FLUSHDB FLUSHALL KEYS DBSIZE SCRIPT PING ACL
                                 INFO CONFIG FUNCTION);

sub redis {
    my (@args) = @_;
    return redis_pipeline(redis_port(), $Wait, \@args) unless @Cluster;

    my $cmd = uc $args[0];

    if ($keyless{$cmd}) {
        my @r = map { redis_at($_, @args) } cluster_masters();
        return [map { @$_ } @r] if $cmd eq 'KEYS';
        return eval { my $n = 0; $n += $_ for @r; $n } if $cmd eq 'DBSIZE';
        return $r[0];
    }

    if ($cmd =~ /^(DEL|EXISTS|UNLINK|TOUCH)$/ && @args > 2) {
        my $n = 0;
        $n += cluster_call($_, $args[0], $_) for @args[1 .. $#args];
        return $n;
    }

    my $key = $cmd =~ /^(EVAL(SHA)?|FCALL(_RO)?)$/
              ? ($args[2] ? $args[3] : '') : $args[1];
    return cluster_call($key // '', @args);
}

# the masters' ports: the owners of slots, from CLUSTER SLOTS of the first
# node that answers
sub cluster_masters {
    for my $p (@Cluster) {
        my $slots = eval { redis_at($p, 'CLUSTER', 'SLOTS') } or next;
        my %m = map { $_->[2][1] => 1 } @$slots;
        return sort keys %m;
    }
    die "no node of the cluster (@Cluster) answers\n";
}

sub cluster_call {
    my ($key, @args) = @_;
    my $slot = slot($key);
    my $port = $slot_port{$slot} // $Cluster[0];
    my @pre;

    for (1 .. 100) {
        my $r = eval { redis_pipeline($port, $Wait, @pre, \@args) };
        return $r unless $@;
        die $@ unless $@ =~ /^redis\ error:\ (MOVED|ASK|TRYAGAIN|CLUSTERDOWN)
                                (?:\ \d+\ [\d.]+:(\d+))?/x;
        if ($1 eq 'MOVED') {
            $port = $slot_port{$slot} = $2;
            @pre = ();
        } elsif ($1 eq 'ASK') {
            $port = $2;
            @pre = (['ASKING']);
        } else {
            sleep 0.1;
        }
    }
    die "redis: $args[0] $key: redirected without end\n";
}

sub redis_at {
    my ($port, @args) = @_;
    return redis_pipeline($port, 0, \@args);
}

# commands on one connection, then WAIT <wait> when wait: the last
# command's reply
our @Auth;     # (user, password): redis() as that ACL user

sub redis_pipeline {
    my ($port, $wait, @cmds) = @_;
    @cmds = (['AUTH', @Auth], @cmds) if @Auth;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 2)
        or die "cannot connect to redis on $port: $!\n";
    binmode $s;

    for my $args (@cmds) {
        my $cmd = '*' . @$args . "\r\n";
        $cmd .= '$' . length($_) . "\r\n$_\r\n" for @$args;
        print $s $cmd;
    }

    if ($wait) {
        print $s "*3\r\n\$4\r\nWAIT\r\n\$" . length($wait) . "\r\n$wait\r\n"
                 . "\$4\r\n2000\r\n";
    }

    my $reply;
    $reply = read_reply($s) for @cmds;
    # not on enough replicas: not acknowledged (a failover may lose it)
    die "redis: the write is on fewer than $wait replicas\n"
        if $wait && read_reply($s) < $wait;
    close $s;
    return $reply;
}

sub read_reply {
    my ($s) = @_;
    my $line = <$s>;
    die "redis closed the connection\n" unless defined $line;
    $line =~ s/\r\n\z//;
    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));

    return $rest if $type eq '+' || $type eq ':';
    die "redis error: $rest\n" if $type eq '-';

    if ($type eq '$') {
        return undef if $rest < 0;
        my $data = '';
        while (length $data < $rest + 2) {
            read($s, my $buf, $rest + 2 - length $data) or last;
            $data .= $buf;
        }
        return substr($data, 0, $rest);
    }

    if ($type eq '*') {
        return undef if $rest < 0;
        return [map { read_reply($s) } 1 .. $rest];
    }

    die "unexpected redis reply \"$line\"\n";
}

sub redis_hash {
    my ($key) = @_;
    my %h = @{ redis('HGETALL', $key) };
    return \%h;
}

sub redis_flush {
    redis('FLUSHDB');
}

# End every device's session (a CPE would end it with its empty POST): a
# device with a session in progress refuses a second one.
sub end_sessions {
    my ($port) = @_;
    my $keys = defined $port ? redis_at($port, 'KEYS', 'cwmp:device:*:session')
                             : redis('KEYS', 'cwmp:device:*:session');
    return unless @$keys;
    defined $port ? redis_at($port, 'DEL', @$keys) : redis('DEL', @$keys);
}

# A redis-server of the test's own, e.g. to take it down and back up.

sub redis_start {
    my ($port) = @_;
    # outside t/servroot, which the real framework wipes
    my $dir = File::Temp::tempdir("cwmp-redis-$port-XXXXXX", TMPDIR => 1,
                                  CLEANUP => 1);

    system('redis-server', '--port', $port, '--bind', '127.0.0.1',
           '--save', '', '--appendonly', 'no', '--daemonize', 'yes',
           '--dir', $dir, '--pidfile', "$dir/redis.pid",
           '--logfile', "$dir/redis.log") == 0
        or die "cannot start redis-server on $port\n";

    my $deadline = time + 5;
    while (time < $deadline) {
        my $pong = eval { redis_at($port, 'PING') };
        return 1 if defined $pong && $pong eq 'PONG';
        sleep 0.02;
    }

    die "redis-server on $port does not answer\n";
}

sub redis_stop {
    my ($port) = @_;
    eval { redis_at($port, 'SHUTDOWN', 'NOSAVE') };

    my $deadline = time + 5;
    while (time < $deadline) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp');
        return 1 unless $s;
        close $s;
        sleep 0.02;
    }

    die "redis-server on $port does not stop\n";
}


# --- a fake peer --------------------------------------------------------

# Listens on $port and answers every connection with $reply, then keeps it
# open for $hold seconds (or closes at once): a Redis that misbehaves.

sub fake_server {
    my ($port, $reply, $hold) = @_;

    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                  LocalPort => $port, Proto => 'tcp',
                                  Listen => 16, ReuseAddr => 1)
        or die "cannot listen on $port: $!\n";

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;

    if ($pid) {
        close $l;
        return $pid;
    }

    local $SIG{ALRM} = sub { POSIX::_exit(0) };
    alarm 30;

    while (my $c = $l->accept) {
        if (defined $reply) {
            sysread($c, my $buf, 65536);
            syswrite($c, $reply);
        }
        sleep $hold if $hold;
        close $c;
    }

    POSIX::_exit(0);
}

# A CPE's connection request server: HTTP digest (qop=auth; algorithm MD5,
# or SHA-256 with sha256 => 1; Basic only with basic => 1) with
# $o{password} (or a function returning it, called per request); every
# request is a line in $o{log}: "challenge",
# "ok <user>" or "bad <user>".  Answers for 30 s.

sub cpe_server {
    my ($port, %o) = @_;
    require Digest::MD5;
    require Digest::SHA;

    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                  LocalPort => $port, Proto => 'tcp',
                                  Listen => 256, ReuseAddr => 1)
        or die "cannot listen on $port: $!\n";

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;

    if ($pid) {
        close $l;
        return $pid;
    }

    local $SIG{ALRM} = sub { POSIX::_exit(0) };
    alarm 30;

    my $alg = $o{sha256} ? 'SHA-256' : 'MD5';
    my $h = $o{sha256} ? \&Digest::SHA::sha256_hex : \&Digest::MD5::md5_hex;
    my $nonce = 'n' . int(rand(1e9));

    while (my $c = $l->accept) {
        my $req = '';
        while ($req !~ /\r\n\r\n/) {
            sysread($c, my $buf, 4096) or last;
            $req .= $buf;
        }
        my ($uri) = $req =~ m{^GET (\S+) HTTP/1\.1};
        my ($auth) = $req =~ /^Authorization: Digest (.*?)\r$/mi;
        my ($basic) = $req =~ /^Authorization: Basic (\S+)\r$/mi;
        my $line = 'challenge';
        my $ok = 0;
        if ($basic) {
            require MIME::Base64;
            my ($u, $pw) = split /:/, MIME::Base64::decode_base64($basic), 2;
            $ok = ($o{basic} && $pw eq $o{password});
            $line = ($ok ? 'ok ' : 'bad ') . $u;
        } elsif ($auth) {
            my %p = $auth =~ /(\w+)="?([^",]*)"?/g;
            # the password, or a function that reads it (from Redis)
            my $pw = ref $o{password} ? $o{password}->() : $o{password};
            my $ha1 = $h->("$p{username}:$p{realm}:" . ($pw // ''));
            my $ha2 = $h->("GET:$p{uri}");
            my $want = $h->("$ha1:$p{nonce}:$p{nc}:$p{cnonce}:$p{qop}:$ha2");
            $ok = ($p{response} eq $want && $p{nonce} eq $nonce
                   && $p{uri} eq $uri);
            $line = ($ok ? 'ok ' : 'bad ') . $p{username};
        }
        if (open my $out, '>>', $o{log}) {
            print $out "$line\n";
            close $out;
        }
        if ($ok) {
            syswrite($c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                         . "Connection: close\r\n\r\n");
        } elsif ($o{basic}) {
            syswrite($c, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: "
                         . "Basic realm=\"cpe\"\r\nContent-Length: 0\r\n"
                         . "Connection: close\r\n\r\n");
        } else {
            syswrite($c, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: "
                         . "Digest realm=\"cpe\", nonce=\"$nonce\", "
                         . "qop=\"auth\", algorithm=$alg\r\n"
                         . "Content-Length: 0\r\nConnection: close\r\n\r\n");
        }
        close $c;
    }

    POSIX::_exit(0);
}

sub stop_server {
    my ($pid) = @_;
    kill 'KILL', $pid;
    waitpid($pid, 0);
}


# --- tasks and results --------------------------------------------------

our $Device = '00AB12-HG%2D100-S1';    # what inform() sends by default

# the device ID inform(serial => $serial) sends
sub device_of { "00AB12-HG%2D100-$_[0]" }

sub json { JSON::PP->new->canonical->encode($_[0]) }
sub json_decode { eval { JSON::PP->new->decode($_[0] // '') } }

# queue tasks (hashes, or raw strings) for a device
sub push_tasks {
    my ($device, @tasks) = @_;
    redis('RPUSH', "cwmp:device:{$device}:tasks",
          map { ref $_ ? json($_) : $_ } @tasks);
}

# The slot of a key (CRC16/XMODEM of its hash tag, as Redis Cluster), and
# a device's shard of the shared streams (its slot's low 4 bits, as
# ngx_http_cwmp_store_shard() has it).
sub slot {
    my ($key) = @_;
    $key = $1 if $key =~ /\{([^}]+)\}/;
    my $crc = 0;
    for my $c (unpack 'C*', $key) {
        $crc ^= $c << 8;
        for (1 .. 8) {
            $crc = ($crc & 0x8000) ? (($crc << 1) ^ 0x1021) : ($crc << 1);
            $crc &= 0xffff;
        }
    }
    return $crc % 16384;
}

our $Shards = 16;

sub shard { slot("{$_[0]}") % $Shards }

# a sharded stream's entries, all shards, oldest first (by entry id)
sub stream_entries {
    my ($name) = @_;
    my @all;
    for my $s (0 .. $Shards - 1) {
        push @all, @{ redis('XRANGE', "cwmp:$name:{$s}", '-', '+') || [] };
    }
    my $ms = sub { my ($t, $n) = split /-/, $_[0]; [$t, $n] };
    return [sort {
        my ($x, $y) = ($ms->($a->[0]), $ms->($b->[0]));
        $x->[0] <=> $y->[0] || $x->[1] <=> $y->[1]
    } @all];
}

# the results streams, oldest first: [{device, task, name, status,
# result (decoded), time}]
sub results {
    my @out;
    for my $e (@{ stream_entries('results') }) {
        my %f = @{ $e->[1] };
        $f{result} = eval { JSON::PP->new->decode($f{result}) }
                     // $f{result};
        push @out, \%f;
    }
    return \@out;
}

# the CPE requests streams, oldest first: [{device, method, args, time}]
sub requests {
    return [map { my %f = @{ $_->[1] }; \%f } @{ stream_entries('requests') }];
}

sub last_result { my $r = results(); $r->[-1] }

# the nginx error log of the block so far matches: for a line logged by a
# later request of pipelined ones (the real Test::Nginx checks
# "--- error_log" against the first response's share of the log)
# (since mark_log(), which the block's init calls)
my $log_mark = 0;

sub error_log_file {
    return ($ENV{TEST_NGINX_SERVROOT} || "$Top/t/servroot") . '/logs/error.log';
}

sub mark_log { $log_mark = -s error_log_file() || 0 }

sub error_log_like {
    my ($re, $name) = @_;
    open my $in, '<', error_log_file()
        or return Test::More::fail("$name: error.log: $!");
    seek $in, $log_mark, 0 if $log_mark <= (-s $in || 0);
    local $/;
    my $log = <$in> // '';
    close $in;
    Test::More::like($log, $re, "error.log: $name");
}

# the event streams, oldest first: [{type, device, time, ...}]
sub events {
    return [map { my %f = @{ $_->[1] }; \%f } @{ stream_entries('events') }];
}

# the events of one type, oldest first
sub events_of { my ($t) = @_; [grep { $_->{type} eq $t } @{ events() }] }

# the members of a value index, cwmp:index:{<name>:<value>}
sub indexed {
    my ($name, $value) = @_;
    return redis('ZRANGE', "cwmp:index:{$name:$value}", '0', '-1') || [];
}

# a device's function call (redis-schema/functions/cwmp.lua); the library
# loaded first when no nginx did yet, as README says to by hand
sub fcall {
    my ($function, $device, @args) = @_;
    my @call = ('FCALL', $function, 1, "cwmp:device:{$device}", @args);
    my $r = eval { redis(@call) };
    return $r unless $@;
    die $@ unless $@ =~ /Function not found/;
    my $lib = `$Top/.ci/gen-scripts --expand redis-schema/functions/cwmp.lua`;
    redis('FUNCTION', 'LOAD', 'REPLACE', $lib);
    return redis(@call);
}

# until code returns true, at most seconds (a step of the fleet's loop)
sub within {
    my ($seconds, $code) = @_;
    for (1 .. 10 * $seconds) {
        my $r = $code->();
        return $r if $r;
        Time::HiRes::sleep(0.1);
    }
    return $code->();
}


# --- the envelopes against the official CWMP XSDs (t/data/xsd) ----------

my $xsd_dir;

# the schemas, once: the imports pointed at the local SOAP stand-ins;
# cwmp-1-3 and 1-4 as cwmp-1-2 in their namespace with their own header
# elements (their include of the earlier version, across namespaces, is
# what no validator accepts)
sub xsd_dir {
    return $xsd_dir if $xsd_dir;

    my $src = ($ENV{TEST_NGINX_TOP} // cwd()) . '/t/data/xsd';
    $xsd_dir = File::Temp::tempdir('cwmp-xsd-XXXXXX', TMPDIR => 1,
                                   CLEANUP => 1);
    my $read = sub {
        open my $f, '<', "$src/$_[0]" or die "$src/$_[0]: $!";
        local $/;
        return scalar <$f>;
    };

    my %text;
    for my $v ('1-0', '1-1', '1-2') {
        $text{$v} = $read->("cwmp-$v.xsd");
    }
    for my $v ('1-3', '1-4') {
        my $own = $read->("cwmp-$v.xsd");
        my @elements = $own =~ m{^(  <xs:element name=.*?^  </xs:element>)}msg;
        my $prev = $v eq '1-3' ? '1-2' : '1-3';
        (my $t = $text{$prev}) =~ s{cwmp-$prev"}{cwmp-$v"}g;
        $t =~ s{</xs:schema>\s*\z}{join("\n", @elements) . "\n</xs:schema>\n"}e;
        $text{$v} = $t;
    }

    for my $v (keys %text) {
        my $t = $text{$v};
        $t =~ s{schemaLocation="http://schemas.xmlsoap.org/soap/envelope/"}
               {schemaLocation="soap-envelope-strict.xsd"}g;
        $t =~ s{schemaLocation="http://schemas.xmlsoap.org/soap/encoding/"}
               {schemaLocation="soap-encoding.xsd"}g;
        open my $f, '>', "$xsd_dir/cwmp-$v.xsd" or die $!;
        print $f $t;
    }
    for my $f ('soap-envelope-strict.xsd', 'soap-encoding.xsd') {
        open my $o, '>', "$xsd_dir/$f" or die $!;
        print $o $read->($f);
    }
    return $xsd_dir;
}

# one test: the body is an envelope valid against the XSD of its CWMP
# namespace (xmllint --schema, no network)
sub envelope_ok {
    my ($body, $what) = @_;
    my ($v) = ($body // '') =~ /"urn:dslforum-org:cwmp-(1-[0-4])"/;
    unless ($v) {
        return Test::More::fail("xsd: $what: no CWMP namespace in the body");
    }
    my $dir = xsd_dir();
    my ($fh, $file) = File::Temp::tempfile(DIR => $dir, SUFFIX => '.xml');
    print $fh $body;
    close $fh;
    my $out = `xmllint --nonet --noout --schema $dir/cwmp-$v.xsd $file 2>&1`;
    my $ok = $? == 0;
    unlink $file;
    Test::More::ok($ok, "xsd: $what (cwmp-$v)")
        or Test::More::diag($out, $body);
    return $ok;
}


# the test ACS's secret (t/data/auth-secret, cwmp_auth_secret_file): what
# signs nonces and the file store's and upload receiver's URLs
sub auth_secret {
    my $secret = fixture('auth-secret');
    $secret =~ s/\n.*//s;
    return $secret;
}


# --- the fake CPE's file transfers --------------------------------------

# An HTTP/1.1 request to a URL the ACS handed out (http://host:port/...,
# the nginx under test), as a CPE's transfer client sends it: (status,
# headers, body).  Options: headers => [lines], chunked => 1 (the body in
# two chunks), stall => seconds (half the body, then a pause, then the
# rest), length => a Content-Length of its own.
sub transfer {
    my ($method, $url, $body, %o) = @_;
    my ($port, $path) = $url =~ m{^https?://[^/:]+:(\d+)(/.*)$}
        or die "transfer: \"$url\" is not a URL of the test's nginx";
    $path =~ s/&amp;/&/g;
    $body //= '';
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die "connect: $!";
    my $head = "$method $path HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               . "Connection: close\r\n"
               . join('', map { "$_\r\n" } @{ $o{headers} || [] });
    my $half = int(length($body) / 2);
    if ($o{chunked}) {
        $head .= "Transfer-Encoding: chunked\r\n\r\n";
        my @c = grep { length } substr($body, 0, $half), substr($body, $half);
        print $s $head . join('', map { sprintf("%x\r\n%s\r\n", length, $_) } @c)
                 . "0\r\n\r\n";
    } elsif ($o{stall}) {
        print $s $head . "Content-Length: " . length($body) . "\r\n\r\n"
                 . substr($body, 0, $half);
        sleep $o{stall};
        local $SIG{PIPE} = 'IGNORE';
        print $s substr($body, $half);
    } else {
        print $s $head . "Content-Length: " . ($o{length} // length($body))
                 . "\r\n\r\n" . $body;
    }
    local $/;
    my $raw = <$s> // '';
    close $s;
    my ($h, $content) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($h // '') =~ m{^HTTP/1\.1 (\d+)};
    return ($status // 0, $h // '', $content // '');
}

# A fake CPE's session, message by message on connections of their own
# (the session cookie carried, as CPEs that close between messages do):
# cwmp_post($body) -> (status, body); the cookie of the last InformResponse
# is kept in $FakeCookie.
our $FakeCookie;
sub cwmp_post {
    my ($body, $path) = @_;
    my ($status, $head, $content) = transfer('POST',
        "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}" . ($path // '/cwmp'),
        $body, headers => $FakeCookie ? ["Cookie: $FakeCookie"] : []);
    if ($head =~ /^Set-Cookie: ([^;\r\n]+)/mi) {
        $FakeCookie = $1;
    }
    $FakeCookie = undef if $status == 204;
    return ($status, $content);
}

# A fake CPE that keeps its connection (HTTP/1.1 keep-alive, as most
# CPEs do): my $c = cpe_connection(); my ($status, $body) = $c->($body).
sub cpe_connection {
    my ($port, $path) = @_;
    $port //= $ENV{TEST_NGINX_SERVER_PORT};
    $path //= '/cwmp';
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die "connect: $!";
    return sub {
        my ($body) = @_;
        print $s "POST $path HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 . "Content-Length: " . length($body) . "\r\n\r\n$body";
        my $head = '';
        while (defined(my $l = <$s>)) {
            last if $l eq "\r\n";
            $head .= $l;
        }
        my ($status) = $head =~ m{^HTTP/1\.1 (\d+)};
        my ($len) = $head =~ /^Content-Length: (\d+)/mi;
        my $content = '';
        read($s, $content, $len) if $len;
        return ($status // 0, $content);
    };
}

# the URL of a transfer RPC in an ACS request (a response body)
sub rpc_url {
    my ($body) = @_;
    my ($url) = ($body // '') =~ m{<URL>([^<]+)</URL>};
    $url =~ s/&amp;/&/g if defined $url;
    return $url;
}


# --- CWMP messages ----------------------------------------------------

# The CPE's answer to an ACS request: <cwmp:$method>$args</cwmp:$method>,
# without a SOAP Header unless an id is given.

sub answer {
    my ($method, $args, %o) = @_;
    my $header = defined $o{id}
        ? "<soap:Header><cwmp:ID soap:mustUnderstand=\"1\">$o{id}"
          . "</cwmp:ID></soap:Header>"
        : '';
    return qq{<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" }
         . qq{xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" }
         . qq{xmlns:xsd="http://www.w3.org/2001/XMLSchema" }
         . qq{xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" }
         . qq{xmlns:cwmp="urn:dslforum-org:cwmp-1-0">$header<soap:Body>}
         . qq{<cwmp:$method>} . ($args // '') . qq{</cwmp:$method>}
         . qq{</soap:Body></soap:Envelope>};
}

sub gpv_answer {
    my (@pv) = @_;
    my $list = join '', map {
        "<ParameterValueStruct><Name>$_->[0]</Name>"
        . "<Value xsi:type=\"$_->[2]\">$_->[1]</Value></ParameterValueStruct>"
    } @pv;
    return answer('GetParameterValuesResponse',
                  "<ParameterList soap-enc:arrayType=\"cwmp:ParameterValueStruct["
                  . scalar(@pv) . "]\">$list</ParameterList>");
}

# a CPE's SOAP Fault: code, string, [[parameter, code, string], ...]
sub fault_answer {
    my ($code, $string, @spv) = @_;
    my $spv = join '', map {
        "<SetParameterValuesFault><ParameterName>$_->[0]</ParameterName>"
        . "<FaultCode>$_->[1]</FaultCode><FaultString>$_->[2]</FaultString>"
        . "</SetParameterValuesFault>"
    } @spv;
    return qq{<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" }
         . qq{xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap:Body><soap:Fault>}
         . qq{<faultcode>Client</faultcode><faultstring>CWMP fault</faultstring>}
         . qq{<detail><cwmp:Fault><FaultCode>$code</FaultCode>}
         . qq{<FaultString>$string</FaultString>$spv</cwmp:Fault></detail>}
         . qq{</soap:Fault></soap:Body></soap:Envelope>};
}

sub fixture {
    my ($name) = @_;
    open my $in, '<', "$Top/t/data/$name" or die "t/data/$name: $!\n";
    my $data = do { local $/; <$in> };
    close $in;
    return $data;
}

# --- CPE authentication (t/data/auth-secret is the test ACS's nonce key) ---

# A nonce as the ACS issues it.  Options: ms (issue time, default now),
# addr (the client address it is bound to, default 127.0.0.1).

sub nonce {
    my (%o) = @_;
    my $t = sprintf('%012x%08x', $o{ms} // int(time() * 1000),
                    int(rand(2**32)));
    my $secret = auth_secret();
    return $t . substr(Digest::SHA::hmac_sha1_hex(
        "$t:" . ($o{addr} // '127.0.0.1'), $secret), 0, 32);
}

# An "Authorization: Digest" header line for POST.  Options: user (the
# default Inform's device ID), password, realm, uri, nonce, nc, cnonce,
# algorithm (MD5, SHA-256), ha1, response.

sub digest {
    my (%o) = @_;
    my $user = $o{user} // '00AB12-HG%2D100-S1';
    my $realm = $o{realm} // 'cwmp';
    my $uri = $o{uri} // '/cwmp';
    my $nonce = $o{nonce} // nonce();
    my $nc = $o{nc} // '00000001';
    my $cnonce = $o{cnonce} // 'c0ffee42';
    my $alg = $o{algorithm} // 'MD5';
    my $h = $alg eq 'SHA-256' ? \&Digest::SHA::sha256_hex
                              : \&Digest::MD5::md5_hex;
    my $ha1 = $o{ha1}
              // $h->("$user:$realm:" . ($o{password} // 'cwmp-test-pw'));
    my $ha2 = $h->("POST:$uri");
    my $resp = $o{response} // $h->("$ha1:$nonce:$nc:$cnonce:auth:$ha2");
    return qq{Authorization: Digest username="$user", realm="$realm", }
           . qq{nonce="$nonce", uri="$uri", algorithm=$alg, qop=auth, }
           . qq{nc=$nc, cnonce="$cnonce", response="$resp"};
}

# The Redis ACL user README.md recommends for nginx, created in the test
# Redis with the password "acl-test-pw": the suite runs sessions as it.

sub acl_user_from_readme {
    my ($user) = @_;
    $user //= 'ngx_cwmp';
    open my $in, '<', "$Top/README.md" or die "README.md: $!\n";
    my ($line) = grep { /^\s*ACL SETUSER \Q$user\E / } <$in>;
    close $in;
    die "README.md has no \"ACL SETUSER $user\" line\n" unless $line;
    my @w = split ' ', $line;
    splice @w, 0, 2;
    s/^>CHANGE-ME$/>acl-test-pw/ for @w;
    redis('ACL', 'DELUSER', $user);
    my $r = redis('ACL', 'SETUSER', @w);
    die "ACL SETUSER: $r\n" unless $r eq 'OK';
}

sub basic {
    my ($user, $password) = @_;
    return 'Authorization: Basic '
           . MIME::Base64::encode_base64("$user:$password", '');
}


# An Inform.  Options: ns ("1-0"), env/cwmp (prefixes), id (undef: none),
# versions (SupportedCWMPVersions), session_timeout, oui, class, serial,
# events ([codes]), params ([[n, v, type]]).

sub inform {
    my (%o) = @_;

    my $ns = $o{ns} // '1-0';
    my $env = $o{env} // 'soap-env';
    my $cw = $o{cwmp} // 'cwmp';
    my $events = $o{events} // ['1 BOOT'];
    my $params = $o{params} // [
        ['InternetGatewayDevice.DeviceInfo.SoftwareVersion', 'V1.0',
         'xsd:string'],
        ['InternetGatewayDevice.DeviceInfo.HardwareVersion', 'HW1',
         'xsd:string'],
        ['InternetGatewayDevice.ManagementServer.PeriodicInformInterval',
         '300', 'xsd:unsignedInt'],
        ['InternetGatewayDevice.ManagementServer.ConnectionRequestURL',
         'http://192.0.2.1:7547/cr', 'xsd:string'],
    ];

    my $p = $cw eq '' ? '' : "$cw:";
    my $xmlns = $cw eq '' ? 'xmlns' : "xmlns:$cw";

    my $header = '';
    if (defined $o{id}) {
        $header = "<${p}ID $env:mustUnderstand=\"1\">$o{id}</${p}ID>";
    }
    if (defined $o{versions}) {
        $header .= "<${p}SupportedCWMPVersions>$o{versions}"
                   . "</${p}SupportedCWMPVersions>";
    }
    if (defined $o{session_timeout}) {
        $header .= "<${p}SessionTimeout>$o{session_timeout}</${p}SessionTimeout>";
    }
    $header = "<$env:Header>$header</$env:Header>" if $header ne '';

    # an event: a code, or [code, CommandKey]
    my $ev = join '', map {
        my ($code, $key) = ref $_ ? @$_ : ($_, '');
        "<EventStruct><EventCode>$code</EventCode>"
        . "<CommandKey>$key</CommandKey></EventStruct>"
    } @$events;

    my $pl = join '', map {
        "<ParameterValueStruct><Name>$_->[0]</Name>"
        . "<Value xsi:type=\"$_->[2]\">$_->[1]</Value></ParameterValueStruct>"
    } @$params;

    # a DeviceId field given as undef is left out
    my %default = (manufacturer => 'Acme', oui => '00AB12',
                   class => 'HG-100', serial => 'S1');
    my $device = '';
    for my $f ([Manufacturer => 'manufacturer'], [OUI => 'oui'],
               [ProductClass => 'class'], [SerialNumber => 'serial'])
    {
        my ($el, $k) = @$f;
        my $v = exists $o{$k} ? $o{$k} : $default{$k};
        $device .= "<$el>$v</$el>" if defined $v;
    }

    return <<_EOX_;
<?xml version="1.0" encoding="UTF-8"?>
<$env:Envelope xmlns:$env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" $xmlns="urn:dslforum-org:cwmp-$ns">
$header
<$env:Body>
<${p}Inform>
<DeviceId>$device</DeviceId>
<Event soap-enc:arrayType="${p}EventStruct[1]">$ev</Event>
<MaxEnvelopes>1</MaxEnvelopes>
<CurrentTime>2026-11-27T00:00:00Z</CurrentTime>
<RetryCount>0</RetryCount>
<ParameterList soap-enc:arrayType="${p}ParameterValueStruct[4]">$pl</ParameterList>
</${p}Inform>
</$env:Body>
</$env:Envelope>
_EOX_
}

1;
