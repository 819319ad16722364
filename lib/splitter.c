/* splitter.c - byte streams into records. */
#include "splitter.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "evtime.h"

void
ss_splitter_init(struct ss_splitter *s, struct ss_batcher *b, const char *name,
                 char delim, size_t max, size_t fixed, int keep_cr)
{
    memset(s, 0, sizeof(*s));
    s->b = b;
    s->name = name;
    s->delim = delim;
    s->max = max;
    s->fixed = fixed;
    s->crlf = delim == '\n' && fixed == 0 && !keep_cr;
}

/* Lines are rows of fields (--format), or carry their event time. */
static int
rows(const struct ss_splitter *s)
{
    return s->b->fmt != SS_FIELDS_LINES || s->b->ev != NULL;
}

/* A row that cannot be read, or has no usable event time: a reject,
 * named by its input and line. */
static int reject_row(struct ss_splitter *s, const char *p, size_t n,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
reject_row(struct ss_splitter *s, const char *p, size_t n, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ss_diag("%s: %s %" PRIu64 ": %s", s->name, s->messages ? "message" : "line",
            s->row->lineno, msg);
    ss_rejects_put(s->b->rej, NULL, 0, p, n);
    return 0;
}

/* The event time of the row just read, and the row into its batch. */
static int
take_timed(struct ss_splitter *s, const char *val, size_t vlen)
{
    const struct ss_evtime_config *cfg = s->b->ev->cfg;
    struct ss_fields_row *r = s->row;
    const char *tp;
    size_t tn;
    int64_t t;
    int rc;

    if ((rc = ss_fields_row_get(r, &cfg->field, &tp, &tn)) < 0)
        return rc;
    if (rc == 0)
        return reject_row(s, r->line, r->linelen, "--event-time: no field '%s'",
                          cfg->field.name);
    if (ss_timefmt_scan(&cfg->tf, tp, tn, &t) < 0)
        return reject_row(s, r->line, r->linelen,
                          "--event-time: '%.*s' is not a time in the "
                          "--time-format",
                          (int)(tn > 64 ? 64 : tn), tp);
    return ss_evtime_add(s->b->ev, t, val, vlen);
}

static int
take_row(struct ss_splitter *s, const char *p, size_t n)
{
    const char *why, *val;
    size_t vlen;
    int rc;

    if (s->row == NULL) {
        if ((s->row = malloc(sizeof(*s->row))) == NULL)
            return -ENOMEM;
        ss_fields_row_init(s->row, (enum ss_fields_format)s->b->fmt);
        /* checked by the caller (sstream-source --header): only memory
         * can fail here */
        if (s->b->header != NULL &&
            (rc = ss_fields_row_names(s->row, s->b->header, &why)) < 0)
            return rc == -EINVAL ? -ENOMEM : rc;
    }
    rc = ss_fields_row_read(s->row, p, n, &why);
    if (rc == -EINVAL)
        return reject_row(s, s->row->line, s->row->linelen, "%s", why);
    if (rc <= 0)
        return rc;
    val = ss_fields_row_value(s->row, &vlen);
    if (s->b->ev != NULL)
        return take_timed(s, val, vlen);
    return ss_batcher_add(s->b, val, vlen);
}

/* A whole line: a record, or a row to read. */
static int
take(struct ss_splitter *s, const char *p, size_t n)
{
    return rows(s) ? take_row(s, p, n) : ss_batcher_add(s->b, p, n);
}

/* With crlf, a record that ends in '\r' (the line ended with "\r\n", or
 * the input ended after a '\r'): 1 when the record made of the partial
 * and p[0..n) does. */
static size_t
ends_cr(const struct ss_splitter *s, const char *p, size_t n)
{
    if (!s->crlf)
        return 0;
    if (n > 0)
        return p[n - 1] == '\r';
    return s->partial.len > 0 && s->partial.data[s->partial.len - 1] == '\r';
}

/* An over-long record goes to the rejects as it arrives, so that memory
 * stays bounded by --max-record-bytes however long the line is. */
static void
reject_part(struct ss_splitter *s, const char *p, size_t n, int last)
{
    if (!s->overlong) {
        s->overlong = 1;
        ss_diag_rec(s->b->time, s->b->batch_records + 1,
                    "%s: record longer than --max-record-bytes (%zu)", s->name,
                    s->max);
        ss_rejects_put_part(s->b->rej, s->partial.data, s->partial.len, 0);
        ss_buf_reset(&s->partial);
    }
    ss_rejects_put_part(s->b->rej, p, n, last);
    if (last) {
        s->overlong = 0;
        s->b->batch_records++;
    }
}

/* No budget left for another record under --max-rate, or the batch is
 * full (--max-batch-records, --max-batch-bytes). */
static int
spent(const struct ss_splitter *s)
{
    return ss_batcher_spent(s->b);
}

static ssize_t
feed_fixed(struct ss_splitter *s, const char *p, size_t n)
{
    const char *start = p;
    int rc;

    while (n > 0 && !spent(s)) {
        size_t take = s->fixed - s->partial.len;

        if (s->partial.len == 0 && n >= s->fixed) {
            if ((rc = ss_batcher_add(s->b, p, s->fixed)) < 0)
                return rc;
            p += s->fixed;
            n -= s->fixed;
            continue;
        }
        if (take > n)
            take = n;
        if ((rc = ss_buf_append(&s->partial, p, take)) < 0)
            return rc;
        p += take;
        n -= take;
        if (s->partial.len == s->fixed) {
            rc = ss_batcher_add(s->b, s->partial.data, s->partial.len);
            ss_buf_reset(&s->partial);
            if (rc < 0)
                return rc;
        }
    }
    return p - start;
}

/* The record that started in an earlier chunk ends at p[n-1]. A '\r'
 * dropped (crlf) does not count against --max-record-bytes; a reject
 * keeps it, as it keeps every byte it was sent. */
static int
finish_partial(struct ss_splitter *s, const char *p, size_t n)
{
    size_t cr = ends_cr(s, p, n);
    int rc;

    if (s->overlong || s->partial.len + n - cr > s->max) {
        reject_part(s, p, n, 1);
        return 0;
    }
    if (cr && n > 0)
        n--;
    else if (cr)
        s->partial.len--;
    if (s->partial.len == 0)
        return take(s, p, n);
    if ((rc = ss_buf_append(&s->partial, p, n)) < 0)
        return rc;
    rc = take(s, s->partial.data, s->partial.len);
    ss_buf_reset(&s->partial);
    return rc;
}

ssize_t
ss_splitter_feed_some(struct ss_splitter *s, const char *p, size_t n)
{
    const char *start = p, *end = p + n, *nl;
    int rc;

    if (s->fixed > 0)
        return feed_fixed(s, p, n);
    for (;;) {
        /* Runs of short records go in many at a time; the one that stops
         * a run (long, cut by the chunk, over a limit) comes here. */
        if (s->partial.len == 0 && !s->overlong && !s->b->limited && !rows(s)) {
            ssize_t used = ss_batcher_add_lines(s->b, p, (size_t)(end - p),
                                                s->delim, s->crlf, s->max);

            if (used < 0)
                return used;
            p += used;
        }
        if ((nl = memchr(p, s->delim, (size_t)(end - p))) == NULL)
            break;
        if (spent(s))
            return p - start;
        if ((rc = finish_partial(s, p, (size_t)(nl - p))) < 0)
            return rc;
        p = nl + 1;
    }
    if (p == end)
        return p - start;
    /* A '\r' at the end may be the line's end, not one byte too many. */
    if (s->overlong ||
        s->partial.len + (size_t)(end - p) - ends_cr(s, p, (size_t)(end - p)) >
            s->max) {
        reject_part(s, p, (size_t)(end - p), 0);
        return end - start;
    }
    if ((rc = ss_buf_append(&s->partial, p, (size_t)(end - p))) < 0)
        return rc;
    return end - start;
}

int
ss_splitter_feed(struct ss_splitter *s, const char *p, size_t n)
{
    ssize_t used = ss_splitter_feed_some(s, p, n);

    return used < 0 ? (int)used : 0;
}

int
ss_splitter_eof(struct ss_splitter *s)
{
    int rc = 0;

    if (s->overlong) {
        reject_part(s, "", 0, 1);
    } else if (s->partial.len > 0 && s->fixed > 0) {
        struct ss_rec r = {NULL, 0, s->partial.data, s->partial.len};

        ss_rejects_record(s->b->rej, s->b->time, s->b->batch_records + 1, &r,
                          "%s: %zu trailing bytes, short of --record-bytes %zu",
                          s->name, s->partial.len, s->fixed);
        s->b->batch_records++;
    } else if (s->partial.len > 0) {
        rc = take(s, s->partial.data, s->partial.len - ends_cr(s, "", 0));
    }
    ss_buf_reset(&s->partial);
    if (rc == 0 && s->row != NULL) {
        const char *why, *p;
        size_t n;

        if (ss_fields_row_eof(s->row, &why, &p, &n) < 0)
            rc = reject_row(s, p, n, "%s", why);
    }
    return rc;
}

int
ss_splitter_message(struct ss_splitter *s, const char *p, size_t n)
{
    const char *why;
    int rc;

    if ((rc = take_row(s, p, n)) < 0)
        return rc;
    if (ss_fields_row_eof(s->row, &why, &p, &n) < 0)
        return reject_row(s, p, n, "%s", why);
    return 0;
}

void
ss_splitter_restart(struct ss_splitter *s)
{
    if (s->row != NULL)
        ss_fields_row_restart(s->row);
}

void
ss_splitter_release(struct ss_splitter *s)
{
    ss_buf_release(&s->partial);
    if (s->row != NULL)
        ss_fields_row_release(s->row);
    free(s->row);
    s->row = NULL;
}
