/* io.c - whole writes and reads, durable files, folders (see io.h). */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include "io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

/* A temporary name: "." NAME "." RAND ".tmp", RAND from RAND_CHARS. */
#define RAND_LEN  8
#define TMP_EXTRA (1 + 1 + RAND_LEN + 4)
#define TMP_TRIES 64

int
ss_io_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = write(fd, c, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

ssize_t
ss_io_read(int fd, void *p, size_t n)
{
    for (;;) {
        ssize_t r = read(fd, p, n);

        if (r >= 0)
            return r;
        if (errno != EINTR)
            return -errno;
    }
}

int
ss_io_slurp_fd(int fd, struct ss_buf *out)
{
    ssize_t r;
    int rc;

    for (;;) {
        if ((rc = ss_buf_reserve(out, 1 << 16)) < 0)
            return rc;
        r = ss_io_read(fd, out->data + out->len, out->cap - out->len);
        if (r <= 0)
            return (int)r;
        ss_buf_commit(out, (size_t)r);
    }
}

int
ss_io_slurp(const char *path, struct ss_buf *out)
{
    int fd, rc;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    rc = ss_io_slurp_fd(fd, out);
    close(fd);
    return rc;
}

void
ss_io_widen_pipe(int fd, size_t n)
{
#ifdef F_SETPIPE_SZ
    (void)fcntl(fd, F_SETPIPE_SZ, (int)n);
#else
    (void)fd;
    (void)n;
#endif
}

/* ---- folders and paths ---- */

int
ss_io_path(char *out, size_t n, const char *dir, const char *name)
{
    int len = snprintf(out, n, "%s/%s", dir, name);

    if (len < 0 || (size_t)len >= n) {
        if (n > 0)
            out[0] = '\0';
        return -ENAMETOOLONG;
    }
    return 0;
}

/* Whether 'path' is a folder (a link to one counts), keeping errno. */
static int
is_dir(const char *path)
{
    struct stat st;
    int saved = errno;
    int yes = stat(path, &st) == 0 && S_ISDIR(st.st_mode);

    errno = saved;
    return yes;
}

/* Each prefix of the path that ends a name, then the whole: mkdir(2), and
 * a failure counts only when no folder is there (mkdir of an existing
 * folder on a read-only or forbidden parent may say EROFS or EACCES). */
int
ss_io_mkdirs(const char *path)
{
    char *p = strdup(path), *s;
    int rc = 0;

    if (p == NULL)
        return -ENOMEM;
    if (*p == '\0') {
        free(p);
        return -ENOENT;
    }
    for (s = p + 1;; s++) {
        char c = *s;

        if (c != '/' && c != '\0')
            continue;
        if (s[-1] != '/') {
            *s = '\0';
            if (mkdir(p, 0777) < 0 && !is_dir(p)) {
                rc = errno == EEXIST ? -ENOTDIR : -errno;
                break;
            }
            *s = c;
        }
        if (c == '\0')
            break;
    }
    free(p);
    return rc;
}

int
ss_io_dir_open(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    return fd < 0 ? -errno : fd;
}

int
ss_io_dir_sync(int dirfd)
{
    return fsync(dirfd) < 0 ? -errno : 0;
}

/* ---- durable files ---- */

static const char RAND_CHARS[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* out = .NAME.XXXXXXXX.tmp, the random part drawn anew. */
static void
draw_tmp_name(char *out, const char *name, size_t n)
{
    unsigned char r[RAND_LEN];
    char *p = out;

    arc4random_buf(r, sizeof(r));
    *p++ = '.';
    memcpy(p, name, n);
    p += n;
    *p++ = '.';
    for (size_t j = 0; j < RAND_LEN; j++)
        *p++ = RAND_CHARS[r[j] % (sizeof(RAND_CHARS) - 1)];
    memcpy(p, ".tmp", 5);
}

int
ss_io_tmp_open(struct ss_io_tmp *t, int dirfd, const char *name)
{
    size_t n = strlen(name);

    t->dirfd = dirfd;
    t->fd = -1;
    t->synced = t->placed = 0;
    t->name[0] = '\0';
    if (n == 0 || strchr(name, '/') != NULL)
        return -EINVAL;
    if (n + TMP_EXTRA >= sizeof(t->name))
        return -ENAMETOOLONG;
    /* O_EXCL refuses any name that exists, a link included; a name taken
     * (by chance, or planted) only means another draw. */
    for (int i = 0; i < TMP_TRIES; i++) {
        draw_tmp_name(t->name, name, n);
        t->fd =
            openat(dirfd, t->name,
                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (t->fd >= 0)
            return 0;
        if (errno != EEXIST)
            break;
    }
    t->name[0] = '\0';
    return -errno;
}

int
ss_io_tmp_mkdir(int dirfd, const char *name, char tmp[SS_IO_TMP_MAX])
{
    size_t n = strlen(name);

    tmp[0] = '\0';
    if (n == 0 || strchr(name, '/') != NULL)
        return -EINVAL;
    if (n + TMP_EXTRA >= SS_IO_TMP_MAX)
        return -ENAMETOOLONG;
    for (int i = 0; i < TMP_TRIES; i++) {
        draw_tmp_name(tmp, name, n);
        if (mkdirat(dirfd, tmp, 0777) == 0)
            return 0;
        if (errno != EEXIST)
            break;
    }
    tmp[0] = '\0';
    return -errno;
}

int
ss_io_tmp_sync(struct ss_io_tmp *t)
{
    if (fsync(t->fd) < 0)
        return -errno;
    t->synced = 1;
    return 0;
}

int
ss_io_tmp_commit(struct ss_io_tmp *t, const char *name)
{
    int rc;

    if (!t->synced && (rc = ss_io_tmp_sync(t)) < 0)
        return rc;
    if (renameat(t->dirfd, t->name, t->dirfd, name) < 0)
        return -errno;
    t->placed = 1;
    return ss_io_dir_sync(t->dirfd);
}

void
ss_io_tmp_close(struct ss_io_tmp *t)
{
    if (t->fd >= 0)
        close(t->fd);
    if (t->name[0] != '\0' && !t->placed)
        unlinkat(t->dirfd, t->name, 0);
    t->fd = -1;
    t->name[0] = '\0';
}

int
ss_io_write_atomic_at(int dirfd, const char *name, const void *p, size_t n)
{
    struct ss_io_tmp t;
    int rc;

    if ((rc = ss_io_tmp_open(&t, dirfd, name)) == 0 &&
        (rc = ss_io_write_all(t.fd, p, n)) == 0)
        rc = ss_io_tmp_commit(&t, name);
    ss_io_tmp_close(&t);
    return rc;
}

int
ss_io_write_atomic(const char *dir, const char *name, const void *p, size_t n)
{
    int dirfd = ss_io_dir_open(dir), rc;

    if (dirfd < 0)
        return dirfd;
    rc = ss_io_write_atomic_at(dirfd, name, p, n);
    close(dirfd);
    return rc;
}

size_t
ss_io_tmp_final(const char *name, const char **final)
{
    size_t n = strlen(name);
    const char *r;

    if (n <= TMP_EXTRA || name[0] != '.' || strcmp(name + n - 4, ".tmp") != 0)
        return 0;
    r = name + n - 4 - RAND_LEN;
    if (r[-1] != '.' || strspn(r, RAND_CHARS) != RAND_LEN)
        return 0;
    *final = name + 1;
    return n - TMP_EXTRA;
}

/* ---- removing ---- */

void
ss_io_remove(int dirfd, const char *name)
{
    struct dirent *e;
    DIR *d;
    int fd;

    if (unlinkat(dirfd, name, 0) == 0 || (errno != EISDIR && errno != EPERM))
        return;
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    if ((d = fdopendir(fd)) == NULL) {
        close(fd);
        return;
    }
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(fd, e->d_name, 0);
    closedir(d);
    unlinkat(dirfd, name, AT_REMOVEDIR);
}

int
ss_io_tmp_clean(int dirfd,
                int (*ours)(const char *final, size_t n, const void *ctx),
                const void *ctx)
{
    int fd = dup(dirfd);
    struct dirent *e;
    const char *final;
    size_t n;
    DIR *d;

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        int rc = -errno;

        if (fd >= 0)
            close(fd);
        return rc;
    }
    rewinddir(d); /* the dup shares its offset with earlier listings */
    while ((e = readdir(d)) != NULL)
        if ((n = ss_io_tmp_final(e->d_name, &final)) > 0 &&
            (ours == NULL || ours(final, n, ctx)))
            ss_io_remove(dirfd, e->d_name);
    closedir(d);
    return 0;
}

/* ---- test-only crash points ---- */

#define CRASH_NAME(id, name) name,
static const char *const crash_names[] = {SS_IO_CRASH_POINTS(CRASH_NAME)};
#undef CRASH_NAME

int
ss_io_test_crash_due(enum ss_io_crash point)
{
    static unsigned long passes;
    const char *at = getenv("SSTREAM_TEST_CRASH_AT");
    const char *name = crash_names[point];
    size_t n = strlen(name);

    if (at == NULL || strncmp(at, name, n) != 0 || at[n] != ':')
        return 0;
    return ++passes == strtoul(at + n + 1, NULL, 10);
}

void
ss_io_test_crash(enum ss_io_crash point)
{
    if (ss_io_test_crash_due(point))
        raise(SIGKILL);
}
