/* ledger.c - the receivers' positions beside the --wal log (ledger.h):
 * the one reader and writer of DIR/kafka-offsets and DIR/nats-pending. */
#include "ledger.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "io.h"

int
ss_ledger_number(const char *p, size_t n, int sign, int64_t max, int64_t *out)
{
    int neg = sign && n > 0 && p[0] == '-';
    uint64_t v = 0;

    if (neg)
        p++, n--;
    if (n == 0 || n > 19)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';

        if (d > 9 || v > ((uint64_t)max - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* A line's TIME and REST: 0, or -EINVAL when TIME is not one. */
static int
split(const char *line, size_t n, int64_t *time, const char **rest,
      size_t *rlen)
{
    const char *sp = memchr(line, ' ', n);
    size_t tlen = sp != NULL ? (size_t)(sp - line) : n;

    if (ss_ledger_number(line, tlen, 1, INT64_MAX, time) < 0)
        return -EINVAL;
    *rest = sp != NULL ? sp + 1 : line + n;
    *rlen = sp != NULL ? n - tlen - 1 : 0;
    return 0;
}

/* Each line of text[0..len) that fn accepts: with 'best', the newest
 * tag at or before 'logged' into *best; without, fn takes the lines
 * tagged 'want' (with 'empty', a TIME alone too, as n == 0). */
static int
walk(const char *text, size_t len, int64_t logged, int64_t *best, int64_t want,
     int empty, ss_ledger_fn *fn, void *ctx)
{
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at), *rest;
        size_t end = nl != NULL ? (size_t)(nl - text) : len, rlen;
        int64_t time;
        int rc;

        /* a TIME alone is an empty snapshot: valid, nothing to take */
        if (split(text + at, end - at, &time, &rest, &rlen) == 0 &&
            (best != NULL ? time <= logged && time > *best : time == want) &&
            (rlen == 0 || fn(ctx, rest, rlen, 0) == 0)) {
            if (best != NULL)
                *best = time;
            else if ((rlen > 0 || empty) && (rc = fn(ctx, rest, rlen, 1)) < 0)
                return rc;
        }
        at = end + 1;
    }
    return 0;
}

int
ss_ledger_read(const char *text, size_t len, int64_t logged, int64_t *time,
               ss_ledger_fn *fn, void *ctx)
{
    *time = INT64_MIN;
    walk(text, len, logged, time, 0, 0, fn, ctx);
    if (*time == INT64_MIN)
        return 0;
    return walk(text, len, logged, NULL, *time, 0, fn, ctx);
}

/* ---- Kafka ---- */

static int
topic_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int
ss_ledger_kafka_parse(const char *p, size_t n, struct ss_ledger_kafka *e)
{
    const char *sp1 = memchr(p, ' ', n), *sp2;
    size_t tlen, plen;
    int64_t part;

    if (sp1 == NULL)
        return -EINVAL;
    tlen = (size_t)(sp1 - p);
    if ((sp2 = memchr(sp1 + 1, ' ', n - tlen - 1)) == NULL)
        return -EINVAL;
    plen = (size_t)(sp2 - sp1 - 1);
    if (tlen == 0 || tlen > SS_LEDGER_TOPIC_MAX)
        return -EINVAL;
    for (size_t i = 0; i < tlen; i++)
        if (!topic_char(p[i]))
            return -EINVAL;
    if (ss_ledger_number(sp1 + 1, plen, 0, INT32_MAX, &part) < 0 ||
        ss_ledger_number(sp2 + 1, n - tlen - plen - 2, 0, INT64_MAX, &e->next) <
            0)
        return -EINVAL;
    e->topic = p;
    e->topic_len = tlen;
    e->partition = (int32_t)part;
    return 0;
}

/* ---- NATS JetStream ---- */

/* One "LO-HI" of p[0..n): 0, or -EINVAL. */
static int
range(const char *p, size_t n, uint64_t *lo, uint64_t *hi)
{
    const char *dash = memchr(p, '-', n);
    int64_t a, b;

    if (dash == NULL ||
        ss_ledger_number(p, (size_t)(dash - p), 0, INT64_MAX, &a) < 0 ||
        ss_ledger_number(dash + 1, n - (size_t)(dash - p) - 1, 0, INT64_MAX,
                         &b) < 0 ||
        a > b)
        return -EINVAL;
    *lo = (uint64_t)a;
    *hi = (uint64_t)b;
    return 0;
}

/* Check every range of p[0..n) (fn NULL), or hand each to fn. */
static int
ranges(const char *p, size_t n, int (*fn)(void *, uint64_t, uint64_t),
       void *ctx)
{
    uint64_t lo, hi;
    int rc;

    for (size_t at = 0; at <= n;) {
        const char *sp = memchr(p + at, ' ', n - at);
        size_t end = sp != NULL ? (size_t)(sp - p) : n;

        if (range(p + at, end - at, &lo, &hi) < 0)
            return -EINVAL;
        if (fn != NULL && (rc = fn(ctx, lo, hi)) < 0)
            return rc;
        at = end + 1;
    }
    return 0;
}

int
ss_ledger_nats_parse(const char *p, size_t n, const char **stream, size_t *slen,
                     int (*fn)(void *, uint64_t, uint64_t), void *ctx)
{
    const char *sp = memchr(p, ' ', n);
    size_t len = sp != NULL ? (size_t)(sp - p) : 0;
    int rc;

    /* a stream name: no blank, no '.', '*', '>' (as --stream checks) */
    if (sp == NULL || len == 0 || memchr(p, '.', len) || memchr(p, '*', len) ||
        memchr(p, '>', len))
        return -EINVAL;
    *stream = p;
    *slen = len;
    if ((rc = ranges(sp + 1, n - len - 1, NULL, NULL)) < 0 || fn == NULL)
        return rc;
    return ranges(sp + 1, n - len - 1, fn, ctx);
}

/* ---- the file ---- */

struct loading {
    struct ss_ledger *l;
    ss_ledger_fn *fn;
    void *ctx;
    int64_t time;
};

/* The receiver's fn, and the line kept whole as 'prev'. */
static int
keep(void *ctx, const char *rest, size_t n, int take)
{
    struct loading *ld = ctx;
    struct ss_buf *b = &ld->l->prev;
    int rc;

    if (n > 0 && ((rc = ld->fn(ld->ctx, rest, n, take)) < 0 || !take))
        return rc;
    if (ss_buf_printf(b, "%" PRId64 "%s", ld->time, n > 0 ? " " : "") < 0)
        return -ENOMEM;
    if ((rc = ss_buf_append(b, rest, n)) < 0)
        return rc;
    return ss_buf_putc(b, '\n');
}

int
ss_ledger_load(struct ss_ledger *l, int64_t logged, ss_ledger_fn *fn, void *ctx)
{
    struct ss_buf b = {0};
    struct loading ld = {l, fn, ctx, INT64_MIN};
    char path[PATH_MAX];
    int rc;

    if ((rc = ss_io_path(path, sizeof(path), l->dir, l->name)) < 0)
        return ss_diag_err(rc, "--wal: '%s'", l->dir);
    if ((rc = ss_io_slurp(path, &b)) < 0) {
        ss_buf_release(&b);
        return rc == -ENOENT ? 0 : ss_diag_err(rc, "--wal: '%s'", path);
    }
    /* the tag first, so that keep() can write it before each line */
    walk(b.data, b.len, logged, &ld.time, 0, 0, fn, ctx);
    if (ld.time != INT64_MIN)
        rc = walk(b.data, b.len, logged, NULL, ld.time, 1, keep, &ld);
    ss_buf_release(&b);
    return rc < 0 ? ss_diag_err(rc, "--wal: '%s'", path) : 0;
}

int
ss_ledger_write(struct ss_ledger *l, int64_t time, const struct ss_buf *rest)
{
    struct ss_buf cur = {0}, all = {0};
    char stamp[32];
    size_t at = 0;
    int n = snprintf(stamp, sizeof(stamp), "%" PRId64, time), rc = 0;

    /* an empty snapshot is its time alone: it too replaces the last */
    if (rest->len == 0)
        rc = ss_buf_printf(&cur, "%s\n", stamp) < 0 ? -ENOMEM : 0;
    while (at < rest->len && rc == 0) {
        const char *nl = memchr(rest->data + at, '\n', rest->len - at);
        size_t len = nl ? (size_t)(nl - rest->data) - at : rest->len - at;

        if ((rc = ss_buf_append(&cur, stamp, (size_t)n)) == 0 &&
            (rc = ss_buf_putc(&cur, ' ')) == 0 &&
            (rc = ss_buf_append(&cur, rest->data + at, len)) == 0)
            rc = ss_buf_putc(&cur, '\n');
        at += len + 1;
    }
    if (rc == 0)
        rc = ss_buf_append(&all, l->prev.data, l->prev.len);
    if (rc == 0)
        rc = ss_buf_append(&all, cur.data, cur.len);
    if (rc == 0)
        rc = ss_io_write_atomic(l->dir, l->name, all.data, all.len);
    if (rc == 0) {
        ss_buf_release(&l->prev);
        l->prev = cur;
        cur = (struct ss_buf){0};
    }
    ss_buf_release(&cur);
    ss_buf_release(&all);
    return rc;
}

int
ss_ledger_log(struct ss_ledger *l, int64_t time,
              int (*snap)(const void *ctx, struct ss_buf *b), const void *ctx)
{
    struct ss_buf cur = {0};
    int rc;

    if ((rc = snap(ctx, &cur)) == 0)
        rc = ss_ledger_write(l, time, &cur);
    ss_buf_release(&cur);
    if (rc < 0)
        return ss_diag_err(rc,
                           "--wal: cannot write '%s/%s' (batch %" PRId64
                           " is logged without where the source stands: a "
                           "restart may read its messages again)",
                           l->dir, l->name, time);
    return 0;
}

void
ss_ledger_release(struct ss_ledger *l)
{
    ss_buf_release(&l->prev);
}
