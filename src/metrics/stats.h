/*
 * The counters behind hollow_consumer_stats_get() and
 * hollow_producer_stats_get(): atomics the consumer and the producer bump a
 * few times per refresh or cycle (relaxed: they order nothing), read by
 * any thread at any time.
 */
#ifndef HOLLOW_SRC_METRICS_STATS_H
#define HOLLOW_SRC_METRICS_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "hollow/metrics.h"

typedef struct hollow__histogram {
    atomic_uint_fast64_t bucket[HOLLOW_DURATION_BUCKETS];
    atomic_uint_fast64_t sum_us;
} hollow__histogram;

/* microseconds on CLOCK_MONOTONIC (not the tests' skewed clock: a
 * duration must not jump) */
uint64_t hollow__stats_now_us(void);
void hollow__histogram_observe(hollow__histogram *h, uint64_t us);
/* count is the sum of the buckets read, so the two always agree */
void hollow__histogram_read(hollow_duration_histogram *out,
                            const hollow__histogram *h);

typedef struct hollow__consumer_counters {
    atomic_uint_fast64_t refreshes[HOLLOW_REFRESH_KINDS];
    atomic_uint_fast64_t failures;
    atomic_int_fast64_t last_refresh_ms;
    hollow__histogram duration;
} hollow__consumer_counters;

/* what one refresh did, filled by the refresh for its wrapper */
typedef struct hollow__refresh_outcome {
    int kind;          /* a hollow_refresh_kind once published, else -1,
                           or HOLLOW__REFRESH_NOTHING_YET */
    uint64_t start_us; /* when it held the refresh lock; 0 before */
} hollow__refresh_outcome;

/* a refresh to the latest version before anything was announced (or, without
 * an announcer, with an empty store): waiting, not failing */
#define HOLLOW__REFRESH_NOTHING_YET (-2)

/* the kind of a completed plan of `n` steps, from a state or from nothing */
hollow_refresh_kind hollow__refresh_kind_of(const hollow_blob_key *steps,
                                            size_t n, bool had_state);
void hollow__consumer_counters_record(hollow__consumer_counters *k, int rc,
                                      const hollow__refresh_outcome *o);
/* consumer.c: the counters of `c` */
hollow__consumer_counters *hollow__consumer_counters_of(hollow_consumer *c);

typedef struct hollow__producer_counters {
    atomic_uint_fast64_t cycles, published, failures;
    atomic_uint_fast64_t validation_failures, integrity_failures;
    atomic_uint_fast64_t blobs[4], blob_bytes[4]; /* by hollow_blob_kind */
    atomic_int_fast64_t version; /* p->version, readable during a cycle */
    hollow__histogram duration;
} hollow__producer_counters;

/* producer.c: the counters of `p` */
hollow__producer_counters *hollow__producer_counters_of(hollow_producer *p);

/* metrics.c: `s` as a Prometheus label value (backslash, double quote and
 * newline escaped) */
void hollow__metrics_label_value(hollow__buf *b, const char *s);

#endif
