# Every envelope the ACS writes is valid against the official CWMP XSD of
# its namespace (t/data/xsd, xmllint --schema, no network): the ACS's 18
# requests, its responses to the CPE's 7 requests, InformResponse (with
# UseCWMPVersion) and its SOAP Faults, in cwmp-1-0 to cwmp-1-4 where the
# version has the method.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();
Cwmp::Test::defaults(config => "location /cwmp { cwmp; }",
                     no_error_log => "[alert]\n");

our $D = $Cwmp::Test::Device;

# every task, with its arguments (the methods of cwmp-1-0 first)
our @Tasks10 = (
    {id => 'gpv', name => 'getParameterValues',
     parameterNames => ['InternetGatewayDevice.DeviceInfo.', 'InternetGatewayDevice.X.A']},
    {id => 'spv', name => 'setParameterValues', parameterKey => 'k1',
     parameterValues => [['InternetGatewayDevice.X.A', 'a<&>"'],
                         ['InternetGatewayDevice.ManagementServer.PeriodicInformInterval', 600],
                         ['InternetGatewayDevice.X.B', JSON::PP::true()]]},
    {id => 'spv0', name => 'setParameterValues',
     parameterValues => [['InternetGatewayDevice.X.C', '']]},
    {id => 'gpn', name => 'getParameterNames',
     parameterPath => 'InternetGatewayDevice.LANDevice.', nextLevel => JSON::PP::true()},
    {id => 'gpa', name => 'getParameterAttributes',
     parameterNames => ['InternetGatewayDevice.DeviceInfo.SoftwareVersion']},
    {id => 'spa', name => 'setParameterAttributes',
     parameterAttributes => [{name => 'InternetGatewayDevice.X.A', notification => 2,
                              accessList => ['Subscriber']},
                             {name => 'InternetGatewayDevice.X.B'}]},
    {id => 'add', name => 'addObject',
     objectName => 'InternetGatewayDevice.LANDevice.1.WLANConfiguration.', parameterKey => 'k2'},
    {id => 'del', name => 'deleteObject',
     objectName => 'InternetGatewayDevice.LANDevice.1.WLANConfiguration.3.'},
    {id => 'ref', name => 'refreshObject', objectName => 'InternetGatewayDevice.LANDevice.1.Hosts.'},
    {id => 'boot', name => 'reboot'},
    {id => 'fr', name => 'factoryReset'},
    {id => 'rpc', name => 'getRPCMethods'},
    {id => 'si', name => 'scheduleInform', delaySeconds => 300},
    {id => 'dl', name => 'download', fileType => '1 Firmware Upgrade Image',
     url => 'http://files.example.net/fw.bin', username => 'u', password => 'p',
     fileSize => 7340032, targetFileName => 'fw.bin', delaySeconds => 0,
     successURL => 'http://portal/ok', failureURL => 'http://portal/ko'},
    {id => 'dl-min', name => 'download', fileType => '3 Vendor Configuration File',
     url => 'http://files.example.net/cfg'},
    {id => 'ul', name => 'upload', fileType => '2 Vendor Log File',
     url => 'http://files.example.net/upload/'},
);

# the methods cwmp-1-0 lacks
our @Tasks12 = (
    {id => 'ct', name => 'cancelTransfer', commandKey => 'dl'},
    {id => 'sd', name => 'scheduleDownload', fileType => '1 Firmware Upgrade Image',
     url => 'http://files.example.net/fw2.bin', fileSize => 1,
     timeWindows => [{windowStart => 0, windowEnd => 3600, windowMode => '1 At Any Time',
                      userMessage => 'soon', maxRetries => -1},
                     {windowStart => 7200, windowEnd => 9000,
                      windowMode => '2 Immediately'}]},
    {id => 'du', name => 'changeDUState',
     operations => [{type => 'install', url => 'http://files.example.net/app.ipk',
                     uuid => '0cfd2a2e-0d3b-4c70-9a51-3f6c6c3c4b10', executionEnvRef => 'EE1'},
                    {type => 'update', uuid => '0cfd2a2e-0d3b-4c70-9a51-3f6c6c3c4b10',
                     version => '2', url => 'http://files.example.net/app2.ipk'},
                    {type => 'uninstall', uuid => '0cfd2a2e-0d3b-4c70-9a51-3f6c6c3c4b10'}]},
    {id => 'gaqt', name => 'getAllQueuedTransfers'},
);

# an Inform, the empty POST, then each request answered with a CPE fault
sub session {
    my ($ns, @tasks) = @_;
    return ["POST /cwmp\n" . Cwmp::Test::inform(ns => $ns, id => 'i1'),
            "POST /cwmp\n",
            map { "POST /cwmp\n" . Cwmp::Test::fault_answer(9002, 'Internal error') } @tasks];
}

sub codes { [200, (200) x (@_ + 0), 204] }

# the CPE's own requests in a session, in the namespace given
our @CpeRequests = (
    ['TransferComplete', '<CommandKey>dl</CommandKey><FaultStruct><FaultCode>0</FaultCode>'
        . '<FaultString></FaultString></FaultStruct><StartTime>2026-11-27T00:00:00Z</StartTime>'
        . '<CompleteTime>2026-11-27T00:00:09Z</CompleteTime>'],
    ['RequestDownload', '<FileType>3 Vendor Configuration File</FileType><FileTypeArg></FileTypeArg>'],
    ['Kicked', '<Command>c</Command><Referer>r</Referer><Arg>a</Arg><Next>http://portal/next?a=1&amp;b=2</Next>'],
    ['GetRPCMethods', ''],
    ['X_Unknown', ''],
);
our @CpeRequests12 = (
    ['AutonomousTransferComplete', '<AnnounceURL></AnnounceURL><TransferURL>http://x/fw</TransferURL>'
        . '<IsDownload>1</IsDownload><FileType>1 Firmware Upgrade Image</FileType><FileSize>10</FileSize>'
        . '<TargetFileName></TargetFileName><FaultStruct><FaultCode>0</FaultCode><FaultString></FaultString>'
        . '</FaultStruct><StartTime>2026-11-27T00:00:00Z</StartTime><CompleteTime>2026-11-27T00:00:09Z</CompleteTime>'],
    ['DUStateChangeComplete', '<Results></Results><CommandKey>du</CommandKey>'],
    ['AutonomousDUStateChangeComplete', '<Results></Results>'],
);

sub cpe_session {
    my ($ns, @requests) = @_;
    my $cw = "urn:dslforum-org:cwmp-$ns";
    return ["POST /cwmp\n" . Cwmp::Test::inform(ns => $ns),
            map {
                my $m = Cwmp::Test::answer($_->[0], $_->[1], id => "c-$_->[0]");
                $m =~ s/urn:dslforum-org:cwmp-1-0/$cw/;
                "POST /cwmp\n$m"
            } @requests];
}

run_tests();

__DATA__

=== TEST 1: cwmp-1-2: every request the ACS sends
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, @main::Tasks10, @main::Tasks12);
--- pipelined_requests eval
main::session('1-2', @main::Tasks10, @main::Tasks12)
--- error_code eval
main::codes(@main::Tasks10, @main::Tasks12)
--- redis_check
envelope_ok($body, "response $req") if length $body;



=== TEST 2: cwmp-1-0: the requests of its methods
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, @main::Tasks10);
--- pipelined_requests eval
main::session('1-0', @main::Tasks10)
--- error_code eval
main::codes(@main::Tasks10)
--- redis_check
envelope_ok($body, "response $req") if length $body;



=== TEST 3: cwmp-1-1: a request of each kind of arguments
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, @main::Tasks10[0, 1, 5, 10, 13]);
--- pipelined_requests eval
main::session('1-1', @main::Tasks10[0, 1, 5, 10, 13])
--- error_code eval
main::codes(1 .. 5)
--- redis_check
envelope_ok($body, "response $req") if length $body;



=== TEST 4: cwmp-1-4 (a CPE that lists its versions): InformResponse with UseCWMPVersion, then requests
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, @main::Tasks10[0, 1], $main::Tasks12[3]);
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(ns => '1-4', id => 'i4', versions => '1.0,1.1,1.2,1.3,1.4'),
 "POST /cwmp\n",
 map { "POST /cwmp\n" . Cwmp::Test::fault_answer(9002, 'Internal error') } 1 .. 3]
--- error_code eval
[200, 200, 200, 200, 204]
--- response_body_like eval
[qr/<cwmp:UseCWMPVersion [^>]*>1\.4</, qr//, qr//, qr//, qr/\A\z/]
--- redis_check
envelope_ok($body, "response $req") if length $body;



=== TEST 5: cwmp-1-3 with a SessionTimeout
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, $main::Tasks10[0]);
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(ns => '1-3', id => 'i5', session_timeout => 60),
 "POST /cwmp\n", "POST /cwmp\n" . Cwmp::Test::fault_answer(9002, 'Internal error')]
--- error_code eval
[200, 200, 204]
--- redis_check
envelope_ok($body, "response $req") if length $body;



=== TEST 6: cwmp-1-2: the responses to the CPE's requests, and fault 8000
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
main::cpe_session('1-2', @main::CpeRequests, @main::CpeRequests12)
--- error_code eval
[200, 200, 200, 200, 200, 500, 200, 200, 200]
--- response_body_like eval
[qr/InformResponse/, qr{<cwmp:TransferCompleteResponse/>}, qr{<cwmp:RequestDownloadResponse/>},
 qr{<NextURL>}, qr{<MethodList}, qr{<FaultCode>8000</FaultCode>},
 qr{<cwmp:AutonomousTransferCompleteResponse/>}, qr{<cwmp:DUStateChangeCompleteResponse/>},
 qr{<cwmp:AutonomousDUStateChangeCompleteResponse/>}]
--- redis_check
envelope_ok($body, "response $req");



=== TEST 7: cwmp-1-0: the responses to its CPE requests
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
main::cpe_session('1-0', @main::CpeRequests)
--- error_code eval
[200, 200, 200, 200, 200, 500]
--- redis_check
envelope_ok($body, "response $req");



=== TEST 8: the ACS's faults: 8003 for an Inform without a serial number, 8006 for no common version
--- init
Cwmp::Test::redis_flush();
--- request eval
["POST /cwmp\n" . do { my $m = Cwmp::Test::inform(ns => '1-2');
                       $m =~ s{<SerialNumber>[^<]*</SerialNumber>}{<SerialNumber></SerialNumber>}; $m },
 "POST /cwmp\n" . Cwmp::Test::inform(ns => '1-4', id => 'i8', versions => '2.0')]
--- error_code eval
[500, 500]
--- response_body_like eval
[qr{<FaultCode>8003</FaultCode>}, qr{<FaultCode>8006</FaultCode>}]
--- redis_check
envelope_ok($body, "response $req");



=== TEST 9: a CPE request outside a session: 8003
--- init
Cwmp::Test::redis_flush();
--- request eval
"POST /cwmp\n" . do { my $m = Cwmp::Test::answer('TransferComplete', $main::CpeRequests[0][1]);
                      $m =~ s/cwmp-1-0/cwmp-1-2/; $m }
--- error_code: 500
--- response_body_like: <FaultCode>8003</FaultCode>
--- redis_check
envelope_ok($body, "response $req");
