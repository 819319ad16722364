/* out_tcp.c - --connect HOST:PORT on the sink: push the output lines to a
 * server (nc -lk, a log collector), one write per batch.
 *
 * The connection is made before the first frame is read, so an
 * unreachable server stops the sink at once, and so does one that does
 * not answer within --connect-timeout (a firewall dropping packets would
 * otherwise hold the sink for the kernel's two minutes). Writes wait for the
 * kernel to take the bytes: a slow server holds the pipeline back. A server
 * that goes away is an error naming the batch; no reconnect, since lines
 * written into a dying connection may be lost and the sink cannot know.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "diag.h"
#include "dur.h"
#include "opt.h"
#include "out.h"

#define FLUSH_BYTES (256 * 1024)

struct otcp {
    struct ss_out o;
    char what[300];
    uv_loop_t loop;
    uv_tcp_t tcp;
    uv_timer_t deadline; /* of the connect in flight */
    int64_t timeout;     /* --connect-timeout, ms; 0: none */
    int timed_out;
    int tcp_live;
    int status; /* of the last connect or write */
    struct ss_buf buf;
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
on_write(uv_write_t *req, int status)
{
    ((struct otcp *)req->data)->status = status;
}

static int
send_buf(struct otcp *t, int64_t time)
{
    uv_write_t req;
    uv_buf_t b = uv_buf_init(t->buf.data, (unsigned)t->buf.len);
    int rc;

    if (t->buf.len == 0)
        return 0;
    req.data = t;
    t->status = 0;
    rc = uv_write(&req, (uv_stream_t *)&t->tcp, &b, 1, on_write);
    if (rc == 0) {
        uv_run(&t->loop, UV_RUN_DEFAULT); /* until the write is done */
        rc = t->status;
    }
    ss_buf_reset(&t->buf);
    if (rc < 0)
        return ss_diag("%s: batch %" PRId64 ": %s", t->what, time,
                       uv_strerror(rc));
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
    if (t->buf.len >= FLUSH_BYTES)
        return send_buf(t, f->time);
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

    if (t->tcp_live)
        uv_close((uv_handle_t *)&t->tcp, NULL);
    uv_close((uv_handle_t *)&t->deadline, NULL);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    uv_loop_close(&t->loop);
    ss_buf_release(&t->buf);
    free(t);
}

static const struct ss_out_ops tcp_ops = {tcp_frame, tcp_end, tcp_free};

/* Try each address of the name until one answers. */
static int
connect_to(struct otcp *t, const char *host, unsigned port)
{
    struct addrinfo hints, *res, *ai;
    uv_getaddrinfo_t gai;
    uv_connect_t req;
    char ps[8], dur[32];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(ps, sizeof(ps), "%u", port);
    /* No callback: libuv resolves synchronously. */
    if ((rc = uv_getaddrinfo(&t->loop, &gai, NULL, host, ps, &hints)) < 0)
        return ss_diag("%s: cannot resolve '%s': %s", t->what, host,
                       uv_strerror(rc));
    res = gai.addrinfo;
    rc = UV_EADDRNOTAVAIL;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        if (t->tcp_live) {
            uv_close((uv_handle_t *)&t->tcp, NULL);
            uv_run(&t->loop, UV_RUN_DEFAULT);
        }
        uv_tcp_init(&t->loop, &t->tcp);
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
        if (rc == 0)
            break;
    }
    uv_freeaddrinfo(res);
    if (rc < 0 && t->timed_out)
        return ss_diag("%s: no answer within %s (--connect-timeout)", t->what,
                       ss_dur_format(t->timeout, dur, sizeof(dur)));
    if (rc < 0)
        return ss_diag("%s: %s", t->what, uv_strerror(rc));
    return 0;
}

int
ss_out_tcp_new(const char *hostport, int64_t timeout_ms, struct ss_out **out)
{
    struct otcp *t = calloc(1, sizeof(*t));
    char host[256];
    unsigned port;

    if (t == NULL)
        return ss_diag_err(-ENOMEM, "--connect");
    t->o.ops = &tcp_ops;
    snprintf(t->what, sizeof(t->what), "--connect %s", hostport);
    uv_loop_init(&t->loop);
    uv_timer_init(&t->loop, &t->deadline);
    t->deadline.data = t;
    t->timeout = timeout_ms;
    *out = &t->o;
    if (ss_opt_hostport_split(hostport, 1, host, sizeof(host), &port) < 0)
        return ss_diag("--connect: '%s' is not HOST:PORT", hostport);
    return connect_to(t, host, port);
}
