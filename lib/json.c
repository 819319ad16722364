/* json.c - JSON strings from any bytes (RFC 8259, section 7). */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

size_t
ss_json_utf8_len(const unsigned char *p, size_t n)
{
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;

    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        len = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        len = 4;
    else
        return 0;
    if (p[0] == 0xe0)
        lo = 0xa0;
    else if (p[0] == 0xed)
        hi = 0x9f;
    else if (p[0] == 0xf0)
        lo = 0x90;
    else if (p[0] == 0xf4)
        hi = 0x8f;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* The escape of an ASCII byte, or NULL when it goes as it is. */
static const char *
ascii_escape(unsigned char c, char *tmp)
{
    static const char hex[] = "0123456789abcdef";

    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    }
    if (c >= 0x20 && c != 0x7f)
        return NULL;
    tmp[0] = '\\';
    tmp[1] = 'u';
    tmp[2] = '0';
    tmp[3] = '0';
    tmp[4] = hex[c >> 4];
    tmp[5] = hex[c & 15];
    tmp[6] = '\0';
    return tmp;
}

int
ss_json_string(struct ss_buf *b, const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0, run;
    char tmp[8];

    if (ss_buf_putc(b, '"') < 0)
        return -ENOMEM;
    while (i < n) {
        const char *esc;
        size_t len;

        /* the common case: a run of bytes that go as they are */
        for (run = i; run < n && s[run] >= 0x20 && s[run] < 0x7f &&
                      s[run] != '"' && s[run] != '\\';
             run++)
            ;
        if (run > i && ss_buf_append(b, p + i, run - i) < 0)
            return -ENOMEM;
        if ((i = run) == n)
            break;
        if (s[i] < 0x80) {
            esc = ascii_escape(s[i], tmp);
            if (ss_buf_append(b, esc, esc[1] == 'u' ? 6 : 2) < 0)
                return -ENOMEM;
            i++;
        } else if ((len = ss_json_utf8_len(s + i, n - i)) > 0) {
            if (ss_buf_append(b, p + i, len) < 0)
                return -ENOMEM;
            i += len;
        } else {
            if (ss_buf_append(b, "\\ufffd", 6) < 0)
                return -ENOMEM;
            i++;
        }
    }
    return ss_buf_putc(b, '"') < 0 ? -ENOMEM : 0;
}

int
ss_json_real(struct ss_buf *b, double d)
{
    char text[40];
    int len = 0;

    if (!isfinite(d))
        return ss_buf_append(b, "null", 4);
    for (int prec = 1; prec <= 17; prec++) {
        len = snprintf(text, sizeof(text), "%.*g", prec, d);
        if (strtod(text, NULL) == d)
            break;
    }
    return ss_buf_append(b, text, (size_t)len);
}
