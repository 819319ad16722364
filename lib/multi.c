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
    ss_frame_reader_init(&m->in[0].rd, STDIN_FILENO, "stdin");
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
    ss_frame_reader_init(&m->in[i].rd, fd, path);
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
        m->interval = in->f.interval;
        m->first = i;
    }
    if (in->f.interval == m->interval)
        return 0;
    return ss_diag("%s has batch interval %s, but %s has %s: streams "
                   "combined on batch time need the same interval",
                   describe(in, da, sizeof(da)),
                   ss_dur_format(in->f.interval, a, 32),
                   describe(&m->in[m->first], db, sizeof(db)),
                   ss_dur_format(m->interval, b, 32));
}

/* Read input i's next frame ahead: 1 pending, 0 ended, SS_REPORTED. */
static int
read_ahead(struct ss_multi *m, size_t i)
{
    struct ss_multi_input *in = &m->in[i];
    int rc;

    if (in->ended)
        return 0;
    if (in->pending)
        return 1;
    if ((rc = ss_frame_reader_next(&in->rd, &in->f)) < 0)
        return SS_REPORTED;
    if (rc == 0) {
        in->ended = 1;
        if (m->interval == 0) /* a stream with no batch at all */
            m->interval = in->f.interval;
        if (in->f.time > m->last)
            m->last = in->f.time;
        return 0;
    }
    in->pending = 1;
    return check_interval(m, i) < 0 ? SS_REPORTED : 1;
}

int
ss_multi_next(struct ss_multi *m)
{
    int found = 0, rc;

    for (size_t i = 0; i < m->n; i++) {
        /* A caller that left a batch unread gets its rest skipped. */
        while (m->in[i].in_batch) {
            struct ss_frame f;

            if (ss_multi_part(m, i, &f) < 0)
                return SS_REPORTED;
        }
        if ((rc = read_ahead(m, i)) < 0)
            return SS_REPORTED;
        if (rc == 0)
            continue;
        if (!found || m->in[i].f.time < m->time)
            m->time = m->in[i].f.time;
        found = 1;
    }
    if (found && m->time > m->last)
        m->last = m->time;
    return found;
}

int
ss_multi_has(const struct ss_multi *m, size_t i)
{
    return m->in[i].pending && m->in[i].f.time == m->time;
}

int
ss_multi_part(struct ss_multi *m, size_t i, struct ss_frame *f)
{
    struct ss_multi_input *in = &m->in[i];
    int rc;

    if (!in->in_batch) {
        if (!ss_multi_has(m, i))
            return 0;
        in->pending = 0;
        in->in_batch = (in->f.flags & SS_FRAME_MORE) != 0;
        *f = in->f;
        return 1;
    }
    /* The previous part carried SS_FRAME_MORE: the batch goes on. */
    if ((rc = ss_frame_reader_next(&in->rd, &in->f)) < 0)
        return SS_REPORTED;
    if (rc == 0 || in->f.time != m->time)
        return ss_diag("%s: batch %" PRId64 " ends without its last part",
                       in->name, m->time);
    if (check_interval(m, i) < 0)
        return SS_REPORTED;
    in->in_batch = (in->f.flags & SS_FRAME_MORE) != 0;
    *f = in->f;
    return 1;
}

void
ss_multi_release(struct ss_multi *m)
{
    for (size_t i = 0; i < m->n; i++) {
        ss_frame_reader_release(&m->in[i].rd);
        if (i > 0 && m->in[i].rd.fd >= 0 && m->in[i].name != NULL)
            close(m->in[i].rd.fd);
    }
    free(m->in);
    memset(m, 0, sizeof(*m));
}
