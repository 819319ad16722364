/* words.c - the blocks behind ss_words_next(). */
#include "words.h"

#include <string.h>

#include "scan.h"

#define BLOCK SS_SCAN_BLOCK

void
ss_words_init(struct ss_words *it, const char *p, const char *end,
              const char *limit)
{
    it->base = it->next = p;
    it->bits = 0;
    it->end = end;
    it->limit = limit;
}

void
ss_words_load(struct ss_words *it)
{
    const char *p = it->next;
    size_t n = (size_t)(it->end - p);
    uint64_t m;

    if (n >= BLOCK || (size_t)(it->limit - p) >= BLOCK) {
        m = ss_scan_blanks(p);
    } else {
        char buf[BLOCK];

        memset(buf, ' ', sizeof(buf));
        memcpy(buf, p, n);
        m = ss_scan_blanks(buf);
    }
    if (n < BLOCK)
        m |= ~(uint64_t)0 << n;
    it->base = p;
    it->bits = ~m;
    it->next = p + (n < BLOCK ? n : BLOCK);
}

size_t
ss_words_long(struct ss_words *it, const char *w)
{
    const char *q = it->base + BLOCK;

    while (q < it->end && !ss_scan_blank[(unsigned char)*q])
        q++;
    it->bits = 0;
    it->next = q;
    return (size_t)(q - w);
}
