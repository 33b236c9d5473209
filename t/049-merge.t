# Fewer exchanges: consecutive getParameterValues tasks at the head of the
# queue go out as one GetParameterValues (the union of their names),
# consecutive setParameterValues of disjoint parameters as one
# SetParameterValues; each task still gets its own result.  A merged
# request that faults goes out again task by task, so that the fault lands
# on the task it belongs to.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();
Cwmp::Test::defaults(config => "location /cwmp { cwmp; }",
                     no_error_log => "[error]\n[alert]\n");

our $D = $Cwmp::Test::Device;
our $Inform = "POST /cwmp\n" . Cwmp::Test::inform();
our $Up = 'InternetGatewayDevice.DeviceInfo.UpTime';
our $Sw = 'InternetGatewayDevice.DeviceInfo.SoftwareVersion';
our $Lan = 'InternetGatewayDevice.LANDevice.1.';
our $Dhcp = 'InternetGatewayDevice.LANDevice.1.LANHostConfigManagement.DHCPServerEnable';
our $Pii = 'InternetGatewayDevice.ManagementServer.PeriodicInformInterval';
our $Ssid = 'InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID';

run_tests();

__DATA__

=== TEST 1: 3 GPV + 2 SPV in 4 exchanges, each task its own result
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'g1', name => 'getParameterValues', parameterNames => [$main::Up]},
    {id => 'g2', name => 'getParameterValues', parameterNames => [$main::Sw, $main::Up],
     replyTo => "cwmp:device:{$main::D}:reply:g2"},
    {id => 'g3', name => 'getParameterValues', parameterNames => [$main::Lan]},
    {id => 's1', name => 'setParameterValues', parameterValues => [[$main::Pii, 600]]},
    {id => 's2', name => 'setParameterValues', parameterValues => [[$main::Ssid, 'home']]});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     [$main::Up, '3600', 'xsd:unsignedInt'], [$main::Sw, '4.3.0', 'xsd:string'],
     [$main::Dhcp, 'true', 'xsd:boolean']),
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<ParameterNames soap-enc:arrayType="xsd:string\[3\]">\r\n<string>InternetGatewayDevice.DeviceInfo.UpTime</string>\r\n<string>InternetGatewayDevice.DeviceInfo.SoftwareVersion</string>\r\n<string>InternetGatewayDevice.LANDevice.1.</string>\r\n</ParameterNames>}s,
 qr{<cwmp:SetParameterValues>\r\n<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct\[2\]">.*PeriodicInformInterval.*WLANConfiguration.1.SSID.*</ParameterList>}s,
 qr/\A\z/]
--- redis_check
if ($req == 3) {
    my %r = map { $_->{task} => $_ } @{ results() };
    is(join(' ', map { $r{$_} ? $r{$_}{status} : '-' } qw(g1 g2 g3 s1 s2)),
       'done done done done done', 'five results, all done');
    is_deeply($r{g1}{result}{parameterValues}, [[$main::Up, '3600', 'xsd:unsignedInt']],
              'g1: its own name only');
    is_deeply($r{g2}{result}{parameterValues},
              [[$main::Up, '3600', 'xsd:unsignedInt'], [$main::Sw, '4.3.0', 'xsd:string']],
              'g2: both of its names');
    is_deeply($r{g3}{result}{parameterValues}, [[$main::Dhcp, 'true', 'xsd:boolean']],
              'g3: its subtree');
    is_deeply($r{s1}{result}, {status => 0}, 's1: the status');
    my $reply = json_decode(redis('LINDEX', "cwmp:device:{$main::D}:reply:g2", 0));
    is($reply && scalar @{ $reply->{result}{parameterValues} }, 2,
       'g2\'s replyTo: its own values');
    my $p = redis_hash("cwmp:device:{$main::D}:params");
    is($p->{$main::Pii} . ' ' . $p->{$main::Ssid}, '600 home', 'both SPVs cached');
    is(redis('LLEN', "cwmp:device:{$main::D}:tasks"), 0, 'all dequeued');
}



=== TEST 2: a merged GPV that faults: each task again on its own, the fault on its task
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'ok', name => 'getParameterValues', parameterNames => [$main::Up]},
    {id => 'bad', name => 'getParameterValues',
     parameterNames => ['InternetGatewayDevice.X_None.Thing']});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::fault_answer(9005, 'Invalid parameter name'),
 "POST /cwmp\n" . Cwmp::Test::gpv_answer([$main::Up, '5', 'xsd:unsignedInt']),
 "POST /cwmp\n" . Cwmp::Test::fault_answer(9005, 'Invalid parameter name')]
--- error_code eval
[200, 200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<ParameterNames soap-enc:arrayType="xsd:string\[2\]">},
 qr{<ParameterNames soap-enc:arrayType="xsd:string\[1\]">\r\n<string>InternetGatewayDevice.DeviceInfo.UpTime</string>},
 qr{<ParameterNames soap-enc:arrayType="xsd:string\[1\]">\r\n<string>InternetGatewayDevice.X_None.Thing</string>},
 qr/\A\z/]
--- redis_check
if ($req == 4) {
    my %r = map { $_->{task} => $_ } @{ results() };
    is(scalar keys %r, 2, 'two results, no more');
    is($r{ok} && $r{ok}{status}, 'done', 'the good task: done, with its value');
    is($r{bad} && $r{bad}{status}, 'fault', 'the fault on the task it belongs to');
    is($r{bad} && $r{bad}{result}{faultCode}, 9005, '... the CPE\'s fault');
}



=== TEST 3: two SPVs of one parameter are not merged (the order is the operator's)
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'a', name => 'setParameterValues', parameterValues => [[$main::Pii, 600]]},
    {id => 'b', name => 'setParameterValues', parameterValues => [[$main::Pii, 900]]});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>'),
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr{<Value xsi:type="xsd:unsignedInt">600</Value>},
 qr{<Value xsi:type="xsd:unsignedInt">900</Value>}, qr/\A\z/]
--- redis_check
if ($req == 3) {
    is(redis('HGET', "cwmp:device:{$main::D}:params", $main::Pii), '900',
       'applied in order: the last value cached');
}



=== TEST 4: a GPV between SPVs, and a task with notBefore, are not merged across
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'g1', name => 'getParameterValues', parameterNames => [$main::Up]},
    {id => 's1', name => 'setParameterValues', parameterValues => [[$main::Pii, 600]]},
    {id => 'g2', name => 'getParameterValues', parameterNames => [$main::Sw]});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer([$main::Up, '5', 'xsd:unsignedInt']),
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse', '<Status>0</Status>'),
 "POST /cwmp\n" . Cwmp::Test::gpv_answer([$main::Sw, '1', 'xsd:string'])]
--- error_code eval
[200, 200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr{string\[1\]">\r\n<string>InternetGatewayDevice.DeviceInfo.UpTime},
 qr/<cwmp:SetParameterValues>/, qr{string\[1\]">\r\n<string>InternetGatewayDevice.DeviceInfo.SoftwareVersion},
 qr/\A\z/]
--- redis_check
if ($req == 4) {
    is(join(' ', map { $_->{task} } @{ results() }), 'g1 s1 g2', 'in the queue\'s order');
}



=== TEST 5: a GPV of "" (the whole tree) merged with another: it gets every value
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'one', name => 'getParameterValues', parameterNames => [$main::Up]},
    {id => 'all', name => 'getParameterValues', parameterNames => ['']});
--- pipelined_requests eval
[$main::Inform, "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     [$main::Up, '9', 'xsd:unsignedInt'], [$main::Sw, '4.3.0', 'xsd:string'])]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr{string\[2\]">\r\n<string>InternetGatewayDevice.DeviceInfo.UpTime</string>\r\n<string></string>}, qr/\A\z/]
--- redis_check
if ($req == 2) {
    my %r = map { $_->{task} => $_ } @{ results() };
    is(scalar @{ $r{one}{result}{parameterValues} }, 1, 'the named one: its value');
    is(scalar @{ $r{all}{result}{parameterValues} }, 2, 'the whole tree: every value');
}
