/*
 * Populating a write state with the Movies dataset of bench-dataset.md:
 * all actors, then per movie its genre strings, the list, the actor set,
 * each rating's key string and double, the map, then the movie - the
 * order the Java benchmark adds them in, per type (the large types are
 * added in batches of a block of movies: the same ordinals, fewer waits
 * on memory). Shared by hollow-bench and the
 * producer/consumer example.
 *
 * With w->threads above 1 the types are pipelined over threads (see
 * "pipeline" below): each type is still added from one thread, in the
 * sequential order, so the ordinals and the blobs are the same.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "movies_populate.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    w->threads = 1;
    w->actor_ords = malloc((actor_count ? actor_count : 1) * sizeof *w->actor_ords);
    return w->actor_ords != NULL ? 0 : HOLLOW_ENOMEM;
}

static void pipe_free(struct movies_pipe *p);

void movies_writer_free(movies_writer *w)
{
    pipe_free(w->pipe);
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

/* the movies of one populate: an array, or pointers (version 2) */
typedef struct movies_src {
    const movies_movie *arr;
    const movies_movie *const *ptrs;
    size_t count;
} movies_src;

/* block k of `src` into ms[]; returns its length */
static unsigned block_of(const movies_src *src, size_t k,
                         const movies_movie **ms)
{
    size_t i = k * MOVIES_BLOCK;
    unsigned n = src->count - i < MOVIES_BLOCK ? (unsigned)(src->count - i)
                                               : MOVIES_BLOCK;
    for (unsigned j = 0; j < n; j++)
        ms[j] = src->arr != NULL ? &src->arr[i + j] : src->ptrs[i + j];
    return n;
}

/*
 * The list and map records of a block of movies, adding their strings
 * and doubles one at a time: per movie its genre strings, then each
 * rating's key string and double (String's order in the Java benchmark).
 */
static int build_lists_maps(movies_writer *w, const movies_movie *const *ms,
                            unsigned count, hollow_record **list,
                            hollow_record **map)
{
    for (unsigned i = 0; i < count; i++) {
        const movies_movie *m = ms[i];
        hollow_ordinal o;
        hollow_record_reset(list[i]);
        for (unsigned k = 0; k < m->genre_count; k++) {
            CHECK(add_string(&o, w, movies_genres[m->genres[k]]));
            CHECK(hollow_record_add_element(list[i], o));
        }
        hollow_record_reset(map[i]);
        for (unsigned k = 0; k < m->rating_count; k++) {
            hollow_ordinal key, val;
            CHECK(add_string(&key, w, movies_sources[m->rating_sources[k]]));
            hollow_record_reset(w->dbl);
            CHECK(hollow_record_set_double(w->dbl, w->double_value,
                                           movies_rating_value(m, k)));
            CHECK(hollow_write_state_add(&val, w->ws, w->dbl));
            CHECK(hollow_record_put_entry(map[i], key, val));
        }
    }
    return 0;
}

/* the actor sets of a block (actors were added first) */
static int add_sets(movies_writer *w, const movies_movie *const *ms,
                    unsigned count, hollow_ordinal *out)
{
    for (unsigned i = 0; i < count; i++) {
        const movies_movie *m = ms[i];
        hollow_record_reset(w->set[i]);
        for (unsigned k = 0; k < m->actor_count; k++)
            CHECK(hollow_record_add_element(w->set[i],
                                            w->actor_ords[m->actors[k]]));
    }
    return hollow_write_state_add_batch(out, w->ws, w->set, count);
}

/* the movies of a block, given their lists, sets and maps */
static int add_movie_records(movies_writer *w, const movies_movie *const *ms,
                             unsigned count, const hollow_ordinal *genres,
                             const hollow_ordinal *actors,
                             const hollow_ordinal *ratings)
{
    hollow_ordinal out[MOVIES_BLOCK];
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
    return hollow_write_state_add_batch(out, w->ws, w->movie, count);
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
        ratings[MOVIES_BLOCK];
    CHECK(build_lists_maps(w, ms, count, w->list, w->map));
    CHECK(hollow_write_state_add_batch(genres, w->ws, w->list, count));
    CHECK(add_sets(w, ms, count, actors));
    CHECK(hollow_write_state_add_batch(ratings, w->ws, w->map, count));
    return add_movie_records(w, ms, count, genres, actors, ratings);
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

/* ------------------------------------------------------------ pipeline */

/*
 * Five stages per block of movies, each type added by exactly one stage:
 *   BUILD  strings and doubles; the block's list and map records
 *   LISTS  the block's lists (a batch)
 *   MAPS   the block's maps (a batch)
 *   SETS   the actors (once, first), then the block's actor sets
 *   MOVIES the block's movies
 * LISTS(k) and MAPS(k) need BUILD(k); MOVIES(k) needs LISTS(k), MAPS(k)
 * and SETS(k); SETS needs nothing from the others. A stage publishes how
 * many blocks it has done (done[s]); a stage that needs another's block
 * spins briefly on that count, then sleeps until it moves. Records pass
 * from BUILD on through a ring of REC_RING blocks, ordinals to MOVIES
 * through a ring of ORD_RING blocks, which bounds how far a stage runs
 * ahead. Stages are grouped onto threads (stage_group). A thread runs its
 * stages step by step: at step j, stage s on block j - lag[s], in stage
 * order, so a thread holding BUILD and MOVIES builds block j while the
 * others add the lists of j - 1. Every wait is for a (step, stage) that
 * comes earlier, so the pipeline cannot deadlock, whatever the grouping.
 */
enum { ST_BUILD, ST_LISTS, ST_MAPS, ST_SETS, ST_MOVIES, ST_COUNT };

#define MAX_GROUPS 4
#define REC_RING 16
#define ORD_RING 256
#define SPINS 4000

static const unsigned stage_lag[ST_COUNT] = {0, 1, 1, 1, 2};

typedef struct pipe_count {
    uint64_t v;
    char pad[64 - sizeof(uint64_t)];
} pipe_count;

typedef struct movies_pipe {
    hollow_record *list[REC_RING][MOVIES_BLOCK], *map[REC_RING][MOVIES_BLOCK];
    hollow_ordinal genres[ORD_RING][MOVIES_BLOCK],
        actors[ORD_RING][MOVIES_BLOCK], ratings[ORD_RING][MOVIES_BLOCK];
    pipe_count done[ST_COUNT];
    int error;        /* the first failure's code, 0 while none */
    int sleepers;     /* threads in pthread_cond_wait (or about to be) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* one populate's work */
    movies_writer *w;
    const movies_data *d;
    movies_src src;
    size_t blocks;
    unsigned groups;
} movies_pipe;

/* the thread of stage s when there are `groups` threads (2 to 4) */
static unsigned stage_group(unsigned groups, unsigned stage)
{
    static const unsigned char map[MAX_GROUPS - 1][ST_COUNT] = {
        {0, 0, 0, 1, 1}, /* 2: BUILD LISTS MAPS | SETS MOVIES */
        {0, 0, 0, 1, 2}, /* 3: BUILD LISTS MAPS | SETS | MOVIES */
        {0, 1, 1, 2, 3}, /* 4: BUILD | LISTS MAPS | SETS | MOVIES */
    };
    return map[groups - 2][stage];
}

static void pipe_free(movies_pipe *p)
{
    if (p == NULL)
        return;
    for (unsigned s = 0; s < REC_RING; s++)
        for (unsigned i = 0; i < MOVIES_BLOCK; i++) {
            hollow_record_free(p->list[s][i]);
            hollow_record_free(p->map[s][i]);
        }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

static int pipe_new(movies_pipe **out, hollow_write_state *ws)
{
    movies_pipe *p = calloc(1, sizeof *p);
    if (p == NULL)
        return HOLLOW_ENOMEM;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return HOLLOW_ENOMEM;
    }
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return HOLLOW_ENOMEM;
    }
    int rc = 0;
    for (unsigned s = 0; s < REC_RING && rc == 0; s++)
        for (unsigned i = 0; i < MOVIES_BLOCK && rc == 0; i++) {
            rc = hollow_record_new(&p->list[s][i], ws, "ListOfString");
            if (rc == 0)
                rc = hollow_record_new(&p->map[s][i], ws,
                                       "MapOfStringToDouble");
        }
    if (rc < 0) {
        pipe_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

static void pipe_wake(movies_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Stage s has done `blocks` blocks. Sequentially consistent with the
 * sleepers count, so a thread going to sleep sees the count or is woken. */
static void pipe_publish(movies_pipe *p, unsigned s, uint64_t blocks)
{
    __atomic_store_n(&p->done[s].v, blocks, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&p->sleepers, __ATOMIC_SEQ_CST) > 0)
        pipe_wake(p);
}

/* The first failure stops every stage; its message goes to w->error. */
static void pipe_fail(movies_pipe *p, int rc)
{
    int none = 0;
    if (__atomic_compare_exchange_n(&p->error, &none, rc, false,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        snprintf(p->w->error, sizeof p->w->error, "%s",
                 hollow_error_last()->message);
    pipe_wake(p);
}

/* Wait until stage s has done more than `block` blocks (true), or until
 * some stage failed (false). */
static bool pipe_wait(movies_pipe *p, unsigned s, int64_t block)
{
    if (block < 0)
        return true;
    uint64_t want = (uint64_t)block + 1;
    for (unsigned i = 0; i < SPINS; i++) {
        if (__atomic_load_n(&p->done[s].v, __ATOMIC_ACQUIRE) >= want)
            return true;
        if (__atomic_load_n(&p->error, __ATOMIC_RELAXED) != 0)
            return false;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    pthread_mutex_lock(&p->mu);
    __atomic_add_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&p->done[s].v, __ATOMIC_SEQ_CST) < want &&
           __atomic_load_n(&p->error, __ATOMIC_SEQ_CST) == 0)
        pthread_cond_wait(&p->cv, &p->mu);
    __atomic_sub_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&p->mu);
    return __atomic_load_n(&p->done[s].v, __ATOMIC_ACQUIRE) >= want;
}

/* Stage s on block k (its waits first); 0, or the failure's code (1 when
 * another stage failed first). */
static int pipe_stage(movies_pipe *p, unsigned s, size_t k)
{
    movies_writer *w = p->w;
    const movies_movie *ms[MOVIES_BLOCK];
    unsigned n = block_of(&p->src, k, ms);
    int64_t kk = (int64_t)k;
    unsigned rs = (unsigned)(k % REC_RING), os = (unsigned)(k % ORD_RING);
    int rc = 0;
    if (__atomic_load_n(&p->error, __ATOMIC_RELAXED) != 0)
        return 1;
    switch (s) {
    case ST_BUILD:
        if (!pipe_wait(p, ST_LISTS, kk - REC_RING) ||
            !pipe_wait(p, ST_MAPS, kk - REC_RING))
            return 1;
        rc = build_lists_maps(w, ms, n, p->list[rs], p->map[rs]);
        break;
    case ST_LISTS:
        if (!pipe_wait(p, ST_BUILD, kk) ||
            !pipe_wait(p, ST_MOVIES, kk - ORD_RING))
            return 1;
        rc = hollow_write_state_add_batch(p->genres[os], w->ws, p->list[rs], n);
        break;
    case ST_MAPS:
        if (!pipe_wait(p, ST_BUILD, kk) ||
            !pipe_wait(p, ST_MOVIES, kk - ORD_RING))
            return 1;
        rc = hollow_write_state_add_batch(p->ratings[os], w->ws, p->map[rs], n);
        break;
    case ST_SETS:
        if (!pipe_wait(p, ST_MOVIES, kk - ORD_RING))
            return 1;
        rc = add_sets(w, ms, n, p->actors[os]);
        break;
    default:
        if (!pipe_wait(p, ST_LISTS, kk) || !pipe_wait(p, ST_MAPS, kk) ||
            !pipe_wait(p, ST_SETS, kk))
            return 1;
        rc = add_movie_records(w, ms, n, p->genres[os], p->actors[os],
                               p->ratings[os]);
        break;
    }
    if (rc < 0) {
        pipe_fail(p, rc);
        return rc;
    }
    pipe_publish(p, s, (uint64_t)k + 1);
    return 0;
}

typedef struct pipe_thread {
    movies_pipe *p;
    unsigned group;
    pthread_t id;
} pipe_thread;

/* one thread's stages, step by step (see "pipeline") */
static void *pipe_run(void *arg)
{
    pipe_thread *t = arg;
    movies_pipe *p = t->p;
    if (stage_group(p->groups, ST_SETS) == t->group) {
        int rc = add_actors(p->w, p->d);
        if (rc < 0) {
            pipe_fail(p, rc);
            return NULL;
        }
    }
    size_t steps = p->blocks + stage_lag[ST_COUNT - 1];
    for (size_t j = 0; j < steps; j++)
        for (unsigned s = 0; s < ST_COUNT; s++) {
            if (stage_group(p->groups, s) != t->group || j < stage_lag[s] ||
                j - stage_lag[s] >= p->blocks)
                continue;
            if (pipe_stage(p, s, j - stage_lag[s]) != 0)
                return NULL;
        }
    return NULL;
}

unsigned movies_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0 &&
        CPU_COUNT(&set) < n)
        n = CPU_COUNT(&set);
    return n > 0 ? (unsigned)n : 1;
}

static unsigned populate_threads(const movies_writer *w)
{
    unsigned t = w->threads;
    if (t == 0)
        t = movies_cores();
    return t < MAX_GROUPS ? t : MAX_GROUPS;
}

static int populate_src(movies_writer *w, const movies_data *d,
                        const movies_src *src)
{
    unsigned groups = populate_threads(w);
    if (groups < 2) {
        int rc = add_actors(w, d);
        const movies_movie *block[MOVIES_BLOCK];
        for (size_t k = 0; rc == 0 && k * MOVIES_BLOCK < src->count; k++) {
            unsigned n = block_of(src, k, block);
            rc = add_movies(w, block, n);
        }
        if (rc < 0)
            snprintf(w->error, sizeof w->error, "%s",
                     hollow_error_last()->message);
        return rc;
    }
    if (w->pipe == NULL)
        CHECK(pipe_new(&w->pipe, w->ws));
    movies_pipe *p = w->pipe;
    for (unsigned s = 0; s < ST_COUNT; s++)
        p->done[s].v = 0;
    p->error = 0;
    p->w = w;
    p->d = d;
    p->src = *src;
    p->blocks = (src->count + MOVIES_BLOCK - 1) / MOVIES_BLOCK;
    p->groups = groups;
    pipe_thread th[MAX_GROUPS];
    unsigned started = 1;
    for (unsigned g = 0; g < groups; g++) {
        th[g].p = p;
        th[g].group = g;
    }
    for (unsigned g = 1; g < groups; g++) {
        if (pthread_create(&th[g].id, NULL, pipe_run, &th[g]) != 0) {
            snprintf(w->error, sizeof w->error,
                     "cannot start a populate thread");
            __atomic_store_n(&p->error, HOLLOW_ERROR, __ATOMIC_SEQ_CST);
            pipe_wake(p);
            break;
        }
        started++;
    }
    if (started == groups)
        pipe_run(&th[0]);
    for (unsigned g = 1; g < started; g++)
        pthread_join(th[g].id, NULL);
    return p->error;
}

int movies_populate(movies_writer *w, const movies_data *d, int version)
{
    movies_src src = {version == 1 ? d->v1 : NULL,
                      version == 1 ? NULL : d->v2,
                      version == 1 ? d->v1_count : d->v2_count};
    return populate_src(w, d, &src);
}

int movies_populate_movies(movies_writer *w, const movies_data *d,
                           const movies_movie *movies, size_t count)
{
    movies_src src = {movies, NULL, count};
    return populate_src(w, d, &src);
}
