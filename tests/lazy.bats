#!/usr/bin/env bats
# The broker and HTTP client libraries (librdkafka, libnats, libmosquitto,
# libcurl) load when an option needs them (lib/lazy.c), not at every
# start. A folder on LD_LIBRARY_PATH holds a broken copy of each: a stage
# that loads one it does not need fails to start, and one that needs it
# says which Debian package to install.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    # libnats has its minor version in its soname: take it from the
    # JetStream helper of tests/nats.bats, which is linked with it.
    NATS=$(ldd "$SSTREAM_BIN/tests/nats-js" | awk '/libnats/ { print $1 }')
    [ -n "$NATS" ]
    mkdir "$T/lib"
    for l in libcurl.so.4 librdkafka.so.1 libmosquitto.so.1 "$NATS"; do
        echo 'not a library' >"$T/lib/$l"
    done
    batches "$T/in" "a b a" "b"
}

# missing LIB: what dlopen(3) says of the broken copy of LIB
missing() {
    echo "$T/lib/$1: file too short"
}

@test "lazy: a word count loads none of the broker and HTTP libraries" {
    run --separate-stderr env LD_LIBRARY_PATH="$T/lib" bash -c "
        set -o pipefail
        sstream-source --replay '$T/in' -b 1s |
            sstream-map --flat-map words --count-by-value | sstream-sink --lines"
    assert_success
    assert_output - <<'EOF'
a	2
b	1
b	1
EOF
    assert_equal "$stderr" ""
}

@test "lazy: sink --kafka, --post, --mqtt, --nats without their library name its package, exit 1" {
    sstream-source --replay "$T/in" -b 1s >"$T/frames"
    run --separate-stderr env LD_LIBRARY_PATH="$T/lib" \
        sstream-sink --kafka 127.0.0.1:9 --topic t <"$T/frames"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --kafka: cannot load librdkafka.so.1 (Debian package librdkafka1): $(missing librdkafka.so.1)"
    run --separate-stderr env LD_LIBRARY_PATH="$T/lib" \
        sstream-sink --post http://127.0.0.1:9/hook <"$T/frames"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --post: cannot load libcurl.so.4 (Debian package libcurl4): $(missing libcurl.so.4)"
    run --separate-stderr env LD_LIBRARY_PATH="$T/lib" \
        sstream-sink --mqtt 127.0.0.1:9 --topic t <"$T/frames"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --mqtt: cannot load libmosquitto.so.1 (Debian package libmosquitto1): $(missing libmosquitto.so.1)"
    run --separate-stderr env LD_LIBRARY_PATH="$T/lib" \
        sstream-sink --nats nats://127.0.0.1:9 --subject s <"$T/frames"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --nats: cannot load $NATS (Debian package ${NATS%%.so.*}${NATS#*.so.}): $(missing "$NATS")"
}

@test "lazy: source --kafka, --mqtt, --nats without their library name its package; the stream ends aborted" {
    run --separate-stderr env LD_LIBRARY_PATH="$T/lib" \
        sstream-source --kafka 127.0.0.1:9 --topic t --group g
    assert_failure 1
    assert_equal "$stderr" "sstream-source: --kafka: cannot load librdkafka.so.1 (Debian package librdkafka1): $(missing librdkafka.so.1)"
    run --separate-stderr env LD_LIBRARY_PATH="$T/lib" bash -c "
        sstream-source --mqtt 127.0.0.1:9 --topic t | sstream-sink --lines"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-source: --mqtt: cannot load libmosquitto.so.1 (Debian package libmosquitto1): $(missing libmosquitto.so.1)
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    run --separate-stderr env LD_LIBRARY_PATH="$T/lib" \
        sstream-source --nats nats://127.0.0.1:9 --stream s --consumer c
    assert_failure 1
    assert_equal "$stderr" "sstream-source: --nats: cannot load $NATS (Debian package ${NATS%%.so.*}${NATS#*.so.}): $(missing "$NATS")"
}
