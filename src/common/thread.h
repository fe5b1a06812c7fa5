/*
 * The threading primitives the library uses, behind one header
 * (style.md B6): pthreads for mutexes and threads, <stdatomic.h> for
 * publication and reference counts.
 */
#ifndef HOLLOW_SRC_COMMON_THREAD_H
#define HOLLOW_SRC_COMMON_THREAD_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

typedef pthread_mutex_t hollow__mutex;

static inline int hollow__mutex_init(hollow__mutex *m)
{
    return pthread_mutex_init(m, NULL);
}
static inline void hollow__mutex_lock(hollow__mutex *m) { pthread_mutex_lock(m); }
static inline void hollow__mutex_unlock(hollow__mutex *m)
{
    pthread_mutex_unlock(m);
}
static inline void hollow__mutex_destroy(hollow__mutex *m)
{
    pthread_mutex_destroy(m);
}
static inline void hollow__yield(void) { sched_yield(); }

#endif
