/* shard_ckpt.c - a checkpoint written at --parallel M, moved to N shards
 * (shard.h): every old part is loaded whole, its keys and blobs dealt to
 * the new parts by the hash lib/shard cuts batches with, the new parts
 * written as snapshots, then DIR/parallel switched, then the old parts
 * removed. A crash before the switch leaves the old layout in force (the
 * half-written new parts are cleared on the next try); after it, the new.
 *
 * The parts may stand at different batch times: a crash came between
 * their saves. sstream-state's are brought back to the oldest by their
 * undo lists (the input sends the later batches again, since their
 * merged output never went out); sstream-window keeps no undo, so its
 * parts must agree (run once more at --parallel M first).
 *
 * Kept outputs move too, so that a batch sent again after the move is
 * answered as before; but the digest of a shard's input cannot be known
 * for a cut of the batch that never ran, so a moved entry takes any
 * input (digest 0, lib/replay).
 *
 * What the engines' keys and blobs hold is their checkpoint format
 * (sstream-state(1), sstream-window(1) CHECKPOINT FORMAT): state keys
 * are record keys and blobs undo lists; window keys are "m" (scalars),
 * "p" + end (a pane: a 14-byte head, then entries of a varint key
 * length, the key, an accumulator), "r" + key and "s" + key, and blobs
 * recorded output frames.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acc.h"
#include "buf.h"
#include "bytes.h"
#include "ckpt.h"
#include "diag.h"
#include "frame.h"
#include "io.h"
#include "keytab.h"
#include "replay.h"
#include "shard.h"

#define PANE_HEAD 14
#define META_LEN  44

struct val {
    size_t off, len; /* into image.bytes */
};

/* A checkpoint in memory: its keys in order, their values, its blobs. */
struct image {
    struct ss_keytab keys; /* key -> struct val */
    struct ss_buf bytes;
    struct ss_buf blobs; /* time (8), length (8), the blob: digest, data */
    struct ss_ckpt c;
    int opened;
    int64_t time;
};

struct blob {
    int64_t time;
    const char *p; /* the data, after the digest */
    size_t n;
};

static int
im_put(void *ctx, const char *k, size_t kl, const char *v, size_t vl)
{
    struct image *im = ctx;
    int created;
    struct val *x = ss_keytab_get(&im->keys, k, kl, &created);

    if (x == NULL)
        return -ENOMEM;
    x->off = im->bytes.len;
    x->len = vl;
    return vl > 0 ? ss_buf_append(&im->bytes, v, vl) : 0;
}

static int
im_del(void *ctx, const char *k, size_t kl)
{
    ss_keytab_del(&((struct image *)ctx)->keys, k, kl);
    return 0;
}

static int
im_blob(void *ctx, int64_t time, const char *p, size_t n)
{
    struct image *im = ctx;
    char h[16];

    if (n < 8)
        return -EBADMSG;
    ss_bytes_put_le(h, (uint64_t)time, 8);
    ss_bytes_put_le(h + 8, n, 8);
    if (ss_buf_append(&im->blobs, h, sizeof(h)) < 0)
        return -ENOMEM;
    return ss_buf_append(&im->blobs, p, n);
}

static void
im_init(struct image *im)
{
    memset(im, 0, sizeof(*im));
    ss_keytab_init(&im->keys, sizeof(struct val), NULL);
    im->time = SS_CKPT_NO_TIME;
}

static void
im_release(struct image *im)
{
    ss_keytab_release(&im->keys);
    ss_buf_release(&im->bytes);
    ss_buf_release(&im->blobs);
    if (im->opened)
        ss_ckpt_close(&im->c);
}

static int
im_load(struct image *im, const char *dir)
{
    struct ss_ckpt_loader ld = {im, im_put, im_del, im_blob};
    int rc = ss_ckpt_open(&im->c, dir, NULL, 0, &ld, 1);

    im->opened = 1;
    if (rc < 0)
        return rc == SS_REPORTED || rc == SS_USAGE
                   ? rc
                   : ss_diag_err(rc, "checkpoint '%s'", dir);
    im->time = rc > 0 ? im->c.time : SS_CKPT_NO_TIME;
    return 0;
}

/* The next blob of im after *at (start at 0): 1, or 0 at the end. */
static int
next_blob(const struct image *im, size_t *at, struct blob *b)
{
    size_t n;

    if (*at >= im->blobs.len)
        return 0;
    b->time = (int64_t)ss_bytes_get_le(im->blobs.data + *at, 8);
    n = (size_t)ss_bytes_get_le(im->blobs.data + *at + 8, 8);
    b->p = im->blobs.data + *at + 16 + 8;
    b->n = n - 8;
    *at += 16 + n;
    return 1;
}

static int
find_blob(const struct image *im, int64_t time, struct blob *b)
{
    size_t at = 0;

    while (next_blob(im, &at, b))
        if (b->time == time)
            return 1;
    return 0;
}

static const char *
value(const struct image *im, const struct val *x)
{
    return im->bytes.data + x->off;
}

/* ---- sstream-state: keys are record keys, blobs undo lists ---- */

/* The next undo entry (state.c's save_undo()): key, a byte 1 when the
 * key was there with the value that follows, 0 when it was not. */
static int
undo_next(struct ss_ckpt_rd *r, const char **k, size_t *kl, const char **v,
          size_t *vl, const char **end)
{
    char had;

    *k = ss_ckpt_get_bytes(r, kl);
    had = r->p < r->end ? *r->p++ : (r->bad = 1, 0);
    *v = NULL;
    *vl = 0;
    if (!r->bad && had == 1)
        *v = ss_ckpt_get_bytes(r, vl);
    *end = r->p;
    return r->bad || (had != 0 && had != 1) ? -EBADMSG : had;
}

/* Undo the batches after 'to' over im's keys: the state at 'to'. */
static int
state_roll_back(struct image *im, int64_t to, const char *dir)
{
    struct blob b, found;
    size_t at = 0, keep = 0, n = 0;
    int rc;

    if (im->time == to)
        return 0;
    if (!find_blob(im, to, &found))
        return ss_diag("checkpoint '%s': its part at batch %" PRId64 " keeps "
                       "no output of batch %" PRId64 " to go back to (run "
                       "again at the --parallel it was written at first)",
                       dir, im->time, to),
               SS_USAGE;
    while (next_blob(im, &at, &b)) {
        n++;
        if (b.time <= to)
            keep = at;
    }
    for (size_t i = n; i > 0; i--) {
        struct ss_ckpt_rd r;
        size_t j = 0;

        at = 0;
        while (j++ < i && next_blob(im, &at, &b))
            ;
        if (b.time <= to)
            break;
        r = (struct ss_ckpt_rd){b.p, b.p + b.n, 0};
        while (r.p < r.end) {
            const char *k, *v, *e;
            size_t kl, vl;
            int had = undo_next(&r, &k, &kl, &v, &vl, &e);

            if (had < 0)
                return ss_diag("checkpoint '%s': a bad undo list", dir);
            rc = had ? im_put(im, k, kl, v, vl) : im_del(im, k, kl);
            if (rc < 0)
                return rc;
        }
    }
    im->blobs.len = keep;
    im->time = to;
    return 0;
}

/* Deal the entries of undo list p[0..n) to the parts' lists. */
static int
state_split_undo(const char *p, size_t n, size_t parts, struct ss_buf *out)
{
    struct ss_ckpt_rd r = {p, p + n, 0};

    while (r.p < r.end) {
        const char *k, *v, *e, *start = r.p;
        size_t kl, vl;

        if (undo_next(&r, &k, &kl, &v, &vl, &e) < 0)
            return -EBADMSG;
        if (ss_buf_append(&out[ss_shard_of(k, kl, parts)], start,
                          (size_t)(e - start)) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* ---- sstream-window ---- */

/* Deal the entries of pane value v[0..n) to the parts' panes. */
static int
window_split_pane(const char *v, size_t n, size_t parts, struct ss_buf *out)
{
    const char *p = v + PANE_HEAD, *end = v + n;
    struct ss_acc a = {0};
    int rc = 0;

    for (size_t j = 0; j < parts; j++)
        if (out[j].len == 0 && ss_buf_append(&out[j], v, PANE_HEAD) < 0)
            return -ENOMEM;
    while (rc == 0 && p < end) {
        const char *start = p;
        uint64_t klen;
        int used;

        if (ss_bytes_get_varint(&p, end, &klen) < 0 ||
            klen > (uint64_t)(end - p)) {
            rc = -EBADMSG;
            break;
        }
        if ((used = ss_acc_decode(&a, p + klen, (size_t)(end - p - klen))) <
            0) {
            rc = -EBADMSG;
            break;
        }
        rc = ss_buf_append(&out[ss_shard_of(p, (size_t)klen, parts)], start,
                           (size_t)(p + klen + (size_t)used - start));
        p += klen + (size_t)used;
    }
    ss_acc_release(&a);
    return rc;
}

struct rec {
    const char *k, *v;
    size_t kl, vl;
};

static int
cmp_rec(const void *pa, const void *pb)
{
    const struct rec *a = pa, *b = pb;
    size_t n = a->kl < b->kl ? a->kl : b->kl;
    int c = n > 0 ? memcmp(a->k, b->k, n) : 0;

    if (c != 0)
        return c;
    return (a->kl > b->kl) - (a->kl < b->kl);
}

/* Part j's share of recorded frame f of each old part's blob at one
 * time: the records of its keys, in key order (sessions: part order). */
static int
window_split_frames(struct blob *old, size_t m, size_t parts, int sorted,
                    struct ss_replay_out *out, struct ss_buf *recs)
{
    const char *p[SS_STATS_WORKERS] = {0}, *end[SS_STATS_WORKERS] = {0};
    int rc;

    for (size_t i = 0; i < m; i++) {
        p[i] = old[i].p;
        end[i] = old[i].p + old[i].n;
    }
    while (p[0] < end[0]) {
        struct ss_frame f[SS_STATS_WORKERS];

        for (size_t i = 0; i < m; i++) {
            if (end[i] - p[i] < 28)
                return -EBADMSG;
            memset(&f[i], 0, sizeof(f[i]));
            f[i].time = (int64_t)ss_bytes_get_le(p[i], 8);
            f[i].interval = (uint32_t)ss_bytes_get_le(p[i] + 8, 4);
            f[i].flags = (uint32_t)ss_bytes_get_le(p[i] + 12, 4);
            f[i].count = (uint32_t)ss_bytes_get_le(p[i] + 16, 4);
            f[i].payload_len = (size_t)ss_bytes_get_le(p[i] + 20, 8);
            f[i].payload = p[i] + 28;
            if (f[i].time != f[0].time ||
                f[i].payload_len > (size_t)(end[i] - p[i] - 28))
                return -EBADMSG;
            p[i] += 28 + f[i].payload_len;
        }
        for (size_t j = 0; j < parts; j++) {
            struct ss_rec_iter it;
            struct ss_rec r;
            struct rec *v;
            size_t nr;

            ss_buf_reset(recs);
            for (size_t i = 0; i < m; i++) {
                ss_frame_iter_init(&it, &f[i]);
                while (ss_frame_iter_next(&it, &r)) {
                    struct rec x = {r.key, r.val, r.klen, r.vlen};

                    if (ss_shard_of(r.key, r.klen, parts) == j &&
                        ss_buf_append(recs, &x, sizeof(x)) < 0)
                        return -ENOMEM;
                }
            }
            v = (struct rec *)(void *)recs->data;
            nr = recs->len / sizeof(*v);
            if (sorted && nr > 1)
                qsort(v, nr, sizeof(*v), cmp_rec);
            ss_replay_out_begin(&out[j], f[0].time, f[0].interval, f[0].flags);
            for (size_t k = 0; k < nr; k++)
                if ((rc = ss_replay_out_add(&out[j], v[k].k, v[k].kl, v[k].v,
                                            v[k].vl)) < 0)
                    return rc;
            if ((rc = ss_replay_out_end(&out[j])) < 0)
                return rc;
        }
    }
    return 0;
}

/* Sessions go in order of their latest record (window_session.c closes
 * from the front): a stable sort of each part's on that time. */
struct sess {
    const char *k, *v;
    size_t kl, vl, seq;
};

static int
cmp_sess(const void *pa, const void *pb)
{
    const struct sess *a = pa, *b = pb;
    int64_t x = (int64_t)ss_bytes_get_le(a->v + 8, 8);
    int64_t y = (int64_t)ss_bytes_get_le(b->v + 8, 8);

    if (x != y)
        return x < y ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* ---- the move ---- */

struct move {
    const char *dir;
    size_t m, n;
    enum ss_shard_kind kind;
    struct image *old, *new;
    struct ss_buf *bufs; /* n scratch buffers */
    struct ss_buf recs;
};

static void
reset_bufs(struct move *mv)
{
    for (size_t j = 0; j < mv->n; j++)
        ss_buf_reset(&mv->bufs[j]);
}

static int
put_key(struct image *im, const char *k, size_t kl, const char *v, size_t vl)
{
    return im_put(im, k, kl, v, vl);
}

/* The keys every part holds alike ("m", "p" + end), merged. */
static int
window_shared(struct move *mv, const char *k, size_t kl)
{
    int rc;

    if (k[0] == 'p') {
        reset_bufs(mv);
        for (size_t i = 0; i < mv->m; i++) {
            struct val *x = ss_keytab_find(&mv->old[i].keys, k, kl);

            if (x == NULL || x->len < PANE_HEAD)
                return -EBADMSG;
            if ((rc = window_split_pane(value(&mv->old[i], x), x->len, mv->n,
                                        mv->bufs)) < 0)
                return rc;
            for (size_t j = 0; j < mv->n; j++) /* inexact: any part's */
                mv->bufs[j].data[13] |= value(&mv->old[i], x)[13];
        }
        for (size_t j = 0; j < mv->n; j++)
            if ((rc = put_key(&mv->new[j], k, kl, mv->bufs[j].data,
                              mv->bufs[j].len)) < 0)
                return rc;
        return 0;
    }
    /* "m": the parts agree on times; a double in any makes all inexact */
    {
        struct val *x0 = ss_keytab_find(&mv->old[0].keys, k, kl);
        char meta[META_LEN];

        if (x0 == NULL || x0->len != META_LEN)
            return -EBADMSG;
        memcpy(meta, value(&mv->old[0], x0), META_LEN);
        for (size_t i = 1; i < mv->m; i++) {
            struct val *x = ss_keytab_find(&mv->old[i].keys, k, kl);

            if (x == NULL || x->len != META_LEN)
                return -EBADMSG;
            if (memcmp(value(&mv->old[i], x) + 8, meta + 8, 24) != 0)
                return ss_diag("checkpoint '%s': its parts stand at "
                               "different batch times (a crash came between "
                               "their saves): run once more at --parallel "
                               "%zu, then move it",
                               mv->dir, mv->m),
                       SS_USAGE;
            meta[38] |= value(&mv->old[i], x)[38];
        }
        for (size_t j = 0; j < mv->n; j++)
            if ((rc = put_key(&mv->new[j], k, kl, meta, META_LEN)) < 0)
                return rc;
    }
    return 0;
}

static int
deal_keys(struct move *mv)
{
    struct sess *ss = NULL;
    size_t nss = 0, cap = 0;
    int rc = 0;

    if (mv->kind != SS_SHARD_STATE) { /* "m" and the panes first */
        size_t cur = 0, kl;
        const char *k;

        while (rc == 0 && ss_keytab_next(&mv->old[0].keys, &cur, &k, &kl))
            if (kl > 0 && (k[0] == 'm' || k[0] == 'p'))
                rc = window_shared(mv, k, kl);
    }
    for (size_t i = 0; rc == 0 && i < mv->m; i++) {
        size_t cur = 0, kl;
        const char *k;
        struct val *x;

        while (rc == 0 &&
               (x = ss_keytab_next(&mv->old[i].keys, &cur, &k, &kl))) {
            const char *v = value(&mv->old[i], x);

            if (mv->kind == SS_SHARD_STATE)
                rc = put_key(&mv->new[ss_shard_of(k, kl, mv->n)], k, kl, v,
                             x->len);
            else if (kl > 0 && k[0] == 'r')
                rc = put_key(&mv->new[ss_shard_of(k + 1, kl - 1, mv->n)], k, kl,
                             v, x->len);
            else if (kl > 0 && k[0] == 's' && x->len >= 16) {
                if (nss == cap) {
                    struct sess *t;

                    cap = cap ? cap * 2 : 1024;
                    if ((t = realloc(ss, cap * sizeof(*ss))) == NULL) {
                        rc = -ENOMEM;
                        break;
                    }
                    ss = t;
                }
                ss[nss] = (struct sess){k, v, kl, x->len, nss};
                nss++;
            } else if (kl == 0 || (k[0] != 'm' && k[0] != 'p'))
                rc = -EBADMSG;
        }
    }
    if (rc == 0 && nss > 1)
        qsort(ss, nss, sizeof(*ss), cmp_sess);
    for (size_t s = 0; rc == 0 && s < nss; s++)
        rc = put_key(&mv->new[ss_shard_of(ss[s].k + 1, ss[s].kl - 1, mv->n)],
                     ss[s].k, ss[s].kl, ss[s].v, ss[s].vl);
    free(ss);
    return rc;
}

/* The kept outputs of the times every part keeps, dealt to the new
 * parts with digest 0 (any input: see the top). */
static int
deal_blobs(struct move *mv)
{
    static const char any[8];
    struct blob b0, old[SS_STATS_WORKERS];
    size_t at = 0;
    int rc;

    while (next_blob(&mv->old[0], &at, &b0)) {
        size_t i;

        old[0] = b0;
        for (i = 1; i < mv->m; i++)
            if (!find_blob(&mv->old[i], b0.time, &old[i]))
                break;
        if (i < mv->m)
            continue; /* not kept by every part: not kept */
        reset_bufs(mv);
        for (size_t j = 0; j < mv->n; j++)
            ss_buf_append(&mv->bufs[j], any, sizeof(any));
        if (mv->kind == SS_SHARD_STATE) {
            for (i = 0; i < mv->m; i++)
                if ((rc = state_split_undo(old[i].p, old[i].n, mv->n,
                                           mv->bufs)) < 0)
                    return rc;
        } else {
            struct ss_replay_out o[SS_STATS_WORKERS];

            for (size_t j = 0; j < mv->n; j++)
                o[j] = (struct ss_replay_out){.buf = mv->bufs[j]};
            rc = window_split_frames(old, mv->m, mv->n,
                                     mv->kind == SS_SHARD_WINDOW, o, &mv->recs);
            for (size_t j = 0; j < mv->n; j++)
                mv->bufs[j] = o[j].buf;
            if (rc < 0)
                return rc;
        }
        for (size_t j = 0; j < mv->n; j++)
            if ((rc = im_blob(&mv->new[j], b0.time, mv->bufs[j].data,
                              mv->bufs[j].len)) < 0)
                return rc;
    }
    return 0;
}

/* Remove the files of folder 'dir' (not 'parallel', nor folders). */
static int
clear_files(const char *dir)
{
    char path[PATH_MAX];
    struct dirent *e;
    DIR *d = opendir(dir);

    if (d == NULL)
        return errno == ENOENT ? 0 : -errno;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "parallel") == 0 ||
            strncmp(e->d_name, "part-", 5) == 0)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
            (int)sizeof(path))
            unlink(path);
    }
    closedir(d);
    return 0;
}

static int
write_image(struct image *im, const struct image *like, const char *dir)
{
    static const struct ss_ckpt_loader none = {0};
    struct ss_ckpt_opt opts[16];
    struct ss_ckpt c;
    size_t nopts = 0, cur = 0, kl, at = 0;
    const char *k, *name;
    struct val *x;
    struct blob b;
    int rc;

    while (nopts < 16 &&
           (name = ss_ckpt_opt_name(&like->c, nopts, &opts[nopts].value)))
        opts[nopts++].name = name;
    if ((rc = clear_files(dir)) < 0)
        return ss_diag_err(rc, "checkpoint '%s'", dir);
    if ((rc = ss_ckpt_open(&c, dir, NULL, 0, &none, 0)) < 0) {
        ss_ckpt_close(&c);
        return rc;
    }
    rc = ss_ckpt_snap_begin(&c, im->time, opts, nopts);
    while (rc == 0 && (x = ss_keytab_next(&im->keys, &cur, &k, &kl)) != NULL)
        rc = ss_ckpt_snap_put(&c, k, kl, value(im, x), x->len);
    while (rc == 0 && next_blob(im, &at, &b))
        rc = ss_ckpt_snap_blob(&c, b.time, b.p - 8, b.n + 8);
    if (rc == 0)
        rc = ss_ckpt_snap_commit(&c);
    ss_ckpt_close(&c);
    return rc;
}

static int
remove_part(const char *dir)
{
    int rc = clear_files(dir);

    if (rc == 0 && rmdir(dir) < 0 && errno != ENOENT)
        rc = -errno;
    return rc;
}

/* DIR/parallel says n (or, for 1, goes): the switch to the new parts. */
static int
switch_to(const char *dir, size_t n)
{
    char text[24], path[PATH_MAX];
    int len, fd, rc = 0;

    if (n > 1) {
        len = snprintf(text, sizeof(text), "%zu\n", n);
        return ss_io_write_atomic(dir, "parallel", text, (size_t)len);
    }
    if (snprintf(path, sizeof(path), "%s/parallel", dir) >= (int)sizeof(path) ||
        unlink(path) < 0)
        return -errno;
    if ((fd = ss_io_dir_open(dir)) >= 0) {
        rc = ss_io_dir_sync(fd);
        close(fd);
    }
    return rc;
}

static int
move(struct move *mv)
{
    char part[PATH_MAX];
    int64_t to = SS_CKPT_NO_TIME;
    int rc;

    for (size_t i = 0; i < mv->m; i++) {
        if (ss_shard_dir(part, sizeof(part), mv->dir, i, mv->m) < 0)
            return ss_diag("--checkpoint: '%s': name too long", mv->dir);
        if ((rc = im_load(&mv->old[i], part)) < 0)
            return rc;
        if (mv->old[i].time != SS_CKPT_NO_TIME &&
            (to == SS_CKPT_NO_TIME || mv->old[i].time < to))
            to = mv->old[i].time;
    }
    for (size_t i = 0; i < mv->m; i++)
        if (mv->old[i].time == SS_CKPT_NO_TIME && to != SS_CKPT_NO_TIME)
            return ss_diag("checkpoint '%s': part %zu holds no state yet (run "
                           "once more at --parallel %zu, then move it)",
                           mv->dir, i, mv->m),
                   SS_USAGE;
    for (size_t i = 0; i < mv->m; i++)
        if (mv->old[i].time != to) {
            if (mv->kind != SS_SHARD_STATE)
                return ss_diag("checkpoint '%s': its parts stand at different "
                               "batch times (a crash came between their "
                               "saves): run once more at --parallel %zu, "
                               "then move it",
                               mv->dir, mv->m),
                       SS_USAGE;
            if ((rc = state_roll_back(&mv->old[i], to, mv->dir)) < 0)
                return rc;
        }
    if (to != SS_CKPT_NO_TIME) {
        if ((rc = deal_keys(mv)) < 0 || (rc = deal_blobs(mv)) < 0)
            return rc == -EBADMSG ? ss_diag("checkpoint '%s': a part holds "
                                            "what its engine does not write",
                                            mv->dir)
                                  : rc;
        for (size_t j = 0; j < mv->n; j++) {
            mv->new[j].time = to;
            if (ss_shard_dir(part, sizeof(part), mv->dir, j, mv->n) < 0)
                return ss_diag("--checkpoint: '%s': name too long", mv->dir);
            if ((rc = write_image(&mv->new[j], &mv->old[0], part)) < 0)
                return rc;
        }
    }
    if ((rc = switch_to(mv->dir, mv->n)) < 0)
        return ss_diag_err(rc, "checkpoint '%s'", mv->dir);
    for (size_t i = 0; i < mv->m; i++) /* the old parts: no longer read */
        if (ss_shard_dir(part, sizeof(part), mv->dir, i, mv->m) == 0)
            (void)(mv->m > 1 ? remove_part(part) : clear_files(part));
    return 0;
}

int
ss_shard_repartition(const char *dir, size_t m, size_t n,
                     enum ss_shard_kind kind)
{
    struct move mv = {dir, m, n, kind, NULL, NULL, NULL, {0}};
    int rc = -ENOMEM;

    if (m > SS_STATS_WORKERS || n > SS_STATS_WORKERS)
        return ss_diag("checkpoint '%s': more than %d parts", dir,
                       SS_STATS_WORKERS);
    mv.old = calloc(m, sizeof(*mv.old));
    mv.new = calloc(n, sizeof(*mv.new));
    mv.bufs = calloc(n, sizeof(*mv.bufs));
    if (mv.old != NULL && mv.new != NULL &&mv.bufs != NULL) {
        for (size_t i = 0; i < m; i++)
            im_init(&mv.old[i]);
        for (size_t j = 0; j < n; j++)
            im_init(&mv.new[j]);
        rc = move(&mv);
    }
    for (size_t i = 0; mv.old != NULL && i < m; i++)
        im_release(&mv.old[i]);
    for (size_t j = 0; mv.new != NULL &&j < n; j++)
        im_release(&mv.new[j]);
    for (size_t j = 0; mv.bufs != NULL && j < n; j++)
        ss_buf_release(&mv.bufs[j]);
    ss_buf_release(&mv.recs);
    free(mv.old);
    free(mv.new);
    free(mv.bufs);
    return rc == -ENOMEM ? ss_diag_err(rc, "checkpoint '%s'", dir) : rc;
}
