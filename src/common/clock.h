/*
 * The clock of producer leases (src/announcer/, src/producer/lease.c):
 * CLOCK_MONOTONIC and CLOCK_REALTIME plus a skew that only tests move,
 * with hollow__clock_advance_ms(), to pass a lease's time-to-live without
 * sleeping. The skew is per process and starts at 0. A timed wait that
 * must notice an advance (the lease renewer) registers its condition
 * variable with hollow__clock_watch(); an advance wakes it.
 */
#ifndef HOLLOW_SRC_COMMON_CLOCK_H
#define HOLLOW_SRC_COMMON_CLOCK_H

#include <stdint.h>

#include "common/thread.h"

/* nanoseconds on CLOCK_MONOTONIC, plus the skew */
int64_t hollow__clock_ns(void);
/* milliseconds since the epoch (CLOCK_REALTIME), plus the skew */
int64_t hollow__clock_wall_ms(void);

/* tests only: move both clocks `ms` forward and wake every watcher */
void hollow__clock_advance_ms(int64_t ms);

/* a condition variable and its mutex that an advance broadcasts */
typedef struct hollow__clock_watcher {
    hollow__cond *cond;
    hollow__mutex *mu;
    struct hollow__clock_watcher *next;
} hollow__clock_watcher;

/* register / unregister `w`; call both without holding w->mu */
void hollow__clock_watch(hollow__clock_watcher *w);
void hollow__clock_unwatch(hollow__clock_watcher *w);

/* with w->mu held: wait on w->cond until hollow__clock_ns() >= due_ns or
 * a signal; true if due_ns passed */
bool hollow__clock_wait_until(hollow__clock_watcher *w, int64_t due_ns);

#endif
