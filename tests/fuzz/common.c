/* common.c - what the fuzz targets share (see fuzz.h). */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "bytes.h"
#include "ckpt.h"
#include "frame.h"
#include "fuzz.h"

size_t
fz_split(const uint8_t *p, size_t n, struct fz_part *parts, size_t max)
{
    size_t k = 0;

    for (size_t i = 0; i < max; i++)
        parts[i] = (struct fz_part){p, 0};
    while (k < max) {
        const uint8_t *sep = NULL;

        for (size_t i = 0; k + 1 < max && i + FZ_SEP_LEN <= n; i++)
            if (memcmp(p + i, FZ_SEP, FZ_SEP_LEN) == 0) {
                sep = p + i;
                break;
            }
        parts[k].p = p;
        parts[k++].n = sep ? (size_t)(sep - p) : n;
        if (sep == NULL)
            break;
        n -= (size_t)(sep - p) + FZ_SEP_LEN;
        p = sep + FZ_SEP_LEN;
    }
    return k;
}

/* XXH64 of a header whose 8-byte checksum field at 'at' counts as zero,
 * followed by more bytes. */
static uint64_t
sum_zeroed(const uint8_t *h, size_t hlen, size_t at, const uint8_t *more,
           size_t n)
{
    static const char zero[8];
    XXH64_state_t *st = XXH64_createState();
    uint64_t v;

    XXH64_reset(st, 0);
    XXH64_update(st, h, at);
    XXH64_update(st, zero, 8);
    XXH64_update(st, h + at + 8, hlen - at - 8);
    XXH64_update(st, more, n);
    v = XXH64_digest(st);
    XXH64_freeState(st);
    return v;
}

void
fz_fix_frames(uint8_t *p, size_t n)
{
    size_t pos = 0;

    while (n - pos >= SS_FRAME_HEADER_LEN) {
        uint8_t *h = p + pos;
        size_t hlen = (size_t)ss_bytes_get_le((const char *)h + 6, 2);
        uint64_t plen = ss_bytes_get_le((const char *)h + 32, 8);

        if (hlen < SS_FRAME_HEADER_LEN || hlen > n - pos ||
            plen > n - pos - hlen)
            return;
        ss_bytes_put_le((char *)h + 40,
                        sum_zeroed(h, hlen, 40, h + hlen, (size_t)plen), 8);
        pos += hlen + (size_t)plen;
    }
}

void
fz_fix_snap(uint8_t *p, size_t n)
{
    if (n < SS_CKPT_HEADER_LEN)
        return;
    ss_bytes_put_le((char *)p + 24, n - SS_CKPT_HEADER_LEN, 8);
    ss_bytes_put_le((char *)p + 32,
                    sum_zeroed(p, n, 32, (const uint8_t *)"", 0), 8);
}

void
fz_fix_log(uint8_t *p, size_t n)
{
    size_t pos = SS_CKPT_HEADER_LEN;

    if (n < SS_CKPT_HEADER_LEN)
        return;
    ss_bytes_put_le(
        (char *)p + 32,
        sum_zeroed(p, SS_CKPT_HEADER_LEN, 32, (const uint8_t *)"", 0), 8);
    while (n - pos >= SS_CKPT_ENTRY_LEN) {
        char *e = (char *)p + pos;
        size_t blen = (size_t)ss_bytes_get_le(e + 4, 4);

        if (blen > n - pos - SS_CKPT_ENTRY_LEN)
            return;
        ss_bytes_put_le(e + 16, XXH64(e, 16, XXH64(e + 24, blen, 0)), 8);
        pos += SS_CKPT_ENTRY_LEN + blen;
    }
}

/* ---- files ---- */

void
fz_init(void)
{
    struct rlimit fsize = {FZ_FILE_MAX, FZ_FILE_MAX};
    int null = open("/dev/null", O_WRONLY);

    if (null < 0 || dup2(null, STDOUT_FILENO) < 0 ||
        setrlimit(RLIMIT_FSIZE, &fsize) < 0) {
        perror("fuzz: init");
        abort();
    }
    close(null);
    signal(SIGXFSZ, SIG_IGN);
}

static char dir[256];

static void
remove_dir(void)
{
    fz_clear();
    rmdir(dir);
}

const char *
fz_dir(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

    if (dir[0] != '\0')
        return dir;
    snprintf(dir, sizeof(dir), "%s/sstream-fuzz.XXXXXX", base);
    if (mkdtemp(dir) == NULL) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(remove_dir);
    return dir;
}

static void
clear_at(int dfd)
{
    DIR *d = fdopendir(dfd);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        int sub;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            continue;
        sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY);
        if (sub >= 0)
            clear_at(sub);
        unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
    }
    closedir(d);
}

void
fz_clear(void)
{
    int dfd = open(fz_dir(), O_RDONLY | O_DIRECTORY);

    if (dfd >= 0)
        clear_at(dfd);
}

int
fz_write(const char *name, const void *p, size_t n)
{
    char path[512];
    const char *slash = strchr(name, '/');
    int fd;

    if (slash != NULL) {
        snprintf(path, sizeof(path), "%s/%.*s", fz_dir(), (int)(slash - name),
                 name);
        mkdir(path, 0777);
    }
    snprintf(path, sizeof(path), "%s/%s", fz_dir(), name);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666)) < 0)
        return -1;
    if (n > 0 && write(fd, p, n) != (ssize_t)n) {
        close(fd);
        return -1;
    }
    return close(fd);
}

void
fz_stdin(const void *p, size_t n)
{
    char path[512];
    int fd;

    if (fz_write("stdin", p, n) < 0)
        abort();
    snprintf(path, sizeof(path), "%s/stdin", fz_dir());
    if ((fd = open(path, O_RDONLY)) < 0)
        abort();
    dup2(fd, STDIN_FILENO);
    close(fd);
}
