/* recv_broker.c - what the receivers of message brokers (Kafka, MQTT,
 * NATS JetStream) share: a broker's reach said once each way, and the
 * ledger of positions beside the --wal log (see lib/recv_kit.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "io.h"
#include "recv_kit.h"

void
ss_recv_reach_lost(struct ss_recv_reach *rr, const char *reason)
{
    if (!rr->down)
        ss_diag("%s: cannot reach '%s' (%s): retrying", rr->opt, rr->where,
                reason);
    rr->down = 1;
}

void
ss_recv_reach_ok(struct ss_recv_reach *rr)
{
    if (rr->down)
        ss_diag("%s: '%s' reached", rr->opt, rr->where);
    rr->down = 0;
}

/* The batch time that opens a ledger line; 1 when there is one, and
 * *rest then points past it and its blank (at the NUL when none). */
static int
line_time(char *line, int64_t *time, char **rest)
{
    char *end;

    errno = 0;
    *time = strtoll(line, &end, 10);
    if (end == line || errno != 0 || (*end != ' ' && *end != '\0'))
        return 0;
    *rest = *end == ' ' ? end + 1 : end;
    return 1;
}

int
ss_recv_ledger_load(struct ss_recv_ledger *l, int64_t logged,
                    int (*line)(void *ctx, char *rest), void *ctx)
{
    struct ss_buf b = {0};
    char path[PATH_MAX], *rest;
    int64_t time, best = INT64_MIN;
    size_t at;
    int rc;

    if ((rc = ss_io_path(path, sizeof(path), l->dir, l->name)) < 0)
        return ss_diag_err(rc, "--wal: '%s'", l->dir);
    if ((rc = ss_io_slurp(path, &b)) < 0) {
        ss_buf_release(&b);
        return rc == -ENOENT ? 0 : ss_diag_err(rc, "--wal: '%s'", path);
    }
    if ((rc = ss_buf_putc(&b, '\0')) < 0)
        goto done;
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '\n')
            b.data[i] = '\0';
    for (at = 0; at + 1 < b.len; at += strlen(b.data + at) + 1)
        if (line_time(b.data + at, &time, &rest) && time <= logged &&
            time > best)
            best = time;
    for (at = 0; at + 1 < b.len && rc == 0; at += strlen(b.data + at) + 1) {
        char *text = b.data + at;
        size_t n = strlen(text);

        if (!line_time(text, &time, &rest) || time != best)
            continue;
        /* kept whole before line() may cut it up */
        if ((rc = ss_buf_append(&l->prev, text, n)) == 0 &&
            (rc = ss_buf_putc(&l->prev, '\n')) == 0 && *rest != '\0')
            rc = line(ctx, rest);
    }
done:
    ss_buf_release(&b);
    return rc < 0 ? ss_diag_err(rc, "--wal: '%s'", path) : 0;
}

int
ss_recv_ledger_write(struct ss_recv_ledger *l, int64_t time,
                     const struct ss_buf *rest)
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

void
ss_recv_ledger_release(struct ss_recv_ledger *l)
{
    ss_buf_release(&l->prev);
}
