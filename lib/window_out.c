/* window_out.c - what sstream-window sends out: its output frames
 * (recorded, with --checkpoint, for a replay: lib/replay), its rejected
 * records, and the keys a batch changed, for the next checkpoint delta
 * (window_int.h).
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

/* ---- output, and what a checkpoint keeps of it ---- */

/* With --checkpoint, every frame written is also recorded in x->out.rec, so
 * that a replayed batch can be sent again byte for byte (lib/replay). */
void
ss_window__out_begin(struct win *x, int64_t time, uint32_t interval,
                     uint32_t flags)
{
    ss_frame_writer_begin(&x->out.w, time, interval, flags);
    if (x->in.cur != NULL) /* a window goes on with its last batch's trail */
        ss_frame_writer_trail(&x->out.w, x->in.cur);
    if (x->ck.on)
        ss_replay_out_begin(&x->out.rec, time, interval, flags);
}

int
ss_window__out_add(struct win *x, const char *k, size_t klen, const char *v,
                   size_t vlen)
{
    int rc;

    if (x->ck.on && (rc = ss_replay_out_add(&x->out.rec, k, klen, v, vlen)) < 0)
        return rc;
    return ss_frame_writer_add(&x->out.w, k, klen, v, vlen);
}

int
ss_window__out_end(struct win *x)
{
    int rc;

    if (x->ck.on && (rc = ss_replay_out_end(&x->out.rec)) < 0)
        return rc;
    ss_stats_stamp(x->stats);
    return ss_frame_writer_end(&x->out.w);
}

/* Remember a key whose entry changed, for the next checkpoint delta. */
void
ss_window__touch(struct win *x, struct ss_buf *list, const char *k, size_t klen)
{
    char n[4];

    if (!x->ck.on)
        return;
    ss_bytes_put_le(n, klen, 4);
    ss_buf_append(list, n, 4);
    ss_buf_append(list, k, klen);
}

void
ss_window__reject(struct win *x, const struct ss_rec *r, int rc)
{
    ss_rejects_value(x->rej, x->in.time, x->in.recno, r, rc);
}
