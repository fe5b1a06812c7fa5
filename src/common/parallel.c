/*
 * hollow__parallel_for: an atomic counter hands out task indexes; each
 * thread keeps the first failure it saw, and the caller keeps the one with
 * the lowest index so the error does not depend on scheduling.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "parallel.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/thread.h"

#define MAX_THREADS 64
#define MSG_CAP 512

unsigned hollow__cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
#if defined(__linux__)
    /* the cores this process may run on (taskset, a container's cpuset) */
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0 &&
        CPU_COUNT(&set) < n)
        n = CPU_COUNT(&set);
#endif
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

unsigned hollow__threads_or_cores(unsigned threads)
{
    return threads == 0 ? hollow__cores() : threads;
}

typedef struct {
    hollow__task_fn fn;
    void *ctx;
    size_t n;
    atomic_size_t next;
    atomic_bool failed;
} job;

typedef struct {
    job *j;
    size_t bad; /* index of this worker's failed task, SIZE_MAX if none */
    int code;
    char msg[MSG_CAP];
} worker;

static void run(worker *w)
{
    job *j = w->j;
    for (;;) {
        if (atomic_load_explicit(&j->failed, memory_order_relaxed))
            return;
        size_t i = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (i >= j->n)
            return;
        int rc = j->fn(j->ctx, i);
        if (rc < 0) {
            w->bad = i;
            w->code = rc;
            const hollow_error *e = hollow_error_last();
            snprintf(w->msg, sizeof w->msg, "%s", e->message ? e->message : "");
            atomic_store(&j->failed, true);
            return;
        }
    }
}

static void *thread_main(void *arg)
{
    run(arg);
    return NULL;
}

int hollow__parallel_for(unsigned threads, size_t n, hollow__task_fn fn,
                         void *ctx)
{
    threads = hollow__threads_or_cores(threads);
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if ((size_t)threads > n)
        threads = (unsigned)n;
    if (threads <= 1) {
        for (size_t i = 0; i < n; i++)
            HOLLOW_TRY(fn(ctx, i));
        return 0;
    }
    job j = {.fn = fn, .ctx = ctx, .n = n};
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, false);
    worker ws[MAX_THREADS];
    hollow__thread tids[MAX_THREADS];
    unsigned started = 0;
    for (unsigned t = 0; t < threads; t++)
        ws[t] = (worker){.j = &j, .bad = SIZE_MAX};
    for (unsigned t = 1; t < threads; t++) {
        if (hollow__thread_create(&tids[started], thread_main, &ws[t]) != 0)
            break;
        started++;
    }
    run(&ws[0]);
    for (unsigned t = 0; t < started; t++)
        hollow__thread_join(tids[t]);
    const worker *first = NULL;
    for (unsigned t = 0; t <= started; t++)
        if (ws[t].bad != SIZE_MAX && (first == NULL || ws[t].bad < first->bad))
            first = &ws[t];
    if (first == NULL)
        return 0;
    hollow__error_set(first->code, "%s", first->msg);
    return first->code;
}
