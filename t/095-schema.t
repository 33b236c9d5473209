# redis-schema/scripts and the C header generated from them agree.

use strict;
use warnings;
use Test::More;

my $out = `bash .ci/gen-scripts --check 2>&1`;
is($?, 0, 'ngx_http_cwmp_scripts.h is what .ci/gen-scripts makes')
    or diag($out);

done_testing();
