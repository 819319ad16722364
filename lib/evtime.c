/* evtime.c - records into the batches of their own times; watermarks. */
#include "evtime.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "diag.h"
#include "dur.h"
#include "io.h"

int
ss_evtime_init(struct ss_evtime *ev, const struct ss_evtime_config *cfg,
               struct ss_batcher *b, int live)
{
    memset(ev, 0, sizeof(*ev));
    ev->cfg = cfg;
    ev->b = b;
    ev->live = live;
    ev->interval = b->interval;
    ev->max_seen = ev->watermark = ev->next = ev->newest = INT64_MIN;
    ev->first = INT64_MIN;
    ev->rebuilt = INT64_MIN;
    /* Open batches lie between the watermark and the batch of the
     * largest time: --max-delay plus two intervals at most. */
    ev->nslots = (size_t)(cfg->max_delay / b->interval) + 3;
    ss_rejects_open(&ev->late, NULL);
    if ((ev->slots = calloc(ev->nslots, sizeof(*ev->slots))) == NULL) {
        ev->nslots = 0;
        return ss_diag_err(-ENOMEM, "--max-delay");
    }
    if (cfg->late == NULL)
        return 0;
    ev->late.path = cfg->late;
    ev->late.fd =
        open(cfg->late, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (ev->late.fd < 0)
        return ss_diag_err(-errno, "--late: cannot open '%s'", cfg->late);
    return 0;
}

void
ss_evtime_start_after(struct ss_evtime *ev, int64_t t)
{
    if (t > ev->watermark)
        ev->watermark = t;
}

int
ss_evtime_rebuild_upto(struct ss_evtime *ev, int64_t t)
{
    ev->rebuilt = t;
    if (ev->late.fd >= 0 && ftruncate(ev->late.fd, 0) < 0)
        return ss_diag_err(-errno, "--late: cannot empty '%s'", ev->late.path);
    return 0;
}

static struct ss_buf *
slot(struct ss_evtime *ev, int64_t t)
{
    int64_t k = t / ev->interval % (int64_t)ev->nslots;

    return &ev->slots[k < 0 ? k + (int64_t)ev->nslots : k];
}

static int
hold(struct ss_evtime *ev, int64_t t, const char *val, size_t vlen)
{
    struct ss_buf *s = slot(ev, t);
    int rc;

    if ((rc = ss_buf_reserve(s, 10 + vlen)) < 0)
        return rc;
    s->len += ss_bytes_put_varint(s->data + s->len, vlen);
    memcpy(s->data + s->len, val, vlen);
    s->len += vlen;
    return 0;
}

/* The --late file gets what a batch let through, once per batch. */
static int
flush_late(struct ss_evtime *ev)
{
    struct ss_rejects *l = &ev->late;
    int rc;

    if (l->fd < 0 || l->out.len == 0)
        return 0;
    rc = ss_io_write_all(l->fd, l->out.data, l->out.len);
    ss_buf_reset(&l->out);
    if (rc < 0)
        return ss_diag_err(rc, "--late: cannot write '%s'", l->path);
    return 0;
}

/* One update frame per batch that late records updated, oldest first,
 * through the batcher's writer (not its batch count, stats nor --state:
 * those follow the batches themselves). */
static int
send_updates(struct ss_evtime *ev)
{
    struct ss_frame_writer *w = &ev->b->w;
    uint32_t flags = SS_FRAME_UPDATE | (ev->b->keyed ? SS_FRAME_KEYED : 0);
    int rc = 0;

    for (size_t i = 0; i < ev->nupd && rc == 0; i++) {
        struct ss_evtime_update *u = &ev->upd[i];
        const char *p = u->recs.data, *end = p + u->recs.len;

        ss_frame_writer_begin(w, u->time, (uint32_t)ev->interval, flags);
        w->closed_ms = ev->live ? ss_dur_now_ms() : 0;
        while (p < end && rc == 0) {
            size_t n = ss_frame_varint_get(&p);

            rc = ev->b->keyed ? ss_frame_writer_add(w, "", 0, p, n)
                              : ss_frame_writer_add(w, NULL, 0, p, n);
            p += n;
        }
        if (rc == 0)
            rc = ss_frame_writer_end(w);
        else
            w->open = 0;
        ss_buf_reset(&u->recs);
    }
    ev->nupd = 0;
    return rc;
}

/* Keep a late record for the update of batch 'batch': the entries stay
 * in time order, so that the updates go out oldest first. */
static int
hold_update(struct ss_evtime *ev, int64_t batch, const char *val, size_t vlen)
{
    struct ss_evtime_update *u;
    size_t i = 0;
    int rc;

    while (i < ev->nupd && ev->upd[i].time < batch)
        i++;
    if (i == ev->nupd || ev->upd[i].time != batch) {
        if (ev->nupd == ev->upd_cap) {
            size_t cap = ev->upd_cap ? ev->upd_cap * 2 : 8;

            if ((u = realloc(ev->upd, cap * sizeof(*u))) == NULL)
                return -ENOMEM;
            memset(u + ev->upd_cap, 0, (cap - ev->upd_cap) * sizeof(*u));
            ev->upd = u;
            ev->upd_cap = cap;
        }
        /* the buffers move with their entries: the spare one at the end
         * (reset, its memory kept) takes the free place */
        struct ss_evtime_update spare = ev->upd[ev->nupd];

        memmove(ev->upd + i + 1, ev->upd + i,
                (ev->nupd - i) * sizeof(*ev->upd));
        ev->upd[i] = spare;
        ev->upd[i].time = batch;
        ev->upd[i].count = 0;
        ev->nupd++;
    }
    u = &ev->upd[i];
    if ((rc = ss_buf_reserve(&u->recs, 10 + vlen)) < 0)
        return rc;
    u->recs.len += ss_bytes_put_varint(u->recs.data + u->recs.len, vlen);
    memcpy(u->recs.data + u->recs.len, val, vlen);
    u->recs.len += vlen;
    u->count++;
    return 0;
}

/* The batch at ev->next goes out with what its slot holds, after the
 * updates of the batches before it. */
static int
send(struct ss_evtime *ev)
{
    struct ss_batcher *b = ev->b;
    struct ss_buf *s = slot(ev, ev->next);
    const char *p = s->data, *end = p;
    int rc;

    if ((rc = send_updates(ev)) < 0)
        return rc;
    if (ev->first == INT64_MIN)
        ev->first = ev->next;

    if (p != NULL) /* a slot never used has no buffer: no NULL + 0 */
        end += s->len;
    if (ev->next <= ev->rebuilt) { /* in the log already */
        ss_buf_reset(s);
        ev->next += ev->interval;
        return flush_late(ev);
    }
    ss_batcher_open(b, ev->next);
    while (p < end && rc == 0) {
        size_t n = ss_frame_varint_get(&p);

        rc = ss_batcher_add(b, p, n);
        p += n;
    }
    ss_buf_reset(s);
    if (rc == 0)
        rc = ss_batcher_close(b, ev->live ? ss_dur_now_ms() : 0);
    if (rc == 0)
        rc = flush_late(ev);
    ev->next += ev->interval;
    return rc;
}

/* Every batch that ends at or before 'limit' goes out, in order. */
static int
send_upto(struct ss_evtime *ev, int64_t limit)
{
    int rc = 0;

    if (limit > ev->watermark)
        ev->watermark = limit;
    while (ev->next != INT64_MIN && ev->next <= ev->watermark && rc == 0)
        rc = send(ev);
    return rc;
}

static int
late(struct ss_evtime *ev, int64_t t, const char *val, size_t vlen)
{
    int64_t behind = ev->watermark - t;
    int64_t batch = ss_batcher_align(t, ev->interval);

    ev->nlate++;
    ev->late_sum += behind;
    if (behind > ev->late_max)
        ev->late_max = behind;
    if (ev->cfg->policy == SS_LATE_UPDATE) {
        /* its batch went out (it is at or before the watermark, and the
         * batches there are sent) no longer than --allowed-lateness ago,
         * in this run: not before the first batch, which stages after us
         * never saw */
        if (ev->first != INT64_MIN && batch >= ev->first &&
            ev->watermark - batch <= ev->cfg->lateness) {
            ev->nupdated++;
            return hold_update(ev, batch, val, vlen);
        }
        ev->nbeyond++;
        if (ev->cfg->late != NULL)
            ss_rejects_put(&ev->late, NULL, 0, val, vlen);
        return 0;
    }
    switch (ev->cfg->policy) {
    case SS_LATE_FILE:
        ss_rejects_put(&ev->late, NULL, 0, val, vlen);
        break;
    case SS_LATE_NEXT_BATCH:
        return hold(ev, ev->next, val, vlen);
    case SS_LATE_DROP:
    case SS_LATE_UPDATE:
        break;
    }
    return 0;
}

int
ss_evtime_add(struct ss_evtime *ev, int64_t t, const char *val, size_t vlen)
{
    int64_t batch = ss_batcher_align(t, ev->interval), limit;
    int rc;

    ev->arrivals++;
    /* Its batch is complete: no record at or behind the watermark goes
     * into a batch that ends there. */
    if (ev->watermark != INT64_MIN && batch <= ev->watermark)
        return late(ev, t, val, vlen);
    if (ev->next == INT64_MIN || batch < ev->next)
        ev->next = batch; /* before the first batch went out */
    if (batch > ev->newest)
        ev->newest = batch;
    if (t <= ev->max_seen)
        return hold(ev, batch, val, vlen);
    /* A jump ahead: the batches the watermark passes before this record's
     * go out first, freeing their slots (the ring holds --max-delay plus
     * two intervals, and the record's batch could fall on an open one);
     * then the record, then its own batch if the watermark passed it. */
    ev->max_seen = t;
    limit = t - ev->cfg->max_delay;
    if ((rc = send_upto(ev, limit < batch ? limit : batch - ev->interval)) <
            0 ||
        (rc = hold(ev, batch, val, vlen)) < 0)
        return rc;
    return send_upto(ev, limit);
}

int
ss_evtime_idle(struct ss_evtime *ev, int64_t more)
{
    if (ev->next == INT64_MIN)
        return 0;
    return send_upto(ev, ev->newest + more / ev->interval * ev->interval);
}

int
ss_evtime_finish(struct ss_evtime *ev)
{
    int rc;

    if (ev->next == INT64_MIN)
        return 0;
    if ((rc = send_upto(ev, ev->newest)) < 0 || (rc = send_updates(ev)) < 0)
        return rc;
    return flush_late(ev);
}

/* --late-policy update: how many went out in update frames, and where
 * the ones beyond --allowed-lateness went. */
static void
report_updates(const struct ss_evtime *ev)
{
    char beyond[PATH_MAX + 64] = "";

    if (ev->nbeyond > 0)
        snprintf(beyond, sizeof(beyond),
                 ", %" PRIu64 " beyond --allowed-lateness %s%s%s", ev->nbeyond,
                 ev->cfg->late != NULL ? "kept in '" : "dropped",
                 ev->cfg->late != NULL ? ev->cfg->late : "",
                 ev->cfg->late != NULL ? "'" : " (--late FILE keeps them)");
    ss_diag("%" PRIu64 " late record%s, behind the watermark by %" PRId64
            "ms at most, %" PRId64 "ms on average: %" PRIu64
            " sent in update frames%s",
            ev->nlate, ev->nlate == 1 ? "" : "s", ev->late_max,
            ev->late_sum / (int64_t)ev->nlate, ev->nupdated, beyond);
}

void
ss_evtime_report(const struct ss_evtime *ev)
{
    const char *where;

    if (ev->nlate == 0)
        return;
    if (ev->cfg->policy == SS_LATE_UPDATE) {
        report_updates(ev);
        return;
    }
    if (ev->cfg->policy == SS_LATE_NEXT_BATCH)
        where = "put in the next batch";
    else if (ev->cfg->policy == SS_LATE_FILE)
        where = "kept in";
    else
        where = "dropped (--late FILE keeps them)";
    ss_diag("%" PRIu64 " late record%s, behind the watermark by %" PRId64
            "ms at most, %" PRId64 "ms on average: %s%s%s%s",
            ev->nlate, ev->nlate == 1 ? "" : "s", ev->late_max,
            ev->late_sum / (int64_t)ev->nlate, where,
            ev->cfg->policy == SS_LATE_FILE ? " '" : "",
            ev->cfg->policy == SS_LATE_FILE ? ev->cfg->late : "",
            ev->cfg->policy == SS_LATE_FILE ? "'" : "");
}

int
ss_evtime_release(struct ss_evtime *ev)
{
    int rc = flush_late(ev);

    if (ev->late.fd >= 0 && close(ev->late.fd) < 0 && rc == 0)
        rc = ss_diag_err(-errno, "--late: cannot close '%s'", ev->late.path);
    ev->late.fd = -1;
    ss_buf_release(&ev->late.out);
    for (size_t i = 0; i < ev->nslots; i++)
        ss_buf_release(&ev->slots[i]);
    for (size_t i = 0; i < ev->upd_cap; i++)
        ss_buf_release(&ev->upd[i].recs);
    free(ev->upd);
    ev->upd = NULL;
    free(ev->slots);
    ev->slots = NULL;
    return rc;
}
