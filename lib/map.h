/* map.h - sstream-map: Spark's stateless transformations, applied in
 * command-line order to every batch, fused in one process.
 *
 * Operations that look at one record at a time (flat-map, map, filter,
 * key making) pass each record straight on; operations that need the
 * whole batch (aggregations, --exec, joins, --glom) collect it and pass
 * their results on when the batch's last frame has arrived. Records never
 * cross batches. Output order is deterministic: records keep arrival
 * order; keyed aggregations give keys in order of first appearance in the
 * batch; a --union stream's records follow the records before it.
 * --parallel N keeps that order (lib/map_parallel.c).
 *
 * Owns: the config owns its operation list and compiled patterns until
 * ss_map_config_release(); paths and strings in it are borrowed from
 * argv.
 */
#ifndef SS_MAP_H
#define SS_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "fields.h"
#include "join.h"
#include "num.h"
#include "op.h"
#include "stage.h"
#include "stats.h"

/* The operations, in the order --help lists them. Each has one row in
 * lib/map.c's table (its option, flags and functions); a kind without a
 * row fails a static assertion there when it is the last, and an
 * assertion at every start otherwise. */
enum ss_map_kind {
    /* one record at a time */
    SS_MAP_FLAT_MAP,
    SS_MAP_FLAT_MAP_VALUES,
    SS_MAP_MAP,
    SS_MAP_MAP_VALUES,
    SS_MAP_KEY_FIELD,
    SS_MAP_VALUE_FIELD,
    SS_MAP_KEY,
    SS_MAP_VALUE,
    SS_MAP_PAIR,
    SS_MAP_FILTER,
    SS_MAP_FILTER_OUT,
    SS_MAP_WHERE,
    SS_MAP_DISTINCT,
    SS_MAP_TAKE,
    SS_MAP_UNION, /* passes records on, then the other stream's */
    /* the whole batch */
    SS_MAP_COUNT,
    SS_MAP_COUNT_BY_VALUE,
    SS_MAP_REDUCE,
    SS_MAP_REDUCE_BY_KEY,
    SS_MAP_GROUP_BY_KEY,
    SS_MAP_GLOM,
    SS_MAP_SORT_BY,
    SS_MAP_JOIN,
    SS_MAP_JOIN_STREAM,
    SS_MAP_COGROUP,
    SS_MAP_EXEC,
    SS_MAP_EXEC_COPROCESS,
    SS_MAP_NKINDS /* not an operation: how many there are */
};

/* Where --help lists an operation. */
enum ss_map_section {
    SS_MAP_PER_RECORD, /* "One record at a time" */
    SS_MAP_PER_BATCH   /* "Whole batch" */
};

/* An operation as the command line knows it: its option, for getopt and
 * --help. Static; never freed. */
struct ss_map_option {
    const char *name;    /* "--flat-map" */
    char letter;         /* its short form ('f'), or 0 */
    const char *argname; /* "FUNC" in --help; NULL: takes no argument */
    const char *help;    /* what it does, one line of --help */
    enum ss_map_section section;
};

/* Functions of --flat-map, --map and their -values forms. */
enum ss_map_fn {
    SS_MAP_FN_WORDS, /* flat: split on runs of blanks */
    SS_MAP_FN_SPLIT, /* flat: split on a delimiter string */
    SS_MAP_FN_LOWER,
    SS_MAP_FN_UPPER,
    SS_MAP_FN_TRIM,
    SS_MAP_FN_FIELD, /* field N, as -F says */
};

enum ss_map_cmp {
    SS_CMP_LT,
    SS_CMP_LE,
    SS_CMP_GT,
    SS_CMP_GE,
    SS_CMP_EQ,
    SS_CMP_NE
};

struct ss_map_op {
    enum ss_map_kind kind;
    const char *opt; /* "--flat-map", for messages */
    const char *arg; /* the option's argument as given, or NULL */
    enum ss_map_fn fn;
    size_t n;        /* field number (from 1); --take N */
    const char *str; /* split delimiter, --pair value */
    size_t slen;
    struct ss_regex *re;
    enum ss_map_cmp cmp; /* --where */
    struct ss_num num;
    enum ss_op op;  /* --reduce, --reduce-by-key */
    size_t input;   /* --union, --join-stream, --cogroup: stream number */
    int by_key;     /* --sort-by key (else value) */
    int desc;       /* --desc after --sort-by */
    int needs_keys; /* this step needs key/value records (--sort-by key) */
    struct ss_fields_sel sel; /* --key, --value: a JSON object's field */
};

struct ss_map_config {
    struct ss_map_op *ops;
    size_t nops, cap;
    size_t nstreams;        /* frame streams besides stdin */
    char fs;                /* -F; 0: runs of blanks */
    char sep;               /* --separator of groups */
    enum ss_join_type join; /* --join-type */
    const char *rejects;    /* --rejects FILE */
    size_t parallel;        /* --parallel N: worker threads (1: none) */

    /* --stats, --stats-file */
    struct ss_stats_config stats;
};

void ss_map_config_init(struct ss_map_config *cfg);
/* The option of operation k (k < SS_MAP_NKINDS). */
const struct ss_map_option *ss_map_option(enum ss_map_kind k);
/* Append operation k (with its option's argument 'arg', or NULL) as the
 * next step. 0, or SS_REPORTED after saying what is wrong with the argument
 * (the caller exits 2). */
int ss_map_config_add(struct ss_map_config *cfg, enum ss_map_kind k,
                      const char *arg);
/* --desc: the --sort-by just given sorts in descending order. 0, or
 * SS_REPORTED when the last operation given is not a --sort-by. */
int ss_map_config_desc(struct ss_map_config *cfg);
void ss_map_config_release(struct ss_map_config *cfg);

/* Read frames from stdin (and the other streams) to end-of-stream and
 * write the transformed frames to stdout, opening 'sg' (its rejects and
 * stats) first; the caller ends it with ss_stage_end(). 0; SS_REPORTED;
 * -EPIPE when the reader went away. */
int ss_map_run(const struct ss_map_config *cfg, struct ss_stage *sg);

#endif
