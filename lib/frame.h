/* frame.h - the frame contract (man/sstream.5 is the normative text).
 *
 * A stream is a sequence of frames: a 56-byte little-endian header and a
 * payload of records. A batch is one frame, or several frames with the same
 * time of which all but the last carry SS_FRAME_MORE, so that memory stays
 * bounded however large a batch grows; the batch reader below is the one
 * place that puts them together. A clean stream ends with an
 * end-of-stream frame.
 *
 * Owns: the reader owns its input buffer; a struct ss_frame it returns is a
 * view into that buffer, valid until the next ss_frame_reader_next(). The
 * writer owns the frame under construction; records are copied in.
 */
#ifndef SS_FRAME_H
#define SS_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define SS_FRAME_MAGIC       "SSTM"
#define SS_FRAME_VERSION     1
#define SS_FRAME_HEADER_LEN  56
#define SS_FRAME_MAX_PAYLOAD ((uint64_t)1 << 31)

/* Update frames (SS_FRAME_UPDATE) carry version 2, so that a reader that
 * predates them refuses them rather than take late records for a new
 * batch; every other frame stays version 1 (man/sstream.5 "UPDATES"). */
#define SS_FRAME_VERSION_UPDATE 2

/* Times (batch time, closed_ms) lie within +-SS_FRAME_TIME_MAX ms, so
 * that adding or subtracting an interval or a window cannot overflow. */
#define SS_FRAME_TIME_MAX ((int64_t)1 << 62)

static inline int
ss_frame_time_valid(int64_t t)
{
    return t >= -SS_FRAME_TIME_MAX && t <= SS_FRAME_TIME_MAX;
}

/* A batch's payload goes out in parts of about this size, and pipes are
 * widened to hold several: the writer then fills one part while the
 * reader still works on the last, where with one part per pipe the two
 * sides took turns (source -> sink: 110-117 ms for 100 MB with 1 MiB
 * parts, 79-99 ms with 256 KiB, against cat | cat at 60-66). */
#define SS_FRAME_PART_BYTES ((size_t)1 << 18)
#define SS_FRAME_PIPE_BYTES ((size_t)1 << 20)

/* The stage trail (man/sstream.5, "STAGE TRAIL"): after the 56 bytes, a
 * count and up to SS_FRAME_TRAIL_MAX entries of a short stage name and
 * the milliseconds that stage spent on the batch, oldest first. */
#define SS_FRAME_TRAIL_MAX   8
#define SS_FRAME_TRAIL_NAME  8  /* name bytes, NUL-padded */
#define SS_FRAME_TRAIL_ENTRY 12 /* name + uint32 ms */
#define SS_FRAME_TRAIL_HEAD  4  /* uint8 count, 3 bytes reserved */
/* After the trail, the ingest field (man/sstream.5, "INGEST"): the
 * records the source sent in the batch and the source's interval. */
#define SS_FRAME_INGEST_LEN 12 /* uint64 records + uint32 interval */
/* After the ingest field, the offsets field (man/sstream.5, "OFFSETS"):
 * the Kafka topic a source batch was read from, its partition count, and
 * for each partition the member holds where the batch began and ended. */
#define SS_FRAME_OFFSETS_HEAD 8    /* uint16 parts, uint8 topic_len, pad, */
                                   /* uint32 topic_partitions */
#define SS_FRAME_OFFSETS_ENTRY 20  /* int32 partition, int64 from, next */
#define SS_FRAME_OFFSETS_MAX   256 /* partitions one frame can name */
#define SS_FRAME_TOPIC_MAX     249 /* Kafka's longest topic name */
#define SS_FRAME_OFFSETS_BYTES                                                 \
    (SS_FRAME_OFFSETS_HEAD + SS_FRAME_TOPIC_MAX +                              \
     SS_FRAME_OFFSETS_MAX * SS_FRAME_OFFSETS_ENTRY)
#define SS_FRAME_HEADER_MAX                                                    \
    (SS_FRAME_HEADER_LEN + SS_FRAME_TRAIL_HEAD +                               \
     SS_FRAME_TRAIL_MAX * SS_FRAME_TRAIL_ENTRY + SS_FRAME_INGEST_LEN +         \
     SS_FRAME_OFFSETS_BYTES)

enum ss_frame_kind {
    SS_FRAME_BATCH = 1,
    SS_FRAME_END = 2,
};

#define SS_FRAME_KEYED   0x1u /* records are key/value pairs */
#define SS_FRAME_MORE    0x2u /* more frames of this batch follow */
#define SS_FRAME_ABORTED 0x4u /* end of stream: a stage before failed */
/* A batch frame for a batch time already sent (man/sstream.5 "UPDATES"):
 * its records add to that batch, or with SS_FRAME_WHOLE replace all that
 * was sent for it. Written as version 2; a reader takes it only when it
 * asked to (ss_frame_reader.updates), else it reports and stops. */
#define SS_FRAME_UPDATE       0x8u
#define SS_FRAME_WHOLE        0x10u
#define SS_FRAME_UPDATE_FLAGS (SS_FRAME_UPDATE | SS_FRAME_WHOLE)
/* Join sides (man/sstream.5 "JOIN SIDES"), bits 8-12, written by a join
 * whose output goes straight out, so that a sink can tell a missing side
 * from an empty one; a stage that makes records of its own writes none.
 * The NO_ bits hold for every record of the frame: the writer starts a
 * new part of the batch where they change (ss_frame_writer_sides()). */
#define SS_FRAME_PAIRS     0x100u  /* values are join pairs left<TAB>right */
#define SS_FRAME_OPT_LEFT  0x200u  /* a left side may be missing */
#define SS_FRAME_OPT_RIGHT 0x400u  /* a right side may be missing */
#define SS_FRAME_NO_LEFT   0x800u  /* the records here have no left side */
#define SS_FRAME_NO_RIGHT  0x1000u /* the records here have no right side */
#define SS_FRAME_SIDES     0x1f00u

struct ss_frame {
    int kind;            /* SS_FRAME_BATCH or SS_FRAME_END */
    uint32_t flags;      /* SS_FRAME_KEYED | SS_FRAME_MORE | UPDATE... */
    int64_t time;        /* batch time, ms since the epoch */
    uint32_t interval;   /* batch interval, ms */
    uint32_t count;      /* records in this frame */
    uint32_t replay_ms;  /* how far back a restart may send batches again */
    int64_t closed_ms;   /* wall clock when the source closed it; 0 unknown */
    const char *payload; /* view: valid until the next read */
    size_t payload_len;
    uint64_t offset;   /* byte offset of the frame in its stream */
    size_t header_len; /* bytes of header, trail included */
    const char *trail; /* view: the first trail entry, or NULL */
    unsigned ntrail;   /* trail entries */
    /* The ingest field, with the trail: records the source sent in the
     * batch and its interval; ingest_interval 0 when the header has none. */
    uint64_t ingest;
    uint32_t ingest_interval;
    /* Bytes of the offsets field, right after the ingest field (so at
     * trail + ntrail entries + the ingest field); 0 when there is none.
     * Read it with ss_frame_offsets(). */
    uint16_t offsets_len;
};

/* A frame's offsets field (man/sstream.5 "OFFSETS"), a view into the
 * frame: valid as long as the frame's bytes are. */
struct ss_frame_offsets {
    const char *topic; /* not NUL-terminated */
    size_t topic_len;
    uint32_t partitions; /* the topic's partition count */
    size_t n;            /* partitions listed: the ones the member holds */
    const char *entries; /* n entries, read with ss_frame_offsets_entry() */
};

/* One partition of an offsets field: the batch holds its messages from
 * offset 'from' up to, not including, 'next'. */
struct ss_frame_part {
    int32_t partition;
    int64_t from, next;
};

/* One entry of a frame's stage trail. */
struct ss_frame_stage {
    char name[SS_FRAME_TRAIL_NAME + 1]; /* NUL-terminated */
    uint32_t ms;                        /* processing time of the batch */
};

/* A record is a view into a frame's payload. key is NULL for a keyless
 * record; an empty key is a non-NULL key of length 0. */
struct ss_rec {
    const char *key;
    size_t klen;
    const char *val;
    size_t vlen;
};

/* ---- records: varint lengths (LEB128), then the bytes ---- */

struct ss_rec_iter {
    const char *p, *end;
    int keyed;
};

static inline size_t
ss_frame_varint_get(const char **pp)
{
    const unsigned char *p = (const unsigned char *)*pp;
    size_t v = 0;
    unsigned shift = 0;

    while (*p & 0x80) {
        v |= (size_t)(*p++ & 0x7f) << shift;
        shift += 7;
    }
    v |= (size_t)*p++ << shift;
    *pp = (const char *)p;
    return v;
}

void ss_frame_iter_init(struct ss_rec_iter *it, const struct ss_frame *f);
/* 0 when the records of f (payload, payload_len, flags, count) have
 * lengths that add up to its payload and count, as the reader checks a
 * frame before ss_frame_iter_next() may walk it; else -EBADMSG. For
 * records kept elsewhere in frame form (checkpoints). */
int ss_frame_check_records(const struct ss_frame *f);

/* The records of frame f as --lines prints them, the value or
 * key<TAB>value, each followed by a newline, into out[f->payload_len],
 * all at once, checking the record lengths as it goes: 0; -EBADMSG when
 * they do not add up to the payload and count; -1 (nothing usable in out,
 * nothing checked) when a key or value has 128 bytes or more or the frame
 * is an outer join's (its missing sides marked, ss_out_value()), for the
 * caller to do record by record. */
int ss_frame_lines(const struct ss_frame *f, char *out);

/* Next record of a frame the reader has validated: 1, or 0 at the end. */
static inline int
ss_frame_iter_next(struct ss_rec_iter *it, struct ss_rec *r)
{
    if (it->p >= it->end)
        return 0;
    if (it->keyed) {
        r->klen = ss_frame_varint_get(&it->p);
        r->key = it->p;
        it->p += r->klen;
    } else {
        r->key = NULL;
        r->klen = 0;
    }
    r->vlen = ss_frame_varint_get(&it->p);
    r->val = it->p;
    it->p += r->vlen;
    return 1;
}

/* ---- reading ---- */

struct ss_frame_reader {
    int fd;
    const char *name; /* for messages: "stdin" or a path */
    struct ss_buf in;
    size_t pos;      /* first unconsumed byte of in */
    uint64_t offset; /* stream offset of in.data[pos] */
    int eof;
    /* Set by a caller that checks record lengths itself as it walks a
     * frame (ss_frame_lines(), else ss_frame_reader_check()), so that
     * the payload is walked once, not twice. */
    int defer_records;
    /* Set by a stage that handles update frames (SS_FRAME_UPDATE); a
     * reader without it reports the first one as not for this stage. */
    int updates;
    /* Set for a pipe inside this process whose writer has 'own' set (a
     * --parallel shard's input): as ss_frame_parse_own(), neither the
     * checksum nor the record lengths are checked. */
    int own;
};

void ss_frame_reader_init(struct ss_frame_reader *r, int fd, const char *name);
/* Read the next frame into *f. Returns 1 for a batch frame, 0 for the
 * end-of-stream frame, or SS_REPORTED after reporting what is wrong (a torn or
 * corrupt frame with its byte offset, input that is not frames at all,
 * an upstream that ended without end-of-stream or with an aborted one,
 * a read error). */
int ss_frame_reader_next(struct ss_frame_reader *r, struct ss_frame *f);
/* For a reader with defer_records: 0 when frame f (just read) has
 * record lengths that add up; else -1, reported as a corrupt frame. */
int ss_frame_reader_check(const struct ss_frame_reader *r,
                          const struct ss_frame *f);
/* Report frame f of r as corrupt, for 'why'; SS_REPORTED. */
int ss_frame_reader_corrupt(const struct ss_frame_reader *r,
                            const struct ss_frame *f, const char *why);
void ss_frame_reader_release(struct ss_frame_reader *r);

/* ---- batches ----
 *
 * A batch is the frames up to the one without SS_FRAME_MORE, all with one
 * time: every stage reads its input this way, and no stage keeps batch
 * bookkeeping of its own. A batch whose last part never comes (a part
 * with SS_FRAME_MORE, then a frame of another time or the end of the
 * stream) is a torn batch, reported in one wording by every stage:
 *
 *     stdin: batch 2000 ends without its last part (batch 3000 follows
 *     at byte offset 140)
 *
 * Use:
 *
 *     while ((rc = ss_frame_batch_next(&b)) > 0) {
 *         begin(b.f.time, b.f.interval, b.f.flags);
 *         while ((rc = ss_frame_batch_part(&b, &f)) > 0)
 *             add(&f);
 *         if (rc < 0 || (rc = end()) < 0)
 *             break;
 *     }
 */
struct ss_frame_batch_reader {
    struct ss_frame_reader rd;
    /* After ss_frame_batch_next(): the batch's first frame, or the
     * end-of-stream frame at the end; then the last part handed out.
     * A view valid until the next call. */
    struct ss_frame f;
    int64_t time;    /* the batch being read */
    uint32_t update; /* its SS_FRAME_UPDATE_FLAGS: every part has them */
    int ahead;       /* f is the batch's first frame, not yet handed out */
    int more;        /* the last part handed out carried SS_FRAME_MORE */
    int ended;       /* f is the end-of-stream frame */
};

void ss_frame_batch_init(struct ss_frame_batch_reader *b, int fd,
                         const char *name);
/* Move to the next batch, skipping what is left of the one before: 1 with
 * b->f its first frame (time, interval, flags, closed_ms, replay_ms), 0 at
 * the end of the stream (b->f the end-of-stream frame), or SS_REPORTED.
 * Called again before a part is read, it stays on that batch. */
int ss_frame_batch_next(struct ss_frame_batch_reader *b);
/* The next frame of the batch: 1 and *f (a view valid until the next
 * call), 0 when the batch is complete, or SS_REPORTED after reporting a
 * torn batch or a bad frame. */
int ss_frame_batch_part(struct ss_frame_batch_reader *b, struct ss_frame *f);
void ss_frame_batch_release(struct ss_frame_batch_reader *b);

/* Decode and check a whole frame held in p[0..n): 1 and *f filled, 0 when
 * more bytes are needed (*need says how many in all), or -EBADMSG with a
 * reason in *why. For readers that get bytes pushed to them. */
int ss_frame_parse(const char *p, size_t n, struct ss_frame *f, size_t *need,
                   const char **why);
/* ss_frame_parse() of a frame this process wrote itself (a --parallel
 * shard's, over a pipe inside the process): the header is still decoded
 * and checked, but neither the checksum nor the record lengths are, as
 * those bytes never left our memory. */
int ss_frame_parse_own(const char *p, size_t n, struct ss_frame *f,
                       size_t *need, const char **why);

/* ---- writing ---- */

struct ss_frame_writer {
    int fd;
    struct ss_buf out; /* header + payload of the frame being built */
    int open;          /* a batch has begun and not ended */
    int64_t time;
    uint32_t interval;
    uint32_t flags;
    uint32_t count;
    int64_t closed_ms;
    /* Goes out in every frame: a stage copies its input's (a source
     * sets its own, see man/sstream.5 "replay_ms"). */
    uint32_t replay_ms;
    size_t part_bytes;       /* payload size at which a part is sent */
    uint64_t records, bytes; /* totals written, for summaries */
    uint64_t write_ns;       /* time spent in write(2), for lib/stats */
    unsigned ntrail;         /* trail entries for the batch's last frame */
    char trail[SS_FRAME_TRAIL_MAX * SS_FRAME_TRAIL_ENTRY];
    uint64_t ingest; /* the ingest field; ingest_interval 0: none yet */
    uint32_t ingest_interval;
    /* the offsets field, encoded as in the header; offsets_len 0: none */
    size_t offsets_len;
    char offsets[SS_FRAME_OFFSETS_BYTES];
    /* Set for a pipe to a reader inside this process that checks no
     * checksum (reader 'own', ss_frame_parse_own()): the frames go with
     * a checksum of 0, not computed. */
    int own;
};

void ss_frame_writer_init(struct ss_frame_writer *w, int fd);
/* Start the batch at 'time'; flags is 0 or SS_FRAME_KEYED, with
 * SS_FRAME_UPDATE (and SS_FRAME_WHOLE) for an update of that batch. */
void ss_frame_writer_begin(struct ss_frame_writer *w, int64_t time,
                           uint32_t interval, uint32_t flags);
/* Append a record (key NULL for keyless batches; an empty key or value
 * may be NULL). May write a part frame
 * when the batch outgrows part_bytes. 0, or a negative errno code. */
int ss_frame_writer_add(struct ss_frame_writer *w, const char *key, size_t klen,
                        const char *val, size_t vlen);
/* ss_frame_writer_add() of one record already encoded as in a payload
 * (varint lengths, then the bytes), of the writer's keyedness: rec[0..n)
 * is copied as it is. */
int ss_frame_writer_add_encoded(struct ss_frame_writer *w, const char *rec,
                                size_t n);
/* Append the records of p[0..n) that each end with 'delim', many at a
 * time: as many as come before the first one longer than 'max' bytes or
 * than 127 (whose length takes more than the one byte its delimiter
 * held) and before the unended rest. Those are the caller's, for
 * ss_frame_writer_add(). With 'crlf', a '\r' just before the delimiter
 * is dropped (lines ended by "\r\n"). Keyless batches only. The bytes
 * used (whole records with their delimiters; the records in *records,
 * the bytes of their values in *bytes), or a negative errno code. */
ssize_t ss_frame_writer_add_lines(struct ss_frame_writer *w, const char *p,
                                  size_t n, char delim, int crlf, size_t max,
                                  size_t *records, size_t *bytes);
/* The join sides (SS_FRAME_SIDES bits of 'sides') of the records added
 * from now on; a part that holds records under other ones goes out
 * first. begin() clears them. 0, or a negative errno code. */
int ss_frame_writer_sides(struct ss_frame_writer *w, uint32_t sides);
/* Send the batch's last (or only) frame; 0 or a negative errno code
 * (-EPIPE when the reader went away). */
int ss_frame_writer_end(struct ss_frame_writer *w);
/* Send an end-of-stream frame. */
int ss_frame_writer_eos(struct ss_frame_writer *w, int64_t time,
                        uint32_t interval);
/* The stage failed: drop the batch being built, if any, and send an
 * aborted end-of-stream, so that every later stage fails too and none
 * writes the unfinished batch. Timed as the last batch begun (0 and 1ms
 * when there was none). 0 or a negative errno code (ignored by callers
 * that are failing anyway). */
int ss_frame_writer_abort(struct ss_frame_writer *w);
void ss_frame_writer_release(struct ss_frame_writer *w);

/* Header bytes of a frame with n trail entries (and the ingest field
 * when 'ingest', then 'offsets' bytes of the offsets field): 56 without
 * any. */
size_t ss_frame_header_len(unsigned n, int ingest, size_t offsets);
/* Entry i (< f->ntrail) of a frame's stage trail. */
void ss_frame_trail_get(const struct ss_frame *f, unsigned i,
                        struct ss_frame_stage *st);
/* Take over the trail, ingest and offsets fields of frame 'in' (read
 * upstream) for the batch being written; ss_frame_writer_begin() empties
 * them. */
void ss_frame_writer_trail(struct ss_frame_writer *w,
                           const struct ss_frame *in);
/* Append this stage's entry (name cut to 8 bytes); a full trail drops
 * its oldest entry. The trail goes out with the batch's last frame. */
void ss_frame_writer_stage(struct ss_frame_writer *w, const char *name,
                           uint32_t ms);
/* The first stage after the source, whose input has no ingest field:
 * its own input, 'records' in a batch of 'interval' ms, is what the
 * source sent. No effect when the field came from upstream. */
void ss_frame_writer_ingest(struct ss_frame_writer *w, uint64_t records,
                            uint32_t interval);

/* The offsets field of frame f: 1 and *o filled, or 0 when f has none. */
int ss_frame_offsets(const struct ss_frame *f, struct ss_frame_offsets *o);
/* Entry i (< o->n) of an offsets field. */
void ss_frame_offsets_entry(const struct ss_frame_offsets *o, size_t i,
                            struct ss_frame_part *p);
/* Set the offsets field of the batch being written (a source of Kafka
 * messages, before the batch's last frame goes): topic[0..topic_len) of
 * 'partitions' partitions, and n entries. The ingest field must be set
 * too (ss_frame_writer_ingest()): the offsets come after it. 0, or
 * -E2BIG when the topic name or n is over the limits (nothing set). */
int ss_frame_writer_offsets(struct ss_frame_writer *w, const char *topic,
                            size_t topic_len, uint32_t partitions,
                            const struct ss_frame_part *parts, size_t n);

/* Encode a whole frame header into h[ss_frame_header_len(f->ntrail)],
 * with f->ntrail trail entries from f->trail, and checksum it together
 * with the payload. */
void ss_frame_encode_header(char *h, const struct ss_frame *f,
                            const char *payload, size_t len);

#endif
