/* opt.h - the options the five binaries share, and option values checked
 * once, with the message every binary gives:
 * "sstream-source: --batch: '1x' is not a duration (try 500ms or 2s)".
 * The value checks return 0, or SS_REPORTED after the message (the caller
 * exits 2, with no usage lines: the message says what was wrong).
 * Owns nothing: struct ss_opt_common points into the caller's config.
 */
#ifndef SS_OPT_H
#define SS_OPT_H

#include <stddef.h>
#include <stdint.h>

#include "op.h"
#include "stats.h"

/* getopt_long() answers for the options every stage reads the same way.
 * Each binary lists those it takes in its longopts[], in its one sorted
 * order, with these values (and 'h', 'V'), and passes what its switch
 * does not take to ss_opt_common(). */
enum {
    SS_OPT_REJECTS = 0x1000, /* --rejects FILE */
    SS_OPT_SEPARATOR,        /* --separator C */
    SS_OPT_STATS,            /* --stats */
    SS_OPT_STATS_FILE,       /* --stats-file FILE */
};

struct ss_opt_common {
    const char *usage;    /* usage lines: -h, and after a usage error */
    const char *help;     /* what -h prints after them; NULL: the binary
                           * answers -h itself */
    const char **rejects; /* --rejects FILE goes here */
    char *sep;            /* --separator C goes here */
    struct ss_stats_config *stats;
};

/* ss_opt_common() and ss_opt_operands(): the run goes on. */
#define SS_OPT_GO_ON (-1)

/* Take getopt_long()'s answer 'ch' (with 'arg') for one of the shared
 * options: SS_OPT_GO_ON, or the exit status to return now: 0 after -h or
 * -V, 2 after a bad value or an option getopt_long() refused (it has said
 * which; the usage lines follow). */
int ss_opt_common(const struct ss_opt_common *c, int ch, const char *arg);
/* After the options: SS_OPT_GO_ON, or 2 after "unexpected argument 'x'"
 * and the usage lines (stages take no operands). */
int ss_opt_operands(const struct ss_opt_common *c, int argc, char **argv);
/* "prog: <msg>" then the usage lines on stderr; returns 2. */
int ss_opt_usage(const struct ss_opt_common *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* An operator name (sum, count, ...) for option 'opt': 0, or SS_REPORTED
 * after the one message "--reduce: unknown operator 'x' (try ...)". */
int ss_opt_operator(const char *opt, const char *arg, enum ss_op *op);

/* Split "HOST:PORT" into host and port: HOST a name, an IPv4 address or
 * an IPv6 one in brackets ([::1]:9), PORT from 1 to 65535. Without
 * 'need_host', "PORT" alone is one too (host ""). 'host' gets HOST without
 * its brackets. 0, or -EINVAL. The one reading of an address: the
 * options, the receivers and the TCP output all use it. */
int ss_opt_hostport_split(const char *arg, int need_host, char *host,
                          size_t hostsz, unsigned *port);
/* The same as an option's value: 0, or SS_REPORTED after
 * "--connect: 'x' is not HOST:PORT" (or [HOST:]PORT). */
int ss_opt_hostport(const char *opt, const char *arg, int need_host);

int ss_opt_duration(const char *opt, const char *arg, int64_t *ms);
/* --parallel N (sort --parallel's convention): 1 to SS_STATS_WORKERS
 * threads, 0 one per online CPU (as many as --stats shows at most).
 * 0, or -1 after saying what is wrong with 'arg'. */
int ss_opt_parallel(const char *opt, const char *arg, size_t *n);
/* A whole number in [min, max]. */
int ss_opt_count(const char *opt, const char *arg, uint64_t min, uint64_t max,
                 uint64_t *out);
/* A size: a whole number with an optional k, M or G suffix (powers of
 * 1024), at least 1. */
int ss_opt_bytes(const char *opt, const char *arg, size_t *out);
/* One byte: a character, or \n \t \r \0 \\. */
int ss_opt_char(const char *opt, const char *arg, char *out);

#endif
