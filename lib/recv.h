/* recv.h - receivers: the inputs of sstream-source on its libuv loop.
 * This is the contract a new source implements; lib/recv_kit.h is the
 * toolkit for byte-stream inputs.
 *
 * A receiver turns one kind of input (stdin, a server we connect to,
 * producers that connect to us, a watched folder, a command's stdout, a
 * Kafka topic, an MQTT subscription, a JetStream consumer) into records for the
 * batcher. An input of whole messages adds them one at a time with
 * ss_recv_add(); a byte stream (a connection, a file, a pipe) goes through its
 * own splitter (lib/recv_kit.h), so a record is never split between two
 * producers. Both paths keep the same limits: the --max-rate budget, the batch
 * limits, --max-record-bytes with its rejects, and the --wal log.
 * lib/source.c owns the loop, the batch clock and the --max-rate budget: it
 * starts the receivers, resumes those the budget paused, tells them when a
 * batch was sent, and stops them all when the stream ends.
 *
 * A receiver implements: a start function that fills a calloc()ed
 * struct whose first member is struct ss_recv; the four ops below;
 * optionally 'logging' (--wal). It calls ss_recv_add() for each record,
 * ss_recv_end() once when its input is over, host->throttled() when
 * ss_recv_add() held a record back, host->fatal() when it failed.
 *
 * Owns: a receiver is allocated by its ss_recv_*_start() and freed by
 * ops->free() after the loop has run dry (every handle closed). Records
 * added are copied into the batch; the caller keeps its bytes.
 */
#ifndef SS_RECV_H
#define SS_RECV_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "batcher.h"

struct ss_recv;

struct ss_recv_host {
    uv_loop_t *loop;
    struct ss_batcher *b;
    char delim;          /* --delimiter */
    int keep_cr;         /* --keep-cr */
    size_t max_record;   /* --max-record-bytes */
    size_t record_bytes; /* --record-bytes */
    char *chunk;         /* SS_RECV_CHUNK bytes of read scratch (recv_kit) */
    uint64_t troubles;   /* reported problems the stream lived through */
    /* --format, --event-time: broker messages read as rows (made at the
     * first, freed by ss_recv_host_release()) */
    struct ss_splitter *rows;
    int stopping; /* the stream is ending: add everything, read no more */
    int broken;   /* stdout failed: add nothing more, just close */
    /* A receiver's input ended for good: rc 0 at its end, SS_REPORTED after a
     * reported failure. Called once per receiver. */
    void (*ended)(struct ss_recv_host *h, struct ss_recv *r, int rc);
    /* A stream stopped reading because the --max-rate budget is spent;
     * the host calls ops->resume() once there is budget again. */
    void (*throttled)(struct ss_recv_host *h, struct ss_recv *r);
    /* Adding records failed (stdout is gone, memory): the stream ends
     * now, with 'rc' for the exit status. */
    void (*fatal)(struct ss_recv_host *h, int rc);
};

struct ss_recv_ops {
    /* There is budget again: feed what is pending, read on. */
    void (*resume)(struct ss_recv *r);
    /* The batch at 'time' has been written to stdout (NULL: no matter). */
    void (*sent)(struct ss_recv *r, int64_t time);
    /* The stream ends: add every byte already received (whatever the
     * budget), end the last record, close the handles. */
    void (*stop)(struct ss_recv *r);
    /* After the loop has run dry: free what the receiver holds. */
    void (*free)(struct ss_recv *r);
};

struct ss_recv {
    const struct ss_recv_ops *ops;
    struct ss_recv_host *host;
    struct ss_recv *next; /* the host's list */
    const char *what;     /* the option and its argument, for messages */
    int ended;            /* host->ended() has been called */
    /* --wal: the batch at 'time' is written to the log and about to be
     * synced; record now what it consumed, so that a crash after the sync
     * does not read it again. NULL (receivers are calloc()ed): nothing to
     * record. */
    void (*logging)(struct ss_recv *r, int64_t time);
    /* --stats-file: the batch closes; append this receiver's members of
     * its JSON object, each starting with a comma. NULL: none. */
    void (*json)(struct ss_recv *r, struct ss_buf *out);
    /* The open batch closes: set this receiver's fields of its last frame
     * in w (a Kafka source's offsets field). NULL: none. */
    void (*closing)(struct ss_recv *r, struct ss_frame_writer *w);
};

/* Call host->ended() once. */
void ss_recv_end(struct ss_recv *r, int rc);

/* Add one whole record (a message) to the open batch, within the limits
 * that the byte path keeps: a record over --max-record-bytes (key and
 * value together) is reported with its place, sent to --rejects and
 * counted as taken; while the --max-rate budget is spent or the batch is
 * full, nothing is added. key NULL: a keyless record. Returns 1 when the
 * record was taken (added or rejected; also once stdout is broken, when
 * nothing is added any more), 0 when it was held back (keep it, call
 * host->throttled(), offer it again from ops->resume()), or a negative
 * errno code (stdout or the log failed: pass it to host->fatal()). Once
 * the stream is stopping every record is taken, whatever the budget. */
int ss_recv_add(struct ss_recv *r, const char *key, size_t klen,
                const char *val, size_t vlen);
/* A whole record that cannot go on, for 'why' (a phrase): said with its
 * place, kept in --rejects, counted as taken, as an over-long one is. */
void ss_recv_reject(struct ss_recv *r, const char *key, size_t klen,
                    const char *val, size_t vlen, const char *why);
/* What the host's receivers left it to free ('rows'). */
void ss_recv_host_release(struct ss_recv_host *h);

/* ---- the receivers ---- */

struct ss_recv_watch_opts {
    const char *dir;
    const char *state; /* --state DIR: the ledger of files read, or NULL */
    int once;          /* --once: read what is there, then end */
    int64_t settle;    /* ms a file must be unchanged to count as complete */
    int64_t max_wait;  /* --once: ms to wait for a file to settle, 0 ever */
    /* --wal: each file is read into one batch, and ledger entries are
     * written tagged with that batch's time before it is logged; entries
     * tagged after 'logged' (the last batch time logged or committed;
     * INT64_MIN none) were never logged, and are dropped at start. */
    int wal;
    int64_t logged;
};

enum ss_recv_kafka_start {
    SS_RECV_KAFKA_END,       /* --from-end: Kafka's own default */
    SS_RECV_KAFKA_BEGINNING, /* --from-beginning */
};

struct ss_recv_kafka_opts {
    const char *brokers; /* --kafka HOST:PORT[,HOST:PORT...] */
    const char *topics;  /* --topic NAME[,NAME...] */
    const char *group;   /* --group ID */
    int key;             /* --kafka-key: the message key is the record key */
    enum ss_recv_kafka_start start; /* for a group with no offsets */
    int once;           /* --once: up to the end offsets seen at assignment */
    char *const *props; /* -X name=value, librdkafka settings */
    size_t nprops;
    int stats; /* --stats: rebalances and lag per partition */
    /* --wal DIR: the offsets are kept beside the log, tagged with batch
     * times; 'logged' is the last batch time the log holds. */
    const char *wal;
    int64_t logged;
    /* --partition-state DIR: the folder of sstream-state --by-partition
     * after us; an assigned partition starts where its state stands
     * (lib/pstate.h). NULL: at the group's offset. */
    const char *pstate;
};

struct ss_recv_mqtt_opts {
    const char *hostport;  /* --mqtt HOST:PORT */
    const char *topic;     /* --topic FILTER (MQTT wildcards + and #) */
    int qos;               /* --qos 0 or 1 */
    const char *client_id; /* --client-id: the persistent session's name */
    int stats;             /* --stats: connections and subscriptions */
};

struct ss_recv_nats_opts {
    const char *url;      /* --nats nats://HOST:PORT[,...] */
    const char *stream;   /* --stream NAME */
    const char *consumer; /* --consumer NAME: a durable pull consumer */
    const char *subject;  /* --subject FILTER, or NULL: the consumer's */
    int stats;            /* --stats: pending, ack pending, redelivered */
    /* --wal DIR: the sequences whose acks may be missing are kept beside
     * the log, tagged with batch times; 'logged' as for Kafka. */
    const char *wal;
    int64_t logged;
};

int ss_recv_stdin_start(struct ss_recv_host *h, struct ss_recv **out);
/* 'timeout_ms': an attempt that no address of the name has answered in
 * that long fails (0: the kernel's own limit). */
int ss_recv_tcp_connect_start(struct ss_recv_host *h, const char *hostport,
                              int once, int64_t timeout_ms,
                              struct ss_recv **out);
int ss_recv_tcp_listen_start(struct ss_recv_host *h, const char *hostport,
                             struct ss_recv **out);
int ss_recv_watch_start(struct ss_recv_host *h,
                        const struct ss_recv_watch_opts *o,
                        struct ss_recv **out);
int ss_recv_exec_start(struct ss_recv_host *h, const char *cmd, int restart,
                       struct ss_recv **out);
int ss_recv_kafka_start(struct ss_recv_host *h,
                        const struct ss_recv_kafka_opts *o,
                        struct ss_recv **out);
int ss_recv_nats_start(struct ss_recv_host *h,
                       const struct ss_recv_nats_opts *o, struct ss_recv **out);
int ss_recv_mqtt_start(struct ss_recv_host *h,
                       const struct ss_recv_mqtt_opts *o, struct ss_recv **out);

#endif
