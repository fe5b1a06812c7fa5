/*
 * Packed word arrays (blob-format.md §1.5). Words are kept exactly as on
 * the wire (big-endian), possibly unaligned (mmap mode points into the file),
 * so every load goes through memcpy + byte swap. Element k of width b at bit
 * offset p has its low bits in word p/64 from bit p%64 upwards and spills
 * into the bottom of the next word.
 */
#ifndef HOLLOW_SRC_COMMON_BITS_H
#define HOLLOW_SRC_COMMON_BITS_H

#include <stdint.h>
#include <string.h>

static inline uint64_t hollow__be64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void hollow__put_be64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* ones(b) for b in 0..64 (§0.2) */
static inline uint64_t hollow__ones(unsigned b)
{
    return b >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << b) - 1);
}

/* bitlen(x) (§0.2) */
static inline unsigned hollow__bitlen(uint64_t x)
{
    return x == 0 ? 0 : (unsigned)(64 - __builtin_clzll(x));
}

/*
 * read(p, b) over the big-endian words at `w`. The caller guarantees the
 * element lies within the array (checked once when the array was loaded).
 */
static inline uint64_t hollow__bits_read(const uint8_t *w, uint64_t p,
                                         unsigned b)
{
    if (b == 0)
        return 0;
    uint64_t i = p >> 6;
    unsigned s = (unsigned)(p & 63);
    uint64_t v = hollow__be64(w + i * 8) >> s;
    if (s + b > 64)
        v |= hollow__be64(w + (i + 1) * 8) << (64 - s);
    return v & hollow__ones(b);
}

/* write(p, b, v) into pre-zeroed big-endian words */
static inline void hollow__bits_write(uint8_t *w, uint64_t p, unsigned b,
                                      uint64_t v)
{
    if (b == 0)
        return;
    uint64_t i = p >> 6;
    unsigned s = (unsigned)(p & 63);
    hollow__put_be64(w + i * 8, hollow__be64(w + i * 8) | (v << s));
    if (s + b > 64)
        hollow__put_be64(w + (i + 1) * 8,
                         hollow__be64(w + (i + 1) * 8) | (v >> (64 - s)));
}

/* ceilw(bits) (§0.2) */
static inline uint64_t hollow__ceilw(uint64_t bits)
{
    return bits == 0 ? 0 : (bits - 1) / 64 + 1;
}

#endif
