/* source.c - sstream-source: stdin or replay into timed batches.
 *
 * Live input runs on a libuv loop: the input stream's read callback feeds
 * the splitter, a timer closes each batch at its batch time, and
 * SIGINT/SIGTERM close the open batch early and end the stream. Frames are
 * written with blocking writes from the callbacks: while the reader
 * downstream is slow the loop waits and reads nothing, so the producer is
 * held back by the pipe instead of filling our memory.
 *
 * Replay needs no clock: file i of the folder is batch start + (i+1) * -b.
 */
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "batcher.h"
#include "diag.h"
#include "io.h"
#include "rejects.h"

#define READ_CHUNK (256 * 1024)

void
ss_source_config_init(struct ss_source_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->interval = 1000;
    cfg->delim = '\n';
    cfg->max_record = 1 << 20;
}

/* ---- replay ---- */

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular, non-hidden files of 'dir' in byte order of their names. */
static int
list_files(const char *dir, char ***names, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t cap = 0;

    *names = NULL;
    *n = 0;
    if (d == NULL)
        return ss_diag_err(-errno, "--replay: cannot open '%s'", dir);
    while ((e = readdir(d)) != NULL) {
        struct stat st;

        if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, 0) < 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (*n == cap) {
            char **p = realloc(*names, (cap = cap ? cap * 2 : 64) * sizeof(*p));

            if (p == NULL)
                break;
            *names = p;
        }
        if (((*names)[*n] = strdup(e->d_name)) == NULL)
            break;
        (*n)++;
    }
    closedir(d);
    if (e != NULL)
        return ss_diag_err(-ENOMEM, "--replay: '%s'", dir);
    qsort(*names, *n, sizeof(**names), by_name);
    return 0;
}

static int
replay_file(struct ss_splitter *sp, const char *dir, const char *name,
            struct ss_buf *chunk)
{
    char path[4096];
    int fd, rc = 0;
    ssize_t r;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return ss_diag_err(-errno, "--replay: cannot open '%s'", path);
    sp->name = path;
    while ((r = ss_io_read(fd, chunk->data, chunk->cap)) > 0)
        if ((rc = ss_splitter_feed(sp, chunk->data, (size_t)r)) < 0)
            break;
    if (r < 0)
        rc = ss_diag_err((int)r, "--replay: cannot read '%s'", path);
    else if (rc == 0)
        rc = ss_splitter_eof(sp);
    sp->name = "--replay";
    close(fd);
    return rc;
}

static int
run_replay(const struct ss_source_config *cfg, struct ss_batcher *b)
{
    struct ss_splitter sp;
    struct ss_buf chunk = {0};
    char **names;
    size_t n, i;
    int rc;

    if ((rc = list_files(cfg->replay, &names, &n)) < 0)
        return rc;
    ss_splitter_init(&sp, b, "--replay", cfg->delim, cfg->max_record,
                     cfg->record_bytes);
    rc = ss_buf_reserve(&chunk, READ_CHUNK);
    b->time = cfg->start_time;
    for (i = 0; i < n && rc == 0; i++) {
        ss_batcher_open(b, cfg->start_time + (int64_t)(i + 1) * cfg->interval);
        rc = replay_file(&sp, cfg->replay, names[i], &chunk);
        if (rc == 0)
            rc = ss_batcher_close(b, 0);
    }
    if (rc == 0)
        rc = ss_batcher_finish(b);
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    ss_buf_release(&chunk);
    ss_splitter_release(&sp);
    return rc;
}

/* ---- live input on the libuv loop ---- */

struct live {
    uv_loop_t *loop;

    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tty_t tty;
        uv_tcp_t tcp;
    } in;

    uv_fs_t fsreq; /* for a regular file on stdin */
    int is_file;
    int64_t file_off;
    uv_timer_t timer;
    uv_signal_t sigint, sigterm;
    struct ss_batcher *b;
    struct ss_splitter sp;
    char *chunk;
    int rc;    /* first failure, kept for the exit status */
    int ended; /* end-of-stream sent */
};

static void
close_all(struct live *lv)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&lv->timer, (uv_handle_t *)&lv->sigint,
                         (uv_handle_t *)&lv->sigterm,
                         lv->is_file ? NULL : &lv->in.handle};

    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
        if (hs[i] != NULL && !uv_is_closing(hs[i]))
            uv_close(hs[i], NULL);
}

/* Close the open batch now, send end-of-stream and wind the loop down. */
static void
end_stream(struct live *lv, int rc)
{
    if (lv->ended)
        return;
    lv->ended = 1;
    if (lv->rc == 0)
        lv->rc = rc;
    if (lv->rc != -EPIPE) {
        int r = ss_splitter_eof(&lv->sp);

        if (r == 0)
            r = ss_batcher_close(lv->b, ss_batcher_now_ms());
        if (r == 0)
            r = ss_batcher_finish(lv->b);
        if (lv->rc == 0)
            lv->rc = r;
    }
    close_all(lv);
}

static void on_tick(uv_timer_t *t);

/* Wake at the open batch's time, read off the wall clock each time so
 * that the batches do not drift from their aligned times. */
static void
arm_timer(struct live *lv)
{
    int64_t wait = lv->b->time - ss_batcher_now_ms();

    uv_timer_start(&lv->timer, on_tick, wait > 0 ? (uint64_t)wait : 0, 0);
}

static void
on_tick(uv_timer_t *t)
{
    struct live *lv = t->data;
    int64_t now = ss_batcher_now_ms(), next;
    int rc;

    if (now < lv->b->time) { /* woke early: the clocks disagree by a hair */
        arm_timer(lv);
        return;
    }
    /* Close this batch, then one empty frame per interval the loop slept
     * through (a blocked pipe), so every interval still has its frame. */
    next = ss_batcher_align(now, lv->b->interval);
    if (next == lv->b->time)
        next += lv->b->interval;
    if ((rc = ss_batcher_close(lv->b, now)) == 0) {
        for (int64_t t = lv->b->time + lv->b->interval; t < next && rc == 0;
             t += lv->b->interval) {
            ss_batcher_open(lv->b, t);
            rc = ss_batcher_close(lv->b, now);
        }
    }
    if (rc < 0) {
        lv->ended = 1;
        lv->rc = rc;
        close_all(lv);
        return;
    }
    ss_batcher_open(lv->b, next);
    arm_timer(lv);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct live *lv = h->data;

    (void)hint;
    /* One chunk, reused: the read callback consumes it before returning. */
    *buf = uv_buf_init(lv->chunk, READ_CHUNK);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct live *lv = s->data;
    int rc;

    if (n > 0) {
        if ((rc = ss_splitter_feed(&lv->sp, buf->base, (size_t)n)) < 0)
            end_stream(lv, rc);
    } else if (n == UV_EOF) {
        end_stream(lv, 0);
    } else if (n < 0) {
        ss_diag("stdin: %s", uv_strerror((int)n));
        end_stream(lv, -1);
    }
}

static void on_file_read(uv_fs_t *req);

static void
read_file_next(struct live *lv)
{
    uv_buf_t buf = uv_buf_init(lv->chunk, READ_CHUNK);

    uv_fs_read(lv->loop, &lv->fsreq, STDIN_FILENO, &buf, 1, -1, on_file_read);
}

static void
on_file_read(uv_fs_t *req)
{
    struct live *lv = req->data;
    ssize_t n = req->result;
    int rc;

    uv_fs_req_cleanup(req);
    if (lv->ended)
        return;
    if (n > 0) {
        if ((rc = ss_splitter_feed(&lv->sp, lv->chunk, (size_t)n)) < 0)
            end_stream(lv, rc);
        else
            read_file_next(lv);
    } else if (n == 0) {
        end_stream(lv, 0);
    } else {
        ss_diag("stdin: %s", uv_strerror((int)n));
        end_stream(lv, -1);
    }
}

static void
on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    end_stream(s->data, 0);
}

static int
open_stdin(struct live *lv)
{
    int rc;

    switch (uv_guess_handle(STDIN_FILENO)) {
    case UV_TTY:
        rc = uv_tty_init(lv->loop, &lv->in.tty, STDIN_FILENO, 1);
        break;
    case UV_NAMED_PIPE:
        if ((rc = uv_pipe_init(lv->loop, &lv->in.pipe, 0)) == 0)
            rc = uv_pipe_open(&lv->in.pipe, STDIN_FILENO);
        break;
    case UV_TCP:
        if ((rc = uv_tcp_init(lv->loop, &lv->in.tcp)) == 0)
            rc = uv_tcp_open(&lv->in.tcp, STDIN_FILENO);
        break;
    default: /* a regular file or a device: read it in the thread pool */
        lv->is_file = 1;
        lv->fsreq.data = lv;
        read_file_next(lv);
        return 0;
    }
    if (rc == 0) {
        lv->in.handle.data = lv;
        rc = uv_read_start(&lv->in.stream, on_alloc, on_read);
    }
    if (rc < 0)
        return ss_diag("stdin: %s", uv_strerror(rc));
    return 0;
}

static int
run_live(const struct ss_source_config *cfg, struct ss_batcher *b)
{
    struct live lv;
    int rc;

    memset(&lv, 0, sizeof(lv));
    lv.loop = uv_default_loop();
    lv.b = b;
    if ((lv.chunk = malloc(READ_CHUNK)) == NULL)
        return ss_diag_err(-ENOMEM, "stdin");
    ss_splitter_init(&lv.sp, b, "stdin", cfg->delim, cfg->max_record,
                     cfg->record_bytes);
    uv_timer_init(lv.loop, &lv.timer);
    uv_signal_init(lv.loop, &lv.sigint);
    uv_signal_init(lv.loop, &lv.sigterm);
    lv.timer.data = lv.sigint.data = lv.sigterm.data = &lv;
    uv_signal_start(&lv.sigint, on_signal, SIGINT);
    uv_signal_start(&lv.sigterm, on_signal, SIGTERM);
    ss_batcher_open(b, ss_batcher_align(ss_batcher_now_ms(), b->interval));
    arm_timer(&lv);
    if (open_stdin(&lv) < 0)
        end_stream(&lv, -1);
    uv_run(lv.loop, UV_RUN_DEFAULT);
    rc = lv.rc;
    uv_loop_close(lv.loop);
    ss_splitter_release(&lv.sp);
    free(lv.chunk);
    return rc;
}

int
ss_source_run(const struct ss_source_config *cfg)
{
    struct ss_rejects rej;
    struct ss_batcher b;
    int rc;

    if (ss_rejects_open(&rej, cfg->rejects) < 0)
        return -1;
    rej.delim = cfg->delim;
    ss_batcher_init(&b, STDOUT_FILENO, cfg->interval, &rej);
    rc = cfg->replay ? run_replay(cfg, &b) : run_live(cfg, &b);
    if (rc < 0 && rc != -1 && rc != -EPIPE)
        rc = ss_diag_err(rc, "stdout");
    if (ss_rejects_close(&rej) < 0 && rc == 0)
        rc = -1;
    if (rc != -EPIPE)
        ss_rejects_report(&rej);
    if (rc == 0 && ss_rejects_lost(&rej))
        rc = -1;
    ss_batcher_release(&b);
    return rc;
}
