/* timefmt.c - times as text and back (--time-format). */
#define _XOPEN_SOURCE 700 /* strptime(3) */
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
    case SS_TIMEFMT_S:
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

int
ss_timefmt_parse_in(const char *arg, struct ss_timefmt *tf)
{
    tf->fmt = NULL;
    if (strcmp(arg, "epoch-ms") == 0)
        tf->kind = SS_TIMEFMT_MS;
    else if (strcmp(arg, "epoch-s") == 0)
        tf->kind = SS_TIMEFMT_S;
    else if (strcmp(arg, "iso8601") == 0)
        tf->kind = SS_TIMEFMT_ISO;
    else if (strchr(arg, '%') != NULL) {
        tf->kind = SS_TIMEFMT_STRFTIME;
        tf->fmt = arg;
    } else
        return -EINVAL;
    return 0;
}

/* ---- reading ---- */

/* Digits p[*i..) as a number, at most 'max' of them (at least one): 0,
 * or -EINVAL. */
static int
digits(const char *p, size_t n, size_t *i, size_t max, int64_t *v)
{
    size_t start = *i;

    *v = 0;
    while (*i < n && *i - start < max && p[*i] >= '0' && p[*i] <= '9')
        *v = *v * 10 + (p[(*i)++] - '0');
    return *i > start ? 0 : -EINVAL;
}

/* Exactly 'width' digits, then the separator 'sep' (0: none). */
static int
part(const char *p, size_t n, size_t *i, size_t width, char sep, int64_t *v)
{
    size_t start = *i;

    if (digits(p, n, i, width, v) < 0 || *i - start != width)
        return -EINVAL;
    if (sep == 0)
        return 0;
    if (*i >= n || (p[*i] != sep && !(sep == 'T' && p[*i] == ' ')))
        return -EINVAL;
    (*i)++;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): no time_t, no time zone, any year. */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t
days_in(int64_t y, int64_t m)
{
    static const int8_t days[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return days[m - 1] + (m == 2 && leap);
}

/* [.fraction]: milliseconds, the digits past the third ignored. */
static int64_t
fraction(const char *p, size_t n, size_t *i)
{
    int64_t ms = 0, scale = 100;

    if (*i >= n || (p[*i] != '.' && p[*i] != ','))
        return 0;
    for ((*i)++; *i < n && p[*i] >= '0' && p[*i] <= '9'; (*i)++, scale /= 10)
        ms += (p[*i] - '0') * scale;
    return ms;
}

static int
scan_iso(const char *p, size_t n, int64_t *ms)
{
    int64_t y, mo, d, h, mi, s, oh = 0, om = 0, frac;
    size_t i = 0;
    int sign = 1;

    if (part(p, n, &i, 4, '-', &y) < 0 || part(p, n, &i, 2, '-', &mo) < 0 ||
        part(p, n, &i, 2, 'T', &d) < 0 || part(p, n, &i, 2, ':', &h) < 0 ||
        part(p, n, &i, 2, ':', &mi) < 0 || part(p, n, &i, 2, 0, &s) < 0)
        return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo) || h > 23 || mi > 59 ||
        s > 60)
        return -EINVAL;
    frac = fraction(p, n, &i);
    if (i < n && p[i] == 'Z')
        i++;
    else if (i < n && (p[i] == '+' || p[i] == '-')) {
        sign = p[i++] == '-' ? -1 : 1;
        if (part(p, n, &i, 2, 0, &oh) < 0)
            return -EINVAL;
        if (i < n && p[i] == ':')
            i++;
        if (part(p, n, &i, 2, 0, &om) < 0 || oh > 23 || om > 59)
            return -EINVAL;
    }
    if (i != n)
        return -EINVAL;
    *ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + s;
    *ms = (*ms - sign * (oh * 3600 + om * 60)) * 1000 + frac;
    return 0;
}

static int
scan_epoch(const char *p, size_t n, int seconds, int64_t *ms)
{
    size_t i = 0;
    int64_t v;
    int neg = n > 0 && p[0] == '-';

    i = (size_t)neg;
    /* 15 digits of seconds, 18 of ms: inside the frames' time range */
    if (digits(p, n, &i, seconds ? 15 : 18, &v) < 0)
        return -EINVAL;
    if (seconds)
        v = v * 1000 + fraction(p, n, &i);
    if (i != n)
        return -EINVAL;
    *ms = neg ? -v : v;
    return 0;
}

static int
scan_strptime(const char *fmt, const char *p, size_t n, int64_t *ms)
{
    char text[SS_TIMEFMT_MAX];
    struct tm tm;
    const char *end;

    if (n >= sizeof(text))
        return -EINVAL;
    memcpy(text, p, n);
    text[n] = '\0';
    memset(&tm, 0, sizeof(tm));
    tm.tm_mday = 1;
    if ((end = strptime(text, fmt, &tm)) == NULL || *end != '\0')
        return -EINVAL;
    *ms =
        ((days_from_civil(tm.tm_year + 1900LL, tm.tm_mon + 1, tm.tm_mday) * 24 +
          tm.tm_hour) *
             60 +
         tm.tm_min) *
            60 +
        tm.tm_sec - tm.tm_gmtoff;
    *ms *= 1000;
    return 0;
}

int
ss_timefmt_scan(const struct ss_timefmt *tf, const char *p, size_t n,
                int64_t *ms)
{
    int rc;

    switch (tf->kind) {
    case SS_TIMEFMT_MS:
        rc = scan_epoch(p, n, 0, ms);
        break;
    case SS_TIMEFMT_S:
        rc = scan_epoch(p, n, 1, ms);
        break;
    case SS_TIMEFMT_ISO:
        rc = n >= 19 && n <= 40 ? scan_iso(p, n, ms) : -EINVAL;
        break;
    case SS_TIMEFMT_STRFTIME:
        rc = scan_strptime(tf->fmt, p, n, ms);
        break;
    default:
        rc = -EINVAL;
    }
    if (rc == 0 && (*ms < -((int64_t)1 << 61) || *ms > ((int64_t)1 << 61)))
        rc = -EINVAL;
    return rc;
}
