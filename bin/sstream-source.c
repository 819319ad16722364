/* sstream-source - records from stdin, sockets, a watched folder, a
 * command or a replay folder, cut into micro-batch frames on stdout. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "fields.h"
#include "kafka.h"
#include "lazy.h"
#include "opt.h"
#include "recv.h"
#include "source.h"
#include "stage.h"
#include "timefmt.h"

static const char usage_line[] =
    "usage: sstream-source [-hV] [-b DUR] [--batches N] [--duration DUR]\n"
    "                      [--delimiter C] [--keep-cr]\n"
    "                      [--max-record-bytes N] [--record-bytes N] "
    "[--rejects FILE]\n"
    "                      [--max-rate N] [--max-batch-records N] "
    "[--max-batch-bytes N]\n"
    "                      [--stats] [--stats-file FILE] [--format FMT "
    "[--header NAMES]]\n"
    "                      [--event-time FIELD [--time-format FMT] "
    "[--max-delay DUR]\n"
    "                      [--idle-timeout DUR] [--late FILE] "
    "[--late-policy P]\n"
    "                      [--allowed-lateness DUR]]\n"
    "                      [--connect HOST:PORT [--connect-once] "
    "[--connect-timeout DUR]]\n"
    "                      [--listen [HOST:]PORT]\n"
    "                      [--exec CMD [--exec-restart]]\n"
    "                      [--kafka HOST:PORT[,...] --topic NAME[,...] "
    "--group ID\n"
    "                      [--kafka-key] [--from-beginning | --from-end] "
    "[--once]\n"
    "                      [--partition-state DIR] [-X NAME=VALUE] ...]\n"
    "                      [--nats URL --stream NAME --consumer NAME "
    "[--subject FILTER]]\n"
    "                      [--mqtt HOST:PORT --topic FILTER [--qos 0|1] "
    "[--client-id ID]]\n"
    "                      [--watch DIR [--once [--max-wait DUR]] "
    "[--settle DUR]\n"
    "                      [--state DIR]] ...\n"
    "                      [--wal DIR [--wal-segment N] [--max-uncommitted "
    "N]]\n"
    "                      [--catch-up[=DUR]]\n"
    "       sstream-source [-hV] [-b DUR] [--batches N] [--duration DUR]\n"
    "                      [--delimiter C] [--keep-cr]\n"
    "                      [--max-record-bytes N] [--record-bytes N] "
    "[--rejects FILE]\n"
    "                      [--stats] [--stats-file FILE] [--format FMT "
    "[--header NAMES]]\n"
    "                      [--event-time FIELD [--time-format FMT] "
    "[--max-delay DUR]\n"
    "                      [--late FILE] [--late-policy P] "
    "[--allowed-lateness DUR]]\n"
    "                      --replay DIR [--start-time MS]\n"
    "                      [--wal DIR [--wal-segment N] [--max-uncommitted "
    "N]]\n";

static const char help_text[] =
    "Cut records from stdin, or the inputs given (their records unioned),\n"
    "or a replay folder, into micro-batch frames.\n"
    "\n"
    "      --allowed-lateness DUR with --late-policy update: a record late by "
    "up to\n"
    "                             DUR goes out in an update frame of its "
    "batch\n"
    "  -b, --batch DUR            batch interval (default 1s): 500ms, 2s, 1m\n"
    "      --batches N            end the stream after N batches\n"
    "      --catch-up[=DUR]       first send the empty batches of the "
    "downtime\n"
    "                             since the last run (--wal, --state), "
    "up to\n"
    "                             DUR of them (100000 batches)\n"
    "      --client-id ID         the --mqtt session's name (sstream-FILTER)\n"
    "      --connect HOST:PORT    read lines from a server (e.g. nc -lk)\n"
    "      --consumer NAME        the --nats durable pull consumer\n"
    "      --connect-once         end when the server closes, no reconnect\n"
    "      --connect-timeout DUR  give up an attempt after DUR (10s; 0: "
    "none)\n"
    "      --delimiter C          record delimiter (default \\n)\n"
    "      --duration DUR         end the stream after DUR (--replay: of "
    "batch time)\n"
    "      --event-time FIELD     batch each record by the time in FIELD "
    "(a name,\n"
    "                             or a number from 1)\n"
    "      --exec CMD             read the stdout of 'sh -c CMD'\n"
    "      --exec-restart         run CMD again whenever it ends\n"
    "      --format FMT           rows: tsv, csv (each with a header row) "
    "or json\n"
    "                             (JSON Lines); sent on as JSON objects\n"
    "      --from-beginning       a --group without offsets starts at the "
    "oldest\n"
    "      --from-end             ... or at the newest message (default)\n"
    "      --group ID             the --kafka consumer group\n"
    "      --header NAMES         the --format csv or tsv field names "
    "(a,b,c): the\n"
    "                             rows have no header row (needed with "
    "--kafka,\n"
    "                             --nats, --mqtt: a message is one row)\n"
    "      --idle-timeout DUR     with --event-time: after DUR without "
    "records,\n"
    "                             send the open batches, then one per "
    "interval\n"
    "      --kafka HOST:PORT,...  consume --topic as a member of --group, "
    "each\n"
    "                             message's value a record\n"
    "      --kafka-key            the message key is the record key\n"
    "      --keep-cr              keep the \\r of a \\r\\n line end in the "
    "record\n"
    "      --late FILE            append late records to FILE\n"
    "      --late-policy P        late records: drop, file (with --late), "
    "next-batch,\n"
    "                             or update (default: file with --late, "
    "else drop)\n"
    "      --listen [HOST:]PORT   accept producers on a TCP port, on "
    "127.0.0.1\n"
    "                             unless HOST is given (0.0.0.0: every one)\n"
    "      --max-batch-bytes N    a batch that holds N bytes of records "
    "takes no more\n"
    "      --max-batch-records N  a batch that holds N records takes no "
    "more\n"
    "      --max-delay DUR        with --event-time: how far out of order "
    "records\n"
    "                             may come (default 0)\n"
    "      --max-rate N           read at most N records per second\n"
    "      --max-record-bytes N   longer records are rejects (default 1M)\n"
    "      --max-uncommitted N    with --wal: send a batch only when the sink\n"
    "                             has committed all but the last N (10)\n"
    "      --max-wait DUR         with --once: give up on a file still "
    "changing\n"
    "                             after DUR (default 1m; 0: no limit)\n"
    "      --partition-state DIR  with --kafka: the --checkpoint of the "
    "sstream-state\n"
    "                             --by-partition after it; each partition "
    "assigned\n"
    "                             starts where its state stands\n"
    "      --mqtt HOST:PORT       subscribe to --topic on an MQTT broker, "
    "each\n"
    "                             message's payload a record\n"
    "      --nats URL             fetch from a JetStream consumer, each "
    "message's\n"
    "                             payload a record (nats://HOST:PORT)\n"
    "      --once                 read the watched folders' files, or Kafka "
    "up to\n"
    "                             the end offsets seen at start, then end\n"
    "      --qos 0|1              the --mqtt subscription's QoS (1: a "
    "session kept\n"
    "                             across restarts, at least once)\n"
    "      --record-bytes N       fixed-size binary records of N bytes\n"
    "      --rejects FILE         append rejected records to FILE\n"
    "      --replay DIR           one batch per file of DIR, in name order\n"
    "      --settle DUR           a watched file unchanged this long is "
    "complete (1s)\n"
    "      --start-time MS        time before the first replay batch (0)\n"
    "      --state DIR            the last batch time (and with --watch, the\n"
    "                             ledger of the files read), kept in DIR\n"
    "      --stats                a line per batch on stderr, a summary at "
    "exit\n"
    "      --stats-file FILE      append a JSON object per batch to FILE\n"
    "      --time-format FMT      of --event-time: epoch-ms (default), "
    "epoch-s,\n"
    "                             iso8601, or a strptime format "
    "(%d/%b/%Y:...)\n"
    "      --stream NAME          the --nats stream\n"
    "      --subject FILTER       the --nats consumer's subject filter\n"
    "      --topic NAME,...       the --kafka topics to consume, or the "
    "--mqtt filter\n"
    "      --wal DIR              write-ahead log: each batch synced to DIR\n"
    "                             before it is sent; replayed after a crash\n"
    "      --wal-segment N        bytes per log segment (default 16M)\n"
    "      --watch DIR            read each new file of DIR once, whole\n"
    "  -X NAME=VALUE              a librdkafka setting for --kafka (as kcat "
    "-X)\n"
    "  -h, --help                 show this help\n"
    "  -V, --version              show the version and frame format\n"
    "\n"
    "Frames go to stdout: pipe them into another stage or sstream-sink.\n"
    "At a limit the source reads no further until the next batch: the\n"
    "producer waits (a pipe, or TCP backpressure on a socket).\n";

enum {
    OPT_ALLOWED_LATENESS = 256,
    OPT_BATCHES,
    OPT_CATCH_UP,
    OPT_CLIENT_ID,
    OPT_CONNECT,
    OPT_CONNECT_ONCE,
    OPT_CONSUMER,
    OPT_CONNECT_TIMEOUT,
    OPT_DELIMITER,
    OPT_DURATION,
    OPT_EVENT_TIME,
    OPT_EXEC,
    OPT_EXEC_RESTART,
    OPT_FORMAT,
    OPT_FROM_BEGINNING,
    OPT_FROM_END,
    OPT_GROUP,
    OPT_HEADER,
    OPT_IDLE_TIMEOUT,
    OPT_KAFKA,
    OPT_KAFKA_KEY,
    OPT_KEEP_CR,
    OPT_LATE,
    OPT_LATE_POLICY,
    OPT_LISTEN,
    OPT_MAX_BATCH_BYTES,
    OPT_MAX_BATCH_RECORDS,
    OPT_MAX_DELAY,
    OPT_MAX_RATE,
    OPT_MAX_RECORD,
    OPT_MAX_UNCOMMITTED,
    OPT_MAX_WAIT,
    OPT_MQTT,
    OPT_PARTITION_STATE,
    OPT_NATS,
    OPT_ONCE,
    OPT_QOS,
    OPT_RECORD_BYTES,
    OPT_REPLAY,
    OPT_SETTLE,
    OPT_START_TIME,
    OPT_STATE,
    OPT_TIME_FORMAT,
    OPT_STREAM,
    OPT_SUBJECT,
    OPT_TOPIC,
    OPT_WAL,
    OPT_WAL_SEGMENT,
    OPT_WATCH,
};

static const struct option longopts[] = {
    {"allowed-lateness", required_argument, NULL, OPT_ALLOWED_LATENESS},
    {"batch", required_argument, NULL, 'b'},
    {"batches", required_argument, NULL, OPT_BATCHES},
    {"catch-up", optional_argument, NULL, OPT_CATCH_UP},
    {"client-id", required_argument, NULL, OPT_CLIENT_ID},
    {"connect", required_argument, NULL, OPT_CONNECT},
    {"connect-once", no_argument, NULL, OPT_CONNECT_ONCE},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"consumer", required_argument, NULL, OPT_CONSUMER},
    {"delimiter", required_argument, NULL, OPT_DELIMITER},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"event-time", required_argument, NULL, OPT_EVENT_TIME},
    {"exec", required_argument, NULL, OPT_EXEC},
    {"exec-restart", no_argument, NULL, OPT_EXEC_RESTART},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"from-beginning", no_argument, NULL, OPT_FROM_BEGINNING},
    {"from-end", no_argument, NULL, OPT_FROM_END},
    {"group", required_argument, NULL, OPT_GROUP},
    {"header", required_argument, NULL, OPT_HEADER},
    {"help", no_argument, NULL, 'h'},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"kafka", required_argument, NULL, OPT_KAFKA},
    {"kafka-key", no_argument, NULL, OPT_KAFKA_KEY},
    {"keep-cr", no_argument, NULL, OPT_KEEP_CR},
    {"late", required_argument, NULL, OPT_LATE},
    {"late-policy", required_argument, NULL, OPT_LATE_POLICY},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"max-batch-bytes", required_argument, NULL, OPT_MAX_BATCH_BYTES},
    {"max-batch-records", required_argument, NULL, OPT_MAX_BATCH_RECORDS},
    {"max-delay", required_argument, NULL, OPT_MAX_DELAY},
    {"max-rate", required_argument, NULL, OPT_MAX_RATE},
    {"max-record-bytes", required_argument, NULL, OPT_MAX_RECORD},
    {"max-uncommitted", required_argument, NULL, OPT_MAX_UNCOMMITTED},
    {"max-wait", required_argument, NULL, OPT_MAX_WAIT},
    {"mqtt", required_argument, NULL, OPT_MQTT},
    {"nats", required_argument, NULL, OPT_NATS},
    {"once", no_argument, NULL, OPT_ONCE},
    {"partition-state", required_argument, NULL, OPT_PARTITION_STATE},
    {"qos", required_argument, NULL, OPT_QOS},
    {"record-bytes", required_argument, NULL, OPT_RECORD_BYTES},
    {"rejects", required_argument, NULL, SS_OPT_REJECTS},
    {"replay", required_argument, NULL, OPT_REPLAY},
    {"settle", required_argument, NULL, OPT_SETTLE},
    {"start-time", required_argument, NULL, OPT_START_TIME},
    {"state", required_argument, NULL, OPT_STATE},
    {"stats", no_argument, NULL, SS_OPT_STATS},
    {"stats-file", required_argument, NULL, SS_OPT_STATS_FILE},
    {"time-format", required_argument, NULL, OPT_TIME_FORMAT},
    {"stream", required_argument, NULL, OPT_STREAM},
    {"subject", required_argument, NULL, OPT_SUBJECT},
    {"topic", required_argument, NULL, OPT_TOPIC},
    {"version", no_argument, NULL, 'V'},
    {"wal", required_argument, NULL, OPT_WAL},
    {"wal-segment", required_argument, NULL, OPT_WAL_SEGMENT},
    {"watch", required_argument, NULL, OPT_WATCH},
    {NULL, 0, NULL, 0},
};

/* -X settings, in argument order. */
static char **props;
static size_t nprops;

/* The live inputs in argument order: at most one per argument. */
static struct ss_source_input *inputs;

/* Add a live input; its argument is checked here, so that a bad one is a
 * usage error before anything starts. */
static int
add_input(struct ss_source_input *in, size_t *n, enum ss_source_input_kind k,
          const char *opt, const char *arg)
{
    if ((k == SS_INPUT_CONNECT || k == SS_INPUT_LISTEN) &&
        ss_opt_hostport(opt, arg, k == SS_INPUT_CONNECT) < 0)
        return SS_REPORTED;
    if (k == SS_INPUT_NATS && arg[0] == '\0')
        return ss_diag("%s: empty URL (try nats://127.0.0.1:4222)", opt);
    if (k == SS_INPUT_EXEC && arg[0] == '\0')
        return ss_diag("%s: empty command", opt);
    if (k == SS_INPUT_MQTT && ss_opt_hostport(opt, arg, 1) < 0)
        return SS_REPORTED;
    if (k == SS_INPUT_KAFKA && ss_kafka_check_brokers(arg) < 0)
        return ss_diag("%s: '%s' is not HOST:PORT[,HOST:PORT...]", opt, arg);
    in[*n].kind = k;
    in[*n].arg = arg;
    (*n)++;
    return 0;
}

/* Whether an input of kind k was given. */
static int
has_input(const struct ss_source_config *cfg, enum ss_source_input_kind k)
{
    for (size_t i = 0; i < cfg->ninputs; i++)
        if (cfg->inputs[i].kind == k)
            return 1;
    return 0;
}

/* Options that only make sense together; 0 or SS_REPORTED after saying
 * why. */
static int
check_combination(const struct ss_source_config *cfg, int watches,
                  int settle_given, int max_wait_given)
{
    if (cfg->replay != NULL && (cfg->ninputs > 0 || cfg->max_rate > 0))
        return ss_diag("--replay is the only input when given "
                       "(no --connect, --listen, --watch, --exec, "
                       "--max-rate)");
    if (cfg->replay != NULL &&
        (cfg->max_batch_records > 0 || cfg->max_batch_bytes > 0))
        return ss_diag("--max-batch-%s: not with --replay (a replay batch "
                       "is one whole file)",
                       cfg->max_batch_records > 0 ? "records" : "bytes");
    if (cfg->keep_cr && (cfg->delim != '\n' || cfg->record_bytes > 0))
        return ss_diag("--keep-cr: only for lines that end with \\n (not "
                       "with --%s)",
                       cfg->record_bytes > 0 ? "record-bytes" : "delimiter");
    if (cfg->connect_once && !has_input(cfg, SS_INPUT_CONNECT))
        return ss_diag("--connect-once: needs --connect");
    if (cfg->exec_restart && !has_input(cfg, SS_INPUT_EXEC))
        return ss_diag("--exec-restart: needs --exec");
    if (cfg->once && watches == 0 && !has_input(cfg, SS_INPUT_KAFKA))
        return ss_diag("--once: needs --watch or --kafka");
    if (settle_given && watches == 0)
        return ss_diag("--settle: needs --watch");
    if (max_wait_given && !cfg->once)
        return ss_diag("--max-wait: needs --once");
    if (cfg->state != NULL && watches > 1)
        return ss_diag("--state: keeps the ledger of one --watch folder");
    return 0;
}

/* --catch-up needs a record of the last run's last batch, and a live
 * clock to have missed batches by; 0 or SS_REPORTED after saying why. */
static int
check_catch_up(const struct ss_source_config *cfg, int evtime_given)
{
    if (!cfg->catch_up)
        return 0;
    if (cfg->wal == NULL && cfg->state == NULL)
        return ss_diag("--catch-up: needs --wal or --state (the record of "
                       "the last batch sent)");
    if (cfg->replay != NULL || evtime_given)
        return ss_diag("--catch-up: not with --%s (%s)",
                       cfg->replay != NULL ? "replay" : "event-time",
                       cfg->replay != NULL ? "replay time has no downtime"
                                           : "batches follow the records' "
                                             "times");
    return 0;
}

/* --kafka and the options that go with it; 0 or SS_REPORTED after saying why.
 */
static int
check_kafka(const struct ss_source_config *cfg, int kafkas, int from_end)
{
    const struct ss_source_kafka *k = &cfg->kafka;

    if (kafkas > 1)
        return ss_diag("--kafka: one at most (list the brokers in one, the "
                       "topics in --topic)");
    if (kafkas == 0) {
        const char *opt = k->group            ? "group"
                          : k->key            ? "kafka-key"
                          : k->from_beginning ? "from-beginning"
                          : from_end          ? "from-end"
                          : k->nprops         ? "X"
                          : k->pstate         ? "partition-state"
                                              : NULL;

        if (opt != NULL)
            return ss_diag("-%s%s: needs --kafka", opt[1] ? "-" : "", opt);
        return 0;
    }
    if (cfg->topic == NULL || k->group == NULL)
        return ss_diag("--kafka: needs --%s", cfg->topic ? "group" : "topic");
    if (cfg->topic[0] == '\0' || cfg->topic[0] == ',' ||
        strstr(cfg->topic, ",,") != NULL ||
        cfg->topic[strlen(cfg->topic) - 1] == ',')
        return ss_diag("--topic: '%s' is not NAME[,NAME...]", cfg->topic);
    if (k->group[0] == '\0')
        return ss_diag("--group: empty name");
    if (k->from_beginning && from_end)
        return ss_diag("--from-beginning and --from-end: one or the other");
    if (k->key && (cfg->ninputs > 1 || cfg->record_bytes > 0))
        return ss_diag("--kafka-key: keyed records come from --kafka alone");
    if (k->pstate != NULL && strchr(cfg->topic, ',') != NULL)
        return ss_diag("--partition-state: one --topic (the state is kept by "
                       "the partitions of one)");
    if (k->pstate != NULL && cfg->wal != NULL)
        return ss_diag("--partition-state: not with --wal (a partition "
                       "restarts where its state stands, which the log's "
                       "batches would not wait for)");
    if (k->pstate != NULL && cfg->evtime.on)
        return ss_diag("--partition-state: not with --event-time (a "
                       "partition's state follows the batch clock)");
    return ss_kafka_check(k->props, k->nprops);
}

/* The broker input, or NULL. */
static const char *
broker(const struct ss_source_config *cfg)
{
    return has_input(cfg, SS_INPUT_KAFKA)  ? "kafka"
           : has_input(cfg, SS_INPUT_NATS) ? "nats"
           : has_input(cfg, SS_INPUT_MQTT) ? "mqtt"
                                           : NULL;
}

/* --header, and rows from a broker: a message is a row whole, so CSV and
 * TSV names come from --header. 0 or SS_REPORTED after saying why. */
static int
check_header(const struct ss_source_config *cfg)
{
    struct ss_fields_row r;
    const char *why, *b = broker(cfg);
    int rc;

    if (cfg->header != NULL && cfg->format != SS_FIELDS_CSV &&
        cfg->format != SS_FIELDS_TSV)
        return ss_diag("--header: names the fields of --format csv or tsv");
    if (b != NULL && cfg->header == NULL &&
        (cfg->format == SS_FIELDS_CSV || cfg->format == SS_FIELDS_TSV))
        return ss_diag("--format %s: with --%s each message is a row, with "
                       "no header row: name the fields with --header a,b,c",
                       cfg->format == SS_FIELDS_CSV ? "csv" : "tsv", b);
    if (b != NULL && cfg->kafka.key && cfg->format != SS_FIELDS_LINES)
        return ss_diag("--kafka-key: not with --format (take a field as the "
                       "key with sstream-map --key)");
    if (cfg->header == NULL)
        return 0;
    ss_fields_row_init(&r, SS_FIELDS_CSV);
    rc = ss_fields_row_names(&r, cfg->header, &why);
    ss_fields_row_release(&r);
    if (rc == -EINVAL)
        return ss_diag("--header: %s", why);
    return rc < 0 ? ss_diag_err(rc, "--header") : 0;
}

/* --format and --event-time: rows read per input, batches cut by the
 * records' own times. 0 or SS_REPORTED after saying why. */
static int
check_events(const struct ss_source_config *cfg, int given, int policy_given,
             int lateness_given)
{
    const struct ss_evtime_config *ev = &cfg->evtime;
    const char *opt;

    if (!ev->on && given)
        return ss_diag("--time-format, --max-delay, --idle-timeout, --late, "
                       "--late-policy and --allowed-lateness: need "
                       "--event-time");
    if ((cfg->format != SS_FIELDS_LINES || ev->on) && cfg->record_bytes > 0)
        return ss_diag("--%s: reads lines (not with --record-bytes)",
                       ev->on ? "event-time" : "format");
    if (check_header(cfg) < 0)
        return SS_REPORTED;
    if (!ev->on)
        return 0;
    if (cfg->format == SS_FIELDS_LINES && ev->field.num == 0)
        return ss_diag("--event-time: '%s' is a field name: needs --format "
                       "(a number N takes the Nth tab-separated field)",
                       ev->field.name);
    /* A broker's acknowledgement (the Kafka commit, the NATS ack, the
     * MQTT PUBACK) follows the batch a message arrived in; under event
     * time it may wait in an open batch after that, and a crash would
     * lose it. */
    if (broker(cfg) != NULL)
        return ss_diag("--event-time: not with --%s (a message is "
                       "acknowledged when the batch it arrives in is sent, "
                       "before its event-time batch is)",
                       broker(cfg));
    if (cfg->wal != NULL && cfg->replay == NULL)
        return ss_diag("--wal: with --event-time, needs --replay (after a "
                       "crash the open batches are rebuilt by reading the "
                       "input again)");
    opt = cfg->max_rate            ? "max-rate"
          : cfg->max_batch_records ? "max-batch-records"
          : cfg->max_batch_bytes   ? "max-batch-bytes"
          : cfg->batches           ? "batches"
          : cfg->duration          ? "duration"
          : cfg->start_time        ? "start-time"
                                   : NULL;
    if (opt != NULL)
        return ss_diag("--%s: not with --event-time (batches follow the "
                       "records' times)",
                       opt);
    /* the open batches are a ring of --max-delay / -b slots */
    if (ev->max_delay / cfg->interval > SS_EVTIME_MAX_SLOTS)
        return ss_diag("--max-delay: more than %d batch intervals (-b)",
                       SS_EVTIME_MAX_SLOTS);
    if (ev->idle_timeout > 0 && cfg->replay != NULL)
        return ss_diag("--idle-timeout: not with --replay (a replay is "
                       "never idle)");
    if (ev->policy == SS_LATE_FILE && ev->late == NULL)
        return ss_diag("--late-policy file: needs --late FILE");
    if (ev->policy != SS_LATE_FILE && ev->policy != SS_LATE_UPDATE &&
        ev->late != NULL && policy_given)
        return ss_diag("--late FILE: goes with --late-policy file or update");
    if ((ev->policy == SS_LATE_UPDATE) != lateness_given)
        return ss_diag("--allowed-lateness and --late-policy update: go "
                       "together (how late a record may be and still update "
                       "its batch)");
    /* The log keeps batches, not the updates sent after them: a restart
     * could not send them again. */
    if (ev->policy == SS_LATE_UPDATE && cfg->wal != NULL)
        return ss_diag("--late-policy update: not with --wal (update frames "
                       "are not kept in the log; use --late-policy file)");
    return 0;
}

/* One broker input at a time: --topic names its topics. */
static int
check_brokers(const struct ss_source_config *cfg, int kafkas, int mqtts)
{
    if (kafkas > 0 && mqtts > 0)
        return ss_diag("--kafka and --mqtt: one broker input at a time "
                       "(--topic is the one's topics)");
    if (cfg->topic != NULL && kafkas + mqtts == 0)
        return ss_diag("--topic: needs --kafka or --mqtt");
    return 0;
}

/* --mqtt and the options that go with it; 0 or SS_REPORTED after saying
 * why. The default client id names the filter, so that a restart finds
 * its session. */
static int
check_mqtt(struct ss_source_config *cfg, int mqtts, int qos_given)
{
    static char id[300];

    if (mqtts == 0 && (qos_given || cfg->mqtt.client_id != NULL))
        return ss_diag("--%s: needs --mqtt", qos_given ? "qos" : "client-id");
    if (mqtts == 0)
        return 0;
    if (mqtts > 1)
        return ss_diag("--mqtt: one at most (a filter with + and # takes "
                       "several topics)");
    if (cfg->topic == NULL || cfg->topic[0] == '\0')
        return ss_diag("--mqtt: needs --topic");
    if (cfg->mqtt.client_id == NULL) {
        snprintf(id, sizeof(id), "sstream-%s", cfg->topic);
        cfg->mqtt.client_id = id;
    }
    if (cfg->mqtt.client_id[0] == '\0')
        return ss_diag("--client-id: empty name");
    return 0;
}

/* --nats and the options that go with it; 0 or SS_REPORTED after saying
 * why. */
static int
check_nats(const struct ss_source_config *cfg, int natss)
{
    const struct ss_source_nats *n = &cfg->nats;

    if (natss == 0) {
        const char *opt = n->stream     ? "stream"
                          : n->consumer ? "consumer"
                          : n->subject  ? "subject"
                                        : NULL;

        return opt ? ss_diag("--%s: needs --nats", opt) : 0;
    }
    if (natss > 1)
        return ss_diag("--nats: one at most (list the servers in one URL, "
                       "comma-separated)");
    if (n->stream == NULL || n->consumer == NULL)
        return ss_diag("--nats: needs --%s", n->stream ? "consumer" : "stream");
    if (n->stream[0] == '\0' || strpbrk(n->stream, " .*>") != NULL)
        return ss_diag("--stream: '%s' is not a stream name", n->stream);
    if (n->consumer[0] == '\0' || strpbrk(n->consumer, " .*>") != NULL)
        return ss_diag("--consumer: '%s' is not a consumer name", n->consumer);
    if (n->subject != NULL && n->subject[0] == '\0')
        return ss_diag("--subject: empty subject");
    return 0;
}

/* The log's options need the log, and the log needs a bound. */
static int
check_wal(const struct ss_source_config *cfg, int wal_segment_given,
          int max_uncommitted_given)
{
    if (cfg->wal == NULL && (wal_segment_given || max_uncommitted_given))
        return ss_diag("--%s: needs --wal",
                       wal_segment_given ? "wal-segment" : "max-uncommitted");
    if (cfg->wal != NULL && cfg->max_uncommitted == 0)
        return ss_diag("--max-uncommitted: 0 (no limit) is refused with "
                       "--wal: a restart could send again more batches than "
                       "the stateful stages keep (--keep-outputs, 10); give "
                       "N of 1 or more (default %d)",
                       SS_SOURCE_MAX_UNCOMMITTED);
    return 0;
}

int
main(int argc, char **argv)
{
    struct ss_source_config cfg;
    struct ss_opt_common com;
    struct ss_stage sg = {0};
    int rc, ch, watches = 0, settle_given = 0, wal_segment_given = 0;
    int max_wait_given = 0, max_uncommitted_given = 0, kafkas = 0;
    int evtime_given = 0, policy_given = 0, lateness_given = 0;
    enum ss_fields_format fmt;
    int from_end = 0, connect_timeout_given = 0, mqtts = 0, qos_given = 0;
    int natss = 0;
    size_t ninputs = 0, bytes;
    uint64_t n;

    ss_diag_init(argv[0]);
    ss_source_config_init(&cfg);
    com = (struct ss_opt_common){usage_line, help_text, &cfg.rejects, NULL,
                                 &cfg.stats};
    if ((inputs = calloc((size_t)argc, sizeof(*inputs))) == NULL ||
        (props = calloc((size_t)argc, sizeof(*props))) == NULL) {
        ss_diag("out of memory");
        return 1;
    }
    while ((ch = getopt_long(argc, argv, "b:hVX:", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_ALLOWED_LATENESS:
            if (ss_opt_duration("--allowed-lateness", optarg,
                                &cfg.evtime.lateness) < 0)
                return 2;
            lateness_given = evtime_given = 1;
            break;
        case 'b':
            if (ss_opt_duration("--batch", optarg, &cfg.interval) < 0)
                return 2;
            break;
        case OPT_BATCHES:
            if (ss_opt_count("--batches", optarg, 1, UINT32_MAX, &cfg.batches) <
                0)
                return 2;
            break;
        case OPT_CATCH_UP:
            cfg.catch_up = 1;
            if (optarg != NULL &&
                ss_opt_duration("--catch-up", optarg, &cfg.catch_up_max) < 0)
                return 2;
            break;
        case OPT_CLIENT_ID:
            cfg.mqtt.client_id = optarg;
            break;
        case OPT_CONNECT:
            if (add_input(inputs, &ninputs, SS_INPUT_CONNECT, "--connect",
                          optarg) < 0)
                return 2;
            break;
        case OPT_CONSUMER:
            cfg.nats.consumer = optarg;
            break;
        case OPT_CONNECT_ONCE:
            cfg.connect_once = 1;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (strcmp(optarg, "0") == 0)
                cfg.connect_timeout = 0;
            else if (ss_opt_duration("--connect-timeout", optarg,
                                     &cfg.connect_timeout) < 0)
                return 2;
            connect_timeout_given = 1;
            break;
        case OPT_DELIMITER:
            if (ss_opt_char("--delimiter", optarg, &cfg.delim) < 0)
                return 2;
            break;
        case OPT_DURATION:
            if (ss_opt_duration("--duration", optarg, &cfg.duration) < 0)
                return 2;
            break;
        case OPT_EVENT_TIME:
            if (ss_fields_sel_parse(optarg, &cfg.evtime.field) < 0) {
                ss_diag("--event-time: empty field name");
                return 2;
            }
            cfg.evtime.on = 1;
            break;
        case OPT_EXEC:
            if (add_input(inputs, &ninputs, SS_INPUT_EXEC, "--exec", optarg) <
                0)
                return 2;
            break;
        case OPT_EXEC_RESTART:
            cfg.exec_restart = 1;
            break;
        case OPT_FORMAT:
            if (ss_fields_format_parse(optarg, &fmt) < 0) {
                ss_diag("--format: unknown format '%s' (try tsv, csv or "
                        "json)",
                        optarg);
                return 2;
            }
            cfg.format = (int)fmt;
            break;
        case OPT_FROM_BEGINNING:
            cfg.kafka.from_beginning = 1;
            break;
        case OPT_FROM_END:
            from_end = 1;
            break;
        case OPT_GROUP:
            cfg.kafka.group = optarg;
            break;
        case OPT_HEADER:
            cfg.header = optarg;
            break;
        case OPT_IDLE_TIMEOUT:
            if (ss_opt_duration("--idle-timeout", optarg,
                                &cfg.evtime.idle_timeout) < 0)
                return 2;
            evtime_given = 1;
            break;
        case OPT_KAFKA:
            if (add_input(inputs, &ninputs, SS_INPUT_KAFKA, "--kafka", optarg) <
                0)
                return 2;
            kafkas++;
            break;
        case OPT_KAFKA_KEY:
            cfg.kafka.key = 1;
            break;
        case OPT_PARTITION_STATE:
            cfg.kafka.pstate = optarg;
            break;
        case OPT_KEEP_CR:
            cfg.keep_cr = 1;
            break;
        case OPT_LATE:
            cfg.evtime.late = optarg;
            if (!policy_given)
                cfg.evtime.policy = SS_LATE_FILE;
            evtime_given = 1;
            break;
        case OPT_LATE_POLICY:
            if (strcmp(optarg, "drop") == 0)
                cfg.evtime.policy = SS_LATE_DROP;
            else if (strcmp(optarg, "file") == 0)
                cfg.evtime.policy = SS_LATE_FILE;
            else if (strcmp(optarg, "next-batch") == 0)
                cfg.evtime.policy = SS_LATE_NEXT_BATCH;
            else if (strcmp(optarg, "update") == 0)
                cfg.evtime.policy = SS_LATE_UPDATE;
            else {
                ss_diag("--late-policy: unknown policy '%s' (try drop, file, "
                        "next-batch or update)",
                        optarg);
                return 2;
            }
            policy_given = evtime_given = 1;
            break;
        case OPT_LISTEN:
            if (add_input(inputs, &ninputs, SS_INPUT_LISTEN, "--listen",
                          optarg) < 0)
                return 2;
            break;
        case OPT_MAX_BATCH_BYTES:
            if (ss_opt_bytes("--max-batch-bytes", optarg, &bytes) < 0)
                return 2;
            cfg.max_batch_bytes = bytes;
            break;
        case OPT_MAX_BATCH_RECORDS:
            if (ss_opt_count("--max-batch-records", optarg, 1, UINT32_MAX,
                             &cfg.max_batch_records) < 0)
                return 2;
            break;
        case OPT_MAX_DELAY:
            if (strcmp(optarg, "0") != 0 &&
                ss_opt_duration("--max-delay", optarg, &cfg.evtime.max_delay) <
                    0)
                return 2;
            evtime_given = 1;
            break;
        case OPT_MAX_RATE:
            if (ss_opt_count("--max-rate", optarg, 1, 1000000000,
                             &cfg.max_rate) < 0)
                return 2;
            break;
        case OPT_MAX_RECORD:
            if (ss_opt_bytes("--max-record-bytes", optarg, &cfg.max_record) < 0)
                return 2;
            break;
        case OPT_MAX_UNCOMMITTED:
            /* 0 parses, to be refused with its reason (check_wal()) */
            if (strcmp(optarg, "0") == 0)
                cfg.max_uncommitted = 0;
            else if (ss_opt_count("--max-uncommitted", optarg, 1, 1000000,
                                  &cfg.max_uncommitted) < 0)
                return 2;
            max_uncommitted_given = 1;
            break;
        case OPT_MAX_WAIT:
            if (strcmp(optarg, "0") != 0 &&
                ss_opt_duration("--max-wait", optarg, &cfg.max_wait) < 0)
                return 2;
            if (strcmp(optarg, "0") == 0)
                cfg.max_wait = 0;
            max_wait_given = 1;
            break;
        case OPT_MQTT:
            if (add_input(inputs, &ninputs, SS_INPUT_MQTT, "--mqtt", optarg) <
                0)
                return 2;
            mqtts++;
            break;
        case OPT_NATS:
            if (add_input(inputs, &ninputs, SS_INPUT_NATS, "--nats", optarg) <
                0)
                return 2;
            natss++;
            break;
        case OPT_ONCE:
            cfg.once = 1;
            break;
        case OPT_QOS:
            if (ss_opt_count("--qos", optarg, 0, 1, &n) < 0)
                return 2;
            cfg.mqtt.qos = (int)n;
            qos_given = 1;
            break;
        case OPT_RECORD_BYTES:
            if (ss_opt_bytes("--record-bytes", optarg, &cfg.record_bytes) < 0)
                return 2;
            break;
        case OPT_REPLAY:
            cfg.replay = optarg;
            break;
        case OPT_SETTLE:
            if (ss_opt_duration("--settle", optarg, &cfg.settle) < 0)
                return 2;
            settle_given = 1;
            break;
        case OPT_START_TIME:
            if (ss_opt_count("--start-time", optarg, 0, INT64_MAX / 2, &n) < 0)
                return 2;
            cfg.start_time = (int64_t)n;
            break;
        case OPT_STATE:
            cfg.state = optarg;
            break;
        case OPT_TIME_FORMAT:
            if (ss_timefmt_parse_in(optarg, &cfg.evtime.tf) < 0) {
                ss_diag("--time-format: unknown format '%s' (try epoch-ms, "
                        "epoch-s, iso8601 or a strptime format with %%)",
                        optarg);
                return 2;
            }
            evtime_given = 1;
            break;
        case OPT_STREAM:
            cfg.nats.stream = optarg;
            break;
        case OPT_SUBJECT:
            cfg.nats.subject = optarg;
            break;
        case OPT_TOPIC:
            cfg.topic = optarg;
            break;
        case OPT_WAL:
            cfg.wal = optarg;
            break;
        case OPT_WAL_SEGMENT:
            if (ss_opt_bytes("--wal-segment", optarg, &cfg.wal_segment) < 0)
                return 2;
            wal_segment_given = 1;
            break;
        case OPT_WATCH:
            if (add_input(inputs, &ninputs, SS_INPUT_WATCH, "--watch", optarg) <
                0)
                return 2;
            watches++;
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
    cfg.inputs = inputs;
    cfg.ninputs = ninputs;
    cfg.kafka.props = props;
    cfg.kafka.nprops = nprops;
    if (connect_timeout_given && !has_input(&cfg, SS_INPUT_CONNECT)) {
        ss_diag("--connect-timeout: needs --connect");
        fputs(usage_line, stderr);
        return 2;
    }
    /* -X is checked by librdkafka itself, loaded when asked for. */
    if (kafkas > 0 && ss_lazy_load(SS_LAZY_RDKAFKA, "--kafka") < 0)
        return 1;
    if (check_combination(&cfg, watches, settle_given, max_wait_given) < 0 ||
        check_brokers(&cfg, kafkas, mqtts) < 0 ||
        check_kafka(&cfg, kafkas, from_end) < 0 ||
        check_mqtt(&cfg, mqtts, qos_given) < 0 || check_nats(&cfg, natss) < 0 ||
        check_wal(&cfg, wal_segment_given, max_uncommitted_given) < 0 ||
        check_events(&cfg, evtime_given, policy_given, lateness_given) < 0 ||
        check_catch_up(&cfg, evtime_given) < 0) {
        fputs(usage_line, stderr);
        return 2;
    }
    if ((rc = ss_stage_check_pipes(SS_STAGE_SOURCE)) == 0) {
        ss_stage_signals(SS_STAGE_SOURCE);
        rc = ss_source_run(&cfg, &sg);
    }
    return ss_stage_end(&sg, rc);
}
