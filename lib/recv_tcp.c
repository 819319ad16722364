/* recv_tcp.c - the socket receivers.
 *
 * --connect HOST:PORT is Spark's socketTextStream: we are the client of a
 * server such as 'nc -lk PORT'. When the server goes away, or cannot be
 * reached, we say so and try again after a backoff (250ms doubling to 8s,
 * back to 250ms once connected); with --connect-once a closed connection
 * ends this input and a failed one is an error. An address that does not
 * answer within --connect-timeout counts as a failed attempt: a server
 * behind a firewall that drops packets would otherwise hold each attempt
 * for the kernel's two minutes, silently.
 *
 * --listen [HOST:]PORT takes producers: each connection has its own
 * splitter, so a record is never split between producers, and their
 * records are unioned in arrival order. Without HOST it binds 127.0.0.1
 * only. A listener never ends by itself.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "opt.h"
#include "recv_kit.h"

/* ---- --connect ---- */

struct rconnect {
    struct ss_recv r;
    char what[300];
    char host[256];
    char port[8];
    int once;
    uv_getaddrinfo_t gai;
    struct addrinfo *ai, *next_ai; /* addresses left to try */
    uv_connect_t creq;
    struct ss_recv_conn conn; /* conn.u.tcp */
    uv_timer_t retry;
    uv_timer_t deadline; /* of the connect in flight (--connect-timeout) */
    int64_t timeout;     /* ms, 0: none */
    int timed_out;       /* the connect in flight was given up */
    struct ss_backoff bo;
    int resolving;   /* gai in flight */
    int tcp_live;    /* conn.u.tcp initialised and not yet closed */
    int reading;     /* connected */
    int trouble;     /* the last attempt failed: say so when back */
    int stopped;     /* the stream ended */
    int last_status; /* of the last failed connect */
};

static void try_connect(struct rconnect *c);
static void resolve(struct rconnect *c);

static void
on_retry(uv_timer_t *t)
{
    resolve(t->data);
}

/* The server is unreachable or went away: end, or try again later. */
static void
trouble(struct rconnect *c, const char *what, int reconnect)
{
    uint64_t ms;

    if (c->ai != NULL) {
        uv_freeaddrinfo(c->ai);
        c->ai = c->next_ai = NULL;
    }
    if (c->once) {
        if (!reconnect)
            ss_diag("%s: %s", c->what, what);
        ss_recv_end(&c->r, reconnect ? 0 : SS_REPORTED);
        return;
    }
    ms = ss_backoff_say(&c->bo, c->what, what,
                        reconnect ? "reconnecting" : "retrying");
    c->trouble = 1;
    uv_timer_start(&c->retry, on_retry, ms, 0);
}

static void
on_tcp_closed(uv_handle_t *h)
{
    struct ss_recv_conn *conn = h->data;
    struct rconnect *c = (struct rconnect *)conn->owner;

    c->tcp_live = 0;
    if (c->stopped)
        return;
    if (c->next_ai != NULL) {
        try_connect(c); /* the next address of the name */
        return;
    }
    if (c->reading) {
        c->reading = 0;
        trouble(c, "connection closed", 1);
    } else if (c->timed_out) {
        char msg[64], t[32];

        snprintf(msg, sizeof(msg), "no answer within %s (--connect-timeout)",
                 ss_backoff_text((uint64_t)c->timeout, t, sizeof(t)));
        trouble(c, msg, 0);
    } else {
        trouble(c, uv_strerror(c->last_status), 0);
    }
}

/* --connect-timeout: give the attempt up; on_connect() then sees
 * UV_ECANCELED and on_tcp_closed() tries the next address or says so. */
static void
on_deadline(uv_timer_t *t)
{
    struct rconnect *c = t->data;

    c->timed_out = 1;
    if (!uv_is_closing(&c->conn.u.handle))
        uv_close(&c->conn.u.handle, on_tcp_closed);
}

static void
conn_end(struct ss_recv_conn *conn, int status)
{
    struct rconnect *c = (struct rconnect *)conn->owner;

    if (status < 0) {
        ss_diag("%s: %s", c->what, uv_strerror(status));
        c->r.host->troubles++;
    }
    if (!uv_is_closing(&conn->u.handle))
        uv_close(&conn->u.handle, on_tcp_closed);
}

static void
on_connect(uv_connect_t *req, int status)
{
    struct rconnect *c = req->data;
    int rc;

    uv_timer_stop(&c->deadline);
    if (c->stopped)
        return;
    if (status == 0) {
        if (c->ai != NULL)
            uv_freeaddrinfo(c->ai);
        c->ai = c->next_ai = NULL;
        ss_backoff_reset(&c->bo);
        if (c->trouble)
            ss_diag("%s: connected", c->what);
        c->trouble = 0;
        c->reading = 1;
        if ((rc = ss_recv_conn_start(&c->conn, &c->r, c->what, conn_end)) < 0) {
            c->reading = 0;
            c->last_status = rc;
            uv_close(&c->conn.u.handle, on_tcp_closed);
        }
        return;
    }
    c->last_status = status;
    if (!uv_is_closing(&c->conn.u.handle)) /* closed by on_deadline() */
        uv_close(&c->conn.u.handle, on_tcp_closed);
}

static void
try_connect(struct rconnect *c)
{
    struct addrinfo *ai = c->next_ai;
    int rc;

    c->next_ai = ai->ai_next;
    if ((rc = uv_tcp_init(c->r.host->loop, &c->conn.u.tcp)) < 0) {
        trouble(c, uv_strerror(rc), 0);
        return;
    }
    c->tcp_live = 1;
    c->conn.u.handle.data = &c->conn;
    c->creq.data = c;
    c->timed_out = 0;
    if ((rc = uv_tcp_connect(&c->creq, &c->conn.u.tcp, ai->ai_addr,
                             on_connect)) < 0) {
        c->last_status = rc;
        uv_close(&c->conn.u.handle, on_tcp_closed);
    } else if (c->timeout > 0) {
        uv_timer_start(&c->deadline, on_deadline, (uint64_t)c->timeout, 0);
    }
}

static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct rconnect *c = req->data;
    char msg[400];

    c->resolving = 0;
    if (c->stopped) {
        uv_freeaddrinfo(res);
        return;
    }
    if (status < 0) {
        snprintf(msg, sizeof(msg), "cannot resolve '%s': %s", c->host,
                 uv_strerror(status));
        trouble(c, msg, 0);
        return;
    }
    c->ai = c->next_ai = res;
    try_connect(c);
}

static void
resolve(struct rconnect *c)
{
    struct addrinfo hints;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    c->gai.data = c;
    c->resolving = 1;
    if ((rc = uv_getaddrinfo(c->r.host->loop, &c->gai, on_resolved, c->host,
                             c->port, &hints)) < 0) {
        c->resolving = 0;
        trouble(c, uv_strerror(rc), 0);
    }
}

static void
connect_resume(struct ss_recv *r)
{
    struct rconnect *c = (struct rconnect *)r;

    if (c->reading)
        ss_recv_conn_resume(&c->conn);
}

static void
connect_stop(struct ss_recv *r)
{
    struct rconnect *c = (struct rconnect *)r;

    if (c->stopped)
        return;
    c->stopped = 1;
    if (c->reading)
        ss_recv_conn_stop(&c->conn);
    if (c->tcp_live && !uv_is_closing(&c->conn.u.handle))
        uv_close(&c->conn.u.handle, on_tcp_closed);
    if (c->resolving)
        uv_cancel((uv_req_t *)&c->gai);
    uv_close((uv_handle_t *)&c->retry, NULL);
    uv_close((uv_handle_t *)&c->deadline, NULL);
}

static void
connect_free(struct ss_recv *r)
{
    struct rconnect *c = (struct rconnect *)r;

    if (c->ai != NULL)
        uv_freeaddrinfo(c->ai);
    ss_recv_in_release(&c->conn.in);
    free(c);
}

static const struct ss_recv_ops connect_ops = {connect_resume, NULL,
                                               connect_stop, connect_free};

int
ss_recv_tcp_connect_start(struct ss_recv_host *h, const char *hostport,
                          int once, int64_t timeout_ms, struct ss_recv **out)
{
    struct rconnect *c = calloc(1, sizeof(*c));
    unsigned port;

    if (c == NULL)
        return ss_diag_err(-ENOMEM, "--connect");
    c->r.ops = &connect_ops;
    c->r.host = h;
    snprintf(c->what, sizeof(c->what), "--connect %s", hostport);
    c->r.what = c->what;
    c->once = once;
    c->timeout = timeout_ms;
    c->conn.owner = &c->r;
    *out = &c->r;
    uv_timer_init(h->loop, &c->retry);
    uv_timer_init(h->loop, &c->deadline);
    c->retry.data = c->deadline.data = c;
    if (ss_opt_hostport_split(hostport, 1, c->host, sizeof(c->host), &port) <
        0) {
        c->stopped = 1;
        uv_close((uv_handle_t *)&c->retry, NULL);
        uv_close((uv_handle_t *)&c->deadline, NULL);
        return ss_diag("--connect: '%s' is not HOST:PORT", hostport);
    }
    snprintf(c->port, sizeof(c->port), "%u", port);
    ss_backoff_reset(&c->bo);
    resolve(c);
    return 0;
}

/* ---- --listen ---- */

struct rlisten;

struct lconn {
    struct ss_recv_conn c; /* first: the conn callbacks cast back */
    struct rlisten *l;
    struct lconn *next, **prevp;
    char name[80]; /* the producer's address, for messages */
};

struct rlisten {
    struct ss_recv r;
    char what[300];
    uv_tcp_t server;
    struct lconn *conns;
    int stopped;
};

static void
lconn_closed(uv_handle_t *h)
{
    struct lconn *lc = h->data;

    ss_recv_in_release(&lc->c.in);
    free(lc);
}

static void
lconn_close(struct lconn *lc)
{
    if (lc->prevp != NULL) {
        *lc->prevp = lc->next;
        if (lc->next != NULL)
            lc->next->prevp = lc->prevp;
        lc->prevp = NULL;
    }
    uv_close(&lc->c.u.handle, lconn_closed);
}

static void
lconn_end(struct ss_recv_conn *conn, int status)
{
    struct lconn *lc = (struct lconn *)conn;

    /* The producer's records up to here are in; the error is remembered
     * for the exit status, and the other producers go on. */
    if (status < 0) {
        ss_diag("%s: %s: %s", lc->l->what, lc->name, uv_strerror(status));
        lc->l->r.host->troubles++;
    }
    lconn_close(lc);
}

static void
peer_name(uv_tcp_t *t, char *buf, size_t n)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    char ip[64] = "?";
    int port = 0;

    if (uv_tcp_getpeername(t, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        }
    }
    snprintf(buf, n, "%s:%d", ip, port);
}

static void
on_connection(uv_stream_t *server, int status)
{
    struct rlisten *l = server->data;
    struct lconn *lc;
    int rc;

    if (status < 0) {
        ss_diag("%s: %s", l->what, uv_strerror(status));
        l->r.host->troubles++;
        return;
    }
    if ((lc = calloc(1, sizeof(*lc))) == NULL) {
        l->r.host->fatal(l->r.host, -ENOMEM);
        return;
    }
    lc->l = l;
    uv_tcp_init(l->r.host->loop, &lc->c.u.tcp);
    lc->c.u.handle.data = lc;
    if ((rc = uv_accept(server, &lc->c.u.stream)) == 0) {
        peer_name(&lc->c.u.tcp, lc->name, sizeof(lc->name));
        rc = ss_recv_conn_start(&lc->c, &l->r, lc->name, lconn_end);
    }
    if (rc < 0) {
        ss_diag("%s: %s", l->what, uv_strerror(rc));
        l->r.host->troubles++;
        uv_close(&lc->c.u.handle, lconn_closed);
        return;
    }
    lc->c.u.handle.data = lc; /* conn_start set it to &lc->c: the same */
    lc->next = l->conns;
    if (l->conns != NULL)
        l->conns->prevp = &lc->next;
    lc->prevp = &l->conns;
    l->conns = lc;
}

static void
listen_resume(struct ss_recv *r)
{
    struct rlisten *l = (struct rlisten *)r;
    struct lconn *lc, *next;

    for (lc = l->conns; lc != NULL; lc = next) {
        next = lc->next; /* resume may end and unlink the connection */
        ss_recv_conn_resume(&lc->c);
    }
}

static void
listen_stop(struct ss_recv *r)
{
    struct rlisten *l = (struct rlisten *)r;

    if (l->stopped)
        return;
    l->stopped = 1;
    while (l->conns != NULL) {
        ss_recv_conn_stop(&l->conns->c);
        lconn_close(l->conns);
    }
    uv_close((uv_handle_t *)&l->server, NULL);
}

static void
listen_free(struct ss_recv *r)
{
    free(r);
}

static const struct ss_recv_ops listen_ops = {listen_resume, NULL, listen_stop,
                                              listen_free};

static int
bind_listen(struct rlisten *l, const char *host, unsigned port)
{
    struct addrinfo hints, *res;
    char ps[8];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(ps, sizeof(ps), "%u", port);
    /* Without a host, loopback only: a producer elsewhere is a choice the
     * user makes by naming an address (0.0.0.0 or [::] for every one),
     * not a port opened to the network by default. */
    if ((rc = getaddrinfo(host[0] ? host : "127.0.0.1", ps, &hints, &res)) != 0)
        return ss_diag("%s: cannot resolve '%s': %s", l->what, host,
                       gai_strerror(rc));
    rc = uv_tcp_bind(&l->server, res->ai_addr, 0);
    freeaddrinfo(res);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l->server, 128, on_connection);
    if (rc < 0)
        return ss_diag("%s: %s", l->what, uv_strerror(rc));
    return 0;
}

int
ss_recv_tcp_listen_start(struct ss_recv_host *h, const char *hostport,
                         struct ss_recv **out)
{
    struct rlisten *l = calloc(1, sizeof(*l));
    char host[256];
    unsigned port;

    if (l == NULL)
        return ss_diag_err(-ENOMEM, "--listen");
    l->r.ops = &listen_ops;
    l->r.host = h;
    snprintf(l->what, sizeof(l->what), "--listen %s", hostport);
    l->r.what = l->what;
    *out = &l->r;
    uv_tcp_init(h->loop, &l->server);
    l->server.data = l;
    if (ss_opt_hostport_split(hostport, 0, host, sizeof(host), &port) < 0)
        return ss_diag("--listen: '%s' is not [HOST:]PORT", hostport);
    return bind_listen(l, host, port);
}
