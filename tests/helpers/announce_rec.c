/* The announcement recorder (see announce_rec.h). */
#include "announce_rec.h"

#include <errno.h>
#include <string.h>

#include "testhelp.h"

void ht_rec_init(ht_rec *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->main_thread = pthread_self();
    r->off_main = true;
}

void ht_rec_destroy(ht_rec *r)
{
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

int ht_rec_cb(int64_t version, void *payload)
{
    ht_rec *r = payload;
    pthread_mutex_lock(&r->mu);
    if (pthread_equal(pthread_self(), r->main_thread))
        r->off_main = false;
    if (r->n < HT_REC_MAX)
        r->v[r->n] = version;
    r->n++;
    int call = r->n;
    if (r->block && call == 1) {
        r->entered = true;
        pthread_cond_broadcast(&r->cv);
        while (!r->release)
            pthread_cond_wait(&r->cv, &r->mu);
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return call == r->fail_at ? 1 : 0;
}

bool ht_rec_wait(ht_rec *r, int n, int ms)
{
    struct timespec dl = ht_deadline(ms);
    pthread_mutex_lock(&r->mu);
    int rc = 0;
    while (r->n < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&r->cv, &r->mu, &dl);
    bool ok = r->n >= n;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

bool ht_rec_wait_last(ht_rec *r, int64_t v, int ms)
{
    struct timespec dl = ht_deadline(ms);
    pthread_mutex_lock(&r->mu);
    int rc = 0;
    while ((r->n == 0 || r->v[(r->n - 1) % HT_REC_MAX] != v) &&
           rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&r->cv, &r->mu, &dl);
    bool ok = r->n > 0 && r->v[(r->n - 1) % HT_REC_MAX] == v;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

bool ht_rec_wait_entered(ht_rec *r, int ms)
{
    struct timespec dl = ht_deadline(ms);
    pthread_mutex_lock(&r->mu);
    int rc = 0;
    while (!r->entered && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&r->cv, &r->mu, &dl);
    bool ok = r->entered;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

void ht_rec_release(ht_rec *r)
{
    pthread_mutex_lock(&r->mu);
    r->release = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

int ht_rec_count(ht_rec *r)
{
    pthread_mutex_lock(&r->mu);
    int n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

void ht_rec_expect_range(ht_rec *r, int64_t first, int64_t last)
{
    pthread_mutex_lock(&r->mu);
    int n = r->n;
    int64_t v0 = n > 0 ? r->v[0] : -1;
    bool ok = n == (int)(last - first + 1);
    int bad = -1;
    for (int i = 0; ok && i < n && i < HT_REC_MAX; i++)
        if (r->v[i] != first + i) {
            ok = false;
            bad = i;
        }
    int64_t badv = bad >= 0 ? r->v[bad] : 0;
    pthread_mutex_unlock(&r->mu);
    ck_assert_msg(ok, "saw %d versions from %lld (at %d: %lld), want %lld..%lld",
                  n, (long long)v0, bad, (long long)badv, (long long)first,
                  (long long)last);
}

void ht_rec_expect_increasing(ht_rec *r, int64_t lo, int64_t hi)
{
    pthread_mutex_lock(&r->mu);
    int n = r->n < HT_REC_MAX ? r->n : HT_REC_MAX;
    int bad = -1;
    for (int i = 0; i < n && bad < 0; i++)
        if (r->v[i] < lo || r->v[i] > hi || (i > 0 && r->v[i] <= r->v[i - 1]))
            bad = i;
    int64_t bv = bad >= 0 ? r->v[bad] : 0;
    int64_t prev = bad > 0 ? r->v[bad - 1] : 0;
    pthread_mutex_unlock(&r->mu);
    ck_assert_msg(bad < 0, "delivery %d is %lld after %lld (range %lld..%lld)",
                  bad, (long long)bv, (long long)prev, (long long)lo,
                  (long long)hi);
}
