/* bytes.h - the byte encodings of frames, checkpoints and the WAL:
 * fixed-width little-endian integers and LEB128 varints (man/sstream.5).
 * Written byte by byte, so nothing depends on the host's byte order or
 * alignment. Inline: the frame writer calls them once per record.
 * Owns nothing: the caller's buffers stay the caller's.
 */
#ifndef SS_BYTES_H
#define SS_BYTES_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SS_BYTES_VARINT_MAX 10 /* bytes of the longest 64-bit varint */

/* The low n bytes of v into p[0..n), least significant first. */
static inline void
ss_bytes_put_le(char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (char)(v >> (8 * i));
}

static inline uint64_t
ss_bytes_get_le(const char *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | (unsigned char)p[i];
    return v;
}

/* v as a varint at p (room for SS_BYTES_VARINT_MAX); bytes written. */
static inline size_t
ss_bytes_put_varint(char *p, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        p[n++] = (char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (char)v;
    return n;
}

/* Read a varint from *p, not past end, and advance *p: 0, or -EBADMSG when the
 * bytes run out or the varint is longer than 64 bits can hold (more than
 * 10 bytes, or a 10th byte over 1: man/sstream.5), so that a varint that
 * passed here never makes ss_frame_varint_get() shift past 63 bits. */
static inline int
ss_bytes_get_varint(const char **p, const char *end, uint64_t *v)
{
    const unsigned char *q = (const unsigned char *)*p;

    *v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (q >= (const unsigned char *)end || (shift == 63 && *q > 1))
            return -EBADMSG;
        *v |= (uint64_t)(*q & 0x7f) << shift;
        if (!(*q++ & 0x80)) {
            *p = (const char *)q;
            return 0;
        }
    }
    return -EBADMSG;
}

/* v as a varint on the end of b; 0 or -ENOMEM. */
static inline int
ss_bytes_append_varint(struct ss_buf *b, uint64_t v)
{
    char tmp[SS_BYTES_VARINT_MAX];

    return ss_buf_append(b, tmp, ss_bytes_put_varint(tmp, v));
}

/* v as n little-endian bytes on the end of b; 0 or -ENOMEM. */
static inline int
ss_bytes_append_le(struct ss_buf *b, uint64_t v, int n)
{
    char tmp[8];

    ss_bytes_put_le(tmp, v, n);
    return ss_buf_append(b, tmp, (size_t)n);
}

#endif
