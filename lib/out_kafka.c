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
 * then writes the batch again, sent again from the source's log. With
 * --commit too, the transaction also holds the batch's mark on the
 * commit topic (lib/kafka_commit.h), so that a sink killed after the
 * commit of a transaction and before --commit records it finds the
 * batch in Kafka when it starts again, and skips it.
 *
 * The mark is sent after the batch's messages are acknowledged, not
 * with them: librdkafka's mock cluster, which the tests run, does not
 * hide aborted or open transactions from read_committed readers, and
 * there a mark seen means the whole batch is seen too. (On a real
 * cluster the order does not matter; it costs one round trip a batch.)
 *
 * Owns: the producer, until free().
 */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "io.h"
#include "kafka.h"
#include "kafka_commit.h"
#include "out.h"
#include "wal.h"

/* A batch the brokers have not taken after FLUSH_MS is said (once): a
 * busy broker (or a loaded mock) takes a second or more now and then. */
#define FLUSH_MS 5000

struct okafka {
    struct ss_out o;
    const char *brokers, *topic;
    const char *ctopic, *id; /* the commit topic (NULL: none), the key */
    const char *sending;     /* the topic of the messages in flight */
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
produce(struct okafka *k, const char *topic, const struct ss_rec *r)
{
    rd_kafka_resp_err_t err;

    for (;;) {
        err = rd_kafka_producev(k->rk, RD_KAFKA_V_TOPIC(topic),
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
        return ss_diag("--kafka: topic '%s': %s", topic, rd_kafka_err2str(err));
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

    if (first) {
        k->failed = 0;
        k->sending = k->topic;
    }
    if (first && k->txn && (e = rd_kafka_begin_transaction(k->rk)) != NULL)
        return txn_failed(k, "begin transaction", e);
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r))
        if (produce(k, k->topic, &r) < 0)
            return SS_REPORTED;
    rd_kafka_poll(k->rk, 0); /* serve the delivery reports due */
    return 0;
}

/* Wait until the brokers hold every message sent; a broker that does
 * not answer is said once, and librdkafka keeps trying until its
 * message.timeout.ms fails the messages. A message they refused aborts
 * the transaction. */
static int
delivered(struct okafka *k, int64_t time)
{
    rd_kafka_error_t *e;
    int said = 0;

    while (rd_kafka_flush(k->rk, FLUSH_MS) == RD_KAFKA_RESP_ERR__TIMED_OUT)
        if (!said++)
            ss_diag("--kafka: batch %" PRId64 ": waiting for '%s' to take "
                    "%d messages",
                    time, k->brokers, rd_kafka_outq_len(k->rk));
    if (k->failed == 0)
        return 0;
    ss_diag("--kafka: batch %" PRId64 ": %" PRIu64 " message%s "
            "not delivered to '%s': %s",
            time, k->failed, k->failed == 1 ? "" : "s", k->sending,
            rd_kafka_err2str(k->err));
    if (k->txn && (e = rd_kafka_abort_transaction(k->rk, -1)) != NULL)
        rd_kafka_error_destroy(e);
    return SS_REPORTED;
}

/* The batch's mark on the commit topic, in its transaction. */
static int
mark(struct okafka *k, int64_t time)
{
    char v[SS_KAFKA_COMMIT_MAX];
    struct ss_rec r = {.key = k->id, .klen = strlen(k->id), .val = v};
    rd_kafka_error_t *e;

    r.vlen = ss_kafka_commit_format(v, time);
    k->sending = k->ctopic;
    if (produce(k, k->ctopic, &r) == 0)
        return delivered(k, time);
    if ((e = rd_kafka_abort_transaction(k->rk, -1)) != NULL)
        rd_kafka_error_destroy(e);
    return SS_REPORTED;
}

static int
kend(struct ss_out *o, int64_t time)
{
    struct okafka *k = (struct okafka *)o;
    rd_kafka_error_t *e;
    int rc;

    if (k->txn)
        ss_io_test_crash(SS_IO_CRASH_KAFKA_TXN);
    if ((rc = delivered(k, time)) < 0 || !k->txn)
        return rc;
    if (k->ctopic != NULL && (rc = mark(k, time)) < 0)
        return rc;
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

/* A transactional producer: fence the last one of the same ID, aborting
 * what it left open. 0, or SS_REPORTED after saying why. */
static int
init_txn(struct okafka *k)
{
    rd_kafka_error_t *e;

    if (k->id == NULL)
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

/* Ask for the topic's metadata now: a topic the producer first meets at
 * a produce call waits for librdkafka's next topic scan (up to a second)
 * before its messages can go. Best effort: a topic in trouble is said
 * when the batch's messages are not delivered. */
static void
warm(struct okafka *k, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(k->rk, topic, NULL);
    const struct rd_kafka_metadata *md;

    if (rkt == NULL)
        return;
    if (rd_kafka_metadata(k->rk, 0, rkt, &md, FLUSH_MS) == 0)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
}

int
ss_out_kafka_new(const char *brokers, const char *topic, char *const *props,
                 size_t nprops, const char *commit_topic, int64_t *committed,
                 struct ss_out **out)
{
    struct okafka *k = calloc(1, sizeof(*k));
    rd_kafka_conf_t *conf;
    char err[512];
    int rc;

    *out = NULL;
    if (k == NULL)
        return ss_diag_err(-ENOMEM, "--kafka");
    k->o.ops = &ops;
    k->brokers = brokers;
    k->topic = topic;
    k->id = ss_kafka_prop(props, nprops, "transactional.id");
    k->ctopic = k->id != NULL ? commit_topic : NULL;
    *committed = SS_WAL_NO_TIME;
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
    warm(k, topic);
    if ((rc = init_txn(k)) < 0 || k->ctopic == NULL)
        return rc;
    warm(k, k->ctopic);
    /* the last producer of the ID is fenced: its transactions are
     * ended, and the commit topic says which batches Kafka holds */
    return ss_kafka_commit_read(brokers, props, nprops, k->ctopic, k->id,
                                committed);
}
