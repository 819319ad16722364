/* buf.h - growable byte buffer.
 * Owns: one heap block, data[0..cap). The struct belongs to the caller;
 * the bytes belong to the buffer until ss_buf_release() frees them or
 * ss_buf_detach() hands them over (the caller then free()s them). A call
 * that may grow the buffer may move data: hold no pointer across one.
 */
#ifndef SS_BUF_H
#define SS_BUF_H

#include <stddef.h>

struct ss_buf { /* all zero is an empty buffer: struct ss_buf b = {0}; */
    char *data;
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
};

/* Room for 'extra' more bytes at data + len (a valid pointer even when
 * extra is 0); 0, or -ENOMEM and untouched. */
int ss_buf_reserve(struct ss_buf *b, size_t extra);
/* Count 'n' bytes written in place after ss_buf_reserve() as data. */
void ss_buf_commit(struct ss_buf *b, size_t n);
int ss_buf_append(struct ss_buf *b, const void *p, size_t n);

/* data + len, for walking the bytes in use: NULL for a buffer that never
 * held any, since NULL + 0 is undefined in C (clang's UBSan stops there). */
static inline char *
ss_buf_end(const struct ss_buf *b)
{
    return b->data != NULL ? b->data + b->len : NULL;
}

int ss_buf_putc(struct ss_buf *b, char c);
/* printf onto the end; 0 or -ENOMEM. */
int ss_buf_printf(struct ss_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drop the first 'n' bytes, moving the rest to the front. */
void ss_buf_consume(struct ss_buf *b, size_t n);
void ss_buf_reset(struct ss_buf *b); /* len = 0; memory kept for reuse */
char *ss_buf_detach(struct ss_buf *b, size_t *len);
void ss_buf_release(struct ss_buf *b);

#endif
