/* nats.c - a NATS connection's options from the user's URL (nats.h). */
#include "nats.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* libnats's natsOptions_SetURL() takes one URL and would try "a:1,b:2"
 * as a host: a list goes in as servers. */
static natsStatus
set_servers(natsOptions *opts, const char *list)
{
    const char **v;
    char *copy = strdup(list), *save = NULL;
    size_t n = 1;
    natsStatus s = NATS_NO_MEMORY;

    for (const char *p = list; *p != '\0'; p++)
        n += *p == ',';
    if (copy != NULL && (v = calloc(n, sizeof(*v))) != NULL) {
        n = 0;
        for (char *t = strtok_r(copy, ",", &save); t != NULL;
             t = strtok_r(NULL, ",", &save))
            v[n++] = t;
        s = n > 0 && n <= INT_MAX ? natsOptions_SetServers(opts, v, (int)n)
                                  : NATS_INVALID_ARG;
        free(v);
    }
    free(copy);
    return s;
}

natsStatus
ss_nats_options(natsOptions **opts, const char *url, const char *name)
{
    natsStatus s;

    if ((s = natsOptions_Create(opts)) != NATS_OK)
        return s;
    if ((s = set_servers(*opts, url)) == NATS_OK)
        s = natsOptions_SetName(*opts, name);
    if (s == NATS_OK) /* a first connect fails at once, then we retry */
        s = natsOptions_SetMaxReconnect(*opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(*opts, 250);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(*opts, 2000);
    if (s != NATS_OK) {
        natsOptions_Destroy(*opts);
        *opts = NULL;
    }
    return s;
}
