/* out_nats.c - --nats URL --subject SUBJ on the sink: each record's value
 * is published to JetStream on SUBJ ("{key}" in SUBJ: the record's key,
 * so that consumers filter per key), with the message id TIME-PLACE (the
 * batch time and the record's place in the batch, from 0).
 *
 * A batch is done when the stream has acknowledged each of its messages
 * (js_PublishAsyncComplete): only then does the sink count it as out and
 * record it under --commit. A batch written again after a crash (the
 * source's log sends what the sink had not committed) has the same ids,
 * and the server drops the messages it already holds (within the
 * stream's duplicate window, 2 minutes by default): exactly once into
 * the stream. Messages whose acknowledgements do not come (a connection
 * lost meanwhile) are published again, with their ids, until they do.
 *
 * The ids assume one sink per stream: two sinks publishing the same batch
 * times into one stream would take each other's messages for duplicates.
 *
 * Owns: the connection and its JetStream context, until free().
 */
#include <errno.h>
#include <inttypes.h>
#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "nats.h"
#include "out.h"

#define ACK_WAIT_MS 2000 /* for a batch's acks before publishing again */

struct onats {
    struct ss_out o;
    const char *url, *subject;
    natsOptions *opts;
    natsConnection *nc;
    jsCtx *js;
    struct ss_buf name;
    uint64_t place; /* the next record's place in the batch */
    int64_t time;
    /* from libnats's thread (the error handler) */
    atomic_uint_fast64_t failed;
    atomic_int err, jerr;
};

/* A message the stream refused; on libnats's thread. */
static void
on_error(jsCtx *js, jsPubAckErr *pae, void *ctx)
{
    struct onats *n = ctx;

    (void)js;
    if (atomic_fetch_add(&n->failed, 1) == 0) {
        atomic_store(&n->err, (int)pae->Err);
        atomic_store(&n->jerr, (int)pae->ErrCode);
    }
}

static void
nap(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Connect until the server answers; said once. */
static int
reach(struct onats *n)
{
    uint64_t wait = 250;
    jsOptions jo;
    natsStatus s;
    int said = 0;

    while ((s = natsConnection_Connect(&n->nc, n->opts)) != NATS_OK) {
        if (!said++)
            ss_diag("--nats: cannot reach '%s' (%s): retrying", n->url,
                    natsStatus_GetText(s));
        nap(wait);
        wait = wait * 2 > 8000 ? 8000 : wait * 2;
    }
    if (said)
        ss_diag("--nats: '%s' reached", n->url);
    jsOptions_Init(&jo);
    jo.PublishAsync.ErrHandler = on_error;
    jo.PublishAsync.ErrHandlerClosure = n;
    jo.PublishAsync.MaxPending = 65536;
    if ((s = natsConnection_JetStream(&n->js, n->nc, &jo)) != NATS_OK)
        return ss_diag("--nats: %s", natsStatus_GetText(s));
    return 0;
}

static void again(struct onats *n);

static int
publish(struct onats *n, const struct ss_rec *r)
{
    jsPubOptions po;
    char id[48];
    natsStatus s;
    int rc, stalls = 0;

    if ((rc = ss_out_name(&n->name, n->subject, r)) < 0)
        return rc == -EINVAL
                   ? ss_diag("--subject: '%s': a record without a key",
                             n->subject)
                   : ss_diag_err(rc, "--nats");
    snprintf(id, sizeof(id), "%" PRId64 "-%" PRIu64, n->time, n->place++);
    jsPubOptions_Init(&po);
    po.MsgId = id;
    /* NATS_TIMEOUT: MaxPending messages in flight; wait for room, as a
     * pipe makes a writer wait */
    while ((s = js_PublishAsync(n->js, n->name.data, r->val, (int)r->vlen,
                                &po)) == NATS_TIMEOUT)
        if (++stalls % 10 == 0) /* 2 s: acks lost with a connection */
            again(n);
    if (s != NATS_OK)
        return ss_diag("--nats: subject '%s': %s", n->name.data,
                       natsStatus_GetText(s));
    return 0;
}

static int
nframe(struct ss_out *o, const struct ss_frame *f, int first)
{
    struct onats *n = (struct onats *)o;
    struct ss_rec_iter it;
    struct ss_rec r;

    if (first) {
        n->place = 0;
        n->time = f->time;
        atomic_store(&n->failed, 0);
    }
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r))
        if (publish(n, &r) < 0)
            return SS_REPORTED;
    return 0;
}

/* Publish again what has no acknowledgement yet; the ids make a message
 * the stream already holds a duplicate it drops. */
static void
again(struct onats *n)
{
    natsMsgList l;

    if (js_PublishAsyncGetPendingList(&l, n->js) != NATS_OK)
        return;
    for (int i = 0; i < l.Count; i++)
        js_PublishMsgAsync(n->js, &l.Msgs[i], NULL);
    natsMsgList_Destroy(&l);
}

static int
nend(struct ss_out *o, int64_t time)
{
    struct onats *n = (struct onats *)o;
    jsPubOptions po;
    uint64_t failed;
    int said = 0;

    jsPubOptions_Init(&po);
    po.MaxWait = ACK_WAIT_MS;
    while (js_PublishAsyncComplete(n->js, &po) == NATS_TIMEOUT) {
        if (!said++)
            ss_diag("--nats: batch %" PRId64 ": waiting for '%s' to "
                    "acknowledge its messages",
                    time, n->url);
        again(n);
    }
    if ((failed = atomic_load(&n->failed)) == 0)
        return 0;
    if (atomic_load(&n->err) == NATS_NO_RESPONDERS)
        return ss_diag("--subject: '%s': no stream on '%s' takes it (create "
                       "one: nats stream add NAME --subjects '%s')",
                       n->subject, n->url, n->subject);
    return ss_diag("--nats: batch %" PRId64 ": %" PRIu64 " message%s not "
                   "taken: %s (%d)",
                   time, failed, failed == 1 ? "" : "s",
                   natsStatus_GetText((natsStatus)atomic_load(&n->err)),
                   atomic_load(&n->jerr));
}

static void
nfree(struct ss_out *o)
{
    struct onats *n = (struct onats *)o;

    jsCtx_Destroy(n->js);
    if (n->nc != NULL) {
        natsConnection_Close(n->nc);
        natsConnection_Destroy(n->nc);
    }
    natsOptions_Destroy(n->opts);
    ss_buf_release(&n->name);
    /* the publish error handler runs on libnats's threads: n lives until
     * they are done (or is left to the exit, should they not end soon) */
    if (nats_CloseAndWait(5000) == NATS_OK)
        free(n);
}

static const struct ss_out_ops ops = {nframe, nend, nfree};

int
ss_out_nats_new(const char *url, const char *subject, struct ss_out **out)
{
    struct onats *n = calloc(1, sizeof(*n));

    *out = NULL;
    if (n == NULL)
        return ss_diag_err(-ENOMEM, "--nats");
    n->o.ops = &ops;
    n->url = url;
    n->subject = subject;
    atomic_init(&n->failed, 0);
    atomic_init(&n->err, 0);
    atomic_init(&n->jerr, 0);
    *out = &n->o;
    if (ss_nats_options(&n->opts, url, "sstream-sink") != NATS_OK)
        return ss_diag("--nats: '%s' is not a NATS URL", url);
    return reach(n);
}
