/* ckpt_int.h - what lib/ckpt.c (opening and loading a checkpoint) and
 * lib/ckpt_write.c (writing snapshots and delta logs) share: the file
 * layout's constants and the helpers both sides use. Private: nothing
 * outside lib/ckpt*.c includes it; names here are ss_ckpt__*.
 */
#ifndef SS_CKPT_INT_H
#define SS_CKPT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "ckpt.h"

/* File kinds, and the ops of a log entry (the layout: ckpt.c). */
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

/* ckpt.c: a generation's file name; the generations of the snapshots
 * in c->dir, sorted; a file header; its checksum. */
void ss_ckpt__gen_name(char *out, uint64_t gen, const char *ext);
ssize_t ss_ckpt__list_snaps(struct ss_ckpt *c, uint64_t **gens);
void ss_ckpt__make_header(char *h, int kind, uint64_t gen, int64_t time,
                          uint64_t body);
uint64_t ss_ckpt__sum_file(const char *p, size_t n);

#endif
