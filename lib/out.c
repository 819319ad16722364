/* out.c - what the outputs share: records as lines, topic and subject
 * names made from a record's key. */
#include "out.h"

#include <errno.h>
#include <string.h>

#include "json.h"

/* A join pair's two sides: split at the first tab, as the value was
 * made (lib/join.c); the frame's NO_ flags say which side is missing. */
struct sides {
    const char *p[2];
    size_t n[2];
    int opt[2], missing[2];
};

static void
split(struct sides *s, uint32_t flags, const char *v, size_t vlen)
{
    const char *tab = memchr(v, '\t', vlen);
    size_t l = tab != NULL ? (size_t)(tab - v) : vlen;

    s->p[0] = v;
    s->n[0] = l;
    s->p[1] = v + l + (tab != NULL);
    s->n[1] = vlen - l - (tab != NULL);
    s->opt[0] = (flags & SS_FRAME_OPT_LEFT) != 0;
    s->opt[1] = (flags & SS_FRAME_OPT_RIGHT) != 0;
    s->missing[0] = s->opt[0] && (flags & SS_FRAME_NO_LEFT);
    s->missing[1] = s->opt[1] && (flags & SS_FRAME_NO_RIGHT);
}

int
ss_out_value(struct ss_buf *b, uint32_t flags, const char *v, size_t vlen)
{
    struct sides s;

    if (!(flags & (SS_FRAME_OPT_LEFT | SS_FRAME_OPT_RIGHT)))
        return ss_buf_append(b, v, vlen);
    split(&s, flags, v, vlen);
    for (int i = 0; i < 2; i++) {
        if (i == 1 && ss_buf_putc(b, '\t') < 0)
            return -ENOMEM;
        if (s.missing[i]) {
            if (ss_buf_append(b, SS_OUT_MISSING, 2) < 0)
                return -ENOMEM;
            continue;
        }
        if (s.opt[i] && s.n[i] > 0 && s.p[i][0] == '\\' &&
            ss_buf_putc(b, '\\') < 0)
            return -ENOMEM;
        if (ss_buf_append(b, s.p[i], s.n[i]) < 0)
            return -ENOMEM;
    }
    return 0;
}

int
ss_out_print_pair(struct ss_buf *b, uint32_t flags, const char *v, size_t vlen,
                  int (*side)(struct ss_buf *b, const char *p, size_t n))
{
    struct sides s;

    split(&s, flags, v, vlen);
    if (ss_buf_putc(b, '(') < 0)
        return -ENOMEM;
    for (int i = 0; i < 2; i++) {
        if (i == 1 && ss_buf_putc(b, ',') < 0)
            return -ENOMEM;
        if (s.missing[i]) {
            if (ss_buf_append(b, "None", 4) < 0)
                return -ENOMEM;
            continue;
        }
        if (s.opt[i] && ss_buf_append(b, "Some(", 5) < 0)
            return -ENOMEM;
        if ((side != NULL ? side(b, s.p[i], s.n[i])
                          : ss_buf_append(b, s.p[i], s.n[i])) < 0)
            return -ENOMEM;
        if (s.opt[i] && ss_buf_putc(b, ')') < 0)
            return -ENOMEM;
    }
    return ss_buf_putc(b, ')');
}

int
ss_out_json_pair(struct ss_buf *b, uint32_t flags, const char *v, size_t vlen)
{
    struct sides s;

    split(&s, flags, v, vlen);
    for (int i = 0; i < 2; i++) {
        if (ss_buf_putc(b, i == 0 ? '[' : ',') < 0)
            return -ENOMEM;
        if (s.missing[i] ? ss_buf_append(b, "null", 4) < 0
                         : ss_json_string(b, s.p[i], s.n[i]) < 0)
            return -ENOMEM;
    }
    return ss_buf_putc(b, ']');
}

int
ss_out_lines_at_once(struct ss_buf *b, const struct ss_frame *f)
{
    int rc;

    if ((rc = ss_buf_reserve(b, f->payload_len)) < 0)
        return rc;
    if ((rc = ss_frame_lines(f, b->data + b->len)) < 0)
        return rc == -1 ? 0 : rc;
    ss_buf_commit(b, f->payload_len);
    return 1;
}

int
ss_out_lines(struct ss_buf *b, const struct ss_frame *f)
{
    struct ss_rec_iter it;
    struct ss_rec r;
    int rc;

    /* The reader has checked f: -EBADMSG cannot come back here. */
    if ((rc = ss_out_lines_at_once(b, f)) != 0)
        return rc < 0 ? rc : 0;
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r)) {
        if (f->flags & (SS_FRAME_OPT_LEFT | SS_FRAME_OPT_RIGHT)) {
            if ((r.key != NULL && (ss_buf_append(b, r.key, r.klen) < 0 ||
                                   ss_buf_putc(b, '\t') < 0)) ||
                ss_out_value(b, f->flags, r.val, r.vlen) < 0 ||
                ss_buf_putc(b, '\n') < 0)
                return -ENOMEM;
            continue;
        }
        /* One reserve per record, then writes that cannot fail. */
        if ((rc = ss_buf_reserve(b, r.klen + r.vlen + 2)) < 0)
            return rc;
        if (r.key != NULL) {
            ss_buf_append(b, r.key, r.klen);
            ss_buf_putc(b, '\t');
        }
        ss_buf_append(b, r.val, r.vlen);
        ss_buf_putc(b, '\n');
    }
    return 0;
}

int
ss_out_name(struct ss_buf *b, const char *tmpl, const struct ss_rec *r)
{
    const char *at;
    int rc;

    ss_buf_reset(b);
    while ((at = strstr(tmpl, "{key}")) != NULL) {
        if (r->key == NULL)
            return -EINVAL;
        if ((rc = ss_buf_append(b, tmpl, (size_t)(at - tmpl))) < 0 ||
            (rc = ss_buf_append(b, r->key, r->klen)) < 0)
            return rc;
        tmpl = at + 5;
    }
    if ((rc = ss_buf_append(b, tmpl, strlen(tmpl))) < 0)
        return rc;
    return ss_buf_putc(b, '\0');
}
