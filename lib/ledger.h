/* ledger.h - where a broker receiver stands, beside its --wal log
 * (man/sstream.5: "kafka-offsets", "nats-pending"). One file per
 * receiver, DIR/NAME, one snapshot per logged batch, each line
 *
 *     TIME REST
 *
 * TIME the batch time the snapshot goes with (decimal, optional '-', not
 * INT64_MIN), REST the receiver's (a Kafka partition's next offset, a
 * NATS stream's pending sequences); a snapshot with nothing to say is
 * its TIME alone. The file keeps the last two snapshots, because the
 * newest may belong to a batch that a crash kept out of the log; it is
 * written (replaced by rename) before the batch is synced. A restart
 * takes the newest snapshot at or before the last batch the log holds.
 *
 * The reader treats the file as hostile: numbers are checked for syntax
 * and range, and a line the receiver's parser refuses is skipped as if
 * absent (it neither names the snapshot nor feeds it).
 *
 * Owns: struct ss_ledger's 'prev' (the last snapshot written, its lines
 * whole), freed by ss_ledger_release(); entries handed to callbacks are
 * views into the caller's text, valid during the call.
 */
#ifndef SS_LEDGER_H
#define SS_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SS_LEDGER_KAFKA     "kafka-offsets"
#define SS_LEDGER_NATS      "nats-pending"
#define SS_LEDGER_TOPIC_MAX 249 /* Kafka's own limit on a topic name */

/* A line's REST: with 'take' 0 only checked (0 valid, -EINVAL skipped);
 * with 'take' 1 used (0, or a negative code that ends the read). */
typedef int ss_ledger_fn(void *ctx, const char *rest, size_t n, int take);

/* The newest snapshot of text[0..len) tagged at or before 'logged':
 * fn(ctx, rest, n, 1) for each of its lines that fn(..., 0) accepts, in
 * file order; *time is its tag (INT64_MIN: none). 0, or the first
 * negative value fn returned. */
int ss_ledger_read(const char *text, size_t len, int64_t logged, int64_t *time,
                   ss_ledger_fn *fn, void *ctx);

/* A decimal number p[0..n) of digits only (with 'sign', a leading '-'
 * allowed), at most 'max' (and at least -max): 0, or -EINVAL. */
int ss_ledger_number(const char *p, size_t n, int sign, int64_t max,
                     int64_t *out);

/* ---- Kafka: REST is "TOPIC PARTITION OFFSET" ---- */

struct ss_ledger_kafka {
    const char *topic; /* not NUL-terminated */
    size_t topic_len;  /* 1 to SS_LEDGER_TOPIC_MAX of [A-Za-z0-9._-] */
    int32_t partition; /* 0 to INT32_MAX */
    int64_t next;      /* the offset to read next, 0 to INT64_MAX */
};

int ss_ledger_kafka_parse(const char *p, size_t n, struct ss_ledger_kafka *e);

/* ---- NATS JetStream: REST is "STREAM LO-HI [LO-HI...]" ---- */

/* fn(ctx, lo, hi) for each range, lo <= hi, once all of REST has
 * parsed (with fn NULL, only checked): 0, -EINVAL, or what fn returned.
 * *stream (not NUL-terminated) and *slen name the stream. */
int ss_ledger_nats_parse(const char *p, size_t n, const char **stream,
                         size_t *slen,
                         int (*fn)(void *ctx, uint64_t lo, uint64_t hi),
                         void *ctx);

/* ---- the file DIR/NAME ---- */

struct ss_ledger {
    const char *dir, *name; /* the caller's; they outlive the ledger */
    struct ss_buf prev;     /* the last snapshot written, lines whole */
};

/* Read DIR/NAME's snapshot at or before 'logged' (ss_ledger_read), and
 * keep its accepted lines as 'prev'. A missing file is an empty ledger.
 * 0, or SS_REPORTED after saying why (naming --wal). */
int ss_ledger_load(struct ss_ledger *l, int64_t logged, ss_ledger_fn *fn,
                   void *ctx);
/* Write 'rest' (lines of REST, each ending in '\n'; none: the snapshot
 * is its time alone) as the snapshot of the batch at 'time', after the
 * previous one. 0, or -errno (the caller says it: the batch is then
 * logged without its positions). */
int ss_ledger_write(struct ss_ledger *l, int64_t time,
                    const struct ss_buf *rest);
/* The snapshot of the batch at 'time': snap(ctx, b) puts the lines of
 * REST into b, and they are written as ss_ledger_write() does. 0, or
 * SS_REPORTED after saying that the batch is logged without its
 * positions (a restart may then read its messages again: the caller
 * counts it as a trouble, for exit status 1).
 *
 *     if (ss_ledger_log(&k->ledger, time, snapshot, k) < 0)
 *         r->host->troubles++;
 */
int ss_ledger_log(struct ss_ledger *l, int64_t time,
                  int (*snap)(const void *ctx, struct ss_buf *b),
                  const void *ctx);
void ss_ledger_release(struct ss_ledger *l);

#endif
