/* stage.c - manners shared by every binary. */
#include "stage.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "diag.h"
#include "frame.h"

_Static_assert(SS_REPORTED < UV_ERRNO_MAX && SS_USAGE < UV_ERRNO_MAX,
               "SS_REPORTED and SS_USAGE must not be libuv or errno codes");

void
ss_stage_signals(enum ss_stage_role role)
{
    signal(SIGPIPE, SIG_IGN);
    if (role != SS_STAGE_SOURCE && !isatty(STDIN_FILENO))
        signal(SIGINT, SIG_IGN);
}

int
ss_stage_check_pipes(enum ss_stage_role role)
{
    if (role != SS_STAGE_SOURCE && isatty(STDIN_FILENO)) {
        ss_diag("stdin is a terminal, and %s reads frames: pipe "
                "sstream-source into it (e.g. 'sstream-source < FILE | %s')",
                ss_diag_prog(), ss_diag_prog());
        return SS_USAGE;
    }
    if (role != SS_STAGE_SINK && isatty(STDOUT_FILENO)) {
        ss_diag("frames are not written to a terminal; pipe into "
                "sstream-sink (e.g. '| sstream-sink --print')");
        return SS_USAGE;
    }
    return 0;
}

int
ss_stage_open(struct ss_stage *sg, const char *name, const char *rejects,
              const struct ss_stats_config *stats)
{
    if (sg->opened) /* a shard's, opened by lib/shard for its engine */
        return 0;
    memset(sg, 0, sizeof(*sg));
    if (ss_rejects_open(&sg->rej, rejects) < 0)
        return SS_REPORTED;
    if (ss_stats_open(&sg->stats, name, stats) < 0) {
        ss_rejects_close(&sg->rej);
        return SS_REPORTED;
    }
    sg->stats.rej = &sg->rej;
    sg->opened = 1;
    return 0;
}

/* The status for a code once everything is said. */
static int
status(int rc)
{
    if (rc == -EPIPE) {
        signal(SIGPIPE, SIG_DFL);
        raise(SIGPIPE);
    }
    if (rc == SS_USAGE)
        return 2;
    return rc == 0 ? 0 : 1;
}

int
ss_stage_end(struct ss_stage *sg, int rc)
{
    if (SS_UNREPORTED(rc) && rc != -EPIPE)
        rc = ss_diag("%s", strerror(-rc));
    if (!sg->opened)
        return status(rc);
    sg->opened = 0;
    if (ss_rejects_close(&sg->rej) < 0 && rc == 0)
        rc = SS_REPORTED;
    if (rc != -EPIPE)
        ss_rejects_report(&sg->rej);
    if (ss_stats_close(&sg->stats) < 0 && rc == 0)
        rc = SS_REPORTED;
    if (rc == 0 && ss_rejects_lost(&sg->rej))
        rc = SS_REPORTED;
    return status(rc);
}

void
ss_stage_print_version(FILE *out)
{
    fprintf(out, "%s %s (frame format %d)\n", ss_diag_prog(), SS_VERSION,
            SS_FRAME_VERSION);
}
