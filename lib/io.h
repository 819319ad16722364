/* io.h - whole writes and reads on file descriptors, retried on EINTR.
 * Owns nothing: the caller's buffers stay the caller's.
 */
#ifndef SS_IO_H
#define SS_IO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all n bytes; 0, or a negative errno code (-EPIPE: reader gone). */
int ss_io_write_all(int fd, const void *p, size_t n);
/* One read(2); bytes read, 0 at EOF, or a negative errno code. */
ssize_t ss_io_read(int fd, void *p, size_t n);
/* Read the whole file at 'path' into *out (appended); 0 or -errno. */
struct ss_buf;
int ss_io_slurp(const char *path, struct ss_buf *out);

#endif
