#!/usr/bin/env bats
# Durable files (lib/io): checkpoints, the WAL and its commit, saved
# batches, the --watch ledger. A link planted in their folders never makes
# a stage write anywhere else; folders are created as mkdir -p would; a
# write that fails names the file, once. Input is replayed, -b 1s.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    batches "$T/in" "a b a" "b" "-" "a c"
    printf 'keep me\n' >"$T/outside"
}

# The outside file is as it was.
untouched() {
    assert_equal "$(cat "$T/outside")" "keep me"
    [ ! -L "$T/outside" ]
}

# NAME: contents of every file in folder $1, hidden ones included.
listing() {
    local f
    for f in "$1"/* "$1"/.[!.]*; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        if [ -L "$f" ]; then
            printf '%s -> link\n' "${f##*/}"
        else
            printf '%s: %s\n' "${f##*/}" "$(tr '\n\t' ' =' <"$f")"
        fi
    done
}

# ---- links planted at temporary and final names ----

@test "durable: links at a checkpoint's temporary names of old, and at its next file, are not written through" {
    mkdir "$T/ck"
    ln -s "$T/outside" "$T/ck/.tmp-000000000001.snap"
    ln -s "$T/outside" "$T/ck/.tmp-000000000001.log"
    ln -s "$T/outside" "$T/ck/.000000000001.snap.AAAAAAAA.tmp"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-map --flat-map words --pair 1 | sstream-state --update sum --checkpoint '$T/ck' | sstream-sink --tsv"
    assert_success
    assert_equal "$stderr" ""
    assert_output - <<'EOF'
1000	a	2
1000	b	1
2000	a	2
2000	b	2
3000	a	2
3000	b	2
4000	a	3
4000	b	2
4000	c	1
EOF
    untouched
    # the leftover of ours is cleaned up (the link, not its target); the
    # others are not ours to remove
    [ ! -L "$T/ck/.000000000001.snap.AAAAAAAA.tmp" ]
    [ -L "$T/ck/.tmp-000000000001.snap" ]
    run sstream-state --dump "$T/ck"
    assert_success
}

@test "durable: a link at a checkpoint's snapshot name is read as a bad snapshot, never written" {
    mkdir "$T/ck"
    ln -s "$T/outside" "$T/ck/000000000001.snap"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-map --flat-map words --pair 1 | sstream-state --update sum --checkpoint '$T/ck' | sstream-sink --tsv"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-state: warning: checkpoint '$T/ck/000000000001.snap': truncated; using the one before it
sstream-state: warning: checkpoint '$T/ck': no valid snapshot; starting empty
sstream-state: checkpoint '$T/ck/000000000001.snap' is corrupt and no older state is left
sstream-state: restore '$T/ck' from a backup, or move '$T/ck/000000000001.snap' away to start with an empty state
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    untouched
}

@test "durable: links at a saved batch's temporary name of old and at its final name: the file is replaced, the target kept" {
    mkdir "$T/out"
    ln -s "$T/outside" "$T/out/.w-1000.txt.tmp"
    ln -s "$T/outside" "$T/out/w-2000.txt"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --save-as-text-files '$T/out/w' --suffix txt"
    assert_success
    assert_equal "$stderr" ""
    untouched
    assert_equal "$(listing "$T/out")" "w-1000.txt: a b a 
w-2000.txt: b 
w-3000.txt: 
w-4000.txt: a c 
.w-1000.txt.tmp -> link"
}

@test "durable: links in the WAL folder: the commit's temporary name of old, the commit, a segment, the locks" {
    mkdir "$T/w"
    ln -s "$T/outside" "$T/w/.commit.tmp"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --lines --commit '$T/w'"
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(cat "$T/w/commit")" 4000
    untouched

    # a link at the last segment's name: once its tail was cut off the
    # link's target; now the log refuses it
    rm -rf "$T/w" && mkdir "$T/w"
    printf 'not a frame' >"$T/outside"
    ln -s "$T/outside" "$T/w/0000000000000001.wal"
    run --separate-stderr sstream-source --replay "$T/in" --wal "$T/w"
    assert_failure 1
    assert_equal "$stderr" "sstream-source: --wal: cannot open '$T/w/0000000000000001.wal': Too many levels of symbolic links"
    assert_equal "$(cat "$T/outside")" "not a frame"

    # a dangling link at a lock file's name creates nothing
    rm -rf "$T/w" && mkdir "$T/w"
    ln -s "$T/made" "$T/w/lock"
    run --separate-stderr sstream-source --replay "$T/in" --wal "$T/w"
    assert_failure 1
    assert_equal "$stderr" "sstream-source: --wal: cannot open '$T/w/lock': Too many levels of symbolic links"
    rm "$T/w/lock" && ln -s "$T/made" "$T/w/commit.lock"
    run --separate-stderr sstream-sink --lines --commit "$T/w" </dev/null
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --commit: cannot open '$T/w/commit.lock': Too many levels of symbolic links"
    [ ! -e "$T/made" ]
}

@test "durable: links at the --watch ledger's temporary name of old are not written through" {
    mkdir "$T/st" "$T/watch"
    printf 'x\n' >"$T/watch/f1"
    touch -d '1 minute ago' "$T/watch/f1"
    ln -s "$T/outside" "$T/st/.ledger.tmp"
    ln -s "$T/outside" "$T/st/.last-batch-time.tmp"
    run --separate-stderr bash -c "sstream-source --watch '$T/watch' --once --state '$T/st' | sstream-sink --lines"
    assert_success
    assert_output "x"
    untouched
    assert_equal "$(cat "$T/st/ledger")" "f1"
}

@test "durable: a crash between writing and renaming leaves a temporary file, removed at the next start" {
    run env SSTREAM_TEST_CRASH_AT=ckpt-rename:1 "$SSTREAM_BIN/tests/ckpt-cli" "$T/c" o=1 <<'EOF'
b 1000
p a 1
e
EOF
    assert_failure 137
    run ls -A "$T/c"
    assert_output --regexp '^\.000000000001\.snap\.[A-Za-z0-9]{8}\.tmp$'
    run "$SSTREAM_BIN/tests/ckpt-cli" "$T/c" o=1 </dev/null
    assert_success
    assert_output "time none"
    assert_equal "$(ls -A "$T/c")" ""
}

# ---- folders are created ----

@test "durable: the README's exactly-once pipeline runs as written in a fresh folder" {
    cd "$T"
    run --separate-stderr bash -c '
        sstream-source --replay in -b 1s --wal wal --max-uncommitted 8 |
            sstream-map --flat-map words --pair 1 |
            sstream-window -w 4s -s 2s --reduce-by-key sum --checkpoint win |
            sstream-state --update sum --checkpoint state |
            sstream-sink --save-as-text-files out/counts --commit wal'
    assert_success
    assert_output ""
    assert_equal "$stderr" ""
    assert_equal "$(listing out)" "counts-2000: a=2 b=2 
counts-4000: a=5 b=4 c=1 "
    assert_equal "$(cat wal/commit)" 4000
}

@test "durable: the sink creates its PREFIX's folder and the --commit folder, parents included" {
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --save-as-text-files '$T/a/b/w' --commit '$T/c/d'"
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(ls "$T/a/b" | tr '\n' ' ')" "w-1000 w-2000 w-3000 w-4000 "
    assert_equal "$(cat "$T/c/d/commit")" 4000
    cd "$T/a"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --save-as-text-files w"
    assert_success
    assert_equal "$(ls | tr '\n' ' ')" "b w-1000 w-2000 w-3000 w-4000 "
}

@test "durable: checkpoint and WAL folders are created with their parents" {
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/p/w' | sstream-map --flat-map words --pair 1 | sstream-state --update sum --checkpoint '$T/q/r/ck' | sstream-window -w 2s --reduce-by-key sum --checkpoint '$T/s/t/ck' | sstream-sink --lines --commit '$T/p/w'"
    assert_success
    assert_equal "$stderr" ""
    [ -f "$T/p/w/commit" ] && [ -f "$T/q/r/ck/000000000001.snap" ] && [ -f "$T/s/t/ck/000000000001.snap" ]
}

@test "durable: a folder that cannot be created is named, exit 1" {
    touch "$T/file"
    run --separate-stderr bash -c "sstream-sink --save-as-text-files '$T/file/sub/w' </dev/null"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --save-as-text-files: cannot create '$T/file/sub': Not a directory"
    run --separate-stderr bash -c "sstream-sink --lines --commit '$T/file/w' </dev/null"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --commit: cannot create '$T/file/w': Not a directory"
    run --separate-stderr sstream-source --replay "$T/in" --wal "$T/file/w"
    assert_failure 1
    assert_equal "$stderr" "sstream-source: --wal: cannot create '$T/file/w': Not a directory"
    run --separate-stderr bash -c "sstream-state --update sum --checkpoint '$T/file/ck' </dev/null"
    assert_failure 1
    assert_equal "$stderr" "sstream-state: checkpoint '$T/file/ck': Not a directory"
    run --separate-stderr bash -c "sstream-window -w 2s --count --checkpoint '$T/file/ck' </dev/null"
    assert_failure 1
    assert_equal "$stderr" "sstream-window: checkpoint '$T/file/ck': Not a directory"
}

# ---- a full or read-only folder names the file, once ----

# Run the script $1 in a mount namespace of its own (root, or a user
# namespace mapped to root), where it may mount tmpfs; skip when the
# sandbox allows neither.
in_mount_ns() {
    if unshare -m true 2>/dev/null; then
        unshare -m bash -c "$1"
    elif unshare -rm true 2>/dev/null; then
        unshare -rm bash -c "$1"
    else
        skip "no mount namespace here (unshare -m and unshare -rm refused)"
    fi
}

# The stages' inputs as frames, made outside the namespace.
frames() {
    sstream-source --replay "$T/in" -b 1s >"$T/plain.frames"
    sstream-source --replay "$T/in" -b 1s | sstream-map --flat-map words --pair 1 >"$T/keyed.frames"
}

# A tmpfs at $T/fs with no free page left.
FULL='mkdir -p fs && mount -t tmpfs -o size=64k tmpfs fs && mkdir fs/w fs/c fs/ck fs/wk fs/out && { cat /dev/zero >fs/fill; } 2>/dev/null'

@test "durable: a full folder names the file that failed, once, exit 1" {
    frames
    cd "$T"
    run in_mount_ns "$FULL"'
        sstream-source --replay in -b 1s --wal fs/w >/dev/null; echo "source $?"
        sstream-state --update sum --checkpoint fs/ck <keyed.frames >/dev/null; echo "state $?"
        sstream-window -w 2s --reduce-by-key sum --checkpoint fs/wk <keyed.frames >/dev/null; echo "window $?"
        sstream-sink --lines --commit fs/c <plain.frames >/dev/null; echo "commit $?"
        sstream-sink --save-as-text-files fs/out/p <plain.frames; echo "files $?"'
    assert_output - <<'EOF'
sstream-source: --wal: cannot write 'fs/w/0000000000000001.wal': No space left on device
source 1
sstream-state: checkpoint 'fs/ck/000000000001.snap': No space left on device
state 1
sstream-window: checkpoint 'fs/wk/000000000001.snap': No space left on device
window 1
sstream-sink: --commit: cannot write 'fs/c/commit': No space left on device
commit 1
sstream-sink: --save-as-text-files: cannot write 'fs/out/p-1000': No space left on device
files 1
EOF
}

@test "durable: a checkpoint log that fills its folder is named" {
    # Two pages free: the first snapshot and its log take one each; the
    # deltas fill the log's page, and the next one finds no room.
    for i in $(seq 100 250); do printf 'k%d\n' $((i % 3)) >"$T/in/x$i"; done
    frames
    cd "$T"
    run in_mount_ns 'mkdir -p fs && mount -t tmpfs -o size=64k tmpfs fs && mkdir fs/ck &&
        head -c 8192 /dev/zero >fs/gap && { cat /dev/zero >fs/fill; } 2>/dev/null
        rm fs/gap && sstream-state --update sum --checkpoint fs/ck --checkpoint-interval 1h <keyed.frames >/dev/null
        echo "state $?"'
    assert_output - <<'EOF'
sstream-state: checkpoint 'fs/ck/000000000001.log': No space left on device
state 1
EOF
}

@test "durable: a read-only folder names the file that failed, once, exit 1" {
    frames
    cd "$T"
    run in_mount_ns 'mkdir -p fs && mount -t tmpfs tmpfs fs && mkdir fs/w fs/c fs/ck fs/out &&
        mount -o remount,ro fs || exit 99
        sstream-source --replay in -b 1s --wal fs/w >/dev/null; echo "source $?"
        sstream-state --update sum --checkpoint fs/ck <keyed.frames >/dev/null; echo "state $?"
        sstream-window -w 2s --reduce-by-key sum --checkpoint fs/ck <keyed.frames >/dev/null; echo "window $?"
        sstream-sink --lines --commit fs/c <plain.frames >/dev/null; echo "commit $?"
        sstream-sink --save-as-text-files fs/out/p <plain.frames; echo "files $?"
        sstream-state --update sum --checkpoint fs/new <keyed.frames >/dev/null; echo "new $?"'
    assert_output - <<'EOF'
sstream-source: --wal: cannot open 'fs/w/lock': Read-only file system
source 1
sstream-state: checkpoint 'fs/ck/000000000001.snap': Read-only file system
state 1
sstream-window: checkpoint 'fs/ck/000000000001.snap': Read-only file system
window 1
sstream-sink: --commit: cannot open 'fs/c/commit.lock': Read-only file system
commit 1
sstream-sink: --save-as-text-files: cannot write 'fs/out/p-1000': Read-only file system
files 1
sstream-state: checkpoint 'fs/new': Read-only file system
new 1
EOF
}

@test "durable: /dev/full as a stage's output files is named, once" {
    frames
    run --separate-stderr bash -c "sstream-sink --lines <'$T/plain.frames' >/dev/full"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: stdout: No space left on device"
    run --separate-stderr bash -c "sstream-sink --lines --stats-file /dev/full <'$T/plain.frames' >/dev/null"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --stats-file: cannot write '/dev/full': No space left on device"
    printf 'long\n' >"$T/in/0005"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --max-record-bytes 2 --rejects /dev/full >/dev/null"
    assert_failure 1
    assert_equal "$(grep -c "^sstream-source: --rejects: cannot write '/dev/full': No space left on device\$" <<<"$stderr")" 1
}
