# CPE authentication: Digest (MD5, SHA-256, qop=auth, stateless nonces
# bound to the client address, nc checked in Redis), Basic over TLS only,
# client certificates; the identity must be the Inform's device; failures
# rate-limited.  The test ACS's nonce key is t/data/auth-secret, so that a
# block can compute valid credentials ahead (no repeat_each: a nonce count
# is good once).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();

# before any nginx starts: its workers connect at once
Cwmp::Test::acl_user_from_readme();

our $Http = "cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts;
    cwmp_auth_secret_file $ENV{TEST_NGINX_TOP}/t/data/auth-secret;
    cwmp_auth_nonce_timeout 1h;";

our $Dev = 'cwmp:device:{00AB12-HG%2D100-S1}';

# The test ACS over TLS, reached through nginx's own proxy (Test::Nginx
# speaks plain HTTP): tls_acs(<cwmp_auth>, <client certificates checked>)
# is the http{} text of the TLS server, behind an upstream with keep-alive
# (a session can follow the connection); tls_proxy(<client certificate
# name, or none>) the front location.

our $Tls = "$ENV{TEST_NGINX_TOP}/t/data/tls";

sub tls_acs {
    my ($auth, $verify) = @_;
    my $ca = $verify ? "ssl_client_certificate $Tls/ca.pem;
    ssl_verify_client optional;" : '';
    return "$Http
server {
    listen 127.0.0.1:$ENV{TEST_NGINX_TLS_PORT} ssl;
    ssl_certificate $Tls/server.pem;
    ssl_certificate_key $Tls/server.key;
    $ca
    location /cwmp { cwmp; cwmp_auth $auth; }
}
upstream tls_acs {
    server 127.0.0.1:$ENV{TEST_NGINX_TLS_PORT};
    keepalive 2;
}";
}

sub tls_proxy {
    my ($cert) = @_;
    my $client = $cert ? "proxy_ssl_certificate $Tls/client-$cert.pem;
    proxy_ssl_certificate_key $Tls/client-$cert.key;" : '';
    return "location /cwmp {
    proxy_pass https://tls_acs;
    proxy_http_version 1.1;
    proxy_set_header Connection '';
    proxy_ssl_trusted_certificate $Tls/ca.pem;
    proxy_ssl_verify on;
    proxy_ssl_name 127.0.0.1;
    $client
}";
}

Cwmp::Test::defaults(auth => 1, http_config => $Http,
                     config => "location /cwmp { cwmp; }",
                     init => "Cwmp::Test::end_sessions();"
                             . " Cwmp::Test::redis('HSET', '$Dev:auth',"
                             . " 'password', 'cwmp-test-pw');",
                     no_error_log => "[error]\n[alert]\n");

run_tests();

__DATA__

=== TEST 1: no credentials: 401 with Digest challenges, before the body is read
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Digest realm="cwmp", qop="auth", algorithm=MD5, nonce="[0-9a-f]{52}".*
--- response_body
cwmp: no credentials
--- error_log
cwmp: authentication refused (401): no credentials
--- redis_check
Cwmp::Test::is(redis('EXISTS', $main::Dev), 0, 'nothing stored');



=== TEST 2: an empty POST outside a session is challenged too (HTTP clients probe with one)
--- request
POST /cwmp
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Digest realm="cwmp", qop="auth", algorithm=MD5, .*



=== TEST 3: Digest MD5 with the device's password: the session runs
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n"]
--- more_headers eval
Cwmp::Test::digest()
--- error_code eval
[200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/^$/]
--- redis_check
Cwmp::Test::is(redis('HGET', $main::Dev, 'serial_number'), 'S1', 'stored')
    if $req == 0;



=== TEST 4: Digest SHA-256
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(algorithm => 'SHA-256')
--- error_code: 200
--- response_body_like: InformResponse



=== TEST 5: a provisioning system stored only the HA1
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('DEL', "$main::Dev:auth");
Cwmp::Test::redis('HSET', "$main::Dev:auth", 'ha1_md5',
    Digest::MD5::md5_hex('00AB12-HG%2D100-S1:cwmp:secret-from-oss'));
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(password => 'secret-from-oss')
--- error_code: 200
--- response_body_like: InformResponse



=== TEST 6: a wrong password: 401, counted, no secret in the log
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(password => 'guess')
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Digest realm="cwmp", qop="auth", algorithm=MD5, nonce="[0-9a-f]{52}".*
--- error_log
cwmp: authentication refused (401): wrong credentials
--- redis_check
Cwmp::Test::is(redis('GET', "$main::Dev:authfail"), 1, 'failure counted');
Cwmp::Test::ok(redis('PTTL', "$main::Dev:authfail") > 0, 'it expires');
Cwmp::Test::is(redis('GET', 'cwmp:authfail:{127.0.0.1}'), 1,
               'and for the address');
Cwmp::Test::is(redis('EXISTS', "$main::Dev:session"), 0, 'no session');



=== TEST 7: no credential in Redis, no bootstrap: 403
--- init
Cwmp::Test::redis_flush();
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(password => 'cwmp-demo')
--- error_code: 403
--- response_body
cwmp: no credentials for the device in Redis and no cwmp_auth_bootstrap
--- error_log
cwmp: authentication refused (403)



=== TEST 8: the bootstrap secret lets a device without credentials in
--- init
Cwmp::Test::redis_flush();
--- config
    location /cwmp { cwmp; cwmp_auth_bootstrap cwmp-demo; }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(password => 'cwmp-demo')
--- error_code: 200
--- response_body_like: InformResponse



=== TEST 9: ... and not a device that has its own password
--- config
    location /cwmp { cwmp; cwmp_auth_bootstrap cwmp-demo; }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(password => 'cwmp-demo')
--- error_code: 401
--- error_log
wrong credentials



=== TEST 10: another device's valid credentials for this device's Inform: 403
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('DEL', "$main::Dev:session");
Cwmp::Test::redis('HSET', 'cwmp:device:{00AB12-HG%2D100-S2}:auth',
                  'password', 'pw-of-s2');
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(user => '00AB12-HG%2D100-S2', password => 'pw-of-s2')
--- error_code: 403
--- response_body
cwmp: credentials of another device
--- error_log
cwmp: credentials of "00AB12-HG%2D100-S2" used for an Inform of another device
--- redis_check
Cwmp::Test::is(redis('EXISTS', "$main::Dev:session"), 0, 'no session');



=== TEST 11: TR-069's OUI-ProductClass-SerialNumber as the username
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('HSET', "$main::Dev:auth", 'password', 'cwmp-test-pw');
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(user => '00AB12-HG-100-S1')
--- error_code: 200
--- response_body_like: InformResponse



=== TEST 12: cwmp_auth_username serial
--- config
    location /cwmp { cwmp; cwmp_auth_username serial; }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(user => 'S1')
--- error_code: 200
--- response_body_like: InformResponse



=== TEST 13: a forged nonce: 401 stale
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(nonce => '01900000000000000000123456789abcdef0123456789abcdef')
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Digest .*, stale=true.*
--- error_log
nonce not issued to this address



=== TEST 14: an expired nonce: 401 stale
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(nonce => Cwmp::Test::nonce(ms => int(time() * 1000) - 7200_000))
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Digest .*, stale=true.*
--- error_log
nonce expired



=== TEST 15: a nonce issued to another address: 401 stale
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(nonce => Cwmp::Test::nonce(addr => '192.0.2.7'))
--- error_code: 401
--- error_log
nonce not issued to this address



=== TEST 16: the same credentials replayed on a new connection: 401 stale
--- request eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n" . Cwmp::Test::inform()]
--- more_headers eval
Cwmp::Test::digest()
--- error_code eval
[200, 401]
--- response_body_like eval
[qr/InformResponse/, qr/^cwmp: nonce count or nonce replayed$/]



=== TEST 17: a connection authenticates once: its next Inform needs no check
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n" . Cwmp::Test::inform()]
--- more_headers eval
Cwmp::Test::digest()
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/InformResponse/, qr/InformResponse/]



=== TEST 18: failures counted per device, each with its own nonce count
--- http_config eval
"$main::Http cwmp_auth_failures 2 100 1m;"
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('DEL', "$main::Dev:authfail", 'cwmp:authfail:{127.0.0.1}');
--- request eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n" . Cwmp::Test::inform()]
--- more_headers eval
[map { Cwmp::Test::digest(password => 'guess', nc => "0000000$_") } 1 .. 2]
--- error_code eval
[401, 401]
--- redis_check
Cwmp::Test::is(redis('GET', "$main::Dev:authfail"), $req + 1, 'counted');



=== TEST 19: ... then the device is limited: 429 with Retry-After
--- http_config eval
"$main::Http cwmp_auth_failures 2 100 1m;"
--- init
Cwmp::Test::end_sessions();
# where TEST 18 left the counter, its window just begun: the block stands
# alone, whatever time the restart between blocks took
Cwmp::Test::redis('SET', "$main::Dev:authfail", 2, 'PX', 60000);
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest()
--- error_code: 429
--- response_headers_like
Retry-After: (60|59)
--- error_log
too many failed attempts of the device or its address



=== TEST 20: failures limited per address, whichever device
--- http_config eval
"$main::Http cwmp_auth_failures 100 2 1m;"
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('DEL', 'cwmp:authfail:{127.0.0.1}');
Cwmp::Test::redis('HSET', "cwmp:device:{00AB12-HG%2D100-X$_}:auth",
                  'password', 'pw') for 1 .. 3;
--- request eval
[map { "POST /cwmp\n" . Cwmp::Test::inform(serial => "X$_") } 1 .. 3]
--- more_headers eval
[map { Cwmp::Test::digest(user => "00AB12-HG%2D100-X$_", password => 'guess',
                          nc => "0000000$_") } 1 .. 3]
--- error_code eval
[401, 401, 429]



=== TEST 21: Basic over plain HTTP is refused, even where Basic is allowed
--- config
    location /cwmp { cwmp; cwmp_auth digest basic; }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::basic('00AB12-HG%2D100-S1', 'cwmp-test-pw')
--- error_code: 401
--- response_body
cwmp: Basic refused without TLS



=== TEST 22: malformed credentials: an unterminated quote, no qop
--- request eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n" . Cwmp::Test::inform()]
--- more_headers eval
['Authorization: Digest username="00AB12-HG%2D100-S1, realm="cwmp"',
 Cwmp::Test::digest() =~ s/qop=auth, //r]
--- error_code eval
[401, 401]
--- response_body eval
["cwmp: malformed or unsupported Authorization\n",
 "cwmp: malformed or unsupported Authorization\n"]



=== TEST 23: a digest computed for another URI: 400
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(uri => '/other')
--- error_code: 400
--- response_body
cwmp: digest uri is not the request's



=== TEST 24: the absolute URI some CPEs put in the digest
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(uri => "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/cwmp")
--- error_code: 200



=== TEST 25: requests of a session need no credentials, only its cookie
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest()
--- error_code: 200
--- response_headers_like
Set-Cookie: cwmp_session=[0-9a-f]{32}\.00AB12-HG%2D100-S1; .*



=== TEST 26: cwmp_auth off needs nothing
--- config
    location /cwmp { cwmp; cwmp_auth off; }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- error_code: 200



=== TEST 27: bad cwmp_auth values
--- config
    location /cwmp { cwmp; cwmp_auth digest md4; }
--- must_die
--- error_log
invalid value "md4" in "cwmp_auth" directive



=== TEST 28: a bootstrap secret too short to be one
--- config
    location /cwmp { cwmp; cwmp_auth_bootstrap abc; }
--- must_die
--- error_log
"cwmp_auth_bootstrap" needs a password of at least 8 characters



=== TEST 29: a nonce secret file that is missing
--- http_config eval
"cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts; cwmp_auth_secret_file /nonexistent/secret;"
--- must_die
--- error_log
"/nonexistent/secret" failed



=== TEST 30: an empty nonce secret file
--- http_config eval
"cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts; cwmp_auth_secret_file /dev/null;"
--- must_die
--- error_log
read() "/dev/null" failed



=== TEST 31: failure limits that are not numbers
--- http_config eval
"cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts; cwmp_auth_failures 10 many 5m;"
--- must_die
--- error_log
invalid "cwmp_auth_failures": <failures per device> <failures per address> <window of at least 1s> expected



=== TEST 32: a nonce lifetime under 10 s
--- http_config eval
"cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts; cwmp_auth_nonce_timeout 5s;"
--- must_die
--- error_log
"cwmp_auth_nonce_timeout" must be at least 10s



=== TEST 33: a client certificate names the device (TLS, via a proxy)
--- http_config eval
main::tls_acs('cert digest basic', 1)
--- config eval
main::tls_proxy('S1')
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::push_tasks('00AB12-HG%2D100-S1',
    {name => 'getParameterValues',
     parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime']});
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     ['InternetGatewayDevice.DeviceInfo.UpTime', '7', 'xsd:unsignedInt'])]
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/, qr/GetParameterValues/, qr/^$/]
--- redis_check
Cwmp::Test::is(redis('HGET', "$main::Dev:params",
                     'InternetGatewayDevice.DeviceInfo.UpTime'), 7,
               'a whole session over TLS')
    if $req == 2;



=== TEST 34: another device's certificate: 403
--- http_config eval
main::tls_acs('cert', 1)
--- config eval
main::tls_proxy('S2')
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- error_code: 403
--- response_body
cwmp: certificate of another device
--- error_log
cwmp: client certificate of "00AB12-HG%2D100-S2" used for an Inform of another device



=== TEST 35: a session over TLS with Basic, and no certificate
--- http_config eval
main::tls_acs('digest basic')
--- config eval
main::tls_proxy()
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::basic('00AB12-HG%2D100-S1', 'cwmp-test-pw')
--- error_code: 200
--- response_body_like: InformResponse



=== TEST 36: a wrong Basic password over TLS: challenged with Basic too
--- http_config eval
main::tls_acs('digest basic')
--- config eval
main::tls_proxy()
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::basic('00AB12-HG%2D100-S1', 'wrong')
--- error_code: 401
--- raw_response_headers_like eval
qr/WWW-Authenticate: Basic realm="cwmp"\r?\n/
--- error_log
wrong credentials



=== TEST 37: acs_credentials: the device gets its own password, accepted at once
--- http_config eval
"$main::Http cwmp_policy own { acs_credentials; }"
--- config
    location /cwmp { cwmp; cwmp_auth_bootstrap cwmp-demo; }
--- init
Cwmp::Test::redis_flush();
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::answer('SetParameterValuesResponse',
                                     '<Status>0</Status>')]
--- more_headers eval
Cwmp::Test::digest(password => 'cwmp-demo')
--- error_code eval
[200, 200, 204]
--- response_body_like eval
[qr/InformResponse/,
 qr{<Name>InternetGatewayDevice.ManagementServer.Username</Name>\r\n<Value xsi:type="xsd:string">00AB12-HG%2D100-S1</Value>.*<Name>InternetGatewayDevice.ManagementServer.Password</Name>\r\n<Value xsi:type="xsd:string">[0-9a-f]{32}</Value>}s,
 qr/\A\z/]
--- redis_check
my $a = redis_hash("$main::Dev:auth");
if ($req == 2) {
    like($a->{password} // '', qr/^[0-9a-f]{32}$/, 'kept once applied');
    ok(!exists $a->{next_password}, 'no longer pending');
    is(redis('HEXISTS', "$main::Dev:params",
             'InternetGatewayDevice.ManagementServer.Password'), 0,
       'not in the parameter cache');
    unlike(Cwmp::Test::json(results()), qr/\Q$a->{password}\E/,
           'not in the results');
}



=== TEST 38: ... after which the bootstrap secret no longer works for it
--- config
    location /cwmp { cwmp; cwmp_auth_bootstrap cwmp-demo; }
--- init
Cwmp::Test::end_sessions();
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(password => 'cwmp-demo')
--- error_code: 401



=== TEST 39: a rotated password stays good until previous_expires
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('HSET', "$main::Dev:auth", 'password', 'new-pw',
                  'previous_password', 'cwmp-test-pw',
                  'previous_expires', time() + 60);
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest()
--- error_code: 200



=== TEST 40: ... as is the new one
--- init
Cwmp::Test::end_sessions();
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(password => 'new-pw')
--- error_code: 200



=== TEST 41: the password a policy is setting is good before the device answers
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('HSET', "$main::Dev:auth", 'next_password', 'being-set');
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(password => 'being-set')
--- error_code: 200



=== TEST 42: an expired previous password is refused
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('HSET', "$main::Dev:auth", 'password', 'new-pw',
                  'previous_password', 'cwmp-test-pw',
                  'previous_expires', time() - 1);
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest()
--- error_code: 401



=== TEST 43: as README's Redis ACL user: a failed attempt, counted
--- http_config eval
"cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts user=ngx_cwmp password=acl-test-pw;
 cwmp_auth_secret_file $ENV{TEST_NGINX_TOP}/t/data/auth-secret;
 cwmp_auth_nonce_timeout 1h;"
--- init
Cwmp::Test::redis_flush();
Cwmp::Test::redis('HSET', "$main::Dev:auth", 'password', 'cwmp-test-pw');
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(password => 'guess')
--- error_code: 401
--- redis_check
Cwmp::Test::is(redis('GET', "$main::Dev:authfail"), 1, 'counted');



=== TEST 44: as README's Redis ACL user: a session with a task, policies, connection requests
--- http_config eval
"cwmp_redis $ENV{TEST_NGINX_REDIS}$Cwmp::Test::RedisOpts user=ngx_cwmp password=acl-test-pw;
 cwmp_auth_secret_file $ENV{TEST_NGINX_TOP}/t/data/auth-secret;
 cwmp_auth_nonce_timeout 1h;
 cwmp_connreq on;
 include $ENV{TEST_NGINX_TOP}/lua-free-policies/baseline-tr098.conf;
 cwmp_policy own { acs_credentials; }"
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('DEL', "$main::Dev:authfail", 'cwmp:authfail:{127.0.0.1}');
Cwmp::Test::push_tasks('00AB12-HG%2D100-S1',
    {name => 'getParameterValues',
     parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime']});
Cwmp::Test::redis('XADD', 'cwmp:connreq', '*', 'device', 'nobody');
--- pipelined_requests eval
["POST /cwmp\n" . Cwmp::Test::inform(), "POST /cwmp\n",
 "POST /cwmp\n" . Cwmp::Test::gpv_answer(
     ['InternetGatewayDevice.DeviceInfo.UpTime', '42', 'xsd:unsignedInt'])]
--- more_headers eval
Cwmp::Test::digest()
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/InformResponse/, qr/GetParameterValues/, qr/Envelope/]
--- redis_check
if ($req == 2) {
    my $r = Cwmp::Test::results();
    Cwmp::Test::ok(scalar(grep { $_->{name} eq 'getParameterValues'
                                 && $_->{status} eq 'done' } @$r),
                   'the task ran');
    my $served;
    for (1 .. 40) {
        $served = grep { $_->{name} eq 'connectionRequest' }
                       @{ Cwmp::Test::results() };
        last if $served;
        Time::HiRes::sleep(0.05);
    }
    Cwmp::Test::ok($served, 'the connection request was served');
}



=== TEST 45: a made-up session cookie of a device gets none of its tasks
--- init
Cwmp::Test::end_sessions();
Cwmp::Test::redis('DEL', "$main::Dev:tasks");
Cwmp::Test::push_tasks('00AB12-HG%2D100-S1',
    {name => 'getParameterValues',
     parameterNames => ['InternetGatewayDevice.DeviceInfo.UpTime']});
--- request
POST /cwmp
--- more_headers
Cookie: cwmp_session=0123456789abcdef0123456789abcdef.00AB12-HG%2D100-S1
--- error_code: 204
--- error_log
the session is unknown, expired or another's
--- redis_check
Cwmp::Test::is(redis('LLEN', "$main::Dev:tasks"), 1, 'the task stays queued');



=== TEST 46: cwmp_auth_digest_algorithms: one challenge, SHA-256 only (CPE stacks that join the two headers)
--- config
    location /cwmp { cwmp; cwmp_auth_digest_algorithms SHA-256; }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- error_code: 401
--- raw_response_headers_like eval
qr/\r\nWWW-Authenticate: Digest realm="cwmp", qop="auth", algorithm=SHA-256, nonce="[0-9a-f]{52}"\r\n(?!.*WWW-Authenticate)/s



=== TEST 47: ... the order the operator gives: SHA-256 first, then MD5
--- config
    location /cwmp { cwmp; cwmp_auth_digest_algorithms SHA-256 MD5; }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- error_code: 401
--- raw_response_headers_like eval
qr/WWW-Authenticate: Digest [^\r\n]*algorithm=SHA-256[^\r\n]*\r\nWWW-Authenticate: Digest [^\r\n]*algorithm=MD5/



=== TEST 48: ... credentials in an algorithm not offered are refused
--- config
    location /cwmp { cwmp; cwmp_auth_digest_algorithms SHA-256; }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest()
--- error_code: 401
--- error_log
a Digest algorithm not offered here



=== TEST 49: ... and those in the one offered accepted
--- config
    location /cwmp { cwmp; cwmp_auth_digest_algorithms SHA-256; }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- more_headers eval
Cwmp::Test::digest(algorithm => 'SHA-256', nc => '00000002')
--- error_code: 200
--- response_body_like: InformResponse



=== TEST 50: cwmp_auth_digest_algorithms: an unknown algorithm
--- config
    location /cwmp { cwmp; cwmp_auth_digest_algorithms MD5 SHA-512; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid Digest algorithm "SHA-512": "MD5" or "SHA-256" in \S+nginx\.conf:\d+/



=== TEST 51: ... one listed twice
--- config
    location /cwmp { cwmp; cwmp_auth_digest_algorithms md5 MD5; }
--- must_die
--- error_log eval
qr/\[emerg\] .*Digest algorithm "MD5" listed twice in \S+nginx\.conf:\d+/
