/* top.h - sstream-sink --top N: the N keys of largest value in each
 * batch (or window), ranked as sstream-map --sort-by value --desc ranks
 * them (lib/rank: numbers first, ties by key).
 *
 * On a terminal, a live view drawn with ncurses: the batch time, the
 * rates in and out, the end-to-end delay, the slowest stage, and a bar
 * chart of the top N, redrawn each batch and when the terminal is
 * resized (a thread waits for SIGWINCH; it also restores the terminal
 * before SIGTERM, SIGHUP or SIGINT ends the process, when they would).
 * While the view is up, messages on a terminal stderr are held and
 * written once the terminal is back. Elsewhere, plain lines:
 * time<TAB>rank<TAB>key<TAB>value.
 *
 * Owns: from ss_top_new() to ss_top_free(), the copies of the batch's
 * records, the rows on screen, the curses screen and its thread.
 */
#ifndef SS_TOP_H
#define SS_TOP_H

#include <stddef.h>

#include "buf.h"
#include "frame.h"
#include "stats.h"
#include "timefmt.h"

struct ss_top;

/* The top 'n' of each batch, times shown as 'tf' says (the caller's, kept
 * until ss_top_free()); live when stdout is a terminal. 0, or
 * SS_REPORTED after saying why. */
int ss_top_new(size_t n, const struct ss_timefmt *tf, struct ss_top **out);
/* Take the records of a frame of the batch; keyless records are an
 * error (SS_REPORTED), as for --sort-by key. 0, -ENOMEM, SS_REPORTED. */
int ss_top_frame(struct ss_top *t, const struct ss_frame *f);
/* The batch 'b' (its figures, lib/stats) is whole: draw it, or append
 * its lines to 'out'. 0 or -ENOMEM. */
int ss_top_end(struct ss_top *t, const struct ss_stats_batch *b,
               struct ss_buf *out);
/* Restore the terminal, write the messages held, free everything. */
void ss_top_free(struct ss_top *t);

#endif
