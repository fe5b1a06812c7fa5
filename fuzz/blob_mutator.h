/*
 * A structure-aware libFuzzer mutator for blobs (style.md B10), shared by
 * fuzz_snapshot and fuzz_delta.
 *
 * Byte-level mutation almost never turns one count of a blob into another
 * valid-looking count of a different length: the counts that decide what a
 * reader allocates (max ordinals, shard and type counts, gap lists, word
 * counts, bit set lengths, header tag counts) are varints (blob-format.md
 * §1.2) or big-endian ints. So, half of the time, this mutator picks one of
 * them at a random offset and rewrites it as an "interesting" value (powers
 * of two around the hard limits of docs/limits.md, 2^31-2, small values,
 * the old value +-1), re-encoded at its new length; or it repeats a chunk
 * (more shards, more types, more tags). The rest of the time libFuzzer's
 * own mutations run. `skip` leading bytes (fuzz_delta's base selector) are
 * left to libFuzzer.
 *
 * Only the libFuzzer builds define HOLLOW_LIBFUZZER: the gcc replay tests
 * have no LLVMFuzzerMutate, and need no mutator.
 */
#ifndef HOLLOW_FUZZ_BLOB_MUTATOR_H
#define HOLLOW_FUZZ_BLOB_MUTATOR_H

#ifdef HOLLOW_LIBFUZZER

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/reader.h" /* hollow__vint_encode */

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static uint64_t blobmut_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const uint32_t BLOBMUT_VALUES[] = {
    0,          1,          2,          3,          7,
    8,          31,         32,         63,         64,
    65,         127,        128,        255,        256,
    1023,       1024,       4095,       4096,       65535,
    65536,      1u << 20,   (1u << 20) + 1, 1u << 21, 1u << 22,
    (1u << 22) + 1, 1u << 24, 1u << 29, 1u << 30,   0x7FFFFFFEu,
    0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu};
#define BLOBMUT_NVALUES (sizeof BLOBMUT_VALUES / sizeof *BLOBMUT_VALUES)

/* the varint at p (§1.2): its length, 0 if none within 5 bytes */
static size_t blobmut_var_at(const uint8_t *p, size_t n, uint64_t *v)
{
    uint64_t acc = 0;
    for (size_t i = 0; i < n && i < 5; i++) {
        acc = (acc << 7) | (p[i] & 0x7F);
        if (!(p[i] & 0x80)) {
            *v = acc;
            return i + 1;
        }
    }
    return 0;
}

/* replace data[at, at+oldn) by rep[0, repn); 0 if it would not fit */
static size_t blobmut_splice(uint8_t *data, size_t size, size_t max, size_t at,
                             size_t oldn, const uint8_t *rep, size_t repn)
{
    if (size - oldn + repn > max)
        return 0;
    memmove(data + at + repn, data + at + oldn, size - at - oldn);
    memcpy(data + at, rep, repn);
    return size - oldn + repn;
}

static uint32_t blobmut_value(uint64_t *rs, uint64_t old)
{
    uint64_t r = blobmut_rand(rs);
    switch (r % 4) {
    case 0: return (uint32_t)old + 1;
    case 1: return (uint32_t)old - 1;
    case 2: return (uint32_t)old * 2;
    default: return BLOBMUT_VALUES[(r >> 8) % BLOBMUT_NVALUES];
    }
}

static size_t hollow_fuzz_blob_mutate(uint8_t *data, size_t size, size_t max,
                                      unsigned seed, size_t skip)
{
    uint64_t rs = ((uint64_t)seed << 1) | 1;
    if (size <= skip + 4 || blobmut_rand(&rs) % 2 == 0)
        return LLVMFuzzerMutate(data, size, max);
    size_t span = size - skip;
    size_t at = skip + (size_t)(blobmut_rand(&rs) % span);
    size_t out = 0;
    uint8_t rep[8];
    switch (blobmut_rand(&rs) % 5) {
    case 0:
    case 1: { /* a varint becomes another, maybe of another length */
        uint64_t old;
        size_t n = blobmut_var_at(data + at, size - at, &old);
        if (n == 0)
            break;
        size_t k = hollow__vint_encode(rep, blobmut_value(&rs, old));
        out = blobmut_splice(data, size, max, at, n, rep, k);
        break;
    }
    case 2: { /* a big-endian i32 (bit set lengths) */
        if (size - at < 4)
            break;
        uint32_t old = (uint32_t)data[at] << 24 | (uint32_t)data[at + 1] << 16 |
                       (uint32_t)data[at + 2] << 8 | data[at + 3];
        uint32_t v = blobmut_value(&rs, old);
        for (int i = 0; i < 4; i++)
            data[at + (size_t)i] = (uint8_t)(v >> (24 - 8 * i));
        out = size;
        break;
    }
    case 3: { /* a big-endian i16 (tag and field counts) */
        if (size - at < 2)
            break;
        uint32_t v = blobmut_value(&rs, (uint32_t)data[at] << 8 | data[at + 1]);
        data[at] = (uint8_t)(v >> 8);
        data[at + 1] = (uint8_t)v;
        out = size;
        break;
    }
    default: { /* repeat a chunk: more shards, sections or tags */
        size_t len = 1 + (size_t)(blobmut_rand(&rs) % 64);
        if (len > size - at)
            len = size - at;
        size_t times = 1 + (size_t)(blobmut_rand(&rs) % 64);
        for (size_t t = 0; t < times && size + len <= max; t++) {
            memmove(data + at + len, data + at, size - at);
            size += len;
        }
        out = size;
        break;
    }
    }
    return out ? out : LLVMFuzzerMutate(data, size, max);
}

#endif
#endif
