/* diag.h - messages on stderr: "sstream-NAME: what went wrong".
 * Owns: the program name kept by ss_diag_init(). Every function writes one
 * whole line with one write(2) and returns -1, so that "return ss_diag(..)"
 * reports and fails in one statement, as git's error() does.
 */
#ifndef SS_DIAG_H
#define SS_DIAG_H

#include <stdint.h>

void ss_diag_init(const char *argv0);
const char *ss_diag_prog(void);
int ss_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: line N: msg" */
int ss_diag_line(unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "prog: batch T, record N: msg" (N counts from 1) */
int ss_diag_rec(int64_t batch, uint64_t rec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "prog: msg: strerror(-err)" for a negative errno-style code. */
int ss_diag_err(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
