/* sstream-map - Spark's stateless transformations, in command-line order,
 * on every batch of a frame stream. */
#include <assert.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "join.h"
#include "map.h"
#include "opt.h"
#include "stage.h"
#include "stats.h"

/* The options that are settings. Each operation's option comes from its
 * row in lib/map.c (ss_map_option()), and so do its --help line and its
 * letter in the usage line: the table, getopt and the help agree. */
enum {
    OPT_DESC = 256,
    OPT_JOIN_TYPE,
    OPT_PARALLEL,
    OPT_KIND, /* OPT_KIND + k: operation k without a letter */
};

static const struct option longopts[] = {
    {"desc", no_argument, NULL, OPT_DESC},
    {"field-separator", required_argument, NULL, 'F'},
    {"help", no_argument, NULL, 'h'},
    {"join-type", required_argument, NULL, OPT_JOIN_TYPE},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"rejects", required_argument, NULL, SS_OPT_REJECTS},
    {"separator", required_argument, NULL, SS_OPT_SEPARATOR},
    {"stats", no_argument, NULL, SS_OPT_STATS},
    {"stats-file", required_argument, NULL, SS_OPT_STATS_FILE},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static const char optstring[] = "F:hV";

#define NSETTINGS (sizeof(longopts) / sizeof(longopts[0]) - 1)

/* getopt's tables: the settings, then an option per operation; and the
 * usage lines, whose flags come from the same table. */
struct cli {
    struct option longopts[NSETTINGS + SS_MAP_NKINDS + 1];
    char optstring[sizeof(optstring) + 2 * SS_MAP_NKINDS];
    char usage[512];
};

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct option *)a)->name,
                  ((const struct option *)b)->name);
}

static void
cli_init(struct cli *c)
{
    size_t n = NSETTINGS, len = sizeof(optstring) - 1;

    /* Zeroed first: the optstring grows in place, and strchr() below
     * must find its end at every step, not what the stack held. */
    memset(c, 0, sizeof(*c));
    memcpy(c->longopts, longopts, sizeof(longopts));
    memcpy(c->optstring, optstring, sizeof(optstring));
    for (enum ss_map_kind k = 0; k < SS_MAP_NKINDS; k++) {
        const struct ss_map_option *o = ss_map_option(k);
        int has_arg = o->argname != NULL ? required_argument : no_argument;

        c->longopts[n++] =
            (struct option){o->name + 2, has_arg, NULL,
                            o->letter ? o->letter : OPT_KIND + (int)k};
        if (o->letter == 0)
            continue;
        assert(strchr(c->optstring, o->letter) == NULL);
        c->optstring[len++] = o->letter;
        if (has_arg)
            c->optstring[len++] = ':';
    }
    /* sorted, as getopt_long() names them when an abbreviation is
     * ambiguous */
    qsort(c->longopts, n, sizeof(c->longopts[0]), by_name);
    c->longopts[n] = (struct option){NULL, 0, NULL, 0};
    c->optstring[len] = '\0';
}

/* The operation of getopt's answer ch, or -1. */
static int
kind_of(int ch)
{
    if (ch >= OPT_KIND && ch < OPT_KIND + SS_MAP_NKINDS)
        return ch - OPT_KIND;
    for (enum ss_map_kind k = 0; k < SS_MAP_NKINDS; k++)
        if (ss_map_option(k)->letter == ch)
            return (int)k;
    return -1;
}

/* The letters of the options without an argument go in the usage line,
 * sorted as ls(1) sorts them: case-blind, the capital first. */
static void
usage_init(struct cli *c)
{
    static const char abc[] =
        "AaBbCcDdEeFfGgHhIiJjKkLlMmNnOoPpQqRrSsTtUuVvWwXxYyZz";
    char flags[sizeof(c->optstring)];
    size_t n = 0;

    for (const char *l = abc; *l != '\0'; l++) {
        const char *o = strchr(c->optstring, *l);

        if (o != NULL && o[1] != ':')
            flags[n++] = *l;
    }
    snprintf(c->usage, sizeof(c->usage),
             "usage: sstream-map [-%.*s] [-F sep] [--join-type type] "
             "[--parallel n]\n"
             "                   [--rejects file] [--separator c] [--stats]\n"
             "                   [--stats-file file] operation ...\n",
             (int)n, flags);
}

static void
help_section(const char *title, enum ss_map_section s)
{
    printf("%s\n", title);
    for (enum ss_map_kind k = 0; k < SS_MAP_NKINDS; k++) {
        const struct ss_map_option *o = ss_map_option(k);
        char left[64];

        if (o->section != s)
            continue;
        snprintf(left, sizeof(left), "%c%c%c %s%s%s", o->letter ? '-' : ' ',
                 o->letter ? o->letter : ' ', o->letter ? ',' : ' ', o->name,
                 o->argname ? " " : "", o->argname ? o->argname : "");
        printf("  %-26s %s\n", left, o->help);
    }
}

static void
help(const struct cli *c)
{
    fputs(c->usage, stdout);
    fputs("Apply transformations, in the order given, to every batch of a "
          "frame\n"
          "stream from stdin; write the result as frames to stdout.\n"
          "\n",
          stdout);
    help_section("One record at a time:", SS_MAP_PER_RECORD);
    help_section("Whole batch:", SS_MAP_PER_BATCH);
    fputs("Settings:\n"
          "      --desc                 the --sort-by before it sorts down\n"
          "  -F, --field-separator SEP  fields for field:N, --key-field, "
          "--value-field\n"
          "                             (default: runs of blanks)\n"
          "      --join-type TYPE       inner (default), left, right, full\n"
          "      --parallel N           worker threads (default 1; 0: one per "
          "CPU)\n"
          "      --rejects FILE         keep records that cannot be "
          "processed\n"
          "      --separator C          joins groups (default ,)\n"
          "      --stats                a line per batch on stderr, a summary "
          "at exit\n"
          "      --stats-file FILE      append a JSON object per batch to "
          "FILE\n"
          "  -h, --help                 show this help\n"
          "  -V, --version              show the version and frame format\n"
          "\n"
          "OP: sum, count, min, max, mean, first, last, concat.\n",
          stdout);
}

static int
parse(struct ss_map_config *cfg, int argc, char **argv)
{
    struct ss_opt_common com = {NULL, NULL, &cfg->rejects, &cfg->sep,
                                &cfg->stats};
    struct cli c;
    int ch, k, rc;

    cli_init(&c);
    usage_init(&c);
    com.usage = c.usage;
    while ((ch = getopt_long(argc, argv, c.optstring, c.longopts, NULL)) !=
           -1) {
        switch (ch) {
        case OPT_DESC:
            if (ss_map_config_desc(cfg) < 0)
                return 2;
            break;
        case 'F':
            if (ss_opt_char("--field-separator", optarg, &cfg->fs) < 0)
                return 2;
            break;
        case 'h':
            help(&c);
            return 0;
        case OPT_JOIN_TYPE:
            if (ss_join_type_lookup(optarg, &cfg->join) < 0) {
                ss_diag("--join-type: unknown join '%s' (try inner, left, "
                        "right or full)",
                        optarg);
                return 2;
            }
            break;
        case OPT_PARALLEL:
            if (ss_opt_parallel("--parallel", optarg, &cfg->parallel) < 0)
                return 2;
            break;
        default: /* an operation; -V, and the options every stage takes */
            if ((k = kind_of(ch)) < 0) {
                if ((rc = ss_opt_common(&com, ch, optarg)) != SS_OPT_GO_ON)
                    return rc;
            } else if (ss_map_config_add(cfg, (enum ss_map_kind)k, optarg) < 0)
                return 2;
            break;
        }
    }
    if ((rc = ss_opt_operands(&com, argc, argv)) != SS_OPT_GO_ON)
        return rc;
    if (cfg->nops == 0)
        return ss_opt_usage(&com, "no operation given (try --flat-map words "
                                  "--count-by-value)");
    return SS_OPT_GO_ON;
}

int
main(int argc, char **argv)
{
    struct ss_map_config cfg;
    struct ss_stage sg = {0};
    int rc;

    ss_diag_init(argv[0]);
    ss_map_config_init(&cfg);
    if ((rc = parse(&cfg, argc, argv)) != SS_OPT_GO_ON) {
        ss_map_config_release(&cfg);
        return rc;
    }
    if ((rc = ss_stage_check_pipes(SS_STAGE_MIDDLE)) == 0) {
        ss_stage_signals(SS_STAGE_MIDDLE);
        rc = ss_map_run(&cfg, &sg);
    }
    ss_map_config_release(&cfg);
    return ss_stage_end(&sg, rc);
}
