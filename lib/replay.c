/* replay.c - kept outputs and their re-emission (replay.h). Written once
 * for sstream-window and sstream-state, which had each a copy. */
#include "replay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "diag.h"
#include "dur.h"

void
ss_replay_init(struct ss_replay *r, unsigned long given)
{
    memset(r, 0, sizeof(*r));
    r->keep = given == SS_REPLAY_KEEP_AUTO ? SS_REPLAY_KEEP_MAX : given;
}

long
ss_replay_keep_count(unsigned long given, unsigned long dflt,
                     uint32_t replay_ms, uint32_t interval)
{
    char a[32], b[32];
    uint64_t need;

    if (replay_ms == 0)
        return (long)(given == SS_REPLAY_KEEP_AUTO ? dflt : given);
    if (replay_ms == UINT32_MAX)
        return ss_diag("a restart may send again any number of batches "
                       "(the frames set no bound: sstream-source "
                       "--max-uncommitted times -b past 49 days, or another "
                       "producer), more than this stage can keep the output "
                       "of; give sstream-source a smaller --max-uncommitted"),
               SS_USAGE;
    need = interval > 0 ? ((uint64_t)replay_ms + interval - 1) / interval
                        : UINT64_MAX;
    ss_dur_format(replay_ms, a, sizeof(a));
    ss_dur_format(interval, b, sizeof(b));
    if (given != SS_REPLAY_KEEP_AUTO && need > given)
        return ss_diag("--keep-outputs %lu keeps fewer batches than a "
                       "restart may send again (sstream-source "
                       "--max-uncommitted reaches back %s: %" PRIu64
                       " batches of %s); give --keep-outputs %" PRIu64
                       " or more, or leave it out",
                       given, a, need, b, need),
               SS_USAGE;
    if (given != SS_REPLAY_KEEP_AUTO)
        return (long)given;
    if (need > SS_REPLAY_KEEP_MAX)
        return ss_diag("a restart may send again %" PRIu64 " batches of %s "
                       "(sstream-source --max-uncommitted reaches back %s), "
                       "more than the %d whose output this stage keeps "
                       "unasked; give sstream-source a smaller "
                       "--max-uncommitted, or this stage --keep-outputs "
                       "%" PRIu64,
                       need, b, a, SS_REPLAY_KEEP_MAX, need),
               SS_USAGE;
    return (long)(need > dflt ? need : dflt);
}

int
ss_replay_size(struct ss_replay *r, unsigned long given, unsigned long dflt,
               uint32_t replay_ms, uint32_t interval)
{
    long keep = ss_replay_keep_count(given, dflt, replay_ms, interval);
    size_t drop;

    if (keep < 0)
        return (int)keep; /* SS_USAGE, reported */
    r->keep = (size_t)keep;
    if ((drop = r->n > r->keep ? r->n - r->keep : 0) == 0)
        return 0;
    for (size_t i = 0; i < drop; i++)
        ss_buf_release(&r->e[i].data);
    memmove(r->e, r->e + drop, (r->n - drop) * sizeof(*r->e));
    r->n -= drop;
    return 0;
}

/* A free slot at the end: the oldest entry's, its memory kept for reuse,
 * when r->keep are held; else a new one. NULL when out of memory. */
static struct ss_replay_entry *
slot(struct ss_replay *r)
{
    struct ss_replay_entry e;

    if (r->n >= r->keep) {
        e = r->e[0];
        memmove(r->e, r->e + 1, (r->n - 1) * sizeof(*r->e));
        r->n--;
        ss_buf_reset(&e.data);
    } else {
        if (r->n == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 16;
            struct ss_replay_entry *v = realloc(r->e, cap * sizeof(*v));

            if (v == NULL)
                return NULL;
            r->e = v;
            r->cap = cap;
        }
        memset(&e, 0, sizeof(e));
    }
    r->e[r->n] = e;
    return &r->e[r->n++];
}

int
ss_replay_keep(struct ss_replay *r, int64_t time, uint64_t digest,
               const void *p, size_t n)
{
    struct ss_replay_entry *e;

    if (r->keep == 0)
        return 0;
    if ((e = slot(r)) == NULL)
        return -ENOMEM;
    e->time = time;
    e->digest = digest;
    return ss_buf_append(&e->data, p, n);
}

int
ss_replay_load(struct ss_replay *r, int64_t time, const char *p, size_t n,
               int (*valid)(const char *p, size_t n))
{
    if (n < 8 || valid(p + 8, n - 8) < 0 ||
        (r->n > 0 && time <= r->e[r->n - 1].time))
        return -EBADMSG;
    return ss_replay_keep(r, time, ss_bytes_get_le(p, 8), p + 8, n - 8);
}

int
ss_replay_save_delta(struct ss_ckpt *c, uint64_t digest, const void *p,
                     size_t n)
{
    char d[8];

    ss_bytes_put_le(d, digest, 8);
    return ss_ckpt_delta_blob2(c, d, 8, p, n);
}

int
ss_replay_save_snapshot(const struct ss_replay *r, struct ss_ckpt *c)
{
    char d[8];
    int rc;

    for (size_t i = 0; i < r->n; i++) {
        ss_bytes_put_le(d, r->e[i].digest, 8);
        if ((rc = ss_ckpt_snap_blob2(c, r->e[i].time, d, 8, r->e[i].data.data,
                                     r->e[i].data.len)) < 0)
            return rc;
    }
    return 0;
}

/* A replay older than the kept outputs: it cannot be sent again, and an
 * empty batch would be committed as if it were its output. */
static int
lost(const struct ss_replay *r, const struct ss_ckpt *c, int64_t time)
{
    return ss_diag("batch %" PRId64 " is a replay (checkpoint '%s' is at "
                   "%" PRId64 ") older than the %zu batches whose output is "
                   "kept, and cannot be sent again: restart from "
                   "sstream-source --wal DIR with sstream-sink --commit DIR, "
                   "which send again only what is not committed, or give a "
                   "new stream a new --checkpoint DIR",
                   time, c->dir, c->time, r->keep);
}

/* The batch time was used before for other records. */
static int
reused(const struct ss_ckpt *c, int64_t time)
{
    return ss_diag("batch %" PRId64 " was already used for other records "
                   "(checkpoint '%s' is at %" PRId64 "): give a new stream "
                   "a new --checkpoint DIR, and sstream-source --wal DIR "
                   "(or --state DIR) so that a rerun does not reuse batch "
                   "times",
                   time, c->dir, c->time);
}

int
ss_replay_find(struct ss_replay *r, const struct ss_ckpt *c, int64_t time,
               uint64_t digest, const struct ss_replay_entry **e)
{
    size_t i;

    for (i = r->n; i > 0 && r->e[i - 1].time > time; i--)
        ;
    /* Never nothing for a lost output: a sink would commit it empty. */
    if (i == 0 || r->e[i - 1].time != time)
        return c == NULL ? -ENOENT : lost(r, c, time);
    /* Digest 0: an entry moved to another shard (lib/shard_ckpt.c), for
     * whose cut of the batch no digest was ever taken. */
    if (c != NULL && r->e[i - 1].digest != digest && r->e[i - 1].digest != 0)
        return reused(c, time);
    if (r->replayed++ == 0)
        r->first = time;
    r->last = time;
    *e = &r->e[i - 1];
    return 0;
}

/* Set on the threads of shards but the first (lib/shard): they replay
 * the same batches, and the stage says so once. */
static _Thread_local int quiet;

void
ss_replay_quiet(void)
{
    quiet = 1;
}

void
ss_replay_summary(const struct ss_replay *r)
{
    if (r->replayed > 0 && !quiet)
        ss_diag("%" PRIu64 " replayed batch%s (%" PRId64 " to %" PRId64
                ") not applied again, output re-emitted",
                r->replayed, r->replayed == 1 ? "" : "es", r->first, r->last);
}

void
ss_replay_release(struct ss_replay *r)
{
    for (size_t i = 0; i < r->n; i++)
        ss_buf_release(&r->e[i].data);
    free(r->e);
    memset(r, 0, sizeof(*r));
}

/* ---- recorded output frames ---- */

#define OUT_HEAD 28

void
ss_replay_out_begin(struct ss_replay_out *o, int64_t time, uint32_t interval,
                    uint32_t flags)
{
    o->at = SIZE_MAX; /* until there is room: ss_replay_out_end() says so */
    if (ss_buf_reserve(&o->buf, OUT_HEAD) < 0)
        return;
    o->at = o->buf.len;
    o->count = 0;
    ss_bytes_put_le(o->buf.data + o->at, (uint64_t)time, 8);
    ss_bytes_put_le(o->buf.data + o->at + 8, interval, 4);
    ss_bytes_put_le(o->buf.data + o->at + 12, flags, 4);
    ss_buf_commit(&o->buf, OUT_HEAD);
}

int
ss_replay_out_add(struct ss_replay_out *o, const char *k, size_t klen,
                  const char *v, size_t vlen)
{
    int rc;

    if (k != NULL && ((rc = ss_bytes_append_varint(&o->buf, klen)) < 0 ||
                      (rc = ss_buf_append(&o->buf, k, klen)) < 0))
        return rc;
    if ((rc = ss_bytes_append_varint(&o->buf, vlen)) < 0 ||
        (rc = ss_buf_append(&o->buf, v, vlen)) < 0)
        return rc;
    o->count++;
    return 0;
}

int
ss_replay_out_end(struct ss_replay_out *o)
{
    if (o->at == SIZE_MAX)
        return -ENOMEM;
    ss_bytes_put_le(o->buf.data + o->at + 16, o->count, 4);
    ss_bytes_put_le(o->buf.data + o->at + 20, o->buf.len - o->at - OUT_HEAD, 8);
    return 0;
}

/* The recorded frame at p, of at most n bytes: its payload length, or
 * -1 when the head does not fit or announces more than is there. */
static int64_t
recorded(const char *p, size_t n, struct ss_frame *f)
{
    uint64_t len;

    if (n < OUT_HEAD || (len = ss_bytes_get_le(p + 20, 8)) > n - OUT_HEAD)
        return -1;
    memset(f, 0, sizeof(*f));
    f->kind = SS_FRAME_BATCH;
    f->time = (int64_t)ss_bytes_get_le(p, 8);
    f->interval = (uint32_t)ss_bytes_get_le(p + 8, 4);
    f->flags = (uint32_t)ss_bytes_get_le(p + 12, 4);
    f->count = (uint32_t)ss_bytes_get_le(p + 16, 4);
    f->payload = p + OUT_HEAD;
    f->payload_len = (size_t)len;
    return (int64_t)len;
}

int
ss_replay_frames_valid(const char *p, size_t n)
{
    struct ss_frame f;
    int64_t len;

    while (n > 0) {
        if ((len = recorded(p, n, &f)) < 0 || !ss_frame_time_valid(f.time) ||
            f.interval == 0 || (f.flags & ~SS_FRAME_KEYED) != 0 ||
            ss_frame_check_records(&f) < 0)
            return -EBADMSG;
        p += OUT_HEAD + (size_t)len;
        n -= OUT_HEAD + (size_t)len;
    }
    return 0;
}

int
ss_replay_emit(struct ss_frame_writer *w, const char *p, size_t n)
{
    struct ss_rec_iter it;
    struct ss_frame f;
    struct ss_rec r;
    int64_t len;
    int rc;

    while ((len = recorded(p, n, &f)) >= 0) {
        ss_frame_writer_begin(w, f.time, f.interval, f.flags);
        ss_frame_iter_init(&it, &f);
        while (ss_frame_iter_next(&it, &r))
            if ((rc = ss_frame_writer_add(w, r.key, r.klen, r.val, r.vlen)) < 0)
                return rc;
        if ((rc = ss_frame_writer_end(w)) < 0)
            return rc;
        p += OUT_HEAD + (size_t)len;
        n -= OUT_HEAD + (size_t)len;
    }
    return n == 0 ? 0 : -EBADMSG;
}
