/* stats.h - per-batch metrics of a stage, as Spark's Streaming tab shows
 * them: records and bytes in and out, processing time, scheduling delay,
 * state size; the summary at exit and on SIGUSR1 (as dd(1) answers
 * SIGINFO); and the stage's entry in the frames' stage trail
 * (man/sstream.5), from which the sink names the slowest stage.
 *
 * Counting is per frame and per batch, never per record: the hot loops
 * of the stages stay as they are.
 *
 * Owns: the --stats-file descriptor and a line buffer until
 * ss_stats_close(). ss_stats_open() points the SIGUSR1 handler at the
 * struct: it must live (and stay where it is) until ss_stats_close().
 */
#ifndef SS_STATS_H
#define SS_STATS_H

#include <stdint.h>

#include "buf.h"
#include "frame.h"
#include "rejects.h"

struct ss_stats_config {
    int print;        /* --stats: a line per batch and the summary */
    const char *file; /* --stats-file FILE: a JSON object per batch */
    int progress;     /* --progress: the ingest rate, per batch */
};

/* Falling behind: this many batches in a row whose slowest stage took
 * longer than the batch interval. */
#define SS_STATS_BEHIND 3

/* Most workers whose times a batch shows (--parallel). */
#define SS_STATS_WORKERS 64

struct ss_stats_batch {
    int64_t time;
    uint32_t interval;
    int64_t closed_ms; /* from the source; 0 unknown */
    int64_t sched_ms;  /* -1 unknown */
    uint64_t start_ns; /* monotonic, when the batch began here */
    uint64_t records_in, bytes_in, records_out, bytes_out;
    int64_t proc_ms;   /* -1 until stamped */
    int64_t keys;      /* state keys; -1 none */
    unsigned nworkers; /* --parallel: worker_ms[0..nworkers) set */
    uint32_t worker_ms[SS_STATS_WORKERS];
    unsigned ntrail; /* the sink keeps the trail of the batch */
    char trail[SS_FRAME_TRAIL_MAX * SS_FRAME_TRAIL_ENTRY];
    /* The sink: the batch's ingest field; ingest_interval 0 when it had
     * none (the stage before is the source, or knows no trail). */
    uint64_t ingest;
    uint32_t ingest_interval;
};

struct ss_stats {
    const char *stage; /* "map": the trail name and the JSON "stage" */
    int opened;        /* ss_stats_open() succeeded */
    int print, fd, progress;
    int progress_tty;             /* the progress line redrawn in place */
    int sink;                     /* end-to-end delay, falling behind */
    int no_trail;                 /* the source: its frames start none */
    const struct ss_rejects *rej; /* counted in the summary, or NULL */
    /* Members of the stage's own added to each batch's JSON object, each
     * starting with a comma (the source's Kafka lag), or NULL. */
    void (*json_extra)(void *ctx, struct ss_buf *json);
    void *json_ctx;
    struct ss_frame_writer *w; /* the stage's output, or NULL */
    /* Totals, updated once per batch; the SIGUSR1 handler reads them. */
    uint64_t batches, records_in, records_out, bytes_in, bytes_out;
    uint64_t skipped; /* replayed batches left alone (checkpoints) */
    /* sstream-source --event-time: its count of late records, or NULL;
     * each batch reports those that came since the batch before. */
    const uint64_t *late;
    uint64_t late_before;
    struct ss_stats_batch b;
    /* The writer's totals when the last batch ended: a source adds a
     * batch's records before the batch is known to stats. */
    uint64_t wrec, wbytes, wns;
    int in_batch;
    const char *file;
    int failed;        /* the stats file could not be written */
    unsigned behind;   /* batches in a row over the interval */
    int warned;        /* falling behind said once */
    uint64_t first_ns; /* progress: when the first batch began */
    uint64_t drawn_ns; /* progress: when the line was last drawn */
    int drawn;
    struct ss_buf line;
};

/* The records/s the source read for the batch (the ingest field of
 * man/sstream.5, else the sink's own input); -1 when unknown. */
int64_t ss_stats_ingest_rate(const struct ss_stats_batch *b);
/* Start counting for the stage named 'stage' ("map"; at most 8 bytes in
 * the trail); open cfg->file for appending (several stages may share
 * it: each line is one write). 0, or SS_REPORTED after saying why. */
int ss_stats_open(struct ss_stats *st, const char *stage,
                  const struct ss_stats_config *cfg);
/* A batch begins here: its first frame has been read. */
void ss_stats_begin(struct ss_stats *st);
/* Count a frame read (every part of the batch). */
void ss_stats_in(struct ss_stats *st, const struct ss_frame *f);
/* For sources: the batch at 'time' closed at wall time closed_ms (0
 * replay), holding 'records' records (rejects included) of 'bytes'. */
void ss_stats_source(struct ss_stats *st, int64_t time, uint32_t interval,
                     int64_t closed_ms, uint64_t records, uint64_t bytes);
/* Processing time so far, the time blocked writing downstream left out,
 * as the batch's processing_ms; with a writer, also appended to its
 * trail. Call just before the batch's last frame is written. */
void ss_stats_stamp(struct ss_stats *st);
/* A sink's output of the batch; a writer's is counted by itself. */
void ss_stats_out(struct ss_stats *st, uint64_t records, uint64_t bytes);
void ss_stats_keys(struct ss_stats *st, uint64_t keys);
/* --parallel: worker i took ns[i] nanoseconds of this batch (the first
 * SS_STATS_WORKERS are shown): a skewed batch shows one slow worker. */
void ss_stats_workers(struct ss_stats *st, const uint64_t *ns, size_t n);
void ss_stats_skip(struct ss_stats *st);
/* The batch is done (written, or durable for a sink): report it. */
void ss_stats_end(struct ss_stats *st);
/* Clear the progress line, print the summary under --stats, close the
 * file. 0, or SS_REPORTED when the stats file could not be written. */
int ss_stats_close(struct ss_stats *st);

#endif
