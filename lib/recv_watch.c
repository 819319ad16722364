/* recv_watch.c - --watch DIR: Spark's textFileStream, each new file of a
 * folder read once, whole, into the batches.
 *
 * Which files: regular files whose names are not hidden or temporary
 * (a leading '.', a trailing '~', or ending in .tmp, .temp, .part,
 * .partial, .swp or _COPYING_), so that a writer can write 'f.tmp' or
 * '.f' and rename it when done. Names are read once: a file rewritten
 * under a name already read is not read again.
 *
 * When a file is complete: when its modification time is at least the
 * settle time (--settle, 1s) in the past. A file renamed into the folder
 * keeps its old time and is read at once; a file written in place is
 * read once the writer has left it alone for the settle time. A writer
 * that pauses longer than that must write under a temporary name and
 * rename.
 *
 * How: libuv fs events wake a scan of the folder, and a timer scans it
 * anyway every half settle time (at most 1s), so that nothing is missed
 * (events can be dropped or coalesced, and a settling file sends none).
 * Ready files are read one at a time, in name order per scan.
 *
 * Files already there at start: a plain --watch leaves them alone, as
 * Spark does (newFilesOnly); with --once or --state they are read. With
 * --state DIR2, DIR2/ledger lists the names read, one per line, rewritten
 * atomically (temp file, fsync, rename, fsync of DIR2) after each batch
 * that completed a file has been written to stdout; names in the ledger
 * are never read again, across runs. --once scans, waits for young files
 * to settle, reads every file not in the ledger, and ends the input. A
 * file still changing after the settle time is named on stderr (once: a
 * file written just now settles within it, silently), and one still
 * changing after --max-wait (1m) is given up, named, counted as trouble
 * (exit status 1) and left out of the ledger for the next run.
 *
 * An unreadable file is reported and counted (the exit status becomes 1)
 * and left out of the ledger; the other files go on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "dur.h"
#include "io.h"
#include "recv_kit.h"

/* A sorted set of names. */
struct names {
    char **v;
    size_t n, cap;
};

/* --once: a file not yet settled, and since when we wait for it. */
struct waiting {
    char *name;
    int64_t since;
    int told; /* named on stderr */
    int seen; /* young at the last scan */
};

struct rwatch {
    struct ss_recv r;
    char what[300];
    struct ss_recv_watch_opts o;
    uv_fs_event_t ev;
    uv_timer_t scan;
    uint64_t period; /* ms between scans */
    struct ss_recv_file file;
    struct names seen;    /* read, failed, or there at start: never read */
    struct names ledger;  /* --state: names whose batches were sent */
    struct names done;    /* read; in the ledger once their batch is sent */
    struct names ready;   /* complete, waiting to be read, in name order */
    struct waiting *wait; /* --once: young files, nwait of them */
    size_t nwait, capwait;
    char *reading;       /* the name being read, or NULL */
    char path[PATH_MAX]; /* DIR/reading, for messages */
    int young;           /* the last scan saw files still settling */
    int first;           /* the first scan is to come */
    int stopped;
    int failed; /* the folder itself went wrong */
};

/* ---- names ---- */

static size_t
names_find(const struct names *s, const char *name, int *found)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->v[mid], name);

        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static int
names_has(const struct names *s, const char *name)
{
    int found;

    names_find(s, name, &found);
    return found;
}

/* Add a copy of name; 0 or -ENOMEM. */
static int
names_add(struct names *s, const char *name)
{
    int found;
    size_t at = names_find(s, name, &found);
    char *copy;

    if (found)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **v = realloc(s->v, cap * sizeof(*v));

        if (v == NULL)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    if ((copy = strdup(name)) == NULL)
        return -ENOMEM;
    memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof(*s->v));
    s->v[at] = copy;
    s->n++;
    return 0;
}

static void
names_clear(struct names *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    s->n = 0;
}

static void
names_free(struct names *s)
{
    names_clear(s);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* ---- which files ---- */

static int
ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static int
ignored(const char *name)
{
    static const char *const temp[] = {".tmp", ".temp", ".part",    ".partial",
                                       ".swp", "~",     "_COPYING_"};
    size_t n = strlen(name);

    if (name[0] == '.')
        return 1;
    for (size_t i = 0; i < sizeof(temp) / sizeof(temp[0]); i++)
        if (ends_with(name, n, temp[i]))
            return 1;
    return 0;
}

/* ---- the ledger ---- */

static int
ledger_path(const struct rwatch *w, char *buf, size_t n, const char *name)
{
    return ss_io_path(buf, n, w->o.state, name);
}

/* A ledger line is a name, or with --wal a name, a tab and the time of
 * the batch that read the file. A batch after o.logged never reached the
 * log (the source died first): its files are to be read again. */
static int
ledger_entry(struct rwatch *w, char *line)
{
    char *tab = strrchr(line, '\t'), *end;
    long long t;
    int rc;

    if (tab != NULL && tab[1] >= '0' && tab[1] <= '9') {
        errno = 0;
        t = strtoll(tab + 1, &end, 10);
        if (errno == 0 && *end == '\0') {
            if (w->o.wal && t > w->o.logged)
                return 0;
            if ((rc = names_add(&w->ledger, line)) < 0)
                return rc;
            *tab = '\0';
            return names_add(&w->seen, line);
        }
    }
    if ((rc = names_add(&w->ledger, line)) < 0)
        return rc;
    return names_add(&w->seen, line);
}

static int
ledger_load(struct rwatch *w)
{
    struct ss_buf b = {0};
    char path[PATH_MAX];
    char *p, *end, *nl;
    int rc;

    if (mkdir(w->o.state, 0777) < 0 && errno != EEXIST)
        return ss_diag_err(-errno, "--state: cannot create '%s'", w->o.state);
    if ((rc = ledger_path(w, path, sizeof(path), "ledger")) < 0)
        return ss_diag_err(rc, "--state: '%s'", w->o.state);
    if ((rc = ss_io_slurp(path, &b)) < 0 && rc != -ENOENT) {
        ss_buf_release(&b);
        return ss_diag_err(rc, "--state: cannot read '%s'", path);
    }
    rc = 0; /* no ledger yet: nothing read so far */
    for (p = b.data, end = ss_buf_end(&b); p != NULL && p < end; p = nl + 1) {
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            break; /* a torn last line cannot be: the file is renamed in */
        *nl = '\0';
        if ((rc = ledger_entry(w, p)) < 0)
            break;
    }
    ss_buf_release(&b);
    if (rc < 0)
        return ss_diag_err(rc, "--state: '%s'", path);
    return 0;
}

/* Write the whole ledger anew: a crash leaves the old ledger or the new
 * one, never half. */
static int
ledger_write(struct rwatch *w)
{
    struct ss_buf b = {0};
    int rc = 0;

    for (size_t i = 0; i < w->ledger.n && rc == 0; i++) {
        rc = ss_buf_append(&b, w->ledger.v[i], strlen(w->ledger.v[i]));
        if (rc == 0)
            rc = ss_buf_putc(&b, '\n');
    }
    if (rc == 0)
        rc = ss_io_write_atomic(w->o.state, "ledger", b.data, b.len);
    ss_buf_release(&b);
    return rc;
}

/* ---- reading ---- */

static void read_next(struct rwatch *w);
static void maybe_end(struct rwatch *w);

static void
file_end(struct ss_recv_file *f, int status)
{
    struct rwatch *w = (struct rwatch *)f->owner;

    close(f->fd);
    f->fd = -1;
    if (status < 0) {
        ss_diag_err(status, "%s: cannot read '%s'", w->what, w->path);
        w->r.host->troubles++;
    } else if (names_add(&w->done, w->reading) < 0) {
        w->r.host->fatal(w->r.host, -ENOMEM);
    }
    free(w->reading);
    w->reading = NULL;
    if (!w->r.host->stopping) {
        read_next(w);
        maybe_end(w);
    }
}

/* Take the first ready file; an unreadable one is reported and passed. */
static void
read_next(struct rwatch *w)
{
    int fd, rc;

    while (w->reading == NULL && w->ready.n > 0) {
        w->reading = w->ready.v[0];
        memmove(w->ready.v, w->ready.v + 1, --w->ready.n * sizeof(char *));
        if (names_add(&w->seen, w->reading) < 0) {
            w->r.host->fatal(w->r.host, -ENOMEM);
            return;
        }
        if ((rc = ss_io_path(w->path, sizeof(w->path), w->o.dir, w->reading)) ==
                0 &&
            (fd = open(w->path, O_RDONLY | O_CLOEXEC)) >= 0) {
            ss_recv_file_read(&w->file, fd, w->path);
            return;
        }
        if (rc < 0 || errno != ENOENT) { /* ENOENT: gone, nothing lost */
            ss_diag_err(rc < 0 ? rc : -errno, "%s: cannot open '%s/%s'",
                        w->what, w->o.dir, w->reading);
            w->r.host->troubles++;
        }
        free(w->reading);
        w->reading = NULL;
    }
}

static void
maybe_end(struct rwatch *w)
{
    if (w->o.once && !w->first && !w->young && w->reading == NULL &&
        w->ready.n == 0)
        ss_recv_end(&w->r, 0);
}

static int64_t
mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* --once: 'name' is young at this scan (now). */
static int
wait_note(struct rwatch *w, const char *name, int64_t now)
{
    struct waiting *x;

    for (size_t i = 0; i < w->nwait; i++)
        if (strcmp(w->wait[i].name, name) == 0) {
            w->wait[i].seen = 1;
            return 0;
        }
    if (w->nwait == w->capwait) {
        size_t cap = w->capwait ? w->capwait * 2 : 8;

        if ((x = realloc(w->wait, cap * sizeof(*x))) == NULL)
            return -ENOMEM;
        w->wait = x;
        w->capwait = cap;
    }
    x = &w->wait[w->nwait];
    if ((x->name = strdup(name)) == NULL)
        return -ENOMEM;
    x->since = now;
    x->told = 0;
    x->seen = 1;
    w->nwait++;
    return 0;
}

static void
wait_drop(struct rwatch *w, size_t i)
{
    free(w->wait[i].name);
    w->wait[i] = w->wait[--w->nwait];
}

/* --once, after a scan: name the files that changed for longer than the
 * settle time, once each; give up on those that changed for longer than
 * --max-wait (into 'seen': not read in this run, not in the ledger). */
static int
wait_check(struct rwatch *w, int64_t now)
{
    char text[32];
    size_t i = 0;

    while (i < w->nwait) {
        struct waiting *x = &w->wait[i];
        int64_t waited = now - x->since;

        if (!x->seen) { /* settled (and ready), or gone */
            wait_drop(w, i);
            continue;
        }
        x->seen = 0;
        if (w->o.max_wait > 0 && waited >= w->o.max_wait) {
            ss_diag(
                "%s: '%s/%s' still changing after --max-wait %s: left "
                "for the next run",
                w->what, w->o.dir, x->name,
                ss_backoff_text((uint64_t)w->o.max_wait, text, sizeof(text)));
            w->r.host->troubles++;
            if (names_add(&w->seen, x->name) < 0)
                return -ENOMEM;
            wait_drop(w, i);
            continue;
        }
        if (!x->told && waited >= w->o.settle) {
            x->told = 1;
            ss_diag("%s: waiting for '%s/%s' to stop changing (--settle %s)",
                    w->what, w->o.dir, x->name,
                    ss_backoff_text((uint64_t)w->o.settle, text, sizeof(text)));
        }
        i++;
    }
    w->young = w->nwait > 0;
    return 0;
}

/* One look at the folder: complete new files join 'ready'. */
static int
scan(struct rwatch *w)
{
    int64_t now = ss_dur_now_ms();
    int fresh = w->first && !w->o.once && w->o.state == NULL;
    struct dirent *e;
    struct stat st;
    DIR *d;
    int rc = 0;

    if ((d = opendir(w->o.dir)) == NULL)
        return ss_diag_err(-errno, "%s: cannot open '%s'", w->what, w->o.dir);
    w->young = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (ignored(e->d_name) || names_has(&w->seen, e->d_name) ||
            names_has(&w->ready, e->d_name) ||
            (w->reading != NULL && strcmp(w->reading, e->d_name) == 0))
            continue;
        if (fresh) { /* there at start: not new */
            rc = names_add(&w->seen, e->d_name);
            continue;
        }
        if (strchr(e->d_name, '\n') != NULL) {
            ss_diag("%s: a name with a newline is not read", w->what);
            w->r.host->troubles++;
            rc = names_add(&w->seen, e->d_name);
            continue;
        }
        if (fstatat(dirfd(d), e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
            continue; /* gone, or a folder, a fifo...: not a file to read */
        if (now - mtime_ms(&st) >= w->o.settle) {
            rc = names_add(&w->ready, e->d_name);
        } else { /* still being written, perhaps: look again */
            w->young = 1;
            if (w->o.once)
                rc = wait_note(w, e->d_name, now);
        }
    }
    closedir(d);
    w->first = 0;
    if (rc == 0 && w->o.once)
        rc = wait_check(w, now);
    return rc < 0 ? ss_diag_err(rc, "%s", w->what) : 0;
}

static void
on_scan(uv_timer_t *t)
{
    struct rwatch *w = t->data;

    if (w->stopped || w->r.ended)
        return;
    if (scan(w) < 0) {
        w->failed = 1;
        uv_timer_stop(&w->scan);
        ss_recv_end(&w->r, SS_REPORTED);
        return;
    }
    read_next(w);
    maybe_end(w);
}

static void
on_event(uv_fs_event_t *ev, const char *name, int events, int status)
{
    struct rwatch *w = ev->data;

    (void)name;
    (void)events;
    (void)status; /* whatever happened, the scan looks */
    /* Coalesce a burst of events into one scan shortly after; a steady
     * stream of events must not keep pushing the scan back. */
    if (uv_timer_get_due_in(&w->scan) > 20)
        uv_timer_start(&w->scan, on_scan, 20, w->period);
}

static void
watch_resume(struct ss_recv *r)
{
    ss_recv_file_resume(&((struct rwatch *)r)->file);
}

/* The files read for the batch at 'time' join the ledger, which is
 * written anew; with 'tagged' each line carries that time (--wal, see
 * ledger_entry()). */
static void
ledger_add_done(struct rwatch *w, int64_t time, int tagged)
{
    char line[4096];
    int rc = 0;

    if (w->done.n == 0)
        return;
    if (w->o.state != NULL) {
        for (size_t i = 0; i < w->done.n && rc == 0; i++) {
            const char *name = w->done.v[i];

            if (tagged) {
                snprintf(line, sizeof(line), "%s\t%lld", name, (long long)time);
                name = line;
            }
            rc = names_add(&w->ledger, name);
        }
        if (rc == 0)
            rc = ledger_write(w);
        if (rc < 0) {
            ss_diag_err(rc, "--state: cannot write '%s/ledger'", w->o.state);
            w->r.host->troubles++;
        }
    }
    names_clear(&w->done);
}

static void
watch_sent(struct ss_recv *r, int64_t time)
{
    ledger_add_done((struct rwatch *)r, time, 0);
}

/* --wal: the files of the batch at 'time' go into the ledger, tagged with
 * it, before the batch is synced to the log. */
static void
watch_logging(struct ss_recv *r, int64_t time)
{
    ledger_add_done((struct rwatch *)r, time, 1);
}

static void
watch_stop(struct ss_recv *r)
{
    struct rwatch *w = (struct rwatch *)r;

    if (w->stopped)
        return;
    w->stopped = 1;
    /* A file is read whole or not at all, so that the ledger can say which
     * files the stream holds. */
    if (w->reading != NULL)
        ss_recv_file_drain(&w->file);
    ss_recv_file_stop(&w->file);
    uv_close((uv_handle_t *)&w->file.idle, NULL);
    uv_close((uv_handle_t *)&w->ev, NULL);
    uv_close((uv_handle_t *)&w->scan, NULL);
}

static void
watch_free(struct ss_recv *r)
{
    struct rwatch *w = (struct rwatch *)r;

    if (w->file.fd >= 0)
        close(w->file.fd);
    ss_recv_in_release(&w->file.in);
    names_free(&w->seen);
    names_free(&w->ledger);
    names_free(&w->done);
    names_free(&w->ready);
    while (w->nwait > 0)
        wait_drop(w, 0);
    free(w->wait);
    free(w->reading);
    free(w);
}

static const struct ss_recv_ops watch_ops = {watch_resume, watch_sent,
                                             watch_stop, watch_free};

int
ss_recv_watch_start(struct ss_recv_host *h, const struct ss_recv_watch_opts *o,
                    struct ss_recv **out)
{
    struct rwatch *w = calloc(1, sizeof(*w));
    struct stat st;
    int rc;

    if (w == NULL)
        return ss_diag_err(-ENOMEM, "--watch");
    w->r.ops = &watch_ops;
    w->r.logging = watch_logging;
    w->r.host = h;
    w->o = *o;
    w->first = 1;
    snprintf(w->what, sizeof(w->what), "--watch %s", o->dir);
    w->r.what = w->what;
    *out = &w->r;
    w->period = (uint64_t)(o->settle / 2);
    w->period = w->period < 50 ? 50 : w->period > 1000 ? 1000 : w->period;
    ss_recv_file_init(&w->file, &w->r, file_end);
    w->file.whole = o->wal;
    uv_fs_event_init(h->loop, &w->ev);
    uv_timer_init(h->loop, &w->scan);
    w->ev.data = w->scan.data = w;
    if (stat(o->dir, &st) < 0)
        return ss_diag_err(-errno, "--watch: cannot open '%s'", o->dir);
    if (!S_ISDIR(st.st_mode))
        return ss_diag("--watch: '%s' is not a folder", o->dir);
    if (o->state != NULL && ledger_load(w) < 0)
        return SS_REPORTED;
    if ((rc = uv_fs_event_start(&w->ev, on_event, o->dir, 0)) < 0)
        return ss_diag("--watch: cannot watch '%s': %s", o->dir,
                       uv_strerror(rc));
    /* The first scan now: what is there at start is settled first. */
    uv_timer_start(&w->scan, on_scan, 0, w->period);
    return 0;
}
