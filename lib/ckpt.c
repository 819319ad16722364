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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "bytes.h"
#include "diag.h"
#include "frame.h"
#include "io.h"

enum {
    KIND_SNAP = 1,
    KIND_LOG = 2
};

enum {
    OP_PUT = 1,
    OP_DEL = 2,
    OP_BLOB = 3
};

#define NAME_MAX_LEN 64

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

/* ---- test-only crash points ---- */

void
ss_ckpt_test_crash(const char *point)
{
    static unsigned long hits;
    const char *env = getenv("SSTREAM_TEST_CRASH_AT"), *colon;
    size_t plen = strlen(point);

    if (env == NULL || (colon = strchr(env, ':')) == NULL ||
        (size_t)(colon - env) != plen || memcmp(env, point, plen) != 0)
        return;
    if (++hits == strtoul(colon + 1, NULL, 10))
        raise(SIGKILL);
}

/* ---- file names ---- */

static void
gen_name(char *out, uint64_t gen, const char *ext)
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
 * *gens (malloc'd); the count, or a negative errno code. Also removes
 * leftover temporary files unless read-only, and notes the highest
 * generation of any file in c->max_gen. */
static ssize_t
list_snaps(struct ss_ckpt *c, uint64_t **gens)
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
        if (!c->readonly && strncmp(e->d_name, ".tmp-", 5) == 0)
            unlinkat(c->dirfd, e->d_name, 0);
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
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", c->dir, name);
    return ss_io_slurp(path, out);
}

/* ---- headers ---- */

static void
make_header(char *h, int kind, uint64_t gen, int64_t time, uint64_t body)
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

static uint64_t
sum_file(const char *p, size_t n)
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

/* Check a file's header and checksum: 0, -EINVAL (format version this
 * build does not read: reported), or -EBADMSG with *why set. */
static int
check_file(const struct ss_ckpt *c, const char *name, const struct ss_buf *b,
           int kind, const char **why)
{
    unsigned version;

    if (b->len < SS_CKPT_HEADER_LEN || memcmp(b->data, SS_CKPT_MAGIC, 4)) {
        *why = b->len < SS_CKPT_HEADER_LEN ? "truncated" : "not a checkpoint";
        return -EBADMSG;
    }
    version = (unsigned char)b->data[4] | (unsigned char)b->data[5] << 8;
    if (version != SS_CKPT_VERSION) {
        ss_diag("checkpoint '%s/%s' has format version %u; this sstream "
                "reads version %d (start with a new --checkpoint DIR)",
                c->dir, name, version, SS_CKPT_VERSION);
        return -EINVAL;
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
    if (sum_file(b->data, kind == KIND_SNAP ? b->len : SS_CKPT_HEADER_LEN) !=
        ss_bytes_get_le(b->data + 32, 8)) {
        *why = "checksum mismatch";
        return -EBADMSG;
    }
    /* Times are batch times: within the range frames allow, so that the
     * engines' arithmetic on them cannot overflow. */
    if (!ss_frame_time_valid((int64_t)ss_bytes_get_le(b->data + 16, 8))) {
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
            return -EINVAL;
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
            return -EINVAL;
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

/* Apply log 'gen' if it continues from c->time: 1 applied (wholly or up
 * to a torn or corrupt entry, reported), 0 no such log or not continuing,
 * or a negative errno code. */
static int
load_log(struct ss_ckpt *c, uint64_t gen, const struct ss_ckpt_loader *ld,
         struct ss_buf *b)
{
    char name[NAME_MAX_LEN];
    const char *why = NULL, *p, *end;
    int rc;

    gen_name(name, gen, "log");
    ss_buf_reset(b);
    if ((rc = slurp_at(c, name, b)) == -ENOENT)
        return 0;
    if (rc < 0)
        return ss_diag_err(rc, "checkpoint '%s/%s'", c->dir, name), rc;
    if ((rc = check_file(c, name, b, KIND_LOG, &why)) == -EINVAL)
        return rc;
    if (rc < 0) {
        ss_diag("warning: checkpoint '%s/%s': %s; ignored", c->dir, name, why);
        return 0;
    }
    if ((int64_t)ss_bytes_get_le(b->data + 16, 8) != c->time)
        return 0;
    p = b->data + SS_CKPT_HEADER_LEN;
    end = b->data + b->len;
    while (p < end) {
        uint32_t blen;
        int64_t t;

        if (end - p < SS_CKPT_ENTRY_LEN ||
            (blen = (uint32_t)ss_bytes_get_le(p + 4, 4)) >
                (size_t)(end - p) - SS_CKPT_ENTRY_LEN) {
            why = "torn entry (a crash while writing)";
            break;
        }
        t = (int64_t)ss_bytes_get_le(p + 8, 8);
        if (memcmp(p, SS_CKPT_LOG_MAGIC, 4) != 0 ||
            XXH64(p, 16, XXH64(p + 24, blen, 0)) !=
                ss_bytes_get_le(p + 16, 8) ||
            t <= c->time || !ss_frame_time_valid(t)) {
            why = "corrupt entry";
            break;
        }
        if ((rc = apply_entry(p + SS_CKPT_ENTRY_LEN, blen, t, ld)) < 0) {
            if (rc == -EBADMSG)
                ss_diag("checkpoint '%s/%s': malformed entry at byte %zu",
                        c->dir, name, (size_t)(p - b->data));
            return rc;
        }
        c->time = t;
        p += SS_CKPT_ENTRY_LEN + blen;
    }
    if (why != NULL)
        ss_diag("warning: checkpoint '%s/%s': %s at byte %zu; state "
                "restored to batch time %" PRId64,
                c->dir, name, why, (size_t)(p - b->data), c->time);
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

    gen_name(name, gen, "snap");
    ss_buf_reset(b);
    if ((rc = slurp_at(c, name, b)) < 0)
        return ss_diag_err(rc, "checkpoint '%s/%s'", c->dir, name), rc;
    if ((rc = check_file(c, name, b, KIND_SNAP, &why)) == -EINVAL)
        return rc;
    if (rc < 0) {
        ss_diag("warning: checkpoint '%s/%s': %s; using the one before it",
                c->dir, name, why);
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
        ss_diag("checkpoint '%s/%s': malformed contents", c->dir, name);
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
        return -ENOMEM;
    if (!readonly && mkdir(dir, 0777) < 0 && errno != EEXIST) {
        rc = -errno;
        ss_diag_err(rc, "checkpoint '%s'", dir);
        return rc;
    }
    if ((c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        rc = -errno;
        ss_diag_err(rc, "checkpoint '%s'", dir);
        return rc;
    }
    if ((n = list_snaps(c, &gens)) < 0) {
        ss_diag_err((int)n, "checkpoint '%s'", dir);
        return (int)n;
    }
    if (n == 0 && c->max_gen > 0)
        ss_diag("warning: checkpoint '%s' has logs but no snapshot; "
                "starting empty",
                dir);
    for (ssize_t i = n - 1; i >= 0 && rc == 0; i--)
        if ((rc = try_snap(c, gens[i], opts, nopts, ld, &b)) == 1)
            for (uint64_t g = gens[i]; rc >= 0; g++)
                if ((rc = load_log(c, g, ld, &b)) == 0) {
                    rc = 1;
                    break;
                }
    if (rc == 0 && n > 0)
        ss_diag("warning: checkpoint '%s': no valid snapshot; starting "
                "empty",
                dir);
    free(gens);
    ss_buf_release(&b);
    return rc;
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

/* ---- writing ---- */

int
ss_ckpt_want_snapshot(const struct ss_ckpt *c, int64_t time)
{
    if (c->logfd < 0)
        return 1;
    if (c->interval_ms > 0)
        return time - c->snap_time >= c->interval_ms;
    return c->log_bytes > c->snap_bytes;
}

/* Write p[0..n) to fd, crashing halfway for the test hook. */
static int
write_hooked(int fd, const char *p, size_t n)
{
    int rc = ss_io_write_all(fd, p, n / 2);

    if (rc == 0) {
        ss_ckpt_test_crash("ckpt-write");
        rc = ss_io_write_all(fd, p + n / 2, n - n / 2);
    }
    return rc;
}

int
ss_ckpt_snap_begin(struct ss_ckpt *c, int64_t time,
                   const struct ss_ckpt_opt *opts, size_t nopts)
{
    char h[SS_CKPT_HEADER_LEN];
    int rc;

    ss_buf_reset(&c->w);
    make_header(h, KIND_SNAP, 0, time, 0);
    if ((rc = ss_buf_append(&c->w, h, sizeof(h))) < 0 ||
        (rc = ss_bytes_append_varint(&c->w, nopts)) < 0)
        return rc;
    for (size_t i = 0; i < nopts; i++)
        if ((rc = ss_ckpt_put_bytes(&c->w, opts[i].name,
                                    strlen(opts[i].name))) < 0 ||
            (rc = ss_ckpt_put_bytes(&c->w, opts[i].value,
                                    strlen(opts[i].value))) < 0)
            return rc;
    /* Counts are not known yet: fixed-size slots, filled in later. */
    c->count_at = c->w.len;
    c->blob_at = 0;
    c->nrec = c->nblob = 0;
    return ss_buf_append(&c->w, "\0\0\0\0\0\0\0\0", 8);
}

int
ss_ckpt_snap_put(struct ss_ckpt *c, const char *k, size_t klen, const char *v,
                 size_t vlen)
{
    int rc;

    if ((rc = ss_ckpt_put_bytes(&c->w, k, klen)) < 0 ||
        (rc = ss_ckpt_put_bytes(&c->w, v, vlen)) < 0)
        return rc;
    c->nrec++;
    return 0;
}

/* The first blob closes the record list with the blob count's slot. */
static int
blob_slot(struct ss_ckpt *c)
{
    if (c->blob_at != 0)
        return 0;
    c->blob_at = c->w.len;
    return ss_buf_append(&c->w, "\0\0\0\0\0\0\0\0", 8);
}

int
ss_ckpt_snap_blob(struct ss_ckpt *c, int64_t time, const void *p, size_t n)
{
    char t[8];
    int rc;

    if ((rc = blob_slot(c)) < 0)
        return rc;
    ss_bytes_put_le(t, (uint64_t)time, 8);
    if ((rc = ss_buf_append(&c->w, t, 8)) < 0 ||
        (rc = ss_ckpt_put_bytes(&c->w, p, n)) < 0)
        return rc;
    c->nblob++;
    return 0;
}

static int
sync_dir(struct ss_ckpt *c)
{
    return fsync(c->dirfd) < 0 ? -errno : 0;
}

static void
prune(struct ss_ckpt *c)
{
    uint64_t *gens = NULL;
    ssize_t n = list_snaps(c, &gens);
    char name[NAME_MAX_LEN];

    /* Remove generations older than the SS_CKPT_KEEP newest snapshots,
     * logs included; a log without a kept snapshot is no use alone. */
    if (n > SS_CKPT_KEEP) {
        uint64_t oldest = gens[n - SS_CKPT_KEEP];

        for (uint64_t g = 1; g < oldest; g++) {
            gen_name(name, g, "snap");
            unlinkat(c->dirfd, name, 0);
            gen_name(name, g, "log");
            unlinkat(c->dirfd, name, 0);
        }
    }
    free(gens);
}

static int
write_file(struct ss_ckpt *c, const char *tmp, const char *name)
{
    int fd, rc;

    fd = openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return -errno;
    rc = write_hooked(fd, c->w.data, c->w.len);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0) {
        ss_ckpt_test_crash("ckpt-rename");
        if (renameat(c->dirfd, tmp, c->dirfd, name) < 0)
            rc = -errno;
    }
    if (rc < 0)
        unlinkat(c->dirfd, tmp, 0);
    return rc;
}

int
ss_ckpt_snap_commit(struct ss_ckpt *c)
{
    char name[NAME_MAX_LEN], tmp[NAME_MAX_LEN + 8], h[SS_CKPT_HEADER_LEN];
    uint64_t gen = c->max_gen + 1;
    int64_t time = (int64_t)ss_bytes_get_le(c->w.data + 16, 8);
    int fd, rc;

    if ((rc = blob_slot(c)) < 0)
        return rc;
    ss_bytes_put_le(c->w.data + c->count_at, (uint64_t)c->nrec, 8);
    ss_bytes_put_le(c->w.data + c->blob_at, (uint64_t)c->nblob, 8);
    make_header(h, KIND_SNAP, gen, time, c->w.len - SS_CKPT_HEADER_LEN);
    memcpy(c->w.data, h, sizeof(h));
    ss_bytes_put_le(c->w.data + 32, (uint64_t)sum_file(c->w.data, c->w.len), 8);
    gen_name(name, gen, "snap");
    snprintf(tmp, sizeof(tmp), ".tmp-%s", name);
    if ((rc = write_file(c, tmp, name)) < 0)
        return ss_diag_err(rc, "checkpoint '%s/%s'", c->dir, name), rc;
    c->written += c->w.len;
    c->snap_bytes = c->w.len;
    c->snap_time = time;

    /* The log of this generation: a header, then entries appended. */
    make_header(h, KIND_LOG, gen, time, 0);
    ss_bytes_put_le(h + 32, (uint64_t)sum_file(h, sizeof(h)), 8);
    ss_buf_reset(&c->w);
    ss_buf_append(&c->w, h, sizeof(h));
    gen_name(name, gen, "log");
    snprintf(tmp, sizeof(tmp), ".tmp-%s", name);
    if ((rc = write_file(c, tmp, name)) < 0 || (rc = sync_dir(c)) < 0)
        return ss_diag_err(rc, "checkpoint '%s/%s'", c->dir, name), rc;
    c->written += sizeof(h);
    if ((fd = openat(c->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
        rc = -errno;
        ss_diag_err(rc, "checkpoint '%s/%s'", c->dir, name);
        return rc;
    }
    if (c->logfd >= 0)
        close(c->logfd);
    c->logfd = fd;
    c->gen = c->max_gen = gen;
    c->log_bytes = sizeof(h);
    c->time = time;
    prune(c);
    return 0;
}

void
ss_ckpt_delta_begin(struct ss_ckpt *c, int64_t time)
{
    char h[SS_CKPT_ENTRY_LEN];

    ss_buf_reset(&c->w);
    memcpy(h, SS_CKPT_LOG_MAGIC, 4);
    ss_bytes_put_le(h + 8, (uint64_t)time, 8);
    ss_buf_append(&c->w, h, sizeof(h));
}

int
ss_ckpt_delta_put(struct ss_ckpt *c, const char *k, size_t klen, const char *v,
                  size_t vlen)
{
    int rc;

    if ((rc = ss_buf_putc(&c->w, OP_PUT)) < 0 ||
        (rc = ss_ckpt_put_bytes(&c->w, k, klen)) < 0)
        return rc;
    return ss_ckpt_put_bytes(&c->w, v, vlen);
}

int
ss_ckpt_delta_del(struct ss_ckpt *c, const char *k, size_t klen)
{
    int rc;

    if ((rc = ss_buf_putc(&c->w, OP_DEL)) < 0)
        return rc;
    return ss_ckpt_put_bytes(&c->w, k, klen);
}

int
ss_ckpt_delta_blob(struct ss_ckpt *c, const void *p, size_t n)
{
    int rc;

    if ((rc = ss_buf_putc(&c->w, OP_BLOB)) < 0)
        return rc;
    return ss_ckpt_put_bytes(&c->w, p, n);
}

int
ss_ckpt_delta_commit(struct ss_ckpt *c)
{
    size_t blen = c->w.len - SS_CKPT_ENTRY_LEN;
    char *h = c->w.data;
    int rc;

    if (c->logfd < 0 || blen > UINT32_MAX)
        return ss_diag("checkpoint '%s': internal: delta without a log",
                       c->dir),
               -EINVAL;
    ss_bytes_put_le(h + 4, (uint32_t)blen, 4);
    ss_bytes_put_le(h + 16, (uint64_t)XXH64(h, 16, XXH64(h + 24, blen, 0)), 8);
    rc = write_hooked(c->logfd, h, c->w.len);
    if (rc == 0 && fdatasync(c->logfd) < 0)
        rc = -errno;
    if (rc < 0)
        return ss_diag_err(rc, "checkpoint '%s': log", c->dir), rc;
    c->time = (int64_t)ss_bytes_get_le(h + 8, 8);
    c->log_bytes += c->w.len;
    c->written += c->w.len;
    return 0;
}

void
ss_ckpt_close(struct ss_ckpt *c)
{
    if (c->logfd >= 0)
        close(c->logfd);
    if (c->dirfd > 0)
        close(c->dirfd);
    free(c->dir);
    ss_buf_release(&c->opts);
    ss_buf_release(&c->w);
    memset(c, 0, sizeof(*c));
    c->logfd = -1;
}
