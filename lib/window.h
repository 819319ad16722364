/* window.h - sstream-window: Spark's window operations over frames read
 * from stdin, one frame per slide written to stdout.
 *
 * A window of length W sliding by S is kept as panes of G = gcd(W, S)
 * milliseconds (every pane a multiple of the batch interval); a window is
 * the W / G panes before its end. Invertible operators (sum, count, mean)
 * keep a running aggregate: each closed pane is added and the pane that
 * leaves is subtracted, so the work per slide does not depend on W. The
 * others, and --no-inverse, merge the panes of the window at each slide.
 * Session windows (--session-gap) keep one open session per key instead.
 *
 * Owns: the config belongs to the caller and is only read; ss_window_run()
 * frees everything it allocates before it returns.
 */
#ifndef SS_WINDOW_H
#define SS_WINDOW_H

#include <stdint.h>

#include "op.h"
#include "stage.h"
#include "stats.h"

enum ss_window_mode {
    SS_WINDOW_PLAIN,          /* window(): the records, in arrival order */
    SS_WINDOW_COUNT,          /* countByWindow() */
    SS_WINDOW_REDUCE,         /* reduceByWindow() */
    SS_WINDOW_REDUCE_BY_KEY,  /* reduceByKeyAndWindow() */
    SS_WINDOW_COUNT_BY_VALUE, /* countByValueAndWindow() */
    SS_WINDOW_GROUP_BY_KEY,   /* groupByKeyAndWindow() */
};

/* Slides between recomputations of a running aggregate that holds a
 * double (integer sums are exact and never need one). */
#define SS_WINDOW_REBUILD_EVERY 64
#define SS_WINDOW_KEEP_OUTPUTS  10 /* --keep-outputs, at least, unless given */
/* Default --max-gap, in slides: a jump in batch time costs one frame per
 * slide it spans, so an unbounded one (a crafted or clock-broken time)
 * could write without end. 100000 empty frames are about 6 MB. */
#define SS_WINDOW_MAX_GAP_SLIDES 100000

struct ss_window_config {
    enum ss_window_mode mode;
    enum ss_op op;              /* --reduce, --reduce-by-key */
    int64_t window;             /* -w, ms; 0 with --session-gap */
    int64_t slide;              /* -s, ms; 0: the batch interval */
    int64_t session_gap;        /* --session-gap, ms; 0: sliding windows */
    char sep;                   /* --separator of groups (default ',') */
    int no_inverse;             /* --no-inverse */
    int keep_empty;             /* --keep-empty-keys */
    unsigned rebuild_every;     /* SS_WINDOW_REBUILD_EVERY */
    const char *rejects;        /* --rejects FILE */
    const char *checkpoint;     /* --checkpoint DIR */
    unsigned long keep_outputs; /* --keep-outputs: batches a replay gets;
                                   SS_REPLAY_KEEP_AUTO: as many as a restart
                                   may send again, at least the default */
    int64_t max_gap;            /* --max-gap, ms; 0: the default slides */
    int64_t lateness;           /* --allowed-lateness, ms; 0: none */

    const char *reduce_exec;  /* --reduce-exec CMD (mode REDUCE_BY_KEY) */
    const char *inverse_exec; /* --inverse-exec CMD */
    const char *filter_exec;  /* --filter-exec CMD */

    /* --stats, --stats-file */
    struct ss_stats_config stats;

    /* Frames in and out: stdin and stdout, or a shard's pipes (lib/shard) */
    int fd_in, fd_out;
    /* fd_in and fd_out are a shard's pipes: frames on them go without
     * checksums (struct ss_frame_reader and ss_frame_writer 'own') */
    int own_frames;
};

void ss_window_config_init(struct ss_window_config *cfg);
/* Read frames from stdin to end-of-stream, write windows to stdout,
 * opening 'sg' (rejects, stats) first; the caller ends it with
 * ss_stage_end(). 0; SS_USAGE after reporting that the window, slide or
 * gap does not fit the input's batch interval, or the slide or
 * --keep-outputs what a restart may send again; -EPIPE when the reader
 * of stdout went away; SS_REPORTED after reporting anything else. */
int ss_window_run(const struct ss_window_config *cfg, struct ss_stage *sg);

#endif
