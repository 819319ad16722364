/* kafka_commit.h - the commit topic of a transactional Kafka sink
 * (sstream-sink --kafka -X transactional.id=ID --commit DIR), after Kafka
 * Connect's exactly-once source connectors (KIP-618): each batch's
 * transaction holds, besides the batch's messages, one message to the
 * commit topic, keyed by ID, its value the batch time as decimal text.
 * The mark is committed with the batch or aborted with it, so the newest
 * mark a read_committed reader finds is the last batch Kafka holds, even
 * when the sink died before DIR/commit said so.
 *
 * Owns: nothing; every string stays the caller's.
 */
#ifndef SS_KAFKA_COMMIT_H
#define SS_KAFKA_COMMIT_H

#include <stddef.h>
#include <stdint.h>

/* Room for a mark's value: a batch time as decimal text. */
#define SS_KAFKA_COMMIT_MAX 24

/* The mark's value for the batch at 'time' into buf: its length. */
size_t ss_kafka_commit_format(char buf[SS_KAFKA_COMMIT_MAX], int64_t time);
/* A mark's value: 0 and *time, or -EBADMSG when it is not a batch time. */
int ss_kafka_commit_parse(const void *p, size_t n, int64_t *time);
/* Read 'topic' on 'brokers' (with the -X settings 'props') read_committed
 * from its beginning to its end, every partition, and set *time to the
 * newest batch time marked for 'id' (SS_WAL_NO_TIME: none). Only the
 * records of transactions already ended are read: call it after
 * init_transactions has fenced the last producer of 'id'. 0, or
 * SS_REPORTED after saying why (a missing topic, one not readable, a
 * mark that is not a batch time). */
int ss_kafka_commit_read(const char *brokers, char *const *props, size_t nprops,
                         const char *topic, const char *id, int64_t *time);

#endif
