/* out_foreach.c - --foreach CMD: Spark's foreachRDD, 'sh -c CMD' once per
 * batch (empty ones included) with the batch's records as lines on its
 * stdin and SSTREAM_BATCH_TIME=T in its environment; its stdout and
 * stderr are the sink's.
 *
 * The batch is spooled to an unlinked temp file as its frames arrive, so
 * memory stays bounded however large the batch, and a failed run can be
 * given the same stdin again: CMD is retried up to --retries times (after
 * 100ms, 200ms, 400ms ...), and if it still fails the sink stops, naming
 * the batch. Batches run one at a time, in order, as Spark runs them:
 * while CMD runs, the sink reads no more frames and the pipeline waits.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "diag.h"
#include "io.h"
#include "out.h"
#include "proc.h"

#define FLUSH_BYTES  (256 * 1024)
#define TIME_VAR     "SSTREAM_BATCH_TIME="
#define FIRST_WAIT   100 /* ms before the first retry; doubles */
#define MAX_WAIT_LOG 6   /* waits stop doubling at 6.4s */

struct oforeach {
    struct ss_out o;
    const char *cmd;
    unsigned retries;
    int spool; /* the batch's lines; -1 before the first batch */
    struct ss_buf buf;
    char timevar[48]; /* SSTREAM_BATCH_TIME=T for the command */
    /* SSTREAM_BATCH_UPDATE=add or replace, for an update frame
     * (man/sstream.5 "UPDATES"); unset for a batch */
    const char *updvar;
};

static int
spool_open(struct oforeach *x)
{
    const char *dir = getenv("TMPDIR");
    char path[PATH_MAX];
    int rc;

    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    if ((rc = ss_io_path(path, sizeof(path), dir, "sstream-foreach.XXXXXX")) ==
            0 &&
        (x->spool = mkstemp(path)) < 0)
        rc = -errno;
    if (rc < 0)
        return ss_diag_err(rc,
                           "--foreach: cannot create a temp file in "
                           "'%s'",
                           dir);
    unlink(path); /* gone when we are */
    return 0;
}

static int
flush(struct oforeach *x)
{
    int rc = ss_io_write_all(x->spool, x->buf.data, x->buf.len);

    ss_buf_reset(&x->buf);
    if (rc < 0)
        return ss_diag_err(rc, "--foreach: temp file");
    return 0;
}

static int
foreach_frame(struct ss_out *o, const struct ss_frame *f, int first)
{
    struct oforeach *x = (struct oforeach *)o;
    int rc;

    if (first && x->spool >= 0 && ftruncate(x->spool, 0) < 0)
        return ss_diag_err(-errno, "--foreach: temp file");
    if (first)
        x->updvar = !(f->flags & SS_FRAME_UPDATE) ? NULL
                    : (f->flags & SS_FRAME_WHOLE)
                        ? "SSTREAM_BATCH_UPDATE=replace"
                        : "SSTREAM_BATCH_UPDATE=add";
    if ((rc = ss_out_lines(&x->buf, f)) < 0)
        return ss_diag_err(rc, "--foreach");
    if (x->buf.len >= FLUSH_BYTES)
        return flush(x);
    return 0;
}

/* One run of CMD on the spooled batch, from its start; 0 with *st
 * filled, or a libuv code if it could not start. */
static int
run_once(struct oforeach *x, struct ss_proc_status *st)
{
    const char *env[] = {x->timevar, x->updvar, NULL};
    struct ss_proc_opts po = {
        .cmd = x->cmd,
        .env = env,
        .in_fd = x->spool,
        .out = NULL,
    };

    if (lseek(x->spool, 0, SEEK_SET) < 0)
        return -errno;
    return ss_proc_run(&po, st);
}

static int
foreach_end(struct ss_out *o, int64_t time)
{
    struct oforeach *x = (struct oforeach *)o;
    struct ss_proc_status st;
    char how[64];
    int rc;

    if ((rc = flush(x)) < 0)
        return rc;
    snprintf(x->timevar, sizeof(x->timevar), TIME_VAR "%" PRId64, time);
    for (unsigned attempt = 0;; attempt++) {
        if ((rc = run_once(x, &st)) < 0)
            return ss_diag("--foreach: batch %" PRId64 ": cannot run '%s': %s",
                           time, x->cmd, uv_strerror(rc));
        if (ss_proc_ok(&st))
            break;
        ss_proc_describe(&st, how, sizeof(how));
        if (attempt == x->retries)
            return ss_diag("--foreach: batch %" PRId64 ": '%s' %s%s", time,
                           x->cmd, how, x->retries ? " (retries used up)" : "");
        ss_diag("--foreach: batch %" PRId64 ": '%s' %s; retry %u of %u", time,
                x->cmd, how, attempt + 1, x->retries);
        uv_sleep(FIRST_WAIT
                 << (attempt < MAX_WAIT_LOG ? attempt : MAX_WAIT_LOG));
    }
    return 0;
}

static void
foreach_free(struct ss_out *o)
{
    struct oforeach *x = (struct oforeach *)o;

    if (x->spool >= 0)
        close(x->spool);
    ss_buf_release(&x->buf);
    free(x);
}

static const struct ss_out_ops foreach_ops = {foreach_frame, foreach_end,
                                              foreach_free};

int
ss_out_foreach_new(const char *cmd, unsigned retries, struct ss_out **out)
{
    struct oforeach *x = calloc(1, sizeof(*x));

    if (x == NULL)
        return ss_diag_err(-ENOMEM, "--foreach");
    x->o.ops = &foreach_ops;
    x->cmd = cmd;
    x->retries = retries;
    x->spool = -1;
    *out = &x->o;
    return spool_open(x);
}
