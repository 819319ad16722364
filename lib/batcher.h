/* batcher.h - records into timed batches (frames), for sstream-source.
 * lib/splitter cuts byte streams into the records added here.
 *
 * Owns: the batcher owns its frame writer. Records added are copied into
 * the batch, never kept.
 */
#ifndef SS_BATCHER_H
#define SS_BATCHER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "frame.h"
#include "rejects.h"
#include "stats.h"

struct ss_evtime;
struct ss_wal;

struct ss_batcher {
    struct ss_frame_writer w;
    struct ss_rejects *rej;
    int64_t interval;
    int64_t time; /* time of the open batch */
    int keyed;    /* records carry keys (SS_FRAME_KEYED); set before open */
    int open;
    int ended; /* end-of-stream sent, clean or aborted */
    uint64_t batches, records;
    uint64_t batch_records; /* records in the open batch */
    int limited;            /* --max-rate: records wait for 'budget' */
    uint64_t budget;        /* records the splitters may still add */
    uint64_t batch_bytes;   /* record bytes in the open batch */
    /* --max-batch-records, --max-batch-bytes (0: none): a full batch
     * takes no more records until the next one opens; in force while
     * 'limited' is set, as the budget is. */
    uint64_t max_records, max_bytes;
    struct ss_stats *stats; /* --stats, or NULL */
    /* --wal: each batch is written to the log, synced, then copied to
     * out_fd (lib/wal.h); NULL: straight to the writer's fd. */
    struct ss_wal *wal;
    int out_fd;
    int wal_rc; /* the log could not take the open batch (reported) */
    /* --wal: called with the batch's time after it is written to the log
     * and before it is synced (the receivers' ledgers); NULL none. */
    void (*logging)(void *ctx, int64_t time);
    void *logging_ctx;
    /* Called as each batch closes, before its last frame is written, to
     * set the receivers' header fields (the Kafka offsets); NULL none.
     * When it sets the offsets field, the ingest field goes with it. */
    void (*closing)(void *ctx, struct ss_frame_writer *w);
    /* --format, --event-time: each line the splitters cut is read as a
     * row (lib/fields.h) and sent on as its JSON object; with 'ev' it
     * goes to the batch of its event time (lib/evtime.h), not the open
     * one. 'fmt' 0 (lines) and 'ev' NULL: records as they come. */
    int fmt;
    const char *header; /* --header: CSV/TSV names; no header row read */
    struct ss_evtime *ev;
};

void ss_batcher_init(struct ss_batcher *b, int fd, int64_t interval,
                     struct ss_rejects *rej);
/* Open the batch at 'time' (the end of its interval). */
void ss_batcher_open(struct ss_batcher *b, int64_t time);
int ss_batcher_add(struct ss_batcher *b, const char *p, size_t n);
/* Add a record with a key: in a keyed batcher a NULL key is the empty
 * key; a keyless batcher drops the key. */
int ss_batcher_add_kv(struct ss_batcher *b, const char *key, size_t klen,
                      const char *p, size_t n);
/* Add the short records of p[0..n) that end with 'delim' many at a time
 * (ss_frame_writer_add_lines; 'crlf' drops a '\r' before the delimiter):
 * the bytes used, or a negative errno code. Not for a batcher that is
 * 'limited'. */
ssize_t ss_batcher_add_lines(struct ss_batcher *b, const char *p, size_t n,
                             char delim, int crlf, size_t max);
/* The open batch holds --max-batch-records or --max-batch-bytes. */
int ss_batcher_full(const struct ss_batcher *b);
/* No room for another record now: the --max-rate budget is spent or the
 * batch is full, while the batcher is 'limited'. */
int ss_batcher_spent(const struct ss_batcher *b);
/* Send the open batch, stamped as closed at wall time closed_ms. */
int ss_batcher_close(struct ss_batcher *b, int64_t closed_ms);
/* Send end-of-stream, timed as the last batch. */
int ss_batcher_finish(struct ss_batcher *b);
/* The source failed: drop the open batch (from the log too) and end the
 * stream as aborted (ss_frame_writer_abort()), so that the stages after
 * it fail and write nothing of it. Nothing when the stream has ended. */
int ss_batcher_abort(struct ss_batcher *b);
void ss_batcher_release(struct ss_batcher *b);
/* Send every batch through the write-ahead log 'wal' (opened, replayed)
 * before it goes to the writer's fd. */
void ss_batcher_use_wal(struct ss_batcher *b, struct ss_wal *wal);

/* The batch time that holds a record received at wall time 'now': the
 * first multiple of 'interval' at or after it, so (T - interval, T]. */
int64_t ss_batcher_align(int64_t now, int64_t interval);

#endif
