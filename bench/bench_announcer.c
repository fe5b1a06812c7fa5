/*
 * hollow-bench announcer [--spin-us N] [--scale F]
 * (with --redis: the Redis announcer, bench_redis.c)
 *
 * The in-process announcer's figures (issue 6):
 *  - delivery latency, from the moment announce() is called to the moment
 *    each callback subscriber sees the version: 10000 announcements with
 *    1, 100 and 1000 subscribers, 1000 with 10000; p50 and p99 over every
 *    (announcement, subscriber) pair;
 *  - throughput: announcements per second accepted and delivered to one
 *    callback subscriber, the announcer's queue being refilled as fast as
 *    it drains (a refused announce() is retried, not counted);
 *  - bytes per subscriber: the announcer's own memory growth (bytes held
 *    through the library allocator, bench_live_bytes()) while 10000
 *    subscribers are added, divided by 10000.
 *
 * Latency is measured fairly: the announcing thread takes the timestamp
 * right before calling announce(), so the figure includes announce()
 * itself, the hand-off to the worker and every callback before the one
 * measured; each callback reads the clock first thing. Announcements are
 * paced: the next one is made once every subscriber saw the previous one
 * (the announcing thread polls for 20 us, then blocks in drain()), so no
 * announcement waits in the queue behind another. The worker polls
 * for `spin_us` after each batch before it sleeps (the default of the
 * options); with --spin-us 0 every announcement pays a futex wake-up.
 * Timestamps go into a histogram of 100 ns buckets written only by the
 * worker. Prints one JSON object on stdout.
 */
#define _POSIX_C_SOURCE 200809L
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "hollow/announcer.h"

#define BUCKET_NS 100
#define BUCKETS 200000 /* 20 ms */

typedef struct lat {
    atomic_llong t0;   /* when announce() was called */
    atomic_long seen;  /* callbacks so far */
    long seen_local;   /* the worker's own count */
    uint64_t *hist;    /* written by the worker only */
    uint64_t over;     /* beyond the histogram */
} lat;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int lat_cb(int64_t version, void *payload)
{
    (void)version;
    int64_t t = now_ns();
    lat *l = payload;
    int64_t d = t - atomic_load_explicit(&l->t0, memory_order_relaxed);
    if (d < 0)
        d = 0;
    if (d / BUCKET_NS < BUCKETS)
        l->hist[d / BUCKET_NS]++;
    else
        l->over++;
    atomic_store_explicit(&l->seen, ++l->seen_local, memory_order_release);
    return 0;
}

static void die(const char *what)
{
    fprintf(stderr, "hollow-bench announcer: %s: %s\n", what,
            hollow_error_last()->message);
    exit(1);
}

static double percentile(const uint64_t *hist, uint64_t over, double p)
{
    uint64_t total = over;
    for (int i = 0; i < BUCKETS; i++)
        total += hist[i];
    uint64_t want = (uint64_t)((double)total * p);
    if (want >= total)
        want = total - 1;
    uint64_t acc = 0;
    for (int i = 0; i < BUCKETS; i++) {
        acc += hist[i];
        if (acc > want)
            return ((double)i + 0.5) * BUCKET_NS / 1000.0;
    }
    return (double)BUCKETS * BUCKET_NS / 1000.0; /* in the overflow */
}

/*
 * Wait until the subscribers saw `target` callbacks in all: poll for
 * 20 us, then block in hollow_announcer_drain(), so that on a busy machine
 * the announcing thread does not take the worker's CPU while it waits.
 */
static void wait_seen(lat *l, hollow_announcer *a, long target)
{
    int64_t start = now_ns();
    for (unsigned i = 1;
         atomic_load_explicit(&l->seen, memory_order_acquire) < target; i++) {
        if ((i & 63) == 0)
            sched_yield(); /* let a worker on this core run */
        if (now_ns() - start > 20000) {
            if (hollow_announcer_drain(a, -1) < 0)
                die("drain");
            break;
        }
    }
}

static hollow_announcer *make(size_t capacity, unsigned spin_us)
{
    hollow_announcer_inproc_options o = HOLLOW_ANNOUNCER_INPROC_OPTIONS_INIT;
    o.queue_capacity = capacity;
    o.spin_us = spin_us;
    hollow_announcer *a = NULL;
    if (hollow_announcer_inproc_new(&a, &o) < 0)
        die("new");
    return a;
}

/* latency with `subs` subscribers over `count` announcements */
static void run_latency(int subs, int count, unsigned spin_us, double *p50,
                        double *p99, double *bytes_per_sub)
{
    lat l;
    memset(&l, 0, sizeof l);
    l.hist = calloc(BUCKETS, sizeof *l.hist);
    if (l.hist == NULL)
        die("calloc");
    hollow_announcer *a = make(1024, spin_us);
    long base = bench_live_bytes();
    for (int i = 0; i < subs; i++) {
        hollow_subscription_id id;
        if (hollow_announcer_subscribe(&id, a, lat_cb, &l) < 0)
            die("subscribe");
    }
    *bytes_per_sub = (double)(bench_live_bytes() - base) / subs;
    int warmup = count / 10 < 100 ? 100 : count / 10;
    long target = 0;
    int64_t v = 1;
    for (int i = 0; i < warmup + count; i++) {
        if (i == warmup) { /* forget the warm-up */
            memset(l.hist, 0, BUCKETS * sizeof *l.hist);
            l.over = 0;
        }
        atomic_store_explicit(&l.t0, now_ns(), memory_order_relaxed);
        if (hollow_announcer_announce(a, v++) < 0)
            die("announce");
        target += subs;
        wait_seen(&l, a, target);
    }
    *p50 = percentile(l.hist, l.over, 0.50);
    *p99 = percentile(l.hist, l.over, 0.99);
    hollow_announcer_free(a);
    free(l.hist);
}

static int count_cb(int64_t version, void *payload)
{
    (void)version;
    atomic_long *n = payload;
    atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) + 1,
                          memory_order_release);
    return 0;
}

static double run_throughput(long count, unsigned spin_us)
{
    hollow_announcer *a = make(65536, spin_us);
    atomic_long seen;
    atomic_init(&seen, 0);
    hollow_subscription_id id;
    if (hollow_announcer_subscribe(&id, a, count_cb, &seen) < 0)
        die("subscribe");
    double t0 = bench_now();
    for (long v = 1; v <= count;) {
        int rc = hollow_announcer_announce(a, v);
        if (rc == 0)
            v++;
        else if (rc == HOLLOW_EBACKEND)
            sched_yield(); /* full: the worker is behind */
        else
            die("announce");
    }
    while (atomic_load_explicit(&seen, memory_order_acquire) < count)
        sched_yield();
    double t = bench_now() - t0;
    hollow_announcer_free(a);
    return (double)count / t;
}

static void announcer_usage(FILE *f)
{
    fprintf(f, "usage: hollow-bench announcer [--spin-us N] [--scale F]\n"
               "       hollow-bench announcer --redis HOST:PORT|redis://... "
               "[--connections C] [--scale F] [--spin-us N]\n");
}

int bench_announcer(int argc, char **argv)
{
    if (bench_help_asked(argc, argv)) {
        announcer_usage(stdout);
        return 0;
    }
    unsigned spin_us = HOLLOW_ANNOUNCER_DEFAULT_SPIN_US;
    double scale = 1.0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--redis") == 0)
            return bench_announcer_redis(argc, argv);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--spin-us") == 0 && i + 1 < argc)
            spin_us = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            scale = atof(argv[++i]);
        else {
            announcer_usage(stderr);
            return 2;
        }
    }
    if (scale <= 0)
        scale = 1.0;
    static const int subs[] = {1, 100, 1000, 10000};
    static const int counts[] = {10000, 10000, 10000, 1000};
    double p50[4], p99[4], bytes[4];
    for (int i = 0; i < 4; i++) {
        int n = (int)(counts[i] * scale);
        run_latency(subs[i], n > 0 ? n : 1, spin_us, &p50[i], &p99[i],
                    &bytes[i]);
        fprintf(stderr, "announcer: %d subscribers: p50 %.2f us, p99 %.2f us\n",
                subs[i], p50[i], p99[i]);
    }
    long tcount = (long)(2000000 * scale);
    double per_s = run_throughput(tcount > 0 ? tcount : 1, spin_us);
    printf("{\"subscribers\":{");
    for (int i = 0; i < 4; i++)
        printf("%s\"%d\":{\"p50_us\":%.2f,\"p99_us\":%.2f}", i ? "," : "",
               subs[i], p50[i], p99[i]);
    printf("},\"announcements_per_s\":%.0f,\"bytes_per_subscriber\":%.1f}\n",
           per_s, bytes[3]);
    return 0;
}
