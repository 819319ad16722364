/* sstream-source - records from stdin or a replay folder, cut into
 * micro-batch frames on stdout. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"
#include "opt.h"
#include "source.h"
#include "stage.h"

static const char usage_line[] =
    "usage: sstream-source [-hV] [-b DUR] [--delimiter C] "
    "[--max-record-bytes N]\n"
    "                      [--record-bytes N] [--rejects FILE] "
    "[--replay DIR [--start-time MS]]\n";

static const char help_text[] =
    "Cut records from stdin (or a replay folder) into micro-batch frames.\n"
    "\n"
    "  -b, --batch DUR            batch interval (default 1s): 500ms, 2s, 1m\n"
    "      --delimiter C          record delimiter (default \\n)\n"
    "      --max-record-bytes N   longer records are rejects (default 1M)\n"
    "      --record-bytes N       fixed-size binary records of N bytes\n"
    "      --rejects FILE         append rejected records to FILE\n"
    "      --replay DIR           one batch per file of DIR, in name order\n"
    "      --start-time MS        time before the first replay batch (0)\n"
    "  -h, --help                 show this help\n"
    "  -V, --version              show the version and frame format\n"
    "\n"
    "Frames go to stdout: pipe them into another stage or sstream-sink.\n";

enum {
    OPT_DELIMITER = 256,
    OPT_MAX_RECORD,
    OPT_RECORD_BYTES,
    OPT_REJECTS,
    OPT_REPLAY,
    OPT_START_TIME,
};

static const struct option longopts[] = {
    {"batch", required_argument, NULL, 'b'},
    {"delimiter", required_argument, NULL, OPT_DELIMITER},
    {"help", no_argument, NULL, 'h'},
    {"max-record-bytes", required_argument, NULL, OPT_MAX_RECORD},
    {"record-bytes", required_argument, NULL, OPT_RECORD_BYTES},
    {"rejects", required_argument, NULL, OPT_REJECTS},
    {"replay", required_argument, NULL, OPT_REPLAY},
    {"start-time", required_argument, NULL, OPT_START_TIME},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

int
main(int argc, char **argv)
{
    struct ss_source_config cfg;
    uint64_t n;
    int ch;

    ss_diag_init(argv[0]);
    ss_source_config_init(&cfg);
    while ((ch = getopt_long(argc, argv, "b:hV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            if (ss_opt_duration("--batch", optarg, &cfg.interval) < 0)
                return 2;
            break;
        case OPT_DELIMITER:
            if (ss_opt_char("--delimiter", optarg, &cfg.delim) < 0)
                return 2;
            break;
        case 'h':
            fputs(usage_line, stdout);
            fputs(help_text, stdout);
            return 0;
        case OPT_MAX_RECORD:
            if (ss_opt_bytes("--max-record-bytes", optarg, &cfg.max_record) < 0)
                return 2;
            break;
        case OPT_RECORD_BYTES:
            if (ss_opt_bytes("--record-bytes", optarg, &cfg.record_bytes) < 0)
                return 2;
            break;
        case OPT_REJECTS:
            cfg.rejects = optarg;
            break;
        case OPT_REPLAY:
            cfg.replay = optarg;
            break;
        case OPT_START_TIME:
            if (ss_opt_count("--start-time", optarg, 0, INT64_MAX / 2, &n) < 0)
                return 2;
            cfg.start_time = (int64_t)n;
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
    if (ss_stage_check_frames_out() < 0)
        return 2;
    ss_stage_signals(SS_STAGE_SOURCE);
    return ss_stage_exit(ss_source_run(&cfg));
}
