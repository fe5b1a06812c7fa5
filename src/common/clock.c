#include "common/clock.h"

#include <time.h>

static atomic_int_fast64_t skew_ns;
/* guards the watcher list; taken before any watcher's mutex */
static hollow__mutex watchers_mu = PTHREAD_MUTEX_INITIALIZER;
static hollow__clock_watcher *watchers;

int64_t hollow__clock_ns(void)
{
    return hollow__now_ns() + atomic_load(&skew_ns);
}

int64_t hollow__clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    ns += atomic_load(&skew_ns);
    return ns / 1000000;
}

void hollow__clock_advance_ms(int64_t ms)
{
    hollow__mutex_lock(&watchers_mu);
    atomic_fetch_add(&skew_ns, ms * 1000000);
    /* under each watcher's mutex: a watcher that read the clock before the
     * advance is already waiting, so the broadcast is not lost */
    for (hollow__clock_watcher *w = watchers; w != NULL; w = w->next) {
        hollow__mutex_lock(w->mu);
        hollow__cond_broadcast(w->cond);
        hollow__mutex_unlock(w->mu);
    }
    hollow__mutex_unlock(&watchers_mu);
}

void hollow__clock_watch(hollow__clock_watcher *w)
{
    hollow__mutex_lock(&watchers_mu);
    w->next = watchers;
    watchers = w;
    hollow__mutex_unlock(&watchers_mu);
}

void hollow__clock_unwatch(hollow__clock_watcher *w)
{
    hollow__mutex_lock(&watchers_mu);
    for (hollow__clock_watcher **p = &watchers; *p != NULL; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    hollow__mutex_unlock(&watchers_mu);
}

bool hollow__clock_wait_until(hollow__clock_watcher *w, int64_t due_ns)
{
    int64_t left = due_ns - hollow__clock_ns();
    if (left <= 0)
        return true;
    struct timespec deadline = hollow__deadline_ms((left + 999999) / 1000000);
    hollow__cond_wait_until(w->cond, w->mu, &deadline);
    return hollow__clock_ns() >= due_ns;
}
