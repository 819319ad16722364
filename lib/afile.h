/* afile.h - small files replaced atomically and durably.
 *
 * A file is written whole to a hidden temporary name beside it, fsync()ed,
 * renamed over the old one and its folder fsync()ed: after a crash a
 * reader finds the old contents or the new, never a mixture, and once the
 * call has returned the new contents survive a power cut. For the
 * commit records of the write-ahead log (lib/wal.c); lib/ckpt.c does the
 * same for its snapshots.
 *
 * Owns nothing: the caller's bytes are only read.
 */
#ifndef SS_AFILE_H
#define SS_AFILE_H

#include <stddef.h>

/* Replace dir/name with p[0..n); 0 or a negative errno code. */
int ss_afile_write(const char *dir, const char *name, const void *p, size_t n);
/* fsync() the folder 'dir', so that a rename or unlink in it lasts. */
int ss_afile_sync_dir(const char *dir);

#endif
