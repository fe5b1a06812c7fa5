/*
 * Readers against a refreshing state (architecture decision 2): 8 threads
 * pin whatever state is current and read every record of it (through the
 * checksum of §12, which decodes every field, element and bucket) while the
 * main thread applies every chain of the golden vectors forwards and back,
 * publishing each state through a hollow_state_holder. Every read must
 * match the state it pinned: its checksum must be one that this state's
 * randomized tag had in a single-threaded pass beforehand. Run under
 * ThreadSanitizer by `make test`.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/read.h"
#include "testhelp.h"

#define READERS 8
#define MAX_EXPECT 4096

typedef struct expect {
    int64_t tag;
    uint32_t checksum;
} expect;

static expect expected[MAX_EXPECT];
static int nexpected;
static hollow_state_holder *holder;
static atomic_bool stop;
static atomic_long reads;

static void add_expect(const hollow_read_state *rs)
{
    uint32_t c;
    HT_OK(hollow_read_state_checksum(&c, rs));
    int64_t tag = hollow_read_state_randomized_tag(rs);
    for (int i = 0; i < nexpected; i++)
        if (expected[i].tag == tag && expected[i].checksum == c)
            return;
    ck_assert_int_lt(nexpected, MAX_EXPECT);
    expected[nexpected].tag = tag;
    expected[nexpected].checksum = c;
    nexpected++;
}

static bool is_expected(int64_t tag, uint32_t c)
{
    for (int i = 0; i < nexpected; i++)
        if (expected[i].tag == tag && expected[i].checksum == c)
            return true;
    return false;
}

/* walk the chain; publish each state when `holder_out` is set */
static void walk(const ht_chain *c, bool publish)
{
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, c->snapshot.p, c->snapshot.len,
                                          NULL));
    for (int i = 0;; i++) {
        if (publish) {
            hollow_read_state_acquire(rs);
            hollow_state_holder_publish(holder, rs);
        } else {
            add_expect(rs);
        }
        if (i == c->nsteps)
            break;
        hollow_read_state *next = NULL;
        HT_OK(hollow_read_state_apply_delta(&next, rs, c->steps[i].p,
                                            c->steps[i].len));
        hollow_read_state_release(rs);
        rs = next;
    }
    hollow_read_state_release(rs);
}

static void *reader(void *arg)
{
    (void)arg;
    long n = 0;
    while (!atomic_load(&stop)) {
        hollow_read_state *rs = hollow_state_holder_acquire(holder);
        if (rs == NULL)
            continue;
        uint32_t c;
        if (hollow_read_state_checksum(&c, rs) < 0 ||
            !is_expected(hollow_read_state_randomized_tag(rs), c)) {
            fprintf(stderr, "reader: state %lld read checksum %08x, not one "
                    "of that state's\n",
                    (long long)hollow_read_state_randomized_tag(rs), c);
            abort();
        }
        /* and every record through the typed iteration */
        for (size_t t = 0; t < hollow_read_state_type_count(rs); t++) {
            const hollow_type *ty = hollow_read_state_type_at(rs, t);
            size_t count = 0;
            for (hollow_ordinal o = hollow_type_next_ordinal(ty, 0); o >= 0;
                 o = hollow_type_next_ordinal(ty, o + 1))
                count++;
            if (count != hollow_type_record_count(ty))
                abort();
        }
        hollow_read_state_release(rs);
        n++;
    }
    atomic_fetch_add(&reads, n);
    return NULL;
}

static const char *SCENARIOS[] = HT_GOLDEN_SCENARIOS;
#define NSCEN (sizeof SCENARIOS / sizeof *SCENARIOS)

START_TEST(threads_read_while_refreshing)
{
    static ht_chain chains[NSCEN];
    for (size_t i = 0; i < NSCEN; i++) {
        ht_chain_load(&chains[i], SCENARIOS[i]);
        walk(&chains[i], false);
    }
    HT_OK(hollow_state_holder_new(&holder));
    pthread_t th[READERS];
    for (int i = 0; i < READERS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, reader, NULL), 0);
    int rounds = 20 * ht_scale();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < NSCEN; i++)
            walk(&chains[i], true);
    atomic_store(&stop, true);
    for (int i = 0; i < READERS; i++)
        pthread_join(th[i], NULL);
    fprintf(stderr, "%d rounds, %ld pinned reads of whole states\n", rounds,
            atomic_load(&reads));
    ck_assert_int_gt(atomic_load(&reads), READERS);
    hollow_state_holder_free(holder);
    for (size_t i = 0; i < NSCEN; i++)
        ht_chain_free(&chains[i]);
}
END_TEST

/* a pinned state stays readable and unchanged after newer ones replace it */
START_TEST(threads_pinned_state_survives_publish)
{
    ht_chain c;
    ht_chain_load(&c, "c_primary_keys");
    hollow_read_state *rs = NULL;
    HT_OK(hollow_read_state_from_snapshot(&rs, c.snapshot.p, c.snapshot.len,
                                          NULL));
    uint32_t before, after;
    HT_OK(hollow_read_state_checksum(&before, rs));
    HT_OK(hollow_state_holder_new(&holder));
    hollow_read_state_acquire(rs);
    hollow_state_holder_publish(holder, rs);
    hollow_read_state *pinned = hollow_state_holder_acquire(holder);
    ck_assert_ptr_eq(pinned, rs);
    for (int i = 0; i < c.nsteps / 2; i++) {
        hollow_read_state *next = NULL;
        HT_OK(hollow_read_state_apply_delta(&next, rs, c.steps[i].p,
                                            c.steps[i].len));
        hollow_read_state_release(rs);
        rs = next;
        hollow_read_state_acquire(rs);
        hollow_state_holder_publish(holder, rs);
    }
    HT_OK(hollow_read_state_checksum(&after, pinned));
    ck_assert_uint_eq(before, after);
    hollow_read_state_release(pinned);
    hollow_read_state_release(rs);
    hollow_state_holder_free(holder);
    ht_chain_free(&c);
}
END_TEST

static Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("refresh");
    tcase_set_timeout(tc, 1800);
    tcase_add_test(tc, threads_read_while_refreshing);
    tcase_add_test(tc, threads_pinned_state_survives_publish);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(threads_suite()); }
