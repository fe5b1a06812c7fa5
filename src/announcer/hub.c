/*
 * The delivery hub: what the in-process and filesystem announcers share.
 * It accepts versions into a bounded queue and a worker thread (the
 * "delivery worker") hands each one, in order, to every subscriber.
 *
 * Layout (all in hollow__hub, hub.h):
 *
 *     ring[cap]   versions accepted, not yet taken by the worker;
 *                 announcement number `seq` lives at ring[seq % cap] for
 *                 popped <= seq < pushed; full when pushed - popped == cap
 *     batch[cap]  the worker's private copy of the versions it delivers
 *     subs[n]     {fn, payload | fd, id, start_seq}: 32 bytes a subscriber,
 *                 in subscription order; fn == NULL marks a descriptor
 *                 subscriber whose pipe write end is in u.fd; id == 0
 *                 marks one removed during a batch, compacted after it
 *     pending[]   subscribers added by a callback while a batch runs
 *
 * Delivery. The worker takes every queued version at once (so the queue
 * frees up before delivery starts), sets `iterating` and releases the
 * lock; it then calls, for each version and each subscriber, the callback
 * or a write of the 8-byte version to the pipe. Announcement number seq
 * goes to a subscriber only if seq >= its start_seq, the value of `pushed`
 * when it subscribed: a subscriber gets exactly what was accepted after
 * it subscribed, in order. When the batch ends the worker takes the lock,
 * adds its counters, compacts removed entries (closing their pipes),
 * appends `pending` and wakes anyone waiting on `idle`.
 *
 * Who touches subs[] when. While `iterating`, only the worker reads or
 * writes subs[] (and only through the pointer and count it took under the
 * lock); a callback, which runs on the worker, may mark an entry removed
 * (id = 0) and adds new subscribers to `pending`. While not iterating,
 * anyone holding the lock may change subs[]. So subscribe() never waits,
 * while unsubscribe() from another thread waits for the batch to end:
 * when it returns, the callback is not running and never runs again. The
 * worker gives such waiters priority (`unsub_waiters`) so a stream of
 * announcements cannot starve them.
 *
 * Wake-ups. announce() signals `work` only when the worker sleeps on it.
 * After a batch the worker first polls `pushed_pub` (an atomic mirror of
 * `pushed`) for spin_us microseconds before sleeping: back-to-back
 * announcements then cost no futex wake-up. A descriptor write that finds
 * the pipe full is counted as lost; EPIPE or EBADF (the subscriber closed
 * its end) removes the subscriber. The worker runs with every signal
 * blocked (hollow__thread_create), so such a write yields EPIPE and never
 * a SIGPIPE for the process.
 *
 * Versions. `latest` is the last version accepted (announce() updates it
 * at once, before delivery); while `pinned`, the effective latest is
 * `pinned_version`, announcements update `latest` without being queued,
 * and pin/unpin queue the pinned version and then the real latest for
 * delivery. Waiters on `changed` are woken at each change.
 */
#define _GNU_SOURCE /* pipe2 */
#include "hub.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"

/* ------------------------------------------------------------------ */
/* Helpers (lock held)                                                 */
/* ------------------------------------------------------------------ */

static bool queue_full(const hollow__hub *h)
{
    return h->pushed - h->popped >= h->cap;
}

static void push(hollow__hub *h, int64_t version)
{
    h->ring[h->pushed % h->cap] = version;
    h->pushed++;
    atomic_store_explicit(&h->pushed_pub, h->pushed, memory_order_release);
    if (h->sleeping)
        hollow__cond_signal(&h->work);
}

static int full_error(const hollow__hub *h)
{
    return hollow__error_set(HOLLOW_EBACKEND,
                             "announcement queue full (capacity %zu)", h->cap);
}

/* room for one more entry in an array of subscribers */
static int reserve(hollow__hub_sub **v, size_t n, size_t *cap)
{
    return hollow__grow(*v, *cap, n + 1, 16);
}

static void close_sub(const hollow__hub_sub *s)
{
    if (s->fn == NULL)
        close(s->u.fd);
}

/* add a subscriber (lock held): straight into subs unless a batch runs */
static int add_sub(hollow_subscription_id *id_out, hollow__hub *h,
                   hollow_announcement_cb cb, void *payload, int fd)
{
    hollow__hub_sub s;
    s.fn = cb;
    if (cb != NULL)
        s.u.payload = payload;
    else
        s.u.fd = fd;
    s.id = h->next_id++;
    s.start_seq = h->pushed;
    if (h->iterating) {
        HOLLOW_TRY(reserve(&h->pending, h->npending, &h->pending_cap));
        h->pending[h->npending++] = s;
    } else {
        HOLLOW_TRY(reserve(&h->subs, h->nsubs, &h->subs_cap));
        h->subs[h->nsubs++] = s;
    }
    h->count++;
    *id_out = s.id;
    return 0;
}

/* end of a batch (lock held): drop removed entries, merge pending */
static void compact(hollow__hub *h)
{
    size_t w = 0;
    for (size_t r = 0; r < h->nsubs; r++) {
        if (h->subs[r].id != 0)
            h->subs[w++] = h->subs[r];
        else
            close_sub(&h->subs[r]);
    }
    h->nsubs = w;
    if (h->npending == 0)
        return;
    size_t merged = 0;
    while (merged < h->npending &&
           reserve(&h->subs, h->nsubs, &h->subs_cap) == 0)
        h->subs[h->nsubs++] = h->pending[merged++];
    /* an allocation failure leaves the rest pending until the next batch */
    if (merged < h->npending)
        memmove(h->pending, h->pending + merged,
                (h->npending - merged) * sizeof *h->pending);
    h->npending -= merged;
    if (h->npending == 0) {
        hollow__free(h->pending);
        h->pending = NULL;
        h->pending_cap = 0;
    }
}

/* ------------------------------------------------------------------ */
/* The worker                                                          */
/* ------------------------------------------------------------------ */

typedef struct counts {
    uint64_t delivered;
    uint64_t lost;
    uint64_t removed;
} counts;

static void deliver_fd(hollow__hub_sub *s, int64_t version, counts *c)
{
    ssize_t n;
    do
        n = write(s->u.fd, &version, sizeof version);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof version) {
        c->delivered++;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c->lost++; /* the subscriber is not reading: pipe full */
    } else {
        s->id = 0; /* EPIPE, EBADF: the subscriber closed its end */
        c->removed++;
    }
}

/*
 * Deliver a batch with the lock released. `subs` and `n` were taken under
 * the lock; entries appended meanwhile go to `pending`, so the array does
 * not move under us.
 */
static void deliver(const int64_t *versions, size_t k, uint64_t seq0,
                    hollow__hub_sub *subs, size_t n, counts *c)
{
    for (size_t e = 0; e < k; e++) {
        int64_t v = versions[e];
        uint64_t seq = seq0 + e;
        for (size_t i = 0; i < n; i++) {
            hollow__hub_sub *s = &subs[i];
            if (s->id == 0 || seq < s->start_seq)
                continue;
            if (s->fn == NULL) {
                deliver_fd(s, v, c);
            } else if (s->fn(v, s->u.payload) != 0) {
                s->id = 0;
                c->removed++;
            } else {
                c->delivered++;
            }
        }
    }
}

/*
 * Poll for new work for up to spin_us; called without the lock. Every
 * 1024 probes (some microseconds) it also yields the CPU: when the
 * announcing thread shares this core (a busy machine) it then gets to run
 * and announce instead of waiting for the spin to end; on an idle core
 * the yield returns at once.
 */
static void spin(hollow__hub *h, uint64_t seen)
{
    int64_t end = hollow__now_ns() + (int64_t)h->spin_us * 1000;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&h->pushed_pub, memory_order_acquire) != seen)
            return;
        if ((i & 63) == 0 && hollow__now_ns() >= end)
            return;
        if ((i & 1023) == 0)
            hollow__yield();
        hollow__cpu_relax();
    }
}

static void *worker_main(void *arg)
{
    hollow__hub *h = arg;
    bool spun = false;
    hollow__mutex_lock(&h->lock);
    for (;;) {
        while (h->unsub_waiters > 0)
            hollow__cond_wait(&h->work, &h->lock);
        if (h->pushed != h->popped) {
            size_t k = (size_t)(h->pushed - h->popped);
            uint64_t seq0 = h->popped;
            for (size_t i = 0; i < k; i++)
                h->batch[i] = h->ring[(seq0 + i) % h->cap];
            h->popped = h->pushed;
            h->iterating = true;
            hollow__hub_sub *subs = h->subs;
            size_t n = h->nsubs;
            hollow__mutex_unlock(&h->lock);

            counts c = {0, 0, 0};
            deliver(h->batch, k, seq0, subs, n, &c);

            hollow__mutex_lock(&h->lock);
            h->iterating = false;
            h->delivered += c.delivered;
            h->lost += c.lost;
            h->removed += c.removed;
            h->count -= (size_t)c.removed;
            compact(h);
            hollow__cond_broadcast(&h->idle);
            spun = false;
            continue;
        }
        if (h->stop)
            break;
        if (h->spin_us > 0 && !spun) {
            uint64_t seen = h->pushed;
            hollow__mutex_unlock(&h->lock);
            spin(h, seen);
            hollow__mutex_lock(&h->lock);
            spun = true;
            continue;
        }
        h->sleeping = true;
        hollow__cond_wait(&h->work, &h->lock);
        h->sleeping = false;
        spun = false;
    }
    hollow__mutex_unlock(&h->lock);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

int hollow__hub_init(hollow__hub *h, size_t capacity, unsigned int spin_us)
{
    memset(h, 0, sizeof *h);
    if (capacity == 0)
        return hollow__error_set(HOLLOW_EINVAL, "announcer queue capacity is 0");
    int rc = 0;
    int inited = 0;
    h->cap = capacity;
    h->spin_us = spin_us;
    h->next_id = 1;
    atomic_init(&h->pushed_pub, 0);
    h->ring = hollow__mallocarray(capacity, sizeof *h->ring);
    h->batch = hollow__mallocarray(capacity, sizeof *h->batch);
    if (h->ring == NULL || h->batch == NULL) {
        rc = hollow__error_oom();
        goto fail;
    }
    if (hollow__mutex_init(&h->lock) != 0)
        goto fail_sync;
    inited++;
    if (hollow__cond_init(&h->work) != 0)
        goto fail_sync;
    inited++;
    if (hollow__cond_init(&h->idle) != 0)
        goto fail_sync;
    inited++;
    if (hollow__cond_init(&h->changed) != 0)
        goto fail_sync;
    inited++;
    int err = hollow__thread_create(&h->worker, worker_main, h);
    if (err != 0) {
        rc = hollow__error_set_os(HOLLOW_ERROR, err,
                                  "cannot start the announcer's worker");
        goto fail;
    }
    return 0;
fail_sync:
    rc = hollow__error_set(HOLLOW_ERROR, "announcer: cannot set up a lock");
fail:
    if (inited > 3)
        hollow__cond_destroy(&h->changed);
    if (inited > 2)
        hollow__cond_destroy(&h->idle);
    if (inited > 1)
        hollow__cond_destroy(&h->work);
    if (inited > 0)
        hollow__mutex_destroy(&h->lock);
    hollow__free(h->ring);
    hollow__free(h->batch);
    h->ring = h->batch = NULL;
    return rc;
}

void hollow__hub_destroy(hollow__hub *h)
{
    hollow__mutex_lock(&h->lock);
    h->stop = true;
    hollow__cond_signal(&h->work);
    hollow__mutex_unlock(&h->lock);
    hollow__thread_join(h->worker);
    for (size_t i = 0; i < h->nsubs; i++)
        close_sub(&h->subs[i]);
    for (size_t i = 0; i < h->npending; i++)
        close_sub(&h->pending[i]);
    hollow__free(h->subs);
    hollow__free(h->pending);
    hollow__free(h->ring);
    hollow__free(h->batch);
    hollow__cond_destroy(&h->changed);
    hollow__cond_destroy(&h->idle);
    hollow__cond_destroy(&h->work);
    hollow__mutex_destroy(&h->lock);
}

/* ------------------------------------------------------------------ */
/* Announcing and pinning                                              */
/* ------------------------------------------------------------------ */

int hollow__hub_check_room(hollow__hub *h, bool count_drop)
{
    int rc = 0;
    hollow__mutex_lock(&h->lock);
    if (!h->pinned && queue_full(h)) {
        if (count_drop)
            h->dropped++;
        rc = full_error(h);
    }
    hollow__mutex_unlock(&h->lock);
    return rc;
}

int hollow__hub_announce(hollow__hub *h, int64_t version)
{
    int rc = 0;
    hollow__mutex_lock(&h->lock);
    if (!h->pinned) {
        if (queue_full(h)) {
            h->dropped++;
            rc = full_error(h);
            goto done;
        }
        push(h, version);
    }
    h->latest = version;
    h->has_latest = true;
    h->announced++;
    hollow__cond_broadcast(&h->changed);
done:
    hollow__mutex_unlock(&h->lock);
    return rc;
}

void hollow__hub_set_latest(hollow__hub *h, int64_t version)
{
    hollow__mutex_lock(&h->lock);
    h->latest = version;
    h->has_latest = true;
    hollow__cond_broadcast(&h->changed);
    hollow__mutex_unlock(&h->lock);
}

/* the effective latest (lock held) */
static bool effective(int64_t *out, const hollow__hub *h)
{
    if (h->pinned) {
        *out = h->pinned_version;
        return true;
    }
    *out = h->latest;
    return h->has_latest;
}

int hollow__hub_latest(int64_t *out, hollow__hub *h)
{
    hollow__mutex_lock(&h->lock);
    bool have = effective(out, h);
    hollow__mutex_unlock(&h->lock);
    if (!have)
        return hollow__error_set(HOLLOW_ENOTFOUND, "nothing announced yet");
    return 0;
}

bool hollow__hub_pinned(int64_t *out, hollow__hub *h)
{
    hollow__mutex_lock(&h->lock);
    bool pinned = h->pinned;
    *out = h->pinned_version;
    hollow__mutex_unlock(&h->lock);
    return pinned;
}

int hollow__hub_pin(hollow__hub *h, int64_t version)
{
    int rc = 0;
    hollow__mutex_lock(&h->lock);
    if (queue_full(h)) {
        rc = full_error(h);
        goto done;
    }
    push(h, version);
    h->pinned = true;
    h->pinned_version = version;
    hollow__cond_broadcast(&h->changed);
done:
    hollow__mutex_unlock(&h->lock);
    return rc;
}

int hollow__hub_unpin(hollow__hub *h)
{
    int rc = 0;
    hollow__mutex_lock(&h->lock);
    if (!h->pinned) {
        rc = hollow__error_set(HOLLOW_ESTATE, "no version is pinned");
        goto done;
    }
    if (h->has_latest) {
        if (queue_full(h)) {
            rc = full_error(h);
            goto done;
        }
        push(h, h->latest);
    }
    h->pinned = false;
    hollow__cond_broadcast(&h->changed);
done:
    hollow__mutex_unlock(&h->lock);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Subscribers                                                         */
/* ------------------------------------------------------------------ */

int hollow__hub_subscribe(hollow_subscription_id *id_out, hollow__hub *h,
                          hollow_announcement_cb cb, void *payload)
{
    hollow__mutex_lock(&h->lock);
    int rc = add_sub(id_out, h, cb, payload, -1);
    hollow__mutex_unlock(&h->lock);
    return rc;
}

int hollow__hub_subscribe_fd(int *fd_out, hollow_subscription_id *id_out,
                             hollow__hub *h)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return hollow__error_set_os(HOLLOW_EIO, errno,
                                    "cannot make a subscriber pipe");
    hollow__mutex_lock(&h->lock);
    int rc = add_sub(id_out, h, NULL, NULL, fds[1]);
    hollow__mutex_unlock(&h->lock);
    if (rc < 0) {
        close(fds[0]);
        close(fds[1]);
        return rc;
    }
    *fd_out = fds[0];
    return 0;
}

/* index of a live subscriber with this id in v[0..n), or n */
static size_t find_sub(const hollow__hub_sub *v, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].id == id)
            return i;
    return n;
}

int hollow__hub_unsubscribe(hollow__hub *h, hollow_subscription_id id)
{
    int rc = 0;
    bool on_worker = hollow__thread_is_self(h->worker);
    hollow__mutex_lock(&h->lock);
    if (id == 0)
        goto not_found;
    if (!on_worker && h->iterating) {
        /* the callback may be running: wait for the batch to end */
        h->unsub_waiters++;
        while (h->iterating)
            hollow__cond_wait(&h->idle, &h->lock);
        if (--h->unsub_waiters == 0)
            hollow__cond_signal(&h->work);
    }
    size_t i = find_sub(h->pending, h->npending, id);
    if (i < h->npending) {
        close_sub(&h->pending[i]);
        memmove(&h->pending[i], &h->pending[i + 1],
                (h->npending - i - 1) * sizeof *h->pending);
        h->npending--;
        h->count--;
        goto done;
    }
    i = find_sub(h->subs, h->nsubs, id);
    if (i == h->nsubs)
        goto not_found;
    if (h->iterating) {
        /* on the worker, inside a callback: the batch end compacts it */
        h->subs[i].id = 0;
    } else {
        close_sub(&h->subs[i]);
        memmove(&h->subs[i], &h->subs[i + 1],
                (h->nsubs - i - 1) * sizeof *h->subs);
        h->nsubs--;
    }
    h->count--;
    goto done;
not_found:
    rc = hollow__error_set(HOLLOW_ENOTFOUND, "no subscription %llu",
                           (unsigned long long)id);
done:
    hollow__mutex_unlock(&h->lock);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Waiting and counters                                                */
/* ------------------------------------------------------------------ */

int hollow__hub_wait(hollow__hub *h, int64_t version, int timeout_ms)
{
    struct timespec deadline = hollow__deadline_ms(timeout_ms > 0 ? timeout_ms : 0);
    int64_t v = 0;
    bool have;
    hollow__mutex_lock(&h->lock);
    for (;;) {
        have = effective(&v, h);
        if (have && v >= version)
            break;
        if (timeout_ms == 0)
            break;
        if (timeout_ms < 0)
            hollow__cond_wait(&h->changed, &h->lock);
        else if (hollow__cond_wait_until(&h->changed, &h->lock, &deadline)) {
            have = effective(&v, h);
            break;
        }
    }
    hollow__mutex_unlock(&h->lock);
    if (have && v >= version)
        return 0;
    if (!have)
        return hollow__error_set(HOLLOW_ENOTFOUND,
                                 "timed out waiting for version %lld "
                                 "(nothing announced)",
                                 (long long)version);
    return hollow__error_set(HOLLOW_ENOTFOUND,
                             "timed out waiting for version %lld (latest %lld)",
                             (long long)version, (long long)v);
}

int hollow__hub_drain(hollow__hub *h, int timeout_ms)
{
    if (hollow__thread_is_self(h->worker))
        return hollow__error_set(HOLLOW_ESTATE,
                                 "drain called from the delivery worker");
    struct timespec deadline = hollow__deadline_ms(timeout_ms > 0 ? timeout_ms : 0);
    bool done;
    hollow__mutex_lock(&h->lock);
    for (;;) {
        done = h->pushed == h->popped && !h->iterating;
        if (done || timeout_ms == 0)
            break;
        if (timeout_ms < 0)
            hollow__cond_wait(&h->idle, &h->lock);
        else if (hollow__cond_wait_until(&h->idle, &h->lock, &deadline)) {
            done = h->pushed == h->popped && !h->iterating;
            break;
        }
    }
    size_t queued = (size_t)(h->pushed - h->popped);
    hollow__mutex_unlock(&h->lock);
    if (done)
        return 0;
    return hollow__error_set(HOLLOW_ENOTFOUND,
                             "timed out draining the announcement queue "
                             "(%zu queued)",
                             queued);
}

void hollow__hub_stats(hollow_announcer_stats *out, hollow__hub *h)
{
    hollow__mutex_lock(&h->lock);
    out->subscribers = h->count;
    out->announced = h->announced;
    out->dropped = h->dropped;
    out->delivered = h->delivered;
    out->lost = h->lost;
    out->removed = h->removed;
    out->queued = (size_t)(h->pushed - h->popped);
    out->has_latest = h->has_latest;
    out->latest = h->latest;
    out->pinned = h->pinned;
    out->pinned_version = h->pinned_version;
    hollow__mutex_unlock(&h->lock);
}

unsigned int hollow__hub_unsub_waiters(hollow__hub *h)
{
    hollow__mutex_lock(&h->lock);
    unsigned int n = h->unsub_waiters;
    hollow__mutex_unlock(&h->lock);
    return n;
}
