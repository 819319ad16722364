/* map_coproc.c - sstream-map --exec-coprocess CMD: Spark's transform
 * through one command kept for the whole run (lib/coproc, the protocol
 * of man/sstream-coprocess.7), so a Python function pays its start-up
 * once, not once per batch as --exec does.
 *
 * A batch is sent whole, empty ones too (the command sees time pass),
 * and its answer is read whole before the batch goes on. The answer's
 * records have keys when the batch's had, as through --exec.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "coproc.h"
#include "diag.h"
#include "map_int.h"

int
ss_map__coproc_setup(struct map *m, size_t i)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    int rc;

    if ((st->co = calloc(1, sizeof(*st->co))) == NULL)
        return ss_diag_err(-ENOMEM, "--exec-coprocess");
    if ((rc = ss_coproc_start(st->co, op->arg, "map")) < 0)
        return ss_diag_err(rc, "--exec-coprocess '%s': cannot start it",
                           op->arg);
    return 0;
}

void
ss_map__coproc_release(struct step *st)
{
    if (st->co == NULL)
        return;
    ss_coproc_stop(st->co);
    free(st->co);
    st->co = NULL;
}

/* KEY<TAB>VALUE or VALUE, escaped, one line. */
int
ss_map__coproc_take(struct map *m, size_t i, struct ss_rec *r)
{
    struct step *st = &m->st[i];

    if (r->key != NULL &&
        (ss_coproc_escape(&st->scratch, r->key, r->klen) < 0 ||
         ss_buf_putc(&st->scratch, '\t') < 0))
        return -ENOMEM;
    if (ss_coproc_escape(&st->scratch, r->val, r->vlen) < 0 ||
        ss_buf_putc(&st->scratch, '\n') < 0)
        return -ENOMEM;
    st->count++;
    return 0;
}

/* The request in st->out: header, the records taken, the end line. */
static int
request(struct map *m, size_t i)
{
    struct step *st = &m->st[i];
    char head[96];
    int n = snprintf(head, sizeof(head), "batch %" PRId64 " %" PRIu64 " %s\n",
                     m->time, st->count, st->keyed_in ? "keyed" : "values");

    ss_buf_reset(&st->out);
    if (ss_buf_append(&st->out, head, (size_t)n) < 0 ||
        ss_buf_append(&st->out, st->scratch.data, st->scratch.len) < 0 ||
        ss_buf_append(&st->out, "\\.\n", 3) < 0)
        return -ENOMEM;
    return 0;
}

/* One answer line as a record: split at its first tab when the batch had
 * keys, unescaped in place. 1, or 0 when it was rejected. */
static int
answer_record(struct map *m, size_t i, char *p, size_t n, struct ss_rec *r)
{
    const char *opt = m->cfg->ops[i].opt;
    char *tab = NULL;
    long kl = 0, vl;

    r->val = p;
    r->vlen = n;
    r->key = NULL;
    r->klen = 0;
    if (m->st[i].keyed_in && (tab = memchr(p, '\t', n)) == NULL)
        return ss_map__reject(m, r,
                              "%s: '%.*s' has no tab between key and "
                              "value",
                              opt, (int)n, p);
    if (tab != NULL) {
        kl = ss_coproc_unescape(p, (size_t)(tab - p));
        r->val = tab + 1;
        r->vlen = (size_t)(p + n - tab - 1);
    }
    vl = ss_coproc_unescape((char *)r->val, r->vlen);
    if (kl < 0 || vl < 0)
        return ss_map__reject(m, r,
                              "%s: '%.*s' has a backslash that is not "
                              "\\\\, \\t or \\n",
                              opt, (int)n, p);
    if (tab != NULL) {
        r->key = p;
        r->klen = (size_t)kl;
    }
    r->vlen = (size_t)vl;
    return 1;
}

static int
push_answer(struct map *m, size_t i, struct ss_buf *ans)
{
    char *p = ans->data, *end = p + ans->len, *nl;
    struct ss_rec r;
    int rc;

    m->recno = 0;
    for (; p < end; p = nl + 1) {
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        m->recno++;
        if (answer_record(m, i, p, (size_t)(nl - p), &r) == 0)
            continue;
        if ((rc = ss_map__push(m, i + 1, r)) < 0)
            return rc;
    }
    return 0;
}

int
ss_map__coproc(struct map *m, size_t i)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    char how[96];
    int rc;

    if ((rc = request(m, i)) < 0)
        return rc;
    ss_buf_reset(&st->scratch);
    st->count = 0;
    rc = ss_coproc_call(st->co, st->out.data, st->out.len, &st->scratch);
    if (rc == -EPIPE || rc == -EPROTO)
        return ss_diag("batch %" PRId64 ": --exec-coprocess '%s': %s", m->time,
                       op->arg, ss_coproc_describe(st->co, how, sizeof(how)));
    if (rc < 0)
        return ss_diag_err(rc, "batch %" PRId64 ": --exec-coprocess '%s'",
                           m->time, op->arg);
    rc = push_answer(m, i, &st->scratch);
    ss_buf_reset(&st->scratch);
    return rc;
}
