/* scan.c - byte masks of 64-byte blocks. */
#include "scan.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

const unsigned char ss_scan_blank[256] = {
    [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\v'] = 1, ['\f'] = 1,
};

#ifdef __SSE2__
static __m128i
load16(const char *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

static uint64_t
mask16(__m128i m, int at)
{
    return (uint64_t)(uint16_t)_mm_movemask_epi8(m) << at;
}
#endif

uint64_t
ss_scan_blanks(const char *p)
{
    uint64_t m = 0;
#ifdef __SSE2__
    const __m128i sp = _mm_set1_epi8(' '), nl = _mm_set1_epi8('\n'),
                  tab = _mm_set1_epi8('\t'), four = _mm_set1_epi8(4);

    for (int i = 0; i < SS_SCAN_BLOCK; i += 16) {
        __m128i v = load16(p + i);
        /* \t..\r are 9..13: v - 9 <= 4 unsigned, less \n */
        __m128i c = _mm_sub_epi8(v, tab);
        __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(c, four), c);

        m |= mask16(_mm_or_si128(_mm_cmpeq_epi8(v, sp),
                                 _mm_andnot_si128(_mm_cmpeq_epi8(v, nl), ctl)),
                    i);
    }
#else
    for (int i = 0; i < SS_SCAN_BLOCK; i++)
        m |= (uint64_t)ss_scan_blank[(unsigned char)p[i]] << i;
#endif
    return m;
}

uint64_t
ss_scan_byte(const char *p, char c)
{
    uint64_t m = 0;
#ifdef __SSE2__
    const __m128i cc = _mm_set1_epi8(c);

    for (int i = 0; i < SS_SCAN_BLOCK; i += 16)
        m |= mask16(_mm_cmpeq_epi8(load16(p + i), cc), i);
#else
    for (int i = 0; i < SS_SCAN_BLOCK; i++)
        m |= (uint64_t)(p[i] == c) << i;
#endif
    return m;
}
