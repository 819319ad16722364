/* timefmt.h - times as people write them, both ways: batch times as
 * text for sstream-sink's --time-format (epoch milliseconds, Spark's
 * "Time: T ms"; ISO 8601 in UTC or local time; a strftime(3) format), and
 * event times read from a field for sstream-source's --time-format
 * (epoch-ms, epoch-s, iso8601, or a strptime(3) format).
 * Owns nothing: a format borrows its strftime text from argv.
 */
#ifndef SS_TIMEFMT_H
#define SS_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define SS_TIMEFMT_MAX 256 /* room for any formatted time, NUL included */

enum ss_timefmt_kind {
    SS_TIMEFMT_MS,       /* 1671473650000 (the default) */
    SS_TIMEFMT_ISO,      /* 2022-12-19T18:14:10.000Z */
    SS_TIMEFMT_LOCAL,    /* 2022-12-19T19:14:10.000+01:00, by TZ */
    SS_TIMEFMT_STRFTIME, /* any strftime(3) format, in local time */
    SS_TIMEFMT_S,        /* epoch seconds, a fraction allowed (reading) */
};

struct ss_timefmt {
    enum ss_timefmt_kind kind;
    const char *fmt; /* SS_TIMEFMT_STRFTIME: the format */
};

/* "ms", "iso", "local", or a format with a '%' in it. 0, or -EINVAL
 * (unknown name; a format whose text is empty or longer than
 * SS_TIMEFMT_MAX - 1 for a sample time). */
int ss_timefmt_parse(const char *arg, struct ss_timefmt *tf);
/* The time 'ms' (since the epoch) into out[SS_TIMEFMT_MAX]; its length. */
size_t ss_timefmt_format(const struct ss_timefmt *tf, int64_t ms, char *out);

/* For reading event times: "epoch-ms", "epoch-s", "iso8601", or a
 * strptime(3) format (with a '%'). 0, or -EINVAL. */
int ss_timefmt_parse_in(const char *arg, struct ss_timefmt *tf);
/* Read the time p[0..n) into *ms (since the epoch): 0, or -EINVAL when
 * it is not a time in that format (or out of the frames' time range).
 * epoch-ms: an integer; epoch-s: an integer, or a decimal fraction cut
 * to milliseconds; iso8601: 2022-12-19T18:14:10[.123][Z|+01:00|+0100]
 * (a space for the T; no zone is UTC); a strptime format is read as UTC
 * unless it has %z. */
int ss_timefmt_scan(const struct ss_timefmt *tf, const char *p, size_t n,
                    int64_t *ms);

#endif
