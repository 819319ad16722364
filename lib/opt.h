/* opt.h - option values checked once, with the message every binary gives:
 * "sstream-source: --batch: '1x' is not a duration (try 500ms or 2s)".
 * Each returns 0, or SS_REPORTED after the message (the caller exits 2).
 */
#ifndef SS_OPT_H
#define SS_OPT_H

#include <stddef.h>
#include <stdint.h>

int ss_opt_duration(const char *opt, const char *arg, int64_t *ms);
/* A whole number in [min, max]. */
int ss_opt_count(const char *opt, const char *arg, uint64_t min, uint64_t max,
                 uint64_t *out);
/* A size: a whole number with an optional k, M or G suffix (powers of
 * 1024), at least 1. */
int ss_opt_bytes(const char *opt, const char *arg, size_t *out);
/* One byte: a character, or \n \t \r \0 \\. */
int ss_opt_char(const char *opt, const char *arg, char *out);

#endif
