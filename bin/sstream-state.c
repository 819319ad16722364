/* sstream-state - keyed state across batches (updateStateByKey,
 * mapWithState), with durable checkpoints. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "opt.h"
#include "shard.h"
#include "stage.h"
#include "state.h"

#define LOCK_WAIT_MS 30000 /* --lock-wait: a last holder's last batch */

static const char usage_line[] =
    "usage: sstream-state [-hV] (--update OP | --update-exec CMD)\n"
    "                     (--checkpoint DIR | --no-checkpoint)\n"
    "                     [--checkpoint-interval DUR]\n"
    "                     [--emit all|updated|expired|records]\n"
    "                     [--import FILE | --initial FILE] "
    "[--keep-outputs N]\n"
    "                     [--rejects FILE] [--separator C] [--timeout DUR]\n"
    "                     [--parallel N | --by-partition [--lock-wait DUR]]\n"
    "                     [--stats] [--stats-file FILE]\n"
    "       sstream-state --dump DIR\n";

static const char help_text[] =
    "Keep a running state per key across batches.\n"
    "\n"
    "      --by-partition          the state of each Kafka partition this\n"
    "                              member holds (sstream-source --kafka),\n"
    "                              in DIR/TOPIC-P, moving with it\n"
    "      --checkpoint DIR        save the state in DIR (required, or\n"
    "                              --no-checkpoint); resume from it\n"
    "      --checkpoint-interval DUR\n"
    "                              a full snapshot every DUR of batch time\n"
    "                              (default: when the log outgrows it)\n"
    "      --dump DIR              print checkpoint DIR as key<TAB>value\n"
    "      --emit WHAT             all (default): every key each batch;\n"
    "                              updated: keys with records this batch;\n"
    "                              expired: updated, and timed out keys\n"
    "                              marked with a third field 'expired';\n"
    "                              records: a record per input record,\n"
    "                              the key's new state (mapWithState), or\n"
    "                              what --update-exec's command emitted\n"
    "      --import FILE           start a new checkpoint from key<TAB>value\n"
    "      --initial FILE          initial state (key<TAB>value) when the\n"
    "                              checkpoint is empty\n"
    "      --keep-outputs N        batches whose output a replay can get\n"
    "                              again (what a restart may send, >= 10)\n"
    "      --lock-wait DUR         --by-partition: wait up to DUR for a\n"
    "                              partition's last holder (default 30s)\n"
    "      --no-checkpoint         keep the state in memory only\n"
    "      --parallel N            N threads, each the state of the keys\n"
    "                              that hash to it (default 1; 0: one per\n"
    "                              CPU)\n"
    "      --rejects FILE          keep rejected records in FILE\n"
    "      --separator C           joins concat's values (,)\n"
    "      --stats                 a line per batch on stderr, a summary at\n"
    "                              exit\n"
    "      --stats-file FILE       append a JSON object per batch to FILE\n"
    "      --timeout DUR           remove keys with no records for more\n"
    "                              than DUR\n"
    "      --update OP             sum, count, min, max, mean, first, last,\n"
    "                              concat\n"
    "      --update-exec CMD       the state's update is CMD, a long-lived\n"
    "                              command (sstream-coprocess(7), mode\n"
    "                              update)\n"
    "  -h, --help                  show this help\n"
    "  -V, --version               show the version and frame format\n";

enum {
    OPT_BY_PARTITION = 256,
    OPT_CHECKPOINT,
    OPT_CHECKPOINT_INTERVAL,
    OPT_DUMP,
    OPT_EMIT,
    OPT_IMPORT,
    OPT_INITIAL,
    OPT_KEEP_OUTPUTS,
    OPT_LOCK_WAIT,
    OPT_NO_CHECKPOINT,
    OPT_PARALLEL,
    OPT_TIMEOUT,
    OPT_UPDATE,
    OPT_UPDATE_EXEC,
};

static const struct option longopts[] = {
    {"by-partition", no_argument, NULL, OPT_BY_PARTITION},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"checkpoint-interval", required_argument, NULL, OPT_CHECKPOINT_INTERVAL},
    {"dump", required_argument, NULL, OPT_DUMP},
    {"emit", required_argument, NULL, OPT_EMIT},
    {"help", no_argument, NULL, 'h'},
    {"import", required_argument, NULL, OPT_IMPORT},
    {"initial", required_argument, NULL, OPT_INITIAL},
    {"keep-outputs", required_argument, NULL, OPT_KEEP_OUTPUTS},
    {"lock-wait", required_argument, NULL, OPT_LOCK_WAIT},
    {"no-checkpoint", no_argument, NULL, OPT_NO_CHECKPOINT},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"rejects", required_argument, NULL, SS_OPT_REJECTS},
    {"separator", required_argument, NULL, SS_OPT_SEPARATOR},
    {"stats", no_argument, NULL, SS_OPT_STATS},
    {"stats-file", required_argument, NULL, SS_OPT_STATS_FILE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"update", required_argument, NULL, OPT_UPDATE},
    {"update-exec", required_argument, NULL, OPT_UPDATE_EXEC},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Options that only make sense with a state to run, for --dump's check;
 * have_op: 1 --update, 2 --update-exec. */
static int
check(const struct ss_opt_common *com, const struct ss_state_config *cfg,
      int no_ckpt, int have_op, const char *dump, int others)
{
    if (dump != NULL)
        return others ? ss_opt_usage(com, "--dump takes no other options") : 0;
    if (have_op == 3)
        return ss_opt_usage(com, "--update and --update-exec exclude each "
                                 "other");
    if (!have_op)
        return ss_opt_usage(com, "--update OP or --update-exec CMD is "
                                 "required");
    if (cfg->checkpoint != NULL && no_ckpt)
        return ss_opt_usage(
            com, "--checkpoint and --no-checkpoint exclude each other");
    if (cfg->checkpoint == NULL && !no_ckpt)
        return ss_opt_usage(
            com, "--checkpoint DIR is required for state, as in Spark "
                 "(--no-checkpoint for state that may be lost)");
    if (cfg->import != NULL && cfg->initial != NULL)
        return ss_opt_usage(com, "--import and --initial exclude each other");
    if (cfg->ckpt_interval_ms > 0 && no_ckpt)
        return ss_opt_usage(com,
                            "--checkpoint-interval needs --checkpoint DIR");
    return 0;
}

/* --by-partition keeps each partition's state in its own folder, loaded
 * when the partition comes: nothing to load first, no threads of its own
 * to ask for, no command per engine yet. */
static int
check_by_part(const struct ss_opt_common *com,
              const struct ss_state_config *cfg, int by_part, int have_wait,
              size_t parallel)
{
    if (!by_part)
        return have_wait ? ss_opt_usage(com, "--lock-wait needs "
                                             "--by-partition")
                         : 0;
    if (cfg->checkpoint == NULL)
        return ss_opt_usage(com, "--by-partition needs --checkpoint DIR (the "
                                 "state moves between members through it)");
    if (parallel != 1)
        return ss_opt_usage(com, "--by-partition runs an engine per "
                                 "partition held: not with --parallel");
    if (cfg->initial != NULL || cfg->import != NULL)
        return ss_opt_usage(com,
                            "--by-partition: not with %s (the state of "
                            "each partition starts empty)",
                            cfg->initial != NULL ? "--initial" : "--import");
    if (cfg->update_exec != NULL)
        return ss_opt_usage(com, "--by-partition: not with --update-exec "
                                 "(yet)");
    return 0;
}

int
main(int argc, char **argv)
{
    struct ss_state_config cfg;
    struct ss_opt_common com;
    struct ss_stage sg = {0};
    const char *dump = NULL;
    int ch, no_ckpt = 0, have_op = 0, others = 0, by_part = 0, have_wait = 0;
    int rc;
    int64_t lock_wait = LOCK_WAIT_MS;
    uint64_t n;
    size_t parallel = 1;

    ss_diag_init(argv[0]);
    ss_state_config_init(&cfg);
    com = (struct ss_opt_common){usage_line, help_text, &cfg.rejects, &cfg.sep,
                                 &cfg.stats};
    while ((ch = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        others += ch != OPT_DUMP;
        switch (ch) {
        case OPT_BY_PARTITION:
            by_part = 1;
            break;
        case OPT_CHECKPOINT:
            cfg.checkpoint = optarg;
            break;
        case OPT_CHECKPOINT_INTERVAL:
            if (ss_opt_duration("--checkpoint-interval", optarg,
                                &cfg.ckpt_interval_ms) < 0)
                return 2;
            break;
        case OPT_DUMP:
            dump = optarg;
            break;
        case OPT_EMIT:
            if (strcmp(optarg, "all") == 0)
                cfg.emit = SS_STATE_EMIT_ALL;
            else if (strcmp(optarg, "updated") == 0)
                cfg.emit = SS_STATE_EMIT_UPDATED;
            else if (strcmp(optarg, "expired") == 0)
                cfg.emit = SS_STATE_EMIT_EXPIRED;
            else if (strcmp(optarg, "records") == 0)
                cfg.emit = SS_STATE_EMIT_RECORDS;
            else
                return ss_opt_usage(&com,
                                    "--emit: '%s' is not all, updated, "
                                    "expired or records",
                                    optarg);
            break;
        case OPT_IMPORT:
            cfg.import = optarg;
            break;
        case OPT_INITIAL:
            cfg.initial = optarg;
            break;
        case OPT_KEEP_OUTPUTS:
            if (ss_opt_count("--keep-outputs", optarg, 0, 100000, &n) < 0)
                return 2;
            cfg.keep_outputs = (unsigned long)n;
            break;
        case OPT_LOCK_WAIT:
            if (ss_opt_duration("--lock-wait", optarg, &lock_wait) < 0)
                return 2;
            have_wait = 1;
            break;
        case OPT_NO_CHECKPOINT:
            no_ckpt = 1;
            break;
        case OPT_PARALLEL:
            if (ss_opt_parallel("--parallel", optarg, &parallel) < 0)
                return 2;
            break;
        case OPT_TIMEOUT:
            if (ss_opt_duration("--timeout", optarg, &cfg.timeout_ms) < 0)
                return 2;
            break;
        case OPT_UPDATE:
            if (ss_opt_operator("--update", optarg, &cfg.op) < 0)
                return 2;
            have_op |= 1;
            break;
        case OPT_UPDATE_EXEC:
            if (*optarg == '\0')
                return ss_opt_usage(&com, "--update-exec: the command is "
                                          "empty");
            cfg.update_exec = optarg;
            cfg.op = SS_OP_LAST; /* the state is the command's text */
            have_op |= 2;
            break;
        default: /* -h, -V, and the options every stage takes */
            if ((rc = ss_opt_common(&com, ch, optarg)) != SS_OPT_GO_ON)
                return rc;
        }
    }
    if ((rc = ss_opt_operands(&com, argc, argv)) != SS_OPT_GO_ON)
        return rc;
    if (dump == NULL &&
        (rc = check_by_part(&com, &cfg, by_part, have_wait, parallel)) != 0)
        return rc;
    if ((rc = check(&com, &cfg, no_ckpt, have_op, dump, others)) != 0)
        return rc;
    /* one coprocess per engine would work (the command keeps no state),
     * but its restarts and messages are not yet one per stage */
    if (parallel > 1 && cfg.update_exec != NULL)
        return ss_opt_usage(&com, "--parallel: not with --update-exec (yet: "
                                  "run it at --parallel 1)");
    if (dump != NULL)
        rc = ss_shard_state_dump(dump);
    else if ((rc = ss_stage_check_pipes(SS_STAGE_MIDDLE)) == 0) {
        ss_stage_signals(SS_STAGE_MIDDLE);
        rc = by_part ? ss_shard_state_parts(&cfg, lock_wait, &sg)
                     : ss_shard_state(&cfg, parallel, &sg);
    }
    return ss_stage_end(&sg, rc);
}
