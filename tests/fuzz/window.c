/* window.c - fuzz target: sstream-window's checkpoint loader (lib/ckpt.c
 * and the decoders of lib/window_ckpt.c and lib/acc.c).
 *
 * The input is a byte of flags, two bytes of options, then files
 * separated by FZ_SEP: 000000000001.snap, 000000000001.log,
 * 000000000002.snap, 000000000002.log of a checkpoint folder, and the
 * frames on stdin. They go through ss_window_run(): the checkpoint is
 * loaded, replays of the batches it keeps are sent again from it, and new
 * batches slide the loaded panes on.
 *
 *   flags     0x80  keep the checksums as given (FZ_RAW)
 *             0x01  write the first file (0x02: the second, ... 0x08)
 *   options 1 0x07  mode: plain count reduce reduce-by-key
 *                   count-by-value group-by-key (plain)
 *             0x38  --reduce OP: sum count min max mean first last concat
 *   options 2 0x03  -w 3s -s 1s | -w 2s -s 2s | -w 4s -s 2s | -w 2s -s 3s
 *             0x04  --session-gap 2s instead (the modes that have it)
 *             0x08  --keep-empty-keys
 *             0x10  --no-inverse
 *             0x20  --keep-outputs 2 (else 10)
 */
#include "window.h"

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

static void
configure(struct ss_window_config *cfg, unsigned o1, unsigned o2)
{
    static const int64_t shapes[4][2] = {
        {3000, 1000}, {2000, 2000}, {4000, 2000}, {2000, 3000}};

    ss_window_config_init(cfg);
    cfg->mode = (enum ss_window_mode)((o1 & 7) % 6);
    cfg->op = (enum ss_op)(o1 >> 3 & 7);
    if ((o2 & 0x04) && (cfg->mode == SS_WINDOW_REDUCE_BY_KEY ||
                        cfg->mode == SS_WINDOW_COUNT_BY_VALUE ||
                        cfg->mode == SS_WINDOW_GROUP_BY_KEY)) {
        cfg->session_gap = 2000;
    } else {
        cfg->window = shapes[o2 & 3][0];
        cfg->slide = shapes[o2 & 3][1];
        cfg->keep_empty = (o2 & 0x08) != 0;
        cfg->no_inverse = (o2 & 0x10) != 0;
    }
    cfg->keep_outputs = (o2 & 0x20) ? 2 : 10;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_part parts[5];
    struct ss_window_config cfg;
    struct ss_stage sg = {0};
    char dir[512];
    unsigned flags;
    uint8_t *in;
    int rc;

    if (size < 3)
        return 0;
    flags = data[0];
    configure(&cfg, data[1], data[2]);
    fz_split(data + 3, size - 3, parts, 5);
    write_files(flags, parts);
    snprintf(dir, sizeof(dir), "%s/ck", fz_dir());
    if ((in = malloc(parts[4].n + 1)) == NULL)
        return 0;
    memcpy(in, parts[4].p, parts[4].n);
    if (!(flags & FZ_RAW))
        fz_fix_frames(in, parts[4].n);
    fz_stdin(in, parts[4].n);
    free(in);
    cfg.checkpoint = dir;
    /* The stage is closed as main() closes it, but never dies of
     * SIGPIPE: the fuzzer would go with it. */
    rc = ss_window_run(&cfg, &sg);
    ss_stage_end(&sg, rc == -EPIPE ? SS_REPORTED : rc);
    fz_clear();
    return 0;
}
