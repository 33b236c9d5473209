# Diagnostics tasks (redis-schema/README.md, Tasks): the diagnostics
# object's parameters and DiagnosticsState "Requested" in one
# SetParameterValues; the CPE's "8 DIAGNOSTICS COMPLETE" has the object
# read in that session, and its values are the task's one result.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();
Cwmp::Test::defaults(config => "location /cwmp { cwmp; }
    location /tr143/download/ { cwmp_tr143_download 1m; }
    location /tr143/upload { cwmp_tr143_upload 1m; }",
                     no_error_log => "[error]\n[alert]\n");

our $D = $Cwmp::Test::Device;
our $D2 = '00AB12-HG%2D100-S2';
our $Ping = 'InternetGatewayDevice.IPPingDiagnostics.';
our $Trace = 'Device.IP.Diagnostics.TraceRoute.';

# a TR-181 device's Inform (serial S2)
our @Tr181 = (serial => 'S2', params => [
    ['Device.DeviceInfo.SoftwareVersion', 'V1.0', 'xsd:string'],
    ['Device.ManagementServer.PeriodicInformInterval', '300',
     'xsd:unsignedInt']]);

# every kind on both roots: [kind, TR-098 object, TR-181 object]
our @Kinds = (
    ['ipPing', 'InternetGatewayDevice.IPPingDiagnostics.',
     'Device.IP.Diagnostics.IPPing.'],
    ['traceRoute', 'InternetGatewayDevice.TraceRouteDiagnostics.',
     'Device.IP.Diagnostics.TraceRoute.'],
    ['downloadDiagnostics', 'InternetGatewayDevice.DownloadDiagnostics.',
     'Device.IP.Diagnostics.DownloadDiagnostics.'],
    ['uploadDiagnostics', 'InternetGatewayDevice.UploadDiagnostics.',
     'Device.IP.Diagnostics.UploadDiagnostics.'],
    ['nsLookup', 'InternetGatewayDevice.NSLookupDiagnostics.',
     'Device.DNS.Diagnostics.NSLookupDiagnostics.'],
    ['udpEcho', undef, 'Device.IP.Diagnostics.UDPEchoDiagnostics.']);

# The fake CPE runs one diagnostics task end to end: the SPV, then (for
# the TR-143 kinds, a real transfer against the ACS's test endpoints) its
# 8 DIAGNOSTICS COMPLETE session answering the object's read with what it
# measured; returns the task's result
sub run_diagnostics {
    my ($kind, $obj, $serial, $root181) = @_;
    my @inform = (serial => $serial, $root181 ? (params => $Tr181[3]) : ());
    my $port = $ENV{TEST_NGINX_SERVER_PORT};
    my %params = (
        downloadDiagnostics => {DownloadURL => "http://127.0.0.1:$port/tr143/download/64k"},
        uploadDiagnostics => {UploadURL => "http://127.0.0.1:$port/tr143/upload",
                              TestFileLength => 32768},
    );
    my $id = "$kind-$serial";
    Cwmp::Test::push_tasks(Cwmp::Test::device_of($serial), {id => $id, name => $kind,
        parameters => $params{$kind} // {Host => '192.0.2.9'}});

    my ($st, $body) = Cwmp::Test::cwmp_post(Cwmp::Test::inform(@inform));
    ($st, $body) = Cwmp::Test::cwmp_post('');
    Test::More::like($body, qr{<Name>\Q${obj}\EDiagnosticsState</Name>\r\n<Value xsi:type="xsd:string">Requested</Value>},
                     "$kind on $obj: DiagnosticsState Requested");
    ($st) = Cwmp::Test::cwmp_post(Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>'));
    Test::More::is($st, 204, "$kind: the session ends");

    # the test itself, against the ACS's own endpoints
    my @measured = ([$obj . 'DiagnosticsState', 'Complete', 'xsd:string']);
    if ($kind eq 'downloadDiagnostics') {
        my ($s, undef, $got) = Cwmp::Test::transfer('GET', $params{$kind}{DownloadURL});
        Test::More::is(length $got, 65536, 'the download endpoint sent 64k');
        push @measured, [$obj . 'TestBytesReceived', length $got, 'xsd:unsignedInt'];
    } elsif ($kind eq 'uploadDiagnostics') {
        my ($s, undef, $got) = Cwmp::Test::transfer('PUT', $params{$kind}{UploadURL}, 'u' x 32768);
        Test::More::like($got, qr/^32768 bytes in \d+ ms/, 'the upload endpoint took 32k');
        push @measured, [$obj . 'TotalBytesSent', 32768, 'xsd:unsignedInt'];
    } else {
        push @measured, [$obj . 'ResponseTime', 7, 'xsd:unsignedInt'];
    }

    Cwmp::Test::cwmp_post(Cwmp::Test::inform(@inform, events => ['8 DIAGNOSTICS COMPLETE']));
    ($st, $body) = Cwmp::Test::cwmp_post('');
    Test::More::like($body, qr{<string>\Q$obj\E</string>}, "$kind: the object read");
    ($st) = Cwmp::Test::cwmp_post(Cwmp::Test::gpv_answer(@measured));
    Test::More::is($st, 204, "$kind: the report's session ends");
    my ($r) = grep { $_->{task} eq $id } @{ Cwmp::Test::results() };
    return $r;
}

run_tests();

__DATA__

=== TEST 1: ipPing (TR-098): one SetParameterValues, the task pending
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'ping1', name => 'ipPing',
    parameters => {Host => '192.0.2.9', NumberOfRepetitions => 3}});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse',
                                     '<Status>0</Status>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:SetParameterValues>.*<Name>InternetGatewayDevice\.IPPingDiagnostics\.DiagnosticsState</Name>\r\n<Value xsi:type="xsd:string">Requested</Value>.*<Name>InternetGatewayDevice\.IPPingDiagnostics\.Host</Name>\r\n<Value xsi:type="xsd:string">192\.0\.2\.9</Value>.*<Name>InternetGatewayDevice\.IPPingDiagnostics\.NumberOfRepetitions</Name>\r\n<Value xsi:type="xsd:unsignedInt">3</Value>}s,
 qr/\A\z/]
--- redis_check
if ($req == 2) {
    my $s = json_decode(fcall('cwmp_task', $main::D, 'ping1'));
    is($s->{status}, 'pending', 'pending: the CPE runs it');
    is($s->{state}, 'answered', '... it took the request');
    is(scalar @{ results() }, 0, 'no result yet');
    is(redis('LLEN', "cwmp:device:{$main::D}:tasks"), 0, 'out of the queue');
}



=== TEST 2: 8 DIAGNOSTICS COMPLETE: the object read, the values its result
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['8 DIAGNOSTICS COMPLETE']),
 "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     [$main::Ping . 'DiagnosticsState', 'Complete', 'xsd:string'],
     [$main::Ping . 'SuccessCount', '3', 'xsd:unsignedInt'],
     [$main::Ping . 'FailureCount', '0', 'xsd:unsignedInt'],
     [$main::Ping . 'AverageResponseTime', '12', 'xsd:unsignedInt'])]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:GetParameterValues>.*<string>InternetGatewayDevice\.IPPingDiagnostics\.</string>}s,
 qr/\A\z/]
--- redis_check
if ($req == 2) {
    my @r = @{ results() };
    is(scalar @r, 1, 'one result: the task\'s, not the read\'s');
    is($r[0]{task}, 'ping1', 'the task');
    is($r[0]{name}, 'ipPing', 'its name');
    is($r[0]{status}, 'done', 'done');
    is($r[0]{result}{diagnosticsState}, 'Complete', 'the state');
    is($r[0]{result}{values}{AverageResponseTime}, '12', 'the values');
    is(redis('HLEN', "cwmp:device:{$main::D}:pending"), 0, 'not pending');
    is(redis('HGET', "cwmp:device:{$main::D}:params",
             $main::Ping . 'SuccessCount'), '3', 'the values cached');
    is(scalar @{ events_of('diagnostics_complete') }, 1, 'the event');
}



=== TEST 3: traceRoute (TR-181), and the CPE's error state: a fault with it
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D2, {id => 'tr1', name => 'traceRoute',
    parameters => {Host => 'nowhere.invalid'}, timeout => 120});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(@main::Tr181), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse',
                                     '<Status>0</Status>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<Name>Device\.IP\.Diagnostics\.TraceRoute\.DiagnosticsState</Name>.*<Name>Device\.IP\.Diagnostics\.TraceRoute\.Host</Name>}s,
 qr/\A\z/]



=== TEST 4: ... its report: the error state is the fault
--- init
Cwmp::Test::end_sessions();
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(@main::Tr181,
                                     events => ['8 DIAGNOSTICS COMPLETE']),
 "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     [$main::Trace . 'DiagnosticsState', 'Error_CannotResolveHostName',
      'xsd:string'],
     [$main::Trace . 'ResponseTime', '0', 'xsd:unsignedInt'])]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<string>Device\.IP\.Diagnostics\.TraceRoute\.</string>},
 qr/\A\z/]
--- redis_check
if ($req == 2) {
    my $r = last_result();
    is($r->{task}, 'tr1', 'the task');
    is($r->{status}, 'fault', 'a fault');
    is($r->{result}{error}, 'diagnostics', '... of the diagnostics');
    is($r->{result}{diagnosticsState}, 'Error_CannotResolveHostName',
       '... the CPE\'s state');
}



=== TEST 5: bad diagnostics tasks: a fault saying why, the queue goes on
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'echo1', name => 'udpEcho', parameters => {Host => 'x'}},
    {id => 'ping2', name => 'ipPing'},
    {id => 'rpc', name => 'getRPCMethods'});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('GetRPCMethodsResponse',
     '<MethodList><string>Inform</string></MethodList>')]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    my @r = @{ results() };
    is($r[0]{task}, 'echo1', 'udpEcho on TR-098');
    like($r[0]{result}{detail},
         qr/udpEcho is not in the InternetGatewayDevice data model/,
         '... not in its data model');
    is($r[1]{task}, 'ping2', 'no parameters');
    like($r[1]{result}{detail}, qr/"parameters" must be an object/,
         '... says so');
    is($r[2]{status}, 'done', 'the next task ran');
}



=== TEST 6: every kind on both roots, end to end (TR-143 kinds against the ACS's endpoints)
--- init
Cwmp::Test::redis_flush();
--- request
GET /tr143/download/1
--- error_code: 200
--- redis_check
for my $k (@main::Kinds) {
    my ($kind, $o98, $o181) = @$k;
    for my $root ([$o98, 'S3', 0], [$o181, 'S4', 1]) {
        next unless defined $root->[0];
        my $r = main::run_diagnostics($kind, @$root);
        is($r->{status}, 'done', "$kind on $root->[0]: done");
        is($r->{result}{diagnosticsState}, 'Complete', '... Complete');
        ok(scalar keys %{ $r->{result}{values} } >= 2, '... with what it measured');
    }
}



=== TEST 7: a CPE that never reports: "unfinished" when the task's time is up
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'ping9', name => 'ipPing',
    parameters => {Host => '192.0.2.9'}, timeout => 1});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse',
                                     '<Status>0</Status>')]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    sleep 2.1;
    Cwmp::Test::cwmp_post(Cwmp::Test::inform(events => ['2 PERIODIC']));
    my ($st) = Cwmp::Test::cwmp_post('');
    Test::More::is($st, 204, 'the next session ends');
    my $r = last_result();
    is($r->{task}, 'ping9', 'the task');
    is($r->{status}, 'fault', 'a fault');
    is($r->{result}{error}, 'unfinished', 'unfinished');
}



=== TEST 8: the TR-143 download endpoint: that many bytes; a size over its max or not a size: 404; POST: 405
--- request eval
["GET /tr143/download/10k", "GET /tr143/download/2m", "GET /tr143/download/x",
 "POST /tr143/download/10k\nx"]
--- error_code eval
[200, 404, 404, 405]
--- response_body_like eval
[qr/\A\0{10240}\z/, qr/404/, qr/404/, qr/405/]



=== TEST 8b: ... HEAD: the length, no body
--- request
HEAD /tr143/download/1m
--- error_code: 200
--- response_headers
Content-Length: 1048576
Content-Type: application/octet-stream



=== TEST 9: the TR-143 upload endpoint: the body dropped, its bytes and time answered
--- request eval
"PUT /tr143/upload\n" . ('u' x 100000)
--- error_code: 200
--- response_body_like: ^100000 bytes in \d+ ms\r$
--- error_log
tr143 upload: 100000 bytes in



=== TEST 10: ... over its max: 413; with no length: 411; GET: 405
--- request eval
["PUT /tr143/upload\n" . ('u' x 1048577), "GET /tr143/upload"]
--- error_code eval
[413, 405]



=== TEST 11: one test at a time: a second diagnostics task waits for the first one's report, the others go on
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'pA', name => 'ipPing', parameters => {Host => '192.0.2.1'}},
    {id => 'pB', name => 'traceRoute', parameters => {Host => '192.0.2.2'}},
    {id => 'rpc', name => 'getRPCMethods'});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>'),
 "POST /cwmp\n" . Cwmp::Test::answer('GetRPCMethodsResponse',
     '<MethodList><string>Inform</string></MethodList>')]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/IPPingDiagnostics\.Host/, qr/<cwmp:GetRPCMethods/, qr/\A\z/]
--- redis_check
if ($req == 3) {
    is_deeply([map { json_decode($_)->{id} } @{ redis('LRANGE', "cwmp:device:{$main::D}:tasks", 0, -1) }],
              ['pB'], 'the trace route waits in the queue');
    # the ping reports: its object read, then the trace route goes out
    Cwmp::Test::cwmp_post(Cwmp::Test::inform(events => ['8 DIAGNOSTICS COMPLETE']));
    my ($st, $b) = Cwmp::Test::cwmp_post('');
    Test::More::like($b, qr{<string>InternetGatewayDevice\.IPPingDiagnostics\.</string>}, 'the ping read');
    ($st, $b) = Cwmp::Test::cwmp_post(Cwmp::Test::gpv_answer(
        ['InternetGatewayDevice.IPPingDiagnostics.DiagnosticsState', 'Complete', 'xsd:string']));
    Test::More::like($b, qr/TraceRouteDiagnostics\.Host/, 'then the trace route, in that session');
    ($st) = Cwmp::Test::cwmp_post(Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>'));
    Test::More::is($st, 204, 'the session ends');
    is(json_decode(fcall('cwmp_task', $main::D, 'pA'))->{status}, 'done', 'the ping done');
    is(json_decode(fcall('cwmp_task', $main::D, 'pB'))->{status}, 'pending', 'the trace route running');
}
