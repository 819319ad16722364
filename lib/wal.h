/* wal.h - the write-ahead log of sstream-source --wal DIR, and the commit
 * record sstream-sink --commit DIR keeps beside it (man/sstream.5, WAL).
 *
 * The log is a folder of segments, NNNNNNNNNNNNNNNN.wal (a 16-digit
 * sequence number), each a plain concatenation of the frames the source
 * sent, byte for byte: a frame already carries its batch time and an
 * XXH64 checksum over header and payload, so a record of the log is
 * simply a frame, and a batch is its frames up to the one without
 * SS_FRAME_MORE. A batch is appended and fdatasync()ed before any of it
 * is sent downstream. A segment grows past its size limit by at most one
 * batch, and is then closed; a restart always opens a new segment.
 *
 * DIR/commit holds the time of the last batch whose output is durable,
 * as decimal text and a newline, replaced atomically by the sink (a
 * durable file of lib/io). A segment is created exclusively, and opened
 * again only to cut a torn tail, never through a link. Closed segments whose
 * batches are all at or before it are deleted. On open, the log is checked: a
 * torn or corrupt tail of the last segment (a crash during an append) is cut
 * off with a warning; damage anywhere else is an error. DIR/lock is flock()ed
 * by the source, and DIR/commit.lock by the sink, so that two of either cannot
 * share a log and the source can tell whether a sink is still committing.
 *
 * Owns: struct ss_wal belongs to the caller; the folder name copy, the
 * list of closed segments, the descriptors and the scratch buffer belong
 * to it until ss_wal_close().
 */
#ifndef SS_WAL_H
#define SS_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SS_WAL_NO_TIME       INT64_MIN
#define SS_WAL_SEGMENT_BYTES ((size_t)16 << 20) /* default --wal-segment */

struct ss_wal_seg {
    uint64_t seq;
    int64_t last; /* time of its last batch */
};

struct ss_wal {
    char *dir;
    int dirfd; /* the folder, for its fsync() and the commit */
    int lockfd;
    int fd;                  /* segment being appended to, -1 none yet */
    uint64_t seq;            /* its number; the highest in use */
    uint64_t size;           /* its length */
    uint64_t batch_at;       /* where the batch being written begins */
    int64_t seg_last;        /* time of its last batch */
    size_t max_bytes;        /* --wal-segment */
    struct ss_wal_seg *segs; /* closed segments, oldest first */
    size_t nsegs, cap;
    int64_t last;      /* newest batch time logged or committed */
    int64_t commit;    /* the commit last read */
    int64_t first;     /* the oldest batch time logged, for the lag */
    uint32_t interval; /* of the logged batches; 0 when none */
    /* --max-uncommitted: batch T is sent only once every batch up to
     * T - max_uncommitted * interval_ms is committed; 0 no limit. */
    uint64_t max_uncommitted;
    int64_t interval_ms;
    uint64_t replayed; /* batches sent again by ss_wal_replay() */
    int64_t replay_first, replay_last; /* their times */
    uint64_t truncated;                /* bytes of torn tail cut off at open */
    struct ss_buf io; /* scratch: a segment read back, a batch copied */
};

/* Open (creating it if missing) and check the log in 'dir': lock it, read
 * the commit, cut a torn tail. 0, or SS_REPORTED after reporting (another
 * source holds it, damage, I/O). Functions below return SS_REPORTED after
 * reporting too, and pass -EPIPE (and other failures to write 'out') up
 * unreported. */
int ss_wal_open(struct ss_wal *w, const char *dir, size_t max_bytes);
/* Write to 'out' every logged batch after the commit, as it was first
 * sent, then delete the segments already committed. */
int ss_wal_replay(struct ss_wal *w, int out);
/* A batch begins: the descriptor its frames are to be written to (the
 * segment, opened when there is none), or SS_REPORTED after reporting. */
int ss_wal_begin(struct ss_wal *w);
/* Writing the open batch to its segment failed with 'err': report it,
 * naming the segment; SS_REPORTED. */
int ss_wal_write_failed(const struct ss_wal *w, int err);
/* The batch at 'time' is written: make it durable, wait for the commit
 * under --max-uncommitted, then copy it to 'out'. A full segment is
 * closed, and the committed ones deleted. */
int ss_wal_end(struct ss_wal *w, int64_t time, int out);
/* The batch begun is not to be logged (the source failed): cut what it
 * wrote to the segment, so that the next start finds no torn tail. */
void ss_wal_drop(struct ss_wal *w);
void ss_wal_close(struct ss_wal *w);

/* ---- the commit record ---- */

/* Read the commit of the folder open at dirfd into *time: 1, 0 when there
 * is none yet (*time is SS_WAL_NO_TIME), or a negative errno code
 * (-EBADMSG: not a time). */
int ss_wal_commit_read(int dirfd, int64_t *time);

struct ss_wal_committer {
    const char *dir; /* the caller's string; NULL: not opened */
    int dirfd;
    int lockfd;
    int64_t time; /* last committed batch time, SS_WAL_NO_TIME none */
};

/* Create 'dir' with its parents if missing (the source may not have made
 * it yet: a pipeline's stages start together), take dir/commit.lock
 * (waiting up to a second for a source probing it) and read the commit.
 * 0, or SS_REPORTED after reporting (another sink commits there, I/O). */
int ss_wal_committer_open(struct ss_wal_committer *c, const char *dir);
/* Record 'time' as committed, atomically and durably; 0 or SS_REPORTED after
 * reporting. */
int ss_wal_commit(struct ss_wal_committer *c, int64_t time);
void ss_wal_committer_close(struct ss_wal_committer *c);

#endif
