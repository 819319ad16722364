/* opt.c - the options the binaries share, and checked option values,
 * for their getopt loops. */
#include "opt.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "dur.h"
#include "stage.h"
#include "stats.h"

int
ss_opt_duration(const char *opt, const char *arg, int64_t *ms)
{
    if (ss_dur_parse(arg, ms) < 0 || *ms > UINT32_MAX)
        return ss_diag("%s: '%s' is not a duration (try 500ms or 2s)", opt,
                       arg);
    return 0;
}

int
ss_opt_count(const char *opt, const char *arg, uint64_t min, uint64_t max,
             uint64_t *out)
{
    if (ss_dur_parse_count(arg, max, out) < 0 || *out < min)
        return ss_diag("%s: '%s' is not a whole number from %" PRIu64
                       " to %" PRIu64,
                       opt, arg, min, max);
    return 0;
}

int
ss_opt_bytes(const char *opt, const char *arg, size_t *out)
{
    static const char units[] = "kMG";
    char digits[32];
    size_t n = strspn(arg, "0123456789");
    uint64_t v, mul = 1;
    const char *u;

    if (n == 0 || n >= sizeof(digits))
        goto bad;
    memcpy(digits, arg, n);
    digits[n] = '\0';
    if (arg[n] != '\0') {
        if (arg[n + 1] != '\0' || (u = strchr(units, arg[n])) == NULL)
            goto bad;
        mul = (uint64_t)1 << (10 * (u - units + 1));
    }
    if (ss_dur_parse_count(digits, (uint64_t)1 << 40, &v) < 0 || v == 0)
        goto bad;
    *out = (size_t)(v * mul);
    return 0;
bad:
    return ss_diag("%s: '%s' is not a size (try 4096, 64k or 1M)", opt, arg);
}

int
ss_opt_char(const char *opt, const char *arg, char *out)
{
    static const char esc[] = "n\nt\tr\r0\0\\\\";

    if (arg[0] != '\0' && arg[1] == '\0') {
        *out = arg[0];
        return 0;
    }
    if (arg[0] == '\\' && arg[1] != '\0' && arg[2] == '\0') {
        for (size_t i = 0; i + 1 < sizeof(esc); i += 2) {
            if (esc[i] == arg[1]) {
                *out = esc[i + 1];
                return 0;
            }
        }
    }
    return ss_diag("%s: '%s' is not one character (or \\n \\t \\r \\0)", opt,
                   arg);
}

int
ss_opt_common(const struct ss_opt_common *c, int ch, const char *arg)
{
    switch (ch) {
    case 'h':
        if (c->help == NULL)
            break;
        fputs(c->usage, stdout);
        fputs(c->help, stdout);
        return 0;
    case SS_OPT_REJECTS:
        *c->rejects = arg;
        return SS_OPT_GO_ON;
    case SS_OPT_SEPARATOR:
        return ss_opt_char("--separator", arg, c->sep) < 0 ? 2 : SS_OPT_GO_ON;
    case SS_OPT_STATS:
        c->stats->print = 1;
        return SS_OPT_GO_ON;
    case SS_OPT_STATS_FILE:
        if (*arg == '\0') {
            ss_diag("--stats-file: empty path");
            return 2;
        }
        c->stats->file = arg;
        return SS_OPT_GO_ON;
    case 'V':
        ss_stage_print_version(stdout);
        return 0;
    }
    fputs(c->usage, stderr); /* getopt_long() has said what was wrong */
    return 2;
}

int
ss_opt_operands(const struct ss_opt_common *c, int argc, char **argv)
{
    if (optind < argc)
        return ss_opt_usage(c, "unexpected argument '%s'", argv[optind]);
    return SS_OPT_GO_ON;
}

int
ss_opt_usage(const struct ss_opt_common *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ss_diag("%s", msg);
    fputs(c->usage, stderr);
    return 2;
}

int
ss_opt_operator(const char *opt, const char *arg, enum ss_op *op)
{
    if (ss_op_lookup(arg, op) == 0)
        return 0;
    return ss_diag("%s: unknown operator '%s' (try sum, count, min, max, "
                   "mean, first, last or concat)",
                   opt, arg);
}

int
ss_opt_hostport_split(const char *arg, int need_host, char *host, size_t hostsz,
                      unsigned *port)
{
    const char *colon = strrchr(arg, ':'), *p, *h = arg;
    size_t hlen = colon ? (size_t)(colon - arg) : 0;
    uint64_t v;

    if (colon == NULL && need_host)
        return -EINVAL;
    p = colon ? colon + 1 : arg;
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen) != NULL || memchr(h, '[', hlen) != NULL)
        return -EINVAL; /* an IPv6 address without its brackets */
    if ((need_host && hlen == 0) || hlen >= hostsz ||
        ss_dur_parse_count(p, 65535, &v) < 0 || v == 0)
        return -EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (unsigned)v;
    return 0;
}

int
ss_opt_hostport(const char *opt, const char *arg, int need_host)
{
    char host[256];
    unsigned port;

    if (ss_opt_hostport_split(arg, need_host, host, sizeof(host), &port) < 0)
        return ss_diag("%s: '%s' is not %s", opt, arg,
                       need_host ? "HOST:PORT" : "[HOST:]PORT");
    return 0;
}

int
ss_opt_parallel(const char *opt, const char *arg, size_t *n)
{
    uint64_t v;
    long cpus;

    if (ss_opt_count(opt, arg, 0, SS_STATS_WORKERS, &v) < 0)
        return -1;
    if (v == 0) {
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        v = cpus < 1 ? 1 : (uint64_t)cpus;
        if (v > SS_STATS_WORKERS)
            v = SS_STATS_WORKERS;
    }
    *n = (size_t)v;
    return 0;
}
