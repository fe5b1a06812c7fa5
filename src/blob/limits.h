/*
 * Hard limits and cost bounds of the blob readers (docs/limits.md).
 *
 * A hostile blob must cost memory and time in proportion to its size
 * (SQLite's hard limits are the model): a snapshot at most a small constant
 * times its bytes, a delta at most a small constant times (the origin
 * state's memory + the delta's bytes). Each limit gives a clean error whose
 * message names it. None rejects a blob Java Hollow can write.
 */
#ifndef HOLLOW_SRC_BLOB_LIMITS_H
#define HOLLOW_SRC_BLOB_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* Ordinals are Java ints; INT32_MAX stays free as "max + 1" must fit. */
#define HOLLOW__LIMIT_MAX_ORDINAL (INT32_MAX - 1)

/* Shards per type (a power of two). Java sizes shards by a target byte
 * size (16 MiB by default): 2^20 of them is 16 TiB for one type. */
#define HOLLOW__LIMIT_SHARDS (1u << 20)

/* Types per blob. The 200 k type benchmark is far inside. */
#define HOLLOW__LIMIT_TYPES (1u << 22)

/* Header tags: the count is a Java short (§3.1), so 32767 at most. */
#define HOLLOW__LIMIT_TAGS INT16_MAX

/* The fewest bytes a type section can take: schema (kind, name length,
 * field count: 3+), shard envelope (1+), one shard (2+), and for a
 * snapshot the populated bit set length (4), for a delta the two gap list
 * lengths (2). Counts of sections are checked against this. */
#define HOLLOW__MIN_SECTION_BYTES 8

/* Fewest bytes of a shard section (max shard ordinal + the smallest body). */
#define HOLLOW__MIN_SHARD_BYTES 2

/*
 * Shards with slots per snapshot: LIMIT + one per BYTES of blob. Each costs
 * a struct and per-field arrays (~200 bytes) but may take as little as 2
 * bytes (an OBJECT type without fields). Java's shards with slots take 12
 * bytes or more (a width, a word of data, the counts), and Java shards only
 * types of 16 MiB and more unless told otherwise (§10.8).
 */
#define HOLLOW__LIMIT_SLOT_SHARDS 4096u
#define HOLLOW__BYTES_PER_SLOT_SHARD 8u

/*
 * Snapshot: what a load may allocate, at most GROWTH * blob bytes + SLACK.
 * Not checked as a budget: it follows from the rules above (counts checked
 * against the bytes left, empty shards and empty types shared, shards with
 * slots counted); the tests of tests/unit/test_hostile.c hold the reader
 * to it.
 */
#define HOLLOW__SNAPSHOT_GROWTH 64u
#define HOLLOW__SNAPSHOT_SLACK ((size_t)2 << 20)

/*
 * Delta: the bytes the rebuilt shards may allocate, and the slot fields
 * (slots x (fields + 1)) they may visit, each at most
 * GROWTH * (origin state size + delta bytes) + SLACK. 64 covers a field
 * widened from 1 to 64 bits, which re-encodes every record of its type;
 * the slack covers a small state whose next ordinals leap past its max
 * ordinal (Java's reuse delay, blob-format.md §10.4).
 */
#define HOLLOW__DELTA_GROWTH 64u
#define HOLLOW__DELTA_SLACK ((size_t)8 << 20)

#endif
