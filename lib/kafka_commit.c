/* kafka_commit.c - the commit topic of a transactional Kafka sink: the
 * mark's value, and reading the newest mark back at start-up. */
#include "kafka_commit.h"

#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "frame.h"
#include "kafka.h"
#include "wal.h"

/* A cluster that does not answer within WAIT_MS is said (once), and
 * waited for: the producer's init_transactions has just reached it. */
#define WAIT_MS 5000

size_t
ss_kafka_commit_format(char buf[SS_KAFKA_COMMIT_MAX], int64_t time)
{
    return (size_t)snprintf(buf, SS_KAFKA_COMMIT_MAX, "%" PRId64, time);
}

int
ss_kafka_commit_parse(const void *p, size_t n, int64_t *time)
{
    char text[SS_KAFKA_COMMIT_MAX], *end;
    long long v;

    if (p == NULL || n == 0 || n >= sizeof(text))
        return -EBADMSG;
    memcpy(text, p, n);
    text[n] = '\0';
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' ||
        !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')) ||
        !ss_frame_time_valid((int64_t)v))
        return -EBADMSG;
    *time = (int64_t)v;
    return 0;
}

struct reader {
    const char *brokers, *topic, *id;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    rd_kafka_queue_t *q;
    int nparts, started;
    unsigned char *eof; /* a partition's end reached */
    int64_t time;
};

/* A topic-level error: the ones a user must act on, in our words. */
static int
topic_error(const struct reader *r, rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
        return ss_diag("--commit-topic: '%s' does not exist on '%s' (create "
                       "it with cleanup.policy=compact)",
                       r->topic, r->brokers);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        return ss_diag("--commit-topic: '%s': not authorized on '%s'", r->topic,
                       r->brokers);
    default:
        return ss_diag("--commit-topic: '%s': %s", r->topic,
                       rd_kafka_err2str(err));
    }
}

static rd_kafka_conf_t *
reader_conf(char *const *props, size_t nprops)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    /* -X first (the brokers' security settings apply here too), then
     * what this reader must be: only ended transactions, and told when
     * it is at a partition's end */
    if (ss_kafka_props(conf, props, nprops) < 0 ||
        ss_kafka_set(conf, "isolation.level", "read_committed") < 0 ||
        ss_kafka_set(conf, "enable.partition.eof", "true") < 0 ||
        /* an empty partition's end is told after this wait */
        ss_kafka_set(conf, "fetch.wait.max.ms", "100") < 0 ||
        ss_kafka_set(conf, "enable.auto.commit", "false") < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

/* The topic's partitions, into r->nparts. */
static int
partitions(struct reader *r)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err;
    int said = 0;

    while ((err = rd_kafka_metadata(r->rk, 0, r->rkt, &md, WAIT_MS)) ==
           RD_KAFKA_RESP_ERR__TIMED_OUT)
        if (!said++)
            ss_diag("--commit-topic: waiting for '%s' to answer", r->brokers);
    if (err != 0)
        return topic_error(r, err);
    err = md->topic_cnt == 1 ? md->topics[0].err
                             : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    if (err == 0 && (r->nparts = md->topics[0].partition_cnt) <= 0)
        err = RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    rd_kafka_metadata_destroy(md);
    if (err != 0)
        return topic_error(r, err);
    if ((r->eof = calloc((size_t)r->nparts, 1)) == NULL)
        return ss_diag_err(-ENOMEM, "--commit-topic");
    return 0;
}

/* One message of the topic: 1 when it was a partition's end, else 0; or
 * SS_REPORTED. */
static int
take(struct reader *r, const rd_kafka_message_t *m)
{
    size_t idlen = strlen(r->id);
    int64_t t;

    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (m->partition < 0 || m->partition >= r->nparts ||
            r->eof[m->partition])
            return 0;
        r->eof[m->partition] = 1;
        return 1;
    }
    if (m->err == RD_KAFKA_RESP_ERR__TRANSPORT ||
        m->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        return 0; /* librdkafka tries again */
    if (m->err != 0)
        return topic_error(r, m->err);
    if (m->key_len != idlen || memcmp(m->key, r->id, idlen) != 0)
        return 0; /* another sink's */
    if (ss_kafka_commit_parse(m->payload, m->len, &t) < 0)
        return ss_diag("--commit-topic: '%s' partition %" PRId32
                       " offset %" PRId64 ": the mark of '%s' is not a "
                       "batch time",
                       r->topic, m->partition, m->offset, r->id);
    /* batch times only grow: the largest is the newest, whatever
     * partition the key was on when it was written */
    if (t > r->time)
        r->time = t;
    return 0;
}

/* Every partition from its beginning to its (read_committed) end. */
static int
read_all(struct reader *r)
{
    int left = r->nparts, said = 0, rc;
    rd_kafka_message_t *m;

    for (; r->started < r->nparts; r->started++)
        if (rd_kafka_consume_start_queue(r->rkt, r->started,
                                         RD_KAFKA_OFFSET_BEGINNING, r->q) < 0)
            return topic_error(r, rd_kafka_last_error());
    while (left > 0) {
        if ((m = rd_kafka_consume_queue(r->q, WAIT_MS)) == NULL) {
            if (!said++)
                ss_diag("--commit-topic: '%s': waiting for '%s' to send it",
                        r->topic, r->brokers);
            continue;
        }
        rc = take(r, m);
        rd_kafka_message_destroy(m);
        if (rc < 0)
            return rc;
        left -= rc;
    }
    return 0;
}

static void
reader_close(struct reader *r)
{
    for (int i = 0; i < r->started; i++)
        rd_kafka_consume_stop(r->rkt, i);
    if (r->q != NULL)
        rd_kafka_queue_destroy(r->q);
    if (r->rkt != NULL)
        rd_kafka_topic_destroy(r->rkt);
    if (r->rk != NULL)
        rd_kafka_destroy(r->rk);
    free(r->eof);
}

int
ss_kafka_commit_read(const char *brokers, char *const *props, size_t nprops,
                     const char *topic, const char *id, int64_t *time)
{
    struct reader r = {.brokers = brokers, .topic = topic, .id = id};
    rd_kafka_conf_t *conf;
    char err[512];
    int rc;

    r.time = SS_WAL_NO_TIME;
    if ((conf = reader_conf(props, nprops)) == NULL)
        return SS_REPORTED;
    if (ss_kafka_set(conf, "bootstrap.servers", brokers) < 0) {
        rd_kafka_conf_destroy(conf);
        return SS_REPORTED;
    }
    if ((r.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err))) ==
        NULL) {
        rd_kafka_conf_destroy(conf);
        return ss_diag("--commit-topic: %s", err);
    }
    if ((r.rkt = rd_kafka_topic_new(r.rk, topic, NULL)) == NULL ||
        (r.q = rd_kafka_queue_new(r.rk)) == NULL)
        rc = ss_diag_err(-ENOMEM, "--commit-topic");
    else if ((rc = partitions(&r)) == 0)
        rc = read_all(&r);
    reader_close(&r);
    if (rc == 0)
        *time = r.time;
    return rc;
}
