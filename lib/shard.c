/* shard.c - --parallel N for sstream-state and sstream-window (shard.h).
 *
 * Three kinds of thread, and pipes between them:
 *
 *   lead    stdin -> cut each batch by key hash -> N pipes
 *   shard   pipe -> the engine, unchanged (ss_state_run, ss_window_run)
 *           -> pipe                                        (N of them)
 *   merger  N pipes -> one frame per output time -> stdout
 *
 * Whole engines, not a split engine: each shard owns its table, arenas,
 * checkpoint and replays, and nothing is locked on the per-record path
 * (only the pipes synchronise). Every shard gets every batch time, so all
 * of them emit frames at the same times (a window's slides, a state's
 * batches, a replay's re-emitted outputs), and the merger joins frame
 * for frame.
 *
 * Deadlock: a shard blocked writing its output would stop reading its
 * input and block the lead. So the merger never waits on one shard: it
 * poll()s them all and reads whatever comes into per-shard buffers,
 * merging when every shard has its frame of the next time. A shard's
 * output then waits in memory for the slowest shard: the skew.
 *
 * The partition is XXH64 of the key with a seed of its own: the keytab
 * hashes keys otherwise, so a shard's keys still spread over its table.
 */
#include "shard.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH64_state_t on the stack */
#include <xxhash.h>

#include "buf.h"
#include "diag.h"
#include "frame.h"
#include "io.h"
#include "opt.h"
#include "pstate.h"
#include "replay.h"
#include "stats.h"

#define SEED      0x7368617264ull /* "shard" */
#define READ_SIZE ((size_t)1 << 20)

/* A frame of a shard's output, parsed once, found again by offset. */
struct fr {
    size_t off;        /* of the frame in the shard's buffer */
    size_t trail_off;  /* of its trail in the frame; 0: none */
    struct ss_frame f; /* payload and trail rebased on each use */
};

struct run;
struct held;

struct shard {
    struct run *run;
    size_t i;
    struct held *h;    /* --by-partition: the partition it keeps; else NULL */
    int in[2], out[2]; /* lead -> shard, shard -> merger */
    char dir[PATH_MAX];
    struct ss_stage sg;
    pthread_t th;
    int started, rc;
    struct ss_frame_writer w; /* the lead's, into in[1] */
    /* the merger's */
    struct ss_buf buf;    /* output read, not yet merged */
    size_t scan;          /* first byte not parsed */
    size_t batch;         /* a whole batch of frames in buf[0..batch) */
    struct ss_buf frames; /* struct fr of it */
    int ended;            /* its end-of-stream frame came */
    size_t j;             /* merging: the frame, the record */
    struct ss_rec_iter it;
    struct ss_rec r;
    const char *rp; /* r as encoded in the frame: rp[0..rn) */
    size_t rn;
    uint64_t k8; /* its key's first 8 bytes, of a key that long */
    int live;
};

/* --by-partition: a partition held, its state's lock and position, and
 * the check its first batch after the state's time must pass. */
struct held {
    int32_t p;
    struct ss_pstate ps;
    int64_t check_after; /* INT64_MAX: no check pending */
    int64_t check_next;  /* where the batch after check_after must start */
    int taken;           /* check_next is where its state stood when taken */
};

/* An input batch, for the stage's --stats: the lead queues it, the
 * merger counts it in with the first frame at or after its time. */
struct inb {
    int64_t time, closed_ms;
    uint32_t interval;
    uint64_t records, bytes;
};

struct run {
    size_t n;
    struct shard *sh;
    const char *ckpt, *name, *rejects; /* the stage's */
    struct parts *parts;               /* --by-partition; else NULL */
    const void *cfg;                   /* the engine's, copied per shard */
    int (*engine)(struct shard *sh);
    int by_value; /* count-by-value: the key is the value (key<TAB>value) */
    int sorted;   /* the engine emits in key byte order */
    int fd_in, fd_out;
    struct ss_stage *sg;
    struct ss_frame_writer w; /* the merger's, to stdout */
    uint64_t *ns;             /* each shard's time on the last frame */
    pthread_t merger;
    int merging, merge_rc;
    int aborted; /* the output ended aborted: once, by one thread at a time */
    atomic_int stopped;   /* the lead stopped the shards: they say nothing */
    atomic_int epoch_end; /* the shards end, the stream goes on (below) */
    pthread_mutex_t lock; /* for 'in', touched once a batch */
    struct ss_buf in;     /* struct inb, oldest first, from in_at */
    size_t in_at;
};

/* ---- the lead: cutting batches ---- */

size_t
ss_shard_of(const char *k, size_t klen, size_t n)
{
    return k == NULL ? 0 : XXH64(k, klen, SEED) % n;
}

int
ss_shard_dir(char *out, size_t size, const char *dir, size_t i, size_t n)
{
    int len = n == 1 ? snprintf(out, size, "%s", dir)
                     : snprintf(out, size, "%s/part-%zu-of-%zu", dir, i, n);

    return len < 0 || (size_t)len >= size ? -ENAMETOOLONG : 0;
}

/* The shard of a record: by its key, or by what count-by-value counts. */
static size_t
pick(const struct run *r, const struct ss_rec *rec)
{
    XXH64_state_t h;

    if (!r->by_value)
        return ss_shard_of(rec->key, rec->klen, r->n);
    if (rec->key == NULL)
        return ss_shard_of(rec->val, rec->vlen, r->n);
    /* the key count-by-value counts: key<TAB>value */
    XXH64_reset(&h, SEED);
    XXH64_update(&h, rec->key, rec->klen);
    XXH64_update(&h, "\t", 1);
    XXH64_update(&h, rec->val, rec->vlen);
    return XXH64_digest(&h) % r->n;
}

static void
begin_all(struct run *r, const struct ss_frame *f)
{
    for (size_t i = 0; i < r->n; i++) {
        struct ss_frame_writer *w = &r->sh[i].w;

        ss_frame_writer_begin(w, f->time, f->interval,
                              f->flags & SS_FRAME_KEYED);
        w->closed_ms = f->closed_ms;
        w->replay_ms = f->replay_ms;
    }
}

static int
cut_part(struct run *r, const struct ss_frame *f)
{
    struct ss_rec_iter it;
    struct ss_rec rec;
    const char *p = f->payload;
    int rc;

    /* each record goes as it came, its bytes copied, not encoded again */
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &rec)) {
        if ((rc = ss_frame_writer_add_encoded(&r->sh[pick(r, &rec)].w, p,
                                              (size_t)(it.p - p))) < 0)
            return rc;
        p = it.p;
    }
    return 0;
}

/* Each shard's part of the batch ends with the trail of the batch's last
 * frame, and with the batch's record count as the ingest field when the
 * input had none (a shard would count only its own). */
static int
end_all(struct run *r, const struct ss_frame *last, uint64_t records)
{
    int rc;

    for (size_t i = 0; i < r->n; i++) {
        struct ss_frame_writer *w = &r->sh[i].w;

        ss_frame_writer_trail(w, last);
        ss_frame_writer_ingest(w, records, last->interval);
        if ((rc = ss_frame_writer_end(w)) < 0)
            return rc;
    }
    return 0;
}

static int
queue_batch(struct run *r, const struct inb *b)
{
    int rc;

    pthread_mutex_lock(&r->lock);
    rc = ss_buf_append(&r->in, b, sizeof(*b));
    pthread_mutex_unlock(&r->lock);
    return rc;
}

/* End the shards' input: end-of-stream at 'time' while rc is 0, else
 * aborted (the shards then say nothing: the lead has said why). rc, or
 * the first write's failure. */
static int
end_input(struct run *r, int rc, int64_t time, uint32_t interval)
{
    for (size_t i = 0; i < r->n; i++)
        if (rc == 0)
            rc = ss_frame_writer_eos(&r->sh[i].w, time, interval);
    if (rc < 0) { /* the shards end aborted, as a stage after us would */
        atomic_store(&r->stopped, 1); /* and what went wrong is said */
        for (size_t i = 0; i < r->n; i++)
            ss_frame_writer_abort(&r->sh[i].w);
    }
    for (size_t i = 0; i < r->n; i++) {
        close(r->sh[i].in[1]);
        r->sh[i].in[1] = -1;
    }
    return rc;
}

static int
lead(struct run *r)
{
    struct ss_frame_batch_reader br;
    struct ss_frame f;
    struct inb b;
    int rc;

    ss_frame_batch_init(&br, r->fd_in, "stdin");
    while ((rc = ss_frame_batch_next(&br)) > 0) {
        begin_all(r, &br.f);
        b = (struct inb){br.f.time, br.f.closed_ms, br.f.interval, 0, 0};
        while ((rc = ss_frame_batch_part(&br, &f)) > 0) {
            b.records += f.count;
            b.bytes += f.header_len + f.payload_len;
            if ((rc = cut_part(r, &f)) < 0)
                break;
        }
        if (rc < 0 || (rc = queue_batch(r, &b)) < 0 ||
            (rc = end_all(r, &f, b.records)) < 0)
            break;
    }
    rc = end_input(r, rc, br.f.time, br.f.interval);
    ss_frame_batch_release(&br);
    /* A shard that went away (-EPIPE) has said why, or the merger has. */
    return rc == -EPIPE ? 0 : rc;
}

/* ---- the merger: reading the shards ---- */

/* Parse what shard s has sent, up to the end of a batch. 0, or
 * SS_REPORTED when a frame is bad (a bug: the shard wrote it).
 *
 * Neither the checksum nor the record lengths are checked again: the
 * frames were encoded by a thread of this process and came over a pipe
 * that only it writes, so they hold what the shard's writer made, byte
 * for byte. The stage's input was checked when the lead read it; the
 * header is still decoded and checked, as the join relies on it. */
static int
scan(struct shard *s)
{
    while (s->batch == 0 && !s->ended) {
        struct fr fr = {.off = s->scan};
        const char *why = NULL;
        size_t need;
        int rc = ss_frame_parse_own(s->buf.data + s->scan, s->buf.len - s->scan,
                                    &fr.f, &need, &why);

        if (rc == 0)
            return 0;
        if (rc < 0)
            return ss_diag("shard %zu: %s", s->i, why);
        if (fr.f.trail != NULL)
            fr.trail_off = (size_t)(fr.f.trail - (s->buf.data + s->scan));
        if (ss_buf_append(&s->frames, &fr, sizeof(fr)) < 0)
            return -ENOMEM;
        s->scan += need;
        if (fr.f.kind == SS_FRAME_END)
            s->ended = 1;
        if (fr.f.kind == SS_FRAME_END || !(fr.f.flags & SS_FRAME_MORE))
            s->batch = s->scan;
    }
    return 0;
}

static int
read_shard(struct shard *s)
{
    ssize_t n;
    int rc;

    if ((rc = ss_buf_reserve(&s->buf, READ_SIZE)) < 0)
        return rc;
    n = read(s->out[0], s->buf.data + s->buf.len, s->buf.cap - s->buf.len);
    if (n < 0)
        return errno == EINTR ? 0 : ss_diag_err(-errno, "shard %zu", s->i);
    if (n == 0) /* a shard always ends with an end-of-stream frame */
        return ss_diag("shard %zu ended without end-of-stream", s->i);
    ss_buf_commit(&s->buf, (size_t)n);
    return scan(s);
}

/* Read until every shard has a whole batch (or has ended). */
static int
fill(struct run *r)
{
    struct pollfd pf[SS_STATS_WORKERS];
    size_t map[SS_STATS_WORKERS];
    int rc;

    for (;;) {
        nfds_t np = 0;

        for (size_t i = 0; i < r->n; i++)
            if (r->sh[i].batch == 0) {
                pf[np] = (struct pollfd){r->sh[i].out[0], POLLIN, 0};
                map[np++] = i;
            }
        if (np == 0)
            return 0;
        if (poll(pf, np, -1) < 0) {
            if (errno == EINTR)
                continue;
            return ss_diag_err(-errno, "poll");
        }
        for (nfds_t k = 0; k < np; k++)
            if (pf[k].revents != 0 && (rc = read_shard(&r->sh[map[k]])) < 0)
                return rc;
    }
}

static struct fr *
frames(struct shard *s, size_t *n)
{
    *n = s->frames.len / sizeof(struct fr);
    return (struct fr *)(void *)s->frames.data;
}

/* Frame j of s's batch, its views pointed into the buffer as it is now. */
static struct ss_frame
frame_at(struct shard *s, size_t j)
{
    size_t n;
    struct fr *fr = &frames(s, &n)[j];
    struct ss_frame f = fr->f;
    const char *base = s->buf.data + fr->off;

    f.payload = base + f.header_len;
    f.trail = fr->trail_off > 0 ? base + fr->trail_off : NULL;
    return f;
}

/* Drop the batch merged, and parse what came after it: the next may be
 * there whole already. */
static int
consume(struct shard *s)
{
    memmove(s->buf.data, s->buf.data + s->batch, s->buf.len - s->batch);
    s->buf.len -= s->batch;
    s->scan -= s->batch;
    s->batch = 0;
    ss_buf_reset(&s->frames);
    return scan(s);
}

/* ---- the merger: joining frames ---- */

/* First 8 bytes of k as a big-endian number: numbers compare as the
 * bytes do. One load, not a loop: the merger's once a record. */
static uint64_t
first8(const char *k)
{
    uint64_t v;

    memcpy(&v, k, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* advance() past the end of a frame: the next frame's first record. */
static int
next_frame(struct shard *s)
{
    size_t n;

    frames(s, &n);
    for (;;) {
        struct ss_frame f;

        if (++s->j >= n)
            return s->live = 0;
        f = frame_at(s, s->j);
        ss_frame_iter_init(&s->it, &f);
        s->rp = s->it.p;
        if (ss_frame_iter_next(&s->it, &s->r))
            return s->live = 1;
    }
}

/* Move s's cursor to its next record; 0 when it has none left. Inlined
 * into the join's loop: it runs once a record. */
static inline __attribute__((always_inline)) int
advance(struct shard *s)
{
    s->rp = s->it.p;
    if (!ss_frame_iter_next(&s->it, &s->r) && !next_frame(s))
        return 0;
    s->rn = (size_t)(s->it.p - s->rp);
    s->k8 = s->r.klen >= 8 ? first8(s->r.key) : 0;
    return s->live = 1;
}

static void
rewind_shard(struct shard *s)
{
    struct ss_frame f = frame_at(s, 0);

    s->j = 0;
    ss_frame_iter_init(&s->it, &f);
    advance(s);
}

/* Whether a's record has a key before b's in byte order: the first 8
 * bytes as one number (taken once, by advance()) settle most pairs. */
static inline __attribute__((always_inline)) int
before(const struct shard *a, const struct shard *b)
{
    size_t n = a->r.klen < b->r.klen ? a->r.klen : b->r.klen;
    int c;

    if (n >= 8 && a->k8 != b->k8)
        return a->k8 < b->k8;
    c = n > 0 ? memcmp(a->r.key, b->r.key, n) : 0;
    if (c != 0)
        return c < 0;
    return a->r.klen < b->r.klen;
}

/* The join of two shards in key order (--parallel 2), one compare a
 * record, until one has no more: join_records() takes the rest. On
 * equal keys (count-by-value cuts by key and value), shard 0's first. */
static int
join_two(struct run *r)
{
    struct shard *a = &r->sh[0], *b = &r->sh[1];
    int rc;

    while (a->live && b->live) {
        struct shard *s = before(b, a) ? b : a;

        if ((rc = ss_frame_writer_add_encoded(&r->w, s->rp, s->rn)) < 0)
            return rc;
        advance(s);
    }
    return 0;
}

/* The shards' records: in key order, each shard's being in key order
 * already; or (sessions) shard after shard. */
static int
join_records(struct run *r)
{
    int rc;

    for (size_t i = 0; i < r->n; i++)
        rewind_shard(&r->sh[i]);
    if (r->sorted && r->n == 2 && (rc = join_two(r)) < 0)
        return rc;
    for (;;) { /* what join_two() left: one shard's, or any n's */
        struct shard *best = NULL;

        for (size_t i = 0; i < r->n; i++) {
            struct shard *s = &r->sh[i];

            if (s->live && (best == NULL || (r->sorted && before(s, best))))
                best = s;
        }
        if (best == NULL)
            return 0;
        /* copied as the shard encoded it: the same record, the same bytes */
        if ((rc = ss_frame_writer_add_encoded(&r->w, best->rp, best->rn)) < 0)
            return rc;
        advance(best);
    }
}

/* The input batches up to 'time' into the stage's stats. */
static void
count_in(struct run *r, int64_t time)
{
    pthread_mutex_lock(&r->lock);
    while (r->in_at + sizeof(struct inb) <= r->in.len) {
        struct inb b;
        struct ss_frame f = {0};

        memcpy(&b, r->in.data + r->in_at, sizeof(b));
        if (b.time > time)
            break;
        r->in_at += sizeof(b);
        f.time = b.time;
        f.interval = b.interval;
        f.closed_ms = b.closed_ms;
        f.count = (uint32_t)b.records;
        f.payload_len = b.bytes;
        ss_stats_in(&r->sg->stats, &f);
    }
    if (r->in_at == r->in.len) {
        ss_buf_reset(&r->in);
        r->in_at = 0;
    }
    pthread_mutex_unlock(&r->lock);
}

/* A shard's last trail entry is its own engine's time on the frame. */
static uint64_t
shard_ns(const struct ss_frame *last)
{
    struct ss_frame_stage st;

    if (last->ntrail == 0)
        return 0;
    ss_frame_trail_get(last, last->ntrail - 1, &st);
    return (uint64_t)st.ms * 1000000;
}

/* The stage's frame of the batch goes out, timed for --stats. */
static int
send_out(struct run *r)
{
    struct ss_stats *st = &r->sg->stats;
    int rc;

    ss_stats_stamp(st);
    if ((rc = ss_frame_writer_end(&r->w)) < 0)
        return rc;
    ss_stats_end(st);
    return 0;
}

static int
join_batch(struct run *r)
{
    struct ss_frame f0 = frame_at(&r->sh[0], 0), last;
    struct ss_stats *st = &r->sg->stats;
    uint64_t slowest = 0;
    size_t n;
    int rc;

    for (size_t i = 0; i < r->n; i++) {
        struct shard *s = &r->sh[i];
        struct ss_frame f = frame_at(s, 0);

        if (f.time != f0.time || f.kind != f0.kind)
            return ss_diag("shard %zu: frame %" PRId64 " where shard 0 has "
                           "%" PRId64 " (shards out of step)",
                           s->i, f.time, f0.time);
        frames(s, &n);
        last = frame_at(s, n - 1);
        r->ns[i] = shard_ns(&last);
        if (r->ns[i] > slowest)
            slowest = r->ns[i];
    }
    /* The stage's time on a frame: its slowest shard's, then the join. */
    ss_stats_begin(st);
    st->b.start_ns -= slowest;
    count_in(r, f0.time);
    r->w.closed_ms = f0.closed_ms;
    r->w.replay_ms = f0.replay_ms;
    ss_frame_writer_begin(&r->w, f0.time, f0.interval,
                          f0.flags & SS_FRAME_KEYED);
    frames(&r->sh[0], &n);
    last = frame_at(&r->sh[0], n - 1);
    ss_frame_writer_trail(&r->w, &last);
    /* Not last.ntrail - 1 before the copy: the fields after the trail
     * (ingest, offsets) are found past ntrail entries. */
    if (r->w.ntrail > 0)
        r->w.ntrail--; /* the shard's own entry: the stage adds its own */
    if ((rc = join_records(r)) < 0)
        return rc;
    ss_stats_workers(st, r->ns, r->n);
    return send_out(r);
}

static int
merge(struct run *r)
{
    size_t ended;
    int rc;

    for (;;) {
        if ((rc = fill(r)) < 0)
            return rc;
        ended = 0;
        for (size_t i = 0; i < r->n; i++)
            ended += r->sh[i].ended;
        if (ended > 0)
            break;
        if ((rc = join_batch(r)) < 0)
            return rc;
        for (size_t i = 0; i < r->n; i++)
            if ((rc = consume(&r->sh[i])) < 0)
                return rc;
    }
    for (size_t i = 0; i < r->n; i++) {
        struct ss_frame f = frame_at(&r->sh[i], 0);

        if (f.kind == SS_FRAME_END && (f.flags & SS_FRAME_ABORTED))
            return SS_REPORTED; /* the shard has said why */
    }
    for (size_t i = 0; i < r->n; i++)
        if (frame_at(&r->sh[i], 0).kind != SS_FRAME_END)
            return ss_diag("shard %zu has frames after the others ended "
                           "(shards out of step)",
                           i);
    if (atomic_load(&r->epoch_end))
        return 0; /* the shards' end, not the stream's */
    return ss_frame_writer_eos(&r->w, frame_at(&r->sh[0], 0).time,
                               frame_at(&r->sh[0], 0).interval);
}

static void *
merger_main(void *arg)
{
    struct run *r = arg;

    r->merge_rc = merge(r);
    if (r->merge_rc < 0 && r->merge_rc != -EPIPE) {
        ss_frame_writer_abort(&r->w);
        r->aborted = 1; /* read by the lead once this thread is joined */
    }
    /* Shards still writing get EPIPE rather than wait for ever. */
    for (size_t i = 0; i < r->n; i++) {
        close(r->sh[i].out[0]);
        r->sh[i].out[0] = -1;
    }
    return NULL;
}

/* ---- shards ---- */

static void *
shard_main(void *arg)
{
    struct shard *s = arg;

    if (s->i > 0)
        ss_replay_quiet();
    ss_diag_mute_on(&s->run->stopped);
    s->rc = s->run->engine(s);
    close(s->in[0]);
    close(s->out[1]);
    s->in[0] = s->out[1] = -1;
    return NULL;
}

/* What the engine of a shard sees of the stage: its own rejects, kept in
 * the --rejects file too (opened for appending: each shard writes its
 * part's rejects whole, once a batch) and added up by the lead's stage;
 * stats only for the trail entry. */
static int
shard_stage(struct shard *s, const char *name, const char *rejects)
{
    memset(&s->sg, 0, sizeof(s->sg));
    if (ss_rejects_open(&s->sg.rej, rejects) < 0)
        return SS_REPORTED;
    s->sg.stats.stage = name;
    s->sg.stats.fd = -1;
    s->sg.stats.b.proc_ms = s->sg.stats.b.keys = -1;
    s->sg.stats.rej = &s->sg.rej;
    s->sg.opened = 1;
    return 0;
}

static const char *held_dir(const struct held *h);

static int
shard_open(struct run *r, struct shard *s, size_t i, struct held *h)
{
    const char *ckpt = r->ckpt;

    s->run = r;
    s->i = i;
    s->h = h;
    s->in[0] = s->in[1] = s->out[0] = s->out[1] = -1;
    if (h != NULL)
        snprintf(s->dir, sizeof(s->dir), "%s", held_dir(h));
    else if (ckpt != NULL &&
             ss_shard_dir(s->dir, sizeof(s->dir), ckpt, i, r->n) < 0)
        return ss_diag("--checkpoint: '%s': name too long", ckpt);
    if (pipe(s->in) < 0 || pipe(s->out) < 0)
        return ss_diag_err(-errno, "pipe");
    ss_io_widen_pipe(s->in[1], SS_FRAME_PIPE_BYTES);
    ss_io_widen_pipe(s->out[1], SS_FRAME_PIPE_BYTES);
    ss_frame_writer_init(&s->w, s->in[1]);
    s->w.own = 1; /* no checksum: see "the engines" below */
    return shard_stage(s, r->name, r->rejects);
}

static void
shard_close(struct run *r, struct shard *s)
{
    int fds[4] = {s->in[0], s->in[1], s->out[0], s->out[1]};

    for (size_t k = 0; k < 4; k++)
        if (fds[k] >= 0)
            close(fds[k]);
    if (s->sg.opened && ss_rejects_close(&s->sg.rej) < 0)
        s->sg.rej.kept = 0; /* said; what was kept may not be there */
    r->sg->rej.count += s->sg.rej.count;
    r->sg->rej.kept += s->sg.rej.kept;
    ss_frame_writer_release(&s->w);
    ss_buf_release(&s->buf);
    ss_buf_release(&s->frames);
}

/* ---- the checkpoint's partitioning ---- */

/* Whether dir holds a checkpoint of one engine (--parallel 1). */
static int
has_checkpoint(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;

    if (d == NULL)
        return 0;
    while (!found && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);

        found = (n > 5 && strcmp(e->d_name + n - 5, ".snap") == 0) ||
                (n > 4 && strcmp(e->d_name + n - 4, ".log") == 0);
    }
    closedir(d);
    return found;
}

/* The N a checkpoint was written at: DIR/parallel, else 1 when DIR holds
 * one engine's files, else 0 (none yet). */
static long
written_at(const char *dir)
{
    struct ss_buf b = {0};
    char path[PATH_MAX];
    long m = 0;

    if (snprintf(path, sizeof(path), "%s/parallel", dir) < (int)sizeof(path) &&
        ss_io_slurp(path, &b) == 0 && ss_buf_putc(&b, '\0') == 0)
        m = strtol(b.data, NULL, 10);
    else if (has_checkpoint(dir))
        m = 1;
    ss_buf_release(&b);
    return m;
}

static int
check_layout(const char *dir, size_t n, enum ss_shard_kind kind)
{
    long m;
    char text[24];
    int rc, len;

    if (dir == NULL)
        return 0;
    if ((m = written_at(dir)) == (long)n)
        return 0;
    if (m < 0 || m > SS_STATS_WORKERS)
        return ss_diag("checkpoint '%s': '%s/parallel' is not a number of "
                       "shards",
                       dir, dir);
    if (m != 0)
        return ss_shard_repartition(dir, (size_t)m, n, kind);
    if (n == 1)
        return 0;
    len = snprintf(text, sizeof(text), "%zu\n", n);
    if ((rc = ss_io_mkdirs(dir)) < 0 ||
        (rc = ss_io_write_atomic(dir, "parallel", text, (size_t)len)) < 0)
        return ss_diag_err(rc, "checkpoint '%s'", dir);
    return 0;
}

/* ---- the run ---- */

static struct held *
held_at(struct held *h, size_t i)
{
    return &h[i];
}

static const char *
held_dir(const struct held *h)
{
    return h->ps.dir;
}

/* Start r->n shards and the merger (none when r->n is 0: --by-partition
 * holding no partition). 0, or a code; end_set() either way. */
static int
start_set(struct run *r, struct held *h)
{
    int rc = 0;

    atomic_store(&r->epoch_end, 0);
    r->merging = 0;
    r->merge_rc = 0;
    if (r->n == 0)
        return 0;
    if ((r->sh = calloc(r->n, sizeof(*r->sh))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < r->n; i++) /* none open yet */
        r->sh[i].in[0] = r->sh[i].in[1] = r->sh[i].out[0] = r->sh[i].out[1] =
            -1;
    if ((r->ns = calloc(r->n, sizeof(*r->ns))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; rc == 0 && i < r->n; i++)
        rc = shard_open(r, &r->sh[i], i, h != NULL ? held_at(h, i) : NULL);
    for (size_t i = 0; rc == 0 && i < r->n; i++)
        if ((rc = -pthread_create(&r->sh[i].th, NULL, shard_main, &r->sh[i])) ==
            0)
            r->sh[i].started = 1;
    if (rc == 0 &&
        (rc = -pthread_create(&r->merger, NULL, merger_main, r)) == 0)
        r->merging = 1;
    return rc;
}

/* Wait for the shards and the merger of start_set() to end, once the lead
 * has stopped (lrc: 0, or why it stopped), and free them: the code of
 * the set. */
static int
end_set(struct run *r, int lrc)
{
    int rc;

    if (lrc < 0) /* shards not started, or never to get their input */
        atomic_store(&r->stopped, 1);
    if (lrc < 0)
        for (size_t i = 0; r->sh != NULL && i < r->n; i++)
            if (r->sh[i].in[1] >= 0) {
                close(r->sh[i].in[1]);
                r->sh[i].in[1] = -1;
            }
    for (size_t i = 0; r->sh != NULL && i < r->n; i++)
        if (r->sh[i].started)
            pthread_join(r->sh[i].th, NULL);
    if (r->merging)
        pthread_join(r->merger, NULL);
    else if (lrc < 0 && !r->aborted)
        ss_frame_writer_abort(&r->w);
    if (lrc < 0 && !r->merging)
        r->aborted = 1;
    r->merging = 0;
    rc = lrc < 0 ? lrc : r->merge_rc;
    /* A shard that failed said why; its code says how (SS_USAGE: 2). */
    for (size_t i = 0; rc == SS_REPORTED && r->sh != NULL && i < r->n; i++)
        if (r->sh[i].rc < 0 && r->sh[i].rc != -EPIPE)
            rc = r->sh[i].rc;
    for (size_t i = 0; r->sh != NULL && i < r->n; i++)
        shard_close(r, &r->sh[i]);
    free(r->sh);
    free(r->ns);
    r->sh = NULL;
    r->ns = NULL;
    return rc;
}

/* Open the stage around r: its output, rejects and stats. 0, or
 * SS_REPORTED with the output ended aborted. */
static int
open_run(struct run *r, const struct ss_stats_config *stats)
{
    ss_frame_writer_init(&r->w, r->fd_out);
    if (ss_stage_open(r->sg, r->name, r->rejects, stats) < 0) {
        ss_frame_writer_abort(&r->w);
        ss_frame_writer_release(&r->w);
        return SS_REPORTED;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->sg->stats.w = &r->w;
    return 0;
}

static int
close_run(struct run *r, int rc)
{
    ss_frame_writer_release(&r->w);
    ss_buf_release(&r->in);
    pthread_mutex_destroy(&r->lock);
    if (rc == -ENOMEM)
        rc = ss_diag_err(rc, "%s", r->name);
    return rc;
}

static int
run(struct run *r, const struct ss_stats_config *stats)
{
    int rc;

    if (open_run(r, stats) < 0)
        return SS_REPORTED;
    rc = start_set(r, NULL);
    rc = end_set(r, rc == 0 ? lead(r) : rc);
    return close_run(r, rc);
}

/* ---- the engines ---- */

/* The frames between the lead, a shard and the merger go without
 * checksums, neither computed nor checked (the writers' and the shard's
 * reader's 'own'; the merger's ss_frame_parse_own()): the lead checked
 * the stage's input, checksum and record lengths, when it read it, and
 * copies each record's bytes as they came; the pipes are this process's,
 * written by its own threads only, so the bytes read are those written.
 * Checking them again cost each shard an XXH64 pass and a walk over its
 * part, and the lead and each shard an XXH64 pass over what they wrote. */

static int line_hook(void *ctx, const struct ss_frame *last);

static int
state_shard(struct shard *s)
{
    struct ss_state_config c = *(const struct ss_state_config *)s->run->cfg;

    c.fd_in = s->in[0];
    c.fd_out = s->out[1];
    c.checkpoint = c.checkpoint != NULL ? s->dir : NULL;
    c.rejects = NULL;
    memset(&c.stats, 0, sizeof(c.stats));
    c.own_frames = 1;
    if (s->h != NULL) {
        c.before_save = line_hook;
        c.save_ctx = s;
    }
    return ss_state_run(&c, &s->sg);
}

/* What a run at N > 1 cannot take yet: said before anything starts. */
static int
refuse(const char *opt, const char *what)
{
    ss_diag("%s: not with --parallel above 1 (%s)", opt, what);
    return SS_USAGE;
}

/* A run that cannot start ends its output aborted, as the engines do,
 * so that the stages after it fail too. */
static int
abort_out(int fd, int rc)
{
    struct ss_frame_writer w;

    ss_frame_writer_init(&w, fd);
    ss_frame_writer_abort(&w);
    ss_frame_writer_release(&w);
    return rc;
}

int
ss_shard_state(const struct ss_state_config *cfg, size_t n, struct ss_stage *sg)
{
    struct run r = {.n = n,
                    .cfg = cfg,
                    .engine = state_shard,
                    .sorted = 1,
                    .fd_in = cfg->fd_in,
                    .fd_out = cfg->fd_out,
                    .sg = sg};
    int rc;

    if (n > 1 && (cfg->initial != NULL || cfg->import != NULL))
        return abort_out(cfg->fd_out,
                         refuse(cfg->initial ? "--initial" : "--import",
                                "load the state at --parallel 1 first"));
    if ((rc = check_layout(cfg->checkpoint, n, SS_SHARD_STATE)) < 0)
        return abort_out(cfg->fd_out, rc);
    if (n == 1)
        return ss_state_run(cfg, sg);
    r.ckpt = cfg->checkpoint;
    r.name = "state";
    r.rejects = cfg->rejects;
    return run(&r, &cfg->stats);
}

/* ---- --by-partition: an engine per Kafka partition held ----
 *
 * The shards are the partitions the member holds, as each batch's offsets
 * field lists them (lib/frame.h), each engine's checkpoint the
 * partition's folder (lib/pstate.h). A record goes to the partition its
 * key's Kafka producer chose: librdkafka's default partitioner
 * (consistent_random) takes crc32(key) % partitions for a key that is not
 * empty. When a batch lists other partitions than the one before, the set
 * of shards ends at that batch boundary, as at the end of the stream but
 * with no end-of-stream out (an epoch), the partitions given up are
 * released "closed", those received are taken (their lock waited for),
 * and a new set starts, every held partition's engine loading its
 * checkpoint again. The merger's output goes on as one stream.
 */

#define PARTS_MAX ((uint32_t)1 << 20) /* a topic's partitions, at most */

/* A frame of a batch of several: its payload, copied into parts.pay, as
 * the reader's next frame may move the last one's bytes. */
struct seg {
    size_t off, len;
    uint32_t count, flags;
};

struct parts {
    const char *dir; /* --checkpoint DIR */
    int64_t wait_ms; /* for a partition's lock */
    char topic[SS_FRAME_TOPIC_MAX + 1];
    size_t topic_len;
    uint32_t partitions; /* the topic's; 0 until the first batch */
    int32_t *slot;       /* [partitions]: the shard of a partition, or -1 */
    struct held *h;      /* the partitions held, by number: h[0..nh) */
    size_t nh;
    struct ss_buf got;  /* the batch's offsets: struct ss_frame_part, sorted */
    struct ss_buf pay;  /* the batch's payloads, when it spans frames */
    struct ss_buf segs; /* struct seg of them */
    int64_t time;       /* the last batch the shards got */
    uint32_t interval;
    int64_t end_time; /* of the input's end-of-stream, passed on last */
    uint32_t end_interval;
};

static struct ss_frame_part *
got(struct parts *P, size_t *n)
{
    *n = P->got.len / sizeof(struct ss_frame_part);
    return (struct ss_frame_part *)(void *)P->got.data;
}

/* On a shard's thread, before its engine saves the batch: the partition's
 * position line, the batch's next offset from the offsets field (the
 * lead checked that it is there and lists the partition). */
static int
line_hook(void *ctx, const struct ss_frame *last)
{
    struct shard *s = ctx;
    struct ss_frame_offsets o;
    struct ss_frame_part e;

    if (ss_frame_offsets(last, &o))
        for (size_t i = 0; i < o.n; i++) {
            ss_frame_offsets_entry(&o, i, &e);
            if (e.partition == s->h->p)
                return ss_pstate_line(&s->h->ps, last->time, e.next);
        }
    return ss_diag("shard %zu: batch %" PRId64 " has no offsets of "
                   "partition %" PRId32 " (a bug)",
                   s->i, last->time, s->h->p);
}

static int
by_part(const void *a, const void *b)
{
    const struct ss_frame_part *x = a, *y = b;

    return (x->partition > y->partition) - (x->partition < y->partition);
}

/* The topic of the first batch, its partitions indexed. */
static int
first_topic(struct parts *P, const struct ss_frame_offsets *o, int64_t time)
{
    char probe[16];

    if (ss_pstate_dir(probe, sizeof(probe), ".", o->topic, o->topic_len, 0) ==
        -EINVAL)
        return ss_diag("--by-partition: batch %" PRId64 ": '%.*s' is not a "
                       "Kafka topic name",
                       time, (int)o->topic_len, o->topic);
    if (o->partitions == 0 || o->partitions > PARTS_MAX)
        return ss_diag("--by-partition: batch %" PRId64 ": topic '%.*s' of "
                       "%" PRIu32 " partitions (1 to %" PRIu32 ")",
                       time, (int)o->topic_len, o->topic, o->partitions,
                       PARTS_MAX);
    memcpy(P->topic, o->topic, o->topic_len);
    P->topic[o->topic_len] = '\0';
    P->topic_len = o->topic_len;
    P->partitions = o->partitions;
    if ((P->slot = malloc(o->partitions * sizeof(*P->slot))) == NULL)
        return -ENOMEM;
    for (uint32_t i = 0; i < o->partitions; i++)
        P->slot[i] = -1;
    return 0;
}

/* The batch's offsets field into P->got, sorted by partition, checked
 * against the topic the state is of. 0 or SS_REPORTED. */
static int
take_offsets(struct parts *P, const struct ss_frame *last)
{
    struct ss_frame_offsets o;
    struct ss_frame_part *e;
    size_t n;
    int rc;

    if (!ss_frame_offsets(last, &o))
        return ss_diag("--by-partition: batch %" PRId64 " carries no Kafka "
                       "offsets (--by-partition reads sstream-source --kafka "
                       "with one --topic, through stages that pass the field "
                       "on)",
                       last->time);
    ss_buf_reset(&P->got);
    /* a member that holds nothing yet may not know the count (0) */
    if (o.partitions == 0 && o.n == 0)
        return 0;
    if (P->partitions == 0 && (rc = first_topic(P, &o, last->time)) < 0)
        return rc;
    if (o.topic_len != P->topic_len || memcmp(o.topic, P->topic, o.topic_len))
        return ss_diag("--by-partition: batch %" PRId64 " is of topic "
                       "'%.*s', the state of topic '%s' (one --topic per "
                       "--checkpoint DIR)",
                       last->time, (int)o.topic_len, o.topic, P->topic);
    if (o.partitions != P->partitions)
        return ss_diag("--by-partition: topic '%s' has %" PRIu32 " "
                       "partitions from batch %" PRId64 " on, %" PRIu32 " "
                       "before: keys now land on other partitions than their "
                       "state (a state by partition cannot follow; start it "
                       "again in a new --checkpoint DIR)",
                       P->topic, o.partitions, last->time, P->partitions);
    ss_buf_reset(&P->got);
    if (ss_buf_reserve(&P->got, o.n * sizeof(*e)) < 0)
        return -ENOMEM;
    ss_buf_commit(&P->got, o.n * sizeof(*e));
    e = got(P, &n);
    for (size_t i = 0; i < n; i++) {
        ss_frame_offsets_entry(&o, i, &e[i]);
        if (e[i].partition < 0 || (uint32_t)e[i].partition >= P->partitions ||
            e[i].from < 0 || e[i].next < e[i].from)
            return ss_diag("--by-partition: batch %" PRId64 ": partition "
                           "%" PRId32 " of '%s' from %" PRId64 " to "
                           "%" PRId64 " is no partition or no range",
                           last->time, e[i].partition, P->topic, e[i].from,
                           e[i].next);
    }
    if (n > 1) /* qsort()'s base must not be NULL, even for none */
        qsort(e, n, sizeof(*e), by_part);
    for (size_t i = 1; i < n; i++)
        if (e[i].partition == e[i - 1].partition)
            return ss_diag("--by-partition: batch %" PRId64 " lists "
                           "partition %" PRId32 " twice",
                           last->time, e[i].partition);
    if (n > SS_STATS_WORKERS)
        return ss_diag("--by-partition: batch %" PRId64 " gives this member "
                       "%zu partitions of '%s', at most %d (run more "
                       "members)",
                       last->time, n, P->topic, SS_STATS_WORKERS);
    return 0;
}

/* Whether the batch holds the partitions the shards keep. */
static int
same_set(struct parts *P)
{
    size_t n;
    struct ss_frame_part *e = got(P, &n);

    if (n != P->nh)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (e[i].partition != P->h[i].p)
            return 0;
    return 1;
}

/* Take partition h->p: its lock, and where its state stands, for the
 * check of its first batch after that. */
static int
take(struct parts *P, struct held *h)
{
    int64_t time, next;
    int rc;

    if ((rc = ss_pstate_hold(&h->ps, P->dir, P->topic, P->topic_len, h->p,
                             P->wait_ms)) < 0)
        return rc;
    h->check_after = INT64_MAX;
    if ((rc = ss_pstate_expect(&h->ps, &time, &next)) < 0)
        return rc;
    if (rc == 1) {
        h->check_after = time;
        h->check_next = next;
        h->taken = 1;
    }
    return 0;
}

/* The partitions of the batch become the held ones: those given up are
 * released (closed when the shards ended well), the others taken or
 * kept. 0 or a code; on failure every partition is still in P->h. */
static int
regroup(struct parts *P, int clean)
{
    size_t n, k = 0, old = 0;
    struct ss_frame_part *e = got(P, &n);
    struct held *h = calloc(n > 0 ? n : 1, sizeof(*h));
    int rc = 0;

    if (h == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        while (old < P->nh && P->h[old].p < e[i].partition)
            old++;
        h[i].p = e[i].partition;
        h[i].ps.lockfd = -1;
        if (old < P->nh && P->h[old].p == e[i].partition) {
            h[i] = P->h[old]; /* kept: its lock stays taken */
            P->h[old].ps.lockfd = -1;
        }
    }
    for (size_t i = 0; i < P->nh; i++) {
        int r2 = ss_pstate_release(&P->h[i].ps, clean);

        if (rc == 0)
            rc = r2;
        P->slot[P->h[i].p] = -1;
    }
    free(P->h);
    P->h = h;
    P->nh = n;
    for (; rc == 0 && k < n; k++)
        if (h[k].ps.lockfd < 0)
            rc = take(P, &h[k]);
    for (size_t i = 0; i < n; i++)
        P->slot[h[i].p] = (int32_t)i;
    return rc;
}

/* Each held partition's batch starts where its state stands: the first
 * after the time its state was taken at (ss_pstate_expect()) where that
 * left it, every later one where the one before ended it. A batch at or
 * before that time is one the engine replays. */
static int
check_from(struct parts *P, int64_t time)
{
    size_t n;
    struct ss_frame_part *e = got(P, &n);

    for (size_t i = 0; i < n; i++) {
        struct held *h = &P->h[P->slot[e[i].partition]];

        if (h->check_after != INT64_MAX && time <= h->check_after)
            continue;
        if (h->check_after != INT64_MAX && e[i].from != h->check_next)
            return ss_diag(
                "--by-partition: the state of '%s[%" PRId32 "]' "
                "reaches offset %" PRId64 ", but batch %" PRId64
                " starts it at %" PRId64 " (%s)",
                P->topic, h->p, h->check_next, time, e[i].from,
                h->taken ? "give sstream-source --partition-state DIR, so "
                           "that it starts the partition where its state "
                           "stands"
                         : "the batches of a partition follow one another "
                           "from the source on");
        h->taken = 0;
        h->check_after = time;
        h->check_next = e[i].next;
    }
    return 0;
}

/* Read the rest of the batch whose first frame is br->f: its records
 * counted in *b, its last frame in *last, and, when it spans frames, each
 * frame's payload kept in P (a frame of its own is used where it is). */
static int
read_batch(struct parts *P, struct ss_frame_batch_reader *br, struct inb *b,
           struct ss_frame *last)
{
    struct ss_frame f;
    int rc;

    ss_buf_reset(&P->pay);
    ss_buf_reset(&P->segs);
    while ((rc = ss_frame_batch_part(br, &f)) > 0) {
        struct seg sg = {P->pay.len, f.payload_len, f.count, f.flags};

        b->records += f.count;
        b->bytes += f.header_len + f.payload_len;
        *last = f;
        if (P->segs.len == 0 && !(f.flags & SS_FRAME_MORE))
            continue;
        if (ss_buf_append(&P->pay, f.payload, f.payload_len) < 0 ||
            ss_buf_append(&P->segs, &sg, sizeof(sg)) < 0)
            return -ENOMEM;
    }
    return rc;
}

/* The partition of a key, as the Kafka producer chose it. */
static uint32_t
partition_of(const struct parts *P, const char *k, size_t klen)
{
    return ss_pstate_partition_of(k, klen, P->partitions);
}

static int
route_frame(struct run *r, const struct ss_frame *f, int64_t time,
            uint64_t *recno)
{
    struct parts *P = r->parts;
    struct ss_rec_iter it;
    struct ss_rec rec;
    const char *p = f->payload;
    uint32_t part;
    int rc;

    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &rec)) {
        ++*recno;
        if (rec.key == NULL || rec.klen == 0) {
            ss_rejects_record(&r->sg->rej, time, *recno, &rec,
                              "no key (--by-partition keeps the state of a "
                              "key with its Kafka partition)");
        } else if (P->slot[part = partition_of(P, rec.key, rec.klen)] < 0) {
            ss_rejects_record(&r->sg->rej, time, *recno, &rec,
                              "key '%.*s' is of partition %" PRIu32 " of "
                              "'%s', which this member does not hold",
                              (int)rec.klen, rec.key, part, P->topic);
        } else if ((rc = ss_frame_writer_add_encoded(&r->sh[P->slot[part]].w, p,
                                                     (size_t)(it.p - p))) < 0)
            return rc;
        p = it.p;
    }
    return 0;
}

/* The batch's records to the shards of their partitions. */
static int
route(struct run *r, const struct ss_frame *last, int64_t time)
{
    struct parts *P = r->parts;
    uint64_t recno = 0;
    int rc;

    if (P->segs.len == 0)
        return route_frame(r, last, time, &recno);
    for (size_t off = 0; off < P->segs.len; off += sizeof(struct seg)) {
        struct seg sg;
        struct ss_frame f = {0};

        memcpy(&sg, P->segs.data + off, sizeof(sg));
        if (sg.count == 0)
            continue; /* and pay.data may be NULL: nothing to add to */
        f.payload = P->pay.data + sg.off;
        f.payload_len = sg.len;
        f.count = sg.count;
        f.flags = sg.flags;
        if ((rc = route_frame(r, &f, time, &recno)) < 0)
            return rc;
    }
    return 0;
}

/* A batch while no partition is held: its frame, empty, written here. */
static int
empty_batch(struct run *r, const struct ss_frame *first,
            const struct ss_frame *last, uint64_t records)
{
    ss_stats_begin(&r->sg->stats);
    count_in(r, first->time);
    r->w.closed_ms = first->closed_ms;
    r->w.replay_ms = first->replay_ms;
    ss_frame_writer_begin(&r->w, first->time, first->interval, SS_FRAME_KEYED);
    ss_frame_writer_trail(&r->w, last);
    ss_frame_writer_ingest(&r->w, records, last->interval);
    return send_out(r);
}

/* End the set of shards (the epoch) at the last batch they got, without
 * an end-of-stream out, and start the set of the batch's partitions. */
static int
next_epoch(struct run *r)
{
    struct parts *P = r->parts;
    int rc = 0;

    if (r->sh != NULL) {
        atomic_store(&r->epoch_end, 1);
        rc = end_input(r, 0, P->time, P->interval);
        rc = end_set(r, rc == -EPIPE ? 0 : rc);
    }
    if (rc < 0)
        return rc;
    if ((rc = regroup(P, 1)) < 0)
        return rc;
    r->n = P->nh;
    return start_set(r, P->h);
}

static int
part_batch(struct run *r, struct ss_frame_batch_reader *br)
{
    struct parts *P = r->parts;
    struct ss_frame first = br->f, last;
    struct inb b = {first.time, first.closed_ms, first.interval, 0, 0};
    int rc;

    if ((rc = read_batch(P, br, &b, &last)) < 0 ||
        (rc = take_offsets(P, &last)) < 0 ||
        (!same_set(P) && (rc = next_epoch(r)) < 0) ||
        (rc = check_from(P, first.time)) < 0 || (rc = queue_batch(r, &b)) < 0)
        return rc;
    if (r->n == 0)
        rc = empty_batch(r, &first, &last, b.records);
    else {
        begin_all(r, &first);
        if ((rc = route(r, &last, first.time)) < 0 ||
            (rc = end_all(r, &last, b.records)) < 0)
            return rc;
        P->time = first.time;
        P->interval = first.interval;
    }
    return rc < 0 ? rc : ss_rejects_flush(&r->sg->rej);
}

/* The lead of --by-partition: as lead(), the set of shards changing with
 * the partitions held. */
static int
lead_parts(struct run *r)
{
    struct ss_frame_batch_reader br;
    int rc;

    ss_frame_batch_init(&br, r->fd_in, "stdin");
    while ((rc = ss_frame_batch_next(&br)) > 0)
        if ((rc = part_batch(r, &br)) < 0)
            break;
    r->parts->end_time = br.f.time;
    r->parts->end_interval = br.f.interval;
    /* The end-of-stream goes out once the partitions are released. */
    atomic_store(&r->epoch_end, 1);
    if (r->sh != NULL)
        rc = end_input(r, rc, br.f.time, br.f.interval);
    ss_frame_batch_release(&br);
    return rc == -EPIPE ? 0 : rc;
}

/* Release every partition held (closed when 'clean'): 0 or SS_REPORTED. */
static int
parts_release(struct parts *P, int clean)
{
    int rc = 0;

    for (size_t i = 0; i < P->nh; i++)
        if (ss_pstate_release(&P->h[i].ps, clean) < 0)
            rc = SS_REPORTED; /* said; the others go all the same */
    free(P->h);
    free(P->slot);
    ss_buf_release(&P->got);
    ss_buf_release(&P->pay);
    ss_buf_release(&P->segs);
    return rc;
}

int
ss_shard_state_parts(const struct ss_state_config *cfg, int64_t wait_ms,
                     struct ss_stage *sg)
{
    struct parts P = {.dir = cfg->checkpoint, .wait_ms = wait_ms};
    struct run r = {.cfg = cfg,
                    .engine = state_shard,
                    .sorted = 1,
                    .fd_in = cfg->fd_in,
                    .fd_out = cfg->fd_out,
                    .sg = sg,
                    .ckpt = cfg->checkpoint,
                    .name = "state",
                    .rejects = cfg->rejects,
                    .parts = &P};
    int rc;

    if (open_run(&r, &cfg->stats) < 0)
        return SS_REPORTED;
    rc = end_set(&r, lead_parts(&r));
    if (parts_release(&P, rc == 0) < 0 && rc == 0) {
        ss_frame_writer_abort(&r.w); /* nothing aborted it: rc was 0 */
        rc = SS_REPORTED;
    }
    if (rc == 0 &&
        (rc = ss_frame_writer_eos(&r.w, P.end_time, P.end_interval)) < 0 &&
        rc != -EPIPE)
        rc = ss_diag_err(rc, "stdout");
    return close_run(&r, rc);
}

/* A partition's folder found in a --by-partition checkpoint. */
struct pdir {
    char name[NAME_MAX + 1];
    size_t topic_len; /* name[0..topic_len) is the topic */
    long p;
};

static int
pdir_order(const void *a, const void *b)
{
    const struct pdir *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (x->topic_len != y->topic_len ||
        memcmp(x->name, y->name, x->topic_len) != 0)
        return c;
    return (x->p > y->p) - (x->p < y->p);
}

/* Whether 'name' in dir is a partition's folder: TOPIC-P holding a
 * position file. */
static int
is_pdir(const char *dir, const char *name, struct pdir *pd)
{
    const char *dash = strrchr(name, '-');
    char path[PATH_MAX], *end;

    if (dash == NULL || dash == name || dash[1] < '0' || dash[1] > '9' ||
        strlen(name) >= sizeof(pd->name))
        return 0;
    pd->p = strtol(dash + 1, &end, 10);
    if (*end != '\0' ||
        snprintf(path, sizeof(path), "%s/%s/position", dir, name) >=
            (int)sizeof(path) ||
        access(path, F_OK) != 0)
        return 0;
    snprintf(pd->name, sizeof(pd->name), "%s", name);
    pd->topic_len = (size_t)(dash - name);
    return 1;
}

/* --dump of a --by-partition checkpoint: each partition's folder in turn,
 * by topic, then partition number. 1 when dir is one, else 0, or a code. */
static int
dump_parts(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct ss_buf b = {0};
    struct pdir pd, *all;
    char path[PATH_MAX];
    size_t n;
    int rc = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (is_pdir(dir, e->d_name, &pd) &&
            ss_buf_append(&b, &pd, sizeof(pd)) < 0) {
            rc = ss_diag_err(-ENOMEM, "--dump");
            break;
        }
    closedir(d);
    n = b.len / sizeof(pd);
    all = (struct pdir *)(void *)b.data;
    if (n > 0)
        qsort(all, n, sizeof(pd), pdir_order);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (snprintf(path, sizeof(path), "%s/%s", dir, all[i].name) >=
            (int)sizeof(path))
            rc = ss_diag("--dump: '%s': name too long", dir);
        else if (has_checkpoint(path)) /* else taken, never saved: empty */
            rc = ss_state_dump(path);
    }
    ss_buf_release(&b);
    return rc < 0 ? rc : n > 0;
}

int
ss_shard_state_dump(const char *dir)
{
    char part[PATH_MAX];
    long m = written_at(dir);
    int rc = 0;

    if (m == 0 && (rc = dump_parts(dir)) != 0)
        return rc < 0 ? rc : 0;
    if (m <= 1 || m > SS_STATS_WORKERS)
        return ss_state_dump(dir);
    for (size_t i = 0; rc == 0 && i < (size_t)m; i++) {
        if (ss_shard_dir(part, sizeof(part), dir, i, (size_t)m) < 0)
            return ss_diag("--dump: '%s': name too long", dir);
        rc = ss_state_dump(part);
    }
    return rc;
}

static int
window_shard(struct shard *s)
{
    struct ss_window_config c = *(const struct ss_window_config *)s->run->cfg;

    c.fd_in = s->in[0];
    c.fd_out = s->out[1];
    c.checkpoint = c.checkpoint != NULL ? s->dir : NULL;
    c.rejects = NULL;
    memset(&c.stats, 0, sizeof(c.stats));
    c.own_frames = 1;
    return ss_window_run(&c, &s->sg);
}

int
ss_shard_window(const struct ss_window_config *cfg, size_t n,
                struct ss_stage *sg)
{
    struct run r = {.n = n,
                    .cfg = cfg,
                    .engine = window_shard,
                    .fd_in = cfg->fd_in,
                    .fd_out = cfg->fd_out,
                    .sg = sg};
    int rc;

    switch (cfg->mode) {
    case SS_WINDOW_COUNT_BY_VALUE:
        r.by_value = 1;
        break;
    case SS_WINDOW_REDUCE_BY_KEY:
    case SS_WINDOW_GROUP_BY_KEY:
        break;
    default: /* keyless: one aggregate, or the records in order */
        n = r.n = 1;
    }
    r.sorted = cfg->session_gap == 0;
    if ((rc = check_layout(cfg->checkpoint, n,
                           cfg->session_gap > 0 ? SS_SHARD_SESSIONS
                                                : SS_SHARD_WINDOW)) < 0)
        return abort_out(cfg->fd_out, rc);
    if (n == 1)
        return ss_window_run(cfg, sg);
    r.ckpt = cfg->checkpoint;
    r.name = "window";
    r.rejects = cfg->rejects;
    return run(&r, &cfg->stats);
}
