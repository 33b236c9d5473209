package Cwmp::Redis;

# Redis deployments a test starts on loopback, each node a real
# redis-server (daemonized, with a pid file, so that a test can kill -9
# one and start it again): a Redis Cluster (redis-server --cluster-enabled,
# redis-cli --cluster create) and a master with replicas watched by
# Sentinels (redis-sentinel).  Core Perl only.
#
#   .ci/test: perl -It/lib -MCwmp::Redis -e 'Cwmp::Redis::cluster_up(@ARGV)' \
#             <dir> <port> ...

use strict;
use warnings;

use File::Path qw(make_path);
use Time::HiRes qw(sleep time);
use POSIX qw(WNOHANG);
use IO::Socket::INET;
use IO::Select;
use Cwmp::Test ();

# a replica (re)synchronizes at once (Redis waits 5 s for more replicas)
our @NodeOptions = ('--repl-diskless-sync-delay', '0');

# a node on port, its files in dir/port; extra: more redis-server options
sub node_start {
    my ($dir, $port, @extra) = @_;
    make_path("$dir/$port");
    system('redis-server', '--port', $port, '--bind', '127.0.0.1',
           '--daemonize', 'yes', '--dir', "$dir/$port",
           '--pidfile', "$dir/$port/redis.pid",
           '--logfile', "$dir/$port/redis.log", '--save', '', @NodeOptions,
           @extra) == 0
        or die "cannot start redis-server on $port\n";
    wait_for(sub { (eval { Cwmp::Test::redis_at($port, 'PING') } // '')
                   eq 'PONG' }, 5, "redis-server on $port");
}

sub node_pid {
    my ($dir, $port) = @_;
    open my $in, '<', "$dir/$port/redis.pid" or return;
    chomp(my $pid = <$in> // '');
    return $pid;
}

# kill -9, and wait until it is gone
sub node_kill {
    my ($dir, $port) = @_;
    my $pid = node_pid($dir, $port) or return;
    kill 'KILL', $pid;
    # the test may be its subreaper (Cwmp::Test): reap it then
    wait_for(sub { waitpid($pid, WNOHANG); !kill 0, $pid }, 5,
             "redis-server $pid to die");
    unlink "$dir/$port/redis.pid";
}

sub wait_for {
    my ($cond, $seconds, $what) = @_;
    my $deadline = time + $seconds;
    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.05;
    }
    die "waited ${seconds}s for $what\n";
}

# --- Redis Cluster ----------------------------------------------------------

our @ClusterOptions = ('--cluster-node-timeout', '2000',
                       '--appendonly', 'no');


# replicas per master: the first 1 / ($Replicas + 1) of the ports are
# the masters
our $Replicas = 1;

# the nodes on ports made one cluster (or started again, when their
# nodes.conf says they are one already), returned when every node agrees
# on slots and roles
sub cluster_up {
    my ($dir, @ports) = @_;
    for my $p (@ports) {
        node_start($dir, $p, '--cluster-enabled', 'yes',
                   '--cluster-config-file', "$dir/$p/nodes.conf",
                   @ClusterOptions);
    }
    my $info = Cwmp::Test::redis_at($ports[0], 'CLUSTER', 'INFO');
    if ($info =~ /^cluster_known_nodes:1\r?$/m) {
        my $out = `timeout 60 redis-cli --cluster create @{[ map { "127.0.0.1:$_" } @ports ]} --cluster-replicas $Replicas --cluster-yes 2>&1`;
        die "redis-cli --cluster create:\n$out" if $?;
    }
    cluster_settled(@ports);
}

# every node of ports sees all slots served and the same masters
sub cluster_settled {
    my (@ports) = @_;
    wait_for(sub {
        my %views;
        for my $p (@ports) {
            my $info = eval { Cwmp::Test::redis_at($p, 'CLUSTER', 'INFO') }
                // return 0;
            return 0 unless $info =~ /^cluster_state:ok/m;
            $views{join ',', cluster_owners($p)}++;
        }
        return keys %views == 1;
    }, 30, "the cluster (@ports) to agree");
}

# the masters' ports as node port sees them (sorted)
sub cluster_owners {
    my ($port) = @_;
    my $slots = Cwmp::Test::redis_at($port, 'CLUSTER', 'SLOTS');
    my %m = map { $_->[2][1] => 1 } @$slots;
    return sort keys %m;
}

# the node id of the node on port
sub node_id {
    my ($port) = @_;
    return Cwmp::Test::redis_at($port, 'CLUSTER', 'MYID');
}

# which port serves slot, as node port sees it
sub slot_owner {
    my ($port, $slot) = @_;
    for my $r (@{ Cwmp::Test::redis_at($port, 'CLUSTER', 'SLOTS') }) {
        return $r->[2][1] if $slot >= $r->[0] && $slot <= $r->[1];
    }
    return;
}

# slot moved from one master to another as redis-cli --cluster reshard
# does it: IMPORTING/MIGRATING (clients meet ASK, or TRYAGAIN for a script
# whose keys are on both sides), MIGRATE of its keys, then the new owner
# announced (clients meet MOVED)
sub slot_migrate {
    my ($slot, $from, $to, $pause) = @_;
    my ($fid, $tid) = (node_id($from), node_id($to));
    Cwmp::Test::redis_at($to, 'CLUSTER', 'SETSLOT', $slot, 'IMPORTING', $fid);
    Cwmp::Test::redis_at($from, 'CLUSTER', 'SETSLOT', $slot, 'MIGRATING', $tid);
    while (1) {
        # with a pause, a key at a time: scripts meet the slot half moved
        my $keys = Cwmp::Test::redis_at($from, 'CLUSTER', 'GETKEYSINSLOT',
                                        $slot, $pause ? 1 : 100);
        last unless @$keys;
        Cwmp::Test::redis_at($from, 'MIGRATE', '127.0.0.1', $to, '', 0,
                             5000, 'KEYS', @$keys);
        sleep $pause if $pause;
    }
    Cwmp::Test::redis_at($_, 'CLUSTER', 'SETSLOT', $slot, 'NODE', $tid)
        for $to, $from;
}

# --- Sentinel ---------------------------------------------------------------

# a master on mport, a replica on rport, Sentinels on the sentinel ports
# watching it as name (quorum 2, down after 1 s); returns when every
# Sentinel knows the master and its replica
sub sentinel_up {
    my ($dir, $name, $mport, $rport, @sports) = @_;
    node_start($dir, $mport, @ClusterOptions[2 .. 3]);
    node_start($dir, $rport, @ClusterOptions[2 .. 3],
               '--replicaof', '127.0.0.1', $mport);
    for my $p (@sports) {
        make_path("$dir/$p");
        open my $out, '>', "$dir/$p/sentinel.conf" or die $!;
        print $out <<_EOC_;
port $p
bind 127.0.0.1
daemonize yes
pidfile $dir/$p/redis.pid
logfile $dir/$p/sentinel.log
dir $dir/$p
sentinel monitor $name 127.0.0.1 $mport 2
sentinel down-after-milliseconds $name 1000
sentinel failover-timeout $name 3000
sentinel parallel-syncs $name 1
_EOC_
        close $out;
        system('redis-sentinel', "$dir/$p/sentinel.conf") == 0
            or die "cannot start redis-sentinel on $p\n";
    }
    wait_for(sub {
        for my $p (@sports) {
            my $r = eval { Cwmp::Test::redis_at($p, 'SENTINEL', 'REPLICAS',
                                                $name) } or return 0;
            return 0 unless @$r;
            my $m = eval { Cwmp::Test::redis_at($p, 'SENTINEL', 'SENTINELS',
                                                $name) } or return 0;
            return 0 unless @$m == @sports - 1;
        }
        return 1;
    }, 30, "the Sentinels (@sports) to know $name");
}

# the master's port as Sentinel sport names it
sub sentinel_master {
    my ($sport, $name) = @_;
    my $a = eval { Cwmp::Test::redis_at($sport, 'SENTINEL',
                                        'GET-MASTER-ADDR-BY-NAME', $name) };
    return $a ? $a->[1] : undef;
}


# --- a Redis that misbehaves on purpose ------------------------------------

# A peer on port that speaks RESP: each command (an array of strings) goes
# to answer, which returns the reply as RESP text (undef: "+OK").  Serves
# any number of connections, pipelined, for 60 s; returns its pid.
sub fake_redis {
    my ($port, $answer) = @_;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                                  Proto => 'tcp', Listen => 64,
                                  ReuseAddr => 1)
        or die "cannot listen on $port: $!\n";
    my $pid = fork // die "fork: $!\n";
    if ($pid) {
        close $l;
        return $pid;
    }
    local $SIG{ALRM} = sub { POSIX::_exit(0) };
    alarm 60;
    my $sel = IO::Select->new($l);
    my %buf;
    while (1) {
        for my $fh ($sel->can_read) {
            if ($fh == $l) {
                my $c = $l->accept or next;
                $sel->add($c);
                $buf{$c} = '';
                next;
            }
            my $in;
            if (!sysread($fh, $in, 65536)) {
                $sel->remove($fh);
                delete $buf{$fh};
                close $fh;
                next;
            }
            $buf{$fh} .= $in;
            while (my $cmd = resp_command(\$buf{$fh})) {
                syswrite($fh, $answer->(@$cmd) // "+OK\r\n");
            }
        }
    }
}

# one command off the front of buf, or undef when it is not all there
sub resp_command {
    my ($buf) = @_;
    return unless $$buf =~ /\A\*(\d+)\r\n/;
    my ($n, $at) = ($1, length("*$1\r\n"));
    my @args;
    for (1 .. $n) {
        return unless substr($$buf, $at) =~ /\A\$(\d+)\r\n/;
        my $len = $1;
        my $start = $at + length("\$$len\r\n");
        return if length($$buf) < $start + $len + 2;
        push @args, substr($$buf, $start, $len);
        $at = $start + $len + 2;
    }
    substr($$buf, 0, $at) = '';
    return \@args;
}

# RESP text: a bulk string (undef: nil), an array of bulk strings, of
# integers (":<n>") and of arrays
sub bulk { defined $_[0] ? '$' . length($_[0]) . "\r\n$_[0]\r\n" : "\$-1\r\n" }

sub array {
    return '*' . @_ . "\r\n"
           . join('', map { ref $_ ? array(@$_) : /^:/ ? "$_\r\n" : bulk($_) }
                      @_);
}

1;
