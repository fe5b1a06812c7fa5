/*
 * movies_gen.h - the benchmark dataset generator (bench-dataset.md).
 *
 * The Movies dataset of bench-dataset.md, generated exactly: a SplitMix64
 * stream, fixed pools, version 1 (actors, then movies) and version 2 (the
 * "1%" change, drawn from the same stream after version 1), the lookup keys
 * of the pk-index phase, and the JSON line of a movie. Plain C structs and
 * no dependency on the library, so that hollow-bench, the tests and the
 * `make run` programs share one generator.
 *
 * Ownership: a movies_data owns everything it points to; free it with
 * movies_data_free(). Threads: a movies_data is read-only once generated.
 */
#ifndef HOLLOW_BENCH_MOVIES_GEN_H
#define HOLLOW_BENCH_MOVIES_GEN_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ rng */

/** SplitMix64 over unsigned 64-bit arithmetic (wrap-around). */
typedef struct movies_rng {
    uint64_t state;
} movies_rng;

void movies_rng_init(movies_rng *r, uint64_t seed);
uint64_t movies_rng_next(movies_rng *r);
/** next() mod m (unsigned remainder); m > 0. */
uint64_t movies_rng_below(movies_rng *r, uint64_t m);

/* ---------------------------------------------------------------- pools */

#define MOVIES_GENRE_COUNT 30
#define MOVIES_WORD_COUNT 64
#define MOVIES_SYLLABLE_COUNT 32
#define MOVIES_SOURCE_COUNT 8

extern const char *const movies_genres[MOVIES_GENRE_COUNT];
extern const char *const movies_words[MOVIES_WORD_COUNT];
extern const char *const movies_syllables[MOVIES_SYLLABLE_COUNT];
extern const char *const movies_sources[MOVIES_SOURCE_COUNT];

/* -------------------------------------------------------------- records */

#define MOVIES_MAX_NAME 8     /* 4 syllables of 2 letters */
#define MOVIES_MAX_TITLE 48   /* 4 words of <= 8 letters, 3 spaces, remaster suffix */
#define MOVIES_MAX_GENRES 3
#define MOVIES_MAX_ACTORS 8
#define MOVIES_MAX_RATINGS 3
#define MOVIES_REMASTERED " (Remastered)"
#define MOVIES_ID_BASE 1000000000000LL
#define MOVIES_ID_STEP 17

/** Actor{id, name}; the actor's index in the pool is its id. */
typedef struct movies_actor {
    int32_t id;
    uint8_t name_len;
    char name[MOVIES_MAX_NAME + 1]; /* NUL-terminated */
} movies_actor;

/**
 * A movie. Genres are indexes into movies_genres (a list: order and
 * duplicates kept); actors are actor indexes, distinct, in first-draw
 * order; ratings are distinct indexes into movies_sources in map insertion
 * order, each with its value in tenths (the value is tenths / 10.0, the
 * generator's below(101) / 10.0; see movies_rating_value()).
 */
typedef struct movies_movie {
    int64_t id;
    int32_t actors[MOVIES_MAX_ACTORS];
    int32_t year;
    uint8_t title_len;
    uint8_t genre_count;
    uint8_t actor_count;
    uint8_t rating_count;
    uint8_t genres[MOVIES_MAX_GENRES];
    uint8_t rating_sources[MOVIES_MAX_RATINGS];
    uint8_t rating_tenths[MOVIES_MAX_RATINGS];
    char title[MOVIES_MAX_TITLE + 1]; /* NUL-terminated */
} movies_movie;

/** The value of rating `j` of `m`: exactly the generator's below(101) / 10.0. */
static inline double movies_rating_value(const movies_movie *m, unsigned j)
{
    return (double)m->rating_tenths[j] / 10.0;
}

/** Draw actor `a` (its id is `a`). */
void movies_gen_actor(movies_rng *r, int32_t a, movies_actor *out);

/** Draw movie(i) for a pool of `actor_count` actors. */
void movies_gen_movie(movies_rng *r, uint64_t i, uint32_t actor_count,
                      movies_movie *out);

/** The version-2 copy of a movie with i % 200 == 100: year + 1, title + " (Remastered)". */
void movies_remaster(movies_movie *out, const movies_movie *in);

/** A = max(1, floor(N/10)). */
uint32_t movies_actor_count(uint64_t n);

/** Number of version-2 movies: N - ceil(N/200) + floor(N/200). */
uint64_t movies_v2_count(uint64_t n);

/* ------------------------------------------------------------- datasets */

/**
 * Both versions of the dataset. v1[i] is movie(i). v2 lists the version-2
 * movies in order: pointers into v1 for the unchanged ones, into v2_own for
 * the remastered copies and the appended movies.
 */
typedef struct movies_data {
    uint64_t n;
    uint64_t seed;
    uint32_t actor_count;
    movies_actor *actors; /* actor_count */
    size_t v1_count;      /* n */
    movies_movie *v1;
    size_t v2_count;
    const movies_movie **v2;
    size_t v2_own_count;
    movies_movie *v2_own;
    movies_rng rng; /* the stream after version 2 */
} movies_data;

/**
 * Generate version 1 and version 2 for `n` movies from `seed`.
 * @return 0; -1 if out of memory (d is then empty).
 */
int movies_data_generate(movies_data *d, uint64_t n, uint64_t seed);

/** Free what movies_data_generate() allocated; an empty struct is fine. */
void movies_data_free(movies_data *d);

/**
 * The next version by the version-2 rule, over any version (the sample
 * store of hollow-cli continues past version 2 with it): walk `cur` in
 * order; drop position i when i % 200 == 0; when i % 200 == 100 remaster it
 * (a title that would not fit keeps its title and only gets year + 1);
 * keep the others; then append movie(*next + k) for k < floor(n/200),
 * drawn from `r`, advancing *next. `out` has room for count + n/200
 * movies. Applied to version 1 with *next = n it gives version 2.
 * @return the number of movies in `out`.
 */
size_t movies_next_version(movies_movie *out, const movies_movie *cur,
                           size_t count, uint64_t n, uint32_t actor_count,
                           movies_rng *r, uint64_t *next);

/* ----------------------------------------------------------------- json */

/** Formats a double in the canonical float format (hollow_format_double). */
typedef size_t (*movies_format_double_fn)(char *buf, size_t cap, double v);

/** Enough for any movie's JSON line. */
#define MOVIES_JSON_MAX 1024

/**
 * Write the JSON line of `m` (bench-dataset.md), without the newline, into
 * `buf` (MOVIES_JSON_MAX bytes suffice), NUL-terminated.
 * @return the length, or 0 if `cap` is too small.
 */
size_t movies_json_line(char *buf, size_t cap, const movies_actor *actors,
                        const movies_movie *m, movies_format_double_fn fmt);

/* -------------------------------------------------------------- lookups */

/** The lookup key stream: lr = SplitMix64(seed XOR 0x5DEECE66D). */
void movies_lookup_init(movies_rng *lr, uint64_t seed);

/** The next key: 1000000000000 + 17 * lr.below(N + floor(N/200)). */
int64_t movies_lookup_next(movies_rng *lr, uint64_t n);

/** True if version 2 of an `n`-movie dataset holds a movie with this id. */
int movies_v2_has_id(uint64_t n, int64_t id);

#endif
