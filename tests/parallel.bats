#!/usr/bin/env bats
# sstream-map --parallel N: every operation gives at --parallel 2 and 3
# exactly what it gives at --parallel 1 (records, their order, rejects and
# their messages), over batches of many keys that span several frames.

load helpers/common

setup_file() {
    D=$BATS_FILE_TMPDIR/d
    mkdir -p "$D"
    # Two batches of 24,000 lines (~380 KB, two frames each): 5,000 keys
    # in a scrambled order, a number or now and then a non-number, and
    # words; then an empty batch and a small one.
    for b in 1 2; do
        awk -v b="$b" 'BEGIN {
            for (i = 1; i <= 24000; i++) {
                v = (i * b) % 97
                if (i % 4999 == 0) v = "x" i
                printf "k%d %s w%d w%d\n", (i * 7919 + b) % 5000, v, i % 13, (i * b) % 311
            }
        }' >"$D/$b"
    done
    : >"$D/3"
    printf 'k1 5 a\nk2 6 b\nk1 7 c\n' >"$D/4"
    printf 'k%d\tt%d\n' $(seq 0 2 4000 | awk '{ print $1, $1 }') >"$BATS_FILE_TMPDIR/table"
    export D
}

setup() {
    T=$BATS_TEST_TMPDIR
}

# same ARGS... : sstream-map ARGS at --parallel 1, 2 and 3 over $D: the
# same records (sink --tsv), the same stderr and status; the output is
# not empty, so that a broken pipeline cannot pass.
same() {
    local n out1 err1 st1
    for n in 1 2 3; do
        run --separate-stderr pipeline "$D" sstream-map --parallel "$n" "$@"
        if [ "$n" = 1 ]; then
            out1=$output err1=$stderr st1=$status
            [ -n "$output" ] || fail "no output at --parallel 1: $stderr"
            continue
        fi
        assert_equal "$status" "$st1"
        [ "$output" = "$out1" ] ||
            fail "--parallel $n: output differs from --parallel 1 ($*)"
        assert_equal "$stderr" "$err1"
    done
}

@test "parallel: word count (the fused path), and words from upper-cased lines" {
    same --flat-map words --count-by-value
    same --map upper --flat-map words --count-by-value
}

@test "parallel: count-by-value of key/value records, counts and reduce" {
    same --key-field 1 --count-by-value
    same --key-field 1 --count
    same --filter 'w1[0-2]' --count
    same --value-field 2 --reduce sum --rejects "$T/rej"
}

@test "parallel: --reduce-by-key with every operator, --group-by-key" {
    for op in sum count min max mean first last concat; do
        same --key-field 1 --value-field 2 --reduce-by-key "$op"
    done
    same --key-field 1 --value-field 3 --group-by-key
}

@test "parallel: sums and means of decimals, to the last digit" {
    mkdir -p "$T/dec"
    awk 'BEGIN { for (i = 1; i <= 30000; i++) printf "k%d %.3f\n", i % 7, i * 0.1 + 0.001 }' >"$T/dec/1"
    for op in sum mean; do
        run --separate-stderr pipeline "$T/dec" sstream-map --parallel 1 \
            --key-field 1 --value-field 2 --reduce-by-key "$op"
        one=$output
        [ -n "$one" ]
        for n in 2 3; do
            run --separate-stderr pipeline "$T/dec" sstream-map --parallel "$n" \
                --key-field 1 --value-field 2 --reduce-by-key "$op"
            assert_output "$one"
            run --separate-stderr pipeline "$T/dec" sstream-map --parallel "$n" \
                --value-field 2 --reduce "$op"
            assert_equal "$output" "$(pipeline "$T/dec" sstream-map --value-field 2 --reduce "$op")"
        done
    done
}

@test "parallel: rejects are said in record order and kept in the same file" {
    for n in 1 2 3; do
        run --separate-stderr pipeline "$D" sstream-map --parallel "$n" \
            --key-field 1 --value-field 2 --reduce-by-key sum --rejects "$T/rej"
        assert_success
        echo "$stderr" >"$T/err$n"
        mv "$T/rej" "$T/rej$n"
    done
    assert_equal "$(grep -c 'is not a number' "$T/err1")" 8
    cmp "$T/err1" "$T/err2"
    cmp "$T/err1" "$T/err3"
    cmp "$T/rej1" "$T/rej2"
    cmp "$T/rej1" "$T/rej3"
}

@test "parallel: filters, --where and maps pass records on in order" {
    same --filter 'k1[0-9]*7 '
    same --filter-out ' w[0-9] '
    same --value-field 2 --where 'value > 50'
    same --flat-map split:' ' --map upper --filter '^W'
    same --key-field 1 --map-values upper --flat-map-values words
}

@test "parallel: steps after the prefix run on the lead: joins, distinct, take, sort" {
    same --key-field 1 --value-field 4 --join "$BATS_FILE_TMPDIR/table"
    same --key-field 1 --value-field 4 --join "$BATS_FILE_TMPDIR/table" --join-type full
    same --flat-map words --distinct
    same --flat-map words --take 7
    same --distinct --count
    same --flat-map words --count-by-value --sort-by value --desc --take 5
    same --key-field 1 --count-by-value --exec 'sort -t "	" -k2,2nr -k1,1 | head -3'
}

@test "parallel: --union and --cogroup read their stream on the lead" {
    sstream-source --replay "$D" -b 1s >"$T/other"
    same --flat-map words --union "$T/other"
    sstream-source --replay "$D" -b 1s | sstream-map --key-field 1 --value-field 3 >"$T/keyed"
    same --key-field 1 --value-field 2 --filter 1 --cogroup "$T/keyed"
}

@test "parallel: --exec runs a copy per slice, outputs in slice order" {
    same --exec 'sed s/k/K/'
    same --filter 'w12 ' --exec 'tr a-z A-Z'
    same --key-field 1 --exec 'cat'
}

@test "parallel: an empty first batch, a batch smaller than the workers" {
    mkdir -p "$T/e"
    : >"$T/e/1"
    printf 'a b\n' >"$T/e/2"
    for n in 1 2 3; do
        run --separate-stderr pipeline "$T/e" sstream-map --parallel "$n" \
            --exec 'echo "[$(cat)]"'
        assert_success
        assert_output "$(printf '1000\t[]\n2000\t[a b]')"
        run --separate-stderr pipeline "$T/e" sstream-map --parallel "$n" \
            --flat-map words --count-by-value
        assert_success
        assert_output "$(printf '2000\ta\t1\n2000\tb\t1')"
    done
}

@test "parallel: a counted batch of many MiB, counted in rounds" {
    # 17 MB: the workers count it in rounds of 1, 2, then 4 MiB a
    # worker (lib/map_parallel.c, rounds_of()); new keys (b...)
    # come in every round and slice, old ones (a...) come back, a
    # non-number now and then is a reject (the last two after the first
    # round). Then a small batch, counted in one round. Outputs are
    # compared as files: a failure then does not print 200k lines.
    mkdir -p "$T/big"
    awk 'BEGIN {
        for (i = 1; i <= 700000; i++) {
            v = i % 97
            if (i % 99991 == 0) v = "x" i
            printf "a%d %s b%d c%d d%d\n", (i * 7919) % 60000, v, int(i / 7), i % 13, i % 1009
        }
    }' >"$T/big/1"
    printf 'a1 5 b1\nb2 6 a1\n' >"$T/big/2"
    [ "$(stat -c %s "$T/big/1")" -gt $((16 << 20)) ]
    for args in "--flat-map words --count-by-value" \
        "--value-field 2 --where value>50 --count-by-value"; do
        for n in 1 2 3; do
            # shellcheck disable=SC2086 # the arguments split at spaces
            pipeline "$T/big" sstream-map --parallel "$n" $args >"$T/out$n" 2>"$T/err$n" ||
                echo "exit $?" >>"$T/err$n"
        done
        [ "$(wc -l <"$T/out1")" -ge 46 ]
        cmp "$T/out1" "$T/out2"
        cmp "$T/out1" "$T/out3"
        cmp "$T/err1" "$T/err2"
        cmp "$T/err1" "$T/err3"
    done
    assert_equal "$(sed -n 6,9p "$T/err1")" "$(printf '%s\n' \
        "sstream-map: batch 1000, record 599946: 'x599946' is not a number" \
        "sstream-map: batch 1000, record 699937: 'x699937' is not a number" \
        "sstream-map: 7 rejected records not kept (use --rejects FILE)" \
        "exit 1")"
}

@test "parallel: a batch of many rounds, rejects in round 3 and later" {
    # SSTREAM_TEST_ROUND=1 (bytes a worker): every frame (about 256 KiB
    # of a replayed file) is a round of its own, at any N, so a 2.2 MB
    # batch runs in 9 rounds, read one while the workers count the last
    # (lib/map_parallel.c). New keys (b...) come in every round, old ones
    # (a...) come back; a non-number is a reject: in round 1, two in
    # round 3 (bytes 590-630k), rounds 6 and 9. Then a batch of 3 rounds
    # with a reject in round 2: record numbers start again at 1. Counted
    # (the workers' keys merged round by round), and only kept (each
    # round's records pushed on in order, to the output or a sort).
    mkdir -p "$T/many"
    awk -v n=120000 -v bad="2000 33000 35000 80000 119000" \
        'BEGIN {
            split(bad, b, " ")
            for (j in b) x[b[j]] = 1
            for (i = 1; i <= n; i++) {
                v = (i in x) ? "x" i : i % 97
                printf "a%d %s b%d c%d\n", (i * 7919) % 6000, v, int(i / 5), i % 13
            }
        }' >"$T/many/1"
    awk 'BEGIN { for (i = 1; i <= 30000; i++)
        printf "a%d %s b%d\n", i % 5000, i == 20000 ? "y" : i % 89, int(i / 3) }' >"$T/many/2"
    for args in "--flat-map words --count-by-value" \
        "--value-field 2 --where value>50 --count-by-value" \
        "--value-field 2 --where value>50 --count" \
        "--value-field 2 --where value>50" \
        "--value-field 2 --where value>50 --sort-by value --take 3"; do
        for n in 1 2 3; do
            # shellcheck disable=SC2086 # the arguments split at spaces
            SSTREAM_TEST_ROUND=1 pipeline "$T/many" sstream-map --parallel "$n" $args \
                >"$T/out$n" 2>"$T/err$n" || echo "exit $?" >>"$T/err$n"
        done
        [ "$(wc -l <"$T/out1")" -ge 2 ]
        cmp "$T/out1" "$T/out2"
        cmp "$T/out1" "$T/out3"
        cmp "$T/err1" "$T/err2"
        cmp "$T/err1" "$T/err3"
    done
    assert_equal "$(cat "$T/err1")" "$(printf '%s\n' \
        "sstream-map: batch 1000, record 2000: 'x2000' is not a number" \
        "sstream-map: batch 1000, record 33000: 'x33000' is not a number" \
        "sstream-map: batch 1000, record 35000: 'x35000' is not a number" \
        "sstream-map: batch 1000, record 80000: 'x80000' is not a number" \
        "sstream-map: batch 1000, record 119000: 'x119000' is not a number" \
        "sstream-map: batch 2000, record 20000: 'y' is not a number" \
        "sstream-map: 6 rejected records not kept (use --rejects FILE)" \
        "exit 1")"
    # the word count's keys in order of first appearance, as awk finds them
    SSTREAM_TEST_ROUND=1 pipeline "$T/many" sstream-map --parallel 2 \
        --flat-map words --count-by-value >"$T/wc2"
    awk '{ for (i = 1; i <= NF; i++) if (!($i in c)) { c[$i]; o[++n] = $i }
           for (i = 1; i <= NF; i++) c[$i]++ }
         END { for (i = 1; i <= n; i++) print o[i] "\t" c[o[i]] }' "$T/many/1" >"$T/want"
    awk -F '\t' '$1 == 1000 { print $2 "\t" $3 }' "$T/wc2" | cmp - "$T/want"
}

@test "parallel: a failing --exec is said once, as at --parallel 1" {
    for n in 1 2 3; do
        run --separate-stderr pipeline "$D" sstream-map --parallel "$n" \
            --exec 'cat; test "$SSTREAM_BATCH_TIME" != 2000'
        assert_failure 1
        assert_equal "$(cut -f1 <<<"$output" | uniq)" 1000
        assert_equal "$stderr" "$(printf '%s\n' \
            "sstream-map: batch 2000: --exec 'cat; test \"\$SSTREAM_BATCH_TIME\" != 2000': exited with status 1" \
            "sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)")"
    done
}

@test "parallel: key/value frames in" {
    for n in 1 2 3; do
        run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$D' -b 1s | sstream-map --key-field 1 --value-field 2 | sstream-map --parallel $n --filter '^[0-5]' --reduce-by-key max | sstream-sink --tsv"
        assert_success
        echo "$output" >"$T/out$n"
    done
    [ -s "$T/out1" ]
    cmp "$T/out1" "$T/out2"
    cmp "$T/out1" "$T/out3"
}

@test "parallel: --stats shows each worker's time" {
    run --separate-stderr pipeline "$D" sstream-map --parallel 2 --stats \
        --flat-map words --count-by-value
    assert_success
    [[ "$(sed -n 1p <<<"$stderr")" =~ ^"sstream-map: batch 1000: records 24000 in 5412 out, ".*", workers "[0-9]+" "[0-9]+" ms"$ ]]
}

@test "parallel: --parallel 0 is one worker per CPU" {
    run --separate-stderr pipeline "$D" sstream-map --parallel 0 --stats --key-field 1 --count
    assert_success
    workers=$(sed -n 1p <<<"$stderr" | grep -o 'workers [0-9 ]* ms' | wc -w)
    assert_equal "$((workers - 2))" "$(getconf _NPROCESSORS_ONLN)"
}

@test "parallel: a bad N is a usage error, one line" {
    for n in x -1 65 '' 2x; do
        run --separate-stderr sstream-map --parallel "$n" --count
        assert_failure 2
        assert_output ""
        assert_equal "$stderr" "sstream-map: --parallel: '$n' is not a whole number from 0 to 64"
    done
}
