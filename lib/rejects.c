/* rejects.c - the --rejects file. */
#include "rejects.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "diag.h"
#include "io.h"

int
ss_rejects_open(struct ss_rejects *r, const char *path)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    r->delim = '\n';
    r->path = path;
    if (path == NULL)
        return 0;
    r->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (r->fd < 0)
        return ss_diag_err(-errno, "--rejects: cannot open '%s'", path);
    return 0;
}

void
ss_rejects_put(struct ss_rejects *r, const char *key, size_t klen,
               const char *val, size_t vlen)
{
    r->count++;
    if (r->fd < 0)
        return;
    if (key != NULL) {
        ss_buf_append(&r->out, key, klen);
        ss_buf_putc(&r->out, '\t');
    }
    ss_buf_append(&r->out, val, vlen);
    ss_buf_putc(&r->out, r->delim);
    r->kept++;
    if (r->out.len >= (1 << 16))
        ss_rejects_flush(r);
}

static void hold(struct ss_rejects *r, int64_t batch, uint64_t recno,
                 const struct ss_rec *rec, const char *why);

void
ss_rejects_record(struct ss_rejects *r, int64_t batch, uint64_t recno,
                  const struct ss_rec *rec, const char *fmt, ...)
{
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (r->held) {
        hold(r, batch, recno, rec, why);
        return;
    }
    ss_diag_rec(batch, recno, "%s", why);
    ss_rejects_put(r, rec->key, rec->klen, rec->val, rec->vlen);
}

/* A held reject as an entry of r->out: batch, record number, then the
 * message, key (its length + 1; 0 keyless) and value, each with its
 * length. Out of memory, the reject is counted and said at once (a
 * write(2) of a line, safe from any thread), so it is never lost
 * silently. */
static void
hold(struct ss_rejects *r, int64_t batch, uint64_t recno,
     const struct ss_rec *rec, const char *why)
{
    size_t wlen = strlen(why), n = 16 + 30 + wlen + rec->klen + rec->vlen;
    struct ss_buf *b = &r->out;

    if (ss_buf_reserve(b, n) < 0) {
        ss_diag_rec(batch, recno, "%s", why);
        r->count++;
        return;
    }
    ss_bytes_put_le(b->data + b->len, (uint64_t)batch, 8);
    ss_bytes_put_le(b->data + b->len + 8, recno, 8);
    b->len += 16;
    ss_bytes_append_varint(b, wlen);
    ss_buf_append(b, why, wlen);
    ss_bytes_append_varint(b, rec->key != NULL ? rec->klen + 1 : 0);
    if (rec->key != NULL)
        ss_buf_append(b, rec->key, rec->klen);
    ss_bytes_append_varint(b, rec->vlen);
    ss_buf_append(b, rec->val, rec->vlen);
}

void
ss_rejects_hold(struct ss_rejects *r)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    r->delim = '\n';
    r->held = 1;
}

void
ss_rejects_pass(struct ss_rejects *r, struct ss_rejects *to, uint64_t upto)
{
    const char *p, *end;

    if (r->out.len == 0) /* none held (data may be NULL) */
        return;
    p = r->out.data + r->next;
    end = r->out.data + r->out.len;

    while (p < end) {
        struct ss_rec rec = {NULL, 0, NULL, 0};
        uint64_t recno = ss_bytes_get_le(p + 8, 8), wlen, klen, vlen;
        int64_t batch = (int64_t)ss_bytes_get_le(p, 8);
        const char *q = p + 16, *why;

        if (recno > upto)
            break;
        /* our own entries: the lengths are sound */
        (void)ss_bytes_get_varint(&q, end, &wlen);
        why = q;
        q += wlen;
        (void)ss_bytes_get_varint(&q, end, &klen);
        if (klen > 0) {
            rec.key = q;
            rec.klen = (size_t)klen - 1;
            q += rec.klen;
        }
        (void)ss_bytes_get_varint(&q, end, &vlen);
        rec.val = q;
        rec.vlen = (size_t)vlen;
        p = q + vlen;
        ss_rejects_record(to, batch, recno, &rec, "%.*s", (int)wlen, why);
    }
    r->next = (size_t)(p - r->out.data);
    if (r->next == r->out.len) {
        ss_buf_reset(&r->out);
        r->next = 0;
    }
}

void
ss_rejects_value(struct ss_rejects *r, int64_t batch, uint64_t recno,
                 const struct ss_rec *rec, int err)
{
    const char *why = err == -ERANGE
                          ? "takes the sum out of the 64-bit integer range"
                          : "is not a number";

    ss_rejects_record(r, batch, recno, rec, "'%.*s' %s", (int)rec->vlen,
                      rec->val, why);
}

void
ss_rejects_put_part(struct ss_rejects *r, const char *p, size_t n, int last)
{
    if (last)
        r->count++;
    if (r->fd < 0)
        return;
    ss_buf_append(&r->out, p, n);
    if (last) {
        ss_buf_putc(&r->out, r->delim);
        r->kept++;
    }
    if (r->out.len >= (1 << 16))
        ss_rejects_flush(r);
}

int
ss_rejects_flush(struct ss_rejects *r)
{
    int rc;

    if (r->fd < 0 || r->out.len == 0)
        return 0;
    rc = ss_io_write_all(r->fd, r->out.data, r->out.len);
    ss_buf_reset(&r->out);
    if (rc < 0) {
        r->kept = 0; /* what was "kept" may not be there */
        return ss_diag_err(rc, "--rejects: cannot write '%s'", r->path);
    }
    return 0;
}

int
ss_rejects_close(struct ss_rejects *r)
{
    int rc = ss_rejects_flush(r);

    if (r->fd >= 0 && close(r->fd) < 0 && rc == 0)
        rc = ss_diag_err(-errno, "--rejects: cannot close '%s'", r->path);
    r->fd = -1;
    ss_buf_release(&r->out);
    return rc;
}

int
ss_rejects_lost(const struct ss_rejects *r)
{
    return r->count > r->kept;
}

void
ss_rejects_report(const struct ss_rejects *r)
{
    if (r->count == 0)
        return;
    if (!ss_rejects_lost(r))
        ss_diag("%llu rejected record%s kept in '%s'",
                (unsigned long long)r->count, r->count == 1 ? "" : "s",
                r->path);
    else
        ss_diag("%llu rejected record%s not kept (use --rejects FILE)",
                (unsigned long long)r->count, r->count == 1 ? "" : "s");
}
