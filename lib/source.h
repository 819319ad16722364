/* source.h - sstream-source: receivers feeding the batcher, the live clock
 * and replay. The config belongs to the caller and is only read.
 */
#ifndef SS_SOURCE_H
#define SS_SOURCE_H

#include <stddef.h>
#include <stdint.h>

struct ss_source_config {
    int64_t interval;    /* -b, ms */
    const char *replay;  /* --replay DIR: one file per batch */
    int64_t start_time;  /* --start-time, ms */
    char delim;          /* --delimiter */
    size_t max_record;   /* --max-record-bytes */
    size_t record_bytes; /* --record-bytes: fixed-size records */
    const char *rejects; /* --rejects FILE */
};

void ss_source_config_init(struct ss_source_config *cfg);
/* Run to the end of the input or a SIGINT/SIGTERM; 0, -1 after reporting,
 * or -EPIPE when the reader went away. */
int ss_source_run(const struct ss_source_config *cfg);

#endif
