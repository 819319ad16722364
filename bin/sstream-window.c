/* sstream-window - Spark's window operations: frames in, one frame per
 * slide out (or, with --session-gap, the sessions each batch closes). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "op.h"
#include "opt.h"
#include "shard.h"
#include "stage.h"
#include "window.h"

static const char usage_line[] =
    "usage: sstream-window [-hV] -w DUR [-s DUR] [--count | --count-by-value "
    "|\n"
    "                      --group-by-key | --reduce OP | --reduce-by-key OP "
    "|\n"
    "                      --reduce-exec CMD [--inverse-exec CMD]]\n"
    "                      [--filter-exec CMD]\n"
    "                      [--checkpoint DIR [--keep-outputs N]] "
    "[--keep-empty-keys]\n"
    "                      [--max-gap DUR] [--no-inverse] [--rejects FILE]\n"
    "                      [--separator C] [--parallel N]\n"
    "                      [--stats] [--stats-file FILE] [--allowed-lateness "
    "DUR]\n"
    "       sstream-window [-hV] --session-gap DUR (--count-by-value |\n"
    "                      --group-by-key | --reduce-by-key OP)\n"
    "                      [--checkpoint DIR [--keep-outputs N]] "
    "[--rejects FILE] [--separator C]\n"
    "                      [--parallel N] [--stats] [--stats-file FILE]\n";

static const char help_text[] =
    "Windows over a frame stream: one frame per slide, its time the "
    "window's end.\n"
    "\n"
    "  -w, --window DUR         window length: 10s, 1m (a multiple of the "
    "batch)\n"
    "  -s, --slide DUR          slide (default: the batch interval)\n"
    "      --allowed-lateness DUR  send a window again (an update frame) "
    "when late\n"
    "                           records for it come within DUR of its end\n"
    "      --checkpoint DIR     save the windows in DIR; resume from it\n"
    "      --count              number of records in the window\n"
    "      --count-by-value     (value, count) per distinct value\n"
    "      --filter-exec CMD    keep the window's (key, value) records that "
    "CMD\n"
    "                           answers with (sstream-coprocess(7))\n"
    "      --group-by-key       (key, values joined by the separator)\n"
    "      --inverse-exec CMD   with --reduce-exec: CMD takes a leaving "
    "pane out\n"
    "      --keep-empty-keys    keep keys whose window is empty, as Spark's\n"
    "                           inverse reduce does (sum, count, mean)\n"
    "      --keep-outputs N     batches whose output a replay gets again "
    "(what a\n"
    "                           restart may send, >= 10)\n"
    "      --max-gap DUR        longest jump in batch time filled with empty\n"
    "                           windows (default: 100000 slides)\n"
    "      --no-inverse         recompute each window from its panes\n"
    "      --parallel N         keyed windows on N threads, by key hash\n"
    "                           (default 1; 0: one per CPU)\n"
    "      --reduce OP          one value: OP over the window's values\n"
    "      --reduce-by-key OP   (key, OP over the key's values)\n"
    "      --reduce-exec CMD    (key, the key's values folded by CMD, a "
    "coprocess)\n"
    "      --rejects FILE       append records that are not numbers to FILE\n"
    "      --separator C        joins a group's values (default ,)\n"
    "      --session-gap DUR    per key, a session ends after DUR without "
    "records;\n"
    "                           emitted as key, start, end, aggregate\n"
    "      --stats              a line per batch on stderr, a summary at "
    "exit\n"
    "      --stats-file FILE    append a JSON object per batch to FILE\n"
    "  -h, --help               show this help\n"
    "  -V, --version            show the version and frame format\n"
    "\n"
    "Without an operator, the window's records in arrival order (window()).\n"
    "OP: sum, count, min, max, mean, first, last, concat.\n";

enum {
    OPT_ALLOWED_LATENESS = 256,
    OPT_CHECKPOINT,
    OPT_COUNT,
    OPT_COUNT_BY_VALUE,
    OPT_FILTER_EXEC,
    OPT_GROUP_BY_KEY,
    OPT_INVERSE_EXEC,
    OPT_KEEP_EMPTY,
    OPT_KEEP_OUTPUTS,
    OPT_MAX_GAP,
    OPT_NO_INVERSE,
    OPT_PARALLEL,
    OPT_REDUCE,
    OPT_REDUCE_BY_KEY,
    OPT_REDUCE_EXEC,
    OPT_SESSION_GAP,
};

static const struct option longopts[] = {
    {"allowed-lateness", required_argument, NULL, OPT_ALLOWED_LATENESS},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"count", no_argument, NULL, OPT_COUNT},
    {"count-by-value", no_argument, NULL, OPT_COUNT_BY_VALUE},
    {"filter-exec", required_argument, NULL, OPT_FILTER_EXEC},
    {"group-by-key", no_argument, NULL, OPT_GROUP_BY_KEY},
    {"help", no_argument, NULL, 'h'},
    {"inverse-exec", required_argument, NULL, OPT_INVERSE_EXEC},
    {"keep-empty-keys", no_argument, NULL, OPT_KEEP_EMPTY},
    {"keep-outputs", required_argument, NULL, OPT_KEEP_OUTPUTS},
    {"max-gap", required_argument, NULL, OPT_MAX_GAP},
    {"no-inverse", no_argument, NULL, OPT_NO_INVERSE},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"reduce", required_argument, NULL, OPT_REDUCE},
    {"reduce-by-key", required_argument, NULL, OPT_REDUCE_BY_KEY},
    {"reduce-exec", required_argument, NULL, OPT_REDUCE_EXEC},
    {"rejects", required_argument, NULL, SS_OPT_REJECTS},
    {"separator", required_argument, NULL, SS_OPT_SEPARATOR},
    {"session-gap", required_argument, NULL, OPT_SESSION_GAP},
    {"slide", required_argument, NULL, 's'},
    {"stats", no_argument, NULL, SS_OPT_STATS},
    {"stats-file", required_argument, NULL, SS_OPT_STATS_FILE},
    {"version", no_argument, NULL, 'V'},
    {"window", required_argument, NULL, 'w'},
    {NULL, 0, NULL, 0},
};

/* --reduce-exec, --inverse-exec, --filter-exec; -1 after saying why not. */
static int
check_exec(const struct ss_window_config *cfg, int keyed)
{
    const char *cmd[] = {cfg->reduce_exec, cfg->inverse_exec, cfg->filter_exec};
    const char *name[] = {"reduce-exec", "inverse-exec", "filter-exec"};

    for (size_t i = 0; i < sizeof(cmd) / sizeof(cmd[0]); i++)
        if (cmd[i] != NULL && cmd[i][0] == '\0')
            return ss_diag("--%s: the command is empty", name[i]);
    if (cfg->inverse_exec != NULL && cfg->reduce_exec == NULL)
        return ss_diag("--inverse-exec needs --reduce-exec CMD");
    if (cfg->inverse_exec != NULL && cfg->no_inverse)
        return ss_diag("--inverse-exec and --no-inverse exclude each other");
    if (cfg->keep_empty && cfg->reduce_exec != NULL &&
        cfg->inverse_exec == NULL)
        return ss_diag("--keep-empty-keys with --reduce-exec needs "
                       "--inverse-exec CMD");
    if (cfg->reduce_exec != NULL && cfg->session_gap > 0)
        return ss_diag("--reduce-exec is for sliding windows");
    if (cfg->filter_exec != NULL && cfg->session_gap > 0)
        return ss_diag("--filter-exec is for sliding windows");
    if (cfg->filter_exec != NULL && !keyed)
        return ss_diag("--filter-exec needs --count-by-value, --group-by-key, "
                       "--reduce-by-key OP or --reduce-exec CMD");
    /* a rebuild (lib/window_late.c) would need coprocesses of its own */
    if (cfg->lateness > 0 &&
        (cfg->reduce_exec != NULL || cfg->filter_exec != NULL))
        return ss_diag("--allowed-lateness: not with --%s (yet)",
                       cfg->reduce_exec != NULL ? "reduce-exec"
                                                : "filter-exec");
    return 0;
}

/* --parallel above 1 runs whole engines on threads (lib/shard): the user
 * functions' coprocesses and the rebuilds of --allowed-lateness are each
 * one engine's, not yet split; -1 after saying why not. */
static int
check_parallel(const struct ss_window_config *cfg, size_t parallel)
{
    const char *opt = cfg->reduce_exec != NULL   ? "reduce-exec"
                      : cfg->filter_exec != NULL ? "filter-exec"
                      : cfg->lateness > 0        ? "allowed-lateness"
                                                 : NULL;

    if (parallel > 1 && opt != NULL)
        return ss_diag("--parallel %zu: not with --%s (yet: run it at "
                       "--parallel 1)",
                       parallel, opt);
    return 0;
}

/* Options that only make sense together; SS_REPORTED after saying why not. */
static int
check(const struct ss_window_config *cfg, int modes)
{
    int keyed = cfg->mode == SS_WINDOW_REDUCE_BY_KEY ||
                cfg->mode == SS_WINDOW_COUNT_BY_VALUE ||
                cfg->mode == SS_WINDOW_GROUP_BY_KEY;

    if (modes > 1)
        return ss_diag("--count, --count-by-value, --group-by-key, --reduce, "
                       "--reduce-by-key and --reduce-exec exclude each other");
    if (check_exec(cfg, keyed) < 0)
        return -1;
    if (cfg->session_gap > 0) {
        if (cfg->window > 0 || cfg->slide > 0)
            return ss_diag("--session-gap excludes --window and --slide");
        if (!keyed)
            return ss_diag("--session-gap needs --count-by-value, "
                           "--group-by-key or --reduce-by-key OP");
        if (cfg->keep_empty || cfg->max_gap > 0 || cfg->lateness > 0)
            return ss_diag("--%s is for sliding windows",
                           cfg->keep_empty ? "keep-empty-keys"
                           : cfg->max_gap  ? "max-gap"
                                           : "allowed-lateness");
        return 0;
    }
    if (cfg->window == 0)
        return ss_diag("--window is required (or --session-gap)");
    if (cfg->lateness > 0 && cfg->checkpoint != NULL)
        return ss_diag("--allowed-lateness: not with --checkpoint (yet: the "
                       "batches it keeps are not in the checkpoint)");
    if (cfg->keep_empty && cfg->mode != SS_WINDOW_COUNT_BY_VALUE &&
        !((cfg->mode == SS_WINDOW_REDUCE ||
           cfg->mode == SS_WINDOW_REDUCE_BY_KEY) &&
          ss_op_invertible(cfg->op)))
        return ss_diag("--keep-empty-keys needs --count-by-value, or --reduce "
                       "or --reduce-by-key with sum, count or mean");
    return 0;
}

int
main(int argc, char **argv)
{
    struct ss_window_config cfg;
    struct ss_opt_common com;
    struct ss_stage sg = {0};
    int ch, modes = 0, keep_outputs = 0, rc;
    uint64_t n;
    size_t parallel = 1;

    ss_diag_init(argv[0]);
    ss_window_config_init(&cfg);
    com = (struct ss_opt_common){usage_line, help_text, &cfg.rejects, &cfg.sep,
                                 &cfg.stats};
    while ((ch = getopt_long(argc, argv, "hs:Vw:", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_ALLOWED_LATENESS:
            if (ss_opt_duration("--allowed-lateness", optarg, &cfg.lateness) <
                0)
                return 2;
            break;
        case OPT_CHECKPOINT:
            cfg.checkpoint = optarg;
            break;
        case OPT_COUNT:
            cfg.mode = SS_WINDOW_COUNT;
            modes++;
            break;
        case OPT_COUNT_BY_VALUE:
            cfg.mode = SS_WINDOW_COUNT_BY_VALUE;
            modes++;
            break;
        case OPT_FILTER_EXEC:
            cfg.filter_exec = optarg;
            break;
        case OPT_GROUP_BY_KEY:
            cfg.mode = SS_WINDOW_GROUP_BY_KEY;
            modes++;
            break;
        case OPT_INVERSE_EXEC:
            cfg.inverse_exec = optarg;
            break;
        case OPT_KEEP_EMPTY:
            cfg.keep_empty = 1;
            break;
        case OPT_KEEP_OUTPUTS:
            if (ss_opt_count("--keep-outputs", optarg, 0, 100000, &n) < 0)
                return 2;
            cfg.keep_outputs = (unsigned long)n;
            keep_outputs = 1;
            break;
        case OPT_MAX_GAP:
            if (ss_opt_duration("--max-gap", optarg, &cfg.max_gap) < 0)
                return 2;
            break;
        case OPT_NO_INVERSE:
            cfg.no_inverse = 1;
            break;
        case OPT_PARALLEL:
            if (ss_opt_parallel("--parallel", optarg, &parallel) < 0)
                return 2;
            break;
        case OPT_REDUCE:
            if (ss_opt_operator("--reduce", optarg, &cfg.op) < 0)
                return 2;
            cfg.mode = SS_WINDOW_REDUCE;
            modes++;
            break;
        case OPT_REDUCE_BY_KEY:
            if (ss_opt_operator("--reduce-by-key", optarg, &cfg.op) < 0)
                return 2;
            cfg.mode = SS_WINDOW_REDUCE_BY_KEY;
            modes++;
            break;
        case OPT_REDUCE_EXEC:
            cfg.reduce_exec = optarg;
            cfg.mode = SS_WINDOW_REDUCE_BY_KEY;
            modes++;
            break;
        case 's':
            if (ss_opt_duration("--slide", optarg, &cfg.slide) < 0)
                return 2;
            break;
        case OPT_SESSION_GAP:
            if (ss_opt_duration("--session-gap", optarg, &cfg.session_gap) < 0)
                return 2;
            break;
        case 'w':
            if (ss_opt_duration("--window", optarg, &cfg.window) < 0)
                return 2;
            break;
        default: /* -h, -V, and the options every stage takes */
            if ((rc = ss_opt_common(&com, ch, optarg)) != SS_OPT_GO_ON)
                return rc;
        }
    }
    if ((rc = ss_opt_operands(&com, argc, argv)) != SS_OPT_GO_ON)
        return rc;
    if (keep_outputs && cfg.checkpoint == NULL)
        return ss_opt_usage(&com, "--keep-outputs needs --checkpoint DIR");
    if (check(&cfg, modes) < 0 || check_parallel(&cfg, parallel) < 0) {
        fputs(usage_line, stderr);
        return 2;
    }
    if ((rc = ss_stage_check_pipes(SS_STAGE_MIDDLE)) == 0) {
        ss_stage_signals(SS_STAGE_MIDDLE);
        rc = ss_shard_window(&cfg, parallel, &sg);
    }
    return ss_stage_end(&sg, rc);
}
