/* map_parallel.c - sstream-map --parallel N: a batch on N threads.
 *
 * The first steps of a command line that look at one record at a time
 * (flat-maps, maps, fields, pairs, filters: the "prefix") can take a
 * batch in any cut, so the batch is cut into N contiguous slices at
 * record boundaries, and a worker thread runs each slice through the
 * prefix with steps of its own: key tables, buffers, arena, regex match
 * data, rejects held for later. When the step after the prefix combines
 * (--count-by-value, --group-by-key, --count, --reduce-by-key and --reduce
 * but for sum and mean: Spark's map-side combine; --exec: a copy of the
 * command per slice), the
 * workers run it too and the lead merges their results in slice order;
 * otherwise each worker keeps what came out of the prefix and the lead
 * pushes it on, slice after slice. The lead then runs the other steps
 * alone, as --parallel 1 does. So the output is the same: records in
 * slice order are records in batch order, and keys merged in slice order
 * (slice 0's, then the new ones of slice 1, ...) are keys in order of
 * first appearance. Rejects are said by the lead, at their place.
 *
 * Threads, not processes: the slices are views into the batch the lead
 * has read, and the workers' tables merge in place; processes would copy
 * both through pipes and parse them again. The threads start with the
 * stage and wait between rounds: a round is handed over under one mutex
 * (a generation number to run, a count of workers done), the only
 * synchronisation, once a round and never per record.
 *
 * A counted batch is read and run in rounds (rounds_of()), two buffers
 * of them: the lead reads and checks round k + 1's frames into one while
 * the workers count round k in the other, so that reading, which was a
 * fifth of the word count's time and ran alone, overlaps the counting.
 * At --parallel 2 the two workers and the lead share two cores.
 *
 * The cost: the lead keeps a batch's input whole in memory (a copy of its
 * frames; a counted batch, two rounds of it), and each worker a table as
 * large as its slice's keys.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "acc.h"
#include "bytes.h"
#include "diag.h"
#include "dur.h"
#include "map_int.h"
#include "regex.h"
#include "rejects.h"
#include "stats.h"

struct worker {
    struct map m;             /* its steps; m.worker points back here */
    struct ss_map_config cfg; /* the lead's, with ops of its own */
    struct ss_rejects rej;    /* held until the lead passes them on */
    struct ss_buf kept;       /* records out of the prefix (keep()) */
    struct ss_buf recnos;     /* the record number of each kept record */
    struct ss_buf ends;       /* size_t: its count table's keys after each
                                 round (rounds_of()) */
    struct ss_frame slice;    /* its records: a view into par->batch */
    uint64_t recno0;          /* records of the batch before the slice */
    uint64_t ns;              /* the time its slice took */
    int exec;                 /* its last step is an --exec it runs */
    int exec_rc;              /* ... and how the command went: */
    struct ss_proc_status ps; /* said by the lead, the first failure only */
    struct par *par;          /* its set of workers */
    size_t j;                 /* its slice: par->w[j] */
    pthread_t th;
    int thread; /* th runs serve(); else the lead runs it */
    int rc;
};

/* Where a frame of the batch starts in par->batch, and its records. */
struct part {
    size_t off;
    uint64_t count;
};

/* A round's input: frames copied from stdin, back to back. */
struct round {
    struct ss_buf batch; /* their records, frame after frame */
    struct ss_buf parts; /* struct part per frame */
    size_t populated;    /* batch bytes known to be faulted in */
};

struct par {
    size_t n;           /* workers */
    struct worker *w;   /* n of them */
    uint64_t *ns;       /* the time each took this batch */
    size_t k;           /* the first step after the prefix */
    int combine;        /* the workers run step k too */
    int exec;           /* ... and it is an --exec */
    struct round rd[2]; /* the round being read, and the one run */
    size_t fill;        /* rd[fill] is being read */
    int busy;           /* rd[!fill] is with the workers */
    int rounds;         /* the batch may be run in rounds (rounds_of()) */
    size_t round;       /* ... of this many bytes a worker: round_bytes() */
    size_t nrounds;     /* rounds run this batch */
    uint64_t recnos;    /* records of the batch in rounds handed over */
    /* The handoff, under mu: the lead bumps gen to run a round; a worker
     * thread runs its slice, counts itself in done and, the last one,
     * signals idle. quit ends the threads. */
    pthread_mutex_t mu;
    pthread_cond_t go, idle;
    uint64_t gen;
    size_t threads, done;
    int quit, sync; /* sync: mu and the conditions were made */
};

/* Steps that take any cut of a batch: one record at a time, no state
 * across records. A kind not named here (--take, --distinct, --union,
 * joins, sorts, and any added later) ends the prefix, which is always
 * correct, only less parallel. */
static int
slices(enum ss_map_kind k)
{
    switch (k) {
    case SS_MAP_FLAT_MAP:
    case SS_MAP_FLAT_MAP_VALUES:
    case SS_MAP_MAP:
    case SS_MAP_MAP_VALUES:
    case SS_MAP_KEY_FIELD:
    case SS_MAP_VALUE_FIELD:
    case SS_MAP_PAIR:
    case SS_MAP_FILTER:
    case SS_MAP_FILTER_OUT:
    case SS_MAP_WHERE:
        return 1;
    default:
        return 0;
    }
}

/* Whole-batch steps whose partial results merge, in order, into what
 * one pass gives, byte for byte. Not sum and mean: a sum of decimals is
 * a double, and partial sums added together round otherwise than one
 * running sum (the last digits of 30,000 values differed); nor would an
 * integer sum that leaves 64 bits be rejected at its record. Those run
 * on the lead, fed by the workers' prefix. */
static int
combines(const struct ss_map_op *op)
{
    switch (op->kind) {
    case SS_MAP_REDUCE:
    case SS_MAP_REDUCE_BY_KEY:
        return op->op != SS_OP_SUM && op->op != SS_OP_MEAN;
    case SS_MAP_COUNT:
    case SS_MAP_COUNT_BY_VALUE:
    case SS_MAP_GROUP_BY_KEY:
    case SS_MAP_EXEC:
        return 1;
    default:
        return 0;
    }
}

/* A batch counted (--count, --count-by-value) need not be held whole:
 * every ROUND bytes a worker, the records read so far are cut and run,
 * and their bytes forgotten. The lead then holds two rounds of n * ROUND
 * bytes of the batch (one read, one counted), not all of it: the word
 * count over 100 MB at --parallel 2 peaked at 117 MiB held whole, 50 in
 * one round of 8 MiB a worker at a time, 58 in two, 42 in two of 4 MiB
 * (as many rounds cost the merge no more: it looks each key up once).
 * Counts add up whatever the cuts, and a key's first appearance is in
 * the first round and slice that has it, so the workers' keys merge
 * round by round, slice by slice (merge_rounds()). That merge looks every
 * worker's keys up, where one round takes the first worker's table as it
 * is: the 11 MB word count at --parallel 2 took 65-80 ms of CPU time in
 * one round, 70-90 in three (round_limit(): the first rounds are
 * smaller), for counting that starts as the first MiBs come in rather
 * than after 16. Not --group-by-key, --reduce-by-key and --reduce: a
 * worker's values of a later round would come before another's of an
 * earlier one; nor --exec, a command per slice. */
#define ROUND ((size_t)4 << 20)

/* ROUND, or SSTREAM_TEST_ROUND bytes for the tests: a batch of a few
 * hundred KB then runs in many rounds, where 4 MiB would need tens of
 * MB a test. */
static size_t
round_bytes(void)
{
    const char *t = getenv("SSTREAM_TEST_ROUND");
    unsigned long long n;

    if (t == NULL || *t == '\0')
        return ROUND;
    n = strtoull(t, NULL, 10);
    return n > 0 && n < ROUND ? (size_t)n : ROUND;
}

/* Rounds for a counted batch (above), and for one whose workers only
 * keep records (no combine: --filter, --map..., before a whole-batch
 * step or none): what each round keeps is pushed on round after round,
 * slice after slice, the order of the batch, so the lead's reading of
 * the next round overlaps the workers' run of this one here too (a
 * regex --filter at --parallel 2 had the lead read all 13 MB first). */
static int
rounds_of(const struct ss_map_config *cfg, size_t k, int combine)
{
    return !combine || cfg->ops[k].kind == SS_MAP_COUNT ||
           cfg->ops[k].kind == SS_MAP_COUNT_BY_VALUE;
}

/* ---- the worker threads ---- */

/* Worker w's slice of the round handed over, on whichever thread runs
 * it. An empty slice is left alone, but for slice 0 of an --exec (a
 * batch runs the command at least once, as --parallel 1 does). */
static void
work(struct worker *w)
{
    struct map *m = &w->m;
    uint64_t t0;

    if (w->slice.payload_len == 0 && !(w->j == 0 && w->exec))
        return;
    t0 = ss_dur_mono_ns();
    m->recno = w->recno0;
    w->rc = ss_map__read_frame(m, &w->slice);
    if (w->rc == 0 && w->exec)
        w->exec_rc = ss_map__exec_run(m, m->nsteps - 1, &w->ps);
    w->ns = ss_dur_mono_ns() - t0;
}

/* A worker thread: each generation the lead hands over, its slice. */
static void *
serve(void *arg)
{
    struct worker *w = arg;
    struct par *par = w->par;
    uint64_t seen = 0;

    pthread_mutex_lock(&par->mu);
    for (;;) {
        while (par->gen == seen && !par->quit)
            pthread_cond_wait(&par->go, &par->mu);
        if (par->quit)
            break;
        seen = par->gen;
        pthread_mutex_unlock(&par->mu);
        work(w);
        pthread_mutex_lock(&par->mu);
        if (++par->done == par->threads)
            pthread_cond_signal(&par->idle);
    }
    pthread_mutex_unlock(&par->mu);
    return NULL;
}

/* Start a thread per worker but the ones it cannot start: the lead runs
 * their slices itself (hand_over()). 0 or an errno code. */
static int
start_threads(struct par *par)
{
    if (pthread_mutex_init(&par->mu, NULL) != 0)
        return -ENOMEM;
    if (pthread_cond_init(&par->go, NULL) != 0) {
        pthread_mutex_destroy(&par->mu);
        return -ENOMEM;
    }
    if (pthread_cond_init(&par->idle, NULL) != 0) {
        pthread_cond_destroy(&par->go);
        pthread_mutex_destroy(&par->mu);
        return -ENOMEM;
    }
    par->sync = 1;
    for (size_t j = 0; j < par->n; j++) {
        struct worker *w = &par->w[j];

        w->thread = pthread_create(&w->th, NULL, serve, w) == 0;
        par->threads += (size_t)w->thread;
    }
    return 0;
}

/* End the threads, after the round they may be running. */
static void
stop_threads(struct par *par)
{
    if (!par->sync)
        return;
    pthread_mutex_lock(&par->mu);
    par->quit = 1;
    pthread_cond_broadcast(&par->go);
    pthread_mutex_unlock(&par->mu);
    for (size_t j = 0; j < par->n; j++)
        if (par->w[j].thread)
            pthread_join(par->w[j].th, NULL);
    pthread_cond_destroy(&par->idle);
    pthread_cond_destroy(&par->go);
    pthread_mutex_destroy(&par->mu);
    par->sync = 0;
}

/* ---- setting up ---- */

/* A worker's own copy of the ops: its regexes match with their own
 * match data; ops it never runs have none. */
static int
worker_ops(struct worker *w, const struct ss_map_config *cfg, size_t nsteps)
{
    w->cfg = *cfg;
    if ((w->cfg.ops = calloc(cfg->nops, sizeof(*cfg->ops))) == NULL)
        return -ENOMEM;
    memcpy(w->cfg.ops, cfg->ops, cfg->nops * sizeof(*cfg->ops));
    for (size_t i = 0; i < cfg->nops; i++) {
        struct ss_map_op *op = &w->cfg.ops[i];

        if (op->re == NULL)
            continue;
        op->re = i < nsteps ? ss_regex_clone(cfg->ops[i].re) : NULL;
        if (i < nsteps && op->re == NULL)
            return -ENOMEM;
    }
    return 0;
}

static int
worker_setup(struct worker *w, const struct map *lead, size_t nsteps)
{
    const struct ss_map_config *cfg = lead->cfg;
    struct map *m = &w->m;
    int rc;

    m->cfg = &w->cfg;
    m->nsteps = nsteps;
    m->worker = w;
    m->rej = &w->rej;
    ss_frame_writer_init(&m->w, -1); /* never written: keep() has it all */
    if ((rc = worker_ops(w, cfg, nsteps)) < 0 ||
        (m->st = calloc(cfg->nops + 1, sizeof(*m->st))) == NULL)
        return rc < 0 ? rc : -ENOMEM;
    for (size_t i = 0; i < cfg->nops; i++) {
        const struct kind *kind = ss_map__kind_of(cfg->ops[i].kind);

        m->st[i].record = kind->record;
        ss_join_side_init(&m->st[i].left);
        ss_join_side_init(&m->st[i].right);
        if (i < nsteps && kind->setup != NULL && kind->setup(m, i) < 0)
            return SS_REPORTED;
    }
    return 0;
}

int
ss_map__par_setup(struct map *m)
{
    const struct ss_map_config *cfg = m->cfg;
    struct par *par;
    size_t k = 0;
    int combine, rc;

    while (k < cfg->nops && slices(cfg->ops[k].kind))
        k++;
    combine = k < cfg->nops && combines(&cfg->ops[k]);
    if (k == 0 && !combine)
        return 0; /* nothing the workers could run: one thread */
    if ((par = calloc(1, sizeof(*par))) == NULL ||
        (par->w = calloc(cfg->parallel, sizeof(*par->w))) == NULL ||
        (par->ns = calloc(cfg->parallel, sizeof(*par->ns))) == NULL) {
        if (par != NULL)
            free(par->w);
        free(par);
        return ss_diag_err(-ENOMEM, "--parallel");
    }
    m->par = par;
    par->n = cfg->parallel;
    par->k = k;
    par->combine = combine;
    par->exec = combine && cfg->ops[k].kind == SS_MAP_EXEC;
    par->rounds = rounds_of(cfg, k, combine);
    par->round = round_bytes();
    /* every worker's rejects held (no file) before any is set up: the
     * release after a failed setup closes them all */
    for (size_t j = 0; j < par->n; j++)
        ss_rejects_hold(&par->w[j].rej);
    for (size_t j = 0; j < par->n; j++) {
        if ((rc = worker_setup(&par->w[j], m, k + (size_t)combine)) < 0)
            return rc == SS_REPORTED ? rc : ss_diag_err(rc, "--parallel");
        par->w[j].exec = par->exec;
        par->w[j].par = par;
        par->w[j].j = j;
    }
    if ((rc = start_threads(par)) < 0)
        return ss_diag_err(rc, "--parallel");
    return 0;
}

void
ss_map__par_release(struct map *m)
{
    struct par *par = m->par;

    if (par == NULL)
        return;
    stop_threads(par);
    for (size_t j = 0; j < par->n; j++) {
        struct worker *w = &par->w[j];

        if (w->m.st != NULL)
            ss_map__release_steps(&w->m);
        free(w->m.st);
        ss_frame_writer_release(&w->m.w);
        ss_arena_release(&w->m.arena);
        for (size_t i = 0; w->cfg.ops != NULL && i < w->cfg.nops; i++)
            ss_regex_free(w->cfg.ops[i].re);
        free(w->cfg.ops);
        ss_rejects_close(&w->rej);
        ss_buf_release(&w->kept);
        ss_buf_release(&w->recnos);
        ss_buf_release(&w->ends);
    }
    free(par->w);
    free(par->ns);
    for (size_t r = 0; r < 2; r++) {
        ss_buf_release(&par->rd[r].batch);
        ss_buf_release(&par->rd[r].parts);
    }
    free(par);
    m->par = NULL;
}

/* ---- a batch ---- */

/* Fault a round's copy in ahead of it, 8 MiB at a time, with one
 * system call: a batch of 100 MB written page by page costs 25,000 page
 * faults the first time, measured at 0.17 s of system time on a 2-core
 * VM, more than the copy itself. Only a hint: an older kernel says
 * EINVAL and the pages fault in as they are written. */
#define POPULATE ((size_t)8 << 20)

static void
populate(struct round *rd, size_t upto)
{
#ifdef MADV_POPULATE_WRITE
    uintptr_t page = 4096, base = (uintptr_t)rd->batch.data, start, end;

    if (upto <= rd->populated)
        return;
    start = (base + rd->populated + page - 1) & ~(page - 1);
    rd->populated = rd->populated + POPULATE > rd->batch.cap
                        ? rd->batch.cap
                        : rd->populated + POPULATE;
    end = (base + rd->populated) & ~(page - 1);
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
#else
    (void)rd, (void)upto;
#endif
}

/* The first rounds of a batch are smaller: FIRST bytes a worker, then
 * twice as many each round up to par->round. The workers wait for the
 * lead to read the first round; in a pipeline it comes as fast as the
 * stage before writes it, so a first round of 8 MiB a worker left them
 * idle for the time the source took to make 16 MiB. A round twice the
 * last takes the lead about as long to read as the workers take to
 * count the last (reading is some twice as fast as counting at 2). */
#define FIRST ((size_t)1 << 20)

static size_t
round_limit(const struct par *par)
{
    size_t i = par->nrounds + (size_t)par->busy, b = FIRST;

    while (i-- > 0 && b < par->round)
        b *= 2;
    return par->n * (b < par->round ? b : par->round);
}

static int hand_over(struct map *m);
static int take_back(struct map *m);

int
ss_map__par_take(struct map *m, const struct ss_frame *f)
{
    struct par *par = m->par;
    struct round *rd = &par->rd[par->fill];
    struct part pt;
    int rc;

    /* A round ends before the frame that would take it past n * round
     * bytes, so that its buffer never doubles past that. */
    if (par->rounds && rd->batch.len > 0 &&
        (rd->batch.len >= round_limit(par) ||
         f->payload_len > round_limit(par) - rd->batch.len)) {
        if ((rc = take_back(m)) < 0 || (rc = hand_over(m)) < 0)
            return rc;
        rd = &par->rd[par->fill];
    }
    pt.off = rd->batch.len;
    pt.count = f->count;
    if (ss_buf_reserve(&rd->batch, f->payload_len) < 0)
        return -ENOMEM;
    populate(rd, rd->batch.len + f->payload_len);
    if (ss_buf_append(&rd->batch, f->payload, f->payload_len) < 0 ||
        ss_buf_append(&rd->parts, &pt, sizeof(pt)) < 0)
        return -ENOMEM;
    return 0;
}

/* The end of the record at p (the reader has checked its lengths). */
static const char *
skip_record(const char *p, int keyed)
{
    size_t n;

    if (keyed) {
        n = ss_frame_varint_get(&p);
        p += n;
    }
    n = ss_frame_varint_get(&p);
    return p + n;
}

/* Cut round rd into par->n slices of about equal bytes, at record
 * boundaries: whole frames are stepped over by their record counts, so
 * only the records of the frame a cut falls in are walked. */
static void
cut(struct par *par, const struct round *rd, int keyed)
{
    const struct part *pt = (const struct part *)(void *)rd->parts.data;
    size_t nparts = rd->parts.len / sizeof(*pt), f = 0, len = rd->batch.len;
    /* an empty batch before any other has no buffer: "" is a base */
    const char *base = rd->batch.data != NULL ? rd->batch.data : "", *p = base;
    uint64_t recno = par->recnos, fr = 0; /* fr: records of frame f passed */

    for (size_t j = 0; j < par->n; j++) {
        struct worker *w = &par->w[j];
        size_t target = j + 1 == par->n ? len : len / par->n * (j + 1);

        w->slice.payload = p;
        w->slice.flags = keyed ? SS_FRAME_KEYED : 0;
        w->recno0 = recno;
        while ((size_t)(p - base) < target) {
            size_t fend = f + 1 < nparts ? pt[f + 1].off : len;

            if (fr == 0 && fend <= target) { /* the whole frame */
                recno += pt[f].count;
                p = base + fend;
                f++;
                continue;
            }
            p = skip_record(p, keyed);
            recno++;
            fr++;
            if ((size_t)(p - base) >= fend) {
                f++;
                fr = 0;
            }
        }
        w->slice.payload_len = (size_t)(p - (const char *)w->slice.payload);
        w->slice.count = (uint32_t)(recno - w->recno0);
    }
}

/* Hand the round read (rd[fill]) over to the workers and read the next
 * into the other buffer; the round before must have been taken back.
 * Workers without a thread wait for take_back(). */
static int
hand_over(struct map *m)
{
    struct par *par = m->par;

    for (size_t j = 0; j < par->n; j++) {
        struct worker *w = &par->w[j];
        struct map *wm = &w->m;

        wm->time = m->time;
        wm->keyed_main = m->keyed_main;
        for (size_t i = 0; i < wm->nsteps; i++)
            wm->st[i].keyed_in = m->st[i].keyed_in;
        w->ns = 0;
        w->rc = w->exec_rc = 0;
        memset(&w->ps, 0, sizeof(w->ps)); /* a slice left alone: exit 0 */
    }
    cut(par, &par->rd[par->fill], m->keyed_main);
    for (size_t j = 0; j < par->n; j++)
        par->recnos += par->w[j].slice.count;
    pthread_mutex_lock(&par->mu);
    par->done = 0;
    par->gen++;
    pthread_cond_broadcast(&par->go);
    pthread_mutex_unlock(&par->mu);
    par->busy = 1;
    par->fill = !par->fill;
    return 0;
}

/* What worker w kept, pushed on from step k in order, each record after
 * the rejects that came before it. */
static int
push_kept(struct map *m, struct worker *w, size_t k)
{
    const char *p = w->kept.data, *end;
    const uint64_t *recno = (const uint64_t *)(void *)w->recnos.data;
    int rc = 0;

    if (w->kept.len == 0) /* nothing kept (data may be NULL) */
        return 0;
    end = p + w->kept.len;
    for (size_t j = 0; p < end && rc == 0; j++) {
        struct ss_rec r = {NULL, 0, NULL, 0};
        size_t klen = ss_frame_varint_get(&p);

        if (klen > 0) {
            r.key = p;
            r.klen = klen - 1;
            p += r.klen;
        }
        r.vlen = ss_frame_varint_get(&p);
        r.val = p;
        p += r.vlen;
        ss_rejects_pass(&w->rej, m->rej, recno[j]);
        m->recno = recno[j];
        rc = ss_map__push(m, k, r);
    }
    ss_buf_reset(&w->kept);
    ss_buf_reset(&w->recnos);
    return rc;
}

/* Wait for the round with the workers, if any, and take its results
 * back: records kept pushed on, rejects said, each worker's keys counted
 * for merge_rounds(). Its buffer is then free to read into. */
static int
take_back(struct map *m)
{
    struct par *par = m->par;
    struct round *rd = &par->rd[!par->fill];
    int rc = 0;

    if (!par->busy)
        return 0;
    for (size_t j = 0; j < par->n; j++)
        if (!par->w[j].thread)
            work(&par->w[j]);
    pthread_mutex_lock(&par->mu);
    while (par->done < par->threads)
        pthread_cond_wait(&par->idle, &par->mu);
    pthread_mutex_unlock(&par->mu);
    par->busy = 0;
    for (size_t j = 0; j < par->n; j++) {
        struct worker *w = &par->w[j];
        size_t keys = ss_keytab_count(&w->m.st[par->k].tab);

        par->ns[j] += w->ns;
        if (rc == 0 && w->rc < 0)
            rc = w->rc;
        if (rc == 0 && !par->combine)
            rc = push_kept(m, w, par->k);
        if (rc == 0 && par->rounds && par->combine &&
            ss_buf_append(&w->ends, &keys, sizeof(keys)) < 0)
            rc = -ENOMEM;
        ss_rejects_pass(&w->rej, m->rej, UINT64_MAX);
        ss_arena_reset(&w->m.arena);
    }
    if (par->rounds) /* else merge_step() never looks */
        par->nrounds++;
    ss_buf_reset(&rd->batch);
    ss_buf_reset(&rd->parts);
    return rc;
}

int
ss_map__par_run(struct map *m)
{
    struct par *par = m->par;
    int rc;

    if ((rc = take_back(m)) == 0 && (rc = hand_over(m)) == 0)
        rc = take_back(m);
    /* after every reject, as --parallel 1 says them; the first only */
    for (size_t j = 0; j < par->n && rc == 0 && par->exec; j++)
        rc = ss_map__exec_said(m, par->k, par->w[j].exec_rc, &par->w[j].ps);
    ss_stats_workers(m->stats, par->ns, par->n);
    memset(par->ns, 0, par->n * sizeof(*par->ns));
    par->recnos = 0;
    /* nothing in flight, both buffers empty: the next batch reads into
     * the first again, so a batch that runs as one round keeps one
     * batch-sized buffer, not two */
    par->fill = 0;
    if (!par->combine) /* else finish_merged() still needs it */
        par->nrounds = 0;
    return rc;
}

/* The end of a worker's steps: the record, copied (its bytes may be a
 * step's scratch), for the lead to push on. */
int
ss_map__worker_keep(struct map *m, const struct ss_rec *r)
{
    struct worker *w = m->worker;
    struct ss_buf *b = &w->kept;

    if (ss_buf_reserve(b, 2 * SS_BYTES_VARINT_MAX + r->klen + r->vlen) < 0 ||
        ss_buf_append(&w->recnos, &m->recno, sizeof(m->recno)) < 0)
        return -ENOMEM;
    ss_bytes_append_varint(b, r->key != NULL ? r->klen + 1 : 0);
    if (r->key != NULL)
        ss_buf_append(b, r->key, r->klen);
    ss_bytes_append_varint(b, r->vlen);
    ss_buf_append(b, r->val, r->vlen);
    return 0;
}

/* ---- merging, in slice order ---- */

/* Lookups in flight while merging counts, as the word count keeps them
 * (lib/map_record.c, RING): a key's slot is prefetched when it is read
 * from the worker's table, its entry half a ring later, and it is looked
 * up a whole ring later. One lookup at a time waited for the cache miss
 * of each: the merge of 14 rounds of 100 MB at --parallel 2 took 16-37
 * ms, all of it after the workers were done. */
#define MERGE_RING 32

struct merge_ring {
    struct ss_keytab_key k[MERGE_RING];
    const uint64_t *v[MERGE_RING];
    size_t head, tail;
};

static int
merge_one(struct ss_keytab *to, struct merge_ring *r)
{
    size_t t = r->tail++ % MERGE_RING;
    uint64_t *n;
    int created;

    if ((n = ss_keytab_get_key(to, &r->k[t], &created)) == NULL)
        return -ENOMEM;
    *n += *r->v[t];
    return 0;
}

/* Add the counts of from's keys [*cur, end) into to, keys new to it
 * after its own in from's order. */
static int
merge_range(struct ss_keytab *to, const struct ss_keytab *from, size_t cur,
            size_t end)
{
    struct merge_ring r = {.head = 0, .tail = 0};
    size_t klen;
    const char *k;
    const uint64_t *v;

    while (cur < end && (v = ss_keytab_next(from, &cur, &k, &klen)) != NULL) {
        size_t h = r.head % MERGE_RING;

        if (r.head - r.tail == MERGE_RING && merge_one(to, &r) < 0)
            return -ENOMEM;
        ss_keytab_key(&r.k[h], k, klen);
        r.v[h] = v;
        ss_keytab_prefetch(to, r.k[h].h, 0);
        if (r.head - r.tail >= MERGE_RING / 2)
            ss_keytab_prefetch(
                to, r.k[(r.head - MERGE_RING / 2) % MERGE_RING].h, 1);
        r.head++;
    }
    while (r.tail < r.head)
        if (merge_one(to, &r) < 0)
            return -ENOMEM;
    return 0;
}

static int
merge_counts(struct ss_keytab *to, struct ss_keytab *from)
{
    int rc = merge_range(to, from, 0, SIZE_MAX);

    ss_keytab_clear(from);
    return rc;
}

/* Per key, the lead's accumulator then the worker's. */
static int
merge_accs(struct map *m, size_t i, struct ss_keytab *to,
           struct ss_keytab *from)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    size_t cur = 0, klen;
    const char *k;
    struct ss_acc *v, *a;
    int created, rc;

    while ((v = ss_keytab_next(from, &cur, &k, &klen)) != NULL) {
        if ((a = ss_keytab_get(to, k, klen, &created)) == NULL)
            return -ENOMEM;
        if ((rc = ss_acc_merge(a, v, op->op, m->cfg->sep)) < 0)
            return rc; /* no sums here: -ENOMEM */
    }
    ss_keytab_clear(from);
    return 0;
}

/* The first worker's table becomes the lead's (which is empty between
 * batches) without a lookup per key: the two swap, memory and all. */
static void
swap_tables(struct ss_keytab *a, struct ss_keytab *b)
{
    struct ss_keytab t = *a;

    *a = *b;
    *b = t;
}

static int
merge_step(struct map *m, size_t i, struct worker *w)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i], *ws = &w->m.st[i];
    int rc = 0;

    switch (op->kind) {
    case SS_MAP_COUNT:
        st->count += ws->count;
        ws->count = 0;
        return 0;
    case SS_MAP_REDUCE:
        rc = ss_acc_merge(&st->acc, &ws->acc, op->op, m->cfg->sep);
        ss_acc_reset(&ws->acc);
        return rc;
    case SS_MAP_EXEC: /* a slice left alone has no output this batch */
        if (ws->out.len > 0)
            rc = ss_map__exec_lines(m, i, &ws->out);
        ss_buf_reset(&ws->out);
        return rc;
    default:
        break;
    }
    if (ss_keytab_count(&st->tab) == 0) {
        swap_tables(&st->tab, &ws->tab);
        return 0;
    }
    if (op->kind == SS_MAP_COUNT_BY_VALUE)
        return merge_counts(&st->tab, &ws->tab);
    return merge_accs(m, i, &st->tab, &ws->tab);
}

/* The counts of a batch run in more than one round: round after round,
 * slice after slice, the keys each worker met first in it (its keys
 * between the ends of the round before and of this one), so that the
 * lead's keys come in order of first appearance. A count tables never
 * deletes, so its cursor is the number of keys before. */
static int
merge_rounds(struct map *m, size_t i)
{
    struct par *par = m->par;
    struct ss_keytab *to = &m->st[i].tab;
    size_t most = 0;

    /* the keys of the batch: at least the most a worker has */
    for (size_t j = 0; j < par->n; j++)
        if (ss_keytab_count(&par->w[j].m.st[i].tab) > most)
            most = ss_keytab_count(&par->w[j].m.st[i].tab);
    if (ss_keytab_reserve(to, most) < 0)
        return -ENOMEM;
    for (size_t r = 0; r < par->nrounds; r++)
        for (size_t j = 0; j < par->n; j++) {
            struct ss_keytab *from = &par->w[j].m.st[i].tab;
            const size_t *ends = (const size_t *)(void *)par->w[j].ends.data;

            if (merge_range(to, from, r > 0 ? ends[r - 1] : 0, ends[r]) < 0)
                return -ENOMEM;
        }
    for (size_t j = 0; j < par->n; j++)
        ss_keytab_clear(&par->w[j].m.st[i].tab);
    return 0;
}

/* Step k's finish under --parallel: the workers' results merged into
 * the lead's step, which then gives them as it gives its own. --exec
 * instead passes each copy's output lines on, in slice order. */
static int
finish_merged(struct map *m, size_t i)
{
    struct par *par = m->par;
    int rc = 0;

    if (par->nrounds > 1 && m->cfg->ops[i].kind == SS_MAP_COUNT_BY_VALUE)
        rc = merge_rounds(m, i);
    else
        for (size_t j = 0; j < par->n && rc == 0; j++)
            rc = merge_step(m, i, &par->w[j]);
    par->nrounds = 0;
    for (size_t j = 0; j < par->n; j++)
        ss_buf_reset(&par->w[j].ends);
    if (rc < 0 || m->cfg->ops[i].kind == SS_MAP_EXEC)
        return rc;
    return ss_map__kind_of(m->cfg->ops[i].kind)->finish(m, i);
}

int (*ss_map__par_finish_of(const struct map *m, size_t i))(struct map *,
                                                            size_t)
{
    if (m->par == NULL || !m->par->combine || i != m->par->k)
        return NULL;
    return finish_merged;
}
