/* kafka_offsets.c - fuzz target: the reader of DIR/kafka-offsets, the
 * Kafka source's offsets beside its --wal log (lib/kafka_ledger.c).
 *
 * The input is a byte of flags, then the file's text. The reader takes
 * the newest snapshot tagged at or before the last logged batch time, as
 * sstream-source --kafka --wal does when it starts; each entry it hands
 * over is checked against the format's promises (man/sstream.5).
 *
 *   flags 0x01  the log holds every batch (logged is INT64_MAX);
 *               else the last logged batch time is 3000
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kafka_ledger.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_init();
    return 0;
}

static int
check(void *ctx, const struct ss_kafka_ledger_entry *e)
{
    int64_t logged = *(int64_t *)ctx;
    char topic[SS_KAFKA_LEDGER_TOPIC_MAX + 1];

    if (e->topic_len == 0 || e->topic_len > SS_KAFKA_LEDGER_TOPIC_MAX ||
        e->partition < 0 || e->next < 0 || e->time > logged)
        abort();
    memcpy(topic, e->topic, e->topic_len); /* as recv_kafka.c does */
    topic[e->topic_len] = '\0';
    if (strlen(topic) != e->topic_len)
        abort();
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
    ss_kafka_ledger_read(text, size - 1, logged, &time, check, &logged);
    if (time != INT64_MIN && time > logged)
        abort();
    free(text);
    return 0;
}
