/* kafka_ledger.h - DIR/kafka-offsets, the Kafka source's offsets beside
 * its --wal log (man/sstream.5, "KAFKA OFFSETS"): lines of
 *
 *     TIME TOPIC PARTITION OFFSET
 *
 * one per partition, each snapshot's lines tagged with the batch time
 * whose log entry it goes with. The reader treats the file as hostile: a
 * line that is not exactly four well-formed fields is skipped, numbers
 * are checked for range, a topic is a Kafka topic name (1 to 249 bytes of
 * [A-Za-z0-9._-]).
 *
 * Owns: nothing; entries are views into the caller's text.
 */
#ifndef SS_KAFKA_LEDGER_H
#define SS_KAFKA_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#define SS_KAFKA_LEDGER_FILE      "kafka-offsets"
#define SS_KAFKA_LEDGER_TOPIC_MAX 249 /* Kafka's own limit */

struct ss_kafka_ledger_entry {
    int64_t time;
    const char *topic; /* not NUL-terminated */
    size_t topic_len;
    int32_t partition;
    int64_t next; /* the offset to read next */
};

/* Parse one line p[0..n) (no newline): 0, or -EINVAL. */
int ss_kafka_ledger_parse(const char *p, size_t n,
                          struct ss_kafka_ledger_entry *e);

/* The newest snapshot of text[0..len) tagged at or before 'logged':
 * fn(ctx, entry) for each of its lines, in file order; *time is its tag
 * (INT64_MIN: none). Returns 0, or the first negative value fn returned.
 *
 *     int64_t t;
 *     ss_kafka_ledger_read(b.data, b.len, logged, &t, take, &k);
 */
int ss_kafka_ledger_read(
    const char *text, size_t len, int64_t logged, int64_t *time,
    int (*fn)(void *ctx, const struct ss_kafka_ledger_entry *e), void *ctx);

#endif
