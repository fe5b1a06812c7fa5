/*
 * The S3 announcer: the announced version in the object
 * `[prefix/]announced.version` of an S3 store, ASCII decimal digits as
 * Java's filesystem announcer writes its file, watched by polling.
 *
 * Announcing goes through the store (hollow__s3_store_announce in
 * src/blobstore/s3.c), so that when S3 cannot be reached, or blobs put
 * before it are still pending, the announcement waits in the store's
 * journal behind them and the retrier uploads it after them. Reading goes
 * through the store too (hollow__s3_store_read_announced): a GET with
 * If-None-Match, so an unchanged object costs a 304, and a pending
 * announcement of this cache dir newer than the object counts as
 * announced.
 *
 * Threads. Besides the hub's delivery worker (hub.c) this announcer owns
 * a watcher thread that reads the object every poll_interval_ms (woken at
 * once by free()). As in the filesystem announcer, whoever feeds the hub
 * (announce, the watcher, latest, pin/unpin) holds `feed_lock`;
 * `last_seen` is the last version fed and `etag` the object's etag at the
 * last read that was fed, so a version is delivered once, in order, and
 * never after a newer one of ours. A version found at creation is the
 * latest but is not delivered. When S3 cannot be reached, latest() answers
 * the last version seen (the producer's cycle keeps running on the cache
 * and the journal).
 *
 * There is no lease over S3 (no compare-and-set here): lease and
 * announce_if are NULL, so a producer with its default lease runs without
 * one, and announce_if's check and announcement are two steps.
 */
#include <stdio.h>
#include <string.h>

#include "blobstore/s3_int.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/thread.h"
#include "hollow/sys/announcer.h"
#include "hub.h"

#define RETRY_MS 10

typedef struct s3_ann {
    hollow_announcer parent; /* must come first */
    hollow__hub hub;
    hollow_blobstore *store; /* borrowed */
    unsigned int poll_ms;
    hollow__thread watcher;
    hollow__mutex stop_mu;
    hollow__cond stop_cv;
    bool stop;

    hollow__mutex feed_lock; /* guards the fields below and feeding */
    bool has_seen;
    int64_t last_seen;
    char etag[128];
    bool failing; /* the last read failed (logged once per outage) */
} s3_ann;

#define SA(a) ((s3_ann *)(a))

/*
 * Read the object and feed a new version to the hub; feed_lock held.
 * Returns 0 (fed or unchanged; *v_out the latest known when `v_out`),
 * 1 when the queue is full (the etag is not kept, so the version is read
 * again next time), or an error of the read. The first failure of an
 * outage is copied to `warn` (else it is set to ""), for the caller to log
 * once it has let go of the lock.
 */
static int feed_locked(s3_ann *s, int64_t *v_out, char *warn, size_t cap)
{
    char etag[128];
    memcpy(etag, s->etag, sizeof etag);
    warn[0] = '\0';
    int64_t v = 0;
    int rc = hollow__s3_store_read_announced(s->store, &v, etag);
    if (rc < 0) {
        if (!s->failing && rc != HOLLOW_ENOTFOUND)
            snprintf(warn, cap, "%s", hollow_error_last()->message);
        s->failing = rc != HOLLOW_ENOTFOUND;
        return rc;
    }
    s->failing = false;
    if (rc == 0 && (!s->has_seen || v != s->last_seen)) {
        if (hollow__hub_check_room(&s->hub, false) < 0)
            return 1;
        hollow__hub_announce(&s->hub, v);
        s->last_seen = v;
        s->has_seen = true;
    }
    memcpy(s->etag, etag, sizeof etag);
    if (v_out != NULL)
        *v_out = rc == 0 ? v : s->last_seen;
    return 0;
}

static void *watcher_main(void *arg)
{
    s3_ann *s = arg;
    bool retry = false;
    for (;;) {
        hollow__mutex_lock(&s->stop_mu);
        struct timespec dl = hollow__deadline_ms(retry ? RETRY_MS : s->poll_ms);
        while (!s->stop)
            if (hollow__cond_wait_until(&s->stop_cv, &s->stop_mu, &dl))
                break;
        bool stop = s->stop;
        hollow__mutex_unlock(&s->stop_mu);
        if (stop)
            break;
        char warn[512];
        hollow__mutex_lock(&s->feed_lock);
        retry = feed_locked(s, NULL, warn, sizeof warn) == 1;
        hollow__mutex_unlock(&s->feed_lock);
        hollow_error_clear();
        if (warn[0] != '\0')
            hollow__log(HOLLOW_LOG_WARN, "s3 announcer: %s", warn);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The vtable                                                          */
/* ------------------------------------------------------------------ */

static int sa_announce(hollow_announcer *a, int64_t version)
{
    s3_ann *s = SA(a);
    hollow__mutex_lock(&s->feed_lock);
    int rc = hollow__hub_check_room(&s->hub, true);
    if (rc == 0)
        rc = hollow__s3_store_announce(s->store, version);
    if (rc == 0) {
        rc = hollow__hub_announce(&s->hub, version); /* room was checked */
        s->last_seen = version;
        s->has_seen = true;
    }
    hollow__mutex_unlock(&s->feed_lock);
    return rc;
}

/*
 * The object's version (or a pending newer one). S3 unreachable: the last
 * version seen, so that a producer's cycle goes on while its blobs and
 * announcement queue; nothing seen yet: the error.
 */
static int sa_latest(int64_t *out, hollow_announcer *a)
{
    s3_ann *s = SA(a);
    if (hollow__hub_pinned(out, &s->hub))
        return 0;
    char warn[512];
    hollow__mutex_lock(&s->feed_lock);
    int64_t v = 0;
    int rc = feed_locked(s, &v, warn, sizeof warn);
    if (rc == 1) { /* queue full: not fed, but it is what S3 says */
        rc = 0;
        v = s->last_seen;
    }
    if (rc == 0 && !s->has_seen)
        rc = hollow__error_set(HOLLOW_ENOTFOUND, "nothing announced yet");
    if (rc == HOLLOW_EIO && s->has_seen) {
        hollow_error_clear();
        v = s->last_seen;
        rc = 0;
    }
    hollow__mutex_unlock(&s->feed_lock);
    if (warn[0] != '\0')
        hollow__log(HOLLOW_LOG_WARN, "s3 announcer: %s", warn);
    if (rc == 0)
        *out = v;
    return rc;
}

static int sa_subscribe(hollow_subscription_id *id_out, hollow_announcer *a,
                        hollow_announcement_cb cb, void *payload)
{
    return hollow__hub_subscribe(id_out, &SA(a)->hub, cb, payload);
}

static int sa_subscribe_fd(int *fd_out, hollow_subscription_id *id_out,
                           hollow_announcer *a)
{
    return hollow__hub_subscribe_fd(fd_out, id_out, &SA(a)->hub);
}

static int sa_unsubscribe(hollow_announcer *a, hollow_subscription_id id)
{
    return hollow__hub_unsubscribe(&SA(a)->hub, id);
}

static int sa_pin(hollow_announcer *a, int64_t version)
{
    s3_ann *s = SA(a);
    hollow__mutex_lock(&s->feed_lock);
    int rc = hollow__hub_pin(&s->hub, version);
    hollow__mutex_unlock(&s->feed_lock);
    return rc;
}

static int sa_unpin(hollow_announcer *a)
{
    s3_ann *s = SA(a);
    hollow__mutex_lock(&s->feed_lock);
    int rc = hollow__hub_unpin(&s->hub);
    hollow__mutex_unlock(&s->feed_lock);
    return rc;
}

static int sa_wait(hollow_announcer *a, int64_t version, int timeout_ms)
{
    s3_ann *s = SA(a);
    char warn[512];
    hollow__mutex_lock(&s->feed_lock); /* catch up now, not at the next poll */
    feed_locked(s, NULL, warn, sizeof warn);
    hollow__mutex_unlock(&s->feed_lock);
    hollow_error_clear();
    if (warn[0] != '\0')
        hollow__log(HOLLOW_LOG_WARN, "s3 announcer: %s", warn);
    return hollow__hub_wait(&s->hub, version, timeout_ms);
}

static int sa_drain(hollow_announcer *a, int timeout_ms)
{
    return hollow__hub_drain(&SA(a)->hub, timeout_ms);
}

static int sa_stats(hollow_announcer_stats *out, hollow_announcer *a)
{
    hollow__hub_stats(out, &SA(a)->hub);
    return 0;
}

static void sa_free(hollow_announcer *a)
{
    s3_ann *s = SA(a);
    hollow__mutex_lock(&s->stop_mu);
    s->stop = true;
    hollow__cond_broadcast(&s->stop_cv);
    hollow__mutex_unlock(&s->stop_mu);
    hollow__thread_join(s->watcher);
    hollow__hub_destroy(&s->hub);
    hollow__mutex_destroy(&s->feed_lock);
    hollow__mutex_destroy(&s->stop_mu);
    hollow__cond_destroy(&s->stop_cv);
    hollow__free(s);
}

int hollow_announcer_s3_new(hollow_announcer **out,
                            const hollow_announcer_s3_options *opts)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "s3 announcer: out is NULL");
    *out = NULL;
    if (opts == NULL || opts->store == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "s3 announcer: no store given");
    HOLLOW_TRY(hollow__check_options_version(
        "s3 announcer", opts->version, HOLLOW_ANNOUNCER_S3_OPTIONS_VERSION));
    if (!hollow__s3_store_is(opts->store))
        return hollow__error_set(HOLLOW_EINVAL,
                                 "s3 announcer: the store is not an S3 store");
    s3_ann *s = hollow__calloc(1, sizeof *s);
    HOLLOW_CHECK_ALLOC(s);
    s->store = opts->store;
    s->poll_ms = opts->poll_interval_ms ? opts->poll_interval_ms : 1000;
    if (s->poll_ms > 86400000u)
        s->poll_ms = 86400000u;
    if (hollow__mutex_init(&s->feed_lock) != 0 ||
        hollow__mutex_init(&s->stop_mu) != 0 ||
        hollow__cond_init(&s->stop_cv) != 0) {
        hollow__free(s);
        return hollow__error_set(HOLLOW_ERROR, "s3 announcer: mutex init failed");
    }
    int rc;
    /* what S3 says now is the latest, not an announcement */
    int64_t v;
    if (hollow__s3_store_read_announced(s->store, &v, s->etag) == 0) {
        s->has_seen = true;
        s->last_seen = v;
    }
    hollow_error_clear();
    if ((rc = hollow__hub_init(&s->hub, opts->queue_capacity, opts->spin_us)) < 0)
        goto fail;
    if (s->has_seen)
        hollow__hub_set_latest(&s->hub, s->last_seen);
    int err = hollow__thread_create(&s->watcher, watcher_main, s);
    if (err != 0) {
        hollow__hub_destroy(&s->hub);
        rc = hollow__error_set_os(HOLLOW_ERROR, err,
                                  "cannot start the announcer's watcher");
        goto fail;
    }
    s->parent.version = HOLLOW_ANNOUNCER_VERSION;
    s->parent.announce = sa_announce;
    s->parent.latest = sa_latest;
    s->parent.subscribe = sa_subscribe;
    s->parent.subscribe_fd = sa_subscribe_fd;
    s->parent.unsubscribe = sa_unsubscribe;
    s->parent.pin = sa_pin;
    s->parent.unpin = sa_unpin;
    s->parent.wait_for_version = sa_wait;
    s->parent.drain = sa_drain;
    s->parent.stats = sa_stats;
    s->parent.free = sa_free;
    s->parent.lease = NULL;
    s->parent.announce_if = NULL;
    *out = &s->parent;
    return 0;
fail:
    hollow__mutex_destroy(&s->feed_lock);
    hollow__mutex_destroy(&s->stop_mu);
    hollow__cond_destroy(&s->stop_cv);
    hollow__free(s);
    return rc;
}
