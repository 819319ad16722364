/* ckpt.h - durable keyed state: checkpoints for sstream-state and
 * sstream-window (man/sstream-state.1, CHECKPOINT FORMAT).
 *
 * A checkpoint directory holds generations. Generation G is a snapshot
 * file G.snap (every key's value-bytes at one batch time, the options that
 * shaped the state, and the engine's per-batch blobs) and an append-only
 * log G.log of deltas written after it: one entry per batch, holding the
 * keys that batch changed (value-bytes, or deleted) and the batch's blobs.
 * So a batch costs what it changed, not the whole state; when the log has
 * outgrown its snapshot (or --checkpoint-interval of batch time passed) the
 * engine writes a new snapshot, which starts generation G + 1. The newest
 * SS_CKPT_KEEP generations are kept, older ones removed.
 *
 * Atomicity: a snapshot, and a log's header, are written as durable files
 * (lib/io: a temporary file made exclusively, fsync()ed, renamed into place,
 * the directory fsync()ed); a log entry is appended whole to the log file
 * so written, never reopened by name, and fdatasync()ed, and carries its
 * own checksum, so a torn last entry (a crash during the write) is
 * recognised and ignored. Loading takes the
 * newest snapshot whose checksum holds (a corrupt one is reported and the
 * one before it used), then applies the logs from that generation on, entry
 * by entry, as long as each entry is whole and continues the time line.
 *
 * Falling back is exact: the log of generation G + 1 begins with the delta
 * of the batch its snapshot was taken at, and its header holds the time
 * before that batch, where generation G's log ends. So a corrupt G+1.snap
 * costs nothing: G.snap, G.log, then all of G+1.log give the same state.
 * What cannot be rebuilt (a corrupt log entry, a corrupt snapshot whose
 * log is gone too) leaves the state older than the directory held: 'behind'
 * is set, and ss_ckpt_check_resume() lets the engine go on only when the
 * input brings the lost batches again. A torn last entry is no loss (the
 * batch's output was never sent: engines save before they emit) and is not
 * 'behind'; a complete entry that fails its checksum, or a bad one with
 * valid entries after it, is corruption.
 *
 * ckpt knows nothing of what the bytes mean: keys and values are opaque,
 * and so are blobs (sstream-state keeps there what it needs to re-emit a
 * replayed batch's output exactly).
 *
 * Owns: struct ss_ckpt belongs to the caller; what it points to (the
 * directory name copy, the stored options, write buffers, descriptors)
 * belongs to it until ss_ckpt_close(). Bytes handed to a loader callback
 * are views valid only during the call. Bytes passed to the put/del/blob
 * writers are copied.
 */
#ifndef SS_CKPT_H
#define SS_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SS_CKPT_MAGIC      "SSCK"
#define SS_CKPT_LOG_MAGIC  "SSCD"
#define SS_CKPT_VERSION    2
#define SS_CKPT_KEEP       3 /* generations kept */
#define SS_CKPT_HEADER_LEN 40
#define SS_CKPT_ENTRY_LEN  24 /* a log entry's header */
#define SS_CKPT_NO_TIME    INT64_MIN

/* One option that shaped the state, e.g. {"update", "sum"}: a checkpoint
 * made with other values is refused, naming the option and its old value.
 */
struct ss_ckpt_opt {
    const char *name;
    const char *value;
};

/* What loading hands over, in order: the snapshot's records and blobs,
 * then each log entry's records and blobs. put() sets a key's value
 * (a new key goes after the others, so insertion order survives), del()
 * forgets a key, blob() passes one per-batch blob with its batch time.
 * A callback returns 0, or a negative errno code that stops the load. */
struct ss_ckpt_loader {
    void *ctx;
    int (*put)(void *ctx, const char *k, size_t klen, const char *v,
               size_t vlen);
    int (*del)(void *ctx, const char *k, size_t klen);
    int (*blob)(void *ctx, int64_t time, const char *p, size_t n);
};

struct ss_ckpt {
    char *dir;
    int dirfd;
    int readonly;
    int64_t time;     /* batch time the durable state reflects */
    uint64_t gen;     /* generation being appended to; 0: none yet */
    uint64_t max_gen; /* highest generation seen on disk */
    int logfd;        /* -1 until a snapshot opens a log */
    uint64_t snap_bytes, log_bytes;
    int64_t snap_time;   /* batch time of the newest snapshot */
    int64_t interval_ms; /* 0: snapshot when the log outgrows it */
    struct ss_buf opts;  /* stored options: name\0value\0 ... */
    size_t nopts;
    struct ss_buf w;          /* the file or entry being built */
    size_t nrec, nblob;       /* counts in the snapshot being built */
    size_t count_at, blob_at; /* where the snapshot's counts go */
    uint64_t written;         /* bytes written, for benchmarks */
    struct ss_buf d;          /* the delta entry being built */
    /* Set by ss_ckpt_open() when a corrupt file made it restore an older
     * state than the directory held: 'damaged' names the first such file
     * met (malloc'd), 'cut_at' is, for a log, the length of its valid
     * part (0 for a snapshot). */
    int behind;
    char *damaged;
    uint64_t cut_at;
};

/* Open checkpoint directory 'dir' (created with its parents if missing,
 * unless 'readonly') and load its newest valid state through 'ld'. With opts !=
 * NULL, the stored options must equal these (names and values), else the
 * mismatch is reported and SS_USAGE returned with nothing written. Returns
 * 1 when state was loaded, 0 when there was none, SS_USAGE for a checkpoint
 * this run cannot use (other options, unknown format version: reported),
 * SS_REPORTED when the folder or a file failed, or a loader callback's
 * negative errno code, unreported. 'readonly' (for dumps)
 * creates, removes and writes nothing; ss_ckpt_close() either way. */
int ss_ckpt_open(struct ss_ckpt *c, const char *dir,
                 const struct ss_ckpt_opt *opts, size_t nopts,
                 const struct ss_ckpt_loader *ld, int readonly);
/* The input resumes at batch 'time' of 'interval' ms, after ss_ckpt_open()
 * restored the state to c->time. 0 when that loses nothing (c->behind is
 * clear, or the batches after c->time come again: time <= c->time +
 * interval); else SS_REPORTED after saying what was lost and what to do.
 * Engines call it on their first batch. */
int ss_ckpt_check_resume(const struct ss_ckpt *c, int64_t time,
                         int64_t interval);
/* The i-th stored option of the loaded checkpoint, or NULL past the end. */
const char *ss_ckpt_opt_name(const struct ss_ckpt *c, size_t i,
                             const char **value);

/* Whether the batch at 'time' should be saved as a full snapshot rather
 * than a delta: no log open yet (first batch, or after a restart), the log
 * larger than its snapshot, or interval_ms of batch time passed. */
int ss_ckpt_want_snapshot(const struct ss_ckpt *c, int64_t time);

/* A snapshot: begin, put every key (in the order they should load back),
 * then (after the last put) add the blobs to keep, commit. It starts a new
 * generation and its log; older generations past SS_CKPT_KEEP go. The options
 * given to ss_ckpt_open() are stored in it. commit: 0, or SS_REPORTED after
 * reporting the file that failed. Build the batch's delta first (delta_begin
 * ... delta_blob, no delta_commit): the new log starts with it, so that the
 * generation before reaches this batch too (see the top of lib/ckpt.c). */
int ss_ckpt_snap_begin(struct ss_ckpt *c, int64_t time,
                       const struct ss_ckpt_opt *opts, size_t nopts);
int ss_ckpt_snap_put(struct ss_ckpt *c, const char *k, size_t klen,
                     const char *v, size_t vlen);
int ss_ckpt_snap_blob(struct ss_ckpt *c, int64_t time, const void *p, size_t n);
/* A blob of two parts, h[0..hn) then p[0..n), stored as one (an engine's
 * fixed header and its bytes, without the copy joining them would take). */
int ss_ckpt_snap_blob2(struct ss_ckpt *c, int64_t time, const void *h,
                       size_t hn, const void *p, size_t n);
int ss_ckpt_snap_commit(struct ss_ckpt *c);

/* A delta for the batch at 'time' (after the last one): the keys it
 * changed, the keys it deleted, its blobs; commit appends it durably (0, or
 * SS_REPORTED after reporting the file that failed), or a snapshot of the same
 * batch takes it into its new log. */
void ss_ckpt_delta_begin(struct ss_ckpt *c, int64_t time);
int ss_ckpt_delta_put(struct ss_ckpt *c, const char *k, size_t klen,
                      const char *v, size_t vlen);
int ss_ckpt_delta_del(struct ss_ckpt *c, const char *k, size_t klen);
int ss_ckpt_delta_blob(struct ss_ckpt *c, const void *p, size_t n);
int ss_ckpt_delta_blob2(struct ss_ckpt *c, const void *h, size_t hn,
                        const void *p, size_t n);
int ss_ckpt_delta_commit(struct ss_ckpt *c);

void ss_ckpt_close(struct ss_ckpt *c);

/* Byte strings as the files hold them (a varint length, then the bytes),
 * for engines that build blobs: append to b / take the next one from r,
 * a bounded reader over p[0..end) whose 'bad' is set, and NULL returned,
 * when the bytes run out. */
struct ss_ckpt_rd {
    const char *p, *end;
    int bad;
};

int ss_ckpt_put_bytes(struct ss_buf *b, const void *p, size_t n);
const char *ss_ckpt_get_bytes(struct ss_ckpt_rd *r, size_t *n);

#endif
