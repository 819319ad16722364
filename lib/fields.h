/* fields.h - named fields: rows of CSV (RFC 4180), TSV or JSON Lines read
 * into fields, and a field taken by name or number.
 *
 * Where parsing lives (sstream(7), FIELDS): sstream-source reads the
 * rows, because only it sees where each input (a file, a connection)
 * begins, and so which row is a header. A row leaves the source as one
 * record whose value is a JSON object: CSV and TSV rows become
 * {"name":"value",...} in header order, a JSON Lines row goes on as it
 * came. Records stay byte strings, so the frame format (sstream(5)) does
 * not change; any later stage, and jq, can read the fields by name;
 * sstream-map --key and --value take them (ss_fields_json_get()).
 *
 * Owns: a row reader owns its buffers (the header, the fields of the last
 * row, the JSON text made of it, a row still open across lines) until
 * ss_fields_row_release(). What ss_fields_row_value() and
 * ss_fields_row_get() hand out is valid until the next call on the
 * reader. JSON is scanned in place (lib/json_scan.c), and parsed by
 * Jansson (a Debian package, libjansson-dev) where the scan leaves it.
 */
#ifndef SS_FIELDS_H
#define SS_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json_scan.h"

enum ss_fields_format {
    SS_FIELDS_LINES, /* no fields: the line is the value */
    SS_FIELDS_TSV,   /* a header row, then rows of tab-separated fields */
    SS_FIELDS_CSV,   /* a header row, then RFC 4180 rows */
    SS_FIELDS_JSON,  /* JSON Lines: an object per line */
};

/* A field: by name (dotted for nested JSON objects: "user.id"), or by
 * number from 1 when 'num' > 0. */
struct ss_fields_sel {
    const char *name;
    size_t num;
};

/* A reader of one input's rows. All zero but 'fmt' is a new input. */
struct ss_fields_row {
    enum ss_fields_format fmt;
    int have_header;
    /* the names came from ss_fields_row_names(): kept on restart */
    int fixed_header;
    struct ss_buf head; /* the header's names, NUL-ended, in order */
    size_t *head_off;   /* where each name starts in head.data */
    size_t nhead, headcap;
    struct ss_buf text;      /* the fields of the last row, unquoted */
    size_t *off;             /* start, length of each field in text */
    size_t nf, fcap;         /* fields of the last row */
    struct ss_buf open;      /* a CSV row whose quoted field spans lines */
    struct ss_buf out;       /* the row as a JSON object */
    struct ss_buf scratch;   /* a JSON field's text */
    struct ss_json_obj scan; /* the last JSON row, when 'scanned' */
    int scanned;
    int tree;         /* 1: Jansson only (the reference tests/fuzz compares) */
    void *json;       /* the last JSON row parsed by Jansson (json_t *) */
    const char *line; /* the last row read (a view) */
    size_t linelen;
    uint64_t lineno; /* lines read from this input, for messages */
};

/* "tsv", "csv", "json" (or "lines"): 0, or -EINVAL. */
int ss_fields_format_parse(const char *s, enum ss_fields_format *fmt);
/* "NAME" or "N": 0, or -EINVAL (empty). The name is borrowed. */
int ss_fields_sel_parse(const char *s, struct ss_fields_sel *sel);

void ss_fields_row_init(struct ss_fields_row *r, enum ss_fields_format fmt);
/* A new input begins: its first row is a header again (unless the names
 * came from ss_fields_row_names()). */
void ss_fields_row_restart(struct ss_fields_row *r);
/* The field names of CSV and TSV rows, as a CSV row ("a,b,c"), for
 * inputs without a header row (--header: broker messages): every row is
 * then data. 0; -EINVAL when 'names' is not a CSV row (*why says why);
 * -ENOMEM. */
int ss_fields_row_names(struct ss_fields_row *r, const char *names,
                        const char **why);
/* Read the line p[0..n) (without its newline): 1 a row is ready for
 * ss_fields_row_value() and ss_fields_row_get(); 0 it was taken (a
 * header, or a CSV row whose quoted field goes on in the next line);
 * -EINVAL when the row is malformed, *why saying how (the row is
 * dropped); -ENOMEM. */
int ss_fields_row_read(struct ss_fields_row *r, const char *p, size_t n,
                       const char **why);
/* The input ended: -EINVAL (*why) when a CSV row was left open by an
 * unterminated quoted field, whose text is then in *p, *n; else 0. */
int ss_fields_row_eof(struct ss_fields_row *r, const char **why, const char **p,
                      size_t *n);
/* The record for the row just read: a JSON object (CSV, TSV), or the
 * line itself (JSON, lines). */
const char *ss_fields_row_value(struct ss_fields_row *r, size_t *n);
/* Field 'sel' of the row just read into *p, *n: 1; 0 when the row has no
 * such field; -ENOMEM. A line without --format has tab-separated fields,
 * by number only. */
int ss_fields_row_get(struct ss_fields_row *r, const struct ss_fields_sel *sel,
                      const char **p, size_t *n);
void ss_fields_row_release(struct ss_fields_row *r);

/* The last JSON object read by ss_fields_json_get() and its text, so that
 * --key then --value on one record read it once: scanned in place
 * (lib/json_scan.c), and parsed by Jansson only when the scan leaves it
 * the text or the field. All zero is empty; ss_fields_json_release()
 * frees it. */
struct ss_fields_json {
    struct ss_buf text;
    int valid;   /* text holds an object read */
    int scanned; /* ... and 'scan' indexes it */
    int tree;    /* 1: Jansson only (the reference tests/fuzz compares) */
    struct ss_json_obj scan;
    void *obj; /* json_t *, or NULL */
};

/* Field 'sel' of the JSON object p[0..n), as `jq -r` prints it: a string
 * as its bytes, anything else as compact JSON text, into 'scratch'. The
 * object is parsed unless 'c' holds it from the last call. 1 found; 0 no
 * such field; -EINVAL when p is not a JSON object (*why says why);
 * -ENOMEM. */
int ss_fields_json_get(struct ss_fields_json *c, const char *p, size_t n,
                       const struct ss_fields_sel *sel, struct ss_buf *scratch,
                       const char **out, size_t *outlen, const char **why);
void ss_fields_json_release(struct ss_fields_json *c);

#endif
