#!/usr/bin/env bats
# lib/keysort through tests/unit/keysort-cli.c: keys in byte order, as
# LC_ALL=C sort puts them (the order of window and state output).

load helpers/common

keysort() {
    "$SSTREAM_BIN/tests/keysort-cli"
}

@test "keysort: bytes unsigned, a key before the longer keys it begins" {
    run keysort < <(printf 'b\na\xff\nab\n\na\n\x7f\na\x80b\nA\n')
    assert_output "$(printf '\nA\na\nab\na\x80b\na\xff\nb\n\x7f')"
    assert_output "$(printf 'b\na\xff\nab\n\na\n\x7f\na\x80b\nA\n' |
        LC_ALL=C sort)"
}

# Keys alike in their first 8, 16, ... bytes are sorted on the next
# ones: short and long runs of ties, keys that end inside the 8 bytes,
# keys alike past 64 bytes (merge sorted), and duplicates.
@test "keysort: thousands of keys with long common prefixes, as sort(1)" {
    awk 'BEGIN {
        srand(7)
        long = sprintf("%70s", "") # 70 spaces
        for (i = 0; i < 6000; i++) {
            r = int(rand() * 100000)
            m = i % 6
            if (m == 0) print "k" r
            else if (m == 1) print "user-" sprintf("%09d", r)
            else if (m == 2) print "session/" r % 40 "/x" r
            else if (m == 3) print long r
            else if (m == 4) print substr("abcdefghijklmnopq", 1, r % 17)
            else print "k" int(r / 10)
        }
    }' >"$BATS_TEST_TMPDIR/keys"
    LC_ALL=C sort "$BATS_TEST_TMPDIR/keys" >"$BATS_TEST_TMPDIR/want"
    keysort <"$BATS_TEST_TMPDIR/keys" >"$BATS_TEST_TMPDIR/got"
    run cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
    assert_success
    run wc -l <"$BATS_TEST_TMPDIR/got"
    assert_output 6000
}

@test "keysort: no keys, one key" {
    run keysort </dev/null
    assert_output ""
    run keysort <<<"only"
    assert_output "only"
}
