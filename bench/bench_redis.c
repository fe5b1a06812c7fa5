/*
 * hollow-bench announcer --redis HOST:PORT|redis://... [--connections C]
 *                        [--scale F] [--spin-us N]
 *
 * The Redis announcer's figures (issue 14), against a running redis-server:
 *  - delivery latency, from the moment the producer's announcer is called
 *    (hollow_announcer_announce()) to the moment each callback subscriber,
 *    on another Redis announcer object, sees the version: 1, 10, 100 and
 *    1000 subscribers spread evenly over C announcer objects (default
 *    min(subscribers, 8)), each its own pair of connections and watcher,
 *    as consumers of a fleet would be; p50 and p99 over every
 *    (announcement, subscriber) pair;
 *  - throughput: announcements per second accepted by the producer's
 *    announcer and seen by one subscriber on another object (a refused
 *    announce() is retried, not counted); `delivered` says how many of the
 *    versions the subscriber saw, since pub/sub may let it skip some.
 *
 * As in the in-process benchmark, announcements are paced: the next one
 * is made once every subscriber saw the previous one, so none waits behind
 * another; each callback reads the clock first thing, and the figure
 * includes the callbacks before it on the same object. Only the version
 * announced last is counted (a watcher that reads `latest` when it
 * connects may deliver an older one). Each run uses its own key prefix,
 * deleted at the end. Prints one JSON object on stdout.
 */
#define _POSIX_C_SOURCE 200809L
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "hollow/announcer.h"

#define BUCKET_NS 1000
#define BUCKETS 100000 /* 100 ms */
#define DELIVERY_TIMEOUT_MS 5000

typedef struct redis_target {
    const char *url; /* redis://... or NULL */
    char host[256];
    int port;
    char prefix[96];
    unsigned spin_us;
} redis_target;

/* the subscribers of one announcer object; hist written by its worker */
typedef struct conn {
    hollow_announcer *a;
    uint64_t *hist;
    uint64_t over;
} conn;

static atomic_llong t0_ns;        /* when announce() was called */
static atomic_llong expected;     /* the version being measured */
static atomic_long seen;          /* callbacks for `expected` */
static atomic_long target;        /* callbacks that complete it */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void die(const char *what)
{
    fprintf(stderr, "hollow-bench announcer --redis: %s: %s\n", what,
            hollow_error_last()->message);
    exit(1);
}

static void die_msg(const char *msg)
{
    fprintf(stderr, "hollow-bench announcer --redis: %s\n", msg);
    exit(1);
}

static int lat_cb(int64_t version, void *payload)
{
    int64_t t = now_ns();
    if (version != atomic_load_explicit(&expected, memory_order_acquire))
        return 0;
    conn *c = payload;
    int64_t d = t - atomic_load_explicit(&t0_ns, memory_order_relaxed);
    if (d < 0)
        d = 0;
    if (d / BUCKET_NS < BUCKETS)
        c->hist[d / BUCKET_NS]++;
    else
        c->over++;
    long n = atomic_fetch_add_explicit(&seen, 1, memory_order_acq_rel) + 1;
    if (n == atomic_load_explicit(&target, memory_order_relaxed)) {
        pthread_mutex_lock(&mu);
        pthread_cond_signal(&done);
        pthread_mutex_unlock(&mu);
    }
    return 0;
}

static hollow_announcer *make(const redis_target *r)
{
    hollow_announcer_redis_options o = HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT;
    o.url = r->url;
    o.host = r->url == NULL ? r->host : NULL;
    o.port = r->url == NULL ? r->port : 0;
    o.password = getenv("HOLLOW_REDIS_PASSWORD");
    o.key_prefix = r->prefix;
    o.spin_us = r->spin_us;
    hollow_announcer *a = NULL;
    if (hollow_announcer_redis_new(&a, &o) < 0)
        die("hollow_announcer_redis_new");
    return a;
}

/* announce `v` and wait until `subs` callbacks saw it; false on timeout */
static bool announce_wait(hollow_announcer *pub, int64_t v, long subs,
                          int timeout_ms)
{
    atomic_store_explicit(&seen, 0, memory_order_relaxed);
    atomic_store_explicit(&target, subs, memory_order_relaxed);
    atomic_store_explicit(&expected, v, memory_order_release);
    atomic_store_explicit(&t0_ns, now_ns(), memory_order_relaxed);
    if (hollow_announcer_announce(pub, v) < 0)
        die("announce");
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    bool ok = true;
    pthread_mutex_lock(&mu);
    while (atomic_load_explicit(&seen, memory_order_acquire) < subs) {
        if (pthread_cond_timedwait(&done, &mu, &dl) != 0) {
            ok = atomic_load_explicit(&seen, memory_order_acquire) >= subs;
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    /* later callbacks of this version must not count for the next one */
    atomic_store_explicit(&expected, -1, memory_order_release);
    return ok;
}

static double percentile(const uint64_t *hist, uint64_t over, double p)
{
    uint64_t total = over;
    for (int i = 0; i < BUCKETS; i++)
        total += hist[i];
    if (total == 0)
        return 0;
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

static void run_latency(const redis_target *r, hollow_announcer *pub,
                        int64_t *v, int subs, int nconn, int count,
                        double *p50, double *p99)
{
    conn *cs = calloc((size_t)nconn, sizeof *cs);
    if (cs == NULL)
        die_msg("out of memory");
    for (int i = 0; i < nconn; i++) {
        cs[i].hist = calloc(BUCKETS, sizeof *cs[i].hist);
        if (cs[i].hist == NULL)
            die_msg("out of memory");
        cs[i].a = make(r);
    }
    for (int s = 0; s < subs; s++) {
        hollow_subscription_id id;
        if (hollow_announcer_subscribe(&id, cs[s % nconn].a, lat_cb,
                                       &cs[s % nconn]) < 0)
            die("subscribe");
    }
    /* until every watcher is subscribed, an announcement may miss one */
    int tries = 0;
    while (!announce_wait(pub, (*v)++, subs, 200))
        if (++tries == 50)
            die_msg("the subscribers never all saw an announcement");
    int warmup = count / 10 < 50 ? 50 : count / 10;
    for (int i = 0; i < warmup + count; i++) {
        if (i == warmup) /* forget the warm-up */
            for (int k = 0; k < nconn; k++) {
                memset(cs[k].hist, 0, BUCKETS * sizeof *cs[k].hist);
                cs[k].over = 0;
            }
        if (!announce_wait(pub, *v, subs, DELIVERY_TIMEOUT_MS)) {
            fprintf(stderr, "hollow-bench announcer --redis: version %lld "
                            "reached %ld of %d subscribers in %d ms\n",
                    (long long)*v, atomic_load(&seen), subs,
                    DELIVERY_TIMEOUT_MS);
            exit(1);
        }
        (*v)++;
    }
    for (int i = 0; i < nconn; i++)
        hollow_announcer_free(cs[i].a); /* joins its threads */
    uint64_t *all = calloc(BUCKETS, sizeof *all);
    if (all == NULL)
        die_msg("out of memory");
    uint64_t over = 0;
    for (int i = 0; i < nconn; i++) {
        for (int b = 0; b < BUCKETS; b++)
            all[b] += cs[i].hist[b];
        over += cs[i].over;
        free(cs[i].hist);
    }
    *p50 = percentile(all, over, 0.50);
    *p99 = percentile(all, over, 0.99);
    free(all);
    free(cs);
}

typedef struct counter {
    atomic_llong last; /* highest version seen */
    atomic_long n;     /* versions seen */
} counter;

static int count_cb(int64_t version, void *payload)
{
    counter *c = payload;
    atomic_fetch_add_explicit(&c->n, 1, memory_order_relaxed);
    if (version > atomic_load_explicit(&c->last, memory_order_relaxed))
        atomic_store_explicit(&c->last, version, memory_order_release);
    return 0;
}

static double run_throughput(const redis_target *r, hollow_announcer *pub,
                             int64_t *v, long count, long *delivered)
{
    hollow_announcer *sub = make(r);
    counter c;
    atomic_init(&c.last, 0);
    atomic_init(&c.n, 0);
    hollow_subscription_id id;
    if (hollow_announcer_subscribe(&id, sub, count_cb, &c) < 0)
        die("subscribe");
    /* wait until the subscriber's watcher is live */
    int64_t probe = (*v)++;
    for (int i = 0; atomic_load(&c.last) < probe; i++) {
        if (i % 200 == 0) {
            probe = (*v)++;
            if (hollow_announcer_announce(pub, probe) < 0)
                die("announce");
        }
        if (i == 10000)
            die_msg("the throughput subscriber never saw an announcement");
        sleep_us(1000);
    }
    atomic_store(&c.n, 0);
    int64_t first = *v, last = *v + count - 1;
    double t0 = bench_now();
    for (int64_t x = first; x <= last;) {
        int rc = hollow_announcer_announce(pub, x);
        if (rc == 0)
            x++;
        else if (rc == HOLLOW_EBACKEND)
            sched_yield(); /* queue full: the worker is behind */
        else
            die("announce");
    }
    int64_t deadline = now_ns() + (int64_t)DELIVERY_TIMEOUT_MS * 1000000;
    while (atomic_load_explicit(&c.last, memory_order_acquire) < last) {
        if (now_ns() > deadline)
            die_msg("the last announcement never reached the subscriber");
        sleep_us(100);
    }
    double t = bench_now() - t0;
    *v = last + 1;
    *delivered = atomic_load(&c.n);
    hollow_announcer_free(sub);
    return (double)count / t;
}

/* PING through hiredis first (a clear error), and DEL the run's keys */
static void redis_cmd(const redis_target *r, const char *what)
{
    if (r->url != NULL)
        return; /* the announcer parses URLs; the run's keys stay */
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout(r->host, r->port, tv);
    if (c == NULL || c->err) {
        fprintf(stderr, "hollow-bench announcer --redis: cannot reach %s:%d: "
                        "%s\n", r->host, r->port, c ? c->errstr : "no memory");
        exit(1);
    }
    const char *pw = getenv("HOLLOW_REDIS_PASSWORD");
    if (pw != NULL && *pw != '\0') {
        redisReply *a = redisCommand(c, "AUTH %s", pw);
        freeReplyObject(a);
    }
    redisReply *rep;
    if (strcmp(what, "ping") == 0)
        rep = redisCommand(c, "PING");
    else
        rep = redisCommand(c, "DEL %slatest %spin %slease", r->prefix,
                           r->prefix, r->prefix);
    if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "hollow-bench announcer --redis: %s: %s\n", what,
                rep ? rep->str : c->errstr);
        exit(1);
    }
    freeReplyObject(rep);
    redisFree(c);
}

int bench_announcer_redis(int argc, char **argv)
{
    redis_target r;
    memset(&r, 0, sizeof r);
    r.spin_us = HOLLOW_ANNOUNCER_DEFAULT_SPIN_US;
    const char *where = NULL;
    int nconn_opt = 0;
    double scale = 1.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--redis") == 0 && i + 1 < argc)
            where = argv[++i];
        else if (strcmp(argv[i], "--connections") == 0 && i + 1 < argc)
            nconn_opt = atoi(argv[++i]);
        else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            scale = atof(argv[++i]);
        else if (strcmp(argv[i], "--spin-us") == 0 && i + 1 < argc)
            r.spin_us = (unsigned)atoi(argv[++i]);
        else
            where = NULL, i = argc;
    }
    if (where == NULL) {
        fprintf(stderr, "usage: hollow-bench announcer --redis HOST:PORT|"
                        "redis://... [--connections C] [--scale F] "
                        "[--spin-us N]\n");
        return 2;
    }
    if (strstr(where, "://") != NULL) {
        r.url = where;
    } else {
        const char *colon = strrchr(where, ':');
        size_t hl = colon != NULL ? (size_t)(colon - where) : strlen(where);
        if (hl == 0 || hl >= sizeof r.host)
            die_msg("--redis wants HOST:PORT");
        memcpy(r.host, where, hl);
        r.port = colon != NULL ? atoi(colon + 1) : 6379;
        if (r.port <= 0 || r.port > 65535)
            die_msg("--redis: bad port");
    }
    if (scale <= 0)
        scale = 1.0;
    snprintf(r.prefix, sizeof r.prefix, "hollow-bench:%ld.%ld:",
             (long)getpid(), (long)time(NULL));
    redis_cmd(&r, "ping");

    hollow_announcer *pub = make(&r);
    int64_t v = 1;
    static const int subs[] = {1, 10, 100, 1000};
    int nconn[4];
    double p50[4], p99[4];
    for (int i = 0; i < 4; i++) {
        int c = nconn_opt > 0 ? nconn_opt : 8;
        nconn[i] = c < subs[i] ? c : subs[i];
        int n = (int)(1000 * scale);
        run_latency(&r, pub, &v, subs[i], nconn[i], n > 0 ? n : 1, &p50[i],
                    &p99[i]);
        fprintf(stderr, "announcer --redis: %d subscribers on %d connections: "
                        "p50 %.1f us, p99 %.1f us\n",
                subs[i], nconn[i], p50[i], p99[i]);
    }
    long tcount = (long)(20000 * scale), delivered = 0;
    if (tcount < 1)
        tcount = 1;
    double per_s = run_throughput(&r, pub, &v, tcount, &delivered);
    fprintf(stderr, "announcer --redis: %.0f announcements/s, %ld of %ld "
                    "delivered\n", per_s, delivered, tcount);
    hollow_announcer_free(pub);
    redis_cmd(&r, "del");

    printf("{\"backend\":\"redis\",\"subscribers\":{");
    for (int i = 0; i < 4; i++)
        printf("%s\"%d\":{\"connections\":%d,\"p50_us\":%.1f,\"p99_us\":%.1f}",
               i ? "," : "", subs[i], nconn[i], p50[i], p99[i]);
    printf("},\"announcements\":%ld,\"announcements_per_s\":%.0f,"
           "\"delivered\":%ld}\n", tcount, per_s, delivered);
    return 0;
}
