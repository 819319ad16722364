/* ckpt.c - checkpoint files: snapshots and delta logs (see ckpt.h).
 *
 * File layout (little-endian; man/sstream-state.1, CHECKPOINT FORMAT):
 *   header  0 magic "SSCK", 4 u16 version, 6 u16 kind (1 snapshot, 2 log),
 *           8 u64 generation, 16 i64 batch time, 24 u64 body length,
 *           32 u64 XXH64 (seed 0) of the header with this field zero,
 *           then the body
 *   snapshot body: a varint count of options, each two strings; a u64
 *           count of records, each a key and a value string; a u64 count
 *           of blobs, each an i64 time and a string. A string is a varint
 *           length and the bytes
 *   log:    a header with an empty body (time: the snapshot's), then
 *           entries: 0 "SSCD", 4 u32 body length, 8 i64 batch time,
 *           16 u64 XXH64 of bytes 0..16 and the body; the body is ops:
 *           u8 1 put key value | 2 del key | 3 blob bytes
 */
#include "ckpt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "bytes.h"
#include "ckpt_int.h"
#include "diag.h"
#include "dur.h"
#include "frame.h"
#include "io.h"

/* ---- little-endian fields and varints ---- */

int
ss_ckpt_put_bytes(struct ss_buf *b, const void *p, size_t n)
{
    int rc = ss_bytes_append_varint(b, n);

    return rc < 0 ? rc : ss_buf_append(b, p, n);
}

static uint64_t
get_varint(struct ss_ckpt_rd *r)
{
    uint64_t v;

    if (ss_bytes_get_varint(&r->p, r->end, &v) < 0) {
        r->bad = 1;
        return 0;
    }
    return v;
}

const char *
ss_ckpt_get_bytes(struct ss_ckpt_rd *r, size_t *n)
{
    uint64_t len = get_varint(r);
    const char *s = r->p;

    if (r->bad || len > (uint64_t)(r->end - r->p)) {
        r->bad = 1;
        *n = 0;
        return NULL;
    }
    r->p += len;
    *n = (size_t)len;
    return s;
}

static uint64_t
get_count(struct ss_ckpt_rd *r)
{
    uint64_t v;

    if (r->end - r->p < 8) {
        r->bad = 1;
        return 0;
    }
    v = ss_bytes_get_le(r->p, 8);
    r->p += 8;
    return v;
}

/* ---- file names ---- */

void
ss_ckpt__gen_name(char *out, uint64_t gen, const char *ext)
{
    snprintf(out, NAME_MAX_LEN, "%012" PRIu64 ".%s", gen, ext);
}

/* Generation number of "NNNNNNNNNNNN.ext", or 0. */
static uint64_t
parse_name(const char *name, const char *ext)
{
    uint64_t g = 0;
    size_t i;

    for (i = 0; i < 12; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
        g = g * 10 + (uint64_t)(name[i] - '0');
    }
    if (name[i] != '.' || strcmp(name + i + 1, ext) != 0)
        return 0;
    return g;
}

static int
cmp_gen(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The generations of the snapshots in the directory, ascending, into
 * *gens (malloc'd); the count, or a negative errno code. Also notes the
 * highest generation of any file in c->max_gen. */
ssize_t
ss_ckpt__list_snaps(struct ss_ckpt *c, uint64_t **gens)
{
    DIR *d;
    struct dirent *e;
    size_t n = 0, cap = 0;
    uint64_t *v = NULL, g;
    int fd = dup(c->dirfd);

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        return -errno;
    }
    rewinddir(d); /* the dup shares its offset with earlier listings */
    while ((e = readdir(d)) != NULL) {
        if ((g = parse_name(e->d_name, "log")) > c->max_gen)
            c->max_gen = g;
        if ((g = parse_name(e->d_name, "snap")) == 0)
            continue;
        if (g > c->max_gen)
            c->max_gen = g;
        if (n == cap) {
            uint64_t *nv;

            cap = cap ? cap * 2 : 8;
            if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
                free(v);
                closedir(d);
                return -ENOMEM;
            }
            v = nv;
        }
        v[n++] = g;
    }
    closedir(d);
    if (n > 0)
        qsort(v, n, sizeof(*v), cmp_gen);
    *gens = v;
    return (ssize_t)n;
}

static int
slurp_at(struct ss_ckpt *c, const char *name, struct ss_buf *out)
{
    int fd = openat(c->dirfd, name, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0)
        return -errno;
    rc = ss_io_slurp_fd(fd, out);
    close(fd);
    return rc;
}

/* ---- headers ---- */

void
ss_ckpt__make_header(char *h, int kind, uint64_t gen, int64_t time,
                     uint64_t body)
{
    memcpy(h, SS_CKPT_MAGIC, 4);
    h[4] = SS_CKPT_VERSION;
    h[5] = 0;
    h[6] = (char)kind;
    h[7] = 0;
    ss_bytes_put_le(h + 8, (uint64_t)gen, 8);
    ss_bytes_put_le(h + 16, (uint64_t)time, 8);
    ss_bytes_put_le(h + 24, (uint64_t)body, 8);
    ss_bytes_put_le(h + 32, (uint64_t)0, 8);
}

uint64_t
ss_ckpt__sum_file(const char *p, size_t n)
{
    XXH64_state_t *st = XXH64_createState();
    static const char zero[8];
    uint64_t h;

    XXH64_reset(st, 0);
    XXH64_update(st, p, 32);
    XXH64_update(st, zero, 8);
    XXH64_update(st, p + 40, n - 40);
    h = XXH64_digest(st);
    XXH64_freeState(st);
    return h;
}

/* Check a file's header and checksum: 0, SS_USAGE (format version this
 * build does not read: reported), or -EBADMSG with *why set. */
static int
check_file(const struct ss_ckpt *c, const char *name, const struct ss_buf *b,
           int kind, const char **why)
{
    unsigned version;
    int64_t t;

    if (b->len < SS_CKPT_HEADER_LEN || memcmp(b->data, SS_CKPT_MAGIC, 4)) {
        *why = b->len < SS_CKPT_HEADER_LEN ? "truncated" : "not a checkpoint";
        return -EBADMSG;
    }
    version = (unsigned char)b->data[4] | (unsigned char)b->data[5] << 8;
    if (version != SS_CKPT_VERSION) {
        ss_diag("checkpoint '%s/%s' has format version %u; this sstream "
                "reads version %d (start with a new --checkpoint DIR)",
                c->dir, name, version, SS_CKPT_VERSION);
        return SS_USAGE;
    }
    if (b->data[6] != kind) {
        *why = "wrong file kind";
        return -EBADMSG;
    }
    if (ss_bytes_get_le(b->data + 24, 8) != b->len - SS_CKPT_HEADER_LEN &&
        (kind == KIND_SNAP || ss_bytes_get_le(b->data + 24, 8) != 0)) {
        *why = "truncated";
        return -EBADMSG;
    }
    if (ss_ckpt__sum_file(b->data,
                          kind == KIND_SNAP ? b->len : SS_CKPT_HEADER_LEN) !=
        ss_bytes_get_le(b->data + 32, 8)) {
        *why = "checksum mismatch";
        return -EBADMSG;
    }
    /* Times are batch times: within the range frames allow, so that the
     * engines' arithmetic on them cannot overflow. The first log begins
     * before any batch (its lead delta follows the empty state). */
    t = (int64_t)ss_bytes_get_le(b->data + 16, 8);
    if (!ss_frame_time_valid(t) &&
        !(kind == KIND_LOG && t == SS_CKPT_NO_TIME)) {
        *why = "batch time out of range";
        return -EBADMSG;
    }
    return 0;
}

/* ---- loading ---- */

static int
check_opts(struct ss_ckpt *c, const struct ss_ckpt_opt *opts, size_t nopts)
{
    const char *name, *old;

    for (size_t i = 0; (name = ss_ckpt_opt_name(c, i, &old)) != NULL; i++) {
        const char *now = NULL;

        for (size_t j = 0; j < nopts; j++)
            if (strcmp(opts[j].name, name) == 0)
                now = opts[j].value;
        if (now == NULL || strcmp(now, old) != 0) {
            ss_diag("checkpoint '%s' was made with --%s %s, not --%s %s "
                    "(use another --checkpoint DIR, or --dump it and "
                    "--import)",
                    c->dir, name, old, name, now ? now : "(unset)");
            return SS_USAGE;
        }
    }
    for (size_t j = 0; j < nopts; j++) {
        size_t i;

        for (i = 0; (name = ss_ckpt_opt_name(c, i, &old)) != NULL; i++)
            if (strcmp(opts[j].name, name) == 0)
                break;
        if (name == NULL) {
            ss_diag("checkpoint '%s' was made without --%s (use another "
                    "--checkpoint DIR, or --dump it and --import)",
                    c->dir, opts[j].name);
            return SS_USAGE;
        }
    }
    return 0;
}

/* Read the options into c->opts: 0 or -EBADMSG. */
static int
parse_opts(struct ss_ckpt *c, struct ss_ckpt_rd *r)
{
    uint64_t n = get_varint(r);
    const char *k, *v;
    size_t kl, vl;
    int rc = 0;

    ss_buf_reset(&c->opts);
    for (c->nopts = 0; !r->bad && c->nopts < n && rc == 0; c->nopts++) {
        k = ss_ckpt_get_bytes(r, &kl);
        v = ss_ckpt_get_bytes(r, &vl);
        if (r->bad || memchr(k, 0, kl) || memchr(v, 0, vl))
            return -EBADMSG;
        if ((rc = ss_buf_append(&c->opts, k, kl)) == 0 &&
            (rc = ss_buf_putc(&c->opts, 0)) == 0 &&
            (rc = ss_buf_append(&c->opts, v, vl)) == 0)
            rc = ss_buf_putc(&c->opts, 0);
    }
    return r->bad ? -EBADMSG : rc;
}

static int
load_snap(struct ss_ckpt_rd *r, const struct ss_ckpt_loader *ld)
{
    uint64_t n;
    const char *k, *v;
    size_t kl, vl;
    int rc = 0;

    n = get_count(r);
    for (uint64_t i = 0; !r->bad && i < n && rc == 0; i++) {
        k = ss_ckpt_get_bytes(r, &kl);
        v = ss_ckpt_get_bytes(r, &vl);
        if (!r->bad)
            rc = ld->put(ld->ctx, k, kl, v, vl);
    }
    n = get_count(r);
    for (uint64_t i = 0; !r->bad && i < n && rc == 0; i++) {
        int64_t t;

        if (r->end - r->p < 8) {
            r->bad = 1;
            break;
        }
        t = (int64_t)ss_bytes_get_le(r->p, 8);
        r->p += 8;
        v = ss_ckpt_get_bytes(r, &vl);
        if (!ss_frame_time_valid(t))
            r->bad = 1;
        if (!r->bad)
            rc = ld->blob(ld->ctx, t, v, vl);
    }
    if (rc == 0 && (r->bad || r->p != r->end))
        rc = -EBADMSG;
    return rc;
}

static int
apply_entry(const char *body, size_t n, int64_t t,
            const struct ss_ckpt_loader *ld)
{
    struct ss_ckpt_rd r = {body, body + n, 0};
    const char *k, *v;
    size_t kl, vl;
    int rc = 0;

    while (rc == 0 && r.p < r.end) {
        int op = *r.p++;

        k = ss_ckpt_get_bytes(&r, &kl);
        if (op == OP_PUT) {
            v = ss_ckpt_get_bytes(&r, &vl);
            if (!r.bad)
                rc = ld->put(ld->ctx, k, kl, v, vl);
        } else if (op == OP_DEL && !r.bad) {
            rc = ld->del(ld->ctx, k, kl);
        } else if (op == OP_BLOB && !r.bad) {
            rc = ld->blob(ld->ctx, t, k, kl);
        } else {
            r.bad = 1;
        }
        if (r.bad)
            return -EBADMSG;
    }
    return rc;
}

/* Remember a corrupt file for ss_ckpt_check_resume(): the first corrupt
 * snapshot met, unless a log is cut short later (logs are met oldest
 * first): the last cut is where the state ends, the file to name. */
static void
note_damage(struct ss_ckpt *c, const char *name, int log, uint64_t cut_at)
{
    char path[4096];

    if (c->damaged != NULL && !log)
        return;
    snprintf(path, sizeof(path), "%s/%s", c->dir, name);
    free(c->damaged);
    c->damaged = strdup(path); /* NULL: reported without the name */
    c->cut_at = cut_at;
}

/* Whether p[0..end) starts with a whole log entry, checksum right and
 * time after 'prev': 1 and its body length and time, or 0. */
static int
entry_ok(const char *p, const char *end, int64_t prev, uint32_t *blen,
         int64_t *t)
{
    if (end - p < SS_CKPT_ENTRY_LEN ||
        (*blen = (uint32_t)ss_bytes_get_le(p + 4, 4)) >
            (size_t)(end - p) - SS_CKPT_ENTRY_LEN)
        return 0;
    *t = (int64_t)ss_bytes_get_le(p + 8, 8);
    return memcmp(p, SS_CKPT_LOG_MAGIC, 4) == 0 &&
           XXH64(p, 16, XXH64(p + SS_CKPT_ENTRY_LEN, *blen, 0)) ==
               ss_bytes_get_le(p + 16, 8) &&
           *t > prev && ss_frame_time_valid(*t);
}

/* Whether the bad bytes p[0..end) that end a log are a torn write (a
 * crash while appending the last entry), not corruption: a prefix of
 * one entry, shorter than its length field says, with no whole entry
 * after it; or zeros (a file system that grew the file before the data
 * reached it). One flipped bit in the last entry's length field also
 * makes it look longer than the bytes there: that entry checks out with
 * the length it really has, and is corruption. */
static int
torn(const char *p, const char *end)
{
    size_t n = (size_t)(end - p);
    const char *q;
    uint32_t blen;
    int64_t t;
    char h[16];

    for (q = p; q < end && *q == 0; q++)
        ;
    if (q == end)
        return 1;
    if (n >= SS_CKPT_ENTRY_LEN) {
        if (ss_bytes_get_le(p + 4, 4) <= n - SS_CKPT_ENTRY_LEN)
            return 0; /* whole, yet bad */
        memcpy(h, p, sizeof(h));
        ss_bytes_put_le(h + 4, n - SS_CKPT_ENTRY_LEN, 4);
        if (n - SS_CKPT_ENTRY_LEN <= UINT32_MAX &&
            XXH64(h, 16,
                  XXH64(p + SS_CKPT_ENTRY_LEN, n - SS_CKPT_ENTRY_LEN, 0)) ==
                ss_bytes_get_le(p + 16, 8))
            return 0;
    }
    for (q = p + 1; (q = memchr(q, SS_CKPT_LOG_MAGIC[0], (size_t)(end - q)));
         q++)
        if (entry_ok(q, end, INT64_MIN, &blen, &t))
            return 0;
    return 1;
}

/* Apply log 'gen' if it continues the state at c->time. The log of the
 * snapshot just loaded ('own') begins at or before it (its first entry,
 * the snapshot's own batch, is in the snapshot already); a later
 * generation's log must begin exactly there. 1 applied to its end (a torn
 * last entry is ignored), 2 cut short by corruption (reported, noted), 0
 * no such log or not continuing, or a negative errno code. */
static int
load_log(struct ss_ckpt *c, uint64_t gen, int own,
         const struct ss_ckpt_loader *ld, struct ss_buf *b)
{
    char name[NAME_MAX_LEN];
    const char *why = NULL, *p, *end;
    int64_t h, prev, t;
    uint32_t blen;
    int rc;

    ss_ckpt__gen_name(name, gen, "log");
    ss_buf_reset(b);
    if ((rc = slurp_at(c, name, b)) == -ENOENT)
        return 0;
    if (rc < 0)
        return ss_diag_err(rc, "checkpoint '%s/%s'", c->dir, name);
    if ((rc = check_file(c, name, b, KIND_LOG, &why)) == SS_USAGE)
        return rc;
    if (rc < 0) {
        ss_diag("warning: checkpoint '%s/%s': %s; ignored", c->dir, name, why);
        note_damage(c, name, 1, 0);
        return 2;
    }
    h = (int64_t)ss_bytes_get_le(b->data + 16, 8);
    if (own ? h > c->time : h != c->time)
        return 0;
    p = b->data + SS_CKPT_HEADER_LEN;
    end = b->data + b->len;
    for (prev = h; p < end && entry_ok(p, end, prev, &blen, &t); prev = t) {
        if (t > c->time) {
            rc = apply_entry(p + SS_CKPT_ENTRY_LEN, blen, t, ld);
            if (rc == -EBADMSG)
                rc = ss_diag("checkpoint '%s/%s': malformed entry at byte %zu",
                             c->dir, name, (size_t)(p - b->data));
            if (rc < 0)
                return rc;
            c->time = t;
        }
        p += SS_CKPT_ENTRY_LEN + blen;
    }
    if (p == end)
        return 1;
    why = torn(p, end) ? "torn entry (a crash while writing)" : "corrupt entry";
    ss_diag("warning: checkpoint '%s/%s': %s at byte %zu; state restored "
            "to batch time %" PRId64,
            c->dir, name, why, (size_t)(p - b->data), c->time);
    if (why[0] == 't')
        return 1;
    note_damage(c, name, 1, (uint64_t)(p - b->data));
    return 2;
}

/* After snapshot 'gen' loaded: apply the logs from its generation on,
 * each one that continues the state, and say whether a corrupt file left
 * the state older than the newest the directory held (c->behind). Walks
 * up to the newest generation, over at most a few missing ones (a stray
 * file name must not make it walk for ever). 1, or a negative code. */
static int
load_logs(struct ss_ckpt *c, uint64_t gen, const struct ss_ckpt_loader *ld,
          struct ss_buf *b)
{
    uint64_t end_gen = gen, missing = 0;
    int clean = 1, rc;

    for (uint64_t g = gen; g <= c->max_gen && missing <= 2 * SS_CKPT_KEEP;
         g++) {
        if ((rc = load_log(c, g, g == gen, ld, b)) < 0)
            return rc;
        if (rc > 0) {
            end_gen = g;
            clean = rc == 1;
        }
        missing = rc > 0 ? 0 : missing + 1;
    }
    c->behind = c->damaged != NULL && (end_gen < c->max_gen || !clean);
    return 1;
}

/* Load snapshot 'gen': 1 loaded, 0 corrupt (reported), or a negative
 * errno code. */
static int
try_snap(struct ss_ckpt *c, uint64_t gen, const struct ss_ckpt_opt *opts,
         size_t nopts, const struct ss_ckpt_loader *ld, struct ss_buf *b)
{
    char name[NAME_MAX_LEN];
    const char *why = NULL;
    struct ss_ckpt_rd r = {0};
    int rc;

    ss_ckpt__gen_name(name, gen, "snap");
    ss_buf_reset(b);
    if ((rc = slurp_at(c, name, b)) < 0)
        return ss_diag_err(rc, "checkpoint '%s/%s'", c->dir, name);
    if ((rc = check_file(c, name, b, KIND_SNAP, &why)) == SS_USAGE)
        return rc;
    if (rc < 0) {
        ss_diag("warning: checkpoint '%s/%s': %s; using the one before it",
                c->dir, name, why);
        note_damage(c, name, 0, 0);
        return 0;
    }
    /* Options first, before anything reaches the loader: a refused
     * checkpoint must leave the caller's state untouched too. */
    r.p = b->data + SS_CKPT_HEADER_LEN;
    r.end = b->data + b->len;
    if ((rc = parse_opts(c, &r)) == 0 && opts != NULL &&
        (rc = check_opts(c, opts, nopts)) < 0)
        return rc;
    if (rc == 0)
        rc = load_snap(&r, ld);
    if (rc == -EBADMSG)
        rc = ss_diag("checkpoint '%s/%s': malformed contents", c->dir, name);
    if (rc < 0)
        return rc;
    c->time = (int64_t)ss_bytes_get_le(b->data + 16, 8);
    c->snap_time = c->time;
    c->snap_bytes = b->len;
    return 1;
}

int
ss_ckpt_open(struct ss_ckpt *c, const char *dir, const struct ss_ckpt_opt *opts,
             size_t nopts, const struct ss_ckpt_loader *ld, int readonly)
{
    struct ss_buf b = {0};
    uint64_t *gens = NULL;
    ssize_t n;
    int rc = 0;

    memset(c, 0, sizeof(*c));
    c->logfd = -1;
    c->time = SS_CKPT_NO_TIME;
    c->snap_time = SS_CKPT_NO_TIME;
    c->readonly = readonly;
    if ((c->dir = strdup(dir)) == NULL)
        return ss_diag_err(-ENOMEM, "checkpoint '%s'", dir);
    if ((!readonly && (rc = ss_io_mkdirs(dir)) < 0) ||
        (rc = c->dirfd = ss_io_dir_open(dir)) < 0)
        return ss_diag_err(rc, "checkpoint '%s'", dir);
    rc = 0;
    /* A crash between writing a file and renaming it leaves its
     * temporary file; the folder is the stage's own. */
    if (!readonly)
        ss_io_tmp_clean(c->dirfd, NULL, NULL);
    if ((n = ss_ckpt__list_snaps(c, &gens)) < 0)
        return ss_diag_err((int)n, "checkpoint '%s'", dir);
    if (n == 0 && c->max_gen > 0)
        ss_diag("warning: checkpoint '%s' has logs but no snapshot; "
                "starting empty",
                dir);
    for (ssize_t i = n - 1; i >= 0 && rc == 0; i--)
        if ((rc = try_snap(c, gens[i], opts, nopts, ld, &b)) == 1)
            rc = load_logs(c, gens[i], ld, &b);
    if (rc == 0 && n > 0) {
        ss_diag("warning: checkpoint '%s': no valid snapshot; starting "
                "empty",
                dir);
        c->behind = 1;
    }
    free(gens);
    ss_buf_release(&b);
    return rc;
}

int
ss_ckpt_check_resume(const struct ss_ckpt *c, int64_t time, int64_t interval)
{
    const char *file = c->damaged != NULL ? c->damaged : c->dir;
    char accept[4200];

    if (!c->behind)
        return 0;
    if (c->time == SS_CKPT_NO_TIME) {
        ss_diag("checkpoint '%s' is corrupt and no older state is left", file);
        return ss_diag("restore '%s' from a backup, or move '%s' away to "
                       "start with an empty state",
                       c->dir, file);
    }
    if (time <= c->time + interval)
        return 0; /* the batches after c->time come again: exact */
    if (c->cut_at > 0)
        snprintf(accept, sizeof(accept),
                 "cut '%s' to %" PRIu64 " bytes (truncate -s %" PRIu64 ")",
                 file, c->cut_at, c->cut_at);
    else
        snprintf(accept, sizeof(accept), "move '%s' away", file);
    ss_diag("checkpoint '%s' is corrupt: the state goes back to batch time "
            "%" PRId64 ", but the input resumes at batch time %" PRId64
            ", so the batches in between would be missing",
            file, c->time, time);
    return ss_diag("restore '%s' from a backup, or send the input again from "
                   "batch time %" PRId64 " (a --wal that still holds it), or "
                   "%s to go on without those batches",
                   c->dir, c->time + interval, accept);
}

const char *
ss_ckpt_opt_name(const struct ss_ckpt *c, size_t i, const char **value)
{
    const char *p = c->opts.data;

    if (i >= c->nopts)
        return NULL;
    while (i-- > 0) {
        p += strlen(p) + 1;
        p += strlen(p) + 1;
    }
    *value = p + strlen(p) + 1;
    return p;
}

void
ss_ckpt_close(struct ss_ckpt *c)
{
    if (c->logfd >= 0)
        close(c->logfd);
    if (c->dirfd > 0)
        close(c->dirfd);
    free(c->dir);
    free(c->damaged);
    ss_buf_release(&c->opts);
    ss_buf_release(&c->w);
    ss_buf_release(&c->d);
    memset(c, 0, sizeof(*c));
    c->logfd = -1;
}
