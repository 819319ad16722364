/* window_ckpt.c - sstream-window's checkpoint codec: the state as ckpt
 * keys and back, the options a checkpoint must match, and replays of
 * batches it already holds (window_int.h, lib/ckpt, lib/replay).
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

/* ---- checkpoints (lib/ckpt: snapshots and delta logs) ----
 *
 * The window's state is stored as ckpt keys: "m" the scalars, "p" + end
 * (8 bytes) each pane, "r" + key the running aggregate of a key, "s" +
 * key a session. A batch's delta holds the panes it changed, the run and
 * session keys it changed, and its blob, kept for a replay: the digest of
 * the input batch (a replay must match it), then the output frames. */

#define META_LEN 44

static void
encode_meta(struct win *x, struct ss_buf *b)
{
    char m[META_LEN];

    ss_bytes_put_le(m, (uint64_t)x->interval, 8);
    ss_bytes_put_le(m + 8, (uint64_t)x->ring.open_end, 8);
    ss_bytes_put_le(m + 16, (uint64_t)x->in.last_time, 8);
    ss_bytes_put_le(m + 24, (uint64_t)x->out.last, 8);
    ss_bytes_put_le(m + 32, x->ring.since_rebuild, 4);
    m[36] = (char)x->in.keyed;
    m[37] = (char)x->in.keyed_hint;
    m[38] = (char)x->ring.inexact;
    memset(m + 39, 0, META_LEN - 39);
    ss_buf_reset(b);
    ss_buf_append(b, m, sizeof(m));
}

/* The bytes of a checkpoint are checked against what this run's options
 * and the stage's own invariants allow before anything uses them: the
 * interval divides the window and slide (else a division by zero or
 * panes that do not tile), the times are frame times, the open pane ends
 * where the last batch left it, flags are flags. */
static int
meta_valid(const struct win *x, const char *v, int64_t interval)
{
    const struct ss_window_config *cfg = x->cfg;
    int64_t open_end = (int64_t)ss_bytes_get_le(v + 8, 8);
    int64_t last_time = (int64_t)ss_bytes_get_le(v + 16, 8);
    int64_t last_out = (int64_t)ss_bytes_get_le(v + 24, 8);
    int64_t slide, gran, at;
    int keyed = (signed char)v[36];

    if (interval <= 0 || interval > UINT32_MAX ||
        (x->ring.started && interval != x->interval))
        return 0;
    if (!ss_frame_time_valid(last_time) || !ss_frame_time_valid(last_out) ||
        keyed < -1 || keyed > 1 || (x->in.keyed >= 0 && keyed != x->in.keyed) ||
        (unsigned char)v[37] > 1 || (unsigned char)v[38] > 1)
        return 0;
    if (cfg->session_gap > 0)
        return cfg->session_gap % interval == 0;
    slide = cfg->slide > 0 ? cfg->slide : interval;
    if (cfg->window % interval != 0 || slide % interval != 0)
        return 0;
    gran = gcd(cfg->window, slide);
    at = ceil_to(last_time, gran);
    return open_end == at || open_end == at + gran;
}

static int
decode_meta(struct win *x, const char *v, size_t n)
{
    int64_t interval;
    int rc;

    if (n != META_LEN)
        return -EBADMSG;
    interval = (int64_t)ss_bytes_get_le(v, 8);
    if (!meta_valid(x, v, interval))
        return -EBADMSG;
    if (!x->ring.started) {
        if ((rc = ss_window__setup(x, interval)) < 0)
            return rc;
        x->ring.started = 1;
    }
    x->ring.open_end = (int64_t)ss_bytes_get_le(v + 8, 8);
    x->in.last_time = (int64_t)ss_bytes_get_le(v + 16, 8);
    x->out.last = (int64_t)ss_bytes_get_le(v + 24, 8);
    x->ring.since_rebuild = (unsigned)ss_bytes_get_le(v + 32, 4);
    x->in.keyed = (signed char)v[36];
    x->in.keyed_hint = v[37];
    x->ring.inexact = v[38];
    return 0;
}

/* end (8), nrec (4), in_run, inexact, then the records (plain window) or
 * each key as varint length, key, encoded accumulator. */
static int
encode_pane(struct win *x, struct pane *p, struct ss_buf *b)
{
    char h[14];

    ss_bytes_put_le(h, (uint64_t)p->end, 8);
    ss_bytes_put_le(h + 8, p->nrec, 4);
    h[12] = (char)p->in_run;
    h[13] = (char)p->inexact;
    ss_buf_reset(b);
    ss_buf_append(b, h, sizeof(h));
    if (!keyed_mode(x) || p->flat)
        return ss_buf_append(b, p->recs.data, p->recs.len);
    return ss_window__flatten_into(p, b);
}

/* A plain window's pane: its records as a payload holds them, in the
 * keyedness the stream has had since its first record (none before). */
static int
plain_valid(const struct win *x, const struct pane *p)
{
    struct ss_frame f = {
        .flags = x->in.keyed == 1 ? SS_FRAME_KEYED : 0,
        .count = p->nrec,
        .payload = p->recs.data,
        .payload_len = p->recs.len,
    };

    if (x->in.keyed < 0)
        return p->nrec == 0 && p->recs.len == 0;
    return ss_frame_check_records(&f) == 0;
}

/* An open pane's entries into its table; 0 or -EBADMSG (-ENOMEM). */
static int
decode_entries(struct pane *p, const char *v, const char *end)
{
    while (v < end) {
        uint64_t klen;
        struct ss_acc *a;
        int created, used;

        if (ss_bytes_get_varint(&v, end, &klen) < 0 ||
            klen > (uint64_t)(end - v))
            return -EBADMSG;
        if ((a = ss_keytab_get(&p->tab, v, (size_t)klen, &created)) == NULL)
            return -ENOMEM;
        v += klen;
        if ((used = ss_acc_decode(a, v, (size_t)(end - v))) < 0)
            return used;
        v += used;
    }
    return 0;
}

static int
decode_pane(struct win *x, const char *v, size_t n)
{
    struct pane *p;
    const char *end = v + n;
    int64_t e;

    /* A pane ends on a multiple of the pane length, in the ring's reach
     * of the open pane (no later). */
    if (n < 14 || x->cfg->session_gap > 0)
        return -EBADMSG;
    e = (int64_t)ss_bytes_get_le(v, 8);
    if (!ss_frame_time_valid(e) || e % x->gran != 0 || e > x->ring.open_end ||
        e <= x->ring.open_end - (int64_t)x->ring.nslots * x->gran ||
        (unsigned char)v[12] > 1 || (unsigned char)v[13] > 1)
        return -EBADMSG;
    p = slot(x, e);
    ss_keytab_clear(&p->tab);
    ss_buf_reset(&p->recs);
    p->end = e;
    p->nrec = (uint32_t)ss_bytes_get_le(v + 8, 4);
    p->in_run = v[12];
    p->inexact = v[13];
    p->flat = 0;
    v += 14;
    if (!keyed_mode(x)) {
        if (ss_buf_append(&p->recs, v, (size_t)(end - v)) < 0)
            return -ENOMEM;
        return plain_valid(x, p) ? 0 : -EBADMSG;
    }
    if (p->end < x->ring.open_end) { /* closed: kept flat, as it was */
        if (!ss_window__flat_valid(v, (size_t)(end - v)))
            return -EBADMSG;
        p->flat = 1;
        return ss_buf_append(&p->recs, v, (size_t)(end - v));
    }
    return decode_entries(p, v, end);
}

static int
encode_session(const struct session *s, struct ss_buf *b)
{
    char h[16];

    ss_bytes_put_le(h, (uint64_t)s->first, 8);
    ss_bytes_put_le(h + 8, (uint64_t)s->last, 8);
    ss_buf_reset(b);
    ss_buf_append(b, h, sizeof(h));
    return ss_acc_encode(&s->acc, b);
}

static int
ld_put(void *ctx, const char *k, size_t klen, const char *v, size_t vlen)
{
    struct win *x = ctx;
    struct session *s;
    struct ss_acc *a;
    int created, rc;

    if (klen < 1)
        return -EBADMSG;
    if (k[0] == 'm')
        return decode_meta(x, v, vlen);
    if (!x->ring.started)
        return -EBADMSG;
    switch (k[0]) {
    case 'p':
        return decode_pane(x, v, vlen);
    case 'r':
        if ((a = ss_keytab_get(&x->ring.run, k + 1, klen - 1, &created)) ==
            NULL)
            return -ENOMEM;
        rc = ss_acc_decode(a, v, vlen);
        return rc < 0 ? rc : (size_t)rc == vlen ? 0 : -EBADMSG;
    case 's':
        if (x->cfg->session_gap == 0 || vlen < 16 ||
            !ss_frame_time_valid((int64_t)ss_bytes_get_le(v, 8)) ||
            !ss_frame_time_valid((int64_t)ss_bytes_get_le(v + 8, 8)))
            return -EBADMSG;
        /* A session written again moved to the end: insertion order is
         * the order of the latest records, which closing relies on. */
        if ((s = ss_keytab_find(&x->sess, k + 1, klen - 1)) != NULL) {
            ss_acc_release(&s->acc);
            ss_keytab_del(&x->sess, k + 1, klen - 1);
        }
        if ((s = ss_keytab_get(&x->sess, k + 1, klen - 1, &created)) == NULL)
            return -ENOMEM;
        s->first = (int64_t)ss_bytes_get_le(v, 8);
        s->last = (int64_t)ss_bytes_get_le(v + 8, 8);
        rc = ss_acc_decode(&s->acc, v + 16, vlen - 16);
        return rc < 0 ? rc : (size_t)rc == vlen - 16 ? 0 : -EBADMSG;
    }
    return -EBADMSG;
}

static int
ld_del(void *ctx, const char *k, size_t klen)
{
    struct win *x = ctx;
    struct session *s;
    struct pane *p;

    if (klen < 1 || !x->ring.started)
        return -EBADMSG;
    switch (k[0]) {
    case 'p':
        if (klen != 9 || x->cfg->session_gap > 0) /* no panes to drop */
            return -EBADMSG;
        p = slot(x, (int64_t)ss_bytes_get_le(k + 1, 8));
        if (p->end == (int64_t)ss_bytes_get_le(k + 1, 8)) {
            ss_keytab_clear(&p->tab);
            ss_buf_reset(&p->recs);
            p->end = 0;
        }
        return 0;
    case 'r':
        ss_keytab_del(&x->ring.run, k + 1, klen - 1);
        return 0;
    case 's':
        if ((s = ss_keytab_find(&x->sess, k + 1, klen - 1)) != NULL) {
            ss_acc_release(&s->acc);
            ss_keytab_del(&x->sess, k + 1, klen - 1);
        }
        return 0;
    }
    return -EBADMSG;
}

/* A blob: a batch's output frames, checked whole (lib/replay). */
static int
ld_blob(void *ctx, int64_t time, const char *p, size_t n)
{
    struct win *x = ctx;

    return ss_replay_load(&x->ck.kept, time, p, n, ss_replay_frames_valid);
}

static int
put_key(struct win *x, char tag, const char *k, size_t klen, int snap)
{
    struct ss_buf *key = &x->out.scratch;

    ss_buf_reset(key);
    ss_buf_putc(key, tag);
    if (ss_buf_append(key, k, klen) < 0)
        return -ENOMEM;
    if (snap)
        return ss_ckpt_snap_put(&x->ck.c, key->data, key->len, x->ck.enc.data,
                                x->ck.enc.len);
    return ss_ckpt_delta_put(&x->ck.c, key->data, key->len, x->ck.enc.data,
                             x->ck.enc.len);
}

static int
del_key(struct win *x, char tag, const char *k, size_t klen)
{
    ss_buf_reset(&x->out.scratch);
    ss_buf_putc(&x->out.scratch, tag);
    if (ss_buf_append(&x->out.scratch, k, klen) < 0)
        return -ENOMEM;
    return ss_ckpt_delta_del(&x->ck.c, x->out.scratch.data, x->out.scratch.len);
}

static int
save_pane(struct win *x, struct pane *p, int snap)
{
    char e[8];
    int rc;

    if ((rc = encode_pane(x, p, &x->ck.enc)) < 0)
        return rc;
    ss_bytes_put_le(e, (uint64_t)p->end, 8);
    p->dirty = 0;
    return put_key(x, 'p', e, 8, snap);
}

static int
save_entry(struct win *x, char tag, const char *k, size_t klen, int snap)
{
    struct session *s;
    struct ss_acc *a;
    int rc;

    if (tag == 'r') {
        if ((a = ss_keytab_find(&x->ring.run, k, klen)) == NULL)
            return snap ? 0 : del_key(x, tag, k, klen);
        ss_buf_reset(&x->ck.enc);
        if ((rc = ss_acc_encode(a, &x->ck.enc)) < 0)
            return rc;
    } else {
        if ((s = ss_keytab_find(&x->sess, k, klen)) == NULL)
            return snap ? 0 : del_key(x, tag, k, klen);
        if ((rc = encode_session(s, &x->ck.enc)) < 0)
            return rc;
    }
    return put_key(x, tag, k, klen, snap);
}

static int
save_touched(struct win *x, char tag, struct ss_buf *list)
{
    const char *p = list->data, *end = ss_buf_end(list);
    int rc;

    while (p < end) {
        size_t klen = (size_t)ss_bytes_get_le(p, 4);

        if ((rc = save_entry(x, tag, p + 4, klen, 0)) < 0)
            return rc;
        p += 4 + klen;
    }
    return 0;
}

static int
save_snapshot(struct win *x, const struct ss_ckpt_opt *opts, size_t nopts)
{
    size_t cur, klen;
    const char *k;
    int rc;

    if ((rc = ss_ckpt_snap_begin(&x->ck.c, x->in.last_time, opts, nopts)) < 0)
        return rc;
    encode_meta(x, &x->ck.enc);
    if ((rc = ss_ckpt_snap_put(&x->ck.c, "m", 1, x->ck.enc.data,
                               x->ck.enc.len)) < 0)
        return rc;
    for (size_t i = 0; i < x->ring.nslots; i++)
        if (x->ring.panes[i].end != 0 &&
            (rc = save_pane(x, &x->ring.panes[i], 1)) < 0)
            return rc;
    cur = 0;
    while (ss_keytab_next(&x->ring.run, &cur, &k, &klen) != NULL)
        if ((rc = save_entry(x, 'r', k, klen, 1)) < 0)
            return rc;
    cur = 0;
    while (ss_keytab_next(&x->sess, &cur, &k, &klen) != NULL)
        if ((rc = save_entry(x, 's', k, klen, 1)) < 0)
            return rc;
    if ((rc = ss_replay_save_snapshot(&x->ck.kept, &x->ck.c)) < 0)
        return rc;
    return ss_ckpt_snap_commit(&x->ck.c);
}

static int
save_delta(struct win *x, uint64_t digest)
{
    int rc;

    ss_ckpt_delta_begin(&x->ck.c, x->in.last_time);
    encode_meta(x, &x->ck.enc);
    if ((rc = ss_ckpt_delta_put(&x->ck.c, "m", 1, x->ck.enc.data,
                                x->ck.enc.len)) < 0)
        return rc;
    for (size_t i = 0; i < x->ck.dead.len; i += 8)
        if ((rc = del_key(x, 'p', x->ck.dead.data + i, 8)) < 0)
            return rc;
    for (size_t i = 0; i < x->ring.nslots; i++)
        if (x->ring.panes[i].dirty && x->ring.panes[i].end != 0 &&
            (rc = save_pane(x, &x->ring.panes[i], 0)) < 0)
            return rc;
    if ((rc = save_touched(x, 'r', &x->ck.t_run)) < 0 ||
        (rc = save_touched(x, 's', &x->ck.t_sess)) < 0)
        return rc;
    return ss_replay_save_delta(&x->ck.c, digest, x->out.rec.buf.data,
                                x->out.rec.buf.len);
}

/* The options that shape the state, as the user spells them: a
 * checkpoint made with others is refused rather than misread. */
struct opt_text {
    char window[32], slide[32], gap[32], sep[2];
    struct ss_ckpt_opt o[8];
};

static const char *const mode_names[] = {
    [SS_WINDOW_PLAIN] = NULL,
    [SS_WINDOW_COUNT] = "count",
    [SS_WINDOW_REDUCE] = "reduce",
    [SS_WINDOW_REDUCE_BY_KEY] = "reduce-by-key",
    [SS_WINDOW_COUNT_BY_VALUE] = "count-by-value",
    [SS_WINDOW_GROUP_BY_KEY] = "group-by-key",
};

static size_t
ck_opts(const struct ss_window_config *cfg, struct opt_text *t)
{
    size_t n = 0;
    int with_op =
        cfg->mode == SS_WINDOW_REDUCE || cfg->mode == SS_WINDOW_REDUCE_BY_KEY;

    if (cfg->session_gap > 0) {
        ss_dur_format(cfg->session_gap, t->gap, sizeof(t->gap));
        t->o[n++] = (struct ss_ckpt_opt){"session-gap", t->gap};
    } else {
        ss_dur_format(cfg->window, t->window, sizeof(t->window));
        t->o[n++] = (struct ss_ckpt_opt){"window", t->window};
        if (cfg->slide > 0)
            ss_dur_format(cfg->slide, t->slide, sizeof(t->slide));
        else
            snprintf(t->slide, sizeof(t->slide), "%s", "(the interval)");
        t->o[n++] = (struct ss_ckpt_opt){"slide", t->slide};
    }
    if (cfg->reduce_exec != NULL) /* the command may move; its function not */
        t->o[n++] = (struct ss_ckpt_opt){"reduce-exec", "yes"};
    else if (mode_names[cfg->mode] != NULL)
        t->o[n++] = (struct ss_ckpt_opt){mode_names[cfg->mode],
                                         with_op ? ss_op_name(cfg->op) : "yes"};
    t->sep[0] = cfg->sep;
    t->sep[1] = '\0';
    t->o[n++] = (struct ss_ckpt_opt){"separator", t->sep};
    t->o[n++] =
        (struct ss_ckpt_opt){"keep-empty-keys", cfg->keep_empty ? "yes" : "no"};
    t->o[n++] =
        (struct ss_ckpt_opt){"no-inverse", cfg->no_inverse ? "yes" : "no"};
    if (cfg->reduce_exec != NULL)
        t->o[n++] = (struct ss_ckpt_opt){
            "inverse-exec", cfg->inverse_exec != NULL ? "yes" : "no"};
    return n;
}

int
ss_window__save(struct win *x, uint64_t digest)
{
    struct opt_text t;
    size_t n = ck_opts(x->cfg, &t);
    int rc;

    if ((rc = ss_replay_keep(&x->ck.kept, x->in.last_time, digest,
                             x->out.rec.buf.data, x->out.rec.buf.len)) < 0)
        return rc;
    /* The delta even when a snapshot follows: the new log begins with it
     * (lib/ckpt.h). */
    if ((rc = save_delta(x, digest)) == 0)
        rc = ss_ckpt_want_snapshot(&x->ck.c, x->in.last_time)
                 ? save_snapshot(x, t.o, n)
                 : ss_ckpt_delta_commit(&x->ck.c);
    for (size_t i = 0; i < x->ring.nslots; i++)
        x->ring.panes[i].dirty = 0;
    ss_buf_reset(&x->ck.dead);
    ss_buf_reset(&x->ck.t_run);
    ss_buf_reset(&x->ck.t_sess);
    ss_buf_reset(&x->out.rec.buf);
    return rc;
}

int
ss_window__open_checkpoint(struct win *x)
{
    static const struct ss_ckpt_loader ld0 = {
        .put = ld_put, .del = ld_del, .blob = ld_blob};
    struct ss_ckpt_loader ld = ld0;
    struct opt_text t;
    size_t n = ck_opts(x->cfg, &t);
    int rc;

    /* Until the first batch says how many to keep, keep what loads. */
    ss_replay_init(&x->ck.kept, x->cfg->keep_outputs);
    ld.ctx = x;
    rc = ss_ckpt_open(&x->ck.c, x->cfg->checkpoint, t.o, n, &ld, 0);
    x->ck.on = 1;
    if (rc < 0) /* SS_USAGE: another run's options, reported */
        return ss_diag_err(rc, "checkpoint '%s'", x->cfg->checkpoint);
    return 0;
}

/* A batch at or before the checkpoint's time has been applied already:
 * send what it produced then, and change nothing. */
int
ss_window__replay_batch(struct win *x, int64_t time, uint64_t digest)
{
    const struct ss_replay_entry *e;
    int rc;

    if ((rc = ss_replay_find(&x->ck.kept, &x->ck.c, time, digest, &e)) < 0)
        return rc;
    ss_stats_skip(x->stats);
    return ss_replay_emit(&x->out.w, e->data.data, e->data.len);
}
