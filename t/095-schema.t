# Generated headers are current: redis-schema/scripts ->
# ngx_http_cwmp_scripts.h, shared/spec's data models ->
# ngx_http_cwmp_datamodel.h.

use strict;
use warnings;
use Test::More;

my $out = `perl .ci/gen-scripts --check 2>&1`;
is($?, 0, "ngx_http_cwmp_scripts.[ch] are what .ci/gen-scripts makes")
    or diag($out);

# the data model types, when the specifications are beside the repository
SKIP: {
    skip 'no ../shared/spec here', 1 unless -d '../shared/spec';
    $out = `perl .ci/gen-datamodel --check 2>&1`;
    is($?, 0, 'ngx_http_cwmp_datamodel.h is what .ci/gen-datamodel makes')
        or diag($out);
}

done_testing();
