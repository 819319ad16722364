/* recv_mqtt.c - sstream-source --mqtt HOST:PORT --topic FILTER: an MQTT
 * subscriber whose messages' payloads are records, added one at a time
 * with ss_recv_add().
 *
 * libmosquitto runs on our libuv loop, without a thread of its own: its
 * socket (mosquitto_socket()) is watched by a uv_poll_t, readable while
 * the budget lasts and writable while libmosquitto has bytes to send
 * (mosquitto_want_write()); a timer calls mosquitto_loop_misc() each
 * second for the keepalive. So every callback (a message, a connection's
 * acknowledgement) runs on the loop, between the batch clock's ticks.
 *
 * QoS 1 with a persistent session: the session (clean_session false,
 * under a fixed client id) outlives the connection, so the broker keeps
 * the messages published while the pipeline is down and delivers them
 * when it is back. What MQTT cannot promise (see sstream-source(1)):
 * libmosquitto acknowledges a message (PUBACK) when it has read it, so
 * messages in a batch not yet written when the source is killed with -9
 * are gone; and a message whose acknowledgement a dropped connection
 * lost comes again (QoS 1 is at least once): a duplicate record.
 *
 * A message the budget holds back is copied into 'held', and the socket
 * is not read until resume() has added them all.
 *
 * Owns: the mosquitto client, its handles and the held messages, freed
 * by free(); the opts strings are the caller's and outlive the receiver.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "diag.h"
#include "lazy_mosquitto.h"
#include "opt.h"
#include "recv_kit.h"

#define KEEPALIVE 30  /* seconds between pings of an idle connection */
#define READ_TURN 256 /* packets read per wake-up of the socket */

struct held {
    struct held *next;
    struct mosquitto_message m;
};

struct rmqtt {
    struct ss_recv r;
    struct ss_recv_mqtt_opts o;
    struct mosquitto *m;
    char host[256];
    unsigned port;
    uv_poll_t poll;   /* the socket, while connected */
    uv_timer_t misc;  /* mosquitto_loop_misc(): keepalive */
    uv_timer_t retry; /* the next connection attempt */
    int polling;      /* poll initialised and not yet closed */
    int handles;      /* the timers initialised */
    int stopped;
    struct held *held, **tail;
    struct ss_recv_reach reach;
    struct ss_backoff bo;
};

static void
mqtt_end(struct rmqtt *q, int rc)
{
    if (q->stopped)
        return;
    q->stopped = 1;
    if (q->polling)
        uv_poll_stop(&q->poll);
    uv_timer_stop(&q->retry);
    ss_recv_end(&q->r, rc);
}

static void on_io(uv_poll_t *p, int status, int events);

/* Read while the budget lasts; write while libmosquitto has bytes. */
static void
watch(struct rmqtt *q)
{
    int ev = 0;

    if (!q->polling || uv_is_closing((uv_handle_t *)&q->poll))
        return;
    if (!q->stopped && q->held == NULL)
        ev |= UV_READABLE;
    if (mosquitto_want_write(q->m))
        ev |= UV_WRITABLE;
    if (ev != 0)
        uv_poll_start(&q->poll, ev, on_io);
    else
        uv_poll_stop(&q->poll);
}

static void on_retry(uv_timer_t *t);

static void
on_poll_closed(uv_handle_t *h)
{
    struct rmqtt *q = h->data;

    q->polling = 0;
    if (!q->stopped)
        uv_timer_start(&q->retry, on_retry, ss_backoff_next(&q->bo), 0);
}

/* The connection is gone (libmosquitto has closed its socket): say so
 * once, and try again after the backoff. */
static void
lost(struct rmqtt *q, const char *reason)
{
    if (!q->stopped)
        ss_recv_reach_lost(&q->reach, reason);
    if (q->polling && !uv_is_closing((uv_handle_t *)&q->poll))
        uv_close((uv_handle_t *)&q->poll, on_poll_closed);
}

static const char *
why(int rc)
{
    return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

static void
connect_now(struct rmqtt *q, int again)
{
    int rc, fd;

    rc = again
             ? mosquitto_reconnect_async(q->m)
             : mosquitto_connect_async(q->m, q->host, (int)q->port, KEEPALIVE);
    if (rc != MOSQ_ERR_SUCCESS || (fd = mosquitto_socket(q->m)) < 0) {
        ss_recv_reach_lost(&q->reach, why(rc));
        uv_timer_start(&q->retry, on_retry, ss_backoff_next(&q->bo), 0);
        return;
    }
    if ((rc = uv_poll_init_socket(q->r.host->loop, &q->poll, fd)) < 0) {
        ss_diag("--mqtt: %s", uv_strerror(rc));
        mqtt_end(q, SS_REPORTED);
        return;
    }
    q->poll.data = q;
    q->polling = 1;
    watch(q);
}

static void
on_retry(uv_timer_t *t)
{
    struct rmqtt *q = t->data;

    if (!q->stopped && !q->polling)
        connect_now(q, 1);
}

static void
on_io(uv_poll_t *p, int status, int events)
{
    struct rmqtt *q = p->data;
    int rc = MOSQ_ERR_SUCCESS;

    if (status < 0 || (events & UV_WRITABLE))
        rc = mosquitto_loop_write(q->m, 1);
    if (rc == MOSQ_ERR_SUCCESS && (status < 0 || (events & UV_READABLE)))
        rc = mosquitto_loop_read(q->m, READ_TURN);
    if (rc != MOSQ_ERR_SUCCESS)
        lost(q, why(rc));
    else
        watch(q);
}

static void
on_misc(uv_timer_t *t)
{
    struct rmqtt *q = t->data;

    if (!q->polling || uv_is_closing((uv_handle_t *)&q->poll))
        return;
    if (mosquitto_loop_misc(q->m) != MOSQ_ERR_SUCCESS)
        lost(q, "keepalive: no answer");
    else
        watch(q);
}

/* ---- messages ---- */

static int
hold(struct rmqtt *q, const struct mosquitto_message *m)
{
    struct held *h = calloc(1, sizeof(*h));

    if (h == NULL || mosquitto_message_copy(&h->m, m) != MOSQ_ERR_SUCCESS) {
        free(h);
        return -ENOMEM;
    }
    *q->tail = h;
    q->tail = &h->next;
    return 0;
}

static int
add(struct rmqtt *q, const struct mosquitto_message *m)
{
    return ss_recv_add(&q->r, NULL, 0, m->payload ? m->payload : "",
                       (size_t)m->payloadlen);
}

static void
on_message(struct mosquitto *m, void *ctx, const struct mosquitto_message *msg)
{
    struct rmqtt *q = ctx;
    struct ss_recv_host *h = q->r.host;
    int rc = 0;

    (void)m;
    if (q->held == NULL && (rc = add(q, msg)) != 0) {
        if (rc < 0)
            h->fatal(h, rc);
        return;
    }
    /* held back, or behind one held back: kept in order */
    if (hold(q, msg) < 0) {
        h->fatal(h, -ENOMEM);
        return;
    }
    if (rc == 0 && q->held->next == NULL)
        h->throttled(h, &q->r);
}

/* Add what the budget held back, in order; 1 when all went in. */
static int
feed_held(struct rmqtt *q)
{
    struct held *h;
    int rc;

    while ((h = q->held) != NULL) {
        if ((rc = add(q, &h->m)) <= 0) {
            if (rc < 0)
                q->r.host->fatal(q->r.host, rc);
            return 0;
        }
        q->held = h->next;
        mosquitto_message_free_contents(&h->m);
        free(h);
    }
    q->tail = &q->held;
    return 1;
}

static void
on_connect(struct mosquitto *m, void *ctx, int rc, int flags)
{
    struct rmqtt *q = ctx;

    if (rc != 0) {
        /* a refusal the broker will repeat: the user must act */
        ss_diag("--mqtt: '%s' refused the connection: %s", q->o.hostport,
                mosquitto_connack_string(rc));
        mqtt_end(q, SS_REPORTED);
        return;
    }
    ss_recv_reach_ok(&q->reach);
    ss_backoff_reset(&q->bo);
    if (q->o.stats)
        ss_diag("--mqtt: connected to '%s' as '%s' (%s)", q->o.hostport,
                q->o.client_id, (flags & 1) ? "session kept" : "new session");
    /* again on each connection: a new session has no subscription */
    mosquitto_subscribe(m, NULL, q->o.topic, q->o.qos);
}

static void
on_subscribe(struct mosquitto *m, void *ctx, int mid, int n, const int *granted)
{
    struct rmqtt *q = ctx;

    (void)m;
    (void)mid;
    if (n < 1 || granted[0] > 2) {
        ss_diag("--topic: '%s': the broker '%s' refused the subscription",
                q->o.topic, q->o.hostport);
        mqtt_end(q, SS_REPORTED);
    } else if (q->o.stats) {
        ss_diag("--mqtt: subscribed to '%s' at qos %d", q->o.topic, granted[0]);
    }
}

/* ---- the receiver's ops ---- */

static void
resume(struct ss_recv *r)
{
    struct rmqtt *q = (struct rmqtt *)r;

    if (!q->stopped && q->held != NULL && feed_held(q))
        watch(q);
}

/* Messages held back go in (the stream is stopping, the budget no longer
 * holds); the broker keeps what was not read, for the session. */
static void
stop(struct ss_recv *r)
{
    struct rmqtt *q = (struct rmqtt *)r;

    feed_held(q);
    q->stopped = 1;
    if (q->polling && !uv_is_closing((uv_handle_t *)&q->poll)) {
        mosquitto_disconnect(q->m);
        uv_close((uv_handle_t *)&q->poll, on_poll_closed);
    }
    if (q->handles) {
        uv_close((uv_handle_t *)&q->misc, NULL);
        uv_close((uv_handle_t *)&q->retry, NULL);
        q->handles = 0;
    }
}

static void
release(struct ss_recv *r)
{
    struct rmqtt *q = (struct rmqtt *)r;
    struct held *h, *next;

    for (h = q->held; h != NULL; h = next) {
        next = h->next;
        mosquitto_message_free_contents(&h->m);
        free(h);
    }
    if (q->m != NULL)
        mosquitto_destroy(q->m);
    mosquitto_lib_cleanup();
    free(q);
}

static const struct ss_recv_ops ops = {resume, NULL, stop, release};

int
ss_recv_mqtt_start(struct ss_recv_host *h, const struct ss_recv_mqtt_opts *o,
                   struct ss_recv **out)
{
    struct rmqtt *q = calloc(1, sizeof(*q));

    if (q == NULL)
        return ss_diag_err(-ENOMEM, "--mqtt");
    mosquitto_lib_init();
    q->r.ops = &ops;
    q->r.host = h;
    q->r.what = "--mqtt";
    q->o = *o;
    q->tail = &q->held;
    q->reach.opt = "--mqtt";
    q->reach.where = o->hostport;
    *out = &q->r;
    q->stopped = 1; /* until it runs */
    if (ss_opt_hostport_split(o->hostport, 1, q->host, sizeof(q->host),
                              &q->port) < 0)
        return ss_diag("--mqtt: '%s' is not HOST:PORT", o->hostport);
    /* QoS 1: a session kept under a fixed id (see the top) */
    q->m = mosquitto_new(o->client_id, o->qos == 0, q);
    if (q->m == NULL)
        return ss_diag_err(-errno, "--mqtt");
    mosquitto_connect_with_flags_callback_set(q->m, on_connect);
    mosquitto_message_callback_set(q->m, on_message);
    mosquitto_subscribe_callback_set(q->m, on_subscribe);
    uv_timer_init(h->loop, &q->misc);
    uv_timer_init(h->loop, &q->retry);
    q->misc.data = q->retry.data = q;
    q->handles = 1;
    q->stopped = 0;
    uv_timer_start(&q->misc, on_misc, 1000, 1000);
    connect_now(q, 0);
    return 0;
}
