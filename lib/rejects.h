/* rejects.h - records that could not be processed: counted, and written
 * to the --rejects file when there is one, as lines (the value, or
 * key<TAB>value), so that they can be fixed and fed back.
 *
 * The one policy for a record an operator cannot take (DESIGN.md, "Bad
 * input and limits"; sstream(7), REJECTS), whatever the reason: a value
 * that is not a number, one that would take an exact integer sum out of
 * 64 bits, a missing field. The record is left out of every result, the
 * state it would have changed stays as it was, one line names its batch
 * and place, it is counted and kept in the --rejects file if given, and
 * the run goes on. ss_rejects_record() and ss_rejects_value() are that
 * policy; stages call nothing else for a bad record.
 *
 * Owns: the open file and its output buffer until ss_rejects_close().
 */
#ifndef SS_REJECTS_H
#define SS_REJECTS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"

struct ss_rejects {
    int fd; /* -1: no --rejects file, only counted */
    const char *path;
    struct ss_buf out;
    uint64_t count; /* rejects seen */
    uint64_t kept;  /* rejects written to the file */
    char delim;     /* ends each reject: '\n' unless the input used another */
    /* Held (ss_rejects_hold()): rejects are kept in 'out' as entries, not
     * said; 'next' is the first one not yet passed on. */
    int held;
    size_t next;
};

/* path NULL: count only. 0, or SS_REPORTED after saying why the file cannot
 * open. */
int ss_rejects_open(struct ss_rejects *r, const char *path);
/* Count one reject and keep it if there is a file (key NULL: keyless). */
void ss_rejects_put(struct ss_rejects *r, const char *key, size_t klen,
                    const char *val, size_t vlen);
/* Reject record 'rec', number 'recno' (from 1) of the batch at 'batch':
 * "prog: batch T, record N: <fmt>", then ss_rejects_put(). */
void ss_rejects_record(struct ss_rejects *r, int64_t batch, uint64_t recno,
                       const struct ss_rec *rec, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Reject 'rec' for the error ss_acc_add() gave on its value: -EINVAL
 * "'abc' is not a number", -ERANGE "'1' takes the sum out of the 64-bit
 * integer range". Every stage says it in these words. */
void ss_rejects_value(struct ss_rejects *r, int64_t batch, uint64_t recno,
                      const struct ss_rec *rec, int err);
/* Stream part of an over-long record; 'last' ends it. */
void ss_rejects_put_part(struct ss_rejects *r, const char *p, size_t n,
                         int last);
/* A worker thread's rejects (lib/map_parallel.c): from now on r says
 * nothing and writes nothing; ss_rejects_record() keeps each reject, in
 * order, until ss_rejects_pass() hands it to the stage's own, on one
 * thread, at its place in the batch. r needs no open. */
void ss_rejects_hold(struct ss_rejects *r);
/* Say, count and keep in 'to' the held rejects of r up to record number
 * 'upto' (UINT64_MAX: all); forget them all once all are passed. */
void ss_rejects_pass(struct ss_rejects *r, struct ss_rejects *to,
                     uint64_t upto);
/* Write what is buffered; 0 or SS_REPORTED after reporting. Called per batch.
 */
int ss_rejects_flush(struct ss_rejects *r);
/* Flush and close; 0 or SS_REPORTED. */
int ss_rejects_close(struct ss_rejects *r);
/* Say how many rejects there were and where they went, if any. */
void ss_rejects_report(const struct ss_rejects *r);
/* Exit status rule of DESIGN.md: 1 when a reject was only reported. */
int ss_rejects_lost(const struct ss_rejects *r);

#endif
