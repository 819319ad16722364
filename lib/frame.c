/* frame.c - encoding, decoding and checking frames (man/sstream.5).
 *
 * Every multi-byte field is little-endian and written byte by byte, so the
 * code does not depend on the host's byte order or alignment. The checksum
 * is XXH64 (seed 0) over the header, with its checksum field zero, followed
 * by the payload: a flipped bit anywhere in a frame is caught.
 */
#include "frame.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "bytes.h"
#include "diag.h"
#include "dur.h"
#include "io.h"
#include "scan.h"

/* Header field offsets (man/sstream.5, "HEADER"). */
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 4,
    OFF_KIND = 5,
    OFF_HLEN = 6,
    OFF_TIME = 8,
    OFF_INTERVAL = 16,
    OFF_FLAGS = 20,
    OFF_COUNT = 24,
    OFF_REPLAY = 28,
    OFF_PLEN = 32,
    OFF_SUM = 40,
    OFF_CLOSED = 48,
    OFF_TRAIL = 56, /* uint8 count, 3 reserved, then the entries */
};

static uint64_t
checksum(const char *h, size_t hlen, const char *payload, size_t len)
{
    static const char zero[8];
    XXH64_state_t st;

    XXH64_reset(&st, 0);
    XXH64_update(&st, h, OFF_SUM);
    XXH64_update(&st, zero, 8);
    XXH64_update(&st, h + OFF_SUM + 8, hlen - OFF_SUM - 8);
    XXH64_update(&st, payload, len);
    return XXH64_digest(&st);
}

size_t
ss_frame_header_len(unsigned n, int ingest, size_t offsets)
{
    if (n == 0 && !ingest)
        return SS_FRAME_HEADER_LEN;
    return SS_FRAME_HEADER_LEN + SS_FRAME_TRAIL_HEAD +
           (size_t)n * SS_FRAME_TRAIL_ENTRY +
           (ingest ? SS_FRAME_INGEST_LEN + offsets : 0);
}

/* The header of f without its checksum (the field 0), with the offsets
 * field offsets[0..f->offsets_len) after the ingest field: its length. */
static size_t
put_header(char *h, const struct ss_frame *f, const char *offsets, size_t len)
{
    unsigned n =
        f->ntrail < SS_FRAME_TRAIL_MAX ? f->ntrail : SS_FRAME_TRAIL_MAX;
    int ingest = f->ingest_interval != 0;
    size_t hlen = ss_frame_header_len(n, ingest, f->offsets_len);
    char *e = h + OFF_TRAIL + SS_FRAME_TRAIL_HEAD;

    memcpy(h + OFF_MAGIC, SS_FRAME_MAGIC, 4);
    h[OFF_VERSION] = (f->flags & SS_FRAME_UPDATE) ? SS_FRAME_VERSION_UPDATE
                                                  : SS_FRAME_VERSION;
    h[OFF_KIND] = (char)f->kind;
    ss_bytes_put_le(h + OFF_HLEN, hlen, 2);
    ss_bytes_put_le(h + OFF_TIME, (uint64_t)f->time, 8);
    ss_bytes_put_le(h + OFF_INTERVAL, f->interval, 4);
    ss_bytes_put_le(h + OFF_FLAGS, f->flags, 4);
    ss_bytes_put_le(h + OFF_COUNT, f->count, 4);
    ss_bytes_put_le(h + OFF_REPLAY, f->replay_ms, 4);
    ss_bytes_put_le(h + OFF_PLEN, len, 8);
    ss_bytes_put_le(h + OFF_CLOSED, (uint64_t)f->closed_ms, 8);
    if (n > 0 || ingest) /* the count, and 3 reserved zeros */
        ss_bytes_put_le(h + OFF_TRAIL, n, 4);
    if (n > 0)
        memcpy(e, f->trail, (size_t)n * SS_FRAME_TRAIL_ENTRY);
    if (ingest) {
        e += (size_t)n * SS_FRAME_TRAIL_ENTRY;
        ss_bytes_put_le(e, f->ingest, 8);
        ss_bytes_put_le(e + 8, f->ingest_interval, 4);
        if (f->offsets_len > 0)
            memcpy(e + SS_FRAME_INGEST_LEN, offsets, f->offsets_len);
    }
    ss_bytes_put_le(h + OFF_SUM, 0, 8);
    return hlen;
}

void
ss_frame_encode_header(char *h, const struct ss_frame *f, const char *payload,
                       size_t len)
{
    const char *offsets = NULL;
    size_t hlen;

    if (f->offsets_len > 0 && f->trail != NULL)
        offsets = f->trail + (size_t)f->ntrail * SS_FRAME_TRAIL_ENTRY +
                  SS_FRAME_INGEST_LEN;
    hlen = put_header(h, f, offsets, len);

    ss_bytes_put_le(h + OFF_SUM, checksum(h, hlen, payload, len), 8);
}

static void parse_offsets(const char *e, size_t room, struct ss_frame *f);

/* The trail, if the header is long enough to have one. Bytes after the
 * trail are fields of later writers: skipped, as man/sstream.5 says. A
 * count the header cannot hold is not ours to judge (the checksum has
 * vouched for the bytes): the trail is ignored, never the frame. */
static void
parse_trail(const char *p, size_t hlen, struct ss_frame *f)
{
    unsigned n;

    f->trail = NULL;
    f->ntrail = 0;
    f->ingest = 0;
    f->ingest_interval = 0;
    f->offsets_len = 0;
    if (hlen < SS_FRAME_HEADER_LEN + SS_FRAME_TRAIL_HEAD)
        return;
    n = (unsigned char)p[OFF_TRAIL];
    if (n > SS_FRAME_TRAIL_MAX || ss_frame_header_len(n, 0, 0) > hlen)
        return;
    f->ntrail = n;
    f->trail = p + OFF_TRAIL + SS_FRAME_TRAIL_HEAD;
    if (ss_frame_header_len(n, 1, 0) <= hlen) {
        const char *e = f->trail + (size_t)n * SS_FRAME_TRAIL_ENTRY;

        f->ingest = ss_bytes_get_le(e, 8);
        f->ingest_interval = (uint32_t)ss_bytes_get_le(e + 8, 4);
        parse_offsets(e + SS_FRAME_INGEST_LEN,
                      hlen - ss_frame_header_len(n, 1, 0), f);
    }
}

/* The offsets field, when the header holds one whole: its length in
 * f->offsets_len. Like the trail, one that does not fit is ignored. */
static void
parse_offsets(const char *e, size_t room, struct ss_frame *f)
{
    size_t m, len;

    if (room < SS_FRAME_OFFSETS_HEAD)
        return;
    m = (size_t)ss_bytes_get_le(e, 2);
    len = SS_FRAME_OFFSETS_HEAD + (unsigned char)e[2] +
          m * SS_FRAME_OFFSETS_ENTRY;
    if (m > SS_FRAME_OFFSETS_MAX || e[2] == 0 ||
        (unsigned char)e[2] > SS_FRAME_TOPIC_MAX || len > room)
        return;
    f->offsets_len = (uint16_t)len;
}

int
ss_frame_offsets(const struct ss_frame *f, struct ss_frame_offsets *o)
{
    const char *e;

    if (f->offsets_len == 0 || f->trail == NULL)
        return 0;
    e = f->trail + (size_t)f->ntrail * SS_FRAME_TRAIL_ENTRY +
        SS_FRAME_INGEST_LEN;
    o->n = (size_t)ss_bytes_get_le(e, 2);
    o->topic_len = (unsigned char)e[2];
    o->partitions = (uint32_t)ss_bytes_get_le(e + 4, 4);
    o->topic = e + SS_FRAME_OFFSETS_HEAD;
    o->entries = o->topic + o->topic_len;
    return 1;
}

void
ss_frame_offsets_entry(const struct ss_frame_offsets *o, size_t i,
                       struct ss_frame_part *p)
{
    const char *e = o->entries + i * SS_FRAME_OFFSETS_ENTRY;

    assert(i < o->n);
    p->partition = (int32_t)ss_bytes_get_le(e, 4);
    p->from = (int64_t)ss_bytes_get_le(e + 4, 8);
    p->next = (int64_t)ss_bytes_get_le(e + 12, 8);
}

void
ss_frame_trail_get(const struct ss_frame *f, unsigned i,
                   struct ss_frame_stage *st)
{
    const char *e = f->trail + (size_t)i * SS_FRAME_TRAIL_ENTRY;
    size_t n = 0;

    assert(i < f->ntrail);
    while (n < SS_FRAME_TRAIL_NAME && e[n] != '\0')
        n++;
    memcpy(st->name, e, n);
    st->name[n] = '\0';
    st->ms = (uint32_t)ss_bytes_get_le(e + SS_FRAME_TRAIL_NAME, 4);
}

/* Walk the payload once: the lengths must add up exactly and the record
 * count must match, so that ss_frame_iter_next() can trust it. */
static int
records_valid(const struct ss_frame *f)
{
    const unsigned char *p = (const unsigned char *)f->payload;
    size_t i = 0, n = f->payload_len;
    int fields = (f->flags & SS_FRAME_KEYED) ? 2 : 1;
    uint64_t count = 0, len;

    while (i < n) {
        for (int k = 0; k < fields; k++) {
            if (i < n && p[i] < 0x80) { /* the usual one-byte length */
                i += 1 + (size_t)p[i];
                continue;
            }
            const char *q = (const char *)p + i, *end = (const char *)p + n;

            if (ss_bytes_get_varint(&q, end, &len) < 0 ||
                len > (uint64_t)(end - q))
                return 0;
            i = (size_t)(q - (const char *)p) + len;
        }
        count++;
    }
    return i == n && count == f->count;
}

int
ss_frame_check_records(const struct ss_frame *f)
{
    return records_valid(f) ? 0 : -EBADMSG;
}

/* Version 2 is the update frame, and only it: a batch frame with the
 * UPDATE flag; WHOLE goes with UPDATE only. */
static int
update_flags_valid(char version, const struct ss_frame *f)
{
    int update = (f->flags & SS_FRAME_UPDATE) != 0;

    if (version == SS_FRAME_VERSION_UPDATE)
        return update && f->kind == SS_FRAME_BATCH;
    return !update && !(f->flags & SS_FRAME_WHOLE);
}

static int parse(const char *p, size_t n, struct ss_frame *f, size_t *need,
                 const char **why, int check_records, int check_sum);

int
ss_frame_parse(const char *p, size_t n, struct ss_frame *f, size_t *need,
               const char **why)
{
    return parse(p, n, f, need, why, 1, 1);
}

int
ss_frame_parse_own(const char *p, size_t n, struct ss_frame *f, size_t *need,
                   const char **why)
{
    return parse(p, n, f, need, why, 0, 0);
}

#define BAD_RECORDS "record lengths do not match the payload"

static int
parse(const char *p, size_t n, struct ss_frame *f, size_t *need,
      const char **why, int check_records, int check_sum)
{
    size_t hlen;
    uint64_t plen;

    *need = SS_FRAME_HEADER_LEN;
    if (n < 8)
        return 0;
    if (memcmp(p + OFF_MAGIC, SS_FRAME_MAGIC, 4) != 0)
        return *why = "bad magic (not an sstream frame)", -EBADMSG;
    if (p[OFF_VERSION] != SS_FRAME_VERSION &&
        p[OFF_VERSION] != SS_FRAME_VERSION_UPDATE)
        return *why = "unsupported frame format version", -EBADMSG;
    hlen = ss_bytes_get_le(p + OFF_HLEN, 2);
    if (hlen < SS_FRAME_HEADER_LEN)
        return *why = "header too short", -EBADMSG;
    *need = hlen;
    if (n < hlen)
        return 0;
    plen = ss_bytes_get_le(p + OFF_PLEN, 8);
    if (plen > SS_FRAME_MAX_PAYLOAD)
        return *why = "payload length out of range", -EBADMSG;
    *need = hlen + plen;
    if (n < *need)
        return 0;
    f->kind = (unsigned char)p[OFF_KIND];
    f->time = (int64_t)ss_bytes_get_le(p + OFF_TIME, 8);
    f->interval = (uint32_t)ss_bytes_get_le(p + OFF_INTERVAL, 4);
    f->flags = (uint32_t)ss_bytes_get_le(p + OFF_FLAGS, 4);
    f->count = (uint32_t)ss_bytes_get_le(p + OFF_COUNT, 4);
    f->replay_ms = (uint32_t)ss_bytes_get_le(p + OFF_REPLAY, 4);
    f->closed_ms = (int64_t)ss_bytes_get_le(p + OFF_CLOSED, 8);
    f->payload = p + hlen;
    f->payload_len = plen;
    f->header_len = hlen;
    if (check_sum &&
        ss_bytes_get_le(p + OFF_SUM, 8) != checksum(p, hlen, f->payload, plen))
        return *why = "checksum mismatch", -EBADMSG;
    parse_trail(p, hlen, f);
    if (f->kind != SS_FRAME_BATCH && f->kind != SS_FRAME_END)
        return *why = "unknown frame kind", -EBADMSG;
    if (f->interval == 0)
        return *why = "batch interval is zero", -EBADMSG;
    if (!update_flags_valid(p[OFF_VERSION], f))
        return *why = "update flags do not match the version", -EBADMSG;
    if (!ss_frame_time_valid(f->time) || !ss_frame_time_valid(f->closed_ms))
        return *why = "time out of range", -EBADMSG;
    if (check_records && !records_valid(f))
        return *why = BAD_RECORDS, -EBADMSG;
    return 1;
}

void
ss_frame_iter_init(struct ss_rec_iter *it, const struct ss_frame *f)
{
    it->p = f->payload;
    it->end = f->payload + f->payload_len;
    it->keyed = (f->flags & SS_FRAME_KEYED) != 0;
}

int
ss_frame_lines(const struct ss_frame *f, char *out)
{
    const unsigned char *p = (const unsigned char *)f->payload;
    size_t i = 0, n = f->payload_len, k = 0;
    int keyed = (f->flags & SS_FRAME_KEYED) != 0;

    if (f->flags & (SS_FRAME_OPT_LEFT | SS_FRAME_OPT_RIGHT))
        return -1;
    if (n == 0)
        return f->count == 0 ? 0 : -EBADMSG;
    /* Each field's bytes move back one place, over its length byte, and
     * the next length byte's place takes the tab after a key, the newline
     * after a value: a key/value record is as long as its line. */
    memcpy(out, p + 1, n - 1);
    while (i < n) {
        if (keyed) {
            if (p[i] & 0x80)
                return -1;
            i += 1 + (size_t)p[i];
            if (i >= n) /* a key needs a value's length after it */
                return -EBADMSG;
            out[i - 1] = '\t';
        }
        if (p[i] & 0x80)
            return -1;
        i += 1 + (size_t)p[i];
        if (i > n)
            return -EBADMSG;
        out[i - 1] = '\n';
        k++;
    }
    return k == f->count ? 0 : -EBADMSG;
}

/* Reads ask for at least this much room: a few frame parts' worth, so
 * that the tail rarely has to move (see fill()); less at the start of a
 * stream, which may be a few frames in all. */
#define READ_MIN   ((size_t)4 << 20)
#define READ_FIRST ((size_t)64 << 10)

void
ss_frame_reader_init(struct ss_frame_reader *r, int fd, const char *name)
{
    memset(r, 0, sizeof(*r));
    r->fd = fd;
    r->name = name;
}

/* Read more bytes towards 'need' unconsumed ones. The unread tail moves
 * to the front only when the room behind it is too small, so that most
 * frames are parsed where they were read, without a copy. The room asked
 * for grows with the bytes that have arrived, never with what a header
 * only announces: a header that claims 2 GiB and then ends costs a
 * READ_FIRST buffer, not 2 GiB; a large frame that does arrive doubles
 * its room read after read. */
static int
fill(struct ss_frame_reader *r, size_t need)
{
    size_t have = r->in.len - r->pos;
    size_t rest = need > have ? need - have : 0;
    uint64_t seen = r->offset + have;
    size_t want = seen < READ_FIRST ? READ_FIRST
                  : seen < READ_MIN ? (size_t)seen
                                    : READ_MIN;
    ssize_t n;
    int rc;

    want += rest < have ? rest : have;
    if (r->pos > 0 && r->in.cap - r->in.len < want) {
        ss_buf_consume(&r->in, r->pos);
        r->pos = 0;
    }
    if ((rc = ss_buf_reserve(&r->in, want)) < 0)
        return rc;
    n = ss_io_read(r->fd, r->in.data + r->in.len, r->in.cap - r->in.len);
    if (n < 0)
        return (int)n;
    if (n == 0) {
        r->eof = 1;
        return 0;
    }
    ss_buf_commit(&r->in, (size_t)n);
    return 1;
}

/* Whether the first n bytes of a stream could begin a frame: the magic,
 * or as much of it as has come. */
static int
starts_as_frames(const char *p, size_t n)
{
    return n == 0 || memcmp(p, SS_FRAME_MAGIC, n < 4 ? n : 4) == 0;
}

/* Text piped into a stage is the likeliest mistake of all: say so, and
 * what goes first, rather than report a corrupt frame at offset 0. */
static int
not_frames(const struct ss_frame_reader *r)
{
    return ss_diag("%s: the input is not sstream frames (a pipeline starts "
                   "with sstream-source, e.g. 'sstream-source < FILE | %s')",
                   r->name, ss_diag_prog());
}

/* An update frame (late records for a batch already sent) reaching a
 * stage that cannot fold it in: stop, and say where it came from, rather
 * than take it for a batch of its own. */
static int
not_updates(const struct ss_frame_reader *r, const struct ss_frame *f)
{
    return ss_diag("%s: update frame for batch %" PRId64 " at byte offset "
                   "%" PRIu64 ": %s does not take updates (late records for "
                   "a batch already sent, sstream(5) UPDATES; they come from "
                   "--late-policy update or --allowed-lateness upstream)",
                   r->name, f->time, f->offset, ss_diag_prog());
}

int
ss_frame_reader_next(struct ss_frame_reader *r, struct ss_frame *f)
{
    const char *why = NULL;
    size_t need = 0;
    int rc;

    for (;;) {
        size_t have = r->in.len - r->pos;

        f->offset = r->offset;
        /* Nothing read yet: in.data may be NULL, and NULL + 0 is
         * undefined (clang's UBSan says so). */
        if (have == 0) {
            need = SS_FRAME_HEADER_LEN;
            rc = 0;
        } else if (r->offset == 0 &&
                   !starts_as_frames(r->in.data + r->pos, have)) {
            return not_frames(r);
        } else {
            rc = parse(r->in.data + r->pos, have, f, &need, &why,
                       !r->defer_records && !r->own, !r->own);
        }
        if (rc < 0)
            return ss_frame_reader_corrupt(r, f, why);
        if (rc > 0)
            break;
        if (r->eof || (rc = fill(r, need)) == 0) {
            if (have == 0)
                return ss_diag("%s: upstream ended without end-of-stream",
                               r->name);
            return ss_diag("%s: upstream ended without end-of-stream "
                           "(torn frame at byte offset %" PRIu64 ")",
                           r->name, r->offset);
        }
        if (rc < 0)
            return ss_diag_err(rc, "%s: read", r->name);
    }
    f->offset = r->offset;
    r->pos += need;
    r->offset += need;
    if ((f->flags & SS_FRAME_UPDATE) && !r->updates)
        return not_updates(r, f);
    if (f->kind == SS_FRAME_BATCH)
        return 1;
    if (f->flags & SS_FRAME_ABORTED)
        return ss_diag("%s: the stream was aborted: a stage before this one "
                       "failed (see its message)",
                       r->name);
    return 0;
}

int
ss_frame_reader_corrupt(const struct ss_frame_reader *r,
                        const struct ss_frame *f, const char *why)
{
    return ss_diag("%s: corrupt frame at byte offset %" PRIu64 ": %s", r->name,
                   f->offset, why);
}

int
ss_frame_reader_check(const struct ss_frame_reader *r, const struct ss_frame *f)
{
    if (!r->defer_records || r->own || records_valid(f))
        return 0;
    return ss_frame_reader_corrupt(r, f, BAD_RECORDS);
}

void
ss_frame_reader_release(struct ss_frame_reader *r)
{
    ss_buf_release(&r->in);
}

void
ss_frame_batch_init(struct ss_frame_batch_reader *b, int fd, const char *name)
{
    memset(b, 0, sizeof(*b));
    ss_frame_reader_init(&b->rd, fd, name);
}

/* The one wording of a torn batch (frame.h), whichever stage reads it. */
static int
torn_batch(const struct ss_frame_batch_reader *b)
{
    char next[48];

    if (b->f.kind == SS_FRAME_END)
        snprintf(next, sizeof(next), "end-of-stream");
    else if (b->f.flags & SS_FRAME_UPDATE)
        snprintf(next, sizeof(next), "an update of batch %" PRId64, b->f.time);
    else
        snprintf(next, sizeof(next), "batch %" PRId64, b->f.time);
    return ss_diag("%s: batch %" PRId64 " ends without its last part (%s "
                   "follows at byte offset %" PRIu64 ")",
                   b->rd.name, b->time, next, b->f.offset);
}

int
ss_frame_batch_next(struct ss_frame_batch_reader *b)
{
    struct ss_frame f;
    int rc;

    while (b->more) /* the caller left a batch unread: skip its rest */
        if (ss_frame_batch_part(b, &f) < 0)
            return SS_REPORTED;
    if (b->ended)
        return 0;
    if (b->ahead)
        return 1;
    if ((rc = ss_frame_reader_next(&b->rd, &b->f)) <= 0) {
        b->ended = rc == 0;
        return rc;
    }
    b->time = b->f.time;
    b->update = b->f.flags & SS_FRAME_UPDATE_FLAGS;
    b->ahead = 1;
    return 1;
}

int
ss_frame_batch_part(struct ss_frame_batch_reader *b, struct ss_frame *f)
{
    int rc;

    if (b->ahead) {
        b->ahead = 0;
    } else if (!b->more) {
        return 0;
    } else {
        b->more = 0;
        if ((rc = ss_frame_reader_next(&b->rd, &b->f)) < 0)
            return SS_REPORTED;
        if (rc == 0 || b->f.time != b->time ||
            (b->f.flags & SS_FRAME_UPDATE_FLAGS) != b->update) {
            b->ended = rc == 0;
            return torn_batch(b);
        }
    }
    b->more = (b->f.flags & SS_FRAME_MORE) != 0;
    *f = b->f;
    return 1;
}

void
ss_frame_batch_release(struct ss_frame_batch_reader *b)
{
    ss_frame_reader_release(&b->rd);
}

/* Header room at the front of a writer's buffer: the longest header. */
#define ROOM SS_FRAME_HEADER_MAX

void
ss_frame_writer_init(struct ss_frame_writer *w, int fd)
{
    memset(w, 0, sizeof(*w));
    w->fd = fd;
    w->part_bytes = SS_FRAME_PART_BYTES;
    ss_io_widen_pipe(fd, SS_FRAME_PIPE_BYTES);
}

void
ss_frame_writer_begin(struct ss_frame_writer *w, int64_t time,
                      uint32_t interval, uint32_t flags)
{
    assert(!w->open);
    w->open = 1;
    w->time = time;
    w->interval = interval;
    w->flags = flags & (SS_FRAME_KEYED | SS_FRAME_UPDATE_FLAGS);
    w->count = 0;
    w->ntrail = 0;
    w->ingest = 0;
    w->ingest_interval = 0;
    w->offsets_len = 0;
    ss_buf_reset(&w->out);
    /* Room for the longest header now; it is filled in when the frame is
     * sent, flush against the payload (see send_frame()). */
    if (ss_buf_reserve(&w->out, ROOM) == 0)
        ss_buf_commit(&w->out, ROOM);
}

/* The header goes right before the payload, in the room begin() left,
 * so that a frame with a trail, or without, is still one write. Only a
 * batch's last frame carries the trail: that is when the stage's own
 * entry is known. */
static int
send_frame(struct ss_frame_writer *w, int kind, uint32_t flags)
{
    struct ss_frame f = {
        .kind = kind,
        .flags = flags,
        .time = w->time,
        .interval = w->interval,
        .count = w->count,
        .replay_ms = w->replay_ms,
        .closed_ms = w->closed_ms,
        .trail = w->trail,
    };
    size_t plen = w->out.len - ROOM;
    size_t hlen;

    if (kind == SS_FRAME_BATCH && !(flags & SS_FRAME_MORE)) {
        f.ntrail = w->ntrail;
        f.ingest = w->ingest;
        f.ingest_interval = w->ingest_interval;
        if (f.ingest_interval != 0)
            f.offsets_len = (uint16_t)w->offsets_len;
    }
    hlen = ss_frame_header_len(f.ntrail, f.ingest_interval != 0, f.offsets_len);
    char *h = w->out.data + ROOM - hlen;
    uint64_t t0;
    int rc;

    put_header(h, &f, w->offsets, plen);
    if (!w->own)
        ss_bytes_put_le(h + OFF_SUM,
                        checksum(h, hlen, w->out.data + ROOM, plen), 8);
    t0 = ss_dur_mono_ns();
    rc = ss_io_write_all(w->fd, h, hlen + plen);
    w->write_ns += ss_dur_mono_ns() - t0;
    w->bytes += hlen + plen;
    w->out.len = ROOM;
    w->count = 0;
    return rc;
}

int
ss_frame_writer_add(struct ss_frame_writer *w, const char *key, size_t klen,
                    const char *val, size_t vlen)
{
    char *p;
    size_t n = 0;
    int rc;

    assert(w->open && (key != NULL) == ((w->flags & SS_FRAME_KEYED) != 0));
    if (w->out.len == 0) /* begin() could not reserve the header */
        return -ENOMEM;
    if (w->out.len - ROOM >= w->part_bytes &&
        (rc = send_frame(w, SS_FRAME_BATCH, w->flags | SS_FRAME_MORE)) < 0)
        return rc;
    if (w->out.cap - w->out.len < 20 + klen + vlen &&
        (rc = ss_buf_reserve(&w->out, 20 + klen + vlen)) < 0)
        return rc;
    p = w->out.data + w->out.len;
    if (key != NULL) {
        n += ss_bytes_put_varint(p, klen);
        if (klen > 0) /* an empty key or value may come as NULL */
            memcpy(p + n, key, klen);
        n += klen;
    }
    n += ss_bytes_put_varint(p + n, vlen);
    if (vlen > 0)
        memcpy(p + n, val, vlen);
    n += vlen;
    w->out.len += n; /* within the room reserved above */
    w->count++;
    w->records++;
    return 0;
}

int
ss_frame_writer_add_encoded(struct ss_frame_writer *w, const char *rec,
                            size_t n)
{
    int rc;

    assert(w->open);
    if (w->out.len == 0) /* begin() could not reserve the header */
        return -ENOMEM;
    if (w->out.len - ROOM >= w->part_bytes &&
        (rc = send_frame(w, SS_FRAME_BATCH, w->flags | SS_FRAME_MORE)) < 0)
        return rc;
    if (w->out.cap - w->out.len < n && (rc = ss_buf_reserve(&w->out, n)) < 0)
        return rc;
    memcpy(w->out.data + w->out.len, rec, n);
    w->out.len += n;
    w->count++;
    w->records++;
    return 0;
}

#define CR_STRIDE 1024 /* bytes looked through for a '\r' at a time */

/* The records of in[0..room) that end with delim, encoded into out:
 * each record's bytes one place on, its length byte where the delimiter
 * before it was. out has room + 1 bytes; in is readable to in[avail).
 * Stops at a record longer than cap (< 128). The bytes used; the bytes
 * written in *outlen.
 *
 * With crlf, a '\r' just before the delimiter is not part of the record.
 * memchr() looks ahead for a '\r' a stride at a time (a fraction of the
 * cost of the scan below); blocks before the next one take the plain
 * loop, so input without '\r' pays nothing per record. Past a '\r', each
 * record's last byte is tested, and from the first '\r' dropped on,
 * every record moves back one byte more. */
static size_t
encode_lines(char *out, const char *in, size_t room, size_t avail, char delim,
             int crlf, size_t cap, size_t *records, size_t *outlen)
{
    size_t start = 0, o = 0, k = 0, clean = crlf ? 0 : SIZE_MAX;

    for (size_t blk = 0; blk < room; blk += SS_SCAN_BLOCK) {
        size_t left = room - blk, end = blk + SS_SCAN_BLOCK;
        uint64_t m;

        if (avail - blk >= SS_SCAN_BLOCK) {
            m = ss_scan_byte(in + blk, delim);
        } else {
            char buf[SS_SCAN_BLOCK];

            memset(buf, ~delim, sizeof(buf));
            memcpy(buf, in + blk, avail - blk);
            m = ss_scan_byte(buf, delim);
        }
        if (left < SS_SCAN_BLOCK) {
            m &= ((uint64_t)1 << left) - 1;
            memcpy(out + 1 + blk, in + blk, left);
            end = room;
        } else {
            memcpy(out + 1 + blk, in + blk, SS_SCAN_BLOCK);
        }
        if (end > clean) { /* from the byte before the block's first */
            size_t from = blk > 0 ? blk - 1 : 0;
            size_t n = room - from < CR_STRIDE ? room - from : CR_STRIDE;
            const char *cr = memchr(in + from, '\r', n);

            clean = cr != NULL ? (size_t)(cr - in) : from + n;
        }
        if (end <= clean && o == start) {
            for (; m != 0; m &= m - 1) {
                size_t at = blk + (size_t)__builtin_ctzll(m);

                if (at - start > cap) {
                    o = start;
                    goto done;
                }
                out[start] = (char)(at - start);
                start = at + 1;
                k++;
            }
            o = start;
        }
        for (; m != 0; m &= m - 1) {
            size_t at = blk + (size_t)__builtin_ctzll(m), len = at - start;

            if (len > cap)
                goto done;
            if (len > 0 && in[at - 1] == '\r')
                len--;
            /* Behind by the '\r's dropped: the bytes copied above lie
             * past o, and later blocks are copied past this record. */
            if (o != start)
                memmove(out + o + 1, out + start + 1, len);
            out[o] = (char)len;
            o += 1 + len;
            start = at + 1;
            k++;
        }
        if (blk + SS_SCAN_BLOCK - start > cap) /* no shorter end to come */
            break;
    }
done:
    *records = k;
    *outlen = o;
    return start;
}

ssize_t
ss_frame_writer_add_lines(struct ss_frame_writer *w, const char *p, size_t n,
                          char delim, int crlf, size_t max, size_t *records,
                          size_t *bytes)
{
    size_t used = 0, cap = max < 127 ? max : 127;
    int rc;

    assert(w->open && !(w->flags & SS_FRAME_KEYED));
    *records = *bytes = 0;
    if (w->out.len == 0) /* begin() could not reserve the header */
        return -ENOMEM;
    while (used < n) {
        size_t plen = w->out.len - ROOM, room, got, olen, k;

        if (plen >= w->part_bytes) {
            if ((rc = send_frame(w, SS_FRAME_BATCH, w->flags | SS_FRAME_MORE)) <
                0)
                return rc;
            plen = 0;
        }
        room = w->part_bytes - plen;
        if (room > n - used)
            room = n - used;
        if ((rc = ss_buf_reserve(&w->out, room + 1)) < 0)
            return rc;
        got = encode_lines(w->out.data + w->out.len, p + used, room, n - used,
                           delim, crlf, cap, &k, &olen);
        if (got == 0)
            break;
        w->out.len += olen;
        w->count += (uint32_t)k;
        w->records += k;
        *records += k;
        *bytes += olen - k; /* less the length bytes */
        used += got;
    }
    return (ssize_t)used;
}

int
ss_frame_writer_sides(struct ss_frame_writer *w, uint32_t sides)
{
    int rc;

    sides &= SS_FRAME_SIDES;
    if ((w->flags & SS_FRAME_SIDES) == sides)
        return 0;
    if (w->count > 0 &&
        (rc = send_frame(w, SS_FRAME_BATCH, w->flags | SS_FRAME_MORE)) < 0)
        return rc;
    w->flags = (w->flags & ~SS_FRAME_SIDES) | sides;
    return 0;
}

int
ss_frame_writer_end(struct ss_frame_writer *w)
{
    assert(w->open);
    w->open = 0;
    if (w->out.len == 0)
        return -ENOMEM;
    return send_frame(w, SS_FRAME_BATCH, w->flags);
}

int
ss_frame_writer_eos(struct ss_frame_writer *w, int64_t time, uint32_t interval)
{
    ss_frame_writer_begin(w, time, interval, 0);
    w->open = 0;
    if (w->out.len == 0)
        return -ENOMEM;
    return send_frame(w, SS_FRAME_END, 0);
}

int
ss_frame_writer_abort(struct ss_frame_writer *w)
{
    int64_t time = w->interval != 0 ? w->time : 0;
    uint32_t interval = w->interval != 0 ? w->interval : 1;

    /* begin() takes over an open batch: its records are never sent. */
    w->open = 0;
    ss_frame_writer_begin(w, time, interval, 0);
    w->open = 0;
    if (w->out.len == 0)
        return -ENOMEM;
    return send_frame(w, SS_FRAME_END, SS_FRAME_ABORTED);
}

void
ss_frame_writer_release(struct ss_frame_writer *w)
{
    ss_buf_release(&w->out);
}

void
ss_frame_writer_trail(struct ss_frame_writer *w, const struct ss_frame *in)
{
    w->ntrail =
        in->ntrail < SS_FRAME_TRAIL_MAX ? in->ntrail : SS_FRAME_TRAIL_MAX;
    if (w->ntrail > 0)
        memcpy(w->trail, in->trail, (size_t)w->ntrail * SS_FRAME_TRAIL_ENTRY);
    w->ingest = in->ingest;
    w->ingest_interval = in->ingest_interval;
    w->offsets_len = 0;
    if (in->offsets_len > 0 && in->offsets_len <= sizeof(w->offsets)) {
        memcpy(w->offsets,
               in->trail + (size_t)in->ntrail * SS_FRAME_TRAIL_ENTRY +
                   SS_FRAME_INGEST_LEN,
               in->offsets_len);
        w->offsets_len = in->offsets_len;
    }
}

int
ss_frame_writer_offsets(struct ss_frame_writer *w, const char *topic,
                        size_t topic_len, uint32_t partitions,
                        const struct ss_frame_part *parts, size_t n)
{
    char *e = w->offsets;

    if (topic_len == 0 || topic_len > SS_FRAME_TOPIC_MAX ||
        n > SS_FRAME_OFFSETS_MAX)
        return -E2BIG;
    ss_bytes_put_le(e, n, 2);
    e[2] = (char)topic_len;
    e[3] = 0;
    ss_bytes_put_le(e + 4, partitions, 4);
    memcpy(e + SS_FRAME_OFFSETS_HEAD, topic, topic_len);
    e += SS_FRAME_OFFSETS_HEAD + topic_len;
    for (size_t i = 0; i < n; i++, e += SS_FRAME_OFFSETS_ENTRY) {
        ss_bytes_put_le(e, (uint32_t)parts[i].partition, 4);
        ss_bytes_put_le(e + 4, (uint64_t)parts[i].from, 8);
        ss_bytes_put_le(e + 12, (uint64_t)parts[i].next, 8);
    }
    w->offsets_len = (size_t)(e - w->offsets);
    return 0;
}

void
ss_frame_writer_ingest(struct ss_frame_writer *w, uint64_t records,
                       uint32_t interval)
{
    if (w->ingest_interval != 0)
        return;
    w->ingest = records;
    w->ingest_interval = interval;
}

void
ss_frame_writer_stage(struct ss_frame_writer *w, const char *name, uint32_t ms)
{
    char *e;
    size_t n = strlen(name);

    if (w->ntrail == SS_FRAME_TRAIL_MAX) {
        memmove(w->trail, w->trail + SS_FRAME_TRAIL_ENTRY,
                (SS_FRAME_TRAIL_MAX - 1) * SS_FRAME_TRAIL_ENTRY);
        w->ntrail--;
    }
    e = w->trail + (size_t)w->ntrail++ * SS_FRAME_TRAIL_ENTRY;
    memset(e, 0, SS_FRAME_TRAIL_NAME);
    memcpy(e, name, n < SS_FRAME_TRAIL_NAME ? n : SS_FRAME_TRAIL_NAME);
    ss_bytes_put_le(e + SS_FRAME_TRAIL_NAME, ms, 4);
}
