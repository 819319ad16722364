/* sink.h - sstream-sink: output operations on frames read from stdin.
 * The config belongs to the caller and is only read.
 */
#ifndef SS_SINK_H
#define SS_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "stage.h"
#include "stats.h"
#include "timefmt.h"

enum ss_sink_mode {
    SS_SINK_PRINT, /* Spark's print(): header, first N records, "..." */
    SS_SINK_LINES, /* value, or key<TAB>value */
    SS_SINK_TSV,   /* time<TAB>value, or time<TAB>key<TAB>value */
    SS_SINK_DUMP,  /* every frame, headers included, escaped */
    SS_SINK_JSON,  /* {"time":T,"key":"k","value":"v"} per record */
    SS_SINK_TOP,   /* the top N keys by value: a live view, or lines */
    SS_SINK_NONE,  /* nothing on stdout: only the outputs below */
};

struct ss_sink_config {
    enum ss_sink_mode mode;
    size_t print_n;                /* --print=N */
    size_t top_n;                  /* --top N */
    struct ss_timefmt time_format; /* --time-format, for --print, --tsv */
    const char *save_as;           /* --save-as-text-files PREFIX */
    const char *suffix;            /* --suffix S, or NULL */
    int skip_empty;          /* --skip-empty: no file for an empty batch */
    int spark_layout;        /* --spark-layout: PREFIX-TIME.S/part-00000 */
    const char *foreach;     /* --foreach CMD */
    unsigned retries;        /* --retries N for --foreach */
    const char *connect;     /* --connect HOST:PORT */
    const char *post;        /* --post URL */
    unsigned post_retries;   /* --retries N for --post */
    int64_t connect_timeout; /* --connect-timeout, ms; 0: the kernel's */
    const char *commit;      /* --commit DIR: the source's --wal folder */
    const char *kafka;       /* --kafka HOST:PORT[,...]: records to a topic */
    const char *topic;       /* --topic NAME: of --kafka or --mqtt */
    const char *ctopic;      /* --commit-topic NAME, or its default */
    const char *mqtt;        /* --mqtt HOST:PORT: records to a topic */
    int qos;                 /* --qos 0 or 1 for --mqtt (default 1) */
    const char *nats;        /* --nats URL: records to JetStream */
    const char *subject;     /* --subject SUBJ for --nats */
    char *const *props;      /* -X name=value: librdkafka settings */
    size_t nprops;

    /* --stats, --stats-file, --progress */
    struct ss_stats_config stats;
};

/* --retries for --post when not given. */
#define SS_SINK_POST_RETRIES 3
/* --connect-timeout, as the source's (SS_SOURCE_CONNECT_TIMEOUT). */
#define SS_SINK_CONNECT_TIMEOUT 10000

void ss_sink_config_init(struct ss_sink_config *cfg);
/* Read frames from stdin to end-of-stream, opening 'sg' (its stats) first;
 * the caller ends it with ss_stage_end(). 0, SS_REPORTED, or -EPIPE when
 * the reader of stdout went away. */
int ss_sink_run(const struct ss_sink_config *cfg, struct ss_stage *sg);

#endif
