/*
 * Fan independent tasks out over a few threads: per-type work in the blob
 * writer, delta application and checksums. Threads are started per call
 * (tens of microseconds), which is cheap beside the millisecond-scale tasks
 * they run, so no pool outlives a call.
 */
#ifndef HOLLOW_SRC_COMMON_PARALLEL_H
#define HOLLOW_SRC_COMMON_PARALLEL_H

#include <stddef.h>

/* the online cores this process may run on (its affinity), at least 1 */
unsigned hollow__cores(void);

/* `threads` as an option gives it: 0 means hollow__cores() */
unsigned hollow__threads_or_cores(unsigned threads);

typedef int (*hollow__task_fn)(void *ctx, size_t i);

/*
 * Run fn(ctx, i) for every i in [0, n) on up to `threads` threads, the
 * caller being one of them (0 = hollow__cores(); 1 runs everything on the
 * caller, in order). Tasks are claimed in index order. Once a task fails,
 * tasks not yet started are skipped. Returns 0, or the code of the failing
 * task with the lowest index, its message carried to the caller's thread.
 * A thread that cannot be started just leaves its share to the others.
 */
int hollow__parallel_for(unsigned threads, size_t n, hollow__task_fn fn,
                         void *ctx);

#endif
