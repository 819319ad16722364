/* frame.c - fuzz target: the frame reader (lib/frame.c).
 *
 * The input is a byte of flags, then a stream of frames. The stream goes
 * through ss_frame_parse() frame by frame, as the WAL reader uses it, and
 * through ss_frame_reader_next() over a socket (or a file) to its end,
 * as every stage reads stdin; the records and stage trail of every frame
 * that passes are walked.
 *
 *   flags 0x80  keep the checksums as given (FZ_RAW)
 *         0x40  the reader defers record checks (ss_frame_lines(), then
 *               ss_frame_reader_check(), as sstream-sink does)
 *         0x20  read a regular file rather than a socket
 *         0x1f  socket reads of this many bytes times 7 (at least 1/32 of
 *               the stream, so that every read ends a message); 0: one
 *         0x01  also: the reader takes update frames (a stage such as
 *               sstream-window --allowed-lateness); else it refuses them
 */
#include "frame.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"

#define SOCKET_MAX ((size_t)64 << 10) /* larger streams go through a file */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_init();
    return 0;
}

/* Where walk() leaves what it read, so that the reads are not
 * optimised away. */
static volatile size_t sink;

static void
walk(const struct ss_frame *f)
{
    struct ss_rec_iter it;
    struct ss_rec r;
    struct ss_frame_stage st;
    size_t sum = 0;

    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r))
        sum += r.klen + r.vlen + (r.key ? (unsigned char)r.key[0] : 0) +
               (r.vlen ? (unsigned char)r.val[r.vlen - 1] : 0);
    for (unsigned i = 0; i < f->ntrail; i++) {
        ss_frame_trail_get(f, i, &st);
        sum += st.ms + (unsigned char)st.name[0];
    }
    sink += sum;
}

static void
parse_all(const uint8_t *p, size_t n)
{
    struct ss_frame f;
    const char *why;
    size_t pos = 0, need;

    while (ss_frame_parse((const char *)p + pos, n - pos, &f, &need, &why) >
           0) {
        walk(&f);
        pos += need;
    }
}

/* Feed p[0..n) into a socket in messages of 'chunk' bytes; the read end,
 * or -1. */
static int
feed_socket(const uint8_t *p, size_t n, size_t chunk)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
        return -1;
    for (size_t at = 0; at < n; at += chunk) {
        size_t len = n - at < chunk ? n - at : chunk;

        if (write(sv[1], p + at, len) != (ssize_t)len) {
            close(sv[0]);
            close(sv[1]);
            return -1;
        }
    }
    close(sv[1]);
    return sv[0];
}

static void
read_all(int fd, int defer, int updates)
{
    struct ss_frame_reader rd;
    struct ss_frame f;
    char *lines = NULL;

    ss_frame_reader_init(&rd, fd, "fuzz");
    rd.defer_records = defer;
    rd.updates = updates;
    while (ss_frame_reader_next(&rd, &f) > 0) {
        if (defer) {
            char *nl = realloc(lines, f.payload_len + 1);
            int rc;

            if (nl == NULL)
                break;
            lines = nl;
            if ((rc = ss_frame_lines(&f, lines)) == -1 &&
                ss_frame_reader_check(&rd, &f) < 0)
                break;
            if (rc < -1)
                break;
        }
        walk(&f);
    }
    free(lines);
    ss_frame_reader_release(&rd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned flags;
    uint8_t *p;
    size_t n, chunk;
    int fd;

    if (size < 1)
        return 0;
    flags = data[0];
    n = size - 1;
    if ((p = malloc(n + 1)) == NULL)
        return 0;
    memcpy(p, data + 1, n);
    if (!(flags & FZ_RAW))
        fz_fix_frames(p, n);
    parse_all(p, n);

    chunk = (flags & 0x1f) ? (flags & 0x1f) * 7u : n;
    if (chunk < n / 32 + 1)
        chunk = n / 32 + 1;
    if ((flags & 0x20) || n > SOCKET_MAX ||
        (fd = feed_socket(p, n, chunk)) < 0) {
        fz_stdin(p, n);
        fd = dup(0);
    }
    if (fd >= 0) {
        read_all(fd, (flags & 0x40) != 0, (flags & 0x01) != 0);
        close(fd);
    }
    free(p);
    return 0;
}
