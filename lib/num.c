/* num.c - parsing and printing the numbers in records. */
#include "num.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The grammar of man/sstream.5: [+-]? (D+ (. D*)? | . D+) ([eE] [+-]? D+)?
 * Checked by hand because strtod() also takes spaces, hex, inf and nan. */
static int
decimal_syntax(const char *p, size_t n)
{
    size_t i = 0, digits = 0;

    if (i < n && (p[i] == '+' || p[i] == '-'))
        i++;
    while (i < n && is_digit(p[i]))
        i++, digits++;
    if (i < n && p[i] == '.') {
        i++;
        while (i < n && is_digit(p[i]))
            i++, digits++;
    }
    if (digits == 0)
        return 0;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        size_t exp = 0;

        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        while (i < n && is_digit(p[i]))
            i++, exp++;
        if (exp == 0)
            return 0;
    }
    return i == n;
}

static int
parse_int(const char *p, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0, lim;

    if (n > 0 && (p[0] == '+' || p[0] == '-'))
        neg = p[i++] == '-';
    if (i == n)
        return 0;
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (!is_digit(p[i]))
            return 0;
        if (v > (lim - (uint64_t)(p[i] - '0')) / 10)
            return -1; /* an integer, but too big: a double */
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

int
ss_num_parse(const char *p, size_t n, struct ss_num *out)
{
    char tmp[128];
    char *end;
    int rc = parse_int(p, n, &out->i);

    if (rc > 0) {
        out->is_int = 1;
        out->d = (double)out->i;
        return 0;
    }
    if (n >= sizeof(tmp) || !decimal_syntax(p, n))
        return -EINVAL;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    out->d = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(out->d))
        return -EINVAL;
    out->is_int = 0;
    out->i = 0;
    return 0;
}

size_t
ss_num_format_double(double d, char *out)
{
    int len = 0;

    if (d == 0)
        d = 0; /* -0 prints as 0 */
    /* A whole number prints whole: the shortest %g of 10 is "1e+01". */
    if (d == floor(d) && fabs(d) < 1e15)
        return (size_t)snprintf(out, SS_NUM_TEXT_MAX, "%.0f", d);
    for (int prec = 1; prec <= 17; prec++) {
        len = snprintf(out, SS_NUM_TEXT_MAX, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    return (size_t)len;
}

size_t
ss_num_format_java(double d, char *out)
{
    char e[SS_NUM_TEXT_MAX], digits[20], *p = out;
    int prec, exp, nd = 0;

    if (isnan(d))
        return (size_t)snprintf(out, SS_NUM_TEXT_MAX, "NaN");
    if (isinf(d))
        return (size_t)snprintf(out, SS_NUM_TEXT_MAX, "%sInfinity",
                                d < 0 ? "-" : "");
    if (signbit(d))
        *p++ = '-', d = -d;
    if (d == 0)
        return (size_t)(p - out) + (size_t)snprintf(p, 4, "0.0");
    /* the shortest digits that read back: d.ddde[+-]XX */
    for (prec = 0; prec <= 16; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec, d);
        if (strtod(e, NULL) == d)
            break;
    }
    for (const char *q = e; *q != 'e'; q++)
        if (is_digit(*q))
            digits[nd++] = *q;
    exp = atoi(strchr(e, 'e') + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (exp >= -3 && exp < 7) { /* plain: 0.00123, 1234567.0 */
        if (exp < 0) {
            p += sprintf(p, "0.");
            for (int i = exp + 1; i < 0; i++)
                *p++ = '0';
            memcpy(p, digits, (size_t)nd);
            p += nd;
        } else {
            for (int i = 0; i <= exp; i++)
                *p++ = i < nd ? digits[i] : '0';
            *p++ = '.';
            if (nd > exp + 1) {
                memcpy(p, digits + exp + 1, (size_t)(nd - exp - 1));
                p += nd - exp - 1;
            } else {
                *p++ = '0';
            }
        }
        *p = '\0';
        return (size_t)(p - out);
    }
    *p++ = digits[0];
    *p++ = '.';
    if (nd > 1) {
        memcpy(p, digits + 1, (size_t)(nd - 1));
        p += nd - 1;
    } else {
        *p++ = '0';
    }
    p += sprintf(p, "E%d", exp);
    return (size_t)(p - out);
}

int
ss_num_is_float_text(const char *p, size_t n, double *d)
{
    struct ss_num x;

    if (memchr(p, '.', n) == NULL && memchr(p, 'e', n) == NULL &&
        memchr(p, 'E', n) == NULL)
        return 0;
    if (ss_num_parse(p, n, &x) < 0 || x.is_int)
        return 0;
    *d = x.d;
    return 1;
}

/* An integer's digits, as "%lld" prints them: a window prints a count or
 * a sum for each of its keys every slide, and snprintf()'s format parsing
 * costs more than the digits. */
static size_t
format_int(int64_t i, char *out)
{
    char d[20], *p = d + sizeof(d);
    uint64_t v = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    size_t n = 0;

    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (i < 0)
        out[n++] = '-';
    memcpy(out + n, p, (size_t)(d + sizeof(d) - p));
    n += (size_t)(d + sizeof(d) - p);
    out[n] = '\0';
    return n;
}

size_t
ss_num_format(const struct ss_num *x, char *out)
{
    if (x->is_int)
        return format_int(x->i, out);
    return ss_num_format_double(x->d, out);
}

double
ss_num_double(const struct ss_num *x)
{
    return x->is_int ? (double)x->i : x->d;
}

int
ss_num_cmp(const struct ss_num *a, const struct ss_num *b)
{
    double x, y;

    if (a->is_int && b->is_int)
        return (a->i > b->i) - (a->i < b->i);
    x = ss_num_double(a);
    y = ss_num_double(b);
    return (x > y) - (x < y);
}

int
ss_num_add(struct ss_num *a, const struct ss_num *b, int negate)
{
    int64_t r;

    if (a->is_int && b->is_int) {
        if (negate ? __builtin_sub_overflow(a->i, b->i, &r)
                   : __builtin_add_overflow(a->i, b->i, &r))
            return -ERANGE;
        a->i = r;
        a->d = (double)r;
        return 0;
    }
    a->d = negate ? ss_num_double(a) - ss_num_double(b)
                  : ss_num_double(a) + ss_num_double(b);
    a->is_int = 0;
    return 0;
}
