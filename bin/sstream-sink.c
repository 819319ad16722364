/* sstream-sink - output operations: frames on stdin become text. */
#include <getopt.h>
#include <stdio.h>

#include "diag.h"
#include "opt.h"
#include "sink.h"
#include "stage.h"

static const char usage_line[] =
    "usage: sstream-sink [-hV] [--dump | --lines | --print[=N] | --tsv]\n";

static const char help_text[] =
    "Write a frame stream from stdin as text.\n"
    "\n"
    "      --dump         every frame, headers included (for debugging)\n"
    "      --lines        the value, or key<TAB>value, per record\n"
    "      --print[=N]    Spark's print(): the first N (10) records of each "
    "batch\n"
    "      --tsv          time<TAB>value, or time<TAB>key<TAB>value\n"
    "  -h, --help         show this help\n"
    "  -V, --version      show the version and frame format\n"
    "\n"
    "Without an output option, --print.\n";

enum {
    OPT_DUMP = 256,
    OPT_LINES,
    OPT_PRINT,
    OPT_TSV,
};

static const struct option longopts[] = {
    {"dump", no_argument, NULL, OPT_DUMP},
    {"help", no_argument, NULL, 'h'},
    {"lines", no_argument, NULL, OPT_LINES},
    {"print", optional_argument, NULL, OPT_PRINT},
    {"tsv", no_argument, NULL, OPT_TSV},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

int
main(int argc, char **argv)
{
    struct ss_sink_config cfg;
    int ch, modes = 0;
    uint64_t n;

    ss_diag_init(argv[0]);
    ss_sink_config_init(&cfg);
    while ((ch = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_DUMP:
            cfg.mode = SS_SINK_DUMP;
            modes++;
            break;
        case 'h':
            fputs(usage_line, stdout);
            fputs(help_text, stdout);
            return 0;
        case OPT_LINES:
            cfg.mode = SS_SINK_LINES;
            modes++;
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
        case OPT_TSV:
            cfg.mode = SS_SINK_TSV;
            modes++;
            break;
        case 'V':
            ss_stage_print_version(stdout);
            return 0;
        default: /* getopt_long() has already said what was wrong */
            fputs(usage_line, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        ss_diag("unexpected argument '%s'", argv[optind]);
        fputs(usage_line, stderr);
        return 2;
    }
    if (modes > 1) {
        ss_diag("--dump, --lines, --print and --tsv exclude each other");
        fputs(usage_line, stderr);
        return 2;
    }
    ss_stage_signals(SS_STAGE_SINK);
    return ss_stage_exit(ss_sink_run(&cfg));
}
