/* state_int.h - what the files of sstream-state share; private to
 * lib/state*.c:
 *
 *   state.c       the engine: records, undo lists, timeouts, checkpoints,
 *                 replays, output
 *   state_exec.c  --update-exec: a batch's keys through a long-lived
 *                 command (man/sstream-coprocess.7, mode update)
 *
 * The engine's struct stays its own: state_exec.c reads and changes the
 * state only through the ss_state__* calls below, which keep the undo
 * list (and so checkpoints, replays and --emit) right. A key's state
 * under --update-exec is the text the command answered (op 'last').
 * Names here are ss_state__*: internal, not API.
 */
#ifndef SS_STATE_INT_H
#define SS_STATE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "rejects.h"

struct st;
struct ss_state_exec;

/* The batch being applied, and its key count. */
int64_t ss_state__time(const struct st *s);
struct ss_rejects *ss_state__rejects(struct st *s);
/* The next key of the state after *cur (0 to start); NULL at the end.
 * Pointers hold until the state changes. */
const char *ss_state__next(struct st *s, size_t *cur, size_t *kl);
/* Key k's state text in *v, *vl: 1; 0 when it has none. *timing_out:
 * 1 when it would time out in this batch, had it no records. */
int ss_state__get(struct st *s, const char *k, size_t kl, const char **v,
                  size_t *vl, int *timing_out);
/* Set k's state to v[0..vl); 'fresh': k had records in this batch (its
 * idle time starts again). 0 or -ENOMEM. */
int ss_state__set(struct st *s, const char *k, size_t kl, const char *v,
                  size_t vl, int fresh);
/* Remove k (nothing when absent). 0 or -ENOMEM. */
int ss_state__remove(struct st *s, const char *k, size_t kl);
/* Emit record (k, v) in this batch's output under --emit records, after
 * those emitted before it; nothing under the other --emit. */
int ss_state__emit(struct st *s, const char *k, size_t kl, const char *v,
                   size_t vl);

/* state_exec.c */
/* Start 'cmd' (lib/coproc, mode update); 0, or reported: SS_REPORTED. */
int ss_state_exec_start(struct ss_state_exec **ex, const char *cmd);
/* Keep record r for the batch's request (r's bytes are copied). */
int ss_state_exec_take(struct ss_state_exec *ex, const struct ss_rec *r);
/* Send the batch (every key with records or state), apply the answer.
 * 0; SS_REPORTED when the command failed; -ENOMEM. */
int ss_state_exec_batch(struct ss_state_exec *ex, struct st *s);
/* End the command, free all; NULL is fine. */
void ss_state_exec_stop(struct ss_state_exec *ex);

#endif
