/* map_int.h - what the files of sstream-map share; private to
 * lib/map*.c, which are one module cut by concept:
 *
 *   map.c         the driver: configuration, steps, batches, the run
 *   map_kinds.c   the table of operations (one row each) and the parsing
 *                 of their arguments
 *   map_record.c  the operations on one record at a time
 *   map_batch.c   the operations on a whole batch (joins, exec, counts,
 *                 reductions, groups)
 *   map_coproc.c  --exec-coprocess: the batch through a long-lived command
 *   map_parallel.c  --parallel N: a batch cut into slices, one worker
 *                 thread each, their results merged in order
 *
 * Names here are ss_map__*: internal, not API.
 */
#ifndef SS_MAP_INT_H
#define SS_MAP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "acc.h"
#include "arena.h"
#include "buf.h"
#include "coproc.h"
#include "frame.h"
#include "join.h"
#include "keytab.h"
#include "map.h"
#include "multi.h"
#include "proc.h"
#include "rejects.h"
#include "stats.h"

#define MAX_FIELD ((uint64_t)1 << 20)

struct map;
struct par;
struct worker;

struct step {
    /* its row's record function, at hand for push() */
    int (*record)(struct map *m, size_t i, struct ss_rec *r);
    int keyed_in;          /* records reaching this step have keys */
    struct ss_buf scratch; /* a changed value, a key text, exec input */
    struct ss_buf out;     /* exec output, formatted results */
    struct ss_keytab tab;  /* count-by-value, the -by-key ones, distinct */
    struct ss_acc acc;     /* reduce */
    uint64_t count;        /* count; glom: values so far */
    char num[24];          /* a count as text */
    int fused; /* flat-map words: counts its words in step i + 1's table */
    struct ss_join_side left, right;
    struct ss_buf file;   /* --join FILE: the table's bytes */
    struct ss_coproc *co; /* --exec-coprocess: its command, for the run */
};

struct map {
    const struct ss_map_config *cfg;
    struct step *st;
    struct ss_multi in;
    struct ss_frame_writer w;
    struct ss_arena arena;
    struct ss_rejects *rej; /* the stage's (lib/stage) */
    struct ss_stats *stats;
    int64_t time;
    uint64_t recno;             /* record being pushed, from 1, for messages */
    int keyed_main;             /* stdin's records have keys */
    int keyed_out;              /* what this batch writes */
    struct ss_fields_json json; /* --key, --value: the last object read */
    size_t nsteps;         /* steps run here: all; a worker's, the first ones */
    struct par *par;       /* --parallel: the workers; NULL: none */
    struct worker *worker; /* a worker's own map: its worker; else NULL */
};

/* ---- the operations ---- */

/* What a row says about its operation. */
enum {
    NEEDS_KEYS = 1, /* its records must be key/value records */
    MAKES_KEYS = 2, /* the records after it have keys */
    DROPS_KEYS = 4, /* the records after it have none (neither: as before) */
    STREAM = 8,     /* it reads a frame stream of its own (op->input) */
};

struct kind {
    struct ss_map_option opt;
    unsigned flags;
    /* The argument into op (NULL: nothing to parse); 0, or SS_REPORTED. */
    int (*parse)(struct ss_map_op *op, const char *arg);
    /* Once before the first batch (NULL: nothing); 0, or SS_REPORTED. */
    int (*setup)(struct map *m, size_t i);
    /* Step i takes r: 1 to pass r (changed in place) on to step i + 1;
     * 0 when it dropped r, kept it for the end of the batch, or pushed
     * what it made on itself; < 0 to stop the run (SS_REPORTED, or an errno
     * code). */
    int (*record)(struct map *m, size_t i, struct ss_rec *r);
    /* The batch is complete (NULL: nothing to do): push the results on
     * to step i + 1 and forget the batch. 0, or < 0 as above. */
    int (*finish)(struct map *m, size_t i);
};

/* Push r into step i and on through the steps after it. 0, or < 0 to
 * stop the run (SS_REPORTED, or an errno code). */
int ss_map__worker_keep(struct map *m, const struct ss_rec *r);

static inline int
ss_map__push(struct map *m, size_t i, struct ss_rec r)
{
    int rc;

    for (; i < m->nsteps; i++)
        if ((rc = m->st[i].record(m, i, &r)) <= 0)
            return rc;
    if (m->worker != NULL) /* the end of a worker's steps */
        return ss_map__worker_keep(m, &r);
    return ss_frame_writer_add(&m->w, r.key, r.klen, r.val, r.vlen);
}

/* map_kinds.c */
const struct kind *ss_map__kind_of(enum ss_map_kind k);

/* The functions of the rows of kinds[] follow, their contracts those of
 * struct kind's members: record (m, i, r), finish and setup (m, i). */

/* map_record.c */
/* A record that a step cannot take: said, counted, kept if asked; 0. */
int ss_map__reject(struct map *m, const struct ss_rec *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ss_map__map_value(struct map *m, size_t i, struct ss_rec *r);
int ss_map__flat_map(struct map *m, size_t i, struct ss_rec *r);
int ss_map__flat_map_values(struct map *m, size_t i, struct ss_rec *r);
int ss_map__key_field(struct map *m, size_t i, struct ss_rec *r);
int ss_map__value_field(struct map *m, size_t i, struct ss_rec *r);
int ss_map__key_named(struct map *m, size_t i, struct ss_rec *r);
int ss_map__value_named(struct map *m, size_t i, struct ss_rec *r);
int ss_map__pair(struct map *m, size_t i, struct ss_rec *r);
int ss_map__keep_matches(struct map *m, size_t i, struct ss_rec *r);
int ss_map__drop_matches(struct map *m, size_t i, struct ss_rec *r);
int ss_map__where(struct map *m, size_t i, struct ss_rec *r);
int ss_map__distinct(struct map *m, size_t i, struct ss_rec *r);
int ss_map__forget_seen(struct map *m, size_t i);
int ss_map__take(struct map *m, size_t i, struct ss_rec *r);
int ss_map__take_reset(struct map *m, size_t i);
int ss_map__pass(struct map *m, size_t i, struct ss_rec *r);
int ss_map__reduce_take(struct map *m, size_t i, struct ss_rec *r);
int ss_map__group_take(struct map *m, size_t i, struct ss_rec *r);
int ss_map__exec_take(struct map *m, size_t i, struct ss_rec *r);
int ss_map__glom_take(struct map *m, size_t i, struct ss_rec *r);
int ss_map__count_take(struct map *m, size_t i, struct ss_rec *r);
int ss_map__count_value(struct map *m, size_t i, struct ss_rec *r);
int ss_map__count_words_frame(struct map *m, const struct ss_frame *f);

/* map.c */
/* The records of f (stdin's, or a worker's slice) through the steps. */
int ss_map__read_frame(struct map *m, const struct ss_frame *f);
/* Free what steps 0..m->cfg->nops hold (m->st itself stays). */
void ss_map__release_steps(struct map *m);

/* map_parallel.c */
/* --parallel: set the workers up (m->par stays NULL when the command line
 * starts with nothing they can run); 0 or SS_REPORTED. */
int ss_map__par_setup(struct map *m);
/* Keep stdin's frame f for the batch's slices. 0 or -ENOMEM. */
int ss_map__par_take(struct map *m, const struct ss_frame *f);
/* The batch kept is complete: run the workers, pass their results on. */
int ss_map__par_run(struct map *m);
/* Step i's results are the workers' merged, not its own (NULL: not). */
int (*ss_map__par_finish_of(const struct map *m, size_t i))(struct map *,
                                                            size_t);
void ss_map__par_release(struct map *m);

/* map_batch.c */
int ss_map__keep_for_join(struct map *m, size_t i, struct ss_rec *r);
int ss_map__unite(struct map *m, size_t i);
int ss_map__join_table(struct map *m, size_t i);
int ss_map__join_stream(struct map *m, size_t i);
int ss_map__cogroup(struct map *m, size_t i);
int ss_map__exec(struct map *m, size_t i);
/* --exec in parts: run the command over what step i took (its output in
 * st->out): 0 and *ps its end, or a negative errno code, nothing said;
 * say what went wrong, if anything (0, or SS_REPORTED); push the lines
 * of 'out' on. */
int ss_map__exec_run(struct map *m, size_t i, struct ss_proc_status *ps);
int ss_map__exec_said(struct map *m, size_t i, int rc,
                      const struct ss_proc_status *ps);
int ss_map__exec_lines(struct map *m, size_t i, const struct ss_buf *out);
int ss_map__emit_counts(struct map *m, size_t i);
int ss_map__emit_groups(struct map *m, size_t i);
int ss_map__glom(struct map *m, size_t i);
int ss_map__sort_take(struct map *m, size_t i, struct ss_rec *r);
int ss_map__sort(struct map *m, size_t i);
int ss_map__count(struct map *m, size_t i);
int ss_map__reduce(struct map *m, size_t i);
int ss_map__setup_flat_map(struct map *m, size_t i);
int ss_map__setup_counts(struct map *m, size_t i);
int ss_map__setup_seen(struct map *m, size_t i);
int ss_map__setup_groups(struct map *m, size_t i);
int ss_map__setup_table(struct map *m, size_t i);

/* map_coproc.c; release: end step st's command, if it has one. */
int ss_map__coproc_setup(struct map *m, size_t i);
int ss_map__coproc_take(struct map *m, size_t i, struct ss_rec *r);
int ss_map__coproc(struct map *m, size_t i);
void ss_map__coproc_release(struct step *st);

#endif
