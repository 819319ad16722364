/* rank.h - the order of records by value or by key, shared by
 * sstream-map --sort-by and sstream-sink --top: numbers by value (as
 * lib/num reads them) before text, text by its bytes; for values, ties
 * by key in ascending order whatever the direction, so that a top N
 * lists equal values a to z; then arrival, which makes the order stable.
 *
 * Owns nothing: an item holds views of its record, which the caller
 * keeps alive (an arena copy, a frame) until the items are sorted and
 * read.
 */
#ifndef SS_RANK_H
#define SS_RANK_H

#include <stddef.h>

#include "frame.h"
#include "num.h"

struct ss_rank_item {
    struct ss_rec r;
    struct ss_num num; /* the sort field as a number, when is_num */
    int is_num;
    size_t seq; /* place in the batch, the last tie-break */
};

/* Fill 'e' for record 'r' (a view), sorted by its key or by its value,
 * as the seq'th record of its batch. */
void ss_rank_item_init(struct ss_rank_item *e, const struct ss_rec *r,
                       int by_key, size_t seq);
/* Sort e[0..n) by key or by value, ascending or (desc) descending. */
void ss_rank_sort(struct ss_rank_item *e, size_t n, int by_key, int desc);

#endif
