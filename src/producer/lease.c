/*
 * The single-producer lease (architecture.md §4). The lease itself lives
 * in the announcer's backend (hollow_announcer_lease(): a `.`-named lease
 * file with an expiry beside announced.version for the filesystem, a field
 * of the announcer for the in-process one). This file adds the producer's
 * side: take the lease before a cycle, keep it renewed from a renewer
 * thread (every third of its time-to-live), check it right before
 * announcing, and release it when the producer is freed.
 */
#include "lease.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/thread.h"

struct hollow__lease {
    hollow_announcer *a;
    char owner[HOLLOW_LEASE_OWNER_MAX];
    int64_t ttl_ms;
    hollow__mutex mu;
    hollow__cond cond;
    bool held;
    bool retry; /* the last renewal failed on the backend, not to another */
    bool stop;
    bool renewer_started;
    hollow__thread renewer;
    hollow__clock_watcher watch; /* a clock advance wakes the renewer */
    int64_t due_ns;              /* the next renewal, on the lease clock */
    uint64_t renewals;           /* successful renewals, for tests */
};

/* the renewal after one at `t` (lease clock): a third of the ttl later */
static int64_t next_due(const hollow__lease *l, int64_t t)
{
    return t + (l->ttl_ms / 3 + 1) * 1000000;
}

static void *renew(void *arg)
{
    hollow__lease *l = arg;
    hollow__clock_watch(&l->watch);
    hollow__mutex_lock(&l->mu);
    while (!l->stop) {
        /* due_ns was set when the lease was taken, before this thread ran */
        while (!l->stop && !hollow__clock_wait_until(&l->watch, l->due_ns))
            ;
        if (l->stop)
            break;
        int64_t t = hollow__clock_ns();
        if (!l->held && !l->retry) {
            l->due_ns = next_due(l, t);
            continue;
        }
        hollow__mutex_unlock(&l->mu);
        char holder[HOLLOW_LEASE_OWNER_MAX];
        int rc = hollow_announcer_lease(l->a, HOLLOW_LEASE_ACQUIRE, l->owner,
                                        l->ttl_ms, holder, sizeof holder);
        /* on this thread nobody else would hear of it */
        if (rc == HOLLOW_ESTATE)
            hollow__log(HOLLOW_LOG_WARN, "producer %s lost its lease to %s; "
                        "its cycles fail while that producer holds it", l->owner,
                        holder);
        else if (rc < 0)
            hollow__log(HOLLOW_LOG_WARN, "producer %s could not renew its "
                        "lease (%s): %s", l->owner, hollow_strerror(rc),
                        hollow_error_last()->message);
        hollow__mutex_lock(&l->mu);
        l->held = rc == 0;
        /* a backend that failed (Redis down, or restarted empty) is tried
         * again at the next renewal: SET NX takes the lease back */
        l->retry = rc < 0 && rc != HOLLOW_ESTATE;
        l->due_ns = next_due(l, t);
        if (rc == 0) {
            l->renewals++;
            hollow__cond_broadcast(&l->cond);
        }
    }
    hollow__mutex_unlock(&l->mu);
    hollow__clock_unwatch(&l->watch);
    return NULL;
}

/* 64 random bits: /dev/urandom, else the clock and our address mixed */
static uint64_t random_token(const void *salt)
{
    uint64_t t = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &t, sizeof t) != (ssize_t)sizeof t)
            t = 0;
        close(fd);
    }
    if (t == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        t = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
            ((uint64_t)(uintptr_t)salt << 17) ^ ((uint64_t)getpid() << 40);
        t *= 0x9E3779B97F4A7C15ull;
    }
    return t;
}

int hollow__lease_new(hollow__lease **out, hollow_announcer *a,
                      hollow_blobstore *bs, const char *owner, int64_t ttl_ms)
{
    (void)bs;
    *out = NULL;
    if (a == NULL)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "a producer lease needs an announcer");
    hollow__lease *l = hollow__calloc(1, sizeof *l);
    HOLLOW_CHECK_ALLOC(l);
    l->a = a;
    l->ttl_ms = ttl_ms;
    /* the owner name is a label; the random token makes each producer
     * instance a distinct owner, whatever name two producers are given */
    char label[160];
    if (owner != NULL) {
        snprintf(label, sizeof label, "%s", owner);
    } else {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(label, sizeof label, "%s:%ld", host, (long)getpid());
    }
    for (char *c = label; *c; c++)
        if (*c == '\n')
            *c = ' ';
    snprintf(l->owner, sizeof l->owner, "%s#%016llx", label,
             (unsigned long long)random_token(l));
    hollow__mutex_init(&l->mu);
    hollow__cond_init(&l->cond);
    l->watch.cond = &l->cond;
    l->watch.mu = &l->mu;
    *out = l;
    return 0;
}

void hollow__lease_free(hollow__lease *l)
{
    if (l == NULL)
        return;
    if (l->renewer_started) {
        hollow__mutex_lock(&l->mu);
        l->stop = true;
        hollow__cond_broadcast(&l->cond);
        hollow__mutex_unlock(&l->mu);
        hollow__thread_join(l->renewer);
    }
    if (l->held)
        hollow_announcer_lease(l->a, HOLLOW_LEASE_RELEASE, l->owner, l->ttl_ms,
                               NULL, 0);
    hollow__cond_destroy(&l->cond);
    hollow__mutex_destroy(&l->mu);
    hollow__free(l);
}

int hollow__lease_acquire(hollow__lease *l)
{
    char holder[HOLLOW_LEASE_OWNER_MAX] = "";
    int64_t t = hollow__clock_ns();
    int rc = hollow_announcer_lease(l->a, HOLLOW_LEASE_ACQUIRE, l->owner,
                                    l->ttl_ms, holder, sizeof holder);
    hollow__mutex_lock(&l->mu);
    l->held = rc == 0;
    l->retry = false;
    if (rc == 0)
        l->due_ns = next_due(l, t);
    bool start = rc == 0 && !l->renewer_started;
    if (start)
        l->renewer_started = hollow__thread_create(&l->renewer, renew, l) == 0;
    hollow__mutex_unlock(&l->mu);
    if (rc == HOLLOW_ESTATE)
        return hollow__error_set(HOLLOW_ESTATE, "not the primary producer: "
                                 "the lease is held by %s", holder);
    return rc;
}

int hollow__lease_check(hollow__lease *l)
{
    int rc = hollow_announcer_lease(l->a, HOLLOW_LEASE_CHECK, l->owner,
                                    l->ttl_ms, NULL, 0);
    hollow__mutex_lock(&l->mu);
    l->held = rc == 0;
    hollow__mutex_unlock(&l->mu);
    if (rc == HOLLOW_ESTATE)
        return hollow__error_set(HOLLOW_ESTATE, "the producer lost its lease "
                                 "before announcing");
    return rc;
}

const char *hollow__lease_owner(const hollow__lease *l) { return l->owner; }

bool hollow__lease_held(hollow__lease *l)
{
    hollow__mutex_lock(&l->mu);
    bool held = l->held;
    hollow__mutex_unlock(&l->mu);
    return held;
}

bool hollow__lease_wait_renewals(hollow__lease *l, uint64_t n, int timeout_ms)
{
    struct timespec deadline = hollow__deadline_ms(timeout_ms);
    hollow__mutex_lock(&l->mu);
    bool timed_out = false;
    while (l->renewals < n && !timed_out)
        timed_out = hollow__cond_wait_until(&l->cond, &l->mu, &deadline);
    bool ok = l->renewals >= n;
    hollow__mutex_unlock(&l->mu);
    return ok;
}

uint64_t hollow__lease_renewals(hollow__lease *l)
{
    hollow__mutex_lock(&l->mu);
    uint64_t n = l->renewals;
    hollow__mutex_unlock(&l->mu);
    return n;
}
