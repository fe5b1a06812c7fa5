/*
 * Indexes kept by a consumer, read by 8 threads while the consumer
 * refreshes (issue: indexes, "A ThreadSanitizer test"). The consumer
 * follows the Java-written chain of c_primary_keys forwards and back 20
 * times, keeping a primary key index on Award (a composite key through a
 * reference: film.title, film.year, category) and one on Film. Each reader
 * pins an index (hollow_consumer_acquire_index), reads every record of its
 * state, and looks each one up by the key values read from the record:
 * the index must answer with that record. Run under ThreadSanitizer too.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/consumer.h"
#include "hollow/index.h"
#include "testhelp.h"

#define READERS 8

static const int64_t VERSIONS[] = {20250101000000001, 20250101000000002,
                                   20250101000000003, 20250101000000005,
                                   20250101000000006};
#define NV (sizeof VERSIONS / sizeof *VERSIONS)

static hollow_consumer *consumer;
static int award_ix, film_ix;
static atomic_bool stop;
static atomic_long lookups;

/* the stored value of field `name` of record o of type t */
static hollow_value field_of(const hollow_type *t, hollow_ordinal o,
                             const char *name)
{
    hollow_value v;
    int f = hollow_schema_field_index(hollow_type_schema(t), name);
    if (f < 0 || hollow_object_value(&v, t, o, (size_t)f) < 0)
        abort();
    return v;
}

/* look record o up by its own key; the index must give o (or a group of
 * duplicates holding o) */
static void check_record(const hollow_index *ix, const hollow_value *keys,
                         size_t n, hollow_ordinal o)
{
    int got = hollow_index_find_stored(ix, keys, n);
    if (got == o)
        return;
    hollow_index_matches m;
    if (got >= 0 && hollow_index_duplicates_of(&m, ix, (hollow_ordinal)got) >= 2)
        for (size_t i = 0; i < m.count; i++)
            if (m.ordinals[i] == o)
                return;
    fprintf(stderr, "index of %s: record %d looked up by its key gave %d\n",
            hollow_index_type_name(ix), (int)o, got);
    abort();
}

static void check_awards(const hollow_index *ix)
{
    const hollow_read_state *rs = hollow_index_state(ix);
    const hollow_type *award = hollow_read_state_type(rs, "Award");
    const hollow_type *film = hollow_read_state_type(rs, "Film");
    for (hollow_ordinal o = hollow_type_next_ordinal(award, 0); o >= 0;
         o = hollow_type_next_ordinal(award, o + 1)) {
        hollow_value f = field_of(award, o, "film");
        if (f.is_null)
            abort();
        hollow_value keys[3] = {field_of(film, f.u.ref, "title"),
                                field_of(film, f.u.ref, "year"),
                                field_of(award, o, "category")};
        check_record(ix, keys, 3, o);
        atomic_fetch_add(&lookups, 1);
    }
}

static void check_films(const hollow_index *ix)
{
    const hollow_read_state *rs = hollow_index_state(ix);
    const hollow_type *film = hollow_read_state_type(rs, "Film");
    for (hollow_ordinal o = hollow_type_next_ordinal(film, 0); o >= 0;
         o = hollow_type_next_ordinal(film, o + 1)) {
        hollow_value keys[2] = {field_of(film, o, "title"),
                                field_of(film, o, "year")};
        check_record(ix, keys, 2, o);
        atomic_fetch_add(&lookups, 1);
    }
}

static void *reader(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        hollow_index *a = hollow_consumer_acquire_index(consumer, award_ix);
        hollow_index *f = hollow_consumer_acquire_index(consumer, film_ix);
        if (a != NULL)
            check_awards(a);
        if (f != NULL)
            check_films(f);
        hollow_index_release(a);
        hollow_index_release(f);
    }
    return NULL;
}

START_TEST(consumer_indexes_read_while_refreshing)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/c_primary_keys", HOLLOW_GOLDEN_DIR);
    hollow_blobstore *bs = NULL;
    hollow_blobstore_fs_options so = HOLLOW_BLOBSTORE_FS_OPTIONS_INIT;
    so.dir = dir;
    HT_OK(hollow_blobstore_fs_new(&bs, &so));
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    HT_OK(hollow_consumer_new(&consumer, &co));
    HT_OK(hollow_consumer_refresh(consumer, VERSIONS[0]));
    HT_OK(hollow_consumer_add_index(&award_ix, consumer, HOLLOW_INDEX_PRIMARY_KEY,
                                    "Award", NULL, 0));
    HT_OK(hollow_consumer_add_index(&film_ix, consumer, HOLLOW_INDEX_PRIMARY_KEY,
                                    "Film", NULL, 0));
    pthread_t th[READERS];
    for (int i = 0; i < READERS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, reader, NULL), 0);
    int rounds = 20 * ht_scale();
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 1; i < NV; i++) /* forwards by deltas */
            HT_OK(hollow_consumer_refresh(consumer, VERSIONS[i]));
        for (size_t i = NV - 1; i-- > 0;) /* back by reverse deltas */
            HT_OK(hollow_consumer_refresh(consumer, VERSIONS[i]));
        /* each published index answers for the version the consumer holds */
        hollow_index *a = hollow_consumer_acquire_index(consumer, award_ix);
        ck_assert_ptr_nonnull(a);
        ck_assert_int_eq(hollow_read_state_version(hollow_index_state(a)),
                         hollow_consumer_version(consumer));
        hollow_index_release(a);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < READERS; i++)
        pthread_join(th[i], NULL);
    fprintf(stderr, "%d rounds, %ld lookups by readers\n", rounds,
            atomic_load(&lookups));
    ck_assert_int_gt(atomic_load(&lookups), 0);
    hollow_consumer_free(consumer);
    hollow_blobstore_free(bs);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("consumer_index");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 1800);
    tcase_add_test(tc, consumer_indexes_read_while_refreshing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(suite()); }
