/* acc.h - accumulators of the operators (lib/op).
 *
 * An accumulator (struct ss_acc) folds values in arrival order. Partial
 * accumulators merge (a then b), and for the invertible operators (sum,
 * count, mean) one can be taken back out: that is what inverse-reduce
 * windows and running state rely on.
 *
 * Owns: an accumulator owns its string (first, last, concat), a heap block
 * freed by ss_acc_release(); all zero is an empty accumulator. Values
 * passed in are only read.
 */
#ifndef SS_ACC_H
#define SS_ACC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "num.h"
#include "op.h"

struct ss_acc {
    uint64_t n;      /* values folded in */
    struct ss_num v; /* sum (sum, mean), min or max */
    char *s;         /* first, last, concat: the text so far */
    uint32_t slen, scap;
};

/* Fold one value in. Numeric operators parse it: -EINVAL when it is not
 * a number, -ERANGE when an exact integer sum leaves 64 bits; on either
 * the accumulator is unchanged. -ENOMEM. 'sep' joins concat's values. */
int ss_acc_add(struct ss_acc *a, enum ss_op op, const char *v, size_t n,
               char sep);
/* a = a then b. Same errors as ss_acc_add (b's values are already
 * checked, so only -ERANGE and -ENOMEM). */
int ss_acc_merge(struct ss_acc *a, const struct ss_acc *b, enum ss_op op,
                 char sep);
/* a = a without b, for invertible operators only; -ERANGE. */
int ss_acc_unmerge(struct ss_acc *a, const struct ss_acc *b, enum ss_op op);
/* Append the result as text: sum, min, max as numbers, count as an
 * integer, mean as sum / count, first, last and concat as text. */
int ss_acc_format(const struct ss_acc *a, enum ss_op op, struct ss_buf *out);
/* Make 'a' empty, keeping its string's memory for reuse. */
void ss_acc_reset(struct ss_acc *a);
void ss_acc_release(struct ss_acc *a);

/* A compact, versionless binary form for checkpoints: append to out /
 * read from p[0..n) (returns bytes used, or -EBADMSG). */
int ss_acc_encode(const struct ss_acc *a, struct ss_buf *out);
int ss_acc_decode(struct ss_acc *a, const char *p, size_t n);

#endif
