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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "dur.h"
#include "frame.h"
#include "keytab.h"
#include "rejects.h"

struct pane {
    int64_t end;          /* 0: never used */
    struct ss_keytab tab; /* keyed modes: key -> struct ss_acc */
    struct ss_buf recs;   /* plain window: record bytes as in a payload */
    uint32_t nrec;        /* plain window: records in recs */
    int in_run;           /* added to the running aggregate */
    int inexact;          /* a double went in */
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
    int keyed;        /* plain window: -1 unknown, else the input's keyedness */
    int keyed_hint;   /* plain window: the latest frame's, until records */
    int64_t open_end; /* end of the pane taking records */
    int64_t last_time; /* latest batch time read */
    int64_t last_out;  /* latest frame time written */
    int in_batch;
    int64_t batch_time;
    uint64_t recno;
    struct ss_rejects rej;
    struct ss_frame_writer w;
    struct ss_buf scratch; /* --count-by-value key<TAB>value */
    struct ss_buf text;    /* a formatted value */
    struct out_ent *ents;
    size_t ents_cap;
};

void
ss_window_config_init(struct ss_window_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mode = SS_WINDOW_PLAIN;
    cfg->op = SS_OP_SUM;
    cfg->sep = ',';
    cfg->rebuild_every = SS_WINDOW_REBUILD_EVERY;
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

/* ---- the running aggregate ---- */

static int
merge_into(struct win *x, struct ss_keytab *dst, struct pane *p)
{
    size_t cur = 0, klen;
    const char *k;
    struct ss_acc *a, *r;
    int created, rc;

    while ((a = ss_keytab_next(&p->tab, &cur, &k, &klen)) != NULL) {
        if ((r = ss_keytab_get(dst, k, klen, &created)) == NULL)
            return -ENOMEM;
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
    size_t cur = 0, klen;
    const char *k;
    struct ss_acc *a, *r;
    int rc;

    while ((a = ss_keytab_next(&p->tab, &cur, &k, &klen)) != NULL) {
        if ((r = ss_keytab_find(&x->run, k, klen)) == NULL)
            continue; /* cannot happen: p was added */
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

    while ((a = ss_keytab_next(&x->run, &cur, &k, &klen)) != NULL)
        ss_acc_reset(a);
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
    return ss_frame_writer_add(&x->w, k, klen, x->text.data, x->text.len);
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
    ss_frame_writer_begin(&x->w, e, (uint32_t)x->slide,
                          keyless ? 0 : SS_FRAME_KEYED);
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
    return ss_frame_writer_end(&x->w);
}

static int
emit_plain(struct win *x, int64_t e)
{
    int keyed = x->keyed >= 0 ? x->keyed : x->keyed_hint;
    uint32_t flags = keyed ? SS_FRAME_KEYED : 0;
    int rc;

    ss_frame_writer_begin(&x->w, e, (uint32_t)x->slide, flags);
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
            if ((rc = ss_frame_writer_add(&x->w, r.key, r.klen, r.val,
                                          r.vlen)) < 0)
                return rc;
    }
    return ss_frame_writer_end(&x->w);
}

/* ---- panes ---- */

static void
start_pane(struct win *x, int64_t end)
{
    struct pane *p = slot(x, end);

    if (p->end != end) {
        ss_keytab_clear(&p->tab);
        ss_buf_reset(&p->recs);
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
        if (p->nrec + f->count < p->nrec)
            return ss_diag("batch %" PRId64 ": too many records in a pane",
                           f->time);
        p->nrec += f->count;
        x->recno += f->count;
        return ss_buf_append(&p->recs, f->payload, f->payload_len);
    }
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

/* ---- batches ---- */

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
    } else if (f->time <= x->last_time) {
        return ss_diag("batch %" PRId64 " comes after batch %" PRId64
                       " (batch times must increase)",
                       f->time, x->last_time);
    }
    x->in_batch = 1;
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

    ss_frame_writer_begin(&x->w, x->batch_time, (uint32_t)x->interval,
                          SS_FRAME_KEYED);
    while ((s = ss_keytab_next(&x->sess, &cur, &k, &klen)) != NULL) {
        if (x->batch_time - s->last < x->cfg->session_gap)
            break;
        ss_buf_reset(&x->text);
        ss_buf_printf(&x->text, "%" PRId64 "\t%" PRId64 "\t", s->first,
                      s->last);
        if ((rc = ss_acc_format(&s->acc, x->op, &x->text)) < 0 ||
            (rc = ss_frame_writer_add(&x->w, k, klen, x->text.data,
                                      x->text.len)) < 0)
            return rc;
        ss_acc_release(&s->acc);
        ss_keytab_del(&x->sess, k, klen);
    }
    x->last_out = x->batch_time;
    return ss_frame_writer_end(&x->w);
}

static int
batch_end(struct win *x)
{
    int rc;

    x->in_batch = 0;
    if ((rc = ss_rejects_flush(&x->rej)) < 0)
        return rc;
    if (x->cfg->session_gap > 0)
        return close_sessions(x);
    /* Batch times are aligned to the interval, so the batch at a pane's
     * end is its last: close the pane now rather than wait for the next
     * batch (one interval late). */
    if (x->batch_time == x->open_end)
        return advance_to(x, x->open_end + x->gran);
    return 0;
}

static int
frame(struct win *x, const struct ss_frame *f)
{
    int rc;

    if (!x->in_batch) {
        if ((rc = batch_begin(x, f)) < 0)
            return rc;
    } else if (f->time != x->batch_time) {
        return ss_diag("batch %" PRId64 ": a part of batch %" PRId64
                       " is missing its last frame",
                       f->time, x->batch_time);
    }
    if ((rc = add_frame(x, f)) < 0)
        return rc;
    if (!(f->flags & SS_FRAME_MORE))
        return batch_end(x);
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
    ss_buf_release(&x->scratch);
    ss_buf_release(&x->text);
    free(x->ents);
}

static int
run_loop(struct win *x)
{
    struct ss_frame_reader rd;
    struct ss_frame f;
    int rc;

    ss_frame_reader_init(&rd, STDIN_FILENO, "stdin");
    for (;;) {
        if ((rc = ss_frame_reader_next(&rd, &f)) < 0)
            break;
        if (rc == 0) {
            if (x->in_batch)
                rc = ss_diag("upstream ended inside batch %" PRId64,
                             x->batch_time);
            else
                rc = ss_frame_writer_eos(
                    &x->w, x->last_out,
                    (uint32_t)(x->slide ? x->slide : x->interval));
            break;
        }
        if ((rc = frame(x, &f)) < 0)
            break;
    }
    ss_frame_reader_release(&rd);
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
    if (ss_rejects_open(&x.rej, cfg->rejects) < 0)
        return -1;
    rc = run_loop(&x);
    if (rc == -ENOMEM)
        ss_diag_err(rc, "window");
    else if (rc < -1 && rc != -EPIPE && rc != -EDOM)
        ss_diag_err(rc, "write");
    if (ss_rejects_close(&x.rej) < 0 && rc == 0)
        rc = -1;
    ss_rejects_report(&x.rej);
    win_release(&x);
    if (rc == 0 && ss_rejects_lost(&x.rej))
        rc = 1;
    return rc;
}
