/* recv.c - what every receiver shares: one record added within the
 * limits, a byte stream fed within the --max-rate budget, a libuv stream
 * read to its end, backoff. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "io.h"
#include "recv_kit.h"

void
ss_recv_end(struct ss_recv *r, int rc)
{
    if (r->ended)
        return;
    r->ended = 1;
    r->host->ended(r->host, r, rc);
}

/* ---- one whole record ---- */

/* The splitter's rule for a record that cannot go on (lib/splitter.c):
 * reported with its place, kept in --rejects, and counted in the batch's
 * records so that the places of the records after it stay right. */
void
ss_recv_reject(struct ss_recv *r, const char *key, size_t klen, const char *val,
               size_t vlen, const char *why)
{
    struct ss_batcher *b = r->host->b;
    struct ss_rec rec = {key, klen, val, vlen};

    ss_rejects_record(b->rej, b->time, b->batch_records + 1, &rec, "%s: %s",
                      r->what, why);
    b->batch_records++;
}

static void
reject_long(struct ss_recv *r, const char *key, size_t klen, const char *val,
            size_t vlen)
{
    char why[64];

    snprintf(why, sizeof(why), "record longer than --max-record-bytes (%zu)",
             r->host->max_record);
    ss_recv_reject(r, key, klen, val, vlen, why);
}

/* A message as a row (--format, --event-time): its value is the row whole;
 * the key was refused with --format (sstream-source --kafka-key). */
static int
add_row(struct ss_recv *r, const char *val, size_t vlen)
{
    struct ss_recv_host *h = r->host;

    if (h->rows == NULL) {
        if ((h->rows = malloc(sizeof(*h->rows))) == NULL)
            return -ENOMEM;
        ss_splitter_init(h->rows, h->b, r->what, '\n', h->max_record, 0, 1);
        h->rows->messages = 1;
    }
    h->rows->name = r->what;
    return ss_splitter_message(h->rows, val, vlen);
}

int
ss_recv_add(struct ss_recv *r, const char *key, size_t klen, const char *val,
            size_t vlen)
{
    struct ss_recv_host *h = r->host;
    int rc;

    if (h->broken)
        return 1;
    if (!h->stopping && ss_batcher_spent(h->b))
        return 0;
    if (klen > h->max_record || vlen > h->max_record - klen) {
        reject_long(r, key, klen, val, vlen);
        return 1;
    }
    if (h->b->fmt != SS_FIELDS_LINES || h->b->ev != NULL)
        rc = add_row(r, val, vlen);
    else
        rc = ss_batcher_add_kv(h->b, key, klen, val, vlen);
    return rc < 0 ? rc : 1;
}

void
ss_recv_host_release(struct ss_recv_host *h)
{
    if (h->rows != NULL)
        ss_splitter_release(h->rows);
    free(h->rows);
    h->rows = NULL;
}

/* ---- one byte stream ---- */

void
ss_recv_in_init(struct ss_recv_in *in, struct ss_recv_host *h, const char *name)
{
    memset(in, 0, sizeof(*in));
    in->host = h;
    ss_splitter_init(&in->sp, h->b, name, h->delim, h->max_record,
                     h->record_bytes, h->keep_cr);
}

/* Feed what is pending; 1 when it all went in. */
static int
drain(struct ss_recv_in *in)
{
    ssize_t used;

    if (in->pending.len == 0)
        return 1;
    used = ss_splitter_feed_some(&in->sp, in->pending.data, in->pending.len);
    if (used < 0)
        return (int)used;
    ss_buf_consume(&in->pending, (size_t)used);
    return in->pending.len == 0;
}

int
ss_recv_in_feed(struct ss_recv_in *in, const char *p, size_t n)
{
    ssize_t used;
    int rc;

    if ((rc = drain(in)) <= 0) {
        if (rc == 0)
            rc = ss_buf_append(&in->pending, p, n);
        return rc < 0 ? rc : 0;
    }
    if ((used = ss_splitter_feed_some(&in->sp, p, n)) < 0)
        return (int)used;
    if ((size_t)used == n)
        return 1;
    /* The budget ran out mid-chunk: keep the rest for later. The chunk
     * is the host's and is reused by the next read. */
    rc = ss_buf_append(&in->pending, p + used, n - (size_t)used);
    return rc < 0 ? rc : 0;
}

int
ss_recv_in_finish(struct ss_recv_in *in)
{
    struct ss_batcher *b = in->host->b;
    int limited = b->limited, rc;

    if (in->host->broken)
        return 0;
    b->limited = 0; /* what was received is not lost to the budget */
    rc = drain(in);
    b->limited = limited;
    if (rc < 0)
        return rc;
    return ss_splitter_eof(&in->sp);
}

void
ss_recv_in_release(struct ss_recv_in *in)
{
    ss_splitter_release(&in->sp);
    ss_buf_release(&in->pending);
}

/* ---- a libuv stream ---- */

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct ss_recv_conn *c = h->data;

    (void)hint;
    *buf = uv_buf_init(c->owner->host->chunk, SS_RECV_CHUNK);
}

static void conn_fatal(struct ss_recv_conn *c, int rc);

static void
finish(struct ss_recv_conn *c, int status)
{
    int rc;

    c->done = 1;
    uv_read_stop(&c->u.stream);
    if ((rc = ss_recv_in_finish(&c->in)) < 0)
        conn_fatal(c, rc);
    else
        c->end(c, status);
}

/* Records could not be added: that is the stream's end, not this input's. */
static void
conn_fatal(struct ss_recv_conn *c, int rc)
{
    c->done = 1;
    uv_read_stop(&c->u.stream);
    c->owner->host->fatal(c->owner->host, rc);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct ss_recv_conn *c = s->data;
    int rc;

    if (n > 0) {
        rc = ss_recv_in_feed(&c->in, buf->base, (size_t)n);
        if (rc < 0) {
            conn_fatal(c, rc);
        } else if (rc == 0) {
            /* Read no further: the producer is held back by the kernel's
             * socket or pipe buffer until the budget is refilled. */
            uv_read_stop(s);
            c->paused = 1;
            c->owner->host->throttled(c->owner->host, c->owner);
        }
    } else if (n < 0) {
        finish(c, n == UV_EOF ? 0 : (int)n);
    }
}

int
ss_recv_conn_start(struct ss_recv_conn *c, struct ss_recv *owner,
                   const char *name, void (*end)(struct ss_recv_conn *, int))
{
    c->owner = owner;
    c->end = end;
    c->paused = c->done = 0;
    c->u.handle.data = c;
    ss_recv_in_init(&c->in, owner->host, name);
    return uv_read_start(&c->u.stream, on_alloc, on_read);
}

void
ss_recv_conn_resume(struct ss_recv_conn *c)
{
    int rc;

    if (!c->paused || c->done)
        return;
    if ((rc = ss_recv_in_feed(&c->in, "", 0)) < 0) {
        conn_fatal(c, rc);
    } else if (rc == 1) {
        c->paused = 0;
        uv_read_start(&c->u.stream, on_alloc, on_read);
    } else {
        c->owner->host->throttled(c->owner->host, c->owner);
    }
}

void
ss_recv_conn_stop(struct ss_recv_conn *c)
{
    if (c->done)
        return;
    c->done = 1;
    uv_read_stop(&c->u.stream);
    if (ss_recv_in_finish(&c->in) < 0)
        c->owner->host->troubles++;
}

/* ---- a regular file ---- */

static void
file_fatal(struct ss_recv_file *f, int rc)
{
    uv_idle_stop(&f->idle);
    f->paused = 0;
    f->owner->host->fatal(f->owner->host, rc);
}

static void
file_done(struct ss_recv_file *f, int status)
{
    int rc;

    uv_idle_stop(&f->idle);
    f->paused = 0;
    if ((rc = ss_recv_in_finish(&f->in)) < 0)
        file_fatal(f, rc);
    else
        f->end(f, status);
}

/* One chunk; 1 to go on, 0 when paused or done. */
static int
file_step(struct ss_recv_file *f)
{
    struct ss_recv_host *h = f->owner->host;
    ssize_t n = ss_io_read(f->fd, h->chunk, SS_RECV_CHUNK);
    int rc;

    if (n <= 0) {
        file_done(f, (int)n);
        return 0;
    }
    if ((rc = ss_recv_in_feed(&f->in, h->chunk, (size_t)n)) < 0) {
        file_fatal(f, rc);
        return 0;
    }
    if (rc == 0) {
        uv_idle_stop(&f->idle);
        f->paused = 1;
        h->throttled(h, f->owner);
        return 0;
    }
    return 1;
}

static void
on_idle(uv_idle_t *idle)
{
    struct ss_recv_file *f = idle->data;

    /* whole: no batch boundary falls inside the file (the batch's parts go
     * to the write-ahead log, not to memory). file_step() returns 0 at the
     * file's end, so a next file waits for the next turn. */
    while (file_step(f) && f->whole)
        ;
}

int
ss_recv_file_init(struct ss_recv_file *f, struct ss_recv *owner,
                  void (*end)(struct ss_recv_file *, int))
{
    memset(f, 0, sizeof(*f));
    f->fd = -1;
    f->owner = owner;
    f->end = end;
    f->idle.data = f;
    ss_recv_in_init(&f->in, owner->host, owner->what);
    return uv_idle_init(owner->host->loop, &f->idle);
}

void
ss_recv_file_read(struct ss_recv_file *f, int fd, const char *name)
{
    f->fd = fd;
    f->in.sp.name = name;
    ss_splitter_restart(&f->in.sp); /* a header per file (--format) */
    f->paused = 0;
    uv_idle_start(&f->idle, on_idle);
}

void
ss_recv_file_resume(struct ss_recv_file *f)
{
    int rc;

    if (!f->paused)
        return;
    if ((rc = ss_recv_in_feed(&f->in, "", 0)) < 0) {
        file_fatal(f, rc);
    } else if (rc == 1) {
        f->paused = 0;
        uv_idle_start(&f->idle, on_idle);
    } else {
        f->owner->host->throttled(f->owner->host, f->owner);
    }
}

void
ss_recv_file_drain(struct ss_recv_file *f)
{
    struct ss_batcher *b = f->owner->host->b;
    int limited = b->limited;

    if (f->owner->host->broken)
        return;
    b->limited = 0;
    f->paused = 0;
    while (f->fd >= 0 && file_step(f))
        ;
    b->limited = limited;
}

void
ss_recv_file_stop(struct ss_recv_file *f)
{
    uv_idle_stop(&f->idle);
    if (f->fd >= 0 && ss_recv_in_finish(&f->in) < 0)
        f->owner->host->troubles++;
}
