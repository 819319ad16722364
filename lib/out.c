/* out.c - what the outputs share: records as lines, topic and subject
 * names made from a record's key. */
#include "out.h"

#include <errno.h>
#include <string.h>

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
