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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "diag.h"
#include "io.h"
#include "out.h"

#define FLUSH_BYTES  (256 * 1024)
#define TIME_VAR     "SSTREAM_BATCH_TIME="
#define FIRST_WAIT   100 /* ms before the first retry; doubles */
#define MAX_WAIT_LOG 6   /* waits stop doubling at 6.4s */

extern char **environ;

struct oforeach {
    struct ss_out o;
    const char *cmd;
    unsigned retries;
    int spool; /* the batch's lines; -1 before the first batch */
    struct ss_buf buf;
    uv_loop_t loop;
    char **env; /* environ without SSTREAM_BATCH_TIME, then ours, NULL */
    char timevar[48];
    int64_t status; /* of the last run */
    int signal;
};

static int
spool_open(struct oforeach *x)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];

    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    snprintf(path, sizeof(path), "%s/sstream-foreach.XXXXXX", dir);
    if ((x->spool = mkstemp(path)) < 0)
        return ss_diag_err(-errno,
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
    if ((rc = ss_out_lines(&x->buf, f)) < 0)
        return ss_diag_err(rc, "--foreach");
    if (x->buf.len >= FLUSH_BYTES)
        return flush(x);
    return 0;
}

static void
on_exit_cb(uv_process_t *p, int64_t status, int signal)
{
    struct oforeach *x = p->data;

    x->status = status;
    x->signal = signal;
    uv_close((uv_handle_t *)p, NULL);
}

/* One run of CMD on the spooled batch; 0, or a libuv code if it could not
 * start. The outcome is in x->status and x->signal. */
static int
run_once(struct oforeach *x)
{
    char *args[] = {"sh", "-c", (char *)x->cmd, NULL};
    uv_stdio_container_t stdio[3];
    uv_process_options_t opt;
    uv_process_t proc;
    int rc;

    if (lseek(x->spool, 0, SEEK_SET) < 0)
        return -errno;
    memset(&opt, 0, sizeof(opt));
    opt.file = "/bin/sh";
    opt.args = args;
    opt.env = x->env;
    opt.exit_cb = on_exit_cb;
    opt.stdio = stdio;
    opt.stdio_count = 3;
    stdio[0].flags = UV_INHERIT_FD;
    stdio[0].data.fd = x->spool;
    stdio[1].flags = UV_INHERIT_FD;
    stdio[1].data.fd = STDOUT_FILENO;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = STDERR_FILENO;
    proc.data = x;
    if ((rc = uv_spawn(&x->loop, &proc, &opt)) < 0) {
        uv_close((uv_handle_t *)&proc, NULL);
        uv_run(&x->loop, UV_RUN_DEFAULT);
        return rc;
    }
    uv_run(&x->loop, UV_RUN_DEFAULT); /* until it exits and is closed */
    return 0;
}

static void
outcome(const struct oforeach *x, char *buf, size_t n)
{
    if (x->signal != 0)
        snprintf(buf, n, "killed by signal %d", x->signal);
    else
        snprintf(buf, n, "exited with status %" PRId64, x->status);
}

static int
foreach_end(struct ss_out *o, int64_t time)
{
    struct oforeach *x = (struct oforeach *)o;
    char how[64];
    int rc;

    if ((rc = flush(x)) < 0)
        return rc;
    snprintf(x->timevar, sizeof(x->timevar), TIME_VAR "%" PRId64, time);
    for (unsigned attempt = 0;; attempt++) {
        if ((rc = run_once(x)) < 0)
            return ss_diag("--foreach: batch %" PRId64 ": cannot run '%s': %s",
                           time, x->cmd, uv_strerror(rc));
        if (x->status == 0 && x->signal == 0)
            break;
        outcome(x, how, sizeof(how));
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
    uv_loop_close(&x->loop);
    ss_buf_release(&x->buf);
    free(x->env);
    free(x);
}

static const struct ss_out_ops foreach_ops = {foreach_frame, foreach_end,
                                              foreach_free};

/* Our environment with SSTREAM_BATCH_TIME last, pointing at x->timevar. */
static int
make_env(struct oforeach *x)
{
    size_t n = 0, k = 0;

    while (environ[n] != NULL)
        n++;
    if ((x->env = calloc(n + 2, sizeof(char *))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], TIME_VAR, strlen(TIME_VAR)) != 0)
            x->env[k++] = environ[i];
    x->env[k] = x->timevar;
    return 0;
}

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
    uv_loop_init(&x->loop);
    if (make_env(x) < 0)
        return ss_diag_err(-ENOMEM, "--foreach");
    return spool_open(x);
}
