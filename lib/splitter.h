/* splitter.h - cutting a byte stream into records (lines, records ended
 * by a --delimiter, or fixed --record-bytes) for the batcher.
 *
 * Owns: a splitter owns the partial record left at the end of a chunk (a
 * record is never split between two splitters, so each input of a union
 * has its own), until ss_splitter_release(). Chunks fed in are only read,
 * never kept. Over-long records go to the batcher's rejects as they
 * arrive, so memory stays bounded by --max-record-bytes.
 */
#ifndef SS_SPLITTER_H
#define SS_SPLITTER_H

#include <stddef.h>
#include <sys/types.h>

#include "batcher.h"
#include "buf.h"
#include "fields.h"

struct ss_splitter {
    struct ss_batcher *b;
    struct ss_buf partial; /* the record cut by the end of the last chunk */
    char delim;
    int crlf;         /* lines end at "\n" or "\r\n": a '\r' before the
                         delimiter is not part of the record */
    size_t max;       /* longest record kept; longer ones are rejects */
    size_t fixed;     /* > 0: fixed-size records of this many bytes */
    int overlong;     /* streaming an over-long record to the rejects */
    const char *name; /* the input, for messages */
    /* The batcher reads rows (b->fmt, b->ev): this input's reader, its
     * header and line count; allocated at the first line. */
    struct ss_fields_row *row;
    int messages; /* rows are whole broker messages (ss_splitter_message) */
};

/* Lines (delim '\n', not fixed) end at "\n" or "\r\n" unless keep_cr:
 * then a '\r' before the '\n' stays in the record. */
void ss_splitter_init(struct ss_splitter *s, struct ss_batcher *b,
                      const char *name, char delim, size_t max, size_t fixed,
                      int keep_cr);
/* Cut p[0..n) into records and add them to the open batch; 0 or -errno.
 * For batchers without a --max-rate budget (replay). */
int ss_splitter_feed(struct ss_splitter *s, const char *p, size_t n);
/* Like ss_splitter_feed(), but stops at a record boundary when the
 * batcher's --max-rate budget is spent: the bytes consumed (n when all),
 * or -errno. The caller keeps p[used..n) and feeds it again later. */
ssize_t ss_splitter_feed_some(struct ss_splitter *s, const char *p, size_t n);
/* The input ended: a last record without a delimiter still counts. */
int ss_splitter_eof(struct ss_splitter *s);
/* Another input (a file) follows in this splitter: its first row is a
 * header again, its lines are counted from 1. */
void ss_splitter_restart(struct ss_splitter *s);
void ss_splitter_release(struct ss_splitter *s);
/* One broker message (--kafka, --nats, --mqtt) read as one row whole, for
 * --format and --event-time: no header row in a stream of messages (the
 * names come from --header, b->header), and a CSV quote left open at its
 * end is a reject. Rejects are named by s->name and the message's number
 * in this run. 0, or -errno as ss_splitter_feed(). */
int ss_splitter_message(struct ss_splitter *s, const char *p, size_t n);

#endif
