/* state.c - fuzz target: sstream-state's checkpoint loader (lib/ckpt.c
 * and the decoders of lib/state.c and lib/acc.c).
 *
 * The input is a byte of flags, a byte of options, then files separated
 * by FZ_SEP: 000000000001.snap, 000000000001.log, 000000000002.snap,
 * 000000000002.log of a checkpoint folder, and the frames on stdin. The
 * folder goes through ss_state_dump() (sstream-state --dump), then
 * through ss_state_run() with those frames: replays of the batches the
 * checkpoint keeps (their output rebuilt from its undo lists), and new
 * batches over the loaded state.
 *
 *   flags   0x80  keep the checksums as given (FZ_RAW)
 *           0x01  write the first file (0x02: the second, ... 0x08)
 *           0x10  --keep-outputs 2 (else 10)
 *   options 0x07  --update: sum count min max mean first last concat
 *           0x18  --emit: all updated expired (all)
 *           0x60  --timeout: none 2s 5s none
 */
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "fuzz.h"

static const char *const files[] = {
    "000000000001.snap",
    "000000000001.log",
    "000000000002.snap",
    "000000000002.log",
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_init();
    return 0;
}

static void
write_files(unsigned flags, const struct fz_part *parts)
{
    char name[64];

    for (int i = 0; i < 4; i++) {
        uint8_t *p;

        if (!(flags & (1u << i)) || (p = malloc(parts[i].n + 1)) == NULL)
            continue;
        memcpy(p, parts[i].p, parts[i].n);
        if (!(flags & FZ_RAW) && i % 2 == 0)
            fz_fix_snap(p, parts[i].n);
        else if (!(flags & FZ_RAW))
            fz_fix_log(p, parts[i].n);
        snprintf(name, sizeof(name), "ck/%s", files[i]);
        fz_write(name, p, parts[i].n);
        free(p);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t timeouts[] = {0, 2000, 5000, 0};
    struct fz_part parts[5];
    struct ss_state_config cfg;
    struct ss_stage sg = {0};
    char dir[512];
    unsigned flags, opts;
    uint8_t *in;
    int rc;

    if (size < 2)
        return 0;
    flags = data[0];
    opts = data[1];
    fz_split(data + 2, size - 2, parts, 5);
    write_files(flags, parts);
    snprintf(dir, sizeof(dir), "%s/ck", fz_dir());
    if (flags & 0x0f)
        ss_state_dump(dir);

    if ((in = malloc(parts[4].n + 1)) == NULL)
        return 0;
    memcpy(in, parts[4].p, parts[4].n);
    if (!(flags & FZ_RAW))
        fz_fix_frames(in, parts[4].n);
    fz_stdin(in, parts[4].n);
    free(in);
    ss_state_config_init(&cfg);
    cfg.op = (enum ss_op)(opts & 7);
    cfg.emit = (enum ss_state_emit)((opts >> 3 & 3) % 3);
    cfg.timeout_ms = timeouts[opts >> 5 & 3];
    cfg.checkpoint = dir;
    cfg.keep_outputs = (flags & 0x10) ? 2 : 10;
    /* The stage is closed as main() closes it, but never dies of
     * SIGPIPE: the fuzzer would go with it. */
    rc = ss_state_run(&cfg, &sg);
    ss_stage_end(&sg, rc == -EPIPE ? SS_REPORTED : rc);
    fz_clear();
    return 0;
}
