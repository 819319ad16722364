#!/usr/bin/env bats
# The examples of README.md and the man pages, run as a reader types them:
# every "$ " session of a page in order, in a fresh folder, its output
# compared byte for byte with the page (tests/helpers/doc-examples.py).
# Sessions that need a live producer or a server are skipped by name.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    ln -s "$REPO/examples" "$T/examples"
}

# examples DOC MIN : run DOC's sessions; all pass, at least MIN run.
examples() {
    run "$PY" "$TESTS_DIR/helpers/doc-examples.py" --run "$T" "$REPO/$1"
    echo "$output"
    assert_success
    assert_line --regexp '^[0-9]+ run, [0-9]+ skipped, 0 failed$'
    local n=${lines[-1]%% run,*}
    [ "$n" -ge "$2" ]
}

@test "docs: README.md's examples print what the page shows" {
    examples README.md 3
}

@test "docs: sstream(7)'s examples print what the page shows" {
    examples man/sstream.7 3
}

@test "docs: sstream(5)'s examples, the Python stage included" {
    examples man/sstream.5 2
}

@test "docs: sstream-source(1)'s examples print what the page shows" {
    examples man/sstream-source.1 3
}

@test "docs: sstream-sink(1)'s examples print what the page shows" {
    examples man/sstream-sink.1 8
}

@test "docs: an example whose output differs from its page fails, with the difference" {
    printf '%s\n' '# x' '' '    $ echo a; echo b' '    a' '    c' '' 'text' >"$T/bad.md"
    run "$PY" "$TESTS_DIR/helpers/doc-examples.py" --run "$T" "$T/bad.md"
    assert_failure 1
    assert_output - <<'OUT'
FAIL bad.md:3: $ echo a; echo b
  --- page
  +++ run
  @@ -1,2 +1,2 @@
   a
  -c
  +b
1 run, 0 skipped, 1 failed
OUT
}
