/* stats.c - per-batch metrics, summaries and the stage trail entry.
 *
 * Times: processing is measured on the monotonic clock, delays on the
 * wall clock (closed_ms comes from the source's wall clock; stages of a
 * pipeline share a host, or clocks in step). Everything here runs once
 * per frame or per batch.
 */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "dur.h"
#include "io.h"

static struct ss_stats *usr1; /* the stats the SIGUSR1 handler reports */

/* ---- the summary: built without stdio, so that the signal handler can
 * build it too (snprintf is not async-signal-safe) ---- */

static size_t
put_s(char *p, size_t len, size_t cap, const char *s)
{
    while (*s != '\0' && len < cap)
        p[len++] = *s++;
    return len;
}

static size_t
put_u(char *p, size_t len, size_t cap, uint64_t v)
{
    char d[20];
    int n = 0;

    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0 && len < cap)
        p[len++] = d[--n];
    return len;
}

static size_t
summary(const struct ss_stats *st, char *p, size_t cap)
{
    uint64_t rejects = st->rej != NULL ? st->rej->count : 0;
    size_t n = 0;

    n = put_s(p, n, cap, ss_diag_prog());
    n = put_s(p, n, cap, ": ");
    n = put_u(p, n, cap, st->batches);
    n = put_s(p, n, cap, st->batches == 1 ? " batch, " : " batches, ");
    n = put_u(p, n, cap, st->records_in);
    n = put_s(p, n, cap,
              st->records_in == 1 ? " record in, " : " records in, ");
    n = put_u(p, n, cap, st->records_out);
    n = put_s(p, n, cap, " out, ");
    n = put_u(p, n, cap, rejects);
    n = put_s(p, n, cap, rejects == 1 ? " reject, " : " rejects, ");
    if (st->late != NULL) {
        n = put_u(p, n, cap, *st->late);
        n = put_s(p, n, cap, " late, ");
    }
    n = put_u(p, n, cap, st->skipped);
    n = put_s(p, n, cap,
              st->skipped == 1 ? " replay skipped\n" : " replays skipped\n");
    return n;
}

/* SIGUSR1: say where we are at once, whatever the stage is blocked on,
 * and go on. The totals are read as they stand; each is one aligned
 * word updated once per batch. */
static void
on_usr1(int sig)
{
    char line[256];
    int saved = errno;

    (void)sig;
    if (usr1 != NULL)
        (void)!write(STDERR_FILENO, line, summary(usr1, line, sizeof(line)));
    errno = saved;
}

static void
catch_usr1(struct ss_stats *st)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART; /* reads and writes carry on */
    sigemptyset(&sa.sa_mask);
    usr1 = st;
    sigaction(SIGUSR1, &sa, NULL);
}

int
ss_stats_open(struct ss_stats *st, const char *stage,
              const struct ss_stats_config *cfg)
{
    memset(st, 0, sizeof(*st));
    st->stage = stage;
    st->fd = -1;
    st->print = cfg->print;
    st->progress = cfg->progress;
    st->progress_tty = cfg->progress && isatty(STDERR_FILENO);
    st->file = cfg->file;
    st->b.proc_ms = st->b.keys = -1;
    if (cfg->file != NULL &&
        (st->fd = open(cfg->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                       0666)) < 0)
        return ss_diag_err(-errno, "--stats-file: cannot open '%s'", cfg->file);
    st->opened = 1;
    catch_usr1(st);
    return 0;
}

void
ss_stats_begin(struct ss_stats *st)
{
    struct ss_stats_batch *b = &st->b;

    memset(b, 0, sizeof(*b));
    b->start_ns = ss_dur_mono_ns();
    b->sched_ms = b->proc_ms = b->keys = -1;
    if (st->first_ns == 0)
        st->first_ns = b->start_ns;
    st->in_batch = 1;
}

void
ss_stats_in(struct ss_stats *st, const struct ss_frame *f)
{
    struct ss_stats_batch *b = &st->b;

    if (b->records_in == 0 && b->bytes_in == 0) {
        b->time = f->time;
        b->interval = f->interval;
    }
    if (b->closed_ms == 0 && f->closed_ms != 0) {
        b->closed_ms = f->closed_ms;
        b->sched_ms = ss_dur_now_ms() - f->closed_ms;
        if (b->sched_ms < 0)
            b->sched_ms = 0;
    }
    b->records_in += f->count;
    b->bytes_in += f->header_len + f->payload_len;
    if (st->sink && !(f->flags & SS_FRAME_MORE)) {
        b->ntrail = f->ntrail;
        b->ingest = f->ingest;
        b->ingest_interval = f->ingest_interval;
        if (f->ntrail > 0)
            memcpy(b->trail, f->trail,
                   (size_t)f->ntrail * SS_FRAME_TRAIL_ENTRY);
    }
}

void
ss_stats_source(struct ss_stats *st, int64_t time, uint32_t interval,
                int64_t closed_ms, uint64_t records, uint64_t bytes)
{
    struct ss_stats_batch *b = &st->b;

    ss_stats_begin(st);
    b->time = time;
    b->interval = interval;
    b->closed_ms = closed_ms;
    /* The source's lateness: how long after its time the batch closed
     * (a loop held up by a blocked pipe closes late). */
    b->sched_ms = closed_ms != 0 ? closed_ms - time : -1;
    if (b->sched_ms < -1)
        b->sched_ms = 0;
    b->records_in = records;
    b->bytes_in = bytes;
}

void
ss_stats_stamp(struct ss_stats *st)
{
    struct ss_stats_batch *b = &st->b;
    uint64_t busy = ss_dur_mono_ns() - b->start_ns;
    uint64_t blocked = st->w != NULL ? st->w->write_ns - st->wns : 0;

    b->proc_ms = (int64_t)((busy > blocked ? busy - blocked : 0) / 1000000);
    if (st->w != NULL && !st->no_trail) {
        ss_frame_writer_stage(st->w, st->stage,
                              b->proc_ms > UINT32_MAX ? UINT32_MAX
                                                      : (uint32_t)b->proc_ms);
        /* input without the field came from the source itself */
        ss_frame_writer_ingest(st->w, b->records_in, b->interval);
    }
}

int64_t
ss_stats_ingest_rate(const struct ss_stats_batch *b)
{
    uint64_t n = b->ingest_interval ? b->ingest : b->records_in;
    uint32_t ms = b->ingest_interval ? b->ingest_interval : b->interval;

    if (ms == 0)
        return -1;
    return (int64_t)((double)n * 1000.0 / ms + 0.5);
}

void
ss_stats_out(struct ss_stats *st, uint64_t records, uint64_t bytes)
{
    st->b.records_out += records;
    st->b.bytes_out += bytes;
}

void
ss_stats_keys(struct ss_stats *st, uint64_t keys)
{
    st->b.keys = (int64_t)keys;
}

void
ss_stats_workers(struct ss_stats *st, const uint64_t *ns, size_t n)
{
    struct ss_stats_batch *b = &st->b;

    if (n > SS_STATS_WORKERS)
        n = SS_STATS_WORKERS;
    for (size_t i = 0; i < n; i++)
        b->worker_ms[i] = (uint32_t)(ns[i] / 1000000);
    b->nworkers = (unsigned)n;
}

void
ss_stats_skip(struct ss_stats *st)
{
    st->skipped++;
}

/* "-" for an unknown value, else the number and its unit. */
static const char *
ms_text(int64_t v, char *buf, size_t n)
{
    if (v < 0)
        return "-";
    snprintf(buf, n, "%" PRId64 " ms", v);
    return buf;
}

static void
print_line(const struct ss_stats *st, int64_t e2e)
{
    const struct ss_stats_batch *b = &st->b;
    char proc[32], sched[32], end[64] = "", keys[48] = "", late[40] = "";
    char workers[280] = "";
    size_t wlen = 0;

    for (unsigned i = 0; i < b->nworkers && wlen < sizeof(workers); i++)
        wlen += (size_t)snprintf(workers + wlen, sizeof(workers) - wlen,
                                 "%s%" PRIu32, i == 0 ? ", workers " : " ",
                                 b->worker_ms[i]);
    if (b->nworkers > 0 && wlen < sizeof(workers))
        snprintf(workers + wlen, sizeof(workers) - wlen, " ms");
    if (st->sink)
        snprintf(end, sizeof(end), ", end-to-end delay %s",
                 ms_text(e2e, proc, sizeof(proc)));
    if (b->keys >= 0)
        snprintf(keys, sizeof(keys), ", state keys %" PRId64, b->keys);
    if (st->late != NULL)
        snprintf(late, sizeof(late), ", late %" PRIu64,
                 *st->late - st->late_before);
    ss_diag("batch %" PRId64 ": records %" PRIu64 " in %" PRIu64
            " out, bytes %" PRIu64 " in %" PRIu64
            " out, processing %s, scheduling delay %s%s%s%s%s",
            b->time, b->records_in, b->records_out, b->bytes_in, b->bytes_out,
            ms_text(b->proc_ms, proc, sizeof(proc)),
            ms_text(b->sched_ms, sched, sizeof(sched)), end, keys, late,
            workers);
}

static void
json_ms(struct ss_buf *l, const char *name, int64_t v)
{
    if (v < 0)
        ss_buf_printf(l, ",\"%s\":null", name);
    else
        ss_buf_printf(l, ",\"%s\":%" PRId64, name, v);
}

/* One object per batch, one write(2): stages may share the file. */
static void
write_json(struct ss_stats *st, int64_t e2e)
{
    const struct ss_stats_batch *b = &st->b;
    struct ss_buf *l = &st->line;
    int rc;

    ss_buf_reset(l);
    ss_buf_printf(l,
                  "{\"stage\":\"%s\",\"time\":%" PRId64 ",\"wall_ms\":%" PRId64
                  ",\"records_in\":%" PRIu64 ",\"records_out\":%" PRIu64
                  ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64,
                  st->stage, b->time, ss_dur_now_ms(), b->records_in,
                  b->records_out, b->bytes_in, b->bytes_out);
    json_ms(l, "processing_ms", b->proc_ms);
    json_ms(l, "scheduling_delay_ms", b->sched_ms);
    if (st->sink)
        json_ms(l, "end_to_end_ms", e2e);
    if (b->keys >= 0)
        ss_buf_printf(l, ",\"state_keys\":%" PRId64, b->keys);
    if (st->late != NULL)
        ss_buf_printf(l, ",\"late\":%" PRIu64, *st->late - st->late_before);
    for (unsigned i = 0; i < b->nworkers; i++)
        ss_buf_printf(l, "%s%" PRIu32, i == 0 ? ",\"worker_ms\":[" : ",",
                      b->worker_ms[i]);
    if (b->nworkers > 0)
        ss_buf_printf(l, "]");
    if (st->json_extra != NULL)
        st->json_extra(st->json_ctx, l);
    ss_buf_printf(l, "}\n");
    if ((rc = ss_io_write_all(st->fd, l->data, l->len)) < 0) {
        ss_diag_err(rc, "--stats-file: cannot write '%s'", st->file);
        close(st->fd);
        st->fd = -1;
        st->failed = 1;
    }
}

/* The sink: the slowest stage of this batch, from the trail and its own
 * time. Stages run side by side, so the pipeline keeps up as long as
 * each one alone fits in the interval; the sum may well exceed it. */
static void
check_behind(struct ss_stats *st)
{
    const struct ss_stats_batch *b = &st->b;
    struct ss_frame f = {.trail = b->trail, .ntrail = b->ntrail};
    struct ss_frame_stage slow = {.ms = (uint32_t)b->proc_ms}, e;
    unsigned at = b->ntrail; /* the sink itself */

    strcpy(slow.name, st->stage);
    for (unsigned i = 0; i < b->ntrail; i++) {
        ss_frame_trail_get(&f, i, &e);
        if (e.ms > slow.ms) {
            slow = e;
            at = i;
        }
    }
    if (b->interval == 0 || slow.ms <= b->interval) {
        st->behind = 0;
        return;
    }
    if (++st->behind < SS_STATS_BEHIND || st->warned)
        return;
    st->warned = 1;
    ss_diag("falling behind: batches take longer than the %" PRIu32
            " ms interval (%u in a row); slowest stage: #%u %s, %" PRIu32
            " ms for batch %" PRId64,
            b->interval, st->behind, at + 1, slow.name, slow.ms, b->time);
}

/* --progress: the rate at which the source reads (the ingest field),
 * not what reaches this stage, which a count or a reduce makes small.
 * On a terminal one line redrawn in place, at most ten times a second;
 * elsewhere (a log) a plain line per batch. */
static void
draw_progress(struct ss_stats *st, int64_t e2e)
{
    uint64_t now = ss_dur_mono_ns();
    int64_t r = ss_stats_ingest_rate(&st->b);
    char rate[32], delay[32], line[200];
    int n;

    if (st->progress_tty && st->drawn && now - st->drawn_ns < 100000000u)
        return;
    st->drawn = 1;
    st->drawn_ns = now;
    if (r >= 0)
        snprintf(rate, sizeof(rate), "%" PRId64, r);
    else
        strcpy(rate, "-");
    n = snprintf(line, sizeof(line),
                 "%s%s: batch %" PRId64 ": %" PRIu64
                 " batch%s, ingest %s records/s, delay %s%s",
                 st->progress_tty ? "\r" : "", ss_diag_prog(), st->b.time,
                 st->batches, st->batches == 1 ? "" : "es", rate,
                 ms_text(e2e >= 0 ? e2e : st->b.sched_ms, delay, sizeof(delay)),
                 st->progress_tty ? "\033[K" : "\n");
    if (n > 0 &&
        ss_io_write_all(STDERR_FILENO, line,
                        (size_t)n < sizeof(line) ? (size_t)n
                                                 : sizeof(line) - 1) < 0)
        st->progress = 0;
}

void
ss_stats_end(struct ss_stats *st)
{
    struct ss_stats_batch *b = &st->b;
    int64_t e2e = -1;

    if (!st->in_batch)
        return;
    st->in_batch = 0;
    if (b->proc_ms < 0) {
        uint64_t busy = ss_dur_mono_ns() - b->start_ns;

        b->proc_ms = (int64_t)(busy / 1000000);
    }
    if (st->w != NULL) {
        b->records_out = st->w->records - st->wrec;
        b->bytes_out = st->w->bytes - st->wbytes;
        st->wrec = st->w->records;
        st->wbytes = st->w->bytes;
        st->wns = st->w->write_ns;
    }
    if (st->sink && b->closed_ms != 0 &&
        (e2e = ss_dur_now_ms() - b->closed_ms) < 0)
        e2e = 0;
    st->batches++;
    st->records_in += b->records_in;
    st->records_out += b->records_out;
    st->bytes_in += b->bytes_in;
    st->bytes_out += b->bytes_out;
    if (st->print && st->drawn && st->progress_tty) /* a line of its own */
        (void)ss_io_write_all(STDERR_FILENO, "\r\033[K", 4);
    if (st->print)
        print_line(st, e2e);
    if (st->fd >= 0)
        write_json(st, e2e);
    if (st->late != NULL)
        st->late_before = *st->late;
    if (st->sink && (st->print || st->fd >= 0 || st->progress))
        check_behind(st);
    if (st->progress)
        draw_progress(st, e2e);
}

int
ss_stats_close(struct ss_stats *st)
{
    char line[256];
    int rc = st->failed ? SS_REPORTED : 0;

    if (!st->opened)
        return 0;
    st->opened = 0;
    if (usr1 == st)
        usr1 = NULL;
    /* stderr failing here leaves no one to tell: the results are ignored */
    if (st->drawn && st->progress_tty)
        (void)ss_io_write_all(STDERR_FILENO, "\r\033[K", 4);
    if (st->print)
        (void)ss_io_write_all(STDERR_FILENO, line,
                              summary(st, line, sizeof(line)));
    if (st->fd >= 0 && close(st->fd) < 0 && rc == 0)
        rc = ss_diag_err(-errno, "--stats-file: cannot write '%s'", st->file);
    st->fd = -1;
    ss_buf_release(&st->line);
    return rc;
}
