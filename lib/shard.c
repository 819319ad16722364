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

struct shard {
    struct run *run;
    size_t i;
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
    const void *cfg; /* the engine's, copied per shard */
    int (*engine)(struct shard *sh);
    int by_value; /* count-by-value: the key is the value (key<TAB>value) */
    int sorted;   /* the engine emits in key byte order */
    int fd_in, fd_out;
    struct ss_stage *sg;
    struct ss_frame_writer w; /* the merger's, to stdout */
    uint64_t *ns;             /* each shard's time on the last frame */
    pthread_t merger;
    int merging, merge_rc;
    atomic_int stopped;   /* the lead stopped the shards: they say nothing */
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
    for (size_t i = 0; i < r->n; i++)
        if (rc == 0)
            rc = ss_frame_writer_eos(&r->sh[i].w, br.f.time, br.f.interval);
    if (rc < 0) { /* the shards end aborted, as a stage after us would */
        atomic_store(&r->stopped, 1); /* and what went wrong is said */
        for (size_t i = 0; i < r->n; i++)
            ss_frame_writer_abort(&r->sh[i].w);
    }
    for (size_t i = 0; i < r->n; i++) {
        close(r->sh[i].in[1]);
        r->sh[i].in[1] = -1;
    }
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
    if (last.ntrail > 0)
        last.ntrail--; /* the shard's own entry: the stage adds its own */
    ss_frame_writer_trail(&r->w, &last);
    if ((rc = join_records(r)) < 0)
        return rc;
    ss_stats_workers(st, r->ns, r->n);
    ss_stats_stamp(st);
    if ((rc = ss_frame_writer_end(&r->w)) < 0)
        return rc;
    ss_stats_end(st);
    return 0;
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
    return ss_frame_writer_eos(&r->w, frame_at(&r->sh[0], 0).time,
                               frame_at(&r->sh[0], 0).interval);
}

static void *
merger_main(void *arg)
{
    struct run *r = arg;

    r->merge_rc = merge(r);
    if (r->merge_rc < 0 && r->merge_rc != -EPIPE)
        ss_frame_writer_abort(&r->w);
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

static int
shard_open(struct run *r, struct shard *s, size_t i, const char *ckpt,
           const char *name, const char *rejects)
{
    s->run = r;
    s->i = i;
    s->in[0] = s->in[1] = s->out[0] = s->out[1] = -1;
    if (ckpt != NULL && ss_shard_dir(s->dir, sizeof(s->dir), ckpt, i, r->n) < 0)
        return ss_diag("--checkpoint: '%s': name too long", ckpt);
    if (pipe(s->in) < 0 || pipe(s->out) < 0)
        return ss_diag_err(-errno, "pipe");
    ss_io_widen_pipe(s->in[1], SS_FRAME_PIPE_BYTES);
    ss_io_widen_pipe(s->out[1], SS_FRAME_PIPE_BYTES);
    ss_frame_writer_init(&s->w, s->in[1]);
    s->w.own = 1; /* no checksum: see "the engines" below */
    return shard_stage(s, name, rejects);
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

static int
run(struct run *r, const char *ckpt, const char *name, const char *rejects,
    const struct ss_stats_config *stats)
{
    int rc = 0, lrc;

    ss_frame_writer_init(&r->w, r->fd_out);
    if (ss_stage_open(r->sg, name, rejects, stats) < 0) {
        ss_frame_writer_abort(&r->w);
        ss_frame_writer_release(&r->w);
        return SS_REPORTED;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->sg->stats.w = &r->w;
    r->sh = calloc(r->n, sizeof(*r->sh));
    r->ns = calloc(r->n, sizeof(*r->ns));
    if (r->sh == NULL || r->ns == NULL)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < r->n; i++) /* none open yet */
        r->sh[i].in[0] = r->sh[i].in[1] = r->sh[i].out[0] = r->sh[i].out[1] =
            -1;
    for (size_t i = 0; rc == 0 && i < r->n; i++)
        rc = shard_open(r, &r->sh[i], i, ckpt, name, rejects);
    for (size_t i = 0; rc == 0 && i < r->n; i++)
        if ((rc = -pthread_create(&r->sh[i].th, NULL, shard_main, &r->sh[i])) ==
            0)
            r->sh[i].started = 1;
    if (rc == 0 &&
        (rc = -pthread_create(&r->merger, NULL, merger_main, r)) == 0)
        r->merging = 1;
    lrc = rc == 0 ? lead(r) : rc;
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
    else
        ss_frame_writer_abort(&r->w);
    rc = lrc < 0 ? lrc : r->merge_rc;
    /* A shard that failed said why; its code says how (SS_USAGE: 2). */
    for (size_t i = 0; rc == SS_REPORTED && r->sh != NULL && i < r->n; i++)
        if (r->sh[i].rc < 0 && r->sh[i].rc != -EPIPE)
            rc = r->sh[i].rc;
    for (size_t i = 0; r->sh != NULL && i < r->n; i++)
        shard_close(r, &r->sh[i]);
    free(r->sh);
    free(r->ns);
    ss_frame_writer_release(&r->w);
    ss_buf_release(&r->in);
    pthread_mutex_destroy(&r->lock);
    if (rc == -ENOMEM)
        rc = ss_diag_err(rc, "%s", name);
    return rc;
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
    return run(&r, cfg->checkpoint, "state", cfg->rejects, &cfg->stats);
}

int
ss_shard_state_dump(const char *dir)
{
    char part[PATH_MAX];
    long m = written_at(dir);
    int rc = 0;

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
    return run(&r, cfg->checkpoint, "window", cfg->rejects, &cfg->stats);
}
