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
 * Every operation is one row of kinds[] (near the end): its option, what
 * it needs and makes, and its functions; the engine dispatches through
 * the rows only, so a new operation is a row and its functions.
 *
 * Memory: one arena per batch, reset when the batch is written; key tables
 * and buffers are kept across batches. Nothing is allocated per record.
 */
#include "map.h"

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

struct map;

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

/* ---- arguments ---- */

static int
parse_flat_fn(struct ss_map_op *op, const char *arg)
{
    if (strcmp(arg, "words") == 0)
        op->fn = SS_MAP_FN_WORDS;
    else if (strncmp(arg, "split:", 6) == 0 && arg[6] != '\0') {
        op->fn = SS_MAP_FN_SPLIT;
        op->str = arg + 6;
        op->slen = strlen(op->str);
    } else
        return ss_diag("%s: unknown function '%s' (try words or split:DELIM)",
                       op->opt, arg);
    return 0;
}

static int
parse_field(struct ss_map_op *op, const char *arg)
{
    uint64_t n;

    if (ss_opt_count(op->opt, arg, 1, MAX_FIELD, &n) < 0)
        return -1;
    op->n = (size_t)n;
    return 0;
}

static int
parse_map_fn(struct ss_map_op *op, const char *arg)
{
    if (strcmp(arg, "lower") == 0)
        op->fn = SS_MAP_FN_LOWER;
    else if (strcmp(arg, "upper") == 0)
        op->fn = SS_MAP_FN_UPPER;
    else if (strcmp(arg, "trim") == 0)
        op->fn = SS_MAP_FN_TRIM;
    else if (strncmp(arg, "field:", 6) == 0) {
        op->fn = SS_MAP_FN_FIELD;
        return parse_field(op, arg + 6);
    } else
        return ss_diag("%s: unknown function '%s' (try lower, upper, trim or "
                       "field:N)",
                       op->opt, arg);
    return 0;
}

static int
parse_text(struct ss_map_op *op, const char *arg)
{
    op->str = arg;
    op->slen = strlen(arg);
    return 0;
}

static int
parse_pattern(struct ss_map_op *op, const char *arg)
{
    char why[256];

    if ((op->re = ss_regex_compile(arg, why, sizeof(why))) == NULL)
        return ss_diag("%s: '%s' is not a valid pattern: %s", op->opt, arg,
                       why);
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
parse_operator(struct ss_map_op *op, const char *arg)
{
    if (ss_op_lookup(arg, &op->op) < 0)
        return ss_diag("%s: unknown operator '%s' (try sum, count, min, "
                       "max, mean, first, last or concat)",
                       op->opt, arg);
    return 0;
}

/* --group-by-key is --reduce-by-key concat: no argument to parse. */
static int
set_concat(struct ss_map_op *op, const char *arg)
{
    (void)arg;
    op->op = SS_OP_CONCAT;
    return 0;
}

/* A path or a command. */
static int
parse_nonempty(struct ss_map_op *op, const char *arg)
{
    if (arg[0] == '\0')
        return ss_diag("%s: empty argument", op->opt);
    return 0;
}

/* ---- one record at a time ---- */

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

/* Field op->n of r's value into f: 1, or 0 when r was rejected. */
static int
take_field(struct map *m, size_t i, const struct ss_rec *r, struct ss_rec *f)
{
    const struct ss_map_op *op = &m->cfg->ops[i];

    if (field(r->val, r->vlen, m->cfg->fs, op->n, f))
        return 1;
    return reject(m, r, "%s: '%.*s' has no field %zu", op->opt, (int)r->vlen,
                  r->val, op->n);
}

/* --map, --map-values: 1 changed in place, 0 rejected. The new bytes, if
 * any, live in the step's scratch until the next record. */
static int
map_value(struct map *m, size_t i, struct ss_rec *r)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    struct ss_rec f;
    const char *p;
    char *d;
    size_t n;
    int up;

    switch (op->fn) {
    case SS_MAP_FN_TRIM:
        while (r->vlen > 0 && ss_scan_blank[(unsigned char)r->val[0]])
            r->val++, r->vlen--;
        while (r->vlen > 0 && ss_scan_blank[(unsigned char)r->val[r->vlen - 1]])
            r->vlen--;
        return 1;
    case SS_MAP_FN_FIELD:
        if (!take_field(m, i, r, &f))
            return 0;
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
    /* in locals: the bytes written could alias *r for the compiler */
    p = r->val;
    n = r->vlen;
    d = st->scratch.data;
    for (size_t j = 0; j < n; j++) {
        unsigned char c = (unsigned char)p[j];

        if (up && c >= 'a' && c <= 'z')
            c -= 'a' - 'A';
        else if (!up && c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        d[j] = (char)c;
    }
    ss_buf_commit(&st->scratch, n);
    r->val = d;
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

/* Split r's value and push each piece on, with r's key: words (runs of
 * blanks, empty pieces never made) or a delimiter (every piece, empty
 * ones too, as Spark's split keeps inner empties). */
static int
split(struct map *m, size_t i, struct ss_rec o)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    const char *p = o.val, *end = o.val + o.vlen, *q;
    int rc;

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
flat_map(struct map *m, size_t i, struct ss_rec *r)
{
    struct ss_rec o = {NULL, 0, r->val, r->vlen};

    if (m->st[i].fused)
        return count_words(&m->st[i + 1], r->val, r->val + r->vlen);
    return split(m, i, o);
}

static int
flat_map_values(struct map *m, size_t i, struct ss_rec *r)
{
    return split(m, i, *r);
}

static int
key_field(struct map *m, size_t i, struct ss_rec *r)
{
    struct ss_rec f;

    if (!take_field(m, i, r, &f))
        return 0;
    r->key = f.val;
    r->klen = f.vlen;
    return 1;
}

static int
value_field(struct map *m, size_t i, struct ss_rec *r)
{
    struct ss_rec f;

    if (!take_field(m, i, r, &f))
        return 0;
    r->val = f.val;
    r->vlen = f.vlen;
    return 1;
}

static int
pair(struct map *m, size_t i, struct ss_rec *r)
{
    const struct ss_map_op *op = &m->cfg->ops[i];

    r->key = r->val;
    r->klen = r->vlen;
    r->val = op->str;
    r->vlen = op->slen;
    return 1;
}

/* 1 when r's value matches as 'keep' says (1: --filter, 0: --filter-out),
 * else 0; a value that cannot be matched is rejected. */
static int
filter(struct map *m, size_t i, const struct ss_rec *r, int keep)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    int rc;

    if ((rc = ss_regex_match(op->re, r->val, r->vlen)) < 0)
        return reject(m, r, "%s: cannot match '%.*s' (PCRE2 error %d)", op->opt,
                      (int)r->vlen, r->val, rc);
    return rc == keep;
}

static int
keep_matches(struct map *m, size_t i, struct ss_rec *r)
{
    return filter(m, i, r, 1);
}

static int
drop_matches(struct map *m, size_t i, struct ss_rec *r)
{
    return filter(m, i, r, 0);
}

static int
where(struct map *m, size_t i, struct ss_rec *r)
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

/* --distinct: a record goes on the first time the batch shows it; a
 * key/value record is the pair, its key's length first in the table's
 * key, so that (a<TAB>b, c) and (a, b<TAB>c) stay two records. */
static int
distinct(struct map *m, size_t i, struct ss_rec *r)
{
    struct step *st = &m->st[i];
    const char *k = r->val;
    size_t klen = r->vlen;
    int created;

    if (st->keyed_in) {
        ss_buf_reset(&st->scratch);
        if (ss_buf_reserve(&st->scratch, sizeof(r->klen) + r->klen + r->vlen) <
            0)
            return -ENOMEM;
        ss_buf_append(&st->scratch, &r->klen, sizeof(r->klen));
        ss_buf_append(&st->scratch, r->key, r->klen);
        ss_buf_append(&st->scratch, r->val, r->vlen);
        k = st->scratch.data;
        klen = st->scratch.len;
    }
    if (ss_keytab_get(&st->tab, k, klen, &created) == NULL)
        return -ENOMEM;
    return created;
}

static int
forget_seen(struct map *m, size_t i)
{
    ss_keytab_clear(&m->st[i].tab);
    return 0;
}

/* --union: the batch's records go on as they are; the other stream's
 * follow when the batch is complete (unite()). */
static int
pass(struct map *m, size_t i, struct ss_rec *r)
{
    (void)m, (void)i, (void)r;
    return 1;
}

/* ---- the whole batch: taking records ---- */

static int
overflow(struct map *m, size_t i, const struct ss_rec *r, int per_key)
{
    const struct ss_map_op *op = &m->cfg->ops[i];

    if (!per_key)
        return ss_diag_rec(m->time, m->recno,
                           "%s %s: the sum leaves the 64-bit integer range",
                           op->opt, ss_op_name(op->op));
    return ss_diag_rec(m->time, m->recno,
                       "%s %s: the sum for key '%.*s' leaves the 64-bit "
                       "integer range",
                       op->opt, ss_op_name(op->op), (int)r->klen, r->key);
}

/* Fold r's value into acc (the key's when per_key); 0 (folded or
 * rejected) or < 0 to stop. */
static int
fold(struct map *m, size_t i, struct ss_acc *acc, const struct ss_rec *r,
     int per_key)
{
    int rc = ss_acc_add(acc, m->cfg->ops[i].op, r->val, r->vlen, m->cfg->sep);

    if (rc == -EINVAL)
        return reject(m, r, "'%.*s' is not a number", (int)r->vlen, r->val);
    if (rc == -ERANGE)
        return overflow(m, i, r, per_key);
    return rc;
}

static int
reduce_take(struct map *m, size_t i, struct ss_rec *r)
{
    return fold(m, i, &m->st[i].acc, r, 0);
}

static int
group_take(struct map *m, size_t i, struct ss_rec *r)
{
    struct ss_acc *acc;
    int created;

    if ((acc = ss_keytab_get(&m->st[i].tab, r->key, r->klen, &created)) == NULL)
        return -ENOMEM;
    return fold(m, i, acc, r, 1);
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

static int
exec_take(struct map *m, size_t i, struct ss_rec *r)
{
    struct step *st = &m->st[i];

    if (as_line(&st->scratch, r) < 0 || ss_buf_putc(&st->scratch, '\n'))
        return -ENOMEM;
    return 0;
}

static int
glom_take(struct map *m, size_t i, struct ss_rec *r)
{
    struct step *st = &m->st[i];

    if (st->count++ > 0 && ss_buf_putc(&st->scratch, m->cfg->sep) < 0)
        return -ENOMEM;
    return ss_buf_append(&st->scratch, r->val, r->vlen);
}

static int
count_take(struct map *m, size_t i, struct ss_rec *r)
{
    (void)r;
    m->st[i].count++;
    return 0;
}

/* Count one value (a key/value record counts as its key<TAB>value line,
 * built in scratch: the record's bytes may live anywhere). */
static int
count_value(struct map *m, size_t i, struct ss_rec *r)
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

/* --join, --join-stream, --cogroup: the batch is the left side. */
static int
keep_for_join(struct map *m, size_t i, struct ss_rec *r)
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

/* ---- the whole batch: passing results on ---- */

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
unite(struct map *m, size_t i)
{
    return read_stream(m, i, NULL);
}

/* The batch (left) joined with the step's right side. */
static int
join_with(struct map *m, size_t i, enum ss_join_type type)
{
    struct step *st = &m->st[i];
    void *arg[2] = {m, &(size_t){i + 1}};
    int rc;

    m->recno = 0;
    rc = ss_join_run(&st->left, &st->right, type, m->cfg->sep, &st->out,
                     emit_join, arg);
    ss_join_side_clear(&st->left);
    return rc;
}

/* --join FILE: the right side is the table, loaded once. */
static int
join_table(struct map *m, size_t i)
{
    return join_with(m, i, m->cfg->join);
}

/* The right side is the other stream's batch. */
static int
join_batch(struct map *m, size_t i, enum ss_join_type type)
{
    int rc;

    if ((rc = read_stream(m, i, &m->st[i].right)) < 0)
        return rc;
    rc = join_with(m, i, type);
    ss_join_side_clear(&m->st[i].right);
    return rc;
}

static int
join_stream(struct map *m, size_t i)
{
    return join_batch(m, i, m->cfg->join);
}

static int
cogroup(struct map *m, size_t i)
{
    return join_batch(m, i, SS_JOIN_COGROUP);
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

/* A value of a keyed aggregation as text in r->val: 1, or 0 when the
 * key has none (it is left out), or < 0. */
static int
format_count(struct step *st, const struct ss_map_op *op, void *v,
             struct ss_rec *r)
{
    (void)op;
    r->vlen =
        (size_t)snprintf(st->num, sizeof(st->num), "%" PRIu64, *(uint64_t *)v);
    r->val = st->num;
    return 1;
}

static int
format_acc(struct step *st, const struct ss_map_op *op, void *v,
           struct ss_rec *r)
{
    int rc;

    if (((struct ss_acc *)v)->n == 0)
        return 0; /* every value of the key was rejected */
    ss_buf_reset(&st->out);
    if ((rc = ss_acc_format(v, op->op, &st->out)) < 0)
        return rc;
    r->val = st->out.data;
    r->vlen = st->out.len;
    return 1;
}

/* Results of a keyed aggregation, keys in order of first appearance.
 * Inline: each caller's format() is then a direct call. */
static inline int
emit_table(struct map *m, size_t i,
           int (*format)(struct step *, const struct ss_map_op *, void *,
                         struct ss_rec *))
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    struct ss_rec r;
    size_t cur = 0;
    void *v;
    int rc = 0;

    m->recno = 0;
    while (rc == 0 && (v = ss_keytab_next(&st->tab, &cur, &r.key, &r.klen)))
        if ((rc = format(st, op, v, &r)) > 0)
            rc = push_text(m, i + 1, r.key, r.klen, r.val, r.vlen);
    ss_keytab_clear(&st->tab);
    return rc;
}

static int
emit_counts(struct map *m, size_t i)
{
    return emit_table(m, i, format_count);
}

static int
emit_groups(struct map *m, size_t i)
{
    return emit_table(m, i, format_acc);
}

static int
glom(struct map *m, size_t i)
{
    struct step *st = &m->st[i];
    int rc = 0;

    if (st->count > 0)
        rc = push_text(m, i + 1, NULL, 0, st->scratch.data, st->scratch.len);
    ss_buf_reset(&st->scratch);
    st->count = 0;
    return rc;
}

/* An empty batch counts 0, as Spark's count() says. */
static int
count(struct map *m, size_t i)
{
    struct step *st = &m->st[i];
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRIu64, st->count);

    st->count = 0;
    return push_text(m, i + 1, NULL, 0, num, (size_t)n);
}

static int
reduce(struct map *m, size_t i)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct step *st = &m->st[i];
    int rc = 0;

    if (st->acc.n > 0) {
        ss_buf_reset(&st->out);
        if ((rc = ss_acc_format(&st->acc, op->op, &st->out)) == 0)
            rc = push_text(m, i + 1, NULL, 0, st->out.data, st->out.len);
    }
    ss_acc_reset(&st->acc);
    return rc;
}

/* ---- setting a step up, before the first batch ---- */

/* --flat-map words straight into --count-by-value: the word count's inner
 * loop, without a trip through push() per word. */
static int
setup_flat_map(struct map *m, size_t i)
{
    const struct ss_map_config *cfg = m->cfg;

    m->st[i].fused = cfg->ops[i].fn == SS_MAP_FN_WORDS && i + 1 < cfg->nops &&
                     cfg->ops[i + 1].kind == SS_MAP_COUNT_BY_VALUE;
    return 0;
}

static int
setup_counts(struct map *m, size_t i)
{
    ss_keytab_init(&m->st[i].tab, sizeof(uint64_t), NULL);
    return 0;
}

/* --distinct: the records seen, as keys without values. */
static int
setup_seen(struct map *m, size_t i)
{
    ss_keytab_init(&m->st[i].tab, 0, NULL);
    return 0;
}

static void
drop_acc(void *v)
{
    ss_acc_release(v);
}

static int
setup_groups(struct map *m, size_t i)
{
    ss_keytab_init(&m->st[i].tab, sizeof(struct ss_acc), drop_acc);
    return 0;
}

/* --join FILE: key<TAB>value lines, loaded once as the right side. */
static int
setup_table(struct map *m, size_t i)
{
    struct step *st = &m->st[i];
    const char *path = m->cfg->ops[i].arg, *p, *end, *nl, *tab;
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
    /* The argument into op (NULL: nothing to parse); 0, or -1 said. */
    int (*parse)(struct ss_map_op *op, const char *arg);
    /* Once before the first batch (NULL: nothing); 0, or -1 said. */
    int (*setup)(struct map *m, size_t i);
    /* Step i takes r: 1 to pass r (changed in place) on to step i + 1;
     * 0 when it dropped r, kept it for the end of the batch, or pushed
     * what it made on itself; < 0 to stop the run (-1 said, or an errno
     * code). */
    int (*record)(struct map *m, size_t i, struct ss_rec *r);
    /* The batch is complete (NULL: nothing to do): push the results on
     * to step i + 1 and forget the batch. 0, or < 0 as above. */
    int (*finish)(struct map *m, size_t i);
};

#define BATCH SS_MAP_PER_BATCH

/* .opt is {option, letter, argument, help line, section}. */
static const struct kind kinds[] = {
    [SS_MAP_FLAT_MAP] =
        {
            .opt = {"--flat-map", 'f', "FUNC",
                    "split values: words, split:DELIM"},
            .flags = DROPS_KEYS,
            .parse = parse_flat_fn,
            .setup = setup_flat_map,
            .record = flat_map,
        },
    [SS_MAP_FLAT_MAP_VALUES] =
        {
            .opt = {"--flat-map-values", 0, "FUNC",
                    "the same, keeping each record's key"},
            .flags = NEEDS_KEYS,
            .parse = parse_flat_fn,
            .record = flat_map_values,
        },
    [SS_MAP_MAP] =
        {
            .opt = {"--map", 0, "FUNC",
                    "change values: lower, upper, trim, field:N"},
            .parse = parse_map_fn,
            .record = map_value,
        },
    [SS_MAP_MAP_VALUES] =
        {
            .opt = {"--map-values", 0, "FUNC",
                    "the same, for key/value records only"},
            .flags = NEEDS_KEYS,
            .parse = parse_map_fn,
            .record = map_value,
        },
    [SS_MAP_KEY_FIELD] =
        {
            .opt = {"--key-field", 0, "N", "key = field N of the value"},
            .flags = MAKES_KEYS,
            .parse = parse_field,
            .record = key_field,
        },
    [SS_MAP_VALUE_FIELD] =
        {
            .opt = {"--value-field", 0, "N", "value = field N of the value"},
            .parse = parse_field,
            .record = value_field,
        },
    [SS_MAP_PAIR] =
        {
            .opt = {"--pair", 0, "V",
                    "key = the value, value = V (Spark's (w, 1))"},
            .flags = MAKES_KEYS,
            .parse = parse_text,
            .record = pair,
        },
    [SS_MAP_FILTER] =
        {
            .opt = {"--filter", 0, "REGEX", "keep values that match (PCRE2)"},
            .parse = parse_pattern,
            .record = keep_matches,
        },
    [SS_MAP_FILTER_OUT] =
        {
            .opt = {"--filter-out", 0, "REGEX", "drop values that match"},
            .parse = parse_pattern,
            .record = drop_matches,
        },
    [SS_MAP_WHERE] =
        {
            .opt = {"--where", 0, "'value OP N'",
                    "keep values that compare true (> >= < <= == !=)"},
            .parse = parse_where,
            .record = where,
        },
    [SS_MAP_DISTINCT] =
        {
            .opt = {"--distinct", 0, NULL,
                    "drop records already seen in the batch"},
            .setup = setup_seen,
            .record = distinct,
            .finish = forget_seen,
        },
    [SS_MAP_UNION] =
        {
            .opt = {"--union", 0, "PATH",
                    "add the records of another frame stream"},
            .flags = STREAM,
            .parse = parse_nonempty,
            .record = pass,
            .finish = unite,
        },
    [SS_MAP_COUNT] =
        {
            .opt = {"--count", 'c', NULL, "the number of records", BATCH},
            .flags = DROPS_KEYS,
            .record = count_take,
            .finish = count,
        },
    [SS_MAP_COUNT_BY_VALUE] =
        {
            .opt = {"--count-by-value", 0, NULL,
                    "(value, count) per distinct value", BATCH},
            .flags = MAKES_KEYS,
            .setup = setup_counts,
            .record = count_value,
            .finish = emit_counts,
        },
    [SS_MAP_REDUCE] =
        {
            .opt = {"--reduce", 'r', "OP", "OP over all values", BATCH},
            .flags = DROPS_KEYS,
            .parse = parse_operator,
            .record = reduce_take,
            .finish = reduce,
        },
    [SS_MAP_REDUCE_BY_KEY] =
        {
            .opt = {"--reduce-by-key", 0, "OP",
                    "(key, OP over its values) per key", BATCH},
            .flags = NEEDS_KEYS,
            .parse = parse_operator,
            .setup = setup_groups,
            .record = group_take,
            .finish = emit_groups,
        },
    [SS_MAP_GROUP_BY_KEY] =
        {
            .opt = {"--group-by-key", 0, NULL,
                    "(key, its values joined by the separator)", BATCH},
            .flags = NEEDS_KEYS,
            .parse = set_concat,
            .setup = setup_groups,
            .record = group_take,
            .finish = emit_groups,
        },
    [SS_MAP_GLOM] =
        {
            .opt = {"--glom", 0, NULL, "all values joined by the separator",
                    BATCH},
            .flags = DROPS_KEYS,
            .record = glom_take,
            .finish = glom,
        },
    [SS_MAP_JOIN] =
        {
            .opt = {"--join", 0, "FILE", "join with a key<TAB>value table",
                    BATCH},
            .flags = NEEDS_KEYS,
            .parse = parse_nonempty,
            .setup = setup_table,
            .record = keep_for_join,
            .finish = join_table,
        },
    [SS_MAP_JOIN_STREAM] =
        {
            .opt = {"--join-stream", 0,
                    "PATH", "join with another frame stream", BATCH},
            .flags = NEEDS_KEYS | STREAM,
            .parse = parse_nonempty,
            .record = keep_for_join,
            .finish = join_stream,
        },
    [SS_MAP_COGROUP] =
        {
            .opt = {"--cogroup", 0, "PATH", "cogroup with another frame stream",
                    BATCH},
            .flags = NEEDS_KEYS | STREAM,
            .parse = parse_nonempty,
            .record = keep_for_join,
            .finish = cogroup,
        },
    [SS_MAP_EXEC] =
        {
            .opt = {"--exec", 0, "CMD",
                    "pipe the batch through a shell command", BATCH},
            .parse = parse_nonempty,
            .record = exec_take,
            .finish = exec,
        },
};

_Static_assert(sizeof(kinds) / sizeof(kinds[0]) == SS_MAP_NKINDS,
               "an operation of enum ss_map_kind has no row in kinds[]");

/* The row of kind k. A row left out in the middle of kinds[] is all
 * zero: caught here, at every start (sstream-map lists every option). */
static const struct kind *
kind_of(enum ss_map_kind k)
{
    assert(k < SS_MAP_NKINDS && kinds[k].opt.name != NULL &&
           kinds[k].record != NULL);
    return &kinds[k];
}

/* ---- configuration ---- */

const struct ss_map_option *
ss_map_option(enum ss_map_kind k)
{
    return &kind_of(k)->opt;
}

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

int
ss_map_config_add(struct ss_map_config *cfg, enum ss_map_kind k,
                  const char *arg)
{
    const struct kind *kind = kind_of(k);
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
        return -1;
    }
    if (kind->flags & STREAM)
        op->input = ++cfg->nstreams;
    cfg->nops++;
    return 0;
}

/* ---- running ---- */

/* Which steps see keys this batch, from whether stdin's records have
 * them; -1 when a step that needs keys would get none. */
static int
plan(struct map *m)
{
    int keyed = m->keyed_main;

    for (size_t i = 0; i < m->cfg->nops; i++) {
        const struct ss_map_op *op = &m->cfg->ops[i];
        const struct kind *kind = &kinds[op->kind];

        if ((kind->flags & NEEDS_KEYS) && !keyed)
            return ss_diag("%s needs key/value records (make them with "
                           "--pair, --key-field or --count-by-value)",
                           op->opt);
        m->st[i].keyed_in = keyed;
        if (kind->flags & (MAKES_KEYS | DROPS_KEYS))
            keyed = (kind->flags & MAKES_KEYS) != 0;
    }
    m->keyed_out = keyed;
    return 0;
}

/* Push r into step i and on through the steps after it. 0, or < 0 to
 * stop the run (-1 reported, or an errno code). */
static int
push(struct map *m, size_t i, struct ss_rec r)
{
    const struct ss_map_config *cfg = m->cfg;
    int rc;

    for (; i < cfg->nops; i++)
        if ((rc = m->st[i].record(m, i, &r)) <= 0)
            return rc;
    return ss_frame_writer_add(&m->w, r.key, r.klen, r.val, r.vlen);
}

/* Every step's results, in step order. */
static int
finish(struct map *m)
{
    int rc;

    for (size_t i = 0; i < m->cfg->nops; i++) {
        int (*fn)(struct map *, size_t) = kinds[m->cfg->ops[i].kind].finish;

        m->recno = 0;
        if (fn != NULL && (rc = fn(m, i)) < 0)
            return rc;
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
        const struct kind *kind = &kinds[op->kind];

        m->st[i].record = kind->record;
        ss_join_side_init(&m->st[i].left);
        ss_join_side_init(&m->st[i].right);
        if (kind->setup != NULL && kind->setup(m, i) < 0)
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

static int
batch(struct map *m)
{
    int rc;

    m->time = m->in.time;
    if (ss_multi_has(&m->in, 0))
        m->keyed_main = (m->in.in[0].br.f.flags & SS_FRAME_KEYED) != 0;
    if (plan(m) < 0)
        return -1;
    ss_frame_writer_begin(&m->w, m->time, m->in.interval,
                          m->keyed_out ? SS_FRAME_KEYED : 0);
    m->w.closed_ms = closed_at(m);
    m->w.replay_ms = replay_of(m);
    if ((rc = read_main(m)) < 0)
        return rc;
    if ((rc = finish(m)) < 0)
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
