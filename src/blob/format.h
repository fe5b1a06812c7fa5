/*
 * Constants and pure helpers of the blob format (blob-format.md), shared by
 * the reader (read/), the codecs (blob/), the writer (write/) and the
 * indexes. This header depends on nothing but <stdint.h>: it is the layer
 * just above common/ in the include order of docs/architecture.md §3, so
 * any component may include it without pulling in another's internals.
 */
#ifndef HOLLOW_SRC_BLOB_FORMAT_H
#define HOLLOW_SRC_BLOB_FORMAT_H

#include <stdint.h>

#define HOLLOW__BLOB_VERSION 1030 /* §3.1 */

/* The null FLOAT and DOUBLE: NaNs with these exact bits (§6.1). */
#define HOLLOW__FLOAT_NULL 0x7FC00001u
#define HOLLOW__DOUBLE_NULL 0x7FF8000000000001ull

/* Zigzag encoding of INT and LONG values (§1.3). */
static inline uint32_t hollow__zigzag32(int32_t v)
{
    uint32_t u = (uint32_t)v;
    return (u << 1) ^ (0u - (u >> 31));
}

static inline uint64_t hollow__zigzag64(int64_t v)
{
    uint64_t u = (uint64_t)v;
    return (u << 1) ^ (0 - (u >> 63));
}

static inline int32_t hollow__unzigzag32(uint32_t u)
{
    return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

static inline int64_t hollow__unzigzag64(uint64_t u)
{
    return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

/* §5: the largest shard ordinal of shard s given the global max M */
static inline int32_t hollow__max_shard_ordinal(int32_t M, uint32_t n, uint32_t s)
{
    int64_t q = ((int64_t)M + 1) / n, rem = ((int64_t)M + 1) % n;
    return (int32_t)((int64_t)s < rem ? q : q - 1);
}

#endif
