/* out_kafka.c - --kafka HOST:PORT[,...] --topic NAME on the sink: each
 * record becomes a message of the topic, its value the record's value
 * and, for a keyed record, its key the record's key, so that Kafka's
 * default partitioner puts one key on one partition (the shuffle between
 * two groups of machines).
 *
 * A batch is done when every one of its messages is acknowledged by the
 * brokers (rd_kafka_flush()): only then does the sink count it as out
 * and record it under --commit. A message the brokers refuse fails the
 * batch, naming it.
 *
 * With -X transactional.id=ID, each batch is one Kafka transaction,
 * committed at the batch's end: a reader with read_committed sees a
 * batch whole or not at all, and a sink killed in the middle of a batch
 * leaves nothing of it: the restarted sink (same ID) aborts the dead
 * one's open transaction when it starts (init_transactions fences it),
 * then writes the batch again, sent again from the source's log. A sink
 * killed after the commit of a transaction and before --commit records
 * it still writes that batch twice. (librdkafka's mock cluster, which
 * the tests run, does not hide aborted messages from read_committed
 * readers, so only the whole path, not the abort, is tested here.)
 *
 * Owns: the producer, until free().
 */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "kafka.h"
#include "out.h"

/* A batch the brokers have not taken after FLUSH_MS is said (once): a
 * busy broker (or a loaded mock) takes a second or more now and then. */
#define FLUSH_MS 5000

struct okafka {
    struct ss_out o;
    const char *brokers, *topic;
    rd_kafka_t *rk;
    uint64_t failed;         /* messages of the batch not delivered */
    rd_kafka_resp_err_t err; /* the first reason */
    int txn;                 /* -X transactional.id: a transaction a batch */
};

/* From rd_kafka_poll()/flush(), on our thread. */
static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct okafka *k = opaque;

    (void)rk;
    if (m->err == 0)
        return;
    if (k->failed++ == 0)
        k->err = m->err;
}

static int
produce(struct okafka *k, const struct ss_rec *r)
{
    rd_kafka_resp_err_t err;

    for (;;) {
        err = rd_kafka_producev(k->rk, RD_KAFKA_V_TOPIC(k->topic),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(r->key, r->key ? r->klen : 0),
                                RD_KAFKA_V_VALUE((void *)r->val, r->vlen),
                                RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        /* librdkafka's queue is full: wait for deliveries, as a pipe
         * makes a writer wait for its reader */
        rd_kafka_poll(k->rk, 100);
    }
    if (err != 0)
        return ss_diag("--kafka: topic '%s': %s", k->topic,
                       rd_kafka_err2str(err));
    return 0;
}

/* A transaction call failed: say so, and abort the transaction when
 * librdkafka says it must be; SS_REPORTED. */
static int
txn_failed(struct okafka *k, const char *what, rd_kafka_error_t *e)
{
    ss_diag("--kafka: %s: %s", what, rd_kafka_error_string(e));
    if (rd_kafka_error_txn_requires_abort(e)) {
        rd_kafka_error_t *a = rd_kafka_abort_transaction(k->rk, -1);

        if (a != NULL)
            rd_kafka_error_destroy(a);
    }
    rd_kafka_error_destroy(e);
    return SS_REPORTED;
}

static int
kframe(struct ss_out *o, const struct ss_frame *f, int first)
{
    struct okafka *k = (struct okafka *)o;
    struct ss_rec_iter it;
    struct ss_rec r;
    rd_kafka_error_t *e;

    if (first)
        k->failed = 0;
    if (first && k->txn && (e = rd_kafka_begin_transaction(k->rk)) != NULL)
        return txn_failed(k, "begin transaction", e);
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r))
        if (produce(k, &r) < 0)
            return SS_REPORTED;
    rd_kafka_poll(k->rk, 0); /* serve the delivery reports due */
    return 0;
}

/* Wait until the brokers hold every message of the batch; a broker that
 * does not answer is said once, and librdkafka keeps trying until its
 * message.timeout.ms fails the messages. */
static int
kend(struct ss_out *o, int64_t time)
{
    struct okafka *k = (struct okafka *)o;
    rd_kafka_error_t *e;
    int said = 0;

    while (rd_kafka_flush(k->rk, FLUSH_MS) == RD_KAFKA_RESP_ERR__TIMED_OUT)
        if (!said++)
            ss_diag("--kafka: batch %" PRId64 ": waiting for '%s' to take "
                    "%d messages",
                    time, k->brokers, rd_kafka_outq_len(k->rk));
    if (k->failed > 0) {
        ss_diag("--kafka: batch %" PRId64 ": %" PRIu64 " message%s "
                "not delivered to '%s': %s",
                time, k->failed, k->failed == 1 ? "" : "s", k->topic,
                rd_kafka_err2str(k->err));
        if (k->txn && (e = rd_kafka_abort_transaction(k->rk, -1)) != NULL)
            rd_kafka_error_destroy(e);
        return SS_REPORTED;
    }
    if (!k->txn)
        return 0;
    if ((e = rd_kafka_commit_transaction(k->rk, -1)) != NULL)
        return txn_failed(k, "commit transaction", e);
    return 0;
}

static void
kfree(struct ss_out *o)
{
    struct okafka *k = (struct okafka *)o;

    if (k->rk != NULL) {
        rd_kafka_error_t *e;

        /* a batch the stream did not finish: its messages are never seen */
        if (k->txn && (e = rd_kafka_abort_transaction(k->rk, 5000)) != NULL)
            rd_kafka_error_destroy(e); /* none open: nothing to abort */
        rd_kafka_flush(k->rk, 0);
        rd_kafka_destroy(k->rk);
    }
    free(k);
}

static const struct ss_out_ops ops = {kframe, kend, kfree};

/* 1 when -X sets 'name'. */
static int
conf_has(char *const *props, size_t n, const char *name)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < n; i++)
        if (strncmp(props[i], name, len) == 0 && props[i][len] == '=')
            return 1;
    return 0;
}

/* A transactional producer: fence the last one of the same ID, aborting
 * what it left open. 0, or SS_REPORTED after saying why. */
static int
init_txn(struct okafka *k, int txn)
{
    rd_kafka_error_t *e;

    if (!txn)
        return 0;
    if ((e = rd_kafka_init_transactions(k->rk, -1)) != NULL) {
        ss_diag("--kafka: transactions on '%s': %s", k->brokers,
                rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return SS_REPORTED;
    }
    k->txn = 1;
    return 0;
}

int
ss_out_kafka_new(const char *brokers, const char *topic, char *const *props,
                 size_t nprops, struct ss_out **out)
{
    struct okafka *k = calloc(1, sizeof(*k));
    rd_kafka_conf_t *conf;
    char err[512];

    *out = NULL;
    if (k == NULL)
        return ss_diag_err(-ENOMEM, "--kafka");
    k->o.ops = &ops;
    k->brokers = brokers;
    k->topic = topic;
    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    /* acks from every in-sync replica, no duplicates on a retry */
    if (ss_kafka_set(conf, "bootstrap.servers", brokers) < 0 ||
        ss_kafka_set(conf, "enable.idempotence", "true") < 0 ||
        ss_kafka_props(conf, props, nprops) < 0) {
        rd_kafka_conf_destroy(conf);
        free(k);
        return SS_REPORTED;
    }
    if ((k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err))) ==
        NULL) {
        rd_kafka_conf_destroy(conf);
        free(k);
        return ss_diag("--kafka: %s", err);
    }
    *out = &k->o;
    return init_txn(k, conf_has(props, nprops, "transactional.id"));
}
