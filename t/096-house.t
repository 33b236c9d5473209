# The house rules of ../shared/STYLE.md that a grep can hold: which room
# may speak HTTP, hiredis, requests, keys and XML, and how big a room may
# grow.

use strict;
use warnings;
use Test::More;

my $dir = 'ngx_cwmp_module';
my @c = sort glob("$dir/*.c");
my @h = sort glob("$dir/*.h");
my %generated = map { ("$dir/$_" => 1) }
                qw(ngx_http_cwmp_scripts.c ngx_http_cwmp_scripts.h
                   ngx_http_cwmp_datamodel.h);

sub slurp {
    my ($f) = @_;
    open my $in, '<', $f or die "$f: $!\n";
    local $/;
    my $s = <$in>;
    close $in;
    $s =~ s{/\*.*?\*/}{}gs;     # comments say what they like
    return $s;
}

sub only_in {
    my ($what, $re, $allowed, @files) = @_;
    my @bad = grep { !/$allowed/ && slurp($_) =~ $re } @files;
    ok(!@bad, "$what only in the rooms that own it")
        or diag("also in: @bad");
}

my $status = qr/\bNGX_HTTP_(OK|CREATED|NO_CONTENT|SPECIAL_RESPONSE|
                 BAD_REQUEST|UNAUTHORIZED|FORBIDDEN|NOT_FOUND|NOT_ALLOWED|
                 REQUEST_TIME_OUT|REQUEST_ENTITY_TOO_LARGE|
                 UNSUPPORTED_MEDIA_TYPE|TOO_MANY_REQUESTS|
                 INTERNAL_SERVER_ERROR|SERVICE_UNAVAILABLE)\b/x;

# the HTTP edges: the CWMP handler, its answers and access checks, and
# the content handlers of the file rooms (the upload receiver, TR-143)
# and of the metrics
only_in('HTTP status codes', $status,
        qr/_(handler|response|access|upload|tr143|metrics)\.c$/, @c, @h);

only_in('hiredis', qr/hiredis/, qr/_(store|redis)(_\w+)?\.[ch]$/, @c, @h);

only_in('ngx_http_request_t', qr/\bngx_http_request_t\b/,
        qr/_(module|handler|session|access|response|conn|variables|upload|
             tr143|metrics)\.c$|_(module|handler|session|access|response|
             conn|variables|upload|tr143)\.h$/x,
        @c, @h);

only_in('Redis key names', qr/"device:\{|"cwmp:[a-z]/,
        qr/_store(_\w+)?\.c$/, @c);

only_in('XML escaping (the one writer)', qr/\bngx_escape_html\b/,
        qr/_soap\.c$/, @c);

only_in('SOAP envelopes', qr/<soap-env:|<\?xml /, qr/_soap\.c$/, @c);

for my $f (grep { !$generated{$_} } @c) {
    my $n = () = slurp($f) =~ /\n/g;
    my $max = $f =~ /_handler\.c$/ ? 800 : 1500;
    ok($n <= $max, "$f: $n lines, at most $max");
}

done_testing();
