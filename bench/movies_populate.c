/*
 * Populating a write state with the Movies dataset of bench-dataset.md:
 * all actors, then per movie its genre strings, the list, the actor set,
 * each rating's key string and double, the map, then the movie - the
 * order the Java benchmark adds them in. Shared by hollow-bench and the
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
    CHECK(hollow_record_new(&w->movie, ws, "Movie"));
    CHECK(hollow_record_new(&w->actor, ws, "Actor"));
    CHECK(hollow_record_new(&w->string, ws, "String"));
    CHECK(hollow_record_new(&w->dbl, ws, "Double"));
    CHECK(hollow_record_new(&w->list, ws, "ListOfString"));
    CHECK(hollow_record_new(&w->set, ws, "SetOfActor"));
    CHECK(hollow_record_new(&w->map, ws, "MapOfStringToDouble"));
    w->movie_id = field_index(w->movie, "id");
    w->movie_title = field_index(w->movie, "title");
    w->movie_year = field_index(w->movie, "year");
    w->movie_genres = field_index(w->movie, "genres");
    w->movie_actors = field_index(w->movie, "actors");
    w->movie_ratings = field_index(w->movie, "ratings");
    w->actor_id = field_index(w->actor, "id");
    w->actor_name = field_index(w->actor, "name");
    w->string_value = field_index(w->string, "value");
    w->double_value = field_index(w->dbl, "value");
    w->actor_ords = malloc((actor_count ? actor_count : 1) * sizeof *w->actor_ords);
    return w->actor_ords != NULL ? 0 : HOLLOW_ENOMEM;
}

void movies_writer_free(movies_writer *w)
{
    hollow_record_free(w->movie);
    hollow_record_free(w->actor);
    hollow_record_free(w->string);
    hollow_record_free(w->dbl);
    hollow_record_free(w->list);
    hollow_record_free(w->set);
    hollow_record_free(w->map);
    free(w->actor_ords);
}

static int add_string(hollow_ordinal *o, movies_writer *w, const char *s)
{
    hollow_record_reset(w->string);
    CHECK(hollow_record_set_string(w->string, w->string_value, s, strlen(s)));
    CHECK(hollow_write_state_add(o, w->ws, w->string));
    return 0;
}

static int add_movie(movies_writer *w, const movies_movie *m)
{
    hollow_ordinal o, genres, actors, ratings;

    /* genre strings, then the list */
    hollow_ordinal g[MOVIES_MAX_GENRES];
    for (unsigned k = 0; k < m->genre_count; k++)
        CHECK(add_string(&g[k], w, movies_genres[m->genres[k]]));
    hollow_record_reset(w->list);
    for (unsigned k = 0; k < m->genre_count; k++)
        CHECK(hollow_record_add_element(w->list, g[k]));
    CHECK(hollow_write_state_add(&genres, w->ws, w->list));

    /* the actor set (actors were added first) */
    hollow_record_reset(w->set);
    for (unsigned k = 0; k < m->actor_count; k++)
        CHECK(hollow_record_add_element(w->set, w->actor_ords[m->actors[k]]));
    CHECK(hollow_write_state_add(&actors, w->ws, w->set));

    /* each rating's key string and double, then the map */
    hollow_ordinal keys[MOVIES_MAX_RATINGS], vals[MOVIES_MAX_RATINGS];
    for (unsigned k = 0; k < m->rating_count; k++) {
        CHECK(add_string(&keys[k], w, movies_sources[m->rating_sources[k]]));
        hollow_record_reset(w->dbl);
        CHECK(hollow_record_set_double(w->dbl, w->double_value,
                                       movies_rating_value(m, k)));
        CHECK(hollow_write_state_add(&vals[k], w->ws, w->dbl));
    }
    hollow_record_reset(w->map);
    for (unsigned k = 0; k < m->rating_count; k++)
        CHECK(hollow_record_put_entry(w->map, keys[k], vals[k]));
    CHECK(hollow_write_state_add(&ratings, w->ws, w->map));

    /* the movie */
    hollow_record_reset(w->movie);
    CHECK(hollow_record_set_long(w->movie, w->movie_id, m->id));
    CHECK(hollow_record_set_string(w->movie, w->movie_title, m->title,
                                   m->title_len));
    CHECK(hollow_record_set_int(w->movie, w->movie_year, m->year));
    CHECK(hollow_record_set_ref(w->movie, w->movie_genres, genres));
    CHECK(hollow_record_set_ref(w->movie, w->movie_actors, actors));
    CHECK(hollow_record_set_ref(w->movie, w->movie_ratings, ratings));
    CHECK(hollow_write_state_add(&o, w->ws, w->movie));
    return 0;
}

/* Every record of one version: all actors, then each movie with what it
 * references, in the order bench-dataset.md gives. */
static int add_actors(movies_writer *w, const movies_data *d)
{
    for (uint32_t a = 0; a < d->actor_count; a++) {
        const movies_actor *ac = &d->actors[a];
        hollow_record_reset(w->actor);
        CHECK(hollow_record_set_int(w->actor, w->actor_id, ac->id));
        CHECK(hollow_record_set_string(w->actor, w->actor_name, ac->name,
                                       ac->name_len));
        CHECK(hollow_write_state_add(&w->actor_ords[a], w->ws, w->actor));
    }
    return 0;
}

int movies_populate(movies_writer *w, const movies_data *d, int version)
{
    CHECK(add_actors(w, d));
    size_t count = version == 1 ? d->v1_count : d->v2_count;
    for (size_t i = 0; i < count; i++)
        CHECK(add_movie(w, version == 1 ? &d->v1[i] : d->v2[i]));
    return 0;
}

int movies_populate_movies(movies_writer *w, const movies_data *d,
                           const movies_movie *movies, size_t count)
{
    CHECK(add_actors(w, d));
    for (size_t i = 0; i < count; i++)
        CHECK(add_movie(w, &movies[i]));
    return 0;
}
