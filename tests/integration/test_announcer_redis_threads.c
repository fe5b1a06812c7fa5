/*
 * The Redis announcer's threads (src/announcer/redis.c) under load, run
 * under ThreadSanitizer by `make test`: two threads announcing through two
 * announcers at once while subscribers on a third see only increasing
 * versions and reach the highest; threads subscribing and unsubscribing
 * while announcements flow (after unsubscribe returns, the callback never
 * runs again); free() while the watcher is delivering, and while it is
 * held up by a full queue behind a blocked callback.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "announce_rec.h"
#include "hollow/announcer.h"
#include "redis_server.h"
#include "testhelp.h"

#define TIMEOUT_MS 20000

static char g_dir[512];
static ht_redis g_redis;

static void setup(void)
{
    ht_tmpdir(g_dir, sizeof g_dir, "hollow-redis-thr");
    ht_redis_start(&g_redis, g_dir, NULL);
}

static void teardown(void)
{
    ht_redis_stop(&g_redis);
    ht_remove_dir(g_dir);
}

static hollow_announcer *open_redis(size_t queue)
{
    hollow_announcer_redis_options o = HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
    o.url = g_redis.url;
    if (queue != 0)
        o.queue_capacity = queue;
    hollow_announcer *a = NULL;
    HT_OK(hollow_announcer_redis_new(&a, &o));
    return a;
}

/* ------------------------------------------------ concurrent announcers */

#define PER_THREAD 600

typedef struct shared {
    hollow_announcer *a;
    atomic_llong *next;
    int failures;
} shared;

static void *announcer_thread(void *arg)
{
    shared *s = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        long long v = atomic_fetch_add(s->next, 1) + 1;
        if (hollow_announcer_announce(s->a, v) != 0)
            s->failures++;
    }
    return NULL;
}

START_TEST(redis_threads_two_announcers_subscribers_see_increasing)
{
    hollow_announcer *p1 = open_redis(0), *p2 = open_redis(0);
    hollow_announcer *c = open_redis(0);
    ht_rec r1, rc;
    ht_rec_init(&r1);
    ht_rec_init(&rc);
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe(&id, p1, ht_rec_cb, &r1));
    HT_OK(hollow_announcer_subscribe(&id, c, ht_rec_cb, &rc));
    atomic_llong next = 0;
    shared s1 = { p1, &next, 0 }, s2 = { p2, &next, 0 };
    pthread_t t1, t2;
    ck_assert_int_eq(pthread_create(&t1, NULL, announcer_thread, &s1), 0);
    ck_assert_int_eq(pthread_create(&t2, NULL, announcer_thread, &s2), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    ck_assert_int_eq(s1.failures + s2.failures, 0);
    int64_t top = 2 * PER_THREAD;
    int64_t v;
    HT_OK(hollow_announcer_latest(&v, c));
    ck_assert_int_eq(v, top); /* the highest always wins */
    ck_assert(ht_rec_wait_last(&rc, top, TIMEOUT_MS));
    ck_assert(ht_rec_wait_last(&r1, top, TIMEOUT_MS));
    ht_rec_expect_increasing(&rc, 1, top);
    ht_rec_expect_increasing(&r1, 1, top);
    hollow_announcer_free(p1);
    hollow_announcer_free(p2);
    hollow_announcer_free(c);
    ht_rec_destroy(&r1);
    ht_rec_destroy(&rc);
}
END_TEST

/* ------------------------------------------------ subscribe churn */

typedef struct churn {
    hollow_announcer *a;
    atomic_bool *stop;
    int rounds;
    bool bad;
} churn;

static void *churn_thread(void *arg)
{
    churn *c = arg;
    while (!atomic_load(c->stop)) {
        ht_rec r;
        ht_rec_init(&r);
        hollow_subscription_id id;
        if (hollow_announcer_subscribe(&id, c->a, ht_rec_cb, &r) != 0) {
            c->bad = true;
            ht_rec_destroy(&r);
            break;
        }
        ht_sleep_ms(3);
        if (hollow_announcer_unsubscribe(c->a, id) != 0)
            c->bad = true;
        int n = ht_rec_count(&r);
        ht_sleep_ms(2);
        if (ht_rec_count(&r) != n) /* ran after unsubscribe returned */
            c->bad = true;
        pthread_mutex_lock(&r.mu);
        for (int i = 1; i < r.n; i++)
            if (r.v[i] <= r.v[i - 1])
                c->bad = true;
        pthread_mutex_unlock(&r.mu);
        ht_rec_destroy(&r);
        c->rounds++;
    }
    return NULL;
}

START_TEST(redis_threads_subscribe_unsubscribe_while_delivering)
{
    hollow_announcer *p = open_redis(0);
    hollow_announcer *c = open_redis(0);
    atomic_bool stop = false;
    churn ch[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        ch[i] = (churn){ c, &stop, 0, false };
        ck_assert_int_eq(pthread_create(&t[i], NULL, churn_thread, &ch[i]), 0);
    }
    for (int64_t v = 1; v <= 1500; v++) {
        HT_OK(hollow_announcer_announce(p, v));
        if (v % 100 == 0)
            ht_sleep_ms(5);
    }
    HT_OK(hollow_announcer_wait_for_version(c, 1500, TIMEOUT_MS));
    atomic_store(&stop, true);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(!ch[i].bad, "churn thread %d saw a bad delivery", i);
        ck_assert_int_gt(ch[i].rounds, 0);
    }
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, c));
    ck_assert_uint_eq(st.subscribers, 0);
    hollow_announcer_free(p);
    hollow_announcer_free(c);
}
END_TEST

/* ------------------------------------------------ free while busy */

static int slow_cb(int64_t version, void *payload)
{
    (void)version;
    atomic_fetch_add((atomic_int *)payload, 1);
    ht_sleep_ms(1);
    return 0;
}

START_TEST(redis_threads_free_while_delivering)
{
    hollow_announcer *p = open_redis(0);
    for (int round = 0; round < 5; round++) {
        hollow_announcer *c = open_redis(0);
        atomic_int calls = 0;
        hollow_subscription_id id;
        HT_OK(hollow_announcer_subscribe(&id, c, slow_cb, &calls));
        int fd;
        HT_OK(hollow_announcer_subscribe_fd(&fd, &id, c));
        for (int64_t v = 1; v <= 100; v++)
            HT_OK(hollow_announcer_announce(p, round * 1000 + v));
        int64_t deadline = ht_now_ms() + TIMEOUT_MS;
        while (atomic_load(&calls) < 5 && ht_now_ms() < deadline)
            ht_sleep_ms(1);
        ck_assert_int_ge(atomic_load(&calls), 5);
        int64_t t0 = ht_now_ms();
        hollow_announcer_free(c); /* mid-stream */
        ck_assert_int_lt(ht_now_ms() - t0, 5000);
        int64_t buf[256];
        size_t n;
        int rc;
        while ((rc = hollow_announcer_fd_read(buf, 256, &n, fd)) == 0 && n > 0)
            ;
        ck_assert_int_eq(rc, HOLLOW_ESTATE); /* end of file */
        close(fd);
    }
    hollow_announcer_free(p);
}
END_TEST

typedef struct releaser {
    ht_rec *r;
    int after_ms;
} releaser;

static void *release_later(void *arg)
{
    releaser *rl = arg;
    ht_sleep_ms(rl->after_ms);
    ht_rec_release(rl->r);
    return NULL;
}

START_TEST(redis_threads_free_with_full_queue)
{
    hollow_announcer *p = open_redis(0);
    hollow_announcer *c = open_redis(2); /* the watcher soon finds it full */
    ht_rec r;
    ht_rec_init(&r);
    r.block = true;
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe(&id, c, ht_rec_cb, &r));
    for (int64_t v = 1; v <= 20; v++)
        HT_OK(hollow_announcer_announce(p, v));
    ck_assert(ht_rec_wait_entered(&r, TIMEOUT_MS));
    ht_sleep_ms(100); /* the watcher retries against a full queue */
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, c));
    ck_assert_uint_eq(st.queued, 2);
    releaser rl = { &r, 100 };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, release_later, &rl), 0);
    int64_t t0 = ht_now_ms();
    hollow_announcer_free(c);
    ck_assert_int_lt(ht_now_ms() - t0, 5000);
    pthread_join(t, NULL);
    ht_rec_expect_increasing(&r, 1, 20);
    hollow_announcer_free(p);
    ht_rec_destroy(&r);
}
END_TEST

static Suite *announcer_redis_threads_suite(void)
{
    Suite *s = suite_create("announcer_redis_threads");
    TCase *tc = tcase_create("threads");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, redis_threads_two_announcers_subscribers_see_increasing);
    tcase_add_test(tc, redis_threads_subscribe_unsubscribe_while_delivering);
    tcase_add_test(tc, redis_threads_free_while_delivering);
    tcase_add_test(tc, redis_threads_free_with_full_queue);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(announcer_redis_threads_suite()); }
