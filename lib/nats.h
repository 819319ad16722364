/* nats.h - what the NATS JetStream source (lib/recv_nats.c) and sink
 * (lib/out_nats.c) share: a connection's options from the URL the user
 * gave, one server or a cluster's servers comma-separated.
 *
 * Owns: nothing; the options object is the caller's (natsOptions_Destroy).
 */
#ifndef SS_NATS_H
#define SS_NATS_H

#include "lazy_nats.h" /* <nats/nats.h>, loaded at first use */

/* New options for 'url' (nats://HOST:PORT[,nats://HOST:PORT...]),
 * named 'name' in the servers' connection lists (connz), reconnecting
 * for ever, quickly, to any server of the list or of the cluster the
 * servers announce. NATS_OK, or a libnats status (*opts then NULL). */
natsStatus ss_nats_options(natsOptions **opts, const char *url,
                           const char *name);

#endif
