/* window.c - sliding, tumbling and session windows over frames.
 *
 * Time (DESIGN.md "Time"): the batch at time T holds (T - interval, T].
 * A pane of G ms ends on a multiple of G and holds the batches whose time
 * falls in (end - G, end]; a window ending at E (a multiple of the slide)
 * is the panes in (E - W, E]. Panes live in a ring of W / G + 1 slots, so
 * the pane leaving the window is still there when the newest one closes.
 *
 * A pane closes when a batch at its end time has been read (or a later
 * batch shows it is over); closing adds it to the running aggregate, takes
 * out the pane W before it, and emits the window when the pane's end is a
 * multiple of the slide. Keyed output is in byte order of the keys: the
 * running and the recomputing paths then print the same, and the output
 * of successive slides lines up for diff(1) and join(1).
 *
 * This file is the driver: setup on the first batch, each batch, the run
 * loop. Panes, sessions and the checkpoint codec have files of their own
 * (window_int.h lists them).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "bytes.h"
#include "ckpt.h"
#include "diag.h"
#include "dur.h"
#include "frame.h"
#include "io.h"
#include "keytab.h"
#include "rejects.h"
#include "replay.h"
#include "window_int.h"

void
ss_window_config_init(struct ss_window_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mode = SS_WINDOW_PLAIN;
    cfg->op = SS_OP_SUM;
    cfg->sep = ',';
    cfg->rebuild_every = SS_WINDOW_REBUILD_EVERY;
    cfg->keep_outputs = SS_REPLAY_KEEP_AUTO;
    cfg->fd_in = STDIN_FILENO;
    cfg->fd_out = STDOUT_FILENO;
}

/* ---- batches ---- */

/* A batch far after the last one would have the stage send an empty
 * window for every slide in between: bounded by --max-gap, past which it
 * stops rather than write for hours. */
static int
check_gap(struct win *x, int64_t time)
{
    int64_t gap, max = x->cfg->max_gap;
    char a[32], b[32];

    if (max == 0)
        max = x->slide > INT64_MAX / SS_WINDOW_MAX_GAP_SLIDES
                  ? INT64_MAX
                  : x->slide * SS_WINDOW_MAX_GAP_SLIDES;
    if (__builtin_sub_overflow(time, x->in.last_time, &gap))
        gap = INT64_MAX;
    if (gap <= max)
        return 0;
    return ss_diag("batch %" PRId64 " comes %s after batch %" PRId64
                   ": more than --max-gap %s of empty windows to send (if "
                   "the stream really paused that long, give --max-gap %s)",
                   time, ss_dur_format(gap, a, sizeof(a)), x->in.last_time,
                   ss_dur_format(max, b, sizeof(b)), a);
}

static int
begin_batch(struct win *x, const struct ss_frame *f)
{
    char a[32], b[32];
    int rc;

    if (!x->ring.started) {
        if ((rc = ss_window__setup(x, f->interval)) < 0)
            return rc;
        x->ring.started = 1;
        if (x->cfg->session_gap == 0) {
            x->ring.open_end = ceil_to(f->time, x->gran);
            ss_window__start_pane(x, x->ring.open_end);
        }
    } else if (f->interval != x->interval) {
        return ss_diag("batch %" PRId64 ": batch interval %s after %s", f->time,
                       ss_dur_format(f->interval, a, sizeof(a)),
                       ss_dur_format(x->interval, b, sizeof(b)));
    } else if (f->time <= x->in.last_time && x->ck.on) {
        x->in.replaying = 1;
        x->in.time = f->time;
        return 0;
    } else if (f->time <= x->in.last_time) {
        return ss_diag("batch %" PRId64 " comes after batch %" PRId64
                       " (batch times must increase)",
                       f->time, x->in.last_time);
    }
    if (x->cfg->session_gap == 0 && x->in.last_time != 0 &&
        (rc = check_gap(x, f->time)) < 0)
        return rc;
    x->in.time = f->time;
    x->in.last_time = f->time;
    x->in.recno = 0;
    if (x->cfg->session_gap == 0)
        return ss_window__advance_to(x, ceil_to(f->time, x->gran));
    return 0;
}

static int
end_batch(struct win *x)
{
    uint64_t digest = XXH64_digest(&x->in.xh);
    int rc;

    if (x->in.replaying) {
        x->in.replaying = 0;
        return ss_window__replay_batch(x, x->in.time, digest);
    }
    if ((rc = ss_window__exec_fold(x)) < 0 ||
        (rc = ss_rejects_flush(x->rej)) < 0)
        return rc;
    if (x->cfg->session_gap > 0)
        rc = ss_window__close_sessions(x);
    /* Batch times are aligned to the interval, so the batch at a pane's
     * end is its last: close the pane now rather than wait for the next
     * batch (one interval late). */
    else if (x->in.time == x->ring.open_end)
        rc = ss_window__advance_to(x, x->ring.open_end + x->gran);
    if (rc == 0 && x->ck.on)
        rc = ss_window__save(x, digest);
    return rc;
}

/* --stats: the keys a keyed window holds (its state), after a batch. */
static void
stats_end(struct win *x)
{
    enum ss_window_mode m = x->cfg->mode;

    if (x->cfg->session_gap > 0)
        ss_stats_keys(x->stats, ss_keytab_count(&x->sess));
    else if (m == SS_WINDOW_REDUCE_BY_KEY || m == SS_WINDOW_COUNT_BY_VALUE ||
             m == SS_WINDOW_GROUP_BY_KEY)
        ss_stats_keys(x->stats, ss_keytab_count(&x->ring.run));
    ss_stats_end(x->stats);
}

/* --checkpoint: a batch's frames go to a spool file and reach stdout only
 * once the checkpoint that reflects the batch is durable. Sent before, a
 * crash in between would leave the sink's commit ahead of the checkpoint:
 * the restarted source, which replays only what is not committed, would
 * never give this stage that batch again. */
static int
spool_open(struct win *x)
{
    if ((x->out.spool = tmpfile()) == NULL)
        return ss_diag_err(-errno, "cannot create a spool file");
    x->out.w.fd = fileno(x->out.spool);
    return 0;
}

/* Send what the spool holds to stdout, and empty it. */
static int
spool_flush(struct win *x)
{
    off_t end = lseek(x->out.w.fd, 0, SEEK_CUR), at = 0;
    ssize_t n;
    int rc;

    if (end <= 0)
        return end < 0 ? -errno : 0;
    if ((rc = ss_buf_reserve(&x->out.scratch, 64 * 1024)) < 0)
        return rc;
    while (at < end) {
        size_t want = x->out.scratch.cap - x->out.scratch.len;

        if ((off_t)want > end - at)
            want = (size_t)(end - at);
        n = pread(x->out.w.fd, x->out.scratch.data + x->out.scratch.len, want,
                  at);
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        rc = ss_io_write_all(x->cfg->fd_out,
                             x->out.scratch.data + x->out.scratch.len,
                             (size_t)n);
        if (rc < 0)
            return rc;
        at += n;
    }
    if (ftruncate(x->out.w.fd, 0) < 0 || lseek(x->out.w.fd, 0, SEEK_SET) < 0)
        return -errno;
    return 0;
}

/* The sink commits once a slide, when its window comes out; a source
 * that waits for the commit of every batch older than replay_ms would
 * wait for ever within a longer slide. */
static int
check_slide(const struct win *x, const struct ss_frame *f)
{
    int64_t slide = x->cfg->slide > 0 ? x->cfg->slide : f->interval;
    char a[32], b[32], c[32];

    if (f->replay_ms == 0 || x->cfg->session_gap > 0 || slide <= f->replay_ms)
        return 0;
    ss_diag("--slide %s is longer than the %s a restart may send again "
            "(sstream-source --max-uncommitted times its batch interval): "
            "the source would wait for a commit that comes only when a "
            "slide ends; give sstream-source a --max-uncommitted that "
            "reaches back %s or more (%" PRId64 " batches of %s)",
            ss_dur_format(slide, a, sizeof(a)),
            ss_dur_format(f->replay_ms, b, sizeof(b)), a,
            f->interval > 0 ? (slide + f->interval - 1) / f->interval : 0,
            ss_dur_format(f->interval, c, sizeof(c)));
    return SS_USAGE;
}

/* What waits for the input's first batch: whether the slide fits what a
 * restart may send again, how many outputs to keep so that every such
 * batch is replayed from them, and whether the checkpoint lost batches
 * that do not come again. */
static int
first_batch(struct win *x, const struct ss_frame *f)
{
    int rc;

    x->in.seen = 1;
    if ((rc = check_slide(x, f)) < 0 || !x->ck.on)
        return rc;
    if ((rc = ss_replay_size(&x->ck.kept, x->cfg->keep_outputs,
                             SS_WINDOW_KEEP_OUTPUTS, f->replay_ms,
                             f->interval)) < 0)
        return rc; /* SS_USAGE, reported */
    return ss_ckpt_check_resume(&x->ck.c, f->time, f->interval);
}

/* One batch, its first frame in br->f. x->in.cur follows br->f, the frame
 * read last, whose trail the windows sent meanwhile carry on. */
static int
on_batch(struct win *x, struct ss_frame_batch_reader *br)
{
    struct ss_frame f;
    int rc;

    if (br->update) /* late records: window_late.c */
        return ss_window__late_update(x, br);
    if ((rc = ss_window__late_flush(x)) < 0)
        return rc;
    ss_stats_begin(x->stats);
    x->in.cur = &br->f;
    x->out.w.closed_ms = br->f.closed_ms; /* passed on, for delays */
    x->out.w.replay_ms = br->f.replay_ms;
    if (!x->in.seen && (rc = first_batch(x, &br->f)) < 0)
        return rc;
    XXH64_reset(&x->in.xh, 0);
    if ((rc = begin_batch(x, &br->f)) < 0)
        return rc;
    while ((rc = ss_frame_batch_part(br, &f)) > 0) {
        ss_stats_in(x->stats, &f);
        XXH64_update(&x->in.xh, f.payload, f.payload_len);
        if (!x->in.replaying && (rc = ss_window__add_frame(x, &f)) < 0)
            return rc;
        if (x->late != NULL && (rc = ss_window__late_keep(x, &f)) < 0)
            return rc;
    }
    if (rc < 0 || (rc = end_batch(x)) < 0)
        return rc;
    if (x->out.spool != NULL && (rc = spool_flush(x)) < 0)
        return rc;
    stats_end(x);
    return 0;
}

static void
win_release(struct win *x)
{
    size_t cur = 0, klen;
    const char *k;
    struct session *s;

    for (size_t i = 0; i < x->ring.nslots; i++) {
        ss_keytab_release(&x->ring.panes[i].tab);
        ss_buf_release(&x->ring.panes[i].recs);
    }
    free(x->ring.panes);
    ss_keytab_release(&x->ring.run);
    ss_keytab_release(&x->ring.spare);
    while ((s = ss_keytab_next(&x->sess, &cur, &k, &klen)) != NULL)
        ss_acc_release(&s->acc);
    ss_keytab_release(&x->sess);
    ss_frame_writer_release(&x->out.w);
    if (x->out.spool != NULL)
        fclose(x->out.spool);
    ss_buf_release(&x->out.scratch);
    ss_buf_release(&x->out.text);
    ss_acc_release(&x->out.tmp);
    free(x->out.ents);
    free(x->out.ents_tmp);
    if (x->ck.on)
        ss_ckpt_close(&x->ck.c);
    ss_replay_release(&x->ck.kept);
    ss_buf_release(&x->out.rec.buf);
    ss_buf_release(&x->ck.dead);
    ss_buf_release(&x->ck.t_run);
    ss_buf_release(&x->ck.t_sess);
    ss_buf_release(&x->ck.enc);
    ss_window__exec_release(x);
    ss_window__late_close(x);
}

static int
run_loop(struct win *x)
{
    struct ss_frame_batch_reader br;
    int rc;

    ss_frame_batch_init(&br, x->cfg->fd_in, "stdin");
    br.rd.updates = x->late != NULL; /* else the reader refuses them */
    br.rd.own = x->cfg->own_frames;
    while ((rc = ss_frame_batch_next(&br)) > 0)
        if ((rc = on_batch(x, &br)) < 0)
            break;
    if (rc == 0)
        rc = ss_window__late_flush(x);
    x->in.cur = NULL; /* the end-of-stream frame has no trail */
    if (rc == 0)
        rc = ss_frame_writer_eos(&x->out.w, x->out.last,
                                 (uint32_t)(x->slide ? x->slide : x->interval));
    if (rc == 0 && x->out.spool != NULL)
        rc = spool_flush(x);
    ss_frame_batch_release(&br);
    return rc;
}

void
ss_window__init(struct win *x, const struct ss_window_config *cfg, int fd)
{
    memset(x, 0, sizeof(*x));
    x->cfg = cfg;
    x->in.keyed = -1;
    switch (cfg->mode) {
    case SS_WINDOW_COUNT:
    case SS_WINDOW_COUNT_BY_VALUE:
        x->op = SS_OP_COUNT;
        break;
    case SS_WINDOW_GROUP_BY_KEY:
        x->op = SS_OP_CONCAT;
        break;
    default:
        x->op = cfg->reduce_exec != NULL ? SS_OP_LAST : cfg->op;
    }
    x->ring.inverse = cfg->reduce_exec != NULL
                          ? cfg->inverse_exec != NULL
                          : ss_op_invertible(x->op) && !cfg->no_inverse;
    ss_keytab_init(&x->ring.run, sizeof(struct ss_acc), acc_drop);
    ss_keytab_init(&x->ring.spare, sizeof(struct ss_acc), acc_drop);
    ss_keytab_init(&x->sess, sizeof(struct session), NULL);
    ss_frame_writer_init(&x->out.w, fd);
}

int
ss_window__batch(struct win *x, const struct ss_frame *f)
{
    int rc;

    XXH64_reset(&x->in.xh, 0);
    if ((rc = begin_batch(x, f)) < 0 || (rc = ss_window__add_frame(x, f)) < 0)
        return rc;
    return end_batch(x);
}

void
ss_window__release(struct win *x)
{
    win_release(x);
}

int
ss_window_run(const struct ss_window_config *config, struct ss_stage *sg)
{
    struct ss_window_config cnt, *cfg = &cnt;
    struct win x;
    int rc;

    /* countByWindow is Spark's reduceByKeyAndWindow with an inverse on
     * one key: nothing before its first record, then a count every
     * slide, 0 included; the key, once there, stays (its checkpoint
     * option says so). */
    cnt = *config;
    if (cnt.mode == SS_WINDOW_COUNT)
        cnt.keep_empty = 1;
    ss_window__init(&x, cfg, cfg->fd_out);
    /* the main engine's only: a rebuild's (window_late.c) frames are read
     * back and checked */
    x.out.w.own = cfg->own_frames;
    x.rej = &sg->rej;
    x.stats = &sg->stats;
    if (ss_stage_open(sg, "window", cfg->rejects, &cfg->stats) < 0) {
        ss_frame_writer_abort(&x.out.w);
        win_release(&x);
        return SS_REPORTED;
    }
    x.stats->w = &x.out.w;
    rc = ss_window__exec_start(&x);
    if (rc == 0 && cfg->checkpoint != NULL)
        rc = ss_window__open_checkpoint(&x);
    if (rc == 0 && x.ck.on)
        rc = spool_open(&x);
    if (rc == 0 && cfg->lateness > 0)
        rc = ss_window__late_open(&x);
    if (rc == 0)
        rc = run_loop(&x);
    ss_replay_summary(&x.ck.kept);
    if (rc == -ENOMEM)
        rc = ss_diag_err(rc, "window");
    else if (SS_UNREPORTED(rc) && rc != -EPIPE)
        rc = ss_diag_err(rc, "write");
    if (rc < 0 && rc != -EPIPE) {
        /* Past the spool: what it holds is the unfinished batch's. */
        x.out.w.fd = cfg->fd_out;
        ss_frame_writer_abort(&x.out.w);
    }
    win_release(&x);
    return rc;
}
