/* replay.h - kept outputs: what a stateful stage emitted for each of its
 * last batches, held for as long as a restart may send those batches
 * again, and found again when one comes (DESIGN.md, "Fault tolerance").
 *
 * A replayed batch (at or before the checkpoint's time) changes no state:
 * the stage emits again exactly what it emitted the first time. What an
 * entry holds is the stage's own: sstream-window records its output
 * frames (ss_replay_out_*(), sent again by ss_replay_emit());
 * sstream-state keeps the batch's undo list and rebuilds the output from
 * it. Every entry carries the digest of its input batch (XXH64 of the
 * payloads in order), so that a batch time reused for other records is
 * refused rather than answered with the old output. Entries travel in the
 * checkpoint as blobs: the digest (u64), then the entry's bytes.
 *
 * Owns: the entries and their bytes, oldest first, until
 * ss_replay_release(). A pointer to an entry is valid until the next
 * ss_replay_keep(), ss_replay_size() or ss_replay_load().
 */
#ifndef SS_REPLAY_H
#define SS_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ckpt.h"
#include "frame.h"

#define SS_REPLAY_KEEP_AUTO ((unsigned long)-1) /* --keep-outputs not given */
#define SS_REPLAY_KEEP_MAX  10000

struct ss_replay_entry {
    int64_t time;
    uint64_t digest; /* of the input batch: a replay must match it */
    struct ss_buf data;
};

struct ss_replay {
    struct ss_replay_entry *e; /* oldest first */
    size_t n, cap;
    size_t keep;         /* entries held at most */
    uint64_t replayed;   /* batches emitted again, for the summary */
    int64_t first, last; /* the first and last of them */
};

/* Hold up to 'given' entries (the --keep-outputs), or SS_REPLAY_KEEP_MAX
 * for SS_REPLAY_KEEP_AUTO: what a checkpoint loads, until the first
 * batch says how many to keep (ss_replay_size()). */
void ss_replay_init(struct ss_replay *r, unsigned long given);
/* How many batches' outputs a stage keeps for replays, decided on its
 * first batch: a restart may send batches again as far back as the
 * frames' replay_ms (the source's --max-uncommitted times its interval),
 * ceil(replay_ms / interval) batches of this stage's input. 'given' is
 * the --keep-outputs the user gave, or SS_REPLAY_KEEP_AUTO: then the
 * default 'dflt', or more to cover the bound, up to SS_REPLAY_KEEP_MAX.
 * The count, or SS_USAGE after reporting a given count too small for the
 * bound, or a bound past SS_REPLAY_KEEP_MAX or none (replay_ms
 * UINT32_MAX: a --wal without --max-uncommitted). */
long ss_replay_keep_count(unsigned long given, unsigned long dflt,
                          uint32_t replay_ms, uint32_t interval);
/* Set r->keep as ss_replay_keep_count() says and drop the oldest entries
 * past it: 0, or SS_USAGE after reporting. */
int ss_replay_size(struct ss_replay *r, unsigned long given, unsigned long dflt,
                   uint32_t replay_ms, uint32_t interval);
/* Keep p[0..n) as the entry of batch 'time', the newest; the oldest goes
 * when r->keep are held (none is kept when r->keep is 0). 0 or -ENOMEM. */
int ss_replay_keep(struct ss_replay *r, int64_t time, uint64_t digest,
                   const void *p, size_t n);
/* A checkpoint blob of batch 'time' (ss_ckpt_loader.blob): 0 and kept,
 * or -EBADMSG when it is short, out of time order, or its bytes fail
 * 'valid' (which returns 0 for bytes the stage can use unchecked). */
int ss_replay_load(struct ss_replay *r, int64_t time, const char *p, size_t n,
                   int (*valid)(const char *p, size_t n));
/* The newest batch's blob into the delta being written. */
int ss_replay_save_delta(struct ss_ckpt *c, uint64_t digest, const void *p,
                         size_t n);
/* Every entry's blob into the snapshot being written. */
int ss_replay_save_snapshot(const struct ss_replay *r, struct ss_ckpt *c);
/* Batch 'time' comes again (a replay) with input digest 'digest': 0 and
 * *e its entry, counted in the summary; -ENOENT when no entry has that
 * time and c is NULL (no checkpoint: the caller says what is wrong);
 * else SS_REPORTED after saying that the output is lost (older than the kept
 * ones) or that the batch time was used for other records. */
int ss_replay_find(struct ss_replay *r, const struct ss_ckpt *c, int64_t time,
                   uint64_t digest, const struct ss_replay_entry **e);
/* At exit: how many batches were emitted again, if any. */
void ss_replay_summary(const struct ss_replay *r);
/* From now on this thread's summaries say nothing (a shard's but the
 * first: lib/shard). */
void ss_replay_quiet(void);
void ss_replay_release(struct ss_replay *r);

/* ---- recorded output frames ----
 *
 * A stage that keeps its output as it wrote it records every frame in
 * 'buf' as time (8), interval (4), flags (4), count (4), payload length
 * (8) and the records as a frame payload holds them. */
struct ss_replay_out {
    struct ss_buf buf; /* the batch's frames so far */
    size_t at;         /* the frame being recorded */
    uint32_t count;
};

void ss_replay_out_begin(struct ss_replay_out *o, int64_t time,
                         uint32_t interval, uint32_t flags);
int ss_replay_out_add(struct ss_replay_out *o, const char *k, size_t klen,
                      const char *v, size_t vlen);
/* 0, or -ENOMEM when ss_replay_out_begin() could not make room. */
int ss_replay_out_end(struct ss_replay_out *o);
/* 0 when p[0..n) holds whole recorded frames, as ss_replay_emit() sends
 * without checks; else -EBADMSG. */
int ss_replay_frames_valid(const char *p, size_t n);
/* Send again through w the frames recorded in p[0..n): 0 or a negative
 * errno code. */
int ss_replay_emit(struct ss_frame_writer *w, const char *p, size_t n);

#endif
