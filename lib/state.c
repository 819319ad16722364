/* state.c - sstream-state's engine (see state.h).
 *
 * A batch: records fold into their keys' accumulators; the first record
 * of a key in a batch saves the key's previous value (or its absence) in
 * the batch's undo list; then keys idle for --timeout are removed (their
 * last value into the undo list too). The undo list is all a batch needs:
 * the checkpoint delta is its keys' new values (or deletions), the
 * output is read from the state and the list, and the list itself is the
 * blob kept for re-emitting the batch later. Rebuilding an older batch's
 * output undoes the newer batches' lists over the current state.
 *
 * Output keys are in byte order (as LC_ALL=C sort): the same whether a
 * batch is emitted live or rebuilt, whatever order keys arrived in.
 * --emit records is the exception: a record per input record, in input
 * order (mapWithState), kept in the undo list as entries of their own.
 *
 * --update-exec (state_exec.c) replaces apply() with a command's answer,
 * through the ss_state__* calls of state_int.h.
 */
#include "state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH64_state_t in struct st */
#include <xxhash.h>

#include "acc.h"
#include "ahead.h"
#include "buf.h"
#include "bytes.h"
#include "ckpt.h"
#include "diag.h"
#include "dur.h"
#include "frame.h"
#include "io.h"
#include "keysort.h"
#include "keytab.h"
#include "rejects.h"
#include "replay.h"
#include "state_int.h"

#define NO_TIME INT64_MIN

struct ent {
    int64_t last;    /* batch time of the key's last record */
    int64_t touched; /* batch time it was last touched (undo saved) */
    struct ss_acc acc;
};

/* An older state's value in the overlay: present or absent, and where. */
struct ovv {
    int present;
    size_t off, len; /* into st.ovbuf */
};

struct st {
    const struct ss_state_config *cfg;
    struct ss_keytab t;
    struct ss_ckpt ck;
    int has_ck;
    struct ss_ckpt_opt opts[3];
    size_t nopts;
    char tbuf[32], sepbuf[2];
    int64_t time;      /* the batch time the state reflects */
    int64_t cur;       /* the batch being read */
    uint32_t interval; /* of the batch being read */
    int replay;        /* the batch being read is a replay */
    int seen;          /* a batch has been read */
    XXH64_state_t xh;  /* digest of the batch's payloads so far */
    int fix_initial;   /* initial keys wait for the first batch's time */
    uint64_t recno;
    struct ss_buf undo; /* this batch's undo list */
    struct ss_buf enc;  /* scratch: one encoded value */
    struct ss_buf sb;   /* output records: value length (4), key, value */
    struct ss_keysort_ent *outs;     /* each a record of sb (val) */
    struct ss_keysort_ent *outs_tmp; /* scratch for sorting them */
    size_t nouts, capouts;
    struct ss_replay kept; /* the last batches' undo lists */
    struct ss_keytab ov;
    struct ss_buf ovbuf;
    struct ss_acc tmp;
    struct ss_rejects *rej; /* the stage's (lib/stage) */
    struct ss_frame_writer w;
    struct ss_stats *stats;
    const struct ss_frame *last; /* the batch's last frame, for its trail */
    struct ss_state_exec *ex;    /* --update-exec, or NULL */
};

static void
drop_ent(void *v)
{
    ss_acc_release(&((struct ent *)v)->acc);
}

void
ss_state_config_init(struct ss_state_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->op = SS_OP_SUM;
    cfg->sep = ',';
    cfg->emit = SS_STATE_EMIT_ALL;
    cfg->keep_outputs = SS_REPLAY_KEEP_AUTO;
    cfg->fd_in = STDIN_FILENO;
    cfg->fd_out = STDOUT_FILENO;
}

/* ---- values: i64 last-record time, then the accumulator ---- */

static int
encode(struct ss_buf *b, const struct ent *e)
{
    ss_bytes_append_le(b, (uint64_t)e->last, 8);
    return ss_acc_encode(&e->acc, b);
}

static int
decode(struct ent *e, const char *p, size_t n)
{
    int rc;

    if (n < 8)
        return -EBADMSG;
    e->last = (int64_t)ss_bytes_get_le(p, 8);
    if (e->last != NO_TIME && !ss_frame_time_valid(e->last))
        return -EBADMSG; /* --timeout subtracts it from batch times */
    if ((rc = ss_acc_decode(&e->acc, p + 8, n - 8)) < 0)
        return rc;
    return (size_t)rc == n - 8 ? 0 : -EBADMSG;
}

/* ---- loading ---- */

static int
ld_put(void *ctx, const char *k, size_t kl, const char *v, size_t vl)
{
    struct st *s = ctx;
    int created;
    struct ent *e = ss_keytab_get(&s->t, k, kl, &created);

    if (e == NULL)
        return -ENOMEM;
    e->touched = NO_TIME;
    return decode(e, v, vl);
}

static int
ld_del(void *ctx, const char *k, size_t kl)
{
    ss_keytab_del(&((struct st *)ctx)->t, k, kl);
    return 0;
}

/* The next entry of an undo list as save_undo() writes them: the key, a
 * byte 0 (the key was absent) or 1 (present), and a present key's old
 * value; or, as emit_record() writes them, the byte 2 and an output
 * record's value (--emit records). 1 present, 0 absent, 2 a record, or
 * -EBADMSG when the list is cut short or the byte is none of these. */
static int
undo_next(struct ss_ckpt_rd *r, const char **k, size_t *kl, const char **v,
          size_t *vl)
{
    char had;

    *k = ss_ckpt_get_bytes(r, kl);
    had = r->p < r->end ? *r->p++ : (r->bad = 1, 0);
    *v = NULL;
    *vl = 0;
    if (!r->bad && (had == 1 || had == 2))
        *v = ss_ckpt_get_bytes(r, vl);
    return r->bad || had < 0 || had > 2 ? -EBADMSG : had;
}

/* Whether p[0..n) is an undo list as save_undo() writes them, whole. */
static int
undo_valid(const char *p, size_t n)
{
    struct ss_ckpt_rd r = {p, n > 0 ? p + n : p, 0};
    struct ent e = {0};
    const char *k, *v;
    size_t kl, vl;
    int rc = 0;

    while (rc == 0 && r.p < r.end)
        if ((rc = undo_next(&r, &k, &kl, &v, &vl)) == 1)
            rc = decode(&e, v, vl) < 0 ? -EBADMSG : 0;
        else if (rc == 2)
            rc = 0;
    ss_acc_release(&e.acc);
    return rc;
}

/* The next key of undo list r into the ring (lib/ahead.h); a bad list is
 * left to the reader behind to report. */
static void
ahead_undo(const struct ss_keytab *t, struct ss_ahead *a, struct ss_ckpt_rd *r)
{
    const char *k, *v;
    size_t kl, vl;

    if (r->p < r->end && !r->bad && undo_next(r, &k, &kl, &v, &vl) >= 0)
        ss_ahead_key(t, a, k, kl);
}

/* A blob: a batch's undo list, checked whole (lib/replay), since a
 * replay walks it without checks. */
static int
ld_blob(void *ctx, int64_t time, const char *p, size_t n)
{
    struct st *s = ctx;

    return ss_replay_load(&s->kept, time, p, n, undo_valid);
}

/* ---- initial state from key<TAB>value text ---- */

static int
fold_text(struct st *s, struct ent *e, const char *v, size_t n)
{
    struct ss_num x;

    if (s->cfg->op == SS_OP_COUNT) {
        if (ss_num_parse(v, n, &x) < 0 || !x.is_int || x.i < 0)
            return -EINVAL;
        e->acc.n = (uint64_t)x.i;
        return 0;
    }
    return ss_acc_add(&e->acc, s->cfg->op, v, n, s->cfg->sep);
}

static int
load_text(struct st *s, const char *opt, const char *path)
{
    struct ss_buf b = {0};
    const char *p, *end, *nl, *tab;
    unsigned long line = 0;
    int rc;

    if ((rc = ss_io_slurp(path, &b)) < 0) {
        ss_buf_release(&b);
        return ss_diag_err(rc, "%s: '%s'", opt, path);
    }
    for (p = b.data, end = b.data + b.len; p < end; p = nl + 1) {
        int created;
        struct ent *e, saved;

        line++;
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        if ((tab = memchr(p, '\t', (size_t)(nl - p))) == NULL) {
            ss_diag("%s: '%s': line %lu: no tab between key and value", opt,
                    path, line);
            ss_rejects_put(s->rej, NULL, 0, p, (size_t)(nl - p));
            continue;
        }
        if ((e = ss_keytab_get(&s->t, p, (size_t)(tab - p), &created)) ==
            NULL) {
            rc = -ENOMEM;
            break;
        }
        saved = *e;
        if (fold_text(s, e, tab + 1, (size_t)(nl - tab - 1)) < 0) {
            ss_diag("%s: '%s': line %lu: '%.*s' is not a %s", opt, path, line,
                    (int)(nl - tab - 1), tab + 1,
                    s->cfg->op == SS_OP_COUNT ? "count" : "number");
            ss_rejects_put(s->rej, p, (size_t)(tab - p), tab + 1,
                           (size_t)(nl - tab - 1));
            *e = saved;
            if (created)
                ss_keytab_del(&s->t, p, (size_t)(tab - p));
            continue;
        }
        e->last = NO_TIME;
        e->touched = NO_TIME;
    }
    ss_buf_release(&b);
    s->fix_initial = 1;
    if (rc < 0)
        return ss_diag_err(rc, "%s", opt);
    return ss_rejects_flush(s->rej);
}

/* ---- output ---- */

/* Room for one more output record; 0 or -ENOMEM. */
static int
outs_reserve(struct st *s)
{
    struct ss_keysort_ent *o;
    size_t cap = s->capouts ? s->capouts * 2 : 256;

    if (s->nouts < s->capouts)
        return 0;
    free(s->outs_tmp); /* scratch: nothing to keep */
    s->outs_tmp = NULL;
    if ((o = realloc(s->outs, cap * sizeof(*o))) == NULL)
        return -ENOMEM;
    s->outs = o;
    if ((s->outs_tmp = malloc(cap * sizeof(*o))) == NULL)
        return -ENOMEM;
    s->capouts = cap;
    return 0;
}

/* An output record: key k, and the value of a formatted with 'op'. It
 * goes into sb as value length, key, value; the entry keeps its offset
 * in 'pre' until outs_done() points it at the bytes. */
static int
out_op(struct st *s, const char *k, size_t kl, const struct ss_acc *a,
       enum ss_op op, int expired)
{
    struct ss_keysort_ent *o;
    size_t at = s->sb.len, vlen;
    int rc;

    if ((rc = outs_reserve(s)) < 0 || (rc = ss_buf_reserve(&s->sb, 4)) < 0)
        return rc;
    ss_buf_commit(&s->sb, 4);
    if ((rc = ss_buf_append(&s->sb, k, kl)) < 0 ||
        (rc = ss_acc_format(a, op, &s->sb)) < 0 ||
        (expired && (rc = ss_buf_append(&s->sb, "\texpired", 8)) < 0))
        return rc;
    vlen = s->sb.len - at - 4 - kl;
    if (vlen > UINT32_MAX)
        return -ENOMEM;
    ss_bytes_put_le(s->sb.data + at, vlen, 4);
    o = &s->outs[s->nouts++];
    o->pre = at;
    o->klen = kl;
    return 0;
}

static int
out_add(struct st *s, const char *k, size_t kl, const struct ss_acc *a,
        int expired)
{
    return out_op(s, k, kl, a, s->cfg->op, expired);
}

/* A record as emitted (--emit records), not formatted. */
static int
out_raw(struct st *s, const char *k, size_t kl, const char *v, size_t vl)
{
    struct ss_acc a = {0};

    a.s = (char *)v;
    a.slen = (uint32_t)vl;
    a.n = 1;
    return out_op(s, k, kl, &a, SS_OP_LAST, 0);
}

/* sb holds all the batch's records now, so it moves no more: point the
 * entries at their records, and sort them by key if 'sort'. */
static void
outs_done(struct st *s, int sort)
{
    for (size_t i = 0; i < s->nouts; i++) {
        struct ss_keysort_ent *o = &s->outs[i];

        o->val = s->sb.data + o->pre;
        o->k = (const char *)o->val + 4;
    }
    if (sort)
        ss_keysort(s->outs, s->outs_tmp, s->nouts);
}

/* The accumulator of key k in the state at the batch being built: the
 * overlay (older values, when rebuilding) first, then the live table. */
static const struct ss_acc *
lookup(struct st *s, const char *k, size_t kl)
{
    struct ovv *o =
        ss_keytab_count(&s->ov) ? ss_keytab_find(&s->ov, k, kl) : NULL;
    struct ent *e, tmp;

    if (o != NULL) {
        if (!o->present)
            return NULL;
        tmp.acc = s->tmp;
        if (decode(&tmp, s->ovbuf.data + o->off, o->len) < 0)
            return NULL;
        s->tmp = tmp.acc;
        return &s->tmp;
    }
    e = ss_keytab_find(&s->t, k, kl);
    return e ? &e->acc : NULL;
}

/* Build the output of a batch from the state at that batch (live table
 * under the overlay) and the batch's undo list. */
static int
build(struct st *s, const char *undo, size_t n)
{
    struct ss_ckpt_rd r = {undo, n > 0 ? undo + n : undo, 0}; /* NULL + 0 */
    const struct ss_acc *a;
    const char *k;
    size_t kl, cur = 0;
    int rc = 0;

    s->nouts = 0;
    ss_buf_reset(&s->sb);
    if (s->cfg->emit == SS_STATE_EMIT_ALL) {
        struct ovv *o;
        struct ent *e;

        while (rc == 0 && (e = ss_keytab_next(&s->t, &cur, &k, &kl)))
            if ((a = ss_keytab_count(&s->ov) ? lookup(s, k, kl) : &e->acc))
                rc = out_add(s, k, kl, a, 0);
        cur = 0;
        while (rc == 0 && (o = ss_keytab_next(&s->ov, &cur, &k, &kl)))
            if (o->present && ss_keytab_find(&s->t, k, kl) == NULL &&
                (a = lookup(s, k, kl)) != NULL)
                rc = out_add(s, k, kl, a, 0);
    } else if (s->cfg->emit == SS_STATE_EMIT_RECORDS) {
        while (rc == 0 && r.p < r.end) {
            const char *v;
            size_t vl;
            int had;

            if ((had = undo_next(&r, &k, &kl, &v, &vl)) < 0)
                return had;
            if (had == 2)
                rc = out_raw(s, k, kl, v, vl);
        }
        if (rc == 0) /* in the order they were emitted */
            outs_done(s, 0);
        return rc;
    } else {
        struct ss_ckpt_rd ra = r;
        struct ss_ahead ah = {.n = 0};

        for (int i = 0; i < SS_AHEAD; i++)
            ahead_undo(&s->t, &ah, &ra);
        while (rc == 0 && r.p < r.end) {
            const char *v;
            size_t vl;
            int had;

            ahead_undo(&s->t, &ah, &ra);
            if ((had = undo_next(&r, &k, &kl, &v, &vl)) < 0)
                return had;
            if (had == 2)
                continue;
            if ((a = lookup(s, k, kl)) != NULL) {
                rc = out_add(s, k, kl, a, 0);
            } else if (had && s->cfg->emit == SS_STATE_EMIT_EXPIRED) {
                struct ent tmp = {0};

                tmp.acc = s->tmp;
                if (decode(&tmp, v, vl) < 0)
                    return -EBADMSG;
                s->tmp = tmp.acc;
                rc = out_add(s, k, kl, &s->tmp, 1);
            }
        }
    }
    if (rc == 0)
        outs_done(s, 1);
    return rc;
}

static int
send(struct st *s, int64_t time)
{
    int rc;

    ss_frame_writer_begin(&s->w, time, s->interval, SS_FRAME_KEYED);
    if (s->last != NULL)
        ss_frame_writer_trail(&s->w, s->last);
    for (size_t i = 0; i < s->nouts; i++) {
        struct ss_keysort_ent *o = &s->outs[i];
        size_t vlen = ss_bytes_get_le(o->val, 4);

        if ((rc = ss_frame_writer_add(&s->w, o->k, o->klen, o->k + o->klen,
                                      vlen)) < 0)
            return rc;
    }
    ss_stats_stamp(s->stats);
    if ((rc = ss_frame_writer_end(&s->w)) == 0) {
        ss_stats_keys(s->stats, ss_keytab_count(&s->t));
        ss_stats_end(s->stats);
    }
    return rc;
}

/* ---- a replayed batch: rebuild its output ---- */

static int
overlay(struct st *s, const struct ss_replay_entry *kp)
{
    struct ss_ckpt_rd r = {kp->data.data, ss_buf_end(&kp->data), 0};

    while (r.p < r.end) {
        const char *k, *v;
        size_t kl, vl;
        int had, created;
        struct ovv *o;

        if ((had = undo_next(&r, &k, &kl, &v, &vl)) < 0)
            return had;
        if (had == 2)
            continue;
        if ((o = ss_keytab_get(&s->ov, k, kl, &created)) == NULL)
            return -ENOMEM;
        o->present = had;
        o->off = s->ovbuf.len;
        o->len = vl;
        if (ss_buf_append(&s->ovbuf, v, vl) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* Batch 'time' comes again: rebuild what it emitted by undoing, over
 * the current state, the undo lists of the batches after it. */
static int
replay_batch(struct st *s, int64_t time, uint64_t digest)
{
    const struct ss_replay_entry *e;
    int rc;

    rc = ss_replay_find(&s->kept, s->has_ck ? &s->ck : NULL, time, digest, &e);
    if (rc == -ENOENT)
        return ss_diag("batch %" PRId64 " comes after batch %" PRId64
                       " (batch times must increase)",
                       time, s->time);
    if (rc < 0)
        return rc;
    ss_stats_skip(s->stats);
    ss_keytab_clear(&s->ov);
    ss_buf_reset(&s->ovbuf);
    /* The newer batches' lists, newest first, then the batch's own. */
    for (const struct ss_replay_entry *n = s->kept.e + s->kept.n; --n > e;)
        if ((rc = overlay(s, n)) < 0)
            return rc;
    if ((rc = build(s, e->data.data, e->data.len)) < 0)
        return rc;
    ss_keytab_clear(&s->ov);
    return send(s, time);
}

/* ---- a live batch ---- */

static int
save_undo(struct st *s, const char *k, size_t kl, const struct ent *e)
{
    int rc;

    if ((rc = ss_ckpt_put_bytes(&s->undo, k, kl)) < 0)
        return rc;
    if (e == NULL)
        return ss_buf_putc(&s->undo, 0);
    ss_buf_reset(&s->enc);
    if ((rc = ss_buf_putc(&s->undo, 1)) < 0 || (rc = encode(&s->enc, e)) < 0)
        return rc;
    return ss_ckpt_put_bytes(&s->undo, s->enc.data, s->enc.len);
}

/* An output record of --emit records, into the undo list: the list is
 * the batch's blob, so a replay emits the records again as they were. */
static int
emit_record(struct st *s, const char *k, size_t kl, const char *v, size_t vl)
{
    int rc;

    if (s->cfg->emit != SS_STATE_EMIT_RECORDS)
        return 0;
    if ((rc = ss_ckpt_put_bytes(&s->undo, k, kl)) < 0 ||
        (rc = ss_buf_putc(&s->undo, 2)) < 0)
        return rc;
    return ss_ckpt_put_bytes(&s->undo, v, vl);
}

/* --emit records: the key's state after record r, as mapWithState's
 * mapping function returns it in Spark's examples. */
static int
emit_state(struct st *s, const struct ss_rec *r, const struct ent *e)
{
    int rc;

    if (s->cfg->emit != SS_STATE_EMIT_RECORDS)
        return 0;
    ss_buf_reset(&s->enc);
    if ((rc = ss_acc_format(&e->acc, s->cfg->op, &s->enc)) < 0)
        return rc;
    return emit_record(s, r->key, r->klen, s->enc.data, s->enc.len);
}

static int
apply(struct st *s, const struct ss_rec *r)
{
    enum ss_op op = s->cfg->op;
    struct ent *e = ss_keytab_find(&s->t, r->key, r->klen);
    struct ss_acc tmp = {0};
    int rc, created;

    if (ss_op_numeric(op)) {
        /* Try the value on a copy first: a rejected record must leave
         * the key as it was, not even marked as updated. */
        if (e != NULL)
            tmp = e->acc;
        if ((rc = ss_acc_add(&tmp, op, r->val, r->vlen, s->cfg->sep)) < 0) {
            if (rc == -ENOMEM)
                return rc;
            ss_rejects_value(s->rej, s->cur, s->recno, r, rc);
            return 0;
        }
    }
    if (e == NULL) {
        if ((e = ss_keytab_get(&s->t, r->key, r->klen, &created)) == NULL)
            return -ENOMEM;
        e->touched = NO_TIME;
        if ((rc = save_undo(s, r->key, r->klen, NULL)) < 0)
            return rc;
    } else if (e->touched != s->cur) {
        if ((rc = save_undo(s, r->key, r->klen, e)) < 0)
            return rc;
    }
    e->touched = s->cur;
    e->last = s->cur;
    if (ss_op_numeric(op))
        e->acc = tmp;
    else if ((rc = ss_acc_add(&e->acc, op, r->val, r->vlen, s->cfg->sep)) < 0)
        return rc;
    return emit_state(s, r, e);
}

/* Key e has had no records for more than --timeout of batch time: its
 * last update is strictly older than the batch time minus the timeout,
 * as Spark's StateMap.getByTime() picks them. Spark looks only at its
 * checkpoint batches (a full scan is costly there); we look every batch,
 * so that when a key goes does not depend on the checkpoint interval. */
static int
timed_out(const struct st *s, const struct ent *e)
{
    return s->cfg->timeout_ms > 0 && e->last != NO_TIME &&
           s->cur - e->last > s->cfg->timeout_ms;
}

/* A scan of every key, once per batch and only with --timeout: simpler
 * than a queue ordered by last update, and cheap next to a batch's I/O up
 * to millions of keys. */
static int
expire(struct st *s)
{
    size_t cur = 0, kl;
    const char *k;
    struct ent *e;
    int rc;

    if (s->cfg->timeout_ms <= 0)
        return 0;
    while ((e = ss_keytab_next(&s->t, &cur, &k, &kl)) != NULL) {
        if (e->touched == s->cur || !timed_out(s, e))
            continue;
        if ((rc = save_undo(s, k, kl, e)) < 0)
            return rc;
        ss_keytab_del(&s->t, k, kl);
    }
    return 0;
}

static int
save(struct st *s, uint64_t digest)
{
    struct ss_ckpt *c = &s->ck;
    struct ss_ckpt_rd r = {s->undo.data, ss_buf_end(&s->undo), 0}, ra = r;
    struct ss_ahead ah = {.n = 0};
    size_t cur = 0, kl;
    const char *k;
    struct ent *e;
    int rc;

    if (!s->has_ck)
        return 0;
    if (s->cfg->before_save != NULL && s->last != NULL &&
        (rc = s->cfg->before_save(s->cfg->save_ctx, s->last)) < 0)
        return rc;
    ss_io_test_crash(SS_IO_CRASH_STATE_SAVE);
    /* The delta even when a snapshot follows: the new log begins with it
     * (lib/ckpt.h), and it costs what the batch changed. */
    ss_ckpt_delta_begin(c, s->cur);
    for (int i = 0; i < SS_AHEAD; i++)
        ahead_undo(&s->t, &ah, &ra);
    while (r.p < r.end) {
        const char *v;
        size_t vl;

        ahead_undo(&s->t, &ah, &ra);
        if ((rc = undo_next(&r, &k, &kl, &v, &vl)) < 0)
            return rc;
        if (rc == 2)
            continue;
        if ((e = ss_keytab_find(&s->t, k, kl)) == NULL) {
            rc = ss_ckpt_delta_del(c, k, kl);
        } else {
            ss_buf_reset(&s->enc);
            if ((rc = encode(&s->enc, e)) == 0)
                rc = ss_ckpt_delta_put(c, k, kl, s->enc.data, s->enc.len);
        }
        if (rc < 0)
            return rc;
    }
    if ((rc = ss_replay_save_delta(c, digest, s->undo.data, s->undo.len)) < 0)
        return rc;
    if (!ss_ckpt_want_snapshot(c, s->cur))
        return ss_ckpt_delta_commit(c);
    if ((rc = ss_ckpt_snap_begin(c, s->cur, s->opts, s->nopts)) < 0)
        return rc;
    while ((e = ss_keytab_next(&s->t, &cur, &k, &kl)) != NULL) {
        ss_buf_reset(&s->enc);
        if ((rc = encode(&s->enc, e)) < 0 ||
            (rc = ss_ckpt_snap_put(c, k, kl, s->enc.data, s->enc.len)) < 0)
            return rc;
    }
    if ((rc = ss_replay_save_snapshot(&s->kept, c)) < 0)
        return rc;
    return ss_ckpt_snap_commit(c);
}

static void
begin_batch(struct st *s, const struct ss_frame *f)
{
    s->cur = f->time;
    s->interval = f->interval;
    s->recno = 0;
    s->replay = s->time != NO_TIME && f->time <= s->time;
    ss_buf_reset(&s->undo);
    XXH64_reset(&s->xh, 0);
    if (!s->replay && s->fix_initial) {
        size_t cur = 0, kl;
        const char *k;
        struct ent *e;

        /* Keys from --initial or --import idle from the stream's start. */
        while ((e = ss_keytab_next(&s->t, &cur, &k, &kl)) != NULL)
            if (e->last == NO_TIME)
                e->last = f->time - f->interval;
        s->fix_initial = 0;
    }
}

static int
end_batch(struct st *s)
{
    uint64_t digest = XXH64_digest(&s->xh);
    int rc;

    ss_io_test_crash(SS_IO_CRASH_STATE_BATCH);
    if (s->replay)
        return replay_batch(s, s->cur, digest);
    /* The batch's undo list joins the kept ones before saving, so that a
     * snapshot written now holds it too. */
    if ((s->ex && (rc = ss_state_exec_batch(s->ex, s)) < 0) ||
        (rc = expire(s)) < 0 ||
        (rc = ss_replay_keep(&s->kept, s->cur, digest, s->undo.data,
                             s->undo.len)) < 0 ||
        (rc = save(s, digest)) < 0)
        return rc;
    s->time = s->cur;
    if ((rc = build(s, s->undo.data, s->undo.len)) < 0)
        return rc;
    if (ss_keytab_count(&s->t) * 2 < s->t.nents && s->t.nents > 1024)
        ss_keytab_compact(&s->t);
    ss_io_test_crash(SS_IO_CRASH_STATE_EMIT);
    if ((rc = ss_rejects_flush(s->rej)) < 0)
        return rc;
    return send(s, s->cur);
}

/* What waits for the input's first batch: how many outputs to keep, so
 * that every batch a restart may send again is replayed from them (the
 * frames say how far back: replay_ms), and whether the checkpoint lost
 * batches that do not come again. */
static int
first_batch(struct st *s, const struct ss_frame *f)
{
    int rc;

    s->seen = 1;
    if ((rc = ss_replay_size(&s->kept, s->cfg->keep_outputs,
                             SS_STATE_KEEP_OUTPUTS,
                             s->has_ck ? f->replay_ms : 0, f->interval)) < 0)
        return rc; /* SS_USAGE, reported */
    if (s->has_ck)
        return ss_ckpt_check_resume(&s->ck, f->time, f->interval);
    return 0;
}

static int
on_part(struct st *s, const struct ss_frame *f)
{
    struct ss_rec_iter it, ra;
    struct ss_rec r;
    struct ss_ahead ah = {.n = 0};
    int rc;

    ss_stats_in(s->stats, f);
    XXH64_update(&s->xh, f->payload, f->payload_len);
    s->last = f;
    if (s->replay)
        return 0;
    if (f->count > 0 && !(f->flags & SS_FRAME_KEYED))
        return ss_diag("batch %" PRId64 ": records have no keys (key "
                       "them first, e.g. with sstream-map)",
                       f->time);
    ss_frame_iter_init(&ra, f);
    for (int i = 0; i < SS_AHEAD && !s->ex && ss_frame_iter_next(&ra, &r); i++)
        ss_ahead_key(&s->t, &ah, r.key, r.klen);
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r)) {
        struct ss_rec next;

        if (!s->ex && ss_frame_iter_next(&ra, &next))
            ss_ahead_key(&s->t, &ah, next.key, next.klen);
        s->recno++;
        rc = s->ex ? ss_state_exec_take(s->ex, &r) : apply(s, &r);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* One batch, its first frame in br->f. */
static int
on_batch(struct st *s, struct ss_frame_batch_reader *br)
{
    struct ss_frame f;
    int rc;

    if (!s->seen && (rc = first_batch(s, &br->f)) < 0)
        return rc;
    begin_batch(s, &br->f);
    ss_stats_begin(s->stats);
    s->w.closed_ms = br->f.closed_ms; /* passed on, for delays */
    s->w.replay_ms = br->f.replay_ms;
    while ((rc = ss_frame_batch_part(br, &f)) > 0)
        if ((rc = on_part(s, &f)) < 0)
            return rc;
    return rc < 0 ? rc : end_batch(s);
}

/* ---- setup ---- */

static int
open_state(struct st *s)
{
    const struct ss_state_config *cfg = s->cfg;
    struct ss_ckpt_loader ld = {s, ld_put, ld_del, ld_blob};
    int rc = 0;

    s->opts[0].name = "update";
    s->opts[0].value = cfg->update_exec ? "exec" : ss_op_name(cfg->op);
    s->opts[1].name = "timeout";
    s->opts[1].value =
        cfg->timeout_ms > 0
            ? ss_dur_format(cfg->timeout_ms, s->tbuf, sizeof(s->tbuf))
            : "none";
    s->nopts = 2;
    if (cfg->op == SS_OP_CONCAT) {
        s->sepbuf[0] = cfg->sep;
        s->opts[2].name = "separator";
        s->opts[2].value = s->sepbuf;
        s->nopts = 3;
    }
    if (cfg->checkpoint != NULL) {
        rc = ss_ckpt_open(&s->ck, cfg->checkpoint, s->opts, s->nopts, &ld, 0);
        s->has_ck = 1;
        if (rc < 0)
            return rc;
        s->ck.interval_ms = cfg->ckpt_interval_ms;
        s->time = s->ck.time;
    }
    if (rc == 1 && cfg->import != NULL)
        return ss_diag("--import: checkpoint '%s' already holds state "
                       "(import into a new --checkpoint DIR)",
                       cfg->checkpoint),
               SS_USAGE;
    if (cfg->import != NULL)
        return load_text(s, "--import", cfg->import);
    if (rc == 0 && cfg->initial != NULL)
        return load_text(s, "--initial", cfg->initial);
    return 0;
}

static void
release(struct st *s)
{
    ss_state_exec_stop(s->ex);
    if (s->has_ck)
        ss_ckpt_close(&s->ck);
    ss_keytab_release(&s->t);
    ss_keytab_release(&s->ov);
    ss_replay_release(&s->kept);
    free(s->outs);
    free(s->outs_tmp);
    ss_buf_release(&s->undo);
    ss_buf_release(&s->enc);
    ss_buf_release(&s->sb);
    ss_buf_release(&s->ovbuf);
    ss_acc_release(&s->tmp);
    ss_frame_writer_release(&s->w);
}

static void
summary(struct st *s)
{
    ss_replay_summary(&s->kept);
}

int
ss_state_run(const struct ss_state_config *cfg, struct ss_stage *sg)
{
    struct ss_frame_batch_reader br;
    struct st s;
    int rc;

    memset(&s, 0, sizeof(s));
    s.cfg = cfg;
    s.time = NO_TIME;
    s.rej = &sg->rej;
    s.stats = &sg->stats;
    ss_keytab_init(&s.t, sizeof(struct ent), drop_ent);
    ss_keytab_init(&s.ov, sizeof(struct ovv), NULL);
    ss_frame_writer_init(&s.w, cfg->fd_out);
    s.w.own = cfg->own_frames;
    /* Until the first batch says how many to keep, keep what loads. */
    ss_replay_init(&s.kept, cfg->keep_outputs);
    if ((rc = ss_stage_open(sg, "state", cfg->rejects, &cfg->stats)) < 0 ||
        (rc = open_state(&s)) < 0 ||
        (cfg->update_exec &&
         (rc = ss_state_exec_start(&s.ex, cfg->update_exec)) < 0)) {
        ss_frame_writer_abort(&s.w);
        release(&s);
        return rc;
    }
    s.stats->w = &s.w;
    ss_frame_batch_init(&br, cfg->fd_in, "stdin");
    br.rd.own = cfg->own_frames;
    while ((rc = ss_frame_batch_next(&br)) > 0)
        if ((rc = on_batch(&s, &br)) < 0)
            break;
    if (rc == 0)
        rc = ss_frame_writer_eos(&s.w, br.f.time, br.f.interval);
    if (SS_UNREPORTED(rc) && rc != -EPIPE)
        rc = ss_diag_err(rc, "stdout");
    if (rc < 0 && rc != -EPIPE)
        ss_frame_writer_abort(&s.w);
    summary(&s);
    ss_frame_batch_release(&br);
    release(&s);
    return rc;
}

int
ss_state_dump(const char *dir)
{
    struct ss_state_config cfg;
    struct ss_ckpt_loader ld;
    struct ss_buf out = {0};
    const char *name, *val, *k;
    struct st s;
    struct ent *e;
    size_t cur = 0, kl;
    int rc;

    ss_state_config_init(&cfg);
    memset(&s, 0, sizeof(s));
    s.cfg = &cfg;
    ss_keytab_init(&s.t, sizeof(struct ent), drop_ent);
    ss_keytab_init(&s.ov, sizeof(struct ovv), NULL);
    cfg.keep_outputs = 0;
    ld = (struct ss_ckpt_loader){&s, ld_put, ld_del, ld_blob};
    rc = ss_ckpt_open(&s.ck, dir, NULL, 0, &ld, 1);
    s.has_ck = 1;
    if (rc == 0)
        rc = ss_diag("--dump: '%s' holds no checkpoint", dir);
    for (size_t i = 0; rc > 0 && (name = ss_ckpt_opt_name(&s.ck, i, &val)); i++)
        if (strcmp(name, "update") == 0 && strcmp(val, "exec") == 0)
            cfg.op = SS_OP_LAST; /* --update-exec: the command's text */
        else if (strcmp(name, "update") == 0 && ss_op_lookup(val, &cfg.op) < 0)
            rc = ss_diag("--dump: '%s': unknown operator '%s'", dir, val);
    if (rc > 0) {
        ss_diag("checkpoint '%s': batch time %" PRId64 ", %zu keys", dir,
                s.ck.time, ss_keytab_count(&s.t));
        while ((e = ss_keytab_next(&s.t, &cur, &k, &kl)) != NULL) {
            ss_buf_append(&out, k, kl);
            ss_buf_putc(&out, '\t');
            ss_acc_format(&e->acc, cfg.op, &out);
            ss_buf_putc(&out, '\n');
        }
        rc = ss_io_write_all(STDOUT_FILENO, out.data, out.len);
        if (rc < 0 && rc != -EPIPE)
            rc = ss_diag_err(rc, "stdout");
    }
    ss_buf_release(&out);
    release(&s);
    return rc < 0 ? rc : 0;
}

/* ---- for state_exec.c (state_int.h) ---- */

int64_t
ss_state__time(const struct st *s)
{
    return s->cur;
}

struct ss_rejects *
ss_state__rejects(struct st *s)
{
    return s->rej;
}

const char *
ss_state__next(struct st *s, size_t *cur, size_t *kl)
{
    const char *k;

    return ss_keytab_next(&s->t, cur, &k, kl) != NULL ? k : NULL;
}

int
ss_state__get(struct st *s, const char *k, size_t kl, const char **v,
              size_t *vl, int *timing_out)
{
    struct ent *e = ss_keytab_find(&s->t, k, kl);

    *timing_out = e != NULL && timed_out(s, e);
    *v = e != NULL ? e->acc.s : NULL;
    *vl = e != NULL ? e->acc.slen : 0;
    return e != NULL;
}

int
ss_state__set(struct st *s, const char *k, size_t kl, const char *v, size_t vl,
              int fresh)
{
    struct ent *e = ss_keytab_find(&s->t, k, kl);
    int rc, created;

    if (e == NULL) {
        if ((e = ss_keytab_get(&s->t, k, kl, &created)) == NULL)
            return -ENOMEM;
        e->touched = NO_TIME;
        e->last = NO_TIME;
        if ((rc = save_undo(s, k, kl, NULL)) < 0)
            return rc;
    } else if (e->touched != s->cur) {
        /* An idle key answered as it was: not a change to save. */
        if (!fresh && e->acc.slen == vl &&
            (vl == 0 || memcmp(e->acc.s, v, vl) == 0))
            return 0;
        if ((rc = save_undo(s, k, kl, e)) < 0)
            return rc;
    }
    e->touched = s->cur;
    if (fresh)
        e->last = s->cur;
    ss_acc_reset(&e->acc);
    return ss_acc_add(&e->acc, SS_OP_LAST, v, vl, 0);
}

int
ss_state__remove(struct st *s, const char *k, size_t kl)
{
    struct ent *e = ss_keytab_find(&s->t, k, kl);
    int rc;

    if (e == NULL)
        return 0;
    if (e->touched != s->cur && (rc = save_undo(s, k, kl, e)) < 0)
        return rc;
    ss_keytab_del(&s->t, k, kl);
    return 0;
}

int
ss_state__emit(struct st *s, const char *k, size_t kl, const char *v, size_t vl)
{
    return emit_record(s, k, kl, v, vl);
}
