/* ledger-cli - drive lib/kafka_ledger from the command line for
 * tests/unit.bats.
 *
 *   ledger-cli LOGGED < kafka-offsets
 *
 * prints the snapshot the Kafka source would take ("snapshot T", then
 * "TOPIC PARTITION NEXT" per entry), or "none".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "io.h"
#include "kafka_ledger.h"

static int
skip(void *ctx, const struct ss_kafka_ledger_entry *e)
{
    (void)ctx, (void)e;
    return 0;
}

static int
print(void *ctx, const struct ss_kafka_ledger_entry *e)
{
    (void)ctx;
    printf("%.*s %" PRId32 " %" PRId64 "\n", (int)e->topic_len, e->topic,
           e->partition, e->next);
    return 0;
}

int
main(int argc, char **argv)
{
    struct ss_buf in = {0};
    int64_t logged, time;

    if (argc != 2) {
        fputs("usage: ledger-cli LOGGED < kafka-offsets\n", stderr);
        return 2;
    }
    logged = strtoll(argv[1], NULL, 10);
    if (ss_io_slurp_fd(0, &in) < 0)
        return 1;
    /* the tag first, then the entries it selects */
    ss_kafka_ledger_read(in.data, in.len, logged, &time, skip, NULL);
    if (time == INT64_MIN)
        puts("none");
    else
        printf("snapshot %" PRId64 "\n", time);
    ss_kafka_ledger_read(in.data, in.len, logged, &time, print, NULL);
    ss_buf_release(&in);
    return 0;
}
