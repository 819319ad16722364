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

#include "buf.h"

struct ss_keytab {
    uint64_t *index;   /* slots: hash tag << 32 | entry number + 1 */
    size_t slots;      /* a power of two */
    size_t used_slots; /* live + tombstones */
    char *ents;        /* entries, 'stride' bytes each, insertion order */
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
/* The same with the key's hash from ss_keytab_hash() already known, so
 * that a caller can hash a group of keys and prefetch their slots before
 * it looks them up: on tables larger than the cache that hides most of
 * the memory latency of a lookup. */
uint64_t ss_keytab_hash(const char *k, size_t klen);
void *ss_keytab_get_hashed(struct ss_keytab *t, const char *k, size_t klen,
                           uint64_t h, int *created);
/* A hint that the key of hash h comes soon: 'entry' 0 fetches its index
 * slot into the cache; 1 (after that slot has arrived) its first entry
 * and key bytes. Never changes the table. */
void ss_keytab_prefetch(const struct ss_keytab *t, uint64_t h, int entry);
void *ss_keytab_find(const struct ss_keytab *t, const char *k, size_t klen);
/* Forget key k (its value dropped); 1 if it was there, else 0. */
int ss_keytab_del(struct ss_keytab *t, const char *k, size_t klen);
size_t ss_keytab_count(const struct ss_keytab *t);
/* Iterate in insertion order: start with *cursor = 0; returns the next
 * live value and its key, or NULL at the end. */
void *ss_keytab_next(const struct ss_keytab *t, size_t *cursor, const char **k,
                     size_t *klen);
/* Squeeze out deleted entries and their key bytes (order kept). */
int ss_keytab_compact(struct ss_keytab *t);
void ss_keytab_clear(struct ss_keytab *t);
void ss_keytab_release(struct ss_keytab *t);

#endif
