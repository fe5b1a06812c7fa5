/*
 * Text conversions between the three encodings Hollow uses:
 *  - UTF-16 code units: what a Hollow string is (lone surrogates legal);
 *  - Java modified UTF-8 (blob-format.md §1.4): names and header tags in
 *    blobs; NUL is C0 80, supplementary characters are two 3-byte surrogates;
 *  - our in-memory "UTF-8": standard UTF-8 for every valid character, with
 *    two extensions so that any UTF-16 sequence survives a round trip:
 *    a lone surrogate is its 3-byte generalized form (as WTF-8 does), and in
 *    NUL-terminated names U+0000 is kept as C0 80.
 */
#ifndef HOLLOW_SRC_COMMON_TEXT_H
#define HOLLOW_SRC_COMMON_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MUTF-8 bytes -> NUL-terminated UTF-8 (NUL kept as C0 80). HOLLOW_ECORRUPT
 * on a malformed sequence (no error message set), HOLLOW_ENOMEM. */
int hollow__mutf8_to_utf8(char **out, const uint8_t *p, size_t n);

/* UTF-8 (lenient: C0 80, generalized surrogates) -> UTF-16 units.
 * Returns the number of units written, or -1 if malformed. `out` may be
 * NULL to count; otherwise it must hold `n` units (enough for any input). */
long hollow__utf8_to_utf16(uint16_t *out, const char *s, size_t n);

/* Encode one code unit sequence as UTF-8 into out (which must hold 3 bytes
 * per unit); surrogate pairs become 4 bytes, lone surrogates 3 bytes, and
 * U+0000 the byte 00 unless nul_as_c080. Returns bytes written. */
size_t hollow__utf16_to_utf8(char *out, const uint16_t *u, size_t n,
                             int nul_as_c080);

/* UTF-16 units -> MUTF-8 bytes (out must hold 3 bytes per unit). */
size_t hollow__utf16_to_mutf8(uint8_t *out, const uint16_t *u, size_t n);

/* The length of the UTF-8 sequence that lead byte b starts (1 for ASCII
 * and for a byte that starts none: the decoder then reports it). */
static inline size_t hollow__utf8_seq_len(uint8_t b)
{
    return b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
}

/* An announced version as Java's announcers write it (announced.version,
 * the S3 object): decimal digits, optionally followed by white space (a
 * line end); false on anything else or above INT64_MAX. */
bool hollow__parse_announced_version(int64_t *out, const char *p, size_t len);

#endif
