/* io.c - whole writes and reads on file descriptors, retried on EINTR. */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "buf.h"

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
ss_io_slurp(const char *path, struct ss_buf *out)
{
    int fd, rc = 0;
    ssize_t r;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    for (;;) {
        if ((rc = ss_buf_reserve(out, 1 << 16)) < 0)
            break;
        r = ss_io_read(fd, out->data + out->len, out->cap - out->len);
        if (r <= 0) {
            rc = (int)r;
            break;
        }
        ss_buf_commit(out, (size_t)r);
    }
    close(fd);
    return rc;
}

static int
fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC), rc = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

int
ss_io_write_atomic(const char *dir, const char *name, const void *p, size_t n)
{
    char tmp[4096], path[4096];
    int fd, rc;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >=
            sizeof(tmp) ||
        (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
            sizeof(path))
        return -ENAMETOOLONG;
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0)
        return -errno;
    rc = ss_io_write_all(fd, p, n);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc == 0)
        rc = fsync_path(dir, O_RDONLY | O_DIRECTORY);
    if (rc < 0)
        unlink(tmp);
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
