# Inform -> InformResponse in every namespace and prefix style, the
# session cookie, the empty POST, and what answers other first messages.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();

Cwmp::Test::defaults(config => "location /cwmp { cwmp; }");

run_tests();

__DATA__

=== TEST 1: cwmp-1-0, soap-env prefix: InformResponse, ID echoed, cookie
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(ns => '1-0', id => 'ABC-1')
--- error_code: 200
--- response_headers_like
Content-Type: text/xml; charset="utf-8"
Set-Cookie: cwmp_session=[0-9a-f]{32}\.00AB12-HG%2D100-S1; Path=/; HttpOnly
--- response_body_like chomp
\A<\?xml version="1.0" encoding="UTF-8"\?>\r
<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" [^>]* xmlns:cwmp="urn:dslforum-org:cwmp-1-0">\r
<soap-env:Header>\r
<cwmp:ID soap-env:mustUnderstand="1">ABC-1</cwmp:ID>\r
</soap-env:Header>\r
<soap-env:Body>\r
<cwmp:InformResponse>\r
<MaxEnvelopes>1</MaxEnvelopes>\r
</cwmp:InformResponse>\r
</soap-env:Body>\r
</soap-env:Envelope>\r
\z
--- no_error_log
[error]
[alert]



=== TEST 2: cwmp-1-2, SOAP-ENV and a custom cwmp prefix
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(ns => '1-2', env => 'SOAP-ENV',
                                    cwmp => 'c12', id => '42')
--- error_code: 200
--- response_body_like chomp
xmlns:cwmp="urn:dslforum-org:cwmp-1-2">.*<cwmp:ID soap-env:mustUnderstand="1">42</cwmp:ID>.*<cwmp:InformResponse>
--- no_error_log
[error]
[alert]



=== TEST 3: cwmp-1-4 as the default namespace, soapenv prefix
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(ns => '1-4', env => 'soapenv',
                                    cwmp => '', id => 'x')
--- error_code: 200
--- response_body_like chomp
xmlns:cwmp="urn:dslforum-org:cwmp-1-4">.*<cwmp:ID soap-env:mustUnderstand="1">x</cwmp:ID>.*<MaxEnvelopes>1</MaxEnvelopes>
--- redis_check
is(redis('HGET', 'cwmp:device:{00AB12-HG%2D100-S1}', 'cwmp_version'), '1.4',
   'version from the namespace');
--- no_error_log
[error]
[alert]



=== TEST 4: an empty cwmp:ID is echoed empty
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(id => '')
--- error_code: 200
--- response_body_like chomp
<cwmp:ID soap-env:mustUnderstand="1"></cwmp:ID>
--- no_error_log
[error]



=== TEST 5: no SOAP Header: none in the answer
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- error_code: 200
--- response_body_like chomp
\A(?!.*Header).*<cwmp:InformResponse>
--- no_error_log
[error]



=== TEST 6: the echoed ID is escaped
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(id => 'a&amp;b&lt;c&gt;&quot;')
--- error_code: 200
--- response_body_like chomp
<cwmp:ID soap-env:mustUnderstand="1">a&amp;b&lt;c&gt;&quot;</cwmp:ID>
--- no_error_log
[error]



=== TEST 7: a cookie-less session on one connection: Inform, empty POST
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(id => '1'), "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/\A\z/]
--- redis_check
if ($req == 1) {
    is(redis('EXISTS', 'cwmp:device:{00AB12-HG%2D100-S1}:session'), 0,
       'the empty POST ended the session');
}
--- no_error_log
[error]
[alert]



=== TEST 8: the session cookie ends the session
--- init
Cwmp::Test::redis('HSET', 'cwmp:device:{SEEDED-1}:session',
                  'token', '0123456789abcdef0123456789abcdef');
--- request
POST /cwmp
--- more_headers
Cookie: cwmp_session=0123456789abcdef0123456789abcdef.SEEDED-1
--- error_code: 204
--- response_body
--- redis_check
is(redis('EXISTS', 'cwmp:device:{SEEDED-1}:session'), 0, 'session deleted');
--- no_error_log
[error]
outside a session



=== TEST 9: cookie attributes echoed back and comma-separated cookies
--- init
Cwmp::Test::redis('HSET', 'cwmp:device:{SEEDED-2}:session',
                  'token', '00000000000000000000000000000abc');
--- request
POST /cwmp
--- more_headers
Cookie: other=1, cwmp_session=00000000000000000000000000000abc.SEEDED-2; Path=/; HttpOnly
--- error_code: 204
--- redis_check
is(redis('EXISTS', 'cwmp:device:{SEEDED-2}:session'), 0, 'session deleted');
--- no_error_log
[error]
outside a session



=== TEST 10: an empty POST outside any session
--- request
POST /cwmp
--- error_code: 204
--- error_log
empty POST outside a session
--- no_error_log
[error]



=== TEST 11: an empty POST with an expired session's cookie
--- request
POST /cwmp
--- more_headers
Cookie: cwmp_session=ffffffffffffffffffffffffffffffff.SEEDED-3
--- error_code: 204
--- error_log
the session is unknown, expired or another's
--- no_error_log
[error]



=== TEST 12: a new Inform starts a new session despite a stale cookie
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers
Cookie: cwmp_session=eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.00AB12-HG%2D100-S1
--- error_code: 200
--- response_headers_like
Set-Cookie: cwmp_session=(?!e{32})[0-9a-f]{32}\.00AB12-HG%2D100-S1; Path=/; HttpOnly
--- no_error_log
[error]



=== TEST 13: a session must start with Inform: fault 8003
--- request
POST /cwmp
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2"><soap:Header><cwmp:ID soap:mustUnderstand="1">7</cwmp:ID></soap:Header><soap:Body><cwmp:GetRPCMethods/></soap:Body></soap:Envelope>
--- error_code: 500
--- response_body_like chomp
xmlns:cwmp="urn:dslforum-org:cwmp-1-2">.*<cwmp:ID soap-env:mustUnderstand="1">7</cwmp:ID>.*<soap-env:Fault>\r\n<faultcode>Client</faultcode>\r\n<faultstring>CWMP fault</faultstring>\r\n<detail>\r\n<cwmp:Fault>\r\n<FaultCode>8003</FaultCode>
--- error_log
"GetRPCMethods" outside a session, Inform must come first
--- no_error_log
[error]



=== TEST 14: in a session, a CPE method the ACS does not know: fault 8000
--- init
Cwmp::Test::redis('HSET', 'cwmp:device:{SEEDED-4}:session',
                  'token', '0000000000000000000000000000beef');
--- request
POST /cwmp
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap:Body><cwmp:X_00AB12_Thing><Command>x</Command></cwmp:X_00AB12_Thing></soap:Body></soap:Envelope>
--- more_headers
Cookie: cwmp_session=0000000000000000000000000000beef.SEEDED-4
--- error_code: 500
--- response_body_like chomp
<faultcode>Server</faultcode>.*<FaultCode>8000</FaultCode>\r\n<FaultString>Method not supported</FaultString>
--- no_error_log
[error]



=== TEST 15: a response the ACS did not ask for: a protocol error, 400
--- init
Cwmp::Test::redis('HSET', 'cwmp:device:{SEEDED-4}:session',
                  'token', '0000000000000000000000000000beef');
--- request
POST /cwmp
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap:Body><cwmp:GetParameterValuesResponse/></soap:Body></soap:Envelope>
--- more_headers
Cookie: cwmp_session=0000000000000000000000000000beef.SEEDED-4
--- error_code: 400
--- error_log
protocol error: "GetParameterValuesResponse" with cwmp:ID "" does not answer the request in flight
--- no_error_log
[error]



=== TEST 16: an Inform shaped like genieacs-sim's
--- request eval
"POST /cwmp\n" . Cwmp::Test::fixture('inform-sim-periodic.xml')
--- error_code: 200
--- response_body_like chomp
<cwmp:ID soap-env:mustUnderstand="1">1f2e3d4c</cwmp:ID>
--- redis_check
my $d = redis_hash('cwmp:device:{A1B2C3-GW%202000-SIM0001}');
is($d->{software_version}, '4.2.0-build17', 'software version');
is($d->{hardware_version}, 'HW 2.1', 'hardware version');
is($d->{last_events}, '2 PERIODIC', 'events');
is(redis('HGET', 'cwmp:device:{A1B2C3-GW%202000-SIM0001}:params',
         'InternetGatewayDevice.DeviceInfo.ProvisioningCode'), '',
   'an empty value is kept');
--- no_error_log
[error]



=== TEST 17: an Inform with real CPEs' quirks
--- request eval
"POST /cwmp\n" . Cwmp::Test::fixture('inform-quirks.xml')
--- error_code: 200
--- response_body_like chomp
<cwmp:ID soap-env:mustUnderstand="1"></cwmp:ID>
--- redis_check
my $d = redis_hash('cwmp:device:{3c9066-QK%2D01%2E7%2Fb}');
is($d->{oui}, '3c9066', 'OUI as sent, trimmed');
is($d->{manufacturer}, 'Quirky Ltd', 'manufacturer trimmed');
is($d->{product_class}, '', 'no product class');
is($d->{last_events}, '0 BOOTSTRAP,1 BOOT', 'events trimmed');
ok($d->{last_bootstrap} && $d->{last_boot}, 'boot times');
is($d->{data_model}, 'Device', 'TR-181 device');
my $p = redis_hash('cwmp:device:{3c9066-QK%2D01%2E7%2Fb}:params');
is($p->{'Device.ManagementServer.PeriodicInformEnable'}, '1',
   'non-string value trimmed');
is(redis('HGET', 'cwmp:device:{3c9066-QK%2D01%2E7%2Fb}:types',
         'Device.ManagementServer.PeriodicInformEnable'), 'xsd:boolean',
   'type from the 1999 xsi namespace');
--- no_error_log
[error]



=== TEST 18: bodies stay in memory: client_body_buffer_size is raised
--- config
    location /cwmp { cwmp; client_body_buffer_size 1k; }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(serial => 'INMEM', params => [
    map { ["InternetGatewayDevice.X_TEST.Param$_", 'v' x 40, 'xsd:string'] }
    1 .. 50])
--- error_code: 200
--- redis_check
is(redis('HGET', 'cwmp:device:{00AB12-HG%2D100-INMEM}', 'serial_number'),
   'INMEM', 'stored');
--- no_error_log
[error]
buffered to a temporary file



=== TEST 19: a body nginx was told to keep in a file is read back
--- config
    location /cwmp { cwmp; client_body_in_file_only clean; }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(serial => 'INFILE')
--- error_code: 200
--- redis_check
is(redis('HGET', 'cwmp:device:{00AB12-HG%2D100-INFILE}', 'serial_number'),
   'INFILE', 'stored');
--- no_error_log
[error]



=== TEST 20: a chunked Inform in several buffers
--- config
    location /cwmp { cwmp; client_body_buffer_size 1k; client_body_in_single_buffer off; }
--- more_headers
Transfer-Encoding: chunked
--- request eval
my $b = Cwmp::Test::inform(serial => 'CHUNKED');
"POST /cwmp\n" . CORE::join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) }
                               $b =~ /(.{1,700})/sg) . "0\r\n\r\n"
--- error_code: 200
--- redis_check
is(redis('HGET', 'cwmp:device:{00AB12-HG%2D100-CHUNKED}', 'serial_number'),
   'CHUNKED', 'stored');
--- no_error_log
[error]



=== TEST 21: CWMP 1.4 negotiation: UseCWMPVersion, the CPE's namespace kept
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(ns => '1-2', id => 'v14',
                                    versions => '1.0,1.1,1.2,1.3,1.4',
                                    session_timeout => 60)
--- error_code: 200
--- response_body_like chomp
xmlns:cwmp="urn:dslforum-org:cwmp-1-2">\r\n<soap-env:Header>\r\n<cwmp:ID soap-env:mustUnderstand="1">v14</cwmp:ID>\r\n<cwmp:UseCWMPVersion soap-env:mustUnderstand="1">1.4</cwmp:UseCWMPVersion>\r\n</soap-env:Header>
--- redis_check
is(redis('HGET', 'cwmp:device:{00AB12-HG%2D100-S1}', 'cwmp_version'), '1.4',
   'the negotiated version');
my $s = redis_hash('cwmp:device:{00AB12-HG%2D100-S1}:session');
is($s->{ns}, 'urn:dslforum-org:cwmp-1-2', 'ACS requests in its namespace');
my $ttl = redis('PTTL', 'cwmp:device:{00AB12-HG%2D100-S1}:session');
ok($ttl > 50000, "the CPE's longer SessionTimeout honoured ($ttl ms)");
--- no_error_log
[error]



=== TEST 22: the highest common version; no Header of its own needed
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(ns => '1-2', versions => '1.2, 1.3, 2.1')
--- error_code: 200
--- response_body_like chomp
<soap-env:Header>\r\n<cwmp:UseCWMPVersion soap-env:mustUnderstand="1">1.3</cwmp:UseCWMPVersion>\r\n</soap-env:Header>
--- no_error_log
[error]



=== TEST 23: no version in common: fault 8006, no session
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(ns => '1-2', id => 'x', versions => '2.0')
--- error_code: 500
--- response_body_like chomp
<FaultCode>8006</FaultCode>
--- redis_check
is(redis('EXISTS', 'cwmp:device:{00AB12-HG%2D100-S1}:session'), 0, 'no session');
--- error_log
no CWMP version in common with "2.0"



=== TEST 24: variables for log_format: device, session, rpc, events
--- config
    location /cwmp {
        cwmp;
        add_header X-Cwmp "$cwmp_device_id $cwmp_session_id $cwmp_rpc $cwmp_events" always;
    }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(events => ['1 BOOT', 'M Reboot'])
--- error_code: 200
--- response_headers_like
X-Cwmp: 00AB12-HG%2D100-S1 [0-9a-f]{8} Inform>InformResponse 1 BOOT,M Reboot
--- no_error_log
[error]
