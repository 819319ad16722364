/* proc.h - run a shell command on a batch: its stdin fed from a buffer,
 * its stdout optionally collected, its end reported (Spark's transform
 * through --exec, and foreachRDD through sstream-sink --foreach).
 *
 * Owns nothing past the call: the input is only read, collected output is
 * appended to the caller's buffer. Each call runs its own libuv loop, so
 * the command's stdin and stdout are served together and a command that
 * writes before it has read all its input cannot deadlock against us.
 */
#ifndef SS_PROC_H
#define SS_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct ss_proc_opts {
    const char *cmd;        /* run as: /bin/sh -c cmd */
    const char *const *env; /* NAME=VALUE set for the command (on top of
                               ours), NULL-terminated; or NULL */
    const char *in;         /* the command's stdin: in[0..inlen) */
    size_t inlen;
    int in_fd;          /* not 0: the command's stdin is this descriptor instead
                           (inherited, read from its offset); in is not used */
    struct ss_buf *out; /* its stdout is appended here; NULL: it writes
                           to our stdout */
};

struct ss_proc_status {
    int64_t exit_status; /* when term_signal is 0 */
    int term_signal;     /* the signal that killed it, or 0 */
};

/* Run o->cmd to its end. 0 with *st filled when it ran (whatever its exit
 * status), or a negative libuv/errno code when it could not be started or
 * its output could not be read; nothing is reported. A command that exits
 * without reading all its input is not an error (as `head` in a pipe). */
int ss_proc_run(const struct ss_proc_opts *o, struct ss_proc_status *st);
/* 1 when st is a clean exit with status 0. */
int ss_proc_ok(const struct ss_proc_status *st);
/* "exited with status 3" or "killed by signal 9" in buf[0..n); buf. */
const char *ss_proc_describe(const struct ss_proc_status *st, char *buf,
                             size_t n);

#endif
