/* kafka.c - librdkafka settings and log, for the Kafka source and sink. */
#include "kafka.h"

#include <errno.h>
#include <string.h>

#include "diag.h"
#include "opt.h"

int
ss_kafka_check_brokers(const char *list)
{
    char one[300], host[256];
    unsigned port;

    for (const char *p = list, *end;; p = end + 1) {
        size_t n = (end = strchr(p, ',')) ? (size_t)(end - p) : strlen(p);

        if (n == 0 || n >= sizeof(one))
            return -EINVAL;
        memcpy(one, p, n);
        one[n] = '\0';
        if (ss_opt_hostport_split(one, 1, host, sizeof(host), &port) < 0)
            return -EINVAL;
        if (end == NULL)
            return 0;
    }
}

int
ss_kafka_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char err[256];

    if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) ==
        RD_KAFKA_CONF_OK)
        return 0;
    return ss_diag("-X: %s", err);
}

int
ss_kafka_props(rd_kafka_conf_t *conf, char *const *props, size_t n)
{
    int logs = 0;

    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(props[i], '=');
        char name[256];

        if (eq == NULL || eq == props[i] ||
            (size_t)(eq - props[i]) >= sizeof(name))
            return ss_diag("-X: '%s' is not name=value", props[i]);
        memcpy(name, props[i], (size_t)(eq - props[i]));
        name[eq - props[i]] = '\0';
        if (strcmp(name, "debug") == 0 || strcmp(name, "log_level") == 0)
            logs = 1;
        if (ss_kafka_set(conf, name, eq + 1) < 0)
            return SS_REPORTED;
    }
    return logs ? 0 : ss_kafka_set(conf, "log_level", "0");
}

int
ss_kafka_check(char *const *props, size_t n)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = ss_kafka_props(conf, props, n);

    rd_kafka_conf_destroy(conf);
    return rc;
}

const char *
ss_kafka_prop(char *const *props, size_t n, const char *name)
{
    size_t len = strlen(name);
    const char *v = NULL;

    for (size_t i = 0; i < n; i++)
        if (strncmp(props[i], name, len) == 0 && props[i][len] == '=')
            v = props[i] + len + 1;
    return v;
}
