/* nats-js.c - the JetStream peer of tests/nats.bats: Debian has no
 * `nats` CLI, so this small libnats client, independent of the code
 * under test, sets streams and consumers up and reads and writes them.
 *
 *   nats-js URL stream-add NAME SUBJECT     a file stream of SUBJECT
 *   nats-js URL consumer-add STREAM NAME ACKWAIT_MS [MAX_ACK_PENDING]
 *                                           a durable pull consumer,
 *                                           explicit acks
 *   nats-js URL pub SUBJECT                 stdin's lines, a message each
 *   nats-js URL dump STREAM                 "SUBJECT PAYLOAD" per message
 *   nats-js URL info STREAM CONSUMER        "pending N ack_pending N"
 *
 * Exit 0, or 1 with the library's words on stderr.
 */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
fail(const char *what, natsStatus s, jsErrCode jerr)
{
    fprintf(stderr, "nats-js: %s: %s (%d)\n", what, natsStatus_GetText(s),
            (int)jerr);
    return 1;
}

static int
stream_add(jsCtx *js, const char *name, const char *subject)
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

int
main(int argc, char **argv)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus s;
    int rc = 2;

    if (argc < 4) {
        fputs("usage: nats-js URL stream-add|consumer-add|pub|dump|info "
              "ARGS...\n",
              stderr);
        return 2;
    }
    if ((s = natsConnection_ConnectTo(&nc, argv[1])) != NATS_OK)
        return fail("connect", s, 0);
    if ((s = natsConnection_JetStream(&js, nc, NULL)) != NATS_OK)
        return fail("jetstream", s, 0);
    if (strcmp(argv[2], "stream-add") == 0 && argc == 5)
        rc = stream_add(js, argv[3], argv[4]);
    else if (strcmp(argv[2], "consumer-add") == 0 && (argc == 6 || argc == 7))
        rc = consumer_add(js, argv[3], argv[4], atol(argv[5]),
                          argc == 7 ? atol(argv[6]) : 0);
    else if (strcmp(argv[2], "pub") == 0 && argc == 4)
        rc = pub(js, argv[3]);
    else if (strcmp(argv[2], "dump") == 0 && argc == 4)
        rc = dump(js, argv[3]);
    else if (strcmp(argv[2], "info") == 0 && argc == 5)
        rc = info(js, argv[3], argv[4]);
    else
        fputs("nats-js: bad arguments\n", stderr);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    return rc;
}
