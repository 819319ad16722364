/* proc.h - shell commands: the one place that starts them.
 *
 * Every command runs as '/bin/sh -c CMD' in a session, and so a process
 * group, of its own (setsid). Ctrl-C at a terminal sends SIGINT to the
 * pipeline's process group: the stages that read frames ignore it and
 * drain, and so must the commands they run, which are not in that group
 * (a command is the stage's to end, not the terminal's). Its stdin is
 * never the terminal (a pipe, a file or /dev/null), so it needs none.
 * And a command that started others ('tail -F log | grep x') is ended
 * whole: ss_proc_end() signals its group.
 *
 * ss_proc_run() runs a command on a batch: its stdin fed from a buffer,
 * its stdout optionally collected, its end reported (Spark's transform
 * through --exec, and foreachRDD through sstream-sink --foreach). It owns
 * nothing past the call: the input is only read, collected output is
 * appended to the caller's buffer. Each call runs its own libuv loop, so
 * the command's stdin and stdout are served together and a command that
 * writes before it has read all its input cannot deadlock against us.
 *
 * ss_proc_spawn() starts one on the caller's loop (sstream-source --exec).
 */
#ifndef SS_PROC_H
#define SS_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"

#define SS_PROC_GRACE_MS 2000 /* from SIGTERM to SIGKILL in ss_proc_end() */

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

/* Start '/bin/sh -c cmd' on 'loop' into 'p', in a session of its own, with
 * stdio[0..3) as uv_spawn() takes them and 'env' (NULL: ours). 0, or a
 * libuv code (then p is initialised but inactive: close it). exit_cb is
 * libuv's; close p there, not before, so that libuv reaps the command. */
int ss_proc_spawn(uv_loop_t *loop, uv_process_t *p, const char *cmd, char **env,
                  uv_stdio_container_t *stdio, uv_exit_cb exit_cb);

/* Ending a command with all it started, on a loop: SIGTERM to its process
 * group now, SIGKILL to whatever is left of the group SS_PROC_GRACE_MS
 * later. Its timer looks every 20ms whether the group is gone and closes
 * itself when it is, so the loop lives until then: keep the struct until
 * the loop has run dry. */
struct ss_proc_end {
    uv_timer_t timer;
    int pgid;
    uint64_t waited; /* ms since the SIGTERM */
};

/* 'pid' is the command's, as ss_proc_spawn() started it. */
void ss_proc_end(uv_loop_t *loop, struct ss_proc_end *e, int pid);

#endif
