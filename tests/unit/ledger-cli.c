/* ledger-cli - drive lib/ledger from the command line for
 * tests/unit.bats.
 *
 *   ledger-cli LOGGED < kafka-offsets
 *   ledger-cli --nats STREAM LOGGED < nats-pending
 *
 * prints the snapshot the Kafka source would take ("snapshot T", then
 * "TOPIC PARTITION NEXT" per entry), or the NATS source's for STREAM
 * ("snapshot T", then "LO-HI" per range), or "none".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "io.h"
#include "ledger.h"

static int
kafka(void *ctx, const char *rest, size_t n, int take)
{
    struct ss_ledger_kafka e;

    (void)ctx;
    if (ss_ledger_kafka_parse(rest, n, &e) < 0)
        return -1;
    if (take)
        printf("%.*s %" PRId32 " %" PRId64 "\n", (int)e.topic_len, e.topic,
               e.partition, e.next);
    return 0;
}

static int
range(void *ctx, uint64_t lo, uint64_t hi)
{
    (void)ctx;
    printf("%" PRIu64 "-%" PRIu64 "\n", lo, hi);
    return 0;
}

static int
nats(void *ctx, const char *rest, size_t n, int take)
{
    const char *want = ctx, *stream;
    size_t slen;

    if (ss_ledger_nats_parse(rest, n, &stream, &slen, NULL, NULL) < 0 ||
        slen != strlen(want) || memcmp(stream, want, slen) != 0)
        return -1;
    return take ? ss_ledger_nats_parse(rest, n, &stream, &slen, range, NULL)
                : 0;
}

struct reader {
    ss_ledger_fn *fn;
    void *ctx;
};

/* fn's checks, without its printing: for the tag alone */
static int
quiet(void *ctx, const char *rest, size_t n, int take)
{
    struct reader *r = ctx;

    return take ? 0 : r->fn(r->ctx, rest, n, 0);
}

int
main(int argc, char **argv)
{
    struct ss_buf in = {0};
    struct reader r = {kafka, NULL};
    int64_t logged, time;

    if (argc == 4 && strcmp(argv[1], "--nats") == 0) {
        r.fn = nats;
        r.ctx = argv[2];
        argv += 2;
    } else if (argc != 2) {
        fputs("usage: ledger-cli [--nats STREAM] LOGGED < ledger\n", stderr);
        return 2;
    }
    logged = strtoll(argv[1], NULL, 10);
    if (ss_io_slurp_fd(0, &in) < 0)
        return 1;
    /* the tag first, then the entries it selects */
    ss_ledger_read(in.data, in.len, logged, &time, quiet, &r);
    if (time == INT64_MIN)
        puts("none");
    else
        printf("snapshot %" PRId64 "\n", time);
    ss_ledger_read(in.data, in.len, logged, &time, r.fn, r.ctx);
    ss_buf_release(&in);
    return 0;
}
