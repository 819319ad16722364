/* words.h - the words of a text, as --flat-map words splits them: runs of
 * bytes other than blanks (space, tab, CR, VT, FF; not newline, which
 * ends records).
 *
 * The iterator finds the blanks of 64 bytes at once (scan.h) and walks the
 * words of that block with bit operations, so its loop branches once per word,
 * not once per byte.
 *
 * Owns nothing: words point into the caller's text, which must stay put
 * while they are used.
 */
#ifndef SS_WORDS_H
#define SS_WORDS_H

#include <stddef.h>
#include <stdint.h>

#include "scan.h"

struct ss_words {
    const char *base; /* start of the block 'bits' describes */
    uint64_t bits;    /* bit i: base[i] is in a word not yet returned */
    const char *next; /* start of the next block */
    const char *end, *limit;
};

/* The words of [p, end). Bytes up to 'limit' (>= end) may be read though
 * never used: a text inside a larger buffer lets the iterator load whole
 * blocks rather than copy its last one. */
void ss_words_init(struct ss_words *it, const char *p, const char *end,
                   const char *limit);

/* Helpers of ss_words_next(), out of line: they run once per block. */
void ss_words_load(struct ss_words *it);
size_t ss_words_long(struct ss_words *it, const char *w);

/* The next word in *w, *n; 0 when there are no more. */
static inline int
ss_words_next(struct ss_words *it, const char **w, size_t *n)
{
    unsigned s, e;
    uint64_t rest;

    while (it->bits == 0) {
        if (it->next >= it->end)
            return 0;
        ss_words_load(it);
    }
    s = (unsigned)__builtin_ctzll(it->bits);
    rest = ~(it->bits >> s); /* 0 only for a block that is all one word */
    e = rest != 0 ? s + (unsigned)__builtin_ctzll(rest) : 64;
    *w = it->base + s;
    if (e < 64) {
        it->bits &= ~(uint64_t)0 << e;
        *n = e - s;
        return 1;
    }
    /* The word reaches the end of a full block: it may go on past it. */
    *n = ss_words_long(it, *w);
    return 1;
}

#endif
