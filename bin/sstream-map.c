/* sstream-map - Spark's stateless transformations, in command-line order,
 * on every batch of a frame stream. */
#include <getopt.h>
#include <stdio.h>

#include "diag.h"
#include "join.h"
#include "map.h"
#include "opt.h"
#include "stage.h"

static const char usage_line[] =
    "usage: sstream-map [-chV] [-F sep] [--join-type type] [--rejects file]\n"
    "                   [--separator c] [--stats] [--stats-file file]\n"
    "                   operation ...\n";

static const char help_text[] =
    "Apply transformations, in the order given, to every batch of a frame\n"
    "stream from stdin; write the result as frames to stdout.\n"
    "\n"
    "One record at a time:\n"
    "  -f, --flat-map FUNC        split values: words, split:DELIM\n"
    "      --flat-map-values FUNC the same, keeping each record's key\n"
    "      --map FUNC             change values: lower, upper, trim, "
    "field:N\n"
    "      --map-values FUNC      the same, for key/value records only\n"
    "      --key-field N          key = field N of the value\n"
    "      --value-field N        value = field N of the value\n"
    "      --pair V               key = the value, value = V (Spark's (w, "
    "1))\n"
    "      --filter REGEX         keep values that match (PCRE2)\n"
    "      --filter-out REGEX     drop values that match\n"
    "      --where 'value OP N'   keep values that compare true (> >= < <= "
    "== !=)\n"
    "      --union PATH           add the records of another frame stream\n"
    "Whole batch:\n"
    "  -c, --count                the number of records\n"
    "      --count-by-value       (value, count) per distinct value\n"
    "  -r, --reduce OP            OP over all values\n"
    "      --reduce-by-key OP     (key, OP over its values) per key\n"
    "      --group-by-key         (key, its values joined by the separator)\n"
    "      --glom                 all values joined by the separator\n"
    "      --join FILE            join with a key<TAB>value table\n"
    "      --join-stream PATH     join with another frame stream\n"
    "      --cogroup PATH         cogroup with another frame stream\n"
    "      --exec CMD             pipe the batch through a shell command\n"
    "Settings:\n"
    "  -F, --field-separator SEP  fields for field:N, --key-field, "
    "--value-field\n"
    "                             (default: runs of blanks)\n"
    "      --join-type TYPE       inner (default), left, right, full\n"
    "      --rejects FILE         keep records that cannot be processed\n"
    "      --separator C          joins groups (default ,)\n"
    "      --stats                a line per batch on stderr, a summary at "
    "exit\n"
    "      --stats-file FILE      append a JSON object per batch to FILE\n"
    "  -h, --help                 show this help\n"
    "  -V, --version              show the version and frame format\n"
    "\n"
    "OP: sum, count, min, max, mean, first, last, concat.\n";

enum {
    OPT_COGROUP = 256,
    OPT_COUNT_BY_VALUE,
    OPT_EXEC,
    OPT_FILTER,
    OPT_FILTER_OUT,
    OPT_FLAT_MAP_VALUES,
    OPT_GLOM,
    OPT_GROUP_BY_KEY,
    OPT_JOIN,
    OPT_JOIN_STREAM,
    OPT_JOIN_TYPE,
    OPT_KEY_FIELD,
    OPT_MAP,
    OPT_MAP_VALUES,
    OPT_PAIR,
    OPT_REDUCE_BY_KEY,
    OPT_REJECTS,
    OPT_SEPARATOR,
    OPT_STATS,
    OPT_STATS_FILE,
    OPT_UNION,
    OPT_VALUE_FIELD,
    OPT_WHERE,
};

static const struct option longopts[] = {
    {"cogroup", required_argument, NULL, OPT_COGROUP},
    {"count", no_argument, NULL, 'c'},
    {"count-by-value", no_argument, NULL, OPT_COUNT_BY_VALUE},
    {"exec", required_argument, NULL, OPT_EXEC},
    {"field-separator", required_argument, NULL, 'F'},
    {"filter", required_argument, NULL, OPT_FILTER},
    {"filter-out", required_argument, NULL, OPT_FILTER_OUT},
    {"flat-map", required_argument, NULL, 'f'},
    {"flat-map-values", required_argument, NULL, OPT_FLAT_MAP_VALUES},
    {"glom", no_argument, NULL, OPT_GLOM},
    {"group-by-key", no_argument, NULL, OPT_GROUP_BY_KEY},
    {"help", no_argument, NULL, 'h'},
    {"join", required_argument, NULL, OPT_JOIN},
    {"join-stream", required_argument, NULL, OPT_JOIN_STREAM},
    {"join-type", required_argument, NULL, OPT_JOIN_TYPE},
    {"key-field", required_argument, NULL, OPT_KEY_FIELD},
    {"map", required_argument, NULL, OPT_MAP},
    {"map-values", required_argument, NULL, OPT_MAP_VALUES},
    {"pair", required_argument, NULL, OPT_PAIR},
    {"reduce", required_argument, NULL, 'r'},
    {"reduce-by-key", required_argument, NULL, OPT_REDUCE_BY_KEY},
    {"rejects", required_argument, NULL, OPT_REJECTS},
    {"separator", required_argument, NULL, OPT_SEPARATOR},
    {"stats", no_argument, NULL, OPT_STATS},
    {"stats-file", required_argument, NULL, OPT_STATS_FILE},
    {"union", required_argument, NULL, OPT_UNION},
    {"value-field", required_argument, NULL, OPT_VALUE_FIELD},
    {"version", no_argument, NULL, 'V'},
    {"where", required_argument, NULL, OPT_WHERE},
    {NULL, 0, NULL, 0},
};

/* Options that add an operation: the getopt value, its kind, its name. */
static const struct {
    int ch;
    enum ss_map_kind kind;
    const char *opt;
} steps[] = {
    {OPT_COGROUP, SS_MAP_COGROUP, "--cogroup"},
    {'c', SS_MAP_COUNT, "--count"},
    {OPT_COUNT_BY_VALUE, SS_MAP_COUNT_BY_VALUE, "--count-by-value"},
    {OPT_EXEC, SS_MAP_EXEC, "--exec"},
    {OPT_FILTER, SS_MAP_FILTER, "--filter"},
    {OPT_FILTER_OUT, SS_MAP_FILTER_OUT, "--filter-out"},
    {'f', SS_MAP_FLAT_MAP, "--flat-map"},
    {OPT_FLAT_MAP_VALUES, SS_MAP_FLAT_MAP_VALUES, "--flat-map-values"},
    {OPT_GLOM, SS_MAP_GLOM, "--glom"},
    {OPT_GROUP_BY_KEY, SS_MAP_GROUP_BY_KEY, "--group-by-key"},
    {OPT_JOIN, SS_MAP_JOIN, "--join"},
    {OPT_JOIN_STREAM, SS_MAP_JOIN_STREAM, "--join-stream"},
    {OPT_KEY_FIELD, SS_MAP_KEY_FIELD, "--key-field"},
    {OPT_MAP, SS_MAP_MAP, "--map"},
    {OPT_MAP_VALUES, SS_MAP_MAP_VALUES, "--map-values"},
    {OPT_PAIR, SS_MAP_PAIR, "--pair"},
    {'r', SS_MAP_REDUCE, "--reduce"},
    {OPT_REDUCE_BY_KEY, SS_MAP_REDUCE_BY_KEY, "--reduce-by-key"},
    {OPT_UNION, SS_MAP_UNION, "--union"},
    {OPT_VALUE_FIELD, SS_MAP_VALUE_FIELD, "--value-field"},
    {OPT_WHERE, SS_MAP_WHERE, "--where"},
};

static int
add_step(struct ss_map_config *cfg, int ch)
{
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (steps[i].ch == ch)
            return ss_map_config_add(cfg, steps[i].kind, steps[i].opt, optarg) <
                           0
                       ? 2
                       : 0;
    fputs(usage_line, stderr); /* getopt_long() has said what was wrong */
    return 2;
}

static int
parse(struct ss_map_config *cfg, int argc, char **argv)
{
    int ch;

    while ((ch = getopt_long(argc, argv, "cF:f:hr:V", longopts, NULL)) != -1) {
        switch (ch) {
        case 'F':
            if (ss_opt_char("--field-separator", optarg, &cfg->fs) < 0)
                return 2;
            break;
        case 'h':
            fputs(usage_line, stdout);
            fputs(help_text, stdout);
            return 0;
        case OPT_JOIN_TYPE:
            if (ss_join_type_lookup(optarg, &cfg->join) < 0) {
                ss_diag("--join-type: unknown join '%s' (try inner, left, "
                        "right or full)",
                        optarg);
                return 2;
            }
            break;
        case OPT_REJECTS:
            cfg->rejects = optarg;
            break;
        case OPT_SEPARATOR:
            if (ss_opt_char("--separator", optarg, &cfg->sep) < 0)
                return 2;
            break;
        case OPT_STATS:
            cfg->stats.print = 1;
            break;
        case OPT_STATS_FILE:
            if (*optarg == '\0') {
                ss_diag("--stats-file: empty path");
                return 2;
            }
            cfg->stats.file = optarg;
            break;
        case 'V':
            ss_stage_print_version(stdout);
            return 0;
        default:
            if (add_step(cfg, ch) != 0)
                return 2;
            break;
        }
    }
    if (optind < argc) {
        ss_diag("unexpected argument '%s'", argv[optind]);
        fputs(usage_line, stderr);
        return 2;
    }
    if (cfg->nops == 0) {
        ss_diag("no operation given (try --flat-map words --count-by-value)");
        fputs(usage_line, stderr);
        return 2;
    }
    return -1;
}

int
main(int argc, char **argv)
{
    struct ss_map_config cfg;
    int rc;

    ss_diag_init(argv[0]);
    ss_map_config_init(&cfg);
    if ((rc = parse(&cfg, argc, argv)) >= 0) {
        ss_map_config_release(&cfg);
        return rc;
    }
    if (ss_stage_check_pipes(SS_STAGE_MIDDLE) < 0) {
        ss_map_config_release(&cfg);
        return 2;
    }
    ss_stage_signals(SS_STAGE_MIDDLE);
    rc = ss_map_run(&cfg);
    ss_map_config_release(&cfg);
    return ss_stage_exit(rc);
}
