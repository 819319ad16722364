#!/usr/bin/awk -f
# coprocess_update.awk - a reference client of sstream-coprocess(7), mode
# update: a running sum per key, as sstream-state --update sum keeps it,
# that also emits (key, new sum) for each key with values (mapWithState).
#
#   sstream-state --update-exec 'awk -f examples/coprocess_update.awk' ...
#
# Any awk (mawk needs -W interactive). Keys go back as they came, escaped;
# values and states here are numbers, which have no escapes.

function unesc(s,    out, i, c) {
    out = ""
    while ((i = index(s, "\\")) > 0) {
        c = substr(s, i + 1, 1)
        out = out substr(s, 1, i - 1) (c == "t" ? "\t" : c == "n" ? "\n" : c)
        s = substr(s, i + 2)
    }
    return out s
}

# The user's function: the key's new state from its state and values.
function update(state, nv, vals, timing_out,    sum, i) {
    sum = state == "\\N" ? 0 : unesc(state) + 0
    for (i = 1; i <= nv; i++)
        sum += unesc(vals[i])
    return sum
}

function answer(    s) {
    if (timing_out == "1") {
        print "remove"
        return
    }
    s = update(state, nv, vals, timing_out)
    if (nv > 0)
        print "emit\t" key "\t" s
    print "state\t" s
}

NR == 1 {
    if ($1 != "sstream-coprocess" || $2 != 1 || $3 != "update") {
        print "coprocess_update.awk: unexpected hello '" $0 "'" > "/dev/stderr"
        exit 1
    }
    next
}
want > 0 {
    vals[++nv] = $0
    if (--want == 0)
        answer()
    next
}
keys > 0 {
    split($0, f, "\t")
    key = f[1]; state = f[2]; want = f[3] + 0; timing_out = f[4]
    keys--
    nv = 0
    if (want == 0)
        answer()
    next
}
$0 == "\\." { print "\\."; fflush(); next }
$1 == "batch" { keys = $3 + 0; next }
