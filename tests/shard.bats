#!/usr/bin/env bats
# sstream-state and sstream-window --parallel N (lib/shard.c): N engines,
# each the keys that hash to it, give at --parallel 2 and 3 exactly what
# one engine gives, over batches of many keys that span several frames,
# with timeouts, removals, checkpoints and restarts.

load helpers/common

setup_file() {
    D=$BATS_FILE_TMPDIR/d
    mkdir -p "$D"
    # Three batches of key<TAB>value lines over 5,000 keys in a scrambled
    # order (the first of 40,000 lines, ~350 KB: two frames in, and
    # windows of more than one frame out), batch 2 and 3 of 24,000 on
    # fewer keys (so that some time out); an empty batch, a small one,
    # then quiet batches in which keys time out and sessions close.
    for b in 1 2 3; do
        awk -v b="$b" -v n=$((b == 1 ? 40000 : 24000)) 'BEGIN {
            for (i = 1; i <= n; i++)
                printf "k%d\t%d\n", (i * 7919 + b) % (5000 / b), (i * b) % 97
        }' >"$D/0$b"
    done
    : >"$D/04"
    printf 'k1\t5\nk2\t6\nk1\t7\nnew\t1\n' >"$D/05"
    for b in 06 07 08 09; do
        : >"$D/$b"
    done
    export D
}

setup() {
    T=$BATS_TEST_TMPDIR
}

# kv CMD...: the replayed lines as key/value records into CMD
kv() {
    sstream-map --key-field 1 --value-field 2 | "$@"
}

# same STAGE ARGS...: STAGE ARGS over $D at --parallel 1, 2 and 3: the
# same records (sink --tsv), stderr and status; an argument @CK becomes
# a fresh checkpoint folder per run. The output is not empty, so that a
# broken pipeline cannot pass.
same() {
    local n out1 err1 st1 args
    for n in 1 2 3; do
        args=("${@//@CK/$T/ck$n}")
        run --separate-stderr pipeline "$D" kv "${args[@]}" --parallel "$n"
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

@test "shard: state, every --emit, with and without --timeout" {
    same sstream-state --update sum --no-checkpoint
    same sstream-state --update sum --no-checkpoint --timeout 2s
    same sstream-state --update count --no-checkpoint --emit updated
    same sstream-state --update max --no-checkpoint --emit expired \
        --timeout 2s
    same sstream-state --update concat --no-checkpoint --emit updated \
        --separator ';'
}

@test "shard: state with a checkpoint, mean and last" {
    same sstream-state --update mean --checkpoint @CK --timeout 3s
    rm -rf "$T"/ck*
    same sstream-state --update last --checkpoint @CK --emit expired \
        --timeout 1s
    run cat "$T/ck2/parallel"
    assert_output 2
}

@test "shard: sliding windows, inverse and recomputed" {
    same sstream-window -w 3s --reduce-by-key sum
    same sstream-window -w 3s -s 2s --reduce-by-key sum --keep-empty-keys
    same sstream-window -w 4s -s 2s --reduce-by-key max
    same sstream-window -w 2s --reduce-by-key mean --no-inverse
}

# Keys alike in their first 8 or 16 bytes, keys that begin others, bytes
# above 0x7f: the engines sort them (lib/keysort) and the merger joins
# them (8 bytes at a time first) in byte order, as sort(1) does.
@test "shard: long keys alike in their first bytes, in byte order" {
    local D=$BATS_TEST_TMPDIR/long
    mkdir -p "$D"
    for b in 1 2 3; do
        awk -v b="$b" 'BEGIN {
            for (i = 1; i <= 6000; i++) {
                r = (i * 7919 + b * 31) % 3000
                if (r % 3 == 0) k = sprintf("user-session-%06d", r)
                else if (r % 3 == 1) k = substr("user-session-", 1, r % 14) r
                else k = sprintf("%c%c-%d", 200 + r % 5, 65 + r % 3, r)
                printf "%s\t%d\n", k, i % 10
            }
        }' >"$D/0$b"
    done
    same sstream-window -w 2s --reduce-by-key sum
    same sstream-state --update count --emit all --no-checkpoint
    run --separate-stderr pipeline "$D" kv sstream-window -w 2s \
        --reduce-by-key sum --parallel 2
    assert_success
    [ -n "$output" ] || fail "no output"
    for t in 1000 2000 3000; do
        awk -F'\t' -v t="$t" '$1 == t { print $2 }' <<<"$output" \
            >"$T/keys-$t"
        LC_ALL=C sort -c "$T/keys-$t" || fail "window $t: not in byte order"
        [ -s "$T/keys-$t" ] || fail "window $t: no keys"
    done
}

@test "shard: group-by-key, count-by-value, and windows with a checkpoint" {
    same sstream-window -w 2s --group-by-key
    same sstream-window -w 3s -s 3s --count-by-value
    same sstream-window -w 3s --reduce-by-key count --checkpoint @CK
}

@test "shard: keyless windows run as one (there are no keys to split)" {
    same sstream-window -w 3s --count
    same sstream-window -w 2s --reduce sum
    same sstream-window -w 2s
}

@test "shard: sessions: the same sessions, in shard order within a batch" {
    local n
    for n in 1 2 3; do
        run --separate-stderr pipeline "$D" kv sstream-window \
            --session-gap 2s --reduce-by-key sum --parallel "$n"
        assert_success
        sort <<<"$output" >"$T/s$n"
    done
    [ -s "$T/s1" ]
    cmp "$T/s1" "$T/s2"
    cmp "$T/s1" "$T/s3"
}

# upto K DIR: the batches of $D up to K (a name), in DIR
upto() {
    local f
    mkdir -p "$2"
    for f in "$D"/*; do
        [ "$(basename "$f")" \> "$1" ] || cp "$f" "$2/"
    done
}

# moved K A B STAGE ARGS...: the batches up to K at --parallel A, then,
# as a restart sends again what the sink has not committed, all of them
# at --parallel B, from the checkpoint $T/ck: B's output.
moved() {
    local k=$1 a=$2 b=$3
    shift 3
    rm -rf "$T/first" "$T/ck"
    upto "$k" "$T/first"
    pipeline "$T/first" kv "$@" --checkpoint "$T/ck" --parallel "$a" \
        >/dev/null &&
        pipeline "$D" kv "$@" --checkpoint "$T/ck" --parallel "$b"
}

# same_moved STAGE ARGS...: as one run at --parallel 1, whatever the N
# before and after the restart (the pairs in $MOVES: "A B" ...).
same_moved() {
    local expect ab one=() moves
    read -ra moves <<<"${MOVES:-2:2 2:3 3:1 1:2}"
    [ "$1" != sstream-state ] || one=(--no-checkpoint)
    expect=$(pipeline "$D" kv "$@" "${one[@]}")
    [ -n "$expect" ] || fail "no output"
    for ab in "${moves[@]}"; do
        run --separate-stderr moved 03 ${ab/:/ } "$@"
        assert_success
        [ "$output" = "$expect" ] || fail "$ab: not as one run ($*)"
    done
}

@test "shard: state moves to another --parallel at a restart" {
    same_moved sstream-state --update sum
    same_moved sstream-state --update max --emit expired --timeout 2s
}

@test "shard: windows move to another --parallel at a restart" {
    local MOVES="2:3 3:1"
    same_moved sstream-window -w 3s --reduce-by-key sum
    same_moved sstream-window -w 4s -s 2s --group-by-key
    same_moved sstream-window -w 2s --count-by-value
}

@test "shard: sessions move too (the same sessions)" {
    local expect ab
    expect=$(pipeline "$D" kv sstream-window --session-gap 2s \
        --reduce-by-key sum | sort)
    [ -n "$expect" ]
    for ab in "2 3" "3 1"; do
        run --separate-stderr moved 05 $ab sstream-window --session-gap 2s \
            --reduce-by-key sum
        assert_success
        [ "$(sort <<<"$output")" = "$expect" ] || fail "$ab: not as one run"
    done
}

@test "shard: state parts saved at different times are brought back alike" {
    local expect
    expect=$(pipeline "$D" kv sstream-state --update sum --no-checkpoint)
    upto 03 "$T/b3"
    upto 04 "$T/b4"
    pipeline "$T/b3" kv sstream-state --update sum --checkpoint "$T/ck" \
        --parallel 2 >/dev/null
    cp -r "$T/ck/part-0-of-2" "$T/part0"
    pipeline "$T/b4" kv sstream-state --update sum --checkpoint "$T/ck" \
        --parallel 2 >/dev/null
    # as a crash between the two parts' saves of batch 4000 leaves them
    rm -rf "$T/ck/part-0-of-2"
    cp -r "$T/part0" "$T/ck/part-0-of-2"
    run --separate-stderr pipeline "$D" kv sstream-state --update sum \
        --checkpoint "$T/ck" --parallel 3
    assert_success
    [ "$output" = "$expect" ] || fail "not as one run"
    assert_equal "$stderr" "sstream-state: 3 replayed batches (1000 to 3000) not applied again, output re-emitted"
}

@test "shard: window parts at different times are not moved" {
    upto 03 "$T/b3"
    upto 04 "$T/b4"
    pipeline "$T/b3" kv sstream-window -w 2s --reduce-by-key sum \
        --checkpoint "$T/ck" --parallel 2 >/dev/null
    cp -r "$T/ck/part-0-of-2" "$T/part0"
    pipeline "$T/b4" kv sstream-window -w 2s --reduce-by-key sum \
        --checkpoint "$T/ck" --parallel 2 >/dev/null
    rm -rf "$T/ck/part-0-of-2"
    cp -r "$T/part0" "$T/ck/part-0-of-2"
    run --separate-stderr pipeline "$D" kv sstream-window -w 2s \
        --reduce-by-key sum --checkpoint "$T/ck" --parallel 3
    assert_failure
    assert_equal "$stderr" "sstream-window: checkpoint '$T/ck': its parts stand at different batch times (a crash came between their saves): run once more at --parallel 2, then move it
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    # at the N it was written at, each part goes on from where it is
    run --separate-stderr pipeline "$D" kv sstream-window -w 2s \
        --reduce-by-key sum --checkpoint "$T/ck" --parallel 2
    assert_success
    [ "$output" = "$(pipeline "$D" kv sstream-window -w 2s \
        --reduce-by-key sum)" ]
}

@test "shard: --parallel: bad values and options it cannot take" {
    run --separate-stderr sstream-state --update sum --no-checkpoint \
        --parallel 65 </dev/null
    assert_failure 2
    assert_equal "$stderr" "sstream-state: --parallel: '65' is not a whole number from 0 to 64"
    run --separate-stderr sstream-window -w 2s --parallel x </dev/null
    assert_failure 2
    assert_equal "$stderr" "sstream-window: --parallel: 'x' is not a whole number from 0 to 64"
}

@test "shard: rejects are kept in the --rejects file, shard by shard" {
    local n
    batches "$T/r" "a:1 b:x c:2 d:z" "b:4 a:y"
    for n in 1 2; do
        run --separate-stderr pipeline "$T/r" sh -c 'sstream-map -F : \
            --key-field 1 --value-field 2 |
            sstream-window -w 2s --reduce-by-key sum --rejects "$0" \
            --parallel '"$n" "$T/rej$n"
        assert_success
        assert_output - <<'EOF'
1000	a	1
1000	c	2
2000	a	1
2000	b	4
2000	c	2
EOF
        assert_equal "${stderr##*$'\n'}" "sstream-window: 3 rejected records kept in '$T/rej$n'"
    done
    assert_equal "$(sort "$T/rej2")" "$(sort "$T/rej1")"
}

@test "shard: rejects are said and counted, the status as at --parallel 1" {
    local n
    batches "$T/r" "a:1 b:x c:2" "b:4 a:y"
    for n in 1 2; do
        run --separate-stderr pipeline "$T/r" sh -c 'sstream-map -F : \
            --key-field 1 --value-field 2 |
            sstream-state --update sum --no-checkpoint --parallel '"$n"
        assert_failure 1
        assert_output - <<'EOF'
1000	a	1
1000	c	2
2000	a	1
2000	b	4
2000	c	2
EOF
        assert_equal "${stderr##*$'\n'}" "sstream-state: 2 rejected records not kept (use --rejects FILE)"
    done
}

@test "shard: --stats shows the batch's input and each shard's time" {
    run --separate-stderr pipeline "$D" kv sstream-state --update sum \
        --no-checkpoint --parallel 3 --stats
    assert_success
    assert_regex "$(sed -n 1p <<<"$stderr")" '^sstream-state: batch 1000: records 40000 in 5000 out, bytes [0-9]+ in [0-9]+ out, processing [0-9]+ ms, scheduling delay -, workers [0-9]+ [0-9]+ [0-9]+ ms$'
    assert_equal "${stderr##*$'\n'}" "sstream-state: 9 batches, 88004 records in, 45005 out, 0 rejects, 0 replays skipped"
}

@test "shard: --dump prints every shard's keys" {
    pipeline "$D" kv sstream-state --update sum --checkpoint "$T/ck" \
        --parallel 2 >/dev/null
    pipeline "$D" kv sstream-state --update sum --checkpoint "$T/one" \
        >/dev/null
    run --separate-stderr sstream-state --dump "$T/ck"
    assert_success
    [ "$(sort <<<"$output")" = "$(sstream-state --dump "$T/one" 2>/dev/null | sort)" ]
    assert_regex "$stderr" "^sstream-state: checkpoint '$T/ck/part-0-of-2': batch time 9000, [0-9]+ keys
sstream-state: checkpoint '$T/ck/part-1-of-2': batch time 9000, [0-9]+ keys\$"
}

# fails N CMD: CMD (a shell pipeline, its stage taking --parallel $P) at
# --parallel 1 and N: the same status and messages
fails_alike() {
    local n=$1 cmd=$2 st1 err1
    run --separate-stderr env P=1 bash -c "set -o pipefail; $cmd"
    st1=$status err1=$stderr
    [ "$st1" != 0 ] || fail "it did not fail: $cmd"
    run --separate-stderr env P="$n" bash -c "set -o pipefail; $cmd"
    assert_equal "$status" "$st1"
    assert_equal "$stderr" "$err1"
}

@test "shard: a torn input, a failing shard: said once, as at --parallel 1" {
    fails_alike 3 'sstream-source --replay "$D" -b 1s |
        sstream-map --key-field 1 --value-field 2 | head -c 30000 |
        sstream-state --update sum --no-checkpoint --parallel $P |
        sstream-sink --tsv >/dev/null'
    fails_alike 2 'sstream-source --replay "$D" -b 1s |
        sstream-state --update sum --no-checkpoint --parallel $P |
        sstream-sink --tsv >/dev/null'
    fails_alike 2 'sstream-source --replay "$D" -b 1s |
        sstream-window -w 2s --group-by-key --parallel $P |
        sstream-sink --tsv >/dev/null'
}

@test "shard: a cause every shard meets is said once, with its exit status" {
    fails_alike 3 'sstream-source --replay "$D" -b 1s | sstream-map \
        --key-field 1 --value-field 2 | sstream-window -w 3s -s 1500ms \
        --reduce-by-key sum --parallel $P | sstream-sink --tsv >/dev/null'
    run --separate-stderr pipeline "$D" kv sstream-state --update sum \
        --checkpoint "$T/ck" --parallel 2
    assert_success
    run --separate-stderr bash -c 'set -o pipefail
        sstream-source --replay "$D" -b 1s | sstream-map --key-field 1 \
        --value-field 2 | sstream-state --update max --checkpoint "$0" \
        --parallel 2 | sstream-sink --tsv' "$T/ck"
    assert_failure 1
    # said by the shard that opened its part first: either
    assert_regex "$stderr" "^sstream-state: checkpoint '$T/ck/part-[01]-of-2' was made with --update sum, not --update max \\(use another --checkpoint DIR, or --dump it and --import\\)
sstream-sink: stdin: the stream was aborted: a stage before this one failed \\(see its message\\)\$"
}

@test "shard: --import at --parallel 1, then on at --parallel 2" {
    printf 'k1\t10\nk2\t20\n' >"$T/imp"
    batches "$T/one" "k1:1 k3:1"
    batches "$T/two" "k1:1 k3:1" "k2:5"
    run --separate-stderr bash -c 'set -o pipefail
        sstream-source --replay "$0" -b 1s | sstream-map -F : --key-field 1 \
        --value-field 2 | sstream-state --update sum --checkpoint "$1" \
        --import "$2" --parallel 2 | sstream-sink --tsv' "$T/one" "$T/ck" \
        "$T/imp"
    assert_failure
    assert_equal "$stderr" "sstream-state: --import: not with --parallel above 1 (load the state at --parallel 1 first)
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    pipeline "$T/one" sh -c 'sstream-map -F : --key-field 1 --value-field 2 |
        sstream-state --update sum --checkpoint "$0" --import "$1"' \
        "$T/ck" "$T/imp" >/dev/null
    run --separate-stderr pipeline "$T/two" sh -c 'sstream-map -F : \
        --key-field 1 --value-field 2 |
        sstream-state --update sum --checkpoint "$0" --parallel 2' "$T/ck"
    assert_success
    assert_output - <<'EOF2'
1000	k1	11
1000	k2	20
1000	k3	1
2000	k1	11
2000	k2	25
2000	k3	1
EOF2
}

@test "shard: user functions and allowed lateness refuse --parallel above 1, exit 2" {
    run --separate-stderr sstream-state --update-exec cat --no-checkpoint --parallel 2
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-state: --parallel: not with --update-exec (yet: run it at --parallel 1)"
    run --separate-stderr sstream-window -w 2s --reduce-exec cat --parallel 2
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --parallel 2: not with --reduce-exec (yet: run it at --parallel 1)"
    run --separate-stderr sstream-window -w 2s --count-by-value --filter-exec cat --parallel 2
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --parallel 2: not with --filter-exec (yet: run it at --parallel 1)"
    run --separate-stderr sstream-window -w 2s --reduce-by-key sum --allowed-lateness 1s --parallel 3
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --parallel 3: not with --allowed-lateness (yet: run it at --parallel 1)"
}

# The frames between the lead, the shards and the merger go without
# checksums (lib/shard.c): what comes in on stdin is still checked, at
# every --parallel.
@test "shard: a corrupt input frame is said, as at --parallel 1" {
    sstream-source --replay "$D" -b 1s |
        sstream-map --key-field 1 --value-field 2 >"$T/frames"
    printf 'X' | dd of="$T/frames" bs=1 seek=300 conv=notrunc 2>/dev/null
    fails_alike 2 'sstream-state --update sum --no-checkpoint --parallel $P \
        <"'"$T"'/frames" | sstream-sink --tsv >/dev/null'
    assert_regex "$stderr" "checksum mismatch"
    fails_alike 3 'sstream-window -w 2s --reduce-by-key sum --parallel $P \
        <"'"$T"'/frames" | sstream-sink --tsv >/dev/null'
    assert_regex "$stderr" "checksum mismatch"
}

# A window keeps its open pane's table from pane to pane, cleared, and
# frees it after 8 panes that needed far less (lib/window_pane.c): batches
# of thousands of keys, a few keys, other thousands, empty ones, a run of
# small ones, thousands again. Checked against sums made here, per window
# of 3 batches, at --parallel 1, 2 and 3: a key of an earlier pane left
# in the table would show.
@test "shard: windows over batches of very different sizes and keys" {
    local d=$T/sizes n t
    mkdir -p "$d"
    big() { # PREFIX COUNT SEED: COUNT keys PREFIX0.., values 1..5
        awk -v p="$1" -v n="$2" -v s="$3" 'BEGIN {
            for (i = 0; i < n; i++)
                printf "%s%d\t%d\n", p, (i * 7919 + s) % n, i % 5 + 1
        }'
    }
    big a 3000 1 >"$d/01"
    printf 'b1\t1\nb2\t2\nb1\t3\n' >"$d/02"
    big c 4000 2 >"$d/03"
    : >"$d/04"
    for n in 05 06 07 08 09 10 11 12 13 14; do
        printf 'e%s\t1\nb1\t%s\n' "$n" "${n#0}" >"$d/$n"
    done
    { big a 2000 3; big d 2500 4; } >"$d/15"
    printf 'a7\t-1\n' >"$d/16"
    for t in $(seq 1 16); do # batch t: window (t-3, t] of batch files
        awk -v t="$t" -v d="$d" 'BEGIN {
            for (b = t - 2; b <= t; b++) {
                if (b < 1)
                    continue
                f = sprintf("%s/%02d", d, b)
                while ((getline l < f) > 0) {
                    split(l, kv, "\t")
                    sum[kv[1]] += kv[2]
                }
                close(f)
            }
            for (k in sum)
                printf "%d\t%s\t%d\n", t * 1000, k, sum[k]
        }' | LC_ALL=C sort -t "$(printf '\t')" -k2,2
    done >"$T/want"
    [ "$(wc -l <"$T/want")" -gt 20000 ]
    for n in 1 2 3; do
        run --separate-stderr pipeline "$d" kv sstream-window -w 3s \
            --reduce-by-key sum --parallel "$n"
        assert_success
        [ "$output" = "$(cat "$T/want")" ] ||
            fail "--parallel $n: not the windows' sums"
    done
}
