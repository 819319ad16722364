/* lazy.c - the broker and HTTP client libraries, loaded at first use
 * (lib/lazy.h says why and how). */
#include "lazy.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#include "diag.h"
#include "lazy_curl.h"
#include "lazy_mosquitto.h"
#include "lazy_nats.h"
#include "lazy_rdkafka.h"

/* The pointers themselves; their types come from the declarations. */
#define DEFINE(f) __typeof__(ss_lazy_##f) ss_lazy_##f;
SS_LAZY_CURL_NAMES(DEFINE)
SS_LAZY_MOSQUITTO_NAMES(DEFINE)
SS_LAZY_NATS_NAMES(DEFINE)
SS_LAZY_RDKAFKA_NAMES(DEFINE)

struct slot {
    const char *name;
    void *ptr; /* the address of the pointer ss_lazy_NAME */
};

#define SLOT(f) {#f, &ss_lazy_##f},
static const struct slot curl_slots[] = {SS_LAZY_CURL_NAMES(SLOT)};
static const struct slot mosquitto_slots[] = {SS_LAZY_MOSQUITTO_NAMES(SLOT)};
static const struct slot nats_slots[] = {SS_LAZY_NATS_NAMES(SLOT)};
static const struct slot rdkafka_slots[] = {SS_LAZY_RDKAFKA_NAMES(SLOT)};

#define STR(x)   #x
#define XSTR(x)  STR(x)
#define NATS_SOV XSTR(NATS_VERSION_MAJOR) "." XSTR(NATS_VERSION_MINOR)
#define SLOTS(a) (a), sizeof(a) / sizeof((a)[0])

/* Each library by the soname we were built against and its Debian
 * package (named after the soname, as Debian's policy has it). libnats
 * puts its minor version in its soname: that one comes from the version
 * of the header we were compiled with. */
static struct lib {
    const char *soname;
    const char *package;
    const struct slot *slots;
    size_t nslots;
    int loaded;
} libs[SS_LAZY_LIBS] = {
    [SS_LAZY_CURL] = {"libcurl.so.4", "libcurl4", SLOTS(curl_slots), 0},
    [SS_LAZY_MOSQUITTO] = {"libmosquitto.so.1", "libmosquitto1",
                           SLOTS(mosquitto_slots), 0},
    [SS_LAZY_NATS] = {"libnats.so." NATS_SOV, "libnats" NATS_SOV,
                      SLOTS(nats_slots), 0},
    [SS_LAZY_RDKAFKA] = {"librdkafka.so.1", "librdkafka1", SLOTS(rdkafka_slots),
                         0},
};

int
ss_lazy_load(enum ss_lazy_lib lib, const char *what)
{
    struct lib *l = &libs[lib];
    void *h, *f;
    const char *err;

    if (l->loaded)
        return 0;
    /* RTLD_NOW: a library that lacks a function of its own dependencies
     * fails here, with a message, rather than at some later call. */
    if ((h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
        err = dlerror();
        return ss_diag("%s: cannot load %s (Debian package %s): %s", what,
                       l->soname, l->package, err ? err : "unknown error");
    }
    for (size_t i = 0; i < l->nslots; i++) {
        if ((f = dlsym(h, l->slots[i].name)) == NULL)
            return ss_diag("%s: %s has no %s (a newer %s is needed)", what,
                           l->soname, l->slots[i].name, l->package);
        /* POSIX: a function's address fits in a void *. */
        memcpy(l->slots[i].ptr, &f, sizeof(f));
    }
    l->loaded = 1;
    return 0;
}
