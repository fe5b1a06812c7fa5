/*
 * Stats and metrics read while a producer runs cycles and a consumer
 * follows it on its watcher thread (issue 19 item 2): readers on other
 * threads call hollow_consumer_stats_get(), hollow_producer_stats_get()
 * and hollow_metrics_write() all the time; every snapshot they take is
 * sane (counters never go down, a histogram's count is the sum of its
 * buckets) and, at the end, the counters say what happened. Runs under
 * ThreadSanitizer (label `threaded`).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/consumer_int.h"
#include "hollow/hollow.h"
#include "movie_fixture.h"
#include "testhelp.h"

#define WAIT_MS 20000 /* bounded waits: generous for ThreadSanitizer */
#define CYCLES 12
#define READERS 2

typedef struct shared {
    hollow_consumer *c;
    hollow_producer *p;
    hollow_announcer *an;
    hollow_blobstore *bs;
    atomic_bool done;
    atomic_int reads;
} shared;

static uint64_t sum(const uint64_t *v, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

static int count_sink(void *payload, const void *data, size_t len)
{
    (void)data;
    *(size_t *)payload += len;
    return 0;
}

static void *reader_main(void *arg)
{
    shared *sh = arg;
    uint64_t refreshes = 0, cycles = 0, published = 0, gets = 0;
    while (!atomic_load(&sh->done)) {
        hollow_consumer_stats cs = HOLLOW_CONSUMER_STATS_INIT;
        hollow_producer_stats ps = HOLLOW_PRODUCER_STATS_INIT;
        hollow_blobstore_stats bst;
        HT_OK(hollow_consumer_stats_get(&cs, sh->c));
        HT_OK(hollow_producer_stats_get(&ps, sh->p));
        HT_OK(hollow_blobstore_stats_get(&bst, sh->bs));
        uint64_t r = sum(cs.refreshes, HOLLOW_REFRESH_KINDS);
        ck_assert_uint_ge(r, refreshes);
        ck_assert_uint_ge(ps.cycles, cycles);
        ck_assert_uint_ge(ps.cycles_published, published);
        ck_assert_uint_ge(bst.cache_misses, gets);
        ck_assert_uint_le(ps.cycles_published, ps.cycles);
        ck_assert_uint_eq(
            cs.refresh_duration.count,
            sum(cs.refresh_duration.bucket, HOLLOW_DURATION_BUCKETS));
        ck_assert_uint_eq(
            ps.cycle_duration.count,
            sum(ps.cycle_duration.bucket, HOLLOW_DURATION_BUCKETS));
        ck_assert_uint_eq(cs.refresh_failures, 0);
        refreshes = r;
        cycles = ps.cycles;
        published = ps.cycles_published;
        gets = bst.cache_misses;

        hollow_metrics_sources src = HOLLOW_METRICS_SOURCES_INIT;
        src.consumer = sh->c;
        src.producer = sh->p;
        src.announcer = sh->an;
        src.blobstore = sh->bs;
        size_t len = 0;
        HT_OK(hollow_metrics_write(count_sink, &len, &src));
        ck_assert_uint_gt(len, 1000);
        atomic_fetch_add(&sh->reads, 1);
    }
    return NULL;
}

/*
 * CYCLES cycles, each a change the watcher follows, with READERS threads
 * reading throughout; the test waits for the consumer to follow each
 * version before the next cycle. At the end: every cycle published, and
 * the consumer at the last version by one snapshot refresh and a delta
 * refresh for every later version, none failed.
 */
START_TEST(metrics_read_while_cycling_and_following)
{
    hollow_schema_list *schemas = schemas_new();
    shared sh;
    memset(&sh, 0, sizeof sh);
    sh.bs = mem_store();
    HT_OK(hollow_announcer_inproc_new(&sh.an, NULL));
    sh.p = producer_new(sh.bs, sh.an, schemas, 3, true);
    sh.c = consumer_new(sh.bs, sh.an, true, HOLLOW_MEMORY_HEAP, NULL);
    pthread_t th[READERS];
    for (int i = 0; i < READERS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, reader_main, &sh), 0);
    int64_t v = 0;
    for (int i = 0; i < CYCLES; i++) {
        v = cycle_spec(sh.p, (spec){i * 3, 50, i, i % 3, false});
        /* each version followed before the next: one refresh each */
        HT_OK(hollow_consumer_wait_for_version(sh.c, v, WAIT_MS));
    }
    ck_assert_int_eq(v, CYCLES);
    HT_OK(hollow_consumer_wait_for_version(sh.c, v, WAIT_MS));
    /* the counters follow publication by a moment: wait until the watcher
     * is done with every announcement (and so has counted its refresh) */
    HT_OK(hollow_announcer_drain(sh.an, WAIT_MS));
    ck_assert(hollow__consumer_wait_watcher(sh.c, WAIT_MS));
    hollow_consumer_stats cs = HOLLOW_CONSUMER_STATS_INIT;
    HT_OK(hollow_consumer_stats_get(&cs, sh.c));
    /* readers saw at least a few snapshots; make sure of one after the end */
    while (atomic_load(&sh.reads) < 2 * READERS)
        ht_sleep_ms(1);
    atomic_store(&sh.done, true);
    for (int i = 0; i < READERS; i++)
        pthread_join(th[i], NULL);

    ck_assert_int_eq(cs.current_version, CYCLES);
    ck_assert_uint_eq(cs.refreshes[HOLLOW_REFRESH_SNAPSHOT], 1);
    ck_assert_uint_eq(cs.refreshes[HOLLOW_REFRESH_DELTA], CYCLES - 1);
    ck_assert_uint_eq(sum(cs.refreshes, HOLLOW_REFRESH_KINDS), CYCLES);
    ck_assert_uint_eq(cs.refresh_duration.count, CYCLES);
    ck_assert_uint_eq(cs.refresh_failures, 0);
    hollow_producer_stats ps = HOLLOW_PRODUCER_STATS_INIT;
    HT_OK(hollow_producer_stats_get(&ps, sh.p));
    ck_assert_uint_eq(ps.cycles, CYCLES);
    ck_assert_uint_eq(ps.cycles_published, CYCLES);
    ck_assert_uint_eq(ps.blobs[HOLLOW_BLOB_HEADER], CYCLES);
    ck_assert_uint_eq(ps.blobs[HOLLOW_BLOB_DELTA], CYCLES - 1);
    ck_assert_uint_eq(ps.blobs[HOLLOW_BLOB_SNAPSHOT], 3); /* 1, 5, 9 */
    ck_assert_int_eq(ps.current_version, CYCLES);

    hollow_consumer_free(sh.c);
    hollow_producer_free(sh.p);
    hollow_announcer_free(sh.an);
    hollow_blobstore_free(sh.bs);
    hollow_schema_list_free(schemas);
}
END_TEST

static Suite *metrics_threads_suite(void)
{
    Suite *s = suite_create("metrics_threads");
    TCase *tc = tcase_create("read_while_refreshing");
    tcase_add_checked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, metrics_read_while_cycling_and_following);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(metrics_threads_suite()); }
