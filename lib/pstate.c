/* pstate.c - keyed state per Kafka partition: the folder, lock and
 * position file of one partition's state (pstate.h has the protocol).
 *
 * The position file is small text, replaced whole and durably
 * (ss_io_write_atomic: the file and its folder fsync()ed) each time it
 * changes: once a batch per held partition, and when a partition is taken
 * and given up. That is what a position costs; the checkpoint beside it
 * is the engine's own (lib/ckpt).
 *
 * The lock file holds the holder's process id, written once the lock is
 * taken, so that a member that waited in vain can say whom it waited for.
 */
#include "pstate.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "ckpt.h"
#include "diag.h"
#include "io.h"

#define NO_LINE      INT64_MIN
#define POS_MAX      128 /* "closed" and two lines of two int64s fit */
#define LOCK_POLL_MS 20

/* Kafka's topic names: [a-zA-Z0-9._-], never "." or "..". A name from a
 * frame is input: one that could leave DIR is refused. */
static int
topic_ok(const char *topic, size_t n)
{
    if (n == 0 || (n == 1 && topic[0] == '.') ||
        (n == 2 && topic[0] == '.' && topic[1] == '.'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = topic[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int
ss_pstate_dir(char *out, size_t size, const char *dir, const char *topic,
              size_t topic_len, int32_t p)
{
    int len;

    if (!topic_ok(topic, topic_len) || p < 0)
        return -EINVAL;
    len =
        snprintf(out, size, "%s/%.*s-%" PRId32, dir, (int)topic_len, topic, p);
    return len < 0 || (size_t)len >= size ? -ENAMETOOLONG : 0;
}

uint32_t
ss_pstate_partition_of(const char *k, size_t klen, uint32_t partitions)
{
    return (uint32_t)(crc32_z(0, (const Bytef *)k, klen) % partitions);
}

/* Whether b holds an identity: SS_PSTATE_ID_LEN hex digits, a newline. */
static int
id_ok(const struct ss_buf *b)
{
    if (b->len != SS_PSTATE_ID_LEN + 1 || b->data[SS_PSTATE_ID_LEN] != '\n')
        return 0;
    for (size_t i = 0; i < SS_PSTATE_ID_LEN; i++)
        if (strchr("0123456789abcdef", b->data[i]) == NULL ||
            b->data[i] == '\0')
            return 0;
    return 1;
}

/* Make DIR/id, unless another user made it first: written whole to a
 * file of our own, then linked to its name, which fails when it exists. */
static int
make_id(const char *dir)
{
    unsigned char r[SS_PSTATE_ID_LEN / 2];
    char text[SS_PSTATE_ID_LEN + 2], tmp[32];
    int rc, fd;

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return -errno;
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(text + 2 * i, 3, "%02x", r[i]);
    text[SS_PSTATE_ID_LEN] = '\n';
    snprintf(tmp, sizeof(tmp), "id.%ld", (long)getpid());
    if ((rc = ss_io_write_atomic(dir, tmp, text, SS_PSTATE_ID_LEN + 1)) < 0)
        return rc;
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -errno;
    rc = linkat(fd, tmp, fd, "id", 0) < 0 && errno != EEXIST ? -errno : 0;
    unlinkat(fd, tmp, 0);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

int
ss_pstate_folder_id(const char *dir, char *out)
{
    char path[PATH_MAX];
    struct ss_buf b = {0};
    int rc;

    if (ss_io_path(path, sizeof(path), dir, "id") < 0)
        return ss_diag("partition state '%s': name too long", dir);
    if ((rc = ss_io_slurp(path, &b)) == -ENOENT &&
        ((rc = ss_io_mkdirs(dir)) < 0 || (rc = make_id(dir)) < 0 ||
         (rc = ss_io_slurp(path, &b)) < 0))
        rc = ss_diag_err(rc, "partition state '%s'", path);
    else if (rc < 0)
        rc = ss_diag_err(rc, "partition state '%s'", path);
    else if (!id_ok(&b))
        rc = ss_diag("partition state '%s': not a folder's id (%d hex "
                     "digits and a newline)",
                     path, SS_PSTATE_ID_LEN);
    if (rc >= 0) {
        memcpy(out, b.data, SS_PSTATE_ID_LEN);
        out[SS_PSTATE_ID_LEN] = '\0';
        rc = 0;
    }
    ss_buf_release(&b);
    return rc;
}

/* A decimal int64 at *p, up to 'end' char; *p moves past it. */
static int
number(const char **p, char end, int64_t *v)
{
    char *e;
    long long x;

    errno = 0;
    if (**p != '-' && (**p < '0' || **p > '9'))
        return -1;
    x = strtoll(*p, &e, 10);
    if (errno != 0 || *e != end)
        return -1;
    *v = x;
    *p = e + 1;
    return 0;
}

/* Parse a position file: "open" or "closed", then up to two lines
 * "TIME NEXT", times rising, offsets not negative. 0, or -1 malformed. */
static int
parse(const char *text, size_t n, int *closed, int64_t t[2], int64_t nx[2])
{
    const char *p = text, *end = text + n;
    size_t lines = 0;

    t[0] = t[1] = nx[0] = nx[1] = NO_LINE;
    if (memchr(text, '\0', n) != NULL || n == 0 || text[n - 1] != '\n')
        return -1;
    if (n >= 5 && memcmp(p, "open\n", 5) == 0)
        *closed = 0, p += 5;
    else if (n >= 7 && memcmp(p, "closed\n", 7) == 0)
        *closed = 1, p += 7;
    else
        return -1;
    for (; p < end; lines++) {
        int64_t a, b;

        if (lines == 2 || number(&p, ' ', &a) < 0 || number(&p, '\n', &b) < 0 ||
            b < 0 || (lines == 1 && a <= t[1]))
            return -1;
        t[0] = t[1], nx[0] = nx[1];
        t[1] = a, nx[1] = b;
    }
    return 0;
}

/* Read the position file in folder 'pdir': 1 and its parts, 0 when there
 * is none, SS_REPORTED after saying why it cannot be read. */
static int
load(const char *pdir, int *closed, int64_t t[2], int64_t nx[2])
{
    char path[PATH_MAX];
    struct ss_buf b = {0};
    int rc;

    if (ss_io_path(path, sizeof(path), pdir, "position") < 0)
        return ss_diag("partition state '%s': name too long", pdir);
    if ((rc = ss_io_slurp(path, &b)) == -ENOENT || rc == -ENOTDIR) {
        ss_buf_release(&b);
        return 0;
    }
    if (rc < 0)
        rc = ss_diag_err(rc, "partition state '%s'", path);
    else if (b.len > POS_MAX || parse(b.data, b.len, closed, t, nx) < 0)
        rc = ss_diag("partition state '%s': not a position file (open or "
                     "closed, then lines of TIME NEXT)",
                     path);
    else
        rc = 1;
    ss_buf_release(&b);
    return rc;
}

static int
folder(char *out, size_t size, const char *dir, const char *topic,
       size_t topic_len, int32_t p)
{
    int rc = ss_pstate_dir(out, size, dir, topic, topic_len, p);

    if (rc == -EINVAL)
        return ss_diag("'%.*s' is not a Kafka topic name", (int)topic_len,
                       topic);
    if (rc < 0)
        return ss_diag("partition state under '%s': name too long", dir);
    return 0;
}

int
ss_pstate_read(const char *dir, const char *topic, int32_t p,
               struct ss_pstate_pos *pos)
{
    char pdir[PATH_MAX];
    int64_t t[2], nx[2];
    int closed = 0, rc;

    *pos = (struct ss_pstate_pos){0, 0, 0, SS_PSTATE_NONE};
    if ((rc = folder(pdir, sizeof(pdir), dir, topic, strlen(topic), p)) < 0 ||
        (rc = load(pdir, &closed, t, nx)) <= 0)
        return rc;
    pos->known = 1;
    pos->closed = closed;
    if (t[1] != NO_LINE) {
        pos->time = t[1];
        pos->next = nx[1];
    }
    return 0;
}

/* The loader of a read-only look at a checkpoint: only its time counts. */
static int
ld_put(void *ctx, const char *k, size_t kl, const char *v, size_t vl)
{
    (void)ctx, (void)k, (void)kl, (void)v, (void)vl;
    return 0;
}

static int
ld_del(void *ctx, const char *k, size_t kl)
{
    (void)ctx, (void)k, (void)kl;
    return 0;
}

static int
ld_blob(void *ctx, int64_t time, const char *p, size_t n)
{
    (void)ctx, (void)time, (void)p, (void)n;
    return 0;
}

/* The batch time checkpoint 'pdir' holds: 1 and *time, 0 when it holds
 * none, or SS_REPORTED. */
static int
ckpt_time(const char *pdir, int64_t *time)
{
    struct ss_ckpt_loader ld = {NULL, ld_put, ld_del, ld_blob};
    struct ss_ckpt c;
    int rc = ss_ckpt_open(&c, pdir, NULL, 0, &ld, 1);

    *time = c.time;
    ss_ckpt_close(&c);
    if (SS_UNREPORTED(rc))
        rc = ss_diag_err(rc, "partition state '%s'", pdir);
    return rc;
}

/* The line of the batch checkpoint 'pdir' holds, of lines t, nx: 1 and
 * *time, *next; 0 when it holds none; SS_REPORTED. */
static int
line_of_ckpt(const char *pdir, const int64_t t[2], const int64_t nx[2],
             int64_t *time, int64_t *next)
{
    int rc;

    if ((rc = ckpt_time(pdir, time)) <= 0)
        return rc;
    for (int i = 1; i >= 0; i--)
        if (t[i] == *time) {
            *next = nx[i];
            return 1;
        }
    return ss_diag("partition state '%s': its checkpoint holds batch "
                   "%" PRId64 ", but its position file has no line of that "
                   "time (restore the folder whole, or move it away to "
                   "start the partition's state empty)",
                   pdir, *time);
}

int
ss_pstate_recover(const char *dir, const char *topic, int32_t p, int64_t *next)
{
    char pdir[PATH_MAX];
    int64_t t[2], nx[2], time;
    int closed, rc;

    if ((rc = folder(pdir, sizeof(pdir), dir, topic, strlen(topic), p)) < 0 ||
        (rc = load(pdir, &closed, t, nx)) <= 0)
        return rc; /* no position: the partition was never held */
    return line_of_ckpt(pdir, t, nx, &time, next);
}

/* ---- the holder ---- */

/* Write the position file: "open" or "closed", then the lines. */
static int
put(struct ss_pstate *ps, int closed)
{
    char text[POS_MAX];
    int len = snprintf(text, sizeof(text), "%s\n", closed ? "closed" : "open");
    int rc;

    for (int i = 0; i < 2; i++)
        if (ps->t[i] != NO_LINE)
            len += snprintf(text + len, sizeof(text) - (size_t)len,
                            "%" PRId64 " %" PRId64 "\n", ps->t[i], ps->n[i]);
    if ((rc = ss_io_write_atomic(ps->dir, "position", text, (size_t)len)) < 0)
        return ss_diag_err(rc, "partition state '%s/position'", ps->dir);
    return 0;
}

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take the lock of ps->dir, waiting up to wait_ms: 0 or SS_REPORTED. */
static int
lock(struct ss_pstate *ps, int64_t wait_ms)
{
    char path[PATH_MAX], who[32];
    int64_t until = now_ms() + wait_ms;
    struct timespec nap = {0, LOCK_POLL_MS * 1000000L};
    ssize_t n;
    int len;

    if (ss_io_path(path, sizeof(path), ps->dir, "lock") < 0)
        return ss_diag("partition state '%s': name too long", ps->dir);
    if ((ps->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
        return ss_diag_err(-errno, "partition state '%s'", path);
    while (flock(ps->lockfd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK && errno != EINTR)
            return ss_diag_err(-errno, "partition state '%s'", path);
        if (now_ms() >= until) {
            n = pread(ps->lockfd, who, sizeof(who) - 1, 0);
            who[n > 0 ? n : 0] = '\0';
            who[strcspn(who, "\n")] = '\0';
            return ss_diag("partition state '%s' is held by process %s, "
                           "still after %" PRId64 " ms (another member "
                           "keeps the partition: stop it, or wait until it "
                           "gives the partition up)",
                           ps->dir, *who ? who : "(unknown)", wait_ms);
        }
        nanosleep(&nap, NULL);
    }
    len = snprintf(who, sizeof(who), "%ld\n", (long)getpid());
    if (ftruncate(ps->lockfd, 0) < 0 ||
        pwrite(ps->lockfd, who, (size_t)len, 0) != len)
        return ss_diag_err(-errno, "partition state '%s'", path);
    return 0;
}

int
ss_pstate_hold(struct ss_pstate *ps, const char *dir, const char *topic,
               size_t topic_len, int32_t p, int64_t wait_ms)
{
    int rc;

    ps->lockfd = -1;
    ps->closed = 0;
    ps->t[0] = ps->t[1] = ps->n[0] = ps->n[1] = NO_LINE;
    if ((rc = folder(ps->dir, sizeof(ps->dir), dir, topic, topic_len, p)) < 0)
        return rc;
    if ((rc = ss_io_mkdirs(ps->dir)) < 0)
        return ss_diag_err(rc, "partition state '%s'", ps->dir);
    if ((rc = lock(ps, wait_ms)) < 0 ||
        (rc = load(ps->dir, &ps->closed, ps->t, ps->n)) < 0 ||
        (rc = put(ps, 0)) < 0) {
        ss_pstate_release(ps, 0);
        return rc;
    }
    return 0;
}

int
ss_pstate_expect(const struct ss_pstate *ps, int64_t *time, int64_t *next)
{
    if (ps->t[1] == NO_LINE)
        return 0;
    if (ps->closed) {
        *time = ps->t[1];
        *next = ps->n[1];
        return 1;
    }
    return line_of_ckpt(ps->dir, ps->t, ps->n, time, next);
}

int
ss_pstate_line(struct ss_pstate *ps, int64_t time, int64_t next)
{
    if (ps->t[1] != time) { /* the same batch again replaces its line */
        ps->t[0] = ps->t[1];
        ps->n[0] = ps->n[1];
    }
    ps->t[1] = time;
    ps->n[1] = next;
    return put(ps, 0);
}

int
ss_pstate_release(struct ss_pstate *ps, int clean)
{
    int rc = 0;

    if (ps->lockfd < 0)
        return 0;
    if (clean)
        rc = put(ps, 1);
    close(ps->lockfd); /* the lock goes with the descriptor */
    ps->lockfd = -1;
    return rc;
}
