# The fallback runner must fail tests that should fail (t/fallback is what
# CI runs when the real Test::Nginx is missing).

use strict;
use warnings;
use Test::More;

my $out = `$^X -I t/fallback -I t/lib t/data/runner-self-check.pl 2>&1`;
my $status = $? >> 8;

isnt($status, 0, 'the self-check exits non-zero');

my @not_ok = $out =~ /^not ok \d+ - .*?(TEST \d+)/mg;
my %failed = map { $_ => 1 } @not_ok;

ok(!$failed{'TEST 1'}, 'a good block passes') or diag($out);
ok($failed{"TEST $_"}, "a bad block fails: TEST $_") or diag($out)
    for 2 .. 7;
like($out, qr/TEST 6: [^\n]* - unknown section "--- response_bodyy"/,
     'the unknown section is named') or diag($out);

done_testing();
