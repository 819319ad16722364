/* wal.c - the write-ahead log and its commit record (see wal.h).
 *
 * Why frames as records: the log must give back exactly the bytes that
 * were sent, with their batch times, and be checked for damage; the frame
 * encoding already does both, so replaying a batch is copying its bytes,
 * and a log segment can be read with sstream-sink --dump < SEGMENT.
 */
#include "wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "diag.h"
#include "frame.h"
#include "io.h"

#define SEG_DIGITS 16
#define COPY_CHUNK ((size_t)256 << 10)
/* --max-uncommitted: how often the commit is read while waiting, and how
 * long no sink may hold DIR/commit.lock before the source gives up. */
#define WAIT_POLL_MS  5
#define WAIT_ORPHAN_S 3

static int
seg_path(const struct ss_wal *w, uint64_t seq, char *buf, size_t n)
{
    char name[SEG_DIGITS + 8];

    snprintf(name, sizeof(name), "%0*" PRIu64 ".wal", SEG_DIGITS, seq);
    return ss_io_path(buf, n, w->dir, name);
}

/* A segment's sequence number from its name; 0 when it is not one. */
static uint64_t
seg_seq(const char *name)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < SEG_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    return strcmp(name + SEG_DIGITS, ".wal") == 0 ? v : 0;
}

static int
segs_push(struct ss_wal *w, uint64_t seq, int64_t last)
{
    if (w->nsegs == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct ss_wal_seg *p = realloc(w->segs, cap * sizeof(*p));

        if (p == NULL)
            return -ENOMEM;
        w->segs = p;
        w->cap = cap;
    }
    w->segs[w->nsegs].seq = seq;
    w->segs[w->nsegs].last = last;
    w->nsegs++;
    return 0;
}

static int
by_seq(const void *a, const void *b)
{
    const struct ss_wal_seg *x = a, *y = b;

    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The segments in the folder, oldest first, their times not yet known. */
static int
list_segs(struct ss_wal *w)
{
    DIR *d = opendir(w->dir);
    struct dirent *e;
    uint64_t seq;
    int rc = 0;

    if (d == NULL)
        return ss_diag_err(-errno, "--wal: cannot open '%s'", w->dir);
    while (rc == 0 && (e = readdir(d)) != NULL)
        if ((seq = seg_seq(e->d_name)) != 0)
            rc = segs_push(w, seq, SS_WAL_NO_TIME);
    closedir(d);
    if (rc < 0)
        return ss_diag_err(rc, "--wal: '%s'", w->dir);
    if (w->nsegs > 1)
        qsort(w->segs, w->nsegs, sizeof(*w->segs), by_seq);
    return 0;
}

/* Walk the frames of a segment held in p[0..n): '*good' gets the length
 * of its whole batches, seg->last the time of the last one. Returns 0 when
 * every byte belongs to a whole batch, else 1 with *why and *bad saying
 * where the damage starts. */
static int
scan_seg(struct ss_wal *w, struct ss_wal_seg *seg, const char *p, size_t n,
         size_t *good, size_t *bad, const char **why)
{
    struct ss_frame f;
    size_t pos = 0, need;
    int64_t prev = SS_WAL_NO_TIME;
    int more = 0, rc;

    *good = 0;
    while (pos < n) {
        *why = NULL;
        rc = ss_frame_parse(p + pos, n - pos, &f, &need, why);
        if (rc == 0)
            *why = "record cut short";
        else if (rc > 0 && f.kind != SS_FRAME_BATCH)
            *why = "not a batch frame";
        else if (rc > 0 && (more ? f.time != prev : f.time <= prev))
            *why = "batch time out of order";
        if (*why != NULL)
            break;
        if (w->interval == 0)
            w->interval = f.interval;
        if (w->first == SS_WAL_NO_TIME)
            w->first = f.time;
        prev = f.time;
        pos += need;
        more = (f.flags & SS_FRAME_MORE) != 0;
        if (!more) {
            *good = pos;
            seg->last = f.time;
        }
    }
    if (pos == n && !more)
        return 0;
    if (pos == n)
        *why = "batch cut short";
    *bad = pos;
    return 1;
}

static int
check_seg(struct ss_wal *w, size_t i)
{
    struct ss_wal_seg *seg = &w->segs[i];
    char path[PATH_MAX];
    const char *why = NULL;
    size_t good = 0, bad = 0;
    int fd, rc;

    if ((rc = seg_path(w, seg->seq, path, sizeof(path))) < 0)
        return ss_diag_err(rc, "--wal: '%s'", w->dir);
    /* Opened for writing now, and never through a link: a torn tail is
     * cut off this very file, not whatever its name might lead to. */
    if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return ss_diag_err(-errno, "--wal: cannot open '%s'", path);
    ss_buf_reset(&w->io);
    rc = ss_io_slurp_fd(fd, &w->io);
    if (rc == 0 && scan_seg(w, seg, w->io.data, w->io.len, &good, &bad, &why))
        rc = 1;
    if (rc < 0)
        rc = ss_diag_err(rc, "--wal: cannot read '%s'", path);
    else if (rc > 0 && i + 1 < w->nsegs)
        rc = ss_diag("--wal: '%s': corrupt record at byte offset %zu: %s", path,
                     bad, why);
    /* The last segment: a crash during an append leaves a torn batch at
     * its end, never sent downstream (a batch is sent once synced). */
    else if (rc > 0 && ftruncate(fd, (off_t)good) < 0)
        rc = ss_diag_err(-errno, "--wal: cannot truncate '%s'", path);
    close(fd);
    if (rc <= 0)
        return rc;
    w->truncated = w->io.len - good;
    ss_diag("--wal: '%s': torn record at byte offset %zu (%s): %zu bytes "
            "cut off",
            path, bad, why, w->io.len - good);
    return 0;
}

/* Delete the closed segments whose batches are all committed (or that
 * hold none); 0 or SS_REPORTED after reporting. */
static int
prune(struct ss_wal *w)
{
    char path[PATH_MAX];
    size_t i, kept = 0;
    int rc = 0;

    for (i = 0; i < w->nsegs; i++) {
        struct ss_wal_seg *s = &w->segs[i];

        if (s->last != SS_WAL_NO_TIME &&
            (w->commit == SS_WAL_NO_TIME || s->last > w->commit)) {
            w->segs[kept++] = *s;
            continue;
        }
        if (seg_path(w, s->seq, path, sizeof(path)) == 0 && unlink(path) < 0 &&
            errno != ENOENT && rc == 0)
            rc = ss_diag_err(-errno, "--wal: cannot delete '%s'", path);
    }
    if (kept < w->nsegs && rc == 0 && (rc = ss_io_dir_sync(w->dirfd)) < 0)
        rc = ss_diag_err(rc, "--wal: '%s'", w->dir);
    w->nsegs = kept;
    return rc;
}

static int
read_commit(struct ss_wal *w)
{
    int64_t t;
    int rc = ss_wal_commit_read(w->dirfd, &t);

    if (rc < 0)
        return ss_diag_err(rc, "--wal: cannot read '%s/commit'", w->dir);
    if (rc > 0)
        w->commit = t;
    return 0;
}

/* Create and open the folder 'dir' (the log's, or the commit's) and
 * open its lock file 'name'; 0, or SS_REPORTED after reporting as 'opt'. */
static int
open_dir(const char *opt, const char *dir, const char *name, int *dirfd,
         int *lockfd)
{
    int rc;

    if ((rc = ss_io_mkdirs(dir)) < 0)
        return ss_diag_err(rc, "%s: cannot create '%s'", opt, dir);
    if ((*dirfd = ss_io_dir_open(dir)) < 0)
        return ss_diag_err(*dirfd, "%s: cannot open '%s'", opt, dir);
    *lockfd =
        openat(*dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (*lockfd < 0)
        return ss_diag_err(-errno, "%s: cannot open '%s/%s'", opt, dir, name);
    return 0;
}

static int
lock_dir(struct ss_wal *w)
{
    if (open_dir("--wal", w->dir, "lock", &w->dirfd, &w->lockfd) < 0)
        return SS_REPORTED;
    if (flock(w->lockfd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK)
            return ss_diag_err(-errno, "--wal: cannot lock '%s/lock'", w->dir);
        return ss_diag("--wal: '%s' is in use by another sstream-source",
                       w->dir);
    }
    return 0;
}

int
ss_wal_open(struct ss_wal *w, const char *dir, size_t max_bytes)
{
    int rc;

    memset(w, 0, sizeof(*w));
    w->fd = w->lockfd = w->dirfd = -1;
    w->max_bytes = max_bytes ? max_bytes : SS_WAL_SEGMENT_BYTES;
    w->last = w->commit = w->seg_last = w->first = SS_WAL_NO_TIME;
    if ((w->dir = strdup(dir)) == NULL)
        return ss_diag_err(-ENOMEM, "--wal");
    if ((rc = lock_dir(w)) < 0 || (rc = read_commit(w)) < 0 ||
        (rc = list_segs(w)) < 0)
        return rc;
    for (size_t i = 0; i < w->nsegs; i++) {
        if ((rc = check_seg(w, i)) < 0)
            return rc;
        if (w->segs[i].last != SS_WAL_NO_TIME)
            w->last = w->segs[i].last;
    }
    if (w->nsegs > 0)
        w->seq = w->segs[w->nsegs - 1].seq;
    if (w->commit != SS_WAL_NO_TIME && w->commit > w->last)
        w->last = w->commit;
    return 0;
}

int
ss_wal_replay(struct ss_wal *w, int out)
{
    char path[PATH_MAX];
    struct ss_frame f;
    const char *why;
    size_t pos, from, need;
    int rc;

    for (size_t i = 0; i < w->nsegs; i++) {
        if (w->segs[i].last <= w->commit)
            continue;
        if ((rc = seg_path(w, w->segs[i].seq, path, sizeof(path))) < 0)
            return ss_diag_err(rc, "--wal: '%s'", w->dir);
        ss_buf_reset(&w->io);
        if ((rc = ss_io_slurp(path, &w->io)) < 0)
            return ss_diag_err(rc, "--wal: cannot read '%s'", path);
        /* Only whole, checked batches are left (ss_wal_open()). */
        from = w->io.len;
        for (pos = 0; pos < w->io.len; pos += need) {
            if (ss_frame_parse(w->io.data + pos, w->io.len - pos, &f, &need,
                               &why) <= 0)
                return ss_diag("--wal: '%s' changed under us", path);
            if (f.time > w->commit && from == w->io.len)
                from = pos;
            if (f.time > w->commit && !(f.flags & SS_FRAME_MORE) &&
                w->replayed++ == 0)
                w->replay_first = f.time;
            if (f.time > w->commit)
                w->replay_last = f.time;
        }
        if ((rc = ss_io_write_all(out, w->io.data + from, w->io.len - from)) <
            0)
            return rc;
    }
    ss_buf_release(&w->io);
    return prune(w);
}

static int
open_seg(struct ss_wal *w)
{
    char path[PATH_MAX];
    int rc;

    w->seq++;
    if ((rc = seg_path(w, w->seq, path, sizeof(path))) < 0)
        return ss_diag_err(rc, "--wal: '%s'", w->dir);
    /* A new file, never one already there, nor a link's target. */
    w->fd = open(path,
                 O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC,
                 0666);
    if (w->fd < 0)
        return ss_diag_err(-errno, "--wal: cannot create '%s'", path);
    w->size = 0;
    w->seg_last = SS_WAL_NO_TIME;
    if ((rc = ss_io_dir_sync(w->dirfd)) < 0)
        return ss_diag_err(rc, "--wal: '%s'", w->dir);
    return 0;
}

int
ss_wal_begin(struct ss_wal *w)
{
    int rc;

    if (w->fd < 0 && (rc = open_seg(w)) < 0)
        return rc;
    w->batch_at = w->size;
    return w->fd;
}

/* Whether a sink holds DIR/commit.lock: 1 yes, 0 no, -errno. */
static int
committer_alive(const struct ss_wal *w)
{
    int fd, rc;

    if ((fd = openat(w->dirfd, "commit.lock",
                     O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return errno == ENOENT ? 0 : -errno;
    rc = flock(fd, LOCK_SH | LOCK_NB) < 0 ? (errno == EWOULDBLOCK ? 1 : -errno)
                                          : 0;
    close(fd); /* drops the probe's lock, if it got one */
    return rc;
}

/* --max-uncommitted: hold the batch at 'time' back until the sink has
 * committed far enough. The loop blocks, as a full pipe would: while the
 * pipeline is behind, reading more input would only queue it here. It
 * gives up when the reader of 'out' is gone, or when no sink has held the
 * commit lock for WAIT_ORPHAN_S (a sink that died cannot commit, and the
 * stages between would wait for our next frame for ever). 'prev' is the
 * batch logged (or committed) before this one: after a gap in batch times
 * (the pipeline was stopped, then started again) no commit can go past
 * it until this batch is sent, so it is all there is to wait for. */
static int
wait_commit(struct ss_wal *w, int64_t time, int64_t prev, int out)
{
    int64_t need = time - (int64_t)w->max_uncommitted * w->interval_ms;
    unsigned orphan = 0;
    int rc;

    if (prev != SS_WAL_NO_TIME && need > prev)
        need = prev;

    /* Before the first commit, the batches before the oldest logged one
     * count as committed: the first max_uncommitted go out at once. */
    while ((w->commit == SS_WAL_NO_TIME ? w->first - w->interval_ms
                                        : w->commit) < need) {
        struct pollfd p = {.fd = out, .events = 0};

        if (poll(&p, 1, WAIT_POLL_MS) > 0 && (p.revents & (POLLERR | POLLHUP)))
            return -EPIPE;
        if ((rc = read_commit(w)) < 0)
            return rc;
        if ((rc = committer_alive(w)) < 0)
            return ss_diag_err(rc, "--wal: '%s/commit.lock'", w->dir);
        orphan = rc ? 0 : orphan + 1;
        if (orphan * WAIT_POLL_MS >= WAIT_ORPHAN_S * 1000)
            return ss_diag("--max-uncommitted: no sstream-sink is committing "
                           "to '%s' (it has ended, or none was started with "
                           "--commit '%s')",
                           w->dir, w->dir);
    }
    return 0;
}

/* Copy the batch just synced from the segment to 'out'. */
static int
copy_batch(struct ss_wal *w, int out)
{
    uint64_t at = w->batch_at;
    ssize_t n;
    int rc;

    if (w->io.cap < COPY_CHUNK && (rc = ss_buf_reserve(&w->io, COPY_CHUNK)) < 0)
        return ss_diag_err(rc, "--wal");
    while (at < w->size) {
        size_t want = w->size - at < w->io.cap ? w->size - at : w->io.cap;

        n = pread(w->fd, w->io.data, want, (off_t)at);
        if (n <= 0)
            return ss_diag_err(n < 0 ? -errno : -EIO, "--wal: read back");
        if ((rc = ss_io_write_all(out, w->io.data, (size_t)n)) < 0)
            return rc;
        at += (uint64_t)n;
    }
    return 0;
}

int
ss_wal_write_failed(const struct ss_wal *w, int err)
{
    char path[PATH_MAX];

    if (seg_path(w, w->seq, path, sizeof(path)) < 0)
        return ss_diag_err(err, "--wal: cannot write to '%s'", w->dir);
    return ss_diag_err(err, "--wal: cannot write '%s'", path);
}

void
ss_wal_drop(struct ss_wal *w)
{
    /* A failed cut leaves a torn tail, which the next open cuts. */
    if (w->fd >= 0 && ftruncate(w->fd, (off_t)w->batch_at) == 0)
        w->size = w->batch_at;
}

int
ss_wal_end(struct ss_wal *w, int64_t time, int out)
{
    off_t end = lseek(w->fd, 0, SEEK_END);
    int64_t prev = w->last;
    int rc;

    if (end < 0)
        return ss_wal_write_failed(w, -errno);
    if (ss_io_test_crash_due(SS_IO_CRASH_WAL_WRITE)) {
        /* A crash halfway through the append: half the batch on disk. */
        if (ftruncate(w->fd,
                      (off_t)w->batch_at + (end - (off_t)w->batch_at) / 2) == 0)
            raise(SIGKILL);
    }
    if (fdatasync(w->fd) < 0)
        return ss_wal_write_failed(w, -errno);
    ss_io_test_crash(SS_IO_CRASH_WAL_SYNCED);
    w->size = (uint64_t)end;
    w->seg_last = w->last = time;
    if (w->first == SS_WAL_NO_TIME)
        w->first = time;
    if (w->max_uncommitted > 0 && (rc = wait_commit(w, time, prev, out)) < 0)
        return rc;
    if ((rc = copy_batch(w, out)) < 0)
        return rc;
    if (w->size < w->max_bytes)
        return 0;
    /* The segment is full: close it, and delete those the sink has
     * committed since we last looked. */
    close(w->fd);
    w->fd = -1;
    if ((rc = segs_push(w, w->seq, w->seg_last)) < 0)
        return ss_diag_err(rc, "--wal");
    if ((rc = read_commit(w)) < 0)
        return rc;
    return prune(w);
}

void
ss_wal_close(struct ss_wal *w)
{
    if (w->fd >= 0)
        close(w->fd);
    if (w->lockfd >= 0)
        close(w->lockfd);
    if (w->dirfd >= 0)
        close(w->dirfd);
    free(w->dir);
    free(w->segs);
    ss_buf_release(&w->io);
    memset(w, 0, sizeof(*w));
    w->fd = w->lockfd = w->dirfd = -1;
}

/* ---- the commit record ---- */

int
ss_wal_commit_read(int dirfd, int64_t *time)
{
    char text[32], *end;
    ssize_t n;
    int fd;
    long long v;

    *time = SS_WAL_NO_TIME;
    if ((fd = openat(dirfd, "commit", O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT ? 0 : -errno;
    n = ss_io_read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n < 0)
        return (int)n;
    text[n] = '\0';
    errno = 0;
    v = strtoll(text, &end, 10);
    if (n == 0 || errno != 0 || end == text || strcmp(end, "\n") != 0 ||
        !ss_frame_time_valid((int64_t)v))
        return -EBADMSG;
    *time = (int64_t)v;
    return 1;
}

/* The commit record's own temporary files, and nothing else of the
 * folder (the source writes its segments there). */
static int
is_commit(const char *final, size_t n, const void *ctx)
{
    (void)ctx;
    return n == 6 && memcmp(final, "commit", 6) == 0;
}

int
ss_wal_committer_open(struct ss_wal_committer *c, const char *dir)
{
    int rc;

    c->dir = dir;
    c->time = SS_WAL_NO_TIME;
    c->dirfd = c->lockfd = -1;
    if (open_dir("--commit", dir, "commit.lock", &c->dirfd, &c->lockfd) < 0)
        return SS_REPORTED;
    /* A source waiting under --max-uncommitted takes the lock for a
     * moment to see whether we are alive: try again for a second. */
    for (int i = 0; flock(c->lockfd, LOCK_EX | LOCK_NB) < 0; i++) {
        if (errno != EWOULDBLOCK)
            return ss_diag_err(-errno, "--commit: cannot lock '%s/commit.lock'",
                               dir);
        if (i == 200) {
            return ss_diag("--commit: '%s' is in use by another sstream-sink",
                           dir);
        }
        poll(NULL, 0, 5);
    }
    ss_io_tmp_clean(c->dirfd, is_commit, NULL); /* ours: we hold the lock */
    if ((rc = ss_wal_commit_read(c->dirfd, &c->time)) < 0)
        return ss_diag_err(rc, "--commit: cannot read '%s/commit'", dir);
    return 0;
}

int
ss_wal_commit(struct ss_wal_committer *c, int64_t time)
{
    char text[32];
    int n = snprintf(text, sizeof(text), "%" PRId64 "\n", time), rc;

    ss_io_test_crash(SS_IO_CRASH_WAL_COMMIT);
    if ((rc = ss_io_write_atomic_at(c->dirfd, "commit", text, (size_t)n)) < 0)
        return ss_diag_err(rc, "--commit: cannot write '%s/commit'", c->dir);
    c->time = time;
    return 0;
}

void
ss_wal_committer_close(struct ss_wal_committer *c)
{
    if (c->dir == NULL) /* never opened */
        return;
    if (c->lockfd >= 0)
        close(c->lockfd);
    if (c->dirfd >= 0)
        close(c->dirfd);
    c->lockfd = c->dirfd = -1;
}
