/* ckpt-cli - drive lib/ckpt from a script for tests/ckpt.bats.
 *
 *   ckpt-cli DIR [NAME=VALUE...] < script
 *
 * Opens DIR with the options given (exit 2 when the checkpoint refuses
 * them), prints what loaded ("time T", "behind FILE BYTES" when a corrupt
 * file left the state behind, "k=v" per key in order, "blob T text" per
 * blob), then runs the script, one command per line:
 *   b T      begin the batch at time T
 *   p K V    set key K to V          d K   delete key K
 *   x TEXT   attach a blob           S     make the next save a snapshot
 *   e        save the batch: prints "snap T" or "delta T"
 *   r T I    may the input resume at T (interval I)? "resume T" or exit 1
 * The last three blobs are kept, as an engine keeps its last outputs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "diag.h"
#include "keytab.h"

#define KEEP 3

struct val {
    char *p;
    size_t n;
};

struct blob {
    long long time;
    char text[64];
};

struct model {
    struct ss_keytab t;
    struct blob blobs[KEEP];
    size_t nblobs;
};

static void
drop(void *v)
{
    free(((struct val *)v)->p);
}

static int
set(struct model *m, const char *k, size_t kl, const char *v, size_t vl)
{
    int created;
    struct val *x = ss_keytab_get(&m->t, k, kl, &created);

    free(x->p);
    x->p = malloc(vl + 1);
    memcpy(x->p, v, vl);
    x->n = vl;
    return 0;
}

static int
put_cb(void *ctx, const char *k, size_t kl, const char *v, size_t vl)
{
    return set(ctx, k, kl, v, vl);
}

static int
del_cb(void *ctx, const char *k, size_t kl)
{
    ss_keytab_del(&((struct model *)ctx)->t, k, kl);
    return 0;
}

static void
add_blob(struct model *m, long long t, const char *p, size_t n)
{
    if (m->nblobs == KEEP) {
        memmove(m->blobs, m->blobs + 1, (KEEP - 1) * sizeof(m->blobs[0]));
        m->nblobs--;
    }
    m->blobs[m->nblobs].time = t;
    snprintf(m->blobs[m->nblobs].text, sizeof(m->blobs[0].text), "%.*s", (int)n,
             p);
    m->nblobs++;
}

static int
blob_cb(void *ctx, int64_t t, const char *p, size_t n)
{
    add_blob(ctx, (long long)t, p, n);
    return 0;
}

static void
show(struct model *m, const struct ss_ckpt *c)
{
    size_t cur = 0, kl;
    const char *k;
    struct val *v;

    if (c->time == SS_CKPT_NO_TIME)
        printf("time none\n");
    else
        printf("time %lld\n", (long long)c->time);
    if (c->behind)
        printf("behind %s %llu\n", c->damaged ? c->damaged : "?",
               (unsigned long long)c->cut_at);
    while ((v = ss_keytab_next(&m->t, &cur, &k, &kl)) != NULL)
        printf("%.*s=%.*s\n", (int)kl, k, (int)v->n, v->p);
    for (size_t i = 0; i < m->nblobs; i++)
        printf("blob %lld %s\n", m->blobs[i].time, m->blobs[i].text);
}

static int
save_snap(struct model *m, struct ss_ckpt *c, long long t,
          const struct ss_ckpt_opt *opts, size_t nopts)
{
    size_t cur = 0, kl;
    const char *k;
    struct val *v;

    ss_ckpt_snap_begin(c, t, opts, nopts);
    while ((v = ss_keytab_next(&m->t, &cur, &k, &kl)) != NULL)
        ss_ckpt_snap_put(c, k, kl, v->p, v->n);
    for (size_t i = 0; i < m->nblobs; i++)
        ss_ckpt_snap_blob(c, m->blobs[i].time, m->blobs[i].text,
                          strlen(m->blobs[i].text));
    return ss_ckpt_snap_commit(c);
}

int
main(int argc, char **argv)
{
    struct ss_ckpt_opt opts[8];
    struct ss_ckpt_loader ld;
    struct ss_ckpt c;
    struct model m;
    char line[256];
    long long t = 0;
    size_t nopts = 0;
    int rc, force = 0;

    if (argc < 2)
        return 2;
    for (int i = 2; i < argc && nopts < 8; i++) {
        char *eq = strchr(argv[i], '=');

        if (eq == NULL)
            return 2;
        *eq = '\0';
        opts[nopts].name = argv[i];
        opts[nopts++].value = eq + 1;
    }
    ss_diag_init(argv[0]);
    memset(&m, 0, sizeof(m));
    ss_keytab_init(&m.t, sizeof(struct val), drop);
    ld.ctx = &m;
    ld.put = put_cb;
    ld.del = del_cb;
    ld.blob = blob_cb;
    rc = ss_ckpt_open(&c, argv[1], opts, nopts, &ld, 0);
    if (rc < 0) {
        ss_keytab_release(&m.t);
        ss_ckpt_close(&c);
        return rc == SS_USAGE ? 2 : 1;
    }
    show(&m, &c);
    while (rc >= 0 && fgets(line, sizeof(line), stdin) != NULL) {
        char *a = line + 2, *sp;

        line[strcspn(line, "\n")] = '\0';
        switch (line[0]) {
        case 'b':
            t = atoll(a);
            ss_ckpt_delta_begin(&c, t);
            break;
        case 'p':
            sp = strchr(a, ' ');
            set(&m, a, (size_t)(sp - a), sp + 1, strlen(sp + 1));
            ss_ckpt_delta_put(&c, a, (size_t)(sp - a), sp + 1, strlen(sp + 1));
            break;
        case 'd':
            ss_keytab_del(&m.t, a, strlen(a));
            ss_ckpt_delta_del(&c, a, strlen(a));
            break;
        case 'x':
            add_blob(&m, t, a, strlen(a));
            ss_ckpt_delta_blob(&c, a, strlen(a));
            break;
        case 'S':
            force = 1;
            break;
        case 'r':
            t = atoll(a);
            sp = strchr(a, ' ');
            if ((rc = ss_ckpt_check_resume(&c, t, sp ? atoll(sp) : 1000)) == 0)
                printf("resume %lld\n", t);
            break;
        case 'e':
            if (force || ss_ckpt_want_snapshot(&c, t)) {
                rc = save_snap(&m, &c, t, opts, nopts);
                printf("snap %lld\n", t);
            } else {
                rc = ss_ckpt_delta_commit(&c);
                printf("delta %lld\n", t);
            }
            force = 0;
            break;
        }
    }
    ss_keytab_release(&m.t);
    ss_ckpt_close(&c);
    return rc < 0;
}
