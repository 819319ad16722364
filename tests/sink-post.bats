#!/usr/bin/env bats
# sstream-sink --post URL: each batch one HTTP POST (a JSON body, the
# batch time in a header), tried again on a failure that may pass, never
# dropped. The server is tests/helpers/http-sink.py on 127.0.0.1 at a
# free port, logging each request.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    batches "$T/in" "a b" - "c"
    PIDS=()
}

teardown() {
    kill_bg
}

# http_sink [--fail N] [--fail-after K] [--status CODE]: start the server;
# $url is its address.
http_sink() {
    coproc HTTP { exec "$PY" "$TESTS_DIR/helpers/http-sink.py" "$T/log" "$@"; }
    PIDS+=($HTTP_PID)
    read -r port <&"${HTTP[0]}"
    url="http://127.0.0.1:$port/hook"
}

@test "post: each batch one POST with a JSON body and X-Sstream-Batch-Time" {
    http_sink
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --post '$url'"
    assert_success
    assert_output ""
    assert_equal "$stderr" ""
    assert_equal "$(cat "$T/log")" '200 POST /hook 1000 application/json
{"time":1000,"records":[{"value":"a"},{"value":"b"}]}
200 POST /hook 2000 application/json
{"time":2000,"records":[]}
200 POST /hook 3000 application/json
{"time":3000,"records":[{"value":"c"}]}'
    # keys, escaped as --json escapes them; --skip-empty sends no empty batch
    rm "$T/log"
    run --separate-stderr bash -c "'$PY' '$TESTS_DIR/helpers/frames.py' --keyed 'a\"b:1 t\\x:2' - 'c:3' |
        sstream-sink --post '$url' --skip-empty --lines"
    assert_success
    assert_output "$(printf 'a"b\t1\nt\\x\t2\nc\t3')"
    assert_equal "$(cat "$T/log")" '200 POST /hook 1000 application/json
{"time":1000,"records":[{"key":"a\"b","value":"1"},{"key":"t\\x","value":"2"}]}
200 POST /hook 3000 application/json
{"time":3000,"records":[{"key":"c","value":"3"}]}'
}

@test "post: a 503 is tried again after 250ms, then 500ms; nothing lost" {
    http_sink --fail 2
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --post '$url'"
    assert_success
    assert_equal "$stderr" "sstream-sink: --post $url: batch 1000: HTTP 503; retrying in 250ms
sstream-sink: --post $url: batch 1000: HTTP 503; retrying in 500ms"
    assert_equal "$(grep POST "$T/log")" "503 POST /hook 1000 application/json
503 POST /hook 1000 application/json
200 POST /hook 1000 application/json
200 POST /hook 2000 application/json
200 POST /hook 3000 application/json"
}

@test "post: retries used up stop the sink, exit 1; --commit keeps the batch for the rerun" {
    http_sink --fail-after 1
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' |
        sstream-sink --post '$url' --retries 1 --commit '$T/w'"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --post $url: batch 2000: HTTP 503; retrying in 250ms
sstream-sink: --post $url: batch 2000: HTTP 503 (gave up after 2 attempts)"
    assert_equal "$(cat "$T/w/commit")" 1000
    # the server is well again: the rerun sends what was not committed
    kill "$HTTP_PID"
    wait "$HTTP_PID" || true
    rm "$T/log"
    http_sink
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' |
        sstream-sink --post '$url' --commit '$T/w'"
    assert_success
    assert_equal "$(grep POST "$T/log")" "200 POST /hook 2000 application/json
200 POST /hook 3000 application/json"
    assert_equal "$(cat "$T/w/commit")" 3000
}

@test "post: no server is tried again, then exit 1; a 4xx is not tried again" {
    port=$(free_port)
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --post http://127.0.0.1:$port/ --retries 1"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --post http://127.0.0.1:$port/: batch 1000: Couldn't connect to server; retrying in 250ms
sstream-sink: --post http://127.0.0.1:$port/: batch 1000: Couldn't connect to server (gave up after 2 attempts)"
    http_sink --fail 9 --status 400
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --post '$url'"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --post $url: batch 1000: HTTP 400 (not tried again: the server refused the request itself)"
    assert_equal "$(grep -c POST "$T/log")" 1
}

@test "post: usage errors, exit 2" {
    run --separate-stderr sstream-sink --post ftp://example.com/
    assert_failure 2
    assert_equal "$stderr" "sstream-sink: --post: 'ftp://example.com/' is not an http:// or https:// URL"
    run --separate-stderr sstream-sink --retries 2
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-sink: --retries: needs --foreach or --post"
    run --separate-stderr sstream-sink --post http://127.0.0.1:1/ --retries 101
    assert_failure 2
    assert_equal "$stderr" "sstream-sink: --retries: '101' is not a whole number from 0 to 100"
}
