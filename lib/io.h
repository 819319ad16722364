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
/* Ask for a pipe of n bytes at fd, which is either end of it: through
 * Linux's default 64 KiB a stream of large writes takes many wake-ups of
 * each side. Where that is refused (not a pipe, over the limit) nothing
 * changes but speed. */
void ss_io_widen_pipe(int fd, size_t n);
/* Replace dir/name with p[0..n) so that a crash leaves the old file or
 * the new one, never half: a temp file (dir/.name.tmp), fsync, rename,
 * fsync of the folder. 0 or -errno. */
int ss_io_write_atomic(const char *dir, const char *name, const void *p,
                       size_t n);
/* Read the whole file at 'path' into *out (appended); 0 or -errno. */
struct ss_buf;
int ss_io_slurp(const char *path, struct ss_buf *out);

#endif
