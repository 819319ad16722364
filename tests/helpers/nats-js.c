/* nats-js.c - the JetStream peer of tests/nats.bats: Debian has no
 * `nats` CLI, so this small libnats client, independent of the code
 * under test, sets streams and consumers up and reads and writes them.
 *
 *   nats-js URL stream-add NAME SUBJECT [REPLICAS]
 *                                           a file stream of SUBJECT
 *   nats-js URL consumer-add STREAM NAME ACKWAIT_MS [MAX_ACK_PENDING]
 *                                           a durable pull consumer,
 *                                           explicit acks
 *   nats-js URL pub SUBJECT                 stdin's lines, a message each
 *   nats-js URL dump STREAM                 "SUBJECT PAYLOAD" per message
 *   nats-js URL info STREAM CONSUMER        "pending N ack_pending N"
 *   nats-js URL ready STREAM [CONSUMER]     exit 0 once the stream (and
 *                                           the consumer) has a leader and
 *                                           every replica is current
 *   nats-js URL leader STREAM CONSUMER      the consumer's leader (server name)
 *   nats-js URL stepdown STREAM CONSUMER    have its leader step down: the
 *                                           others elect a new one
 *
 * URL may be a comma-separated list of a cluster's servers. Requests wait
 * 2 s for an answer: a cluster still electing its leaders answers none,
 * and the tests ask again.
 *
 * Exit 0, or 1 with the library's words on stderr.
 */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The servers of 'list', comma-separated, as libnats's own
 * natsConnection_ConnectTo() takes them. */
static natsStatus
servers(natsOptions *opts, const char *list)
{
    const char *v[16];
    char *copy = strdup(list), *save = NULL, *tok;
    int n = 0;
    natsStatus s;

    if (copy == NULL)
        return NATS_NO_MEMORY;
    for (tok = strtok_r(copy, ",", &save); tok != NULL && n < 16;
         tok = strtok_r(NULL, ",", &save))
        v[n++] = tok;
    s = natsOptions_SetServers(opts, v, n);
    free(copy);
    return s;
}

static int
fail(const char *what, natsStatus s, jsErrCode jerr)
{
    fprintf(stderr, "nats-js: %s: %s (%d)\n", what, natsStatus_GetText(s),
            (int)jerr);
    return 1;
}

static int
stream_add(jsCtx *js, const char *name, const char *subject, long replicas)
{
    jsStreamConfig cfg;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    const char *subjects[1] = {subject};
    natsStatus s;

    jsStreamConfig_Init(&cfg);
    cfg.Name = name;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    if (replicas > 0)
        cfg.Replicas = replicas;
    if ((s = js_AddStream(&si, js, &cfg, NULL, &jerr)) != NATS_OK)
        return fail("stream-add", s, jerr);
    jsStreamInfo_Destroy(si);
    return 0;
}

static int
consumer_add(jsCtx *js, const char *stream, const char *name, long ackwait,
             long max_pending)
{
    jsConsumerConfig cfg;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s;

    jsConsumerConfig_Init(&cfg);
    cfg.Durable = name;
    cfg.AckPolicy = js_AckExplicit;
    cfg.AckWait = (int64_t)ackwait * 1000000; /* ns */
    cfg.DeliverPolicy = js_DeliverAll;
    if (max_pending > 0)
        cfg.MaxAckPending = max_pending;
    if ((s = js_AddConsumer(&ci, js, stream, &cfg, NULL, &jerr)) != NATS_OK)
        return fail("consumer-add", s, jerr);
    jsConsumerInfo_Destroy(ci);
    return 0;
}

static int
pub(jsCtx *js, const char *subject)
{
    char line[65536];
    jsErrCode jerr = 0;
    natsStatus s;

    while (fgets(line, sizeof(line), stdin) != NULL) {
        size_t n = strcspn(line, "\n");

        s = js_PublishAsync(js, subject, line, (int)n, NULL);
        if (s != NATS_OK)
            return fail("pub", s, jerr);
    }
    if ((s = js_PublishAsyncComplete(js, NULL)) != NATS_OK)
        return fail("pub", s, jerr);
    return 0;
}

static int
dump(jsCtx *js, const char *stream)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s;

    if ((s = js_GetStreamInfo(&si, js, stream, NULL, &jerr)) != NATS_OK)
        return fail("dump", s, jerr);
    for (uint64_t q = si->State.FirstSeq;
         si->State.Msgs > 0 && q <= si->State.LastSeq; q++) {
        natsMsg *m = NULL;

        if (js_GetMsg(&m, js, stream, q, NULL, &jerr) != NATS_OK)
            continue; /* deleted */
        printf("%s %.*s\n", natsMsg_GetSubject(m), natsMsg_GetDataLength(m),
               natsMsg_GetData(m));
        natsMsg_Destroy(m);
    }
    jsStreamInfo_Destroy(si);
    return 0;
}

static int
info(jsCtx *js, const char *stream, const char *consumer)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s;

    if ((s = js_GetConsumerInfo(&ci, js, stream, consumer, NULL, &jerr)) !=
        NATS_OK)
        return fail("info", s, jerr);
    printf("pending %llu ack_pending %lld\n",
           (unsigned long long)ci->NumPending, (long long)ci->NumAckPending);
    jsConsumerInfo_Destroy(ci);
    return 0;
}

/* 1 when the group has a leader and every replica is current. */
static int
settled(const jsClusterInfo *c)
{
    if (c == NULL)
        return 1; /* not clustered */
    if (c->Leader == NULL || c->Leader[0] == '\0')
        return 0;
    for (int i = 0; i < c->ReplicasLen; i++)
        if (!c->Replicas[i]->Current || c->Replicas[i]->Offline)
            return 0;
    return 1;
}

static int
ready(jsCtx *js, const char *stream, const char *consumer)
{
    jsStreamInfo *si = NULL;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s;
    int ok;

    if ((s = js_GetStreamInfo(&si, js, stream, NULL, &jerr)) != NATS_OK)
        return fail("ready", s, jerr);
    ok = settled(si->Cluster);
    jsStreamInfo_Destroy(si);
    if (ok && consumer != NULL) {
        if ((s = js_GetConsumerInfo(&ci, js, stream, consumer, NULL, &jerr)) !=
            NATS_OK)
            return fail("ready", s, jerr);
        ok = settled(ci->Cluster);
        jsConsumerInfo_Destroy(ci);
    }
    if (!ok)
        fprintf(stderr,
                "nats-js: ready: '%s' has no leader or a replica "
                "is behind\n",
                stream);
    return ok ? 0 : 1;
}

static int
leader(jsCtx *js, const char *stream, const char *consumer)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s;
    int ok;

    if ((s = js_GetConsumerInfo(&ci, js, stream, consumer, NULL, &jerr)) !=
        NATS_OK)
        return fail("leader", s, jerr);
    ok = ci->Cluster != NULL && ci->Cluster->Leader != NULL;
    if (ok)
        printf("%s\n", ci->Cluster->Leader);
    jsConsumerInfo_Destroy(ci);
    return ok ? 0 : fail("leader", NATS_NOT_FOUND, 0);
}

static int
stepdown(natsConnection *nc, const char *stream, const char *consumer)
{
    char subj[512];
    natsMsg *reply = NULL;
    natsStatus s;

    snprintf(subj, sizeof(subj), "$JS.API.CONSUMER.LEADER.STEPDOWN.%s.%s",
             stream, consumer);
    if ((s = natsConnection_RequestString(&reply, nc, subj, "", 2000)) !=
        NATS_OK)
        return fail("stepdown", s, 0);
    natsMsg_Destroy(reply);
    return 0;
}

int
main(int argc, char **argv)
{
    natsConnection *nc = NULL;
    natsOptions *opts = NULL;
    jsOptions jo;
    jsCtx *js = NULL;
    natsStatus s;
    int rc = 2;

    if (argc < 4) {
        fputs("usage: nats-js URL stream-add|consumer-add|pub|dump|info "
              "ARGS...\n",
              stderr);
        return 2;
    }
    if ((s = natsOptions_Create(&opts)) != NATS_OK ||
        (s = servers(opts, argv[1])) != NATS_OK ||
        (s = natsConnection_Connect(&nc, opts)) != NATS_OK)
        return fail("connect", s, 0);
    natsOptions_Destroy(opts);
    jsOptions_Init(&jo);
    jo.Wait = 2000;
    if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK)
        return fail("jetstream", s, 0);
    if (strcmp(argv[2], "stream-add") == 0 && (argc == 5 || argc == 6))
        rc = stream_add(js, argv[3], argv[4], argc == 6 ? atol(argv[5]) : 0);
    else if (strcmp(argv[2], "consumer-add") == 0 && (argc == 6 || argc == 7))
        rc = consumer_add(js, argv[3], argv[4], atol(argv[5]),
                          argc == 7 ? atol(argv[6]) : 0);
    else if (strcmp(argv[2], "pub") == 0 && argc == 4)
        rc = pub(js, argv[3]);
    else if (strcmp(argv[2], "dump") == 0 && argc == 4)
        rc = dump(js, argv[3]);
    else if (strcmp(argv[2], "info") == 0 && argc == 5)
        rc = info(js, argv[3], argv[4]);
    else if (strcmp(argv[2], "leader") == 0 && argc == 5)
        rc = leader(js, argv[3], argv[4]);
    else if (strcmp(argv[2], "stepdown") == 0 && argc == 5)
        rc = stepdown(nc, argv[3], argv[4]);
    else if (strcmp(argv[2], "ready") == 0 && (argc == 4 || argc == 5))
        rc = ready(js, argv[3], argc == 5 ? argv[4] : NULL);
    else
        fputs("nats-js: bad arguments\n", stderr);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    return rc;
}
