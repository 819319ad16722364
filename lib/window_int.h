/* window_int.h - what the files of sstream-window share; private to
 * lib/window*.c, which are one module cut by concept:
 *
 *   window.c          the driver: setup, batches, the run loop
 *   window_pane.c     panes, the running aggregate, records, windows
 *   window_out.c      output frames, rejects, keys touched for a delta
 *   window_session.c  session windows (--session-gap)
 *   window_ckpt.c     the checkpoint codec, and replays
 *   window_exec.c     user functions in coprocesses (--reduce-exec, ...)
 *   window_late.c     --allowed-lateness: update frames, windows sent again
 *
 * struct win is the stage; its parts say who uses them: ring (panes and
 * the aggregate), in (the batch being read), out (the frames written),
 * ck (--checkpoint). Names here are ss_window__*: internal, not API.
 */
#ifndef SS_WINDOW_INT_H
#define SS_WINDOW_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#define XXH_STATIC_LINKING_ONLY /* XXH64_state_t in struct win */
#include <xxhash.h>

#include "acc.h"
#include "buf.h"
#include "ckpt.h"
#include "frame.h"
#include "keysort.h"
#include "keytab.h"
#include "rejects.h"
#include "replay.h"
#include "stats.h"
#include "window.h"

struct pane {
    int64_t end;          /* 0: never used */
    struct ss_keytab tab; /* keyed modes, open pane: key -> struct ss_acc */
    struct ss_buf recs;   /* plain window: record bytes as in a payload;
                             keyed, closed pane: its entries, flattened */
    int flat;             /* keyed: the entries are in recs, tab is empty */
    uint32_t nrec;        /* plain window: records in recs */
    int in_run;           /* added to the running aggregate */
    int inexact;          /* a double went in */
    int dirty;            /* changed since the last checkpoint */
};

struct session {
    struct ss_acc acc;
    int64_t first, last; /* batch times of the first and latest record */
};

/* The ring of panes and the aggregate of the window they make. */
struct win_ring {
    struct pane *panes;
    size_t nslots;
    struct ss_keytab run; /* the window's aggregate per key */
    int inverse;          /* run is kept by add and subtract */
    int inexact;          /* run holds a double: rebuild now and then */
    unsigned since_rebuild;
    int64_t open_end; /* end of the pane taking records */
    int started;      /* set up, on the first batch */
    /* Keyed modes: the open pane's table memory between panes, cleared
     * (window_pane.c: keep_table()), and how many panes in a row needed
     * far less of it. */
    struct ss_keytab spare;
    unsigned spare_idle;
};

/* The input: the batch being read, and what earlier ones told. */
struct win_in {
    int seen;         /* a batch has been read */
    XXH64_state_t xh; /* digest of the batch's payloads so far */
    int keyed;        /* plain window: -1 unknown, else the input's keyedness */
    int keyed_hint;   /* plain window: the latest frame's, until records */
    int64_t last_time; /* latest batch time read */
    int64_t time;      /* the batch being read */
    uint64_t recno;
    const struct ss_frame *cur; /* the frame read last, for its trail */
    int replaying; /* the batch being read is at or before ck time */
};

/* The output: the frames written, and the scratch that builds them. */
struct win_out {
    struct ss_frame_writer w;
    int64_t last;                    /* latest frame time written */
    struct ss_buf scratch;           /* --count-by-value key<TAB>value */
    struct ss_buf text;              /* a formatted value */
    struct ss_keysort_ent *ents;     /* the window's keys, val its ss_acc */
    struct ss_keysort_ent *ents_tmp; /* scratch for sorting them */
    size_t ents_cap;
    struct ss_acc tmp;        /* an entry of a flattened pane */
    FILE *spool;              /* --checkpoint: output waits for the save */
    struct ss_replay_out rec; /* --checkpoint: this batch's frames, to keep */
};

/* --checkpoint: the state saved, and what changed since the last save. */
struct win_ck {
    int on;
    struct ss_ckpt c;
    struct ss_replay kept; /* the last batches' output frames */
    struct ss_buf dead;    /* pane ends dropped since the last save */
    struct ss_buf t_run;   /* run keys changed since the last save */
    struct ss_buf t_sess;  /* session keys changed since the last save */
    struct ss_buf enc;
};

struct win_exec; /* window_exec.c: NULL without --*-exec */

struct win {
    const struct ss_window_config *cfg;
    enum ss_op op;
    int64_t interval, window, slide, gran;
    struct win_ring ring;
    struct ss_keytab sess; /* --session-gap: key -> struct session */
    struct win_in in;
    struct win_out out;
    struct win_ck ck;
    struct ss_rejects *rej; /* the stage's (lib/stage) */
    struct ss_stats *stats;
    struct win_exec *ex;
    struct win_late *late; /* --allowed-lateness, or NULL */
};

/* A walk through a pane's entries (window_pane.c). */
struct pane_it {
    size_t cur;
    const char *p, *end;
};

static inline void
acc_drop(void *v)
{
    ss_acc_release(v);
}

/* Smallest multiple of m at or after t (t may be negative). */
static inline int64_t
ceil_to(int64_t t, int64_t m)
{
    int64_t q = t / m;

    if (q * m < t)
        q++;
    return q * m;
}

static inline int64_t
gcd(int64_t a, int64_t b)
{
    while (b != 0) {
        int64_t r = a % b;

        a = b;
        b = r;
    }
    return a;
}

static inline struct pane *
slot(struct win *x, int64_t end)
{
    int64_t i = (end / x->gran) % (int64_t)x->ring.nslots;

    if (i < 0)
        i += (int64_t)x->ring.nslots;
    return &x->ring.panes[i];
}

static inline int
keyed_mode(const struct win *x)
{
    return x->cfg->mode != SS_WINDOW_PLAIN;
}

/* window.c: an engine of its own (window_late.c rebuilds one) */
void ss_window__init(struct win *x, const struct ss_window_config *cfg, int fd);
/* One batch in one frame f, as on_batch() takes it (no checkpoint). */
int ss_window__batch(struct win *x, const struct ss_frame *f);
void ss_window__release(struct win *x);

/* window_pane.c */
int ss_window__setup(struct win *x, int64_t interval);
int ss_window__flatten_into(struct pane *p, struct ss_buf *b);
int ss_window__flat_valid(const char *p, size_t n);
int ss_window__subtract(struct win *x, struct pane *p);
int ss_window__rebuild(struct win *x, int64_t e);
void ss_window__start_pane(struct win *x, int64_t end);
int ss_window__advance_to(struct win *x, int64_t end);
int ss_window__add_frame(struct win *x, const struct ss_frame *f);
void ss_window__pane_begin(struct pane *p, struct pane_it *it);
const struct ss_acc *ss_window__pane_entry(struct win *x, struct pane *p,
                                           struct pane_it *it, const char **k,
                                           size_t *klen);

/* window_out.c */
void ss_window__out_begin(struct win *x, int64_t time, uint32_t interval,
                          uint32_t flags);
int ss_window__out_add(struct win *x, const char *k, size_t klen, const char *v,
                       size_t vlen);
int ss_window__out_end(struct win *x);
void ss_window__touch(struct win *x, struct ss_buf *list, const char *k,
                      size_t klen);
void ss_window__reject(struct win *x, const struct ss_rec *r, int rc);

/* window_session.c */
int ss_window__add_session(struct win *x, const struct ss_rec *r, const char *k,
                           size_t klen);
int ss_window__close_sessions(struct win *x);

/* window_late.c */
int ss_window__late_open(struct win *x);
int ss_window__late_keep(struct win *x, const struct ss_frame *f);
int ss_window__late_update(struct win *x, struct ss_frame_batch_reader *br);
/* Before the next batch, and at the end: the updates read since the last
 * batch rebuild the panes, and the windows they change go out again. */
int ss_window__late_flush(struct win *x);
void ss_window__late_close(struct win *x);

/* window_ckpt.c */
int ss_window__save(struct win *x, uint64_t digest);
int ss_window__open_checkpoint(struct win *x);
int ss_window__replay_batch(struct win *x, int64_t time, uint64_t digest);

/* window_exec.c: each is a no-op (0) unless its option was given. */
int ss_window__exec_start(struct win *x);
void ss_window__exec_release(struct win *x);
int ss_window__exec_reduces(const struct win *x); /* --reduce-exec */
int ss_window__exec_add(struct win *x, const char *k, size_t klen,
                        const struct ss_rec *r);
int ss_window__exec_fold(struct win *x);
int ss_window__exec_rebuild(struct win *x, int64_t e);
int ss_window__exec_slide(struct win *x, int64_t e, struct pane *p,
                          struct pane *old, int windowed);
int ss_window__exec_filter(struct win *x, int64_t e, int n);

#endif
