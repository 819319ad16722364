/* scan.h - finding bytes 64 at a time: a bit mask of the blanks, or of
 * one byte value, in a 64-byte block (SSE2 where the machine has it, a
 * loop elsewhere). The splitters build on it so that their loops branch
 * once per word or record, not once per byte. */
#ifndef SS_SCAN_H
#define SS_SCAN_H

#include <stddef.h>
#include <stdint.h>

#define SS_SCAN_BLOCK 64

/* 1 for a blank: space, tab, CR, VT, FF (not newline, which ends
 * records). */
extern const unsigned char ss_scan_blank[256];

/* Bit i set when p[i] is a blank, for the 64 bytes at p. */
uint64_t ss_scan_blanks(const char *p);
/* Bit i set when p[i] == c, for the 64 bytes at p. */
uint64_t ss_scan_byte(const char *p, char c);

#endif
