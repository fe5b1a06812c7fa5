/*
 * The consumer's listener contract (consumer.h): a listener runs with the
 * refresh lock held, so the calls that take that lock are refused with
 * HOLLOW_ESTATE instead of deadlocking, on the caller's thread and on the
 * watcher's; a listener keeps the event's state without a cast; a failed
 * refresh on the watcher thread is logged through hollow_set_log().
 *
 * Every test runs under a short Check timeout: a deadlock fails the test
 * instead of hanging the suite.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hollow/hollow.h"
#include "movie_fixture.h"
#include "testhelp.h"

#define TIMEOUT_S 60
#define WAIT_MS 20000

static const char *const movie_key[] = {"id"};

/* what a re-entering listener saw, per call */
typedef struct reentry {
    hollow_consumer *c;
    hollow_consumer *other; /* a second consumer: calls on it are allowed */
    int64_t target;         /* a version the listener tries to reach */
    int calls;              /* listener invocations */
    int rc_refresh, rc_pin, rc_add_listener, rc_add_index, rc_wait;
    int rc_unpin, rc_other_refresh;
    int64_t version_seen;   /* hollow_consumer_version() from the listener */
    bool acquired;          /* hollow_consumer_acquire_state() worked */
    char msg[512];          /* the message of the refused refresh */
} reentry;

static void noop_listener(const hollow_refresh_event *ev, void *payload)
{
    (void)ev;
    (void)payload;
}

/* on the "after" event of a success, try every call the header names */
static void reentering_listener(const hollow_refresh_event *ev, void *payload)
{
    reentry *r = payload;
    if (!ev->done || ev->result != 0)
        return;
    r->calls++;
    r->rc_refresh = hollow_consumer_refresh(r->c, r->target);
    snprintf(r->msg, sizeof r->msg, "%s", hollow_error_last()->message);
    r->rc_pin = hollow_consumer_pin(r->c, r->target);
    r->rc_add_listener = hollow_consumer_add_listener(r->c, noop_listener, NULL);
    int handle = -1;
    r->rc_add_index = hollow_consumer_add_index(&handle, r->c,
                                                HOLLOW_INDEX_PRIMARY_KEY, "Movie",
                                                movie_key, 1);
    r->rc_wait = hollow_consumer_wait_for_version(r->c, r->target, 5000);
    r->rc_unpin = hollow_consumer_unpin(r->c);
    r->version_seen = hollow_consumer_version(r->c);
    hollow_read_state *rs = hollow_consumer_acquire_state(r->c);
    r->acquired = rs != NULL;
    hollow_read_state_release(rs);
    if (r->other != NULL)
        r->rc_other_refresh = hollow_consumer_refresh(r->other, ev->to_version);
}

START_TEST(listener_reentry_is_refused_not_deadlocked)
{
    hollow_blobstore *bs = mem_store();
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, NULL, schemas, 0, true);
    int64_t v1 = cycle_spec(p, (spec){0, 40, 0, 1, false});
    int64_t v2 = cycle_spec(p, (spec){0, 45, 1, 1, false});
    ck_assert_int_eq(v1, 1);
    ck_assert_int_eq(v2, 2);

    hollow_consumer *c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    hollow_consumer *other = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP,
                                          NULL);
    reentry r;
    memset(&r, 0, sizeof r);
    r.c = c;
    r.other = other;
    r.target = v2;
    HT_OK(hollow_consumer_add_listener(c, reentering_listener, &r));

    HT_OK(hollow_consumer_refresh(c, v1));
    ck_assert_int_eq(r.calls, 1);
    ck_assert_int_eq(r.rc_refresh, HOLLOW_ESTATE);
    ck_assert_msg(strstr(r.msg, "hollow_consumer_refresh called from a refresh "
                                "listener") != NULL, "message: %s", r.msg);
    ck_assert_int_eq(r.rc_pin, HOLLOW_ESTATE);
    ck_assert_int_eq(r.rc_add_listener, HOLLOW_ESTATE);
    ck_assert_int_eq(r.rc_add_index, HOLLOW_ESTATE);
    ck_assert_int_eq(r.rc_wait, HOLLOW_ESTATE);
    /* the calls that do not take the refresh lock work */
    ck_assert_int_eq(r.rc_unpin, 0);
    ck_assert_int_eq(r.version_seen, v1); /* published before the listener */
    ck_assert(r.acquired);
    ck_assert_int_eq(r.rc_other_refresh, 0);
    ck_assert_int_eq(hollow_consumer_version(other), v1);

    /* nothing the refused calls did stuck: not pinned, no index kept, the
     * consumer still refreshes (and its listener still refuses) */
    ck_assert_ptr_null(hollow_consumer_acquire_index(c, 0));
    ck_assert_int_eq(hollow_consumer_version(c), v1);
    HT_OK(hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST));
    ck_assert_int_eq(hollow_consumer_version(c), v2);
    ck_assert_int_eq(r.calls, 2);
    ck_assert_int_eq(r.rc_refresh, HOLLOW_ESTATE);

    /* outside a listener the same calls work */
    int handle = -1;
    HT_OK(hollow_consumer_add_index(&handle, c, HOLLOW_INDEX_PRIMARY_KEY,
                                    "Movie", movie_key, 1));
    hollow_index *ix = hollow_consumer_acquire_index(c, handle);
    ck_assert_ptr_nonnull(ix);
    hollow_index_release(ix);
    HT_OK(hollow_consumer_wait_for_version(c, v2, 0));

    hollow_consumer_free(other);
    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

/* a listener on the watcher thread that calls back in: the watcher must go
 * on following */
typedef struct watcher_reentry {
    _Atomic(hollow_consumer *) c;
    atomic_int refused;   /* refreshes refused with HOLLOW_ESTATE */
    atomic_int other_rc;  /* any other result (should stay 0) */
} watcher_reentry;

static void watcher_listener(const hollow_refresh_event *ev, void *payload)
{
    watcher_reentry *w = payload;
    hollow_consumer *c = atomic_load(&w->c);
    if (!ev->done || c == NULL)
        return;
    int rc = hollow_consumer_refresh(c, HOLLOW_VERSION_LATEST);
    if (rc == HOLLOW_ESTATE)
        atomic_fetch_add(&w->refused, 1);
    else
        atomic_store(&w->other_rc, rc == 0 ? -1000 : rc);
}

START_TEST(listener_on_watcher_thread_reentry_is_refused)
{
    hollow_blobstore *bs = mem_store();
    hollow_announcer *ann = NULL;
    HT_OK(hollow_announcer_inproc_new(&ann, NULL));
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, ann, schemas, 0, true);
    int64_t v1 = cycle_spec(p, (spec){0, 30, 0, 1, false});

    watcher_reentry w;
    atomic_init(&w.c, NULL);
    atomic_init(&w.refused, 0);
    atomic_init(&w.other_rc, 0);
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    co.announcer = ann;
    co.follow = true;
    co.listener = watcher_listener;
    co.listener_payload = &w;
    hollow_consumer *c = NULL;
    HT_OK(hollow_consumer_new(&c, &co));
    atomic_store(&w.c, c);
    HT_OK(hollow_consumer_wait_for_version(c, v1, WAIT_MS));

    /* every later announcement is followed, each listener call refused */
    int64_t v = v1;
    for (int i = 1; i <= 3; i++) {
        v = cycle_spec(p, (spec){0, 30 + i, i, 1, false});
        HT_OK(hollow_consumer_wait_for_version(c, v, WAIT_MS));
    }
    ck_assert_int_eq(hollow_consumer_version(c), v);
    ck_assert_int_ge(atomic_load(&w.refused), 3);
    ck_assert_int_eq(atomic_load(&w.other_rc), 0);
    ck_assert_int_eq(hollow_consumer_last_error(c, NULL, 0), 0);

    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_announcer_free(ann);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

/* the listener keeps the state of each refresh, no cast needed */
typedef struct keeper {
    hollow_read_state *kept[4];
    int n;
} keeper;

static void keeping_listener(const hollow_refresh_event *ev, void *payload)
{
    keeper *k = payload;
    if (ev->done && ev->state != NULL && k->n < 4)
        k->kept[k->n++] = hollow_read_state_acquire(ev->state);
}

START_TEST(listener_keeps_event_state_past_the_callback)
{
    hollow_blobstore *bs = mem_store();
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, NULL, schemas, 0, true);
    int64_t v1 = cycle_spec(p, (spec){0, 20, 0, 2, false});
    int64_t v2 = cycle_spec(p, (spec){5, 30, 1, 1, false});

    ck_assert_ptr_null(hollow_read_state_acquire(NULL));
    hollow_consumer *c = consumer_new(bs, NULL, false, HOLLOW_MEMORY_HEAP, NULL);
    keeper k;
    memset(&k, 0, sizeof k);
    HT_OK(hollow_consumer_add_listener(c, keeping_listener, &k));
    HT_OK(hollow_consumer_refresh(c, v1));
    HT_OK(hollow_consumer_refresh(c, v2));
    ck_assert_int_eq(k.n, 2);
    char *dump_v1 = dump_state(k.kept[0]);

    /* the consumer moves back and forth and is freed: the kept states
     * stay as they were */
    HT_OK(hollow_consumer_refresh(c, v1));
    hollow_consumer_free(c);
    ck_assert_int_eq(hollow_read_state_version(k.kept[0]), v1);
    ck_assert_int_eq(hollow_read_state_version(k.kept[1]), v2);
    const hollow_type *m1 = hollow_read_state_type(k.kept[0], "Movie");
    const hollow_type *m2 = hollow_read_state_type(k.kept[1], "Movie");
    ck_assert_uint_eq(hollow_type_record_count(m1), 20);
    ck_assert_uint_eq(hollow_type_record_count(m2), 30);
    char *again = dump_state(k.kept[0]);
    ck_assert_dump_eq(again, dump_v1, "kept state after the consumer was freed");
    free(again);
    free(dump_v1);
    for (int i = 0; i < k.n; i++)
        hollow_read_state_release(k.kept[i]);

    hollow_producer_free(p);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

/* the plan text names every step of a long chain (it used to be cut at
 * 512 bytes) */
typedef struct plan_seen {
    char *before, *after;
} plan_seen;

static void plan_listener(const hollow_refresh_event *ev, void *payload)
{
    plan_seen *ps = payload;
    char **slot = ev->done ? &ps->after : &ps->before;
    free(*slot);
    *slot = strdup(ev->plan);
}

START_TEST(listener_plan_names_every_step_of_a_long_chain)
{
    enum { VERSIONS = 60 };
    hollow_blobstore *bs = mem_store();
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, NULL, schemas, VERSIONS, true);
    for (int i = 0; i < VERSIONS; i++)
        ck_assert_int_eq(cycle_spec(p, (spec){0, 10, i, 0, false}), i + 1);
    hollow_consumer_options co = HOLLOW_CONSUMER_OPTIONS_INIT;
    co.blobstore = bs;
    co.double_snapshot_limit = VERSIONS;
    hollow_consumer *c = NULL;
    HT_OK(hollow_consumer_new(&c, &co));
    plan_seen ps = {NULL, NULL};
    HT_OK(hollow_consumer_add_listener(c, plan_listener, &ps));
    HT_OK(hollow_consumer_refresh(c, 1));
    HT_OK(hollow_consumer_refresh(c, VERSIONS));
    ck_assert_ptr_nonnull(ps.before);
    ck_assert_ptr_nonnull(ps.after);
    ck_assert_str_eq(ps.before, ps.after);
    ck_assert_uint_gt(strlen(ps.after), 512);
    int steps = 0;
    for (const char *q = ps.after; (q = strstr(q, "delta-")) != NULL; q++)
        steps++;
    ck_assert_int_eq(steps, VERSIONS - 1);
    ck_assert_msg(strncmp(ps.after, "delta-1-2, delta-2-3, ", 22) == 0,
                  "plan: %.60s", ps.after);
    const char *last = ", delta-59-60";
    size_t n = strlen(ps.after);
    ck_assert_str_eq(ps.after + n - strlen(last), last);
    free(ps.before);
    free(ps.after);
    hollow_consumer_free(c);
    hollow_producer_free(p);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
}
END_TEST

/* --------------------------------------------------------------- logging */

typedef struct log_rec {
    pthread_mutex_t mu;
    int warnings, infos;
    char last_warning[1024];
    char last_info[1024];
} log_rec;

static void record_log(hollow_log_level level, const char *message, void *payload)
{
    log_rec *l = payload;
    pthread_mutex_lock(&l->mu);
    if (level == HOLLOW_LOG_WARN) {
        l->warnings++;
        snprintf(l->last_warning, sizeof l->last_warning, "%s", message);
    } else if (level == HOLLOW_LOG_INFO) {
        l->infos++;
        snprintf(l->last_info, sizeof l->last_info, "%s", message);
    }
    pthread_mutex_unlock(&l->mu);
}

static int warnings_of(log_rec *l)
{
    pthread_mutex_lock(&l->mu);
    int n = l->warnings;
    pthread_mutex_unlock(&l->mu);
    return n;
}

static int infos_of(log_rec *l)
{
    pthread_mutex_lock(&l->mu);
    int n = l->infos;
    pthread_mutex_unlock(&l->mu);
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

START_TEST(watcher_failure_is_logged_as_warning)
{
    log_rec l;
    memset(&l, 0, sizeof l);
    pthread_mutex_init(&l.mu, NULL);
    HT_OK(hollow_set_log(HOLLOW_LOG_INFO, record_log, &l));

    hollow_blobstore *bs = mem_store();
    hollow_announcer *ann = NULL;
    HT_OK(hollow_announcer_inproc_new(&ann, NULL));
    hollow_schema_list *schemas = schemas_new();
    hollow_producer *p = producer_new(bs, ann, schemas, 0, true);
    int64_t v1 = cycle_spec(p, (spec){0, 10, 0, 1, false});
    hollow_consumer *c = consumer_new(bs, ann, true, HOLLOW_MEMORY_HEAP, NULL);
    HT_OK(hollow_consumer_wait_for_version(c, v1, WAIT_MS));
    /* the successful refresh is an info message, logged after the refresh
     * lock is released (so maybe just after the version is published) */
    for (int waited = 0; infos_of(&l) == 0 && waited < WAIT_MS; waited += 5)
        sleep_ms(5);
    pthread_mutex_lock(&l.mu);
    ck_assert_int_ge(l.infos, 1);
    ck_assert_msg(strstr(l.last_info, "consumer refreshed 0 -> 1") != NULL,
                  "info: %s", l.last_info);
    pthread_mutex_unlock(&l.mu);
    ck_assert_int_eq(warnings_of(&l), 0);

    /* a version no blob reaches: the watcher fails, on its own thread */
    HT_OK(hollow_announcer_announce(ann, 999));
    for (int waited = 0; warnings_of(&l) == 0 && waited < WAIT_MS; waited += 5)
        sleep_ms(5);
    pthread_mutex_lock(&l.mu);
    ck_assert_int_ge(l.warnings, 1);
    ck_assert_msg(strstr(l.last_warning, "consumer watcher: refresh failed") &&
                      strstr(l.last_warning, "999"),
                  "warning: %s", l.last_warning);
    pthread_mutex_unlock(&l.mu);
    ck_assert_int_eq(hollow_consumer_last_error(c, NULL, 0), HOLLOW_ENOTFOUND);
    ck_assert_int_eq(hollow_consumer_version(c), v1);

    hollow_consumer_free(c);
    HT_OK(hollow_set_log(HOLLOW_LOG_WARN, NULL, NULL));
    hollow_producer_free(p);
    hollow_announcer_free(ann);
    hollow_blobstore_free(bs);
    hollow_schema_list_free(schemas);
    pthread_mutex_destroy(&l.mu);
}
END_TEST

/* a follower started before anything is announced is waiting, not failing */
START_TEST(watcher_waiting_for_first_announcement_is_no_warning)
{
    log_rec l;
    memset(&l, 0, sizeof l);
    pthread_mutex_init(&l.mu, NULL);
    HT_OK(hollow_set_log(HOLLOW_LOG_WARN, record_log, &l));
    hollow_blobstore *bs = mem_store();
    hollow_announcer *ann = NULL;
    HT_OK(hollow_announcer_inproc_new(&ann, NULL));
    hollow_consumer *c = consumer_new(bs, ann, true, HOLLOW_MEMORY_HEAP, NULL);
    /* the first refresh runs at start: wait for its verdict */
    for (int waited = 0; hollow_consumer_last_error(c, NULL, 0) == 0 &&
                         waited < WAIT_MS; waited += 5)
        sleep_ms(5);
    ck_assert_int_eq(hollow_consumer_last_error(c, NULL, 0), HOLLOW_ENOTFOUND);
    hollow_consumer_free(c); /* joins the watcher: its verdict is logged */
    ck_assert_msg(warnings_of(&l) == 0, "warning: %s", l.last_warning);
    HT_OK(hollow_set_log(HOLLOW_LOG_WARN, NULL, NULL));
    hollow_announcer_free(ann);
    hollow_blobstore_free(bs);
    pthread_mutex_destroy(&l.mu);
}
END_TEST

static Suite *consumer_listener_suite(void)
{
    Suite *s = suite_create("consumer_listener");
    TCase *tc = tcase_create("reentry");
    tcase_set_timeout(tc, TIMEOUT_S);
    tcase_add_test(tc, listener_reentry_is_refused_not_deadlocked);
    tcase_add_test(tc, listener_on_watcher_thread_reentry_is_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("event");
    tcase_set_timeout(tc, TIMEOUT_S);
    tcase_add_test(tc, listener_keeps_event_state_past_the_callback);
    tcase_add_test(tc, listener_plan_names_every_step_of_a_long_chain);
    suite_add_tcase(s, tc);

    tc = tcase_create("log");
    tcase_set_timeout(tc, TIMEOUT_S);
    tcase_add_test(tc, watcher_failure_is_logged_as_warning);
    tcase_add_test(tc, watcher_waiting_for_first_announcement_is_no_warning);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_run_suite(consumer_listener_suite()); }
