/* regex.h - PCRE2 patterns matched against records (--filter).
 *
 * PCRE2 rather than POSIX ERE: records are byte strings with lengths, and
 * PCRE2 matches a (pointer, length) subject without a terminating NUL, so
 * a record is matched in place, NUL bytes included; its JIT keeps a filter
 * off the profile. Patterns are Perl syntax (pcre2pattern(3)), unanchored.
 *
 * Owns: the compiled pattern and its match data, until ss_regex_free().
 * A pattern matches on one thread at a time (the match data is its
 * scratch); ss_regex_clone() gives another thread its own, sharing the
 * compiled code, which PCRE2 reads only: free the clones first.
 */
#ifndef SS_REGEX_H
#define SS_REGEX_H

#include <stddef.h>

struct ss_regex;

/* Compile 'pattern'; NULL after writing why (with the offset) into
 * why[0..n). */
struct ss_regex *ss_regex_compile(const char *pattern, char *why, size_t n);
/* 1 if p[0..len) matches, 0 if not, or a negative PCRE2 error code (such
 * as a match limit reached). */
int ss_regex_match(struct ss_regex *re, const char *p, size_t len);
/* The same pattern with match data of its own, or NULL (out of memory). */
struct ss_regex *ss_regex_clone(const struct ss_regex *re);
void ss_regex_free(struct ss_regex *re);

#endif
