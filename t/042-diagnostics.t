# Diagnostics tasks (redis-schema/README.md, Tasks): the diagnostics
# object's parameters and DiagnosticsState "Requested" in one
# SetParameterValues; the CPE's "8 DIAGNOSTICS COMPLETE" has the object
# read in that session, and its values are the task's one result.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();
Cwmp::Test::defaults(config => "location /cwmp { cwmp; }",
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
