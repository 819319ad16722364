/* state_exec.c - sstream-state --update-exec CMD: Spark's
 * updateStateByKey(f) and mapWithState with f a long-lived command
 * (lib/coproc, mode update of man/sstream-coprocess.7).
 *
 * The state stays here (checkpoints, replays, timeouts as with --update);
 * the command keeps none, so a batch can always be asked again. Per
 * batch, every key with records or state is sent, in byte order of the
 * keys: a key line (key, state or \N for none, how many values follow,
 * whether it is timing out), then its values in arrival order. The
 * answer holds, for each key in the same order, a 'state' or 'remove'
 * line, and anywhere 'emit' lines: records for --emit records.
 *
 * Owns: the command, and the batch's copies of its records and keys,
 * reused from batch to batch.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "coproc.h"
#include "diag.h"
#include "rejects.h"
#include "state_int.h"

#define NONE "\\N" /* no state: COPY's NULL, which no escaped text can be */

struct rec {
    size_t koff, klen, voff, vlen; /* into ex->rb */
    size_t seq;                    /* arrival number */
};

struct grp {
    size_t koff, klen; /* into ex->kb */
    size_t r0, nr;     /* its records: recs[r0 .. r0 + nr) once sorted */
    int timing_out;
};

struct ss_state_exec {
    struct ss_coproc co;
    const char *cmd;
    struct ss_buf rb; /* the batch's record bytes */
    struct rec *recs;
    size_t nrecs, caprecs;
    struct ss_buf kb; /* the keys of the request */
    struct grp *g;
    size_t ng, capg;
    struct ss_buf req, ans, tmp;
};

int
ss_state_exec_start(struct ss_state_exec **exp, const char *cmd)
{
    struct ss_state_exec *ex;
    int rc;

    if ((ex = calloc(1, sizeof(*ex))) == NULL)
        return ss_diag_err(-ENOMEM, "--update-exec");
    *exp = ex;
    ex->cmd = cmd;
    if ((rc = ss_coproc_start(&ex->co, cmd, "update")) < 0)
        return ss_diag_err(rc, "--update-exec '%s': cannot start it", cmd);
    return 0;
}

void
ss_state_exec_stop(struct ss_state_exec *ex)
{
    if (ex == NULL)
        return;
    ss_coproc_stop(&ex->co);
    ss_buf_release(&ex->rb);
    ss_buf_release(&ex->kb);
    ss_buf_release(&ex->req);
    ss_buf_release(&ex->ans);
    ss_buf_release(&ex->tmp);
    free(ex->recs);
    free(ex->g);
    free(ex);
}

/* Room for one more element of an array of 'size' bytes each. */
static int
grow(void **a, size_t *cap, size_t n, size_t size)
{
    size_t c = *cap ? *cap * 2 : 256;
    void *p;

    if (n < *cap)
        return 0;
    if (c > SIZE_MAX / size || (p = realloc(*a, c * size)) == NULL)
        return -ENOMEM;
    *a = p;
    *cap = c;
    return 0;
}

int
ss_state_exec_take(struct ss_state_exec *ex, const struct ss_rec *r)
{
    struct rec *x;

    if (grow((void **)&ex->recs, &ex->caprecs, ex->nrecs, sizeof(*x)) < 0)
        return -ENOMEM;
    x = &ex->recs[ex->nrecs];
    x->koff = ex->rb.len;
    x->klen = r->klen;
    x->voff = ex->rb.len + r->klen;
    x->vlen = r->vlen;
    x->seq = ex->nrecs;
    /* + 1: rb.data is never NULL, even for empty keys and values, so that
     * rb.data + offset is always defined */
    if (ss_buf_reserve(&ex->rb, r->klen + r->vlen + 1) < 0 ||
        ss_buf_append(&ex->rb, r->key, r->klen) < 0 ||
        ss_buf_append(&ex->rb, r->val, r->vlen) < 0)
        return -ENOMEM;
    ex->nrecs++;
    return 0;
}

static int
keycmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);

    return c != 0 ? c : al < bl ? -1 : al > bl;
}

/* qsort() has no context argument in C11: the bytes the compared
 * elements point into are set just before each sort (one thread). */
static const char *sort_base;

static int
cmp_rec(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    int c = keycmp(sort_base + x->koff, x->klen, sort_base + y->koff, y->klen);

    return c != 0 ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* By key; a key's group with records before its group from the state. */
static int
cmp_grp(const void *a, const void *b)
{
    const struct grp *x = a, *y = b;
    int c = keycmp(sort_base + x->koff, x->klen, sort_base + y->koff, y->klen);

    return c != 0 ? c : (x->nr == 0) - (y->nr == 0);
}

static int
add_grp(struct ss_state_exec *ex, const char *k, size_t kl, size_t r0,
        size_t nr)
{
    struct grp *g;

    if (grow((void **)&ex->g, &ex->capg, ex->ng, sizeof(*g)) < 0)
        return -ENOMEM;
    g = &ex->g[ex->ng++];
    g->koff = ex->kb.len;
    g->klen = kl;
    g->r0 = r0;
    g->nr = nr;
    g->timing_out = 0;
    if (ss_buf_reserve(&ex->kb, kl + 1) < 0) /* never NULL, as rb */
        return -ENOMEM;
    return ss_buf_append(&ex->kb, k, kl);
}

/* The request's keys: the batch's, each with its records in arrival
 * order, and the state's, in byte order, each once. */
static int
gather(struct ss_state_exec *ex, struct st *s)
{
    size_t i, j, cur = 0, kl, n = 0;
    const char *k;

    ex->ng = 0;
    ss_buf_reset(&ex->kb);
    sort_base = ex->rb.data;
    if (ex->nrecs > 1)
        qsort(ex->recs, ex->nrecs, sizeof(*ex->recs), cmp_rec);
    for (i = 0; i < ex->nrecs; i = j) {
        const struct rec *r = &ex->recs[i];

        for (j = i + 1; j < ex->nrecs && keycmp(ex->rb.data + r->koff, r->klen,
                                                ex->rb.data + ex->recs[j].koff,
                                                ex->recs[j].klen) == 0;
             j++)
            ;
        if (add_grp(ex, ex->rb.data + r->koff, r->klen, i, j - i) < 0)
            return -ENOMEM;
    }
    while ((k = ss_state__next(s, &cur, &kl)) != NULL)
        if (add_grp(ex, k, kl, 0, 0) < 0)
            return -ENOMEM;
    sort_base = ex->kb.data;
    if (ex->ng > 1)
        qsort(ex->g, ex->ng, sizeof(*ex->g), cmp_grp);
    for (i = 0; i < ex->ng; i++) /* drop the state's copy of a batch key */
        if (n == 0 || ex->g[i].nr > 0 ||
            keycmp(ex->kb.data + ex->g[i].koff, ex->g[i].klen,
                   ex->kb.data + ex->g[n - 1].koff, ex->g[n - 1].klen) != 0)
            ex->g[n++] = ex->g[i];
    ex->ng = n;
    return 0;
}

/* KEY<TAB>STATE|\N<TAB>COUNT<TAB>TIMING-OUT, then the values. */
static int
put_grp(struct ss_state_exec *ex, struct st *s, struct grp *g)
{
    struct ss_buf *b = &ex->req;
    const char *k = ex->kb.data + g->koff, *v;
    char num[48];
    size_t vl;
    int has, to, n, rc = 0;

    has = ss_state__get(s, k, g->klen, &v, &vl, &to);
    g->timing_out = has && g->nr == 0 && to;
    if (ss_coproc_escape(b, k, g->klen) < 0 || ss_buf_putc(b, '\t') < 0 ||
        (has ? ss_coproc_escape(b, v, vl) : ss_buf_append(b, NONE, 2)) < 0)
        return -ENOMEM;
    n = snprintf(num, sizeof(num), "\t%zu\t%d\n", g->nr, g->timing_out);
    if (ss_buf_append(b, num, (size_t)n) < 0)
        return -ENOMEM;
    for (size_t i = g->r0; rc == 0 && i < g->r0 + g->nr; i++) {
        const struct rec *r = &ex->recs[i];

        if ((rc = ss_coproc_escape(b, ex->rb.data + r->voff, r->vlen)) == 0)
            rc = ss_buf_putc(b, '\n');
    }
    return rc;
}

static int
request(struct ss_state_exec *ex, struct st *s)
{
    char head[96];
    int n = snprintf(head, sizeof(head), "batch %" PRId64 " %zu update\n",
                     ss_state__time(s), ex->ng);
    int rc = 0;

    ss_buf_reset(&ex->req);
    if (ss_buf_append(&ex->req, head, (size_t)n) < 0)
        return -ENOMEM;
    for (size_t i = 0; rc == 0 && i < ex->ng; i++)
        rc = put_grp(ex, s, &ex->g[i]);
    if (rc == 0)
        rc = ss_buf_append(&ex->req, "\\.\n", 3);
    return rc;
}

/* p[0..n) unescaped into ex->tmp: 0, or -1 for a bad escape. */
static int
unesc(struct ss_state_exec *ex, const char *p, size_t n)
{
    long len;

    ss_buf_reset(&ex->tmp);
    if (ss_buf_append(&ex->tmp, p, n) < 0)
        return -ENOMEM;
    if ((len = ss_coproc_unescape(ex->tmp.data, n)) < 0)
        return -1;
    ex->tmp.len = (size_t)len;
    return 0;
}

static int
reject(struct st *s, uint64_t line, const char *p, size_t n, const char *why)
{
    struct ss_rec r = {NULL, 0, p, n};

    ss_rejects_record(ss_state__rejects(s), ss_state__time(s), line, &r,
                      "--update-exec: '%.*s' %s", (int)n, p, why);
    return 0;
}

#define BAD_ESCAPE "has a backslash that is not \\\\, \\t or \\n"

/* 'emit<TAB>KEY<TAB>VALUE': a record for --emit records. */
static int
on_emit(struct ss_state_exec *ex, struct st *s, uint64_t line, const char *p,
        size_t n)
{
    const char *f = p + 5, *tab = memchr(f, '\t', n - 5);
    size_t kl;
    int rc;

    if (tab == NULL)
        return reject(s, line, p, n, "has no tab between key and value");
    if ((rc = unesc(ex, f, (size_t)(tab - f))) != 0)
        return rc < -1 ? rc : reject(s, line, p, n, BAD_ESCAPE);
    kl = ex->tmp.len;
    if (ss_buf_putc(&ex->tmp, '\t') < 0 ||
        ss_buf_append(&ex->tmp, tab + 1, (size_t)(p + n - tab - 1)) < 0)
        return -ENOMEM;
    rc = (int)ss_coproc_unescape(ex->tmp.data + kl + 1, ex->tmp.len - kl - 1);
    if (rc < 0)
        return reject(s, line, p, n, BAD_ESCAPE);
    return ss_state__emit(s, ex->tmp.data, kl, ex->tmp.data + kl + 1,
                          (size_t)rc);
}

/* 'state<TAB>TEXT' or 'remove', for group g. A timing-out key goes
 * whatever the answer (Spark's timing-out state cannot be updated). */
static int
on_state(struct ss_state_exec *ex, struct st *s, const struct grp *g,
         uint64_t line, const char *p, size_t n)
{
    const char *k = ex->kb.data + g->koff;
    int rc;

    if (*p == 'r' || g->timing_out) /* "remove" */
        return ss_state__remove(s, k, g->klen);
    if ((rc = unesc(ex, p + 6, n - 6)) != 0)
        return rc < -1 ? rc : reject(s, line, p, n, BAD_ESCAPE);
    return ss_state__set(s, k, g->klen, ex->tmp.data, ex->tmp.len, g->nr > 0);
}

static int
answer(struct ss_state_exec *ex, struct st *s)
{
    char *p = ex->ans.data, *end = p + ex->ans.len, *nl;
    uint64_t line = 0;
    size_t gi = 0;
    int rc = 0;

    for (; rc == 0 && p < end; p = nl + 1) {
        size_t n;

        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        n = (size_t)(nl - p);
        line++;
        if (n >= 5 && memcmp(p, "emit\t", 5) == 0) {
            rc = on_emit(ex, s, line, p, n);
        } else if ((n >= 6 && memcmp(p, "state\t", 6) == 0) ||
                   (n == 6 && memcmp(p, "remove", 6) == 0)) {
            if (gi == ex->ng)
                break;
            rc = on_state(ex, s, &ex->g[gi++], line, p, n);
        } else {
            rc = reject(s, line, p, n, "is not a state, remove or emit line");
        }
    }
    if (rc == 0 && (gi != ex->ng || p < end))
        return ss_diag("batch %" PRId64 ": --update-exec '%s': answered "
                       "%s states for %zu keys",
                       ss_state__time(s), ex->cmd, p < end ? "more" : "fewer",
                       ex->ng);
    return rc;
}

int
ss_state_exec_batch(struct ss_state_exec *ex, struct st *s)
{
    char how[96];
    int rc;

    if ((rc = gather(ex, s)) < 0 || (rc = request(ex, s)) < 0)
        return rc;
    ss_buf_reset(&ex->ans);
    rc = ss_coproc_call(&ex->co, ex->req.data, ex->req.len, &ex->ans);
    if (rc == -EPIPE || rc == -EPROTO)
        return ss_diag("batch %" PRId64 ": --update-exec '%s': %s",
                       ss_state__time(s), ex->cmd,
                       ss_coproc_describe(&ex->co, how, sizeof(how)));
    if (rc < 0)
        return ss_diag_err(rc, "batch %" PRId64 ": --update-exec '%s'",
                           ss_state__time(s), ex->cmd);
    rc = answer(ex, s);
    ex->nrecs = 0;
    ss_buf_reset(&ex->rb);
    return rc;
}
