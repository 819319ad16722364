/* wal.c - fuzz target: the WAL reader (lib/wal.c).
 *
 * The input is a byte of flags, then files separated by FZ_SEP: the
 * commit record and segments 1, 2 and 3 of a log folder. The folder goes
 * through ss_wal_open() (lock, commit, check, cut a torn tail) and
 * ss_wal_replay() (send what is not committed, drop what is), as
 * sstream-source --wal does when it starts.
 *
 *   flags 0x80  keep the checksums as given (FZ_RAW)
 *         0x01  write the commit record
 *         0x02  write segment 1 (0x04: 2, 0x08: 3)
 */
#include "wal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static int devnull = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_init();
    devnull = open("/dev/null", O_WRONLY);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_part parts[4];
    struct ss_wal w;
    char dir[512], name[64];
    unsigned flags;

    if (size < 1)
        return 0;
    flags = data[0];
    fz_split(data + 1, size - 1, parts, 4);
    if (flags & 0x01)
        fz_write("wal/commit", parts[0].p, parts[0].n);
    for (int i = 1; i < 4; i++) {
        uint8_t *p;

        if (!(flags & (1u << i)) || (p = malloc(parts[i].n + 1)) == NULL)
            continue;
        memcpy(p, parts[i].p, parts[i].n);
        if (!(flags & FZ_RAW))
            fz_fix_frames(p, parts[i].n);
        snprintf(name, sizeof(name), "wal/%016d.wal", i);
        fz_write(name, p, parts[i].n);
        free(p);
    }
    snprintf(dir, sizeof(dir), "%s/wal", fz_dir());
    if (ss_wal_open(&w, dir, 0) == 0)
        ss_wal_replay(&w, devnull);
    ss_wal_close(&w);
    fz_clear();
    return 0;
}
