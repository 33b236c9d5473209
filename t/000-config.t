# Directives: what nginx accepts, and what "nginx -t" refuses with the
# file and line.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Cwmp::Test;

no_shuffle();
Cwmp::Test::setup();

run_tests();

__DATA__

=== TEST 1: cwmp in a location: only POST is spoken
--- http_config
    cwmp_redis $TEST_NGINX_REDIS;
--- config
    location /acs { cwmp; }
--- request
GET /acs
--- error_code: 405
--- response_headers
Allow: POST
--- error_log
method "GET" refused
--- no_error_log
[error]



=== TEST 2: every cwmp_redis option, and the key prefix is used
--- http_config
    cwmp_redis $TEST_NGINX_REDIS db=0 connect_timeout=500ms timeout=2s queue=16 prefix=acs1:;
    cwmp_auth off;
--- config
    location /cwmp {
        cwmp;
        cwmp_session_timeout 45s;
        cwmp_max_body_size 64k;
        cwmp_retry_after 30s;
    }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform(serial => 'PREFIX1')
--- error_code: 200
--- redis_check
is(redis('HGET', 'acs1:device:{00AB12-HG%2D100-PREFIX1}', 'serial_number'),
   'PREFIX1', 'device under the configured prefix');
is(redis('EXISTS', 'cwmp:device:{00AB12-HG%2D100-PREFIX1}'), 0,
   'nothing under the default prefix');
--- no_error_log
[error]



=== TEST 3: a host name is resolved at configuration time
--- http_config
    cwmp_redis localhost:$TEST_NGINX_REDIS_PORT;
    cwmp_auth off;
--- config
    location /cwmp { cwmp; }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- error_code: 200
--- no_error_log
[error]



=== TEST 4: a unix socket address is accepted
--- http_config
    cwmp_redis unix:/nonexistent/redis.sock;
--- config
    location /cwmp { cwmp; }
--- request eval
"POST /cwmp\n" . Cwmp::Test::inform()
--- error_code: 503
--- error_log
redis "unix:/nonexistent/redis.sock" unavailable



=== TEST 5: an unknown cwmp_redis option
--- http_config
    cwmp_redis 127.0.0.1:6379 db=abc;
--- config
    location /cwmp { cwmp; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "db=abc" in "cwmp_redis" directive in \S+nginx\.conf:\d+/



=== TEST 6: an address without a port
--- http_config
    cwmp_redis 127.0.0.1;
--- config
    location /cwmp { cwmp; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid redis address "127\.0\.0\.1", expected "host:port" or "unix:\/path" in \S+nginx\.conf:\d+/



=== TEST 7: a relative unix socket path
--- http_config
    cwmp_redis unix:redis.sock;
--- config
    location /cwmp { cwmp; }
--- must_die
--- error_log eval
qr/\[emerg\] .*a unix socket path must be absolute in \S+nginx\.conf:\d+/



=== TEST 8: cwmp outside a location
--- config
    cwmp;
--- must_die
--- error_log eval
qr/\[emerg\] .*"cwmp" directive is not allowed here in \S+nginx\.conf:\d+/



=== TEST 9: cwmp_redis inside a server
--- config
    cwmp_redis 127.0.0.1:6379;
--- must_die
--- error_log eval
qr/\[emerg\] .*"cwmp_redis" directive is not allowed here/



=== TEST 10: cwmp_redis twice
--- http_config
    cwmp_redis 127.0.0.1:6379;
    cwmp_redis 127.0.0.1:6380;
--- config
    location /cwmp { cwmp; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"cwmp_redis" directive is duplicate in \S+nginx\.conf:\d+/



=== TEST 11: a session timeout under a second
--- config
    location /cwmp { cwmp; cwmp_session_timeout 100ms; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"cwmp_session_timeout" must be at least 1s/



=== TEST 12: a body cap too small for any Inform
--- config
    location /cwmp { cwmp; cwmp_max_body_size 1k; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"cwmp_max_body_size" must be at least 4k/



=== TEST 13: Retry-After out of bounds
--- config
    location /cwmp { cwmp; cwmp_retry_after 0; }
--- must_die
--- error_log eval
qr/\[emerg\] .*value must be between 1 and 86400 in \S+nginx\.conf:\d+/



=== TEST 14: a bad timeout option
--- http_config
    cwmp_redis 127.0.0.1:6379 timeout=never;
--- config
    location /cwmp { cwmp; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "timeout=never" in "cwmp_redis" directive/



=== TEST 15: user= without password=
--- http_config
    cwmp_redis 127.0.0.1:6379 user=acs;
--- config
    location /cwmp { cwmp; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"user=" needs "password=" in "cwmp_redis" directive/



=== TEST 15a: sentinel= needs master=
--- http_config
    cwmp_redis sentinel=127.0.0.1:26379,127.0.0.1:26380;
--- config
    location /cwmp { cwmp; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"sentinel=" needs "master=<name>" in "cwmp_redis" directive/



=== TEST 15b: master= belongs to sentinel=
--- http_config
    cwmp_redis 127.0.0.1:6379 master=acs;
--- config
    location /cwmp { cwmp; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "master=acs" in "cwmp_redis" directive/



=== TEST 15c: a cluster has only db 0
--- http_config
    cwmp_redis cluster=127.0.0.1:7000,127.0.0.1:7001 db=2;
--- config
    location /cwmp { cwmp; }
--- must_die
--- error_log eval
qr/\[emerg\] .*a Redis Cluster has no "db=" other than 0 in "cwmp_redis" directive/



=== TEST 15d: wait= is a number of replicas from 1 to 16
--- http_config
    cwmp_redis cluster=127.0.0.1:7000 wait=0;
--- config
    location /cwmp { cwmp; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "wait=0" in "cwmp_redis" directive/



=== TEST 15e: sentinel_user= without sentinel_password=
--- http_config
    cwmp_redis sentinel=127.0.0.1:26379 master=acs sentinel_user=s;
--- config
    location /cwmp { cwmp; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"sentinel_user=" needs "sentinel_password=" in "cwmp_redis" directive/



=== TEST 15f: every option of the Sentinel and Cluster modes
--- http_config
    cwmp_redis sentinel=127.0.0.1:26379,127.0.0.1:26380 master=acs sentinel_user=s sentinel_password=sp user=u password=p wait=1 wait_timeout=200ms;
--- config
    location /cwmp { cwmp; }
--- request
GET /cwmp
--- error_code: 405



=== TEST 16: load shedding takes a count of operations or "off"
--- config
    location /cwmp { cwmp; cwmp_shed_pending 0; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"cwmp_shed_pending" takes "off" or a number of operations from 1 to 1000000, not "0" in \S+nginx\.conf:\d+/



=== TEST 17: load shedding off, and inherited
--- config
    cwmp_shed_pending off;
    location /cwmp { cwmp; }
    location /other { cwmp; cwmp_shed_pending 64; }
--- request
GET /cwmp
--- error_code: 405



=== TEST 18: cwmp_connreq_transports: an order of http, udp and xmpp
--- http_config
    cwmp_connreq_transports xmpp:nat http udp xmpp;
--- config
    location /cwmp { cwmp; }
--- request
GET /cwmp
--- error_code: 405



=== TEST 19: cwmp_connreq_transports: an unknown transport
--- http_config
    cwmp_connreq_transports xmpp smtp;
--- config
    location /cwmp { cwmp; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "smtp" in "cwmp_connreq_transports" directive \(http, udp or xmpp, with ":nat" or not\) in \S+nginx\.conf:\d+/



=== TEST 20: cwmp_xmpp tls=direct needs trusted CAs
--- http_config
    cwmp_xmpp 127.0.0.1 jid=acs@xmpp.test password_file=/dev/null tls=direct;
--- config
    location /cwmp { cwmp; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"cwmp_xmpp" with TLS needs trusted=<CA file>/
