/* json_scan.h - JSON objects read in place, without building a tree: the
 * fast path of fields by name (lib/fields.c).
 *
 * Jansson builds a tree per text: a hash table and a node per value, all
 * allocated and freed again for each record, which made --format json
 * and sstream-map --key/--value 10-20 times slower than the plain paths.
 * A record wants one or two scalar fields, so the text is validated in
 * one pass and its members indexed as views, without a copy.
 *
 * ss_json_scan() accepts only texts that Jansson's json_loadb() with
 * JSON_ALLOW_NUL accepts too, and gives them the same meaning (the fuzz
 * target tests/fuzz/fields compares the two on every input). What it does
 * not decide it leaves to Jansson, which then gives the verdict and its
 * message: a malformed text, an integer past 18 digits, a real that may
 * overflow, nesting past SS_JSON_SCAN_DEPTH, a NUL in a key.
 * ss_json_scan_get() gives a scalar member as `jq -r` prints it; an
 * object or array value is left to Jansson as well (its compact form is
 * Jansson's). Duplicate keys: the last value wins, at the place of the
 * first (as Jansson and jq do).
 *
 * Owns: the member indexes, grown by doubling and kept across texts (no
 * allocation per text once warm), until ss_json_scan_release(). Members
 * are views into the text, which the caller keeps unchanged while it
 * uses them; what ss_json_scan_get() hands out is valid until the next
 * call on 'o' or on 'scratch'.
 */
#ifndef SS_JSON_SCAN_H
#define SS_JSON_SCAN_H

#include <stddef.h>

#include "buf.h"

#define SS_JSON_SCAN_DEPTH 512

struct ss_json_member {
    const char *key; /* between the quotes, escapes still in */
    const char *val; /* the value's text */
    size_t klen, vlen;
    int kesc; /* the key has a backslash escape */
};

struct ss_json_index {
    struct ss_json_member *m;
    size_t n, cap;
    int kesc; /* some key has an escape */
};

/* All zero is empty. */
struct ss_json_obj {
    struct ss_json_index top; /* the object's members, in order */
    struct ss_json_index sub; /* a nested object's, for a dotted name */
    struct ss_buf key;        /* a key with escapes, decoded */
};

/* p[0..n) as one JSON object: 1 valid (members indexed); 0 not decided
 * here (ask Jansson); -ENOMEM. */
int ss_json_scan(struct ss_json_obj *o, const char *p, size_t n);
/* Member 'name' (dotted: "a.b" is member "b" of member "a", unless the
 * object has a member "a.b"), or number 'num' from 1 when num > 0, of the
 * object last scanned, as `jq -r` prints a scalar: 1 found (*out,
 * *outlen: a view into the text or into 'scratch'); 0 no such member;
 * -EAGAIN left to Jansson (an object or array value, a number among keys
 * with escapes); -ENOMEM. */
int ss_json_scan_get(struct ss_json_obj *o, const char *name, size_t num,
                     struct ss_buf *scratch, const char **out, size_t *outlen);
void ss_json_scan_release(struct ss_json_obj *o);

#endif
