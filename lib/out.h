/* out.h - sstream-sink's output operations besides its text on stdout:
 * --save-as-text-files (lib/out_files.c), --foreach (lib/out_foreach.c),
 * --connect (lib/out_tcp.c), --kafka (lib/out_kafka.c), --post
 * (lib/out_http.c), --mqtt (lib/out_mqtt.c), --nats (lib/out_nats.c).
 *
 * Every output sees each frame of a batch as it is read (a batch may
 * span several frames) and then the batch's end. Each holds the records
 * as --lines prints them: the value, or key<TAB>value, and a newline.
 *
 * Owns: an output is allocated by its ss_out_*_new() and freed by
 * ops->free(); frames are views, only read during the call. Errors are
 * reported by the output itself, which then returns -1.
 */
#ifndef SS_OUT_H
#define SS_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"

struct ss_out;

struct ss_out_ops {
    /* A frame of the batch at f->time; 'first' for the batch's first. */
    int (*frame)(struct ss_out *o, const struct ss_frame *f, int first);
    /* The batch at 'time' is whole. */
    int (*end)(struct ss_out *o, int64_t time);
    void (*free)(struct ss_out *o);
};

struct ss_out {
    const struct ss_out_ops *ops;
    struct ss_out *next;
};

/* A missing side of an outer join in the text outputs (man
 * sstream-sink(1), "JOINS"): Hive's and PostgreSQL's NULL in text. A
 * present side that starts with a backslash gets one more, so that the
 * marker is never a value. */
#define SS_OUT_MISSING "\\N"

/* A record's value as the text outputs write it: for a frame of an outer
 * join (SS_FRAME_OPT_LEFT, _RIGHT) the two sides with the marker above;
 * any other value as it is. 0 or -ENOMEM. */
int ss_out_value(struct ss_buf *b, uint32_t flags, const char *v, size_t vlen);
/* A join pair as Spark prints it: (l,r), an outer join's optional side
 * as Some(x) or None; each side through 'side' (NULL: as it is), which
 * appends it to b. 0 or -ENOMEM. */
int ss_out_print_pair(struct ss_buf *b, uint32_t flags, const char *v,
                      size_t vlen,
                      int (*side)(struct ss_buf *b, const char *p, size_t n));
/* An outer join's pair as --json writes it: ["l","r"], null for a
 * missing side. 0 or -ENOMEM. */
int ss_out_json_pair(struct ss_buf *b, uint32_t flags, const char *v,
                     size_t vlen);
/* Append f's records to b as --lines prints them; 0 or -ENOMEM. */
int ss_out_lines(struct ss_buf *b, const struct ss_frame *f);
/* The same all at once (ss_frame_lines()) when the frame allows: 1 done,
 * 0 when it must go record by record (nothing appended), -ENOMEM, or
 * -EBADMSG when its record lengths do not add up. */
int ss_out_lines_at_once(struct ss_buf *b, const struct ss_frame *f);

/* The name 'tmpl' with each "{key}" replaced by r's key, NUL-ended in b
 * (b->len counts the NUL): the --mqtt topic, the --nats subject. 0,
 * -EINVAL when tmpl has {key} and r has none, or -ENOMEM. */
int ss_out_name(struct ss_buf *b, const char *tmpl, const struct ss_rec *r);

/* PREFIX-TIME.SUFFIX (suffix NULL: PREFIX-TIME) per batch, atomically;
 * none for an empty batch when 'skip_empty'. With 'spark_layout' a
 * folder of that name, part-00000 and _SUCCESS in it, as Spark's. */
int ss_out_files_new(const char *prefix, const char *suffix, int skip_empty,
                     int spark_layout, struct ss_out **out);
/* 'sh -c CMD' per batch, the records on its stdin, SSTREAM_BATCH_TIME in
 * its environment; run again up to 'retries' times when it fails. */
int ss_out_foreach_new(const char *cmd, unsigned retries, struct ss_out **out);
/* Push the lines to a server at HOST:PORT; an address that does not
 * answer within 'timeout_ms' (0: the kernel's limit) is given up. */
int ss_out_tcp_new(const char *hostport, int64_t timeout_ms,
                   struct ss_out **out);
/* Each batch one HTTP POST to 'url' (the caller's, outliving it): a JSON
 * body, the batch time in the header X-Sstream-Batch-Time; a failure that
 * may pass tried again up to 'retries' times; none for an empty batch
 * when 'skip_empty'; 'timeout_ms' to connect (0: libcurl's). */
int ss_out_http_new(const char *url, unsigned retries, int skip_empty,
                    int64_t timeout_ms, struct ss_out **out);
/* Each record a message of 'topic' on the brokers 'brokers' (keyed
 * records keyed), with the -X settings 'props'; a batch ends when the
 * brokers hold all of it. With -X transactional.id a batch is a
 * transaction, and with 'commit_topic' (not NULL) it holds the batch's
 * mark there (lib/kafka_commit.h); *committed is then the newest batch
 * the commit topic holds, else SS_WAL_NO_TIME. The strings are the
 * caller's and outlive it. */
int ss_out_kafka_new(const char *brokers, const char *topic, char *const *props,
                     size_t nprops, const char *commit_topic,
                     int64_t *committed, struct ss_out **out);
/* Each record a message published at 'qos' (0 or 1) to the MQTT broker
 * at HOST:PORT, on the topic 'topic' ({key}: the record's key); a batch
 * ends when the broker has acknowledged all of it (QoS 1). */
int ss_out_mqtt_new(const char *hostport, const char *topic, int qos,
                    struct ss_out **out);
/* Each record a message published to JetStream on 'subject' ({key}: the
 * record's key) at the NATS server 'url', with the message id
 * BATCHTIME-PLACE; a batch ends when the stream has acknowledged it. */
int ss_out_nats_new(const char *url, const char *subject, struct ss_out **out);

#endif
