/* lazy_nats.h - libnats loaded at first use (lib/lazy.h): include
 * this instead of <nats/nats.h>. Each function below is called through a
 * pointer that ss_lazy_load(SS_LAZY_NATS) fills. sstream is not linked
 * with the library, so a call to a function not listed fails the link,
 * naming it: add it to both lists.
 */
#ifndef SS_LAZY_NATS_H
#define SS_LAZY_NATS_H

#include <nats/nats.h>

#include "lazy.h"

#define SS_LAZY_NATS_NAMES(X)                                                  \
    X(jsConsumerInfo_Destroy)                                                  \
    X(jsCtx_Destroy)                                                           \
    X(jsMsgMetaData_Destroy)                                                   \
    X(jsOptions_Init)                                                          \
    X(jsPubOptions_Init)                                                       \
    X(jsStreamInfo_Destroy)                                                    \
    X(jsSubOptions_Init)                                                       \
    X(js_GetConsumerInfo)                                                      \
    X(js_GetStreamInfo)                                                        \
    X(js_PublishAsync)                                                         \
    X(js_PublishAsyncComplete)                                                 \
    X(js_PublishAsyncGetPendingList)                                           \
    X(js_PublishMsgAsync)                                                      \
    X(js_PullSubscribe)                                                        \
    X(natsConnection_Close)                                                    \
    X(natsConnection_Connect)                                                  \
    X(natsConnection_Destroy)                                                  \
    X(natsConnection_FlushTimeout)                                             \
    X(natsConnection_GetConnectedUrl)                                          \
    X(natsConnection_JetStream)                                                \
    X(natsMsgList_Destroy)                                                     \
    X(natsMsg_Ack)                                                             \
    X(natsMsg_Destroy)                                                         \
    X(natsMsg_GetData)                                                         \
    X(natsMsg_GetDataLength)                                                   \
    X(natsMsg_GetMetaData)                                                     \
    X(natsMsg_InProgress)                                                      \
    X(natsMsg_Nak)                                                             \
    X(natsOptions_Create)                                                      \
    X(natsOptions_Destroy)                                                     \
    X(natsOptions_SetDisconnectedCB)                                           \
    X(natsOptions_SetMaxReconnect)                                             \
    X(natsOptions_SetName)                                                     \
    X(natsOptions_SetReconnectWait)                                            \
    X(natsOptions_SetReconnectedCB)                                            \
    X(natsOptions_SetServers)                                                  \
    X(natsOptions_SetTimeout)                                                  \
    X(natsStatus_GetText)                                                      \
    X(natsSubscription_Destroy)                                                \
    X(natsSubscription_Fetch)                                                  \
    X(nats_CloseAndWait)                                                       \
    X(nats_GetLastError)

SS_LAZY_NATS_NAMES(SS_LAZY_DECLARE)

#define jsConsumerInfo_Destroy(...) ss_lazy_jsConsumerInfo_Destroy(__VA_ARGS__)
#define jsCtx_Destroy(...)          ss_lazy_jsCtx_Destroy(__VA_ARGS__)
#define jsMsgMetaData_Destroy(...)  ss_lazy_jsMsgMetaData_Destroy(__VA_ARGS__)
#define jsOptions_Init(...)         ss_lazy_jsOptions_Init(__VA_ARGS__)
#define jsPubOptions_Init(...)      ss_lazy_jsPubOptions_Init(__VA_ARGS__)
#define jsStreamInfo_Destroy(...)   ss_lazy_jsStreamInfo_Destroy(__VA_ARGS__)
#define jsSubOptions_Init(...)      ss_lazy_jsSubOptions_Init(__VA_ARGS__)
#define js_GetConsumerInfo(...)     ss_lazy_js_GetConsumerInfo(__VA_ARGS__)
#define js_GetStreamInfo(...)       ss_lazy_js_GetStreamInfo(__VA_ARGS__)
#define js_PublishAsync(...)        ss_lazy_js_PublishAsync(__VA_ARGS__)
#define js_PublishAsyncComplete(...)                                           \
    ss_lazy_js_PublishAsyncComplete(__VA_ARGS__)
#define js_PublishAsyncGetPendingList(...)                                     \
    ss_lazy_js_PublishAsyncGetPendingList(__VA_ARGS__)
#define js_PublishMsgAsync(...)     ss_lazy_js_PublishMsgAsync(__VA_ARGS__)
#define js_PullSubscribe(...)       ss_lazy_js_PullSubscribe(__VA_ARGS__)
#define natsConnection_Close(...)   ss_lazy_natsConnection_Close(__VA_ARGS__)
#define natsConnection_Connect(...) ss_lazy_natsConnection_Connect(__VA_ARGS__)
#define natsConnection_Destroy(...) ss_lazy_natsConnection_Destroy(__VA_ARGS__)
#define natsConnection_FlushTimeout(...)                                       \
    ss_lazy_natsConnection_FlushTimeout(__VA_ARGS__)
#define natsConnection_GetConnectedUrl(...)                                    \
    ss_lazy_natsConnection_GetConnectedUrl(__VA_ARGS__)
#define natsConnection_JetStream(...)                                          \
    ss_lazy_natsConnection_JetStream(__VA_ARGS__)
#define natsMsgList_Destroy(...)   ss_lazy_natsMsgList_Destroy(__VA_ARGS__)
#define natsMsg_Ack(...)           ss_lazy_natsMsg_Ack(__VA_ARGS__)
#define natsMsg_Destroy(...)       ss_lazy_natsMsg_Destroy(__VA_ARGS__)
#define natsMsg_GetData(...)       ss_lazy_natsMsg_GetData(__VA_ARGS__)
#define natsMsg_GetDataLength(...) ss_lazy_natsMsg_GetDataLength(__VA_ARGS__)
#define natsMsg_GetMetaData(...)   ss_lazy_natsMsg_GetMetaData(__VA_ARGS__)
#define natsMsg_InProgress(...)    ss_lazy_natsMsg_InProgress(__VA_ARGS__)
#define natsMsg_Nak(...)           ss_lazy_natsMsg_Nak(__VA_ARGS__)
#define natsOptions_Create(...)    ss_lazy_natsOptions_Create(__VA_ARGS__)
#define natsOptions_Destroy(...)   ss_lazy_natsOptions_Destroy(__VA_ARGS__)
#define natsOptions_SetDisconnectedCB(...)                                     \
    ss_lazy_natsOptions_SetDisconnectedCB(__VA_ARGS__)
#define natsOptions_SetMaxReconnect(...)                                       \
    ss_lazy_natsOptions_SetMaxReconnect(__VA_ARGS__)
#define natsOptions_SetName(...) ss_lazy_natsOptions_SetName(__VA_ARGS__)
#define natsOptions_SetReconnectWait(...)                                      \
    ss_lazy_natsOptions_SetReconnectWait(__VA_ARGS__)
#define natsOptions_SetReconnectedCB(...)                                      \
    ss_lazy_natsOptions_SetReconnectedCB(__VA_ARGS__)
#define natsOptions_SetServers(...) ss_lazy_natsOptions_SetServers(__VA_ARGS__)
#define natsOptions_SetTimeout(...) ss_lazy_natsOptions_SetTimeout(__VA_ARGS__)
#define natsStatus_GetText(...)     ss_lazy_natsStatus_GetText(__VA_ARGS__)
#define natsSubscription_Destroy(...)                                          \
    ss_lazy_natsSubscription_Destroy(__VA_ARGS__)
#define natsSubscription_Fetch(...) ss_lazy_natsSubscription_Fetch(__VA_ARGS__)
#define nats_CloseAndWait(...)      ss_lazy_nats_CloseAndWait(__VA_ARGS__)
#define nats_GetLastError(...)      ss_lazy_nats_GetLastError(__VA_ARGS__)

#endif
