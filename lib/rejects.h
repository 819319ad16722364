/* rejects.h - records that could not be processed: counted, and written
 * to the --rejects file when there is one, as lines (the value, or
 * key<TAB>value), so that they can be fixed and fed back.
 * Owns: the open file and its output buffer until ss_rejects_close().
 */
#ifndef SS_REJECTS_H
#define SS_REJECTS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct ss_rejects {
    int fd; /* -1: no --rejects file, only counted */
    const char *path;
    struct ss_buf out;
    uint64_t count; /* rejects seen */
    uint64_t kept;  /* rejects written to the file */
    char delim;     /* ends each reject: '\n' unless the input used another */
};

/* path NULL: count only. 0, or -1 after saying why the file cannot open. */
int ss_rejects_open(struct ss_rejects *r, const char *path);
/* Count one reject and keep it if there is a file (key NULL: keyless). */
void ss_rejects_put(struct ss_rejects *r, const char *key, size_t klen,
                    const char *val, size_t vlen);
/* Stream part of an over-long record; 'last' ends it. */
void ss_rejects_put_part(struct ss_rejects *r, const char *p, size_t n,
                         int last);
/* Write what is buffered; 0 or -1 after reporting. Called per batch. */
int ss_rejects_flush(struct ss_rejects *r);
/* Flush and close; 0 or -1. */
int ss_rejects_close(struct ss_rejects *r);
/* Say how many rejects there were and where they went, if any. */
void ss_rejects_report(const struct ss_rejects *r);
/* Exit status rule of DESIGN.md: 1 when a reject was only reported. */
int ss_rejects_lost(const struct ss_rejects *r);

#endif
