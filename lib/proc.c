/* proc.c - shell commands in sessions of their own.
 *
 * ss_proc_run(): one command per call, on a private libuv loop. The loop
 * lives on the stack of ss_proc_run() and ends with it: every handle is
 * closed before uv_loop_close(), which is the only way libuv lets a loop
 * go. Per batch, not per record, so the cost of setting up a loop is lost
 * in the cost of fork/exec.
 *
 * The session: UV_PROCESS_DETACHED makes the child call setsid(), so it
 * leads a new session and process group (both its pid) with no
 * controlling terminal. (A process group of its own in our session would
 * do for Ctrl-C, but libuv offers none, and a command writing to our
 * terminal from a background group stops under 'stty tostop'.) libuv also
 * resets the child's signal dispositions, so SIGINT cannot simply be
 * ignored for it.
 */
#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

struct run {
    uv_process_t proc;
    uv_pipe_t in, out;
    uv_write_t wr;
    struct ss_buf *outbuf;
    struct ss_proc_status *st;
    int err;       /* first error reading its stdout */
    int proc_init; /* uv_spawn() was called: proc must be closed */
};

static void
on_close(uv_handle_t *h)
{
    (void)h;
}

static void
on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
    struct run *r = p->data;

    r->st->exit_status = status;
    r->st->term_signal = sig;
    uv_close((uv_handle_t *)p, on_close);
}

/* A command may exit without reading its input (EPIPE): its choice. */
static void
on_written(uv_write_t *w, int status)
{
    (void)status;
    uv_close((uv_handle_t *)w->handle, on_close);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct run *r = h->data;

    (void)hint;
    if (ss_buf_reserve(r->outbuf, 1 << 16) < 0) {
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    buf->base = r->outbuf->data + r->outbuf->len;
    buf->len = r->outbuf->cap - r->outbuf->len;
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct run *r = s->data;

    (void)buf;
    if (n > 0) {
        ss_buf_commit(r->outbuf, (size_t)n);
        return;
    }
    if (n == 0)
        return; /* EAGAIN */
    if (n != UV_EOF && r->err == 0)
        r->err = n == UV_ENOBUFS ? -ENOMEM : (int)n;
    uv_close((uv_handle_t *)s, on_close);
}

static int
is_name(const char *entry, const char *nv)
{
    const char *eq = strchr(nv, '=');
    size_t n = eq != NULL ? (size_t)(eq - nv) : strlen(nv);

    return strncmp(entry, nv, n) == 0 && entry[n] == '=';
}

/* environ with o->env set on top; a malloc'ed array of borrowed strings. */
static char **
make_env(const char *const *extra)
{
    size_t n = 0, k = 0, i, j;
    char **env;

    while (environ[n] != NULL)
        n++;
    while (extra[k] != NULL)
        k++;
    if ((env = calloc(n + k + 1, sizeof(*env))) == NULL)
        return NULL;
    for (i = 0, n = 0; environ[i] != NULL; i++) {
        for (j = 0; j < k; j++)
            if (is_name(environ[i], extra[j]))
                break;
        if (j == k)
            env[n++] = environ[i];
    }
    for (j = 0; j < k; j++)
        env[n++] = (char *)extra[j];
    env[n] = NULL;
    return env;
}

int
ss_proc_spawn(uv_loop_t *loop, uv_process_t *p, const char *cmd, char **env,
              uv_stdio_container_t *stdio, uv_exit_cb exit_cb)
{
    char *args[] = {"/bin/sh", "-c", (char *)cmd, NULL};
    uv_process_options_t po;

    memset(&po, 0, sizeof(po));
    po.file = args[0];
    po.args = args;
    po.env = env;
    po.stdio = stdio;
    po.stdio_count = 3;
    po.exit_cb = exit_cb;
    po.flags = UV_PROCESS_DETACHED;
    return uv_spawn(loop, p, &po);
}

static void
on_end_tick(uv_timer_t *t)
{
    struct ss_proc_end *e = t->data;

    /* The group is gone when its last member has been reaped (the
     * command by libuv, what it started by init once orphaned). */
    if (kill(-e->pgid, 0) < 0 && errno == ESRCH) {
        uv_close((uv_handle_t *)t, NULL);
        return;
    }
    e->waited += 20;
    if (e->waited >= SS_PROC_GRACE_MS) {
        kill(-e->pgid, SIGKILL);
        uv_close((uv_handle_t *)t, NULL);
    }
}

void
ss_proc_end(uv_loop_t *loop, struct ss_proc_end *e, int pid)
{
    e->pgid = pid;
    e->waited = 0;
    e->timer.data = e;
    uv_timer_init(loop, &e->timer);
    if (pid <= 0 || kill(-pid, SIGTERM) < 0) { /* nothing left to end */
        uv_close((uv_handle_t *)&e->timer, NULL);
        return;
    }
    uv_timer_start(&e->timer, on_end_tick, 0, 20);
}

static int
start(uv_loop_t *loop, struct run *r, const struct ss_proc_opts *o)
{
    uv_stdio_container_t io[3];
    char **env = NULL;
    uv_buf_t b;
    int rc;

    if (o->env != NULL && (env = make_env(o->env)) == NULL)
        return -ENOMEM;
    if (o->in_fd != 0) {
        io[0].flags = UV_INHERIT_FD;
        io[0].data.fd = o->in_fd;
    } else {
        io[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
        io[0].data.stream = (uv_stream_t *)&r->in;
    }
    if (o->out != NULL) {
        io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
        io[1].data.stream = (uv_stream_t *)&r->out;
    } else {
        io[1].flags = UV_INHERIT_FD;
        io[1].data.fd = 1;
    }
    io[2].flags = UV_INHERIT_FD;
    io[2].data.fd = 2;
    r->proc_init = 1;
    rc = ss_proc_spawn(loop, &r->proc, o->cmd, env, io, on_exit_cb);
    free(env);
    if (rc < 0)
        return rc;
    if (o->out != NULL &&
        (rc = uv_read_start((uv_stream_t *)&r->out, on_alloc, on_read)) < 0)
        return rc;
    if (o->in_fd != 0 || o->inlen == 0) {
        uv_close((uv_handle_t *)&r->in, on_close);
        return 0;
    }
    b = uv_buf_init((char *)o->in, (unsigned)o->inlen);
    return uv_write(&r->wr, (uv_stream_t *)&r->in, &b, 1, on_written);
}

int
ss_proc_run(const struct ss_proc_opts *o, struct ss_proc_status *st)
{
    uv_loop_t loop;
    struct run r;
    int rc;

    /* uv_buf_t holds an unsigned int length. */
    if (o->inlen > (size_t)UINT32_MAX)
        return -E2BIG;
    if ((rc = uv_loop_init(&loop)) < 0)
        return rc;
    memset(&r, 0, sizeof(r));
    memset(st, 0, sizeof(*st));
    r.outbuf = o->out;
    r.st = st;
    r.proc.data = r.in.data = r.out.data = &r;
    uv_pipe_init(&loop, &r.in, 0);
    uv_pipe_init(&loop, &r.out, 0);
    rc = start(&loop, &r, o);
    if (rc < 0 && r.proc_init) {
        /* An active process handle is closed by on_exit_cb(); one whose
         * spawn failed is initialized but inactive, and closed here. */
        if (uv_is_active((uv_handle_t *)&r.proc))
            kill(-r.proc.pid, SIGKILL); /* it, and what it started */
        else
            uv_close((uv_handle_t *)&r.proc, on_close);
    }
    /* On failure no write is pending (uv_write() comes last), so both
     * pipes can close now; without capture, out was never used. */
    if (rc < 0 && !uv_is_closing((uv_handle_t *)&r.in))
        uv_close((uv_handle_t *)&r.in, on_close);
    if ((rc < 0 || o->out == NULL) && !uv_is_closing((uv_handle_t *)&r.out))
        uv_close((uv_handle_t *)&r.out, on_close);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rc < 0 ? rc : r.err;
}

int
ss_proc_ok(const struct ss_proc_status *st)
{
    return st->term_signal == 0 && st->exit_status == 0;
}

const char *
ss_proc_describe(const struct ss_proc_status *st, char *buf, size_t n)
{
    if (st->term_signal != 0)
        snprintf(buf, n, "killed by signal %d", st->term_signal);
    else
        snprintf(buf, n, "exited with status %lld", (long long)st->exit_status);
    return buf;
}
