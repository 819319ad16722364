/* backoff.c - the wait before trying again (backoff.h). */
#include "backoff.h"

#include <stdio.h>

#include "diag.h"

#define BACKOFF_FIRST 250
#define BACKOFF_MAX   8000

void
ss_backoff_reset(struct ss_backoff *bo)
{
    bo->next_ms = BACKOFF_FIRST;
}

uint64_t
ss_backoff_next(struct ss_backoff *bo)
{
    uint64_t ms = bo->next_ms ? bo->next_ms : BACKOFF_FIRST;

    bo->next_ms = ms * 2 > BACKOFF_MAX ? BACKOFF_MAX : ms * 2;
    return ms;
}

const char *
ss_backoff_text(uint64_t ms, char *buf, size_t n)
{
    if (ms % 1000 == 0)
        snprintf(buf, n, "%llus", (unsigned long long)(ms / 1000));
    else
        snprintf(buf, n, "%llums", (unsigned long long)ms);
    return buf;
}

uint64_t
ss_backoff_say(struct ss_backoff *bo, const char *what, const char *why,
               const char *again)
{
    uint64_t ms = ss_backoff_next(bo);
    char wait[32];

    ss_diag("%s: %s; %s in %s", what, why, again,
            ss_backoff_text(ms, wait, sizeof(wait)));
    return ms;
}
