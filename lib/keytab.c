/* keytab.c - open addressing over dense, insertion-ordered entries. */
#include "keytab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
/* Inlined: most keys are a few bytes, and a call into the shared
 * library costs as much as hashing them. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#define PAGE_WORDS (4096 / sizeof(uint64_t)) /* words of a page */

/* An index slot holds the entry number + 1 in its low 32 bits (0 empty,
 * TOMB deleted) and the high half of the key's hash above them, so that a
 * probe passes over other keys without touching their entries. */
#define TOMB        SS_KEYTAB__TOMB
#define SLOT_ENT(s) ((uint32_t)(s))
#define SLOT_TAG(h) ((h) >> 32)
#define LINE        SS_KEYTAB__LINE

/* Short keys live in the entry itself, as ss_keytab_key's two words: a hit
 * then costs two cache lines (slot, entry), not three, and no memcmp. The
 * stride is rounded so that no entry of 64 bytes or less straddles a
 * cache line. */
struct ent {
    uint64_t w[2]; /* a short key; a long one: w[0] = its offset in keys */
    uint32_t klen;
    uint32_t live;
    /* the value follows, at offset sizeof(struct ent) */
};

static struct ent *
ent_at(const struct ss_keytab *t, size_t i)
{
    return (struct ent *)(void *)(t->ents + i * t->stride);
}

static void *
val_of(struct ent *e)
{
    return (char *)e + sizeof(*e);
}

static const char *
key_of(const struct ss_keytab *t, const struct ent *e)
{
    return e->klen <= SS_KEYTAB_SHORT ? (const char *)e->w
                                      : t->keys.data + e->w[0];
}

static int
ent_is(const struct ss_keytab *t, const struct ent *e,
       const struct ss_keytab_key *k)
{
    if (k->n <= SS_KEYTAB_SHORT)
        return ((e->klen ^ k->n) | (e->w[0] ^ k->w[0]) | (e->w[1] ^ k->w[1])) ==
               0;
    return e->klen == k->n && memcmp(t->keys.data + e->w[0], k->p, k->n) == 0;
}

static uint64_t
slot_make(uint64_t h, size_t ent)
{
    return (SLOT_TAG(h) << 32) | (uint64_t)(ent + 1);
}

void
ss_keytab_key(struct ss_keytab_key *k, const char *p, size_t n)
{
    k->p = p;
    k->n = n;
    k->w[0] = k->w[1] = 0;
    if (n <= SS_KEYTAB_SHORT) {
        memcpy(k->w, p, n);
        k->h = ss_keytab_hash_short(k->w[0], k->w[1], n);
    } else {
        k->h = XXH3_64bits(p, n);
    }
}

static uint64_t
ent_hash(const struct ss_keytab *t, const struct ent *e)
{
    if (e->klen <= SS_KEYTAB_SHORT)
        return ss_keytab_hash_short(e->w[0], e->w[1], e->klen);
    return XXH3_64bits(t->keys.data + e->w[0], e->klen);
}

void
ss_keytab_init(struct ss_keytab *t, size_t vsize, void (*drop)(void *val))
{
    size_t stride = (sizeof(struct ent) + vsize + 7) & ~(size_t)7;

    memset(t, 0, sizeof(*t));
    t->vsize = vsize;
    t->drop = drop;
    while (stride <= LINE && (LINE % stride) != 0)
        stride += 8;
    t->stride = stride;
}

/* The slot holding k, or the empty slot where it would go (*found = 0).
 * Inlined (gcc left it a call): one lookup a word in the word count, and
 * the call cost 6% of its CPU time over 100 MB. */
static inline __attribute__((always_inline)) size_t
probe(const struct ss_keytab *t, const struct ss_keytab_key *k, int *found)
{
    size_t mask = t->slots - 1, i = (size_t)k->h & mask, first_tomb = SIZE_MAX;

    for (;; i = (i + 1) & mask) {
        uint64_t s = t->index[i];

        if (s == 0) {
            *found = 0;
            return first_tomb != SIZE_MAX ? first_tomb : i;
        }
        if (SLOT_ENT(s) == TOMB) {
            if (first_tomb == SIZE_MAX)
                first_tomb = i;
            continue;
        }
        if ((s >> 32) == SLOT_TAG(k->h) &&
            ent_is(t, ent_at(t, SLOT_ENT(s) - 1), k)) {
            *found = 1;
            return i;
        }
    }
}

/* Rebuild the index at 'slots' from the live entries. */
static int
reindex(struct ss_keytab *t, size_t slots)
{
    /* A large block comes as untouched pages, and the probe below reads
     * a slot before it writes it, so the page would be mapped to the zero
     * page first and copied on the write, which flushes the TLB of every
     * core running a thread of the process (--parallel shards: 5% of
     * their time). Written first, each page faults once, no flush: a
     * volatile store a page, since GCC turns malloc() and memset() into
     * the calloc() that leaves them untouched. */
    uint64_t *idx = calloc(slots, sizeof(*idx));

    if (idx == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < slots; i += PAGE_WORDS)
        ((volatile uint64_t *)idx)[i] = 0;
    free(t->index);
    t->index = idx;
    t->slots = slots;
    t->used_slots = 0;
    for (size_t n = 0; n < t->nents; n++) {
        struct ent *e = ent_at(t, n);
        uint64_t h;
        size_t i;

        if (!e->live)
            continue;
        /* Rehashed here, at growth only: the hash kept out of the entry
         * makes entries smaller and lookups miss the cache less. */
        h = ent_hash(t, e);
        for (i = (size_t)h & (slots - 1); idx[i] != 0;
             i = (i + 1) & (slots - 1))
            ;
        idx[i] = slot_make(h, n);
        t->used_slots++;
    }
    return 0;
}

/* Entries start on a cache line. realloc() does not align, but it grows
 * large blocks in place (aligned_alloc() and a copy cost window's 60
 * panes of 100k keys 40% more peak memory): a line more is allocated,
 * and the entries move when the block's alignment changes. */
static int
grow_ents(struct ss_keytab *t, size_t cap)
{
    size_t to, off = t->ents_mem ? (size_t)(t->ents - t->ents_mem) : 0;
    char *p;

    if (cap >= TOMB ||
        (p = realloc(t->ents_mem, cap * t->stride + LINE)) == NULL)
        return -ENOMEM;
    to = (LINE - (uintptr_t)p % LINE) % LINE;
    if (to != off)
        memmove(p + to, p + off, t->nents * t->stride);
    t->ents_mem = p;
    t->ents = p + to;
    t->cap_ents = cap;
    return 0;
}

/* Keep the index at most half full, counting tombstones; compact when
 * deleted entries outnumber live ones. */
static int
make_room(struct ss_keytab *t)
{
    size_t slots = t->slots ? t->slots : 64;

    if (t->nents - t->live > t->live && t->nents >= 64)
        if (ss_keytab_compact(t) < 0)
            return -ENOMEM;
    if (t->nents == t->cap_ents &&
        grow_ents(t, t->cap_ents ? t->cap_ents * 2 : 32) < 0)
        return -ENOMEM;
    if (t->index != NULL && (t->used_slots + 1) * 2 <= t->slots)
        return 0;
    while ((t->live + 1) * 2 > slots)
        slots *= 2;
    return reindex(t, slots);
}

int
ss_keytab_reserve(struct ss_keytab *t, size_t n)
{
    size_t slots = t->slots ? t->slots : 64, cap = t->cap_ents;

    if (n >= TOMB / 2)
        return -ENOMEM;
    if (cap < t->nents + n) {
        cap = cap ? cap : 32;
        while (cap < t->nents + n)
            cap *= 2;
        if (grow_ents(t, cap) < 0)
            return -ENOMEM;
    }
    /* as make_room() counts: tombstones fill the index too */
    if (t->index != NULL && (t->used_slots + n + 1) * 2 <= t->slots)
        return 0;
    while ((t->live + n + 1) * 2 > slots)
        slots *= 2;
    return reindex(t, slots);
}

void *
ss_keytab_get(struct ss_keytab *t, const char *k, size_t klen, int *created)
{
    struct ss_keytab_key key;

    ss_keytab_key(&key, k, klen);
    return ss_keytab_get_key(t, &key, created);
}

void *
ss_keytab_get_key(struct ss_keytab *t, const struct ss_keytab_key *k,
                  int *created)
{
    struct ent *e;
    size_t i;
    int found = 0;

    if (t->index != NULL) {
        i = probe(t, k, &found);
        if (found) {
            *created = 0;
            return val_of(ent_at(t, SLOT_ENT(t->index[i]) - 1));
        }
    }
    if (k->n > UINT32_MAX || t->keys.len + k->n > UINT32_MAX ||
        make_room(t) < 0 ||
        (k->n > SS_KEYTAB_SHORT && ss_buf_reserve(&t->keys, k->n) < 0))
        return NULL;
    i = probe(t, k, &found);
    if (t->index[i] == 0)
        t->used_slots++;
    t->index[i] = slot_make(k->h, t->nents);
    e = ent_at(t, t->nents++);
    e->klen = (uint32_t)k->n;
    e->live = 1;
    if (k->n <= SS_KEYTAB_SHORT) {
        e->w[0] = k->w[0];
        e->w[1] = k->w[1];
    } else {
        e->w[0] = t->keys.len;
        e->w[1] = 0;
        ss_buf_append(&t->keys, k->p, k->n);
    }
    memset(val_of(e), 0, t->vsize);
    t->live++;
    *created = 1;
    return val_of(e);
}

void *
ss_keytab_find(const struct ss_keytab *t, const char *k, size_t klen)
{
    struct ss_keytab_key key;
    int found;
    size_t i;

    if (t->index == NULL)
        return NULL;
    ss_keytab_key(&key, k, klen);
    i = probe(t, &key, &found);
    return found ? val_of(ent_at(t, SLOT_ENT(t->index[i]) - 1)) : NULL;
}

int
ss_keytab_del(struct ss_keytab *t, const char *k, size_t klen)
{
    struct ss_keytab_key key;
    struct ent *e;
    int found;
    size_t i;

    if (t->index == NULL)
        return 0;
    ss_keytab_key(&key, k, klen);
    i = probe(t, &key, &found);
    if (!found)
        return 0;
    e = ent_at(t, SLOT_ENT(t->index[i]) - 1);
    if (t->drop != NULL)
        t->drop(val_of(e));
    e->live = 0;
    t->index[i] = TOMB;
    t->live--;
    if (e->klen > SS_KEYTAB_SHORT)
        t->dead_bytes += e->klen;
    return 1;
}

size_t
ss_keytab_count(const struct ss_keytab *t)
{
    return t->live;
}

void *
ss_keytab_next(const struct ss_keytab *t, size_t *cursor, const char **k,
               size_t *klen)
{
    while (*cursor < t->nents) {
        struct ent *e = ent_at(t, (*cursor)++);

        if (e->live) {
            *k = key_of(t, e);
            *klen = e->klen;
            return val_of(e);
        }
    }
    return NULL;
}

int
ss_keytab_compact(struct ss_keytab *t)
{
    size_t n = 0, koff = 0;

    for (size_t i = 0; i < t->nents; i++) {
        struct ent *e = ent_at(t, i);

        if (!e->live)
            continue;
        if (e->klen > SS_KEYTAB_SHORT) {
            memmove(t->keys.data + koff, t->keys.data + e->w[0], e->klen);
            e->w[0] = koff;
            koff += e->klen;
        }
        if (n != i)
            memmove(ent_at(t, n), e, t->stride);
        n++;
    }
    t->nents = n;
    t->keys.len = koff;
    t->dead_bytes = 0;
    return reindex(t, t->slots ? t->slots : 64);
}

void
ss_keytab_clear(struct ss_keytab *t)
{
    if (t->drop != NULL)
        for (size_t i = 0; i < t->nents; i++)
            if (ent_at(t, i)->live)
                t->drop(val_of(ent_at(t, i)));
    if (t->index != NULL)
        memset(t->index, 0, t->slots * sizeof(*t->index));
    t->nents = t->live = t->used_slots = t->dead_bytes = 0;
    ss_buf_reset(&t->keys);
}

void
ss_keytab_release(struct ss_keytab *t)
{
    ss_keytab_clear(t);
    free(t->index);
    free(t->ents_mem);
    ss_buf_release(&t->keys);
    memset(t, 0, sizeof(*t));
}
