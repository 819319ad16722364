/* lazy.h - the broker and HTTP client libraries (librdkafka, libnats,
 * libmosquitto, libcurl), loaded with dlopen(3) when an option needs one
 * rather than by the dynamic linker at every start.
 *
 * Why: linked in, they cost every run of sstream-sink 43 shared libraries
 * (curl's TLS, Kerberos and LDAP stack among them) and 7 ms of CPU before
 * main(), sstream-source 17 libraries and 5 ms, where a word count over
 * 11 MB takes 60 ms; most runs use none of them.
 *
 * How: a module that calls a library includes lib/lazy_NAME.h instead of
 * the library's header. There each function sstream calls is a pointer,
 * ss_lazy_FUNCTION, and a function-like #define turns the call
 * FUNCTION(...) into a call through it (a struct of the same name, as
 * struct rd_kafka_metadata, is left alone), so the callers read as plain
 * library calls. The binaries are not linked with these libraries: a
 * call missing from a list fails the link, naming the function.
 * ss_lazy_load() fills the pointers.
 *
 * Owns: the libraries' handles and the pointers, for the life of the
 * process (never unloaded: librdkafka and libnats keep threads).
 * Call ss_lazy_load() from the main thread before the first call into the
 * library (before any thread of it runs); a call before it is a NULL call.
 */
#ifndef SS_LAZY_H
#define SS_LAZY_H

enum ss_lazy_lib {
    SS_LAZY_CURL,
    SS_LAZY_MOSQUITTO,
    SS_LAZY_NATS,
    SS_LAZY_RDKAFKA,
    SS_LAZY_LIBS
};

/* Load 'lib' and resolve every function sstream uses from it; at once when
 * done before. 0, or SS_REPORTED after saying, for the option 'what'
 * ("--kafka"), which library did not load and the Debian package that has
 * it. */
int ss_lazy_load(enum ss_lazy_lib lib, const char *what);

/* For the lists of lib/lazy_NAME.h: the pointer for function 'f'. */
#define SS_LAZY_DECLARE(f) extern __typeof__(f) *ss_lazy_##f;

#endif
