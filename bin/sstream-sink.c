/* sstream-sink - output operations: frames on stdin become text, files
 * per batch, a command per batch, lines pushed to a server. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "kafka.h"
#include "lazy.h"
#include "opt.h"
#include "sink.h"
#include "stage.h"
#include "timefmt.h"

static const char usage_line[] =
    "usage: sstream-sink [-hV] [--dump | --json | --lines | --print[=N] |\n"
    "                    --top N | --tsv]\n"
    "                    [--save-as-text-files PREFIX [--suffix S] "
    "[--skip-empty]\n"
    "                     [--spark-layout]]\n"
    "                    [--foreach CMD [--retries N]]\n"
    "                    [--connect HOST:PORT [--connect-timeout DUR]]\n"
    "                    [--post URL [--retries N] [--skip-empty]]\n"
    "                    [--kafka HOST:PORT[,...] --topic NAME [-X "
    "NAME=VALUE] ...\n"
    "                     [--commit-topic NAME]]\n"
    "                    [--mqtt HOST:PORT --topic T [--qos 0|1]]\n"
    "                    [--nats URL --subject SUBJ]\n"
    "                    [--commit DIR] [--progress] [--stats] "
    "[--stats-file FILE]\n"
    "                    [--time-format ms|iso|local|FORMAT]\n";

static const char help_text[] =
    "Write a frame stream from stdin as text, files or commands.\n"
    "\n"
    "      --commit DIR                 record each durable batch in "
    "DIR/commit\n"
    "                                   (the source's --wal DIR); skip "
    "batches\n"
    "                                   committed before a restart\n"
    "      --commit-topic NAME          --kafka with -X transactional.id=ID "
    "and\n"
    "                                   --commit: the topic of the batches' "
    "marks\n"
    "                                   (sstream-commit.ID)\n"
    "      --connect HOST:PORT          push the lines to a server\n"
    "      --connect-timeout DUR        give the server DUR to answer (10s; "
    "0: none)\n"
    "      --dump                       every frame, headers included\n"
    "      --foreach CMD                run 'sh -c CMD' per batch, the lines "
    "on\n"
    "                                   its stdin, SSTREAM_BATCH_TIME set\n"
    "      --json                       an object per record: time, key, "
    "value\n"
    "      --kafka HOST:PORT,...        each record a message of --topic "
    "(a keyed\n"
    "                                   record's key the message key)\n"
    "      --lines                      the value, or key<TAB>value, per "
    "record\n"
    "      --mqtt HOST:PORT             publish each record to --topic "
    "(T's {key}:\n"
    "                                   the record's key)\n"
    "      --nats URL                   publish each record to JetStream on "
    "--subject\n"
    "                                   (SUBJ's {key}: the record's key), "
    "ids\n"
    "                                   TIME-PLACE: a replay is dropped as "
    "duplicate\n"
    "      --post URL                   each batch one HTTP POST, a JSON body\n"
    "      --print[=N]                  Spark's print(): the first N (10) "
    "records\n"
    "      --progress                   the source's records/s on stderr, per "
    "batch\n"
    "      --qos 0|1                    --mqtt: 1 (default) waits for the "
    "broker's\n"
    "                                   acknowledgements, 0 does not\n"
    "      --retries N                  run a failing --foreach CMD again N "
    "times;\n"
    "                                   try a --post again N times (3)\n"
    "      --save-as-text-files PREFIX  one file PREFIX-TIME[.S] per batch\n"
    "      --skip-empty                 no file, no --post, for an empty "
    "batch\n"
    "      --spark-layout               a folder per batch, as Spark's:\n"
    "                                   PREFIX-TIME[.S]/part-00000, "
    "_SUCCESS\n"
    "      --stats                      a line per batch on stderr, a "
    "summary at\n"
    "                                   exit; warn when falling behind\n"
    "      --stats-file FILE            append a JSON object per batch to "
    "FILE\n"
    "      --subject SUBJ               the --nats subject\n"
    "      --suffix S                   the files' suffix\n"
    "      --time-format F              batch times for --print, --tsv, --top: "
    "ms\n"
    "                                   (default), iso (UTC), local, or a\n"
    "                                   strftime format\n"
    "      --top N                      the N keys of largest value per "
    "batch:\n"
    "                                   a live view on a terminal, else\n"
    "                                   time<TAB>rank<TAB>key<TAB>value\n"
    "      --topic NAME                 the --kafka or --mqtt topic\n"
    "      --tsv                        time<TAB>value, or "
    "time<TAB>key<TAB>value\n"
    "  -h, --help                       show this help\n"
    "  -V, --version                    show the version and frame format\n"
    "  -X NAME=VALUE                    a librdkafka setting for --kafka (as "
    "kcat -X)\n"
    "\n"
    "Without any output option, --print. The files, the server and the\n"
    "command hold the records as --lines prints them.\n";

enum {
    OPT_COMMIT = 256,
    OPT_COMMIT_TOPIC,
    OPT_CONNECT,
    OPT_CONNECT_TIMEOUT,
    OPT_DUMP,
    OPT_FOREACH,
    OPT_JSON,
    OPT_KAFKA,
    OPT_LINES,
    OPT_MQTT,
    OPT_NATS,
    OPT_POST,
    OPT_PRINT,
    OPT_PROGRESS,
    OPT_QOS,
    OPT_RETRIES,
    OPT_SAVE_AS,
    OPT_SKIP_EMPTY,
    OPT_SPARK_LAYOUT,
    OPT_SUBJECT,
    OPT_SUFFIX,
    OPT_TOP,
    OPT_TOPIC,
    OPT_TIME_FORMAT,
    OPT_TSV,
};

static const struct option longopts[] = {
    {"commit", required_argument, NULL, OPT_COMMIT},
    {"commit-topic", required_argument, NULL, OPT_COMMIT_TOPIC},
    {"connect", required_argument, NULL, OPT_CONNECT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"dump", no_argument, NULL, OPT_DUMP},
    {"foreach", required_argument, NULL, OPT_FOREACH},
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, OPT_JSON},
    {"kafka", required_argument, NULL, OPT_KAFKA},
    {"lines", no_argument, NULL, OPT_LINES},
    {"mqtt", required_argument, NULL, OPT_MQTT},
    {"nats", required_argument, NULL, OPT_NATS},
    {"post", required_argument, NULL, OPT_POST},
    {"print", optional_argument, NULL, OPT_PRINT},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"qos", required_argument, NULL, OPT_QOS},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"save-as-text-files", required_argument, NULL, OPT_SAVE_AS},
    {"skip-empty", no_argument, NULL, OPT_SKIP_EMPTY},
    {"spark-layout", no_argument, NULL, OPT_SPARK_LAYOUT},
    {"stats", no_argument, NULL, SS_OPT_STATS},
    {"stats-file", required_argument, NULL, SS_OPT_STATS_FILE},
    {"subject", required_argument, NULL, OPT_SUBJECT},
    {"suffix", required_argument, NULL, OPT_SUFFIX},
    {"top", required_argument, NULL, OPT_TOP},
    {"topic", required_argument, NULL, OPT_TOPIC},
    {"time-format", required_argument, NULL, OPT_TIME_FORMAT},
    {"tsv", no_argument, NULL, OPT_TSV},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* -X settings, in argument order. */
static char **props;

/* The default --commit-topic, sstream-commit.ID. */
static char commit_topic[256];

/* --commit-topic goes with --kafka, -X transactional.id and --commit,
 * and is on whenever they are: by default sstream-commit.ID, when ID
 * makes a topic name (Kafka's: at most 249 of [A-Za-z0-9._-]). 0 or
 * SS_REPORTED after saying why. */
/* arg as the one topic an option names; NULL after saying why not. */
static const char *
one_topic(const char *opt, const char *arg)
{
    if (*arg == '\0' || strchr(arg, ',') != NULL) {
        ss_diag("%s: '%s' is not one topic name", opt, arg);
        return NULL;
    }
    return arg;
}

static int
check_commit_topic(struct ss_sink_config *cfg, size_t nprops)
{
    const char *id = ss_kafka_prop(props, nprops, "transactional.id");
    int n;

    if (cfg->ctopic != NULL && cfg->kafka == NULL)
        return ss_diag("--commit-topic: needs --kafka");
    if (cfg->ctopic != NULL && id == NULL)
        return ss_diag("--commit-topic: needs -X transactional.id=ID");
    if (cfg->ctopic != NULL && cfg->commit == NULL)
        return ss_diag("--commit-topic: needs --commit");
    if (cfg->kafka == NULL || id == NULL || cfg->commit == NULL ||
        cfg->ctopic != NULL)
        return 0;
    n = snprintf(commit_topic, sizeof(commit_topic), "sstream-commit.%s", id);
    if (*id == '\0' || n > 249 ||
        strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789._-") != strlen(id))
        return ss_diag("-X transactional.id: '%s' makes no topic name: give "
                       "--commit-topic NAME",
                       id);
    cfg->ctopic = commit_topic;
    return 0;
}

/* --kafka, --topic and -X go together, --mqtt with --topic and --qos;
 * 0 or SS_REPORTED after saying why. */
static int
check_brokers(struct ss_sink_config *cfg, size_t nprops, int qos_given)
{
    cfg->props = props;
    cfg->nprops = nprops;
    if (cfg->kafka != NULL && cfg->mqtt != NULL)
        return ss_diag("--kafka and --mqtt: one at a time (--topic is the "
                       "one's topic)");
    if (cfg->kafka == NULL && cfg->mqtt == NULL && cfg->topic != NULL)
        return ss_diag("--topic: needs --kafka or --mqtt");
    if (cfg->kafka == NULL && nprops > 0)
        return ss_diag("-X: needs --kafka");
    if (cfg->mqtt == NULL && qos_given)
        return ss_diag("--qos: needs --mqtt");
    if ((cfg->kafka != NULL || cfg->mqtt != NULL) && cfg->topic == NULL)
        return ss_diag("--%s: needs --topic", cfg->kafka ? "kafka" : "mqtt");
    if (cfg->nats == NULL && cfg->subject != NULL)
        return ss_diag("--subject: needs --nats");
    if (cfg->nats != NULL && cfg->subject == NULL)
        return ss_diag("--nats: needs --subject");
    if (cfg->nats != NULL && strpbrk(cfg->subject, " *>") != NULL)
        return ss_diag("--subject: '%s': * and > are for subscribing, not "
                       "publishing",
                       cfg->subject);
    if (cfg->mqtt != NULL && strpbrk(cfg->topic, "+#") != NULL)
        return ss_diag("--topic: '%s': + and # are for subscribing, not "
                       "publishing",
                       cfg->topic);
    if (check_commit_topic(cfg, nprops) < 0)
        return SS_REPORTED;
    return cfg->kafka != NULL ? ss_kafka_check(props, nprops) : 0;
}

int
main(int argc, char **argv)
{
    struct ss_sink_config cfg;
    struct ss_opt_common com;
    struct ss_stage sg = {0};
    int ch, modes = 0, retries_given = 0, time_format_given = 0, rc;
    int connect_timeout_given = 0, qos_given = 0;
    size_t nprops = 0;
    uint64_t n;

    ss_diag_init(argv[0]);
    if ((props = calloc((size_t)argc, sizeof(*props))) == NULL) {
        ss_diag("out of memory");
        return 1;
    }
    ss_sink_config_init(&cfg);
    com = (struct ss_opt_common){usage_line, help_text, NULL, NULL, &cfg.stats};
    while ((ch = getopt_long(argc, argv, "hVX:", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_COMMIT:
            if (*optarg == '\0') {
                ss_diag("--commit: empty folder name");
                return 2;
            }
            cfg.commit = optarg;
            break;
        case OPT_COMMIT_TOPIC:
            if ((cfg.ctopic = one_topic("--commit-topic", optarg)) == NULL)
                return 2;
            break;
        case OPT_CONNECT:
            if (ss_opt_hostport("--connect", optarg, 1) < 0)
                return 2;
            cfg.connect = optarg;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (strcmp(optarg, "0") == 0)
                cfg.connect_timeout = 0;
            else if (ss_opt_duration("--connect-timeout", optarg,
                                     &cfg.connect_timeout) < 0)
                return 2;
            connect_timeout_given = 1;
            break;
        case OPT_DUMP:
            cfg.mode = SS_SINK_DUMP;
            modes++;
            break;
        case OPT_FOREACH:
            if (*optarg == '\0') {
                ss_diag("--foreach: empty command");
                return 2;
            }
            cfg.foreach = optarg;
            break;
        case OPT_JSON:
            cfg.mode = SS_SINK_JSON;
            modes++;
            break;
        case OPT_KAFKA:
            if (ss_kafka_check_brokers(optarg) < 0)
                return ss_opt_usage(&com,
                                    "--kafka: '%s' is not "
                                    "HOST:PORT[,HOST:PORT...]",
                                    optarg);
            cfg.kafka = optarg;
            break;
        case OPT_LINES:
            cfg.mode = SS_SINK_LINES;
            modes++;
            break;
        case OPT_POST:
            if (strncmp(optarg, "http://", 7) != 0 &&
                strncmp(optarg, "https://", 8) != 0) {
                ss_diag("--post: '%s' is not an http:// or https:// URL",
                        optarg);
                return 2;
            }
            cfg.post = optarg;
            break;
        case OPT_MQTT:
            if (ss_opt_hostport("--mqtt", optarg, 1) < 0)
                return 2;
            cfg.mqtt = optarg;
            break;
        case OPT_NATS:
            if (*optarg == '\0')
                return ss_opt_usage(&com, "--nats: empty URL (try "
                                          "nats://127.0.0.1:4222)");
            cfg.nats = optarg;
            break;
        case OPT_PRINT:
            cfg.mode = SS_SINK_PRINT;
            modes++;
            if (optarg != NULL) {
                if (ss_opt_count("--print", optarg, 0, SIZE_MAX / 2, &n) < 0)
                    return 2;
                cfg.print_n = (size_t)n;
            }
            break;
        case OPT_PROGRESS:
            cfg.stats.progress = 1;
            break;
        case OPT_QOS:
            if (ss_opt_count("--qos", optarg, 0, 1, &n) < 0)
                return 2;
            cfg.qos = (int)n;
            qos_given = 1;
            break;
        case OPT_RETRIES:
            if (ss_opt_count("--retries", optarg, 0, 100, &n) < 0)
                return 2;
            cfg.retries = cfg.post_retries = (unsigned)n;
            retries_given = 1;
            break;
        case OPT_SAVE_AS:
            if (*optarg == '\0') {
                ss_diag("--save-as-text-files: empty prefix");
                return 2;
            }
            cfg.save_as = optarg;
            break;
        case OPT_SKIP_EMPTY:
            cfg.skip_empty = 1;
            break;
        case OPT_SPARK_LAYOUT:
            cfg.spark_layout = 1;
            break;
        case OPT_SUBJECT:
            if (*optarg == '\0')
                return ss_opt_usage(&com, "--subject: empty subject");
            cfg.subject = optarg;
            break;
        case OPT_SUFFIX:
            cfg.suffix = *optarg ? optarg : NULL; /* "" is none, as Spark */
            break;
        case OPT_TIME_FORMAT:
            if (ss_timefmt_parse(optarg, &cfg.time_format) < 0) {
                if (strchr(optarg, '%') != NULL)
                    ss_diag("--time-format: '%s' gives an empty time or one "
                            "over %d bytes",
                            optarg, SS_TIMEFMT_MAX - 1);
                else
                    ss_diag("--time-format: '%s' is not ms, iso, local or a "
                            "strftime format (try '%%F %%T')",
                            optarg);
                return 2;
            }
            time_format_given = 1;
            break;
        case OPT_TOP:
            if (ss_opt_count("--top", optarg, 1, 100000, &n) < 0)
                return 2;
            cfg.mode = SS_SINK_TOP;
            cfg.top_n = (size_t)n;
            modes++;
            break;
        case OPT_TOPIC:
            if ((cfg.topic = one_topic("--topic", optarg)) == NULL)
                return 2;
            break;
        case OPT_TSV:
            cfg.mode = SS_SINK_TSV;
            modes++;
            break;
        case 'X':
            props[nprops++] = optarg;
            break;
        default: /* -h, -V, and the options every stage takes */
            if ((rc = ss_opt_common(&com, ch, optarg)) != SS_OPT_GO_ON)
                return rc;
        }
    }
    if ((rc = ss_opt_operands(&com, argc, argv)) != SS_OPT_GO_ON)
        return rc;
    if (modes > 1)
        return ss_opt_usage(&com, "--dump, --json, --lines, --print, --top "
                                  "and --tsv exclude each other");
    if (cfg.suffix != NULL && cfg.save_as == NULL)
        return ss_opt_usage(&com, "--suffix: needs --save-as-text-files");
    if (cfg.spark_layout && cfg.save_as == NULL)
        return ss_opt_usage(&com, "--spark-layout: needs "
                                  "--save-as-text-files");
    if (cfg.skip_empty && cfg.save_as == NULL && cfg.post == NULL)
        return ss_opt_usage(&com, "--skip-empty: needs --save-as-text-files "
                                  "or --post");
    if (connect_timeout_given && cfg.connect == NULL && cfg.post == NULL)
        return ss_opt_usage(&com, "--connect-timeout: needs --connect or "
                                  "--post");
    /* -X is checked by librdkafka itself, loaded when asked for. */
    if (cfg.kafka != NULL && ss_lazy_load(SS_LAZY_RDKAFKA, "--kafka") < 0)
        return 1;
    if (check_brokers(&cfg, nprops, qos_given) < 0) {
        fputs(usage_line, stderr);
        return 2;
    }
    if (retries_given && cfg.foreach == NULL && cfg.post == NULL)
        return ss_opt_usage(&com, "--retries: needs --foreach or --post");
    /* With an output operation, stdout has text only when asked. */
    if (modes == 0 &&
        (cfg.save_as != NULL || cfg.foreach != NULL || cfg.connect != NULL ||
         cfg.kafka != NULL || cfg.post != NULL || cfg.mqtt != NULL ||
         cfg.nats != NULL))
        cfg.mode = SS_SINK_NONE;
    if (time_format_given && cfg.mode != SS_SINK_PRINT &&
        cfg.mode != SS_SINK_TSV && cfg.mode != SS_SINK_TOP)
        return ss_opt_usage(&com, "--time-format: only for --print, --tsv "
                                  "and --top");
    if ((rc = ss_stage_check_pipes(SS_STAGE_SINK)) == 0) {
        ss_stage_signals(SS_STAGE_SINK);
        rc = ss_sink_run(&cfg, &sg);
    }
    return ss_stage_end(&sg, rc);
}
