/* rank.c - the order of --sort-by and --top (rank.h). */
#include "rank.h"

#include <stdlib.h>
#include <string.h>

void
ss_rank_item_init(struct ss_rank_item *e, const struct ss_rec *r, int by_key,
                  size_t seq)
{
    e->r = *r; /* a keyless record keeps its NULL key */
    if (by_key)
        e->is_num = ss_num_parse(r->key, r->klen, &e->num) == 0;
    else
        e->is_num = ss_num_parse(r->val, r->vlen, &e->num) == 0;
    e->seq = seq;
}

/* Text in byte order, a prefix first. A keyless record's key is NULL,
 * which memcmp() must not see, even for 0 bytes. */
static int
cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n > 0 ? memcmp(a, b, n) : 0;

    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

/* Two numbers by value; a number before text; two texts by their bytes. */
static int
cmp_field(const struct ss_num *an, int anum, const char *a, size_t alen,
          const struct ss_num *bn, int bnum, const char *b, size_t blen)
{
    if (anum && bnum)
        return ss_num_cmp(an, bn);
    if (anum != bnum)
        return anum ? -1 : 1;
    return cmp_bytes(a, alen, b, blen);
}

/* The key as a sort field, for the tie-break of a sort by value. */
static int
cmp_keys(const struct ss_rec *a, const struct ss_rec *b)
{
    struct ss_num an, bn;
    int anum = ss_num_parse(a->key, a->klen, &an) == 0;
    int bnum = ss_num_parse(b->key, b->klen, &bn) == 0;

    return cmp_field(&an, anum, a->key, a->klen, &bn, bnum, b->key, b->klen);
}

static int
cmp_sort_field(const struct ss_rank_item *a, const struct ss_rank_item *b,
               int by_key)
{
    if (by_key)
        return cmp_field(&a->num, a->is_num, a->r.key, a->r.klen, &b->num,
                         b->is_num, b->r.key, b->r.klen);
    return cmp_field(&a->num, a->is_num, a->r.val, a->r.vlen, &b->num,
                     b->is_num, b->r.val, b->r.vlen);
}

/* The field (reversed by desc), for values the key, then arrival.
 * qsort() takes no context: one comparator per combination. */
static int
cmp_items(const void *pa, const void *pb, int by_key, int desc)
{
    const struct ss_rank_item *a = pa, *b = pb;
    int c = cmp_sort_field(a, b, by_key);

    if (c != 0)
        return desc ? -c : c;
    if (!by_key && (c = cmp_keys(&a->r, &b->r)) != 0)
        return c;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static int
by_value(const void *a, const void *b)
{
    return cmp_items(a, b, 0, 0);
}

static int
by_value_desc(const void *a, const void *b)
{
    return cmp_items(a, b, 0, 1);
}

static int
by_key_asc(const void *a, const void *b)
{
    return cmp_items(a, b, 1, 0);
}

static int
by_key_desc(const void *a, const void *b)
{
    return cmp_items(a, b, 1, 1);
}

void
ss_rank_sort(struct ss_rank_item *e, size_t n, int by_key, int desc)
{
    static int (*const cmps[2][2])(const void *, const void *) = {
        {by_value, by_value_desc},
        {by_key_asc, by_key_desc},
    };

    if (n > 1)
        qsort(e, n, sizeof(*e), cmps[by_key != 0][desc != 0]);
}
