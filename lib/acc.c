/* acc.c - accumulators: fold, merge, take back out, format, encode. */
#include "acc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

static int
str_set(struct ss_acc *a, size_t keep, const char *p, size_t n)
{
    size_t want = keep + n;

    if (want > UINT32_MAX)
        return -ENOMEM;
    if (want > a->scap) {
        size_t cap = a->scap ? a->scap : 16;
        char *s;

        while (cap < want)
            cap *= 2;
        if (cap > UINT32_MAX)
            cap = UINT32_MAX;
        if ((s = realloc(a->s, cap)) == NULL)
            return -ENOMEM;
        a->s = s;
        a->scap = (uint32_t)cap;
    }
    if (n > 0)
        memcpy(a->s + keep, p, n);
    a->slen = (uint32_t)want;
    return 0;
}

/* Fold text values: first keeps the first, last the newest, concat all. */
static int
add_text(struct ss_acc *a, enum ss_op op, const char *v, size_t n,
         uint64_t count, char sep)
{
    int rc = 0;

    if (op == SS_OP_FIRST && a->n == 0)
        rc = str_set(a, 0, v, n);
    else if (op == SS_OP_LAST)
        rc = str_set(a, 0, v, n);
    else if (op == SS_OP_CONCAT && a->n == 0)
        rc = str_set(a, 0, v, n);
    else if (op == SS_OP_CONCAT && (rc = str_set(a, a->slen, &sep, 1)) == 0)
        rc = str_set(a, a->slen, v, n);
    if (rc == 0)
        a->n += count;
    return rc;
}

/* Fold a number that stands for 'count' values (a partial's n). */
static int
add_num(struct ss_acc *a, enum ss_op op, const struct ss_num *x, uint64_t count)
{
    int rc;

    if (op == SS_OP_COUNT) {
        a->n += count;
        return 0;
    }
    if (a->n == 0) {
        a->v = *x;
    } else if (op == SS_OP_MIN) {
        if (ss_num_cmp(x, &a->v) < 0)
            a->v = *x;
    } else if (op == SS_OP_MAX) {
        if (ss_num_cmp(x, &a->v) > 0)
            a->v = *x;
    } else if ((rc = ss_num_add(&a->v, x, 0)) < 0) {
        return rc;
    }
    a->n += count;
    return 0;
}

int
ss_acc_add(struct ss_acc *a, enum ss_op op, const char *v, size_t n, char sep)
{
    struct ss_num x;

    if (op == SS_OP_COUNT) {
        a->n++;
        return 0;
    }
    if (!ss_op_numeric(op))
        return add_text(a, op, v, n, 1, sep);
    if (ss_num_parse(v, n, &x) < 0)
        return -EINVAL;
    return add_num(a, op, &x, 1);
}

int
ss_acc_merge(struct ss_acc *a, const struct ss_acc *b, enum ss_op op, char sep)
{
    if (b->n == 0)
        return 0;
    if (!ss_op_numeric(op) && op != SS_OP_COUNT) {
        if (op == SS_OP_FIRST && a->n > 0) {
            a->n += b->n;
            return 0;
        }
        return add_text(a, op, b->s, b->slen, b->n, sep);
    }
    return add_num(a, op, &b->v, b->n);
}

int
ss_acc_unmerge(struct ss_acc *a, const struct ss_acc *b, enum ss_op op)
{
    int rc;

    if (b->n == 0)
        return 0;
    if (op != SS_OP_COUNT && (rc = ss_num_add(&a->v, &b->v, 1)) < 0)
        return rc;
    a->n -= b->n;
    if (a->n == 0) /* exactly empty again: drop any float residue */
        memset(&a->v, 0, sizeof(a->v)), a->v.is_int = 1;
    return 0;
}

int
ss_acc_format(const struct ss_acc *a, enum ss_op op, struct ss_buf *out)
{
    char text[SS_NUM_TEXT_MAX];
    struct ss_num c;
    size_t len;

    switch (op) {
    case SS_OP_COUNT:
        c.is_int = 1;
        c.i = (int64_t)a->n;
        len = ss_num_format(&c, text);
        break;
    case SS_OP_MEAN:
        len = ss_num_format_double(
            a->n ? ss_num_double(&a->v) / (double)a->n : 0, text);
        break;
    case SS_OP_SUM:
    case SS_OP_MIN:
    case SS_OP_MAX:
        if (a->n == 0) {
            c.is_int = 1;
            c.i = 0;
            len = ss_num_format(&c, text);
        } else {
            len = ss_num_format(&a->v, text);
        }
        break;
    default:
        return ss_buf_append(out, a->s, a->slen);
    }
    return ss_buf_append(out, text, len);
}

void
ss_acc_reset(struct ss_acc *a)
{
    a->n = 0;
    memset(&a->v, 0, sizeof(a->v));
    a->slen = 0;
}

void
ss_acc_release(struct ss_acc *a)
{
    free(a->s);
    memset(a, 0, sizeof(*a));
}

/* n (8), kind (1: 1 integer, 0 double), value (8), slen (4), text. */
int
ss_acc_encode(const struct ss_acc *a, struct ss_buf *out)
{
    uint64_t bits;

    memcpy(&bits, &a->v.d, 8);
    ss_bytes_append_le(out, a->n, 8);
    ss_bytes_append_le(out, (uint64_t)a->v.is_int, 1);
    ss_bytes_append_le(out, a->v.is_int ? (uint64_t)a->v.i : bits, 8);
    ss_bytes_append_le(out, a->slen, 4);
    return ss_buf_append(out, a->s, a->slen);
}

int
ss_acc_decode(struct ss_acc *a, const char *p, size_t n)
{
    uint64_t bits;
    uint32_t slen;

    /* The bytes come from a file: every field is checked against what
     * ss_acc_encode() can write and the bytes there are, and the count of
     * bytes used must fit the int returned. */
    if (n < 21 || (unsigned char)p[8] > 1)
        return -EBADMSG;
    slen = (uint32_t)ss_bytes_get_le(p + 17, 4);
    if (slen > n - 21 || slen > INT32_MAX - 21)
        return -EBADMSG;
    a->n = ss_bytes_get_le(p, 8);
    a->v.is_int = p[8] != 0;
    bits = ss_bytes_get_le(p + 9, 8);
    if (a->v.is_int) {
        a->v.i = (int64_t)bits;
        a->v.d = (double)a->v.i;
    } else {
        memcpy(&a->v.d, &bits, 8);
        a->v.i = 0;
    }
    if (str_set(a, 0, p + 21, slen) < 0)
        return -ENOMEM;
    return (int)(21 + slen);
}
