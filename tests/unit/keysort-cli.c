/* keysort-cli - drive lib/keysort from the command line for
 * tests/keysort.bats: the lines of stdin (any bytes but newline) out in
 * the order ss_keysort() gives them, as LC_ALL=C sort would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "keysort.h"

int
main(void)
{
    struct ss_buf in = {0};
    struct ss_keysort_ent *e = NULL, *tmp = NULL;
    size_t n = 0, cap = 0;
    ssize_t got;

    do {
        if (ss_buf_reserve(&in, 65536) < 0)
            return 1;
        if ((got = read(STDIN_FILENO, in.data + in.len, in.cap - in.len)) > 0)
            ss_buf_commit(&in, (size_t)got);
    } while (got > 0);
    for (size_t at = 0; at < in.len;) {
        const char *nl = memchr(in.data + at, '\n', in.len - at);
        size_t len = nl ? (size_t)(nl - (in.data + at)) : in.len - at;

        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            if ((e = realloc(e, cap * sizeof(*e))) == NULL)
                return 1;
        }
        e[n++] = (struct ss_keysort_ent){0, in.data + at, len, NULL};
        at += len + 1;
    }
    if ((tmp = malloc((n ? n : 1) * sizeof(*tmp))) == NULL)
        return 1;
    ss_keysort(e, tmp, n);
    for (size_t i = 0; i < n; i++) {
        fwrite(e[i].k, 1, e[i].klen, stdout);
        putchar('\n');
    }
    free(e);
    free(tmp);
    ss_buf_release(&in);
    return 0;
}
