/*
 * Java Hollow's hash functions (blob-format.md §11). All arithmetic is on
 * unsigned 32/64-bit values so that wrap-around is defined; results are the
 * same bit patterns Java computes on signed ints.
 */
#ifndef HOLLOW_SRC_COMMON_HASH_H
#define HOLLOW_SRC_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

/* an explicit switch fall-through both gcc and clang accept */
#if defined(__GNUC__) && __GNUC__ >= 7 || defined(__clang__)
#define HOLLOW__FALLTHROUGH __attribute__((fallthrough))
#else
#define HOLLOW__FALLTHROUGH ((void)0)
#endif

/* §11.1 */
static inline uint32_t hollow__hash_int(uint32_t x)
{
    x = ~x + (x << 15);
    x = x ^ (x >> 12);
    x = x + (x << 2);
    x = x ^ (x >> 4);
    x = x * 2057u;
    x = x ^ (x >> 16);
    return x;
}

/* §11.2 */
static inline uint32_t hollow__hash_long(uint64_t x)
{
    x = ~x + (x << 18);
    x = x ^ (x >> 31);
    x = x * 21u;
    x = x ^ (x >> 11);
    x = x + (x << 6);
    x = x ^ (x >> 22);
    return (uint32_t)x;
}

/* The finalizer of SplitMix64: a cheap bijection that mixes every bit. */
static inline uint64_t hollow__mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/*
 * A running checksum of a state (Java's HollowChecksum): each value is
 * mixed into the sum. The producer and the consumer compute it alike.
 */
typedef struct hollow__checksum {
    uint32_t c;
} hollow__checksum;

static inline void hollow__checksum_int(hollow__checksum *k, uint32_t x)
{
    k->c = hollow__hash_int(k->c ^ hollow__hash_int(x));
}

static inline void hollow__checksum_long(hollow__checksum *k, uint64_t x)
{
    k->c = hollow__hash_int(k->c ^ hollow__hash_long(x));
}

/* §11.3: MurmurHash3 x86_32 with Hollow's seed 0xEAB524B9 */
uint32_t hollow__murmur(const uint8_t *p, size_t len);
/* the same with another seed (private tables keyed against hash flooding) */
uint32_t hollow__murmur_seeded(const uint8_t *p, size_t len, uint32_t seed);

/* §8.1: buckets of a SET/MAP record of n entries; 0 if n is too large */
uint32_t hollow__hash_table_size(uint32_t n);

/* §11.4: Java String.hashCode over UTF-16 code units */
static inline uint32_t hollow__java_string_hash(const uint16_t *u, size_t n)
{
    uint32_t h = 0;
    for (size_t i = 0; i < n; i++)
        h = 31u * h + u[i];
    return h;
}

#endif
