/* fuzz.h - what the fuzz targets in tests/fuzz/ share.
 *
 * Each target is a libFuzzer entry point, LLVMFuzzerTestOneInput(), built
 * twice: with clang's libFuzzer (make fuzz, and the clang replay of
 * make check) and with driver.c, a main that feeds files to it (the gcc
 * replay of make check). Each target's file says how it reads its input.
 *
 * Checksums would stop the fuzzer at the first check, so a target
 * recomputes those of its input before lib/ sees it (unless the input's
 * first byte says to keep them as given): lib/ has no fuzzing mode.
 *
 * Owns: the scratch folder (fz_dir()), emptied by fz_clear(); parts are
 * views into the caller's input.
 */
#ifndef FZ_FUZZ_H
#define FZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The first byte of every input: keep checksums as given. */
#define FZ_RAW 0x80u

/* Files in an input are separated by this marker (in each TARGET.dict). */
#define FZ_SEP     "\n%%fuzz-part%%\n"
#define FZ_SEP_LEN (sizeof(FZ_SEP) - 1)

struct fz_part {
    const uint8_t *p;
    size_t n;
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Split p[0..n) at FZ_SEP into up to max parts (the last one keeps any
 * further markers); parts past the input's are empty. The count found. */
size_t fz_split(const uint8_t *p, size_t n, struct fz_part *parts, size_t max);

/* Recompute, in place, the checksums of the frames in p[0..n) (a stream,
 * a WAL segment) / of a checkpoint snapshot / of a checkpoint log and its
 * entries, as far as their lengths hold. */
void fz_fix_frames(uint8_t *p, size_t n);
void fz_fix_snap(uint8_t *p, size_t n);
void fz_fix_log(uint8_t *p, size_t n);

/* For LLVMFuzzerInitialize(): the stages' frames on stdout go to
 * /dev/null, and no file grows past FZ_FILE_MAX (a write past it fails
 * with EFBIG), so that an input that makes a stage write without end
 * costs a moment, not the fuzzer's timeout. */
#define FZ_FILE_MAX ((size_t)4 << 20)
void fz_init(void);
/* The per-process scratch folder, created on first use. */
const char *fz_dir(void);
/* Remove everything in it, subfolders included. */
void fz_clear(void);
/* Write p[0..n) to fz_dir()/name (name may hold one '/'); 0 or -1. */
int fz_write(const char *name, const void *p, size_t n);
/* Put p[0..n) on standard input (a file in the scratch folder). */
void fz_stdin(const void *p, size_t n);

#endif
