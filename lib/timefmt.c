/* timefmt.c - batch times as text (--time-format). */
#include "timefmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The calendar time of 'ms' in UTC or in local time (TZ). */
static int
broken_down(int64_t ms, int utc, struct tm *tm)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);

    return (utc ? gmtime_r(&t, tm) : localtime_r(&t, tm)) != NULL ? 0 : -EINVAL;
}

/* 2022-12-19T19:14:10.000 then Z, or the offset as +01:00 (strftime's %z
 * gives +0100; ISO 8601's extended form wants the colon). */
static size_t
iso(int64_t ms, int utc, char *out)
{
    struct tm tm;
    char z[8];
    size_t n;
    int milli = (int)(ms % 1000 + 1000) % 1000;

    if (broken_down(ms, utc, &tm) < 0)
        return (size_t)snprintf(out, SS_TIMEFMT_MAX, "%" PRId64, ms);
    n = strftime(out, SS_TIMEFMT_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
    if (utc)
        return n +
               (size_t)snprintf(out + n, SS_TIMEFMT_MAX - n, ".%03dZ", milli);
    if (strftime(z, sizeof(z), "%z", &tm) != 5)
        memcpy(z, "+0000", 6);
    return n + (size_t)snprintf(out + n, SS_TIMEFMT_MAX - n, ".%03d%.3s:%.2s",
                                milli, z, z + 3);
}

size_t
ss_timefmt_format(const struct ss_timefmt *tf, int64_t ms, char *out)
{
    struct tm tm;
    size_t n;

    switch (tf->kind) {
    case SS_TIMEFMT_ISO:
        return iso(ms, 1, out);
    case SS_TIMEFMT_LOCAL:
        return iso(ms, 0, out);
    case SS_TIMEFMT_STRFTIME:
        if (broken_down(ms, 0, &tm) == 0 &&
            (n = strftime(out, SS_TIMEFMT_MAX, tf->fmt, &tm)) > 0)
            return n;
        break; /* checked at parse time; the number is never wrong */
    case SS_TIMEFMT_MS:
        break;
    }
    return (size_t)snprintf(out, SS_TIMEFMT_MAX, "%" PRId64, ms);
}

int
ss_timefmt_parse(const char *arg, struct ss_timefmt *tf)
{
    char sample[SS_TIMEFMT_MAX];
    struct tm tm;

    tf->fmt = NULL;
    if (strcmp(arg, "ms") == 0)
        tf->kind = SS_TIMEFMT_MS;
    else if (strcmp(arg, "iso") == 0)
        tf->kind = SS_TIMEFMT_ISO;
    else if (strcmp(arg, "local") == 0)
        tf->kind = SS_TIMEFMT_LOCAL;
    else if (strchr(arg, '%') != NULL) {
        /* a format that gives nothing, or too much, for a long date
         * would print epoch ms instead: refused here */
        if (broken_down(INT64_C(1671473650000), 0, &tm) < 0 ||
            strftime(sample, sizeof(sample), arg, &tm) == 0)
            return -EINVAL;
        tf->kind = SS_TIMEFMT_STRFTIME;
        tf->fmt = arg;
    } else
        return -EINVAL;
    return 0;
}
