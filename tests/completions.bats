#!/usr/bin/env bats
# Completions and man pages cover every option of every binary: the lists
# come from bin/*.c, so a binary or option added later is checked too.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
}

# long_opts FILE.c: the names in its longopts[] table, one per line.
long_opts() {
    sed -n '/longopts\[\] = {/,/{NULL, 0, NULL, 0}/p' "$1" |
        grep -o '{"[a-z0-9-]*"' | tr -d '{"'
}

# short_opts FILE.c: the letters of its getopt_long() optstring.
short_opts() {
    grep -o 'getopt_long(argc, argv, "[^"]*"' "$1" | cut -d'"' -f2 |
        tr -d ':' | fold -w1
}

# complete_bash NAME WORDS...: what the bash completion of bin NAME
# offers for the last word, sorted, on one line; no bash-completion
# package, only bash.
complete_bash() {
    local name=$1
    shift
    bash -c '
        source "$1"
        fn=$(complete -p "$2" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
        shift 2
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMPREPLY=()
        "$fn"
        [ ${#COMPREPLY[@]} -eq 0 ] ||
            printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
    ' _ "$REPO/completions/bash/$name" "$name" "$name" "$@"
}

@test "completions: sstream-source --re offers --record-bytes --rejects --replay" {
    run complete_bash sstream-source --re
    assert_success
    assert_output "--record-bytes --rejects --replay "
}

@test "completions: paths complete where the argument is a path" {
    mkdir -p "$T/c/dir1" "$T/c/dir2"
    : >"$T/c/file"
    run complete_bash sstream-source --replay "$T/c/"
    assert_output "$T/c/dir1 $T/c/dir2 "
    run complete_bash sstream-source --replay = "$T/c/d"
    assert_output "$T/c/dir1 $T/c/dir2 "
    run complete_bash sstream-source --rejects "$T/c/"
    assert_output "$T/c/dir1 $T/c/dir2 $T/c/file "
    run complete_bash sstream-source -b 1
    assert_output "100ms 10s 1m 1s "
}

@test "completions: sstream-sink offers its output options" {
    run complete_bash sstream-sink --
    assert_success
    assert_output "--commit --commit-topic --connect --connect-timeout --dump --foreach --help --json --kafka --lines --mqtt --nats --post --print --progress --qos --retries --save-as-text-files --skip-empty --spark-layout --stats --stats-file --subject --suffix --time-format --top --topic --tsv --version "
    run complete_bash sstream-sink --print = ""
    assert_output ""
}

@test "completions: every option of every binary is in its bash and zsh files" {
    local src name opt missing=
    for src in "$REPO"/bin/sstream-*.c; do
        name=$(basename "$src" .c)
        for f in "completions/bash/$name" "completions/zsh/_$name"; do
            if [ ! -f "$REPO/$f" ]; then
                missing+="$f (missing) "
                continue
            fi
            for opt in $(long_opts "$src"); do
                grep -qE -- "--$opt([^a-z0-9-]|\$)" "$REPO/$f" ||
                    missing+="$f: --$opt "
            done
            for opt in $(short_opts "$src"); do
                grep -qE -- "(^|[^a-z0-9-])-$opt([^a-zA-Z0-9-]|\$)" "$REPO/$f" ||
                    missing+="$f: -$opt "
            done
        done
    done
    assert_equal "$missing" ""
}

@test "completions: every long option of every binary is in its man page" {
    local src name opt missing=
    for src in "$REPO"/bin/sstream-*.c; do
        name=$(basename "$src" .c)
        if [ ! -f "$REPO/man/$name.1" ]; then
            missing+="man/$name.1 (missing) "
            continue
        fi
        for opt in $(long_opts "$src"); do
            sed 's/\\-/-/g' "$REPO/man/$name.1" |
                grep -qE -- "--$opt([^a-z0-9-]|\$)" ||
                missing+="man/$name.1: --$opt "
        done
    done
    assert_equal "$missing" ""
}

@test "completions: the bash and zsh files are valid shell" {
    local f
    for f in "$REPO"/completions/bash/*; do
        run bash -n "$f"
        assert_success
    done
    command -v zsh >/dev/null || skip "zsh not installed"
    for f in "$REPO"/completions/zsh/_*; do
        run zsh -n "$f"
        assert_success
        assert_equal "$(head -1 "$f")" "#compdef $(basename "$f" | cut -c2-)"
    done
}
