/* recv.h - receivers: the inputs of sstream-source on its libuv loop.
 *
 * A receiver turns one kind of input (stdin, a server we connect to,
 * producers that connect to us, a watched folder, a command's stdout) into
 * records for the batcher. Every byte stream (a connection, a file, a pipe)
 * has its own splitter, so a record is never split between two producers.
 * lib/source.c owns the loop, the batch clock and the --max-rate budget: it
 * starts the receivers, resumes those the budget paused, tells them when a
 * batch was sent, and stops them all when the stream ends.
 *
 * Owns: a receiver is allocated by its ss_recv_*_start() and freed by
 * ops->free() after the loop has run dry (every handle closed). Reads land
 * in the host's one chunk, consumed before the read callback returns;
 * bytes the budget could not take move into the stream's own 'pending'.
 */
#ifndef SS_RECV_H
#define SS_RECV_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "batcher.h"
#include "buf.h"

#define SS_RECV_CHUNK (256 * 1024)

struct ss_recv;

struct ss_recv_host {
    uv_loop_t *loop;
    struct ss_batcher *b;
    char delim;          /* --delimiter */
    int keep_cr;         /* --keep-cr */
    size_t max_record;   /* --max-record-bytes */
    size_t record_bytes; /* --record-bytes */
    char *chunk;         /* SS_RECV_CHUNK bytes of read scratch */
    uint64_t troubles;   /* reported problems the stream lived through */
    int stopping; /* the stream is ending: add everything, read no more */
    int broken;   /* stdout failed: add nothing more, just close */
    /* A receiver's input ended for good: rc 0 at its end, SS_REPORTED after a
     * reported failure. Called once per receiver. */
    void (*ended)(struct ss_recv_host *h, struct ss_recv *r, int rc);
    /* A stream stopped reading because the --max-rate budget is spent;
     * the host calls ops->resume() once there is budget again. */
    void (*throttled)(struct ss_recv_host *h, struct ss_recv *r);
    /* Adding records failed (stdout is gone, memory): the stream ends
     * now, with 'rc' for the exit status. */
    void (*fatal)(struct ss_recv_host *h, int rc);
};

struct ss_recv_ops {
    /* There is budget again: feed what is pending, read on. */
    void (*resume)(struct ss_recv *r);
    /* The batch at 'time' has been written to stdout (NULL: no matter). */
    void (*sent)(struct ss_recv *r, int64_t time);
    /* The stream ends: add every byte already received (whatever the
     * budget), end the last record, close the handles. */
    void (*stop)(struct ss_recv *r);
    /* After the loop has run dry: free what the receiver holds. */
    void (*free)(struct ss_recv *r);
};

struct ss_recv {
    const struct ss_recv_ops *ops;
    struct ss_recv_host *host;
    struct ss_recv *next; /* the host's list */
    const char *what;     /* the option and its argument, for messages */
    int ended;            /* host->ended() has been called */
    /* --wal: the batch at 'time' is written to the log and about to be
     * synced; record now what it consumed, so that a crash after the sync
     * does not read it again. NULL (receivers are calloc()ed): nothing to
     * record. */
    void (*logging)(struct ss_recv *r, int64_t time);
};

/* Call host->ended() once. */
void ss_recv_end(struct ss_recv *r, int rc);

/* ---- one byte stream into its own splitter, within the budget ---- */

struct ss_recv_in {
    struct ss_recv_host *host;
    struct ss_splitter sp;
    struct ss_buf pending; /* received, waiting for budget */
};

void ss_recv_in_init(struct ss_recv_in *in, struct ss_recv_host *h,
                     const char *name);
/* Feed p[0..n) after anything pending: 1 when all went in, 0 when the
 * budget ran out (the rest is kept in 'pending'), or -errno. */
int ss_recv_in_feed(struct ss_recv_in *in, const char *p, size_t n);
/* The input ended (or the stream stops): everything pending goes in
 * whatever the budget, then the last record. 0 or -errno. */
int ss_recv_in_finish(struct ss_recv_in *in);
void ss_recv_in_release(struct ss_recv_in *in);

/* ---- a libuv stream (pipe, tty, TCP connection) read to its end ---- */

struct ss_recv_conn {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tty_t tty;
        uv_tcp_t tcp;
    } u;
    struct ss_recv_in in;
    struct ss_recv *owner;
    int paused; /* read stopped for want of budget */
    int done;   /* EOF or error seen, last record in */
    /* EOF (0) or a read error (a libuv code); the last record is in and
     * reading has stopped; the owner closes u.handle. */
    void (*end)(struct ss_recv_conn *c, int status);
};

/* u must be initialised by the caller; starts reading. 0 or a libuv code. */
int ss_recv_conn_start(struct ss_recv_conn *c, struct ss_recv *owner,
                       const char *name,
                       void (*end)(struct ss_recv_conn *, int));
/* Budget is back: feed what is pending and read on if it all went in. */
void ss_recv_conn_resume(struct ss_recv_conn *c);
/* The stream stops: stop reading, add what is pending and the last
 * record. Does not close u.handle. */
void ss_recv_conn_stop(struct ss_recv_conn *c);

/* ---- a regular file read in the loop, one chunk per turn ---- */

struct ss_recv_file {
    uv_idle_t idle; /* runs while there is file left and budget */
    int fd;         /* -1 when no file is being read */
    struct ss_recv_in in;
    struct ss_recv *owner;
    int paused;
    int whole; /* read a file in one loop turn: one batch holds it (--wal) */
    /* EOF (0) or a read error (-errno); the last record is in, reading
     * has stopped, fd is still open for the owner to close. */
    void (*end)(struct ss_recv_file *f, int status);
};

/* Reads are plain read(2)s of at most SS_RECV_CHUNK, one per loop turn,
 * so that the clock and other inputs are served between chunks. */
int ss_recv_file_init(struct ss_recv_file *f, struct ss_recv *owner,
                      void (*end)(struct ss_recv_file *, int));
/* Start reading fd; the splitter is named 'name' (kept, not copied). */
void ss_recv_file_read(struct ss_recv_file *f, int fd, const char *name);
void ss_recv_file_resume(struct ss_recv_file *f);
/* Read the rest of the file now, whatever the budget; calls end(). */
void ss_recv_file_drain(struct ss_recv_file *f);
/* Stop reading: add what is pending and the last record; no end(). */
void ss_recv_file_stop(struct ss_recv_file *f);

/* ---- backoff for reconnects and restarts: 250ms doubling to 8s ---- */

struct ss_recv_backoff {
    uint64_t next_ms;
};

void ss_recv_backoff_reset(struct ss_recv_backoff *bo);
/* The wait before the next attempt, in ms; doubles the one after. */
uint64_t ss_recv_backoff_next(struct ss_recv_backoff *bo);
/* "250ms" or "2s" into buf, for messages. */
const char *ss_recv_ms_text(uint64_t ms, char *buf, size_t n);

/* ---- the receivers ---- */

struct ss_recv_watch_opts {
    const char *dir;
    const char *state; /* --state DIR: the ledger of files read, or NULL */
    int once;          /* --once: read what is there, then end */
    int64_t settle;    /* ms a file must be unchanged to count as complete */
    int64_t max_wait;  /* --once: ms to wait for a file to settle, 0 ever */
    /* --wal: each file is read into one batch, and ledger entries are
     * written tagged with that batch's time before it is logged; entries
     * tagged after 'logged' (the last batch time logged or committed;
     * INT64_MIN none) were never logged, and are dropped at start. */
    int wal;
    int64_t logged;
};

int ss_recv_stdin_start(struct ss_recv_host *h, struct ss_recv **out);
/* 'timeout_ms': an attempt that no address of the name has answered in
 * that long fails (0: the kernel's own limit). */
int ss_recv_connect_start(struct ss_recv_host *h, const char *hostport,
                          int once, int64_t timeout_ms, struct ss_recv **out);
int ss_recv_listen_start(struct ss_recv_host *h, const char *hostport,
                         struct ss_recv **out);
int ss_recv_watch_start(struct ss_recv_host *h,
                        const struct ss_recv_watch_opts *o,
                        struct ss_recv **out);
int ss_recv_exec_start(struct ss_recv_host *h, const char *cmd, int restart,
                       struct ss_recv **out);

#endif
