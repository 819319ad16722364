/* out_mqtt.c - --mqtt HOST:PORT --topic T on the sink: each record's
 * value is published to the topic T ("{key}" in T: the record's key, so
 * that subscribers can filter per key with + and #).
 *
 * At QoS 1 a batch is done when the broker has acknowledged every one of
 * its messages (PUBACK): only then does the sink count it as out and
 * record it under --commit. A connection lost meanwhile is said once and
 * made again, and libmosquitto sends the unacknowledged messages again:
 * a message whose PUBACK was lost arrives twice (MQTT's QoS 1 is at
 * least once; see sstream-sink(1)). At QoS 0 nothing is acknowledged:
 * a batch is done when it is written to the socket.
 *
 * The sink has no event loop: libmosquitto is driven by mosquitto_loop()
 * from the calls below, on our thread.
 *
 * Owns: the client, until free().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "lazy_mosquitto.h"
#include "opt.h"
#include "out.h"

#define KEEPALIVE  30
#define PUMP_EVERY 256  /* messages published between socket turns */
#define WAIT_MS    1000 /* between reports of a broker that does not ack */

struct omqtt {
    struct ss_out o;
    const char *hostport, *topic;
    char host[256];
    unsigned port;
    int qos;
    struct mosquitto *m;
    uint64_t pending; /* published, not yet acknowledged */
    uint64_t waited;  /* ms spent waiting for the current batch */
    struct ss_buf name;
    int down; /* said unreachable */
};

/* From mosquitto_loop(), on our thread: a PUBACK (QoS 1), or the
 * message written (QoS 0). */
static void
on_publish(struct mosquitto *m, void *ctx, int mid)
{
    struct omqtt *q = ctx;

    (void)m;
    (void)mid;
    if (q->pending > 0)
        q->pending--;
}

static void
nap(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Connect, or connect again, until the broker answers; said once. */
static void
reach(struct omqtt *q, int again)
{
    uint64_t wait = 250;
    int rc;

    for (;;) {
        rc = again ? mosquitto_reconnect(q->m)
                   : mosquitto_connect(q->m, q->host, (int)q->port, KEEPALIVE);
        if (rc == MOSQ_ERR_SUCCESS)
            break;
        if (!q->down++)
            ss_diag("--mqtt: cannot reach '%s' (%s): retrying", q->hostport,
                    rc == MOSQ_ERR_ERRNO ? strerror(errno)
                                         : mosquitto_strerror(rc));
        again = 1;
        nap(wait);
        wait = wait * 2 > 8000 ? 8000 : wait * 2;
    }
    if (q->down)
        ss_diag("--mqtt: '%s' reached", q->hostport);
    q->down = 0;
}

/* One turn of the socket: write what is queued, read the acks. A
 * connection lost is made again; its unacknowledged messages go again. */
static void
pump(struct omqtt *q, int timeout_ms)
{
    int rc = mosquitto_loop(q->m, timeout_ms, 1);

    if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST ||
        rc == MOSQ_ERR_ERRNO) {
        if (!q->down++)
            ss_diag("--mqtt: lost '%s' (%s): retrying", q->hostport,
                    rc == MOSQ_ERR_ERRNO ? strerror(errno)
                                         : mosquitto_strerror(rc));
        nap(250);
        reach(q, 1);
    }
}

static int
publish(struct omqtt *q, const struct ss_rec *r)
{
    int rc;

    if ((rc = ss_out_name(&q->name, q->topic, r)) < 0)
        return rc == -EINVAL
                   ? ss_diag("--topic: '%s': a record without a key", q->topic)
                   : ss_diag_err(rc, "--mqtt");
    for (int tries = 0; tries < 2; tries++) {
        q->pending++;
        rc = mosquitto_publish(q->m, NULL, q->name.data, (int)r->vlen, r->val,
                               q->qos, false);
        /* QoS 1 is queued while there is no connection, and sent on the
         * next; QoS 0 is not: connect, then publish it again */
        if (rc == MOSQ_ERR_SUCCESS || (rc == MOSQ_ERR_NO_CONN && q->qos > 0))
            return 0;
        q->pending--;
        if (rc != MOSQ_ERR_NO_CONN)
            break;
        reach(q, 1);
    }
    return ss_diag("--mqtt: topic '%s': %s", q->name.data,
                   mosquitto_strerror(rc));
}

static int
mframe(struct ss_out *o, const struct ss_frame *f, int first)
{
    struct omqtt *q = (struct omqtt *)o;
    struct ss_rec_iter it;
    struct ss_rec r;
    uint64_t n = 0;

    if (first)
        q->waited = 0;
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r)) {
        if (r.vlen > INT32_MAX / 2)
            return ss_diag("--mqtt: a record of %zu bytes is over MQTT's "
                           "limit",
                           r.vlen);
        if (publish(q, &r) < 0)
            return SS_REPORTED;
        if (++n % PUMP_EVERY == 0)
            pump(q, 0);
    }
    return 0;
}

/* Wait until the broker has acknowledged the whole batch. */
static int
mend(struct ss_out *o, int64_t time)
{
    struct omqtt *q = (struct omqtt *)o;
    int said = 0;

    while (q->pending > 0 || mosquitto_want_write(q->m)) {
        pump(q, 100);
        if ((q->waited += 100) >= WAIT_MS && !said++)
            ss_diag("--mqtt: batch %" PRId64 ": waiting for '%s' to take "
                    "%" PRIu64 " messages",
                    time, q->hostport, q->pending);
    }
    return 0;
}

static void
mfree(struct ss_out *o)
{
    struct omqtt *q = (struct omqtt *)o;

    if (q->m != NULL) {
        mosquitto_disconnect(q->m);
        mosquitto_destroy(q->m);
    }
    mosquitto_lib_cleanup();
    ss_buf_release(&q->name);
    free(q);
}

static const struct ss_out_ops ops = {mframe, mend, mfree};

int
ss_out_mqtt_new(const char *hostport, const char *topic, int qos,
                struct ss_out **out)
{
    struct omqtt *q = calloc(1, sizeof(*q));

    *out = NULL;
    if (q == NULL)
        return ss_diag_err(-ENOMEM, "--mqtt");
    mosquitto_lib_init();
    q->o.ops = &ops;
    q->hostport = hostport;
    q->topic = topic;
    q->qos = qos;
    *out = &q->o;
    if (ss_opt_hostport_split(hostport, 1, q->host, sizeof(q->host), &q->port) <
        0)
        return ss_diag("--mqtt: '%s' is not HOST:PORT", hostport);
    if ((q->m = mosquitto_new(NULL, true, q)) == NULL)
        return ss_diag_err(-errno, "--mqtt");
    mosquitto_publish_callback_set(q->m, on_publish);
    /* no cap on messages in flight: a batch goes out whole, then waits */
    mosquitto_int_option(q->m, MOSQ_OPT_SEND_MAXIMUM, 65535);
    reach(q, 0);
    return 0;
}
