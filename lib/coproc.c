/* coproc.c - a coprocess on a private libuv loop.
 *
 * The loop is ours alone and runs only inside ss_coproc_call() and
 * ss_coproc_stop(), so the command's stdin and stdout are served
 * together (a child that answers record by record, as awk does, while
 * we are still writing a large batch cannot deadlock against us) and
 * nothing happens between batches. When the command closes its stdout
 * or exits before its end line, a grace timer waits a moment for the
 * other of the two, so that the message can say how it ended.
 */
#include "coproc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "diag.h"

#define END_LINE "\\."
#define GRACE_MS 1000 /* from its stdout's EOF to its exit, or back */

static void
on_close(uv_handle_t *h)
{
    (void)h;
}

static void
on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
    struct ss_coproc *c = p->data;

    c->exited = 1;
    c->st.exit_status = status;
    c->st.term_signal = sig;
    uv_close((uv_handle_t *)p, on_close);
}

static void
on_written(uv_write_t *w, int status)
{
    struct ss_coproc *c = w->data;

    c->writing = 0;
    if (status < 0 && c->err == 0)
        c->err = status == UV_EPIPE ? -EPIPE : status;
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct ss_coproc *c = h->data;

    (void)hint;
    if (c->ans == NULL || ss_buf_reserve(c->ans, 1 << 16) < 0) {
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    buf->base = c->ans->data + c->ans->len;
    buf->len = c->ans->cap - c->ans->len;
}

/* Look through the new bytes for the end line; what follows it in the
 * same read was written before it was asked for. */
static void
scan_answer(struct ss_coproc *c)
{
    struct ss_buf *a = c->ans;
    char *nl;

    while ((nl = memchr(a->data + c->scan, '\n', a->len - c->scan)) != NULL) {
        size_t len = (size_t)(nl - (a->data + c->line));

        if (len == 2 && memcmp(a->data + c->line, END_LINE, 2) == 0) {
            if ((size_t)(nl + 1 - a->data) != a->len && c->err == 0)
                c->err = -EPROTO;
            a->len = c->line;
            c->done = 1;
            return;
        }
        c->scan = c->line = (size_t)(nl + 1 - a->data);
    }
    c->scan = a->len;
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct ss_coproc *c = s->data;

    (void)buf;
    if (n > 0) {
        ss_buf_commit(c->ans, (size_t)n);
        if (!c->done)
            scan_answer(c);
        else if (c->err == 0)
            c->err = -EPROTO;
        return;
    }
    if (n == 0)
        return; /* EAGAIN */
    if (c->err == 0)
        c->err = n == UV_EOF ? -EPIPE : n == UV_ENOBUFS ? -ENOMEM : (int)n;
    c->eof = 1;
    uv_read_stop(s);
}

static void
on_grace(uv_timer_t *t)
{
    struct ss_coproc *c = t->data;

    c->grace_over = 1;
}

int
ss_coproc_start(struct ss_coproc *c, const char *cmd, const char *mode)
{
    uv_stdio_container_t io[3];
    int rc;

    memset(c, 0, sizeof(*c));
    if ((rc = uv_loop_init(&c->loop)) < 0)
        return rc;
    c->started = 1;
    c->proc.data = c->in.data = c->out.data = c->wr.data = c->grace.data = c;
    uv_pipe_init(&c->loop, &c->in, 0);
    uv_pipe_init(&c->loop, &c->out, 0);
    uv_timer_init(&c->loop, &c->grace);
    io[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    io[0].data.stream = (uv_stream_t *)&c->in;
    io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    io[1].data.stream = (uv_stream_t *)&c->out;
    io[2].flags = UV_INHERIT_FD;
    io[2].data.fd = 2;
    c->spawned = 1;
    if ((rc = ss_proc_spawn(&c->loop, &c->proc, cmd, NULL, io, on_exit_cb)) < 0)
        return rc;
    c->running = 1;
    if ((rc = uv_read_start((uv_stream_t *)&c->out, on_alloc, on_read)) < 0)
        return rc;
    /* Sent with the first request: a command that fails at once is then
     * reported as any other that dies, with its exit status. */
    c->hello_len =
        (size_t)snprintf(c->hello, sizeof(c->hello),
                         "sstream-coprocess %d %s\n", SS_COPROC_VERSION, mode);
    c->cmd = cmd;
    snprintf(c->mode, sizeof(c->mode), "%s", mode);
    return 0;
}

/* Until the answer is in, or the command is gone (or going: its stdout
 * closed or its exit seen, and the grace time over). */
static void
wait_answer(struct ss_coproc *c)
{
    while (!(c->done && !c->writing)) {
        if (c->eof && c->exited)
            break;
        if (c->grace_over)
            break;
        if ((c->eof || c->exited) && !uv_is_active((uv_handle_t *)&c->grace))
            uv_timer_start(&c->grace, on_grace, GRACE_MS, 0);
        uv_run(&c->loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&c->grace);
}

static int
call_once(struct ss_coproc *c, const char *req, size_t n, struct ss_buf *ans)
{
    uv_buf_t b[2];
    unsigned nb = 0;
    int rc;

    if (n > (size_t)UINT32_MAX) /* uv_buf_t holds an unsigned int */
        return -E2BIG;
    if (c->err != 0 || c->eof || c->exited)
        return c->err != 0 ? c->err : -EPIPE;
    c->ans = ans;
    c->scan = c->line = ans->len;
    c->done = 0;
    if (c->hello_len > 0)
        b[nb++] = uv_buf_init(c->hello, (unsigned)c->hello_len);
    c->hello_len = 0;
    b[nb++] = uv_buf_init((char *)req, (unsigned)n);
    if ((rc = uv_write(&c->wr, (uv_stream_t *)&c->in, b, nb, on_written)) < 0)
        return rc;
    c->writing = 1;
    wait_answer(c);
    c->ans = NULL;
    if (c->done && c->err == 0)
        return 0;
    if (c->err == 0)
        c->err = -EPIPE;
    return c->err;
}

/* The command died before its answer: say so, wait lib/backoff's time
 * and start it again, its restart count and wait kept. 0 or a negative
 * code from ss_coproc_start(). */
static int
restart(struct ss_coproc *c)
{
    struct ss_backoff bo = {c->wait_ms};
    unsigned restarts = c->restarts + 1;
    const char *cmd = c->cmd;
    char how[96], mode[sizeof(c->mode)], what[160];
    uint64_t ms;
    struct timespec ts;

    c->restarts = 0; /* how it ended, without the count */
    ss_coproc_describe(c, how, sizeof(how));
    snprintf(what, sizeof(what), "coprocess '%s'", cmd);
    snprintf(mode, sizeof(mode), "%s", c->mode);
    ms = ss_backoff_say(&bo, what, how, "restarting it");
    ss_coproc_stop(c);
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    if (ss_coproc_start(c, cmd, mode) < 0)
        return -EPIPE;
    c->restarts = restarts;
    c->wait_ms = bo.next_ms;
    return 0;
}

int
ss_coproc_call(struct ss_coproc *c, const char *req, size_t n,
               struct ss_buf *ans)
{
    size_t len = ans->len;
    int rc;

    while ((rc = call_once(c, req, n, ans)) == -EPIPE &&
           c->restarts < SS_COPROC_RESTARTS) {
        ans->len = len; /* what the dead one wrote is not an answer */
        if ((rc = restart(c)) < 0)
            return rc;
    }
    if (rc == 0) {
        c->restarts = 0;
        c->wait_ms = 0;
    }
    return rc;
}

const char *
ss_coproc_describe(const struct ss_coproc *c, char *buf, size_t n)
{
    size_t len;

    if (c->err == -EPROTO)
        snprintf(buf, n, "wrote past its end line '\\.'");
    else if (c->exited)
        ss_proc_describe(&c->st, buf, n);
    else
        snprintf(buf, n, "closed its output before its end line '\\.'");
    len = strlen(buf);
    if (c->restarts > 0 && len < n)
        snprintf(buf + len, n - len, ", restarted %u times", c->restarts);
    return buf;
}

static void
close_if_open(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, on_close);
}

void
ss_coproc_stop(struct ss_coproc *c)
{
    struct ss_proc_end end;

    if (!c->started)
        return;
    if (c->writing) /* a call cut short: the write is cancelled below */
        c->writing = 0;
    uv_read_stop((uv_stream_t *)&c->out);
    close_if_open((uv_handle_t *)&c->in); /* EOF: its cue to exit */
    close_if_open((uv_handle_t *)&c->out);
    if (c->running && !c->exited) {
        c->grace_over = 0;
        uv_timer_start(&c->grace, on_grace, SS_PROC_GRACE_MS, 0);
        while (!c->exited && !c->grace_over)
            uv_run(&c->loop, UV_RUN_ONCE);
    }
    close_if_open((uv_handle_t *)&c->grace);
    /* What it started may outlive it: the group ends with it. */
    if (c->running)
        ss_proc_end(&c->loop, &end, c->proc.pid);
    else if (c->spawned)
        close_if_open((uv_handle_t *)&c->proc);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    uv_loop_close(&c->loop);
    c->started = 0;
}

int
ss_coproc_escape(struct ss_buf *b, const char *p, size_t n)
{
    const char *end;

    if (n == 0) /* p may be NULL then: no NULL + 0 */
        return 0;
    end = p + n;
    if (ss_buf_reserve(b, n) < 0)
        return -ENOMEM;
    for (; p < end; p++) {
        int rc;

        switch (*p) {
        case '\\':
            rc = ss_buf_append(b, "\\\\", 2);
            break;
        case '\t':
            rc = ss_buf_append(b, "\\t", 2);
            break;
        case '\n':
            rc = ss_buf_append(b, "\\n", 2);
            break;
        default:
            rc = ss_buf_putc(b, *p);
        }
        if (rc < 0)
            return -ENOMEM;
    }
    return 0;
}

long
ss_coproc_unescape(char *p, size_t n)
{
    size_t i, j;

    for (i = j = 0; i < n; i++, j++) {
        if (p[i] != '\\') {
            p[j] = p[i];
            continue;
        }
        if (++i == n)
            return -1;
        if (p[i] == '\\')
            p[j] = '\\';
        else if (p[i] == 't')
            p[j] = '\t';
        else if (p[i] == 'n')
            p[j] = '\n';
        else
            return -1;
    }
    return (long)j;
}
