/* recv_broker.c - what the receivers of message brokers (Kafka, MQTT,
 * NATS JetStream) share: a broker's reach said once each way (see
 * lib/recv_kit.h); their positions beside the --wal log are
 * lib/ledger.c's. */
#include "diag.h"
#include "recv_kit.h"

void
ss_recv_reach_lost(struct ss_recv_reach *rr, const char *reason)
{
    if (!rr->down)
        ss_diag("%s: cannot reach '%s' (%s): retrying", rr->opt, rr->where,
                reason);
    rr->down = 1;
}

void
ss_recv_reach_ok(struct ss_recv_reach *rr)
{
    if (rr->down)
        ss_diag("%s: '%s' reached", rr->opt, rr->where);
    rr->down = 0;
}
