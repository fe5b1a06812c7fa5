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

/*
 * Condition variables on CLOCK_MONOTONIC, threads started with every
 * signal blocked, and a pause hint for short spin loops (the in-process
 * announcer's worker, src/announcer/hub.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef pthread_cond_t hollow__cond;

/* a condition variable whose timed waits use CLOCK_MONOTONIC */
static inline int hollow__cond_init(hollow__cond *c)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc != 0)
        return rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(c, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}
static inline void hollow__cond_destroy(hollow__cond *c)
{
    pthread_cond_destroy(c);
}
static inline void hollow__cond_wait(hollow__cond *c, hollow__mutex *m)
{
    pthread_cond_wait(c, m);
}
/* wait until `deadline` (CLOCK_MONOTONIC); true if the deadline passed */
static inline bool hollow__cond_wait_until(hollow__cond *c, hollow__mutex *m,
                                           const struct timespec *deadline)
{
    return pthread_cond_timedwait(c, m, deadline) == ETIMEDOUT;
}
static inline void hollow__cond_signal(hollow__cond *c)
{
    pthread_cond_signal(c);
}
static inline void hollow__cond_broadcast(hollow__cond *c)
{
    pthread_cond_broadcast(c);
}

/* nanoseconds on CLOCK_MONOTONIC */
static inline int64_t hollow__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
/* CLOCK_MONOTONIC deadline `ms` milliseconds from now */
static inline struct timespec hollow__deadline_ms(int64_t ms)
{
    int64_t t = hollow__now_ns() + ms * 1000000;
    struct timespec ts;
    ts.tv_sec = (time_t)(t / 1000000000);
    ts.tv_nsec = (long)(t % 1000000000);
    return ts;
}

typedef pthread_t hollow__thread;

/*
 * Start a thread with every signal blocked, so that a library thread never
 * runs the application's signal handlers and a write to a closed pipe
 * gives EPIPE there instead of killing the process. Returns 0 or an errno.
 */
static inline int hollow__thread_create(hollow__thread *t,
                                        void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
static inline void hollow__thread_join(hollow__thread t)
{
    pthread_join(t, NULL);
}
static inline bool hollow__thread_is_self(hollow__thread t)
{
    return pthread_equal(t, pthread_self()) != 0;
}

/* a hint to the CPU inside a spin loop */
static inline void hollow__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
