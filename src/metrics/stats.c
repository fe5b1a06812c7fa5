/*
 * Counters of consumers and producers (hollow/metrics.h): the fixed
 * duration buckets, the histogram, and the two stats calls.
 *
 * Every counter is its own relaxed atomic: a refresh or a cycle bumps a
 * handful of them, a reader copies them one by one. A reader may thus see
 * a refresh in part (its kind counted, its duration not yet); it never
 * sees a torn value, and never waits. A histogram's count is computed from
 * the buckets it read rather than kept apart, so that Prometheus' rule
 * (the +Inf bucket equals _count) holds in every snapshot.
 */
#include "metrics/stats.h"

#include <string.h>
#include <time.h>

#include "common/error.h"

static const uint64_t bounds_us[HOLLOW_DURATION_BUCKETS - 1] = {
    1000,   2500,    5000,    10000,   25000,    50000,    100000,   250000,
    500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000, 120000000};

uint64_t hollow_duration_bucket_bound_us(size_t i)
{
    return i < HOLLOW_DURATION_BUCKETS - 1 ? bounds_us[i] : UINT64_MAX;
}

uint64_t hollow__stats_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void hollow__histogram_observe(hollow__histogram *h, uint64_t us)
{
    size_t i = 0;
    while (i < HOLLOW_DURATION_BUCKETS - 1 && us > bounds_us[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

void hollow__histogram_read(hollow_duration_histogram *out,
                            const hollow__histogram *h)
{
    out->count = 0;
    for (size_t i = 0; i < HOLLOW_DURATION_BUCKETS; i++) {
        out->bucket[i] =
            atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        out->count += out->bucket[i];
    }
    out->sum_us = atomic_load_explicit(&h->sum_us, memory_order_relaxed);
}

/* ------------------------------------------------------------ consumer */

const char *hollow_refresh_kind_name(hollow_refresh_kind kind)
{
    switch (kind) {
    case HOLLOW_REFRESH_SNAPSHOT:
        return "snapshot";
    case HOLLOW_REFRESH_DELTA:
        return "delta";
    case HOLLOW_REFRESH_REVERSE_DELTA:
        return "reverse_delta";
    case HOLLOW_REFRESH_MIXED_CHAIN:
        return "mixed_chain";
    case HOLLOW_REFRESH_DOUBLE_SNAPSHOT:
        return "double_snapshot";
    }
    return "unknown";
}

hollow_refresh_kind hollow__refresh_kind_of(const hollow_blob_key *steps,
                                            size_t n, bool had_state)
{
    if (n > 0 && steps[0].kind == HOLLOW_BLOB_SNAPSHOT)
        return had_state ? HOLLOW_REFRESH_DOUBLE_SNAPSHOT
                         : HOLLOW_REFRESH_SNAPSHOT;
    bool fwd = false, back = false;
    for (size_t i = 0; i < n; i++) {
        fwd |= steps[i].kind == HOLLOW_BLOB_DELTA;
        back |= steps[i].kind == HOLLOW_BLOB_REVERSE_DELTA;
    }
    if (fwd && back)
        return HOLLOW_REFRESH_MIXED_CHAIN;
    return back ? HOLLOW_REFRESH_REVERSE_DELTA : HOLLOW_REFRESH_DELTA;
}

void hollow__consumer_counters_record(hollow__consumer_counters *k, int rc,
                                      const hollow__refresh_outcome *o)
{
    if ((rc == 0 && o->kind < 0) || o->kind == HOLLOW__REFRESH_NOTHING_YET)
        return; /* already published, or nothing to follow yet */
    if (o->start_us != 0)
        hollow__histogram_observe(&k->duration,
                                  hollow__stats_now_us() - o->start_us);
    if (rc < 0) {
        atomic_fetch_add_explicit(&k->failures, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&k->refreshes[o->kind], 1, memory_order_relaxed);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    atomic_store_explicit(&k->last_refresh_ms,
                          (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
                          memory_order_relaxed);
}

int hollow_consumer_stats_get(hollow_consumer_stats *out, hollow_consumer *c)
{
    if (out == NULL || c == NULL)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "consumer stats: null argument");
    if (out->version != HOLLOW_CONSUMER_STATS_VERSION)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "consumer stats: version %u is "
                                 "not %d",
                                 out->version, HOLLOW_CONSUMER_STATS_VERSION);
    const hollow__consumer_counters *k = hollow__consumer_counters_of(c);
    memset(out, 0, sizeof *out);
    out->version = HOLLOW_CONSUMER_STATS_VERSION;
    for (size_t i = 0; i < HOLLOW_REFRESH_KINDS; i++)
        out->refreshes[i] =
            atomic_load_explicit(&k->refreshes[i], memory_order_relaxed);
    out->refresh_failures =
        atomic_load_explicit(&k->failures, memory_order_relaxed);
    hollow__histogram_read(&out->refresh_duration, &k->duration);
    out->last_refresh_ms =
        atomic_load_explicit(&k->last_refresh_ms, memory_order_relaxed);
    hollow_read_state *rs = hollow_consumer_acquire_state(c);
    if (rs != NULL) {
        out->current_version = hollow_read_state_version(rs);
        out->state_bytes = hollow_read_state_memory(rs);
        out->types = hollow_read_state_type_count(rs);
        for (size_t i = 0; i < out->types; i++)
            out->records +=
                hollow_type_record_count(hollow_read_state_type_at(rs, i));
        hollow_read_state_release(rs);
    }
    return 0;
}

/* ------------------------------------------------------------ producer */

int hollow_producer_stats_get(hollow_producer_stats *out, hollow_producer *p)
{
    if (out == NULL || p == NULL)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "producer stats: null argument");
    if (out->version != HOLLOW_PRODUCER_STATS_VERSION)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "producer stats: version %u is "
                                 "not %d",
                                 out->version, HOLLOW_PRODUCER_STATS_VERSION);
    const hollow__producer_counters *k = hollow__producer_counters_of(p);
    memset(out, 0, sizeof *out);
    out->version = HOLLOW_PRODUCER_STATS_VERSION;
#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)
    out->current_version = LOAD(k->version);
    out->cycles = LOAD(k->cycles);
    out->cycles_published = LOAD(k->published);
    out->cycle_failures = LOAD(k->failures);
    out->validation_failures = LOAD(k->validation_failures);
    out->integrity_failures = LOAD(k->integrity_failures);
    for (size_t i = 0; i < 4; i++) {
        out->blobs[i] = LOAD(k->blobs[i]);
        out->blob_bytes[i] = LOAD(k->blob_bytes[i]);
    }
#undef LOAD
    hollow__histogram_read(&out->cycle_duration, &k->duration);
    out->primary = hollow_producer_is_primary(p);
    return 0;
}
