/* stage.h - what every binary does the same way: signals, the refusal to
 * read or write frames at a terminal, the end of a run (rejects, summary,
 * exit status), --version.
 * Owns: through struct ss_stage, a stage's --rejects file and its stats,
 * from ss_stage_open() to ss_stage_end(). The struct belongs to main()
 * and must stay where it is while open (SIGUSR1 reads its stats).
 */
#ifndef SS_STAGE_H
#define SS_STAGE_H

#include <stdio.h>

#include "rejects.h"
#include "stats.h"

#define SS_VERSION "0.1.0"

enum ss_stage_role {
    SS_STAGE_SOURCE, /* starts a stream: SIGINT/SIGTERM end it cleanly */
    SS_STAGE_MIDDLE, /* frames in, frames out */
    SS_STAGE_SINK,   /* frames in, text out */
};

/* What a stage keeps from its start to its exit status. All zero is a
 * stage not opened: ss_stage_end() then only maps the code. */
struct ss_stage {
    int opened;
    struct ss_rejects rej; /* records no operator could take (all stages) */
    struct ss_stats stats; /* stats.rej points at rej */
};

/* Signals for 'role': SIGPIPE is ignored everywhere (a write returns
 * -EPIPE instead); stages that read frames ignore SIGINT when their input
 * is not a terminal, because Ctrl-C reaches the whole pipeline and the
 * source answers it with end-of-stream, which they must live to see. */
void ss_stage_signals(enum ss_stage_role role);
/* Frames never come from, or go to, a terminal: 0, or SS_USAGE after
 * saying what to pipe in (stdin, for stages that read frames) or into
 * (stdout, for stages that write them). */
int ss_stage_check_pipes(enum ss_stage_role role);
/* Open the --rejects file 'rejects' (NULL: count only) and the stats of
 * stage 'name' ("map"). Engines call it where their run begins, so that
 * a failure here still ends their output stream as aborted. 0, or
 * SS_REPORTED with nothing left open. An 'sg' already open is left as it
 * is: a shard's (lib/shard), whose rejects and stats its lead keeps. */
int ss_stage_open(struct ss_stage *sg, const char *name, const char *rejects,
                  const struct ss_stats_config *stats);
/* The end of every run, the last call of every main(): report 'rc' if no
 * one has (a bare errno code), close the --rejects file, say how many
 * rejects there were and where they went, print the --stats summary and
 * close the stats file. Returns the exit status (DESIGN.md): 0; 1 for a
 * runtime failure, or rejects that were only reported; 2 for SS_USAGE;
 * -EPIPE (the reader went away) dies of SIGPIPE as other filters do,
 * quietly: the rejects are still kept, not reported. */
int ss_stage_end(struct ss_stage *sg, int rc);
void ss_stage_print_version(FILE *out);

#endif
