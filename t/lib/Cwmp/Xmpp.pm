package Cwmp::Xmpp;

# XMPP for the connection-request tests (TR-069 Annex K): Debian's prosody
# started on loopback with a configuration of its own under the test's
# directory (no system service), accounts registered with prosodyctl; and
# a client of the protocol as a CPE speaks it: it logs in (SASL PLAIN; the
# test server allows it without TLS on loopback), binds a resource, says
# it is available, and answers the ACS's connectionRequest IQs, checking
# the username and password.  Core Perl, and IO::Socket::SSL for a CPE
# that speaks STARTTLS.

use strict;
use warnings;

use IO::Socket::INET;
use IO::Select;
use MIME::Base64 ();
use File::Path qw(make_path remove_tree);
use Time::HiRes qw(sleep time);
use POSIX qw(WNOHANG);

our $NS_CR = 'urn:broadband-forum-org:cwmp:xmppConnReq-1-0';

my @servers;

# start(dir, port, domain, {user => password, ...}, tls => 1,
# direct_tls => port, hash => 'SHA-256'): prosody, ready (with tls: a
# certificate of its own for the domain, dir/<domain>.crt, and TLS required
# of clients; direct_tls: TLS from the first byte on that port too (XEP-0368);
# hash: the SCRAM hash its accounts are stored with, the one it offers);
# returns a handle for stop()
sub start {
    my ($dir, $port, $domain, $accounts, %o) = @_;
    remove_tree($dir);
    make_path("$dir/data", "$dir/certs");
    my $cfg = "$dir/prosody.cfg.lua";
    my ($encryption, $ssl) = ('false', '');
    if ($o{tls}) {
        system("openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
               . "-keyout '$dir/$domain.key' -out '$dir/$domain.crt' "
               . "-subj '/CN=$domain' -addext 'subjectAltName=DNS:$domain' "
               . ">'$dir/openssl.log' 2>&1") == 0
            or die "openssl: see $dir/openssl.log\n";
        $encryption = 'true';
        $ssl = "    ssl = { certificate = \"$dir/$domain.crt\"; "
               . "key = \"$dir/$domain.key\"; }\n";
    }
    my $extra = '';
    $extra .= "c2s_direct_tls_ports = { $o{direct_tls} }\n"
        . "c2s_direct_tls_interfaces = { \"127.0.0.1\" }\n"
        . "c2s_direct_tls_ssl = { certificate = \"$dir/$domain.crt\"; "
        . "key = \"$dir/$domain.key\"; }\n" if $o{direct_tls};
    $extra .= "password_hash = \"$o{hash}\"\n" if $o{hash};
    # prosodyctl as root switches to prosody_user: this user
    my $user = getpwuid($>) // 'root';
    open my $out, '>', $cfg or die "$cfg: $!";
    print $out <<_EOC_;
-- the tests' own prosody (t/lib/Cwmp/Xmpp.pm): loopback, plain c2s
run_as_root = true
prosody_user = "$user"
prosody_group = "@{[ scalar getgrgid($)) // 'root' ]}"
pidfile = "$dir/prosody.pid"
data_path = "$dir/data"
certificates = "$dir/certs"
log = { info = "$dir/prosody.log" }
c2s_ports = { $port }
c2s_interfaces = { "127.0.0.1" }
s2s_ports = { }
component_ports = { }
http_ports = { }
https_ports = { }
c2s_require_encryption = $encryption
allow_unencrypted_plain_auth = true
authentication = "internal_hashed"
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "presence" }
$extra
VirtualHost "$domain"
$ssl
_EOC_
    close $out;

    for my $u (sort keys %$accounts) {
        system("prosodyctl --config '$cfg' register '$u' '$domain' "
               . "'$accounts->{$u}' >>'$dir/prosodyctl.log' 2>&1") == 0
            or die "prosodyctl register $u: see $dir/prosodyctl.log\n";
    }

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$dir/prosody.out";
        open STDERR, '>&', \*STDOUT;
        exec('prosody', '--config', $cfg, '-F') or exit 1;
    }
    for (1 .. 200) {
        last if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port);
        sleep 0.05;
    }
    my $h = {pid => $pid, dir => $dir, port => $port, domain => $domain,
             cfg => $cfg, owner => $$};
    push @servers, $h;
    return $h;
}

# the same server started again (its accounts kept)
sub restart {
    my ($h) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$h->{dir}/prosody.out";
        open STDERR, '>&', \*STDOUT;
        exec('prosody', '--config', $h->{cfg}, '-F') or exit 1;
    }
    for (1 .. 200) {
        last if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $h->{port});
        sleep 0.05;
    }
    $h->{pid} = $pid;
    return $h;
}

sub stop {
    my ($h) = @_;
    return unless $h && $h->{pid};
    kill 'TERM', $h->{pid};
    for (1 .. 100) {
        last if waitpid($h->{pid}, WNOHANG) == $h->{pid};
        sleep 0.05;
    }
    kill 'KILL', $h->{pid};
    waitpid($h->{pid}, 0);
    $h->{pid} = 0;
}

# only in the process that started them: a forked fake CPE that exits
# must not take the server down with it
END {
    local $?;
    stop($_) for grep { $_->{owner} == $$ } @servers;
}

# --- a client of the protocol ----------------------------------------------

# login(port, jid, password, resource, tls => <CA file>): a connected,
# bound, available client, {sock, jid (the full one), buf}; or dies saying
# why.  With tls: STARTTLS first, the server's certificate verified.
sub login {
    my ($port, $jid, $password, $resource, %o) = @_;
    my ($user, $domain) = split /@/, $jid;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die "xmpp: connect: $!\n";
    my $c = {sock => $s, buf => ''};

    stream($c, $domain);
    my $f = read_until($c, qr{</stream:features>});
    if ($o{tls}) {
        require IO::Socket::SSL;
        $f =~ /<starttls/ or die "xmpp: no STARTTLS offered: $f\n";
        send_raw($c, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        read_until($c, qr{<proceed[^>]*/>}) ;
        IO::Socket::SSL->start_SSL($s, SSL_ca_file => $o{tls},
                                   SSL_verifycn_name => $domain,
                                   SSL_verifycn_scheme => 'xmpp',
                                   SSL_hostname => $domain)
            or die "xmpp: TLS: " . IO::Socket::SSL::errstr() . "\n";
        $c->{buf} = '';
        stream($c, $domain);
        $f = read_until($c, qr{</stream:features>});
    }
    $f =~ /<mechanism>PLAIN<\/mechanism>/ or die "xmpp: no PLAIN offered: $f\n";
    send_raw($c, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
             . MIME::Base64::encode_base64("\0$user\0$password", '') . "</auth>");
    my $r = read_until($c, qr{<success[^>]*/>|</success>|</failure>});
    $r =~ /<success/ or die "xmpp: authentication failed: $r\n";

    stream($c, $domain);
    read_until($c, qr{</stream:features>});
    send_raw($c, "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
             . "<resource>$resource</resource></bind></iq>");
    my $b = read_until($c, qr{</iq>});
    ($c->{jid}) = $b =~ m{<jid>([^<]+)</jid>} or die "xmpp: bind: $b\n";
    send_raw($c, "<iq type='set' id='sess1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
    send_raw($c, '<presence/>');
    return $c;
}

sub stream {
    my ($c, $domain) = @_;
    send_raw($c, "<?xml version='1.0'?><stream:stream to='$domain' "
             . "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
             . "version='1.0'>");
}

sub send_raw {
    my ($c, $xml) = @_;
    local $SIG{PIPE} = 'IGNORE';
    syswrite($c->{sock}, $xml);
}

# what arrives up to and with a match of re (within timeout s), consumed
sub read_until {
    my ($c, $re, $timeout) = @_;
    my $deadline = time + ($timeout // 5);
    my $sel = IO::Select->new($c->{sock});
    while ($c->{buf} !~ $re) {
        my $left = $deadline - time;
        die "xmpp: timed out waiting for $re, have: $c->{buf}\n" if $left <= 0;
        next unless ($c->{sock}->can('pending') && $c->{sock}->pending)
                    || $sel->can_read($left);
        my $n = sysread($c->{sock}, my $chunk, 65536);
        die "xmpp: the server closed the stream: $c->{buf}\n" unless $n;
        $c->{buf} .= $chunk;
    }
    $c->{buf} =~ s/^(.*?$re)//s;
    return $1;
}

# the next complete <iq .../> or <iq>...</iq> addressed to the client, or
# undef after timeout seconds
sub next_iq {
    my ($c, $timeout) = @_;
    my $iq = eval { read_until($c, qr{<iq\b[^>]*/>|<iq\b.*?</iq>}s, $timeout) };
    return undef unless defined $iq;
    $iq =~ s/^.*?(<iq\b)/$1/s;
    return $iq;
}

# an attribute of the first tag of a stanza
sub attr {
    my ($xml, $name) = @_;
    my ($tag) = $xml =~ /^(<[^>]*>)/ or return undef;
    return $tag =~ /\s\Q$name\E=(['"])(.*?)\1/ ? $2 : undef;
}

# the ACS's side, as the tests drive it by hand: a connectionRequest IQ to
# a full JID; the answer IQ (or undef)
sub connection_request {
    my ($c, $to, $username, $password, $id) = @_;
    send_raw($c, "<iq type='get' id='$id' to='$to'>"
             . "<connectionRequest xmlns='$NS_CR'><username>$username</username>"
             . "<password>$password</password></connectionRequest></iq>");
    while (defined(my $iq = next_iq($c, 5))) {
        return $iq if (attr($iq, 'id') // '') eq $id;
    }
    return undef;
}

# A fake XMPP CPE in a process of its own: logs in, then answers every
# connectionRequest IQ: a result when the username and password are
# (username, password), a not-authorized error otherwise; each request is
# a line "<ok|refused> <from> <id>" in the log, and on_request (code, run
# in the process) follows an accepted one (a CPE opens its session); tls
# (a CA file) logs in over STARTTLS.
# Returns {pid, jid}.
sub cpe {
    my (%o) = @_;
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $r;
        my $c = eval { login($o{port}, $o{jid}, $o{xmpp_password}, $o{resource} // 'cwmp',
                             tls => $o{tls}) };
        print $w ($c ? "$c->{jid}\n" : "ERROR $@");
        close $w;
        exit 1 unless $c;
        while (1) {
            # the stream gone (the server stopped), or an hour without a
            # request: nothing left for a fake CPE to do (it would spin)
            my $iq = next_iq($c, 3600) // POSIX::_exit(0);
            next unless $iq =~ /\Q$NS_CR\E/ && (attr($iq, 'type') // '') eq 'get';
            my $from = attr($iq, 'from') // '';
            my $id = attr($iq, 'id') // '';
            my ($u) = $iq =~ m{<username>([^<]*)</username>};
            my ($p) = $iq =~ m{<password>([^<]*)</password>};
            my $ok = defined $u && defined $p && $u eq $o{username}
                     && $p eq $o{password};
            if ($ok) {
                send_raw($c, "<iq type='result' id='$id' to='$from'/>");
            } else {
                send_raw($c, "<iq type='error' id='$id' to='$from'>"
                         . "<connectionRequest xmlns='$NS_CR'/><error type='cancel'>"
                         . "<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                         . "</error></iq>");
            }
            if (open my $log, '>>', $o{log}) {
                print $log(($ok ? 'ok' : 'refused') . " $from $id\n");
                close $log;
            }
            # a session that cannot be opened is the CPE's problem, not
            # a reason to stop answering
            eval { $o{on_request}->() } if $ok && $o{on_request};
        }
    }
    close $w;
    my $line = <$r> // 'ERROR no answer';
    close $r;
    chomp $line;
    die "xmpp cpe: $line\n" if $line =~ /^ERROR/;
    return {pid => $pid, jid => $line};
}

sub cpe_stop {
    my ($cpe) = @_;
    return unless $cpe && $cpe->{pid};
    kill 'TERM', $cpe->{pid};
    waitpid($cpe->{pid}, 0);
    $cpe->{pid} = 0;
}

1;
