/* fields.c - CSV, TSV and JSON Lines rows into named fields. */
#include "fields.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* A CSV row whose quoted field never ends would grow without bound, one
 * line at a time: past this many bytes it is a reject. */
#define ROW_MAX ((size_t)4 << 20)

/* For the *why of a malformed row: a parser's own message. */
static _Thread_local char why_text[200];

int
ss_fields_format_parse(const char *s, enum ss_fields_format *fmt)
{
    if (strcmp(s, "lines") == 0)
        *fmt = SS_FIELDS_LINES;
    else if (strcmp(s, "tsv") == 0)
        *fmt = SS_FIELDS_TSV;
    else if (strcmp(s, "csv") == 0)
        *fmt = SS_FIELDS_CSV;
    else if (strcmp(s, "json") == 0)
        *fmt = SS_FIELDS_JSON;
    else
        return -EINVAL;
    return 0;
}

int
ss_fields_sel_parse(const char *s, struct ss_fields_sel *sel)
{
    size_t i = 0, num = 0;

    if (*s == '\0')
        return -EINVAL;
    sel->name = s;
    sel->num = 0;
    while (s[i] >= '0' && s[i] <= '9' && num < ((size_t)1 << 20))
        num = num * 10 + (size_t)(s[i++] - '0');
    if (s[i] == '\0' && num > 0)
        sel->num = num;
    return 0;
}

void
ss_fields_row_init(struct ss_fields_row *r, enum ss_fields_format fmt)
{
    memset(r, 0, sizeof(*r));
    r->fmt = fmt;
}

void
ss_fields_row_restart(struct ss_fields_row *r)
{
    r->lineno = 0;
    ss_buf_reset(&r->open);
    if (r->fixed_header)
        return;
    r->have_header = 0;
    r->nhead = 0;
    ss_buf_reset(&r->head);
}

/* ---- splitting a row into r->text and r->off ---- */

static int
add_field(struct ss_fields_row *r, size_t start)
{
    if (r->nf == r->fcap) {
        size_t cap = r->fcap ? r->fcap * 2 : 16;
        size_t *p = realloc(r->off, cap * 2 * sizeof(*p));

        if (p == NULL)
            return -ENOMEM;
        r->off = p;
        r->fcap = cap;
    }
    r->off[2 * r->nf] = start;
    r->off[2 * r->nf + 1] = r->text.len - start;
    r->nf++;
    return 0;
}

static int
split_tsv(struct ss_fields_row *r, const char *p, size_t n)
{
    const char *end = p + n, *tab;
    int rc;

    ss_buf_reset(&r->text);
    r->nf = 0;
    for (;;) {
        size_t start = r->text.len, len;

        tab = memchr(p, '\t', (size_t)(end - p));
        len = (size_t)((tab != NULL ? tab : end) - p);
        if ((rc = ss_buf_append(&r->text, p, len)) < 0 ||
            (rc = add_field(r, start)) < 0)
            return rc;
        if (tab == NULL)
            return 1;
        p = tab + 1;
    }
}

/* One RFC 4180 row: 1 whole, 0 when a quoted field is still open at the
 * end (its newline is data: the row goes on in the next line), -EINVAL
 * for text after a closing quote. A '"' inside an unquoted field is
 * taken as data, as most CSV readers do. */
static int
split_csv(struct ss_fields_row *r, const char *p, size_t n)
{
    size_t i = 0, start;
    int rc;

    ss_buf_reset(&r->text);
    r->nf = 0;
    for (;;) {
        start = r->text.len;
        if (i < n && p[i] == '"') {
            for (i++;; i++) {
                if (i == n)
                    return 0;
                if (p[i] == '"' && i + 1 < n && p[i + 1] == '"')
                    i++;
                else if (p[i] == '"')
                    break;
                if ((rc = ss_buf_putc(&r->text, p[i])) < 0)
                    return rc;
            }
            if (++i < n && p[i] != ',') {
                snprintf(why_text, sizeof(why_text),
                         "bad CSV quoting: text after the closing quote of "
                         "field %zu",
                         r->nf + 1);
                return -EINVAL;
            }
        } else {
            const char *c = memchr(p + i, ',', n - i);
            size_t len = (c != NULL ? (size_t)(c - p) : n) - i;

            if ((rc = ss_buf_append(&r->text, p + i, len)) < 0)
                return rc;
            i += len;
        }
        if ((rc = add_field(r, start)) < 0)
            return rc;
        if (i >= n)
            return 1;
        i++;          /* the comma */
        if (i == n) { /* a row that ends in a comma: an empty last field */
            start = r->text.len;
            return add_field(r, start) < 0 ? -ENOMEM : 1;
        }
    }
}

/* Field i of the row just split (text.data is NULL while every field so
 * far is empty). */
static const char *
field_at(const struct ss_fields_row *r, size_t i)
{
    return r->text.data != NULL ? r->text.data + r->off[2 * i] : "";
}

/* The fields of the first row are the names; kept NUL-ended. */
static int
take_header(struct ss_fields_row *r)
{
    int rc;

    ss_buf_reset(&r->head);
    if (r->nf > r->headcap) {
        size_t *p = realloc(r->head_off, r->nf * sizeof(*p));

        if (p == NULL)
            return -ENOMEM;
        r->head_off = p;
        r->headcap = r->nf;
    }
    for (size_t i = 0; i < r->nf; i++) {
        r->head_off[i] = r->head.len;
        if ((rc = ss_buf_append(&r->head, field_at(r, i), r->off[2 * i + 1])) <
                0 ||
            (rc = ss_buf_putc(&r->head, '\0')) < 0)
            return rc;
    }
    r->nhead = r->nf;
    r->have_header = 1;
    return 0;
}

int
ss_fields_row_names(struct ss_fields_row *r, const char *names,
                    const char **why)
{
    int rc;

    *why = why_text;
    rc = split_csv(r, names, strlen(names));
    if (rc == 0)
        snprintf(why_text, sizeof(why_text),
                 "bad CSV quoting: a quoted field is never closed");
    if (rc <= 0)
        return rc == 0 ? -EINVAL : rc;
    if ((rc = take_header(r)) < 0)
        return rc;
    r->fixed_header = 1;
    return 0;
}

/* {"name":"value",...} in header order. */
static int
to_json(struct ss_fields_row *r)
{
    struct ss_buf *o = &r->out;
    int rc = 0;

    ss_buf_reset(o);
    rc = ss_buf_putc(o, '{');
    for (size_t i = 0; i < r->nf && rc == 0; i++) {
        const char *name = r->head.data + r->head_off[i];

        if (i > 0)
            rc = ss_buf_putc(o, ',');
        if (rc == 0)
            rc = ss_json_string(o, name, strlen(name));
        if (rc == 0)
            rc = ss_buf_putc(o, ':');
        if (rc == 0)
            rc = ss_json_string(o, field_at(r, i), r->off[2 * i + 1]);
    }
    return rc == 0 ? ss_buf_putc(o, '}') : rc;
}

/* A CSV line: alone, or after the open row it continues. */
static int
split_csv_line(struct ss_fields_row *r, const char *p, size_t n)
{
    int rc;

    if (r->open.len == 0) {
        rc = split_csv(r, p, n);
        if (rc == 0 && n > ROW_MAX)
            rc = -E2BIG;
        if (rc == 0 && (ss_buf_append(&r->open, p, n) < 0))
            rc = -ENOMEM;
        return rc;
    }
    if (r->open.len + 1 + n > ROW_MAX)
        rc = -E2BIG;
    else if (ss_buf_putc(&r->open, '\n') < 0 ||
             ss_buf_append(&r->open, p, n) < 0)
        rc = -ENOMEM;
    else
        rc = split_csv(r, r->open.data, r->open.len);
    if (rc != 0) {
        r->line = r->open.data; /* the whole row, for the reject */
        r->linelen = r->open.len;
        if (rc < 0)
            r->open.len = 0; /* dropped; the next line starts anew */
    }
    return rc;
}

/* p[0..n) parsed by Jansson into *obj: 0, or -EINVAL (why_text says why:
 * Jansson's own message, also for what the scan left to it). */
static int
load_tree(void **obj, const char *p, size_t n)
{
    json_error_t err;

    json_decref(*obj);
    if ((*obj = json_loadb(p, n, JSON_ALLOW_NUL, &err)) == NULL) {
        snprintf(why_text, sizeof(why_text), "bad JSON at column %d: %s",
                 err.column, err.text);
        return -EINVAL;
    }
    if (!json_is_object((json_t *)*obj)) {
        json_decref(*obj);
        *obj = NULL;
        snprintf(why_text, sizeof(why_text), "not a JSON object");
        return -EINVAL;
    }
    return 0;
}

static int
read_json(struct ss_fields_row *r, const char *p, size_t n)
{
    int rc;

    json_decref(r->json);
    r->json = NULL;
    r->scanned = 0;
    if (!r->tree && (rc = ss_json_scan(&r->scan, p, n)) != 0) {
        r->scanned = rc == 1;
        return rc;
    }
    return (rc = load_tree(&r->json, p, n)) < 0 ? rc : 1;
}

int
ss_fields_row_read(struct ss_fields_row *r, const char *p, size_t n,
                   const char **why)
{
    int rc;

    r->lineno++;
    r->line = p;
    r->linelen = n;
    *why = why_text;
    switch (r->fmt) {
    case SS_FIELDS_LINES:
        return 1;
    case SS_FIELDS_JSON:
        return read_json(r, p, n);
    case SS_FIELDS_TSV:
        rc = split_tsv(r, p, n);
        break;
    case SS_FIELDS_CSV:
        rc = split_csv_line(r, p, n);
        if (rc == -E2BIG) {
            snprintf(why_text, sizeof(why_text),
                     "CSV row longer than %zu bytes (an unterminated "
                     "quoted field?)",
                     ROW_MAX);
            return -EINVAL;
        }
        break;
    default:
        return -EINVAL;
    }
    if (rc <= 0)
        return rc;
    r->open.len = 0;
    if (!r->have_header)
        return take_header(r);
    if (r->nf != r->nhead) {
        snprintf(why_text, sizeof(why_text),
                 "row has %zu field%s, the header %zu", r->nf,
                 r->nf == 1 ? "" : "s", r->nhead);
        return -EINVAL;
    }
    return (rc = to_json(r)) < 0 ? rc : 1;
}

int
ss_fields_row_eof(struct ss_fields_row *r, const char **why, const char **p,
                  size_t *n)
{
    if (r->open.len == 0)
        return 0;
    *p = r->open.data;
    *n = r->open.len;
    snprintf(why_text, sizeof(why_text),
             "bad CSV quoting: a quoted field is never closed");
    *why = why_text;
    r->open.len = 0; /* the bytes stay for the caller until the next call */
    return -EINVAL;
}

const char *
ss_fields_row_value(struct ss_fields_row *r, size_t *n)
{
    if (r->fmt == SS_FIELDS_TSV || r->fmt == SS_FIELDS_CSV) {
        *n = r->out.len;
        return r->out.data;
    }
    *n = r->linelen;
    return r->line;
}

/* ---- JSON fields ---- */

static int
put_value(json_t *v, struct ss_buf *b)
{
    char *text;
    int rc;

    switch (json_typeof(v)) {
    case JSON_STRING:
        return ss_buf_append(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: {
        char num[24];
        int len = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                           json_integer_value(v));

        return ss_buf_append(b, num, (size_t)len);
    }
    case JSON_REAL:
        return ss_json_real(b, json_real_value(v));
    case JSON_TRUE:
        return ss_buf_append(b, "true", 4);
    case JSON_FALSE:
        return ss_buf_append(b, "false", 5);
    case JSON_NULL:
        return ss_buf_append(b, "null", 4);
    default:
        break;
    }
    if ((text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
        return -ENOMEM;
    rc = ss_buf_append(b, text, strlen(text));
    free(text);
    return rc;
}

/* The member a dotted name leads to: "a.b" is member "b" of member "a",
 * unless the object has a member named "a.b" itself. */
static json_t *
lookup(json_t *o, const char *name)
{
    json_t *v;
    const char *dot;

    while (o != NULL && json_is_object(o)) {
        if ((v = json_object_get(o, name)) != NULL)
            return v;
        if ((dot = strchr(name, '.')) == NULL)
            return NULL;
        o = json_object_getn(o, name, (size_t)(dot - name));
        name = dot + 1;
    }
    return NULL;
}

static json_t *
nth(json_t *o, size_t k)
{
    void *it = json_object_iter(o);

    while (it != NULL && --k > 0)
        it = json_object_iter_next(o, it);
    return it != NULL ? json_object_iter_value(it) : NULL;
}

static int
json_field(json_t *o, const struct ss_fields_sel *sel, struct ss_buf *scratch,
           const char **out, size_t *outlen)
{
    json_t *v = sel->num > 0 ? nth(o, sel->num) : lookup(o, sel->name);
    int rc;

    if (v == NULL)
        return 0;
    ss_buf_reset(scratch);
    if ((rc = put_value(v, scratch)) < 0)
        return rc;
    *out = scratch->data != NULL ? scratch->data : "";
    *outlen = scratch->len;
    return 1;
}

/* The object of p[0..n), from the cache when it holds the same text (a
 * memcmp costs far less than a read): 1, or -EINVAL, -ENOMEM. */
static int
cached(struct ss_fields_json *c, const char *p, size_t n)
{
    int rc;

    if (c->valid && c->text.len == n && memcmp(c->text.data, p, n) == 0)
        return 1;
    c->valid = c->scanned = 0;
    json_decref(c->obj);
    c->obj = NULL;
    ss_buf_reset(&c->text);
    if (ss_buf_append(&c->text, p, n) < 0 ||
        (n == 0 && ss_buf_reserve(&c->text, 1) < 0))
        return -ENOMEM;
    if (!c->tree && (rc = ss_json_scan(&c->scan, c->text.data, n)) != 0) {
        c->valid = c->scanned = rc == 1;
        return rc;
    }
    if ((rc = load_tree(&c->obj, c->text.data, n)) < 0)
        return rc;
    c->valid = 1;
    return 1;
}

int
ss_fields_json_get(struct ss_fields_json *c, const char *p, size_t n,
                   const struct ss_fields_sel *sel, struct ss_buf *scratch,
                   const char **out, size_t *outlen, const char **why)
{
    int rc;

    *why = why_text;
    if ((rc = cached(c, p, n)) < 0)
        return rc;
    if (c->scanned) {
        rc = ss_json_scan_get(&c->scan, sel->name, sel->num, scratch, out,
                              outlen);
        if (rc != -EAGAIN)
            return rc;
        if (c->obj == NULL &&
            (rc = load_tree(&c->obj, c->text.data, c->text.len)) < 0)
            return rc;
    }
    return json_field(c->obj, sel, scratch, out, outlen);
}

void
ss_fields_json_release(struct ss_fields_json *c)
{
    json_decref(c->obj);
    c->obj = NULL;
    c->valid = c->scanned = 0;
    ss_buf_release(&c->text);
    ss_json_scan_release(&c->scan);
}

/* Field k (from 1) of a line of tab-separated fields. */
static int
tab_field(const char *p, size_t n, size_t k, const char **out, size_t *outlen)
{
    const char *end = p + n, *tab;

    for (; k > 1; k--) {
        if ((tab = memchr(p, '\t', (size_t)(end - p))) == NULL)
            return 0;
        p = tab + 1;
    }
    tab = memchr(p, '\t', (size_t)(end - p));
    *out = p;
    *outlen = (size_t)((tab != NULL ? tab : end) - p);
    return 1;
}

/* Field 'sel' of the JSON row just read: from the scan, or from Jansson's
 * tree where the scan leaves it (built then, once per row). */
static int
json_row_field(struct ss_fields_row *r, const struct ss_fields_sel *sel,
               const char **p, size_t *n)
{
    int rc;

    if (r->scanned) {
        rc = ss_json_scan_get(&r->scan, sel->name, sel->num, &r->scratch, p, n);
        if (rc != -EAGAIN)
            return rc;
        if (r->json == NULL &&
            (rc = load_tree(&r->json, r->line, r->linelen)) < 0)
            return rc;
    }
    return json_field(r->json, sel, &r->scratch, p, n);
}

int
ss_fields_row_get(struct ss_fields_row *r, const struct ss_fields_sel *sel,
                  const char **p, size_t *n)
{
    size_t i;

    switch (r->fmt) {
    case SS_FIELDS_LINES:
        return sel->num > 0 ? tab_field(r->line, r->linelen, sel->num, p, n)
                            : 0;
    case SS_FIELDS_JSON:
        return json_row_field(r, sel, p, n);
    default:
        break;
    }
    if (sel->num > 0)
        i = sel->num - 1;
    else
        for (i = 0; i < r->nhead; i++)
            if (strcmp(r->head.data + r->head_off[i], sel->name) == 0)
                break;
    if (i >= r->nf)
        return 0;
    *p = field_at(r, i);
    *n = r->off[2 * i + 1];
    return 1;
}

void
ss_fields_row_release(struct ss_fields_row *r)
{
    json_decref(r->json);
    ss_json_scan_release(&r->scan);
    free(r->head_off);
    free(r->off);
    ss_buf_release(&r->head);
    ss_buf_release(&r->text);
    ss_buf_release(&r->open);
    ss_buf_release(&r->out);
    ss_buf_release(&r->scratch);
    memset(r, 0, sizeof(*r));
}
