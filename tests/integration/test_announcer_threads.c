/*
 * The in-process announcer (hollow/announcer.h, src/announcer/hub.c):
 * subscription and ordering (callbacks and descriptors, subscribing and
 * unsubscribing from inside a callback, many threads subscribing while
 * announcements flow), pinning and unpinning with notification,
 * wait_for_version with both outcomes, dead subscribers removed (a failing
 * callback, a closed descriptor), a full queue refused at once, stats, and
 * unsubscribe waiting for a running callback. Waits use condition
 * variables and wait_for_version with bounded timeouts; the only sleeps
 * are the short ones that show something does NOT happen. Run under
 * ThreadSanitizer by `make test`.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "announce_rec.h"
#include "announcer/hub.h"
#include "common/clock.h"
#include "hollow/announcer.h"
#include "testhelp.h"

#define TIMEOUT_MS 10000

/* ---------------------------------------------------------- helpers */

static hollow_announcer *new_announcer(size_t capacity)
{
    hollow_announcer_inproc_options o = HOLLOW_ANNOUNCER_INPROC_OPTIONS_INIT;
    o.queue_capacity = capacity;
    hollow_announcer *a = NULL;
    HT_OK(hollow_announcer_inproc_new(&a, &o));
    ck_assert_ptr_nonnull(a);
    return a;
}

/* read `n` versions from a descriptor subscription, polling for them */
static int fd_read_n(int fd, int64_t *out, int n)
{
    int got = 0;
    int64_t end = ht_now_ms() + TIMEOUT_MS;
    while (got < n && ht_now_ms() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, 100);
        size_t k;
        int rc = hollow_announcer_fd_read(out + got, (size_t)(n - got), &k, fd);
        if (rc < 0)
            break;
        got += (int)k;
    }
    return got;
}

/* ---------------------------------------------------------- ordering */

START_TEST(announcer_subscription_and_ordering)
{
    hollow_announcer *a = new_announcer(2048);
    ht_rec r[3];
    hollow_subscription_id id[3];
    for (int i = 0; i < 3; i++) {
        ht_rec_init(&r[i]);
        HT_OK(hollow_announcer_subscribe(&id[i], a, ht_rec_cb, &r[i]));
        ck_assert_uint_ne(id[i], 0);
    }
    ck_assert_uint_ne(id[0], id[1]);
    int fd;
    hollow_subscription_id fid;
    HT_OK(hollow_announcer_subscribe_fd(&fd, &fid, a));
    ck_assert_int_ge(fd, 0);

    for (int64_t v = 1; v <= 1000; v++)
        HT_OK(hollow_announcer_announce(a, v));
    for (int i = 0; i < 3; i++) {
        ck_assert(ht_rec_wait(&r[i], 1000, TIMEOUT_MS));
        ht_rec_expect_range(&r[i], 1, 1000);
        ck_assert_msg(r[i].off_main, "callback ran on the announcing thread");
    }
    static int64_t got[1000];
    ck_assert_int_eq(fd_read_n(fd, got, 1000), 1000);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(got[i], i + 1);
    size_t k;
    HT_OK(hollow_announcer_fd_read(got, 10, &k, fd)); /* nothing more */
    ck_assert_int_eq(k, 0);

    /* a late subscriber sees exactly what comes after it subscribed */
    ht_rec late;
    ht_rec_init(&late);
    hollow_subscription_id lid;
    HT_OK(hollow_announcer_subscribe(&lid, a, ht_rec_cb, &late));
    for (int64_t v = 1001; v <= 1010; v++)
        HT_OK(hollow_announcer_announce(a, v));
    ck_assert(ht_rec_wait(&late, 10, TIMEOUT_MS));
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    ht_rec_expect_range(&late, 1001, 1010);
    ht_rec_expect_range(&r[0], 1, 1010);

    /* after unsubscribe: nothing more, and the descriptor reads EOF */
    HT_OK(hollow_announcer_unsubscribe(a, id[1]));
    HT_OK(hollow_announcer_unsubscribe(a, fid));
    ck_assert_int_eq(hollow_announcer_unsubscribe(a, id[1]), HOLLOW_ENOTFOUND);
    HT_OK(hollow_announcer_announce(a, 1011));
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    ht_rec_expect_range(&r[1], 1, 1010);
    ht_rec_expect_range(&r[0], 1, 1011);
    ck_assert_int_eq(fd_read_n(fd, got, 20), 10); /* 1001..1010 were queued */
    ck_assert_int_eq(got[9], 1010);
    ck_assert_int_eq(hollow_announcer_fd_read(got, 10, &k, fd), HOLLOW_ESTATE);
    close(fd);

    int64_t latest;
    HT_OK(hollow_announcer_latest(&latest, a));
    ck_assert_int_eq(latest, 1011);
    ck_assert_int_eq(hollow_announcer_announce(a, -1), HOLLOW_EINVAL);
    hollow_announcer_free(a);
    for (int i = 0; i < 3; i++)
        ht_rec_destroy(&r[i]);
    ht_rec_destroy(&late);
}
END_TEST

/* a callback that subscribes a second recorder on its 2nd call and
 * unsubscribes itself on its 4th */
typedef struct nested {
    hollow_announcer *a;
    ht_rec *other;
    hollow_subscription_id self;
    hollow_subscription_id other_id;
    int calls;
    int64_t seen[16];
} nested;

static int nested_cb(int64_t version, void *payload)
{
    nested *n = payload;
    n->seen[n->calls++] = version;
    if (n->calls == 2)
        HT_OK(hollow_announcer_subscribe(&n->other_id, n->a, ht_rec_cb, n->other));
    if (n->calls == 4) {
        HT_OK(hollow_announcer_unsubscribe(n->a, n->self));
        ck_assert_int_eq(hollow_announcer_unsubscribe(n->a, n->self),
                         HOLLOW_ENOTFOUND);
        ck_assert_int_eq(hollow_announcer_drain(n->a, 0), HOLLOW_ESTATE);
    }
    return 0;
}

START_TEST(announcer_subscribe_and_unsubscribe_inside_callbacks)
{
    hollow_announcer *a = new_announcer(64);
    ht_rec other;
    ht_rec_init(&other);
    nested n;
    memset(&n, 0, sizeof n);
    n.a = a;
    n.other = &other;
    HT_OK(hollow_announcer_subscribe(&n.self, a, nested_cb, &n));
    for (int64_t v = 1; v <= 8; v++) {
        HT_OK(hollow_announcer_announce(a, v));
        HT_OK(hollow_announcer_drain(a, TIMEOUT_MS)); /* one batch each */
    }
    ck_assert_int_eq(n.calls, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(n.seen[i], i + 1);
    /* subscribed during the delivery of 2: starts with 3 */
    ht_rec_expect_range(&other, 3, 8);
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert_uint_eq(st.subscribers, 1);
    ck_assert_uint_eq(st.removed, 0); /* unsubscribed, not removed */
    hollow_announcer_free(a);
    ht_rec_destroy(&other);
}
END_TEST

/* many threads subscribe and unsubscribe while announcements flow; every
 * subscriber must see consecutive versions */
typedef struct checker {
    atomic_llong last; /* last version seen, -1 at first */
    atomic_int bad;
    atomic_int calls;
} checker;

static int checker_cb(int64_t version, void *payload)
{
    checker *c = payload;
    long long last = atomic_load(&c->last);
    if (last >= 0 && version != last + 1)
        atomic_store(&c->bad, 1);
    atomic_store(&c->last, version);
    atomic_fetch_add(&c->calls, 1);
    return 0;
}

typedef struct churn_arg {
    hollow_announcer *a;
    checker c[50];
} churn_arg;

static void *churn(void *p)
{
    churn_arg *ca = p;
    for (int i = 0; i < 50; i++) {
        atomic_init(&ca->c[i].last, -1);
        atomic_init(&ca->c[i].bad, 0);
        atomic_init(&ca->c[i].calls, 0);
        hollow_subscription_id id;
        HT_OK(hollow_announcer_subscribe(&id, ca->a, checker_cb, &ca->c[i]));
        if (i % 2 == 0) {
            sched_yield();
            HT_OK(hollow_announcer_unsubscribe(ca->a, id));
        }
    }
    return NULL;
}

START_TEST(announcer_concurrent_subscribers_see_consecutive_versions)
{
    hollow_announcer *a = new_announcer(256);
    static churn_arg ca[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        ca[i].a = a;
        ck_assert_int_eq(pthread_create(&t[i], NULL, churn, &ca[i]), 0);
    }
    int64_t v = 1;
    for (int i = 0; i < 3000; i++) {
        int rc = hollow_announcer_announce(a, v);
        if (rc == HOLLOW_EBACKEND) { /* full: let the worker catch up */
            HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
            continue;
        }
        HT_OK(rc);
        v++;
    }
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    HT_OK(hollow_announcer_announce(a, v));
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 50; j++) {
            ck_assert_int_eq(atomic_load(&ca[i].c[j].bad), 0);
            if (j % 2 == 1) /* still subscribed: saw the last one */
                ck_assert_int_eq(atomic_load(&ca[i].c[j].last), v);
        }
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert_uint_eq(st.subscribers, 75);
    hollow_announcer_free(a);
}
END_TEST

/* ---------------------------------------------------------- pinning */

START_TEST(announcer_pin_and_unpin_notify_subscribers)
{
    hollow_announcer *a = new_announcer(64);
    ht_rec r;
    ht_rec_init(&r);
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe(&id, a, ht_rec_cb, &r));
    int fd;
    hollow_subscription_id fid;
    HT_OK(hollow_announcer_subscribe_fd(&fd, &fid, a));

    ck_assert_int_eq(hollow_announcer_unpin(a), HOLLOW_ESTATE);
    HT_OK(hollow_announcer_announce(a, 5));
    HT_OK(hollow_announcer_pin(a, 3));
    ck_assert(ht_rec_wait(&r, 2, TIMEOUT_MS));
    int64_t latest;
    HT_OK(hollow_announcer_latest(&latest, a));
    ck_assert_int_eq(latest, 3);
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert(st.pinned);
    ck_assert_int_eq(st.pinned_version, 3);
    ck_assert_int_eq(st.latest, 5);

    /* announcements while pinned: the real latest moves, nobody is told */
    HT_OK(hollow_announcer_announce(a, 6));
    HT_OK(hollow_announcer_announce(a, 7));
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    HT_OK(hollow_announcer_latest(&latest, a));
    ck_assert_int_eq(latest, 3);
    HT_OK(hollow_announcer_wait_for_version(a, 3, 0));
    ck_assert_int_eq(hollow_announcer_wait_for_version(a, 6, 20), HOLLOW_ENOTFOUND);
    ck_assert_int_eq(ht_rec_count(&r), 2);

    /* moving the pin tells them again; unpin tells the real latest */
    HT_OK(hollow_announcer_pin(a, 4));
    HT_OK(hollow_announcer_unpin(a));
    ck_assert(ht_rec_wait(&r, 4, TIMEOUT_MS));
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    ck_assert_int_eq(ht_rec_count(&r), 4);
    ck_assert_int_eq(r.v[0], 5);
    ck_assert_int_eq(r.v[1], 3);
    ck_assert_int_eq(r.v[2], 4);
    ck_assert_int_eq(r.v[3], 7);
    int64_t got[8];
    ck_assert_int_eq(fd_read_n(fd, got, 4), 4);
    ck_assert_int_eq(got[0], 5);
    ck_assert_int_eq(got[1], 3);
    ck_assert_int_eq(got[2], 4);
    ck_assert_int_eq(got[3], 7);
    HT_OK(hollow_announcer_latest(&latest, a));
    ck_assert_int_eq(latest, 7);
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert(!st.pinned);
    HT_OK(hollow_announcer_wait_for_version(a, 7, 0));
    close(fd);
    hollow_announcer_free(a);
    ht_rec_destroy(&r);
}
END_TEST

START_TEST(announcer_pin_before_any_announcement)
{
    hollow_announcer *a = new_announcer(8);
    ht_rec r;
    ht_rec_init(&r);
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe(&id, a, ht_rec_cb, &r));
    int64_t latest = 99;
    ck_assert_int_eq(hollow_announcer_latest(&latest, a), HOLLOW_ENOTFOUND);
    HT_OK(hollow_announcer_pin(a, 10));
    HT_OK(hollow_announcer_latest(&latest, a));
    ck_assert_int_eq(latest, 10);
    HT_OK(hollow_announcer_unpin(a)); /* no real latest: nothing to tell */
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    ht_rec_expect_range(&r, 10, 10);
    ck_assert_int_eq(hollow_announcer_latest(&latest, a), HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow_announcer_pin(a, -2), HOLLOW_EINVAL);
    hollow_announcer_free(a);
    ht_rec_destroy(&r);
}
END_TEST

/* ---------------------------------------------------------- waiting */

typedef struct later {
    hollow_announcer *a;
    int64_t version;
    int delay_ms;
} later;

static void *announce_later(void *p)
{
    later *l = p;
    ht_sleep_ms(l->delay_ms);
    HT_OK(hollow_announcer_announce(l->a, l->version));
    return NULL;
}

START_TEST(announcer_wait_for_version_succeeds)
{
    hollow_announcer *a = new_announcer(8);
    later l = {a, 7, 30};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, announce_later, &l), 0);
    int64_t t0 = ht_now_ms();
    HT_OK(hollow_announcer_wait_for_version(a, 7, TIMEOUT_MS));
    double waited = (double)(ht_now_ms() - t0) / 1000.0;
    pthread_join(t, NULL);
    ck_assert_msg(waited < TIMEOUT_MS / 1000.0 / 2, "waited %.3f s", waited);
    /* already reached (or passed): at once, even with no time to wait */
    HT_OK(hollow_announcer_wait_for_version(a, 7, 0));
    HT_OK(hollow_announcer_wait_for_version(a, 2, 0));
    /* forever (negative timeout) also returns when reached */
    l.version = 9;
    l.delay_ms = 10;
    ck_assert_int_eq(pthread_create(&t, NULL, announce_later, &l), 0);
    HT_OK(hollow_announcer_wait_for_version(a, 9, -1));
    pthread_join(t, NULL);
    hollow_announcer_free(a);
}
END_TEST

START_TEST(announcer_wait_for_version_times_out)
{
    hollow_announcer *a = new_announcer(8);
    int64_t t0 = ht_now_ms();
    ck_assert_int_eq(hollow_announcer_wait_for_version(a, 100, 50),
                     HOLLOW_ENOTFOUND);
    double waited = (double)(ht_now_ms() - t0) / 1000.0;
    ck_assert_msg(waited >= 0.045 && waited < 5, "waited %.3f s", waited);
    ck_assert_msg(strstr(hollow_error_last()->message,
                         "timed out waiting for version 100") != NULL,
                  "message: %s", hollow_error_last()->message);
    HT_OK(hollow_announcer_announce(a, 99));
    ck_assert_int_eq(hollow_announcer_wait_for_version(a, 100, 0),
                     HOLLOW_ENOTFOUND);
    ck_assert_msg(strstr(hollow_error_last()->message, "latest 99") != NULL,
                  "message: %s", hollow_error_last()->message);
    hollow_announcer_free(a);
}
END_TEST

/* ---------------------------------------------------------- removal */

START_TEST(announcer_failing_callback_is_removed)
{
    hollow_announcer *a = new_announcer(64);
    ht_rec failing, healthy;
    ht_rec_init(&failing);
    ht_rec_init(&healthy);
    failing.fail_at = 3;
    hollow_subscription_id fid, hid;
    HT_OK(hollow_announcer_subscribe(&fid, a, ht_rec_cb, &failing));
    HT_OK(hollow_announcer_subscribe(&hid, a, ht_rec_cb, &healthy));
    for (int64_t v = 1; v <= 6; v++)
        HT_OK(hollow_announcer_announce(a, v));
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    ht_rec_expect_range(&failing, 1, 3);
    ht_rec_expect_range(&healthy, 1, 6);
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert_uint_eq(st.subscribers, 1);
    ck_assert_uint_eq(st.removed, 1);
    ck_assert_uint_eq(st.delivered, 2 + 6); /* the failing call is not one */
    ck_assert_int_eq(hollow_announcer_unsubscribe(a, fid), HOLLOW_ENOTFOUND);
    hollow_announcer_free(a);
    ht_rec_destroy(&failing);
    ht_rec_destroy(&healthy);
}
END_TEST

START_TEST(announcer_closed_descriptor_is_removed)
{
    hollow_announcer *a = new_announcer(64);
    int fd1, fd2;
    hollow_subscription_id id1, id2;
    HT_OK(hollow_announcer_subscribe_fd(&fd1, &id1, a));
    HT_OK(hollow_announcer_subscribe_fd(&fd2, &id2, a));
    HT_OK(hollow_announcer_announce(a, 1));
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    close(fd1); /* the subscriber went away without unsubscribing */
    /* a write to the closed pipe must not kill us with SIGPIPE */
    HT_OK(hollow_announcer_announce(a, 2));
    HT_OK(hollow_announcer_announce(a, 3));
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert_uint_eq(st.subscribers, 1);
    ck_assert_uint_eq(st.removed, 1);
    ck_assert_uint_eq(st.delivered, 1 + 3);
    int64_t got[4];
    ck_assert_int_eq(fd_read_n(fd2, got, 3), 3);
    ck_assert_int_eq(got[2], 3);
    ck_assert_int_eq(hollow_announcer_unsubscribe(a, id1), HOLLOW_ENOTFOUND);

    /* a subscriber that does not read loses versions, counted as lost */
    int fd3;
    hollow_subscription_id id3;
    HT_OK(hollow_announcer_subscribe_fd(&fd3, &id3, a));
    int64_t v = 4;
    for (int i = 0; i < 20000; i++) {
        int rc = hollow_announcer_announce(a, v);
        if (rc == HOLLOW_EBACKEND) {
            HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
            continue;
        }
        v++;
    }
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert_uint_gt(st.lost, 0);
    ck_assert_uint_eq(st.subscribers, 2);
    close(fd2);
    close(fd3);
    hollow_announcer_free(a);
}
END_TEST

/* ---------------------------------------------------------- full queue */

START_TEST(announcer_full_queue_returns_error_at_once)
{
    hollow_announcer *a = new_announcer(4);
    ht_rec r;
    ht_rec_init(&r);
    r.block = true;
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe(&id, a, ht_rec_cb, &r));
    HT_OK(hollow_announcer_announce(a, 1));
    ck_assert(ht_rec_wait_entered(&r, TIMEOUT_MS)); /* the worker is stuck in 1 */
    for (int64_t v = 2; v <= 5; v++)
        HT_OK(hollow_announcer_announce(a, v));
    int64_t t0 = ht_now_ms();
    ck_assert_int_eq(hollow_announcer_announce(a, 6), HOLLOW_EBACKEND);
    ck_assert_msg(ht_now_ms() - t0 < 1000, "a full queue blocked the caller");
    ck_assert_msg(strstr(hollow_error_last()->message, "queue full") != NULL,
                  "message: %s", hollow_error_last()->message);
    ck_assert_int_eq(hollow_announcer_pin(a, 1), HOLLOW_EBACKEND);
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert_uint_eq(st.dropped, 1);
    ck_assert_uint_eq(st.queued, 4);
    ck_assert_uint_eq(st.announced, 5);
    ck_assert(!st.pinned);
    int64_t latest;
    HT_OK(hollow_announcer_latest(&latest, a));
    ck_assert_int_eq(latest, 5); /* the refused one changed nothing */
    ck_assert_int_eq(hollow_announcer_drain(a, 10), HOLLOW_ENOTFOUND);

    ht_rec_release(&r);
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    ht_rec_expect_range(&r, 1, 5);
    HT_OK(hollow_announcer_announce(a, 6)); /* room again */
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    ht_rec_expect_range(&r, 1, 6);
    hollow_announcer_free(a);
    ht_rec_destroy(&r);
}
END_TEST

/* ---------------------------------------------------------- stats */

START_TEST(announcer_stats_count_everything)
{
    hollow_announcer *a = new_announcer(16);
    hollow_announcer_stats st;
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert_uint_eq(st.subscribers, 0);
    ck_assert(!st.has_latest);
    ht_rec r[4];
    hollow_subscription_id id[4];
    for (int i = 0; i < 4; i++) {
        ht_rec_init(&r[i]);
        HT_OK(hollow_announcer_subscribe(&id[i], a, ht_rec_cb, &r[i]));
    }
    int fd;
    hollow_subscription_id fid;
    HT_OK(hollow_announcer_subscribe_fd(&fd, &fid, a));
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert_uint_eq(st.subscribers, 5);
    for (int64_t v = 10; v < 20; v++)
        HT_OK(hollow_announcer_announce(a, v));
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    HT_OK(hollow_announcer_unsubscribe(a, id[0]));
    HT_OK(hollow_announcer_pin(a, 12));
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    HT_OK(hollow_announcer_stats_get(&st, a));
    ck_assert_uint_eq(st.subscribers, 4);
    ck_assert_uint_eq(st.announced, 10);
    ck_assert_uint_eq(st.delivered, 5 * 10 + 4);
    ck_assert_uint_eq(st.dropped, 0);
    ck_assert_uint_eq(st.lost, 0);
    ck_assert_uint_eq(st.removed, 0);
    ck_assert_uint_eq(st.queued, 0);
    ck_assert(st.has_latest);
    ck_assert_int_eq(st.latest, 19);
    ck_assert(st.pinned);
    ck_assert_int_eq(st.pinned_version, 12);
    close(fd);
    hollow_announcer_free(a);
    for (int i = 0; i < 4; i++)
        ht_rec_destroy(&r[i]);
}
END_TEST

/* ---------------------------------------------------------- life cycle */

typedef struct unsub_arg {
    hollow_announcer *a;
    hollow_subscription_id id;
    atomic_int returned;
} unsub_arg;

static void *unsub_thread(void *p)
{
    unsub_arg *u = p;
    HT_OK(hollow_announcer_unsubscribe(u->a, u->id));
    atomic_store(&u->returned, 1);
    return NULL;
}

START_TEST(announcer_unsubscribe_waits_for_running_callback)
{
    hollow_announcer *a = new_announcer(8);
    ht_rec r;
    ht_rec_init(&r);
    r.block = true;
    unsub_arg u;
    u.a = a;
    atomic_init(&u.returned, 0);
    HT_OK(hollow_announcer_subscribe(&u.id, a, ht_rec_cb, &r));
    HT_OK(hollow_announcer_announce(a, 1));
    ck_assert(ht_rec_wait_entered(&r, TIMEOUT_MS));
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, unsub_thread, &u), 0);
    /* the unsubscribe is inside its wait for the batch, and stays there */
    hollow__hub *hub = hollow__inproc_hub(a);
    for (int i = 0; hollow__hub_unsub_waiters(hub) == 0; i++) {
        ck_assert_msg(i < TIMEOUT_MS, "unsubscribe never waited");
        ht_sleep_ms(1);
    }
    ck_assert_int_eq(atomic_load(&u.returned), 0);
    HT_OK(hollow_announcer_announce(a, 2)); /* queued behind the callback */
    ht_rec_release(&r);
    pthread_join(t, NULL);
    ck_assert_int_eq(atomic_load(&u.returned), 1);
    HT_OK(hollow_announcer_drain(a, TIMEOUT_MS));
    ht_rec_expect_range(&r, 1, 1); /* never called again after unsubscribe */
    hollow_announcer_free(a);
    ht_rec_destroy(&r);
}
END_TEST

START_TEST(announcer_free_delivers_queue_and_ends_descriptors)
{
    hollow_announcer *a = new_announcer(64);
    ht_rec r;
    ht_rec_init(&r);
    hollow_subscription_id id;
    HT_OK(hollow_announcer_subscribe(&id, a, ht_rec_cb, &r));
    int fd;
    hollow_subscription_id fid;
    HT_OK(hollow_announcer_subscribe_fd(&fd, &fid, a));
    for (int64_t v = 1; v <= 50; v++)
        HT_OK(hollow_announcer_announce(a, v));
    hollow_announcer_free(a); /* delivers what was accepted, then joins */
    ht_rec_expect_range(&r, 1, 50);
    int64_t got[64];
    size_t k;
    HT_OK(hollow_announcer_fd_read(got, 64, &k, fd));
    ck_assert_int_eq(k, 50);
    ck_assert_int_eq(hollow_announcer_fd_read(got, 64, &k, fd), HOLLOW_ESTATE);
    close(fd);
    ck_assert_int_eq(hollow_announcer_fd_read(got, 64, &k, -1), HOLLOW_EINVAL);
    ht_rec_destroy(&r);
    hollow_announcer_free(NULL);

    hollow_announcer_inproc_options o = HOLLOW_ANNOUNCER_INPROC_OPTIONS_INIT;
    o.queue_capacity = 0;
    ck_assert_int_eq(hollow_announcer_inproc_new(&a, &o), HOLLOW_EINVAL);
    ck_assert_ptr_null(a);
    HT_OK(hollow_announcer_inproc_new(&a, NULL)); /* defaults */
    hollow_announcer_free(a);
}
END_TEST

/* ---------------------------------------------------------- lease */

typedef struct racer {
    hollow_announcer *a;
    char name[32];
    atomic_int *winners;
    pthread_barrier_t *go;
} racer;

static void *race_for_lease(void *p)
{
    racer *r = p;
    pthread_barrier_wait(r->go);
    char holder[HOLLOW_LEASE_OWNER_MAX];
    int rc = hollow_announcer_lease(r->a, HOLLOW_LEASE_ACQUIRE, r->name, 60000,
                                    holder, sizeof holder);
    if (rc == 0)
        atomic_fetch_add(r->winners, 1);
    else
        ck_assert_msg(rc == HOLLOW_ESTATE && strncmp(holder, "racer-", 6) == 0,
                      "rc %d, holder '%s'", rc, holder);
    return NULL;
}

START_TEST(announcer_lease_has_one_holder)
{
    hollow_announcer *a = new_announcer(8);
    char holder[HOLLOW_LEASE_OWNER_MAX];
    HT_OK(hollow_announcer_lease(a, HOLLOW_LEASE_ACQUIRE, "p1", 60000, holder,
                                 sizeof holder));
    HT_OK(hollow_announcer_lease(a, HOLLOW_LEASE_ACQUIRE, "p1", 60000, NULL, 0));
    HT_OK(hollow_announcer_lease(a, HOLLOW_LEASE_CHECK, "p1", 0, NULL, 0));
    ck_assert_int_eq(hollow_announcer_lease(a, HOLLOW_LEASE_ACQUIRE, "p2", 60000,
                                            holder, sizeof holder),
                     HOLLOW_ESTATE);
    ck_assert_str_eq(holder, "p1");
    ck_assert_int_eq(hollow_announcer_lease(a, HOLLOW_LEASE_CHECK, "p2", 0, NULL, 0),
                     HOLLOW_ESTATE);
    ck_assert_int_eq(hollow_announcer_lease(a, HOLLOW_LEASE_RELEASE, "p2", 0, NULL, 0),
                     HOLLOW_ESTATE);
    HT_OK(hollow_announcer_lease(a, HOLLOW_LEASE_RELEASE, "p1", 0, NULL, 0));
    ck_assert_int_eq(hollow_announcer_lease(a, HOLLOW_LEASE_CHECK, "p1", 0, NULL, 0),
                     HOLLOW_ESTATE);
    HT_OK(hollow_announcer_lease(a, HOLLOW_LEASE_RELEASE, "p1", 0, NULL, 0));

    /* an expired lease belongs to nobody (the lease clock moved past it) */
    HT_OK(hollow_announcer_lease(a, HOLLOW_LEASE_ACQUIRE, "p2", 60000, NULL,
                                 0));
    HT_OK(hollow_announcer_lease(a, HOLLOW_LEASE_CHECK, "p2", 0, NULL, 0));
    hollow__clock_advance_ms(60001);
    ck_assert_int_eq(hollow_announcer_lease(a, HOLLOW_LEASE_CHECK, "p2", 0, NULL, 0),
                     HOLLOW_ESTATE);
    HT_OK(hollow_announcer_lease(a, HOLLOW_LEASE_ACQUIRE, "p1", 60000, NULL, 0));
    HT_OK(hollow_announcer_lease(a, HOLLOW_LEASE_RELEASE, "p1", 0, NULL, 0));

    ck_assert_int_eq(hollow_announcer_lease(a, HOLLOW_LEASE_ACQUIRE, "", 10, NULL, 0),
                     HOLLOW_EINVAL);
    ck_assert_int_eq(hollow_announcer_lease(a, HOLLOW_LEASE_ACQUIRE, "p1", 0, NULL, 0),
                     HOLLOW_EINVAL);

    /* eight threads race: exactly one wins */
    atomic_int winners;
    atomic_init(&winners, 0);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 8);
    racer r[8];
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        r[i].a = a;
        snprintf(r[i].name, sizeof r[i].name, "racer-%d", i);
        r[i].winners = &winners;
        r[i].go = &go;
        ck_assert_int_eq(pthread_create(&t[i], NULL, race_for_lease, &r[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(atomic_load(&winners), 1);
    pthread_barrier_destroy(&go);
    hollow_announcer_free(a);
}
END_TEST

static Suite *announcer_suite(void)
{
    Suite *s = suite_create("announcer");
    TCase *tc = tcase_create("ordering");
    tcase_add_test(tc, announcer_subscription_and_ordering);
    tcase_add_test(tc, announcer_subscribe_and_unsubscribe_inside_callbacks);
    tcase_add_test(tc, announcer_concurrent_subscribers_see_consecutive_versions);
    suite_add_tcase(s, tc);

    tc = tcase_create("pinning");
    tcase_add_test(tc, announcer_pin_and_unpin_notify_subscribers);
    tcase_add_test(tc, announcer_pin_before_any_announcement);
    suite_add_tcase(s, tc);

    tc = tcase_create("waiting");
    tcase_add_test(tc, announcer_wait_for_version_succeeds);
    tcase_add_test(tc, announcer_wait_for_version_times_out);
    suite_add_tcase(s, tc);

    tc = tcase_create("removal");
    tcase_add_test(tc, announcer_failing_callback_is_removed);
    tcase_add_test(tc, announcer_closed_descriptor_is_removed);
    suite_add_tcase(s, tc);

    tc = tcase_create("queue");
    tcase_add_test(tc, announcer_full_queue_returns_error_at_once);
    tcase_add_test(tc, announcer_stats_count_everything);
    suite_add_tcase(s, tc);

    tc = tcase_create("lifecycle");
    tcase_add_test(tc, announcer_unsubscribe_waits_for_running_callback);
    tcase_add_test(tc, announcer_free_delivers_queue_and_ends_descriptors);
    suite_add_tcase(s, tc);

    tc = tcase_create("lease");
    tcase_add_test(tc, announcer_lease_has_one_holder);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(announcer_suite()); }
