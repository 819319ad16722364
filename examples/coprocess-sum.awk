#!/usr/bin/awk -f
# coprocess-sum.awk - a reference client of sstream-coprocess(7) for
# sstream-window: a sum in mode reduce (each key's values added), and
# its inverse in mode inverse (the leaving value taken out).
#
#   sstream-window -w 1m --reduce-exec 'awk -f examples/coprocess-sum.awk' \
#       --inverse-exec 'awk -f examples/coprocess-sum.awk'
#
# A request line is the key, then its values, separated by tabs; the
# answer is one line a key, in order: the folded value. (Numbers have no
# escapes; a value that could hold a tab or a newline would be unescaped
# as in coprocess.awk.) mawk needs -W interactive, as for coprocess.awk.

BEGIN { FS = "\t" }
NR == 1 {
    if ($0 !~ /^sstream-coprocess 1 (reduce|inverse)$/) {
        print "coprocess-sum.awk: unexpected hello '" $0 "'" > "/dev/stderr"
        exit 1
    }
    inverse = ($0 ~ /inverse$/)
    next
}
/^batch / { next }
$0 == "\\." { print "\\."; fflush(); next }
inverse { printf "%.17g\n", $2 - $3; next }
{
    s = 0
    for (i = 2; i <= NF; i++)
        s += $i
    printf "%.17g\n", s
}
