/* stage.c - manners shared by every binary. */
#include "stage.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "diag.h"
#include "frame.h"

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
    if (role != SS_STAGE_SOURCE && isatty(STDIN_FILENO))
        return ss_diag("stdin is a terminal, and %s reads frames: pipe "
                       "sstream-source into it (e.g. 'sstream-source < FILE "
                       "| %s')",
                       ss_diag_prog(), ss_diag_prog());
    if (role != SS_STAGE_SINK && isatty(STDOUT_FILENO))
        return ss_diag("frames are not written to a terminal; pipe into "
                       "sstream-sink (e.g. '| sstream-sink --print')");
    return 0;
}

int
ss_stage_exit(int rc)
{
    if (rc == -EPIPE) {
        signal(SIGPIPE, SIG_DFL);
        raise(SIGPIPE);
    }
    return rc == 0 ? 0 : 1;
}

void
ss_stage_print_version(FILE *out)
{
    fprintf(out, "%s %s (frame format %d)\n", ss_diag_prog(), SS_VERSION,
            SS_FRAME_VERSION);
}
