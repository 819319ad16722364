/* multi.h - several frame streams read side by side, aligned on batch
 * time (--union, --join-stream, --cogroup).
 *
 * Input 0 is stdin; the others are paths (a FIFO, a file, bash's <(...)).
 * ss_multi_next() picks the earliest batch time any input has next; every
 * input whose next batch has that time takes part, the others have no
 * batch at that time (an empty one, as far as the caller is concerned).
 * So streams that start at different times, or skip a time, still line
 * up. Every input must have the same batch interval.
 *
 * Reads block, one input at a time: inputs are expected to be fed by
 * independent producers. Two branches of one tee(1) can deadlock when a
 * single batch outgrows a pipe buffer (64 KiB); use files or separate
 * sources for such graphs.
 *
 * Owns: one batch reader per input, and the descriptors it opened. A frame
 * returned by ss_multi_part() is a view valid until the next call on the
 * same input.
 */
#ifndef SS_MULTI_H
#define SS_MULTI_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct ss_multi_input {
    struct ss_frame_batch_reader br; /* br.f: the batch's first frame */
    const char *name;                /* "stdin" or the path */
    const char *opt; /* the option that named it, for messages */
};

struct ss_multi {
    struct ss_multi_input *in;
    size_t n;
    int64_t time;      /* current batch time */
    uint32_t interval; /* common interval; 0 before the first frame */
    size_t first;      /* input whose interval set it */
    int64_t last;      /* latest batch time seen, for end-of-stream */
};

/* Room for n inputs; input 0 is stdin. 0 or -ENOMEM. */
int ss_multi_init(struct ss_multi *m, size_t n);
/* Open input i (>= 1) from 'path', named in messages after 'opt'. 0, or
 * SS_REPORTED. */
int ss_multi_open(struct ss_multi *m, size_t i, const char *opt,
                  const char *path);
/* Advance to the next batch time, in m->time: 1, 0 when every input has
 * ended, SS_REPORTED after reporting (torn stream, interval mismatch). */
int ss_multi_next(struct ss_multi *m);
/* Input i has a batch at m->time. */
int ss_multi_has(const struct ss_multi *m, size_t i);
/* Next frame of input i's batch at m->time: 1 and *f, 0 when its batch is
 * done (or it has none), SS_REPORTED after reporting. */
int ss_multi_part(struct ss_multi *m, size_t i, struct ss_frame *f);
void ss_multi_release(struct ss_multi *m);

#endif
