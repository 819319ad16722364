/* pstate.h - keyed state per Kafka partition (sstream-state
 * --by-partition): where a partition's state lives, who holds it, and how
 * far into the partition it reaches. Shared by the stage that keeps the
 * state (lib/shard.c, the writer) and the source that must start the
 * partition where its state stands (lib/recv_kafka.c, the reader), so that
 * a partition's keys move with it between the members of a consumer group.
 *
 * Layout: DIR/id names the folder (ss_pstate_folder_id()). DIR/TOPIC-P
 * (P the partition number) is the checkpoint folder of
 * one engine (lib/ckpt.h), and beside the engine's files:
 *
 *   lock      flock()ed (LOCK_EX) by the stage while it keeps the state; the
 *             kernel drops it when the holder dies, kill -9 included.
 *   position  text, written whole (ss_io_write_atomic):
 *                 open|closed
 *                 TIME NEXT        (older)
 *                 TIME NEXT        (newest)
 *             one or two lines after the first: a batch time and the
 *             partition's next offset once that batch is applied. The
 *             holder writes a batch's line before its engine saves the
 *             batch, so the line of whatever batch the checkpoint holds is
 *             there (the newest, or the one before when a crash came
 *             between the line and the save); "open" when it takes the
 *             partition, "closed" once its engine has ended (every batch
 *             of the partition applied and saved) and the lock is about to
 *             go.
 *
 * A partition moves cleanly: the old holder's source gives it up after its
 * last batch with it is sent; the old holder's stage applies that batch,
 * sees the partition missing from the next batch's offsets field, ends
 * its engine and writes "closed". The new owner's source waits for
 * "closed" (ss_pstate_read()) and starts at NEXT, in a batch later than
 * TIME; its stage takes the lock, loads the checkpoint and goes on. A
 * holder that died leaves "open": after the wait the new owner's source
 * asks ss_pstate_recover() where the checkpoint stands.
 *
 * Owns: nothing past a call; strings are the caller's.
 */
#ifndef SS_PSTATE_H
#define SS_PSTATE_H

#include <stddef.h>
#include <stdint.h>

#define SS_PSTATE_NONE (-1) /* no offset known */

/* Where a partition's state stands, as its position file says. */
struct ss_pstate_pos {
    int known;    /* the position file is there (else the rest is 0/NONE) */
    int closed;   /* its last holder gave it up ("closed"), else "open" */
    int64_t time; /* the newest line's batch time */
    int64_t next; /* the newest line's offset; SS_PSTATE_NONE: no line */
};

/* The folder of partition p of topic[0..topic_len) under dir:
 * DIR/TOPIC-P. 0, -ENAMETOOLONG, or -EINVAL when the topic is no Kafka
 * topic name ([a-zA-Z0-9._-], not "." or "..": a name that could leave
 * DIR) or p is negative. */
int ss_pstate_dir(char *out, size_t size, const char *dir, const char *topic,
                  size_t topic_len, int32_t p);

/* The partition of 'partitions' that a Kafka producer puts a message of
 * key k[0..klen) on, by librdkafka's default partitioner
 * (consistent_random): the CRC-32 of the key modulo the count. klen > 0:
 * an empty key goes to a random partition, so it has none. */
uint32_t ss_pstate_partition_of(const char *k, size_t klen,
                                uint32_t partitions);

/* The folder's identity, DIR/id: 16 hex digits made at random by its
 * first user, so that a member can tell that the state of a partition it
 * is given was kept in another folder (another machine's). Into
 * out[SS_PSTATE_ID_LEN + 1]; 0, or SS_REPORTED. */
#define SS_PSTATE_ID_LEN 16
int ss_pstate_folder_id(const char *dir, char *out);

/* Read the position file of partition p: 0 and *pos (pos->known 0 when the
 * partition has no state yet), or SS_REPORTED after saying which file is
 * unreadable or malformed. */
int ss_pstate_read(const char *dir, const char *topic, int32_t p,
                   struct ss_pstate_pos *pos);

/* After a holder died ("open" and no lock holder can be waited for): the
 * next offset of the batch the checkpoint holds, found by loading the
 * checkpoint read-only (its batch time) and taking the position line of
 * that time. 1 and *next; 0 when the partition has no checkpoint yet;
 * SS_REPORTED after saying why no line fits. */
int ss_pstate_recover(const char *dir, const char *topic, int32_t p,
                      int64_t *next);

/* ---- the holder (lib/shard.c) ---- */

struct ss_pstate {
    char dir[4096];     /* DIR/TOPIC-P */
    int lockfd;         /* -1: not held */
    int64_t t[2], n[2]; /* the two newest lines; t[i] INT64_MIN: none */
    int closed;         /* the position file said "closed" when taken: its
                           newest line is where the checkpoint stands */
};

/* Take partition p: create its folder, take the lock (waiting up to
 * wait_ms for a holder that is letting it go; after that, say who holds it
 * and fail), read the lines there, and write "open". 0, or SS_REPORTED. */
int ss_pstate_hold(struct ss_pstate *ps, const char *dir, const char *topic,
                   size_t topic_len, int32_t p, int64_t wait_ms);
/* Where the state of a partition just taken stands: the newest line when
 * its last holder closed it, else (a holder died) the line of the batch
 * its checkpoint holds, found as ss_pstate_recover() does. 1 and *time,
 * *next; 0 when it has no line or no checkpoint yet (nothing to resume);
 * SS_REPORTED. */
int ss_pstate_expect(const struct ss_pstate *ps, int64_t *time, int64_t *next);
/* The batch at 'time' takes the partition to offset 'next': its line goes
 * in durably, before the engine saves the batch. 0, or SS_REPORTED. */
int ss_pstate_line(struct ss_pstate *ps, int64_t time, int64_t next);
/* The engine has ended: write "closed" (when 'clean'; a failing stage
 * leaves "open", as a dead one would) and drop the lock. 0 or SS_REPORTED;
 * the lock goes either way. */
int ss_pstate_release(struct ss_pstate *ps, int clean);

#endif
