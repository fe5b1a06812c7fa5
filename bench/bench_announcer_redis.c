/*
 * hollow-bench announcer --redis URL [--scale F]
 *
 * The Redis announcer's figures (issue 14), against the server at URL
 * (scripts/redis.sh start gives one), under a key prefix of its own:
 *  - delivery latency from the moment announce() is called on a producer's
 *    announcer to the moment each callback subscriber sees the version,
 *    at 1, 10, 100 and 1000 subscribers spread over connections as a fleet
 *    would be (one announcer object, so one subscriber connection, a
 *    watcher and a delivery worker, per "machine"; up to 10 subscribers
 *    each, at most 100 connections); p50 and p99 over every (announcement,
 *    subscriber) pair. The path: the announce script (EVAL: SET and
 *    PUBLISH), Redis fanning the message out, each watcher reading it and
 *    each worker calling its callbacks. Announcements are paced: the next
 *    one once every subscriber saw the previous one.
 *  - announcements per second: back to back from one thread (each one an
 *    EVAL round trip), until one subscriber on another connection saw the
 *    last.
 * Prints one JSON object on stdout, as the in-process benchmark does.
 */
#define _POSIX_C_SOURCE 200809L
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "hollow/announcer.h"

#define BUCKET_NS 1000
#define BUCKETS 100000 /* 100 ms */
#define MAX_CONNS 100

typedef struct conn_lat {
    atomic_llong *t0;  /* when announce() was called (shared) */
    atomic_long seen;  /* callbacks so far on this connection */
    long seen_local;   /* the worker's own count */
    uint64_t *hist;    /* written by this connection's worker only */
    uint64_t over;
} conn_lat;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "hollow-bench announcer --redis: %s: %s\n", what,
            hollow_error_last()->message);
    exit(1);
}

static int lat_cb(int64_t version, void *payload)
{
    (void)version;
    int64_t t = now_ns();
    conn_lat *l = payload;
    int64_t d = t - atomic_load_explicit(l->t0, memory_order_relaxed);
    if (d < 0)
        d = 0;
    if (d / BUCKET_NS < BUCKETS)
        l->hist[d / BUCKET_NS]++;
    else
        l->over++;
    atomic_store_explicit(&l->seen, ++l->seen_local, memory_order_release);
    return 0;
}

static hollow_announcer *open_one(const char *url, const char *prefix)
{
    hollow_announcer_redis_options o = HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
    o.url = url;
    o.key_prefix = prefix;
    hollow_announcer *a = NULL;
    if (hollow_announcer_redis_new(&a, &o) < 0)
        die("connect");
    return a;
}

static double percentile(uint64_t *const *hists, const uint64_t *over,
                         int n, double p)
{
    uint64_t total = 0;
    for (int c = 0; c < n; c++) {
        total += over[c];
        for (int i = 0; i < BUCKETS; i++)
            total += hists[c][i];
    }
    uint64_t want = (uint64_t)((double)total * p);
    if (want >= total)
        want = total - 1;
    uint64_t acc = 0;
    for (int i = 0; i < BUCKETS; i++) {
        for (int c = 0; c < n; c++)
            acc += hists[c][i];
        if (acc > want)
            return ((double)i + 0.5) * BUCKET_NS / 1000.0;
    }
    return (double)BUCKETS * BUCKET_NS / 1000.0;
}

static long total_seen(conn_lat *ls, int n)
{
    long s = 0;
    for (int c = 0; c < n; c++)
        s += atomic_load_explicit(&ls[c].seen, memory_order_acquire);
    return s;
}

static void run_latency(const char *url, const char *prefix, int subs,
                        int count, double *p50, double *p99)
{
    int conns = subs <= 10 ? subs : subs / 10;
    if (conns > MAX_CONNS)
        conns = MAX_CONNS;
    atomic_llong t0;
    atomic_init(&t0, 0);
    conn_lat *ls = calloc((size_t)conns, sizeof *ls);
    hollow_announcer **as = calloc((size_t)conns, sizeof *as);
    uint64_t **hists = calloc((size_t)conns, sizeof *hists);
    uint64_t *over = calloc((size_t)conns, sizeof *over);
    if (ls == NULL || as == NULL || hists == NULL || over == NULL)
        die("calloc");
    for (int c = 0; c < conns; c++) {
        ls[c].t0 = &t0;
        atomic_init(&ls[c].seen, 0);
        if ((ls[c].hist = calloc(BUCKETS, sizeof *ls[c].hist)) == NULL)
            die("calloc");
        as[c] = open_one(url, prefix);
    }
    for (int i = 0; i < subs; i++) {
        hollow_subscription_id id;
        if (hollow_announcer_subscribe(&id, as[i % conns], lat_cb,
                                       &ls[i % conns]) < 0)
            die("subscribe");
    }
    hollow_announcer *prod = open_one(url, prefix);
    int64_t v;
    if (hollow_announcer_latest(&v, prod) < 0)
        v = 0;
    int warmup = count / 10 < 20 ? 20 : count / 10;
    long target = 0;
    for (int i = 0; i < warmup + count; i++) {
        if (i == warmup) /* forget the warm-up (no delivery is running) */
            for (int c = 0; c < conns; c++) {
                memset(ls[c].hist, 0, BUCKETS * sizeof *ls[c].hist);
                ls[c].over = 0;
            }
        atomic_store_explicit(&t0, now_ns(), memory_order_relaxed);
        if (hollow_announcer_announce(prod, ++v) < 0)
            die("announce");
        target += subs;
        int64_t start = now_ns();
        while (total_seen(ls, conns) < target) {
            if (now_ns() - start > 10 * 1000000000LL) {
                fprintf(stderr, "hollow-bench announcer --redis: version %lld "
                        "not delivered within 10 s\n", (long long)v);
                exit(1);
            }
            /* sleep rather than spin: the watchers need the CPUs */
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
    }
    for (int c = 0; c < conns; c++) {
        hists[c] = ls[c].hist;
        over[c] = ls[c].over;
    }
    *p50 = percentile(hists, over, conns, 0.50);
    *p99 = percentile(hists, over, conns, 0.99);
    hollow_announcer_free(prod);
    for (int c = 0; c < conns; c++) {
        hollow_announcer_free(as[c]);
        free(ls[c].hist);
    }
    free(ls);
    free(as);
    free(hists);
    free(over);
}

static int count_cb(int64_t version, void *payload)
{
    atomic_llong *last = payload;
    atomic_store_explicit(last, version, memory_order_release);
    return 0;
}

static double run_throughput(const char *url, const char *prefix, long count)
{
    hollow_announcer *sub = open_one(url, prefix);
    hollow_announcer *prod = open_one(url, prefix);
    atomic_llong last;
    atomic_init(&last, 0);
    hollow_subscription_id id;
    if (hollow_announcer_subscribe(&id, sub, count_cb, &last) < 0)
        die("subscribe");
    int64_t v0;
    if (hollow_announcer_latest(&v0, prod) < 0)
        v0 = 0;
    double t0 = bench_now();
    for (long i = 1; i <= count; i++)
        if (hollow_announcer_announce(prod, v0 + i) < 0)
            die("announce");
    while (atomic_load_explicit(&last, memory_order_acquire) < v0 + count)
        sched_yield();
    double t = bench_now() - t0;
    hollow_announcer_free(prod);
    hollow_announcer_free(sub);
    return (double)count / t;
}

int bench_announcer_redis(const char *url, double scale)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "hollow-bench:%ld:", (long)getpid());
    static const int subs[] = {1, 10, 100, 1000};
    static const int counts[] = {2000, 2000, 1000, 300};
    double p50[4], p99[4];
    for (int i = 0; i < 4; i++) {
        int n = (int)(counts[i] * scale);
        run_latency(url, prefix, subs[i], n > 0 ? n : 1, &p50[i], &p99[i]);
        fprintf(stderr, "announcer --redis: %d subscribers: p50 %.1f us, "
                "p99 %.1f us\n", subs[i], p50[i], p99[i]);
    }
    long tcount = (long)(20000 * scale);
    double per_s = run_throughput(url, prefix, tcount > 0 ? tcount : 1);
    printf("{\"backend\":\"redis\",\"subscribers\":{");
    for (int i = 0; i < 4; i++)
        printf("%s\"%d\":{\"connections\":%d,\"p50_us\":%.1f,\"p99_us\":%.1f}",
               i ? "," : "", subs[i],
               subs[i] <= 10 ? subs[i]
                             : (subs[i] / 10 > MAX_CONNS ? MAX_CONNS
                                                         : subs[i] / 10),
               p50[i], p99[i]);
    printf("},\"announcements_per_s\":%.0f}\n", per_s);
    return 0;
}
