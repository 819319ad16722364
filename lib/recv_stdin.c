/* recv_stdin.c - the default input: stdin, whatever it is.
 *
 * A pipe, a terminal or a socket is a libuv stream; a regular file (or a
 * device) cannot be polled, so it is read in chunks between loop turns.
 * The stream ends when stdin does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "recv_kit.h"

struct rstdin {
    struct ss_recv r;
    struct ss_recv_conn conn;
    struct ss_recv_file file;
    int is_file;
    int dead; /* could not start: nothing to stop */
};

static void
conn_end(struct ss_recv_conn *c, int status)
{
    struct rstdin *s = (struct rstdin *)c->owner;

    if (status < 0)
        ss_diag("stdin: %s", uv_strerror(status));
    if (!uv_is_closing(&c->u.handle))
        uv_close(&c->u.handle, NULL);
    ss_recv_end(&s->r, status < 0 ? SS_REPORTED : 0);
}

static void
file_end(struct ss_recv_file *f, int status)
{
    struct rstdin *s = (struct rstdin *)f->owner;

    if (status < 0)
        ss_diag_err(status, "stdin");
    f->fd = -1;
    if (!uv_is_closing((uv_handle_t *)&f->idle))
        uv_close((uv_handle_t *)&f->idle, NULL);
    ss_recv_end(&s->r, status < 0 ? SS_REPORTED : 0);
}

static void
resume(struct ss_recv *r)
{
    struct rstdin *s = (struct rstdin *)r;

    if (s->is_file)
        ss_recv_file_resume(&s->file);
    else
        ss_recv_conn_resume(&s->conn);
}

static void
stop(struct ss_recv *r)
{
    struct rstdin *s = (struct rstdin *)r;

    if (s->dead)
        return;
    /* What was read goes in; the unread rest of a file was not received. */
    if (s->is_file) {
        ss_recv_file_stop(&s->file);
        if (!uv_is_closing((uv_handle_t *)&s->file.idle))
            uv_close((uv_handle_t *)&s->file.idle, NULL);
    } else {
        ss_recv_conn_stop(&s->conn);
        if (!uv_is_closing(&s->conn.u.handle))
            uv_close(&s->conn.u.handle, NULL);
    }
}

static void
release(struct ss_recv *r)
{
    struct rstdin *s = (struct rstdin *)r;

    ss_recv_in_release(s->is_file ? &s->file.in : &s->conn.in);
    free(s);
}

static const struct ss_recv_ops ops = {resume, NULL, stop, release};

static int
open_stream(struct rstdin *s, uv_loop_t *loop)
{
    int rc;

    switch (uv_guess_handle(STDIN_FILENO)) {
    case UV_TTY:
        return uv_tty_init(loop, &s->conn.u.tty, STDIN_FILENO, 1);
    case UV_NAMED_PIPE:
        if ((rc = uv_pipe_init(loop, &s->conn.u.pipe, 0)) == 0)
            rc = uv_pipe_open(&s->conn.u.pipe, STDIN_FILENO);
        return rc;
    case UV_TCP:
        if ((rc = uv_tcp_init(loop, &s->conn.u.tcp)) == 0)
            rc = uv_tcp_open(&s->conn.u.tcp, STDIN_FILENO);
        return rc;
    default: /* a regular file or a device */
        s->is_file = 1;
        return 0;
    }
}

int
ss_recv_stdin_start(struct ss_recv_host *h, struct ss_recv **out)
{
    struct rstdin *s = calloc(1, sizeof(*s));
    int rc;

    if (s == NULL)
        return ss_diag_err(-ENOMEM, "stdin");
    s->r.ops = &ops;
    s->r.host = h;
    s->r.what = "stdin";
    *out = &s->r;
    if ((rc = open_stream(s, h->loop)) < 0) {
        s->dead = 1;
        return ss_diag("stdin: %s", uv_strerror(rc));
    }
    if (s->is_file) {
        if ((rc = ss_recv_file_init(&s->file, &s->r, file_end)) == 0)
            ss_recv_file_read(&s->file, STDIN_FILENO, "stdin");
    } else {
        rc = ss_recv_conn_start(&s->conn, &s->r, "stdin", conn_end);
    }
    if (rc < 0) {
        s->dead = 1;
        return ss_diag("stdin: %s", uv_strerror(rc));
    }
    return 0;
}
