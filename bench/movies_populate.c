/*
 * Populating a write state with the Movies dataset of bench-dataset.md:
 * all actors, then per movie its genre strings, the list, the actor set,
 * each rating's key string and double, the map, then the movie - the
 * order the Java benchmark adds them in, per type (the large types are
 * added in batches of a block of movies: the same ordinals, fewer waits
 * on memory). Shared by hollow-bench and the
 * producer/consumer example.
 */
#include "movies_populate.h"

#include <stdlib.h>
#include <string.h>

/* the data model block of bench-dataset.md, verbatim */
const char movies_schema_text[] =
    "Movie @PrimaryKey(id) { long id; string title; int year; ListOfString "
    "genres; SetOfActor actors; MapOfStringToDouble ratings; }\n"
    "Actor @PrimaryKey(id) { int id; string name; }\n"
    "String { string value; }\n"
    "Double { double value; }\n"
    "ListOfString List<String>;\n"
    "SetOfActor Set<Actor> @HashKey(id);\n"
    "MapOfStringToDouble Map<String,Double> @HashKey(value);\n";


/* the schema is ours (movies_schema_text): every field exists */
static size_t field_index(const hollow_record *r, const char *name)
{
    return (size_t)hollow_schema_field_index(hollow_record_schema(r), name);
}

/* stop at the first failure, passing its code up */
#define CHECK(expr)                                                            \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ < 0)                                                           \
            return rc_;                                                        \
    } while (0)

int movies_writer_init(movies_writer *w, hollow_write_state *ws,
                       uint32_t actor_count)
{
    memset(w, 0, sizeof *w);
    w->ws = ws;
    CHECK(hollow_record_new(&w->string, ws, "String"));
    CHECK(hollow_record_new(&w->dbl, ws, "Double"));
    for (unsigned i = 0; i < MOVIES_BLOCK; i++) {
        CHECK(hollow_record_new(&w->movie[i], ws, "Movie"));
        CHECK(hollow_record_new(&w->actor[i], ws, "Actor"));
        CHECK(hollow_record_new(&w->list[i], ws, "ListOfString"));
        CHECK(hollow_record_new(&w->set[i], ws, "SetOfActor"));
        CHECK(hollow_record_new(&w->map[i], ws, "MapOfStringToDouble"));
    }
    w->movie_id = field_index(w->movie[0], "id");
    w->movie_title = field_index(w->movie[0], "title");
    w->movie_year = field_index(w->movie[0], "year");
    w->movie_genres = field_index(w->movie[0], "genres");
    w->movie_actors = field_index(w->movie[0], "actors");
    w->movie_ratings = field_index(w->movie[0], "ratings");
    w->actor_id = field_index(w->actor[0], "id");
    w->actor_name = field_index(w->actor[0], "name");
    w->string_value = field_index(w->string, "value");
    w->double_value = field_index(w->dbl, "value");
    w->actor_ords = malloc((actor_count ? actor_count : 1) * sizeof *w->actor_ords);
    return w->actor_ords != NULL ? 0 : HOLLOW_ENOMEM;
}

void movies_writer_free(movies_writer *w)
{
    hollow_record_free(w->string);
    hollow_record_free(w->dbl);
    for (unsigned i = 0; i < MOVIES_BLOCK; i++) {
        hollow_record_free(w->movie[i]);
        hollow_record_free(w->actor[i]);
        hollow_record_free(w->list[i]);
        hollow_record_free(w->set[i]);
        hollow_record_free(w->map[i]);
    }
    free(w->actor_ords);
}

static int add_string(hollow_ordinal *o, movies_writer *w, const char *s)
{
    hollow_record_reset(w->string);
    CHECK(hollow_record_set_string(w->string, w->string_value, s, strlen(s)));
    CHECK(hollow_write_state_add(o, w->ws, w->string));
    return 0;
}

/*
 * A block of movies, type by type: the strings and doubles each movie
 * references (few distinct values, added one at a time), then the lists,
 * the sets, the maps and the movies, each type as one batch. A type's
 * ordinals depend only on the order of its own adds, which is the order
 * the Java benchmark adds them in: per movie its genre strings, the list,
 * the actor set, each rating's key string and double, the map, the movie.
 */
static int add_movies(movies_writer *w, const movies_movie *const *ms,
                      unsigned count)
{
    hollow_ordinal genres[MOVIES_BLOCK], actors[MOVIES_BLOCK],
        ratings[MOVIES_BLOCK], out[MOVIES_BLOCK];
    for (unsigned i = 0; i < count; i++) {
        const movies_movie *m = ms[i];
        hollow_ordinal o;
        hollow_record_reset(w->list[i]);
        for (unsigned k = 0; k < m->genre_count; k++) {
            CHECK(add_string(&o, w, movies_genres[m->genres[k]]));
            CHECK(hollow_record_add_element(w->list[i], o));
        }
        /* the actor set (actors were added first) */
        hollow_record_reset(w->set[i]);
        for (unsigned k = 0; k < m->actor_count; k++)
            CHECK(hollow_record_add_element(w->set[i],
                                            w->actor_ords[m->actors[k]]));
        hollow_record_reset(w->map[i]);
        for (unsigned k = 0; k < m->rating_count; k++) {
            hollow_ordinal key, val;
            CHECK(add_string(&key, w, movies_sources[m->rating_sources[k]]));
            hollow_record_reset(w->dbl);
            CHECK(hollow_record_set_double(w->dbl, w->double_value,
                                           movies_rating_value(m, k)));
            CHECK(hollow_write_state_add(&val, w->ws, w->dbl));
            CHECK(hollow_record_put_entry(w->map[i], key, val));
        }
    }
    CHECK(hollow_write_state_add_batch(genres, w->ws, w->list, count));
    CHECK(hollow_write_state_add_batch(actors, w->ws, w->set, count));
    CHECK(hollow_write_state_add_batch(ratings, w->ws, w->map, count));
    for (unsigned i = 0; i < count; i++) {
        const movies_movie *m = ms[i];
        hollow_record *r = w->movie[i];
        hollow_record_reset(r);
        CHECK(hollow_record_set_long(r, w->movie_id, m->id));
        CHECK(hollow_record_set_string(r, w->movie_title, m->title,
                                       m->title_len));
        CHECK(hollow_record_set_int(r, w->movie_year, m->year));
        CHECK(hollow_record_set_ref(r, w->movie_genres, genres[i]));
        CHECK(hollow_record_set_ref(r, w->movie_actors, actors[i]));
        CHECK(hollow_record_set_ref(r, w->movie_ratings, ratings[i]));
    }
    CHECK(hollow_write_state_add_batch(out, w->ws, w->movie, count));
    return 0;
}

/* Every record of one version: all actors, then each movie with what it
 * references, in the order bench-dataset.md gives. */
static int add_actors(movies_writer *w, const movies_data *d)
{
    for (uint32_t a = 0; a < d->actor_count; a += MOVIES_BLOCK) {
        uint32_t n = d->actor_count - a < MOVIES_BLOCK ? d->actor_count - a
                                                       : MOVIES_BLOCK;
        for (uint32_t i = 0; i < n; i++) {
            const movies_actor *ac = &d->actors[a + i];
            hollow_record *r = w->actor[i];
            hollow_record_reset(r);
            CHECK(hollow_record_set_int(r, w->actor_id, ac->id));
            CHECK(hollow_record_set_string(r, w->actor_name, ac->name,
                                           ac->name_len));
        }
        CHECK(hollow_write_state_add_batch(&w->actor_ords[a], w->ws, w->actor,
                                           n));
    }
    return 0;
}

int movies_populate(movies_writer *w, const movies_data *d, int version)
{
    CHECK(add_actors(w, d));
    size_t count = version == 1 ? d->v1_count : d->v2_count;
    const movies_movie *block[MOVIES_BLOCK];
    for (size_t i = 0; i < count; i += MOVIES_BLOCK) {
        unsigned n = count - i < MOVIES_BLOCK ? (unsigned)(count - i)
                                              : MOVIES_BLOCK;
        for (unsigned k = 0; k < n; k++)
            block[k] = version == 1 ? &d->v1[i + k] : d->v2[i + k];
        CHECK(add_movies(w, block, n));
    }
    return 0;
}

int movies_populate_movies(movies_writer *w, const movies_data *d,
                           const movies_movie *movies, size_t count)
{
    CHECK(add_actors(w, d));
    const movies_movie *block[MOVIES_BLOCK];
    for (size_t i = 0; i < count; i += MOVIES_BLOCK) {
        unsigned n = count - i < MOVIES_BLOCK ? (unsigned)(count - i)
                                              : MOVIES_BLOCK;
        for (unsigned k = 0; k < n; k++)
            block[k] = &movies[i + k];
        CHECK(add_movies(w, block, n));
    }
    return 0;
}
