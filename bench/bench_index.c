/*
 * The primary-key index phases of hollow-bench movies (bench-dataset.md):
 *
 *   pk_index_build_s   hollow_index_primary_key_new() on Movie (@PrimaryKey
 *                      id) of the version-2 state, timed (and
 *                      pk_index_build_cpu_s, its CPU seconds)
 *   pk_index_bytes     bench_live_bytes() after the build minus before: what
 *                      the index holds through the allocator hooks
 *   lookups, lookup_hits, lookup_ns_per_op
 *                      the dataset's key stream (movies_lookup_init /
 *                      movies_lookup_next), drawn into an array before the
 *                      clock starts so that only lookups are timed; keys
 *                      0 .. min(L, 200000) - 1 once untimed (warm-up), then
 *                      all L keys timed (lookup_cpu_ns_per_op: CPU time)
 *
 * Each lookup is a hollow_index_find() with one LONG value, as a user
 * would call it. After the timed loop, the answers are checked: the hit
 * count against the generator (movies_v2_has_id) and every hit's id read
 * back from the record.
 */
#define _POSIX_C_SOURCE 200809L
#include "bench_index.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"
#include "hollow/index.h"
#include "movies_gen.h"

#define WARMUP_MAX 200000

/* CPU seconds of the process (every thread) */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* keeps the warm-up lookups' results alive */
static volatile uint64_t bench_index_sink;

int bench_index_phases(const hollow_read_state *v2, uint64_t n, uint64_t seed,
                       uint64_t lookups, bench_index_result *out)
{
    out->pk_index_build_s = 0;
    out->pk_index_build_cpu_s = 0;
    out->lookup_cpu_ns_per_op = 0;
    out->pk_index_bytes = 0;
    out->lookups = lookups;
    out->lookup_hits = 0;
    out->lookup_ns_per_op = 0;

    /* pk_index_build_s, pk_index_bytes */
    hollow_index *ix = NULL;
    long base = bench_live_bytes();
    double t0 = bench_now(), c0 = cpu_now();
    int rc = hollow_index_primary_key_new(&ix, v2, "Movie", NULL, 0);
    out->pk_index_build_s = bench_now() - t0;
    out->pk_index_build_cpu_s = cpu_now() - c0;
    out->pk_index_bytes = bench_live_bytes() - base;
    if (rc < 0) {
        fprintf(stderr, "hollow-bench movies: primary key index: %s\n",
                hollow_error_last()->message);
        return -1;
    }
    if (hollow_index_duplicate_count(ix) != 0)
        fprintf(stderr, "movies: index reports %zu duplicated ids\n",
                hollow_index_duplicate_count(ix));

    /* the keys, drawn before timing */
    int64_t *keys = malloc((lookups ? lookups : 1) * sizeof *keys);
    hollow_ordinal *found = malloc((lookups ? lookups : 1) * sizeof *found);
    if (keys == NULL || found == NULL) {
        fprintf(stderr, "hollow-bench movies: out of memory for %" PRIu64
                " lookup keys\n", lookups);
        free(keys);
        free(found);
        hollow_index_release(ix);
        return -1;
    }
    movies_rng lr;
    movies_lookup_init(&lr, seed);
    for (uint64_t j = 0; j < lookups; j++)
        keys[j] = movies_lookup_next(&lr, n);

    /* warm-up, untimed */
    uint64_t warm = lookups < WARMUP_MAX ? lookups : WARMUP_MAX;
    uint64_t sink = 0;
    for (uint64_t j = 0; j < warm; j++) {
        hollow_value k = hollow_key_long(keys[j]);
        sink += (uint64_t)hollow_index_find(ix, &k, 1);
    }

    /* timed */
    uint64_t hits = 0;
    t0 = bench_now();
    c0 = cpu_now();
    for (uint64_t j = 0; j < lookups; j++) {
        hollow_value k = hollow_key_long(keys[j]);
        int o = hollow_index_find(ix, &k, 1);
        found[j] = o;
        hits += o >= 0;
    }
    double dt = bench_now() - t0, dc = cpu_now() - c0;
    out->lookup_hits = hits;
    out->lookup_ns_per_op = lookups ? dt * 1e9 / (double)lookups : 0;
    out->lookup_cpu_ns_per_op = lookups ? dc * 1e9 / (double)lookups : 0;

    /* check the answers (untimed) */
    const hollow_type *movie = hollow_read_state_type(v2, "Movie");
    int id_field = hollow_schema_field_index(hollow_type_schema(movie), "id");
    uint64_t want_hits = 0;
    int bad = 0;
    for (uint64_t j = 0; j < lookups && bad < 5; j++) {
        int has = movies_v2_has_id(n, keys[j]);
        want_hits += has != 0;
        int64_t id = 0;
        if (found[j] >= 0 &&
            (hollow_object_long(&id, movie, found[j], (size_t)id_field) != 0 ||
             id != keys[j])) {
            fprintf(stderr, "hollow-bench movies: id %" PRId64 " found "
                    "ordinal %d holding id %" PRId64 "\n", keys[j],
                    (int)found[j], id);
            bad++;
        } else if ((found[j] >= 0) != (has != 0)) {
            fprintf(stderr, "hollow-bench movies: id %" PRId64 " %s\n",
                    keys[j], has ? "not found" : "found, yet not in v2");
            bad++;
        }
    }
    bench_index_sink = sink;
    free(keys);
    free(found);
    hollow_index_release(ix);
    if (bad > 0 || (lookups > 0 && want_hits != hits && bad == 0)) {
        if (bad == 0)
            fprintf(stderr, "hollow-bench movies: %" PRIu64 " hits, the "
                    "generator says %" PRIu64 "\n", hits, want_hits);
        return -1;
    }
    return 0;
}
