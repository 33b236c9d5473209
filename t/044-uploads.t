# The upload receiver (README, "Uploads, backups and logs"): an upload task
# with no URL, backupConfig and uploadLog go out with a URL to the ACS's
# own location, signed for the device, the task, the kind and a size cap;
# the fake CPE here really uploads there, then reports TransferComplete;
# restoreConfig sends a backup back (onto another device too), fetched
# through the file store's signed URL.  And every hostile upload.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;
use Digest::SHA ();

no_shuffle();
Cwmp::Test::setup();

our $D = $Cwmp::Test::Device;
(our $D2 = $D) =~ s/S1$/S2/;
our $Files = "$ENV{TEST_NGINX_TOP}/build/test-uploads";
our $Store = "$Files/files";
our $Secret = Cwmp::Test::auth_secret();
our $Port = $ENV{TEST_NGINX_SERVER_PORT};

system("rm -rf $Files && mkdir -p $Store $Files/tmp") == 0 or die;
{
    open my $out, '>', "$Files/htpasswd" or die $!;
    print $out "cpe:{PLAIN}up-secret\n";
    open $out, '>', "$Files/password" or die $!;
    print $out "up-secret\n";
}

our $Http = "cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts;
    cwmp_auth off;
    cwmp_auth_secret_file $ENV{TEST_NGINX_TOP}/t/data/auth-secret;
    cwmp_files_url http://127.0.0.1:$Port/files/;
    cwmp_uploads_url http://127.0.0.1:$Port/uploads/;
    cwmp_uploads_max_size 1000;
    cwmp_uploads_kept 2;";

our $Config = "location /cwmp { cwmp; }
    location /files/ { root $Files; cwmp_file_access on; }
    location /uploads/ {
        cwmp_upload_receiver $Store;
        client_body_temp_path $Files/tmp;
        client_body_timeout 1s;
    }";

Cwmp::Test::defaults(http_config => $Http, config => $Config,
                     no_error_log => "[error]\n[alert]\n");

# an upload URL as the ACS signs it: path, device, expires, task, kind, cap
sub signed {
    my ($path, $device, $expires, $task, $kind, $cap) = @_;
    my $s = substr(Digest::SHA::hmac_sha1_hex(
        "upload\n$path\n$device\n$expires\n$task\n$kind\n$cap", $Secret),
        0, 32);
    (my $d = $device) =~ s/%/%25/g;
    return "$path?d=$d&e=$expires&t=$task&k=$kind&c=$cap&s=$s";
}

# the files in the store's directory and its temporary one
sub stored { my @f = map { s{.*/}{}r } glob("$Store/*"); \@f }
# (nginx deletes a refused body's temporary file when it has done with the
# request, which may be a moment after its answer: lingering close)
sub leftovers {
    my @f;
    for (1 .. 40) {
        @f = glob("$Files/tmp/*");
        last unless @f;
        select(undef, undef, undef, 0.05);
    }
    scalar @f;
}

sub transfer_complete {
    my ($key) = @_;
    Cwmp::Test::answer('TransferComplete', "<CommandKey>$key</CommandKey>"
        . '<FaultStruct><FaultCode>0</FaultCode><FaultString></FaultString>'
        . '</FaultStruct><StartTime>2026-12-01T00:00:00Z</StartTime>'
        . '<CompleteTime>2026-12-01T00:00:01Z</CompleteTime>');
}

our $Config1 = "<config>\n  <wifi ssid=\"home\"/>\n</config>\n";
our $Later = time + 3600;
our ($BackupUrl, $BackupName, @Backups);

run_tests();

__DATA__

=== TEST 1: backupConfig: an Upload of "1 Vendor Configuration File" to the ACS's receiver
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'bk1', name => 'backupConfig'});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('UploadResponse',
     '<Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime>'
     . '<CompleteTime>0001-01-01T00:00:00Z</CompleteTime>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:Upload>\r\n<CommandKey>bk1</CommandKey>\r\n<FileType>1 Vendor Configuration File</FileType>\r\n<URL>http://127\.0\.0\.1:\d+/uploads/backup-\d+-[0-9a-f]{12}\.cfg\?d=00AB12-HG%252D100-S1&amp;e=\d+&amp;t=bk1&amp;k=backup&amp;c=1000&amp;s=[0-9a-f]{32}</URL>}s,
 qr/\A\z/]
--- redis_check
if ($req == 1) {
    $main::BackupUrl = rpc_url($body);
    ($main::BackupName) = $main::BackupUrl =~ m{/uploads/([^?]+)};
    # the CPE uploads after its session, with a PUT
    mark_log();
    my ($status) = transfer('PUT', $main::BackupUrl, $main::Config1);
    error_log_like(qr/stored: 41 bytes/, 'the upload logged');
    Test::More::is($status, 200, 'the receiver stored the upload');
    Test::More::is_deeply(main::stored(), [$main::BackupName], 'under its name');
    Test::More::is(main::leftovers(), 0, 'no temporary file left');
    my $f = json_decode(redis('HGET', "cwmp:device:{$main::D}:uploads", 'bk1'));
    is($f->{size}, length $main::Config1, 'its size');
    is($f->{sha256}, Digest::SHA::sha256_hex($main::Config1), 'its SHA-256');
    is($f->{kind}, 'backup', 'a backup');
    is($f->{fileType}, '1 Vendor Configuration File', 'its file type');
    is($f->{path}, "$main::Store/$main::BackupName", 'where it is');
    ok($f->{host} ne '', 'on which host');
}



=== TEST 2: the same URL again: 409, the first file kept
--- request
GET /cwmp
--- error_code: 405
--- redis_check
mark_log();
my ($status) = transfer('PUT', $main::BackupUrl, 'something else');
Test::More::is($status, 409, 'a URL uploads once');
open my $in, '<', "$main::Store/$main::BackupName" or die $!;
local $/;
Test::More::is(<$in>, $main::Config1, 'the first upload is what is kept');
Test::More::is(main::leftovers(), 0, 'no temporary file left');
error_log_like(qr/was received already: refused/, 'logged');



=== TEST 3: TransferComplete: the task is done, its result says where the file is
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['7 TRANSFER COMPLETE', ['M Upload', 'bk1']]),
 "POST /cwmp\n" . main::transfer_complete('bk1'),
 "POST /cwmp\n"]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    my $r = last_result();
    is($r->{task}, 'bk1', 'the backup task');
    is($r->{status}, 'done', 'done');
    is($r->{result}{file}{name}, $main::BackupName, 'the file it stored');
    is($r->{result}{file}{sha256}, Digest::SHA::sha256_hex($main::Config1),
       'with its SHA-256');
    is(redis('HLEN', "cwmp:device:{$main::D}:uploads"), 0,
       'the upload record went into the result');
    is_deeply(redis('ZRANGE', "cwmp:device:{$main::D}:backups", 0, -1),
              [$main::BackupName], 'the device\'s backups, one command');
    push @main::Backups, $main::BackupName;
}



=== TEST 4: restoreConfig onto another device ("from"): a Download of "3 Vendor Configuration File", fetched
--- init
Cwmp::Test::push_tasks($main::D2, {id => 'rs1', name => 'restoreConfig',
                                   from => $main::D});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(serial => 'S2'), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('DownloadResponse',
     '<Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime>'
     . '<CompleteTime>0001-01-01T00:00:00Z</CompleteTime>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:Download>\r\n<CommandKey>rs1</CommandKey>\r\n<FileType>3 Vendor Configuration File</FileType>\r\n<URL>http://127\.0\.0\.1:\d+/files/backup-\d+-[0-9a-f]{12}\.cfg\?d=00AB12-HG%252D100-S2&amp;e=\d+&amp;s=[0-9a-f]{32}</URL>.*<FileSize>41</FileSize>}s,
 qr/\A\z/]
--- redis_check
if ($req == 1) {
    mark_log();
    my ($status, undef, $got) = transfer('GET', rpc_url($body));
    Test::More::is($status, 200, 'the new device fetches the backup');
    Test::More::is($got, $main::Config1, 'the configuration of the old one');
    error_log_like(qr/fetched by device "00AB12-HG%2D100-S2"/, 'the fetch logged');
}



=== TEST 5: ... its TransferComplete: done
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(serial => 'S2', events => ['7 TRANSFER COMPLETE', ['M Download', 'rs1']]),
 "POST /cwmp\n" . main::transfer_complete('rs1'),
 "POST /cwmp\n"]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    my $r = last_result();
    is($r->{task}, 'rs1', 'the restore');
    is($r->{status}, 'done', 'done');
}



=== TEST 6: two more backups (a POST, a chunked PUT): the newest two kept, the oldest deleted
--- init
Cwmp::Test::push_tasks($main::D, {id => 'bk2', name => 'backupConfig'},
                       {id => 'bk3', name => 'backupConfig'});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('UploadResponse',
     '<Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime>'
     . '<CompleteTime>0001-01-01T00:00:00Z</CompleteTime>'),
 "POST /cwmp\n" . Cwmp::Test::answer('UploadResponse',
     '<Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime>'
     . '<CompleteTime>0001-01-01T00:00:00Z</CompleteTime>')]
--- error_code eval
[200, 200, 200, 204]
--- redis_check
if ($req == 1 || $req == 2) {
    mark_log() if $req == 1;
    my $url = rpc_url($body);
    my ($name) = $url =~ m{/uploads/([^?]+)};
    my ($status) = $req == 1 ? transfer('POST', $url, "second\n")
                             : transfer('PUT', $url, "third config\n", chunked => 1);
    Test::More::is($status, 200, "backup $req stored");
    push @main::Backups, $name;
}
if ($req == 3) {
    is_deeply(redis('ZRANGE', "cwmp:device:{$main::D}:backups", 0, -1),
              [@main::Backups[1, 2]], 'the newest two');
    Test::More::is_deeply([sort @{ main::stored() }], [sort @main::Backups[1, 2]],
                          'the oldest file deleted');
    my $f = json_decode(redis('HGET', "cwmp:device:{$main::D}:files", $main::Backups[2]));
    is($f->{size}, 13, 'the chunked one counted');
    error_log_like(qr/no longer kept/, 'the oldest dropped, logged');
}



=== TEST 7: restoreConfig with no "backup": the device's newest
--- init
Cwmp::Test::push_tasks($main::D, {id => 'rs2', name => 'restoreConfig'});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/InformResponse/, qr{<FileType>3 Vendor Configuration File</FileType>.*<FileSize>13</FileSize>}s]
--- redis_check
if ($req == 1) {
    my ($status, undef, $got) = transfer('GET', rpc_url($body));
    Test::More::is($got, "third config\n", 'the newest backup');
}



=== TEST 8: uploadLog: a "2 Vendor Log File", uploaded before its answer (Status 0), readable with one command
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::push_tasks($main::D, {id => 'log1', name => 'uploadLog'});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/InformResponse/,
 qr{<FileType>2 Vendor Log File</FileType>\r\n<URL>http://127\.0\.0\.1:\d+/uploads/log-\d+-[0-9a-f]{12}\.log\?}s]
--- redis_check
if ($req == 1) {
    # the CPE uploads, then answers Status 0 on its session's cookie
    my ($status) = transfer('PUT', rpc_url($body), "Dec  1 boot ok\nDec  1 wan up\n");
    Test::More::is($status, 200, 'the log stored');
    my $token = redis('HGET', "cwmp:device:{$main::D}:session", 'token');
    ($status) = transfer('POST', "http://127.0.0.1:$main::Port/cwmp",
        answer('UploadResponse', '<Status>0</Status><StartTime>2026-12-01T00:00:00Z</StartTime>'
               . '<CompleteTime>2026-12-01T00:00:01Z</CompleteTime>'),
        headers => ["Cookie: cwmp_session=$token.$main::D"]);
    Test::More::is($status, 204, 'the session ends');
    my $r = last_result();
    is($r->{task}, 'log1', 'the log task');
    is($r->{status}, 'done', 'done at its answer');
    like($r->{result}{file}{name}, qr/^log-/, 'with its file');
    my $args = @Cwmp::Test::Cluster ? "-c -p $Cwmp::Test::Cluster[0]"
                                    : '-p ' . Cwmp::Test::redis_port();
    my $out = `CWMP_FILES=$main::Store REDISCLI_ARGS='$args' $ENV{TEST_NGINX_TOP}/tools/cwmp-file log '$main::D'`;
    Test::More::is($out, "Dec  1 boot ok\nDec  1 wan up\n", 'cwmp-file log <device>');
}



=== TEST 9: a plain upload with no URL; the CPE reports it done but never uploaded: a fault
--- init
Cwmp::Test::push_tasks($main::D, {id => 'up1', name => 'upload', fileType => '4 Vendor Log File'});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('UploadResponse',
     '<Status>0</Status><StartTime>2026-12-01T00:00:00Z</StartTime>'
     . '<CompleteTime>2026-12-01T00:00:01Z</CompleteTime>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<FileType>4 Vendor Log File</FileType>\r\n<URL>http://127\.0\.0\.1:\d+/uploads/upload-\d+-[0-9a-f]{12}\.bin\?}s,
 qr/\A\z/]
--- redis_check
if ($req == 2) {
    my $r = last_result();
    is($r->{task}, 'up1', 'the upload');
    is($r->{status}, 'fault', 'a fault');
    is($r->{result}{error}, 'no file', 'no file received');
}



=== TEST 10: another device's ID with the URL's signature: 403
--- request eval
"PUT " . (main::signed('/uploads/backup-1-aaaaaaaaaaaa.cfg', $main::D, $main::Later, 'x1', 'backup', 1000) =~ s/S1&/S2&/r) . "\nabc"
--- error_code: 403
--- error_log
the signature does not verify



=== TEST 11: another task's, another cap: 403
--- request eval
"PUT " . (main::signed('/uploads/backup-1-aaaaaaaaaaaa.cfg', $main::D, $main::Later, 'x1', 'backup', 1000) =~ s/c=1000/c=100000/r) . "\nabc"
--- error_code: 403
--- error_log
the signature does not verify



=== TEST 12: past its time: 403
--- request eval
"PUT " . main::signed('/uploads/backup-1-aaaaaaaaaaaa.cfg', $main::D, time - 5, 'x1', 'backup', 1000) . "\nabc"
--- error_code: 403
--- error_log
the URL expired



=== TEST 13: a path traversal (nginx: 400), a hidden name, no signature: 403, nothing written
--- request eval
["PUT /uploads/..%2f..%2fetc%2fpasswd?d=a&e=1&s=" . ('0' x 32) . "\nabc",
 "PUT /uploads/.htaccess?d=a&e=1&s=" . ('0' x 32) . "\nabc",
 "PUT /uploads/x.cfg\nabc"]
--- error_code eval
[400, 403, 403]
--- redis_check
Test::More::is(scalar(grep { /passwd|htaccess|x\.cfg/ } @{ main::stored() }), 0, 'nothing stored');
Test::More::ok(!-e "$main::Files/etc/passwd", 'nothing outside');



=== TEST 14: over the cap by Content-Length: 413 before the body is read
--- request eval
"PUT " . main::signed('/uploads/backup-2-aaaaaaaaaaaa.cfg', $main::D, $main::Later, 'x2', 'backup', 1000) . "\n" . ('x' x 1001)
--- error_code: 413
--- redis_check
Test::More::ok(!-e "$main::Store/backup-2-aaaaaaaaaaaa.cfg", 'nothing stored');
--- error_log
over its cap of 1000



=== TEST 15: over the cap in chunks: 413, no partial file, no temporary file
--- request
GET /cwmp
--- error_code: 405
--- redis_check
mark_log();
my ($status) = transfer('PUT',
    "http://127.0.0.1:$main::Port" . main::signed('/uploads/backup-3-aaaaaaaaaaaa.cfg', $main::D, $main::Later, 'x3', 'backup', 1000),
    'y' x 1500, chunked => 1);
Test::More::is($status, 413, 'refused when the count passed the cap');
Test::More::ok(!-e "$main::Store/backup-3-aaaaaaaaaaaa.cfg", 'nothing stored');
Test::More::is(main::leftovers(), 0, 'no temporary file left');
is(redis('HEXISTS', "cwmp:device:{$main::D}:uploads", 'x3'), 0, 'nothing recorded');
error_log_like(qr/over its cap of 1000 bytes/, 'logged');



=== TEST 16: a slow upload: client_body_timeout, no partial file left
--- request
GET /cwmp
--- error_code: 405
--- redis_check
mark_log();
my ($status) = transfer('PUT',
    "http://127.0.0.1:$main::Port" . main::signed('/uploads/backup-4-aaaaaaaaaaaa.cfg', $main::D, $main::Later, 'x4', 'backup', 1000),
    'z' x 800, stall => 1.6);
Test::More::like($status, qr/^(408|0)$/, 'timed out (408, or the connection closed)');
Test::More::ok(!-e "$main::Store/backup-4-aaaaaaaaaaaa.cfg", 'nothing stored');
Test::More::is(main::leftovers(), 0, 'no temporary file left');
error_log_like(qr/backup-4-aaaaaaaaaaaa.cfg" of device "00AB12-HG%2D100-S1" not completed \(400 bytes received\): nothing kept/, 'logged');



=== TEST 17: GET of the receiver: 405
--- request eval
"GET " . main::signed('/uploads/backup-5-aaaaaaaaaaaa.cfg', $main::D, $main::Later, 'x5', 'backup', 1000)
--- error_code: 405



=== TEST 17b: an empty upload: 400
--- request eval
"PUT " . main::signed('/uploads/backup-5-aaaaaaaaaaaa.cfg', $main::D, $main::Later, 'x5', 'backup', 1000) . "\n"
--- error_code: 400
--- error_log
is empty



=== TEST 18: a second file for a task that has one (its URL signed again): 409, removed
--- request eval
"PUT " . main::signed('/uploads/backup-6-aaaaaaaaaaaa.cfg', $main::D, $main::Later, 'x6', '', 1000) . "\nfirst"
--- error_code: 200
--- redis_check
my ($status) = transfer('PUT', "http://127.0.0.1:$main::Port"
    . main::signed('/uploads/backup-7-aaaaaaaaaaaa.cfg', $main::D, $main::Later, 'x6', '', 1000), "second");
Test::More::is($status, 409, 'a second name for the task is refused');
Test::More::ok(!-e "$main::Store/backup-7-aaaaaaaaaaaa.cfg", 'and not left behind');
Test::More::ok(-e "$main::Store/backup-6-aaaaaaaaaaaa.cfg", 'the first stays');



=== TEST 19: a receiver location that asks for credentials: the Upload RPC carries them
--- http_config eval
"$main::Http
    cwmp_uploads_credentials cpe $main::Files/password;"
--- config eval
"location /cwmp { cwmp; }
    location /uploads/ {
        cwmp_upload_receiver $main::Store;
        client_body_temp_path $main::Files/tmp;
        auth_basic acs;
        auth_basic_user_file $main::Files/htpasswd;
    }"
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'bk9', name => 'backupConfig'});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/InformResponse/,
 qr{</URL>\r\n<Username>cpe</Username>\r\n<Password>up-secret</Password>}s]
--- redis_check
if ($req == 1) {
    my $url = rpc_url($body);
    my ($status) = transfer('PUT', $url, "cfg");
    Test::More::is($status, 401, 'without them: 401');
    ($status) = transfer('PUT', $url, "cfg",
        headers => ['Authorization: Basic ' . MIME::Base64::encode_base64('cpe:up-secret', '')]);
    Test::More::is($status, 200, 'with them: stored');
}



=== TEST 20: no receiver configured: the task is a clear fault
--- http_config eval
"cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts; cwmp_auth off;"
--- config
    location /cwmp { cwmp; }
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::push_tasks($main::D, {id => 'bk10', name => 'backupConfig'},
                       {id => 'rs10', name => 'restoreConfig'});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n"]
--- error_code eval
[200, 204]
--- redis_check
if ($req == 1) {
    my %r = map { $_->{task} => $_ } @{ results() };
    is($r{bk10}{status}, 'fault', 'the backup');
    is($r{bk10}{result}{detail}, 'no upload receiver here (cwmp_uploads_url)', 'says why');
    is($r{rs10}{result}{detail}, 'no file store here (cwmp_files_url)', 'the restore too');
}



=== TEST 21: a policy's "backup <max-age>": a device with no backup gets a backupConfig
--- http_config eval
"$main::Http
    cwmp_policy weekly-backup {
        match product_class = HG-100;
        backup 7d;
    }"
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('UploadResponse',
     '<Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime>'
     . '<CompleteTime>0001-01-01T00:00:00Z</CompleteTime>')]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<cwmp:Upload>\r\n<CommandKey>policy:weekly-backup</CommandKey>\r\n<FileType>1 Vendor Configuration File</FileType>\r\n<URL>http://127\.0\.0\.1:\d+/uploads/backup-}s,
 qr/\A\z/]
--- redis_check
if ($req == 1) {
    my ($status) = transfer('PUT', rpc_url($body), "policy backup\n");
    Test::More::is($status, 200, 'uploaded');
}



=== TEST 22: ... its TransferComplete: done
--- http_config eval
"$main::Http
    cwmp_policy weekly-backup {
        match product_class = HG-100;
        backup 7d;
    }"
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['7 TRANSFER COMPLETE', ['M Upload', 'policy:weekly-backup']]),
 "POST /cwmp\n" . main::transfer_complete('policy:weekly-backup'),
 "POST /cwmp\n"]
--- error_code eval
[200, 200, 204]
--- redis_check
if ($req == 2) {
    my $r = last_result();
    is($r->{task}, 'policy:weekly-backup', 'the policy\'s backup');
    is($r->{status}, 'done', 'done');
    like($r->{result}{file}{name}, qr/^backup-/, 'with its file');
    like(redis('HGET', "cwmp:device:{$main::D}:policy", 'backup:weekly-backup'),
         qr/^\d+$/, 'the policy remembers when');
    is(redis('ZCARD', "cwmp:device:{$main::D}:backups"), 1, 'one backup');
}



=== TEST 23: ... and no other backup within the age
--- http_config eval
"$main::Http
    cwmp_policy weekly-backup {
        match product_class = HG-100;
        backup 7d;
    }"
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(events => ['2 PERIODIC']), "POST /cwmp\n"]
--- error_code eval
[200, 204]
