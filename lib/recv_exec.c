/* recv_exec.c - --exec CMD: a custom receiver, the records of a command's
 * stdout ('tail -F log', 'kcat -C ...', 'mosquitto_sub ...').
 *
 * CMD runs under 'sh -c' (lib/proc: a session of its own, so the
 * terminal's Ctrl-C ends the stream through us, not CMD under us) with
 * stdin from /dev/null and our stderr. It is done when it has both exited
 * and closed its stdout; a failure (non-zero status, a signal) is
 * reported. With --exec-restart it runs again after a backoff, whatever
 * its status; without, this input ends there. When the stream ends
 * first, CMD and everything it started get SIGTERM, and SIGKILL if they
 * are still there after SS_PROC_GRACE_MS ('tail -F log | grep x' leaves no
 * tail behind).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "proc.h"
#include "recv_kit.h"

#define LONG_RUN_MS 10000 /* a run this long resets the backoff */

struct rexec {
    struct ss_recv r;
    char what[200];
    const char *cmd;
    int restart;
    uv_process_t proc;
    struct ss_recv_conn conn; /* conn.u.pipe: CMD's stdout */
    uv_timer_t retry;
    struct ss_proc_end end; /* the stream ended while CMD ran */
    struct ss_backoff bo;
    uint64_t started; /* uv_now() at spawn */
    int proc_live;    /* the process handle is open */
    int pgid;         /* CMD's process group (its pid), 0 before a spawn */
    int pipe_live;    /* the pipe handle is open */
    int exited, eof;
    int64_t status;
    int signal;
    int stopped;
};

static void spawn_cmd(struct rexec *x);

static void
on_retry(uv_timer_t *t)
{
    spawn_cmd(t->data);
}

static void
on_proc_closed(uv_handle_t *h)
{
    ((struct rexec *)h->data)->proc_live = 0;
}

static void
on_pipe_closed(uv_handle_t *h)
{
    struct ss_recv_conn *conn = h->data;

    ((struct rexec *)conn->owner)->pipe_live = 0;
}

/* Both the exit and the end of stdout are in: report, restart or end. */
static void
done(struct rexec *x)
{
    char how[64] = "";
    uint64_t ms;
    int failed = x->status != 0 || x->signal != 0;

    if (!x->exited || !x->eof || x->stopped)
        return;
    if (x->signal != 0)
        snprintf(how, sizeof(how), "killed by signal %d", x->signal);
    else if (x->status != 0)
        snprintf(how, sizeof(how), "exited with status %lld",
                 (long long)x->status);
    if (!x->restart) {
        if (failed)
            ss_diag("%s: %s", x->what, how);
        ss_recv_end(&x->r, failed ? SS_REPORTED : 0);
        return;
    }
    if (uv_now(x->r.host->loop) - x->started >= LONG_RUN_MS)
        ss_backoff_reset(&x->bo);
    ms = ss_backoff_say(&x->bo, x->what, failed ? how : "ended", "restarting");
    if (failed)
        x->r.host->troubles++;
    uv_timer_start(&x->retry, on_retry, ms, 0);
}

static void
on_proc_exit(uv_process_t *p, int64_t status, int signal)
{
    struct rexec *x = p->data;

    x->exited = 1;
    x->status = status;
    x->signal = signal;
    uv_close((uv_handle_t *)p, on_proc_closed);
    done(x);
}

static void
conn_end(struct ss_recv_conn *conn, int status)
{
    struct rexec *x = (struct rexec *)conn->owner;

    if (status < 0) {
        ss_diag("%s: %s", x->what, uv_strerror(status));
        x->r.host->troubles++;
    }
    x->eof = 1;
    uv_close(&conn->u.handle, on_pipe_closed);
    done(x);
}

static void
spawn_cmd(struct rexec *x)
{
    uv_loop_t *loop = x->r.host->loop;
    uv_stdio_container_t stdio[3];
    int rc;

    if (x->stopped)
        return;
    x->exited = x->eof = 0;
    uv_pipe_init(loop, &x->conn.u.pipe, 0);
    x->conn.u.handle.data = &x->conn;
    x->pipe_live = 1;
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = &x->conn.u.stream;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = 2;
    x->proc.data = x;
    x->started = uv_now(loop);
    if ((rc = ss_proc_spawn(loop, &x->proc, x->cmd, NULL, stdio,
                            on_proc_exit)) < 0) {
        ss_diag("%s: cannot run: %s", x->what, uv_strerror(rc));
        uv_close((uv_handle_t *)&x->proc, NULL);
        uv_close(&x->conn.u.handle, on_pipe_closed);
        ss_recv_end(&x->r, SS_REPORTED);
        return;
    }
    x->proc_live = 1;
    x->pgid = x->proc.pid;
    ss_recv_in_release(&x->conn.in);
    if ((rc = ss_recv_conn_start(&x->conn, &x->r, x->what, conn_end)) < 0) {
        ss_diag("%s: %s", x->what, uv_strerror(rc));
        x->eof = 1;
        x->r.host->troubles++;
        uv_close(&x->conn.u.handle, on_pipe_closed);
    }
}

static void
exec_resume(struct ss_recv *r)
{
    struct rexec *x = (struct rexec *)r;

    if (x->pipe_live && !x->eof)
        ss_recv_conn_resume(&x->conn);
}

static void
exec_stop(struct ss_recv *r)
{
    struct rexec *x = (struct rexec *)r;

    if (x->stopped)
        return;
    x->stopped = 1;
    if (x->pipe_live && !x->eof) {
        ss_recv_conn_stop(&x->conn);
        uv_close(&x->conn.u.handle, on_pipe_closed);
    }
    /* The process handle stays open until on_proc_exit(), so that libuv
     * reaps CMD and its group can empty. A CMD that exited with its stdout
     * still open left a process behind that holds it: end that too. */
    if (x->pgid != 0 && (!x->exited || !x->eof))
        ss_proc_end(x->r.host->loop, &x->end, x->pgid);
    uv_close((uv_handle_t *)&x->retry, NULL);
}

static void
exec_free(struct ss_recv *r)
{
    struct rexec *x = (struct rexec *)r;

    ss_recv_in_release(&x->conn.in);
    free(x);
}

static const struct ss_recv_ops exec_ops = {exec_resume, NULL, exec_stop,
                                            exec_free};

int
ss_recv_exec_start(struct ss_recv_host *h, const char *cmd, int restart,
                   struct ss_recv **out)
{
    struct rexec *x = calloc(1, sizeof(*x));

    if (x == NULL)
        return ss_diag_err(-ENOMEM, "--exec");
    x->r.ops = &exec_ops;
    x->r.host = h;
    snprintf(x->what, sizeof(x->what), "--exec '%s'", cmd);
    x->r.what = x->what;
    x->cmd = cmd;
    x->restart = restart;
    x->conn.owner = &x->r;
    *out = &x->r;
    uv_timer_init(h->loop, &x->retry);
    x->retry.data = x;
    ss_backoff_reset(&x->bo);
    spawn_cmd(x);
    return 0;
}
