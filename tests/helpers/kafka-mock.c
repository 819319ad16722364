/* kafka-mock - a Kafka cluster for the tests: librdkafka's mock cluster,
 * which speaks the Kafka protocol over real TCP on 127.0.0.1 (each broker
 * on a port the kernel picks), so that sstream and kcat talk to it as to
 * a real one.
 *
 *   kafka-mock [-b BROKERS] [-p PARTITIONS] [-a TOPIC] [-u TOPIC] TOPIC...
 *
 * Creates BROKERS brokers (3) and each TOPIC with PARTITIONS partitions
 * (4), prints the bootstrap list (host:port,...) on a line of its own,
 * and serves until SIGINT or SIGTERM. Exit 2 on a usage error, 1 when the
 * cluster cannot start.
 *
 * The mock cluster creates any topic a client asks about, so a missing
 * topic or a refused one is staged: -u TOPIC answers every request about
 * TOPIC with "unknown topic or partition", -a TOPIC with "topic
 * authorization failed".
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_signal(int signum)
{
    (void)signum;
    stop = 1;
}

static int
number(const char *s, int max)
{
    char *end;
    long v = strtol(s, &end, 10);

    return *s != '\0' && *end == '\0' && v >= 1 && v <= max ? (int)v : -1;
}

/* The handle the mock cluster needs for its bookkeeping; it produces
 * nothing itself. */
static rd_kafka_t *
new_handle(void)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;

    /* quiet: the tests read our stdout and stderr */
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL)
        fprintf(stderr, "kafka-mock: %s\n", err);
    return rk;
}

int
main(int argc, char **argv)
{
    int brokers = 3, partitions = 4, ch, rc = 0;
    const char *unknown = NULL, *denied = NULL;
    rd_kafka_mock_cluster_t *mc;
    struct sigaction sa;
    rd_kafka_t *rk;

    while ((ch = getopt(argc, argv, "a:b:p:u:")) != -1) {
        switch (ch) {
        case 'a':
            denied = optarg;
            break;
        case 'b':
            if ((brokers = number(optarg, 16)) < 0)
                goto usage;
            break;
        case 'p':
            if ((partitions = number(optarg, 1000)) < 0)
                goto usage;
            break;
        case 'u':
            unknown = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (optind == argc)
        goto usage;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if ((rk = new_handle()) == NULL)
        return 1;
    if ((mc = rd_kafka_mock_cluster_new(rk, brokers)) == NULL) {
        fprintf(stderr, "kafka-mock: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = optind; i < argc && rc == 0; i++) {
        int r = brokers < 3 ? brokers : 3;

        if (rd_kafka_mock_topic_create(mc, argv[i], partitions, r) != 0) {
            fprintf(stderr, "kafka-mock: cannot create topic '%s'\n", argv[i]);
            rc = 1;
        }
    }
    if (unknown != NULL)
        rd_kafka_mock_topic_set_error(mc, unknown,
                                      RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    if (denied != NULL)
        rd_kafka_mock_topic_set_error(
            mc, denied, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    if (rc == 0) {
        printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);
        while (!stop)
            pause();
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return rc;
usage:
    fputs("usage: kafka-mock [-b BROKERS] [-p PARTITIONS] [-a TOPIC] "
          "[-u TOPIC] TOPIC...\n",
          stderr);
    return 2;
}
