/* recv_kit.h - the receivers' toolkit: a byte stream cut by its own
 * splitter within the --max-rate budget, a libuv stream or a regular file
 * read to its end, backoff for reconnects, and what the message brokers'
 * receivers share (lib/recv_broker.c: a broker's reach said once; the
 * positions beside the --wal log are lib/ledger.h's). Internal to lib/recv_*.c;
 * the contract every receiver keeps is lib/recv.h.
 *
 * Owns: reads land in the host's one chunk, consumed before the read
 * callback returns; bytes the budget could not take move into the
 * stream's own 'pending', freed by ss_recv_in_release().
 */
#ifndef SS_RECV_KIT_H
#define SS_RECV_KIT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "backoff.h"
#include "buf.h"
#include "recv.h"
#include "splitter.h"

#define SS_RECV_CHUNK (256 * 1024)

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

/* ---- a broker's reach, said once each way (lib/recv_broker.c) ---- */

struct ss_recv_reach {
    const char *opt;   /* "--kafka" */
    const char *where; /* the servers, as the user gave them */
    int down;          /* said unreachable, not yet reached again */
};

/* "OPT: cannot reach 'WHERE' (REASON): retrying", once until reached. */
void ss_recv_reach_lost(struct ss_recv_reach *rr, const char *reason);
/* "OPT: 'WHERE' reached", when it had been said unreachable. */
void ss_recv_reach_ok(struct ss_recv_reach *rr);

#endif
