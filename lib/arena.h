/* arena.h - bump allocator for memory that lives as long as one batch.
 * Owns: a list of chunks. ss_arena_alloc() hands out pieces of the current
 * chunk; ss_arena_reset() makes every piece invalid at once and keeps the
 * chunks for the next batch, so a stage that resets its arena per batch
 * stops calling malloc once it has seen its largest batch. Pointers stay
 * valid until the next reset or release (chunks never move).
 */
#ifndef SS_ARENA_H
#define SS_ARENA_H

#include <stddef.h>

struct ss_arena_chunk;

struct ss_arena {                /* all zero is an empty arena */
    struct ss_arena_chunk *head; /* first chunk; the list is kept on reset */
    struct ss_arena_chunk *cur;  /* chunk being filled */
    size_t used;                 /* bytes used in cur */
};

/* n bytes aligned for any type, or NULL when memory is exhausted. */
void *ss_arena_alloc(struct ss_arena *a, size_t n);
/* A copy of p[0..n) (not terminated), or NULL. n == 0 gives a valid
 * pointer. */
char *ss_arena_dup(struct ss_arena *a, const void *p, size_t n);
void ss_arena_reset(struct ss_arena *a);
void ss_arena_release(struct ss_arena *a);

#endif
