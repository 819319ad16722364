/* json_scan.c - JSON objects validated and indexed in place. The grammar
 * is RFC 8259's; where Jansson is stricter or looser, Jansson's rules
 * (load.c, utf.c in 2.14) are followed, or the text is left to it. */
#include "json_scan.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct scan {
    const char *p, *end;
    int depth;
};

static void
ws(struct scan *s)
{
    while (s->p < s->end &&
           (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int
hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = (unsigned char)p[i], d;

        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

/* A backslash escape at s->p (after the '\'); *nul set by \u0000. */
static int
escape(struct scan *s, int *nul)
{
    unsigned u, lo;

    if (s->p >= s->end)
        return -1;
    if (strchr("\"\\/bfnrt", *s->p) != NULL && *s->p != '\0') {
        s->p++;
        return 0;
    }
    if (*s->p != 'u' || s->end - s->p < 5 || hex4(s->p + 1, &u) < 0)
        return -1;
    s->p += 5;
    if (u == 0)
        *nul = 1;
    if (u >= 0xdc00 && u <= 0xdfff)
        return -1; /* a low surrogate alone */
    if (u < 0xd800 || u > 0xdbff)
        return 0;
    if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
        hex4(s->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
        return -1; /* a high surrogate not followed by a low one */
    s->p += 6;
    return 0;
}

/* A string at s->p (at its '"'): 0, *esc set when it holds an escape and
 * *nul when one is \u0000; -1 when it is not one Jansson takes. */
static int
string(struct scan *s, int *esc, int *nul)
{
    const unsigned char *p = (const unsigned char *)s->p + 1;
    const unsigned char *end = (const unsigned char *)s->end;
    size_t n;

    *esc = *nul = 0;
    for (;;) {
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p == end || *p < 0x20)
            return -1;
        if (*p == '"')
            break;
        if (*p == '\\') {
            s->p = (const char *)p + 1;
            *esc = 1;
            if (escape(s, nul) < 0)
                return -1;
            p = (const unsigned char *)s->p;
        } else if ((n = ss_json_utf8_len(p, (size_t)(end - p))) == 0)
            return -1;
        else
            p += n;
    }
    s->p = (const char *)p + 1;
    return 0;
}

static int
digits(struct scan *s)
{
    const char *start = s->p;

    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return (int)(s->p - start > 400 ? 400 : s->p - start);
}

/* A number: 0, or -1 when it is malformed or one that Jansson might
 * refuse as out of range (it fails a whole text on "too big integer" and
 * "real number overflow"): an integer past 18 digits, a real with an
 * exponent that strtod() finds too large, or a long one. */
static int
number(struct scan *s)
{
    const char *start = s->p;
    int ndig, real = 0;

    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++, ndig = 1;
    else if ((ndig = digits(s)) == 0)
        return -1;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (digits(s) == 0)
            return -1;
        real = 1;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        char text[64];
        size_t len;
        double d;

        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (digits(s) == 0 || (len = (size_t)(s->p - start)) >= sizeof(text))
            return -1;
        memcpy(text, start, len);
        text[len] = '\0';
        errno = 0;
        d = strtod(text, NULL);
        return errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL) ? -1 : 0;
    }
    return ndig > (real ? 300 : 18) ? -1 : 0;
}

static int
literal(struct scan *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return -1;
    s->p += n;
    return 0;
}

static int value(struct scan *s);

static int
array(struct scan *s)
{
    int rc;

    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (;;) {
        if ((rc = value(s)) < 0)
            return rc;
        ws(s);
        if (s->p == s->end)
            return -1;
        if (*s->p++ == ']')
            return 0;
        if (s->p[-1] != ',')
            return -1;
        ws(s);
    }
}

static int object(struct scan *s, struct ss_json_index *ix);

static int
value(struct scan *s)
{
    int esc, nul, rc;

    if (s->p == s->end)
        return -1;
    switch (*s->p) {
    case '"':
        return string(s, &esc, &nul);
    case '{':
    case '[':
        if (++s->depth > SS_JSON_SCAN_DEPTH)
            return -1;
        rc = *s->p == '{' ? object(s, NULL) : array(s);
        s->depth--;
        return rc;
    case 't':
        return literal(s, "true", 4);
    case 'f':
        return literal(s, "false", 5);
    case 'n':
        return literal(s, "null", 4);
    default:
        return number(s);
    }
}

static int
push(struct ss_json_index *ix, const struct ss_json_member *m)
{
    if (ix->n == ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 16;
        struct ss_json_member *p = realloc(ix->m, cap * sizeof(*p));

        if (p == NULL)
            return -ENOMEM;
        ix->m = p;
        ix->cap = cap;
    }
    ix->m[ix->n++] = *m;
    ix->kesc |= m->kesc;
    return 0;
}

/* An object at s->p (at its '{'), its members into 'ix' unless NULL: 0,
 * -1 (not decided here), -ENOMEM. */
static int
object(struct scan *s, struct ss_json_index *ix)
{
    struct ss_json_member m;
    int nul, rc;

    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        if (s->p == s->end || *s->p != '"')
            return -1;
        m.key = s->p + 1;
        if (string(s, &m.kesc, &nul) < 0 || nul)
            return -1; /* Jansson: "NUL byte in object key not supported" */
        m.klen = (size_t)(s->p - 1 - m.key);
        ws(s);
        if (s->p == s->end || *s->p++ != ':')
            return -1;
        ws(s);
        m.val = s->p;
        if ((rc = value(s)) < 0)
            return rc;
        m.vlen = (size_t)(s->p - m.val);
        if (ix != NULL && (rc = push(ix, &m)) < 0)
            return rc;
        ws(s);
        if (s->p == s->end)
            return -1;
        if (*s->p++ == '}')
            return 0;
        if (s->p[-1] != ',')
            return -1;
        ws(s);
    }
}

static int
index_object(struct ss_json_index *ix, const char *p, size_t n)
{
    struct scan s = {p, p + n, 1};
    int rc;

    ix->n = 0;
    ix->kesc = 0;
    ws(&s);
    if (s.p == s.end || *s.p != '{')
        return 0;
    if ((rc = object(&s, ix)) < 0)
        return rc == -ENOMEM ? rc : 0;
    ws(&s);
    return s.p == s.end ? 1 : 0;
}

int
ss_json_scan(struct ss_json_obj *o, const char *p, size_t n)
{
    return index_object(&o->top, p, n);
}

/* ---- reading members ---- */

static void
put_utf8(char **q, unsigned u)
{
    unsigned char *d = (unsigned char *)*q;

    if (u < 0x80)
        *d++ = (unsigned char)u;
    else if (u < 0x800) {
        *d++ = (unsigned char)(0xc0 | u >> 6);
        *d++ = (unsigned char)(0x80 | (u & 0x3f));
    } else if (u < 0x10000) {
        *d++ = (unsigned char)(0xe0 | u >> 12);
        *d++ = (unsigned char)(0x80 | (u >> 6 & 0x3f));
        *d++ = (unsigned char)(0x80 | (u & 0x3f));
    } else {
        *d++ = (unsigned char)(0xf0 | u >> 18);
        *d++ = (unsigned char)(0x80 | (u >> 12 & 0x3f));
        *d++ = (unsigned char)(0x80 | (u >> 6 & 0x3f));
        *d++ = (unsigned char)(0x80 | (u & 0x3f));
    }
    *q = (char *)d;
}

/* The bytes of a validated string's inside p[0..n) into b (after
 * ss_buf_reset()): a decoded text is never longer than its escaped one,
 * so one reserve is enough. */
static int
unescape(struct ss_buf *b, const char *p, size_t n)
{
    const char *end = p + n;
    char *q;
    unsigned u, lo;

    ss_buf_reset(b);
    if (ss_buf_reserve(b, n + 1) < 0)
        return -ENOMEM;
    q = b->data;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t plain = (size_t)((bs != NULL ? bs : end) - p);

        memcpy(q, p, plain);
        q += plain;
        if (bs == NULL)
            break;
        p = bs + 2;
        switch (bs[1]) {
        case 'b':
            *q++ = '\b';
            break;
        case 'f':
            *q++ = '\f';
            break;
        case 'n':
            *q++ = '\n';
            break;
        case 'r':
            *q++ = '\r';
            break;
        case 't':
            *q++ = '\t';
            break;
        case 'u':
            hex4(p, &u);
            p += 4;
            if (u >= 0xd800 && u <= 0xdbff) {
                hex4(p + 2, &lo);
                p += 6;
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            }
            put_utf8(&q, u);
            break;
        default: /* " \ / */
            *q++ = bs[1];
            break;
        }
    }
    ss_buf_commit(b, (size_t)(q - b->data));
    return 0;
}

/* Is member m's key the bytes name[0..len)? */
static int
key_is(struct ss_json_obj *o, const struct ss_json_member *m, const char *name,
       size_t len)
{
    if (!m->kesc)
        return m->klen == len && memcmp(m->key, name, len) == 0;
    if (m->klen < len || unescape(&o->key, m->key, m->klen) < 0)
        return 0; /* an escaped key is never shorter once decoded */
    return o->key.len == len && memcmp(o->key.data, name, len) == 0;
}

/* The last member named name[0..len), as Jansson keeps the last value of
 * a key given twice; NULL when none (or no memory to decode a key). */
static const struct ss_json_member *
find(struct ss_json_obj *o, const struct ss_json_index *ix, const char *name,
     size_t len)
{
    for (size_t i = ix->n; i-- > 0;)
        if (key_is(o, &ix->m[i], name, len))
            return &ix->m[i];
    return NULL;
}

static int
raw_key_eq(const struct ss_json_member *a, const struct ss_json_member *b)
{
    return a->klen == b->klen && memcmp(a->key, b->key, a->klen) == 0;
}

/* Member 'num' (from 1) in the order of first appearance, with the value
 * of its last; keys without escapes only (raw text then compares as the
 * keys do). */
static const struct ss_json_member *
nth(const struct ss_json_index *ix, size_t num)
{
    size_t i, j, distinct = 0;

    for (i = 0; i < ix->n; i++) {
        for (j = 0; j < i && !raw_key_eq(&ix->m[i], &ix->m[j]); j++)
            ;
        if (j == i && ++distinct == num)
            break;
    }
    if (i == ix->n)
        return NULL;
    for (j = ix->n; --j > i && !raw_key_eq(&ix->m[i], &ix->m[j]);)
        ;
    return &ix->m[j];
}

/* A scalar value as `jq -r` prints it, as lib/fields.c prints Jansson's. */
static int
scalar(const struct ss_json_member *m, struct ss_buf *scratch, const char **out,
       size_t *outlen)
{
    const char *v = m->val;
    size_t n = m->vlen;
    int rc;

    switch (*v) {
    case '{':
    case '[':
        return -EAGAIN;
    case '"':
        if (memchr(v + 1, '\\', n - 2) == NULL) {
            *out = v + 1;
            *outlen = n - 2;
            return 1;
        }
        if ((rc = unescape(scratch, v + 1, n - 2)) < 0)
            return rc;
        break;
    case 't':
    case 'f':
    case 'n':
        *out = v;
        *outlen = n;
        return 1;
    default:
        if (memchr(v, '.', n) != NULL || memchr(v, 'e', n) != NULL ||
            memchr(v, 'E', n) != NULL) {
            char text[512];

            if (n >= sizeof(text))
                return -EAGAIN;
            memcpy(text, v, n);
            text[n] = '\0';
            ss_buf_reset(scratch);
            if ((rc = ss_json_real(scratch, strtod(text, NULL))) < 0)
                return rc;
            break;
        }
        /* an integer prints as it is written (no '+', no leading 0),
         * but for -0, which Jansson reads as the integer 0 */
        if (n == 2 && v[0] == '-' && v[1] == '0') {
            *out = "0";
            *outlen = 1;
        } else {
            *out = v;
            *outlen = n;
        }
        return 1;
    }
    *out = scratch->data != NULL ? scratch->data : "";
    *outlen = scratch->len;
    return 1;
}

int
ss_json_scan_get(struct ss_json_obj *o, const char *name, size_t num,
                 struct ss_buf *scratch, const char **out, size_t *outlen)
{
    const struct ss_json_index *ix = &o->top;
    const struct ss_json_member *m;
    const char *dot, *val;
    size_t vlen;
    int rc;

    if (num > 0) {
        if (ix->kesc)
            return -EAGAIN;
        m = nth(ix, num);
        return m != NULL ? scalar(m, scratch, out, outlen) : 0;
    }
    for (;;) {
        if ((m = find(o, ix, name, strlen(name))) != NULL)
            return scalar(m, scratch, out, outlen);
        if ((dot = strchr(name, '.')) == NULL ||
            (m = find(o, ix, name, (size_t)(dot - name))) == NULL ||
            *m->val != '{')
            return 0;
        val = m->val; /* m is in ix, which the scan below may overwrite */
        vlen = m->vlen;
        if ((rc = index_object(&o->sub, val, vlen)) <= 0)
            return rc < 0 ? rc : -EAGAIN;
        ix = &o->sub;
        name = dot + 1;
    }
}

void
ss_json_scan_release(struct ss_json_obj *o)
{
    free(o->top.m);
    free(o->sub.m);
    ss_buf_release(&o->key);
    memset(o, 0, sizeof(*o));
}
