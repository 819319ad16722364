/* out_files.c - --save-as-text-files PREFIX [--suffix S]: Spark's
 * saveAsTextFiles, one file per batch, empty batches included, named
 * PREFIX-TIME.S (PREFIX-TIME without a suffix), TIME the batch time in ms.
 *
 * Each file is written as a hidden temp file beside it (.NAME.tmp, which
 * sstream-source --watch ignores), fsync()ed and renamed into place, and
 * the folder fsync()ed: a reader sees the whole file or none, and a batch
 * written again (a replay after a crash) replaces it with the same bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "io.h"
#include "out.h"

#define FLUSH_BYTES (256 * 1024)

struct ofiles {
    struct ss_out o;
    const char *prefix, *suffix;
    int fd;
    char path[4096], tmp[4096], dir[4096];
    struct ss_buf buf;
};

/* path = PREFIX-TIME[.S]; tmp = DIR/.BASE.tmp; dir = DIR. */
static int
names(struct ofiles *f, int64_t time)
{
    const char *slash;
    size_t n = sizeof(f->path);

    if ((size_t)snprintf(f->path, n, "%s-%" PRId64 "%s%s", f->prefix, time,
                         f->suffix ? "." : "", f->suffix ? f->suffix : "") >= n)
        return -ENAMETOOLONG;
    if ((slash = strrchr(f->path, '/')) == NULL) {
        strcpy(f->dir, ".");
        if ((size_t)snprintf(f->tmp, n, ".%s.tmp", f->path) >= n)
            return -ENAMETOOLONG;
    } else {
        snprintf(f->dir, n, "%.*s", (int)(slash - f->path + 1), f->path);
        if ((size_t)snprintf(f->tmp, n, "%s.%s.tmp", f->dir, slash + 1) >= n)
            return -ENAMETOOLONG;
    }
    return 0;
}

static int
fail(struct ofiles *f, int err)
{
    if (f->fd >= 0) {
        close(f->fd);
        unlink(f->tmp);
        f->fd = -1;
    }
    ss_buf_reset(&f->buf);
    return ss_diag_err(err, "--save-as-text-files: cannot write '%s'", f->path);
}

static int
flush(struct ofiles *f)
{
    int rc = ss_io_write_all(f->fd, f->buf.data, f->buf.len);

    ss_buf_reset(&f->buf);
    return rc;
}

static int
files_frame(struct ss_out *o, const struct ss_frame *fr, int first)
{
    struct ofiles *f = (struct ofiles *)o;
    int rc;

    if (first) {
        if ((rc = names(f, fr->time)) < 0)
            return fail(f, rc);
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (f->fd < 0)
            return fail(f, -errno);
    }
    if ((rc = ss_out_lines(&f->buf, fr)) < 0)
        return fail(f, rc);
    if (f->buf.len >= FLUSH_BYTES && (rc = flush(f)) < 0)
        return fail(f, rc);
    return 0;
}

static int
files_end(struct ss_out *o, int64_t time)
{
    struct ofiles *f = (struct ofiles *)o;
    int rc, dfd;

    (void)time;
    if ((rc = flush(f)) < 0)
        return fail(f, rc);
    if (fsync(f->fd) < 0)
        return fail(f, -errno);
    rc = close(f->fd);
    f->fd = -1;
    if (rc < 0)
        return fail(f, -errno);
    if (rename(f->tmp, f->path) < 0) {
        rc = -errno;
        unlink(f->tmp);
        return fail(f, rc);
    }
    /* The rename is durable once the folder is. */
    if ((dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return fail(f, -errno);
    rc = fsync(dfd) < 0 ? -errno : 0;
    close(dfd);
    return rc < 0 ? fail(f, rc) : 0;
}

static void
files_free(struct ss_out *o)
{
    struct ofiles *f = (struct ofiles *)o;

    if (f->fd >= 0) { /* the stream broke mid-batch: leave no temp file */
        close(f->fd);
        unlink(f->tmp);
    }
    ss_buf_release(&f->buf);
    free(f);
}

static const struct ss_out_ops files_ops = {files_frame, files_end, files_free};

int
ss_out_files_new(const char *prefix, const char *suffix, struct ss_out **out)
{
    struct ofiles *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return ss_diag_err(-ENOMEM, "--save-as-text-files");
    f->o.ops = &files_ops;
    f->prefix = prefix;
    f->suffix = suffix;
    f->fd = -1;
    *out = &f->o;
    return 0;
}
