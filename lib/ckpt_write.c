/* ckpt_write.c - writing checkpoints: snapshots, delta log entries,
 * their commit and the pruning of old generations (ckpt.h; the file
 * layout is in ckpt.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "bytes.h"
#include "ckpt.h"
#include "ckpt_int.h"
#include "diag.h"
#include "dur.h"
#include "frame.h"
#include "io.h"

/* ---- writing ---- */

int
ss_ckpt_want_snapshot(const struct ss_ckpt *c, int64_t time)
{
    if (c->logfd < 0)
        return 1;
    if (c->interval_ms > 0)
        return time - c->snap_time >= c->interval_ms;
    return c->log_bytes > c->snap_bytes;
}

/* Write p[0..n) to fd, crashing halfway for the test hook. */
static int
write_hooked(int fd, const char *p, size_t n)
{
    int rc = ss_io_write_all(fd, p, n / 2);

    if (rc == 0) {
        ss_io_test_crash(SS_IO_CRASH_CKPT_WRITE);
        rc = ss_io_write_all(fd, p + n / 2, n - n / 2);
    }
    return rc;
}

int
ss_ckpt_snap_begin(struct ss_ckpt *c, int64_t time,
                   const struct ss_ckpt_opt *opts, size_t nopts)
{
    char h[SS_CKPT_HEADER_LEN];
    int rc;

    ss_buf_reset(&c->w);
    ss_ckpt__make_header(h, KIND_SNAP, 0, time, 0);
    if ((rc = ss_buf_append(&c->w, h, sizeof(h))) < 0 ||
        (rc = ss_bytes_append_varint(&c->w, nopts)) < 0)
        return rc;
    for (size_t i = 0; i < nopts; i++)
        if ((rc = ss_ckpt_put_bytes(&c->w, opts[i].name,
                                    strlen(opts[i].name))) < 0 ||
            (rc = ss_ckpt_put_bytes(&c->w, opts[i].value,
                                    strlen(opts[i].value))) < 0)
            return rc;
    /* Counts are not known yet: fixed-size slots, filled in later. */
    c->count_at = c->w.len;
    c->blob_at = 0;
    c->nrec = c->nblob = 0;
    return ss_buf_append(&c->w, "\0\0\0\0\0\0\0\0", 8);
}

int
ss_ckpt_snap_put(struct ss_ckpt *c, const char *k, size_t klen, const char *v,
                 size_t vlen)
{
    int rc;

    if ((rc = ss_ckpt_put_bytes(&c->w, k, klen)) < 0 ||
        (rc = ss_ckpt_put_bytes(&c->w, v, vlen)) < 0)
        return rc;
    c->nrec++;
    return 0;
}

/* The first blob closes the record list with the blob count's slot. */
static int
blob_slot(struct ss_ckpt *c)
{
    if (c->blob_at != 0)
        return 0;
    c->blob_at = c->w.len;
    return ss_buf_append(&c->w, "\0\0\0\0\0\0\0\0", 8);
}

/* A string of two parts, h then p, as one. */
static int
put_bytes2(struct ss_buf *b, const void *h, size_t hn, const void *p, size_t n)
{
    int rc;

    if (n > SIZE_MAX - hn)
        return -EOVERFLOW;
    if ((rc = ss_bytes_append_varint(b, hn + n)) < 0 ||
        (rc = ss_buf_append(b, h, hn)) < 0)
        return rc;
    return ss_buf_append(b, p, n);
}

int
ss_ckpt_snap_blob2(struct ss_ckpt *c, int64_t time, const void *h, size_t hn,
                   const void *p, size_t n)
{
    char t[8];
    int rc;

    if ((rc = blob_slot(c)) < 0)
        return rc;
    ss_bytes_put_le(t, (uint64_t)time, 8);
    if ((rc = ss_buf_append(&c->w, t, 8)) < 0 ||
        (rc = put_bytes2(&c->w, h, hn, p, n)) < 0)
        return rc;
    c->nblob++;
    return 0;
}

int
ss_ckpt_snap_blob(struct ss_ckpt *c, int64_t time, const void *p, size_t n)
{
    return ss_ckpt_snap_blob2(c, time, NULL, 0, p, n);
}

static void
prune(struct ss_ckpt *c)
{
    uint64_t *gens = NULL;
    ssize_t n = ss_ckpt__list_snaps(c, &gens);
    char name[NAME_MAX_LEN];

    /* Remove generations older than the SS_CKPT_KEEP newest snapshots,
     * logs included; a log without a kept snapshot is no use alone. */
    if (n > SS_CKPT_KEEP) {
        uint64_t oldest = gens[n - SS_CKPT_KEEP];

        for (uint64_t g = 1; g < oldest; g++) {
            ss_ckpt__gen_name(name, g, "snap");
            unlinkat(c->dirfd, name, 0);
            ss_ckpt__gen_name(name, g, "log");
            unlinkat(c->dirfd, name, 0);
        }
    }
    free(gens);
}

/* Write c->w as file 'name' (snapshot or log) through a temporary file;

 * 0, or SS_REPORTED after reporting. With 'keep', *fd gets the file, open for
 * appending to. */
static int
write_file(struct ss_ckpt *c, const char *name, int *keep)
{
    struct ss_io_tmp t;
    int rc;

    if ((rc = ss_io_tmp_open(&t, c->dirfd, name)) == 0 &&
        (rc = write_hooked(t.fd, c->w.data, c->w.len)) == 0 &&
        (rc = ss_io_tmp_sync(&t)) == 0) {
        ss_io_test_crash(SS_IO_CRASH_CKPT_RENAME);
        rc = ss_io_tmp_commit(&t, name);
    }
    if (rc == 0 && keep != NULL) {
        *keep = t.fd;
        t.fd = -1;
    }
    ss_io_tmp_close(&t);
    if (rc < 0)
        return ss_diag_err(rc, "checkpoint '%s/%s'", c->dir, name);
    c->written += c->w.len;
    return 0;
}

/* Fill in the length and checksum of the delta entry in c->d: 0, or
 * SS_REPORTED when there is none (or it is too large). */
static int
seal_delta(struct ss_ckpt *c)
{
    char *h = c->d.data;
    size_t blen;

    if (c->d.len < SS_CKPT_ENTRY_LEN ||
        (blen = c->d.len - SS_CKPT_ENTRY_LEN) > UINT32_MAX)
        return ss_diag("checkpoint '%s': internal: no delta to write", c->dir);
    ss_bytes_put_le(h + 4, (uint32_t)blen, 4);
    ss_bytes_put_le(h + 16, (uint64_t)XXH64(h, 16, XXH64(h + 24, blen, 0)), 8);
    return 0;
}

int
ss_ckpt_snap_commit(struct ss_ckpt *c)
{
    char name[NAME_MAX_LEN], h[SS_CKPT_HEADER_LEN];
    uint64_t gen = c->max_gen + 1;
    int64_t time = (int64_t)ss_bytes_get_le(c->w.data + 16, 8);
    int fd, rc, lead;

    if ((rc = blob_slot(c)) < 0)
        return rc;
    ss_bytes_put_le(c->w.data + c->count_at, (uint64_t)c->nrec, 8);
    ss_bytes_put_le(c->w.data + c->blob_at, (uint64_t)c->nblob, 8);
    ss_ckpt__make_header(h, KIND_SNAP, gen, time,
                         c->w.len - SS_CKPT_HEADER_LEN);
    memcpy(c->w.data, h, sizeof(h));
    ss_bytes_put_le(c->w.data + 32,
                    (uint64_t)ss_ckpt__sum_file(c->w.data, c->w.len), 8);
    ss_ckpt__gen_name(name, gen, "snap");
    if (write_file(c, name, NULL) < 0)
        return SS_REPORTED;
    c->snap_bytes = c->w.len;
    c->snap_time = time;

    /* The log of this generation: a header, then this batch's delta, then
     * entries appended. Led by the delta, the log begins where the one
     * before ends (c->time), so that if this snapshot turns out corrupt,
     * the one before it and the logs give this state exactly. */
    lead = c->d.len >= SS_CKPT_ENTRY_LEN &&
           (int64_t)ss_bytes_get_le(c->d.data + 8, 8) == time &&
           seal_delta(c) == 0;
    ss_ckpt__make_header(h, KIND_LOG, gen, lead ? c->time : time, 0);
    ss_bytes_put_le(h + 32, (uint64_t)ss_ckpt__sum_file(h, sizeof(h)), 8);
    ss_buf_reset(&c->w);
    ss_buf_append(&c->w, h, sizeof(h));
    if (lead && (rc = ss_buf_append(&c->w, c->d.data, c->d.len)) < 0)
        return rc;
    ss_buf_reset(&c->d);
    ss_ckpt__gen_name(name, gen, "log");
    if (write_file(c, name, &fd) < 0)
        return SS_REPORTED;
    if (c->logfd >= 0)
        close(c->logfd);
    c->logfd = fd;
    c->gen = c->max_gen = gen;
    c->log_bytes = sizeof(h); /* the lead delta is in the snapshot too */
    c->time = time;
    prune(c);
    return 0;
}

void
ss_ckpt_delta_begin(struct ss_ckpt *c, int64_t time)
{
    char h[SS_CKPT_ENTRY_LEN] = {0};

    ss_buf_reset(&c->d);
    memcpy(h, SS_CKPT_LOG_MAGIC, 4);
    ss_bytes_put_le(h + 8, (uint64_t)time, 8);
    ss_buf_append(&c->d, h, sizeof(h));
}

int
ss_ckpt_delta_put(struct ss_ckpt *c, const char *k, size_t klen, const char *v,
                  size_t vlen)
{
    int rc;

    if ((rc = ss_buf_putc(&c->d, OP_PUT)) < 0 ||
        (rc = ss_ckpt_put_bytes(&c->d, k, klen)) < 0)
        return rc;
    return ss_ckpt_put_bytes(&c->d, v, vlen);
}

int
ss_ckpt_delta_del(struct ss_ckpt *c, const char *k, size_t klen)
{
    int rc;

    if ((rc = ss_buf_putc(&c->d, OP_DEL)) < 0)
        return rc;
    return ss_ckpt_put_bytes(&c->d, k, klen);
}

int
ss_ckpt_delta_blob2(struct ss_ckpt *c, const void *h, size_t hn, const void *p,
                    size_t n)
{
    int rc;

    if ((rc = ss_buf_putc(&c->d, OP_BLOB)) < 0)
        return rc;
    return put_bytes2(&c->d, h, hn, p, n);
}

int
ss_ckpt_delta_blob(struct ss_ckpt *c, const void *p, size_t n)
{
    return ss_ckpt_delta_blob2(c, NULL, 0, p, n);
}

int
ss_ckpt_delta_commit(struct ss_ckpt *c)
{
    int rc;

    if (c->logfd < 0)
        return ss_diag("checkpoint '%s': internal: delta without a log",
                       c->dir);
    if ((rc = seal_delta(c)) < 0)
        return rc;
    rc = write_hooked(c->logfd, c->d.data, c->d.len);
    if (rc == 0 && fdatasync(c->logfd) < 0)
        rc = -errno;
    if (rc < 0) {
        char name[NAME_MAX_LEN];

        ss_ckpt__gen_name(name, c->gen, "log");
        return ss_diag_err(rc, "checkpoint '%s/%s'", c->dir, name);
    }
    c->time = (int64_t)ss_bytes_get_le(c->d.data + 8, 8);
    c->log_bytes += c->d.len;
    c->written += c->d.len;
    ss_buf_reset(&c->d);
    return 0;
}
