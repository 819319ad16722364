/* keysort.c - keys in byte order: a radix sort on 8 bytes of each key at
 * a time (keysort.h). Keys that tie on their first 8 bytes are sorted on
 * the next 8, and so on; short runs of ties, and keys alike past DEEP
 * bytes, are merge sorted on the bytes themselves. */
#include "keysort.h"

#include <string.h>

#define SMALL 24 /* a run this short is merge (insertion) sorted */
#define DEEP  64 /* keys alike this far: merge sorted from here on */

/* Bytes [d, d + 8) of k as a big-endian number, zero-padded: numbers
 * compare as the bytes do, and a key that ends pads with the smallest. */
static uint64_t
prefix_at(const char *k, size_t klen, size_t d)
{
    unsigned char b[8] = {0};
    uint64_t v = 0;

    if (klen > d)
        memcpy(b, k + d, klen - d < 8 ? klen - d : 8);
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

/* Keys a and b, alike in their first d bytes (padding included), in byte
 * order: the bytes from d on, then the shorter first. */
static int
cmp_from(const struct ss_keysort_ent *a, const struct ss_keysort_ent *b,
         size_t d)
{
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = n > d ? memcmp(a->k + d, b->k + d, n - d) : 0;

    if (c != 0)
        return c;
    return (a->klen > b->klen) - (a->klen < b->klen);
}

static void
insertion(struct ss_keysort_ent *e, size_t n, size_t d)
{
    for (size_t i = 1; i < n; i++) {
        struct ss_keysort_ent x = e[i];
        size_t j = i;

        for (; j > 0 && cmp_from(&e[j - 1], &x, d) > 0; j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

static void
merge_sort(struct ss_keysort_ent *e, struct ss_keysort_ent *tmp, size_t n,
           size_t d)
{
    size_t h = n / 2, i = 0, j = h, o = 0;

    if (n <= SMALL) {
        insertion(e, n, d);
        return;
    }
    merge_sort(e, tmp, h, d);
    merge_sort(e + h, tmp + h, n - h, d);
    while (i < h && j < n) /* ties from the left: stable */
        tmp[o++] = cmp_from(&e[j], &e[i], d) < 0 ? e[j++] : e[i++];
    while (i < h)
        tmp[o++] = e[i++];
    memcpy(e, tmp, o * sizeof(*e)); /* e[o..n) is in place already */
}

/* LSD radix sort of e[0..n) on pre, a byte a pass; a byte that all
 * entries share takes no pass. Returns e or tmp, whichever holds the
 * result. */
static struct ss_keysort_ent *
radix(struct ss_keysort_ent *e, struct ss_keysort_ent *tmp, size_t n)
{
    size_t count[8][256];

    memset(count, 0, sizeof(count));
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            count[b][(e[i].pre >> (8 * b)) & 0xff]++;
    for (int b = 0; b < 8; b++) {
        size_t *c = count[b], sum = 0;
        struct ss_keysort_ent *t;

        if (c[(e[0].pre >> (8 * b)) & 0xff] == n)
            continue;
        for (int v = 0; v < 256; v++) {
            size_t x = c[v];

            c[v] = sum;
            sum += x;
        }
        for (size_t i = 0; i < n; i++)
            tmp[c[(e[i].pre >> (8 * b)) & 0xff]++] = e[i];
        t = e;
        e = tmp;
        tmp = t;
    }
    return e;
}

/* Sort e[0..n), whose keys are alike in their first d bytes. */
static void
sort_at(struct ss_keysort_ent *e, struct ss_keysort_ent *tmp, size_t n,
        size_t d)
{
    struct ss_keysort_ent *r;
    size_t i, j;

    if (n <= SMALL || d >= DEEP) {
        merge_sort(e, tmp, n, d);
        return;
    }
    for (i = 0; i < n; i++)
        e[i].pre = prefix_at(e[i].k, e[i].klen, d);
    if ((r = radix(e, tmp, n)) != e)
        memcpy(e, r, n * sizeof(*e));
    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && e[j].pre == e[i].pre; j++)
            ;
        if (j - i > 1)
            sort_at(e + i, tmp + i, j - i, d + 8);
    }
}

void
ss_keysort(struct ss_keysort_ent *e, struct ss_keysort_ent *tmp, size_t n)
{
    sort_at(e, tmp, n, 0);
}
