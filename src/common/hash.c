/* Hollow's byte hash and table sizing (blob-format.md §8.1, §11.3). */
#include "hash.h"

static inline uint32_t rotl32(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

uint32_t hollow__murmur(const uint8_t *p, size_t len)
{
    return hollow__murmur_seeded(p, len, 0xEAB524B9u);
}

uint32_t hollow__murmur_seeded(const uint8_t *p, size_t len, uint32_t seed)
{
    const uint32_t c1 = 0xCC9E2D51u, c2 = 0x1B873593u;
    uint32_t h = seed;
    size_t nblocks = len / 4;
    for (size_t i = 0; i < nblocks; i++) {
        const uint8_t *b = p + 4 * i;
        uint32_t k = (uint32_t)b[0] | ((uint32_t)b[1] << 8) |
                     ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
        h = rotl32(h, 13);
        h = h * 5u + 0xE6546B64u;
    }
    const uint8_t *tail = p + 4 * nblocks;
    uint32_t k = 0;
    switch (len & 3) {
    case 3:
        k ^= (uint32_t)tail[2] << 16;
        HOLLOW__FALLTHROUGH;
    case 2:
        k ^= (uint32_t)tail[1] << 8;
        HOLLOW__FALLTHROUGH;
    case 1:
        k ^= tail[0];
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
        break;
    default:
        break;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

uint32_t hollow__hash_table_size(uint32_t n)
{
    if (n == 0)
        return 1;
    if (n <= 2)
        return 2 * n;
    if (n > 751619276u) /* Java refuses sizes above floor(2^30 * 7 / 10) */
        return 0;
    uint64_t x = (uint64_t)n * 10 / 7 - 1;
    int bits = 64 - __builtin_clzll(x);
    return (uint32_t)1 << bits;
}
