/* io.c - whole writes and reads on file descriptors, retried on EINTR. */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
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
