/* regex.c - a thin layer over PCRE2 (8-bit code units). */
#include "regex.h"

#include <stdio.h>
#include <stdlib.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

struct ss_regex {
    pcre2_code *code;
    pcre2_match_data *md;
    const struct ss_regex *of; /* a clone's original, which owns the code */
};

struct ss_regex *
ss_regex_compile(const char *pattern, char *why, size_t n)
{
    struct ss_regex *re;
    PCRE2_UCHAR msg[256];
    PCRE2_SIZE off;
    int err;

    if ((re = calloc(1, sizeof(*re))) == NULL) {
        snprintf(why, n, "out of memory");
        return NULL;
    }
    re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0,
                             &err, &off, NULL);
    if (re->code == NULL) {
        pcre2_get_error_message(err, msg, sizeof(msg));
        snprintf(why, n, "%s at offset %zu", (char *)msg, (size_t)off);
        free(re);
        return NULL;
    }
    /* Without JIT (not built in, or no executable memory) matching still
     * works, only slower: the error is not worth failing for. */
    (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
    re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
    if (re->md == NULL) {
        snprintf(why, n, "out of memory");
        pcre2_code_free(re->code);
        free(re);
        return NULL;
    }
    return re;
}

int
ss_regex_match(struct ss_regex *re, const char *p, size_t len)
{
    int rc = pcre2_match(re->code, (PCRE2_SPTR)(p != NULL ? p : ""), len, 0, 0,
                         re->md, NULL);

    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : rc;
}

struct ss_regex *
ss_regex_clone(const struct ss_regex *re)
{
    struct ss_regex *c;

    if ((c = calloc(1, sizeof(*c))) == NULL)
        return NULL;
    c->code = re->code;
    c->of = re;
    if ((c->md = pcre2_match_data_create_from_pattern(re->code, NULL)) ==
        NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void
ss_regex_free(struct ss_regex *re)
{
    if (re == NULL)
        return;
    pcre2_match_data_free(re->md);
    if (re->of == NULL)
        pcre2_code_free(re->code);
    free(re);
}
