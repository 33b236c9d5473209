# Malformed and hostile input: each gets a clear 4xx or SOAP Fault and one
# info line, and nginx goes on serving (the next request is answered).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();

our $Env = 'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
           . 'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"';

Cwmp::Test::defaults(config => "location /cwmp { cwmp; cwmp_max_body_size 1m; }",
                     no_error_log => "[error]\n[alert]\n");

run_tests();

__DATA__

=== TEST 1: not XML at all, then a good Inform on the same nginx
--- request eval
["POST /cwmp\nthis is not XML", "POST /cwmp\n" . Cwmp::Test::inform()]
--- error_code eval
[400, 200]
--- response_body_like eval
[qr/^cwmp: .*Start tag expected/, qr/InformResponse/]



=== TEST 2: XXE: a DOCTYPE with an external entity is refused unread
--- request eval
"POST /cwmp\n" . qq{<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><soap:Envelope $main::Env><soap:Body><cwmp:Inform>&x;</cwmp:Inform></soap:Body></soap:Envelope>}
--- error_code: 400
--- response_body
cwmp: DOCTYPE not allowed
--- error_log
cwmp: refused: DOCTYPE not allowed



=== TEST 3: billion laughs
--- request eval
"POST /cwmp\n" . qq{<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">}
. CORE::join('', map { my $p = chr(96 + $_); my $c = chr(97 + $_);
                 "<!ENTITY $c \"" . ("&$p;" x 10) . "\">" } 1 .. 9)
. qq{]><soap:Envelope $main::Env><soap:Body>&j;</soap:Body></soap:Envelope>}
--- error_code: 400
--- response_body
cwmp: DOCTYPE not allowed



=== TEST 4: nesting deeper than 32 elements
--- request eval
"POST /cwmp\n" . qq{<soap:Envelope $main::Env><soap:Body><cwmp:Inform>}
. ("<a>" x 40) . ("</a>" x 40) . qq{</cwmp:Inform></soap:Body></soap:Envelope>}
--- error_code: 400
--- response_body
cwmp: XML nested too deep



=== TEST 5: more than 200000 elements
--- request eval
"POST /cwmp\n" . qq{<soap:Envelope $main::Env><soap:Body><cwmp:Inform>}
. ("<a/>" x 200001) . qq{</cwmp:Inform></soap:Body></soap:Envelope>}
--- error_code: 400
--- response_body
cwmp: too many XML elements



=== TEST 6: XML that is not a SOAP envelope
--- request
POST /cwmp
<Inform><DeviceId/></Inform>
--- error_code: 400
--- response_body
cwmp: not a SOAP 1.1 envelope
--- error_log
cwmp: refused: not a SOAP 1.1 envelope, client: 127.0.0.1



=== TEST 7: a SOAP 1.2 envelope
--- request
POST /cwmp
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body/></env:Envelope>
--- error_code: 400
--- response_body
cwmp: not a SOAP 1.1 envelope



=== TEST 8: an envelope without a Body
--- request eval
"POST /cwmp\n<soap:Envelope $main::Env><soap:Header/></soap:Envelope>"
--- error_code: 400
--- response_body
cwmp: SOAP envelope without a Body



=== TEST 9: a Body without a CWMP method (wrong namespace)
--- request eval
"POST /cwmp\n<soap:Envelope $main::Env><soap:Body><Inform xmlns=\"urn:example\"/></soap:Body></soap:Envelope>"
--- error_code: 400
--- response_body
cwmp: SOAP Body holds no CWMP method



=== TEST 10: an Inform without a SerialNumber: fault 8003
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(serial => undef, id => 'q')
--- error_code: 500
--- response_body_like chomp
<cwmp:ID soap-env:mustUnderstand="1">q</cwmp:ID>.*<faultcode>Client</faultcode>.*<FaultCode>8003</FaultCode>
--- error_log
cwmp: Inform with a missing or invalid DeviceId



=== TEST 11: an OUI longer than 64 characters: fault 8003
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(oui => 'A' x 65)
--- error_code: 500
--- response_body_like chomp
<FaultCode>8003</FaultCode>



=== TEST 12: more than 64 events
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(events => [('2 PERIODIC') x 65])
--- error_code: 400
--- response_body
cwmp: more than 64 events



=== TEST 13: a parameter name longer than 256 characters
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(params => [['X.' . ('n' x 300), 'v', 'xsd:string']])
--- error_code: 400
--- response_body
cwmp: invalid parameter name



=== TEST 14: Content-Length over cwmp_max_body_size: 413 before reading
--- config
    location /cwmp { cwmp; cwmp_max_body_size 4k; }
--- request eval
"POST /cwmp\n" . ('x' x 5000)
--- error_code: 413
--- error_log
cwmp: body of 5000 bytes is larger than cwmp_max_body_size 4096



=== TEST 15: a chunked body over cwmp_max_body_size
--- config
    location /cwmp { cwmp; cwmp_max_body_size 4k; }
--- more_headers
Transfer-Encoding: chunked
--- request eval
"POST /cwmp\n" . sprintf("%x\r\n", 5000) . ('x' x 5000) . "\r\n0\r\n\r\n"
--- error_code: 413
--- error_log
cwmp: body of 5000 bytes is larger than cwmp_max_body_size 4096



=== TEST 16: an encoding other than gzip: 415
--- more_headers
Content-Encoding: br
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- error_code: 415
--- error_log
cwmp: unsupported Content-Encoding "br"



=== TEST 17: a body of whitespace is an empty POST
--- request eval
"POST /cwmp\n \r\n\t "
--- more_headers
Content-Length: 5
--- error_code: 204
--- error_log
empty POST outside a session



=== TEST 18: after a parse stopped by a DOCTYPE, then by depth, the reused parser parses the next Inform
--- request eval
["POST /cwmp\n" . qq{<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x "y">]><soap:Envelope $main::Env/>},
 "POST /cwmp\n" . qq{<soap:Envelope $main::Env><soap:Body>} . ("<a>" x 40) . ("</a>" x 40) . qq{</soap:Body></soap:Envelope>},
 "POST /cwmp\n" . Cwmp::Test::inform(serial => 'AFTER')]
--- error_code eval
[400, 400, 200]
--- response_body_like eval
[qr/DOCTYPE not allowed/, qr/nested too deep/, qr/InformResponse/]



=== TEST 19: a gzip body (CWMP allows it) is inflated
--- more_headers
Content-Encoding: gzip
--- request eval
use IO::Compress::Gzip qw(gzip);
gzip(\(my $in = Cwmp::Test::inform()) => \my $out);
"POST /cwmp\n" . $out
--- error_code: 200
--- response_body_like: <cwmp:InformResponse>
--- no_error_log
[error]



=== TEST 20: a gzip bomb stops at cwmp_max_body_size once inflated: 413
--- config
    location /cwmp { cwmp; cwmp_max_body_size 64k; }
--- more_headers
Content-Encoding: gzip
--- request eval
use IO::Compress::Gzip qw(gzip);
gzip(\(my $in = Cwmp::Test::inform() . (" " x (10 * 1024 * 1024))) => \my $out);
"POST /cwmp\n" . $out
--- error_code: 413
--- error_log eval
qr/cwmp: gzip body larger than cwmp_max_body_size 65536 once inflated \(\d+ bytes sent\)/



=== TEST 21: a broken gzip body: 400
--- more_headers
Content-Encoding: gzip
--- request eval
use IO::Compress::Gzip qw(gzip);
gzip(\(my $in = Cwmp::Test::inform()) => \my $out);
"POST /cwmp\n" . substr($out, 0, length($out) - 12) . "garbage!"
--- error_code: 400
--- error_log eval
qr/cwmp: broken gzip body \(zlib -?\d+: /



=== TEST 22: an oversize header: nginx's own 400, the module never runs
--- more_headers eval
"X-Padding: " . ("a" x 9000)
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- error_code: 400
--- error_log
client sent too long header line



=== TEST 23: a client that stops sending its body: nginx's timeout (408) frees the request
--- config
    location /cwmp { cwmp; client_body_timeout 300ms; }
--- raw_request eval
"POST /cwmp HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n<soap:Envelope"
--- timeout: 2
--- abort
--- ignore_response
--- error_log
http finalize request: 408
--- no_error_log
[alert]
