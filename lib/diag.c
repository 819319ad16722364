/* diag.c - one-line messages on stderr, after git's usage.c. */
#include "diag.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char prog[64] = "sstream";

void
ss_diag_init(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');

    snprintf(prog, sizeof(prog), "%s", slash ? slash + 1 : argv0);
}

const char *
ss_diag_prog(void)
{
    return prog;
}

static size_t
stored(int n, size_t room)
{
    if (n < 0)
        return 0;
    return (size_t)n < room ? (size_t)n : room - 1;
}

/* The line is built whole and sent with one write(2): five stages share
 * one terminal, and a line written in pieces can interleave with another
 * stage's. Control bytes from user data become '?' so that a bad record
 * cannot garble the terminal. Over-long lines are cut, never split. */
static _Thread_local const atomic_int *mute;

void
ss_diag_mute_on(const atomic_int *flag)
{
    mute = flag;
}

static void
emit(const char *where, const char *fmt, va_list ap)
{
    char line[1024];
    size_t len, max = sizeof(line) - 1; /* keep room for '\n' */

    if (mute != NULL && atomic_load(mute))
        return;
    len = stored(snprintf(line, max, "%s: %s", prog, where), max);
    len += stored(vsnprintf(line + len, max - len, fmt, ap), max - len);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
            line[i] = '?';
    line[len++] = '\n';
    if (write(STDERR_FILENO, line, len) < 0)
        return; /* stderr is gone; there is no one left to tell */
}

int
ss_diag(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit("", fmt, ap);
    va_end(ap);
    return SS_REPORTED;
}

int
ss_diag_line(unsigned long line, const char *fmt, ...)
{
    char where[48];
    va_list ap;

    snprintf(where, sizeof(where), "line %lu: ", line);
    va_start(ap, fmt);
    emit(where, fmt, ap);
    va_end(ap);
    return SS_REPORTED;
}

int
ss_diag_rec(int64_t batch, uint64_t rec, const char *fmt, ...)
{
    char where[80];
    va_list ap;

    snprintf(where, sizeof(where), "batch %" PRId64 ", record %" PRIu64 ": ",
             batch, rec);
    va_start(ap, fmt);
    emit(where, fmt, ap);
    va_end(ap);
    return SS_REPORTED;
}

int
ss_diag_err(int err, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    if (err <= SS_REPORTED)
        return err; /* said already, by the layer that knew more */
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ss_diag("%s: %s", msg, strerror(err < 0 ? -err : err));
}
