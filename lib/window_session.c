/* window_session.c - session windows (--session-gap): a key's session
 * grows while its records come less than the gap apart, and is sent when
 * the gap has passed (window_int.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "bytes.h"
#include "ckpt.h"
#include "diag.h"
#include "dur.h"
#include "frame.h"
#include "io.h"
#include "keytab.h"
#include "rejects.h"
#include "replay.h"
#include "window_int.h"

/* Sessions are kept in order of their latest record: a key seen again is
 * moved to the end, so the sessions to close are always at the front. */
int
ss_window__add_session(struct win *x, const struct ss_rec *r, const char *k,
                       size_t klen)
{
    struct session *s, moved;
    int created = 0, rc;

    if ((s = ss_keytab_find(&x->sess, k, klen)) == NULL) {
        if ((s = ss_keytab_get(&x->sess, k, klen, &created)) == NULL)
            return -ENOMEM;
        s->first = s->last = x->in.time;
        ss_window__touch(x, &x->ck.t_sess, k, klen);
    }
    rc = ss_acc_add(&s->acc, x->op, r->val, r->vlen, x->cfg->sep);
    if (rc == -EINVAL || rc == -ERANGE) {
        ss_window__reject(x, r, rc);
        if (created)
            ss_keytab_del(&x->sess, k, klen);
        return 1;
    }
    if (rc < 0)
        return rc;
    if (s->last != x->in.time) {
        moved = *s;
        ss_keytab_del(&x->sess, k, klen); /* no drop: the acc moves */
        if ((s = ss_keytab_get(&x->sess, k, klen, &created)) == NULL) {
            ss_acc_release(&moved.acc);
            return -ENOMEM;
        }
        *s = moved;
        s->last = x->in.time;
        ss_window__touch(x, &x->ck.t_sess, k, klen);
    }
    return 0;
}

int
ss_window__close_sessions(struct win *x)
{
    size_t cur = 0, klen;
    const char *k;
    struct session *s;
    int rc;

    ss_window__out_begin(x, x->in.time, (uint32_t)x->interval, SS_FRAME_KEYED);
    while ((s = ss_keytab_next(&x->sess, &cur, &k, &klen)) != NULL) {
        if (x->in.time - s->last < x->cfg->session_gap)
            break;
        ss_buf_reset(&x->out.text);
        ss_buf_printf(&x->out.text, "%" PRId64 "\t%" PRId64 "\t", s->first,
                      s->last);
        if ((rc = ss_acc_format(&s->acc, x->op, &x->out.text)) < 0 ||
            (rc = ss_window__out_add(x, k, klen, x->out.text.data,
                                     x->out.text.len)) < 0)
            return rc;
        ss_acc_release(&s->acc);
        ss_keytab_del(&x->sess, k, klen);
        ss_window__touch(x, &x->ck.t_sess, k, klen);
    }
    x->out.last = x->in.time;
    return ss_window__out_end(x);
}
