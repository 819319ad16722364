/* evtime.h - event time for sstream-source: each record goes to the batch
 * that holds its own time, and a batch goes out once the watermark has
 * passed its end.
 *
 * The watermark is the largest event time seen less --max-delay (moved
 * on further by --idle-timeout and the end of the input). A batch at T
 * holds the records whose times fall in (T - interval, T], as a batch of
 * the live clock does, so batch times stay on the interval grid; the
 * batches go out in order, every interval one, empty or not. A record
 * whose batch the watermark has passed is late: kept in the --late file,
 * dropped, or put in the next batch to go out (--late-policy), and
 * counted; the summary says how many and how late. The output depends on
 * the records and their order only, never on when they arrived (unless
 * --idle-timeout moved the watermark), so a log read at full speed and
 * one read in real time give the same batches.
 *
 * --late-policy update: a late record whose batch ended at most
 * --allowed-lateness before the watermark goes out again for that batch,
 * in an update frame (man/sstream.5 "UPDATES": its records add to the
 * batch) sent just before the next batch, or at the end of the input;
 * one frame per batch updated, oldest first. Later ones, and those of a
 * batch this run did not send (before its first), go to the --late file,
 * or are dropped, and counted either way.
 *
 * Owns: the records of the open batches (their times lie within
 * --max-delay plus two intervals of one another, so their number is
 * bounded by the input rate, not by the stream's length), and the --late
 * file, and the records of updates not yet sent, until
 * ss_evtime_release(). Batches go out through the batcher.
 */
#ifndef SS_EVTIME_H
#define SS_EVTIME_H

#include <stddef.h>
#include <stdint.h>

#include "batcher.h"
#include "buf.h"
#include "fields.h"
#include "rejects.h"
#include "timefmt.h"

/* --max-delay spans at most this many batch intervals: the open batches
 * are a ring of that many slots. */
#define SS_EVTIME_MAX_SLOTS (1 << 20)

enum ss_evtime_late {
    SS_LATE_DROP,       /* counted and dropped */
    SS_LATE_FILE,       /* counted and written to --late FILE */
    SS_LATE_NEXT_BATCH, /* counted and put in the next batch to go out */
    SS_LATE_UPDATE,     /* within --allowed-lateness: an update frame of its
                           own batch; beyond: as SS_LATE_FILE or DROP */
};

/* A batch already sent that late records will update (SS_LATE_UPDATE):
 * its records, as in a payload, until the next batch goes out. */
struct ss_evtime_update {
    int64_t time;
    struct ss_buf recs;
    uint32_t count;
};

struct ss_evtime_config {
    int on;                     /* --event-time given */
    struct ss_fields_sel field; /* --event-time FIELD */
    struct ss_timefmt tf;       /* --time-format */
    int64_t max_delay;          /* --max-delay, ms */
    int64_t idle_timeout;       /* --idle-timeout, ms; 0 none */
    enum ss_evtime_late policy; /* --late-policy */
    const char *late;           /* --late FILE, or NULL */
    int64_t lateness;           /* --allowed-lateness, ms (SS_LATE_UPDATE) */
};

struct ss_evtime {
    const struct ss_evtime_config *cfg;
    struct ss_batcher *b;
    int64_t interval;
    int64_t max_seen;     /* largest event time; INT64_MIN before any */
    int64_t watermark;    /* INT64_MIN before any record */
    int64_t next;         /* the oldest batch not sent; INT64_MIN none yet */
    int64_t newest;       /* the newest batch holding records */
    struct ss_buf *slots; /* open batch T in slot (T / interval) % nslots */
    size_t nslots;
    int live; /* frames stamped with the wall clock (else 0) */
    /* --wal: batches up to this time are in the log from an earlier run:
     * rebuilt from the input, not sent again (INT64_MIN: none) */
    int64_t rebuilt;
    uint64_t arrivals;      /* records taken: the idle timer watches it */
    struct ss_rejects late; /* the --late file (its own count) */
    uint64_t nlate;
    int64_t late_max, late_sum; /* ms behind the watermark */
    /* SS_LATE_UPDATE: the batches late records update, oldest first,
     * sent as update frames before the next batch (or at the end); the
     * records sent so, and those beyond --allowed-lateness. */
    struct ss_evtime_update *upd;
    size_t nupd, upd_cap;
    uint64_t nupdated, nbeyond;
    int64_t first; /* the first batch this run sent; INT64_MIN none yet */
};

/* 0, or SS_REPORTED after saying why the --late file cannot open. */
int ss_evtime_init(struct ss_evtime *ev, const struct ss_evtime_config *cfg,
                   struct ss_batcher *b, int live);
/* Batches up to 't' went out in an earlier run (--state): they are not
 * sent again; records that belong in them are late. */
void ss_evtime_start_after(struct ss_evtime *ev, int64_t t);
/* --wal after a crash (the input read again from its start, --replay):
 * the batches up to 't' are in the log, sent again from there; they are
 * rebuilt from the input, so that the watermark and the open batches are
 * those of a run that never stopped, but not sent. The --late file starts
 * empty: the run writes every late record again, in order. 0, or
 * SS_REPORTED after saying why the --late file cannot be emptied. */
int ss_evtime_rebuild_upto(struct ss_evtime *ev, int64_t t);
/* A record with event time 't': into its batch, or late; batches the
 * watermark passes go out. 0, or a negative errno code from the
 * batcher. */
int ss_evtime_add(struct ss_evtime *ev, int64_t t, const char *val,
                  size_t vlen);
/* The input has been silent for --idle-timeout plus 'more' ms: the open
 * batches go out, and one more batch per interval of 'more'. */
int ss_evtime_idle(struct ss_evtime *ev, int64_t more);
/* The input ended: every open batch goes out. */
int ss_evtime_finish(struct ss_evtime *ev);
/* Say how many records were late, how late, and where they went. */
void ss_evtime_report(const struct ss_evtime *ev);
/* Flush and close the --late file: 0 or SS_REPORTED. */
int ss_evtime_release(struct ss_evtime *ev);

#endif
