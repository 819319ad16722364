/* words.c - finding blanks 64 bytes at a time. */
#include "words.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define BLOCK 64

const unsigned char ss_words_blank[256] = {
    [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\v'] = 1, ['\f'] = 1,
};

/* Bit i set when p[i] is a blank, for the 64 bytes at p. */
static uint64_t
blanks64(const char *p)
{
#ifdef __SSE2__
    const __m128i sp = _mm_set1_epi8(' '), nl = _mm_set1_epi8('\n'),
                  tab = _mm_set1_epi8('\t'), four = _mm_set1_epi8(4);
    uint64_t m = 0;

    for (int i = 0; i < BLOCK; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        /* \t..\r are 9..13: v - 9 <= 4 unsigned, less \n */
        __m128i c = _mm_sub_epi8(v, tab);
        __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(c, four), c);
        __m128i b = _mm_or_si128(_mm_cmpeq_epi8(v, sp),
                                 _mm_andnot_si128(_mm_cmpeq_epi8(v, nl), ctl));

        m |= (uint64_t)(uint16_t)_mm_movemask_epi8(b) << i;
    }
    return m;
#else
    uint64_t m = 0;

    for (int i = 0; i < BLOCK; i++)
        m |= (uint64_t)ss_words_blank[(unsigned char)p[i]] << i;
    return m;
#endif
}

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
        m = blanks64(p);
    } else {
        char buf[BLOCK];

        memset(buf, ' ', sizeof(buf));
        memcpy(buf, p, n);
        m = blanks64(buf);
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

    while (q < it->end && !ss_words_blank[(unsigned char)*q])
        q++;
    it->bits = 0;
    it->next = q;
    return (size_t)(q - w);
}
