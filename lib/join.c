/* join.c - joins as nested walks of per-key record chains.
 *
 * Each side chains its records by key through an array of next indexes
 * (one uint32_t per record, kept across batches), so grouping a batch
 * allocates nothing once the arrays have grown to the largest batch.
 */
#include "join.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define END UINT32_MAX

struct chain {
    uint32_t head, tail;
};

static const char *const type_names[] = {
    [SS_JOIN_INNER] = "inner",
    [SS_JOIN_LEFT] = "left",
    [SS_JOIN_RIGHT] = "right",
    [SS_JOIN_FULL] = "full",
};

int
ss_join_type_lookup(const char *name, enum ss_join_type *type)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *type = (enum ss_join_type)i;
            return 0;
        }
    }
    return -EINVAL;
}

uint32_t
ss_join_frame_flags(enum ss_join_type type, unsigned missing)
{
    uint32_t f = SS_FRAME_PAIRS;

    if (type == SS_JOIN_COGROUP)
        return 0;
    if (type == SS_JOIN_RIGHT || type == SS_JOIN_FULL)
        f |= SS_FRAME_OPT_LEFT;
    if (type == SS_JOIN_LEFT || type == SS_JOIN_FULL)
        f |= SS_FRAME_OPT_RIGHT;
    if (missing & SS_JOIN_NO_LEFT)
        f |= SS_FRAME_NO_LEFT;
    if (missing & SS_JOIN_NO_RIGHT)
        f |= SS_FRAME_NO_RIGHT;
    return f;
}

void
ss_join_side_init(struct ss_join_side *s)
{
    memset(s, 0, sizeof(*s));
    ss_keytab_init(&s->keys, sizeof(struct chain), NULL);
}

static const struct ss_rec *
rec_at(const struct ss_join_side *s, uint32_t i)
{
    return (const struct ss_rec *)(const void *)s->recs.data + i;
}

static uint32_t *
next_at(const struct ss_join_side *s, uint32_t i)
{
    return (uint32_t *)(void *)s->next.data + i;
}

int
ss_join_side_add(struct ss_join_side *s, const struct ss_rec *r)
{
    size_t n = ss_join_side_count(s);
    uint32_t end = END;
    struct chain *c;
    int created;

    if (n >= END - 1)
        return -ENOMEM;
    if ((c = ss_keytab_get(&s->keys, r->key, r->klen, &created)) == NULL)
        return -ENOMEM;
    if (ss_buf_append(&s->recs, r, sizeof(*r)) < 0)
        return -ENOMEM;
    if (ss_buf_append(&s->next, &end, sizeof(end)) < 0) {
        s->recs.len -= sizeof(*r);
        return -ENOMEM;
    }
    if (created)
        c->head = (uint32_t)n;
    else
        *next_at(s, c->tail) = (uint32_t)n;
    c->tail = (uint32_t)n;
    return 0;
}

size_t
ss_join_side_count(const struct ss_join_side *s)
{
    return s->recs.len / sizeof(struct ss_rec);
}

void
ss_join_side_clear(struct ss_join_side *s)
{
    ss_keytab_clear(&s->keys);
    ss_buf_reset(&s->recs);
    ss_buf_reset(&s->next);
}

void
ss_join_side_release(struct ss_join_side *s)
{
    ss_keytab_release(&s->keys);
    ss_buf_release(&s->recs);
    ss_buf_release(&s->next);
}

/* Every value of one chain joined by sep, onto out. */
static int
group(const struct ss_join_side *s, const struct chain *c, char sep,
      struct ss_buf *out)
{
    for (uint32_t i = c != NULL ? c->head : END; i != END; i = *next_at(s, i)) {
        const struct ss_rec *r = rec_at(s, i);

        if (i != c->head && ss_buf_putc(out, sep) < 0)
            return -ENOMEM;
        if (ss_buf_append(out, r->val, r->vlen) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* l and r are records or NULL for a missing side. */
static int
pair(struct ss_buf *out, const struct ss_rec *l, const struct ss_rec *r)
{
    ss_buf_reset(out);
    if (l != NULL && ss_buf_append(out, l->val, l->vlen) < 0)
        return -ENOMEM;
    if (ss_buf_putc(out, '\t') < 0)
        return -ENOMEM;
    if (r != NULL && ss_buf_append(out, r->val, r->vlen) < 0)
        return -ENOMEM;
    return 0;
}

/* Emit what one key gives; lc or rc is NULL when that side lacks it. */
static int
one_key(const struct ss_join_side *left, const struct ss_join_side *right,
        const struct chain *lc, const struct chain *rc, enum ss_join_type type,
        char sep, struct ss_buf *out, const char *k, size_t klen,
        ss_join_emit_fn emit, void *arg)
{
    int rc_;

    if (type == SS_JOIN_COGROUP) {
        ss_buf_reset(out);
        if (group(left, lc, sep, out) < 0 || ss_buf_putc(out, '\t') < 0 ||
            group(right, rc, sep, out) < 0)
            return -ENOMEM;
        return emit(arg, k, klen, out->data, out->len, 0);
    }
    if (lc == NULL || rc == NULL) {
        int keep = lc != NULL ? type == SS_JOIN_LEFT || type == SS_JOIN_FULL
                              : type == SS_JOIN_RIGHT || type == SS_JOIN_FULL;
        const struct ss_join_side *s = lc != NULL ? left : right;
        const struct chain *c = lc != NULL ? lc : rc;
        unsigned missing = lc != NULL ? SS_JOIN_NO_RIGHT : SS_JOIN_NO_LEFT;

        for (uint32_t i = c->head; keep && i != END; i = *next_at(s, i)) {
            if (pair(out, lc != NULL ? rec_at(s, i) : NULL,
                     lc != NULL ? NULL : rec_at(s, i)) < 0)
                return -ENOMEM;
            if ((rc_ = emit(arg, k, klen, out->data, out->len, missing)) != 0)
                return rc_;
        }
        return 0;
    }
    for (uint32_t i = lc->head; i != END; i = *next_at(left, i)) {
        for (uint32_t j = rc->head; j != END; j = *next_at(right, j)) {
            if (pair(out, rec_at(left, i), rec_at(right, j)) < 0)
                return -ENOMEM;
            if ((rc_ = emit(arg, k, klen, out->data, out->len, 0)) != 0)
                return rc_;
        }
    }
    return 0;
}

/* The left side's keys in order: those the right side has too when
 * 'matched', else those it lacks. */
static int
left_keys(const struct ss_join_side *left, const struct ss_join_side *right,
          int matched, enum ss_join_type type, char sep, struct ss_buf *scratch,
          ss_join_emit_fn emit, void *arg)
{
    const struct chain *lc, *rc;
    const char *k;
    size_t klen, cur = 0;
    int rc_;

    while ((lc = ss_keytab_next(&left->keys, &cur, &k, &klen)) != NULL) {
        rc = ss_keytab_find(&right->keys, k, klen);
        if ((rc != NULL) != matched)
            continue;
        if ((rc_ = one_key(left, right, lc, rc, type, sep, scratch, k, klen,
                           emit, arg)) != 0)
            return rc_;
    }
    return 0;
}

/* An outer join gives the pairs of both sides first, then the records of
 * one side only, left then right: the frame marks each run's missing
 * side (SS_FRAME_NO_LEFT, _RIGHT) by starting a part, so one run of each
 * costs three parts a batch, where keys in plain order, matched and not
 * in turn, could cost a frame header per record. A cogroup keeps the
 * left side's order. */
int
ss_join_run(const struct ss_join_side *left, const struct ss_join_side *right,
            enum ss_join_type type, char sep, struct ss_buf *scratch,
            ss_join_emit_fn emit, void *arg)
{
    const struct chain *rc;
    const char *k;
    size_t klen, cur = 0;
    int rc_;

    if (type == SS_JOIN_COGROUP) {
        const struct chain *lc;

        while ((lc = ss_keytab_next(&left->keys, &cur, &k, &klen)) != NULL) {
            rc = ss_keytab_find(&right->keys, k, klen);
            if ((rc_ = one_key(left, right, lc, rc, type, sep, scratch, k, klen,
                               emit, arg)) != 0)
                return rc_;
        }
        cur = 0;
    } else {
        if ((rc_ = left_keys(left, right, 1, type, sep, scratch, emit, arg)) !=
                0 ||
            (type != SS_JOIN_INNER && type != SS_JOIN_RIGHT &&
             (rc_ = left_keys(left, right, 0, type, sep, scratch, emit, arg)) !=
                 0))
            return rc_;
    }
    if (type == SS_JOIN_INNER || type == SS_JOIN_LEFT)
        return 0;
    while ((rc = ss_keytab_next(&right->keys, &cur, &k, &klen)) != NULL) {
        if (ss_keytab_find(&left->keys, k, klen) != NULL)
            continue;
        if ((rc_ = one_key(left, right, NULL, rc, type, sep, scratch, k, klen,
                           emit, arg)) != 0)
            return rc_;
    }
    return 0;
}
