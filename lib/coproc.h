/* coproc.h - a coprocess: one long-lived command that answers batches.
 *
 * The protocol is man/sstream-coprocess.7. The command starts once
 * (lib/proc: '/bin/sh -c CMD' in a session of its own, ended whole) and
 * is sent a hello line, then for each batch a request: a header line,
 * the records as escaped lines, and the end line '\.'. It answers with
 * record lines and the end line. A record is escaped so that it fits on
 * one line: '\\' for a backslash, '\t' for a tab, '\n' for a newline
 * (after PostgreSQL's COPY text format, whose end line '\.' is ours too:
 * no escaped record can be it).
 *
 * The command keeps no state between batches (the protocol gives it
 * none to keep), so one that dies, or closes its output, before its end
 * line is started again (lib/backoff's waits, a line on stderr each
 * time) and asked the same request, up to SS_COPROC_RESTARTS times in a
 * row; past that the call fails.
 *
 * Owns: the command, its private libuv loop and the two pipes, from
 * ss_coproc_start() to ss_coproc_stop() (which ends the command, and
 * what it started, and frees everything). The request is borrowed for
 * the call; the answer is appended to the caller's buffer.
 */
#ifndef SS_COPROC_H
#define SS_COPROC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "proc.h"

#define SS_COPROC_VERSION  1
#define SS_COPROC_RESTARTS 3 /* restarts in a row before a call fails */

struct ss_coproc {
    uv_loop_t loop;
    uv_process_t proc;
    uv_pipe_t in, out; /* its stdin (we write), its stdout (we read) */
    uv_write_t wr;
    struct ss_buf *ans; /* the call's answer buffer */
    size_t scan;        /* ans bytes already looked at for the end line */
    size_t line;        /* where the line being scanned starts */
    int writing, done;  /* the request is being written; the answer is in */
    int err;            /* the first failure of the call, or 0 */
    int eof;            /* its stdout closed */
    int exited;         /* the command ended: st says how */
    struct ss_proc_status st;
    uv_timer_t grace; /* between its EOF and its exit */
    int grace_over;
    int started;    /* the loop is up: ss_coproc_stop() has work */
    int spawned;    /* uv_spawn() was called: proc must be closed */
    int running;    /* ... and it started */
    char hello[64]; /* the hello line, until the first call sends it */
    size_t hello_len;
    const char *cmd;   /* ss_coproc_start()'s, for restarts */
    char mode[32];     /* ... and its mode */
    unsigned restarts; /* in a row, since the last answer */
    uint64_t wait_ms;  /* lib/backoff's next wait */
};

/* Start 'cmd'; the hello line 'sstream-coprocess 1 MODE' goes with the
 * first call, so a command that exits at once is told by its status.
 * 'cmd' must stay valid until ss_coproc_stop() (restarts run it again).
 * 0, or a negative libuv/errno code (nothing said); stop c either way. */
int ss_coproc_start(struct ss_coproc *c, const char *cmd, const char *mode);

/* Send req[0..n) (a whole request, end line included) and wait for the
 * answer: its record lines, without the end line, appended to 'ans'.
 * 0; -EPIPE when the command ended or closed its stdout first, and again
 * after each of SS_COPROC_RESTARTS restarts (ss_coproc_describe() says
 * how); -EPROTO when it wrote past its end line; or another negative
 * code. */
int ss_coproc_call(struct ss_coproc *c, const char *req, size_t n,
                   struct ss_buf *ans);

/* How the command ended, or "closed its output", in buf[0..n); buf. */
const char *ss_coproc_describe(const struct ss_coproc *c, char *buf, size_t n);

/* Close its stdin (its cue to exit), end it with its group (SIGTERM, then
 * SIGKILL after SS_PROC_GRACE_MS) and free all. Safe on a zeroed c. */
void ss_coproc_stop(struct ss_coproc *c);

/* Append p[0..n) escaped. 0 or -ENOMEM. */
int ss_coproc_escape(struct ss_buf *b, const char *p, size_t n);
/* Unescape p[0..n) in place: the new length, or -1 for a backslash
 * followed by anything but '\\', 't' or 'n' (or by nothing). */
long ss_coproc_unescape(char *p, size_t n);

#endif
