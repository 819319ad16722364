/* map_record.c - sstream-map's operations on one record at a time:
 * fields, flat-maps, filters, pairs, and what the whole-batch operations
 * take in as the records pass (map_int.h).
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

/* ---- one record at a time ---- */

static int count_words(struct step *st, const char *p, const char *end);

/* A record that a step cannot take: said, counted, kept if asked. */
int
ss_map__reject(struct map *m, const struct ss_rec *r, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ss_rejects_record(m->rej, m->time, m->recno, r, "%s", msg);
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
    return ss_map__reject(m, r, "%s: '%.*s' has no field %zu", op->opt,
                          (int)r->vlen, r->val, op->n);
}

/* --map, --map-values: 1 changed in place, 0 rejected. The new bytes, if
 * any, live in the step's scratch until the next record. */
int
ss_map__map_value(struct map *m, size_t i, struct ss_rec *r)
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
            if ((rc = ss_map__push(m, i + 1, o)) < 0)
                return rc;
        return 0;
    }
    for (;;) {
        q = find(p, (size_t)(end - p), op->str, op->slen);
        o.val = p;
        o.vlen = (size_t)((q != NULL ? q : end) - p);
        if ((rc = ss_map__push(m, i + 1, o)) < 0)
            return rc;
        if (q == NULL)
            return 0;
        p = q + op->slen;
    }
}

int
ss_map__flat_map(struct map *m, size_t i, struct ss_rec *r)
{
    struct ss_rec o = {NULL, 0, r->val, r->vlen};

    if (m->st[i].fused)
        return count_words(&m->st[i + 1], r->val, r->val + r->vlen);
    return split(m, i, o);
}

int
ss_map__flat_map_values(struct map *m, size_t i, struct ss_rec *r)
{
    return split(m, i, *r);
}

int
ss_map__key_field(struct map *m, size_t i, struct ss_rec *r)
{
    struct ss_rec f;

    if (!take_field(m, i, r, &f))
        return 0;
    r->key = f.val;
    r->klen = f.vlen;
    return 1;
}

int
ss_map__value_field(struct map *m, size_t i, struct ss_rec *r)
{
    struct ss_rec f;

    if (!take_field(m, i, r, &f))
        return 0;
    r->val = f.val;
    r->vlen = f.vlen;
    return 1;
}

/* Field op->sel of r's value, a JSON object (sstream-source --format), into
 * f: 1; 0 when r was rejected (not an object, no such field); or -ENOMEM.
 * The text lives in the step's scratch until its next record. */
static int
take_named(struct map *m, size_t i, const struct ss_rec *r, struct ss_rec *f)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    const char *why;
    int rc = ss_fields_json_get(&m->json, r->val, r->vlen, &op->sel,
                                &m->st[i].scratch, &f->val, &f->vlen, &why);

    if (rc == 0)
        return ss_map__reject(m, r, "%s: no field '%s'", op->opt, op->arg);
    if (rc == -EINVAL)
        return ss_map__reject(m, r, "%s: %s", op->opt, why);
    return rc;
}

int
ss_map__key_named(struct map *m, size_t i, struct ss_rec *r)
{
    struct ss_rec f;
    int rc;

    if ((rc = take_named(m, i, r, &f)) <= 0)
        return rc;
    r->key = f.val;
    r->klen = f.vlen;
    return 1;
}

int
ss_map__value_named(struct map *m, size_t i, struct ss_rec *r)
{
    struct ss_rec f;
    int rc;

    if ((rc = take_named(m, i, r, &f)) <= 0)
        return rc;
    r->val = f.val;
    r->vlen = f.vlen;
    return 1;
}

int
ss_map__pair(struct map *m, size_t i, struct ss_rec *r)
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
        return ss_map__reject(m, r, "%s: cannot match '%.*s' (PCRE2 error %d)",
                              op->opt, (int)r->vlen, r->val, rc);
    return rc == keep;
}

int
ss_map__keep_matches(struct map *m, size_t i, struct ss_rec *r)
{
    return filter(m, i, r, 1);
}

int
ss_map__drop_matches(struct map *m, size_t i, struct ss_rec *r)
{
    return filter(m, i, r, 0);
}

int
ss_map__where(struct map *m, size_t i, struct ss_rec *r)
{
    const struct ss_map_op *op = &m->cfg->ops[i];
    struct ss_num x;
    int c;

    if (ss_num_parse(r->val, r->vlen, &x) < 0)
        return ss_map__reject(m, r, "'%.*s' is not a number", (int)r->vlen,
                              r->val);
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
int
ss_map__distinct(struct map *m, size_t i, struct ss_rec *r)
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

int
ss_map__forget_seen(struct map *m, size_t i)
{
    ss_keytab_clear(&m->st[i].tab);
    return 0;
}

/* --union: the batch's records go on as they are; the other stream's
 * follow when the batch is complete (ss_map__unite()). */
int
ss_map__pass(struct map *m, size_t i, struct ss_rec *r)
{
    (void)m, (void)i, (void)r;
    return 1;
}

/* ---- the whole batch: taking records ---- */

/* Fold r's value into acc; 0 (folded or rejected) or < 0 to stop. */
static int
fold(struct map *m, size_t i, struct ss_acc *acc, const struct ss_rec *r)
{
    int rc = ss_acc_add(acc, m->cfg->ops[i].op, r->val, r->vlen, m->cfg->sep);

    if (rc == -EINVAL || rc == -ERANGE) {
        ss_rejects_value(m->rej, m->time, m->recno, r, rc);
        return 0;
    }
    return rc;
}

int
ss_map__reduce_take(struct map *m, size_t i, struct ss_rec *r)
{
    return fold(m, i, &m->st[i].acc, r);
}

int
ss_map__group_take(struct map *m, size_t i, struct ss_rec *r)
{
    struct ss_acc *acc;
    int created;

    if ((acc = ss_keytab_get(&m->st[i].tab, r->key, r->klen, &created)) == NULL)
        return -ENOMEM;
    return fold(m, i, acc, r);
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

/* --take N: the first N records pass; the count starts again with each
 * batch. */
int
ss_map__take(struct map *m, size_t i, struct ss_rec *r)
{
    (void)r;
    return m->st[i].count++ < m->cfg->ops[i].n;
}

int
ss_map__take_reset(struct map *m, size_t i)
{
    m->st[i].count = 0;
    return 0;
}

int
ss_map__exec_take(struct map *m, size_t i, struct ss_rec *r)
{
    struct step *st = &m->st[i];

    if (as_line(&st->scratch, r) < 0 || ss_buf_putc(&st->scratch, '\n'))
        return -ENOMEM;
    return 0;
}

int
ss_map__glom_take(struct map *m, size_t i, struct ss_rec *r)
{
    struct step *st = &m->st[i];

    if (st->count++ > 0 && ss_buf_putc(&st->scratch, m->cfg->sep) < 0)
        return -ENOMEM;
    return ss_buf_append(&st->scratch, r->val, r->vlen);
}

int
ss_map__count_take(struct map *m, size_t i, struct ss_rec *r)
{
    (void)r;
    m->st[i].count++;
    return 0;
}

/* Count one value (a key/value record counts as its key<TAB>value line,
 * built in scratch: the record's bytes may live anywhere). */
int
ss_map__count_value(struct map *m, size_t i, struct ss_rec *r)
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
 * loop, without a trip through ss_map__push() per word. Words are counted in
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
int
ss_map__count_words_frame(struct map *m, const struct ss_frame *f)
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
