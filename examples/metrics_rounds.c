/*
 * hollow_metrics_write() in a process that produces and consumes: what a
 * service hands its HTTP server for /metrics (docs/metrics.md).
 *
 *   metrics_rounds [ROUNDS] [N]
 *
 * Over a memory blob store and an in-process announcer, a producer
 * publishes the Movies dataset (N movies, default 1000) and a consumer
 * follows it by explicit refreshes. Each round runs one cycle with a
 * change and one refresh (the third round also moves the consumer back to
 * the first version and forward again), then prints
 *
 *   # round K
 *   <the Prometheus text of all four sources>
 *
 * tests/cli/metrics_check.py parses every round with the Prometheus
 * project's parser and checks that the counters move.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/hollow.h"
#include "movies_gen.h"
#include "movies_populate.h"

typedef struct cycle_data {
    movies_data view;
    int version; /* 1 or 2: which movie array */
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

/* the sink: where a service would append to its HTTP response */
static int to_stdout(void *payload, const void *data, size_t len)
{
    (void)payload;
    return fwrite(data, 1, len, stdout) == len ? 0 : HOLLOW_EIO;
}

static void die(const char *what)
{
    fprintf(stderr, "metrics_rounds: %s: %s\n", what,
            hollow_error_last()->message);
    exit(1);
}

static long arg(const char *s, long max)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < 1 || v > max) {
        fprintf(stderr, "usage: metrics_rounds [ROUNDS 1..%ld] [N]\n", max);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
        fputs("usage: metrics_rounds [ROUNDS] [N]\n", stderr);
        return 2;
    }
    long rounds = argc > 1 ? arg(argv[1], 1000) : 4;
    long n = argc > 2 ? arg(argv[2], 1L << 20) : 1000;
    movies_data d;
    if (movies_data_generate(&d, (uint64_t)n, 42) < 0)
        return 1;
    hollow_blobstore *store = NULL;
    hollow_announcer *announcer = NULL;
    hollow_schema_list *schemas = NULL;
    if (hollow_blobstore_memory_new(&store, NULL) < 0)
        die("store");
    if (hollow_announcer_inproc_new(&announcer, NULL) < 0)
        die("announcer");
    if (hollow_schema_parse(&schemas, movies_schema_text,
                            strlen(movies_schema_text)) < 0)
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
    hollow_consumer *consumer = NULL;
    if (hollow_consumer_new(&consumer, &co) < 0)
        die("consumer");

    hollow_metrics_sources src = HOLLOW_METRICS_SOURCES_INIT;
    src.consumer = consumer;
    src.producer = producer;
    src.announcer = announcer;
    src.blobstore = store;
    int64_t first = 0;
    for (long r = 1; r <= rounds; r++) {
        /* alternate the two versions of the data: every cycle changes */
        cycle_data c = {d, r % 2 == 1 ? 1 : 2};
        int64_t v = 0;
        if (hollow_producer_run_cycle(&v, producer, populate, &c) < 0)
            die("cycle");
        if (first == 0)
            first = v;
        if (hollow_consumer_refresh(consumer, HOLLOW_VERSION_LATEST) < 0)
            die("refresh");
        if (r == 3) { /* back by reverse deltas, and forward again */
            if (hollow_consumer_refresh(consumer, first) < 0 ||
                hollow_consumer_refresh(consumer, v) < 0)
                die("refresh");
        }
        printf("# round %ld\n", r);
        if (hollow_metrics_write(to_stdout, NULL, &src) < 0)
            die("metrics");
    }
    hollow_consumer_free(consumer);
    hollow_producer_free(producer);
    hollow_announcer_free(announcer);
    hollow_blobstore_free(store);
    hollow_schema_list_free(schemas);
    movies_data_free(&d);
    return fflush(stdout) == 0 ? 0 : 1;
}
