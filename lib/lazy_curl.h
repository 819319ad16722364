/* lazy_curl.h - libcurl loaded at first use (lib/lazy.h): include
 * this instead of <curl/curl.h>. Each function below is called through a
 * pointer that ss_lazy_load(SS_LAZY_CURL) fills. sstream is not linked
 * with the library, so a call to a function not listed fails the link,
 * naming it: add it to both lists.
 */
#ifndef SS_LAZY_CURL_H
#define SS_LAZY_CURL_H

#include <curl/curl.h>

#include "lazy.h"

#define SS_LAZY_CURL_NAMES(X)                                                  \
    X(curl_easy_cleanup)                                                       \
    X(curl_easy_getinfo)                                                       \
    X(curl_easy_init)                                                          \
    X(curl_easy_perform)                                                       \
    X(curl_easy_setopt)                                                        \
    X(curl_easy_strerror)                                                      \
    X(curl_global_cleanup)                                                     \
    X(curl_global_init)                                                        \
    X(curl_slist_append)                                                       \
    X(curl_slist_free_all)

SS_LAZY_CURL_NAMES(SS_LAZY_DECLARE)

/* curl.h makes these two macros (gcc's type checks of the option's
 * argument, in curl/typecheck-gcc.h); the calls go through the pointers
 * unchecked. */
#undef curl_easy_getinfo
#undef curl_easy_setopt

#define curl_easy_cleanup(...)   ss_lazy_curl_easy_cleanup(__VA_ARGS__)
#define curl_easy_getinfo(...)   ss_lazy_curl_easy_getinfo(__VA_ARGS__)
#define curl_easy_init(...)      ss_lazy_curl_easy_init(__VA_ARGS__)
#define curl_easy_perform(...)   ss_lazy_curl_easy_perform(__VA_ARGS__)
#define curl_easy_setopt(...)    ss_lazy_curl_easy_setopt(__VA_ARGS__)
#define curl_easy_strerror(...)  ss_lazy_curl_easy_strerror(__VA_ARGS__)
#define curl_global_cleanup(...) ss_lazy_curl_global_cleanup(__VA_ARGS__)
#define curl_global_init(...)    ss_lazy_curl_global_init(__VA_ARGS__)
#define curl_slist_append(...)   ss_lazy_curl_slist_append(__VA_ARGS__)
#define curl_slist_free_all(...) ss_lazy_curl_slist_free_all(__VA_ARGS__)

#endif
