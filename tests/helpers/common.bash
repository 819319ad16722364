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
