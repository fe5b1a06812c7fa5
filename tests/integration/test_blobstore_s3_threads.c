/*
 * The S3 store under threads (run under ThreadSanitizer by
 * scripts/test.sh): eight threads putting and getting at once, through
 * the cache and S3, while the retrier runs; then the same with S3 stopped
 * part of the time, so that puts queue while the retrier retries and
 * gets are served from the cache, and everything is on S3 at the end.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hollow/hollow.h"
#include "movie_fixture.h"
#include "s3_server.h"
#include "testhelp.h"

#define THREADS 8
#define KEYS_PER_THREAD 12

typedef struct worker {
    pthread_t t;
    hollow_blobstore *bs;
    int id;
    uint64_t seed;
    int failures;
    char why[512];
} worker;

/* the bytes of blob (thread, i): size and content follow from both */
static size_t blob_of(uint8_t *buf, size_t cap, int id, int i)
{
    uint64_t st = (uint64_t)id * 1000003u + (uint64_t)i;
    size_t n = 1000 + (size_t)(ht_rand(&st) % 60000);
    if (n > cap)
        n = cap;
    for (size_t j = 0; j < n; j++)
        buf[j] = (uint8_t)(ht_rand(&st) >> 56);
    return n;
}

static hollow_blob_key key_of(int id, int i)
{
    /* deltas of distinct (from, to) per thread and index */
    return hollow_blob_key_delta(id * 1000 + i, id * 1000 + i + 1);
}

/* read a blob whole and compare it with what (id, i) should hold */
static bool verify(worker *w, hollow_blobstore *bs, int id, int i,
                   uint8_t *want, uint8_t *got, size_t cap)
{
    size_t n = blob_of(want, cap, id, i);
    hollow_blob_key k = key_of(id, i);
    hollow_stream *s = NULL;
    int rc = hollow_blobstore_get(&s, bs, &k);
    if (rc < 0) {
        snprintf(w->why, sizeof w->why, "get %d/%d: %s", id, i,
                 hollow_error_last()->message);
        return false;
    }
    size_t len = 0;
    for (;;) {
        size_t r = 0;
        if (len == cap || hollow_stream_read(&r, s, got + len, cap - len) < 0)
            break;
        if (r == 0)
            break;
        len += r;
    }
    hollow_stream_close(s);
    if (len != n || memcmp(want, got, n) != 0) {
        snprintf(w->why, sizeof w->why, "blob %d/%d: %zu bytes, want %zu",
                 id, i, len, n);
        return false;
    }
    return true;
}

/* put this thread's blobs, reading back its own and its neighbours' */
static void *work(void *arg)
{
    worker *w = arg;
    size_t cap = 64 * 1024;
    uint8_t *want = malloc(cap), *got = malloc(cap);
    for (int i = 0; i < KEYS_PER_THREAD && w->failures == 0; i++) {
        size_t n = blob_of(want, cap, w->id, i);
        hollow_blob_key k = key_of(w->id, i);
        if (hollow_blobstore_put_bytes(w->bs, &k, want, n) < 0) {
            snprintf(w->why, sizeof w->why, "put %d/%d: %s", w->id, i,
                     hollow_error_last()->message);
            w->failures++;
            break;
        }
        if (!verify(w, w->bs, w->id, i, want, got, cap))
            w->failures++;
        /* another thread's earlier blob, if it was put already */
        int other = (w->id + 1 + i) % THREADS;
        hollow_blob_key ok = key_of(other, 0);
        char path[PATH_MAX];
        int rc = hollow_blobstore_get_file(path, sizeof path, w->bs, &ok);
        if (rc == 0 && !verify(w, w->bs, other, 0, want, got, cap))
            w->failures++;
        hollow_blobstore_stats st;
        if (hollow_blobstore_stats_get(&st, w->bs) < 0)
            w->failures++;
    }
    free(want);
    free(got);
    return NULL;
}

static void run_workers(hollow_blobstore *bs)
{
    worker w[THREADS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < THREADS; i++) {
        w[i].bs = bs;
        w[i].id = i;
        ck_assert_int_eq(pthread_create(&w[i].t, NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(w[i].t, NULL);
    for (int i = 0; i < THREADS; i++)
        ck_assert_msg(w[i].failures == 0, "thread %d: %s", i, w[i].why);
}

static hollow_blobstore *store(const ht_s3 *srv, const char *prefix,
                               const char *cache)
{
    hollow_blobstore_s3_options o = HOLLOW_BLOBSTORE_S3_OPTIONS_INIT;
    o.endpoint = srv->endpoint;
    o.bucket = srv->bucket;
    o.prefix = prefix;
    o.access_key = o.secret_key = "S3RVER";
    o.cache_dir = cache;
    o.retry_min_ms = 10;
    o.retry_max_ms = 100;
    hollow_blobstore *bs = NULL;
    HT_OK(hollow_blobstore_s3_new(&bs, &o));
    return bs;
}

/* every blob readable by a store with an empty cache (so from S3) */
static void all_on_s3(const ht_s3 *srv, const char *prefix)
{
    char cache[PATH_MAX];
    make_tmpdir(cache, sizeof cache);
    hollow_blobstore *fresh = store(srv, prefix, cache);
    worker w;
    memset(&w, 0, sizeof w);
    size_t cap = 64 * 1024;
    uint8_t *want = malloc(cap), *got = malloc(cap);
    for (int id = 0; id < THREADS; id++)
        for (int i = 0; i < KEYS_PER_THREAD; i++)
            ck_assert_msg(verify(&w, fresh, id, i, want, got, cap), "%s",
                          w.why);
    hollow_blobstore_stats st;
    HT_OK(hollow_blobstore_stats_get(&st, fresh));
    ck_assert_uint_eq(st.cache_misses, THREADS * KEYS_PER_THREAD);
    free(want);
    free(got);
    hollow_blobstore_free(fresh);
}

/* eight threads putting and getting through one store, S3 up */
START_TEST(s3_threads_concurrent_put_get)
{
    ht_s3 srv;
    char state[PATH_MAX], cache[PATH_MAX];
    make_tmpdir(state, sizeof state);
    make_tmpdir(cache, sizeof cache);
    ht_s3_start(&srv, state, "hollow-test");
    hollow_blobstore *bs = store(&srv, "up", cache);
    run_workers(bs);
    hollow_blobstore_stats st;
    HT_OK(hollow_blobstore_stats_get(&st, bs));
    ck_assert_uint_eq(st.uploads, THREADS * KEYS_PER_THREAD);
    ck_assert_uint_eq(st.pending, 0);
    hollow_blobstore_free(bs);
    all_on_s3(&srv, "up");
    ht_s3_stop(&srv);
}
END_TEST

typedef struct toggler {
    ht_s3 *srv;
    pthread_mutex_t mu;
    bool done;
} toggler;

/* stop and restart the server while the workers run */
static void *toggle(void *arg)
{
    toggler *t = arg;
    for (int round = 0; round < 3; round++) {
        ht_sleep_ms(150);
        ht_s3_stop(t->srv);
        ht_sleep_ms(300);
        ht_s3_restart(t->srv);
        pthread_mutex_lock(&t->mu);
        bool done = t->done;
        pthread_mutex_unlock(&t->mu);
        if (done)
            break;
    }
    return NULL;
}

/*
 * The same with the server stopped and started under the workers: puts
 * that meet it down queue (non-strict), the retrier uploads them in the
 * background, and after a flush every blob is on S3.
 */
START_TEST(s3_threads_puts_queue_while_server_flaps)
{
    ht_s3 srv;
    char state[PATH_MAX], cache[PATH_MAX];
    make_tmpdir(state, sizeof state);
    make_tmpdir(cache, sizeof cache);
    ht_s3_start(&srv, state, "hollow-test");
    hollow_blobstore *bs = store(&srv, "flap", cache);
    toggler t = {&srv, PTHREAD_MUTEX_INITIALIZER, false};
    pthread_t tt;
    ck_assert_int_eq(pthread_create(&tt, NULL, toggle, &t), 0);
    run_workers(bs);
    pthread_mutex_lock(&t.mu);
    t.done = true;
    pthread_mutex_unlock(&t.mu);
    pthread_join(tt, NULL);
    HT_OK(hollow_blobstore_s3_flush(bs, 30000));
    hollow_blobstore_stats st;
    HT_OK(hollow_blobstore_stats_get(&st, bs));
    ck_assert_uint_eq(st.pending, 0);
    ck_assert_uint_ge(st.uploads, THREADS * KEYS_PER_THREAD);
    hollow_blobstore_free(bs);
    all_on_s3(&srv, "flap");
    ht_s3_stop(&srv);
}
END_TEST

static Suite *s3_threads_suite(void)
{
    Suite *s = suite_create("blobstore_s3_threads");
    TCase *tc = tcase_create("threads");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_test(tc, s3_threads_concurrent_put_get);
    tcase_add_test(tc, s3_threads_puts_queue_while_server_flaps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(s3_threads_suite()); }
