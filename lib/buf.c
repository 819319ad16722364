/* buf.c - growable byte buffer: reserve, write in place, commit. */
#include "buf.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
ss_buf_reserve(struct ss_buf *b, size_t extra)
{
    size_t want, cap;
    char *p;

    /* data + len must be a pointer even for extra == 0: NULL + 0 is
     * undefined (clang's UBSan stops there). */
    if (b->cap - b->len >= extra && b->data != NULL)
        return 0;
    if (extra > (size_t)-1 / 2 - b->len)
        return -ENOMEM;
    want = b->len + extra;
    cap = b->cap ? b->cap : 256;
    while (cap < want)
        cap *= 2;
    if ((p = realloc(b->data, cap)) == NULL)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

void
ss_buf_commit(struct ss_buf *b, size_t n)
{
    assert(n <= b->cap - b->len);
    b->len += n;
}

int
ss_buf_append(struct ss_buf *b, const void *p, size_t n)
{
    int rc;

    if (n == 0)
        return 0;
    if ((rc = ss_buf_reserve(b, n)) < 0)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int
ss_buf_putc(struct ss_buf *b, char c)
{
    int rc;

    if (b->len == b->cap && (rc = ss_buf_reserve(b, 1)) < 0)
        return rc;
    b->data[b->len++] = c;
    return 0;
}

int
ss_buf_printf(struct ss_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((rc = ss_buf_reserve(b, (size_t)n + 1)) < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void
ss_buf_consume(struct ss_buf *b, size_t n)
{
    assert(n <= b->len);
    if (n < b->len)
        memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void
ss_buf_reset(struct ss_buf *b)
{
    b->len = 0;
}

char *
ss_buf_detach(struct ss_buf *b, size_t *len)
{
    char *p = b->data;

    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void
ss_buf_release(struct ss_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
