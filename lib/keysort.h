/* keysort.h - sort keys in byte order (as LC_ALL=C sort), for the keyed
 * outputs of sstream-window and sstream-state.
 *
 * A window of a million keys is sorted every slide. qsort() with memcmp()
 * spends that time in calls and in cache misses on keys scattered over a
 * table; here each entry carries 8 bytes of its key as a big-endian word,
 * and a radix sort on that word does most of the work without touching
 * the keys again. Only keys that share their first 8 bytes are read
 * further (the next 8, and so on).
 *
 * Owns nothing: the entries and the scratch are the caller's, the keys
 * are only read and must stay put during the call.
 */
#ifndef SS_KEYSORT_H
#define SS_KEYSORT_H

#include <stddef.h>
#include <stdint.h>

struct ss_keysort_ent {
    uint64_t pre; /* ss_keysort()'s: bytes of the key as a number */
    const char *k;
    size_t klen;
    void *val; /* the caller's, carried along */
};

/* Sort e[0..n) by key in byte order (a key before any longer key it
 * begins), stably; tmp[0..n) is scratch. The caller sets k, klen, val. */
void ss_keysort(struct ss_keysort_ent *e, struct ss_keysort_ent *tmp, size_t n);

#endif
