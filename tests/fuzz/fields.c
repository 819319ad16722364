/* fields.c - fuzz target: the field readers of sstream-source --format and
 * sstream-map --key (lib/fields.c: CSV, TSV, JSON Lines) and the event
 * time reader (lib/timefmt.c, ss_timefmt_scan()).
 *
 * The input is a byte of flags, then lines ('\n'): the first of a CSV or
 * TSV input is its header. Each line goes through ss_fields_row_read(),
 * as the source's splitter sends it; each row read gives its value and
 * two fields, by name and by number, and each field is read as a time in
 * every --time-format; each line is also read as sstream-map --key reads
 * a record (ss_fields_json_get()).
 *
 * JSON is read by a scan in place (lib/json_scan.c) with Jansson behind
 * it for what the scan leaves; each JSON read is done again by Jansson
 * alone (the readers' 'tree' flag), and the two must agree: the same
 * verdict and the same bytes for every field, else the target aborts.
 *
 *   flags 0x03  format: lines, tsv, csv, json
 *         0x0c  field number 1 to 4 (and its name in the header)
 *         0x10  restart (a new input) after every 8th line
 */
#include "fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "timefmt.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_init();
    return 0;
}

/* Where the reads go, so that they are not optimised away. */
static volatile size_t sink;

static void
read_times(const char *p, size_t n)
{
    static const char *const fmts[] = {"epoch-ms", "epoch-s", "iso8601",
                                       "%d/%b/%Y:%H:%M:%S %z"};
    struct ss_timefmt tf;
    int64_t ms;

    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
        if (ss_timefmt_parse_in(fmts[i], &tf) == 0 &&
            ss_timefmt_scan(&tf, p, n, &ms) == 0)
            sink += (size_t)ms;
}

static void
fields(struct ss_fields_row *r, const struct ss_fields_sel *sels, size_t nsel)
{
    const char *p;
    size_t n;

    p = ss_fields_row_value(r, &n);
    if (n > 0)
        sink += (unsigned char)p[n - 1];
    for (size_t i = 0; i < nsel; i++)
        if (ss_fields_row_get(r, &sels[i], &p, &n) == 1) {
            sink += n;
            read_times(p, n);
        }
}

/* The scan's answer and Jansson's, which must be the same. */
static void
same(const char *what, const struct ss_fields_sel *sel, int rc, const char *p,
     size_t n, int ref, const char *rp, size_t rn)
{
    if (rc == ref && (rc != 1 || (n == rn && memcmp(p, rp, n) == 0)))
        return;
    fprintf(stderr,
            "fields: %s '%s' (%zu): scan %d '%.*s', Jansson %d '%.*s'\n", what,
            sel->name, sel->num, rc, rc == 1 ? (int)n : 0, p, ref,
            ref == 1 ? (int)rn : 0, rp);
    abort();
}

static void
as_record(struct ss_fields_json *c, struct ss_fields_json *ref,
          const char *line, size_t n, const struct ss_fields_sel *sels,
          size_t nsel, struct ss_buf *scratch, struct ss_buf *refscratch)
{
    const char *p = NULL, *rp = NULL, *why;
    size_t len = 0, rlen = 0;
    int rc, rrc;

    for (size_t i = 0; i < nsel; i++) {
        rc = ss_fields_json_get(c, line, n, &sels[i], scratch, &p, &len, &why);
        rrc = ss_fields_json_get(ref, line, n, &sels[i], refscratch, &rp, &rlen,
                                 &why);
        same("record", &sels[i], rc, p, len, rrc, rp, rlen);
        if (rc == 1)
            sink += len;
    }
}

/* A JSON row read by the scan and by Jansson alone: the same verdict, the
 * same fields. */
static void
json_row(struct ss_fields_row *r, struct ss_fields_row *ref, int rc,
         const char *line, size_t n, const struct ss_fields_sel *sels,
         size_t nsel)
{
    const char *p = NULL, *rp = NULL, *why;
    size_t len = 0, rlen = 0;
    int a, b;
    struct ss_fields_sel row = {"row", 0};

    same("row", &row, rc, "", 0, ss_fields_row_read(ref, line, n, &why), "", 0);
    if (rc != 1)
        return;
    for (size_t i = 0; i < nsel; i++) {
        a = ss_fields_row_get(r, &sels[i], &p, &len);
        b = ss_fields_row_get(ref, &sels[i], &rp, &rlen);
        same("row field", &sels[i], a, p, len, b, rp, rlen);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"a", "b.c", "time", "x"};
    static const char *const nums[] = {"1", "2", "3", "4"};
    static const char *const more[] = {"a.b",    "b", "a.b.c",
                                       "\u00e9", "",  "é.x"};
    struct ss_fields_sel sels[3 + sizeof(more) / sizeof(more[0])];
    struct ss_fields_row r, ref;
    struct ss_buf scratch = {0}, refscratch = {0};
    struct ss_fields_json cache = {0}, refcache = {0};
    const char *p, *end, *nl, *why;
    unsigned flags;
    size_t line = 0, n, nsel = sizeof(sels) / sizeof(sels[0]);
    int rc;

    if (size < 1)
        return 0;
    flags = data[0];
    p = (const char *)data + 1;
    end = (const char *)data + size;
    ss_fields_sel_parse(names[(flags >> 2) & 3], &sels[0]);
    ss_fields_sel_parse(nums[(flags >> 2) & 3], &sels[1]);
    ss_fields_sel_parse("user.name", &sels[2]);
    for (size_t i = 3; i < nsel; i++) {
        sels[i].name = more[i - 3];
        sels[i].num = 0;
    }
    ss_fields_row_init(&r, (enum ss_fields_format)(flags & 3));
    ss_fields_row_init(&ref, SS_FIELDS_JSON);
    ref.tree = refcache.tree = 1;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        n = (size_t)((nl != NULL ? nl : end) - p);
        if ((rc = ss_fields_row_read(&r, p, n, &why)) == 1)
            fields(&r, sels, nsel);
        if ((flags & 3) == SS_FIELDS_JSON)
            json_row(&r, &ref, rc, p, n, sels, nsel);
        as_record(&cache, &refcache, p, n, sels, nsel, &scratch, &refscratch);
        if ((flags & 0x10) && ++line % 8 == 0)
            ss_fields_row_restart(&r);
        p += n + (nl != NULL);
    }
    if (ss_fields_row_eof(&r, &why, &p, &n) < 0)
        sink += n;
    ss_fields_row_release(&r);
    ss_fields_row_release(&ref);
    ss_buf_release(&scratch);
    ss_buf_release(&refscratch);
    ss_fields_json_release(&cache);
    ss_fields_json_release(&refcache);
    return 0;
}
