/* source.h - sstream-source: receivers feeding the batcher, the live clock
 * and replay. The config belongs to the caller and is only read.
 */
#ifndef SS_SOURCE_H
#define SS_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "evtime.h"
#include "stage.h"
#include "stats.h"

enum ss_source_input_kind {
    SS_INPUT_CONNECT, /* --connect HOST:PORT */
    SS_INPUT_LISTEN,  /* --listen [HOST:]PORT */
    SS_INPUT_WATCH,   /* --watch DIR */
    SS_INPUT_EXEC,    /* --exec CMD */
    SS_INPUT_KAFKA,   /* --kafka HOST:PORT[,...]: one at most */
    SS_INPUT_MQTT,    /* --mqtt HOST:PORT: one at most */
    SS_INPUT_NATS,    /* --nats URL: one at most */
    SS_INPUT_KINDS    /* how many kinds: the size of a table by kind */
};

/* --kafka's settings: the consumer group member (lib/recv_kafka.c). */
struct ss_source_kafka {
    const char *group;  /* --group ID */
    int key;            /* --kafka-key: records keyed by the message key */
    int from_beginning; /* --from-beginning (else --from-end) */
    char *const *props; /* -X name=value */
    size_t nprops;
    const char *pstate; /* --partition-state DIR, or NULL */
};

/* --mqtt's settings: the subscriber (lib/recv_mqtt.c). */
struct ss_source_mqtt {
    int qos;               /* --qos 0 or 1 (default 1) */
    const char *client_id; /* --client-id, or NULL: sstream-FILTER */
};

/* --nats's settings: the JetStream consumer (lib/recv_nats.c). */
struct ss_source_nats {
    const char *stream;   /* --stream NAME */
    const char *consumer; /* --consumer NAME */
    const char *subject;  /* --subject FILTER, or NULL */
};

struct ss_source_input {
    enum ss_source_input_kind kind;
    const char *arg;
};

struct ss_source_config {
    int64_t interval;    /* -b, ms */
    const char *replay;  /* --replay DIR: one file per batch */
    int64_t start_time;  /* --start-time, ms */
    char delim;          /* --delimiter */
    int keep_cr;         /* --keep-cr: a '\r' before the '\n' is data */
    size_t max_record;   /* --max-record-bytes */
    size_t record_bytes; /* --record-bytes: fixed-size records */
    const char *rejects; /* --rejects FILE */
    /* Live inputs in argument order, their records unioned; none: stdin. */
    const struct ss_source_input *inputs;
    size_t ninputs;
    int connect_once;        /* --connect-once: a closed connection ends it */
    int64_t connect_timeout; /* --connect-timeout, ms; 0: the kernel's */
    int exec_restart;        /* --exec-restart: a command that ends is rerun */
    int once; /* --once: read the watched folders, or Kafka up to the end
                 offsets seen at start, then end */
    const char *state; /* --state DIR: ledger of the files read */
    int64_t settle;    /* --settle, ms: a watched file unchanged this long */
    int64_t max_wait;  /* --max-wait, ms: --once gives a file up; 0 never */
    uint64_t max_rate; /* --max-rate: records per second, 0 no limit */
    uint64_t max_batch_records;   /* --max-batch-records, 0 no limit */
    uint64_t max_batch_bytes;     /* --max-batch-bytes, 0 no limit */
    struct ss_stats_config stats; /* --stats, --stats-file */
    const char *wal;              /* --wal DIR: the write-ahead log, or NULL */
    size_t wal_segment;           /* --wal-segment: bytes per log segment */
    uint64_t max_uncommitted;     /* --max-uncommitted N (--wal only) */
    const char *topic; /* --topic: the --kafka topics, the --mqtt filter */
    struct ss_source_kafka kafka;
    struct ss_source_mqtt mqtt;
    struct ss_source_nats nats;
    /* --catch-up[=DUR]: send the empty batches of the downtime since the
     * last batch of the run before (--wal, --state); catch_up_max the
     * longest downtime filled, ms (0: SS_SOURCE_CATCH_UP_BATCHES). */
    int catch_up;
    int64_t catch_up_max;
    uint64_t batches; /* --batches N: end after N, 0 never */
    int64_t duration; /* --duration, ms: end after it (replay: batch time) */
    int format;       /* --format: enum ss_fields_format */
    /* --header: the CSV/TSV field names (no header row), or NULL */
    const char *header;
    /* --event-time and its options: batches cut by the records' own
     * times; --replay is then one stream of its files in name order. */
    struct ss_evtime_config evtime;
};

/* --max-uncommitted under --wal: the stateful stages' --keep-outputs
 * default, so that a restart never asks them for a batch they no longer
 * keep. A log without a bound is refused. */
#define SS_SOURCE_MAX_UNCOMMITTED 10
/* --catch-up without DUR: at most this many batches of downtime, as
 * sstream-window --max-gap fills at most that many slides. */
#define SS_SOURCE_CATCH_UP_BATCHES 100000

/* --connect-timeout: well past a slow handshake, well short of the
 * kernel's two minutes of SYN retries. */
#define SS_SOURCE_CONNECT_TIMEOUT 10000

void ss_source_config_init(struct ss_source_config *cfg);
/* Run to the end of the input or a SIGINT/SIGTERM, opening 'sg' (rejects,
 * stats) first; the caller ends it with ss_stage_end(). 0, SS_REPORTED,
 * or -EPIPE when the reader went away. */
int ss_source_run(const struct ss_source_config *cfg, struct ss_stage *sg);

#endif
