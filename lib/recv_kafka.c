/* recv_kafka.c - sstream-source --kafka: a consumer-group member whose
 * messages are records (their values; with --kafka-key, keyed by the
 * message key), added one at a time with ss_recv_add().
 *
 * librdkafka runs its own threads; everything it hands us goes through
 * the consumer queue, which we read only from the libuv loop: the queue
 * writes a byte to a pipe when it becomes non-empty (io_event), the loop
 * polls the pipe, and each loop turn takes at most MAX_TURN messages so
 * that the batch clock and the other inputs are served between turns. A
 * message the budget holds back stays ours ('held') until resume().
 *
 * Offsets: a message's offset is stored for the group's commit only once
 * its batch has been written to stdout (sent()), so that a crash loses
 * no message (at least once). With --wal, the next offset of every
 * partition is also written beside the log, tagged with the batch time,
 * before the batch is synced (logging()); a restart takes the newest
 * snapshot whose batch the log holds, and the log sends that batch again
 * if the sink had not committed it, so nothing is read twice: exactly
 * once into a file sink. The file, DIR/kafka-offsets, keeps the last two
 * snapshots: the newest may belong to a batch the crash kept from the log.
 *
 * Handing a partition over: every commit carries metadata, "open" by a
 * member reading the partition, "closed" by one that gave it up with its
 * last offset. A commit refused while the group rebalances (librdkafka's
 * mock coordinator refuses them; a real one accepts them from the old
 * generation) is owed, and made again first thing at the next assignment,
 * "closed". A member given a partition that another member still holds
 * "open" waits for it to be closed before it asks where to start, up to
 * HANDOFF_MS: the old owner is either settling its debt (it does so on
 * the same assignment) or dead, and then what it sent after its last
 * commit is read again, which the new owner says. Before it reads, a
 * member claims its partitions ("open" at its start offset); a refused
 * claim means the group is rebalancing again, and the member reads
 * nothing until a claim is taken or the partitions are revoked. While it
 * waits, the partitions are assigned all the same (a member that keeps
 * an assignment unanswered holds up the next rebalance, and with it the
 * commits it waits for) and their messages dropped; once handed over and
 * claimed, a seek starts them where the claim says.
 *
 * Owns: the consumer, its pipe and the partition table, freed by free();
 * the opts strings are the caller's and outlive the receiver.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "io.h"
#include "kafka.h"
#include "ledger.h"
#include "pstate.h"
#include "recv_kit.h"

#define MAX_TURN     4096 /* messages per loop turn */
#define WATERMARK_MS 5000 /* --once: wait for a partition's end offset */
#define NO_OFFSET    (-1)
#define HANDOFF_MS   15000 /* wait this long for an old owner's last commit */
#define HANDOFF_TICK 100
#define SETTLE_MS    10000 /* a leaving member stays this long to pay */
#define GROUP_TICK   250 /* --once: how often to look at the group's offsets */
#define GROUP_STALL_MS                                                         \
    30000 /* --once: leave when they have not moved so long */
#define META_OPEN   "sstream:open:"
#define META_CLOSED "sstream:closed"
#define META_STATE  " state=" /* then --partition-state's folder id */

struct part {
    char *topic;
    int32_t id;
    int64_t next;    /* offset after the last message added; NO_OFFSET */
    int64_t stored;  /* 'next' when last stored for the commit */
    int64_t target;  /* --once: end offset at assignment; NO_OFFSET unknown */
    int64_t eof;     /* offset of the last end-of-partition event */
    int64_t dropped; /* first offset dropped while waiting; NO_OFFSET */
    int64_t from;    /* 'next' when the open batch began; NO_OFFSET */
    int assigned;
    int waiting; /* assigned, not yet handed over and claimed: not read */
    int taken;   /* read from since it was assigned: ours to commit */
};

struct rkafka {
    struct ss_recv r;
    struct ss_recv_kafka_opts o;
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    uv_poll_t poll;
    uv_idle_t idle; /* more messages may wait: take them next turn */
    int pipe[2];
    rd_kafka_message_t *held; /* held back by the budget */
    struct part *parts;
    size_t nparts, cap, last; /* 'last': the part of the last message */
    int handles;              /* poll and idle initialised */
    int stopped;
    struct ss_recv_reach reach;
    int assigned_once; /* the group has assigned this member partitions */
    int in_assignment; /* the last rebalance assigned (not revoked) */
    int closing;       /* leaving the group: give partitions up at once */
    rd_kafka_topic_partition_list_t *revoking; /* until the batch is sent */
    int revoking_coop;
    rd_kafka_topic_partition_list_t *owed;    /* refused "closed" commits */
    rd_kafka_resp_err_t owed_err;             /* why the last was refused */
    rd_kafka_topic_partition_list_t *pending; /* assigned, waiting */
    int pending_said;
    uint64_t pending_until; /* uv_now() when the wait for a handoff ends */
    uv_timer_t handoff;
    uv_timer_t group;     /* --once: waiting for the group to read all */
    int listed;           /* --once: every partition of the topics known */
    int64_t group_sum;    /* the group's offsets summed, to see them move */
    uint64_t group_moved; /* uv_now() when they last moved */
    int closed_own;       /* --once: this member's partitions closed */
    int changed;          /* offsets moved since the ledger was written */
    int32_t topic_parts;  /* the one topic's partitions; 0 unknown */
    int too_many_said;    /* more partitions held than a frame names */
    /* --partition-state: the folder's id, in each commit's metadata */
    char pstate_id[SS_PSTATE_ID_LEN + 1];
    struct ss_ledger ledger;
};

/* ---- the partition table ---- */

static struct part *
part_find(struct rkafka *k, const char *topic, int32_t id)
{
    if (k->last < k->nparts && k->parts[k->last].id == id &&
        strcmp(k->parts[k->last].topic, topic) == 0)
        return &k->parts[k->last];
    for (size_t i = 0; i < k->nparts; i++)
        if (k->parts[i].id == id && strcmp(k->parts[i].topic, topic) == 0) {
            k->last = i;
            return &k->parts[i];
        }
    return NULL;
}

static struct part *
part_get(struct rkafka *k, const char *topic, int32_t id)
{
    struct part *p = part_find(k, topic, id);

    if (p != NULL)
        return p;
    if (k->nparts == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 16;
        struct part *v = realloc(k->parts, cap * sizeof(*v));

        if (v == NULL)
            return NULL;
        k->parts = v;
        k->cap = cap;
    }
    p = &k->parts[k->nparts];
    memset(p, 0, sizeof(*p));
    if ((p->topic = strdup(topic)) == NULL)
        return NULL;
    p->id = id;
    p->next = p->stored = p->target = p->eof = p->dropped = p->from = NO_OFFSET;
    k->last = k->nparts++;
    return p;
}

/* ---- the offsets beside the log (--wal) ---- */

/* "TOPIC PARTITION NEXT" per partition read, the ledger's REST. */
static int
snapshot(const void *ctx, struct ss_buf *b)
{
    const struct rkafka *k = ctx;
    int rc = 0;

    for (size_t i = 0; i < k->nparts && rc == 0; i++) {
        const struct part *p = &k->parts[i];

        if (p->next == NO_OFFSET)
            continue;
        if (ss_buf_printf(b, "%s %" PRId32 " %" PRId64 "\n", p->topic, p->id,
                          p->next) < 0)
            rc = -ENOMEM;
    }
    return rc;
}

static void
on_logging(struct ss_recv *r, int64_t time)
{
    struct rkafka *k = (struct rkafka *)r;

    if (!k->changed)
        return; /* the snapshot on file still holds */
    if (ss_ledger_log(&k->ledger, time, snapshot, k) < 0)
        r->host->troubles++;
    else
        k->changed = 0;
}

/* A line of the snapshot the ledger takes: where a partition is. */
static int
ledger_entry(void *ctx, const char *rest, size_t n, int take)
{
    struct rkafka *k = ctx;
    struct ss_ledger_kafka e;
    char topic[SS_LEDGER_TOPIC_MAX + 1];
    struct part *p;

    if (ss_ledger_kafka_parse(rest, n, &e) < 0)
        return -EINVAL;
    if (!take)
        return 0;
    memcpy(topic, e.topic, e.topic_len);
    topic[e.topic_len] = '\0';
    if ((p = part_get(k, topic, e.partition)) == NULL)
        return -ENOMEM;
    p->next = p->stored = e.next;
    return 0;
}

/* ---- messages ---- */

static void
kafka_end(struct rkafka *k, int rc)
{
    k->stopped = 1;
    uv_poll_stop(&k->poll);
    uv_idle_stop(&k->idle);
    if (k->handles)
        uv_timer_stop(&k->group);
    ss_recv_end(&k->r, rc);
}

/* --once: every assigned partition has reached the end offset seen when
 * it was assigned. */
static int
once_done(const struct rkafka *k)
{
    if (!k->o.once || !k->in_assignment || k->held != NULL ||
        k->revoking != NULL || k->pending != NULL)
        return 0;
    for (size_t i = 0; i < k->nparts; i++) {
        const struct part *p = &k->parts[i];

        if (!p->assigned)
            continue;
        if (p->target == NO_OFFSET
                ? p->eof == NO_OFFSET
                : p->target > 0 && p->next < p->target && p->eof < p->target)
            return 0;
    }
    return 1;
}

static void
connected(struct rkafka *k)
{
    ss_recv_reach_ok(&k->reach);
}

/* A consumer error in place of a message: the ones a user must act on
 * end the input (exit 1); the rest are librdkafka's to retry. */
static int
message_error(struct rkafka *k, const rd_kafka_message_t *m)
{
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : k->o.topics;

    switch (m->err) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF: {
        struct part *p = part_find(k, topic, m->partition);

        if (p == NULL || p->waiting) /* waiting: read from elsewhere */
            return 0;
        p->eof = m->offset;
        /* past the last message, a transaction's commit marker takes an
         * offset of its own on a real cluster: the position (and so the
         * commit) goes past it, else the group's offset never reaches the
         * end offset that --once waits for */
        if (p->next != NO_OFFSET && m->offset > p->next) {
            p->next = m->offset;
            p->taken = 1;
            k->changed = 1;
        }
        return 0;
    }
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
        ss_diag("--topic: '%s' does not exist on '%s'", topic, k->o.brokers);
        return SS_REPORTED;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        ss_diag("--topic: '%s': not authorized on '%s'", topic, k->o.brokers);
        return SS_REPORTED;
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
        ss_diag("--group: '%s': not authorized on '%s'", k->o.group,
                k->o.brokers);
        return SS_REPORTED;
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
        ss_diag("--kafka: not authorized: %s", rd_kafka_message_errstr(m));
        return SS_REPORTED;
    default:
        ss_diag("--kafka: %s", rd_kafka_message_errstr(m));
        return 0;
    }
}

/* --partition-state keeps a key's state with the partition the
 * producer's partitioner gives it (lib/pstate.h); a keyed message found on
 * another partition was put there otherwise (a Java producer's murmur2, a
 * partition chosen by hand), and its key's state would be kept apart from
 * it. */
static int
misplaced(const struct rkafka *k, const rd_kafka_message_t *m)
{
    return k->o.pstate != NULL && k->o.key && k->topic_parts > 0 &&
           m->key_len > 0 &&
           ss_pstate_partition_of(m->key, m->key_len,
                                  (uint32_t)k->topic_parts) !=
               (uint32_t)m->partition;
}

static void
reject_misplaced(struct rkafka *k, const rd_kafka_message_t *m)
{
    char why[256];

    snprintf(
        why, sizeof(why),
        "'%s[%" PRId32 "]' offset %" PRId64 ": its key belongs on "
        "partition %" PRIu32 " (librdkafka's partitioner, CRC-32), "
        "where --partition-state keeps its state",
        rd_kafka_topic_name(m->rkt), m->partition, m->offset,
        ss_pstate_partition_of(m->key, m->key_len, (uint32_t)k->topic_parts));
    ss_recv_reject(&k->r, m->key, m->key_len, m->payload ? m->payload : "",
                   m->len, why);
}

/* Add one message: 1 taken, 0 held back, SS_REPORTED: the input ends,
 * or a negative errno code for host->fatal(). */
static int
take(struct rkafka *k, rd_kafka_message_t *m)
{
    const char *topic;
    struct part *p;
    int rc;

    if (m->err != 0)
        return message_error(k, m) < 0 ? SS_REPORTED : 1;
    connected(k);
    topic = rd_kafka_topic_name(m->rkt);
    if ((p = part_get(k, topic, m->partition)) == NULL)
        return -ENOMEM;
    if (p->waiting) { /* read again from its start once handed over */
        if (p->dropped == NO_OFFSET || m->offset < p->dropped)
            p->dropped = m->offset;
        return 1;
    }
    if (misplaced(k, m))
        reject_misplaced(k, m);
    else if ((rc = ss_recv_add(&k->r, k->o.key ? m->key : NULL,
                               k->o.key ? m->key_len : 0,
                               m->payload ? m->payload : "", m->len)) <= 0)
        return rc;
    if (p->from == NO_OFFSET)
        p->from = m->offset;
    p->next = m->offset + 1;
    p->taken = 1;
    k->changed = 1;
    return 1;
}

static void on_idle(uv_idle_t *idle);
static void once_check(struct rkafka *k);

/* Take what the consumer queue holds, at most MAX_TURN messages. The
 * queue's pipe is written only when the queue goes from empty to not
 * empty, so a turn that stops early keeps the idle handle running. */
static void
pump(struct rkafka *k)
{
    struct ss_recv_host *h = k->r.host;
    int rc = 1;

    for (int n = 0; n < MAX_TURN && !k->stopped && k->revoking == NULL; n++) {
        rd_kafka_message_t *m = k->held;

        if (m == NULL && (m = rd_kafka_consumer_poll(k->rk, 0)) == NULL) {
            uv_idle_stop(&k->idle);
            break;
        }
        k->held = NULL;
        if ((rc = take(k, m)) == 0) {
            k->held = m;
            uv_idle_stop(&k->idle);
            h->throttled(h, &k->r);
            return;
        }
        rd_kafka_message_destroy(m);
        if (rc == SS_REPORTED) {
            kafka_end(k, SS_REPORTED);
            return;
        }
        if (rc < 0) { /* stdout or the log: the stream ends, not us */
            k->stopped = 1;
            h->fatal(h, rc);
            return;
        }
        if (n + 1 == MAX_TURN) /* more may wait: the pipe will not say */
            uv_idle_start(&k->idle, on_idle);
    }
    once_check(k);
}

static void
on_idle(uv_idle_t *idle)
{
    pump(idle->data);
}

static void
on_poll(uv_poll_t *poll, int status, int events)
{
    struct rkafka *k = poll->data;
    char drain[64];

    (void)status;
    (void)events;
    while (read(k->pipe[0], drain, sizeof(drain)) > 0)
        ;
    pump(k);
}

/* ---- --once with other members ---- */

static void set_target(struct rkafka *k, struct part *p);
static rd_kafka_topic_partition_list_t *
committed(struct rkafka *k, const rd_kafka_topic_partition_list_t *l);

/* Every partition of the topics into the table, with its end offset now
 * unless it has one from an assignment. Unknown (the metadata cannot be
 * had): only the partitions this member was given count. */
static void
list_partitions(struct rkafka *k)
{
    rd_kafka_topic_partition_list_t *sub = NULL;
    const struct rd_kafka_metadata *md;

    if (rd_kafka_subscription(k->rk, &sub) != 0)
        return;
    if (rd_kafka_metadata(k->rk, 0, NULL, &md, WATERMARK_MS) != 0) {
        rd_kafka_topic_partition_list_destroy(sub);
        return;
    }
    for (int i = 0; i < md->topic_cnt; i++) {
        const struct rd_kafka_metadata_topic *t = &md->topics[i];
        int ours = rd_kafka_topic_partition_list_find(
                       sub, t->topic, RD_KAFKA_PARTITION_UA) != NULL;

        for (int j = 0; ours && j < t->partition_cnt; j++) {
            struct part *p = part_get(k, t->topic, t->partitions[j].id);

            if (p != NULL)
                set_target(k, p);
        }
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_partition_list_destroy(sub);
}

/* The one topic's partition count, for the offsets field: asked at each
 * assignment, as partitions added to a topic start a rebalance. */
static void
count_partitions(struct rkafka *k)
{
    const struct rd_kafka_metadata *md;

    if (strchr(k->o.topics, ',') != NULL ||
        rd_kafka_metadata(k->rk, 0, NULL, &md, WATERMARK_MS) != 0)
        return;
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, k->o.topics) == 0 &&
            md->topics[i].partition_cnt > 0)
            k->topic_parts = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
}

static int held_open(struct rkafka *k, const rd_kafka_topic_partition_t *e);

/* The partitions this member does not hold have been committed by the
 * group up to their end offsets, and closed; 'say': name those that
 * have not. */
static int
group_read(struct rkafka *k, int say)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    rd_kafka_topic_partition_list_t *c = NULL;
    int64_t sum = 0;
    int done = 1;

    for (size_t i = 0; i < k->nparts; i++)
        if (!k->parts[i].assigned && k->parts[i].target > 0)
            rd_kafka_topic_partition_list_add(l, k->parts[i].topic,
                                              k->parts[i].id);
    if (l->cnt > 0 && (c = committed(k, l)) == NULL)
        done = 0;
    for (int i = 0; c != NULL && i < c->cnt; i++) {
        const struct part *p =
            part_find(k, c->elems[i].topic, c->elems[i].partition);

        int open = held_open(k, &c->elems[i]);

        /* a close is progress too: it moves no offset */
        sum += (c->elems[i].offset > 0 ? c->elems[i].offset : 0) + !open;
        if (p == NULL || (c->elems[i].offset >= p->target && !open))
            continue;
        done = 0;
        if (say && c->elems[i].offset >= p->target)
            ss_diag("--once: '%s[%" PRId32 "]' read to its end, but still "
                    "held open by another member: it may read it again "
                    "when it leaves",
                    p->topic, p->id);
        else if (say)
            ss_diag("--once: '%s[%" PRId32 "]' not read to its end by the "
                    "group (offset %" PRId64 " of %" PRId64 "): left to its "
                    "next run",
                    p->topic, p->id, c->elems[i].offset, p->target);
    }
    if (sum != k->group_sum) {
        k->group_sum = sum;
        k->group_moved = uv_now(k->r.host->loop);
    }
    if (c != NULL)
        rd_kafka_topic_partition_list_destroy(c);
    rd_kafka_topic_partition_list_destroy(l);
    return done;
}

static void group_check(struct rkafka *k);
static void close_parts(struct rkafka *k,
                        const rd_kafka_topic_partition_list_t *l);

/* Commit every partition this member holds "closed" (close_parts()). */
static void
close_assigned(struct rkafka *k)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);

    for (size_t i = 0; i < k->nparts; i++)
        if (k->parts[i].assigned)
            rd_kafka_topic_partition_list_add(l, k->parts[i].topic,
                                              k->parts[i].id);
    close_parts(k, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* --once: close this member's partitions as soon as they are read to
 * their end and sent, while the group is still stable: once the first
 * member leaves, the coordinator refuses commits until the rebalance
 * ends, which a member leaving in turn cannot always wait for; its
 * partitions would stay "open", and the group's next run would wait
 * for a hand-over that never comes. 1: closed (or refused, owed). */
static int
close_own(struct rkafka *k)
{
    for (size_t i = 0; i < k->nparts; i++)
        if (k->parts[i].assigned && k->parts[i].next != k->parts[i].stored)
            return 0; /* in the open batch: not sent yet */
    close_assigned(k);
    return 1;
}

static void
on_group(uv_timer_t *t)
{
    group_check(t->data);
}

/* --once: this member's partitions are read to their end: it closes
 * them (close_own()), and ends when the group has read and closed the
 * others' too: a member that left earlier could
 * be handed, as it left, a partition another had not finished, and no
 * one would read the rest in this run. The group's offsets not moving
 * for GROUP_STALL_MS (a member stuck, or a transactional topic whose
 * end is a commit marker no offset reaches), it ends saying which are
 * left. */
static void
group_check(struct rkafka *k)
{
    uint64_t now;

    if (k->stopped || !once_done(k))
        return;
    now = uv_now(k->r.host->loop);
    if (!k->listed) {
        list_partitions(k);
        k->listed = 1;
        k->group_moved = now;
    }
    if (!k->closed_own)
        k->closed_own = close_own(k);
    if (k->closed_own && group_read(k, 0))
        kafka_end(k, 0);
    else if (now - k->group_moved >= GROUP_STALL_MS) {
        group_read(k, 1);
        kafka_end(k, 0);
    } else if (k->handles && !uv_is_active((uv_handle_t *)&k->group))
        uv_timer_start(&k->group, on_group, GROUP_TICK, GROUP_TICK);
}

/* After a loop turn: the group's offsets are asked for at once the
 * first time, then by the timer only (each asking is a round trip). */
static void
once_check(struct rkafka *k)
{
    if (!k->handles || !uv_is_active((uv_handle_t *)&k->group))
        group_check(k);
}

/* ---- librdkafka callbacks, all served by rd_kafka_consumer_poll() ---- */

/* --once: the partition's end offset now, so that the run ends there. */
static void
set_target(struct rkafka *k, struct part *p)
{
    int64_t lo, hi;

    if (p->target != NO_OFFSET)
        return;
    if (rd_kafka_query_watermark_offsets(k->rk, p->topic, p->id, &lo, &hi,
                                         WATERMARK_MS) == 0)
        p->target = hi;
}

/* ---- handing partitions over between members (see the top) ---- */

/* Tag each partition of 'l' "open" by this member, or "closed". */
static void
set_meta(struct rkafka *k, rd_kafka_topic_partition_list_t *l, int open)
{
    char *id = open ? rd_kafka_memberid(k->rk) : NULL;
    char meta[300];
    int n = snprintf(meta, sizeof(meta), "%s%s%s%s", open ? META_OPEN : "",
                     open ? (id != NULL ? id : "") : META_CLOSED,
                     k->o.pstate != NULL ? META_STATE : "", k->pstate_id);

    if (id != NULL)
        rd_kafka_mem_free(k->rk, id);
    if (n < 0 || (size_t)n >= sizeof(meta))
        n = 0;
    for (int i = 0; i < l->cnt; i++) {
        free(l->elems[i].metadata);
        l->elems[i].metadata = n > 0 ? malloc((size_t)n) : NULL;
        l->elems[i].metadata_size = l->elems[i].metadata ? (size_t)n : 0;
        if (l->elems[i].metadata != NULL)
            memcpy(l->elems[i].metadata, meta, (size_t)n);
    }
}

/* Held "open" by another member: the partition is not handed over yet. */
static int
held_open(struct rkafka *k, const rd_kafka_topic_partition_t *e)
{
    char *id;
    const char *sp;
    size_t len = sizeof(META_OPEN) - 1, mlen;
    int other;

    if (e->err != 0 || e->metadata == NULL || e->metadata_size < len ||
        memcmp(e->metadata, META_OPEN, len) != 0)
        return 0;
    id = rd_kafka_memberid(k->rk);
    /* the member's id, up to the folder's when there is one */
    mlen = e->metadata_size - len;
    if ((sp = memchr((char *)e->metadata + len, ' ', mlen)) != NULL)
        mlen = (size_t)(sp - ((char *)e->metadata + len));
    other = id == NULL || mlen != strlen(id) ||
            memcmp((char *)e->metadata + len, id, strlen(id)) != 0;
    if (id != NULL)
        rd_kafka_mem_free(k->rk, id);
    return other;
}

/* This member's own position (this run, or the --wal ledger) is at or
 * past the group's: the open mark is its own, from before a restart. */
static int
known(struct rkafka *k, const rd_kafka_topic_partition_t *e)
{
    struct part *p = part_find(k, e->topic, e->partition);

    return p != NULL && p->next != NO_OFFSET && p->next >= e->offset;
}

/* Commit each partition of 'l' this member has read, "closed", at once;
 * what the group refuses is owed (made again at the next assignment). */
static void
close_parts(struct rkafka *k, const rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_new(4);
    rd_kafka_resp_err_t err = 0;

    for (int i = 0; i < l->cnt; i++) {
        struct part *p = part_find(k, l->elems[i].topic, l->elems[i].partition);

        if (p != NULL && p->taken && p->next != NO_OFFSET)
            rd_kafka_topic_partition_list_add(c, p->topic, p->id)->offset =
                p->next;
        if (p != NULL)
            p->taken = 0;
    }
    set_meta(k, c, 0);
    if (c->cnt > 0)
        err = rd_kafka_commit(k->rk, c, 0);
    for (int i = 0; i < c->cnt && err == 0; i++)
        if (c->elems[i].err != 0)
            err = c->elems[i].err;
    if (err == 0) {
        rd_kafka_topic_partition_list_destroy(c);
        return;
    }
    k->owed_err = err;
    if (k->owed == NULL) {
        k->owed = c;
        return;
    }
    for (int i = 0; i < c->cnt; i++) {
        rd_kafka_topic_partition_t *e = rd_kafka_topic_partition_list_find(
            k->owed, c->elems[i].topic, c->elems[i].partition);

        if (e == NULL)
            e = rd_kafka_topic_partition_list_add(k->owed, c->elems[i].topic,
                                                  c->elems[i].partition);
        e->offset = c->elems[i].offset;
    }
    set_meta(k, k->owed, 0);
    rd_kafka_topic_partition_list_destroy(c);
}

static rd_kafka_topic_partition_list_t *
committed(struct rkafka *k, const rd_kafka_topic_partition_list_t *l);

/* The debt cannot be paid any more: say so, and forget it. */
static void
say_owed(struct rkafka *k)
{
    if (k->owed == NULL)
        return;
    if (k->owed->cnt > 0 && k->owed_err != 0)
        ss_diag("--kafka: rebalance: cannot commit the offsets of partitions "
                "given up (%s): their next owner may read the last batch "
                "again",
                rd_kafka_err2str(k->owed_err));
    rd_kafka_topic_partition_list_destroy(k->owed);
    k->owed = NULL;
}

/* A debt paid late must not take a partition back: drop what its next
 * owner has already committed past (it stopped waiting for us). */
static void
drop_overtaken(struct rkafka *k)
{
    rd_kafka_topic_partition_list_t *c = committed(k, k->owed);

    for (int i = 0; c != NULL && i < c->cnt; i++) {
        const rd_kafka_topic_partition_t *e = &c->elems[i];
        rd_kafka_topic_partition_t *o =
            rd_kafka_topic_partition_list_find(k->owed, e->topic, e->partition);

        if (o != NULL && (e->offset > o->offset || held_open(k, e)))
            rd_kafka_topic_partition_list_del(k->owed, e->topic, e->partition);
    }
    if (c != NULL)
        rd_kafka_topic_partition_list_destroy(c);
}

/* The group is settled (it just assigned): pay what close_parts() owes.
 * Refused again because yet another rebalance began: still owed, for the
 * next assignment; leaving the group, say_owed() says what is left. */
static void
pay_owed(struct rkafka *k)
{
    rd_kafka_resp_err_t err;

    if (k->owed == NULL)
        return;
    drop_overtaken(k);
    err = k->owed->cnt > 0 ? rd_kafka_commit(k->rk, k->owed, 0) : 0;
    for (int i = 0; i < k->owed->cnt && err == 0; i++)
        err = k->owed->elems[i].err;
    if ((err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
         err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION))
        return;
    k->owed_err = err;
    say_owed(k);
}

/* The group's committed offsets (and their metadata) for 'l', a copy;
 * NULL when they cannot be known now. */
static rd_kafka_topic_partition_list_t *
committed(struct rkafka *k, const rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(l);

    if (rd_kafka_committed(k->rk, c, WATERMARK_MS) == 0)
        return c;
    rd_kafka_topic_partition_list_destroy(c);
    return NULL;
}

/* Where an assigned partition starts: where this member stands (read
 * this run, or the log's snapshot) unless the group's committed offset
 * is further, because another member read on while it had the
 * partition; neither known: the group's offset, or --from-*. */
static void
start_offsets(struct rkafka *k, rd_kafka_topic_partition_list_t *l,
              const rd_kafka_topic_partition_list_t *c)
{
    for (int i = 0; i < l->cnt; i++) {
        struct part *p = part_find(k, l->elems[i].topic, l->elems[i].partition);
        int64_t at = p != NULL ? p->next : NO_OFFSET;

        if (at == NO_OFFSET)
            continue;
        if (c != NULL && i < c->cnt && c->elems[i].offset > at)
            at = p->next = p->stored = c->elems[i].offset;
        l->elems[i].offset = at;
    }
}

/* A claimed partition is this member's to close when it gives it up,
 * read from or not: its position is at least the claimed offset. */
static void
claimed(struct rkafka *k, const rd_kafka_topic_partition_t *e)
{
    struct part *p = part_find(k, e->topic, e->partition);

    if (p == NULL)
        return;
    if (p->next == NO_OFFSET || p->next < e->offset)
        p->next = p->stored = e->offset;
    p->taken = 1;
}

/* Where a partition the group has no offset for starts: its first
 * offset (--from-beginning) or its end (--from-end); NO_OFFSET when the
 * broker cannot say now (then auto.offset.reset decides). */
static int64_t
reset_offset(struct rkafka *k, const rd_kafka_topic_partition_t *e)
{
    int64_t lo, hi;

    if (rd_kafka_query_watermark_offsets(k->rk, e->topic, e->partition, &lo,
                                         &hi, WATERMARK_MS) != 0)
        return NO_OFFSET;
    return k->o.start == SS_RECV_KAFKA_BEGINNING ? lo : hi;
}

/* Where each partition of 'l' starts, written into 'l': this member's
 * own position unless the group's is further (start_offsets()); else the
 * group's committed offset; the group has none: where --from-* starts it
 * (its watermarks). Left as it is when none can be known now (then
 * librdkafka asks the group, or auto.offset.reset decides). */
static void
pick_start(struct rkafka *k, rd_kafka_topic_partition_list_t *l,
           const rd_kafka_topic_partition_list_t *c)
{
    start_offsets(k, l, c);
    for (int i = 0; c != NULL && i < l->cnt && i < c->cnt; i++) {
        int64_t at = c->elems[i].offset;

        if (l->elems[i].offset >= 0 || c->elems[i].err != 0)
            continue;
        if (at < 0 && (at = reset_offset(k, &l->elems[i])) == NO_OFFSET)
            continue;
        l->elems[i].offset = at;
    }
}

/* Claim the partitions before reading them: commit each one's start
 * offset (pick_start()) "open" by this member. A rebalance may begin
 * right after this assignment (a member joins), and the coordinator then
 * refuses every commit of what this member reads until it ends; without
 * the claim the partition's next owner would find the last owner's
 * "closed" mark and read again what this member sent meanwhile. With it,
 * the next owner waits for this member's "closed" commit (paid at the
 * next assignment). 0, or why the group refused. */
static rd_kafka_resp_err_t
claim(struct rkafka *k, const rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_topic_partition_list_t *m = rd_kafka_topic_partition_list_new(4);
    rd_kafka_resp_err_t err = 0, per_part = 0;

    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].offset >= 0)
            rd_kafka_topic_partition_list_add(m, l->elems[i].topic,
                                              l->elems[i].partition)
                ->offset = l->elems[i].offset;
    set_meta(k, m, 1);
    if (m->cnt > 0)
        err = rd_kafka_commit(k->rk, m, 0);
    for (int i = 0; i < m->cnt; i++)
        if (m->elems[i].err != 0)
            per_part = err = m->elems[i].err;
    /* a partition the group took is ours to close, read or not; when the
     * whole request failed, none was taken */
    for (int i = 0; i < m->cnt && (err == 0 || per_part != 0); i++)
        if (m->elems[i].err == 0)
            claimed(k, &m->elems[i]);
    rd_kafka_topic_partition_list_destroy(m);
    return err;
}

/* Hand the partitions of 'l' to librdkafka at once, at the offsets 'l'
 * holds: a rebalance cannot go on while a member keeps an assignment
 * unanswered, and the wait for a hand-over must not hold the group. */
static void
assign_now(struct rkafka *k, rd_kafka_topic_partition_list_t *l,
           int cooperative)
{
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t err = 0;

    k->assigned_once = k->in_assignment = 1;
    if (cooperative)
        e = rd_kafka_incremental_assign(k->rk, l);
    else
        err = rd_kafka_assign(k->rk, l);
    if (e != NULL) {
        ss_diag("--kafka: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    } else if (err != 0) {
        ss_diag("--kafka: %s", rd_kafka_err2str(err));
    }
    if (!k->stopped && k->handles)
        uv_idle_start(&k->idle, on_idle);
}

/* The waiting partitions of 'l' are handed over and claimed: read them
 * from their start (pick_start()), or from the first message dropped
 * while waiting when no start is known. A seek bumps librdkafka's
 * version barrier, so nothing fetched before it comes through. A seek
 * refused would read from where the waiting left off: the input ends
 * (exit 1) rather than lose or repeat messages. */
static void
start_reading(struct rkafka *k, const rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_topic_partition_list_t *s = rd_kafka_topic_partition_list_new(4);
    rd_kafka_error_t *e = NULL;
    int failed = 0;

    for (int i = 0; i < l->cnt; i++) {
        struct part *p = part_find(k, l->elems[i].topic, l->elems[i].partition);
        int64_t at = l->elems[i].offset;

        if (p == NULL || !p->waiting)
            continue;
        if (at < 0)
            at = p->dropped;
        if (at >= 0)
            rd_kafka_topic_partition_list_add(s, p->topic, p->id)->offset = at;
        p->from = at >= 0 ? at : NO_OFFSET;
        p->waiting = 0;
        p->dropped = p->eof = NO_OFFSET;
    }
    if (s->cnt > 0)
        e = rd_kafka_seek_partitions(k->rk, s, WATERMARK_MS);
    for (int i = 0; i < s->cnt && e == NULL && !failed; i++)
        failed = s->elems[i].err != 0;
    if (e != NULL || failed) {
        ss_diag("--kafka: cannot start reading the partitions assigned: %s",
                e != NULL ? rd_kafka_error_string(e) : "seek refused");
        kafka_end(k, SS_REPORTED);
    }
    if (e != NULL)
        rd_kafka_error_destroy(e);
    rd_kafka_topic_partition_list_destroy(s);
}

/* Claim the partitions of 'l', their starts picked. A refused claim
 * means a rebalance has begun since the assignment: reading now would
 * send messages the group cannot be told of, which the partition's next
 * owner would read again. So nothing is read until a claim is taken or
 * the partitions are revoked; at 'force' (the wait is over) they are
 * read anyway, and the member says what may come twice. 1: read them. */
static int
claim_pending(struct rkafka *k, rd_kafka_topic_partition_list_t *l, int force)
{
    rd_kafka_resp_err_t err;

    if ((err = claim(k, l)) == 0)
        return 1;
    if (force) {
        ss_diag("--kafka: rebalance: cannot claim the partitions assigned "
                "(%s): what this member reads may be read again by their "
                "next owner",
                rd_kafka_err2str(err));
        return 1;
    }
    if (k->o.stats && !k->pending_said)
        ss_diag("--kafka: rebalance: claim refused (%s): waiting",
                rd_kafka_err2str(err));
    k->pending_said = 1;
    return 0;
}

/* --partition-state: a partition starts where its state stands, which
 * is where the stage after us will load it from (lib/pstate.h). 1 when
 * every partition of 'l' can start as far as its state goes: it has none,
 * or its holder closed it, or (after the wait, 'force') the holder is
 * taken for dead; and the open batch is later than the state's last, as
 * a batch time goes to a partition's state once. 0: wait; -1: the input
 * ends (said). */
static int
state_ready(struct rkafka *k, const rd_kafka_topic_partition_list_t *l,
            int force)
{
    const struct ss_batcher *b = k->r.host->b;

    for (int i = 0; i < l->cnt; i++) {
        struct ss_pstate_pos pos;

        if (ss_pstate_read(k->o.pstate, l->elems[i].topic,
                           l->elems[i].partition, &pos) < 0) {
            kafka_end(k, SS_REPORTED);
            return -1;
        }
        if (!pos.known || pos.next == SS_PSTATE_NONE)
            continue;
        if ((!pos.closed && !force) || !b->open || b->time <= pos.time)
            return 0;
    }
    return 1;
}

/* --partition-state: the group's last commit of partition e was made by
 * a member that kept the partition's state in another folder (its id in
 * the metadata): this member would start it without that state. Said,
 * and 1. */
static int
other_folder(struct rkafka *k, const rd_kafka_topic_partition_t *e)
{
    const char *m = e->metadata, *at;
    size_t n = e->metadata_size, tag = sizeof(META_STATE) - 1;

    if (k->o.pstate == NULL || e->err != 0 || m == NULL ||
        n < tag + SS_PSTATE_ID_LEN)
        return 0;
    at = m + n - SS_PSTATE_ID_LEN - tag;
    if (memcmp(at, META_STATE, tag) != 0 ||
        memcmp(at + tag, k->pstate_id, SS_PSTATE_ID_LEN) == 0)
        return 0;
    ss_diag("--partition-state: the state of '%s[%" PRId32 "]' is kept in "
            "another folder (id %.*s; '%s' is %s): give every member of the "
            "group the same folder, one machine's or one the machines share",
            e->topic, e->partition, SS_PSTATE_ID_LEN, at + tag, k->o.pstate,
            k->pstate_id);
    return 1;
}

/* --partition-state holds a position for partition e: it starts there. */
static int
has_state(struct rkafka *k, const rd_kafka_topic_partition_t *e)
{
    struct ss_pstate_pos pos;

    return k->o.pstate != NULL &&
           ss_pstate_read(k->o.pstate, e->topic, e->partition, &pos) == 0 &&
           pos.known && pos.next != SS_PSTATE_NONE;
}

/* The partitions of 'l' (state_ready()) start where their state stands:
 * the offset its holder closed it at, or for a holder that never closed
 * it, the one its checkpoint reached (which the member says). 1, or 0
 * when the input ends (said). */
static int
state_start(struct rkafka *k, rd_kafka_topic_partition_list_t *l)
{
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_partition_t *e = &l->elems[i];
        struct part *p = part_find(k, e->topic, e->partition);
        struct ss_pstate_pos pos;
        int64_t at;
        int rc;

        if (ss_pstate_read(k->o.pstate, e->topic, e->partition, &pos) < 0)
            return kafka_end(k, SS_REPORTED), 0;
        if (!pos.known || pos.next == SS_PSTATE_NONE)
            continue;
        at = pos.next;
        if (!pos.closed) {
            if ((rc = ss_pstate_recover(k->o.pstate, e->topic, e->partition,
                                        &at)) < 0)
                return kafka_end(k, SS_REPORTED), 0;
            if (rc == 0)
                continue;
            ss_diag("--partition-state: the state of '%s[%" PRId32 "]' was "
                    "not handed over by its last holder: from its checkpoint, "
                    "offset %" PRId64 "; the outputs of the holder's last "
                    "batches may be missing or come again",
                    e->topic, e->partition, at);
        }
        e->offset = at;
        if (p != NULL)
            p->next = p->stored = at;
    }
    return 1;
}

/* Read the waiting partitions once no other member holds one open and
 * this member's claim is taken, or when the wait is over ('force'): then
 * say what may come twice. 1: reading. */
static int
try_pending(struct rkafka *k, int force)
{
    rd_kafka_topic_partition_list_t *c, *w;
    int open = 0, ready;

    if (k->stopped) { /* the input ended while it waited */
        uv_timer_stop(&k->handoff);
        return 0;
    }
    if (k->o.pstate != NULL && state_ready(k, k->pending, force) <= 0)
        return 0;
    c = committed(k, k->pending);
    for (int i = 0; c != NULL && i < c->cnt; i++)
        if (other_folder(k, &c->elems[i])) {
            rd_kafka_topic_partition_list_destroy(c);
            kafka_end(k, SS_REPORTED);
            return 0;
        }
    for (int i = 0; c != NULL && i < c->cnt; i++)
        if (held_open(k, &c->elems[i]) && !known(k, &c->elems[i])) {
            open = 1;
            if (force && !has_state(k, &c->elems[i])) /* else said below */
                ss_diag("--kafka: '%s[%" PRId32 "]' not handed over by its "
                        "last owner: from its last commit, offset %" PRId64
                        "; what it sent after that comes again",
                        c->elems[i].topic, c->elems[i].partition,
                        c->elems[i].offset);
        }
    if (open && !force && k->o.stats && !k->pending_said)
        ss_diag("--kafka: rebalance: waiting for the last owner to hand "
                "partitions over");
    if (open && !force)
        k->pending_said = 1;
    /* each try starts from the assignment, not from an older try's offsets */
    w = rd_kafka_topic_partition_list_copy(k->pending);
    if ((ready = !open || force))
        pick_start(k, w, c);
    if (ready && k->o.pstate != NULL)
        ready = state_start(k, w);
    ready = ready && !k->stopped && claim_pending(k, w, force);
    if (c != NULL)
        rd_kafka_topic_partition_list_destroy(c);
    if (ready) {
        k->pending_said = 0;
        uv_timer_stop(&k->handoff);
        start_reading(k, w);
        rd_kafka_topic_partition_list_destroy(k->pending);
        k->pending = NULL;
    }
    rd_kafka_topic_partition_list_destroy(w);
    return ready;
}

static void
on_handoff(uv_timer_t *t)
{
    struct rkafka *k = t->data;

    if (k->pending != NULL)
        try_pending(k, uv_now(k->r.host->loop) >= k->pending_until);
}

/* HANDOFF_MS, or SSTREAM_TEST_HANDOFF_MS for the tests: a test that kills
 * a member need not wait out the full hand-over time in every build. */
static uint64_t
handoff_ms(void)
{
    const char *t = getenv("SSTREAM_TEST_HANDOFF_MS");

    return t != NULL && *t != '\0' ? strtoull(t, NULL, 10) : HANDOFF_MS;
}

/* Assigned: read at once when leaving (nothing is read then) or before
 * the loop runs; else the partitions are assigned at a first guess of
 * their start, and their messages dropped until try_pending() has them
 * handed over and claimed. */
static void
assign(struct rkafka *k, rd_kafka_topic_partition_list_t *l, int cooperative)
{
    rd_kafka_topic_partition_list_t *guess, *c;

    for (int i = 0; i < l->cnt; i++) {
        struct part *p = part_get(k, l->elems[i].topic, l->elems[i].partition);

        if (p == NULL)
            continue; /* out of memory: the group's offset serves */
        p->assigned = 1;
        p->waiting = 0;
        p->dropped = NO_OFFSET;
        k->closed_own = 0;
        if (k->o.once)
            set_target(k, p);
    }
    connected(k);
    pay_owed(k);
    count_partitions(k);
    if (k->closing || !k->handles ||
        (guess = rd_kafka_topic_partition_list_copy(l)) == NULL) {
        start_offsets(k, l, NULL);
        if (!k->closing)
            claim(k, l);
        assign_now(k, l, cooperative);
        return;
    }
    pick_start(k, guess, (c = committed(k, l)));
    for (int i = 0; i < l->cnt; i++) {
        struct part *p = part_find(k, l->elems[i].topic, l->elems[i].partition);

        if (p != NULL)
            p->waiting = 1;
    }
    assign_now(k, guess, cooperative);
    rd_kafka_topic_partition_list_destroy(guess);
    if (c != NULL)
        rd_kafka_topic_partition_list_destroy(c);
    if (k->pending == NULL) { /* else more of a cooperative assignment */
        k->pending = rd_kafka_topic_partition_list_new(l->cnt);
        k->pending_until = uv_now(k->r.host->loop) + handoff_ms();
    }
    for (int i = 0; i < l->cnt; i++)
        rd_kafka_topic_partition_list_add(k->pending, l->elems[i].topic,
                                          l->elems[i].partition)
            ->offset = l->elems[i].offset;
    if (!try_pending(k, 0))
        uv_timer_start(&k->handoff, on_handoff, HANDOFF_TICK, HANDOFF_TICK);
}

/* Revoked: the waiting partitions among 'l' are no longer to be read. */
static void
stop_waiting(struct rkafka *k, const rd_kafka_topic_partition_list_t *l)
{
    for (int i = 0; k->pending != NULL && i < l->cnt; i++) {
        struct part *p = part_find(k, l->elems[i].topic, l->elems[i].partition);

        if (p != NULL)
            p->waiting = 0;
        rd_kafka_topic_partition_list_del(k->pending, l->elems[i].topic,
                                          l->elems[i].partition);
    }
    if (k->pending != NULL && k->pending->cnt == 0) {
        uv_timer_stop(&k->handoff);
        rd_kafka_topic_partition_list_destroy(k->pending);
        k->pending = NULL;
        k->pending_said = 0;
    }
}

/* Give the partitions up: commit what was sent, "closed", so that their
 * next owner starts right after it. */
static void
finish_unassign(struct rkafka *k, rd_kafka_topic_partition_list_t *l,
                int cooperative)
{
    rd_kafka_error_t *e;

    close_parts(k, l);
    for (int i = 0; i < l->cnt; i++) {
        struct part *p = part_find(k, l->elems[i].topic, l->elems[i].partition);

        if (p != NULL)
            p->assigned = 0;
    }
    if (!cooperative) {
        rd_kafka_assign(k->rk, NULL);
    } else if ((e = rd_kafka_incremental_unassign(k->rk, l)) != NULL) {
        rd_kafka_error_destroy(e);
    }
}

/* Partitions whose messages wait in the open batch are given up only
 * once it is sent (sent()): their offsets are then committed, and the
 * next owner does not read those messages again. Until then this member
 * reads nothing; the group waits (for up to max.poll.interval.ms). */
static void
unassign(struct rkafka *k, rd_kafka_topic_partition_list_t *l, int cooperative)
{
    stop_waiting(k, l);
    k->in_assignment = 0;
    for (int i = 0; i < l->cnt && !k->closing; i++) {
        struct part *p = part_find(k, l->elems[i].topic, l->elems[i].partition);

        if (p != NULL && p->next != p->stored &&
            (k->revoking = rd_kafka_topic_partition_list_copy(l)) != NULL) {
            k->revoking_coop = cooperative;
            return;
        }
    }
    finish_unassign(k, l, cooperative);
}

static void
on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
             rd_kafka_topic_partition_list_t *l, void *opaque)
{
    struct rkafka *k = opaque;
    int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;

    if (k->o.stats)
        ss_diag("--kafka: rebalance: %s %d partition%s",
                err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? "assigned"
                                                            : "revoked",
                l->cnt, l->cnt == 1 ? "" : "s");
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        assign(k, l, coop);
    else
        unassign(k, l, coop);
}

static void
on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct rkafka *k = opaque;

    (void)rk;
    switch (err) {
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
        ss_recv_reach_lost(&k->reach, reason);
        break;
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
        ss_diag("--kafka: %s", reason);
        if (!k->stopped)
            kafka_end(k, SS_REPORTED);
        break;
    default:
        break; /* librdkafka retries the rest itself */
    }
}

static rd_kafka_conf_t *
consumer_conf(struct rkafka *k)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *reset =
        k->o.start == SS_RECV_KAFKA_BEGINNING ? "earliest" : "latest";

    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_error_cb(conf, on_error);
    /* offsets are stored by sent(), once their batch is out, and
     * committed there and at each hand-over with their mark in the
     * metadata; librdkafka's own commits (auto-commit, and the last one as
     * the consumer closes) would commit the same offsets with no metadata
     * (librdkafka 2.0 stores none), erasing the marks */
    if (ss_kafka_set(conf, "bootstrap.servers", k->o.brokers) < 0 ||
        ss_kafka_set(conf, "group.id", k->o.group) < 0 ||
        ss_kafka_set(conf, "enable.auto.offset.store", "false") < 0 ||
        ss_kafka_set(conf, "enable.auto.commit", "false") < 0 ||
        ss_kafka_set(conf, "auto.offset.reset", reset) < 0 ||
        ss_kafka_set(conf, "enable.partition.eof",
                     k->o.once ? "true" : "false") < 0 ||
        ss_kafka_props(conf, k->o.props, k->o.nprops) < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

static int
subscribe(struct rkafka *k)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    char *topics = strdup(k->o.topics), *t, *save = NULL;
    rd_kafka_resp_err_t err;

    if (topics == NULL) {
        rd_kafka_topic_partition_list_destroy(l);
        return ss_diag_err(-ENOMEM, "--kafka");
    }
    for (t = strtok_r(topics, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save))
        rd_kafka_topic_partition_list_add(l, t, RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(k->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    free(topics);
    if (err != 0)
        return ss_diag("--topic: '%s': %s", k->o.topics, rd_kafka_err2str(err));
    return 0;
}

/* The consumer queue wakes the loop through a pipe (see the top). */
static int
wire_loop(struct rkafka *k)
{
    uv_loop_t *loop = k->r.host->loop;
    int rc;

    if (pipe(k->pipe) < 0)
        return ss_diag_err(-errno, "--kafka: pipe");
    for (int i = 0; i < 2; i++) {
        fcntl(k->pipe[i], F_SETFL, fcntl(k->pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(k->pipe[i], F_SETFD, FD_CLOEXEC);
    }
    if ((rc = uv_poll_init(loop, &k->poll, k->pipe[0])) < 0)
        return ss_diag("--kafka: %s", uv_strerror(rc));
    uv_idle_init(loop, &k->idle);
    uv_timer_init(loop, &k->handoff);
    uv_timer_init(loop, &k->group);
    k->handles = 1;
    k->poll.data = k->idle.data = k->handoff.data = k->group.data = k;
    k->q = rd_kafka_queue_get_consumer(k->rk);
    rd_kafka_queue_io_event_enable(k->q, k->pipe[1], "1", 1);
    uv_poll_start(&k->poll, UV_READABLE, on_poll);
    /* messages may have queued before the pipe was wired */
    uv_idle_start(&k->idle, on_idle);
    return 0;
}

/* ---- the receiver's ops ---- */

static void
resume(struct ss_recv *r)
{
    struct rkafka *k = (struct rkafka *)r;

    if (!k->stopped && k->held != NULL)
        pump(k);
}

/* Each assigned partition's lag, the messages between what this member
 * has read and the partition's end, as " TOPIC[P]=N" items, or as JSON
 * members "TOPIC[P]":N separated by commas ('json'). Topic names are
 * [A-Za-z0-9._-]: nothing to escape. */
static void
lag_items(struct rkafka *k, struct ss_buf *out, int json)
{
    rd_kafka_topic_partition_list_t *l;
    int first = 1;

    l = rd_kafka_topic_partition_list_new((int)k->nparts);
    for (size_t i = 0; i < k->nparts; i++)
        if (k->parts[i].assigned)
            rd_kafka_topic_partition_list_add(l, k->parts[i].topic,
                                              k->parts[i].id);
    rd_kafka_position(k->rk, l); /* local: where the fetcher stands */
    for (int i = 0; i < l->cnt; i++) {
        const rd_kafka_topic_partition_t *e = &l->elems[i];
        struct part *p = part_find(k, e->topic, e->partition);
        int64_t lo, hi,
            at = p != NULL && p->next != NO_OFFSET ? p->next : e->offset;

        if (rd_kafka_get_watermark_offsets(k->rk, e->topic, e->partition, &lo,
                                           &hi) != 0 ||
            hi < 0)
            continue; /* not fetched yet: nothing known */
        if (at < 0 && hi == lo)
            at = hi; /* an empty partition: nothing to read */
        if (at < 0)
            continue; /* nothing read here yet: where it starts is unknown */
        ss_buf_printf(out,
                      json ? "%s\"%s[%" PRId32 "]\":%" PRId64
                           : "%s%s[%" PRId32 "]=%" PRId64,
                      json ? (first ? "" : ",") : " ", e->topic, e->partition,
                      hi > at ? hi - at : 0);
        first = 0;
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Under --stats: the lag of each assigned partition on one line. */
static void
say_lag(struct rkafka *k)
{
    struct ss_buf lag = {0};

    lag_items(k, &lag, 0);
    if (lag.len > 0)
        ss_diag("--kafka: lag%.*s", (int)lag.len, lag.data);
    ss_buf_release(&lag);
}

/* --stats-file: "kafka_lag":{"TOPIC[P]":N,...}, as the batch closes. */
static void
on_json(struct ss_recv *r, struct ss_buf *out)
{
    struct rkafka *k = (struct rkafka *)r;

    if (k->rk == NULL)
        return;
    ss_buf_printf(out, ",\"kafka_lag\":{");
    lag_items(k, out, 1);
    ss_buf_printf(out, "}");
}

static int
by_partition(const void *a, const void *b)
{
    const struct ss_frame_part *x = a, *y = b;

    return (x->partition > y->partition) - (x->partition < y->partition);
}

/* The batch closes: its offsets field, the partitions this member reads
 * (assigned, handed over, their position known), each from where the
 * batch began it to where it ends it; a partition given up is missing
 * from the next batch's. One topic only: the field names one. */
static void
closing(struct ss_recv *r, struct ss_frame_writer *w)
{
    struct rkafka *k = (struct rkafka *)r;
    struct ss_frame_part v[SS_FRAME_OFFSETS_MAX];
    size_t n = 0;

    if (strchr(k->o.topics, ',') != NULL)
        return;
    for (size_t i = 0; i < k->nparts; i++) {
        struct part *p = &k->parts[i];

        if (!p->assigned || p->waiting || p->next == NO_OFFSET)
            continue;
        if (n == SS_FRAME_OFFSETS_MAX) {
            if (!k->too_many_said)
                ss_diag("--kafka: this member holds more than %d partitions, "
                        "more than a frame names: the stages after it "
                        "cannot keep state by partition",
                        SS_FRAME_OFFSETS_MAX);
            k->too_many_said = 1;
            return;
        }
        v[n++] = (struct ss_frame_part){
            p->id, p->from == NO_OFFSET ? p->next : p->from, p->next};
        p->from = p->next;
    }
    /* before the first assignment the count may not be known: 0 then,
     * with no partition held */
    if (n > 0 && k->topic_parts <= 0)
        count_partitions(k);
    if (n > 0 && k->topic_parts <= 0)
        return; /* the stages after it say that a batch has no offsets */
    qsort(v, n, sizeof(v[0]), by_partition);
    ss_frame_writer_offsets(w, k->o.topics, strlen(k->o.topics),
                            (uint32_t)k->topic_parts, v, n);
}

/* The batch is out: its offsets go to the group's next commit. */
static void
sent(struct ss_recv *r, int64_t time)
{
    struct rkafka *k = (struct rkafka *)r;
    rd_kafka_topic_partition_list_t *l;

    (void)time;
    if (k->rk == NULL)
        return;
    l = rd_kafka_topic_partition_list_new((int)k->nparts);
    for (size_t i = 0; i < k->nparts; i++) {
        struct part *p = &k->parts[i];

        if (p->assigned && p->next != p->stored && p->next != NO_OFFSET) {
            rd_kafka_topic_partition_list_add(l, p->topic, p->id)->offset =
                p->next;
            p->stored = p->next;
        }
    }
    /* Committed now, not at the next auto-commit: a rebalance may give
     * the partitions to another member before then, which would read
     * this batch's messages again; a commit refused while the group
     * rebalances cannot be counted on either. */
    set_meta(k, l, 1);
    if (l->cnt > 0 && rd_kafka_offsets_store(k->rk, l) == 0)
        rd_kafka_commit(k->rk, l, 1);
    rd_kafka_topic_partition_list_destroy(l);
    if (k->revoking != NULL) {
        finish_unassign(k, k->revoking, k->revoking_coop);
        rd_kafka_topic_partition_list_destroy(k->revoking);
        k->revoking = NULL;
        if (!k->stopped)
            uv_idle_start(&k->idle, on_idle);
    }
    if (k->o.stats)
        say_lag(k);
}

static void
stop(struct ss_recv *r)
{
    struct rkafka *k = (struct rkafka *)r;

    /* a message already handed to us goes in: the budget no longer holds */
    if (k->held != NULL && take(k, k->held) != 0) {
        rd_kafka_message_destroy(k->held);
        k->held = NULL;
    }
    k->stopped = 1;
    if (k->handles) {
        uv_poll_stop(&k->poll);
        uv_close((uv_handle_t *)&k->poll, NULL);
        uv_close((uv_handle_t *)&k->idle, NULL);
        uv_close((uv_handle_t *)&k->handoff, NULL);
        uv_close((uv_handle_t *)&k->group, NULL);
        k->handles = 0;
    }
}

/* Leaving: commit what was read "closed" while still a member. What the
 * group refuses because it rebalances is paid at the assignment that
 * ends the rebalance, so the member stays for it (up to SETTLE_MS),
 * serving the group's callbacks and reading nothing: messages fetched
 * meanwhile are dropped, their offsets not committed. */
static void
settle(struct rkafka *k)
{
    uint64_t until = uv_hrtime() / 1000000 + SETTLE_MS;

    close_assigned(k);
    while (k->owed != NULL && uv_hrtime() / 1000000 < until) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, 100);

        if (m != NULL)
            rd_kafka_message_destroy(m);
    }
}

/* Leave the group: the group commits the offsets stored by sent(). A
 * member that never joined (no broker) need not wait for one. */
static void
release(struct ss_recv *r)
{
    struct rkafka *k = (struct rkafka *)r;

    k->closing = 1;
    if (k->held != NULL)
        rd_kafka_message_destroy(k->held);
    if (k->revoking != NULL) /* its batch was not sent: it is not ours */
        rd_kafka_topic_partition_list_destroy(k->revoking);
    if (k->pending != NULL) /* never read: the group takes them back */
        rd_kafka_topic_partition_list_destroy(k->pending);
    k->revoking = k->pending = NULL;
    if (k->q != NULL) {
        rd_kafka_queue_io_event_enable(k->q, -1, NULL, 0);
        rd_kafka_queue_destroy(k->q);
    }
    if (k->rk != NULL && k->assigned_once) {
        settle(k);
        rd_kafka_consumer_close(k->rk);
        say_owed(k);
        rd_kafka_destroy(k->rk);
    } else if (k->rk != NULL) {
        rd_kafka_destroy_flags(k->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
    if (k->owed != NULL)
        rd_kafka_topic_partition_list_destroy(k->owed);
    for (int i = 0; i < 2; i++)
        if (k->pipe[i] >= 0)
            close(k->pipe[i]);
    for (size_t i = 0; i < k->nparts; i++)
        free(k->parts[i].topic);
    free(k->parts);
    ss_ledger_release(&k->ledger);
    free(k);
}

static const struct ss_recv_ops ops = {resume, sent, stop, release};

int
ss_recv_kafka_start(struct ss_recv_host *h, const struct ss_recv_kafka_opts *o,
                    struct ss_recv **out)
{
    struct rkafka *k = calloc(1, sizeof(*k));
    rd_kafka_conf_t *conf;
    char err[512];

    if (k == NULL)
        return ss_diag_err(-ENOMEM, "--kafka");
    k->r.ops = &ops;
    k->r.host = h;
    k->r.what = "--kafka";
    k->r.json = on_json;
    k->r.closing = closing;
    k->o = *o;
    k->pipe[0] = k->pipe[1] = -1;
    k->reach.opt = "--kafka";
    k->reach.where = o->brokers;
    *out = &k->r;
    k->stopped = 1; /* until it runs: nothing to pump */
    if (o->pstate != NULL && ss_pstate_folder_id(o->pstate, k->pstate_id) < 0)
        return SS_REPORTED;
    if (o->wal != NULL) {
        k->r.logging = on_logging;
        k->ledger.dir = o->wal;
        k->ledger.name = SS_LEDGER_KAFKA;
        if (ss_ledger_load(&k->ledger, o->logged, ledger_entry, k) < 0)
            return SS_REPORTED;
    }
    if ((conf = consumer_conf(k)) == NULL)
        return SS_REPORTED;
    if ((k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err))) ==
        NULL) {
        rd_kafka_conf_destroy(conf);
        return ss_diag("--kafka: %s", err);
    }
    rd_kafka_poll_set_consumer(k->rk);
    if (subscribe(k) < 0 || wire_loop(k) < 0)
        return SS_REPORTED;
    k->stopped = 0;
    return 0;
}
