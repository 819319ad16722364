/* dur.h - durations as users write them: 500ms, 2s, 1m, 1h; a bare number
 * is seconds, as Spark's Seconds(n). All values are milliseconds. Also
 * the two clocks every stage reads.
 */
#ifndef SS_DUR_H
#define SS_DUR_H

#include <stddef.h>
#include <stdint.h>

/* Parse 's' into *ms (> 0); 0, or -EINVAL for anything else. */
int ss_dur_parse(const char *s, int64_t *ms);
/* Write the shortest exact spelling of 'ms' ("1500ms", "2s", "1m") into
 * out[0..n); returns out. */
char *ss_dur_format(int64_t ms, char *out, size_t n);
/* Wall clock, ms since the epoch (batch times, closed_ms). */
int64_t ss_dur_now_ms(void);
/* Monotonic clock, ns (time spent, never compared across processes). */
uint64_t ss_dur_mono_ns(void);
/* Parse a non-negative decimal integer up to 'max'; 0 or -EINVAL. */
int ss_dur_parse_count(const char *s, uint64_t max, uint64_t *out);

#endif
