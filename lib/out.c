/* out.c - what the outputs share: records as lines. */
#include "out.h"

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
