package Cpe;

# A simulated CPE for the fault runs (t/chaos/run): it holds its sessions
# the way a CPE's CWMP client does (an Inform that repeats its events until
# one is answered, a keep-alive connection with the session cookie, the
# CPE's empty POST, then each ACS request answered), acts on what it
# receives (a Reboot or FactoryReset reboots it once the session is over,
# a Download is reported by TransferComplete in a later session), and
# writes each request it received, and each session's end, to its log:
#
#   R <ident> <method> <session>   a request received (ident: its task)
#   S ok | S fail <why>            a session's end
#   B <seconds>                    a rebooted device refused that long
#
# Misbehaviours a scenario asks for: reset (TCP resets at random points),
# replay (the last session's cookie, or "old; new"), twice (a second
# Inform while in session), empty (an empty POST to some GetParameterValues).
# retry: a request that failed on a reused connection is sent once more on
# a new one, as libcurl does; without it the session fails.  Core Perl.

use strict;
use warnings;

use IO::Socket::INET;
use IO::Select;
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(time sleep);

sub new {
    my ($class, %o) = @_;
    my $self = bless {
        %o,
        events  => [['1 BOOT', '']],   # delivered by an InformResponse
        tcs     => [],                 # TransferCompletes to deliver
        cookie  => undef,              # this session's
        old     => undef,              # the last session's
        session => 0,
        refused => undef,              # since when a booted Inform is refused
    }, $class;
    open $self->{logf}, '>>', $o{log} or die "$o{log}: $!";
    select((select($self->{logf}), $| = 1)[0]);
    return $self;
}

sub log_line { my $self = shift; print { $self->{logf} } join(' ', @_), "\n" }

sub chance { rand() < $_[0] }

# --- HTTP --------------------------------------------------------------

sub connect_acs {
    my ($self) = @_;
    $self->{sock} = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $self->{port}, Proto => 'tcp', Timeout => 2);
    $self->{uses} = 0;
    return $self->{sock};
}

sub drop {
    my ($self, $reset) = @_;
    my $s = delete $self->{sock} or return;
    # a TCP reset rather than a FIN
    setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0)) if $reset;
    close $s;
}

# one exchange: (status, headers, body), or () when the connection failed
sub exchange {
    my ($self, $body, $cookie) = @_;
    my $reused = $self->{sock} && $self->{uses};

    my @r = $self->exchange_once($body, $cookie);
    if (!@r && $reused && $self->{retry} && !$self->{got_bytes}) {
        # libcurl: a request that died on a reused connection, once again
        $self->drop;
        @r = $self->exchange_once($body, $cookie);
    }
    return @r;
}

sub exchange_once {
    my ($self, $body, $cookie) = @_;
    $self->{got_bytes} = 0;
    $self->{why} = 'connect';
    $self->connect_acs or return () unless $self->{sock};
    my $s = $self->{sock} or return ();

    if ($self->{reset} && chance(0.02)) {
        $self->{why} = 'reset before sending';
        $self->drop(1);
        return ();
    }

    my $req = "POST /cwmp HTTP/1.1\r\nHost: acs\r\n"
              . ($cookie ? "Cookie: $cookie\r\n" : '')
              . (length $body ? "Content-Type: text/xml; charset=utf-8\r\n" : '')
              . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    my $n = syswrite($s, $req);
    unless (defined $n && $n == length $req) {
        $self->{why} = 'write';
        $self->drop;
        return ();
    }
    $self->{uses}++;

    if ($self->{reset} && chance(0.02)) {
        # sent, its answer never read
        $self->{why} = 'reset after sending';
        $self->drop(1);
        return ();
    }

    my ($buf, $deadline) = ('', time + 8);
    my $sel = IO::Select->new($s);
    my ($head, $len);
    while (1) {
        my $left = $deadline - time;
        if ($left <= 0 || !$sel->can_read($left)) {
            $self->{why} = 'timeout';
            $self->drop(1);
            return ();
        }
        my $r = sysread($s, $buf, 65536, length $buf);
        if (!$r) {
            $self->{why} = defined $r ? 'closed' : "read: $!";
            $self->drop;
            return ();
        }
        $self->{got_bytes} = 1;
        if (!defined $head && $buf =~ /\r\n\r\n/) {
            ($head, $buf) = split /\r\n\r\n/, $buf, 2;
            ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
            $len //= 0;
        }
        last if defined $head && length $buf >= $len;
    }

    my ($status) = $head =~ m{^HTTP/1\.[01] (\d+)};
    $self->drop if $head =~ /^Connection:\s*close/mi;
    return ($status, $head, substr($buf, 0, $len));
}

# --- CWMP messages -----------------------------------------------------

my $NS = 'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
       . 'xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" '
       . 'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
       . 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
       . 'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"';

sub envelope {
    my ($id, $body) = @_;
    my $h = defined $id
        ? "<soap:Header><cwmp:ID soap:mustUnderstand=\"1\">$id</cwmp:ID></soap:Header>"
        : '';
    return "<soap:Envelope $NS>$h<soap:Body>$body</soap:Body></soap:Envelope>";
}

sub inform {
    my ($self, @events) = @_;
    my $ev = join '', map {
        "<EventStruct><EventCode>$_->[0]</EventCode><CommandKey>$_->[1]</CommandKey></EventStruct>"
    } @events;
    return envelope('i' . int(rand(1e6)),
        '<cwmp:Inform><DeviceId><Manufacturer>Chaos</Manufacturer><OUI>00CA05</OUI>'
        . "<ProductClass>SIM</ProductClass><SerialNumber>$self->{serial}</SerialNumber></DeviceId>"
        . '<Event soap-enc:arrayType="cwmp:EventStruct[' . @events . "]\">$ev</Event>"
        . '<MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-12-01T00:00:00Z</CurrentTime><RetryCount>0</RetryCount>'
        . '<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[1]"><ParameterValueStruct>'
        . '<Name>InternetGatewayDevice.DeviceInfo.SoftwareVersion</Name>'
        . '<Value xsi:type="xsd:string">V1</Value></ParameterValueStruct></ParameterList>'
        . '</cwmp:Inform>');
}

sub answer {
    my ($id, $method, $args) = @_;
    return envelope($id, "<cwmp:$method>" . ($args // '') . "</cwmp:$method>");
}

# --- a session ---------------------------------------------------------

# the cookie a request of the session carries
sub cookie {
    my ($self) = @_;
    return $self->{cookie} unless $self->{replay} && $self->{old};
    return $self->{serial} =~ /[02468]$/
        ? $self->{old}                               # its last session's
        : "$self->{old}; $self->{cookie}";           # both, the old first
}

sub session {
    my ($self) = @_;
    my $n = ++$self->{session};
    my ($st, $hd, $body);

    my @events = @{ $self->{events} };
    push @events, ['2 PERIODIC', ''] unless @events;
    push @events, ['7 TRANSFER COMPLETE', ''], map { ['M Download', $_] }
        @{ $self->{tcs} } if @{ $self->{tcs} };
    my $booted = grep { $_->[0] =~ /^(1 BOOT|0 BOOTSTRAP)$/ } @events;

    $self->drop;    # a session starts on a connection of its own
    ($st, $hd, $body) = $self->exchange($self->inform(@events),
                                        $self->{replay} ? $self->{old} : undef);
    if (!defined $st || $st ne '200') {
        $self->{refused} //= time if $booted && defined $st && $st eq '503';
        return $self->end(0, 'inform ' . ($st // "failed ($self->{why})"));
    }
    if (defined $self->{refused}) {
        $self->log_line('B', sprintf('%.1f', time - $self->{refused}));
        $self->{refused} = undef;
    }
    $self->{events} = [];
    ($self->{cookie}) = $hd =~ /^Set-Cookie:\s*(cwmp_session=[^;\r\n]+)/mi;

    my $effect;

    # the transfers it reports, until the ACS answered each
    for my $key (@{ $self->{tcs} }) {
        ($st, $hd, $body) = $self->exchange(answer(undef, 'TransferComplete',
            "<CommandKey>$key</CommandKey><FaultStruct><FaultCode>0</FaultCode>"
            . '<FaultString></FaultString></FaultStruct><StartTime>2026-12-01T00:00:00Z</StartTime>'
            . '<CompleteTime>2026-12-01T00:00:01Z</CompleteTime>'), $self->cookie);
        return $self->end(0, 'transfer complete ' . ($st // 'failed'))
            unless defined $st && $st eq '200';
        $self->{tcs} = [grep { $_ ne $key } @{ $self->{tcs} }];
    }

    if ($self->{twice} && chance(0.3)) {
        # the same device again, at once, on a connection of its own
        my $other = Cpe->new(port => $self->{port}, serial => $self->{serial},
                             log => '/dev/null');
        my ($st2) = $other->exchange_once($self->inform(['2 PERIODIC', '']));
        $other->drop;
        $self->log_line('T', $st2 // 'failed');
    }

    my $out = '';
    for (1 .. 200) {
        ($st, $hd, $body) = $self->exchange($out, $self->cookie);
        if (!defined $st) {
            return $self->end(0, "exchange failed ($self->{why})", $effect);
        }
        if ($st eq '204') {
            return $self->end(1, 'ok', $effect);
        }
        if ($st ne '200') {
            return $self->end(0, "status $st", $effect);
        }

        my ($method) = $body =~ m{Body>\s*<cwmp:(\w+)};
        my ($id) = $body =~ m{<cwmp:ID [^>]*>([^<]*)</cwmp:ID>};
        my ($key) = $body =~ m{<CommandKey>([^<]*)</CommandKey>};
        $method //= '?';

        if ($method eq 'GetParameterValues') {
            my @names = $body =~ m{<string>([^<]+)</string>};
            my ($ident) = map { /\.T([\w-]+)$/ ? $1 : () } @names;
            $self->log_line('R', $ident // '-', $method, $n);
            if ($self->{empty} && ($ident // '') =~ /[05]$/) {
                # netcwmp: an empty POST for what it will not answer
                $out = '';
                next;
            }
            my $pv = join '', map {
                "<ParameterValueStruct><Name>$_</Name><Value xsi:type=\"xsd:string\">v</Value></ParameterValueStruct>"
            } @names;
            $out = answer($id, 'GetParameterValuesResponse',
                '<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct['
                . @names . "]\">$pv</ParameterList>");

        } elsif ($method eq 'SetParameterValues') {
            my ($v) = $body =~ m{<Value [^>]*>([^<]*)</Value>};
            $self->log_line('R', $v // '-', $method, $n);
            $out = answer($id, 'SetParameterValuesResponse', '<Status>0</Status>');

        } elsif ($method eq 'Reboot') {
            $self->log_line('R', $key // '-', $method, $n);
            $effect = ['reboot', $key];
            $out = answer($id, 'RebootResponse');

        } elsif ($method eq 'FactoryReset') {
            $self->log_line('R', 'factoryReset', $method, $n);
            $effect = ['factoryReset'];
            $out = answer($id, 'FactoryResetResponse');

        } elsif ($method eq 'Download') {
            $self->log_line('R', $key // '-', $method, $n);
            push @{ $self->{tcs} }, $key
                unless grep { $_ eq $key } @{ $self->{tcs} };
            $out = answer($id, 'DownloadResponse',
                '<Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime>'
                . '<CompleteTime>0001-01-01T00:00:00Z</CompleteTime>');

        } else {
            $self->log_line('R', '-', $method, $n);
            $out = envelope($id, '<soap:Fault><faultcode>Client</faultcode>'
                . '<faultstring>CWMP fault</faultstring><detail><cwmp:Fault>'
                . '<FaultCode>9000</FaultCode><FaultString>Method not supported</FaultString>'
                . '</cwmp:Fault></detail></soap:Fault>');
        }
    }
    return $self->end(0, 'too long', $effect);
}

# a session's end; a reboot or a factory reset received takes effect now,
# whatever became of the session
sub end {
    my ($self, $ok, $why, $effect) = @_;
    $self->log_line('S', $ok ? 'ok' : "fail $why");
    $self->{old} = $self->{cookie} if $self->{cookie};
    if ($effect) {
        $self->drop;
        $self->{cookie} = undef;
        $self->{events} = $effect->[0] eq 'reboot'
            ? [['1 BOOT', ''], ['M Reboot', $effect->[1] // '']]
            : [['0 BOOTSTRAP', ''], ['1 BOOT', '']];
        sleep 0.1 + rand(0.2);
    }
    return $ok;
}

# sessions until told to stop: at once when the last failed (after a
# short back-off), else after a short periodic interval
sub run {
    my ($self) = @_;
    $SIG{PIPE} = 'IGNORE';
    my $stop = 0;
    local $SIG{TERM} = sub { $stop = 1 };
    while (!$stop) {
        my $ok = eval { $self->session };
        $self->log_line('S', "fail died: $@") unless defined $ok;
        last if $stop;
        sleep $ok ? 0.2 + rand(0.3) : 0.3 + rand(0.5);
    }
    $self->drop;
    close $self->{logf};
}

1;
