/* diag.h - messages on stderr: "sstream-NAME: what went wrong", and the
 * codes that say a failure has been reported.
 * Owns: the program name kept by ss_diag_init(). Every function writes one
 * whole line with one write(2) and returns SS_REPORTED, so that
 * "return ss_diag(..)" reports and fails in one statement, as git's
 * error() does.
 */
#ifndef SS_DIAG_H
#define SS_DIAG_H

#include <stdatomic.h>
#include <stdint.h>

/* lib/ returns 0 (or a count), a negated errno value (libuv's codes are
 * the same numbers on Unix), or one of these. Both lie far below -4096,
 * out of reach of any errno (Linux's MAX_ERRNO is 4095) and of libuv's
 * own codes (UV_EOF -4095, UV_ERRNO_MAX -4096; checked in lib/stage.c),
 * so that "already said" is never taken for -EPERM.
 *   SS_REPORTED  a failure that has been reported: the stage exits 1;
 *   SS_USAGE     a usage error that only the input could show (a window
 *                that is not a multiple of the batch interval), reported:
 *                the stage exits 2.
 * The layer that reports turns an errno code into SS_REPORTED; above it,
 * codes travel up unchanged and no one reports them again. */
#define SS_REPORTED (-0x10000)
#define SS_USAGE    (-0x10001)

/* rc is a failure no one has reported yet (a negated errno value). */
#define SS_UNREPORTED(rc) ((rc) < 0 && (rc) > SS_REPORTED)

void ss_diag_init(const char *argv0);
const char *ss_diag_prog(void);
int ss_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: line N: msg" */
int ss_diag_line(unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "prog: batch T, record N: msg" (N counts from 1) */
int ss_diag_rec(int64_t batch, uint64_t rec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "prog: msg: strerror(-err)" for a negative errno-style code; nothing
 * for SS_REPORTED or SS_USAGE, which it returns as they are. */
int ss_diag_err(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* From now on this thread says nothing once *flag is set: a shard of
 * lib/shard, stopped by its lead, which has said why (once for all). */
void ss_diag_mute_on(const atomic_int *flag);

#endif
