/* source.c - sstream-source: live receivers or replay into timed batches.
 *
 * Live input runs on a libuv loop: the receivers (lib/recv_*.c: stdin,
 * --connect, --listen, --watch, --exec) feed the batcher from their
 * callbacks, a timer closes each batch at its batch time, another refills
 * the --max-rate budget, and SIGINT/SIGTERM, or the end of every input,
 * close the open batch early and end the stream. Frames are
 * written with blocking writes from the callbacks: while the reader
 * downstream is slow the loop waits and reads nothing, so the producer is
 * held back by the pipe instead of filling our memory.
 *
 * Replay needs no clock: file i of the folder is batch start + (i+1) * -b.
 *
 * With --event-time the records' own times cut the batches (lib/evtime):
 * no batch timer runs; replay reads its files in name order as one
 * stream, and live input only adds --idle-timeout's timer.
 */
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "batcher.h"
#include "diag.h"
#include "dur.h"
#include "io.h"
#include "lazy.h"
#include "recv_kit.h"
#include "rejects.h"
#include "wal.h"

#define READ_CHUNK (256 * 1024)

void
ss_source_config_init(struct ss_source_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->interval = 1000;
    cfg->delim = '\n';
    cfg->max_record = 1 << 20;
    cfg->settle = 1000;
    cfg->max_wait = 60000;
    cfg->wal_segment = SS_WAL_SEGMENT_BYTES;
    cfg->max_uncommitted = SS_SOURCE_MAX_UNCOMMITTED;
    cfg->connect_timeout = SS_SOURCE_CONNECT_TIMEOUT;
    cfg->mqtt.qos = 1;
}

/* SIGINT/SIGTERM during replay: end the stream after the batch being
 * sent, as live input does, so that the pipeline drains and exits 0. */
static volatile sig_atomic_t replay_stop;

static void
on_replay_signal(int signum)
{
    (void)signum;
    replay_stop = 1;
}

static void
catch_replay_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_replay_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* --wal: replay batch i is skipped when the log already holds its time
 * (sent before a restart, and replayed from the log instead). */
static int
replay_logged(const struct ss_batcher *b, int64_t time)
{
    return b->wal != NULL && b->wal->last != SS_WAL_NO_TIME &&
           time <= b->wal->last;
}

/* ---- replay ---- */

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular, non-hidden files of 'dir' in byte order of their names. */
static int
list_files(const char *dir, char ***names, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t cap = 0;

    *names = NULL;
    *n = 0;
    if (d == NULL)
        return ss_diag_err(-errno, "--replay: cannot open '%s'", dir);
    while ((e = readdir(d)) != NULL) {
        struct stat st;

        if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, 0) < 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (*n == cap) {
            char **p = realloc(*names, (cap = cap ? cap * 2 : 64) * sizeof(*p));

            if (p == NULL)
                break;
            *names = p;
        }
        if (((*names)[*n] = strdup(e->d_name)) == NULL)
            break;
        (*n)++;
    }
    closedir(d);
    if (e != NULL)
        return ss_diag_err(-ENOMEM, "--replay: '%s'", dir);
    if (*n > 1)
        qsort(*names, *n, sizeof(**names), by_name);
    return 0;
}

static int
replay_file(struct ss_splitter *sp, const char *dir, const char *name,
            struct ss_buf *chunk)
{
    char path[PATH_MAX];
    int fd, rc = 0;
    ssize_t r;

    if ((rc = ss_io_path(path, sizeof(path), dir, name)) < 0)
        return ss_diag_err(rc, "--replay: cannot open '%s/%s'", dir, name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return ss_diag_err(-errno, "--replay: cannot open '%s'", path);
    sp->name = path;
    ss_splitter_restart(sp);
    while ((r = ss_io_read(fd, chunk->data, chunk->cap)) > 0)
        if ((rc = ss_splitter_feed(sp, chunk->data, (size_t)r)) < 0)
            break;
    if (r < 0)
        rc = ss_diag_err((int)r, "--replay: cannot read '%s'", path);
    else if (rc == 0)
        rc = ss_splitter_eof(sp);
    sp->name = "--replay";
    close(fd);
    return rc;
}

static int
run_replay(const struct ss_source_config *cfg, struct ss_batcher *b)
{
    struct ss_splitter sp;
    struct ss_buf chunk = {0};
    char **names;
    size_t n, i;
    int rc;

    if ((rc = list_files(cfg->replay, &names, &n)) < 0)
        return rc;
    ss_splitter_init(&sp, b, "--replay", cfg->delim, cfg->max_record,
                     cfg->record_bytes, cfg->keep_cr);
    rc = ss_buf_reserve(&chunk, READ_CHUNK);
    b->time = cfg->start_time;
    catch_replay_signals();
    for (i = 0; i < n && rc == 0 && !replay_stop; i++) {
        int64_t time = cfg->start_time + (int64_t)(i + 1) * cfg->interval;

        if (b->ev != NULL) { /* one stream: the records' times batch it */
            rc = replay_file(&sp, cfg->replay, names[i], &chunk);
            continue;
        }
        if (cfg->duration > 0 && time > cfg->start_time + cfg->duration)
            break;
        if (replay_logged(b, time))
            continue;
        if (cfg->batches > 0 && b->batches >= cfg->batches)
            break;
        ss_batcher_open(b, time);
        rc = replay_file(&sp, cfg->replay, names[i], &chunk);
        if (rc == 0)
            rc = ss_batcher_close(b, 0);
    }
    if (rc == 0 && b->ev != NULL)
        rc = ss_evtime_finish(b->ev);
    if (rc == 0)
        rc = ss_batcher_finish(b);
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    ss_buf_release(&chunk);
    ss_splitter_release(&sp);
    return rc;
}

/* ---- live input on the libuv loop ---- */

struct live {
    struct ss_recv_host host; /* first: the receivers' callbacks cast back */
    const struct ss_source_config *cfg;
    uv_timer_t timer, refill, deadline, idle;
    uv_timer_t hold; /* the wait of a short run, after the stream ended */
    uv_signal_t sigint, sigterm, sighup;
    struct ss_recv *recvs;
    size_t running;    /* receivers whose input has not ended */
    int failed;        /* a receiver ended after reporting a failure */
    int rc;            /* first failure to write, kept for the exit status */
    int ended;         /* end-of-stream sent */
    uint64_t rate_acc; /* --max-rate: budget owed, in records/1000 */
    uint64_t rate_cap; /* most records the budget holds */
    int64_t rate_last; /* wall clock of the last refill */
    uint64_t arrivals; /* --idle-timeout: records seen at the last tick */
    int64_t quiet;     /* ... and the wall clock when they last changed */
};

/* The stream has ended: the loop winds down. The signal handles stay
 * on, not holding the loop, until the run returns (close_signals()): a
 * closed one would give SIGINT back its default, and a Ctrl-C while the
 * last frames drain, or during the wait that may follow, would kill the
 * run with 130. */
static void
close_all(struct live *lv)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&lv->timer, (uv_handle_t *)&lv->refill,
                         (uv_handle_t *)&lv->deadline,
                         (uv_handle_t *)&lv->idle};

    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], NULL);
    uv_unref((uv_handle_t *)&lv->sigint);
    uv_unref((uv_handle_t *)&lv->sigterm);
    uv_unref((uv_handle_t *)&lv->sighup);
}

static void
close_signals(struct live *lv)
{
    uv_close((uv_handle_t *)&lv->sigint, NULL);
    uv_close((uv_handle_t *)&lv->sigterm, NULL);
    uv_close((uv_handle_t *)&lv->sighup, NULL);
    uv_run(lv->host.loop, UV_RUN_DEFAULT);
}

static void
batch_sent(struct live *lv, int64_t time)
{
    for (struct ss_recv *r = lv->recvs; r != NULL; r = r->next)
        if (r->ops->sent != NULL)
            r->ops->sent(r, time);
}

/* Stop the receivers (what they received goes in), close the open batch,
 * send end-of-stream and wind the loop down. A stream whose input failed
 * (a receiver that could not start, or ended in an error) drops the open
 * batch instead and ends aborted, so that no stage after it writes that
 * batch or exits 0; one that only lived through troubles (reported, its
 * exit status 1) sends every batch, then ends aborted for the same
 * reason. */
static void
end_stream(struct live *lv, int rc)
{
    struct ss_batcher *b = lv->host.b;
    int64_t time = b->time;

    if (lv->ended)
        return;
    lv->ended = 1;
    lv->host.stopping = 1;
    if (lv->rc == 0)
        lv->rc = rc;
    for (struct ss_recv *r = lv->recvs; r != NULL; r = r->next)
        r->ops->stop(r);
    if (lv->rc == -EPIPE) {
        close_all(lv);
        return;
    }
    if (lv->failed) {
        ss_batcher_abort(b);
    } else {
        int r = b->ev != NULL ? ss_evtime_finish(b->ev)
                              : ss_batcher_close(b, ss_dur_now_ms());

        if (r == 0 && lv->host.troubles > 0)
            ss_batcher_abort(b);
        else if (r == 0)
            r = ss_batcher_finish(b);
        if (r == 0)
            batch_sent(lv, time);
        if (lv->rc == 0)
            lv->rc = r;
    }
    close_all(lv);
}

/* Nothing more can be sent (stdout gone, the log failed, memory): stop at
 * once, ending the stream as aborted where stdout still takes it. */
static void
fail_stream(struct live *lv, int rc)
{
    if (lv->ended)
        return;
    lv->ended = 1;
    lv->rc = rc;
    lv->host.stopping = lv->host.broken = 1;
    for (struct ss_recv *r = lv->recvs; r != NULL; r = r->next)
        r->ops->stop(r);
    if (rc != -EPIPE)
        ss_batcher_abort(lv->host.b);
    close_all(lv);
}

/* --stats-file: the receivers' own members of the batch's object. */
static void
batch_json(void *ctx, struct ss_buf *out)
{
    struct live *lv = ctx;

    for (struct ss_recv *r = lv->recvs; r != NULL; r = r->next)
        if (r->json != NULL)
            r->json(r, out);
}

/* --wal: the batch at 'time' is about to be synced to the log. */
static void
batch_logging(void *ctx, int64_t time)
{
    struct live *lv = ctx;

    for (struct ss_recv *r = lv->recvs; r != NULL; r = r->next)
        if (r->logging != NULL)
            r->logging(r, time);
}

/* The batch closes: the receivers' fields of its last frame. */
static void
batch_closing(void *ctx, struct ss_frame_writer *w)
{
    struct live *lv = ctx;

    for (struct ss_recv *r = lv->recvs; r != NULL; r = r->next)
        if (r->closing != NULL)
            r->closing(r, w);
}

static void
on_fatal(struct ss_recv_host *h, int rc)
{
    fail_stream((struct live *)h, rc);
}

static void on_tick(uv_timer_t *t);

/* --batches N: the open batch is the Nth; end_stream() sends it. */
static int
last_batch(const struct live *lv)
{
    uint64_t n = lv->cfg->batches;

    return n > 0 && lv->host.b->batches + 1 >= n;
}

/* --duration: the time is up; the stream ends as on SIGINT. */
static void
on_deadline(uv_timer_t *t)
{
    end_stream(t->data, 0);
}

/* --max-batch-records, --max-batch-bytes: a new batch has room again
 * for the receivers that a full one stopped. */
static void
resume_full(struct live *lv)
{
    struct ss_batcher *b = lv->host.b;

    if (b->max_records == 0 && b->max_bytes == 0)
        return;
    for (struct ss_recv *r = lv->recvs; r != NULL && b->budget > 0; r = r->next)
        r->ops->resume(r);
}

/* Wake at the open batch's time, read off the wall clock each time so
 * that the batches do not drift from their aligned times. */
static void
arm_timer(struct live *lv)
{
    int64_t wait = lv->host.b->time - ss_dur_now_ms();

    uv_timer_start(&lv->timer, on_tick, wait > 0 ? (uint64_t)wait : 0, 0);
}

static void
on_tick(uv_timer_t *t)
{
    struct live *lv = t->data;
    struct ss_batcher *b = lv->host.b;
    int64_t now = ss_dur_now_ms(), next, sent = b->time;
    int rc;

    if (now < b->time) { /* woke early: the clocks disagree by a hair */
        arm_timer(lv);
        return;
    }
    if (last_batch(lv)) { /* whole: its interval is over */
        end_stream(lv, 0);
        return;
    }
    /* Close this batch, then one empty frame per interval the loop slept
     * through (a blocked pipe), so every interval still has its frame. */
    next = ss_batcher_align(now, b->interval);
    if (next == b->time)
        next += b->interval;
    if ((rc = ss_batcher_close(b, now)) == 0) {
        batch_sent(lv, sent);
        for (int64_t t = b->time + b->interval;
             t < next && rc == 0 && !last_batch(lv); t += b->interval) {
            ss_batcher_open(b, t);
            rc = ss_batcher_close(b, now);
        }
    }
    if (rc < 0) {
        fail_stream(lv, rc);
        return;
    }
    if (last_batch(lv) && b->time + b->interval < next) {
        ss_batcher_open(b, b->time + b->interval); /* slept through */
        end_stream(lv, 0);
        return;
    }
    ss_batcher_open(b, next);
    resume_full(lv);
    arm_timer(lv);
}

/* --idle-timeout: no record for that long sends the open batches, and
 * then one batch per interval while the silence lasts, so that windows
 * downstream still slide. The tick checks a counter, so that a record
 * costs no timer call. */
static void
on_idle_tick(uv_timer_t *t)
{
    struct live *lv = t->data;
    struct ss_evtime *ev = lv->host.b->ev;
    int64_t now = ss_dur_now_ms(), idle = lv->cfg->evtime.idle_timeout;
    int rc;

    if (ev->arrivals != lv->arrivals || lv->quiet == 0) {
        lv->arrivals = ev->arrivals;
        lv->quiet = now;
        return;
    }
    if (now - lv->quiet < idle)
        return;
    if ((rc = ss_evtime_idle(ev, now - lv->quiet - idle)) < 0)
        fail_stream(lv, rc);
}

static void
start_idle_timer(struct live *lv)
{
    int64_t tick = lv->cfg->evtime.idle_timeout / 4;

    if (tick > lv->cfg->interval)
        tick = lv->cfg->interval;
    if (tick < 10)
        tick = 10;
    uv_timer_start(&lv->idle, on_idle_tick, (uint64_t)tick, (uint64_t)tick);
}

static void
on_signal(uv_signal_t *s, int signum)
{
    struct live *lv = s->data;

    (void)signum;
    if (!lv->ended)
        end_stream(lv, 0);
    else if (uv_is_active((uv_handle_t *)&lv->hold))
        uv_close((uv_handle_t *)&lv->hold, NULL); /* the user would rather
                                                    not wait */
}

static void
on_ended(struct ss_recv_host *h, struct ss_recv *r, int rc)
{
    struct live *lv = (struct live *)h;

    (void)r;
    if (rc < 0)
        lv->failed = 1;
    if (--lv->running == 0)
        end_stream(lv, 0);
}

static void
on_throttled(struct ss_recv_host *h, struct ss_recv *r)
{
    (void)h;
    (void)r; /* the refill timer resumes every receiver; idle ones ignore it */
}

/* --max-rate: a token bucket refilled every 100ms, holding at most a
 * tenth of a second's records, so that a batch holds about rate *
 * interval records however bursty the producers are. */
static void
on_refill(uv_timer_t *t)
{
    struct live *lv = t->data;
    struct ss_batcher *b = lv->host.b;
    int64_t now = ss_dur_now_ms();

    if (now > lv->rate_last)
        lv->rate_acc += lv->cfg->max_rate * (uint64_t)(now - lv->rate_last);
    lv->rate_last = now;
    b->budget += lv->rate_acc / 1000;
    lv->rate_acc %= 1000;
    if (b->budget > lv->rate_cap)
        b->budget = lv->rate_cap;
    for (struct ss_recv *r = lv->recvs; r != NULL && b->budget > 0; r = r->next)
        r->ops->resume(r);
}

/* The live clock across runs. A stream that ends (Ctrl-C, the end of
 * its input) sends its open batch at once, under the end of its
 * interval, which is still to come; a run started before that time must
 * not use it again, or a checkpointed stage downstream takes the new
 * run's first batch for a replay of the old one's last, and a
 * --save-as-text-files sink writes over its file.
 *
 * With a record of the last time sent (--wal: every batch is logged
 * before it is sent; --state: written when the stream ends) the first
 * batch comes after it. Without one, two rules, each needing the other:
 * the first batch ends on the second interval boundary after the start,
 * (start, B1 + interval] (B1 the first boundary after the start); and a
 * run whose stream ends before B1 waits until B1 to exit, so that every
 * run ends at or after the start of its last batch's interval, and a
 * later run, whose first batch time is a boundary past its own start
 * plus an interval, comes after it. Only runs shorter than an interval
 * wait, at most one interval. */
#define LAST_TIME "last-batch-time"

static int64_t
saved_last_time(const char *dir)
{
    int64_t last = SS_WAL_NO_TIME;
    struct ss_buf b = {0};
    char path[PATH_MAX];

    if (ss_io_path(path, sizeof(path), dir, LAST_TIME) < 0)
        return last; /* a --state folder name that long fails loudly later */
    if (ss_io_slurp(path, &b) < 0 || ss_buf_putc(&b, '\0') < 0 ||
        sscanf(b.data, "%" SCNd64, &last) != 1)
        last = SS_WAL_NO_TIME;
    ss_buf_release(&b);
    return last;
}

/* The last batch time a run before this one sent, as --wal or --state
 * recorded it; SS_WAL_NO_TIME when there is no record. */
static int64_t
last_recorded(const struct ss_source_config *cfg, const struct ss_batcher *b)
{
    int64_t last = SS_WAL_NO_TIME;

    if (b->wal != NULL)
        last = b->wal->last;
    if (cfg->state != NULL) {
        int64_t saved = saved_last_time(cfg->state);

        if (saved > last)
            last = saved;
    }
    return last;
}

static int64_t
first_time(const struct ss_source_config *cfg, const struct ss_batcher *b)
{
    int64_t now = ss_dur_now_ms(), iv = b->interval, t;
    int64_t last = last_recorded(cfg, b);

    if (last == SS_WAL_NO_TIME) /* no record: the second boundary */
        return now - now % iv + 2 * iv;
    t = ss_batcher_align(now, iv);
    /* after the record, even if the clock went back across the restart */
    return last + iv > t ? ss_batcher_align(last + iv, iv) : t;
}

/* --catch-up: Spark's restart from a checkpoint runs the batches of the
 * downtime (JobGenerator.restart(): every batch time from the
 * checkpoint's up to the restart); here they are sent empty, every
 * interval boundary after the recorded last time and before 'first', the
 * first live batch, so that windows slide and state times out across the
 * downtime as if the source had run. A downtime past the bound is
 * refused rather than cut: a wrong --state folder or a clock that jumped
 * is likelier than such a pause, and every stage after would fill it.
 * 0, or SS_REPORTED. */
static int
catch_up(const struct ss_source_config *cfg, struct ss_batcher *b,
         int64_t first)
{
    int64_t last = last_recorded(cfg, b), iv = b->interval, t, n, max;
    int rc;

    if (last == SS_WAL_NO_TIME)
        return 0;                       /* a first run: no downtime */
    t = ss_batcher_align(last + 1, iv); /* aligned, even if -b changed */
    if (t >= first)
        return 0;
    n = (first - t) / iv;
    max = cfg->catch_up_max > 0 ? cfg->catch_up_max / iv
                                : SS_SOURCE_CATCH_UP_BATCHES;
    if (n > max)
        return ss_diag("--catch-up: %" PRId64 " batches missed since batch "
                       "%" PRId64 ", more than the %" PRId64 " it fills "
                       "(give a longer --catch-up=DUR, or start without "
                       "--catch-up to go on from batch %" PRId64 ")",
                       n, last, max, first);
    ss_diag("--catch-up: %" PRId64 " empty batch%s for the downtime "
            "(%" PRId64 " to %" PRId64 ")",
            n, n == 1 ? "" : "es", t, first - iv);
    for (; t < first; t += iv) {
        ss_batcher_open(b, t);
        if ((rc = ss_batcher_close(b, 0)) < 0)
            return rc;
    }
    return 0;
}

/* --state: one run at a time. Two runs over the folder at once (cron
 * starting one before the last has ended) would both read every file not
 * yet in the ledger. The second says so and ends at once, exit 1: the
 * next cron run reads what it would have read, and waiting instead would
 * pile runs up behind a stuck one. The lock file holds the pid of the run
 * that has it, for that message; the lock goes with the descriptor, when
 * the run ends or dies. */
static int
lock_state(const char *dir, int *fd)
{
    char path[PATH_MAX], text[32];
    struct ss_buf b = {0};
    long pid = 0;
    int n;

    *fd = -1;
    if (mkdir(dir, 0777) < 0 && errno != EEXIST)
        return ss_diag_err(-errno, "--state: cannot create '%s'", dir);
    if (ss_io_path(path, sizeof(path), dir, "lock") < 0)
        return ss_diag("--state: '%s': name too long", dir);
    if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0)
        return ss_diag_err(-errno, "--state: cannot open '%s'", path);
    if (flock(*fd, LOCK_EX | LOCK_NB) == 0) {
        n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
        if (ftruncate(*fd, 0) < 0 || pwrite(*fd, text, (size_t)n, 0) < 0)
            return ss_diag_err(-errno, "--state: cannot write '%s'", path);
        return 0;
    }
    if (errno != EWOULDBLOCK)
        return ss_diag_err(-errno, "--state: cannot lock '%s'", path);
    close(*fd);
    *fd = -1;
    if (ss_io_slurp(path, &b) == 0 && ss_buf_putc(&b, '\0') == 0)
        sscanf(b.data, "%ld", &pid);
    ss_buf_release(&b);
    if (pid > 0)
        return ss_diag("--state: '%s' is in use by another sstream-source "
                       "(pid %ld): this run reads nothing and ends",
                       dir, pid);
    return ss_diag("--state: '%s' is in use by another sstream-source: this "
                   "run reads nothing and ends",
                   dir);
}

static void
save_last_time(const char *dir, int64_t t)
{
    char text[32];
    int n = snprintf(text, sizeof(text), "%" PRId64 "\n", t);
    int rc = ss_io_write_atomic(dir, LAST_TIME, text, (size_t)n);

    if (rc < 0)
        ss_diag_err(rc, "--state: cannot write '%s/%s'", dir, LAST_TIME);
}

/* ---- the wait of a short run without a record (see first_time()) ---- */

static void
on_hold_time(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, NULL);
}

/* Wait until 'until' (ms since the epoch), at most 'most' ms; a SIGINT or
 * SIGTERM ends the wait (on_signal(): the stream is whole). A wait of a
 * second or more is said, once Ctrl-C can end it. */
static void
hold_until(struct live *lv, int64_t until, int64_t most, int64_t batch)
{
    int64_t wait = until - ss_dur_now_ms();

    if (wait <= 0)
        return;
    if (wait > most)
        wait = most;
    uv_timer_init(lv->host.loop, &lv->hold);
    uv_timer_start(&lv->hold, on_hold_time, (uint64_t)wait, 0);
    if (wait >= 1000)
        ss_diag("waiting %" PRId64 "s for the interval of batch %" PRId64
                " to begin, so that a run started next cannot reuse its time "
                "(Ctrl-C ends the wait)",
                (wait + 999) / 1000, batch);
    uv_run(lv->host.loop, UV_RUN_DEFAULT);
}

static int
start_input(struct live *lv, const struct ss_source_input *in,
            struct ss_recv **r)
{
    const struct ss_source_config *cfg = lv->cfg;
    struct ss_recv_watch_opts wo;
    struct ss_recv_kafka_opts ko;
    struct ss_recv_mqtt_opts mo;
    struct ss_recv_nats_opts no;

    /* The broker receivers' libraries load when asked for (lib/lazy.h). */
    if ((in->kind == SS_INPUT_KAFKA &&
         ss_lazy_load(SS_LAZY_RDKAFKA, "--kafka") < 0) ||
        (in->kind == SS_INPUT_MQTT &&
         ss_lazy_load(SS_LAZY_MOSQUITTO, "--mqtt") < 0) ||
        (in->kind == SS_INPUT_NATS && ss_lazy_load(SS_LAZY_NATS, "--nats") < 0))
        return SS_REPORTED;
    switch (in->kind) {
    case SS_INPUT_CONNECT:
        return ss_recv_tcp_connect_start(&lv->host, in->arg, cfg->connect_once,
                                         cfg->connect_timeout, r);
    case SS_INPUT_LISTEN:
        return ss_recv_tcp_listen_start(&lv->host, in->arg, r);
    case SS_INPUT_WATCH:
        wo.dir = in->arg;
        wo.state = cfg->state;
        wo.once = cfg->once;
        wo.settle = cfg->settle;
        wo.max_wait = cfg->max_wait;
        wo.wal = lv->host.b->wal != NULL;
        wo.logged = wo.wal ? lv->host.b->wal->last : SS_WAL_NO_TIME;
        return ss_recv_watch_start(&lv->host, &wo, r);
    case SS_INPUT_EXEC:
        return ss_recv_exec_start(&lv->host, in->arg, cfg->exec_restart, r);
    case SS_INPUT_KAFKA:
        memset(&ko, 0, sizeof(ko));
        ko.brokers = in->arg;
        ko.topics = cfg->topic;
        ko.group = cfg->kafka.group;
        ko.key = cfg->kafka.key;
        ko.start = cfg->kafka.from_beginning ? SS_RECV_KAFKA_BEGINNING
                                             : SS_RECV_KAFKA_END;
        ko.once = cfg->once;
        ko.props = cfg->kafka.props;
        ko.nprops = cfg->kafka.nprops;
        ko.stats = cfg->stats.print;
        ko.wal = cfg->wal;
        ko.logged = lv->host.b->wal ? lv->host.b->wal->last : SS_WAL_NO_TIME;
        ko.pstate = cfg->kafka.pstate;
        return ss_recv_kafka_start(&lv->host, &ko, r);
    case SS_INPUT_MQTT:
        mo.hostport = in->arg;
        mo.topic = cfg->topic;
        mo.qos = cfg->mqtt.qos;
        mo.client_id = cfg->mqtt.client_id;
        mo.stats = cfg->stats.print;
        return ss_recv_mqtt_start(&lv->host, &mo, r);
    case SS_INPUT_NATS:
        no.url = in->arg;
        no.stream = cfg->nats.stream;
        no.consumer = cfg->nats.consumer;
        no.subject = cfg->nats.subject;
        no.stats = cfg->stats.print;
        no.wal = cfg->wal;
        no.logged = lv->host.b->wal ? lv->host.b->wal->last : SS_WAL_NO_TIME;
        return ss_recv_nats_start(&lv->host, &no, r);
    case SS_INPUT_KINDS:
        break;
    }
    return SS_REPORTED;
}

/* Start every input; a receiver that cannot start has said why, and the
 * stream ends before it began. */
static int
start_inputs(struct live *lv)
{
    struct ss_recv **tail = &lv->recvs, *r;
    size_t n = lv->cfg->ninputs ? lv->cfg->ninputs : 1;
    int rc;

    for (size_t i = 0; i < n; i++) {
        r = NULL;
        if (lv->cfg->ninputs == 0)
            rc = ss_recv_stdin_start(&lv->host, &r);
        else
            rc = start_input(lv, &lv->cfg->inputs[i], &r);
        if (r != NULL) {
            *tail = r;
            tail = &r->next;
            lv->running++;
        }
        if (rc < 0)
            return SS_REPORTED;
    }
    return 0;
}

static void
free_recvs(struct live *lv)
{
    struct ss_recv *r, *next;

    for (r = lv->recvs; r != NULL; r = next) {
        next = r->next;
        r->ops->free(r);
    }
}

static int
run_live(const struct ss_source_config *cfg, struct ss_batcher *b)
{
    struct live lv;
    int rc, lockfd = -1, locked = 0, caught = 0;

    memset(&lv, 0, sizeof(lv));
    lv.cfg = cfg;
    lv.host.loop = uv_default_loop();
    lv.host.b = b;
    lv.host.delim = cfg->delim;
    lv.host.keep_cr = cfg->keep_cr;
    lv.host.max_record = cfg->max_record;
    lv.host.record_bytes = cfg->record_bytes;
    lv.host.ended = on_ended;
    lv.host.throttled = on_throttled;
    lv.host.fatal = on_fatal;
    if ((lv.host.chunk = malloc(SS_RECV_CHUNK)) == NULL)
        return ss_diag_err(-ENOMEM, "source");
    uv_timer_init(lv.host.loop, &lv.timer);
    uv_timer_init(lv.host.loop, &lv.refill);
    uv_timer_init(lv.host.loop, &lv.deadline);
    uv_timer_init(lv.host.loop, &lv.idle);
    uv_signal_init(lv.host.loop, &lv.sigint);
    uv_signal_init(lv.host.loop, &lv.sigterm);
    uv_signal_init(lv.host.loop, &lv.sighup);
    lv.timer.data = lv.refill.data = lv.deadline.data = lv.idle.data = &lv;
    lv.sigint.data = lv.sigterm.data = lv.sighup.data = &lv;
    uv_signal_start(&lv.sigint, on_signal, SIGINT);
    uv_signal_start(&lv.sigterm, on_signal, SIGTERM);
    /* The terminal closed: end as on SIGTERM, so that --exec commands,
     * which are not in the terminal's reach (lib/proc), end with us. */
    uv_signal_start(&lv.sighup, on_signal, SIGHUP);
    if (cfg->max_rate > 0) {
        b->limited = 1;
        lv.rate_cap = cfg->max_rate / 10 ? cfg->max_rate / 10 : 1;
        b->budget = lv.rate_cap;
        lv.rate_last = ss_dur_now_ms();
        uv_timer_start(&lv.refill, on_refill, 100, 100);
    }
    if ((b->max_records > 0 || b->max_bytes > 0) && !b->limited) {
        b->limited = 1; /* a full batch holds records back; no rate */
        b->budget = UINT64_MAX;
    }
    b->logging = batch_logging;
    b->closing = batch_closing;
    b->logging_ctx = &lv;
    b->stats->json_extra = batch_json;
    b->stats->json_ctx = &lv;
    /* the lock before the last time is read: the run holding it writes
     * that time when it ends */
    if (cfg->state != NULL)
        locked = lock_state(cfg->state, &lockfd) == 0 ? 1 : -1;
    /* event time: a batch time never goes out twice across runs either */
    if (b->ev != NULL && locked > 0 &&
        saved_last_time(cfg->state) != SS_WAL_NO_TIME)
        ss_evtime_start_after(b->ev, saved_last_time(cfg->state));
    if (b->ev == NULL) {
        int64_t first = first_time(cfg, b);

        if (cfg->catch_up && locked >= 0 && catch_up(cfg, b, first) < 0)
            caught = -1;
        ss_batcher_open(b, first);
        arm_timer(&lv);
    } else if (cfg->evtime.idle_timeout > 0) {
        start_idle_timer(&lv);
    }
    if (cfg->duration > 0)
        uv_timer_start(&lv.deadline, on_deadline, (uint64_t)cfg->duration, 0);
    if (locked < 0 || caught < 0 || start_inputs(&lv) < 0) {
        lv.failed = 1;
        end_stream(&lv, 0);
    }
    uv_run(lv.host.loop, UV_RUN_DEFAULT);
    rc = lv.rc;
    if (rc == 0 && (lv.failed || lv.host.troubles > 0))
        rc = SS_REPORTED;
    /* a --catch-up refused sent nothing: the record stays, for a run
     * with a longer one to fill the downtime */
    if (locked > 0 && lv.ended && (b->ev == NULL || b->batches > 0) &&
        caught == 0)
        save_last_time(cfg->state, b->time); /* event time: the last sent */
    /* The open batch went out whole at the end (end_stream() closes it
     * unless the stream failed), and no record tells the next run. */
    if (cfg->wal == NULL && cfg->state == NULL && b->ev == NULL && lv.ended &&
        !lv.failed && lv.rc == 0)
        hold_until(&lv, b->time - b->interval, 2 * b->interval, b->time);
    close_signals(&lv);
    free_recvs(&lv);
    b->stats->json_extra = NULL; /* lv is gone */
    b->closing = NULL;
    if (lockfd >= 0)
        close(lockfd); /* the ledger and the last time are written */
    uv_loop_close(lv.host.loop);
    free(lv.host.chunk);
    ss_recv_host_release(&lv.host);
    return rc;
}

/* How far back in batch time a restart may send batches again, for the
 * frames' replay_ms (man/sstream.5): --max-uncommitted batches; with no
 * bound, or one past what the field holds, UINT32_MAX. */
static uint32_t
replay_span(const struct ss_source_config *cfg)
{
    uint64_t n = cfg->max_uncommitted;

    if (n == 0 || n > UINT32_MAX / (uint64_t)cfg->interval)
        return UINT32_MAX;
    return (uint32_t)(n * (uint64_t)cfg->interval);
}

/* --wal: check the log, send again what the sink has not committed, and
 * route every new batch through the log. */
static int
start_wal(const struct ss_source_config *cfg, struct ss_wal *wal,
          struct ss_batcher *b)
{
    int rc;

    if ((rc = ss_wal_open(wal, cfg->wal, cfg->wal_segment)) < 0)
        return rc;
    if (wal->interval != 0 && wal->interval != cfg->interval)
        return ss_diag("--wal: '%s' holds batches of %" PRIu32 "ms, not "
                       "--batch %" PRId64 "ms",
                       cfg->wal, wal->interval, cfg->interval);
    wal->interval_ms = cfg->interval;
    wal->max_uncommitted = cfg->max_uncommitted;
    b->w.replay_ms = replay_span(cfg);
    if ((rc = ss_wal_replay(wal, STDOUT_FILENO)) < 0)
        return rc;
    if (wal->replayed > 0)
        ss_diag("--wal: %" PRIu64 " uncommitted batch%s (%" PRId64
                " to %" PRId64 ") sent again from the log",
                wal->replayed, wal->replayed == 1 ? "" : "es",
                wal->replay_first, wal->replay_last);
    ss_batcher_use_wal(b, wal);
    return 0;
}

int
ss_source_run(const struct ss_source_config *cfg, struct ss_stage *sg)
{
    struct ss_batcher b;
    struct ss_wal wal;
    /* static: the --stats summary, printed after the run, reads its
     * late count */
    static struct ss_evtime ev;
    int rc;

    if (ss_stage_open(sg, "source", cfg->rejects, &cfg->stats) < 0)
        return SS_REPORTED;
    sg->rej.delim = cfg->delim;
    ss_batcher_init(&b, STDOUT_FILENO, cfg->interval, &sg->rej);
    b.keyed = cfg->kafka.key;
    b.max_records = cfg->max_batch_records;
    b.max_bytes = cfg->max_batch_bytes;
    b.stats = &sg->stats;
    sg->stats.w = &b.w;
    sg->stats.no_trail = 1;
    b.fmt = cfg->format;
    b.header = cfg->header;
    if (cfg->evtime.on) {
        b.ev = &ev; /* released below, whatever init did */
        if ((rc = ss_evtime_init(&ev, &cfg->evtime, &b, !cfg->replay)) < 0)
            goto done;
        sg->stats.late = &ev.nlate;
    }
    if (cfg->wal != NULL && (rc = start_wal(cfg, &wal, &b)) != 0)
        goto done;
    /* event time reads its input again (--replay) to rebuild what the
     * log does not hold: the watermark and the open batches */
    if (b.ev != NULL && cfg->wal != NULL && wal.last != SS_WAL_NO_TIME &&
        (rc = ss_evtime_rebuild_upto(&ev, wal.last)) != 0)
        goto done;
    rc = cfg->replay ? run_replay(cfg, &b) : run_live(cfg, &b);
done:
    if (SS_UNREPORTED(rc) && rc != -EPIPE)
        rc = ss_diag_err(rc, "stdout");
    if (rc < 0 && rc != -EPIPE)
        ss_batcher_abort(&b);
    ss_batcher_release(&b);
    if (cfg->wal != NULL)
        ss_wal_close(&wal);
    if (b.ev != NULL) {
        ss_evtime_report(&ev);
        if (ss_evtime_release(&ev) < 0 && rc == 0)
            rc = SS_REPORTED;
    }
    return rc;
}
