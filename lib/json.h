/* json.h - JSON text for sstream-sink --json and fields: strings from
 * any bytes, numbers.
 * Owns nothing: it appends to the caller's buffer.
 */
#ifndef SS_JSON_H
#define SS_JSON_H

#include <stddef.h>

#include "buf.h"

/* Append p[0..n) as a JSON string, quotes included: '"' and '\' escaped,
 * control bytes (and DEL) as \b \f \n \r \t or \u00XX, valid UTF-8 as it
 * is, and each byte that is not part of a valid UTF-8 sequence (a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, a cut
 * sequence) as \ufffd, the replacement character: JSON holds text, not
 * bytes, and a byte read as Latin-1 would pass for another character.
 * 0, or -ENOMEM (the buffer may hold part of the string). */
int ss_json_string(struct ss_buf *b, const char *p, size_t n);
/* Append d as the shortest decimal text that reads back the same (0.1,
 * not 0.10000000000000001); a NaN or an infinity as null. 0, or -ENOMEM. */
int ss_json_real(struct ss_buf *b, double d);
/* The length of the valid UTF-8 sequence of two to four bytes at
 * p[0..n), or 0. The ranges are RFC 3629's (and Jansson's): no overlong
 * forms, no surrogates (ED A0..BF), nothing past U+10FFFF. */
size_t ss_json_utf8_len(const unsigned char *p, size_t n);

#endif
