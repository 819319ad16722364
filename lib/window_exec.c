/* window_exec.c - sstream-window's user functions: --reduce-exec,
 * --inverse-exec and --filter-exec, Spark's reduceByKeyAndWindow(func,
 * invFunc, filterFunc) with each function in a command kept for the
 * whole run (lib/coproc; the modes reduce, inverse and filter of
 * man/sstream-coprocess.7).
 *
 * The values are the user's text. A pane's or the window's entry for a
 * key is an accumulator of the operator 'last' (window_int.h): its text
 * the folded value, its count the records folded in; so panes, their
 * flattening, the checkpoint codec and the output are the built-in
 * ones, and only the folding is here:
 *   - a batch's values, grouped by key, fold into the open pane when the
 *     batch ends: one request a batch, not one a record;
 *   - a window is the fold of its panes, in time order; with
 *     --inverse-exec, the last window without the pane that leaves
 *     (inverse), then with the pane that closes (reduce), in Spark's
 *     order; a key whose window holds no records leaves it, as with the
 *     built-in operators (--keep-empty-keys keeps it, as Spark does);
 *   - the window's (key, value) records go through --filter-exec.
 * The fold of one value is that value: a command is asked only about
 * keys with two or more, and a request with no keys is not sent.
 *
 * A bad answer line is a reject (man/sstream-coprocess.7): for a batch,
 * the key's records of the batch are rejected and its pane stays as it
 * was; for a window, the key leaves the window and the window is
 * recomputed from its panes. A command that dies, or answers with too
 * many or too few lines, ends the run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "bytes.h"
#include "coproc.h"
#include "diag.h"
#include "keytab.h"
#include "rejects.h"
#include "window_int.h"

enum {
    REDUCE,
    INVERSE,
    FILTER,
    NCMD
};

static const char *const opt_name[NCMD] = {"--reduce-exec", "--inverse-exec",
                                           "--filter-exec"};
static const char *const mode_name[NCMD] = {"reduce", "inverse", "filter"};

/* A key's values gathered for one request: a chain through ex->vals of
 * entries [next + 1 (8)][length (4)][bytes] (next + 1 == 0 ends it). */
struct staged {
    uint64_t n; /* records the values stand for */
    size_t head, tail;
    uint32_t nvals;
};

struct win_exec {
    struct ss_coproc co[NCMD];
    const char *cmd[NCMD];  /* NULL: not given */
    struct ss_keytab stage; /* key -> struct staged */
    struct ss_buf vals;
    struct ss_buf req; /* the request's key lines */
    struct ss_buf tgt; /* per line: key length (4), key, records (8) */
    struct ss_buf out; /* the whole request */
    struct ss_buf ans; /* the answer's lines */
    uint32_t lines;
};

#define VAL_HEAD 12

int
ss_window__exec_reduces(const struct win *x)
{
    return x->ex != NULL && x->ex->cmd[REDUCE] != NULL;
}

int
ss_window__exec_start(struct win *x)
{
    const struct ss_window_config *cfg = x->cfg;
    const char *cmd[NCMD] = {cfg->reduce_exec, cfg->inverse_exec,
                             cfg->filter_exec};
    struct win_exec *ex;
    int rc;

    if (cmd[REDUCE] == NULL && cmd[FILTER] == NULL)
        return 0;
    if ((ex = x->ex = calloc(1, sizeof(*ex))) == NULL)
        return ss_diag_err(-ENOMEM, "%s", opt_name[REDUCE]);
    ss_keytab_init(&ex->stage, sizeof(struct staged), NULL);
    for (int i = 0; i < NCMD; i++) {
        if (cmd[i] == NULL)
            continue;
        ex->cmd[i] = cmd[i];
        if ((rc = ss_coproc_start(&ex->co[i], cmd[i], mode_name[i])) < 0)
            return ss_diag_err(rc, "%s '%s': cannot start it", opt_name[i],
                               cmd[i]);
    }
    return 0;
}

void
ss_window__exec_release(struct win *x)
{
    struct win_exec *ex = x->ex;

    if (ex == NULL)
        return;
    for (int i = 0; i < NCMD; i++)
        ss_coproc_stop(&ex->co[i]);
    ss_keytab_release(&ex->stage);
    ss_buf_release(&ex->vals);
    ss_buf_release(&ex->req);
    ss_buf_release(&ex->tgt);
    ss_buf_release(&ex->out);
    ss_buf_release(&ex->ans);
    free(ex);
    x->ex = NULL;
}

/* ---- values gathered by key ---- */

static int
stage_put(struct win_exec *ex, const char *k, size_t klen, const char *v,
          size_t vlen, uint64_t n)
{
    size_t at = ex->vals.len;
    struct staged *s;
    char h[VAL_HEAD];
    int created;

    if (vlen > UINT32_MAX)
        return -E2BIG;
    if ((s = ss_keytab_get(&ex->stage, k, klen, &created)) == NULL)
        return -ENOMEM;
    ss_bytes_put_le(h, 0, 8);
    ss_bytes_put_le(h + 8, vlen, 4);
    if (ss_buf_append(&ex->vals, h, sizeof(h)) < 0 ||
        ss_buf_append(&ex->vals, v, vlen) < 0)
        return -ENOMEM;
    if (s->nvals == 0)
        s->head = at;
    else
        ss_bytes_put_le(ex->vals.data + s->tail, at + 1, 8);
    s->tail = at;
    s->nvals++;
    s->n += n;
    return 0;
}

/* The value at 'at' in ex->vals; the offset of the next, or 0 at the end. */
static size_t
stage_val(const struct win_exec *ex, size_t at, const char **v, size_t *vlen)
{
    const char *h = ex->vals.data + at;

    *vlen = (size_t)ss_bytes_get_le(h + 8, 4);
    *v = h + VAL_HEAD;
    return (size_t)ss_bytes_get_le(h, 8);
}

static void
stage_clear(struct win_exec *ex)
{
    ss_keytab_clear(&ex->stage);
    ss_buf_reset(&ex->vals);
}

/* ---- requests and answers ---- */

static void
req_reset(struct win_exec *ex)
{
    ss_buf_reset(&ex->req);
    ss_buf_reset(&ex->tgt);
    ss_buf_reset(&ex->ans);
    ex->lines = 0;
}

/* A key line: the key, then each value after a tab; 'n' goes with the
 * line's answer. Any error is -ENOMEM. */
static int
line_key(struct win_exec *ex, const char *k, size_t klen, uint64_t n)
{
    char h[4];

    ss_bytes_put_le(h, klen, 4);
    if (ss_buf_append(&ex->tgt, h, 4) < 0 ||
        ss_buf_append(&ex->tgt, k, klen) < 0 ||
        ss_bytes_append_le(&ex->tgt, n, 8) < 0)
        return -ENOMEM;
    ex->lines++;
    return ss_coproc_escape(&ex->req, k, klen);
}

static int
line_val(struct win_exec *ex, const char *v, size_t vlen)
{
    if (ss_buf_putc(&ex->req, '\t') < 0)
        return -ENOMEM;
    return ss_coproc_escape(&ex->req, v, vlen);
}

static int
line_end(struct win_exec *ex)
{
    return ss_buf_putc(&ex->req, '\n');
}

/* A staged key as a line: 'first' (the value it folds into, or NULL)
 * then its values. */
static int
line_staged(struct win_exec *ex, const char *k, size_t klen,
            const struct staged *s, const struct ss_acc *first)
{
    size_t at = s->head + 1, vlen;
    const char *v;
    int rc;

    if ((rc = line_key(ex, k, klen, s->n)) < 0)
        return rc;
    if (first != NULL && (rc = line_val(ex, first->s, first->slen)) < 0)
        return rc;
    while (at != 0 && rc == 0) {
        at = stage_val(ex, at - 1, &v, &vlen);
        rc = line_val(ex, v, vlen);
    }
    return rc < 0 ? rc : line_end(ex);
}

/* Send the request to command i and take its answer whole: 0, or
 * SS_REPORTED after saying why not (the command died, or answered with a
 * line count other than 'want'; want < 0: any). */
static int
call(struct win *x, int i, int64_t time, long want)
{
    struct win_exec *ex = x->ex;
    char head[96], how[96];
    const char *p, *end;
    size_t lines = 0;
    int n, rc;

    n = snprintf(head, sizeof(head), "batch %" PRId64 " %" PRIu32 " keyed\n",
                 time, ex->lines);
    ss_buf_reset(&ex->out);
    if (ss_buf_append(&ex->out, head, (size_t)n) < 0 ||
        ss_buf_append(&ex->out, ex->req.data, ex->req.len) < 0 ||
        ss_buf_append(&ex->out, "\\.\n", 3) < 0)
        return ss_diag_err(-ENOMEM, "%s", opt_name[i]);
    ss_buf_reset(&ex->ans);
    rc = ss_coproc_call(&ex->co[i], ex->out.data, ex->out.len, &ex->ans);
    if (rc == -EPIPE || rc == -EPROTO)
        return ss_diag("batch %" PRId64 ": %s '%s': %s", time, opt_name[i],
                       ex->cmd[i],
                       ss_coproc_describe(&ex->co[i], how, sizeof(how)));
    if (rc < 0)
        return ss_diag_err(rc, "batch %" PRId64 ": %s '%s'", time, opt_name[i],
                           ex->cmd[i]);
    for (p = ex->ans.data, end = p + ex->ans.len; p < end; lines++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        p = nl != NULL ? nl + 1 : end;
    }
    if (want >= 0 && lines != (size_t)want)
        return ss_diag("batch %" PRId64 ": %s '%s': %zu answer lines for "
                       "%ld key lines (one a key line, in order)",
                       time, opt_name[i], ex->cmd[i], lines, want);
    return 0;
}

/* An answer line and its target, the key line it answers: the key and
 * the records its value will stand for. */
struct answer {
    char *v; /* the value, once answer_value() has unescaped it */
    size_t vlen;
    const char *raw; /* the line as it came, for a message */
    size_t rawlen;
    const char *k;
    size_t klen;
    uint64_t n;
};

/* The line at *at in ex->ans and the target at *tat in ex->tgt; both
 * move on to the next. */
static void
next_answer(struct win_exec *ex, size_t *at, size_t *tat, struct answer *a)
{
    char *p = ex->ans.data + *at, *end = ex->ans.data + ex->ans.len;
    char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *t = ex->tgt.data + *tat;

    if (nl == NULL)
        nl = end;
    a->klen = (size_t)ss_bytes_get_le(t, 4);
    a->k = t + 4;
    a->n = ss_bytes_get_le(t + 4 + a->klen, 8);
    *tat += 12 + a->klen;
    *at = (size_t)(nl - ex->ans.data) + (nl < end);
    a->raw = p; /* kept for a message: answer_value() unescapes it */
    a->rawlen = (size_t)(nl - p);
    a->v = p;
    a->vlen = a->rawlen;
}

/* Unescape a's line in place; 0, or -1 for an unknown escape, checked
 * first so that a->raw still holds the line as it came. */
static int
answer_value(struct answer *a)
{
    for (size_t i = 0; i < a->rawlen; i++) {
        if (a->raw[i] != '\\')
            continue;
        if (i + 1 == a->rawlen ||
            (a->raw[i + 1] != '\\' && a->raw[i + 1] != 't' &&
             a->raw[i + 1] != 'n'))
            return -1;
        i++;
    }
    a->vlen = (size_t)ss_coproc_unescape(a->v, a->vlen);
    return 0;
}

static void
say_bad(int i, int64_t time, const struct answer *a, const char *then)
{
    ss_diag("batch %" PRId64 ": %s: key '%.*s': '%.*s' has a backslash that "
            "is not \\\\, \\t or \\n; %s",
            time, opt_name[i], (int)a->klen, a->k, (int)a->rawlen, a->raw,
            then);
}

/* a's text = v[0..vlen), its count += n. */
static int
set_value(struct ss_acc *a, const char *v, size_t vlen, uint64_t n)
{
    uint64_t had = a->n;
    int rc = ss_acc_add(a, SS_OP_LAST, v, vlen, 0);

    a->n = had + n;
    return rc;
}

/* A bad answer about the window: the key leaves it, and the window is
 * recomputed from its panes when it is next sent. */
static void
drop_from_window(struct win *x, const struct answer *a)
{
    ss_window__touch(x, &x->ck.t_run, a->k, a->klen);
    ss_keytab_del(&x->ring.run, a->k, a->klen);
    ss_rejects_put(x->rej, a->k, a->klen, a->raw, a->rawlen);
    x->ring.inexact = 1;
    x->ring.since_rebuild = x->cfg->rebuild_every;
}

/* ---- a batch into the open pane ---- */

int
ss_window__exec_add(struct win *x, const char *k, size_t klen,
                    const struct ss_rec *r)
{
    return stage_put(x->ex, k, klen, r->val, r->vlen, 1);
}

/* The batch's bad answer for a key: its records are the rejects. */
static void
reject_staged(struct win *x, const struct answer *a)
{
    struct win_exec *ex = x->ex;
    const struct staged *s = ss_keytab_find(&ex->stage, a->k, a->klen);
    size_t at = s != NULL ? s->head + 1 : 0, vlen;
    const char *v;
    char then[64];

    snprintf(then, sizeof(then),
             "its %" PRIu64 " records of the batch "
             "are rejected",
             a->n);
    say_bad(REDUCE, x->in.time, a, then);
    while (at != 0) {
        at = stage_val(ex, at - 1, &v, &vlen);
        ss_rejects_put(x->rej, a->k, a->klen, v, vlen);
    }
}

int
ss_window__exec_fold(struct win *x)
{
    struct win_exec *ex = x->ex;
    struct pane *p;
    const struct staged *s;
    struct ss_acc *a;
    struct answer an;
    size_t cur = 0, klen, at = 0, tat = 0, vlen;
    const char *k, *v;
    int created, rc = 0;

    if (!ss_window__exec_reduces(x) || ss_keytab_count(&ex->stage) == 0)
        return 0;
    p = slot(x, x->ring.open_end);
    req_reset(ex);
    while (rc == 0 && (s = ss_keytab_next(&ex->stage, &cur, &k, &klen))) {
        if ((a = ss_keytab_get(&p->tab, k, klen, &created)) == NULL)
            return -ENOMEM;
        if (a->n == 0 && s->nvals == 1) {
            stage_val(ex, s->head, &v, &vlen);
            rc = set_value(a, v, vlen, s->n);
        } else {
            rc = line_staged(ex, k, klen, s, a->n > 0 ? a : NULL);
        }
    }
    if (rc == 0 && ex->lines > 0)
        rc = call(x, REDUCE, x->in.time, ex->lines);
    for (uint32_t i = 0; rc == 0 && i < ex->lines; i++) {
        next_answer(ex, &at, &tat, &an);
        a = ss_keytab_find(&p->tab, an.k, an.klen);
        if (answer_value(&an) < 0) {
            reject_staged(x, &an);
            if (a != NULL && a->n == 0) /* new in the pane: it stays out */
                ss_keytab_del(&p->tab, an.k, an.klen);
        } else if (a != NULL) {
            rc = set_value(a, an.v, an.vlen, an.n);
        }
    }
    stage_clear(ex);
    return rc;
}

/* ---- windows ---- */

/* The window ending at e as the fold of its panes, in time order. */
int
ss_window__exec_rebuild(struct win *x, int64_t e)
{
    struct win_exec *ex = x->ex;
    const struct staged *s;
    const struct ss_acc *a;
    struct ss_acc *r;
    struct pane_it it;
    struct answer an;
    size_t cur = 0, klen, at = 0, tat = 0, vlen;
    const char *k, *v;
    int created, rc = 0;

    while (ss_keytab_next(&x->ring.run, &cur, &k, &klen) != NULL)
        ss_window__touch(x, &x->ck.t_run, k, klen);
    ss_keytab_clear(&x->ring.run);
    x->ring.inexact = 0;
    x->ring.since_rebuild = 0;
    stage_clear(ex);
    for (int64_t t = e - x->window + x->gran; t <= e && rc == 0; t += x->gran) {
        struct pane *p = slot(x, t);

        if (p->end != t)
            continue;
        ss_window__pane_begin(p, &it);
        while (rc == 0 &&
               (a = ss_window__pane_entry(x, p, &it, &k, &klen)) != NULL)
            if (a->n > 0)
                rc = stage_put(ex, k, klen, a->s, a->slen, a->n);
    }
    req_reset(ex);
    cur = 0;
    while (rc == 0 && (s = ss_keytab_next(&ex->stage, &cur, &k, &klen))) {
        if ((r = ss_keytab_get(&x->ring.run, k, klen, &created)) == NULL)
            return -ENOMEM;
        ss_window__touch(x, &x->ck.t_run, k, klen);
        if (s->nvals == 1) {
            stage_val(ex, s->head, &v, &vlen);
            rc = set_value(r, v, vlen, s->n);
        } else {
            rc = line_staged(ex, k, klen, s, NULL);
        }
    }
    if (rc == 0 && ex->lines > 0)
        rc = call(x, REDUCE, e, ex->lines);
    for (uint32_t i = 0; rc == 0 && i < ex->lines; i++) {
        next_answer(ex, &at, &tat, &an);
        if (answer_value(&an) < 0) {
            say_bad(REDUCE, e, &an, "the key is left out of the window");
            ss_keytab_del(&x->ring.run, an.k, an.klen);
            ss_rejects_put(x->rej, an.k, an.klen, an.raw, an.rawlen);
        } else if ((r = ss_keytab_find(&x->ring.run, an.k, an.klen))) {
            rc = set_value(r, an.v, an.vlen, an.n);
        }
    }
    stage_clear(ex);
    return rc;
}

/* --inverse-exec: each key of 'old' (leaving) as a line: the window's
 * value, the pane's. Keys it empties leave without a question. */
static int
inverse_lines(struct win *x, struct pane *old)
{
    struct pane_it it;
    const struct ss_acc *a;
    struct ss_acc *r;
    const char *k;
    size_t klen;
    int rc = 0;

    ss_window__pane_begin(old, &it);
    while (rc == 0 &&
           (a = ss_window__pane_entry(x, old, &it, &k, &klen)) != NULL) {
        if ((r = ss_keytab_find(&x->ring.run, k, klen)) == NULL)
            continue; /* left out after a bad answer */
        ss_window__touch(x, &x->ck.t_run, k, klen);
        r->n = r->n > a->n ? r->n - a->n : 0;
        if (r->n == 0 && !x->cfg->keep_empty) {
            ss_keytab_del(&x->ring.run, k, klen);
            continue;
        }
        if ((rc = line_key(x->ex, k, klen, 0)) == 0 &&
            (rc = line_val(x->ex, r->s, r->slen)) == 0 &&
            (rc = line_val(x->ex, a->s, a->slen)) == 0)
            rc = line_end(x->ex);
    }
    return rc;
}

/* --reduce-exec on a closing pane: each key of p as a line (the window's
 * value, the pane's), or, new to the window, the pane's value. */
static int
reduce_lines(struct win *x, struct pane *p)
{
    struct pane_it it;
    const struct ss_acc *a;
    struct ss_acc *r;
    const char *k;
    size_t klen;
    int created, rc = 0;

    ss_window__pane_begin(p, &it);
    while (rc == 0 && (a = ss_window__pane_entry(x, p, &it, &k, &klen))) {
        if ((r = ss_keytab_get(&x->ring.run, k, klen, &created)) == NULL)
            return -ENOMEM;
        ss_window__touch(x, &x->ck.t_run, k, klen);
        if (created)
            rc = set_value(r, a->s, a->slen, a->n);
        else if ((rc = line_key(x->ex, k, klen, a->n)) == 0 &&
                 (rc = line_val(x->ex, r->s, r->slen)) == 0 &&
                 (rc = line_val(x->ex, a->s, a->slen)) == 0)
            rc = line_end(x->ex);
    }
    return rc;
}

/* The answers to inverse_lines() or reduce_lines() into the window. */
static int
take_answers(struct win *x, int i, int64_t e)
{
    struct win_exec *ex = x->ex;
    struct answer an;
    struct ss_acc *r;
    size_t at = 0, tat = 0;
    int rc = 0;

    for (uint32_t l = 0; rc == 0 && l < ex->lines; l++) {
        next_answer(ex, &at, &tat, &an);
        if (answer_value(&an) < 0) {
            say_bad(i, e, &an, "the window is recomputed from its panes");
            drop_from_window(x, &an);
        } else if ((r = ss_keytab_find(&x->ring.run, an.k, an.klen))) {
            rc = set_value(r, an.v, an.vlen, an.n);
        }
    }
    return rc;
}

/* The pane ending at e closes: the pane W before it leaves the window
 * (inverse), then p enters it (reduce), in Spark's order. */
int
ss_window__exec_slide(struct win *x, int64_t e, struct pane *p,
                      struct pane *old, int windowed)
{
    struct win_exec *ex = x->ex;
    int rc;

    if (old->end == e - x->window && old->in_run) {
        req_reset(ex);
        if ((rc = inverse_lines(x, old)) < 0)
            return rc;
        if (ex->lines > 0 && ((rc = call(x, INVERSE, e, ex->lines)) < 0 ||
                              (rc = take_answers(x, INVERSE, e)) < 0))
            return rc;
        old->in_run = 0;
    }
    if (!windowed)
        return 0;
    req_reset(ex);
    if ((rc = reduce_lines(x, p)) < 0)
        return rc;
    if (ex->lines > 0 && ((rc = call(x, REDUCE, e, ex->lines)) < 0 ||
                          (rc = take_answers(x, REDUCE, e)) < 0))
        return rc;
    p->in_run = 1;
    return 0;
}

/* ---- the filter ---- */

/* Find the answer line raw[0..n) among request lines from *j on; the
 * line's entry number, or -1. */
static long
find_line(struct win_exec *ex, const char *raw, size_t n, size_t *j,
          size_t nents)
{
    const char *t = ex->tgt.data;

    for (; *j < nents; (*j)++) {
        size_t off = (size_t)ss_bytes_get_le(t + *j * 16, 8);
        size_t len = (size_t)ss_bytes_get_le(t + *j * 16 + 8, 8);

        if (len == n && memcmp(ex->req.data + off, raw, n) == 0)
            return (long)(*j)++;
    }
    return -1;
}

/* The filter dropped entries [from, to): those whose window holds no
 * records leave it (ss_keytab_del() moves nothing: the entries after
 * them stay valid). */
static void
drop_empty(struct win *x, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        const struct ss_keysort_ent *o = &x->out.ents[i];

        if (((const struct ss_acc *)o->val)->n > 0)
            continue;
        ss_window__touch(x, &x->ck.t_run, o->k, o->klen);
        ss_keytab_del(&x->ring.run, o->k, o->klen);
    }
}

/* Keep the entries x->out.ents[0..n) the filter answers with (in order,
 * each line as it was sent); the count kept. A key it drops whose window
 * holds no records (kept by --keep-empty-keys) leaves the window, as
 * Spark's filterFunc takes it out of the state. */
int
ss_window__exec_filter(struct win *x, int64_t e, int n)
{
    struct win_exec *ex = x->ex;
    const char *p, *end;
    size_t j = 0, m = 0, next = 0;
    int rc;

    if (ex == NULL || ex->cmd[FILTER] == NULL || n == 0)
        return n;
    req_reset(ex);
    for (int i = 0; i < n; i++) {
        struct ss_keysort_ent *o = &x->out.ents[i];
        size_t off = ex->req.len;

        ss_buf_reset(&x->out.text);
        if (ss_acc_format(o->val, x->op, &x->out.text) < 0 ||
            ss_coproc_escape(&ex->req, o->k, o->klen) < 0 ||
            line_val(ex, x->out.text.data, x->out.text.len) < 0 ||
            ss_bytes_append_le(&ex->tgt, off, 8) < 0 ||
            ss_bytes_append_le(&ex->tgt, ex->req.len - off, 8) < 0 ||
            line_end(ex) < 0)
            return -ENOMEM;
        ex->lines++;
    }
    if ((rc = call(x, FILTER, e, -1)) < 0)
        return rc;
    for (p = ex->ans.data, end = p + ex->ans.len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl != NULL ? nl : end) - p), from = j;
        long hit = find_line(ex, p, len, &j, (size_t)n);

        if (hit < 0) {
            ss_diag("batch %" PRId64 ": %s: '%.*s' is not one of the "
                    "window's records (after the last one kept)",
                    e, opt_name[FILTER], (int)len, p);
            ss_rejects_put(x->rej, NULL, 0, p, len);
            j = from;
        } else {
            drop_empty(x, next, (size_t)hit);
            next = (size_t)hit + 1;
            x->out.ents[m++] = x->out.ents[hit];
        }
        p += len + (nl != NULL);
    }
    drop_empty(x, next, (size_t)n);
    return (int)m;
}
