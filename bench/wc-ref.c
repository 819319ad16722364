/* wc-ref.c - the plain C word count that bench/map-wordcount.sh measures
 * sstream against: one open-addressing hash table (XXH3, linear probing),
 * keys copied into one growing buffer, input read in 4 MiB blocks, words
 * split on blanks and newlines. Prints "word<TAB>count" per distinct word.
 * Not part of sstream; the yardstick for "within 1.5x of the C loop".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

struct slot {
    uint64_t hash;
    size_t off; /* key offset in keys, + 1; 0: empty */
    uint32_t len;
    uint64_t count;
};

static struct slot *tab;
static size_t slots = 1 << 16, used;
static char *keys;
static size_t klen, kcap;

static void
grow(void)
{
    size_t n = slots * 2;
    struct slot *t = calloc(n, sizeof(*t));

    if (t == NULL)
        exit(1);
    for (size_t i = 0; i < slots; i++) {
        size_t j;

        if (tab[i].off == 0)
            continue;
        for (j = tab[i].hash & (n - 1); t[j].off != 0; j = (j + 1) & (n - 1))
            ;
        t[j] = tab[i];
    }
    free(tab);
    tab = t;
    slots = n;
}

static void
count(const char *w, size_t n)
{
    uint64_t h = XXH3_64bits(w, n);
    size_t i;

    for (i = h & (slots - 1); tab[i].off != 0; i = (i + 1) & (slots - 1))
        if (tab[i].hash == h && tab[i].len == n &&
            memcmp(keys + tab[i].off - 1, w, n) == 0) {
            tab[i].count++;
            return;
        }
    if (klen + n > kcap) {
        kcap = (kcap + n) * 2;
        if ((keys = realloc(keys, kcap)) == NULL)
            exit(1);
    }
    memcpy(keys + klen, w, n);
    tab[i] = (struct slot){h, klen + 1, (uint32_t)n, 1};
    klen += n;
    if (++used * 2 > slots)
        grow();
}

static int
blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
main(void)
{
    size_t cap = 4 << 20, have = 0;
    char *buf = malloc(cap);
    ssize_t n;

    tab = calloc(slots, sizeof(*tab));
    if (buf == NULL || tab == NULL)
        return 1;
    while ((n = read(0, buf + have, cap - have)) > 0) {
        size_t end = have + (size_t)n, i = 0, cut = end;

        while (cut > 0 && !blank(buf[cut - 1]))
            cut--; /* a word cut by the block end waits for the next */
        while (i < cut) {
            size_t s;

            while (i < cut && blank(buf[i]))
                i++;
            for (s = i; i < cut && !blank(buf[i]); i++)
                ;
            if (i > s)
                count(buf + s, i - s);
        }
        memmove(buf, buf + cut, end - cut);
        have = end - cut;
        if (have == cap && (buf = realloc(buf, cap *= 2)) == NULL)
            return 1;
    }
    if (have > 0)
        count(buf, have);
    for (size_t i = 0; i < slots; i++)
        if (tab[i].off != 0)
            printf("%.*s\t%llu\n", (int)tab[i].len, keys + tab[i].off - 1,
                   (unsigned long long)tab[i].count);
    return 0;
}
