/*
 * A producer and a consumer over the filesystem blob store and the
 * in-process announcer, on a small Movies data set generated here: what
 * `make run` shows. It uses the public API only (<hollow/hollow.h>).
 *
 *   producer_consumer DIR [N]
 *
 * The producer publishes a few versions with changes (and one cycle with
 * none); the consumer follows on its own, on its watcher thread, and prints
 * what each refresh brought. Then the consumer is pinned to the first
 * version (it walks back through reverse deltas) and unpinned again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/hollow.h"

/* ------------------------------------------------------------------------
 * A small Movies data set of its own, so that the example needs the public
 * API only (hollow-bench's generator of bench-dataset.md is bigger).
 */
static const char SCHEMA[] =
    "Movie @PrimaryKey(id) { long id; string title; int year; "
    "ListOfString genres; SetOfActor actors; }\n"
    "Actor @PrimaryKey(id) { int id; string name; }\n"
    "String { string value; }\n"
    "ListOfString List<String>;\n"
    "SetOfActor Set<Actor> @HashKey(id);\n";

static const char *const WORDS[16] = {
    "night", "river", "stone", "glass", "empire", "silent", "golden", "last",
    "winter", "shadow", "city", "iron", "garden", "storm", "paper", "moon"};
static const char *const GENRES[8] = {"drama", "comedy", "thriller", "western",
                                      "documentary", "romance", "horror", "musical"};
static const char *const SYLLABLES[8] = {"ka", "lo", "mi", "ra", "se", "tu", "vo", "ne"};

#define MAX_ACTORS 3
#define REMASTERED " (Remastered)"

typedef struct sample_movie {
    int64_t id;
    int32_t year;
    char title[48];
    unsigned genre_count, actor_count;
    unsigned genres[2];
    uint32_t actors[MAX_ACTORS]; /* distinct indexes into the actors */
} sample_movie;

typedef struct sample_movies {
    uint32_t actor_count;
    char (*actor_names)[8];
    size_t count;
    sample_movie *v1, *v2; /* v2: every 100th movie remastered (the 1% change) */
} sample_movies;

static uint64_t rng_next(uint64_t *state) /* SplitMix64 */
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static int movies_generate(sample_movies *d, size_t n)
{
    uint64_t rng = 42;
    d->count = n;
    d->actor_count = (uint32_t)(n / 4 + MAX_ACTORS);
    d->actor_names = malloc(d->actor_count * sizeof *d->actor_names);
    d->v1 = malloc(n * sizeof *d->v1);
    d->v2 = malloc(n * sizeof *d->v2);
    if (d->actor_names == NULL || d->v1 == NULL || d->v2 == NULL)
        return -1;
    for (uint32_t a = 0; a < d->actor_count; a++) {
        char *name = d->actor_names[a];
        name[0] = '\0';
        for (int k = 0; k < 3; k++)
            strcat(name, SYLLABLES[rng_next(&rng) % 8]);
    }
    for (size_t i = 0; i < n; i++) {
        sample_movie *m = &d->v1[i];
        m->id = 1000 + 7 * (int64_t)i;
        m->year = 1950 + (int32_t)(rng_next(&rng) % 75);
        m->title[0] = '\0';
        unsigned words = 2 + (unsigned)(rng_next(&rng) % 2);
        for (unsigned k = 0; k < words; k++) {
            if (k > 0)
                strcat(m->title, " ");
            strcat(m->title, WORDS[rng_next(&rng) % 16]);
        }
        m->genre_count = 1 + (unsigned)(rng_next(&rng) % 2);
        for (unsigned k = 0; k < m->genre_count; k++)
            m->genres[k] = (unsigned)(rng_next(&rng) % 8);
        /* consecutive actors: distinct, as a SET needs */
        m->actor_count = 1 + (unsigned)(rng_next(&rng) % MAX_ACTORS);
        uint32_t first = (uint32_t)(rng_next(&rng) % d->actor_count);
        for (unsigned k = 0; k < m->actor_count; k++)
            m->actors[k] = (first + k) % d->actor_count;
        d->v2[i] = *m;
        if (i % 100 == 0) {
            strcat(d->v2[i].title, REMASTERED);
            d->v2[i].year++;
        }
    }
    return 0;
}

static void movies_free(sample_movies *d)
{
    free(d->actor_names);
    free(d->v1);
    free(d->v2);
}

typedef struct cycle_data {
    const sample_movies *d;
    size_t count; /* the first count movies are in this version */
    int version;  /* 1 or 2: which movie array */
} cycle_data;

/* in populate(): stop at the first failure, passing its code up */
#define CHECK(expr)                                                            \
    do {                                                                       \
        if ((rc = (expr)) < 0)                                                 \
            goto out;                                                          \
    } while (0)

static size_t field(const hollow_record *r, const char *name)
{
    return (size_t)hollow_schema_field_index(hollow_record_schema(r), name);
}

static int add_string(hollow_ordinal *o, hollow_write_state *ws, hollow_record *str,
                      const char *s)
{
    hollow_record_reset(str);
    int rc = hollow_record_set_string(str, field(str, "value"), s, strlen(s));
    return rc < 0 ? rc : hollow_write_state_add(o, ws, str);
}

/* every record of one version: the actors, then each movie after what it
 * references */
static int populate(hollow_write_state *ws, void *payload)
{
    const cycle_data *c = payload;
    const sample_movies *d = c->d;
    hollow_record *movie = NULL, *actor = NULL, *str = NULL, *list = NULL, *set = NULL;
    hollow_ordinal *actor_ords = malloc(d->actor_count * sizeof *actor_ords);
    int rc = actor_ords == NULL ? HOLLOW_ENOMEM : 0;
    if (rc < 0)
        goto out;
    CHECK(hollow_record_new(&movie, ws, "Movie"));
    CHECK(hollow_record_new(&actor, ws, "Actor"));
    CHECK(hollow_record_new(&str, ws, "String"));
    CHECK(hollow_record_new(&list, ws, "ListOfString"));
    CHECK(hollow_record_new(&set, ws, "SetOfActor"));
    for (uint32_t a = 0; a < d->actor_count; a++) {
        hollow_record_reset(actor);
        CHECK(hollow_record_set_int(actor, field(actor, "id"), (int32_t)a));
        CHECK(hollow_record_set_string(actor, field(actor, "name"),
                                             d->actor_names[a],
                                             strlen(d->actor_names[a])));
        CHECK(hollow_write_state_add(&actor_ords[a], ws, actor));
    }
    for (size_t i = 0; i < c->count; i++) {
        const sample_movie *m = c->version == 1 ? &d->v1[i] : &d->v2[i];
        hollow_ordinal g, genres, actors, o;
        hollow_record_reset(list);
        for (unsigned k = 0; k < m->genre_count; k++) {
            CHECK(add_string(&g, ws, str, GENRES[m->genres[k]]));
            CHECK(hollow_record_add_element(list, g));
        }
        CHECK(hollow_write_state_add(&genres, ws, list));
        hollow_record_reset(set);
        for (unsigned k = 0; k < m->actor_count; k++)
            CHECK(hollow_record_add_element(set, actor_ords[m->actors[k]]));
        CHECK(hollow_write_state_add(&actors, ws, set));
        hollow_record_reset(movie);
        CHECK(hollow_record_set_long(movie, field(movie, "id"), m->id));
        CHECK(hollow_record_set_string(movie, field(movie, "title"), m->title,
                                             strlen(m->title)));
        CHECK(hollow_record_set_int(movie, field(movie, "year"), m->year));
        CHECK(hollow_record_set_ref(movie, field(movie, "genres"), genres));
        CHECK(hollow_record_set_ref(movie, field(movie, "actors"), actors));
        CHECK(hollow_write_state_add(&o, ws, movie));
    }
out:
    hollow_record_free(movie);
    hollow_record_free(actor);
    hollow_record_free(str);
    hollow_record_free(list);
    hollow_record_free(set);
    free(actor_ords);
    return rc;
}

static void on_refresh(const hollow_refresh_event *ev, void *payload)
{
    (void)payload;
    if (!ev->done)
        return;
    if (ev->result != 0) {
        printf("  consumer: refresh to %lld failed: %s\n",
               (long long)ev->to_version, hollow_strerror(ev->result));
        return;
    }
    printf("  consumer: now at version %lld via %s\n", (long long)ev->to_version,
           ev->plan);
    for (size_t i = 0; i < ev->change_count; i++)
        if (ev->changes[i].added || ev->changes[i].removed)
            printf("    %-20s +%zu -%zu\n", ev->changes[i].type,
                   ev->changes[i].added, ev->changes[i].removed);
}

static void show(hollow_consumer *c)
{
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    const hollow_type *movie = hollow_read_state_type(rs, "Movie");
    printf("  consumer reads version %lld: %zu movies",
           (long long)hollow_read_state_version(rs),
           hollow_type_record_count(movie));
    hollow_ordinal o = hollow_type_next_ordinal(movie, 0);
    int title = hollow_schema_field_index(hollow_type_schema(movie), "title");
    char buf[256];
    hollow_str s;
    if (o >= 0 && hollow_object_string(&s, buf, sizeof buf, movie, o, (size_t)title) == 0)
        printf(", the first one \"%.*s\"", (int)s.len, s.ptr);
    printf("\n");
    hollow_read_state_release(rs);
}

static void die(const char *what)
{
    fprintf(stderr, "producer_consumer: %s: %s\n", what, hollow_error_last()->message);
    exit(1);
}

static const char USAGE[] =
    "usage: producer_consumer DIR [N]\n"
    "\n"
    "Publish the Movies dataset (N movies, default 10000) in a few versions\n"
    "to a filesystem blob store in DIR (created if missing), with a consumer\n"
    "following them in the same process.\n";

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(USAGE, stdout);
            return 0;
        }
    /* an option-looking DIR is a mistake, not a directory to create */
    if (argc < 2 || argc > 3 || argv[1][0] == '-') {
        fputs(USAGE, stderr);
        return 2;
    }
    const char *dir = argv[1];
    uint64_t n = 10000;
    if (argc > 2) {
        char *end;
        n = strtoull(argv[2], &end, 10);
        if (argv[2][0] < '0' || argv[2][0] > '9' || *end != '\0' || n == 0 ||
            n > (1u << 27)) {
            fprintf(stderr, "producer_consumer: N must be a number of movies "
                    "from 1 to %u, not %s\n", 1u << 27, argv[2]);
            return 2;
        }
    }
    sample_movies d;
    if (movies_generate(&d, n) < 0) {
        movies_free(&d);
        fprintf(stderr, "producer_consumer: out of memory for %llu movies\n",
                (unsigned long long)n);
        return 1;
    }

    hollow_blobstore *store = NULL;
    hollow_blobstore_fs_options so = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    so.dir = dir;
    so.create_dir = true;
    if (hollow_blobstore_fs_new(&store, &so) < 0)
        die(dir);
    hollow_announcer *announcer = NULL;
    if (hollow_announcer_inproc_new(&announcer, NULL) < 0)
        die("announcer");
    hollow_schema_list *schemas = NULL;
    if (hollow_schema_parse(&schemas, SCHEMA, strlen(SCHEMA)) < 0)
        die("schema");

    hollow_producer_options po = HOLLOW_PRODUCER_OPTIONS_INIT;
    po.blobstore = store;
    po.announcer = announcer;
    po.schemas = schemas;
    po.num_states_between_snapshots = 2;
    hollow_producer *producer = NULL;
    if (hollow_producer_new(&producer, &po) < 0)
        die("producer");

    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = store;
    co.announcer = announcer;
    co.follow = true;
    co.listener = on_refresh; /* from the start: it hears every refresh */
    hollow_consumer *consumer = NULL;
    if (hollow_consumer_new(&consumer, &co) < 0)
        die("consumer");

    /* versions: 1, the 1% change (every 100th movie remastered), 100 fewer movies,
     * the same again (no change), and the first version back */
    cycle_data cycles[5];
    const char *what[5] = {"the Movies dataset", "the 1% change",
                           "100 movies fewer", "the same data again",
                           "the first version's data again"};
    for (int i = 0; i < 5; i++) {
        cycles[i].d = &d;
        cycles[i].count = d.count;
        cycles[i].version = i == 0 || i == 4 ? 1 : 2;
    }
    cycles[2].count = d.count > 100 ? d.count - 100 : 0;
    cycles[3].count = cycles[2].count;
    int64_t first = 0;
    for (int i = 0; i < 5; i++) {
        int64_t v = 0;
        printf("producer: cycle %d, %s\n", i + 1, what[i]);
        if (hollow_producer_run_cycle(&v, producer, populate, &cycles[i]) < 0)
            die("cycle");
        printf("producer: version %lld is current\n", (long long)v);
        if (first == 0)
            first = v;
        if (hollow_consumer_wait_for_version(consumer, v, 10000) < 0)
            die("consumer");
        show(consumer);
    }
    printf("consumer: pin to the first version %lld\n", (long long)first);
    if (hollow_consumer_pin(consumer, first) < 0)
        die("pin");
    show(consumer);
    printf("consumer: unpin, follow the latest again\n");
    hollow_consumer_unpin(consumer);
    if (hollow_consumer_wait_for_version(consumer, hollow_producer_version(producer),
                                         10000) < 0)
        die("unpin");
    show(consumer);

    hollow_consumer_free(consumer);
    hollow_producer_free(producer);
    hollow_announcer_free(announcer);
    hollow_blobstore_free(store);
    hollow_schema_list_free(schemas);
    movies_free(&d);
    printf("blobs are in %s\n", dir);
    return 0;
}
