/* diag.c - one-line messages on stderr, after git's usage.c. */
#include "diag.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
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

/* The shards of lib/shard run the same engine on one stream, so a cause
 * they all meet (an option that does not fit, a checkpoint made with
 * others) would be said by each: a shard's line that another shard said
 * last is said once. A checkpoint part's folder ("/part-0-of-2") does
 * not count; records' lines ("batch T, record N: ...") always go out. */
static pthread_mutex_t said_lock = PTHREAD_MUTEX_INITIALIZER;
static char said[1024];
static size_t said_len;

/* 'line' without its "/part-I-of-N" folders, into out[0..1024). */
static size_t
unparted(const char *line, size_t len, char *out)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (i + 6 <= len && memcmp(line + i, "/part-", 6) == 0) {
            size_t j = i + 6;

            while (j < len && isdigit((unsigned char)line[j]))
                j++;
            if (j + 4 <= len && memcmp(line + j, "-of-", 4) == 0) {
                for (j += 4; j < len && isdigit((unsigned char)line[j]);)
                    j++;
                i = j - 1;
                continue;
            }
        }
        out[n++] = line[i];
    }
    return n;
}

static int
said_before(const char *line, size_t len)
{
    char norm[1024];
    size_t n = unparted(line, len, norm);
    int dup;

    pthread_mutex_lock(&said_lock);
    dup = n == said_len && memcmp(norm, said, n) == 0;
    memcpy(said, norm, n);
    said_len = n;
    pthread_mutex_unlock(&said_lock);
    return dup;
}

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
    if (mute != NULL && *where == '\0' && said_before(line, len))
        return;
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
