# The server-side scripts on their own, against a Redis and no nginx (as
# nchan tests its scripts): each answer of each script, and what it
# leaves in Redis.  Every script call runs under MONITOR: each key a
# script touches must be one of its KEYS, or a pattern its header lists
# as UNDECLARED (what a Redis Cluster would refuse).  The scripts are the
# text nginx loads (.ci/gen-scripts --expand); the arguments are written
# here in the order of each header.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../../t/lib";

use Test::More;
use IO::Socket::INET;
use IO::Select;
use Digest::SHA ();
use JSON::PP ();
use Time::HiRes qw(sleep);
use Cwmp::Test;

my $top = "$FindBin::Bin/../..";
my $port = $ENV{TEST_NGINX_REDIS_PORT}
    or plan skip_all => 'TEST_NGINX_REDIS_PORT: run through .ci/test';

my $D = 'OUI1-CLASS-SN1';
my $now = time;
my %sha;
my $checked_keys = 0;


# --- a RESP connection of our own (errors are values, not deaths) ------

sub conn {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or die "redis on $port: $!\n";
    binmode $s;
    return $s;
}

sub send_cmd {
    my ($s, @args) = @_;
    my $cmd = '*' . @args . "\r\n";
    $cmd .= '$' . length($_) . "\r\n$_\r\n" for @args;
    print $s $cmd;
}

sub reply {
    my ($s) = @_;
    my $line = <$s>;
    die "redis closed the connection\n" unless defined $line;
    $line =~ s/\r\n\z//;
    my ($t, $v) = (substr($line, 0, 1), substr($line, 1));
    return $v if $t eq '+' || $t eq ':';
    return { error => $v } if $t eq '-';
    if ($t eq '$') {
        return undef if $v < 0;
        my $data = '';
        while (length $data < $v + 2) {
            read($s, my $buf, $v + 2 - length $data) or last;
            $data .= $buf;
        }
        return substr($data, 0, $v);
    }
    return undef if $v < 0;
    return [map { reply($s) } 1 .. $v];
}

my $R = conn();

sub r {
    send_cmd($R, @_);
    return reply($R);
}


# --- scripts ---------------------------------------------------------

sub gen {
    my ($mode, $name) = @_;
    my $out = `perl $top/.ci/gen-scripts $mode $name`;
    die "gen-scripts $mode $name failed\n" if $?;
    return $out;
}

sub keys_of {
    my ($name, %v) = @_;
    my @keys = split /\n/, gen('--keys', $name);
    for (@keys) {
        s/\{<ID>\}/{$D}/;
        s/\{<(address|shard|policy|job)>\}/'{' . ($v{$1} \/\/ "no-$1") . '}'/e;
    }
    return @keys;
}

# the Redis commands a script ran, from MONITOR: [[name, args...], ...]
sub monitored {
    my ($code) = @_;
    my $m = conn();
    send_cmd($m, 'MONITOR');
    reply($m);

    my $mark = 'scripts.t-' . rand();
    my $result = $code->();
    r('ECHO', $mark);

    my @cmds;
    while (my $line = <$m>) {
        last if index($line, $mark) >= 0;
        next unless $line =~ /^\+\S+ \[\d+ lua\] (.*)\r\n\z/;
        push @cmds, [monitor_args($1)];
    }
    close $m;
    return ($result, @cmds);
}

sub monitor_args {
    my ($s) = @_;
    my @a;
    while ($s =~ /\G\s*"((?:[^"\\]|\\.)*)"/gc) {
        my $v = $1;
        $v =~ s/\\x([0-9a-fA-F]{2})/chr hex $1/ge;
        $v =~ s/\\([nrtab"\\])/{n => "\n", r => "\r", t => "\t",
                               a => "\a", b => "\b", '"' => '"',
                               '\\' => '\\'}->{$1}/ge;
        push @a, $v;
    }
    return @a;
}

# every key the commands touched is a KEYS entry or an UNDECLARED pattern
sub check_keys {
    my ($name, $keys, @cmds) = @_;
    my %declared = map { $_ => 1 } @$keys;
    my @patterns = map {
        my $p = quotemeta $_;
        $p =~ s/\\<[A-Za-z]+\\>/[^:]+/g;
        qr/^$p$/
    } split /\n/, gen('--undeclared', $name);

    for my $c (@cmds) {
        my $k = r('COMMAND', 'GETKEYS', @$c);
        next unless ref $k eq 'ARRAY';
        for my $key (@$k) {
            $checked_keys++;
            next if $declared{$key} || grep { $key =~ $_ } @patterns;
            fail("$name: $c->[0] touches \"$key\", neither in KEYS nor "
                 . "UNDECLARED");
        }
    }
}

sub script {
    my ($name, $kv, @argv) = @_;
    my @keys = keys_of($name, %{ $kv || {} });

    $sha{$name} //= r('SCRIPT', 'LOAD', gen('--expand', $name));

    my ($res, @cmds) = monitored(sub {
        r('EVALSHA', $sha{$name}, scalar @keys, @keys, @argv);
    });

    die "$name: $res->{error}\n" if ref $res eq 'HASH';
    check_keys($name, \@keys, @cmds);
    return $res;
}

sub dkey { "cwmp:device:{$D}" . ($_[0] // '') }

# what the device's scripts left in its outbox for the shared keys: the
# entries of one kind ("results", "requests", "index", "campaign")
sub outbox {
    my ($kind) = @_;
    my $e = r('XRANGE', dkey(':outbox'), '-', '+');
    return [grep { $_->{k} eq $kind }
            map { my %f = @{ $_->[1] }; $f{_id} = $_->[0]; \%f } @$e];
}

sub results { outbox('results') }

sub json { JSON::PP->new->canonical->encode($_[0]) }


# --- the arguments, in each header's order -----------------------------

# the fleet's tail of the device scripts (lib/fleet.lua): indexed
# parameters, status lifetime, events emitted (none unless a test says),
# online interval and margin, SupportedDataModel not read
our @INDEXED = ();
our $EMIT = ',';
sub fleet { (@INDEXED, @INDEXED / 2, 86400, $EMIT, 3600, 60, '01') }

# session_open.lua: a 2 PERIODIC Inform unless events say otherwise,
# whole unless steady (its fields and parameters left out: those of its
# digest, "D1" unless said)
sub open_session {
    my (%o) = @_;
    my $digest = $o{digest} // 'D1';
    my @fields = (last_inform => $now, remote_addr => '192.0.2.1',
                  last_events => join(',', map { $_->[0] }
                                      @{ $o{events} || [] }));
    push @fields, (oui => 'OUI1', product_class => 'CLASS',
                   serial_number => 'SN1', manufacturer => 'Acme',
                   cwmp_version => '1.0', inform_digest => $digest)
        unless $o{steady};
    my @params = $o{steady} ? ()
                 : @{ $o{params}
                      || [['InternetGatewayDevice.DeviceInfo.'
                           . 'SoftwareVersion', 'V1']] };
    my @events = @{ $o{events} || [['2 PERIODIC', '']] };
    my @policies = $o{policies} ? @{ $o{policies} } : ('0');

    return script('session_open', {},
        $o{token} // 'T1', $o{held} // '', 30000, $o{now} // $now, '1.0',
        '192.0.2.1', $D, 'urn:dslforum-org:cwmp-1-0',
        $o{takeover} // 5, $o{transfer} // 3600,
        $digest, $o{steady} ? 1 : 0,
        @fields / 2, @fields,
        scalar @params, (map { @$_ } @params),
        0,
        scalar @events, (map { @$_ } @events),
        @policies, 0, 0, 0, fleet());
}

# session_step.lua: an outcome (or none: the turn begins)
sub step {
    my (%o) = @_;
    my @pv = @{ $o{params} || [] };
    return script('session_step', {},
        $o{token} // 'T1', $o{answered} // '', $o{rpc_id} // 'R2', 30000,
        $D, $o{status} // '', $o{result} // '', $o{apply} // 0, $now,
        $o{answer} // '', $o{conn} // 'h:1:1', 3600,
        scalar @pv, (map { @$_ } @pv),
        $o{rounds} // 0, $o{plan} // '', $o{ops} // '', 86400,
        @{ $o{wanted} || ['0'] }, 0, 0, fleet());
}


# --- session_open.lua --------------------------------------------------

r('FLUSHDB');

my $a = open_session();
is($a->[0], 1, 'session_open: OPEN');
is(r('HGET', dkey(':session'), 'token'), 'T1', 'the session holds the token');
is(r('HGET', dkey(), 'serial_number'), 'SN1', 'the summary is stored');
is_deeply([@$a[1, 2]], [$now, $now + 3600 + 60],
          'the index entry in the answer: time, until (interval + margin)');
is(scalar @{ outbox('index') }, 0, '... not in the outbox');
is(r('KEYS', 'cwmp:devices*')->[0], undef, '... no other slot written');
is(r('HGET', dkey(':params'), 'InternetGatewayDevice.DeviceInfo.'
              . 'SoftwareVersion'), 'V1', 'the parameters are cached');

is(open_session(token => 'T2'), 0, 'session_open: BUSY, another session');
is(r('HGET', dkey(':session'), 'token'), 'T1', 'nothing replaced');
is(open_session(token => 'T2', held => 'T1')->[0], 1,
   'OPEN when the CPE holds the session');

r('HSET', dkey(':params'), 'old.param', 'x');
r('HSET', dkey(':policy'), 'fault:p', '{}');
open_session(token => 'T3', held => 'T2', events => [['0 BOOTSTRAP', '']]);
is(r('HGET', dkey(':params'), 'old.param'), undef,
   '0 BOOTSTRAP drops the parameter cache');
is(r('HEXISTS', dkey(':policy'), 'fault:p'), 0,
   '0 BOOTSTRAP drops the policy state');

r('HSET', dkey(':pending'), 'rb-1',
  json({task => '{"id":"rb-1","name":"reboot"}', since => $now}));
r('HSET', dkey(':pending'), 'dl-1',
  json({task => '{"name":"download"}', since => $now - 7200}));
open_session(token => 'T4', held => 'T3',
             events => [['1 BOOT', ''], ['M Reboot', 'rb-1'],
                        ['6 CONNECTION REQUEST', '']]);
my %by = map { $_->{task} => $_ } @{ results() };
is($by{'rb-1'}{status}, 'done', 'M Reboot with its CommandKey: done');
is($by{'connreq:session'}{status}, 'session',
   '6 CONNECTION REQUEST recorded');
my ($unfinished) = grep { $_->{name} eq 'download' } @{ results() };
is($unfinished->{status}, 'fault', 'a pending task older than an hour');
like($unfinished->{result}, qr/unfinished/, '... is unfinished');
is($unfinished->{task},
   substr(Digest::SHA::sha1_hex('{"name":"download"}'), 0, 16),
   '... its id derived from its text');
is(r('HLEN', dkey(':pending')), 0, 'both left the pending hash');

r('SADD', dkey(':tags'), 'lab');
$a = open_session(token => 'T5', held => 'T4',
                  policies => ['2', 1,
                               'InternetGatewayDevice.DeviceInfo.'
                               . 'SoftwareVersion', 0, 0]);
is(scalar @$a, 8, 'with policies: the inputs come back');
is($a->[0], 1, '... OPEN');
is_deeply($a->[3], ['V1'], '... the wanted values');
is_deeply($a->[4], ['lab'], '... the tags');

# a steady Inform: what its digest vouches for is left out
r('HSET', dkey(), 'serial_number', 'SN1-as-stored');
is(open_session(token => 'T6', held => 'T5', steady => 1)->[0], 1,
   'a steady Inform, the digest stored: OPEN');
is(r('HGET', dkey(), 'serial_number'), 'SN1-as-stored',
   '... the summary\'s other fields left as they are');
is(r('HGET', dkey(':params'), 'InternetGatewayDevice.DeviceInfo.'
              . 'SoftwareVersion'), 'V1', '... and the cache');
is(r('HGET', dkey(':session'), 'token'), 'T6', '... the session opened');
is(open_session(token => 'T7', held => 'T6', steady => 1, digest => 'D2'),
   2, 'another digest: AGAIN');
is(r('HGET', dkey(':session'), 'token'), 'T6', '... nothing stored');
is(open_session(token => 'T7', held => 'T6', digest => 'D2')->[0], 1,
   'the Inform whole: OPEN');
is(r('HGET', dkey(), 'inform_digest'), 'D2', '... its digest stored');


# --- session_step.lua --------------------------------------------------

r('FLUSHDB');
open_session();

is_deeply(step(token => 'nope'), [0, ''], 'session_step: NOT_OURS');

is_deeply(step(rpc_id => 'R1'), [1, '', ''],
          'an empty queue: TASK "", the session is over');
is(r('EXISTS', dkey(':session')), 0, '... and deleted');

open_session();
my $gpv = json({id => 'g1', name => 'getParameterValues',
                parameterNames => ['A.B']});
r('RPUSH', dkey(':tasks'), $gpv);

$a = step(rpc_id => 'R1');
is($a->[0], 1, 'TASK');
is($a->[1], $gpv, '... the queued task');
is(r('HGET', dkey(':session'), 'rpc_id'), 'R1', '... its cwmp:ID kept');

is_deeply(step(answered => 'other', status => 'done', result => '{}',
               answer => 'GetParameterValuesResponse'),
          [-1, ''], 'another cwmp:ID: NOT_IN_FLIGHT');
is_deeply(step(answered => 'R1', status => 'done', result => '{}',
               answer => 'SetParameterValuesResponse'),
          [-1, ''], 'another method: NOT_IN_FLIGHT');
is(r('LLEN', dkey(':tasks')), 1, 'nothing was stored');

$a = step(answered => 'R1', status => 'done', result => '{"v":1}',
          answer => 'GetParameterValuesResponse',
          params => [['A.B', '7', 'xsd:int']]);
is_deeply($a, [1, '', ''], 'the answer stored, nothing left');
is(results()->[-1]{task}, 'g1', 'a result for the task');
is(results()->[-1]{status}, 'done', '... done');
is(r('LLEN', dkey(':tasks')), 0, '... dequeued');
is(r('HGET', dkey(':params'), 'A.B'), '7', '... the value cached');
is(r('HGET', dkey(':types'), 'A.B'), 'xsd:int', '... and its type');
is(r('HEXISTS', dkey(), 'inform_digest'), 0,
   '... the Inform\'s digest dropped (the next Inform is stored whole)');

# a task handed out in 3 sessions without an answer is dropped
r('FLUSHDB');
my $sticky = json({name => 'factoryReset'});
r('RPUSH', dkey(':tasks'), $sticky);
for my $n (1 .. 3) {
    open_session(token => "S$n");
    is(step(token => "S$n")->[1], $sticky, "handed out in session $n");
    r('DEL', dkey(':session'));
}
open_session(token => 'S4');
is_deeply(step(token => 'S4'), [1, '', ''], 'not a fourth time');
like(results()->[-1]{result}, qr/abandoned/, '... abandoned, a fault');

# a reboot waits for the CPE's M Reboot in the pending hash
r('FLUSHDB');
open_session();
r('RPUSH', dkey(':tasks'), json({id => 'rb-2', name => 'reboot'}));
step(rpc_id => 'R1');
step(answered => 'R1', status => 'done', result => '{}',
     answer => 'RebootResponse');
ok(r('HEXISTS', dkey(':pending'), 'rb-2'), 'a reboot done waits pending');
is(scalar @{ results() }, 0, '... with no result yet');

# the policies' turn: names asked for, then the inputs
r('FLUSHDB');
open_session();
r('RPUSH', dkey(':tasks'), json({id => 's1', name => 'setParameterValues',
                                 parameterValues => [['A.C', 1]]}));
step(rpc_id => 'R1', rounds => 4, wanted => ['-']);
is_deeply(step(answered => 'R1', status => 'done', result => '{}',
               answer => 'SetParameterValuesResponse', apply => 1,
               rounds => 4, wanted => ['-']),
          [3, ''], 'the wanted names left out: WANT_NAMES');
$a = step(answered => 'R1', status => 'done', result => '{}',
          answer => 'SetParameterValuesResponse', apply => 1, rounds => 4,
          wanted => [1, 'A.C']);
is($a->[0], 2, 'EVALUATE');
is(scalar @{ $a->[4] }, 8, '... the device fields');
is_deeply($a->[5], ['1'], '... the wanted values');
is(r('HGET', dkey(':session'), 'turn'), 'policies', '... the turn marked');
is(scalar @{ results() }, 1, '... the answer stored once, not at each call');


# an evaluation's plan and operations: a campaign entered (UNDECLARED keys)
r('FLUSHDB');
open_session();
$a = step(rpc_id => 'R1', rounds => 4, wanted => ['0'],
          plan => json([{id => 'policy:fw', policy => 'fw',
                         name => 'reboot'}]),
          ops => json([['enter', 'fw'], ['tag_add', 'fw-rollout']]));
is($a->[0], 1, "a plan: TASK, the policy's");
like($a->[1], qr/"policy":"fw"/, '... its first task');
my ($entered) = @{ outbox('campaign') };
is_deeply([@$entered{qw(policy step device rules)}],
          ['fw', 'enter', $D, '{}'], "the campaign's step in the outbox");
is(r('HGET', dkey(':policy'), 'campaign:fw'), 'in_progress',
   "... the device's own state beside it");
is(r('EXISTS', 'cwmp:campaign:{fw}'), 0, '... no other slot written');
ok(r('SISMEMBER', dkey(':tags'), 'fw-rollout'), 'the tag added');


# --- session_cpe.lua ---------------------------------------------------

r('FLUSHDB');
open_session();
r('HSET', dkey(':pending'), 'dl-2',
  json({task => json({id => 'dl-2', name => 'download', policy => 'fw'}),
        since => $now}));

sub cpe {
    my (%o) = @_;
    return script('session_cpe', {}, $o{token} // 'T1', 30000, $D,
                  $o{method} // 'TransferComplete', '{}', $now,
                  $o{key} // '', $o{status} // '', $o{result} // '',
                  fleet());
}

is(cpe(token => 'nope'), 0, 'session_cpe: NOT_OURS');
is(cpe(key => 'dl-2', status => 'fault', result => '{"faultCode":9010}'),
   1, 'RECORDED');
is(scalar @{ outbox('requests') }, 1, 'the request in the outbox');
is(results()->[-1]{task}, 'dl-2', 'the pending transfer has its result');
is(results()->[-1]{status}, 'fault', '... a fault');
is(r('HLEN', dkey(':pending')), 0, '... and left the pending hash');
ok(r('HEXISTS', dkey(':policy'), 'failed:fw'),
   "... the policy's failure marked");


# --- auth.lua ----------------------------------------------------------

r('FLUSHDB');
r('HSET', dkey(':auth'), 'password', 'pw');

sub auth {
    my (%o) = @_;
    return script('auth', {}, $o{what} // 'check', 2, 60000,
                  $o{nonce} // '', $o{nc} // '', 300000, $now);
}

$a = auth();
is($a->[0], 1, 'auth: OK');
is($a->[2], 'pw', '... with the password');
is(auth(nonce => 'n' x 52, nc => '00000001')->[0], 1, 'a nonce, first use');
is(auth(nonce => 'n' x 52, nc => '00000001')->[0], 3,
   'the same nonce count again: REPLAY');
is(auth(what => 'fail')->[0], 4, 'a failure: FAILED, counted');
auth(what => 'fail');
$a = auth();
is($a->[0], 2, 'over the limit: LIMITED');
ok($a->[1] > 0 && $a->[1] <= 60000, '... until the window ends');
is(r('KEYS', 'cwmp:authfail*')->[0], undef,
   "the address is another slot's (auth_address.lua)");

sub address {
    my (%o) = @_;
    return script('auth_address', {address => '192.0.2.9'},
                  $o{what} // 'check', 2, 60000);
}

is(address()->[0], 1, 'auth_address: OK');
is(address(what => 'fail')->[0], 4, 'a failure: FAILED, counted');
address(what => 'fail');
$a = address();
is($a->[0], 2, 'over the limit: LIMITED');
ok($a->[1] > 0 && $a->[1] <= 60000, '... until the window ends');
is(r('GET', 'cwmp:authfail:{192.0.2.9}'), 2, '... on the address\'s key');


# --- shard_append.lua ----------------------------------------------------

r('FLUSHDB');
open_session();
r('RPUSH', dkey(':tasks'), json({id => 'g9', name => 'getParameterValues',
                                 parameterNames => ['A.B']}));
step(rpc_id => 'R1');
step(answered => 'R1', status => 'done', result => '{}',
     answer => 'GetParameterValuesResponse');

# what nginx relays: each outbox entry as (id, kind, f, fields), but the
# campaign's, the value indexes' and the device index's (nginx writes
# those itself)
sub relay_args {
    my @e = @{ r('XRANGE', dkey(':outbox'), '-', '+') };
    my @a;
    for my $e (grep { { @{ $_->[1] } }->{k} !~ /^(campaign|idx|index)$/ }
               @e)
    {
        my @f = @{ $e->[1] };
        my (undef, $kind, @fields) = @f;
        push @a, "$D/$e->[0]", $kind, @fields / 2, @fields;
    }
    return (scalar(@a) ? scalar(grep { m{^\Q$D\E/} } @a) : 0, @a);
}

my @relay = relay_args();
is($relay[0], 1, 'one entry to relay: the result');
my $shard = { shard => 7 };
is(script('shard_append', $shard, $now, 0, @relay), 1,
   'shard_append: new');
my $rs = r('XRANGE', 'cwmp:results:{7}', '-', '+');
is(scalar @$rs, 1, 'the result in the shard');
is({ @{ $rs->[0][1] } }->{task}, 'g9', '... its task id');
ok(!grep({ $_ eq 'k' } @{ $rs->[0][1] }), '... without the outbox kind');
is(script('shard_append', $shard, $now, 0, @relay), 0,
   'relayed again (a worker died before XDEL): the result skipped');
is(r('XLEN', 'cwmp:results:{7}'), 1, '... still one result');
is(script('shard_append', $shard, $now + 7200, 0, 0), 0,
   'an hour later the ids are forgotten');
is(r('ZCARD', 'cwmp:relayed:{7}'), 0, '... the dedupe set trimmed');


# --- outbox_done.lua -----------------------------------------------------

my @ids = map { $_->[0] } @{ r('XRANGE', dkey(':outbox'), '-', '+') };
is(script('outbox_done', {}, 1, $ids[0]), 1, 'outbox_done: one entry left');
is(r('XLEN', dkey(':outbox')), @ids - 1, '... the others stay');
script('outbox_done', {}, scalar @ids - 1, @ids[1 .. $#ids]);
is(r('EXISTS', dkey(':outbox')), 0, 'an emptied outbox is deleted');


# --- campaign.lua --------------------------------------------------------

r('FLUSHDB');

my $fw = { policy => 'fw' };
my $rules = json([2, 0.5, 4]);
is(script('campaign', $fw, $now, 2, 'd1/1-0', 'enter', 'd1', $rules,
          'd2/1-0', 'enter', 'd2', $rules), 2, 'campaign: two devices enter');
is(r('HGET', 'cwmp:campaign:{fw}', 'in_progress'), 2, '... in progress');
is(script('campaign', $fw, $now, 1, 'd1/1-0', 'enter', 'd1', $rules), 0,
   'the same step again: nothing');
is(r('HGET', 'cwmp:campaign:{fw}', 'in_progress'), 2, '... still 2');
script('campaign', $fw, $now, 1, 'd1/2-0', 'done', 'd1', $rules);
is(r('HGET', 'cwmp:campaign:{fw}:devices', 'd1'), 'done', 'a device done');
is(r('HGET', 'cwmp:campaign:{fw}', 'done'), 1, '... counted');
script('campaign', $fw, $now, 1, 'd2/2-0', 'fail', 'd2', $rules);
is(r('HGET', 'cwmp:campaign:{fw}', 'in_progress'), 0, 'one failed');
is(r('HGET', 'cwmp:campaign:{fw}', 'paused'), undef, '... not yet paused');
script('campaign', $fw, $now, 1, 'd3/1-0', 'fail', 'd3', $rules);
like(r('HGET', 'cwmp:campaign:{fw}', 'paused'), qr/stop_after_failures 2/,
     'the second failure pauses it');
is(r('HGET', 'cwmp:campaign:{fw}', 'paused_by'), 'd3', '... by whom');


# --- connreq_prepare.lua -------------------------------------------------

r('FLUSHDB');

sub prepare { script('connreq_prepare', {}, 5000) }

is(prepare()->[0], 'unknown', 'connreq_prepare: an unknown device');
r('HSET', dkey(), 'data_model', 'InternetGatewayDevice',
  'remote_addr', '192.0.2.1');
r('HSET', dkey(':params'),
  'InternetGatewayDevice.ManagementServer.ConnectionRequestURL',
  'http://192.0.2.1:7547/cr');
r('HSET', dkey(':connreq'), 'username', 'u', 'password', 'p');
is_deeply(prepare(),
          ['go', 'http://192.0.2.1:7547/cr', '192.0.2.1', 'u', 'p', '', '', ''],
          'go: where and how');
is(prepare()->[0], 'rate_limited', 'again within the window');
r('DEL', dkey(':crlock'));
r('HSET', dkey(':params'), 'InternetGatewayDevice.ManagementServer.ConnReqJabberID',
  'cpe1@xmpp.example/cwmp');
is(prepare()->[7], 'cpe1@xmpp.example/cwmp', '... and the ConnReqJabberID for XMPP');


# --- stun_binding.lua ----------------------------------------------------

r('FLUSHDB');

sub stun {
    my (%o) = @_;
    return script('stun_binding', {}, '198.51.100.7:3478', $now,
                  $o{change} // '0', $o{trusted} // '0', $o{text} // '',
                  $o{mi} // '');
}

is(stun(), 0, 'stun_binding: REFUSED, not trusted');
is(stun(trusted => '1', change => '1'), 1, 'RECORDED when trusted');
is(r('HGET', dkey(':stun'), 'address'), '198.51.100.7:3478',
   '... the address');
r('HSET', dkey(':connreq'), 'stun_password', 'secret');
is(stun(trusted => '1', text => 'msg', mi => '00' x 20), 0,
   "the device's own password: a wrong MESSAGE-INTEGRITY");
is(stun(text => 'msg',
        mi => Digest::SHA::hmac_sha1_hex('msg', 'secret')), 1,
   '... and the right one');


# --- bulk_step.lua, bulk_push.lua -----------------------------------------

r('FLUSHDB');

my $job = { job => 'j9' };
r('HSET', 'cwmp:bulk:{j9}', 'task', '{"name":"reboot"}',
  'selector', '{"devices":["d1","d2"]}');
my $go = script('bulk_step', $job, 'claim', $now, 'w1', 10);
is($go->[0], 1, 'bulk_step: GO');
is_deeply([@$go[1, 4, 7]], ['list', 10, 'j9'],
          '... a list, the batch, the task id (the job\'s)');
is_deeply([@$go[8 .. $#$go]], ['d1', 'd2'], '... its devices');
is(script('bulk_step', $job, 'claim', $now, 'w2', 10)->[0], 2,
   'another worker: WAIT (the lease)');
is(script('bulk_step', $job, 'advance', $now, 'w2', '2', 2, 2, '1')->[0], 0,
   'an advance without the lease: LOST');
is(script('bulk_step', $job, 'advance', $now, 'w1', '2', 2, 2, '1')->[0], 2,
   'advance, the selector exhausted: WAIT (for the results)');
is(script('bulk_step', $job, 'count', $now, 2, 'd1/1-0/1', 'done',
          'd1/1-0/1', 'done'), 1, 'count: a result relayed twice counts once');
is(script('bulk_step', $job, 'count', $now, 1, 'd2/1-0/1', 'fault'), 1,
   '... the second');
is(script('bulk_step', $job, 'claim', $now, 'w1', 10)->[0], 4,
   'all finished: COMPLETE');
is(r('HGET', 'cwmp:bulk:{j9}', 'state'), 'done', '... done');

r('HSET', 'cwmp:bulk:{j8}', 'task', '{"name":"reboot"}',
  'selector', '{"tag":"x"}');
script('bulk_step', { job => 'j8' }, 'claim', $now, 'w1', 10);
script('bulk_step', { job => 'j8' }, 'count', $now, 20,
       map { ("d$_/1-0/1", 'fault') } 1 .. 20);
is(r('HGET', 'cwmp:bulk:{j8}', 'state'), 'paused',
   'twenty faults and nothing done: paused');
like(r('HGET', 'cwmp:bulk:{j8}', 'paused_reason'), qr/all faults/,
     '... saying why');

my $t = '{"id":"j9","bulk":"j9","name":"reboot"}';
is(script('bulk_push', {}, $t, 'j9'), 1, 'bulk_push: QUEUED');
is(script('bulk_push', {}, $t, 'j9'), 0, '... again: HAD (queued)');
r('DEL', dkey(':tasks'));
r('HSET', dkey(':status'), 'j9', '{}');
is(script('bulk_push', {}, $t, 'j9'), 0, '... HAD (finished)');



# --- upload_stored.lua, backup_pick.lua -----------------------------------

sub upfile { json({name => $_[0], size => $_[1], fileType => '1 Vendor Configuration File'}) }

is_deeply(script('upload_stored', {}, 'b1', upfile('f1', 10), 'f1', 2, 'backup', 1000),
          [1], 'upload_stored: STORED');
is_deeply(script('upload_stored', {}, 'b1', upfile('f1', 10), 'f1', 2, 'backup', 1000),
          [1], '... the same file again: STORED (idempotent)');
is_deeply(script('upload_stored', {}, 'b1', upfile('f9', 10), 'f9', 2, 'backup', 1001),
          [0], '... another file for the task: REUSED');
script('upload_stored', {}, 'b2', upfile('f2', 20), 'f2', 2, 'backup', 2000);
is_deeply(script('upload_stored', {}, 'b3', upfile('f3', 30), 'f3', 2, 'backup', 3000),
          [1, 'f1'], 'the third backup with 2 kept: the oldest to delete');
is_deeply(r('ZRANGE', dkey(':backups'), 0, -1), ['f2', 'f3'], '... the newest two');
is(r('HEXISTS', dkey(':files'), 'f1'), 0, '... its record gone');
is_deeply(script('upload_stored', {}, 'u1', upfile('u1', 5), 'u1', 2, '', 4000),
          [1], 'a plain upload: recorded for its TransferComplete only');
is(r('ZCARD', dkey(':logs')) + r('HLEN', dkey(':files')), 2, '... in no list');

is_deeply(script('backup_pick', {}, ''), [1, 'f3', '30', '1 Vendor Configuration File'],
          'backup_pick: the newest');
is_deeply(script('backup_pick', {}, 'f2'), [1, 'f2', '20', '1 Vendor Configuration File'],
          '... the one named');
is_deeply(script('backup_pick', {}, 'f1'), [0], '... one no longer kept: NONE');
r('DEL', dkey(':backups'), dkey(':files'));
is_deeply(script('backup_pick', {}, ''), [0], '... none at all: NONE');

ok($checked_keys > 50, "MONITOR saw the scripts' keys ($checked_keys)");

r('FLUSHDB');

done_testing();
