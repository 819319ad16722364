/* map_batch.c - sstream-map's operations on a whole batch: joins with
 * a table or a stream, --exec, counts, reductions and groups, which give
 * their results when the batch is complete (map_int.h).
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "diag.h"
#include "frame.h"
#include "io.h"
#include "keytab.h"
#include "map_int.h"
#include "multi.h"
#include "opt.h"
#include "proc.h"
#include "rank.h"
#include "regex.h"
#include "rejects.h"
#include "scan.h"
#include "words.h"

/* --join, --join-stream, --cogroup: the batch is the left side. */
int
ss_map__keep_for_join(struct map *m, size_t i, struct ss_rec *r)
{
    struct ss_rec c;

    c.key = ss_arena_dup(&m->arena, r->key, r->klen);
    c.klen = r->klen;
    c.val = ss_arena_dup(&m->arena, r->val, r->vlen);
    c.vlen = r->vlen;
    if (c.key == NULL || c.val == NULL)
        return -ENOMEM;
    return ss_join_side_add(&m->st[i].left, &c);
}

/* ---- the whole batch: passing results on ---- */

static int
push_text(struct map *m, size_t i, const char *k, size_t klen, const char *v,
          size_t vlen)
{
    struct ss_rec r = {k, klen, v, vlen};

    m->recno++;
    return ss_map__push(m, i, r);
}

/* arg: the map, the next step, the join type. A join whose records go
 * straight out marks its frames with the sides (man/sstream.5, "JOIN
 * SIDES"); a step after it makes records of its own. */
static int
emit_join(void *arg, const char *k, size_t klen, const char *v, size_t vlen,
          unsigned missing)
{
    void **a = arg;
    struct map *m = a[0];
    size_t next = *(size_t *)a[1];
    int rc;

    if (next == m->nsteps && m->worker == NULL &&
        (rc = ss_frame_writer_sides(
             &m->w, ss_join_frame_flags(*(enum ss_join_type *)a[2], missing))) <
            0)
        return rc;
    return push_text(m, next, k, klen, v, vlen);
}

/* The frames of stream op->input at this batch's time, record by record,
 * into 'to' (NULL: pushed on to step i + 1). */
static int
read_stream(struct map *m, size_t i, struct ss_join_side *to)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct ss_rec_iter it;
    struct ss_frame f;
    struct ss_rec r, c;
    int rc;

    m->recno = 0;
    while ((rc = ss_multi_part(&m->in, op->input, &f)) > 0) {
        int keyed = (f.flags & SS_FRAME_KEYED) != 0;

        if (to != NULL && !keyed)
            return ss_diag("%s '%s' needs key/value records", op->opt, op->arg);
        if (to == NULL && keyed != m->st[i].keyed_in)
            return ss_diag("%s '%s': cannot unite %s records with %s ones",
                           op->opt, op->arg, keyed ? "key/value" : "keyless",
                           keyed ? "keyless" : "key/value");
        ss_stats_in(m->stats, &f);
        ss_frame_iter_init(&it, &f);
        while (ss_frame_iter_next(&it, &r)) {
            m->recno++;
            if (to == NULL) {
                if ((rc = ss_map__push(m, i + 1, r)) < 0)
                    return rc;
                continue;
            }
            c.key = ss_arena_dup(&m->arena, r.key, r.klen);
            c.klen = r.klen;
            c.val = ss_arena_dup(&m->arena, r.val, r.vlen);
            c.vlen = r.vlen;
            if (c.key == NULL || c.val == NULL || ss_join_side_add(to, &c) < 0)
                return -ENOMEM;
        }
    }
    return rc;
}

int
ss_map__unite(struct map *m, size_t i)
{
    return read_stream(m, i, NULL);
}

/* The batch (left) joined with the step's right side. */
static int
join_with(struct map *m, size_t i, enum ss_join_type type)
{
    struct step *st = &m->st[i];
    void *arg[3] = {m, &(size_t){i + 1}, &type};
    int rc;

    m->recno = 0;
    rc = ss_join_run(&st->left, &st->right, type, m->cfg->sep, &st->out,
                     emit_join, arg);
    ss_join_side_clear(&st->left);
    return rc;
}

/* --join FILE: the right side is the table, loaded once. */
int
ss_map__join_table(struct map *m, size_t i)
{
    return join_with(m, i, m->cfg->join);
}

/* The right side is the other stream's batch. */
static int
join_batch(struct map *m, size_t i, enum ss_join_type type)
{
    int rc;

    if ((rc = read_stream(m, i, &m->st[i].right)) < 0)
        return rc;
    rc = join_with(m, i, type);
    ss_join_side_clear(&m->st[i].right);
    return rc;
}

int
ss_map__join_stream(struct map *m, size_t i)
{
    return join_batch(m, i, m->cfg->join);
}

int
ss_map__cogroup(struct map *m, size_t i)
{
    return join_batch(m, i, SS_JOIN_COGROUP);
}

/* The command's output lines become the batch: split back into key and
 * value at the first tab when its input had keys. */
int
ss_map__exec_lines(struct map *m, size_t i, const struct ss_buf *out)
{
    struct step *st = &m->st[i];
    const char *p = out->data, *end = p + out->len, *nl, *tab;
    struct ss_rec r;
    int rc;

    for (; p < end; p = nl + 1) {
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        r.key = NULL;
        r.klen = 0;
        r.val = p;
        r.vlen = (size_t)(nl - p);
        m->recno++;
        if (st->keyed_in) {
            if ((tab = memchr(p, '\t', r.vlen)) == NULL) {
                ss_map__reject(
                    m, &r, "--exec: '%.*s' has no tab between key and value",
                    (int)r.vlen, r.val);
                continue;
            }
            r.key = p;
            r.klen = (size_t)(tab - p);
            r.val = tab + 1;
            r.vlen = (size_t)(nl - tab - 1);
        }
        if ((rc = ss_map__push(m, i + 1, r)) < 0)
            return rc;
    }
    return 0;
}

int
ss_map__exec_run(struct map *m, size_t i, struct ss_proc_status *ps)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    char env[48];
    const char *envp[] = {env, NULL};
    struct ss_proc_opts po = {
        .cmd = op->arg,
        .env = envp,
        .in = st->scratch.data,
        .inlen = st->scratch.len,
        .out = &st->out,
    };
    int rc;

    snprintf(env, sizeof(env), "SSTREAM_BATCH_TIME=%" PRId64, m->time);
    ss_buf_reset(&st->out);
    rc = ss_proc_run(&po, ps);
    ss_buf_reset(&st->scratch);
    return rc;
}

int
ss_map__exec_said(struct map *m, size_t i, int rc,
                  const struct ss_proc_status *ps)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    char how[96];

    if (rc < 0)
        return ss_diag_err(rc, "batch %" PRId64 ": --exec '%s'", m->time,
                           op->arg);
    if (!ss_proc_ok(ps))
        return ss_diag("batch %" PRId64 ": --exec '%s': %s", m->time, op->arg,
                       ss_proc_describe(ps, how, sizeof(how)));
    return 0;
}

int
ss_map__exec(struct map *m, size_t i)
{
    struct ss_proc_status ps;
    int rc = ss_map__exec_said(m, i, ss_map__exec_run(m, i, &ps), &ps);

    return rc < 0 ? rc : ss_map__exec_lines(m, i, &m->st[i].out);
}

/* v in decimal at the end of buf[0..24), returned: a count per key of a
 * 100k-key batch through snprintf() was 5% of the word count's
 * instructions over 11 MB. */
static const char *
count_text(uint64_t v, char buf[24], size_t *n)
{
    char *p = buf + 24;

    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    *n = (size_t)(buf + 24 - p);
    return p;
}

/* A value of a keyed aggregation as text in r->val: 1, or 0 when the
 * key has none (it is left out), or < 0. */
static int
format_count(struct step *st, const struct ss_map_op *op, void *v,
             struct ss_rec *r)
{
    (void)op;
    r->val = count_text(*(uint64_t *)v, st->num, &r->vlen);
    return 1;
}

static int
format_acc(struct step *st, const struct ss_map_op *op, void *v,
           struct ss_rec *r)
{
    int rc;

    if (((struct ss_acc *)v)->n == 0)
        return 0; /* every value of the key was rejected */
    ss_buf_reset(&st->out);
    if ((rc = ss_acc_format(v, op->op, &st->out)) < 0)
        return rc;
    r->val = st->out.data;
    r->vlen = st->out.len;
    return 1;
}

/* Results of a keyed aggregation, keys in order of first appearance.
 * Inline: each caller's format() is then a direct call. */
static inline int
emit_table(struct map *m, size_t i,
           int (*format)(struct step *, const struct ss_map_op *, void *,
                         struct ss_rec *))
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    struct ss_rec r;
    size_t cur = 0;
    void *v;
    int rc = 0;

    m->recno = 0;
    while (rc == 0 && (v = ss_keytab_next(&st->tab, &cur, &r.key, &r.klen)))
        if ((rc = format(st, op, v, &r)) > 0)
            rc = push_text(m, i + 1, r.key, r.klen, r.val, r.vlen);
    ss_keytab_clear(&st->tab);
    return rc;
}

int
ss_map__emit_counts(struct map *m, size_t i)
{
    return emit_table(m, i, format_count);
}

int
ss_map__emit_groups(struct map *m, size_t i)
{
    return emit_table(m, i, format_acc);
}

int
ss_map__glom(struct map *m, size_t i)
{
    struct step *st = &m->st[i];
    int rc = 0;

    if (st->count > 0)
        rc = push_text(m, i + 1, NULL, 0, st->scratch.data, st->scratch.len);
    ss_buf_reset(&st->scratch);
    st->count = 0;
    return rc;
}

/* ---- --sort-by ---- */

/* A record waiting for its batch to be sorted (lib/rank): a copy in
 * the batch's arena. */
int
ss_map__sort_take(struct map *m, size_t i, struct ss_rec *r)
{
    struct step *st = &m->st[i];
    struct ss_rank_item e;
    struct ss_rec c = *r;

    if (r->key != NULL &&
        (c.key = ss_arena_dup(&m->arena, r->key, r->klen)) == NULL)
        return -ENOMEM;
    if ((c.val = ss_arena_dup(&m->arena, r->val, r->vlen)) == NULL)
        return -ENOMEM;
    ss_rank_item_init(&e, &c, m->cfg->ops[i].by_key, st->count++);
    return ss_buf_append(&st->out, &e, sizeof(e)) < 0 ? -ENOMEM : 0;
}

int
ss_map__sort(struct map *m, size_t i)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    struct ss_rank_item *e = (struct ss_rank_item *)(void *)st->out.data;
    size_t n = st->out.len / sizeof(*e);
    int rc = 0;

    ss_rank_sort(e, n, op->by_key, op->desc);
    for (size_t k = 0; k < n && rc == 0; k++)
        rc = push_text(m, i + 1, e[k].r.key, e[k].r.klen, e[k].r.val,
                       e[k].r.vlen);
    ss_buf_reset(&st->out);
    st->count = 0;
    return rc;
}

/* An empty batch counts 0, as Spark's ss_map__count() says. */
int
ss_map__count(struct map *m, size_t i)
{
    struct step *st = &m->st[i];
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRIu64, st->count);

    st->count = 0;
    return push_text(m, i + 1, NULL, 0, num, (size_t)n);
}

int
ss_map__reduce(struct map *m, size_t i)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    int rc = 0;

    if (st->acc.n > 0) {
        ss_buf_reset(&st->out);
        if ((rc = ss_acc_format(&st->acc, op->op, &st->out)) == 0)
            rc = push_text(m, i + 1, NULL, 0, st->out.data, st->out.len);
    }
    ss_acc_reset(&st->acc);
    return rc;
}

/* ---- setting a step up, before the first batch ---- */

/* --flat-map words straight into --count-by-value: the word count's inner
 * loop, without a trip through ss_map__push() per word. */
int
ss_map__setup_flat_map(struct map *m, size_t i)
{
    const struct ss_map_config *cfg = m->cfg;

    m->st[i].fused = cfg->ops[i].fn == SS_MAP_FN_WORDS && i + 1 < cfg->nops &&
                     cfg->ops[i + 1].kind == SS_MAP_COUNT_BY_VALUE;
    return 0;
}

int
ss_map__setup_counts(struct map *m, size_t i)
{
    ss_keytab_init(&m->st[i].tab, sizeof(uint64_t), NULL);
    return 0;
}

/* --distinct: the records seen, as keys without values. */
int
ss_map__setup_seen(struct map *m, size_t i)
{
    ss_keytab_init(&m->st[i].tab, 0, NULL);
    return 0;
}

static void
drop_acc(void *v)
{
    ss_acc_release(v);
}

int
ss_map__setup_groups(struct map *m, size_t i)
{
    ss_keytab_init(&m->st[i].tab, sizeof(struct ss_acc), drop_acc);
    return 0;
}

/* --join FILE: key<TAB>value lines, loaded once as the right side. */
int
ss_map__setup_table(struct map *m, size_t i)
{
    struct step *st = &m->st[i];
    const char *path = m->cfg->ops[i].arg, *p, *end, *nl, *tab;
    unsigned long line = 0;
    struct ss_rec r;
    int rc;

    if ((rc = ss_io_slurp(path, &st->file)) < 0)
        return ss_diag_err(rc, "--join: cannot read '%s'", path);
    p = st->file.data;
    end = p + st->file.len;
    for (; p < end; p = nl + 1) {
        line++;
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        if ((tab = memchr(p, '\t', (size_t)(nl - p))) == NULL)
            return ss_diag("--join: '%s' line %lu: no tab between key and "
                           "value",
                           path, line);
        r.key = p;
        r.klen = (size_t)(tab - p);
        r.val = tab + 1;
        r.vlen = (size_t)(nl - tab - 1);
        if (ss_join_side_add(&st->right, &r) < 0)
            return ss_diag_err(-ENOMEM, "--join: '%s'", path);
    }
    return 0;
}
