/* shard.h - --parallel N for the keyed engines (sstream-state, and the
 * keyed modes of sstream-window): N whole engine instances, each on a
 * thread of its own with its own table, arenas and checkpoint, each fed
 * the records of the batch whose key hashes to it.
 *
 * The lead thread reads stdin and cuts every batch into N sub-batches
 * (every shard gets every batch time, empty or not, so each one's clock
 * runs as the whole stream's); a shard runs the unchanged engine over a
 * pipe in and a pipe out; a merging thread takes from every shard the
 * frame of one output time and writes one frame of their records to
 * stdout, in key byte order (the order the engines emit in), so the
 * output is that of --parallel 1 byte for byte. Session windows close in
 * order of their latest record, which the shards do not share: their
 * frames are joined in shard order (the same records, in another order).
 *
 * Checkpoints: shard i of N keeps its state in DIR/part-I-of-N, and
 * DIR/parallel says N; with N = 1 the state is in DIR itself, as it always
 * was. A run at another N moves the state to its N first (shard_ckpt.c).
 *
 * Owns: nothing past the call; the config belongs to the caller.
 */
#ifndef SS_SHARD_H
#define SS_SHARD_H

#include <stddef.h>

#include "stage.h"
#include "state.h"
#include "window.h"

/* The shard of n that key k[0..klen) goes to: XXH64 with a seed of
 * its own (a keyless record's is shard 0's). */
size_t ss_shard_of(const char *k, size_t klen, size_t n);
/* The checkpoint folder of shard i of n under 'dir': DIR/part-I-of-N,
 * or 'dir' itself for n = 1. 0, or -ENAMETOOLONG. */
int ss_shard_dir(char *out, size_t size, const char *dir, size_t i, size_t n);

enum ss_shard_kind {
    SS_SHARD_STATE,    /* sstream-state */
    SS_SHARD_WINDOW,   /* sstream-window, sliding: outputs in key order */
    SS_SHARD_SESSIONS, /* sstream-window --session-gap */
};

/* Move checkpoint 'dir', written at --parallel m, to n shards
 * (lib/shard_ckpt.c). 0; SS_USAGE after saying why it cannot move yet;
 * SS_REPORTED. */
int ss_shard_repartition(const char *dir, size_t m, size_t n,
                         enum ss_shard_kind kind);

/* sstream-state over n shards (n = 1: ss_state_run() itself, after the
 * checkpoint's partitioning is checked). As ss_state_run(). */
int ss_shard_state(const struct ss_state_config *cfg, size_t n,
                   struct ss_stage *sg);
/* sstream-state --by-partition (cfg->checkpoint is required): an engine
 * per Kafka partition the member holds, as each batch's offsets field
 * says, its checkpoint that of the partition (lib/pstate.h), waiting up
 * to wait_ms for the lock of a partition received. As ss_state_run(). */
int ss_shard_state_parts(const struct ss_state_config *cfg, int64_t wait_ms,
                         struct ss_stage *sg);
/* ss_state_dump() of every shard of checkpoint 'dir' in turn (of every
 * partition, in partition order, of a --by-partition folder). */
int ss_shard_state_dump(const char *dir);
/* sstream-window over n shards; keyless modes (window(), --count,
 * --reduce) hold no keys to split and run as one. As ss_window_run(). */
int ss_shard_window(const struct ss_window_config *cfg, size_t n,
                    struct ss_stage *sg);

#endif
