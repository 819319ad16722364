#!/usr/bin/awk -f
# coprocess.awk - a reference client of sstream-coprocess(7): an
# uppercase map (the values; keys stay as they are).
#
#   sstream-map --exec-coprocess 'awk -f examples/coprocess.awk'
#
# Any awk (mawk, gawk, busybox): escapes are undone and redone by hand,
# as gsub()'s backslashes differ from one awk to the next.

function unesc(s,    out, i, c) {
    out = ""
    while ((i = index(s, "\\")) > 0) {
        c = substr(s, i + 1, 1)
        out = out substr(s, 1, i - 1) (c == "t" ? "\t" : c == "n" ? "\n" : c)
        s = substr(s, i + 2)
    }
    return out s
}

function esc(s,    out, i, c, n) {
    out = ""
    n = length(s)
    for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        if (c == "\\") c = "\\\\"
        else if (c == "\t") c = "\\t"
        else if (c == "\n") c = "\\n"
        out = out c
    }
    return out
}

# The user's function: one record in, one record out.
function map(value) {
    return toupper(value)
}

NR == 1 {
    if ($1 != "sstream-coprocess" || $2 != 1 || $3 != "map") {
        print "coprocess.awk: unexpected hello '" $0 "'" > "/dev/stderr"
        exit 1
    }
    next
}
/^batch / { keyed = ($4 == "keyed"); next }
$0 == "\\." { print "\\."; fflush(); next }
{
    if (keyed && (t = index($0, "\t")) > 0)
        print substr($0, 1, t) esc(map(unesc(substr($0, t + 1))))
    else
        print esc(map(unesc($0)))
}
