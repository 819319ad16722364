/* stage.h - what every binary does the same way: signals, the refusal to
 * write frames to a terminal, exit statuses, --version.
 * Owns nothing.
 */
#ifndef SS_STAGE_H
#define SS_STAGE_H

#include <stdio.h>

#define SS_VERSION "0.1.0"

enum ss_stage_role {
    SS_STAGE_SOURCE, /* starts a stream: SIGINT/SIGTERM end it cleanly */
    SS_STAGE_MIDDLE, /* frames in, frames out */
    SS_STAGE_SINK,   /* frames in, text out */
};

/* Signals for 'role': SIGPIPE is ignored everywhere (a write returns
 * -EPIPE instead); stages that read frames ignore SIGINT when their input
 * is not a terminal, because Ctrl-C reaches the whole pipeline and the
 * source answers it with end-of-stream, which they must live to see. */
void ss_stage_signals(enum ss_stage_role role);
/* Frames never come from, or go to, a terminal: 0, or -1 after saying
 * what to pipe in (stdin, for stages that read frames) or into (stdout,
 * for stages that write them). A usage error: exit 2. */
int ss_stage_check_pipes(enum ss_stage_role role);
/* Exit status for a lib/ result: 0 -> 0, -EPIPE -> die of SIGPIPE as
 * other filters do when their reader goes away, anything else -> 1. */
int ss_stage_exit(int rc);
void ss_stage_print_version(FILE *out);

#endif
