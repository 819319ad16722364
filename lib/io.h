/* io.h - whole writes and reads on file descriptors, retried on EINTR;
 * durable files, the one way every module writes them; folder and path
 * helpers; the test-only crash points.
 * Owns nothing: the caller's buffers and descriptors stay the caller's,
 * except the file a struct ss_io_tmp holds until ss_io_tmp_close().
 */
#ifndef SS_IO_H
#define SS_IO_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* Write all n bytes; 0, or a negative errno code (-EPIPE: reader gone). */
int ss_io_write_all(int fd, const void *p, size_t n);
/* One read(2); bytes read, 0 at EOF, or a negative errno code. */
ssize_t ss_io_read(int fd, void *p, size_t n);
/* Ask for a pipe of n bytes at fd, which is either end of it: through
 * Linux's default 64 KiB a stream of large writes takes many wake-ups of
 * each side. Where that is refused (not a pipe, over the limit) nothing
 * changes but speed. */
void ss_io_widen_pipe(int fd, size_t n);
/* Read the whole file at 'path' into *out (appended); 0 or -errno. */
struct ss_buf;
int ss_io_slurp(const char *path, struct ss_buf *out);
/* The same for what is left to read of fd (the caller's: not closed). */
int ss_io_slurp_fd(int fd, struct ss_buf *out);

/* ---- folders and paths ---- */

/* "dir/name" into out[n]: 0, or -ENAMETOOLONG when it does not fit (no
 * path is ever cut short; the caller reports, naming dir and name). */
int ss_io_path(char *out, size_t n, const char *dir, const char *name);
/* Create folder 'path' with its parents, as mkdir -p does; one that is
 * there already is fine. 0 or -errno (-ENOTDIR: a part is no folder). */
int ss_io_mkdirs(const char *path);
/* Open folder 'path' for the *at() calls and ss_io_dir_sync(): the
 * descriptor, or -errno. */
int ss_io_dir_open(const char *path);
/* fsync() a folder, so that a file created, renamed or removed in it
 * stays so after a crash. 0 or -errno. */
int ss_io_dir_sync(int dirfd);

/* ---- durable files ----
 *
 * A durable file (a checkpoint snapshot, the WAL's commit record, a saved
 * batch, the --watch ledger) is replaced whole: written under a temporary
 * name in its own folder, fsync()ed, renamed over its final name and the
 * folder fsync()ed, so that a crash leaves the old file or the new one,
 * never half. The temporary name (.NAME.XXXXXXXX.tmp: hidden, and ignored
 * by sstream-source --watch) is unpredictable and created exclusively,
 * never through a link, relative to the folder's descriptor; the rename
 * replaces whatever is at the final name, a link included, and never
 * writes through it. So a link planted in the folder cannot make a stage
 * write anywhere else. Usage:
 *
 *     struct ss_io_tmp t;
 *     if ((rc = ss_io_tmp_open(&t, dirfd, "commit")) == 0 &&
 *         (rc = ss_io_write_all(t.fd, p, n)) == 0)
 *         rc = ss_io_tmp_commit(&t, "commit");
 *     ss_io_tmp_close(&t);
 */

#define SS_IO_TMP_MAX (NAME_MAX + 1) /* a temporary name, its NUL too */

struct ss_io_tmp {
    int dirfd;                /* the folder: the caller's */
    int fd;                   /* the file, open for writing; -1 when none */
    int synced;               /* fsync()ed since its last write */
    int placed;               /* renamed to its final name */
    char name[SS_IO_TMP_MAX]; /* its temporary name in the folder */
};

/* Create a new temporary file in folder 'dirfd' for the durable file
 * 'name' (a name in that folder, no '/'), open at t->fd. 0 or -errno
 * (-ENAMETOOLONG when the temporary name would be too long). */
int ss_io_tmp_open(struct ss_io_tmp *t, int dirfd, const char *name);
/* A temporary folder for a durable folder 'name' in 'dirfd', named as a
 * temporary file is (so ss_io_tmp_final() knows it), its name in tmp.
 * 0 or -errno. */
int ss_io_tmp_mkdir(int dirfd, const char *name, char tmp[SS_IO_TMP_MAX]);
/* fsync() the file: every byte is written. 0 or -errno. */
int ss_io_tmp_sync(struct ss_io_tmp *t);
/* Make it durable as 'name': ss_io_tmp_sync() unless done, rename, fsync
 * of the folder. t->fd stays open, now the file at 'name' (a caller may
 * go on appending to it), until ss_io_tmp_close(). 0 or -errno. */
int ss_io_tmp_commit(struct ss_io_tmp *t, const char *name);
/* Close the file; one not renamed into place is removed. */
void ss_io_tmp_close(struct ss_io_tmp *t);
/* Replace dirfd/name with p[0..n) as above, in one call. 0 or -errno. */
int ss_io_write_atomic_at(int dirfd, const char *name, const void *p, size_t n);
/* The same by folder name. */
int ss_io_write_atomic(const char *dir, const char *name, const void *p,
                       size_t n);
/* If 'name' is a temporary name made by ss_io_tmp_open(): the length of
 * the final name it stands for, *final pointing to it inside 'name';
 * else 0. */
size_t ss_io_tmp_final(const char *name, const char **final);
/* Remove 'name' in folder 'dirfd': a file, or a folder and the files in
 * it (one level, links not followed). Best effort: what stays is a
 * temporary name the next start removes again. */
void ss_io_remove(int dirfd, const char *name);
/* Remove the temporary files (and folders: --spark-layout) a crash left
 * in folder 'dirfd': those whose final name ours() accepts, or all when
 * ours is NULL. Only the one writer of those files may do this (it holds
 * the folder's lock, or the folder is its own). 0 or -errno. */
int ss_io_tmp_clean(int dirfd,
                    int (*ours)(const char *final, size_t n, const void *ctx),
                    const void *ctx);

/* ---- test-only crash points ----
 *
 * When the environment has SSTREAM_TEST_CRASH_AT=NAME:N, the N-th time the
 * process passes point NAME it kills itself with SIGKILL, as kill -9
 * would: the tests and tests/chaos/run use them to crash at the worst
 * moments. The points, each an enum constant SS_IO_CRASH_<ID> and its NAME:
 */
#define SS_IO_CRASH_POINTS(X)                                                  \
    /* a checkpoint file or log entry half written */                          \
    X(CKPT_WRITE, "ckpt-write")                                                \
    /* a snapshot written and synced, not yet renamed into place */            \
    X(CKPT_RENAME, "ckpt-rename")                                              \
    /* sstream-state: a batch's last frame read, the batch not yet ended */    \
    X(STATE_BATCH, "batch")                                                    \
    /* sstream-state: a batch applied, its checkpoint not yet written */       \
    X(STATE_SAVE, "save")                                                      \
    /* sstream-state: a batch saved, its output not yet sent */                \
    X(STATE_EMIT, "emit")                                                      \
    /* sstream-source --wal: a batch half appended (a torn record) */          \
    X(WAL_WRITE, "wal-write")                                                  \
    /* sstream-source --wal: a batch synced, not yet sent */                   \
    X(WAL_SYNCED, "wal-synced")                                                \
    /* sstream-sink --commit: a batch's output durable, not committed */       \
    X(WAL_COMMIT, "wal-commit")                                                \
    /* sstream-sink --kafka -X transactional.id: a batch's messages queued */  \
    /* in its transaction, not yet flushed, the transaction not committed */   \
    X(KAFKA_TXN, "kafka-txn")                                                  \
    /* sstream-sink --spark-layout: a batch's folder made, not yet placed */   \
    X(SPARK_FOLDER, "spark-folder")

#define SS_IO_CRASH_ENUM(id, name) SS_IO_CRASH_##id,

enum ss_io_crash {
    SS_IO_CRASH_POINTS(SS_IO_CRASH_ENUM) SS_IO_CRASH_COUNT
};

#undef SS_IO_CRASH_ENUM

/* Count a pass of 'point': 1 when the crash asked for is due now (for a
 * point that must first do harm of its own, e.g. tear a write), else 0. */
int ss_io_test_crash_due(enum ss_io_crash point);
/* Pass 'point': SIGKILL when the crash is due, else return. */
void ss_io_test_crash(enum ss_io_crash point);

#endif
