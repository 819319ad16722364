/* batcher.c - records into timed batches. */
#include "batcher.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "dur.h"
#include "wal.h"

void
ss_batcher_init(struct ss_batcher *b, int fd, int64_t interval,
                struct ss_rejects *rej)
{
    memset(b, 0, sizeof(*b));
    ss_frame_writer_init(&b->w, fd);
    b->interval = interval;
    b->rej = rej;
}

int64_t
ss_batcher_align(int64_t now, int64_t interval)
{
    int64_t t = now - now % interval;

    return t == now ? t : t + interval;
}

void
ss_batcher_open(struct ss_batcher *b, int64_t time)
{
    ss_frame_writer_begin(&b->w, time, (uint32_t)b->interval, 0);
    b->time = time;
    b->open = 1;
    b->batch_records = 0;
    b->batch_bytes = 0;
    if (b->wal != NULL) {
        int fd = ss_wal_begin(b->wal);

        b->wal_rc = fd < 0 ? fd : 0;
        b->w.fd = fd; /* -1: the batch's writes fail, nothing is sent */
    }
}

/* Writing the open batch failed: under --wal its frames go to the log,
 * whose segment is the file to name (stdout only gets them from there). */
static int
write_failed(struct ss_batcher *b, int rc)
{
    if (b->wal == NULL || rc == -ENOMEM || rc == SS_REPORTED)
        return rc;
    if (b->wal_rc < 0)
        return SS_REPORTED; /* no segment to write to */
    return ss_wal_write_failed(b->wal, rc);
}

int
ss_batcher_full(const struct ss_batcher *b)
{
    return (b->max_records > 0 && b->batch_records >= b->max_records) ||
           (b->max_bytes > 0 && b->batch_bytes >= b->max_bytes);
}

int
ss_batcher_add(struct ss_batcher *b, const char *p, size_t n)
{
    int rc;

    b->records++;
    b->batch_records++;
    b->batch_bytes += n;
    if (b->limited && b->budget > 0)
        b->budget--;
    rc = ss_frame_writer_add(&b->w, NULL, 0, p, n);
    return rc < 0 ? write_failed(b, rc) : 0;
}

ssize_t
ss_batcher_add_lines(struct ss_batcher *b, const char *p, size_t n, char delim,
                     int crlf, size_t max)
{
    size_t k, bytes;
    ssize_t used =
        ss_frame_writer_add_lines(&b->w, p, n, delim, crlf, max, &k, &bytes);

    if (used > 0) {
        b->records += k;
        b->batch_records += k;
        b->batch_bytes += bytes;
    }
    return used < 0 ? write_failed(b, (int)used) : used;
}

int
ss_batcher_close(struct ss_batcher *b, int64_t closed_ms)
{
    int rc;

    b->w.closed_ms = closed_ms;
    b->open = 0;
    b->batches++;
    if (b->stats != NULL) {
        ss_stats_source(b->stats, b->time, (uint32_t)b->interval, closed_ms,
                        b->batch_records, b->batch_bytes);
        ss_stats_stamp(b->stats);
    }
    if ((rc = ss_frame_writer_end(&b->w)) < 0)
        rc = write_failed(b, rc);
    if (b->wal != NULL && rc == 0 && b->wal_rc == 0 && b->logging != NULL)
        b->logging(b->logging_ctx, b->time);
    if (b->wal != NULL && rc == 0)
        rc = b->wal_rc < 0 ? b->wal_rc : ss_wal_end(b->wal, b->time, b->out_fd);
    else if (b->wal != NULL && b->wal_rc < 0)
        rc = SS_REPORTED;
    if (b->stats != NULL && rc == 0)
        ss_stats_end(b->stats);
    if (b->rej != NULL && rc == 0)
        rc = ss_rejects_flush(b->rej);
    return rc;
}

void
ss_batcher_use_wal(struct ss_batcher *b, struct ss_wal *wal)
{
    b->wal = wal;
    b->out_fd = b->w.fd;
}

int
ss_batcher_finish(struct ss_batcher *b)
{
    if (b->wal != NULL)
        b->w.fd = b->out_fd; /* end-of-stream is not logged */
    b->ended = 1;
    return ss_frame_writer_eos(&b->w, b->time, (uint32_t)b->interval);
}

int
ss_batcher_abort(struct ss_batcher *b)
{
    if (b->ended)
        return 0;
    b->ended = 1;
    if (b->wal != NULL) {
        if (b->open)
            ss_wal_drop(b->wal);
        b->w.fd = b->out_fd;
    }
    b->open = 0;
    return ss_frame_writer_abort(&b->w);
}

void
ss_batcher_release(struct ss_batcher *b)
{
    ss_frame_writer_release(&b->w);
}

void
ss_splitter_init(struct ss_splitter *s, struct ss_batcher *b, const char *name,
                 char delim, size_t max, size_t fixed, int keep_cr)
{
    memset(s, 0, sizeof(*s));
    s->b = b;
    s->name = name;
    s->delim = delim;
    s->max = max;
    s->fixed = fixed;
    s->crlf = delim == '\n' && fixed == 0 && !keep_cr;
}

/* With crlf, a record that ends in '\r' (the line ended with "\r\n", or
 * the input ended after a '\r'): 1 when the record made of the partial
 * and p[0..n) does. */
static size_t
ends_cr(const struct ss_splitter *s, const char *p, size_t n)
{
    if (!s->crlf)
        return 0;
    if (n > 0)
        return p[n - 1] == '\r';
    return s->partial.len > 0 && s->partial.data[s->partial.len - 1] == '\r';
}

/* An over-long record goes to the rejects as it arrives, so that memory
 * stays bounded by --max-record-bytes however long the line is. */
static void
reject_part(struct ss_splitter *s, const char *p, size_t n, int last)
{
    if (!s->overlong) {
        s->overlong = 1;
        ss_diag_rec(s->b->time, s->b->batch_records + 1,
                    "%s: record longer than --max-record-bytes (%zu)", s->name,
                    s->max);
        ss_rejects_put_part(s->b->rej, s->partial.data, s->partial.len, 0);
        ss_buf_reset(&s->partial);
    }
    ss_rejects_put_part(s->b->rej, p, n, last);
    if (last) {
        s->overlong = 0;
        s->b->batch_records++;
    }
}

/* No budget left for another record under --max-rate, or the batch is
 * full (--max-batch-records, --max-batch-bytes). */
static int
spent(const struct ss_splitter *s)
{
    return s->b->limited && (s->b->budget == 0 || ss_batcher_full(s->b));
}

static ssize_t
feed_fixed(struct ss_splitter *s, const char *p, size_t n)
{
    const char *start = p;
    int rc;

    while (n > 0 && !spent(s)) {
        size_t take = s->fixed - s->partial.len;

        if (s->partial.len == 0 && n >= s->fixed) {
            if ((rc = ss_batcher_add(s->b, p, s->fixed)) < 0)
                return rc;
            p += s->fixed;
            n -= s->fixed;
            continue;
        }
        if (take > n)
            take = n;
        if ((rc = ss_buf_append(&s->partial, p, take)) < 0)
            return rc;
        p += take;
        n -= take;
        if (s->partial.len == s->fixed) {
            rc = ss_batcher_add(s->b, s->partial.data, s->partial.len);
            ss_buf_reset(&s->partial);
            if (rc < 0)
                return rc;
        }
    }
    return p - start;
}

/* The record that started in an earlier chunk ends at p[n-1]. A '\r'
 * dropped (crlf) does not count against --max-record-bytes; a reject
 * keeps it, as it keeps every byte it was sent. */
static int
finish_partial(struct ss_splitter *s, const char *p, size_t n)
{
    size_t cr = ends_cr(s, p, n);
    int rc;

    if (s->overlong || s->partial.len + n - cr > s->max) {
        reject_part(s, p, n, 1);
        return 0;
    }
    if (cr && n > 0)
        n--;
    else if (cr)
        s->partial.len--;
    if (s->partial.len == 0)
        return ss_batcher_add(s->b, p, n);
    if ((rc = ss_buf_append(&s->partial, p, n)) < 0)
        return rc;
    rc = ss_batcher_add(s->b, s->partial.data, s->partial.len);
    ss_buf_reset(&s->partial);
    return rc;
}

ssize_t
ss_splitter_feed_some(struct ss_splitter *s, const char *p, size_t n)
{
    const char *start = p, *end = p + n, *nl;
    int rc;

    if (s->fixed > 0)
        return feed_fixed(s, p, n);
    for (;;) {
        /* Runs of short records go in many at a time; the one that stops
         * a run (long, cut by the chunk, over a limit) comes here. */
        if (s->partial.len == 0 && !s->overlong && !s->b->limited) {
            ssize_t used = ss_batcher_add_lines(s->b, p, (size_t)(end - p),
                                                s->delim, s->crlf, s->max);

            if (used < 0)
                return used;
            p += used;
        }
        if ((nl = memchr(p, s->delim, (size_t)(end - p))) == NULL)
            break;
        if (spent(s))
            return p - start;
        if ((rc = finish_partial(s, p, (size_t)(nl - p))) < 0)
            return rc;
        p = nl + 1;
    }
    if (p == end)
        return p - start;
    /* A '\r' at the end may be the line's end, not one byte too many. */
    if (s->overlong ||
        s->partial.len + (size_t)(end - p) - ends_cr(s, p, (size_t)(end - p)) >
            s->max) {
        reject_part(s, p, (size_t)(end - p), 0);
        return end - start;
    }
    if ((rc = ss_buf_append(&s->partial, p, (size_t)(end - p))) < 0)
        return rc;
    return end - start;
}

int
ss_splitter_feed(struct ss_splitter *s, const char *p, size_t n)
{
    ssize_t used = ss_splitter_feed_some(s, p, n);

    return used < 0 ? (int)used : 0;
}

int
ss_splitter_eof(struct ss_splitter *s)
{
    int rc = 0;

    if (s->overlong) {
        reject_part(s, "", 0, 1);
    } else if (s->partial.len > 0 && s->fixed > 0) {
        struct ss_rec r = {NULL, 0, s->partial.data, s->partial.len};

        ss_rejects_record(s->b->rej, s->b->time, s->b->batch_records + 1, &r,
                          "%s: %zu trailing bytes, short of --record-bytes %zu",
                          s->name, s->partial.len, s->fixed);
        s->b->batch_records++;
    } else if (s->partial.len > 0) {
        rc = ss_batcher_add(s->b, s->partial.data,
                            s->partial.len - ends_cr(s, "", 0));
    }
    ss_buf_reset(&s->partial);
    return rc;
}

void
ss_splitter_release(struct ss_splitter *s)
{
    ss_buf_release(&s->partial);
}
