# Run by t/090-runner.t with the fallback runner: blocks 2 to 7 are wrong
# on purpose, and the runner must report each as a failure.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';

no_shuffle();

run_tests();

__DATA__

=== TEST 1: passes
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- response_body
hello



=== TEST 2: wrong status
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- error_code: 404



=== TEST 3: wrong body
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- response_body
goodbye



=== TEST 4: a log line that is not there
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- error_log
this line is never logged



=== TEST 5: nginx must die but does not
--- config
    location = /t { return 200 "hello\n"; }
--- must_die



=== TEST 6: a misspelled section checks nothing: the block fails
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- response_bodyy
goodbye



=== TEST 7: raw response headers that are not there
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- raw_response_headers_like
X-Not-There: 1
