/* arena.c - chunked bump allocator, reset per batch.
 *
 * Chunks are at least CHUNK bytes; a request larger than that gets a chunk
 * of its own size, linked in the same list so that reset reuses it too.
 */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK ((size_t)1 << 20)
#define ALIGN alignof(max_align_t)

struct ss_arena_chunk {
    struct ss_arena_chunk *next;
    size_t size;
    alignas(max_align_t) char data[];
};

static struct ss_arena_chunk *
chunk_new(size_t size)
{
    struct ss_arena_chunk *c;

    if (size > SIZE_MAX - sizeof(*c))
        return NULL;
    if ((c = malloc(sizeof(*c) + size)) == NULL)
        return NULL;
    c->next = NULL;
    c->size = size;
    return c;
}

/* n bytes at an offset rounded up to 'align' (a power of two). */
static void *
bump(struct ss_arena *a, size_t n, size_t align)
{
    struct ss_arena_chunk *c;
    size_t off;

    if (a->cur != NULL) {
        off = (a->used + align - 1) & ~(align - 1);
        if (off <= a->cur->size && a->cur->size - off >= n) {
            a->used = off + n;
            return a->cur->data + off;
        }
    }
    /* Move on to the next kept chunk that fits, or add one after cur. */
    for (c = a->cur != NULL ? a->cur->next : a->head; c != NULL; c = c->next)
        if (c->size >= n)
            break;
    if (c == NULL) {
        if ((c = chunk_new(n > CHUNK ? n : CHUNK)) == NULL)
            return NULL;
        if (a->cur == NULL) {
            c->next = a->head;
            a->head = c;
        } else {
            c->next = a->cur->next;
            a->cur->next = c;
        }
    }
    /* Chunks skipped between cur and c stay unused until the next reset:
     * they are too small for this request, and a later one will not go
     * back to them. The waste is bounded by one batch. */
    a->cur = c;
    a->used = n;
    return c->data;
}

void *
ss_arena_alloc(struct ss_arena *a, size_t n)
{
    return bump(a, n, ALIGN);
}

/* Bytes need no alignment: short records (words) pack densely. */
char *
ss_arena_dup(struct ss_arena *a, const void *p, size_t n)
{
    char *d = bump(a, n, 1);

    if (d != NULL && n > 0)
        memcpy(d, p, n);
    return d;
}

void
ss_arena_reset(struct ss_arena *a)
{
    a->cur = NULL;
    a->used = 0;
}

void
ss_arena_release(struct ss_arena *a)
{
    struct ss_arena_chunk *c, *next;

    for (c = a->head; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    memset(a, 0, sizeof(*a));
}
