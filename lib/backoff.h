/* backoff.h - waiting before trying again: 250ms doubling to 8s, back to
 * the start after a success. One policy for everything that reconnects
 * or restarts (the source's --connect and --exec-restart, the sink's
 * --connect and --post), and one wording for what it says meanwhile.
 * Owns nothing: the struct is the caller's; all zero is a fresh start.
 */
#ifndef SS_BACKOFF_H
#define SS_BACKOFF_H

#include <stddef.h>
#include <stdint.h>

struct ss_backoff {
    uint64_t next_ms;
};

void ss_backoff_reset(struct ss_backoff *bo);
/* The wait before the next attempt, in ms; doubles the one after. */
uint64_t ss_backoff_next(struct ss_backoff *bo);
/* "250ms" or "2s" into buf, for messages. */
const char *ss_backoff_text(uint64_t ms, char *buf, size_t n);
/* Say "WHAT: WHY; AGAIN in 250ms" ("reconnecting", "retrying") and
 * return the wait, from ss_backoff_next(). */
uint64_t ss_backoff_say(struct ss_backoff *bo, const char *what,
                        const char *why, const char *again);

#endif
