# tests/helpers/common.bash - loaded by every .bats file.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

TESTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$TESTS_DIR/.." && pwd)"
FIXTURES="$TESTS_DIR/fixtures"
: "${SSTREAM_BIN:=$REPO/build}"
PATH="$SSTREAM_BIN:$PATH"
export PATH FIXTURES REPO
# Python with the Debian xxhash module, whatever python3 comes first on PATH.
PY=/usr/bin/python3

# pipeline DIR CMD... : replay DIR (one file per batch, -b 1s) through the
# stage CMD into the sink's --tsv output.
pipeline() {
    local dir=$1
    shift
    set -o pipefail
    sstream-source --replay "$dir" -b 1s | "$@" | sstream-sink --tsv
}

# batches DIR LINES... : make a replay folder, one file per argument, each
# argument's words (space-separated; "-" for an empty batch) one per line.
batches() {
    local dir=$1 i=0 arg
    shift
    mkdir -p "$dir"
    for arg in "$@"; do
        i=$((i + 1))
        if [ "$arg" = - ]; then
            : >"$dir/$(printf %04d "$i")"
        else
            printf '%s\n' $arg >"$dir/$(printf %04d "$i")"
        fi
    done
}

# free_port: a TCP port on 127.0.0.1 that nobody listens on now.
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT: until something listens on PORT (at most 5 s; asked of
# the kernel: a test connection would use up a one-connection server).
wait_port() {
    local i
    for i in $(seq 1 100); do
        [ -n "$(ss -Hltn "sport = :$1")" ] && return 0
        sleep 0.05
    done
    echo "timed out waiting for a listener on port $1" >&2
    return 1
}

# wait_lines FILE N: until FILE has N lines (at most 15 s).
wait_lines() {
    local i
    for i in $(seq 1 150); do
        [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    echo "timed out waiting for $2 lines in $1" >&2
    return 1
}

# kill_bg: ends the background processes a test put in PIDS (teardown).
kill_bg() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
}

# readme_block SECTION K: the K-th code block (indented four spaces) of
# the README's section whose "### " heading starts with SECTION, as a
# reader pastes it.
readme_block() {
    awk -v sec="### $1" -v k="$2" 'index($0, sec) == 1 { s = 1; next }
        s && /^### / { exit }
        s && /^    / { if (!b) n++; b = 1; if (n == k) print substr($0, 5); next }
        s { b = 0 }' "$REPO/README.md"
}

# kill_listeners PORT: end the processes listening on PORT (a server that
# a test's script started and could not stop); always succeeds.
kill_listeners() {
    local pid
    for pid in $(ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2); do
        kill "$pid" 2>/dev/null || true
    done
    return 0
}
