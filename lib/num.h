/* num.h - numbers as they travel in records: decimal text (man/sstream.5,
 * "NUMBERS"). An integer (optional sign and digits only) that fits in 64
 * bits is exact; anything else that parses is a finite double. Results
 * print as integers when exact, else in the shortest form that reads back
 * to the same double.
 */
#ifndef SS_NUM_H
#define SS_NUM_H

#include <stddef.h>
#include <stdint.h>

#define SS_NUM_TEXT_MAX 32 /* room for any formatted number */

struct ss_num {
    int is_int; /* 1: i is exact; 0: d holds the value */
    int64_t i;
    double d;
};

/* Parse p[0..n): 0, or -EINVAL when it is not a number. */
int ss_num_parse(const char *p, size_t n, struct ss_num *out);
/* Text of x into out[SS_NUM_TEXT_MAX]; returns its length. */
size_t ss_num_format(const struct ss_num *x, char *out);
/* Shortest text that reads back to the same double. */
size_t ss_num_format_double(double d, char *out);
/* d as Java's Double.toString() writes it, and so Spark's print(): at
 * least one digit after the point ("3.0"), the shortest digits that read
 * back to d, scientific with "E" outside [1e-3, 1e7) ("1.0E10",
 * "1.5E-4"), "-0.0", "NaN", "Infinity". Returns the length. */
size_t ss_num_format_java(double d, char *out);
/* p[0..n) is decimal text of a double, not an integer: it has a point or
 * an exponent, and parses (*d its value). */
int ss_num_is_float_text(const char *p, size_t n, double *d);
double ss_num_double(const struct ss_num *x);
/* <0, 0, >0 as a is below, equal to, above b (exact for two integers). */
int ss_num_cmp(const struct ss_num *a, const struct ss_num *b);
/* a += b, or a -= b when 'negate'; integers stay exact: -ERANGE when the
 * exact result does not fit in 64 bits (a unchanged). */
int ss_num_add(struct ss_num *a, const struct ss_num *b, int negate);

#endif
