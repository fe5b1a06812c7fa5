/*
 * A producer and a consumer over the filesystem blob store and the
 * in-process announcer, on the Movies dataset (bench-dataset.md): what
 * `make run` shows.
 *
 *   producer_consumer DIR [N]
 *
 * The producer publishes a few versions with changes (and one cycle with
 * none); the consumer follows on its own, on its watcher thread, and prints
 * what each refresh brought. Then the consumer is pinned to the first
 * version (it walks back through reverse deltas) and unpinned again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/hollow.h"
#include "movies_gen.h"
#include "movies_populate.h"

typedef struct cycle_data {
    movies_data view; /* which movies this version has */
    int version;      /* 1 or 2: which movie array */
} cycle_data;

static int populate(hollow_write_state *ws, void *payload)
{
    cycle_data *c = payload;
    movies_writer w;
    int rc = movies_writer_init(&w, ws, c->view.actor_count);
    if (rc == 0)
        rc = movies_populate(&w, &c->view, c->version);
    movies_writer_free(&w);
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
    movies_data d;
    if (movies_data_generate(&d, n, 42) < 0)
        return 1;

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
    if (hollow_schema_parse(&schemas, movies_schema_text, strlen(movies_schema_text)) < 0)
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

    /* versions: 1, the 1% change of bench-dataset.md, 100 fewer movies,
     * the same again (no change), and the first version back */
    cycle_data cycles[5];
    const char *what[5] = {"the Movies dataset", "the 1% change",
                           "100 movies fewer", "the same data again",
                           "the first version's data again"};
    for (int i = 0; i < 5; i++) {
        cycles[i].view = d;
        cycles[i].version = i == 0 || i == 4 ? 1 : 2;
    }
    cycles[2].view.v2_count = d.v2_count > 100 ? d.v2_count - 100 : 0;
    cycles[3].view.v2_count = cycles[2].view.v2_count;
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
    movies_data_free(&d);
    printf("blobs are in %s\n", dir);
    return 0;
}
