#!/usr/bin/env bats
# sstream-map: every operation with exact output, bad input, usage errors.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
}

# tsv of a pipeline over replay folder $T/d: map's arguments follow.
m() {
    pipeline "$T/d" sstream-map "$@"
}

@test "map: --flat-map words splits on runs of blanks, key dropped" {
    mkdir -p "$T/d"
    printf '  the\tcat  sat \n\nend\n' >"$T/d/1"
    run --separate-stderr m --flat-map words
    assert_success
    assert_output "$(printf '1000\tthe\n1000\tcat\n1000\tsat\n1000\tend')"
    assert_equal "$stderr" ""
}

@test "map: --flat-map split:DELIM keeps empty pieces; multi-byte delimiter" {
    mkdir -p "$T/d"
    printf 'a,,b\nx::y::\n' >"$T/d/1"
    run m -f split:,
    assert_output "$(printf '1000\ta\n1000\t\n1000\tb\n1000\tx::y::')"
    run m -f split:::
    assert_output "$(printf '1000\ta,,b\n1000\tx\n1000\ty\n1000\t')"
}

@test "map: --map lower, upper, trim and field:N with -F" {
    mkdir -p "$T/d"
    printf '  MiXed Case \n' >"$T/d/1"
    run m --map lower
    assert_output "$(printf '1000\t  mixed case ')"
    run m --map upper --map trim
    assert_output "$(printf '1000\tMIXED CASE')"
    run m --map field:2
    assert_output "$(printf '1000\tCase')"
    printf 'a:b::d\n' >"$T/d/1"
    run m -F : --map field:4
    assert_output "$(printf '1000\td')"
    run m -F : --map field:3
    assert_output "$(printf '1000\t')"
}

@test "map: --key-field, --value-field and --pair make key/value records" {
    mkdir -p "$T/d"
    printf 'alice 30 x\nbob 25 y\n' >"$T/d/1"
    run m --key-field 1 --value-field 2
    assert_output "$(printf '1000\talice\t30\n1000\tbob\t25')"
    run m --key-field 3
    assert_output "$(printf '1000\tx\talice 30 x\n1000\ty\tbob 25 y')"
    run m -f words --pair 1
    assert_output "$(printf '1000\talice\t1\n1000\t30\t1\n1000\tx\t1\n1000\tbob\t1\n1000\t25\t1\n1000\ty\t1')"
}

@test "map: a missing field is a reject with its place" {
    mkdir -p "$T/d"
    printf 'a 1\nlonely\nb 2\n' >"$T/d/1"
    run --separate-stderr m --key-field 1 --value-field 2 --rejects "$T/rej"
    assert_success
    assert_output "$(printf '1000\ta\t1\n1000\tb\t2')"
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-map: batch 1000, record 2: --value-field: 'lonely' has no field 2" \
        "sstream-map: 1 rejected record kept in '$T/rej'")"
    assert_equal "$(cat "$T/rej")" "$(printf 'lonely\tlonely')"
}

@test "map: --map-values and --flat-map-values keep the key" {
    mkdir -p "$T/d"
    printf 'k1 A,B\nk2 C\n' >"$T/d/1"
    run m --key-field 1 --value-field 2 --map-values lower
    assert_output "$(printf '1000\tk1\ta,b\n1000\tk2\tc')"
    run m --key-field 1 --value-field 2 --flat-map-values split:,
    assert_output "$(printf '1000\tk1\tA\n1000\tk1\tB\n1000\tk2\tC')"
}

@test "map: --map-values on keyless records is an error that names the option" {
    batches "$T/d" "a"
    run --separate-stderr m --map-values lower
    assert_failure 1
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-map: --map-values needs key/value records (make them with --pair, --key-field or --count-by-value)" \
        "sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)")"
}

@test "map: --filter and --filter-out take PCRE2 patterns" {
    batches "$T/d" "apple banana cherry avocado" "pear"
    run m --filter '^a'
    assert_output "$(printf '1000\tapple\n1000\tavocado')"
    run m --filter-out 'an|rr'
    assert_output "$(printf '1000\tapple\n1000\tavocado\n2000\tpear')"
    run m --filter '(?i)PEAR$'
    assert_output "$(printf '2000\tpear')"
}

@test "map: --where compares numbers; a non-number is rejected" {
    batches "$T/d" "5 100 1e3 -7 abc 100.0"
    run --separate-stderr m --where 'value >= 100'
    assert_failure 1
    assert_output "$(printf '1000\t100\n1000\t1e3\n1000\t100.0')"
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-map: batch 1000, record 5: 'abc' is not a number" \
        "sstream-map: 1 rejected record not kept (use --rejects FILE)")"
    run --separate-stderr m --where 'value<0' --rejects /dev/null
    assert_output "$(printf '1000\t-7')"
    run --separate-stderr m --where 'value == 100' --rejects /dev/null
    assert_output "$(printf '1000\t100\n1000\t100.0')"
    run --separate-stderr m --where 'value != 100' --where 'value > 4' --rejects /dev/null
    assert_output "$(printf '1000\t5\n1000\t1e3')"
    run --separate-stderr m --where 'value <= 5' --rejects /dev/null
    assert_output "$(printf '1000\t5\n1000\t-7')"
}

@test "map: --count counts every batch, an empty one as 0" {
    batches "$T/d" "a b c" "-" "d"
    run m --count
    assert_output "$(printf '1000\t3\n2000\t0\n3000\t1')"
    run m -f split:x -c
    assert_output "$(printf '1000\t3\n2000\t0\n3000\t1')"
}

@test "map: --count-by-value gives keys in order of first appearance" {
    batches "$T/d" "b a b c a b" "-" "z"
    run m --count-by-value
    assert_output "$(printf '1000\tb\t3\n1000\ta\t2\n1000\tc\t1\n3000\tz\t1')"
}

@test "map: --count-by-value of key/value records counts key<TAB>value" {
    batches "$T/d" "k:1 k:1 k:2"
    run m -F : --key-field 1 --value-field 2 --count-by-value
    assert_output "$(printf '1000\tk\t1\t2\n1000\tk\t2\t1')"
}

@test "map: --reduce with each operator" {
    batches "$T/d" "3 1.5 -2 10" "-" "x"
    run --separate-stderr m --reduce sum --rejects /dev/null
    assert_output "$(printf '1000\t12.5')"
    run m -r count
    assert_output "$(printf '1000\t4\n3000\t1')"
    run --separate-stderr m -r min --rejects /dev/null
    assert_output "$(printf '1000\t-2')"
    run --separate-stderr m -r max --rejects /dev/null
    assert_output "$(printf '1000\t10')"
    run --separate-stderr m -r mean --rejects /dev/null
    assert_output "$(printf '1000\t3.125')"
    run m -r first
    assert_output "$(printf '1000\t3\n3000\tx')"
    run m -r last
    assert_output "$(printf '1000\t10\n3000\tx')"
    run m -r concat
    assert_output "$(printf '1000\t3,1.5,-2,10\n3000\tx')"
    run m -r concat --separator ';'
    assert_output "$(printf '1000\t3;1.5;-2;10\n3000\tx')"
}

@test "map: --reduce-by-key with each operator, keys in order of first appearance" {
    mkdir -p "$T/d"
    printf 'b 4\na 1\nb 0.5\na 2\nb -1\n' >"$T/d/1"
    printf 'c 7\n' >"$T/d/2"
    for op in sum count min max mean first last concat; do
        run m --key-field 1 --value-field 2 --reduce-by-key "$op"
        case $op in
        sum) want='b\t3.5\na\t3' ;;
        count) want='b\t3\na\t2' ;;
        min) want='b\t-1\na\t1' ;;
        max) want='b\t4\na\t2' ;;
        mean) want='b\t1.1666666666666667\na\t1.5' ;;
        first) want='b\t4\na\t1' ;;
        last) want='b\t-1\na\t2' ;;
        concat) want='b\t4,0.5,-1\na\t1,2' ;;
        esac
        want=$(printf "$want" | sed 's/^/1000\t/')
        last=7
        [ "$op" != count ] || last=1
        assert_output "$(printf '%s\n2000\tc\t%s' "$want" "$last")"
    done
}

@test "map: --reduce-by-key sum over 'abc': reported, rejected, the rest of the batch right" {
    mkdir -p "$T/d"
    printf 'a 1\nb abc\na 2\nb 3\n' >"$T/d/1"
    printf 'a 5\n' >"$T/d/2"
    run --separate-stderr m --key-field 1 --value-field 2 --reduce-by-key sum --rejects "$T/rej"
    assert_success
    assert_output "$(printf '1000\ta\t3\n1000\tb\t3\n2000\ta\t5')"
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-map: batch 1000, record 2: 'abc' is not a number" \
        "sstream-map: 1 rejected record kept in '$T/rej'")"
    assert_equal "$(cat "$T/rej")" "$(printf 'b\tabc')"
}

@test "map: a key whose every value is rejected leaves the output" {
    mkdir -p "$T/d"
    printf 'a 1\nb x\n' >"$T/d/1"
    run --separate-stderr m --key-field 1 --value-field 2 --reduce-by-key max
    assert_failure 1
    assert_output "$(printf '1000\ta\t1')"
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-map: batch 1000, record 2: 'x' is not a number" \
        "sstream-map: 1 rejected record not kept (use --rejects FILE)")"
}

@test "map: a value that would take an integer sum out of 64 bits is a reject" {
    mkdir -p "$T/d"
    printf 'k 9223372036854775807\nj 1\nk 1\n' >"$T/d/1"
    run --separate-stderr m --key-field 1 --value-field 2 --reduce-by-key sum
    assert_failure 1
    assert_output "$(printf '1000\tk\t9223372036854775807\n1000\tj\t1')"
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-map: batch 1000, record 3: '1' takes the sum out of the 64-bit integer range" \
        "sstream-map: 1 rejected record not kept (use --rejects FILE)")"
    batches "$T/e" "9223372036854775807 1"
    run --separate-stderr pipeline "$T/e" sstream-map --reduce sum
    assert_failure 1
    assert_output "$(printf '1000\t9223372036854775807')"
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-map: batch 1000, record 2: '1' takes the sum out of the 64-bit integer range" \
        "sstream-map: 1 rejected record not kept (use --rejects FILE)")"
}

@test "map: --group-by-key joins values in arrival order" {
    mkdir -p "$T/d"
    printf 'x 1\ny 2\nx 3\n' >"$T/d/1"
    run m --key-field 1 --value-field 2 --group-by-key
    assert_output "$(printf '1000\tx\t1,3\n1000\ty\t2')"
    run m --key-field 1 --value-field 2 --group-by-key --separator '|'
    assert_output "$(printf '1000\tx\t1|3\n1000\ty\t2')"
}

@test "map: --glom makes one record per non-empty batch" {
    batches "$T/d" "a b c" "-" "d"
    run m --glom
    assert_output "$(printf '1000\ta,b,c\n3000\td')"
}

@test "map: --distinct keeps each value once per batch, in order of first appearance" {
    batches "$T/d" "b a b c a b" "-" "a a"
    run --separate-stderr m --distinct
    assert_success
    assert_output "$(printf '1000\tb\n1000\ta\n1000\tc\n3000\ta')"
    assert_equal "$stderr" ""
    run --separate-stderr sstream-map --distinct=x
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-map: option '--distinct' doesn't allow an argument"
}

@test "map: --distinct on key/value records keeps distinct pairs, not keys" {
    mkdir -p "$T/d"
    # (a<TAB>b, c) and (a, b<TAB>c) are two pairs, though one line as text
    printf 'k:1\nk:2\nk:1\nj:1\na\tb:c\na:b\tc\nk:2\n' >"$T/d/1"
    run m -F : --key-field 1 --value-field 2 --distinct
    assert_output "$(printf '1000\tk\t1\n1000\tk\t2\n1000\tj\t1\n1000\ta\tb\tc\n1000\ta\tb\tc')"
}

@test "map: --flat-map words --distinct --count: distinct words per batch" {
    mkdir -p "$T/d"
    printf 'the cat the\ndog the cat\n' >"$T/d/1"
    printf 'cat\n' >"$T/d/2"
    run m --flat-map words --distinct --count
    assert_output "$(printf '1000\t3\n2000\t1')"
    run m --flat-map words --map upper --distinct --pair 1
    assert_output "$(printf '1000\tTHE\t1\n1000\tCAT\t1\n1000\tDOG\t1\n2000\tCAT\t1')"
}

@test "map: --distinct spans the frames of a batch" {
    mkdir -p "$T/d"
    # 600002 records of 3 bytes or so: seven 256 KiB parts; the last two
    # records are in the last part, and the first of them in the first.
    awk 'BEGIN { for (i = 0; i < 600000; i++) print "w" (i % 3); print "w0"; print "end" }' >"$T/d/1"
    printf 'w2\nw2\n' >"$T/d/2"
    run bash -c "sstream-source --replay '$T/d' | sstream-map --distinct | sstream-sink --tsv"
    assert_output "$(printf '1000\tw0\n1000\tw1\n1000\tw2\n1000\tend\n2000\tw2')"
    run bash -c "sstream-source --replay '$T/d' | sstream-sink --dump | grep -c '^@.*flags=more'"
    assert_output 6
}

@test "map: --distinct after --union covers both streams; before it, stdin's only" {
    batches "$T/d" "a b a" "c"
    batches "$T/u" "b c c" "c"
    run bash -c "set -o pipefail; sstream-source --replay '$T/d' | sstream-map --union <(sstream-source --replay '$T/u') --distinct | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\ta\n1000\tb\n1000\tc\n2000\tc')"
    run bash -c "set -o pipefail; sstream-source --replay '$T/d' | sstream-map --distinct --union <(sstream-source --replay '$T/u') | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\ta\n1000\tb\n1000\tb\n1000\tc\n1000\tc\n2000\tc\n2000\tc')"
}

@test "map: operations apply in command-line order" {
    batches "$T/d" "Aa aA b"
    run m --map lower --count-by-value
    assert_output "$(printf '1000\taa\t2\n1000\tb\t1')"
    run m --count-by-value --map-values upper
    assert_output "$(printf '1000\tAa\t1\n1000\taA\t1\n1000\tb\t1')"
    run m --count-by-value --count
    assert_output "$(printf '1000\t3')"
}

@test "map: a batch in several frames is aggregated as one" {
    mkdir -p "$T/d"
    # 600000 records of 3 bytes with their lengths: seven 256 KiB parts.
    awk 'BEGIN { for (i = 0; i < 600000; i++) print "w" (i % 3) }' >"$T/d/1"
    run bash -c "sstream-source --replay '$T/d' | sstream-map --count-by-value | sstream-sink --tsv"
    assert_output "$(printf '1000\tw0\t200000\n1000\tw1\t200000\n1000\tw2\t200000')"
    run bash -c "sstream-source --replay '$T/d' | sstream-sink --dump | grep -c '^@.*flags=more'"
    assert_output 6
}

@test "map: --exec 'sort -u' transforms each batch" {
    batches "$T/d" "b a b c" "-" "z z"
    run --separate-stderr m --exec 'sort -u'
    assert_success
    assert_output "$(printf '1000\ta\n1000\tb\n1000\tc\n3000\tz')"
}

@test "map: --exec passes key<TAB>value lines and splits its output back" {
    batches "$T/d" "b a b"
    run m --count-by-value --exec 'sort -k2,2nr -k1,1'
    assert_output "$(printf '1000\tb\t2\n1000\ta\t1')"
    run m --exec 'echo "$SSTREAM_BATCH_TIME"'
    assert_output "$(printf '1000\t1000')"
}

@test "map: --exec output without a tab after key/value input is a reject" {
    batches "$T/d" "a"
    run --separate-stderr m --pair 1 --exec 'echo notab; cat' --rejects "$T/rej"
    assert_success
    assert_output "$(printf '1000\ta\t1')"
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-map: batch 1000, record 1: --exec: 'notab' has no tab between key and value" \
        "sstream-map: 1 rejected record kept in '$T/rej'")"
}

@test "map: a failing --exec names the batch time and exits 1" {
    batches "$T/d" "a" "b"
    run --separate-stderr m --exec 'test "$SSTREAM_BATCH_TIME" = 1000 && cat || exit 3'
    assert_failure 1
    assert_output "$(printf '1000\ta')"
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-map: batch 2000: --exec 'test \"\$SSTREAM_BATCH_TIME\" = 1000 && cat || exit 3': exited with status 3" \
        "sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)")"
}

@test "map: --exec with a command that reads nothing, on a big batch" {
    mkdir -p "$T/d"
    seq 1 200000 >"$T/d/1"
    run m --exec 'echo done'
    assert_success
    assert_output "$(printf '1000\tdone')"
}

@test "map: --join FILE, every join type, missing sides \\N" {
    mkdir -p "$T/d"
    printf 'a 1\nb 2\na 3\n' >"$T/d/1"
    printf 'c 4\n' >"$T/d/2"
    printf 'a\tA\nc\tC\nz\tZ\n' >"$T/tab"
    run m --key-field 1 --value-field 2 --join "$T/tab"
    assert_output "$(printf '1000\ta\t1\tA\n1000\ta\t3\tA\n2000\tc\t4\tC')"
    run m --key-field 1 --value-field 2 --join "$T/tab" --join-type left
    assert_output "$(printf '1000\ta\t1\tA\n1000\ta\t3\tA\n1000\tb\t2\t\\N\n2000\tc\t4\tC')"
    run m --key-field 1 --value-field 2 --join "$T/tab" --join-type right
    assert_output "$(printf '1000\ta\t1\tA\n1000\ta\t3\tA\n1000\tc\t\\N\tC\n1000\tz\t\\N\tZ\n2000\tc\t4\tC\n2000\ta\t\\N\tA\n2000\tz\t\\N\tZ')"
    run m --key-field 1 --value-field 2 --join "$T/tab" --join-type full
    assert_output "$(printf '1000\ta\t1\tA\n1000\ta\t3\tA\n1000\tb\t2\t\\N\n1000\tc\t\\N\tC\n1000\tz\t\\N\tZ\n2000\tc\t4\tC\n2000\ta\t\\N\tA\n2000\tz\t\\N\tZ')"
}

@test "map: --join with a table line without a tab fails at start" {
    batches "$T/d" "a"
    printf 'a\tA\nbad\n' >"$T/tab"
    run --separate-stderr m --pair 1 --join "$T/tab"
    assert_failure 1
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-map: --join: '$T/tab' line 2: no tab between key and value" \
        "sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)")"
}

@test "map: --union adds another stream's records after the main ones" {
    batches "$T/d" "a b" "c"
    batches "$T/u" "x" "-" "y z"
    run bash -c "set -o pipefail; sstream-source --replay '$T/d' | sstream-map --union <(sstream-source --replay '$T/u') | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\ta\n1000\tb\n1000\tx\n2000\tc\n3000\ty\n3000\tz')"
}

@test "map: --union twice, and after a step: Spark's a.map(f).union(b)" {
    batches "$T/d" "a"
    batches "$T/u" "x"
    batches "$T/v" "y"
    run bash -c "sstream-source --replay '$T/d' | sstream-map --map upper --union <(sstream-source --replay '$T/u') --union <(sstream-source --replay '$T/v') --map upper | sstream-sink --tsv"
    assert_output "$(printf '1000\tA\n1000\tX\n1000\tY')"
}

@test "map: --union of streams with different intervals is an error" {
    batches "$T/d" "a"
    batches "$T/u" "x"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' | sstream-map --union <(sstream-source --replay '$T/u' -b 2s) | sstream-sink --tsv"
    assert_failure 1
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-map: --union '/dev/fd/63' has batch interval 2s, but stdin has 1s: streams combined on batch time need the same interval" \
        "sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)")"
}

@test "map: --union of keyless with key/value records is an error" {
    batches "$T/d" "a"
    batches "$T/u" "x"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' | sstream-map --union <(sstream-source --replay '$T/u' | sstream-map --pair 1) | sstream-sink --tsv"
    assert_failure 1
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-map: --union '/dev/fd/63': cannot unite key/value records with keyless ones" \
        "sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)")"
}

@test "map: --join-stream joins two streams batch by batch, outer sides \\N" {
    mkdir -p "$T/d" "$T/r"
    printf 'a 1\nb 2\n' >"$T/d/1"
    printf 'c 3\n' >"$T/d/2"
    printf 'a x\nz y\n' >"$T/r/1"
    printf 'c w\nc v\n' >"$T/r/2"
    right="<(sstream-source --replay '$T/r' | sstream-map --key-field 1 --value-field 2)"
    for t in inner left right full; do
        run bash -c "sstream-source --replay '$T/d' | sstream-map --key-field 1 --value-field 2 --join-stream $right --join-type $t | sstream-sink --tsv"
        case $t in
        inner) want='1000\ta\t1\tx\n2000\tc\t3\tw\n2000\tc\t3\tv' ;;
        left) want='1000\ta\t1\tx\n1000\tb\t2\t\\N\n2000\tc\t3\tw\n2000\tc\t3\tv' ;;
        right) want='1000\ta\t1\tx\n1000\tz\t\\N\ty\n2000\tc\t3\tw\n2000\tc\t3\tv' ;;
        full) want='1000\ta\t1\tx\n1000\tb\t2\t\\N\n1000\tz\t\\N\ty\n2000\tc\t3\tw\n2000\tc\t3\tv' ;;
        esac
        assert_output "$(printf "$want")"
    done
}

@test "map: --cogroup gives both groups per key, a missing group empty" {
    mkdir -p "$T/d" "$T/r"
    printf 'a 1\nb 2\na 3\n' >"$T/d/1"
    printf 'a x\nz y\na w\n' >"$T/r/1"
    run bash -c "sstream-source --replay '$T/d' | sstream-map --key-field 1 --value-field 2 --cogroup <(sstream-source --replay '$T/r' | sstream-map --key-field 1 --value-field 2) | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\ta\t1,3\tx,w\n1000\tb\t2\t\n1000\tz\t\ty')"
}

@test "map: streams that start at different times line up on batch time" {
    batches "$T/d" "a" "b"
    batches "$T/u" "x"
    run bash -c "sstream-source --replay '$T/d' | sstream-map --union <(sstream-source --replay '$T/u' --start-time 1000) | sstream-sink --tsv"
    assert_output "$(printf '1000\ta\n2000\tb\n2000\tx')"
}

@test "map: end-of-stream passes on; an empty stream stays empty" {
    batches "$T/d" -
    # The last 56 bytes are the end-of-stream frame alone.
    run bash -c "sstream-source --replay '$T/d' | tail -c 56 | sstream-map --count | sstream-sink --dump"
    assert_success
    assert_output "@0 end time=1000 interval=1000 count=0 payload=0 flags=- closed=0"
}

@test "map: a stream without end-of-stream is reported, exit 1" {
    batches "$T/d" "a b"
    # The first frame is 56 header bytes and 4 of payload: cut after it.
    run --separate-stderr bash -c "sstream-source --replay '$T/d' | head -c 60 | sstream-map --count >/dev/null"
    assert_failure 1
    assert_equal "$stderr" "sstream-map: stdin: upstream ended without end-of-stream"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' | head -c 59 | sstream-map --count >/dev/null"
    assert_failure 1
    assert_equal "$stderr" "sstream-map: stdin: upstream ended without end-of-stream (torn frame at byte offset 0)"
}

@test "map: usage errors exit 2 with a message" {
    run --separate-stderr sstream-map
    assert_failure 2
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-map: no operation given (try --flat-map words --count-by-value)" \
        "usage: sstream-map [-chV] [-F sep] [--join-type type] [--parallel n]" \
        "                   [--rejects file] [--separator c] [--stats]" \
        "                   [--stats-file file] operation ...")"
    run --separate-stderr sstream-map --reduce-by-key total
    assert_failure 2
    assert_equal "$stderr" "sstream-map: --reduce-by-key: unknown operator 'total' (try sum, count, min, max, mean, first, last or concat)"
    run --separate-stderr sstream-map --flat-map lines
    assert_failure 2
    assert_equal "$stderr" "sstream-map: --flat-map: unknown function 'lines' (try words or split:DELIM)"
    run --separate-stderr sstream-map --map title
    assert_failure 2
    assert_equal "$stderr" "sstream-map: --map: unknown function 'title' (try lower, upper, trim or field:N)"
    run --separate-stderr sstream-map --filter '('
    assert_failure 2
    assert_equal "$stderr" "sstream-map: --filter: '(' is not a valid pattern: missing closing parenthesis at offset 1"
    run --separate-stderr sstream-map --where 'v > 1'
    assert_failure 2
    assert_equal "$stderr" "sstream-map: --where: 'v > 1' is not a test (try 'value >= 100'; operators > >= < <= == !=)"
    run --separate-stderr sstream-map --where 'value > x'
    assert_failure 2
    run --separate-stderr sstream-map --join-type outer --count
    assert_failure 2
    assert_equal "$stderr" "sstream-map: --join-type: unknown join 'outer' (try inner, left, right or full)"
    run --separate-stderr sstream-map --key-field 0
    assert_failure 2
    run --separate-stderr sstream-map --count extra
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-map: unexpected argument 'extra'"
    run --separate-stderr sstream-map --bogus
    assert_failure 2
    run --separate-stderr sstream-map --exec ''
    assert_failure 2
    assert_equal "$stderr" "sstream-map: --exec: empty argument"
    run --separate-stderr sstream-map --union /nonexistent/x --count </dev/null
    assert_failure 1
    assert_equal "$stderr" "sstream-map: --union: cannot open '/nonexistent/x': No such file or directory"
}

@test "map: --help and --version go to stdout, exit 0" {
    run --separate-stderr sstream-map --help
    assert_success
    assert_line --index 0 "usage: sstream-map [-chV] [-F sep] [--join-type type] [--parallel n]"
    assert_equal "$stderr" ""
    run sstream-map -V
    assert_success
    assert_output "sstream-map 0.1.0 (frame format 1)"
}

@test "map: frames are not written to a terminal" {
    command -v script >/dev/null || skip "script(1) is not installed"
    run script -qec "sstream-map --count </dev/null" /dev/null
    assert_failure 2
    assert_output "sstream-map: frames are not written to a terminal; pipe into sstream-sink (e.g. '| sstream-sink --print')"$'\r'
}

@test "map, window, state, sink: frames are not read from a terminal (exit 2)" {
    command -v script >/dev/null || skip "script(1) is not installed"
    for stage in "sstream-map --count" "sstream-window -w 2s --count" \
        "sstream-state --update sum --no-checkpoint" "sstream-sink --lines"; do
        name=${stage%% *}
        run script -qec "$stage >/dev/null" /dev/null
        assert_failure 2
        assert_output "$name: stdin is a terminal, and $name reads frames: pipe sstream-source into it (e.g. 'sstream-source < FILE | $name')"$'\r'
    done
}

@test "map: every option of --help is in the man page and both completions" {
    opts=$(sstream-map --help | grep -oE -- '--[a-z-]+' | sort -u)
    [ -n "$opts" ]
    man=$(sed 's/\\-/-/g' "$REPO/man/sstream-map.1")
    missing=
    for o in $opts; do
        grep -qF -- "$o" "$REPO/completions/bash/sstream-map" || missing+=" bash:$o"
        grep -qF -- "$o" "$REPO/completions/zsh/_sstream-map" || missing+=" zsh:$o"
        grep -qF -- "$o" <<<"$man" || missing+=" man:$o"
    done
    assert_equal "$missing" ""
}

@test "map: every short option of --help is in both completions" {
    # The operations' letters come from lib/map_kinds.c's table, not from an
    # optstring that tests/completions.bats can read in bin/sstream-map.c.
    opts=$(sstream-map --help | grep -oE '^  -[a-zA-Z],' | tr -d ' ,')
    assert_equal "$(echo $opts)" "-f -c -r -F -h -V"
    missing=
    for o in $opts; do
        for f in bash/sstream-map zsh/_sstream-map; do
            grep -qE -- "(^|[^a-z0-9-])$o([^a-zA-Z0-9-]|\$)" "$REPO/completions/$f" ||
                missing+=" $f:$o"
        done
    done
    assert_equal "$missing" ""
}

@test "map: the fused word count equals the step-by-step one, across frame parts" {
    # --flat-map words --count-by-value first on the command line takes a
    # fused path over whole frames; after --map it is fused per record;
    # with a --filter between, every word goes step by step. All three
    # must agree, batch parts included (300k words make several frames).
    mkdir -p "$BATS_TEST_TMPDIR/d"
    $PY -c '
import random
r = random.Random(5)
for b in range(3):
    with open("%s/%04d" % ("'"$BATS_TEST_TMPDIR/d"'", b + 1), "w") as f:
        for _ in range(70000 if b != 1 else 0):
            f.write(" ".join("w%d" % int(r.paretovariate(1.1)) for _ in range(10)) + "  \n")
'
    sstream-source --replay "$BATS_TEST_TMPDIR/d" | sstream-map --flat-map words --count-by-value | sstream-sink --tsv >"$BATS_TEST_TMPDIR/fused"
    sstream-source --replay "$BATS_TEST_TMPDIR/d" | sstream-map --map lower --flat-map words --count-by-value | sstream-sink --tsv >"$BATS_TEST_TMPDIR/record"
    sstream-source --replay "$BATS_TEST_TMPDIR/d" | sstream-map --flat-map words --filter . --count-by-value | sstream-sink --tsv >"$BATS_TEST_TMPDIR/steps"
    run cmp "$BATS_TEST_TMPDIR/fused" "$BATS_TEST_TMPDIR/record"
    assert_success
    run cmp "$BATS_TEST_TMPDIR/fused" "$BATS_TEST_TMPDIR/steps"
    assert_success
    run bash -c "sstream-source --replay '$BATS_TEST_TMPDIR/d' | sstream-sink --dump | grep -c 'flags=more'"
    assert_output 16
    # and the first batch against an independent count in first-appearance order
    run bash -c "grep '^1000	' '$BATS_TEST_TMPDIR/fused' | cut -f2- | md5sum"
    assert_output "$(awk '{ for (i = 1; i <= NF; i++) { if (!($i in c)) o[++n] = $i; c[$i]++ } } END { for (j = 1; j <= n; j++) print o[j] "\t" c[o[j]] }' "$BATS_TEST_TMPDIR/d/0001" | md5sum)"
    assert_equal "$(grep -c '^2000	' "$BATS_TEST_TMPDIR/fused")" 0
}

@test "map: words are found across 64-byte blocks, at any length, between any blanks" {
    # The splitter reads 64 bytes at a time and loads short words 16 bytes
    # at a time: words that cross a block edge, fill a block, run on for
    # several, sit at the end of a frame, or are 16 or 17 bytes long must
    # all come out whole, between every kind of blank.
    mkdir -p "$T/d"
    $PY - "$T" <<'EOF2'
import random, re, sys
t = sys.argv[1]
r = random.Random(11)
blanks = [" ", "\t", "\r", "\v", "\f", "  ", " \t "]
lines = []
for i in range(3000):
    ws = []
    for _ in range(r.randrange(0, 14)):
        n = r.choice([1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 130])
        ws.append("".join(r.choice("abcdefgh") for _ in range(n)))
    lead = r.choice(["", " ", "\t" * r.randrange(1, 70)])
    lines.append(lead + "".join(w + r.choice(blanks) for w in ws)[: r.choice([10**6, 60, 64, 65])])
lines.append("x" * 200)
open(t + "/d/0001", "w").write("\n".join(lines) + "\n")
words = [w for l in lines for w in re.split("[ \t\r\v\f]+", l) if w]
open(t + "/words", "w").write("".join("1000\t%s\n" % w for w in words))
seen = {}
for w in words:
    seen[w] = seen.get(w, 0) + 1
open(t + "/counts", "w").write("".join("1000\t%s\t%d\n" % kv for kv in seen.items()))
EOF2
    run bash -c "sstream-source --replay '$T/d' | sstream-map --flat-map words | sstream-sink --tsv | cmp - '$T/words'"
    assert_success
    run bash -c "sstream-source --replay '$T/d' | sstream-map --flat-map words --count-by-value | sstream-sink --tsv | cmp - '$T/counts'"
    assert_success
    run bash -c "sstream-source --replay '$T/d' | sstream-map --map lower --flat-map words --count-by-value | sstream-sink --tsv | cmp - '$T/counts'"
    assert_success
    assert_equal "$(wc -l <"$T/counts")" 8547
}

# ---- --sort-by, --desc, --take ----

@test "map: top 3 words per batch: --count-by-value --sort-by value --desc --take 3" {
    batches "$T/d" "a b c a b a d d d e c c c" "x y x 10 9 100" - "solo"
    run --separate-stderr m --flat-map words --count-by-value --sort-by value --desc --take 3
    assert_success
    # ties (a and d at 3; 9, 10, 100 and y at 1) go by key, numbers as numbers
    assert_output - <<'EOF2'
1000	c	4
1000	a	3
1000	d	3
2000	x	2
2000	9	1
2000	10	1
4000	solo	1
EOF2
    assert_equal "$stderr" ""
}

@test "map: --sort-by value sorts numbers as numbers, before text, stable" {
    mkdir -p "$T/d"
    printf '10\nb\n9\n-1.5\n\na\n1e2\n9.0\nb\n' >"$T/d/1"
    run m --sort-by value
    assert_output - <<'EOF2'
1000	-1.5
1000	9
1000	9.0
1000	10
1000	1e2
1000	
1000	a
1000	b
1000	b
EOF2
    run m --sort-by value --desc --take 4
    assert_output - <<'EOF2'
1000	b
1000	b
1000	a
1000	
EOF2
}

@test "map: --sort-by key keeps equal keys in arrival order; --desc reverses" {
    mkdir -p "$T/d"
    printf 'b 2\na 1\n10 x\nb 1\n9 y\na 0\n' >"$T/d/1"
    run m --key-field 1 --value-field 2 --sort-by key
    assert_output - <<'EOF2'
1000	9	y
1000	10	x
1000	a	1
1000	a	0
1000	b	2
1000	b	1
EOF2
    run m --key-field 1 --value-field 2 --sort-by key --desc --take 3
    assert_output - <<'EOF2'
1000	b	2
1000	b	1
1000	a	1
EOF2
}

@test "map: --take N passes the first N records of each batch" {
    batches "$T/d" "a b c d" "e" "f g h"
    run m --take 2
    assert_output "$(printf '1000\ta\n1000\tb\n2000\te\n3000\tf\n3000\tg')"
}

@test "map: --sort-by and --take usage errors, exit 2" {
    run --separate-stderr sstream-map --sort-by size
    assert_failure 2
    assert_equal "$stderr" "sstream-map: --sort-by: unknown field 'size' (try value or key)"
    run --separate-stderr sstream-map --desc --sort-by value
    assert_failure 2
    assert_equal "$stderr" "sstream-map: --desc: goes right after the --sort-by it reverses"
    run --separate-stderr sstream-map --take 0
    assert_failure 2
    assert_equal "$stderr" "sstream-map: --take: '0' is not a whole number from 1 to 4294967295"
}

@test "map: --sort-by key on keyless records says what to do, exit 1" {
    batches "$T/d" "a"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' | sstream-map --sort-by key | sstream-sink --tsv"
    assert_failure 1
    assert_equal "$stderr" "sstream-map: --sort-by key needs key/value records (make them with --pair, --key-field or --count-by-value)
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
}
