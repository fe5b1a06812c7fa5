/*
 * bench_index.h - the primary-key index phases of hollow-bench movies
 * (bench-dataset.md): pk_index_build_s, pk_index_bytes, lookups,
 * lookup_hits, lookup_ns_per_op, over the version-2 state.
 */
#ifndef HOLLOW_BENCH_INDEX_H
#define HOLLOW_BENCH_INDEX_H

#include <stdint.h>

#include "hollow/read.h"

/** What the index phases measured. */
typedef struct bench_index_result {
    double pk_index_build_s;   /**< building the index on Movie.id */
    double pk_index_build_cpu_s; /**< the same, CPU seconds */
    long pk_index_bytes;       /**< bytes the index holds (allocator hooks) */
    uint64_t lookups;          /**< L, the timed lookups */
    uint64_t lookup_hits;      /**< timed lookups that found a record */
    double lookup_ns_per_op;   /**< timed lookups: ns per lookup */
    double lookup_cpu_ns_per_op; /**< the same, CPU ns */
} bench_index_result;

/**
 * Build the primary key index of Movie (its @PrimaryKey, `id`) on `v2`,
 * then look up the dataset's key stream: keys lr = SplitMix64(seed XOR
 * 0x5DEECE66D), key_j = 1000000000000 + 17 * lr.below(N + floor(N/200)),
 * j < L; keys 0 .. min(L, 200000) - 1 first, untimed (warm-up), then all L
 * keys timed. Every hit is checked to be the record with that id, and the
 * hit count against the generator (movies_v2_has_id).
 *
 * @param v2       the version-2 read state (borrowed)
 * @param n        N, the dataset size
 * @param seed     the dataset seed
 * @param lookups  L
 * @param out      receives the figures
 * @return 0; -1 with a message on stderr if the index fails to build or a
 *         lookup answers wrongly.
 */
int bench_index_phases(const hollow_read_state *v2, uint64_t n, uint64_t seed,
                       uint64_t lookups, bench_index_result *out);

#endif
