/* kafka.h - what the Kafka source (lib/recv_kafka.c) and the Kafka sink
 * (lib/out_kafka.c) share: librdkafka settings from -X name=value, as
 * kcat takes them, and librdkafka's log kept quiet unless asked for: the
 * errors a user must act on come through the error and delivery
 * callbacks, once, in our words.
 *
 * Owns: nothing; the configuration passed in stays the caller's.
 */
#ifndef SS_KAFKA_H
#define SS_KAFKA_H

#include <stddef.h>

#include "lazy_rdkafka.h" /* <librdkafka/rdkafka.h>, loaded at first use */

/* A broker list, HOST:PORT[,HOST:PORT...]: 0, or -EINVAL (not said). */
int ss_kafka_check_brokers(const char *list);
/* Set one setting; 0, or -1 after saying why (naming -X). */
int ss_kafka_set(rd_kafka_conf_t *conf, const char *name, const char *value);
/* Apply "name=value" settings in order; 0, or -1 after saying which is
 * wrong. Unless one of them is 'debug' or 'log_level', librdkafka's own
 * log (its connection retries among others) is turned off. */
int ss_kafka_props(rd_kafka_conf_t *conf, char *const *props, size_t n);
/* Check -X settings before anything starts: 0, or -1 after saying which
 * is wrong (a usage error for the binaries). */
int ss_kafka_check(char *const *props, size_t n);
/* The value -X gives 'name' (the last one, as librdkafka applies them in
 * order), or NULL when none does. */
const char *ss_kafka_prop(char *const *props, size_t n, const char *name);
#endif
