/* state.h - sstream-state: keyed state across batches (Spark's
 * updateStateByKey and mapWithState), saved by lib/ckpt.
 *
 * Each key's state is an accumulator of --update OP plus the batch time of
 * its last record. A batch at or before the time the checkpoint reflects
 * is a replay: it is not applied again, and its output is rebuilt from the
 * checkpoint (the per-batch blobs hold each batch's undo records: the
 * keys it changed with their values before it) and emitted again, for the
 * last keep_outputs batches. A blob also holds the digest of the batch's
 * input: a replay with other records is refused (ss_replay_find()).
 *
 * Owns: the config belongs to the caller and is only read.
 */
#ifndef SS_STATE_H
#define SS_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "op.h"
#include "stage.h"
#include "stats.h"

enum ss_state_emit {
    SS_STATE_EMIT_ALL,     /* every key, as updateStateByKey */
    SS_STATE_EMIT_UPDATED, /* keys with records this batch, as mapWithState */
    SS_STATE_EMIT_EXPIRED, /* updated keys and, marked, the timed out ones */
    SS_STATE_EMIT_RECORDS, /* a record per input record, in input order, as
                              mapWithState; with update_exec, what the
                              command emitted */
};

struct ss_frame;

#define SS_STATE_KEEP_OUTPUTS 10 /* --keep-outputs, at least, unless given */

struct ss_state_config {
    enum ss_op op;           /* SS_OP_LAST under update_exec */
    const char *update_exec; /* --update-exec CMD, or NULL */
    char sep;                /* joins concat's values */
    enum ss_state_emit emit;
    int64_t timeout_ms;         /* 0: keys never time out */
    const char *checkpoint;     /* NULL: --no-checkpoint */
    int64_t ckpt_interval_ms;   /* 0: snapshot when the log outgrows it */
    const char *initial;        /* --initial FILE, or NULL */
    const char *import;         /* --import FILE, or NULL */
    const char *rejects;        /* --rejects FILE, or NULL */
    unsigned long keep_outputs; /* batches whose output can be re-emitted;
                                   SS_REPLAY_KEEP_AUTO: as many as a restart
                                   may send again, at least the default */

    /* --stats, --stats-file */
    struct ss_stats_config stats;

    /* Frames in and out: stdin and stdout, or a shard's pipes (lib/shard) */
    int fd_in, fd_out;
    /* fd_in and fd_out are a shard's pipes: frames on them go without
     * checksums (struct ss_frame_reader and ss_frame_writer 'own') */
    int own_frames;
    /* Called with the batch's last frame before the engine saves a batch
     * (--by-partition, lib/shard.c: the partition's position line goes in
     * first, see lib/pstate.h); NULL: nothing. 0, or a code that fails the
     * batch (reported). */
    int (*before_save)(void *ctx, const struct ss_frame *last);
    void *save_ctx;
};

void ss_state_config_init(struct ss_state_config *cfg);
/* Read frames from stdin to end-of-stream, write the state's frames to
 * stdout, opening 'sg' (rejects, stats) first; the caller ends it with
 * ss_stage_end(). 0; SS_USAGE when the checkpoint cannot be used with
 * these options, or --keep-outputs cannot cover what a restart may send
 * again (reported); -EPIPE when the reader went away; SS_REPORTED. */
int ss_state_run(const struct ss_state_config *cfg, struct ss_stage *sg);
/* Print checkpoint 'dir' as key<TAB>value lines on stdout; 0, -EPIPE or
 * SS_REPORTED. */
int ss_state_dump(const char *dir);

#endif
