/* opt.c - checked option values for the binaries' getopt loops. */
#include "opt.h"

#include <inttypes.h>
#include <string.h>

#include "diag.h"
#include "dur.h"

int
ss_opt_duration(const char *opt, const char *arg, int64_t *ms)
{
    if (ss_dur_parse(arg, ms) < 0 || *ms > UINT32_MAX)
        return ss_diag("%s: '%s' is not a duration (try 500ms or 2s)", opt,
                       arg);
    return 0;
}

int
ss_opt_count(const char *opt, const char *arg, uint64_t min, uint64_t max,
             uint64_t *out)
{
    if (ss_dur_parse_count(arg, max, out) < 0 || *out < min)
        return ss_diag("%s: '%s' is not a whole number from %" PRIu64
                       " to %" PRIu64,
                       opt, arg, min, max);
    return 0;
}

int
ss_opt_bytes(const char *opt, const char *arg, size_t *out)
{
    static const char units[] = "kMG";
    char digits[32];
    size_t n = strspn(arg, "0123456789");
    uint64_t v, mul = 1;
    const char *u;

    if (n == 0 || n >= sizeof(digits))
        goto bad;
    memcpy(digits, arg, n);
    digits[n] = '\0';
    if (arg[n] != '\0') {
        if (arg[n + 1] != '\0' || (u = strchr(units, arg[n])) == NULL)
            goto bad;
        mul = (uint64_t)1 << (10 * (u - units + 1));
    }
    if (ss_dur_parse_count(digits, (uint64_t)1 << 40, &v) < 0 || v == 0)
        goto bad;
    *out = (size_t)(v * mul);
    return 0;
bad:
    return ss_diag("%s: '%s' is not a size (try 4096, 64k or 1M)", opt, arg);
}

int
ss_opt_char(const char *opt, const char *arg, char *out)
{
    static const char esc[] = "n\nt\tr\r0\0\\\\";

    if (arg[0] != '\0' && arg[1] == '\0') {
        *out = arg[0];
        return 0;
    }
    if (arg[0] == '\\' && arg[1] != '\0' && arg[2] == '\0') {
        for (size_t i = 0; i + 1 < sizeof(esc); i += 2) {
            if (esc[i] == arg[1]) {
                *out = esc[i + 1];
                return 0;
            }
        }
    }
    return ss_diag("%s: '%s' is not one character (or \\n \\t \\r \\0)", opt,
                   arg);
}
