/* multi.c - frame streams merged on batch time. */
#include "multi.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "dur.h"

int
ss_multi_init(struct ss_multi *m, size_t n)
{
    memset(m, 0, sizeof(*m));
    if ((m->in = calloc(n, sizeof(*m->in))) == NULL)
        return -ENOMEM;
    m->n = n;
    m->in[0].name = "stdin";
    m->in[0].opt = "stdin";
    ss_frame_batch_init(&m->in[0].br, STDIN_FILENO, "stdin");
    return 0;
}

int
ss_multi_open(struct ss_multi *m, size_t i, const char *opt, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return ss_diag_err(-errno, "%s: cannot open '%s'", opt, path);
    m->in[i].name = path;
    m->in[i].opt = opt;
    ss_frame_batch_init(&m->in[i].br, fd, path);
    return 0;
}

/* "stdin" or "--union 'PATH'", for messages. */
static const char *
describe(const struct ss_multi_input *in, char *buf, size_t n)
{
    if (strcmp(in->opt, "stdin") == 0)
        return "stdin";
    snprintf(buf, n, "%s '%s'", in->opt, in->name);
    return buf;
}

static int
check_interval(struct ss_multi *m, size_t i)
{
    struct ss_multi_input *in = &m->in[i];
    char a[32], b[32], da[256], db[256];

    if (m->interval == 0) {
        m->interval = in->br.f.interval;
        m->first = i;
    }
    if (in->br.f.interval == m->interval)
        return 0;
    return ss_diag("%s has batch interval %s, but %s has %s: streams "
                   "combined on batch time need the same interval",
                   describe(in, da, sizeof(da)),
                   ss_dur_format(in->br.f.interval, a, 32),
                   describe(&m->in[m->first], db, sizeof(db)),
                   ss_dur_format(m->interval, b, 32));
}

/* Move input i to its next batch: 1 pending, 0 ended, SS_REPORTED. */
static int
read_ahead(struct ss_multi *m, size_t i)
{
    struct ss_multi_input *in = &m->in[i];
    int rc;

    if ((rc = ss_frame_batch_next(&in->br)) < 0)
        return SS_REPORTED;
    if (rc == 0) {
        if (m->interval == 0) /* a stream with no batch at all */
            m->interval = in->br.f.interval;
        if (in->br.f.time > m->last)
            m->last = in->br.f.time;
        return 0;
    }
    return check_interval(m, i) < 0 ? SS_REPORTED : 1;
}

int
ss_multi_next(struct ss_multi *m)
{
    int found = 0, rc;

    for (size_t i = 0; i < m->n; i++) {
        if ((rc = read_ahead(m, i)) < 0)
            return SS_REPORTED;
        if (rc == 0)
            continue;
        if (!found || m->in[i].br.f.time < m->time)
            m->time = m->in[i].br.f.time;
        found = 1;
    }
    if (found && m->time > m->last)
        m->last = m->time;
    return found;
}

int
ss_multi_has(const struct ss_multi *m, size_t i)
{
    const struct ss_frame_batch_reader *br = &m->in[i].br;

    return !br->ended && br->time == m->time;
}

int
ss_multi_part(struct ss_multi *m, size_t i, struct ss_frame *f)
{
    int rc;

    if (!ss_multi_has(m, i))
        return 0;
    if ((rc = ss_frame_batch_part(&m->in[i].br, f)) <= 0)
        return rc;
    return check_interval(m, i) < 0 ? SS_REPORTED : 1;
}

void
ss_multi_release(struct ss_multi *m)
{
    for (size_t i = 0; i < m->n; i++) {
        ss_frame_batch_release(&m->in[i].br);
        if (i > 0 && m->in[i].br.rd.fd >= 0 && m->in[i].name != NULL)
            close(m->in[i].br.rd.fd);
    }
    free(m->in);
    memset(m, 0, sizeof(*m));
}
