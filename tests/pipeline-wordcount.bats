#!/usr/bin/env bats
# The word count of Spark Streaming's NetworkWordCount, end to end:
# source | map | sink, checked batch by batch against awk.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    mkdir -p "$T/d"
    # Six batches of text: Zipf-ish words, runs of blanks and tabs, empty
    # lines, and an empty batch (the fourth).
    awk -v dir="$T/d" 'BEGIN {
        srand(7)
        split("the of and a to in is you that it he was for on are as", w)
        for (b = 1; b <= 6; b++) {
            f = sprintf("%s/%04d", dir, b)
            printf "" >f
            if (b == 4) { close(f); continue }
            for (l = 0; l < 40 * b; l++) {
                n = int(rand() * 9)
                line = ""
                for (i = 0; i < n; i++) {
                    r = rand(); k = int(16 * r * r * r) + 1
                    line = line (rand() < 0.2 ? " \t " : " ") w[k] (rand() < 0.1 ? b : "")
                }
                print line >f
            }
            close(f)
        }
    }'
    # The reference: per file (batch i at time i * 1000), words counted in
    # order of first appearance, as time<TAB>word<TAB>count.
    REF=$(for f in "$T"/d/*; do
        t=$((10#$(basename "$f") * 1000))
        awk -v t="$t" '{ for (i = 1; i <= NF; i++) { if (!($i in c)) o[++n] = $i; c[$i]++ } }
            END { for (i = 1; i <= n; i++) printf "%s\t%s\t%d\n", t, o[i], c[o[i]] }' "$f"
    done)
}

@test "wordcount: --flat-map words --count-by-value equals awk, batch by batch" {
    [ -n "$REF" ]
    run --separate-stderr pipeline "$T/d" sstream-map --flat-map words --count-by-value
    assert_success
    assert_output "$REF"
    assert_equal "$stderr" ""
}

@test "wordcount: --flat-map words --pair 1 --reduce-by-key sum equals awk" {
    run --separate-stderr pipeline "$T/d" sstream-map --flat-map words --pair 1 --reduce-by-key sum
    assert_success
    assert_output "$REF"
}

@test "wordcount: the empty batch is a frame with no records" {
    run bash -c "sstream-source --replay '$T/d' | sstream-map -f words --count-by-value | sstream-sink --dump | grep -o 'batch time=4000 [^ ]* count=[0-9]*'"
    assert_success
    assert_output "batch time=4000 interval=1000 count=0"
}

@test "wordcount: per-batch totals agree with wc -w" {
    want=$(for f in "$T"/d/*; do
        echo "$((10#$(basename "$f") * 1000))	$(wc -w <"$f")"
    done)
    run pipeline "$T/d" sstream-map -f words --pair 1 --reduce sum
    # --reduce sum over the 1s: one record per non-empty batch.
    assert_output "$(echo "$want" | grep -v '	0$')"
    run pipeline "$T/d" sstream-map -f words --count
    assert_output "$want"
}
