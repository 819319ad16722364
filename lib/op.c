/* op.c - the operators, by name. */
#include "op.h"

#include <errno.h>
#include <string.h>

static const char *const names[] = {
    [SS_OP_SUM] = "sum",   [SS_OP_COUNT] = "count",   [SS_OP_MIN] = "min",
    [SS_OP_MAX] = "max",   [SS_OP_MEAN] = "mean",     [SS_OP_FIRST] = "first",
    [SS_OP_LAST] = "last", [SS_OP_CONCAT] = "concat",
};

int
ss_op_lookup(const char *name, enum ss_op *op)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            *op = (enum ss_op)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *
ss_op_name(enum ss_op op)
{
    return names[op];
}

int
ss_op_numeric(enum ss_op op)
{
    return op == SS_OP_SUM || op == SS_OP_MIN || op == SS_OP_MAX ||
           op == SS_OP_MEAN;
}

int
ss_op_invertible(enum ss_op op)
{
    return op == SS_OP_SUM || op == SS_OP_COUNT || op == SS_OP_MEAN;
}
