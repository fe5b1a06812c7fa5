/*
 * Populating a write state with the Movies dataset (bench-dataset.md); see
 * movies_populate.c.
 */
#ifndef HOLLOW_BENCH_MOVIES_POPULATE_H
#define HOLLOW_BENCH_MOVIES_POPULATE_H

#include "hollow/write.h"
#include "movies_gen.h"

/* the data model block of bench-dataset.md, as schema text */
extern const char movies_schema_text[];

/* movies (and actors) added a block at a time, type by type */
#define MOVIES_BLOCK 64

struct movies_pipe;

/* Reusable records and the field indexes, resolved once: one record per
 * type for the small ones, a block of records for each large type. */
typedef struct movies_writer {
    hollow_write_state *ws;
    hollow_record *string, *dbl;
    hollow_record *movie[MOVIES_BLOCK], *actor[MOVIES_BLOCK],
        *list[MOVIES_BLOCK], *set[MOVIES_BLOCK], *map[MOVIES_BLOCK];
    size_t movie_id, movie_title, movie_year, movie_genres, movie_actors,
        movie_ratings;
    size_t actor_id, actor_name, string_value, double_value;
    hollow_ordinal *actor_ords; /* by actor index */
    /* Threads of a populate: 1 (what init sets) is the sequential
     * populate; 0 means every online core. Above 1 the types are
     * pipelined over up to 4 threads (movies_populate.c); every type gets
     * the ordinals the sequential populate gives it. */
    unsigned threads;
    struct movies_pipe *pipe; /* the pipeline's rings, made on first use */
    char error[256];          /* the message of a failed populate */
} movies_writer;

/* the cores this process may run on (taskset counts): what the library
 * takes for threads = 0 */
unsigned movies_cores(void);

/* 0 or a negative hollow error code */
int movies_writer_init(movies_writer *w, hollow_write_state *ws,
                       uint32_t actor_count);
void movies_writer_free(movies_writer *w);
/* Every record of version 1 or 2; 0 or the first error (its message in
 * w->error too, whichever thread it happened on). */
int movies_populate(movies_writer *w, const movies_data *d, int version);
/* every actor of `d`, then the `count` movies of `movies` (any version) */
int movies_populate_movies(movies_writer *w, const movies_data *d,
                           const movies_movie *movies, size_t count);

#endif
