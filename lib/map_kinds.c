/* map_kinds.c - sstream-map's operations, one row each: the option,
 * what the operation needs and makes, and its functions (map_int.h);
 * and the parsing of their arguments.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "diag.h"
#include "frame.h"
#include "io.h"
#include "keytab.h"
#include "map_int.h"
#include "multi.h"
#include "opt.h"
#include "proc.h"
#include "regex.h"
#include "rejects.h"
#include "scan.h"
#include "words.h"

/* ---- arguments ---- */

static int
parse_flat_fn(struct ss_map_op *op, const char *arg)
{
    if (strcmp(arg, "words") == 0)
        op->fn = SS_MAP_FN_WORDS;
    else if (strncmp(arg, "split:", 6) == 0 && arg[6] != '\0') {
        op->fn = SS_MAP_FN_SPLIT;
        op->str = arg + 6;
        op->slen = strlen(op->str);
    } else
        return ss_diag("%s: unknown function '%s' (try words or split:DELIM)",
                       op->opt, arg);
    return 0;
}

static int
parse_field(struct ss_map_op *op, const char *arg)
{
    uint64_t n;

    if (ss_opt_count(op->opt, arg, 1, MAX_FIELD, &n) < 0)
        return SS_REPORTED;
    op->n = (size_t)n;
    return 0;
}

static int
parse_sel(struct ss_map_op *op, const char *arg)
{
    if (ss_fields_sel_parse(arg, &op->sel) < 0)
        return ss_diag("%s: empty field name", op->opt);
    return 0;
}

static int
parse_map_fn(struct ss_map_op *op, const char *arg)
{
    if (strcmp(arg, "lower") == 0)
        op->fn = SS_MAP_FN_LOWER;
    else if (strcmp(arg, "upper") == 0)
        op->fn = SS_MAP_FN_UPPER;
    else if (strcmp(arg, "trim") == 0)
        op->fn = SS_MAP_FN_TRIM;
    else if (strncmp(arg, "field:", 6) == 0) {
        op->fn = SS_MAP_FN_FIELD;
        return parse_field(op, arg + 6);
    } else
        return ss_diag("%s: unknown function '%s' (try lower, upper, trim or "
                       "field:N)",
                       op->opt, arg);
    return 0;
}

static int
parse_text(struct ss_map_op *op, const char *arg)
{
    op->str = arg;
    op->slen = strlen(arg);
    return 0;
}

static int
parse_pattern(struct ss_map_op *op, const char *arg)
{
    char why[256];

    if ((op->re = ss_regex_compile(arg, why, sizeof(why))) == NULL)
        return ss_diag("%s: '%s' is not a valid pattern: %s", op->opt, arg,
                       why);
    return 0;
}

/* "value >= 100": the subject, an operator, a number; blanks anywhere. */
static int
parse_where(struct ss_map_op *op, const char *arg)
{
    static const struct {
        const char *s;
        enum ss_map_cmp c;
    } cmps[] = {
        {">=", SS_CMP_GE}, {"<=", SS_CMP_LE}, {"==", SS_CMP_EQ},
        {"!=", SS_CMP_NE}, {">", SS_CMP_GT},  {"<", SS_CMP_LT},
    };

    const char *p = arg, *end;
    size_t i;

    while (ss_scan_blank[(unsigned char)*p])
        p++;
    if (strncmp(p, "value", 5) != 0)
        goto bad;
    p += 5;
    while (ss_scan_blank[(unsigned char)*p])
        p++;
    for (i = 0; i < sizeof(cmps) / sizeof(cmps[0]); i++)
        if (strncmp(p, cmps[i].s, strlen(cmps[i].s)) == 0)
            break;
    if (i == sizeof(cmps) / sizeof(cmps[0]))
        goto bad;
    op->cmp = cmps[i].c;
    p += strlen(cmps[i].s);
    while (ss_scan_blank[(unsigned char)*p])
        p++;
    end = p + strlen(p);
    while (end > p && ss_scan_blank[(unsigned char)end[-1]])
        end--;
    if (ss_num_parse(p, (size_t)(end - p), &op->num) < 0)
        goto bad;
    return 0;
bad:
    return ss_diag("--where: '%s' is not a test (try 'value >= 100'; "
                   "operators > >= < <= == !=)",
                   arg);
}

static int
parse_operator(struct ss_map_op *op, const char *arg)
{
    return ss_opt_operator(op->opt, arg, &op->op);
}

/* --group-by-key is --reduce-by-key concat: no argument to parse. */
static int
set_concat(struct ss_map_op *op, const char *arg)
{
    (void)arg;
    op->op = SS_OP_CONCAT;
    return 0;
}

/* --take N: the first N records of each batch. */
static int
parse_take(struct ss_map_op *op, const char *arg)
{
    uint64_t n;

    if (ss_opt_count(op->opt, arg, 1, UINT32_MAX, &n) < 0)
        return SS_REPORTED;
    op->n = (size_t)n;
    return 0;
}

static int
parse_sort_by(struct ss_map_op *op, const char *arg)
{
    if (strcmp(arg, "key") == 0)
        op->by_key = op->needs_keys = 1;
    else if (strcmp(arg, "value") != 0)
        return ss_diag("--sort-by: unknown field '%s' (try value or key)", arg);
    return 0;
}

/* A path or a command. */
static int
parse_nonempty(struct ss_map_op *op, const char *arg)
{
    if (arg[0] == '\0')
        return ss_diag("%s: empty argument", op->opt);
    return 0;
}

#define BATCH  SS_MAP_PER_BATCH
#define RECORD SS_MAP_PER_RECORD

/* .opt is {option, letter, argument, help line, section}. */
static const struct kind kinds[] = {
    [SS_MAP_FLAT_MAP] =
        {
            .opt = {"--flat-map", 'f', "FUNC",
                    "split values: words, split:DELIM", RECORD},
            .flags = DROPS_KEYS,
            .parse = parse_flat_fn,
            .setup = ss_map__setup_flat_map,
            .record = ss_map__flat_map,
        },
    [SS_MAP_FLAT_MAP_VALUES] =
        {
            .opt = {"--flat-map-values", 0, "FUNC",
                    "the same, keeping each record's key", RECORD},
            .flags = NEEDS_KEYS,
            .parse = parse_flat_fn,
            .record = ss_map__flat_map_values,
        },
    [SS_MAP_MAP] =
        {
            .opt = {"--map", 0, "FUNC",
                    "change values: lower, upper, trim, field:N", RECORD},
            .parse = parse_map_fn,
            .record = ss_map__map_value,
        },
    [SS_MAP_MAP_VALUES] =
        {
            .opt = {"--map-values", 0, "FUNC",
                    "the same, for key/value records only", RECORD},
            .flags = NEEDS_KEYS,
            .parse = parse_map_fn,
            .record = ss_map__map_value,
        },
    [SS_MAP_KEY_FIELD] =
        {
            .opt = {"--key-field", 0, "N", "key = field N of the value",
                    RECORD},
            .flags = MAKES_KEYS,
            .parse = parse_field,
            .record = ss_map__key_field,
        },
    [SS_MAP_VALUE_FIELD] =
        {
            .opt = {"--value-field", 0, "N", "value = field N of the value",
                    RECORD},
            .parse = parse_field,
            .record = ss_map__value_field,
        },
    [SS_MAP_KEY] =
        {
            .opt = {"--key", 0, "NAME|N",
                    "key = field NAME (or the Nth) of a JSON object", RECORD},
            .flags = MAKES_KEYS,
            .parse = parse_sel,
            .record = ss_map__key_named,
        },
    [SS_MAP_VALUE] =
        {
            .opt = {"--value", 0, "NAME|N",
                    "value = field NAME (or the Nth) of a JSON object", RECORD},
            .parse = parse_sel,
            .record = ss_map__value_named,
        },
    [SS_MAP_PAIR] =
        {
            .opt = {"--pair", 0, "V",
                    "key = the value, value = V (Spark's (w, 1))", RECORD},
            .flags = MAKES_KEYS,
            .parse = parse_text,
            .record = ss_map__pair,
        },
    [SS_MAP_FILTER] =
        {
            .opt = {"--filter", 0, "REGEX", "keep values that match (PCRE2)",
                    RECORD},
            .parse = parse_pattern,
            .record = ss_map__keep_matches,
        },
    [SS_MAP_FILTER_OUT] =
        {
            .opt = {"--filter-out", 0, "REGEX", "drop values that match",
                    RECORD},
            .parse = parse_pattern,
            .record = ss_map__drop_matches,
        },
    [SS_MAP_WHERE] =
        {
            .opt = {"--where", 0, "'value OP N'",
                    "keep values that compare true (> >= < <= == !=)", RECORD},
            .parse = parse_where,
            .record = ss_map__where,
        },
    [SS_MAP_DISTINCT] =
        {
            .opt = {"--distinct", 0, NULL,
                    "drop records already seen in the batch", RECORD},
            .setup = ss_map__setup_seen,
            .record = ss_map__distinct,
            .finish = ss_map__forget_seen,
        },
    [SS_MAP_TAKE] =
        {
            .opt = {"--take", 0, "N", "the first N records of the batch",
                    RECORD},
            .parse = parse_take,
            .record = ss_map__take,
            .finish = ss_map__take_reset,
        },
    [SS_MAP_UNION] =
        {
            .opt = {"--union", 0,
                    "PATH", "add the records of another frame stream", RECORD},
            .flags = STREAM,
            .parse = parse_nonempty,
            .record = ss_map__pass,
            .finish = ss_map__unite,
        },
    [SS_MAP_COUNT] =
        {
            .opt = {"--count", 'c', NULL, "the number of records", BATCH},
            .flags = DROPS_KEYS,
            .record = ss_map__count_take,
            .finish = ss_map__count,
        },
    [SS_MAP_COUNT_BY_VALUE] =
        {
            .opt = {"--count-by-value", 0, NULL,
                    "(value, count) per distinct value", BATCH},
            .flags = MAKES_KEYS,
            .setup = ss_map__setup_counts,
            .record = ss_map__count_value,
            .finish = ss_map__emit_counts,
        },
    [SS_MAP_REDUCE] =
        {
            .opt = {"--reduce", 'r', "OP", "OP over all values", BATCH},
            .flags = DROPS_KEYS,
            .parse = parse_operator,
            .record = ss_map__reduce_take,
            .finish = ss_map__reduce,
        },
    [SS_MAP_REDUCE_BY_KEY] =
        {
            .opt = {"--reduce-by-key", 0, "OP",
                    "(key, OP over its values) per key", BATCH},
            .flags = NEEDS_KEYS,
            .parse = parse_operator,
            .setup = ss_map__setup_groups,
            .record = ss_map__group_take,
            .finish = ss_map__emit_groups,
        },
    [SS_MAP_GROUP_BY_KEY] =
        {
            .opt = {"--group-by-key", 0, NULL,
                    "(key, its values joined by the separator)", BATCH},
            .flags = NEEDS_KEYS,
            .parse = set_concat,
            .setup = ss_map__setup_groups,
            .record = ss_map__group_take,
            .finish = ss_map__emit_groups,
        },
    [SS_MAP_GLOM] =
        {
            .opt = {"--glom", 0, NULL, "all values joined by the separator",
                    BATCH},
            .flags = DROPS_KEYS,
            .record = ss_map__glom_take,
            .finish = ss_map__glom,
        },
    [SS_MAP_SORT_BY] =
        {
            .opt = {"--sort-by", 0, "value|key",
                    "sort the batch (numbers as numbers; --desc)", BATCH},
            .parse = parse_sort_by,
            .record = ss_map__sort_take,
            .finish = ss_map__sort,
        },
    [SS_MAP_JOIN] =
        {
            .opt = {"--join", 0, "FILE", "join with a key<TAB>value table",
                    BATCH},
            .flags = NEEDS_KEYS,
            .parse = parse_nonempty,
            .setup = ss_map__setup_table,
            .record = ss_map__keep_for_join,
            .finish = ss_map__join_table,
        },
    [SS_MAP_JOIN_STREAM] =
        {
            .opt = {"--join-stream", 0,
                    "PATH", "join with another frame stream", BATCH},
            .flags = NEEDS_KEYS | STREAM,
            .parse = parse_nonempty,
            .record = ss_map__keep_for_join,
            .finish = ss_map__join_stream,
        },
    [SS_MAP_COGROUP] =
        {
            .opt = {"--cogroup", 0, "PATH", "cogroup with another frame stream",
                    BATCH},
            .flags = NEEDS_KEYS | STREAM,
            .parse = parse_nonempty,
            .record = ss_map__keep_for_join,
            .finish = ss_map__cogroup,
        },
    [SS_MAP_EXEC] =
        {
            .opt = {"--exec", 0, "CMD",
                    "pipe the batch through a shell command", BATCH},
            .parse = parse_nonempty,
            .record = ss_map__exec_take,
            .finish = ss_map__exec,
        },
    [SS_MAP_EXEC_COPROCESS] =
        {
            .opt = {"--exec-coprocess", 0, "CMD",
                    "pipe each batch through one long-lived command "
                    "(sstream-coprocess(7))",
                    BATCH},
            .parse = parse_nonempty,
            .setup = ss_map__coproc_setup,
            .record = ss_map__coproc_take,
            .finish = ss_map__coproc,
        },
};

_Static_assert(sizeof(kinds) / sizeof(kinds[0]) == SS_MAP_NKINDS,
               "an operation of enum ss_map_kind has no row in kinds[]");

/* The row of kind k. A row left out in the middle of kinds[] is all
 * zero: caught here, at every start (sstream-map lists every option). */
const struct kind *
ss_map__kind_of(enum ss_map_kind k)
{
    assert(k < SS_MAP_NKINDS && kinds[k].opt.name != NULL &&
           kinds[k].record != NULL);
    return &kinds[k];
}
