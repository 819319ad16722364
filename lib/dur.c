/* dur.c - durations and counts from the command line. */
#include "dur.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int
ss_dur_parse_count(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        /* the digit first: max - digit must not wrap (a max under 9) */
        if ((uint64_t)(*s - '0') > max || v > (max - (uint64_t)(*s - '0')) / 10)
            return -EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

int
ss_dur_parse(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1},    {"s", 1000},    {"", 1000},
                 {"m", 60000}, {"h", 3600000}, {"d", 86400000}};

    char digits[32];
    size_t n = strspn(s, "0123456789");
    uint64_t v;

    if (n == 0 || n >= sizeof(digits))
        return -EINVAL;
    memcpy(digits, s, n);
    digits[n] = '\0';
    if (ss_dur_parse_count(digits, INT64_MAX / 86400000, &v) < 0 || v == 0)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(s + n, units[i].unit) == 0) {
            *ms = (int64_t)v * units[i].ms;
            return 0;
        }
    }
    return -EINVAL;
}

char *
ss_dur_format(int64_t ms, char *out, size_t n)
{
    if (ms % 3600000 == 0)
        snprintf(out, n, "%" PRId64 "h", ms / 3600000);
    else if (ms % 60000 == 0)
        snprintf(out, n, "%" PRId64 "m", ms / 60000);
    else if (ms % 1000 == 0)
        snprintf(out, n, "%" PRId64 "s", ms / 1000);
    else
        snprintf(out, n, "%" PRId64 "ms", ms);
    return out;
}

int64_t
ss_dur_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
ss_dur_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
