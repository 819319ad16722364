/* join.h - Spark's join and cogroup of two sets of key/value records
 * (sstream-map --join, --join-stream, --cogroup).
 *
 * A side is its records grouped by key: the keys in order of first
 * appearance, each key's records in arrival order. ss_join_run() gives
 * the keys both sides have, in the left side's order; then (left and
 * full joins) the left side's other keys, in its order; then (right and
 * full joins) the keys only the right side has, in its order. A cogroup
 * gives the left side's keys in order, then the right side's others. For
 * a key on
 * both sides a join gives every left value with every right value, left
 * values outermost: (k, l1<TAB>r1), (k, l1<TAB>r2), (k, l2<TAB>r1) ...;
 * a missing side (outer joins) is empty in the value, and said to the
 * emit function (SS_JOIN_NO_LEFT, SS_JOIN_NO_RIGHT), so that the frame
 * can carry it (ss_join_frame_flags()). A cogroup gives one record per
 * key: each side's values joined by 'sep', the two groups by a tab.
 *
 * Owns: a side owns its key table and record index; the record bytes
 * stay the caller's and must outlive ss_join_run(). ss_join_side_clear()
 * keeps the memory for the next batch.
 */
#ifndef SS_JOIN_H
#define SS_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"
#include "keytab.h"

enum ss_join_type {
    SS_JOIN_INNER,
    SS_JOIN_LEFT,
    SS_JOIN_RIGHT,
    SS_JOIN_FULL,
    SS_JOIN_COGROUP,
};

struct ss_join_side {
    struct ss_keytab keys; /* key -> first and last record of the key */
    struct ss_buf recs;    /* struct ss_rec, arrival order */
    struct ss_buf next;    /* uint32_t per record: next of its key */
};

/* "inner", "left", "right", "full" -> *type; 0 or -EINVAL. */
int ss_join_type_lookup(const char *name, enum ss_join_type *type);

void ss_join_side_init(struct ss_join_side *s);
/* Add a keyed record (r->key not NULL); 0 or -ENOMEM. */
int ss_join_side_add(struct ss_join_side *s, const struct ss_rec *r);
size_t ss_join_side_count(const struct ss_join_side *s);
void ss_join_side_clear(struct ss_join_side *s);
void ss_join_side_release(struct ss_join_side *s);

#define SS_JOIN_NO_LEFT  1u /* an outer join's record without left side */
#define SS_JOIN_NO_RIGHT 2u /* ... without right side */

/* The frame flags (SS_FRAME_SIDES) of a record of a 'type' join that
 * lacks the sides in 'missing'; 0 for a cogroup. */
uint32_t ss_join_frame_flags(enum ss_join_type type, unsigned missing);

/* Called per output record; the value is a view valid during the call,
 * 'missing' says which side it lacks (0 for both sides and cogroups).
 * A non-zero return stops the run and is returned by ss_join_run(). */
typedef int (*ss_join_emit_fn)(void *arg, const char *k, size_t klen,
                               const char *v, size_t vlen, unsigned missing);

/* Join or cogroup left with right; 'scratch' builds the values. 0, the
 * emit function's non-zero return, or -ENOMEM. */
int ss_join_run(const struct ss_join_side *left,
                const struct ss_join_side *right, enum ss_join_type type,
                char sep, struct ss_buf *scratch, ss_join_emit_fn emit,
                void *arg);

#endif
