# Policies (cwmp_policy blocks): compiled by "nginx -t" with file:line on
# every error; matched against the device; the ACS issues only what closes
# the gap between the cache and the declared state, after queued tasks.
# Sessions are cookie-less CPEs on one keep-alive connection, as in
# t/040-tasks.t.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();
Cwmp::Test::defaults(config => "location /cwmp { cwmp; }",
                     no_error_log => "[error]\n[alert]\n");

our $D = $Cwmp::Test::Device;
our $K = "cwmp:device:{$D}";
our $SSID = 'InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID';
our $AUTO = 'InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.AutoChannelEnable';

# the default Inform's parameters, plus those given
sub main::inform {
    my (%o) = @_;
    my @p = (['InternetGatewayDevice.DeviceInfo.SoftwareVersion',
              $o{version} // 'V1.0', 'xsd:string'],
             ['InternetGatewayDevice.DeviceInfo.HardwareVersion', 'HW1',
              'xsd:string'],
             @{ $o{params} // [] });
    return "POST /cwmp\n" . Cwmp::Test::inform(
        events => $o{events} // ['2 PERIODIC'], params => \@p,
        ($o{serial} ? (serial => $o{serial}) : ()));
}

sub main::answer {
    my ($method, $args) = @_;
    return "POST /cwmp\n" . Cwmp::Test::answer($method, $args);
}

sub main::gpv {
    return "POST /cwmp\n" . Cwmp::Test::gpv_answer(@_);
}

sub main::policy_results {
    return [grep { $_->{task} =~ /^policy:/ } @{ Cwmp::Test::results() }];
}

run_tests();

__DATA__

=== TEST 1: policies compile; nginx -t accepts the shipped examples
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    include $TEST_NGINX_TOP/lua-free-policies/baseline-tr098.conf;
    include $TEST_NGINX_TOP/lua-free-policies/baseline-tr181.conf;
    include $TEST_NGINX_TOP/lua-free-policies/wifi-per-class.conf;
    include $TEST_NGINX_TOP/lua-free-policies/firmware-campaign.conf;
--- request
GET /cwmp
--- error_code: 405



=== TEST 2: a bad operator, with the file and line
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy p {
        match product_class == HG-100;
        reboot;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid operator "==": =, !=, ~ or !~ in \S+nginx\.conf:\d+/



=== TEST 3: a bad regex
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy p {
        match serial_number ~ "([a-z";
        reboot;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*pcre2?_compile\(\) failed: .* in \S+nginx\.conf:\d+/



=== TEST 4: an unknown variable in a value
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy p {
        value InternetGatewayDevice.X.Y "a-$serial";
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown variable "\$serial" in "a-\$serial": .* in \S+nginx\.conf:\d+/



=== TEST 5: a policy without an action, a duplicate, a bad window
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy p {
        match oui = 00AB12;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*policy "p" has no action in \S+nginx\.conf:\d+/



=== TEST 6: a duplicate policy name
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy p { reboot; }
    cwmp_policy p { reboot; }
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate policy "p" in \S+nginx\.conf:\d+/



=== TEST 7: a bad window, a bad percent, a bad firmware URL, an unknown action
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy p {
        match window 25:00-03:00;
        reboot;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid window "25:00-03:00", HH:MM-HH:MM \(UTC\) expected in \S+nginx\.conf:\d+/



=== TEST 8: percent over 100
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy p {
        match percent 101;
        reboot;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number "101": 0 to 100 in \S+nginx\.conf:\d+/



=== TEST 9: firmware over ftp is refused
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy p {
        firmware 2.0 ftp://fw.example.net/a.bin;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid firmware URL "ftp:\/\/fw\.example\.net\/a\.bin": http:\/\/, https:\/\/ or file:<a stored file's name> expected in \S+nginx\.conf:\d+/



=== TEST 10: an unknown action
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy p {
        factory_reset_everything;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown or invalid "factory_reset_everything" in a policy in \S+nginx\.conf:\d+/



=== TEST 11: first session: unknown values fetched, then one SetParameterValues
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    include $TEST_NGINX_TOP/lua-free-policies/wifi-per-class.conf;
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[main::inform(events => ['0 BOOTSTRAP']), "POST /cwmp\n",
 main::gpv([$main::SSID, 'factory', 'xsd:string'],
           [$main::AUTO, 'false', 'xsd:boolean']),
 main::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:GetParameterValues>\r\n<ParameterNames soap-enc:arrayType="xsd:string\[2\]">\r\n<string>InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID</string>\r\n<string>InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.AutoChannelEnable</string>}s,
 qr{<cwmp:SetParameterValues>.*<Name>InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID</Name>\r\n<Value xsi:type="xsd:string">isp-S1</Value>.*<Name>InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.AutoChannelEnable</Name>\r\n<Value xsi:type="xsd:boolean">true</Value>.*<ParameterKey>}s,
 qr/\A\z/]
--- redis_check
if ($req == 3) {
    is(redis('HGET', "$main::K:params", $main::SSID), 'isp-S1', 'the cache holds the new SSID');
    my $r = main::policy_results();
    is_deeply([map { "$_->{task} $_->{name} $_->{status}" } @$r],
              ['policy:wifi-hg100 getParameterValues done',
               'policy:wifi-hg100 setParameterValues done'],
              'the results name the policy');
    is(redis('EXISTS', "$main::K:plan"), 0, 'the plan goes with the session');
}



=== TEST 12: a second session with nothing changed sends nothing (two Redis calls)
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    include $TEST_NGINX_TOP/lua-free-policies/wifi-per-class.conf;
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n"]
--- error_code eval
[200, 204]



=== TEST 13: and a third right after it
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    include $TEST_NGINX_TOP/lua-free-policies/wifi-per-class.conf;
--- init
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is(scalar @{ main::policy_results() }, 2, 'no new result');
    is(redis('EXISTS', "$main::K:session"), 0, 'the session is over');
}



=== TEST 14: the customer changed the SSID: it is set back, and only it
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    include $TEST_NGINX_TOP/lua-free-policies/wifi-per-class.conf;
--- pipelined_requests eval
[main::inform(params => [[$main::SSID, 'my-home', 'xsd:string']]),
 "POST /cwmp\n",
 main::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:SetParameterValues>\r\n<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct\[1\]">.*<Value xsi:type="xsd:string">isp-S1</Value>}s,
 qr/\A\z/]



=== TEST 15: a tag opts a device out; a product class that does not match
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    include $TEST_NGINX_TOP/lua-free-policies/wifi-per-class.conf;
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('SADD', "$main::K:tags", 'own-wifi');
--- pipelined_requests eval
[main::inform(params => [[$main::SSID, 'my-home', 'xsd:string']]),
 "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
Cwmp::Test::redis('SREM', "$main::K:tags", 'own-wifi') if $req == 1;



=== TEST 16: queued tasks run first, then the policies
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    include $TEST_NGINX_TOP/lua-free-policies/wifi-per-class.conf;
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::push_tasks($main::D, {id => 'op-1', name => 'getRPCMethods'});
--- pipelined_requests eval
[main::inform(params => [[$main::SSID, 'my-home', 'xsd:string']]),
 "POST /cwmp\n",
 main::answer('GetRPCMethodsResponse', '<MethodList></MethodList>'),
 main::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr{<cwmp:GetRPCMethods/>}, qr/<cwmp:SetParameterValues>/,
 qr/\A\z/]



=== TEST 17: matching on a cached parameter, an event, a variable from the cache
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy hw1 {
        match param InternetGatewayDevice.DeviceInfo.HardwareVersion ~ "^HW[0-9]$";
        match event "1 BOOT";
        match !event "0 BOOTSTRAP";
        value InternetGatewayDevice.X.Label "${InternetGatewayDevice.DeviceInfo.HardwareVersion}/$oui/$device_id";
    }
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "$main::K:params", 'InternetGatewayDevice.X.Label', 'none');
--- pipelined_requests eval
[main::inform(events => ['1 BOOT']), "POST /cwmp\n",
 main::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<Name>InternetGatewayDevice.X.Label</Name>\r\n<Value xsi:type="xsd:string">HW1/00AB12/00AB12-HG%2D100-S1</Value>}s,
 qr/\A\z/]



=== TEST 18: the same policy on a periodic Inform: the event does not match
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy hw1 {
        match event "1 BOOT";
        value InternetGatewayDevice.X.Label "changed";
    }
--- pipelined_requests eval
[main::inform(events => ['2 PERIODIC']), "POST /cwmp\n"]
--- error_code eval
[200, 204]



=== TEST 19: tags, notification, refresh, reboot: each once
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy once {
        tag add provisioned;
        tag remove new;
        notification InternetGatewayDevice.ManagementServer.ConnectionRequestURL 2;
        refresh InternetGatewayDevice.DeviceInfo.UpTime 1h;
        reboot;
    }
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('SADD', "$main::K:tags", 'new');
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n",
 main::gpv(['InternetGatewayDevice.DeviceInfo.UpTime', '42', 'xsd:unsignedInt']),
 main::answer('SetParameterAttributesResponse', ''),
 main::answer('RebootResponse', '')]
--- error_code eval
[200, 200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:GetParameterValues>.*<string>InternetGatewayDevice.DeviceInfo.UpTime</string>}s,
 qr{<cwmp:SetParameterAttributes>.*<Name>InternetGatewayDevice.ManagementServer.ConnectionRequestURL</Name>\r\n<NotificationChange>true</NotificationChange>\r\n<Notification>2</Notification>}s,
 qr{<cwmp:Reboot>\r\n<CommandKey>policy:once</CommandKey>}s,
 qr/\A\z/]



=== TEST 20: the reboot reported done (M Reboot), the rest remembered
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy once {
        tag add provisioned;
        tag remove new;
        notification InternetGatewayDevice.ManagementServer.ConnectionRequestURL 2;
        refresh InternetGatewayDevice.DeviceInfo.UpTime 1h;
        reboot;
    }
--- pipelined_requests eval
[main::inform(events => ['1 BOOT', ['M Reboot', 'policy:once']]),
 "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is_deeply([sort @{ redis('SMEMBERS', "$main::K:tags") }], ['provisioned'],
              'tag added, tag removed');
    my $st = redis_hash("$main::K:policy");
    is($st->{'notification:InternetGatewayDevice.ManagementServer.ConnectionRequestURL'},
       '2', 'the notification applied is remembered');
    ok($st->{'refresh:InternetGatewayDevice.DeviceInfo.UpTime'}, 'the refresh is dated');
    ok($st->{'reboot:once'}, 'the reboot is remembered');
    my $r = main::policy_results();
    is($r->[-1]{name}, 'reboot', 'the reboot done with M Reboot');
}



=== TEST 21: a fault: recorded, and the policy waits for its back-off
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy bad {
        value InternetGatewayDevice.X.ReadOnly "1";
    }
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "$main::K:params", 'InternetGatewayDevice.X.ReadOnly', '0');
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::fault_answer(9003, 'Invalid arguments',
     ['InternetGatewayDevice.X.ReadOnly', 9008, 'not writable'])]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    my $r = main::policy_results();
    is($r->[-1]{task}, 'policy:bad', 'the fault names the policy');
    is($r->[-1]{status}, 'fault', 'a fault');
    is($r->[-1]{result}{setParameterValuesFault}[0]{faultCode}, 9008,
       'with the CPE\'s detail');
    my $f = Cwmp::Test::json_decode(redis('HGET', "$main::K:policy", 'fault:bad'));
    is($f->{count}, 1, 'the device\'s fault record');
    ok($f->{retry_at} - $f->{time} == 300, 'retried after 300 s');
    is($f->{fault}{faultCode}, 9003, 'with the fault');
}



=== TEST 22: the next session leaves it alone (back-off)
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy bad {
        value InternetGatewayDevice.X.ReadOnly "1";
    }
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n"]
--- error_code eval
[200, 204]



=== TEST 23: cleared by an operator (HDEL), the policy runs again
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy bad {
        value InternetGatewayDevice.X.ReadOnly "1";
    }
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('HDEL', "$main::K:policy", 'fault:bad');
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n",
 main::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    is(redis('HEXISTS', "$main::K:policy", 'fault:bad'), 0, 'no fault left');
}



=== TEST 24: 0 BOOTSTRAP: the cache is dropped and the service re-established
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    include $TEST_NGINX_TOP/lua-free-policies/wifi-per-class.conf;
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('HSET', "$main::K:params", $main::SSID, 'isp-S1', $main::AUTO, 'true');
--- pipelined_requests eval
[main::inform(events => ['0 BOOTSTRAP']), "POST /cwmp\n",
 main::gpv([$main::SSID, 'factory', 'xsd:string'],
           [$main::AUTO, '1', 'xsd:boolean']),
 main::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:GetParameterValues>/,
 qr{<cwmp:SetParameterValues>\r\n<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct\[1\]">.*isp-S1}s,
 qr/\A\z/]



=== TEST 25: percent 0 and a window elsewhere in the day match nothing
--- http_config eval
my @t = gmtime(time + 7200);
my @u = gmtime(time + 10800);
"cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts;
cwmp_auth off;
cwmp_policy none { match percent 0; value InternetGatewayDevice.X.A 1; }
cwmp_policy later {
    match window " . sprintf('%02d:%02d-%02d:%02d', $t[2], $t[1], $u[2], $u[1]) . ";
    value InternetGatewayDevice.X.A 1;
}"
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "$main::K:params", 'InternetGatewayDevice.X.A', '0');
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n"]
--- error_code eval
[200, 204]



=== TEST 26: percent 100 and a window around now match
--- http_config eval
my @t = gmtime(time - 3600);
my @u = gmtime(time + 3600);
"cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts;
cwmp_auth off;
cwmp_policy now {
    match percent 100;
    match window " . sprintf('%02d:%02d-%02d:%02d', $t[2], $t[1], $u[2], $u[1]) . ";
    value InternetGatewayDevice.X.A 1;
}"
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n",
 main::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 204]



=== TEST 27: a firmware campaign: the Download, the device in progress
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy fw2 {
        match product_class = HG-100;
        firmware V2.0 http://fw.example.net/v2.bin;
        max_in_progress 10;
        stop_after_failures 1;
    }
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n",
 main::answer('DownloadResponse', '<Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime><CompleteTime>0001-01-01T00:00:00Z</CompleteTime>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:Download>\r\n<CommandKey>policy:fw2</CommandKey>\r\n<FileType>1 Firmware Upgrade Image</FileType>\r\n<URL>http://fw.example.net/v2.bin</URL>}s,
 qr/\A\z/]
--- redis_check
if ($req == 2) {
    is(redis('HGET', 'cwmp:campaign:{fw2}', 'in_progress'), 1, 'one device in progress');
    is(redis('HGET', 'cwmp:campaign:{fw2}:devices', $main::D), 'in_progress', 'this one');
    like(redis('HGET', "$main::K:policy", 'firmware:fw2'), qr/^V2\.0 1 \d+$/, 'one attempt');
}



=== TEST 28: a firmware campaign: a session in between sends nothing
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy fw2 {
        match product_class = HG-100;
        firmware V2.0 http://fw.example.net/v2.bin;
        max_in_progress 10;
        stop_after_failures 1;
    }
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n"]
--- error_code eval
[200, 204]



=== TEST 29: the new version ends it
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy fw2 {
        match product_class = HG-100;
        firmware V2.0 http://fw.example.net/v2.bin;
        max_in_progress 10;
        stop_after_failures 1;
    }
--- pipelined_requests eval
[main::inform(version => 'V2.0', events => ['1 BOOT', '7 TRANSFER COMPLETE']),
 "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is(redis('HGET', 'cwmp:campaign:{fw2}', 'in_progress'), 0, 'none in progress');
    is(redis('HGET', 'cwmp:campaign:{fw2}', 'done'), 1, 'one done');
    is(redis('HGET', 'cwmp:campaign:{fw2}:devices', $main::D), 'done', 'this one');
}



=== TEST 30: a campaign pauses itself on its stop rule
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy fw3 {
        match product_class = HG-100;
        firmware V3.0 http://fw.example.net/v3.bin;
        stop_after_failures 1;
    }
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::fault_answer(9010, 'Download failure')]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    my $c = redis_hash('cwmp:campaign:{fw3}');
    is($c->{failed}, 1, 'one failure');
    like($c->{paused}, qr/^1 failures \(stop_after_failures 1\)$/, 'paused, and why');
    is($c->{paused_by}, $main::D, 'by which device');
}



=== TEST 31: and stays paused: the next device is not started
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy fw3 {
        match product_class = HG-100;
        firmware V3.0 http://fw.example.net/v3.bin;
        stop_after_failures 1;
    }
--- pipelined_requests eval
[main::inform(serial => 'S2'), "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    is(redis('HGET', 'cwmp:campaign:{fw3}:devices', '00AB12-HG%2D100-S2'), undef,
       'the next device is not started');
}



=== TEST 32: a failed transfer (TransferComplete with a fault) counts as a failure
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy fw4 {
        firmware V4.0 http://fw.example.net/v4.bin;
        stop_failure_ratio 0.5 1;
    }
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n",
 main::answer('DownloadResponse', '<Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime><CompleteTime>0001-01-01T00:00:00Z</CompleteTime>')]
--- error_code eval
[200, 200, 204]



=== TEST 33: its TransferComplete reports the fault
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy fw4 {
        firmware V4.0 http://fw.example.net/v4.bin;
        stop_failure_ratio 0.5 1;
    }
--- pipelined_requests eval
[main::inform(events => ['1 BOOT', '7 TRANSFER COMPLETE']),
 main::answer('TransferComplete', '<CommandKey>policy:fw4</CommandKey><FaultStruct><FaultCode>9010</FaultCode><FaultString>bad image</FaultString></FaultStruct><StartTime>2026-11-27T00:00:00Z</StartTime><CompleteTime>2026-11-27T00:01:00Z</CompleteTime>'),
 "POST /cwmp\n"]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    my $c = redis_hash('cwmp:campaign:{fw4}');
    is($c->{failed}, 1, 'the failed transfer counted');
    like($c->{paused}, qr/1 of the last 1 devices failed/, 'the ratio rule paused it');
    my $f = Cwmp::Test::json_decode(redis('HGET', "$main::K:policy", 'fault:fw4'));
    is($f->{count}, 1, 'a fault record with its back-off');
}



=== TEST 34: the shipped TR-098 baseline provisions a fresh device in its first session
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    include $TEST_NGINX_TOP/lua-free-policies/baseline-tr098.conf;
    include $TEST_NGINX_TOP/lua-free-policies/baseline-tr181.conf;
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[main::inform(events => ['0 BOOTSTRAP'],
              params => [['InternetGatewayDevice.ManagementServer.PeriodicInformInterval', '300', 'xsd:unsignedInt']]),
 "POST /cwmp\n",
 main::gpv(['InternetGatewayDevice.DeviceInfo.UpTime', '12', 'xsd:unsignedInt']),
 main::gpv(['InternetGatewayDevice.ManagementServer.PeriodicInformEnable', 'false', 'xsd:boolean']),
 main::answer('SetParameterValuesResponse', '<Status>0</Status>'),
 main::answer('SetParameterValuesResponse', '<Status>0</Status>'),
 main::answer('SetParameterAttributesResponse', '')]
--- error_code eval
[200, 200, 200, 200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:GetParameterValues>.*<string>InternetGatewayDevice.DeviceInfo.UpTime</string>}s,
 qr{<cwmp:GetParameterValues>.*<string>InternetGatewayDevice.ManagementServer.PeriodicInformEnable</string>}s,
 qr{<cwmp:SetParameterValues>.*<Name>InternetGatewayDevice.ManagementServer.ConnectionRequestUsername</Name>\r\n<Value xsi:type="xsd:string">00AB12-HG%2D100-S1</Value>.*<Name>InternetGatewayDevice.ManagementServer.ConnectionRequestPassword</Name>\r\n<Value xsi:type="xsd:string">[0-9a-f]{32}</Value>}s,
 qr{<cwmp:SetParameterValues>.*<Name>InternetGatewayDevice.ManagementServer.PeriodicInformInterval</Name>\r\n<Value xsi:type="xsd:unsignedInt">86400</Value>.*<Name>InternetGatewayDevice.ManagementServer.PeriodicInformEnable</Name>\r\n<Value xsi:type="xsd:boolean">true</Value>}s,
 qr{<cwmp:SetParameterAttributes>.*<Name>InternetGatewayDevice.ManagementServer.ConnectionRequestURL</Name>}s,
 qr/\A\z/]
--- redis_check
if ($req == 6) {
    is(redis('SISMEMBER', "$main::K:tags", 'managed'), 1, 'tagged managed');
    is(redis('HGET', "$main::K:connreq", 'username'), $main::D,
       'connection request credentials kept');
    is(scalar(grep { $_->{status} ne 'done' } @{ main::policy_results() }), 0,
       'every policy task done');
}



=== TEST 35: the TR-098 baseline's second session sends nothing
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    include $TEST_NGINX_TOP/lua-free-policies/baseline-tr098.conf;
    include $TEST_NGINX_TOP/lua-free-policies/baseline-tr181.conf;
--- pipelined_requests eval
[main::inform(params => [['InternetGatewayDevice.ManagementServer.PeriodicInformInterval', '86400', 'xsd:unsignedInt']]),
 "POST /cwmp\n"]
--- error_code eval
[200, 204]



=== TEST 36: the shipped TR-181 baseline provisions a fresh TR-181 device, in its first session
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    include $TEST_NGINX_TOP/lua-free-policies/baseline-tr098.conf;
    include $TEST_NGINX_TOP/lua-free-policies/baseline-tr181.conf;
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
my @p181 = (['Device.DeviceInfo.SoftwareVersion', 'V1.0', 'xsd:string'],
            ['Device.DeviceInfo.HardwareVersion', 'HW1', 'xsd:string'],
            ['Device.ManagementServer.ConnectionRequestURL', 'http://192.0.2.1:7547/cr', 'xsd:string']);
["POST /cwmp\n" . Cwmp::Test::inform(events => ['0 BOOTSTRAP'], params => \@p181),
 "POST /cwmp\n",
 main::gpv(['Device.DeviceInfo.UpTime', '12', 'xsd:unsignedInt']),
 main::gpv(['Device.ManagementServer.PeriodicInformInterval', '3600', 'xsd:unsignedInt'],
           ['Device.ManagementServer.PeriodicInformEnable', '1', 'xsd:boolean']),
 main::answer('SetParameterValuesResponse', '<Status>0</Status>'),
 main::answer('SetParameterValuesResponse', '<Status>0</Status>'),
 main::answer('SetParameterAttributesResponse', '')]
--- error_code eval
[200, 200, 200, 200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:GetParameterValues>.*<string>Device.DeviceInfo.UpTime</string>}s,
 qr{<cwmp:GetParameterValues>.*<string>Device.ManagementServer.PeriodicInformInterval</string>\r\n<string>Device.ManagementServer.PeriodicInformEnable</string>}s,
 qr{<cwmp:SetParameterValues>.*<Name>Device.ManagementServer.ConnectionRequestUsername</Name>.*<Name>Device.ManagementServer.ConnectionRequestPassword</Name>}s,
 qr{<cwmp:SetParameterValues>\r\n<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct\[1\]">.*<Name>Device.ManagementServer.PeriodicInformInterval</Name>\r\n<Value xsi:type="xsd:unsignedInt">86400</Value>}s,
 qr{<cwmp:SetParameterAttributes>.*<Name>Device.ManagementServer.ConnectionRequestURL</Name>}s,
 qr/\A\z/]



=== TEST 37: the TR-181 device's next session sends nothing
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    include $TEST_NGINX_TOP/lua-free-policies/baseline-tr098.conf;
    include $TEST_NGINX_TOP/lua-free-policies/baseline-tr181.conf;
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC'], params => [
     ['Device.DeviceInfo.SoftwareVersion', 'V1.0', 'xsd:string'],
     ['Device.DeviceInfo.HardwareVersion', 'HW1', 'xsd:string'],
     ['Device.ManagementServer.ConnectionRequestURL', 'http://192.0.2.1:7547/cr', 'xsd:string']]),
 "POST /cwmp\n"]
--- error_code eval
[200, 204]



=== TEST 38: instances: counted on a fresh copy, added up to the number, counted again
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy rules { instances InternetGatewayDevice.X.Rule. 2; }
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n",
 main::gpv(['InternetGatewayDevice.X.Rule.1.Name', 'a', 'xsd:string']),
 main::answer('AddObjectResponse', '<InstanceNumber>5</InstanceNumber><Status>0</Status>'),
 main::gpv(['InternetGatewayDevice.X.Rule.1.Name', 'a', 'xsd:string'],
           ['InternetGatewayDevice.X.Rule.5.Name', '', 'xsd:string'])]
--- error_code eval
[200, 200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:GetParameterValues>.*<string>InternetGatewayDevice.X.Rule.</string>}s,
 qr{<cwmp:AddObject>\r\n<ObjectName>InternetGatewayDevice.X.Rule.</ObjectName>}s,
 qr{<cwmp:GetParameterValues>.*<string>InternetGatewayDevice.X.Rule.</string>}s,
 qr/\A\z/]



=== TEST 39: instances: the newest go when there are too many
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy rules { instances InternetGatewayDevice.X.Rule. 1; }
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n",
 main::gpv(['InternetGatewayDevice.X.Rule.1.Name', 'a', 'xsd:string'],
           ['InternetGatewayDevice.X.Rule.7.Name', 'c', 'xsd:string'],
           ['InternetGatewayDevice.X.Rule.5.Name', 'b', 'xsd:string']),
 main::answer('DeleteObjectResponse', '<Status>0</Status>'),
 main::answer('DeleteObjectResponse', '<Status>0</Status>'),
 main::gpv(['InternetGatewayDevice.X.Rule.1.Name', 'a', 'xsd:string'])]
--- error_code eval
[200, 200, 200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:GetParameterValues>/,
 qr{<cwmp:DeleteObject>\r\n<ObjectName>InternetGatewayDevice.X.Rule.7.</ObjectName>}s,
 qr{<cwmp:DeleteObject>\r\n<ObjectName>InternetGatewayDevice.X.Rule.5.</ObjectName>}s,
 qr/<cwmp:GetParameterValues>/, qr/\A\z/]



=== TEST 40: instance with a key: added with its values when no instance has it
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy voip-rule {
        instance InternetGatewayDevice.X.Rule. Name voip Port 5060 Label "$serial_number";
    }
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n",
 main::gpv(['InternetGatewayDevice.X.Rule.1.Name', 'web', 'xsd:string']),
 main::answer('AddObjectResponse', '<InstanceNumber>4</InstanceNumber><Status>0</Status>'),
 main::answer('SetParameterValuesResponse', '<Status>0</Status>'),
 main::gpv(['InternetGatewayDevice.X.Rule.1.Name', 'web', 'xsd:string'],
           ['InternetGatewayDevice.X.Rule.4.Name', 'voip', 'xsd:string'])]
--- error_code eval
[200, 200, 200, 200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/<cwmp:GetParameterValues>/,
 qr{<cwmp:AddObject>\r\n<ObjectName>InternetGatewayDevice.X.Rule.</ObjectName>}s,
 qr{<cwmp:SetParameterValues>.*<Name>InternetGatewayDevice.X.Rule.4.Name</Name>\r\n<Value xsi:type="xsd:string">voip</Value>.*<Name>InternetGatewayDevice.X.Rule.4.Port</Name>\r\n<Value xsi:type="xsd:string">5060</Value>.*<Name>InternetGatewayDevice.X.Rule.4.Label</Name>\r\n<Value xsi:type="xsd:string">S1</Value>}s,
 qr/<cwmp:GetParameterValues>/, qr/\A\z/]
--- redis_check
if ($req == 5) {
    my $r = main::policy_results();
    is_deeply([map { "$_->{task} $_->{name} $_->{status}" } @$r],
              ['policy:voip-rule refreshObject done',
               'policy:voip-rule addObject done',
               'policy:voip-rule setParameterValues done',
               'policy:voip-rule refreshObject done'],
              'all the policy\'s, in order');
}



=== TEST 41: the instance there, the next session sends nothing
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy voip-rule {
        instance InternetGatewayDevice.X.Rule. Name voip Port 5060 Label "$serial_number";
    }
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n"]
--- error_code eval
[200, 204]



=== TEST 42: instance and instances: bad object names are refused
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy p { instances InternetGatewayDevice.X.Rule 2; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid object name "InternetGatewayDevice.X.Rule": a path ending in "\." expected in \S+nginx\.conf:\d+/



=== TEST 43: connreq_credentials: a random password set on the device, kept for connection requests only
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy cr { connreq_credentials; }
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n",
 main::answer('SetParameterValuesResponse', '<Status>0</Status>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<Name>InternetGatewayDevice.ManagementServer.ConnectionRequestUsername</Name>\r\n<Value xsi:type="xsd:string">00AB12-HG%2D100-S1</Value>.*<Name>InternetGatewayDevice.ManagementServer.ConnectionRequestPassword</Name>\r\n<Value xsi:type="xsd:string">[0-9a-f]{32}</Value>}s,
 qr/\A\z/]
--- redis_check
if ($req == 2) {
    my $c = redis_hash("$main::K:connreq");
    is($c->{username}, $main::D, 'the username kept');
    like($c->{password}, qr/^[0-9a-f]{32}$/, 'the password kept');
    is(redis('HEXISTS', "$main::K:params",
             'InternetGatewayDevice.ManagementServer.ConnectionRequestPassword'), 0,
       'not in the parameter cache');
    my $r = main::policy_results();
    unlike(Cwmp::Test::json($r->[-1]{result}), qr/\Q$c->{password}\E/,
           'not in the result');
}



=== TEST 44: connreq_credentials: set once
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_auth off;
    cwmp_policy cr { connreq_credentials; }
--- pipelined_requests eval
[main::inform(), "POST /cwmp\n"]
--- error_code eval
[200, 204]
