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
 * Memory: one arena per batch, reset when the batch is written; key tables
 * and buffers are kept across batches. Nothing is allocated per record.
 */
#include "map.h"

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
#include "frame.h"
#include "io.h"
#include "keytab.h"
#include "multi.h"
#include "opt.h"
#include "proc.h"
#include "regex.h"
#include "rejects.h"
#include "scan.h"
#include "words.h"

#define MAX_FIELD ((uint64_t)1 << 20)

/* ---- configuration ---- */

void
ss_map_config_init(struct ss_map_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->sep = ',';
    cfg->join = SS_JOIN_INNER;
}

void
ss_map_config_release(struct ss_map_config *cfg)
{
    for (size_t i = 0; i < cfg->nops; i++)
        ss_regex_free(cfg->ops[i].re);
    free(cfg->ops);
    memset(cfg, 0, sizeof(*cfg));
}

static int
parse_fn(struct ss_map_op *op, const char *arg, int flat)
{
    uint64_t n;

    if (flat && strcmp(arg, "words") == 0) {
        op->fn = SS_MAP_FN_WORDS;
        return 0;
    }
    if (flat && strncmp(arg, "split:", 6) == 0 && arg[6] != '\0') {
        op->fn = SS_MAP_FN_SPLIT;
        op->str = arg + 6;
        op->slen = strlen(op->str);
        return 0;
    }
    if (!flat && strcmp(arg, "lower") == 0)
        op->fn = SS_MAP_FN_LOWER;
    else if (!flat && strcmp(arg, "upper") == 0)
        op->fn = SS_MAP_FN_UPPER;
    else if (!flat && strcmp(arg, "trim") == 0)
        op->fn = SS_MAP_FN_TRIM;
    else if (!flat && strncmp(arg, "field:", 6) == 0) {
        if (ss_opt_count(op->opt, arg + 6, 1, MAX_FIELD, &n) < 0)
            return -1;
        op->fn = SS_MAP_FN_FIELD;
        op->n = (size_t)n;
    } else if (flat)
        return ss_diag("%s: unknown function '%s' (try words or split:DELIM)",
                       op->opt, arg);
    else
        return ss_diag("%s: unknown function '%s' (try lower, upper, trim or "
                       "field:N)",
                       op->opt, arg);
    return 0;
}

/* "value >= 100": the subject, an operator, a number; blanks anywhere. */
static int
parse_where(struct ss_map_op *op, const char *arg)
{
    static const struct {
        const char *s;
        enum ss_map_cmp c;
    } cmps[] = {
        {">=", SS_CMP_GE}, {"<=", SS_CMP_LE}, {"==", SS_CMP_EQ},
        {"!=", SS_CMP_NE}, {">", SS_CMP_GT},  {"<", SS_CMP_LT},
    };

    const char *p = arg, *end;
    size_t i;

    while (ss_scan_blank[(unsigned char)*p])
        p++;
    if (strncmp(p, "value", 5) != 0)
        goto bad;
    p += 5;
    while (ss_scan_blank[(unsigned char)*p])
        p++;
    for (i = 0; i < sizeof(cmps) / sizeof(cmps[0]); i++)
        if (strncmp(p, cmps[i].s, strlen(cmps[i].s)) == 0)
            break;
    if (i == sizeof(cmps) / sizeof(cmps[0]))
        goto bad;
    op->cmp = cmps[i].c;
    p += strlen(cmps[i].s);
    while (ss_scan_blank[(unsigned char)*p])
        p++;
    end = p + strlen(p);
    while (end > p && ss_scan_blank[(unsigned char)end[-1]])
        end--;
    if (ss_num_parse(p, (size_t)(end - p), &op->num) < 0)
        goto bad;
    return 0;
bad:
    return ss_diag("--where: '%s' is not a test (try 'value >= 100'; "
                   "operators > >= < <= == !=)",
                   arg);
}

static int
parse_arg(struct ss_map_config *cfg, struct ss_map_op *op, const char *arg)
{
    char why[256];
    uint64_t n;

    switch (op->kind) {
    case SS_MAP_FLAT_MAP:
    case SS_MAP_FLAT_MAP_VALUES:
        return parse_fn(op, arg, 1);
    case SS_MAP_MAP:
    case SS_MAP_MAP_VALUES:
        return parse_fn(op, arg, 0);
    case SS_MAP_KEY_FIELD:
    case SS_MAP_VALUE_FIELD:
        if (ss_opt_count(op->opt, arg, 1, MAX_FIELD, &n) < 0)
            return -1;
        op->n = (size_t)n;
        return 0;
    case SS_MAP_PAIR:
        op->str = arg;
        op->slen = strlen(arg);
        return 0;
    case SS_MAP_FILTER:
    case SS_MAP_FILTER_OUT:
        if ((op->re = ss_regex_compile(arg, why, sizeof(why))) == NULL)
            return ss_diag("%s: '%s' is not a valid pattern: %s", op->opt, arg,
                           why);
        return 0;
    case SS_MAP_WHERE:
        return parse_where(op, arg);
    case SS_MAP_REDUCE:
    case SS_MAP_REDUCE_BY_KEY:
        if (ss_op_lookup(arg, &op->op) < 0)
            return ss_diag("%s: unknown operator '%s' (try sum, count, min, "
                           "max, mean, first, last or concat)",
                           op->opt, arg);
        return 0;
    case SS_MAP_GROUP_BY_KEY:
        op->op = SS_OP_CONCAT;
        return 0;
    case SS_MAP_UNION:
    case SS_MAP_JOIN_STREAM:
    case SS_MAP_COGROUP:
        op->input = ++cfg->nstreams;
        /* FALLTHROUGH */
    case SS_MAP_JOIN:
    case SS_MAP_EXEC:
        if (arg[0] == '\0')
            return ss_diag("%s: empty argument", op->opt);
        return 0;
    default:
        return 0;
    }
}

int
ss_map_config_add(struct ss_map_config *cfg, enum ss_map_kind kind,
                  const char *opt, const char *arg)
{
    struct ss_map_op *op;

    if (cfg->nops == cfg->cap) {
        size_t cap = cfg->cap ? cfg->cap * 2 : 8;

        if ((op = realloc(cfg->ops, cap * sizeof(*op))) == NULL)
            return ss_diag_err(-ENOMEM, "%s", opt);
        cfg->ops = op;
        cfg->cap = cap;
    }
    op = &cfg->ops[cfg->nops];
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    op->opt = opt;
    op->arg = arg;
    if (parse_arg(cfg, op, arg) < 0) {
        ss_regex_free(op->re);
        return -1;
    }
    cfg->nops++;
    return 0;
}

/* ---- running ---- */

struct step {
    int keyed_in;          /* records reaching this step have keys */
    struct ss_buf scratch; /* a changed value, a key text, exec input */
    struct ss_buf out;     /* exec output, formatted results */
    struct ss_keytab tab;  /* count-by-value, reduce-by-key, group-by-key */
    struct ss_acc acc;     /* reduce */
    uint64_t count;        /* count; glom: values so far */
    struct ss_join_side left, right;
    struct ss_buf file; /* --join FILE: the table's bytes */
};

struct map {
    const struct ss_map_config *cfg;
    struct step *st;
    struct ss_multi in;
    struct ss_frame_writer w;
    struct ss_arena arena;
    struct ss_rejects rej;
    struct ss_stats stats;
    int64_t time;
    uint64_t recno; /* record being pushed, from 1, for messages */
    int keyed_main; /* stdin's records have keys */
    int keyed_out;  /* what this batch writes */
};

static int push(struct map *m, size_t i, struct ss_rec r);
static int count_words(struct step *st, const char *p, const char *end);

static int
needs_keys(enum ss_map_kind k)
{
    return k == SS_MAP_FLAT_MAP_VALUES || k == SS_MAP_MAP_VALUES ||
           k == SS_MAP_REDUCE_BY_KEY || k == SS_MAP_GROUP_BY_KEY ||
           k == SS_MAP_JOIN || k == SS_MAP_JOIN_STREAM || k == SS_MAP_COGROUP;
}

static int
keyed_after(enum ss_map_kind k, int keyed)
{
    switch (k) {
    case SS_MAP_FLAT_MAP:
    case SS_MAP_GLOM:
    case SS_MAP_COUNT:
    case SS_MAP_REDUCE:
        return 0;
    case SS_MAP_KEY_FIELD:
    case SS_MAP_PAIR:
    case SS_MAP_COUNT_BY_VALUE:
        return 1;
    default:
        return keyed;
    }
}

/* Which steps see keys this batch, from whether stdin's records have
 * them; -1 when a step that needs keys would get none. */
static int
plan(struct map *m)
{
    int keyed = m->keyed_main;

    for (size_t i = 0; i < m->cfg->nops; i++) {
        const struct ss_map_op *op = &m->cfg->ops[i];

        if (needs_keys(op->kind) && !keyed)
            return ss_diag("%s needs key/value records (make them with "
                           "--pair, --key-field or --count-by-value)",
                           op->opt);
        m->st[i].keyed_in = keyed;
        keyed = keyed_after(op->kind, keyed);
    }
    m->keyed_out = keyed;
    return 0;
}

/* A record that a step cannot take: said, counted, kept if asked. */
static int reject(struct map *m, const struct ss_rec *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
reject(struct map *m, const struct ss_rec *r, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ss_diag_rec(m->time, m->recno, "%s", msg);
    ss_rejects_put(&m->rej, r->key, r->klen, r->val, r->vlen);
    return 0;
}

/* Field k (from 1) of p[0..n): separated by fs, or by runs of blanks
 * (leading blanks skipped, as awk does) when fs is 0. 1 found, 0 not. */
static int
field(const char *p, size_t n, char fs, size_t k, struct ss_rec *r)
{
    const char *end = p + n, *q;

    if (fs != 0) {
        for (; k > 1; k--) {
            if ((q = memchr(p, fs, (size_t)(end - p))) == NULL)
                return 0;
            p = q + 1;
        }
        q = memchr(p, fs, (size_t)(end - p));
        r->val = p;
        r->vlen = (size_t)((q != NULL ? q : end) - p);
        return 1;
    }
    for (;;) {
        while (p < end && ss_scan_blank[(unsigned char)*p])
            p++;
        if (p == end)
            return 0;
        for (q = p; q < end && !ss_scan_blank[(unsigned char)*q]; q++)
            ;
        if (--k == 0) {
            r->val = p;
            r->vlen = (size_t)(q - p);
            return 1;
        }
        p = q;
    }
}

/* A map function on r's value: 1 changed in place, 0 rejected. The new
 * bytes, if any, live in the step's scratch until the next record. */
static int
map_fn(struct map *m, size_t i, struct ss_rec *r)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    struct ss_rec f;
    int up;

    switch (op->fn) {
    case SS_MAP_FN_TRIM:
        while (r->vlen > 0 && ss_scan_blank[(unsigned char)r->val[0]])
            r->val++, r->vlen--;
        while (r->vlen > 0 && ss_scan_blank[(unsigned char)r->val[r->vlen - 1]])
            r->vlen--;
        return 1;
    case SS_MAP_FN_FIELD:
        if (!field(r->val, r->vlen, m->cfg->fs, op->n, &f))
            return reject(m, r, "%s: '%.*s' has no field %zu", op->opt,
                          (int)r->vlen, r->val, op->n);
        r->val = f.val;
        r->vlen = f.vlen;
        return 1;
    default:
        break;
    }
    up = op->fn == SS_MAP_FN_UPPER;
    ss_buf_reset(&st->scratch);
    if (ss_buf_reserve(&st->scratch, r->vlen + 1) < 0)
        return -ENOMEM;
    for (size_t j = 0; j < r->vlen; j++) {
        unsigned char c = (unsigned char)r->val[j];

        if (up && c >= 'a' && c <= 'z')
            c -= 'a' - 'A';
        else if (!up && c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        st->scratch.data[j] = (char)c;
    }
    ss_buf_commit(&st->scratch, r->vlen);
    r->val = st->scratch.data;
    return 1;
}

/* The first s[0..slen) in p[0..n), or NULL (memmem() is not POSIX). */
static const char *
find(const char *p, size_t n, const char *s, size_t slen)
{
    const char *end = p + n, *q;

    while ((size_t)(end - p) >= slen &&
           (q = memchr(p, s[0], (size_t)(end - p) - slen + 1)) != NULL) {
        if (memcmp(q, s, slen) == 0)
            return q;
        p = q + 1;
    }
    return NULL;
}

/* Split r's value and push each piece on: words (runs of blanks, empty
 * pieces never made) or a delimiter (every piece, empty ones too, as
 * Spark's split keeps inner empties). */
static int
flat_map(struct map *m, size_t i, const struct ss_rec *r)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    const char *p = r->val, *end = r->val + r->vlen, *q;
    struct ss_rec o = *r;
    int rc;

    if (op->kind == SS_MAP_FLAT_MAP)
        o.key = NULL, o.klen = 0;
    if (op->fn == SS_MAP_FN_WORDS && o.key == NULL && i + 1 < m->cfg->nops &&
        m->cfg->ops[i + 1].kind == SS_MAP_COUNT_BY_VALUE)
        return count_words(&m->st[i + 1], p, end);
    if (op->fn == SS_MAP_FN_WORDS) {
        struct ss_words it;

        ss_words_init(&it, p, end, end);
        while (ss_words_next(&it, &o.val, &o.vlen))
            if ((rc = push(m, i + 1, o)) < 0)
                return rc;
        return 0;
    }
    for (;;) {
        q = find(p, (size_t)(end - p), op->str, op->slen);
        o.val = p;
        o.vlen = (size_t)((q != NULL ? q : end) - p);
        if ((rc = push(m, i + 1, o)) < 0)
            return rc;
        if (q == NULL)
            return 0;
        p = q + op->slen;
    }
}

static int
where(struct map *m, size_t i, const struct ss_rec *r)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct ss_num x;
    int c;

    if (ss_num_parse(r->val, r->vlen, &x) < 0)
        return reject(m, r, "'%.*s' is not a number", (int)r->vlen, r->val);
    c = ss_num_cmp(&x, &op->num);
    switch (op->cmp) {
    case SS_CMP_LT:
        return c < 0;
    case SS_CMP_LE:
        return c <= 0;
    case SS_CMP_GT:
        return c > 0;
    case SS_CMP_GE:
        return c >= 0;
    case SS_CMP_EQ:
        return c == 0;
    default:
        return c != 0;
    }
}

static int
overflow(struct map *m, size_t i, const struct ss_rec *r)
{
    const struct ss_map_op *op = &m->cfg->ops[i];

    if (op->kind == SS_MAP_REDUCE)
        return ss_diag_rec(m->time, m->recno,
                           "%s %s: the sum leaves the 64-bit integer range",
                           op->opt, ss_op_name(op->op));
    return ss_diag_rec(m->time, m->recno,
                       "%s %s: the sum for key '%.*s' leaves the 64-bit "
                       "integer range",
                       op->opt, ss_op_name(op->op), (int)r->klen, r->key);
}

/* Fold r's value into acc; 0 (folded or rejected) or < 0 to stop. */
static int
fold(struct map *m, size_t i, struct ss_acc *acc, const struct ss_rec *r)
{
    int rc = ss_acc_add(acc, m->cfg->ops[i].op, r->val, r->vlen, m->cfg->sep);

    if (rc == -EINVAL)
        return reject(m, r, "'%.*s' is not a number", (int)r->vlen, r->val);
    if (rc == -ERANGE)
        return overflow(m, i, r);
    return rc;
}

/* key<TAB>value (or the value) as one line, for --exec and for counting
 * key/value records by value. */
static int
as_line(struct ss_buf *b, const struct ss_rec *r)
{
    if (ss_buf_reserve(b, r->klen + r->vlen + 2) < 0)
        return -ENOMEM;
    if (r->key != NULL) {
        ss_buf_append(b, r->key, r->klen);
        ss_buf_putc(b, '\t');
    }
    ss_buf_append(b, r->val, r->vlen);
    return 0;
}

/* Count one value (a key/value record counts as its key<TAB>value line,
 * built in scratch: the record's bytes may live anywhere). */
static int
count_value(struct map *m, size_t i, const struct ss_rec *r)
{
    struct step *st = &m->st[i];
    const char *k = r->val;
    size_t klen = r->vlen;
    uint64_t *n;
    int created;

    if (r->key != NULL) {
        ss_buf_reset(&st->scratch);
        if (as_line(&st->scratch, r) < 0)
            return -ENOMEM;
        k = st->scratch.data;
        klen = st->scratch.len;
    }
    if ((n = ss_keytab_get(&st->tab, k, klen, &created)) == NULL)
        return -ENOMEM;
    (*n)++;
    return 0;
}

/* Lookups in flight while counting words: a word's index slot is
 * prefetched when it is split off, its entry half a ring later, and it is
 * looked up a whole ring later, so that the cache misses of a big
 * vocabulary overlap instead of stalling one word at a time. */
#define RING 32

struct word_ring {
    struct ss_keytab_key k[RING];
    size_t head, tail; /* words split off, words counted */
};

static int
count_key(struct step *st, const struct ss_keytab_key *k)
{
    uint64_t *n;
    int created;

    if ((n = ss_keytab_get_key(&st->tab, k, &created)) == NULL)
        return -ENOMEM;
    (*n)++;
    return 0;
}

/* Queue the words of p[0..end) for counting; bytes up to limit may be
 * read. The bytes must stay put until ring_drain(). */
static int
ring_add_words(struct step *st, struct word_ring *r, const char *p,
               const char *end, const char *limit)
{
    struct ss_words it;
    const char *w;
    size_t n;

    ss_words_init(&it, p, end, limit);
    while (ss_words_next(&it, &w, &n)) {
        struct ss_keytab_key *k;

        if (r->head - r->tail == RING &&
            count_key(st, &r->k[r->tail++ % RING]) < 0)
            return -ENOMEM;
        k = &r->k[r->head % RING];
        if (n <= SS_KEYTAB_SHORT && (size_t)(limit - w) >= SS_KEYTAB_SHORT)
            ss_keytab_key_short(k, w, n);
        else
            ss_keytab_key(k, w, n);
        ss_keytab_prefetch(&st->tab, k->h, 0);
        if (r->head - r->tail >= RING / 2)
            ss_keytab_prefetch(&st->tab, r->k[(r->head - RING / 2) % RING].h,
                               1);
        r->head++;
    }
    return 0;
}

static int
ring_drain(struct step *st, struct word_ring *r)
{
    while (r->tail < r->head)
        if (count_key(st, &r->k[r->tail++ % RING]) < 0)
            return -ENOMEM;
    return 0;
}

/* --flat-map words straight into --count-by-value: the word count's inner
 * loop, without a trip through push() per word. Words are counted in
 * order, so keys keep their order of first appearance. */
static int
count_words(struct step *st, const char *p, const char *end)
{
    struct word_ring r = {.head = 0, .tail = 0};

    if (ring_add_words(st, &r, p, end, end) < 0)
        return -ENOMEM;
    return ring_drain(st, &r);
}

/* The same over a whole frame of stdin, when it is the first step: the
 * ring then spans lines, the frame's bytes outlive it, and every word but
 * the last few can be loaded 16 bytes at a time. */
static int
count_words_frame(struct map *m, const struct ss_frame *f)
{
    struct word_ring r = {.head = 0, .tail = 0};
    const char *limit = f->payload + f->payload_len;
    struct ss_rec_iter it;
    struct ss_rec rec;

    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &rec)) {
        m->recno++;
        if (ring_add_words(&m->st[1], &r, rec.val, rec.val + rec.vlen, limit) <
            0)
            return -ENOMEM;
    }
    return ring_drain(&m->st[1], &r);
}

static int
keep_for_join(struct map *m, size_t i, const struct ss_rec *r)
{
    struct ss_rec c;

    c.key = ss_arena_dup(&m->arena, r->key, r->klen);
    c.klen = r->klen;
    c.val = ss_arena_dup(&m->arena, r->val, r->vlen);
    c.vlen = r->vlen;
    if (c.key == NULL || c.val == NULL)
        return -ENOMEM;
    return ss_join_side_add(&m->st[i].left, &c);
}

/* The step of a batch-wide operation takes one record. */
static int
collect(struct map *m, size_t i, const struct ss_rec *r)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    struct ss_acc *acc;
    int created;

    switch (op->kind) {
    case SS_MAP_EXEC:
        if (as_line(&st->scratch, r) < 0 || ss_buf_putc(&st->scratch, '\n'))
            return -ENOMEM;
        return 0;
    case SS_MAP_GLOM:
        if (st->count++ > 0 && ss_buf_putc(&st->scratch, m->cfg->sep) < 0)
            return -ENOMEM;
        return ss_buf_append(&st->scratch, r->val, r->vlen);
    case SS_MAP_COUNT:
        st->count++;
        return 0;
    case SS_MAP_COUNT_BY_VALUE:
        return count_value(m, i, r);
    case SS_MAP_REDUCE:
        return fold(m, i, &st->acc, r);
    case SS_MAP_REDUCE_BY_KEY:
    case SS_MAP_GROUP_BY_KEY:
        if ((acc = ss_keytab_get(&st->tab, r->key, r->klen, &created)) == NULL)
            return -ENOMEM;
        return fold(m, i, acc, r);
    default: /* joins and cogroup */
        return keep_for_join(m, i, r);
    }
}

/* Push r into step i and on through the steps after it. 0, or < 0 to
 * stop the run (-1 reported, or an errno code). */
static int
push(struct map *m, size_t i, struct ss_rec r)
{
    const struct ss_map_config *cfg = m->cfg;
    int rc;

    for (; i < cfg->nops; i++) {
        const struct ss_map_op *op = &cfg->ops[i];

        switch (op->kind) {
        case SS_MAP_FLAT_MAP:
        case SS_MAP_FLAT_MAP_VALUES:
            return flat_map(m, i, &r);
        case SS_MAP_MAP:
        case SS_MAP_MAP_VALUES:
            if ((rc = map_fn(m, i, &r)) <= 0)
                return rc;
            break;
        case SS_MAP_KEY_FIELD:
        case SS_MAP_VALUE_FIELD: {
            struct ss_rec f;

            if (!field(r.val, r.vlen, cfg->fs, op->n, &f))
                return reject(m, &r, "%s: '%.*s' has no field %zu", op->opt,
                              (int)r.vlen, r.val, op->n);
            if (op->kind == SS_MAP_KEY_FIELD)
                r.key = f.val, r.klen = f.vlen;
            else
                r.val = f.val, r.vlen = f.vlen;
            break;
        }
        case SS_MAP_PAIR:
            r.key = r.val;
            r.klen = r.vlen;
            r.val = op->str;
            r.vlen = op->slen;
            break;
        case SS_MAP_FILTER:
        case SS_MAP_FILTER_OUT:
            if ((rc = ss_regex_match(op->re, r.val, r.vlen)) < 0)
                return reject(m, &r,
                              "%s: cannot match '%.*s' (PCRE2 error "
                              "%d)",
                              op->opt, (int)r.vlen, r.val, rc);
            if (rc == (op->kind == SS_MAP_FILTER_OUT))
                return 0;
            break;
        case SS_MAP_WHERE:
            if ((rc = where(m, i, &r)) <= 0)
                return rc;
            break;
        case SS_MAP_UNION:
            break;
        default:
            return collect(m, i, &r);
        }
    }
    return ss_frame_writer_add(&m->w, r.key, r.klen, r.val, r.vlen);
}

/* ---- finishing a batch ---- */

static int
push_text(struct map *m, size_t i, const char *k, size_t klen, const char *v,
          size_t vlen)
{
    struct ss_rec r = {k, klen, v, vlen};

    m->recno++;
    return push(m, i, r);
}

static int
emit_join(void *arg, const char *k, size_t klen, const char *v, size_t vlen)
{
    void **a = arg;

    return push_text(a[0], *(size_t *)a[1], k, klen, v, vlen);
}

/* The frames of stream op->input at this batch's time, record by record,
 * into 'to' (NULL: pushed on to step i + 1). */
static int
read_stream(struct map *m, size_t i, struct ss_join_side *to)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct ss_rec_iter it;
    struct ss_frame f;
    struct ss_rec r, c;
    int rc;

    m->recno = 0;
    while ((rc = ss_multi_part(&m->in, op->input, &f)) > 0) {
        int keyed = (f.flags & SS_FRAME_KEYED) != 0;

        if (to != NULL && !keyed)
            return ss_diag("%s '%s' needs key/value records", op->opt, op->arg);
        if (to == NULL && keyed != m->st[i].keyed_in)
            return ss_diag("%s '%s': cannot unite %s records with %s ones",
                           op->opt, op->arg, keyed ? "key/value" : "keyless",
                           keyed ? "keyless" : "key/value");
        ss_stats_in(&m->stats, &f);
        ss_frame_iter_init(&it, &f);
        while (ss_frame_iter_next(&it, &r)) {
            m->recno++;
            if (to == NULL) {
                if ((rc = push(m, i + 1, r)) < 0)
                    return rc;
                continue;
            }
            c.key = ss_arena_dup(&m->arena, r.key, r.klen);
            c.klen = r.klen;
            c.val = ss_arena_dup(&m->arena, r.val, r.vlen);
            c.vlen = r.vlen;
            if (c.key == NULL || c.val == NULL || ss_join_side_add(to, &c) < 0)
                return -ENOMEM;
        }
    }
    return rc;
}

static int
join(struct map *m, size_t i)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    enum ss_join_type type = m->cfg->join;
    void *arg[2] = {m, &(size_t){i + 1}};
    int rc;

    if (op->kind != SS_MAP_JOIN) {
        if ((rc = read_stream(m, i, &st->right)) < 0)
            return rc;
        if (op->kind == SS_MAP_COGROUP)
            type = SS_JOIN_COGROUP;
    }
    m->recno = 0;
    rc = ss_join_run(&st->left, &st->right, type, m->cfg->sep, &st->out,
                     emit_join, arg);
    ss_join_side_clear(&st->left);
    if (op->kind != SS_MAP_JOIN)
        ss_join_side_clear(&st->right);
    return rc;
}

/* The command's output lines become the batch: split back into key and
 * value at the first tab when its input had keys. */
static int
exec_lines(struct map *m, size_t i)
{
    struct step *st = &m->st[i];
    const char *p = st->out.data, *end = p + st->out.len, *nl, *tab;
    struct ss_rec r;
    int rc;

    m->recno = 0;
    for (; p < end; p = nl + 1) {
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        r.key = NULL;
        r.klen = 0;
        r.val = p;
        r.vlen = (size_t)(nl - p);
        m->recno++;
        if (st->keyed_in) {
            if ((tab = memchr(p, '\t', r.vlen)) == NULL) {
                reject(m, &r, "--exec: '%.*s' has no tab between key and value",
                       (int)r.vlen, r.val);
                continue;
            }
            r.key = p;
            r.klen = (size_t)(tab - p);
            r.val = tab + 1;
            r.vlen = (size_t)(nl - tab - 1);
        }
        if ((rc = push(m, i + 1, r)) < 0)
            return rc;
    }
    return 0;
}

static int
exec(struct map *m, size_t i)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    char env[48], how[96];
    const char *envp[] = {env, NULL};
    struct ss_proc_opts po = {
        .cmd = op->arg,
        .env = envp,
        .in = st->scratch.data,
        .inlen = st->scratch.len,
        .out = &st->out,
    };
    struct ss_proc_status ps;
    int rc;

    snprintf(env, sizeof(env), "SSTREAM_BATCH_TIME=%" PRId64, m->time);
    ss_buf_reset(&st->out);
    rc = ss_proc_run(&po, &ps);
    ss_buf_reset(&st->scratch);
    if (rc < 0)
        return ss_diag_err(rc, "batch %" PRId64 ": --exec '%s'", m->time,
                           op->arg);
    if (!ss_proc_ok(&ps))
        return ss_diag("batch %" PRId64 ": --exec '%s': %s", m->time, op->arg,
                       ss_proc_describe(&ps, how, sizeof(how)));
    return exec_lines(m, i);
}

/* Results of a keyed aggregation, keys in order of first appearance. */
static int
emit_table(struct map *m, size_t i)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    char num[24];
    const char *k;
    size_t klen, cur = 0;
    void *v;
    int rc = 0;

    m->recno = 0;
    while (rc == 0 && (v = ss_keytab_next(&st->tab, &cur, &k, &klen))) {
        if (op->kind == SS_MAP_COUNT_BY_VALUE) {
            int n = snprintf(num, sizeof(num), "%" PRIu64, *(uint64_t *)v);

            rc = push_text(m, i + 1, k, klen, num, (size_t)n);
            continue;
        }
        if (((struct ss_acc *)v)->n == 0)
            continue; /* every value of the key was rejected */
        ss_buf_reset(&st->out);
        if ((rc = ss_acc_format(v, op->op, &st->out)) < 0)
            break;
        rc = push_text(m, i + 1, k, klen, st->out.data, st->out.len);
    }
    ss_keytab_clear(&st->tab);
    return rc;
}

static int
finish(struct map *m, size_t i)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    char num[24];
    int n, rc = 0;

    m->recno = 0;
    switch (op->kind) {
    case SS_MAP_UNION:
        return read_stream(m, i, NULL);
    case SS_MAP_EXEC:
        return exec(m, i);
    case SS_MAP_GLOM:
        if (st->count > 0)
            rc =
                push_text(m, i + 1, NULL, 0, st->scratch.data, st->scratch.len);
        ss_buf_reset(&st->scratch);
        st->count = 0;
        return rc;
    case SS_MAP_COUNT:
        /* An empty batch counts 0, as Spark's count() says. */
        n = snprintf(num, sizeof(num), "%" PRIu64, st->count);
        st->count = 0;
        return push_text(m, i + 1, NULL, 0, num, (size_t)n);
    case SS_MAP_REDUCE:
        if (st->acc.n > 0) {
            ss_buf_reset(&st->out);
            if ((rc = ss_acc_format(&st->acc, op->op, &st->out)) == 0)
                rc = push_text(m, i + 1, NULL, 0, st->out.data, st->out.len);
        }
        ss_acc_reset(&st->acc);
        return rc;
    case SS_MAP_COUNT_BY_VALUE:
    case SS_MAP_REDUCE_BY_KEY:
    case SS_MAP_GROUP_BY_KEY:
        return emit_table(m, i);
    case SS_MAP_JOIN:
    case SS_MAP_JOIN_STREAM:
    case SS_MAP_COGROUP:
        return join(m, i);
    default:
        return 0;
    }
}

/* ---- the run ---- */

static void
drop_acc(void *v)
{
    ss_acc_release(v);
}

/* --join FILE: key<TAB>value lines, loaded once as the right side. */
static int
load_table(struct step *st, const char *path)
{
    const char *p, *end, *nl, *tab;
    unsigned long line = 0;
    struct ss_rec r;
    int rc;

    if ((rc = ss_io_slurp(path, &st->file)) < 0)
        return ss_diag_err(rc, "--join: cannot read '%s'", path);
    p = st->file.data;
    end = p + st->file.len;
    for (; p < end; p = nl + 1) {
        line++;
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        if ((tab = memchr(p, '\t', (size_t)(nl - p))) == NULL)
            return ss_diag("--join: '%s' line %lu: no tab between key and "
                           "value",
                           path, line);
        r.key = p;
        r.klen = (size_t)(tab - p);
        r.val = tab + 1;
        r.vlen = (size_t)(nl - tab - 1);
        if (ss_join_side_add(&st->right, &r) < 0)
            return ss_diag_err(-ENOMEM, "--join: '%s'", path);
    }
    return 0;
}

static int
setup(struct map *m, const struct ss_map_config *cfg)
{
    memset(m, 0, sizeof(*m));
    m->cfg = cfg;
    ss_frame_writer_init(&m->w, STDOUT_FILENO);
    if (ss_rejects_open(&m->rej, cfg->rejects) < 0)
        return -1;
    if ((m->st = calloc(cfg->nops + 1, sizeof(*m->st))) == NULL ||
        ss_multi_init(&m->in, cfg->nstreams + 1) < 0)
        return ss_diag_err(-ENOMEM, "setting up");
    for (size_t i = 0; i < cfg->nops; i++) {
        const struct ss_map_op *op = &cfg->ops[i];
        struct step *st = &m->st[i];

        ss_keytab_init(&st->tab,
                       op->kind == SS_MAP_COUNT_BY_VALUE
                           ? sizeof(uint64_t)
                           : sizeof(struct ss_acc),
                       op->kind == SS_MAP_COUNT_BY_VALUE ? NULL : drop_acc);
        ss_join_side_init(&st->left);
        ss_join_side_init(&st->right);
        if (op->kind == SS_MAP_JOIN && load_table(st, op->arg) < 0)
            return -1;
        if (op->input > 0 &&
            ss_multi_open(&m->in, op->input, op->opt, op->arg) < 0)
            return -1;
    }
    return 0;
}

static void
teardown(struct map *m)
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
    }
    free(m->st);
    ss_multi_release(&m->in);
    ss_frame_writer_release(&m->w);
    ss_arena_release(&m->arena);
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

/* stdin's part of the batch at m->time, record by record. */
static int
read_main(struct map *m)
{
    struct ss_rec_iter it;
    struct ss_frame f;
    struct ss_rec r;
    int rc;

    m->recno = 0;
    while ((rc = ss_multi_part(&m->in, 0, &f)) > 0) {
        if (((f.flags & SS_FRAME_KEYED) != 0) != m->keyed_main)
            return ss_diag("stdin: batch %" PRId64 " mixes key/value and "
                           "keyless frames",
                           m->time);
        ss_stats_in(&m->stats, &f);
        if (!(f.flags & SS_FRAME_MORE))
            ss_frame_writer_trail(&m->w, &f);
        if (word_count_first(m)) {
            if ((rc = count_words_frame(m, &f)) < 0)
                return rc;
            continue;
        }
        ss_frame_iter_init(&it, &f);
        while (ss_frame_iter_next(&it, &r)) {
            m->recno++;
            if ((rc = push(m, 0, r)) < 0)
                return rc;
        }
    }
    return rc;
}

/* When the source closed this batch: the main input's stamp, or the
 * first --union stream's that has one, passed on for delay figures. */
static int64_t
closed_at(const struct map *m)
{
    for (size_t i = 0; i < m->in.n; i++)
        if (ss_multi_has(&m->in, i) && m->in.in[i].f.closed_ms != 0)
            return m->in.in[i].f.closed_ms;
    return 0;
}

/* The longest replay span of the inputs: a restart may send any of
 * them again that far back (man/sstream.5, replay_ms). */
static uint32_t
replay_of(const struct map *m)
{
    uint32_t ms = 0;

    for (size_t i = 0; i < m->in.n; i++)
        if (m->in.in[i].f.replay_ms > ms)
            ms = m->in.in[i].f.replay_ms;
    return ms;
}

static int
batch(struct map *m)
{
    int rc;

    m->time = m->in.time;
    if (ss_multi_has(&m->in, 0))
        m->keyed_main = (m->in.in[0].f.flags & SS_FRAME_KEYED) != 0;
    if (plan(m) < 0)
        return -1;
    ss_frame_writer_begin(&m->w, m->time, m->in.interval,
                          m->keyed_out ? SS_FRAME_KEYED : 0);
    m->w.closed_ms = closed_at(m);
    m->w.replay_ms = replay_of(m);
    if ((rc = read_main(m)) < 0)
        return rc;
    for (size_t i = 0; i < m->cfg->nops; i++)
        if ((rc = finish(m, i)) < 0)
            return rc;
    ss_stats_stamp(&m->stats);
    rc = ss_frame_writer_end(&m->w);
    ss_stats_end(&m->stats);
    ss_arena_reset(&m->arena);
    if (rc == 0 && ss_rejects_flush(&m->rej) < 0)
        rc = -1;
    return rc;
}

int
ss_map_run(const struct ss_map_config *cfg)
{
    struct map m;
    int rc;

    if ((rc = setup(&m, cfg)) == 0 &&
        (rc = ss_stats_open(&m.stats, "map", &cfg->stats)) == 0) {
        m.stats.w = &m.w;
        m.stats.rej = &m.rej;
        while ((rc = ss_multi_next(&m.in)) > 0) {
            ss_stats_begin(&m.stats);
            if ((rc = batch(&m)) < 0)
                break;
        }
        if (rc == 0)
            rc = ss_frame_writer_eos(&m.w, m.in.last, m.in.interval);
    }
    if (rc < -1 && rc != -EPIPE)
        rc = ss_diag_err(rc, "stdout");
    if (rc < 0 && rc != -EPIPE)
        ss_frame_writer_abort(&m.w);
    ss_rejects_report(&m.rej);
    if (ss_stats_close(&m.stats) < 0 && rc == 0)
        rc = -1;
    if (ss_rejects_close(&m.rej) < 0 && rc == 0)
        rc = -1;
    if (rc == 0 && ss_rejects_lost(&m.rej))
        rc = -1;
    teardown(&m);
    return rc;
}
