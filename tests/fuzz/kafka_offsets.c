/* kafka_offsets.c - fuzz target: the reader of the ledgers beside the
 * --wal log (lib/ledger.c), DIR/kafka-offsets of sstream-source --kafka
 * and DIR/nats-pending of --nats: one reader, two kinds of line.
 *
 * The input is a byte of flags, then the file's text. The reader takes
 * the newest snapshot tagged at or before the last logged batch time, as
 * the source does when it starts; each entry it hands over is checked
 * against the format's promises (man/sstream.5).
 *
 *   flags 0x01  the log holds every batch (logged is INT64_MAX);
 *               else the last logged batch time is 3000
 *         0x02  read NATS lines (stream EV) rather than Kafka's
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ledger.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_init();
    return 0;
}

static int
kafka(void *ctx, const char *rest, size_t n, int take)
{
    struct ss_ledger_kafka e;
    char topic[SS_LEDGER_TOPIC_MAX + 1];

    (void)ctx;
    if (ss_ledger_kafka_parse(rest, n, &e) < 0)
        return -1;
    if (!take)
        return 0;
    if (e.topic_len == 0 || e.topic_len > SS_LEDGER_TOPIC_MAX ||
        e.partition < 0 || e.next < 0)
        abort();
    memcpy(topic, e.topic, e.topic_len); /* as recv_kafka.c does */
    topic[e.topic_len] = '\0';
    if (strlen(topic) != e.topic_len)
        abort();
    return 0;
}

static int
range(void *ctx, uint64_t lo, uint64_t hi)
{
    (void)ctx;
    if (lo > hi || hi > INT64_MAX)
        abort();
    return 0;
}

static int
nats(void *ctx, const char *rest, size_t n, int take)
{
    const char *stream;
    size_t slen;

    (void)ctx;
    if (ss_ledger_nats_parse(rest, n, &stream, &slen, NULL, NULL) < 0 ||
        slen != 2 || memcmp(stream, "EV", 2) != 0)
        return -1;
    if (take && ss_ledger_nats_parse(rest, n, &stream, &slen, range, NULL) < 0)
        abort(); /* checked a moment ago */
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t logged, time;
    char *text;

    if (size < 1)
        return 0;
    logged = (data[0] & 0x01) ? INT64_MAX : 3000;
    /* a copy of exactly the text's size, so that ASan sees a read past it */
    if ((text = malloc(size - 1 ? size - 1 : 1)) == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    ss_ledger_read(text, size - 1, logged, &time,
                   (data[0] & 0x02) ? nats : kafka, NULL);
    if (time != INT64_MIN && time > logged)
        abort();
    free(text);
    return 0;
}
