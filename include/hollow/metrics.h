/*
 * hollow/metrics.h - counters of consumers and producers, and Prometheus
 * metrics for a service.
 *
 * Consumers and producers count what they do as they do it (atomic
 * counters, a few per refresh or cycle, never per record):
 * hollow_consumer_stats_get() and hollow_producer_stats_get() copy them
 * out. The announcer and the blob store keep their own counters
 * (hollow_announcer_stats_get(), hollow_blobstore_stats_get()).
 *
 * hollow_metrics_write() renders all of these in the Prometheus text
 * exposition format (version 0.0.4), for any service that has its own HTTP
 * server: serve its output at /metrics with the content type
 * HOLLOW_METRICS_CONTENT_TYPE. docs/metrics.md lists every metric.
 *
 * Threads: every call here may run on any thread at any time, also while
 * the consumer refreshes or the producer runs a cycle; none of them blocks
 * a refresh or a cycle, and none is blocked by one.
 */
#ifndef HOLLOW_METRICS_H
#define HOLLOW_METRICS_H

#include "announcer.h"
#include "blobstore.h"
#include "common.h"
#include "consumer.h"
#include "producer.h"
#include "write.h" /* hollow_sink_fn */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ histograms */

/** Buckets of a duration histogram: the bounds below, then one for every
 * duration above the last bound (Prometheus' le="+Inf"). */
#define HOLLOW_DURATION_BUCKETS 17

/**
 * Upper bound of duration bucket `i`, in microseconds, inclusive: 1 ms,
 * 2.5 ms, 5 ms, 10 ms, 25 ms, 50 ms, 100 ms, 250 ms, 500 ms, 1 s, 2.5 s,
 * 5 s, 10 s, 30 s, 60 s, 120 s; UINT64_MAX for the last bucket (and for an
 * `i` out of range). The bounds are fixed: histograms of every version
 * and process can be summed.
 */
HOLLOW_API uint64_t hollow_duration_bucket_bound_us(size_t i);

/** A histogram of durations (refreshes, cycles). */
typedef struct hollow_duration_histogram {
    /** Observations per bucket, not cumulative: bucket[i] counts the
     * durations d with bound(i-1) < d <= bound(i). */
    uint64_t bucket[HOLLOW_DURATION_BUCKETS];
    uint64_t count;  /**< observations: the sum of `bucket` */
    uint64_t sum_us; /**< their total, in microseconds */
} hollow_duration_histogram;

/* -------------------------------------------------------------- consumer */

/** How a refresh reached its version (the plan it completed). */
typedef enum hollow_refresh_kind {
    /** a first load: a snapshot (and the deltas after it) */
    HOLLOW_REFRESH_SNAPSHOT = 0,
    /** forward deltas from the current state */
    HOLLOW_REFRESH_DELTA = 1,
    /** reverse deltas from the current state (moving back) */
    HOLLOW_REFRESH_REVERSE_DELTA = 2,
    /** a chain from the current state with deltas of both directions */
    HOLLOW_REFRESH_MIXED_CHAIN = 3,
    /** a state replaced by a new snapshot (and deltas), as Java's "double
     * snapshot": no chain was short enough, or the chain failed */
    HOLLOW_REFRESH_DOUBLE_SNAPSHOT = 4
} hollow_refresh_kind;

/** The number of hollow_refresh_kind values. */
#define HOLLOW_REFRESH_KINDS 5

/** "snapshot", "delta", "reverse_delta", "mixed_chain", "double_snapshot";
 * "unknown" outside the enum. Static, never NULL. */
HOLLOW_API const char *hollow_refresh_kind_name(hollow_refresh_kind kind);

/**
 * Counters of a consumer (hollow_consumer_stats_get()). A refresh that
 * finds its version already published counts nowhere, nor does one to the
 * latest version while nothing is announced yet (without an announcer:
 * while the store is empty), as the watcher's first one often is.
 */
typedef struct hollow_consumer_stats {
    unsigned int version;      /**< HOLLOW_CONSUMER_STATS_VERSION (in) */
    int64_t current_version;   /**< the published version, 0 if none */
    /** Refreshes that published a new state, by the kind of their plan
     * (index: hollow_refresh_kind). */
    uint64_t refreshes[HOLLOW_REFRESH_KINDS];
    /** Refreshes that failed (the current state stayed published),
     * including a watcher's. */
    uint64_t refresh_failures;
    /** Durations of the refreshes above, successful and failed. */
    hollow_duration_histogram refresh_duration;
    /** When the last successful refresh ended, in ms since the epoch;
     * 0 if none. */
    int64_t last_refresh_ms;
    /** Heap and mapped bytes of the published state
     * (hollow_read_state_memory()); 0 if none. */
    uint64_t state_bytes;
    size_t types;              /**< types in the published state */
    uint64_t records;          /**< their records, all types together */
} hollow_consumer_stats;

#define HOLLOW_CONSUMER_STATS_VERSION 1
#define HOLLOW_CONSUMER_STATS_INIT                                             \
    {HOLLOW_CONSUMER_STATS_VERSION, 0, {0}, 0, {{0}, 0, 0}, 0, 0, 0, 0}

/**
 * Copy the consumer's counters into `out` (whose `version` the caller set,
 * by HOLLOW_CONSUMER_STATS_INIT), and describe its published state. Each
 * counter is read atomically; counters of a refresh ending meanwhile may
 * be seen in part (the histogram's `count` always equals the sum of its
 * buckets). Per-type figures: pin the state with
 * hollow_consumer_acquire_state() and read hollow_type_record_count() and
 * hollow_type_memory().
 * @return 0; HOLLOW_EINVAL for a NULL argument or a `version` this library
 *         does not know.
 * Threads: any thread, never blocked by a refresh.
 */
HOLLOW_API int hollow_consumer_stats_get(hollow_consumer_stats *out,
                                         hollow_consumer *c);

/* -------------------------------------------------------------- producer */

/** Counters of a producer (hollow_producer_stats_get()). */
typedef struct hollow_producer_stats {
    unsigned int version;     /**< HOLLOW_PRODUCER_STATS_VERSION (in) */
    int64_t current_version;  /**< last announced (or restored), 0 if none */
    /** Cycles run: every hollow_producer_run_cycle() call on a producer. */
    uint64_t cycles;
    uint64_t cycles_published; /**< of those, cycles that announced a version */
    uint64_t cycle_failures;   /**< of those, cycles that returned an error */
    /** Failed cycles whose validator refused the new state. */
    uint64_t validation_failures;
    /** Failed cycles whose integrity check failed (the blobs did not read
     * back as the write state). */
    uint64_t integrity_failures;
    /** Durations of every cycle counted in `cycles`. */
    hollow_duration_histogram cycle_duration;
    /** Blobs published by successful cycles, and their bytes, by kind
     * (index: hollow_blob_kind). Blobs of failed cycles are deleted and
     * not counted. */
    uint64_t blobs[4];
    uint64_t blob_bytes[4];
    bool primary;             /**< hollow_producer_is_primary() */
} hollow_producer_stats;

#define HOLLOW_PRODUCER_STATS_VERSION 1
#define HOLLOW_PRODUCER_STATS_INIT                                             \
    {HOLLOW_PRODUCER_STATS_VERSION, 0, 0, 0, 0, 0, 0, {{0}, 0, 0}, {0}, {0},  \
     false}

/**
 * Copy the producer's counters into `out` (whose `version` the caller set,
 * by HOLLOW_PRODUCER_STATS_INIT). As for the consumer, a cycle ending
 * meanwhile may be seen in part.
 * @return 0; HOLLOW_EINVAL for a NULL argument or a `version` this library
 *         does not know.
 * Threads: any thread, also during a cycle.
 */
HOLLOW_API int hollow_producer_stats_get(hollow_producer_stats *out,
                                         hollow_producer *p);

/* ------------------------------------------------------------ Prometheus */

/** The Content-Type of hollow_metrics_write()'s output. */
#define HOLLOW_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/**
 * What hollow_metrics_write() renders: whatever the service has. A NULL
 * member is left out; everything is borrowed for the call.
 */
typedef struct hollow_metrics_sources {
    unsigned int version;        /**< HOLLOW_METRICS_SOURCES_VERSION */
    hollow_consumer *consumer;   /**< hollow_consumer_* metrics */
    hollow_producer *producer;   /**< hollow_producer_* metrics */
    hollow_announcer *announcer; /**< hollow_announcer_*; left out if the
                                      announcer keeps no counters */
    hollow_blobstore *blobstore; /**< hollow_blobstore_*; left out if the
                                      store keeps no counters */
} hollow_metrics_sources;

#define HOLLOW_METRICS_SOURCES_VERSION 1
#define HOLLOW_METRICS_SOURCES_INIT                                            \
    {HOLLOW_METRICS_SOURCES_VERSION, NULL, NULL, NULL, NULL}

/**
 * Render the metrics of `sources` in the Prometheus text exposition format
 * (0.0.4): for each metric a "# HELP" and a "# TYPE" line, then its
 * samples; counters end in "_total", durations are histograms in seconds
 * ("_bucket{le=...}", "_sum", "_count"), label values are escaped. The
 * consumer's per-type gauges carry a `type` label. docs/metrics.md lists
 * the names.
 *
 * The whole text is built first and then given to `sink` in one or more
 * calls, so a failure while gathering writes nothing.
 *
 * @param sink     receives the bytes (not NUL-terminated)
 * @param payload  passed to `sink` unchanged
 * @param sources  what to render (NULL members left out)
 * @return 0; HOLLOW_EINVAL for a NULL `sink` or `sources`, or sources of
 *         a version this library does not know; HOLLOW_ENOMEM; the sink's
 *         non-zero return (nothing more is written).
 * Threads: any thread; never blocks a refresh or a cycle.
 */
HOLLOW_API int hollow_metrics_write(hollow_sink_fn sink, void *payload,
                                    const hollow_metrics_sources *sources);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_METRICS_H */
