/* window_late.c - sstream-window --allowed-lateness: windows already sent
 * go out again when late records for them come (update frames,
 * man/sstream.5 "UPDATES").
 *
 * The stage keeps the batches it read over the last --allowed-lateness
 * plus a window and a pane, their payloads as they came. An update for
 * batch T (late records that add to it) joins T's records there; then the
 * engine is rebuilt: a fresh one reads the kept batches in order, its
 * output set aside, and takes the old one's place, the late records in
 * its panes, so that the windows still to come count them. Of the windows
 * the fresh engine wrote, every one that had gone out before, holds T,
 * and ends no more than --allowed-lateness before the latest batch read
 * goes out again, whole (SS_FRAME_WHOLE: the window's full new value), in
 * order of window end.
 *
 * Why rebuild rather than patch the panes: a closed pane is flattened,
 * folded into a running aggregate (inverse-reduce) or merged at each
 * slide, by mode; a fresh engine gives each mode the answer the records
 * would have had on time, through the code that gives it, at the cost of
 * the kept batches once per batch read after updates: the updates that
 * come between two batches (the source sends them together, one per
 * batch it updates, just before its next) wait for that next batch, or
 * the end of the stream, and share one rebuild; each window they change
 * goes out once, with all of them in it.
 *
 * A late record that no window open to updates holds (every window with
 * T ended more than --allowed-lateness ago) is a reject: counted, said
 * with its batch and place, kept in --rejects. So is one whose value the
 * operator cannot take, checked before it joins its batch.
 *
 * Owns: struct win_late, its kept batches and the spool of a rebuild,
 * until ss_window__late_close().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "bytes.h"
#include "diag.h"
#include "dur.h"
#include "frame.h"
#include "io.h"
#include "rejects.h"
#include "window_int.h"

struct kept {
    int64_t time;
    uint32_t flags; /* SS_FRAME_KEYED of its records */
    uint32_t count;
    struct ss_buf recs; /* the records, as in a payload */
};

struct win_late {
    struct kept *b; /* oldest first; b[0..n) in use, b[n..cap) spare */
    size_t n, cap;
    FILE *spool;        /* a rebuilt engine's frames */
    struct ss_buf out;  /* the spool read back */
    struct ss_buf recs; /* an update's records that join their batch */
    struct ss_acc check;
    int64_t *touched; /* batches updated since the last rebuild */
    size_t ntouched, touched_cap;
    uint64_t updates, windows; /* for the summary */
};

int
ss_window__late_open(struct win *x)
{
    if (x->cfg->session_gap > 0 || x->ck.on)
        return ss_diag("--allowed-lateness: not with --%s (yet)",
                       x->ck.on ? "checkpoint" : "session-gap");
    if ((x->late = calloc(1, sizeof(*x->late))) == NULL)
        return -ENOMEM;
    if ((x->late->spool = tmpfile()) == NULL)
        return ss_diag_err(-errno, "--allowed-lateness: cannot create a "
                                   "spool file");
    return 0;
}

void
ss_window__late_close(struct win *x)
{
    struct win_late *l = x->late;

    if (l == NULL)
        return;
    if (l->windows > 0)
        ss_diag("%" PRIu64 " update%s read, %" PRIu64 " window%s sent again",
                l->updates, l->updates == 1 ? "" : "s", l->windows,
                l->windows == 1 ? "" : "s");
    for (size_t i = 0; i < l->n; i++) /* past n: moved or never used */
        ss_buf_release(&l->b[i].recs);
    free(l->b);
    if (l->spool != NULL)
        fclose(l->spool);
    ss_buf_release(&l->out);
    ss_buf_release(&l->recs);
    ss_acc_release(&l->check);
    free(l->touched);
    free(l);
    x->late = NULL;
}

/* The oldest batch a window open to updates can hold, less a pane that
 * a rebuilt engine reads first: batches at or before it are forgotten. */
static int64_t
horizon(const struct win *x)
{
    return x->in.last_time - x->cfg->lateness - x->window - x->gran;
}

static void
forget(struct win *x)
{
    struct win_late *l = x->late;
    size_t k = 0;

    while (k < l->n && l->b[k].time <= horizon(x))
        ss_buf_release(&l->b[k++].recs);
    if (k == 0)
        return;
    memmove(l->b, l->b + k, (l->n - k) * sizeof(*l->b));
    l->n -= k;
}

/* A new kept batch at l->b[at], the ones from there on moved up; NULL
 * when out of memory. */
static struct kept *
insert(struct win_late *l, size_t at, int64_t time)
{
    struct kept *k;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;

        if ((k = realloc(l->b, cap * sizeof(*k))) == NULL)
            return NULL;
        l->b = k;
        l->cap = cap;
    }
    memmove(l->b + at + 1, l->b + at, (l->n - at) * sizeof(*l->b));
    l->n++;
    k = &l->b[at];
    memset(k, 0, sizeof(*k));
    k->time = time;
    return k;
}

/* Records of f, keyed or not, into kept batch k. */
static int
add_to(struct kept *k, const struct ss_frame *f, const char *p, size_t n,
       uint32_t count)
{
    uint32_t keyed = f->flags & SS_FRAME_KEYED;

    if (count == 0)
        return 0;
    if (k->count > 0 && k->flags != keyed)
        return ss_diag("batch %" PRId64 ": late records %s keys after "
                       "records %s them",
                       f->time, keyed ? "with" : "without",
                       keyed ? "without" : "with");
    k->flags = keyed;
    k->count += count;
    return ss_buf_append(&k->recs, p, n);
}

int
ss_window__late_keep(struct win *x, const struct ss_frame *f)
{
    struct win_late *l = x->late;
    struct kept *k = l->n > 0 ? &l->b[l->n - 1] : NULL;

    if (k == NULL || k->time != f->time) {
        forget(x);
        if ((k = insert(l, l->n, f->time)) == NULL)
            return -ENOMEM;
    }
    return add_to(k, f, f->payload, f->payload_len, f->count);
}

/* The kept batch at 'time', made when the stream skipped it. */
static struct kept *
find(struct win_late *l, int64_t time)
{
    size_t i = 0;

    while (i < l->n && l->b[i].time < time)
        i++;
    if (i < l->n && l->b[i].time == time)
        return &l->b[i];
    return insert(l, i, time);
}

/* The window ends that batch t may still change: from the first window
 * that holds it or the oldest one open to updates, whichever is later,
 * while the window holds t. The window ending at E holds (E - W, E]. */
static int64_t
first_open(const struct win *x, int64_t t)
{
    int64_t e = ceil_to(t, x->slide);
    int64_t oldest = ceil_to(x->in.last_time - x->cfg->lateness, x->slide);

    return e > oldest ? e : oldest;
}

static int
holds(const struct win *x, int64_t end, int64_t t)
{
    return end >= t && end - x->window < t;
}

static void
put_rec(struct ss_buf *b, const struct ss_rec *r)
{
    char len[10];

    if (r->key != NULL) {
        ss_buf_append(b, len, ss_bytes_put_varint(len, r->klen));
        ss_buf_append(b, r->key, r->klen);
    }
    ss_buf_append(b, len, ss_bytes_put_varint(len, r->vlen));
    ss_buf_append(b, r->val, r->vlen);
}

/* An update's record: a reject when no window open to updates holds its
 * batch, or when the operator cannot take its value (said here, once,
 * rather than in every rebuild); else it joins l->recs. 1 taken, 0
 * rejected, -ENOMEM. */
static int
take(struct win *x, int64_t t, const struct ss_rec *r, uint64_t recno,
     int beyond)
{
    struct win_late *l = x->late;
    int rc;

    if (beyond) {
        ss_rejects_record(x->rej, t, recno, r,
                          "later than --allowed-lateness (every window "
                          "holding its batch ended before that)");
        return 0;
    }
    if (keyed_mode(x) && x->op != SS_OP_COUNT && x->op != SS_OP_CONCAT) {
        ss_acc_reset(&l->check);
        rc = ss_acc_add(&l->check, x->op, r->val, r->vlen, x->cfg->sep);
        if (rc == -ENOMEM)
            return rc;
        if (rc < 0) {
            ss_rejects_value(x->rej, t, recno, r, rc);
            return 0;
        }
    }
    put_rec(&l->recs, r);
    return 1;
}

/* Send window f (a frame of the rebuilt engine's) again as an update,
 * whole: its parts go out as they come. */
static int
resend(struct win *x, const struct ss_frame *f, int first)
{
    struct ss_rec_iter it;
    struct ss_rec r;
    int rc;

    if (first)
        ss_window__out_begin(x, f->time, f->interval,
                             (f->flags & SS_FRAME_KEYED) | SS_FRAME_UPDATE |
                                 SS_FRAME_WHOLE);
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r))
        if ((rc = ss_window__out_add(x, r.key, r.klen, r.val, r.vlen)) < 0)
            return rc;
    if (f->flags & SS_FRAME_MORE)
        return 0;
    x->late->windows++;
    return ss_window__out_end(x);
}

/* Window 'end' went out, is open to updates and holds a batch that
 * updates changed. */
static int
changed(const struct win *x, int64_t end)
{
    const struct win_late *l = x->late;

    if (end > x->out.last ||
        end < ceil_to(x->in.last_time - x->cfg->lateness, x->slide))
        return 0;
    for (size_t i = 0; i < l->ntouched; i++)
        if (holds(x, end, l->touched[i]))
            return 1;
    return 0;
}

/* The rebuilt engine's frames, read back from the spool: the windows
 * that changed go out again. */
static int
resend_all(struct win *x)
{
    struct win_late *l = x->late;
    int fd = fileno(l->spool), first = 1, rc;
    size_t pos = 0, need;
    struct ss_frame f;
    const char *why;

    ss_buf_reset(&l->out);
    if (lseek(fd, 0, SEEK_SET) < 0)
        return -errno;
    if ((rc = ss_io_slurp_fd(fd, &l->out)) < 0)
        return rc;
    while (pos < l->out.len &&
           ss_frame_parse(l->out.data + pos, l->out.len - pos, &f, &need,
                          &why) > 0) {
        pos += need;
        if (f.kind != SS_FRAME_BATCH || !changed(x, f.time))
            continue;
        if ((rc = resend(x, &f, first)) < 0)
            return rc;
        first = !(f.flags & SS_FRAME_MORE);
    }
    return 0;
}

/* Where a rebuild starts reading the kept batches: a pane before the
 * panes the engine holds (those of its window to come, whose running
 * aggregate it builds as it reads them) and before the first window an
 * update changed, on a pane boundary, so that every pane it makes from
 * there on is whole. Older kept batches are there for updates to come. */
static int64_t
rebuild_from(const struct win *x)
{
    const struct win_late *l = x->late;
    int64_t start = x->in.last_time - x->window - x->gran;

    for (size_t i = 0; i < l->ntouched; i++) {
        int64_t e = first_open(x, l->touched[i]) - x->window;

        if (e < start)
            start = e;
    }
    return ceil_to(start, x->gran) - 2 * x->gran;
}

/* A fresh engine reads the kept batches, its frames to the spool, its
 * rejects held and dropped (the values were checked as they came); then
 * its panes take the place of x's. */
static int
rebuild(struct win *x)
{
    struct win_late *l = x->late;
    int64_t from = rebuild_from(x);
    int fd = fileno(l->spool), rc = 0;
    struct ss_rejects quiet;
    struct ss_stats stats;
    struct win *y;

    if ((y = malloc(sizeof(*y))) == NULL)
        return -ENOMEM;
    ss_window__init(y, x->cfg, fd);
    ss_rejects_open(&quiet, NULL);
    ss_rejects_hold(&quiet);
    memset(&stats, 0, sizeof(stats));
    y->rej = &quiet;
    y->stats = &stats;
    if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
        rc = -errno;
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        if (l->b[i].time <= from)
            continue;
        struct ss_frame f = {
            .kind = SS_FRAME_BATCH,
            .time = l->b[i].time,
            .interval = (uint32_t)x->interval,
            .flags = l->b[i].flags,
            .count = l->b[i].count,
            .payload = l->b[i].recs.data != NULL ? l->b[i].recs.data : "",
            .payload_len = l->b[i].recs.len,
        };

        rc = ss_window__batch(y, &f);
    }
    if (rc == 0 && (rc = resend_all(x)) == 0) {
        struct win_ring ring = x->ring;

        x->ring = y->ring;
        y->ring = ring; /* freed with y */
        x->in.keyed = y->in.keyed;
        x->in.keyed_hint = y->in.keyed_hint;
    }
    ss_window__release(y);
    free(y);
    ss_buf_release(&quiet.out);
    return rc;
}

/* Batch t changed: the next flush rebuilds. */
static int
touch(struct win_late *l, int64_t t)
{
    int64_t *p;

    for (size_t i = 0; i < l->ntouched; i++)
        if (l->touched[i] == t)
            return 0;
    if (l->ntouched == l->touched_cap) {
        size_t cap = l->touched_cap ? l->touched_cap * 2 : 8;

        if ((p = realloc(l->touched, cap * sizeof(*p))) == NULL)
            return -ENOMEM;
        l->touched = p;
        l->touched_cap = cap;
    }
    l->touched[l->ntouched++] = t;
    return 0;
}

int
ss_window__late_update(struct win *x, struct ss_frame_batch_reader *br)
{
    struct win_late *l = x->late;
    int64_t t = br->f.time;
    struct ss_rec_iter it;
    struct ss_frame f;
    struct ss_rec r;
    struct kept none = {0}, *k = &none;
    uint64_t recno, taken = 0;
    int beyond, rc;

    if (br->update & SS_FRAME_WHOLE)
        return ss_diag("stdin: update frame for batch %" PRId64 " replaces "
                       "the batch: a window takes late records that add to "
                       "one (sstream-source --late-policy update)",
                       t);
    if (!x->ring.started || t > x->in.last_time)
        return ss_diag("stdin: update frame for batch %" PRId64 " before the "
                       "batch itself",
                       t);
    if (br->f.interval != x->interval)
        return ss_diag("stdin: update frame for batch %" PRId64 ": another "
                       "batch interval",
                       t);
    l->updates++;
    x->in.cur = &br->f;
    beyond = !holds(x, first_open(x, t), t);
    if (!beyond && (k = find(l, t)) == NULL)
        return -ENOMEM;
    recno = 0; /* rejects are numbered within the update */
    ss_buf_reset(&l->recs);
    while ((rc = ss_frame_batch_part(br, &f)) > 0) {
        uint32_t n = 0;
        size_t from = l->recs.len;

        ss_frame_iter_init(&it, &f);
        while (ss_frame_iter_next(&it, &r))
            if ((rc = take(x, t, &r, ++recno, beyond)) < 0)
                return rc;
            else
                n += (uint32_t)rc;
        if ((rc = add_to(k, &f, l->recs.data + from, l->recs.len - from, n)) <
            0)
            return rc;
        taken += n;
    }
    if (rc < 0 || (rc = ss_rejects_flush(x->rej)) < 0)
        return rc;
    return taken > 0 ? touch(l, t) : 0;
}

int
ss_window__late_flush(struct win *x)
{
    int rc;

    if (x->late == NULL || x->late->ntouched == 0)
        return 0;
    rc = rebuild(x);
    x->late->ntouched = 0;
    return rc;
}
