/* keytab.h - the hot-path key table: byte-string keys, fixed-size values
 * stored inline, iteration in order of first insertion.
 *
 * Open addressing over an index of entry numbers; entries sit in one dense
 * array in insertion order, their keys in one byte buffer. Clearing keeps
 * all memory, so a table reused batch after batch stops allocating once it
 * has seen its largest batch.
 *
 * Owns: the table owns its key bytes and values; 'drop' (if not NULL) is
 * called on a value before the table forgets it. A pointer to a value or
 * a key is valid until the next ss_keytab_get() (which may grow or compact
 * the table), ss_keytab_compact(), ss_keytab_clear() or release.
 * ss_keytab_del() never moves anything, so deleting while iterating is
 * fine.
 */
#ifndef SS_KEYTAB_H
#define SS_KEYTAB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

struct ss_keytab {
    uint64_t *index;   /* slots: hash tag << 32 | entry number + 1 */
    size_t slots;      /* a power of two */
    size_t used_slots; /* live + tombstones */
    char *ents;        /* entries, 'stride' bytes each, insertion order */
    char *ents_mem;    /* the allocation; ents is its first line boundary */
    size_t stride, nents, cap_ents;
    size_t live;
    struct ss_buf keys;
    size_t dead_bytes; /* key bytes of deleted entries */
    size_t vsize;
    void (*drop)(void *val);
};

void ss_keytab_init(struct ss_keytab *t, size_t vsize, void (*drop)(void *val));
/* The value for key k, inserted zeroed (and *created = 1) if new; NULL
 * when memory runs out. */
void *ss_keytab_get(struct ss_keytab *t, const char *k, size_t klen,
                    int *created);

/* A key made ready for the table: keys of up to SS_KEYTAB_SHORT bytes are
 * held as two zero-padded words, so that the table compares and hashes
 * them with a few register operations, without a call or a branch on the
 * length. A caller that looks up many keys makes them first, prefetches
 * (below), then looks them up: on tables larger than the cache that hides
 * most of the memory latency of a lookup. The key's bytes stay the
 * caller's; they must stay put until the lookup. */
#define SS_KEYTAB_SHORT 16

struct ss_keytab_key {
    const char *p;
    size_t n;
    uint64_t w[2]; /* short keys: the bytes, zero-padded; else 0 */
    uint64_t h;
};

void ss_keytab_key(struct ss_keytab_key *k, const char *p, size_t n);

/* The hash of a short key's words. */
static inline uint64_t
ss_keytab_hash_short(uint64_t w0, uint64_t w1, size_t n)
{
    uint64_t h = w0 * 0x9e3779b97f4a7c15u;

    h ^= ((w1 ^ n) * 0xc2b2ae3d27d4eb4fu) >> 7;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93u;
    return h ^ (h >> 29);
}

/* ss_keytab_key() for a short key (n <= SS_KEYTAB_SHORT) whose first 16
 * bytes may all be read, whatever n is: two loads and two masks. */
static inline void
ss_keytab_key_short(struct ss_keytab_key *k, const char *p, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* masks[n]: the low n bytes of 16 */
    static const uint64_t masks[SS_KEYTAB_SHORT + 1][2] = {
        {0, 0},
        {0xff, 0},
        {0xffff, 0},
        {0xffffff, 0},
        {0xffffffff, 0},
        {0xffffffffff, 0},
        {0xffffffffffff, 0},
        {0xffffffffffffff, 0},
        {~(uint64_t)0, 0},
        {~(uint64_t)0, 0xff},
        {~(uint64_t)0, 0xffff},
        {~(uint64_t)0, 0xffffff},
        {~(uint64_t)0, 0xffffffff},
        {~(uint64_t)0, 0xffffffffff},
        {~(uint64_t)0, 0xffffffffffff},
        {~(uint64_t)0, 0xffffffffffffff},
        {~(uint64_t)0, ~(uint64_t)0},
    };

    memcpy(k->w, p, 16);
    k->w[0] &= masks[n][0];
    k->w[1] &= masks[n][1];
#else
    k->w[0] = k->w[1] = 0;
    memcpy(k->w, p, n);
#endif
    k->p = p;
    k->n = n;
    k->h = ss_keytab_hash_short(k->w[0], k->w[1], n);
}

void *ss_keytab_get_key(struct ss_keytab *t, const struct ss_keytab_key *k,
                        int *created);
/* A hint that the key of hash h comes soon: 'entry' 0 fetches its index
 * slot into the cache; 1 (after that slot has arrived) its entry. Never
 * changes the table. Inline: the word count calls it twice a word, and
 * the calls were a tenth of its time. The slot layout is keytab.c's. */
#define SS_KEYTAB__TOMB UINT32_MAX
#define SS_KEYTAB__LINE 64

static inline void
ss_keytab_prefetch(const struct ss_keytab *t, uint64_t h, int entry)
{
    size_t mask = t->slots - 1, i = (size_t)h & mask;

    if (t->index == NULL)
        return;
    if (!entry) {
        __builtin_prefetch(&t->index[i]);
        return;
    }
    /* The first slot of the key's tag, as long as the probe stays in the
     * cache line already fetched. */
    do {
        uint64_t s = t->index[i];
        uint32_t e = (uint32_t)s;

        if (s == 0)
            return;
        if (e != SS_KEYTAB__TOMB && (s >> 32) == (h >> 32)) {
            /* Only the entry: reading its length to find a long key's
             * bytes would wait for the very miss this hides. */
            __builtin_prefetch(t->ents + (size_t)(e - 1) * t->stride);
            return;
        }
        i = (i + 1) & mask;
    } while ((i * sizeof(*t->index)) % SS_KEYTAB__LINE != 0);
}

/* Room for n more keys, inserted without growing the table; 0, or
 * -ENOMEM (the table as it was, perhaps with more room). A caller that
 * knows about how many keys come (a merge of tables) spares the table
 * its doublings: each rehashes every key. */
int ss_keytab_reserve(struct ss_keytab *t, size_t n);
void *ss_keytab_find(const struct ss_keytab *t, const char *k, size_t klen);
/* Forget key k (its value dropped); 1 if it was there, else 0. */
int ss_keytab_del(struct ss_keytab *t, const char *k, size_t klen);
size_t ss_keytab_count(const struct ss_keytab *t);
/* Iterate in insertion order: start with *cursor = 0; returns the next
 * live value and its key, or NULL at the end. The cursor counts the
 * entries passed, deleted ones included: in a table that never deleted,
 * a cursor of c resumes after the first c keys inserted. */
void *ss_keytab_next(const struct ss_keytab *t, size_t *cursor, const char **k,
                     size_t *klen);
/* Squeeze out deleted entries and their key bytes (order kept); 0 or
 * -ENOMEM (the table unchanged). */
int ss_keytab_compact(struct ss_keytab *t);
void ss_keytab_clear(struct ss_keytab *t);
void ss_keytab_release(struct ss_keytab *t);

#endif
