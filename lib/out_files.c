/* out_files.c - --save-as-text-files PREFIX [--suffix S]: Spark's
 * saveAsTextFiles, one file per batch, empty batches included (not with
 * --skip-empty), named PREFIX-TIME.S (PREFIX-TIME without a suffix), TIME
 * the batch time in ms.
 *
 * PREFIX's folder is created with its parents when the sink starts, as
 * --checkpoint and --wal folders are. Each file is a durable file of
 * lib/io: written under a hidden temporary name beside it (which
 * sstream-source --watch ignores), fsync()ed and renamed into place, and
 * the folder fsync()ed: a reader sees the whole file or none, and a batch
 * written again (a replay after a crash) replaces it with the same bytes.
 * The folder is opened afresh for each batch, so that a folder removed
 * while the sink runs is an error rather than files written nowhere.
 *
 * --spark-layout: Spark's own form, a folder per batch, PREFIX-TIME.S/
 * holding part-00000 and an empty _SUCCESS, as saveAsTextFile leaves
 * them. The folder is made whole under a hidden temporary name (files
 * synced, the folder synced) and renamed into place, so a reader sees the
 * whole folder or none; a batch written again swaps the new folder with
 * the old one in one step (renameat2 RENAME_EXCHANGE; where the kernel
 * has none, the old one is moved aside first) and removes the old one.
 */
#define _GNU_SOURCE /* renameat2() */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "io.h"
#include "out.h"

#define FLUSH_BYTES (256 * 1024)
#define PART        "part-00000"
#define SUCCESS     "_SUCCESS"

struct ofiles {
    struct ss_out o;
    const char *prefix, *suffix;
    const char *base;         /* PREFIX after its last '/' */
    char *dir;                /* PREFIX up to its last '/', or "." */
    int dirfd;                /* the folder, while a batch is written */
    int skip_empty;           /* --skip-empty: no file for an empty batch */
    int64_t time;             /* of the batch being written */
    char name[NAME_MAX + 1];  /* its file's name in the folder */
    int spark;                /* --spark-layout: a folder per batch */
    char tdir[SS_IO_TMP_MAX]; /* the batch's folder, while it is made */
    int tdirfd;               /* that folder, open */
    struct ss_io_tmp tmp;
    struct ss_buf buf;
};

/* f->name = BASE-TIME[.S]; 0 or -ENAMETOOLONG. */
static int
make_name(struct ofiles *f, int64_t time)
{
    size_t n = sizeof(f->name);

    if ((size_t)snprintf(f->name, n, "%s-%" PRId64 "%s%s", f->base, time,
                         f->suffix ? "." : "", f->suffix ? f->suffix : "") >= n)
        return -ENAMETOOLONG;
    return 0;
}

/* Leave no file open, no temporary file or folder and no folder
 * descriptor. */
static void
drop(struct ofiles *f)
{
    ss_io_tmp_close(&f->tmp);
    if (f->tdirfd >= 0)
        close(f->tdirfd);
    f->tdirfd = -1;
    if (f->tdir[0] != '\0' && f->dirfd >= 0)
        ss_io_remove(f->dirfd, f->tdir);
    f->tdir[0] = '\0';
    if (f->dirfd >= 0)
        close(f->dirfd);
    f->dirfd = -1;
    ss_buf_reset(&f->buf);
}

/* --spark-layout: the batch's folder under its temporary name, and
 * part-00000 in it to write. 0 or -errno. */
static int
open_folder(struct ofiles *f)
{
    int rc;

    if ((rc = ss_io_tmp_mkdir(f->dirfd, f->name, f->tdir)) < 0)
        return rc;
    f->tdirfd = openat(f->dirfd, f->tdir,
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (f->tdirfd < 0)
        return -errno;
    return ss_io_tmp_open(&f->tmp, f->tdirfd, PART);
}

/* The folder made whole (part-00000 and _SUCCESS durable) takes its
 * final name: renamed there, or swapped with what a run before left
 * there, which then goes. 0 or -errno. */
static int
place_folder(struct ofiles *f)
{
    int rc;

    if ((rc = ss_io_tmp_commit(&f->tmp, PART)) < 0 ||
        (rc = ss_io_write_atomic_at(f->tdirfd, SUCCESS, "", 0)) < 0)
        return rc;
    ss_io_test_crash(SS_IO_CRASH_SPARK_FOLDER);
    if (renameat(f->dirfd, f->tdir, f->dirfd, f->name) < 0) {
        if (errno != EEXIST && errno != ENOTEMPTY && errno != ENOTDIR &&
            errno != EISDIR)
            return -errno;
        if (renameat2(f->dirfd, f->tdir, f->dirfd, f->name, RENAME_EXCHANGE) <
            0) {
            /* no exchange on this file system: move the old one aside
             * (to a fresh temporary name, drawn as a folder and freed),
             * then rename */
            char old[SS_IO_TMP_MAX];

            if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
                return -errno;
            if ((rc = ss_io_tmp_mkdir(f->dirfd, f->name, old)) < 0)
                return rc;
            if (unlinkat(f->dirfd, old, AT_REMOVEDIR) < 0 ||
                renameat(f->dirfd, f->name, f->dirfd, old) < 0 ||
                renameat(f->dirfd, f->tdir, f->dirfd, f->name) < 0)
                return -errno;
            ss_io_remove(f->dirfd, old);
        }
        /* the old folder is now at the temporary name: drop() removes it */
    } else {
        f->tdir[0] = '\0';
    }
    return ss_io_dir_sync(f->dirfd);
}

static int
fail(struct ofiles *f, int err)
{
    drop(f);
    return ss_diag_err(
        err, "--save-as-text-files: cannot write '%s-%" PRId64 "%s%s'",
        f->prefix, f->time, f->suffix ? "." : "", f->suffix ? f->suffix : "");
}

static int
flush(struct ofiles *f)
{
    int rc = ss_io_write_all(f->tmp.fd, f->buf.data, f->buf.len);

    ss_buf_reset(&f->buf);
    return rc;
}

/* An update that adds late records (man/sstream.5 "UPDATES") rewrites
 * the batch's file with its old lines first, still atomically; a whole
 * update (SS_FRAME_WHOLE) replaces them, as a batch written again does.
 * No file yet (--skip-empty skipped it, or it was removed): the update's
 * lines alone. */
static int
keep_old(struct ofiles *f, const struct ss_frame *fr)
{
    char path[PATH_MAX];
    int rc;

    if ((fr->flags & SS_FRAME_UPDATE_FLAGS) != SS_FRAME_UPDATE)
        return 0;
    if ((rc = make_name(f, fr->time)) < 0 ||
        (rc = ss_io_path(path, sizeof(path), f->dir, f->name)) < 0)
        return rc;
    if (f->tmp.fd < 0 && (rc = f->dirfd = ss_io_dir_open(f->dir)) >= 0)
        rc = ss_io_tmp_open(&f->tmp, f->dirfd, f->name);
    if (rc < 0)
        return rc;
    rc = ss_io_slurp(path, &f->buf);
    return rc == -ENOENT ? 0 : rc;
}

static int
files_frame(struct ss_out *o, const struct ss_frame *fr, int first)
{
    struct ofiles *f = (struct ofiles *)o;
    int rc;

    if (first)
        f->time = fr->time;
    /* The file is opened at the batch's first record under --skip-empty
     * (a batch may come in several frames, the first of them empty), so
     * that an empty batch leaves not even a temporary file. */
    if (f->tmp.fd < 0 && (fr->count > 0 || !f->skip_empty)) {
        if ((rc = make_name(f, fr->time)) < 0 ||
            (rc = f->dirfd = ss_io_dir_open(f->dir)) < 0 ||
            (rc = f->spark ? open_folder(f)
                           : ss_io_tmp_open(&f->tmp, f->dirfd, f->name)) < 0)
            return fail(f, rc);
    }
    if (first && (rc = keep_old(f, fr)) < 0)
        return fail(f, rc);
    if ((rc = ss_out_lines(&f->buf, fr)) < 0)
        return fail(f, rc);
    if (f->buf.len >= FLUSH_BYTES && (rc = flush(f)) < 0)
        return fail(f, rc);
    return 0;
}

static int
files_end(struct ss_out *o, int64_t time)
{
    struct ofiles *f = (struct ofiles *)o;
    int rc;

    (void)time;
    if (f->tmp.fd < 0) /* --skip-empty, and the batch was */
        return 0;
    if ((rc = flush(f)) < 0 ||
        (rc = f->spark ? place_folder(f) : ss_io_tmp_commit(&f->tmp, f->name)) <
            0)
        return fail(f, rc);
    drop(f);
    return 0;
}

static void
files_free(struct ss_out *o)
{
    struct ofiles *f = (struct ofiles *)o;

    drop(f); /* the stream broke mid-batch: leave no temp file */
    ss_buf_release(&f->buf);
    free(f->dir);
    free(f);
}

static const struct ss_out_ops files_ops = {files_frame, files_end, files_free};

/* Whether 'final' (n bytes) is a name of ours, BASE-TIME[.S], so that a
 * temporary file a crash left for it can go. */
static int
is_ours(const char *final, size_t n, const void *ctx)
{
    const struct ofiles *f = ctx;
    size_t b = strlen(f->base), i, digits;

    if (n <= b + 1 || memcmp(final, f->base, b) != 0 || final[b] != '-')
        return 0;
    i = b + 1;
    if (final[i] == '-') /* a batch time before the epoch */
        i++;
    for (digits = 0; i < n && final[i] >= '0' && final[i] <= '9'; i++)
        digits++;
    if (digits == 0)
        return 0;
    if (f->suffix == NULL)
        return i == n;
    return n - i == strlen(f->suffix) + 1 && final[i] == '.' &&
           memcmp(final + i + 1, f->suffix, n - i - 1) == 0;
}

/* Create PREFIX's folder, and remove the temporary files a crash left
 * there for this PREFIX. */
static int
prepare_dir(struct ofiles *f)
{
    int rc, dirfd;

    if ((rc = ss_io_mkdirs(f->dir)) < 0)
        return ss_diag_err(rc, "--save-as-text-files: cannot create '%s'",
                           f->dir);
    if ((dirfd = ss_io_dir_open(f->dir)) < 0)
        return ss_diag_err(dirfd, "--save-as-text-files: cannot open '%s'",
                           f->dir);
    ss_io_tmp_clean(dirfd, is_ours, f); /* --spark-layout's folders too */
    close(dirfd);
    return 0;
}

int
ss_out_files_new(const char *prefix, const char *suffix, int skip_empty,
                 int spark_layout, struct ss_out **out)
{
    struct ofiles *f = calloc(1, sizeof(*f));
    const char *slash = strrchr(prefix, '/');

    if (f == NULL)
        return ss_diag_err(-ENOMEM, "--save-as-text-files");
    f->o.ops = &files_ops;
    f->prefix = prefix;
    f->suffix = suffix;
    f->skip_empty = skip_empty;
    f->dirfd = f->tmp.fd = f->tdirfd = -1;
    f->spark = spark_layout;
    f->base = slash ? slash + 1 : prefix;
    if (slash == NULL)
        f->dir = strdup(".");
    else if (slash == prefix)
        f->dir = strdup("/");
    else
        f->dir = strndup(prefix, (size_t)(slash - prefix));
    if (f->dir == NULL || prepare_dir(f) < 0) {
        if (f->dir == NULL)
            ss_diag_err(-ENOMEM, "--save-as-text-files");
        files_free(&f->o);
        return SS_REPORTED;
    }
    *out = &f->o;
    return 0;
}
