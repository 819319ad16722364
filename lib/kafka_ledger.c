/* kafka_ledger.c - the reader of DIR/kafka-offsets (kafka_ledger.h). */
#include "kafka_ledger.h"

#include <errno.h>
#include <string.h>

/* A decimal number p[0..n) of digits only, at most 'max': 0 or -EINVAL.
 * With 'sign', a leading '-' is allowed (batch times may be negative). */
static int
number(const char *p, size_t n, int sign, int64_t max, int64_t *out)
{
    int neg = sign && n > 0 && p[0] == '-';
    uint64_t v = 0, lim = neg ? (uint64_t)max + 1 : (uint64_t)max;

    if (neg)
        p++, n--;
    if (n == 0 || n > 19)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';

        if (d > 9 || v > (lim - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    *out =
        neg ? (v == (uint64_t)max + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 0;
}

static int
topic_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int
ss_kafka_ledger_parse(const char *p, size_t n, struct ss_kafka_ledger_entry *e)
{
    const char *f[4];
    size_t len[4], at = 0;
    int64_t part;

    for (int i = 0; i < 4; i++) {
        const char *sp = memchr(p + at, ' ', n - at);
        size_t end = i < 3 ? (sp != NULL ? (size_t)(sp - p) : n) : n;

        if (i < 3 && sp == NULL)
            return -EINVAL;
        f[i] = p + at;
        len[i] = end - at;
        at = end + (i < 3);
    }
    if (len[1] == 0 || len[1] > SS_KAFKA_LEDGER_TOPIC_MAX)
        return -EINVAL;
    for (size_t i = 0; i < len[1]; i++)
        if (!topic_char(f[1][i]))
            return -EINVAL;
    if (number(f[0], len[0], 1, INT64_MAX, &e->time) < 0 ||
        number(f[2], len[2], 0, INT32_MAX, &part) < 0 ||
        number(f[3], len[3], 0, INT64_MAX, &e->next) < 0)
        return -EINVAL;
    e->topic = f[1];
    e->topic_len = len[1];
    e->partition = (int32_t)part;
    return 0;
}

/* Call fn for each line of text[0..len) that parses with tag 'want'
 * (INT64_MIN: none, call nothing); with 'best', find the newest tag at or
 * before 'logged' instead. */
static int
walk(const char *text, size_t len, int64_t logged, int64_t *best, int64_t want,
     int (*fn)(void *ctx, const struct ss_kafka_ledger_entry *e), void *ctx)
{
    struct ss_kafka_ledger_entry e;

    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        int rc;

        if (ss_kafka_ledger_parse(text + at, end - at, &e) == 0) {
            if (best != NULL && e.time <= logged && e.time > *best)
                *best = e.time;
            if (best == NULL && e.time == want && (rc = fn(ctx, &e)) < 0)
                return rc;
        }
        at = end + 1;
    }
    return 0;
}

int
ss_kafka_ledger_read(
    const char *text, size_t len, int64_t logged, int64_t *time,
    int (*fn)(void *ctx, const struct ss_kafka_ledger_entry *e), void *ctx)
{
    *time = INT64_MIN;
    walk(text, len, logged, time, 0, NULL, NULL);
    if (*time == INT64_MIN)
        return 0;
    return walk(text, len, logged, NULL, *time, fn, ctx);
}
