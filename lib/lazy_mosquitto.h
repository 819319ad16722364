/* lazy_mosquitto.h - libmosquitto loaded at first use (lib/lazy.h): include
 * this instead of <mosquitto.h>. Each function below is called through a
 * pointer that ss_lazy_load(SS_LAZY_MOSQUITTO) fills. sstream is not linked
 * with the library, so a call to a function not listed fails the link,
 * naming it: add it to both lists.
 */
#ifndef SS_LAZY_MOSQUITTO_H
#define SS_LAZY_MOSQUITTO_H

#include <mosquitto.h>

#include "lazy.h"

#define SS_LAZY_MOSQUITTO_NAMES(X)                                             \
    X(mosquitto_connack_string)                                                \
    X(mosquitto_connect)                                                       \
    X(mosquitto_connect_async)                                                 \
    X(mosquitto_connect_with_flags_callback_set)                               \
    X(mosquitto_destroy)                                                       \
    X(mosquitto_disconnect)                                                    \
    X(mosquitto_int_option)                                                    \
    X(mosquitto_lib_cleanup)                                                   \
    X(mosquitto_lib_init)                                                      \
    X(mosquitto_loop)                                                          \
    X(mosquitto_loop_misc)                                                     \
    X(mosquitto_loop_read)                                                     \
    X(mosquitto_loop_write)                                                    \
    X(mosquitto_message_callback_set)                                          \
    X(mosquitto_message_copy)                                                  \
    X(mosquitto_message_free_contents)                                         \
    X(mosquitto_new)                                                           \
    X(mosquitto_publish)                                                       \
    X(mosquitto_publish_callback_set)                                          \
    X(mosquitto_reconnect)                                                     \
    X(mosquitto_reconnect_async)                                               \
    X(mosquitto_socket)                                                        \
    X(mosquitto_strerror)                                                      \
    X(mosquitto_subscribe)                                                     \
    X(mosquitto_subscribe_callback_set)                                        \
    X(mosquitto_want_write)

SS_LAZY_MOSQUITTO_NAMES(SS_LAZY_DECLARE)

#define mosquitto_connack_string(...)                                          \
    ss_lazy_mosquitto_connack_string(__VA_ARGS__)
#define mosquitto_connect(...) ss_lazy_mosquitto_connect(__VA_ARGS__)
#define mosquitto_connect_async(...)                                           \
    ss_lazy_mosquitto_connect_async(__VA_ARGS__)
#define mosquitto_connect_with_flags_callback_set(...)                         \
    ss_lazy_mosquitto_connect_with_flags_callback_set(__VA_ARGS__)
#define mosquitto_destroy(...)     ss_lazy_mosquitto_destroy(__VA_ARGS__)
#define mosquitto_disconnect(...)  ss_lazy_mosquitto_disconnect(__VA_ARGS__)
#define mosquitto_int_option(...)  ss_lazy_mosquitto_int_option(__VA_ARGS__)
#define mosquitto_lib_cleanup(...) ss_lazy_mosquitto_lib_cleanup(__VA_ARGS__)
#define mosquitto_lib_init(...)    ss_lazy_mosquitto_lib_init(__VA_ARGS__)
#define mosquitto_loop(...)        ss_lazy_mosquitto_loop(__VA_ARGS__)
#define mosquitto_loop_misc(...)   ss_lazy_mosquitto_loop_misc(__VA_ARGS__)
#define mosquitto_loop_read(...)   ss_lazy_mosquitto_loop_read(__VA_ARGS__)
#define mosquitto_loop_write(...)  ss_lazy_mosquitto_loop_write(__VA_ARGS__)
#define mosquitto_message_callback_set(...)                                    \
    ss_lazy_mosquitto_message_callback_set(__VA_ARGS__)
#define mosquitto_message_copy(...) ss_lazy_mosquitto_message_copy(__VA_ARGS__)
#define mosquitto_message_free_contents(...)                                   \
    ss_lazy_mosquitto_message_free_contents(__VA_ARGS__)
#define mosquitto_new(...)     ss_lazy_mosquitto_new(__VA_ARGS__)
#define mosquitto_publish(...) ss_lazy_mosquitto_publish(__VA_ARGS__)
#define mosquitto_publish_callback_set(...)                                    \
    ss_lazy_mosquitto_publish_callback_set(__VA_ARGS__)
#define mosquitto_reconnect(...) ss_lazy_mosquitto_reconnect(__VA_ARGS__)
#define mosquitto_reconnect_async(...)                                         \
    ss_lazy_mosquitto_reconnect_async(__VA_ARGS__)
#define mosquitto_socket(...)    ss_lazy_mosquitto_socket(__VA_ARGS__)
#define mosquitto_strerror(...)  ss_lazy_mosquitto_strerror(__VA_ARGS__)
#define mosquitto_subscribe(...) ss_lazy_mosquitto_subscribe(__VA_ARGS__)
#define mosquitto_subscribe_callback_set(...)                                  \
    ss_lazy_mosquitto_subscribe_callback_set(__VA_ARGS__)
#define mosquitto_want_write(...) ss_lazy_mosquitto_want_write(__VA_ARGS__)

#endif
