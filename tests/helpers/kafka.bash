# tests/helpers/kafka.bash - librdkafka's mock cluster for bats files
# (tests/helpers/kafka-mock: the Kafka protocol over TCP on 127.0.0.1,
# each broker on a port the kernel picks), with kcat as the peer client.
# Needs T (the test's folder) and PIDS (stopped in teardown).

MOCK_BIN="$SSTREAM_BIN/tests/kafka-mock"

# kafka_start [-p N] [-u TOPIC] [-a TOPIC] TOPIC...: a cluster of three
# brokers; BOOT is its bootstrap list. Skips when kcat or the mock is
# missing.
kafka_start() {
    local i
    command -v kcat >/dev/null || skip "kcat is not installed (scripts/deps test)"
    [ -x "$MOCK_BIN" ] || skip "no $MOCK_BIN (librdkafka-dev missing at build)"
    # the file exists before the mock opens it: head must not race it
    : >"$T/boot"
    "$MOCK_BIN" "$@" >>"$T/boot" 2>"$T/mock.err" &
    PIDS+=($!)
    for i in $(seq 1 100); do
        BOOT=$(head -1 "$T/boot")
        [ -n "$BOOT" ] && return 0
        sleep 0.05
    done
    echo "kafka-mock did not start: $(cat "$T/mock.err")" >&2
    return 1
}

# produce TOPIC [kcat options]: stdin's lines, one message each.
produce() {
    local topic=$1
    shift
    kcat -b "$BOOT" -P -t "$topic" "$@"
}

# consume TOPIC [FORMAT]: every committed message of TOPIC (read_committed),
# as kcat -f prints it (default: the value and a newline).
consume() {
    kcat -b "$BOOT" -C -t "$1" -e -o beginning -q -f "${2:-%s\n}" \
        -X isolation.level=read_committed
}

# settled N NAME...: the --stats lines of members NAME ($T/NAME.err) say
# that their last rebalances assigned them N partitions in all (the group
# is stable).
settled() {
    local n=$1 m sum=0 last
    shift
    for m in "$@"; do
        last=$(grep -o 'rebalance: [a-z]* [0-9]*' "$T/$m.err" | tail -1)
        [[ $last == "rebalance: assigned "* ]] || return 1
        sum=$((sum + ${last##* }))
    done
    [ "$sum" -eq "$n" ]
}
