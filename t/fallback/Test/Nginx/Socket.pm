package Test::Nginx::Socket;

# The subset of openresty's Test::Nginx::Socket that this project's suite
# uses, for machines where the real one cannot be installed (it is not
# packaged for Debian and CPAN is out of reach).  The Makefile puts this
# directory on @INC only when the real module is missing, so the same .t
# files run under both.  Core Perl only.
#
# Supported: the __DATA__ block format (=== blocks, --- sections, one-line
# "--- name: value", filters eval/chomp/chop, ONLY/SKIP/LAST), repeat_each,
# no_shuffle (blocks always run in order here), add_block_preprocessor,
# plan/no_plan; sections config, http_config, main_config, init, request
# (string or eval'd array), raw_request, pipelined_requests, more_headers,
# error_code, ignore_response,
# response_body, response_body_like, response_headers,
# response_headers_like, raw_response_headers_like(_unlike), error_log,
# no_error_log, grep_error_log(_out), must_die, timeout, abort, wait;
# add_response_body_check.  A section it does not know fails the block,
# named (a misspelled one would otherwise check nothing); a helper adds
# its own with add_known_section(), which the real framework lacks.  nginx is
# started per block (or kept when TEST_NGINX_FORCE_RESTART_ON_TEST=0 and the
# config is unchanged), with the real framework's nginx.conf template.
# TEST_NGINX_USE_VALGRIND: nginx runs in the foreground under valgrind
# (a number: memcheck with leak checks, as the real framework; else the
# options); unlike the real framework, which prints what valgrind says,
# any report fails the block it ended.

use strict;
use warnings;

use Test::More ();
use IO::Socket::INET;
use IO::Select;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use File::Path qw(make_path remove_tree);
use Cwd qw(cwd);

our $VERSION = '0.01-cwmp-fallback';

my @test_more = qw(ok is isnt like unlike is_deeply cmp_ok pass fail diag
                   note explain skip done_testing BAIL_OUT);

our @EXPORT = (@test_more, qw(run_tests repeat_each no_shuffle plan
                              add_block_preprocessor blocks
                              add_response_body_check add_known_section
                              no_long_string log_level workers
                              master_on master_off env_to_nginx
                              server_port));

my $RepeatEach = 1;
my @Preprocessors;
my @BodyChecks;
my @EnvToNginx;
my $LogLevel = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
my $Workers = 1;
my $MasterProcess = $ENV{TEST_NGINX_MASTER_PROCESS} ? 'on' : 'off';
my $ForceRestart = defined $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST}
                   ? $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST} : 1;
my $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                 || 1984;
my $Timeout = $ENV{TEST_NGINX_TIMEOUT} || 3;
my $Valgrind = $ENV{TEST_NGINX_USE_VALGRIND};
my ($ValgrindLog, $ValgrindBlock);
my $NginxBinary = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $ServRoot = $ENV{TEST_NGINX_SERVROOT} || cwd() . '/t/servroot';
my $LogFile = "$ServRoot/logs/error.log";
my $PidFile = "$ServRoot/logs/nginx.pid";

my ($PrevConfig, $NginxPid);

$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;

# a child subreaper: the daemonized nginx is reaped here at once
{
    my %prctl = (x86_64 => 157, aarch64 => 167);
    my ($arch) = `uname -m` =~ /^(x86_64|aarch64)/;
    syscall($prctl{$arch}, 36, 1, 0, 0, 0) if $^O eq 'linux' && $arch;
}

sub import {
    my ($class, @args) = @_;
    my $caller = caller;

    no strict 'refs';
    for my $sym (@EXPORT) {
        my $src = (grep { $_ eq $sym } @test_more) ? \&{"Test::More::$sym"}
                                                  : \&{"${class}::$sym"};
        *{"${caller}::$sym"} = $src;
    }

    if (@args) {
        if ($args[0] eq 'no_plan') {
            Test::More::plan('no_plan');
        } else {
            Test::More::plan(@args);
        }
    }
}

sub plan { Test::More::plan(@_) }
sub repeat_each { $RepeatEach = shift if @_; $RepeatEach }
sub no_shuffle { }
sub no_long_string { }
sub log_level { $LogLevel = shift }
sub workers { $Workers = shift }
sub master_on { $MasterProcess = 'on' }
sub master_off { $MasterProcess = 'off' }
sub env_to_nginx { push @EnvToNginx, @_ }
sub server_port { $ServerPort }
sub add_block_preprocessor { push @Preprocessors, shift }
sub add_response_body_check { push @BodyChecks, shift }

# the sections this runner reads; add_known_section() adds a helper's
my %Known = map { $_ => 1 } qw(
    config http_config main_config init request raw_request
    pipelined_requests more_headers error_code ignore_response
    response_body response_body_like response_headers
    response_headers_like raw_response_headers_like
    raw_response_headers_unlike error_log no_error_log grep_error_log
    grep_error_log_out must_die timeout abort wait ONLY SKIP LAST);

sub add_known_section { $Known{$_} = 1 for @_ }

END {
    local $?;      # waitpid() must not change the exit status
    stop_nginx();
}


# --- the data section -------------------------------------------------

my @Blocks;

sub blocks {
    return @Blocks if @Blocks;

    open my $in, '<', $0 or die "cannot read $0: $!";
    my $src = do { local $/; <$in> };
    close $in;

    $src =~ s/\r\n/\n/g;
    my ($data) = $src =~ /^__DATA__\n(.*)\z/ms or die "$0: no __DATA__\n";

    my @chunks = split /^===\s*(.*?)\s*\n/m, $data;
    shift @chunks;

    my $only;
    while (@chunks) {
        my ($name, $text) = splice @chunks, 0, 2;
        my $block = Test::Nginx::Socket::Block->new($name, $text);
        next if exists $block->{_sections}{SKIP};
        if (exists $block->{_sections}{ONLY}) {
            $only = $block;
            last;
        }
        push @Blocks, $block;
        last if exists $block->{_sections}{LAST};
    }

    @Blocks = ($only) if $only;

    return @Blocks;
}


# --- running ----------------------------------------------------------

sub run_tests {
    for my $block (blocks()) {
        $_->($block) for @Preprocessors;
        $block->set_value('name', "$0 " . $block->name);
        run_block($block);
    }

    stop_nginx();
}

sub run_block {
    my ($block) = @_;
    my $name = $block->name;

    my @unknown = grep { !$Known{$_} } sort keys %{ $block->{_sections} };
    if (@unknown) {
        Test::More::fail("$name - unknown section"
                         . (@unknown > 1 ? 's' : '') . ' '
                         . join(', ', map { "\"--- $_\"" } @unknown)
                         . ': misspelled, or not supported here');
        return;
    }

    my $config = $block->config;
    die "$name: no --- config\n" unless defined $config;

    if (defined $block->must_die) {
        stop_nginx();
        setup_servroot();
        write_conf($block);
        my $rc = system($NginxBinary, '-p', "$ServRoot/", '-c',
                        'conf/nginx.conf');
        Test::More::isnt($rc, 0, "$name - die as expected");
        if ($rc == 0) {
            wait_pid_file();
            stop_nginx();
        }
        check_error_log($block, 0, 0, read_log_from(0));
        return;
    }

    if ($ForceRestart || !defined $PrevConfig || $config ne $PrevConfig
        || !nginx_running())
    {
        stop_nginx();
        setup_servroot();
        write_conf($block);
        start_nginx($name) or return;
        $PrevConfig = $config;
    }

    if (defined $block->init) {
        eval "package main; " . $block->init;
        die "$name - init failed: $@" if $@;
    }

    my ($reqs, $pipelined) = requests($block);

    # the real framework cannot split pipelined responses after a 204 (no
    # body, no length): refuse what would pass here and fail there
    if ($pipelined && ref $block->error_code eq 'ARRAY') {
        my @codes = @{ $block->error_code };
        for my $i (0 .. $#codes - 1) {
            next unless $codes[$i] == 204;
            Test::More::fail("$name - pipelined request after a 204 "
                             . "(response $i): the real Test::Nginx cannot "
                             . "parse it, end the block there");
            return;
        }
    }

    # like the real framework: each block reads the log from its start
    my $log_pos = 0;

    for my $repeat (0 .. $RepeatEach - 1) {

        if ($pipelined) {
            my $raw = send_raw(join('', @$reqs), $block);
            my @res = parse_responses($raw, scalar @$reqs);
            for my $i (0 .. $#$reqs) {
                check_response($block, $res[$i], $i, 1, $repeat);
            }
            sleep($block->wait) if $block->wait;
            check_error_log($block, 0, 1, read_log_from(\$log_pos));

        } else {
            my $need_array = @$reqs > 1;
            for my $i (0 .. $#$reqs) {
                my $raw = send_raw($reqs->[$i], $block);
                my ($res) = parse_responses($raw, 1);
                check_response($block, $res, $i, $need_array, $repeat);
                sleep($block->wait) if $block->wait;
                check_error_log($block, $i, $need_array,
                                read_log_from(\$log_pos));
            }
        }
    }
}

sub requests {
    my ($block) = @_;
    my $more = $block->more_headers;

    if (defined $block->pipelined_requests) {
        my $list = $block->pipelined_requests;
        die $block->name . ": pipelined_requests must be an array\n"
            unless ref $list eq 'ARRAY';
        my @out;
        for my $i (0 .. $#$list) {
            my $hdr = ref $more eq 'ARRAY' ? $more->[$i] : $more;
            push @out, build_request(expand_env($list->[$i]), $hdr,
                                     $i == $#$list ? 'close' : 'keep-alive');
        }
        return (\@out, 1);
    }

    # sent as it is: no Host, no length added
    return ([$block->raw_request], 0) if defined $block->raw_request;

    my $req = $block->request;
    die $block->name . ": no --- request\n" unless defined $req;

    my @list = ref $req eq 'ARRAY' ? @$req : ($req);
    my @out;
    for my $i (0 .. $#list) {
        my $hdr = ref $more eq 'ARRAY' ? $more->[$i] : $more;
        push @out, build_request($list[$i], $hdr, 'close');
    }

    return (\@out, 0);
}

sub build_request {
    my ($req, $more, $conn) = @_;

    $req =~ s/^(?:\s*#[^\n]*\n|\s+)+//s;
    my ($first, $body) = split /\n/, $req, 2;
    $body = '' unless defined $body;

    my ($meth, $url, $ver) = $first =~ /^\s*(\S+)\s*(\S+)?\s*(\S+)?\s*$/
        or die "bad request line \"$first\"\n";
    $url = '/' unless defined $url;
    $ver = 'HTTP/1.1' unless defined $ver;

    my $headers = '';
    my $chunked;
    for my $line (split /\n+/, defined $more ? $more : '') {
        next if $line =~ /^\s*#/;
        my ($k, $v) = split /:\s*/, $line, 2;
        $v = '' unless defined $v;
        $chunked = 1 if lc $k eq 'transfer-encoding' && $v eq 'chunked';
        $headers .= "$k: $v\r\n";
    }

    my $h = '';
    $h .= "Host: localhost\r\n" unless $headers =~ /^Host:/mi;
    $h .= "Connection: $conn\r\n" unless $headers =~ /^Connection/mi;
    $h .= $headers;

    if (!$chunked && $body ne '' && $headers !~ /^Content-Length:/mi) {
        $body =~ s/^\s+|\s+$//gs;
        $h .= "Content-Length: " . length($body) . "\r\n";
    }

    return "$meth $url $ver\r\n$h\r\n$body";
}

sub send_raw {
    my ($data, $block) = @_;
    my $timeout = $block->timeout || $Timeout;
    $timeout =~ s/s$//;
    $timeout /= 1000 if $timeout =~ s/ms$//;

    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ServerPort,
                                     Proto => 'tcp',
                                     Timeout => $timeout);
    if (!$sock) {
        Test::More::fail($block->name . " - cannot connect: $!");
        return '';
    }

    binmode $sock;
    print $sock $data;
    $sock->flush;

    my $sel = IO::Select->new($sock);
    my $raw = '';
    my $deadline = time + $timeout;
    while (1) {
        my $left = $deadline - time;
        if ($left <= 0 || !$sel->can_read($left)) {
            Test::More::fail($block->name . " - timeout reading the response")
                unless defined $block->abort;
            last;
        }
        my $n = sysread($sock, my $buf, 65536);
        last unless $n;
        $raw .= $buf;
    }

    close $sock;
    return $raw;
}

sub parse_responses {
    my ($raw, $n) = @_;
    my @res;

    for (1 .. $n) {
        my %res = (status => '', headers => {}, raw_headers => '',
                   body => '');
        if ($raw =~ s/\A((HTTP\/\d\.\d) (\d+)[^\r\n]*\r\n(.*?)\r\n)\r\n//s) {
            $res{status} = $3;
            $res{raw_headers} = $1;
            for my $line (split /\r\n/, $4) {
                my ($k, $v) = split /:\s*/, $line, 2;
                push @{ $res{headers}{lc $k} }, defined $v ? $v : '';
            }
            my $te = $res{headers}{'transfer-encoding'};
            my $cl = $res{headers}{'content-length'};
            if ($res{status} == 204 || $res{status} == 304) {
                # no body
            } elsif ($te && $te->[0] =~ /chunked/i) {
                while ($raw =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
                    my $len = hex $1;
                    $res{body} .= substr($raw, 0, $len, '');
                    $raw =~ s/\A\r\n//;
                    last if $len == 0;
                }
            } elsif (defined $cl) {
                $res{body} = substr($raw, 0, $cl->[0], '');
            } else {
                $res{body} = $raw;
                $raw = '';
            }
        }
        push @res, \%res;
    }

    return @res;
}

sub indexed {
    my ($v, $i, $need_array) = @_;
    return $v unless $need_array && ref $v eq 'ARRAY';
    return $v->[$i];
}

sub check_response {
    my ($block, $res, $i, $need_array, $repeat) = @_;
    my $name = $block->name;

    return if defined $block->ignore_response;

    # like the real framework, 200 unless the block says otherwise
    my $code = defined $block->error_code
               ? indexed($block->error_code, $i, $need_array) : 200;
    chomp $code;
    Test::More::is($res->{status}, $code, "$name - status code ok (req $i)");

    if (defined $block->response_body) {
        my $want = indexed($block->response_body, $i, $need_array);
        Test::More::is($res->{body}, $want,
                       "$name - response_body - response is expected (req $i)");
    }

    if (defined $block->response_body_like) {
        my $want = indexed($block->response_body_like, $i, $need_array);
        my $re = ref $want eq 'Regexp' ? $want : qr/$want/s;
        Test::More::like($res->{body}, $re,
                         "$name - response_body_like - response is expected "
                         . "(req $i)");
    }

    if (defined $block->response_headers) {
        my $want = indexed($block->response_headers, $i, $need_array);
        for my $line (split /\n/, $want) {
            next unless $line =~ /\S/;
            if ($line =~ /^\s*!\s*(\S+)/) {
                my $k = $1;
                Test::More::ok(!exists $res->{headers}{lc $k},
                               "$name - header $k not present (req $i)");
                next;
            }
            my ($k, $v) = split /:\s*/, $line, 2;
            $v = '' unless defined $v;
            $v =~ s/\s+$//;
            my $got = $res->{headers}{lc $k};
            Test::More::is(defined $got ? $got->[0] : '', $v,
                           "$name - header $k ok (req $i)");
        }
    }

    if (defined $block->response_headers_like) {
        my $want = indexed($block->response_headers_like, $i, $need_array);
        for my $line (split /\n/, $want) {
            next unless $line =~ /\S/;
            my ($k, $v) = split /:\s*/, $line, 2;
            my $got = $res->{headers}{lc $k};
            Test::More::like(defined $got ? $got->[0] : '', qr/^$v$/,
                             "$name - header $k like ok (req $i)");
        }
    }

    for my $k (qw(raw_response_headers_like raw_response_headers_unlike)) {
        next unless defined $block->$k;
        my $want = indexed($block->$k, $i, $need_array);
        my $re = ref $want eq 'Regexp' ? $want : qr/$want/s;
        if ($k =~ /unlike/) {
            Test::More::unlike($res->{raw_headers}, $re,
                               "$name - raw resp headers unlike (req $i)");
        } else {
            Test::More::like($res->{raw_headers}, $re,
                             "$name - raw resp headers like (req $i)");
        }
    }

    $_->($block, $res->{body}, $i, $repeat, 0) for @BodyChecks;
}

sub read_log_from {
    my ($pos) = @_;
    sleep 0.05;
    open my $in, '<', $LogFile or return [];
    seek $in, $$pos, 0 if ref $pos;
    my @lines = <$in>;
    $$pos = tell $in if ref $pos;
    close $in;
    return \@lines;
}

sub patterns {
    my ($v) = @_;
    return () unless defined $v;
    return ($v) if ref $v eq 'Regexp';
    return @$v if ref $v eq 'ARRAY';
    chomp $v;
    return grep { length } split /\n+/, $v;
}

sub matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

sub check_error_log {
    my ($block, $i, $need_array, $lines) = @_;
    my $name = $block->name;

    if (defined $block->grep_error_log) {
        my $pat = indexed($block->grep_error_log, $i, $need_array);
        my $want = indexed($block->grep_error_log_out, $i, $need_array);
        die "$name: grep_error_log without grep_error_log_out\n"
            unless defined $want;
        my $got = '';
        for my $line (@$lines) {
            if (ref $pat ? $line =~ /$pat/ : $line =~ /\Q$pat\E/) {
                my $m = $&;
                $got .= "$m\n" unless $m =~ /\n/;
            }
        }
        if (ref $want eq 'Regexp') {
            Test::More::like($got, $want, "$name - grep_error_log_out (req $i)");
        } else {
            Test::More::is($got, $want, "$name - grep_error_log_out (req $i)");
        }
    }

    my @expected = patterns($block->error_log);
    for my $pat (@expected) {
        my $found = grep { matches($_, $pat) } @$lines;
        Test::More::ok($found, "$name - pattern \"$pat\" matches a line in "
                               . "error.log (req $i)");
    }

    for my $pat (patterns($block->no_error_log)) {
        my @hits = grep { matches($_, $pat) } @$lines;
        Test::More::ok(!@hits, "$name - pattern \"$pat\" does not match a "
                               . "line in error.log (req $i)")
            or Test::More::diag("got: $hits[0]");
    }

    # stricter than the real framework, which only warns about these

    for my $level (qw(alert crit emerg)) {
        next if grep { !ref $_ && index($_, "[$level") >= 0 } @expected;
        next if defined $block->must_die;
        my @hits = grep { /\[$level\]/ } @$lines;
        Test::More::ok(!@hits, "$name - no [$level] in error.log (req $i)")
            or Test::More::diag("got: $hits[0]");
    }
}


# --- nginx ------------------------------------------------------------

sub expand_env {
    my ($text) = @_;
    return $text unless defined $text;
    $text =~ s/\$(TEST_NGINX_[_A-Z0-9]+)/
        defined $ENV{$1} ? $ENV{$1}
                         : die "environment variable $1 is not set\n"/ge;
    return $text;
}

sub setup_servroot {
    remove_tree("$ServRoot/conf", "$ServRoot/logs", "$ServRoot/html");
    make_path("$ServRoot/conf", "$ServRoot/logs", "$ServRoot/html");
    open my $out, '>', "$ServRoot/html/index.html" or die $!;
    print $out "<html><body>It works!</body></html>";
    close $out;
}

sub write_conf {
    my ($block) = @_;

    my $main = expand_env($block->main_config // '');
    my $http = expand_env($block->http_config // '');
    my $config = expand_env($block->config);

    if ($ENV{TEST_NGINX_LOAD_MODULES}) {
        $main = join(' ', map { "load_module $_;" }
                          split ' ', $ENV{TEST_NGINX_LOAD_MODULES})
                . " $main";
    }

    my $env = join '', map { "env $_;\n" } @EnvToNginx;

    open my $out, '>', "$ServRoot/conf/nginx.conf" or die $!;
    print $out <<_EOC_;
worker_processes  $Workers;
daemon @{[ $Valgrind ? 'off' : 'on' ]};
master_process $MasterProcess;
error_log $LogFile $LogLevel;
pid       $PidFile;
$env
$main

http {
    access_log $ServRoot/logs/access.log;

    default_type text/plain;
    keepalive_timeout  68000ms;

    client_body_temp_path $ServRoot/client_body_temp;
    proxy_temp_path $ServRoot/proxy_temp;
    fastcgi_temp_path $ServRoot/fastcgi_temp;
    uwsgi_temp_path $ServRoot/uwsgi_temp;
    scgi_temp_path $ServRoot/scgi_temp;

$http

    server {
        listen          $ServerPort;
        server_name     'localhost';

        client_max_body_size 30M;

$config

        location / {
            root $ServRoot/html;
            index index.html index.htm;
        }
    }
}

events {
    accept_mutex off;

    worker_connections  64;
}
_EOC_
    close $out;
}

sub start_nginx {
    my ($name) = @_;

    if ($Valgrind) {
        return start_valgrind($name);
    }

    my $rc = system($NginxBinary, '-p', "$ServRoot/", '-c',
                    'conf/nginx.conf');
    if ($rc != 0) {
        Test::More::fail("$name - nginx failed to start (status $rc)");
        return 0;
    }

    wait_pid_file();

    return wait_listen($name, 100);
}

sub start_valgrind {
    my ($name) = @_;

    my @opts = $Valgrind =~ /^\d+$/
               ? qw(--tool=memcheck --leak-check=full --show-possibly-lost=no
                    --num-callers=50 --errors-for-leak-kinds=definite)
               : split ' ', $Valgrind;
    push @opts, '--suppressions=valgrind.suppress' if -f 'valgrind.suppress';

    $ValgrindLog = "$ServRoot/logs/valgrind.log";
    $ValgrindBlock = $name;

    my $pid = fork();
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDERR, '>', $ValgrindLog or die "$ValgrindLog: $!\n";
        open STDOUT, '>&', \*STDERR;
        exec 'valgrind', '-q', @opts, $NginxBinary, '-p', "$ServRoot/",
             '-c', 'conf/nginx.conf';
        die "exec valgrind: $!\n";
    }

    $NginxPid = $pid;

    return wait_listen($name, 1500);
}

sub wait_listen {
    my ($name, $tries) = @_;

    for (1 .. $tries) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $ServerPort,
                                      Proto => 'tcp');
        if ($s) {
            close $s;
            return 1;
        }
        sleep 0.02;
    }

    Test::More::fail("$name - nginx does not listen on $ServerPort");
    return 0;
}

sub wait_pid_file {
    for (1 .. 150) {
        if (open my $in, '<', $PidFile) {
            my $pid = <$in>;
            close $in;
            if ($pid && $pid =~ /^(\d+)/) {
                $NginxPid = $1;
                return;
            }
        }
        sleep 0.02;
    }
}

sub nginx_running {
    return $NginxPid && kill(0, $NginxPid);
}

sub stop_nginx {
    return unless $NginxPid;

    kill 'QUIT', $NginxPid;

    my $deadline = time + ($Valgrind ? 120 : $Timeout);
    while (time < $deadline) {
        waitpid(-1, WNOHANG);
        last unless kill 0, $NginxPid;
        sleep 0.01;
    }

    if (kill 0, $NginxPid) {
        kill 'KILL', $NginxPid;
        waitpid(-1, WNOHANG);
    }

    undef $NginxPid;

    check_valgrind() if $Valgrind;
}

# what valgrind said while nginx ran (both processes): nothing, or a failure
sub check_valgrind {
    return unless defined $ValgrindLog && -f $ValgrindLog;

    open my $in, '<', $ValgrindLog or return;
    my @report = grep { /^==\d+==/ } <$in>;
    close $in;

    Test::More::ok(!@report, "$ValgrindBlock - valgrind: no report");
    Test::More::diag(join '', @report[0 .. ($#report < 60 ? $#report : 60)])
        if @report;

    undef $ValgrindLog;
}


package Test::Nginx::Socket::Block;

use strict;
use warnings;

our $AUTOLOAD;

sub new {
    my ($class, $name, $text) = @_;
    my $self = bless { _name => $name, _sections => {} }, $class;

    my @parts = split /^---[ \t]+/m, $text;
    shift @parts;

    for my $part (@parts) {
        my ($head, $value) = split /\n/, $part, 2;
        $value = '' unless defined $value;
        my ($key, @filters);
        if ($head =~ /^(\w+)\s*:\s*(.*?)\s*$/) {
            $key = $1;
            $value = $2;
        } else {
            ($key, @filters) = split ' ', $head;
            # Test::Base's default filters: drop blank lines around the value
            $value =~ s/\A(?:[ \t]*\n)+//;
            $value =~ s/(?<=\n)\s*\z//;
        }

        for my $f (@filters) {
            if ($f eq 'eval') {
                my @r = eval "package main; no strict; $value";
                die "$name: --- $key eval failed: $@" if $@;
                $value = @r == 1 ? $r[0] : \@r;
            } elsif ($f eq 'chomp') {
                chomp $value unless ref $value;
            } elsif ($f eq 'chop') {
                chop $value unless ref $value;
            } else {
                die "$name: --- $key: unsupported filter \"$f\"\n";
            }
        }

        $self->{_sections}{$key} = $value;
    }

    return $self;
}

sub name { $_[0]{_name} }

sub set_value {
    my ($self, $key, $value) = @_;
    if ($key eq 'name') {
        $self->{_name} = $value;
    } else {
        $self->{_sections}{$key} = $value;
    }
}

sub AUTOLOAD {
    my $self = shift;
    (my $key = $AUTOLOAD) =~ s/.*:://;
    return if $key eq 'DESTROY';
    return $self->{_sections}{$key};
}

1;
