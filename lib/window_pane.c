/* window_pane.c - sstream-window's panes: the ring of panes, the
 * running aggregate they make (added, subtracted, rebuilt), the records
 * that go in and the windows that come out (window_int.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead.h"
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
#include "window_int.h"

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
    return SS_USAGE;
}

int
ss_window__setup(struct win *x, int64_t interval)
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
        return SS_USAGE;
    }
    x->gran = gcd(x->window, x->slide);
    x->ring.nslots = (size_t)(x->window / x->gran) + 1;
    if ((x->ring.panes = calloc(x->ring.nslots, sizeof(*x->ring.panes))) ==
        NULL)
        return ss_diag("out of memory for %zu panes", x->ring.nslots);
    for (size_t i = 0; i < x->ring.nslots; i++)
        ss_keytab_init(&x->ring.panes[i].tab, sizeof(struct ss_acc), acc_drop);
    return 0;
}

/* ---- pane entries ----
 *
 * A closed pane is only read again in order (added, subtracted, merged,
 * saved), never looked up, so its entries are flattened into one buffer
 * (varint key length, key, encoded accumulator: ~20 bytes for a short key
 * against ~90 in a table) and its table freed: a window of many slides
 * over many keys holds a table only for the open pane. */

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

/* The next entry of p, or NULL; a flattened entry is decoded into x->out.tmp,
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
    if ((used = ss_acc_decode(&x->out.tmp, it->p, (size_t)(it->end - it->p))) <
        0)
        return NULL; /* cannot happen: checked when it was made or loaded */
    it->p += used;
    return &x->out.tmp;
}

/* The next key of p, its accumulator skipped: for a walk ahead of
 * pane_next() that hands the keys to a lookup ring (lib/ahead.h). */
static int
pane_next_key(struct pane *p, struct pane_it *it, const char **k, size_t *klen)
{
    if (!p->flat)
        return ss_keytab_next(&p->tab, &it->cur, k, klen) != NULL;
    /* at least an encoded accumulator (21 bytes, then its text) left */
    if (it->p == NULL || it->end - it->p < 22)
        return 0;
    *klen = ss_frame_varint_get(&it->p);
    *k = it->p;
    if ((size_t)(it->end - it->p) < *klen + 21)
        return it->p = it->end, 0;
    it->p += *klen;
    it->p += 21 + ss_bytes_get_le(it->p + 17, 4);
    return 1;
}

/* Hand p's next key, as pane_next_key() walks them, to ring a on t. */
static void
pane_ahead(struct ss_keytab *t, struct ss_ahead *a, struct pane *p,
           struct pane_it *it)
{
    const char *k;
    size_t klen;

    if (pane_next_key(p, it, &k, &klen))
        ss_ahead_key(t, a, k, klen);
}

void
ss_window__pane_begin(struct pane *p, struct pane_it *it)
{
    pane_it_init(p, it);
}

const struct ss_acc *
ss_window__pane_entry(struct win *x, struct pane *p, struct pane_it *it,
                      const char **k, size_t *klen)
{
    return pane_next(x, p, it, k, klen);
}

/* Append the entries of p's table to b as pane_next() reads them. */
int
ss_window__flatten_into(struct pane *p, struct ss_buf *b)
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

/* Panes in a row that needed under a quarter of the spare table before
 * its memory goes: a few, so that one small batch among large ones (a
 * quiet second) keeps it. */
#define SPARE_IDLE 8

/* A flattened pane's table goes, cleared, to the spare, for the next
 * pane to fill. Freed and grown again each pane (a batch, at -s of one
 * batch), it was rebuilt from 64 slots by doublings, each a new index
 * and entries, their pages faulted in again: at 1M keys, every batch.
 * Kept, the next pane reuses its pages; one table at a time still, as
 * before, since the open pane is the only one with a table. The spare
 * is freed when panes have needed far less of it for a while, so that
 * memory follows the keys a pane holds now, not the most it ever did. */
static void
keep_table(struct win *x, struct pane *p)
{
    struct ss_keytab *sp = &x->ring.spare;
    size_t live = ss_keytab_count(&p->tab);

    ss_keytab_release(sp);
    *sp = p->tab;
    ss_keytab_init(&p->tab, sizeof(struct ss_acc), acc_drop);
    x->ring.spare_idle = live * 8 < sp->slots ? x->ring.spare_idle + 1 : 0;
    if (x->ring.spare_idle >= SPARE_IDLE) {
        ss_keytab_release(sp);
        ss_keytab_init(sp, sizeof(struct ss_acc), acc_drop);
        x->ring.spare_idle = 0;
        return;
    }
    ss_keytab_clear(sp);
}

/* The spare table, if it has memory, for pane p's empty one. */
static void
take_table(struct win *x, struct pane *p)
{
    struct ss_keytab t;

    if (x->ring.spare.slots == 0 || p->tab.slots != 0 || p->tab.nents != 0)
        return;
    t = p->tab;
    p->tab = x->ring.spare;
    x->ring.spare = t;
}

static int
flatten(struct win *x, struct pane *p)
{
    int rc;

    if (p->flat || !keyed_mode(x))
        return 0;
    ss_buf_reset(&p->recs);
    if ((rc = ss_window__flatten_into(p, &p->recs)) < 0)
        return rc;
    keep_table(x, p);
    p->flat = 1;
    return 0;
}

/* Check that p[0..n) holds whole flattened entries. */
int
ss_window__flat_valid(const char *p, size_t n)
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
    struct pane_it it, ahead;
    struct ss_ahead ah = {.n = 0};
    size_t klen;
    const char *k;
    const struct ss_acc *a;
    struct ss_acc *r;
    int created, rc;

    pane_it_init(p, &it);
    pane_it_init(p, &ahead);
    for (int i = 0; i < SS_AHEAD; i++)
        pane_ahead(dst, &ah, p, &ahead);
    while ((a = pane_next(x, p, &it, &k, &klen)) != NULL) {
        pane_ahead(dst, &ah, p, &ahead);
        if ((r = ss_keytab_get(dst, k, klen, &created)) == NULL)
            return -ENOMEM;
        ss_window__touch(x, &x->ck.t_run, k, klen);
        if ((rc = ss_acc_merge(r, a, x->op, x->cfg->sep)) == -ERANGE)
            return ss_diag("key '%.*s': the window's sum leaves 64-bit "
                           "integers",
                           (int)klen, k);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int
ss_window__subtract(struct win *x, struct pane *p)
{
    struct pane_it it, ahead;
    struct ss_ahead ah = {.n = 0};
    size_t klen;
    const char *k;
    const struct ss_acc *a;
    struct ss_acc *r;
    int rc;

    pane_it_init(p, &it);
    pane_it_init(p, &ahead);
    for (int i = 0; i < SS_AHEAD; i++)
        pane_ahead(&x->ring.run, &ah, p, &ahead);
    while ((a = pane_next(x, p, &it, &k, &klen)) != NULL) {
        pane_ahead(&x->ring.run, &ah, p, &ahead);
        if ((r = ss_keytab_find(&x->ring.run, k, klen)) == NULL)
            continue; /* cannot happen: p was added */
        ss_window__touch(x, &x->ck.t_run, k, klen);
        if ((rc = ss_acc_unmerge(r, a, x->op)) < 0)
            return ss_diag("key '%.*s': the window's sum leaves 64-bit "
                           "integers",
                           (int)klen, k);
        if (r->n == 0 && !x->cfg->keep_empty)
            ss_keytab_del(&x->ring.run, k, klen);
    }
    p->in_run = 0;
    return 0;
}

/* Recompute run as the merge of the panes in (e - W, e]. Accumulators are
 * reset rather than freed, so keys that stay keep their memory; keys left
 * empty go unless --keep-empty-keys keeps them (Spark's behaviour). */
int
ss_window__rebuild(struct win *x, int64_t e)
{
    size_t cur = 0, klen;
    const char *k;
    struct ss_acc *a;
    int rc;

    if (ss_window__exec_reduces(x))
        return ss_window__exec_rebuild(x, e);
    while ((a = ss_keytab_next(&x->ring.run, &cur, &k, &klen)) != NULL) {
        ss_acc_reset(a);
        ss_window__touch(x, &x->ck.t_run, k, klen);
    }
    x->ring.inexact = 0;
    for (int64_t t = e - x->window + x->gran; t <= e; t += x->gran) {
        struct pane *p = slot(x, t);

        if (p->end != t)
            continue;
        if ((rc = merge_into(x, &x->ring.run, p)) < 0)
            return rc;
        x->ring.inexact |= p->inexact;
    }
    if (!x->cfg->keep_empty) {
        cur = 0;
        while ((a = ss_keytab_next(&x->ring.run, &cur, &k, &klen)) != NULL)
            if (a->n == 0)
                ss_keytab_del(&x->ring.run, k, klen);
    }
    x->ring.since_rebuild = 0;
    return 0;
}

/* ---- output ---- */

#define EMIT_AHEAD 16 /* entries prefetched ahead of the one written */

/* The window's keys in x->out.ents, in byte order (lib/keysort); the
 * count, or -ENOMEM. */
static int
collect(struct win *x, struct ss_keytab *t)
{
    size_t cur = 0, n = 0, klen;
    const char *k;
    struct ss_acc *a;

    if (ss_keytab_count(t) > x->out.ents_cap) {
        size_t cap = ss_keytab_count(t) + ss_keytab_count(t) / 4;
        struct ss_keysort_ent *e, *tmp;

        free(x->out.ents_tmp); /* scratch: nothing to keep */
        x->out.ents_tmp = NULL;
        x->out.ents_cap = 0;
        if ((e = realloc(x->out.ents, cap * sizeof(*e))) == NULL)
            return -ENOMEM;
        x->out.ents = e;
        if ((tmp = malloc(cap * sizeof(*tmp))) == NULL)
            return -ENOMEM;
        x->out.ents_tmp = tmp;
        x->out.ents_cap = cap;
    }
    while ((a = ss_keytab_next(t, &cur, &k, &klen)) != NULL)
        if (a->n > 0 || x->cfg->keep_empty)
            x->out.ents[n++] = (struct ss_keysort_ent){0, k, klen, a};
    ss_keysort(x->out.ents, x->out.ents_tmp, n);
    return (int)n;
}

static int
put_value(struct win *x, const char *k, size_t klen, const struct ss_acc *a,
          enum ss_op op)
{
    int rc;

    ss_buf_reset(&x->out.text);
    if ((rc = ss_acc_format(a, op, &x->out.text)) < 0)
        return rc;
    return ss_window__out_add(x, k, klen, x->out.text.data, x->out.text.len);
}

static int
emit_keyed(struct win *x, int64_t e)
{
    enum ss_window_mode mode = x->cfg->mode;
    int rc, n, keyless = mode == SS_WINDOW_COUNT || mode == SS_WINDOW_REDUCE;

    if (!x->ring.inverse ||
        (x->ring.inexact && ++x->ring.since_rebuild >= x->cfg->rebuild_every))
        if ((rc = ss_window__rebuild(x, e)) < 0)
            return rc;
    if ((n = collect(x, &x->ring.run)) < 0 ||
        (n = ss_window__exec_filter(x, e, n)) < 0)
        return n;
    ss_window__out_begin(x, e, (uint32_t)x->slide,
                         keyless ? 0 : SS_FRAME_KEYED);
    for (int i = 0; i < n; i++) {
        struct ss_keysort_ent *o = &x->out.ents[i];

        /* In key order, the entries are all over the table: fetch some
         * ahead, so that their cache misses overlap. */
        if (i + EMIT_AHEAD < n) {
            __builtin_prefetch(x->out.ents[i + EMIT_AHEAD].val);
            __builtin_prefetch(x->out.ents[i + EMIT_AHEAD].k);
        }

        rc = put_value(x, keyless ? NULL : o->k, o->klen, o->val, x->op);
        if (rc < 0)
            return rc;
    }
    return ss_window__out_end(x);
}

static int
emit_plain(struct win *x, int64_t e)
{
    int keyed = x->in.keyed >= 0 ? x->in.keyed : x->in.keyed_hint;
    uint32_t flags = keyed ? SS_FRAME_KEYED : 0;
    int rc;

    ss_window__out_begin(x, e, (uint32_t)x->slide, flags);
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
            if ((rc = ss_window__out_add(x, r.key, r.klen, r.val, r.vlen)) < 0)
                return rc;
    }
    return ss_window__out_end(x);
}

/* ---- panes ---- */

void
ss_window__start_pane(struct win *x, int64_t end)
{
    struct pane *p = slot(x, end);

    if (p->end != end) {
        if (p->end != 0 && x->ck.on) {
            char e[8];

            ss_bytes_put_le(e, (uint64_t)p->end, 8);
            ss_buf_append(&x->ck.dead, e, 8);
        }
        p->dirty = 1;
        ss_keytab_clear(&p->tab);
        if (keyed_mode(x))
            take_table(x, p);
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
    if (x->ring.inverse && ss_window__exec_reduces(x)) {
        if ((rc = ss_window__exec_slide(x, e, p, old, windowed)) < 0)
            return rc;
    } else if (x->ring.inverse) {
        if (windowed) {
            if ((rc = merge_into(x, &x->ring.run, p)) < 0)
                return rc;
            p->in_run = 1;
            x->ring.inexact |= p->inexact;
        }
        if (old->end == e - x->window && old->in_run &&
            (rc = ss_window__subtract(x, old)) < 0)
            return rc;
    }
    if ((rc = flatten(x, p)) < 0)
        return rc;
    if (e % x->slide != 0)
        return 0;
    x->out.last = e;
    return keyed_mode(x) ? emit_keyed(x, e) : emit_plain(x, e);
}

int
ss_window__advance_to(struct win *x, int64_t end)
{
    int rc;

    while (x->ring.open_end < end) {
        if ((rc = close_pane(x, x->ring.open_end)) < 0)
            return rc;
        x->ring.open_end += x->gran;
        ss_window__start_pane(x, x->ring.open_end);
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
        ss_buf_reset(&x->out.scratch);
        ss_buf_append(&x->out.scratch, r->key, r->klen);
        ss_buf_putc(&x->out.scratch, '\t');
        if (ss_buf_append(&x->out.scratch, r->val, r->vlen) < 0)
            return -ENOMEM;
        *k = x->out.scratch.data;
        *klen = x->out.scratch.len;
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
        ss_window__reject(x, r, rc);
        if (created)
            ss_keytab_del(t, k, klen);
        return 1;
    }
    if (rc < 0)
        return rc;
    if (ss_op_numeric(x->op) && !a->v.is_int)
        slot(x, x->ring.open_end)->inexact = 1;
    return 0;
}

/* The next record of ra into the lookup ring of the open pane, when
 * its key is a plain view (not count-by-value's key<TAB>value, not
 * sessions or --reduce-exec, which keep tables of their own). */
static void
record_ahead(struct win *x, struct ss_ahead *a, struct ss_rec_iter *ra)
{
    struct ss_rec r;
    const char *k = NULL;
    size_t klen = 0;

    if (x->cfg->session_gap > 0 || ss_window__exec_reduces(x) ||
        !ss_frame_iter_next(ra, &r))
        return;
    if (x->cfg->mode == SS_WINDOW_REDUCE_BY_KEY ||
        x->cfg->mode == SS_WINDOW_GROUP_BY_KEY)
        k = r.key, klen = r.klen;
    else if (x->cfg->mode == SS_WINDOW_COUNT_BY_VALUE && r.key == NULL)
        k = r.val, klen = r.vlen;
    if (k != NULL)
        ss_ahead_key(&slot(x, x->ring.open_end)->tab, a, k, klen);
}

int
ss_window__add_frame(struct win *x, const struct ss_frame *f)
{
    struct ss_rec_iter it, ra;
    struct ss_ahead ah = {.n = 0};
    struct ss_rec r;
    struct pane *p;
    const char *k;
    size_t klen;
    int rc, keyed = (f->flags & SS_FRAME_KEYED) != 0;

    if (!keyed_mode(x)) {
        x->in.keyed_hint = keyed;
        if (f->count == 0)
            return 0;
        if (x->in.keyed >= 0 && x->in.keyed != keyed)
            return ss_diag("batch %" PRId64 ": records %s keys after records "
                           "%s them",
                           f->time, keyed ? "with" : "without",
                           keyed ? "without" : "with");
        x->in.keyed = keyed;
        p = slot(x, x->ring.open_end);
        p->dirty = 1;
        if (p->nrec + f->count < p->nrec)
            return ss_diag("batch %" PRId64 ": too many records in a pane",
                           f->time);
        p->nrec += f->count;
        x->in.recno += f->count;
        return ss_buf_append(&p->recs, f->payload, f->payload_len);
    }
    if (x->cfg->session_gap == 0)
        slot(x, x->ring.open_end)->dirty = 1;
    ss_frame_iter_init(&ra, f);
    for (int i = 0; i < SS_AHEAD; i++)
        record_ahead(x, &ah, &ra);
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r)) {
        record_ahead(x, &ah, &ra);
        x->in.recno++;
        if (key_of(x, &r, &k, &klen) < 0)
            return ss_diag("batch %" PRId64 ", record %" PRIu64
                           ": records without keys (try sstream-map to "
                           "make keys)",
                           f->time, x->in.recno);
        if (x->cfg->session_gap > 0)
            rc = ss_window__add_session(x, &r, k, klen);
        else if (ss_window__exec_reduces(x))
            rc = ss_window__exec_add(x, k, klen, &r);
        else
            rc = add_keyed(x, &slot(x, x->ring.open_end)->tab, &r, k, klen);
        if (rc < 0)
            return rc;
    }
    return 0;
}
