/* lazy_rdkafka.h - librdkafka loaded at first use (lib/lazy.h): include
 * this instead of <librdkafka/rdkafka.h>. Each function below is called through
 * a pointer that ss_lazy_load(SS_LAZY_RDKAFKA) fills. sstream is not linked
 * with the library, so a call to a function not listed fails the link,
 * naming it: add it to both lists.
 */
#ifndef SS_LAZY_RDKAFKA_H
#define SS_LAZY_RDKAFKA_H

#include <librdkafka/rdkafka.h>

#include "lazy.h"

#define SS_LAZY_RDKAFKA_NAMES(X)                                               \
    X(rd_kafka_abort_transaction)                                              \
    X(rd_kafka_assign)                                                         \
    X(rd_kafka_begin_transaction)                                              \
    X(rd_kafka_commit)                                                         \
    X(rd_kafka_commit_transaction)                                             \
    X(rd_kafka_committed)                                                      \
    X(rd_kafka_conf_destroy)                                                   \
    X(rd_kafka_conf_new)                                                       \
    X(rd_kafka_conf_set)                                                       \
    X(rd_kafka_conf_set_dr_msg_cb)                                             \
    X(rd_kafka_conf_set_error_cb)                                              \
    X(rd_kafka_conf_set_opaque)                                                \
    X(rd_kafka_conf_set_rebalance_cb)                                          \
    X(rd_kafka_consume_queue)                                                  \
    X(rd_kafka_consume_start_queue)                                            \
    X(rd_kafka_consume_stop)                                                   \
    X(rd_kafka_consumer_close)                                                 \
    X(rd_kafka_consumer_poll)                                                  \
    X(rd_kafka_destroy)                                                        \
    X(rd_kafka_destroy_flags)                                                  \
    X(rd_kafka_err2str)                                                        \
    X(rd_kafka_error_destroy)                                                  \
    X(rd_kafka_error_string)                                                   \
    X(rd_kafka_error_txn_requires_abort)                                       \
    X(rd_kafka_flush)                                                          \
    X(rd_kafka_get_watermark_offsets)                                          \
    X(rd_kafka_incremental_assign)                                             \
    X(rd_kafka_incremental_unassign)                                           \
    X(rd_kafka_init_transactions)                                              \
    X(rd_kafka_last_error)                                                     \
    X(rd_kafka_mem_free)                                                       \
    X(rd_kafka_memberid)                                                       \
    X(rd_kafka_message_destroy)                                                \
    X(rd_kafka_message_errstr)                                                 \
    X(rd_kafka_metadata)                                                       \
    X(rd_kafka_metadata_destroy)                                               \
    X(rd_kafka_new)                                                            \
    X(rd_kafka_offsets_store)                                                  \
    X(rd_kafka_outq_len)                                                       \
    X(rd_kafka_poll)                                                           \
    X(rd_kafka_poll_set_consumer)                                              \
    X(rd_kafka_position)                                                       \
    X(rd_kafka_producev)                                                       \
    X(rd_kafka_query_watermark_offsets)                                        \
    X(rd_kafka_queue_destroy)                                                  \
    X(rd_kafka_queue_get_consumer)                                             \
    X(rd_kafka_queue_io_event_enable)                                          \
    X(rd_kafka_queue_new)                                                      \
    X(rd_kafka_rebalance_protocol)                                             \
    X(rd_kafka_seek_partitions)                                                \
    X(rd_kafka_subscribe)                                                      \
    X(rd_kafka_subscription)                                                   \
    X(rd_kafka_topic_destroy)                                                  \
    X(rd_kafka_topic_name)                                                     \
    X(rd_kafka_topic_new)                                                      \
    X(rd_kafka_topic_partition_list_add)                                       \
    X(rd_kafka_topic_partition_list_copy)                                      \
    X(rd_kafka_topic_partition_list_del)                                       \
    X(rd_kafka_topic_partition_list_destroy)                                   \
    X(rd_kafka_topic_partition_list_find)                                      \
    X(rd_kafka_topic_partition_list_new)

SS_LAZY_RDKAFKA_NAMES(SS_LAZY_DECLARE)

#define rd_kafka_abort_transaction(...)                                        \
    ss_lazy_rd_kafka_abort_transaction(__VA_ARGS__)
#define rd_kafka_assign(...) ss_lazy_rd_kafka_assign(__VA_ARGS__)
#define rd_kafka_begin_transaction(...)                                        \
    ss_lazy_rd_kafka_begin_transaction(__VA_ARGS__)
#define rd_kafka_commit(...) ss_lazy_rd_kafka_commit(__VA_ARGS__)
#define rd_kafka_commit_transaction(...)                                       \
    ss_lazy_rd_kafka_commit_transaction(__VA_ARGS__)
#define rd_kafka_committed(...)    ss_lazy_rd_kafka_committed(__VA_ARGS__)
#define rd_kafka_conf_destroy(...) ss_lazy_rd_kafka_conf_destroy(__VA_ARGS__)
#define rd_kafka_conf_new(...)     ss_lazy_rd_kafka_conf_new(__VA_ARGS__)
#define rd_kafka_conf_set(...)     ss_lazy_rd_kafka_conf_set(__VA_ARGS__)
#define rd_kafka_conf_set_dr_msg_cb(...)                                       \
    ss_lazy_rd_kafka_conf_set_dr_msg_cb(__VA_ARGS__)
#define rd_kafka_conf_set_error_cb(...)                                        \
    ss_lazy_rd_kafka_conf_set_error_cb(__VA_ARGS__)
#define rd_kafka_conf_set_opaque(...)                                          \
    ss_lazy_rd_kafka_conf_set_opaque(__VA_ARGS__)
#define rd_kafka_conf_set_rebalance_cb(...)                                    \
    ss_lazy_rd_kafka_conf_set_rebalance_cb(__VA_ARGS__)
#define rd_kafka_consume_queue(...) ss_lazy_rd_kafka_consume_queue(__VA_ARGS__)
#define rd_kafka_consume_start_queue(...)                                      \
    ss_lazy_rd_kafka_consume_start_queue(__VA_ARGS__)
#define rd_kafka_consume_stop(...) ss_lazy_rd_kafka_consume_stop(__VA_ARGS__)
#define rd_kafka_consumer_close(...)                                           \
    ss_lazy_rd_kafka_consumer_close(__VA_ARGS__)
#define rd_kafka_consumer_poll(...) ss_lazy_rd_kafka_consumer_poll(__VA_ARGS__)
#define rd_kafka_destroy(...)       ss_lazy_rd_kafka_destroy(__VA_ARGS__)
#define rd_kafka_destroy_flags(...) ss_lazy_rd_kafka_destroy_flags(__VA_ARGS__)
#define rd_kafka_err2str(...)       ss_lazy_rd_kafka_err2str(__VA_ARGS__)
#define rd_kafka_error_destroy(...) ss_lazy_rd_kafka_error_destroy(__VA_ARGS__)
#define rd_kafka_error_string(...)  ss_lazy_rd_kafka_error_string(__VA_ARGS__)
#define rd_kafka_error_txn_requires_abort(...)                                 \
    ss_lazy_rd_kafka_error_txn_requires_abort(__VA_ARGS__)
#define rd_kafka_flush(...) ss_lazy_rd_kafka_flush(__VA_ARGS__)
#define rd_kafka_get_watermark_offsets(...)                                    \
    ss_lazy_rd_kafka_get_watermark_offsets(__VA_ARGS__)
#define rd_kafka_incremental_assign(...)                                       \
    ss_lazy_rd_kafka_incremental_assign(__VA_ARGS__)
#define rd_kafka_incremental_unassign(...)                                     \
    ss_lazy_rd_kafka_incremental_unassign(__VA_ARGS__)
#define rd_kafka_init_transactions(...)                                        \
    ss_lazy_rd_kafka_init_transactions(__VA_ARGS__)
#define rd_kafka_last_error(...) ss_lazy_rd_kafka_last_error(__VA_ARGS__)
#define rd_kafka_mem_free(...)   ss_lazy_rd_kafka_mem_free(__VA_ARGS__)
#define rd_kafka_memberid(...)   ss_lazy_rd_kafka_memberid(__VA_ARGS__)
#define rd_kafka_message_destroy(...)                                          \
    ss_lazy_rd_kafka_message_destroy(__VA_ARGS__)
#define rd_kafka_message_errstr(...)                                           \
    ss_lazy_rd_kafka_message_errstr(__VA_ARGS__)
#define rd_kafka_metadata(...) ss_lazy_rd_kafka_metadata(__VA_ARGS__)
#define rd_kafka_metadata_destroy(...)                                         \
    ss_lazy_rd_kafka_metadata_destroy(__VA_ARGS__)
#define rd_kafka_new(...)           ss_lazy_rd_kafka_new(__VA_ARGS__)
#define rd_kafka_offsets_store(...) ss_lazy_rd_kafka_offsets_store(__VA_ARGS__)
#define rd_kafka_outq_len(...)      ss_lazy_rd_kafka_outq_len(__VA_ARGS__)
#define rd_kafka_poll(...)          ss_lazy_rd_kafka_poll(__VA_ARGS__)
#define rd_kafka_poll_set_consumer(...)                                        \
    ss_lazy_rd_kafka_poll_set_consumer(__VA_ARGS__)
#define rd_kafka_position(...) ss_lazy_rd_kafka_position(__VA_ARGS__)
#define rd_kafka_producev(...) ss_lazy_rd_kafka_producev(__VA_ARGS__)
#define rd_kafka_query_watermark_offsets(...)                                  \
    ss_lazy_rd_kafka_query_watermark_offsets(__VA_ARGS__)
#define rd_kafka_queue_destroy(...) ss_lazy_rd_kafka_queue_destroy(__VA_ARGS__)
#define rd_kafka_queue_get_consumer(...)                                       \
    ss_lazy_rd_kafka_queue_get_consumer(__VA_ARGS__)
#define rd_kafka_queue_io_event_enable(...)                                    \
    ss_lazy_rd_kafka_queue_io_event_enable(__VA_ARGS__)
#define rd_kafka_queue_new(...) ss_lazy_rd_kafka_queue_new(__VA_ARGS__)
#define rd_kafka_rebalance_protocol(...)                                       \
    ss_lazy_rd_kafka_rebalance_protocol(__VA_ARGS__)
#define rd_kafka_seek_partitions(...)                                          \
    ss_lazy_rd_kafka_seek_partitions(__VA_ARGS__)
#define rd_kafka_subscribe(...)     ss_lazy_rd_kafka_subscribe(__VA_ARGS__)
#define rd_kafka_subscription(...)  ss_lazy_rd_kafka_subscription(__VA_ARGS__)
#define rd_kafka_topic_destroy(...) ss_lazy_rd_kafka_topic_destroy(__VA_ARGS__)
#define rd_kafka_topic_name(...)    ss_lazy_rd_kafka_topic_name(__VA_ARGS__)
#define rd_kafka_topic_new(...)     ss_lazy_rd_kafka_topic_new(__VA_ARGS__)
#define rd_kafka_topic_partition_list_add(...)                                 \
    ss_lazy_rd_kafka_topic_partition_list_add(__VA_ARGS__)
#define rd_kafka_topic_partition_list_copy(...)                                \
    ss_lazy_rd_kafka_topic_partition_list_copy(__VA_ARGS__)
#define rd_kafka_topic_partition_list_del(...)                                 \
    ss_lazy_rd_kafka_topic_partition_list_del(__VA_ARGS__)
#define rd_kafka_topic_partition_list_destroy(...)                             \
    ss_lazy_rd_kafka_topic_partition_list_destroy(__VA_ARGS__)
#define rd_kafka_topic_partition_list_find(...)                                \
    ss_lazy_rd_kafka_topic_partition_list_find(__VA_ARGS__)
#define rd_kafka_topic_partition_list_new(...)                                 \
    ss_lazy_rd_kafka_topic_partition_list_new(__VA_ARGS__)

#endif
