/* op.h - the operators of --reduce, --reduce-by-key, --update and the
 * window stages: sum, count, min, max, mean, first, last, concat, by name
 * and by what they allow. Their accumulators are lib/acc.
 * Owns nothing: the names are static.
 */
#ifndef SS_OP_H
#define SS_OP_H

enum ss_op {
    SS_OP_SUM,
    SS_OP_COUNT,
    SS_OP_MIN,
    SS_OP_MAX,
    SS_OP_MEAN,
    SS_OP_FIRST,
    SS_OP_LAST,
    SS_OP_CONCAT,
};

/* "sum" -> SS_OP_SUM; 0, or -EINVAL for an unknown name. */
int ss_op_lookup(const char *name, enum ss_op *op);
const char *ss_op_name(enum ss_op op);
/* The operator reads its values as numbers (sum, min, max, mean). */
int ss_op_numeric(enum ss_op op);
/* A partial result can be subtracted again (sum, count, mean). */
int ss_op_invertible(enum ss_op op);

#endif
