/* recv_nats.c - sstream-source --nats URL --stream NAME --consumer NAME:
 * a JetStream durable pull consumer whose messages' payloads are
 * records, added one at a time with ss_recv_add().
 *
 * libnats's calls that wait (connecting, binding the consumer, fetching
 * the next messages) run in libuv's thread pool (uv_queue_work), one
 * request at a time; what they bring back is added to batches on the
 * loop, in the after-work callback, so the batch clock and the other
 * inputs are served while a fetch waits. A message the budget holds back
 * stays in the fetched list until resume().
 *
 * Acknowledgements: a message is acknowledged once the batch that holds
 * it has been written to stdout (sent()), and the acks are flushed to
 * the server there, so a crash before that redelivers it (after the
 * consumer's AckWait): at least once. With --wal the batch is in the log
 * before it is sent, and the stream sequences of the messages the log
 * holds but whose acks the server may not have are written beside it,
 * tagged with the batch time, before the batch is synced (logging(),
 * DIR/nats-pending): a restart skips (and acknowledges) those messages
 * when the server delivers them again, and the log sends their batch if
 * the sink had not committed it, so nothing is counted twice.
 *
 * The same set, 'skip', keeps the sequences acknowledged by this run
 * until the consumer's ack floor (read with the fetch after each batch's
 * acks, in the thread pool: a cluster electing the consumer's leader
 * answers no request for seconds, and the loop must not wait) has
 * passed them, so a message the server delivers again anyway (its ack
 * came after AckWait ran out) is dropped, not counted twice; messages
 * the budget holds back are kept from running out (InProgress).
 *
 * Owns: the connection, the subscription, the fetched and unacknowledged
 * messages, freed by free(); the opts strings are the caller's.
 */
#include <errno.h>
#include <inttypes.h>
#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "diag.h"
#include "ledger.h"
#include "nats.h"
#include "recv_kit.h"

#define FETCH_N  1000 /* messages asked for per fetch */
#define FETCH_MS 500  /* a fetch waits this long for the first one */
#define FLUSH_MS 2000 /* for the server to confirm a batch's acks */
#define CLOSE_MS 5000 /* for libnats's threads to end */
#define STATS_MS 250  /* for the consumer's numbers (--stats) */

enum step {
    STEP_CONNECT,
    STEP_STREAM,
    STEP_CONSUMER,
    STEP_FILTER,
    STEP_SUBSCRIBE,
    STEP_FETCH
};

struct range {
    uint64_t lo, hi;
};

struct seqs { /* stream sequences, as sorted, merged ranges */
    struct range *v;
    size_t n, cap;
};

struct taken {
    natsMsg *m;
    uint64_t seq;
};

struct rnats {
    struct ss_recv r;
    struct ss_recv_nats_opts o;
    natsOptions *opts;
    natsConnection *nc; /* set in the thread pool (work()) */
    /* nc as the loop may use it: copied by after_work(), which runs once
     * work() is over, so the loop never reads nc while the pool sets it */
    natsConnection *loop_nc;
    jsCtx *js;
    natsSubscription *sub;
    uv_work_t work;
    uv_timer_t retry;
    int working; /* a request in the thread pool */
    int handles, stopped;
    atomic_int down;  /* libnats lost the connection (its thread says) */
    atomic_int moved; /* and has reconnected since, maybe elsewhere */
    char server[256]; /* the server connected to, as the loop last saw */
    /* what the request brought back */
    enum step step;
    natsStatus st;
    jsErrCode jerr;
    int want_floor;      /* acks went out: read the ack floor again */
    int ask_floor;       /* want_floor, as the running request sees it */
    uint64_t floor;      /* the consumer's ack floor, when a request read it */
    char filter[256];    /* the consumer's subject filter ("": none) */
    char why[256];       /* libnats's words for a failed step */
    int64_t max_pending; /* its MaxAckPending: messages a batch can hold */
    int said_full;
    natsMsgList list;
    int next; /* the list's next message to add */
    /* the open batch's messages, acknowledged by sent() */
    struct taken *open;
    size_t nopen, capopen;
    /* acknowledged by this run, or (--wal) in the log, and not yet passed
     * by the consumer's ack floor: dropped when delivered again */
    struct seqs skip;
    int changed; /* 'skip' or the open batch changed since the ledger */
    struct ss_ledger ledger;
    struct ss_recv_reach reach;
    struct ss_backoff bo;
    uint64_t redelivered; /* messages delivered again, this run */
};

/* ---- sets of stream sequences, as sorted, merged ranges ---- */

static int
cmp_range(const void *a, const void *b)
{
    const struct range *x = a, *y = b;

    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Add lo..hi, unsorted until seqs_merge(); 0 or -ENOMEM. */
static int
seqs_add(struct seqs *s, uint64_t lo, uint64_t hi)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct range *v = realloc(s->v, cap * sizeof(*v));

        if (v == NULL)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (struct range){lo, hi};
    return 0;
}

static void
seqs_merge(struct seqs *s)
{
    size_t out = 0;

    if (s->n == 0)
        return; /* qsort() of a NULL array is undefined, even empty */
    qsort(s->v, s->n, sizeof(*s->v), cmp_range);
    for (size_t i = 0; i < s->n; i++) {
        if (out > 0 && s->v[i].lo <= s->v[out - 1].hi + 1) {
            if (s->v[i].hi > s->v[out - 1].hi)
                s->v[out - 1].hi = s->v[i].hi;
        } else {
            s->v[out++] = s->v[i];
        }
    }
    s->n = out;
}

static int
seqs_has(const struct seqs *s, uint64_t seq)
{
    for (size_t i = 0; i < s->n; i++)
        if (seq >= s->v[i].lo && seq <= s->v[i].hi)
            return 1;
    return 0;
}

/* Forget what is at or below 'floor'; 1 when something went. */
static int
seqs_floor(struct seqs *s, uint64_t floor)
{
    size_t out = 0, n = s->n;

    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].hi <= floor)
            continue;
        if (s->v[i].lo <= floor)
            s->v[i].lo = floor + 1;
        s->v[out++] = s->v[i];
    }
    s->n = out;
    return out != n;
}

/* ---- the ledger beside the log (--wal) ---- */

/* "STREAM LO-HI ..." for 'skip' and the open batch, or nothing when both
 * are empty. */
static int
snapshot(const void *ctx, struct ss_buf *b)
{
    const struct rnats *n = ctx;
    struct seqs all = {0};
    int rc = 0;

    for (size_t i = 0; i < n->skip.n && rc == 0; i++)
        rc = seqs_add(&all, n->skip.v[i].lo, n->skip.v[i].hi);
    for (size_t i = 0; i < n->nopen && rc == 0; i++)
        rc = seqs_add(&all, n->open[i].seq, n->open[i].seq);
    seqs_merge(&all);
    if (rc == 0 && all.n > 0)
        rc = ss_buf_append(b, n->o.stream, strlen(n->o.stream));
    for (size_t i = 0; i < all.n && rc == 0; i++)
        rc = ss_buf_printf(b, " %" PRIu64 "-%" PRIu64, all.v[i].lo,
                           all.v[i].hi) < 0
                 ? -ENOMEM
                 : 0;
    if (rc == 0 && all.n > 0)
        rc = ss_buf_putc(b, '\n');
    free(all.v);
    return rc;
}

static void
on_logging(struct ss_recv *r, int64_t time)
{
    struct rnats *n = (struct rnats *)r;

    if (!n->changed && n->nopen == 0)
        return; /* the snapshot on file still holds */
    if (ss_ledger_log(&n->ledger, time, snapshot, n) < 0)
        r->host->troubles++;
    else
        n->changed = 0;
}

static int
skip_range(void *ctx, uint64_t lo, uint64_t hi)
{
    return seqs_add(&((struct rnats *)ctx)->skip, lo, hi);
}

/* A line of the ledger: this stream's sequences go into 'skip'; another
 * stream's are not ours to skip, and are left out of the snapshot. */
static int
ledger_line(void *ctx, const char *rest, size_t len, int take)
{
    struct rnats *n = ctx;
    const char *stream;
    size_t slen;
    int rc;

    rc = ss_ledger_nats_parse(rest, len, &stream, &slen, NULL, NULL);
    if (rc < 0 || slen != strlen(n->o.stream) ||
        memcmp(stream, n->o.stream, slen) != 0)
        return -EINVAL;
    return take ? ss_ledger_nats_parse(rest, len, &stream, &slen, skip_range, n)
                : 0;
}

/* ---- libnats, in the thread pool ---- */

static void
on_disconnected(natsConnection *nc, void *ctx)
{
    (void)nc;
    atomic_store(&((struct rnats *)ctx)->down, 1);
}

static void
on_reconnected(natsConnection *nc, void *ctx)
{
    (void)nc;
    atomic_store(&((struct rnats *)ctx)->moved, 1);
    atomic_store(&((struct rnats *)ctx)->down, 0);
}

/* Connect and bind the consumer, as far as it goes; the step that failed
 * and why are left in n. */
static int
bind_consumer(struct rnats *n)
{
    jsConsumerInfo *ci = NULL;
    jsStreamInfo *si = NULL;
    jsSubOptions so;

    n->step = STEP_CONNECT;
    if (n->nc == NULL &&
        (n->st = natsConnection_Connect(&n->nc, n->opts)) != NATS_OK)
        return -1;
    if (n->js == NULL &&
        (n->st = natsConnection_JetStream(&n->js, n->nc, NULL)) != NATS_OK)
        return -1;
    n->step = STEP_STREAM;
    if ((n->st = js_GetStreamInfo(&si, n->js, n->o.stream, NULL, &n->jerr)) !=
        NATS_OK)
        return -1;
    jsStreamInfo_Destroy(si);
    n->step = STEP_CONSUMER;
    if ((n->st = js_GetConsumerInfo(&ci, n->js, n->o.stream, n->o.consumer,
                                    NULL, &n->jerr)) != NATS_OK)
        return -1;
    n->floor = ci->AckFloor.Stream;
    n->max_pending = ci->Config ? ci->Config->MaxAckPending : 0;
    snprintf(n->filter, sizeof(n->filter), "%s",
             ci->Config && ci->Config->FilterSubject ? ci->Config->FilterSubject
                                                     : "");
    jsConsumerInfo_Destroy(ci);
    n->step = STEP_FILTER;
    if (n->o.subject != NULL && strcmp(n->o.subject, n->filter) != 0) {
        n->st = NATS_MISMATCH;
        return -1;
    }
    n->step = STEP_SUBSCRIBE;
    jsSubOptions_Init(&so);
    so.Stream = n->o.stream;
    so.Consumer = n->o.consumer;
    so.ManualAck = true;
    n->st = js_PullSubscribe(&n->sub, n->js, n->o.subject, n->o.consumer, NULL,
                             &so, &n->jerr);
    return n->st == NATS_OK ? 0 : -1;
}

/* The consumer's ack floor into n->floor, if the server answers. */
static void
read_floor(struct rnats *n)
{
    jsConsumerInfo *ci = NULL;

    if (js_GetConsumerInfo(&ci, n->js, n->o.stream, n->o.consumer, NULL,
                           NULL) != NATS_OK)
        return;
    n->floor = ci->AckFloor.Stream;
    jsConsumerInfo_Destroy(ci);
}

static void
work(uv_work_t *w)
{
    struct rnats *n = w->data;

    n->st = NATS_OK;
    n->jerr = 0;
    n->why[0] = '\0';
    if (n->sub == NULL && bind_consumer(n) < 0)
        return;
    if (n->ask_floor)
        read_floor(n);
    n->step = STEP_FETCH;
    n->st =
        natsSubscription_Fetch(&n->list, n->sub, FETCH_N, FETCH_MS, &n->jerr);
    /* libnats keeps its last error per thread: taken here, said on the
     * loop, without the "(js.c:1750): " that opens it */
    if (n->st != NATS_OK && n->st != NATS_TIMEOUT) {
        const char *e = nats_GetLastError(NULL), *p;

        if (e == NULL)
            e = "";
        if (e[0] == '(' && (p = strstr(e, "): ")) != NULL)
            e = p + 3;
        snprintf(n->why, sizeof(n->why), "%s", e);
    }
}

/* ---- messages, on the loop ---- */

static void after_work(uv_work_t *w, int status);

static void
fetch(struct rnats *n)
{
    if (n->stopped || n->working)
        return;
    n->working = 1;
    n->ask_floor = n->want_floor;
    uv_queue_work(n->r.host->loop, &n->work, work, after_work);
}

static void
on_retry(uv_timer_t *t)
{
    fetch(t->data);
}

static void
nats_end(struct rnats *n, int rc)
{
    if (n->stopped)
        return;
    n->stopped = 1;
    uv_timer_stop(&n->retry);
    ss_recv_end(&n->r, rc);
}

static int
opened(struct rnats *n, natsMsg *m, uint64_t seq)
{
    if (n->nopen == n->capopen) {
        size_t cap = n->capopen ? n->capopen * 2 : 256;
        struct taken *v = realloc(n->open, cap * sizeof(*v));

        if (v == NULL)
            return -ENOMEM;
        n->open = v;
        n->capopen = cap;
    }
    n->open[n->nopen++] = (struct taken){m, seq};
    return 0;
}

static int
in_open(const struct rnats *n, uint64_t seq)
{
    for (size_t i = n->nopen; i-- > 0;)
        if (n->open[i].seq == seq)
            return 1;
    return 0;
}

/* Add one message: 1 taken (added, or a redelivery of one the log or the
 * open batch holds), 0 held back, or -errno for host->fatal(). */
static int
take(struct rnats *n, natsMsg *m)
{
    jsMsgMetaData *meta = NULL;
    uint64_t seq = 0;
    int rc;

    if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
        seq = meta->Sequence.Stream;
        if (meta->NumDelivered > 1)
            n->redelivered++;
        if (meta->NumDelivered > 1 &&
            (seqs_has(&n->skip, seq) || in_open(n, seq))) {
            jsMsgMetaData_Destroy(meta);
            if (!in_open(n, seq))
                natsMsg_Ack(m, NULL); /* the log has it */
            natsMsg_Destroy(m);
            return 1;
        }
        jsMsgMetaData_Destroy(meta);
    }
    rc = ss_recv_add(&n->r, NULL, 0, natsMsg_GetData(m),
                     (size_t)natsMsg_GetDataLength(m));
    if (rc <= 0)
        return rc;
    if ((rc = opened(n, m, seq)) < 0)
        return rc;
    if (n->max_pending > 0 && (int64_t)n->nopen == n->max_pending &&
        !n->said_full++)
        /* acks wait for the batch: the server sends no more until then */
        ss_diag("--nats: consumer '%s' lets %" PRId64 " messages wait for "
                "their ack (MaxAckPending), and a batch holds them all: at "
                "most that many a batch; raise it (nats consumer edit %s %s "
                "--max-pending N)",
                n->o.consumer, n->max_pending, n->o.stream, n->o.consumer);
    n->changed = 1;
    return 1;
}

/* Add the fetched messages from 'next' on; 1 when all went in. */
static int
feed(struct rnats *n)
{
    struct ss_recv_host *h = n->r.host;
    int rc;

    while (n->next < n->list.Count) {
        natsMsg *m = n->list.Msgs[n->next];

        if ((rc = take(n, m)) == 0) {
            h->throttled(h, &n->r);
            return 0;
        }
        n->list.Msgs[n->next++] = NULL; /* taken: ours, or destroyed */
        if (rc < 0) {
            natsMsg_Destroy(m);
            h->fatal(h, rc);
            return 0;
        }
    }
    natsMsgList_Destroy(&n->list);
    memset(&n->list, 0, sizeof(n->list));
    n->next = 0;
    return 1;
}

/* Give fetched messages not added back to the server: the next fetch
 * (of this member or another) gets them at once, not after AckWait. */
static void
give_back(struct rnats *n)
{
    for (int i = n->next; i < n->list.Count; i++)
        if (n->list.Msgs[i] != NULL)
            natsMsg_Nak(n->list.Msgs[i], NULL);
    natsMsgList_Destroy(&n->list);
    memset(&n->list, 0, sizeof(n->list));
    n->next = 0;
}

/* A step failed: what the user must fix ends the stream (exit 1); the
 * rest is said once and tried again. */
static void
failed(struct rnats *n)
{
    const char *why = natsStatus_GetText(n->st);

    if (n->jerr == JSNotEnabledErr || n->st == NATS_NO_RESPONDERS) {
        ss_diag("--nats: '%s' has no JetStream (start nats-server with -js)",
                n->o.url);
        nats_end(n, SS_REPORTED);
        return;
    }
    if (n->step == STEP_STREAM && n->jerr == JSStreamNotFoundErr) {
        ss_diag("--stream: '%s' does not exist on '%s' (create it: nats "
                "stream add %s --subjects '%s')",
                n->o.stream, n->o.url, n->o.stream,
                n->o.subject ? n->o.subject : "SUBJECT");
        nats_end(n, SS_REPORTED);
        return;
    }
    if (n->step == STEP_CONSUMER && n->jerr == JSConsumerNotFoundErr) {
        ss_diag("--consumer: '%s' does not exist on stream '%s' (create it: "
                "nats consumer add %s %s --pull --ack explicit)",
                n->o.consumer, n->o.stream, n->o.stream, n->o.consumer);
        nats_end(n, SS_REPORTED);
        return;
    }
    if (n->step == STEP_CONSUMER && n->jerr != 0) {
        ss_diag("--consumer: '%s': %s (%d)", n->o.consumer, why, (int)n->jerr);
        nats_end(n, SS_REPORTED);
        return;
    }
    if (n->step == STEP_FILTER) {
        ss_diag("--subject: consumer '%s' takes '%s', not '%s'", n->o.consumer,
                n->filter[0] ? n->filter : "every subject of the stream",
                n->o.subject);
        nats_end(n, SS_REPORTED);
        return;
    }
    if (n->step == STEP_SUBSCRIBE) { /* the consumer is there: ours to fix */
        ss_diag("--%s: cannot fetch from consumer '%s': %s",
                n->o.subject ? "subject" : "consumer", n->o.consumer,
                nats_GetLastError(NULL));
        nats_end(n, SS_REPORTED);
        return;
    }
    if (n->step == STEP_FETCH && strstr(n->why, "Leadership Change")) {
        /* the server that led the consumer is gone and another leads
         * now (a cluster's failover): the next fetch goes to it */
        ss_diag("--nats: consumer '%s' has a new leader in the cluster: "
                "fetching again",
                n->o.consumer);
        fetch(n);
        return;
    }
    ss_recv_reach_lost(
        &n->reach, n->step == STEP_FETCH && n->why[0] != '\0' ? n->why : why);
    uv_timer_start(&n->retry, on_retry, ss_backoff_next(&n->bo), 0);
}

/* Which server of the cluster the connection is on: said when libnats
 * has moved it to another (the first one failed over). */
static void
said_server(struct rnats *n)
{
    char now[sizeof(n->server)];

    if (n->loop_nc == NULL ||
        natsConnection_GetConnectedUrl(n->loop_nc, now, sizeof(now)) !=
            NATS_OK ||
        now[0] == '\0')
        return;
    if (atomic_exchange(&n->moved, 0) && strcmp(now, n->server) != 0)
        ss_diag("--nats: connection to '%s' lost, now on '%s'", n->server, now);
    memcpy(n->server, now, sizeof(now));
}

static void
after_work(uv_work_t *w, int status)
{
    struct rnats *n = w->data;

    (void)status;
    n->working = 0;
    n->loop_nc = n->nc;
    if (n->stopped) {
        give_back(n);
        return;
    }
    if (n->st != NATS_OK && n->st != NATS_TIMEOUT) {
        give_back(n);
        failed(n);
        return;
    }
    if (atomic_load(&n->down)) {
        ss_recv_reach_lost(&n->reach, "connection lost");
    } else {
        ss_recv_reach_ok(&n->reach);
        ss_backoff_reset(&n->bo);
        said_server(n);
    }
    if (n->floor > 0) { /* acked there, not pending */
        n->changed |= seqs_floor(&n->skip, n->floor);
        n->floor = 0;
        n->want_floor = 0;
    }
    if (feed(n))
        fetch(n);
}

/* ---- the receiver's ops ---- */

static void
resume(struct ss_recv *r)
{
    struct rnats *n = (struct rnats *)r;

    if (!n->stopped && !n->working && n->list.Count > 0 && feed(n))
        fetch(n);
}

static void
say_stats(struct rnats *n)
{
    jsConsumerInfo *ci = NULL;
    jsOptions jo;

    /* on the loop: a cluster electing the consumer's leader answers
     * nothing for seconds, and the batches must go on meanwhile */
    jsOptions_Init(&jo);
    jo.Wait = STATS_MS;
    if (n->js == NULL ||
        js_GetConsumerInfo(&ci, n->js, n->o.stream, n->o.consumer, &jo, NULL) !=
            NATS_OK)
        return;
    ss_diag("--nats: pending %" PRIu64 ", ack pending %" PRId64
            ", redelivered %" PRIu64,
            ci->NumPending, ci->NumAckPending, n->redelivered);
    jsConsumerInfo_Destroy(ci);
}

/* Messages fetched and held back by the budget: tell the server they
 * are being worked on, so that it does not deliver them again when the
 * consumer's AckWait runs out while they wait. */
static void
keep_held(struct rnats *n)
{
    for (int i = n->next; i < n->list.Count; i++)
        if (n->list.Msgs[i] != NULL)
            natsMsg_InProgress(n->list.Msgs[i], NULL);
}

/* The batch is out: acknowledge its messages, and have the server
 * confirm the acks. Their sequences join 'skip' until the consumer's ack
 * floor passes them: a message the server delivers again meanwhile (an
 * ack that came after AckWait ran out, or was lost with a connection) is
 * acknowledged again and dropped, not counted twice. */
static void
sent(struct ss_recv *r, int64_t time)
{
    struct rnats *n = (struct rnats *)r;
    int flushed, rc = 0;

    (void)time;
    if (!n->working && n->next < n->list.Count)
        keep_held(n);
    if (n->nopen == 0 && !(n->o.stats && n->loop_nc != NULL))
        return;
    for (size_t i = 0; i < n->nopen; i++) {
        natsMsg_Ack(n->open[i].m, NULL);
        natsMsg_Destroy(n->open[i].m);
        if (rc == 0)
            rc = seqs_add(&n->skip, n->open[i].seq, n->open[i].seq);
    }
    flushed = n->loop_nc != NULL && !atomic_load(&n->down) &&
              natsConnection_FlushTimeout(n->loop_nc, FLUSH_MS) == NATS_OK;
    if (!flushed && n->nopen > 0)
        ss_diag("--nats: the server has not confirmed the acks of %zu "
                "message%s: if it delivers them again, they are dropped",
                n->nopen, n->nopen == 1 ? "" : "s");
    seqs_merge(&n->skip);
    n->changed |= n->nopen > 0;
    n->nopen = 0;
    /* the sequences the consumer's ack floor has passed go with the
     * next fetch (work()) */
    if (flushed && n->skip.n > 0)
        n->want_floor = 1;
    if (n->o.stats)
        say_stats(n);
}

static void
stop(struct ss_recv *r)
{
    struct rnats *n = (struct rnats *)r;

    /* fetched messages go in: the budget no longer holds */
    if (!n->working && n->list.Count > 0)
        feed(n);
    n->stopped = 1;
    if (n->handles) {
        uv_close((uv_handle_t *)&n->retry, NULL);
        n->handles = 0;
    }
}

static void
release(struct ss_recv *r)
{
    struct rnats *n = (struct rnats *)r;

    give_back(n);
    for (size_t i = 0; i < n->nopen; i++)
        natsMsg_Destroy(n->open[i].m); /* not sent: redelivered later */
    free(n->open);
    free(n->skip.v);
    if (n->sub != NULL)
        natsSubscription_Destroy(n->sub);
    jsCtx_Destroy(n->js);
    if (n->nc != NULL) {
        natsConnection_Close(n->nc);
        natsConnection_Destroy(n->nc);
    }
    natsOptions_Destroy(n->opts);
    ss_ledger_release(&n->ledger);
    /* libnats calls on_disconnected() from its own thread after
     * natsConnection_Close() has returned: n lives until that thread is
     * done. Should it not be within the time, n is left to the exit. */
    if (nats_CloseAndWait(CLOSE_MS) == NATS_OK)
        free(n);
}

static const struct ss_recv_ops ops = {resume, sent, stop, release};

static int
options(struct rnats *n)
{
    if (ss_nats_options(&n->opts, n->o.url, "sstream-source") != NATS_OK)
        return ss_diag("--nats: '%s' is not a NATS URL", n->o.url);
    natsOptions_SetDisconnectedCB(n->opts, on_disconnected, n);
    natsOptions_SetReconnectedCB(n->opts, on_reconnected, n);
    return 0;
}

int
ss_recv_nats_start(struct ss_recv_host *h, const struct ss_recv_nats_opts *o,
                   struct ss_recv **out)
{
    struct rnats *n = calloc(1, sizeof(*n));

    if (n == NULL)
        return ss_diag_err(-ENOMEM, "--nats");
    n->r.ops = &ops;
    n->r.host = h;
    n->r.what = "--nats";
    n->o = *o;
    n->work.data = n;
    n->reach.opt = "--nats";
    n->reach.where = o->url;
    atomic_init(&n->down, 0);
    atomic_init(&n->moved, 0);
    *out = &n->r;
    n->stopped = 1; /* until it runs */
    if (o->wal != NULL) {
        n->r.logging = on_logging;
        n->ledger.dir = o->wal;
        n->ledger.name = SS_LEDGER_NATS;
        if (ss_ledger_load(&n->ledger, o->logged, ledger_line, n) < 0)
            return SS_REPORTED;
        seqs_merge(&n->skip);
    }
    if (options(n) < 0)
        return SS_REPORTED;
    uv_timer_init(h->loop, &n->retry);
    n->retry.data = n;
    n->handles = 1;
    n->stopped = 0;
    fetch(n);
    return 0;
}
