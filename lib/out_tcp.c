/* out_tcp.c - --connect HOST:PORT on the sink: push the output lines to a
 * server (nc -lk, a log collector), one write per batch.
 *
 * The connection is made before the first frame is read, so an
 * unreachable server stops the sink at once, and so does one that does
 * not answer within --connect-timeout (a firewall dropping packets would
 * otherwise hold the sink for the kernel's two minutes). Writes wait for the
 * kernel to take the bytes: a slow server holds the pipeline back.
 *
 * A server that goes away later is reconnected to as the source's
 * --connect does (lib/backoff: 250ms doubling to 8s, the same words),
 * until it is back. What it had is judged by how the connection ended,
 * which the sink reads (and drops what the server sends): a close (EOF)
 * comes after the server read everything, so the batch at hand goes to
 * the new connection; a reset, or a write that fails, may have lost what
 * the kernel had taken, so the last batch sent goes again with it, and
 * the message says so (the server may then see it twice). TCP tells
 * nothing more: lines the server had read, but not handled, when it
 * died are the one loss no client can see.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "backoff.h"
#include "diag.h"
#include "dur.h"
#include "opt.h"
#include "out.h"

struct otcp {
    struct ss_out o;
    char what[300];
    char host[256];
    unsigned port;
    uv_loop_t loop;
    uv_tcp_t tcp;
    uv_timer_t deadline; /* of the connect in flight */
    int64_t timeout;     /* --connect-timeout, ms; 0: none */
    int timed_out;
    int tcp_live;
    int status; /* of the last connect or write */
    int ended;  /* the server ended the connection: UV_EOF or an error */
    char rbuf[4096];
    struct ss_backoff bo;
    struct ss_buf buf;  /* the batch at hand */
    struct ss_buf last; /* the batch sent before, while it may be lost */
    int64_t last_time;  /* its time; INT64_MIN: none */
};

static void
on_connect(uv_connect_t *req, int status)
{
    struct otcp *t = req->data;

    t->status = status;
    uv_timer_stop(&t->deadline);
}

/* --connect-timeout: give the attempt up; on_connect() gets
 * UV_ECANCELED. */
static void
on_deadline(uv_timer_t *timer)
{
    struct otcp *t = timer->data;

    t->timed_out = 1;
    uv_close((uv_handle_t *)&t->tcp, NULL);
    t->tcp_live = 0;
}

static void
on_alloc(uv_handle_t *h, size_t want, uv_buf_t *b)
{
    struct otcp *t = h->data;

    (void)want;
    *b = uv_buf_init(t->rbuf, sizeof(t->rbuf));
}

/* What the server says is dropped; how it ends the connection counts. */
static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct otcp *t = s->data;

    (void)b;
    if (n < 0) {
        t->ended = (int)n;
        uv_read_stop(s);
    }
}

static void
on_write(uv_write_t *req, int status)
{
    ((struct otcp *)req->data)->status = status;
}

static void
close_tcp(struct otcp *t)
{
    if (!t->tcp_live)
        return;
    uv_close((uv_handle_t *)&t->tcp, NULL);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    t->tcp_live = 0;
}

/* One attempt at each address of the name until one answers: 0, or -1
 * with the reason in why[n]. */
static int
dial(struct otcp *t, char *why, size_t n)
{
    struct addrinfo hints, *res, *ai;
    uv_getaddrinfo_t gai;
    uv_connect_t req;
    char ps[8], dur[32];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(ps, sizeof(ps), "%u", t->port);
    /* No callback: libuv resolves synchronously. */
    if ((rc = uv_getaddrinfo(&t->loop, &gai, NULL, t->host, ps, &hints)) < 0)
        return snprintf(why, n, "cannot resolve '%s': %s", t->host,
                        uv_strerror(rc)),
               -1;
    res = gai.addrinfo;
    rc = UV_EADDRNOTAVAIL;
    for (ai = res; ai != NULL && rc != 0; ai = ai->ai_next) {
        close_tcp(t);
        uv_tcp_init(&t->loop, &t->tcp);
        t->tcp.data = t;
        t->tcp_live = 1;
        req.data = t;
        t->timed_out = 0;
        if ((rc = uv_tcp_connect(&req, &t->tcp, ai->ai_addr, on_connect)) ==
            0) {
            if (t->timeout > 0)
                uv_timer_start(&t->deadline, on_deadline, (uint64_t)t->timeout,
                               0);
            uv_run(&t->loop, UV_RUN_DEFAULT);
            rc = t->status;
        }
    }
    uv_freeaddrinfo(res);
    if (rc == 0) {
        t->ended = 0;
        rc = uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read);
    }
    if (rc < 0 && t->timed_out)
        snprintf(why, n, "no answer within %s (--connect-timeout)",
                 ss_dur_format(t->timeout, dur, sizeof(dur)));
    else if (rc < 0)
        snprintf(why, n, "%s", uv_strerror(rc));
    return rc < 0 ? -1 : 0;
}

/* The connection is gone for 'why': try again, as the source does, until
 * the server is back. 'lost': the last batch sent goes again. */
static void
redial(struct otcp *t, const char *why, int lost)
{
    char again[200];
    const char *verb = "reconnecting";

    close_tcp(t);
    for (;;) {
        uv_sleep((unsigned)ss_backoff_say(&t->bo, t->what, why, verb));
        if (dial(t, again, sizeof(again)) == 0)
            break;
        why = again;
        verb = "retrying";
    }
    ss_backoff_reset(&t->bo);
    if (lost && t->last_time != INT64_MIN)
        ss_diag("%s: connected; batch %" PRId64
                " goes again (the server may have lost it)",
                t->what, t->last_time);
    else
        ss_diag("%s: connected", t->what);
}

static int
write_all(struct otcp *t, struct ss_buf *b)
{
    uv_write_t req;
    uv_buf_t u = uv_buf_init(b->data, (unsigned)b->len);
    int rc;

    if (b->len == 0)
        return 0;
    req.data = t;
    t->status = 1; /* on_write() sets it */
    if ((rc = uv_write(&req, (uv_stream_t *)&t->tcp, &u, 1, on_write)) < 0)
        return rc;
    /* the read of the connection keeps the loop alive: run it until the
     * write is done, not until it has nothing left to do */
    while (t->status == 1)
        uv_run(&t->loop, UV_RUN_ONCE);
    return t->status;
}

/* The batch at 'time' to the server, on a new connection if the server
 * went away; after a reset or a failed write, the batch before it too. */
static int
send_buf(struct otcp *t, int64_t time)
{
    char why[200];
    int rc, lost = 0;

    for (;;) {
        uv_run(&t->loop, UV_RUN_NOWAIT); /* how the server ended, if it did */
        if (t->ended != 0) {
            lost = lost || t->ended != UV_EOF;
            redial(t,
                   t->ended == UV_EOF ? "connection closed"
                                      : uv_strerror(t->ended),
                   lost);
        }
        if ((!lost || (rc = write_all(t, &t->last)) == 0) &&
            (rc = write_all(t, &t->buf)) == 0)
            break;
        snprintf(why, sizeof(why), "batch %" PRId64 ": %s", time,
                 uv_strerror(rc));
        lost = 1;
        redial(t, why, lost);
    }
    /* kept: a reset before the next batch may have lost it */
    ss_buf_reset(&t->last);
    if (ss_buf_append(&t->last, t->buf.data, t->buf.len) < 0)
        return ss_diag_err(-ENOMEM, "%s", t->what);
    t->last_time = time;
    ss_buf_reset(&t->buf);
    return 0;
}

static int
tcp_frame(struct ss_out *o, const struct ss_frame *f, int first)
{
    struct otcp *t = (struct otcp *)o;
    int rc;

    (void)first;
    if ((rc = ss_out_lines(&t->buf, f)) < 0)
        return ss_diag_err(rc, "%s", t->what);
    return 0;
}

static int
tcp_end(struct ss_out *o, int64_t time)
{
    return send_buf((struct otcp *)o, time);
}

static void
tcp_free(struct ss_out *o)
{
    struct otcp *t = (struct otcp *)o;

    close_tcp(t);
    uv_close((uv_handle_t *)&t->deadline, NULL);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    uv_loop_close(&t->loop);
    ss_buf_release(&t->buf);
    ss_buf_release(&t->last);
    free(t);
}

static const struct ss_out_ops tcp_ops = {tcp_frame, tcp_end, tcp_free};

int
ss_out_tcp_new(const char *hostport, int64_t timeout_ms, struct ss_out **out)
{
    struct otcp *t = calloc(1, sizeof(*t));
    char why[300];

    if (t == NULL)
        return ss_diag_err(-ENOMEM, "--connect");
    t->o.ops = &tcp_ops;
    snprintf(t->what, sizeof(t->what), "--connect %s", hostport);
    uv_loop_init(&t->loop);
    uv_timer_init(&t->loop, &t->deadline);
    t->deadline.data = t;
    t->timeout = timeout_ms;
    t->last_time = INT64_MIN;
    ss_backoff_reset(&t->bo);
    *out = &t->o;
    if (ss_opt_hostport_split(hostport, 1, t->host, sizeof(t->host), &t->port) <
        0)
        return ss_diag("--connect: '%s' is not HOST:PORT", hostport);
    if (dial(t, why, sizeof(why)) < 0)
        return ss_diag("%s: %s", t->what, why);
    return 0;
}
