/* window.c - sliding, tumbling and session windows over frames.
 *
 * Time (DESIGN.md "Time"): the batch at time T holds (T - interval, T].
 * A pane of G ms ends on a multiple of G and holds the batches whose time
 * falls in (end - G, end]; a window ending at E (a multiple of the slide)
 * is the panes in (E - W, E]. Panes live in a ring of W / G + 1 slots, so
 * the pane leaving the window is still there when the newest one closes.
 *
 * A pane closes when a batch at its end time has been read (or a later
 * batch shows it is over); closing adds it to the running aggregate, takes
 * out the pane W before it, and emits the window when the pane's end is a
 * multiple of the slide. Keyed output is in byte order of the keys: the
 * running and the recomputing paths then print the same, and the output
 * of successive slides lines up for diff(1) and join(1).
 */
#include "window.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH64_state_t in struct win */
#include <xxhash.h>

#include "buf.h"
#include "bytes.h"
#include "ckpt.h"
#include "diag.h"
#include "dur.h"
#include "frame.h"
#include "io.h"
#include "keytab.h"
#include "rejects.h"
#include "replay.h"

struct pane {
    int64_t end;          /* 0: never used */
    struct ss_keytab tab; /* keyed modes, open pane: key -> struct ss_acc */
    struct ss_buf recs;   /* plain window: record bytes as in a payload;
                             keyed, closed pane: its entries, flattened */
    int flat;             /* keyed: the entries are in recs, tab is empty */
    uint32_t nrec;        /* plain window: records in recs */
    int in_run;           /* added to the running aggregate */
    int inexact;          /* a double went in */
    int dirty;            /* changed since the last checkpoint */
};

struct session {
    struct ss_acc acc;
    int64_t first, last; /* batch times of the first and latest record */
};

struct out_ent { /* one key of a window, for sorting */
    const char *k;
    size_t klen;
    struct ss_acc *a;
};

struct win {
    const struct ss_window_config *cfg;
    enum ss_op op;
    int64_t interval, window, slide, gran;
    size_t nslots;
    struct pane *panes;
    struct ss_keytab run; /* the window's aggregate per key */
    int inverse;          /* run is kept by add and subtract */
    int run_inexact;      /* run holds a double: rebuild now and then */
    unsigned since_rebuild;
    struct ss_keytab sess; /* --session-gap: key -> struct session */
    int started;
    int seen;         /* a batch has been read */
    XXH64_state_t xh; /* digest of the batch's payloads so far */
    int keyed;        /* plain window: -1 unknown, else the input's keyedness */
    int keyed_hint;   /* plain window: the latest frame's, until records */
    int64_t open_end; /* end of the pane taking records */
    int64_t last_time; /* latest batch time read */
    int64_t last_out;  /* latest frame time written */
    int64_t batch_time;
    uint64_t recno;
    struct ss_rejects rej;
    struct ss_frame_writer w;
    struct ss_buf scratch; /* --count-by-value key<TAB>value */
    struct ss_buf text;    /* a formatted value */
    struct out_ent *ents;
    size_t ents_cap;
    struct ss_acc tmp; /* an entry of a flattened pane */
    /* --checkpoint */
    int has_ck;
    struct ss_ckpt ck;
    int replaying;            /* the batch being read is at or before ck time */
    struct ss_replay_out out; /* this batch's output frames, to keep */
    struct ss_replay kept;    /* the last batches' output frames */
    struct ss_buf dead;       /* pane ends dropped since the last save */
    struct ss_buf t_run;      /* run keys changed since the last save */
    struct ss_buf t_sess;     /* session keys changed since the last save */
    struct ss_buf enc;
    struct ss_stats stats;
    const struct ss_frame *cur; /* the frame being read, for its trail */
    FILE *spool; /* --checkpoint: output waits here for the save */
};

void
ss_window_config_init(struct ss_window_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mode = SS_WINDOW_PLAIN;
    cfg->op = SS_OP_SUM;
    cfg->sep = ',';
    cfg->rebuild_every = SS_WINDOW_REBUILD_EVERY;
    cfg->keep_outputs = SS_REPLAY_KEEP_AUTO;
}

static void
acc_drop(void *v)
{
    ss_acc_release(v);
}

/* Smallest multiple of m at or after t (t may be negative). */
static int64_t
ceil_to(int64_t t, int64_t m)
{
    int64_t q = t / m;

    if (q * m < t)
        q++;
    return q * m;
}

static int64_t
gcd(int64_t a, int64_t b)
{
    while (b != 0) {
        int64_t r = a % b;

        a = b;
        b = r;
    }
    return a;
}

static struct pane *
slot(struct win *x, int64_t end)
{
    int64_t i = (end / x->gran) % (int64_t)x->nslots;

    if (i < 0)
        i += (int64_t)x->nslots;
    return &x->panes[i];
}

static int
keyed_mode(const struct win *x)
{
    return x->cfg->mode != SS_WINDOW_PLAIN;
}

/* ---- setting up on the first frame ---- */

static int
check_multiple(const char *what, int64_t d, int64_t interval)
{
    char a[32], b[32];

    if (d % interval == 0)
        return 0;
    ss_diag("%s %s is not a multiple of the batch interval %s", what,
            ss_dur_format(d, a, sizeof(a)),
            ss_dur_format(interval, b, sizeof(b)));
    return -EDOM;
}

static int
setup(struct win *x, int64_t interval)
{
    const struct ss_window_config *cfg = x->cfg;
    char a[32], b[32], c[32];

    x->interval = interval;
    if (cfg->session_gap > 0)
        return check_multiple("--session-gap", cfg->session_gap, interval);
    x->window = cfg->window;
    x->slide = cfg->slide > 0 ? cfg->slide : interval;
    if (x->window % interval != 0 || x->slide % interval != 0) {
        ss_diag("window %s and slide %s must be multiples of the batch "
                "interval %s",
                ss_dur_format(x->window, a, sizeof(a)),
                ss_dur_format(x->slide, b, sizeof(b)),
                ss_dur_format(interval, c, sizeof(c)));
        return -EDOM;
    }
    x->gran = gcd(x->window, x->slide);
    x->nslots = (size_t)(x->window / x->gran) + 1;
    if ((x->panes = calloc(x->nslots, sizeof(*x->panes))) == NULL)
        return ss_diag("out of memory for %zu panes", x->nslots);
    for (size_t i = 0; i < x->nslots; i++)
        ss_keytab_init(&x->panes[i].tab, sizeof(struct ss_acc), acc_drop);
    return 0;
}

/* ---- output, and what a checkpoint keeps of it ---- */

/* With --checkpoint, every frame written is also recorded in x->out, so
 * that a replayed batch can be sent again byte for byte (lib/replay). */
static void
out_begin(struct win *x, int64_t time, uint32_t interval, uint32_t flags)
{
    ss_frame_writer_begin(&x->w, time, interval, flags);
    if (x->cur != NULL) /* a window goes on with its last batch's trail */
        ss_frame_writer_trail(&x->w, x->cur);
    if (x->has_ck)
        ss_replay_out_begin(&x->out, time, interval, flags);
}

static int
out_add(struct win *x, const char *k, size_t klen, const char *v, size_t vlen)
{
    int rc;

    if (x->has_ck && (rc = ss_replay_out_add(&x->out, k, klen, v, vlen)) < 0)
        return rc;
    return ss_frame_writer_add(&x->w, k, klen, v, vlen);
}

static int
out_end(struct win *x)
{
    int rc;

    if (x->has_ck && (rc = ss_replay_out_end(&x->out)) < 0)
        return rc;
    ss_stats_stamp(&x->stats);
    return ss_frame_writer_end(&x->w);
}

/* Remember a key whose entry changed, for the next checkpoint delta. */
static void
touch(struct win *x, struct ss_buf *list, const char *k, size_t klen)
{
    char n[4];

    if (!x->has_ck)
        return;
    ss_bytes_put_le(n, klen, 4);
    ss_buf_append(list, n, 4);
    ss_buf_append(list, k, klen);
}

/* ---- pane entries ----
 *
 * A closed pane is only read again in order (added, subtracted, merged,
 * saved), never looked up, so its entries are flattened into one buffer
 * (varint key length, key, encoded accumulator: ~20 bytes for a short key
 * against ~90 in a table) and its table freed: a window of many slides
 * over many keys holds a table only for the open pane. */

struct pane_it {
    size_t cur;
    const char *p, *end;
};

static void
pane_it_init(struct pane *p, struct pane_it *it)
{
    it->cur = 0;
    it->p = it->end = NULL;
    if (p->flat && p->recs.len > 0) {
        it->p = p->recs.data;
        it->end = p->recs.data + p->recs.len;
    }
}

/* The next entry of p, or NULL; a flattened entry is decoded into x->tmp,
 * valid until the next call. */
static const struct ss_acc *
pane_next(struct win *x, struct pane *p, struct pane_it *it, const char **k,
          size_t *klen)
{
    int used;

    if (!p->flat)
        return ss_keytab_next(&p->tab, &it->cur, k, klen);
    if (it->p == NULL || it->p >= it->end)
        return NULL;
    *klen = ss_frame_varint_get(&it->p);
    *k = it->p;
    it->p += *klen;
    if ((used = ss_acc_decode(&x->tmp, it->p, (size_t)(it->end - it->p))) < 0)
        return NULL; /* cannot happen: checked when it was made or loaded */
    it->p += used;
    return &x->tmp;
}

/* Append the entries of p's table to b as pane_next() reads them. */
static int
flatten_into(struct pane *p, struct ss_buf *b)
{
    size_t cur = 0, klen;
    const char *k;
    struct ss_acc *a;
    int rc = 0;

    while (rc == 0 && (a = ss_keytab_next(&p->tab, &cur, &k, &klen)) != NULL)
        if ((rc = ss_bytes_append_varint(b, klen)) == 0 &&
            (rc = ss_buf_append(b, k, klen)) == 0)
            rc = ss_acc_encode(a, b);
    return rc;
}

static int
flatten(struct win *x, struct pane *p)
{
    int rc;

    if (p->flat || !keyed_mode(x))
        return 0;
    ss_buf_reset(&p->recs);
    if ((rc = flatten_into(p, &p->recs)) < 0)
        return rc;
    ss_keytab_release(&p->tab);
    ss_keytab_init(&p->tab, sizeof(struct ss_acc), acc_drop);
    p->flat = 1;
    return 0;
}

/* Check that p[0..n) holds whole flattened entries. */
static int
flat_valid(const char *p, size_t n)
{
    const char *end = p + n;
    struct ss_acc a = {0};
    int used = 0;

    while (p < end && used >= 0) {
        uint64_t klen;

        if (ss_bytes_get_varint(&p, end, &klen) < 0 ||
            klen > (uint64_t)(end - p)) {
            used = -1; /* and release a's string below */
            break;
        }
        p += klen;
        if ((used = ss_acc_decode(&a, p, (size_t)(end - p))) >= 0)
            p += used;
    }
    ss_acc_release(&a);
    return used >= 0;
}

/* ---- the running aggregate ---- */

static int
merge_into(struct win *x, struct ss_keytab *dst, struct pane *p)
{
    struct pane_it it;
    size_t klen;
    const char *k;
    const struct ss_acc *a;
    struct ss_acc *r;
    int created, rc;

    pane_it_init(p, &it);
    while ((a = pane_next(x, p, &it, &k, &klen)) != NULL) {
        if ((r = ss_keytab_get(dst, k, klen, &created)) == NULL)
            return -ENOMEM;
        touch(x, &x->t_run, k, klen);
        if ((rc = ss_acc_merge(r, a, x->op, x->cfg->sep)) == -ERANGE)
            return ss_diag("key '%.*s': the window's sum leaves 64-bit "
                           "integers",
                           (int)klen, k);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int
subtract(struct win *x, struct pane *p)
{
    struct pane_it it;
    size_t klen;
    const char *k;
    const struct ss_acc *a;
    struct ss_acc *r;
    int rc;

    pane_it_init(p, &it);
    while ((a = pane_next(x, p, &it, &k, &klen)) != NULL) {
        if ((r = ss_keytab_find(&x->run, k, klen)) == NULL)
            continue; /* cannot happen: p was added */
        touch(x, &x->t_run, k, klen);
        if ((rc = ss_acc_unmerge(r, a, x->op)) < 0)
            return ss_diag("key '%.*s': the window's sum leaves 64-bit "
                           "integers",
                           (int)klen, k);
        if (r->n == 0 && !x->cfg->keep_empty)
            ss_keytab_del(&x->run, k, klen);
    }
    p->in_run = 0;
    return 0;
}

/* Recompute run as the merge of the panes in (e - W, e]. Accumulators are
 * reset rather than freed, so keys that stay keep their memory; keys left
 * empty go unless --keep-empty-keys keeps them (Spark's behaviour). */
static int
rebuild(struct win *x, int64_t e)
{
    size_t cur = 0, klen;
    const char *k;
    struct ss_acc *a;
    int rc;

    while ((a = ss_keytab_next(&x->run, &cur, &k, &klen)) != NULL) {
        ss_acc_reset(a);
        touch(x, &x->t_run, k, klen);
    }
    x->run_inexact = 0;
    for (int64_t t = e - x->window + x->gran; t <= e; t += x->gran) {
        struct pane *p = slot(x, t);

        if (p->end != t)
            continue;
        if ((rc = merge_into(x, &x->run, p)) < 0)
            return rc;
        x->run_inexact |= p->inexact;
    }
    if (!x->cfg->keep_empty) {
        cur = 0;
        while ((a = ss_keytab_next(&x->run, &cur, &k, &klen)) != NULL)
            if (a->n == 0)
                ss_keytab_del(&x->run, k, klen);
    }
    x->since_rebuild = 0;
    return 0;
}

/* ---- output ---- */

static int
cmp_ent(const void *pa, const void *pb)
{
    const struct out_ent *a = pa, *b = pb;
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(a->k, b->k, n);

    if (c != 0)
        return c;
    return (a->klen > b->klen) - (a->klen < b->klen);
}

static int
collect(struct win *x, struct ss_keytab *t)
{
    size_t cur = 0, n = 0, klen;
    const char *k;
    struct ss_acc *a;

    if (ss_keytab_count(t) > x->ents_cap) {
        size_t cap = ss_keytab_count(t) * 2;
        struct out_ent *e = realloc(x->ents, cap * sizeof(*e));

        if (e == NULL)
            return -ENOMEM;
        x->ents = e;
        x->ents_cap = cap;
    }
    while ((a = ss_keytab_next(t, &cur, &k, &klen)) != NULL)
        if (a->n > 0 || x->cfg->keep_empty)
            x->ents[n++] = (struct out_ent){k, klen, a};
    if (n > 1)
        qsort(x->ents, n, sizeof(*x->ents), cmp_ent);
    return (int)n;
}

static int
put_value(struct win *x, const char *k, size_t klen, const struct ss_acc *a,
          enum ss_op op)
{
    int rc;

    ss_buf_reset(&x->text);
    if ((rc = ss_acc_format(a, op, &x->text)) < 0)
        return rc;
    return out_add(x, k, klen, x->text.data, x->text.len);
}

static int
emit_keyed(struct win *x, int64_t e)
{
    enum ss_window_mode mode = x->cfg->mode;
    int rc, n, keyless = mode == SS_WINDOW_COUNT || mode == SS_WINDOW_REDUCE;

    if (!x->inverse ||
        (x->run_inexact && ++x->since_rebuild >= x->cfg->rebuild_every))
        if ((rc = rebuild(x, e)) < 0)
            return rc;
    if ((n = collect(x, &x->run)) < 0)
        return n;
    out_begin(x, e, (uint32_t)x->slide, keyless ? 0 : SS_FRAME_KEYED);
    if (mode == SS_WINDOW_COUNT && n == 0) {
        static const struct ss_acc none;

        rc = put_value(x, NULL, 0, &none, SS_OP_COUNT);
        if (rc < 0)
            return rc;
    }
    for (int i = 0; i < n; i++) {
        struct out_ent *o = &x->ents[i];

        rc = put_value(x, keyless ? NULL : o->k, o->klen, o->a, x->op);
        if (rc < 0)
            return rc;
    }
    return out_end(x);
}

static int
emit_plain(struct win *x, int64_t e)
{
    int keyed = x->keyed >= 0 ? x->keyed : x->keyed_hint;
    uint32_t flags = keyed ? SS_FRAME_KEYED : 0;
    int rc;

    out_begin(x, e, (uint32_t)x->slide, flags);
    for (int64_t t = e - x->window + x->gran; t <= e; t += x->gran) {
        struct pane *p = slot(x, t);
        struct ss_frame f = {.flags = flags};
        struct ss_rec_iter it;
        struct ss_rec r;

        if (p->end != t || p->nrec == 0)
            continue;
        f.payload = p->recs.data;
        f.payload_len = p->recs.len;
        ss_frame_iter_init(&it, &f);
        while (ss_frame_iter_next(&it, &r))
            if ((rc = out_add(x, r.key, r.klen, r.val, r.vlen)) < 0)
                return rc;
    }
    return out_end(x);
}

/* ---- panes ---- */

static void
start_pane(struct win *x, int64_t end)
{
    struct pane *p = slot(x, end);

    if (p->end != end) {
        if (p->end != 0 && x->has_ck) {
            char e[8];

            ss_bytes_put_le(e, (uint64_t)p->end, 8);
            ss_buf_append(&x->dead, e, 8);
        }
        p->dirty = 1;
        ss_keytab_clear(&p->tab);
        ss_buf_reset(&p->recs);
        p->flat = 0;
        p->nrec = 0;
        p->in_run = 0;
        p->inexact = 0;
        p->end = end;
    }
}

/* The pane ending at e is complete: fold it in, let the pane W before it
 * go, and emit the window that ends at e if a slide ends there. */
static int
close_pane(struct win *x, int64_t e)
{
    struct pane *p = slot(x, e), *old = slot(x, e - x->window);
    int rc;

    /* With a slide longer than the window, some panes are in no window. */
    int windowed = e > ceil_to(e, x->slide) - x->window;

    p->dirty = old->dirty = 1;
    if (x->inverse) {
        if (windowed) {
            if ((rc = merge_into(x, &x->run, p)) < 0)
                return rc;
            p->in_run = 1;
            x->run_inexact |= p->inexact;
        }
        if (old->end == e - x->window && old->in_run &&
            (rc = subtract(x, old)) < 0)
            return rc;
    }
    if ((rc = flatten(x, p)) < 0)
        return rc;
    if (e % x->slide != 0)
        return 0;
    x->last_out = e;
    return keyed_mode(x) ? emit_keyed(x, e) : emit_plain(x, e);
}

static int
advance_to(struct win *x, int64_t end)
{
    int rc;

    while (x->open_end < end) {
        if ((rc = close_pane(x, x->open_end)) < 0)
            return rc;
        x->open_end += x->gran;
        start_pane(x, x->open_end);
    }
    return 0;
}

/* ---- records ---- */

/* The key and value an operator sees for record r; 0, or -EINVAL when
 * the mode needs keys and r has none. */
static int
key_of(struct win *x, const struct ss_rec *r, const char **k, size_t *klen)
{
    switch (x->cfg->mode) {
    case SS_WINDOW_COUNT_BY_VALUE:
        if (r->key == NULL) {
            *k = r->val;
            *klen = r->vlen;
            return 0;
        }
        /* A pair is counted as one value: key<TAB>value. */
        ss_buf_reset(&x->scratch);
        ss_buf_append(&x->scratch, r->key, r->klen);
        ss_buf_putc(&x->scratch, '\t');
        if (ss_buf_append(&x->scratch, r->val, r->vlen) < 0)
            return -ENOMEM;
        *k = x->scratch.data;
        *klen = x->scratch.len;
        return 0;
    case SS_WINDOW_REDUCE_BY_KEY:
    case SS_WINDOW_GROUP_BY_KEY:
        if (r->key == NULL)
            return -EINVAL;
        *k = r->key;
        *klen = r->klen;
        return 0;
    default:
        *k = "";
        *klen = 0;
        return 0;
    }
}

static void
reject(struct win *x, const struct ss_rec *r, int rc)
{
    if (rc == -ERANGE)
        ss_diag_rec(x->batch_time, x->recno,
                    "'%.*s' takes the sum out of 64-bit integers", (int)r->vlen,
                    r->val);
    else
        ss_diag_rec(x->batch_time, x->recno, "'%.*s' is not a number",
                    (int)r->vlen, r->val);
    ss_rejects_put(&x->rej, r->key, r->klen, r->val, r->vlen);
}

static int
add_keyed(struct win *x, struct ss_keytab *t, const struct ss_rec *r,
          const char *k, size_t klen)
{
    struct ss_acc *a;
    int created, rc;

    if ((a = ss_keytab_get(t, k, klen, &created)) == NULL)
        return -ENOMEM;
    rc = ss_acc_add(a, x->op, r->val, r->vlen, x->cfg->sep);
    if (rc == -EINVAL || rc == -ERANGE) {
        reject(x, r, rc);
        if (created)
            ss_keytab_del(t, k, klen);
        return 1;
    }
    if (rc < 0)
        return rc;
    if (ss_op_numeric(x->op) && !a->v.is_int)
        slot(x, x->open_end)->inexact = 1;
    return 0;
}

/* Sessions are kept in order of their latest record: a key seen again is
 * moved to the end, so the sessions to close are always at the front. */
static int
add_session(struct win *x, const struct ss_rec *r, const char *k, size_t klen)
{
    struct session *s, moved;
    int created = 0, rc;

    if ((s = ss_keytab_find(&x->sess, k, klen)) == NULL) {
        if ((s = ss_keytab_get(&x->sess, k, klen, &created)) == NULL)
            return -ENOMEM;
        s->first = s->last = x->batch_time;
        touch(x, &x->t_sess, k, klen);
    }
    rc = ss_acc_add(&s->acc, x->op, r->val, r->vlen, x->cfg->sep);
    if (rc == -EINVAL || rc == -ERANGE) {
        reject(x, r, rc);
        if (created)
            ss_keytab_del(&x->sess, k, klen);
        return 1;
    }
    if (rc < 0)
        return rc;
    if (s->last != x->batch_time) {
        moved = *s;
        ss_keytab_del(&x->sess, k, klen); /* no drop: the acc moves */
        if ((s = ss_keytab_get(&x->sess, k, klen, &created)) == NULL) {
            ss_acc_release(&moved.acc);
            return -ENOMEM;
        }
        *s = moved;
        s->last = x->batch_time;
        touch(x, &x->t_sess, k, klen);
    }
    return 0;
}

static int
add_frame(struct win *x, const struct ss_frame *f)
{
    struct ss_rec_iter it;
    struct ss_rec r;
    struct pane *p;
    const char *k;
    size_t klen;
    int rc, keyed = (f->flags & SS_FRAME_KEYED) != 0;

    if (!keyed_mode(x)) {
        x->keyed_hint = keyed;
        if (f->count == 0)
            return 0;
        if (x->keyed >= 0 && x->keyed != keyed)
            return ss_diag("batch %" PRId64 ": records %s keys after records "
                           "%s them",
                           f->time, keyed ? "with" : "without",
                           keyed ? "without" : "with");
        x->keyed = keyed;
        p = slot(x, x->open_end);
        p->dirty = 1;
        if (p->nrec + f->count < p->nrec)
            return ss_diag("batch %" PRId64 ": too many records in a pane",
                           f->time);
        p->nrec += f->count;
        x->recno += f->count;
        return ss_buf_append(&p->recs, f->payload, f->payload_len);
    }
    if (x->cfg->session_gap == 0)
        slot(x, x->open_end)->dirty = 1;
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r)) {
        x->recno++;
        if (key_of(x, &r, &k, &klen) < 0)
            return ss_diag("batch %" PRId64 ", record %" PRIu64
                           ": records without keys (try sstream-map to "
                           "make keys)",
                           f->time, x->recno);
        if (x->cfg->session_gap > 0)
            rc = add_session(x, &r, k, klen);
        else
            rc = add_keyed(x, &slot(x, x->open_end)->tab, &r, k, klen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- checkpoints (lib/ckpt: snapshots and delta logs) ----
 *
 * The window's state is stored as ckpt keys: "m" the scalars, "p" + end
 * (8 bytes) each pane, "r" + key the running aggregate of a key, "s" +
 * key a session. A batch's delta holds the panes it changed, the run and
 * session keys it changed, and its blob, kept for a replay: the digest of
 * the input batch (a replay must match it), then the output frames. */

#define META_LEN 44

static void
encode_meta(struct win *x, struct ss_buf *b)
{
    char m[META_LEN];

    ss_bytes_put_le(m, (uint64_t)x->interval, 8);
    ss_bytes_put_le(m + 8, (uint64_t)x->open_end, 8);
    ss_bytes_put_le(m + 16, (uint64_t)x->last_time, 8);
    ss_bytes_put_le(m + 24, (uint64_t)x->last_out, 8);
    ss_bytes_put_le(m + 32, x->since_rebuild, 4);
    m[36] = (char)x->keyed;
    m[37] = (char)x->keyed_hint;
    m[38] = (char)x->run_inexact;
    memset(m + 39, 0, META_LEN - 39);
    ss_buf_reset(b);
    ss_buf_append(b, m, sizeof(m));
}

/* The bytes of a checkpoint are checked against what this run's options
 * and the stage's own invariants allow before anything uses them: the
 * interval divides the window and slide (else a division by zero or
 * panes that do not tile), the times are frame times, the open pane ends
 * where the last batch left it, flags are flags. */
static int
meta_valid(const struct win *x, const char *v, int64_t interval)
{
    const struct ss_window_config *cfg = x->cfg;
    int64_t open_end = (int64_t)ss_bytes_get_le(v + 8, 8);
    int64_t last_time = (int64_t)ss_bytes_get_le(v + 16, 8);
    int64_t last_out = (int64_t)ss_bytes_get_le(v + 24, 8);
    int64_t slide, gran, at;
    int keyed = (signed char)v[36];

    if (interval <= 0 || interval > UINT32_MAX ||
        (x->started && interval != x->interval))
        return 0;
    if (!ss_frame_time_valid(last_time) || !ss_frame_time_valid(last_out) ||
        keyed < -1 || keyed > 1 || (x->keyed >= 0 && keyed != x->keyed) ||
        (unsigned char)v[37] > 1 || (unsigned char)v[38] > 1)
        return 0;
    if (cfg->session_gap > 0)
        return cfg->session_gap % interval == 0;
    slide = cfg->slide > 0 ? cfg->slide : interval;
    if (cfg->window % interval != 0 || slide % interval != 0)
        return 0;
    gran = gcd(cfg->window, slide);
    at = ceil_to(last_time, gran);
    return open_end == at || open_end == at + gran;
}

static int
decode_meta(struct win *x, const char *v, size_t n)
{
    int64_t interval;
    int rc;

    if (n != META_LEN)
        return -EBADMSG;
    interval = (int64_t)ss_bytes_get_le(v, 8);
    if (!meta_valid(x, v, interval))
        return -EBADMSG;
    if (!x->started) {
        if ((rc = setup(x, interval)) < 0)
            return rc;
        x->started = 1;
    }
    x->open_end = (int64_t)ss_bytes_get_le(v + 8, 8);
    x->last_time = (int64_t)ss_bytes_get_le(v + 16, 8);
    x->last_out = (int64_t)ss_bytes_get_le(v + 24, 8);
    x->since_rebuild = (unsigned)ss_bytes_get_le(v + 32, 4);
    x->keyed = (signed char)v[36];
    x->keyed_hint = v[37];
    x->run_inexact = v[38];
    return 0;
}

/* end (8), nrec (4), in_run, inexact, then the records (plain window) or
 * each key as varint length, key, encoded accumulator. */
static int
encode_pane(struct win *x, struct pane *p, struct ss_buf *b)
{
    char h[14];

    ss_bytes_put_le(h, (uint64_t)p->end, 8);
    ss_bytes_put_le(h + 8, p->nrec, 4);
    h[12] = (char)p->in_run;
    h[13] = (char)p->inexact;
    ss_buf_reset(b);
    ss_buf_append(b, h, sizeof(h));
    if (!keyed_mode(x) || p->flat)
        return ss_buf_append(b, p->recs.data, p->recs.len);
    return flatten_into(p, b);
}

/* A plain window's pane: its records as a payload holds them, in the
 * keyedness the stream has had since its first record (none before). */
static int
plain_valid(const struct win *x, const struct pane *p)
{
    struct ss_frame f = {
        .flags = x->keyed == 1 ? SS_FRAME_KEYED : 0,
        .count = p->nrec,
        .payload = p->recs.data,
        .payload_len = p->recs.len,
    };

    if (x->keyed < 0)
        return p->nrec == 0 && p->recs.len == 0;
    return ss_frame_check_records(&f) == 0;
}

/* An open pane's entries into its table; 0 or -EBADMSG (-ENOMEM). */
static int
decode_entries(struct pane *p, const char *v, const char *end)
{
    while (v < end) {
        uint64_t klen;
        struct ss_acc *a;
        int created, used;

        if (ss_bytes_get_varint(&v, end, &klen) < 0 ||
            klen > (uint64_t)(end - v))
            return -EBADMSG;
        if ((a = ss_keytab_get(&p->tab, v, (size_t)klen, &created)) == NULL)
            return -ENOMEM;
        v += klen;
        if ((used = ss_acc_decode(a, v, (size_t)(end - v))) < 0)
            return used;
        v += used;
    }
    return 0;
}

static int
decode_pane(struct win *x, const char *v, size_t n)
{
    struct pane *p;
    const char *end = v + n;
    int64_t e;

    /* A pane ends on a multiple of the pane length, in the ring's reach
     * of the open pane (no later). */
    if (n < 14 || x->cfg->session_gap > 0)
        return -EBADMSG;
    e = (int64_t)ss_bytes_get_le(v, 8);
    if (!ss_frame_time_valid(e) || e % x->gran != 0 || e > x->open_end ||
        e <= x->open_end - (int64_t)x->nslots * x->gran ||
        (unsigned char)v[12] > 1 || (unsigned char)v[13] > 1)
        return -EBADMSG;
    p = slot(x, e);
    ss_keytab_clear(&p->tab);
    ss_buf_reset(&p->recs);
    p->end = e;
    p->nrec = (uint32_t)ss_bytes_get_le(v + 8, 4);
    p->in_run = v[12];
    p->inexact = v[13];
    p->flat = 0;
    v += 14;
    if (!keyed_mode(x)) {
        if (ss_buf_append(&p->recs, v, (size_t)(end - v)) < 0)
            return -ENOMEM;
        return plain_valid(x, p) ? 0 : -EBADMSG;
    }
    if (p->end < x->open_end) { /* closed: kept flat, as it was */
        if (!flat_valid(v, (size_t)(end - v)))
            return -EBADMSG;
        p->flat = 1;
        return ss_buf_append(&p->recs, v, (size_t)(end - v));
    }
    return decode_entries(p, v, end);
}

static int
encode_session(const struct session *s, struct ss_buf *b)
{
    char h[16];

    ss_bytes_put_le(h, (uint64_t)s->first, 8);
    ss_bytes_put_le(h + 8, (uint64_t)s->last, 8);
    ss_buf_reset(b);
    ss_buf_append(b, h, sizeof(h));
    return ss_acc_encode(&s->acc, b);
}

static int
ld_put(void *ctx, const char *k, size_t klen, const char *v, size_t vlen)
{
    struct win *x = ctx;
    struct session *s;
    struct ss_acc *a;
    int created, rc;

    if (klen < 1)
        return -EBADMSG;
    if (k[0] == 'm')
        return decode_meta(x, v, vlen);
    if (!x->started)
        return -EBADMSG;
    switch (k[0]) {
    case 'p':
        return decode_pane(x, v, vlen);
    case 'r':
        if ((a = ss_keytab_get(&x->run, k + 1, klen - 1, &created)) == NULL)
            return -ENOMEM;
        rc = ss_acc_decode(a, v, vlen);
        return rc < 0 ? rc : (size_t)rc == vlen ? 0 : -EBADMSG;
    case 's':
        if (x->cfg->session_gap == 0 || vlen < 16 ||
            !ss_frame_time_valid((int64_t)ss_bytes_get_le(v, 8)) ||
            !ss_frame_time_valid((int64_t)ss_bytes_get_le(v + 8, 8)))
            return -EBADMSG;
        /* A session written again moved to the end: insertion order is
         * the order of the latest records, which closing relies on. */
        if ((s = ss_keytab_find(&x->sess, k + 1, klen - 1)) != NULL) {
            ss_acc_release(&s->acc);
            ss_keytab_del(&x->sess, k + 1, klen - 1);
        }
        if ((s = ss_keytab_get(&x->sess, k + 1, klen - 1, &created)) == NULL)
            return -ENOMEM;
        s->first = (int64_t)ss_bytes_get_le(v, 8);
        s->last = (int64_t)ss_bytes_get_le(v + 8, 8);
        rc = ss_acc_decode(&s->acc, v + 16, vlen - 16);
        return rc < 0 ? rc : (size_t)rc == vlen - 16 ? 0 : -EBADMSG;
    }
    return -EBADMSG;
}

static int
ld_del(void *ctx, const char *k, size_t klen)
{
    struct win *x = ctx;
    struct session *s;
    struct pane *p;

    if (klen < 1 || !x->started)
        return -EBADMSG;
    switch (k[0]) {
    case 'p':
        if (klen != 9 || x->cfg->session_gap > 0) /* no panes to drop */
            return -EBADMSG;
        p = slot(x, (int64_t)ss_bytes_get_le(k + 1, 8));
        if (p->end == (int64_t)ss_bytes_get_le(k + 1, 8)) {
            ss_keytab_clear(&p->tab);
            ss_buf_reset(&p->recs);
            p->end = 0;
        }
        return 0;
    case 'r':
        ss_keytab_del(&x->run, k + 1, klen - 1);
        return 0;
    case 's':
        if ((s = ss_keytab_find(&x->sess, k + 1, klen - 1)) != NULL) {
            ss_acc_release(&s->acc);
            ss_keytab_del(&x->sess, k + 1, klen - 1);
        }
        return 0;
    }
    return -EBADMSG;
}

/* A blob: a batch's output frames, checked whole (lib/replay). */
static int
ld_blob(void *ctx, int64_t time, const char *p, size_t n)
{
    struct win *x = ctx;

    return ss_replay_load(&x->kept, time, p, n, ss_replay_frames_valid);
}

static int
put_key(struct win *x, char tag, const char *k, size_t klen, int snap)
{
    struct ss_buf *key = &x->scratch;

    ss_buf_reset(key);
    ss_buf_putc(key, tag);
    if (ss_buf_append(key, k, klen) < 0)
        return -ENOMEM;
    if (snap)
        return ss_ckpt_snap_put(&x->ck, key->data, key->len, x->enc.data,
                                x->enc.len);
    return ss_ckpt_delta_put(&x->ck, key->data, key->len, x->enc.data,
                             x->enc.len);
}

static int
del_key(struct win *x, char tag, const char *k, size_t klen)
{
    ss_buf_reset(&x->scratch);
    ss_buf_putc(&x->scratch, tag);
    if (ss_buf_append(&x->scratch, k, klen) < 0)
        return -ENOMEM;
    return ss_ckpt_delta_del(&x->ck, x->scratch.data, x->scratch.len);
}

static int
save_pane(struct win *x, struct pane *p, int snap)
{
    char e[8];
    int rc;

    if ((rc = encode_pane(x, p, &x->enc)) < 0)
        return rc;
    ss_bytes_put_le(e, (uint64_t)p->end, 8);
    p->dirty = 0;
    return put_key(x, 'p', e, 8, snap);
}

static int
save_entry(struct win *x, char tag, const char *k, size_t klen, int snap)
{
    struct session *s;
    struct ss_acc *a;
    int rc;

    if (tag == 'r') {
        if ((a = ss_keytab_find(&x->run, k, klen)) == NULL)
            return snap ? 0 : del_key(x, tag, k, klen);
        ss_buf_reset(&x->enc);
        if ((rc = ss_acc_encode(a, &x->enc)) < 0)
            return rc;
    } else {
        if ((s = ss_keytab_find(&x->sess, k, klen)) == NULL)
            return snap ? 0 : del_key(x, tag, k, klen);
        if ((rc = encode_session(s, &x->enc)) < 0)
            return rc;
    }
    return put_key(x, tag, k, klen, snap);
}

static int
save_touched(struct win *x, char tag, struct ss_buf *list)
{
    const char *p = list->data, *end = ss_buf_end(list);
    int rc;

    while (p < end) {
        size_t klen = (size_t)ss_bytes_get_le(p, 4);

        if ((rc = save_entry(x, tag, p + 4, klen, 0)) < 0)
            return rc;
        p += 4 + klen;
    }
    return 0;
}

static int
save_snapshot(struct win *x, const struct ss_ckpt_opt *opts, size_t nopts)
{
    size_t cur, klen;
    const char *k;
    int rc;

    if ((rc = ss_ckpt_snap_begin(&x->ck, x->last_time, opts, nopts)) < 0)
        return rc;
    encode_meta(x, &x->enc);
    if ((rc = ss_ckpt_snap_put(&x->ck, "m", 1, x->enc.data, x->enc.len)) < 0)
        return rc;
    for (size_t i = 0; i < x->nslots; i++)
        if (x->panes[i].end != 0 && (rc = save_pane(x, &x->panes[i], 1)) < 0)
            return rc;
    cur = 0;
    while (ss_keytab_next(&x->run, &cur, &k, &klen) != NULL)
        if ((rc = save_entry(x, 'r', k, klen, 1)) < 0)
            return rc;
    cur = 0;
    while (ss_keytab_next(&x->sess, &cur, &k, &klen) != NULL)
        if ((rc = save_entry(x, 's', k, klen, 1)) < 0)
            return rc;
    if ((rc = ss_replay_save_snapshot(&x->kept, &x->ck)) < 0)
        return rc;
    return ss_ckpt_snap_commit(&x->ck);
}

static int
save_delta(struct win *x, uint64_t digest)
{
    int rc;

    ss_ckpt_delta_begin(&x->ck, x->last_time);
    encode_meta(x, &x->enc);
    if ((rc = ss_ckpt_delta_put(&x->ck, "m", 1, x->enc.data, x->enc.len)) < 0)
        return rc;
    for (size_t i = 0; i < x->dead.len; i += 8)
        if ((rc = del_key(x, 'p', x->dead.data + i, 8)) < 0)
            return rc;
    for (size_t i = 0; i < x->nslots; i++)
        if (x->panes[i].dirty && x->panes[i].end != 0 &&
            (rc = save_pane(x, &x->panes[i], 0)) < 0)
            return rc;
    if ((rc = save_touched(x, 'r', &x->t_run)) < 0 ||
        (rc = save_touched(x, 's', &x->t_sess)) < 0)
        return rc;
    return ss_replay_save_delta(&x->ck, digest, x->out.buf.data,
                                x->out.buf.len);
}

/* The options that shape the state, as the user spells them: a
 * checkpoint made with others is refused rather than misread. */
struct opt_text {
    char window[32], slide[32], gap[32], sep[2];
    struct ss_ckpt_opt o[8];
};

static const char *const mode_names[] = {
    [SS_WINDOW_PLAIN] = NULL,
    [SS_WINDOW_COUNT] = "count",
    [SS_WINDOW_REDUCE] = "reduce",
    [SS_WINDOW_REDUCE_BY_KEY] = "reduce-by-key",
    [SS_WINDOW_COUNT_BY_VALUE] = "count-by-value",
    [SS_WINDOW_GROUP_BY_KEY] = "group-by-key",
};

static size_t
ck_opts(const struct ss_window_config *cfg, struct opt_text *t)
{
    size_t n = 0;
    int with_op =
        cfg->mode == SS_WINDOW_REDUCE || cfg->mode == SS_WINDOW_REDUCE_BY_KEY;

    if (cfg->session_gap > 0) {
        ss_dur_format(cfg->session_gap, t->gap, sizeof(t->gap));
        t->o[n++] = (struct ss_ckpt_opt){"session-gap", t->gap};
    } else {
        ss_dur_format(cfg->window, t->window, sizeof(t->window));
        t->o[n++] = (struct ss_ckpt_opt){"window", t->window};
        if (cfg->slide > 0)
            ss_dur_format(cfg->slide, t->slide, sizeof(t->slide));
        else
            snprintf(t->slide, sizeof(t->slide), "%s", "(the interval)");
        t->o[n++] = (struct ss_ckpt_opt){"slide", t->slide};
    }
    if (mode_names[cfg->mode] != NULL)
        t->o[n++] = (struct ss_ckpt_opt){mode_names[cfg->mode],
                                         with_op ? ss_op_name(cfg->op) : "yes"};
    t->sep[0] = cfg->sep;
    t->sep[1] = '\0';
    t->o[n++] = (struct ss_ckpt_opt){"separator", t->sep};
    t->o[n++] =
        (struct ss_ckpt_opt){"keep-empty-keys", cfg->keep_empty ? "yes" : "no"};
    t->o[n++] =
        (struct ss_ckpt_opt){"no-inverse", cfg->no_inverse ? "yes" : "no"};
    return n;
}

static int
save(struct win *x, uint64_t digest)
{
    struct opt_text t;
    size_t n = ck_opts(x->cfg, &t);
    int rc;

    if ((rc = ss_replay_keep(&x->kept, x->last_time, digest, x->out.buf.data,
                             x->out.buf.len)) < 0)
        return rc;
    /* The delta even when a snapshot follows: the new log begins with it
     * (lib/ckpt.h). */
    if ((rc = save_delta(x, digest)) == 0)
        rc = ss_ckpt_want_snapshot(&x->ck, x->last_time)
                 ? save_snapshot(x, t.o, n)
                 : ss_ckpt_delta_commit(&x->ck);
    for (size_t i = 0; i < x->nslots; i++)
        x->panes[i].dirty = 0;
    ss_buf_reset(&x->dead);
    ss_buf_reset(&x->t_run);
    ss_buf_reset(&x->t_sess);
    ss_buf_reset(&x->out.buf);
    return rc;
}

static int
open_checkpoint(struct win *x)
{
    static const struct ss_ckpt_loader ld0 = {
        .put = ld_put, .del = ld_del, .blob = ld_blob};
    struct ss_ckpt_loader ld = ld0;
    struct opt_text t;
    size_t n = ck_opts(x->cfg, &t);
    int rc;

    /* Until the first batch says how many to keep, keep what loads. */
    ss_replay_init(&x->kept, x->cfg->keep_outputs);
    ld.ctx = x;
    rc = ss_ckpt_open(&x->ck, x->cfg->checkpoint, t.o, n, &ld, 0);
    x->has_ck = 1;
    if (rc == -EINVAL)
        return -EDOM; /* another run's options: a usage error, reported */
    if (rc == -1 || rc == -EBADMSG || rc == -EDOM)
        return -1; /* reported */
    if (rc < 0)
        return ss_diag_err(rc, "checkpoint '%s'", x->cfg->checkpoint);
    return 0;
}

/* A batch at or before the checkpoint's time has been applied already:
 * send what it produced then, and change nothing. */
static int
replay_batch(struct win *x, int64_t time, uint64_t digest)
{
    const struct ss_replay_entry *e;
    int rc;

    if ((rc = ss_replay_find(&x->kept, &x->ck, time, digest, &e)) < 0)
        return rc;
    ss_stats_skip(&x->stats);
    return ss_replay_emit(&x->w, e->data.data, e->data.len);
}

/* ---- batches ---- */

/* A batch far after the last one would have the stage send an empty
 * window for every slide in between: bounded by --max-gap, past which it
 * stops rather than write for hours. */
static int
check_gap(struct win *x, int64_t time)
{
    int64_t gap, max = x->cfg->max_gap;
    char a[32], b[32];

    if (max == 0)
        max = x->slide > INT64_MAX / SS_WINDOW_MAX_GAP_SLIDES
                  ? INT64_MAX
                  : x->slide * SS_WINDOW_MAX_GAP_SLIDES;
    if (__builtin_sub_overflow(time, x->last_time, &gap))
        gap = INT64_MAX;
    if (gap <= max)
        return 0;
    return ss_diag("batch %" PRId64 " comes %s after batch %" PRId64
                   ": more than --max-gap %s of empty windows to send (if "
                   "the stream really paused that long, give --max-gap %s)",
                   time, ss_dur_format(gap, a, sizeof(a)), x->last_time,
                   ss_dur_format(max, b, sizeof(b)), a);
}

static int
batch_begin(struct win *x, const struct ss_frame *f)
{
    char a[32], b[32];
    int rc;

    if (!x->started) {
        if ((rc = setup(x, f->interval)) < 0)
            return rc;
        x->started = 1;
        if (x->cfg->session_gap == 0) {
            x->open_end = ceil_to(f->time, x->gran);
            start_pane(x, x->open_end);
        }
    } else if (f->interval != x->interval) {
        return ss_diag("batch %" PRId64 ": batch interval %s after %s", f->time,
                       ss_dur_format(f->interval, a, sizeof(a)),
                       ss_dur_format(x->interval, b, sizeof(b)));
    } else if (f->time <= x->last_time && x->has_ck) {
        x->replaying = 1;
        x->batch_time = f->time;
        return 0;
    } else if (f->time <= x->last_time) {
        return ss_diag("batch %" PRId64 " comes after batch %" PRId64
                       " (batch times must increase)",
                       f->time, x->last_time);
    }
    if (x->cfg->session_gap == 0 && x->last_time != 0 &&
        (rc = check_gap(x, f->time)) < 0)
        return rc;
    x->batch_time = f->time;
    x->last_time = f->time;
    x->recno = 0;
    if (x->cfg->session_gap == 0)
        return advance_to(x, ceil_to(f->time, x->gran));
    return 0;
}

static int
close_sessions(struct win *x)
{
    size_t cur = 0, klen;
    const char *k;
    struct session *s;
    int rc;

    out_begin(x, x->batch_time, (uint32_t)x->interval, SS_FRAME_KEYED);
    while ((s = ss_keytab_next(&x->sess, &cur, &k, &klen)) != NULL) {
        if (x->batch_time - s->last < x->cfg->session_gap)
            break;
        ss_buf_reset(&x->text);
        ss_buf_printf(&x->text, "%" PRId64 "\t%" PRId64 "\t", s->first,
                      s->last);
        if ((rc = ss_acc_format(&s->acc, x->op, &x->text)) < 0 ||
            (rc = out_add(x, k, klen, x->text.data, x->text.len)) < 0)
            return rc;
        ss_acc_release(&s->acc);
        ss_keytab_del(&x->sess, k, klen);
        touch(x, &x->t_sess, k, klen);
    }
    x->last_out = x->batch_time;
    return out_end(x);
}

static int
batch_end(struct win *x)
{
    uint64_t digest = XXH64_digest(&x->xh);
    int rc;

    if (x->replaying) {
        x->replaying = 0;
        return replay_batch(x, x->batch_time, digest);
    }
    if ((rc = ss_rejects_flush(&x->rej)) < 0)
        return rc;
    if (x->cfg->session_gap > 0)
        rc = close_sessions(x);
    /* Batch times are aligned to the interval, so the batch at a pane's
     * end is its last: close the pane now rather than wait for the next
     * batch (one interval late). */
    else if (x->batch_time == x->open_end)
        rc = advance_to(x, x->open_end + x->gran);
    if (rc == 0 && x->has_ck)
        rc = save(x, digest);
    return rc;
}

/* --stats: the keys a keyed window holds (its state), after a batch. */
static void
stats_end(struct win *x)
{
    enum ss_window_mode m = x->cfg->mode;

    if (x->cfg->session_gap > 0)
        ss_stats_keys(&x->stats, ss_keytab_count(&x->sess));
    else if (m == SS_WINDOW_REDUCE_BY_KEY || m == SS_WINDOW_COUNT_BY_VALUE ||
             m == SS_WINDOW_GROUP_BY_KEY)
        ss_stats_keys(&x->stats, ss_keytab_count(&x->run));
    ss_stats_end(&x->stats);
}

/* --checkpoint: a batch's frames go to a spool file and reach stdout only
 * once the checkpoint that reflects the batch is durable. Sent before, a
 * crash in between would leave the sink's commit ahead of the checkpoint:
 * the restarted source, which replays only what is not committed, would
 * never give this stage that batch again. */
static int
spool_open(struct win *x)
{
    if ((x->spool = tmpfile()) == NULL)
        return ss_diag_err(-errno, "cannot create a spool file");
    x->w.fd = fileno(x->spool);
    return 0;
}

/* Send what the spool holds to stdout, and empty it. */
static int
spool_flush(struct win *x)
{
    off_t end = lseek(x->w.fd, 0, SEEK_CUR), at = 0;
    ssize_t n;
    int rc;

    if (end <= 0)
        return end < 0 ? -errno : 0;
    if ((rc = ss_buf_reserve(&x->scratch, 64 * 1024)) < 0)
        return rc;
    while (at < end) {
        size_t want = x->scratch.cap - x->scratch.len;

        if ((off_t)want > end - at)
            want = (size_t)(end - at);
        n = pread(x->w.fd, x->scratch.data + x->scratch.len, want, at);
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        rc = ss_io_write_all(STDOUT_FILENO, x->scratch.data + x->scratch.len,
                             (size_t)n);
        if (rc < 0)
            return rc;
        at += n;
    }
    if (ftruncate(x->w.fd, 0) < 0 || lseek(x->w.fd, 0, SEEK_SET) < 0)
        return -errno;
    return 0;
}

/* The sink commits once a slide, when its window comes out; a source
 * that waits for the commit of every batch older than replay_ms would
 * wait for ever within a longer slide. */
static int
check_slide(const struct win *x, const struct ss_frame *f)
{
    int64_t slide = x->cfg->slide > 0 ? x->cfg->slide : f->interval;
    char a[32], b[32], c[32];

    if (f->replay_ms == 0 || x->cfg->session_gap > 0 || slide <= f->replay_ms)
        return 0;
    ss_diag("--slide %s is longer than the %s a restart may send again "
            "(sstream-source --max-uncommitted times its batch interval): "
            "the source would wait for a commit that comes only when a "
            "slide ends; give sstream-source a --max-uncommitted that "
            "reaches back %s or more (%" PRId64 " batches of %s)",
            ss_dur_format(slide, a, sizeof(a)),
            ss_dur_format(f->replay_ms, b, sizeof(b)), a,
            f->interval > 0 ? (slide + f->interval - 1) / f->interval : 0,
            ss_dur_format(f->interval, c, sizeof(c)));
    return -EDOM;
}

/* What waits for the input's first batch: whether the slide fits what a
 * restart may send again, how many outputs to keep so that every such
 * batch is replayed from them, and whether the checkpoint lost batches
 * that do not come again. */
static int
first_batch(struct win *x, const struct ss_frame *f)
{
    int rc;

    x->seen = 1;
    if ((rc = check_slide(x, f)) < 0 || !x->has_ck)
        return rc;
    if ((rc = ss_replay_size(&x->kept, x->cfg->keep_outputs,
                             SS_WINDOW_KEEP_OUTPUTS, f->replay_ms,
                             f->interval)) < 0)
        return rc; /* -EDOM, reported: a usage error */
    return ss_ckpt_check_resume(&x->ck, f->time, f->interval);
}

/* One batch, its first frame in br->f. x->cur follows br->f, the frame
 * read last, whose trail the windows sent meanwhile carry on. */
static int
on_batch(struct win *x, struct ss_frame_batch_reader *br)
{
    struct ss_frame f;
    int rc;

    ss_stats_begin(&x->stats);
    x->cur = &br->f;
    x->w.closed_ms = br->f.closed_ms; /* passed on, for delays */
    x->w.replay_ms = br->f.replay_ms;
    if (!x->seen && (rc = first_batch(x, &br->f)) < 0)
        return rc;
    XXH64_reset(&x->xh, 0);
    if ((rc = batch_begin(x, &br->f)) < 0)
        return rc;
    while ((rc = ss_frame_batch_part(br, &f)) > 0) {
        ss_stats_in(&x->stats, &f);
        XXH64_update(&x->xh, f.payload, f.payload_len);
        if (!x->replaying && (rc = add_frame(x, &f)) < 0)
            return rc;
    }
    if (rc < 0 || (rc = batch_end(x)) < 0)
        return rc;
    if (x->spool != NULL && (rc = spool_flush(x)) < 0)
        return rc;
    stats_end(x);
    return 0;
}

static void
win_release(struct win *x)
{
    size_t cur = 0, klen;
    const char *k;
    struct session *s;

    for (size_t i = 0; i < x->nslots; i++) {
        ss_keytab_release(&x->panes[i].tab);
        ss_buf_release(&x->panes[i].recs);
    }
    free(x->panes);
    ss_keytab_release(&x->run);
    while ((s = ss_keytab_next(&x->sess, &cur, &k, &klen)) != NULL)
        ss_acc_release(&s->acc);
    ss_keytab_release(&x->sess);
    ss_frame_writer_release(&x->w);
    if (x->spool != NULL)
        fclose(x->spool);
    ss_buf_release(&x->scratch);
    ss_buf_release(&x->text);
    ss_acc_release(&x->tmp);
    free(x->ents);
    if (x->has_ck)
        ss_ckpt_close(&x->ck);
    ss_replay_release(&x->kept);
    ss_buf_release(&x->out.buf);
    ss_buf_release(&x->dead);
    ss_buf_release(&x->t_run);
    ss_buf_release(&x->t_sess);
    ss_buf_release(&x->enc);
}

static int
run_loop(struct win *x)
{
    struct ss_frame_batch_reader br;
    int rc;

    ss_frame_batch_init(&br, STDIN_FILENO, "stdin");
    while ((rc = ss_frame_batch_next(&br)) > 0)
        if ((rc = on_batch(x, &br)) < 0)
            break;
    x->cur = NULL; /* the end-of-stream frame has no trail */
    if (rc == 0)
        rc = ss_frame_writer_eos(&x->w, x->last_out,
                                 (uint32_t)(x->slide ? x->slide : x->interval));
    if (rc == 0 && x->spool != NULL)
        rc = spool_flush(x);
    ss_frame_batch_release(&br);
    return rc;
}

int
ss_window_run(const struct ss_window_config *cfg)
{
    struct win x;
    int rc;

    memset(&x, 0, sizeof(x));
    x.cfg = cfg;
    x.keyed = -1;
    switch (cfg->mode) {
    case SS_WINDOW_COUNT:
    case SS_WINDOW_COUNT_BY_VALUE:
        x.op = SS_OP_COUNT;
        break;
    case SS_WINDOW_GROUP_BY_KEY:
        x.op = SS_OP_CONCAT;
        break;
    default:
        x.op = cfg->op;
    }
    x.inverse = ss_op_invertible(x.op) && !cfg->no_inverse;
    ss_keytab_init(&x.run, sizeof(struct ss_acc), acc_drop);
    ss_keytab_init(&x.sess, sizeof(struct session), NULL);
    ss_frame_writer_init(&x.w, STDOUT_FILENO);
    if (ss_rejects_open(&x.rej, cfg->rejects) < 0) {
        ss_frame_writer_abort(&x.w);
        win_release(&x);
        return -1;
    }
    if (ss_stats_open(&x.stats, "window", &cfg->stats) < 0) {
        ss_rejects_close(&x.rej);
        ss_frame_writer_abort(&x.w);
        win_release(&x);
        return -1;
    }
    x.stats.w = &x.w;
    x.stats.rej = &x.rej;
    rc = 0;
    if (cfg->checkpoint != NULL)
        rc = open_checkpoint(&x);
    if (rc == 0 && x.has_ck)
        rc = spool_open(&x);
    if (rc == 0)
        rc = run_loop(&x);
    ss_replay_summary(&x.kept);
    if (rc == -ENOMEM)
        ss_diag_err(rc, "window");
    else if (rc < -1 && rc != -EPIPE && rc != -EDOM)
        ss_diag_err(rc, "write");
    if (rc < 0 && rc != -EPIPE) {
        /* Past the spool: what it holds is the unfinished batch's. */
        x.w.fd = STDOUT_FILENO;
        ss_frame_writer_abort(&x.w);
    }
    if (ss_rejects_close(&x.rej) < 0 && rc == 0)
        rc = -1;
    ss_rejects_report(&x.rej);
    if (ss_stats_close(&x.stats) < 0 && rc == 0)
        rc = -1;
    win_release(&x);
    if (rc == 0 && ss_rejects_lost(&x.rej))
        rc = 1;
    return rc;
}
