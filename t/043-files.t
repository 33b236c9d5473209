# The file store's download side (README, "Files"): a download task that
# names a stored file goes out with a URL to the ACS's own location,
# signed for the device and a time, with the file's size and type; nginx
# serves it (ranges too) to the right signature only.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;
use Digest::SHA ();

no_shuffle();
Cwmp::Test::setup();

our $D = $Cwmp::Test::Device;
our $Files = "$ENV{TEST_NGINX_TOP}/build/test-files";
our $Secret = Cwmp::Test::auth_secret();

our $Http = "cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts;
    cwmp_auth off;
    cwmp_auth_secret_file $ENV{TEST_NGINX_TOP}/t/data/auth-secret;
    cwmp_files_url http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/files/;";

our $Config = "location /cwmp { cwmp; }
    location /files/ { root $Files; cwmp_file_access on; }";

Cwmp::Test::defaults(http_config => $Http, config => $Config,
                     no_error_log => "[error]\n[alert]\n");

# the file, through the operator's tool (tools/cwmp-file)
sub add_file {
    my $args = @Cwmp::Test::Cluster ? "-c -p $Cwmp::Test::Cluster[0]"
                                    : '-p ' . Cwmp::Test::redis_port();
    mkdir "$ENV{TEST_NGINX_TOP}/build";
    system("printf 'hello world' > $Files.src") == 0 or die;
    my $out = `CWMP_FILES=$Files/files REDISCLI_ARGS='$args' \\
               $ENV{TEST_NGINX_TOP}/tools/cwmp-file add $Files.src fw.bin \\
               --type '1 Firmware Upgrade Image' --version 4.3`;
    die "cwmp-file add: $out" unless $out =~ /^fw\.bin 11 [0-9a-f]{64}$/;
}

# the URL the ACS signs: path, device, expires
sub signed {
    my ($path, $device, $expires) = @_;
    my $s = substr(Digest::SHA::hmac_sha1_hex(
                       "file\n$path\n$device\n$expires", $Secret), 0, 32);
    (my $d = $device) =~ s/%/%25/g;
    return "$path?d=$d&e=$expires&s=$s";
}

our $Later = time + 3600;
our $Url = signed('/files/fw.bin', $D, $Later);

run_tests();

__DATA__

=== TEST 1: a download by stored file: the ACS's signed URL, its size and type
--- init
Cwmp::Test::redis_flush();
main::add_file();
Cwmp::Test::push_tasks($main::D, {id => 'fw1', name => 'download',
                                  file => 'fw.bin'});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('DownloadResponse',
     '<Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime>'
     . '<CompleteTime>0001-01-01T00:00:00Z</CompleteTime>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:Download>\r\n<CommandKey>fw1</CommandKey>\r\n<FileType>1 Firmware Upgrade Image</FileType>\r\n<URL>http://127\.0\.0\.1:\d+/files/fw\.bin\?d=00AB12-HG%252D100-S1&amp;e=\d+&amp;s=[0-9a-f]{32}</URL>.*<FileSize>11</FileSize>}s,
 qr/\A\z/]
--- redis_check
if ($req == 1) {
    my ($e, $s) = $body =~ /e=(\d+)&amp;s=([0-9a-f]{32})/;
    ok($e > time + 3000, 'the URL lives a day by default');
    is(main::signed('/files/fw.bin', $main::D, $e), "/files/fw.bin?d="
       . '00AB12-HG%252D100-S1' . "&e=$e&s=$s", 'signed for the device');
    # the CPE fetches what the RPC names, as it would
    my ($status, undef, $got) = transfer('GET', rpc_url($body));
    Test::More::is($status, 200, 'the fake CPE fetched the URL of the RPC');
    Test::More::is($got, 'hello world', '... the stored file');
}



=== TEST 1b: its TransferComplete: the firmware task done
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['7 TRANSFER COMPLETE', ['M Download', 'fw1']]),
 "POST /cwmp\n" . Cwmp::Test::answer('TransferComplete', '<CommandKey>fw1</CommandKey>'
     . '<FaultStruct><FaultCode>0</FaultCode><FaultString></FaultString></FaultStruct>'
     . '<StartTime>2026-12-01T00:00:00Z</StartTime><CompleteTime>2026-12-01T00:00:09Z</CompleteTime>'),
 "POST /cwmp\n"]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    my $r = last_result();
    is($r->{task}, 'fw1', 'the download');
    is($r->{status}, 'done', 'done');
}



=== TEST 2: the signed URL serves the file
--- request eval
"GET $main::Url"
--- error_code: 200
--- response_body: hello world
--- error_log
fetched by device "00AB12-HG%2D100-S1"



=== TEST 3: ... a range of it (a resumed download)
--- request eval
"GET $main::Url"
--- more_headers
Range: bytes=0-3
--- error_code: 206
--- response_body: hell



=== TEST 4: another device's ID with that signature: 403
--- request eval
"GET " . do { (my $u = $main::Url) =~ s/S1&/S2&/; $u }
--- error_code: 403
--- error_log
the signature does not verify



=== TEST 5: a signature past its time: 403
--- request eval
"GET " . main::signed('/files/fw.bin', $main::D, time - 10)
--- error_code: 403
--- error_log
the URL expired



=== TEST 6: no signature, or a name outside the store's form: 403
--- request eval
["GET /files/fw.bin", "GET /files/.add.x?d=a&e=1&s=" . ('0' x 32)]
--- error_code eval
[403, 403]



=== TEST 7: a file not in the store, a bad name, no store: a fault each
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'nofile', name => 'download', file => 'missing.bin'},
    {id => 'badname', name => 'download', file => '../etc/passwd'},
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
    is($r[0]{task}, 'nofile', 'a file not in the store');
    like($r[0]{result}{detail}, qr/no such "file" in the store/, '... says so');
    is($r[1]{task}, 'badname', 'a name outside the form');
    like($r[1]{result}{detail}, qr/1 to 128 of A-Z a-z 0-9/, '... says so');
    is($r[2]{status}, 'done', 'the queue went on');
}



=== TEST 8: no file store configured: the task says so
--- http_config eval
"cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts; cwmp_auth off;"
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D,
    {id => 'nostore', name => 'download', file => 'fw.bin'});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    like(last_result()->{result}{detail}, qr/no file store here/,
         'no cwmp_files_url');
}



=== TEST 9: cwmp_files_url must be a URL ending in "/"
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
    cwmp_files_url http://acs.example.net/files;
--- request
GET /cwmp
--- must_die
--- error_log
invalid "cwmp_files_url"



=== TEST 10: a firmware policy naming a stored file: the store's signed URL
--- http_config eval
"$main::Http
    cwmp_policy fw-store {
        match product_class = HG-100;
        firmware V4.3 file:fw.bin;
    }"
--- init
Cwmp::Test::redis_flush();
main::add_file();
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:Download>\r\n<CommandKey>policy:fw-store</CommandKey>\r\n<FileType>1 Firmware Upgrade Image</FileType>\r\n<URL>http://127\.0\.0\.1:\d+/files/fw\.bin\?d=00AB12-HG%252D100-S1&amp;e=\d+&amp;s=[0-9a-f]{32}</URL>.*<FileSize>11</FileSize>}s]



=== TEST 11: a firmware policy with a stored file's name of the wrong form
--- http_config eval
"$main::Http
    cwmp_policy fw-bad {
        firmware V4.3 file:../x;
    }"
--- request
GET /cwmp
--- must_die
--- error_log
invalid firmware URL "file:../x"
