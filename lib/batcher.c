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
    ss_frame_writer_begin(&b->w, time, (uint32_t)b->interval,
                          b->keyed ? SS_FRAME_KEYED : 0);
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
ss_batcher_spent(const struct ss_batcher *b)
{
    return b->limited && (b->budget == 0 || ss_batcher_full(b));
}

int
ss_batcher_add_kv(struct ss_batcher *b, const char *key, size_t klen,
                  const char *p, size_t n)
{
    int rc;

    if (!b->keyed || key == NULL) {
        key = b->keyed ? "" : NULL;
        klen = 0;
    }
    b->records++;
    b->batch_records++;
    b->batch_bytes += klen + n;
    if (b->limited && b->budget > 0)
        b->budget--;
    rc = ss_frame_writer_add(&b->w, key, klen, p, n);
    return rc < 0 ? write_failed(b, rc) : 0;
}

int
ss_batcher_add(struct ss_batcher *b, const char *p, size_t n)
{
    return ss_batcher_add_kv(b, NULL, 0, p, n);
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
    if (b->closing != NULL) {
        b->closing(b->logging_ctx, &b->w);
        /* the offsets field comes after the ingest field */
        if (b->w.offsets_len > 0)
            ss_frame_writer_ingest(&b->w, b->batch_records,
                                   (uint32_t)b->interval);
    }
    /* The receivers' positions go beside the log before the batch's last
     * frame goes into it: once that frame is in the file, a kill -9 (page
     * cache kept) leaves the batch whole in the log, sync or no sync. */
    if (b->wal != NULL && b->wal_rc == 0 && b->logging != NULL)
        b->logging(b->logging_ctx, b->time);
    if ((rc = ss_frame_writer_end(&b->w)) < 0)
        rc = write_failed(b, rc);
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
