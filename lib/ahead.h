/* ahead.h - key table lookups in flight, for loops that look up many keys
 * of a table larger than the cache (sstream-state's records, the panes a
 * window adds and takes out).
 *
 * As map_record.c's word ring: the loop hands each key SS_AHEAD places
 * before it looks it up; that key's index slot is fetched now, its entry
 * SS_AHEAD / 2 keys later (once the slot has arrived), so that the cache
 * misses of successive keys overlap instead of stalling one at a time.
 * Only hints: the table is never changed, and a key handed in but never
 * looked up costs nothing else.
 *
 * Owns nothing; all zero is an empty ring: struct ss_ahead a = {0}.
 */
#ifndef SS_AHEAD_H
#define SS_AHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "keytab.h"

#define SS_AHEAD 16

struct ss_ahead {
    uint64_t h[SS_AHEAD]; /* hashes of the keys handed in, a ring */
    size_t n;             /* keys handed in */
};

/* Key k[0..kl) will be looked up in t, SS_AHEAD keys from now. */
static inline void
ss_ahead_key(const struct ss_keytab *t, struct ss_ahead *a, const char *k,
             size_t kl)
{
    struct ss_keytab_key key;

    ss_keytab_key(&key, kl > 0 ? k : "", kl);
    ss_keytab_prefetch(t, key.h, 0);
    a->h[a->n++ % SS_AHEAD] = key.h;
    if (a->n > SS_AHEAD / 2)
        ss_keytab_prefetch(t, a->h[(a->n - 1 - SS_AHEAD / 2) % SS_AHEAD], 1);
}

#endif
