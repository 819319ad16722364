/* map.c - the sstream-map engine.
 *
 * A record enters at step 0 and is pushed through the steps in order:
 * a step that looks at one record at a time changes it, drops it or turns
 * it into several, and hands the result to the next step at once; a step
 * that needs the whole batch keeps what it needs (in its key table, or
 * copied into the batch's arena) and hands its results on when the batch
 * is complete. Finishing the steps in order is enough to keep every
 * record in order, because a step only ever receives records from the
 * steps before it.
 *
 * Every operation is one row of kinds[] (map_kinds.c): its option, what
 * it needs and makes, and its functions; the engine dispatches through
 * the rows only, so a new operation is a row and its functions.
 *
 * Memory: one arena per batch, reset when the batch is written; key tables
 * and buffers are kept across batches. Nothing is allocated per record.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "diag.h"
#include "fields.h"
#include "frame.h"
#include "io.h"
#include "keytab.h"
#include "map_int.h"
#include "multi.h"
#include "opt.h"
#include "proc.h"
#include "regex.h"
#include "rejects.h"
#include "scan.h"
#include "words.h"

/* ---- configuration ---- */

const struct ss_map_option *
ss_map_option(enum ss_map_kind k)
{
    return &ss_map__kind_of(k)->opt;
}

void
ss_map_config_init(struct ss_map_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->sep = ',';
    cfg->join = SS_JOIN_INNER;
    cfg->parallel = 1;
}

void
ss_map_config_release(struct ss_map_config *cfg)
{
    for (size_t i = 0; i < cfg->nops; i++)
        ss_regex_free(cfg->ops[i].re);
    free(cfg->ops);
    memset(cfg, 0, sizeof(*cfg));
}

int
ss_map_config_add(struct ss_map_config *cfg, enum ss_map_kind k,
                  const char *arg)
{
    const struct kind *kind = ss_map__kind_of(k);
    struct ss_map_op *op;

    if (cfg->nops == cfg->cap) {
        size_t cap = cfg->cap ? cfg->cap * 2 : 8;

        if ((op = realloc(cfg->ops, cap * sizeof(*op))) == NULL)
            return ss_diag_err(-ENOMEM, "%s", kind->opt.name);
        cfg->ops = op;
        cfg->cap = cap;
    }
    op = &cfg->ops[cfg->nops];
    memset(op, 0, sizeof(*op));
    op->kind = k;
    op->opt = kind->opt.name;
    op->arg = arg;
    if (kind->parse != NULL && kind->parse(op, arg) < 0) {
        ss_regex_free(op->re);
        return SS_REPORTED;
    }
    if (kind->flags & STREAM)
        op->input = ++cfg->nstreams;
    cfg->nops++;
    return 0;
}

int
ss_map_config_desc(struct ss_map_config *cfg)
{
    if (cfg->nops == 0 || cfg->ops[cfg->nops - 1].kind != SS_MAP_SORT_BY)
        return ss_diag("--desc: goes right after the --sort-by it reverses");
    cfg->ops[cfg->nops - 1].desc = 1;
    return 0;
}

/* ---- running ---- */

/* Which steps see keys this batch, from whether stdin's records have
 * them; SS_REPORTED when a step that needs keys would get none. */
static int
plan(struct map *m)
{
    int keyed = m->keyed_main;

    for (size_t i = 0; i < m->cfg->nops; i++) {
        const struct ss_map_op *op = &m->cfg->ops[i];
        const struct kind *kind = ss_map__kind_of(op->kind);

        if (((kind->flags & NEEDS_KEYS) || op->needs_keys) && !keyed)
            return ss_diag("%s%s%s needs key/value records (make them "
                           "with --pair, --key-field or --count-by-value)",
                           op->opt, op->needs_keys ? " " : "",
                           op->needs_keys ? op->arg : "");
        m->st[i].keyed_in = keyed;
        if (kind->flags & (MAKES_KEYS | DROPS_KEYS))
            keyed = (kind->flags & MAKES_KEYS) != 0;
    }
    m->keyed_out = keyed;
    return 0;
}

/* Every step's results, in step order. */
static int
finish(struct map *m)
{
    int rc;

    for (size_t i = 0; i < m->cfg->nops; i++) {
        int (*fn)(struct map *, size_t) =
            ss_map__kind_of(m->cfg->ops[i].kind)->finish;

        if (m->par != NULL && ss_map__par_finish_of(m, i) != NULL)
            fn = ss_map__par_finish_of(m, i);
        m->recno = 0;
        if (fn != NULL && (rc = fn(m, i)) < 0)
            return rc;
    }
    return 0;
}

static int
setup(struct map *m, const struct ss_map_config *cfg, struct ss_stage *sg)
{
    memset(m, 0, sizeof(*m));
    m->cfg = cfg;
    m->nsteps = cfg->nops;
    m->rej = &sg->rej;
    m->stats = &sg->stats;
    ss_frame_writer_init(&m->w, STDOUT_FILENO);
    if (ss_stage_open(sg, "map", cfg->rejects, &cfg->stats) < 0)
        return SS_REPORTED;
    if ((m->st = calloc(cfg->nops + 1, sizeof(*m->st))) == NULL ||
        ss_multi_init(&m->in, cfg->nstreams + 1) < 0)
        return ss_diag_err(-ENOMEM, "setting up");
    for (size_t i = 0; i < cfg->nops; i++) {
        const struct ss_map_op *op = &cfg->ops[i];
        const struct kind *kind = ss_map__kind_of(op->kind);

        m->st[i].record = kind->record;
        ss_join_side_init(&m->st[i].left);
        ss_join_side_init(&m->st[i].right);
        if (kind->setup != NULL && kind->setup(m, i) < 0)
            return SS_REPORTED;
        if (op->input > 0 &&
            ss_multi_open(&m->in, op->input, op->opt, op->arg) < 0)
            return SS_REPORTED;
    }
    /* update frames are checked per batch by check_update() */
    m->in.in[0].br.rd.updates = 1;
    return cfg->parallel > 1 ? ss_map__par_setup(m) : 0;
}

void
ss_map__release_steps(struct map *m)
{
    for (size_t i = 0; m->st != NULL && i < m->cfg->nops; i++) {
        struct step *st = &m->st[i];

        ss_buf_release(&st->scratch);
        ss_buf_release(&st->out);
        ss_buf_release(&st->file);
        ss_keytab_release(&st->tab);
        ss_acc_release(&st->acc);
        ss_join_side_release(&st->left);
        ss_join_side_release(&st->right);
        ss_map__coproc_release(st);
    }
}

static void
teardown(struct map *m)
{
    ss_map__par_release(m);
    ss_map__release_steps(m);
    free(m->st);
    ss_multi_release(&m->in);
    ss_frame_writer_release(&m->w);
    ss_arena_release(&m->arena);
    ss_fields_json_release(&m->json);
}

/* The command line starts with --flat-map words --count-by-value on
 * keyless input: the word count, which has a fused path. */
static int
word_count_first(const struct map *m)
{
    const struct ss_map_config *cfg = m->cfg;

    return !m->keyed_main && cfg->nops >= 2 &&
           cfg->ops[0].kind == SS_MAP_FLAT_MAP &&
           cfg->ops[0].fn == SS_MAP_FN_WORDS &&
           cfg->ops[1].kind == SS_MAP_COUNT_BY_VALUE;
}

int
ss_map__read_frame(struct map *m, const struct ss_frame *f)
{
    struct ss_rec_iter it;
    struct ss_rec r;
    int rc;

    if (word_count_first(m))
        return ss_map__count_words_frame(m, f);
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r)) {
        m->recno++;
        if ((rc = ss_map__push(m, 0, r)) < 0)
            return rc;
    }
    return 0;
}

/* stdin's part of the batch at m->time, record by record. */
static int
read_main(struct map *m)
{
    struct ss_frame f;
    int rc;

    m->recno = 0;
    while ((rc = ss_multi_part(&m->in, 0, &f)) > 0) {
        if (((f.flags & SS_FRAME_KEYED) != 0) != m->keyed_main)
            return ss_diag("stdin: batch %" PRId64 " mixes key/value and "
                           "keyless frames",
                           m->time);
        ss_stats_in(m->stats, &f);
        if (!(f.flags & SS_FRAME_MORE))
            ss_frame_writer_trail(&m->w, &f);
        if (m->par != NULL)
            rc = ss_map__par_take(m, &f);
        else
            rc = ss_map__read_frame(m, &f);
        if (rc < 0)
            return rc;
    }
    if (rc == 0 && m->par != NULL)
        rc = ss_map__par_run(m);
    return rc;
}

/* When the source closed this batch: the main input's stamp, or the
 * first --union stream's that has one, passed on for delay figures. */
static int64_t
closed_at(const struct map *m)
{
    for (size_t i = 0; i < m->in.n; i++)
        if (ss_multi_has(&m->in, i) && m->in.in[i].br.f.closed_ms != 0)
            return m->in.in[i].br.f.closed_ms;
    return 0;
}

/* The longest replay span of the inputs: a restart may send any of
 * them again that far back (man/sstream.5, replay_ms). */
static uint32_t
replay_of(const struct map *m)
{
    uint32_t ms = 0;

    for (size_t i = 0; i < m->in.n; i++)
        if (m->in.in[i].br.f.replay_ms > ms)
            ms = m->in.in[i].br.f.replay_ms;
    return ms;
}

/* An update frame (man/sstream.5 "UPDATES": late records for a batch
 * already sent) goes through the steps that take one record at a time,
 * which do to it what they did to its batch; a step over the whole batch
 * (a count, a sort, --exec) or over another stream would make of the
 * late records alone a batch of their own: stop instead. */
static int
check_update(const struct map *m, uint32_t flags)
{
    if (!(flags & SS_FRAME_UPDATE))
        return 0;
    for (size_t i = 0; i < m->cfg->nops; i++) {
        const struct ss_map_op *op = &m->cfg->ops[i];
        const struct kind *kind = ss_map__kind_of(op->kind);

        if (kind->opt.section != SS_MAP_PER_RECORD || (kind->flags & STREAM))
            return ss_diag("stdin: update frame for batch %" PRId64 ": %s "
                           "does not take updates (late records for a batch "
                           "already sent); only steps on one record at a "
                           "time do",
                           m->time, op->opt);
    }
    return 0;
}

static int
batch(struct map *m)
{
    uint32_t update = 0;
    int rc;

    m->time = m->in.time;
    if (ss_multi_has(&m->in, 0)) {
        m->keyed_main = (m->in.in[0].br.f.flags & SS_FRAME_KEYED) != 0;
        update = m->in.in[0].br.update;
    }
    if (plan(m) < 0 || check_update(m, update) < 0)
        return SS_REPORTED;
    ss_frame_writer_begin(&m->w, m->time, m->in.interval,
                          (m->keyed_out ? SS_FRAME_KEYED : 0) | update);
    m->w.closed_ms = closed_at(m);
    m->w.replay_ms = replay_of(m);
    if ((rc = read_main(m)) < 0)
        return rc;
    if ((rc = finish(m)) < 0)
        return rc;
    ss_stats_stamp(m->stats);
    rc = ss_frame_writer_end(&m->w);
    ss_stats_end(m->stats);
    ss_arena_reset(&m->arena);
    if (rc == 0 && ss_rejects_flush(m->rej) < 0)
        rc = SS_REPORTED;
    return rc;
}

int
ss_map_run(const struct ss_map_config *cfg, struct ss_stage *sg)
{
    struct map m;
    int rc;

    if ((rc = setup(&m, cfg, sg)) == 0) {
        m.stats->w = &m.w;
        while ((rc = ss_multi_next(&m.in)) > 0) {
            ss_stats_begin(m.stats);
            if ((rc = batch(&m)) < 0)
                break;
        }
        if (rc == 0)
            rc = ss_frame_writer_eos(&m.w, m.in.last, m.in.interval);
    }
    if (SS_UNREPORTED(rc) && rc != -EPIPE)
        rc = ss_diag_err(rc, "stdout");
    if (rc < 0 && rc != -EPIPE)
        ss_frame_writer_abort(&m.w);
    teardown(&m);
    return rc;
}
